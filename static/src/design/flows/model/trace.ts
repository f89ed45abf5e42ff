// A path through the flow drawn on the canvas — a simulation's, or a running instance's — and a
// simulation told as a story: which nodes the token went through, which connections it took,
// where it waits now, and each step in words ("金额 = 52,000，「金额 大于 50000」成立 → 总监审批").
import { reading, valueName, type ConditionField } from "../../conditions/logic";
import { KIND } from "./catalog";
import { text, type Lang } from "./summary";
import type { FlowState } from "./types";

/** What the canvas marks: nodes passed, nodes waiting now, connections taken, the connection
 * the token is moving along. */
export interface Trace {
  visited: Set<string>;
  waitingAt: Set<string>;
  edges: Set<string>;
  moving: string | null;
}

export const NO_TRACE: Trace = { visited: new Set(), waitingAt: new Set(), edges: new Set(), moving: null };

/** The canvas id of the connection from ``from`` to ``to`` (a jump back that follows no
 * connection has none). */
export function edgeBetween(state: FlowState, from: string, to: string): string | undefined {
  return state.edges.find((e) => e.def.from === from && e.def.to === to)?.id;
}

/** The trace of a path: ``pairs`` are the moves in order (from, to); only the first ``shown`` of
 * them are drawn (a path played move by move), the last one drawn moving. */
export function traceOf(state: FlowState, start: string[], pairs: [string, string][], current: string[], shown = pairs.length): Trace {
  const visited = new Set(start);
  const edges = new Set<string>();
  let moving: string | null = null;
  pairs.slice(0, shown).forEach(([from, to], i) => {
    visited.add(from);
    visited.add(to);
    const id = edgeBetween(state, from, to);
    if (id) edges.add(id);
    if (i === shown - 1) moving = id ?? null;
  });
  const done = shown >= pairs.length;
  return { visited, waitingAt: done ? new Set(current) : new Set(), edges, moving: done ? null : moving };
}

/** A decision the simulation plays. */
export interface Decision {
  action: "approve" | "submit" | "reject" | "return" | "timeout" | "continue";
  node?: string | null;
  user?: number | null;
  target?: string | null;
  opinion?: string;
  values?: Record<string, unknown>;
}

export interface SimStep {
  kind: "started" | "enter" | "condition" | "decision" | "ended";
  node?: string;
  from?: string | null;
  source?: string;
  target?: string;
  holds?: boolean;
  values?: Record<string, unknown>;
  initiator?: number | null;
  at?: string;
  tasks?: { id: string; user: number | null; status: string; due?: string }[];
  cc?: number[];
  actions?: { type: string; params: Record<string, unknown> }[];
  sub_process?: { flow: string; wait: boolean };
  until?: string;
  notify?: { kind: string; users: number[]; assignee?: number | null }[];
  action?: string;
  user?: number | null;
  opinion?: string;
  outcome?: string | null;
  status?: string;
  decision?: number;
}

export interface OpenTask {
  task: string;
  node: string;
  kind: string;
  user: number | null;
  actions: Decision["action"][];
  reject_to: string[];
  due: string | null;
  timeout: string | null;
}

export interface Simulation {
  flow: string;
  form: string;
  record: number | null;
  status: string;
  played: number;
  steps: SimStep[];
  path: string[];
  edges: [string, string][];
  open: OpenTask[];
  waiting: { node: string; kind: string; at?: string | null; children?: number }[];
  problem: { decision: number | null; code: string; message: string } | null;
  users: Record<string, string>;
}

/** The nodes a simulation waits at when it stops. */
export function waitingNodes(sim: Simulation): string[] {
  return [...new Set([...sim.open.map((t) => t.node), ...sim.waiting.filter((w) => w.kind !== "join").map((w) => w.node)])];
}

/** The trace of a simulation, its first ``shown`` moves drawn. */
export function simulationTrace(state: FlowState, sim: Simulation, shown?: number): Trace {
  return traceOf(state, sim.path.slice(0, 1), sim.edges, waitingNodes(sim), shown);
}

