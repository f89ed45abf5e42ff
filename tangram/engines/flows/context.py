"""What the token engine works with: the context a command runs in (time, the record's data, the
directory), the commands themselves, the engine's errors, and copies of the instance state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

SCHEMA_VERSION = 1
#: Automatic steps (branches, automations, ...) one command may take before it is refused as a loop.
MAX_STEPS = 1000
#: The most tasks (or sub-processes) one multi-instance node opens at once: more is refused
#: (``flow.multi_limit``) rather than thousands of tasks written in one command.
MAX_INSTANCES = 500
ACTIONS = (
    "approve",
    "reject",
    "submit",
    "return",
    "transfer",
    "delegate",
    "add_signer",
    "withdraw",
    "urge",
    "comment",
    "timer_fired",
    "record_changed",
    "subprocess_done",
    "cancel",
    "cancel_task",
)

#: ``resolve(rule, data, initiator)``: the user ids an assignee rule names (groups, roles,
#: managers); users, user fields, the initiator and the previous actor the engine finds itself.
Resolver = Callable[[Mapping[str, Any], Mapping[str, Any], int | None], Sequence[int]]
#: ``can_act(user, need)``: whether a user may act on a task that needs ``read`` (approve, look)
#: or ``update`` (a task that edits fields) on the record: an active account with the grants.
Eligibility = Callable[[int, str], bool]
#: ``observe(event)``: told each node a token enters (``{"type": "enter", "node", "from"}``) and
#: each branch condition evaluated (``{"type": "condition", "source", "target", "holds",
#: "values"}``), in the order they happen (a simulation's narrative).
Observer = Callable[[Mapping[str, Any]], None]


class FlowError(ValueError):
    """A command that cannot be carried out; ``code`` tells the platform which answer to give
    (``*.not_found`` 404, ``*.forbidden`` 403, ``*.conflict`` 409, else 422)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    """What the engine may know of the world for one step."""

    now: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    resolve: Resolver | None = None
    #: Adds business minutes to an instant (a business calendar's ``add_minutes``).
    business: Callable[[datetime, float], datetime] | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    #: Who may act on tasks (``None``: everybody the rules name).
    can_act: Eligibility | None = None
    #: Told what the engine does, step by step (``None``: nobody listens).
    observe: Observer | None = None

    @cached_property
    def stamp(self) -> str:
        """``now`` as ISO 8601 (what the history records)."""
        return self.now.isoformat()


@dataclass(frozen=True)
class Command:
    """Something a person (or a timer, or the platform) does to an instance."""

    action: str
    actor: int | None = None
    task: str | None = None
    opinion: str = ""
    target: str | None = None
    user: int | None = None
    position: str = "after"
    timer: str | None = None
    token: str | None = None
    attachments: tuple[Any, ...] = ()
    admin: bool = False


def fork(state: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``state`` that a command may change without touching the original.

    Only what commands change in place is copied: the containers, each task and each token (and
    its trail). Frames, trail entries, timers, returns and history entries are never changed once
    written, so they are shared.
    """
    fork = dict(state)
    fork["tokens"] = {k: {**t, "trail": list(t["trail"])} for k, t in state["tokens"].items()}
    fork["tasks"] = {k: dict(t) for k, t in state["tasks"].items()}
    fork["joins"] = {k: list(v) for k, v in state["joins"].items()}
    for key in ("timers", "generations", "returns"):
        fork[key] = dict(state[key])
    for key in ("cc", "history"):
        fork[key] = list(state[key])
    return fork
