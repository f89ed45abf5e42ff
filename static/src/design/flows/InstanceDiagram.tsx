// A running (or finished) flow instance on the canvas, read-only: the version it runs on, the
// path its tokens took (green), the nodes where it waits now (blue, pulsing) with who holds each
// task and for how long. Opened from a record's flow panel; loaded only then.
import { Background, Controls, MarkerType, ReactFlow, ReactFlowProvider } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useQuery } from "@tanstack/react-query";
import { Alert, Space, Spin, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useEffect, useMemo, useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useFormSchema } from "../../values/queries";
import { useLang } from "../../i18n";
import type { ConditionField } from "../conditions/logic";
import { reading } from "../conditions/logic";
import { label } from "../data";
import { BranchEdge, FlowNodeView, type FlowEdge, type FlowNode } from "./Canvas";
import { heldFor, KIND, laidOut, needsLayout, nodeSize, outgoing, toState, traceOf, type FlowDefinition, type FlowState } from "./model";
import "./strings";

const NODE_TYPES = { flow: FlowNodeView };
const EDGE_TYPES = { branch: BranchEdge };
/** A flow taller than this (in canvas pixels) cannot be read whole: it opens on where it waits. */
const READABLE_HEIGHT = 900;

interface Holder {
  task: number;
  user: number | null;
  name: string | null;
  since: string;
}

interface Waiting {
  node: string;
  kind: "task" | "timer" | "sub_process" | "join";
  holders?: Holder[];
  until?: string | null;
}

interface Diagram {
  id: number;
  app: string;
  flow: string;
  version: number;
  form: string;
  status: string;
  /** The server's time: waiting times count to it, whatever the browser's clock says. */
  now: string;
  definition: FlowDefinition;
  path: [string, string][];
  visited: string[];
  waiting: Waiting[];
}

export default function InstanceDiagram({ instance }: { instance: number }) {
  return (
    <ReactFlowProvider>
      <Drawn instance={instance} />
    </ReactFlowProvider>
  );
}

