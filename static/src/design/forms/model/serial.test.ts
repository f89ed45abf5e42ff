import dayjs from "dayjs";
import { describe, expect, it } from "vitest";
import { serialExample } from "./serial";

describe("serial examples", () => {
  const now = dayjs("2026-02-05T14:00:00");

  it("draws the date parts and the first sequence number", () => {
    expect(serialExample("SV-{date:%Y%m%d}-{seq:4}", now)).toBe("SV-20260205-0001");
    expect(serialExample("{date:%y}/{date:%j}-{seq}", now)).toBe("26/036-0001");
    expect(serialExample("R{seq:6}", now)).toBe("R000001");
  });

  it("keeps literal text", () => {
    expect(serialExample("no parts", now)).toBe("no parts");
  });
});
