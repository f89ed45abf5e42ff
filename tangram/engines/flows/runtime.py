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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tangram.engines.flows.commands import HANDLERS, Run
from tangram.engines.flows.context import (
    ACTIONS,
    SCHEMA_VERSION,
    Command,
    Context,
    FlowError,
    fork,
)
from tangram.engines.flows.effects import FlowEffect
from tangram.engines.flows.nodes import ProcessDefinition


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
        run = Run(self.definition, state, ctx)
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
        run = Run(self.definition, fork(state), ctx)
        getattr(run, HANDLERS[command.action])(command)
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
    moved = fork(state)
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
