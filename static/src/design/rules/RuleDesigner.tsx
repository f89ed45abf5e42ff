// The rule editor: the form it watches, what sets it off (a trigger with a schedule builder that
// reads back in words), the condition in the shared condition builder, the ordered actions in
// the actions editor, priority and stop-processing — and a what-if run of the draft over stored
// records (the engine's outcome per record, the effects, where it differs from the published
// version, each record one click away), before anything is published.
import { ExperimentOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Checkbox, Col, Empty, Form, InputNumber, Row, Select, Space, Switch, Table, Tag, TimePicker, Typography } from "antd";
import dayjs from "dayjs";
import { useMemo } from "react";
import { Link } from "react-router-dom";
import { useLang } from "../../i18n";
import { ActionsEditor } from "../actions/ActionsEditor";
import { actionLabel, type Action } from "../actions/model";
import { useActionNames } from "../actions/names";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { type Body, label, patched, useOverview } from "../data";
import { PinnedProblems } from "../Problems";
import type { DesignerProps } from "../DefinitionPage";
import { conditionFields, useFlowForm, type FormField } from "../flows/data";
import { useWhatIf } from "../records/whatif";
import { RecordFilters } from "../records/RecordFilters";
import { TextI18n } from "../forms/editors";
import { cronOf, effectText, scheduleOf, switchTrigger, TRIGGERS, triggerText, type Frequency, type RuleBody, type Schedule, type Trigger, type TriggerType } from "./model";
import "./strings";
import { TracePanel, useTrace } from "./Trace";

interface WhatIf {
  evaluated: number;
  counts: Record<string, number>;
  effects: Record<string, number>;
  changed: number | null;
  published_version: number | null;
  records: { record: number; outcome: string; error?: string; effects?: { type: string; params: Record<string, unknown> }[] }[];
  changes: { record: number; draft: { outcome: string }; published: { outcome: string } }[];
}

const OUTCOME_COLOR: Record<string, string> = { matched: "green", "not matched": "default", "not triggered": "default", error: "red" };
const OUTCOME_INK: Record<string, string> = { matched: "#135200", error: "#a8071a" };

function ScheduleEditor({ trigger, onChange }: { trigger: Trigger; onChange: (t: Trigger) => void }) {
  const { t } = useLang();
  const schedule = scheduleOf(trigger.cron ?? "");
  const set = (patch: Partial<Schedule>) => onChange({ ...trigger, cron: cronOf({ ...schedule, ...patch }) });
  const weekdays = [1, 2, 3, 4, 5, 6, 0];
  return (
    <Space direction="vertical" size={6} style={{ width: "100%" }} data-testid="rule-schedule">
      <Space wrap>
        <Select<Frequency>
          value={schedule.frequency}
          style={{ width: 130 }}
          onChange={(frequency) => set({ frequency, cron: frequency === "custom" ? (trigger.cron ?? "") : schedule.cron })}
          options={(["daily", "weekly", "monthly", "custom"] as Frequency[]).map((f) => ({ value: f, label: t(`design.rule.schedule.${f}`) }))}
          aria-label={t("design.rule.schedule.frequency")}
          data-testid="rule-schedule-frequency"
        />
        {schedule.frequency !== "custom" && (
          <TimePicker
            format="HH:mm"
            allowClear={false}
            value={dayjs(`2000-01-01T${schedule.time}`)}
            onChange={(v) => v && set({ time: v.format("HH:mm") })}
            aria-label={t("design.rule.schedule.time")}
            data-testid="rule-schedule-time"
          />
        )}
      </Space>
      {schedule.frequency === "weekly" && (
        <Checkbox.Group
          value={schedule.weekdays}
          onChange={(v) => set({ weekdays: (v as number[]).length ? (v as number[]) : schedule.weekdays })}
          options={weekdays.map((d) => ({ value: d, label: t(`design.rule.weekday.${d}`) }))}
          data-testid="rule-schedule-weekdays"
        />
      )}
      {schedule.frequency === "monthly" && (
        <Space wrap>
          <Select
            mode="multiple"
            style={{ minWidth: 160 }}
            value={schedule.days}
            onChange={(days: number[]) => days.length && set({ days: [...days].sort((a, b) => a - b) })}
            options={Array.from({ length: 31 }, (_, i) => ({ value: i + 1, label: t("design.rule.schedule.day", { n: i + 1 }) }))}
            aria-label={t("design.rule.schedule.days")}
            data-testid="rule-schedule-days"
          />
          <Select
            mode="multiple"
            style={{ minWidth: 200 }}
            value={schedule.months}
            placeholder={t("design.rule.schedule.every_month")}
            onChange={(months: number[]) => set({ months: [...months].sort((a, b) => a - b) })}
            options={Array.from({ length: 12 }, (_, i) => ({ value: i + 1, label: t("design.rule.schedule.month", { n: i + 1 }) }))}
            aria-label={t("design.rule.schedule.months")}
            data-testid="rule-schedule-months"
          />
        </Space>
      )}
      {schedule.frequency === "custom" && (
        <input
          className="ant-input ant-input-sm"
          value={trigger.cron ?? ""}
          onChange={(e) => onChange({ ...trigger, cron: e.target.value })}
          aria-label={t("design.rule.schedule.cron")}
          style={{ fontFamily: "monospace", width: 220 }}
          data-testid="rule-schedule-cron"
        />
      )}
    </Space>
  );
}

