"""Validation messages in zh-CN and en."""

from __future__ import annotations

from typing import Any

LANGS = ("zh-CN", "en")

_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填", "is required"),
    "type.string": ("应为文本", "must be text"),
    "type.number": ("应为数字", "must be a number"),
    "type.integer": ("应为整数", "must be a whole number"),
    "type.boolean": ("应为是或否", "must be true or false"),
    "type.array": ("应为列表", "must be a list"),
    "type.object": ("应为对象", "must be an object"),
    "maxLength": ("最多 {limit} 个字符", "must be at most {limit} characters"),
    "minLength": ("至少 {limit} 个字符", "must be at least {limit} characters"),
    "maximum": ("不能大于 {limit}", "must be at most {limit}"),
    "minimum": ("不能小于 {limit}", "must be at least {limit}"),
    "enum": ("不是可选项之一", "is not one of the options"),
    "format.date": ("日期格式应为 YYYY-MM-DD", "must be a date like 2026-11-22"),
    "format.date-time": (
        "时间格式应为 ISO 8601（含时区）",
        "must be an ISO 8601 time with an offset",
    ),
    "format.email": ("邮箱格式不正确", "must be an e-mail address"),
    "pattern": ("格式不正确", "does not have the expected format"),
    "pattern.phone": (
        "电话号码格式不正确",
        "must be a phone number (digits, spaces, dashes, optional +)",
    ),
    "maxItems": ("最多 {limit} 项", "must have at most {limit} items"),
    "minItems": ("至少 {limit} 项", "must have at least {limit} items"),
    "maxItems.rows": ("最多 {limit} 行", "must have at most {limit} rows"),
    "minItems.rows": ("至少 {limit} 行", "must have at least {limit} rows"),
    "uniqueItems": ("不能重复", "must not repeat a value"),
    "unknown": ("未知字段", "is not a field of this form"),
    "precision": ("最多 {limit} 位小数", "must have at most {limit} decimal places"),
    "formula": ("公式无法计算：{detail}", "the formula cannot be computed: {detail}"),
    "condition": ("条件无法判断：{detail}", "the field's condition cannot be evaluated: {detail}"),
    "formula.not_finite": (
        "公式结果无效（如除以零）",
        "the formula gives no number (e.g. a division by zero)",
    ),
    "permission.read_only": ("只读字段，不能修改", "is read-only here"),
    "permission.hidden": ("无权修改此字段", "may not be changed here"),
    "permission.flow_only": (
        "该字段由流程写入，请在流程的待办中处理",
        "is written by the flow: use its tasks",
    ),
    "computed": ("由系统计算，不能填写", "is computed and cannot be written"),
    "not_object": ("应为对象", "must be an object"),
    "invalid": ("值无效", "is not valid"),
    "attachment.unknown": (
        "文件不存在或不能在此使用",
        "is not a file you uploaded to this form (or it belongs to another record)",
    ),
    "attachment.type": ("不接受此类文件：{name}", "does not accept files like {name}"),
    "attachment.size": ("文件不能超过 {limit} 字节", "must be a file of at most {limit} bytes"),
    "unique": ("该值已被记录 {id} 使用", "is already used by record {id}"),
    "reference.missing": ("引用的记录不存在", "no {form} record {id} exists in this app"),
    "group.missing": ("该组不存在", "no group {id} exists"),
    # spreadsheet imports: a cell that cannot be read as its field's type, said with its value
    "import.date": (
        "「{value}」不是日期，应如 2026-12-01",
        "“{value}” is not a date like 2026-12-01",
    ),
    "import.datetime": (
        "「{value}」不是时间，应如 2026-12-01 09:30",
        "“{value}” is not a time like 2026-12-01 09:30",
    ),
    "import.number": ("「{value}」不是数字", "“{value}” is not a number"),
    "import.integer": ("「{value}」不是整数", "“{value}” is not a whole number"),
    "import.yes_no": ("「{value}」应为 是 或 否", "“{value}” is not yes or no"),
    "import.option": ("「{value}」不是可选项：{options}", "“{value}” is not one of {options}"),
    "import.user": ("找不到「{value}」：请填写用户名或姓名", "nobody is named “{value}”"),
    "import.group": ("找不到「{value}」：请填写组名或编码", "no group is named “{value}”"),
    "import.reference": (
        "找不到「{value}」：请填写{target}的{display}或 #编号",
        "no {target} record has {display} “{value}” (or use #id)",
    ),
    "import.repeated": ("与第 {row} 行重复", "repeats row {row}"),
}


def message(code: str, lang: str, **params: Any) -> str:
    """The message of ``code`` in ``lang`` (zh-CN when the language is unknown)."""
    zh, en = _MESSAGES.get(code, _MESSAGES["invalid"])
    template = en if lang == "en" else zh
    return template.format(**params)


def catalogue(lang: str) -> dict[str, str]:
    """Every message template in ``lang`` (``{limit}``-style placeholders left in), for a browser
    that checks the same JSON Schema before sending and should say what the server would."""
    index = 1 if lang == "en" else 0
    return {code: pair[index] for code, pair in _MESSAGES.items()}
