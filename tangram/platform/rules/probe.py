"""A calendar's probe: when is something due that starts at a given time with a target in working
minutes — and why (the working stretches the target consumes), from the engine's own calendar, on
the draft or a body sent with the request. Nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tangram.engines.common import DefinitionError
from tangram.engines.meta import validate_definition
from tangram.engines.rules import CalendarClosed, compile_calendar
from tangram.platform import metadata
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork

#: The longest target a probe reckons (a year of round-the-clock minutes).
MAX_MINUTES = 366 * 24 * 60


def probe(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    start: datetime,
    minutes: float,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """When ``minutes`` of working time from ``start`` end on calendar ``key`` (its draft, or
    ``body``), with the working stretches in between, in the calendar's time zone."""
    require_design(actor, app_key)
    view = metadata.get_definition(uow, actor, app_key, "calendar", key)
    draft = dict(body) if body is not None else dict(view.definition.draft)
    if draft.get("key") != key:
        raise ValidationFailed.at("body/key", f"must be the calendar's key {key!r}")
    if not 0 < minutes <= MAX_MINUTES:
        raise ValidationFailed.at("minutes", f"between 0 and {MAX_MINUTES} (exclusive of 0)")
    try:
        problems = validate_definition("calendar", draft)
        if problems:
            raise DefinitionError(problems)
        calendar = compile_calendar(draft)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The calendar has {len(exc.diagnostics)} problem(s): fix them to probe it.",
            exc.diagnostics,
            code="definition.invalid",
        ) from None
    at = start if start.tzinfo is not None else start.replace(tzinfo=calendar.zone)
    try:
        segments = calendar.explain(at, minutes * 60)
    except CalendarClosed as exc:
        raise ValidationFailed(
            f"The calendar has no working time to count {minutes:g} minutes in: {exc}",
            code="calendar.closed",
            errors=[{"path": "minutes", "message": str(exc)}],
        ) from None
    due = calendar.add(at, minutes * 60)
    zone = calendar.zone
    return {
        "start": at.astimezone(zone).isoformat(),
        "minutes": minutes,
        "due": due.astimezone(zone).isoformat(),
        "time_zone": str(zone),
        "segments": [
            {
                "start": s.start.astimezone(zone).isoformat(),
                "end": s.end.astimezone(zone).isoformat(),
                "minutes": round(s.seconds / 60, 2),
            }
            for s in segments
        ],
    }
