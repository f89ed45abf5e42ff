// The server pins each problem on a JSON pointer into the definition it checked; the flow designer
// pins it on a node or an edge: ``/nodes/3/assignees`` → node ``review``, ``/edges/5/condition``
// → the sixth edge, in ``toDefinition`` order (the state keeps the definition's order).
import type { FlowState } from "./types";

export interface Pin {
  /** The node the problem is about, if any. */
  nodeId: string | null;
  /** The edge the problem is about, if any. */
  edgeId: string | null;
  /** The property path under the node or edge (``timeout/minutes``), or under the flow. */
  property: string;
}

const unescape = (part: string) => part.replace(/~1/g, "/").replace(/~0/g, "~");

export function pinOf(state: FlowState, pointer: string): Pin {
  const parts = pointer.split("/").slice(1).map(unescape);
  const index = /^\d+$/.test(parts[1] ?? "") ? Number(parts[1]) : -1;
  if (parts[0] === "nodes" && state.nodes[index]) {
    return { nodeId: state.nodes[index].id, edgeId: null, property: parts.slice(2).join("/") };
  }
  if (parts[0] === "edges" && state.edges[index]) {
    return { nodeId: null, edgeId: state.edges[index].id, property: parts.slice(2).join("/") };
  }
  if (parts[0] === "layout" && parts[1] === "nodes" && parts[2] && state.nodes.some((n) => n.id === parts[2])) {
    return { nodeId: parts[2], edgeId: null, property: "" };
  }
  return { nodeId: null, edgeId: null, property: parts.join("/") };
}

/** The problems of each node and each edge, by id (the flow's own under ``""``). */
export function problemsByElement<P extends { path: string }>(state: FlowState, problems: P[]): Map<string, P[]> {
  const out = new Map<string, P[]>();
  for (const problem of problems) {
    const pin = pinOf(state, problem.path);
    const key = pin.nodeId ?? pin.edgeId ?? "";
    out.set(key, [...(out.get(key) ?? []), problem]);
  }
  return out;
}
