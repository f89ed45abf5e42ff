"""What a compiled process is made of: its nodes (with the options the runtime reads), edges,
timeouts and multi-instance settings, and the process itself. :mod:`~tangram.engines.flows.definition`
builds them from a definition and checks it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.logic import CompiledLogic
from tangram.engines.rules import Actions

NODE_TYPES = (
    "start",
    "fill",
    "approval",
    "cc",
    "exclusive",
    "parallel_split",
    "parallel_join",
    "inclusive",
    "inclusive_join",
    "automation",
    "timer",
    "sub_process",
    "end",
    "terminate_end",
)
TASK_TYPES = frozenset({"fill", "approval"})
SPLITS = {"parallel_join": "parallel_split", "inclusive_join": "inclusive"}
MODES = ("single", "any", "all", "sequential", "percentage")
PERMISSIONS = ("editable", "read_only", "hidden")
TIMEOUT_ACTIONS = ("remind", "escalate", "approve", "reject", "goto")
ASSIGNEE_KINDS = (
    "users",
    "group",
    "role",
    "field",
    "initiator",
    "initiator_manager",
    "previous_actor",
)


@dataclass(frozen=True)
class Edge:
    """A compiled edge; ``index`` is its position in the definition (the evaluation order)."""

    index: int
    source: str
    target: str
    condition: CompiledLogic | None = None
    default: bool = False


@dataclass(frozen=True)
class Timeout:
    """What happens when a task of the node is left too long."""

    minutes: float
    business: bool
    action: str
    node: str | None = None


@dataclass(frozen=True)
class Multi:
    """Multi-instance: one task per sub-table row (or per user the assignee rule finds); on a
    sub-process, one child flow per row."""

    over: str | None
    assignee_field: str | None
    sequential: bool
    completion: CompiledLogic | None
    #: Which rows get a task (or a child flow): a condition over the row's columns and
    #: ``$record`` (every row when ``None``).
    where: CompiledLogic | None = None


@dataclass(frozen=True)
class Value:
    """A value a sub-process gives the record it creates: a literal, or ``{"expr": ...}``
    evaluated on the record (and the row, ``$row``, for a sub-process per sub-table row)."""

    literal: Any = None
    logic: CompiledLogic | None = None


@dataclass(frozen=True)
class Node:
    """A compiled node (options keep the parts of the definition the runtime reads)."""

    id: str
    type: str
    label: Mapping[str, str]
    incoming: tuple[Edge, ...] = ()
    outgoing: tuple[Edge, ...] = ()
    assignees: tuple[Mapping[str, Any], ...] = ()
    fallback: tuple[Mapping[str, Any], ...] = ()
    permissions: Mapping[str, str] = field(default_factory=dict)
    #: The permission of fields ``permissions`` does not name.
    others: str = "read_only"
    #: Fields this node's tasks must leave filled in to submit or approve (each editable here):
    #: what a step asks for is not skipped by an empty submission.
    required: tuple[str, ...] = ()
    mode: str = "single"
    percent: float = 100.0
    reject_to: tuple[str, ...] = ()
    timeout: Timeout | None = None
    multi: Multi | None = None
    after_return: str = "rerun"
    actions: Actions | None = None
    minutes: float | None = None
    business: bool = False
    until_field: str | None = None
    flow: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    #: The values a sub-process gives the record it creates, by field.
    values: Mapping[str, Value] = field(default_factory=dict)
    #: A sub-process: wait for it (for every one, with ``multi``) or go on at once.
    wait: bool = True
    #: A join: how many branches it waits for before it fires (``None``: every branch its split
    #: started).
    quorum: int | None = None
    #: A join that fired before every branch arrived: what becomes of the others (``ignore``:
    #: they run on and are consumed when they arrive; ``cancel``: they are cancelled).
    remaining: str = "ignore"
    trigger: str = "manual"
    #: A start's trigger condition; a timer's ``ends_when`` (the wait ends once it holds).
    condition: CompiledLogic | None = None

    @property
    def is_task(self) -> bool:
        """Whether the node waits for people (fill, approval)."""
        return self.type in TASK_TYPES

    @property
    def edits_fields(self) -> bool:
        """Whether this node's tasks may change the record's fields (under ``permissions``): task
        nodes, and the start, whose task the initiator gets when the instance comes back."""
        return self.type in TASK_TYPES or self.type == "start"

    @property
    def needs(self) -> str:
        """What acting on a task of this node takes on the record: ``update`` when the node
        lets fields be edited, else ``read``."""
        editable = "editable" in self.permissions.values() or self.others == "editable"
        return "update" if self.edits_fields and editable else "read"


@dataclass(frozen=True)
class ProcessDefinition:
    """A checked process: nodes by id, the start node, and what the platform needs to know."""

    key: str
    form: str
    nodes: Mapping[str, Node]
    start: str
    fallback: tuple[Mapping[str, Any], ...]
    #: Field keys any node's permissions name (the platform applies them with the form).
    fields: frozenset[str] | None
    #: The flow's label by language.
    label: Mapping[str, str] = field(default_factory=dict)

    @property
    def ends_on_condition(self) -> bool:
        """Whether a timer of this process ends on a condition (``ends_when``)."""
        return any(n.type == "timer" and n.condition is not None for n in self.nodes.values())

    def waits_on_condition(self, state: Mapping[str, Any]) -> bool:
        """Whether an instance in ``state`` has a token waiting at a timer that ends on a
        condition: a change of its record may move it (the command ``record_changed``)."""
        for token in state.get("tokens", {}).values():
            node = self.nodes.get(token.get("node"))
            if token.get("wait") != "timer" or node is None:
                continue
            if node.type == "timer" and node.condition is not None:
                return True
        return False
