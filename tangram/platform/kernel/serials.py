"""Serial numbers: atomic per-scope counters, never duplicated under concurrent writers.

One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement draws the next number of a scope
(PostgreSQL row-locks the counter until the drawing transaction ends; SQLite serialises writers).
A number drawn in a transaction that rolls back is given again to the next writer, so numbers
have no gaps caused by failed writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from tangram.engines.forms import Form
from tangram.platform.kernel.models import SerialCounter
from tangram.platform.kernel.uow import UnitOfWork


def _upsert(insert: Any) -> Any:
    statement = insert(SerialCounter).values(
        scope=bindparam("scope"), value=1, updated_at=bindparam("now")
    )
    return statement.on_conflict_do_update(
        index_elements=[SerialCounter.scope],
        set_={"value": SerialCounter.value + 1, "updated_at": bindparam("now")},
    ).returning(SerialCounter.value)


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def next_value(uow: UnitOfWork, scope: str) -> int:
    """Draw the next number of ``scope`` (1 for a new scope) inside the caller's transaction."""
    connection = uow.session.connection()  # Core, not the ORM: this runs on every record write
    statement = _UPSERT[connection.dialect.name]
    value = connection.execute(statement, {"scope": scope, "now": uow.now}).scalar_one()
    return int(value)


def draw(uow: UnitOfWork, app_key: str, form: Form, local_now: datetime) -> Mapping[str, str]:
    """Serial numbers for every serial field of ``form``, rendered in the app's local time."""
    out: dict[str, str] = {}
    for field in form.serial_fields:
        pattern = form.serial_pattern(field.key)
        scope = f"{app_key}/{form.key}/{field.key}/{pattern.scope(local_now)}"
        out[field.key] = pattern.format(local_now, next_value(uow, scope))
    return out


def current(uow: UnitOfWork, scope: str) -> int:
    """The last number drawn in ``scope`` (0 when none was)."""
    value = uow.session.scalar(select(SerialCounter.value).where(SerialCounter.scope == scope))
    return int(value or 0)
