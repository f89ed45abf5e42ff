// A record with its timeline: field changes, the flow's path with who holds it now, rule traces.
import { ApartmentOutlined, EditOutlined, PrinterOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Collapse, Descriptions, Drawer, Popconfirm, Row, Space, Spin, Tag, Typography } from "antd";
import { lazy, Suspense, useDeferredValue, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, type Navigation, type RecordItem } from "../api";
import { show } from "../values/format";
import { useFormSchema, usePeopleNames } from "../values/queries";
import { RecordDocument } from "../document/RecordDocument";
import { CommentsCard } from "../comments/CommentsCard";
import { RelatedCard } from "../related/RelatedCard";
import { RecordKpis } from "../related/RecordKpis";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { canDesign } from "../design/access";
import { useSession } from "../session";
import { FlowHistory, nodeLabel } from "../flows";
import { describeEntry, entryActorKey, entryPeople, entryTitleKey, type Entry, type Words } from "../timeline";
import { DANGER_INK } from "../ink";

/** The timeline: a plain list (newest first), each entry marked by a coloured rule at its start
(rules purple, the flow's steps blue, edits grey). */
const TIMELINE = { listStyle: "none", margin: 0, padding: 0 } as const;
const ENTRY = { borderInlineStart: "3px solid", paddingInlineStart: 12, paddingBlock: 2, marginBottom: 14 } as const;

/** The instance on the flow's canvas (React Flow and the designer's canvas: loaded when opened). */
const InstanceDiagram = lazy(() => import("../design/flows/InstanceDiagram"));


interface FlowView {
  id: number;
  flow: string;
  version: number;
  status: string;
  current: string[];
  holders: { task: number; node: string; assignee: number | null }[];
  initiator: number | null;
  label: string;
  nodes: Record<string, Record<string, string>>;
  history: { node: string; actor: number | null; action: string; opinion?: string | null; at?: string }[];
}

/** Where each of the record's flows stands and who holds it; its initiator may withdraw or urge. */
function FlowsCard(props: { app: string; flows: FlowView[] | undefined; loading: boolean; onChanged: () => void }) {
  const { t, lang } = useLang();
  const { me } = useSession();
  const { message } = App.useApp();
  const [busy, setBusy] = useState<string | null>(null);
  const [drawing, setDrawing] = useState<number | null>(null);
  const name = usePeopleNames(props.app, (props.flows ?? []).flatMap((f) => f.holders.map((h) => h.assignee))).user;
  const run = async (id: number, action: "withdraw" | "urge") => {
    setBusy(`${id}.${action}`);
    try {
      await api(`/flows/${id}/${action}`, { body: {} });
      message.success(t(action === "urge" ? "task.urged" : "task.withdrawn"));
      props.onChanged();
    } catch (error) {
      message.error(error instanceof Error ? error.message : t("common.error"));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Card title={t("record.flows")} style={{ marginBottom: 16 }} loading={props.loading}>
      {(props.flows ?? []).map((f) => {
        const running = f.status === "running";
        const mine = running && me !== null && f.initiator === me.id;
        return (
          <div key={f.id} style={{ marginBottom: 12 }} data-testid={`flow-${f.flow}`}>
            <Descriptions size="small" column={1} title={`${f.label || f.flow} · v${f.version}`}>
              <Descriptions.Item label={t("flow.status")}>
                <Tag color={running ? "processing" : "default"} style={running ? { color: "#003eb3" } : undefined}>
                  {t(`flow.status.${f.status}`, {}, f.status)}
                </Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t("flow.holders")}>
                {f.holders.map((h) => `${nodeLabel(f.nodes, h.node, lang)} · ${name(h.assignee)}`).join("，") ||
                  f.current.map((n) => nodeLabel(f.nodes, n, lang)).join("，") ||
                  "—"}
              </Descriptions.Item>
            </Descriptions>
            <Space style={{ marginBottom: 8 }} wrap>
              <Button size="small" icon={<ApartmentOutlined />} onClick={() => setDrawing(f.id)} data-testid="flow-diagram-open">
                {t("record.flow_diagram")}
              </Button>
              {mine && (
                <>
                  <Button size="small" loading={busy === `${f.id}.urge`} onClick={() => run(f.id, "urge")} data-testid="flow-urge">
                    {t("task.urge")}
                  </Button>
                  <Popconfirm title={t("task.withdraw_confirm")} onConfirm={() => run(f.id, "withdraw")}>
                    <Button size="small" danger style={DANGER_INK} loading={busy === `${f.id}.withdraw`} data-testid="flow-withdraw">
                      {t("task.withdraw")}
                    </Button>
                  </Popconfirm>
                </>
              )}
            </Space>
            <Collapse
              size="small"
              items={[{ key: "history", label: `${t("record.history")} (${f.history.length})`, children: <FlowHistory app={props.app} history={f.history} nodes={f.nodes} /> }]}
            />
          </div>
        );
      })}
      <Drawer open={drawing !== null} onClose={() => setDrawing(null)} width="min(1200px, 96vw)" title={t("record.flow_diagram")} destroyOnHidden>
        {drawing !== null && (
          <Suspense fallback={<Spin />}>
            <InstanceDiagram instance={drawing} />
          </Suspense>
        )}
      </Drawer>
    </Card>
  );
}

