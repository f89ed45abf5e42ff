import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cronOf, cronText, effectText, scheduleOf, switchTrigger, traceReads, triggerText, type RuleBody } from "./model";

const RULES = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/rules");
const rules: RuleBody[] = readdirSync(RULES).map((name) => JSON.parse(readFileSync(join(RULES, name), "utf-8")) as RuleBody);

describe("schedules", () => {
  it("read the after-sales schedules and write them back unchanged", () => {
    const crons = rules.flatMap((r) => (r.trigger?.type === "schedule" ? [r.trigger.cron ?? ""] : []));
    expect(crons.length).toBeGreaterThan(1);
    for (const cron of crons) {
      expect(scheduleOf(cron).frequency).not.toBe("custom");
      expect(cronOf(scheduleOf(cron))).toBe(cron);
    }
  });

  it("say when they run, in both languages", () => {
    expect(cronText("0 9 * * 1", "zh-CN")).toBe("每周一 09:00");
    expect(cronText("0 9 1 1,4,7,10 *", "zh-CN")).toBe("每年 1、4、7、10 月的 1 日 09:00");
    expect(cronText("30 8 * * *", "en")).toBe("Every day at 08:30");
    expect(cronText("0 18 * * 1,5", "en")).toBe("Every Monday, Friday at 18:00");
    expect(cronText("15 6 10,20 * *", "zh-CN")).toBe("每月 10、20 日 06:15");
    // what the builder cannot show stays as written, and says so
    expect(scheduleOf("*/5 * * * *").frequency).toBe("custom");
    expect(cronOf(scheduleOf("*/5 * * * *"))).toBe("*/5 * * * *");
    expect(cronText("0 9 * * 1-5", "zh-CN")).toBe("按计划 0 9 * * 1-5");
  });

  it("build from a frequency, a time and days", () => {
    const base = { time: "07:05", weekdays: [], days: [], months: [], cron: "" };
    expect(cronOf({ ...base, frequency: "daily" })).toBe("5 7 * * *");
    expect(cronOf({ ...base, frequency: "weekly", weekdays: [1, 3] })).toBe("5 7 * * 1,3");
    expect(cronOf({ ...base, frequency: "weekly" })).toBe("5 7 * * 1");
    expect(cronOf({ ...base, frequency: "monthly", days: [1], months: [3, 6] })).toBe("5 7 1 3,6 *");
  });
});

describe("triggers", () => {
  it("read every after-sales rule's trigger in words", () => {
    for (const rule of rules.filter((r) => (r.type ?? "rule") === "rule")) expect(triggerText(rule.trigger, "zh-CN")).not.toMatch(/未设置|\(no/);
    expect(triggerText({ type: "field_changed", fields: ["assignee"] }, "zh-CN", (k) => (k === "assignee" ? "处理人" : k))).toBe("「处理人」变化时");
    expect(triggerText({ type: "customer_replied" }, "zh-CN")).toBe("客户在状态页回复时");
    expect(triggerText({ type: "customer_replied" }, "en")).toBe("When the customer replies on the status page");
    expect(triggerText({ type: "timer", minutes: 2880, after: "due_at", business: true }, "zh-CN", () => "到期时间")).toBe("「到期时间」之后 2 天（工作时间）");
    expect(triggerText({ type: "timer", minutes: 90 }, "en")).toBe("90 minute(s) after “creation”");
    expect(triggerText(undefined, "zh-CN")).toBe("（未设置触发条件）");
  });

  it("switch type keeping the trigger when it is the same", () => {
    const same = { type: "field_changed" as const, fields: ["x"] };
    expect(switchTrigger(same, "field_changed")).toBe(same);
    expect(switchTrigger(same, "schedule")).toEqual({ type: "schedule", cron: "0 9 * * 1", time_zone: "Asia/Shanghai" });
    expect(switchTrigger(undefined, "record_created")).toEqual({ type: "record_created" });
  });
});

describe("effects", () => {
  it("read what a matched rule would do", () => {
    expect(effectText({ type: "set_fields", params: { values: { status: "in_progress", closed_at: null } } }, "zh-CN")).toBe("status = in_progress，closed_at = 空");
    expect(effectText({ type: "notify", params: { title: "紧急工单未结：整机断电", recipients: [] } }, "zh-CN")).toBe("紧急工单未结：整机断电");
    expect(effectText({ type: "escalate", params: { levels: 1 } }, "en")).toBe("");
  });
});

describe("a rule's trace", () => {
  it("names the fields its condition read, once each, and whether it held", () => {
    const condition = { and: [{ "==": [{ var: "$ref.customer.tier" }, "vip"] }, { "!=": [{ var: "urgency" }, "P1"] }, { in: [{ var: ["urgency", "P3"] }, ["P2", "P3"]] }] };
    const values = {
      "/and/0/==/0/var": "vip",
      "/and/0/==": true,
      "/and/1/!=/0/var": "P3",
      "/and/1/!=": true,
      "/and/2/in/0/var": "P3",
      "/and": true,
    };
    expect(traceReads(condition, values)).toEqual({
      fields: [
        { field: "$ref.customer.tier", value: "vip" },
        { field: "urgency", value: "P3" },
      ],
      held: true,
    });
    expect(traceReads({ "!!": { var: "contact_email" } }, { "/!!/var": "a@b.c", "/!!": true })).toEqual({ fields: [{ field: "contact_email", value: "a@b.c" }], held: true });
    expect(traceReads(undefined, {})).toEqual({ fields: [], held: undefined });
  });
});
