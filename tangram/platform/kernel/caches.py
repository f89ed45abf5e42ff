"""Typed caches: what a platform keeps between units of work, and what one unit remembers.

:class:`Caches` belongs to one platform (one process) and is shared by its threads; each field
is one cache, bounded, with its own lock. Its keys carry what makes an entry true (a definition's
checksum, an app's metadata tag, a projection's digest), so an entry is never stale: it is only
forgotten when its cache is full. :class:`Memo` belongs to one unit of work: what a command has
already looked up, forgotten by the unit's own methods when it publishes a definition.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Hashable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from tangram.engines.flows import Process
from tangram.engines.forms import Form
from tangram.engines.reports import Dataset
from tangram.engines.reports.rollup import Plan
from tangram.engines.rules import Rulebook
from tangram.platform.kernel.models.projection import Tables

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Shared(Generic[K, V]):
    """A least-recently-used cache that threads share (every operation holds its lock)."""

    def __init__(self, maxsize: int, getsizeof: Callable[[V], float] | None = None) -> None:
        self._store: LRUCache[K, V] = LRUCache(maxsize=maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The entry of ``key`` (``None`` when there is none)."""
        with self._lock:
            return self._store.get(key)

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._store

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (a value larger than the whole cache is not kept)."""
        with self._lock, suppress(ValueError):  # too large: the caller uses it uncached
            self._store[key] = value
        return value

    def setdefault(self, key: K, compute: Callable[[], V]) -> V:
        """The entry of ``key``, computed and kept under the lock when missing (for values that
        are cheap to compute and must be built once)."""
        with self._lock:
            found = self._store.get(key)
            if found is None:
                found = self._store[key] = compute()
            return found

    def pop(self, key: K) -> V | None:
        """Forget ``key``; its entry, if there was one."""
        with self._lock:
            return self._store.pop(key, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._store.clear()

    def keys(self) -> list[K]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._store)

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())


def rows_size(rows: list[list[Any]]) -> int:
    """What rows of rolled-up values weigh in a cache: one per row and per value of its arrays."""
    return sum(1 + sum(len(v) for v in row if isinstance(v, array)) for row in rows)


#: How many rolled-up values the merged months of rollups may hold in one process.
MONTHS_SIZE = 8_000_000


@dataclass
class Caches:
    """The caches of one platform, one field each (see the module's docstring)."""

    #: The key writers' audit digests are made with (the installation's secret key).
    audit_key: str | None = None
    #: Set when this process committed audit entries: its sequencer wakes up at once.
    audit_queued: threading.Event = field(default_factory=threading.Event)
    #: identity: a hash at the installation's cost, verified against for unknown user names.
    password_dummy: str | None = None
    #: metadata: (row id, version, checksum) of published definitions by (app, kind, key, tag).
    published_refs: Shared[tuple[str, str, str, str], tuple[int, int, str]] = field(
        default_factory=lambda: Shared(4096)
    )
    #: metadata: published versions' bodies as JSON text, by (row id, digest).
    version_bodies: Shared[tuple[int, str], str] = field(default_factory=lambda: Shared(1024))
    #: metadata: the field keys of an app's published forms, by (app, metadata tag).
    form_catalogs: Shared[tuple[str, str], dict[str, tuple[str, ...]]] = field(
        default_factory=lambda: Shared(256)
    )
    #: metadata: the archived (kind, key) of an app by (app, metadata tag).
    archived: Shared[tuple[str, str], frozenset[tuple[str, str]]] = field(
        default_factory=lambda: Shared(256)
    )
    #: metadata: compiled forms by (app, key, version, checksum).
    forms: Shared[tuple[str, str, int, str], Form] = field(default_factory=lambda: Shared(512))
    #: records: the tables of each projection by (app id, form, digest).
    projection_tables: Shared[tuple[int, str, str], Tables] = field(
        default_factory=lambda: Shared(2048)
    )
    #: records: projections known to be built, by (app id, form, digest).
    projections_built: Shared[tuple[int, str, str], bool] = field(
        default_factory=lambda: Shared(8192)
    )
    #: rules: each app's rule book and the metadata tag it was last checked under.
    rulebooks: Shared[str, tuple[str | None, Rulebook]] = field(default_factory=lambda: Shared(256))
    #: flows: compiled processes by (app, key, version, checksum).
    processes: Shared[tuple[str, str, int, str], Process] = field(
        default_factory=lambda: Shared(1024)
    )
    #: flows: the processes running instances are pinned to, by (app, key, version).
    pinned_processes: Shared[tuple[str, str, int], Process] = field(
        default_factory=lambda: Shared(1024)
    )
    #: reports: compiled datasets by (definition, time zone, projection digests).
    datasets: Shared[tuple[Any, ...], Dataset] = field(default_factory=lambda: Shared(512))
    #: reports: results by (definition versions, filters, scope, zone, day, audit head).
    report_results: Shared[tuple[Any, ...], Any] = field(default_factory=lambda: Shared(512))
    #: reports: the forms a published report or KPI measures, by (app id, metadata tag).
    measured_forms: Shared[tuple[int, str | None], frozenset[str]] = field(
        default_factory=lambda: Shared(1024)
    )
    #: reports: how long a dashboard widget's query last took in this process, in ms, by
    #: (app, dashboard, widget): the widgets worth running apart.
    widget_queries: Shared[tuple[str, str, str], float] = field(
        default_factory=lambda: Shared(4096)
    )
    #: reports: rollup plans by fingerprint (``None``: the dataset cannot be rolled up).
    rollup_plans: Shared[str, Plan | None] = field(default_factory=lambda: Shared(256))
    #: reports: merged months of rollups, weighed by the values they hold.
    rollup_months: Shared[tuple[Any, ...], list[list[Any]]] = field(
        default_factory=lambda: Shared(MONTHS_SIZE, getsizeof=rows_size)
    )

    def forget_compiled(self) -> None:
        """Forget everything compiled from definitions (after a metadata rollback, in tests)."""
        for cache in (
            self.published_refs,
            self.archived,
            self.forms,
            self.rulebooks,
            self.processes,
            self.pinned_processes,
            self.datasets,
            self.rollup_plans,
            self.measured_forms,
        ):
            cache.clear()

    def forget_results(self) -> None:
        """Forget computed report results and merged rollup months."""
        self.report_results.clear()
        self.rollup_months.clear()


@dataclass
class Memo:
    """What one unit of work remembers, one field each (forgotten with the unit)."""

    #: metadata: each app's metadata tag as this unit first saw it, and its id.
    app_tags: dict[str, str] = field(default_factory=dict)
    app_ids: dict[str, int] = field(default_factory=dict)
    #: metadata: compiled forms by (app, key, version asked), with their version.
    forms: dict[tuple[str, str, int | None], tuple[int, Form]] = field(default_factory=dict)
    #: rules: each app's rule book, checked once per unit.
    rulebooks: dict[str, Rulebook] = field(default_factory=dict)
    #: flows: compiled processes by (app, key, version asked), with their version.
    processes: dict[tuple[str, str, int | None], tuple[int, Process]] = field(default_factory=dict)
    #: rules: how deep effects have triggered further rules, and the rules on the way.
    rule_depth: int = 0
    rule_chain: list[str] = field(default_factory=list)
    #: rules: records whose SLA refresh is held: the handling of an event of the record, or a
    #: refresh, under way; the events its writes raise leave the refresh to it.
    sla_busy: set[int] = field(default_factory=set)
    #: reports: KPI values rules read, by (app, KPI, period).
    rule_kpis: dict[tuple[str, str, str, str | None, int | None], float | None] = field(
        default_factory=dict
    )
    #: reports: the audit log's mark as this unit first read it (the result cache's key).
    report_head: tuple[int, int, int] | None = None
    #: reports: set while a dashboard answers from caches and rollups only (the rest later).
    queries_later: bool = False
    #: reports: rollup marks to bump, (app id, form, date field, UTC day), written at commit.
    rollup_marks: set[tuple[int, str, str, date]] = field(default_factory=set)
    #: reports: rollup marks a read unit read, by (app id, form, date field, span, time zone).
    rollup_marks_read: dict[tuple[Any, ...], dict[date, int]] = field(default_factory=dict)
    #: flows: instances this unit queued a recheck for (their record changed).
    flow_rechecks: set[int] = field(default_factory=set)
    #: metadata: while a package is published, its forms' field keys by app: forms published
    #: together may refer to each other (all of them are published, or the unit rolls back).
    package_forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def forget_compiled(self) -> None:
        """Forget compiled definitions: a definition was published in this unit."""
        self.forms.clear()
        self.rulebooks.clear()
        self.processes.clear()
