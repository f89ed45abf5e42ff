import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  addField,
  addSection,
  CATALOG,
  containerOf,
  dragPlace,
  duplicateField,
  FIELD_TYPES,
  findNode,
  keyProblem,
  listOf,
  moveDown,
  moveField,
  moveToSection,
  moveUp,
  nodeByKey,
  optionsFromLines,
  pinOf,
  pointerOf,
  push,
  redo,
  removeField,
  removeSection,
  setKey,
  setLabel,
  setProperty,
  start,
  suggestKey,
  toDefinition,
  toState,
  undo,
  type DesignerState,
  type FormDefinition,
} from "./index";

const FORMS = join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/aftersales/forms");
const forms: [string, FormDefinition][] = readdirSync(FORMS)
  .filter((name) => name.endsWith(".json"))
  .map((name) => [name, JSON.parse(readFileSync(join(FORMS, name), "utf8")) as FormDefinition]);

/** JSON with object keys sorted: equal texts mean equal meaning. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const keys = (state: DesignerState, ids: string[]) => ids.map((id) => findNode(state, id)!.node.body.key);
const SMALL: FormDefinition = {
  key: "inspection",
  label: { "zh-CN": "巡检" },
  fields: [
    { key: "title", type: "text", label: { "zh-CN": "标题" } },
    { key: "site", type: "text", label: { "zh-CN": "地点" } },
    { key: "items", type: "sub_table", label: { "zh-CN": "检查项" }, fields: [{ key: "what", type: "text", label: { "zh-CN": "项目" } }] },
    { key: "note", type: "textarea", label: { "zh-CN": "备注" }, visible_when: { "!!": { var: "site" } } },
  ],
  layout: { sections: [{ title: { "zh-CN": "基本" }, columns: 2, fields: ["title", "site"] }, { title: { "zh-CN": "明细" }, fields: ["items"] }] },
  options: { title_field: "title" },
};

describe("definition ↔ designer state", () => {
  it.each(forms)("round-trips %s unchanged", (_name, definition) => {
    expect(canonical(toDefinition(toState(definition)))).toBe(canonical(definition));
  });

  it("covers every after-sales form", () => {
    expect(forms.length).toBeGreaterThanOrEqual(10);
  });

  it("keeps a form without a layout without one, and odd layouts as they were", () => {
    const bare: FormDefinition = { key: "a", label: { "zh-CN": "甲" }, fields: [{ key: "x", type: "text", label: { "zh-CN": "X" } }] };
    expect(toDefinition(toState(bare))).toEqual(bare);
    const odd: FormDefinition = { ...bare, layout: { sections: [{ fields: ["x", "x", "ghost"] }] } };
    expect(toDefinition(toState(odd))).toEqual(odd);
    const empty: FormDefinition = { ...bare, layout: {} };
    expect(toDefinition(toState(empty))).toEqual(empty);
  });

  it("keeps properties it does not know", () => {
    const strange = { ...SMALL, extra: 1, fields: [{ ...SMALL.fields[0], width: 12, surprise: [1] }] } as FormDefinition;
    expect(canonical(toDefinition(toState(strange)))).toBe(canonical(strange));
  });
});

describe("keys from labels", () => {
  it("spells Chinese in pinyin and Latin as a slug", () => {
    expect(suggestKey("中文标签")).toBe("zhong_wen_biao_qian");
    expect(suggestKey("Contact e-mail")).toBe("contact_e_mail");
    expect(suggestKey("设备 ID 编号")).toBe("she_bei_id_bian_hao");
    expect(suggestKey("绿色")).toBe("lv_se");
  });

  it("starts with a letter, avoids reserved words and taken keys, and stays short", () => {
    expect(suggestKey("2号线")).toBe("field_2_hao_xian");
    expect(suggestKey("")).toBe("field");
    expect(suggestKey("！？")).toBe("field");
    expect(suggestKey("select")).toBe("select_field");
    expect(suggestKey("标题", ["biao_ti", "biao_ti_2"])).toBe("biao_ti_3");
    const long = suggestKey("很".repeat(80), ["hen".repeat(21)]);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(keyProblem(long, [])).toBeNull();
  });

  it("says what is wrong with a key", () => {
    expect(keyProblem("Bad", [])).toBe("pattern");
    expect(keyProblem("order", [])).toBe("reserved");
    expect(keyProblem("title", ["title"])).toBe("taken");
  });
});

describe("the palette", () => {
  it("offers every field type of the engine with a valid new body", () => {
    expect(CATALOG.map((k) => k.type).sort()).toEqual([...FIELD_TYPES].sort());
    for (const kind of CATALOG) expect(kind.name["zh-CN"]).toBeTruthy();
  });
});

describe("what a drag announces", () => {
  it("names its source and target as a person sees them, never by id", () => {
    const state = toState(SMALL);
    const items = nodeByKey(state, "items")!;
    const second = state.sections![1].id;
    expect(dragPlace(state, "palette:number")).toEqual({ kind: "new", name: { "zh-CN": "数字", en: "Number" } });
    expect(dragPlace(state, nodeByKey(state, "site")!.id)).toEqual({ kind: "field", name: { "zh-CN": "地点" } });
    expect(dragPlace(state, items.columns![0].id)).toEqual({ kind: "field", name: { "zh-CN": "项目" } });
    expect(dragPlace(state, `table:${items.id}`)).toEqual({ kind: "table", name: { "zh-CN": "检查项" } });
    expect(dragPlace(state, `section:${second}`)).toEqual({ kind: "section", name: { "zh-CN": "明细" }, index: 2 });
    expect(dragPlace(state, "root")).toEqual({ kind: "form" });
    expect(dragPlace(state, "unplaced")).toEqual({ kind: "unplaced" });
  });
});

describe("designer operations", () => {
  it("adds a field where it is dropped, with a key from its name", () => {
    const state = toState(SMALL);
    const section = state.sections![0].id;
    const { state: next, id } = addField(state, "select", `section:${section}`, 1);
    expect(keys(next, listOf(next, `section:${section}`))).toEqual(["title", "xia_la_kuang", "site"]);
    expect(findNode(next, id!)!.node.body.options).toHaveLength(2);
    // in fields it goes after the field drawn before it; nothing else moves
    expect(toDefinition(next).fields.map((f) => f.key)).toEqual(["title", "xia_la_kuang", "site", "items", "note"]);
  });

  it("refuses a sub-table inside a sub-table", () => {
    const state = toState(SMALL);
    const table = nodeByKey(state, "items")!.id;
    const result = addField(state, "sub_table", `table:${table}`, 0);
    expect(result.refused?.code).toBe("sub_table.nested");
    expect(result.state).toBe(state);
  });

  it("moves fields within and between sections, into and out of sub-tables", () => {
    let state = toState(SMALL);
    const [first, second] = state.sections!.map((s) => s.id);
    const site = nodeByKey(state, "site")!.id;
    state = moveField(state, site, `section:${second}`, 0).state;
    expect(keys(state, listOf(state, `section:${first}`))).toEqual(["title"]);
    expect(keys(state, listOf(state, `section:${second}`))).toEqual(["site", "items"]);
    const table = nodeByKey(state, "items")!.id;
    state = moveField(state, site, `table:${table}`, 1).state;
    expect(toDefinition(state).fields.find((f) => f.key === "items")!.fields!.map((f) => f.key)).toEqual(["what", "site"]);
    expect(toDefinition(state).layout!.sections![1].fields).toEqual(["items"]);
    const what = findNode(state, nodeByKey(state, "items")!.columns![0].id)!.node.id;
    state = moveField(state, what, "unplaced", 0).state;
    expect(keys(state, listOf(state, "unplaced"))).toContain("what");
    expect(toDefinition(state).fields.map((f) => f.key)).toContain("what");
  });

  it("refuses a move that would give two siblings one key", () => {
    const definition = structuredClone(SMALL);
    definition.fields[2].fields!.push({ key: "site", type: "text", label: { "zh-CN": "地点" } });
    const state = toState(definition);
    const result = moveField(state, nodeByKey(state, "site")!.id, `table:${nodeByKey(state, "items")!.id}`, 0);
    expect(result.refused?.code).toBe("key.taken");
  });

  it("offers keyboard moves: up, down and into a section", () => {
    let state = toState(SMALL);
    const site = nodeByKey(state, "site")!.id;
    state = moveUp(state, site).state;
    expect(toDefinition(state).layout!.sections![0].fields).toEqual(["site", "title"]);
    state = moveDown(state, site).state;
    expect(toDefinition(state).layout!.sections![0].fields).toEqual(["title", "site"]);
    state = moveToSection(state, site, state.sections![1].id).state;
    expect(toDefinition(state).layout!.sections![1].fields).toEqual(["items", "site"]);
    expect(containerOf(state, site)).toEqual({ container: `section:${state.sections![1].id}`, index: 1 });
  });

  it("removes a field from its section and the form's options, and names who read it", () => {
    const state = toState(SMALL);
    const removed = removeField(state, nodeByKey(state, "title")!.id);
    expect(toDefinition(removed.state).options).toBeUndefined();
    expect(toDefinition(removed.state).layout!.sections![0].fields).toEqual(["site"]);
    const site = removeField(state, nodeByKey(state, "site")!.id);
    expect(site.references).toEqual([nodeByKey(state, "note")!.id]);
  });

  it("duplicates a field with a key and label of its own", () => {
    const state = toState(SMALL);
    const { state: next, id } = duplicateField(state, nodeByKey(state, "items")!.id);
    const copy = findNode(next, id!)!.node;
    expect(copy.body.key).toBe("items_copy");
    expect(copy.body.label["zh-CN"]).toBe("检查项（副本）");
    expect(copy.columns!.map((c) => c.body.key)).toEqual(["what"]);
    expect(copy.columns![0].id).not.toBe(nodeByKey(state, "items")!.columns![0].id);
  });

  it("lets the key follow the label until it is typed or published", () => {
    let state = addField(toState(SMALL), "text", "unplaced", 0).state;
    const id = listOf(state, "unplaced")[0];
    state = setLabel(state, id, { "zh-CN": "设备名称" }, new Set());
    expect(findNode(state, id)!.node.body.key).toBe("she_bei_ming_cheng");
    const published = setLabel(state, nodeByKey(state, "title")!.id, { "zh-CN": "主题" }, new Set(["title"]));
    expect(nodeByKey(published, "title")!.body.label["zh-CN"]).toBe("主题");
    const typed = setKey(state, id, "device");
    expect(typed.refused).toBeUndefined();
    state = setLabel(typed.state, id, { "zh-CN": "设备" }, new Set());
    expect(findNode(state, id)!.node.body.key).toBe("device");
    expect(setKey(state, id, "title").refused?.code).toBe("key.taken");
    expect(setKey(state, id, "Bad Key").refused?.code).toBe("key.invalid");
  });

  it("renaming the title field's key keeps the form's title field", () => {
    const state = toState(SMALL);
    const next = setKey(state, nodeByKey(state, "title")!.id, "subject").state;
    expect(toDefinition(next).options).toEqual({ title_field: "subject" });
  });

  it("keeps the public block's fields with the fields they name (removed, renamed)", () => {
    const state = toState({ ...SMALL, public: { fields: ["title", "site"] } });
    const removed = removeField(state, nodeByKey(state, "site")!.id).state;
    expect(toDefinition(removed).public).toEqual({ fields: ["title"] });
    const renamed = setKey(state, nodeByKey(state, "title")!.id, "subject").state;
    expect(toDefinition(renamed).public).toEqual({ fields: ["subject", "site"] });
    const other = removeField(state, nodeByKey(state, "note")!.id).state;
    expect(toDefinition(other).public).toBe(toDefinition(state).public);
    expect(toDefinition(removeField(toState(SMALL), nodeByKey(toState(SMALL), "site")!.id).state).public).toBeUndefined();
  });

  it("keeps the mail block's slots with the fields they name (removed, renamed)", () => {
    const mail = { channel: "service", subject: "title", body: "note", sender: "site", values: { site: "x" }, customer: { form: "c", email: "e", field: "title" } };
    const state = toState({ ...SMALL, mail });
    const renamed = setKey(state, nodeByKey(state, "title")!.id, "subject").state;
    expect(toDefinition(renamed).mail).toEqual({ ...mail, subject: "subject", customer: { ...mail.customer, field: "subject" } });
    const removed = removeField(state, nodeByKey(state, "site")!.id).state;
    expect(toDefinition(removed).mail).toEqual({ channel: "service", subject: "title", body: "note", values: {}, customer: mail.customer });
    const body = removeField(state, nodeByKey(state, "note")!.id).state;
    expect(toDefinition(body).mail).toEqual({ ...mail });
  });

  it("sets and unsets properties without writing null", () => {
    const state = toState(SMALL);
    const id = nodeByKey(state, "site")!.id;
    const required = setProperty(state, id, "required", true);
    expect(toDefinition(required).fields[1].required).toBe(true);
    expect("required" in toDefinition(setProperty(required, id, "required", undefined)).fields[1]).toBe(false);
  });

  it("adds and removes sections; their fields go to a neighbour", () => {
    const bare = toState({ ...SMALL, layout: undefined });
    const { state } = addSection(bare, { "zh-CN": "第一部分" });
    expect(toDefinition(state).layout!.sections![0].fields).toEqual(["title", "site", "items", "note"]);
    let layered = toState(SMALL);
    layered = removeSection(layered, layered.sections![1].id).state;
    expect(toDefinition(layered).layout!.sections).toEqual([{ title: { "zh-CN": "基本" }, columns: 2, fields: ["title", "site", "items"] }]);
  });

  it("reads options from pasted lines", () => {
    expect(optionsFromLines("ok 正常\nbad\t异常\n\n待定", [{ value: "ok" }])).toEqual([
      { value: "ok_2", label: { "zh-CN": "正常" } },
      { value: "bad", label: { "zh-CN": "异常" } },
      { value: "dai_ding", label: { "zh-CN": "待定" } },
    ]);
  });
});

describe("undo and redo", () => {
  it("steps back and forth, coalescing typing into one step", () => {
    let history = start(1);
    history = push(history, 2, "f1:label", 0);
    history = push(history, 3, "f1:label", 200);
    history = push(history, 4, "f1:required", 300);
    expect(history.past).toEqual([1, 3]);
    history = undo(history);
    expect(history.present).toBe(3);
    history = undo(history);
    expect(history.present).toBe(1);
    history = redo(history);
    expect(history.present).toBe(3);
    history = push(history, 9);
    expect(history.future).toEqual([]);
    expect(undo(start(1))).toEqual(start(1));
  });

  it("keeps at most a hundred steps", () => {
    let history = start(0);
    for (let n = 1; n <= 150; n++) history = push(history, n);
    expect(history.past).toHaveLength(100);
  });
});

describe("problems pinned on fields", () => {
  it("maps the server's pointers to fields and back", () => {
    const state = toState(SMALL);
    const items = nodeByKey(state, "items")!;
    expect(pinOf(state, "/fields/1/pattern")).toEqual({ nodeId: nodeByKey(state, "site")!.id, property: "pattern" });
    expect(pinOf(state, "/fields/2/fields/0/label")).toEqual({ nodeId: items.columns![0].id, property: "label" });
    expect(pinOf(state, "/layout/sections/0/fields/1")).toMatchObject({ nodeId: nodeByKey(state, "site")!.id });
    expect(pinOf(state, "/options/title_field").nodeId).toBeNull();
    expect(pointerOf(state, items.columns![0].id, "formula")).toBe("/fields/2/fields/0/formula");
    for (const { body } of state.fields) expect(pinOf(state, pointerOf(state, nodeByKey(state, body.key)!.id)!).nodeId).toBe(nodeByKey(state, body.key)!.id);
  });
});
