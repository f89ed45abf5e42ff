"""Serial numbers: per-scope sequences, rollbacks reuse numbers, no duplicates under racing writers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
