"""The append-only, hash-chained audit log: queued by writers, chained by one sequencer.

A writer's transaction inserts its entries *queued*: each with an insertion ``id`` and a
``digest``, the HMAC-SHA256 (with the installation's key, kept outside the database) of the
canonical JSON of its id and content. It takes no lock and reads no tail, so writers do not wait
for one another. The entries are visible to readers at once, in ``id`` order.

The *sequencer* (:func:`chain_queued`; one holder at a time: SQLite's write lock, an advisory
lock on PostgreSQL) chains queued entries in ``id`` order, in batches, as the sequencer of a
transparency log does: it sets ``seq``, ``prev_hash`` and ``hash``, the SHA-256 of the canonical
JSON of the entry's sequence number, id, content, digest and the previous hash. The canonical form
is the JSON Canonicalization Scheme (RFC 8785): numbers are compared as numbers, so a payload read
back from a database that rewrote its number text still hashes as written. Entries chained before
the queue existed keep their forms (``canon`` 1: Python's JSON text; 2: RFC 8785 without id and
digest) and verify under them.

Changing, deleting or reordering a chained entry breaks the chain at that entry, and :func:`verify`
names the first broken link; changing or reordering a queued entry breaks its digest. Deleting a
queued entry leaves no trace in the log (PostgreSQL's ids have gaps anyway: rolled-back
transactions): the database refuses it (triggers refuse UPDATE and DELETE, but for the one update
that chains a queued entry), and the queue is short (the sequencer runs every fraction of a
second). Signed checkpoints (:func:`checkpoint`, written by a job every few minutes) anchor the
chain's head: deleting the last chained entries, or rewriting one with a recomputed hash, breaks an
anchor.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from tangram.engines.common import canonical_json, jcs
from tangram.platform.kernel.clock import ensure_utc
from tangram.platform.kernel.models import AuditCheckpoint, AuditEntry


@dataclass(frozen=True, slots=True)
class PendingAudit:
    """An audit entry waiting for the commit that makes it true."""

    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: Mapping[str, Any]


GENESIS = "0" * 64
#: The canonical form new entries are hashed over (see :func:`entry_hash`).
CANON = 3
#: Key of the PostgreSQL advisory lock the sequencer holds while it chains.
_CHAIN_LOCK = 0x7A6E6772
#: Entries the sequencer chains in one transaction.
BATCH = 500


def _content(
    *,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
) -> dict[str, Any]:
    return {
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "payload": payload,
    }


def entry_digest(
    key: str,
    *,
    id: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
) -> str:
    """The writer's digest of a queued entry: HMAC-SHA256 with the installation's ``key`` over
    the RFC 8785 form of its id and content. Without the key it cannot be recomputed, so a queued
    entry changed in the database (or given another entry's id) no longer matches it."""
    document = _content(
        at=at,
        actor_id=actor_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
    )
    message = jcs({**document, "id": id, "canon": CANON})
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
    prev_hash: str,
    canon: int = CANON,
    id: int | None = None,
    digest: str | None = None,
) -> str:
    """The hash of one chained entry, over the canonical JSON of every field but the hash
    itself: RFC 8785 with the form named in the document (``canon`` 3 adds the entry's id and
    digest to 2), or Python's JSON text (1, older entries)."""
    document: dict[str, Any] = {
        "seq": seq,
        **_content(
            at=at,
            actor_id=actor_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload=payload,
        ),
        "prev_hash": prev_hash,
    }
    if canon == 1:
        return hashlib.sha256(canonical_json(document)).hexdigest()
    if canon >= 3:
        document.update(id=id, digest=digest)
    return hashlib.sha256(jcs({**document, "canon": canon})).hexdigest()


_TABLE = cast(Table, AuditEntry.__table__)
_INSERT = insert(_TABLE)
#: The chain's head: the chained entry with the highest sequence number.
_HEAD = (
    select(AuditEntry.seq, AuditEntry.hash)
    .where(AuditEntry.seq.is_not(None))
    .order_by(AuditEntry.seq.desc())
    .limit(1)
)
#: Ids for new entries, without a lock: PostgreSQL's sequence hands them out.
_NEXT_IDS = text("SELECT nextval('audit_log_id_seq') FROM generate_series(1, :n)")
#: SQLite: the writer holds the database's write lock, so the next ids follow the last one.
_LAST_ID = select(func.max(AuditEntry.id))
#: The one update the triggers allow: fill in the chain columns of a queued entry.
_CHAIN = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("entry_id"), _TABLE.c.seq.is_(None))
    .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash"))
    .execution_options(preserve_rowcount=True)
)


