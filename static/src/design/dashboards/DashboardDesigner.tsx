// The dashboard designer: the app's published KPI cards and reports dragged onto a
// react-grid-layout grid (moved by their header, resized by their corner), global filters — a date
// range and choices — with the widgets each applies to, and every widget drawn with live data
// from the server's preview of the draft, as the designer or as a chosen role sees it, at desktop
// or phone width.
import { AppstoreAddOutlined, DeleteOutlined, DesktopOutlined, HolderOutlined, MobileOutlined } from "@ant-design/icons";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { Alert, Button, Card, Col, Empty, Form, Input, InputNumber, Row, Segmented, Select, Space, Tag, Tooltip, Typography } from "antd";
import { useMemo, useState, type DragEvent as ReactDragEvent } from "react";
import ReactGridLayout, { noCompactor, useContainerWidth, type Layout } from "react-grid-layout";
import "react-grid-layout/css/styles.css";
import "react-resizable/css/styles.css";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { Chart, DataTable, isTabular, Kpi } from "../../widgets";
import { label, useOverview, type Body } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { useDirectory, type FormField } from "../flows/data";
import { TextI18n } from "../forms/editors";
import { PinnedProblems } from "../Problems";
import { useDebounced } from "../../debounce";
import { SYSTEM_FIELDS } from "../reports/model";
import { addFilter, addWidget, bindFilter, columnsOf, fromLayout, patchFilter, readingOrder, removeFilter, removeWidget, setTitle, toLayout, withoutPlaces, type DashboardBody, type Filter, type Widget } from "./model";
import "./strings";

const ROW = 40;
const PRESETS = ["today", "this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_7_days", "last_30_days", "last_90_days", "last_365_days"];
const DRAG_TYPE = "text/plain";

interface Shown {
  id: string;
  kind: "kpi" | "report";
  form?: string;
  filtered_by?: string[];
  data?: Record<string, unknown>;
  error?: { status: number; detail: string };
}

interface Board {
  widgets: Shown[];
  elapsed_ms: number;
}

function usePreview(app: string, key: string, body: DashboardBody, values: Record<string, string[]>, role: string | undefined, enabled: boolean) {
  // where widgets sit does not change their data: moving one does not ask again
  const settled = useDebounced(useMemo(() => withoutPlaces(body), [body]));
  return useQuery({
    queryKey: ["design", "preview", app, "dashboards", key, settled, values, role],
    queryFn: async (): Promise<Board> =>
      data(
        await client.POST("/api/v1/apps/{app}/dashboards/{key}/preview", {
          params: { path: { app, key } },
          body: { body: settled as unknown as Record<string, unknown>, values, ...(role ? { as_role: role } : {}) },
        }),
      ) as unknown as Board,
    enabled,
    retry: false,
    placeholderData: keepPreviousData,
  });
}

/** The fields of the forms the widgets read, by key (the first form naming a key wins). */
function useWidgetFields(app: string, forms: string[]) {
  const found = useQueries({
    queries: forms.map((form) => ({
      queryKey: ["design", "flow-form", app, form],
      queryFn: async () => {
        const got = data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}", { params: { path: { app, kinds: "forms", key: form } } }));
        return got.body as { fields?: FormField[] };
      },
      staleTime: 30_000,
    })),
  });
  const byKey = new Map<string, FormField>();
  for (const result of found) for (const f of result.data?.fields ?? []) if (!byKey.has(f.key) && f.type !== "sub_table") byKey.set(f.key, f);
  for (const f of SYSTEM_FIELDS) byKey.set(f.key, { key: f.key, type: f.type, label: f.label });
  return [...byKey.values()];
}

function WidgetView({ shown, height }: { shown: Shown | undefined; height: number | string }) {
  const { t } = useLang();
  if (!shown) return null;
  if (shown.error) return <Alert type="warning" showIcon message={`${t("dashboard.error")}: ${shown.error.detail}`} />;
  const result = shown.data;
  if (!result) return null;
  if (shown.kind === "kpi") return <Kpi data={result} />;
  if (isTabular(result)) return <DataTable data={result} />;
  return <Chart data={result} onPick={() => undefined} height={height} />;
}

