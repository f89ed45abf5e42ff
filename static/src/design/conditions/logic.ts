// Conditions between JsonLogic and react-querybuilder's query: the rules a person edits — field,
// comparison, value (or another field) — in AND / OR groups, negated groups, and "any / every /
// no row" of a sub-table over its columns. A condition is read into a query and written back to
// the same JSON; one the builder cannot show (arithmetic, the platform's other operations) is
// kept as it is and read aloud, never rewritten. Pure: no React, no network.
import type { RuleGroupType, RuleType } from "react-querybuilder";

export type Text = { "zh-CN": string; en?: string };
export type Lang = "zh-CN" | "en";

export interface ConditionField {
  key: string;
  label: Text;
  type: string;
  options?: { value: string; label?: Text }[];
  /** A sub-table's columns: conditions over its rows. */
  columns?: ConditionField[];
}

/** How a rule or group was written, where JsonLogic allows two spellings of one meaning. */
export interface Spelling {
  /** The operand of ``!`` / ``!!`` was a one-item list (``{"!": [x]}``). */
  listed?: boolean;
  /** A group of one rule that was written as a group (``{"and": [x]}``). */
  wrapped?: boolean;
}

export type Rule = RuleType<string, string, unknown> & { meta?: Spelling };
export type Group = RuleGroupType<Rule> & { meta?: Spelling };

export const UNARY = new Set(["empty", "not_empty", "is_true", "is_false", "truthy", "changed", "overdue"]);
const COMPARE = new Set(["==", "!=", ">", ">=", "<", "<="]);
/** Dates relative to now: ``{op: [{"date_diff": [date, now, "days"]}, N]}``. */
const DAYS: Record<string, [string, "var_now" | "now_var"]> = {
  within_last_days: ["<=", "var_now"],
  more_than_days_ago: [">", "var_now"],
};
export const QUANTIFIERS = ["some", "all", "none"] as const;

const NUMERIC = new Set(["number", "integer", "money", "formula"]);
const DATES = new Set(["date", "datetime"]);
const CHOICE = new Set(["select", "radio"]);
const TEXTUAL = new Set(["text", "textarea", "rich_text", "email", "phone", "serial"]);

/** The comparisons that fit a field of ``type``, in the order the builder offers them. */
export function operatorsFor(type: string): string[] {
  if (type === "checkbox") return ["is_true", "is_false", "changed"];
  return [...operatorsOfType(type), "truthy"];
}

function operatorsOfType(type: string): string[] {
  if (CHOICE.has(type)) return ["==", "!=", "in", "not_in", "empty", "not_empty", "changed"];
  if (type === "multi_select") return ["contains", "empty", "not_empty", "changed"];
  if (NUMERIC.has(type)) return ["==", "!=", ">", ">=", "<", "<=", "empty", "not_empty", "changed"];
  if (DATES.has(type))
    return ["==", "!=", ">", "<", "within_last_days", "more_than_days_ago", "due_within_days", "overdue", "empty", "not_empty", "changed"];
  if (TEXTUAL.has(type)) return ["==", "!=", "contains", "empty", "not_empty", "changed"];
  return ["==", "!=", "empty", "not_empty", "changed"];
}

const WORDS: Record<string, [string, string]> = {
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
  truthy: ["有值", "is set"],
  changed: ["本次被修改", "was changed now"],
  within_last_days: ["在过去几天内（天）", "within the last (days)"],
  more_than_days_ago: ["早于几天前（天）", "more than (days) ago"],
  due_within_days: ["在几天内到期（天）", "falls within the next (days)"],
  overdue: ["已过期", "is past"],
};

export function operatorName(op: string, lang: Lang): string {
  return WORDS[op]?.[lang === "en" ? 1 : 0] ?? op;
}

// --- reading JsonLogic -----------------------------------------------------------------------

type Json = unknown;

function only(node: Json): [string, Json] | null {
  if (!node || typeof node !== "object" || Array.isArray(node)) return null;
  const entries = Object.entries(node as Record<string, Json>);
  return entries.length === 1 ? entries[0] : null;
}

function varOf(node: Json): string | null {
  const entry = only(node);
  return entry && entry[0] === "var" && typeof entry[1] === "string" ? entry[1] : null;
}

const isNow = (node: Json) => {
  const entry = only(node);
  return entry !== null && entry[0] === "now" && Array.isArray(entry[1]) && entry[1].length === 0;
};

