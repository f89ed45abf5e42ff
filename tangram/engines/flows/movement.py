"""Moving tokens through a process: ids and history, tokens entering nodes, what each automatic
node does (a table of steps by node type), joins and the end. Task nodes are handed to
:class:`~tangram.engines.flows.tasks.Tasks`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tangram.engines.flows.context import MAX_INSTANCES, MAX_STEPS, Context, FlowError
from tangram.engines.flows.effects import (
    CarbonCopy,
    FlowEffect,
    FlowEnded,
    RunActions,
    ScheduleTimer,
    StartSubProcess,
)
from tangram.engines.flows.nodes import Edge, Multi, Node, ProcessDefinition
from tangram.engines.logic import (
    EvalContext,
    LogicEvaluationError,
    referenced_variables,
    truthy,
)


class Movement(ABC):
    """One command's work on a copy of the state."""

    def __init__(self, definition: ProcessDefinition, state: dict[str, Any], ctx: Context) -> None:
        self.d = definition
        self.s = state
        self.ctx = ctx
        self.effects: list[FlowEffect] = []
        self.steps = 0
        self.now = ctx.stamp
        self.pending: deque[tuple[dict[str, Any], str]] = deque()
        self.draining = False

    @abstractmethod
    def activate(self, token: dict[str, Any], node: Node) -> None:
        """Open the tasks of a task node for ``token``."""

    @abstractmethod
    def assignees(self, rules: Sequence[Mapping[str, Any]]) -> list[int]:
        """The users assignee ``rules`` name."""

    @abstractmethod
    def eligible(self, node: Node, users: Sequence[int]) -> list[int]:
        """The ``users`` who may act on (or see) a task of ``node``."""

    @abstractmethod
    def cancel_everything(self) -> None:
        """Cancel every task, timer, token and join (a terminate end)."""

    @abstractmethod
    def cancel_branches(self, frames: Sequence[Any], join: Node) -> None:
        """Cancel the branches still running inside ``frames`` (a join that fired early)."""

    def new_id(self, prefix: str) -> str:
        self.s["seq"] += 1
        return f"{prefix}{self.s['seq']}"

    def log(self, node: str, actor: int | None, action: str, **extra: Any) -> None:
        entry = {"at": self.now, "node": node, "actor": actor, "action": action}
        for key, value in extra.items():
            if value is not None and value != "" and value != []:
                entry[key] = value
        self.s["history"].append(entry)

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
        if self.ctx.observe is not None:
            self.ctx.observe({"type": "enter", "node": node_id, "from": token["node"]})
        token["node"] = node_id
        token["wait"] = None
        if node.is_task:
            token["trail"].append({"node": node_id, "frames": token["frames"]})
            self.activate(token, node)
            return
        _STEPS[node.type](self, token, node)

    def rows_of(self, node: Node, multi: Multi) -> list[tuple[int, Any]]:
        """The sub-table rows a multi-instance node works on, with their places in the table:
        every row, or those its ``where`` selects (over the row's columns and ``$record``); more
        than :data:`MAX_INSTANCES` is refused, so one command never opens thousands of tasks."""
        chosen = self._chosen_rows(node, multi)
        if len(chosen) > MAX_INSTANCES:
            raise FlowError(
                "flow.multi_limit",
                f"node {node.id!r} would open {len(chosen)} instances, one per row of "
                f"{multi.over!r}; at most {MAX_INSTANCES} are allowed: split the table or narrow "
                "the node's where",
            )
        return chosen

    def _chosen_rows(self, node: Node, multi: Multi) -> list[tuple[int, Any]]:
        rows = self.ctx.data.get(multi.over) if multi.over is not None else None
        rows = rows if isinstance(rows, list) else []
        if multi.where is None:
            return list(enumerate(rows))
        record = self.ctx.variables.get("$record", self.ctx.data)
        chosen = []
        for i, row in enumerate(rows):
            data = {**(row if isinstance(row, Mapping) else {}), "$record": record}
            try:
                selected = truthy(multi.where.function(data, self.eval_context()))
            except LogicEvaluationError as exc:
                raise FlowError(
                    "flow.multi",
                    f"node {node.id!r}: where cannot be evaluated on row {i + 1} of "
                    f"{multi.over!r}: {exc.message}",
                ) from None
            if selected:
                chosen.append((i, row))
        return chosen

    def skip_rows(self, token: dict[str, Any], node: Node, multi: Multi) -> None:
        """A multi-instance node with no row to work on is skipped, and says why."""
        rows = self.ctx.data.get(multi.over) if multi.over is not None else None
        reason = (
            f"no row of {multi.over} meets the node's where condition"
            if isinstance(rows, list) and rows
            else f"{multi.over} has no rows"
        )
        self.log(node.id, None, "skipped", reason=reason)
        token["wait"] = None
        self.follow(token, node)

    def start_children(self, token: dict[str, Any], node: Node, multi: Multi) -> None:
        """A sub-process per sub-table row (those ``where`` selects): one child flow each. The
        token waits for every child (``wait``) or goes on at once."""
        assert node.flow is not None
        rows = self.rows_of(node, multi)
        if not rows:
            self.skip_rows(token, node, multi)
            return
        children = []
        for i, row in rows:
            child = self.new_id("s")
            record = self.child_record(node, row, i)
            self.effects.append(
                StartSubProcess(token["id"], node.id, node.flow, record, node.wait, child, i)
            )
            children.append(child)
        self.log(node.id, None, "sub_process", flow=node.flow, rows=[i for i, _row in rows])
        if node.wait:
            token["wait"] = "sub"
            token["children"] = children
        else:
            self.follow(token, node)

    def child_record(self, node: Node, row: Any = None, at: int | None = None) -> dict[str, Any]:
        """The record a sub-process starts on: the one a field names (with a row: the one the
        row's column names), or a new one with the node's values computed on the record (and
        the row, ``$row``)."""
        spec = node.record
        where = f"sub-process {node.id!r}" + (f", row {at + 1}" if at is not None else "")
        if "field" in spec and at is None:
            return {"field": spec["field"]}
        if "field" in spec:
            target = row.get(spec["field"]) if isinstance(row, Mapping) else None
            if not isinstance(target, int) or isinstance(target, bool):
                raise FlowError("flow.sub_process", f"{where}: {spec['field']!r} names no record")
            return {"id": target}
        data = {**self.ctx.data, **self.ctx.variables}
        if at is not None:
            data["$row"] = row
        values = {}
        for key, value in node.values.items():
            if value.logic is None:
                values[key] = value.literal
                continue
            try:
                values[key] = value.logic.function(data, self.eval_context())
            except LogicEvaluationError as exc:
                raise FlowError(
                    "flow.sub_process", f"{where}: value {key!r} cannot be computed: {exc.message}"
                ) from None
        return {"form": spec.get("form"), "values": values}

    def holds(self, condition: Any, edge: Edge | None = None) -> bool:
        """Whether a condition holds on the record; one that cannot be evaluated (a malformed
        date, a limit) refuses the command with ``flow.condition``, naming the edge, instead of
        choosing a branch by accident."""
        if condition is None:
            return True
        data = {**self.ctx.data, **self.ctx.variables}
        try:
            held = bool(condition.function(data, self.eval_context()))
        except LogicEvaluationError as exc:
            where = f"the edge {edge.source} → {edge.target}" if edge is not None else "a condition"
            raise FlowError(
                "flow.condition", f"{where} cannot be evaluated on this record: {exc.message}"
            ) from None
        if self.ctx.observe is not None and edge is not None:
            self.ctx.observe(
                {
                    "type": "condition",
                    "source": edge.source,
                    "target": edge.target,
                    "holds": held,
                    "values": {
                        name: data.get(name)
                        for name in sorted(referenced_variables(condition.expression))
                    },
                }
            )
        return held

    def ends_early(self, node: Node) -> bool:
        """Whether a timer's ``ends_when`` holds on the record now. One that cannot be evaluated
        does not end the wait: the timer still comes at its time."""
        if node.type != "timer" or node.condition is None:
            return False
        try:
            return self.holds(node.condition)
        except FlowError:
            return False

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
        """A branch reaches a join. The join fires once, when as many branches of the same split
        (and generation) arrived as it waits for: every branch the split started, or ``wait`` of
        them. Then a branch that arrives late is consumed (``remaining: ignore``); with
        ``remaining: cancel`` there is none: the others were cancelled when it fired."""
        frames = token["frames"]
        if not frames:
            self.follow(token, node)  # nothing was split: a join of one
            return
        split, generation, expected = frames[-1]
        key = f"{node.id}|{split}|{generation}"
        arrived = self.s["joins"].setdefault(key, [])
        arrived.append(token["id"])
        token["wait"] = "join"
        needed = min(node.quorum or expected, expected)
        if len(arrived) >= expected:
            del self.s["joins"][key]  # every branch is in: nothing more to wait for
        if len(arrived) > needed:
            self.consume(token, node)
            return
        if len(arrived) < needed:
            return
        for tid in arrived:
            self.s["tokens"].pop(tid, None)
        merged = self.token(frames[:-1], list(token["trail"]))
        merged["node"] = node.id
        self.log(
            node.id, None, "joined", branches=needed, of=expected if needed < expected else None
        )
        if needed < expected and node.remaining == "cancel":
            self.s["joins"].pop(key, None)
            self.cancel_branches(frames, node)
        self.follow(merged, node)

    def consume(self, token: dict[str, Any], node: Node) -> None:
        """A branch that reaches a join after it fired ends there; the instance is complete when
        it was the last one running."""
        self.remove(token)
        self.log(node.id, None, "branch_ignored")
        if not self.s["tokens"] and self.s["status"] == "running":
            self.finish("completed")

    def remove(self, token: dict[str, Any]) -> None:
        self.s["tokens"].pop(token["id"], None)

    def finish(self, status: str) -> None:
        self.s["status"] = status
        self.log(self.d.start, None, status)
        self.effects.append(FlowEnded(status))


