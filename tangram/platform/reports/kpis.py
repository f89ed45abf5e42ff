"""KPI cards: a published KPI's value over a period beside the period before, its direction and
target, answered from rollups where they can; and the KPIs rules read inside their write.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import FieldType
from tangram.engines.logic import LogicEvaluationError
from tangram.engines.reports import (
    Period,
    Source,
    check_kpi,
    kpi_dataset,
    kpi_measure,
    period_field,
    resolve_period,
)
from tangram.platform import metadata, records
from tangram.platform.identity.perms import Action, Actor
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.reports import datasets as reports
from tangram.platform.reports import rollups
from tangram.platform.reports.sources import (
    app_id_of,
    reach,
    require_app,
    sources_of,
    tables_of,
)

#: Reports, KPIs and dashboards are checked in UTC at publication (periods resolve there).
_CHECK_ZONE = "UTC"


DEFAULT_CARD_PERIOD = "this_month"


def _invalid(what: str, problems: Sequence[Diagnostic]) -> ValidationFailed:
    return ValidationFailed.from_diagnostics(
        f"The {what} cannot be published: {len(problems)} problem(s).",
        problems,
        code="definition.invalid",
    )


def check_kpi_definition(
    uow: UnitOfWork, app_key: str, _what: str, _key: str, body: Mapping[str, Any]
) -> None:
    """Refuse a KPI that does not fit its form (every problem with its path)."""
    try:
        sources = sources_of(uow, app_key, str(body.get("form")))
        check_kpi(body, sources, time_zone=_CHECK_ZONE)
    except DefinitionError as exc:
        raise _invalid("KPI", exc.diagnostics) from None


def card_period(uow: UnitOfWork, spec: str | None = None, *, path: str = "period") -> Period:
    """The period a KPI card shows: ``spec`` (a preset or FIRST..LAST), this month by default;
    a bad spec is refused at ``path``."""
    try:
        return resolve_period(spec or DEFAULT_CARD_PERIOD, now=uow.now, zone=uow.zone, path=path)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            "The period is not valid.", exc.diagnostics, code="query.invalid"
        ) from None


def _kpi(uow: UnitOfWork, app_key: str, key: str) -> tuple[int, dict[str, Any]]:
    row_id, version, digest = metadata.published_ref(uow, app_key, "kpi", key)
    return version, metadata.version_body(uow, row_id, digest)


def _rounded(value: Any, decimals: int) -> Any:
    return round(float(value), decimals) if isinstance(value, int | float) else value


def kpi_card(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    period: Period,
    extra: reports.Extra | None = None,
    extra_key: tuple[Any, ...] = (),
    sliced: reports.Sliced | None = None,
    draft: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A KPI over ``period`` beside the period before, for ``actor``'s records (from the KPI's
    rollup when one can answer: see :mod:`tangram.platform.reports.rollups`). The actor needs the
    read grant on the KPI's form and every form its filter joins (403 ``permission.record``).
    A ``draft`` body (checked by the caller) is measured instead of the published version: by
    its query, never from a rollup or the cache, as version 0."""
    require_app(uow, actor, app_key)
    version, body = _kpi(uow, app_key, key) if draft is None else (0, dict(draft))
    form_key = str(body.get("form"))
    records.require_scope(actor, Action.READ, app_key, form_key)  # before anything compiles
    periods = {"value": period, "previous": period.previous}
    try:
        sources = sources_of(uow, app_key, form_key)
        dataset = reports.compiled_dataset(
            uow,
            kpi_dataset(body, periods),
            sources,
            uow.settings.time_zone,
        )
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"KPI {key!r} no longer fits its form; publish it again.",
            exc.diagnostics,
            code="report.stale",
        ) from None
    seen = reach(actor, app_key, dataset.forms, dataset.reads)
    t = tables_of(sources, form_key)
    rollable = draft is None and seen.whole and (extra is None or sliced is not None)
    part = sliced(t, False) if sliced is not None else rollups.Slice()

    def compute() -> tuple[Any, Any, float, bool]:
        started = time.perf_counter()
        rolled = (
            _kpi_rollup(uow, app_key, key, version, body, sources, part, period)
            if rollable
            else None
        )
        if rolled is not None:
            value, before = rolled
        else:
            reports.query_now(uow)
            where = [  # built only for the query: a rollup or the cache answers most requests
                *records.visible(uow, actor, t.main, seen.scope),
                *(extra(t, False) if extra is not None else []),
            ]
            statement = dataset.query(where=where, joined=seen.joined(uow, actor))
            value, before = uow.session.execute(statement).one()
        ((value, before),) = dataset.settle(list(periods), [[value, before]])
        return value, before, (time.perf_counter() - started) * 1000, rolled is not None

    cache_key = (
        "kpi",
        app_key,
        key,
        version,
        period.as_dict()["from"],
        period.as_dict()["to"],
        extra_key,
        seen.key(actor),
        uow.settings.time_zone,
    )
    if draft is None:
        (value, before, elapsed, rolled), hit = reports.cached(uow, cache_key, compute)
    else:
        (value, before, elapsed, rolled), hit = compute(), False
    decimals = int(body.get("decimals", 1))
    direction = body.get("direction", "higher")
    change = change_pct = better = None
    if value is not None and before is not None:
        change = _rounded(value - before, decimals)
        change_pct = round((value - before) * 100 / before, 1) if before else None
        if value != before:
            better = (value > before) == (direction == "higher")
    return {
        "key": key,
        "version": version,
        "label": body.get("label"),
        "unit": body.get("unit"),
        "direction": direction,
        "decimals": decimals,
        "target": body.get("target"),
        "value": _rounded(value, decimals),
        "previous": _rounded(before, decimals),
        "change": change,
        "change_pct": change_pct,
        "better": better,
        "period": period.as_dict(),
        "previous_period": period.previous.as_dict(),
        "elapsed_ms": round(elapsed, 2),
        "cached": hit,
        "rollup": rolled,
    }


