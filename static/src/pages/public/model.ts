// The public pages without React: a receipt's number, the status link to show, the reply box's
// state and the look of a timeline entry by its kind.
import { isHelpPath } from "./help";

/** What an intake submission answers. */
export interface Receipt {
  id: number;
  serials: Record<string, string>;
  status_path: string;
}

/** The number a visitor is given: the record's first serial number, else ``#id``. */
export function receiptNumber(receipt: Receipt): string {
  const serial = Object.values(receipt.serials).find((v) => typeof v === "string" && v !== "");
  return serial ?? `#${receipt.id}`;
}

/** The status page's full address on this site (what the visitor copies). */
export function statusLink(origin: string, receipt: Pick<Receipt, "status_path">): string {
  return `${origin.replace(/\/+$/, "")}${receipt.status_path}`;
}

/** What stands in the way of sending a reply: nothing, an empty text, or one too long (the
 * server strips tags and control characters and trims; the box counts what is typed). */
export function replyState(text: string, max: number): "ok" | "empty" | "too_long" {
  const trimmed = text.trim();
  if (!trimmed) return "empty";
  return trimmed.length > max ? "too_long" : "ok";
}

/** The kinds of public timeline entries, and how each is drawn (its colour and whose side). */
export type EntryKind = "created" | "changed" | "step" | "reply" | "customer_reply";

export function entryLook(kind: string): { color: string; mine: boolean } {
  switch (kind) {
    case "customer_reply":
      return { color: "orange", mine: true };
    case "reply":
      return { color: "blue", mine: false };
    case "created":
      return { color: "green", mine: false };
    default:
      return { color: "gray", mine: false };
  }
}

/** Field errors of a 422 (``"title"`` or ``"/title"``: messages) keyed by the top field, for the
 * ones the form shows; the rest go to a general message. */
export function splitErrors(errors: Record<string, string[] | string>, shown: readonly string[]): { pinned: Record<string, string[]>; rest: string[] } {
  const pinned: Record<string, string[]> = {};
  const rest: string[] = [];
  for (const [path, messages] of Object.entries(errors)) {
    const list = Array.isArray(messages) ? messages : [messages];
    const top = path.replace(/^\//, "").split("/")[0];
    if (shown.includes(top)) pinned[path] = [...(pinned[path] ?? []), ...list];
    else rest.push(...list);
  }
  return { pinned, rest };
}

/** Whether a path is a public page, shown to anyone without signing in and outside the shell:
 * an intake form, a status page, a survey (by its own link or through a status link), a help
 * center and its articles. */
export function isPublicPath(path: string): boolean {
  return /^\/(intake|status|survey)\/[^/]+\/?$/.test(path) || /^\/status\/[^/]+\/survey\/?$/.test(path) || isHelpPath(path);
}

/** The widest scale drawn as buttons to tap (0–10: eleven of them). */
export const MAX_SCALE = 11;

/** The integer fields of a survey's JSON schema with a small range (a 1–5 rating, a 0–10
 * scale): each drawn as a row of buttons, the others keep their usual widgets. */
export function withScales(jsonSchema: Record<string, unknown>, ui: Record<string, unknown>): Record<string, unknown> {
  const properties = (jsonSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = { ...ui };
  for (const [key, prop] of Object.entries(properties)) {
    const types = Array.isArray(prop.type) ? prop.type : [prop.type];
    const { minimum, maximum } = prop;
    if (!types.includes("integer") || typeof minimum !== "number" || typeof maximum !== "number") continue;
    if (maximum < minimum || maximum - minimum + 1 > MAX_SCALE) continue;
    out[key] = { ...((ui[key] as Record<string, unknown> | undefined) ?? {}), "ui:widget": "scale" };
  }
  return out;
}

/** The values of a scale, lowest first. */
export function scaleValues(minimum: number, maximum: number): number[] {
  return Array.from({ length: Math.max(0, maximum - minimum + 1) }, (_, i) => minimum + i);
}
