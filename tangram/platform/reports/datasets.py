"""Reports at run time: published report definitions run on the projection tables.

A report definition (kind ``reports``) holds a ``dataset`` (see
:mod:`tangram.engines.reports.dataset`) and a ``widget`` saying how to show it::

    {"key": "by_type", "label": {...},
     "dataset": {"form": "ticket", "dimensions": [...], "measures": [...]},
     "widget": {"type": "pareto", "x": "type", "y": "tickets", "top": 8}}

A measure ``{"key": "mttr", "type": "kpi", "kpi": "mttr"}`` reuses a published KPI (kind ``kpis``).
Running a report needs the viewer's read grant on every form its dataset touches and applies their
row-level permission (own, group or all records of each form, as in record lists: see
:mod:`tangram.platform.reports.sources`) and any filters of the request (record-list syntax: ``status=open``,
``_created_at__gte=2026-11-01``), and returns the rows with an ECharts-ready ``dataset`` and the
query's elapsed time. Widgets: ``kpi``, ``bar``, ``line``, ``area``, ``pie``, ``donut``,
``table``; ``stacked`` (``x`` down, one column per value of ``series``), ``pivot`` (``rows`` ×
``columns`` with exact totals, also for averages), ``pareto`` (sorted, with the cumulative share),
``before_after`` (each measure over the ``before`` and ``after`` periods side by side, with the
change); ``top`` keeps the first N rows by the widget's measure and folds the rest into "others".

Results are cached per (definition and KPI versions, filters, viewer's scopes, time zone, day) and
keyed by the head of the audit log: every record write is audited in its own transaction, so a
cached result is served only while no record of any form has changed since it was computed, on
every server process alike. Each platform (process) keeps its own least-recently-used cache.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import FieldType
from tangram.engines.meta import validate_definition
from tangram.engines.reports import (
    TOTAL,
    Dataset,
    JoinLimit,
    Source,
    changes,
    compile_dataset,
    cross_table,
    expand_kpis,
    field_of,
    resolve_period,
    shape,
    spread,
    widget_problems,
    within,
)
from tangram.platform import metadata, records
from tangram.platform.identity import users
from tangram.platform.identity.perms import Action, Actor, require_design
from tangram.platform.kernel import audit, spreadsheets
from tangram.platform.kernel.errors import NotFound, ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records import listing, projections
from tangram.platform.records.listing import Filter
from tangram.platform.reports import rollups
from tangram.platform.reports.sources import (
    Reach,
    app_id_of,
    reach,
    require_app,
    sources_of,
    tables_of,
)

#: Conditions on a form's tables that a caller adds (dashboard filters); the flag says whether a
#: date range applies (not to before/after widgets, which have their own periods).
Extra = Callable[[projections.Tables, bool], list[ColumnElement[bool]]]


#: The same conditions as a rollup keeps them (see :class:`tangram.platform.reports.rollups.Slice`).
Sliced = Callable[[projections.Tables, bool], rollups.Slice]


def compiled_dataset(
    uow: UnitOfWork, definition: Mapping[str, Any], sources: Mapping[str, Source], time_zone: str
) -> Dataset:
    """``compile_dataset`` once per definition, time zone and projection tables (a dashboard
    compiles the same datasets at every request otherwise)."""
    key = (
        json.dumps(definition, sort_keys=True, default=str),
        time_zone,
        tuple(sorted((k, s.main.name, s.form.projection.digest) for k, s in sources.items())),
    )
    found = uow.caches.datasets.get(key)
    if found is None:
        found = uow.caches.datasets.put(
            key, compile_dataset(definition, sources, time_zone=time_zone)
        )
    return found


def published_kpis(uow: UnitOfWork, app_key: str, keys: Sequence[str]) -> dict[str, Any]:
    """The published bodies of the KPIs named (missing ones are left out), with their versions."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        try:
            row_id, version, digest = metadata.published_ref(uow, app_key, "kpi", key)
        except NotFound:
            continue
        out[key] = {**metadata.version_body(uow, row_id, digest), "_version": version}
    return out


def _kpi_keys(dataset: Mapping[str, Any]) -> list[str]:
    return [
        str(m.get("kpi"))
        for m in dataset.get("measures") or []
        if isinstance(m, Mapping) and m.get("type") == "kpi"
    ]


