// What the flow designer does to a flow, as pure functions of its state: add a node, connect two,
// insert a node on an edge, delete with reconnect, rename, branch conditions and the default
// branch, branch order, copy and paste, positions. Each returns a new state (the same object when
// nothing changed), so undo and redo are a history of states.
import { KIND, nodeSize } from "./catalog";
import type { EdgeDef, EdgeNode, FlowState, NodeDef, NodeType, Point } from "./types";

export const ID_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export function outgoing(state: FlowState, id: string): EdgeNode[] {
  return state.edges.filter((e) => e.def.from === id);
}

export function incoming(state: FlowState, id: string): EdgeNode[] {
  return state.edges.filter((e) => e.def.to === id);
}

/** A node id not yet used: ``base`` itself when free, else ``base_2``, ``base_3`` … */
export function freshId(state: FlowState, base: string, taken: Set<string> = new Set()): string {
  const used = new Set([...state.nodes.map((n) => n.id), ...taken]);
  let stem = base.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^[^a-z]+/, "") || "node";
  stem = stem.slice(0, 56);
  if (!used.has(stem)) return stem;
  const bare = stem.replace(/_\d+$/, "");
  for (let n = 2; ; n++) {
    const id = `${bare}_${n}`;
    if (!used.has(id)) return id;
  }
}

function edgeId(state: FlowState): [string, number] {
  return [`e${state.next}`, state.next + 1];
}

export function addNode(state: FlowState, type: NodeType, at: Point): { state: FlowState; id: string | null } {
  const kind = KIND[type];
  if (!kind) return { state, id: null };
  if (kind.single && state.nodes.some((n) => n.type === type)) return { state, id: null };
  const id = freshId(state, type);
  const node: NodeDef = { id, type, ...kind.fresh() };
  return {
    state: { ...state, nodes: [...state.nodes, node], positions: { ...state.positions, [id]: { ...at } } },
    id,
  };
}

/** Why ``from`` cannot be connected to ``to``, or ``null`` when it can. */
export function connectProblem(state: FlowState, from: string, to: string): string | null {
  const source = state.nodes.find((n) => n.id === from);
  const target = state.nodes.find((n) => n.id === to);
  if (!source || !target) return "missing";
  if (from === to) return "self";
  if (!KIND[source.type]?.output) return "no_output";
  if (!KIND[target.type]?.input) return "no_input";
  if (state.edges.some((e) => e.def.from === from && e.def.to === to)) return "duplicate";
  return null;
}

/** Connects two nodes. Out of a node that does not branch, the new edge replaces its way out;
 * the first branch of an exclusive or inclusive split is its default branch. */
export function connect(state: FlowState, from: string, to: string): { state: FlowState; id: string | null } {
  if (connectProblem(state, from, to) !== null) return { state, id: null };
  const source = state.nodes.find((n) => n.id === from) as NodeDef;
  const kind = KIND[source.type];
  const existing = outgoing(state, from);
  if (!kind.branches && existing.length > 0) {
    const [first] = existing;
    const edges = state.edges
      .filter((e) => e.def.from !== from || e.id === first.id)
      .map((e) => (e.id === first.id ? { ...e, def: { ...e.def, to } } : e));
    return { state: { ...state, edges }, id: first.id };
  }
  const def: EdgeDef = { from, to };
  if (kind.conditional && !existing.some((e) => e.def.default === true)) def.default = true;
  const [id, next] = edgeId(state);
  return { state: { ...state, edges: [...state.edges, { id, def }], next }, id };
}

/** Puts a new node of ``type`` on the edge ``A → B``: ``A → new`` keeps the edge (its condition,
 * default and place among A's branches) and ``new → B`` follows (the default branch of a new
 * split). */
export function insertOnEdge(state: FlowState, edge: string, type: NodeType, at: Point): { state: FlowState; id: string | null } {
  const found = state.edges.find((e) => e.id === edge);
  const kind = KIND[type];
  if (!found || !kind || !kind.input || !kind.output || kind.single) return { state, id: null };
  const added = addNode(state, type, at);
  if (added.id === null) return { state, id: null };
  const id = added.id;
  const [nextId, next] = edgeId(added.state);
  const edges: EdgeNode[] = [];
  for (const e of added.state.edges) {
    if (e.id === edge) {
      edges.push({ ...e, def: { ...e.def, to: id } });
      // out of a new exclusive or inclusive split, the way on is its default branch
      edges.push({ id: nextId, def: kind.conditional ? { from: id, to: found.def.to, default: true } : { from: id, to: found.def.to } });
    } else edges.push(e);
  }
  return { state: makeRoom({ ...added.state, edges, next }, id), id };
}

/** Gap between a node and the next one below it. */
const GAP = 60;

/** Moves what follows a new node down by the node's height, where it would sit on top of it:
 * every node reachable from it that is not above it (a way back to an earlier node stays). */
