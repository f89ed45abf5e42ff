import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { changes, levelOf, levelsFor, matrixFields, warnings, withColumn, withLevel, type RoleAccess } from "./access";
import type { FormDefinition } from "./types";

const role = (over: Partial<RoleAccess>): RoleAccess => ({
  role_id: 1,
  key: "agent",
  name: "客服专员",
  grant_id: 10,
  app_key: "aftersales",
  form_key: "ticket",
  actions: ["create", "read", "update"],
  scope: "all",
  field_rules: {},
  settable: true,
  ...over,
});

describe("the permission matrix", () => {
  it("reads a field the rules leave out as writable, and the two limits as they are", () => {
    const rules = { cost: "hidden", score: "read_only" };
    expect(levelOf(rules, "title")).toBe("editable");
    expect(levelOf(rules, "cost")).toBe("hidden");
    expect(levelOf(rules, "score")).toBe("read_only");
    // a role that writes nothing only sees or does not see
    expect(levelOf(rules, "score", { actions: ["read"] })).toBe("editable");
    expect(levelsFor({ actions: ["read"] })).toEqual(["editable", "hidden"]);
    expect(levelsFor({ actions: ["read", "update"] })).toEqual(["editable", "read_only", "hidden"]);
  });

  it("sets a cell and a column, keeping writable fields out of the rules, in key order", () => {
    expect(withLevel({ b: "hidden" }, "a", "read_only")).toEqual({ a: "read_only", b: "hidden" });
    expect(Object.keys(withLevel({ b: "hidden" }, "a", "read_only"))).toEqual(["a", "b"]);
    expect(withLevel({ a: "read_only", b: "hidden" }, "a", "editable")).toEqual({ b: "hidden" });
    expect(withColumn({ c: "hidden" }, ["a", "b"], "read_only")).toEqual({ a: "read_only", b: "read_only", c: "hidden" });
    expect(withColumn({ a: "hidden", b: "read_only" }, ["a", "b"], "editable")).toEqual({});
  });

  it("sends only the grants whose rules changed, and never a grant on every form", () => {
    const roles = [role({}), role({ grant_id: 11, key: "engineer", field_rules: { cost: "hidden" } }), role({ grant_id: 12, key: "admin", form_key: "*", settable: false })];
    expect(changes(roles, {})).toEqual({ roles: [] });
    expect(changes(roles, { 10: {}, 11: { cost: "hidden" } })).toEqual({ roles: [] });
    expect(changes(roles, { 10: { score: "read_only" }, 11: {}, 12: { cost: "hidden" } })).toEqual({
      roles: [
        { grant_id: 10, field_rules: { score: "read_only" } },
        { grant_id: 11, field_rules: {} },
      ],
    });
  });

  it("warns when a role that creates records cannot fill a required field", () => {
    const fields = [
      { key: "title", label: { "zh-CN": "标题" }, required: true, type: "text" },
      { key: "cost", label: { "zh-CN": "费用" }, required: false, type: "money" },
      { key: "urgency", label: { "zh-CN": "紧急程度" }, required: true, type: "select" },
    ];
    const roles = [role({}), role({ grant_id: 11, actions: ["read", "update"] })];
    const edited = { 10: { title: "hidden", cost: "hidden", urgency: "read_only" }, 11: { title: "hidden" } };
    expect(warnings(roles, edited, fields)).toEqual([
      { grant_id: 10, field: "title", kind: "required_hidden" },
      { grant_id: 10, field: "urgency", kind: "required_read_only" },
    ]);
  });

  it("lists every top-level field of each after-sales form, sub-tables as one row", () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/aftersales/forms");
    const ticket = JSON.parse(readFileSync(join(dir, "ticket.json"), "utf8")) as FormDefinition;
    const rows = matrixFields(ticket);
    expect(rows.map((r) => r.key)).toEqual(ticket.fields.map((f) => f.key));
    expect(rows.find((r) => r.key === "title")?.required).toBe(true);
    expect(rows.filter((r) => r.type === "sub_table").length).toBeGreaterThan(0);
  });
});
