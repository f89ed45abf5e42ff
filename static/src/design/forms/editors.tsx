// The property panel's editors, one per kind of property (catalog.ts names them): texts in both
// languages, options, defaults, patterns with a test box, linked forms, formulas, serial patterns.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, HolderOutlined, PlusOutlined } from "@ant-design/icons";
import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type Announcements, type UniqueIdentifier } from "@dnd-kit/core";
import { arrayMove, SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useQuery } from "@tanstack/react-query";
import { Button, Input, InputNumber, Popover, Select, Space, Switch, Typography } from "antd";
import dayjs from "dayjs";
import jsonLogic from "json-logic-js";
import { useState, type ReactNode } from "react";
import { client, data as answered } from "../../client";
import { useLang } from "../../i18n";
import { label, useOverview } from "../data";
import { optionsFromLines, serialExample, type FieldNode, type OptionDef, type Text } from "./model";

/** A text in zh-CN (required) and en. */
export function TextI18n({ value, onChange, testId, required }: { value: Text | undefined; onChange: (next: Text | undefined) => void; testId: string; required?: boolean }) {
  const { t } = useLang();
  const set = (lang: "zh-CN" | "en", text: string) => {
    const next: Record<string, string> = { ...(value ?? { "zh-CN": "" }) };
    if (text) next[lang] = text;
    else delete next[lang];
    if (!required && !next["zh-CN"] && !next.en) onChange(undefined);
    else onChange({ "zh-CN": next["zh-CN"] ?? "", ...(next.en ? { en: next.en } : {}) });
  };
  return (
    <Space.Compact direction="vertical" style={{ width: "100%" }}>
      <Input addonBefore="中" aria-label={t("design.form.label_zh")} value={value?.["zh-CN"] ?? ""} onChange={(e) => set("zh-CN", e.target.value)} data-testid={`${testId}-zh`} />
      <Input addonBefore="EN" aria-label={t("design.form.label_en")} value={value?.en ?? ""} onChange={(e) => set("en", e.target.value)} data-testid={`${testId}-en`} />
    </Space.Compact>
  );
}

/** The colours an option may take (tags in lists and boards): antd's preset palette, dark enough
 * for white text. */
export const COLORS = ["#1677ff", "#389e0d", "#d48806", "#cf1322", "#531dab", "#08979c", "#c41d7f", "#595959"];

/** One option's row, sortable by its handle (the arrows beside it do the same by keyboard). */
function OptionRow({ id, children }: { id: string; children: (handle: ReactNode) => ReactNode }) {
  const { t } = useLang();
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition } = useSortable({ id });
  return (
    <div
      ref={setNodeRef}
      style={{ display: "flex", gap: 4, alignItems: "center", transform: CSS.Translate.toString(transform), transition }}
      data-testid="design-option"
    >
      {children(
        <button
          type="button"
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          aria-label={t("design.form.option.drag")}
          style={{ border: 0, background: "transparent", padding: 0, cursor: "grab", color: "#5c6370" }}
        >
          <HolderOutlined />
        </button>,
      )}
    </div>
  );
}

