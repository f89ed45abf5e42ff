// The actions a rule or an automation node runs, edited without JSON: an ordered list (add by
// type, move up or down, remove), each action a card with a form for its type — fields and the
// values they get (a fixed value, another field, the time now, a number added, a text with fields
// in it), recipients by kind, message templates that offer the record's fields, the form or flow
// an action names — and its reading in words.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, KeyOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Dropdown, Input, InputNumber, Modal, Select, Space, Switch, Typography } from "antd";
import type { TextAreaRef } from "antd/es/input/TextArea";
import { useRef, useState, type ReactNode } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { useSession } from "../../session";
import { label, useOverview } from "../data";
import { useDirectory, useFlowForm, type FormField } from "../flows/data";
import {
  ACTION_TYPES,
  actionLabel,
  actionText,
  blankAction,
  insertPlaceholder,
  moveAction,
  RECIPIENT_KINDS,
  RECIPIENT_LABELS,
  recipientsOf,
  switchValue,
  toOf,
  valueOf,
  valueSpec,
  VALUE_KINDS,
  type Action,
  type ActionType,
  type Names,
  type Recipient,
  type ValueKind,
  type ValueSpec,
} from "./model";
import "./strings";

type Lang = "zh-CN" | "en";
const say = ([zhText, en]: [string, string], lang: Lang) => (lang === "en" ? en : zhText);

function fieldOptions(fields: FormField[], lang: string, only?: (f: FormField) => boolean) {
  return fields.filter((f) => f.type !== "sub_table" && (!only || only(f))).map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }));
}