const literal = (v: Json) => v === null || ["string", "number", "boolean"].includes(typeof v);

/** The rule a node is, or ``null``. ``types`` gives a field's type by key. */
function ruleOf(node: Json, types: Map<string, string>, columnsOf: (table: string) => Map<string, string> | null): Rule | null {
  const bare = varOf(node);
  if (bare !== null) return { field: bare, operator: types.get(bare) === "checkbox" ? "is_true" : "truthy", value: "" };
  const entry = only(node);
  if (!entry) return null;
  const [op, args] = entry;
  if (op === "!" || op === "!!") {
    const listed = Array.isArray(args);
    if (listed && args.length !== 1) return null;
    const inner = listed ? args[0] : args;
    const name = varOf(inner);
    const meta = listed ? { meta: { listed: true } } : {};
    if (name !== null) {
      if (types.get(name) === "checkbox" && op === "!") return { field: name, operator: "is_false", value: "", ...meta };
      return { field: name, operator: op === "!" ? "empty" : "not_empty", value: "", ...meta };
    }
    if (op === "!" && !listed) {
      const negated = ruleOf(inner, types, columnsOf);
      if (negated?.operator === "in") return { ...negated, operator: "not_in" };
    }
    return null;
  }
  if (op === "changed" && Array.isArray(args) && args.length === 1 && typeof args[0] === "string") {
    return { field: args[0], operator: "changed", value: "" };
  }
  if (!Array.isArray(args)) return null;
  if ((QUANTIFIERS as readonly string[]).includes(op) && args.length === 2) {
    const table = varOf(args[0]);
    const columns = table === null ? null : columnsOf(table);
    if (table === null || columns === null) return null;
    const inner = groupOf(args[1], columns, () => null);
    return inner ? { field: table, operator: "==", value: inner, match: { mode: op as "some" | "all" | "none" } } : null;
  }
  if (op === "<=" && args.length === 3 && args[0] === 0 && typeof args[2] === "number") {
    // 0 ≤ days from now to the date ≤ N: due within N days (and not past)
    const diff = only(args[1]);
    if (diff && diff[0] === "date_diff" && Array.isArray(diff[1]) && diff[1].length === 3 && isNow(diff[1][0]) && diff[1][2] === "days") {
      const field = varOf(diff[1][1]);
      if (field !== null) return { field, operator: "due_within_days", value: args[2] };
    }
    return null;
  }
  if (args.length !== 2) return null;
  if (COMPARE.has(op)) {
    const name = varOf(args[0]);
    const diff = only(args[0]);
    if (name !== null) {
      const other = varOf(args[1]);
      if (other !== null) return { field: name, operator: op, value: other, valueSource: "field" };
      return literal(args[1]) ? { field: name, operator: op, value: args[1] } : null;
    }
    if (diff && diff[0] === "date_diff" && Array.isArray(diff[1]) && diff[1].length === 3 && diff[1][2] === "days" && typeof args[1] === "number") {
      const [a, b] = diff[1];
      for (const [name, [compare, order]] of Object.entries(DAYS)) {
        if (compare !== op) continue;
        const field = order === "var_now" ? (isNow(b) ? varOf(a) : null) : isNow(a) ? varOf(b) : null;
        if (field !== null) return { field, operator: name, value: args[1] };
      }
    }
    if (op === ">" && isNow(args[0])) {
      const field = varOf(args[1]);
      if (field !== null) return { field, operator: "overdue", value: "" };
    }
    return null;
  }
  if (op === "in") {
    const name = varOf(args[0]);
    if (name !== null && Array.isArray(args[1]) && args[1].every(literal)) return { field: name, operator: "in", value: args[1] };
    const haystack = varOf(args[1]);
    if (haystack !== null && literal(args[0])) return { field: haystack, operator: "contains", value: args[0] };
  }
  return null;
}

/** ``{"and": …}``, ``{"or": …}`` or the negation of one. */
function isGroupNode(node: Json): boolean {
  const entry = only(node);
  if (!entry) return false;
  if (entry[0] === "and" || entry[0] === "or") return true;
  if (entry[0] !== "!" || Array.isArray(entry[1])) return false;
  const inner = only(entry[1]);
  return inner !== null && (inner[0] === "and" || inner[0] === "or");
}

