import { describe, expect, it } from "vitest";
import { pageTitle } from "./title";

describe("pageTitle", () => {
  it("names the page first and the product last, without empty parts", () => {
    expect(pageTitle("售后工单 #554")).toBe("售后工单 #554 · 七巧板");
    expect(pageTitle("首次响应", "", null, "售后工单 #2")).toBe("首次响应 · 售后工单 #2 · 七巧板");
    expect(pageTitle()).toBe("七巧板");
  });
});
