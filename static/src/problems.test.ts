import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KNOWN_CODES, problemSentence } from "./problems";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

describe("problems in the reader's language", () => {
  it("reads a known code in Chinese, filling what the body says", () => {
    expect(problemSentence("zh-CN", { code: "record.not_found", detail: "Form 'ticket' has no record 9." })).toBe("记录不存在，或你没有查看它的权限");
    expect(problemSentence("zh-CN", { code: "rate_limited", retry_after: 30 })).toBe("操作太频繁，请 30 秒后再试");
  });

  it("drops the clause whose value the body does not carry", () => {
    expect(problemSentence("zh-CN", { code: "rate_limited" })).toBe("操作太频繁");
    expect(problemSentence("zh-CN", { code: "auth.locked" })).toBe("登录失败次数过多，账号暂时锁定");
  });

  it("leaves English readers and unknown codes to the server's own text", () => {
    expect(problemSentence("en", { code: "record.not_found" })).toBeNull();
    expect(problemSentence("zh-CN", { code: "something.new" })).toBeNull();
    expect(problemSentence("zh-CN", { detail: "no code" })).toBeNull();
  });

  it("knows every code the server answers with", () => {
    // every `code="…"` (and the kinds' default codes) written in the server's sources
    const found = execFileSync("grep", ["-rhoE", String.raw`(code=|default_code = )"[a-z_.]+"`, join(ROOT, "tangram")], { encoding: "utf8" })
      .split("\n")
      .map((line) => line.replace(/^.*"([a-z_.]+)"$/, "$1"))
      .filter(Boolean)
      .filter((code) => !code.startsWith("backup.") && !code.startsWith("demo.")); // the command line's own
    const missing = [...new Set(found)].filter((code) => !KNOWN_CODES.includes(code)).sort();
    expect(missing).toEqual([]);
  });
});
