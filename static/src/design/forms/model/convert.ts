// Definition ↔ designer state. ``toDefinition(toState(d))`` equals ``d`` (up to key order): every
// property is kept, the order of ``fields`` and of each section is kept, and a form without a
// layout stays without one.
import type { DesignerState, FieldDefinition, FieldNode, FormDefinition, SectionNode } from "./types";

function fieldNode(definition: FieldDefinition, id: () => string): FieldNode {
  const { fields, ...body } = definition;
  const node: FieldNode = { id: id(), body };
  if (fields !== undefined) {
    node.columns = (Array.isArray(fields) ? fields : []).map((f) => fieldNode(f, id));
    node.hadColumns = true;
  } else if (definition.type === "sub_table") node.columns = [];
  return node;
}

export function toState(definition: FormDefinition): DesignerState {
  let counter = 0;
  const id = () => `n${++counter}`;
  const { fields, layout, ...form } = definition;
  const nodes = (Array.isArray(fields) ? fields : []).map((f) => fieldNode(f, id));
  const byKey = new Map(nodes.map((n) => [n.body.key, n.id]));
  let sections: SectionNode[] | null = null;
  let layoutRest: Record<string, unknown> | null = null;
  if (layout !== undefined) {
    const { sections: raw, ...rest } = layout;
    layoutRest = { ...rest, __hadSections: raw !== undefined };
    sections = (raw ?? []).map((s) => {
      const { fields: names, ...body } = s;
      const sectionId = `s${++counter}`;
      const ids: string[] = [];
      for (const name of names ?? []) {
        const found = byKey.get(name);
        if (found && !ids.includes(found)) ids.push(found);
      }
      const exact = (names ?? []).length === ids.length && (names ?? []).every((name, i) => byKey.get(name) === ids[i]);
      const section: SectionNode = { id: sectionId, body, fields: ids };
      if (!exact) section.raw = [...(names ?? [])];
      return section;
    });
  }
  return { form, fields: nodes, sections, layoutRest, next: counter + 1 };
}

function fieldDefinition(node: FieldNode): FieldDefinition {
  const out = { ...node.body } as FieldDefinition;
  if (node.columns !== undefined && (node.hadColumns || node.columns.length > 0 || node.body.type === "sub_table")) {
    out.fields = node.columns.map(fieldDefinition);
  }
  return out;
}

export function toDefinition(state: DesignerState): FormDefinition {
  const out = { ...state.form, fields: state.fields.map(fieldDefinition) } as FormDefinition;
  if (state.sections !== null) {
    const keyOf = new Map(state.fields.map((f) => [f.id, f.body.key]));
    const { __hadSections, ...rest } = state.layoutRest ?? {};
    const sections = state.sections.map((s) => {
      const raw = s.raw;
      const names = raw && sameFields(raw, s, keyOf) ? raw : s.fields.map((id) => keyOf.get(id) ?? id);
      return { ...s.body, fields: names };
    });
    out.layout = { ...rest, ...(__hadSections === false && sections.length === 0 ? {} : { sections }) };
  }
  return out;
}

/** Whether a section's original names still describe its fields (nothing was moved since). */
function sameFields(raw: string[], section: SectionNode, keyOf: Map<string, string>): boolean {
  const known = raw.filter((name) => [...keyOf.values()].includes(name));
  const unique = known.filter((name, i) => known.indexOf(name) === i);
  return unique.length === section.fields.length && unique.every((name, i) => keyOf.get(section.fields[i]) === name);
}
