"""A flow instance as its diagram shows it: the version's nodes, connections and layout, the path
its tokens took, and where it waits now — who holds each open task and since when, timers and
sub-processes — for anyone who may read the record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from tangram.platform import metadata, records
from tangram.platform.flows.context import app_key_of, instance_of
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import FlowInstance, Task, User
from tangram.platform.kernel.uow import UnitOfWork

#: The parts of a flow's body a diagram draws.
_DRAWN = ("key", "label", "form", "nodes", "edges", "layout")


def _visited(instance: FlowInstance) -> list[str]:
    """The nodes an instance went through: its path's, or — for an instance started before paths
    were kept — the nodes its history and its tasks name."""
    seen: dict[str, None] = {}
    for move in instance.path or []:
        for node in move:
            seen.setdefault(str(node), None)
    state = instance.state or {}
    for entry in state.get("history", []):
        if entry.get("node"):
            seen.setdefault(str(entry["node"]), None)
    for task in state.get("tasks", {}).values():
        seen.setdefault(str(task["node"]), None)
    return list(seen)


def _waiting(uow: UnitOfWork, instance: FlowInstance) -> list[dict[str, Any]]:
    """Where the instance waits: each node with open tasks (their holders and since when), or a
    token waiting for a timer, a sub-process or the other branches of a join."""
    if instance.status != "running":
        return []
    tasks = list(
        uow.session.scalars(
            select(Task)
            .where(Task.instance_id == instance.id, Task.status == "open")
            .order_by(Task.id)
        )
    )
    names = dict(
        uow.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({t.assignee_id for t in tasks if t.assignee_id is not None})
            )
        ).all()
    )
    out: dict[str, dict[str, Any]] = {}
    for task in tasks:
        at = out.setdefault(task.node, {"node": task.node, "kind": "task", "holders": []})
        at["holders"].append(
            {
                "task": task.id,
                "user": task.assignee_id,
                "name": names.get(task.assignee_id) if task.assignee_id is not None else None,
                "since": task.created_at.isoformat(),
            }
        )
    state: Mapping[str, Any] = instance.state or {}
    timers = {t.get("token"): t.get("at") for t in state.get("timers", {}).values()}
    for token in state.get("tokens", {}).values():
        node = token.get("node")
        if not node or node in out:
            continue
        wait = token.get("wait")
        if wait == "timer":
            out[node] = {"node": node, "kind": "timer", "until": timers.get(token["id"])}
        elif wait == "sub" or token.get("children"):
            out[node] = {"node": node, "kind": "sub_process"}
        elif wait == "join":
            out[node] = {"node": node, "kind": "join"}
    return list(out.values())


def instance_diagram(uow: UnitOfWork, actor: Actor, instance_id: int) -> dict[str, Any]:
    """The diagram of instance ``instance_id`` (those who may read its record)."""
    instance = instance_of(uow, instance_id)
    app_key = app_key_of(uow, instance.app_id)
    records.get_record(uow, actor, app_key, instance.form_key, instance.record_id)
    _, _, body = metadata.published_body(uow, app_key, "flow", instance.flow_key, instance.version)
    return {
        "id": instance.id,
        "app": app_key,
        "flow": instance.flow_key,
        "version": instance.version,
        "form": instance.form_key,
        "record": instance.record_id,
        "status": instance.status,
        "now": uow.now,
        "started_at": instance.started_at,
        "ended_at": instance.ended_at,
        "definition": {k: body[k] for k in _DRAWN if k in body},
        "path": [list(move) for move in instance.path or []],
        "visited": _visited(instance),
        "waiting": _waiting(uow, instance),
    }
