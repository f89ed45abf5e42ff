// The flow designer's property panel: the flow's own settings, one form per node type (who,
// how approvals count, where a rejection goes, the field permissions matrix, timeouts, rows of a
// sub-table, timers, joins, sub-processes, automation), and a connection's condition.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Checkbox, Divider, Form, Input, InputNumber, Radio, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useId, useMemo, useState } from "react";
import { useLang } from "../../i18n";
import { ActionsEditor } from "../actions/ActionsEditor";
import type { Action, Names as ActionNames } from "../actions/model";
import { ConditionBuilder } from "../conditions/ConditionBuilder";
import { reading, type ConditionField } from "../conditions/logic";
import { label, useOverview, type Problem } from "../data";
import { PinnedProblems, ProblemCount } from "../PinnedProblems";
import { conditionFields, useDirectory, type FormField } from "./data";
import {
  idProblem,
  KIND,
  outgoing,
  type AssigneeRule,
  type EdgeNode,
  type FlowState,
  type Multi,
  type NodeDef,
  type Permission,
  type Timeout,
} from "./model";

type Patch = Partial<NodeDef>;

const RULE_KINDS = ["users", "group", "role", "field", "initiator", "initiator_manager", "previous_actor"] as const;
type RuleKind = (typeof RULE_KINDS)[number];

const ruleKind = (rule: AssigneeRule): RuleKind => (RULE_KINDS.find((k) => k in rule) ?? "initiator") as RuleKind;

function freshRule(kind: RuleKind): AssigneeRule {
  switch (kind) {
    case "users":
      return { users: [] };
    case "group":
      return { group: "" };
    case "role":
      return { role: "" };
    case "field":
      return { field: "" };
    case "initiator_manager":
      return { initiator_manager: 1 };
    case "previous_actor":
      return { previous_actor: true };
    default:
      return { initiator: true };
  }
}

/** Assignee rules: who gets the task (a list; the people of every rule). */
export function AssigneesEditor({
  value,
  onChange,
  fields,
  testId,
}: {
  value: AssigneeRule | AssigneeRule[] | undefined;
  onChange: (next: AssigneeRule | AssigneeRule[] | undefined) => void;
  fields: FormField[];
  testId: string;
}) {
  const { t } = useLang();
  const { users, groups, roles } = useDirectory();
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const write = (next: AssigneeRule[]) => onChange(next.length === 0 ? undefined : next.length === 1 && !Array.isArray(value) ? next[0] : next);
  const people = fields.filter((f) => f.type === "user" || f.type === "users" || f.type === "group");
  const none = t("design.flow.assignee.none");
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
      {list.map((rule, i) => {
        const kind = ruleKind(rule);
        const set = (next: AssigneeRule) => write(list.map((r, j) => (j === i ? next : r)));
        return (
          <Space key={i} wrap style={{ width: "100%" }} data-testid={`${testId}-${i}`}>
            <Select
              aria-label={t("design.flow.props.assignees")}
              style={{ width: 170 }}
              value={kind}
              onChange={(k: RuleKind) => set(freshRule(k))}
              options={RULE_KINDS.map((k) => ({ value: k, label: t(`design.flow.assignee.${k}`) }))}
              data-testid={`${testId}-${i}-kind`}
            />
            {kind === "users" && (
              <Select
                mode="multiple"
                aria-label={t("design.flow.assignee.users")}
                style={{ minWidth: 180 }}
                value={rule.users}
                onChange={(ids: number[]) => set({ users: ids })}
                notFoundContent={none}
                options={(users.data ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }))}
                optionFilterProp="label"
                data-testid={`${testId}-${i}-users`}
              />
            )}
            {kind === "group" && (
              <Select
                aria-label={t("design.flow.assignee.group")}
                style={{ minWidth: 180 }}
                value={rule.group || undefined}
                onChange={(key: string) => set({ group: key })}
                notFoundContent={none}
                showSearch
                optionFilterProp="label"
                options={(groups.data ?? []).map((g) => ({ value: g.key, label: `${g.name} (${g.key})` }))}
                data-testid={`${testId}-${i}-group`}
              />
            )}
            {kind === "role" && (
              <Select
                aria-label={t("design.flow.assignee.role")}
                style={{ minWidth: 180 }}
                value={rule.role || undefined}
                onChange={(key: string) => set({ role: key })}
                notFoundContent={none}
                showSearch
                optionFilterProp="label"
                options={(roles.data ?? []).map((r) => ({ value: r.key, label: `${r.name} (${r.key})` }))}
                data-testid={`${testId}-${i}-role`}
              />
            )}
            {kind === "field" && (
              <Select
                aria-label={t("design.flow.assignee.field")}
                style={{ minWidth: 180 }}
                value={rule.field || undefined}
                onChange={(key: string) => set({ field: key })}
                options={people.map((f) => ({ value: f.key, label: label(f.label, "zh-CN", f.key) }))}
                data-testid={`${testId}-${i}-field`}
              />
            )}
            {kind === "initiator_manager" && (
              <InputNumber
                aria-label={t("design.flow.assignee.levels")}
                addonBefore={t("design.flow.assignee.levels")}
                min={1}
                max={10}
                value={rule.initiator_manager}
                onChange={(n) => set({ initiator_manager: Number(n ?? 1) })}
                data-testid={`${testId}-${i}-levels`}
              />
            )}
            <Button
              type="text"
              icon={<DeleteOutlined />}
              aria-label={t("design.flow.delete")}
              onClick={() => write(list.filter((_, j) => j !== i))}
            />
          </Space>
        );
      })}
      <Button size="small" icon={<PlusOutlined />} onClick={() => write([...list, { role: "" }])} data-testid={`${testId}-add`}>
        {t("design.flow.assignee.add")}
      </Button>
    </Space>
  );
}

