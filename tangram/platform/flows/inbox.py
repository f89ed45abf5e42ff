"""Reading flows: the inbox (to do, done, copied to me, started by me), a task's view with the
record as its node shows it, and the flows of a record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, false, func, or_, select

from tangram.engines.flows import (
    ProcessDefinition,
)
from tangram.engines.forms import Form, Permission, position_of
from tangram.engines.forms.fields import text
from tangram.platform import records
from tangram.platform.flows.context import held_task, permissions_at
from tangram.platform.flows.definitions import process
from tangram.platform.flows.writes import own_row
from tangram.platform.identity.perms import Actor, hidden_fields
from tangram.platform.kernel.clock import ensure_utc
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
    SlaStatus,
    Task,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.rules import rulebook

BOXES = ("todo", "done", "cc", "started", "incidents")


#: SLA states in which a target still counts down (or is late).
_COUNTING = ("running", "warned", "breached")
#: Boxes of open tasks: what is due comes first.
_DUE_FIRST = ("todo", "incidents")


def _sla_due(record_id: Any) -> Any:
    """The earliest due time of the record's SLA targets still counting (a correlated scalar)."""
    return (
        select(func.min(SlaStatus.due_at))
        .where(SlaStatus.record_id == record_id, SlaStatus.state.in_(_COUNTING))
        .scalar_subquery()
    )


def _titled(uow: UnitOfWork, pairs: Sequence[Any], q: str) -> Any:
    """Ids of the records, among the forms ``pairs`` (app key, form key) name, whose number is
    ``q`` (``#12`` or ``12``) or whose title field contains it."""
    words = q.strip().lstrip("#")
    number = words.isascii() and words.isdigit() and len(words) < 19
    conditions: list[Any] = [Record.id == int(words)] if number else []
    for app_key, form_key in pairs:
        try:
            _, form = compiled.form(uow, app_key, form_key)
        except NotFound:
            continue
        if form.title_field:
            conditions.append(
                and_(
                    Record.form_key == form_key,
                    Record.data[form.title_field].as_string().icontains(q.strip(), autoescape=True),
                )
            )
    return select(Record.id).where(or_(*conditions) if conditions else false())


def inbox(
    uow: UnitOfWork,
    actor: Actor,
    box: str,
    *,
    offset: int = 0,
    limit: int = 50,
    app_key: str | None = None,
    flow_key: str | None = None,
    form_key: str | None = None,
    q: str | None = None,
) -> tuple[list[Any], dict[str, int]]:
    """One page of a box (todo, done, cc, started; for administrators also ``incidents``: open
    tasks nobody holds because nobody the flow names may act on them) and the counts of every
    box, optionally only of one app, one flow, one form, and the records whose number or title
    matches ``q``. Open tasks come by due time — the task's own time limit or its record's
    nearest SLA target, whichever is sooner; overdue first, then the newest without one — the
    other boxes newest first."""
    if box not in BOXES:
        raise ValidationFailed(
            f"Unknown box {box!r}: use {', '.join(BOXES)}.",
            errors=[{"path": "box", "message": "unknown"}],
        )
    if box == "incidents" and not actor.is_admin:
        raise PermissionDenied(
            "Only administrators see the tasks nobody holds.", code="permission.admin_required"
        )
    filtered = app_key is not None or flow_key is not None or form_key is not None
    searched = bool(q and q.strip())
    params = {"user": actor.user_id, "offset": offset, "limit": limit}
    if not filtered and not searched:  # the usual request: statements built once
        counts_of, pages = _UNFILTERED[actor.is_admin]
        counted = uow.read(counts_of, params).one()
        items = list(uow.session.scalars(pages[box], params))
        return items, {name: int(counted[i] or 0) for i, name in enumerate(_boxes(actor.is_admin))}
    queries = dict(_boxes(actor.is_admin))
    instances = select(FlowInstance.id).join(App, App.id == FlowInstance.app_id)
    if app_key is not None:
        instances = instances.where(App.key == app_key)
    if flow_key is not None:
        instances = instances.where(FlowInstance.flow_key == flow_key)
    if form_key is not None:
        instances = instances.where(FlowInstance.form_key == form_key)
    if q and searched:
        pairs = uow.read(
            select(App.key, FlowInstance.form_key)
            .join(App, App.id == FlowInstance.app_id)
            .where(FlowInstance.id.in_(instances))
            .distinct()
        ).all()
        instances = instances.where(FlowInstance.record_id.in_(_titled(uow, pairs, q)))
    queries = {name: q_.where(_INSTANCE_OF[name].in_(instances)) for name, q_ in queries.items()}
    counted = uow.read(_counts(queries), params).one()
    counts = {name: int(counted[i] or 0) for i, name in enumerate(queries)}
    items = list(uow.session.scalars(_page(box, queries[box]), params))
    return items, counts


