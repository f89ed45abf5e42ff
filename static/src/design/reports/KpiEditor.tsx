// The KPI editor: the form, how the KPI is measured (the shared measure editor), which records it
// counts (the condition builder), the field that dates a record into a period, unit, direction,
// decimals and target — and the card as it will show, this period against the last, measured by
// the server on the viewer's real data while the user edits.
import { ArrowDownOutlined, ArrowUpOutlined } from "@ant-design/icons";
import { Alert, Card, Col, Form, Input, InputNumber, Radio, Row, Select, Space, Spin, Statistic, Tag, Typography } from "antd";
import { useMemo, useState } from "react";
import { problemText } from "../../api";
import { useLang } from "../../i18n";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { type Body, label, patched, useOverview } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { conditionFields, useFlowForm } from "../flows/data";
import { TextI18n } from "../forms/editors";
import { PinnedProblems } from "../Problems";
import { useDatasetFields, usePreview } from "./data";
import { MeasureEditor } from "./MeasureEditor";
import { isDate, KPI_MEASURES, valueText, type KpiBody, type Measure } from "./model";
import "./strings";

const PERIODS = ["this_week", "this_month", "last_month", "this_quarter", "this_year", "last_7_days", "last_30_days", "last_90_days"];

interface CardData {
  value: number | null;
  previous: number | null;
  change_pct: number | null;
  better: boolean | null;
  unit?: string | null;
  decimals: number;
  target?: number | null;
  period: { from: string; to: string };
  elapsed_ms: number;
}

function KpiPreview({ app, kpi, blocked }: { app: string; kpi: KpiBody; blocked: boolean }) {
  const { t, lang } = useLang();
  const [period, setPeriod] = useState("this_month");
  const preview = usePreview(app, "kpis", kpi.key, kpi, period, !blocked && Boolean(kpi.form));
  const card = preview.data as unknown as CardData | undefined;
  return (
    <Card
      size="small"
      title={t("design.kpi.preview")}
      data-testid="kpi-preview"
      extra={
        <Select
          size="small"
          style={{ width: 120 }}
          value={period}
          onChange={setPeriod}
          options={PERIODS.map((p) => ({ value: p, label: t(`period.${p}`, {}, p) }))}
          aria-label={t("design.kpi.preview.period")}
          data-testid="kpi-preview-period"
        />
      }
    >
      {blocked ? (
        <Typography.Text type="secondary">{t("design.report.preview.blocked")}</Typography.Text>
      ) : preview.isError ? (
        <Alert type="error" showIcon message={problemText(preview.error)} data-testid="kpi-preview-error" />
      ) : !card ? (
        <Spin />
      ) : (
        <Space direction="vertical" size={4} style={{ opacity: preview.isFetching ? 0.6 : 1 }}>
          <Typography.Text strong>{label(kpi.label, lang, kpi.key)}</Typography.Text>
          <Statistic value={card.value ?? "—"} precision={card.value === null ? undefined : card.decimals} suffix={card.unit ?? undefined} data-testid="kpi-preview-value" />
          <Space wrap size={4}>
            <Typography.Text type="secondary" data-testid="kpi-preview-previous">
              {t("design.kpi.preview.previous", { value: valueText(card.previous, card.unit ?? undefined, card.decimals) })}
            </Typography.Text>
            {card.change_pct !== null && (
              <Typography.Text style={{ color: card.better === null ? undefined : card.better ? "#237804" : "#a8071a" }} data-testid="kpi-preview-change">
                {card.change_pct >= 0 ? <ArrowUpOutlined /> : <ArrowDownOutlined />} {Math.abs(card.change_pct)}%
                {card.better !== null && ` ${t(card.better ? "design.kpi.preview.better" : "design.kpi.preview.worse")}`}
              </Typography.Text>
            )}
            {card.target !== null && card.target !== undefined && <Tag>{t("design.kpi.preview.target", { value: valueText(card.target, card.unit ?? undefined, card.decimals) })}</Tag>}
          </Space>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("design.kpi.preview.took", { from: card.period.from, to: card.period.to, ms: card.elapsed_ms })}
          </Typography.Text>
        </Space>
      )}
    </Card>
  );
}

