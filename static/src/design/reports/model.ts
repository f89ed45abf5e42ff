// The report builder's and the KPI editor's model: measures (every aggregate the report engine
// has) read in words and switched from one type to another keeping what still applies; a
// dataset's dimensions and measures added from fields with sensible defaults, removed and moved;
// a widget switched between types with the dimensions and measure each needs. Edits change only
// what the user touched, so every report and KPI of a package loads and saves back as it was.

export type Lang = "zh-CN" | "en" | string;
export interface Text {
  "zh-CN": string;
  en?: string;
}
export type Logic = unknown;

export interface Measure {
  key?: string;
  type: string;
  label?: Text;
  filter?: Logic;
  field?: string;
  from?: string;
  to?: string;
  unit?: "seconds" | "minutes" | "hours" | "days";
  aggregate?: string;
  numerator?: Logic;
  denominator?: Logic;
  percent?: number;
  expression?: Logic;
  kpi?: string;
}

export interface Dimension {
  key: string;
  field: string;
  bucket?: Bucket;
  label?: Text;
}

export interface Dataset {
  form?: string;
  filter?: Logic;
  dimensions?: Dimension[];
  measures?: Measure[];
}

export interface Widget {
  type: WidgetType;
  x?: string;
  y?: string;
  series?: string;
  rows?: string;
  columns?: string;
  top?: number;
  sort?: "asc" | "desc";
  before?: string;
  after?: string;
  period_field?: string;
  format?: string;
  unit?: string;
}

export interface ReportBody {
  key: string;
  label?: Text;
  description?: Text;
  dataset: Dataset;
  widget?: Widget;
  [property: string]: unknown;
}

export interface KpiBody {
  key: string;
  label?: Text;
  description?: Text;
  form?: string;
  filter?: Logic;
  measure: Measure;
  period_field?: string;
  unit?: string;
  direction?: "higher" | "lower";
  decimals?: number;
  target?: number;
  [property: string]: unknown;
}

/** A field as the builders see it: its path (``reference.field`` for a referenced form's). */
export interface Field {
  key: string;
  type: string;
  label: Text;
  options?: { value: string; label?: Text }[];
}

export const BUCKETS = ["day", "week", "month", "quarter", "year"] as const;
export type Bucket = (typeof BUCKETS)[number];
export const WIDGETS = ["bar", "line", "area", "pie", "donut", "stacked", "table", "pivot", "pareto", "kpi", "before_after"] as const;
export type WidgetType = (typeof WIDGETS)[number];
/** Measures a KPI may be (a dataset adds KPIs and calculated measures). */
export const KPI_MEASURES = ["count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile", "duration", "ratio", "nps"] as const;
export const MEASURES = [...KPI_MEASURES, "kpi", "calculated"] as const;
export const DURATION_UNITS = ["minutes", "hours", "days", "seconds"] as const;
export const DURATION_AGGREGATES = ["avg", "median", "percentile", "min", "max", "sum"] as const;

const NUMBERS = ["number", "integer", "money", "formula"];
const DATES = ["date", "datetime"];
/** The fields every form has, as datasets name them. */
export const SYSTEM_FIELDS: Field[] = [
  { key: "_created_at", type: "datetime", label: { "zh-CN": "创建时间", en: "Created at" } },
  { key: "_updated_at", type: "datetime", label: { "zh-CN": "更新时间", en: "Updated at" } },
  { key: "_owner", type: "user", label: { "zh-CN": "创建人", en: "Owner" } },
  { key: "_group", type: "group", label: { "zh-CN": "所属部门", en: "Group" } },
];

const zh = (lang: Lang, chinese: string, english: string) => (lang === "en" ? english : chinese);

export const isNumber = (f: Field | undefined) => Boolean(f && NUMBERS.includes(f.type));
export const isDate = (f: Field | undefined) => Boolean(f && DATES.includes(f.type));

/** The fields a measure of ``type`` may take in ``field`` (``from``/``to`` for durations). */
export function fieldsFor(type: string, fields: readonly Field[]): Field[] {
  if (["sum", "avg", "median", "percentile", "nps"].includes(type)) return fields.filter(isNumber);
  if (type === "min" || type === "max") return fields.filter((f) => isNumber(f) || isDate(f));
  if (type === "duration") return fields.filter(isDate);
  if (type === "count_distinct") return fields.filter((f) => !["sub_table", "attachments", "rich_text"].includes(f.type));
  return [];
}

