// Records drawn by react-jsonschema-form from the very JSON Schema and UI schema the server
// compiled; conditions (visible-when) evaluated live with json-logic-js; server 422 errors mapped
// back onto the fields.
import { UploadOutlined } from "@ant-design/icons";
import Form, { Templates as AntTemplates } from "@rjsf/antd";
import type {
  ErrorSchema,
  IconButtonProps,
  ObjectFieldTemplateProps,
  RegistryWidgetsType,
  RJSFSchema,
  RJSFValidationError,
  UiSchema,
  WidgetProps,
} from "@rjsf/utils";
import { customizeValidator } from "@rjsf/validator-ajv8";
import { TranslatableString } from "@rjsf/utils";
import { useQuery } from "@tanstack/react-query";
import { App, Button, Col, Divider, Input, InputNumber, Radio, Row, Select, Typography, Upload, type UploadFile } from "antd";
import Ajv2020 from "ajv/dist/2020";
import dayjs, { type Dayjs } from "dayjs";
import { resolveToken } from "./tokens";
import jsonLogic from "json-logic-js";
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type ComponentType, type ReactNode } from "react";
import { api, ApiError, upload, type FieldInfo, type FormSchema, type RecordPage } from "./api";
import { useLang } from "./i18n";
import { rjsfTranslator } from "./rjsfStrings";
import { titleIn } from "./values/format";
import { referenceTitles, usePeople } from "./values/queries";

// reading values needs none of rjsf: the reading pages import these from ./values
export { show, titleIn } from "./values/format";
export { referenceTitles, useFormSchema, usePeople, usePeopleNames, type People } from "./values/queries";

export const validator = customizeValidator({
  AjvClass: Ajv2020 as never,
  ajvOptionsOverrides: { strict: false, allErrors: true },
});

export interface FormContext {
  app: string;
  form: string;
  /** Where file fields upload instead of the form's signed-in endpoint (under ``/api/v1``), with
   * the field's key as the ``field`` part: a public intake link's ``/intake/{token}/attachments``. */
  uploadPath?: string;
  /** Where reference fields look up their choices instead of the signed-in record lists (under
   * ``/api/v1``), with the field's key appended: a public intake link's
   * ``/intake/{token}/choices``, which answers ids and display values only. */
  lookupPath?: string;
}

// --- widgets the server's UI schema names -----------------------------------------------------

/** One id chosen from a list: records of another form, users or groups. ``onSearch`` asks the
server (the list is filtered there); without it the options already loaded are filtered. */
function Picker(props: {
  widget: WidgetProps;
  options: { value: number; label: string }[];
  loading: boolean;
  onSearch?: (text: string) => void;
}) {
  const { widget } = props;
  const options = [...props.options];
  if (typeof widget.value === "number" && !options.some((o) => o.value === widget.value)) {
    options.unshift({ value: widget.value, label: `#${widget.value}` });
  }
  return (
    <Select
      id={widget.id}
      showSearch={props.onSearch ? { filterOption: false, onSearch: props.onSearch } : { optionFilterProp: "label" }}
      allowClear
      value={widget.value ?? undefined}
      disabled={widget.disabled || widget.readonly}
      loading={props.loading}
      options={options}
      onChange={(value) => widget.onChange(value ?? undefined)}
      style={{ width: "100%" }}
    />
  );
}

/** A reference a visitor without an account chooses through a public link's lookup. */
function PublicReferenceWidget(props: WidgetProps & { lookupPath: string }) {
  const [search, setSearch] = useState("");
  const found = useQuery({
    queryKey: ["public-choices", props.lookupPath, props.name, search],
    queryFn: () => api<{ id: number; label: string }[]>(`${props.lookupPath}/${props.name}`, { query: { q: search } }),
  });
  const options = (found.data ?? []).map((c) => ({ value: c.id, label: c.label }));
  return <Picker widget={props} options={options} loading={found.isLoading} onSearch={setSearch} />;
}

function ReferenceWidget(props: WidgetProps) {
  const { lookupPath } = props.registry.formContext as FormContext;
  return lookupPath ? <PublicReferenceWidget {...props} lookupPath={lookupPath} /> : <SignedInReferenceWidget {...props} />;
}

