// A record's public status page (/status/:token, the private link an intake submission gave): its
// number and state, the fields its form marks public, the public timeline, and a box where the
// customer replies with files (uploaded through the link, with their progress).
import { PaperClipOutlined, SendOutlined, UploadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Descriptions, Input, Space, Spin, Tag, Timeline, Typography, Upload, type UploadFile } from "antd";
import { useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, upload } from "../../api";
import { client, data, type Schemas } from "../../client";
import { useLang } from "../../i18n";
import { usePageTitle } from "../../title";
import { entryLook, replyState } from "./model";
import { PublicFailure, PublicFrame } from "./PublicFrame";

type Status = Schemas["Status"];
type FileRef = Schemas["FileRef"];

function FileLinks(props: { token: string; files: FileRef[] | undefined }) {
  if (!props.files?.length) return null;
  return (
    <Space size={12} wrap>
      {props.files.map((f) => (
        <a key={f.id} href={`/api/v1/status/${props.token}/attachments/${f.id}`} target="_blank" rel="noreferrer" data-testid="status-file">
          <PaperClipOutlined aria-hidden /> {f.name}
        </a>
      ))}
    </Space>
  );
}

function Header(props: { status: Status }) {
  const { t, lang } = useLang();
  const { status } = props;
  return (
    <div style={{ marginBottom: 16 }}>
      <Typography.Text type="secondary">{status.form}</Typography.Text>
      <h1 style={{ fontSize: 22, margin: "4px 0 8px" }} data-testid="status-number">
        {status.number}
        {status.title ? ` · ${status.title}` : ""}
      </h1>
      <Space wrap size={8}>
        {status.state && (
          <Tag color={status.state.status === "running" ? "blue" : "green"} data-testid="status-state">
            {t("status.state")}：{status.state.label}
          </Tag>
        )}
        {status.state?.steps.length ? (
          <Typography.Text data-testid="status-steps">
            {t("status.now")}：{status.state.steps.join("、")}
          </Typography.Text>
        ) : null}
        <Typography.Text type="secondary">
          {t("status.registered")}：{new Date(status.created_at).toLocaleString(lang)}
        </Typography.Text>
      </Space>
    </div>
  );
}

/** The reply box: text and files (each uploaded at once through the link, with its progress). */
function ReplyBox(props: { token: string; max: number; onSent: () => void }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const [text, setText] = useState("");
  const [files, setFiles] = useState<UploadFile[]>([]);
  const uploaded = useRef(new Map<string, string>()); // the upload's uid → the server's file id
  const track = (uid: string, change: Partial<UploadFile>) => setFiles((all) => all.map((f) => (f.uid === uid ? { ...f, ...change } : f)));
  const send = useMutation({
    mutationFn: async () =>
      data(
        await client.POST("/api/v1/status/{token}/replies", {
          params: { path: { token: props.token }, query: { lang } },
          body: { body: text, attachments: files.filter((f) => f.status === "done").map((f) => uploaded.current.get(f.uid) ?? "").filter(Boolean) },
        }),
      ),
    onSuccess: () => {
      setText("");
      setFiles([]);
      uploaded.current.clear();
      message.success(t("status.reply.sent"));
      props.onSent();
    },
  });
  const state = replyState(text, props.max);
  const busy = files.some((f) => f.status === "uploading");
  return (
    <section aria-labelledby="status-reply-title" style={{ marginTop: 24 }}>
      <h2 id="status-reply-title" style={{ fontSize: 16 }}>
        {t("status.reply")}
      </h2>
      <Input.TextArea
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          send.reset();
        }}
        autoSize={{ minRows: 3, maxRows: 10 }}
        placeholder={t("status.reply.placeholder")}
        aria-label={t("status.reply")}
        status={state === "too_long" ? "error" : undefined}
        data-testid="status-reply-box"
      />
      <Typography.Text type={state === "too_long" ? "danger" : "secondary"} style={{ display: "block", fontSize: 12, marginTop: 4 }}>
        {state === "too_long" ? t("status.reply.too_long", { limit: props.max, length: text.trim().length }) : t("status.reply.hint", { limit: props.max })}
      </Typography.Text>
      <Upload
        listType="picture"
        fileList={files}
        onRemove={(file) => {
          uploaded.current.delete(file.uid);
          setFiles((all) => all.filter((f) => f.uid !== file.uid));
        }}
        customRequest={async ({ file }) => {
          const blob = file as File & { uid: string };
          setFiles((all) => [...all, { uid: blob.uid, name: blob.name, status: "uploading", percent: 0 }]);
          const body = new FormData();
          body.append("file", blob);
          try {
            const saved = await upload<{ id: string }>(`/status/${props.token}/attachments`, body, (percent) => track(blob.uid, { percent }));
            uploaded.current.set(blob.uid, saved.id);
            track(blob.uid, { status: "done", percent: 100 });
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            track(blob.uid, { status: "error", response: reason });
            message.error(`${blob.name}: ${reason}`);
          }
        }}
      >
        <Button icon={<UploadOutlined />} style={{ marginTop: 8 }} data-testid="status-attach">
          {t("status.reply.attach")}
        </Button>
      </Upload>
      {send.isError && (
        <Alert
          type={send.error instanceof ApiError && send.error.status === 429 ? "warning" : "error"}
          showIcon
          title={send.error.message}
          style={{ marginTop: 8 }}
          role="alert"
          data-testid="status-reply-error"
        />
      )}
      <Button
        type="primary"
        block
        icon={<SendOutlined />}
        style={{ marginTop: 12 }}
        disabled={state !== "ok" || busy}
        loading={send.isPending}
        onClick={() => send.mutate()}
        data-testid="status-reply-send"
      >
        {t("status.reply.send")}
      </Button>
    </section>
  );
}

