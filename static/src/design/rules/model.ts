// A rule as its editor shows it: what sets it off (a record created, changed or deleted, fields
// changed, task events, a schedule, a time after a date field), read in words; a schedule's cron
// expression as a frequency, a time and the days it runs on, read back in words ("每周一 09:00").
export type Lang = "zh-CN" | "en";

export const TRIGGERS = ["record_created", "record_updated", "field_changed", "record_deleted", "task_created", "task_completed", "customer_replied", "schedule", "timer"] as const;
export type TriggerType = (typeof TRIGGERS)[number];

export interface Trigger {
  type: TriggerType;
  fields?: string[];
  cron?: string;
  time_zone?: string;
  minutes?: number;
  after?: string;
  business?: boolean;
  calendar?: string;
  unless?: unknown;
}

export interface RuleBody {
  key: string;
  label: { "zh-CN": string; en?: string };
  type?: "rule" | "decision_table" | "sla";
  form?: string;
  trigger?: Trigger;
  condition?: unknown;
  actions?: unknown[];
  priority?: number;
  stop_processing?: boolean;
  enabled?: boolean;
  [property: string]: unknown;
}

const zh = (lang: Lang, zhText: string, en: string) => (lang === "en" ? en : zhText);

/** A trigger of ``type`` to start from, keeping what still applies. */
export function switchTrigger(current: Trigger | undefined, type: TriggerType, timeZone = "Asia/Shanghai"): Trigger {
  if (current?.type === type) return current;
  switch (type) {
    case "field_changed":
      return { type, fields: [] };
    case "schedule":
      return { type, cron: "0 9 * * 1", time_zone: timeZone };
    case "timer":
      return { type, minutes: 60 * 24 };
    default:
      return { type };
  }
}

// --- schedules ----------------------------------------------------------------------------------

/** The schedules the builder offers; anything else is kept as the cron text it is. */
export type Frequency = "daily" | "weekly" | "monthly" | "custom";

export interface Schedule {
  frequency: Frequency;
  /** ``HH:mm``. */
  time: string;
  /** 0 (Sunday) … 6, for weekly. */
  weekdays: number[];
  /** 1 … 31, for monthly. */
  days: number[];
  /** 1 … 12 (empty: every month), for monthly. */
  months: number[];
  /** The cron text of a custom schedule. */
  cron: string;
}

const numbers = (part: string, low: number, high: number): number[] | null => {
  if (part === "*") return [];
  const values = part.split(",").map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  return values.every((v) => v >= low && v <= high) ? [...new Set(values)].sort((a, b) => a - b) : null;
};

/** The schedule a cron expression says, when the builder can show it (else a custom one). */
export function scheduleOf(cron: string): Schedule {
  const custom: Schedule = { frequency: "custom", time: "09:00", weekdays: [], days: [], months: [], cron };
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) return custom;
  const [minute, hour, dom, month, dow] = parts;
  if (!/^\d{1,2}$/.test(minute) || !/^\d{1,2}$/.test(hour) || Number(minute) > 59 || Number(hour) > 23) return custom;
  const time = `${hour.padStart(2, "0")}:${minute.padStart(2, "0")}`;
  const weekdays = numbers(dow, 0, 6);
  const days = numbers(dom, 1, 31);
  const months = numbers(month, 1, 12);
  if (weekdays === null || days === null || months === null) return custom;
  if (dom === "*" && month === "*" && dow === "*") return { ...custom, frequency: "daily", time };
  if (dom === "*" && month === "*" && weekdays.length) return { ...custom, frequency: "weekly", time, weekdays };
  if (dow === "*" && days.length) return { ...custom, frequency: "monthly", time, days, months };
  return custom;
}

/** The cron expression of a schedule. */
export function cronOf(s: Schedule): string {
  if (s.frequency === "custom") return s.cron;
  const [hour, minute] = s.time.split(":").map(Number);
  const list = (v: number[]) => (v.length ? v.join(",") : "*");
  if (s.frequency === "daily") return `${minute} ${hour} * * *`;
  if (s.frequency === "weekly") return `${minute} ${hour} * * ${list(s.weekdays.length ? s.weekdays : [1])}`;
  return `${minute} ${hour} ${list(s.days.length ? s.days : [1])} ${list(s.months)} *`;
}

const WEEKDAYS: [string, string][] = [
  ["日", "Sunday"],
  ["一", "Monday"],
  ["二", "Tuesday"],
  ["三", "Wednesday"],
  ["四", "Thursday"],
  ["五", "Friday"],
  ["六", "Saturday"],
];