function Palette({ app, onAdd }: { app: string; onAdd: (kind: "kpi" | "report", key: string) => void }) {
  const { t, lang } = useLang();
  const overview = useOverview(app);
  const items = (kind: "kpi" | "report") => (overview.data ?? []).filter((d) => d.kind === kind && d.published_version !== null);
  const start = (e: ReactDragEvent, kind: string, key: string) => {
    e.dataTransfer.setData(DRAG_TYPE, `${kind}:${key}`);
    e.dataTransfer.effectAllowed = "copy";
  };
  return (
    <Card size="small" title={t("design.dashboard.palette")} styles={{ body: { padding: 8 } }}>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 6 }}>
        {t("design.dashboard.palette.help")}
      </Typography.Paragraph>
      {(["kpi", "report"] as const).map((kind) => (
        <div key={kind} style={{ marginBottom: 8 }}>
          <Typography.Text strong>{t(kind === "kpi" ? "design.dashboard.kpis" : "design.dashboard.reports")}</Typography.Text>
          <Space direction="vertical" size={4} style={{ width: "100%", marginTop: 4, maxHeight: 320, overflow: "auto" }}>
            {items(kind).length === 0 && <Typography.Text type="secondary">{t("design.dashboard.none", { kind: t(kind === "kpi" ? "design.dashboard.kpis" : "design.dashboard.reports") })}</Typography.Text>}
            {items(kind).map((d) => {
              const name = label(d.name, lang, d.key);
              return (
                <div
                  key={d.key}
                  draggable
                  unselectable="on"
                  onDragStart={(e) => start(e, kind, d.key)}
                  style={{ display: "flex", alignItems: "center", gap: 4, padding: "3px 6px", border: "1px solid #d9d9d9", borderRadius: 6, background: "#fff", cursor: "grab" }}
                  data-testid={`dashboard-palette-${kind}-${d.key}`}
                >
                  <HolderOutlined style={{ color: "#8c8c8c" }} />
                  <span style={{ flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{name}</span>
                  <Tooltip title={t("design.dashboard.add")}>
                    <Button size="small" type="text" icon={<AppstoreAddOutlined />} onClick={() => onAdd(kind, d.key)} aria-label={`${t("design.dashboard.add")} ${name}`} data-testid={`dashboard-add-${kind}-${d.key}`} />
                  </Tooltip>
                </div>
              );
            })}
          </Space>
        </div>
      ))}
    </Card>
  );
}

