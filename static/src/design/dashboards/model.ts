// The dashboard designer's model: widgets on a grid (the grid library's layout read from and
// written back to the widgets, a widget without a place put below the others), widgets added from
// the app's KPIs and reports with a size that fits their kind, global filters added, changed and
// removed. Edits change only what the user touched, so a dashboard loads and saves back as it was.

export interface Text {
  "zh-CN": string;
  en?: string;
}

export interface Place {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Widget {
  id: string;
  kpi?: string;
  report?: string;
  title?: Text;
  layout?: Place;
}

export interface Filter {
  key: string;
  type: "date_range" | "select";
  field: string;
  label?: Text;
  default?: string | string[];
  /** The widgets it applies to; every widget whose form has the field when absent. */
  widgets?: string[];
}

export interface DashboardBody {
  key: string;
  label?: Text;
  description?: Text;
  columns?: number;
  filters?: Filter[];
  widgets?: Widget[];
  [property: string]: unknown;
}

/** One place on the grid as the grid library takes it. */
export interface GridItem extends Place {
  i: string;
}

export const COLUMNS = 24;
export const columnsOf = (body: DashboardBody) => body.columns ?? COLUMNS;

/** Where a new widget of each kind starts, in a 24-column grid (scaled to others). */
const SIZE = { kpi: { w: 4, h: 3 }, report: { w: 12, h: 6 } } as const;

/** The first row below every placed widget. */
export function bottom(body: DashboardBody): number {
  return Math.max(0, ...(body.widgets ?? []).map((w) => (w.layout ? w.layout.y + w.layout.h : 0)));
}

/** The grid's layout: each widget's place; one without a place goes below the others. */
export function toLayout(body: DashboardBody): GridItem[] {
  let y = bottom(body);
  const cols = columnsOf(body);
  return (body.widgets ?? []).map((w) => {
    if (w.layout) return { i: w.id, ...w.layout };
    const size = SIZE[w.kpi ? "kpi" : "report"];
    const item = { i: w.id, x: 0, y, w: Math.min(cols, Math.round((size.w * cols) / COLUMNS) || 1), h: size.h };
    y += size.h;
    return item;
  });
}

const samePlace = (a: Place | undefined, b: Place) => a !== undefined && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;

/** The body with the grid's layout written back; the same body when nothing moved (a widget
 * without a place keeps none while it stays where the grid put it). */
export function fromLayout(body: DashboardBody, layout: readonly GridItem[]): DashboardBody {
  const placed = new Map(layout.map((item) => [item.i, { x: item.x, y: item.y, w: item.w, h: item.h }]));
  const implied = new Map(toLayout(body).map((item) => [item.i, item]));
  let changed = false;
  const widgets = (body.widgets ?? []).map((w) => {
    const place = placed.get(w.id);
    if (!place || samePlace(w.layout, place)) return w;
    if (!w.layout && samePlace(implied.get(w.id), place)) return w;
    changed = true;
    return { ...w, layout: place };
  });
  return changed ? { ...body, widgets } : body;
}

/** An id from ``base`` that no widget has. */
export function freshId(body: DashboardBody, base: string): string {
  const taken = new Set((body.widgets ?? []).map((w) => w.id));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}_${n}`)) n += 1;
  return `${base}_${n}`;
}

/** A KPI card or a report added, at ``at`` (a drop on the grid) or below the others. */
export function addWidget(body: DashboardBody, kind: "kpi" | "report", key: string, at?: { x: number; y: number }): DashboardBody {
  const cols = columnsOf(body);
  const size = SIZE[kind];
  const w = Math.min(cols, Math.max(1, Math.round((size.w * cols) / COLUMNS)));
  const x = Math.min(Math.max(0, at?.x ?? 0), cols - w);
  const widget: Widget = { id: freshId(body, key), [kind]: key, layout: { x, y: at?.y ?? bottom(body), w, h: size.h } };
  return { ...body, widgets: [...(body.widgets ?? []), widget] };
}

/** A widget removed, and from the filters bound to it (a filter bound to it alone applies to
 * every widget again). */
export function removeWidget(body: DashboardBody, id: string): DashboardBody {
  const next: DashboardBody = { ...body, widgets: (body.widgets ?? []).filter((w) => w.id !== id) };
  if (body.filters?.some((f) => f.widgets?.includes(id)))
    next.filters = body.filters.map((f) => {
      if (!f.widgets?.includes(id)) return f;
      const rest = f.widgets.filter((w) => w !== id);
      const copy: Filter = { ...f, widgets: rest };
      if (!rest.length) delete copy.widgets;
      return copy;
    });
  return next;
}

/** Which widgets a filter applies to: those chosen, or (none chosen) every one. */
export function bindFilter(body: DashboardBody, index: number, widgets: string[]): DashboardBody {
  return patchFilter(body, index, { widgets: widgets.length ? widgets : undefined });
}

/** A widget's title set, or cleared (it then shows its KPI's or report's name). */
export function setTitle(body: DashboardBody, id: string, title: Text | undefined): DashboardBody {
  return {
    ...body,
    widgets: (body.widgets ?? []).map((w) => {
      if (w.id !== id) return w;
      const next = { ...w, title };
      if (title === undefined) delete next.title;
      return next;
    }),
  };
}

/** A new filter: a date range on the creation time (this month by default), or a choice. */
export function addFilter(body: DashboardBody, type: Filter["type"], field: string): DashboardBody {
  const filters = body.filters ?? [];
  const taken = new Set(filters.map((f) => f.key));
  const base = type === "date_range" ? "period" : field.replace(/[^a-z0-9_]/g, "_").replace(/^_+/, "") || "choice";
  let key = base;
  for (let n = 2; taken.has(key); n += 1) key = `${base}_${n}`;
  const filter: Filter = type === "date_range" ? { key, type, field, default: "this_month" } : { key, type, field };
  return { ...body, filters: [...filters, filter] };
}

/** A filter changed (an ``undefined`` drops the property); choosing another field of a date
 * range keeps its default. */
export function patchFilter(body: DashboardBody, index: number, patch: Partial<Filter>): DashboardBody {
  const filters = [...(body.filters ?? [])];
  const next: Record<string, unknown> = { ...filters[index], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
  filters[index] = next as unknown as Filter;
  return { ...body, filters };
}

/** A filter removed; none left drops the list. */
export function removeFilter(body: DashboardBody, index: number): DashboardBody {
  const filters = (body.filters ?? []).filter((_, i) => i !== index);
  if (filters.length) return { ...body, filters };
  const next = { ...body };
  delete next.filters;
  return next;
}

/** The widgets in reading order (top to bottom, left to right): how a phone stacks them. */
export function readingOrder(body: DashboardBody): Widget[] {
  const places = new Map(toLayout(body).map((item) => [item.i, item]));
  return [...(body.widgets ?? [])].sort((a, b) => {
    const p = places.get(a.id)!;
    const q = places.get(b.id)!;
    return p.y - q.y || p.x - q.x;
  });
}

/** What the preview needs to be run again for: everything but where the widgets are. */
export function withoutPlaces(body: DashboardBody): DashboardBody {
  return { ...body, widgets: (body.widgets ?? []).map((w) => Object.fromEntries(Object.entries(w).filter(([k]) => k !== "layout")) as unknown as Widget) };
}
