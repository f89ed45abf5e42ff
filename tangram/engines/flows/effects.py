"""What a process asks the platform to do: effects are data, applied in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tangram.engines.rules import Effect as RuleEffect


@dataclass(frozen=True, slots=True)
class TaskOpened:
    """A task is open for ``assignee`` (``None``: nobody could be found, an administrator must
    assign it)."""

    task: str
    node: str
    kind: str
    assignee: int | None
    #: When its node's time limit runs out (``None``: the node sets none).
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskClosed:
    """A task ended: ``outcome`` is approved, rejected, submitted, returned or cancelled."""

    task: str
    node: str
    outcome: str


@dataclass(frozen=True, slots=True)
class TaskReassigned:
    """A task moved to another person (transfer, delegation, a delegate handing it back)."""

    task: str
    node: str
    assignee: int | None


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Fire ``timer`` at ``at`` (send the command ``timer_fired`` with its id)."""

    timer: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """A scheduled timer is no longer wanted."""

    timer: str


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell people something about a task (reminders, urges, escalations)."""

    users: tuple[int, ...]
    kind: str
    node: str
    task: str | None = None


@dataclass(frozen=True, slots=True)
class Escalate:
    """A task timed out: notify the manager of its assignee (the platform knows who that is)."""

    task: str
    node: str
    assignee: int | None


@dataclass(frozen=True, slots=True)
class CarbonCopy:
    """People get a copy (抄送) of the process at ``node``."""

    node: str
    users: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RunActions:
    """Rule actions of an automation node, already evaluated on the record."""

    node: str
    effects: tuple[RuleEffect, ...]


@dataclass(frozen=True, slots=True)
class StartSubProcess:
    """Start ``flow`` on a record: ``record`` is ``{"form": key, "values": {...}}`` (create one
    with these values), ``{"field": key}`` (the record a field of this one names) or ``{"id":
    n}`` (that record). When ``wait``, report back with ``subprocess_done`` naming ``child`` (one
    child of a sub-process per sub-table row, ``row`` its place in the table) or else ``token``.
    """

    token: str
    node: str
    flow: str
    record: Mapping[str, Any] = field(default_factory=dict)
    wait: bool = True
    child: str | None = None
    row: int | None = None

    @property
    def reports_as(self) -> str:
        """What the child's end reports back with (``subprocess_done``'s ``token``)."""
        return self.child or self.token


@dataclass(frozen=True, slots=True)
class FlowEnded:
    """The instance finished: ``completed``, ``terminated`` or ``cancelled``."""

    status: str


FlowEffect = (
    TaskOpened
    | TaskClosed
    | TaskReassigned
    | ScheduleTimer
    | CancelTimer
    | Notify
    | Escalate
    | CarbonCopy
    | RunActions
    | StartSubProcess
    | FlowEnded
)
