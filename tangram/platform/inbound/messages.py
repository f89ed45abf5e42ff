"""Reading inbound e-mail: parse a raw message as far as it can be read, tell auto-replies and
loops apart, and make and check the thread marks we put on what we send.

Nothing here touches the database or the clock: the functions take bytes, headers and the
installation's secret, and return values, so hostile input is tested here in milliseconds.

Threading marks are self-verifying, so a reply is matched without storing what was sent:

- the subject token ``[#SV-20261204-0001 ref:12.Xk3v9QpL0aZ1b2Cd]`` names the record (12) and
  carries 16 characters of an HMAC-SHA256 of it under the installation's secret key;
- the acknowledgement's ``Message-ID`` ``<tangram-ack.12.Xk3v9QpL0aZ1b2Cd.r4nd0m@example.com>``
  carries the same, so a reply's ``In-Reply-To`` or ``References`` leads back to the record.

A mark whose HMAC does not verify names nothing: the mail starts a new record rather than
landing on somebody else's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import nh3

from tangram.platform.records.comments import html_text

#: The longest subject kept, in characters.
MAX_SUBJECT = 300
#: The longest body kept, in characters.
MAX_BODY = 100_000
#: The most attachments read from one message.
MAX_FILES = 20
#: What ``Precedence`` values mark mail that no person wrote to us.
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
#: Senders that only ever send delivery reports.
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_SIGNATURE_LENGTH = 16
_TOKEN = re.compile(r"\[#[^\[\]]{0,80}?\bref:(\d{1,12})\.([A-Za-z0-9_-]{16})\]")
_ACK_ID = re.compile(r"<tangram-ack\.(\d{1,12})\.([A-Za-z0-9_-]{16})\.[A-Za-z0-9_-]+@[^>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")
#: Exceptions the standard library raises on malformed headers, encodings and MIME structure.
MALFORMED = (MessageError, HeaderParseError, ValueError, LookupError, TypeError, UnicodeError)


@dataclass(frozen=True, slots=True)
class MailFile:
    """A file a message carries."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What Tangram reads from one message (every part it could read; ``problems`` says what
    it could not)."""

    sender: str
    sender_name: str
    subject: str
    message_id: str
    #: The ``In-Reply-To`` and ``References`` ids, in that order.
    replies_to: tuple[str, ...]
    #: The body as plain text (from the text part, else from the HTML one, tags removed).
    text: str
    #: The HTML body made safe (nh3: no scripts, styles, event handlers), or ``None``.
    safe_html: str | None
    files: tuple[MailFile, ...]
    headers: Mapping[str, str]
    problems: tuple[str, ...] = field(default=())


def parse(raw: bytes) -> ParsedMail:
    """Read ``raw`` as far as it can be read: a header or part that cannot be decoded is left
    out and named in ``problems``, never raised."""
    problems: list[str] = []
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for defect in message.defects:
        problems.append(f"defect: {type(defect).__name__}")
    headers = {name.lower(): _header(message, name, problems) for name in set(message.keys())}
    name, sender = _address(_header(message, "From", problems), problems)
    subject = _clean(_header(message, "Subject", problems))[:MAX_SUBJECT]
    message_id = _header(message, "Message-ID", problems).strip()[:300]
    replies = tuple(
        dict.fromkeys(
            re.findall(
                r"<[^<>\s]+>",
                _header(message, "In-Reply-To", problems)
                + " "
                + _header(message, "References", problems),
            )
        )
    )
    plain, rich, files = _walk(message, problems)
    safe_html = nh3.clean(rich).strip() if rich is not None else None
    text_body = plain if plain is not None else (html_text(rich) if rich is not None else "")
    return ParsedMail(
        sender=sender,
        sender_name=name,
        subject=subject,
        message_id=message_id,
        replies_to=replies,
        text=_BLANK_LINES.sub("\n\n", _clean(text_body))[:MAX_BODY],
        safe_html=safe_html[:MAX_BODY] if safe_html is not None else None,
        files=tuple(files[:MAX_FILES]),
        headers=headers,
        problems=tuple(problems),
    )


def without_quotes(text: str) -> str:
    """A reply's text without the lines it quotes (``> ...``): the earlier mail is on the
    timeline already."""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return _BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()


def _clean(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n")).strip()


def _header(message: Message, name: str, problems: list[str]) -> str:
    """One header as text ('' when missing or unreadable)."""
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except MALFORMED as exc:
        problems.append(f"header {name}: {type(exc).__name__}")
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return _CONTROL.sub("", str(raw[0])) if raw else ""


def _address(value: str, problems: list[str]) -> tuple[str, str]:
    """(display name, lowercased address) of a ``From`` value; ('', '') when unreadable."""
    found = getaddresses([value])
    if not found:
        return "", ""
    name, address = found[0]
    address = address.strip().lower()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        problems.append("from: no usable address")
        return _clean(name)[:100], ""
    return _clean(name)[:100], address[:320]


def _walk(
    message: EmailMessage, problems: list[str]
) -> tuple[str | None, str | None, list[MailFile]]:
    """The first text/plain and text/html bodies and the attached files."""
    plain: str | None = None
    rich: str | None = None
    files: list[MailFile] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except MALFORMED as exc:
            problems.append(f"part: {type(exc).__name__}")
            continue
        if filename or disposition == "attachment":
            data = _payload(part, problems)
            if data:
                files.append(MailFile(_clean(filename or "attachment")[:255], content_type, data))
            continue
        if content_type == "text/plain" and plain is None:
            plain = _text(part, problems)
        elif content_type == "text/html" and rich is None:
            rich = _text(part, problems)
    return plain, rich, files


def _payload(part: Message, problems: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except MALFORMED as exc:
        problems.append(f"attachment: {type(exc).__name__}")
        return b""
    return data if isinstance(data, bytes) else b""


def _text(part: Message, problems: list[str]) -> str:
    """A text part decoded by its charset (an unknown or lying charset read as UTF-8, with
    replacement characters where bytes do not decode)."""
    data = _payload(part, problems)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        problems.append(f"charset {charset!r} unknown")
        return data.decode("utf-8", errors="replace")


def refusal(
    mail: ParsedMail, *, own_addresses: Iterable[str], own_domains: Iterable[str]
) -> str | None:
    """Why this message must not be answered or turned into anything (``None``: it may).

    ``auto_submitted`` (RFC 3834 ``Auto-Submitted`` other than ``no``), ``bulk``
    (``Precedence: bulk|junk|list``), ``auto_reply`` (``X-Autoreply``, ``X-Autorespond``),
    ``list`` (``List-Id``), ``bounce`` (a delivery report, or from ``mailer-daemon`` or
    ``postmaster``), ``loop`` (from one of our own addresses, or a ``Message-ID`` of our
    own domain), ``no_sender`` (no usable ``From`` address)."""
    h = mail.headers
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return "auto_submitted"
    if h.get("precedence", "").strip().lower() in _BULK:
        return "bulk"
    if "x-autoreply" in h or "x-autorespond" in h or "x-autoresponder" in h:
        return "auto_reply"
    if "list-id" in h:
        return "list"
    local = mail.sender.partition("@")[0]
    if h.get("content-type", "").lower().startswith("multipart/report") or local in _DAEMONS:
        return "bounce"
    own = {a.strip().lower() for a in own_addresses if a}
    domains = {d.strip().lower() for d in own_domains if d}
    if mail.sender and mail.sender in own:
        return "loop"
    message_domain = mail.message_id.rstrip(">").rpartition("@")[2].lower()
    if message_domain and message_domain in domains:
        return "loop"
    if not mail.sender:
        return "no_sender"
    return None


def signature(secret: str, record_id: int) -> str:
    """The 16-character HMAC of a record id under the installation's secret key."""
    digest = hmac.new(secret.encode(), f"mail-thread:{record_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:_SIGNATURE_LENGTH]


def subject_token(secret: str, record_id: int, number: str) -> str:
    """The mark put in the subject of what we send about a record (``number``: its serial)."""
    label = re.sub(r"[\[\]\s]", "", number)[:40] or str(record_id)
    return f"[#{label} ref:{record_id}.{signature(secret, record_id)}]"


def ack_message_id(secret: str, record_id: int, domain: str) -> str:
    """A fresh ``Message-ID`` for an acknowledgement about ``record_id``."""
    tail = secrets.token_urlsafe(9)
    return f"<tangram-ack.{record_id}.{signature(secret, record_id)}.{tail}@{domain}>"


def thread_of(mail: ParsedMail, secret: str) -> int | None:
    """The record a reply belongs to: by an acknowledgement's id among ``In-Reply-To`` /
    ``References``, else by the subject token; only marks whose HMAC verifies count."""
    candidates = [
        (m.group(1), m.group(2)) for r in mail.replies_to for m in [_ACK_ID.match(r)] if m
    ]
    candidates += [(m.group(1), m.group(2)) for m in _TOKEN.finditer(mail.subject)]
    for number, sig in candidates:
        record_id = int(number)
        if hmac.compare_digest(sig, signature(secret, record_id)):
            return record_id
    return None


def address_parts(address: str) -> tuple[str, str]:
    """(local part, domain) of an envelope address, lowercased ('' parts when not one)."""
    _, bare = parseaddr(address)
    local, at, domain = bare.strip().lower().rpartition("@")
    if not at:
        return "", ""
    return local, domain


__all__ = [
    "MALFORMED",
    "MailFile",
    "ParsedMail",
    "ack_message_id",
    "address_parts",
    "parse",
    "refusal",
    "signature",
    "subject_token",
    "thread_of",
    "without_quotes",
]