function FiltersEditor({ board, write, fields, shown, values, setValues, names }: { board: DashboardBody; write: (b: DashboardBody) => void; fields: FormField[]; shown: Shown[]; values: Record<string, string[]>; setValues: (v: Record<string, string[]>) => void; names: (w: Widget) => string }) {
  const { t, lang } = useLang();
  const filters = board.filters ?? [];
  const dates = fields.filter((f) => f.type === "date" || f.type === "datetime");
  const choices = fields.filter((f) => !["date", "datetime", "attachments", "rich_text", "textarea"].includes(f.type));
  const fieldName = (key: string) => label(fields.find((f) => f.key === key)?.label, lang, key);
  const hasRange = filters.some((f) => f.type === "date_range");
  return (
    <Card
      size="small"
      title={t("design.dashboard.filters")}
      extra={
        <Space size={4}>
          <Button size="small" disabled={hasRange} onClick={() => write(addFilter(board, "date_range", "_created_at"))} data-testid="dashboard-filter-add-date">
            {t("design.dashboard.filter.add_date")}
          </Button>
          <Button size="small" disabled={choices.length === 0} onClick={() => write(addFilter(board, "select", choices[0]?.key ?? ""))} data-testid="dashboard-filter-add-select">
            {t("design.dashboard.filter.add_select")}
          </Button>
        </Space>
      }
    >
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 6 }}>
        {t("design.dashboard.filters.help")}
      </Typography.Paragraph>
      <Space direction="vertical" size={6} style={{ width: "100%" }}>
        {filters.map((f: Filter, i) => {
          const applies = shown.filter((w) => w.filtered_by?.includes(f.key));
          const options = fields.find((x) => x.key === f.field)?.options ?? [];
          return (
            <div key={i} style={{ border: "1px solid #f0f0f0", borderRadius: 6, padding: 8 }} data-testid={`dashboard-filter-${i}`}>
              <Space wrap align="center" size={6}>
                <Tag color={f.type === "date_range" ? "blue" : "purple"} style={{ color: f.type === "date_range" ? "#003eb3" : "#391085" }}>
                  {t(`design.dashboard.filter.${f.type}`)}
                </Tag>
                <Select
                  size="small"
                  style={{ width: 150 }}
                  value={f.field}
                  onChange={(field: string) => write(patchFilter(board, i, { field, ...(f.type === "select" ? { default: undefined } : {}) }))}
                  options={(f.type === "date_range" ? dates : choices).map((x) => ({ value: x.key, label: label(x.label, lang, x.key) }))}
                  aria-label={t("design.dashboard.filter.field")}
                  data-testid={`dashboard-filter-${i}-field`}
                />
                <Input
                  size="small"
                  style={{ width: 120 }}
                  placeholder={fieldName(f.field)}
                  value={f.label?.["zh-CN"] ?? ""}
                  onChange={(e) => write(patchFilter(board, i, { label: e.target.value ? { ...(f.label ?? {}), "zh-CN": e.target.value } : undefined }))}
                  aria-label={t("design.dashboard.filter.label")}
                />
                {f.type === "date_range" ? (
                  <Select
                    size="small"
                    style={{ width: 120 }}
                    value={typeof f.default === "string" ? f.default : ""}
                    onChange={(v: string) => write(patchFilter(board, i, { default: v || undefined }))}
                    options={[{ value: "", label: t("design.dashboard.filter.default.none") }, ...PRESETS.map((p) => ({ value: p, label: t(`period.${p}`, {}, p) }))]}
                    aria-label={t("design.dashboard.filter.default")}
                    data-testid={`dashboard-filter-${i}-default`}
                  />
                ) : (
                  <Select
                    size="small"
                    mode="multiple"
                    style={{ minWidth: 140 }}
                    placeholder={<span style={{ color: "#595959" }}>{t("design.dashboard.filter.default.none")}</span>}
                    value={Array.isArray(f.default) ? f.default : []}
                    onChange={(v: string[]) => write(patchFilter(board, i, { default: v.length ? v : undefined }))}
                    options={options.map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
                    aria-label={t("design.dashboard.filter.default")}
                  />
                )}
                <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => write(removeFilter(board, i))} aria-label={t("design.dashboard.filter.remove")} data-testid={`dashboard-filter-${i}-remove`} />
              </Space>
              <Space wrap size={4} style={{ marginTop: 4 }}>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("design.dashboard.filter.bind")}
                </Typography.Text>
                <Select
                  size="small"
                  mode="multiple"
                  allowClear
                  style={{ minWidth: 220 }}
                  value={f.widgets ?? []}
                  placeholder={<span style={{ color: "#595959" }}>{t("design.dashboard.filter.bind.all")}</span>}
                  onChange={(ids: string[]) => write(bindFilter(board, i, ids))}
                  options={(board.widgets ?? []).map((w) => ({ value: w.id, label: names(w) }))}
                  aria-label={t("design.dashboard.filter.bind")}
                  data-testid={`dashboard-filter-${i}-widgets`}
                />
              </Space>
              <div style={{ marginTop: 4 }} data-testid={`dashboard-filter-${i}-applies`}>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {applies.length ? t("design.dashboard.filter.applies") + applies.map((w) => names((board.widgets ?? []).find((x) => x.id === w.id) ?? { id: w.id })).join("、") : t("design.dashboard.filter.applies_none")}
                </Typography.Text>
              </div>
              <Space size={4} style={{ marginTop: 4 }}>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("design.dashboard.filter.preview_value")}
                </Typography.Text>
                {f.type === "date_range" ? (
                  <Select
                    size="small"
                    style={{ width: 160 }}
                    value={values[f.key]?.[0] ?? (typeof f.default === "string" ? f.default : undefined)}
                    onChange={(v: string) => setValues({ ...values, [f.key]: [v] })}
                    options={PRESETS.map((p) => ({ value: p, label: t(`period.${p}`, {}, p) }))}
                    aria-label={`${t("design.dashboard.filter.preview_value")} ${fieldName(f.field)}`}
                    data-testid={`dashboard-filter-${i}-value`}
                  />
                ) : (
                  <Select
                    size="small"
                    mode="multiple"
                    allowClear
                    style={{ minWidth: 160 }}
                    value={values[f.key] ?? []}
                    onChange={(v: string[]) => setValues({ ...values, [f.key]: v })}
                    options={options.map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
                    placeholder={<span style={{ color: "#595959" }}>{fieldName(f.field)}</span>}
                    aria-label={`${t("design.dashboard.filter.preview_value")} ${fieldName(f.field)}`}
                    data-testid={`dashboard-filter-${i}-value`}
                  />
                )}
              </Space>
            </div>
          );
        })}
      </Space>
    </Card>
  );
}

