// react-jsonschema-form's own words (a sub-table's add, move and remove buttons, an empty table's
// hint, yes and no, …) in the user's language; English is rjsf's own.
import { englishStringTranslator, replaceStringParameters, TranslatableString } from "@rjsf/utils";

/** Chinese for the strings a record form can show (``%1`` takes the string's parameters). */
const ZH: Partial<Record<TranslatableString, string>> = {
  [TranslatableString.ArrayItemTitle]: "条目",
  [TranslatableString.MissingItems]: "缺少条目定义",
  [TranslatableString.EmptyArray]: "还没有内容，点击下方按钮添加",
  [TranslatableString.YesLabel]: "是",
  [TranslatableString.NoLabel]: "否",
  [TranslatableString.CloseLabel]: "关闭",
  [TranslatableString.ErrorsLabel]: "错误",
  [TranslatableString.NewStringDefault]: "新值",
  [TranslatableString.AddButton]: "添加",
  [TranslatableString.AddItemButton]: "添加一行",
  [TranslatableString.CopyButton]: "复制",
  [TranslatableString.MoveDownButton]: "下移",
  [TranslatableString.MoveUpButton]: "上移",
  [TranslatableString.RemoveButton]: "删除",
  [TranslatableString.NowLabel]: "现在",
  [TranslatableString.ClearLabel]: "清除",
  [TranslatableString.AriaDateLabel]: "选择日期",
  [TranslatableString.PreviewLabel]: "预览",
  [TranslatableString.DecrementAriaLabel]: "减 1",
  [TranslatableString.IncrementAriaLabel]: "加 1",
  [TranslatableString.ClearButton]: "清空",
  [TranslatableString.OptionPrefix]: "选项 %1",
  [TranslatableString.TitleOptionPrefix]: "%1 选项 %2",
};

/** rjsf's ``translateString`` for ``lang``. */
export function rjsfTranslator(lang: string): (text: TranslatableString, params?: string[]) => string {
  return (text, params) => {
    const zh = lang === "en" ? undefined : ZH[text];
    return zh === undefined ? englishStringTranslator(text, params) : replaceStringParameters(zh, params);
  };
}
