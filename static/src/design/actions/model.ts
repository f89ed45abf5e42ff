// The actions rules and automation nodes run — set fields, assign, notify, create a record, start
// a flow, call a webhook, comment, escalate, send a survey — as the editors show them: each value a fixed value,
// another field's value, the time now, a number added to a field, a text with fields in it, or (for
// what none of these says) a formula; each recipient a kind and what it names; each action read
// in words. Reading and writing back leaves every definition as it was.
import type { Text } from "../flows/model/types";

export type Lang = "zh-CN" | "en";
export type Json = unknown;

export const ACTION_TYPES = ["set_fields", "assign", "notify", "create_record", "start_flow", "webhook", "comment", "escalate", "send_survey"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface Action {
  type: ActionType | string;
  [property: string]: unknown;
}

export const ACTION_LABELS: Record<ActionType, [string, string]> = {
  set_fields: ["设置字段", "Set fields"],
  assign: ["分派处理人", "Assign"],
  notify: ["发送通知", "Notify"],
  create_record: ["新建记录", "Create a record"],
  start_flow: ["发起流程", "Start a flow"],
  webhook: ["调用 Webhook", "Call a webhook"],
  comment: ["写入备注", "Comment"],
  escalate: ["升级", "Escalate"],
  send_survey: ["发送满意度调查", "Send a survey"],
};

const zh = (lang: Lang, zhText: string, en: string) => (lang === "en" ? en : zhText);

/** Actions the designers read but do not offer to add (their definition is edited as JSON). */
const READ_ONLY_LABELS: Record<string, [string, string]> = {
  score: ["计算得分", "Score the record"],
};

export function actionLabel(type: string, lang: Lang): string {
  const found = ACTION_LABELS[type as ActionType] ?? READ_ONLY_LABELS[type];
  return found ? found[lang === "en" ? 1 : 0] : type;
}

/** A new action of ``type`` with what it needs to be complete left for the user. */
export function blankAction(type: ActionType): Action {
  switch (type) {
    case "set_fields":
      return { type, values: {} };
    case "assign":
      return { type, field: "assignee", to: [] };
    case "notify":
      return { type, to: [], title: "" };
    case "create_record":
      return { type, form: "", values: {} };
    case "start_flow":
      return { type, flow: "" };
    case "webhook":
      return { type, url: "" };
    case "comment":
      return { type, text: "" };
    case "escalate":
      return { type, levels: 1 };
    case "send_survey":
      return { type, form: "", link_field: "", expires_in_days: 14 };
  }
}

// --- values -----------------------------------------------------------------------------------

/** How a value is given: as it is, or computed (``{"expr": …}``) in one of the usual ways. */
export type ValueSpec =
  | { kind: "fixed"; value: Json }
  | { kind: "field"; path: string; fallback?: Json }
  | { kind: "now" }
  | { kind: "add"; path: string; amount: number }
  | { kind: "text"; template: string }
  | { kind: "formula"; logic: Json };

export type ValueKind = ValueSpec["kind"];
export const VALUE_KINDS: ValueKind[] = ["fixed", "field", "now", "add", "text", "formula"];

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const varPath = (v: unknown): string | null => (isRecord(v) && Object.keys(v).length === 1 && typeof v.var === "string" ? v.var : null);

/** What a stored value is. */
export function valueSpec(value: Json): ValueSpec {
  if (!isRecord(value) || !("expr" in value) || Object.keys(value).length !== 1) return { kind: "fixed", value };
  const logic = value.expr;
  if (isRecord(logic) && Object.keys(logic).length === 1) {
    const [op, args] = Object.entries(logic)[0];
    if (op === "var" && typeof args === "string") return { kind: "field", path: args };
    if (op === "var" && Array.isArray(args) && args.length === 2 && typeof args[0] === "string") return { kind: "field", path: args[0], fallback: args[1] };
    if (op === "now" && Array.isArray(args) && args.length === 0) return { kind: "now" };
    if (op === "+" && Array.isArray(args) && args.length === 2 && varPath(args[0]) !== null && typeof args[1] === "number")
      return { kind: "add", path: varPath(args[0]) as string, amount: args[1] };
    if (op === "cat" && Array.isArray(args) && args.length > 0 && args.every((a) => (typeof a === "string" && a !== "" && !a.includes("{{")) || varPath(a) !== null)) {
      const parts = args.map((a) => (typeof a === "string" ? a : `{{${varPath(a)}}}`));
      // two fields side by side, or two texts, would read back as one: such a formula stays one
      if (args.every((a, i) => i === 0 || typeof a !== typeof args[i - 1])) return { kind: "text", template: parts.join("") };
    }
  }
  return { kind: "formula", logic };
}

/** A template's parts: the texts and ``{{field}}`` placeholders in order. */
export function templateParts(template: string): (string | { var: string })[] {
  const out: (string | { var: string })[] = [];
  const pattern = /\{\{\s*([^{}\s]+)\s*\}\}/g;
  let last = 0;
  for (const match of template.matchAll(pattern)) {
    if (match.index > last) out.push(template.slice(last, match.index));
    out.push({ var: match[1] });
    last = match.index + match[0].length;
  }
  if (last < template.length) out.push(template.slice(last));
  return out;
}

/** The stored form of a value. */
export function valueOf(spec: ValueSpec): Json {
  switch (spec.kind) {
    case "fixed":
      return spec.value;
    case "field":
      return { expr: { var: spec.fallback === undefined ? spec.path : [spec.path, spec.fallback] } };
    case "now":
      return { expr: { now: [] } };
    case "add":
      return { expr: { "+": [{ var: spec.path }, spec.amount] } };
    case "text":
      return { expr: { cat: templateParts(spec.template) } };
    case "formula":
      return { expr: spec.logic };
  }
}

/** A value of ``kind`` to start from when the user switches to it. */
export function switchValue(spec: ValueSpec, kind: ValueKind, firstField = ""): ValueSpec {
  if (spec.kind === kind) return spec;
  switch (kind) {
    case "fixed":
      return { kind, value: "" };
    case "field":
      return { kind, path: "path" in spec ? spec.path : firstField };
    case "now":
      return { kind };
    case "add":
      return { kind, path: "path" in spec ? spec.path : firstField, amount: 1 };
    case "text":
      return { kind, template: spec.kind === "field" ? `{{${spec.path}}}` : "" };
    case "formula":
      return { kind, logic: (valueOf(spec) as { expr?: Json }).expr ?? valueOf(spec) };
  }
}

// --- recipients ---------------------------------------------------------------------------------

export const RECIPIENT_KINDS = ["field", "user", "group", "role", "manager_of", "email_field"] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];
export interface Recipient {
  kind: RecipientKind;
  value: string | number;
}

