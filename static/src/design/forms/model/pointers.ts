// The server pins each problem on a JSON pointer into the definition it checked; the designer
// pins it on a field: pointer → (field node, property) and back, in ``toDefinition`` order.
import type { DesignerState } from "./types";

export interface Pin {
  /** The field the problem is about (``null`` for the form itself or its layout). */
  nodeId: string | null;
  /** The section, for a pointer into the layout. */
  sectionId?: string;
  /** The property path under the field (``options/0/value``), or under the form. */
  property: string;
}

const unescape = (part: string) => part.replace(/~1/g, "/").replace(/~0/g, "~");

export function pinOf(state: DesignerState, pointer: string): Pin {
  const parts = pointer.split("/").slice(1).map(unescape);
  if (parts[0] === "fields" && /^\d+$/.test(parts[1] ?? "")) {
    const field = state.fields[Number(parts[1])];
    if (!field) return { nodeId: null, property: parts.join("/") };
    if (parts[2] === "fields" && /^\d+$/.test(parts[3] ?? "")) {
      const column = field.columns?.[Number(parts[3])];
      if (column) return { nodeId: column.id, property: parts.slice(4).join("/") };
    }
    return { nodeId: field.id, property: parts.slice(2).join("/") };
  }
  if (parts[0] === "layout" && parts[1] === "sections" && /^\d+$/.test(parts[2] ?? "")) {
    const section = state.sections?.[Number(parts[2])];
    if (section && parts[3] === "fields" && /^\d+$/.test(parts[4] ?? "")) {
      const names = section.raw ?? section.fields;
      const id = section.fields[Number(parts[4])];
      return { nodeId: section.raw ? null : (id ?? null), sectionId: section.id, property: names === section.raw ? parts.slice(3).join("/") : "" };
    }
    return { nodeId: null, sectionId: section?.id, property: parts.slice(3).join("/") };
  }
  if (parts[0] === "options" && (parts[1] === "title_field" || parts[1] === "group_field")) {
    return { nodeId: null, property: parts.join("/") };
  }
  return { nodeId: null, property: parts.join("/") };
}

/** The pointer of a field node (and a property under it) in the definition the state saves as. */
export function pointerOf(state: DesignerState, nodeId: string, property = ""): string | null {
  const suffix = property ? `/${property}` : "";
  for (const [i, field] of state.fields.entries()) {
    if (field.id === nodeId) return `/fields/${i}${suffix}`;
    const j = field.columns?.findIndex((c) => c.id === nodeId) ?? -1;
    if (j >= 0) return `/fields/${i}/fields/${j}${suffix}`;
  }
  return null;
}

/** The problems of a state by field node id (``""`` for the form's own). */
export function problemsByNode<P extends { path: string }>(state: DesignerState, problems: P[]): Map<string, P[]> {
  const out = new Map<string, P[]>();
  for (const problem of problems) {
    const pin = pinOf(state, problem.path);
    const id = pin.nodeId ?? "";
    out.set(id, [...(out.get(id) ?? []), problem]);
  }
  return out;
}