export function KpiEditor({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const kpi = body as unknown as KpiBody;
  const update = (patch: Partial<KpiBody>) => {
    setBody(patched(kpi, patch) as Body);
  };
  const { fields } = useDatasetFields(app, kpi.form || undefined);
  const formFields = useFlowForm(app, kpi.form || undefined);
  const condition = useMemo(() => conditionFields(formFields.data ?? []), [formFields.data]);
  const overview = useOverview(app);
  const dates = fields.filter(isDate);
  const measure = (kpi.measure && typeof kpi.measure === "object" && "type" in kpi.measure ? kpi.measure : { type: "count" }) as Measure;
  return (
    <Row gutter={12} data-testid="kpi-editor">
      <Col xs={24} lg={15}>
        <Space direction="vertical" size="middle" style={{ width: "100%" }}>
          <Card size="small" title={t("design.kpi.basics")}>
            <Form layout="vertical" size="small">
              <Form.Item label={t("design.kpi.name")}>
                <TextI18n value={kpi.label} onChange={(next) => next && update({ label: next })} testId="kpi-label" required />
              </Form.Item>
              <Form.Item label={t("design.kpi.description")}>
                <TextI18n value={kpi.description} onChange={(next) => update({ description: next })} testId="kpi-description" />
              </Form.Item>
              <Form.Item label={t("design.kpi.form")} style={{ marginBottom: 0 }}>
                <PinnedProblems problems={problems} prefix="/form" testId="kpi-problems-form" />
                <Select
                  value={kpi.form || undefined}
                  onChange={(form: string) => update({ form })}
                  options={(overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }))}
                  aria-label={t("design.kpi.form")}
                  showSearch
                  optionFilterProp="label"
                  data-testid="kpi-form"
                />
              </Form.Item>
            </Form>
          </Card>
          <Card size="small" title={t("design.kpi.measure")}>
            <PinnedProblems problems={problems} prefix="/measure" testId="kpi-problems-measure" />
            <MeasureEditor value={measure} onChange={(next) => update({ measure: next })} fields={fields} condition={condition} types={KPI_MEASURES} testId="kpi-measure" />
          </Card>
          <Card size="small" title={t("design.kpi.filter")}>
            <PinnedProblems problems={problems} prefix="/filter" testId="kpi-problems-filter" />
            {kpi.filter === undefined && (
              <Typography.Text type="secondary" style={{ display: "block", marginBottom: 4 }}>
                {t("design.report.filter.none")}
              </Typography.Text>
            )}
            <ConditionBuilder value={kpi.filter} onChange={(filter) => update({ filter: filter ?? undefined })} fields={condition} testId="kpi-filter" />
          </Card>
          <Card size="small" title={t("design.kpi.display")}>
            <Form layout="vertical" size="small">
              <Row gutter={12}>
                <Col xs={24} md={12}>
                  <Form.Item label={t("design.kpi.period_field")} extra={t("design.kpi.period_field.help")}>
                    <PinnedProblems problems={problems} prefix="/period_field" testId="kpi-problems-period" />
                    <Select
                      value={kpi.period_field ?? "_created_at"}
                      onChange={(field: string) => update({ period_field: field === "_created_at" ? undefined : field })}
                      options={dates.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
                      aria-label={t("design.kpi.period_field")}
                      data-testid="kpi-period-field"
                    />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item label={t("design.kpi.unit")}>
                    <Input value={kpi.unit ?? ""} maxLength={20} onChange={(e) => update({ unit: e.target.value || undefined })} aria-label={t("design.kpi.unit")} data-testid="kpi-unit" />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item label={t("design.kpi.decimals")}>
                    <InputNumber min={0} max={6} value={kpi.decimals ?? 1} onChange={(n) => update({ decimals: n === null || n === 1 ? undefined : n })} aria-label={t("design.kpi.decimals")} data-testid="kpi-decimals" />
                  </Form.Item>
                </Col>
              </Row>
              <Space wrap size="large">
                <Form.Item label={t("design.kpi.direction")} style={{ marginBottom: 0 }}>
                  <Radio.Group
                    optionType="button"
                    value={kpi.direction ?? "higher"}
                    onChange={(e) => update({ direction: e.target.value === "higher" ? undefined : e.target.value })}
                    options={["higher", "lower"].map((d) => ({ value: d, label: t(`design.kpi.direction.${d}`) }))}
                    data-testid="kpi-direction"
                  />
                </Form.Item>
                <Form.Item label={t("design.kpi.target")} style={{ marginBottom: 0 }}>
                  <InputNumber value={kpi.target} onChange={(n) => update({ target: n ?? undefined })} aria-label={t("design.kpi.target")} data-testid="kpi-target" />
                </Form.Item>
              </Space>
            </Form>
          </Card>
        </Space>
      </Col>
      <Col xs={24} lg={9}>
        <div style={{ position: "sticky", top: 8 }}>
          <KpiPreview app={app} kpi={kpi} blocked={problems.length > 0} />
        </div>
      </Col>
    </Row>
  );
}
