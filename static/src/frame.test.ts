import { describe, expect, it } from "vitest";
import { placeOf } from "./frame";

describe("where an app's page sits", () => {
  it("reads a form's list, a record, a new record, an editor and a dashboard", () => {
    expect(placeOf("aftersales", "/apps/aftersales/records/ticket")).toEqual({ kind: "records", key: "ticket", record: undefined, edit: false });
    expect(placeOf("aftersales", "/apps/aftersales/records/ticket/12")).toEqual({ kind: "records", key: "ticket", record: "12", edit: false });
    expect(placeOf("aftersales", "/apps/aftersales/records/ticket/new")).toEqual({ kind: "records", key: "ticket", record: "new", edit: false });
    expect(placeOf("aftersales", "/apps/aftersales/records/ticket/12/edit")).toEqual({ kind: "records", key: "ticket", record: "12", edit: true });
    expect(placeOf("aftersales", "/apps/aftersales/dashboards/cockpit")).toEqual({ kind: "dashboards", key: "cockpit", record: undefined, edit: false });
  });
});
