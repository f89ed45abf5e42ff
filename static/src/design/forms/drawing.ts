// What the canvas draws inside each card: the form the server compiled for the draft (the
// runtime's JSON Schema and UI schema), cut into its fields and its sub-tables' columns, so each
// card is drawn by the runtime's renderer and only a card whose compiled field changed is drawn
// again.
import type { FieldInfo, FormSchema } from "../../api";

type Json = Record<string, unknown>;

/** One field, or one column of a sub-table, as the server compiled it. */
export interface Drawing {
  /** ``key``, or ``table/column`` for a column. */
  path: string;
  /** The path it is drawn under (``[]``, or ``[table]`` for a column). */
  parent: string[];
  key: string;
  /** Its JSON Schema and UI schema. */
  schema: Json;
  uiSchema: Json | undefined;
  required: boolean;
  info: FieldInfo;
  /** What the drawing depends on, as text: equal signatures draw the same. */
  signature: string;
}

function cut(parent: string[], key: string, schema: unknown, required: boolean, uiSchema: unknown, info: FieldInfo): Drawing {
  return {
    path: [...parent, key].join("/"),
    parent,
    key,
    schema: schema as Json,
    uiSchema: uiSchema as Json | undefined,
    required,
    info,
    signature: JSON.stringify([schema, required, uiSchema ?? null, info]),
  };
}

/** Every field's and column's drawing, by path. A drawing whose signature did not change since
 * ``previous`` is the same object, so a memoised card is not drawn again. */
export function drawingsOf(compiled: FormSchema, previous?: ReadonlyMap<string, Drawing>): Map<string, Drawing> {
  const out = new Map<string, Drawing>();
  const keep = (drawing: Drawing) => {
    const before = previous?.get(drawing.path);
    out.set(drawing.path, before && before.signature === drawing.signature ? before : drawing);
  };
  const json = compiled.json_schema;
  const properties = (json.properties ?? {}) as Json;
  const required = new Set((json.required ?? []) as string[]);
  const ui = compiled.ui_schema;
  for (const info of compiled.fields) {
    if (!(info.key in properties)) continue;
    keep(cut([], info.key, properties[info.key], required.has(info.key), ui[info.key], info));
    const items = ((properties[info.key] as Json).items ?? {}) as Json;
    const columns = (items.properties ?? {}) as Json;
    const rowRequired = new Set((items.required ?? []) as string[]);
    const rowUi = ((ui[info.key] as Json | undefined)?.items ?? {}) as Json;
    for (const column of info.fields ?? []) {
      if (!(column.key in columns)) continue;
      keep(cut([info.key], column.key, columns[column.key], rowRequired.has(column.key), rowUi[column.key], column));
    }
  }
  return out;
}
