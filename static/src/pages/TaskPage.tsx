// One task: the record with the node's field permissions, and the actions the node allows.
// Acting takes the task out of the inbox at once (optimistic); a refusal puts it back, and a
// task someone else already handled (409) is reloaded with a warning.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, App, Button, Card, Collapse, Descriptions, Input, Select, Space, Spin, Tag } from "antd";
import { useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, ApiError, problemText, type TaskItem } from "../api";
import { FlowHistory, nodeLabel, type HistoryEntry, type Labels } from "../flows";
import { localErrors, RecordForm, serverErrors, useFormSchema, UserPicker, writable, type Permissions } from "../forms";
import { Failure } from "../Failure";
import { useLang } from "../i18n";

interface TaskView {
  task: TaskItem & { instance_id: number; outcome: string | null };
  record: { id: number; data: Record<string, unknown>; lock_version: number };
  /** A task of one sub-table row: the table, the row's id and its place (it comes first). */
  row: { table: string; id: string; index: number } | null;
  permissions: Permissions;
  actions: string[];
  reject_to: string[];
  label: Record<string, string>;
  nodes: Labels;
  flow_label: string;
  history: HistoryEntry[];
}

type Inbox = { items: TaskItem[]; counts: Record<string, number> };

/** Actions that finish the task for its holder: it leaves the to-do box. */
const FINISHING = new Set(["submit", "approve", "reject", "return", "transfer", "delegate"]);
/** Actions that name a user. */
const NAMING = new Set(["transfer", "delegate", "add_signer"]);
const ORDER = ["submit", "approve", "reject", "return", "transfer", "delegate", "add_signer", "comment"];

