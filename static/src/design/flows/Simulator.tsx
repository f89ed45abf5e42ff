// Simulation on real data: pick a stored record (or type sample values), start, then play the
// decisions a person would make at each open task — approve, reject (to where), let the time limit
// run out — and watch the token move on the canvas while the steps are told in words, conditions
// with the values they read. The server plays the draft through the flow engine; nothing is
// written.
import { CaretRightOutlined, ClockCircleOutlined, CloseOutlined, DeleteOutlined, PlusOutlined, ReloadOutlined, UndoOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Dropdown, Empty, Input, InputNumber, Segmented, Select, Space, Spin, Switch, Tag, Timeline, Typography } from "antd";
import { useEffect, useMemo, useRef, useState } from "react";
import { problemText } from "../../api";
import { label as text } from "../data";
import { DANGER_INK } from "../../ink";
import { useLang } from "../../i18n";
import type { ConditionField } from "../conditions/logic";
import { simulateFlow, useRecordChoices, type FormField } from "./data";
import { actionName, KIND, simulationTrace, story, toDefinition, type Decision, type FlowState, type OpenTask, type Simulation, type Trace } from "./model";

/** How long the token takes over one connection. */
const MOVE_MS = 450;

type Source = "record" | "sample";

const STATUS_COLOR: Record<string, string> = { running: "processing", completed: "success", terminated: "warning", cancelled: "default", stopped: "error" };
/** The preset tags' text is too light on their tints for WCAG AA: the darkest shade of each. */
const STATUS_INK: Record<string, string> = { running: "#003eb3", completed: "#135200", terminated: "#873800", stopped: "#a8071a" };

function referenced(logic: unknown, into: Set<string>) {
  if (Array.isArray(logic)) logic.forEach((item) => referenced(item, into));
  else if (logic && typeof logic === "object") {
    for (const [op, args] of Object.entries(logic)) {
      if (op === "var") {
        const path = Array.isArray(args) ? args[0] : args;
        if (typeof path === "string" && path) into.add(path.split(".")[0]);
      } else referenced(args, into);
    }
  }
}

/** The fields the flow's conditions read: the sample values worth filling first. */
export function conditionKeys(state: FlowState): string[] {
  const keys = new Set<string>();
  state.edges.forEach((e) => referenced(e.def.condition, keys));
  return [...keys];
}

function ValueInput({ field, value, onChange }: { field: FormField | undefined; value: unknown; onChange: (v: unknown) => void }) {
  const { lang } = useLang();
  const name = field ? text(field.label, lang, field.key) : "";
  if (field?.options) {
    return (
      <Select
        size="small"
        style={{ width: "100%" }}
        mode={field.type === "multi_select" ? "multiple" : undefined}
        value={value as string | undefined}
        onChange={onChange}
        aria-label={name}
        options={field.options.map((o) => ({ value: o.value, label: text(o.label, lang, o.value) }))}
      />
    );
  }
  if (field && ["number", "integer", "money", "user", "group", "reference"].includes(field.type)) {
    return <InputNumber size="small" style={{ width: "100%" }} value={value as number | undefined} onChange={(v) => onChange(v ?? undefined)} aria-label={name} />;
  }
  if (field?.type === "checkbox")
    return (
      <div>
        <Switch size="small" checked={Boolean(value)} onChange={onChange} aria-label={name} data-testid={`flow-sim-value-${field.key}`} />
      </div>
    );
  return <Input size="small" value={typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value)} onChange={(e) => onChange(e.target.value)} aria-label={name} />;
}