const PERMISSIONS: Permission[] = ["editable", "read_only", "hidden"];

/** Field permissions of a task node: editable, read-only or hidden for every field of the form
 * (sub-table columns by ``table.column``); fields it does not name follow ``others``. */
export function PermissionsMatrix({
  node,
  state,
  fields,
  onPatch,
}: {
  node: NodeDef;
  state: FlowState;
  fields: FormField[];
  onPatch: (patch: Patch) => void;
}) {
  const { t, lang } = useLang();
  const others: Permission = node.others ?? "read_only";
  const value = node.permissions ?? {};
  const rows = useMemo(
    () =>
      fields.flatMap((f) => [
        { key: f.key, name: label(f.label, lang, f.key), field: f, depth: 0 },
        ...(f.type === "sub_table" ? (f.fields ?? []).map((c) => ({ key: `${f.key}.${c.key}`, name: label(c.label, lang, c.key), field: c, depth: 1 })) : []),
      ]),
    [fields, lang],
  );
  const computed = (f: FormField) => f.type === "formula" || f.type === "serial" || Boolean(f.read_only);
  const required = node.required ?? [];
  /** The required list without ``drop`` (absent when it empties). */
  const requiredWithout = (drop: (key: string) => boolean) => {
    const kept = required.filter((k) => !drop(k));
    return kept.length ? kept : undefined;
  };
  const set = (key: string, permission: Permission) => {
    const next = { ...value };
    if (permission === others) delete next[key];
    else next[key] = permission;
    // a field the node does not let its tasks edit cannot be required there
    const patch: Patch = { permissions: Object.keys(next).length ? next : undefined };
    if (permission !== "editable" && required.includes(key)) patch.required = requiredWithout((k) => k === key);
    onPatch(patch);
  };
  const all = (permission: Permission) =>
    onPatch({
      permissions: Object.fromEntries(rows.filter((r) => !computed(r.field) || permission !== "editable").map((r) => [r.key, permission])),
      ...(permission === "editable" ? {} : { required: undefined }),
    });
  const require = (key: string, on: boolean) =>
    onPatch({ required: on ? [...required.filter((k) => k !== key), key] : requiredWithout((k) => k === key) });
  const donors = state.nodes.filter((n) => n.id !== node.id && n.permissions !== undefined);
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="flow-permissions">
      <Space wrap>
        <Button size="small" onClick={() => all("editable")} data-testid="flow-permissions-all-editable">
          {t("design.flow.perm.all_editable")}
        </Button>
        <Button size="small" onClick={() => all("read_only")}>
          {t("design.flow.perm.all_read_only")}
        </Button>
        <Typography.Text>{t("design.flow.perm.copy_from")}</Typography.Text>
        <Select
          size="small"
          style={{ width: 140 }}
          aria-label={t("design.flow.perm.copy_from")}
          value={null}
          disabled={donors.length === 0}
          onChange={(id: string) => {
            const donor = state.nodes.find((n) => n.id === id);
            if (donor) onPatch({ permissions: { ...(donor.permissions ?? {}) }, others: donor.others, required: donor.required ? [...donor.required] : undefined });
          }}
          options={donors.map((n) => ({ value: n.id, label: label(n.label, lang, n.id) }))}
        />
      </Space>
      <Table
        size="small"
        pagination={false}
        rowKey="key"
        dataSource={rows}
        scroll={{ y: 320 }}
        columns={[
          {
            title: t("design.flow.perm.field"),
            dataIndex: "name",
            render: (name: string, row) => <span style={{ paddingLeft: row.depth * 16 }}>{name}</span>,
          },
          {
            title: `${t("design.flow.perm.editable")} / ${t("design.flow.perm.read_only")} / ${t("design.flow.perm.hidden")}`,
            dataIndex: "key",
            width: 210,
            render: (key: string, row) =>
              computed(row.field) ? (
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("design.flow.perm.computed")}
                </Typography.Text>
              ) : (
                <Radio.Group
                  size="small"
                  optionType="button"
                  value={value[key] ?? others}
                  onChange={(e) => set(key, e.target.value as Permission)}
                  options={PERMISSIONS.map((p) => ({ value: p, label: t(`design.flow.perm.${p}`) }))}
                  aria-label={row.name}
                  data-testid={`flow-permission-${key}`}
                />
              ),
          },
          {
            title: t("design.flow.perm.required"),
            dataIndex: "key",
            key: "required",
            width: 56,
            render: (key: string, row) =>
              row.depth === 0 && !computed(row.field) && (value[key] ?? others) === "editable" ? (
                <Checkbox
                  checked={required.includes(key)}
                  onChange={(e) => require(key, e.target.checked)}
                  aria-label={`${row.name} ${t("design.flow.perm.required")}`}
                  data-testid={`flow-required-${key}`}
                />
              ) : null,
          },
        ]}
      />
    </Space>
  );
}