export function TaskPage() {
  const { taskId = "" } = useParams();
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const view = useQuery({
    queryKey: ["task", taskId, lang],
    queryFn: () => api<TaskView>(`/tasks/${taskId}`, { query: { lang } }),
  });
  const app = view.data?.task.app_key ?? "";
  const form = view.data?.task.form_key ?? "";
  const schema = useFormSchema(app, form);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [opinion, setOpinion] = useState("");
  const [target, setTarget] = useState<string | undefined>();
  const [user, setUser] = useState<number | undefined>();
  const [position, setPosition] = useState<"before" | "after">("after");
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [busy, setBusy] = useState<string | null>(null);
  const [seeded, setSeeded] = useState<unknown>(undefined);
  if (view.data && seeded !== view.data) {
    setSeeded(view.data); // the task's record, each time it is (re)loaded
    setData(view.data.record.data);
  }
  if (view.isError) return <Failure error={view.error} what={t("failure.task")} />;
  if (!view.data || !schema.data) return <Spin />;
  const { task, permissions, actions, nodes } = view.data;
  const open = task.status === "open";

  /** Take the task out of the cached to-do box and its count; the snapshot puts it back. */
  const leaveInbox = () => {
    const boxes = queries.getQueriesData<Inbox>({ queryKey: ["inbox", "todo"] });
    const counts = queries.getQueryData<{ counts: Record<string, number> }>(["inbox-counts"]);
    const less = (c: Record<string, number>) => ({ ...c, todo: Math.max(0, (c.todo ?? 1) - 1) });
    queries.setQueriesData<Inbox>({ queryKey: ["inbox", "todo"] }, (box) =>
      box ? { ...box, items: box.items.filter((i) => i.id !== task.id), counts: less(box.counts) } : box,
    );
    if (counts) queries.setQueryData(["inbox-counts"], { ...counts, counts: less(counts.counts) });
    return () => {
      for (const [key, box] of boxes) queries.setQueryData(key, box);
      if (counts) queries.setQueryData(["inbox-counts"], counts);
    };
  };

  const act = async (action: string) => {
    const local = action === "submit" || action === "approve" ? localErrors(schema.data, data, permissions) : undefined;
    setErrors(local);
    if (local) {
      message.error(t("record.invalid"));
      return;
    }
    if (NAMING.has(action) && !user) {
      message.warning(t("task.pick_user"));
      return;
    }
    setBusy(action);
    const restore = FINISHING.has(action) ? leaveInbox() : () => undefined;
    try {
      const body: Record<string, unknown> = { opinion };
      if (action === "submit" || action === "approve") {
        body.data = writable(schema.data, data, permissions);
        // what changed since this version is merged with the change; a clash comes back as 409
        body.lock_version = view.data.record.lock_version;
      }
      if (action === "reject" && target) body.target = target;
      if (NAMING.has(action)) body.user = user;
      if (action === "add_signer") body.position = position;
      await api(`/tasks/${taskId}/${action}`, { body });
      message.success(t("task.done"));
      void queries.invalidateQueries({ queryKey: ["inbox"] });
      void queries.invalidateQueries({ queryKey: ["inbox-counts"] });
      void queries.invalidateQueries({ queryKey: ["flows", app, form, String(task.record_id)] });
      if (FINISHING.has(action)) navigate("/inbox");
      else {
        setOpinion("");
        await view.refetch();
      }
    } catch (error) {
      restore();
      const onFields =
        error instanceof ApiError &&
        Object.keys(error.errors).some((path) => schema.data.fields.some((f) => path.split("/")[0] === f.key));
      if (error instanceof ApiError && error.status === 422 && onFields) {
        setErrors(serverErrors(error.errors));
        message.error(t("record.invalid"));
      } else if (error instanceof ApiError && error.status === 422) {
        // not about the record's fields (a reject target, a person): the server says what
        message.error(problemText(error));
      } else if (error instanceof ApiError && error.status === 409 && error.code === "lock_version.stale") {
        // someone changed the same fields meanwhile: show the record as it is now
        message.warning(`${t("task.changed")} ${problemText(error)}`);
        await view.refetch();
      } else if (error instanceof ApiError && error.status === 409) {
        message.warning(t("task.taken"));
        await view.refetch();
        void queries.invalidateQueries({ queryKey: ["inbox"] });
      } else message.error(error instanceof Error ? error.message : t("common.error"));
    } finally {
      setBusy(null);
    }
  };
  const label = view.data.label[lang] ?? view.data.label["zh-CN"] ?? task.node;
  const naming = actions.some((a) => NAMING.has(a));
  // what this step asks for comes first; the rest of the record is one click away
  const editableKeys = schema.data.fields.map((f) => f.key).filter((k) => (permissions[k] ?? permissions.others) === "editable");
  const editable = editableKeys.length > 0;
  const onlyEditable: Permissions = { ...Object.fromEntries(editableKeys.map((k) => [k, "editable" as const])), others: "hidden" };
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle">
      <Card title={`${label} · ${schema.data.label} #${task.record_id}`} extra={<Tag>{t(`task.status.${task.status}`, {}, task.status)}</Tag>}>
        {view.data.row && (
          <Alert
            type="info"
            showIcon
            style={{ marginBottom: 16 }}
            message={t("task.own_row", { n: view.data.row.index + 1 })}
            data-testid="own-row"
          />
        )}
        {open && editable ? (
          <>
            <RecordForm app={app} schema={schema.data} data={data} onChange={setData} errors={errors} permissions={onlyEditable} />
            <Collapse
              style={{ marginTop: 16 }}
              items={[
                {
                  key: "record",
                  label: t("task.whole_record"),
                  children: (
                    <RecordForm app={app} schema={schema.data} data={data} errors={errors} permissions={permissions} readOnly idPrefix="record" />
                  ),
                },
              ]}
            />
          </>
        ) : (
          <RecordForm app={app} schema={schema.data} data={data} errors={errors} permissions={permissions} readOnly />
        )}
      </Card>
      {open && (
        <Card>
          <Space direction="vertical" style={{ width: "100%" }}>
            <Input.TextArea
              placeholder={t("task.opinion")}
              value={opinion}
              onChange={(e) => setOpinion(e.target.value)}
              rows={2}
              data-testid="opinion"
            />
            <Space wrap>
              {actions.includes("reject") && view.data.reject_to.length > 0 && (
                <Select
                  placeholder={t("task.target")}
                  value={target}
                  onChange={setTarget}
                  allowClear
                  style={{ minWidth: 200 }}
                  options={view.data.reject_to.map((r) => ({ value: r, label: nodeLabel(nodes, r, lang) }))}
                  data-testid="reject-target"
                />
              )}
              {naming && <UserPicker app={app} value={user} onChange={setUser} placeholder={t("task.user")} id="task-user" />}
              {actions.includes("add_signer") && (
                <Select
                  value={position}
                  onChange={setPosition}
                  style={{ minWidth: 120 }}
                  options={[
                    { value: "before", label: t("task.before") },
                    { value: "after", label: t("task.after") },
                  ]}
                />
              )}
            </Space>
            <Space wrap>
              {ORDER.filter((a) => actions.includes(a)).map((a) => (
                <Button
                  key={a}
                  type={a === "submit" || a === "approve" ? "primary" : "default"}
                  danger={a === "reject" || a === "return"}
                  loading={busy === a}
                  disabled={busy !== null && busy !== a}
                  onClick={() => act(a)}
                  data-testid={`action-${a}`}
                >
                  {t(`task.${a}`)}
                </Button>
              ))}
            </Space>
          </Space>
        </Card>
      )}
      <Card title={t("record.flows")}>
        <Descriptions size="small" column={1}>
          <Descriptions.Item label={t("flow.flow")}>{view.data.flow_label}</Descriptions.Item>
        </Descriptions>
        <FlowHistory app={app} history={view.data.history} nodes={nodes} />
      </Card>
    </Space>
  );
}
