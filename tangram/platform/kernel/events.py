"""Domain events (``record.created``, ``definition.published`` …) and publication checks.

Handlers run synchronously inside the unit of work that publishes the event, so whatever they
write (rule effects, flow starts, jobs) commits or rolls back with the change that caused it.
The rule and flow engines subscribe here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

#: The unit of work handlers receive (generic so this module needs no import of it).
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: ``name`` is past tense and dotted."""

    name: str
    app: str
    subject: str
    object_id: int
    actor_id: int | None
    payload: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[U, Event], None]


@dataclass
class EventBus(Generic[U]):
    """Handlers by event name (``*`` receives every event)."""

    handlers: dict[str, list[Handler[U]]] = field(default_factory=dict)

    def subscribe(self, name: str, handler: Handler[U]) -> None:
        """Call ``handler(uow, event)`` for every event called ``name``."""
        self.handlers.setdefault(name, []).append(handler)

    def publish(self, uow: U, event: Event) -> None:
        """Deliver ``event`` to its handlers inside ``uow``."""
        for handler in [*self.handlers.get(event.name, ()), *self.handlers.get("*", ())]:
            handler(uow, event)


#: A publication check: ``check(uow, app_key, kind, key, body)`` raises ``ValidationFailed`` to
#: refuse.
Check = Callable[[U, str, str, str, Mapping[str, Any]], None]
#: Advice on a publication: ``advise(uow, app_key, kind, key, body)`` returns warnings (each with
#: ``code``, ``path`` and ``message``) about what is valid but will likely go wrong at run time.
Advice = Callable[[U, str, str, str, Mapping[str, Any]], list[dict[str, Any]]]


@dataclass
class PublicationChecks(Generic[U]):
    """What a definition of each kind must pass before it is published.

    The metadata store runs them; each area registers the checks of the kinds it interprets in
    its ``install()`` (rules check that an app's rule book still compiles, flows their graph,
    reports their datasets), so the store depends on none of them.
    """

    checks: dict[str, list[Check[U]]] = field(default_factory=dict)
    advisers: dict[str, list[Advice[U]]] = field(default_factory=dict)

    def register(self, kinds: str | tuple[str, ...], check: Check[U]) -> None:
        """Run ``check`` before a definition of ``kinds`` is published (in registration order)."""
        for kind in (kinds,) if isinstance(kinds, str) else kinds:
            self.checks.setdefault(kind, []).append(check)

    def run(self, uow: U, app_key: str, kind: str, key: str, body: Mapping[str, Any]) -> None:
        """Run every check of ``kind``; the first refusal raises."""
        for check in self.checks.get(kind, ()):
            check(uow, app_key, kind, key, body)

    def advise(self, kinds: str | tuple[str, ...], adviser: Advice[U]) -> None:
        """Ask ``adviser`` for warnings when a definition of ``kinds`` is published."""
        for kind in (kinds,) if isinstance(kinds, str) else kinds:
            self.advisers.setdefault(kind, []).append(adviser)

    def warnings(
        self, uow: U, app_key: str, kind: str, key: str, body: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Every adviser's warnings about a definition that passed its checks."""
        found: list[dict[str, Any]] = []
        for adviser in self.advisers.get(kind, ()):
            found += adviser(uow, app_key, kind, key, body)
        return found
