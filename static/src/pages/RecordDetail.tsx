// A record with its timeline: field changes, the flow's path with who holds it now, rule traces.
import { EditOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Button, Card, Col, Descriptions, Result, Row, Spin, Tag, Timeline, Typography } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, type RecordItem } from "../api";
import { RecordForm, useFormSchema } from "../forms";
import { useLang } from "../i18n";

interface Entry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  payload: Record<string, unknown>;
}

interface FlowView {
  id: number;
  flow: string;
  version: number;
  status: string;
  current: string[];
  holders: { task: number; node: string; assignee: number | null }[];
  history: { node: string; actor: number | null; action: string; opinion?: string | null; at?: string }[];
}

function describe(entry: Entry): string {
  const p = entry.payload;
  if (entry.action === "rule.fired") {
    const effects = (p.effects as string[] | undefined)?.join("; ") ?? "";
    const because = p.because ? ` (${p.because})` : "";
    return `${p.rule}${because}: ${effects}`;
  }
  if (entry.action === "record.created" || entry.action === "record.updated") {
    const changes = Object.entries((p.changes as Record<string, [unknown, unknown]>) ?? {});
    return changes.map(([k, [a, b]]) => `${k}: ${a ?? "∅"} → ${b ?? "∅"}`).join(", ");
  }
  if (entry.action.startsWith("flow.") || entry.action.startsWith("task.")) {
    const steps = (p.steps as { node: string; action: string }[] | undefined) ?? [];
    return [p.flow, ...steps.map((s) => `${s.node} ${s.action}`), p.opinion].filter(Boolean).join(" · ");
  }
  if (entry.action === "record.commented") return String(p.text ?? "");
  return Object.entries(p)
    .filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}

export function RecordDetail() {
  const { app = "", form = "", recordId = "" } = useParams();
  const { t } = useLang();
  const schema = useFormSchema(app, form);
  const base = `/apps/${app}/records/${form}/${recordId}`;
  const record = useQuery({ queryKey: ["record", app, form, recordId], queryFn: () => api<RecordItem>(base) });
  const timeline = useQuery({ queryKey: ["timeline", app, form, recordId], queryFn: () => api<Entry[]>(`${base}/timeline`) });
  const flows = useQuery({ queryKey: ["flows", app, form, recordId], queryFn: () => api<FlowView[]>(`${base}/flows`) });
  if (record.isError) return <Result status="error" title={t("common.error")} subTitle={String(record.error)} />;
  if (!record.data || !schema.data) return <Spin />;
  const title = schema.data.title_field ? String(record.data.data[schema.data.title_field] ?? "") : "";
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={15}>
        <Card
          title={`${schema.data.label} #${record.data.id} ${title}`}
          extra={
            schema.data.can.update && (
              <Link to={`${`/apps/${app}/records/${form}/${recordId}`}/edit`}>
                <Button icon={<EditOutlined />}>{t("record.edit")}</Button>
              </Link>
            )
          }
        >
          <RecordForm app={app} schema={schema.data} data={record.data.data} readOnly />
        </Card>
      </Col>
      <Col xs={24} xl={9}>
        <Card title={t("record.flows")} style={{ marginBottom: 16 }} loading={flows.isLoading}>
          {(flows.data ?? []).map((f) => (
            <Descriptions key={f.id} size="small" column={1} title={`${f.flow} v${f.version}`}>
              <Descriptions.Item label="status">
                <Tag color={f.status === "running" ? "processing" : "default"}>{f.status}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label="→">
                {f.holders.map((h) => `${h.node} (#${h.assignee ?? "?"})`).join(", ") || f.current.join(", ") || "—"}
              </Descriptions.Item>
            </Descriptions>
          ))}
        </Card>
        <Card title={t("record.timeline")} loading={timeline.isLoading}>
          <Timeline
            data-testid="timeline"
            items={[...(timeline.data ?? [])].reverse().map((e) => ({
              color: e.action.startsWith("rule") ? "purple" : e.action.startsWith("flow") || e.action.startsWith("task") ? "blue" : "gray",
              content: (
                <div>
                  <Typography.Text strong>{e.action}</Typography.Text>{" "}
                  <Typography.Text type="secondary">
                    {new Date(e.at).toLocaleString()} · {e.actor}
                  </Typography.Text>
                  <div>
                    <Typography.Text>{describe(e)}</Typography.Text>
                  </div>
                </div>
              ),
            }))}
          />
        </Card>
      </Col>
    </Row>
  );
}
