import { TranslatableString } from "@rjsf/utils";
import { describe, expect, it } from "vitest";
import { rjsfTranslator } from "./rjsfStrings";

describe("rjsfTranslator", () => {
  it("speaks Chinese with its parameters, English as rjsf does", () => {
    const zh = rjsfTranslator("zh-CN");
    expect(zh(TranslatableString.AddItemButton)).toBe("添加一行");
    expect(zh(TranslatableString.MoveUpButton)).toBe("上移");
    expect(zh(TranslatableString.OptionPrefix, ["2"])).toBe("选项 2");
    expect(rjsfTranslator("en")(TranslatableString.AddItemButton)).toBe("Add Item");
    // a string without Chinese falls back to rjsf's English
    expect(zh(TranslatableString.UnsupportedField)).toBe("Unsupported field schema.");
  });
});