/** How often an open status page asks for news. */
const STATUS_POLL_MS = 30_000;

export function StatusPage() {
  const { token = "" } = useParams();
  const { t, lang } = useLang();
  const queries = useQueryClient();
  const key = ["public-status", token, lang];
  const found = useQuery({
    queryKey: key,
    queryFn: async () => data(await client.GET("/api/v1/status/{token}", { params: { path: { token }, query: { lang } } })),
    retry: false,
    // the page follows the ticket by itself while it is shown (not in a background tab), and
    // again when the customer comes back to it; a link that stopped opening stops asking
    refetchInterval: (query) => (query.state.status === "error" ? false : STATUS_POLL_MS),
    refetchOnWindowFocus: true,
  });
  usePageTitle(found.data ? `${found.data.form} ${found.data.number}` : undefined);
  if (found.isError)
    return (
      <PublicFrame testId="status-page">
        <PublicFailure error={found.error} />
      </PublicFrame>
    );
  if (!found.data)
    return (
      <PublicFrame testId="status-page">
        <Spin />
      </PublicFrame>
    );
  const status = found.data;
  return (
    <PublicFrame testId="status-page">
      <Header status={status} />
      {status.survey && (
        <Alert
          type="info"
          showIcon
          style={{ margin: "16px 0" }}
          data-testid="status-survey"
          title={<h2 style={{ fontSize: 16, margin: 0 }}>{t("status.survey")}</h2>}
          description={t("status.survey.detail", { title: status.survey.title })}
          action={
            <Link to={`/status/${token}/survey`} data-testid="status-survey-open">
              <Button type="primary">{t("status.survey.open")}</Button>
            </Link>
          }
        />
      )}
      {status.fields.length > 0 && (
        <section aria-labelledby="status-details-title">
          <h2 id="status-details-title" style={{ fontSize: 16 }}>
            {t("status.details")}
          </h2>
          <Descriptions
            column={1}
            size="small"
            bordered
            data-testid="status-fields"
            items={status.fields.map((f) => ({
              key: f.key,
              label: f.label,
              children: f.files?.length ? <FileLinks token={token} files={f.files} /> : (f.value ?? t("status.empty")),
            }))}
          />
        </section>
      )}
      <section aria-labelledby="status-timeline-title" style={{ marginTop: 24 }}>
        <h2 id="status-timeline-title" style={{ fontSize: 16 }}>
          {t("status.timeline")}
        </h2>
        <Timeline
          data-testid="status-timeline"
          items={status.timeline.map((e, index) => {
            const look = entryLook(e.kind);
            return {
              key: index,
              color: look.color,
              children: (
                <div data-testid={`status-entry-${e.kind}`}>
                  <Space size={8} wrap>
                    <Typography.Text strong>{t(`status.kind.${e.kind}`)}</Typography.Text>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      <time dateTime={e.at}>{new Date(e.at).toLocaleString(lang)}</time>
                    </Typography.Text>
                  </Space>
                  <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 4 }}>{e.text}</Typography.Paragraph>
                  <FileLinks token={token} files={e.attachments} />
                </div>
              ),
            };
          })}
        />
      </section>
      <ReplyBox token={token} max={status.max_reply} onSent={() => void queries.invalidateQueries({ queryKey: ["public-status", token] })} />
      <Typography.Text type="secondary" style={{ display: "block", marginTop: 16, fontSize: 12 }}>
        {t("status.private")}
      </Typography.Text>
    </PublicFrame>
  );
}
