// Which stored records a what-if run or a preview goes over: conditions on the form's fields (by
// label, values from their options where they have them) and how many of the newest records.
import { DeleteOutlined, FilterOutlined } from "@ant-design/icons";
import { Button, Input, Select, Space, Typography } from "antd";
import { useLang } from "../../i18n";
import { label } from "../data";
import type { FormField } from "../flows/data";
import { opsFor, switchOp, type Op, type RecordFilter } from "./filters";
import "./strings";

const SYSTEM = [
  { key: "_created_at", type: "datetime", label: { "zh-CN": "创建时间", en: "Created at" } },
  { key: "_updated_at", type: "datetime", label: { "zh-CN": "更新时间", en: "Updated at" } },
];

export function RecordFilters({
  fields,
  value,
  onChange,
  limit,
  onLimit,
  limits = [50, 200, 500, 1000],
  testId,
}: {
  fields: FormField[];
  value: RecordFilter[];
  onChange: (next: RecordFilter[]) => void;
  limit: number;
  onLimit: (n: number) => void;
  limits?: number[];
  testId: string;
}) {
  const { t, lang } = useLang();
  const usable = [...fields.filter((f) => !["sub_table", "attachments", "rich_text"].includes(f.type)), ...SYSTEM] as FormField[];
  const fieldOf = (key: string) => usable.find((f) => f.key === key);
  const set = (i: number, next: RecordFilter) => onChange(value.map((f, j) => (j === i ? next : f)));
  return (
    <Space direction="vertical" size={4} style={{ width: "100%" }} data-testid={testId}>
      {value.map((f, i) => {
        const field = fieldOf(f.field);
        const options = field?.options?.map((o) => ({ value: String(o.value), label: label(o.label, lang, String(o.value)) }));
        return (
          <Space key={i} wrap size={4} data-testid={`${testId}-${i}`}>
            <Select
              size="small"
              style={{ width: 130 }}
              value={f.field || undefined}
              placeholder={<span style={{ color: "#595959" }}>{t("design.filter.field")}</span>}
              showSearch
              optionFilterProp="label"
              onChange={(key: string) => set(i, { field: key, op: opsFor(fieldOf(key)?.type)[0], value: "" })}
              options={usable.map((x) => ({ value: x.key, label: label(x.label, lang, x.key) }))}
              aria-label={t("design.filter.field")}
              data-testid={`${testId}-${i}-field`}
            />
            <Select<Op>
              size="small"
              style={{ width: 96 }}
              value={f.op}
              onChange={(op) => set(i, switchOp(f, op))}
              options={opsFor(field?.type).map((op) => ({ value: op, label: t(`design.filter.op.${op}`) }))}
              aria-label={t("design.filter.op")}
              data-testid={`${testId}-${i}-op`}
            />
            {f.op === "empty" ? (
              <Select
                size="small"
                style={{ width: 90 }}
                value={f.value === "false" ? "false" : "true"}
                onChange={(v: string) => set(i, { ...f, value: v })}
                options={[
                  { value: "true", label: t("design.filter.empty.yes") },
                  { value: "false", label: t("design.filter.empty.no") },
                ]}
                aria-label={t("design.filter.value")}
              />
            ) : options ? (
              <Select
                size="small"
                style={{ minWidth: 130 }}
                mode={f.op === "in" ? "multiple" : undefined}
                value={f.op === "in" ? (Array.isArray(f.value) ? f.value : []) : (f.value as string) || undefined}
                onChange={(v: string | string[]) => set(i, { ...f, value: v })}
                options={options}
                aria-label={t("design.filter.value")}
                data-testid={`${testId}-${i}-value`}
              />
            ) : (
              <Input
                size="small"
                style={{ width: 150 }}
                value={Array.isArray(f.value) ? f.value.join(",") : f.value}
                placeholder={field?.type === "date" || field?.type === "datetime" ? "2026-11-01" : f.op === "in" ? "a,b" : ""}
                onChange={(e) => set(i, { ...f, value: f.op === "in" ? e.target.value.split(",") : e.target.value })}
                aria-label={t("design.filter.value")}
                data-testid={`${testId}-${i}-value`}
              />
            )}
            <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => onChange(value.filter((_, j) => j !== i))} aria-label={t("design.filter.remove")} />
          </Space>
        );
      })}
      <Space wrap size={6}>
        <Button size="small" icon={<FilterOutlined />} onClick={() => onChange([...value, { field: "", op: "eq", value: "" }])} data-testid={`${testId}-add`}>
          {t("design.filter.add")}
        </Button>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("design.filter.limit")}
        </Typography.Text>
        <Select
          size="small"
          style={{ width: 90 }}
          value={limit}
          onChange={onLimit}
          options={limits.map((n) => ({ value: n, label: t("design.filter.limit.n", { n }) }))}
          aria-label={t("design.filter.limit")}
          data-testid={`${testId}-limit`}
        />
      </Space>
    </Space>
  );
}
