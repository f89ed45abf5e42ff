"""Demo data: a history lived through the platform's own services, from a package's seed spec.

``demo/seed.json`` of a package says who works there, which master records exist and how records
stream in and move through their flows::

    {"app": "aftersales", "days": 730, "password": "tangram-demo",
     "users": [{"prefix": "qe_a", "count": 3, "display": "A线质量工程师{n}",
                "roles": ["quality_engineer"], "groups": ["line_a_qe"], "manages": ["line_a_qe"]}],
     "records": {"product": [{"model": "A-100", "product_line": "A"}]},
     "streams": [{"form": "ticket", "share": 1.0, "by": ["agent"], "open_days": 10,
                  "seasonality": [0.8, 0.6, 1.0, ...],
                  "values": {"issue_type": {"choice": {"hardware_fault": 30, "software_bug": 25}},
                             "product": {"record": "product", "by": "model",
                                         "weights": {"A-100": 24, "B-200": 18}},
                             "product_line": {"from": "product", "field": "product_line"}},
                  "steps": {"respond": {"wait": [5, 600], "data": {...}},
                            "approve": {"wait": [30, 1440], "reject": 0.2, "target": "plan"},
                            "accept": {"wait": [60, 2880], "data": {...}}}}]}

A step's ``wait`` (minutes, drawn between two bounds) is the time until the record's next step;
the stream's ``wait`` is the time until its first. Time moves forward only: record creations and task actions are events in one queue, the clock of
the platform is set to each in turn, and due jobs (SLA checks, timeouts, timers) run in between,
so rules, SLAs and flows really happen: tickets get dispatched, deadlines pass, callbacks time
out. Most of the newest records of a stream (``open_days``) stay open a few steps into their
flows, so people find work in their inboxes.

Value generators: ``{"choice": {value: weight}}`` (or ``[[value, weight], ...]`` for numbers), ``{"pick": [values]}``, ``{"range": [a, b]}``,
``{"chance": p}`` (true or false), ``{"record": form, "by": field, "weights": {...}}`` (a master
record; with ``"share": p`` only in that share of the cases, else empty), ``{"from": field, "field": key}`` (a field of the record a reference points at),
``{"users": [group keys]}`` (a member), ``{"days": [a, b]}`` (a date that many days from now),
``{"rows": [min, max], "fields": {...}}`` (sub-table rows), ``{"rows": [{...}, {...}]}`` (these
rows, each drawn) and plain values. A generator with ``"side": true`` draws from a random stream of
its own, so values added to a seed later leave the rest of its history as it was.

``"schedules": {"health_score": [28, 14, 0]}`` runs a schedule rule over its form's records on
those days before the end of the history (a history begins after the package is installed, so its
planned runs lie in the future): a daily score gets a past to fall from.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tangram.platform import flows, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, users
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import TangramError, ValidationFailed
from tangram.platform.kernel.models import FlowInstance, Group, Record, Task, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.rules import timers
from tangram.platform.worker import Worker

SYSTEM = Actor.system("demo")
MAX_STEPS = 60  # per record: a guard against a flow that would never end
#: What :func:`_act` answers when the record's flow waits on a timer (no task open yet), and
#: how long the demo lets pass before it looks again.
WAITING = ""
WAIT_AGAIN = timedelta(days=1)


@dataclass
class SeedReport:
    """What a seed created."""

    users: int = 0
    records: dict[str, int] = field(default_factory=dict)
    actions: int = 0
    open: int = 0
    failed: list[str] = field(default_factory=list)


def load_spec(package: Path) -> dict[str, Any]:
    """The seed spec of a package folder."""
    path = package / "demo" / "seed.json"
    if not path.is_file():
        raise ValidationFailed(
            f"The package has no demo/seed.json at {package.name}/demo.", code="demo.missing"
        )
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def seeded(uow: Any, spec: Mapping[str, Any]) -> bool:
    """Whether the spec's first user exists (the demo ran here before)."""
    specs = spec.get("users") or []
    if not specs:
        return False
    return users.find_user(uow, _username(specs[0], 1)) is not None


