// Answers that follow the work as it goes (`application/x-ndjson`): one JSON value a line, the
// text arriving in pieces that may cut a line anywhere.

/** The whole lines of `text` after `offset`, parsed, and where the next read starts (the start
 * of a line not yet ended). A blank line is skipped; a line that is not JSON throws. */
export function completeLines(text: string, offset: number): { lines: unknown[]; offset: number } {
  const lines: unknown[] = [];
  let start = offset;
  for (let end = text.indexOf("\n", start); end >= 0; end = text.indexOf("\n", start)) {
    const line = text.slice(start, end).trim();
    if (line) lines.push(JSON.parse(line));
    start = end + 1;
  }
  return { lines, offset: start };
}

/** How a followed answer ends: its report, a problem met on the way, or neither (cut short). */
export type Ending<T> = { report: T } | { problem: Record<string, unknown> } | null;

/** Sorts a followed answer's lines: steps go to `onStep`, the ending is returned when seen. */
export function sortLines<T, S>(lines: unknown[], onStep: (step: S) => void): Ending<T> {
  let ending: Ending<T> = null;
  for (const line of lines) {
    if (line && typeof line === "object" && "report" in line) ending = { report: (line as { report: T }).report };
    else if (line && typeof line === "object" && "problem" in line)
      ending = { problem: (line as { problem: Record<string, unknown> }).problem };
    else onStep(line as S);
  }
  return ending;
}