function SignedInReferenceWidget(props: WidgetProps) {
  const { app } = props.registry.formContext as FormContext;
  const target = props.options.form as string;
  const display = (props.options.display as string | null) ?? null;
  const [search, setSearch] = useState("");
  const found = useQuery({
    queryKey: ["reference", app, target, display, search],
    queryFn: () =>
      api<RecordPage>(`/apps/${app}/records/${target}`, {
        query: { limit: 20, ...(display && search ? { [`${display}__contains`]: search } : {}) },
      }),
  });
  const current = typeof props.value === "number" ? props.value : undefined;
  const titles = useQuery(referenceTitles(app, target, display, current === undefined ? [] : [current]));
  const options = (found.data?.items ?? []).map((r) => ({
    value: r.id,
    label: display ? String(r.data[display] ?? `#${r.id}`) : `#${r.id}`,
  }));
  if (current !== undefined && !options.some((o) => o.value === current)) {
    options.unshift({ value: current, label: titleIn(titles.data, display, current) });
  }
  return <Picker widget={props} options={options} loading={found.isLoading} onSearch={setSearch} />;
}

/** A user of the app, searched by name as one types. */
export function UserPicker(props: {
  app: string;
  value: number | undefined;
  onChange: (id: number | undefined) => void;
  placeholder?: string;
  id?: string;
}) {
  const [search, setSearch] = useState("");
  const people = usePeople(props.app, search, typeof props.value === "number" ? [props.value] : []);
  return (
    <Select
      id={props.id}
      showSearch={{ filterOption: false, onSearch: setSearch }}
      allowClear
      placeholder={props.placeholder}
      value={props.value}
      loading={people.isLoading}
      options={(people.data?.users ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }))}
      onChange={(value) => props.onChange(value ?? undefined)}
      style={{ minWidth: 220 }}
    />
  );
}

function UserWidget(props: WidgetProps) {
  const { app } = props.registry.formContext as FormContext;
  const [search, setSearch] = useState("");
  const people = usePeople(app, search, typeof props.value === "number" ? [props.value] : []);
  const options = (people.data?.users ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }));
  return <Picker widget={props} options={options} loading={people.isLoading} onSearch={setSearch} />;
}

function GroupWidget(props: WidgetProps) {
  const { app } = props.registry.formContext as FormContext;
  const people = usePeople(app, "", []);
  const options = (people.data?.groups ?? []).map((g) => ({ value: g.id, label: g.name }));
  return <Picker widget={props} options={options} loading={people.isLoading} />;
}

function MoneyWidget(props: WidgetProps) {
  return (
    <InputNumber
      id={props.id}
      value={(props.value as number | undefined) ?? null}
      precision={(props.options.precision as number | undefined) ?? 2}
      prefix={props.options.currency as string | undefined}
      disabled={props.disabled || props.readonly}
      onChange={(value) => props.onChange(value ?? undefined)}
      style={{ width: "100%" }}
    />
  );
}

function TextLikeWidget(props: WidgetProps) {
  return (
    <Input
      id={props.id}
      value={(props.value as string | undefined) ?? ""}
      disabled={props.disabled || props.readonly}
      onChange={(event) => props.onChange(event.target.value || undefined)}
    />
  );
}

// the editor (and its ProseMirror) loads with the first form that has a rich text field
const RichTextEditor = lazy(() => import("./RichTextEditor"));

function RichTextWidget(props: WidgetProps) {
  const disabled = props.disabled || props.readonly;
  return (
    <Suspense fallback={<Input.TextArea rows={4} disabled aria-label={props.label} />}>
      <RichTextEditor
        id={props.id}
        label={props.label}
        value={props.value}
        disabled={disabled}
        onChange={(value) => props.onChange(value)}
        onBlur={() => props.onBlur(props.id, props.value)}
      />
    </Suspense>
  );
}

/** A small integer range (a 1–5 rating, a 0–10 scale) as a row of buttons to tap: each one at
 * least 40 px wide, wrapping on a narrow phone; choosing the chosen value again clears it. */
