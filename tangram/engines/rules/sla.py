"""SLA policies: targets per priority on a business calendar, pauses, warnings, breaches.

A policy::

    {"key": "standard", "calendar": "cn_office", "priority_field": "urgency",
     "targets": [{"key": "first_response", "label": {"zh-CN": "首次响应", "en": "First response"},
                  "minutes": {"P1": 30, "P2": 60, "P3": 240, "P4": 480},
                  "stop_when": {"!!": [{"var": "first_response_at"}]},
                  "pause_when": {"==": [{"var": "status"}, "pending_customer"]},
                  "warn_percent": 80}]}

:meth:`SlaPolicy.evaluate` replays a record's history — snapshots ``(at, data)`` from its creation
on — up to ``now`` and gives, per target, its state (running, paused, warned, met, breached), the
due and warning instants, the business time used and paused, the next instant worth checking
again (for the timer job) and an explanation a person can read. Business time follows the
policy's calendar; a priority change re-targets the remaining budget; paused time does not count.

A target with ``"repeat": true`` runs in cycles: once met, it starts a new cycle with the full
budget when its stop condition stops holding (a reopened ticket), with its own warning and breach.
Without it a met target stays met. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, VariableSpec, compile_logic, data_reads
from tangram.engines.rules.actions import Actions, compile_actions
from tangram.engines.rules.calendar import Calendar
from tangram.engines.rules.decision import DecisionTable


class SlaState(StrEnum):
    """Where a target stands."""

    RUNNING = "running"
    PAUSED = "paused"
    WARNED = "warned"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class Target:
    """One SLA target (first response, resolution, ...)."""

    key: str
    label: Mapping[str, str]
    minutes: Mapping[str, float]
    default_minutes: float | None
    stop: CompiledLogic
    pause: CompiledLogic | None
    warn_percent: float
    #: Record fields the platform keeps in step with this target: the current cycle's due instant,
    #: whether any cycle breached, and the business minutes its met cycles took (what reports
    #: aggregate as business time).
    due_field: str | None = None
    breached_field: str | None = None
    used_field: str | None = None
    #: Whether a met target starts a new cycle when its stop condition stops holding.
    repeat: bool = False
    #: A record field the platform keeps at the number of the target's current cycle.
    cycles_field: str | None = None


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """A target evaluated at an instant.

    The state, budget, times and instants are those of the current (or last) cycle; ``cycle``
    numbers it from 1, ``breaches`` counts the cycles that breached so far (this one included) and
    ``total_used_seconds`` adds up the business time of every cycle."""

    key: str
    state: SlaState
    priority: Any
    budget_seconds: float
    used_seconds: float
    paused_seconds: float
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    #: The next instant at which the state changes by itself (warning, breach), if running.
    next_check: datetime | None
    explanation: str
    cycle: int = 1
    breaches: int = 0
    total_used_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (instants as ISO 8601) for storage on the record and the API."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "key": self.key,
            "state": self.state.value,
            "priority": self.priority,
            "budget_seconds": self.budget_seconds,
            "used_seconds": self.used_seconds,
            "paused_seconds": self.paused_seconds,
            "started_at": iso(self.started_at),
            "due_at": iso(self.due_at),
            "warn_at": iso(self.warn_at),
            "met_at": iso(self.met_at),
            "breached_at": iso(self.breached_at),
            "next_check": iso(self.next_check),
            "explanation": self.explanation,
            "cycle": self.cycle,
            "breaches": self.breaches,
            "total_used_seconds": self.total_used_seconds,
        }


def _minutes_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


@dataclass(frozen=True)
class SlaPolicy:
    """A compiled SLA policy."""

    key: str
    calendar: Calendar
    priority_field: str
    targets: tuple[Target, ...]
    #: Calendars for particular priorities (e.g. P1 around the clock); others use ``calendar``.
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    #: Actions when a target reaches its warning point.
    on_warn: Actions | None = None
    #: Actions per escalation level: the record's n-th breach runs level min(n, len).
    escalation: tuple[Actions, ...] = ()
    #: The record fields an evaluation reads: the priority field and what the targets' stop and
    #: pause conditions read; ``None`` when a condition reads fields it does not name.
    reads: frozenset[str] | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        found: set[str] = {self.priority_field}
        for target in self.targets:
            for condition in (target.stop, target.pause):
                got = data_reads(condition.expression) if condition is not None else frozenset()
                if got is None:
                    object.__setattr__(self, "reads", None)
                    return
                found |= got
        object.__setattr__(self, "reads", frozenset(found))

    def trail(
        self, history: Sequence[tuple[datetime, Mapping[str, Any]]]
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """``history`` as the policy reads it: each snapshot cut down to :attr:`reads`, and only
        the first and those where a field read changed. :meth:`evaluate` gives the same over it
        as over the whole history (sums of business time may differ in the last bits of a
        float), so a platform may keep the trail instead of replaying every write."""
        points: list[tuple[datetime, dict[str, Any]]] = []
        for at, snapshot in history:
            points = self.follow(points, at, snapshot)
        return points

    def follow(
        self,
        trail: Sequence[tuple[datetime, dict[str, Any]]],
        at: datetime,
        snapshot: Mapping[str, Any],
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """``trail`` (see :meth:`trail`) followed by the record as it is at ``at`` (no earlier than
        the trail's last point; at the same instant it takes that point's place, as snapshots of
        one instant are one snapshot)."""
        if self.reads is None:
            raise ValueError("a policy that reads fields it does not name keeps no trail")
        point = {k: snapshot[k] for k in sorted(self.reads) if k in snapshot}
        points = list(trail[:-1] if trail and trail[-1][0] == at else trail)
        if not points or points[-1][1] != point:
            points.append((at, point))
        return points

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.calendar.zone).strftime("%Y-%m-%d %H:%M")

    def _budget(self, target: Target, data: Mapping[str, Any]) -> tuple[Any, float | None]:
        priority = data.get(self.priority_field)
        minutes = target.minutes.get(str(priority), target.default_minutes)
        return priority, None if minutes is None else minutes * 60

    def evaluate(
        self, history: Sequence[tuple[datetime, Mapping[str, Any]]], now: datetime
    ) -> tuple[TargetStatus, ...]:
        """Every target's status at ``now`` from the record's snapshots (oldest first)."""
        if not history:
            raise ValueError("an SLA needs at least the record's creation")
        return tuple(self._target(t, history, now) for t in self.targets)

    def _target(
        self,
        target: Target,
        history: Sequence[tuple[datetime, Mapping[str, Any]]],
        now: datetime,
    ) -> TargetStatus:
        current = [snapshot for at, snapshot in history if at <= now] or [history[0][1]]
        # The calendar of the record's current priority measures the whole target.
        cal = self.calendars.get(str(current[-1].get(self.priority_field)), self.calendar)
        replay = self._replay(target, history, now, cal)
        budget = replay.budget
        if budget is None:  # no target for this priority: nothing to be late for
            return TargetStatus(
                key=target.key,
                state=SlaState.MET if replay.met_at is not None else SlaState.RUNNING,
                priority=replay.priority,
                budget_seconds=0.0,
                used_seconds=replay.used,
                paused_seconds=replay.paused,
                started_at=replay.started,
                due_at=None,
                warn_at=None,
                met_at=replay.met_at,
                breached_at=None,
                next_check=None,
                explanation=_cycle_text(
                    replay,
                    f"no {target.key} target for {self.priority_field} {replay.priority!r}",
                ),
                cycle=replay.cycle,
                breaches=replay.earlier_breaches,
                total_used_seconds=replay.earlier_used + replay.used,
            )
        if replay.breached_at is None and replay.used > budget:
            # A raised priority can make the budget run out in the past: find when it did.
            replay.breached_at = _ran_out(replay.counted, budget, cal)
        is_paused = (
            replay.met_at is None
            and target.pause is not None
            and bool(target.pause.function(replay.data))
        )
        warn_budget = budget * target.warn_percent / 100
        due_at = warn_at = next_check = None
        if replay.met_at is None and replay.breached_at is not None:
            due_at = replay.breached_at
        elif replay.met_at is None and not is_paused:
            due_at = next_check = cal.add(now, budget - replay.used)
            if replay.used < warn_budget:
                warn_at = next_check = cal.add(now, warn_budget - replay.used)
        return TargetStatus(
            key=target.key,
            state=_state(replay, is_paused, warn_budget),
            priority=replay.priority,
            budget_seconds=budget,
            used_seconds=replay.used,
            paused_seconds=replay.paused,
            started_at=replay.started,
            due_at=due_at,
            warn_at=warn_at,
            met_at=replay.met_at,
            breached_at=replay.breached_at,
            next_check=next_check,
            explanation=_cycle_text(replay, self._explain(replay, budget, cal, is_paused, due_at)),
            cycle=replay.cycle,
            breaches=replay.earlier_breaches + (replay.breached_at is not None),
            total_used_seconds=replay.earlier_used + replay.used,
        )

    def _replay(
        self,
        target: Target,
        history: Sequence[tuple[datetime, Mapping[str, Any]]],
        now: datetime,
        cal: Calendar,
    ) -> _Replay:
        """Business time used and paused from the first snapshot to ``now`` (or to the one that
        meets the target), and when the budget ran out on the way. A repeating target replays on
        after it is met: the first snapshot where its stop condition no longer holds starts a new
        cycle."""
        replay = _Replay(history[0][1], history[0][0])
        for i, (at, snapshot) in enumerate(history):
            if at > now:
                break
            stopped = bool(target.stop.function(snapshot))
            if stopped and replay.met_at is not None:
                continue  # still met: the cycle keeps the snapshot and priority it was met with
            replay.data = snapshot
            replay.priority, replay.budget = self._budget(target, snapshot)
            if stopped:
                replay.meet(at, cal)
                if not target.repeat:
                    break
                continue
            if replay.met_at is not None:
                replay.next_cycle(at)
            until = history[i + 1][0] if i + 1 < len(history) else now
            paused = target.pause is not None and bool(target.pause.function(snapshot))
            replay.count(at, min(until, now), paused, cal)
        return replay

    def _explain(
        self,
        replay: _Replay,
        budget: float,
        cal: Calendar,
        is_paused: bool,
        due_at: datetime | None,
    ) -> str:
        """How the target's current cycle stands, as a person reads it."""
        parts = [
            f"{self.priority_field} {replay.priority} = {_minutes_text(budget)} of business time "
            f"from {self._local(replay.started)} ({cal.key})"
        ]
        if replay.pauses:
            spans = ", ".join(f"{self._local(a)}–{self._local(b)[11:]}" for a, b in replay.pauses)
            parts.append(f"paused {_minutes_text(replay.paused)} ({spans})")
        parts.append(f"{_minutes_text(replay.used)} used")
        if replay.met_at is not None:
            parts.append(
                f"met at {self._local(replay.met_at)}"
                if replay.breached_at is None
                else f"met late at {self._local(replay.met_at)}, due {self._local(replay.breached_at)}"
            )
        elif replay.breached_at is not None:
            parts.append(f"breached at {self._local(replay.breached_at)}")
        elif is_paused:
            parts.append(f"{_minutes_text(budget - replay.used)} left when it resumes")
        elif due_at is not None:
            parts.append(f"due {self._local(due_at)}")
        return "; ".join(parts)