/** A fixed value typed as its field wants it. */
function FixedInput({ field, value, onChange, testId }: { field: FormField | undefined; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const { t, lang } = useLang();
  const name = field ? t("design.action.value.of", { field: label(field.label, lang, field.key) }) : t("design.action.value.fixed");
  if (field?.options)
    return (
      <Select
        size="small"
        style={{ minWidth: 140 }}
        value={value as string | undefined}
        onChange={onChange}
        options={field.options.map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
        aria-label={name}
        data-testid={testId}
      />
    );
  if (field && ["number", "integer", "money"].includes(field.type))
    return <InputNumber size="small" value={typeof value === "number" ? value : null} onChange={(v) => onChange(v ?? null)} aria-label={name} data-testid={testId} />;
  if (field?.type === "checkbox") return <Switch size="small" checked={value === true} onChange={onChange} aria-label={name} data-testid={testId} />;
  return (
    <Input
      size="small"
      style={{ minWidth: 140 }}
      value={typeof value === "string" ? value : value === null || value === undefined ? "" : JSON.stringify(value)}
      onChange={(e) => onChange(e.target.value)}
      aria-label={name}
      data-testid={testId}
    />
  );
}

/** A text with the record's fields in it (``{{key}}``), a field inserted where the caret is. */
export function TemplateInput({ value, onChange, fields, rows, testId, ariaLabel }: { value: string; onChange: (v: string) => void; fields: FormField[]; rows?: number; testId: string; ariaLabel: string }) {
  const { t, lang } = useLang();
  const area = useRef<TextAreaRef>(null);
  const caret = useRef(value.length);
  const insert = (key: string) => {
    const next = insertPlaceholder(value, caret.current, key);
    onChange(next.text);
    caret.current = next.caret;
    requestAnimationFrame(() => area.current?.resizableTextArea?.textArea.setSelectionRange(next.caret, next.caret));
  };
  return (
    <Space direction="vertical" size={2} style={{ width: "100%" }}>
      <Input.TextArea
        ref={area}
        value={value}
        autoSize={{ minRows: rows ?? 1, maxRows: 6 }}
        onChange={(e) => {
          caret.current = e.target.selectionStart;
          onChange(e.target.value);
        }}
        onSelect={(e) => (caret.current = (e.target as HTMLTextAreaElement).selectionStart)}
        aria-label={ariaLabel}
        data-testid={testId}
      />
      <Select
        size="small"
        variant="borderless"
        showSearch
        optionFilterProp="label"
        style={{ width: 180 }}
        value={null}
        placeholder={
          <span style={{ color: "#1961d8" }}>
            <PlusOutlined /> {t("design.action.insert_field")}
          </span>
        }
        options={fieldOptions(fields, lang)}
        onChange={(key: string) => insert(key)}
        aria-label={`${ariaLabel}：${t("design.action.insert_field")}`}
        data-testid={`${testId}-insert`}
      />
    </Space>
  );
}

/** A value for a field: fixed, another field, now, a number added, a text, or a formula. */
function ValueEditor({ target, value, onChange, fields, testId }: { target: FormField | undefined; value: unknown; onChange: (v: unknown) => void; fields: FormField[]; testId: string }) {
  const { t, lang } = useLang();
  const spec = valueSpec(value);
  const [formulaText, setFormulaText] = useState(() => (spec.kind === "formula" ? JSON.stringify(spec.logic) : ""));
  const [bad, setBad] = useState(false);
  const set = (next: ValueSpec) => onChange(valueOf(next));
  const fieldSelect = (path: string, write: (path: string) => void, only?: (f: FormField) => boolean) => (
    <Select
      size="small"
      showSearch
      optionFilterProp="label"
      style={{ minWidth: 140 }}
      value={path || undefined}
      onChange={write}
      options={[...fieldOptions(fields, lang, only), ...(path && !fields.some((f) => f.key === path) ? [{ value: path, label: path }] : [])]}
      aria-label={t("design.action.value.field")}
      data-testid={`${testId}-field`}
    />
  );
  return (
    <Space wrap size={4}>
      <Select<ValueKind>
        size="small"
        style={{ width: 120 }}
        value={spec.kind}
        onChange={(kind) => {
          const next = switchValue(spec, kind, fields[0]?.key ?? "");
          if (next.kind === "formula") setFormulaText(JSON.stringify(next.logic));
          set(next);
        }}
        options={VALUE_KINDS.map((k) => ({ value: k, label: t(`design.action.value.${k}`) }))}
        aria-label={t("design.action.value.kind")}
        data-testid={`${testId}-kind`}
      />
      {spec.kind === "fixed" && <FixedInput field={target} value={spec.value} onChange={(v) => set({ kind: "fixed", value: v })} testId={`${testId}-value`} />}
      {spec.kind === "field" && fieldSelect(spec.path, (path) => set({ ...spec, path }))}
      {spec.kind === "add" && (
        <>
          {fieldSelect(spec.path, (path) => set({ ...spec, path }), (f) => ["number", "integer", "money"].includes(f.type))}
          <Typography.Text>+</Typography.Text>
          <InputNumber size="small" value={spec.amount} onChange={(v) => set({ ...spec, amount: v ?? 0 })} aria-label={t("design.action.value.amount")} data-testid={`${testId}-amount`} />
        </>
      )}
      {spec.kind === "text" && (
        <div style={{ minWidth: 220 }}>
          <TemplateInput value={spec.template} onChange={(template) => set({ kind: "text", template })} fields={fields} testId={`${testId}-text`} ariaLabel={t("design.action.value.text")} />
        </div>
      )}
      {spec.kind === "formula" && (
        <Space direction="vertical" size={2}>
          <Input.TextArea
            value={formulaText}
            autoSize={{ minRows: 1, maxRows: 6 }}
            status={bad ? "error" : undefined}
            style={{ fontFamily: "monospace", fontSize: 12, minWidth: 220 }}
            onChange={(e) => {
              setFormulaText(e.target.value);
              try {
                set({ kind: "formula", logic: JSON.parse(e.target.value) as unknown });
                setBad(false);
              } catch {
                setBad(true);
              }
            }}
            aria-label={t("design.action.value.formula")}
            data-testid={`${testId}-formula`}
          />
          <Typography.Text type={bad ? "danger" : "secondary"} style={{ fontSize: 12 }}>
            {t(bad ? "design.action.value.formula_invalid" : "design.action.value.formula_help")}
          </Typography.Text>
        </Space>
      )}
    </Space>
  );
}

/** Field → value rows (set fields; the values of a record to create). */
function ValuesEditor({ value, onChange, targets, sources, testId }: { value: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void; targets: FormField[]; sources: FormField[]; testId: string }) {
  const { t, lang } = useLang();
  const entries = Object.entries(value);
  const free = targets.filter((f) => !(f.key in value) && f.type !== "sub_table");
  return (
    <Space direction="vertical" size={6} style={{ width: "100%" }} data-testid={testId}>
      {entries.map(([key, v]) => (
        <div key={key} style={{ display: "flex", gap: 6, alignItems: "flex-start", flexWrap: "wrap" }} data-testid={`${testId}-row-${key}`}>
          <Typography.Text strong style={{ minWidth: 90, lineHeight: "24px" }}>
            {label(targets.find((f) => f.key === key)?.label, lang, key)}
          </Typography.Text>
          <Typography.Text style={{ lineHeight: "24px" }}>=</Typography.Text>
          <ValueEditor target={targets.find((f) => f.key === key)} value={v} onChange={(next) => onChange({ ...value, [key]: next })} fields={sources} testId={`${testId}-${key}`} />
          <Button
            size="small"
            type="text"
            icon={<DeleteOutlined />}
            aria-label={t("design.action.remove_value")}
            onClick={() => onChange(Object.fromEntries(entries.filter(([k]) => k !== key)))}
          />
        </div>
      ))}
      <Select
        size="small"
        style={{ width: "100%" }}
        value={null}
        showSearch
        optionFilterProp="label"
        placeholder={<span style={{ color: "#595959" }}>{t("design.action.add_value")}</span>}
        options={free.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
        onChange={(key: string) => onChange({ ...value, [key]: "" })}
        aria-label={t("design.action.add_value")}
        data-testid={`${testId}-add`}
      />
    </Space>
  );
}

/** Who an action names: a list of recipients, each a kind and its value. */
function RecipientsEditor({ value, onChange, fields, testId }: { value: unknown; onChange: (v: unknown) => void; fields: FormField[]; testId: string }) {
  const { t, lang } = useLang();
  const { users, groups, roles } = useDirectory();
  const list = recipientsOf(value);
  const write = (next: Recipient[]) => onChange(toOf(next, Array.isArray(value) || next.length !== 1));
  const people = fields.filter((f) => ["user", "users", "group"].includes(f.type));
  return (
    <Space direction="vertical" size={6} style={{ width: "100%" }} data-testid={testId}>
      {list.map((r, i) => (
        <Space key={i} wrap size={4} data-testid={`${testId}-${i}`}>
          <Select
            size="small"
            style={{ width: 150 }}
            value={r.kind}
            onChange={(kind: Recipient["kind"]) => write(list.map((x, j) => (j === i ? { kind, value: kind === "manager_of" ? "group" : "" } : x)))}
            options={RECIPIENT_KINDS.map((k) => ({ value: k, label: say(RECIPIENT_LABELS[k], lang as Lang) }))}
            aria-label={t("design.action.recipient.kind")}
            data-testid={`${testId}-${i}-kind`}
          />
          {r.kind === "user" ? (
            <Select
              size="small"
              showSearch
              optionFilterProp="label"
              style={{ minWidth: 160 }}
              value={typeof r.value === "number" ? r.value : undefined}
              onChange={(id: number) => write(list.map((x, j) => (j === i ? { ...x, value: id } : x)))}
              options={(users.data ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }))}
              aria-label={t("design.action.recipient.value")}
              data-testid={`${testId}-${i}-value`}
            />
          ) : (
            <Select
              size="small"
              showSearch
              optionFilterProp="label"
              style={{ minWidth: 160 }}
              value={r.value === "" ? undefined : String(r.value)}
              onChange={(v: string) => write(list.map((x, j) => (j === i ? { ...x, value: v } : x)))}
              options={
                r.kind === "group"
                  ? (groups.data ?? []).map((g) => ({ value: g.key, label: `${g.name} (${g.key})` }))
                  : r.kind === "role"
                    ? (roles.data ?? []).map((x) => ({ value: x.key, label: `${x.name} (${x.key})` }))
                    : r.kind === "email_field"
                      ? fieldOptions(fields, lang, (f) => f.type === "email")
                      : r.kind === "manager_of"
                        ? [{ value: "group", label: t("design.action.recipient.record_group") }, ...fieldOptions(people, lang)]
                        : fieldOptions(people, lang)
              }
              aria-label={t("design.action.recipient.value")}
              data-testid={`${testId}-${i}-value`}
            />
          )}
          <Button size="small" type="text" icon={<DeleteOutlined />} aria-label={t("design.action.recipient.remove")} onClick={() => write(list.filter((_, j) => j !== i))} />
        </Space>
      ))}
      <Button size="small" icon={<PlusOutlined />} onClick={() => write([...list, { kind: "field", value: "" }])} data-testid={`${testId}-add`}>
        {t("design.action.recipient.add")}
      </Button>
    </Space>
  );
}

function ActionForm({ app, action, onChange, fields, testId }: { app: string; action: Action; onChange: (a: Action) => void; fields: FormField[]; testId: string }) {
  const { t, lang } = useLang();
  const overview = useOverview(app);
  const definitions = overview.data ?? [];
  const of = (kind: string) => definitions.filter((d) => d.kind === kind).map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }));
  const createForm = (action.type === "create_record" || action.type === "send_survey") && typeof action.form === "string" && action.form ? action.form : undefined;
  const target = useFlowForm(app, createForm);
  const patch = (p: Record<string, unknown>) => {
    const next: Action = { ...action, ...p };
    for (const [k, v] of Object.entries(p)) if (v === undefined) delete next[k];
    onChange(next);
  };
  const row = (name: string, control: ReactNode) => (
    <div style={{ display: "grid", gridTemplateColumns: "84px 1fr", gap: 6, alignItems: "start" }}>
      <Typography.Text type="secondary" style={{ lineHeight: "24px" }}>
        {name}
      </Typography.Text>
      <div>{control}</div>
    </div>
  );
  switch (action.type) {
    case "set_fields":
      return <ValuesEditor value={(action.values as Record<string, unknown>) ?? {}} onChange={(values) => patch({ values })} targets={fields} sources={fields} testId={`${testId}-values`} />;
    case "create_record":
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(
            t("design.action.form"),
            <Select size="small" style={{ width: "100%" }} value={createForm} onChange={(form: string) => patch({ form, values: {} })} options={of("form")} data-testid={`${testId}-form`} aria-label={t("design.action.form")} />,
          )}
          {createForm && <ValuesEditor value={(action.values as Record<string, unknown>) ?? {}} onChange={(values) => patch({ values })} targets={target.data ?? []} sources={fields} testId={`${testId}-values`} />}
        </Space>
      );
    case "send_survey":
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(
            t("design.action.form"),
            <Select size="small" style={{ width: "100%" }} value={createForm} onChange={(form: string) => patch({ form, link_field: "" })} options={of("form")} data-testid={`${testId}-form`} aria-label={t("design.action.form")} />,
          )}
          {row(
            t("design.action.survey.link_field"),
            <Select
              size="small"
              style={{ width: "100%" }}
              value={(action.link_field as string) || undefined}
              onChange={(link_field: string) => patch({ link_field })}
              options={fieldOptions(target.data ?? [], lang, (f) => f.type === "reference")}
              data-testid={`${testId}-link-field`}
              aria-label={t("design.action.survey.link_field")}
            />,
          )}
          {row(
            t("design.action.survey.days"),
            <InputNumber size="small" min={1} max={365} value={Number(action.expires_in_days ?? 14)} onChange={(days) => patch({ expires_in_days: days ?? 14 })} aria-label={t("design.action.survey.days")} data-testid={`${testId}-days`} />,
          )}
          {row(
            t("design.action.survey.to_field"),
            <Select
              size="small"
              allowClear
              style={{ width: "100%" }}
              value={(action.to_field as string) || undefined}
              onChange={(to_field?: string) => patch({ to_field: to_field || undefined })}
              options={fieldOptions(fields, lang, (f) => f.type === "email")}
              aria-label={t("design.action.survey.to_field")}
            />,
          )}
          {row(
            t("design.action.survey.answered_field"),
            <Select
              size="small"
              allowClear
              style={{ width: "100%" }}
              value={(action.answered_field as string) || undefined}
              onChange={(answered_field?: string) => patch({ answered_field: answered_field || undefined })}
              options={fieldOptions(fields, lang, (f) => f.type === "datetime")}
              aria-label={t("design.action.survey.answered_field")}
            />,
          )}
        </Space>
      );
    case "start_flow":
      return row(
        t("design.action.flow"),
        <Select size="small" style={{ width: "100%" }} value={(action.flow as string) || undefined} onChange={(flow: string) => patch({ flow })} options={of("flow")} data-testid={`${testId}-flow`} aria-label={t("design.action.flow")} />,
      );
    case "notify":
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(t("design.action.to"), <RecipientsEditor value={action.to} onChange={(to) => patch({ to })} fields={fields} testId={`${testId}-to`} />)}
          {row(
            t("design.action.channel"),
            <Select
              size="small"
              style={{ width: 140 }}
              value={(action.channel as string) ?? "in_app"}
              onChange={(channel: string) => patch({ channel: channel === "in_app" ? undefined : channel })}
              options={[
                { value: "in_app", label: t("design.action.channel.in_app") },
                { value: "email", label: t("design.action.channel.email") },
              ]}
              aria-label={t("design.action.channel")}
              data-testid={`${testId}-channel`}
            />,
          )}
          {row(t("design.action.title"), <TemplateInput value={String(action.title ?? "")} onChange={(title) => patch({ title })} fields={fields} testId={`${testId}-title`} ariaLabel={t("design.action.title")} />)}
          {row(t("design.action.body"), <TemplateInput value={String(action.body ?? "")} onChange={(body) => patch({ body: body || undefined })} fields={fields} rows={3} testId={`${testId}-body`} ariaLabel={t("design.action.body")} />)}
        </Space>
      );
    case "comment":
      return row(t("design.action.text"), <TemplateInput value={String(action.text ?? "")} onChange={(text) => patch({ text })} fields={fields} rows={2} testId={`${testId}-text`} ariaLabel={t("design.action.text")} />);
    case "escalate":
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(t("design.action.levels"), <InputNumber size="small" min={1} max={5} value={Number(action.levels ?? 1)} onChange={(levels) => patch({ levels: levels ?? 1 })} aria-label={t("design.action.levels")} data-testid={`${testId}-levels`} />)}
          {row(
            t("design.action.escalate_notify"),
            <Select
              size="small"
              style={{ width: 200 }}
              value={(action.notify as string) ?? "group_manager"}
              onChange={(notify: string) => patch({ notify: notify === "group_manager" ? undefined : notify })}
              options={[
                { value: "group_manager", label: t("design.action.escalate.group_manager") },
                { value: "none", label: t("design.action.escalate.none") },
              ]}
              aria-label={t("design.action.escalate_notify")}
            />,
          )}
        </Space>
      );
    case "webhook":
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(t("design.action.url"), <Input size="small" value={String(action.url ?? "")} placeholder="https://" onChange={(e) => patch({ url: e.target.value })} aria-label={t("design.action.url")} data-testid={`${testId}-url`} />)}
          {row(
            t("design.action.fields"),
            <Select
              size="small"
              mode="multiple"
              style={{ width: "100%" }}
              value={(action.fields as string[]) ?? []}
              onChange={(list: string[]) => patch({ fields: list.length ? list : undefined })}
              options={fieldOptions(fields, lang)}
              placeholder={t("design.action.fields.all")}
              aria-label={t("design.action.fields")}
            />,
          )}
          {row(t("design.action.event"), <Input size="small" value={String(action.event ?? "")} onChange={(e) => patch({ event: e.target.value || undefined })} aria-label={t("design.action.event")} />)}
          {row(t("design.action.secret"), <WebhookSecret app={app} testId={`${testId}-secret`} />)}
        </Space>
      );
    case "assign": {
      const byTable = typeof action.table === "string";
      return (
        <Space direction="vertical" size={6} style={{ width: "100%" }}>
          {row(
            t("design.action.assign.field"),
            <Select
              size="small"
              style={{ width: "100%" }}
              value={String(action.field ?? "assignee")}
              onChange={(field: string) => patch({ field })}
              options={fieldOptions(fields, lang, (f) => ["user", "group"].includes(f.type))}
              aria-label={t("design.action.assign.field")}
              data-testid={`${testId}-field`}
            />,
          )}
          {row(
            t("design.action.assign.source"),
            <Select
              size="small"
              style={{ width: "100%" }}
              value={byTable ? "table" : "people"}
              onChange={(source: string) => patch(source === "table" ? { table: "", output: "", to: undefined } : { table: undefined, output: undefined, as: undefined, to: [] })}
              options={[
                { value: "people", label: t("design.action.assign.people") },
                { value: "table", label: t("design.action.assign.table") },
              ]}
              aria-label={t("design.action.assign.source")}
            />,
          )}
          {byTable ? (
            <>
              {row(t("design.action.assign.table_key"), <Select size="small" style={{ width: "100%" }} value={String(action.table) || undefined} onChange={(table: string) => patch({ table })} options={of("rule")} aria-label={t("design.action.assign.table_key")} />)}
              {row(t("design.action.assign.output"), <Input size="small" value={String(action.output ?? "")} onChange={(e) => patch({ output: e.target.value })} aria-label={t("design.action.assign.output")} />)}
            </>
          ) : (
            row(t("design.action.assign.candidates"), <RecipientsEditor value={action.to} onChange={(to) => patch({ to })} fields={fields} testId={`${testId}-to`} />)
          )}
          {row(
            t("design.action.assign.strategy"),
            <Select
              size="small"
              style={{ width: "100%" }}
              value={(action.strategy as string) ?? "fixed"}
              onChange={(strategy: string) => patch({ strategy: strategy === "fixed" ? undefined : strategy })}
              options={["fixed", "round_robin", "least_open", "skill"].map((s) => ({ value: s, label: t(`design.action.assign.strategy.${s}`) }))}
              aria-label={t("design.action.assign.strategy")}
            />,
          )}
          {action.strategy === "least_open" &&
            row(
              t("design.action.assign.closed"),
              <Select size="small" mode="tags" style={{ width: "100%" }} value={(action.closed as string[]) ?? []} onChange={(closed: string[]) => patch({ closed: closed.length ? closed : undefined })} aria-label={t("design.action.assign.closed")} />,
            )}
          {action.strategy === "skill" && row(t("design.action.assign.skill"), <ValueEditor target={undefined} value={action.skill ?? ""} onChange={(skill) => patch({ skill })} fields={fields} testId={`${testId}-skill`} />)}
        </Space>
      );
    }
    default:
      return <Typography.Text type="secondary">{t("design.action.unknown", { type: action.type })}</Typography.Text>;
  }
}