function WhatIfPanel({ app, rule, form, fields }: { app: string; rule: RuleBody; form: string | undefined; fields: FormField[] }) {
  const { t, lang } = useLang();
  const { result, error, busy, run, filters, setFilters, limit, setLimit } = useWhatIf<WhatIf>(app, rule.key, rule, 200);
  const changed = new Map((result?.changes ?? []).map((c) => [c.record, c]));
  return (
    <Card size="small" title={t("design.rule.whatif")} data-testid="rule-whatif">
      <Space direction="vertical" size="small" style={{ width: "100%" }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("design.rule.whatif.help")}
        </Typography.Text>
        <RecordFilters fields={fields} value={filters} onChange={setFilters} limit={limit} onLimit={setLimit} testId="rule-whatif-filter" />
        <Button icon={<ExperimentOutlined />} loading={busy} disabled={!form} onClick={() => void run()} data-testid="rule-whatif-run">
          {t("design.rule.whatif.run")}
        </Button>
        {error && <Alert type="error" showIcon message={error} data-testid="rule-whatif-error" />}
        {result && (
          <div data-testid="rule-whatif-result">
            <Typography.Paragraph style={{ marginBottom: 4 }}>
              {t("design.rule.whatif.evaluated", { n: result.evaluated })}
              {result.changed !== null && result.published_version !== null ? ` ${t("design.rule.whatif.changed", { n: result.changed, version: result.published_version })}` : ""}
            </Typography.Paragraph>
            <Space wrap size={4} style={{ marginBottom: 8 }}>
              {Object.entries(result.counts).map(([outcome, n]) => (
                <Tag key={outcome} color={OUTCOME_COLOR[outcome] ?? "blue"} style={{ color: OUTCOME_INK[outcome] }} data-testid={`rule-whatif-count-${outcome.replace(/\s/g, "_")}`}>
                  {t(`design.rule.outcome.${outcome.replace(/\s/g, "_")}`, {}, outcome)} {n}
                </Tag>
              ))}
            </Space>
            {result.records.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("design.rule.whatif.none")} />
            ) : (
              <Table
                size="small"
                rowKey="record"
                pagination={result.records.length > 10 ? { pageSize: 10, size: "small" } : false}
                dataSource={result.records}
                columns={[
                  { title: t("design.rule.whatif.record"), width: 80, render: (_, r) => <Link to={`/apps/${app}/records/${form}/${r.record}`}>#{r.record}</Link> },
                  {
                    title: t("design.rule.whatif.outcome"),
                    render: (_, r) => (
                      <Space direction="vertical" size={0}>
                        <span>
                          {t(`design.rule.outcome.${r.outcome.replace(/\s/g, "_")}`, {}, r.outcome)}
                          {changed.has(r.record) && (
                            <Tag color="orange" style={{ marginLeft: 6, color: "#873800" }}>
                              {t("design.rule.whatif.differs", { was: t(`design.rule.outcome.${changed.get(r.record)!.published.outcome.replace(/\s/g, "_")}`, {}, changed.get(r.record)!.published.outcome) })}
                            </Tag>
                          )}
                        </span>
                        {r.error && <Typography.Text type="danger">{r.error}</Typography.Text>}
                        {(r.effects ?? []).map((e, i) => (
                          <Typography.Text key={i} type="secondary" style={{ fontSize: 12 }}>
                            {actionLabel(e.type, lang)}
                            {effectText(e, lang) ? `：${effectText(e, lang)}` : ""}
                          </Typography.Text>
                        ))}
                      </Space>
                    ),
                  },
                ]}
              />
            )}
          </div>
        )}
      </Space>
    </Card>
  );
}

