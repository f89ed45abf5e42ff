// The SLA policy editor: the form and its priority field, a matrix of working time per priority
// and target with the calendar each priority counts on, each target's stop and pause conditions
// in the shared condition builder, its warning point and the record fields it keeps in step, the
// warning actions and the escalation levels in the actions editor — and a preview that replays the
// draft over the stored records' history: how many would have breached, per target and state,
// against the published version, each record one click away.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, ExperimentOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Empty, Form, Input, InputNumber, Row, Select, Space, Switch, Table, Tag, Tooltip, Typography } from "antd";
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { useLang } from "../../i18n";
import { ActionsEditor } from "../actions/ActionsEditor";
import type { Action } from "../actions/model";
import { useActionNames } from "../actions/names";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { reading, type Lang as LogicLang } from "../conditions/logic";
import { label, useOverview, type Body } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { conditionFields, useFlowForm, type FormField } from "../flows/data";
import { TextI18n } from "../forms/editors";
import { PinnedProblems } from "../Problems";
import { useWhatIf } from "../records/whatif";
import { RecordFilters } from "../records/RecordFilters";
import {
  addLevel,
  addTarget,
  calendarOf,
  moveItem,
  patchTarget,
  priorities,
  removeTarget,
  setCalendarFor,
  setLevels,
  setMinutes,
  setOnWarn,
  STATES,
  TARGET_FIELDS,
  targetText,
  unitOf,
  type SlaBody,
  type SlaTarget,
  type TargetField,
} from "./model";
import "./strings";

interface TargetOutcome {
  key: string;
  state: string;
  breaches: number;
  due_at: string | null;
  met_at: string | null;
}

interface Preview {
  evaluated: number;
  counts: Record<string, number>;
  changed: number | null;
  published_version: number | null;
  targets?: Record<string, Record<string, number>>;
  published_targets?: Record<string, Record<string, number>> | null;
  published_counts?: Record<string, number> | null;
  records: { record: number; outcome: string; targets: TargetOutcome[] }[];
  changes: { record: number; published: { outcome: string; targets: TargetOutcome[] } }[];
}

const STATE_COLOR: Record<string, [string, string | undefined]> = {
  running: ["processing", "#003eb3"],
  warned: ["warning", "#874d00"],
  paused: ["default", undefined],
  met: ["success", "#135200"],
  met_late: ["orange", "#873800"],
  breached: ["error", "#a8071a"],
};

/** A target's state as the preview counts it (met after its time ran out is met late). */
const stateOf = (t: TargetOutcome) => (t.state === "breached" && t.met_at ? "met_late" : t.state);

function StateTag({ state, n }: { state: string; n?: number }) {
  const { t } = useLang();
  const [color, ink] = STATE_COLOR[state] ?? ["default", undefined];
  return (
    <Tag color={color} style={{ color: ink }}>
      {t(`design.sla.state.${state}`, {}, state)}
      {n !== undefined ? ` ${n}` : ""}
    </Tag>
  );
}

/** Working time typed in minutes or hours, kept in minutes. */
function DurationInput({ value, onChange, testId, ariaLabel }: { value: number | undefined; onChange: (minutes: number | null) => void; testId: string; ariaLabel: string }) {
  const { t } = useLang();
  const [unit, setUnit] = useState<"hours" | "minutes">(unitOf(value));
  const factor = unit === "hours" ? 60 : 1;
  return (
    <Space.Compact size="small" style={{ width: 150 }}>
      <InputNumber
        size="small"
        min={0}
        style={{ width: 86 }}
        value={value === undefined ? null : Math.round((value / factor) * 100) / 100}
        placeholder={t("design.sla.no_budget")}
        onChange={(n) => onChange(n === null || n === undefined || Number(n) <= 0 ? null : Math.round(Number(n) * factor * 100) / 100)}
        aria-label={ariaLabel}
        data-testid={testId}
      />
      <Select
        size="small"
        style={{ width: 64 }}
        value={unit}
        onChange={setUnit}
        options={[
          { value: "minutes", label: t("design.sla.minutes") },
          { value: "hours", label: t("design.sla.hours") },
        ]}
        aria-label={`${ariaLabel} ${t("design.sla.unit")}`}
        data-testid={`${testId}-unit`}
      />
    </Space.Compact>
  );
}