/** The app's webhook signing secret, shown to an administrator in a dialog and forgotten when it
 * closes (each reveal is audited); others are told to ask one. */
function WebhookSecret({ app, testId }: { app: string; testId: string }) {
  const { t } = useLang();
  const { me } = useSession();
  const [shown, setShown] = useState<{ secret: string; signature_header: string; timestamp_header: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!me?.is_admin) return <Typography.Text type="secondary">{t("design.action.secret.ask")}</Typography.Text>;
  const reveal = async () => {
    setError(null);
    try {
      setShown(data(await client.POST("/api/v1/apps/{app}/webhooks/secret", { params: { path: { app } } })));
    } catch (e) {
      setError(problemText(e));
    }
  };
  return (
    <>
      <Button size="small" icon={<KeyOutlined />} onClick={() => void reveal()} data-testid={testId}>
        {t("design.action.secret.show")}
      </Button>
      {error && <Alert type="error" showIcon message={error} />}
      <Modal open={shown !== null} title={t("design.action.secret")} onCancel={() => setShown(null)} footer={<Button onClick={() => setShown(null)}>{t("common.close")}</Button>} destroyOnHidden>
        {shown && (
          <Space direction="vertical" size={8} style={{ width: "100%" }}>
            <Alert type="warning" showIcon message={t("design.action.secret.once")} />
            <Typography.Text code copyable data-testid={`${testId}-value`}>
              {shown.secret}
            </Typography.Text>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 0 }}>
              {t("design.action.secret.how", { signature: shown.signature_header, timestamp: shown.timestamp_header })}
            </Typography.Paragraph>
          </Space>
        )}
      </Modal>
    </>
  );
}

