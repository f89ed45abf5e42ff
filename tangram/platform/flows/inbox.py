"""Reading flows: the inbox (to do, done, copied to me, started by me), a task's view with the
record as its node shows it, and the flows of a record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from tangram.engines.flows import (
    ProcessDefinition,
)
from tangram.engines.forms import Permission, position_of
from tangram.engines.forms.fields import text
from tangram.platform import records
from tangram.platform.flows.context import instance_of, permissions_at
from tangram.platform.flows.definitions import process
from tangram.platform.flows.writes import own_row
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tangram.platform.kernel.models import (
    App,
    CarbonCopyEntry,
    FlowInstance,
    Record,
    Task,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled

BOXES = ("todo", "done", "cc", "started", "incidents")


def inbox(
    uow: UnitOfWork,
    actor: Actor,
    box: str,
    *,
    after: int = 0,
    limit: int = 50,
    app_key: str | None = None,
    flow_key: str | None = None,
) -> tuple[list[Any], dict[str, int]]:
    """One page of a box (todo, done, cc, started; for administrators also ``incidents``: open
    tasks nobody holds because nobody the flow names may act on them) and the counts of every
    box, optionally only of one app and one flow."""
    if box not in BOXES:
        raise ValidationFailed(
            f"Unknown box {box!r}: use {', '.join(BOXES)}.",
            errors=[{"path": "box", "message": "unknown"}],
        )
    if box == "incidents" and not actor.is_admin:
        raise PermissionDenied(
            "Only administrators see the tasks nobody holds.", code="permission.admin_required"
        )
    user = actor.user_id
    queries: dict[str, Any] = {
        "todo": select(Task).where(Task.assignee_id == user, Task.status == "open"),
        "done": select(Task).where(Task.actor_id == user, Task.status == "done"),
        "cc": select(CarbonCopyEntry).where(CarbonCopyEntry.user_id == user),
        "started": select(FlowInstance).where(FlowInstance.initiator_id == user),
    }
    if actor.is_admin:
        queries["incidents"] = select(Task).where(Task.assignee_id.is_(None), Task.status == "open")
    instances = select(FlowInstance.id).join(App, App.id == FlowInstance.app_id)
    if app_key is not None:
        instances = instances.where(App.key == app_key)
    if flow_key is not None:
        instances = instances.where(FlowInstance.flow_key == flow_key)
    if app_key is not None or flow_key is not None:
        scoped = {
            "todo": Task.instance_id,
            "done": Task.instance_id,
            "incidents": Task.instance_id,
            "cc": CarbonCopyEntry.instance_id,
            "started": FlowInstance.id,
        }
        queries = {name: q.where(scoped[name].in_(instances)) for name, q in queries.items()}
    counts = {
        name: int(uow.session.scalar(select(func.count()).select_from(q.subquery())) or 0)
        for name, q in queries.items()
    }
    model: Any = {"cc": CarbonCopyEntry, "started": FlowInstance}.get(box, Task)
    query = queries[box]
    if after:
        query = query.where(model.id < after)  # newest first: the next page has smaller ids
    items = list(uow.session.scalars(query.order_by(model.id.desc()).limit(limit)))
    return items, counts


def inbox_context(uow: UnitOfWork, items: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    """What a person reads in a box for each item, in ``lang``: the node's label (the flow's for a
    started instance), the flow's and the form's labels, the record's title and where the record
    is (app, form, id: CC entries carry none of their own). Two queries for the page (instances,
    records) whatever its length; labels come from the compiled definitions."""
    ids = {i.id if isinstance(i, FlowInstance) else i.instance_id for i in items}
    if not ids:
        return []
    found = uow.session.execute(
        select(FlowInstance, App.key)
        .join(App, App.id == FlowInstance.app_id)
        .where(FlowInstance.id.in_(ids))
    ).all()
    instances = {row[0].id: (row[0], str(row[1])) for row in found}
    data: dict[int, dict[str, Any]] = {
        row.id: row.data
        for row in uow.session.execute(
            select(Record.id, Record.data).where(
                Record.id.in_({i.record_id for i, _ in instances.values()})
            )
        )
    }
    out = []
    for item in items:
        instance, app_key = instances[
            item.id if isinstance(item, FlowInstance) else item.instance_id
        ]
        _, proc = process(uow, app_key, instance.flow_key, instance.version)
        flow_label = text(proc.definition.label, lang) or instance.flow_key
        try:
            _, form = compiled.form(uow, app_key, instance.form_key)
        except NotFound:  # a form no longer published: its key and no title
            form_label, title = instance.form_key, None
        else:
            form_label = text(form.label, lang) or instance.form_key
            held = (data.get(instance.record_id) or {}).get(form.title_field or "")
            title = held if form.title_field else None
        label = flow_label
        if not isinstance(item, FlowInstance):
            node = proc.definition.nodes.get(item.node)
            label = text(node.label, lang) if node is not None and node.label else item.node
        out.append(
            {
                "label": label,
                "flow_label": flow_label,
                "form_label": form_label,
                "title": "" if title is None else str(title),
                "app_key": app_key,
                "form_key": instance.form_key,
                "record_id": instance.record_id,
            }
        )
    return out


def task_view(
    uow: UnitOfWork, actor: Actor, task_id: int, *, lang: str = "zh-CN"
) -> dict[str, Any]:
    """A task with what its holder may see and do: the record (hidden fields removed) and the
    version a submission is based on, field permissions, allowed actions, the nodes a rejection
    may go back to and the flow's label in ``lang``. A task of one sub-table row names it
    (``row``: table, id and place in the table) and shows it first."""
    task = uow.session.get(Task, task_id)
    if task is None or (
        not actor.is_admin and actor.user_id not in (task.assignee_id, task.actor_id)
    ):
        raise NotFound(f"There is no task {task_id}.", code="task.not_found")
    instance = instance_of(uow, task.instance_id)
    _, proc = process(uow, task.app_key, instance.flow_key, instance.version)
    node = proc.definition.nodes.get(task.node)
    record = uow.session.get(Record, instance.record_id)
    assert record is not None
    _, form = compiled.form(uow, task.app_key, instance.form_key)
    read_only: Permission = "read_only"
    permissions = (
        permissions_at(node, form)
        if node is not None and node.edits_fields
        else dict.fromkeys(form.by_key, read_only)
    )
    if node is not None and node.type == "approval":
        actions = ["approve", "reject", "transfer", "delegate", "add_signer", "comment"]
    else:
        actions = ["submit", "return", "transfer", "delegate", "comment"]
    data = form.restrict(record.data, permissions)
    row = own_row(node, instance.state["tasks"].get(task.key, {})) if node is not None else None
    mine = None
    if row is not None and isinstance(data.get(row[0]), list):
        # the holder's own row first; the others follow as they are
        rows = data[row[0]]
        at = position_of(rows, row[1])
        if at is not None:
            data = {**data, row[0]: [rows[at], *rows[:at], *rows[at + 1 :]]}
            mine = {"table": row[0], "id": row[1], "index": at}
    return {
        "task": task,
        "instance": instance,
        "record": {"id": record.id, "data": data, "lock_version": record.lock_version},
        "row": mine,
        "permissions": permissions,
        "actions": actions if task.status == "open" else ["comment"],
        "reject_to": list(node.reject_to) if node is not None else [],
        "label": dict(node.label) if node is not None else {},
        "nodes": _node_labels(proc.definition),
        "flow_label": _flow_label(uow, task.app_key, instance.flow_key, lang),
        "history": instance.state.get("history", []),
    }


def _flow_label(uow: UnitOfWork, app_key: str, flow_key: str, lang: str) -> str:
    _, proc = process(uow, app_key, flow_key)
    return text(proc.definition.label, lang) or flow_key


def _node_labels(definition: ProcessDefinition) -> dict[str, dict[str, str]]:
    """Each node's label by language, for history and targets people can read."""
    return {key: dict(node.label) for key, node in definition.nodes.items()}


