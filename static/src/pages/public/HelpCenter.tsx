// A public help center (/help/:app) and its articles (/help/:app/:form/:id), in the manner of
// Zendesk's and Feishu's help centers: a search box, the facets as rows of options with their
// counts, the articles with the words found marked; an article's page asks "did this solve your
// problem?" and lists articles on the same subject. The search, the facets and the page live in
// the address, so Back returns to the list as it was.
import { LikeOutlined, DislikeOutlined, SearchOutlined } from "@ant-design/icons";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Alert, Button, Empty, Input, List, Pagination, Skeleton, Space, Tabs, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { client, data, type Schemas } from "../../client";
import { useLang, type Lang } from "../../i18n";
import { usePageTitle } from "../../title";
import { facetPairs, helpParams, markedParts, readHelpQuery, type HelpQuery } from "./help";
import { PublicFailure, PublicFrame } from "./PublicFrame";

type Center = Schemas["Center"];
type ArticleItem = Schemas["ArticleItem"];

/** One article of a help center, as its page and an intake page's suggestion read it. */
export function useArticle(app: string, form: string, id: number, lang: Lang) {
  return useQuery({
    queryKey: ["help-article", app, form, id, lang],
    queryFn: async () =>
      data(
        await client.GET("/api/v1/help/{app}/{form}/articles/{record_id}", {
          params: { path: { app, form, record_id: id }, query: { lang } },
        }),
      ),
    retry: false,
  });
}

/** A visitor's answer to "did this solve your problem?" (on the article's page or an intake
 * page): the article's counts after it. */
export async function sendFeedback(app: string, form: string, id: number, solved: boolean, via: "article" | "intake") {
  return data(
    await client.POST("/api/v1/help/{app}/{form}/articles/{record_id}/feedback", {
      params: { path: { app, form, record_id: id } },
      body: { solved, via },
    }),
  );
}

/** A summary with the words found marked. */
export function Marked(props: { text: string; highlights: number[][] }) {
  return (
    <>
      {markedParts(props.text, props.highlights).map((part, i) =>
        part.marked ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>,
      )}
    </>
  );
}

/** An article in a list: its title (a link), the facets' options and the summary. */
export function ArticleRow(props: { app: string; form: string; item: ArticleItem; onOpen?: () => void }) {
  const { item } = props;
  return (
    <List.Item data-testid="help-article">
      <List.Item.Meta
        title={
          <Link to={`/help/${props.app}/${props.form}/${item.id}`} onClick={props.onOpen}>
            {item.title}
          </Link>
        }
        description={
          <>
            <Typography.Paragraph type="secondary" style={{ marginBottom: 4 }} ellipsis={{ rows: 2 }}>
              <Marked text={item.summary} highlights={item.highlights} />
            </Typography.Paragraph>
            {item.facets.map((f) => (
              <Tag key={f.key}>{f.label ?? f.value}</Tag>
            ))}
          </>
        }
      />
    </List.Item>
  );
}

function FacetRow(props: { facet: Center["facets"][number]; chosen?: string; onChoose: (value: string) => void }) {
  const { t } = useLang();
  const { facet } = props;
  return (
    <div style={{ display: "flex", gap: 8, alignItems: "baseline", marginBottom: 8 }} role="group" aria-label={facet.label} data-testid={`help-facet-${facet.key}`}>
      <Typography.Text type="secondary" style={{ flex: "none", minWidth: 64 }}>
        {facet.label}
      </Typography.Text>
      <Space size={[4, 4]} wrap>
        <Tag.CheckableTag checked={!props.chosen} onChange={() => props.onChoose("")}>
          {t("help.all")}
        </Tag.CheckableTag>
        {facet.options.map((o) => (
          <Tag.CheckableTag key={o.value} checked={props.chosen === o.value} onChange={() => props.onChoose(props.chosen === o.value ? "" : o.value)}>
            {o.label} {o.count}
          </Tag.CheckableTag>
        ))}
      </Space>
    </div>
  );
}