export function ActionsEditor({ app, value, onChange, fields, names, testId }: { app: string; value: Action[] | undefined; onChange: (next: Action[]) => void; fields: FormField[]; names: Names; testId: string }) {
  const { t, lang } = useLang();
  const list = value ?? [];
  return (
    <Space direction="vertical" size={8} style={{ width: "100%" }} data-testid={testId}>
      {list.length === 0 && <Typography.Text type="secondary">{t("design.action.none")}</Typography.Text>}
      {list.map((action, i) => (
        <Card
          key={i}
          size="small"
          data-testid={`${testId}-${i}`}
          title={<span style={{ fontSize: 13 }}>{`${i + 1}. ${actionLabel(action.type, lang as Lang)}`}</span>}
          extra={
            <Space size={0}>
              <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => onChange(moveAction(list, i, -1))} aria-label={t("design.action.up")} />
              <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === list.length - 1} onClick={() => onChange(moveAction(list, i, 1))} aria-label={t("design.action.down")} />
              <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => onChange(list.filter((_, j) => j !== i))} aria-label={t("design.action.remove")} data-testid={`${testId}-${i}-remove`} />
            </Space>
          }
          styles={{ body: { padding: 8 } }}
        >
          <Space direction="vertical" size={6} style={{ width: "100%" }}>
            <ActionForm app={app} action={action} onChange={(next) => onChange(list.map((a, j) => (j === i ? next : a)))} fields={fields} testId={`${testId}-${i}`} />
            <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`${testId}-${i}-reading`}>
              {actionText(action, lang as Lang, names)}
            </Typography.Text>
          </Space>
        </Card>
      ))}
      <Dropdown trigger={["click"]} menu={{ items: ACTION_TYPES.map((type) => ({ key: type, label: actionLabel(type, lang as Lang) })), onClick: ({ key }) => onChange([...list, blankAction(key as ActionType)]) }}>
        <Button size="small" icon={<PlusOutlined />} data-testid={`${testId}-add`}>
          {t("design.action.add")}
        </Button>
      </Dropdown>
    </Space>
  );
}
