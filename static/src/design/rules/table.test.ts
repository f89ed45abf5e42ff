import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { addColumn, blankRow, cellOf, cellText, gapText, moveRow, rawOf, removeColumn, setCell, switchCell, testResults, type DecisionTableBody } from "./table";

const TABLE = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/rules/dispatch_matrix.json"), "utf-8"),
) as DecisionTableBody;

describe("cells", () => {
  it("read every cell of the after-sales table and write it back unchanged", () => {
    for (const row of TABLE.rules) for (const cell of row.when) expect(rawOf(cellOf(cell))).toEqual(cell);
  });

  it("know every operator the engine has", () => {
    for (const raw of ["-", "A", 3, true, null, { in: ["A", "B"] }, { "<": 5 }, { "<=": 5 }, { ">": "m" }, { ">=": 1 }, { between: [1, 9] }, { not: "A" }, { not: { in: ["A"] } }]) {
      expect(rawOf(cellOf(raw))).toEqual(raw);
    }
    // an object that is no operator is a value to equal
    expect(cellOf({ a: 1, b: 2 })).toEqual({ op: "eq", value: { a: 1, b: 2 } });
  });

  it("read as people read them", () => {
    const name = (v: unknown) => ({ hardware_fault: "硬件故障", A: "A 线", B: "B 线" })[String(v)] ?? String(v);
    expect(cellText("-", "zh-CN", name)).toBe("-");
    expect(cellText("hardware_fault", "zh-CN", name)).toBe("硬件故障");
    expect(cellText({ in: ["A", "B"] }, "zh-CN", name)).toBe("∈ A 线、B 线");
    expect(cellText({ ">=": 5 }, "zh-CN", name)).toBe("≥ 5");
    expect(cellText({ between: [1, 9] }, "en", name)).toBe("1 ~ 9");
    expect(cellText({ not: { in: ["A", "B"] } }, "zh-CN", name)).toBe("≠ A 线、B 线");
  });

  it("switch operators keeping the value", () => {
    expect(switchCell({ op: "eq", value: "A" }, "in")).toEqual({ op: "in", value: ["A"] });
    expect(switchCell({ op: "in", value: ["A", "B"] }, "eq")).toEqual({ op: "eq", value: "A" });
    expect(switchCell({ op: ">", value: 3 }, "between")).toEqual({ op: "between", value: [3, 3] });
    expect(switchCell({ op: "eq", value: "A" }, "not")).toEqual({ op: "not", value: { op: "eq", value: "A" } });
    expect(switchCell({ op: "eq", value: "A" }, "any")).toEqual({ op: "any" });
  });
});

describe("rows and columns", () => {
  it("add, move and edit rows", () => {
    expect(blankRow(TABLE)).toEqual({ when: ["-", "-"], then: [""] });
    const moved = moveRow(TABLE, 9, 0);
    expect(moved.rules[0]).toEqual(TABLE.rules[9]);
    expect(moved.rules).toHaveLength(TABLE.rules.length);
    expect(moveRow(TABLE, 0, -1)).toBe(TABLE);
    const edited = setCell(TABLE, 1, "when", 1, { in: ["A", "B"] });
    expect(edited.rules[1].when).toEqual(["hardware_fault", { in: ["A", "B"] }]);
    expect(TABLE.rules[1].when).toEqual(["hardware_fault", "A"]);
  });

  it("add and remove columns across every row and test", () => {
    const wider = addColumn(TABLE, "inputs", { key: "urgency" });
    expect(wider.rules.every((r) => r.when.length === 3 && r.when[2] === "-")).toBe(true);
    const narrower = removeColumn(wider, "inputs", 1);
    expect(narrower.inputs.map((c) => c.key)).toEqual(["issue_type", "urgency"]);
    expect(narrower.tests?.every((t) => !("product_line" in t.input))).toBe(true);
  });
});

describe("tests and gaps", () => {
  it("pass unless the engine names them", () => {
    expect(testResults(TABLE, [{ path: "/tests/1", message: "expected …" }])).toEqual([{ passed: true }, { passed: false, message: "expected …" }, { passed: true }]);
  });

  it("read a gap in words", () => {
    const label = (k: string) => ({ issue_type: "问题类型", product_line: "产品线" })[k] ?? k;
    expect(gapText({ issue_type: { other: true }, product_line: null }, "zh-CN", label, (_k, v) => String(v))).toBe("问题类型 = 其他值，产品线 = 空");
    expect(gapText({ issue_type: "billing" }, "en", label, () => "Billing")).toBe("问题类型 = Billing");
  });
});
