import { describe, expect, it } from "vitest";
import { facetPairs, helpParams, isHelpPath, markedParts, readHelpQuery, suggestText } from "./help";
import { isPublicPath } from "./model";

describe("the help center's model", () => {
  it("keeps the search, the facets and the page in the address", () => {
    const query = readHelpQuery(new URLSearchParams("q=%E9%BB%91%E5%B1%8F&line=A&other=x&page=2"), ["line", "type"]);
    expect(query).toEqual({ q: "黑屏", facets: { line: "A" }, page: 2 });
    expect(helpParams(query).toString()).toBe("q=%E9%BB%91%E5%B1%8F&line=A&page=2");
    expect(helpParams({ q: "", facets: {}, page: 1 }).toString()).toBe("");
    expect(readHelpQuery(new URLSearchParams("page=-3"), []).page).toBe(1);
    expect(readHelpQuery(new URLSearchParams("page=abc"), []).page).toBe(1);
  });

  it("sends the facets chosen as field:value pairs", () => {
    expect(facetPairs({ line: "A", type: "", issue: "bug" })).toEqual(["line:A", "issue:bug"]);
  });

  it("looks for articles with the typed text of the suggesting fields only", () => {
    const values = { title: " 开机无响应 ", description: "<p>按电源键<b>没反应</b></p>", phone: "13800000000" };
    expect(suggestText(values, ["title", "description"])).toBe("开机无响应 按电源键 没反应");
    expect(suggestText({ title: "a" }, ["title"])).toBe("");
    expect(suggestText({ title: 3 }, ["title"])).toBe("");
    expect(suggestText({ title: "字".repeat(3000) }, ["title"])).toHaveLength(2000);
  });

  it("marks the words found in a summary and ignores offsets that do not fit", () => {
    expect(markedParts("运行时噪音明显变大", [[3, 5]])).toEqual([
      { text: "运行时", marked: false },
      { text: "噪音", marked: true },
      { text: "明显变大", marked: false },
    ]);
    expect(markedParts("abc", [[2, 9], [1, 1]])).toEqual([{ text: "abc", marked: false }]);
    expect(markedParts("abcd", [[2, 4], [0, 1]])).toEqual([
      { text: "a", marked: true },
      { text: "b", marked: false },
      { text: "cd", marked: true },
    ]);
  });

  it("treats a help center and its articles as public pages", () => {
    expect(isHelpPath("/help/aftersales")).toBe(true);
    expect(isHelpPath("/help/aftersales/knowledge_article/12")).toBe(true);
    expect(isHelpPath("/help/aftersales/knowledge_article/x")).toBe(false);
    expect(isPublicPath("/help/aftersales")).toBe(true);
    expect(isPublicPath("/help/aftersales/knowledge_article/12/")).toBe(true);
    expect(isPublicPath("/helpdesk")).toBe(false);
  });
});