function Drawn({ instance }: { instance: number }) {
  const { t, lang } = useLang();
  const found = useQuery({
    queryKey: ["flow-diagram", instance],
    queryFn: async () => data(await client.GET("/api/v1/flows/{instance_id}/diagram", { params: { path: { instance_id: instance } } })) as unknown as Diagram,
  });
  const diagram = found.data;
  const schema = useFormSchema(diagram?.app ?? "", diagram?.form ?? "");
  const [placed, setPlaced] = useState<{ from: Diagram; state: FlowState } | null>(null);

  // a version drawn without positions is laid out first (elkjs, loaded then)
  useEffect(() => {
    if (!diagram) return;
    let live = true;
    const state = toState(diagram.definition);
    void (needsLayout(state) ? laidOut(state) : Promise.resolve(state)).then((ready) => {
      if (live) setPlaced({ from: diagram, state: ready });
    });
    return () => {
      live = false;
    };
  }, [diagram]);

  const fields: ConditionField[] = useMemo(
    () =>
      (schema.data?.fields ?? []).map((f) => ({
        key: f.key,
        type: f.type,
        label: { "zh-CN": f.label, en: f.label },
        ...(f.options ? { options: f.options.map((o) => ({ value: o.value, label: { "zh-CN": o.label, en: o.label } })) } : {}),
      })),
    [schema.data],
  );

  const drawn = useMemo(() => {
    if (!placed) return null;
    const { state, from } = placed;
    const waitingAt = from.waiting.filter((w) => w.kind !== "join").map((w) => w.node);
    const trace = traceOf(state, from.path.length ? [from.path[0][0]] : from.visited, from.path, waitingAt);
    const byNode = new Map(from.waiting.map((w) => [w.node, w]));
    const nodes: FlowNode[] = state.nodes.map((n) => {
      const w = byNode.get(n.id);
      const lines =
        w?.kind === "task"
          ? (w.holders ?? []).map((h) => `${h.name ?? t("flow.diagram.nobody")} · ${t("flow.diagram.held", { time: heldFor(h.since, Date.parse(from.now), lang) })}`)
          : w?.kind === "timer" && w.until
            ? [t("flow.diagram.until", { at: dayjs(w.until).format("YYYY-MM-DD HH:mm") })]
            : [];
      return {
        id: n.id,
        type: "flow" as const,
        position: state.positions[n.id] ?? { x: 0, y: 0 },
        draggable: false,
        selectable: false,
        connectable: false,
        data: {
          def: n,
          lines,
          problems: [],
          lang,
          readOnly: true,
          mark: trace.waitingAt.has(n.id) ? ("current" as const) : trace.visited.has(n.id) ? ("visited" as const) : undefined,
        },
        ariaLabel: `${label(KIND[n.type]?.label, lang, n.type)}：${label(n.label, lang, n.id)}`,
      };
    });
    const edges: FlowEdge[] = state.edges.map((e) => {
      const source = state.nodes.find((n) => n.id === e.def.from);
      const conditional = source ? KIND[source.type]?.conditional : false;
      const siblings = conditional ? outgoing(state, e.def.from) : [];
      return {
        id: e.id,
        source: e.def.from,
        target: e.def.to,
        type: "branch" as const,
        selectable: false,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        data: {
          text: e.def.default ? t("design.flow.default") : e.def.condition !== undefined ? reading(e.def.condition, fields, lang) : "",
          isDefault: Boolean(e.def.default),
          order: conditional ? siblings.findIndex((s) => s.id === e.id) + 1 : null,
          problems: [],
          lang,
          taken: trace.edges.has(e.id),
        },
      };
    });
    return { nodes, edges, label: label(state.flow.label, lang, from.flow) };
  }, [placed, fields, lang, t]);

  if (found.isError) return <Alert type="error" showIcon message={problemText(found.error)} />;
  if (!drawn || !diagram) return <Spin />;
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="flow-diagram">
      <Space wrap>
        <Typography.Text strong>{drawn.label}</Typography.Text>
        <Tag>v{diagram.version}</Tag>
        <Tag color={diagram.status === "running" ? "processing" : "default"} style={{ color: diagram.status === "running" ? "#003eb3" : undefined }}>
          {t(`flow.status.${diagram.status}`, {}, diagram.status)}
        </Tag>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          <span style={{ color: "#389e0d" }}>■</span> {t("flow.diagram.passed")} <span style={{ color: "#1677ff", marginLeft: 8 }}>■</span> {t("flow.diagram.waiting")}
        </Typography.Text>
      </Space>
      <div style={{ height: "calc(100vh - 220px)", minHeight: 420, border: "1px solid #f0f0f0", borderRadius: 6 }} aria-label={t("flow.diagram.title")} data-testid="flow-diagram-canvas">
        {/* uncontrolled (React Flow keeps the nodes it measured): nothing here changes them */}
        <ReactFlow<FlowNode, FlowEdge>
          key={`${diagram.id}-${lang}`}
          defaultNodes={drawn.nodes}
          defaultEdges={drawn.edges}
          nodeTypes={NODE_TYPES}
          edgeTypes={EDGE_TYPES}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          onInit={(view) => {
            // a long flow opens on where it waits, at a size that can be read; a short one whole
            const at = drawn.nodes.find((n) => n.data.mark === "current");
            const bottom = Math.max(...drawn.nodes.map((n) => n.position.y + nodeSize(n.data.def.type).height));
            if (at && bottom > READABLE_HEIGHT) {
              const size = nodeSize(at.data.def.type);
              void view.setCenter(at.position.x + size.width / 2, at.position.y + size.height / 2, { zoom: 0.9 });
            } else void view.fitView({ padding: 0.15, maxZoom: 1 });
          }}
          minZoom={0.2}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={16} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </Space>
  );
}
