import { describe, expect, it } from "vitest";
import type { ConditionField } from "../../conditions/logic";
import { edgeBetween, heldFor, simulationTrace, story, toState, traceOf, waitingNodes, type FlowDefinition, type Simulation } from "./index";

const FLOW: FlowDefinition = {
  key: "handling",
  label: { "zh-CN": "处理" },
  form: "plan",
  nodes: [
    { id: "start", type: "start" },
    { id: "analyse", type: "fill", label: { "zh-CN": "分析", en: "Analyse" } },
    { id: "big", type: "exclusive", label: { "zh-CN": "金额大?" } },
    { id: "review", type: "approval", label: { "zh-CN": "总监审批", en: "Director" } },
    { id: "copy", type: "cc" },
    { id: "end", type: "end" },
  ],
  edges: [
    { from: "start", to: "analyse" },
    { from: "analyse", to: "big" },
    { from: "big", to: "review", condition: { ">": [{ var: "cost" }, 50000] } },
    { from: "big", to: "copy", default: true },
    { from: "review", to: "copy" },
    { from: "copy", to: "end" },
  ],
};
const FIELDS: ConditionField[] = [{ key: "cost", label: { "zh-CN": "金额", en: "Cost" }, type: "number" }];

const SIM: Simulation = {
  flow: "handling",
  form: "plan",
  record: 7,
  status: "running",
  played: 2,
  steps: [
    { kind: "started", initiator: 1, at: "2026-12-04T08:00:00+00:00" },
    { kind: "enter", node: "start", from: null },
    { kind: "enter", node: "analyse", from: "start", tasks: [{ id: "task2", user: 1, status: "open" }] },
    { kind: "decision", action: "submit", node: "analyse", user: 1, decision: 0 },
    { kind: "enter", node: "big", from: "analyse" },
    { kind: "condition", source: "big", target: "review", holds: true, values: { cost: 52000 } },
    { kind: "enter", node: "review", from: "big", tasks: [{ id: "task3", user: 2, status: "open" }] },
    { kind: "decision", action: "reject", node: "review", user: 2, opinion: "太贵", target: "previous", decision: 1 },
    { kind: "enter", node: "analyse", from: "review", tasks: [{ id: "task4", user: 1, status: "open" }] },
  ],
  path: ["start", "analyse", "big", "review", "analyse"],
  edges: [
    ["start", "analyse"],
    ["analyse", "big"],
    ["big", "review"],
    ["review", "analyse"],
  ],
  open: [{ task: "task4", node: "analyse", kind: "fill", user: 1, actions: ["submit", "return"], reject_to: ["previous"], due: null, timeout: null }],
  waiting: [],
  problem: null,
  users: { "1": "张三", "2": "李四" },
};

describe("the trace of a path", () => {
  const state = toState(FLOW);

  it("marks the connections taken, skips jumps that follow none, and the nodes waiting", () => {
    const trace = simulationTrace(state, SIM);
    expect([...trace.visited].sort()).toEqual(["analyse", "big", "review", "start"]);
    expect([...trace.edges].sort()).toEqual(
      [edgeBetween(state, "start", "analyse"), edgeBetween(state, "analyse", "big"), edgeBetween(state, "big", "review")].sort(),
    );
    expect(edgeBetween(state, "review", "analyse")).toBeUndefined();
    expect([...trace.waitingAt]).toEqual(["analyse"]);
    expect(trace.moving).toBeNull();
  });

  it("plays the path move by move, the last move drawn moving and nothing current until the end", () => {
    const two = simulationTrace(state, SIM, 2);
    expect([...two.visited].sort()).toEqual(["analyse", "big", "start"]);
    expect(two.moving).toBe(edgeBetween(state, "analyse", "big"));
    expect(two.waitingAt.size).toBe(0);
    const none = traceOf(state, ["start"], SIM.edges, ["analyse"], 0);
    expect([...none.visited]).toEqual(["start"]);
    expect(none.edges.size).toBe(0);
  });

  it("waits at open tasks and at timers, not at joins", () => {
    expect(waitingNodes({ ...SIM, waiting: [{ node: "t", kind: "timer" }, { node: "j", kind: "join" }] })).toEqual(["analyse", "t"]);
  });
});

describe("a simulation told in words", () => {
  const state = toState(FLOW);

  it("reads conditions with their values, names people and decisions, in Chinese", () => {
    const lines = story(SIM, state, FIELDS, "zh-CN");
    expect(lines.map((l) => l.text)).toEqual([
      "张三 发起",
      "到达「分析」",
      "张三 提交「分析」",
      "到达「金额大?」",
      "「金额 大于 50000」成立 → 总监审批",
      "到达「总监审批」",
      "李四 驳回「总监审批」",
      "到达「分析」",
    ]);
    const condition = lines[4];
    expect(condition.detail).toBe("金额 = 52000");
    expect(condition.tone).toBe("success");
    expect(lines[6].detail).toBe("意见：太贵；退回到：上一步");
    expect(lines[6].tone).toBe("warning");
    expect(lines[1].detail).toBe("待办：张三");
  });

  it("speaks English, and tells the end and a problem", () => {
    const ended = {
      ...SIM,
      status: "stopped",
      steps: [...SIM.steps, { kind: "ended" as const, status: "completed" }],
      problem: { decision: 2, code: "simulation.no_task", message: "no task is open at 'review'" },
    };
    const lines = story(ended, state, FIELDS, "en");
    expect(lines[4].text).toBe("“Cost is greater than 50000” holds → Director");
    expect(lines.at(-2)?.text).toBe("The flow completed");
    expect(lines.at(-1)).toMatchObject({ kind: "problem", text: "Decision 3 cannot be played", detail: "no task is open at 'review'", tone: "error" });
  });
});

describe("how long a task has been held", () => {
  const now = Date.parse("2026-12-04T10:00:00Z");
  it("reads in days and hours, hours and minutes, or minutes", () => {
    expect(heldFor("2026-12-01T06:30:00Z", now, "zh-CN")).toBe("3 天 3 小时");
    expect(heldFor("2026-12-04T07:35:00Z", now, "en")).toBe("2 h 25 min");
    expect(heldFor("2026-12-04T09:58:10Z", now, "zh-CN")).toBe("1 分钟");
    expect(heldFor("2026-12-04T11:00:00Z", now, "en")).toBe("0 min"); // a clock ahead never reads negative
  });
});
