"""A record as it was at an earlier version, replayed backwards from its audit trail.

Every write of a record is audited with the lock version it produced and the fields it changed
(old → new), in the writing transaction; undoing the changes of the versions after ``N``, newest
first, gives the document of version ``N``. A task submit is based on the version its holder saw,
and this is how the platform knows what the holder changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tangram.platform.kernel.models import AuditEntry, Record
from tangram.platform.kernel.uow import UnitOfWork

#: The audited writes of a record, each with the lock version it produced.
WRITES = ("record.created", "record.updated", "record.deleted", "record.restored")


def document_at(uow: UnitOfWork, record: Record, version: int) -> dict[str, Any] | None:
    """The record's document as of lock version ``version``; ``None`` when the trail cannot
    tell (a version that never was, or writes audited before versions were)."""
    if version == record.lock_version:
        return dict(record.data)
    if not 1 <= version < record.lock_version:
        return None
    committed = uow.session.execute(
        select(AuditEntry.action, AuditEntry.payload)
        .where(
            AuditEntry.object_type == "record",
            AuditEntry.object_id == str(record.id),
            AuditEntry.action.in_(WRITES),
        )
        .order_by(AuditEntry.id)
    )
    entries = [(action, payload) for action, payload in committed]
    entries += [(a.action, a.payload) for a in uow.pending_audit("record", record.id)]
    document = dict(record.data)
    expected = record.lock_version
    for action, payload in reversed(entries):
        produced = payload.get("lock_version")
        if produced is None or produced != expected:
            return None  # an unversioned or missing write: the trail cannot say
        if produced == version:
            return document
        if action == "record.updated":
            for key, (old, _new) in payload.get("changes", {}).items():
                if old is None:
                    document.pop(key, None)
                else:
                    document[key] = old
        expected -= 1
    return None
