// The report builder: the form's fields (its sub-tables' and referenced forms' too) dragged into
// dimensions — dates bucketed by day, week, month, quarter or year — and measures, each measure in
// the shared measure editor (every aggregate the engine has, with its own filter and label), the
// dataset's filter in the condition builder, the chart type with the axes it needs, and a live
// preview of the draft on the viewer's real data with the query's time.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, HolderOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { DndContext, KeyboardSensor, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type Announcements, type DragEndEvent, type UniqueIdentifier } from "@dnd-kit/core";
import { Alert, Button, Card, Col, Empty, Form, Input, InputNumber, Row, Select, Space, Spin, Statistic, Tooltip, Typography } from "antd";
import { useMemo, useState, type ReactNode } from "react";
import { problemText } from "../../api";
import { useLang } from "../../i18n";
import { Chart, DataTable, isTabular } from "../../widgets";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { type Body, label, patched, useOverview } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { conditionFields, useFlowForm } from "../flows/data";
import { TextI18n } from "../forms/editors";
import { PinnedProblems } from "../Problems";
import { useDatasetFields, useKpis, usePreview } from "./data";
import { MeasureEditor } from "./MeasureEditor";
import {
  addDimension,
  addMeasure,
  BUCKETS,
  dimensionsNeeded,
  fitWidget,
  isDate,
  MEASURES,
  moveItem,
  removeDimension,
  removeMeasure,
  renameMeasure,
  switchWidget,
  WIDGETS,
  type Bucket,
  type Dataset,
  type Field,
  type ReportBody,
  type Widget,
  type WidgetType,
} from "./model";
import "./strings";

const PERIODS = ["last_week", "this_week", "last_month", "this_month", "last_quarter", "this_quarter", "last_year", "this_year"];

function FieldChip({ field, onDimension, onMeasure }: { field: Field; onDimension: () => void; onMeasure: () => void }) {
  const { t, lang } = useLang();
  const { setNodeRef, listeners, attributes, isDragging } = useDraggable({ id: `field:${field.key}`, data: { field } });
  const name = label(field.label, lang, field.key);
  return (
    <div
      ref={setNodeRef}
      style={{ display: "flex", alignItems: "center", gap: 4, padding: "3px 6px", border: "1px solid #d9d9d9", borderRadius: 6, background: isDragging ? "#e6f4ff" : "#fff", opacity: isDragging ? 0.6 : 1 }}
      data-testid={`report-field-${field.key}`}
    >
      <span {...listeners} {...attributes} style={{ cursor: "grab", flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }} aria-label={name}>
        <HolderOutlined style={{ color: "#8c8c8c", marginRight: 4 }} />
        {name}
      </span>
      <Tooltip title={t("design.report.field.as_dimension")}>
        <Button size="small" type="text" onClick={onDimension} aria-label={`${name} ${t("design.report.field.as_dimension")}`} data-testid={`report-field-${field.key}-dimension`}>
          {lang === "en" ? "D" : "维"}
        </Button>
      </Tooltip>
      <Tooltip title={t("design.report.field.as_measure")}>
        <Button size="small" type="text" onClick={onMeasure} aria-label={`${name} ${t("design.report.field.as_measure")}`} data-testid={`report-field-${field.key}-measure`}>
          {lang === "en" ? "M" : "指"}
        </Button>
      </Tooltip>
    </div>
  );
}

function Zone({ id, title, empty, count, extra, children }: { id: string; title: string; empty: string; count: number; extra?: ReactNode; children: ReactNode }) {
  const { setNodeRef, isOver } = useDroppable({ id });
  return (
    <Card size="small" title={title} extra={extra}>
      <div ref={setNodeRef} data-testid={`report-${id}`} style={{ minHeight: 56, padding: 6, borderRadius: 6, border: `1px dashed ${isOver ? "#1961d8" : "#d9d9d9"}`, background: isOver ? "#e6f4ff" : undefined }}>
        {count === 0 ? <Typography.Text type="secondary">{empty}</Typography.Text> : children}
      </div>
    </Card>
  );
}

