"""The hash-chained audit log: links, tamper detection, concurrent appends."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit
from tangram.platform.kernel.audit import GENESIS, PendingAudit, entry_hash
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import AuditEntry
from tests.conftest import count_queries, race, tamper_audit


def _append(platform: Platform, n: int, payload: dict[str, object] | None = None) -> None:
    with platform.unit_of_work() as uow:
        for i in range(n):
            uow.audit(1, "admin", "thing.changed", "thing", i, payload or {"i": i})
        uow.commit()


def _entries(platform: Platform) -> list[AuditEntry]:
    with platform.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _verify(platform: Platform) -> audit.Verification:
    with platform.unit_of_work(write=False) as uow:
        return audit.verify(uow.session)


def test_entries_are_chained_in_commit_order_from_genesis(platform: Platform) -> None:
    _append(platform, 3)
    _append(platform, 2)
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
    )
    assert _verify(platform) == audit.Verification(True, 5)


def test_uncommitted_unit_of_work_leaves_no_entry(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        uow.audit(1, "admin", "thing.changed", "thing", 1, {})
    assert _entries(platform) == []
    assert _verify(platform).ok


def test_verify_names_the_entry_whose_payload_was_changed(platform: Platform) -> None:
    _append(platform, 5)
    tamper_audit(platform, """UPDATE audit_log SET payload = '{"i": 99}' WHERE seq = 3""")
    result = _verify(platform)
    assert (result.ok, result.broken_seq, result.checked) == (False, 3, 2)
    assert result.reason == "content does not match its hash"


@pytest.mark.parametrize(
    "change",
    ["actor = 'mallory'", "actor_id = 2", "action = 'thing.viewed'", "object_id = '42'"],
)
def test_verify_detects_any_changed_column(platform: Platform, change: str) -> None:
    _append(platform, 3)
    tamper_audit(platform, f"UPDATE audit_log SET {change} WHERE seq = 2")
    assert _verify(platform).broken_seq == 2


def test_the_database_refuses_to_change_or_delete_an_entry(platform: Platform) -> None:
    _append(platform, 3)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with platform.engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(f"{statement} WHERE seq = 2"))
    assert _verify(platform) == audit.Verification(True, 3)


def test_verify_detects_a_changed_time(platform: Platform) -> None:
    _append(platform, 3)
    sqlite = platform.engine.dialect.name == "sqlite"
    earlier = "2020-11-22 01:00:00.000000" if sqlite else "2020-11-22 01:00:00+00"
    tamper_audit(platform, f"UPDATE audit_log SET at = '{earlier}' WHERE seq = 2")
    assert _verify(platform).broken_seq == 2


def test_verify_detects_a_deleted_middle_entry(platform: Platform) -> None:
    _append(platform, 5)
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq = 3")
    result = _verify(platform)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert result.reason == "entry 3 is missing (next is 4)"


def test_verify_detects_a_forged_entry_rehashed_without_relinking_its_successor(
    platform: Platform,
) -> None:
    _append(platform, 3)
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
        prev_hash=entries[0].hash,
    )
    tamper_audit(
        platform,
        f"""UPDATE audit_log SET payload = '{{"i": "forged"}}', hash = '{forged}' WHERE seq = 2""",
    )
    result = _verify(platform)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert result.reason == "previous-hash link does not match the entry before it"


def test_truncating_the_newest_entries_is_not_detectable_by_the_chain_alone(
    platform: Platform,
) -> None:
    """A hash chain proves everything up to its tail; cutting the tail needs an external anchor,
    which the signed checkpoints are (next test)."""
    _append(platform, 4)
    tail = _entries(platform)[-1].hash
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq = 4")
    assert _verify(platform) == audit.Verification(True, 3)
    assert _entries(platform)[-1].hash != tail


def _checkpoint(platform: Platform, key: str = "installation-key") -> None:
    with platform.unit_of_work() as uow:
        assert audit.checkpoint(uow.session, key=key, at=uow.now) is not None
        uow.commit()


def _verify_signed(platform: Platform, key: str = "installation-key") -> audit.Verification:
    with platform.unit_of_work(write=False) as uow:
        return audit.verify(uow.session, key=key)


def test_signed_checkpoints_catch_a_cut_tail_and_a_rewritten_last_entry(
    platform: Platform,
) -> None:
    _append(platform, 4)
    _checkpoint(platform)
    _append(platform, 2)  # not anchored yet: the next checkpoint will
    assert _verify_signed(platform) == audit.Verification(True, 6)
    with platform.unit_of_work() as uow:  # the head is already anchored: nothing to sign
        _checkpoint(platform)
        assert audit.checkpoint(uow.session, key="installation-key", at=uow.now) is None
    tamper_audit(platform, "DELETE FROM audit_log WHERE seq > 4")
    cut = _verify_signed(platform)
    assert (cut.ok, cut.broken_seq) == (False, 5)
    assert "entries were deleted" in (cut.reason or "")


def test_a_last_entry_rewritten_with_a_recomputed_hash_breaks_its_anchor(
    platform: Platform,
) -> None:
    _append(platform, 3)
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
        prev_hash=last.prev_hash,
    )
    tamper_audit(
        platform,
        f"UPDATE audit_log SET action = 'thing.forgotten', hash = '{forged}' WHERE seq = 3",
    )
    rewritten = _verify_signed(platform)  # the links agree again, but not with the anchor
    assert (rewritten.ok, rewritten.broken_seq) == (False, 3)
    assert "checkpoint" in (rewritten.reason or "")
    other = _verify_signed(platform, key="another-key")  # a checkpoint forged elsewhere
    assert other.ok is False
    assert "not signed with this installation's key" in (other.reason or "")


def test_chinese_payload_hashes_stably_after_a_database_round_trip(platform: Platform) -> None:
    _append(
        platform, 1, {"标题": "设备噪音超标", "values": [1.5, None, True], "嵌套": {"b": 2, "a": 1}}
    )
    assert _verify(platform).ok


def test_concurrent_writers_keep_one_unbroken_chain(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    writers, each = 4, 10

    def write(p: Platform, who: int) -> None:
        for i in range(each):
            with p.unit_of_work() as uow:
                uow.audit(who, f"w{who}", "thing.changed", "thing", i, {"w": who, "i": i})
                uow.commit()

    race(settings, clock, writers, write)
    entries = _entries(platform)
    assert [e.seq for e in entries] == list(range(1, writers * each + 1))
    assert _verify(platform) == audit.Verification(True, writers * each)


def _tail_reads(platform: Platform, n: int) -> int:
    with count_queries(platform.engine) as statements:
        _append(platform, n)
    return sum("ORDER BY audit_log.seq DESC" in s for s in statements)


def test_a_process_appends_after_its_own_tail_without_reading_it(platform: Platform) -> None:
    assert _tail_reads(platform, 1) == 1  # nothing known yet: the tail is read
    assert _tail_reads(platform, 1) == 0
    assert _tail_reads(platform, 3) == 0
    assert _verify(platform) == audit.Verification(True, 5)


def test_appends_of_another_process_or_a_cut_tail_are_chained_after(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    other = Platform.from_settings(settings, clock=clock)
    try:
        _append(platform, 2)
        _append(other, 2)  # the first platform's tail is no longer the chain's
        assert _tail_reads(platform, 1) == 1
        assert _tail_reads(other, 1) == 1
        assert [e.seq for e in _entries(platform)] == [1, 2, 3, 4, 5, 6]
        assert _verify(platform) == audit.Verification(True, 6)
        tamper_audit(platform, "DELETE FROM audit_log WHERE seq = 6")  # the tail other wrote
        assert _tail_reads(other, 2) == 1
        assert [e.seq for e in _entries(platform)] == [1, 2, 3, 4, 5, 6, 7]
        assert _verify(platform) == audit.Verification(True, 7)
    finally:
        other.dispose()


def test_a_rolled_back_append_leaves_the_known_tail_alone(platform: Platform) -> None:
    _append(platform, 1)
    known = platform.caches.audit_tail
    with platform.unit_of_work() as uow:  # appended, then rolled back
        pending = [PendingAudit(1, "admin", "thing.changed", "thing", "1", {})]
        assert audit.append_entries(uow.session, pending, at=uow.now, tail=known)[0] == 2
    assert platform.caches.audit_tail == known
    assert _tail_reads(platform, 1) == 0
    assert _verify(platform) == audit.Verification(True, 2)


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
    _append(platform, 1, {"amount": 1e16, "ratio": 1.0, "tiny": 1.5e-7})
    tamper_audit(
        platform,
        """UPDATE audit_log SET payload = '{"amount": 10000000000000000, "ratio": 1, """
        """"tiny": 0.00000015}' WHERE seq = 1""",
    )
    assert _verify(platform) == audit.Verification(True, 1)
    assert _entries(platform)[0].canon == audit.CANON == 2


def test_entries_hashed_in_the_first_canonical_form_still_verify(platform: Platform) -> None:
    """Entries written before RFC 8785 keep their form (``canon`` 1) and their hashes."""
    _append(platform, 2)
    entries = _entries(platform)
    prev = GENESIS
    for entry in entries:
        old = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            payload=entry.payload,
            prev_hash=prev,
            canon=1,
        )
        assert old != entry.hash
        tamper_audit(
            platform,
            f"UPDATE audit_log SET canon = 1, prev_hash = '{prev}', hash = '{old}' "
            f"WHERE seq = {entry.seq}",
        )
        prev = old
    assert _verify(platform) == audit.Verification(True, 2)
    _append(platform, 1)  # a new entry in form 2 chains onto the old ones
    assert [e.canon for e in _entries(platform)] == [1, 1, 2]
    assert _verify(platform) == audit.Verification(True, 3)
    tamper_audit(platform, "UPDATE audit_log SET canon = 2 WHERE seq = 1")
    assert _verify(platform).broken_seq == 1  # the form is part of what is verified
