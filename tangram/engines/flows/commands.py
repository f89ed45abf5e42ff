"""The commands of a process, one method each: approve or submit, reject or return, transfer or
delegate, add a signer, withdraw, urge, comment, a timer firing, a sub-process done, cancelling
the instance or one task."""

from __future__ import annotations

from tangram.engines.flows.completion import Tally
from tangram.engines.flows.context import Command, FlowError
from tangram.engines.flows.effects import (
    CancelTimer,
    Escalate,
    FlowEnded,
    Notify,
    TaskReassigned,
)
from tangram.engines.flows.nodes import Node
from tangram.engines.flows.tasks import Tasks


class Run(Tasks):
    """One command's work on a copy of the state: :data:`HANDLERS` names the method of each
    action."""

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
        percentage = node.type == "approval" and node.mode == "percentage"
        if percentage and Tally.of(tasks).reachable(node):
            return  # the threshold can still be reached
        self.cancel_pending(tasks)
        token = self.s["tokens"][task["token"]]
        self.jump(token, node, wanted, command.actor)

    def transfer(self, command: Command) -> None:
        task = self.task_for(command)
        if command.user is None:
            raise FlowError("task.user", "name the user to hand the task to")
        self.require_eligible(self.d.nodes[task["node"]], command.user)
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

    def require_eligible(self, node: Node, user: int) -> None:
        """Refuse to hand a task to someone who could not act on it."""
        if not self.eligible(node, [user]):
            raise FlowError(
                "task.user",
                f"user {user} cannot act on this task: no {node.needs} grant on the record, or "
                "the account is deactivated",
            )

    def add_signer(self, command: Command) -> None:
        task = self.task_for(command)
        node = self.d.nodes[task["node"]]
        if node.type != "approval":
            raise FlowError("task.action", "signers are added to approvals")
        if command.user is None:
            raise FlowError("task.user", "name the signer to add")
        self.require_eligible(node, command.user)
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

    def record_changed(self, _command: Command) -> None:
        """The record changed: every timer whose ``ends_when`` now holds ends its wait (its
        scheduled firing is cancelled) and the token moves on."""
        for key, timer in list(self.s["timers"].items()):
            if timer["purpose"] != "node" or key not in self.s["timers"]:
                continue
            token = self.s["tokens"].get(timer["token"])
            if token is None:
                continue
            node = self.d.nodes[token["node"]]
            if not self.ends_early(node):
                continue
            del self.s["timers"][key]
            self.effects.append(CancelTimer(key))
            self.log(node.id, None, "timer_ended_early")
            self.follow(token, node)

    def subprocess_done(self, command: Command) -> None:
        """A sub-process ended: ``token`` names the token waiting for it, or one child of a
        sub-process per row; the node is done when its last child is."""
        key = command.token or ""
        token = self.s["tokens"].get(key)
        if token is not None and "children" not in token:
            if token["wait"] != "sub":
                raise FlowError(
                    "flow.not_waiting", f"token {key!r} is not waiting for a sub-process"
                )
            node = self.d.nodes[token["node"]]
            self.log(node.id, None, "sub_process_done")
            self.follow(token, node)
            return
        owner = next((t for t in self.s["tokens"].values() if key in t.get("children", ())), None)
        if owner is None:
            return  # its branch was cancelled or sent back since: nothing waits for it
        node = self.d.nodes[owner["node"]]
        owner["children"] = [c for c in owner["children"] if c != key]
        self.log(node.id, None, "sub_process_done", child=key, left=len(owner["children"]))
        if owner["children"]:
            return
        del owner["children"]
        self.log(node.id, None, "completed")
        self.follow(owner, node)

    def cancel(self, command: Command) -> None:
        if not command.admin and command.actor != self.s["initiator"]:
            raise FlowError("flow.forbidden", "only the initiator or an administrator may cancel")
        self.cancel_everything()
        self.log(self.d.start, command.actor, "cancelled_case", opinion=command.opinion)
        self.s["status"] = "cancelled"
        self.effects.append(FlowEnded("cancelled"))

    def cancel_task(self, command: Command) -> None:
        """An administrator withdraws one task (WCP-19): it closes as cancelled, neither
        approved nor rejected, and the node goes on as its rule says with the tasks that are
        left; when it was the last, the node is done and the flow moves on without its effect."""
        if not command.admin:
            raise FlowError("task.forbidden", "only an administrator may cancel a task")
        task = self.task_for(command, acting=False)
        task["acted_at"] = self.now
        task["actor"] = command.actor
        task["opinion"] = command.opinion or None
        self.close(task, "cancelled", "cancelled")
        self.log(
            task["node"], command.actor, "task_cancelled", task=task["id"], opinion=command.opinion
        )
        self.after_cancel(task)


#: The method of :class:`Run` that carries out each action.
HANDLERS = {
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
    "record_changed": "record_changed",
    "subprocess_done": "subprocess_done",
    "cancel": "cancel",
    "cancel_task": "cancel_task",
}