function ScaleWidget(props: WidgetProps) {
  const low = typeof props.schema.minimum === "number" ? props.schema.minimum : 0;
  const high = typeof props.schema.maximum === "number" ? props.schema.maximum : 10;
  const values = Array.from({ length: Math.max(0, high - low + 1) }, (_, i) => low + i);
  const value = typeof props.value === "number" ? props.value : undefined;
  return (
    <Radio.Group
      id={props.id}
      aria-label={props.label}
      value={value}
      disabled={props.disabled || props.readonly}
      optionType="button"
      buttonStyle="solid"
      style={{ display: "flex", flexWrap: "wrap", gap: 6 }}
      onChange={(event) => props.onChange(event.target.value as number)}
    >
      {values.map((v) => (
        <Radio.Button
          key={v}
          value={v}
          style={{ minWidth: 40, height: 40, lineHeight: "38px", textAlign: "center", borderRadius: 6, borderInlineStartWidth: 1 }}
          onClick={() => {
            if (v === value && !props.required) props.onChange(undefined);
          }}
        >
          <span data-testid={`scale-${props.name}-${v}`}>{v}</span>
        </Radio.Button>
      ))}
    </Radio.Group>
  );
}

function ComputedWidget(props: WidgetProps) {
  return <Typography.Text type="secondary">{props.value === undefined ? "—" : String(props.value)}</Typography.Text>;
}

interface Stored {
  id: string;
  name?: string;
}

/** Why the server refused an upload, by its problem code, in the user's language. */
const UPLOAD_REFUSED: Record<string, string> = {
  "attachment.type_refused": "upload.type_refused",
  "attachment.too_large": "upload.too_large",
  "attachment.empty": "upload.empty",
  "attachment.content_mismatch": "upload.content_mismatch",
  "attachment.bad_name": "upload.bad_name",
};

/** Files of an attachment field: uploads show their progress, images a thumbnail; a refused file
stays in the list, marked, with the server's reason. */
function FilesWidget(props: WidgetProps) {
  const { app, form, uploadPath } = props.registry.formContext as FormContext;
  const { message } = App.useApp();
  const { t } = useLang();
  const many = props.schema.type === "array";
  const current: Stored[] = many ? ((props.value as Stored[] | undefined) ?? []) : props.value ? [props.value as Stored] : [];
  const latest = useRef(current);
  useEffect(() => {
    latest.current = current; // what the upload callbacks, which outlive a render, add to
  });
  const [pending, setPending] = useState<UploadFile[]>([]);
  const accept = (props.options.accept as string[] | undefined) ?? [];
  const stored: UploadFile[] = current.map((f) => {
    // a visitor's own upload through a public link has no download address for them
    const url = uploadPath ? undefined : `/api/v1/apps/${app}/attachments/${f.id}`;
    return { uid: f.id, name: f.name ?? f.id, status: "done", url, thumbUrl: url };
  });
  const track = (uid: string, change: Partial<UploadFile> | null) =>
    setPending((files) =>
      change === null ? files.filter((f) => f.uid !== uid) : files.map((f) => (f.uid === uid ? { ...f, ...change } : f)),
    );
  return (
    <Upload
      listType={accept.some((a) => a.startsWith("image")) || props.schema.type === "array" ? "picture" : "text"}
      accept={accept.join(",") || undefined}
      disabled={props.disabled || props.readonly}
      fileList={[...stored, ...pending]}
      onRemove={(file) => {
        if (pending.some((f) => f.uid === file.uid)) return track(file.uid, null);
        const kept = current.filter((f) => f.id !== file.uid);
        props.onChange(many ? kept : undefined);
      }}
      customRequest={async ({ file }) => {
        const blob = file as File & { uid: string };
        setPending((files) => [...files, { uid: blob.uid, name: blob.name, status: "uploading", percent: 0 }]);
        const body = new FormData();
        body.append("file", blob);
        if (uploadPath) body.append("field", props.name);
        try {
          const saved = await upload<Stored>(uploadPath ?? `/apps/${app}/records/${form}/attachments`, body, (percent) =>
            track(blob.uid, { percent }),
          );
          track(blob.uid, null);
          const kept = { id: saved.id, name: saved.name };
          props.onChange(many ? [...latest.current, kept] : kept);
        } catch (error) {
          const known = error instanceof ApiError ? UPLOAD_REFUSED[error.code] : undefined;
          // a refusal the table does not know (the rate limit's 429) says what the server said
          const reason = known ? t(known) : error instanceof Error ? error.message : String(error);
          track(blob.uid, { status: "error", response: reason });
          message.error(`${blob.name}: ${reason}`);
        }
      }}
    >
      <Button icon={<UploadOutlined />} disabled={props.disabled || props.readonly}>
        {props.label || "Upload"}
      </Button>
    </Upload>
  );
}

