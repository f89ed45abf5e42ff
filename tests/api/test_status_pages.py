"""A record's public status page: the private link an intake submission returns, what it shows,
the customer's replies and files, and agents' public replies."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.credentials import secret_hash
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import AccessLink, AuditEntry, Comment, Notification
from tests.conftest import CHEAP_PASSWORDS, LASTING_SESSIONS, ApiClient, assert_problem, make_user

APP = "/api/v1/apps/app"
RECORDS = f"{APP}/records/ticket"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": f"{key}字段", "en": key}, **extra}


def option(value: str, zh: str, en: str) -> dict[str, Any]:
    return {"value": value, "label": {"zh-CN": zh, "en": en}}


FORM = {
    "key": "ticket",
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": [
        field("no", "serial", serial="SV-{seq:4}"),
        field("title", "text", required=True),
        field(
            "kind",
            "select",
            options=[option("fault", "故障", "Fault"), option("question", "咨询", "Question")],
        ),
        field(
            "status",
            "select",
            options=[option("new", "新建", "New"), option("replied", "客户已回复", "Replied")],
            default="new",
        ),
        field("internal", "textarea"),
        field("photo", "attachment", accept=["image/*"]),
        field("details", "rich_text"),
    ],
    "options": {"title_field": "title"},
    "public": {"fields": ["no", "title", "kind", "status", "photo", "details"]},
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=tmp_path,
        embedded_worker=False,
        max_upload_bytes=1000,
        intake_max_per_hour=3,
        **CHEAP_PASSWORDS,
        **LASTING_SESSIONS,
    )


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    created = admin_client.post(f"{APP}/forms", json={"body": FORM})
    assert created.status_code == 201, created.get_json()
    assert admin_client.post(f"{APP}/forms/ticket/publish", json={}).status_code == 201
    return admin_client


def submit(api: ApiClient, client: ApiClient, **extra: Any) -> dict[str, Any]:
    """A customer's submission through a new intake link: the receipt."""
    body = {"form": "ticket", "fields": ["title", "kind", "photo", "internal", "details"]} | extra
    link = api.post(f"{APP}/intake", json=body).get_json()
    path = f"/api/v1/intake/{link['token']}"
    photo = client.post(
        f"{path}/attachments", data={"file": (BytesIO(PNG), "p.png"), "field": "photo"}
    )
    assert photo.status_code == 201, photo.get_json()
    data = {
        "title": "漏水",
        "kind": "fault",
        "internal": "VIP?",
        "photo": photo.get_json(),
        "details": "<p>第一段</p><p>第二段 &amp; <b>加粗</b><script>x</script></p>",
    }
    receipt = client.post(path, json={"data": data})
    assert receipt.status_code == 201, receipt.get_json()
    out: dict[str, Any] = receipt.get_json()
    return out


def status_api(receipt: dict[str, Any]) -> str:
    return "/api/v1" + receipt["status_path"]


