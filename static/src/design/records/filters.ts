// Which stored records a what-if or a preview runs over, as the record list's filters say it:
// conditions of a field, an operator and a value, turned into ``field__op`` parameters.

export const OPS = ["eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "empty"] as const;
export type Op = (typeof OPS)[number];

export interface RecordFilter {
  field: string;
  op: Op;
  value: string | string[];
}

/** The operators that fit a field type (options compare by equality and membership; numbers and
 * dates by order; texts also by containment). */
export function opsFor(type: string | undefined): Op[] {
  if (type === "select" || type === "radio" || type === "user" || type === "group" || type === "reference") return ["eq", "ne", "in", "empty"];
  if (type === "checkbox") return ["eq", "empty"];
  if (["number", "integer", "money", "formula", "date", "datetime"].includes(type ?? "")) return ["eq", "ne", "gt", "gte", "lt", "lte", "empty"];
  return ["eq", "ne", "contains", "in", "empty"];
}

/** The filters as the API's ``filter`` object: ``{"status__in": ["new", "assigned"]}``;
 * conditions without a field or a value are left out. */
export function toQuery(filters: readonly RecordFilter[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of filters) {
    if (!f.field) continue;
    const name = f.op === "eq" ? f.field : `${f.field}__${f.op}`;
    const values = f.op === "empty" ? [String(f.value === "false" ? "false" : "true")] : (Array.isArray(f.value) ? f.value : [f.value]).filter((v) => v !== "");
    if (!values.length) continue;
    out[name] = [...(out[name] ?? []), ...(f.op === "in" ? [values.join(",")] : values)];
  }
  return out;
}

/** A condition switched to another operator: its value kept where it still fits. */
export function switchOp(filter: RecordFilter, op: Op): RecordFilter {
  if (op === "in") return { ...filter, op, value: Array.isArray(filter.value) ? filter.value : filter.value ? [filter.value] : [] };
  if (op === "empty") return { ...filter, op, value: "true" };
  return { ...filter, op, value: Array.isArray(filter.value) ? (filter.value[0] ?? "") : filter.op === "empty" ? "" : filter.value };
}
