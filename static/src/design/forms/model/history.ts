// Undo and redo over designer states: bounded, and a run of edits to the same property of the same
// field (typing a label) is one step.

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** What the last step changed (``field:property``): the next edit of it joins that step. */
  lastTag: string | null;
  lastAt: number;
}

export const LIMIT = 100;
/** Edits of one property closer together than this (ms) are one step. */
export const COALESCE_MS = 1000;

export function start<T>(present: T): History<T> {
  return { past: [], present, future: [], lastTag: null, lastAt: 0 };
}

/** A new state; ``tag`` names what changed (edits with the same tag in a row coalesce), ``now``
 * is the time of the edit (ms). */
export function push<T>(history: History<T>, next: T, tag: string | null = null, now = 0): History<T> {
  if (next === history.present) return history;
  const joins = tag !== null && tag === history.lastTag && now - history.lastAt < COALESCE_MS;
  const past = joins ? history.past : [...history.past, history.present].slice(-LIMIT);
  return { past, present: next, future: [], lastTag: tag, lastAt: now };
}

export function undo<T>(history: History<T>): History<T> {
  if (!history.past.length) return history;
  const previous = history.past[history.past.length - 1];
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future], lastTag: null, lastAt: 0 };
}

export function redo<T>(history: History<T>): History<T> {
  if (!history.future.length) return history;
  const [next, ...rest] = history.future;
  return { past: [...history.past, history.present], present: next, future: rest, lastTag: null, lastAt: 0 };
}

/** Starts afresh from a state loaded from elsewhere (a reload, a restored version). */
export function reset<T>(present: T): History<T> {
  return start(present);
}