export const widgets: RegistryWidgetsType = {
  reference: ReferenceWidget,
  user: UserWidget,
  group: GroupWidget,
  money: MoneyWidget,
  phone: TextLikeWidget,
  richtext: RichTextWidget,
  formula: ComputedWidget,
  serial: ComputedWidget,
  scale: ScaleWidget,
  file: FilesWidget,
  files: FilesWidget,
  signature: FilesWidget,
};

// --- buttons named in words: the theme's icon buttons are named by their icons ("arrow-up") -----

type ButtonTemplate = ComponentType<IconButtonProps>;

/** The theme's button, with the translated word it shows as a tooltip as its accessible name. */
function named(Inner: ButtonTemplate | undefined, word: TranslatableString): ButtonTemplate {
  function NamedButton(props: IconButtonProps) {
    return Inner ? <Inner {...props} aria-label={props.registry.translateString(word)} /> : null;
  }
  return NamedButton;
}

const themed = AntTemplates.ButtonTemplates as Record<string, ButtonTemplate> | undefined;
const BUTTONS = {
  AddButton: named(themed?.AddButton, TranslatableString.AddItemButton),
  CopyButton: named(themed?.CopyButton, TranslatableString.CopyButton),
  MoveDownButton: named(themed?.MoveDownButton, TranslatableString.MoveDownButton),
  MoveUpButton: named(themed?.MoveUpButton, TranslatableString.MoveUpButton),
  RemoveButton: named(themed?.RemoveButton, TranslatableString.RemoveButton),
};

// --- layout: the form's sections and columns ---------------------------------------------------

interface Section {
  title?: string;
  columns?: number;
  fields: string[];
}

function SectionedObject(props: ObjectFieldTemplateProps) {
  const layout = (props.uiSchema?.["ui:layout"] as { sections?: Section[] } | undefined)?.sections;
  const byName = new Map(props.properties.map((p) => [p.name, p]));
  if (!layout?.length) {
    return <div>{props.properties.map((p) => (p.hidden ? null : <div key={p.name}>{p.content}</div>))}</div>;
  }
  const placed = new Set(layout.flatMap((s) => s.fields));
  const rest = props.properties.filter((p) => !placed.has(p.name));
  const block = (names: string[], columns: number): ReactNode => (
    <Row gutter={16}>
      {names.map((name) => {
        const p = byName.get(name);
        if (!p || p.hidden) return null;
        const wide = ["array", "object"].includes(String((props.schema.properties?.[name] as RJSFSchema)?.type));
        return (
          <Col key={name} xs={24} md={wide ? 24 : Math.floor(24 / Math.max(1, columns))}>
            {p.content}
          </Col>
        );
      })}
    </Row>
  );
  return (
    <div>
      {layout.map((section, i) =>
        section.fields.some((name) => byName.get(name) && !byName.get(name)?.hidden) ? (
          <div key={i}>
            {section.title && <Divider titlePlacement="start">{section.title}</Divider>}
            {block(section.fields, section.columns ?? 1)}
          </div>
        ) : null,
      )}
      {rest.length > 0 && block(rest.map((p) => p.name), 1)}
    </div>
  );
}

/** What RecordForm's Form draws with besides rjsf's antd theme: the widgets the server's UI schema
 * names, the sectioned layout and the named buttons (the designer's canvas draws with them too). */
export const THEME = {
  widgets,
  templates: { ObjectFieldTemplate: SectionedObject, ButtonTemplates: BUTTONS },
};

// --- permissions, conditions, errors -----------------------------------------------------------

export type Permissions = Record<string, "editable" | "read_only" | "hidden">;

