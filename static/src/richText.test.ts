import { describe, expect, it } from "vitest";
import { differs, fieldValue, shortcut, showValue, TOOLS, type ValueHolder } from "./richText";

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

describe("showValue", () => {
  const holder = (html: string, destroyed = false) => {
    const set: string[] = [];
    const editor: ValueHolder = {
      isDestroyed: destroyed,
      isEmpty: html === "<p></p>",
      getHTML: () => {
        // what TipTap does once the editor is put away: its schema is gone
        if (destroyed) throw new TypeError("Cannot read properties of null (reading 'cached')");
        return html;
      },
      commands: { setContent: (content: string) => set.push(content) },
    };
    return { editor, set };
  };

  it("puts a new value into a live editor once, and not what it holds already", () => {
    const live = holder("<p>a</p>");
    showValue(live.editor, "<p>b</p>");
    showValue(live.editor, "<p>a</p>");
    expect(live.set).toEqual(["<p>b</p>"]);
    const empty = holder("<p></p>");
    showValue(empty.editor, undefined);
    expect(empty.set).toEqual([]);
  });

  it("leaves an editor that is not on the page alone", () => {
    const gone = holder("<p>a</p>", true);
    expect(() => showValue(gone.editor, "<p>b</p>")).not.toThrow();
    expect(gone.set).toEqual([]);
    expect(() => showValue(null, "<p>b</p>")).not.toThrow();
  });
});
