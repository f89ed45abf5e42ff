"""Serial numbers: per-scope sequences, no duplicates under racing writers; gaps or waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tangram.config import Settings
from tangram.engines.forms import compile_form
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import serials
from tangram.platform.kernel.clock import FrozenClock
from tests.conftest import race

FORM = compile_form(
    {
        "key": "ticket",
        "label": {"zh-CN": "工单"},
        "fields": [
            {"key": "title", "type": "text", "label": {"zh-CN": "标题"}},
            {
                "key": "ticket_no",
                "type": "serial",
                "label": {"zh-CN": "工单号"},
                "serial": "SV-{date:%Y%m%d}-{seq:4}",
            },
        ],
    }
)
DAY = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_numbers_count_up_per_day_and_restart_the_next_day(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        drawn = [serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"] for _ in range(3)]
        tomorrow = serials.draw(uow, "aftersales", FORM, DAY + timedelta(days=1))["ticket_no"]
        other_app = serials.draw(uow, "crm", FORM, DAY)["ticket_no"]
        uow.commit()
    assert drawn == ["SV-20261122-0001", "SV-20261122-0002", "SV-20261122-0003"]
    assert tomorrow == "SV-20261123-0001"
    assert other_app == "SV-20261122-0001"


def test_number_of_a_rolled_back_write_is_drawn_again(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        assert serials.next_value(uow, "s") == 1
        uow.commit()
    with platform.unit_of_work() as uow:
        assert serials.next_value(uow, "s") == 2  # this write fails and rolls back
    with platform.unit_of_work() as uow:
        assert serials.next_value(uow, "s") == 2
        uow.commit()
        assert serials.current(uow, "s") == 2
        assert serials.current(uow, "never") == 0


def test_racing_writers_never_draw_the_same_number(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    writers, each = 8, 25

    def write(p: Platform, _n: int) -> list[str]:
        numbers = []
        for _ in range(each):
            with p.unit_of_work() as uow:
                numbers.append(serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"])
                uow.commit()
        return numbers

    drawn = [number for batch in race(settings, clock, writers, write) for number in batch]
    assert len(drawn) == writers * each
    assert sorted(drawn) == [f"SV-20261122-{n:04d}" for n in range(1, writers * each + 1)]


GAPLESS = compile_form(
    {
        "key": "invoice",
        "label": {"zh-CN": "发票"},
        "fields": [
            {
                "key": "invoice_no",
                "type": "serial",
                "label": {"zh-CN": "发票号"},
                "serial": "FP-{seq:6}",
                "gapless": True,
            }
        ],
    }
)


def test_a_number_that_may_have_gaps_is_not_held_by_its_write(platform: Platform) -> None:
    """PostgreSQL: the number commits as it is drawn, so another registration of the form draws
    the next one without waiting for the first to end, and a write that fails leaves a gap.
    SQLite (one writer at a time) draws it in the write's transaction, without gaps."""
    with platform.unit_of_work() as failing:
        assert serials.draw(failing, "aftersales", FORM, DAY)["ticket_no"] == "SV-20261122-0001"
        if platform.side_engine is not None:
            with platform.unit_of_work() as other:
                # were the counter's row held by the first write, this would fail after 1 s
                other.session.execute(text("SET LOCAL lock_timeout = '1s'"))
                drawn = serials.draw(other, "aftersales", FORM, DAY)["ticket_no"]
                assert drawn == "SV-20261122-0002"
                other.commit()
        # the first write fails: it rolls back
    with platform.unit_of_work() as uow:
        after = serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"]
        uow.commit()
    if platform.side_engine is None:
        assert platform.engine.dialect.name == "sqlite"
        assert after == "SV-20261122-0001"  # drawn again
    else:
        assert after == "SV-20261122-0003"  # 0001 is a gap


def test_a_gapless_number_is_held_by_its_write_and_drawn_again_when_it_fails(
    platform: Platform,
) -> None:
    with platform.unit_of_work() as failing:
        assert serials.draw(failing, "erp", GAPLESS, DAY)["invoice_no"] == "FP-000001"
        if platform.side_engine is not None:
            with platform.unit_of_work() as other:
                other.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    serials.draw(other, "erp", GAPLESS, DAY)
    with platform.unit_of_work() as uow:
        assert serials.draw(uow, "erp", GAPLESS, DAY)["invoice_no"] == "FP-000001"
        uow.commit()


def test_a_rehearsal_draws_no_number_for_good(platform: Platform) -> None:
    """What-if runs undo their work: a number they drew is drawn again (no gap either)."""
    with platform.unit_of_work() as uow:
        with uow.rehearsal():
            assert serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"] == "SV-20261122-0001"
        assert serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"] == "SV-20261122-0001"
        uow.commit()


def test_a_number_drawn_apart_survives_a_dead_side_connection(platform: Platform) -> None:
    """PostgreSQL: the side pool does not ping at checkout; a connection found dead (a server
    restart, a proxy's timeout) is replaced and the number drawn on a new one."""
    with platform.unit_of_work() as uow:
        assert serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"] == "SV-20261122-0001"
        uow.commit()
    if platform.side_engine is not None:
        with platform.side_engine.connect() as pooled:  # the pool's idle connection
            pid = pooled.execute(text("SELECT pg_backend_pid()")).scalar()
        with platform.engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    with platform.unit_of_work() as uow:
        assert serials.draw(uow, "aftersales", FORM, DAY)["ticket_no"] == "SV-20261122-0002"
        uow.commit()
