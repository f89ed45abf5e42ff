// A record's related records: the records of every form that names it in a reference field — a
// customer's tickets and callbacks — by form, with counts, the newest few and a way to the rest
// (the form's list filtered by the field). Drawn only when something references the form.
import { useQuery } from "@tanstack/react-query";
import { Card, Empty, List, Space, Tabs, Typography } from "antd";
import { Link } from "react-router-dom";
import { client, data } from "../client";
import { useLang } from "../i18n";

export function RelatedCard({ app, form, recordId }: { app: string; form: string; recordId: number }) {
  const { t, lang } = useLang();
  const related = useQuery({
    queryKey: ["related", app, form, recordId, lang],
    queryFn: async () =>
      data(
        await client.GET("/api/v1/apps/{app}/records/{form}/{record_id}/related", {
          params: { path: { app, form, record_id: recordId }, query: { lang } },
        }),
      ),
    retry: false,
  });
  const groups = related.data ?? [];
  if (!groups.length) return null; // nothing references this form (or the query failed: the page says enough)
  const several = new Set(groups.map((g) => g.form)).size < groups.length; // a form names it twice: say by which field
  return (
    <Card size="small" title={t("related.title")} style={{ marginTop: 16 }} data-testid="related-card" data-print="hide">
      <Tabs
        size="small"
        defaultActiveKey={(() => {
          const first = groups.find((g) => g.total > 0) ?? groups[0];
          return `${first.form}.${first.field}`;
        })()}
        items={groups.map((g) => ({
          key: `${g.form}.${g.field}`,
          label: `${several ? `${g.form_label}（${g.field_label}）` : g.form_label} ${g.total}`,
          children: g.total ? (
            <List
              size="small"
              dataSource={g.items}
              footer={
                <Link to={`/apps/${app}/records/${g.form}?${encodeURIComponent(g.field)}=${recordId}`} data-testid={`related-all-${g.form}`}>
                  {t("related.all", { n: g.total })}
                </Link>
              }
              renderItem={(item) => (
                <List.Item data-testid={`related-item-${g.form}`}>
                  <List.Item.Meta
                    title={
                      <Link to={`/apps/${app}/records/${g.form}/${item.id}`}>
                        #{item.id} {item.title ?? ""}
                      </Link>
                    }
                    description={
                      g.columns.length ? (
                        // the form's summary fields: a ticket's status, satisfaction and SLA
                        <Space size={[12, 0]} wrap>
                          {g.columns.map((c) =>
                            item.summary[c.field] == null ? null : (
                              <span key={c.field} data-testid={`related-${g.form}-${c.field}`}>
                                {c.label}：{item.summary[c.field]}
                              </span>
                            ),
                          )}
                        </Space>
                      ) : undefined
                    }
                  />
                  <Typography.Text type="secondary">{new Date(item.created_at).toLocaleDateString(lang)}</Typography.Text>
                </List.Item>
              )}
            />
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("related.none", { form: g.form_label })} />
          ),
        }))}
      />
    </Card>
  );
}