export interface StoryLine {
  key: string;
  kind: SimStep["kind"] | "problem";
  node?: string;
  text: string;
  detail?: string;
  tone: "success" | "error" | "warning" | "info" | "default";
}

const zh = (lang: Lang, zhText: string, en: string) => (lang === "en" ? en : zhText);
const ACTIONS: Record<string, [string, string]> = {
  approve: ["同意", "approves"],
  submit: ["提交", "submits"],
  reject: ["驳回", "rejects"],
  return: ["退回", "returns"],
  timeout: ["超时", "time limit ran out"],
  continue: ["时间到 / 子流程结束", "time is up / sub-process ended"],
};
const TIMEOUTS: Record<string, [string, string]> = {
  remind: ["提醒处理人", "the holder is reminded"],
  escalate: ["升级给上级", "escalated to the manager"],
  approve: ["自动同意", "approved automatically"],
  reject: ["自动驳回", "rejected automatically"],
  goto: ["跳转", "goes to another node"],
};
const ENDINGS: Record<string, [string, string]> = {
  completed: ["流程结束（完成）", "The flow completed"],
  terminated: ["流程终止", "The flow was terminated"],
  cancelled: ["流程已取消", "The flow was cancelled"],
};

export function actionName(action: string, lang: Lang): string {
  const found = ACTIONS[action];
  return found ? found[lang === "en" ? 1 : 0] : action;
}

