"""The ``mail`` block of a form (e-mail intake): what the compile step checks."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.forms import compile_form


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key}, **extra}


def ticket(mail: dict[str, Any], *, public: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "ticket",
        "label": {"zh-CN": "工单"},
        "fields": [
            field("no", "serial", serial="SV-{seq:4}"),
            field("title", "text"),
            field("description", "rich_text"),
            field("images", "attachments"),
            field("email", "email"),
            field("customer", "reference", reference={"form": "customer"}),
        ],
        "mail": mail,
    }
    if public:
        body["public"] = {"fields": ["no", "title"]}
    return body


GOOD = {
    "channel": "service",
    "subject": "title",
    "body": "description",
    "attachments": "images",
    "sender": "email",
    "values": {"title": "x"},
    "customer": {"form": "customer", "email": "contacts.email", "field": "customer"},
}


def diagnostics(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_form(body)
    return [(d.path, d.code) for d in caught.value.diagnostics]


def test_a_valid_mail_block_is_kept_on_the_form() -> None:
    form = compile_form(ticket(GOOD))
    assert form.mail is not None
    assert form.mail["channel"] == "service"


def test_a_form_without_the_block_has_no_mail_channel() -> None:
    body = ticket(GOOD)
    del body["mail"]
    assert compile_form(body).mail is None


def test_each_slot_must_name_a_field_of_a_fitting_type() -> None:
    bad = {
        **GOOD,
        "subject": "ghost",
        "body": "no",
        "attachments": "title",
        "values": {"nope": 1},
        "customer": {"form": "customer", "email": "contacts.email", "field": "title"},
    }
    assert sorted(diagnostics(ticket(bad))) == [
        ("/mail/attachments", "form.mail.field"),
        ("/mail/body", "form.mail.field"),
        ("/mail/customer/field", "form.mail.field"),
        ("/mail/subject", "form.mail.field"),
        ("/mail/values/nope", "form.mail.field"),
    ]


def test_the_customer_reference_must_point_at_the_matched_form() -> None:
    bad = {**GOOD, "customer": {"form": "account", "email": "email", "field": "customer"}}
    assert diagnostics(ticket(bad)) == [("/mail/customer/form", "form.mail.field")]


def test_mail_intake_needs_a_public_block() -> None:
    assert diagnostics(ticket(GOOD, public=False)) == [("/mail", "form.mail.public")]


def test_the_meta_schema_checks_the_channel_and_required_slots() -> None:
    found = diagnostics(ticket({"channel": "Service Desk", "subject": "title"}))
    assert ("/mail/channel", "meta.pattern") in found
    assert ("/mail/body", "meta.required") in found or ("/mail", "meta.required") in found
