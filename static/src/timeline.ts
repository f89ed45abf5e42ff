// A record's timeline in the reader's words: field changes by label with option labels and
// people's names, a new record by the fields that were set, a rule's run as a sentence — why it
// fired (the values it decided on) and what it set. Pure functions (unit-tested); the page gives
// the words, the fields and how to show a value.
import type { FieldInfo } from "./api";

export interface Entry {
  /** Insertion order; ``seq`` is the place in the audit chain, null until the sequencer chains it. */
  id: number;
  seq: number | null;
  at: string;
  actor: string;
  action: string;
  payload: Record<string, unknown>;
}

export interface Words {
  /** "按 {why}，设置 {what}" / "because {why}: set {what}" */
  because: (why: string, what: string) => string;
  /** "按 {why}" alone (the rule set nothing: it notified, created, …) */
  becauseOnly: (why: string, done: string) => string;
  failed: (why: string) => string;
  empty: string;
  /** How one value of a field reads (option labels, people's names, local times). */
  value: (field: FieldInfo | undefined, value: unknown) => string;
  flow: (key: string) => string;
  node: (flow: string, node: string) => string;
  action: (action: string) => string;
  /** A form of the app by its key (a record a rule created). */
  form: (key: string) => string;
  /** A person by id (notified, the manager told of an escalation). */
  person: (id: number) => string;
  /** A UI string in the reader's language (``timeline.did.*``), with values. */
  say: (key: string, values?: Record<string, string | number>) => string;
}

/** What one effect of a rule did (the rule's ``did``), in the reader's words; ``null`` for what the
 * sentence says already (the values it set). */
export function describeDeed(deed: Record<string, unknown>, fields: FieldInfo[], words: Words): string | null {
  const people = (ids: unknown) => (Array.isArray(ids) ? ids.filter((i): i is number => typeof i === "number").map(words.person) : []);
  switch (deed.type) {
    case "notify": {
      const names = people(deed.users);
      const addresses = typeof deed.addresses === "number" ? deed.addresses : 0;
      if (addresses) names.push(words.say("timeline.did.addresses", { n: addresses }));
      return words.say("timeline.did.notify", { who: names.join(LIST) });
    }
    case "assign": {
      const strategy = String(deed.strategy ?? "fixed");
      if (strategy === "fixed" || !deed.field) return null; // the value set says it all
      const field = fields.find((f) => f.key === deed.field);
      return words.say("timeline.did.assign", { field: field?.label ?? String(deed.field), how: words.say(`timeline.strategy.${strategy}`, {}) });
    }
    case "create_record":
      return words.say("timeline.did.create_record", { form: words.form(String(deed.form ?? "")), id: Number(deed.record ?? 0) });
    case "comment":
      return words.say("timeline.did.comment");
    case "webhook":
      return words.say("timeline.did.webhook", { event: String(deed.event ?? "") });
    case "start_flow":
      return words.say("timeline.did.start_flow", { flow: words.flow(String(deed.flow ?? "")) });
    case "send_survey":
      return words.say(deed.mailed ? "timeline.did.send_survey.mailed" : "timeline.did.send_survey", { form: words.form(String(deed.form ?? "")) });
    case "escalate": {
      const parts = [];
      if (typeof deed.level === "number") parts.push(words.say("timeline.did.escalate", { level: deed.level }));
      if (typeof deed.manager === "number") parts.push(words.say("timeline.did.notify", { who: words.person(deed.manager) }));
      return parts.join(SEPARATOR) || words.say("timeline.did.escalated");
    }
    default:
      return null; // set_fields: the values it set are in the sentence
  }
}

const SEPARATOR = "；";
const LIST = "、";

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** ``label=value`` pairs, by label. */
function pairs(values: Record<string, unknown>, fields: FieldInfo[], words: Words): string {
  return Object.entries(values)
    .map(([key, value]) => {
      const field = fields.find((f) => f.key === key.split(".")[0]);
      return `${field?.label ?? key}=${words.value(field, value) || words.empty}`;
    })
    .join(LIST);
}

