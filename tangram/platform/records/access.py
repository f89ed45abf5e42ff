"""Access links: private links to one record for people without an account.

An intake submission gives the customer a ``status`` link to follow their record (surveys will
give single-use, expiring ones). The token is random (``tga_`` and 43 URL-safe characters, 256
bits) and shown once; only its SHA-256 is stored, and the link is looked up by that digest, so
the database never holds a usable token. A token that is unknown, forged, expired, used up, of
another kind or whose record was deleted opens nothing, and all of them answer the same 404:
the answer never tells whether a record exists.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from tangram.platform.identity.credentials import secret_hash
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.models import AccessLink, Record
from tangram.platform.kernel.uow import UnitOfWork

#: The marker every access token starts with.
TOKEN_PREFIX = "tga_"  # noqa: S105 - a marker, not a secret
#: What a status link opens: the record's public status page.
STATUS = "status"
#: The longest token accepted (longer ones are not looked up).
MAX_TOKEN = 128


def create(
    uow: UnitOfWork,
    record_id: int,
    *,
    kind: str = STATUS,
    expires_at: datetime | None = None,
) -> tuple[AccessLink, str]:
    """A new link to ``record_id`` in the caller's unit of work, and its token (shown once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    link = AccessLink(
        kind=kind,
        token_hash=secret_hash(token),
        record_id=record_id,
        created_at=uow.now,
        expires_at=expires_at,
        used_at=None,
    )
    uow.session.add(link)
    uow.flush()
    return link, token


def not_found() -> NotFound:
    """The one answer for every link that opens nothing."""
    return NotFound("This link does not exist or has expired.", code="access.not_found")


def open_link(
    uow: UnitOfWork, token: str, *, kind: str = STATUS, single_use: bool = False
) -> tuple[AccessLink, Record]:
    """The link a token opens and its record, or :func:`not_found` for anything else: a token
    unknown or malformed, expired, of another kind, already used (``single_use``), or whose
    record is deleted."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN:
        raise not_found()
    link = uow.session.scalar(select(AccessLink).where(AccessLink.token_hash == secret_hash(token)))
    if link is None or link.kind != kind:
        raise not_found()
    if link.expires_at is not None and link.expires_at <= uow.now:
        raise not_found()
    if single_use and link.used_at is not None:
        raise not_found()
    record = uow.session.get(Record, link.record_id)
    if record is None or record.deleted_at is not None:
        raise not_found()
    return link, record


def status_path(token: str) -> str:
    """Where the web app shows the status page a token opens."""
    return f"/status/{token}"