/** The UI schema with a flow node's permissions (hidden, read-only) and live conditions applied. */
export function effectiveUi(
  schema: FormSchema,
  data: Record<string, unknown>,
  permissions?: Permissions,
  readOnly = false,
): UiSchema {
  const ui: UiSchema = { ...(schema.ui_schema as UiSchema), "ui:submitButtonOptions": { norender: true } };
  for (const field of schema.fields) {
    const entry: UiSchema = { ...((ui[field.key] as UiSchema | undefined) ?? {}) };
    const rule = schema.conditions[field.key];
    let visible = true;
    if (rule?.visible_when !== undefined) {
      try {
        visible = Boolean(jsonLogic.apply(rule.visible_when as never, data));
      } catch {
        visible = true; // an operation only the server knows: show the field, the server decides
      }
    }
    const granted = permissions ? (permissions[field.key] ?? permissions.others ?? "read_only") : "editable";
    if (!visible || granted === "hidden") entry["ui:widget"] = "hidden";
    if (readOnly || granted === "read_only") entry["ui:readonly"] = true;
    const items = entry.items as UiSchema | undefined;
    const order = items?.["ui:order"] as string[] | undefined;
    // sub-table rows carry their identity (_id, hidden): it goes after the row's fields
    if (items && order && !order.includes("*")) entry.items = { ...items, "ui:order": [...order, "*"] };
    ui[field.key] = entry;
  }
  return ui;
}

/** The JSON Schema without the fields a flow node hides (they are not sent either). */
export function effectiveSchema(schema: FormSchema, permissions?: Permissions): RJSFSchema {
  const json = schema.json_schema as RJSFSchema;
  if (!permissions) return json;
  const hidden = new Set(
    schema.fields
      .filter((f) => (permissions[f.key] ?? permissions.others ?? "read_only") === "hidden")
      .map((f) => f.key),
  );
  const properties = Object.fromEntries(
    Object.entries(json.properties ?? {}).filter(([key]) => !hidden.has(key)),
  );
  return { ...json, properties, required: (json.required ?? []).filter((k) => !hidden.has(k)) };
}

/** Server field errors (``measures/2/owner``: messages) as rjsf's nested error schema. */
export function serverErrors(errors: Record<string, string[] | string>): ErrorSchema {
  const out: Record<string, unknown> = {};
  for (const [path, messages] of Object.entries(errors)) {
    const parts = path.replace(/^\//, "").split("/").filter(Boolean);
    let node = out;
    for (const part of parts) {
      node[part] = (node[part] as Record<string, unknown> | undefined) ?? {};
      node = node[part] as Record<string, unknown>;
    }
    const list = Array.isArray(messages) ? messages : [messages];
    node.__errors = [...((node.__errors as string[] | undefined) ?? []), ...list];
  }
  return out as ErrorSchema;
}

// --- the same checks in the browser, before anything is sent -----------------------------------

function fieldAt(schema: FormSchema, property: string): FieldInfo | undefined {
  const parts = property.replace(/^\./, "").split(".");
  const top = schema.fields.find((f) => f.key === parts[0]);
  if (parts.length < 3 || !top?.fields) return top;
  return top.fields.find((f) => f.key === parts[2]) ?? top; // table.row.field
}

/** What the server would say about an ajv error: its own message for the keyword, filled in. */
function serverMessage(schema: FormSchema, error: RJSFValidationError): string {
  const params = (error.params ?? {}) as Record<string, unknown>;
  const field = fieldAt(schema, error.property ?? "");
  const fill = (code: string) =>
    (schema.messages[code] ?? schema.messages.invalid ?? code).replace(/\{(\w+)\}/g, (_, name: string) =>
      String(params[name] ?? ""),
    );
  switch (error.name) {
    case "required":
      return fill("required");
    case "type":
      return fill(`type.${String(params.type).split(",")[0]}`);
    case "format":
      return fill(`format.${String(params.format)}`);
    case "pattern":
      return fill(field?.type === "phone" ? "pattern.phone" : "pattern");
    case "maxItems":
    case "minItems":
      return fill(field?.type === "sub_table" ? `${error.name}.rows` : error.name);
    case "additionalProperties":
      return fill("unknown");
    case "maxLength":
    case "minLength":
    case "maximum":
    case "minimum":
    case "enum":
    case "uniqueItems":
      return fill(error.name);
    default:
      return fill("invalid");
  }
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** The form's own checks run in the browser before a record is sent: the JSON Schema (ajv, the
very schema the server compiled), and required / required-when of visible fields; messages are the
server's. Only fields the user can see and edit are reported (the server answers for the rest). */
export function localErrors(
  schema: FormSchema,
  data: Record<string, unknown>,
  permissions?: Permissions,
): ErrorSchema | undefined {
  const ui = effectiveUi(schema, data, permissions);
  const result = validator.validateFormData(
    data,
    effectiveSchema(schema, permissions),
    undefined,
    (errors) => errors.map((e) => ({ ...e, message: serverMessage(schema, e), stack: serverMessage(schema, e) })),
    ui,
  );
  const found = result.errorSchema as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  const open = (key: string) => {
    const entry = ui[key] as UiSchema | undefined;
    return entry?.["ui:widget"] !== "hidden" && !entry?.["ui:readonly"];
  };
  for (const [key, value] of Object.entries(found)) {
    if (key !== "__errors" && open(key)) kept[key] = value;
  }
  for (const field of schema.fields) {
    const rule = schema.conditions[field.key];
    if (!rule?.required_when && !(field.required && rule?.visible_when !== undefined)) continue;
    if (!isEmpty(data[field.key]) || !open(field.key) || kept[field.key]) continue;
    let required = field.required;
    try {
      if (!required && rule.required_when !== undefined) required = jsonLogic.truthy(jsonLogic.apply(rule.required_when as never, data));
    } catch {
      required = false; // an operation only the server knows: the server decides
    }
    if (required) kept[field.key] = { __errors: [schema.messages.required ?? "required"] };
  }
  return Object.keys(kept).length ? (kept as ErrorSchema) : undefined;
}

/** Only what the user may send: computed and read-only fields are the server's. */
export function writable(schema: FormSchema, data: Record<string, unknown>, permissions?: Permissions) {
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (["formula", "serial"].includes(field.type)) continue;
    const ui = schema.ui_schema[field.key] as UiSchema | undefined;
    if (ui?.["ui:readonly"]) continue;
    if (permissions && (permissions[field.key] ?? permissions.others ?? "read_only") !== "editable") continue;
    if (field.key in data) out[field.key] = data[field.key];
  }
  return out;
}

