import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fromQuery, namedFields, operatorsFor, reading, toQuery, type ConditionField, type Group } from "./logic";

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
  { key: "due", label: { "zh-CN": "截止日期", en: "Due" }, type: "date" },
  {
    key: "parts",
    label: { "zh-CN": "备件", en: "Parts" },
    type: "sub_table",
    columns: [
      { key: "price", label: { "zh-CN": "单价", en: "Unit price" }, type: "money" },
      { key: "part", label: { "zh-CN": "备件名" }, type: "text" },
    ],
  },
];

const SHAPES: unknown[] = [
  { var: "on_site" },
  { var: "note" },
  { "!": { var: "on_site" } },
  { "!": [{ var: "note" }] },
  { "!!": [{ var: "note" }] },
  { "==": [{ var: "urgency" }, "P1"] },
  { "!=": [{ var: "urgency" }, "P1"] },
  { ">": [{ var: "cost" }, 100] },
  { "<=": [{ var: "cost" }, 0.5] },
  { "==": [{ var: "on_site" }, true] },
  { "!=": [{ var: "$old.assignee" }, { var: "assignee" }] },
  { in: [{ var: "urgency" }, ["P1", "P2"]] },
  { "!": { in: [{ var: "urgency" }, ["P1"]] } },
  { in: ["急", { var: "note" }] },
  { in: ["a", { var: "tags" }] },
  { "!": { var: "note" } },
  { "!!": { var: "note" } },
  { changed: ["urgency"] },
  { "<=": [{ date_diff: [{ var: "due" }, { now: [] }, "days"] }, 7] },
  { ">": [{ date_diff: [{ var: "due" }, { now: [] }, "days"] }, 30] },
  { "<=": [0, { date_diff: [{ now: [] }, { var: "due" }, "days"] }, 3] },
  { ">": [{ now: [] }, { var: "due" }] },
  { some: [{ var: "parts" }, { ">=": [{ var: "price" }, 5000] }] },
  { all: [{ var: "parts" }, { and: [{ "!!": { var: "part" } }, { ">": [{ var: "price" }, 0] }] }] },
  { none: [{ var: "parts" }, { "==": [{ var: "part" }, "主板"] }] },
  { and: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "tier" }, "vip"] }] },
  { or: [{ var: "on_site" }, { ">=": [{ var: "cost" }, 1000] }] },
  { and: [{ "==": [{ var: "urgency" }, "P1"] }] },
  { and: [{ or: [{ var: "on_site" }] }, { "==": [{ var: "cost" }, 1] }] },
  { or: [{ and: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "tier" }, "vip"] }] }, { "!": { and: [{ var: "on_site" }, { changed: ["cost"] }] } }] },
  { "!": { or: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "urgency" }, "P2"] }] } },
];

