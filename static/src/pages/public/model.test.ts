import i18next from "i18next";
import { describe, expect, it } from "vitest";
import { entryLook, isPublicPath, receiptNumber, replyState, scaleValues, splitErrors, statusLink, withScales } from "./model";
import { PUBLIC_STRINGS } from "./strings";

describe("the public pages' model", () => {
  it("gives the visitor the serial number, else the record's id", () => {
    expect(receiptNumber({ id: 12, serials: { ticket_no: "SV-20261204-0001" }, status_path: "/status/x" })).toBe("SV-20261204-0001");
    expect(receiptNumber({ id: 12, serials: {}, status_path: "/status/x" })).toBe("#12");
  });

  it("makes the status link a full address on this site", () => {
    expect(statusLink("https://help.example.com/", { status_path: "/status/tga_abc" })).toBe("https://help.example.com/status/tga_abc");
  });

  it("checks a reply as the server will count it", () => {
    expect(replyState("   ", 10)).toBe("empty");
    expect(replyState(" 还在漏水 ", 4)).toBe("ok");
    expect(replyState("还在漏水了", 4)).toBe("too_long");
  });

  it("draws the customer's replies on their side and the service's on the other", () => {
    expect(entryLook("customer_reply")).toEqual({ color: "orange", mine: true });
    expect(entryLook("reply").mine).toBe(false);
    expect(entryLook("step").color).toBe("gray");
  });

  it("pins a 422's messages on the fields shown and keeps the others apart", () => {
    const { pinned, rest } = splitErrors({ title: ["必填"], "/images/0": "太大", internal: ["未知字段"] }, ["title", "images"]);
    expect(pinned).toEqual({ title: ["必填"], "/images/0": ["太大"] });
    expect(rest).toEqual(["未知字段"]);
  });

  it("knows the public pages' paths, and nothing else is public", () => {
    expect(isPublicPath("/intake/tgi_ab_cd")).toBe(true);
    expect(isPublicPath("/status/tga_x-y_z")).toBe(true);
    expect(isPublicPath("/status/")).toBe(false);
    expect(isPublicPath("/status/a/b")).toBe(false);
    expect(isPublicPath("/survey/tga_x-y_z")).toBe(true);
    expect(isPublicPath("/status/tga_x/survey")).toBe(true);
    expect(isPublicPath("/survey/a/b")).toBe(false);
    expect(isPublicPath("/intake/a/survey")).toBe(false);
    expect(isPublicPath("/apps/aftersales/records/ticket")).toBe(false);
  });

  it("draws small integer ranges as scales to tap and leaves the rest alone", () => {
    const schema = {
      properties: {
        csat: { type: "integer", minimum: 1, maximum: 5 },
        nps: { type: ["integer", "null"], minimum: 0, maximum: 10 },
        age: { type: "integer", minimum: 0, maximum: 120 },
        open: { type: "integer" },
        price: { type: "number", minimum: 1, maximum: 5 },
        comment: { type: "string" },
      },
    };
    const ui = withScales(schema, { csat: { "ui:title": "满意度" }, "ui:order": ["csat", "nps"] });
    expect(ui.csat).toEqual({ "ui:title": "满意度", "ui:widget": "scale" });
    expect(ui.nps).toEqual({ "ui:widget": "scale" });
    expect(ui.age).toBeUndefined();
    expect(ui.open).toBeUndefined();
    expect(ui.price).toBeUndefined();
    expect(ui["ui:order"]).toEqual(["csat", "nps"]);
    expect(scaleValues(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(scaleValues(1, 5)).toEqual([1, 2, 3, 4, 5]);
  });

  it("has every word in both languages", () => {
    const zh = i18next.getResourceBundle("zh-CN", "translation") as Record<string, string>;
    const en = i18next.getResourceBundle("en", "translation") as Record<string, string>;
    for (const key of Object.keys(PUBLIC_STRINGS)) {
      expect(zh[key], key).toBeTruthy();
      expect(en[key], key).toBeTruthy();
    }
  });
});
