// The condition builder the designers share: rows of field · comparison · value joined by 且 / 或,
// read from and written to JsonLogic (conditions/simple.ts), with the condition in plain words
// under it. A condition the rows cannot show is kept, read aloud, and may only be cleared.
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Input, InputNumber, Radio, Select, Space, Typography } from "antd";
import { useLang } from "../../i18n";
import { build, NEEDS_VALUE, operatorName, operatorsFor, parse, reading, type ConditionField, type Group, type Row } from "./simple";

const NUMBERS = new Set(["number", "integer", "money", "formula"]);
const CHOICES = new Set(["select", "radio", "multi_select"]);

const text = (t: { "zh-CN": string; en?: string } | undefined, lang: string, fallback: string) =>
  t ? (lang === "en" ? t.en || t["zh-CN"] : t["zh-CN"]) : fallback;

function ValueInput({ field, row, onChange, testId }: { field: ConditionField | undefined; row: Row; onChange: (value: unknown) => void; testId: string }) {
  const { lang, t } = useLang();
  const aria = t("design.form.condition.value");
  if (field && CHOICES.has(field.type) && field.options) {
    const many = row.op === "in" || row.op === "not_in";
    return (
      <Select
        aria-label={aria}
        style={{ minWidth: 140 }}
        mode={many ? "multiple" : undefined}
        value={row.value as never}
        onChange={onChange}
        options={field.options.map((o) => ({ value: o.value, label: text(o.label, lang, o.value) }))}
        data-testid={testId}
      />
    );
  }
  if (field && NUMBERS.has(field.type)) {
    return (
      <InputNumber
        aria-label={aria}
        value={typeof row.value === "number" ? row.value : null}
        onChange={(v) => onChange(v ?? undefined)}
        data-testid={testId}
      />
    );
  }
  return (
    <Input
      aria-label={aria}
      style={{ width: 160 }}
      value={typeof row.value === "string" ? row.value : row.value === undefined ? "" : JSON.stringify(row.value)}
      placeholder={field?.type === "date" ? "2026-01-31" : undefined}
      onChange={(e) => onChange(e.target.value)}
      data-testid={testId}
    />
  );
}

export function ConditionEditor({
  value,
  onChange,
  fields,
  testId = "condition",
}: {
  value: unknown;
  onChange: (next: unknown) => void;
  fields: ConditionField[];
  testId?: string;
}) {
  const { lang, t } = useLang();
  const group = parse(value, fields);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  if (group === null) {
    return (
      <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
        <Alert type="info" showIcon message={t("design.form.condition.custom")} description={reading(value, fields, lang)} />
        <Button size="small" danger onClick={() => onChange(undefined)}>
          {t("design.form.condition.clear")}
        </Button>
      </Space>
    );
  }
  const write = (next: Group) => onChange(build(next, fields));
  const setRow = (index: number, row: Row) => write({ ...group, rows: group.rows.map((r, i) => (i === index ? row : r)) });
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
      {group.rows.length > 1 && (
        <Radio.Group
          size="small"
          value={group.combinator}
          onChange={(e) => write({ ...group, combinator: e.target.value as "and" | "or" })}
          options={[
            { value: "and", label: t("design.form.condition.all") },
            { value: "or", label: t("design.form.condition.any") },
          ]}
        />
      )}
      {group.rows.map((row, index) => {
        const field = byKey.get(row.field);
        const operators = operatorsFor(field?.type ?? "text");
        return (
          <Space key={index} wrap size={4} data-testid={`${testId}-row`}>
            <Select
              aria-label={t("design.form.condition.field")}
              style={{ minWidth: 130 }}
              showSearch
              optionFilterProp="label"
              value={row.field || undefined}
              placeholder={t("design.form.condition.field")}
              onChange={(key: string) => {
                const ops = operatorsFor(byKey.get(key)?.type ?? "text");
                setRow(index, { field: key, op: ops.includes(row.op) ? row.op : ops[0] });
              }}
              options={fields.map((f) => ({ value: f.key, label: text(f.label, lang, f.key) }))}
              data-testid={`${testId}-field`}
            />
            <Select
              aria-label={t("design.form.condition.operator")}
              style={{ minWidth: 100 }}
              value={row.op}
              onChange={(op) => setRow(index, { ...row, op, value: NEEDS_VALUE(op) ? row.value : undefined })}
              options={operators.map((op) => ({ value: op, label: operatorName(op, lang) }))}
              data-testid={`${testId}-operator`}
            />
            {NEEDS_VALUE(row.op) && (
              <ValueInput field={field} row={row} onChange={(v) => setRow(index, { ...row, value: v })} testId={`${testId}-value`} />
            )}
            <Button
              size="small"
              type="text"
              icon={<DeleteOutlined />}
              aria-label={t("design.form.delete")}
              onClick={() => write({ ...group, rows: group.rows.filter((_, i) => i !== index) })}
            />
          </Space>
        );
      })}
      <Button
        size="small"
        icon={<PlusOutlined />}
        disabled={!fields.length}
        onClick={() => {
          const first = fields[0];
          // a row without a field builds no logic: the new row is kept locally until it names one
          write({ ...group, rows: [...group.rows, { field: first.key, op: operatorsFor(first.type)[0] }] });
        }}
        data-testid={`${testId}-add`}
      >
        {t("design.form.condition.add")}
      </Button>
      {value !== undefined && (
        <Typography.Text type="secondary" data-testid={`${testId}-reading`}>
          {t("design.form.condition.reading", { text: reading(value, fields, lang) })}
        </Typography.Text>
      )}
    </Space>
  );
}
