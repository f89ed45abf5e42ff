import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  addNode,
  connect,
  connectProblem,
  durationText,
  ruleText,
  summary,
  copy,
  freshId,
  idProblem,
  insertOnEdge,
  KINDS,
  layoutPositions,
  laidOut,
  moveEdge,
  moveNodes,
  needsLayout,
  outgoing,
  paste,
  pinOf,
  problemsByElement,
  removeEdges,
  removeNodes,
  renameNode,
  semantic,
  setDefault,
  toDefinition,
  toState,
  updateEdge,
  updateNode,
  type FlowDefinition,
  type FlowState,
} from "./index";

const FLOWS = join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/aftersales/flows");
const flows: [string, FlowDefinition][] = readdirSync(FLOWS)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => [name, JSON.parse(readFileSync(join(FLOWS, name), "utf8")) as FlowDefinition]);
const SCHEMA = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../../tangram/engines/meta/flow.schema.json"), "utf8"),
) as { $defs: { node: { properties: { type: { enum: string[] } } } } };

const ticket = () => toState(flows.find(([name]) => name === "ticket_handling.json")![1]);

/** A flow: start → review → end. */
function small(): FlowState {
  return toState({
    key: "review",
    label: { "zh-CN": "评审" },
    form: "ticket",
    nodes: [
      { id: "start", type: "start", trigger: "manual" },
      { id: "review", type: "approval", mode: "all", assignees: { role: "quality" }, reject_to: ["start", "check"] },
      { id: "end", type: "end" },
    ],
    edges: [
      { from: "start", to: "review" },
      { from: "review", to: "end" },
    ],
  });
}

describe("round trip", () => {
  it("finds the after-sales flows", () => {
    expect(flows.map(([name]) => name)).toEqual(["improvement_cycle.json", "policy_review.json", "ticket_handling.json"]);
  });

  it.each(flows)("%s loads into the designer and saves back unchanged", (_name, definition) => {
    const state = toState(definition);
    expect(state.nodes).toHaveLength(definition.nodes.length);
    expect(toDefinition(state)).toEqual(definition);
    expect(JSON.stringify(toDefinition(state))).toBe(JSON.stringify(toDefinition(toState(toDefinition(state)))));
  });

  it.each(flows)("%s keeps its meaning when laid out: only layout data is added", async (_name, definition) => {
    const state = toState(definition);
    expect(needsLayout(state)).toBe(true);
    const placed = await laidOut(state);
    expect(needsLayout(placed)).toBe(false);
    const saved = toDefinition(placed);
    expect(semantic(saved)).toEqual(definition);
    expect(Object.keys(saved.layout?.nodes ?? {}).sort()).toEqual(definition.nodes.map((n) => n.id).sort());
    // and the positions come back as they were saved
    expect(toState(saved).positions).toEqual(saved.layout?.nodes);
  });

  it("keeps a layout's other data and drops positions of nodes that are gone", () => {
    const definition: FlowDefinition = {
      ...toDefinition(small()),
      layout: { zoom: 1.5, nodes: { start: { x: 0, y: 0 }, ghost: { x: 9, y: 9 }, review: { x: 0.4, y: 100.6 } } },
    };
    const saved = toDefinition(toState(definition));
    expect(saved.layout).toEqual({ zoom: 1.5, nodes: { start: { x: 0, y: 0 }, review: { x: 0, y: 101 } } });
  });

  it("offers every node type the engine has", () => {
    expect(KINDS.map((k) => k.type).sort()).toEqual([...SCHEMA.$defs.node.properties.type.enum].sort());
  });
});

describe("layout", () => {
  it("places the ticket flow top to bottom without overlaps", async () => {
    const state = ticket();
    const positions = await layoutPositions(state);
    expect(positions.start.y).toBeLessThan(positions.respond.y);
    expect(positions.respond.y).toBeLessThan(positions.analyse.y);
    const seen = new Set(Object.values(positions).map((p) => `${p.x},${p.y}`));
    expect(seen.size).toBe(state.nodes.length);
  });
});