function PreviewPanel({ app, sla, fields }: { app: string; sla: SlaBody; fields: FormField[] }) {
  const { t, lang } = useLang();
  const { result, error, busy, run, filters, setFilters, limit, setLimit } = useWhatIf<Preview>(app, sla.key, sla, 500);
  const targetName = (key: string) => label(sla.targets?.find((x) => x.key === key)?.label, lang, key);
  const was = new Map((result?.changes ?? []).map((c) => [c.record, c.published]));
  const lateBefore = result?.published_counts ? (result.published_counts.breached ?? 0) : null;
  return (
    <Card size="small" title={t("design.sla.preview")} data-testid="sla-preview">
      <Space direction="vertical" size="small" style={{ width: "100%" }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("design.sla.preview.help")}
        </Typography.Text>
        <RecordFilters fields={fields} value={filters} onChange={setFilters} limit={limit} onLimit={setLimit} testId="sla-preview-filter" />
        <Button icon={<ExperimentOutlined />} loading={busy} disabled={!sla.form} onClick={() => void run()} data-testid="sla-preview-run">
          {t("design.sla.preview.run")}
        </Button>
        {error && <Alert type="error" showIcon message={error} data-testid="sla-preview-error" />}
        {result && (
          <div data-testid="sla-preview-result">
            <Typography.Paragraph style={{ marginBottom: 4 }} data-testid="sla-preview-summary">
              {t("design.sla.preview.summary", { n: result.evaluated, late: result.counts.breached ?? 0 })}
              {lateBefore !== null && result.published_version !== null ? t("design.sla.preview.published", { version: result.published_version, late: lateBefore }) : ""}
              {result.changed ? ` ${t("design.sla.preview.changed", { n: result.changed })}` : ""}
            </Typography.Paragraph>
            {result.evaluated === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("design.sla.preview.none")} />
            ) : (
              <>
                <Table
                  size="small"
                  rowKey="key"
                  pagination={false}
                  style={{ marginBottom: 8 }}
                  data-testid="sla-preview-targets"
                  dataSource={Object.entries(result.targets ?? {}).map(([key, counts]) => ({ key, counts, before: result.published_targets?.[key] }))}
                  columns={[
                    { title: t("design.sla.preview.target"), width: 90, render: (_, r) => targetName(r.key) },
                    {
                      title: t("design.sla.preview.outcome"),
                      render: (_, r) => (
                        <Space wrap size={2}>
                          {STATES.filter((s) => r.counts[s]).map((s) => (
                            <span key={s} data-testid={`sla-preview-${r.key}-${s}`}>
                              <StateTag state={s} n={r.counts[s]} />
                            </span>
                          ))}
                        </Space>
                      ),
                    },
                  ]}
                />
                <Table
                  size="small"
                  rowKey="record"
                  pagination={result.records.length > 8 ? { pageSize: 8, size: "small" } : false}
                  dataSource={result.records}
                  columns={[
                    { title: t("design.sla.preview.record"), width: 70, render: (_, r) => <Link to={`/apps/${app}/records/${sla.form}/${r.record}`}>#{r.record}</Link> },
                    {
                      title: t("design.sla.preview.outcome"),
                      render: (_, r) => (
                        <Space direction="vertical" size={0}>
                          <span>
                            {t(`design.sla.outcome.${r.outcome}`, {}, r.outcome)}
                            {was.has(r.record) && (
                              <Tag color="orange" style={{ marginLeft: 6, color: "#873800" }}>
                                {t("design.sla.preview.was", { was: t(`design.sla.outcome.${was.get(r.record)!.outcome}`, {}, was.get(r.record)!.outcome) })}
                              </Tag>
                            )}
                          </span>
                          {r.targets.map((x) => (
                            <Typography.Text key={x.key} type="secondary" style={{ fontSize: 12 }}>
                              {targetName(x.key)}：{t(`design.sla.state.${stateOf(x)}`, {}, x.state)}
                              {x.due_at ? `，${t("design.sla.preview.due", { at: x.due_at.slice(5, 16).replace("T", " ") })}` : ""}
                            </Typography.Text>
                          ))}
                        </Space>
                      ),
                    },
                  ]}
                />
              </>
            )}
          </div>
        )}
      </Space>
    </Card>
  );
}