def _renamed(node: Any, suffix: str) -> Any:
    """A calculated measure's expression over the ``suffix`` copies of the measures it names."""
    if isinstance(node, Mapping):
        if set(node) == {"var"}:
            name = node["var"][0] if isinstance(node["var"], list) else node["var"]
            return {"var": f"{name}{suffix}"}
        return {k: _renamed(v, suffix) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, suffix) for v in node]
    return node


def _before_after(
    dataset: dict[str, Any], widget: Mapping[str, Any], now: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """Each measure twice, over the widget's ``before`` and ``after`` periods."""
    problems: list[Diagnostic] = []
    periods = {}
    for side in ("before", "after"):
        try:
            periods[side] = resolve_period(
                str(widget.get(side) or ""), now=now, zone=zone, path=f"/widget/{side}"
            )
        except DefinitionError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise DefinitionError(problems)
    field = str(widget.get("period_field") or "_created_at")
    measures = []
    for side, period in periods.items():
        for m in dataset.get("measures") or []:
            copy = {**m, "key": f"{m.get('key')}_{side}"}
            if m.get("type") == "calculated":
                copy["expression"] = _renamed(m.get("expression"), f"_{side}")
            else:
                span = within(field, period)
                copy["filter"] = span if m.get("filter") is None else {"and": [m["filter"], span]}
            measures.append(copy)
    return {**dataset, "measures": measures}


@dataclass(frozen=True)
class Prepared:
    """A report compiled for a run: its dataset, tables and what its result depends on."""

    key: str
    version: int
    body: Mapping[str, Any]
    dataset: Dataset
    tables: projections.Tables
    #: The dataset as compiled (KPIs expanded, periods resolved): part of the cache key.
    digest: str
    sources: Mapping[str, Source]
    definition: Mapping[str, Any]
    time_zone: str


def prepare(
    uow: UnitOfWork,
    app_key: str,
    key: str,
    version: int,
    body: Mapping[str, Any],
    *,
    time_zone: str,
    now: datetime,
) -> Prepared:
    """Expand KPIs, resolve the widget's periods and compile; problems are paths in ``body``."""
    raw = dict(body.get("dataset") or {})
    widget = body.get("widget") or {}
    try:
        zone = ZoneInfo(time_zone)
        definition = expand_kpis(raw, published_kpis(uow, app_key, _kpi_keys(raw)))
        if widget.get("type") == "before_after":
            definition = _before_after(definition, widget, now, zone)
        sources = sources_of(uow, app_key, str(raw.get("form")))
        dataset = compiled_dataset(uow, definition, sources, time_zone)
    except DefinitionError as exc:
        raise DefinitionError(
            [
                d
                if d.path.startswith("/widget")
                else Diagnostic(f"/dataset{d.path}", d.code, d.message)
                for d in exc.diagnostics
            ]
        ) from None
    digest = hashlib.sha256(
        json.dumps(definition, sort_keys=True, default=str).encode()
    ).hexdigest()
    return Prepared(
        key,
        version,
        body,
        dataset,
        tables_of(sources, str(raw.get("form"))),
        digest,
        sources,
        definition,
        time_zone,
    )


def check(uow: UnitOfWork, app_key: str, _kind: str, key: str, body: Mapping[str, Any]) -> None:
    """Refuse a report whose dataset or widget does not fit the forms (every problem's path);
    periods resolve in UTC here."""
    try:
        prepared = prepare(uow, app_key, key, 0, body, time_zone="UTC", now=uow.now)
    except DefinitionError as exc:
        problems = list(exc.diagnostics)
    else:
        problems = widget_problems(body, prepared.dataset)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The report cannot be published: {len(problems)} problem(s).",
            problems,
            code="definition.invalid",
        )


