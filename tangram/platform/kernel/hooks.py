"""Where the platform's areas plug in: event subscriptions, job kinds and publication checks.

Each area (records, rules, reports, flows) has an ``install(hooks, settings)`` that fills these
registries; the platform calls them once when it is built. Lower areas never import higher ones:
they publish events and run checks that the higher ones registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tangram.platform.kernel.events import EventBus, PublicationChecks
from tangram.platform.kernel.jobs import JobRegistry, default_registry
from tangram.platform.kernel.uow import UnitOfWork


@dataclass
class Hooks:
    """The registries of one platform."""

    events: EventBus[UnitOfWork] = field(default_factory=EventBus)
    jobs: JobRegistry = field(default_factory=default_registry)
    checks: PublicationChecks[UnitOfWork] = field(default_factory=PublicationChecks)