function groupOf(node: Json, types: Map<string, string>, columnsOf: (table: string) => Map<string, string> | null): Group | null {
  const entry = only(node);
  if (entry && (entry[0] === "and" || entry[0] === "or") && Array.isArray(entry[1]) && entry[1].length > 0) {
    const rules: (Rule | Group)[] = [];
    for (const child of entry[1]) {
      const item = isGroupNode(child) ? groupOf(child, types, columnsOf) : ruleOf(child, types, columnsOf);
      if (!item) return null;
      rules.push(item);
    }
    return { combinator: entry[0], rules, ...(entry[1].length === 1 ? { meta: { wrapped: true } } : {}) };
  }
  if (entry && isGroupNode(node)) {
    const group = groupOf(entry[1], types, columnsOf);
    return group ? { ...group, not: true } : null;
  }
  const rule = ruleOf(node, types, columnsOf);
  return rule ? { combinator: "and", rules: [rule] } : null;
}

function typesOf(fields: ConditionField[]): Map<string, string> {
  return new Map(fields.map((f) => [f.key, f.type]));
}

/** The query of a condition: an empty query for no condition, ``null`` when the builder cannot
 * show it. */
export function toQuery(logic: Json, fields: ConditionField[]): Group | null {
  if (logic === undefined || logic === null) return { combinator: "and", rules: [] };
  const columnsOf = (table: string) => {
    const found = fields.find((f) => f.key === table);
    return found?.columns ? typesOf(found.columns) : null;
  };
  return groupOf(logic, typesOf(fields), columnsOf);
}

// --- writing JsonLogic -----------------------------------------------------------------------

