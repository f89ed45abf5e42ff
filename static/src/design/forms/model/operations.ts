// Pure changes of the designer state, each returning a new state: what the palette, the canvas's
// drags (and their keyboard alternatives) and the property panel do. A change that cannot be made
// returns the state unchanged with the reason, in both languages.
import { KIND_OF } from "./catalog";
import { suggestKey } from "./keys";
import { withHelpFields } from "./help";
import type { ContainerId, DesignerState, FieldNode, FieldType, OptionDef, SectionNode, Text } from "./types";

export interface Refusal {
  code: "sub_table.nested" | "key.taken" | "key.invalid" | "not_found" | "section.last" | "type.not_in_table";
  message: Text;
}

export interface Change {
  state: DesignerState;
  refused?: Refusal;
  /** The field or section the change made (add, duplicate). */
  id?: string;
}

const refuse = (state: DesignerState, code: Refusal["code"], zh: string, en: string): Change => ({
  state,
  refused: { code, message: { "zh-CN": zh, en } },
});

// --- reading ----------------------------------------------------------------------------------

/** Every field node, columns included, with its sub-table (``null`` at the top). */
export function allNodes(state: DesignerState): { node: FieldNode; parent: FieldNode | null }[] {
  return state.fields.flatMap((node) => [
    { node, parent: null },
    ...(node.columns ?? []).map((column) => ({ node: column, parent: node })),
  ]);
}

export function findNode(state: DesignerState, id: string): { node: FieldNode; parent: FieldNode | null } | undefined {
  return allNodes(state).find((entry) => entry.node.id === id);
}

/** The top-level field holding ``key`` (or the column ``key`` of sub-table ``table``). */
export function nodeByKey(state: DesignerState, key: string, table?: string): FieldNode | undefined {
  if (table !== undefined) return state.fields.find((f) => f.body.key === table)?.columns?.find((c) => c.body.key === key);
  return state.fields.find((f) => f.body.key === key);
}

/** The containers the canvas draws, in order: the sections and the fields outside them, or the
 * whole form when it has no layout. */
export function topContainers(state: DesignerState): ContainerId[] {
  if (state.sections === null) return ["root"];
  return [...state.sections.map((s) => `section:${s.id}` as ContainerId), "unplaced"];
}

/** The field ids of a container, in order. */
export function listOf(state: DesignerState, container: ContainerId): string[] {
  if (container === "root") return state.fields.map((f) => f.id);
  if (container === "unplaced") {
    const placed = new Set((state.sections ?? []).flatMap((s) => s.fields));
    return state.fields.filter((f) => !placed.has(f.id)).map((f) => f.id);
  }
  if (container.startsWith("table:")) {
    return state.fields.find((f) => f.id === container.slice(6))?.columns?.map((c) => c.id) ?? [];
  }
  return state.sections?.find((s) => s.id === container.slice(8))?.fields ?? [];
}

/** Where a field is drawn: its container and its index there. */
export function containerOf(state: DesignerState, id: string): { container: ContainerId; index: number } | undefined {
  const found = findNode(state, id);
  if (!found) return undefined;
  if (found.parent) return { container: `table:${found.parent.id}`, index: found.parent.columns!.findIndex((c) => c.id === id) };
  for (const container of topContainers(state)) {
    const index = listOf(state, container).indexOf(id);
    if (index >= 0) return { container, index };
  }
  return undefined;
}

/** The keys taken among a node's siblings (the form's fields, or the sub-table's columns). */
export function siblingKeys(state: DesignerState, container: ContainerId, except?: string): string[] {
  const nodes = container.startsWith("table:")
    ? (state.fields.find((f) => f.id === container.slice(6))?.columns ?? [])
    : state.fields;
  return nodes.filter((n) => n.id !== except).map((n) => n.body.key);
}

// --- fields -----------------------------------------------------------------------------------

function fresh(state: DesignerState): [string, DesignerState] {
  return [`n${state.next}`, { ...state, next: state.next + 1 }];
}

