import { describe, expect, it } from "vitest";
import { countText, linkOf, readUpTo } from "./model";

describe("linkOf", () => {
  it("opens the record a mention, a rule or a flow step is about", () => {
    expect(linkOf({ app: "aftersales", form: "ticket", record: 12, comment: 3, author: 1 })).toBe(
      "/apps/aftersales/records/ticket/12",
    );
    expect(linkOf({ app: "aftersales", form: "ticket", record: 12, flow: 4, task: "t2" })).toBe(
      "/apps/aftersales/records/ticket/12",
    );
  });

  it("opens the task when one is named", () => {
    expect(linkOf({ task_id: 7, instance: 4 })).toBe("/tasks/7");
  });

  it("opens nothing when the payload names nothing it can open", () => {
    expect(linkOf({ job: 9, kind: "webhook" })).toBeNull();
    expect(linkOf({ app: "aftersales", form: "../admin", record: 1 })).toBeNull();
    expect(linkOf({ app: "aftersales", form: "ticket", record: "12" })).toBeNull();
    expect(linkOf({})).toBeNull();
  });
});

describe("countText", () => {
  it("shows nothing for none and 99+ beyond 99", () => {
    expect([0, 1, 99, 100].map(countText)).toEqual(["", "1", "99", "99+"]);
  });
});

describe("readUpTo", () => {
  it("is the newest id shown, or nothing", () => {
    expect(readUpTo([{ id: 4 }, { id: 9 }, { id: 7 }])).toBe(9);
    expect(readUpTo([])).toBeUndefined();
  });
});