@dataclass(frozen=True)
class Result:
    """A report's data, ready for a chart or an export."""

    key: str
    version: int
    widget: Mapping[str, Any]
    columns: list[str]
    rows: list[list[Any]]
    elapsed_ms: float
    cached: bool = False
    label: Mapping[str, str] | None = None
    #: Whether the rows came from the dataset's rollup rather than its query.
    rollup: bool = False
    #: dimension → value → its name by language (options, users, groups)
    labels: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The API answer: rows and the ECharts ``dataset`` (``dimensions`` + ``source``)."""
        return {
            "key": self.key,
            "label": dict(self.label or {}),
            "labels": {k: dict(v) for k, v in (self.labels or {}).items()},
            "version": self.version,
            "widget": dict(self.widget),
            "columns": self.columns,
            "rows": self.rows,
            "echarts": {"dataset": {"dimensions": self.columns, "source": self.rows}},
            "elapsed_ms": round(self.elapsed_ms, 2),
            "cached": self.cached,
            "rollup": self.rollup,
        }

    def csv_chunks(self) -> Iterator[str]:
        """The rows as CSV text, a chunk at a time."""
        return spreadsheets.csv_chunks(self.columns, self.rows)

    def csv(self) -> str:
        """The whole CSV text."""
        return "".join(self.csv_chunks())

    def xlsx(self) -> bytes:
        """The rows as an Excel workbook."""
        return spreadsheets.xlsx(self.key, self.columns, self.rows)


def head(uow: UnitOfWork) -> tuple[int, int, int]:
    """The audit log's mark: it moves with every write of any record (see
    :func:`~tangram.platform.kernel.audit.mark`); read once per unit of work. What the unit
    reads afterwards is at least as new as the mark (a later commit moves it further), so a
    result kept under it is never older than what the mark promises."""
    memo = uow.memo
    if memo.report_head is None:
        memo.report_head = audit.mark(uow.session)
    return memo.report_head


def cached(uow: UnitOfWork, key: tuple[Any, ...], compute: Callable[[], Any]) -> tuple[Any, bool]:
    """``compute()``'s value for ``key`` and the audit head, and whether it came from the cache.

    Only read units share the cache: a write unit (a rule reading a KPI, a what-if rehearsing
    effects) sees its own writes, which the mark does not count and which may yet be rolled
    back; it computes its own values, and keeps them to itself."""
    if uow.write:
        return compute(), False
    full = (*key, head(uow))
    found = uow.caches.report_results.get(full)
    if found is not None:
        return found, True
    return uow.caches.report_results.put(full, compute()), False


def load(uow: UnitOfWork, actor: Actor, app_key: str, key: str) -> tuple[Prepared, Reach]:
    """A published report compiled for ``actor``, after checking they may read its form and
    every form it joins (403 ``permission.record`` otherwise: see
    :mod:`tangram.platform.reports.sources`)."""
    require_app(uow, actor, app_key)
    row_id, version, digest = metadata.published_ref(uow, app_key, "report", key)
    body = metadata.version_body(uow, row_id, digest)
    form_key = str((body.get("dataset") or {}).get("form"))
    records.require_scope(actor, Action.READ, app_key, form_key)  # before anything runs
    try:
        zone = uow.settings.time_zone
        prepared = prepare(uow, app_key, key, version, body, time_zone=zone, now=uow.now)
    except DefinitionError as exc:  # a form or KPI changed under a published report
        raise ValidationFailed.from_diagnostics(
            f"Report {key!r} no longer fits its forms; publish it again.",
            exc.diagnostics,
            code="report.stale",
        ) from None
    return prepared, reach(actor, app_key, prepared.dataset.forms, prepared.dataset.reads)


def _where(
    uow: UnitOfWork,
    actor: Actor,
    prepared: Prepared,
    seen: Reach,
    filters: Sequence[Filter],
    extra: Extra | None,
) -> list[ColumnElement[bool]]:
    t = prepared.tables
    dated = (prepared.body.get("widget") or {}).get("type") != "before_after"
    return [
        *listing.conditions(
            t,
            filters,
            time_zone=uow.settings.time_zone,
            hidden=seen.hidden,
        ),
        *records.visible(uow, actor, t.main, seen.scope),
        *(extra(t, dated) if extra is not None else []),
    ]


def run(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    filters: Sequence[Filter] = (),
    extra: Extra | None = None,
    extra_key: tuple[Any, ...] = (),
    sliced: Sliced | None = None,
) -> Result:
    """Run a published report for ``actor`` (their read scope on the form applies).

    ``extra`` adds conditions (a dashboard's filters); ``extra_key`` names them for the cache;
    ``sliced`` says the same as ``extra`` in terms a rollup keeps (without it, a request with
    ``extra`` is answered by the query).
    """
    prepared, seen = load(uow, actor, app_key, key)

    def conditions() -> tuple[list[ColumnElement[bool]], JoinLimit | None]:
        return _where(uow, actor, prepared, seen, filters, extra), seen.joined(uow, actor)

    rollable = seen.whole and not filters and (extra is None or sliced is not None)
    part = sliced(prepared.tables, True) if sliced is not None else None
    cache_key = (
        "report",
        app_key,
        key,
        prepared.version,
        prepared.digest,
        tuple((f.field, f.op, str(f.value)) for f in filters),
        extra_key,
        seen.key(actor),
        uow.settings.time_zone,
        uow.now.date().isoformat(),  # relative periods move with the day
    )
    result, hit = cached(
        uow,
        cache_key,
        lambda: _execute(
            uow,
            prepared,
            conditions,
            _rolled(uow, app_key, prepared, part) if rollable else None,
        ),
    )
    shown: Result = replace(result, cached=hit)
    return shown


def draft_body(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, body: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a designer previews: ``body``, or the saved draft of ``key``, checked against its
    kind's schema (422 ``definition.invalid`` with every problem's path). Designers only."""
    require_design(actor, app_key)
    view = metadata.get_definition(uow, actor, app_key, kind, key)
    draft = dict(body) if body is not None else dict(view.definition.draft)
    if draft.get("key") != key:
        raise ValidationFailed.at("body/key", f"must be the {kind}'s key {key!r}")
    problems = validate_definition(kind, draft)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The {kind} has {len(problems)} problem(s): fix them to preview it.",
            problems,
            code="definition.invalid",
        )
    return draft


