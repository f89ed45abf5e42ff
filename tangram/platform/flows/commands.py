"""Flows at run time: instances on records, tasks and the inbox, timers, sub-processes.

The flow engine is pure; this module gives it the record, the clock and the directory, keeps
each instance's state (pinned to the definition version it started with), mirrors its tasks in
the ``tasks`` table for the inbox, and applies its effects in the same transaction: task rows and
notifications, timer jobs, carbon copies, rule actions of automation nodes, sub-process starts.
Every step of the engine's history becomes an audit entry on the record, so the record's
timeline shows the flow's path. A command on a task that another command changed first loses
the optimistic lock of the instance and gets 409.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import make_transient_to_detached

from tangram.config import Settings
from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.flows import (
    CancelTimer,
    CarbonCopy,
    Command,
    Context,
    Escalate,
    FlowEffect,
    FlowEnded,
    FlowError,
    Node,
    Notify,
    Process,
    ProcessDefinition,
    RunActions,
    ScheduleTimer,
    StartSubProcess,
    TaskClosed,
    TaskOpened,
    TaskReassigned,
    compile_process,
    migrate_state,
)
from tangram.engines.forms import FieldType, Form, Permission
from tangram.engines.forms.fields import text
from tangram.platform import metadata, records
from tangram.platform.identity.perms import Action, Actor, check_record, require_admin
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
    App,
    CarbonCopyEntry,
    Definition,
    FlowInstance,
    Group,
    Membership,
    Record,
    Task,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork, translated_errors
from tangram.platform.metadata import compiled
from tangram.platform.outbound import notify
from tangram.platform.rules import assignment, automation, rulebook

TIMER_JOB = "flow.timer"
_CACHE = "processes"
BOXES = ("todo", "done", "cc", "started")


# --- definitions --------------------------------------------------------------------------------


def _published_keys(uow: UnitOfWork, app_key: str, kind: str) -> frozenset[str]:
    return frozenset(
        uow.session.scalars(
            select(Definition.key)
            .join(App, App.id == Definition.app_id)
            .where(
                App.key == app_key,
                Definition.kind == kind,
                Definition.published_version.is_not(None),
            )
        )
    )


def _compile(uow: UnitOfWork, app_key: str, body: Mapping[str, Any], version: int) -> Process:
    form_key = str(body.get("form"))
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise DefinitionError(
            [Diagnostic("/form", "flow.form", f"form {form_key!r} is not published")]
        ) from None
    subtables = {
        f.key: frozenset(sub.key for sub in f.fields)
        for f in form.fields
        if f.type is FieldType.SUB_TABLE
    }
    return compile_process(
        body,
        fields=frozenset(form.by_key),
        subtables=subtables,
        flows=_published_keys(uow, app_key, "flow") | {str(body.get("key"))},
        forms=_published_keys(uow, app_key, "form"),
        version=version,
    )


def check(uow: UnitOfWork, app_key: str, _kind: str, _key: str, body: Mapping[str, Any]) -> None:
    """Refuse a flow that does not compile, with every problem's path (node ids in messages)."""
    try:
        _compile(uow, app_key, body, 0)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The flow cannot be published: {len(exc.diagnostics)} problem(s).",
            exc.diagnostics,
            code="definition.invalid",
        ) from None


def process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None = None
) -> tuple[int, Process]:
    """A published flow (newest, or ``version``) compiled once per version (and looked up once
    per unit of work)."""
    memo: dict[tuple[str, str, int | None], tuple[int, Process]] = uow.scratch.setdefault(
        "processes", {}
    )
    pinned: dict[tuple[str, str, int], Process] = uow.shared.setdefault("pinned_processes", {})
    if version is not None and (app_key, flow_key, version) in pinned:
        # a published version never changes: an instance pinned to it needs no lookup
        return version, pinned[(app_key, flow_key, version)]
    found = memo.get((app_key, flow_key, version))
    if found is None:
        found = memo[(app_key, flow_key, version)] = _process(uow, app_key, flow_key, version)
        pinned[(app_key, flow_key, found[0])] = found[1]
    return found


def _process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None
) -> tuple[int, Process]:
    row_id, number, digest = metadata.published_ref(uow, app_key, "flow", flow_key, version)
    cache: dict[tuple[str, str, int, str], Process] = uow.shared.setdefault(_CACHE, {})
    key = (app_key, flow_key, number, digest)
    found = cache.get(key)
    if found is None:
        found = _compile(uow, app_key, metadata.version_body(uow, row_id), number)
        cache[key] = found
    return number, found


# --- the engine's view of the world ---------------------------------------------------------


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


