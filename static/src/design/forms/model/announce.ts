// What a screen reader hears while something is dragged on the canvas: the names a person sees
// (a field's label, a sub-table's, a section's title), never the ids dnd-kit knows them by.
import { KIND_OF } from "./catalog";
import { findNode } from "./operations";
import type { DesignerState, Text } from "./types";

/** A drag's source or target as a person names it. ``index`` is a section's place (1-based), for an
 * untitled one. */
export type DragPlace =
  | { kind: "new"; name: Text | undefined }
  | { kind: "field"; name: Text | undefined }
  | { kind: "table"; name: Text | undefined }
  | { kind: "section"; name: Text | undefined; index: number }
  | { kind: "form" }
  | { kind: "unplaced" };

/** The place a dnd-kit id stands for: ``palette:<type>``, a field's node id, ``table:<id>`` (a
 * sub-table's columns), ``section:<id>``, ``root`` or ``unplaced``. */
export function dragPlace(state: DesignerState, id: string): DragPlace {
  if (id.startsWith("palette:")) return { kind: "new", name: KIND_OF[id.slice(8)]?.name };
  if (id === "root") return { kind: "form" };
  if (id === "unplaced") return { kind: "unplaced" };
  if (id.startsWith("section:")) {
    const index = (state.sections ?? []).findIndex((s) => `section:${s.id}` === id);
    return { kind: "section", name: state.sections?.[index]?.body.title, index: index + 1 };
  }
  if (id.startsWith("table:")) return { kind: "table", name: findNode(state, id.slice(6))?.node.body.label };
  return { kind: "field", name: findNode(state, id)?.node.body.label };
}
