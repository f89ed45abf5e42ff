// The SLA policy editor's model: a policy's targets with minutes per priority, the calendar per
// priority, pause and stop conditions, warning and escalation levels — edits that change only what
// the user touched, so every policy loads and saves back as it was — and its reading in words.
import type { Action } from "../actions/model";

export type Lang = "zh-CN" | "en" | string;
/** A JsonLogic condition. */
export type Logic = unknown;

export interface Text {
  "zh-CN": string;
  en?: string;
}

export interface SlaTarget {
  key: string;
  label?: Text;
  minutes?: Record<string, number>;
  default_minutes?: number;
  stop_when?: Logic;
  pause_when?: Logic;
  warn_percent?: number;
  due_field?: string;
  breached_field?: string;
  used_field?: string;
  repeat?: boolean;
  cycles_field?: string;
  [property: string]: unknown;
}

export interface SlaBody {
  key: string;
  type: "sla";
  label?: Text;
  form?: string;
  calendar?: string;
  calendars?: Record<string, string>;
  priority_field?: string;
  targets?: SlaTarget[];
  on_warn?: Action[];
  escalation?: { actions: Action[]; [property: string]: unknown }[];
  [property: string]: unknown;
}

/** The record fields a target may keep in step, and the field types each takes. */
export const TARGET_FIELDS = {
  due_field: ["datetime"],
  breached_field: ["checkbox"],
  used_field: ["number", "integer"],
  cycles_field: ["integer", "number"],
} as const;
export type TargetField = keyof typeof TARGET_FIELDS;

const zh = (lang: Lang, chinese: string, english: string) => (lang === "en" ? english : chinese);

/** The priorities a policy speaks of: the priority field's options first, then any other a target
 * or calendar names (a priority removed from the form still shows, so it can be cleaned up). */
export function priorities(body: SlaBody, options: readonly string[]): string[] {
  const seen = new Set<string>(options);
  const out = [...options];
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const target of body.targets ?? []) for (const p of Object.keys(target.minutes ?? {})) add(p);
  for (const p of Object.keys(body.calendars ?? {})) add(p);
  return out;
}

function without<T extends Record<string, unknown>>(record: T, key: string): T {
  const next = { ...record };
  delete next[key];
  return next;
}

/** The body with target ``index`` replaced by ``patch`` applied (an ``undefined`` drops the property). */
export function patchTarget(body: SlaBody, index: number, patch: Partial<SlaTarget>): SlaBody {
  const targets = [...(body.targets ?? [])];
  let target: SlaTarget = { ...targets[index], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) target = without(target, k);
  targets[index] = target;
  return { ...body, targets };
}

/** A target's minutes for ``priority`` set, or removed with ``null``. */
export function setMinutes(target: SlaTarget, priority: string, minutes: number | null): Partial<SlaTarget> {
  const next = { ...(target.minutes ?? {}) };
  if (minutes === null || !(minutes > 0)) delete next[priority];
  else next[priority] = minutes;
  return { minutes: next };
}

/** The calendar a priority counts in: the policy's own unless one is named for that priority. */
export function calendarOf(body: SlaBody, priority: string): string | undefined {
  return body.calendars?.[priority] ?? body.calendar;
}

/** A priority's calendar set; naming the policy's own calendar (or none) removes the exception. */
export function setCalendarFor(body: SlaBody, priority: string, calendar: string | null): SlaBody {
  const calendars = { ...(body.calendars ?? {}) };
  if (calendar === null || calendar === body.calendar) delete calendars[priority];
  else calendars[priority] = calendar;
  if (Object.keys(calendars).length) return { ...body, calendars };
  return without(body, "calendars");
}

