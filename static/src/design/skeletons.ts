// The body a new definition of each kind starts from: its key and name, and the parts its kind
// cannot do without, left empty. Drafts may be incomplete: the check lists what is missing.
import type { Body, Kinds } from "./data";

/** What a new definition of kind rules is: a rule, a decision table or an SLA policy. */
export const RULE_TYPES = ["rule", "decision_table", "sla"] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export function skeleton(kinds: Kinds, key: string, name: { "zh-CN": string; en?: string }, type: RuleType = "rule"): Body {
  const base: Body = { key, label: name.en ? name : { "zh-CN": name["zh-CN"] } };
  switch (kinds) {
    case "rules":
      if (type === "decision_table") return { ...base, type, form: "", hit_policy: "FIRST", inputs: [], outputs: [], rules: [] };
      if (type === "sla") return { ...base, type, form: "", targets: [] };
      return base;
    case "forms":
      return { ...base, fields: [] };
    case "flows":
      return { ...base, form: "", nodes: [], edges: [] };
    case "calendars":
      // the zone the editor shows, stored: a calendar means nothing without one
      return { ...base, time_zone: "Asia/Shanghai", week: {} };
    case "dashboards":
      return { ...base, widgets: [] };
    case "reports":
      return { ...base, dataset: { form: "", dimensions: [], measures: [] }, widget: { type: "bar" } };
    case "kpis":
      return { ...base, form: "", measure: { type: "count" } };
    default:
      return base;
  }
}
