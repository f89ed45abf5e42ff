// A record read as a document: which fields show, in which sections, and which are empty. Pure
// functions over the form's schema (unit-tested); the component draws what they answer.
import jsonLogic from "json-logic-js";
import type { FieldInfo, FormSchema } from "../api";

export type Level = "editable" | "read_only" | "hidden";

export interface DocItem {
  field: FieldInfo;
  value: unknown;
  empty: boolean;
}

export interface DocSection {
  /** The layout section's title (none for the fields no section places, or a chosen list). */
  title: string | null;
  items: DocItem[];
}

interface LayoutSection {
  title?: string;
  fields: string[];
}

/** Nothing worth a line: no value, an empty text or list, an empty object. */
export function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value as object).length === 0;
  return false;
}

function visible(schema: FormSchema, key: string, data: Record<string, unknown>): boolean {
  const rule = schema.conditions[key]?.visible_when;
  if (rule === undefined) return true;
  try {
    return Boolean(jsonLogic.apply(rule as never, data));
  } catch {
    return true; // an operation only the server knows: shown, as the form shows it
  }
}

/** The record's fields as a document: the layout's sections in order (the fields no section
places after them), or only ``keys`` in their order; fields the permissions hide and fields
whose visible-when does not hold are left out. Each item says whether it is empty. */
export function documentSections(
  schema: FormSchema,
  data: Record<string, unknown>,
  options: { keys?: string[]; permissions?: Record<string, Level> } = {},
): DocSection[] {
  const byKey = new Map(schema.fields.map((f) => [f.key, f]));
  const { permissions } = options;
  const shown = (key: string) => {
    const level = permissions ? (permissions[key] ?? permissions.others ?? "read_only") : "read_only";
    return byKey.has(key) && level !== "hidden" && visible(schema, key, data);
  };
  const item = (key: string): DocItem => {
    const value = data[key];
    return { field: byKey.get(key)!, value, empty: isBlank(value) };
  };
  if (options.keys) return [{ title: null, items: options.keys.filter(shown).map(item) }].filter((s) => s.items.length > 0);
  const layout = ((schema.ui_schema["ui:layout"] as { sections?: LayoutSection[] } | undefined)?.sections ?? []).filter(
    (s) => Array.isArray(s.fields),
  );
  const placed = new Set(layout.flatMap((s) => s.fields));
  const sections: DocSection[] = layout.map((s) => ({ title: s.title ?? null, items: s.fields.filter(shown).map(item) }));
  const rest = schema.fields.map((f) => f.key).filter((k) => !placed.has(k) && shown(k));
  if (rest.length) sections.push({ title: null, items: rest.map(item) });
  return sections.filter((s) => s.items.length > 0);
}

/** Only the items with a value (sections left empty go too), unless empty ones are asked for. */
export function withoutEmpty(sections: DocSection[], showEmpty: boolean): DocSection[] {
  if (showEmpty) return sections;
  return sections.map((s) => ({ ...s, items: s.items.filter((i) => !i.empty) })).filter((s) => s.items.length > 0);
}

/** How many items hold no value. */
export function emptyCount(sections: DocSection[]): number {
  return sections.reduce((n, s) => n + s.items.filter((i) => i.empty).length, 0);
}

/** Ids of the users and groups the items name (sub-table columns included), to fetch their
names in one request. */
export function peopleIds(sections: DocSection[]): number[] {
  const ids: number[] = [];
  const collect = (field: FieldInfo, value: unknown) => {
    if (field.type === "user" || field.type === "group") {
      for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "number") ids.push(v);
    } else if (field.type === "sub_table" && Array.isArray(value) && field.fields) {
      for (const row of value) {
        if (row && typeof row === "object") for (const column of field.fields) collect(column, (row as Record<string, unknown>)[column.key]);
      }
    }
  };
  sections.forEach((s) => s.items.forEach((i) => collect(i.field, i.value)));
  return [...new Set(ids)];
}

/** Fields read better across the whole width: tables, long text, files. */
export function isWide(field: FieldInfo): boolean {
  return ["sub_table", "textarea", "rich_text", "attachments", "signature"].includes(field.type);
}
