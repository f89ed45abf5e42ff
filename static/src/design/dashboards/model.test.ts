import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { addFilter, addWidget, bindFilter, bottom, fromLayout, patchFilter, readingOrder, removeFilter, removeWidget, setTitle, toLayout, withoutPlaces, type DashboardBody } from "./model";

const COCKPIT = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/dashboards/cockpit.json"), "utf-8"),
) as DashboardBody;

describe("the after-sales cockpit", () => {
  it("loads onto the grid and saves back unchanged", () => {
    const layout = toLayout(COCKPIT);
    expect(layout).toHaveLength(COCKPIT.widgets!.length);
    expect(layout[0]).toEqual({ i: "open_tickets", x: 0, y: 0, w: 4, h: 3 });
    expect(fromLayout(COCKPIT, layout)).toBe(COCKPIT);
    for (const [i, f] of (COCKPIT.filters ?? []).entries()) expect(patchFilter(COCKPIT, i, { ...f })).toEqual(COCKPIT);
  });

  it("stacks in reading order on a phone", () => {
    const order = readingOrder(COCKPIT).map((w) => w.id);
    expect(order.slice(0, 3)).toEqual(["open_tickets", "overdue_tickets", "frt_median"]);
  });
});

describe("widgets", () => {
  const empty: DashboardBody = { key: "d", widgets: [] };

  it("are added below the others, or where they were dropped, in a size fitting their kind", () => {
    const one = addWidget(empty, "kpi", "mttr");
    expect(one.widgets).toEqual([{ id: "mttr", kpi: "mttr", layout: { x: 0, y: 0, w: 4, h: 3 } }]);
    const two = addWidget(one, "report", "weekly_tickets");
    expect(two.widgets![1].layout).toEqual({ x: 0, y: 3, w: 12, h: 6 });
    const three = addWidget(two, "kpi", "mttr", { x: 22, y: 0 });
    expect(three.widgets![2]).toEqual({ id: "mttr_2", kpi: "mttr", layout: { x: 20, y: 0, w: 4, h: 3 } });
    expect(bottom(three)).toBe(9);
    expect(removeWidget(three, "mttr_2")).toEqual(two);
    const small = addWidget({ key: "d", columns: 12 }, "report", "r");
    expect(small.widgets![0].layout!.w).toBe(6);
  });

  it("keep the places the grid gives them, and none while an unplaced one stays put", () => {
    const loose: DashboardBody = { key: "d", widgets: [{ id: "a", kpi: "a", layout: { x: 0, y: 0, w: 4, h: 3 } }, { id: "b", report: "b" }] };
    const layout = toLayout(loose);
    expect(layout[1]).toEqual({ i: "b", x: 0, y: 3, w: 12, h: 6 });
    expect(fromLayout(loose, layout)).toBe(loose);
    const moved = fromLayout(loose, [layout[0], { ...layout[1], x: 4, y: 0 }]);
    expect(moved.widgets![1].layout).toEqual({ x: 4, y: 0, w: 12, h: 6 });
    expect(withoutPlaces(moved).widgets).toEqual([{ id: "a", kpi: "a" }, { id: "b", report: "b" }]);
  });

  it("take a title or show their source's name", () => {
    const titled = setTitle(COCKPIT, "mttr", { "zh-CN": "处理时长" });
    expect(titled.widgets!.find((w) => w.id === "mttr")!.title).toEqual({ "zh-CN": "处理时长" });
    expect(setTitle(titled, "mttr", undefined)).toEqual(COCKPIT);
  });
});

describe("filters", () => {
  it("bind to chosen widgets, and forget a widget that goes", () => {
    const board = addWidget(addWidget(addFilter({ key: "d" }, "select", "line"), "kpi", "mttr"), "report", "by_issue");
    const bound = bindFilter(board, 0, ["by_issue"]);
    expect(bound.filters![0].widgets).toEqual(["by_issue"]);
    expect(bindFilter(bound, 0, []).filters![0]).not.toHaveProperty("widgets");
    expect(removeWidget(bound, "by_issue").filters![0]).not.toHaveProperty("widgets");
    expect(removeWidget(bound, "mttr").filters).toBe(bound.filters);
  });

  it("are added with fresh keys and sensible defaults, changed and removed", () => {
    const body = addFilter({ key: "d" }, "date_range", "_created_at");
    expect(body.filters).toEqual([{ key: "period", type: "date_range", field: "_created_at", default: "this_month" }]);
    const two = addFilter(addFilter(body, "select", "product_line"), "select", "product_line");
    expect(two.filters!.map((f) => f.key)).toEqual(["period", "product_line", "product_line_2"]);
    expect(patchFilter(two, 0, { default: undefined }).filters![0]).toEqual({ key: "period", type: "date_range", field: "_created_at" });
    expect(removeFilter(body, 0)).toEqual({ key: "d" });
  });
});