export function DashboardDesigner({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const board = body as unknown as DashboardBody;
  const write = (next: DashboardBody) => setBody(next as unknown as Body);
  const [values, setValues] = useState<Record<string, string[]>>({});
  const [role, setRole] = useState<string | undefined>(undefined);
  const [width, setWidth] = useState<"desktop" | "phone">("desktop");
  const directory = useDirectory();
  const overview = useOverview(app);
  const preview = usePreview(app, board.key, board, values, role, problems.length === 0);
  const shown = new Map((preview.data?.widgets ?? []).map((w) => [w.id, w]));
  const forms = [...new Set((preview.data?.widgets ?? []).map((w) => w.form).filter((f): f is string => Boolean(f)))].sort();
  const fields = useWidgetFields(app, forms);
  const { width: gridWidth, containerRef, mounted } = useContainerWidth();
  const cols = columnsOf(board);
  const layout = useMemo(() => toLayout(board), [board]);
  const sourceName = (w: Widget) => {
    const kind = w.kpi ? "kpi" : "report";
    const key = w.kpi ?? w.report ?? w.id;
    return label(overview.data?.find((d) => d.kind === kind && d.key === key)?.name, lang, key);
  };
  const names = (w: Widget) => (w.title ? label(w.title, lang, w.id) : sourceName(w));
  const onDrop = (_: Layout, item: { x: number; y: number } | undefined, e: Event) => {
    const raw = (e as DragEvent).dataTransfer?.getData(DRAG_TYPE) ?? "";
    const [kind, key] = raw.split(":");
    if ((kind === "kpi" || kind === "report") && key) write(addWidget(board, kind, key, item ? { x: item.x, y: item.y } : undefined));
  };
  const widgets = board.widgets ?? [];
  const card = (w: Widget, height: number | string, draggable: boolean) => (
    <Card
      size="small"
      style={{ height: "100%", display: "flex", flexDirection: "column" }}
      styles={{ body: { flex: 1, minHeight: 0, overflow: "auto", padding: 8 } }}
      title={
        <span className={draggable ? "dashboard-handle" : undefined} style={{ cursor: draggable ? "move" : undefined }} title={draggable ? t("design.dashboard.widget.move") : undefined}>
          {draggable && <HolderOutlined style={{ color: "#8c8c8c", marginRight: 4 }} />}
          {names(w)}
        </span>
      }
      extra={
        draggable && (
          <Button size="small" type="text" danger icon={<DeleteOutlined />} onMouseDown={(e) => e.stopPropagation()} onClick={() => write(removeWidget(board, w.id))} aria-label={`${t("design.dashboard.widget.remove")} ${names(w)}`} data-testid={`dashboard-widget-${w.id}-remove`} />
        )
      }
      data-testid={`dashboard-widget-${w.id}`}
    >
      <WidgetView shown={shown.get(w.id)} height={height} />
    </Card>
  );
  return (
    <Row gutter={12} data-testid="dashboard-designer">
      <Col xs={24} lg={5}>
        <Palette app={app} onAdd={(kind, key) => write(addWidget(board, kind, key))} />
      </Col>
      <Col xs={24} lg={19}>
        <Space direction="vertical" size="middle" style={{ width: "100%" }}>
          <Card size="small" title={t("design.dashboard.basics")}>
            <Form layout="inline" size="small">
              <Form.Item label={t("design.dashboard.name")}>
                <TextI18n value={board.label} onChange={(next) => next && write({ ...board, label: next })} testId="dashboard-label" required />
              </Form.Item>
              <Form.Item label={t("design.dashboard.columns")}>
                <InputNumber min={1} max={48} value={cols} onChange={(n) => n && write({ ...board, columns: n })} aria-label={t("design.dashboard.columns")} />
              </Form.Item>
            </Form>
          </Card>
          <PinnedProblems problems={problems} prefix="/filters" testId="dashboard-problems-filters" />
          <FiltersEditor board={board} write={write} fields={fields} shown={preview.data?.widgets ?? []} values={values} setValues={setValues} names={names} />
          <PinnedProblems problems={problems} prefix="/widgets" testId="dashboard-problems-widgets" />
          <Card
            size="small"
            title={t("design.dashboard.canvas")}
            extra={
              <Space wrap size={6}>
                <Select
                  size="small"
                  style={{ width: 160 }}
                  value={role ?? ""}
                  onChange={(v: string) => setRole(v || undefined)}
                  options={[{ value: "", label: t("design.dashboard.preview.me") }, ...(directory.roles.data ?? []).map((r) => ({ value: r.key, label: r.name }))]}
                  prefix={t("design.dashboard.preview.as")}
                  aria-label={t("design.dashboard.preview.as")}
                  data-testid="dashboard-preview-role"
                />
                <Segmented
                  size="small"
                  value={width}
                  onChange={(v) => setWidth(v as "desktop" | "phone")}
                  options={[
                    { value: "desktop", label: t("design.dashboard.preview.desktop"), icon: <DesktopOutlined /> },
                    { value: "phone", label: t("design.dashboard.preview.phone"), icon: <MobileOutlined /> },
                  ]}
                  data-testid="dashboard-preview-width"
                />
                {preview.data && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="dashboard-preview-took">
                    {t("design.dashboard.preview.took", { ms: preview.data.elapsed_ms })}
                  </Typography.Text>
                )}
              </Space>
            }
          >
            {problems.length > 0 && <Alert type="info" showIcon style={{ marginBottom: 8 }} message={t("design.dashboard.preview.blocked")} />}
            {preview.isError && <Alert type="error" showIcon style={{ marginBottom: 8 }} message={problemText(preview.error)} data-testid="dashboard-preview-error" />}
            {width === "phone" ? (
              <div style={{ width: 390, margin: "0 auto", border: "8px solid #262626", borderRadius: 24, padding: 8, background: "#f5f5f5" }} data-testid="dashboard-phone">
                <Space direction="vertical" size={8} style={{ width: "100%" }}>
                  {readingOrder(board).map((w) => (
                    <div key={w.id} style={{ height: w.kpi ? undefined : 300 }}>
                      {card(w, 240, false)}
                    </div>
                  ))}
                </Space>
              </div>
            ) : (
              <div ref={containerRef} style={{ minHeight: 240, background: "#fafafa", borderRadius: 6 }} data-testid="dashboard-canvas">
                {widgets.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("design.dashboard.canvas.empty")} style={{ paddingTop: 24 }} />}
                {mounted && (
                  <ReactGridLayout
                    layout={layout}
                    width={gridWidth}
                    gridConfig={{ cols, rowHeight: ROW, margin: [8, 8] }}
                    dragConfig={{ handle: ".dashboard-handle" }}
                    // widgets stay where they are put (no gravity): what the grid shows is what
                    // the dashboard stores, and opening one changes nothing
                    compactor={noCompactor}
                    dropConfig={{ enabled: true, defaultItem: { w: Math.max(1, Math.round((6 * cols) / 24)), h: 4 } }}
                    onLayoutChange={(next) => {
                      const moved = fromLayout(board, next.filter((item) => widgets.some((w) => w.id === item.i)));
                      if (moved !== board) write(moved);
                    }}
                    onDrop={onDrop}
                    style={{ minHeight: 240 }}
                  >
                    {widgets.map((w) => (
                      <div key={w.id}>{card(w, "100%", true)}</div>
                    ))}
                  </ReactGridLayout>
                )}
              </div>
            )}
          </Card>
          {widgets.length > 0 && (
            <Card size="small" title={t("design.dashboard.widget.title")}>
              <Space direction="vertical" size={4} style={{ width: "100%" }}>
                {widgets.map((w) => (
                  <Space key={w.id} wrap>
                    <Typography.Text style={{ width: 160, display: "inline-block" }}>{sourceName(w)}</Typography.Text>
                    <Input
                      size="small"
                      style={{ width: 220 }}
                      placeholder={sourceName(w)}
                      value={w.title?.["zh-CN"] ?? ""}
                      onChange={(e) => write(setTitle(board, w.id, e.target.value ? { ...(w.title ?? {}), "zh-CN": e.target.value } : undefined))}
                      aria-label={`${sourceName(w)} ${t("design.dashboard.widget.title")}`}
                      data-testid={`dashboard-widget-${w.id}-title`}
                    />
                  </Space>
                ))}
              </Space>
            </Card>
          )}
        </Space>
      </Col>
    </Row>
  );
}