/** A key for a new target that no other target has. */
export function freshKey(body: SlaBody, base = "target"): string {
  const taken = new Set((body.targets ?? []).map((t) => t.key));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}_${n}`)) n += 1;
  return `${base}_${n}`;
}

/** A new target: every known priority gets a starting budget (8 working hours), warned at 80%. */
export function addTarget(body: SlaBody, options: readonly string[]): SlaBody {
  const n = (body.targets ?? []).length + 1;
  const target: SlaTarget = {
    key: freshKey(body),
    label: { "zh-CN": `时限 ${n}`, en: `Target ${n}` },
    minutes: Object.fromEntries(options.map((p) => [p, 480])),
    warn_percent: 80,
  };
  return { ...body, targets: [...(body.targets ?? []), target] };
}

export function removeTarget(body: SlaBody, index: number): SlaBody {
  return { ...body, targets: (body.targets ?? []).filter((_, i) => i !== index) };
}

export function moveItem<T>(list: readonly T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (to < 0 || to >= list.length) return [...list];
  const next = [...list];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}

/** Escalation levels: add one (empty), change one's actions, remove, move. No level left drops the key. */
export function setLevels(body: SlaBody, levels: SlaBody["escalation"]): SlaBody {
  if (levels && levels.length) return { ...body, escalation: levels };
  return without(body, "escalation");
}

export function addLevel(body: SlaBody): SlaBody {
  return setLevels(body, [...(body.escalation ?? []), { actions: [] }]);
}

/** Warning actions set; none drops the key. */
export function setOnWarn(body: SlaBody, actions: Action[] | undefined): SlaBody {
  if (actions && actions.length) return { ...body, on_warn: actions };
  return without(body, "on_warn");
}

/** A duration of working minutes as people say it: 30 分钟, 4 小时, 1 小时 30 分钟. */
export function durationText(minutes: number, lang: Lang): string {
  const hours = Math.floor(minutes / 60);
  const rest = Math.round((minutes - hours * 60) * 100) / 100;
  const parts: string[] = [];
  if (hours) parts.push(zh(lang, `${hours} 小时`, `${hours} h`));
  if (rest || !hours) parts.push(zh(lang, `${rest} 分钟`, `${rest} min`));
  return parts.join(" ");
}

/** A duration input's unit: hours when the minutes are whole hours, minutes otherwise. */
export function unitOf(minutes: number | undefined): "hours" | "minutes" {
  return minutes !== undefined && minutes >= 60 && minutes % 60 === 0 ? "hours" : "minutes";
}

/** A target in words: its budgets (with the calendar of a priority that has its own), when it
 * stops and pauses, when it warns. */
export function targetText(
  target: SlaTarget,
  order: readonly string[],
  lang: Lang,
  condition: (logic: Logic) => string,
  calendarName: (priority: string) => string | undefined,
): string {
  const name = target.label?.[lang === "en" ? "en" : "zh-CN"] ?? target.label?.["zh-CN"] ?? target.key;
  const budgets = order
    .filter((p) => target.minutes?.[p] !== undefined)
    .map((p) => {
      const cal = calendarName(p);
      return `${p} ${durationText(target.minutes![p], lang)}${cal ? zh(lang, `（${cal}）`, ` (${cal})`) : ""}`;
    });
  const parts = [`${name}：${budgets.join(zh(lang, "、", ", ")) || zh(lang, "未设时限", "no budget yet")}`];
  if (target.stop_when !== undefined) parts.push(zh(lang, `「${condition(target.stop_when)}」时达成`, `met when “${condition(target.stop_when)}”`));
  if (target.pause_when !== undefined) parts.push(zh(lang, `「${condition(target.pause_when)}」时暂停计时`, `paused while “${condition(target.pause_when)}”`));
  parts.push(zh(lang, `用去 ${target.warn_percent ?? 80}% 时预警`, `warned at ${target.warn_percent ?? 80}%`));
  if (target.repeat) parts.push(zh(lang, "达成后条件不再成立时重新计时", "starts again when it stops being met"));
  return parts.join(zh(lang, "；", "; "));
}

/** What the preview counts, in the order the editor shows the states. */
export const STATES = ["running", "warned", "paused", "met", "met_late", "breached"] as const;
