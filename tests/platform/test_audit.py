"""The audit log: entries queued by writers, chained by the sequencer; links, tamper detection
(chained and queued), concurrent writers and sequencers, the lag from commit to chained."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit, checkpoints, sequencer
from tangram.platform.kernel.audit import GENESIS, entry_digest, entry_hash
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import AuditEntry
from tests.conftest import count_queries, race, tamper_audit


def _append(platform: Platform, n: int, payload: dict[str, object] | None = None) -> None:
    with platform.unit_of_work() as uow:
        for i in range(n):
            uow.audit(1, "admin", "thing.changed", "thing", i, payload or {"i": i})
        uow.commit()


def _chained(platform: Platform, n: int, payload: dict[str, object] | None = None) -> None:
    _append(platform, n, payload)
    platform.chain_audit()


def _entries(platform: Platform) -> list[AuditEntry]:
    with platform.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _key(platform: Platform) -> str:
    return checkpoints.audit_key(platform.settings)


def _verify(platform: Platform, *, signed: bool = False) -> audit.Verification:
    with platform.unit_of_work(write=False) as uow:
        return audit.verify(uow.session, key=_key(platform) if signed else None)


def test_a_writer_queues_its_entries_and_the_sequencer_chains_them(platform: Platform) -> None:
    with count_queries(platform.engine) as statements:
        _append(platform, 3)
    assert not any("pg_advisory" in s or "ORDER BY audit_log.seq" in s for s in statements)
    queued = _entries(platform)
    assert [(e.id, e.seq, e.hash) for e in queued] == [
        (1, None, None),
        (2, None, None),
        (3, None, None),
    ]
    assert queued[0].digest == entry_digest(
        _key(platform),
        id=1,
        at=queued[0].at,
        actor_id=1,
        actor="admin",
        action="thing.changed",
        object_type="thing",
        object_id="0",
        payload={"i": 0},
    )
    assert _verify(platform, signed=True) == audit.Verification(True, 0, waiting=3)
    assert platform.chain_audit() == 3
    _append(platform, 2)
    assert platform.chain_audit() == 2
    assert platform.chain_audit() == 0
    entries = _entries(platform)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    first = entries[0]
    assert first.hash == entry_hash(
        seq=1,
        at=first.at,
        actor_id=1,
        actor="admin",
        action="thing.changed",
        object_type="thing",
        object_id="0",
        payload={"i": 0},
        prev_hash=GENESIS,
        id=1,
        digest=first.digest,
    )
    assert _verify(platform) == audit.Verification(True, 5)
    assert _verify(platform, signed=True) == audit.Verification(True, 5)


def test_uncommitted_unit_of_work_leaves_no_entry(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        uow.audit(1, "admin", "thing.changed", "thing", 1, {})
    assert _entries(platform) == []
    assert _verify(platform).ok


def test_verify_names_the_entry_whose_payload_was_changed(platform: Platform) -> None:
    _chained(platform, 5)
    tamper_audit(platform, """UPDATE audit_log SET payload = '{"i": 99}' WHERE seq = 3""")
    result = _verify(platform)
    assert (result.ok, result.broken_seq, result.checked) == (False, 3, 2)
    assert result.reason == "content does not match its hash"


@pytest.mark.parametrize(
    "change",
    [
        "actor = 'mallory'",
        "actor_id = 2",
        "action = 'thing.viewed'",
        "object_id = '42'",
        "id = 99",
        "digest = 'x'",
    ],
)
def test_verify_detects_any_changed_column(platform: Platform, change: str) -> None:
    _chained(platform, 3)
    tamper_audit(platform, f"UPDATE audit_log SET {change} WHERE seq = 2")
    assert _verify(platform).broken_seq == 2


def test_the_database_refuses_to_change_or_delete_an_entry(platform: Platform) -> None:
    _chained(platform, 3)
    _append(platform, 1)  # queued: id 4
    refused = [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "UPDATE audit_log SET seq = 9, prev_hash = 'a', hash = 'b' WHERE seq = 2",
        "DELETE FROM audit_log WHERE id = 4",
        "UPDATE audit_log SET actor = 'mallory' WHERE id = 4",
        # chaining it is allowed, but not while changing anything else
        "UPDATE audit_log SET seq = 4, prev_hash = 'a', hash = 'b', actor = 'm' WHERE id = 4",
        "UPDATE audit_log SET seq = 4 WHERE id = 4",  # all three chain columns at once
    ]
    for statement in refused:
        with platform.engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
    assert _verify(platform, signed=True) == audit.Verification(True, 3, waiting=1)
    platform.chain_audit()
    assert _verify(platform, signed=True) == audit.Verification(True, 4)


def test_verify_detects_a_changed_time(platform: Platform) -> None:
    _chained(platform, 3)
    sqlite = platform.engine.dialect.name == "sqlite"
    earlier = "2020-11-22 01:00:00.000000" if sqlite else "2020-11-22 01:00:00+00"
    tamper_audit(platform, f"UPDATE audit_log SET at = '{earlier}' WHERE seq = 2")
    assert _verify(platform).broken_seq == 2


def test_verify_detects_a_deleted_middle_entry(platform: Platform) -> None:
    _chained(platform, 5)
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq = 3")
    result = _verify(platform)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert result.reason == "entry 3 is missing (next is 4)"


def test_verify_detects_reordered_chained_entries(platform: Platform) -> None:
    _chained(platform, 3)
    tamper_audit(platform, "UPDATE audit_log SET seq = -seq WHERE seq IN (1, 2)")
    tamper_audit(platform, "UPDATE audit_log SET seq = 2 WHERE seq = -1")
    tamper_audit(platform, "UPDATE audit_log SET seq = 1 WHERE seq = -2")
    result = _verify(platform)
    assert (result.ok, result.broken_seq) == (False, 1)


def test_verify_detects_a_queued_entry_changed_before_the_sequencer_chained_it(
    platform: Platform,
) -> None:
    _chained(platform, 2)
    _append(platform, 3)  # ids 3, 4, 5
    tamper_audit(platform, """UPDATE audit_log SET payload = '{"i": 99}' WHERE id = 4""")
    queued = _verify(platform, signed=True)
    assert (queued.ok, queued.checked, queued.broken_seq, queued.broken_id) == (False, 2, None, 4)
    assert queued.reason == "content or id does not match the digest its writer made"
    platform.chain_audit()  # the sequencer chains what it finds: the change is still seen
    chained = _verify(platform, signed=True)
    assert (chained.ok, chained.broken_seq, chained.broken_id) == (False, 4, 4)
    assert chained.reason == "content or id does not match the digest its writer made"


def test_verify_detects_queued_entries_reordered_before_the_sequencer_chained_them(
    platform: Platform,
) -> None:
    _append(platform, 3)
    tamper_audit(platform, "UPDATE audit_log SET id = -id WHERE id IN (1, 2)")
    tamper_audit(platform, "UPDATE audit_log SET id = 2 WHERE id = -1")
    tamper_audit(platform, "UPDATE audit_log SET id = 1 WHERE id = -2")
    result = _verify(platform, signed=True)
    assert (result.ok, result.broken_id) == (False, 1)
    platform.chain_audit()
    assert _verify(platform, signed=True).broken_seq == 1


def test_a_queued_entry_recomputed_without_the_key_is_detected(platform: Platform) -> None:
    _append(platform, 1)
    (entry,) = _entries(platform)
    forged = entry_digest(
        "a-key-guessed-in-the-database",
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action="thing.forgotten",
        object_type=entry.object_type,
        object_id=entry.object_id,
        payload=entry.payload,
    )
    tamper_audit(platform, f"UPDATE audit_log SET action = 'thing.forgotten', digest = '{forged}'")
    assert _verify(platform, signed=True).broken_id == entry.id
    assert _verify(platform) == audit.Verification(True, 0, waiting=1)  # the key is needed


def test_verify_detects_a_forged_entry_rehashed_without_relinking_its_successor(
    platform: Platform,
) -> None:
    _chained(platform, 3)
    entries = _entries(platform)
    forged = entry_hash(
        seq=2,
        at=entries[1].at,
        actor_id=1,
        actor="admin",
        action="thing.changed",
        object_type="thing",
        object_id="1",
        payload={"i": "forged"},
        prev_hash=entries[0].hash or "",
        id=2,
        digest=entries[1].digest,
    )
    tamper_audit(
        platform,
        f"""UPDATE audit_log SET payload = '{{"i": "forged"}}', hash = '{forged}' WHERE seq = 2""",
    )
    result = _verify(platform)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert result.reason == "previous-hash link does not match the entry before it"
    signed = _verify(platform, signed=True)  # and the writer's digest no longer matches
    assert (signed.ok, signed.broken_seq) == (False, 2)


def test_truncating_the_newest_entries_is_not_detectable_by_the_chain_alone(
    platform: Platform,
) -> None:
    """A hash chain proves everything up to its tail; cutting the tail needs an external anchor,
    which the signed checkpoints are (next test)."""
    _chained(platform, 4)
    tail = _entries(platform)[-1].hash
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq = 4")
    assert _verify(platform) == audit.Verification(True, 3)
    assert _entries(platform)[-1].hash != tail


def _checkpoint(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        assert audit.checkpoint(uow.session, key=_key(platform), at=uow.now) is not None
        uow.commit()


def _verify_signed(platform: Platform, key: str | None = None) -> audit.Verification:
    with platform.unit_of_work(write=False) as uow:
        return audit.verify(uow.session, key=key or _key(platform))


def test_signed_checkpoints_catch_a_cut_tail_and_a_rewritten_last_entry(
    platform: Platform,
) -> None:
    _chained(platform, 4)
    _checkpoint(platform)
    _chained(platform, 2)  # not anchored yet: the next checkpoint will
    with platform.unit_of_work(write=False) as uow:
        assert audit.verify(uow.session) == audit.Verification(True, 6)
    _append(platform, 1)  # queued: anchored once chained and signed
    with platform.unit_of_work() as uow:  # the chained head is not anchored yet
        assert audit.checkpoint(uow.session, key=_key(platform), at=uow.now) is not None
        uow.commit()
    with platform.unit_of_work() as uow:  # the head is already anchored: nothing to sign
        assert audit.checkpoint(uow.session, key=_key(platform), at=uow.now) is None
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq > 4")
    cut = _verify_signed(platform)
    assert (cut.ok, cut.broken_seq) == (False, 5)
    assert "entries were deleted" in (cut.reason or "")


def test_a_last_entry_rewritten_with_a_recomputed_hash_breaks_its_anchor(
    platform: Platform,
) -> None:
    _chained(platform, 3)
    _checkpoint(platform)
    (last,) = [e for e in _entries(platform) if e.seq == 3]
    forged = entry_hash(
        seq=3,
        at=last.at,
        actor_id=last.actor_id,
        actor=last.actor,
        action="thing.forgotten",
        object_type=last.object_type,
        object_id=last.object_id,
        payload=last.payload,
        prev_hash=last.prev_hash or "",
        id=last.id,
        digest=last.digest,
    )
    tamper_audit(
        platform,
        f"UPDATE audit_log SET action = 'thing.forgotten', hash = '{forged}' WHERE seq = 3",
    )
    rewritten = _verify(platform)  # the links agree again, but not with the anchor
    assert (rewritten.ok, rewritten.broken_seq) == (False, 3)
    assert "checkpoint" in (rewritten.reason or "")
    other = _verify_signed(platform, key="another-key")  # a checkpoint forged elsewhere
    assert other.ok is False
    assert "not signed with this installation's key" in (other.reason or "")


def test_chinese_payload_hashes_stably_after_a_database_round_trip(platform: Platform) -> None:
    _chained(
        platform, 1, {"标题": "设备噪音超标", "values": [1.5, None, True], "嵌套": {"b": 2, "a": 1}}
    )
    assert _verify(platform, signed=True) == audit.Verification(True, 1)


def test_concurrent_writers_lose_no_entry_and_the_chain_verifies(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    writers, each = 6, 15

    def write(p: Platform, who: int) -> None:
        for i in range(each):
            with p.unit_of_work() as uow:
                uow.audit(who, f"w{who}", "thing.changed", "thing", i, {"w": who, "i": i})
                uow.commit()

    race(settings, clock, writers, write)
    assert platform.chain_audit() == writers * each
    entries = _entries(platform)
    assert sorted(e.seq or 0 for e in entries) == list(range(1, writers * each + 1))
    assert sorted((e.payload["w"], e.payload["i"]) for e in entries) == sorted(
        itertools.product(range(writers), range(each))
    )
    assert _verify(platform, signed=True) == audit.Verification(True, writers * each)


def test_sequencers_running_at_once_chain_each_entry_once(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    """Writers and sequencers at once, each with its own engine (as processes would be)."""
    writers, each, sequencers = 3, 20, 3
    left = [writers]
    lock = threading.Lock()
    written = threading.Event()

    def work(p: Platform, n: int) -> list[int]:
        chained: list[int] = []
        if n < writers:
            for i in range(each):
                with p.unit_of_work() as uow:
                    uow.audit(n, f"w{n}", "thing.changed", "thing", i, {"w": n, "i": i})
                    uow.commit()
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    written.set()
            return chained
        while True:
            last = written.is_set()
            sequencer.chain_all(p.unit_of_work, batch=7, on_chained=chained.extend)
            if last:
                return chained

    results = race(settings, clock, writers + sequencers, work)
    chained = [i for r in results[writers:] for i in r]
    assert len(set(chained)) == len(chained)  # no entry chained twice
    assert len(chained) + platform.chain_audit() == writers * each
    entries = sorted(_entries(platform), key=lambda e: e.seq or 0)
    assert [e.seq for e in entries] == list(range(1, writers * each + 1))
    assert _verify(platform, signed=True) == audit.Verification(True, writers * each)


def test_the_sequencer_thread_chains_a_commit_within_a_second(platform: Platform) -> None:
    chained = threading.Event()
    seen: list[int] = []

    def note(ids: Sequence[int]) -> None:
        seen.extend(ids)
        chained.set()

    stop = threading.Event()
    thread = platform.audit_sequencer(on_chained=note).start(stop)
    try:
        started = time.perf_counter()
        _append(platform, 2)  # the commit wakes this process's sequencer at once
        assert chained.wait(timeout=10)
        lag = time.perf_counter() - started
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen == [1, 2]
    assert lag < 1.0
    assert _verify(platform, signed=True) == audit.Verification(True, 2)


def test_the_worker_signs_the_head_every_few_minutes(
    platform: Platform, clock: FrozenClock
) -> None:
    from datetime import timedelta

    from tangram.platform.kernel import checkpoints
    from tangram.platform.kernel.models import AuditCheckpoint, Job
    from tangram.platform.worker import Worker

    _append(platform, 2)
    with platform.unit_of_work() as uow:
        checkpoints.ensure_scheduled(uow)
        checkpoints.ensure_scheduled(uow)  # once is enough
        uow.commit()
    assert Worker(platform).run_due().done == 1
    _append(platform, 1)
    clock.advance(timedelta(minutes=platform.settings.audit_checkpoint_minutes))
    assert Worker(platform).run_due().done == 1
    with platform.unit_of_work(write=False) as uow:
        signed = [
            p.seq for p in uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
        ]
        waiting = uow.session.scalars(select(Job.run_at).where(Job.status == "pending")).all()
        assert audit.verify(uow.session, key=checkpoints.audit_key(platform.settings)).ok
    assert signed == [2, 3]
    assert waiting == [clock.now() + timedelta(minutes=platform.settings.audit_checkpoint_minutes)]


def test_a_payload_whose_number_text_the_database_rewrote_still_verifies(
    platform: Platform,
) -> None:
    """PostgreSQL's JSONB keeps ``1e16`` as ``10000000000000000`` and ``1.0`` as ``1.0``: under
    RFC 8785 a number hashes by its value, whatever text the database gives back."""
    _append(platform, 2, {"amount": 1e16, "ratio": 1.0, "tiny": 1.5e-7})
    platform.chain_audit()
    rewritten = """'{"amount": 10000000000000000, "ratio": 1, "tiny": 0.00000015}'"""
    tamper_audit(platform, f"UPDATE audit_log SET payload = {rewritten} WHERE seq = 1")
    _append(platform, 1, {"amount": 1e16})
    tamper_audit(platform, f"UPDATE audit_log SET payload = {rewritten} WHERE id = 2")
    assert _verify(platform, signed=True) == audit.Verification(True, 2, waiting=1)
    assert _entries(platform)[0].canon == audit.CANON == 3


def test_entries_hashed_in_earlier_canonical_forms_still_verify(platform: Platform) -> None:
    """Entries chained before the queue keep their form (``canon`` 1: Python's JSON text; 2:
    RFC 8785 without id and digest) and their hashes; new ones chain onto them."""
    _chained(platform, 2)
    entries = _entries(platform)
    prev = GENESIS
    for entry, canon in zip(entries, (1, 2), strict=True):
        old = entry_hash(
            seq=entry.seq or 0,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            payload=entry.payload,
            prev_hash=prev,
            canon=canon,
        )
        assert old != entry.hash
        tamper_audit(
            platform,
            f"UPDATE audit_log SET canon = {canon}, digest = NULL, prev_hash = '{prev}', "
            f"hash = '{old}' WHERE seq = {entry.seq}",
        )
        prev = old
    assert _verify(platform, signed=True) == audit.Verification(True, 2)
    _chained(platform, 1)  # a new entry in form 3 chains onto the old ones
    assert [e.canon for e in _entries(platform)] == [1, 2, 3]
    assert _verify(platform, signed=True) == audit.Verification(True, 3)
    tamper_audit(platform, "UPDATE audit_log SET canon = 2 WHERE seq = 1")
    assert _verify(platform).broken_seq == 1  # the form is part of what is verified
