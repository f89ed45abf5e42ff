// One measure: how it aggregates (every aggregate the report engine has), the fields and options
// its type takes, conditions for ratios and measure filters in the shared condition builder, a
// calculation over the measures before it — and its reading in words.
import { Form, InputNumber, Select, Space, Typography } from "antd";
import { useMemo } from "react";
import { useLang } from "../../i18n";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { reading, type ConditionField, type Lang as LogicLang } from "../conditions/logic";
import { label, patched } from "../data";
import { TextI18n } from "../forms/editors";
import { calculationOf, DURATION_AGGREGATES, DURATION_UNITS, expressionOf, fieldsFor, measureText, switchMeasure, type Calculation, type Field, type Measure } from "./model";
import "./strings";

export function MeasureEditor({
  value,
  onChange,
  fields,
  condition,
  types,
  kpis = [],
  earlier = [],
  testId,
  withLabel = false,
}: {
  value: Measure;
  onChange: (next: Measure) => void;
  fields: Field[];
  condition: ConditionField[];
  types: readonly string[];
  kpis?: { key: string; name: string }[];
  /** The keys of the measures before this one (a calculation may use them). */
  earlier?: string[];
  testId: string;
  withLabel?: boolean;
}) {
  const { t, lang } = useLang();
  const set = (patch: Partial<Measure>) => {
    onChange(patched(value, patch) as unknown as Measure);
  };
  const fieldOptions = (type: string) => fieldsFor(type, fields).map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }));
  const say = (logic: unknown) => reading(logic, condition, lang as LogicLang);
  const kpiName = (key: string) => kpis.find((k) => k.key === key)?.name ?? key;
  const calc = useMemo<Calculation>(() => calculationOf(value.expression) ?? { left: earlier[0] ?? "", op: "/", right: 1 }, [value.expression, earlier]);
  const needsField = ["count_distinct", "sum", "avg", "min", "max", "median", "percentile", "nps"].includes(value.type);
  return (
    <Form layout="vertical" size="small" data-testid={testId}>
      <Space wrap align="start" size="middle">
        <Form.Item label={t("design.measure.type")} style={{ marginBottom: 8 }}>
          <Select
            style={{ width: 150 }}
            value={value.type}
            onChange={(type: string) => onChange(switchMeasure(value, type, fields))}
            options={types.map((type) => ({ value: type, label: t(`design.measure.type.${type}`) }))}
            aria-label={t("design.measure.type")}
            data-testid={`${testId}-type`}
          />
        </Form.Item>
        {needsField && (
          <Form.Item label={t("design.measure.field")} style={{ marginBottom: 8 }}>
            <Select
              style={{ width: 200 }}
              value={value.field}
              onChange={(field: string) => set({ field })}
              options={fieldOptions(value.type)}
              notFoundContent={t("design.measure.no_fields")}
              showSearch
              optionFilterProp="label"
              aria-label={t("design.measure.field")}
              data-testid={`${testId}-field`}
            />
          </Form.Item>
        )}
        {(value.type === "percentile" || (value.type === "duration" && value.aggregate === "percentile")) && (
          <Form.Item label={t("design.measure.percent")} style={{ marginBottom: 8 }}>
            <InputNumber min={1} max={99} value={value.percent} addonBefore="P" onChange={(n) => set({ percent: n ?? undefined })} aria-label={t("design.measure.percent")} data-testid={`${testId}-percent`} />
          </Form.Item>
        )}
        {value.type === "duration" && (
          <>
            <Form.Item label={t("design.measure.from")} style={{ marginBottom: 8 }}>
              <Select style={{ width: 160 }} value={value.from} onChange={(from: string) => set({ from })} options={fieldOptions("duration")} aria-label={t("design.measure.from")} data-testid={`${testId}-from`} />
            </Form.Item>
            <Form.Item label={t("design.measure.to")} style={{ marginBottom: 8 }}>
              <Select style={{ width: 160 }} value={value.to} onChange={(to: string) => set({ to })} options={fieldOptions("duration")} aria-label={t("design.measure.to")} data-testid={`${testId}-to`} />
            </Form.Item>
            <Form.Item label={t("design.measure.unit")} style={{ marginBottom: 8 }}>
              <Select style={{ width: 90 }} value={value.unit ?? "seconds"} onChange={(unit: Measure["unit"]) => set({ unit })} options={DURATION_UNITS.map((u) => ({ value: u, label: t(`design.measure.unit.${u}`) }))} aria-label={t("design.measure.unit")} data-testid={`${testId}-unit`} />
            </Form.Item>
            <Form.Item label={t("design.measure.aggregate")} style={{ marginBottom: 8 }}>
              <Select
                style={{ width: 110 }}
                value={value.aggregate ?? "avg"}
                onChange={(aggregate: string) => set({ aggregate: aggregate === "avg" && value.aggregate === undefined ? undefined : aggregate, percent: aggregate === "percentile" ? (value.percent ?? 90) : undefined })}
                options={DURATION_AGGREGATES.map((a) => ({ value: a, label: t(`design.measure.type.${a}`) }))}
                aria-label={t("design.measure.aggregate")}
                data-testid={`${testId}-aggregate`}
              />
            </Form.Item>
          </>
        )}
        {value.type === "kpi" && (
          <Form.Item label={t("design.measure.kpi")} style={{ marginBottom: 8 }}>
            <Select style={{ width: 200 }} value={value.kpi} onChange={(kpi: string) => set({ kpi })} options={kpis.map((k) => ({ value: k.key, label: k.name }))} aria-label={t("design.measure.kpi")} data-testid={`${testId}-kpi`} />
          </Form.Item>
        )}
        {value.type === "calculated" && (
          <Form.Item label={t("design.measure.calc")} style={{ marginBottom: 8 }}>
            <Space.Compact>
              <Select style={{ width: 130 }} value={calc.left || undefined} onChange={(left: string) => set({ expression: expressionOf({ ...calc, left }) })} options={earlier.map((k) => ({ value: k, label: k }))} aria-label={t("design.measure.calc")} data-testid={`${testId}-calc-left`} />
              <Select style={{ width: 60 }} value={calc.op} onChange={(op: Calculation["op"]) => set({ expression: expressionOf({ ...calc, op }) })} options={["+", "-", "*", "/"].map((op) => ({ value: op, label: op === "*" ? "×" : op === "/" ? "÷" : op }))} aria-label="op" data-testid={`${testId}-calc-op`} />
              <Select
                style={{ width: 130 }}
                value={typeof calc.right === "number" ? "#number" : calc.right}
                onChange={(right: string) => set({ expression: expressionOf({ ...calc, right: right === "#number" ? 1 : right }) })}
                options={[{ value: "#number", label: t("design.measure.calc.number") }, ...earlier.map((k) => ({ value: k, label: k }))]}
                aria-label={t("design.measure.calc")}
              />
              {typeof calc.right === "number" && <InputNumber value={calc.right} onChange={(n) => set({ expression: expressionOf({ ...calc, right: Number(n ?? 0) }) })} aria-label={t("design.measure.calc.number")} data-testid={`${testId}-calc-number`} />}
            </Space.Compact>
          </Form.Item>
        )}
      </Space>
      {value.type === "ratio" && (
        <>
          <Form.Item label={t("design.measure.numerator")} style={{ marginBottom: 8 }}>
            <ConditionBuilder value={value.numerator} onChange={(numerator) => set({ numerator: numerator ?? undefined })} fields={condition} testId={`${testId}-numerator`} />
          </Form.Item>
          <Form.Item label={t("design.measure.denominator")} style={{ marginBottom: 8 }}>
            <ConditionBuilder value={value.denominator} onChange={(denominator) => set({ denominator: denominator ?? undefined })} fields={condition} testId={`${testId}-denominator`} />
          </Form.Item>
        </>
      )}
      {withLabel && (
        <Form.Item label={t("design.measure.label")} style={{ marginBottom: 8 }}>
          <TextI18n value={value.label} onChange={(next) => set({ label: next })} testId={`${testId}-label`} />
        </Form.Item>
      )}
      {withLabel && value.type !== "calculated" && (
        <Form.Item label={t("design.measure.filter")} style={{ marginBottom: 8 }}>
          <ConditionBuilder value={value.filter} onChange={(filter) => set({ filter: filter ?? undefined })} fields={condition} testId={`${testId}-filter`} />
        </Form.Item>
      )}
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`${testId}-reading`}>
        {t("design.measure.reading")}：{measureText(value, fields, lang, say, kpiName)}
      </Typography.Text>
    </Form>
  );
}
