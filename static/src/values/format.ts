// Values as people read them, without the form library: option labels, people's and referenced
// records' names, local times, ✓, files by name, the number of a sub-table's rows. The list, the
// record page and the inbox read records with this module; rjsf and ajv load only for editing.
import type { FieldInfo, RecordPage } from "../api";

/** Names of users, groups and referenced records known so far (``#id`` for the others). */
export interface Lookups {
  user: (id: number | null | undefined) => string;
  group: (id: number | null | undefined) => string;
  /** A referenced record's title, for a reference field. */
  title?: (field: FieldInfo, id: number) => string;
}

/** A value as people read it: option labels, local times, ✓, the number of rows of a table. */
export function show(field: FieldInfo | undefined, value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (field?.options) {
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => field.options?.find((o) => o.value === v)?.label ?? String(v)).join(", ");
  }
  if (field?.type === "datetime" && typeof value === "string") return new Date(value).toLocaleString();
  if (typeof value === "boolean") return value ? "✓" : "";
  if (field?.type === "sub_table" && Array.isArray(value)) return `${value.length} ×`;
  if (Array.isArray(value) && value.every((v) => typeof v === "object" && v && "name" in v))
    return value.map((v) => String((v as { name: unknown }).name)).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A list cell's text: people and referenced records by name, the rest as :func:`show` reads it. */
export function cellText(field: FieldInfo, value: unknown, names: Lookups): string {
  if (typeof value === "number" && field.type === "user") return names.user(value);
  if (typeof value === "number" && field.type === "group") return names.group(value);
  if (typeof value === "number" && field.type === "reference" && names.title) return names.title(field, value);
  return show(field, value);
}

/** Where a single-choice value stands among its field's options (-1 for none): the list draws
it as a tag coloured by that place. */
export function optionIndex(field: FieldInfo, value: unknown): number {
  if (!field.options || (field.type !== "select" && field.type !== "radio")) return -1;
  return field.options.findIndex((o) => o.value === value);
}

/** A referenced record's display value from :func:`referenceTitles`' answer (``#id`` until it
answers, or when the viewer may not read that form). */
export function titleIn(page: RecordPage | undefined, display: string | null, id: number): string {
  const record = page?.items.find((r) => r.id === id);
  const title = record && display ? record.data[display] : undefined;
  return title === undefined || title === null || title === "" ? `#${id}` : String(title);
}

/** The name of a user or group by id in a people answer (``—`` for none, ``#id`` until known). */
export function personName(
  list: readonly { id: number; display_name?: string; name?: string }[] | undefined,
  id: number | null | undefined,
): string {
  if (typeof id !== "number") return "—";
  const found = list?.find((p) => p.id === id);
  return (found?.display_name ?? found?.name) ?? `#${id}`;
}