/** The properties each measure type keeps (besides key, type, label and filter). */
const KEEPS: Record<string, readonly (keyof Measure)[]> = {
  count: [],
  count_distinct: ["field"],
  sum: ["field"],
  avg: ["field"],
  min: ["field"],
  max: ["field"],
  median: ["field"],
  percentile: ["field", "percent"],
  nps: ["field"],
  duration: ["from", "to", "unit", "aggregate", "percent"],
  ratio: ["numerator", "denominator"],
  kpi: ["kpi"],
  calculated: ["expression"],
};

/** ``measure`` as a measure of ``type``: what still applies is kept (a field a new aggregate can
 * take, the filter), the rest dropped, and what the type needs given a default. */
export function switchMeasure(measure: Measure, type: string, fields: readonly Field[]): Measure {
  if (measure.type === type) return measure;
  const next: Measure = { type };
  for (const name of ["key", "label", "filter"] as const) if (measure[name] !== undefined) (next as unknown as Record<string, unknown>)[name] = measure[name];
  if (type === "calculated") delete next.filter;
  for (const name of KEEPS[type] ?? []) if (measure[name] !== undefined) (next as unknown as Record<string, unknown>)[name] = measure[name];
  const fit = fieldsFor(type, fields);
  if ((KEEPS[type] ?? []).includes("field") && !fit.some((f) => f.key === next.field)) {
    if (fit.length) next.field = fit[0].key;
    else delete next.field;
  }
  if (type === "percentile" && next.percent === undefined) next.percent = 90;
  if (type === "duration") {
    next.from ??= "_created_at";
    next.to ??= fit.find((f) => f.key !== next.from)?.key;
    if (next.to === undefined) delete next.to;
    next.unit ??= "hours";
  }
  return next;
}

function named(fields: readonly Field[], key: string | undefined, lang: Lang): string {
  if (!key) return "?";
  const found = fields.find((f) => f.key === key) ?? SYSTEM_FIELDS.find((f) => f.key === key);
  return `「${found ? (found.label[lang === "en" ? "en" : "zh-CN"] ?? found.label["zh-CN"]) : key}」`;
}

const AGGREGATE: Record<string, [string, string]> = {
  sum: ["合计", "sum"],
  avg: ["平均值", "average"],
  min: ["最小值", "minimum"],
  max: ["最大值", "maximum"],
  median: ["中位数", "median"],
};
const UNIT: Record<string, [string, string]> = { seconds: ["秒", "seconds"], minutes: ["分钟", "minutes"], hours: ["小时", "hours"], days: ["天", "days"] };

/** A measure in words: 记录数、「费用」合计、「首次响应分钟」的 P90、从「创建时间」到「解决时间」的平均时长（小时）… */
export function measureText(
  m: Measure,
  fields: readonly Field[],
  lang: Lang,
  condition: (logic: Logic) => string = () => "…",
  kpiName: (key: string) => string = (k) => k,
): string {
  const f = (key?: string) => named(fields, key, lang);
  let text: string;
  switch (m.type) {
    case "count":
      text = zh(lang, "记录数", "number of records");
      break;
    case "count_distinct":
      text = zh(lang, `${f(m.field)}的不同值个数`, `distinct ${f(m.field)}`);
      break;
    case "sum":
    case "avg":
    case "min":
    case "max":
    case "median":
      text = zh(lang, `${f(m.field)}${AGGREGATE[m.type][0]}`, `${AGGREGATE[m.type][1]} of ${f(m.field)}`);
      break;
    case "percentile":
      text = zh(lang, `${f(m.field)}的 P${m.percent ?? "?"}`, `p${m.percent ?? "?"} of ${f(m.field)}`);
      break;
    case "duration": {
      const how = m.aggregate === "percentile" ? `P${m.percent ?? "?"}` : AGGREGATE[m.aggregate ?? "avg"]?.[lang === "en" ? 1 : 0] ?? m.aggregate ?? "";
      const unit = UNIT[m.unit ?? "seconds"]?.[lang === "en" ? 1 : 0] ?? m.unit;
      text = zh(lang, `从${f(m.from)}到${f(m.to)}的时长${how}（${unit}）`, `${how} time from ${f(m.from)} to ${f(m.to)} (${unit})`);
      break;
    }
    case "ratio":
      text =
        m.denominator === undefined
          ? zh(lang, `「${condition(m.numerator)}」的记录占比`, `share of records where “${condition(m.numerator)}”`)
          : zh(lang, `「${condition(m.denominator)}」的记录中「${condition(m.numerator)}」的占比`, `share of “${condition(m.numerator)}” among “${condition(m.denominator)}”`);
      break;
    case "nps":
      text = zh(lang, `净推荐值 NPS（${f(m.field)}）`, `NPS of ${f(m.field)}`);
      break;
    case "kpi":
      text = zh(lang, `指标「${kpiName(m.kpi ?? "?")}」`, `KPI “${kpiName(m.kpi ?? "?")}”`);
      break;
    case "calculated":
      text = zh(lang, `计算：${formulaText(m.expression)}`, `calculated: ${formulaText(m.expression)}`);
      break;
    default:
      text = m.type;
  }
  if (m.filter !== undefined) text += zh(lang, `（仅「${condition(m.filter)}」）`, ` (only “${condition(m.filter)}”)`);
  return text;
}