def preview(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    period: Period,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A KPI's draft (or ``body``) as its card would show it over ``period`` against the period
    before, for ``actor`` (designers only; a draft that does not fit its form is a 422 with every
    problem's path)."""
    draft = reports.draft_body(uow, actor, app_key, "kpi", key, body)
    try:
        sources = sources_of(uow, app_key, str(draft.get("form")))
        check_kpi(draft, sources, time_zone=uow.settings.time_zone)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The KPI has {len(exc.diagnostics)} problem(s): fix them to preview it.",
            exc.diagnostics,
            code="definition.invalid",
        ) from None
    return kpi_card(uow, actor, app_key, key, period=period, draft=draft)


def _kpi_rollup(
    uow: UnitOfWork,
    app_key: str,
    key: str,
    version: int,
    body: Mapping[str, Any],
    sources: Mapping[str, Source],
    part: rollups.Slice,
    period: Period,
) -> tuple[Any, Any] | None:
    """The KPI over ``period`` and the period before, from its rollup by its period field."""
    definition = {
        "form": body.get("form"),
        "filter": body.get("filter"),
        "measures": [kpi_measure({**body, "filter": None}, "value")],
    }
    ask = rollups.Ask(
        app_key=app_key,
        app_id=app_id_of(uow, app_key),
        owner=f"kpi:{key}",
        version=str(version),
        definition=definition,
        sources=sources,
        day_field=period_field(body),
        keys=part.keys,
        time_zone=uow.settings.time_zone,
    )
    previous = period.previous
    found = rollups.serve(
        uow,
        ask,
        [(period.first, period.last), (previous.first, previous.last)],
        dict(part.selects),
    )
    return None if found is None else (found[0][0][0], found[1][0][0])


def scoped_card(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    via: str,
    record_id: int,
    *,
    period: Period,
) -> dict[str, Any]:
    """A KPI's card over only its records whose reference field ``via`` names ``record_id`` (the
    tickets whose customer is this customer): a KPI in the scope of one record. ``via`` must be
    a reference field of the KPI's form (422 ``query.invalid`` otherwise)."""
    require_app(uow, actor, app_key)
    _, body = _kpi(uow, app_key, key)
    _, form = compiled.form(uow, app_key, str(body.get("form")))
    field = form.by_key.get(via)
    if field is None or field.type != FieldType.REFERENCE:
        raise ValidationFailed.from_diagnostics(
            f"{via!r} is not a reference field of KPI {key!r}'s form.",
            [Diagnostic("via", "query.invalid", "a reference field of the KPI's form")],
            code="query.invalid",
        )

    def extra(t: Any, _dated: bool) -> list[Any]:
        return [t.main.c[via] == record_id]

    return kpi_card(
        uow,
        actor,
        app_key,
        key,
        period=period,
        extra=extra,
        extra_key=("scope", via, record_id),
    )


#: The period of a record's KPI card when its form names none.
RECORD_PERIOD = "last_365_days"


def record_cards(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> list[dict[str, Any]]:
    """The KPI cards a form declares for its records (``options.record_kpis``), each measured in
    the scope of record ``record_id`` over its period (a customer's CSAT over its callbacks):
    404 when the actor may not read the record; a KPI that is not published, or whose form the
    actor may not read, is left out."""
    records.get_record(uow, actor, app_key, form_key, record_id)
    body = metadata.published_body(uow, app_key, "form", form_key)[2]
    cards = []
    for wanted in (body.get("options") or {}).get("record_kpis") or []:
        try:
            span = card_period(uow, str(wanted.get("period") or RECORD_PERIOD))
            card = scoped_card(
                uow, actor, app_key, str(wanted["kpi"]), str(wanted["via"]), record_id, period=span
            )
        except (NotFound, PermissionDenied):
            continue
        cards.append({**card, "via": str(wanted["via"])})
    return cards


class RuleKpis:
    """KPI values for expressions (``{"kpi": ["mttr", "last_month"]}``): measured over every live
    record of the KPI's form, as rules act for the system; each (KPI, period) once per unit of
    work."""

    def __init__(self, uow: UnitOfWork, app_key: str) -> None:
        self.uow = uow
        self.app_key = app_key

    def kpi(
        self, key: str, period: str, *, via: str | None = None, record: int | None = None
    ) -> float | None:
        """The KPI's value over ``period`` as its card shows it (rounded to its decimals); with
        ``via`` and ``record``, over the KPI's records whose reference field ``via`` names
        ``record`` only (see :func:`scoped_card`)."""
        memo = self.uow.memo.rule_kpis
        wanted = (self.app_key, key, period, via, record)
        if wanted not in memo:
            try:
                span = resolve_period(period, now=self.uow.now, zone=self.uow.zone, path="kpi")
                actor = Actor.system("rules")
                card = (
                    kpi_card(self.uow, actor, self.app_key, key, period=span)
                    if via is None or record is None
                    else scoped_card(self.uow, actor, self.app_key, key, via, record, period=span)
                )
            except DefinitionError as exc:
                raise LogicEvaluationError("kpi", exc.diagnostics[0].message) from None
            except NotFound:
                raise LogicEvaluationError("kpi", f"there is no published KPI {key!r}") from None
            memo[wanted] = card["value"]
        return memo[wanted]
