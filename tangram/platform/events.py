"""Domain events (``record.created``, ``record.updated``, ``record.deleted`` …).

Handlers run synchronously inside the unit of work that publishes the event, so whatever they
write (rule effects, flow starts, jobs) commits or rolls back with the change that caused it.
The rule and flow engines subscribe here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tangram.platform.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: ``name`` is past tense and dotted."""

    name: str
    app: str
    subject: str
    object_id: int
    actor_id: int | None
    payload: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[["UnitOfWork", Event], None]


@dataclass
class EventBus:
    """Handlers by event name (``*`` receives every event)."""

    handlers: dict[str, list[Handler]] = field(default_factory=dict)

    def subscribe(self, name: str, handler: Handler) -> None:
        """Call ``handler(uow, event)`` for every event called ``name``."""
        self.handlers.setdefault(name, []).append(handler)

    def publish(self, uow: UnitOfWork, event: Event) -> None:
        """Deliver ``event`` to its handlers inside ``uow``."""
        for handler in [*self.handlers.get(event.name, ()), *self.handlers.get("*", ())]:
            handler(uow, event)