export const RECIPIENT_LABELS: Record<RecipientKind, [string, string]> = {
  field: ["表单中的人员字段", "A person field"],
  user: ["指定成员", "A person"],
  group: ["部门 / 小组", "A group"],
  role: ["角色", "A role"],
  manager_of: ["…的上级", "The manager of"],
  email_field: ["邮箱字段中的地址", "The address in an e-mail field"],
};

/** The recipients ``to`` names (one or a list). */
export function recipientsOf(to: unknown): Recipient[] {
  const list = Array.isArray(to) ? to : to === undefined || to === null ? [] : [to];
  return list.filter(isRecord).map((item) => {
    const [kind, value] = Object.entries(item)[0] ?? ["field", ""];
    return { kind: kind as RecipientKind, value: value as string | number };
  });
}

/** ``to`` as stored: one recipient alone when it was given alone, else the list. */
export function toOf(list: Recipient[], wasList: boolean): unknown {
  const items = list.map((r) => ({ [r.kind]: r.value }));
  return !wasList && items.length === 1 ? items[0] : items;
}

// --- in words -----------------------------------------------------------------------------------

export interface Names {
  field?: (key: string) => string | undefined;
  /** An option's label, by field and value. */
  option?: (field: string, value: unknown) => string | undefined;
  user?: (id: number) => string | undefined;
  group?: (key: string) => string | undefined;
  role?: (key: string) => string | undefined;
  form?: (key: string) => string | undefined;
  flow?: (key: string) => string | undefined;
}

export function valueText(value: Json, lang: Lang, names: Names = {}, of?: string): string {
  const spec = valueSpec(value);
  const field = (path: string) => names.field?.(path) ?? path;
  switch (spec.kind) {
    case "fixed": {
      const option = of !== undefined ? names.option?.(of, spec.value) : undefined;
      if (option !== undefined) return `“${option}”`;
      if (spec.value === null) return zh(lang, "空", "empty");
      return typeof spec.value === "string" ? `“${spec.value}”` : typeof spec.value === "boolean" ? zh(lang, spec.value ? "是" : "否", spec.value ? "yes" : "no") : JSON.stringify(spec.value);
    }
    case "field":
      return zh(lang, `「${field(spec.path)}」的值`, `the value of “${field(spec.path)}”`);
    case "now":
      return zh(lang, "当前时间", "the time now");
    case "add":
      return `${field(spec.path)} ${spec.amount < 0 ? "−" : "+"} ${Math.abs(spec.amount)}`;
    case "text":
      return `“${spec.template.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_, k: string) => `{${field(k)}}`)}”`;
    case "formula":
      return zh(lang, "公式", "a formula");
  }
}

