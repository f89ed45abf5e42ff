// A form's visible-when / required-when conditions as rows people edit — field, operator, value,
// joined by 且 (all) or 或 (any) — read from and written back to JsonLogic unchanged. A condition
// the rows cannot show (nested groups, arithmetic, the platform's extensions) is kept as it is and
// read aloud, never rewritten.

export type Text = { "zh-CN": string; en?: string };

export interface ConditionField {
  key: string;
  label: Text;
  type: string;
  options?: { value: string; label?: Text }[];
}

export type Operator =
  | "=="
  | "!="
  | ">"
  | ">="
  | "<"
  | "<="
  | "in"
  | "not_in"
  | "contains"
  | "empty"
  | "not_empty"
  | "is_true"
  | "is_false";

export interface Row {
  field: string;
  op: Operator;
  value?: unknown;
}

export interface Group {
  combinator: "and" | "or";
  rows: Row[];
  /** A single row written inside ``{"and": [...]}`` stays wrapped. */
  wrapped?: boolean;
}

const COMPARE = ["==", "!=", ">", ">=", "<", "<="] as const;
const NUMERIC = new Set(["number", "integer", "money", "date", "datetime", "formula"]);
const CHOICE = new Set(["select", "radio"]);
const TEXTUAL = new Set(["text", "textarea", "rich_text", "email", "phone", "serial"]);

/** The operators that fit a field of ``type``. */
export function operatorsFor(type: string): Operator[] {
  if (type === "checkbox") return ["is_true", "is_false"];
  if (CHOICE.has(type)) return ["==", "!=", "in", "not_in", "empty", "not_empty"];
  if (type === "multi_select") return ["contains", "empty", "not_empty"];
  if (NUMERIC.has(type)) return ["==", "!=", ">", ">=", "<", "<=", "empty", "not_empty"];
  if (TEXTUAL.has(type)) return ["==", "!=", "contains", "empty", "not_empty"];
  return ["==", "!=", "empty", "not_empty"];
}

export const NEEDS_VALUE = (op: Operator) => !["empty", "not_empty", "is_true", "is_false"].includes(op);

function varOf(node: unknown): string | null {
  if (node && typeof node === "object" && !Array.isArray(node)) {
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "var" && typeof entries[0][1] === "string") return entries[0][1];
  }
  return null;
}

function only(node: unknown): [string, unknown] | null {
  if (!node || typeof node !== "object" || Array.isArray(node)) return null;
  const entries = Object.entries(node as Record<string, unknown>);
  return entries.length === 1 ? entries[0] : null;
}

const literal = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);

function rowOf(node: unknown, fields: Map<string, ConditionField>): Row | null {
  const bare = varOf(node);
  if (bare !== null && fields.get(bare)?.type === "checkbox") return { field: bare, op: "is_true" };
  const entry = only(node);
  if (!entry) return null;
  const [op, args] = entry;
  if (op === "!" || op === "!!") {
    const inner = Array.isArray(args) && args.length === 1 ? args[0] : args;
    const name = varOf(inner);
    if (name !== null) {
      if (fields.get(name)?.type === "checkbox") return op === "!" ? { field: name, op: "is_false" } : null;
      return { field: name, op: op === "!" ? "empty" : "not_empty" };
    }
    if (op === "!") {
      const negated = rowOf(inner, fields);
      if (negated?.op === "in" && !Array.isArray(args)) return { ...negated, op: "not_in" };
    }
    return null;
  }
  if (!Array.isArray(args) || args.length !== 2) return null;
  if ((COMPARE as readonly string[]).includes(op)) {
    const name = varOf(args[0]);
    if (name !== null && literal(args[1])) return { field: name, op: op as Operator, value: args[1] };
    return null;
  }
  if (op === "in") {
    const name = varOf(args[0]);
    if (name !== null && Array.isArray(args[1]) && args[1].every(literal)) return { field: name, op: "in", value: args[1] };
    const haystack = varOf(args[1]);
    if (haystack !== null && literal(args[0])) return { field: haystack, op: "contains", value: args[0] };
  }
  return null;
}

/** The rows of a condition (``undefined``: no condition → no rows), or ``null`` when rows cannot
 * show it. */
