"""Reading inbound mail (pure): parsing hostile messages, telling auto-replies and loops apart,
and the signed thread marks."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tangram.platform.inbound.messages import (
    ParsedMail,
    ack_message_id,
    address_parts,
    parse,
    refusal,
    signature,
    subject_token,
    thread_of,
    without_quotes,
)
from tangram.platform.records.comments import html_text

SECRET = "test-secret"
OWN = {"own_addresses": ["support@tangram.test"], "own_domains": ["tangram.test"]}


def mail(**headers: str) -> ParsedMail:
    m = EmailMessage()
    m["From"] = headers.pop("From", "王工 <Wang@Grid.test>")
    m["Subject"] = headers.pop("Subject", "设备漏水")
    m["Message-ID"] = headers.pop("Message_ID", "<1@grid.test>")
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content("正文")
    return parse(m.as_bytes())


def test_parse_reads_sender_subject_ids_and_body() -> None:
    parsed = mail(In_Reply_To="<a@x>", References="<b@x> <a@x>")
    assert (parsed.sender, parsed.sender_name, parsed.subject) == (
        "wang@grid.test",
        "王工",
        "设备漏水",
    )
    assert parsed.replies_to == ("<a@x>", "<b@x>")
    assert parsed.text == "正文"
    assert parsed.safe_html is None
    assert parsed.problems == ()


def test_parse_keeps_attachments_and_prefers_the_text_part() -> None:
    m = EmailMessage()
    m["From"] = "a@b.test"
    m.set_content("plain")
    m.add_alternative("<p>rich</p>", subtype="html")
    m.add_attachment(b"data", maintype="application", subtype="pdf", filename="r.pdf")
    parsed = parse(m.as_bytes())
    assert parsed.text == "plain"
    assert parsed.safe_html == "<p>rich</p>"
    assert [(f.name, f.content_type, f.data) for f in parsed.files] == [
        ("r.pdf", "application/pdf", b"data")
    ]


def test_an_html_only_body_is_read_as_text_and_made_safe() -> None:
    m = EmailMessage()
    m["From"] = "a@b.test"
    m.set_content("<p onclick='x()'>一<br>二<script>bad()</script></p>", subtype="html")
    parsed = parse(m.as_bytes())
    assert parsed.text == "一\n二"
    assert parsed.safe_html is not None
    assert "script" not in parsed.safe_html
    assert "onclick" not in parsed.safe_html


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe\x00garbage without headers",
        b"From: <<<>>>\r\nSubject: =?utf-8?B?invalid?=\r\n\r\nbody",
        b"From: a@b.test\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n\xe4\xbd\xa0",
        b"From: a@b.test\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"From: a@b.test\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
        b"From: a@b.test\r\nSubject: " + b"x" * 5000 + b"\r\n\r\n",
        b"From: a@b.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Disposition: attachment; filename*=bogus''%ZZ\r\n\r\nabc\r\n",
    ],
)
def test_parse_never_raises_on_malformed_mail(raw: bytes) -> None:
    parsed = parse(raw)
    assert len(parsed.subject) <= 300
    assert isinstance(parsed.text, str)


def test_an_unknown_charset_is_read_as_utf8_and_noted() -> None:
    raw = b"From: a@b.test\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n\xe4\xbd\xa0"
    parsed = parse(raw)
    assert parsed.text == "你"
    assert any("charset" in p for p in parsed.problems)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, None),
        ({"Auto_Submitted": "no"}, None),
        ({"Auto_Submitted": "auto-replied"}, "auto_submitted"),
        ({"Auto_Submitted": "auto-generated"}, "auto_submitted"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"Precedence": "junk"}, "bulk"),
        ({"Precedence": "list"}, "bulk"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"X_Autorespond": "yes"}, "auto_reply"),
        ({"List_Id": "<l.grid.test>"}, "list"),
        ({"From": "Support <SUPPORT@tangram.test>"}, "loop"),
        ({"Message_ID": "<tangram-job-3@tangram.test>"}, "loop"),
        ({"From": "not an address"}, "no_sender"),
        ({"From": "MAILER-DAEMON@grid.test"}, "bounce"),
        ({"From": "postmaster@grid.test"}, "bounce"),
    ],
)
def test_refusal_names_auto_replies_and_loops(headers: dict[str, str], reason: str | None) -> None:
    assert refusal(mail(**headers), **OWN) == reason


def test_a_subject_token_and_an_ack_id_lead_back_to_their_record() -> None:
    token = subject_token(SECRET, 42, "SV-20261204-0001")
    assert token == f"[#SV-20261204-0001 ref:42.{signature(SECRET, 42)}]"
    assert thread_of(mail(Subject=f"Re: {token} 设备漏水"), SECRET) == 42
    ack = ack_message_id(SECRET, 42, "tangram.test")
    assert ack != ack_message_id(SECRET, 42, "tangram.test")  # each one fresh
    assert thread_of(mail(Subject="Re: 漏水", In_Reply_To=ack), SECRET) == 42
    assert thread_of(mail(Subject="Re: 漏水", References=f"<x@y> {ack}"), SECRET) == 42


def test_forged_or_foreign_marks_name_no_record() -> None:
    real = signature(SECRET, 42)
    forged = "A" * 16 if real != "A" * 16 else "B" * 16
    assert thread_of(mail(Subject=f"[#SV-1 ref:42.{forged}]"), SECRET) is None
    assert thread_of(mail(Subject=f"[#SV-1 ref:43.{real}]"), SECRET) is None
    assert thread_of(mail(Subject=f"[#SV-1 ref:42.{real}]"), "another-secret") is None
    ack = f"<tangram-ack.42.{forged}.x@tangram.test>"
    assert thread_of(mail(In_Reply_To=ack), SECRET) is None
    assert thread_of(mail(Subject="[#SV-20261204-0001]"), SECRET) is None


def test_to_text_keeps_line_breaks_and_drops_scripts() -> None:
    assert html_text("<p>a</p><p>b &amp; c<script>x()</script></p>") == "a\nb & c\n"


def test_address_parts() -> None:
    assert address_parts("Service@Mail.Test") == ("service", "mail.test")
    assert address_parts("<service@mail.test>") == ("service", "mail.test")
    assert address_parts("no-at-sign") == ("", "")


def test_without_quotes_drops_quoted_lines() -> None:
    text = "仍然漏水。\n\n> 原文第一行\n  > 原文第二行\n\n谢谢"
    assert without_quotes(text) == "仍然漏水。\n\n谢谢"
