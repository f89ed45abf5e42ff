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
Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, VariableSpec, compile_logic
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
    #: Record fields the platform keeps in step with this target (due instant, breached flag,
    #: and the business minutes it took once met: what reports aggregate as business time).
    due_field: str | None = None
    breached_field: str | None = None
    used_field: str | None = None


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """A target evaluated at an instant."""

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
        started = history[0][0]
        used = paused = 0.0
        breached_at: datetime | None = None
        met_at: datetime | None = None
        priority: Any = None
        budget: float | None = None
        data: Mapping[str, Any] = history[0][1]
        pauses: list[tuple[datetime, datetime]] = []
        counted: list[tuple[datetime, float]] = []  # (start, business seconds) of running spans
        for i, (at, snapshot) in enumerate(history):
            if at > now:
                break
            data = snapshot
            priority, budget = self._budget(target, data)
            if target.stop.function(data):
                met_at = at
                break
            until = history[i + 1][0] if i + 1 < len(history) else now
            until = min(until, now)
            span = cal.between(at, until) if until > at else 0.0
            if target.pause is not None and target.pause.function(data):
                paused += span
                if until > at:
                    pauses.append((at, until))
                continue
            if budget is not None and breached_at is None and used <= budget < used + span:
                breached_at = cal.add(at, budget - used)
            if span:
                counted.append((at, span))
            used += span
        if budget is None:  # no target for this priority: nothing to be late for
            return TargetStatus(
                key=target.key,
                state=SlaState.MET if met_at is not None else SlaState.RUNNING,
                priority=priority,
                budget_seconds=0.0,
                used_seconds=used,
                paused_seconds=paused,
                started_at=started,
                due_at=None,
                warn_at=None,
                met_at=met_at,
                breached_at=None,
                next_check=None,
                explanation=f"no {target.key} target for {self.priority_field} {priority!r}",
            )
        if breached_at is None and used > budget:
            # A raised priority can make the budget run out in the past: find when it did.
            left = budget
            for begin, span in counted:
                if span >= left:
                    breached_at = cal.add(begin, left)
                    break
                left -= span
        is_paused = (
            met_at is None and target.pause is not None and bool(target.pause.function(data))
        )
        warn_budget = budget * target.warn_percent / 100
        due_at = warn_at = next_check = None
        if met_at is None:
            if breached_at is not None:
                due_at = breached_at
            elif not is_paused:
                due_at = cal.add(now, budget - used)
                next_check = due_at
                if used < warn_budget:
                    warn_at = cal.add(now, warn_budget - used)
                    next_check = warn_at
        if met_at is not None:
            state = SlaState.MET if breached_at is None else SlaState.BREACHED
        elif breached_at is not None:
            state = SlaState.BREACHED
        elif is_paused:
            state = SlaState.PAUSED
        elif used >= warn_budget:
            state = SlaState.WARNED
        else:
            state = SlaState.RUNNING
        parts = [
            f"{self.priority_field} {priority} = {_minutes_text(budget)} of business time "
            f"from {self._local(started)} ({cal.key})"
        ]
        if pauses:
            spans = ", ".join(f"{self._local(a)}–{self._local(b)[11:]}" for a, b in pauses)
            parts.append(f"paused {_minutes_text(paused)} ({spans})")
        parts.append(f"{_minutes_text(used)} used")
        if met_at is not None:
            parts.append(
                f"met at {self._local(met_at)}"
                if breached_at is None
                else f"met late at {self._local(met_at)}, due {self._local(breached_at)}"
            )
        elif breached_at is not None:
            parts.append(f"breached at {self._local(breached_at)}")
        elif is_paused:
            parts.append(f"{_minutes_text(budget - used)} left when it resumes")
        elif due_at is not None:
            parts.append(f"due {self._local(due_at)}")
        return TargetStatus(
            key=target.key,
            state=state,
            priority=priority,
            budget_seconds=budget,
            used_seconds=used,
            paused_seconds=paused,
            started_at=started,
            due_at=due_at,
            warn_at=warn_at,
            met_at=met_at,
            breached_at=breached_at,
            next_check=next_check,
            explanation="; ".join(parts),
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
    ``due_field``, ``breached_field`` and ``used_field`` (the business minutes the target took,
    once met) name record fields kept in step with it.
    """
    problems: list[Diagnostic] = []

    def actions(raw: Any, path: str) -> Actions | None:
        try:
            return compile_actions(
                raw, fields=fields, tables=tables, forms=forms, flows=flows, path=path
            )
        except DefinitionError as exc:
            problems.extend(exc.diagnostics)
            return None

    on_warn = actions(definition["on_warn"], "/on_warn") if "on_warn" in definition else None
    levels: list[Actions] = []
    raw_levels = definition.get("escalation", [])
    if not isinstance(raw_levels, list):
        problems.append(Diagnostic("/escalation", "sla.escalation", "a list of levels"))
        raw_levels = []
    for i, level in enumerate(raw_levels):
        if not isinstance(level, Mapping) or "actions" not in level:
            problems.append(
                Diagnostic(f"/escalation/{i}", "sla.escalation", "a level is {actions: [...]}")
            )
            continue
        compiled_level = actions(level["actions"], f"/escalation/{i}/actions")
        if compiled_level is not None:
            levels.append(compiled_level)
    spec = VariableSpec(fields=fields) if fields is not None else None
    key = str(definition.get("key", ""))
    calendar = calendars.get(str(definition.get("calendar", "")))
    if calendar is None:
        problems.append(
            Diagnostic(
                "/calendar",
                "sla.calendar",
                f"unknown calendar {definition.get('calendar')!r}; known: "
                + (", ".join(sorted(calendars)) or "none"),
            )
        )
    by_priority: dict[str, Calendar] = {}
    raw_calendars = definition.get("calendars", {})
    for name, calendar_key in raw_calendars.items() if isinstance(raw_calendars, Mapping) else []:
        found = calendars.get(str(calendar_key))
        if found is None:
            problems.append(
                Diagnostic(
                    f"/calendars/{name}", "sla.calendar", f"unknown calendar {calendar_key!r}"
                )
            )
        else:
            by_priority[str(name)] = found
    priority_field = definition.get("priority_field")
    if not isinstance(priority_field, str) or (fields is not None and priority_field not in fields):
        problems.append(
            Diagnostic("/priority_field", "sla.field", f"{priority_field!r} is not a field")
        )

    def logic(expression: Any, path: str) -> CompiledLogic | None:
        try:
            return compile_logic(expression, variables=spec)
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    targets: list[Target] = []
    seen: set[str] = set()
    raw_targets = definition.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        problems.append(Diagnostic("/targets", "sla.targets", "needs at least one target"))
        raw_targets = []
    for i, raw in enumerate(raw_targets):
        where = f"/targets/{i}"
        if not isinstance(raw, Mapping):
            problems.append(Diagnostic(where, "sla.target", "must be an object"))
            continue
        tkey = str(raw.get("key", ""))
        if not tkey or tkey in seen:
            problems.append(Diagnostic(f"{where}/key", "sla.key", "needs a unique key"))
        seen.add(tkey)
        minutes = raw.get("minutes")
        if not isinstance(minutes, Mapping) or not minutes:
            problems.append(
                Diagnostic(f"{where}/minutes", "sla.minutes", "maps priorities to minutes")
            )
            minutes = {}
        for name, value in minutes.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(
                    Diagnostic(
                        f"{where}/minutes/{name}", "sla.minutes", "must be a positive number"
                    )
                )
        default = raw.get("default_minutes")
        if default is not None and (
            isinstance(default, bool) or not isinstance(default, int | float) or default <= 0
        ):
            problems.append(
                Diagnostic(f"{where}/default_minutes", "sla.minutes", "must be positive")
            )
            default = None
        warn = raw.get("warn_percent", 80)
        if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn <= 100:
            problems.append(Diagnostic(f"{where}/warn_percent", "sla.warn", "must be in (0, 100]"))
            warn = 80
        if "stop_when" not in raw:
            problems.append(
                Diagnostic(f"{where}/stop_when", "sla.stop", "say when the target is met")
            )
        stop = logic(raw.get("stop_when"), f"{where}/stop_when")
        pause = logic(raw["pause_when"], f"{where}/pause_when") if "pause_when" in raw else None
        kept: dict[str, str | None] = {}
        for name in ("due_field", "breached_field", "used_field"):
            value = raw.get(name)
            if value is not None and (
                not isinstance(value, str) or (fields is not None and value not in fields)
            ):
                problems.append(
                    Diagnostic(f"{where}/{name}", "sla.field", f"{value!r} is not a field")
                )
                value = None
            kept[name] = value
        if stop is not None:
            targets.append(
                Target(
                    key=tkey,
                    label=dict(raw.get("label") or {}),
                    minutes={str(k): float(v) for k, v in minutes.items()},
                    default_minutes=float(default) if default is not None else None,
                    stop=stop,
                    pause=pause,
                    warn_percent=float(warn),
                    due_field=kept["due_field"],
                    breached_field=kept["breached_field"],
                    used_field=kept["used_field"],
                )
            )
    if problems or calendar is None:
        raise DefinitionError(problems)
    return SlaPolicy(
        key, calendar, str(priority_field), tuple(targets), by_priority, on_warn, tuple(levels)
    )
