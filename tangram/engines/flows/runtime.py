"""The token engine: ``Process.start(ctx)`` and ``Process.handle(state, command, ctx)``.

An instance's state is plain JSON (``schema_version`` first) so the platform stores it as it is and
a restored instance behaves exactly like the original. Tokens carry a stack of *frames*, one per
split they passed (``[split node, generation, branches]``); a join completes when as many tokens of
the same frame have arrived as the split started, which makes inclusive joins wait for exactly the
branches that ran and keeps loops (a split entered again) apart by generation. Each token keeps a
trail of the task nodes it went through, with its frames there, so a rejection can go back to the
start, the previous node or a named node, cancelling the branches opened since.

Pure: time, the record's data and the directory (who is in a group, who manages whom) arrive in
the :class:`Context`; what must happen outside comes back as effects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from tangram.engines.flows.definition import Node, ProcessDefinition
from tangram.engines.flows.effects import (
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
from tangram.engines.logic import EvalContext

SCHEMA_VERSION = 1
#: Automatic steps (branches, automations, ...) one command may take before it is refused as a loop.
MAX_STEPS = 1000
ACTIONS = (
    "approve",
    "reject",
    "submit",
    "return",
    "transfer",
    "delegate",
    "add_signer",
    "withdraw",
    "urge",
    "comment",
    "timer_fired",
    "subprocess_done",
    "cancel",
    "cancel_task",
)

#: ``resolve(rule, data, initiator)``: the user ids an assignee rule names (groups, roles,
#: managers); users, user fields, the initiator and the previous actor the engine finds itself.
Resolver = Callable[[Mapping[str, Any], Mapping[str, Any], int | None], Sequence[int]]


class FlowError(ValueError):
    """A command that cannot be carried out; ``code`` tells the platform which answer to give
    (``*.not_found`` 404, ``*.forbidden`` 403, ``*.conflict`` 409, else 422)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    """What the engine may know of the world for one step."""

    now: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    resolve: Resolver | None = None
    #: Adds business minutes to an instant (a business calendar's ``add_minutes``).
    business: Callable[[datetime, float], datetime] | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def stamp(self) -> str:
        """``now`` as ISO 8601 (what the history records)."""
        return self.now.isoformat()


@dataclass(frozen=True)
class Command:
    """Something a person (or a timer, or the platform) does to an instance."""

    action: str
    actor: int | None = None
    task: str | None = None
    opinion: str = ""
    target: str | None = None
    user: int | None = None
    position: str = "after"
    timer: str | None = None
    token: str | None = None
    attachments: tuple[Any, ...] = ()
    admin: bool = False


