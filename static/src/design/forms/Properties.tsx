// The property panel: the selected field's properties (those its type has, catalog.ts), the
// selected section's, or the form's own (name, title field, group field, sections).
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Empty, Form, Input, InputNumber, Select, Space, Switch, Tag, Typography } from "antd";
import { useId, useState } from "react";
import { useLang } from "../../i18n";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import type { ConditionField } from "../conditions/logic";
import { label, type Problem } from "../data";
import { PinnedProblems, ProblemCount } from "../PinnedProblems";
import { HelpSettings } from "./HelpSettings";
import { fieldChoices } from "./choices";
import { DefaultEditor, FormulaEditor, OptionsEditor, PatternEditor, ReferenceEditor, SerialEditor, TextI18n } from "./editors";
import {
  addSection,
  findNode,
  KIND_OF,
  moveSection,
  propertiesOf,
  removeSection,
  setFormProperty,
  setKey,
  setLabel,
  setProperty,
  setSectionProperty,
  type DesignerState,
  type FieldNode,
  type PropertySpec,
  type Text,
} from "./model";

export type Edit = (next: DesignerState, tag?: string | null) => void;

export function conditionFields(state: DesignerState, except?: string): ConditionField[] {
  const field = (n: FieldNode): ConditionField => ({ key: n.body.key, label: n.body.label, type: n.body.type, options: n.body.options });
  return state.fields.filter((f) => f.id !== except).map((f) => (f.columns ? { ...field(f), columns: f.columns.map(field) } : field(f)));
}

function KeyInput({ state, node, parent, publishedKeys, edit }: { state: DesignerState; node: FieldNode; parent: FieldNode | null; publishedKeys: ReadonlySet<string>; edit: Edit }) {
  const { t, lang } = useLang();
  const [typed, setTyped] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Text | null>(null);
  const path = parent ? `${parent.body.key}.${node.body.key}` : node.body.key;
  const fixed = publishedKeys.has(path);
  return (
    <Form.Item
      label={t("design.form.key")}
      // the standing hint is `extra`, drawn at once; `help` (brought in with a motion that pushes
      // the properties below down a line as the panel shows) is kept for a refused key
      help={refusal ? label(refusal, lang) : undefined}
      extra={refusal ? undefined : fixed ? t("design.form.key.fixed") : node.keyEdited ? undefined : t("design.form.key.follows")}
      validateStatus={refusal ? "error" : undefined}
    >
      <Input
        aria-label={t("design.form.key")}
        value={typed ?? node.body.key}
        disabled={fixed}
        onChange={(e) => {
          setTyped(e.target.value);
          const change = setKey(state, node.id, e.target.value);
          if (change.refused) setRefusal(change.refused.message);
          else {
            setRefusal(null);
            setTyped(null);
            edit(change.state, `${node.id}:key`);
          }
        }}
        onBlur={() => {
          setTyped(null);
          setRefusal(null);
        }}
        style={{ fontFamily: "monospace" }}
        data-testid="design-prop-key"
      />
    </Form.Item>
  );
}