describe("operations", () => {
  it("adds nodes with fresh ids and the defaults of their kind, one start only", () => {
    let state = small();
    const added = addNode(state, "approval", { x: 10, y: 20 });
    expect(added.id).toBe("approval");
    state = added.state;
    expect(state.nodes.at(-1)).toMatchObject({ id: "approval", type: "approval", mode: "single", reject_to: "previous" });
    expect(state.positions.approval).toEqual({ x: 10, y: 20 });
    expect(addNode(state, "approval", { x: 0, y: 0 }).id).toBe("approval_2");
    expect(addNode(state, "start", { x: 0, y: 0 }).id).toBeNull();
    expect(freshId(state, "审批")).toBe("node");
  });

  it("connects what may be connected; a task's way out is replaced, a split branches", () => {
    let state = small();
    expect(connectProblem(state, "end", "review")).toBe("no_output");
    expect(connectProblem(state, "review", "start")).toBe("no_input");
    expect(connectProblem(state, "review", "review")).toBe("self");
    expect(connectProblem(state, "start", "review")).toBe("duplicate");
    const check = addNode(state, "fill", { x: 0, y: 0 });
    state = check.state;
    state = connect(state, "review", "fill").state; // review had a way out: it now leads to fill
    expect(outgoing(state, "review").map((e) => e.def.to)).toEqual(["fill"]);
    const split = addNode(state, "exclusive", { x: 0, y: 0 });
    state = split.state;
    state = connect(state, "exclusive", "fill").state;
    state = connect(state, "exclusive", "end").state;
    expect(outgoing(state, "exclusive").map((e) => e.def)).toEqual([
      { from: "exclusive", to: "fill", default: true },
      { from: "exclusive", to: "end" },
    ]);
  });

  it("inserts a node on an edge, keeping the edge's condition and place", () => {
    let state = ticket();
    const branch = state.edges.find((e) => e.def.from === "is_major" && e.def.condition !== undefined)!;
    const inserted = insertOnEdge(state, branch.id, "cc", { x: 0, y: 0 });
    state = inserted.state;
    expect(inserted.id).toBe("cc");
    const out = outgoing(state, "is_major");
    expect(out.map((e) => e.def.to)).toEqual(["cc", "executing"]);
    expect(out[0].def.condition).toEqual({ "==": [{ var: "major" }, true] });
    expect(outgoing(state, "cc").map((e) => e.def.to)).toEqual(["to_approval"]);
    expect(insertOnEdge(state, branch.id, "end", { x: 0, y: 0 }).id).toBeNull();
    // a split put on an edge branches there, its way on being the default branch
    const split = insertOnEdge(state, outgoing(state, "cc")[0].id, "exclusive", { x: 0, y: 0 });
    expect(outgoing(split.state, "exclusive").map((e) => e.def)).toEqual([{ from: "exclusive", to: "to_approval", default: true }]);
  });

  it("makes room below a node put on an edge: what follows moves down, what comes back does not", () => {
    let state = small();
    state = { ...state, positions: { start: { x: 0, y: 0 }, review: { x: 0, y: 100 }, end: { x: 0, y: 200 } } };
    state = addNode(state, "fill", { x: 0, y: 0 }).state;
    state = connect(state, "review", "fill").state; // review's way out now leads to fill
    state = connect(state, "fill", "start").state; // and back to the start
    state = { ...state, positions: { ...state.positions, fill: { x: 0, y: 200 } } };
    const inserted = insertOnEdge(state, outgoing(state, "start")[0].id, "cc", { x: 0, y: 100 });
    expect(inserted.state.positions.review).toEqual({ x: 0, y: 232 }); // 100 + 72 + 60
    expect(inserted.state.positions.fill).toEqual({ x: 0, y: 332 });
    expect(inserted.state.positions.start).toEqual({ x: 0, y: 0 });
  });

  it("deletes a node and reconnects its way in to its way out; reject targets forget it", () => {
    let state = small();
    state = removeNodes(state, ["review"]);
    expect(state.edges.map((e) => e.def)).toEqual([{ from: "start", to: "end" }]);
    expect(state.positions.review).toBeUndefined();
    // a node with several ways out is removed with its edges
    let t = ticket();
    t = removeNodes(t, ["is_major"]);
    expect(t.edges.some((e) => e.def.from === "is_major" || e.def.to === "is_major")).toBe(false);
    // approvals that sent a rejection back to a removed node
    let s = small();
    s = addNode(s, "fill", { x: 0, y: 0 }).state;
    s = renameNode(s, "fill", "check");
    s = removeNodes(s, ["check"]);
    expect(s.nodes.find((n) => n.id === "review")?.reject_to).toEqual(["start"]);
    expect(removeEdges(s, ["nothing"])).toBe(s);
  });

  it("renames a node everywhere it is named", () => {
    let state = small();
    expect(idProblem(state, "review", "Review")).toBe("pattern");
    expect(idProblem(state, "review", "end")).toBe("taken");
    state = updateNode(state, "review", { timeout: { minutes: 60, action: "goto", node: "review" } });
    state = { ...state, positions: { review: { x: 1, y: 2 } } };
    state = renameNode(state, "review", "manager_review");
    expect(state.edges.map((e) => `${e.def.from}>${e.def.to}`)).toEqual(["start>manager_review", "manager_review>end"]);
    expect(state.nodes[1]).toMatchObject({ id: "manager_review", timeout: { node: "manager_review" } });
    expect(state.positions).toEqual({ manager_review: { x: 1, y: 2 } });
  });

  it("sets conditions, the default branch and the order of branches", () => {
    let state = ticket();
    const [first, second] = outgoing(state, "is_complaint");
    state = setDefault(state, first.id);
    const out = outgoing(state, "is_complaint");
    expect(out[0].def).toEqual({ from: "is_complaint", to: "countersign", default: true });
    expect(out[1].def).toEqual({ from: "is_complaint", to: "approve" });
    state = updateEdge(state, second.id, { condition: { "==": [{ var: "major" }, true] } });
    state = moveEdge(state, second.id, -1);
    expect(outgoing(state, "is_complaint").map((e) => e.def.to)).toEqual(["approve", "countersign"]);
    expect(moveEdge(state, second.id, -1)).toBe(state);
    state = updateEdge(state, second.id, { condition: undefined });
    expect(outgoing(state, "is_complaint")[0].def).toEqual({ from: "is_complaint", to: "approve" });
  });

  it("moves nodes, and a move to where they are changes nothing", () => {
    const state = { ...small(), positions: { start: { x: 0, y: 0 } } };
    expect(moveNodes(state, { start: { x: 0, y: 0 } })).toBe(state);
    expect(moveNodes(state, { ghost: { x: 1, y: 1 } })).toBe(state);
    expect(moveNodes(state, { start: { x: 5, y: 0 }, review: { x: 0, y: 90 } }).positions).toEqual({ start: { x: 5, y: 0 }, review: { x: 0, y: 90 } });
  });

  it("updates a node's properties and removes those set to undefined", () => {
    let state = small();
    state = updateNode(state, "review", { mode: "percentage", percent: 60, reject_to: undefined });
    expect(state.nodes[1]).toEqual({ id: "review", type: "approval", mode: "percentage", percent: 60, assignees: { role: "quality" } });
    expect(updateNode(state, "ghost", { mode: "any" })).toBe(state);
  });

  it("copies nodes with the edges between them and pastes them under fresh ids", () => {
    let state = ticket();
    state = { ...state, positions: { analyse: { x: 0, y: 0 }, file_rca: { x: 0, y: 100 } } };
    const clip = copy(state, ["analyse", "file_rca", "start"])!;
    expect(clip.nodes.map((n) => n.id)).toEqual(["analyse", "file_rca"]); // the start is unique
    const pasted = paste(state, clip, { x: 40, y: 40 });
    expect(pasted.ids).toEqual(["analyse_2", "file_rca_2"]);
    expect(outgoing(pasted.state, "analyse_2").map((e) => e.def.to)).toEqual(["file_rca_2"]);
    expect(pasted.state.positions.file_rca_2).toEqual({ x: 40, y: 140 });
    expect(new Set(pasted.state.edges.map((e) => e.id)).size).toBe(pasted.state.edges.length);
  });
});

