// A business calendar as its editor shows it: working hours per weekday (with breaks between
// ranges), holidays and adjusted working days on a year view (a click moves a day through
// working → holiday → adjusted working day), lists of dates pasted in, and what a day is.
export type Lang = "zh-CN" | "en";
export type Range = [string, string];
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Exception {
  date: string;
  hours: Range[];
  note?: string;
}

export interface CalendarBody {
  key: string;
  label: { "zh-CN": string; en?: string };
  description?: { "zh-CN": string; en?: string };
  time_zone?: string;
  always_open?: boolean;
  week?: Partial<Record<Weekday, Range[]>>;
  holidays?: string[];
  exceptions?: Exception[];
  [property: string]: unknown;
}

export type DayKind = "working" | "off" | "holiday" | "adjusted";

/** ``YYYY-MM-DD`` of a date (its own calendar day, whatever the browser's time zone). */
export function isoDay(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The weekday key of an ISO day. */
export function weekdayOf(day: string): Weekday {
  const [y, m, d] = day.split("-").map(Number);
  const index = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sunday
  return WEEKDAYS[(index + 6) % 7];
}

/** What a day is: a working day by the week, a day off by the week, a holiday, or an adjusted
 * day (its own hours, usually a weekend day worked in exchange for a holiday). */
export function dayKind(cal: CalendarBody, day: string): DayKind {
  if (cal.exceptions?.some((e) => e.date === day)) return "adjusted";
  if (cal.holidays?.includes(day)) return "holiday";
  if (cal.always_open) return "working";
  return (cal.week?.[weekdayOf(day)] ?? []).length ? "working" : "off";
}

/** The hours an adjusted day gets when it is made one: the first working weekday's. */
export function usualHours(cal: CalendarBody): Range[] {
  for (const w of WEEKDAYS) {
    const hours = cal.week?.[w];
    if (hours?.length) return hours;
  }
  return [["09:00", "18:00"]];
}

/** A click on a day: working (or off) → holiday → adjusted working day → as the week says. A
 * list left empty is left out (it says nothing), so a day clicked round gives the calendar back
 * as it was. */
export function toggleDay(cal: CalendarBody, day: string): CalendarBody {
  const kind = dayKind(cal, day);
  const holidays = (cal.holidays ?? []).filter((d) => d !== day);
  const exceptions = (cal.exceptions ?? []).filter((e) => e.date !== day);
  const sorted = <T,>(items: T[], key: (t: T) => string) => [...items].sort((a, b) => key(a).localeCompare(key(b)));
  const next = (h: string[], e: NonNullable<CalendarBody["exceptions"]>): CalendarBody => {
    const out: CalendarBody = { ...cal, holidays: h, exceptions: e };
    if (!h.length) delete out.holidays;
    if (!e.length) delete out.exceptions;
    return out;
  };
  if (kind === "working" || kind === "off") return next(sorted([...holidays, day], (d) => d), exceptions);
  if (kind === "holiday") return next(holidays, sorted([...exceptions, { date: day, hours: usualHours(cal), note: "调休上班" }], (e) => e.date));
  return next(holidays, exceptions);
}

/** Dates found in pasted text (one per line, or separated by commas or spaces): the valid ones,
 * and the words that were not dates. */
export function parseDates(text: string): { dates: string[]; rejected: string[] } {
  const dates: string[] = [];
  const rejected: string[] = [];
  for (const word of text.split(/[\s,，、;；]+/).filter(Boolean)) {
    const match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(word);
    if (!match) {
      rejected.push(word);
      continue;
    }
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) rejected.push(word);
    else dates.push(isoDay(y, m, d));
  }
  return { dates: [...new Set(dates)].sort(), rejected };
}

/** Holidays added from a list (already listed ones once). */
export function addHolidays(cal: CalendarBody, dates: string[]): CalendarBody {
  return { ...cal, holidays: [...new Set([...(cal.holidays ?? []), ...dates])].sort() };
}

/** The week's hours, one weekday's copied onto others. */
export function copyDay(cal: CalendarBody, from: Weekday, to: Weekday[]): CalendarBody {
  const hours = cal.week?.[from] ?? [];
  const week = { ...(cal.week ?? {}) };
  for (const w of to) {
    if (hours.length) week[w] = hours.map((r) => [...r] as Range);
    else delete week[w];
  }
  return { ...cal, week };
}

/** Working minutes of a set of ranges. */
export function rangeMinutes(ranges: Range[]): number {
  return ranges.reduce((sum, [a, b]) => {
    const [ah, am] = a.split(":").map(Number);
    const [bh, bm] = b === "24:00" ? [24, 0] : b.split(":").map(Number);
    return sum + Math.max(0, bh * 60 + bm - (ah * 60 + am));
  }, 0);
}

/** The times a working range's ends are picked from: every quarter of an hour from 00:00 to 24:00,
 * and any time the calendar already holds off that grid (kept as it is). */
export function timeOptions(held: readonly string[] = []): string[] {
  const grid: string[] = [];
  for (let minutes = 0; minutes <= 24 * 60; minutes += 15) grid.push(`${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`);
  return [...new Set([...grid, ...held])].sort();
}