export function RuleDesigner({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const rule = body as unknown as RuleBody;
  const form = typeof rule.form === "string" ? rule.form : undefined;
  const formFields = useFlowForm(app, form);
  const fields = useMemo(() => formFields.data ?? [], [formFields.data]);
  const condition = useMemo(() => conditionFields(fields), [fields]);
  const overview = useOverview(app);
  const update = (patch: Partial<RuleBody>) => {
    setBody(patched(rule, patch) as Body);
  };
  const names = useActionNames(app, fields);
  const fieldName = (key: string) => names.field?.(key) ?? key;
  const trace = useTrace(app, rule.key);
  const traced = trace.entry !== null;
  const trigger = rule.trigger;
  const dates = fields.filter((f) => f.type === "date" || f.type === "datetime");
  return (
    <Row gutter={12} data-testid="rule-designer">
      <Col xs={24} lg={15}>
        <Space direction="vertical" size="middle" style={{ width: "100%" }}>
          <TracePanel app={app} trace={trace} fields={condition} names={names} draftDiffers={traced && trace.condition !== undefined && JSON.stringify(trace.condition) !== JSON.stringify(rule.condition)} />
          <Card size="small" title={t("design.rule.basics")}>
            <Form layout="vertical" size="small">
              <Form.Item label={t("design.rule.name")}>
                <TextI18n value={rule.label} onChange={(next) => next && update({ label: next as RuleBody["label"] })} testId="rule-label" required />
              </Form.Item>
              <Form.Item label={t("design.rule.form")} style={{ marginBottom: 0 }}>
                <PinnedProblems problems={problems} prefix="/form" testId="rule-problems-form" />
                <Select
                  value={form}
                  onChange={(next: string) => update({ form: next })}
                  options={(overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }))}
                  aria-label={t("design.rule.form")}
                  showSearch
                  optionFilterProp="label"
                  data-testid="rule-form"
                />
              </Form.Item>
            </Form>
          </Card>
          <Card size="small" title={t("design.rule.when")} data-testid="rule-trigger-card">
            <PinnedProblems problems={problems} prefix="/trigger" testId="rule-problems-trigger" />
            <Space direction="vertical" size={8} style={{ width: "100%" }}>
              <Select<TriggerType>
                style={{ width: 240 }}
                value={trigger?.type}
                placeholder={t("design.rule.trigger.pick")}
                onChange={(type) => update({ trigger: switchTrigger(trigger, type) })}
                options={TRIGGERS.map((type) => ({ value: type, label: t(`design.rule.trigger.${type}`) }))}
                aria-label={t("design.rule.when")}
                data-testid="rule-trigger"
              />
              {trigger?.type === "field_changed" && (
                <Select
                  mode="multiple"
                  style={{ width: "100%" }}
                  value={trigger.fields ?? []}
                  onChange={(list: string[]) => update({ trigger: { ...trigger, fields: list } })}
                  options={fields.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
                  placeholder={t("design.rule.trigger.fields")}
                  aria-label={t("design.rule.trigger.fields")}
                  data-testid="rule-trigger-fields"
                />
              )}
              {trigger?.type === "schedule" && <ScheduleEditor trigger={trigger} onChange={(next) => update({ trigger: next })} />}
              {trigger?.type === "timer" && (
                <Space wrap>
                  <InputNumber
                    min={1}
                    value={Math.round((trigger.minutes ?? 60) / 60)}
                    onChange={(hours) => update({ trigger: { ...trigger, minutes: Math.max(1, hours ?? 1) * 60 } })}
                    addonAfter={t("design.rule.trigger.hours")}
                    aria-label={t("design.rule.trigger.hours")}
                    data-testid="rule-timer-hours"
                  />
                  <Typography.Text>{t("design.rule.trigger.after")}</Typography.Text>
                  <Select
                    style={{ width: 180 }}
                    value={trigger.after ?? "created_at"}
                    onChange={(after: string) => update({ trigger: { ...trigger, after: after === "created_at" ? undefined : after } })}
                    options={[
                      { value: "created_at", label: t("design.rule.trigger.created_at") },
                      { value: "updated_at", label: t("design.rule.trigger.updated_at") },
                      ...dates.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) })),
                    ]}
                    aria-label={t("design.rule.trigger.after")}
                  />
                  <Checkbox checked={Boolean(trigger.business)} onChange={(e) => update({ trigger: { ...trigger, business: e.target.checked || undefined } })}>
                    {t("design.rule.trigger.business")}
                  </Checkbox>
                </Space>
              )}
              <Typography.Text type="secondary" data-testid="rule-trigger-reading">
                {triggerText(trigger, lang, fieldName)}
                {trigger?.type === "schedule" && trigger.time_zone ? `（${trigger.time_zone}）` : ""}
              </Typography.Text>
            </Space>
          </Card>
          <Card size="small" title={t("design.rule.if")} style={traced ? { borderColor: "#faad14", boxShadow: "0 0 0 2px #fff1b8" } : undefined} data-testid="rule-condition-card">
            <PinnedProblems problems={problems} prefix="/condition" testId="rule-problems-condition" />
            {rule.condition === undefined && (
              <Typography.Text type="secondary" style={{ display: "block", marginBottom: 4 }}>
                {t("design.rule.always")}
              </Typography.Text>
            )}
            <ConditionBuilder value={rule.condition} onChange={(next) => update({ condition: next ?? undefined })} fields={condition} testId="rule-condition" />
          </Card>
          <Card size="small" title={t("design.rule.then")}>
            <PinnedProblems problems={problems} prefix="/actions" testId="rule-problems-actions" />
            <ActionsEditor app={app} value={rule.actions as Action[] | undefined} onChange={(actions) => update({ actions })} fields={fields} names={names} testId="rule-actions" />
          </Card>
          <Card size="small" title={t("design.rule.settings")}>
            <Space wrap size="large">
              <Space>
                <Typography.Text>{t("design.rule.enabled")}</Typography.Text>
                <Switch checked={rule.enabled !== false} onChange={(on) => update({ enabled: on ? undefined : false })} aria-label={t("design.rule.enabled")} data-testid="rule-enabled" />
              </Space>
              <Space>
                <Typography.Text>{t("design.rule.priority")}</Typography.Text>
                <InputNumber size="small" value={rule.priority ?? 0} onChange={(v) => update({ priority: v ? v : undefined })} aria-label={t("design.rule.priority")} />
              </Space>
              <Checkbox checked={Boolean(rule.stop_processing)} onChange={(e) => update({ stop_processing: e.target.checked || undefined })}>
                {t("design.rule.stop_processing")}
              </Checkbox>
            </Space>
          </Card>
        </Space>
      </Col>
      <Col xs={24} lg={9}>
        <WhatIfPanel app={app} rule={rule} form={form} fields={fields} />
      </Col>
    </Row>
  );
}