Step = Callable[[Movement, dict[str, Any], Node], None]


def _start(run: Movement, token: dict[str, Any], node: Node) -> None:
    run.follow(token, node)


def _cc(run: Movement, token: dict[str, Any], node: Node) -> None:
    users = tuple(
        run.eligible(node, run.assignees(node.assignees))
        or run.eligible(node, run.assignees(node.fallback))
    )
    run.s["cc"].append({"node": node.id, "users": list(users), "at": run.now})
    run.log(node.id, None, "cc", users=list(users))
    run.effects.append(CarbonCopy(node.id, users))
    run.follow(token, node)


def _exclusive(run: Movement, token: dict[str, Any], node: Node) -> None:
    edge = next(
        (e for e in node.outgoing if not e.default and run.holds(e.condition, e)),
        next(e for e in node.outgoing if e.default),
    )
    run.enter(token, edge.target)


def _split(run: Movement, token: dict[str, Any], node: Node) -> None:
    if node.type == "inclusive":
        chosen = [e for e in node.outgoing if not e.default and run.holds(e.condition, e)]
        chosen = chosen or [e for e in node.outgoing if e.default]
    else:
        chosen = list(node.outgoing)
    generation = run.s["generations"].get(node.id, 0) + 1
    run.s["generations"][node.id] = generation
    run.remove(token)
    frame = [node.id, generation, len(chosen)]
    for edge in chosen:
        child = run.token([*token["frames"], frame], list(token["trail"]))
        child["node"] = node.id  # where it comes from, until it steps into the branch
        run.enter(child, edge.target)


