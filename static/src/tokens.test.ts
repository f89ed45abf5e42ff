import dayjs from "dayjs";
import { describe, expect, it } from "vitest";
import { resolveToken } from "./tokens";

describe("default tokens", () => {
  const now = dayjs("2026-12-03T09:30:00+08:00");

  it("gives today's date and the time now with its offset", () => {
    expect(resolveToken("$today", now)).toBe(now.format("YYYY-MM-DD"));
    expect(resolveToken("$now", now)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(dayjs(resolveToken("$now", now) as string).valueOf()).toBe(now.valueOf());
  });

  it("leaves every other value alone", () => {
    for (const value of ["today", "$tomorrow", 3, null, ["$today"], { a: 1 }]) expect(resolveToken(value, now)).toBe(value);
  });
});
