import { describe, expect, it } from "vitest";
import { build, operatorsFor, parse, reading, type ConditionField } from "./simple";

const FIELDS: ConditionField[] = [
  {
    key: "urgency",
    label: { "zh-CN": "紧急程度", en: "Urgency" },
    type: "select",
    options: [
      { value: "P1", label: { "zh-CN": "P1 紧急", en: "P1 critical" } },
      { value: "P2", label: { "zh-CN": "P2 高" } },
    ],
  },
  { key: "tier", label: { "zh-CN": "客户等级", en: "Customer tier" }, type: "select", options: [{ value: "vip", label: { "zh-CN": "VIP" } }] },
  { key: "on_site", label: { "zh-CN": "需上门", en: "On site" }, type: "checkbox" },
  { key: "cost", label: { "zh-CN": "费用" }, type: "money" },
  { key: "note", label: { "zh-CN": "备注" }, type: "textarea" },
  { key: "tags", label: { "zh-CN": "标签" }, type: "multi_select" },
];

const SHAPES: unknown[] = [
  { var: "on_site" },
  { "!": { var: "on_site" } },
  { "==": [{ var: "urgency" }, "P1"] },
  { "!=": [{ var: "urgency" }, "P1"] },
  { ">": [{ var: "cost" }, 100] },
  { "<=": [{ var: "cost" }, 0.5] },
  { in: [{ var: "urgency" }, ["P1", "P2"]] },
  { "!": { in: [{ var: "urgency" }, ["P1"]] } },
  { in: ["急", { var: "note" }] },
  { in: ["a", { var: "tags" }] },
  { "!": { var: "note" } },
  { "!!": { var: "note" } },
  { and: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "tier" }, "vip"] }] },
  { or: [{ var: "on_site" }, { ">=": [{ var: "cost" }, 1000] }] },
  { and: [{ "==": [{ var: "urgency" }, "P1"] }] },
];

describe("conditions as rows", () => {
  it.each(SHAPES.map((s) => [JSON.stringify(s), s]))("round-trips %s", (_name, logic) => {
    const group = parse(logic, FIELDS);
    expect(group).not.toBeNull();
    expect(build(group!, FIELDS)).toEqual(logic);
  });

  it("keeps what rows cannot show, and reads it out", () => {
    const nested = { and: [{ or: [{ var: "on_site" }] }, { "==": [{ var: "cost" }, 1] }] };
    expect(parse(nested, FIELDS)).toBeNull();
    expect(parse({ "+": [1, 2] }, FIELDS)).toBeNull();
    expect(reading(nested, FIELDS)).toContain("自定义条件");
  });

  it("means no condition when there are no rows", () => {
    expect(parse(undefined, FIELDS)).toEqual({ combinator: "and", rows: [] });
    expect(build({ combinator: "and", rows: [] }, FIELDS)).toBeUndefined();
    expect(build({ combinator: "or", rows: [{ field: "", op: "==" }] }, FIELDS)).toBeUndefined();
  });

  it("writes numbers typed as text as numbers for number fields", () => {
    expect(build({ combinator: "and", rows: [{ field: "cost", op: ">", value: "12.5" }] }, FIELDS)).toEqual({
      ">": [{ var: "cost" }, 12.5],
    });
  });

  it("reads conditions in plain words with labels, in both languages", () => {
    const both = { and: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "tier" }, "vip"] }] };
    expect(reading(both, FIELDS)).toBe("紧急程度 是 P1 紧急 且 客户等级 是 VIP");
    expect(reading(both, FIELDS, "en")).toBe("Urgency is P1 critical and Customer tier is VIP");
    expect(reading({ in: [{ var: "urgency" }, ["P1", "P2"]] }, FIELDS)).toBe("紧急程度 是以下之一 P1 紧急、P2 高");
    expect(reading({ var: "on_site" }, FIELDS, "en")).toBe("On site is on");
    expect(reading(undefined, FIELDS)).toBe("始终");
  });

  it("offers the operators that fit each type", () => {
    expect(operatorsFor("checkbox")).toEqual(["is_true", "is_false"]);
    expect(operatorsFor("money")).toContain(">=");
    expect(operatorsFor("select")).toContain("in");
    expect(operatorsFor("text")).toContain("contains");
  });
});
