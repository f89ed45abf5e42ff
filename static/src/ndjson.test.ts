import { describe, expect, it } from "vitest";
import { completeLines, sortLines } from "./ndjson";

describe("completeLines", () => {
  it("reads whole lines only and resumes where a cut line starts", () => {
    const first = completeLines('{"done":0}\n{"done":1}\n{"do', 0);
    expect(first.lines).toEqual([{ done: 0 }, { done: 1 }]);
    expect(first.offset).toBe(22);
    const text = '{"done":0}\n{"done":1}\n{"done":2}\n';
    const second = completeLines(text, first.offset);
    expect(second.lines).toEqual([{ done: 2 }]);
    expect(second.offset).toBe(text.length);
    expect(completeLines(text, second.offset).lines).toEqual([]);
  });

  it("skips blank lines and keeps Chinese text whole", () => {
    expect(completeLines('\n{"message":"与第 2 行重复"}\n\n', 0).lines).toEqual([{ message: "与第 2 行重复" }]);
  });

  it("throws on a line that is not JSON", () => {
    expect(() => completeLines("<html>\n", 0)).toThrow();
  });
});

describe("sortLines", () => {
  it("passes steps on and returns the report or the problem that ends the answer", () => {
    const steps: unknown[] = [];
    const report = sortLines<{ rows: number }, unknown>([{ stage: "check", done: 1, total: 2 }, { report: { rows: 2 } }], (s) => steps.push(s));
    expect(steps).toEqual([{ stage: "check", done: 1, total: 2 }]);
    expect(report).toEqual({ report: { rows: 2 } });
    expect(sortLines([{ problem: { status: 422, code: "import.invalid" } }], () => undefined)).toEqual({
      problem: { status: 422, code: "import.invalid" },
    });
    expect(sortLines([{ stage: "write", done: 5, total: 9 }], () => undefined)).toBeNull();
  });
});
