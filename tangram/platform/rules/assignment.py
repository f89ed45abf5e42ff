"""People for rule actions: recipients resolved from the directory, and assignment strategies.

A recipient is ``{"user": id}``, ``{"group": key}``, ``{"role": key}``, ``{"field": key}`` (the
user or group a record field holds) or ``{"manager_of": key}`` (the manager of a group named by
key, or held by a field). Strategies choose one user among the candidates:

- ``fixed``: the first candidate (by user id);
- ``round_robin``: the candidate after the one this rule assigned last from the same pool;
- ``least_open``: the candidate holding the fewest live records of the form in the target field
  (records whose status is in the action's ``closed`` list do not count); ties go round-robin;
- ``skill``: candidates carrying the skill tag, then least open work among them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, select, text

from tangram.engines.forms import FieldDef, FieldType, Form
from tangram.platform.kernel.models import (
    App,
    Group,
    Membership,
    Record,
    Role,
    RoleAssignment,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records.projections import Tables


class Unresolvable(ValueError):
    """A recipient names nobody (an unknown group, an empty field): the action fails, traced."""


#: Statements of dispatch, which runs on many record writes, built once.
_GROUP_BY_KEY = select(Group).where(Group.key == bindparam("key"))
_ROLE_BY_KEY = select(Role).where(Role.key == bindparam("key"))
_MEMBERS = select(Membership.user_id).where(Membership.group_id == bindparam("group"))
_HOLDERS = select(RoleAssignment.user_id).where(RoleAssignment.role_id == bindparam("role"))
_ACTIVE_USERS = (
    select(User)
    .where(User.id.in_(bindparam("ids", expanding=True)), User.is_active.is_(True))
    .order_by(User.id)
)


def find_group(uow: UnitOfWork, value: Any) -> Group:
    if isinstance(value, int) and not isinstance(value, bool):
        group = uow.session.get(Group, value)
    else:
        group = uow.session.scalar(_GROUP_BY_KEY, {"key": str(value)})
    if group is None:
        raise Unresolvable(f"there is no group {value!r}")
    return group


def _field_value(
    uow: UnitOfWork, form: Form, data: Mapping[str, Any], path: str
) -> tuple[FieldDef | None, Any]:
    """A field and its value: ``key`` on the record, or ``reference.key`` on the record a
    reference field points at."""
    head, _, rest = path.partition(".")
    if not rest:
        return form.by_key.get(path), data.get(path)
    reference = form.by_key.get(head)
    target_id = data.get(head)
    if reference is None or reference.reference_form is None or target_id is None:
        return None, None
    target = uow.session.get(Record, int(target_id))
    if target is None or target.deleted_at is not None:
        return None, None
    app_key = uow.session.scalar(select(App.key).where(App.id == target.app_id))
    _, target_form = compiled.form(uow, str(app_key), target.form_key)
    return target_form.by_key.get(rest), target.data.get(rest)


def users_of(
    uow: UnitOfWork, recipients: Sequence[Mapping[str, Any]], form: Form, data: Mapping[str, Any]
) -> list[User]:
    """Active users the recipients name, by id, without duplicates."""
    ids = named_ids(uow, recipients, form, data)
    if not ids:
        return []
    return list(uow.session.scalars(_ACTIVE_USERS, {"ids": sorted(ids)}))


_ACTIVE = select(User.id).where(User.id.in_(bindparam("ids", expanding=True)), User.is_active)


def user_ids_of(
    uow: UnitOfWork, recipients: Sequence[Mapping[str, Any]], form: Form, data: Mapping[str, Any]
) -> list[int]:
    """Like :func:`users_of`, ids only, read without loading users (nor flushing the session)."""
    ids = named_ids(uow, recipients, form, data)
    if not ids:
        return []
    found = uow.session.connection().execute(_ACTIVE, {"ids": sorted(ids)}).scalars()
    return sorted(int(i) for i in found)


def named_ids(
    uow: UnitOfWork, recipients: Sequence[Mapping[str, Any]], form: Form, data: Mapping[str, Any]
) -> set[int]:
    """Ids of the users the recipients name (active or not)."""
    ids: set[int] = set()
    for item in recipients:
        ((kind, value),) = item.items()
        if kind == "field":
            field, held = _field_value(uow, form, data, str(value))
            if held is None:
                raise Unresolvable(f"field {value!r} is empty")
            if field is not None and field.type is FieldType.GROUP:
                kind, value = "group", held
            else:
                kind, value = "user", held
        if kind == "user":
            ids.add(int(value))
        elif kind == "group":
            group = find_group(uow, value)
            ids.update(uow.read(_MEMBERS, {"group": group.id}).scalars())
        elif kind == "role":
            role = uow.session.scalar(_ROLE_BY_KEY, {"key": str(value)})
            if role is None:
                raise Unresolvable(f"there is no role {value!r}")
            ids.update(uow.read(_HOLDERS, {"role": role.id}).scalars())
        elif kind == "manager_of":
            field = form.by_key.get(str(value))
            group = find_group(uow, data.get(str(value)) if field is not None else value)
            if group.manager_id is None:
                raise Unresolvable(f"group {group.key!r} has no manager")
            ids.add(group.manager_id)
    return ids


def group_of(
    uow: UnitOfWork, recipients: Sequence[Mapping[str, Any]], data: Mapping[str, Any]
) -> Group:
    """The group a group field is assigned: the first group (or group field) recipient."""
    for item in recipients:
        ((kind, value),) = item.items()
        if kind == "group":
            return find_group(uow, value)
        if kind == "field" and data.get(str(value)) is not None:
            return find_group(uow, data[str(value)])
    raise Unresolvable("no group among the recipients")


def _open_work(
    uow: UnitOfWork,
    t: Tables,
    field: str,
    users: Sequence[User],
    *,
    status_field: str | None,
    closed: Sequence[str],
) -> dict[int, int]:
    query = _open_work_query(t.main, field, status_field, tuple(closed))
    found = uow.read(query, {"users": [u.id for u in users]})
    return {int(user): int(count) for user, count in found}


@functools.lru_cache(maxsize=256)
def _open_work_query(
    main: Table, field: str, status_field: str | None, closed: tuple[str, ...]
) -> Select[Any]:
    """The count of open records by person, built once per table and fields (every dispatch
    counts the candidates' open work)."""
    query = (
        select(main.c[field], func.count())
        .where(main.c[field].in_(bindparam("users", expanding=True)), main.c._deleted_at.is_(None))
        .group_by(main.c[field])
    )
    if status_field and closed and status_field in main.c:
        column = main.c[status_field]
        query = query.where(column.is_(None) | column.not_in(list(closed)))
    return query


def choose(
    uow: UnitOfWork,
    *,
    pool_key: str,
    strategy: str,
    candidates: Sequence[User],
    t: Tables,
    field: str,
    skill: Any = None,
    status_field: str | None = "status",
    closed: Sequence[str] = (),
) -> tuple[User, str]:
    """One user by ``strategy`` and why (for the timeline)."""
    users = list(candidates)
    why = strategy.replace("_", "-")
    if strategy == "skill":
        users = [u for u in users if skill in (u.skills or [])]
        if not users:
            raise Unresolvable(f"nobody among the candidates has skill {skill!r}")
        why = f"skill {skill}"
    if not users:
        raise Unresolvable("there is nobody to assign (no active candidate)")
    if strategy == "fixed":
        return users[0], "fixed"
    if strategy in ("least_open", "skill"):
        counts = _open_work(uow, t, field, users, status_field=status_field, closed=closed)
        fewest = min(counts.get(u.id, 0) for u in users)
        users = [u for u in users if counts.get(u.id, 0) == fewest]
        why += f", {fewest} open"
    return _next_turn(uow, pool_key, users), why


#: The round-robin's next turn in one statement: the smallest candidate id after the cursor's,
#: else the first candidate (a new pool, or the last candidate had the previous turn).
_NEXT_TURN_SQL = """
INSERT INTO assignment_cursors (key, last_user_id, updated_at) VALUES (:key, :first, :now)
ON CONFLICT (key) DO UPDATE SET
    last_user_id = COALESCE(({after}), :first),
    updated_at = :now
RETURNING last_user_id
"""
_NEXT_TURN = {
    "postgresql": text(
        _NEXT_TURN_SQL.format(
            after="SELECT min(u) FROM unnest(CAST(:ids AS integer[])) AS u "
            "WHERE u > assignment_cursors.last_user_id"
        )
    ),
    "sqlite": text(
        _NEXT_TURN_SQL.format(
            after="SELECT min(value) FROM json_each(:ids) "
            "WHERE value > assignment_cursors.last_user_id"
        )
    ),
}


def _next_turn(uow: UnitOfWork, pool_key: str, users: Sequence[User]) -> User:
    """The round-robin's next user (by id, after the one chosen last), the turn taken by one
    statement apart from the unit (:meth:`UnitOfWork.apart`): the pool's cursor row is locked
    for that statement alone, so concurrent assignments take turns without waiting for one
    another's whole write, none takes the same turn twice, and two first turns of a new pool do
    not collide. A write that fails afterwards has still used its turn."""
    by_id = {u.id: u for u in users}
    ids = sorted(by_id)
    dialect = uow.dialect
    chosen = uow.apart(
        _NEXT_TURN[dialect],
        {
            "key": pool_key,
            "first": ids[0],
            "now": uow.now,
            "ids": ids if dialect == "postgresql" else json.dumps(ids),
        },
    )
    return by_id[int(chosen)]
