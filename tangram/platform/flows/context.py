"""The engine's view of the world: the record's data, the clock, the business calendar and who
the assignee rules name (groups, roles, fields, managers up the organisation tree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from sqlalchemy import bindparam, select

from tangram.engines.flows import (
    Context,
    Eligibility,
    Node,
)
from tangram.engines.forms import FieldDef, FieldType, Form, Permission
from tangram.platform.identity.perms import Actor, load_actor, scope_for
from tangram.platform.kernel.errors import NotFound, Unauthenticated
from tangram.platform.kernel.models import (
    App,
    FlowInstance,
    Group,
    Membership,
    Record,
    Task,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.apps import note_tag
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


def _group_manager(uow: UnitOfWork, group: Group | None) -> int | None:
    """The manager of ``group``, else of the nearest group above it that has one."""
    while group is not None and group.manager_id is None:
        group = uow.session.get(Group, group.parent_id) if group.parent_id else None
    return group.manager_id if group is not None else None


def _managers_of(
    uow: UnitOfWork,
    form: Form,
    record: Record,
    rules: Sequence[Mapping[str, Any]],
    initiator: int | None,
) -> list[int]:
    """The managers of the groups the rules name (a group, a group field) and of the people they
    name (users, user fields, the initiator); the manager of the record's group when they name
    none."""
    found: list[int | None] = []
    for rule in rules:
        ((kind, value),) = rule.items()
        if kind == "field" and isinstance(form.by_key.get(str(value)), FieldDef):
            held = record.data.get(str(value))
            if form.by_key[str(value)].type is FieldType.GROUP and held is not None:
                kind, value = "group", held
            elif isinstance(held, int):
                kind, value = "users", [held]
        if kind == "group":
            try:
                found.append(_group_manager(uow, assignment.find_group(uow, value)))
            except assignment.Unresolvable:
                continue
        elif kind == "users":
            found += [manager_of(uow, int(u)) for u in value]
        elif kind in ("initiator", "initiator_manager", "previous_actor"):
            found.append(manager_of(uow, initiator))
    if not any(found) and record.group_id is not None:
        found.append(_group_manager(uow, uow.session.get(Group, record.group_id)))
    return list(dict.fromkeys(u for u in found if u is not None))


def _resolver(uow: UnitOfWork, form: Form, record: Record) -> Any:
    def resolve(
        rule: Mapping[str, Any], data: Mapping[str, Any], initiator: int | None
    ) -> list[int]:
        ((kind, value),) = rule.items()
        if kind == "initiator_manager":
            found = manager_of(uow, initiator, int(value))
            return [found] if found is not None else []
        if kind == "managers_of":
            return _managers_of(uow, form, record, value, initiator)
        try:  # groups, roles and user or group fields: the directory, as rule actions see it
            return assignment.user_ids_of(uow, [rule], form, data)
        except assignment.Unresolvable:
            return []  # nobody: the engine falls back

    return resolve


def _eligibility(uow: UnitOfWork, app_key: str, record: Record) -> Eligibility:
    """Whether a user may act on a task of the record: an active account holding a grant on the
    record's form for what the task needs (``read``, or ``update`` for a task that edits fields).
    The grant's scope does not matter: the task itself opens this one record to its holder."""
    known: dict[tuple[int, str], bool] = {}

    def can_act(user_id: int, need: str) -> bool:
        if (user_id, need) not in known:
            known[user_id, need] = may_act(uow, app_key, record.form_key, user_id, need)
        return known[user_id, need]

    return can_act


def may_act(uow: UnitOfWork, app_key: str, form_key: str, user_id: int, need: str) -> bool:
    """Whether the user's account is active and holds a grant for ``need`` on the form."""
    user = uow.session.get(User, user_id)
    if user is None:
        return False
    try:
        actor = load_actor(uow.session, user, via="system", groups=False)
    except Unauthenticated:  # a deactivated account
        return False
    return scope_for(actor, need, app_key, form_key) is not None


def engine_context(uow: UnitOfWork, app_key: str, record: Record, form: Form) -> Context:
    calendar = calendar_of(rulebook.load(uow, app_key), record.form_key)
    return Context(
        now=uow.now,
        data=dict(record.data),
        resolve=_resolver(uow, form, record),
        business=calendar.add_minutes if calendar is not None else None,
        variables={"$record": {**record.data, "_id": record.id}, "$now": uow.now.isoformat()},
        can_act=_eligibility(uow, app_key, record),
    )


#: The moves an instance's path keeps (the newest; a flow looping for years stays bounded).
MAX_PATH = 2000


def traced(ctx: Context) -> tuple[Context, list[list[str]]]:
    """``ctx`` with an observer that collects the moves the engine's tokens make, ``[from,
    to]`` in order (what an instance's ``path`` keeps)."""
    moves: list[list[str]] = []

    def observe(event: Mapping[str, Any]) -> None:
        if event.get("type") == "enter" and event.get("from") is not None:
            moves.append([str(event["from"]), str(event["node"])])

    return replace(ctx, observe=observe), moves


def extended_path(instance: FlowInstance, moves: Sequence[Sequence[str]]) -> list[list[str]]:
    """The instance's path with the moves of one command added (a new list)."""
    return [*(instance.path or []), *map(list, moves)][-MAX_PATH:]


def permissions_at(node: Node, form: Form) -> dict[str, Permission]:
    """Every field's permission at a task node (fields the node does not name: ``others``);
    computed and read-only fields are never editable."""
    out: dict[str, Permission] = {}
    for key, f in form.by_key.items():
        level = cast(Permission, node.permissions.get(key, node.others))
        out[key] = "read_only" if level == "editable" and (f.computed or f.read_only) else level
    return out


#: A task with its flow instance, its record and its app's metadata tag, in one statement.
_HELD_TASK = (
    select(Task, FlowInstance, Record, App.metadata_tag)
    .join(FlowInstance, FlowInstance.id == Task.instance_id)
    .join(Record, Record.id == FlowInstance.record_id)
    .join(App, App.id == FlowInstance.app_id)
    .where(Task.id == bindparam("task"))
)
#: The same, the instance and the record locked until the commit.
_HELD_TASK_LOCKED = _HELD_TASK.with_for_update(of=(FlowInstance, Record))


def held_task(
    uow: UnitOfWork, actor: Actor, task_id: int, *, lock: bool = False
) -> tuple[Task, FlowInstance, Record]:
    """A task the actor holds (or any, for an administrator: 404 ``task.not_found`` otherwise),
    its instance and its record, read with the app's metadata tag in one statement; with
    ``lock``, the instance and the record stay locked until the commit."""
    statement = _HELD_TASK_LOCKED if lock else _HELD_TASK
    found = uow.session.execute(statement, {"task": task_id}).first()
    if found is None or (
        not actor.is_admin and actor.user_id not in (found.Task.assignee_id, found.Task.actor_id)
    ):
        raise NotFound(f"There is no task {task_id}.", code="task.not_found")
    task, instance, record, tag = found
    note_tag(uow, task.app_key, str(tag))
    return task, instance, record


def instance_of(uow: UnitOfWork, instance_id: int) -> FlowInstance:
    instance = uow.session.get(FlowInstance, instance_id)
    if instance is None:
        raise NotFound(f"There is no flow instance {instance_id}.", code="flow.not_found")
    return instance


def app_key_of(uow: UnitOfWork, app_id: int) -> str:
    return str(uow.session.scalar(select(App.key).where(App.id == app_id)))