function Articles(props: { app: string; center: Center }) {
  const { t, lang } = useLang();
  const { app, center } = props;
  const [params, setParams] = useSearchParams();
  const query = readHelpQuery(params, center.facets.map((f) => f.key));
  const go = (next: Partial<HelpQuery>) => setParams(helpParams({ ...query, page: 1, ...next }), { replace: false });
  const found = useQuery({
    queryKey: ["help-articles", app, center.form, query, lang],
    queryFn: async () =>
      data(
        await client.GET("/api/v1/help/{app}/{form}/articles", {
          params: { path: { app, form: center.form }, query: { q: query.q, facet: facetPairs(query.facets), page: query.page, lang } },
        }),
      ),
    placeholderData: (previous) => previous,
    retry: false,
  });
  const facets = found.data?.facets ?? center.facets;
  return (
    <>
      <Input.Search
        key={query.q /* Back to another search shows its words */}
        size="large"
        allowClear
        enterButton={<SearchOutlined aria-label={t("help.title")} />}
        placeholder={t("help.search")}
        aria-label={t("help.search")}
        defaultValue={query.q}
        maxLength={100}
        onSearch={(value) => go({ q: value.trim() })}
        style={{ marginBottom: 16 }}
        data-testid="help-search"
      />
      {facets.map((facet) => (
        <FacetRow key={facet.key} facet={facet} chosen={query.facets[facet.key]} onChoose={(value) => go({ facets: { ...query.facets, [facet.key]: value } })} />
      ))}
      {found.isError && <PublicFailure error={found.error} />}
      {!found.data && !found.isError && <Skeleton active />}
      {found.data && (
        <>
          <Typography.Text type="secondary" data-testid="help-total">
            {query.q ? t("help.found", { count: found.data.total, q: query.q }) : t("help.count", { count: found.data.total })}
          </Typography.Text>
          {found.data.items.length === 0 ? (
            <Empty description={<>{t("help.none")}<br />{t("help.none.detail")}</>} style={{ margin: "32px 0" }} />
          ) : (
            <List itemLayout="vertical" dataSource={found.data.items} renderItem={(item) => <ArticleRow app={app} form={center.form} item={item} />} />
          )}
          {found.data.total > found.data.size && (
            <Pagination
              align="center"
              current={found.data.page}
              pageSize={found.data.size}
              total={found.data.total}
              showSizeChanger={false}
              onChange={(page) => {
                go({ page });
                window.scrollTo(0, 0);
              }}
            />
          )}
        </>
      )}
    </>
  );
}

/** The help center of an app: its articles, one tab per center when it has several. */
export function HelpCenterPage() {
  const { app = "" } = useParams();
  const { t, lang } = useLang();
  const found = useQuery({
    queryKey: ["help-centers", app, lang],
    queryFn: async () => data(await client.GET("/api/v1/help/{app}", { params: { path: { app }, query: { lang } } })),
    retry: false,
  });
  usePageTitle(t("help.title"), found.data?.name);
  const [tab, setTab] = useState<string>();
  if (found.isError)
    return (
      <PublicFrame testId="help-center" wide>
        <PublicFailure error={found.error} />
      </PublicFrame>
    );
  if (!found.data)
    return (
      <PublicFrame testId="help-center" wide>
        <Skeleton active />
      </PublicFrame>
    );
  const centers = found.data.centers;
  const current = centers.find((c) => c.form === tab) ?? centers[0];
  return (
    <PublicFrame testId="help-center" wide>
      <Typography.Text type="secondary">{found.data.name}</Typography.Text>
      <h1 style={{ fontSize: 24, margin: "4px 0 16px" }}>{t("help.title")}</h1>
      {centers.length > 1 && <Tabs activeKey={current.form} onChange={setTab} items={centers.map((c) => ({ key: c.form, label: c.label }))} />}
      <Articles key={current.form} app={app} center={current} />
    </PublicFrame>
  );
}

