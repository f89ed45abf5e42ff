"""When a task node is done: the state of each of its slots (a person, a sub-table row, with the
signers added to it), and the rule of the node over them (approval modes, multi-instance
completion conditions). Cancelled tasks are not counted: a withdrawn task is neither an approval
nor a rejection, and its slot, when nothing else is left of it, is no longer part of the node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tangram.engines.flows.nodes import Node

#: Task states that may still be acted on (or will be: waiting for their turn, held by a signer).
PENDING = ("open", "waiting", "held")


@dataclass(frozen=True, slots=True)
class Tally:
    """How the slots of a node's activation stand."""

    approved: int
    pending: int
    total: int

    @classmethod
    def of(cls, tasks: Sequence[Mapping[str, Any]]) -> Tally:
        """The tally of an activation's tasks (cancelled ones left out by the caller)."""
        states = slot_states(tasks)
        return cls(
            approved=sum(1 for v in states.values() if v == "approved"),
            pending=sum(1 for v in states.values() if v == "pending"),
            total=len(states),
        )

    def reachable(self, node: Node) -> bool:
        """Whether a percentage approval can still reach its percentage."""
        return (self.approved + self.pending) * 100 >= node.percent * self.total


def slot_states(tasks: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Each slot's state: approved (every task of it approved), rejected or pending."""
    states: dict[int, str] = {}
    for t in tasks:
        slot = int(t["slot"])
        current = states.get(slot, "approved")
        if t["outcome"] == "rejected":
            states[slot] = "rejected"
        elif t["status"] in PENDING and current != "rejected":
            states[slot] = "pending"
        else:
            states.setdefault(slot, current)
    return states


def first_decides(node: Node) -> bool:
    """Whether the first approval (or submission) completes the node: a fill task for several
    people, an approval of one (``single``) or of any (``any``)."""
    if node.type == "fill":
        return node.multi is None
    return node.mode in ("single", "any")


def decided(node: Node, tally: Tally, *, approving: bool) -> bool:
    """Whether the node is done: ``approving`` when a task was just approved or submitted, else
    (a task was cancelled) only the tasks that are left decide."""
    multi = node.multi
    if multi is not None and multi.completion is not None:
        counts = {
            "done": tally.approved,
            "total": tally.total,
            "approved": tally.approved,
            "rejected": 0,
        }
        return bool(multi.completion.function(counts)) or tally.pending == 0
    if approving and first_decides(node):
        return True
    if node.type == "approval" and node.mode == "percentage":
        return tally.approved * 100 >= node.percent * tally.total or tally.pending == 0
    return tally.pending == 0