def _join(run: Movement, token: dict[str, Any], node: Node) -> None:
    run.arrive(token, node)


def _automation(run: Movement, token: dict[str, Any], node: Node) -> None:
    assert node.actions is not None
    data = {**run.ctx.data, **run.ctx.variables}
    effects = node.actions.effects(f"flow {run.d.key}/{node.id}", data, run.eval_context())
    run.effects.append(RunActions(node.id, effects))
    run.log(node.id, None, "automation", effects=[e.type for e in effects])
    run.follow(token, node)


def _timer(run: Movement, token: dict[str, Any], node: Node) -> None:
    if run.ends_early(node):
        run.log(node.id, None, "timer_ended_early")
        run.follow(token, node)
        return
    at = run.timer_at(node)
    timer = run.new_id("t")
    run.s["timers"][timer] = {"purpose": "node", "token": token["id"], "at": at.isoformat()}
    token["wait"] = "timer"
    run.effects.append(ScheduleTimer(timer, at))


def _sub_process(run: Movement, token: dict[str, Any], node: Node) -> None:
    assert node.flow is not None
    if node.multi is not None:
        run.start_children(token, node, node.multi)
        return
    run.effects.append(
        StartSubProcess(token["id"], node.id, node.flow, run.child_record(node), node.wait)
    )
    run.log(node.id, None, "sub_process", flow=node.flow)
    if node.wait:
        token["wait"] = "sub"
    else:
        run.follow(token, node)


def _end(run: Movement, token: dict[str, Any], _node: Node) -> None:
    run.remove(token)
    if not run.s["tokens"]:
        run.finish("completed")


def _terminate_end(run: Movement, _token: dict[str, Any], _node: Node) -> None:
    run.cancel_everything()
    run.finish("terminated")


#: What a token does on entering each kind of automatic node (task nodes open tasks).
_STEPS: dict[str, Step] = {
    "start": _start,
    "cc": _cc,
    "exclusive": _exclusive,
    "parallel_split": _split,
    "inclusive": _split,
    "parallel_join": _join,
    "inclusive_join": _join,
    "automation": _automation,
    "timer": _timer,
    "sub_process": _sub_process,
    "end": _end,
    "terminate_end": _terminate_end,
}