export function recipientText(r: Recipient, lang: Lang, names: Names = {}): string {
  switch (r.kind) {
    case "field":
      return zh(lang, `「${names.field?.(String(r.value)) ?? r.value}」中的人`, `the people in “${names.field?.(String(r.value)) ?? r.value}”`);
    case "user":
      return names.user?.(Number(r.value)) ?? `#${r.value}`;
    case "group":
      return zh(lang, `部门「${names.group?.(String(r.value)) ?? r.value}」`, `group “${names.group?.(String(r.value)) ?? r.value}”`);
    case "role":
      return zh(lang, `角色「${names.role?.(String(r.value)) ?? r.value}」`, `role “${names.role?.(String(r.value)) ?? r.value}”`);
    case "manager_of":
      return r.value === "group"
        ? zh(lang, "记录所属部门的负责人", "the manager of the record's group")
        : zh(lang, `「${names.field?.(String(r.value)) ?? r.value}」的上级`, `the manager of “${names.field?.(String(r.value)) ?? r.value}”`);
    case "email_field":
      return zh(lang, `「${names.field?.(String(r.value)) ?? r.value}」中的邮箱`, `the address in “${names.field?.(String(r.value)) ?? r.value}”`);
  }
}

/** One action in words: 设置「状态」为 "处理中"、「首次响应时间」为 当前时间. */
export function actionText(action: Action, lang: Lang, names: Names = {}): string {
  const field = (key: unknown) => names.field?.(String(key)) ?? String(key);
  const list = (items: string[]) => items.join(zh(lang, "、", ", "));
  switch (action.type) {
    case "set_fields": {
      const values = isRecord(action.values) ? Object.entries(action.values) : [];
      if (!values.length) return zh(lang, "设置字段（未选择字段）", "Set fields (none chosen)");
      return zh(lang, "设置", "Set ") + list(values.map(([k, v]) => zh(lang, `「${field(k)}」为 ${valueText(v, lang, names, k)}`, `“${field(k)}” to ${valueText(v, lang, names, k)}`)));
    }
    case "assign": {
      const target = field(action.field ?? "assignee");
      if (action.table) return zh(lang, `按决策表「${String(action.table)}」分派「${target}」`, `Assign “${target}” by the decision table “${String(action.table)}”`);
      const to = list(recipientsOf(action.to).map((r) => recipientText(r, lang, names)));
      return zh(lang, `把「${target}」分派给 ${to || "（未选择）"}`, `Assign “${target}” to ${to || "(nobody chosen)"}`);
    }
    case "notify": {
      const to = list(recipientsOf(action.to).map((r) => recipientText(r, lang, names)));
      const how = action.channel === "email" ? zh(lang, "邮件", "an e-mail") : zh(lang, "站内通知", "a notice");
      return zh(lang, `给 ${to || "（未选择）"} 发${how}：${String(action.title ?? "")}`, `Send ${how} to ${to || "(nobody chosen)"}: ${String(action.title ?? "")}`);
    }
    case "create_record": {
      const form = names.form?.(String(action.form)) ?? String(action.form || zh(lang, "（未选择）", "(none chosen)"));
      return zh(lang, `新建一条「${form}」`, `Create a “${form}” record`);
    }
    case "start_flow":
      return zh(lang, `发起流程「${names.flow?.(String(action.flow)) ?? String(action.flow || "（未选择）")}」`, `Start the flow “${names.flow?.(String(action.flow)) ?? String(action.flow || "(none chosen)")}”`);
    case "webhook":
      return zh(lang, `调用 Webhook ${String(action.url || "（未填写地址）")}`, `Call the webhook ${String(action.url || "(no address)")}`);
    case "comment":
      return zh(lang, `写入备注：${String(action.text ?? "")}`, `Comment: ${String(action.text ?? "")}`);
    case "escalate":
      return zh(lang, `升级 ${Number(action.levels ?? 1)} 级`, `Escalate ${Number(action.levels ?? 1)} level(s)`);
    case "send_survey": {
      const form = names.form?.(String(action.form)) ?? String(action.form || zh(lang, "（未选择）", "(none chosen)"));
      const days = Number(action.expires_in_days ?? 14);
      const to = action.to_field ? zh(lang, `，发到「${field(action.to_field)}」`, `, mailed to “${field(action.to_field)}”`) : "";
      return zh(lang, `发送调查「${form}」（${days} 天内有效${to}）`, `Send the survey “${form}” (valid ${days} days${to})`);
    }
    case "score": {
      const parts = Array.isArray(action.components) ? (action.components as { label?: Text }[]) : [];
      const named = list(parts.map((c) => (typeof c.label === "string" ? c.label : (c.label?.[lang] ?? c.label?.["zh-CN"] ?? ""))).filter(Boolean));
      return zh(lang, `计算「${field(action.field)}」：${named}`, `Score “${field(action.field)}” from ${named}`);
    }
    default:
      return String(action.type);
  }
}

/** ``text`` with ``{{key}}`` inserted at ``at`` (the caret), spaced from a word before it. */
export function insertPlaceholder(text: string, at: number, key: string): { text: string; caret: number } {
  const where = Math.max(0, Math.min(at, text.length));
  const token = `{{${key}}}`;
  return { text: text.slice(0, where) + token + text.slice(where), caret: where + token.length };
}

/** Moves the action at ``from`` by ``delta`` places (nothing when it would leave the list). */
export function moveAction<T>(list: T[], from: number, delta: number): T[] {
  const to = from + delta;
  if (to < 0 || to >= list.length || from < 0 || from >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

export type { Text };