#: Each box's items for the user ``:user`` (built once: every inbox request asks for them all).
_BOXES: dict[str, Any] = {
    "todo": select(Task).where(Task.assignee_id == bindparam("user"), Task.status == "open"),
    "done": select(Task).where(Task.actor_id == bindparam("user"), Task.status == "done"),
    "cc": select(CarbonCopyEntry).where(CarbonCopyEntry.user_id == bindparam("user")),
    "started": select(FlowInstance).where(FlowInstance.initiator_id == bindparam("user")),
    # administrators only: open tasks nobody holds
    "incidents": select(Task).where(Task.assignee_id.is_(None), Task.status == "open"),
}


#: The flow instance of each box's items.
_INSTANCE_OF: dict[str, Any] = {
    "todo": Task.instance_id,
    "done": Task.instance_id,
    "incidents": Task.instance_id,
    "cc": CarbonCopyEntry.instance_id,
    "started": FlowInstance.id,
}


def _boxes(admin: bool) -> dict[str, Any]:
    """The boxes a person has (``incidents`` for administrators), in the order their counts
    come."""
    return _BOXES if admin else {k: v for k, v in _BOXES.items() if k != "incidents"}


def _counts(queries: Mapping[str, Any]) -> Any:
    """Every box's count in one statement (one round trip, not one per box)."""
    return select(
        *(
            select(func.count()).select_from(q_.subquery()).scalar_subquery().label(name)
            for name, q_ in queries.items()
        )
    )


def _page(box: str, query: Any) -> Any:
    """A page of a box (``:offset``, ``:limit``): open tasks by due time, the others newest
    first."""
    model: Any = {"cc": CarbonCopyEntry, "started": FlowInstance}.get(box, Task)
    if box in _DUE_FIRST:
        sla = _sla_due(Task.record_id)
        due = case(
            (Task.due_at.is_(None), sla),
            (sla.is_(None), Task.due_at),
            (Task.due_at <= sla, Task.due_at),
            else_=sla,
        )
        query = query.order_by(due.is_(None), due, Task.id.desc())
    else:
        query = query.order_by(model.id.desc())
    return query.offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer))


#: Without filters: the counts and each box's page, for others and for administrators.
_UNFILTERED: dict[bool, tuple[Any, dict[str, Any]]] = {
    admin: (
        _counts(boxes),
        {box: _page(box, query) for box, query in boxes.items()},
    )
    for admin, boxes in ((False, _boxes(False)), (True, _boxes(True)))
}


def inbox_facets(uow: UnitOfWork, actor: Actor, box: str, lang: str) -> dict[str, Any]:
    """What a box's filters offer: the forms and the flows its items come from, with their
    labels in ``lang`` and how many items each has (one grouped query)."""
    if box not in _FACETS or (box == "incidents" and not actor.is_admin):
        return {"forms": [], "flows": []}
    rows = uow.read(_FACETS[box], {"user": actor.user_id}).all()
    forms: dict[tuple[str, str], dict[str, Any]] = {}
    flows: dict[tuple[str, str], dict[str, Any]] = {}
    for app_key, form_key, flow_key, count in rows:
        if (app_key, form_key) not in forms:
            try:
                form_label = text(compiled.form(uow, app_key, form_key)[1].label, lang)
            except NotFound:
                form_label = ""
            forms[(app_key, form_key)] = {
                "app": app_key,
                "key": form_key,
                "label": form_label or form_key,
                "count": 0,
            }
        forms[(app_key, form_key)]["count"] += int(count)
        if (app_key, flow_key) not in flows:
            try:
                flow_label = _flow_label(uow, app_key, flow_key, lang)
            except NotFound:  # no longer published: its key
                flow_label = flow_key
            flows[(app_key, flow_key)] = {
                "app": app_key,
                "key": flow_key,
                "label": flow_label,
                "count": 0,
            }
        flows[(app_key, flow_key)]["count"] += int(count)
    return {
        "forms": sorted(forms.values(), key=lambda f: (-f["count"], f["label"])),
        "flows": sorted(flows.values(), key=lambda f: (-f["count"], f["label"])),
    }


