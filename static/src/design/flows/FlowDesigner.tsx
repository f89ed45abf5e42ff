// The flow designer: a palette of every node type the engine runs, a React Flow canvas laid out by
// elkjs, and a property panel per node type. Every change is a pure operation on the designer
// state (model/), kept in an undo history; the definition it saves as goes up as the draft, and
// the engine's verdict comes back pinned on the nodes and connections it names.
import {
  ApartmentOutlined,
  CopyOutlined,
  DeleteOutlined,
  ExpandOutlined,
  PlayCircleOutlined,
  RedoOutlined,
  SnippetsOutlined,
  UndoOutlined,
} from "@ant-design/icons";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { App, Button, Card, Space, Tooltip, Typography } from "antd";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { useLang } from "../../i18n";
import { reading } from "../conditions/logic";
import { label, type Body, type Problem } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { push, redo, reset, start, undo, type History } from "../forms/model/history";
import { BranchEdge, FlowNodeView, type FlowEdge, type FlowNode } from "./Canvas";
import { conditionFields, useDirectory, useFlowForm } from "./data";
import {
  addNode,
  connect,
  connectProblem,
  copy as copyNodes,
  GROUPS,
  insertOnEdge,
  KIND,
  KINDS,
  laidOut,
  moveEdge,
  moveNodes,
  needsLayout,
  nodeSize,
  outgoing,
  paste as pasteNodes,
  pinOf,
  problemsByElement,
  removeEdges,
  removeNodes,
  renameNode,
  setDefault,
  summary,
  toDefinition,
  toState,
  updateEdge,
  updateNode,
  type Clipboard,
  type FlowDefinition,
  type FlowState,
  type NodeType,
  type Point,
  type Trace,
} from "./model";
import { EdgeProperties, FlowSettings, NodeProperties } from "./Properties";
import { Simulator } from "./Simulator";
import "./strings";

type Selection = { kind: "node" | "edge"; id: string } | null;

const DRAG_TYPE = "application/x-tangram-node";
const NODE_TYPES = { flow: FlowNodeView };
const EDGE_TYPES = { branch: BranchEdge };
/** The whole flow in view, never magnified beyond its natural size. */
const FIT = { padding: 0.15, maxZoom: 1 };
/** Below this zoom a node's words cannot be read. */
const READABLE = 0.6;

/** What was copied, kept while the designer is open in this tab (paste works across flows). */
let clipboard: Clipboard | null = null;

/** A new flow starts with its start and its end, connected. */
function seeded(state: FlowState): FlowState {
  if (state.nodes.length > 0) return state;
  let next = addNode(state, "start", { x: 40, y: 0 }).state;
  next = addNode(next, "end", { x: 40, y: 200 }).state;
  return connect(next, "start", "end").state;
}

