// Definition ↔ designer state. ``toDefinition(toState(d))`` equals ``d`` (up to key order): every
// property of every node and edge is kept, the order of nodes and of edges is kept (an exclusive
// split takes the first edge whose condition holds), and a flow without a layout stays without one
// until a node is placed.
import type { EdgeDef, FlowDefinition, FlowState, NodeDef, Point } from "./types";

function isPoint(value: unknown): value is Point {
  if (typeof value !== "object" || value === null) return false;
  const { x, y } = value as Record<string, unknown>;
  return typeof x === "number" && Number.isFinite(x) && typeof y === "number" && Number.isFinite(y);
}

export function toState(definition: FlowDefinition): FlowState {
  const { nodes, edges, layout, ...flow } = definition;
  const positions: Record<string, Point> = {};
  let layoutRest: Record<string, unknown> | null = null;
  if (layout !== undefined && layout !== null && typeof layout === "object") {
    const { nodes: placed, ...rest } = layout;
    layoutRest = { ...rest };
    if (placed && typeof placed === "object") {
      for (const [id, point] of Object.entries(placed)) if (isPoint(point)) positions[id] = { x: point.x, y: point.y };
    }
  }
  const list = Array.isArray(edges) ? edges : [];
  return {
    flow,
    nodes: (Array.isArray(nodes) ? nodes : []).map((n) => ({ ...n })),
    edges: list.map((e, i) => ({ id: `e${i + 1}`, def: { ...e } })),
    positions,
    layoutRest,
    hadEdges: edges !== undefined,
    next: list.length + 1,
  };
}

/** The positions worth keeping: those of nodes that exist, rounded to whole pixels. */
function placed(state: FlowState): Record<string, Point> {
  const out: Record<string, Point> = {};
  for (const node of state.nodes) {
    const point = state.positions[node.id];
    if (point) out[node.id] = { x: Math.round(point.x), y: Math.round(point.y) };
  }
  return out;
}

export function toDefinition(state: FlowState): FlowDefinition {
  const out = { ...state.flow, nodes: state.nodes.map((n) => ({ ...n })) } as FlowDefinition;
  if (state.hadEdges || state.edges.length > 0) out.edges = state.edges.map((e): EdgeDef => ({ ...e.def }));
  const positions = placed(state);
  if (state.layoutRest !== null || Object.keys(positions).length > 0) {
    out.layout = { ...(state.layoutRest ?? {}), ...(Object.keys(positions).length > 0 ? { nodes: positions } : {}) };
  }
  return out;
}

/** The definition without its layout: what the engine runs (a layout-only change changes nothing). */
export function semantic(definition: FlowDefinition): FlowDefinition {
  const { layout: _layout, ...rest } = definition;
  return rest;
}

export function nodeById(state: FlowState, id: string): NodeDef | undefined {
  return state.nodes.find((n) => n.id === id);
}