function PropertyEditor({
  app,
  state,
  node,
  parent,
  spec,
  edit,
  sample,
}: {
  app: string;
  state: DesignerState;
  node: FieldNode;
  parent: FieldNode | null;
  spec: PropertySpec;
  edit: Edit;
  sample: Record<string, unknown> | null;
}) {
  const value = node.body[spec.name];
  const set = (next: unknown) => edit(setProperty(state, node.id, spec.name, next), `${node.id}:${spec.name}`);
  const siblings = parent ? (parent.columns ?? []).filter((c) => c.id !== node.id) : state.fields.filter((f) => f.id !== node.id);
  const testId = `design-prop-${spec.name}`;
  const { lang } = useLang();
  const aria = label(spec.label, lang);
  switch (spec.editor) {
    case "text_i18n":
      return <TextI18n value={value as Text | undefined} onChange={set} testId={testId} />;
    case "boolean":
      return <Switch aria-label={aria} checked={value === true} onChange={(on) => set(on ? true : undefined)} data-testid={testId} />;
    case "number":
    case "integer":
      return (
        <InputNumber aria-label={aria}
          style={{ width: "100%" }}
          value={typeof value === "number" ? value : null}
          precision={spec.editor === "integer" ? 0 : undefined}
          onChange={(v) => set(v ?? undefined)}
          data-testid={testId}
        />
      );
    case "pattern":
      return <PatternEditor value={value as string | undefined} onChange={set} />;
    case "default":
      return <DefaultEditor field={node} value={value} onChange={set} />;
    case "options":
      return <OptionsEditor value={node.body.options} onChange={set} />;
    case "reference":
      return <ReferenceEditor app={app} value={node.body.reference} onChange={set} />;
    case "condition":
      return <ConditionBuilder value={value} onChange={set} fields={conditionFields(state, parent ? undefined : node.id)} testId={testId} />;
    case "formula":
      return <FormulaEditor value={value} onChange={set} siblings={siblings} sample={parent ? null : sample} />;
    case "result":
      return (
        <Select aria-label={aria}
          style={{ width: "100%" }}
          value={(value as string | undefined) ?? "number"}
          onChange={(v: string) => set(v === "number" ? undefined : v)}
          options={["number", "integer", "text", "boolean", "date", "datetime"].map((v) => ({ value: v, label: label(KIND_OF[v === "boolean" ? "checkbox" : v]?.name, "zh-CN", v) }))}
          data-testid={testId}
        />
      );
    case "serial":
      return <SerialEditor value={value as string | undefined} onChange={set} />;
    case "currency":
      return <Input aria-label={aria} value={(value as string | undefined) ?? ""} maxLength={3} onChange={(e) => set(e.target.value.toUpperCase() || undefined)} data-testid={testId} />;
    case "accept":
      return (
        <Select aria-label={aria}
          mode="tags"
          style={{ width: "100%" }}
          value={(value as string[] | undefined) ?? []}
          onChange={(v: string[]) => set(v.length ? v : undefined)}
          tokenSeparators={[",", " "]}
          placeholder=".pdf, image/*"
          data-testid={testId}
        />
      );
    case "string":
      return <Input aria-label={aria} value={(value as string | undefined) ?? ""} onChange={(e) => set(e.target.value || undefined)} data-testid={testId} />;
  }
}

export function FieldProperties({
  app,
  state,
  id,
  publishedKeys,
  problems,
  edit,
  sample = null,
}: {
  app: string;
  state: DesignerState;
  id: string;
  publishedKeys: ReadonlySet<string>;
  problems: Problem[];
  edit: Edit;
  /** What the preview holds: formulas are computed against it. */
  sample?: Record<string, unknown> | null;
}) {
  const { t, lang } = useLang();
  const anchor = useId();
  const found = findNode(state, id);
  if (!found) return <Empty description={t("design.form.props.none")} />;
  const { node, parent } = found;
  const kind = KIND_OF[node.body.type];
  return (
    <Form layout="vertical" size="small" data-testid="design-field-properties" data-field={node.body.key}>
      <Form.Item label={t("design.form.type")}>
        <Tag>{kind ? label(kind.name, lang) : node.body.type}</Tag>
        {parent && <Typography.Text type="secondary">{label(parent.body.label, lang)}</Typography.Text>}
        <ProblemCount problems={problems} anchor={anchor} />
      </Form.Item>
      <Form.Item label={t("design.form.label_zh")} required>
        <TextI18n value={node.body.label} onChange={(next) => edit(setLabel(state, id, next ?? { "zh-CN": "" }, publishedKeys), `${id}:label`)} testId="design-prop-label" required />
      </Form.Item>
      <KeyInput key={id} state={state} node={node} parent={parent} publishedKeys={publishedKeys} edit={edit} />
      {propertiesOf(node.body.type).map((spec) => (
        <Form.Item key={spec.name} label={label(spec.label, lang)}>
          <PropertyEditor app={app} state={state} node={node} parent={parent} spec={spec} edit={edit} sample={sample} />
        </Form.Item>
      ))}
      <PinnedProblems problems={problems} anchor={anchor} testId="design-field-problems" />
    </Form>
  );
}