function ItemTools({ index, count, onMove, onRemove, testId }: { index: number; count: number; onMove: (to: number) => void; onRemove: () => void; testId: string }) {
  const { t } = useLang();
  return (
    <Space size={0}>
      <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={index === 0} onClick={() => onMove(index - 1)} aria-label={t("design.report.up")} />
      <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={index === count - 1} onClick={() => onMove(index + 1)} aria-label={t("design.report.down")} />
      <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t("design.report.remove")} data-testid={`${testId}-remove`} />
    </Space>
  );
}

function Preview({ app, report, blocked, titles }: { app: string; report: ReportBody; blocked: boolean; titles: (column: string) => string }) {
  const { t } = useLang();
  const preview = usePreview(app, "reports", report.key, report, undefined, !blocked && Boolean(report.dataset?.form));
  const result = preview.data;
  const widget = (result?.widget ?? {}) as Widget;
  const rows = (result?.rows as unknown[][] | undefined) ?? [];
  const columns = (result?.columns as string[] | undefined) ?? [];
  return (
    <Card
      size="small"
      title={t("design.report.preview")}
      data-testid="report-preview"
      extra={<Button size="small" type="text" icon={<ReloadOutlined />} onClick={() => void preview.refetch()} aria-label={t("design.report.preview.refresh")} disabled={blocked} />}
    >
      {blocked ? (
        <Typography.Text type="secondary">{t("design.report.preview.blocked")}</Typography.Text>
      ) : preview.isError ? (
        <Alert type="error" showIcon message={problemText(preview.error)} data-testid="report-preview-error" />
      ) : !result ? (
        <Spin />
      ) : (
        <div style={{ opacity: preview.isFetching ? 0.6 : 1 }}>
          {rows.length === 0 ? (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("design.report.preview.empty")} />
          ) : widget.type === "kpi" ? (
            <Statistic title={titles(widget.y ?? columns[columns.length - 1])} value={(rows[0]?.[columns.indexOf(widget.y ?? columns[columns.length - 1])] as number | null) ?? "—"} suffix={widget.unit} />
          ) : isTabular(result) ? (
            <DataTable data={result} titles={titles} />
          ) : (
            <Chart data={result} onPick={() => undefined} />
          )}
          <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="report-preview-took">
            {t("design.report.preview.took", { ms: result.elapsed_ms as number, n: rows.length })}
          </Typography.Text>
        </div>
      )}
    </Card>
  );
}