def _facets(member: Any) -> Any:
    """The count of ``member``'s flow instances by app, form and flow."""
    member = member.subquery()
    return (
        select(App.key, FlowInstance.form_key, FlowInstance.flow_key, func.count())
        .join(App, App.id == FlowInstance.app_id)
        .join(member, member.c[0] == FlowInstance.id)
        .group_by(App.key, FlowInstance.form_key, FlowInstance.flow_key)
    )


#: A box's items by app, form and flow, for the user ``:user`` (built once).
_FACETS: dict[str, Any] = {
    box: _facets(query.with_only_columns(_INSTANCE_OF[box])) for box, query in _BOXES.items()
}


def inbox_context(uow: UnitOfWork, items: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    """What a person reads in a box for each item, in ``lang``: the node's label (the flow's for a
    started instance), the flow's and the form's labels, the record's title and where the record
    is (app, form, id: CC entries carry none of their own). Two queries for the page (instances,
    records) whatever its length; labels come from the compiled definitions."""
    ids = {i.id if isinstance(i, FlowInstance) else i.instance_id for i in items}
    if not ids:
        return []
    # the columns read, not the instances (their state and path documents are not)
    found = uow.read(_INSTANCES, {"ids": sorted(ids)}).all()
    instances = {row.id: (row, str(row.key)) for row in found}
    record_ids = sorted({i.record_id for i, _ in instances.values()})
    data: dict[int, dict[str, Any]] = {
        row.id: row.data for row in uow.read(_DATA, {"ids": record_ids})
    }
    sla_due: dict[int, datetime] = {
        int(row[0]): ensure_utc(row[1])
        for row in uow.read(_SLA_DUE, {"ids": record_ids})
        if row[1] is not None
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
        due: datetime | None = None
        if not isinstance(item, FlowInstance):
            node = proc.definition.nodes.get(item.node)
            label = text(node.label, lang) if node is not None and node.label else item.node
        if isinstance(item, Task) and item.status == "open":
            times = [t for t in (item.due_at, sla_due.get(instance.record_id)) if t is not None]
            due = min(map(ensure_utc, times)) if times else None
        out.append(
            {
                "label": label,
                "flow_label": flow_label,
                "form_label": form_label,
                "title": "" if title is None else str(title),
                "app_key": app_key,
                "form_key": instance.form_key,
                "record_id": instance.record_id,
                "due": None if due is None else due.isoformat(),
                "overdue": due is not None and due <= uow.now,
                "urgency": _urgency(
                    uow, app_key, instance.form_key, data.get(instance.record_id), lang
                ),
            }
        )
    return out


#: What a page of a box reads besides its items (built once: every inbox request reads it).
_INSTANCES = (
    select(
        FlowInstance.id,
        FlowInstance.flow_key,
        FlowInstance.version,
        FlowInstance.form_key,
        FlowInstance.record_id,
        App.key,
    )
    .join(App, App.id == FlowInstance.app_id)
    .where(FlowInstance.id.in_(bindparam("ids", expanding=True)))
)
_DATA = select(Record.id, Record.data).where(Record.id.in_(bindparam("ids", expanding=True)))
_SLA_DUE = (
    select(SlaStatus.record_id, func.min(SlaStatus.due_at))
    .where(
        SlaStatus.record_id.in_(bindparam("ids", expanding=True)),
        SlaStatus.state.in_(_COUNTING),
    )
    .group_by(SlaStatus.record_id)
)


def _urgency(
    uow: UnitOfWork, app_key: str, form_key: str, data: Mapping[str, Any] | None, lang: str
) -> dict[str, Any] | None:
    """The record's priority as its form's SLA policy reads it (the policy's priority field):
    the value, its label and its rank among the field's options (0 the most urgent)."""
    policies = rulebook.load(uow, app_key).slas.get(form_key, ())
    if not policies or not data:
        return None
    key = policies[0].priority_field
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        return None
    field = form.by_key.get(key)
    options = list(field.options) if field is not None else []
    rank = next((i for i, o in enumerate(options) if o.value == value), None)
    label = text(options[rank].label, lang) if rank is not None else str(value)
    return {"value": value, "label": label, "rank": rank}


def task_view(
    uow: UnitOfWork, actor: Actor, task_id: int, *, lang: str = "zh-CN"
) -> dict[str, Any]:
    """A task with what its holder may see and do: the record (hidden fields removed) and the
    version a submission is based on, field permissions, allowed actions, the nodes a rejection
    may go back to and the flow's label in ``lang``. A task of one sub-table row names it
    (``row``: table, id and place in the table) and shows it first."""
    task, instance, record = held_task(uow, actor, task_id)
    _, proc = process(uow, task.app_key, instance.flow_key, instance.version)
    node = proc.definition.nodes.get(task.node)
    _, form = compiled.form(uow, task.app_key, instance.form_key)
    read_only: Permission = "read_only"
    permissions = (
        permissions_at(node, form)
        if node is not None and node.edits_fields
        else dict.fromkeys(form.by_key, read_only)
    )
    # what the holder's roles hide stays hidden unless the step asks them to write it
    for key in hidden_fields(actor, task.app_key, instance.form_key):
        if permissions.get(key, read_only) != "editable":
            permissions[key] = "hidden"
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
    history = instance.state.get("history", [])
    return {
        "task": task,
        "instance": instance,
        "record": {"id": record.id, "data": data, "lock_version": record.lock_version},
        "required": list(node.required) if node is not None and task.status == "open" else [],
        "returned": returned_to(history, task.node) if task.status == "open" else None,
        "summary": summary_fields(proc.definition, history, task.node, form, permissions, data),
        "row": mine,
        "permissions": permissions,
        "actions": actions if task.status == "open" else ["comment"],
        "reject_to": list(node.reject_to) if node is not None else [],
        "label": dict(node.label) if node is not None else {},
        "nodes": _node_labels(proc.definition),
        "flow_label": _flow_label(uow, task.app_key, instance.flow_key, lang),
        "history": history,
    }


#: What a history entry of the node that sent work back says about why.
_SENDING_BACK = ("rejected", "returned", "out_of_reach")
#: History entries that finish a node's work.
_DONE = ("submitted", "approved", "completed")
#: At most this many fields in a task's summary.
SUMMARY_SIZE = 12


def returned_to(history: Sequence[Mapping[str, Any]], node: str) -> dict[str, Any] | None:
    """Who sent the work back to ``node``, when, from which node and why — when the node's
    current task exists because of that (nothing at ``node`` was finished since)."""
    found: dict[str, Any] | None = None
    for i, entry in enumerate(history):
        if entry.get("action") == "sent_back" and entry.get("target") == node:
            why: Mapping[str, Any] = next(
                (
                    h
                    for h in reversed(history[:i])
                    if h.get("node") == entry.get("node") and h.get("action") in _SENDING_BACK
                ),
                {},
            )
            found = {
                "by": why.get("actor", entry.get("actor")),
                "at": entry.get("at"),
                "node": entry.get("node"),
                "action": why.get("action", "returned"),
                "opinion": why.get("opinion"),
            }
        elif entry.get("node") == node and entry.get("action") in _DONE:
            found = None
    return found


def summary_fields(
    definition: ProcessDefinition,
    history: Sequence[Mapping[str, Any]],
    node: str,
    form: Form,
    permissions: Mapping[str, Permission],
    data: Mapping[str, Any],
) -> list[str]:
    """What the task is to decide on: the fields the step before it filled in (the latest
    submission at another task node or the start), as far as this task may see them, the ones
    holding values first; empty when there is no such step."""
    for entry in reversed(history):
        before = definition.nodes.get(str(entry.get("node")))
        if (
            entry.get("action") not in ("submitted", "started")
            or before is None
            or before.id == node
        ):
            continue
        keys = [
            key
            for key in form.by_key
            if before.permissions.get(key, before.others) == "editable"
            and permissions.get(key) != "hidden"
        ]
        keys.sort(key=lambda k: data.get(k) in (None, "", []))
        return keys[:SUMMARY_SIZE]
    return []


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
