import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  addDimension,
  addMeasure,
  calculationOf,
  expressionOf,
  fieldsFor,
  fitWidget,
  formulaText,
  measureText,
  removeDimension,
  removeMeasure,
  renameMeasure,
  switchMeasure,
  switchWidget,
  valueText,
  type Field,
  type KpiBody,
  type ReportBody,
} from "./model";

const APP = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales");
const all = <T,>(kind: string) => readdirSync(join(APP, kind)).map((n) => JSON.parse(readFileSync(join(APP, kind, n), "utf-8")) as T);
const REPORTS = all<ReportBody>("reports");
const KPIS = all<KpiBody>("kpis");

const FIELDS: Field[] = [
  { key: "status", type: "select", label: { "zh-CN": "状态" } },
  { key: "cost", type: "money", label: { "zh-CN": "费用" } },
  { key: "response_minutes", type: "number", label: { "zh-CN": "首次响应分钟" } },
  { key: "resolved_at", type: "datetime", label: { "zh-CN": "解决时间" } },
  { key: "product.model", type: "text", label: { "zh-CN": "产品 › 型号" } },
];

describe("every after-sales KPI and report", () => {
  it("reads in words and saves back unchanged through no-op edits", () => {
    expect(KPIS.length).toBeGreaterThan(10);
    for (const kpi of KPIS) {
      expect(switchMeasure(kpi.measure, kpi.measure.type, FIELDS)).toBe(kpi.measure);
      const text = measureText(kpi.measure, FIELDS, "zh-CN");
      expect(text).not.toBe(kpi.measure.type);
    }
    expect(REPORTS.length).toBeGreaterThan(8);
    for (const report of REPORTS) {
      expect(fitWidget(report)).toEqual(report);
      expect(switchWidget(report, report.widget!.type)).toEqual(report);
      report.dataset.measures!.forEach((m, i) => {
        expect(renameMeasure(report, i, m.key!)).toEqual(report);
        expect(switchMeasure(m, m.type, FIELDS)).toBe(m);
      });
    }
  });

  it("reads the measures as people say them", () => {
    const [frt] = KPIS.filter((k) => k.key === "frt_p90");
    expect(measureText(frt.measure, FIELDS, "zh-CN")).toBe("「首次响应分钟」的 P90");
    const [mttr] = KPIS.filter((k) => k.key === "mttr");
    expect(measureText(mttr.measure, FIELDS, "zh-CN")).toBe("从「创建时间」到「解决时间」的时长平均值（小时）");
    const [csat] = KPIS.filter((k) => k.key === "csat");
    expect(measureText(csat.measure, FIELDS, "zh-CN", () => "满意")).toBe("「满意」的记录中「满意」的占比");
    expect(measureText({ type: "count", filter: { x: 1 } }, FIELDS, "en", () => "open")).toBe("number of records (only “open”)");
    expect(measureText({ type: "kpi", kpi: "mttr" }, FIELDS, "zh-CN", undefined, () => "平均处理时长")).toBe("指标「平均处理时长」");
  });
});

describe("measures", () => {
  it("switch type keeping what applies and filling what the new type needs", () => {
    const sum = { key: "c", type: "sum", field: "cost", filter: { "!!": { var: "cost" } } };
    expect(switchMeasure(sum, "avg", FIELDS)).toEqual({ key: "c", type: "avg", field: "cost", filter: sum.filter });
    expect(switchMeasure(sum, "count", FIELDS)).toEqual({ key: "c", type: "count", filter: sum.filter });
    expect(switchMeasure(sum, "percentile", FIELDS)).toMatchObject({ field: "cost", percent: 90 });
    expect(switchMeasure({ type: "count_distinct", field: "status" }, "sum", FIELDS).field).toBe("cost");
    expect(switchMeasure(sum, "duration", FIELDS)).toEqual({ key: "c", type: "duration", filter: sum.filter, from: "_created_at", to: "resolved_at", unit: "hours" });
    expect(switchMeasure(sum, "calculated", FIELDS)).toEqual({ key: "c", type: "calculated" });
    expect(fieldsFor("sum", FIELDS).map((f) => f.key)).toEqual(["cost", "response_minutes"]);
    expect(fieldsFor("max", FIELDS).map((f) => f.key)).toEqual(["cost", "response_minutes", "resolved_at"]);
  });

  it("edit a calculation as measure, operator and measure or number", () => {
    const expression = { "/": [{ var: "tickets" }, 7] };
    expect(calculationOf(expression)).toEqual({ left: "tickets", op: "/", right: 7 });
    expect(expressionOf(calculationOf(expression)!)).toEqual(expression);
    expect(calculationOf({ "+": [{ var: "a" }, { var: "b" }, { var: "c" }] })).toBeNull();
    expect(formulaText({ "*": [{ "+": [{ var: "a" }, { var: "b" }] }, 2] })).toBe("(a + b) * 2");
  });
});

describe("datasets and widgets", () => {
  const blank: ReportBody = { key: "r", dataset: { form: "ticket", measures: [] }, widget: { type: "bar" } };

  it("add fields dropped on dimensions and measures with sensible defaults", () => {
    let dataset = addDimension(blank.dataset, FIELDS[3]);
    expect(dataset.dimensions).toEqual([{ key: "resolved_at", field: "resolved_at", bucket: "month" }]);
    dataset = addDimension(dataset, FIELDS[4], 0);
    expect(dataset.dimensions![0]).toEqual({ key: "product_model", field: "product.model" });
    dataset = addMeasure(dataset, FIELDS[1]);
    dataset = addMeasure(dataset, FIELDS[0]);
    dataset = addMeasure(dataset);
    expect(dataset.measures).toEqual([
      { key: "cost", type: "sum", field: "cost" },
      { key: "status_distinct", type: "count_distinct", field: "status" },
      { key: "records", type: "count" },
    ]);
  });

  it("fill and clear the widget's axes as dimensions and measures come and go", () => {
    const body = fitWidget({ ...blank, dataset: addMeasure(addDimension(addDimension(blank.dataset, FIELDS[0]), FIELDS[3])) });
    expect(body.widget).toEqual({ type: "bar", x: "status", y: "records" });
    const stacked = switchWidget(body, "stacked");
    expect(stacked.widget).toEqual({ type: "stacked", x: "status", series: "resolved_at", y: "records" });
    const pivot = switchWidget(stacked, "pivot");
    expect(pivot.widget).toEqual({ type: "pivot", rows: "status", columns: "resolved_at", y: "records" });
    expect(switchWidget(pivot, "before_after").widget).toEqual({ type: "before_after", before: "last_month", after: "this_month" });
    const fewer = removeDimension(body, 0);
    expect(fewer.widget).toEqual({ type: "bar", x: "resolved_at", y: "records" });
    expect(removeMeasure(fewer, 0).widget).toEqual({ type: "bar", x: "resolved_at" });
    const renamed = renameMeasure({ ...body, dataset: { ...body.dataset, measures: [...body.dataset.measures!, { key: "per_day", type: "calculated", expression: { "/": [{ var: "records" }, 7] } }] } }, 0, "tickets");
    expect(renamed.widget!.y).toBe("tickets");
    expect(renamed.dataset.measures![1].expression).toEqual({ "/": [{ var: "tickets" }, 7] });
  });

  it("show a KPI's value with its unit", () => {
    expect(valueText(12.345, "h", 1)).toBe("12.3 h");
    expect(valueText(null, "%", 1)).toBe("—");
  });
});