def _context(uow: UnitOfWork, app_key: str, record: Record, form: Form) -> Context:
    calendar = automation.calendar_of(rulebook.load(uow, app_key), record.form_key)
    return Context(
        now=uow.now,
        data=dict(record.data),
        resolve=_resolver(uow, form),
        business=calendar.add_minutes if calendar is not None else None,
        variables={"$record": {**record.data, "_id": record.id}, "$now": uow.now.isoformat()},
    )


# --- starting and acting -------------------------------------------------------------------------


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
    """Start the newest version of ``flow_key`` on a record the actor may update."""
    version, proc = process(uow, app_key, flow_key)
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
    running = uow.session.scalar(
        select(FlowInstance.id).where(
            FlowInstance.record_id == record.id,
            FlowInstance.flow_key == flow_key,
            FlowInstance.status == "running",
        )
    )
    if running is not None:
        raise Conflict(
            f"Flow {flow_key!r} is already running on record {record.id} (instance {running}).",
            code="flow.running",
        )
    _, form = compiled.form(uow, app_key, form_key)
    initiator = actor.user_id if actor.user_id is not None else record.owner_id
    try:
        state, effects = proc.start(_context(uow, app_key, record, form), initiator=initiator)
    except FlowError as exc:
        raise _problem(exc) from None
    instance = FlowInstance(
        app_id=record.app_id,
        flow_key=flow_key,
        version=version,
        form_key=form_key,
        record_id=record.id,
        status=state["status"],
        state=state,
        initiator_id=initiator,
        parent_id=parent[0] if parent else None,
        parent_token=parent[1] if parent else None,
        started_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(instance)
    uow.flush()
    _apply(uow, settings, actor, app_key, instance, record, effects, history_from=0)
    return instance


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
    # the task, its instance, its record and the app's metadata tag in one statement
    found = uow.session.execute(
        select(Task, FlowInstance, Record, App.metadata_tag)
        .join(FlowInstance, FlowInstance.id == Task.instance_id)
        .join(Record, Record.id == FlowInstance.record_id)
        .join(App, App.id == FlowInstance.app_id)
        .where(Task.id == task_id)
    ).first()
    if found is None or (
        not actor.is_admin and actor.user_id not in (found[0].assignee_id, found[0].actor_id)
    ):
        raise NotFound(f"There is no task {task_id}.", code="task.not_found")
    task, instance, record, tag = found
    metadata.note_tag(uow, task.app_key, str(tag))
    if task.status != "open":
        raise Conflict(
            f"Task {task_id} is {task.status} ({task.outcome or 'not open yet'}): it cannot be "
            "acted on again.",
            code="task.conflict",
        )
    app_key = task.app_key
    _, proc = process(uow, app_key, instance.flow_key, instance.version)
    node = proc.definition.nodes[task.node]
    if command.data:
        if command.action not in ("submit", "approve") or not node.edits_fields:
            raise ValidationFailed(
                "Field changes go with a submission or an approval.",
                errors=[{"path": "data", "message": "not with this action"}],
            )
        _, form = compiled.form(uow, app_key, instance.form_key)
        permissions = _permissions(node, form)
        current = {k: v for k, v in record.data.items() if k in form.by_key}
        errors = form.check_write(current, command.data, permissions, lang=lang)
        if errors:
            raise ValidationFailed(
                "This task may not change these fields.",
                code="record.invalid",
                errors=[e.as_dict() for e in errors],
            )
        records.system_update(
            uow, actor, app_key, instance.form_key, record, dict(command.data), lang=lang
        )
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
    _handle(uow, settings, actor, app_key, instance, record, engine_command)
    return task


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
    """Withdraw, urge, comment on or cancel an instance (the initiator, a participant or an admin)."""
    if action not in ("withdraw", "urge", "comment", "cancel"):
        raise ValidationFailed(
            f"Unknown action {action!r}: use withdraw, urge, comment or cancel.",
            errors=[{"path": "action", "message": "unknown"}],
        )
    instance = _instance(uow, instance_id)
    app_key = _app_key(uow, instance.app_id)
    record = records.get_record(uow, actor, app_key, instance.form_key, instance.record_id)
    command = Command(
        action,
        actor=actor.user_id,
        opinion=opinion,
        attachments=tuple(attachments),
        admin=actor.is_admin,
    )
    _handle(uow, settings, actor, app_key, instance, record, command)
    return instance


def _permissions(node: Node, form: Form) -> dict[str, Permission]:
    """Every field's permission at a task node (fields the node does not name: ``others``);
    computed and read-only fields are never editable."""
    out: dict[str, Permission] = {}
    for key, f in form.by_key.items():
        level = cast(Permission, node.permissions.get(key, node.others))
        out[key] = "read_only" if level == "editable" and (f.computed or f.read_only) else level
    return out


def _instance(uow: UnitOfWork, instance_id: int) -> FlowInstance:
    instance = uow.session.get(FlowInstance, instance_id)
    if instance is None:
        raise NotFound(f"There is no flow instance {instance_id}.", code="flow.not_found")
    return instance


def _app_key(uow: UnitOfWork, app_id: int) -> str:
    return str(uow.session.scalar(select(App.key).where(App.id == app_id)))


def _handle(
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
    try:
        state, effects = proc.handle(instance.state, command, _context(uow, app_key, record, form))
    except FlowError as exc:
        raise _problem(exc) from None
    instance.state = state
    instance.status = state["status"]
    instance.updated_at = uow.now
    try:
        uow.flush()  # a concurrent command on the same instance loses the lock here
    except StaleVersion:
        raise Conflict(
            "Someone acted on this flow at the same moment; reload the task.",
            code="task.conflict",
        ) from None
    _apply(
        uow, settings, actor, app_key, instance, record, effects, history_from=before, rowed=rowed
    )


# --- effects -----------------------------------------------------------------------------------


_INSERT_TASK = insert(cast(Table, Task.__table__)).returning(Task.__table__.c.id)


def _insert_task(
    uow: UnitOfWork, instance: FlowInstance, record: Record, effect: TaskOpened, app_key: str
) -> Task:
    """A new open task's row: a Core insert (the ORM's flush costs more than the statement); the
    object then joins the session as persistent, as if the ORM had inserted it."""
    values: dict[str, Any] = {
        "instance_id": instance.id,
        "key": effect.task,
        "node": effect.node,
        "kind": effect.kind,
        "app_key": app_key,
        "flow_key": instance.flow_key,
        "form_key": instance.form_key,
        "record_id": record.id,
        "assignee_id": effect.assignee,
        "status": "open",
        "outcome": None,
        "actor_id": None,
        "opinion": None,
        "created_at": uow.now,
        "acted_at": None,
    }
    with translated_errors():
        new_id = uow.session.connection().execute(_INSERT_TASK, values).scalar_one()
    row = Task(id=int(new_id), **values)
    make_transient_to_detached(row)
    uow.session.add(row)
    return row


def _task_rows(
    uow: UnitOfWork,
    instance_id: int,
    effects: Sequence[FlowEffect],
    rowed: frozenset[str] | None,
) -> dict[str, Task]:
    """The task rows the effects touch, by key: those already in the session are not read again."""
    if rowed is None:
        query = select(Task).where(Task.instance_id == instance_id)
        return {t.key: t for t in uow.session.scalars(query)}
    touched = {
        e.task for e in effects if isinstance(e, TaskOpened | TaskClosed | TaskReassigned)
    } & rowed
    rows: dict[str, Task] = {}
    for obj in uow.session.identity_map.values():
        if isinstance(obj, Task) and obj.instance_id == instance_id and obj.key in touched:
            rows[obj.key] = obj
    missing = touched - rows.keys()
    if missing:
        query = select(Task).where(Task.instance_id == instance_id, Task.key.in_(sorted(missing)))
        rows.update((t.key, t) for t in uow.session.scalars(query))
    return rows


def _apply(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    app_key: str,
    instance: FlowInstance,
    record: Record,
    effects: Sequence[FlowEffect],
    *,
    history_from: int,
    rowed: frozenset[str] | None = None,
) -> None:
    """Persist what the engine did. ``rowed``: the keys of the tasks that already have rows
    (tasks opened before the command); without it every task row of the instance is read."""
    state = instance.state
    link = {"app": app_key, "form": instance.form_key, "record": record.id, "flow": instance.id}

    def tell(user: int | None, kind: str, node: str, task: str | None, title: str = "") -> None:
        if user is not None:
            notify.notify(
                uow,
                user,
                kind=kind,
                title=title or f"{instance.flow_key}: {node}",
                payload={**link, "task": task},
            )

    def task_event(name: str, task: str, node: str, **extra: Any) -> None:
        about = {"key": task, "instance": instance.id, "node": node, "flow": instance.flow_key}
        uow.publish(
            Event(
                name,
                app_key,
                instance.form_key,
                record.id,
                actor.user_id,
                {"task": {**about, **extra}},
            )
        )

    rows = _task_rows(uow, instance.id, effects, rowed)
    for effect in effects:
        if isinstance(effect, TaskOpened):
            row = rows.get(effect.task)
            if row is None:
                rows[effect.task] = _insert_task(uow, instance, record, effect, app_key)
            else:
                row.assignee_id = effect.assignee
                row.status = "open"
            tell(effect.assignee, "task", effect.node, effect.task)
            task_event("task.created", effect.task, effect.node, assignee=effect.assignee)
        elif isinstance(effect, TaskClosed):
            row = rows.get(effect.task)
            engine_task = state["tasks"].get(effect.task, {})
            if row is None:
                continue
            row.status = "cancelled" if effect.outcome == "cancelled" else "done"
            row.outcome = effect.outcome
            row.actor_id = engine_task.get("actor")
            row.opinion = engine_task.get("opinion")
            row.acted_at = uow.now
            if row.status == "done":
                task_event("task.completed", effect.task, effect.node, outcome=effect.outcome)
        elif isinstance(effect, TaskReassigned):
            row = rows.get(effect.task)
            if row is not None:
                row.assignee_id = effect.assignee
            tell(effect.assignee, "task", effect.node, effect.task)
        elif isinstance(effect, ScheduleTimer):
            jobs.enqueue(
                uow,
                TIMER_JOB,
                {"instance": instance.id, "timer": effect.timer},
                run_at=effect.at,
            )
        elif isinstance(effect, CancelTimer):
            pass  # the engine ignores a timer it no longer holds when its job fires
        elif isinstance(effect, Notify):
            for user in effect.users:
                tell(user, effect.kind, effect.node, effect.task)
        elif isinstance(effect, Escalate):
            tell(
                manager_of(uow, effect.assignee),
                "escalation",
                effect.node,
                effect.task,
                f"{instance.flow_key}: {effect.node} is overdue",
            )
        elif isinstance(effect, CarbonCopy):
            for user in effect.users:
                uow.session.add(
                    CarbonCopyEntry(
                        instance_id=instance.id, user_id=user, node=effect.node, created_at=uow.now
                    )
                )
                tell(user, "cc", effect.node, None)
        elif isinstance(effect, RunActions):
            book = rulebook.load(uow, app_key)
            (outcome,) = automation.apply_effects(
                uow, settings, book, record, [(f"flow {instance.flow_key}", effect.effects)]
            )
            uow.audit(
                actor.user_id,
                actor.label,
                "flow.automation",
                "record",
                record.id,
                {"flow": instance.flow_key, "node": effect.node, **asdict(outcome)},
            )
        elif isinstance(effect, StartSubProcess):
            _start_child(uow, settings, actor, app_key, instance, record, effect)
        elif isinstance(effect, FlowEnded):
            instance.status = effect.status
            instance.ended_at = uow.now
            if instance.parent_id is not None and effect.status == "completed":
                _resume_parent(uow, settings, instance)
    steps = state.get("history", [])[history_from:]
    if steps:
        # One audit entry per command: what the person did, then what followed from it.
        first = steps[0]
        uow.audit(
            actor.user_id,
            actor.label,
            f"flow.{first['action']}",
            "record",
            record.id,
            {
                "flow": instance.flow_key,
                "instance": instance.id,
                "version": instance.version,
                "node": first.get("node"),
                "opinion": first.get("opinion"),
                "steps": [{k: v for k, v in e.items() if k != "at"} for e in steps],
            },
        )


def _start_child(
    uow: UnitOfWork,
    settings: Settings,
    actor: Actor,
    app_key: str,
    instance: FlowInstance,
    record: Record,
    effect: StartSubProcess,
) -> None:
    spec = effect.record
    system = Actor.system(f"flow {instance.flow_key}")
    if "field" in spec:
        target_id = record.data.get(str(spec["field"]))
        if not isinstance(target_id, int):
            raise ValidationFailed(
                f"Sub-process {effect.flow!r} needs a record in field {spec['field']!r}.",
                errors=[{"path": str(spec["field"]), "message": "is empty"}],
            )
    else:
        values = dict(spec.get("values") or {})
        created = records.create_record(uow, system, app_key, str(spec["form"]), values)
        target_id = created.record.id
    parent = (instance.id, effect.token) if effect.wait else None
    start(uow, settings, system, app_key, effect.flow, target_id, parent=parent)


def _resume_parent(uow: UnitOfWork, settings: Settings, child: FlowInstance) -> None:
    parent = uow.session.get(FlowInstance, child.parent_id)
    if parent is None or parent.status != "running" or child.parent_token is None:
        return
    app_key = _app_key(uow, parent.app_id)
    record = uow.session.get(Record, parent.record_id)
    assert record is not None
    _handle(
        uow,
        settings,
        Actor.system(f"flow {child.flow_key}"),
        app_key,
        parent,
        record,
        Command("subprocess_done", token=child.parent_token, admin=True),
    )


# --- timers, starts from events ---------------------------------------------------------------


def install(hooks: Hooks, settings: Settings) -> None:
    """Register the timer job and the flow check; start flows on record creation or when a rule
    asks."""
    events, registry = hooks.events, hooks.jobs

    def on_timer(uow: UnitOfWork, job: JobContext) -> None:
        instance = uow.session.get(FlowInstance, int(job.payload["instance"]))
        if instance is None or instance.status != "running":
            return
        record = uow.session.get(Record, instance.record_id)
        if record is None:
            return
        _handle(
            uow,
            settings,
            Actor.system("flow timer"),
            _app_key(uow, instance.app_id),
            instance,
            record,
            Command("timer_fired", timer=str(job.payload["timer"]), admin=True),
        )

    def on_requested(uow: UnitOfWork, event: Event) -> None:
        start(
            uow,
            settings,
            Actor.system(str(event.payload.get("source", "rules"))),
            event.app,
            str(event.payload["flow"]),
            event.object_id,
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
            if start_node.trigger == "condition" and not (
                start_node.condition is not None and start_node.condition.function(record.data)
            ):
                continue
            owner = uow.session.get(User, record.owner_id) if record.owner_id else None
            actor = Actor(
                user_id=owner.id if owner else None,
                username=owner.username if owner else "flows",
                is_admin=True,
                via="system",
            )
            start(uow, settings, actor, event.app, key, record.id)

    registry.register(TIMER_JOB, on_timer)
    events.subscribe("flow.start_requested", on_requested)
    events.subscribe("record.created", on_created)
    hooks.checks.register("flow", check)


# --- moving instances to another version -----------------------------------------------------------


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


# --- reading --------------------------------------------------------------------------------------


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
    """One page of a box (todo, done, cc, started) and the counts of every box, optionally only
    of one app and one flow."""
    if box not in BOXES:
        raise ValidationFailed(
            f"Unknown box {box!r}: use {', '.join(BOXES)}.",
            errors=[{"path": "box", "message": "unknown"}],
        )
    user = actor.user_id
    queries: dict[str, Any] = {
        "todo": select(Task).where(Task.assignee_id == user, Task.status == "open"),
        "done": select(Task).where(Task.actor_id == user, Task.status == "done"),
        "cc": select(CarbonCopyEntry).where(CarbonCopyEntry.user_id == user),
        "started": select(FlowInstance).where(FlowInstance.initiator_id == user),
    }
    instances = select(FlowInstance.id).join(App, App.id == FlowInstance.app_id)
    if app_key is not None:
        instances = instances.where(App.key == app_key)
    if flow_key is not None:
        instances = instances.where(FlowInstance.flow_key == flow_key)
    if app_key is not None or flow_key is not None:
        queries = {
            "todo": queries["todo"].where(Task.instance_id.in_(instances)),
            "done": queries["done"].where(Task.instance_id.in_(instances)),
            "cc": queries["cc"].where(CarbonCopyEntry.instance_id.in_(instances)),
            "started": queries["started"].where(FlowInstance.id.in_(instances)),
        }
    counts = {
        name: int(uow.session.scalar(select(func.count()).select_from(q.subquery())) or 0)
        for name, q in queries.items()
    }
    model: Any = {"todo": Task, "done": Task, "cc": CarbonCopyEntry, "started": FlowInstance}[box]
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
    """A task with what its holder may see and do: the record (hidden fields removed), field
    permissions, allowed actions, the nodes a rejection may go back to and the flow's label in
    ``lang``."""
    task = uow.session.get(Task, task_id)
    if task is None or (
        not actor.is_admin and actor.user_id not in (task.assignee_id, task.actor_id)
    ):
        raise NotFound(f"There is no task {task_id}.", code="task.not_found")
    instance = _instance(uow, task.instance_id)
    _, proc = process(uow, task.app_key, instance.flow_key, instance.version)
    node = proc.definition.nodes.get(task.node)
    record = uow.session.get(Record, instance.record_id)
    assert record is not None
    _, form = compiled.form(uow, task.app_key, instance.form_key)
    read_only: Permission = "read_only"
    permissions = (
        _permissions(node, form)
        if node is not None and node.edits_fields
        else dict.fromkeys(form.by_key, read_only)
    )
    if node is not None and node.type == "approval":
        actions = ["approve", "reject", "transfer", "delegate", "add_signer", "comment"]
    else:
        actions = ["submit", "return", "transfer", "delegate", "comment"]
    return {
        "task": task,
        "instance": instance,
        "record": {"id": record.id, "data": form.restrict(record.data, permissions)},
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