describe("problems", () => {
  it("pins the engine's pointers on nodes and edges", () => {
    const state = ticket();
    expect(pinOf(state, "/nodes/9/timeout/minutes")).toEqual({ nodeId: "countersign", edgeId: null, property: "timeout/minutes" });
    expect(pinOf(state, "/edges/2/condition")).toEqual({ nodeId: null, edgeId: "e3", property: "condition" });
    expect(pinOf(state, "/form")).toEqual({ nodeId: null, edgeId: null, property: "form" });
    const grouped = problemsByElement(state, [
      { path: "/nodes/1/assignees" },
      { path: "/edges/0" },
      { path: "/options/fallback" },
    ]);
    expect([...grouped.keys()]).toEqual(["respond", "e1", ""]);
  });
});

describe("summary", () => {
  it("says who does a node, how approvals count and its timeout, in Chinese first", () => {
    const t = ticket();
    const countersign = t.nodes.find((n) => n.id === "countersign")!;
    const lines = summary(countersign, "zh-CN", { role: (key) => (key === "quality_engineer" ? "质量工程师" : undefined) });
    expect(lines[0]).toBe("会签");
    expect(lines.some((l) => l.startsWith("超时"))).toBe(true);
    expect(ruleText({ initiator_manager: 2 }, "zh-CN")).toBe("发起人的第 2 级上级");
    expect(ruleText({ group: "field_service" }, "en", { group: () => "Field service" })).toBe("group “Field service”");
    expect(durationText(2880, "zh-CN", true)).toBe("2 天（工作时间）");
    expect(durationText(60, "en")).toBe("1 hour");
    expect(durationText(90, "en")).toBe("90 minutes");
    const execute = t.nodes.find((n) => n.id === "execute")!;
    expect(summary(execute, "zh-CN", { field: () => "整改措施" })).toContain("逐行：整改措施");
  });

  it("says when a timer ends earlier on a condition", () => {
    const wait = ticket().nodes.find((n) => n.id === "await_survey")!;
    expect(summary(wait, "zh-CN")).toEqual(["等待 3 天", "条件满足时提前结束"]);
    expect(summary({ ...wait, ends_when: undefined }, "zh-CN")).not.toContain("条件满足时提前结束");
  });
});
