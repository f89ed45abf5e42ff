"""Simulation: play a flow's draft on a stored record (or sample values) through the pure engine,
with a sequence of decisions, and tell what would happen, without writing anything.

The draft is compiled exactly as publishing would compile it, the record's data, the directory,
the business calendar and who may act come from the database as they would for a real start, and
then the engine runs: ``start``, then one command per decision (approve or submit, reject or
return, a task's timeout, a timer or a sub-process that ends). Each decision names the node (and
optionally the person) whose open task it settles; values it carries are what that step's form
would have changed. The answer is the narrative — nodes entered, conditions evaluated with the
values they read, tasks opened with their people, CCs, automations, timers — the path taken
(nodes and connections, for the canvas to play), and what waits at the end (open tasks with the
decisions each allows, timers, sub-processes), so the designer can offer the next decision.

A decision that cannot be carried out, or a flow that fails at run time (a condition that cannot
be evaluated, a loop), ends the simulation with the problem at that decision: that is an answer,
not an error of the request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tangram.engines.common import DefinitionError
from tangram.engines.flows import (
    CarbonCopy,
    Command,
    Context,
    Escalate,
    FlowEffect,
    FlowError,
    Node,
    Notify,
    Process,
    RunActions,
    StartSubProcess,
)
from tangram.engines.meta import validate_definition
from tangram.platform import metadata, records
from tangram.platform.flows.context import engine_context
from tangram.platform.flows.definitions import compile_flow
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import NotFound, ValidationFailed
from tangram.platform.kernel.models import App, Record, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled

#: The most decisions one simulation plays (a process that needs more is better tried in parts).
MAX_DECISIONS = 200
DECISIONS = ("approve", "submit", "reject", "return", "timeout", "continue")
#: The decision a task allows, by its node's type: settle it, or send it back.
_FORWARD = {"approval": "approve", "fill": "submit", "start": "submit"}
_BACK = {"approval": "reject", "fill": "return"}


def _problem(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        message, code="simulation.invalid", errors=[{"path": path, "message": message}]
    )


class _Narrator:
    """Collects what the engine tells while one command runs, then the steps it makes."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: Mapping[str, Any]) -> None:
        self.events.append(dict(event))


def _sample_record(uow: UnitOfWork, actor: Actor, app_key: str, form_key: str) -> Record:
    app_id = uow.session.scalar(select(App.id).where(App.key == app_key))
    return Record(
        id=None,
        app_id=app_id,
        form_key=form_key,
        form_version=0,
        data={},
        owner_id=actor.user_id,
        group_id=None,
    )