def test_a_submission_returns_a_private_status_link_whose_token_is_stored_hashed(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    receipt = submit(api, client)
    assert receipt["serials"] == {"no": "SV-0001"}
    token = receipt["status_path"].removeprefix("/status/")
    assert receipt["status_path"] == f"/status/{token}"
    assert token.startswith("tga_")
    with platform.unit_of_work(write=False) as uow:
        links = list(uow.session.scalars(select(AccessLink)))
    assert [(x.kind, x.record_id, x.token_hash) for x in links] == [
        ("status", receipt["id"], secret_hash(token))
    ]
    assert token not in str([x.token_hash for x in links])


def test_the_status_page_shows_public_fields_and_timeline_in_the_language_asked(
    api: ApiClient, client: ApiClient
) -> None:
    receipt = submit(api, client)
    zh = client.get(status_api(receipt) + "?lang=zh-CN")
    assert zh.status_code == 200, zh.get_json()
    page = zh.get_json()
    assert (page["number"], page["title"], page["form"]) == ("SV-0001", "漏水", "工单")
    shown = {f["key"]: f["value"] for f in page["fields"]}
    assert shown == {
        "no": "SV-0001",
        "title": "漏水",
        "kind": "故障",
        "status": "新建",
        "photo": "p.png",
        "details": "第一段\n第二段 & 加粗",  # rich text as plain text, paragraphs apart
    }
    assert "internal" not in str(page)
    assert "VIP?" not in str(page)
    photo = next(f for f in page["fields"] if f["key"] == "photo")
    assert [f["name"] for f in photo["files"]] == ["p.png"]
    assert [(e["kind"], e["text"]) for e in page["timeline"]] == [("created", "已登记")]
    assert page["state"] is None  # no flow runs on this form
    en = client.get(status_api(receipt) + "?lang=en").get_json()
    assert {f["key"]: f["value"] for f in en["fields"]}["kind"] == "Fault"
    assert en["timeline"][0]["text"] == "Registered"
    # the customer downloads the public photo through the same link
    download = client.get(f"{status_api(receipt)}/attachments/{photo['files'][0]['id']}")
    assert download.status_code == 200
    assert download.data == PNG
    download.close()


def test_forged_unknown_and_expired_links_answer_the_same_404(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt = submit(api, client)
    token = receipt["status_path"].removeprefix("/status/")
    forged = [token[:-1] + ("A" if token[-1] != "A" else "B"), "tga_x", "tgi_abc_def", "x" * 300]
    for bad in forged:
        body = assert_problem(client.get(f"/api/v1/status/{bad}"), 404, "access.not_found")
        assert body["detail"] == "This link does not exist or has expired."
        reply = client.post(f"/api/v1/status/{bad}/replies", json={"body": "hi"})
        assert_problem(reply, 404, "access.not_found")
    zh = client.get(f"/api/v1/status/{forged[0]}", headers={"Accept-Language": "zh-CN"})
    assert assert_problem(zh, 404)["detail"] == "链接不存在或已失效"
    with platform.unit_of_work() as uow:
        link = uow.session.scalar(select(AccessLink))
        assert link is not None
        link.expires_at = clock.now() + timedelta(minutes=1)
        uow.commit()
    assert client.get(status_api(receipt)).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert_problem(client.get(status_api(receipt)), 404, "access.not_found")
    # a deleted record's link opens nothing either
    clock.advance(timedelta(minutes=-1))
    record = api.get(f"{RECORDS}/{receipt['id']}").get_json()
    deleted = api.delete(
        f"{RECORDS}/{receipt['id']}", query_string={"lock_version": record["lock_version"]}
    )
    assert deleted.status_code in (200, 204), deleted.get_data(as_text=True)
    assert_problem(client.get(status_api(receipt)), 404, "access.not_found")


def test_a_customer_reply_is_plain_text_carries_files_and_tells_the_owner(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    owner = make_user(platform, "desk")
    receipt = submit(api, client, owner_id=owner.id)
    base = status_api(receipt)
    file = client.post(f"{base}/attachments", data={"file": (BytesIO(PNG), "more.png")})
    assert file.status_code == 201, file.get_json()
    sent = client.post(
        f"{base}/replies",
        json={
            "body": "<b>还在</b>漏<script>alert(1)</script>水\x07 &amp; 更严重了",
            "attachments": [file.get_json()["id"]],
        },
    )
    assert sent.status_code == 201, sent.get_json()
    entry = sent.get_json()
    assert entry["text"] == "还在漏水 & 更严重了"
    assert entry["kind"] == "customer_reply"
    assert entry["by"] == "客户"
    assert [a["name"] for a in entry["attachments"]] == ["more.png"]
    page = client.get(base).get_json()
    assert [e["kind"] for e in page["timeline"]] == ["created", "customer_reply"]
    got = client.get(f"{base}/attachments/{file.get_json()['id']}")
    assert got.status_code == 200
    assert got.data == PNG
    got.close()
    # agents see it among the comments and on the timeline; the owner was told
    listed = api.get(f"{RECORDS}/{receipt['id']}/comments").get_json()["items"]
    assert [(c["body"], c["author"], c["from_customer"], c["public"]) for c in listed] == [
        ("还在漏水 & 更严重了", None, True, True)
    ]
    timeline = api.get(f"{RECORDS}/{receipt['id']}/timeline").get_json()
    assert timeline[-1]["action"] == "record.customer_replied"
    assert timeline[-1]["payload"]["text"] == "还在漏水 & 更严重了"
    with platform.unit_of_work(write=False) as uow:
        told = list(uow.session.scalars(select(Notification)))
    assert [(n.user_id, n.kind, n.title) for n in told] == [
        (owner.id, "customer_reply", f"客户回复了 工单 #{receipt['id']}")
    ]
    # the same file cannot be used twice, nor a file of another link
    again = client.post(
        f"{base}/replies", json={"body": "again", "attachments": [file.get_json()["id"]]}
    )
    assert set(assert_problem(again, 422, "reply.invalid")["errors"]) == {"attachments/0"}


def test_bad_replies_write_nothing_and_replies_are_rate_limited(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt = submit(api, client)
    base = status_api(receipt)
    empty = client.post(f"{base}/replies", json={"body": "<p> </p>\x01"})
    assert set(assert_problem(empty, 422, "reply.invalid")["errors"]) == {"body"}
    long = client.post(f"{base}/replies", json={"body": "长" * 2001})
    assert set(assert_problem(long, 422, "reply.invalid")["errors"]) == {"body"}
    unknown = client.post(f"{base}/replies", json={"body": "hi", "attachments": ["nope"]})
    assert set(assert_problem(unknown, 422, "reply.invalid")["errors"]) == {"attachments/0"}
    html_file = client.post(f"{base}/attachments", data={"file": (BytesIO(b"<x>"), "a.html")})
    assert_problem(html_file, 422)
    with platform.unit_of_work(write=False) as uow:
        assert list(uow.session.scalars(select(Comment))) == []
    for n in range(3):
        assert client.post(f"{base}/replies", json={"body": f"r{n}"}).status_code == 201
    limited = client.post(f"{base}/replies", json={"body": "r4"})
    assert assert_problem(limited, 429, "rate_limited")["retry_after"] == 3601
    upload = client.post(f"{base}/attachments", data={"file": (BytesIO(PNG), "p.png")})
    assert_problem(upload, 429, "rate_limited")
    clock.advance(timedelta(hours=1, seconds=1))
    assert client.post(f"{base}/replies", json={"body": "r5"}).status_code == 201


def test_agents_comments_are_internal_unless_a_public_reply(
    api: ApiClient, client: ApiClient
) -> None:
    receipt = submit(api, client)
    comments = f"{RECORDS}/{receipt['id']}/comments"
    internal = api.post(comments, json={"body": "客户是 VIP 吗？"})
    assert internal.status_code == 201
    assert internal.get_json()["public"] is False
    public = api.post(comments, json={"body": "已安排工程师上门", "public": True})
    assert public.status_code == 201, public.get_json()
    assert public.get_json()["public"] is True
    assert public.get_json()["from_customer"] is False
    page = client.get(status_api(receipt) + "?lang=en").get_json()
    replies = [(e["kind"], e["text"], e["by"]) for e in page["timeline"] if e["kind"] == "reply"]
    assert replies == [("reply", "已安排工程师上门", "Service team")]
    assert "VIP" not in str(page)
    assert "admin" not in str(page).lower()


def test_a_public_reply_is_refused_on_a_form_without_a_public_side(api: ApiClient) -> None:
    plain = {**FORM, "key": "memo", "public": None}
    del plain["public"]
    assert api.post(f"{APP}/forms", json={"body": plain}).status_code == 201
    assert api.post(f"{APP}/forms/memo/publish", json={}).status_code == 201
    record = api.post(f"{APP}/records/memo", json={"data": {"title": "t"}}).get_json()
    refused = api.post(
        f"{APP}/records/memo/{record['id']}/comments", json={"body": "hi", "public": True}
    )
    assert set(assert_problem(refused, 422, "comment.invalid")["errors"]) == {"public"}


def test_a_form_public_block_names_existing_readable_fields(api: ApiClient) -> None:
    unknown_key = {**FORM, "key": "bad1", "public": {"fields": ["title"], "extra": 1}}
    ghost = {**FORM, "key": "bad2", "public": {"fields": ["title", "ghost"]}}
    for body in (unknown_key, ghost):
        assert api.post(f"{APP}/forms", json={"body": body}).status_code == 201
    refused = assert_problem(api.post(f"{APP}/forms/bad1/publish", json={}), 422)
    assert "/public" in str(refused)
    assert "extra" in str(refused)
    refused = assert_problem(api.post(f"{APP}/forms/bad2/publish", json={}), 422)
    assert "/public/fields/1" in str(refused)
    assert "ghost" in str(refused)


def test_a_rule_reacts_to_a_customer_reply(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    rule = {
        "key": "on_reply",
        "label": {"zh-CN": "客户回复后", "en": "On reply"},
        "form": "ticket",
        "trigger": {"type": "customer_replied"},
        "actions": [{"type": "set_fields", "values": {"status": "replied"}}],
    }
    created = api.post(f"{APP}/rules", json={"body": rule})
    assert created.status_code == 201, created.get_json()
    published = api.post(f"{APP}/rules/on_reply/publish", json={})
    assert published.status_code == 201, published.get_json()
    receipt = submit(api, client)
    record = api.get(f"{RECORDS}/{receipt['id']}").get_json()
    assert record["data"]["status"] == "new"  # creation does not trigger it
    assert client.post(f"{status_api(receipt)}/replies", json={"body": "在吗"}).status_code == 201
    record = api.get(f"{RECORDS}/{receipt['id']}").get_json()
    assert record["data"]["status"] == "replied"
    with platform.unit_of_work(write=False) as uow:
        fired = list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "rule.fired"))
        )
    assert [e.payload["rule"] for e in fired] == ["on_reply"]
    page = client.get(status_api(receipt)).get_json()
    assert {f["key"]: f["value"] for f in page["fields"]}["status"] == "客户已回复"
    assert [e["kind"] for e in page["timeline"]] == ["created", "customer_reply", "changed"]
    assert page["timeline"][-1]["text"] == "status字段：客户已回复"
