import { describe, expect, it } from "vitest";
import type { FieldInfo } from "./api";
import { describeEntry, entryActorKey, entryPeople, entryTitleKey, type Entry, type Words } from "./timeline";

const fields: FieldInfo[] = [
  { key: "title", type: "text", label: "标题", required: true, indexed: false },
  { key: "issue_type", type: "select", label: "问题类型", required: true, indexed: true, options: [{ value: "hardware_fault", label: "硬件故障" }] },
  { key: "product_line", type: "select", label: "产品线", required: false, indexed: true, options: [{ value: "A", label: "A 产品线" }] },
  { key: "group", type: "group", label: "处理组", required: false, indexed: false },
  { key: "assignee", type: "user", label: "处理人", required: false, indexed: false },
  { key: "note", type: "text", label: "备注", required: false, indexed: false },
];

const names: Record<string, Record<number, string>> = { user: { 7: "A线质量工程师1" }, group: { 3: "A线质量工程师组" } };
const words: Words = {
  because: (why, what) => `按 ${why} 设置 ${what}`,
  becauseOnly: (why, done) => `按 ${why}：${done}`,
  failed: (why) => `未能执行：${why}`,
  empty: "∅",
  value: (field, value) => {
    if (value === null || value === undefined || value === "") return "";
    if (field?.type === "user" || field?.type === "group") return names[field.type][value as number] ?? `#${value}`;
    return field?.options?.find((o) => o.value === value)?.label ?? String(value);
  },
  flow: (k) => k,
  node: (_f, n) => n,
  action: (a) => a,
  form: (k) => ({ callback: "满意度回访", satisfaction_survey: "满意度调查" })[k] ?? k,
  person: (id) => names.user[id] ?? `#${id}`,
  say: (key, values = {}) =>
    ({
      "timeline.did.notify": "通知 {who}",
      "timeline.did.addresses": "{n} 个邮箱",
      "timeline.did.assign": "{field}按{how}分配",
      "timeline.did.create_record": "新建 {form} #{id}",
      "timeline.did.escalate": "升级到第 {level} 级",
      "timeline.did.send_survey.mailed": "发送调查 {form}（已发邮件）",
      "timeline.strategy.least_open": "组内待办最少",
    })[key]?.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k])) ?? key,
};

const entry = (action: string, payload: Record<string, unknown>): Entry => ({ id: 1, seq: 1, at: "", actor: "派单", action, payload });

describe("describeEntry", () => {
  it("words what a rule did from its facts, not the engine's sentences", () => {
    const fired = entry("rule.fired", {
      read: { issue_type: "hardware_fault" },
      set: { assignee: 7 },
      effects: ["assignee ← A线质量工程师1 (least-open, 0 open in group:3)", "notified A线质量工程师1", "created callback #12"],
      did: [
        { type: "assign", field: "assignee", value: 7, strategy: "least_open", why: "least-open, 0 open" },
        { type: "notify", users: [7], addresses: 1, mailed: 1 },
        { type: "create_record", form: "callback", record: 12 },
        { type: "escalate", level: 2, manager: 7 },
        { type: "send_survey", form: "satisfaction_survey", link: 4, mailed: true },
        { type: "set_fields" },
      ],
    });
    expect(describeEntry(fired, fields, words)).toBe(
      "按 问题类型=硬件故障 设置 处理人=A线质量工程师1；处理人按组内待办最少分配；通知 A线质量工程师1、1 个邮箱；新建 满意度回访 #12；升级到第 2 级；通知 A线质量工程师1；发送调查 满意度调查（已发邮件）",
    );
    expect(entryPeople([fired], fields)).toEqual([7]);
  });

  it("tells a rule's run as why it fired and what it set, by label and name", () => {
    const fired = entry("rule.fired", {
      read: { issue_type: "hardware_fault", product_line: "A" },
      set: { group: 3, assignee: 7 },
      effects: ["group ← group line_a", "assignee ← A线质量工程师1 (least open work)"],
    });
    expect(describeEntry(fired, fields, words)).toBe("按 问题类型=硬件故障、产品线=A 产品线 设置 处理组=A线质量工程师组、处理人=A线质量工程师1");
    const notified = entry("rule.fired", { read: { issue_type: "hardware_fault" }, effects: ["notified 2 people"] });
    expect(describeEntry(notified, fields, words)).toBe("按 问题类型=硬件故障：notified 2 people");
    expect(describeEntry(entry("rule.failed", { error: "division by zero" }), fields, words)).toBe("未能执行：division by zero");
  });

  it("lists a new record's fields that were set, and a change with both values", () => {
    const created = entry("record.created", { changes: { title: [null, "噪音大"], note: [null, ""], assignee: [null, 7] } });
    expect(describeEntry(created, fields, words)).toBe("标题：噪音大；处理人：A线质量工程师1");
    const updated = entry("record.updated", { changes: { assignee: [null, 7], issue_type: ["", "hardware_fault"] } });
    expect(describeEntry(updated, fields, words)).toBe("处理人：∅ → A线质量工程师1；问题类型：∅ → 硬件故障");
  });
});

describe("entryPeople", () => {
  it("finds the users and groups the entries name", () => {
    const entries = [
      entry("record.updated", { changes: { assignee: [5, 7], title: ["a", "b"] } }),
      entry("rule.fired", { set: { group: 3 }, read: { assignee: 9 } }),
    ];
    expect(entryPeople(entries, fields).sort()).toEqual([3, 5, 7, 9]);
  });
});

describe("replies on the timeline", () => {
  const at = "2026-12-04T09:00:00Z";
  const comment = (payload: Record<string, unknown>): Entry => ({ id: 1, seq: 1, at, actor: "admin", action: "record.commented", payload });
  const customer: Entry = { id: 2, seq: null, at, actor: "customer", action: "record.customer_replied", payload: { text: "还在漏水", attachments: [{ id: "a", name: "leak.png" }, { id: "b", name: "more.png" }] } };

  it("tells a public reply and a customer's reply apart from an internal comment", () => {
    expect(entryTitleKey(comment({ text: "内部" }))).toBe("audit.record.commented");
    expect(entryTitleKey(comment({ text: "已安排", public: true }))).toBe("audit.record.commented.public");
    expect(entryTitleKey(customer)).toBe("audit.record.customer_replied");
  });

  it("names the customer, not an account, as the author of their reply", () => {
    expect(entryActorKey(customer)).toBe("timeline.customer");
    expect(entryActorKey(comment({ text: "x" }))).toBeNull();
  });

  it("says a customer's reply with the names of its files", () => {
    expect(describeEntry(customer, fields, words)).toBe("还在漏水；📎 leak.png、more.png");
    expect(describeEntry({ ...customer, payload: { text: "好的" } }, fields, words)).toBe("好的");
  });
});