@dataclass(slots=True)
class _Replay:
    """A target replayed over a record's snapshots: its current cycle, and what the cycles before
    it left."""

    #: The last snapshot replayed.
    data: Mapping[str, Any]
    #: When the current cycle started (the record's creation for the first).
    started: datetime
    priority: Any = None
    budget: float | None = None
    used: float = 0.0
    paused: float = 0.0
    met_at: datetime | None = None
    breached_at: datetime | None = None
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)
    #: (start, business seconds) of the spans that counted.
    counted: list[tuple[datetime, float]] = field(default_factory=list)
    cycle: int = 1
    #: Business seconds used and breaches of the cycles before the current one.
    earlier_used: float = 0.0
    earlier_breaches: int = 0

    def meet(self, at: datetime, cal: Calendar) -> None:
        """The stop condition holds at ``at``: the cycle is met (late if its budget ran out)."""
        self.met_at = at
        if self.breached_at is None and self.budget is not None and self.used > self.budget:
            self.breached_at = _ran_out(self.counted, self.budget, cal)

    def next_cycle(self, at: datetime) -> None:
        """The stop condition stopped holding at ``at`` after the cycle was met: a new cycle."""
        self.earlier_used += self.used
        self.earlier_breaches += self.breached_at is not None
        self.cycle += 1
        self.started = at
        self.used = self.paused = 0.0
        self.met_at = self.breached_at = None
        self.pauses = []
        self.counted = []

    def count(self, at: datetime, until: datetime, paused: bool, cal: Calendar) -> None:
        """The business time from ``at`` to ``until``: paused, or used (noting when it runs out)."""
        span = cal.between(at, until) if until > at else 0.0
        if paused:
            self.paused += span
            if until > at and self.pauses and self.pauses[-1][1] == at:
                self.pauses[-1] = (self.pauses[-1][0], until)  # one pause over two snapshots
            elif until > at:
                self.pauses.append((at, until))
            return
        budget = self.budget
        if (
            budget is not None
            and self.breached_at is None
            and self.used <= budget < self.used + span
        ):
            self.breached_at = cal.add(at, budget - self.used)
        if span:
            self.counted.append((at, span))
        self.used += span


