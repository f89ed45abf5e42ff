"""Tasks of a process: who is assigned (rules, fallbacks, the initiator, the previous actor), opening
and closing tasks (approval modes, multi-instance over sub-table rows, sequential and counter-
signed), what completes a node, and sending a token back (to the start, the previous node or a
named one) with the branches opened since."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tangram.engines.flows.completion import Tally, decided
from tangram.engines.flows.context import Command, FlowError
from tangram.engines.flows.effects import (
    CancelTimer,
    ScheduleTimer,
    TaskClosed,
    TaskOpened,
)
from tangram.engines.flows.movement import Movement
from tangram.engines.flows.nodes import Node
from tangram.engines.forms import ROW_ID


class Tasks(Movement):
    """The task side of a command's work."""

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

    def eligible(self, node: Node, users: Sequence[int]) -> list[int]:
        """The ``users`` who may act on a task of ``node``; the others are named in the history."""
        check = self.ctx.can_act
        if check is None or not users:
            return list(users)
        need = node.needs
        kept = [u for u in users if check(u, need)]
        if len(kept) < len(users):
            dropped = [u for u in users if u not in kept]
            self.log(node.id, None, "not_eligible", users=dropped, need=need)
        return kept

    def people_for(self, node: Node) -> list[int]:
        """Who gets the tasks of ``node``: the first of its assignee rules, its fallback, the
        flow's fallback and the managers of the groups they name that finds people who may act;
        nobody (an unassigned task, an incident for the administrators) when none does."""
        for rules in (node.assignees, node.fallback, self.d.fallback):
            users = self.eligible(node, self.assignees(rules))
            if users:
                return users
        return self.eligible(node, self.managers(node))

    def managers(self, node: Node, named: Sequence[Mapping[str, Any]] = ()) -> list[int]:
        """The managers of the groups and people the node's rules (and ``named``) name, else of
        the record's group, as the platform's directory knows them."""
        if self.ctx.resolve is None:
            return []
        rules = [*named, *node.assignees, *node.fallback, *self.d.fallback]
        found = self.ctx.resolve({"managers_of": rules}, self.ctx.data, self.s["initiator"])
        return list(dict.fromkeys(int(u) for u in found))

    def row_holder(self, node: Node, held: int | None) -> int | None:
        """Who holds the task of one sub-table row: the user the row names when they may act,
        else the first person the fallbacks find, else that user's (or the group's) manager;
        ``None`` leaves the task unassigned."""
        if held is not None and self.eligible(node, [held]):
            return held
        for rules in (node.fallback, self.d.fallback):
            users = self.eligible(node, self.assignees(rules))
            if users:
                return users[0]
        named = [{"users": [held]}] if held is not None else []
        found = self.eligible(node, self.managers(node, named))
        return found[0] if found else None

    def activate(self, token: dict[str, Any], node: Node) -> None:
        activation = self.new_id("a")
        token["wait"] = "task"
        people: list[tuple[int | None, int | None, str | None]] = []  # (assignee, row, its id)
        multi = node.multi
        if multi is not None and multi.over is not None:
            for i, row in self.rows_of(node, multi):
                held = row.get(multi.assignee_field) if isinstance(row, Mapping) else None
                rid = row.get(ROW_ID) if isinstance(row, Mapping) else None
                owner = self.row_holder(node, held if isinstance(held, int) else None)
                people.append((owner, i, rid if isinstance(rid, str) else None))
            if not people:  # no rows (or none selected): nothing to do here
                self.skip_rows(token, node, multi)
                return
        else:
            users = self.people_for(node)
            if node.type == "approval" and node.mode == "single":
                users = users[:1]
            people = [(u, None, None) for u in users] or [(None, None, None)]
        sequential = (node.type == "approval" and node.mode == "sequential") or (
            multi is not None and multi.sequential
        )
        for slot, (user, row, row_id) in enumerate(people):
            self.open_task(
                token,
                node,
                activation,
                user,
                slot=slot,
                row=row,
                waiting=sequential and slot > 0,
                extra={"row_id": row_id} if row_id is not None else None,
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
        if node.timeout is None:
            self.effects.append(TaskOpened(task["id"], node.id, node.type, task["assignee"]))
            return
        timer = self.new_id("t")
        at = self.later(node.timeout.minutes, node.timeout.business)
        self.s["timers"][timer] = {"purpose": "timeout", "task": task["id"], "at": at.isoformat()}
        task["timer"] = timer
        self.effects.append(TaskOpened(task["id"], node.id, node.type, task["assignee"], at))
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
        if not self.reopen_held(task, node, tasks):
            self.settle(task, node, tasks, approving=True)

    def after_cancel(self, task: dict[str, Any]) -> None:
        """A task was cancelled: the signers added after it go with it, a task it was added
        before is open again; else the tasks that are left decide (a cancelled task is neither
        approved nor rejected)."""
        node = self.d.nodes[task["node"]]
        self.cancel_pending(
            [t for t in self.activation_tasks(task) if t.get("after_of") == task["id"]]
        )
        tasks = self.activation_tasks(task)
        if not self.reopen_held(task, node, tasks):
            self.settle(task, node, tasks, approving=False)

    def reopen_held(self, task: Mapping[str, Any], node: Node, tasks: Sequence[Any]) -> bool:
        """Open the task ``task`` was added before (a signer before it), if any."""
        held = [t for t in tasks if t["id"] == task.get("before_of") and t["status"] == "held"]
        if held:
            self.opened(held[0], node)
        return bool(held)

    def settle(
        self, task: dict[str, Any], node: Node, tasks: Sequence[Any], *, approving: bool
    ) -> None:
        """Complete the node when its rule says so (``approving``: a task was just approved),
        send it back when a percentage can no longer be reached, else open the next task of a
        sequence."""
        tally = Tally.of(tasks)
        token = self.s["tokens"][task["token"]]
        if node.type == "approval" and node.mode == "percentage" and not tally.reachable(node):
            self.cancel_pending(tasks)
            self.log(node.id, None, "out_of_reach", percent=node.percent)
            self.jump(token, node, (node.reject_to or ("previous",))[0], None)
            return
        if not decided(node, tally, approving=approving):
            waiting = sorted(
                (t for t in tasks if t["status"] == "waiting" and "after_of" not in t),
                key=lambda t: int(t["slot"]),
            )
            if waiting and not any(t["status"] == "open" for t in tasks):
                self.opened(waiting[0], node)  # sequential: the next in order
            return
        self.cancel_pending(tasks)
        self.log(node.id, None, "completed")
        token["wait"] = None
        self.follow(token, node)

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

    def cancel_branches(self, frames: Sequence[Any], join: Node) -> None:
        """Cancel every token inside ``frames`` (the branches of one split's generation), with
        their tasks and timers, and the joins of the splits nested in them; each is named in
        the history."""
        depth = len(frames)
        inside = [t for t in self.s["tokens"].values() if t["frames"][:depth] == list(frames)]
        nested = {(f[0], f[1]) for t in inside for f in t["frames"][depth:]}
        for key in list(self.s["joins"]):
            _join, split, generation = key.split("|")
            if (split, int(generation)) in nested:
                del self.s["joins"][key]
        for other in inside:
            tasks = [
                t["id"]
                for t in self.s["tasks"].values()
                if t["token"] == other["id"] and t["status"] in ("open", "waiting", "held")
            ]
            self.drop(other)
            # a branch that had not taken its first step yet is named by the join
            self.log(other["node"] or join.id, None, "branch_cancelled", by=join.id, tasks=tasks)

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
