// The permission matrix: who reads and writes which field of the form, role by role. Its cells are
// the field rules of each role's grant on the form (the platform enforces them on every read and
// write): a field the rules leave out is writable (as far as the role's actions go), `read_only`
// is read but not written, `hidden` is neither read nor written. Pure functions, no React.
import type { FormDefinition, Text } from "./types";

export type Level = "editable" | "read_only" | "hidden";
export type Rules = Record<string, Exclude<Level, "editable">>;

/** One role's grant on the form, as `GET .../forms/{key}/access` answers it. */
export interface RoleAccess {
  role_id: number;
  key: string;
  name: string;
  grant_id: number;
  app_key: string;
  form_key: string;
  actions: string[];
  scope: string;
  field_rules: Record<string, string>;
  /** The grant is the form's own; a grant on every form (`*`) has no field rules. */
  settable: boolean;
}

/** Whether the role writes the form's records at all (create or update). */
export const writes = (role: Pick<RoleAccess, "actions">): boolean => role.actions.includes("create") || role.actions.includes("update");

/** The levels a cell offers: a role that only reads chooses between seeing and not seeing. */
export const levelsFor = (role: Pick<RoleAccess, "actions">): Level[] => (writes(role) ? ["editable", "read_only", "hidden"] : ["editable", "hidden"]);

/** The cell's level; `read_only` of a role that writes nothing reads as visible. */
export function levelOf(rules: Record<string, string>, field: string, role?: Pick<RoleAccess, "actions">): Level {
  const level = rules[field];
  if (level === "hidden") return "hidden";
  if (level === "read_only") return role && !writes(role) ? "editable" : "read_only";
  return "editable";
}

/** The rules with one field set to ``level`` (writable fields are left out of the rules). */
export function withLevel(rules: Record<string, string>, field: string, level: Level): Rules {
  const out = { ...rules } as Rules;
  if (level === "editable") delete out[field];
  else out[field] = level;
  return sorted(out);
}

/** The rules with every one of ``fields`` set to ``level`` (the column's 全部 menu). */
export function withColumn(rules: Record<string, string>, fields: readonly string[], level: Level): Rules {
  return fields.reduce<Rules>((acc, f) => withLevel(acc, f, level), sorted(rules as Rules));
}

function sorted(rules: Rules): Rules {
  return Object.fromEntries(Object.entries(rules).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as Rules;
}

const same = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

/** The `PUT .../access` body for what was edited: only the grants whose rules changed. */
export function changes(roles: readonly RoleAccess[], edited: Readonly<Record<number, Record<string, string>>>) {
  return {
    roles: roles
      .filter((r) => r.settable && edited[r.grant_id] !== undefined && !same(edited[r.grant_id], r.field_rules))
      .map((r) => ({ grant_id: r.grant_id, field_rules: sorted(edited[r.grant_id] as Rules) })),
  };
}

/** The form's fields as the matrix lists them: top-level fields (a sub-table counts as one). */
export interface MatrixField {
  key: string;
  label: Text;
  required: boolean;
  type: string;
}

export function matrixFields(form: Pick<FormDefinition, "fields">): MatrixField[] {
  return form.fields.filter((f) => typeof f.key === "string" && f.key !== "").map((f) => ({ key: f.key, label: f.label, required: f.required === true, type: f.type }));
}

export interface Warning {
  grant_id: number;
  field: string;
  kind: "required_hidden" | "required_read_only";
}

/** What a setting would break: a required field a role that creates records cannot fill. */
export function warnings(roles: readonly RoleAccess[], edited: Readonly<Record<number, Record<string, string>>>, fields: readonly MatrixField[]): Warning[] {
  const out: Warning[] = [];
  for (const role of roles) {
    if (!role.actions.includes("create")) continue;
    const rules = edited[role.grant_id] ?? role.field_rules;
    for (const f of fields) {
      if (!f.required) continue;
      const level = levelOf(rules, f.key, role);
      if (level === "hidden") out.push({ grant_id: role.grant_id, field: f.key, kind: "required_hidden" });
      else if (level === "read_only") out.push({ grant_id: role.grant_id, field: f.key, kind: "required_read_only" });
    }
  }
  return out;
}