def preview(
    uow: UnitOfWork, actor: Actor, app_key: str, key: str, *, body: Mapping[str, Any] | None = None
) -> Result:
    """A report's draft (or ``body``) run for ``actor`` as it would be published: their read
    scope applies, nothing is cached or rolled up, and a draft that does not fit its forms is a
    422 with every problem's path."""
    draft = draft_body(uow, actor, app_key, "report", key, body)
    form_key = str((draft.get("dataset") or {}).get("form"))
    require_app(uow, actor, app_key)
    records.require_scope(actor, Action.READ, app_key, form_key)
    try:
        zone = uow.settings.time_zone
        prepared = prepare(uow, app_key, key, 0, draft, time_zone=zone, now=uow.now)
        problems = widget_problems(draft, prepared.dataset)
    except DefinitionError as exc:
        problems = list(exc.diagnostics)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The report has {len(problems)} problem(s): fix them to preview it.",
            problems,
            code="definition.invalid",
        )
    seen = reach(actor, app_key, prepared.dataset.forms, prepared.dataset.reads)
    where = _where(uow, actor, prepared, seen, (), None)
    return _execute(uow, prepared, lambda: (where, seen.joined(uow, actor)))


class QueryLater(Exception):
    """The result needs the dataset's query, and the caller asked to run those apart."""


def query_now(uow: UnitOfWork) -> None:
    """Raise :class:`QueryLater` when the unit's caller runs queries apart (dashboards)."""
    if uow.memo.queries_later:
        raise QueryLater


def _rolled(
    uow: UnitOfWork, app_key: str, prepared: Prepared, sliced: rollups.Slice | None
) -> Callable[[], list[list[Any]] | None] | None:
    """The report's rows from its rollup, when one can answer (see :mod:`.rollups`)."""
    if (prepared.body.get("widget") or {}).get("type") in ("pivot", "before_after"):
        return None
    part = sliced or rollups.Slice()
    first, last = part.first, part.last
    span: rollups.Range = None
    if part.period_field is not None and first is not None and last is not None:
        span = (first, last)
    ask = rollups.Ask(
        app_key=app_key,
        app_id=app_id_of(uow, app_key),
        owner=f"report:{prepared.key}",
        version=f"{prepared.version}:{prepared.digest}",
        definition=prepared.definition,
        sources=prepared.sources,
        day_field=str(part.period_field) if span is not None else "_created_at",
        keys=part.keys,
        time_zone=prepared.time_zone,
    )

    def rows() -> list[list[Any]] | None:
        found = rollups.serve(uow, ask, [span], dict(part.selects))
        return None if found is None else found[0]

    return rows


