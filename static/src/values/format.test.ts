import { describe, expect, it } from "vitest";
import type { FieldInfo, RecordPage } from "../api";
import { cellText, optionIndex, personName, show, titleIn, type Lookups } from "./format";

const field = (key: string, type = "text", extra: Partial<FieldInfo> = {}): FieldInfo => ({
  key,
  type,
  label: key,
  required: false,
  indexed: false,
  ...extra,
});

const urgency = field("urgency", "select", {
  options: [
    { value: "p1", label: "P1 紧急" },
    { value: "p2", label: "P2 高" },
  ],
});

const names: Lookups = {
  user: (id) => (id === 7 ? "客服1" : `#${id}`),
  group: (id) => (id === 3 ? "A线质量工程师组" : `#${id}`),
  title: (_field, id) => (id === 12 ? "A-100" : `#${id}`),
};

describe("show", () => {
  it("reads nothing for an empty value", () => {
    for (const value of [undefined, null, ""]) expect(show(urgency, value)).toBe("");
  });

  it("reads an option by its label, and an unknown value as it is", () => {
    expect(show(urgency, "p1")).toBe("P1 紧急");
    expect(show(urgency, "gone")).toBe("gone");
  });

  it("reads a multi-select as its labels in order", () => {
    const tags = field("tags", "multiselect", { options: urgency.options });
    expect(show(tags, ["p2", "p1"])).toBe("P2 高, P1 紧急");
  });

  it("reads a date-time in the browser's zone and a date as stored", () => {
    const at = "2026-03-01T08:30:00Z";
    expect(show(field("at", "datetime"), at)).toBe(new Date(at).toLocaleString());
    expect(show(field("on", "date"), "2026-03-01")).toBe("2026-03-01");
  });

  it("reads booleans as a tick or nothing", () => {
    expect(show(field("ok", "checkbox"), true)).toBe("✓");
    expect(show(field("ok", "checkbox"), false)).toBe("");
  });

  it("reads money and numbers as their digits", () => {
    expect(show(field("cost", "money"), 1280.5)).toBe("1280.5");
    expect(show(field("n", "integer"), 0)).toBe("0");
  });

  it("reads files by their names and a sub-table by its rows", () => {
    const files = [{ id: "a1", name: "noise.png" }, { id: "b2", name: "log.txt" }];
    expect(show(field("photos", "attachments"), files)).toBe("noise.png, log.txt");
    expect(show(field("measures", "sub_table"), [{}, {}, {}])).toBe("3 ×");
  });

  it("reads another object as JSON", () => {
    expect(show(field("x", "json"), { a: 1 })).toBe('{"a":1}');
  });
});

describe("cellText", () => {
  it("names people, groups and referenced records", () => {
    expect(cellText(field("owner", "user"), 7, names)).toBe("客服1");
    expect(cellText(field("team", "group"), 3, names)).toBe("A线质量工程师组");
    expect(cellText(field("product", "reference"), 12, names)).toBe("A-100");
    expect(cellText(field("owner", "user"), 8, names)).toBe("#8");
  });

  it("reads the rest as show does", () => {
    expect(cellText(urgency, "p2", names)).toBe("P2 高");
    expect(cellText(field("owner", "user"), null, names)).toBe("");
    expect(cellText(field("product", "reference"), 12, { user: names.user, group: names.group })).toBe("12");
  });
});

describe("optionIndex", () => {
  it("places a single choice among its options", () => {
    expect(optionIndex(urgency, "p2")).toBe(1);
    expect(optionIndex(urgency, "gone")).toBe(-1);
    expect(optionIndex(field("r", "radio", { options: urgency.options }), "p1")).toBe(0);
  });

  it("places nothing for a multi-select or a field without options", () => {
    expect(optionIndex(field("tags", "multiselect", { options: urgency.options }), "p1")).toBe(-1);
    expect(optionIndex(field("title"), "p1")).toBe(-1);
  });
});

describe("titleIn and personName", () => {
  const page = { items: [{ id: 12, data: { model: "A-100" } }, { id: 13, data: { model: "" } }] } as unknown as RecordPage;

  it("reads a referenced record's display field, or its number", () => {
    expect(titleIn(page, "model", 12)).toBe("A-100");
    expect(titleIn(page, "model", 13)).toBe("#13");
    expect(titleIn(undefined, "model", 12)).toBe("#12");
    expect(titleIn(page, null, 12)).toBe("#12");
  });

  it("names a user or a group by id", () => {
    const users = [{ id: 7, display_name: "客服1" }];
    const groups = [{ id: 3, name: "A线" }];
    expect(personName(users, 7)).toBe("客服1");
    expect(personName(groups, 3)).toBe("A线");
    expect(personName(users, 9)).toBe("#9");
    expect(personName(undefined, 9)).toBe("#9");
    expect(personName(users, null)).toBe("—");
  });
});
