"""A service-ticket form with every field type, as the after-sales package will have."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.engines.forms import Form, compile_form


def zh(text: str) -> dict[str, str]:
    return {"zh-CN": text, "en": text}


def ticket_definition() -> dict[str, Any]:
    return {
        "key": "ticket",
        "label": {"zh-CN": "售后工单", "en": "Service ticket"},
        "fields": [
            {
                "key": "ticket_no",
                "type": "serial",
                "label": zh("工单号"),
                "serial": "SV-{date:%Y%m%d}-{seq:4}",
            },
            {
                "key": "title",
                "type": "text",
                "label": zh("标题"),
                "required": True,
                "max_length": 50,
            },
            {"key": "description", "type": "rich_text", "label": zh("描述")},
            {"key": "notes", "type": "textarea", "label": zh("备注"), "min_length": 2},
            {
                "key": "channel",
                "type": "select",
                "label": zh("渠道"),
                "default": "web",
                "options": [
                    {"value": v, "label": zh(v)} for v in ("phone", "email", "web", "wechat")
                ],
            },
            {
                "key": "issue_type",
                "type": "radio",
                "label": zh("问题类型"),
                "required": True,
                "options": [{"value": v} for v in ("software_bug", "hardware_fault", "complaint")],
            },
            {
                "key": "tags",
                "type": "multi_select",
                "label": zh("标签"),
                "max_length": 2,
                "options": [{"value": v} for v in ("a", "b", "c")],
            },
            {
                "key": "urgency",
                "type": "integer",
                "label": zh("紧急度"),
                "min": 1,
                "max": 4,
                "default": 3,
            },
            {"key": "hours", "type": "number", "label": zh("工时"), "min": 0},
            {"key": "cost", "type": "money", "label": zh("费用"), "min": 0},
            {"key": "occurred_on", "type": "date", "label": zh("发生日期"), "default": "$today"},
            {"key": "occurred_at", "type": "datetime", "label": zh("发生时间")},
            {"key": "on_site", "type": "checkbox", "label": zh("需上门")},
            {
                "key": "address",
                "type": "text",
                "label": zh("地址"),
                "visible_when": {"==": [{"var": "on_site"}, True]},
                "required_when": {"var": "on_site"},
            },
            {"key": "assignee", "type": "user", "label": zh("处理人")},
            {"key": "team", "type": "group", "label": zh("处理组")},
            {"key": "contact_email", "type": "email", "label": zh("邮箱")},
            {"key": "contact_phone", "type": "phone", "label": zh("电话")},
            {"key": "photo", "type": "attachment", "label": zh("照片"), "accept": ["image/*"]},
            {"key": "files", "type": "attachments", "label": zh("附件"), "max_files": 2},
            {"key": "signature", "type": "signature", "label": zh("签名")},
            {
                "key": "customer",
                "type": "reference",
                "label": zh("客户"),
                "reference": {"form": "customer", "display": "name"},
            },
            {
                "key": "measures",
                "type": "sub_table",
                "label": zh("措施"),
                "max_rows": 3,
                "fields": [
                    {"key": "what", "type": "text", "label": zh("内容"), "required": True},
                    {"key": "owner", "type": "user", "label": zh("负责人"), "required": True},
                    {"key": "cost", "type": "money", "label": zh("费用")},
                    {"key": "qty", "type": "integer", "label": zh("数量")},
                    {
                        "key": "total",
                        "type": "formula",
                        "label": zh("小计"),
                        "formula": {"*": [{"var": "cost"}, {"var": "qty"}]},
                    },
                ],
            },
            {
                "key": "measure_total",
                "type": "formula",
                "label": zh("措施合计"),
                "formula": {
                    "reduce": [
                        {"var": "measures"},
                        {"+": [{"var": "accumulator"}, {"var": "current.total"}]},
                        0,
                    ]
                },
            },
            {
                "key": "per_hour",
                "type": "formula",
                "label": zh("每小时费用"),
                "formula": {"/": [{"var": "measure_total"}, {"var": "hours"}]},
            },
        ],
        "layout": {
            "sections": [{"title": zh("基本信息"), "columns": 2, "fields": ["title", "channel"]}]
        },
    }


def valid_ticket() -> dict[str, Any]:
    return {
        "title": "设备噪音超标",
        "issue_type": "hardware_fault",
        "channel": "phone",
        "urgency": 2,
        "cost": 12.5,
        "occurred_on": "2026-11-20",
        "occurred_at": "2026-11-20T10:30:00+08:00",
        "contact_email": "li@example.com",
        "contact_phone": "+86 138-0000-0000",
        "photo": {"id": "att_1", "name": "noise.jpg", "size": 1024, "content_type": "image/jpeg"},
        "customer": 7,
        "measures": [{"what": "更换风扇", "owner": 3, "cost": 100, "qty": 2}],
        "hours": 4,
    }


@pytest.fixture(scope="session")
def ticket() -> Form:
    return compile_form(ticket_definition(), forms={"customer": ["name", "tier"]})