export function RecordForm(props: {
  app: string;
  schema: FormSchema;
  data: Record<string, unknown>;
  onChange?: (data: Record<string, unknown>) => void;
  errors?: ErrorSchema;
  permissions?: Permissions;
  readOnly?: boolean;
  /** The inputs' id prefix (``root``): two forms of one record on a page need different ones. */
  idPrefix?: string;
  /** Where file fields upload (see ``FormContext.uploadPath``). */
  uploadPath?: string;
  /** Where reference fields look up their choices (see ``FormContext.lookupPath``). */
  lookupPath?: string;
}) {
  const { schema, data, permissions, readOnly } = props;
  const { lang } = useLang();
  const json = useMemo(() => effectiveSchema(schema, permissions), [schema, permissions]);
  const translate = useMemo(() => rjsfTranslator(lang), [lang]);
  const ui = effectiveUi(schema, data, permissions, readOnly);
  return (
    <Form
      translateString={translate}
      schema={json}
      uiSchema={ui}
      formData={data}
      validator={validator}
      widgets={THEME.widgets}
      templates={THEME.templates}
      formContext={{ app: props.app, form: schema.key, uploadPath: props.uploadPath, lookupPath: props.lookupPath } satisfies FormContext}
      extraErrors={props.errors}
      showErrorList={false}
      noHtml5Validate
      idPrefix={props.idPrefix}
      readonly={readOnly}
      onChange={(event) => props.onChange?.((event.formData ?? {}) as Record<string, unknown>)}
    >
      <span />
    </Form>
  );
}

/** A new record's starting values: the fields' defaults (the server applies them too). */
/** The defaults of a new record, as the form shows them before it is saved: ``$today`` and
 * ``$now`` become the browser's date and time (the server fills an absent field the same way, in
 * the business time zone). */
export function defaults(schema: FormSchema, now: Dayjs = dayjs()): Record<string, unknown> {
  return Object.fromEntries(
    schema.fields.filter((f) => f.default !== undefined && f.default !== null).map((f) => [f.key, resolveToken(f.default, now)]),
  );
}
