// One task: the record with the node's field permissions, and the actions the node allows.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { App, Button, Card, Descriptions, Input, InputNumber, Result, Select, Space, Spin, Tag, Timeline, Typography } from "antd";
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, ApiError, type TaskItem } from "../api";
import { RecordForm, serverErrors, useFormSchema, writable, type Permissions } from "../forms";
import { useLang } from "../i18n";

interface TaskView {
  task: TaskItem & { instance_id: number; outcome: string | null };
  record: { id: number; data: Record<string, unknown> };
  permissions: Permissions;
  actions: string[];
  reject_to: string[];
  label: Record<string, string>;
  history: { node: string; actor: number | null; action: string; opinion?: string | null }[];
}

export function TaskPage() {
  const { taskId = "" } = useParams();
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const view = useQuery({ queryKey: ["task", taskId], queryFn: () => api<TaskView>(`/tasks/${taskId}`) });
  const app = view.data?.task.app_key ?? "";
  const form = view.data?.task.form_key ?? "";
  const schema = useFormSchema(app, form);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [opinion, setOpinion] = useState("");
  const [target, setTarget] = useState<string | undefined>();
  const [user, setUser] = useState<number | null>(null);
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    if (view.data) setData(view.data.record.data);
  }, [view.data]);
  if (view.isError) return <Result status="error" title={t("common.error")} subTitle={String(view.error)} />;
  if (!view.data || !schema.data) return <Spin />;
  const { task, permissions, actions } = view.data;
  const open = task.status === "open";
  const act = async (action: string) => {
    setBusy(action);
    setErrors(undefined);
    try {
      const body: Record<string, unknown> = { opinion };
      if (action === "submit" || action === "approve") body.data = writable(schema.data, data, permissions);
      if (action === "reject" && target) body.target = target;
      if ((action === "transfer" || action === "add_signer") && user) body.user = user;
      await api(`/tasks/${taskId}/${action}`, { body });
      message.success(t("task.done"));
      await queries.invalidateQueries({ queryKey: ["inbox"] });
      await queries.invalidateQueries({ queryKey: ["inbox-counts"] });
      navigate("/inbox");
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) setErrors(serverErrors(error.errors));
      if (error instanceof ApiError && error.status === 409) {
        message.warning(t("task.taken"));
        await view.refetch();
      } else message.error(error instanceof Error ? error.message : t("common.error"));
    } finally {
      setBusy(null);
    }
  };
  const label = view.data.label[lang] ?? view.data.label["zh-CN"] ?? task.node;
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle">
      <Card title={`${label} · ${schema.data.label} #${task.record_id}`} extra={<Tag>{task.status}</Tag>}>
        <RecordForm
          app={app}
          schema={schema.data}
          data={data}
          onChange={setData}
          errors={errors}
          permissions={permissions}
          readOnly={!open}
        />
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
            {actions.includes("reject") && view.data.reject_to.length > 0 && (
              <Select
                placeholder={t("task.target")}
                value={target}
                onChange={setTarget}
                allowClear
                style={{ minWidth: 200 }}
                options={view.data.reject_to.map((r) => ({ value: r, label: r }))}
                data-testid="reject-target"
              />
            )}
            {(actions.includes("transfer") || actions.includes("add_signer")) && (
              <InputNumber placeholder={t("task.user")} min={1} value={user} onChange={setUser} />
            )}
            <Space wrap>
              {["submit", "approve", "reject", "transfer", "add_signer", "comment"]
                .filter((a) => actions.includes(a))
                .map((a) => (
                  <Button
                    key={a}
                    type={a === "submit" || a === "approve" ? "primary" : "default"}
                    danger={a === "reject"}
                    loading={busy === a}
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
          <Descriptions.Item label="flow">{task.flow_key}</Descriptions.Item>
        </Descriptions>
        <Timeline
          items={view.data.history.map((h) => ({
            content: (
              <Typography.Text>
                {h.node} · {h.action} {h.actor ? `#${h.actor}` : ""} {h.opinion ? `“${h.opinion}”` : ""}
              </Typography.Text>
            ),
          }))}
        />
      </Card>
    </Space>
  );
}
