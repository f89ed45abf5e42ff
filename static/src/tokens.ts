// The default values a form definition may name instead of a value (docs/forms.md, *Defaults*):
// ``$today`` for a date, ``$now`` for a date-time, as the browser shows them before a save.
import dayjs, { type Dayjs } from "dayjs";

export function resolveToken(value: unknown, now: Dayjs = dayjs()): unknown {
  if (value === "$today") return now.format("YYYY-MM-DD");
  if (value === "$now") return now.format("YYYY-MM-DDTHH:mm:ssZ");
  return value;
}
