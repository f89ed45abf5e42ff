// Comments and their mentions, without React: where "@username" stands in a text, which of the
// people picked from the completion are still named in it when it is sent, and a comment's text
// cut into plain and mention pieces for highlighting. The server takes mentions as user ids
// (user names may hold ".", "@" and "-", so it does not parse the text); this is where the ids
// come from.

/** A user as comments name them. */
export interface Person {
  id: number;
  username: string;
  display_name: string;
}

/** A piece of a comment's text: as written, or the mention of a person. */
export type Segment = { kind: "text"; text: string } | { kind: "mention"; text: string; person: Person };

/** The longest comment the server takes (characters, surrounding white space aside). */
export const MAX_BODY = 2000;

/** Characters that continue a user name (which are lowercase ASCII): "@qe_a，", "@qe_a." and
 * "@qe_a请看" name qe_a, "@qe_ab" does not. */
const NAME_CHAR = /[A-Za-z0-9_]/;

interface Found {
  start: number;
  end: number;
  person: Person;
}

/** Every "@username" of one of ``people`` in ``text``, left to right. At each "@" the longest
 * user name that matches (ignoring case) and ends where a name ends wins; an "@" inside a word
 * (an e-mail address) names nobody. */
export function occurrences(text: string, people: readonly Person[]): Found[] {
  const byLength = [...people].sort((a, b) => b.username.length - a.username.length);
  const lower = text.toLowerCase();
  const found: Found[] = [];
  let at = lower.indexOf("@");
  while (at !== -1) {
    const before = at > 0 ? text[at - 1] : "";
    const person = before && NAME_CHAR.test(before)
      ? undefined
      : byLength.find((p) => {
          const name = p.username.toLowerCase();
          const after = text[at + 1 + name.length] ?? "";
          return name !== "" && lower.startsWith(name, at + 1) && !(after && NAME_CHAR.test(after));
        });
    if (person) {
      const end = at + 1 + person.username.length;
      found.push({ start: at, end, person });
      at = lower.indexOf("@", end);
    } else {
      at = lower.indexOf("@", at + 1);
    }
  }
  return found;
}

/** The ids of the ``picked`` people still named in ``text``, in the order they first appear
 * (someone picked and then deleted from the text is not mentioned). */
export function mentionedIds(text: string, picked: readonly Person[]): number[] {
  return [...new Set(occurrences(text, picked).map((o) => o.person.id))];
}

/** ``people`` with ``person`` added, unless one with that id is there already. */
export function withPerson(people: readonly Person[], person: Person): Person[] {
  return people.some((p) => p.id === person.id) ? [...people] : [...people, person];
}

/** A comment's text cut into plain pieces and mentions of the people it mentions. */
export function segments(body: string, mentions: readonly Person[]): Segment[] {
  const out: Segment[] = [];
  let from = 0;
  for (const o of occurrences(body, mentions)) {
    if (o.start > from) out.push({ kind: "text", text: body.slice(from, o.start) });
    out.push({ kind: "mention", text: body.slice(o.start, o.end), person: o.person });
    from = o.end;
  }
  if (from < body.length) out.push({ kind: "text", text: body.slice(from) });
  return out;
}

/** What stands in the way of sending ``text``: nothing, an empty text, or one too long. */
export function sendable(text: string): "ok" | "empty" | "too_long" {
  const trimmed = text.trim();
  if (!trimmed) return "empty";
  return trimmed.length > MAX_BODY ? "too_long" : "ok";
}