/** A simulation as lines people read, in order. */
export function story(sim: Simulation, state: FlowState, fields: ConditionField[], lang: Lang): StoryLine[] {
  const who = (id: number | null | undefined) => (id === null || id === undefined ? zh(lang, "（无人）", "(nobody)") : (sim.users[String(id)] ?? `#${id}`));
  const people = (ids: (number | null)[]) => ids.map(who).join(lang === "en" ? ", " : "、");
  const nodeName = (id: string | undefined) => {
    const found = state.nodes.find((n) => n.id === id);
    return found ? text(found.label, lang, text(KIND[found.type]?.label, lang, found.id)) : (id ?? "");
  };
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const fieldName = (key: string) => text(byKey.get(key)?.label, lang, key);
  const lines: StoryLine[] = [];
  sim.steps.forEach((s, i) => {
    const key = `${i}`;
    if (s.kind === "started") {
      lines.push({ key, kind: s.kind, text: zh(lang, `${who(s.initiator)} 发起`, `Started by ${who(s.initiator)}`), tone: "info" });
    } else if (s.kind === "enter") {
      const found = state.nodes.find((n) => n.id === s.node);
      if (found?.type === "start") return;
      const parts: string[] = [];
      if (s.tasks?.length) parts.push(zh(lang, `待办：${people(s.tasks.map((t) => t.user))}`, `tasks for ${people(s.tasks.map((t) => t.user))}`));
      if (s.cc) parts.push(zh(lang, `抄送：${s.cc.length ? people(s.cc) : "（无人）"}`, `copied to ${s.cc.length ? people(s.cc) : "nobody"}`));
      if (s.actions) parts.push(zh(lang, `自动操作：${s.actions.map((a) => a.type).join("、") || "无"}`, `actions: ${s.actions.map((a) => a.type).join(", ") || "none"}`));
      if (s.sub_process) parts.push(zh(lang, `启动子流程 ${s.sub_process.flow}`, `starts sub-process ${s.sub_process.flow}`));
      if (s.until) parts.push(zh(lang, `等待至 ${s.until.slice(0, 16).replace("T", " ")}`, `waits until ${s.until.slice(0, 16).replace("T", " ")}`));
      lines.push({ key, kind: s.kind, node: s.node, text: zh(lang, `到达「${nodeName(s.node)}」`, `Reached “${nodeName(s.node)}”`), detail: parts.join(zh(lang, "；", "; ")) || undefined, tone: "default" });
    } else if (s.kind === "condition") {
      const edge = state.edges.find((e) => e.def.from === s.source && e.def.to === s.target);
      const said = edge ? reading(edge.def.condition, fields, lang) : `${s.source} → ${s.target}`;
      const values = Object.entries(s.values ?? {})
        .map(([k, v]) => `${fieldName(k)} = ${v === null || v === undefined ? zh(lang, "（空）", "(empty)") : valueName(byKey.get(k), v, lang)}`)
        .join(zh(lang, "，", ", "));
      const verdict = s.holds ? zh(lang, `成立 → ${nodeName(s.target)}`, `holds → ${nodeName(s.target)}`) : zh(lang, "不成立", "does not hold");
      lines.push({ key, kind: s.kind, node: s.source, text: zh(lang, `「${said}」${verdict}`, `“${said}” ${verdict}`), detail: values || undefined, tone: s.holds ? "success" : "default" });
    } else if (s.kind === "decision") {
      let said: string;
      if (s.action === "timeout") {
        const what = TIMEOUTS[s.outcome ?? ""];
        said = zh(lang, `「${nodeName(s.node)}」超时：${what ? what[0] : ""}`, `“${nodeName(s.node)}” timed out: ${what ? what[1] : ""}`);
      } else if (s.action === "continue") {
        said = zh(lang, `「${nodeName(s.node)}」继续`, `“${nodeName(s.node)}” goes on`);
      } else {
        said = zh(lang, `${who(s.user)} ${actionName(s.action ?? "", lang)}「${nodeName(s.node)}」`, `${who(s.user)} ${actionName(s.action ?? "", lang)} “${nodeName(s.node)}”`);
      }
      const extra: string[] = [];
      if (s.opinion) extra.push(zh(lang, `意见：${s.opinion}`, `opinion: ${s.opinion}`));
      if (s.target) extra.push(zh(lang, `退回到：${s.target === "previous" ? "上一步" : s.target === "start" ? "发起人" : nodeName(s.target)}`, `back to: ${s.target}`));
      if (s.values && Object.keys(s.values).length)
        extra.push(Object.entries(s.values).map(([k, v]) => `${fieldName(k)} = ${valueName(byKey.get(k), v, lang)}`).join(zh(lang, "，", ", ")));
      if (s.notify?.length) extra.push(s.notify.map((n) => (n.kind === "escalation" ? zh(lang, `升级：${who(n.assignee)} 的上级`, `escalated: ${who(n.assignee)}'s manager`) : zh(lang, `通知 ${people(n.users)}`, `notifies ${people(n.users)}`))).join("；"));
      if (s.at) extra.push(zh(lang, `时间：${s.at.slice(0, 16).replace("T", " ")}`, `at ${s.at.slice(0, 16).replace("T", " ")}`));
      const back = s.action === "reject" || s.action === "return";
      lines.push({ key, kind: s.kind, node: s.node, text: said, detail: extra.join(zh(lang, "；", "; ")) || undefined, tone: back ? "warning" : "info" });
    } else if (s.kind === "ended") {
      const ending = ENDINGS[s.status ?? ""];
      lines.push({ key, kind: s.kind, text: ending ? ending[lang === "en" ? 1 : 0] : (s.status ?? ""), tone: s.status === "completed" ? "success" : "warning" });
    }
  });
  if (sim.problem) {
    lines.push({
      key: "problem",
      kind: "problem",
      text: sim.problem.decision === null ? zh(lang, "无法发起", "It cannot start") : zh(lang, `第 ${sim.problem.decision + 1} 步无法执行`, `Decision ${sim.problem.decision + 1} cannot be played`),
      detail: sim.problem.message,
      tone: "error",
    });
  }
  return lines;
}

/** How long someone has held a task, in words: 3 天 4 小时, 25 分钟 (``now`` in ms). */
export function heldFor(since: string, now: number, lang: Lang): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(since)) / 60000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days) return zh(lang, `${days} 天 ${hours} 小时`, `${days} d ${hours} h`);
  if (hours) return zh(lang, `${hours} 小时 ${minutes % 60} 分钟`, `${hours} h ${minutes % 60} min`);
  return zh(lang, `${minutes} 分钟`, `${minutes} min`);
}