export function RecordDetail() {
  const { app = "", form = "", recordId = "" } = useParams();
  const { t, lang } = useLang();
  const { me } = useSession();
  const queries = useQueryClient();
  const schema = useFormSchema(app, form);
  const base = `/apps/${app}/records/${form}/${recordId}`;
  const record = useQuery({ queryKey: ["record", app, form, recordId], queryFn: () => api<RecordItem>(base) });
  const timeline = useQuery({ queryKey: ["timeline", app, form, recordId], queryFn: () => api<Entry[]>(`${base}/timeline`) });
  const flows = useQuery({
    queryKey: ["flows", app, form, recordId, lang],
    queryFn: () => api<FlowView[]>(`${base}/flows`, { query: { lang } }),
  });
  usePageTitle(schema.data && record.data ? `${schema.data.label} #${record.data.id}` : undefined);
  const refresh = () => {
    void queries.invalidateQueries({ queryKey: ["flows", app, form, recordId] });
    void queries.invalidateQueries({ queryKey: ["timeline", app, form, recordId] });
    void queries.invalidateQueries({ queryKey: ["record", app, form, recordId] });
    void queries.invalidateQueries({ queryKey: ["inbox"] });
  };
  const byFlow = new Map((flows.data ?? []).map((f) => [f.flow, f]));
  const fields = schema.data?.fields ?? [];
  const people = usePeopleNames(app, entryPeople(timeline.data ?? [], fields));
  // the app's forms by name (the frame has read them already)
  const navigation = useQuery({
    queryKey: ["navigation", app, lang],
    queryFn: () => api<Navigation>(`/apps/${app}/navigation`, { query: { lang } }),
    retry: false,
  });
  const words: Words = {
    because: (why, what) => (why ? t("timeline.because", { why, what }) : t("timeline.set", { what })),
    becauseOnly: (why, done) => (why ? t("timeline.because_only", { why, done }) : done),
    failed: (why) => t("timeline.failed", { why }),
    empty: "∅",
    value: (field, value) => {
      if (typeof value === "number" && field?.type === "user") return people.user(value);
      if (typeof value === "number" && field?.type === "group") return people.group(value);
      if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
      return show(field, value);
    },
    flow: (key) => byFlow.get(key)?.label ?? key,
    node: (flow, node) => nodeLabel(byFlow.get(flow)?.nodes, node, lang),
    action: (action) => t(`flow.${action}`, {}, action),
    form: (key) => navigation.data?.forms.find((f) => f.key === key)?.label ?? key,
    person: (id) => people.user(id),
    say: (key, values) => t(key, values),
  };
  const designer = canDesign(me, app);
  // the document first; the flows, the timeline and the comments in a transition after it (in
  // slices between which the browser paints and answers input, not in one long task)
  const later = useDeferredValue(Boolean(record.data && schema.data), false);
  if (record.isError) return <Failure error={record.error} what={t("failure.record")} />;
  if (!record.data || !schema.data) return <Spin />;
  const title = schema.data.title_field ? String(record.data.data[schema.data.title_field] ?? "") : "";
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={15}>
        <Card
          title={`${schema.data.label} #${record.data.id} ${title}`}
          extra={
            <Space>
              <Button icon={<PrinterOutlined />} onClick={() => window.print()} data-testid="print-record">
                {t("record.print")}
              </Button>
              {schema.data.can.update && (
                <Link to={`${`/apps/${app}/records/${form}/${recordId}`}/edit`}>
                  <Button icon={<EditOutlined />}>{t("record.edit")}</Button>
                </Link>
              )}
            </Space>
          }
        >
          <RecordDocument app={app} schema={schema.data} data={record.data.data} />
        </Card>
        {later && <RecordKpis app={app} form={form} recordId={record.data.id} />}
        {later && <RelatedCard app={app} form={form} recordId={record.data.id} />}
        {later && <CommentsCard app={app} form={form} recordId={record.data.id} publicSide={schema.data.public_fields != null} />}
      </Col>
      <Col xs={24} xl={9}>
        <FlowsCard app={app} flows={flows.data} loading={flows.isLoading || !later} onChanged={refresh} />
        <Card title={t("record.timeline")} loading={timeline.isLoading || !later} data-print="hide" data-testid="timeline-card">
          <ol data-testid="timeline" style={TIMELINE}>
            {[...(timeline.data ?? [])].reverse().map((e) => (
              <li
                key={e.id}
                data-testid={`timeline-${e.action}`}
                style={{ ...ENTRY, borderInlineStartColor: e.action === "record.customer_replied" ? "#d46b08" : e.action.startsWith("rule") ? "#722ed1" : e.action.startsWith("flow") || e.action.startsWith("task") ? "#1961d8" : "#bfbfbf" }}
              >
                <Typography.Text strong>{t(entryTitleKey(e), {}, e.action)}</Typography.Text>{" "}
                <Typography.Text type="secondary">
                  {new Date(e.at).toLocaleString()} · {entryActorKey(e) ? t(entryActorKey(e)!) : e.actor}
                </Typography.Text>
                <div>{describeEntry(e, schema.data.fields, words)}</div>
                {(e.action === "rule.fired" || e.action === "rule.failed") && typeof e.payload.rule === "string" && designer && (
                  <Link to={`/design/${app}/rules/${e.payload.rule}?trace=${form}.${recordId}.${e.id}`} data-testid={`trace-${e.payload.rule}`}>
                    {t("record.trace.open")}
                  </Link>
                )}
              </li>
            ))}
          </ol>
        </Card>
      </Col>
    </Row>
  );
}
