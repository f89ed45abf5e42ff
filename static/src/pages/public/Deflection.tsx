// Deflection on an intake page: while the visitor types, the help center's articles matching
// their words are offered above the submit button (as Zendesk's and Freshdesk's request forms
// do). An article opens in place; "this solved my problem" is counted and ends the visit without a
// ticket, "not solved" is counted too and the article leaves the list.
import { useMutation, useQuery } from "@tanstack/react-query";
import { Button, Card, List, Result, Skeleton, Space, Typography } from "antd";
import { useState } from "react";
import { client, data, type Schemas } from "../../client";
import { useDebounced } from "../../debounce";
import { useLang } from "../../i18n";
import { suggestText } from "./help";
import { ArticleBody, Marked, sendFeedback, useArticle } from "./HelpCenter";

type Target = Schemas["SuggestTarget"];
type ArticleItem = Schemas["ArticleItem"];

function Opened(props: { target: Target; item: ArticleItem; onAnswer: (solved: boolean) => void; answering: boolean }) {
  const { t, lang } = useLang();
  const { app, form } = props.target;
  const article = useArticle(app, form, props.item.id, lang);
  return (
    <div style={{ background: "#fafafa", borderRadius: 6, padding: 12, marginTop: 8 }} data-testid="deflection-article">
      {article.data ? <ArticleBody body={article.data.body} format={article.data.body_format} /> : article.isError ? null : <Skeleton active paragraph={{ rows: 2 }} />}
      <Space wrap>
        <Button type="primary" loading={props.answering} onClick={() => props.onAnswer(true)} data-testid="deflection-solved">
          {t("help.suggest.solved")}
        </Button>
        <Button disabled={props.answering} onClick={() => props.onAnswer(false)}>
          {t("help.suggest.not")}
        </Button>
      </Space>
    </div>
  );
}

/** The articles suggested for what the visitor typed into ``target.fields`` of ``values``;
 * ``onSolved`` when one solved the problem. */
export function Deflection(props: { target: Target; values: Record<string, unknown>; onSolved: () => void }) {
  const { t, lang } = useLang();
  const { app, form } = props.target;
  const typed = useDebounced(suggestText(props.values, props.target.fields), 600);
  const [open, setOpen] = useState<number | null>(null);
  const [dismissed, setDismissed] = useState<number[]>([]);
  const found = useQuery({
    queryKey: ["help-suggestions", app, form, typed, lang],
    queryFn: async () =>
      data(await client.GET("/api/v1/help/{app}/{form}/suggestions", { params: { path: { app, form }, query: { q: typed, lang } } })),
    enabled: typed !== "",
    placeholderData: (previous) => previous,
    retry: false,
  });
  const answer = useMutation({
    mutationFn: (vars: { id: number; solved: boolean }) => sendFeedback(app, form, vars.id, vars.solved, "intake"),
    onSettled: (_data, _error, vars) => {
      // a failed count must not keep the visitor from going on
      if (vars.solved) props.onSolved();
      else {
        setDismissed((d) => [...d, vars.id]);
        setOpen(null);
      }
    },
  });
  const items = typed ? (found.data ?? []).filter((item) => !dismissed.includes(item.id)) : [];
  if (items.length === 0) return null;
  return (
    <Card
      size="small"
      title={t("help.suggest")}
      style={{ marginBottom: 16, borderColor: "#91caff" }}
      styles={{ header: { background: "#e6f4ff" } }}
      data-testid="deflection"
      role="region"
      aria-label={t("help.suggest")}
    >
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("help.suggest.detail")}
      </Typography.Paragraph>
      <List
        dataSource={items}
        renderItem={(item) => (
          <List.Item style={{ display: "block" }} data-testid="deflection-item">
            <Button type="link" style={{ padding: 0, height: "auto", whiteSpace: "normal", textAlign: "start" }} aria-expanded={open === item.id} onClick={() => setOpen(open === item.id ? null : item.id)}>
              {item.title}
            </Button>
            <Typography.Paragraph type="secondary" style={{ marginBottom: 0, fontSize: 12 }} ellipsis={{ rows: 2 }}>
              <Marked text={item.summary} highlights={item.highlights} />
            </Typography.Paragraph>
            {open === item.id && <Opened target={props.target} item={item} answering={answer.isPending} onAnswer={(solved) => answer.mutate({ id: item.id, solved })} />}
          </List.Item>
        )}
      />
    </Card>
  );
}

/** What the page shows once an article solved the problem. */
export function Deflected(props: { onAgain: () => void }) {
  const { t } = useLang();
  return (
    <Result
      status="success"
      title={<h1 style={{ fontSize: 22, margin: 0 }}>{t("help.deflected")}</h1>}
      subTitle={t("help.deflected.detail")}
      extra={<Button onClick={props.onAgain}>{t("help.deflected.again")}</Button>}
      data-testid="intake-deflected"
    />
  );
}
