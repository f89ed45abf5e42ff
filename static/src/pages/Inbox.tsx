// 待办 / 已办 / 抄送我 / 我发起的 (and, for administrators, 无人处理: tasks nobody may act on),
// with the count of each box.
import { useQuery } from "@tanstack/react-query";
import { Badge, Card, Empty, List, Tabs, Tag, Typography } from "antd";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, type TaskItem } from "../api";
import { useLang } from "../i18n";

const BOXES = ["todo", "done", "cc", "started", "incidents"] as const;

export function Inbox() {
  const { t, lang } = useLang();
  const [box, setBox] = useState<(typeof BOXES)[number]>("todo");
  const inbox = useQuery({
    queryKey: ["inbox", box, lang],
    queryFn: () => api<{ items: TaskItem[]; counts: Record<string, number> }>("/tasks", { query: { box, lang } }),
    refetchOnMount: "always",
    refetchInterval: 30_000,
  });
  const counts = inbox.data?.counts ?? {};
  return (
    <Card>
      <Tabs
        activeKey={box}
        onChange={(key) => setBox(key as (typeof BOXES)[number])}
        items={BOXES.filter((key) => key !== "incidents" || counts.incidents !== undefined).map((key) => ({
          key,
          label: (
            <span data-testid={`box-${key}`}>
              {t(`inbox.${key}`)} <Badge count={counts[key] ?? 0} showZero={false} size="small" />
            </span>
          ),
        }))}
      />
      <List
        loading={inbox.isLoading}
        locale={{ emptyText: <Empty description={t("inbox.empty")} /> }}
        dataSource={inbox.data?.items ?? []}
        renderItem={(item) => {
          const task = item as TaskItem & { label: string; flow_label: string; form_label: string; title: string };
          const to = box === "todo" || box === "done" || box === "incidents" ? `/tasks/${task.id}` : `/apps/${task.app_key}/records/${task.form_key}/${task.record_id}`;
          return (
            <List.Item>
              <List.Item.Meta
                title={
                  <Link to={to} data-testid={`task-${task.node ?? task.flow_key}`}>
                    {task.label} · {task.form_label} #{task.record_id} {task.title}
                  </Link>
                }
                description={
                  <>
                    <Tag>{task.flow_label}</Tag>
                    {task.status && <Tag color="blue">{t(`${box === "started" ? "flow" : "task"}.status.${task.status}`, {}, String(task.status))}</Tag>}
                    <Typography.Text type="secondary">{new Date(String(task.created_at ?? task.started_at)).toLocaleString()}</Typography.Text>
                  </>
                }
              />
            </List.Item>
          );
        }}
      />
    </Card>
  );
}
