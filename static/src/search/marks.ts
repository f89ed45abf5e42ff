// A snippet with its highlighted words: the server sends the text and [start, end) offsets of the
// query's words; the page draws the marked parts as <mark>, never the text as HTML.

export interface Piece {
  text: string;
  marked: boolean;
}

/** The snippet cut at its highlights, in order (overlapping or bad offsets are clipped). */
export function pieces(snippet: string, highlights: number[][]): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const [start, end] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const from = Math.max(at, Math.min(start, snippet.length));
    const to = Math.min(Math.max(end, from), snippet.length);
    if (from > at) out.push({ text: snippet.slice(at, from), marked: false });
    if (to > from) out.push({ text: snippet.slice(from, to), marked: true });
    at = Math.max(at, to);
  }
  if (at < snippet.length) out.push({ text: snippet.slice(at), marked: false });
  return out;
}