class _Simulation:
    def __init__(self, process: Process, ctx: Context, initiator: int | None) -> None:
        self.process = process
        self.nodes = process.definition.nodes
        self.ctx = ctx
        self.initiator = initiator
        self.data = dict(ctx.data)
        self.now = ctx.now
        self.state: dict[str, Any] = {}
        self.steps: list[dict[str, Any]] = []
        self.path: list[str] = []
        self.edges: list[list[str]] = []
        self.problem: dict[str, Any] | None = None
        self.users: set[int] = set()

    # --- running -----------------------------------------------------------------------------

    def context(self, narrator: _Narrator) -> Context:
        variables = {
            **self.ctx.variables,
            "$record": {**self.data, "_id": self.ctx.variables.get("$record", {}).get("_id")},
            "$now": self.now.isoformat(),
        }
        return dataclasses.replace(
            self.ctx, now=self.now, data=dict(self.data), variables=variables, observe=narrator
        )

    def start(self) -> None:
        narrator = _Narrator()
        started = {"kind": "started", "initiator": self.initiator, "at": self.now.isoformat()}
        self.steps.append(started)
        if self.initiator is not None:
            self.users.add(self.initiator)
        try:
            self.state, effects = self.process.start(
                self.context(narrator), initiator=self.initiator
            )
        except FlowError as exc:
            self.record(narrator, [], {}, started)
            self.problem = {"decision": None, "code": exc.code, "message": exc.message}
            return
        self.record(narrator, effects, {}, started)
        self.apply(effects)

    def decide(self, index: int, decision: Mapping[str, Any]) -> bool:
        """Play one decision; ``False`` when the simulation stops there."""
        if self.state.get("status") != "running":
            self.problem = {
                "decision": index,
                "code": "simulation.ended",
                "message": f"the flow is {self.state.get('status')}: nothing waits for a decision",
            }
            return False
        try:
            command, step = self.command(decision)
        except FlowError as exc:
            self.problem = {"decision": index, "code": exc.code, "message": exc.message}
            return False
        values = decision.get("values") or {}
        if values:
            self.data.update(values)
            step["values"] = dict(values)
        before = dict(self.state["tasks"])
        narrator = _Narrator()
        step["decision"] = index
        self.steps.append(step)
        try:
            self.state, effects = self.process.handle(self.state, command, self.context(narrator))
        except FlowError as exc:
            self.record(narrator, [], before, step)
            self.problem = {"decision": index, "code": exc.code, "message": exc.message}
            return False
        self.record(narrator, effects, before, step)
        changed = self.apply(effects) or bool(values)
        if changed and self.process.definition.waits_on_condition(self.state):
            # the platform rechecks after the write: a timer's ends_when may now hold
            before, narrator = dict(self.state["tasks"]), _Narrator()
            recheck = Command("record_changed", admin=True)
            try:
                self.state, effects = self.process.handle(
                    self.state, recheck, self.context(narrator)
                )
            except FlowError as exc:
                self.record(narrator, [], before, step)
                self.problem = {"decision": index, "code": exc.code, "message": exc.message}
                return False
            self.record(narrator, effects, before, step)
            self.apply(effects)
        return True

    def apply(self, effects: Sequence[FlowEffect]) -> bool:
        """Field values an automation sets, as the platform writes them after the command (the
        conditions of the same command still read the values before); whether any were set."""
        changed = False
        for effect in effects:
            if isinstance(effect, RunActions):
                for action in effect.effects:
                    if action.type == "set_fields":
                        self.data.update(action.params.get("values") or {})
                        changed = True
        return changed

    def command(self, decision: Mapping[str, Any]) -> tuple[Command, dict[str, Any]]:
        action = str(decision["action"])
        node_id = decision.get("node")
        user = decision.get("user")
        if action == "continue":
            return self.continuation(node_id)
        task = self.open_task(node_id, user)
        node = self.nodes[task["node"]]
        step: dict[str, Any] = {
            "kind": "decision",
            "action": action,
            "node": node.id,
            "task": task["id"],
            "user": task["assignee"],
        }
        if action == "timeout":
            timer = self.state["timers"].get(task.get("timer") or "")
            if timer is None:
                raise FlowError(
                    "simulation.no_timeout", f"the task at {node.id!r} has no time limit to run out"
                )
            self.now = max(self.now, datetime.fromisoformat(timer["at"]))
            step["at"] = self.now.isoformat()
            step["outcome"] = node.timeout.action if node.timeout is not None else None
            return Command("timer_fired", timer=task["timer"]), step
        if action in ("approve", "submit"):
            verb = _FORWARD.get(node.type, "submit")
        else:
            verb = _BACK.get(node.type, "return")
        step["action"] = verb
        opinion = str(decision.get("opinion") or "")
        if opinion:
            step["opinion"] = opinion
        target = decision.get("target")
        if target is not None:
            step["target"] = target
        if task["assignee"] is not None:
            self.users.add(task["assignee"])
        return (
            Command(
                verb,
                actor=task["assignee"],
                task=task["id"],
                opinion=opinion,
                target=target,
                admin=task["assignee"] is None,
            ),
            step,
        )

    def open_task(self, node_id: Any, user: Any) -> dict[str, Any]:
        candidates: list[dict[str, Any]] = [
            t
            for t in self.state["tasks"].values()
            if t["status"] == "open"
            and (node_id is None or t["node"] == node_id)
            and (user is None or t["assignee"] == user)
        ]
        if not candidates:
            where = f" at {node_id!r}" if node_id is not None else ""
            who = f" for user {user}" if user is not None else ""
            raise FlowError("simulation.no_task", f"no task is open{where}{who}")
        return candidates[0]

    def continuation(self, node_id: Any) -> tuple[Command, dict[str, Any]]:
        """A timer node's time comes, or a sub-process (one of its children) ends."""
        for token in self.state["tokens"].values():
            if node_id is not None and token["node"] != node_id:
                continue
            if token["wait"] == "timer":
                timer_id, timer = next(
                    (k, t) for k, t in self.state["timers"].items() if t.get("token") == token["id"]
                )
                self.now = max(self.now, datetime.fromisoformat(timer["at"]))
                step = {"kind": "decision", "action": "continue", "node": token["node"]}
                step["at"] = self.now.isoformat()
                return Command("timer_fired", timer=timer_id), step
            if token["wait"] == "sub" or token.get("children"):
                child = token["children"][0] if token.get("children") else token["id"]
                step = {"kind": "decision", "action": "continue", "node": token["node"]}
                return Command("subprocess_done", token=child), step
        where = f" at {node_id!r}" if node_id is not None else ""
        raise FlowError("simulation.not_waiting", f"no timer or sub-process waits{where}")

    # --- telling what happened -----------------------------------------------------------------

    def record(
        self,
        narrator: _Narrator,
        effects: Sequence[FlowEffect],
        before: Mapping[str, Any],
        cause: dict[str, Any],
    ) -> None:
        """Add the steps of one command (``cause``: its decision, or the start) to the story."""
        entered: dict[str, dict[str, Any]] = {}
        for event in narrator.events:
            if event["type"] == "enter":
                step = {"kind": "enter", "node": event["node"], "from": event["from"]}
                self.path.append(event["node"])
                if event["from"] is not None:
                    self.edges.append([event["from"], event["node"]])
                entered[event["node"]] = step
            else:
                step = {
                    "kind": "condition",
                    "source": event["source"],
                    "target": event["target"],
                    "holds": event["holds"],
                    "values": event["values"],
                }
            self.steps.append(step)
        for task in self.state.get("tasks", {}).values():
            if task["id"] in before or task["node"] not in entered:
                continue
            opened = {"id": task["id"], "user": task["assignee"], "status": task["status"]}
            timer = self.state["timers"].get(task.get("timer") or "")
            if timer is not None:
                opened["due"] = timer["at"]
            if task["assignee"] is not None:
                self.users.add(task["assignee"])
            entered[task["node"]].setdefault("tasks", []).append(opened)
        for effect in effects:
            self.attach(effect, entered, cause)
        for timer in self.state.get("timers", {}).values():
            if timer.get("purpose") != "node":
                continue
            token = self.state["tokens"].get(timer["token"])
            if token is not None and token["node"] in entered:
                entered[token["node"]]["until"] = timer["at"]
        if self.state.get("status") in ("completed", "terminated", "cancelled"):
            self.steps.append({"kind": "ended", "status": self.state["status"]})

    def attach(
        self,
        effect: FlowEffect,
        entered: Mapping[str, dict[str, Any]],
        cause: dict[str, Any],
    ) -> None:
        if isinstance(effect, CarbonCopy) and effect.node in entered:
            entered[effect.node]["cc"] = list(effect.users)
            self.users.update(effect.users)
        elif isinstance(effect, RunActions) and effect.node in entered:
            entered[effect.node]["actions"] = [
                {"type": e.type, "params": dict(e.params)} for e in effect.effects
            ]
        elif isinstance(effect, StartSubProcess) and effect.node in entered:
            entered[effect.node]["sub_process"] = {"flow": effect.flow, "wait": effect.wait}
        elif isinstance(effect, Notify | Escalate):
            target = entered.get(effect.node) or cause
            if isinstance(effect, Notify):
                target.setdefault("notify", []).append(
                    {"kind": effect.kind, "users": list(effect.users)}
                )
                self.users.update(effect.users)
            else:
                target.setdefault("notify", []).append(
                    {"kind": "escalation", "users": [], "assignee": effect.assignee}
                )
                if effect.assignee is not None:
                    self.users.add(effect.assignee)

    def waiting(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The open tasks with the decisions each allows, and what else waits (timers,
        sub-processes, joins)."""
        tasks: list[dict[str, Any]] = []
        for task in self.state.get("tasks", {}).values():
            if task["status"] != "open":
                continue
            node = self.nodes[task["node"]]
            allowed = [_FORWARD.get(node.type, "submit")]
            if node.id != self.process.definition.start:
                allowed.append(_BACK.get(node.type, "return"))
            timer = self.state["timers"].get(task.get("timer") or "")
            if timer is not None:
                allowed.append("timeout")
            tasks.append(
                {
                    "task": task["id"],
                    "node": node.id,
                    "kind": node.type,
                    "user": task["assignee"],
                    "actions": allowed,
                    "reject_to": _targets(node, self.process.definition.start),
                    "due": timer["at"] if timer is not None else None,
                    "timeout": node.timeout.action if node.timeout is not None else None,
                }
            )
        others: list[dict[str, Any]] = []
        for token in self.state.get("tokens", {}).values():
            if token["wait"] == "timer":
                at = next(
                    (
                        t["at"]
                        for t in self.state["timers"].values()
                        if t.get("token") == token["id"]
                    ),
                    None,
                )
                others.append({"node": token["node"], "kind": "timer", "at": at})
            elif token["wait"] == "sub" or token.get("children"):
                others.append(
                    {
                        "node": token["node"],
                        "kind": "sub_process",
                        "children": len(token.get("children") or []) or 1,
                    }
                )
            elif token["wait"] == "join":
                others.append({"node": token["node"], "kind": "join"})
        return tasks, others


def _targets(node: Node, start: str) -> list[str]:
    """Where a task of ``node`` may send the process back (``previous``, ``start`` or a node)."""
    if node.id == start or not node.is_task:
        return []
    return list(node.reject_to or ("previous",))


def simulate(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    body: Mapping[str, Any] | None = None,
    record: int | None = None,
    values: Mapping[str, Any] | None = None,
    decisions: Sequence[Mapping[str, Any]] = (),
    initiator: int | None = None,
) -> dict[str, Any]:
    """Play the draft of flow ``key`` (or ``body``) on ``record`` (or sample ``values``) with
    ``decisions``; nothing is written."""
    require_design(actor, app_key)
    view = metadata.get_definition(uow, actor, app_key, "flow", key)
    draft = dict(body) if body is not None else dict(view.definition.draft)
    if draft.get("key") != key:
        raise _problem("body/key", f"The body's key must be the flow's key {key!r}.")
    if len(decisions) > MAX_DECISIONS:
        raise _problem("decisions", f"At most {MAX_DECISIONS} decisions are played at once.")
    problems = validate_definition("flow", draft)
    try:
        if problems:
            raise DefinitionError(problems)
        process = compile_flow(uow, app_key, draft, 0)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The flow has {len(exc.diagnostics)} problem(s): fix them before simulating it.",
            exc.diagnostics,
            code="definition.invalid",
        ) from None
    form_key = process.definition.form
    _, form = compiled.form(uow, app_key, form_key)
    unknown = sorted(set(values or {}) - set(form.by_key))
    for i, decision in enumerate(decisions):
        unknown += [
            f"decisions/{i}/values/{k}"
            for k in set(decision.get("values") or {}) - set(form.by_key)
        ]
    if unknown:
        raise ValidationFailed(
            f"Form {form_key!r} has no field {unknown[0].rsplit('/', 1)[-1]!r}.",
            code="simulation.field",
            errors=[
                {"path": k if "/" in k else f"values/{k}", "message": "not a field of the form"}
                for k in unknown
            ],
        )
    if record is not None:
        stored = records.get_record(uow, actor, app_key, form_key, record)
        subject = Record(
            id=stored.id,
            app_id=stored.app_id,
            form_key=stored.form_key,
            form_version=stored.form_version,
            data={**stored.data, **(values or {})},
            owner_id=stored.owner_id,
            group_id=stored.group_id,
        )
    else:
        subject = _sample_record(uow, actor, app_key, form_key)
        subject.data = dict(values or {})
    if initiator is not None and uow.session.get(User, initiator) is None:
        raise NotFound(f"There is no user {initiator}.", code="user.not_found")
    who = initiator if initiator is not None else subject.owner_id or actor.user_id
    run = _Simulation(process, engine_context(uow, app_key, subject, form), who)
    run.start()
    if run.problem is None:
        for i, decision in enumerate(decisions):
            if not run.decide(i, decision):
                break
    tasks, others = run.waiting()
    run.users.update(t["user"] for t in tasks if t["user"] is not None)
    names = {
        int(uid): str(name)
        for uid, name in uow.session.execute(
            select(User.id, User.display_name).where(User.id.in_(run.users))
        )
    }
    return {
        "flow": key,
        "form": form_key,
        "record": record,
        "status": "stopped" if run.problem else run.state.get("status", "running"),
        "played": len(decisions) if run.problem is None else int(run.problem["decision"] or 0),
        "steps": run.steps,
        "path": run.path,
        "edges": run.edges,
        "open": tasks,
        "waiting": others,
        "problem": run.problem,
        "users": {str(k): v for k, v in sorted(names.items())},
    }
