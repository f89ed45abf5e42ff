// A record's comments: the conversation (author, time, text with its mentions highlighted) and a
// box that completes "@" with the app's people and sends with Ctrl+Enter or the button. Mentions
// go to the server as the ids of the people picked that the text still names (./model).
import { PaperClipOutlined, SendOutlined } from "@ant-design/icons";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Avatar, Button, Card, Checkbox, Empty, Mentions, Space, Tag, Typography } from "antd";
import { useState, type KeyboardEvent } from "react";
import { problemText } from "../api";
import { client, data, type Schemas } from "../client";
import { usePeople } from "../values/queries";
import { useLang } from "../i18n";
import { MAX_BODY, mentionedIds, segments, sendable, withPerson, type Person } from "./model";

type Comment = Schemas["Comment"];
const PATH = "/api/v1/apps/{app}/records/{form}/{record_id}/comments";
const PAGE = 100;

/** A comment's text, each mention of a person drawn as their name (the user name on hover). */
function Said(props: { comment: Comment }) {
  return (
    <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 0 }}>
      {segments(props.comment.body, props.comment.mentions).map((s, i) =>
        s.kind === "mention" ? (
          <Typography.Text key={i} strong style={{ color: "#0958d9" }} title={s.text} data-testid="comment-mention">
            @{s.person.display_name}
          </Typography.Text>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </Typography.Paragraph>
  );
}

/** A comment's files (a customer's reply carries them), each a link to download it. */
function Files(props: { app: string; comment: Comment }) {
  const files = (props.comment.attachments ?? []) as { id?: string; name?: string }[];
  if (!files.length) return null;
  return (
    <Space size={12} wrap>
      {files.map((f) => (
        <a key={f.id} href={`/api/v1/apps/${props.app}/attachments/${f.id}`} target="_blank" rel="noreferrer" data-testid="comment-file">
          <PaperClipOutlined aria-hidden /> {f.name ?? f.id}
        </a>
      ))}
    </Space>
  );
}

/** The comments card; ``publicSide``: the record's form has a public status page, so a comment may
 * be a public reply the customer reads there. */
export function CommentsCard(props: { app: string; form: string; recordId: number; publicSide?: boolean }) {
  const { app, form, recordId } = props;
  const { t, lang } = useLang();
  const queries = useQueryClient();
  const path = { app, form, record_id: recordId };
  const key = ["comments", app, form, recordId];
  const list = useInfiniteQuery({
    queryKey: key,
    queryFn: async ({ pageParam }) =>
      data(await client.GET(PATH, { params: { path, query: { after: pageParam, limit: PAGE } } })),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_after ?? undefined,
  });
  const [text, setText] = useState("");
  const [picked, setPicked] = useState<Person[]>([]);
  const [open, setOpen] = useState(false);
  // the people search runs once "@" is typed, not for every record opened
  const [search, setSearch] = useState<string | null>(null);
  const people = usePeople(search === null ? "" : app, search ?? "", []);
  const send = useMutation({
    mutationFn: async () =>
      data(
        await client.POST(PATH, {
          params: { path, query: { lang } },
          body: { body: text, mentions: mentionedIds(text, picked), ...(props.publicSide && open ? { public: true } : {}) },
        }),
      ),
    onSuccess: () => {
      setText("");
      setPicked([]);
      setOpen(false);
      void queries.invalidateQueries({ queryKey: key });
      void queries.invalidateQueries({ queryKey: ["timeline", app, form, String(recordId)] });
    },
  });
  const state = sendable(text);
  const submit = () => {
    if (state === "ok" && !send.isPending) send.mutate();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  };
  const comments = list.data?.pages.flatMap((p) => p.items) ?? [];
  const found = people.data?.users ?? [];
  return (
    <Card title={`${t("comments.title")}${comments.length ? ` (${comments.length})` : ""}`} style={{ marginTop: 16 }} loading={list.isLoading} data-print="hide">
      {list.isError && <Alert type="error" showIcon title={problemText(list.error)} style={{ marginBottom: 12 }} />}
      {comments.length === 0 && !list.isError ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("comments.empty")} />
      ) : (
        <ol data-testid="comments" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {comments.map((c) => (
            <li key={c.id} data-testid="comment" style={{ display: "flex", gap: 12, padding: "8px 0", borderBottom: "1px solid #f0f0f0" }}>
              <Avatar style={{ background: c.from_customer ? "#d46b08" : "#1677ff", flex: "none" }} aria-hidden>
                {(c.from_customer ? t("comments.customer") : (c.author?.display_name ?? "?")).slice(0, 1)}
              </Avatar>
              <div style={{ minWidth: 0, flex: 1, overflowWrap: "anywhere" }}>
                <Space size={8} wrap>
                  <Typography.Text strong>{c.from_customer ? t("comments.customer") : (c.author?.display_name ?? t("comments.no_author"))}</Typography.Text>
                  {c.from_customer ? (
                    <Tag color="orange" data-testid="comment-tag-customer">{t("comments.tag.customer")}</Tag>
                  ) : c.public ? (
                    <Tag color="blue" data-testid="comment-tag-public">{t("comments.tag.public")}</Tag>
                  ) : null}
                  <Typography.Text type="secondary">
                    <time dateTime={c.created_at}>{new Date(c.created_at).toLocaleString(lang)}</time>
                  </Typography.Text>
                </Space>
                <Said comment={c} />
                <Files app={app} comment={c} />
              </div>
            </li>
          ))}
        </ol>
      )}
      {list.hasNextPage && (
        <Button type="link" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
          {t("comments.more")}
        </Button>
      )}
      <div style={{ marginTop: 12 }}>
        <Mentions
          value={text}
          onChange={(next) => {
            setText(next);
            send.reset();
          }}
          onSearch={(q) => setSearch(q)}
          onSelect={(option) => {
            const person = found.find((u) => u.username === option.value);
            if (person) setPicked((current) => withPerson(current, person));
          }}
          onKeyDown={onKeyDown}
          options={found.map((u) => ({ key: String(u.id), value: u.username, label: `${u.display_name} (${u.username})` }))}
          filterOption={false}
          loading={people.isFetching}
          autoSize={{ minRows: 2, maxRows: 8 }}
          placeholder={t("comments.placeholder")}
          aria-label={t("comments.box")}
          data-testid="comment-box"
          status={state === "too_long" ? "error" : undefined}
        />
        {send.isError && (
          <Alert type="error" showIcon title={send.error.message} style={{ marginTop: 8 }} data-testid="comment-error" />
        )}
        {props.publicSide && (
          <div style={{ marginTop: 8 }}>
            <Checkbox checked={open} onChange={(event) => setOpen(event.target.checked)} data-testid="comment-public">
              {t("comments.public")}
            </Checkbox>
            <Typography.Text type="secondary" style={{ display: "block", fontSize: 12 }}>
              {t("comments.public_hint")}
            </Typography.Text>
          </div>
        )}
        <Space style={{ marginTop: 8, width: "100%", justifyContent: "space-between" }} wrap>
          <Typography.Text type={state === "too_long" ? "danger" : "secondary"}>
            {state === "too_long" ? t("comments.too_long", { limit: MAX_BODY, length: text.trim().length }) : t("comments.hint")}
          </Typography.Text>
          <Button type="primary" icon={<SendOutlined />} onClick={submit} disabled={state !== "ok"} loading={send.isPending} data-testid="comment-send">
            {t("comments.send")}
          </Button>
        </Space>
      </div>
    </Card>
  );
}