/** A calculated measure's expression as arithmetic: ``{"/": [{"var": "a"}, 7]}`` → ``a / 7``. */
export function formulaText(node: Logic): string {
  if (node === null || typeof node !== "object") return JSON.stringify(node);
  const [op, args] = Object.entries(node as Record<string, unknown>)[0] ?? [];
  if (op === "var") return String(args);
  if (["+", "-", "*", "/"].includes(op ?? "") && Array.isArray(args)) return args.map((a) => (a !== null && typeof a === "object" && !("var" in a) ? `(${formulaText(a)})` : formulaText(a))).join(` ${op} `);
  return JSON.stringify(node);
}

/** A simple calculation, as the builder edits it: one measure, an operator, a measure or a number. */
export interface Calculation {
  left: string;
  op: "+" | "-" | "*" | "/";
  right: string | number;
}

export function calculationOf(expression: Logic): Calculation | null {
  if (expression === null || typeof expression !== "object" || Array.isArray(expression)) return null;
  const entries = Object.entries(expression as Record<string, unknown>);
  if (entries.length !== 1) return null;
  const [op, args] = entries[0];
  if (!["+", "-", "*", "/"].includes(op) || !Array.isArray(args) || args.length !== 2) return null;
  const varOf = (a: unknown) => (a !== null && typeof a === "object" && !Array.isArray(a) && Object.keys(a).length === 1 && typeof (a as { var?: unknown }).var === "string" ? (a as { var: string }).var : null);
  const left = varOf(args[0]);
  if (left === null) return null;
  const right = varOf(args[1]) ?? (typeof args[1] === "number" ? args[1] : null);
  if (right === null) return null;
  return { left, op: op as Calculation["op"], right };
}

export function expressionOf(c: Calculation): Logic {
  return { [c.op]: [{ var: c.left }, typeof c.right === "number" ? c.right : { var: c.right }] };
}

/** A key from ``base`` that none of ``taken`` has. */
export function freshKey(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const clean = base.replace(/[^a-z0-9_]/g, "_").replace(/^_+/, "").replace(/^(\d)/, "f$1") || "m";
  if (!used.has(clean)) return clean;
  let n = 2;
  while (used.has(`${clean}_${n}`)) n += 1;
  return `${clean}_${n}`;
}

const withoutKey = <T extends object>(value: T, name: keyof T): T => {
  const next = { ...value };
  delete next[name];
  return next;
};

/** A field dropped on the dimensions: grouped by it, dates by month. */
export function addDimension(dataset: Dataset, field: Field, at?: number): Dataset {
  const dims = [...(dataset.dimensions ?? [])];
  const dim: Dimension = { key: freshKey(field.key.replace(/\./g, "_"), dims.map((d) => d.key)), field: field.key };
  if (isDate(field)) dim.bucket = "month";
  dims.splice(at ?? dims.length, 0, dim);
  return { ...dataset, dimensions: dims };
}

/** A field dropped on the measures: numbers summed, anything else counted by distinct value;
 * without a field, the number of records. */
export function addMeasure(dataset: Dataset, field?: Field, at?: number): Dataset {
  const list = [...(dataset.measures ?? [])];
  const taken = list.map((m) => m.key ?? "");
  let measure: Measure;
  if (!field) measure = { key: freshKey("records", taken), type: "count" };
  else if (isNumber(field)) measure = { key: freshKey(field.key.replace(/\./g, "_"), taken), type: "sum", field: field.key };
  else measure = { key: freshKey(`${field.key.replace(/\./g, "_")}_distinct`, taken), type: "count_distinct", field: field.key };
  list.splice(at ?? list.length, 0, measure);
  return { ...dataset, measures: list };
}

export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return [...list];
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

/** The body with a dimension removed, and the widget no longer naming it. */
export function removeDimension(body: ReportBody, index: number): ReportBody {
  const dims = body.dataset.dimensions ?? [];
  const gone = dims[index]?.key;
  const dataset = { ...body.dataset, dimensions: dims.filter((_, i) => i !== index) };
  let widget = body.widget;
  if (widget) for (const name of ["x", "series", "rows", "columns"] as const) if (widget[name] === gone) widget = withoutKey(widget, name);
  return fitWidget({ ...body, dataset, widget });
}