const UNITS = [
  ["days", 1440],
  ["hours", 60],
  ["minutes", 1],
] as const;

function TimeoutEditor({ value, onChange, state, node }: { value: Timeout | undefined; onChange: (next: Timeout | undefined) => void; state: FlowState; node: NodeDef }) {
  const { t, lang } = useLang();
  const minutes = value?.minutes ?? 0;
  const [chosen, setUnit] = useState<number | null>(null);
  // the unit picked, while it divides the time; else the largest that does (2880 → 2 days)
  const unit = chosen !== null && minutes % chosen === 0 ? chosen : (UNITS.find(([, m]) => minutes > 0 && minutes % m === 0)?.[1] ?? 1);
  if (!value) {
    return (
      <Checkbox onChange={(e) => e.target.checked && onChange({ minutes: 2880, business: true, action: "remind" })} checked={false} data-testid="flow-timeout-on">
        {t("design.flow.timeout.on")}
      </Checkbox>
    );
  }
  const actions = ["remind", "escalate", ...(node.type === "approval" ? ["approve", "reject"] : []), "goto"];
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="flow-timeout">
      <Checkbox checked onChange={() => onChange(undefined)}>
        {t("design.flow.timeout.on")}
      </Checkbox>
      <Space wrap>
        <InputNumber
          aria-label={t("design.flow.timeout.amount")}
          min={1}
          value={Math.max(1, Math.round(minutes / unit))}
          onChange={(n) => onChange({ ...value, minutes: Math.max(1, Number(n ?? 1)) * unit })}
          data-testid="flow-timeout-amount"
        />
        <Select
          aria-label={t("design.flow.timeout.amount")}
          style={{ width: 90 }}
          value={unit}
          onChange={(next: number) => {
            setUnit(next);
            onChange({ ...value, minutes: Math.max(1, Math.round(minutes / unit)) * next });
          }}
          options={UNITS.map(([name, m]) => ({ value: m, label: t(`design.flow.timeout.unit.${name}`) }))}
          data-testid="flow-timeout-unit"
        />
        <Checkbox checked={Boolean(value.business)} onChange={(e) => onChange({ ...value, business: e.target.checked || undefined })}>
          {t("design.flow.timeout.business")}
        </Checkbox>
      </Space>
      <Space wrap>
        <Typography.Text>{t("design.flow.timeout.action")}</Typography.Text>
        <Select
          aria-label={t("design.flow.timeout.action")}
          style={{ width: 160 }}
          value={value.action ?? "remind"}
          onChange={(action: Timeout["action"]) => onChange({ minutes: value.minutes, ...(value.business ? { business: true } : {}), action })}
          options={actions.map((a) => ({ value: a, label: t(`design.flow.timeout.${a}`) }))}
          data-testid="flow-timeout-action"
        />
        {value.action === "goto" && (
          <Select
            aria-label={t("design.flow.timeout.goto")}
            style={{ width: 160 }}
            value={value.node}
            onChange={(id: string) => onChange({ ...value, node: id })}
            options={state.nodes.filter((n) => n.id !== node.id).map((n) => ({ value: n.id, label: label(n.label, lang, n.id) }))}
          />
        )}
      </Space>
    </Space>
  );
}

