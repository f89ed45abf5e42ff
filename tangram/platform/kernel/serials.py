"""Serial numbers: atomic per-scope counters, never duplicated under concurrent writers.

One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement draws the next number of a scope.
Where it runs decides between gaps and waiting (see ADR 0010):

- By default, on PostgreSQL, it commits on its own at once (the unit of work's side engine): the
  counter's row is locked for that one statement, so registrations of a form do not wait for
  one another; a number drawn by a write that then fails is not given again (a gap).
- A ``gapless`` field, and every field on SQLite (one writer at a time: nothing to gain) or in a
  rehearsal (its work is undone), draws in the record's own transaction: PostgreSQL row-locks
  the counter until that transaction ends, and a number drawn by a write that rolls back is
  given again to the next writer, so numbers have no gaps caused by failed writes.
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


def next_value(uow: UnitOfWork, scope: str, *, gapless: bool = True) -> int:
    """Draw the next number of ``scope`` (1 for a new scope): inside the caller's transaction,
    or, for a number that may have gaps, committed at once where the unit has a side engine."""
    parameters = {"scope": scope, "now": uow.now}
    if gapless:
        connection = uow.session.connection()  # Core, not the ORM: this runs on every write
        return int(connection.execute(_UPSERT[connection.dialect.name], parameters).scalar_one())
    return int(uow.apart(_UPSERT[uow.dialect], parameters))


def draw(uow: UnitOfWork, app_key: str, form: Form, local_now: datetime) -> Mapping[str, str]:
    """Serial numbers for every serial field of ``form``, rendered in the app's local time."""
    out: dict[str, str] = {}
    for field in form.serial_fields:
        pattern = form.serial_pattern(field.key)
        scope = f"{app_key}/{form.key}/{field.key}/{pattern.scope(local_now)}"
        value = next_value(uow, scope, gapless=field.gapless)
        out[field.key] = pattern.format(local_now, value)
    return out


def current(uow: UnitOfWork, scope: str) -> int:
    """The last number drawn in ``scope`` (0 when none was)."""
    value = uow.session.scalar(select(SerialCounter.value).where(SerialCounter.scope == scope))
    return int(value or 0)