/** A cron expression in words: 每周一 09:00, 每年 1、4、7、10 月的 1 日 09:00. */
export function cronText(cron: string, lang: Lang): string {
  const s = scheduleOf(cron);
  const join = (items: (string | number)[]) => items.join(zh(lang, "、", ", "));
  switch (s.frequency) {
    case "daily":
      return zh(lang, `每天 ${s.time}`, `Every day at ${s.time}`);
    case "weekly":
      return zh(lang, `每周${join(s.weekdays.map((d) => WEEKDAYS[d][0]))} ${s.time}`, `Every ${join(s.weekdays.map((d) => WEEKDAYS[d][1]))} at ${s.time}`);
    case "monthly":
      return s.months.length
        ? zh(lang, `每年 ${join(s.months)} 月的 ${join(s.days)} 日 ${s.time}`, `On day ${join(s.days)} of month ${join(s.months)} at ${s.time}`)
        : zh(lang, `每月 ${join(s.days)} 日 ${s.time}`, `On day ${join(s.days)} of every month at ${s.time}`);
    case "custom":
      return zh(lang, `按计划 ${cron}`, `On the schedule ${cron}`);
  }
}

// --- in words -----------------------------------------------------------------------------------

export function minutesText(minutes: number, lang: Lang): string {
  if (minutes % 1440 === 0) return zh(lang, `${minutes / 1440} 天`, `${minutes / 1440} day(s)`);
  if (minutes % 60 === 0) return zh(lang, `${minutes / 60} 小时`, `${minutes / 60} hour(s)`);
  return zh(lang, `${minutes} 分钟`, `${minutes} minute(s)`);
}

/** What sets a rule off, in words. */
export function triggerText(trigger: Trigger | undefined, lang: Lang, field: (key: string) => string = (k) => k): string {
  if (!trigger) return zh(lang, "（未设置触发条件）", "(no trigger yet)");
  const join = (items: string[]) => items.join(zh(lang, "、", ", "));
  switch (trigger.type) {
    case "record_created":
      return zh(lang, "新建记录时", "When a record is created");
    case "record_updated":
      return zh(lang, "记录修改时", "When a record is changed");
    case "record_deleted":
      return zh(lang, "删除记录时", "When a record is deleted");
    case "field_changed":
      return trigger.fields?.length
        ? zh(lang, `「${join(trigger.fields.map(field))}」变化时`, `When “${join(trigger.fields.map(field))}” change(s)`)
        : zh(lang, "字段变化时（未选择字段）", "When fields change (none chosen)");
    case "task_created":
      return zh(lang, "流程任务创建时", "When a flow task is created");
    case "task_completed":
      return zh(lang, "流程任务完成时", "When a flow task is completed");
    case "customer_replied":
      return zh(lang, "客户在状态页回复时", "When the customer replies on the status page");
    case "schedule":
      return cronText(trigger.cron ?? "", lang);
    case "timer": {
      const after =
        !trigger.after || trigger.after === "created_at"
          ? zh(lang, "创建时间", "creation")
          : trigger.after === "updated_at"
            ? zh(lang, "最后修改时间", "the last change")
            : field(trigger.after);
      const time = minutesText(trigger.minutes ?? 0, lang);
      return zh(lang, `「${after}」之后 ${time}${trigger.business ? "（工作时间）" : ""}`, `${time}${trigger.business ? " of business time" : ""} after “${after}”`);
    }
  }
}

/** An effect the engine computed (what a matched rule would do to one record), in words. */
export function effectText(effect: { type: string; params: Record<string, unknown> }, lang: Lang): string {
  const p = effect.params;
  const show = (v: unknown) => (typeof v === "string" ? v : v === null ? zh(lang, "空", "empty") : JSON.stringify(v));
  switch (effect.type) {
    case "set_fields":
      return Object.entries((p.values as Record<string, unknown>) ?? {})
        .map(([k, v]) => `${k} = ${show(v)}`)
        .join(zh(lang, "，", ", "));
    case "notify":
      return show(p.title ?? "");
    case "comment":
      return show(p.text ?? "");
    case "start_flow":
      return show(p.flow ?? "");
    case "create_record":
      return show(p.form ?? "");
    default:
      return "";
  }
}

/** What a rule's condition read when it ran, from its trace (each operator's result keyed by the
 * pointer of its node and the operator: ``/!!/var``): the fields it read with their values, in
 * order and once each, and whether the whole condition held. */
export function traceReads(condition: unknown, values: Record<string, unknown>): { fields: { field: string; value: unknown }[]; held: boolean | undefined } {
  const at = (pointer: string): unknown => {
    let node: unknown = condition;
    for (const part of pointer.split("/").slice(1)) {
      const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
      if (node === null || typeof node !== "object") return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  };
  const fields: { field: string; value: unknown }[] = [];
  const seen = new Set<string>();
  for (const [path, value] of Object.entries(values)) {
    if (!path.endsWith("/var")) continue;
    const node = at(path.slice(0, -4)) as { var?: unknown } | undefined;
    const name = Array.isArray(node?.var) ? node?.var[0] : node?.var;
    if (typeof name !== "string" || seen.has(name)) continue;
    seen.add(name);
    fields.push({ field: name, value });
  }
  const root = condition !== null && typeof condition === "object" && !Array.isArray(condition) ? Object.keys(condition)[0] : undefined;
  const outcome = root !== undefined ? values[`/${root.replace(/~/g, "~0").replace(/\//g, "~1")}`] : undefined;
  return { fields, held: outcome === undefined ? undefined : Boolean(outcome) };
}