/** Every condition the after-sales package holds: rules, flow branches, KPI and report filters. */
function afterSalesConditions(): [string, unknown][] {
  const root = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales");
  const found: [string, unknown][] = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${where}/${i}`));
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (["condition", "when", "visible_when", "required_when", "filter", "where", "ends_when"].includes(key) && value && typeof value === "object" && !Array.isArray(value))
          found.push([`${where}/${key}`, value]);
        walk(value, `${where}/${key}`);
      }
    }
  };
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
    });
  for (const file of files(root)) walk(JSON.parse(readFileSync(file, "utf-8")), relative(root, file));
  return found;
}

describe("conditions as queries", () => {
  it.each(SHAPES.map((s) => [JSON.stringify(s), s]))("round-trips %s", (_name, logic) => {
    const query = toQuery(logic, FIELDS);
    expect(query).not.toBeNull();
    expect(fromQuery(query!, FIELDS)).toEqual(logic);
  });

  const conditions = afterSalesConditions();

  it("finds the after-sales package's conditions", () => {
    expect(conditions.length).toBeGreaterThan(20);
  });

  it.each(conditions)("shows and round-trips the after-sales condition %s", (_where, logic) => {
    const query = toQuery(logic, []);
    expect(query).not.toBeNull();
    expect(fromQuery(query!, [])).toEqual(logic);
    expect(reading(logic, [])).not.toContain("自定义条件");
  });

  it("keeps what it cannot show, and reads it out", () => {
    for (const logic of [{ "+": [1, 2] }, { "==": [{ "+": [{ var: "cost" }, 1] }, 2] }, { some: [{ var: "note" }, { var: "x" }] }, true]) {
      expect(toQuery(logic, FIELDS)).toBeNull();
      expect(reading(logic, FIELDS)).toContain("自定义条件");
    }
  });

  it("means no condition when it is empty", () => {
    expect(toQuery(undefined, FIELDS)).toEqual({ combinator: "and", rules: [] });
    expect(fromQuery({ combinator: "and", rules: [] }, FIELDS)).toBeUndefined();
    expect(fromQuery({ combinator: "or", rules: [{ field: "", operator: "==", value: "" }] }, FIELDS)).toBeUndefined();
  });

  it("writes what the builder makes", () => {
    const built: Group = {
      combinator: "and",
      rules: [
        { field: "cost", operator: ">", value: "12.5" },
        { field: "due", operator: "within_last_days", value: "7" },
        { field: "parts", operator: "==", value: { combinator: "and", rules: [{ field: "price", operator: ">=", value: "100" }] }, match: { mode: "some" } },
        { combinator: "or", not: true, rules: [{ field: "urgency", operator: "in", value: ["P1", "P2"] }, { field: "tier", operator: "==", value: "note", valueSource: "field" }] },
      ],
    };
    expect(fromQuery(built, FIELDS)).toEqual({
      and: [
        { ">": [{ var: "cost" }, 12.5] },
        { "<=": [{ date_diff: [{ var: "due" }, { now: [] }, "days"] }, 7] },
        { some: [{ var: "parts" }, { ">=": [{ var: "price" }, 100] }] },
        { "!": { or: [{ in: [{ var: "urgency" }, ["P1", "P2"]] }, { "==": [{ var: "tier" }, { var: "note" }] }] } },
      ],
    });
  });

  it("reads conditions in plain words with labels, in both languages", () => {
    const both = { and: [{ "==": [{ var: "urgency" }, "P1"] }, { "==": [{ var: "tier" }, "vip"] }] };
    expect(reading(both, FIELDS)).toBe("紧急程度 是 P1 紧急 且 客户等级 是 VIP");
    expect(reading(both, FIELDS, "en")).toBe("Urgency is P1 critical and Customer tier is VIP");
    expect(reading({ in: [{ var: "urgency" }, ["P1", "P2"]] }, FIELDS)).toBe("紧急程度 是以下之一 P1 紧急、P2 高");
    expect(reading({ var: "on_site" }, FIELDS, "en")).toBe("On site is on");
    expect(reading({ some: [{ var: "parts" }, { ">=": [{ var: "price" }, 5000] }] }, FIELDS)).toBe("备件中任一行满足（单价 不小于 5000）");
    expect(reading({ "<=": [0, { date_diff: [{ now: [] }, { var: "due" }, "days"] }, 3] }, FIELDS)).toBe("截止日期 在 3 天内到期");
    expect(reading({ "!": { or: [{ var: "on_site" }, { changed: ["cost"] }] } }, FIELDS)).toBe("并非（需上门 为是 或 费用 本次被修改）");
    expect(reading({ or: [{ and: [{ var: "on_site" }, { "==": [{ var: "tier" }, "vip"] }] }, { ">": [{ var: "cost" }, 9] }] }, FIELDS)).toBe(
      "（需上门 为是 且 客户等级 是 VIP） 或 费用 大于 9",
    );
    expect(reading(undefined, FIELDS)).toBe("始终");
  });

  it("offers the operators that fit each type", () => {
    expect(operatorsFor("checkbox")).toEqual(["is_true", "is_false", "changed"]);
    expect(operatorsFor("money")).toContain(">=");
    expect(operatorsFor("select")).toContain("in");
    expect(operatorsFor("text")).toContain("contains");
    expect(operatorsFor("date")).toContain("within_last_days");
  });

  it("names the fields a condition reads that the form lacks", () => {
    const query = toQuery({ "!=": [{ var: "$old.assignee" }, { var: "assignee" }] }, FIELDS)!;
    expect(namedFields(query, FIELDS).map((f) => f.key).slice(-2)).toEqual(["$old.assignee", "assignee"]);
  });
});