/** Puts ``node`` (not in the state) into ``container`` at ``index``. */
function place(state: DesignerState, node: FieldNode, container: ContainerId, index: number): DesignerState {
  if (container.startsWith("table:")) {
    const tableId = container.slice(6);
    return {
      ...state,
      fields: state.fields.map((f) => {
        if (f.id !== tableId) return f;
        const columns = [...(f.columns ?? [])];
        columns.splice(Math.max(0, Math.min(index, columns.length)), 0, node);
        return { ...f, columns };
      }),
    };
  }
  if (container === "root" || state.sections === null) {
    const fields = [...state.fields];
    fields.splice(Math.max(0, Math.min(index, fields.length)), 0, node);
    return { ...state, fields };
  }
  // in a layout: the section's list changes; in ``fields`` the node goes right after the field
  // drawn before it, so the rest of the form's order (exports, lists) stays as it was
  let sections = state.sections;
  if (container !== "unplaced") {
    sections = state.sections.map((s) => {
      if (`section:${s.id}` !== container) return s;
      const ids = [...s.fields];
      ids.splice(Math.max(0, Math.min(index, ids.length)), 0, node.id);
      return { ...s, fields: ids };
    });
  }
  const withSections = { ...state, sections };
  const drawn = [...topContainers(withSections).flatMap((c) => (c === "unplaced" ? [] : listOf(withSections, c)))];
  let before: string | undefined;
  if (container === "unplaced") {
    const rest = listOf(state, "unplaced");
    before = index > 0 ? rest[Math.min(index, rest.length) - 1] : drawn[drawn.length - 1];
  } else {
    const at = drawn.indexOf(node.id);
    before = at > 0 ? drawn[at - 1] : undefined;
  }
  const fields = [...state.fields];
  const after = before === undefined ? -1 : fields.findIndex((f) => f.id === before);
  fields.splice(after + 1, 0, node);
  return { ...withSections, fields };
}

/** Takes a field out of the state (and out of every section). */
function take(state: DesignerState, id: string): [FieldNode | undefined, DesignerState] {
  const found = findNode(state, id);
  if (!found) return [undefined, state];
  if (found.parent) {
    const parentId = found.parent.id;
    return [
      found.node,
      { ...state, fields: state.fields.map((f) => (f.id === parentId ? { ...f, columns: f.columns!.filter((c) => c.id !== id) } : f)) },
    ];
  }
  return [
    found.node,
    {
      ...state,
      fields: state.fields.filter((f) => f.id !== id),
      sections: state.sections?.map((s) => (s.fields.includes(id) ? { ...s, fields: s.fields.filter((x) => x !== id) } : s)) ?? null,
    },
  ];
}

/** A new field of ``type`` at ``index`` of ``container``, labelled with the type's name. */
export function addField(state: DesignerState, type: FieldType, container: ContainerId, index: number, lang: "zh-CN" | "en" = "zh-CN"): Change {
  const kind = KIND_OF[type];
  if (!kind) return refuse(state, "not_found", `没有字段类型 ${type}`, `There is no field type ${type}`);
  if (container.startsWith("table:") && !kind.inTable)
    return refuse(state, "sub_table.nested", "子表单中不能再放子表单", "A sub-table cannot hold a sub-table");
  const [id, next] = fresh(state);
  const label: Text = lang === "en" && kind.name.en ? { "zh-CN": kind.name["zh-CN"], en: kind.name.en } : { "zh-CN": kind.name["zh-CN"] };
  const key = suggestKey(label["zh-CN"], siblingKeys(next, container));
  const node: FieldNode = { id, body: { key, type, label, ...kind.create() } };
  if (type === "sub_table") {
    node.columns = [];
    node.hadColumns = true;
  }
  return { state: place(next, node, container, index), id };
}

/** Moves a field to ``index`` of ``container`` (index as counted without the field itself). */
export function moveField(state: DesignerState, id: string, container: ContainerId, index: number): Change {
  const found = findNode(state, id);
  if (!found) return refuse(state, "not_found", "找不到这个字段", "The field is gone");
  const intoTable = container.startsWith("table:");
  if (intoTable && found.node.body.type === "sub_table")
    return refuse(state, "sub_table.nested", "子表单中不能再放子表单", "A sub-table cannot hold a sub-table");
  if (intoTable && container.slice(6) === id) return refuse(state, "sub_table.nested", "子表单不能放进自己", "A sub-table cannot hold itself");
  const from = containerOf(state, id)!;
  const crossing = intoTable !== from.container.startsWith("table:") || (intoTable && from.container !== container);
  if (crossing && siblingKeys(state, container).includes(found.node.body.key))
    return refuse(state, "key.taken", `目标处已有标识为 ${found.node.body.key} 的字段`, `A field with key ${found.node.body.key} is already there`);
  const [node, without] = take(state, id);
  return { state: place(without, node!, container, index) };
}

