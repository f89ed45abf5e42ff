"""Flow commands: start a flow on a record, act on a task, cancel a task (administrators),
withdraw, urge, comment on or cancel an instance. Each runs the engine on the instance's state
and applies its effects in the caller's unit of work; a command on a task that another command
changed first loses the optimistic lock of the instance and gets 409. :func:`install` registers
the timer job and the flow check and starts flows on record creation, on a rule's request and for
a parent's sub-process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from tangram.config import Settings
from tangram.engines.flows import (
    Command,
    FlowError,
    Node,
)
from tangram.engines.forms.messages import message
from tangram.engines.logic import LogicEvaluationError
from tangram.platform import metadata, records
from tangram.platform.flows.context import (
    MAX_PATH,
    app_key_of,
    engine_context,
    extended_path,
    held_task,
    instance_of,
    permissions_at,
    traced,
)
from tangram.platform.flows.definitions import advise, check, process
from tangram.platform.flows.effects import FLOW_ENDED, START_REQUESTED, TIMER_JOB, apply
from tangram.platform.flows.writes import own_row, require_filled, submitted_changes
from tangram.platform.identity.perms import (
    Action,
    Actor,
    administrator_ids,
    check_record,
    require_admin,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import (
    FlowInstance,
    Notification,
    Record,
    Task,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import notify
from tangram.platform.rules import rulebook


def start(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    app_key: str,
    flow_key: str,
    record_id: int,
    *,
    parent: tuple[int, str] | None = None,
) -> FlowInstance:
    """Start the newest version of ``flow_key`` on a record the actor may update; an archived
    flow starts only as the sub-process of a running parent."""
    version, proc = process(uow, app_key, flow_key)
    if parent is None:
        metadata.require_live(uow, app_key, "flow", flow_key)
    else:
        _require_depth(uow, parent[0], flow_key)
    form_key = proc.definition.form
    record = records.get_record(uow, actor, app_key, form_key, record_id)
    if actor.user_id is not None:
        check_record(
            uow.session,
            actor,
            Action.UPDATE.value,
            app_key=app_key,
            form_key=form_key,
            owner_id=record.owner_id,
            group_id=record.group_id,
        )
    running = running_instance(uow, record.id, flow_key)
    if running is not None:
        raise Conflict(
            f"Flow {flow_key!r} is already running on record {record.id} (instance {running}).",
            code="flow.running",
        )
    _, form = compiled.form(uow, app_key, form_key)
    initiator = actor.user_id if actor.user_id is not None else record.owner_id
    ctx, moves = traced(engine_context(uow, app_key, record, form))
    try:
        state, effects = proc.start(ctx, initiator=initiator)
    except FlowError as exc:
        raise _problem(exc) from None
    try:
        instance = uow.insert(
            FlowInstance,
            {
                "app_id": record.app_id,
                "flow_key": flow_key,
                "version": version,
                "form_key": form_key,
                "record_id": record.id,
                "status": state["status"],
                "state": state,
                "initiator_id": initiator,
                "parent_id": parent[0] if parent else None,
                "parent_token": parent[1] if parent else None,
                "started_at": uow.now,
                "updated_at": uow.now,
                "ended_at": None,
                "path": moves[-MAX_PATH:],
                "lock_version": 1,
            },
        )
    except Conflict:  # a start racing this one inserted first (the unique index says so)
        raise Conflict(
            f"Flow {flow_key!r} is already running on record {record_id}.", code="flow.running"
        ) from None
    apply(uow, settings, actor, app_key, instance, record, effects, history_from=0)
    return instance


#: How deep sub-processes may nest (a flow whose sub-process starts itself stops here).
MAX_SUB_DEPTH = 8


def _require_depth(uow: UnitOfWork, parent_id: int, flow_key: str) -> None:
    """Refuse a sub-process nested deeper than :data:`MAX_SUB_DEPTH` below its top flow."""
    depth, current = 1, uow.session.get(FlowInstance, parent_id)
    chain = []
    while current is not None and current.parent_id is not None:
        depth += 1
        chain.append(current.flow_key)
        current = uow.session.get(FlowInstance, current.parent_id)
    if depth >= MAX_SUB_DEPTH:
        raise ValidationFailed(
            f"Sub-process {flow_key!r} would be nested {depth + 1} levels deep; at most "
            f"{MAX_SUB_DEPTH} are allowed (does a flow start itself?).",
            code="flow.depth",
            errors=[{"path": "flow", "message": " → ".join([*reversed(chain), flow_key])}],
        )


#: The job that lets a running instance see its record's change: a timer whose ``ends_when``
#: now holds ends its wait. Queued by the record's update, run after its commit.
RECHECK_JOB = "flow.recheck"


_RUNNING = select(FlowInstance.id).where(
    FlowInstance.record_id == bindparam("record"),
    FlowInstance.flow_key == bindparam("flow"),
    FlowInstance.status == "running",
)


def running_instance(uow: UnitOfWork, record_id: int, flow_key: str) -> int | None:
    """The id of the record's running instance of ``flow_key``, if any (a start that races this
    check is stopped by the unique index on running instances)."""
    found = uow.read(_RUNNING, {"record": record_id, "flow": flow_key}).scalar()
    return None if found is None else int(found)


#: Actions that send a task's work back: the person who gets it must be told why.
SENDING_BACK = frozenset({"reject", "return"})


@dataclass(frozen=True)
class TaskCommand:
    """What a person sends to act on a task."""

    action: str
    opinion: str = ""
    target: str | None = None
    user: int | None = None
    position: str = "after"
    data: Mapping[str, Any] | None = None
    attachments: Sequence[int] = ()
    #: The record version the task showed (required with ``data``).
    lock_version: int | None = None


def _problem(exc: FlowError) -> Exception:
    if exc.code.endswith("not_found"):
        return NotFound(exc.message, code=exc.code)
    if exc.code.endswith("forbidden"):
        return PermissionDenied(exc.message, code=exc.code)
    if exc.code.endswith("conflict"):
        return Conflict(exc.message, code=exc.code)
    return ValidationFailed(
        exc.message, code=exc.code, errors=[{"path": "", "message": exc.message}]
    )


def _open_task(uow: UnitOfWork, actor: Actor, task_id: int) -> tuple[Task, FlowInstance, Record]:
    """An open task the actor holds (or any, for an administrator), its instance and its record.

    The task, its instance, its record and the app's metadata tag come in one statement; the
    instance and the record stay locked until the commit, so commands on one instance (two
    people finishing parallel tasks) run one after the other instead of failing each other.
    """
    task, instance, record = held_task(uow, actor, task_id, lock=True)
    if task.status != "open":
        raise Conflict(
            f"Task {task_id} is {task.status} ({task.outcome or 'not open yet'}): it cannot be "
            "acted on again.",
            code="task.conflict",
        )
    return task, instance, record


def act(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    task_id: int,
    command: TaskCommand,
    *,
    lang: str = "zh-CN",
) -> Task:
    """Act on a task: approve, reject, submit, return, transfer, delegate, add a signer, comment.

    ``data`` (fill and approval tasks) changes record fields the node lets this task edit.
    """
    task, instance, record = _open_task(uow, actor, task_id)
    app_key = task.app_key
    _, proc = process(uow, app_key, instance.flow_key, instance.version)
    node = proc.definition.nodes[task.node]
    if command.action in SENDING_BACK and not command.opinion.strip():
        # whoever gets the work back reads why at the top of their task
        raise ValidationFailed(
            "Say why the work goes back: an opinion is required to reject or return.",
            code="task.opinion",
            errors=[{"path": "opinion", "message": message("required", lang)}],
        )
    changes: dict[str, Any] = {}
    if command.data:
        if command.action not in ("submit", "approve") or not node.edits_fields:
            raise ValidationFailed(
                "Field changes go with a submission or an approval.",
                errors=[{"path": "data", "message": "not with this action"}],
            )
        _, form = compiled.form(uow, app_key, instance.form_key)
        changes = submitted_changes(
            uow,
            form,
            record,
            command.data,
            lock_version=command.lock_version,
            permissions=permissions_at(node, form),
            row=own_row(node, instance.state["tasks"].get(task.key, {})),
            lang=lang,
        )
    if node.required and command.action in ("submit", "approve"):
        _, form = compiled.form(uow, app_key, instance.form_key)
        require_filled(form, node, {**record.data, **changes}, lang=lang)
    if changes:
        records.system_update(uow, actor, app_key, instance.form_key, record, changes, lang=lang)
    engine_command = Command(
        command.action,
        actor=actor.user_id,
        task=task.key,
        opinion=command.opinion,
        target=command.target,
        user=command.user,
        position=command.position,
        attachments=tuple(command.attachments),
        admin=actor.is_admin,
    )
    handle(uow, settings, actor, app_key, instance, record, engine_command)
    return task


def cancel_task(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    task_id: int,
    *,
    opinion: str,
) -> Task:
    """An administrator withdraws one open task, saying why (WCP-19, Cancel Task): it closes as
    cancelled, neither approved nor rejected, and its node goes on with the tasks that are left
    (when it was the last, the node is done and the flow moves on). Others get 403; a task that
    is not open, 409."""
    require_admin(actor, "cancel a task")
    task, instance, record = _open_task(uow, actor, task_id)
    command = Command(
        "cancel_task", actor=actor.user_id, task=task.key, opinion=opinion, admin=True
    )
    handle(uow, settings, actor, task.app_key, instance, record, command)
    return task


def report_stuck(uow: UnitOfWork, task_id: int, detail: str) -> None:
    """A command on the task failed on the flow's definition (a branch condition that cannot be
    evaluated): every resubmission would fail the same way. The audit trail records each
    attempt; the administrators are notified once while the notice is unread, as an incident
    (their incidents box and the notification name the task)."""
    task = uow.session.get(Task, task_id)
    if task is None:
        return
    uow.audit(
        None,
        "flows",
        "task.stuck",
        "flow_instance",
        task.instance_id,
        {"task": task.id, "node": task.node, "detail": detail[:500]},
    )
    told = {
        n.user_id
        for n in uow.session.scalars(
            select(Notification).where(
                Notification.kind == "incident", Notification.read_at.is_(None)
            )
        )
        if n.payload.get("task_id") == task.id
    }
    for admin in administrator_ids(uow.session):
        if admin not in told:
            notify.notify(
                uow,
                admin,
                kind="incident",
                title=f"待办无法继续：{task.node} #{task.id}",
                body=detail[:1000],
                payload={"task_id": task.id, "instance": task.instance_id},
            )


def instance_action(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    instance_id: int,
    action: str,
    *,
    opinion: str = "",
    attachments: Sequence[int] = (),
) -> FlowInstance:
    """Withdraw, urge, comment on or cancel an instance (the initiator, a participant or an admin).

    An instance whose record the actor may not read does not exist for them (404
    ``flow.not_found``, as a missing one); one they may read but not act on answers 403
    ``flow.forbidden``."""
    if action not in ("withdraw", "urge", "comment", "cancel"):
        raise ValidationFailed(
            f"Unknown action {action!r}: use withdraw, urge, comment or cancel.",
            errors=[{"path": "action", "message": "unknown"}],
        )
    instance = instance_of(uow, instance_id)
    app_key = app_key_of(uow, instance.app_id)
    try:
        record = records.get_record(uow, actor, app_key, instance.form_key, instance.record_id)
    except NotFound:  # the record, or its app, is out of the actor's sight
        raise NotFound(f"There is no flow instance {instance_id}.", code="flow.not_found") from None
    command = Command(
        action,
        actor=actor.user_id,
        opinion=opinion,
        attachments=tuple(attachments),
        admin=actor.is_admin,
    )
    handle(uow, settings, actor, app_key, instance, record, command)
    return instance


def handle(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    app_key: str,
    instance: FlowInstance,
    record: Record,
    command: Command,
) -> None:
    _, proc = process(uow, app_key, instance.flow_key, instance.version)
    _, form = compiled.form(uow, app_key, instance.form_key)
    before = len(instance.state.get("history", []))
    # tasks opened before this command have rows; the others get theirs when they open
    rowed = frozenset(
        key for key, t in instance.state.get("tasks", {}).items() if t.get("status") != "waiting"
    )
    ctx, moves = traced(engine_context(uow, app_key, record, form))
    try:
        state, effects = proc.handle(instance.state, command, ctx)
    except FlowError as exc:
        raise _problem(exc) from None
    step = {"state": state, "status": state["status"], "updated_at": uow.now}
    if moves:
        step["path"] = extended_path(instance, moves)
    try:
        uow.update(instance, step)  # a concurrent command on the same instance loses the lock here
    except StaleVersion:
        raise Conflict(
            "Someone acted on this flow at the same moment; reload the task.",
            code="task.conflict",
        ) from None
    apply(
        uow, settings, actor, app_key, instance, record, effects, history_from=before, rowed=rowed
    )


def _starts(uow: UnitOfWork, flow_key: str, start_node: Node, record: Record) -> bool:
    """Whether a flow's start condition holds on a new record; one that cannot be evaluated
    starts nothing (the record is kept) and the audit trail says why."""
    if start_node.condition is None:
        return False
    try:
        return bool(start_node.condition.function(record.data))
    except LogicEvaluationError as exc:
        uow.audit(
            None,
            "flows",
            "flow.not_started",
            "record",
            record.id,
            {"flow": flow_key, "detail": f"the start condition cannot be evaluated: {exc.message}"},
        )
        return False


def cancel_flows_of(
    uow: UnitOfWork, settings: Settings, app_key: str, record_id: int, actor_id: int | None
) -> None:
    """Cancel every running flow of a record that was deleted: its open tasks are cancelled, so
    nobody acts on a record that is gone (restoring the record does not restart them)."""
    record = uow.session.get(Record, record_id)
    if record is None:
        return
    running = uow.session.scalars(
        select(FlowInstance)
        .where(FlowInstance.record_id == record_id, FlowInstance.status == "running")
        .order_by(FlowInstance.id)
        .with_for_update()
    ).all()
    actor = Actor(user_id=actor_id, username="flows", is_admin=True, via="system")
    for instance in running:
        command = Command("cancel", actor=actor_id, opinion="the record was deleted", admin=True)
        handle(uow, settings, actor, app_key, instance, record, command)


def _system_command(
    uow: UnitOfWork, settings: Settings, instance_id: int, command: Command
) -> None:
    """A command of the platform's own (a timer, a recheck) to an instance still running on a
    record that still exists; nothing otherwise."""
    instance = uow.session.get(FlowInstance, instance_id)
    if instance is None or instance.status != "running":
        return
    record = uow.session.get(Record, instance.record_id)
    if record is None:
        return
    actor = Actor.system("flow timer")
    handle(uow, settings, actor, app_key_of(uow, instance.app_id), instance, record, command)


_RUNNING_OF = select(FlowInstance).where(
    FlowInstance.record_id == bindparam("record"),
    FlowInstance.flow_key.in_(bindparam("flows", expanding=True)),
    FlowInstance.status == "running",
)


def _record_updated(uow: UnitOfWork, event: Event) -> None:
    """Queue a recheck for the record's instances that wait at a timer ending on a condition."""
    # only forms with a published flow whose timers end on a condition pay for a query
    fingerprint = rulebook.load(uow, event.app).fingerprint
    definitions = [
        process(uow, event.app, key)[1].definition
        for kind, key, _version in fingerprint
        if kind == "flow"
    ]
    keys = [d.key for d in definitions if d.form == event.subject and d.ends_on_condition]
    if not keys:
        return
    queued = uow.memo.flow_rechecks
    running = uow.session.scalars(
        _RUNNING_OF, {"record": int(event.object_id), "flows": keys}
    ).all()
    for instance in running:
        if instance.id in queued:
            continue
        _, proc = process(uow, event.app, instance.flow_key, instance.version)
        if proc.definition.waits_on_condition(instance.state):
            queued.add(instance.id)
            jobs.enqueue(uow, RECHECK_JOB, {"instance": instance.id})


