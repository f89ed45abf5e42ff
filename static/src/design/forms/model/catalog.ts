// The palette: every field type the engine has, how it is named and grouped, what a new one looks
// like, and which properties the property panel shows for it.
import type { FieldDefinition, FieldType, Text } from "./types";

export type EditorKind =
  | "text_i18n"
  | "boolean"
  | "number"
  | "integer"
  | "string"
  | "pattern"
  | "default"
  | "options"
  | "reference"
  | "condition"
  | "formula"
  | "result"
  | "serial"
  | "currency"
  | "accept";

export interface PropertySpec {
  name: string;
  editor: EditorKind;
  label: Text;
}

export interface FieldKind {
  type: FieldType;
  name: Text;
  group: string;
  icon: string;
  /** Whether a sub-table may hold it as a column. */
  inTable: boolean;
  properties: string[];
  /** The properties of a new field of this type, beside key and label. */
  create: () => Partial<FieldDefinition>;
}

export const GROUPS: Record<string, Text> = {
  basic: { "zh-CN": "基础字段", en: "Basic" },
  choice: { "zh-CN": "选择", en: "Choices" },
  time: { "zh-CN": "日期时间", en: "Date and time" },
  people: { "zh-CN": "人员与组织", en: "People" },
  files: { "zh-CN": "附件", en: "Files" },
  relation: { "zh-CN": "关联与子表", en: "Relations" },
  advanced: { "zh-CN": "高级", en: "Advanced" },
};

export const PROPERTIES: Record<string, PropertySpec> = Object.fromEntries(
  (
    [
      ["placeholder", "text_i18n", "占位提示", "Placeholder"],
      ["help", "text_i18n", "说明", "Help"],
      ["required", "boolean", "必填", "Required"],
      ["default", "default", "默认值", "Default"],
      ["min", "number", "最小值", "Minimum"],
      ["max", "number", "最大值", "Maximum"],
      ["min_length", "integer", "最少字数", "Minimum length"],
      ["max_length", "integer", "最多字数", "Maximum length"],
      ["pattern", "pattern", "格式（正则表达式）", "Pattern (regular expression)"],
      ["precision", "integer", "小数位数", "Decimal places"],
      ["currency", "currency", "币种", "Currency"],
      ["options", "options", "选项", "Options"],
      ["reference", "reference", "关联表单", "Linked form"],
      ["accept", "accept", "允许的文件类型", "Accepted files"],
      ["max_size", "integer", "单个文件上限（字节）", "Largest file (bytes)"],
      ["max_files", "integer", "最多文件数", "Most files"],
      ["min_rows", "integer", "最少行数", "Fewest rows"],
      ["max_rows", "integer", "最多行数", "Most rows"],
      ["formula", "formula", "公式", "Formula"],
      ["result", "result", "结果类型", "Result type"],
      ["serial", "serial", "编号规则", "Numbering pattern"],
      ["gapless", "boolean", "连续不跳号（同表单的提交依次排队）", "Gapless (submissions of the form wait in turn)"],
      ["unique", "boolean", "不允许重复", "Unique"],
      ["indexed", "boolean", "建立索引（加快筛选）", "Indexed (faster filters)"],
      ["read_only", "boolean", "只读（仅规则与流程写入）", "Read-only (rules and flows write it)"],
      ["flow_only", "boolean", "仅流程填写", "Filled by flows only"],
      ["visible_when", "condition", "显示条件", "Visible when"],
      ["required_when", "condition", "必填条件", "Required when"],
    ] as const
  ).map(([name, editor, zh, en]) => [name, { name, editor, label: { "zh-CN": zh, en } }]),
);

const COMMON = ["help", "placeholder", "required", "default", "unique", "indexed", "read_only", "flow_only", "visible_when", "required_when"];
const TEXT = [...COMMON, "min_length", "max_length", "pattern"];
const NUMBER = [...COMMON, "min", "max"];
const CHOICE = ["help", "required", "default", "options", "indexed", "read_only", "flow_only", "visible_when", "required_when"];
const PLAIN = ["help", "required", "default", "indexed", "read_only", "flow_only", "visible_when", "required_when"];
const FILES = ["help", "required", "accept", "max_size", "read_only", "flow_only", "visible_when", "required_when"];

