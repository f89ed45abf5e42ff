// The body a new definition of each kind starts from: its key and name, and the parts its kind
// cannot do without, left empty. Drafts may be incomplete: the check lists what is missing.
import type { Body, Kinds } from "./data";

export function skeleton(kinds: Kinds, key: string, name: { "zh-CN": string; en?: string }): Body {
  const base: Body = { key, label: name.en ? name : { "zh-CN": name["zh-CN"] } };
  switch (kinds) {
    case "forms":
      return { ...base, fields: [] };
    case "flows":
      return { ...base, form: "", nodes: [], edges: [] };
    case "dashboards":
      return { ...base, widgets: [] };
    case "reports":
      return { ...base, dataset: {} };
    case "kpis":
      return { ...base, form: "", measure: {} };
    default:
      return base;
  }
}