def _cycle_text(replay: _Replay, text: str) -> str:
    """``text`` with the cycle it speaks of, once a target has more than one."""
    if replay.cycle == 1:
        return text
    earlier = replay.cycle - 1
    return (
        f"cycle {replay.cycle}: {text}; "
        f"{replay.earlier_breaches} of {earlier} earlier cycle{'s' if earlier > 1 else ''} breached"
    )


def _ran_out(
    counted: Sequence[tuple[datetime, float]], budget: float, cal: Calendar
) -> datetime | None:
    """When ``budget`` business seconds were used up over the counted spans."""
    left = budget
    for begin, span in counted:
        if span >= left:
            return cal.add(begin, left)
        left -= span
    return None


def _state(replay: _Replay, is_paused: bool, warn_budget: float) -> SlaState:
    if replay.met_at is not None:
        return SlaState.MET if replay.breached_at is None else SlaState.BREACHED
    if replay.breached_at is not None:
        return SlaState.BREACHED
    if is_paused:
        return SlaState.PAUSED
    return SlaState.WARNED if replay.used >= warn_budget else SlaState.RUNNING


@dataclass
class _Compiling:
    """What an SLA policy is checked against, and the problems found."""

    fields: frozenset[str] | None
    tables: Mapping[str, DecisionTable] | None
    forms: frozenset[str] | None
    flows: frozenset[str] | None
    problems: list[Diagnostic] = field(default_factory=list)

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Diagnostic(path, code, message))

    def actions(self, raw: Any, path: str) -> Actions | None:
        try:
            return compile_actions(
                raw,
                fields=self.fields,
                tables=self.tables,
                forms=self.forms,
                flows=self.flows,
                path=path,
            )
        except DefinitionError as exc:
            self.problems.extend(exc.diagnostics)
            return None

    def logic(self, expression: Any, path: str) -> CompiledLogic | None:
        spec = VariableSpec(fields=self.fields) if self.fields is not None else None
        try:
            return compile_logic(expression, variables=spec, strict=True)
        except DefinitionError as exc:
            self.problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    def field(self, value: Any, path: str) -> bool:
        """Whether ``value`` names a field of the form (when the fields are known)."""
        if isinstance(value, str) and (self.fields is None or value in self.fields):
            return True
        self.problem(path, "sla.field", f"{value!r} is not a field")
        return False


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _escalation(raw: Any, c: _Compiling) -> tuple[Actions, ...]:
    """The escalation levels, each a list of actions."""
    if not isinstance(raw, list):
        c.problem("/escalation", "sla.escalation", "a list of levels")
        return ()
    levels = []
    for i, level in enumerate(raw):
        if not isinstance(level, Mapping) or "actions" not in level:
            c.problem(f"/escalation/{i}", "sla.escalation", "a level is {actions: [...]}")
            continue
        compiled = c.actions(level["actions"], f"/escalation/{i}/actions")
        if compiled is not None:
            levels.append(compiled)
    return tuple(levels)


