// Search across an app (/apps/:app/search?q=): the records of every form the user may read that
// hold the words, by form — the form's count, the newest matches with their title and a snippet of
// the field that matched, its words marked — and a way to the form's list searched the same way.
import { useQuery } from "@tanstack/react-query";
import { Alert, Card, Empty, Input, List, Space, Spin, Typography } from "antd";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { client, data } from "../client";
import { useLang } from "../i18n";
import { pieces } from "./marks";

export function SearchPage() {
  const { app = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const { t, lang } = useLang();
  const q = (params.get("q") ?? "").trim();
  const found = useQuery({
    queryKey: ["search", app, q, lang],
    queryFn: async () =>
      data(await client.GET("/api/v1/apps/{app}/search", { params: { path: { app }, query: { q, lang, limit: 10 } } })),
    enabled: q.length > 0,
    retry: false,
  });
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle">
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t("search.title")}
      </Typography.Title>
      <Input.Search
        key={q}
        defaultValue={q}
        allowClear
        enterButton
        maxLength={100}
        placeholder={t("search.placeholder")}
        aria-label={t("search.placeholder")}
        onSearch={(value) => setParams(value.trim() ? { q: value.trim() } : {})}
        style={{ maxWidth: 480 }}
        data-testid="search-page-input"
      />
      {!q ? null : found.isPending ? (
        <Spin />
      ) : found.isError ? (
        <Alert type="error" showIcon message={found.error.message} />
      ) : found.data.groups.length === 0 ? (
        <Empty description={t("search.none", { q })} />
      ) : (
        <>
          <Typography.Text type="secondary" data-testid="search-total">
            {t("search.total", { n: found.data.total })}
          </Typography.Text>
          {found.data.groups.map((g) => (
            <Card
              key={g.form}
              size="small"
              title={`${g.form_label}（${g.total}）`}
              data-testid={`search-group-${g.form}`}
              extra={
                <Link to={`/apps/${app}/records/${g.form}?${new URLSearchParams({ _q: q }).toString()}`}>
                  {t("related.all", { n: g.total })}
                </Link>
              }
            >
              <List
                size="small"
                dataSource={g.items}
                renderItem={(item) => (
                  <List.Item>
                    <List.Item.Meta
                      title={
                        <Link to={`/apps/${app}/records/${g.form}/${item.id}`}>
                          #{item.id} {item.title ?? ""}
                        </Link>
                      }
                      description={
                        item.snippet ? (
                          <span>
                            <Typography.Text type="secondary">{item.field_label}：</Typography.Text>
                            {pieces(item.snippet, item.highlights).map((p, i) => (p.marked ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
                          </span>
                        ) : null
                      }
                    />
                  </List.Item>
                )}
              />
            </Card>
          ))}
        </>
      )}
    </Space>
  );
}
