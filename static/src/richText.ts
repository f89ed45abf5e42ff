// Rich text fields edited as formatted text (no tags typed): the editor's tools and how its
// HTML becomes a field's value. The server keeps the value as nh3 cleans it; every tag these
// tools write is one nh3 keeps.

/** A tool of the editor's bar: the string key of its name, its command and its active mark. */
export interface Tool {
  key: string;
  /** The chain command it runs (a toggle of a mark or a block, or history). */
  command: "toggleBold" | "toggleItalic" | "toggleUnderline" | "toggleStrike" | "toggleHeading" | "toggleBulletList" | "toggleOrderedList" | "toggleBlockquote" | "undo" | "redo";
  /** What the editor reports active while the cursor is in it (none: history tools). */
  active?: { name: string; attributes?: Record<string, unknown> };
  /** Its keyboard shortcut, shown in the tooltip (Mod: Ctrl, or ⌘ on a Mac). */
  keys?: string;
}

export const TOOLS: Tool[] = [
  { key: "rich.bold", command: "toggleBold", active: { name: "bold" }, keys: "Mod+B" },
  { key: "rich.italic", command: "toggleItalic", active: { name: "italic" }, keys: "Mod+I" },
  { key: "rich.underline", command: "toggleUnderline", active: { name: "underline" }, keys: "Mod+U" },
  { key: "rich.strike", command: "toggleStrike", active: { name: "strike" }, keys: "Mod+Shift+S" },
  { key: "rich.heading", command: "toggleHeading", active: { name: "heading", attributes: { level: 3 } } },
  { key: "rich.bullets", command: "toggleBulletList", active: { name: "bulletList" }, keys: "Mod+Shift+8" },
  { key: "rich.numbers", command: "toggleOrderedList", active: { name: "orderedList" }, keys: "Mod+Shift+7" },
  { key: "rich.quote", command: "toggleBlockquote", active: { name: "blockquote" }, keys: "Mod+Shift+B" },
  { key: "rich.undo", command: "undo", keys: "Mod+Z" },
  { key: "rich.redo", command: "redo", keys: "Mod+Shift+Z" },
];

/** A shortcut as the reader's keyboard shows it. */
export function shortcut(keys: string, mac: boolean): string {
  return mac ? keys.replace("Mod+", "⌘").replace("Shift+", "⇧") : keys.replace("Mod", "Ctrl");
}

/** The field's value for what the editor holds: nothing when it holds no text (an empty
 * paragraph is no description), else its HTML. */
export function fieldValue(html: string, empty: boolean): string | undefined {
  return empty ? undefined : html;
}

/** Whether the field's value differs from what the editor holds, so that the editor must show
 * it (a form reset, a value set by the form): a value the editor itself gave is never put back,
 * which would move the cursor while one types. */
export function differs(value: unknown, html: string, empty: boolean): boolean {
  const wanted = typeof value === "string" ? value : "";
  return wanted !== (empty ? "" : html);
}

/** What the field uses of an editor to show it a value (TipTap's `Editor` has it). */
export interface ValueHolder {
  /** True once the library has put the editor away, and before its view is on the page. */
  isDestroyed: boolean;
  isEmpty: boolean;
  getHTML(): string;
  commands: { setContent(content: string, options: { emitUpdate: boolean }): unknown };
}

/** Puts the field's value into the editor unless it holds it already. An editor not on the page
 * is left alone: one put away has lost its schema (its `getHTML` throws), and one not yet
 * mounted shows its initial value when it is. */
export function showValue(editor: ValueHolder | null, value: unknown): void {
  if (!editor || editor.isDestroyed) return;
  if (differs(value, editor.getHTML(), editor.isEmpty))
    editor.commands.setContent(typeof value === "string" ? value : "", { emitUpdate: false });
}