def _calendars(
    definition: Mapping[str, Any], calendars: Mapping[str, Calendar], c: _Compiling
) -> tuple[Calendar | None, dict[str, Calendar]]:
    """The policy's calendar and the calendars of particular priorities."""
    calendar = calendars.get(str(definition.get("calendar", "")))
    if calendar is None:
        c.problem(
            "/calendar",
            "sla.calendar",
            f"unknown calendar {definition.get('calendar')!r}; known: "
            + (", ".join(sorted(calendars)) or "none"),
        )
    by_priority: dict[str, Calendar] = {}
    raw = definition.get("calendars", {})
    for name, calendar_key in raw.items() if isinstance(raw, Mapping) else []:
        found = calendars.get(str(calendar_key))
        if found is None:
            c.problem(f"/calendars/{name}", "sla.calendar", f"unknown calendar {calendar_key!r}")
        else:
            by_priority[str(name)] = found
    return calendar, by_priority


def _minutes(raw: Mapping[str, Any], where: str, c: _Compiling) -> dict[str, float]:
    """A target's minutes by priority."""
    minutes = raw.get("minutes")
    if not isinstance(minutes, Mapping) or not minutes:
        c.problem(f"{where}/minutes", "sla.minutes", "maps priorities to minutes")
        return {}
    for name, value in minutes.items():
        if not _positive(value):
            c.problem(f"{where}/minutes/{name}", "sla.minutes", "must be a positive number")
    return {str(k): float(v) if _positive(v) else 0.0 for k, v in minutes.items()}


