"""KPIs: named measures on a form, reused by KPI cards, report measures and PDCA checks.

A KPI definition::

    {"key": "mttr", "label": {...}, "form": "ticket",
     "filter": {"==": [{"var": "status"}, "closed"]},
     "measure": {"type": "duration", "from": "_created_at", "to": "resolved_at",
                 "unit": "hours", "aggregate": "avg"},
     "period_field": "resolved_at", "unit": "h", "direction": "lower", "decimals": 1,
     "target": 24}

``measure`` is a dataset measure without its key (see :mod:`tangram.engines.reports.dataset`);
``period_field`` (a date or datetime field of the form, ``_created_at`` by default) places a record
in a period; ``direction`` says whether ``higher`` or ``lower`` is better. Everything here turns a
KPI into dataset definitions, so a KPI is computed by the same compiled SQL as any report:
:func:`kpi_dataset` measures it over named periods in one query, and :func:`expand_kpis` lets a
report use ``{"key": "mttr", "type": "kpi", "kpi": "mttr"}`` as one of its measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.reports.dataset import Source, compile_dataset
from tangram.engines.reports.periods import Period

DIRECTIONS = ("higher", "lower")


def period_field(definition: Mapping[str, Any]) -> str:
    """The field that places a record in a period."""
    return str(definition.get("period_field") or "_created_at")


def within(field: str, period: Period) -> dict[str, Any]:
    """A JsonLogic condition: ``field`` falls in ``period`` (local dates, half-open)."""
    after = (period.last + timedelta(days=1)).isoformat()
    return {
        "and": [
            {">=": [{"var": field}, period.first.isoformat()]},
            {"<": [{"var": field}, after]},
        ]
    }


def _both(*conditions: Any) -> Any:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"and": present}


def kpi_measure(
    definition: Mapping[str, Any], key: str, period: Period | None = None
) -> dict[str, Any]:
    """The KPI as one dataset measure named ``key``: its filter (and ``period``) folded in."""
    measure = dict(definition.get("measure") or {})
    span = within(period_field(definition), period) if period is not None else None
    gate = _both(definition.get("filter"), measure.get("filter"), span)
    measure = {**measure, "key": key}
    if gate is not None:
        measure["filter"] = gate
    else:
        measure.pop("filter", None)
    return measure


def kpi_dataset(definition: Mapping[str, Any], periods: Mapping[str, Period]) -> dict[str, Any]:
    """A dataset measuring the KPI once per named period, in one scan of the periods' rows."""
    field = period_field(definition)
    spans = [within(field, p) for p in periods.values()]
    return {
        "form": definition.get("form"),
        "filter": _both(definition.get("filter"), {"or": spans} if spans else None),
        "measures": [
            {**kpi_measure({**definition, "filter": None}, name, period)}
            for name, period in periods.items()
        ],
    }


def expand_kpis(
    dataset: Mapping[str, Any], kpis: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """``dataset`` with each ``{"type": "kpi", "kpi": key}`` measure replaced by that KPI."""
    problems = []
    measures = []
    for i, raw in enumerate(dataset.get("measures") or []):
        if not (isinstance(raw, Mapping) and raw.get("type") == "kpi"):
            measures.append(raw)
            continue
        found = kpis.get(str(raw.get("kpi")))
        if found is None:
            problems.append(
                Diagnostic(
                    f"/measures/{i}/kpi", "report.kpi", f"no published KPI {raw.get('kpi')!r}"
                )
            )
        elif found.get("form") != dataset.get("form"):
            problems.append(
                Diagnostic(
                    f"/measures/{i}/kpi",
                    "report.kpi",
                    f"KPI {raw.get('kpi')!r} measures form {found.get('form')!r}, "
                    f"not {dataset.get('form')!r}",
                )
            )
        else:
            measure = kpi_measure(found, str(raw.get("key") or raw.get("kpi")))
            if raw.get("filter") is not None:
                measure["filter"] = _both(measure.get("filter"), raw["filter"])
            measures.append(measure)
    if problems:
        raise DefinitionError(problems)
    return {**dataset, "measures": measures}


def check_kpi(
    definition: Mapping[str, Any], sources: Mapping[str, Source], *, time_zone: str
) -> None:
    """Every problem of a KPI against its form, with paths into the KPI definition."""
    problems: list[Diagnostic] = []
    if definition.get("direction", "higher") not in DIRECTIONS:
        problems.append(Diagnostic("/direction", "report.kpi", "higher or lower"))
    trial = {
        "form": definition.get("form"),
        "filter": definition.get("filter"),
        "dimensions": [{"key": "day", "field": period_field(definition), "bucket": "day"}],
        "measures": [{**(definition.get("measure") or {}), "key": "value"}],
    }
    try:
        compile_dataset(trial, sources, time_zone=time_zone)
    except DefinitionError as exc:
        for d in exc.diagnostics:
            path = d.path.replace("/measures/0", "/measure", 1)
            path = path.replace("/dimensions/0/bucket", "/period_field", 1)
            path = path.replace("/dimensions/0/field", "/period_field", 1)
            if path == "/measure/key":
                continue
            problems.append(Diagnostic(path, d.code, d.message))
    if "." in period_field(definition):
        problems.append(
            Diagnostic("/period_field", "report.kpi", "a date or datetime field of the form itself")
        )
    if problems:
        raise DefinitionError(problems)
