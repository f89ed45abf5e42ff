// Every node type the flow engine runs, as the palette offers it: its names, its group, what a new
// one holds, and how it connects (a start has no way in, an end no way out; splits branch).
import type { NodeDef, NodeType, Text } from "./types";

export type Group = "event" | "task" | "gateway" | "automation";

export interface NodeKind {
  type: NodeType;
  label: Text;
  /** One line for the palette's tooltip. */
  help: Text;
  group: Group;
  /** Edges may come in / go out. */
  input: boolean;
  output: boolean;
  /** Its outgoing edges are branches: conditions and a default (exclusive, inclusive). */
  conditional: boolean;
  /** It may have several outgoing edges (splits). */
  branches: boolean;
  /** Only one per flow. */
  single: boolean;
  /** The body of a new node of this kind (besides its id and type). */
  fresh: () => Partial<NodeDef>;
  /** Shape on the canvas. */
  shape: "pill" | "card" | "diamond" | "circle";
  color: string;
}

/** A kind that connects like most: a way in, a way out, no branches, any number per flow, and an
 * empty body; a kind says only where it differs. */
const kind = (k: Pick<NodeKind, "type" | "label" | "help" | "group" | "shape" | "color"> & Partial<NodeKind>): NodeKind => ({
  input: true,
  output: true,
  conditional: false,
  branches: false,
  single: false,
  fresh: () => ({}),
  ...k,
});