def _target(raw: Any, where: str, seen: set[str], c: _Compiling) -> Target | None:
    if not isinstance(raw, Mapping):
        c.problem(where, "sla.target", "must be an object")
        return None
    key = str(raw.get("key", ""))
    if not key or key in seen:
        c.problem(f"{where}/key", "sla.key", "needs a unique key")
    seen.add(key)
    minutes = _minutes(raw, where, c)
    default = raw.get("default_minutes")
    if default is not None and not _positive(default):
        c.problem(f"{where}/default_minutes", "sla.minutes", "must be positive")
        default = None
    warn = raw.get("warn_percent", 80)
    if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn <= 100:
        c.problem(f"{where}/warn_percent", "sla.warn", "must be in (0, 100]")
        warn = 80
    if "stop_when" not in raw:
        c.problem(f"{where}/stop_when", "sla.stop", "say when the target is met")
    stop = c.logic(raw.get("stop_when"), f"{where}/stop_when")
    pause = c.logic(raw["pause_when"], f"{where}/pause_when") if "pause_when" in raw else None
    repeat = raw.get("repeat", False)
    if not isinstance(repeat, bool):
        c.problem(f"{where}/repeat", "sla.repeat", "must be true or false")
        repeat = False
    kept = {
        name: raw.get(name) if c.field(raw.get(name), f"{where}/{name}") else None
        for name in ("due_field", "breached_field", "used_field", "cycles_field")
        if raw.get(name) is not None
    }
    if stop is None:
        return None
    return Target(
        key=key,
        label=dict(raw.get("label") or {}),
        minutes=minutes,
        default_minutes=float(default) if default is not None else None,
        stop=stop,
        pause=pause,
        warn_percent=float(warn),
        due_field=kept.get("due_field"),
        breached_field=kept.get("breached_field"),
        used_field=kept.get("used_field"),
        repeat=repeat,
        cycles_field=kept.get("cycles_field"),
    )


def compile_sla(
    definition: Mapping[str, Any],
    *,
    calendars: Mapping[str, Calendar],
    fields: frozenset[str] | None = None,
    tables: Mapping[str, DecisionTable] | None = None,
    forms: frozenset[str] | None = None,
    flows: frozenset[str] | None = None,
) -> SlaPolicy:
    """Check an SLA policy (every problem with its path) and compile it.

    ``on_warn`` is a list of rule actions run when a target reaches its warning point;
    ``escalation`` a list of levels (``{"actions": [...]}``): a record's first breach runs the
    first level, its second breach the second, and so on (the last level repeats). A target's
    ``due_field``, ``breached_field``, ``used_field`` (the business minutes the target took,
    once met) and ``cycles_field`` (its cycle number) name record fields kept in step with it;
    ``repeat`` makes a met target start a new cycle when its stop condition stops holding.
    """
    c = _Compiling(fields, tables, forms, flows)
    on_warn = c.actions(definition["on_warn"], "/on_warn") if "on_warn" in definition else None
    levels = _escalation(definition.get("escalation", []), c)
    calendar, by_priority = _calendars(definition, calendars, c)
    priority_field = definition.get("priority_field")
    c.field(priority_field, "/priority_field")
    raw_targets = definition.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        c.problem("/targets", "sla.targets", "needs at least one target")
        raw_targets = []
    seen: set[str] = set()
    targets = [_target(raw, f"/targets/{i}", seen, c) for i, raw in enumerate(raw_targets)]
    if c.problems or calendar is None:
        raise DefinitionError(c.problems)
    return SlaPolicy(
        str(definition.get("key", "")),
        calendar,
        str(priority_field),
        tuple(t for t in targets if t is not None),
        by_priority,
        on_warn,
        levels,
    )