export function makeRoom(state: FlowState, id: string): FlowState {
  const at = state.positions[id];
  const node = state.nodes.find((n) => n.id === id);
  if (!at || !node) return state;
  const shift = nodeSize(node.type).height + GAP;
  const moved: Record<string, Point> = {};
  const queue = outgoing(state, id).map((e) => e.def.to);
  const seen = new Set<string>([id]);
  while (queue.length) {
    const next = queue.shift() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    const p = state.positions[next];
    if (!p || p.y < at.y) continue;
    moved[next] = { x: p.x, y: p.y + shift };
    queue.push(...outgoing(state, next).map((e) => e.def.to));
  }
  return Object.keys(moved).length ? { ...state, positions: { ...state.positions, ...moved } } : state;
}

/** Removes nodes with their edges. A removed node that had one way in and one way out is bridged:
 * the edge in now leads where the edge out led (keeping its condition), so the flow stays
 * connected. Approvals that rejected to a removed node no longer name it. */
export function removeNodes(state: FlowState, ids: string[]): FlowState {
  const gone = new Set(ids.filter((id) => state.nodes.some((n) => n.id === id)));
  if (gone.size === 0) return state;
  let edges = state.edges;
  for (const id of gone) {
    const ins = edges.filter((e) => e.def.to === id);
    const outs = edges.filter((e) => e.def.from === id);
    if (ins.length === 1 && outs.length === 1 && outs[0].def.to !== ins[0].def.from) {
      const target = outs[0].def.to;
      const duplicate = edges.some((e) => e.def.from === ins[0].def.from && e.def.to === target);
      edges = edges
        .filter((e) => e.id !== outs[0].id && (!duplicate || e.id !== ins[0].id))
        .map((e) => (e.id === ins[0].id ? { ...e, def: { ...e.def, to: target } } : e));
    }
  }
  edges = edges.filter((e) => !gone.has(e.def.from) && !gone.has(e.def.to));
  const nodes = state.nodes.filter((n) => !gone.has(n.id)).map((n) => withoutRejectTargets(n, gone));
  const positions = Object.fromEntries(Object.entries(state.positions).filter(([id]) => !gone.has(id)));
  return { ...state, nodes, edges, positions };
}

function withoutRejectTargets(node: NodeDef, gone: Set<string>): NodeDef {
  const targets = node.reject_to;
  if (targets === undefined) return node;
  const list = Array.isArray(targets) ? targets : [targets];
  const kept = list.filter((t) => !gone.has(t));
  if (kept.length === list.length) return node;
  const { reject_to: _dropped, ...rest } = node;
  if (kept.length === 0) return rest as NodeDef;
  return { ...rest, reject_to: Array.isArray(targets) ? kept : kept[0] } as NodeDef;
}

export function removeEdges(state: FlowState, ids: string[]): FlowState {
  const gone = new Set(ids);
  const edges = state.edges.filter((e) => !gone.has(e.id));
  return edges.length === state.edges.length ? state : { ...state, edges };
}

/** Changes properties of a node; a property set to ``undefined`` is removed. */
export function updateNode(state: FlowState, id: string, patch: Partial<NodeDef>): FlowState {
  let changed = false;
  const nodes = state.nodes.map((n) => {
    if (n.id !== id) return n;
    changed = true;
    const next: Record<string, unknown> = { ...n };
    for (const [key, value] of Object.entries(patch)) {
      if (key === "id" || key === "type") continue;
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    return next as NodeDef;
  });
  return changed ? { ...state, nodes } : state;
}

/** Why ``id`` cannot become a node's id, or ``null``. */
export function idProblem(state: FlowState, current: string, id: string): string | null {
  if (!ID_PATTERN.test(id)) return "pattern";
  if (id !== current && state.nodes.some((n) => n.id === id)) return "taken";
  return null;
}

/** Renames a node and every place that names it: edges, positions, reject targets, timeouts. */
export function renameNode(state: FlowState, current: string, id: string): FlowState {
  if (current === id || idProblem(state, current, id) !== null) return state;
  const swap = (x: string) => (x === current ? id : x);
  const nodes = state.nodes.map((n) => {
    let next: NodeDef = n.id === current ? { ...n, id } : n;
    if (next.reject_to !== undefined) {
      next = { ...next, reject_to: Array.isArray(next.reject_to) ? next.reject_to.map(swap) : swap(next.reject_to) };
    }
    if (next.timeout?.node === current) next = { ...next, timeout: { ...next.timeout, node: id } };
    return next;
  });
  const edges = state.edges.map((e) =>
    e.def.from === current || e.def.to === current ? { ...e, def: { ...e.def, from: swap(e.def.from), to: swap(e.def.to) } } : e,
  );
  const positions = Object.fromEntries(Object.entries(state.positions).map(([k, v]) => [swap(k), v]));
  return { ...state, nodes, edges, positions };
}

/** Changes an edge's properties (``undefined`` removes one). */
export function updateEdge(state: FlowState, edge: string, patch: Partial<EdgeDef>): FlowState {
  let changed = false;
  const edges = state.edges.map((e) => {
    if (e.id !== edge) return e;
    changed = true;
    const def: Record<string, unknown> = { ...e.def };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete def[key];
      else def[key] = value;
    }
    return { ...e, def: def as EdgeDef };
  });
  return changed ? { ...state, edges } : state;
}

