import { describe, expect, it } from "vitest";
import { MAX_BODY, mentionedIds, occurrences, segments, sendable, withPerson, type Person } from "./model";

const qe: Person = { id: 2, username: "qe_a", display_name: "李四" };
const qeLong: Person = { id: 5, username: "qe_a.b", display_name: "王五" };
const agent: Person = { id: 1, username: "agent", display_name: "张三" };

describe("occurrences", () => {
  it("finds each @username where a name ends, ignoring case", () => {
    const text = "@qe_a 请看一下，@AGENT，谢谢";
    expect(occurrences(text, [qe, agent]).map((o) => [o.start, o.end, o.person.id])).toEqual([
      [0, 5, 2],
      [11, 17, 1],
    ]);
  });

  it("needs no space between a mention and Chinese text", () => {
    expect(occurrences("请@qe_a看一下", [qe]).map((o) => [o.start, o.end])).toEqual([[1, 6]]);
  });

  it("prefers the longest user name and lets punctuation end a shorter one", () => {
    expect(occurrences("@qe_a.b 来了", [qe, qeLong]).map((o) => o.person.id)).toEqual([5]);
    expect(occurrences("问 @qe_a. 好", [qe, qeLong]).map((o) => o.person.id)).toEqual([2]);
  });

  it("names nobody inside a longer name or an e-mail address", () => {
    expect(occurrences("@qe_ab", [qe])).toEqual([]);
    expect(occurrences("mail x@qe_a please", [qe])).toEqual([]);
    expect(occurrences("@@qe_a", [qe]).map((o) => o.start)).toEqual([1]);
    expect(occurrences("no one here @", [qe])).toEqual([]);
  });
});

describe("mentionedIds", () => {
  it("keeps the picked people still named, in the order they appear, once each", () => {
    expect(mentionedIds("@agent @qe_a 和 @agent", [qe, agent])).toEqual([1, 2]);
  });

  it("drops someone picked and then deleted from the text", () => {
    expect(mentionedIds("@qe_ 请看", [qe, agent])).toEqual([]);
    expect(mentionedIds("", [qe])).toEqual([]);
  });
});

describe("withPerson", () => {
  it("adds a person once", () => {
    expect(withPerson([qe], agent)).toEqual([qe, agent]);
    expect(withPerson([qe, agent], { ...qe })).toEqual([qe, agent]);
  });
});

describe("segments", () => {
  it("cuts a comment into text and the mentions of the people it mentions", () => {
    expect(segments("@qe_a 请看，@agent 知悉", [qe, agent])).toEqual([
      { kind: "mention", text: "@qe_a", person: qe },
      { kind: "text", text: " 请看，" },
      { kind: "mention", text: "@agent", person: agent },
      { kind: "text", text: " 知悉" },
    ]);
  });

  it("leaves an @ of someone not mentioned as text", () => {
    expect(segments("cc @director", [qe])).toEqual([{ kind: "text", text: "cc @director" }]);
    expect(segments("", [qe])).toEqual([]);
  });
});

describe("sendable", () => {
  it("refuses empty and too long texts, counting without surrounding white space", () => {
    expect(sendable("  \n ")).toBe("empty");
    expect(sendable(` ${"长".repeat(MAX_BODY)} `)).toBe("ok");
    expect(sendable("长".repeat(MAX_BODY + 1))).toBe("too_long");
  });
});
