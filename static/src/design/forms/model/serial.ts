// A serial-number pattern (docs/forms.md, *Serial numbers*) as a record made at ``now`` would show it:
// the first number of its scope.
import dayjs, { type Dayjs } from "dayjs";

/** A serial pattern as it will look on a record made now (the first number of the day). */
export function serialExample(pattern: string, now: Dayjs = dayjs()): string {
  const formats: Record<string, string> = { Y: "YYYY", y: "YY", m: "MM", d: "DD", H: "HH" };
  return pattern.replace(/\{(seq|date)(?::([^}]*))?\}/g, (_, part: string, arg?: string) => {
    if (part === "seq") return "1".padStart(Number(arg ?? 4) || 4, "0");
    return (arg ?? "").replace(/%([YymdHjU])/g, (_m: string, c: string) => {
      if (c === "j") return String(now.diff(now.startOf("year"), "day") + 1).padStart(3, "0");
      if (c === "U") return String(Math.floor((now.diff(now.startOf("year"), "day") + now.startOf("year").day()) / 7)).padStart(2, "0");
      return now.format(formats[c]);
    });
  });
}

