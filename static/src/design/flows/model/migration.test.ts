import { describe, expect, it } from "vitest";
import { mappingComplete, mappingOf, mappingRows, movable, nodesOf } from "./index";

const V1 = nodesOf({
  nodes: [
    { id: "start", type: "start" },
    { id: "respond", type: "fill", label: { "zh-CN": "首次响应" } },
    { id: "check", type: "approval", label: { "zh-CN": "主管审批" } },
    { id: "end", type: "end" },
  ],
});
const V2 = nodesOf({
  nodes: [
    { id: "start", type: "start" },
    { id: "respond", type: "fill", label: { "zh-CN": "首次响应" } },
    { id: "review", type: "approval", label: { "zh-CN": "经理审批" } },
    { id: "board", type: "approval", label: { "zh-CN": "委员会会签" } },
    { id: "end", type: "end" },
  ],
});

describe("mapping running instances onto a newer version", () => {
  it("keeps nodes the target still has, and asks for the others among nodes of their type", () => {
    const rows = mappingRows(
      [
        { node: "respond", instances: 2, type: "fill" },
        { node: "check", instances: 1 },
      ],
      V1,
      V2,
    );
    expect(rows[0]).toMatchObject({ node: "respond", target: "respond", instances: 2 });
    expect(rows[1]).toMatchObject({ node: "check", type: "approval", target: null, label: { "zh-CN": "主管审批" } });
    expect(rows[1].options.map((o) => o.id)).toEqual(["review", "board"]);
    expect(mappingComplete(rows)).toBe(false);
    rows[1].target = "review";
    expect(mappingComplete(rows)).toBe(true);
    // only the nodes that move somewhere else are sent
    expect(mappingOf(rows)).toEqual({ check: "review" });
  });

  it("picks the only node of a type, and leaves a node with none unmapped", () => {
    const rows = mappingRows([{ node: "check", instances: 1 }], V1, V2.filter((n) => n.id !== "board"));
    expect(rows[0].target).toBe("review");
    const none = mappingRows([{ node: "check", instances: 1 }], V1, V2.filter((n) => n.type !== "approval"));
    expect(none[0].target).toBeNull();
    expect(none[0].options).toEqual([]);
  });

  it("moves only versions older than the target", () => {
    const running = [
      { version: 1, instances: 3 },
      { version: 2, instances: 1 },
      { version: 3, instances: 0 },
    ];
    expect(movable(running, 3).map((r) => r.version)).toEqual([1, 2]);
    expect(movable(running, 2).map((r) => r.version)).toEqual([1]);
    expect(movable(running, null)).toEqual([]);
    expect(nodesOf(null)).toEqual([]);
  });
});
