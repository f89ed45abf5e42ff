"""The append-only, hash-chained audit log and its verification.

Each entry's ``hash`` is the SHA-256 of the canonical JSON of its sequence number, time, actor,
action, object, payload and the previous entry's hash. The canonical form is the JSON
Canonicalization Scheme (RFC 8785, ``canon`` 2): numbers are compared as numbers, so a payload
read back from a database that rewrote its number text still hashes as written; entries written
before it keep form 1 (Python's JSON text) and verify under it. Changing, deleting or reordering any row
breaks the chain at that row, and :func:`verify` names the first broken link. The database refuses
UPDATE and DELETE on the log (triggers), and signed checkpoints (:func:`checkpoint`, written by a
job every few minutes with a key kept outside the database) anchor its head: deleting the last
entries, or rewriting one with a recomputed hash, breaks an anchor.

Appends are serialised (SQLite's write lock, an advisory lock on PostgreSQL). A process remembers
the tail it last committed and appends after it on condition that it still is the tail, so most
appends do not read the tail first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, exists, func, insert, select, text
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
CANON = 2
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x7A6E6772


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
) -> str:
    """The hash of one entry, over the canonical JSON of every field but the hash itself: RFC 8785
    with the form named in the document (``canon`` 2), or Python's JSON text (1, older entries)."""
    document: dict[str, Any] = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    if canon == 1:
        return hashlib.sha256(canonical_json(document)).hexdigest()
    return hashlib.sha256(jcs({**document, "canon": canon})).hexdigest()


_TABLE = cast(Table, AuditEntry.__table__)
_TAIL = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
_INSERT = insert(_TABLE)
#: Insert an entry on condition that the chain still ends where this process last saw it end
#: (the entry ``tail_seq`` has the hash ``tail_hash`` and nothing follows it): an append then
#: costs one statement instead of reading the tail first. Two index probes on the key.
_INSERT_AFTER = (
    insert(_TABLE)
    .from_select(
        [c.name for c in _TABLE.c],
        select(*(bindparam(c.name, type_=c.type) for c in _TABLE.c)).where(
            exists().where(
                _TABLE.c.seq == bindparam("tail_seq"), _TABLE.c.hash == bindparam("tail_hash")
            ),
            ~exists().where(_TABLE.c.seq > bindparam("tail_seq")),
        ),
    )
    # SQLAlchemy keeps an INSERT's row count only when asked
    .execution_options(preserve_rowcount=True)
)

#: The chain's tail as a sequence number and hash.
Tail = tuple[int, str]


def append_entries(
    session: Session, entries: Sequence[PendingAudit], *, at: datetime, tail: Tail | None = None
) -> Tail:
    """Chain ``entries`` after the current tail, inside the caller's transaction; returns the new
    tail (the caller keeps it once the transaction committed).

    ``tail`` is where the chain ended when this process last appended. When it still ends there,
    the first entry is inserted on that condition without reading the tail; when another process
    (or a rolled-back transaction) moved it, the tail is read and the entries chained after it.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent transactions would otherwise both chain onto the same tail.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    connection = session.connection()
    if tail is not None:
        rows = _chained(entries, tail, at)
        first = {**rows[0], "tail_seq": tail[0], "tail_hash": tail[1]}
        if connection.execute(_INSERT_AFTER, first).rowcount == 1:
            if len(rows) > 1:
                connection.execute(_INSERT, rows[1:])
            return rows[-1]["seq"], rows[-1]["hash"]
    found = connection.execute(_TAIL).first()
    rows = _chained(entries, (found[0], found[1]) if found else (0, GENESIS), at)
    connection.execute(_INSERT, rows)
    return rows[-1]["seq"], rows[-1]["hash"]


def _chained(entries: Sequence[PendingAudit], tail: Tail, at: datetime) -> list[dict[str, Any]]:
    """The rows of ``entries`` chained after ``tail``."""
    seq, prev = tail
    rows = []
    for pending in entries:
        seq += 1
        payload = dict(pending.payload)
        digest = entry_hash(
            seq=seq,
            at=at,
            actor_id=pending.actor_id,
            actor=pending.actor,
            action=pending.action,
            object_type=pending.object_type,
            object_id=pending.object_id,
            payload=payload,
            prev_hash=prev,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor_id": pending.actor_id,
                "actor": pending.actor,
                "action": pending.action,
                "object_type": pending.object_type,
                "object_id": pending.object_id,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
                "canon": CANON,
            }
        )
        prev = digest
    return rows


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of :func:`verify`: ``broken_seq`` is the first bad entry, if any."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form for the API and the CLI."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def verify(session: Session, *, batch: int = 1000, key: str | None = None) -> Verification:
    """Walk the whole chain in order and report the first broken link; with the installation's
    ``key``, also check every signed checkpoint: its signature, and that the entry it anchors is
    still there with the hash it had (entries deleted from the end or rewritten with recomputed
    hashes are found this way)."""
    anchors = _checkpoints(session, key)
    if isinstance(anchors, Verification):
        return anchors
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for entry in _entries(session, batch):
        broken = _link_problem(entry, expected_seq, prev)
        if broken is None and entry.seq in anchors and anchors[entry.seq] != entry.hash:
            broken = "differs from the hash a signed checkpoint anchored"
        if broken is not None:
            seq = expected_seq if broken.startswith("entry") else entry.seq
            return Verification(False, checked, seq, broken)
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
    return Verification(True, checked)


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
    )
    if digest != entry.hash:
        return "content does not match its hash"
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
    caller commits."""
    head = session.execute(_TAIL).first()
    if head is None:
        return None
    newest = session.scalar(select(func.max(AuditCheckpoint.seq)))
    if newest is not None and newest >= head[0]:
        return None
    point = AuditCheckpoint(
        seq=head[0], hash=head[1], at=at, signature=_signature(key, head[0], head[1], at)
    )
    session.add(point)
    session.flush()
    return point


def _entries(session: Session, batch: int) -> Iterator[Row[Any]]:
    # Plain rows, not ORM objects: a long chain is streamed without filling the identity map.
    table = AuditEntry.__table__
    last = 0
    while True:
        rows = session.execute(
            select(*table.c).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def list_entries(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[AuditEntry]:
    """Entries after sequence ``after`` (keyset paging), optionally for one object."""
    query = select(AuditEntry).where(AuditEntry.seq > after)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEntry.seq).limit(limit)))


def count(session: Session) -> int:
    """Number of entries in the log."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