export function parse(logic: unknown, fields: ConditionField[]): Group | null {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  if (logic === undefined) return { combinator: "and", rows: [] };
  const entry = only(logic);
  if (entry && (entry[0] === "and" || entry[0] === "or") && Array.isArray(entry[1])) {
    const rows = entry[1].map((n) => rowOf(n, byKey));
    if (rows.every((r): r is Row => r !== null) && rows.length > 0) {
      return { combinator: entry[0] as "and" | "or", rows, wrapped: rows.length === 1 };
    }
    return null;
  }
  const row = rowOf(logic, byKey);
  return row ? { combinator: "and", rows: [row] } : null;
}

function logicOf(row: Row, fields: Map<string, ConditionField>): unknown {
  const v = { var: row.field };
  switch (row.op) {
    case "is_true":
      return v;
    case "is_false":
    case "empty":
      return { "!": v };
    case "not_empty":
      return { "!!": v };
    case "in":
      return { in: [v, Array.isArray(row.value) ? row.value : []] };
    case "not_in":
      return { "!": { in: [v, Array.isArray(row.value) ? row.value : []] } };
    case "contains":
      return { in: [row.value ?? "", v] };
    default: {
      const type = fields.get(row.field)?.type ?? "";
      const value = NUMERIC.has(type) && !["date", "datetime"].includes(type) && typeof row.value === "string" && row.value !== "" ? Number(row.value) : row.value;
      return { [row.op]: [v, value ?? null] };
    }
  }
}

/** The JsonLogic of rows (``undefined`` when there are none: no condition). */
export function build(group: Group, fields: ConditionField[]): unknown {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const rows = group.rows.filter((r) => r.field);
  if (!rows.length) return undefined;
  if (rows.length === 1 && !group.wrapped) return logicOf(rows[0], byKey);
  return { [group.combinator]: rows.map((r) => logicOf(r, byKey)) };
}

const WORDS: Record<Operator, [string, string]> = {
  "==": ["是", "is"],
  "!=": ["不是", "is not"],
  ">": ["大于", "is greater than"],
  ">=": ["不小于", "is at least"],
  "<": ["小于", "is less than"],
  "<=": ["不大于", "is at most"],
  in: ["是以下之一", "is one of"],
  not_in: ["不是以下任何一个", "is none of"],
  contains: ["包含", "contains"],
  empty: ["为空", "is empty"],
  not_empty: ["不为空", "is not empty"],
  is_true: ["为是", "is on"],
  is_false: ["为否", "is off"],
};

export function operatorName(op: Operator, lang: "zh-CN" | "en"): string {
  return WORDS[op][lang === "en" ? 1 : 0];
}

const text = (t: Text | undefined, lang: string, fallback: string) => (t ? (lang === "en" ? t.en || t["zh-CN"] : t["zh-CN"]) : fallback);

function valueName(field: ConditionField | undefined, value: unknown, lang: string): string {
  const one = (v: unknown) => {
    const option = field?.options?.find((o) => o.value === v);
    return option ? text(option.label, lang, String(v)) : typeof v === "string" ? v : JSON.stringify(v);
  };
  return Array.isArray(value) ? value.map(one).join(lang === "en" ? ", " : "、") : one(value);
}

/** The condition in plain words: 「紧急程度 是 P1 且 客户等级 是 VIP」. */
export function reading(logic: unknown, fields: ConditionField[], lang: "zh-CN" | "en" = "zh-CN"): string {
  if (logic === undefined) return lang === "en" ? "always" : "始终";
  const group = parse(logic, fields);
  if (!group) return lang === "en" ? `custom condition ${JSON.stringify(logic)}` : `自定义条件 ${JSON.stringify(logic)}`;
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const joiner = group.combinator === "and" ? (lang === "en" ? " and " : " 且 ") : lang === "en" ? " or " : " 或 ";
  return group.rows
    .map((row) => {
      const field = byKey.get(row.field);
      const name = text(field?.label, lang, row.field);
      const words = operatorName(row.op, lang);
      return NEEDS_VALUE(row.op) ? `${name} ${words} ${valueName(field, row.value, lang)}` : `${name} ${words}`;
    })
    .join(joiner);
}