export function ReportBuilder({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const report = body as unknown as ReportBody;
  const dataset: Dataset = report.dataset && typeof report.dataset === "object" ? report.dataset : {};
  const write = (next: ReportBody) => setBody(next as unknown as Body);
  const setDataset = (next: Dataset) => write(fitWidget({ ...report, dataset: next }));
  const form = dataset.form || undefined;
  const { fields } = useDatasetFields(app, form);
  const formFields = useFlowForm(app, form);
  const condition = useMemo(() => conditionFields(formFields.data ?? []), [formFields.data]);
  const overview = useOverview(app);
  const kpis = useKpis(app, lang);
  const [search, setSearch] = useState("");
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor));
  const dims = dataset.dimensions ?? [];
  const measures = dataset.measures ?? [];
  const widget: Widget = report.widget ?? { type: "table" };
  const fieldName = (key: string) => label(fields.find((f) => f.key === key)?.label, lang, key);
  const titles = (column: string) => {
    const measure = measures.find((m) => m.key === column);
    if (measure?.label) return label(measure.label, lang, column);
    const dim = dims.find((d) => d.key === column);
    if (dim) return dim.label ? label(dim.label, lang, column) : fieldName(dim.field);
    return column;
  };
  const onDragEnd = (event: DragEndEvent) => {
    const field = event.active.data.current?.field as Field | undefined;
    if (!field || !event.over) return;
    if (event.over.id === "dimensions") setDataset(addDimension(dataset, field));
    if (event.over.id === "measures") setDataset(addMeasure(dataset, field));
  };
  // dnd-kit's announcements are English and name ids: these name the field and the zone
  const dragged = (active: { data: { current?: Record<string, unknown> } }) => {
    const field = active.data.current?.field as Field | undefined;
    return field ? label(field.label, lang, field.key) : "";
  };
  const zone = (id: UniqueIdentifier) => t(id === "measures" ? "design.report.measures" : "design.report.dimensions");
  const announcements: Announcements = {
    onDragStart: ({ active }) => t("design.report.drag.start", { name: dragged(active) }),
    onDragOver: ({ active, over }) =>
      over ? t("design.report.drag.over", { name: dragged(active), target: zone(over.id) }) : t("design.report.drag.nowhere", { name: dragged(active) }),
    onDragEnd: ({ active, over }) =>
      over ? t("design.report.drag.end", { name: dragged(active), target: zone(over.id) }) : t("design.report.drag.cancel", { name: dragged(active) }),
    onDragCancel: ({ active }) => t("design.report.drag.cancel", { name: dragged(active) }),
  };
  const shown = fields.filter((f) => !search || label(f.label, lang, f.key).includes(search) || f.key.includes(search));
  const dimOptions = dims.map((d) => ({ value: d.key, label: titles(d.key) }));
  const measureOptions = measures.map((m) => ({ value: m.key ?? "", label: titles(m.key ?? "") }));
  const setWidget = (patch: Partial<Widget>) => {
    write({ ...report, widget: patched(widget, patch) as unknown as Widget });
  };
  const needs = dimensionsNeeded(widget.type);
  return (
    <DndContext sensors={sensors} onDragEnd={onDragEnd} accessibility={{ announcements }}>
      <Row gutter={12} data-testid="report-builder">
        <Col xs={24} lg={5}>
          <Card size="small" title={t("design.report.fields")} styles={{ body: { padding: 8 } }}>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 6 }}>
              {t("design.report.fields.help")}
            </Typography.Paragraph>
            <Input size="small" allowClear placeholder={t("design.report.fields.search")} value={search} onChange={(e) => setSearch(e.target.value)} aria-label={t("design.report.fields.search")} style={{ marginBottom: 6 }} />
            <Space direction="vertical" size={4} style={{ width: "100%", maxHeight: 640, overflow: "auto" }}>
              {shown.map((f) => (
                <FieldChip key={f.key} field={f} onDimension={() => setDataset(addDimension(dataset, f))} onMeasure={() => setDataset(addMeasure(dataset, f))} />
              ))}
            </Space>
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Space direction="vertical" size="middle" style={{ width: "100%" }}>
            <Card size="small" title={t("design.report.basics")}>
              <Form layout="vertical" size="small">
                <Form.Item label={t("design.report.name")}>
                  <TextI18n value={report.label} onChange={(next) => next && write({ ...report, label: next })} testId="report-label" required />
                </Form.Item>
                <Form.Item label={t("design.report.form")} style={{ marginBottom: 0 }}>
                  <PinnedProblems problems={problems} prefix="/dataset/form" testId="report-problems-form" />
                  <Select
                    value={form}
                    onChange={(next: string) => write({ ...report, dataset: { ...dataset, form: next } })}
                    options={(overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }))}
                    aria-label={t("design.report.form")}
                    showSearch
                    optionFilterProp="label"
                    data-testid="report-form"
                  />
                </Form.Item>
              </Form>
            </Card>
            <PinnedProblems problems={problems} prefix="/dataset/dimensions" testId="report-problems-dimensions" />
            <Zone id="dimensions" title={t("design.report.dimensions")} empty={t("design.report.dimensions.empty")} count={dims.length}>
              <Space direction="vertical" size={4} style={{ width: "100%" }}>
                {dims.map((d, i) => (
                  <div key={`${d.key}-${i}`} style={{ display: "flex", alignItems: "center", gap: 6, flexWrap: "wrap" }} data-testid={`report-dimension-${i}`}>
                    <Typography.Text strong>{fieldName(d.field)}</Typography.Text>
                    {isDate(fields.find((f) => f.key === d.field)) && (
                      <Select<Bucket | "">
                        size="small"
                        style={{ width: 90 }}
                        value={d.bucket ?? ""}
                        onChange={(bucket) => setDataset({ ...dataset, dimensions: dims.map((x, j) => (j === i ? (bucket ? { ...x, bucket } : { key: x.key, field: x.field, ...(x.label ? { label: x.label } : {}) }) : x)) })}
                        options={[{ value: "", label: t("design.report.bucket.none") }, ...BUCKETS.map((b) => ({ value: b, label: t(`design.report.bucket.${b}`) }))]}
                        aria-label={`${fieldName(d.field)} ${t("design.report.bucket")}`}
                        data-testid={`report-dimension-${i}-bucket`}
                      />
                    )}
                    <Typography.Text code style={{ fontSize: 12 }}>
                      {d.key}
                    </Typography.Text>
                    <span style={{ marginLeft: "auto" }}>
                      <ItemTools index={i} count={dims.length} onMove={(to) => setDataset({ ...dataset, dimensions: moveItem(dims, i, to) })} onRemove={() => write(removeDimension(report, i))} testId={`report-dimension-${i}`} />
                    </span>
                  </div>
                ))}
              </Space>
            </Zone>
            <PinnedProblems problems={problems} prefix="/dataset/measures" testId="report-problems-measures" />
            <Zone
              id="measures"
              title={t("design.report.measures")}
              empty={t("design.report.measures.empty")}
              count={measures.length}
              extra={
                <Button size="small" icon={<PlusOutlined />} onClick={() => setDataset(addMeasure(dataset))} data-testid="report-measure-count">
                  {t("design.report.measure.count")}
                </Button>
              }
            >
              <Space direction="vertical" size={6} style={{ width: "100%" }}>
                {measures.map((m, i) => (
                  <Card
                    key={i}
                    size="small"
                    type="inner"
                    title={
                      <Space size={6}>
                        <span>{titles(m.key ?? "")}</span>
                        <Input
                          size="small"
                          style={{ width: 130, fontFamily: "monospace" }}
                          value={m.key}
                          onChange={(e) => write(renameMeasure(report, i, e.target.value.trim()))}
                          aria-label={t("design.report.key")}
                          data-testid={`report-measure-${i}-key`}
                        />
                      </Space>
                    }
                    extra={<ItemTools index={i} count={measures.length} onMove={(to) => setDataset({ ...dataset, measures: moveItem(measures, i, to) })} onRemove={() => write(removeMeasure(report, i))} testId={`report-measure-${i}`} />}
                  >
                    <MeasureEditor
                      value={m}
                      onChange={(next) => setDataset({ ...dataset, measures: measures.map((x, j) => (j === i ? next : x)) })}
                      fields={fields}
                      condition={condition}
                      types={MEASURES}
                      kpis={kpis}
                      earlier={measures.slice(0, i).map((x) => x.key ?? "")}
                      testId={`report-measure-${i}`}
                      withLabel
                    />
                  </Card>
                ))}
              </Space>
            </Zone>
            <Card size="small" title={t("design.report.filter")}>
              <PinnedProblems problems={problems} prefix="/dataset/filter" testId="report-problems-filter" />
              {dataset.filter === undefined && (
                <Typography.Text type="secondary" style={{ display: "block", marginBottom: 4 }}>
                  {t("design.report.filter.none")}
                </Typography.Text>
              )}
              <ConditionBuilder value={dataset.filter} onChange={(filter) => setDataset(filter ? { ...dataset, filter } : Object.fromEntries(Object.entries(dataset).filter(([k]) => k !== "filter")))} fields={condition} testId="report-filter" />
            </Card>
            <Card size="small" title={t("design.report.widget")}>
              <PinnedProblems problems={problems} prefix="/widget" testId="report-problems-widget" />
              <Form layout="vertical" size="small">
                <Form.Item label={t("design.report.widget.type")}>
                  <Select<WidgetType>
                    style={{ width: 200 }}
                    value={widget.type}
                    onChange={(type) => write(switchWidget(report, type))}
                    options={WIDGETS.map((type) => ({ value: type, label: t(`design.report.widget.${type}`) }))}
                    aria-label={t("design.report.widget.type")}
                    data-testid="report-widget-type"
                  />
                </Form.Item>
                {dims.length < needs && <Alert type="info" showIcon style={{ marginBottom: 8 }} message={t("design.report.widget.needs", { type: t(`design.report.widget.${widget.type}`), n: needs })} />}
                <Space wrap size="middle" align="start">
                  {(["x", "series", "rows", "columns"] as const)
                    .filter((name) => widget[name] !== undefined || (name === "x" && !["pivot", "kpi", "before_after"].includes(widget.type)) || (name === "series" && widget.type === "stacked") || ((name === "rows" || name === "columns") && widget.type === "pivot"))
                    .map((name) => (
                      <Form.Item key={name} label={t(`design.report.widget.${name}`)} style={{ marginBottom: 8 }}>
                        <Select style={{ width: 150 }} allowClear value={widget[name]} onChange={(v: string | undefined) => setWidget({ [name]: v })} options={dimOptions} aria-label={t(`design.report.widget.${name}`)} data-testid={`report-widget-${name}`} />
                      </Form.Item>
                    ))}
                  {widget.type !== "before_after" && (
                    <Form.Item label={t("design.report.widget.y")} style={{ marginBottom: 8 }}>
                      <Select style={{ width: 150 }} allowClear value={widget.y} onChange={(v: string | undefined) => setWidget({ y: v })} options={measureOptions} aria-label={t("design.report.widget.y")} data-testid="report-widget-y" />
                    </Form.Item>
                  )}
                  {["bar", "pie", "donut", "pareto", "table"].includes(widget.type) && (
                    <Form.Item label={t("design.report.widget.top")} style={{ marginBottom: 8 }}>
                      <InputNumber min={1} value={widget.top} onChange={(n) => setWidget({ top: n ?? undefined })} aria-label={t("design.report.widget.top")} data-testid="report-widget-top" />
                    </Form.Item>
                  )}
                  {["bar", "table"].includes(widget.type) && (
                    <Form.Item label={t("design.report.widget.sort")} style={{ marginBottom: 8 }}>
                      <Select
                        style={{ width: 140 }}
                        value={widget.sort ?? ""}
                        onChange={(v: string) => setWidget({ sort: (v || undefined) as Widget["sort"] })}
                        options={["", "desc", "asc"].map((v) => ({ value: v, label: t(`design.report.widget.sort.${v || "none"}`) }))}
                        aria-label={t("design.report.widget.sort")}
                      />
                    </Form.Item>
                  )}
                  {widget.type === "before_after" &&
                    (["before", "after"] as const).map((name) => (
                      <Form.Item key={name} label={t(`design.report.widget.${name}`)} style={{ marginBottom: 8 }}>
                        <Select style={{ width: 130 }} value={widget[name]} onChange={(v: string) => setWidget({ [name]: v })} options={PERIODS.map((p) => ({ value: p, label: t(`period.${p}`, {}, p) }))} aria-label={t(`design.report.widget.${name}`)} />
                      </Form.Item>
                    ))}
                  <Form.Item label={t("design.report.widget.unit")} style={{ marginBottom: 8 }}>
                    <Input style={{ width: 80 }} maxLength={20} value={widget.unit ?? ""} onChange={(e) => setWidget({ unit: e.target.value || undefined })} aria-label={t("design.report.widget.unit")} data-testid="report-widget-unit" />
                  </Form.Item>
                </Space>
              </Form>
            </Card>
          </Space>
        </Col>
        <Col xs={24} lg={9}>
          <div style={{ position: "sticky", top: 8 }}>
            <Preview app={app} report={report} blocked={problems.length > 0} titles={titles} />
          </div>
        </Col>
      </Row>
    </DndContext>
  );
}