function SampleValues({ fields, values, onChange, suggested }: { fields: FormField[]; values: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void; suggested: string[] }) {
  const { t, lang } = useLang();
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const shown = [...new Set([...suggested, ...Object.keys(values)])].filter((k) => byKey.has(k));
  const addable = fields.filter((f) => !shown.includes(f.key) && f.type !== "sub_table");
  return (
    <Space direction="vertical" size={6} style={{ width: "100%" }} data-testid="flow-sim-values">
      {shown.map((key) => (
        <div key={key} style={{ display: "grid", gridTemplateColumns: "110px 1fr 24px", gap: 6, alignItems: "center" }}>
          <Typography.Text ellipsis title={key}>
            {text(byKey.get(key)?.label, lang, key)}
          </Typography.Text>
          <ValueInput field={byKey.get(key)} value={values[key]} onChange={(v) => onChange({ ...values, [key]: v })} />
          <Button
            size="small"
            type="text"
            icon={<DeleteOutlined />}
            aria-label={t("design.flow.sim.remove_value")}
            onClick={() => {
              const next = { ...values };
              delete next[key];
              onChange(next);
            }}
          />
        </div>
      ))}
      <Select
        size="small"
        style={{ width: "100%" }}
        placeholder={
          <span style={{ color: "#595959" }}>
            <PlusOutlined /> {t("design.flow.sim.add_value")}
          </span>
        }
        value={null}
        showSearch
        optionFilterProp="label"
        options={addable.map((f) => ({ value: f.key, label: text(f.label, lang, f.key) }))}
        onChange={(key: string) => onChange({ ...values, [key]: undefined })}
        aria-label={t("design.flow.sim.add_value")}
      />
    </Space>
  );
}

function TaskChoice({ task, sim, state, busy, onDecide }: { task: OpenTask; sim: Simulation; state: FlowState; busy: boolean; onDecide: (d: Decision) => void }) {
  const { t, lang } = useLang();
  const node = state.nodes.find((n) => n.id === task.node);
  const name = node ? text(node.label, lang, text(KIND[node.type]?.label, lang, node.id)) : task.node;
  const who = task.user === null ? t("design.flow.sim.nobody") : (sim.users[String(task.user)] ?? `#${task.user}`);
  const base = { node: task.node, user: task.user };
  const forward = task.actions[0];
  const back = task.actions.find((a) => a === "reject" || a === "return");
  const targetName = (target: string) => {
    if (target === "previous") return t("design.flow.sim.to_previous");
    if (target === "start") return t("design.flow.sim.to_start");
    const found = state.nodes.find((n) => n.id === target);
    return found ? text(found.label, lang, found.id) : target;
  };
  return (
    <Card size="small" data-testid={`flow-sim-task-${task.node}`} styles={{ body: { padding: 8 } }}>
      <Space direction="vertical" size={4} style={{ width: "100%" }}>
        <Typography.Text>
          <Typography.Text strong>{name}</Typography.Text> · {who}
        </Typography.Text>
        {task.due && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("design.flow.sim.due", { at: task.due.slice(0, 16).replace("T", " ") })}
          </Typography.Text>
        )}
        <Space wrap size={4}>
          <Button size="small" type="primary" disabled={busy} onClick={() => onDecide({ action: forward, ...base })} data-testid={`flow-sim-${forward}-${task.node}`}>
            {actionName(forward, lang)}
          </Button>
          {back &&
            (task.reject_to.length > 1 ? (
              <Dropdown
                trigger={["click"]}
                menu={{
                  items: task.reject_to.map((target) => ({ key: target, label: targetName(target) })),
                  onClick: ({ key }) => onDecide({ action: back, target: key, ...base }),
                }}
              >
                <Button size="small" danger style={DANGER_INK} disabled={busy} data-testid={`flow-sim-${back}-${task.node}`}>
                  {actionName(back, lang)} ▾
                </Button>
              </Dropdown>
            ) : (
              <Button size="small" danger style={DANGER_INK} disabled={busy} onClick={() => onDecide({ action: back, ...base })} data-testid={`flow-sim-${back}-${task.node}`}>
                {actionName(back, lang)}
              </Button>
            ))}
          {task.actions.includes("timeout") && (
            <Button size="small" icon={<ClockCircleOutlined />} disabled={busy} onClick={() => onDecide({ action: "timeout", ...base })} data-testid={`flow-sim-timeout-${task.node}`}>
              {t("design.flow.sim.timeout")}
            </Button>
          )}
        </Space>
      </Space>
    </Card>
  );
}