def _username(group_spec: Mapping[str, Any], n: int) -> str:
    prefix = str(group_spec["prefix"])
    return f"{prefix}{n:02d}" if int(group_spec.get("count", 1)) > 1 else prefix


class _Values:
    """Draws field values from the spec's generators."""

    def __init__(
        self,
        rng: random.Random,
        master: Mapping[str, list[Record]],
        members: Mapping[str, list[int]],
        now: Callable[[], datetime],
        side: random.Random | None = None,
    ) -> None:
        self.rng = rng
        self.side = side or rng
        self.master = master
        self.members = members
        self.now = now

    def draw(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        chosen: dict[str, Record] = {}
        for key, gen in spec.items():
            value = self.one(gen, chosen, key)
            if value is not None:
                out[key] = value
        return out

    def one(self, gen: Any, chosen: dict[str, Record], key: str = "") -> Any:
        if not isinstance(gen, Mapping):
            return gen
        rng = self.side if gen.get("side") is True else self.rng
        if "choice" in gen:
            raw = gen["choice"]  # {value: weight}, or [[value, weight], ...] for values not text
            options = list(raw.items()) if isinstance(raw, Mapping) else [tuple(p) for p in raw]
            return rng.choices([k for k, _ in options], [w for _, w in options])[0]
        if "pick" in gen:
            return rng.choice(gen["pick"])
        if "range" in gen:
            low, high = gen["range"]
            return rng.randint(int(low), int(high))
        if "chance" in gen:
            return rng.random() < float(gen["chance"])
        if "record" in gen:
            pool = self.master.get(gen["record"], [])
            if "share" in gen and rng.random() >= float(gen["share"]):
                return None  # left empty in the other cases
            if not pool:
                return None
            weights = gen.get("weights") or {}
            by = gen.get("by")
            record = rng.choices(
                pool, [float(weights.get(str(r.data.get(by)), 1)) if by else 1.0 for r in pool]
            )[0]
            chosen[key] = record
            return record.id
        if "from" in gen:
            source = chosen.get(gen["from"])
            return source.data.get(gen["field"]) if source is not None else None
        if "users" in gen:
            members = [u for g in gen["users"] for u in self.members.get(g, [])]
            return rng.choice(members) if members else None
        if "days" in gen:
            low, high = gen["days"]
            return (
                (self.now() + timedelta(days=rng.randint(int(low), int(high)))).date().isoformat()
            )
        if "rows" in gen and all(isinstance(row, Mapping) for row in gen["rows"]):
            return [self.draw(row) for row in gen["rows"]]  # these rows, each drawn
        if "rows" in gen:
            low, high = gen["rows"]
            return [self.draw(gen["fields"]) for _ in range(rng.randint(int(low), int(high)))]
        return {k: self.one(v, chosen) for k, v in gen.items() if k != "side"}


def seed(
    platform: Platform,
    clock: FrozenClock,
    spec: Mapping[str, Any],
    *,
    count: int,
    until: datetime,
    random_seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Create the spec's users and master records, then live ``count`` records of its streams
    through the platform from ``days`` before ``until`` to ``until``."""
    rng = random.Random(random_seed)  # noqa: S311 - demo data, reproducible on purpose
    app = str(spec["app"])
    report = SeedReport()
    start = until - timedelta(days=int(spec.get("days", 730)))
    clock.set(start)
    members: dict[str, list[int]] = {}
    people: dict[str, list[int]] = {}
    with platform.unit_of_work() as uow:
        for group_spec in spec.get("users", []):
            for n in range(1, int(group_spec.get("count", 1)) + 1):
                name = (
                    f"{group_spec['prefix']}{n:02d}"
                    if group_spec.get("count", 1) > 1
                    else group_spec["prefix"]
                )
                if users.find_user(uow, name) is not None:
                    raise ValidationFailed(
                        f"User {name!r} exists already: the demo seeds an empty app once.",
                        code="demo.seeded",
                    )
                user = users.create_user(
                    uow,
                    SYSTEM,
                    username=name,
                    display_name=str(group_spec.get("display", name)).replace("{n}", str(n)),
                    password=str(spec.get("password", "tangram-demo")),
                    email=f"{name}@demo.invalid",
                    roles=group_spec.get("roles", ()),
                )
                report.users += 1
                people.setdefault(group_spec["prefix"], []).append(user.id)
                for key in group_spec.get("groups", []):
                    group = _group(uow, key)
                    groups.add_member(uow, SYSTEM, group_id=group.id, user_id=user.id)
                    members.setdefault(key, []).append(user.id)
                for key in group_spec.get("manages", []) if n == 1 else []:
                    group = _group(uow, key)
                    groups.update_group(
                        uow,
                        SYSTEM,
                        group.id,
                        {"manager_id": user.id},
                        lock_version=group.lock_version,
                    )
        master: dict[str, list[Record]] = {}
        # values marked "side" draw from a stream of their own: adding them to a seed leaves
        # the rest of its history as it was
        side = random.Random(random_seed + 1)  # noqa: S311 - demo data, reproducible on purpose
        values = _Values(rng, master, members, clock.now, side)
        for form_key, rows in (spec.get("records") or {}).items():
            for row in rows:  # master records may draw values too (an account manager)
                written = records.create_record(uow, SYSTEM, app, form_key, values.draw(row))
                master.setdefault(form_key, []).append(written.record)
            report.records[form_key] = len(rows)
        uow.commit()
    sequence = itertools.count()
    events = _creations(spec, rng, sequence, count, start, until)
    total = len(events)
    for rule_key, days_before in (spec.get("schedules") or {}).items():
        for days in days_before:  # chosen runs of a schedule rule (the history starts unplanned)
            at = until - timedelta(days=int(days))
            heapq.heappush(events, (at, next(sequence), "schedule", str(rule_key)))
    created = 0
    steps: dict[int, int] = {}
    budget: dict[int, int] = {}  # steps a record still open at the end may take
    worker = Worker(platform, name="demo")
    while events:
        at, _, kind, payload = heapq.heappop(events)
        clock.set(at)
        worker.run_due()
        if kind == "schedule":
            with platform.unit_of_work() as uow:
                timers.sweep(uow, platform.settings, app, str(payload))
                uow.commit()
            continue
        if kind == "create":
            stream = payload
            created += 1
            if progress is not None:
                progress(created, total)
            record_id = _create(platform, stream, values, people, rng, app, report)
            if record_id is None:
                continue
            if (until - at).days < int(stream.get("open_days", 0)) and rng.random() < 0.7:
                # a recent record stays open, a few steps into its flow, for people to pick up
                budget[record_id] = rng.randint(0, 3)
                report.open += 1
            heapq.heappush(
                events, (_after(at, stream, None, rng), next(sequence), "act", (stream, record_id))
            )
        else:
            stream, record_id = payload
            if record_id in budget and steps.get(record_id, 0) >= budget[record_id]:
                continue
            steps[record_id] = steps.get(record_id, 0) + 1
            if steps[record_id] > MAX_STEPS:
                report.failed.append(f"{stream['form']} {record_id}: more than {MAX_STEPS} steps")
                continue
            acted = _act(platform, stream, record_id, values, rng, report)
            if acted is not None and at < until:
                later = at + WAIT_AGAIN if acted == WAITING else _after(at, stream, acted, rng)
                heapq.heappush(events, (later, next(sequence), "act", (stream, record_id)))
    clock.set(until)
    worker.run_due()
    return report


def _creations(
    spec: Mapping[str, Any],
    rng: random.Random,
    sequence: Iterator[int],
    count: int,
    start: datetime,
    until: datetime,
) -> list[tuple[datetime, int, str, Any]]:
    """The queue of record creations of the spec's streams, spread over the history."""
    events: list[tuple[datetime, int, str, Any]] = []
    span = (until - start).total_seconds()
    for stream in spec.get("streams", []):
        n = (
            int(stream["count"])
            if "count" in stream
            else round(count * float(stream.get("share", 1)))
        )
        season = stream.get("seasonality") or [1.0] * 12
        for _ in range(n):
            while True:  # seasonality: keep an instant with the weight of its month
                at = start + timedelta(seconds=rng.random() * span)
                if rng.random() * max(season) <= season[at.month - 1]:
                    break
            heapq.heappush(events, (at, next(sequence), "create", stream))
    return events


def _group(uow: Any, key: str) -> Group:
    group = uow.session.scalar(select(Group).where(Group.key == key))
    if group is None:
        raise ValidationFailed(
            f"There is no group {key!r}: install the package first.", code="demo.group"
        )
    return group  # type: ignore[no-any-return]


def _after(
    at: datetime, stream: Mapping[str, Any], node: str | None, rng: random.Random
) -> datetime:
    wait = (stream.get("steps", {}).get(node or "", {}) or {}).get("wait") or stream.get(
        "wait", [30, 240]
    )
    return at + timedelta(minutes=rng.randint(int(wait[0]), int(wait[1])))


def _actor(uow: Any, user_id: int) -> Actor:
    user = uow.session.get(User, user_id)
    return load_actor(uow.session, user, via="demo")


def _create(
    platform: Platform,
    stream: Mapping[str, Any],
    values: _Values,
    people: Mapping[str, list[int]],
    rng: random.Random,
    app: str,
    report: SeedReport,
) -> int | None:
    creators = [u for prefix in stream.get("by", []) for u in people.get(prefix, [])]
    data = values.draw(stream.get("values", {}))
    try:
        with platform.unit_of_work() as uow:
            actor = _actor(uow, rng.choice(creators)) if creators else SYSTEM
            written = records.create_record(uow, actor, app, stream["form"], data)
            uow.commit()
    except TangramError as exc:
        report.failed.append(f"{stream['form']}: {exc}")
        return None
    report.records[stream["form"]] = report.records.get(stream["form"], 0) + 1
    return written.record.id


def _act(
    platform: Platform,
    stream: Mapping[str, Any],
    record_id: int,
    values: _Values,
    rng: random.Random,
    report: SeedReport,
) -> str | None:
    """Act on the record's first open task; the node acted on, :data:`WAITING` when its flow
    waits on a timer (a survey's three days), or None when its flows are done."""
    with platform.unit_of_work() as uow:
        task = uow.session.scalar(
            select(Task)
            .join(FlowInstance, FlowInstance.id == Task.instance_id)
            .where(
                Task.record_id == record_id, Task.status == "open", Task.form_key == stream["form"]
            )
            .order_by(Task.id)
        )
        if task is None:
            running = uow.session.scalar(
                select(FlowInstance.id).where(
                    FlowInstance.record_id == record_id, FlowInstance.status == "running"
                )
            )
            return WAITING if running is not None else None
        step = (stream.get("steps") or {}).get(task.node) or {}
        action = step.get("action", "approve" if task.kind == "approval" else "submit")
        target = None
        if step.get("reject") and rng.random() < float(step["reject"]):
            action, target = "reject", step.get("target")
        data = values.draw(step.get("data", {})) if action == "submit" else None
        actor = _actor(uow, task.assignee_id) if task.assignee_id else SYSTEM
        try:
            flows.act(
                uow,
                platform.settings,
                actor,
                task.id,
                flows.TaskCommand(
                    action=action,
                    target=target,
                    data=data,
                    opinion=step.get("opinion", ""),
                    # the demo's people act on the record as it is
                    lock_version=_record_version(uow, record_id),
                ),
            )
            uow.commit()
        except TangramError as exc:
            report.failed.append(f"{stream['form']} {record_id} {task.node}: {exc}")
            return None
        report.actions += 1
        return str(task.node)


def _record_version(uow: UnitOfWork, record_id: int) -> int | None:
    record = uow.session.get(Record, record_id)
    return record.lock_version if record is not None else None