def _execute(
    uow: UnitOfWork,
    prepared: Prepared,
    conditions: Callable[[], tuple[list[ColumnElement[bool]], JoinLimit | None]],
    rolled: Callable[[], list[list[Any]] | None] | None = None,
) -> Result:
    """The report's result, from its rollup when ``rolled`` gives rows, else by its query under
    ``conditions()`` (the viewer's and the caller's conditions, and the joined forms' limit:
    built only when a query runs)."""
    started = time.perf_counter()
    dataset = prepared.dataset
    rows_of_rollup = rolled() if rolled is not None else None
    built = None
    if rows_of_rollup is not None:
        columns = [d.key for d in dataset.dimensions] + [m.key for m in dataset.measures]
        rows = rows_of_rollup
    else:
        query_now(uow)
        built = where, joined = conditions()
        result = uow.session.execute(dataset.query(where=where, joined=joined))
        columns = list(result.keys())
        rows = [list(r) for r in result]
    rows = dataset.settle(columns, rows)
    widget = dict(prepared.body.get("widget") or {"type": "table"})
    kind = widget.get("type", "table")
    if kind == "pivot":
        columns, rows = _pivot(uow, prepared, widget, columns, rows, built or conditions())
    elif kind == "stacked":
        columns, rows = spread(widget, dataset, columns, rows)
    elif kind == "before_after":
        columns, rows = changes(dataset, columns, rows)
    else:
        rows = shape(widget, dataset, columns, rows)
        if kind == "pareto":
            columns = [*columns, "cumulative_share"]
    elapsed = (time.perf_counter() - started) * 1000
    return Result(
        prepared.key,
        prepared.version,
        widget,
        columns,
        rows,
        elapsed,
        label=prepared.body.get("label"),
        labels=_labels(uow, prepared, rows, columns),
        rollup=rows_of_rollup is not None,
    )


def _labels(
    uow: UnitOfWork, prepared: Prepared, rows: list[list[Any]], columns: list[str]
) -> dict[str, dict[str, dict[str, str]]]:
    """What the values of each dimension are called: option labels, user and group names."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for d in prepared.dataset.dimensions:
        if d.bucket is not None or d.field is None or d.key not in columns:
            continue
        f = field_of(prepared.sources, prepared.dataset.form, d.field)
        if f is None:
            continue
        if f.options:
            out[d.key] = {o.value: dict(o.label) for o in f.options}
            continue
        at = columns.index(d.key)
        ids = sorted({int(r[at]) for r in rows if isinstance(r[at], int)})
        if not ids or f.type not in (FieldType.USER, FieldType.GROUP):
            continue
        people, units = users.names_of(
            uow,
            users=ids if f.type is FieldType.USER else (),
            groups=ids if f.type is FieldType.GROUP else (),
        )
        out[d.key] = {str(i): {"zh-CN": n, "en": n} for i, n in (people or units).items()}
    return out


def _pivot(
    uow: UnitOfWork,
    prepared: Prepared,
    widget: Mapping[str, Any],
    columns: list[str],
    rows: list[list[Any]],
    limits: tuple[list[ColumnElement[bool]], JoinLimit | None],
) -> tuple[list[str], list[list[Any]]]:
    """A cross table whose totals the database computes (exact for any measure), under the
    same ``limits`` (conditions, referenced rows joined) as its cells."""
    where, joined = limits
    measure = widget.get("y") or prepared.dataset.measures[0].key

    def totals(keep: list[str]) -> dict[Any, Any]:
        definition = {
            **prepared.definition,
            "dimensions": [
                x for x in prepared.definition.get("dimensions") or [] if x.get("key") in keep
            ],
        }
        dataset = compile_dataset(definition, prepared.sources, time_zone=prepared.time_zone)
        result = uow.session.execute(dataset.query(where=where, joined=joined))
        columns = list(result.keys())
        j = columns.index(measure)
        return {(r[0] if keep else TOTAL): r[j] for r in dataset.settle(columns, list(result))}

    return cross_table(widget, measure, columns, rows, totals)
