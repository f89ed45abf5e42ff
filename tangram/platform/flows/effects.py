"""What the flow engine did, persisted: task rows and notifications, timer jobs, carbon copies,
rule actions of automation nodes, sub-process starts and the instance's end. Every step of the
engine's history becomes one audit entry on the record, so its timeline shows the flow's path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import bindparam, select

from tangram.config import Settings
from tangram.engines.flows import (
    CancelTimer,
    CarbonCopy,
    Escalate,
    FlowEffect,
    FlowEnded,
    Notify,
    RunActions,
    ScheduleTimer,
    StartSubProcess,
    TaskClosed,
    TaskOpened,
    TaskReassigned,
)
from tangram.engines.forms.fields import text
from tangram.platform import records
from tangram.platform.flows.context import manager_of
from tangram.platform.flows.definitions import process
from tangram.platform.identity.perms import Actor, administrator_ids
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import (
    NotFound,
    ValidationFailed,
)
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import (
    CarbonCopyEntry,
    FlowInstance,
    Record,
    Task,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import notify
from tangram.platform.rules import effects as rule_effects
from tangram.platform.rules import rulebook

TIMER_JOB = "flow.timer"

#: The recipient's language, for every notification's title (built once).
_LOCALE = select(User.locale).where(User.id == bindparam("user"))


def _insert_task(
    uow: UnitOfWork, instance: FlowInstance, record: Record, effect: TaskOpened, app_key: str
) -> Task:
    """A new open task's row (see :meth:`UnitOfWork.insert`)."""
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
        "due_at": effect.due,
    }
    return uow.insert(Task, values)


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


#: Published when an instance ends (payload: ``instance``, ``status``, and ``parent`` and
#: ``token`` of the instance waiting for it): the commands resume a waiting parent.
FLOW_ENDED = "flow.ended"
#: Published to start a flow on a record (payload: ``flow``, ``source``, and ``parent``: the
#: waiting instance and its token, for a sub-process); rules send it too.
START_REQUESTED = "flow.start_requested"


#: Notification titles by kind (zh-CN, en): ``{step}`` the node's label, ``{what}`` the record.
TITLES = {
    "task": ("待办：{step} · {what}", "To do: {step} · {what}"),
    "cc": ("抄送：{step} · {what}", "CC: {step} · {what}"),
    "urge": ("催办：{step} · {what}", "Reminder from the initiator: {step} · {what}"),
    "reminder": ("即将超时：{step} · {what}", "Due soon: {step} · {what}"),
    "escalation": ("已超时：{step} · {what}", "Overdue: {step} · {what}"),
    "incident": ("无人可处理的待办：{step} · {what}", "Nobody can act on: {step} · {what}"),
}


@dataclass
class _Applying:
    """One command's effects being persisted: the instance, its record and its task rows."""

    uow: UnitOfWork
    settings: Settings
    actor: Actor
    app_key: str
    instance: FlowInstance
    record: Record
    rows: dict[str, Task]

    def tell(self, user: int | None, kind: str, node: str, task: str | None) -> None:
        """Notify ``user`` (if any) about a node of the instance, titled in their language."""
        if user is None:
            return
        instance = self.instance
        link = {"app": self.app_key, "form": instance.form_key, "record": self.record.id}
        notify.notify(
            self.uow,
            user,
            kind=kind,
            title=self.title(user, kind, node),
            payload={**link, "flow": instance.id, "task": task},
        )

    def title(self, user: int, kind: str, node: str) -> str:
        """A notification's title as a sentence in the recipient's language: what happened,
        the step, and the record by its form, number and title ("待办：首次响应 · 售后工单 #12
        开机无响应")."""
        lang = self.uow.read(_LOCALE, {"user": user}).scalar() or "zh-CN"
        lang = "en" if lang == "en" else "zh-CN"
        _, proc = process(self.uow, self.app_key, self.instance.flow_key, self.instance.version)
        found = proc.definition.nodes.get(node)
        step = (text(found.label, lang) if found is not None else "") or node
        try:
            _, form = compiled.form(self.uow, self.app_key, self.instance.form_key)
        except NotFound:
            what = f"#{self.record.id}"
        else:
            held = self.record.data.get(form.title_field or "")
            name = text(form.label, lang) or form.key
            what = f"{name} #{self.record.id}" + (f" {held}" if held not in (None, "") else "")
        zh, en = TITLES.get(kind, ("{step} · {what}", "{step} · {what}"))
        return (en if lang == "en" else zh).format(step=step, what=what)

    def task_event(self, name: str, task: str, node: str, **extra: Any) -> None:
        """Publish a task event (``task.created``, ``task.completed``) for the rules."""
        instance = self.instance
        about = {"key": task, "instance": instance.id, "node": node, "flow": instance.flow_key}
        self.uow.publish(
            Event(
                name,
                self.app_key,
                instance.form_key,
                self.record.id,
                self.actor.user_id,
                {"task": {**about, **extra}},
            )
        )


def _task_opened(a: _Applying, effect: TaskOpened) -> None:
    row = a.rows.get(effect.task)
    if row is None:
        a.rows[effect.task] = _insert_task(a.uow, a.instance, a.record, effect, a.app_key)
    else:
        a.uow.update(row, {"assignee_id": effect.assignee, "status": "open", "due_at": effect.due})
    a.tell(effect.assignee, "task", effect.node, effect.task)
    if effect.assignee is None:
        _incident(a, effect)
    a.task_event("task.created", effect.task, effect.node, assignee=effect.assignee)