function MultiEditor({ value, onChange, fields }: { value: Multi | undefined; onChange: (next: Multi | undefined) => void; fields: FormField[] }) {
  const { t, lang } = useLang();
  const tables = fields.filter((f) => f.type === "sub_table");
  if (!value) {
    return (
      <Checkbox checked={false} disabled={tables.length === 0} onChange={(e) => e.target.checked && onChange({ over: tables[0]?.key, assignee_field: undefined, mode: "parallel" })} data-testid="flow-multi-on">
        {t("design.flow.props.multi")}
      </Checkbox>
    );
  }
  const table = tables.find((f) => f.key === value.over);
  const columns = table?.fields ?? [];
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="flow-multi">
      <Checkbox checked onChange={() => onChange(undefined)}>
        {t("design.flow.props.multi")}
      </Checkbox>
      <Form.Item label={t("design.flow.multi.over")} style={{ marginBottom: 4 }}>
        <Select
          aria-label={t("design.flow.multi.over")}
          value={value.over}
          onChange={(over: string) => onChange({ ...value, over, assignee_field: undefined })}
          options={tables.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
        />
      </Form.Item>
      <Form.Item label={t("design.flow.multi.assignee")} style={{ marginBottom: 4 }}>
        <Select
          aria-label={t("design.flow.multi.assignee")}
          value={value.assignee_field}
          onChange={(key: string) => onChange({ ...value, assignee_field: key })}
          options={columns.filter((c) => c.type === "user").map((c) => ({ value: c.key, label: label(c.label, lang, c.key) }))}
        />
      </Form.Item>
      <Radio.Group
        value={value.mode ?? "parallel"}
        onChange={(e) => onChange({ ...value, mode: e.target.value as Multi["mode"] })}
        options={[
          { value: "parallel", label: t("design.flow.multi.mode.parallel") },
          { value: "sequential", label: t("design.flow.multi.mode.sequential") },
        ]}
      />
      <Typography.Text>{t("design.flow.multi.where")}</Typography.Text>
      <ConditionBuilder
        value={value.where}
        onChange={(where) => onChange({ ...value, where: where ?? undefined })}
        fields={conditionFields(columns)}
        testId="flow-multi-where"
      />
    </Space>
  );
}