def queue_entries(
    session: Session, entries: Sequence[PendingAudit], *, at: datetime, key: str
) -> list[int]:
    """Insert ``entries`` queued (not chained), inside the caller's transaction, each with its
    digest under ``key``; returns their ids. No lock is taken and no tail is read."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids = [int(i) for i in connection.execute(_NEXT_IDS, {"n": len(entries)}).scalars()]
    else:
        last = int(connection.execute(_LAST_ID).scalar() or 0)
        ids = list(range(last + 1, last + 1 + len(entries)))
    rows = []
    for entry_id, pending in zip(ids, entries, strict=True):
        payload = dict(pending.payload)
        content: dict[str, Any] = {
            "at": at,
            "actor_id": pending.actor_id,
            "actor": pending.actor,
            "action": pending.action,
            "object_type": pending.object_type,
            "object_id": pending.object_id,
            "payload": payload,
        }
        digest = entry_digest(key, id=entry_id, **content)
        rows.append({"id": entry_id, **content, "digest": digest, "canon": CANON})
    connection.execute(_INSERT, rows)
    return ids


def chain_queued(session: Session, *, batch: int = BATCH, wait: bool = False) -> list[int]:
    """Chain up to ``batch`` queued entries after the head, in id order, inside the caller's
    transaction (the caller commits); returns their ids.

    Only one sequencer chains at a time: on SQLite the caller's write lock makes sure of it, on
    PostgreSQL an advisory lock held to the end of the transaction. When another sequencer holds
    it, nothing is chained (``[]``), unless ``wait``: then this one waits for it and chains what
    is still queued.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if wait:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
        elif not connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK}
        ).scalar():
            return []
    queued = connection.execute(
        select(*_TABLE.c).where(_TABLE.c.seq.is_(None)).order_by(_TABLE.c.id).limit(batch)
    ).all()
    if not queued:
        return []
    found = connection.execute(_HEAD).first()
    seq, prev = (int(cast(int, found[0])), str(found[1])) if found else (0, GENESIS)
    links = []
    for entry in queued:
        seq += 1
        digest = entry_hash(
            seq=seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            payload=entry.payload,
            prev_hash=prev,
            canon=entry.canon,
            id=entry.id,
            digest=entry.digest,
        )
        links.append({"entry_id": entry.id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    connection.execute(_CHAIN, links)
    return [link["entry_id"] for link in links]


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of :func:`verify`: ``checked`` chained entries are intact, ``waiting`` queued ones
    wait for the sequencer; ``broken_seq`` is the first bad chained entry, ``broken_id`` the bad
    entry's id (a queued entry has no sequence number yet)."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None
    waiting: int = 0
    broken_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form for the API and the CLI."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "waiting": self.waiting,
            "broken_seq": self.broken_seq,
            "broken_id": self.broken_id,
            "reason": self.reason,
        }


def verify(session: Session, *, batch: int = 1000, key: str | None = None) -> Verification:
    """Walk the chain in order and report the first broken link, then the queued entries.

    With the installation's ``key``, also check every signed checkpoint (its signature, and that
    the entry it anchors is still there with the hash it had: entries deleted from the end or
    rewritten with recomputed hashes are found this way) and the writer's digest of every entry
    that has one, chained or queued (a queued entry changed or given another id is found this
    way; without the key, queued entries are only counted)."""
    anchors = _checkpoints(session, key)
    if isinstance(anchors, Verification):
        return anchors
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for entry in _chained_entries(session, batch):
        broken = _link_problem(entry, expected_seq, prev) or _digest_problem(entry, key)
        if broken is None and entry.seq in anchors and anchors[entry.seq] != entry.hash:
            broken = "differs from the hash a signed checkpoint anchored"
        if broken is not None:
            seq = expected_seq if broken.startswith("entry") else entry.seq
            return Verification(False, checked, seq, broken, broken_id=entry.id)
        prev = entry.hash
        expected_seq += 1
        checked += 1
    beyond = [seq for seq in anchors if seq >= expected_seq]
    if beyond:
        return Verification(
            False,
            checked,
            expected_seq,
            f"the log ends at entry {expected_seq - 1}, but a signed checkpoint anchors entry "
            f"{max(beyond)}: entries were deleted",
        )
    waiting = 0
    for entry in _queued_entries(session, batch):
        broken = _digest_problem(entry, key)
        if broken is not None:
            return Verification(False, checked, None, broken, waiting, entry.id)
        waiting += 1
    return Verification(True, checked, waiting=waiting)


def _link_problem(entry: Row[Any], expected_seq: int, prev: str) -> str | None:
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing (next is {entry.seq})"
    if entry.prev_hash != prev:
        return "previous-hash link does not match the entry before it"
    digest = entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
        canon=entry.canon,
        id=entry.id,
        digest=entry.digest,
    )
    if digest != entry.hash:
        return "content does not match its hash"
    return None


