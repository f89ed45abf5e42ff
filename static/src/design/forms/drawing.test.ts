import { describe, expect, it } from "vitest";
import type { FormSchema } from "../../api";
import { drawingsOf } from "./drawing";

function compiled(title = "标题"): FormSchema {
  return {
    key: "ticket",
    version: 0,
    label: "工单",
    json_schema: {
      type: "object",
      required: ["title"],
      properties: {
        title: { type: "string", maxLength: 200 },
        lines: {
          type: "array",
          items: { type: "object", required: ["qty"], properties: { qty: { type: "integer" }, note: { type: "string" }, _id: { type: "string" } } },
        },
      },
    },
    ui_schema: {
      "ui:order": ["title", "lines"],
      title: { "ui:title": title, "ui:placeholder": "一句话" },
      lines: { "ui:title": "明细", items: { qty: { "ui:title": "数量" }, note: { "ui:title": "备注" }, _id: { "ui:widget": "hidden" } } },
    },
    conditions: {},
    messages: {},
    fields: [
      { key: "title", type: "text", label: title, required: true, indexed: false },
      {
        key: "lines",
        type: "sub_table",
        label: "明细",
        required: false,
        indexed: false,
        fields: [
          { key: "qty", type: "integer", label: "数量", required: true, indexed: false },
          { key: "note", type: "text", label: "备注", required: false, indexed: false },
        ],
      },
    ],
    title_field: null,
    can: { create: true, update: true, delete: true },
    create_fields: [],
  };
}

describe("drawingsOf", () => {
  it("cuts the compiled form into its fields and its sub-tables' columns", () => {
    const drawings = drawingsOf(compiled());
    expect([...drawings.keys()]).toEqual(["title", "lines", "lines/qty", "lines/note"]);
    const title = drawings.get("title")!;
    expect(title).toMatchObject({ key: "title", parent: [], required: true, schema: { type: "string", maxLength: 200 } });
    expect(title.uiSchema).toEqual({ "ui:title": "标题", "ui:placeholder": "一句话" });
    const qty = drawings.get("lines/qty")!;
    expect(qty).toMatchObject({ key: "qty", parent: ["lines"], required: true, uiSchema: { "ui:title": "数量" } });
    expect(drawings.get("lines/note")!.required).toBe(false);
  });

  it("keeps the drawing of a field that did not change when the form is compiled again", () => {
    const before = drawingsOf(compiled());
    const after = drawingsOf(compiled("工单标题"), before);
    expect(after.get("title")).not.toBe(before.get("title"));
    expect(after.get("title")!.uiSchema).toMatchObject({ "ui:title": "工单标题" });
    expect(after.get("lines/qty")).toBe(before.get("lines/qty"));
    expect(after.get("lines")).toBe(before.get("lines"));
  });
});
