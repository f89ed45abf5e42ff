import { describe, expect, it } from "vitest";
import type { FieldInfo, FormSchema } from "../api";
import { documentSections, emptyCount, isBlank, peopleIds, withoutEmpty } from "./model";

const field = (key: string, type = "text", extra: Partial<FieldInfo> = {}): FieldInfo => ({
  key,
  type,
  label: key.toUpperCase(),
  required: false,
  indexed: false,
  ...extra,
});

const schema = (overrides: Partial<FormSchema> = {}): FormSchema => ({
  key: "ticket",
  version: 1,
  label: "Ticket",
  json_schema: {},
  ui_schema: {},
  conditions: {},
  messages: {},
  fields: [
    field("title"),
    field("owner", "user"),
    field("note", "textarea"),
    field("kind", "select", { options: [{ value: "hw", label: "Hardware" }] }),
    field("measures", "sub_table", { fields: [field("what"), field("who", "user")] }),
    field("secret"),
  ],
  title_field: "title",
  can: { create: true, update: true, delete: false },
  create_fields: [],
  ...overrides,
});

describe("documentSections", () => {
  it("lists every field in form order when the form has no layout", () => {
    const [only] = documentSections(schema(), { title: "Fan", owner: 4 });
    expect(only.title).toBeNull();
    expect(only.items.map((i) => i.field.key)).toEqual(["title", "owner", "note", "kind", "measures", "secret"]);
    expect(only.items.map((i) => i.empty)).toEqual([false, false, true, true, true, true]);
  });

  it("follows the layout's sections and puts the fields no section places after them", () => {
    const sections = documentSections(
      schema({ ui_schema: { "ui:layout": { sections: [{ title: "Basics", fields: ["kind", "title"] }, { title: "Empty", fields: ["nothing"] }] } } }),
      {},
    );
    expect(sections.map((s) => s.title)).toEqual(["Basics", null]);
    expect(sections[0].items.map((i) => i.field.key)).toEqual(["kind", "title"]);
    expect(sections[1].items.map((i) => i.field.key)).toEqual(["owner", "note", "measures", "secret"]);
  });

  it("leaves out hidden fields and fields whose visible-when does not hold", () => {
    const form = schema({ conditions: { note: { visible_when: { "==": [{ var: "kind" }, "hw"] } } } });
    const keys = (data: Record<string, unknown>) =>
      documentSections(form, data, { permissions: { secret: "hidden", others: "read_only" } })[0].items.map((i) => i.field.key);
    expect(keys({ kind: "sw" })).toEqual(["title", "owner", "kind", "measures"]);
    expect(keys({ kind: "hw" })).toContain("note");
  });

  it("shows only the chosen keys, in their order, for a task's summary", () => {
    const sections = documentSections(schema(), { title: "Fan" }, { keys: ["measures", "title", "unknown"] });
    expect(sections).toHaveLength(1);
    expect(sections[0].items.map((i) => i.field.key)).toEqual(["measures", "title"]);
    expect(documentSections(schema(), {}, { keys: [] })).toEqual([]);
  });
});

describe("empty fields", () => {
  it("are blank when they hold nothing worth a line", () => {
    for (const blank of [undefined, null, "", "  ", [], {}]) expect(isBlank(blank)).toBe(true);
    for (const value of [0, false, "x", [1], { id: "a" }]) expect(isBlank(value)).toBe(false);
  });

  it("are dropped unless asked for, with the sections they empty, and counted", () => {
    const sections = documentSections(
      schema({ ui_schema: { "ui:layout": { sections: [{ title: "Basics", fields: ["title"] }, { title: "Rest", fields: ["note"] }] } } }),
      { title: "Fan" },
    );
    expect(emptyCount(sections)).toBe(5);
    const shown = withoutEmpty(sections, false);
    expect(shown.map((s) => s.title)).toEqual(["Basics"]);
    expect(withoutEmpty(sections, true)).toBe(sections);
  });
});

describe("peopleIds", () => {
  it("collects the users of fields and of sub-table columns once", () => {
    const sections = documentSections(schema(), {
      owner: 4,
      measures: [
        { what: "a", who: 7 },
        { what: "b", who: 4 },
        { what: "c", who: null },
      ],
    });
    expect(peopleIds(sections).sort()).toEqual([4, 7]);
  });
});
