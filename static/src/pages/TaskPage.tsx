// One task, as DingTalk and Feishu approvals show one: why the work came back (when it did) at
// the top, then what is to be decided (what the step before filled in) as a document, the step's
// own fields to fill in (its required ones marked), the whole record one click away, the flow's
// history and diagram, and an action bar that stays in sight (sticky on desktop, a bottom bar on
// phones). Rejecting or returning asks for a reason and shows where the work goes back to;
// handing the task to someone asks whom in a dialog. Acting takes the task out of the inbox at
// once (optimistic); a refusal puts it back, and a task someone else already handled (409) is
// reloaded with a warning.
import { MoreOutlined, NodeIndexOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, App, Button, Card, Collapse, Drawer, Dropdown, Form, Grid, Input, Modal, Radio, Select, Space, Spin, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { lazy, Suspense, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, ApiError, problemText, type FormSchema, type TaskItem } from "../api";
import { RecordDocument } from "../document/RecordDocument";
import { FlowHistory, nodeLabel, type HistoryEntry, type Labels } from "../flows";
import { localErrors, RecordForm, serverErrors, useFormSchema, usePeopleNames, UserPicker, writable, type Permissions } from "../forms";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { DANGER_INK } from "../ink";
import type { InboxPage } from "./Inbox";

/** The instance on the flow's canvas (React Flow: loaded when opened). */
const InstanceDiagram = lazy(() => import("../design/flows/InstanceDiagram"));

interface Returned {
  by: number | null;
  at: string | null;
  node: string;
  action: string;
  opinion: string | null;
}

interface TaskView {
  task: TaskItem & { instance_id: number; outcome: string | null };
  instance: { id: number };
  record: { id: number; data: Record<string, unknown>; lock_version: number };
  /** A task of one sub-table row: the table, the row's id and its place (it comes first). */
  row: { table: string; id: string; index: number } | null;
  permissions: Permissions;
  required: string[];
  returned: Returned | null;
  summary: string[];
  actions: string[];
  reject_to: string[];
  label: Record<string, string>;
  nodes: Labels;
  flow_label: string;
  history: HistoryEntry[];
}


/** Actions that finish the task for its holder: it leaves the to-do box. */
const FINISHING = new Set(["submit", "approve", "reject", "return", "transfer", "delegate"]);
/** Actions that send the work back: a reason and a target are asked for in a dialog. */
const SENDING_BACK = new Set(["reject", "return"]);
/** Actions that name a user: asked for in a dialog. */
const NAMING = new Set(["transfer", "delegate", "add_signer"]);
const ORDER = ["submit", "approve", "reject", "return", "transfer", "delegate", "add_signer", "comment"];

/** The form with the fields a step requires marked required (the browser then checks them
before anything is sent, with the server's own message). */
function requiring(schema: FormSchema, required: string[]): FormSchema {
  if (required.length === 0) return schema;
  const json = schema.json_schema as { required?: string[] };
  return {
    ...schema,
    json_schema: { ...schema.json_schema, required: [...new Set([...(json.required ?? []), ...required])] },
    fields: schema.fields.map((f) => (required.includes(f.key) ? { ...f, required: true } : f)),
  };
}

interface Dialog {
  action: string;
}

export function TaskPage() {
  const { taskId = "" } = useParams();
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const view = useQuery({
    queryKey: ["task", taskId, lang],
    queryFn: () => api<TaskView>(`/tasks/${taskId}`, { query: { lang } }),
  });
  const app = view.data?.task.app_key ?? "";
  const form = view.data?.task.form_key ?? "";
  const loaded = useFormSchema(app, form);
  const required = useMemo(() => view.data?.required ?? [], [view.data]);
  const schema = useMemo(() => (loaded.data ? requiring(loaded.data, required) : undefined), [loaded.data, required]);
  const names = usePeopleNames(app, [view.data?.returned?.by]);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [opinion, setOpinion] = useState("");
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [reason, setReason] = useState("");
  const [target, setTarget] = useState<string | undefined>();
  const [user, setUser] = useState<number | undefined>();
  const [position, setPosition] = useState<"before" | "after">("after");
  const [tried, setTried] = useState(false);
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [busy, setBusy] = useState<string | null>(null);
  const [drawing, setDrawing] = useState(false);
  const [seeded, setSeeded] = useState<unknown>(undefined);
  if (view.data && seeded !== view.data) {
    setSeeded(view.data); // the task's record, each time it is (re)loaded
    setData(view.data.record.data);
  }
  usePageTitle(
    view.data ? (view.data.label[lang] ?? view.data.label["zh-CN"] ?? view.data.task.node) : undefined,
    view.data && loaded.data ? `${loaded.data.label} #${view.data.task.record_id}` : undefined,
  );
  if (view.isError) return <Failure error={view.error} what={t("failure.task")} />;
  if (!view.data || !schema) return <Spin />;
  const { task, permissions, actions, nodes, returned } = view.data;
  const open = task.status === "open";

  /** Take the task out of the cached to-do box (every page) and its count; the snapshot puts
   * it back. */
  const leaveInbox = () => {
    const boxes = queries.getQueriesData<InfiniteData<InboxPage>>({ queryKey: ["inbox", "todo"] });
    const counts = queries.getQueryData<{ counts: Record<string, number> }>(["inbox-counts"]);
    const less = (c: Record<string, number>) => ({ ...c, todo: Math.max(0, (c.todo ?? 1) - 1) });
    queries.setQueriesData<InfiniteData<InboxPage>>({ queryKey: ["inbox", "todo"] }, (box) =>
      box?.pages
        ? { ...box, pages: box.pages.map((page) => ({ ...page, items: page.items.filter((i) => i.id !== task.id), counts: less(page.counts) })) }
        : box,
    );
    if (counts) queries.setQueryData(["inbox-counts"], { ...counts, counts: less(counts.counts) });
    return () => {
      for (const [key, box] of boxes) queries.setQueryData(key, box);
      if (counts) queries.setQueryData(["inbox-counts"], counts);
    };
  };

  /** Send the action; ``words`` is the opinion that goes with it. True when it was done. */
  const send = async (action: string, words: string): Promise<boolean> => {
    const local = action === "submit" || action === "approve" ? localErrors(schema, data, permissions) : undefined;
    setErrors(local);
    if (local) {
      message.error(t("record.invalid"));
      return false;
    }
    setBusy(action);
    const restore = FINISHING.has(action) ? leaveInbox() : () => undefined;
    try {
      const body: Record<string, unknown> = { opinion: words };
      if (action === "submit" || action === "approve") {
        body.data = writable(schema, data, permissions);
        // what changed since this version is merged with the change; a clash comes back as 409
        body.lock_version = view.data.record.lock_version;
      }
      if (SENDING_BACK.has(action) && target) body.target = target;
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
      return true;
    } catch (error) {
      restore();
      const onFields =
        error instanceof ApiError &&
        Object.keys(error.errors).some((path) => schema.fields.some((f) => path.split("/")[0] === f.key));
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
      return false;
    } finally {
      setBusy(null);
    }
  };

  /** A button of the bar: some actions act at once, others ask in a dialog first. */
  const start = (action: string) => {
    if (SENDING_BACK.has(action) || NAMING.has(action)) {
      setReason(SENDING_BACK.has(action) ? opinion : "");
      setTarget(view.data.reject_to[0]);
      setUser(undefined);
      setTried(false);
      setDialog({ action });
    } else if (action === "comment" && !opinion.trim()) {
      message.warning(t("task.comment_empty"));
    } else void send(action, opinion);
  };

  const confirm = async () => {
    if (!dialog) return;
    setTried(true);
    if (SENDING_BACK.has(dialog.action) && !reason.trim()) return;
    if (NAMING.has(dialog.action) && !user) return;
    const words = SENDING_BACK.has(dialog.action) ? reason : opinion;
    if (await send(dialog.action, words)) setDialog(null); // a refusal keeps what was typed
  };

  const label = view.data.label[lang] ?? view.data.label["zh-CN"] ?? task.node;
  const title = schema.title_field ? String(view.data.record.data[schema.title_field] ?? "") : "";
  // what this step asks for comes first; the rest of the record is one click away
  const editableKeys = schema.fields.map((f) => f.key).filter((k) => (permissions[k] ?? permissions.others) === "editable");
  const editable = open && editableKeys.length > 0;
  const onlyEditable: Permissions = { ...Object.fromEntries(editableKeys.map((k) => [k, "editable" as const])), others: "hidden" };
  const approval = actions.includes("approve");
  const summary = view.data.summary.filter((k) => !editableKeys.includes(k) || !open);
  const shown = ORDER.filter((a) => actions.includes(a));
  const primary = shown.filter((a) => a === "submit" || a === "approve" || SENDING_BACK.has(a));
  const secondary = shown.filter((a) => !primary.includes(a));
  const targetName = (r: string) => (r === "previous" ? t("task.to_previous") : r === "start" ? t("task.to_start") : nodeLabel(nodes, r, lang));
  const button = (a: string) => (
    <Button
      key={a}
      type={a === "submit" || a === "approve" ? "primary" : "default"}
      danger={SENDING_BACK.has(a)}
      style={SENDING_BACK.has(a) ? DANGER_INK : undefined}
      loading={busy === a && dialog === null}
      disabled={busy !== null && busy !== a}
      onClick={() => start(a)}
      data-testid={`action-${a}`}
      block={phone && primary.length === 1}
    >
      {t(`task.${a}`)}
    </Button>
  );
  const more = secondary.length > 0 && (
    <Dropdown
      trigger={["click"]}
      menu={{ items: secondary.map((a) => ({ key: a, label: <span data-testid={`action-${a}`}>{t(`task.${a}`)}</span> })), onClick: ({ key }) => start(key) }}
    >
      <Button icon={<MoreOutlined />} aria-label={t("task.more")} data-testid="action-more">
        {phone ? null : t("task.more")}
      </Button>
    </Dropdown>
  );
  const bar = open && (
    <div
      data-testid="task-action-bar"
      data-placement={phone ? "bottom" : "sticky"}
      role="toolbar"
      aria-label={t("task.actions")}
      style={
        phone
          ? { position: "fixed", left: 0, right: 0, bottom: 0, zIndex: 20, background: "#fff", padding: "8px 12px calc(8px + env(safe-area-inset-bottom))", boxShadow: "0 -2px 8px rgba(0,0,0,0.12)", display: "flex", gap: 8 }
          : { position: "sticky", bottom: 0, zIndex: 20, background: "#fff", padding: "12px 16px", boxShadow: "0 -2px 8px rgba(0,0,0,0.08)", borderRadius: 8, display: "flex", gap: 8, flexWrap: "wrap" }
      }
    >
      {phone ? (
        <>
          {more}
          <div style={{ display: "flex", gap: 8, flex: 1, justifyContent: "flex-end" }}>{primary.map(button)}</div>
        </>
      ) : (
        <>
          {primary.map(button)}
          {secondary.map(button)}
        </>
      )}
    </div>
  );
  const sendingBack = dialog !== null && SENDING_BACK.has(dialog.action);
  // the bar is the page's own child (not a spaced item of its own height), so that it can stick
  return (
    <>
      <Space direction="vertical" style={{ width: "100%", paddingBottom: open ? (phone ? 72 : 16) : 0 }} size="middle">
        {open && returned && (
          <Alert
            type="warning"
            showIcon
            data-testid="task-returned"
            message={t("task.returned", {
              who: returned.by === null ? "—" : names.user(returned.by),
              node: nodeLabel(nodes, returned.node, lang),
              at: returned.at ? dayjs(returned.at).format("MM-DD HH:mm") : "",
            })}
            description={returned.opinion ? t("task.returned_reason", { opinion: returned.opinion }) : undefined}
          />
        )}
        <Card
          title={`${label} · ${schema.label} #${task.record_id}${title ? ` ${title}` : ""}`}
          extra={
            <Space size={4}>
              <Tag>{t(`task.status.${task.status}`, {}, task.status)}</Tag>
              <Button size="small" icon={<NodeIndexOutlined />} onClick={() => setDrawing(true)} data-testid="task-diagram">
                {phone ? null : t("task.diagram")}
              </Button>
            </Space>
          }
          styles={{ header: { flexWrap: "wrap" } }}
        >
          {view.data.row && (
            <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t("task.own_row", { n: view.data.row.index + 1 })} data-testid="own-row" />
          )}
          {summary.length > 0 && (
            <section data-testid="task-summary" style={{ marginBottom: 16 }}>
              <Typography.Title level={5}>{t(approval ? "task.summary.approval" : "task.summary.fill")}</Typography.Title>
              <RecordDocument app={app} schema={schema} data={data} keys={summary} permissions={permissions} testId="task-summary-document" />
            </section>
          )}
          {editable && (
            <section data-testid="task-fill">
              <Typography.Title level={5}>{t("task.this_step")}</Typography.Title>
              <RecordForm app={app} schema={schema} data={data} onChange={setData} errors={errors} permissions={onlyEditable} />
            </section>
          )}
          <Collapse
            style={{ marginTop: 8 }}
            defaultActiveKey={summary.length === 0 && !editable ? ["record"] : []}
            items={[
              {
                key: "record",
                label: t("task.whole_record"),
                children: <RecordDocument app={app} schema={schema} data={data} permissions={permissions} testId="task-record" />,
              },
            ]}
          />
        </Card>
        {open && (
          <Card size="small">
            <Input.TextArea
              placeholder={approval ? t("task.opinion_optional") : t("task.opinion")}
              aria-label={t("task.opinion")}
              value={opinion}
              onChange={(e) => setOpinion(e.target.value)}
              rows={2}
              data-testid="opinion"
            />
          </Card>
        )}
        <Card title={t("record.flows")}>
          <Typography.Paragraph>
            <Typography.Text type="secondary">{t("flow.flow")}：</Typography.Text>
            {view.data.flow_label}
          </Typography.Paragraph>
          <FlowHistory app={app} history={view.data.history} nodes={nodes} />
        </Card>
      </Space>
      {bar}
      <Modal
        open={dialog !== null}
        title={dialog ? (sendingBack ? t(`task.sent_back_title.${dialog.action}`) : t(`task.${dialog.action}`)) : ""}
        onCancel={() => setDialog(null)}
        onOk={() => void confirm()}
        okText={dialog ? t(`task.confirm.${dialog.action}`) : undefined}
        okButtonProps={{ danger: sendingBack, loading: busy !== null, "data-testid": "task-dialog-confirm" } as never}
        cancelText={t("common.cancel")}
        destroyOnHidden
        data-testid="task-dialog"
      >
        <Form layout="vertical" requiredMark>
          {sendingBack && view.data.reject_to.length > 0 && (
            <Form.Item label={t("task.goes_back_to")} required>
              {view.data.reject_to.length > 1 ? (
                <Radio.Group value={target} onChange={(e) => setTarget(e.target.value as string)} data-testid="reject-target">
                  <Space direction="vertical">
                    {view.data.reject_to.map((r) => (
                      <Radio key={r} value={r}>
                        {targetName(r)}
                      </Radio>
                    ))}
                  </Space>
                </Radio.Group>
              ) : (
                <Typography.Text data-testid="reject-target">{targetName(view.data.reject_to[0])}</Typography.Text>
              )}
            </Form.Item>
          )}
          {sendingBack && (
            <Form.Item
              label={t("task.reason")}
              required
              validateStatus={tried && !reason.trim() ? "error" : undefined}
              help={tried && !reason.trim() ? t("task.reason_required") : undefined}
            >
              <Input.TextArea rows={3} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus data-testid="task-reason" aria-label={t("task.reason")} />
            </Form.Item>
          )}
          {dialog && NAMING.has(dialog.action) && (
            <Form.Item label={t("task.user")} required validateStatus={tried && !user ? "error" : undefined} help={tried && !user ? t("task.pick_user") : undefined}>
              <UserPicker app={app} value={user} onChange={setUser} placeholder={t("task.user")} id="task-user" />
            </Form.Item>
          )}
          {dialog?.action === "add_signer" && (
            <Form.Item label={t("task.add_signer")}>
              <Select
                value={position}
                onChange={setPosition}
                style={{ minWidth: 160 }}
                options={[
                  { value: "before", label: t("task.before") },
                  { value: "after", label: t("task.after") },
                ]}
                aria-label={t("task.add_signer")}
              />
            </Form.Item>
          )}
          {dialog && NAMING.has(dialog.action) && (
            <Form.Item label={t("task.opinion_optional")}>
              <Input.TextArea rows={2} value={opinion} onChange={(e) => setOpinion(e.target.value)} aria-label={t("task.opinion")} />
            </Form.Item>
          )}
        </Form>
      </Modal>
      <Drawer open={drawing} onClose={() => setDrawing(false)} width="min(1200px, 96vw)" title={t("record.flow_diagram")} destroyOnHidden>
        {drawing && (
          <Suspense fallback={<Spin />}>
            <InstanceDiagram instance={view.data.instance.id} />
          </Suspense>
        )}
      </Drawer>
    </>
  );
}