export function Simulator(props: {
  app: string;
  state: FlowState;
  fields: FormField[];
  condition: ConditionField[];
  onTrace: (trace: Trace | null) => void;
  onFocus: (node: string) => void;
  onClose: () => void;
}) {
  const { app, state, fields, condition, onTrace, onFocus, onClose } = props;
  const { t, lang } = useLang();
  const form = typeof state.flow.form === "string" ? state.flow.form : undefined;
  const choices = useRecordChoices(app, form);
  const [source, setSource] = useState<Source>("record");
  const [record, setRecord] = useState<number | null>(null);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [decisions, setDecisions] = useState<Decision[]>([]);
  const [sim, setSim] = useState<Simulation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState(0);
  const last = useRef<Simulation | null>(null);
  // only the newest request's answer is shown: a restart and a decision sent before it came
  // back must not land in the order the server happened to answer them
  const latest = useRef(0);
  const suggested = useMemo(() => conditionKeys(state), [state]);
  const key = typeof state.flow.key === "string" ? state.flow.key : "";

  // the newest record is picked until the user picks another
  const picked = record ?? choices.data?.[0]?.id ?? null;

  const run = async (next: Decision[]) => {
    const request = ++latest.current;
    setBusy(true);
    setError(null);
    try {
      const answer = await simulateFlow(app, key, {
        body: toDefinition(state) as unknown as Record<string, unknown>,
        record: source === "record" ? picked : null,
        values: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
        decisions: next,
      });
      if (request !== latest.current) return;
      // a decision added plays only the moves it adds; anything else plays from the start
      const before = last.current;
      last.current = answer;
      setShown(before && next.length > 0 ? Math.min(before.edges.length, answer.edges.length) : 0);
      setDecisions(next);
      setSim(answer);
    } catch (e) {
      if (request === latest.current) setError(problemText(e));
    } finally {
      if (request === latest.current) setBusy(false);
    }
  };

  // the token moves one connection at a time (at once when the user asks for less motion)
  const [reduced] = useState(() => typeof window !== "undefined" && Boolean(window.matchMedia?.("(prefers-reduced-motion: reduce)").matches));
  const visible = sim ? (reduced ? sim.edges.length : Math.min(shown, sim.edges.length)) : 0;
  useEffect(() => {
    if (!sim || visible >= sim.edges.length) return;
    const timer = window.setTimeout(() => setShown(visible + 1), MOVE_MS);
    return () => window.clearTimeout(timer);
  }, [sim, visible]);

  useEffect(() => {
    onTrace(sim ? simulationTrace(state, sim, visible) : null);
  }, [sim, visible, state, onTrace]);
  useEffect(() => () => onTrace(null), [onTrace]);

  const lines = useMemo(() => (sim ? story(sim, state, condition, lang) : []), [sim, state, condition, lang]);
  const playing = sim !== null && visible < sim.edges.length;
  const ready = source === "sample" || picked !== null;
  const color = (tone: string) => ({ success: "green", error: "red", warning: "orange", info: "blue", default: "gray" })[tone] ?? "gray";

  return (
    <Card
      size="small"
      title={t("design.flow.sim.title")}
      extra={
        <Space size={4}>
          {sim && (
            <Tag color={STATUS_COLOR[sim.status] ?? "default"} style={{ color: STATUS_INK[sim.status] }} data-testid="flow-sim-status" data-status={sim.status}>
              {t(`design.flow.sim.status.${sim.status}`)}
            </Tag>
          )}
          <Button size="small" type="text" icon={<CloseOutlined />} onClick={onClose} aria-label={t("design.flow.sim.close")} data-testid="flow-sim-close" />
        </Space>
      }
      data-testid="flow-simulator"
      styles={{ body: { maxHeight: "calc(100vh - 220px)", overflow: "auto" } }}
    >
      <Space direction="vertical" size="small" style={{ width: "100%" }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("design.flow.sim.help")}
        </Typography.Text>
        <Segmented<Source>
          block
          size="small"
          value={source}
          onChange={setSource}
          options={[
            { value: "record", label: t("design.flow.sim.record") },
            { value: "sample", label: t("design.flow.sim.sample") },
          ]}
        />
        {source === "record" ? (
          <Select
            style={{ width: "100%" }}
            showSearch
            loading={choices.isLoading}
            value={picked}
            onChange={setRecord}
            optionFilterProp="label"
            placeholder={t("design.flow.sim.pick_record")}
            notFoundContent={choices.isLoading ? <Spin size="small" /> : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("design.flow.sim.no_records")} />}
            options={(choices.data ?? []).map((c) => ({ value: c.id, label: c.title ? `#${c.id} ${c.title}` : `#${c.id}` }))}
            aria-label={t("design.flow.sim.pick_record")}
            data-testid="flow-sim-record"
          />
        ) : null}
        {(source === "sample" || Object.keys(values).length > 0) && <SampleValues fields={fields} values={values} onChange={setValues} suggested={source === "sample" ? suggested : []} />}
        {source === "record" && Object.keys(values).length === 0 && suggested.length > 0 && (
          <Button size="small" type="link" style={{ padding: 0 }} onClick={() => setValues(Object.fromEntries(suggested.map((k) => [k, undefined])))}>
            {t("design.flow.sim.override")}
          </Button>
        )}
        <Space wrap>
          <Button type="primary" icon={<CaretRightOutlined />} disabled={!ready || !key || busy} loading={busy && decisions.length === 0} onClick={() => void run([])} data-testid="flow-sim-start">
            {sim ? t("design.flow.sim.restart") : t("design.flow.sim.start")}
          </Button>
          {sim && decisions.length > 0 && (
            <Button icon={<UndoOutlined />} disabled={busy} onClick={() => void run(decisions.slice(0, -1))} data-testid="flow-sim-undo">
              {t("design.flow.sim.undo")}
            </Button>
          )}
          {sim && (
            <Button icon={<ReloadOutlined />} disabled={busy} onClick={() => void run(decisions)} title={t("design.flow.sim.replay_help")}>
              {t("design.flow.sim.replay")}
            </Button>
          )}
        </Space>
        {error && <Alert type="error" showIcon message={error} data-testid="flow-sim-error" />}
        {sim && (
          <>
            {(sim.open.length > 0 || sim.waiting.some((w) => w.kind !== "join")) && sim.status === "running" && (
              <div data-testid="flow-sim-next">
                <Typography.Text strong>{t("design.flow.sim.next")}</Typography.Text>
                <Space direction="vertical" size={6} style={{ width: "100%", marginTop: 4 }}>
                  {sim.open.map((task) => (
                    <TaskChoice key={task.task} task={task} sim={sim} state={state} busy={busy} onDecide={(d) => void run([...decisions, d])} />
                  ))}
                  {sim.waiting
                    .filter((w) => w.kind !== "join")
                    .map((w) => (
                      <Card key={`${w.kind}-${w.node}`} size="small" styles={{ body: { padding: 8 } }}>
                        <Space>
                          <Typography.Text>{text(state.nodes.find((n) => n.id === w.node)?.label, lang, w.node)}</Typography.Text>
                          <Button size="small" disabled={busy} onClick={() => void run([...decisions, { action: "continue", node: w.node }])} data-testid={`flow-sim-continue-${w.node}`}>
                            {w.kind === "timer" ? t("design.flow.sim.time_up") : t("design.flow.sim.sub_done")}
                          </Button>
                        </Space>
                      </Card>
                    ))}
                </Space>
              </div>
            )}
            <div data-testid="flow-sim-steps" aria-live="polite" aria-busy={playing || busy}>
              <Typography.Text strong>{t("design.flow.sim.steps")}</Typography.Text>
              <Timeline
                style={{ marginTop: 8 }}
                items={lines.map((line) => ({
                  key: line.key,
                  color: color(line.tone),
                  children: (
                    <div data-kind={line.kind}>
                      {line.node ? (
                        <Typography.Link onClick={() => onFocus(line.node!)} style={{ color: line.tone === "error" ? "#a8071a" : "#0958d9" }}>
                          {line.text}
                        </Typography.Link>
                      ) : (
                        <Typography.Text type={line.tone === "error" ? "danger" : undefined}>{line.text}</Typography.Text>
                      )}
                      {line.detail && (
                        <div>
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            {line.detail}
                          </Typography.Text>
                        </div>
                      )}
                    </div>
                  ),
                }))}
              />
            </div>
          </>
        )}
      </Space>
    </Card>
  );
}