export function OptionsEditor({ value, onChange }: { value: OptionDef[] | undefined; onChange: (next: OptionDef[]) => void }) {
  const { t } = useLang();
  const [pasting, setPasting] = useState(false);
  const [lines, setLines] = useState("");
  const options = value ?? [];
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  // an option is named by its place: "option:<index>" is 0-based, people count from 1
  const nth = (id: UniqueIdentifier) => Number(String(id).slice(7)) + 1;
  const announcements: Announcements = {
    onDragStart: ({ active }) => t("design.form.option.drag.start", { n: nth(active.id) }),
    onDragOver: ({ active, over }) => (over ? t("design.form.option.drag.over", { n: nth(active.id), target: nth(over.id) }) : undefined),
    onDragEnd: ({ active, over }) =>
      over ? t("design.form.option.drag.end", { n: nth(active.id), target: nth(over.id) }) : t("design.form.option.drag.cancel", { n: nth(active.id) }),
    onDragCancel: ({ active }) => t("design.form.option.drag.cancel", { n: nth(active.id) }),
  };
  const update = (index: number, change: Partial<OptionDef>) => onChange(options.map((o, i) => (i === index ? { ...o, ...change } : o)));
  const swap = (a: number, b: number) => {
    const next = [...options];
    [next[a], next[b]] = [next[b], next[a]];
    onChange(next);
  };
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="design-options">
      <DndContext
        sensors={sensors}
        collisionDetection={closestCenter}
        accessibility={{ announcements, screenReaderInstructions: { draggable: t("design.form.drag.instructions") } }}
        onDragEnd={({ active, over }) => {
          if (!over || active.id === over.id) return;
          onChange(arrayMove(options, Number(String(active.id).slice(7)), Number(String(over.id).slice(7))));
        }}
      >
        <SortableContext items={options.map((_, i) => `option:${i}`)} strategy={verticalListSortingStrategy}>
          {options.map((option, index) => (
            <OptionRow key={index} id={`option:${index}`}>
              {(handle) => (
                <>
                  {handle}
                  <Select
                    size="small"
                    style={{ width: 64 }}
                    allowClear
                    aria-label={t("design.form.option.color")}
                    value={option.color}
                    onChange={(color?: string) => update(index, { color: color ?? undefined })}
                    options={COLORS.map((c) => ({ value: c, label: <span style={{ display: "inline-block", width: 14, height: 14, borderRadius: 3, background: c, verticalAlign: "middle" }} /> }))}
                  />
                  <Input
                    size="small"
                    style={{ flex: 2 }}
                    aria-label={t("design.form.label_zh")}
                    value={option.label?.["zh-CN"] ?? ""}
                    placeholder={option.value}
                    onChange={(e) => update(index, { label: { ...(option.label ?? {}), "zh-CN": e.target.value } })}
                    data-testid="design-option-label"
                  />
                  <Input
                    size="small"
                    style={{ flex: 1 }}
                    aria-label={t("design.form.option.value")}
                    title={t("design.form.option.value")}
                    value={option.value}
                    onChange={(e) => update(index, { value: e.target.value })}
                    data-testid="design-option-value"
                  />
                  <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={index === 0} onClick={() => swap(index, index - 1)} aria-label={t("design.form.up")} />
                  <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={index === options.length - 1} onClick={() => swap(index, index + 1)} aria-label={t("design.form.down")} />
                  <Button size="small" type="text" icon={<DeleteOutlined />} onClick={() => onChange(options.filter((_, i) => i !== index))} aria-label={t("design.form.delete")} />
                </>
              )}
            </OptionRow>
          ))}
        </SortableContext>
      </DndContext>
      <Space>
        <Button
          size="small"
          icon={<PlusOutlined />}
          onClick={() => onChange([...options, ...optionsFromLines(`${t("design.form.option.value")}${options.length + 1}`, options)])}
          data-testid="design-option-add"
        >
          {t("design.form.option.add")}
        </Button>
        <Popover
          open={pasting}
          onOpenChange={setPasting}
          trigger="click"
          title={t("design.form.option.paste.help")}
          content={
            <Space direction="vertical">
              <Input.TextArea rows={6} value={lines} onChange={(e) => setLines(e.target.value)} data-testid="design-option-lines" />
              <Button
                type="primary"
                size="small"
                onClick={() => {
                  onChange([...options, ...optionsFromLines(lines, options)]);
                  setLines("");
                  setPasting(false);
                }}
                data-testid="design-option-lines-ok"
              >
                {t("common.ok")}
              </Button>
            </Space>
          }
        >
          <Button size="small" data-testid="design-option-paste">
            {t("design.form.option.paste")}
          </Button>
        </Popover>
      </Space>
    </Space>
  );
}

