// The help center's model, apart from its components: what the address holds (the search box, the
// facets chosen, the page), the words to look for while a visitor fills an intake page, and a
// summary cut into plain and marked parts by the server's offsets.

/** What a help center page shows, as its address keeps it (so Back returns to it). */
export interface HelpQuery {
  q: string;
  /** The option chosen for each facet (absent: all). */
  facets: Record<string, string>;
  page: number;
}

/** The query an address holds: ``?q=…&line=A&page=2`` (every other parameter names a facet). */
export function readHelpQuery(params: URLSearchParams, facetKeys: readonly string[]): HelpQuery {
  const facets: Record<string, string> = {};
  for (const key of facetKeys) {
    const chosen = params.get(key);
    if (chosen) facets[key] = chosen;
  }
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return { q: (params.get("q") ?? "").trim(), facets, page: Number.isFinite(page) && page > 0 ? page : 1 };
}

/** The address parameters of a query (empty parts left out; the first page is the default). */
export function helpParams(query: HelpQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  for (const [key, value] of Object.entries(query.facets)) if (value) params.set(key, value);
  if (query.page > 1) params.set("page", String(query.page));
  return params;
}

/** The API's ``facet`` parameters of the facets chosen (``field:value`` each). */
export function facetPairs(facets: Record<string, string>): string[] {
  return Object.entries(facets)
    .filter(([, value]) => value)
    .map(([key, value]) => `${key}:${value}`);
}

/** The fewest characters typed before articles are suggested. */
export const MIN_SUGGEST_TEXT = 2;
/** The most characters sent to look for suggestions (what the server accepts). */
export const MAX_SUGGEST_TEXT = 2000;

/** The text an intake page looks for articles with: the typed values of ``fields``, in order,
 * tags of rich text removed; empty when too short to mean anything. */
export function suggestText(values: Record<string, unknown>, fields: readonly string[]): string {
  const parts = fields
    .map((key) => values[key])
    .filter((value): value is string => typeof value === "string")
    .map((value) =>
      value
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter(Boolean);
  const text = parts.join(" ").slice(0, MAX_SUGGEST_TEXT);
  return text.replace(/\s/g, "").length >= MIN_SUGGEST_TEXT ? text : "";
}

/** A summary cut into parts, the words found marked (``highlights``: [start, end) offsets). */
export function markedParts(text: string, highlights: readonly (readonly number[])[]): { text: string; marked: boolean }[] {
  const parts: { text: string; marked: boolean }[] = [];
  let at = 0;
  for (const [start, end] of [...highlights].sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start || end > text.length) continue; // overlapping or out of range
    if (start > at) parts.push({ text: text.slice(at, start), marked: false });
    parts.push({ text: text.slice(start, end), marked: true });
    at = end;
  }
  if (at < text.length) parts.push({ text: text.slice(at), marked: false });
  return parts;
}

/** Whether a path is a help center's page: ``/help/{app}`` or an article's. */
export function isHelpPath(path: string): boolean {
  return /^\/help\/[^/]+\/?$/.test(path) || /^\/help\/[^/]+\/[^/]+\/\d+\/?$/.test(path);
}
