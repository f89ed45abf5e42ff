import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { addLevel, addTarget, calendarOf, durationText, freshKey, moveItem, patchTarget, priorities, removeTarget, setCalendarFor, setLevels, setMinutes, setOnWarn, targetText, unitOf, type SlaBody } from "./model";

const RULES = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/rules");
const read = (name: string) => JSON.parse(readFileSync(join(RULES, name), "utf-8")) as SlaBody;
const SLA = read("ticket_sla.json");
const ORDER = ["P1", "P2", "P3", "P4"];

describe("the after-sales SLA policy", () => {
  it("is the only one, and saves back unchanged through every no-op edit", () => {
    const policies = readdirSync(RULES)
      .map((n: string) => read(n))
      .filter((b: SlaBody) => b.type === "sla");
    expect(policies.map((p: SlaBody) => p.key)).toEqual(["ticket_sla"]);
    for (const policy of policies) {
      let body = policy;
      body.targets!.forEach((target, i) => {
        for (const p of priorities(body, ORDER)) body = patchTarget(body, i, setMinutes(target, p, target.minutes?.[p] ?? null));
        body = patchTarget(body, i, {});
      });
      for (const p of priorities(body, ORDER)) body = setCalendarFor(body, p, body.calendars?.[p] ?? null);
      body = setLevels(body, body.escalation);
      body = setOnWarn(body, body.on_warn);
      expect(body).toEqual(policy);
    }
  });

  it("reads its calendars per priority: P1 around the clock, the rest on working days", () => {
    expect(calendarOf(SLA, "P1")).toBe("always");
    expect(calendarOf(SLA, "P3")).toBe("cn_workdays");
    const back = setCalendarFor(SLA, "P1", "cn_workdays");
    expect(back.calendars).toBeUndefined();
    expect(setCalendarFor(back, "P2", "always").calendars).toEqual({ P2: "always" });
  });

  it("reads each target in words", () => {
    const text = targetText(SLA.targets![0], ORDER, "zh-CN", () => "已首次响应", (p) => (p === "P1" ? "7×24" : undefined));
    expect(text).toBe("首次响应：P1 5 分钟（7×24）、P2 30 分钟、P3 4 小时、P4 9 小时；「已首次响应」时达成；「已首次响应」时暂停计时；用去 80% 时预警");
    expect(targetText(SLA.targets![1], ORDER, "en", () => "x", () => undefined)).toContain("starts again when it stops being met");
  });
});

describe("edits", () => {
  it("set and remove a priority's minutes", () => {
    const target = SLA.targets![0];
    expect(setMinutes(target, "P5", 60).minutes).toEqual({ ...target.minutes, P5: 60 });
    expect(setMinutes(target, "P1", null).minutes).not.toHaveProperty("P1");
    expect(setMinutes(target, "P1", 0).minutes).not.toHaveProperty("P1");
  });

  it("list the priorities the form offers first, then any a target still names", () => {
    const body = patchTarget(SLA, 0, setMinutes(SLA.targets![0], "P9", 10));
    expect(priorities(body, ["P1", "P2"])).toEqual(["P1", "P2", "P3", "P4", "P9"]);
  });

  it("add targets with fresh keys and a budget for every priority, remove and move them", () => {
    const one = addTarget(SLA, ORDER);
    const added = one.targets![2];
    expect(added.key).toBe("target");
    expect(added.minutes).toEqual({ P1: 480, P2: 480, P3: 480, P4: 480 });
    expect(freshKey(one)).toBe("target_2");
    expect(removeTarget(one, 2)).toEqual(SLA);
    expect(moveItem(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moveItem(["a", "b"], 1, 1)).toEqual(["a", "b"]);
    expect(patchTarget(SLA, 1, { repeat: undefined }).targets![1]).not.toHaveProperty("repeat");
  });

  it("add escalation levels and drop empty lists", () => {
    expect(addLevel(SLA).escalation).toHaveLength(3);
    expect(setLevels(SLA, [])).not.toHaveProperty("escalation");
    expect(setOnWarn(SLA, [])).not.toHaveProperty("on_warn");
  });

  it("say durations as people do", () => {
    expect(durationText(30, "zh-CN")).toBe("30 分钟");
    expect(durationText(240, "zh-CN")).toBe("4 小时");
    expect(durationText(90, "en")).toBe("1 h 30 min");
    expect(unitOf(120)).toBe("hours");
    expect(unitOf(90)).toBe("minutes");
    expect(unitOf(undefined)).toBe("minutes");
  });
});