export function removeField(state: DesignerState, id: string): Change & { references: string[] } {
  const found = findNode(state, id);
  if (!found) return { ...refuse(state, "not_found", "找不到这个字段", "The field is gone"), references: [] };
  const [, without] = take(state, id);
  const key = found.node.body.key;
  const options = { ...((without.form.options as Record<string, unknown> | undefined) ?? {}) };
  let form = without.form;
  if (!found.parent && (options.title_field === key || options.group_field === key)) {
    if (options.title_field === key) delete options.title_field;
    if (options.group_field === key) delete options.group_field;
    form = { ...form, options };
    if (Object.keys(options).length === 0) delete (form as Record<string, unknown>).options;
  }
  if (!found.parent) form = withHelpFields(withMailFields(withPublicFields(form, (keys) => keys.filter((k) => k !== key)), key, null), key, null);
  return { state: { ...without, form }, references: found.parent ? [] : referencesTo(without, key) };
}

/** The form with its ``public.fields`` (what a record's status page shows) changed by ``change``;
 * a form without a ``public`` block is returned as it is (the designer adds none). */
function withPublicFields(form: DesignerState["form"], change: (keys: string[]) => string[]): DesignerState["form"] {
  const block = (form as Record<string, unknown>).public as { fields?: unknown } | undefined;
  if (!block || !Array.isArray(block.fields)) return form;
  const before = block.fields as string[];
  const after = change(before);
  if (after.length === before.length && after.every((k, i) => k === before[i])) return form;
  return { ...form, public: { ...block, fields: after } };
}

/** The slots of the ``mail`` block (e-mail intake) that name one field of this form. */
const MAIL_SLOTS = ["subject", "body", "attachments", "sender", "sender_name"] as const;

/** The form with its ``mail`` block following the field ``old``: renamed to ``key``, or, when
 * ``key`` is null (removed), its optional slots and fixed value dropped (the required ``subject``
 * and ``body`` stay: publishing then names them). A form without the block is returned as it is. */
export function withMailFields(form: DesignerState["form"], old: string, key: string | null): DesignerState["form"] {
  const block = (form as Record<string, unknown>).mail as Record<string, unknown> | undefined;
  if (!block || typeof block !== "object") return form;
  const next: Record<string, unknown> = { ...block };
  let changed = false;
  for (const slot of MAIL_SLOTS) {
    if (next[slot] !== old) continue;
    changed = true;
    if (key !== null) next[slot] = key;
    else if (slot !== "subject" && slot !== "body") delete next[slot];
  }
  const values = next.values as Record<string, unknown> | undefined;
  if (values && typeof values === "object" && old in values) {
    changed = true;
    const { [old]: value, ...rest } = values;
    next.values = key !== null ? { ...rest, [key]: value } : rest;
  }
  const customer = next.customer as Record<string, unknown> | undefined;
  if (customer && typeof customer === "object" && customer.field === old && key !== null) {
    changed = true;
    next.customer = { ...customer, field: key };
  }
  return changed ? { ...form, mail: next } : form;
}

/** The ids of the fields whose conditions or formula read the field ``key``. */
export function referencesTo(state: DesignerState, key: string): string[] {
  return allNodes(state)
    .filter(({ node }) => ["visible_when", "required_when", "formula", "default"].some((p) => readsVar(node.body[p], key)))
    .map(({ node }) => node.id);
}

function readsVar(logic: unknown, key: string): boolean {
  if (Array.isArray(logic)) return logic.some((item) => readsVar(item, key));
  if (logic && typeof logic === "object") {
    return Object.entries(logic as Record<string, unknown>).some(([op, args]) => {
      if (op === "var") {
        const name = Array.isArray(args) ? args[0] : args;
        if (typeof name === "string" && (name === key || name.startsWith(`${key}.`) || name === `$record.${key}`)) return true;
      }
      return readsVar(args, key);
    });
  }
  return false;
}

/** A copy of a field right after it, with a key of its own and 「（副本）」 after its label. */
export function duplicateField(state: DesignerState, id: string): Change {
  const found = findNode(state, id);
  if (!found) return refuse(state, "not_found", "找不到这个字段", "The field is gone");
  const where = containerOf(state, id)!;
  return pasteField(state, found.node, where.container, where.index + 1);
}

