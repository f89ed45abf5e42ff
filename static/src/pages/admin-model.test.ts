import { describe, expect, it } from "vitest";
import { changes, grantText } from "./admin-model";

describe("changes", () => {
  it("names the ids to add and to take away", () => {
    expect(changes([1, 2, 3], [3, 4])).toEqual({ added: [4], removed: [1, 2] });
    expect(changes([], [])).toEqual({ added: [], removed: [] });
    expect(changes([5], [5])).toEqual({ added: [], removed: [] });
  });
});

describe("grantText", () => {
  it("reads a grant with names, not keys", () => {
    const names = {
      app: (k: string) => ({ aftersales: "售后服务", "*": "全部应用" })[k] ?? k,
      form: (k: string) => ({ ticket: "售后工单", "*": "全部表单" })[k] ?? k,
      action: (a: string) => ({ read: "查看", update: "修改" })[a] ?? a,
      scope: (s: string) => ({ all: "全部", own: "本人的" })[s] ?? s,
    };
    expect(grantText({ app_key: "aftersales", form_key: "ticket", actions: ["read", "update"], scope: "all" }, names)).toBe("售后服务 · 售后工单：查看、修改（全部）");
    expect(grantText({ app_key: "*", form_key: "*", actions: ["read"], scope: "own" }, names)).toBe("全部应用 · 全部表单：查看（本人的）");
  });
});
