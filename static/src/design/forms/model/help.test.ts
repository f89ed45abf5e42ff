import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { firstHelp, helpOf, nodeByKey, removeField, setKey, suggestOf, toDefinition, toState, withHelp, withSuggest, type FormDefinition } from "./index";

const FORMS = join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/aftersales/forms");
const read = (name: string) => JSON.parse(readFileSync(join(FORMS, `${name}.json`), "utf8")) as FormDefinition;

const choice = (key: string, values: string[]) => ({
  key,
  type: "select" as const,
  label: { "zh-CN": key },
  options: values.map((value) => ({ value, label: { "zh-CN": value } })),
});
const FAQ: FormDefinition = {
  key: "faq",
  label: { "zh-CN": "常见问题" },
  fields: [
    { key: "question", type: "text", label: { "zh-CN": "问题" } },
    { key: "symptoms", type: "textarea", label: { "zh-CN": "现象" } },
    { key: "answer", type: "rich_text", label: { "zh-CN": "解答" } },
    choice("line", ["A", "B"]),
    choice("status", ["draft", "published"]),
  ],
  options: { title_field: "question" },
};

describe("the help center in the form designer", () => {
  it("starts a help block from the form's fields", () => {
    expect(firstHelp(toState(FAQ))).toEqual({
      title: "question",
      summary: "symptoms",
      body: "answer",
      facets: ["line"],
      shown_when: { field: "status", values: ["published"] },
    });
    // the knowledge article of the package would start as it ships
    const article = read("knowledge_article");
    const { help, ...without } = article as FormDefinition & { help: unknown };
    expect(firstHelp(toState(without as FormDefinition))).toEqual({ ...(help as object), facets: ["issue_type", "product_line"] });
    const bare: FormDefinition = { ...FAQ, fields: FAQ.fields.filter((f) => f.type !== "select") };
    expect(firstHelp(toState(bare))).toBeNull(); // nothing decides what is public
  });

  it("sets and removes the blocks, suggestions only on a form with a public side", () => {
    const state = toState(FAQ);
    const help = firstHelp(state)!;
    expect(helpOf(withHelp(state.form, help))).toEqual(help);
    expect(helpOf(withHelp(withHelp(state.form, help), undefined))).toBeUndefined();
    expect(withSuggest(state.form, { form: "faq", from: ["question"] })).toBe(state.form);
    const ticket = toState(read("ticket"));
    expect(suggestOf(ticket.form)).toEqual({ form: "knowledge_article", from: ["title", "description"] });
    const none = withSuggest(ticket.form, undefined);
    expect(suggestOf(none)).toBeUndefined();
    expect((none as Record<string, unknown>).public).toEqual({ fields: (read("ticket") as unknown as { public: { fields: string[] } }).public.fields });
  });

  it("keeps the help block and the suggestions with the fields they name", () => {
    const state = toState({ ...FAQ, help: firstHelp(toState(FAQ)), public: { fields: ["question"], suggest: { form: "faq", from: ["question", "symptoms"] } } } as FormDefinition);
    const renamed = setKey(state, nodeByKey(state, "status")!.id, "state").state;
    expect((toDefinition(renamed) as unknown as { help: { shown_when: unknown } }).help.shown_when).toEqual({ field: "state", values: ["published"] });
    const retitled = setKey(state, nodeByKey(state, "question")!.id, "q").state;
    const body = toDefinition(retitled) as unknown as { help: { title: string }; public: { suggest: { from: string[] } } };
    expect(body.help.title).toBe("q");
    expect(body.public.suggest.from).toEqual(["q", "symptoms"]);
    const removed = toDefinition(removeField(state, nodeByKey(state, "symptoms")!.id).state) as unknown as { help: Record<string, unknown>; public: { suggest: { from: string[] } } };
    expect(removed.help.summary).toBeUndefined();
    expect(removed.public.suggest.from).toEqual(["question"]);
    const facetGone = toDefinition(removeField(state, nodeByKey(state, "line")!.id).state) as unknown as { help: { facets: string[] } };
    expect(facetGone.help.facets).toEqual([]);
    // a field the blocks do not name changes nothing in them
    const other = setKey(state, nodeByKey(state, "answer")!.id, "reply").state;
    expect((toDefinition(other) as unknown as { help: { body: string } }).help.body).toBe("reply");
  });
});