def record_flows(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    *,
    lang: str = "zh-CN",
) -> list[dict[str, Any]]:
    """The flows of a record: where each stands, who holds its open tasks, its history, with the
    flow's label in ``lang`` and every node's labels."""
    records.get_record(uow, actor, app_key, form_key, record_id)
    out = []
    for instance in uow.session.scalars(
        select(FlowInstance).where(FlowInstance.record_id == record_id).order_by(FlowInstance.id)
    ):
        _, proc = process(uow, app_key, instance.flow_key, instance.version)
        holders: list[dict[str, Any]] = [
            {"task": t.id, "node": t.node, "assignee": t.assignee_id}
            for t in uow.session.scalars(
                select(Task)
                .where(Task.instance_id == instance.id, Task.status == "open")
                .order_by(Task.id)
            )
        ]
        out.append(
            {
                "id": instance.id,
                "flow": instance.flow_key,
                "label": _flow_label(uow, app_key, instance.flow_key, lang),
                "version": instance.version,
                "status": instance.status,
                "current": sorted({str(h["node"]) for h in holders})
                or sorted(
                    {t["node"] for t in instance.state.get("tokens", {}).values() if t["node"]}
                ),
                "holders": holders,
                "initiator": instance.initiator_id,
                "nodes": _node_labels(proc.definition),
                "started_at": instance.started_at,
                "ended_at": instance.ended_at,
                "history": instance.state.get("history", []),
            }
        )
    return out
