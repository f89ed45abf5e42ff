// The bell's notifications, without React: where one leads, and its count as the badge shows it.

/** What a notification's payload says it is about (see GET /api/v1/me/notifications). */
export type Payload = Record<string, unknown>;

const isId = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value > 0;
const isKey = (value: unknown): value is string => typeof value === "string" && /^[A-Za-z0-9_-]+$/.test(value);

/** The page a notification opens: its task when it names one, else its record, else none (a
 * dead job's notice, say, is only read). */
export function linkOf(payload: Payload): string | null {
  if (isId(payload.task_id)) return `/tasks/${payload.task_id}`;
  if (isKey(payload.app) && isKey(payload.form) && isId(payload.record)) {
    return `/apps/${payload.app}/records/${payload.form}/${payload.record}`;
  }
  return null;
}

/** The unread count as a badge shows it ("99+" beyond 99; nothing for none). */
export function countText(count: number): string {
  if (count <= 0) return "";
  return count > 99 ? "99+" : String(count);
}

/** The id up to which "mark all read" marks: the newest one the reader was shown (one that
 * arrived since stays unread), or none to mark all. */
export function readUpTo(shown: readonly { id: number }[]): number | undefined {
  return shown.length ? Math.max(...shown.map((n) => n.id)) : undefined;
}
