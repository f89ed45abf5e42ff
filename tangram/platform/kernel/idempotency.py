"""Idempotency keys: a write retried with the same ``Idempotency-Key`` gets the first answer.

A client that did not hear back (a dropped connection, a timeout) sends the write again with the
same key. The first request claims the key in a transaction of its own before it runs (a second
request racing it finds the claim and is told to wait: 409 ``idempotency.in_progress``); once it has
answered, its status, body and location are kept for :data:`KEEP`, and a retry with the same method,
path and body gets that answer again. The same key with another request is refused (422
``idempotency.mismatch``): the key names one request. A claim whose request died without
answering is taken over after :data:`STALE`. Keys belong to their caller.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from tangram.platform.kernel.errors import Conflict, ValidationFailed
from tangram.platform.kernel.models import IdempotencyKey
from tangram.platform.kernel.uow import UnitOfWork

#: How long an answer is kept for retries.
KEEP = timedelta(hours=24)
#: When a claim whose request never answered may be taken over.
STALE = timedelta(minutes=5)


@dataclass(frozen=True)
class Answer:
    """What the first request answered."""

    status: int
    content_type: str
    body: str
    location: str | None


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What identifies a request: its method, path, query string and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(uow: UnitOfWork, caller: str, key: str, print_: str) -> Answer | None:
    """Claim ``key`` for a request about to run (``None``), or the answer it already gave."""
    uow.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.caller == caller, IdempotencyKey.created_at < uow.now - KEEP
        )
    )
    found = uow.session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
        .with_for_update()
    )
    if found is None:
        uow.session.add(
            IdempotencyKey(
                caller=caller,
                key=key,
                fingerprint=print_,
                status=0,
                content_type="",
                body="",
                created_at=uow.now,
            )
        )
        try:
            uow.flush()
        except Conflict:  # a request with this key claimed it at the same moment
            raise _in_progress(key) from None
        return None
    if found.fingerprint != print_:
        raise ValidationFailed(
            f"The Idempotency-Key {key!r} was used for another request: use a new key for a "
            "new request.",
            code="idempotency.mismatch",
            errors=[{"path": "Idempotency-Key", "message": "used for another request"}],
        )
    if found.status == 0:
        if uow.now - found.created_at < STALE:
            raise _in_progress(key)
        found.created_at = uow.now  # the first request died without answering: run it again
        return None
    return Answer(found.status, found.content_type, found.body, found.location)


def _in_progress(key: str) -> Conflict:
    return Conflict(
        f"A request with the Idempotency-Key {key!r} is still running: retry when it has answered.",
        code="idempotency.in_progress",
    )


def settle(uow: UnitOfWork, caller: str, key: str, answer: Answer | None) -> None:
    """Keep the answer of the request that claimed ``key``; ``None`` (it failed on the server's
    side) releases the key so that a retry runs again."""
    found = uow.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
    )
    if found is None:
        return
    if answer is None:
        uow.session.delete(found)
        return
    found.status = answer.status
    found.content_type = answer.content_type
    found.body = answer.body
    found.location = answer.location