function TargetCard({
  index,
  count,
  target,
  fields,
  order,
  sla,
  write,
  calendarName,
}: {
  index: number;
  count: number;
  target: SlaTarget;
  fields: FormField[];
  order: string[];
  sla: SlaBody;
  write: (body: SlaBody) => void;
  calendarName: (priority: string) => string | undefined;
}) {
  const { t, lang } = useLang();
  const condition = useMemo(() => conditionFields(fields), [fields]);
  const patch = (p: Partial<SlaTarget>) => write(patchTarget(sla, index, p));
  const id = `sla-target-${index}`;
  const say = (logic: unknown) => reading(logic, condition, lang as LogicLang);
  return (
    <Card
      size="small"
      type="inner"
      data-testid={id}
      title={label(target.label, lang, target.key)}
      extra={
        <Space size={2}>
          <Tooltip title={t("design.sla.target.up")}>
            <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={index === 0} aria-label={t("design.sla.target.up")} onClick={() => write({ ...sla, targets: moveItem(sla.targets ?? [], index, -1) })} />
          </Tooltip>
          <Tooltip title={t("design.sla.target.down")}>
            <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={index === count - 1} aria-label={t("design.sla.target.down")} onClick={() => write({ ...sla, targets: moveItem(sla.targets ?? [], index, 1) })} />
          </Tooltip>
          <Tooltip title={t("design.sla.target.remove")}>
            <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t("design.sla.target.remove")} onClick={() => write(removeTarget(sla, index))} data-testid={`${id}-remove`} />
          </Tooltip>
        </Space>
      }
    >
      <Form layout="vertical" size="small">
        <Row gutter={12}>
          <Col xs={24} md={16}>
            <Form.Item label={t("design.sla.target.name")}>
              <TextI18n value={target.label} onChange={(next) => next && patch({ label: next })} testId={`${id}-label`} required />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label={t("design.sla.target.key")}>
              <Input value={target.key} onChange={(e) => patch({ key: e.target.value.trim() })} aria-label={t("design.sla.target.key")} data-testid={`${id}-key`} style={{ fontFamily: "monospace" }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label={t("design.sla.target.stop")} extra={t("design.sla.target.stop.help")}>
          <ConditionBuilder value={target.stop_when} onChange={(next) => patch({ stop_when: next ?? undefined })} fields={condition} testId={`${id}-stop`} />
        </Form.Item>
        <Form.Item label={t("design.sla.target.pause")}>
          <Space direction="vertical" size={4} style={{ width: "100%" }}>
            {target.pause_when === undefined && <Typography.Text type="secondary">{t("design.sla.target.pause.none")}</Typography.Text>}
            <ConditionBuilder value={target.pause_when} onChange={(next) => patch({ pause_when: next ?? undefined })} fields={condition} testId={`${id}-pause`} />
            {target.pause_when !== undefined && (
              <Button size="small" type="link" onClick={() => patch({ pause_when: undefined })} style={{ padding: 0 }} data-testid={`${id}-pause-remove`}>
                {t("design.sla.target.pause.remove")}
              </Button>
            )}
          </Space>
        </Form.Item>
        <Space wrap size="large" align="start">
          <Form.Item label={t("design.sla.target.warn")}>
            <InputNumber
              min={1}
              max={100}
              value={target.warn_percent ?? 80}
              addonAfter="%"
              onChange={(n) => patch({ warn_percent: n === null ? undefined : Number(n) })}
              aria-label={t("design.sla.target.warn")}
              data-testid={`${id}-warn`}
            />
          </Form.Item>
          <Form.Item label=" ">
            <Space>
              <Switch size="small" checked={Boolean(target.repeat)} onChange={(on) => patch({ repeat: on || undefined })} aria-label={t("design.sla.target.repeat")} data-testid={`${id}-repeat`} />
              <Typography.Text>{t("design.sla.target.repeat")}</Typography.Text>
            </Space>
          </Form.Item>
        </Space>
        <Typography.Text strong style={{ display: "block", marginBottom: 4 }}>
          {t("design.sla.target.fields")}
        </Typography.Text>
        <Row gutter={8}>
          {(Object.keys(TARGET_FIELDS) as TargetField[]).map((name) => (
            <Col xs={24} md={12} key={name}>
              <Form.Item label={t(`design.sla.target.${name}`)} style={{ marginBottom: 8 }}>
                <Select
                  allowClear
                  value={target[name] as string | undefined}
                  onChange={(v: string | undefined) => patch({ [name]: v ?? undefined })}
                  options={fields.filter((f) => (TARGET_FIELDS[name] as readonly string[]).includes(f.type)).map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
                  aria-label={t(`design.sla.target.${name}`)}
                  data-testid={`${id}-${name}`}
                />
              </Form.Item>
            </Col>
          ))}
        </Row>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0, fontSize: 12 }} data-testid={`${id}-reading`}>
          {t("design.sla.target.reading")}：{targetText(target, order, lang, say, calendarName)}
        </Typography.Paragraph>
      </Form>
    </Card>
  );
}

