"""The audit sequencer: chains the entries writers queued, one holder at a time.

Every worker runs one (:class:`Sequencer`, a thread beside the job loop); the lock
:func:`~tangram.platform.kernel.audit.chain_queued` takes makes sure only one chains at a time, so
an entry is chained once. A sequencer wakes when its own process commits audit entries and polls
for the others' every ``TANGRAM_AUDIT_SEQUENCER_POLL_SECONDS``; a poll that finds nothing queued
is one read of the queue's index and takes no lock. Tests and the CLI chain on demand with
:func:`chain_all`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from tangram.platform.kernel import audit
from tangram.platform.kernel.models import AuditEntry
from tangram.platform.kernel.uow import UnitOfWork

log = logging.getLogger(__name__)

#: Told the ids of the entries just chained, after their transaction committed.
Chained = Callable[[Sequence[int]], None]


class Units(Protocol):
    """What opens units of work (the platform's ``unit_of_work``)."""

    def __call__(self, *, write: bool = True) -> UnitOfWork: ...


_ANY_QUEUED = select(AuditEntry.id).where(AuditEntry.seq.is_(None)).limit(1)


def chain_all(
    units: Units,
    *,
    batch: int = audit.BATCH,
    wait: bool = False,
    on_chained: Chained | None = None,
) -> int:
    """Chain every queued entry, a batch per transaction; returns how many were chained.

    Without ``wait``, a sequencer that finds another one chaining leaves the work to it (and
    returns 0); with ``wait``, it waits for the lock, so every entry committed before the call
    is chained when it returns."""
    total = 0
    while True:
        with units(write=False) as uow:
            if uow.session.scalar(_ANY_QUEUED) is None:
                return total
        with units() as uow:
            ids = audit.chain_queued(uow.session, batch=batch, wait=wait)
            uow.commit()
        if ids and on_chained is not None:
            on_chained(ids)
        total += len(ids)
        if len(ids) < batch:
            return total


class Sequencer:
    """Chains queued entries until told to stop (see the module's docstring)."""

    def __init__(
        self,
        units: Units,
        wake: threading.Event,
        *,
        poll_seconds: float,
        on_chained: Chained | None = None,
    ) -> None:
        self.units = units
        self.wake = wake
        self.poll_seconds = poll_seconds
        self.on_chained = on_chained

    def serve(self, stop: threading.Event) -> None:
        """Chain, then sleep until woken or the poll interval passed; until ``stop`` is set."""
        while not stop.is_set():
            self.wake.clear()
            try:
                chain_all(self.units, on_chained=self.on_chained)
            except SQLAlchemyError:
                log.exception("audit sequencer: chaining failed")
            self.wake.wait(self.poll_seconds)

    def start(self, stop: threading.Event) -> threading.Thread:
        """Serve in a daemon thread."""
        thread = threading.Thread(
            target=self.serve, args=(stop,), name="tangram-audit-sequencer", daemon=True
        )
        thread.start()
        return thread