def install(hooks: Hooks, settings: Settings) -> None:
    """Register the timer job and the flow check; start flows on record creation, when a rule or
    a parent asks, and resume a parent when its sub-process completes."""
    events, registry = hooks.events, hooks.jobs

    def on_timer(uow: UnitOfWork, job: JobContext) -> None:
        timer = Command("timer_fired", timer=str(job.payload["timer"]), admin=True)
        _system_command(uow, settings, int(job.payload["instance"]), timer)

    def on_recheck(uow: UnitOfWork, job: JobContext) -> None:
        recheck = Command("record_changed", admin=True)
        _system_command(uow, settings, int(job.payload["instance"]), recheck)

    def on_requested(uow: UnitOfWork, event: Event) -> None:
        parent = event.payload.get("parent")
        start(
            uow,
            settings,
            Actor.system(str(event.payload.get("source", "rules"))),
            event.app,
            str(event.payload["flow"]),
            event.object_id,
            parent=(int(parent[0]), str(parent[1])) if parent else None,
        )

    def on_ended(uow: UnitOfWork, event: Event) -> None:
        p = event.payload
        if p["status"] != "completed" or p.get("parent") is None or p.get("token") is None:
            return
        parent = uow.session.get(FlowInstance, int(p["parent"]))
        if parent is None or parent.status != "running":
            return
        record = uow.session.get(Record, parent.record_id)
        if record is None:
            return
        child = uow.session.get(FlowInstance, int(p["instance"]))
        handle(
            uow,
            settings,
            Actor.system(f"flow {child.flow_key if child else parent.flow_key}"),
            app_key_of(uow, parent.app_id),
            parent,
            record,
            Command("subprocess_done", token=str(p["token"]), admin=True),
        )

    def on_created(uow: UnitOfWork, event: Event) -> None:
        # the rulebook (already loaded for this event's rules) knows the published flows
        fingerprint = rulebook.load(uow, event.app).fingerprint
        keys = [key for kind, key, _version in fingerprint if kind == "flow"]
        if not keys:
            return
        record = uow.session.get(Record, event.object_id)
        if record is None:
            return
        for key in sorted(keys):
            _, proc = process(uow, event.app, key)
            definition = proc.definition
            start_node = definition.nodes[definition.start]
            if definition.form != event.subject or start_node.trigger == "manual":
                continue
            if start_node.trigger == "condition" and not _starts(uow, key, start_node, record):
                continue
            owner = uow.session.get(User, record.owner_id) if record.owner_id else None
            actor = Actor(
                user_id=owner.id if owner else None,
                username=owner.username if owner else "flows",
                is_admin=True,
                via="system",
            )
            start(uow, settings, actor, event.app, key, record.id)

    def on_deleted(uow: UnitOfWork, event: Event) -> None:
        cancel_flows_of(uow, settings, event.app, event.object_id, event.actor_id)

    registry.register(TIMER_JOB, on_timer)
    registry.register(RECHECK_JOB, on_recheck)
    events.subscribe("record.updated", _record_updated)
    events.subscribe("record.deleted", on_deleted)
    events.subscribe(START_REQUESTED, on_requested)
    events.subscribe(FLOW_ENDED, on_ended)
    events.subscribe("record.created", on_created)
    hooks.checks.register("flow", check)
    hooks.checks.advise("flow", advise)
