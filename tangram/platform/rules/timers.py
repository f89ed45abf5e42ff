"""Rules that wait: relative timers on a record's dates and schedules over every record of a form,
kept as jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tangram.config import Settings
from tangram.engines.rules import (
    Rulebook,
    RuleEvent,
    RuleSet,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import App, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.rules import rulebook
from tangram.platform.rules.evaluation import live_record, run_rules

TIMER_JOB = "rule.timer"


SCHEDULE_JOB = "rule.schedule"


#: Records a scheduled rule visits per run (in batches, oldest first).
SCHEDULE_LIMIT = 10_000


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def schedule_timers(
    uow: UnitOfWork, book: Rulebook, record: Record, event: str, changed: frozenset[str]
) -> None:
    if event == "record.deleted":
        return
    for key, rule in book.rules.items():
        if rule.trigger != "timer" or book.form_of.get(key) != record.form_key:
            continue
        after = str(rule.schedule["after"])
        if after == "created_at":
            anchor = record.created_at if event == "record.created" else None
            anchor_value: Any = None
        elif after == "updated_at":
            anchor, anchor_value = uow.now, uow.now.isoformat()
        else:
            if event == "record.updated" and after not in changed:
                continue
            anchor_value = record.data.get(after)
            anchor = _parse_instant(anchor_value)
        if anchor is None:
            continue
        minutes = float(rule.schedule["minutes"])
        calendar = book.calendars.get(str(book.bodies[key]["trigger"].get("calendar", "")))
        if rule.schedule.get("business") and calendar is not None:
            due = calendar.add_minutes(anchor, minutes)
        else:
            due = anchor + timedelta(minutes=minutes)
        jobs.enqueue(
            uow,
            TIMER_JOB,
            {
                "app": book.app,
                "form": record.form_key,
                "record": record.id,
                "rule": key,
                "anchor": anchor_value,
            },
            run_at=max(due, uow.now),
        )


def run_timer(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    book = rulebook.load(uow, str(p["app"]))
    rule = book.rules.get(str(p["rule"]))
    record = live_record(uow, int(p["record"]))
    if rule is None or rule.trigger != "timer" or record is None:
        return  # the rule was removed or changed, or the record deleted: nothing is due
    after = str(rule.schedule["after"])
    if after == "updated_at" and p.get("anchor") != record.updated_at.isoformat():
        return  # a later change scheduled its own timer
    if after not in ("created_at", "updated_at") and record.data.get(after) != p.get("anchor"):
        return
    run_rules(uow, settings, book, record, RuleSet((rule,)), RuleEvent("timer", rule=rule.key))


def schedule_rule(
    uow: UnitOfWork, app_key: str, key: str, body: Mapping[str, Any], version: int
) -> None:
    """Queue the next run of a published schedule rule (called when it is published)."""
    trigger = body.get("trigger") or {}
    if body.get("type", "rule") != "rule" or trigger.get("type") != "schedule":
        return
    if body.get("enabled", True) is False:
        return
    book = rulebook.load(uow, app_key)
    rule = book.rules.get(key)
    if rule is None:
        return
    jobs.enqueue(
        uow,
        SCHEDULE_JOB,
        {"app": app_key, "rule": key, "version": version},
        run_at=rule.next_run(uow.now),
    )


def run_schedule(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    book = rulebook.load(uow, str(p["app"]))
    key = str(p["rule"])
    rule = book.rules.get(key)
    if rule is None or rule.trigger != "schedule" or book.versions.get(key) != p.get("version"):
        return  # replaced by a newer version (which queued its own run) or removed
    sweep(uow, settings, str(p["app"]), key)
    jobs.enqueue(uow, SCHEDULE_JOB, dict(p), run_at=rule.next_run(job.now))


def sweep(uow: UnitOfWork, settings: Settings, app_key: str, key: str) -> int:
    """Run the published schedule rule ``key`` once over every live record of its form, now,
    without touching its next planned run (a demo history runs a daily rule on chosen days);
    returns how many records it visited."""
    book = rulebook.load(uow, app_key)
    rule = book.rules.get(key)
    if rule is None or rule.trigger != "schedule":
        return 0
    form_key = book.form_of[key]
    app_id = uow.session.scalar(select(App.id).where(App.key == book.app))
    after = 0
    visited = 0
    single = RuleSet((rule,))
    while app_id is not None and visited < SCHEDULE_LIMIT:
        batch = list(
            uow.session.scalars(
                select(Record)
                .where(
                    Record.app_id == app_id,
                    Record.form_key == form_key,
                    Record.deleted_at.is_(None),
                    Record.id > after,
                )
                .order_by(Record.id)
                .limit(200)
            )
        )
        if not batch:
            break
        for record in batch:
            run_rules(uow, settings, book, record, single, RuleEvent("schedule", rule=key))
        after = batch[-1].id
        visited += len(batch)
    return visited
