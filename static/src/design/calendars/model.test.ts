import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { timeOptions, addHolidays, copyDay, dayKind, parseDates, rangeMinutes, toggleDay, weekdayOf, type CalendarBody } from "./model";

const CAL = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/calendars/cn_workdays.json"), "utf-8"),
) as CalendarBody;

describe("days", () => {
  it("know what each day of the after-sales calendar is", () => {
    expect(weekdayOf("2026-12-04")).toBe("fri");
    expect(weekdayOf("2026-12-06")).toBe("sun");
    expect(dayKind(CAL, "2026-12-04")).toBe("working");
    expect(dayKind(CAL, "2026-12-05")).toBe("off");
    expect(dayKind(CAL, "2026-01-01")).toBe("holiday");
    expect(dayKind(CAL, "2026-01-04")).toBe("adjusted"); // a Sunday worked (调休)
  });

  it("move through working → holiday → adjusted → as the week says, and back", () => {
    const once = toggleDay(CAL, "2026-12-04");
    expect(dayKind(once, "2026-12-04")).toBe("holiday");
    const twice = toggleDay(once, "2026-12-04");
    expect(dayKind(twice, "2026-12-04")).toBe("adjusted");
    expect(twice.exceptions?.find((e) => e.date === "2026-12-04")?.hours).toEqual([["09:00", "18:00"]]);
    const thrice = toggleDay(twice, "2026-12-04");
    expect(dayKind(thrice, "2026-12-04")).toBe("working");
    expect(thrice.holidays).toEqual(CAL.holidays);
    expect(thrice.exceptions).toEqual(CAL.exceptions);
    // lists stay in date order
    const early = toggleDay(CAL, "2026-01-05");
    expect(early.holidays).toEqual([...(CAL.holidays ?? []), "2026-01-05"].sort());
  });
});

describe("lists and hours", () => {
  it("read pasted dates, refusing what is not one", () => {
    expect(parseDates("2027-01-01\n2027/2/10, 2027.2.11、2027-02-30 春节")).toEqual({
      dates: ["2027-01-01", "2027-02-10", "2027-02-11"],
      rejected: ["2027-02-30", "春节"],
    });
    expect(addHolidays({ key: "c", label: { "zh-CN": "c" }, holidays: ["2027-01-01"] }, ["2027-01-01", "2026-12-31"]).holidays).toEqual(["2026-12-31", "2027-01-01"]);
  });

  it("copy a day's hours and count minutes", () => {
    const cal = copyDay(CAL, "mon", ["sat"]);
    expect(cal.week?.sat).toEqual([["09:00", "18:00"]]);
    expect(copyDay(cal, "sun", ["sat"]).week?.sat).toBeUndefined();
    expect(rangeMinutes([["09:00", "12:00"], ["13:00", "18:00"]])).toBe(480);
    expect(rangeMinutes([["00:00", "24:00"]])).toBe(1440);
  });
});

describe("every after-sales calendar", () => {
  it("saves back unchanged after a day is toggled round, and after no-op edits", () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales/calendars");
    const all = readdirSync(dir).map((n) => JSON.parse(readFileSync(join(dir, n), "utf-8")) as CalendarBody);
    expect(all.map((c) => c.key).sort()).toEqual(["always", "cn_workdays"]);
    for (const cal of all) {
      const round = toggleDay(toggleDay(toggleDay(cal, "2026-12-09"), "2026-12-09"), "2026-12-09");
      expect(JSON.parse(JSON.stringify(round))).toEqual(cal);
      expect(JSON.parse(JSON.stringify(addHolidays(cal, cal.holidays ?? [])))).toEqual(cal.holidays ? cal : { ...cal, holidays: [] });
    }
    expect(dayKind(all.find((c) => c.key === "always")!, "2026-12-06")).toBe("working"); // a Sunday, 7×24
  });
});

describe("time options", () => {
  it("are every quarter hour to 24:00, with the calendar's own times kept", () => {
    const all = timeOptions();
    expect(all).toHaveLength(97);
    expect(all.slice(0, 2)).toEqual(["00:00", "00:15"]);
    expect(all[all.length - 1]).toBe("24:00");
    expect(timeOptions(["08:50", "09:00"])).toContain("08:50");
    expect(timeOptions(["08:50"]).indexOf("08:50")).toBe(timeOptions(["08:50"]).indexOf("08:45") + 1);
  });
});