def _digest_problem(entry: Row[Any], key: str | None) -> str | None:
    """Whether the writer's digest of an entry (form 3) still matches its id and content."""
    if entry.canon < 3:
        return None  # chained before the queue: its hash covers it
    if entry.digest is None:
        return "the entry has no digest from its writer"
    if key is None:
        return None
    expected = entry_digest(
        key,
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        payload=entry.payload,
    )
    if not hmac.compare_digest(expected, entry.digest):
        return "content or id does not match the digest its writer made"
    return None


def _signature(key: str, seq: int, digest: str, at: datetime) -> str:
    message = f"{seq}:{digest}:{ensure_utc(at).isoformat()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _checkpoints(session: Session, key: str | None) -> dict[int, str] | Verification:
    """seq → hash of every checkpoint (their signatures checked when ``key`` is given)."""
    anchors: dict[int, str] = {}
    for point in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        if key is not None and not hmac.compare_digest(
            point.signature, _signature(key, point.seq, point.hash, point.at)
        ):
            return Verification(
                False,
                0,
                point.seq,
                f"checkpoint {point.id} is not signed with this installation's key",
            )
        anchors[point.seq] = point.hash
    return anchors


def checkpoint(session: Session, *, key: str, at: datetime) -> AuditCheckpoint | None:
    """Sign the chain's current head (unless the newest checkpoint already anchors it); the
    caller commits. Queued entries are anchored by a later checkpoint, once chained."""
    found = session.execute(_HEAD).first()
    if found is None:
        return None
    head = (cast(int, found[0]), cast(str, found[1]))
    newest = session.scalar(select(func.max(AuditCheckpoint.seq)))
    if newest is not None and newest >= head[0]:
        return None
    point = AuditCheckpoint(
        seq=head[0], hash=head[1], at=at, signature=_signature(key, head[0], head[1], at)
    )
    session.add(point)
    session.flush()
    return point


def _chained_entries(session: Session, batch: int) -> Iterator[Row[Any]]:
    # Plain rows, not ORM objects: a long chain is streamed without filling the identity map.
    last = 0
    while True:
        rows = session.execute(
            select(*_TABLE.c).where(_TABLE.c.seq > last).order_by(_TABLE.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def _queued_entries(session: Session, batch: int) -> Iterator[Row[Any]]:
    last = 0
    while True:
        rows = session.execute(
            select(*_TABLE.c)
            .where(_TABLE.c.seq.is_(None), _TABLE.c.id > last)
            .order_by(_TABLE.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def list_entries(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[AuditEntry]:
    """Entries after id ``after`` (keyset paging, in insertion order, chained or queued),
    optionally for one object."""
    query = select(AuditEntry).where(AuditEntry.id > after)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEntry.id).limit(limit)))


def count(session: Session) -> int:
    """Number of entries in the log, chained or queued."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def waiting(session: Session) -> int:
    """Number of entries waiting for the sequencer (the queue's length)."""
    return int(
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
        or 0
    )


def mark(session: Session) -> tuple[int, int, int]:
    """A value that changes with every entry written or chained: the highest id, the highest
    sequence number and the queue's length (a lower id committed late still lengthens the queue).
    """
    row = session.execute(
        select(
            select(func.max(AuditEntry.id)).scalar_subquery(),
            select(func.max(AuditEntry.seq)).scalar_subquery(),
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.seq.is_(None))
            .scalar_subquery(),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)
