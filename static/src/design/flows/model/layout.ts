// Automatic layout with elkjs (the layered algorithm, top to bottom, as approval flows read):
// for flows without positions and on demand. Positions are layout data only; the engine ignores them.
import type { ELK as Elk, ElkNode } from "elkjs/lib/elk-api";
import { nodeSize } from "./catalog";
import type { FlowState, Point } from "./types";

let engine: Promise<Elk> | null = null;

/** elkjs is large (about 1.4 MB): it loads the first time a flow is laid out, apart from the
 * designer's own code, so a flow with positions opens without it. */
function elk(): Promise<Elk> {
  engine ??= import("elkjs/lib/elk.bundled.js").then(({ default: ELK }) => new ELK());
  return engine;
}

const OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "56",
  "elk.spacing.nodeNode": "48",
  "elk.spacing.edgeNode": "24",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  // edges back to an earlier node (a resubmission, a failed acceptance) do not reorder the layers
  "elk.layered.cycleBreaking.strategy": "DEPTH_FIRST",
  "elk.edgeRouting": "ORTHOGONAL",
};

/** Positions (top-left corners) for every node, laid out from the flow's edges. */
export async function layoutPositions(state: FlowState): Promise<Record<string, Point>> {
  const ids = new Set(state.nodes.map((n) => n.id));
  const graph: ElkNode = {
    id: "flow",
    layoutOptions: OPTIONS,
    children: state.nodes.map((n) => ({ id: n.id, ...nodeSize(n.type) })),
    edges: state.edges
      .filter((e) => ids.has(e.def.from) && ids.has(e.def.to) && e.def.from !== e.def.to)
      .map((e) => ({ id: e.id, sources: [e.def.from], targets: [e.def.to] })),
  };
  const laid = await (await elk()).layout(graph);
  const out: Record<string, Point> = {};
  for (const child of laid.children ?? []) out[child.id] = { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) };
  return out;
}

/** Whether some node has no position yet (the designer lays the flow out when it opens). */
export function needsLayout(state: FlowState): boolean {
  return state.nodes.some((n) => !state.positions[n.id]);
}

/** The state with every node placed by the layout. */
export async function laidOut(state: FlowState): Promise<FlowState> {
  return { ...state, positions: await layoutPositions(state) };
}
