"""Drill-down: from a point of a report (its dimension values) to the records behind it, as a
record list with the report's conditions and the viewer's scope.

A drill-down reads what the report reads: the viewer needs the read grant on every form the report
touches (403 ``permission.record`` before any point is looked at), and a point on a referenced
form's field matches only referenced records in the viewer's scope, so a guessed value answers
nothing about records they may not read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import ColumnElement, Table

from tangram.engines.common import DefinitionError
from tangram.engines.reports import (
    OTHERS,
)
from tangram.platform import records
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records.listing import Filter
from tangram.platform.reports.datasets import Extra, Prepared, _where, load
from tangram.platform.reports.sources import Reach


def point_of(values: Mapping[str, str]) -> dict[str, str]:
    """The data point named by ``at.<dimension>`` parameters."""
    return {k[3:]: v for k, v in values.items() if k.startswith("at.")}


def drill_condition(
    uow: UnitOfWork,
    actor: Actor,
    prepared: Prepared,
    seen: Reach,
    *,
    point: Mapping[str, str],
    filters: Sequence[Filter] = (),
    extra: Extra | None = None,
) -> Callable[[Table], ColumnElement[bool]]:
    """The condition on the form's main table selecting the records behind ``point``."""
    if OTHERS in point.values():
        raise ValidationFailed(
            "'others' folds several values together: drill into one of them.",
            code="report.point",
            errors=[
                {
                    "path": next(f"at.{k}" for k, v in point.items() if v == OTHERS),
                    "message": "drill into one value",
                }
            ],
        )
    try:
        at = prepared.dataset.point(point)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            "The data point does not fit the report.", exc.diagnostics, code="report.point"
        ) from None
    where = _where(uow, actor, prepared, seen, filters, extra)
    ids = prepared.dataset.records(where=[*where, *at], joined=seen.joined(uow, actor))
    return lambda main: main.c._id.in_(ids)


def drill(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    point: Mapping[str, str],
    filters: Sequence[Filter] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> records.Page:
    """The records behind one data point of a report (its dimension values), a page at a time."""
    prepared, seen = load(uow, actor, app_key, key)
    condition = drill_condition(uow, actor, prepared, seen, point=point, filters=filters)
    return records.list_records(
        uow,
        actor,
        app_key,
        prepared.dataset.form,
        cursor=cursor,
        limit=limit,
        count=True,
        within=condition,
    )
