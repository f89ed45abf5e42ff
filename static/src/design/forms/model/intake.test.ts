import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exposureGaps, firstExposed, inFormOrder, intakeChoices, linkAddress } from "./intake";
import type { FormDefinition } from "./types";

const ticket = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/aftersales/forms/ticket.json"), "utf-8")) as FormDefinition;

const form = {
  fields: [
    { key: "no", type: "serial", label: { "zh-CN": "编号" }, required: true },
    { key: "title", type: "text", label: { "zh-CN": "标题" }, required: true },
    { key: "channel", type: "select", label: { "zh-CN": "渠道" }, required: true, default: "web" },
    { key: "phone", type: "phone", label: { "zh-CN": "电话" } },
    { key: "owner", type: "user", label: { "zh-CN": "处理人" } },
    { key: "product", type: "reference", label: { "zh-CN": "产品" }, reference: { form: "product", display: "model" } },
    { key: "customer", type: "reference", label: { "zh-CN": "客户" }, reference: { form: "customer" } },
    { key: "score", type: "formula", label: { "zh-CN": "评分" } },
    { key: "note", type: "text", label: { "zh-CN": "备注" }, read_only: true },
  ],
} as unknown as FormDefinition;

describe("intake links", () => {
  it("offers what a visitor can fill and asks first for what is needed", () => {
    const choices = intakeChoices(form);
    expect(choices.map((c) => [c.key, c.needed, c.not_offered ?? null])).toEqual([
      ["no", false, "computed"],
      ["title", true, null],
      ["channel", false, null],
      ["phone", false, null],
      ["owner", false, "people"],
      ["product", false, null],
      ["customer", false, "no_display"],
      ["score", false, "computed"],
      ["note", false, "read_only"],
    ]);
    expect(firstExposed(choices)).toEqual(["title"]);
    expect(choices.find((c) => c.key === "product")?.shows).toEqual({ form: "product", field: "model" });
  });

  it("says which needed fields a link leaves out or a visitor cannot fill", () => {
    const choices = intakeChoices(form);
    expect(exposureGaps(choices, ["phone"])).toEqual({ missing: ["title"], unfillable: [] });
    expect(exposureGaps(choices, ["title"])).toEqual({ missing: [], unfillable: [] });
    const picky = intakeChoices({ fields: [...form.fields, { key: "boss", type: "user", label: {}, required: true }] } as unknown as FormDefinition);
    expect(exposureGaps(picky, ["title"]).unfillable).toEqual(["boss"]);
  });

  it("keeps the form's order and builds the address to share", () => {
    expect(inFormOrder(intakeChoices(form), ["phone", "title"])).toEqual(["title", "phone"]);
    expect(linkAddress("https://help.example.com/", "/intake/tgi_a_b")).toBe("https://help.example.com/intake/tgi_a_b");
    expect(linkAddress("http://localhost:8000", "intake/x")).toBe("http://localhost:8000/intake/x");
  });

  it("lets the after-sales ticket have a link a customer can fill", () => {
    const choices = intakeChoices(ticket);
    const first = firstExposed(choices);
    expect(first).toContain("title");
    expect(exposureGaps(choices, first)).toEqual({ missing: [], unfillable: [] });
  });
});