/** Pastes a copied field (from this form or another) at ``index`` of ``container``. */
export function pasteField(state: DesignerState, copied: FieldNode, container: ContainerId, index: number): Change {
  if (container.startsWith("table:") && copied.body.type === "sub_table")
    return refuse(state, "sub_table.nested", "子表单中不能再放子表单", "A sub-table cannot hold a sub-table");
  let next = state;
  const clone = (node: FieldNode): FieldNode => {
    const [id, after] = fresh(next);
    next = after;
    return { ...structuredClone(node), id, columns: node.columns?.map(clone), keyEdited: false };
  };
  const node = clone(copied);
  const label = node.body.label;
  node.body = {
    ...node.body,
    key: suggestKey(`${copied.body.key}_copy`, siblingKeys(next, container)),
    label: { "zh-CN": `${label["zh-CN"]}（副本）`, ...(label.en ? { en: `${label.en} (copy)` } : {}) },
  };
  return { state: place(next, node, container, index), id: node.id };
}

/** Sets (or, with ``undefined``, removes) one property of a field; never its key or columns. */
export function setProperty(state: DesignerState, id: string, property: string, value: unknown): DesignerState {
  return mapNode(state, id, (node) => {
    const body = { ...node.body };
    if (value === undefined) delete body[property];
    else body[property] = value;
    return { ...node, body };
  });
}

/** A new label; the key follows it while the field is unpublished and its key was never typed. */
export function setLabel(state: DesignerState, id: string, label: Text, publishedKeys: ReadonlySet<string>): DesignerState {
  const found = findNode(state, id);
  if (!found) return state;
  const path = found.parent ? `${found.parent.body.key}.${found.node.body.key}` : found.node.body.key;
  const follows = !found.node.keyEdited && !publishedKeys.has(path);
  const container = found.parent ? (`table:${found.parent.id}` as ContainerId) : "root";
  return mapNode(state, id, (node) => ({
    ...node,
    body: {
      ...node.body,
      label,
      ...(follows ? { key: suggestKey(label["zh-CN"] || label.en || "", siblingKeys(state, container, id)) } : {}),
    },
  }));
}

/** A key typed by the user; refused when it is not a key or a sibling has it. */
export function setKey(state: DesignerState, id: string, key: string): Change {
  const found = findNode(state, id);
  if (!found) return refuse(state, "not_found", "找不到这个字段", "The field is gone");
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(key))
    return refuse(state, "key.invalid", "标识须以小写字母开头，只含小写字母、数字和下划线", "A key is a lowercase letter, then lowercase letters, digits or _");
  const container = found.parent ? (`table:${found.parent.id}` as ContainerId) : "root";
  if (siblingKeys(state, container, id).includes(key))
    return refuse(state, "key.taken", `已有标识为 ${key} 的字段`, `Another field has the key ${key}`);
  const old = found.node.body.key;
  let next = mapNode(state, id, (node) => ({ ...node, body: { ...node.body, key }, keyEdited: true }));
  if (!found.parent) {
    const options = next.form.options as Record<string, unknown> | undefined;
    if (options && (options.title_field === old || options.group_field === old)) {
      next = {
        ...next,
        form: {
          ...next.form,
          options: {
            ...options,
            ...(options.title_field === old ? { title_field: key } : {}),
            ...(options.group_field === old ? { group_field: key } : {}),
          },
        },
      };
    }
    next = { ...next, form: withPublicFields(next.form, (keys) => keys.map((k) => (k === old ? key : k))) };
    next = { ...next, form: withHelpFields(withMailFields(next.form, old, key), old, key) };
  }
  return { state: next };
}

function mapNode(state: DesignerState, id: string, change: (node: FieldNode) => FieldNode): DesignerState {
  return {
    ...state,
    fields: state.fields.map((f) => {
      if (f.id === id) return change(f);
      if (f.columns?.some((c) => c.id === id)) return { ...f, columns: f.columns.map((c) => (c.id === id ? change(c) : c)) };
      return f;
    }),
  };
}

/** Keyboard alternatives of a drag: one place up or down in its container, or into a section. */
export function moveUp(state: DesignerState, id: string): Change {
  const where = containerOf(state, id);
  if (!where || where.index === 0) return { state };
  return moveField(state, id, where.container, where.index - 1);
}

