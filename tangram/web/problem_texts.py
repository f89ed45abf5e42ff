"""What problems say in Chinese: a sentence for each problem code the server answers with.

A problem's ``detail`` is written in English where it is raised, with the particulars (keys, ids)
that help a developer. A caller that prefers Chinese (``Accept-Language: zh-CN``, as the web app
sends in its users' language) reads the sentence for the problem's ``code`` instead, with
``{name}`` filled from the problem's members; a code without one keeps its English detail. Field
messages (``errors``) are written in the caller's language where they arise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ZH: dict[str, str] = {
    # the kinds every problem falls back on
    "not_found": "找不到要找的内容，它可能已被删除",
    "gone": "该内容已不再可用",
    "conflict": "操作与现有数据冲突，请刷新后再试",
    "lock_version.stale": "别人刚刚修改过这里：请刷新后再改一次",
    "permission.denied": "你没有权限执行此操作",
    "validation.failed": "填写的内容有问题，请按提示修改",
    "rate_limited": "操作太频繁，请 {retry_after} 秒后再试",
    "integrity": "与现有数据冲突（例如标识刚被别人占用），请换一个再试",
    "request.malformed_json": "请求内容无法解析",
    "request.repeated_parameter": "同一个参数出现了多次",
    "request.unsupported_media_type": "不支持这种请求格式",
    "query.invalid": "筛选或排序条件有问题",
    # signing in and sessions
    "auth.required": "请先登录",
    "auth.expired": "登录已过期，请重新登录",
    "auth.wrong_credentials": "用户名或密码不正确",
    "auth.locked": "登录失败次数过多，账号暂时锁定，请 {retry_after} 秒后再试",
    "auth.inactive": "该账号已停用，请联系管理员",
    "auth.csrf": "页面已过期，请刷新后再试",
    "auth.scheme_unsupported": "不支持这种认证方式",
    "auth.token_expired": "访问令牌已过期",
    "auth.token_invalid": "访问令牌无效",
    "auth.token_revoked": "访问令牌已被吊销",
    "password.wrong": "当前密码不正确",
    "password.too_short": "密码太短",
    "password.too_long": "密码太长",
    "session.not_found": "该登录会话不存在或已结束",
    "token.not_found": "访问令牌不存在",
    "token.no_user": "该访问令牌不属于任何用户",
    "token.session_required": "此操作需要在浏览器中登录后进行",
    # permissions
    "permission.record": "你没有权限对这类记录执行此操作",
    "permission.field": "此报表用到了对你隐藏的字段，无法查看",
    "permission.admin_required": "只有管理员可以执行此操作",
    "permission.design": "你没有设计此应用的权限",
    "permission.role": "你不能修改这个角色",
    # apps, definitions and packages
    "app.not_found": "应用不存在，或你没有它的任何权限",
    "app.duplicate": "已有相同标识的应用",
    "app.uninstall_blocked": "应用还不能卸载，请先处理列出的原因",
    "definition.not_found": "定义不存在",
    "definition.duplicate": "已有相同标识的定义",
    "definition.invalid": "定义有问题：修正标出的问题后再试",
    "definition.kind_unknown": "不认识的定义类型",
    "definition.archived": "该定义已归档，不能再使用",
    "definition.not_archived": "该定义没有归档",
    "definition.not_published": "该定义还没有发布",
    "definition.published": "该定义已发布，不能这样修改",
    "definition.unchanged": "草稿与已发布版本相同，无需发布",
    "definition.version_not_found": "找不到该版本",
    "package.invalid": "应用包有问题，无法导入",
    "package.missing": "请选择要导入的应用包",
    "package.not_found": "找不到该应用包",
    "package.downgrade": "应用包的版本比已安装的旧，不能降级安装",
    "package.unresolved": "应用包引用了不存在的内容",
    "package.nothing_to_roll_back": "没有可以回滚的版本",
    "report.stale": "报表与表单不再匹配，请重新发布报表",
    "report.point": "找不到这个数据点",
    "widget.not_found": "仪表盘中没有这个组件",
    "calendar.closed": "工作日历里没有足够的工作时间",
    # records, files and views
    "record.not_found": "记录不存在，或你没有查看它的权限",
    "record.invalid": "记录有字段不符合要求，请按提示修改",
    "record.not_object": "记录内容格式不对",
    "record.unique_taken": "值已被另一条记录使用，不能恢复",
    "attachment.not_found": "文件不存在，或你没有查看它的权限",
    "attachment.missing": "请选择要上传的文件",
    "attachment.field": "请指定文件要上传到的字段",
    "attachment.bytes_missing": "文件内容已丢失，请联系管理员",
    "attachment.too_large": "文件太大，超过了允许的大小",
    "files.unavailable": "文件存储暂时无法访问，请稍后再试",
    "projection.missing": "表单的数据表还没有准备好，请稍后再试",
    "import.invalid": "导入的文件有问题，请按提示修改",
    "import.missing": "请选择要导入的文件",
    "intake.not_found": "该链接不存在或已关闭",
    "help.not_found": "该帮助中心或文章不存在",
    "intake.invalid": "提交链接的设置有问题",
    "intake.no_lookup": "此链接没有提供该字段的选项",
    "comment.invalid": "评论有问题：被提到的人需要能查看这条记录",
    "access.not_found": "链接不存在或已失效",
    "survey.answered": "此调查已提交，感谢您的评价",
    "survey.none": "目前没有待填写的调查",
    "reply.invalid": "回复有问题，请按提示修改",
    "view.not_found": "视图不存在",
    "view.invalid": "视图的条件有问题",
    "view.too_many": "视图数量已达上限，请先删除一个",
    "view.share_denied": "只有管理员可以共享视图",
    "view.delete_denied": "你不能删除别人的视图",
    "view.no_user": "只有登录用户才能保存视图",
    # flows and tasks
    "flow.not_found": "流程不存在",
    "flow.running": "这条记录上已有该流程在运行",
    "flow.depth": "子流程嵌套太深",
    "flow.migration": "流程实例无法迁移到新版本",
    "task.not_found": "待办不存在，或不是你的",
    "task.conflict": "这项待办已被处理，请刷新",
    "task.lock_version": "记录已被别人修改，请刷新后再提交",
    "task.opinion": "请填写意见",
    "task.required": "还有必填字段没有填写",
    "task.row": "这项待办只能修改它自己的那一行",
    "simulation.invalid": "流程预演的输入有问题",
    "simulation.field": "流程预演用到的字段不存在",
    # people, groups and roles
    "user.not_found": "用户不存在",
    "user.duplicate": "已有相同用户名的用户",
    "group.not_found": "部门（组）不存在",
    "group.duplicate": "已有相同标识的部门（组）",
    "group.in_use": "该部门（组）仍被引用，不能删除",
    "group.not_empty": "该部门（组）下还有成员或下级，不能删除",
    "membership.not_found": "该用户不在这个部门（组）中",
    "role.not_found": "角色不存在",
    "role.duplicate": "已有相同标识的角色",
    "role.system": "系统角色不能修改",
    "role.last_admin": "至少要保留一位有效的管理员",
    "role_assignment.not_found": "该用户没有这个角色",
    "grant.not_found": "授权不存在",
    "grant.duplicate": "该角色在这个表单上已有授权，请先删除原授权",
    "notification.not_found": "通知不存在",
    "job.not_found": "任务不存在",
    "mail.not_found": "这封来信不存在",
    "mail.not_dead": "只有处理失败（已放弃）的来信才能重试",
    # requests repeated with an Idempotency-Key
    "idempotency.in_progress": "同一请求还在处理中，请稍后再试",
    "idempotency.mismatch": "同一个幂等键用在了不同的请求上",
    "idempotency.key": "幂等键格式不对",
    # the service
    "service.database_unreachable": "数据库暂时无法连接，请稍后再试",
    "service.migrations_pending": "系统正在升级，请稍后再试",
    "service.schema_unknown": "系统版本不一致，请稍后再试",
    "database.busy": "系统正忙，请几秒后再试",
    "service.unavailable": "服务暂时不可用，请稍后再试",
}

_NAME = re.compile(r"\{(\w+)\}")
#: The clause of a sentence that names a value (", 请 {retry_after} 秒后再试"), dropped when the
#: problem does not carry the value.
_CLAUSE = re.compile(r"[，,]?[^，,]*\{\w+\}[^，,]*$")


def sentence(code: str, members: Mapping[str, Any]) -> str | None:
    """The Chinese sentence for a problem ``code``, or ``None`` when there is none."""
    template = ZH.get(code)
    if template is None:
        return None
    missing = [n for n in _NAME.findall(template) if not isinstance(members.get(n), str | int)]
    if missing:
        return _CLAUSE.sub("", template) or None
    return _NAME.sub(lambda m: str(members[m.group(1)]), template)
