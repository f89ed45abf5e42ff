// The form definition (docs/forms.md, tangram/engines/meta/form.schema.json) and the designer's
// state: the same definition as a tree of containers the canvas drags fields between.

export type Text = { "zh-CN": string; en?: string };
export type Logic = unknown;

export interface OptionDef {
  value: string;
  label?: Text;
  color?: string;
}

/** One field without its columns: every property of the meta-schema; properties the designer
 * does not know are kept. */
export interface FieldBody {
  key: string;
  type: FieldType;
  label: Text;
  help?: Text;
  placeholder?: Text;
  required?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  unique?: boolean;
  indexed?: boolean;
  read_only?: boolean;
  flow_only?: boolean;
  visible_when?: Logic;
  required_when?: Logic;
  formula?: Logic;
  result?: "number" | "integer" | "text" | "boolean" | "date" | "datetime";
  options?: OptionDef[];
  reference?: { form: string; display?: string };
  min_rows?: number;
  max_rows?: number;
  serial?: string;
  precision?: number;
  currency?: string;
  accept?: string[];
  max_size?: number;
  max_files?: number;
  width?: number;
  [property: string]: unknown;
}

/** A field as the definition holds it: a sub-table's columns are ``fields``. */
export interface FieldDefinition extends FieldBody {
  fields?: FieldDefinition[];
}

export interface SectionBody {
  title?: Text;
  columns?: number;
  collapsed?: boolean;
  [property: string]: unknown;
}

export interface SectionDefinition extends SectionBody {
  fields: string[];
}

export interface FormBody {
  key: string;
  label: Text;
  description?: Text;
  options?: { title_field?: string; group_field?: string; public_intake?: unknown; [property: string]: unknown };
  /** What a record's public status page shows (kept as it is; the designer follows renames and removals). */
  public?: { fields?: string[]; [property: string]: unknown };
  /** E-mail intake (kept as it is; the designer follows renames and removals of its fields). */
  mail?: { [property: string]: unknown };
  [property: string]: unknown;
}

export interface FormDefinition extends FormBody {
  fields: FieldDefinition[];
  layout?: { sections?: SectionDefinition[]; [property: string]: unknown };
}

export const FIELD_TYPES = [
  "text",
  "textarea",
  "rich_text",
  "number",
  "integer",
  "money",
  "date",
  "datetime",
  "select",
  "radio",
  "multi_select",
  "checkbox",
  "user",
  "group",
  "email",
  "phone",
  "attachment",
  "attachments",
  "signature",
  "reference",
  "sub_table",
  "formula",
  "serial",
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** A field in the designer: its definition without its columns, and its columns as nodes. */
export interface FieldNode {
  /** Stable for the designer's lifetime (keys change while a field is new; ids do not). */
  id: string;
  body: FieldBody;
  /** The columns of a sub-table (``undefined`` for other types). */
  columns?: FieldNode[];
  /** Whether the body had ``fields`` (a sub-table always has; kept for a faithful round trip). */
  hadColumns?: boolean;
  /** The key was typed by the user: label changes no longer regenerate it. */
  keyEdited?: boolean;
}

export interface SectionNode {
  id: string;
  body: SectionBody;
  /** Field node ids, in the section's order. */
  fields: string[];
  /** The names as loaded, kept while they still describe ``fields`` (a name listed twice or
   * naming no field survives a round trip; the check reports it). */
  raw?: string[];
}

export interface DesignerState {
  /** Form-level properties (key, label, description, options, anything else), without fields/layout. */
  form: FormBody;
  /** Every top-level field, in the definition's ``fields`` order. */
  fields: FieldNode[];
  /** The layout's sections, or ``null`` for a form without a layout (one column in field order). */
  sections: SectionNode[] | null;
  /** Properties of ``layout`` other than ``sections``, and whether ``layout`` had ``sections``. */
  layoutRest: Record<string, unknown> | null;
  /** The next id number (ids are ``f1``, ``s1``…). */
  next: number;
}

/** Where a field sits: a section, the fields outside every section, the whole form (no layout),
 * or the columns of a sub-table. */
export type ContainerId = `section:${string}` | "unplaced" | "root" | `table:${string}`;