export function SlaEditor({ app, body, setBody, problems }: DesignerProps) {
  const { t, lang } = useLang();
  const sla = body as unknown as SlaBody;
  const write = (next: SlaBody) => setBody(next as unknown as Body);
  const formFields = useFlowForm(app, sla.form);
  const fields = useMemo(() => formFields.data ?? [], [formFields.data]);
  const overview = useOverview(app);
  const names = useActionNames(app, fields);
  const priorityField = fields.find((f) => f.key === sla.priority_field);
  const options = (priorityField?.options ?? []).map((o) => String(o.value));
  const order = priorities(sla, options);
  const calendars = (overview.data ?? []).filter((d) => d.kind === "calendar");
  const calendarLabel = (key: string | undefined) => (key ? label(calendars.find((c) => c.key === key)?.name, lang, key) : undefined);
  const priorityLabel = (p: string) => {
    const option = priorityField?.options?.find((o) => String(o.value) === p);
    return option?.label ? label(option.label, lang, p) : p;
  };
  const targets = sla.targets ?? [];
  const levels = sla.escalation ?? [];
  const calendarOptions = calendars.map((c) => ({ value: c.key, label: label(c.name, lang, c.key) }));
  return (
    <Row gutter={12} data-testid="sla-editor">
      <Col xs={24} lg={15}>
        <Space direction="vertical" size="middle" style={{ width: "100%" }}>
          <Card size="small" title={t("design.sla.basics")}>
            <Form layout="vertical" size="small">
              <Form.Item label={t("design.sla.name")}>
                <TextI18n value={sla.label} onChange={(next) => next && write({ ...sla, label: next })} testId="sla-label" required />
              </Form.Item>
              <Row gutter={12}>
                <Col xs={24} md={8}>
                  <Form.Item label={t("design.sla.form")}>
                    <PinnedProblems problems={problems} prefix="/form" testId="sla-problems-form" />
                    <Select
                      value={sla.form}
                      onChange={(form: string) => write({ ...sla, form })}
                      options={(overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }))}
                      aria-label={t("design.sla.form")}
                      showSearch
                      optionFilterProp="label"
                      data-testid="sla-form"
                    />
                  </Form.Item>
                </Col>
                <Col xs={24} md={8}>
                  <Form.Item label={t("design.sla.priority_field")}>
                    <PinnedProblems problems={problems} prefix="/priority_field" testId="sla-problems-priority" />
                    <Select
                      value={sla.priority_field}
                      onChange={(priority_field: string) => write({ ...sla, priority_field })}
                      options={fields.filter((f) => f.type === "select" || f.type === "radio").map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
                      aria-label={t("design.sla.priority_field")}
                      data-testid="sla-priority-field"
                    />
                  </Form.Item>
                </Col>
                <Col xs={24} md={8}>
                  <Form.Item label={t("design.sla.calendar")} extra={t("design.sla.calendar.help")}>
                    <PinnedProblems problems={problems} prefix="/calendar" testId="sla-problems-calendar" />
                    <Select value={sla.calendar} onChange={(calendar: string) => write({ ...sla, calendar })} options={calendarOptions} aria-label={t("design.sla.calendar")} data-testid="sla-calendar" />
                  </Form.Item>
                </Col>
              </Row>
            </Form>
          </Card>
          <Card
            size="small"
            title={t("design.sla.matrix")}
            extra={
              <Button size="small" icon={<PlusOutlined />} onClick={() => write(addTarget(sla, order))} data-testid="sla-target-add">
                {t("design.sla.target.add")}
              </Button>
            }
          >
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
              {t("design.sla.matrix.help")}
            </Typography.Paragraph>
            <PinnedProblems problems={problems} prefix="/targets" testId="sla-problems-targets" />
            <PinnedProblems problems={problems} prefix="/calendars" testId="sla-problems-calendars" />
            {order.length === 0 ? (
              <Alert type="info" showIcon message={t("design.sla.no_priorities")} />
            ) : (
              <Table
                size="small"
                rowKey="priority"
                pagination={false}
                scroll={{ x: true }}
                data-testid="sla-matrix"
                dataSource={order.map((priority) => ({ priority }))}
                columns={[
                  {
                    title: t("design.sla.priority"),
                    width: 100,
                    render: (_, r) => (
                      <Space direction="vertical" size={0}>
                        <Typography.Text strong>{priorityLabel(r.priority)}</Typography.Text>
                        {!options.includes(r.priority) && options.length > 0 && (
                          <Typography.Text type="warning" style={{ fontSize: 12 }}>
                            {t("design.sla.priority.gone")}
                          </Typography.Text>
                        )}
                      </Space>
                    ),
                  },
                  {
                    title: t("design.sla.priority_calendar"),
                    width: 170,
                    render: (_, r) => (
                      <Select
                        size="small"
                        style={{ width: 160 }}
                        value={calendarOf(sla, r.priority)}
                        onChange={(cal: string) => write(setCalendarFor(sla, r.priority, cal))}
                        options={calendarOptions}
                        aria-label={`${priorityLabel(r.priority)} ${t("design.sla.priority_calendar")}`}
                        data-testid={`sla-calendar-${r.priority}`}
                      />
                    ),
                  },
                  ...targets.map((target, i) => ({
                    key: `${i}`,
                    title: label(target.label, lang, target.key),
                    render: (_: unknown, r: { priority: string }) => (
                      <DurationInput
                        key={`${target.key}-${r.priority}`}
                        value={target.minutes?.[r.priority]}
                        onChange={(minutes) => write(patchTarget(sla, i, setMinutes(target, r.priority, minutes)))}
                        ariaLabel={`${priorityLabel(r.priority)} ${label(target.label, lang, target.key)}`}
                        testId={`sla-minutes-${i}-${r.priority}`}
                      />
                    ),
                  })),
                ]}
              />
            )}
          </Card>
          <Card size="small" title={t("design.sla.targets")}>
            <Space direction="vertical" size="small" style={{ width: "100%" }}>
              {targets.map((target, i) => (
                <div key={i}>
                  <PinnedProblems problems={problems} prefix={`/targets/${i}`} testId={`sla-problems-target-${i}`} />
                  <TargetCard index={i} count={targets.length} target={target} fields={fields} order={order} sla={sla} write={write} calendarName={(p) => calendarLabel(sla.calendars?.[p])} />
                </div>
              ))}
            </Space>
          </Card>
          <Card size="small" title={t("design.sla.on_warn")}>
            <PinnedProblems problems={problems} prefix="/on_warn" testId="sla-problems-on-warn" />
            <ActionsEditor app={app} value={sla.on_warn} onChange={(actions: Action[]) => write(setOnWarn(sla, actions))} fields={fields} names={names} testId="sla-on-warn" />
          </Card>
          <Card
            size="small"
            title={t("design.sla.escalation")}
            extra={
              <Button size="small" icon={<PlusOutlined />} onClick={() => write(addLevel(sla))} data-testid="sla-level-add">
                {t("design.sla.level.add")}
              </Button>
            }
          >
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
              {t("design.sla.escalation.help")}
            </Typography.Paragraph>
            <PinnedProblems problems={problems} prefix="/escalation" testId="sla-problems-escalation" />
            <Space direction="vertical" size="small" style={{ width: "100%" }}>
              {levels.map((level, i) => (
                <Card
                  key={i}
                  size="small"
                  type="inner"
                  data-testid={`sla-level-${i}`}
                  title={t(i === levels.length - 1 && levels.length > 1 ? "design.sla.level.last" : "design.sla.level", { n: i + 1 })}
                  extra={
                    <Tooltip title={t("design.sla.level.remove")}>
                      <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t("design.sla.level.remove")} onClick={() => write(setLevels(sla, levels.filter((_, j) => j !== i)))} />
                    </Tooltip>
                  }
                >
                  <ActionsEditor
                    app={app}
                    value={level.actions}
                    onChange={(actions: Action[]) => write(setLevels(sla, levels.map((l, j) => (j === i ? { ...l, actions } : l))))}
                    fields={fields}
                    names={names}
                    testId={`sla-level-${i}-actions`}
                  />
                </Card>
              ))}
            </Space>
          </Card>
        </Space>
      </Col>
      <Col xs={24} lg={9}>
        <div style={{ position: "sticky", top: 8 }}>
          <PreviewPanel app={app} sla={sla} fields={fields} />
        </div>
      </Col>
    </Row>
  );
}
