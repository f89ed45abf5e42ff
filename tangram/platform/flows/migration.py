"""Moving running instances to another version of their flow: a preview, or all of them at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from tangram.engines.flows import (
    FlowError,
    migrate_state,
)
from tangram.platform.flows.definitions import process
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import (
    ValidationFailed,
)
from tangram.platform.kernel.models import (
    App,
    FlowInstance,
    Task,
)
from tangram.platform.kernel.uow import UnitOfWork


def migrate(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    flow_key: str,
    *,
    source: int,
    target: int,
    mapping: Mapping[str, str],
    apply: bool,
) -> dict[str, Any]:
    """Preview (or apply, all or nothing) moving the running instances of version ``source``
    to version ``target``: every active node must map to a node of the same type."""
    require_admin(actor, "move flow instances to another version")
    _, old = process(uow, app_key, flow_key, source)
    _, new = process(uow, app_key, flow_key, target)
    instances = list(
        uow.session.scalars(
            select(FlowInstance)
            .join(App, App.id == FlowInstance.app_id)
            .where(
                App.key == app_key,
                FlowInstance.flow_key == flow_key,
                FlowInstance.version == source,
                FlowInstance.status == "running",
            )
            .order_by(FlowInstance.id)
        )
    )
    report: list[dict[str, Any]] = []
    moved: list[tuple[FlowInstance, dict[str, Any]]] = []
    for instance in instances:
        before = sorted({t["node"] for t in instance.state["tokens"].values() if t["node"]})
        try:
            state = migrate_state(instance.state, old, new, mapping, at=uow.now)
        except FlowError as exc:
            report.append({"instance": instance.id, "ok": False, "problem": exc.message})
            continue
        after = sorted({t["node"] for t in state["tokens"].values() if t["node"]})
        report.append({"instance": instance.id, "ok": True, "from": before, "to": after})
        moved.append((instance, state))
    refused = [r for r in report if not r["ok"]]
    if apply and refused:
        raise ValidationFailed(
            f"{len(refused)} instance(s) cannot be moved; nothing was changed.",
            code="flow.migration",
            errors=[
                {"path": f"instances/{r['instance']}", "message": r["problem"]} for r in refused
            ],
        )
    if apply:
        for instance, state in moved:
            instance.state = state
            instance.version = target
            instance.path = [[mapping.get(a, a), mapping.get(b, b)] for a, b in instance.path or []]
            instance.updated_at = uow.now
            for task in uow.session.scalars(select(Task).where(Task.instance_id == instance.id)):
                task.node = state["tasks"].get(task.key, {}).get("node", task.node)
            uow.audit(
                actor.user_id,
                actor.label,
                "flow.migrated",
                "record",
                instance.record_id,
                {
                    "flow": flow_key,
                    "instance": instance.id,
                    "from": source,
                    "to": target,
                    "mapping": dict(mapping),
                },
            )
        uow.flush()
    return {
        "flow": flow_key,
        "source": source,
        "target": target,
        "applied": apply,
        "instances": report,
    }