/** One timeline entry as a sentence in the reader's words. */
export function describeEntry(entry: Entry, fields: FieldInfo[], words: Words): string {
  const p = entry.payload;
  const field = (key: string) => fields.find((f) => f.key === key);
  if (entry.action === "rule.fired" || entry.action === "rule.failed") {
    const read = (p.read as Record<string, unknown> | undefined) ?? {};
    const why = Object.keys(read).length ? pairs(read, fields, words) : "";
    if (entry.action === "rule.failed") return words.failed(String(p.error ?? ""));
    const set = p.set as Record<string, unknown> | undefined;
    // what it did besides setting values: worded from its facts (older entries: their sentences)
    const others = Array.isArray(p.did)
      ? (p.did as Record<string, unknown>[]).map((d) => describeDeed(d, fields, words)).filter((d): d is string => Boolean(d))
      : ((p.effects as string[] | undefined) ?? []).filter((e) => !set || !Object.keys(set).some((k) => e.startsWith(`${k} ←`)));
    const what = set && Object.keys(set).length ? pairs(set, fields, words) : "";
    const rest = others.join(SEPARATOR);
    if (what) return words.because(why, [what, rest].filter(Boolean).join(SEPARATOR));
    return words.becauseOnly(why, rest);
  }
  if (entry.action === "record.created") {
    const changes = Object.entries((p.changes as Record<string, [unknown, unknown]>) ?? {});
    return changes
      .filter(([, [, after]]) => !isEmpty(after))
      .map(([k, [, after]]) => `${field(k)?.label ?? k}：${words.value(field(k), after)}`)
      .join(SEPARATOR);
  }
  if (entry.action === "record.updated") {
    const changes = Object.entries((p.changes as Record<string, [unknown, unknown]>) ?? {});
    return changes
      .map(([k, [before, after]]) => `${field(k)?.label ?? k}：${words.value(field(k), before) || words.empty} → ${words.value(field(k), after) || words.empty}`)
      .join(SEPARATOR);
  }
  if (entry.action.startsWith("flow.") || entry.action.startsWith("task.")) {
    const steps = (p.steps as { node: string; action: string }[] | undefined) ?? [];
    const flow = String(p.flow ?? "");
    return [flow && words.flow(flow), ...steps.map((s) => `${words.node(flow, s.node)} ${words.action(s.action)}`), p.opinion]
      .filter(Boolean)
      .join(" · ");
  }
  if (entry.action === "record.commented") return String(p.text ?? "");
  if (entry.action === "record.customer_replied") {
    const files = Array.isArray(p.attachments) ? (p.attachments as { name?: unknown }[]).map((a) => String(a.name ?? "")).filter(Boolean) : [];
    return [String(p.text ?? ""), ...(files.length ? [`📎 ${files.join(LIST)}`] : [])].join(SEPARATOR);
  }
  return Object.entries(p)
    .filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}

/** The UI string key naming an entry on the timeline: a public reply (公开回复) and a customer's
 * reply (客户回复) are told apart from internal comments. */
export function entryTitleKey(entry: Entry): string {
  if (entry.action === "record.commented" && entry.payload.public === true) return "audit.record.commented.public";
  return `audit.${entry.action}`;
}

/** Who an entry says acted: a customer's reply names no account, so it reads as "the customer"
 * (``null``: the entry's own actor). */
export function entryActorKey(entry: Entry): string | null {
  return entry.action === "record.customer_replied" ? "timeline.customer" : null;
}

/** The ids of users and groups the entries name (in changes, in what rules set or read). */
export function entryPeople(entries: Entry[], fields: FieldInfo[]): number[] {
  const ids = new Set<number>();
  const personal = new Set(fields.filter((f) => f.type === "user" || f.type === "group").map((f) => f.key));
  const add = (key: string, value: unknown) => {
    if (!personal.has(key)) return;
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "number") ids.add(v);
  };
  for (const e of entries) {
    for (const [k, pair] of Object.entries((e.payload.changes as Record<string, unknown[]>) ?? {})) if (Array.isArray(pair)) pair.forEach((v) => add(k, v));
    for (const [k, v] of Object.entries((e.payload.set as Record<string, unknown>) ?? {})) add(k, v);
    for (const [k, v] of Object.entries((e.payload.read as Record<string, unknown>) ?? {})) add(k, v);
    for (const deed of Array.isArray(e.payload.did) ? (e.payload.did as Record<string, unknown>[]) : []) {
      for (const id of Array.isArray(deed.users) ? deed.users : []) if (typeof id === "number") ids.add(id);
      if (typeof deed.manager === "number") ids.add(deed.manager);
    }
  }
  return [...ids];
}