/** The body with a measure removed, and the widget no longer naming it. */
export function removeMeasure(body: ReportBody, index: number): ReportBody {
  const measures = body.dataset.measures ?? [];
  const gone = measures[index]?.key;
  const dataset = { ...body.dataset, measures: measures.filter((_, i) => i !== index) };
  const widget = body.widget && body.widget.y === gone ? withoutKey(body.widget, "y") : body.widget;
  return fitWidget({ ...body, dataset, widget });
}

/** A measure renamed: the widget and calculated measures follow. */
export function renameMeasure(body: ReportBody, index: number, key: string): ReportBody {
  const measures = [...(body.dataset.measures ?? [])];
  const old = measures[index]?.key;
  const rename = (node: Logic): Logic => {
    if (Array.isArray(node)) return node.map(rename);
    if (node !== null && typeof node === "object") {
      const record = node as Record<string, unknown>;
      if (Object.keys(record).length === 1 && record.var === old) return { var: key };
      return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, rename(v)]));
    }
    return node;
  };
  const next = measures.map((m, i) => (i === index ? { ...m, key } : m.type === "calculated" && m.expression !== undefined ? { ...m, expression: rename(m.expression) } : m));
  const widget = body.widget && body.widget.y === old ? { ...body.widget, y: key } : body.widget;
  return { ...body, dataset: { ...body.dataset, measures: next }, widget };
}

/** The widget completed for its dataset: the dimensions and measure its type needs, where it
 * names none (what it names already is kept, even when wrong, so the check can say so). */
export function fitWidget(body: ReportBody): ReportBody {
  const widget = body.widget;
  if (!widget) return body;
  const dims = (body.dataset.dimensions ?? []).map((d) => d.key);
  const measures = (body.dataset.measures ?? []).map((m) => m.key ?? "");
  const next: Widget = { ...widget };
  const fill = (name: "x" | "series" | "rows" | "columns", pick: string | undefined) => {
    if (next[name] === undefined && pick !== undefined) next[name] = pick;
  };
  if (["bar", "line", "area", "pie", "donut", "pareto", "stacked"].includes(next.type)) fill("x", dims[0]);
  if (next.type === "stacked") fill("series", dims.find((d) => d !== next.x));
  if (next.type === "pivot") {
    fill("rows", dims[0]);
    fill("columns", dims.find((d) => d !== next.rows));
  }
  if (next.type !== "before_after" && next.y === undefined && measures[0]) next.y = measures[0];
  const same = Object.keys(next).length === Object.keys(widget).length && Object.entries(next).every(([k, v]) => widget[k as keyof Widget] === v);
  return same ? body : { ...body, widget: next };
}

/** The widget as another type: the axes that type does not use are dropped, the ones it needs
 * filled from the dataset. */
export function switchWidget(body: ReportBody, type: WidgetType): ReportBody {
  const old: Widget = body.widget ?? { type: "table" };
  if (old.type === type && body.widget) return body;
  const uses: Record<WidgetType, readonly (keyof Widget)[]> = {
    bar: ["x", "y", "top", "sort"],
    line: ["x", "y"],
    area: ["x", "y"],
    pie: ["x", "y", "top"],
    donut: ["x", "y", "top"],
    stacked: ["x", "series", "y"],
    table: ["x", "y", "top", "sort"],
    pivot: ["rows", "columns", "y"],
    pareto: ["x", "y", "top"],
    kpi: ["y"],
    before_after: ["before", "after", "period_field"],
  };
  const next: Widget = { type };
  for (const name of [...uses[type], "unit", "format"] as (keyof Widget)[]) if (old[name] !== undefined) (next as unknown as Record<string, unknown>)[name] = old[name];
  if (type === "before_after") {
    next.before ??= "last_month";
    next.after ??= "this_month";
  }
  return fitWidget({ ...body, widget: next });
}

/** Which dimensions a widget type needs, for the builder to say what is missing. */
export function dimensionsNeeded(type: WidgetType): number {
  return type === "stacked" || type === "pivot" ? 2 : type === "kpi" || type === "before_after" || type === "table" ? 0 : 1;
}

/** A KPI's value with its unit, as its card shows it. */
export function valueText(value: number | null | undefined, unit: string | undefined, decimals: number): string {
  if (value === null || value === undefined) return "—";
  return `${value.toFixed(decimals)}${unit ? ` ${unit}` : ""}`;
}
