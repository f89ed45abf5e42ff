import { describe, expect, it } from "vitest";
import { pieces } from "./marks";

describe("a snippet's highlighted words", () => {
  it("cuts the text at its highlights, in order", () => {
    expect(pieces("开机后黑屏，无响应", [[6, 9], [3, 5]])).toEqual([
      { text: "开机后", marked: false },
      { text: "黑屏", marked: true },
      { text: "，", marked: false },
      { text: "无响应", marked: true },
    ]);
  });
  it("keeps plain text whole and clips offsets that overlap or overrun", () => {
    expect(pieces("fan noise", [])).toEqual([{ text: "fan noise", marked: false }]);
    expect(pieces("fan noise", [[0, 5], [2, 20]])).toEqual([
      { text: "fan n", marked: true },
      { text: "oise", marked: true },
    ]);
    expect(pieces("<b>", [[0, 1]])).toEqual([
      { text: "<", marked: true },
      { text: "b>", marked: false },
    ]);
  });
});
