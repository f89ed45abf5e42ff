// A dashboard: ECharts widgets and KPI cards from the dashboard data endpoint, global filters,
// drill-down from any point to its records, export per widget.
import { BarChartOutlined, DownloadOutlined, TableOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Alert, Button, Card, Col, Drawer, List, Row, Select, Space, Spin, Typography } from "antd";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, problemText, withQuery, type RecordPage } from "../api";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { Chart, DataTable, isTabular, Kpi } from "../widgets";

interface Widget {
  id: string;
  kind: "kpi" | "report";
  source: string;
  title?: Record<string, string> | null;
  layout?: { x: number; y: number; w: number; h: number } | null;
  data?: Record<string, unknown>;
  error?: { status: number; detail: string };
}

interface Board {
  key: string;
  label: Record<string, string>;
  columns: number;
  filters: {
    key: string;
    type: string;
    field: string;
    label?: Record<string, string>;
    value: unknown;
    period?: { from: string; to: string } | null;
    options?: { value: string; label: Record<string, string> }[];
  }[];
  widgets: Widget[];
  elapsed_ms: number;
}

const PRESETS = ["today", "this_week", "this_month", "last_month", "this_quarter", "this_year", "last_7_days", "last_30_days", "last_90_days", "last_365_days"];

export function Dashboard() {
  const { app = "", key = "" } = useParams();
  const { t, lang } = useLang();
  const [values, setValues] = useState<Record<string, string | string[]>>({});
  const board = useQuery({
    queryKey: ["dashboard", app, key, values],
    queryFn: () => api<Board>(`/apps/${app}/dashboards/${key}/data`, { query: values }),
  });
  const [drill, setDrill] = useState<{ widget: string; point: Record<string, string> } | null>(null);
  // the charts read as tables (a switch on each chart's card): their numbers for keyboards and
  // screen readers, each row opening its records
  const [asTable, setAsTable] = useState<ReadonlySet<string>>(new Set());
  const drilled = useQuery({
    queryKey: ["drill", app, key, drill, values],
    enabled: drill !== null,
    queryFn: () =>
      api<RecordPage>(
        `/apps/${app}/dashboards/${key}/widgets/${drill!.widget}/records`,
        { query: { ...values, ...Object.fromEntries(Object.entries(drill!.point).map(([k, v]) => [`at.${k}`, v])) } },
      ),
  });
  const text = (value?: Record<string, string> | null) => value?.[lang] ?? value?.["zh-CN"] ?? "";
  usePageTitle(board.data ? text(board.data.label) : undefined);
  if (board.isError) return <Failure error={board.error} what={t("failure.dashboard")} />;
  if (!board.data) return <Spin />;
  const columns = board.data.columns || 24;
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle">
      <Card title={text(board.data.label)} size="small">
        <Space wrap>
          {board.data.filters.map((f) =>
            f.type === "date_range" ? (
              <Select
                key={f.key}
                style={{ minWidth: 180 }}
                value={(values[f.key] as string | undefined) ?? (f.value as string)}
                onChange={(v) => setValues({ ...values, [f.key]: v })}
                options={PRESETS.map((p) => ({ value: p, label: t(`period.${p}`, {}, p) }))}
                prefix={text(f.label) || t("dashboard.period")}
                aria-label={text(f.label) || t("dashboard.period")}
              />
            ) : (
              <Select
                key={f.key}
                mode={f.options?.length ? "multiple" : "tags"}
                allowClear
                style={{ minWidth: 180 }}
                options={(f.options ?? []).map((o) => ({ value: o.value, label: text(o.label) || o.value }))}
                optionFilterProp="label"
                placeholder={text(f.label) || f.field}
                aria-label={text(f.label) || f.field}
                data-testid={`filter-${f.key}`}
                value={(values[f.key] as string[] | undefined) ?? []}
                onChange={(v) => setValues({ ...values, [f.key]: v })}
              />
            ),
          )}
          <Typography.Text type="secondary">{board.data.elapsed_ms} ms</Typography.Text>
        </Space>
      </Card>
      <Row gutter={[16, 16]}>
        {board.data.widgets.map((w) => {
          const span = Math.max(4, Math.round(((w.layout?.w ?? columns / 2) * 24) / columns));
          const data = w.data;
          const title = text(w.title) || (data?.label ? text(data.label as Record<string, string>) : "") || String(data?.key ?? w.id);
          const exportUrl = withQuery(`/api/v1/apps/${app}/dashboards/${key}/widgets/${w.id}/data`, { ...values, format: "csv" });
          const chart = Boolean(data && w.kind !== "kpi" && !isTabular(data) && !w.error);
          const tabled = chart && asTable.has(w.id);
          const pick = (row: unknown[]) => {
            const columns = data!.columns as string[];
            const dims = (data!.widget as { x?: string }).x ? [String((data!.widget as { x?: string }).x)] : [columns[0]];
            const point = Object.fromEntries(dims.map((d) => [d, String(row[columns.indexOf(d)] ?? "")]));
            setDrill({ widget: w.id, point });
          };
          return (
            <Col key={w.id} xs={24} md={Math.max(span, 12)} xl={span}>
              <Card
                size="small"
                title={title}
                data-testid={`widget-${w.id}`}
                extra={
                  <Space size={0}>
                    {chart && (
                      <Button
                        size="small"
                        type="text"
                        icon={tabled ? <BarChartOutlined /> : <TableOutlined />}
                        aria-pressed={tabled}
                        aria-label={t(tabled ? "dashboard.as_chart" : "dashboard.as_table", { title })}
                        title={t(tabled ? "dashboard.as_chart" : "dashboard.as_table", { title })}
                        onClick={() => {
                          const next = new Set(asTable);
                          if (tabled) next.delete(w.id);
                          else next.add(w.id);
                          setAsTable(next);
                        }}
                        data-testid={`widget-table-${w.id}`}
                      />
                    )}
                    <Button size="small" type="text" icon={<DownloadOutlined />} href={exportUrl} aria-label={t("dashboard.export", { title })} title={t("dashboard.export", { title })} />
                  </Space>
                }
              >
                {w.error ? (
                  <Alert type="warning" title={`${t("dashboard.error")}: ${w.error.detail}`} />
                ) : w.kind === "kpi" && data ? (
                  <Kpi data={data} label={title} onDrill={() => setDrill({ widget: w.id, point: {} })} />
                ) : data && isTabular(data) ? (
                  <DataTable data={data} />
                ) : tabled && data ? (
                  <DataTable data={data} onPick={pick} />
                ) : data ? (
                  <Chart data={data} label={t("dashboard.chart", { title })} onPick={pick} />
                ) : null}
              </Card>
            </Col>
          );
        })}
      </Row>
      <Drawer open={drill !== null} onClose={() => setDrill(null)} title={t("dashboard.drill")} size="large">
        {drilled.isLoading ? (
          <Spin />
        ) : drilled.isError ? (
          <Alert type="error" title={problemText(drilled.error)} />
        ) : drilled.data === undefined ? null : (
          <List
            header={typeof drilled.data?.total === "number" ? t("records.total", { n: drilled.data.total }) : null}
            dataSource={drilled.data?.items ?? []}
            renderItem={(r) => (
              <List.Item>
                <Link to={`/apps/${app}/records/${r.form}/${r.id}`}>
                  #{r.id} {String(r.data.title ?? r.data.name ?? r.data.ticket_no ?? "")}
                </Link>
              </List.Item>
            )}
          />
        )}
      </Drawer>
    </Space>
  );
}
