import i18next from "i18next";
import { describe, expect, it } from "vitest";
import "./i18n";
import "./design/strings";
import "./design/flows/strings";
import "./design/actions/strings";
import "./design/rules/strings";
import "./design/calendars/strings";
import "./pages/public/strings";

/** The placeholders a string names: ``{name}`` (the interpolation the app is set up with). */
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("the UI strings", () => {
  const zh = i18next.getResourceBundle("zh-CN", "translation") as Record<string, string>;
  const en = i18next.getResourceBundle("en", "translation") as Record<string, string>;

  it("use single-brace placeholders, which are the ones filled in", () => {
    const doubled = Object.entries({ ...zh, ...en }).filter(([, text]) => text.includes("{{"));
    expect(doubled).toEqual([]);
    expect(i18next.t("design.flow.copied", { count: 3, lng: "zh-CN" })).toBe("已复制 3 个节点");
  });

  it("name the same placeholders in both languages, and every key has both", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    const differing = Object.keys(zh).filter((key) => placeholders(zh[key]).join() !== placeholders(en[key]).join());
    expect(differing).toEqual([]);
  });
});