function Palette({ onAdd }: { onAdd: (type: NodeType) => void }) {
  const { t, lang } = useLang();
  return (
    <div data-testid="flow-palette" aria-label={t("design.flow.palette")}>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t("design.flow.palette.help")}
      </Typography.Text>
      {GROUPS.map((g) => (
        <div key={g.group} style={{ marginTop: 10 }}>
          <Typography.Text strong style={{ fontSize: 12 }}>
            {label(g.label, lang)}
          </Typography.Text>
          <div style={{ display: "grid", gridTemplateColumns: "1fr", gap: 6, marginTop: 4 }}>
            {KINDS.filter((k) => k.group === g.group).map((k) => (
              <Tooltip key={k.type} title={label(k.help, lang)} placement="right">
                <button
                  type="button"
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_TYPE, k.type);
                    e.dataTransfer.effectAllowed = "move";
                  }}
                  onClick={() => onAdd(k.type)}
                  style={{
                    display: "flex",
                    alignItems: "center",
                    gap: 8,
                    width: "100%",
                    padding: "5px 8px",
                    border: "1px solid #e5e6eb",
                    borderLeft: `4px solid ${k.color}`,
                    borderRadius: 4,
                    background: "#fff",
                    cursor: "grab",
                    fontSize: 13,
                    textAlign: "left",
                  }}
                  data-testid={`flow-palette-${k.type}`}
                >
                  {label(k.label, lang)}
                </button>
              </Tooltip>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

export function FlowDesigner(props: DesignerProps) {
  return (
    <ReactFlowProvider>
      <Designer {...props} />
    </ReactFlowProvider>
  );
}

function Designer({ app, body, setBody, problems, focus }: DesignerProps) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const [history, setHistory] = useState<History<FlowState>>(() => start(seeded(toState(body as unknown as FlowDefinition))));
  const [emitted, setEmitted] = useState<Body>(body);
  const [selection, setSelection] = useState<Selection>(null);
  const [seenFocus, setSeenFocus] = useState<Problem | null>(focus);
  const [dragged, setDragged] = useState<Record<string, Point>>({});
  // sizes React Flow measured: a controlled node passed without them is "not measured yet", and
  // its edges are not drawn
  const [measured, setMeasured] = useState<Record<string, { width: number; height: number }>>({});
  const [copied, setCopied] = useState<Clipboard | null>(clipboard);
  const [simulating, setSimulating] = useState(false);
  const [trace, setTrace] = useState<Trace | null>(null);
  const laying = useRef(false);
  const state = history.present;
  const form = useFlowForm(app, typeof state.flow.form === "string" ? state.flow.form : undefined);
  const fields = useMemo(() => form.data ?? [], [form.data]);
  const condition = useMemo(() => conditionFields(fields), [fields]);
  const { groups, roles, users } = useDirectory();

  // a body from elsewhere (a reload, a restored version) starts a new history
  if (body !== emitted) {
    setEmitted(body);
    setHistory(reset(seeded(toState(body as unknown as FlowDefinition))));
  }
  // a problem picked in the list selects the element it is pinned on
  if (focus !== seenFocus) {
    setSeenFocus(focus);
    if (focus) {
      const pin = pinOf(state, focus.path);
      setSelection(pin.nodeId ? { kind: "node", id: pin.nodeId } : pin.edgeId ? { kind: "edge", id: pin.edgeId } : null);
    }
  }

  // a flow whose nodes have no positions is laid out when it opens; the layout is saved with the
  // next change (opening a flow writes nothing)
  // the view is framed when the flow first shows laid out, and after each layout
  const fitPending = useRef(true);
  useEffect(() => {
    if (!needsLayout(state) || laying.current) return;
    laying.current = true;
    void laidOut(state).then((placed) => {
      laying.current = false;
      fitPending.current = true;
      setHistory((h) => (h.present === state ? { ...h, present: placed } : h));
    });
  }, [state]);

  const emit = useCallback(
    (next: FlowState) => {
      const definition = toDefinition(next) as unknown as Body;
      setEmitted(definition);
      setBody(definition);
    },
    [setBody],
  );

  const edit = useCallback(
    (next: FlowState, tag: string | null = null) => {
      if (next === history.present) return;
      setHistory(push(history, next, tag, Date.now()));
      emit(next);
    },
    [history, emit],
  );

  const step = (to: History<FlowState>) => {
    if (to === history) return;
    setHistory(to);
    emit(to.present);
  };

  const pins = useMemo(() => problemsByElement(state, problems), [state, problems]);

  const names = useMemo(() => {
    const byKey = new Map<string, string>();
    const walk = (list: typeof fields) =>
      list.forEach((f) => {
        byKey.set(f.key, label(f.label, lang, f.key));
        if (f.fields) walk(f.fields);
      });
    walk(fields);
    return {
      field: (key: string) => byKey.get(key),
      group: (key: string) => groups.data?.find((g) => g.key === key)?.name,
      role: (key: string) => roles.data?.find((r) => r.key === key)?.name,
      user: (id: number) => users.data?.find((u) => u.id === id)?.display_name,
    };
  }, [fields, groups.data, roles.data, users.data, lang]);

  const insert = useCallback(
    (edge: string, type: NodeType) => {
      const found = state.edges.find((e) => e.id === edge);
      if (!found) return;
      const a = state.positions[found.def.from] ?? { x: 0, y: 0 };
      const b = state.positions[found.def.to] ?? { x: 0, y: 0 };
      const result = insertOnEdge(state, edge, type, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
      if (result.id) {
        edit(result.state);
        setSelection({ kind: "node", id: result.id });
      }
    },
    [state, edit],
  );

  const nodes: FlowNode[] = useMemo(
    () =>
      state.nodes.map((n) => ({
        id: n.id,
        type: "flow" as const,
        position: dragged[n.id] ?? state.positions[n.id] ?? { x: 0, y: 0 },
        ...(measured[n.id] ? { measured: measured[n.id] } : {}),
        selected: selection?.kind === "node" && selection.id === n.id,
        data: {
          def: n,
          lines: summary(n, lang, names),
          problems: (pins.get(n.id) ?? []).map((p) => p.message),
          lang,
          mark: trace?.waitingAt.has(n.id) ? ("current" as const) : trace?.visited.has(n.id) ? ("visited" as const) : undefined,
        },
        ariaLabel: `${label(KIND[n.type]?.label, lang, n.type)}：${label(n.label, lang, n.id)}`,
      })),
    [state, dragged, measured, selection, lang, names, pins, trace],
  );

  const edges: FlowEdge[] = useMemo(
    () =>
      state.edges.map((e) => {
        const source = state.nodes.find((n) => n.id === e.def.from);
        const conditional = source ? KIND[source.type]?.conditional : false;
        const siblings = conditional ? outgoing(state, e.def.from) : [];
        const text = e.def.default
          ? t("design.flow.default")
          : e.def.condition !== undefined
            ? reading(e.def.condition, condition, lang)
            : conditional
              ? t("design.flow.no_condition")
              : "";
        return {
          id: e.id,
          source: e.def.from,
          target: e.def.to,
          type: "branch" as const,
          selected: selection?.kind === "edge" && selection.id === e.id,
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          data: {
            text,
            isDefault: Boolean(e.def.default),
            order: conditional ? siblings.findIndex((s) => s.id === e.id) + 1 : null,
            problems: (pins.get(e.id) ?? []).map((p) => p.message),
            lang,
            onInsert: insert,
            taken: trace?.edges.has(e.id) ?? false,
            moving: trace?.moving === e.id,
          },
        };
      }),
    [state, selection, condition, lang, pins, insert, t, trace],
  );

  // once the laid-out nodes reached React Flow's store (its effects run before this one), the
  // whole flow is brought into view
  const canvas = useRef<HTMLDivElement>(null);
  // before the laid-out nodes are painted (a layout effect: nobody sees them unframed, and a click
  // cannot land on a node still moving there), the view is set from the nodes' own positions
  useLayoutEffect(() => {
    if (!fitPending.current || needsLayout(state) || !flow.viewportInitialized) return;
    fitPending.current = false;
    const frame = canvas.current?.getBoundingClientRect();
    if (!frame || nodes.length === 0) return;
    const boxes = nodes.map((n) => ({ ...n.position, ...(n.measured ?? nodeSize(n.data.def.type)) }));
    const left = Math.min(...boxes.map((b) => b.x));
    const top = Math.min(...boxes.map((b) => b.y));
    const width = Math.max(...boxes.map((b) => b.x + (b.width ?? 0))) - left;
    const height = Math.max(...boxes.map((b) => b.y + (b.height ?? 0))) - top;
    const whole = Math.min(1, frame.width / (width + 80), frame.height / (height + 80));
    if (whole >= READABLE) {
      void flow.setViewport({ x: frame.width / 2 - (left + width / 2) * whole, y: frame.height / 2 - (top + height / 2) * whole, zoom: whole });
      return;
    }
    // a long flow is shown from its start at a size that can be read, not shrunk to fit
    const zoom = Math.max(READABLE, Math.min(1, frame.width / (width + 80)));
    void flow.setViewport({ x: frame.width / 2 - (left + width / 2) * zoom, y: 24 - top * zoom, zoom });
  }, [nodes, state, flow, flow.viewportInitialized]);

  /** Brings a node into view, at a size that can be read. */
  const centerOn = useCallback(
    (id: string | undefined) => {
      const target = nodes.find((n) => n.id === id);
      if (!target) return;
      const size = target.measured ?? nodeSize(target.data.def.type);
      void flow.setCenter(target.position.x + (size.width ?? 0) / 2, target.position.y + (size.height ?? 0) / 2, {
        zoom: Math.max(flow.getZoom(), READABLE),
      });
    },
    [nodes, flow],
  );

  // a problem picked in the list brings its node (or its connection's source) into view
  const centered = useRef<Problem | null>(focus);
  useEffect(() => {
    if (!focus || centered.current === focus || !flow.viewportInitialized) return;
    centered.current = focus;
    const pin = pinOf(state, focus.path);
    centerOn(pin.nodeId ?? state.edges.find((e) => e.id === pin.edgeId)?.def.from);
  }, [focus, state, centerOn, flow.viewportInitialized]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const moving: Record<string, Point> = {};
      const moved: Record<string, Point> = {};
      const sized: Record<string, { width: number; height: number }> = {};
      for (const change of changes) {
        if (change.type === "position" && change.position) (change.dragging ? moving : moved)[change.id] = change.position;
        if (change.type === "dimensions" && change.dimensions) sized[change.id] = change.dimensions;
        // a node selected from the keyboard (Tab to it, then Enter) opens its properties too
        if (change.type === "select" && change.selected) setSelection({ kind: "node", id: change.id });
      }
      if (Object.keys(moving).length) setDragged((d) => ({ ...d, ...moving }));
      if (Object.keys(sized).length) setMeasured((m) => ({ ...m, ...sized }));
      // a move from the arrow keys (a drag is kept when it stops, below)
      if (Object.keys(moved).length) edit(moveNodes(state, moved), "move");
    },
    [state, edit],
  );

  const onEdgesChange = useCallback((_changes: EdgeChange<FlowEdge>[]) => undefined, []);

  const onConnect = useCallback(
    (connection: Connection) => {
      const problem = connectProblem(state, connection.source, connection.target);
      if (problem) {
        void message.warning(t(`design.flow.connect.${problem}`));
        return;
      }
      const result = connect(state, connection.source, connection.target);
      edit(result.state);
      if (result.id) setSelection({ kind: "edge", id: result.id });
    },
    [state, edit, message, t],
  );

  /** Adds a node: below the selected node, taking over its way out (or at the bottom). */
  const add = (type: NodeType, at?: Point) => {
    const kind = KIND[type];
    const selected = selection?.kind === "node" ? state.nodes.find((n) => n.id === selection.id) : undefined;
    const base = selected ? state.positions[selected.id] : undefined;
    const lowest = Math.max(0, ...Object.values(state.positions).map((p) => p.y));
    const where = at ?? (base ? { x: base.x, y: base.y + nodeSize(selected!.type).height + 60 } : { x: 40, y: lowest + 120 });
    if (!at && selected && KIND[selected.type]?.output && !KIND[selected.type]?.branches) {
      const out = outgoing(state, selected.id);
      if (out.length === 1 && kind.input && kind.output && !kind.single) {
        const result = insertOnEdge(state, out[0].id, type, where);
        if (result.id) {
          edit(result.state);
          setSelection({ kind: "node", id: result.id });
          return;
        }
      }
    }
    const result = addNode(state, type, where);
    if (!result.id) {
      void message.warning(t("design.flow.start_exists"));
      return;
    }
    let next = result.state;
    if (!at && selected && connectProblem(next, selected.id, result.id) === null) next = connect(next, selected.id, result.id).state;
    edit(next);
    setSelection({ kind: "node", id: result.id });
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    const type = e.dataTransfer.getData(DRAG_TYPE) as NodeType;
    if (!type || !KIND[type]) return;
    e.preventDefault();
    const size = nodeSize(type);
    const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    add(type, { x: at.x - size.width / 2, y: at.y - size.height / 2 });
  };

  const remove = () => {
    if (!selection) return;
    edit(selection.kind === "node" ? removeNodes(state, [selection.id]) : removeEdges(state, [selection.id]));
    setSelection(null);
  };

  const copy = () => {
    if (selection?.kind !== "node") return;
    const clip = copyNodes(state, [selection.id]);
    if (!clip) return;
    clipboard = clip;
    setCopied(clip);
    void message.success(t("design.flow.copied", { count: clip.nodes.length }));
  };

  const paste = () => {
    if (!copied) return;
    const result = pasteNodes(state, copied, { x: 40, y: 40 });
    edit(result.state);
    if (result.ids[0]) setSelection({ kind: "node", id: result.ids[0] });
  };

  const arrange = async () => {
    const placed = await laidOut(state);
    fitPending.current = true;
    edit(placed);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    if (target.closest("input, textarea, [contenteditable=true], .ant-select")) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === "z") {
      e.preventDefault();
      step(e.shiftKey ? redo(history) : undo(history));
    } else if (mod && e.key.toLowerCase() === "y") {
      e.preventDefault();
      step(redo(history));
    } else if (mod && e.key.toLowerCase() === "c") copy();
    else if (mod && e.key.toLowerCase() === "v") paste();
    else if ((e.key === "Delete" || e.key === "Backspace") && selection && target.closest(".react-flow")) {
      e.preventDefault();
      remove();
    }
  };

  const laidOutNow = !needsLayout(state);
  const selectedNode = selection?.kind === "node" ? state.nodes.find((n) => n.id === selection.id) : undefined;
  const selectedEdge = selection?.kind === "edge" ? state.edges.find((e) => e.id === selection.id) : undefined;
  const nodeProblems = selectedNode ? (pins.get(selectedNode.id) ?? []) : [];
  const edgeProblems = selectedEdge ? (pins.get(selectedEdge.id) ?? []) : [];

  return (
    <div onKeyDown={onKeyDown} style={{ display: "grid", gridTemplateColumns: "170px minmax(0, 1fr) 360px", gap: 12, alignItems: "start" }} data-testid="flow-designer">
      <Card size="small" title={t("design.flow.palette")} styles={{ body: { padding: 8 } }}>
        <Palette onAdd={(type) => add(type)} />
      </Card>
      <Card
        size="small"
        styles={{ body: { padding: 0 } }}
        title={
          <Space wrap size={4}>
            <Tooltip title={`${t("design.flow.undo")} (Ctrl+Z)`}>
              <Button size="small" icon={<UndoOutlined />} disabled={!history.past.length} onClick={() => step(undo(history))} aria-label={t("design.flow.undo")} data-testid="flow-undo" />
            </Tooltip>
            <Tooltip title={`${t("design.flow.redo")} (Ctrl+Y)`}>
              <Button size="small" icon={<RedoOutlined />} disabled={!history.future.length} onClick={() => step(redo(history))} aria-label={t("design.flow.redo")} data-testid="flow-redo" />
            </Tooltip>
            <Button size="small" icon={<ApartmentOutlined />} onClick={() => void arrange()} data-testid="flow-arrange">
              {t("design.flow.layout")}
            </Button>
            <Tooltip title={t("design.flow.fit")}>
              <Button size="small" icon={<ExpandOutlined />} onClick={() => void flow.fitView(FIT)} aria-label={t("design.flow.fit")} />
            </Tooltip>
            <Tooltip title={`${t("design.flow.copy")} (Ctrl+C)`}>
              <Button size="small" icon={<CopyOutlined />} disabled={selection?.kind !== "node"} onClick={copy} aria-label={t("design.flow.copy")} />
            </Tooltip>
            <Tooltip title={`${t("design.flow.paste")} (Ctrl+V)`}>
              <Button size="small" icon={<SnippetsOutlined />} disabled={!copied} onClick={paste} aria-label={t("design.flow.paste")} />
            </Tooltip>
            <Tooltip title={`${t("design.flow.delete")} (Delete)`}>
              <Button size="small" danger icon={<DeleteOutlined />} disabled={!selection} onClick={remove} aria-label={t("design.flow.delete")} data-testid="flow-delete" />
            </Tooltip>
            <Button
              size="small"
              type={simulating ? "primary" : "default"}
              icon={<PlayCircleOutlined />}
              onClick={() => setSimulating((on) => !on)}
              aria-pressed={simulating}
              data-testid="flow-simulate"
            >
              {t("design.flow.sim.open")}
            </Button>
          </Space>
        }
      >
        <div
          ref={canvas}
          style={{ height: "calc(100vh - 260px)", minHeight: 480 }}
          onDragOver={(e) => e.preventDefault()}
          onDrop={onDrop}
          aria-label={t("design.flow.canvas")}
          aria-busy={!laidOutNow}
          data-state={laidOutNow ? "ready" : "laying-out"}
          data-testid="flow-canvas"
        >
          <ReactFlow<FlowNode, FlowEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            edgeTypes={EDGE_TYPES}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onNodeClick={(_, node) => setSelection({ kind: "node", id: node.id })}
            onEdgeClick={(_, edge) => setSelection({ kind: "edge", id: edge.id })}
            onPaneClick={() => setSelection(null)}
            onNodeDragStop={(_, _node, moved) => {
              edit(moveNodes(state, Object.fromEntries(moved.map((n) => [n.id, n.position]))), "move");
              setDragged({});
            }}
            deleteKeyCode={null}
            minZoom={0.2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={16} />
            <MiniMap pannable zoomable ariaLabel={lang === "en" ? "Mini map" : "缩略图"} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      </Card>
      {simulating ? (
        <Simulator
          app={app}
          state={state}
          fields={fields}
          condition={condition}
          onTrace={setTrace}
          onFocus={(id) => {
            setSelection({ kind: "node", id });
            centerOn(id);
          }}
          onClose={() => setSimulating(false)}
        />
      ) : (
      <Card size="small" styles={{ body: { maxHeight: "calc(100vh - 220px)", overflow: "auto" } }} data-testid="flow-properties">
        {selectedNode ? (
          <NodeProperties
            key={selectedNode.id}
            app={app}
            node={selectedNode}
            state={state}
            fields={fields}
            problems={nodeProblems}
            onPatch={(patch, tag) => edit(updateNode(state, selectedNode.id, patch), tag ?? null)}
            onRename={(id) => {
              edit(renameNode(state, selectedNode.id, id));
              setSelection({ kind: "node", id });
            }}
          />
        ) : selectedEdge ? (
          <EdgeProperties
            key={selectedEdge.id}
            edge={selectedEdge}
            state={state}
            fields={condition}
            problems={edgeProblems}
            onPatch={(patch) => edit(updateEdge(state, selectedEdge.id, patch))}
            onDefault={() => edit(setDefault(state, selectedEdge.id))}
            onMove={(delta) => edit(moveEdge(state, selectedEdge.id, delta))}
          />
        ) : (
          <FlowSettings app={app} state={state} fields={fields} onPatch={(patch) => edit({ ...state, flow: { ...state.flow, ...patch } })} />
        )}
      </Card>
      )}
    </div>
  );
}
