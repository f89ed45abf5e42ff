// The flow definition (docs/flows.md, tangram/engines/meta/flow.schema.json) and the designer's
// state: the same nodes and edges, each edge with an id the canvas can address, and each node's
// position on the canvas (kept in the definition's ``layout``, which the engine ignores).

export type Text = { "zh-CN": string; en?: string };
export type Logic = unknown;

export type NodeType =
  | "start"
  | "fill"
  | "approval"
  | "cc"
  | "exclusive"
  | "parallel_split"
  | "parallel_join"
  | "inclusive"
  | "inclusive_join"
  | "automation"
  | "timer"
  | "sub_process"
  | "end"
  | "terminate_end";

/** One assignee rule: exactly one of its keys (docs/flows.md). */
export interface AssigneeRule {
  users?: number[];
  group?: string;
  role?: string;
  field?: string;
  initiator?: true;
  initiator_manager?: number;
  previous_actor?: true;
}

export type Permission = "editable" | "read_only" | "hidden";

export interface Timeout {
  minutes: number;
  business?: boolean;
  action?: "remind" | "escalate" | "approve" | "reject" | "goto";
  node?: string;
}

export interface Multi {
  over?: string;
  assignee_field?: string;
  mode?: "parallel" | "sequential";
  completion?: Logic;
  where?: Logic;
}

/** A node as the definition holds it: every property of the meta-schema; properties the designer
 * does not know are kept. */
export interface NodeDef {
  id: string;
  type: NodeType;
  label?: Text;
  trigger?: "manual" | "record_created" | "condition";
  condition?: Logic;
  assignees?: AssigneeRule | AssigneeRule[];
  fallback?: AssigneeRule | AssigneeRule[];
  permissions?: Record<string, Permission>;
  others?: Permission;
  /** Fields a submission or an approval must leave filled in (each editable at the node). */
  required?: string[];
  mode?: "single" | "any" | "all" | "sequential" | "percentage";
  percent?: number;
  reject_to?: string | string[];
  after_return?: "direct" | "rerun";
  timeout?: Timeout;
  multi?: Multi;
  actions?: unknown[];
  minutes?: number;
  until_field?: string;
  business?: boolean;
  /** A timer's condition on the record that ends its wait before its time. */
  ends_when?: Logic;
  flow?: string;
  record?: { form?: string; values?: Record<string, unknown>; field?: string };
  wait?: boolean | number;
  remaining?: "ignore" | "cancel";
  [property: string]: unknown;
}

export interface EdgeDef {
  from: string;
  to: string;
  condition?: Logic;
  default?: boolean;
  [property: string]: unknown;
}

export interface Point {
  x: number;
  y: number;
}

/** Where the designer drew the nodes: layout data the engine ignores. */
export interface FlowLayout {
  nodes?: Record<string, Point>;
  [property: string]: unknown;
}

/** A flow's own properties: everything but its nodes, edges and layout. */
export interface FlowMeta {
  key: string;
  label: Text;
  form: string;
  description?: Text;
  options?: { fallback?: AssigneeRule | AssigneeRule[]; [property: string]: unknown };
  [property: string]: unknown;
}

export interface FlowDefinition extends FlowMeta {
  nodes: NodeDef[];
  edges?: EdgeDef[];
  layout?: FlowLayout;
}

/** An edge in the designer: the definition's edge and an id for the canvas (``e1``, ``e2`` …;
 * the definition's edges have none). */
export interface EdgeNode {
  id: string;
  def: EdgeDef;
}

export interface FlowState {
  /** Everything but the nodes, the edges and the layout, as the definition holds it. */
  flow: FlowMeta;
  nodes: NodeDef[];
  edges: EdgeNode[];
  /** The position of each node drawn so far (a node without one is placed by the layout). */
  positions: Record<string, Point>;
  /** The definition's ``layout`` without its node positions (kept as it was). */
  layoutRest: Record<string, unknown> | null;
  /** Whether the definition had ``edges`` (a one-node flow may not). */
  hadEdges: boolean;
  /** The next number for an edge id. */
  next: number;
}
