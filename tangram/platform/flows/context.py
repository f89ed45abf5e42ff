"""The engine's view of the world: the record's data, the clock, the business calendar and who
the assignee rules name (groups, roles, fields, managers up the organisation tree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import select

from tangram.engines.flows import (
    Context,
    Node,
)
from tangram.engines.forms import Form, Permission
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.models import (
    App,
    FlowInstance,
    Group,
    Membership,
    Record,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.rules import assignment, rulebook
from tangram.platform.rules.evaluation import calendar_of


def _groups_of(uow: UnitOfWork, user_id: int) -> list[Group]:
    return list(
        uow.session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.id)
        )
    )


def manager_of(uow: UnitOfWork, user_id: int | None, levels: int = 1) -> int | None:
    """The manager ``levels`` up from ``user_id``: the manager of their first group (skipping
    themselves), then of its parent groups."""
    if user_id is None:
        return None
    groups = _groups_of(uow, user_id)
    group = groups[0] if groups else None
    current = user_id
    for _ in range(levels):
        while group is not None and group.manager_id in (None, current):
            group = uow.session.get(Group, group.parent_id) if group.parent_id else None
        if group is None:
            return None
        current = int(group.manager_id or 0)
        group = uow.session.get(Group, group.parent_id) if group.parent_id else None
    return current


def _resolver(uow: UnitOfWork, form: Form) -> Any:
    def resolve(
        rule: Mapping[str, Any], data: Mapping[str, Any], initiator: int | None
    ) -> list[int]:
        ((kind, value),) = rule.items()
        if kind == "initiator_manager":
            found = manager_of(uow, initiator, int(value))
            return [found] if found is not None else []
        try:  # groups, roles and user or group fields: the directory, as rule actions see it
            return assignment.user_ids_of(uow, [rule], form, data)
        except assignment.Unresolvable:
            return []  # nobody: the engine falls back

    return resolve


def engine_context(uow: UnitOfWork, app_key: str, record: Record, form: Form) -> Context:
    calendar = calendar_of(rulebook.load(uow, app_key), record.form_key)
    return Context(
        now=uow.now,
        data=dict(record.data),
        resolve=_resolver(uow, form),
        business=calendar.add_minutes if calendar is not None else None,
        variables={"$record": {**record.data, "_id": record.id}, "$now": uow.now.isoformat()},
    )


def permissions_at(node: Node, form: Form) -> dict[str, Permission]:
    """Every field's permission at a task node (fields the node does not name: ``others``);
    computed and read-only fields are never editable."""
    out: dict[str, Permission] = {}
    for key, f in form.by_key.items():
        level = cast(Permission, node.permissions.get(key, node.others))
        out[key] = "read_only" if level == "editable" and (f.computed or f.read_only) else level
    return out


def instance_of(uow: UnitOfWork, instance_id: int) -> FlowInstance:
    instance = uow.session.get(FlowInstance, instance_id)
    if instance is None:
        raise NotFound(f"There is no flow instance {instance_id}.", code="flow.not_found")
    return instance


def app_key_of(uow: UnitOfWork, app_id: int) -> str:
    return str(uow.session.scalar(select(App.key).where(App.id == app_id)))