/** A default: none, a value of the field's type, or today / now for dates. */
export function DefaultEditor({ field, value, onChange }: { field: FieldNode; value: unknown; onChange: (next: unknown) => void }) {
  const { t, lang } = useLang();
  const type = field.body.type;
  const token = type === "date" ? "$today" : type === "datetime" ? "$now" : null;
  const aria = t("design.form.default.value");
  if (token) {
    const mode = value === undefined ? "none" : value === token ? "token" : "value";
    return (
      <Space direction="vertical" style={{ width: "100%" }}>
        <Select
          aria-label={t("design.form.default.none")}
          value={mode}
          onChange={(m) => onChange(m === "none" ? undefined : m === "token" ? token : type === "date" ? dayjs().format("YYYY-MM-DD") : dayjs().format("YYYY-MM-DDTHH:mm:ssZ"))}
          options={[
            { value: "none", label: t("design.form.default.none") },
            { value: "token", label: t(type === "date" ? "design.form.default.today" : "design.form.default.now") },
            { value: "value", label: t("design.form.default.value") },
          ]}
          data-testid="design-default-mode"
        />
        {mode === "value" && <Input aria-label={aria} value={String(value)} onChange={(e) => onChange(e.target.value || undefined)} />}
      </Space>
    );
  }
  if (type === "checkbox") {
    return <Switch aria-label={aria} checked={value === true} onChange={(on) => onChange(on ? true : undefined)} />;
  }
  if (["select", "radio"].includes(type)) {
    return (
      <Select
        aria-label={aria}
        allowClear
        placeholder={t("design.form.default.none")}
        value={value as string | undefined}
        onChange={(v) => onChange(v ?? undefined)}
        options={(field.body.options ?? []).map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
        data-testid="design-default"
      />
    );
  }
  if (type === "multi_select") {
    return (
      <Select
        aria-label={aria}
        mode="multiple"
        allowClear
        placeholder={t("design.form.default.none")}
        value={(value as string[] | undefined) ?? []}
        onChange={(v: string[]) => onChange(v.length ? v : undefined)}
        options={(field.body.options ?? []).map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
      />
    );
  }
  if (["number", "integer", "money"].includes(type)) {
    return (
      <InputNumber
        aria-label={aria}
        style={{ width: "100%" }}
        placeholder={t("design.form.default.none")}
        value={typeof value === "number" ? value : null}
        precision={type === "integer" ? 0 : undefined}
        onChange={(v) => onChange(v ?? undefined)}
        data-testid="design-default"
      />
    );
  }
  if (["text", "textarea", "email", "phone"].includes(type)) {
    return (
      <Input
        aria-label={aria}
        placeholder={t("design.form.default.none")}
        value={typeof value === "string" ? value : ""}
        onChange={(e) => onChange(e.target.value || undefined)}
        data-testid="design-default"
      />
    );
  }
  return <Typography.Text type="secondary">{value === undefined ? t("design.form.default.none") : JSON.stringify(value)}</Typography.Text>;
}

/** A regular expression and a box to try it on (the server checks it with Python's ``re``; the
 * syntax both understand is what forms use). */
export function PatternEditor({ value, onChange }: { value: string | undefined; onChange: (next: string | undefined) => void }) {
  const { t } = useLang();
  const [sample, setSample] = useState("");
  let verdict: { type: "success" | "danger"; text: string } | null = null;
  if (value) {
    try {
      const matches = new RegExp(`^(?:${value})$`, "u").test(sample);
      if (sample) verdict = matches ? { type: "success", text: t("design.form.pattern.match") } : { type: "danger", text: t("design.form.pattern.nomatch") };
    } catch {
      verdict = { type: "danger", text: t("design.form.pattern.invalid") };
    }
  }
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Input aria-label={t("design.form.props.field")} value={value ?? ""} onChange={(e) => onChange(e.target.value || undefined)} placeholder="^1[3-9]\d{9}$" data-testid="design-pattern" />
      <Input aria-label={t("design.form.pattern.test")} size="small" placeholder={t("design.form.pattern.test")} value={sample} onChange={(e) => setSample(e.target.value)} data-testid="design-pattern-sample" />
      {verdict && (
        <Typography.Text type={verdict.type} data-testid="design-pattern-verdict">
          {verdict.text}
        </Typography.Text>
      )}
    </Space>
  );
}

/** The fields of another form of the app (its draft), for a reference's display field. */
function useFormFields(app: string, form: string) {
  return useQuery({
    queryKey: ["design", "form-fields", app, form],
    queryFn: async () => {
      const found = answered(await client.GET("/api/v1/apps/{app}/{kinds}/{key}", { params: { path: { app, kinds: "forms", key: form } } }));
      return ((found.body as { fields?: { key: string; type: string; label: Text }[] }).fields ?? []).filter((f) => f.type !== "sub_table");
    },
    enabled: Boolean(form),
  });
}

export function ReferenceEditor({ app, value, onChange }: { app: string; value: { form: string; display?: string } | undefined; onChange: (next: { form: string; display?: string }) => void }) {
  const { t, lang } = useLang();
  const overview = useOverview(app);
  const forms = (overview.data ?? []).filter((d) => d.kind === "form");
  const target = value?.form ?? "";
  const fields = useFormFields(app, target);
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Select
        aria-label={t("design.form.reference.form")}
        placeholder={t("design.form.reference.form")}
        value={target || undefined}
        loading={overview.isLoading}
        onChange={(form: string) => onChange({ form })}
        options={forms.map((f) => ({ value: f.key, label: `${label(f.name, lang, f.key)} (${f.key})` }))}
        data-testid="design-reference-form"
      />
      <Select
        aria-label={t("design.form.reference.display")}
        placeholder={t("design.form.reference.display")}
        allowClear
        disabled={!target}
        value={value?.display}
        loading={fields.isLoading}
        onChange={(display?: string) => onChange({ form: target, ...(display ? { display } : {}) })}
        options={(fields.data ?? []).map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
        data-testid="design-reference-display"
      />
    </Space>
  );
}

/** A formula over the preview's values, for showing (the server computes the real one with the
 * platform's operations, which the browser lacks: those show as not computable here). */
function evaluate(formula: unknown, sample: Record<string, unknown>): string | null {
  try {
    const result: unknown = jsonLogic.apply(formula as never, sample);
    if (typeof result !== "number") return JSON.stringify(result);
    // as the server settles it: the decimal the float stands for (0.1 + 0.2 shows 0.3)
    return Number.isFinite(result) ? JSON.stringify(Number(result.toPrecision(15))) : "—";
  } catch {
    return null;
  }
}

/** A formula: common templates by field, or JsonLogic typed by hand. */
export function FormulaEditor({
  value,
  onChange,
  siblings,
  sample,
}: {
  value: unknown;
  onChange: (next: unknown) => void;
  siblings: FieldNode[];
  /** The preview's values (``null`` before anything was typed there, or for a column). */
  sample: Record<string, unknown> | null;
}) {
  const { t, lang } = useLang();
  const computed = sample ? evaluate(value, sample) : null;
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [template, setTemplate] = useState<string | undefined>();
  const [a, setA] = useState<string | undefined>();
  const [b, setB] = useState<string | undefined>();
  const name = (n: FieldNode) => label(n.body.label, lang, n.body.key);
  const numbers = siblings.filter((n) => ["number", "integer", "money", "formula"].includes(n.body.type));
  const dates = siblings.filter((n) => ["date", "datetime"].includes(n.body.type));
  const tables = siblings.filter((n) => n.body.type === "sub_table");
  const columnsOf = (key?: string) => (tables.find((n) => n.body.key === key)?.columns ?? []).filter((c) => ["number", "integer", "money", "formula"].includes(c.body.type));
  const templates: Record<string, { first: FieldNode[]; second: (first?: string) => FieldNode[]; make: (x: string, y?: string) => unknown }> = {
    add: { first: numbers, second: () => numbers, make: (x, y) => ({ "+": [{ var: [x, 0] }, { var: [y, 0] }] }) },
    multiply: { first: numbers, second: () => numbers, make: (x, y) => ({ "*": [{ var: x }, { var: y }] }) },
    days: { first: dates, second: () => dates, make: (x, y) => ({ date_diff: [{ var: x }, { var: y }, "days"] }) },
    sum: { first: tables, second: columnsOf, make: (x, y) => ({ reduce: [{ var: x }, { "+": [{ var: "accumulator" }, { var: `current.${y}` }] }, 0] }) },
    count: { first: tables, second: () => [], make: (x) => ({ reduce: [{ var: x }, { "+": [{ var: "accumulator" }, 1] }, 0] }) },
  };
  const chosen = template ? templates[template] : undefined;
  const seconds = chosen?.second(a) ?? [];
  const ready = chosen && a && (template === "count" || b);
  const json = draft ?? JSON.stringify(value ?? null);
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Typography.Text type="secondary">{t("design.form.formula.template")}</Typography.Text>
      <Select
        aria-label={t("design.form.formula.template")}
        placeholder={t("design.form.formula.template")}
        value={template}
        onChange={(v: string) => {
          setTemplate(v);
          setA(undefined);
          setB(undefined);
        }}
        options={Object.keys(templates).map((k) => ({ value: k, label: t(`design.form.formula.${k}`) }))}
        data-testid="design-formula-template"
      />
      {chosen && (
        <Space wrap>
          <Select
            aria-label={t("design.form.condition.field")}
            style={{ minWidth: 120 }}
            value={a}
            onChange={(v: string) => {
              setA(v);
              setB(undefined);
            }}
            options={chosen.first.map((n) => ({ value: n.body.key, label: name(n) }))}
            data-testid="design-formula-a"
          />
          {template !== "count" && (
            <Select
              aria-label={t("design.form.condition.field")}
              style={{ minWidth: 120 }}
              value={b}
              onChange={setB}
              options={seconds.map((n) => ({ value: n.body.key, label: name(n) }))}
              data-testid="design-formula-b"
            />
          )}
          <Button
            size="small"
            type="primary"
            disabled={!ready}
            onClick={() => {
              onChange(chosen.make(a!, b));
              setDraft(null);
              setInvalid(false);
            }}
            data-testid="design-formula-apply"
          >
            {t("common.ok")}
          </Button>
        </Space>
      )}
      <Typography.Text type="secondary">{t("design.form.formula.advanced")}</Typography.Text>
      <Input.TextArea
        aria-label={t("design.form.formula.advanced")}
        autoSize={{ minRows: 2, maxRows: 8 }}
        style={{ fontFamily: "monospace" }}
        value={json}
        status={invalid ? "error" : undefined}
        onChange={(e) => {
          setDraft(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setInvalid(false);
          } catch {
            setInvalid(true);
          }
        }}
        onBlur={() => !invalid && setDraft(null)}
        data-testid="design-formula"
      />
      {invalid && <Typography.Text type="danger">{t("design.form.formula.invalid")}</Typography.Text>}
      {computed !== null && (
        <Typography.Text type="secondary" data-testid="design-formula-value">
          {t("design.form.formula.value", { value: computed })}
        </Typography.Text>
      )}
    </Space>
  );
}

export function SerialEditor({ value, onChange }: { value: string | undefined; onChange: (next: string) => void }) {
  const { t } = useLang();
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Input aria-label={t("design.form.props.field")} value={value ?? ""} onChange={(e) => onChange(e.target.value)} data-testid="design-serial" />
      <Typography.Text type="secondary" data-testid="design-serial-example">
        {t("design.form.serial.example", { example: serialExample(value ?? "") })}
      </Typography.Text>
    </Space>
  );
}
