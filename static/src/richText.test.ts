import { describe, expect, it } from "vitest";
import { differs, fieldValue, shortcut, TOOLS } from "./richText";

describe("rich text", () => {
  it("keeps an empty editor's paragraph out of the record", () => {
    expect(fieldValue("<p></p>", true)).toBeUndefined();
    expect(fieldValue("<p>开机后<strong>左侧</strong>异响</p>", false)).toBe("<p>开机后<strong>左侧</strong>异响</p>");
  });

  it("shows a value only when it is not what the editor already holds", () => {
    expect(differs("<p>a</p>", "<p>a</p>", false)).toBe(false);
    expect(differs(undefined, "<p></p>", true)).toBe(false);
    expect(differs("", "<p></p>", true)).toBe(false);
    expect(differs("<p>b</p>", "<p>a</p>", false)).toBe(true);
    expect(differs(undefined, "<p>a</p>", false)).toBe(true);
  });

  it("names every tool and its shortcut for both keyboards", () => {
    expect(new Set(TOOLS.map((t) => t.key)).size).toBe(TOOLS.length);
    expect(shortcut("Mod+Shift+8", false)).toBe("Ctrl+Shift+8");
    expect(shortcut("Mod+Shift+8", true)).toBe("⌘⇧8");
  });
});