const option = (n: number) => ({ value: `option_${n}`, label: { "zh-CN": `选项${n}`, en: `Option ${n}` } });

function kind(type: FieldType, zh: string, en: string, group: string, icon: string, properties: string[], create: () => Partial<FieldDefinition> = () => ({}), inTable = true): FieldKind {
  return { type, name: { "zh-CN": zh, en }, group, icon, properties, create, inTable };
}

export const CATALOG: FieldKind[] = [
  kind("text", "单行文本", "Text", "basic", "FontSizeOutlined", TEXT),
  kind("textarea", "多行文本", "Paragraph", "basic", "AlignLeftOutlined", TEXT),
  kind("rich_text", "富文本", "Rich text", "basic", "FileTextOutlined", TEXT.filter((p) => p !== "unique" && p !== "indexed")),
  kind("number", "数字", "Number", "basic", "NumberOutlined", NUMBER),
  kind("integer", "整数", "Whole number", "basic", "FieldNumberOutlined", NUMBER),
  kind("money", "金额", "Money", "basic", "MoneyCollectOutlined", [...NUMBER, "precision", "currency"], () => ({ precision: 2, currency: "CNY" })),
  kind("email", "邮箱", "E-mail", "basic", "MailOutlined", COMMON),
  kind("phone", "电话", "Phone", "basic", "PhoneOutlined", COMMON),
  kind("select", "下拉框", "Drop-down", "choice", "DownSquareOutlined", CHOICE, () => ({ options: [option(1), option(2)] })),
  kind("radio", "单选按钮组", "Radio buttons", "choice", "CheckCircleOutlined", CHOICE, () => ({ options: [option(1), option(2)] })),
  kind("multi_select", "复选框组", "Check boxes", "choice", "CheckSquareOutlined", [...CHOICE, "min_length", "max_length"], () => ({ options: [option(1), option(2)] })),
  kind("checkbox", "开关", "Switch", "choice", "SwapOutlined", PLAIN.filter((p) => p !== "required")),
  kind("date", "日期", "Date", "time", "CalendarOutlined", PLAIN),
  kind("datetime", "日期时间", "Date and time", "time", "FieldTimeOutlined", PLAIN),
  kind("user", "成员", "Person", "people", "UserOutlined", PLAIN),
  kind("group", "部门/小组", "Group", "people", "TeamOutlined", PLAIN),
  kind("attachment", "附件", "File", "files", "PaperClipOutlined", FILES),
  kind("attachments", "多个附件", "Files", "files", "FolderOpenOutlined", [...FILES, "max_files"]),
  kind("signature", "手写签名", "Signature", "files", "EditOutlined", FILES),
  kind("reference", "关联记录", "Linked record", "relation", "LinkOutlined", [...PLAIN, "reference"], () => ({ reference: { form: "" } })),
  kind(
    "sub_table",
    "子表单",
    "Sub-table",
    "relation",
    "TableOutlined",
    ["help", "required", "min_rows", "max_rows", "read_only", "flow_only", "visible_when", "required_when"],
    () => ({}),
    false,
  ),
  kind("formula", "公式", "Formula", "advanced", "FunctionOutlined", ["help", "formula", "result", "visible_when"], () => ({ formula: 0, result: "number" })),
  kind("serial", "流水号", "Serial number", "advanced", "OrderedListOutlined", ["help", "serial", "gapless", "visible_when"], () => ({ serial: "{date:%Y%m%d}-{seq:4}" })),
];

export const KIND_OF: Record<string, FieldKind> = Object.fromEntries(CATALOG.map((k) => [k.type, k]));

/** The properties the panel shows for a field of ``type`` (those of any type for unknown ones). */
export function propertiesOf(type: string): PropertySpec[] {
  return (KIND_OF[type]?.properties ?? COMMON).map((name) => PROPERTIES[name]).filter(Boolean);
}