export function moveDown(state: DesignerState, id: string): Change {
  const where = containerOf(state, id);
  if (!where || where.index >= listOf(state, where.container).length - 1) return { state };
  return moveField(state, id, where.container, where.index + 1);
}

export function moveToSection(state: DesignerState, id: string, sectionId: string): Change {
  const container = `section:${sectionId}` as ContainerId;
  return moveField(state, id, container, listOf(state, container).length);
}

// --- the form and its sections ----------------------------------------------------------------

/** Sets (or removes) a form-level property: ``label``, ``description``, or ``options.<name>``. */
export function setFormProperty(state: DesignerState, property: string, value: unknown): DesignerState {
  if (property.startsWith("options.")) {
    const name = property.slice(8);
    const options = { ...((state.form.options as Record<string, unknown> | undefined) ?? {}) };
    if (value === undefined) delete options[name];
    else options[name] = value;
    const form = { ...state.form, options };
    if (Object.keys(options).length === 0) delete (form as Record<string, unknown>).options;
    return { ...state, form };
  }
  const form = { ...state.form } as Record<string, unknown>;
  if (value === undefined) delete form[property];
  else form[property] = value;
  return { ...state, form: form as DesignerState["form"] };
}

/** A new section at the end (the first one turns a form without layout into one with its fields
 * all in that section). */
export function addSection(state: DesignerState, title: Text): Change {
  const [id, next] = fresh(state);
  const section: SectionNode = { id: `s${id.slice(1)}`, body: { title }, fields: [] };
  if (next.sections === null) {
    section.fields = next.fields.map((f) => f.id);
    return { state: { ...next, sections: [section], layoutRest: {} }, id: section.id };
  }
  return { state: { ...next, sections: [...next.sections, section] }, id: section.id };
}

/** Removes a section; its fields go to the section before it (or after it), or out of the layout
 * when it was the only one. */
export function removeSection(state: DesignerState, id: string): Change {
  if (!state.sections) return { state };
  const index = state.sections.findIndex((s) => s.id === id);
  if (index < 0) return refuse(state, "not_found", "找不到这个分区", "The section is gone");
  const gone = state.sections[index];
  const rest = state.sections.filter((s) => s.id !== id);
  if (!rest.length) return { state: { ...state, sections: [], layoutRest: state.layoutRest ?? {} } };
  const heir = rest[Math.max(0, index - 1)];
  return {
    state: {
      ...state,
      sections: rest.map((s) => (s.id === heir.id ? { ...s, fields: index > 0 ? [...s.fields, ...gone.fields] : [...gone.fields, ...s.fields] } : s)),
    },
  };
}

export function setSectionProperty(state: DesignerState, id: string, property: "title" | "columns" | "collapsed", value: unknown): DesignerState {
  return {
    ...state,
    sections:
      state.sections?.map((s) => {
        if (s.id !== id) return s;
        const body = { ...s.body } as Record<string, unknown>;
        if (value === undefined) delete body[property];
        else body[property] = value;
        return { ...s, body: body as SectionNode["body"] };
      }) ?? null,
  };
}

export function moveSection(state: DesignerState, id: string, index: number): DesignerState {
  if (!state.sections) return state;
  const section = state.sections.find((s) => s.id === id);
  if (!section) return state;
  const rest = state.sections.filter((s) => s.id !== id);
  rest.splice(Math.max(0, Math.min(index, rest.length)), 0, section);
  return { ...state, sections: rest };
}

// --- options of choice fields -----------------------------------------------------------------

/** Options from pasted lines: ``value label`` (a key-like first word, then the label) or just a
 * label per line (its value is made from it). Values already taken get a suffix. */
export function optionsFromLines(text: string, existing: OptionDef[] = []): OptionDef[] {
  const taken = existing.map((o) => o.value);
  const out: OptionDef[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const match = /^([A-Za-z0-9_.-]{1,100})[\s\t,，]+(.+)$/.exec(line);
    const labelText = match ? match[2].trim() : line;
    let value = match ? match[1] : suggestKey(labelText, taken, "option");
    if (taken.includes(value)) value = suggestKey(value, taken, "option");
    taken.push(value);
    out.push({ value, label: { "zh-CN": labelText } });
  }
  return out;
}
