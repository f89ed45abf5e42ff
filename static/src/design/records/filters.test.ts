import { describe, expect, it } from "vitest";
import { opsFor, switchOp, toQuery } from "./filters";

describe("record filters", () => {
  it("become the record list's parameters", () => {
    expect(
      toQuery([
        { field: "status", op: "in", value: ["new", "assigned"] },
        { field: "urgency", op: "eq", value: "P1" },
        { field: "_created_at", op: "gte", value: "2026-11-01" },
        { field: "resolved_at", op: "empty", value: "true" },
        { field: "title", op: "contains", value: "" },
        { field: "", op: "eq", value: "x" },
      ]),
    ).toEqual({ status__in: ["new,assigned"], urgency: ["P1"], _created_at__gte: ["2026-11-01"], resolved_at__empty: ["true"] });
  });

  it("offer the operators a field's type can take, and keep values across a switch", () => {
    expect(opsFor("select")).toEqual(["eq", "ne", "in", "empty"]);
    expect(opsFor("datetime")).toContain("gte");
    expect(opsFor("text")).toContain("contains");
    expect(switchOp({ field: "s", op: "eq", value: "new" }, "in").value).toEqual(["new"]);
    expect(switchOp({ field: "s", op: "in", value: ["a", "b"] }, "ne").value).toBe("a");
    expect(switchOp({ field: "s", op: "empty", value: "true" }, "eq").value).toBe("");
  });
});
