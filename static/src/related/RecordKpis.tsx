// The KPIs a form declares for its records, each measured over only the records that name this
// one (a customer's CSAT over its callbacks, its open tickets): statistic cards on the record's
// page, as Ant Design Pro's profile pages put key figures above the details. Drawn only when the
// form declares some.
import { useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Typography } from "antd";
import { client, data } from "../client";
import { useLang } from "../i18n";
import { Kpi } from "../widgets";

/** A period as the card says it: 2026-08-25 ~ 2026-11-22. */
function span(period: Record<string, unknown> | undefined): string {
  return period ? `${String(period.from)} ~ ${String(period.to)}` : "";
}

export function RecordKpis({ app, form, recordId }: { app: string; form: string; recordId: number }) {
  const { t, lang } = useLang();
  const cards = useQuery({
    queryKey: ["record-kpis", app, form, recordId],
    queryFn: async () =>
      data(
        await client.GET("/api/v1/apps/{app}/records/{form}/{record_id}/kpis", {
          params: { path: { app, form, record_id: recordId } },
        }),
      ),
    retry: false,
  });
  const shown = cards.data ?? [];
  if (!shown.length) return null;
  return (
    <Card size="small" title={t("record.kpis")} style={{ marginTop: 16 }} data-testid="record-kpis">
      <Row gutter={[16, 16]}>
        {shown.map((card) => {
          const label = (card.label as Record<string, string>)[lang] ?? (card.label as Record<string, string>)["zh-CN"] ?? card.key;
          return (
            <Col xs={12} md={6} key={card.key} data-testid={`record-kpi-${card.key}`}>
              <Typography.Text strong>{label}</Typography.Text>
              <Kpi data={card as unknown as Record<string, unknown>} label={label} />
              <Typography.Text type="secondary" style={{ fontSize: 12, display: "block" }}>
                {span(card.period as Record<string, unknown>)}
              </Typography.Text>
            </Col>
          );
        })}
      </Row>
    </Card>
  );
}