function Feedback(props: { app: string; form: string; id: number; solved: number }) {
  const { t } = useLang();
  const answer = useMutation({ mutationFn: (solved: boolean) => sendFeedback(props.app, props.form, props.id, solved, "article") });
  if (answer.isSuccess)
    return (
      <Alert
        type={answer.variables ? "success" : "info"}
        showIcon
        title={answer.variables ? t("help.solved.thanks") : t("help.solved.sorry")}
        description={t("help.solved.count", { count: answer.data.solved })}
        data-testid="help-feedback-done"
        role="status"
      />
    );
  return (
    <div style={{ textAlign: "center", padding: "16px 0", borderTop: "1px solid #f0f0f0" }} data-testid="help-feedback">
      <Typography.Paragraph strong>{t("help.solved.ask")}</Typography.Paragraph>
      <Space>
        <Button icon={<LikeOutlined />} loading={answer.isPending && answer.variables} onClick={() => answer.mutate(true)} data-testid="help-solved">
          {t("help.solved.yes")}
        </Button>
        <Button icon={<DislikeOutlined />} loading={answer.isPending && !answer.variables} onClick={() => answer.mutate(false)}>
          {t("help.solved.no")}
        </Button>
      </Space>
      {answer.isError && <PublicFailure error={answer.error} />}
      {props.solved > 0 && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0, fontSize: 12 }}>
          {t("help.solved.count", { count: props.solved })}
        </Typography.Paragraph>
      )}
    </div>
  );
}

/** The body of an article: safe HTML (made safe by the server) or plain text. */
export function ArticleBody(props: { body: string; format: string }) {
  if (props.format === "html") return <div className="help-article-body" dangerouslySetInnerHTML={{ __html: props.body }} data-testid="help-article-body" />;
  return (
    <Typography.Paragraph style={{ whiteSpace: "pre-wrap" }} data-testid="help-article-body">
      {props.body}
    </Typography.Paragraph>
  );
}

/** One article. */
export function HelpArticlePage() {
  const { app = "", form = "", id = "" } = useParams();
  const { t, lang } = useLang();
  const recordId = Number(id);
  const found = useArticle(app, form, recordId, lang);
  usePageTitle(found.data?.title, t("help.title"));
  useEffect(() => {
    window.scrollTo(0, 0); // a related article opens at its top
  }, [recordId]);
  const back = (
    <Link to={`/help/${app}`} data-testid="help-back">
      ← {t("help.back")}
    </Link>
  );
  if (found.isError)
    return (
      <PublicFrame testId="help-article-page" wide>
        {back}
        <PublicFailure error={found.error} />
      </PublicFrame>
    );
  if (!found.data)
    return (
      <PublicFrame testId="help-article-page" wide>
        <Skeleton active />
      </PublicFrame>
    );
  const article = found.data;
  return (
    <PublicFrame testId="help-article-page" wide>
      {back}
      <article>
        <h1 style={{ fontSize: 24, margin: "12px 0 8px" }} data-testid="help-article-title">
          {article.title}
        </h1>
        <Space size={[4, 4]} wrap style={{ marginBottom: 12 }}>
          {article.facets.map((f) => (
            <Tag key={f.key}>{f.label ?? f.value}</Tag>
          ))}
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("help.updated", { date: new Date(article.updated_at).toLocaleDateString(lang) })}
          </Typography.Text>
        </Space>
        {article.summary && <Alert type="info" title={article.summary} style={{ marginBottom: 16 }} />}
        <ArticleBody body={article.body} format={article.body_format} />
      </article>
      <Feedback key={article.id} app={app} form={form} id={article.id} solved={article.solved} />
      {article.related.length > 0 && (
        <section style={{ marginTop: 16 }} aria-label={t("help.related")}>
          <h2 style={{ fontSize: 16 }}>{t("help.related")}</h2>
          <List dataSource={article.related} renderItem={(item) => <ArticleRow app={app} form={form} item={item} />} />
        </section>
      )}
    </PublicFrame>
  );
}