export const KINDS: NodeKind[] = [
  kind({
    type: "start",
    label: { "zh-CN": "发起", en: "Start" },
    help: { "zh-CN": "流程从这里开始：手动发起、记录创建时或满足条件时", en: "Where the flow starts: by hand, on a new record, or on a condition" },
    group: "event",
    input: false,
    single: true,
    fresh: () => ({ trigger: "manual" }),
    shape: "pill",
    color: "#237804",
  }),
  kind({
    type: "fill",
    label: { "zh-CN": "填写", en: "Fill in" },
    help: { "zh-CN": "指定的人填写字段（字段权限可逐个设置）", en: "Someone fills in fields (each field's permission is set)" },
    group: "task",
    fresh: () => ({ label: { "zh-CN": "填写", en: "Fill in" }, assignees: { initiator: true } }),
    shape: "card",
    color: "#0958d9",
  }),
  kind({
    type: "approval",
    label: { "zh-CN": "审批", en: "Approval" },
    help: { "zh-CN": "审批人同意或退回：会签、或签、依次审批、按比例", en: "Approvers approve or reject: all, any, in sequence, by percentage" },
    group: "task",
    fresh: () => ({ label: { "zh-CN": "审批", en: "Approval" }, mode: "single", assignees: { initiator_manager: 1 }, reject_to: "previous" }),
    shape: "card",
    color: "#d46b08",
  }),
  kind({
    type: "cc",
    label: { "zh-CN": "抄送", en: "Carbon copy" },
    help: { "zh-CN": "通知相关人员，不需处理，流程不等待", en: "Notify people; nothing to do, the flow does not wait" },
    group: "task",
    fresh: () => ({ label: { "zh-CN": "抄送", en: "Carbon copy" }, assignees: { initiator_manager: 1 } }),
    shape: "card",
    color: "#531dab",
  }),
  kind({
    type: "exclusive",
    label: { "zh-CN": "条件分支", en: "Exclusive branch" },
    help: { "zh-CN": "按顺序走第一个条件成立的分支，都不成立时走默认分支", en: "Takes the first branch whose condition holds, else the default" },
    group: "gateway",
    conditional: true,
    branches: true,
    fresh: () => ({ label: { "zh-CN": "条件分支", en: "Exclusive branch" } }),
    shape: "diamond",
    color: "#c41d7f",
  }),
  kind({
    type: "parallel_split",
    label: { "zh-CN": "并行分支", en: "Parallel split" },
    help: { "zh-CN": "同时走所有分支", en: "Takes every branch at once" },
    group: "gateway",
    branches: true,
    shape: "diamond",
    color: "#08979c",
  }),
  kind({
    type: "parallel_join",
    label: { "zh-CN": "并行汇聚", en: "Parallel join" },
    help: { "zh-CN": "等所有（或指定数量的）分支完成后继续", en: "Waits for every branch (or a number of them)" },
    group: "gateway",
    shape: "diamond",
    color: "#08979c",
  }),
  kind({
    type: "inclusive",
    label: { "zh-CN": "包容分支", en: "Inclusive split" },
    help: { "zh-CN": "走所有条件成立的分支，都不成立时走默认分支", en: "Takes every branch whose condition holds, else the default" },
    group: "gateway",
    conditional: true,
    branches: true,
    shape: "diamond",
    color: "#7c3aed",
  }),
  kind({
    type: "inclusive_join",
    label: { "zh-CN": "包容汇聚", en: "Inclusive join" },
    help: { "zh-CN": "等走过的分支都完成后继续", en: "Waits for the branches that were taken" },
    group: "gateway",
    shape: "diamond",
    color: "#7c3aed",
  }),
  kind({
    type: "timer",
    label: { "zh-CN": "等待", en: "Timer" },
    help: { "zh-CN": "等待一段时间（可按工作时间）或直到某个日期字段", en: "Waits a while (in business time if asked) or until a date field" },
    group: "automation",
    fresh: () => ({ label: { "zh-CN": "等待", en: "Timer" }, minutes: 60 }),
    shape: "circle",
    color: "#5b8c00",
  }),
  kind({
    type: "automation",
    label: { "zh-CN": "自动操作", en: "Automation" },
    help: { "zh-CN": "以流程身份执行规则动作：改字段、建记录、通知、Webhook……", en: "Runs rule actions as the flow: set fields, create records, notify, webhooks…" },
    group: "automation",
    fresh: () => ({ label: { "zh-CN": "自动操作", en: "Automation" }, actions: [] }),
    shape: "card",
    color: "#595959",
  }),
  kind({
    type: "sub_process",
    label: { "zh-CN": "子流程", en: "Sub-process" },
    help: { "zh-CN": "在关联或新建的记录上发起另一个流程，并等待其完成", en: "Starts another flow on a linked or new record and waits for it" },
    group: "automation",
    fresh: () => ({ label: { "zh-CN": "子流程", en: "Sub-process" } }),
    shape: "card",
    color: "#1d39c4",
  }),
  kind({
    type: "end",
    label: { "zh-CN": "结束", en: "End" },
    help: { "zh-CN": "本分支结束", en: "This branch ends" },
    group: "event",
    output: false,
    shape: "pill",
    color: "#434343",
  }),
  kind({
    type: "terminate_end",
    label: { "zh-CN": "终止", en: "Terminate" },
    help: { "zh-CN": "结束整个流程（所有分支）", en: "Ends the whole flow (every branch)" },
    group: "event",
    output: false,
    shape: "pill",
    color: "#a8071a",
  }),
];

export const KIND: Record<NodeType, NodeKind> = Object.fromEntries(KINDS.map((k) => [k.type, k])) as Record<NodeType, NodeKind>;

export const GROUPS: { group: Group; label: Text }[] = [
  { group: "event", label: { "zh-CN": "开始与结束", en: "Start and end" } },
  { group: "task", label: { "zh-CN": "人工节点", en: "People" } },
  { group: "gateway", label: { "zh-CN": "分支与汇聚", en: "Branches" } },
  { group: "automation", label: { "zh-CN": "自动与等待", en: "Automatic" } },
];

/** The node's size on the canvas (the layout places nodes by it). */
export function nodeSize(type: NodeType): { width: number; height: number } {
  const shape = KIND[type]?.shape ?? "card";
  if (shape === "diamond") return { width: 64, height: 64 };
  if (shape === "circle") return { width: 72, height: 72 };
  if (shape === "pill") return { width: 120, height: 44 };
  return { width: 200, height: 72 };
}

export function isKnownType(type: unknown): type is NodeType {
  return typeof type === "string" && type in KIND;
}