def _fork(state: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``state`` that a command may change without touching the original.

    Only what commands change in place is copied: the containers, each task and each token (and
    its trail). Frames, trail entries, timers, returns and history entries are never changed once
    written, so they are shared.
    """
    fork = dict(state)
    fork["tokens"] = {k: {**t, "trail": list(t["trail"])} for k, t in state["tokens"].items()}
    fork["tasks"] = {k: dict(t) for k, t in state["tasks"].items()}
    fork["joins"] = {k: list(v) for k, v in state["joins"].items()}
    for key in ("timers", "generations", "returns"):
        fork[key] = dict(state[key])
    for key in ("cc", "history"):
        fork[key] = list(state[key])
    return fork


#: The method of :class:`_Run` that carries out each action.
_HANDLERS = {
    "approve": "approve",
    "submit": "approve",
    "reject": "reject",
    "return": "reject",
    "transfer": "transfer",
    "delegate": "transfer",
    "add_signer": "add_signer",
    "withdraw": "withdraw",
    "urge": "urge",
    "comment": "comment",
    "timer_fired": "timer_fired",
    "subprocess_done": "subprocess_done",
    "cancel": "cancel",
    "cancel_task": "cancel_task",
}


class _Run:
    """One command's work on a copy of the state."""

    def __init__(self, process: Process, state: dict[str, Any], ctx: Context) -> None:
        self.p = process
        self.d = process.definition
        self.s = state
        self.ctx = ctx
        self.effects: list[FlowEffect] = []
        self.steps = 0
        self.now = ctx.stamp
        self.pending: deque[tuple[dict[str, Any], str]] = deque()
        self.draining = False

    # --- ids, history ---------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.s["seq"] += 1
        return f"{prefix}{self.s['seq']}"

    def log(self, node: str, actor: int | None, action: str, **extra: Any) -> None:
        entry = {"at": self.now, "node": node, "actor": actor, "action": action}
        for key, value in extra.items():
            if value is not None and value != "" and value != []:
                entry[key] = value
        self.s["history"].append(entry)

    # --- tokens ---------------------------------------------------------------------------

    def token(self, frames: list[Any], trail: list[Any]) -> dict[str, Any]:
        token = {
            "id": self.new_id("k"),
            "node": None,
            "frames": frames,
            "trail": trail,
            "wait": None,
        }
        self.s["tokens"][token["id"]] = token
        return token

    def follow(self, token: dict[str, Any], node: Node) -> None:
        """Leave ``node`` along its single outgoing edge (or jump back to a returning node)."""
        back = self.s["returns"].pop(node.id, None)
        if back is not None:
            token["frames"] = back["frames"]
            self.log(node.id, None, "resubmitted_to", target=back["node"])
            self.enter(token, back["node"])
            return
        self.enter(token, node.outgoing[0].target)

    def enter(self, token: dict[str, Any], node_id: str) -> None:
        """Move ``token`` into ``node_id``; automatic nodes run on from a queue (no recursion)."""
        self.pending.append((token, node_id))
        if self.draining:
            return
        self.draining = True
        try:
            while self.pending:
                token, node_id = self.pending.popleft()
                if token["id"] in self.s["tokens"]:  # a terminate end may have taken it
                    self.step(token, node_id)
        finally:
            self.draining = False

    def step(self, token: dict[str, Any], node_id: str) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise FlowError(
                "flow.loop",
                f"more than {MAX_STEPS} automatic steps: the process loops without waiting",
            )
        node = self.d.nodes[node_id]
        token["node"] = node_id
        token["wait"] = None
        kind = node.type
        if kind == "start":
            self.follow(token, node)
        elif node.is_task:
            token["trail"].append({"node": node_id, "frames": token["frames"]})
            self.activate(token, node)
        elif kind == "cc":
            users = tuple(self.assignees(node.assignees) or self.assignees(node.fallback))
            self.s["cc"].append({"node": node_id, "users": list(users), "at": self.now})
            self.log(node_id, None, "cc", users=list(users))
            self.effects.append(CarbonCopy(node_id, users))
            self.follow(token, node)
        elif kind == "exclusive":
            edge = next(
                (e for e in node.outgoing if not e.default and self.holds(e.condition)),
                next(e for e in node.outgoing if e.default),
            )
            self.enter(token, edge.target)
        elif kind in ("parallel_split", "inclusive"):
            if kind == "inclusive":
                chosen = [e for e in node.outgoing if not e.default and self.holds(e.condition)]
                chosen = chosen or [e for e in node.outgoing if e.default]
            else:
                chosen = list(node.outgoing)
            generation = self.s["generations"].get(node_id, 0) + 1
            self.s["generations"][node_id] = generation
            self.remove(token)
            frame = [node_id, generation, len(chosen)]
            for edge in chosen:
                child = self.token([*token["frames"], frame], list(token["trail"]))
                self.enter(child, edge.target)
        elif kind in ("parallel_join", "inclusive_join"):
            self.arrive(token, node)
        elif kind == "automation":
            assert node.actions is not None
            data = {**self.ctx.data, **self.ctx.variables}
            effects = node.actions.effects(
                f"flow {self.d.key}/{node_id}", data, self.eval_context()
            )
            self.effects.append(RunActions(node_id, effects))
            self.log(node_id, None, "automation", effects=[e.type for e in effects])
            self.follow(token, node)
        elif kind == "timer":
            at = self.timer_at(node)
            timer = self.new_id("t")
            self.s["timers"][timer] = {
                "purpose": "node",
                "token": token["id"],
                "at": at.isoformat(),
            }
            token["wait"] = "timer"
            self.effects.append(ScheduleTimer(timer, at))
        elif kind == "sub_process":
            assert node.flow is not None
            self.effects.append(
                StartSubProcess(token["id"], node_id, node.flow, dict(node.record), node.wait)
            )
            self.log(node_id, None, "sub_process", flow=node.flow)
            if node.wait:
                token["wait"] = "sub"
            else:
                self.follow(token, node)
        elif kind == "end":
            self.remove(token)
            if not self.s["tokens"]:
                self.finish("completed")
        elif kind == "terminate_end":
            self.cancel_everything()
            self.finish("terminated")

    def holds(self, condition: Any) -> bool:
        if condition is None:
            return True
        data = {**self.ctx.data, **self.ctx.variables}
        return bool(condition.function(data, self.eval_context()))

    def eval_context(self) -> EvalContext:
        return EvalContext(now=self.ctx.now)

    def timer_at(self, node: Node) -> datetime:
        if node.until_field is not None:
            raw = self.ctx.data.get(node.until_field)
            try:
                at = datetime.fromisoformat(str(raw))
            except ValueError:
                raise FlowError(
                    "flow.timer",
                    f"timer {node.id!r}: field {node.until_field!r} holds no date ({raw!r})",
                ) from None
            return at if at.tzinfo is not None else at.replace(tzinfo=self.ctx.now.tzinfo)
        return self.later(float(node.minutes or 0), node.business)

    def later(self, minutes: float, business: bool) -> datetime:
        if business and self.ctx.business is not None:
            return self.ctx.business(self.ctx.now, minutes)
        return self.ctx.now + timedelta(minutes=minutes)

    def arrive(self, token: dict[str, Any], node: Node) -> None:
        frames = token["frames"]
        if not frames:
            self.follow(token, node)  # nothing was split: a join of one
            return
        split, generation, expected = frames[-1]
        key = f"{node.id}|{split}|{generation}"
        waiting = self.s["joins"].setdefault(key, [])
        waiting.append(token["id"])
        token["wait"] = "join"
        if len(waiting) < expected:
            return
        del self.s["joins"][key]
        trail = list(token["trail"])
        for tid in waiting:
            self.s["tokens"].pop(tid, None)
        merged = self.token(frames[:-1], trail)
        merged["node"] = node.id
        self.log(node.id, None, "joined", branches=expected)
        self.follow(merged, node)

    def remove(self, token: dict[str, Any]) -> None:
        self.s["tokens"].pop(token["id"], None)

    def finish(self, status: str) -> None:
        self.s["status"] = status
        self.log(self.d.start, None, status)
        self.effects.append(FlowEnded(status))

    # --- people ---------------------------------------------------------------------------

    def assignees(self, rules: Sequence[Mapping[str, Any]]) -> list[int]:
        found: list[int] = []
        for rule in rules:
            ((kind, value),) = rule.items()
            if kind == "users":
                found += [int(v) for v in value]
            elif kind == "initiator":
                if self.s["initiator"] is not None:
                    found.append(int(self.s["initiator"]))
            elif kind == "previous_actor":
                actor = next(
                    (
                        h["actor"]
                        for h in reversed(self.s["history"])
                        if h["action"] in ("approved", "submitted") and h["actor"] is not None
                    ),
                    None,
                )
                if actor is not None:
                    found.append(int(actor))
            elif kind == "field" and self.ctx.resolve is None:
                held = self.ctx.data.get(str(value))
                for item in held if isinstance(held, list) else [held]:
                    if isinstance(item, int) and not isinstance(item, bool):
                        found.append(item)
            elif self.ctx.resolve is not None:
                found += [
                    int(u) for u in self.ctx.resolve(rule, self.ctx.data, self.s["initiator"])
                ]
        return list(dict.fromkeys(found))

    # --- task nodes -----------------------------------------------------------------------

    def activate(self, token: dict[str, Any], node: Node) -> None:
        activation = self.new_id("a")
        token["wait"] = "task"
        people: list[tuple[int | None, int | None]] = []  # (assignee, row)
        multi = node.multi
        if multi is not None and multi.over is not None:
            rows = self.ctx.data.get(multi.over) or []
            for i, row in enumerate(rows if isinstance(rows, list) else []):
                held = row.get(multi.assignee_field) if isinstance(row, Mapping) else None
                people.append((held if isinstance(held, int) else None, i))
            if not people:  # no rows: nothing to do here
                self.log(node.id, None, "skipped", reason=f"{multi.over} has no rows")
                token["wait"] = None
                self.follow(token, node)
                return
        else:
            users = self.assignees(node.assignees) or self.assignees(node.fallback)
            users = users or self.assignees(self.d.fallback)
            if node.type == "approval" and node.mode == "single":
                users = users[:1]
            people = [(u, None) for u in users] or [(None, None)]
        sequential = (node.type == "approval" and node.mode == "sequential") or (
            multi is not None and multi.sequential
        )
        for slot, (user, row) in enumerate(people):
            self.open_task(
                token, node, activation, user, slot=slot, row=row, waiting=sequential and slot > 0
            )

    def open_task(
        self,
        token: dict[str, Any],
        node: Node,
        activation: str,
        user: int | None,
        *,
        slot: int,
        row: int | None = None,
        waiting: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        task = {
            "id": self.new_id("task"),
            "node": node.id,
            "kind": node.type,
            "token": token["id"],
            "activation": activation,
            "slot": slot,
            "row": row,
            "assignee": user,
            "owner": None,
            "status": "waiting" if waiting else "open",
            "outcome": None,
            "created_at": self.now,
            "acted_at": None,
            "actor": None,
            "opinion": None,
            **(extra or {}),
        }
        self.s["tasks"][task["id"]] = task
        if not waiting:
            self.opened(task, node)
        return task

    def opened(self, task: dict[str, Any], node: Node) -> None:
        task["status"] = "open"
        task["opened_at"] = self.now
        self.effects.append(TaskOpened(task["id"], node.id, node.type, task["assignee"]))
        if node.timeout is not None:
            timer = self.new_id("t")
            at = self.later(node.timeout.minutes, node.timeout.business)
            self.s["timers"][timer] = {
                "purpose": "timeout",
                "task": task["id"],
                "at": at.isoformat(),
            }
            task["timer"] = timer
            self.effects.append(ScheduleTimer(timer, at))

    def close(self, task: dict[str, Any], status: str, outcome: str) -> None:
        task["status"] = status
        task["outcome"] = outcome
        timer = task.pop("timer", None)
        if timer is not None and self.s["timers"].pop(timer, None) is not None:
            self.effects.append(CancelTimer(timer))
        self.effects.append(TaskClosed(task["id"], task["node"], outcome))

    def activation_tasks(self, task: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            t
            for t in self.s["tasks"].values()
            if t["activation"] == task["activation"] and t["status"] != "cancelled"
        ]

    def cancel_pending(self, tasks: Sequence[dict[str, Any]]) -> None:
        for t in tasks:
            if t["status"] in ("open", "waiting", "held"):
                if t["status"] == "open" or t.get("timer"):
                    self.close(t, "cancelled", "cancelled")
                else:
                    t["status"] = "cancelled"
                    t["outcome"] = "cancelled"

    def slots(self, tasks: Sequence[Mapping[str, Any]]) -> dict[int, str]:
        """Each slot's state: approved (every task of it approved), rejected or pending."""
        states: dict[int, str] = {}
        for t in tasks:
            slot = int(t["slot"])
            current = states.get(slot, "approved")
            if t["outcome"] == "rejected":
                states[slot] = "rejected"
            elif t["status"] in ("open", "waiting", "held") and current != "rejected":
                states[slot] = "pending"
            else:
                states.setdefault(slot, current)
        return states

    def after_approval(self, task: dict[str, Any]) -> None:
        """A task was approved or submitted: open what waited on it, then see if the node is done."""
        node = self.d.nodes[task["node"]]
        tasks = self.activation_tasks(task)
        followers = [
            t for t in tasks if t.get("after_of") == task["id"] and t["status"] == "waiting"
        ]
        if followers:
            for follower in followers:
                self.opened(follower, node)
            return
        held = [t for t in tasks if t["id"] == task.get("before_of") and t["status"] == "held"]
        if held:
            self.opened(held[0], node)
            return
        slots = self.slots(tasks)
        approved = sum(1 for v in slots.values() if v == "approved")
        pending = sum(1 for v in slots.values() if v == "pending")
        total = len(slots)
        multi = node.multi
        done = False
        if multi is not None and multi.completion is not None:
            counts = {"done": approved, "total": total, "approved": approved, "rejected": 0}
            done = bool(multi.completion.function(counts)) or pending == 0
        elif node.type == "fill" and multi is None:
            done = True  # the first submission fills the node
        elif node.type == "approval" and node.mode in ("single", "any"):
            done = True
        elif node.type == "approval" and node.mode == "percentage":
            done = approved * 100 >= node.percent * total or pending == 0
        else:
            done = pending == 0
        if not done:
            waiting = sorted(
                (t for t in tasks if t["status"] == "waiting" and "after_of" not in t),
                key=lambda t: int(t["slot"]),
            )
            if waiting and not any(t["status"] == "open" for t in tasks):
                self.opened(waiting[0], node)  # sequential: the next in order
            return
        self.cancel_pending(tasks)
        self.log(node.id, None, "completed")
        token = self.s["tokens"][task["token"]]
        token["wait"] = None
        self.follow(token, node)

    # --- going back -----------------------------------------------------------------------

    def target_of(self, token: dict[str, Any], node: Node, wanted: str) -> tuple[str, list[Any]]:
        """Resolve ``start`` / ``previous`` / a node id to a node and the frames it had."""
        trail = token["trail"]
        before = [e for e in trail[:-1] if e["node"] != node.id] if trail else []
        if wanted == "start":
            return self.d.start, []
        if wanted == "previous":
            if before:
                return before[-1]["node"], before[-1]["frames"]
            return self.d.start, []
        for entry in reversed(before):
            if entry["node"] == wanted:
                return wanted, entry["frames"]
        raise FlowError(
            "flow.reject_target",
            f"node {wanted!r} is not on the path that led here: it cannot be sent back to",
        )

    def jump(self, token: dict[str, Any], node: Node, wanted: str, actor: int | None) -> None:
        target, frames = self.target_of(token, node, wanted)
        depth = len(frames)
        # branches opened since the target are abandoned: their tokens, tasks, timers, joins
        for other in list(self.s["tokens"].values()):
            if (
                other["id"] != token["id"]
                and other["frames"][:depth] == frames
                and len(other["frames"]) > depth
            ):
                self.drop(other)
        abandoned = {(f[0], f[1]) for f in token["frames"][depth:]}
        for key in list(self.s["joins"]):
            _join, split, generation = key.split("|")
            if (split, int(generation)) in abandoned:
                for tid in self.s["joins"].pop(key):
                    self.s["tokens"].pop(tid, None)
        if node.after_return == "direct" and token["frames"] == frames and target != node.id:
            self.s["returns"][target] = {"node": node.id, "frames": frames}
        token["frames"] = frames
        position = max(
            (i for i, e in enumerate(token["trail"]) if e["node"] == target), default=None
        )
        token["trail"] = token["trail"][:position] if position is not None else []
        self.log(node.id, actor, "sent_back", target=target)
        if target == self.d.start:
            self.resubmit(token, actor)
        else:
            self.enter(token, target)

    def drop(self, token: dict[str, Any]) -> None:
        for t in list(self.s["tasks"].values()):
            if t["token"] == token["id"] and t["status"] in ("open", "waiting", "held"):
                self.cancel_pending([t])
        for timer_id, timer in list(self.s["timers"].items()):
            if timer.get("token") == token["id"]:
                del self.s["timers"][timer_id]
                self.effects.append(CancelTimer(timer_id))
        self.remove(token)

    def resubmit(self, token: dict[str, Any], actor: int | None) -> None:
        """Back at the start: the initiator revises and submits again."""
        start = self.d.nodes[self.d.start]
        token["node"] = start.id
        token["wait"] = "task"
        activation = self.new_id("a")
        task = {
            "id": self.new_id("task"),
            "node": start.id,
            "kind": "fill",
            "token": token["id"],
            "activation": activation,
            "slot": 0,
            "row": None,
            "assignee": self.s["initiator"],
            "owner": None,
            "status": "open",
            "outcome": None,
            "created_at": self.now,
            "acted_at": None,
            "actor": None,
            "opinion": None,
            "opened_at": self.now,
        }
        self.s["tasks"][task["id"]] = task
        self.effects.append(TaskOpened(task["id"], start.id, "fill", self.s["initiator"]))

    def cancel_everything(self) -> None:
        for task in self.s["tasks"].values():
            if task["status"] in ("open", "waiting", "held"):
                self.cancel_pending([task])
        for timer_id in list(self.s["timers"]):
            del self.s["timers"][timer_id]
            self.effects.append(CancelTimer(timer_id))
        self.s["tokens"].clear()
        self.s["joins"].clear()

    # --- commands -------------------------------------------------------------------------

    def task_for(self, command: Command, *, acting: bool = True) -> dict[str, Any]:
        task: dict[str, Any] | None = self.s["tasks"].get(command.task or "")
        if task is None:
            raise FlowError("task.not_found", f"there is no task {command.task!r} in this instance")
        if task["status"] != "open":
            raise FlowError(
                "task.conflict",
                f"task {task['id']} is {task['status']} ({task['outcome'] or 'not open yet'}): "
                "it cannot be acted on",
            )
        if acting and not command.admin and command.actor != task["assignee"]:
            raise FlowError("task.forbidden", f"task {task['id']} is not assigned to you")
        return task

    def act(self, task: dict[str, Any], command: Command, outcome: str) -> None:
        task["acted_at"] = self.now
        task["actor"] = command.actor
        task["opinion"] = command.opinion or None
        self.close(task, "done", outcome)
        self.log(
            task["node"],
            command.actor,
            outcome,
            task=task["id"],
            opinion=command.opinion,
            attachments=list(command.attachments),
        )

    def approve(self, command: Command) -> None:
        task = self.task_for(command)
        node = self.d.nodes[task["node"]]
        if command.action == "approve" and node.type != "approval":
            raise FlowError("task.action", f"{node.id!r} is a fill task: submit it")
        if command.action == "submit" and node.type == "approval":
            raise FlowError("task.action", f"{node.id!r} is an approval: approve or reject it")
        if task.get("owner") is not None and command.actor == task["assignee"]:
            # a delegate's work goes back to the owner, who completes the task
            task["assignee"], task["owner"] = task["owner"], None
            self.log(
                task["node"], command.actor, "resolved", task=task["id"], opinion=command.opinion
            )
            self.effects.append(TaskReassigned(task["id"], node.id, task["assignee"]))
            return
        self.act(task, command, "approved" if node.type == "approval" else "submitted")
        if node.id == self.d.start:  # a resubmission after a return to the start
            token = self.s["tokens"][task["token"]]
            self.follow(token, node)
            return
        self.after_approval(task)

    def reject(self, command: Command) -> None:
        task = self.task_for(command)
        node = self.d.nodes[task["node"]]
        if node.id == self.d.start:
            raise FlowError("task.action", "the initiator's resubmission can only be submitted")
        if command.action == "reject" and node.type != "approval":
            raise FlowError("task.action", f"{node.id!r} is a fill task: return it instead")
        allowed = node.reject_to or ("previous",)
        wanted = command.target or allowed[0]
        if command.action == "return" and command.target is None:
            wanted = "previous"
        elif wanted not in allowed:
            raise FlowError(
                "flow.reject_target",
                f"{node.id!r} may send back to {', '.join(allowed)}, not {wanted!r}",
            )
        self.act(task, command, "rejected" if command.action == "reject" else "returned")
        tasks = self.activation_tasks(task)
        if node.type == "approval" and node.mode == "percentage":
            slots = self.slots(tasks)
            approved = sum(1 for v in slots.values() if v == "approved")
            pending = sum(1 for v in slots.values() if v == "pending")
            if (approved + pending) * 100 >= node.percent * len(slots):
                return  # the threshold can still be reached
        self.cancel_pending(tasks)
        token = self.s["tokens"][task["token"]]
        self.jump(token, node, wanted, command.actor)

    def transfer(self, command: Command) -> None:
        task = self.task_for(command)
        if command.user is None:
            raise FlowError("task.user", "name the user to hand the task to")
        if command.action == "delegate":
            task["owner"] = task["owner"] or task["assignee"]
        task["assignee"] = command.user
        done = {"transfer": "transferred", "delegate": "delegated"}[command.action]
        self.log(
            task["node"],
            command.actor,
            done,
            task=task["id"],
            to=command.user,
            opinion=command.opinion,
        )
        self.effects.append(TaskReassigned(task["id"], task["node"], command.user))

    def add_signer(self, command: Command) -> None:
        task = self.task_for(command)
        node = self.d.nodes[task["node"]]
        if node.type != "approval":
            raise FlowError("task.action", "signers are added to approvals")
        if command.user is None:
            raise FlowError("task.user", "name the signer to add")
        if command.position not in ("before", "after"):
            raise FlowError("task.position", "add a signer before or after you")
        token = self.s["tokens"][task["token"]]
        if command.position == "after":
            self.open_task(
                token,
                node,
                task["activation"],
                command.user,
                slot=task["slot"],
                waiting=True,
                extra={"after_of": task["id"], "added_by": command.actor},
            )
        else:
            task["status"] = "held"
            timer = task.pop("timer", None)
            if timer is not None and self.s["timers"].pop(timer, None) is not None:
                self.effects.append(CancelTimer(timer))
            self.open_task(
                token,
                node,
                task["activation"],
                command.user,
                slot=task["slot"],
                extra={"before_of": task["id"], "added_by": command.actor},
            )
        self.log(
            node.id,
            command.actor,
            f"signer_added_{command.position}",
            task=task["id"],
            to=command.user,
        )

    def withdraw(self, command: Command) -> None:
        initiator = self.s["initiator"]
        if not command.admin and command.actor != initiator:
            raise FlowError("flow.forbidden", "only the initiator may withdraw")
        acted = [
            h
            for h in self.s["history"]
            if h["action"] in ("approved", "rejected", "submitted", "returned", "resolved")
        ]
        last = acted[-1] if acted else None
        if last is not None and last["actor"] != initiator:
            raise FlowError(
                "flow.withdraw_conflict",
                f"{last['node']!r} has already been acted on: it is too late to withdraw",
            )
        open_tasks = [
            t for t in self.s["tasks"].values() if t["status"] in ("open", "waiting", "held")
        ]
        if len({t["token"] for t in open_tasks}) != 1 or len(self.s["tokens"]) != 1:
            raise FlowError(
                "flow.withdraw_conflict", "several branches are running: it cannot be withdrawn"
            )
        token = next(iter(self.s["tokens"].values()))
        self.cancel_pending(open_tasks)
        self.log(token["node"], command.actor, "withdrawn")
        if last is None or last["node"] == self.d.start:
            token["trail"] = []
            token["frames"] = []
            self.resubmit(token, command.actor)
            return
        node = self.d.nodes[last["node"]]
        position = max(i for i, e in enumerate(token["trail"]) if e["node"] == node.id)
        token["frames"] = token["trail"][position]["frames"]
        token["trail"] = token["trail"][:position]
        self.enter(token, node.id)

    def urge(self, command: Command) -> None:
        open_tasks = [t for t in self.s["tasks"].values() if t["status"] == "open"]
        if not open_tasks:
            raise FlowError("flow.urge", "no task is waiting")
        for task in open_tasks:
            if task["assignee"] is not None:
                self.effects.append(Notify((task["assignee"],), "urge", task["node"], task["id"]))
        self.log(open_tasks[0]["node"], command.actor, "urged", opinion=command.opinion)

    def comment(self, command: Command) -> None:
        if not command.opinion and not command.attachments:
            raise FlowError("flow.comment", "a comment needs text or attachments")
        node = command.task and self.s["tasks"].get(command.task, {}).get("node")
        self.log(
            node or self.d.start,
            command.actor,
            "commented",
            task=command.task,
            opinion=command.opinion,
            attachments=list(command.attachments),
        )

    def timer_fired(self, command: Command) -> None:
        timer = self.s["timers"].pop(command.timer or "", None)
        if timer is None:
            return  # cancelled or already handled: nothing is due
        if timer["purpose"] == "node":
            token = self.s["tokens"].get(timer["token"])
            if token is None:
                return
            node = self.d.nodes[token["node"]]
            self.log(node.id, None, "timer_fired")
            self.follow(token, node)
            return
        task = self.s["tasks"].get(timer["task"])
        if task is None or task["status"] != "open":
            return
        task.pop("timer", None)
        node = self.d.nodes[task["node"]]
        assert node.timeout is not None
        action = node.timeout.action
        self.log(node.id, None, f"timeout_{action}", task=task["id"])
        if action == "remind":
            if task["assignee"] is not None:
                self.effects.append(Notify((task["assignee"],), "reminder", node.id, task["id"]))
        elif action == "escalate":
            self.effects.append(Escalate(task["id"], node.id, task["assignee"]))
        elif action in ("approve", "reject"):
            system = Command(
                "approve" if node.type == "approval" else "submit",
                task=task["id"],
                admin=True,
                opinion=f"automatic after {node.timeout.minutes:g} min",
            )
            if action == "reject":
                system = Command(
                    "reject" if node.type == "approval" else "return",
                    task=task["id"],
                    admin=True,
                    opinion=system.opinion,
                )
                self.reject(system)
            else:
                self.approve(system)
        else:  # goto: the timer won the race against the task
            tasks = self.activation_tasks(task)
            self.cancel_pending(tasks)
            token = self.s["tokens"][task["token"]]
            assert node.timeout.node is not None
            self.enter(token, node.timeout.node)

    def subprocess_done(self, command: Command) -> None:
        token = self.s["tokens"].get(command.token or "")
        if token is None or token["wait"] != "sub":
            raise FlowError(
                "flow.not_waiting", f"token {command.token!r} is not waiting for a sub-process"
            )
        node = self.d.nodes[token["node"]]
        self.log(node.id, None, "sub_process_done")
        self.follow(token, node)

    def cancel(self, command: Command) -> None:
        if not command.admin and command.actor != self.s["initiator"]:
            raise FlowError("flow.forbidden", "only the initiator or an administrator may cancel")
        self.cancel_everything()
        self.log(self.d.start, command.actor, "cancelled_case", opinion=command.opinion)
        self.s["status"] = "cancelled"
        self.effects.append(FlowEnded("cancelled"))

    def cancel_task(self, command: Command) -> None:
        if not command.admin:
            raise FlowError("task.forbidden", "only an administrator may cancel a task")
        task = self.task_for(command, acting=False)
        node = self.d.nodes[task["node"]]
        self.close(task, "cancelled", "cancelled")
        self.log(node.id, command.actor, "task_cancelled", task=task["id"])
        tasks = self.activation_tasks(task)
        if any(t["status"] in ("open", "waiting", "held") for t in tasks):
            return
        token = self.s["tokens"][task["token"]]
        self.log(node.id, None, "completed")
        self.follow(token, node)


@dataclass(frozen=True)
class Process:
    """A compiled process of one definition version."""

    definition: ProcessDefinition
    version: int = 1

    def start(
        self, ctx: Context, *, initiator: int | None = None
    ) -> tuple[dict[str, Any], list[FlowEffect]]:
        """A new instance, run until it waits (tasks, timers, sub-processes) or ends."""
        state: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "process": self.definition.key,
            "version": self.version,
            "status": "running",
            "initiator": initiator,
            "seq": 0,
            "tokens": {},
            "tasks": {},
            "timers": {},
            "joins": {},
            "generations": {},
            "returns": {},
            "cc": [],
            "history": [],
        }
        run = _Run(self, state, ctx)
        run.log(self.definition.start, initiator, "started")
        token = run.token([], [])
        run.enter(token, self.definition.start)
        return state, run.effects

    def handle(
        self, state: Mapping[str, Any], command: Command, ctx: Context
    ) -> tuple[dict[str, Any], list[FlowEffect]]:
        """Apply ``command``; the given state is left untouched (a new one is returned)."""
        if state.get("schema_version") != SCHEMA_VERSION:
            raise FlowError(
                "flow.schema",
                f"instance state version {state.get('schema_version')!r} is not {SCHEMA_VERSION}",
            )
        if command.action not in ACTIONS:
            raise FlowError(
                "flow.action", f"unknown action {command.action!r}; use one of {', '.join(ACTIONS)}"
            )
        if state["status"] != "running" and command.action not in ("comment", "timer_fired"):
            task = state["tasks"].get(command.task or "")
            if task is not None:
                raise FlowError(
                    "task.conflict",
                    f"task {task['id']} is {task['status']} and the instance {state['status']}",
                )
            raise FlowError("flow.conflict", f"the instance is {state['status']}")
        run = _Run(self, _fork(state), ctx)
        getattr(run, _HANDLERS[command.action])(command)
        return run.s, run.effects


def migrate_state(
    state: Mapping[str, Any],
    source: Process,
    target: Process,
    mapping: Mapping[str, str],
    *,
    at: datetime,
) -> dict[str, Any]:
    """The state of an instance of ``source`` moved onto ``target`` with a node mapping.

    Nodes the mapping does not name keep their id. Every node that holds a token or an open task
    must exist in the target with the same type; otherwise :class:`FlowError` names it. Trail
    entries of nodes the target lacks are dropped (a later rejection cannot go back to them).
    """
    moved = _fork(state)
    problems = []

    def to(node: str) -> str:
        return mapping.get(node, node)

    for old in source.definition.nodes:
        new = to(old)
        if old in mapping and new not in target.definition.nodes:
            problems.append(f"{old!r} maps to {new!r}, which the target version does not have")
    active = {t["node"] for t in state["tokens"].values() if t["node"]} | {
        t["node"] for t in state["tasks"].values() if t["status"] in ("open", "waiting", "held")
    }
    for old in sorted(active):
        new = to(old)
        target_node = target.definition.nodes.get(new)
        if target_node is None:
            problems.append(f"active node {old!r} has no counterpart {new!r} in the target")
        elif target_node.type != source.definition.nodes[old].type:
            problems.append(
                f"active node {old!r} ({source.definition.nodes[old].type}) maps to {new!r} "
                f"({target_node.type}): the types differ"
            )
    if problems:
        raise FlowError("flow.migration", "; ".join(problems))
    for token in moved["tokens"].values():
        if token["node"]:
            token["node"] = to(token["node"])
        token["trail"] = [
            {**e, "node": to(e["node"])}
            for e in token["trail"]
            if to(e["node"]) in target.definition.nodes
        ]
    for key, task in list(moved["tasks"].items()):
        moved["tasks"][key] = {**task, "node": to(task["node"])}
    moved["joins"] = {
        "|".join([to(k.split("|")[0]), to(k.split("|")[1]), k.split("|")[2]]): v
        for k, v in moved["joins"].items()
    }
    moved["returns"] = {
        to(k): {**v, "node": to(v["node"])}
        for k, v in moved["returns"].items()
        if to(k) in target.definition.nodes and to(v["node"]) in target.definition.nodes
    }
    moved["version"] = target.version
    moved["history"].append(
        {
            "at": at.isoformat(),
            "node": target.definition.start,
            "actor": None,
            "action": "migrated",
            "from": source.version,
            "to": target.version,
            "mapping": dict(mapping),
        }
    )
    return moved