export function SectionProperties({ state, id, edit }: { state: DesignerState; id: string; edit: Edit }) {
  const { t } = useLang();
  const section = state.sections?.find((s) => s.id === id);
  if (!section) return <Empty description={t("design.form.props.none")} />;
  return (
    <Form layout="vertical" size="small" data-testid="design-section-properties">
      <Form.Item label={t("design.form.section.title")}>
        <TextI18n value={section.body.title} onChange={(v) => edit(setSectionProperty(state, id, "title", v), `${id}:title`)} testId="design-section-title" />
      </Form.Item>
      <Form.Item label={t("design.form.section.columns")}>
        <Select
          aria-label={t("design.form.section.columns")}
          value={section.body.columns ?? 1}
          onChange={(v: number) => edit(setSectionProperty(state, id, "columns", v === 1 ? undefined : v))}
          options={[1, 2, 3, 4].map((n) => ({ value: n, label: n }))}
          data-testid="design-section-columns"
        />
      </Form.Item>
      <Button danger icon={<DeleteOutlined />} onClick={() => edit(removeSection(state, id).state)} data-testid="design-section-remove">
        {t("design.form.section.remove")}
      </Button>
    </Form>
  );
}

export function FormProperties({ app, state, edit, problems, onSection }: { app: string; state: DesignerState; edit: Edit; problems: Problem[]; onSection: (id: string) => void }) {
  const { t, lang } = useLang();
  const anchor = useId();
  const options = (state.form.options ?? {}) as Record<string, unknown>;
  const candidates = (types: string[]) => fieldChoices(state, types, lang);
  return (
    <Form layout="vertical" size="small" data-testid="design-form-properties">
      <Form.Item label={t("design.form.name_zh")} required>
        <TextI18n value={state.form.label} onChange={(v) => edit(setFormProperty(state, "label", v ?? { "zh-CN": "" }), "form:label")} testId="design-form-name" required />
      </Form.Item>
      <Form.Item label={t("design.form.form_key")}>
        <Typography.Text code>{state.form.key}</Typography.Text>
      </Form.Item>
      <Form.Item label={t("design.form.title_field")}>
        <Select
          aria-label={t("design.form.title_field")}
          allowClear
          value={options.title_field as string | undefined}
          onChange={(v?: string) => edit(setFormProperty(state, "options.title_field", v ?? undefined))}
          options={candidates(["text", "serial", "email", "phone", "formula"])}
          data-testid="design-form-title-field"
        />
      </Form.Item>
      <Form.Item label={t("design.form.group_field")}>
        <Select
          aria-label={t("design.form.group_field")}
          allowClear
          value={options.group_field as string | undefined}
          onChange={(v?: string) => edit(setFormProperty(state, "options.group_field", v ?? undefined))}
          options={candidates(["group"])}
        />
      </Form.Item>
      <Form.Item label={t("design.form.section")}>
        <Space direction="vertical" style={{ width: "100%" }}>
          {(state.sections ?? []).map((s, i, all) => (
            <Space key={s.id} style={{ width: "100%", justifyContent: "space-between" }}>
              <Button type="link" size="small" onClick={() => onSection(s.id)}>
                {label(s.body.title, lang, `${t("design.form.section")} ${i + 1}`)}
              </Button>
              <span>
                <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => edit(moveSection(state, s.id, i - 1))} aria-label={t("design.form.up")} />
                <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === all.length - 1} onClick={() => edit(moveSection(state, s.id, i + 1))} aria-label={t("design.form.down")} />
                <Button size="small" type="text" icon={<DeleteOutlined />} onClick={() => edit(removeSection(state, s.id).state)} aria-label={t("design.form.section.remove")} />
              </span>
            </Space>
          ))}
          <Button
            size="small"
            icon={<PlusOutlined />}
            onClick={() => {
              const change = addSection(state, { "zh-CN": "新分区", en: "New section" });
              edit(change.state);
              if (change.id) onSection(change.id);
            }}
            data-testid="design-add-section"
          >
            {t("design.form.add_section")}
          </Button>
        </Space>
      </Form.Item>
      <HelpSettings app={app} state={state} edit={edit} />
      <PinnedProblems problems={problems} anchor={anchor} testId="design-field-problems" />
    </Form>
  );
}