export function NodeProperties({
  app,
  node,
  state,
  fields,
  problems,
  onPatch,
  onRename,
}: {
  app: string;
  node: NodeDef;
  state: FlowState;
  fields: FormField[];
  problems: Problem[];
  onPatch: (patch: Patch, tag?: string) => void;
  onRename: (id: string) => void;
}) {
  const { t, lang } = useLang();
  const kind = KIND[node.type];
  const anchor = useId();
  const [id, setId] = useState(node.id);
  const [seenId, setSeenId] = useState(node.id);
  if (node.id !== seenId) {
    setSeenId(node.id);
    setId(node.id);
  }
  const idIssue = idProblem(state, node.id, id);
  const overview = useOverview(app);
  const flows = (overview.data ?? []).filter((d) => d.kind === "flow");
  const forms = (overview.data ?? []).filter((d) => d.kind === "form");
  const condition: ConditionField[] = useMemo(() => conditionFields(fields), [fields]);
  const task = node.type === "fill" || node.type === "approval";
  const targets = state.nodes.filter((n) => n.id !== node.id && (n.type === "fill" || n.type === "approval" || n.type === "start"));
  const rejectTo = node.reject_to === undefined ? [] : Array.isArray(node.reject_to) ? node.reject_to : [node.reject_to];
  const directory = useDirectory();
  const actionNames: ActionNames = {
    field: (key) => {
      const found = fields.find((f) => f.key === key);
      return found ? label(found.label, lang, key) : undefined;
    },
    option: (key, value) => {
      const option = fields.find((f) => f.key === key)?.options?.find((o) => o.value === value);
      return option ? label(option.label, lang, String(value)) : undefined;
    },
    user: (uid) => directory.users.data?.find((u) => u.id === uid)?.display_name,
    group: (key) => directory.groups.data?.find((g) => g.key === key)?.name,
    role: (key) => directory.roles.data?.find((r) => r.key === key)?.name,
    form: (key) => label(forms.find((f) => f.key === key)?.name, lang, key),
    flow: (key) => label(flows.find((f) => f.key === key)?.name, lang, key),
  };
  return (
    <Form layout="vertical" size="small" data-testid="flow-node-props" data-node={node.id}>
      <Typography.Title level={5} style={{ marginTop: 0, display: "flex", alignItems: "center", gap: 4 }}>
        <Tag style={{ color: "#262626", background: "#fff", borderColor: kind?.color, borderLeftWidth: 4 }}>{label(kind?.label, lang, node.type)}</Tag>
        <Typography.Text ellipsis style={{ flex: 1, minWidth: 0, font: "inherit" }}>
          {label(node.label, lang, node.id)}
        </Typography.Text>
        <ProblemCount problems={problems} anchor={anchor} />
      </Typography.Title>
      {node.type !== "end" && node.type !== "terminate_end" && (
        <>
          <Form.Item label={t("design.flow.props.label_zh")} style={{ marginBottom: 8 }}>
            <Input
              aria-label={t("design.flow.props.label_zh")}
              value={node.label?.["zh-CN"] ?? ""}
              onChange={(e) => onPatch({ label: e.target.value ? { ...node.label, "zh-CN": e.target.value } : undefined }, `${node.id}:label`)}
              data-testid="flow-node-label"
            />
          </Form.Item>
          <Form.Item label={t("design.flow.props.label_en")} style={{ marginBottom: 8 }}>
            <Input
              aria-label={t("design.flow.props.label_en")}
              value={node.label?.en ?? ""}
              onChange={(e) => onPatch({ label: { "zh-CN": node.label?.["zh-CN"] ?? "", ...(e.target.value ? { en: e.target.value } : {}) } }, `${node.id}:label_en`)}
            />
          </Form.Item>
        </>
      )}
      <Form.Item
        label={t("design.flow.props.id")}
        // the standing hint is `extra`, drawn at once: as `help` it came in with a motion that
        // pushed the fields below down a line just as the panel showed (a click there missed)
        help={idIssue ? t(`design.flow.props.id.${idIssue}`) : undefined}
        extra={idIssue ? undefined : t("design.flow.props.id.help")}
        validateStatus={idIssue ? "error" : undefined}
        style={{ marginBottom: 8 }}
      >
        <Input
          aria-label={t("design.flow.props.id")}
          value={id}
          onChange={(e) => setId(e.target.value)}
          onBlur={() => idProblem(state, node.id, id) === null && onRename(id)}
          onPressEnter={() => idProblem(state, node.id, id) === null && onRename(id)}
          data-testid="flow-node-id"
        />
      </Form.Item>

      {node.type === "start" && (
        <>
          <Form.Item label={t("design.flow.props.trigger")} style={{ marginBottom: 8 }}>
            <Select
              aria-label={t("design.flow.props.trigger")}
              value={node.trigger ?? "manual"}
              onChange={(trigger: NodeDef["trigger"]) => onPatch({ trigger, condition: trigger === "condition" ? node.condition : undefined })}
              options={["manual", "record_created", "condition"].map((v) => ({ value: v, label: t(`design.flow.trigger.${v}`) }))}
              data-testid="flow-start-trigger"
            />
          </Form.Item>
          {node.trigger === "condition" && (
            <Form.Item label={t("design.flow.props.condition")}>
              <ConditionBuilder value={node.condition} onChange={(c) => onPatch({ condition: c ?? undefined })} fields={condition} testId="flow-start-condition" />
            </Form.Item>
          )}
        </>
      )}

      {node.type === "approval" && (
        <>
          <Form.Item label={t("design.flow.props.mode")} style={{ marginBottom: 8 }}>
            <Radio.Group
              value={node.mode ?? "single"}
              onChange={(e) => onPatch({ mode: e.target.value as NodeDef["mode"], percent: e.target.value === "percentage" ? (node.percent ?? 50) : undefined })}
              data-testid="flow-approval-mode"
            >
              <Space direction="vertical">
                {["single", "any", "all", "sequential", "percentage"].map((m) => (
                  <Radio key={m} value={m} data-testid={`flow-approval-mode-${m}`}>
                    {t(`design.flow.mode.${m}`)}
                  </Radio>
                ))}
              </Space>
            </Radio.Group>
          </Form.Item>
          {node.mode === "percentage" && (
            <Form.Item label={t("design.flow.props.percent")} style={{ marginBottom: 8 }}>
              <InputNumber min={1} max={100} value={node.percent} onChange={(n) => onPatch({ percent: Number(n ?? 50) })} aria-label={t("design.flow.props.percent")} />
            </Form.Item>
          )}
        </>
      )}

      {(task || node.type === "cc") && (
        <Form.Item label={node.type === "cc" ? t("design.flow.props.cc") : t("design.flow.props.assignees")} style={{ marginBottom: 8 }}>
          {node.multi?.over ? (
            <Typography.Text type="secondary">{t("design.flow.multi.assignee")}</Typography.Text>
          ) : (
            <AssigneesEditor value={node.assignees} onChange={(assignees) => onPatch({ assignees })} fields={fields} testId="flow-assignees" />
          )}
        </Form.Item>
      )}
      {(task || node.type === "cc") && (
        <Form.Item label={t("design.flow.props.fallback")} style={{ marginBottom: 8 }}>
          <AssigneesEditor value={node.fallback} onChange={(fallback) => onPatch({ fallback })} fields={fields} testId="flow-fallback" />
        </Form.Item>
      )}

      {node.type === "approval" && (
        <>
          <Form.Item label={t("design.flow.props.reject_to")} style={{ marginBottom: 8 }}>
            <Select
              mode="multiple"
              aria-label={t("design.flow.props.reject_to")}
              value={rejectTo}
              onChange={(list: string[]) => onPatch({ reject_to: list.length === 0 ? undefined : list.length === 1 && !Array.isArray(node.reject_to) ? list[0] : list })}
              options={[
                { value: "previous", label: t("design.flow.reject.previous") },
                { value: "start", label: t("design.flow.reject.start") },
                ...targets.filter((n) => n.id !== "start").map((n) => ({ value: n.id, label: label(n.label, lang, n.id) })),
              ]}
              data-testid="flow-reject-to"
            />
          </Form.Item>
          <Form.Item label={t("design.flow.props.after_return")} style={{ marginBottom: 8 }}>
            <Radio.Group
              value={node.after_return ?? "rerun"}
              onChange={(e) => onPatch({ after_return: e.target.value as NodeDef["after_return"] })}
              options={[
                { value: "direct", label: t("design.flow.return.direct") },
                { value: "rerun", label: t("design.flow.return.rerun") },
              ]}
              data-testid="flow-after-return"
            />
          </Form.Item>
        </>
      )}

      {task && (
        <>
          <Divider style={{ margin: "8px 0" }} />
          <Form.Item label={t("design.flow.props.timeout")} style={{ marginBottom: 8 }}>
            <TimeoutEditor value={node.timeout} onChange={(timeout) => onPatch({ timeout })} state={state} node={node} />
          </Form.Item>
          <Form.Item style={{ marginBottom: 8 }}>
            <MultiEditor value={node.multi} onChange={(multi) => onPatch({ multi })} fields={fields} />
          </Form.Item>
        </>
      )}

      {(task || node.type === "start") && (
        <Form.Item label={t("design.flow.props.permissions")}>
          <PermissionsMatrix node={node} state={state} fields={fields} onPatch={(patch) => onPatch(patch)} />
        </Form.Item>
      )}

      {(node.type === "parallel_join" || node.type === "inclusive_join") && (
        <>
          <Form.Item label={t("design.flow.props.wait")} style={{ marginBottom: 8 }}>
            <Space>
              <Switch
                checked={typeof node.wait !== "number"}
                onChange={(every) => onPatch({ wait: every ? undefined : 1, remaining: every ? undefined : node.remaining })}
                checkedChildren={t("design.flow.props.wait.all")}
                unCheckedChildren={t("design.flow.props.wait")}
                aria-label={t("design.flow.props.wait")}
              />
              {typeof node.wait === "number" && <InputNumber min={1} value={node.wait} onChange={(n) => onPatch({ wait: Number(n ?? 1) })} aria-label={t("design.flow.props.wait")} />}
            </Space>
          </Form.Item>
          {typeof node.wait === "number" && (
            <Form.Item label={t("design.flow.props.remaining")}>
              <Radio.Group
                value={node.remaining ?? "ignore"}
                onChange={(e) => onPatch({ remaining: e.target.value as NodeDef["remaining"] })}
                options={[
                  { value: "ignore", label: t("design.flow.remaining.ignore") },
                  { value: "cancel", label: t("design.flow.remaining.cancel") },
                ]}
              />
            </Form.Item>
          )}
        </>
      )}

      {node.type === "timer" && (
        <Form.Item label={t("design.flow.props.timer")}>
          <Space direction="vertical" style={{ width: "100%" }}>
            <Radio.Group
              value={node.until_field !== undefined ? "until" : "duration"}
              onChange={(e) =>
                onPatch(
                  e.target.value === "until"
                    ? { minutes: undefined, business: undefined, until_field: fields.find((f) => f.type === "date" || f.type === "datetime")?.key ?? "" }
                    : { until_field: undefined, minutes: 60 },
                )
              }
              options={[
                { value: "duration", label: t("design.flow.timer.duration") },
                { value: "until", label: t("design.flow.timer.until") },
              ]}
            />
            {node.until_field !== undefined ? (
              <Select
                aria-label={t("design.flow.timer.until")}
                value={node.until_field || undefined}
                onChange={(key: string) => onPatch({ until_field: key })}
                options={fields.filter((f) => f.type === "date" || f.type === "datetime").map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
              />
            ) : (
              <Space>
                <InputNumber min={1} value={node.minutes} onChange={(n) => onPatch({ minutes: Number(n ?? 60) })} addonAfter={t("design.flow.timeout.unit.minutes")} aria-label={t("design.flow.timeout.amount")} />
                <Checkbox checked={Boolean(node.business)} onChange={(e) => onPatch({ business: e.target.checked || undefined })}>
                  {t("design.flow.timeout.business")}
                </Checkbox>
              </Space>
            )}
          </Space>
        </Form.Item>
      )}
      {node.type === "timer" && (
        <Form.Item label={t("design.flow.props.ends_when")} extra={t("design.flow.props.ends_when.help")}>
          <ConditionBuilder value={node.ends_when} onChange={(c) => onPatch({ ends_when: c ?? undefined })} fields={condition} testId="flow-timer-ends-when" />
        </Form.Item>
      )}

      {node.type === "sub_process" && (
        <>
          <Form.Item label={t("design.flow.props.sub_flow")} style={{ marginBottom: 8 }}>
            <Select
              aria-label={t("design.flow.props.sub_flow")}
              value={node.flow}
              onChange={(flow: string) => onPatch({ flow })}
              options={flows.map((f) => ({ value: f.key, label: `${label(f.name, lang, f.key)} (${f.key})` }))}
            />
          </Form.Item>
          <Form.Item label={t("design.flow.props.sub_record")} style={{ marginBottom: 8 }}>
            <Space direction="vertical" style={{ width: "100%" }}>
              <Radio.Group
                value={node.record?.form !== undefined ? "form" : "field"}
                onChange={(e) => onPatch({ record: e.target.value === "form" ? { form: forms[0]?.key ?? "", values: {} } : { field: "" } })}
                options={[
                  { value: "field", label: t("design.flow.sub.field") },
                  { value: "form", label: t("design.flow.sub.form") },
                ]}
              />
              {node.record?.form !== undefined ? (
                <Select aria-label={t("design.flow.sub.form")} value={node.record.form} onChange={(form: string) => onPatch({ record: { ...node.record, form } })} options={forms.map((f) => ({ value: f.key, label: label(f.name, lang, f.key) }))} />
              ) : (
                <Select
                  aria-label={t("design.flow.sub.field")}
                  value={node.record?.field || undefined}
                  onChange={(field: string) => onPatch({ record: { field } })}
                  options={fields.filter((f) => f.type === "reference").map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
                />
              )}
            </Space>
          </Form.Item>
          <Checkbox checked={node.wait !== false} onChange={(e) => onPatch({ wait: e.target.checked ? undefined : false })}>
            {t("design.flow.props.sub_wait")}
          </Checkbox>
        </>
      )}

      {node.type === "automation" && (
        <Form.Item label={t("design.flow.props.actions")}>
          <ActionsEditor app={app} value={node.actions as Action[] | undefined} onChange={(actions) => onPatch({ actions })} fields={fields} names={actionNames} testId="flow-actions" />
        </Form.Item>
      )}

      {kind?.conditional && <BranchList node={node} state={state} fields={condition} />}
      <PinnedProblems problems={problems} anchor={anchor} testId="flow-props-problems" />
    </Form>
  );
}

function BranchList({ node, state, fields }: { node: NodeDef; state: FlowState; fields: ConditionField[] }) {
  const { t, lang } = useLang();
  const branches = outgoing(state, node.id);
  return (
    <Form.Item label={t("design.flow.props.branches")}>
      <ol style={{ paddingLeft: 18, margin: 0 }} data-testid="flow-branches">
        {branches.map((e) => {
          const target = state.nodes.find((n) => n.id === e.def.to);
          return (
            <li key={e.id}>
              {label(target?.label, lang, e.def.to)} ·{" "}
              {e.def.default ? t("design.flow.default") : e.def.condition !== undefined ? reading(e.def.condition, fields, lang) : t("design.flow.no_condition")}
            </li>
          );
        })}
      </ol>
    </Form.Item>
  );
}

export function EdgeProperties({
  edge,
  state,
  fields,
  problems,
  onPatch,
  onDefault,
  onMove,
}: {
  edge: EdgeNode;
  state: FlowState;
  fields: ConditionField[];
  problems: Problem[];
  onPatch: (patch: { condition?: unknown }) => void;
  onDefault: () => void;
  onMove: (delta: -1 | 1) => void;
}) {
  const { t, lang } = useLang();
  const anchor = useId();
  const source = state.nodes.find((n) => n.id === edge.def.from);
  const target = state.nodes.find((n) => n.id === edge.def.to);
  const conditional = source ? KIND[source.type]?.conditional : false;
  const siblings = outgoing(state, edge.def.from);
  const place = siblings.findIndex((e) => e.id === edge.id);
  return (
    <Form layout="vertical" size="small" data-testid="flow-edge-props" data-edge={edge.id}>
      <Typography.Title level={5} style={{ marginTop: 0, display: "flex", alignItems: "center", justifyContent: "space-between" }}>
        {t("design.flow.props.edge")}
        <ProblemCount problems={problems} anchor={anchor} />
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {t("design.flow.props.edge.from_to", { from: label(source?.label, lang, edge.def.from), to: label(target?.label, lang, edge.def.to) })}
      </Typography.Paragraph>
      {!conditional ? (
        <Typography.Text type="secondary">{t("design.flow.props.edge.plain")}</Typography.Text>
      ) : (
        <Space direction="vertical" style={{ width: "100%" }}>
          <Space>
            <Button size="small" icon={<ArrowUpOutlined />} disabled={place <= 0} onClick={() => onMove(-1)} data-testid="flow-edge-earlier">
              {t("design.flow.props.earlier")}
            </Button>
            <Button size="small" icon={<ArrowDownOutlined />} disabled={place >= siblings.length - 1} onClick={() => onMove(1)}>
              {t("design.flow.props.later")}
            </Button>
          </Space>
          {edge.def.default ? (
            <Alert type="info" showIcon message={t("design.flow.props.edge.is_default")} data-testid="flow-edge-is-default" />
          ) : (
            <>
              <Button size="small" onClick={onDefault} data-testid="flow-edge-make-default">
                {t("design.flow.props.edge.default")}
              </Button>
              <Form.Item label={t("design.flow.props.condition")}>
                <ConditionBuilder value={edge.def.condition} onChange={(condition) => onPatch({ condition: condition ?? undefined })} fields={fields} testId="flow-edge-condition" />
              </Form.Item>
            </>
          )}
        </Space>
      )}
      <PinnedProblems problems={problems} anchor={anchor} testId="flow-props-problems" />
    </Form>
  );
}

export function FlowSettings({ app, state, fields, onPatch }: { app: string; state: FlowState; fields: FormField[]; onPatch: (patch: Record<string, unknown>) => void }) {
  const { t, lang } = useLang();
  const flow = state.flow;
  const overview = useOverview(app);
  const forms = (overview.data ?? []).filter((d) => d.kind === "form");
  return (
    <Form layout="vertical" size="small" data-testid="flow-settings">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        {t("design.flow.props.flow")}
      </Typography.Title>
      <Form.Item label={t("design.flow.props.label_zh")} style={{ marginBottom: 8 }}>
        <Input aria-label={t("design.flow.props.label_zh")} value={flow.label?.["zh-CN"] ?? ""} onChange={(e) => onPatch({ label: { ...flow.label, "zh-CN": e.target.value } })} data-testid="flow-label" />
      </Form.Item>
      <Form.Item label={t("design.flow.props.label_en")} style={{ marginBottom: 8 }}>
        <Input aria-label={t("design.flow.props.label_en")} value={flow.label?.en ?? ""} onChange={(e) => onPatch({ label: { "zh-CN": flow.label?.["zh-CN"] ?? "", ...(e.target.value ? { en: e.target.value } : {}) } })} />
      </Form.Item>
      <Form.Item label={t("design.flow.props.form")} style={{ marginBottom: 8 }}>
        <Select
          aria-label={t("design.flow.props.form")}
          value={flow.form || undefined}
          onChange={(form: string) => onPatch({ form })}
          options={forms.map((f) => ({ value: f.key, label: `${label(f.name, lang, f.key)} (${f.key})` }))}
          showSearch
          optionFilterProp="label"
          data-testid="flow-form"
        />
      </Form.Item>
      <Form.Item label={t("design.flow.props.fallback")}>
        <AssigneesEditor
          value={flow.options?.fallback}
          onChange={(fallback) => {
            const { fallback: _old, ...rest } = flow.options ?? {};
            const options = fallback === undefined ? rest : { ...rest, fallback };
            onPatch({ options: Object.keys(options).length ? options : undefined });
          }}
          fields={fields}
          testId="flow-options-fallback"
        />
      </Form.Item>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {lang === "en" ? `${state.nodes.length} nodes, ${state.edges.length} connections` : `共 ${state.nodes.length} 个节点、${state.edges.length} 条连线`}
      </Typography.Text>
    </Form>
  );
}