def _incident(a: _Applying, effect: TaskOpened) -> None:
    """A task nobody may act on: every administrator hears of it (their incidents box lists it),
    and the audit trail keeps it."""
    flow = a.instance.flow_key
    for admin in administrator_ids(a.uow.session):
        a.tell(admin, "incident", effect.node, effect.task)
    a.uow.audit(
        None,
        f"flow {flow}",
        "task.unassigned",
        "flow_instance",
        a.instance.id,
        {"task": effect.task, "node": effect.node, "record": a.record.id},
    )


def _task_closed(a: _Applying, effect: TaskClosed) -> None:
    row = a.rows.get(effect.task)
    if row is None:
        return
    engine_task = a.instance.state["tasks"].get(effect.task, {})
    a.uow.update(
        row,
        {
            "status": "cancelled" if effect.outcome == "cancelled" else "done",
            "outcome": effect.outcome,
            "actor_id": engine_task.get("actor"),
            "opinion": engine_task.get("opinion"),
            "acted_at": a.uow.now,
        },
    )
    if row.status == "done":
        a.task_event("task.completed", effect.task, effect.node, outcome=effect.outcome)


def _task_reassigned(a: _Applying, effect: TaskReassigned) -> None:
    row = a.rows.get(effect.task)
    if row is not None:
        a.uow.update(row, {"assignee_id": effect.assignee})
    a.tell(effect.assignee, "task", effect.node, effect.task)


def _schedule_timer(a: _Applying, effect: ScheduleTimer) -> None:
    payload = {"instance": a.instance.id, "timer": effect.timer}
    jobs.enqueue(a.uow, TIMER_JOB, payload, run_at=effect.at)


def _cancel_timer(_a: _Applying, _effect: CancelTimer) -> None:
    """Nothing to do: the engine ignores a timer it no longer holds when its job fires."""


def _notify(a: _Applying, effect: Notify) -> None:
    for user in effect.users:
        a.tell(user, effect.kind, effect.node, effect.task)


def _escalate(a: _Applying, effect: Escalate) -> None:
    a.tell(manager_of(a.uow, effect.assignee), "escalation", effect.node, effect.task)


def _carbon_copy(a: _Applying, effect: CarbonCopy) -> None:
    for user in effect.users:
        a.uow.session.add(
            CarbonCopyEntry(
                instance_id=a.instance.id, user_id=user, node=effect.node, created_at=a.uow.now
            )
        )
        a.tell(user, "cc", effect.node, None)


def _run_actions(a: _Applying, effect: RunActions) -> None:
    book = rulebook.load(a.uow, a.app_key)
    source = f"flow {a.instance.flow_key}"
    (outcome,) = rule_effects.apply_effects(
        a.uow, a.settings, book, a.record, [(source, effect.effects)]
    )
    a.uow.audit(
        a.actor.user_id,
        a.actor.label,
        "flow.automation",
        "record",
        a.record.id,
        {"flow": a.instance.flow_key, "node": effect.node, **asdict(outcome)},
    )


def _start_sub_process(a: _Applying, effect: StartSubProcess) -> None:
    """The sub-process's record (a field's, the one a sub-table row names, or a new one with the
    values the engine computed), then a request to start the flow on it (the commands answer it
    in this unit of work). A child the parent waits for reports back under its own key."""
    spec, instance = effect.record, a.instance
    source = f"flow {instance.flow_key}"
    if "id" in spec:
        target_id = spec["id"]
    elif "field" in spec:
        target_id = a.record.data.get(str(spec["field"]))
        if not isinstance(target_id, int):
            raise ValidationFailed(
                f"Sub-process {effect.flow!r} needs a record in field {spec['field']!r}.",
                errors=[{"path": str(spec["field"]), "message": "is empty"}],
            )
    else:
        values = dict(spec.get("values") or {})
        created = records.create_record(
            a.uow, Actor.system(source), a.app_key, str(spec["form"]), values
        )
        target_id = created.record.id
    parent = [instance.id, effect.reports_as] if effect.wait else None
    a.uow.publish(
        Event(
            START_REQUESTED,
            a.app_key,
            instance.form_key,
            target_id,
            None,
            {"flow": effect.flow, "source": source, "parent": parent},
        )
    )


def _flow_ended(a: _Applying, effect: FlowEnded) -> None:
    instance = a.instance
    instance.status = effect.status
    instance.ended_at = a.uow.now
    a.uow.publish(
        Event(
            FLOW_ENDED,
            a.app_key,
            instance.form_key,
            a.record.id,
            a.actor.user_id,
            {
                "instance": instance.id,
                "status": effect.status,
                "parent": instance.parent_id,
                "token": instance.parent_token,
            },
        )
    )


#: What persists each kind of engine effect.
_HANDLERS: dict[type[Any], Callable[[_Applying, Any], None]] = {
    TaskOpened: _task_opened,
    TaskClosed: _task_closed,
    TaskReassigned: _task_reassigned,
    ScheduleTimer: _schedule_timer,
    CancelTimer: _cancel_timer,
    Notify: _notify,
    Escalate: _escalate,
    CarbonCopy: _carbon_copy,
    RunActions: _run_actions,
    StartSubProcess: _start_sub_process,
    FlowEnded: _flow_ended,
}


def apply(
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
    rows = _task_rows(uow, instance.id, effects, rowed)
    applying = _Applying(uow, settings, actor, app_key, instance, record, rows)
    for effect in effects:
        _HANDLERS[type(effect)](applying, effect)
    steps = instance.state.get("history", [])[history_from:]
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