function numberish(value: unknown, type: string | undefined): unknown {
  if (type && NUMERIC.has(type) && typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return value;
}

const isGroup = (value: unknown): value is Group => Boolean(value && typeof value === "object" && Array.isArray((value as Group).rules));

function ruleLogic(rule: Rule, fields: ConditionField[]): Json {
  const field = fields.find((f) => f.key === rule.field);
  const v = { var: rule.field };
  const wrap = (op: string) => ({ [op]: rule.meta?.listed ? [v] : v });
  if (rule.match && (QUANTIFIERS as readonly string[]).includes(rule.match.mode)) {
    const inner = isGroup(rule.value) ? fromQuery(rule.value, field?.columns ?? []) : undefined;
    return { [rule.match.mode]: [v, inner ?? true] };
  }
  switch (rule.operator) {
    case "truthy":
    case "is_true":
      return v;
    case "is_false":
    case "empty":
      return wrap("!");
    case "not_empty":
      return wrap("!!");
    case "changed":
      return { changed: [rule.field] };
    case "overdue":
      return { ">": [{ now: [] }, v] };
    case "in":
      return { in: [v, Array.isArray(rule.value) ? rule.value : []] };
    case "not_in":
      return { "!": { in: [v, Array.isArray(rule.value) ? rule.value : []] } };
    case "contains":
      return { in: [rule.value ?? "", v] };
  }
  if (rule.operator === "due_within_days") {
    const days = numberish(rule.value, "number");
    return { "<=": [0, { date_diff: [{ now: [] }, v, "days"] }, typeof days === "number" ? days : 0] };
  }
  if (rule.operator in DAYS) {
    const [compare, order] = DAYS[rule.operator];
    const days = numberish(rule.value, "number");
    const sides = order === "var_now" ? [v, { now: [] }] : [{ now: [] }, v];
    return { [compare]: [{ date_diff: [...sides, "days"] }, typeof days === "number" ? days : 0] };
  }
  if (rule.valueSource === "field") return { [rule.operator]: [v, { var: String(rule.value ?? "") }] };
  const value = numberish(rule.value, field?.type);
  return { [rule.operator]: [v, value === undefined ? null : value] };
}

/** The JsonLogic of a query (``undefined`` for an empty one: no condition). */
export function fromQuery(group: Group, fields: ConditionField[]): Json {
  const parts = group.rules
    .map((item) => ("rules" in item ? fromQuery(item as Group, fields) : (item as Rule).field ? ruleLogic(item as Rule, fields) : undefined))
    .filter((part) => part !== undefined);
  if (!parts.length) return undefined;
  const combined = parts.length === 1 && !group.meta?.wrapped && !group.not ? parts[0] : { [group.combinator]: parts };
  return group.not ? { "!": combined } : combined;
}

// --- reading aloud ---------------------------------------------------------------------------

const text = (t: Text | undefined, lang: Lang, fallback: string) => (t ? (lang === "en" ? t.en || t["zh-CN"] : t["zh-CN"]) : fallback);

/** A value as people read it: an option by its label, a list joined. */
export function valueName(field: ConditionField | undefined, value: unknown, lang: Lang): string {
  const one = (v: unknown) => {
    const option = field?.options?.find((o) => o.value === v);
    if (option) return text(option.label, lang, String(v));
    if (typeof v === "boolean") return v ? (lang === "en" ? "yes" : "是") : lang === "en" ? "no" : "否";
    return typeof v === "string" ? v : JSON.stringify(v);
  };
  return Array.isArray(value) ? value.map(one).join(lang === "en" ? ", " : "、") : one(value);
}

const QUANTIFIER_WORDS: Record<string, [string, string]> = {
  some: ["中任一行满足", "has a row where"],
  all: ["中每一行都满足", "has every row where"],
  none: ["中没有一行满足", "has no row where"],
};

function readGroup(group: Group, fields: ConditionField[], lang: Lang, nested: boolean): string {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const name = (key: string) => text(byKey.get(key)?.label, lang, key);
  const joiner = group.combinator === "and" ? (lang === "en" ? " and " : " 且 ") : lang === "en" ? " or " : " 或 ";
  const parts = group.rules.map((item) => {
    if ("rules" in item) return readGroup(item as Group, fields, lang, true);
    const rule = item as Rule;
    const field = byKey.get(rule.field);
    if (rule.match) {
      const [zh, en] = QUANTIFIER_WORDS[rule.match.mode] ?? [rule.match.mode, rule.match.mode];
      const inner = isGroup(rule.value) ? readGroup(rule.value, field?.columns ?? [], lang, false) : "";
      return lang === "en" ? `${name(rule.field)} ${en} ${inner}` : `${name(rule.field)}${zh}（${inner}）`;
    }
    const words = operatorName(rule.operator, lang);
    if (UNARY.has(rule.operator)) return `${name(rule.field)} ${words}`;
    if (rule.operator in DAYS || rule.operator === "due_within_days") {
      const days = String(rule.value);
      const phrases: Record<string, [string, string]> = {
        within_last_days: [`在过去 ${days} 天内`, `is within the last ${days} days`],
        more_than_days_ago: [`早于 ${days} 天前`, `is more than ${days} days ago`],
        due_within_days: [`在 ${days} 天内到期`, `falls within the next ${days} days`],
      };
      return `${name(rule.field)} ${phrases[rule.operator][lang === "en" ? 1 : 0]}`;
    }
    const value = rule.valueSource === "field" ? name(String(rule.value)) : valueName(field, rule.value, lang);
    return `${name(rule.field)} ${words} ${value}`;
  });
  const body = parts.join(joiner);
  const grouped = nested && parts.length > 1 ? `（${body}）` : body;
  if (!group.not) return grouped;
  return lang === "en" ? `not (${body})` : `并非（${body}）`;
}

/** The condition in plain words: 「紧急程度 是 P1 且 客户等级 是 VIP」. */
export function reading(logic: Json, fields: ConditionField[], lang: Lang = "zh-CN"): string {
  if (logic === undefined || logic === null) return lang === "en" ? "always" : "始终";
  const query = toQuery(logic, fields);
  if (!query) return lang === "en" ? `custom condition ${JSON.stringify(logic)}` : `自定义条件 ${JSON.stringify(logic)}`;
  return readGroup(query, fields, lang, false);
}

/** Fields the condition names that the list lacks (``$ref.customer.tier``, ``$old.assignee``),
 * so the builder can show them by their key. */
export function namedFields(group: Group, fields: ConditionField[]): ConditionField[] {
  const known = new Set(fields.map((f) => f.key));
  const extra = new Map<string, ConditionField>();
  const visit = (g: Group) => {
    for (const item of g.rules) {
      if ("rules" in item) visit(item as Group);
      else {
        const rule = item as Rule;
        for (const key of [rule.field, rule.valueSource === "field" ? String(rule.value) : ""]) {
          if (key && !known.has(key) && !extra.has(key)) extra.set(key, { key, label: { "zh-CN": key }, type: "text" });
        }
      }
    }
  };
  visit(group);
  return [...fields, ...extra.values()];
}