/** Makes ``edge`` its split's default branch: the one taken when no condition holds. It then has
 * no condition, and its siblings are no longer the default. */
export function setDefault(state: FlowState, edge: string): FlowState {
  const found = state.edges.find((e) => e.id === edge);
  if (!found) return state;
  const edges = state.edges.map((e) => {
    if (e.def.from !== found.def.from) return e;
    if (e.id === edge) return { ...e, def: { ...dropKey(dropKey(e.def, "condition"), "default"), default: true } };
    return e.def.default !== undefined ? { ...e, def: dropKey(e.def, "default") } : e;
  });
  return { ...state, edges };
}

function dropKey(def: EdgeDef, key: string): EdgeDef {
  const out: Record<string, unknown> = { ...def };
  delete out[key];
  return out as EdgeDef;
}

/** Moves a branch one place earlier (``-1``) or later (``+1``) among its split's branches: an
 * exclusive split tries them in this order. */
export function moveEdge(state: FlowState, edge: string, delta: -1 | 1): FlowState {
  const at = state.edges.findIndex((e) => e.id === edge);
  if (at < 0) return state;
  const from = state.edges[at].def.from;
  const siblings = state.edges.map((e, i) => [e, i] as const).filter(([e]) => e.def.from === from);
  const place = siblings.findIndex(([e]) => e.id === edge);
  const other = siblings[place + delta];
  if (!other) return state;
  const edges = [...state.edges];
  [edges[at], edges[other[1]]] = [edges[other[1]], edges[at]];
  return { ...state, edges };
}

export function moveNodes(state: FlowState, positions: Record<string, Point>): FlowState {
  const known = Object.entries(positions).filter(([id, p]) => {
    const was = state.positions[id];
    return state.nodes.some((n) => n.id === id) && (!was || was.x !== p.x || was.y !== p.y);
  });
  if (known.length === 0) return state;
  return { ...state, positions: { ...state.positions, ...Object.fromEntries(known.map(([id, p]) => [id, { x: p.x, y: p.y }])) } };
}

/** Nodes copied with the edges between them, to paste into this flow or another. */
export interface Clipboard {
  nodes: NodeDef[];
  edges: EdgeDef[];
  positions: Record<string, Point>;
}

export function copy(state: FlowState, ids: string[]): Clipboard | null {
  const chosen = new Set(ids);
  const nodes = state.nodes.filter((n) => chosen.has(n.id) && !KIND[n.type]?.single);
  if (nodes.length === 0) return null;
  const kept = new Set(nodes.map((n) => n.id));
  return {
    nodes: nodes.map((n) => structuredClone(n)),
    edges: state.edges.filter((e) => kept.has(e.def.from) && kept.has(e.def.to)).map((e) => structuredClone(e.def)),
    positions: Object.fromEntries(nodes.map((n) => [n.id, state.positions[n.id] ?? { x: 0, y: 0 }])),
  };
}

/** Pastes copied nodes under fresh ids, moved by ``offset``; returns the new ids. */
export function paste(state: FlowState, clip: Clipboard, offset: Point): { state: FlowState; ids: string[] } {
  const taken = new Set<string>();
  const rename = new Map<string, string>();
  for (const node of clip.nodes) {
    const id = freshId(state, node.id, taken);
    taken.add(id);
    rename.set(node.id, id);
  }
  const swap = (x: string) => rename.get(x) ?? x;
  const nodes = clip.nodes.map((n) => {
    const copyOf = structuredClone(n);
    copyOf.id = swap(n.id);
    if (copyOf.reject_to !== undefined) copyOf.reject_to = Array.isArray(copyOf.reject_to) ? copyOf.reject_to.map(swap) : swap(copyOf.reject_to);
    if (copyOf.timeout?.node) copyOf.timeout = { ...copyOf.timeout, node: swap(copyOf.timeout.node) };
    return copyOf;
  });
  let next = state.next;
  const edges = clip.edges.map((e) => ({ id: `e${next++}`, def: { ...structuredClone(e), from: swap(e.from), to: swap(e.to) } }));
  const positions = { ...state.positions };
  for (const node of clip.nodes) {
    const p = clip.positions[node.id] ?? { x: 0, y: 0 };
    positions[swap(node.id)] = { x: p.x + offset.x, y: p.y + offset.y };
  }
  return {
    state: { ...state, nodes: [...state.nodes, ...nodes], edges: [...state.edges, ...edges], positions, next },
    ids: nodes.map((n) => n.id),
  };
}
