"""Process definitions: nodes and edges checked completely and compiled once.

A definition::

    {"key": "approval", "label": {...}, "form": "ticket",
     "nodes": [{"id": "start", "type": "start"},
               {"id": "review", "type": "approval", "mode": "all",
                "assignees": {"role": "manager"}, "reject_to": ["start", "previous"],
                "permissions": {"cost": "read_only"}, "timeout": {"minutes": 60, "action": "remind"}},
               {"id": "done", "type": "end"}],
     "edges": [{"from": "start", "to": "review"}, {"from": "review", "to": "done"}]}

Node types and their options:

- ``start`` (``trigger``: ``manual``, ``record_created`` or ``condition`` with ``condition``;
  ``permissions`` and ``others`` as below, ``editable`` by default, for the initiator's task when
  a withdrawal or a rejection brings the instance back to the start);
- ``fill`` and ``approval`` — task nodes: ``assignees`` (an assignee rule or a list of them:
  ``{"users": [ids]}``, ``{"group": key}``, ``{"role": key}``, ``{"field": key}``,
  ``{"initiator": true}``, ``{"initiator_manager": 1}`` (N levels up), ``{"previous_actor": true}``),
  ``fallback`` (who gets the task when the rule finds nobody; the process option ``fallback`` by
  default), ``permissions`` (field → ``editable`` / ``read_only`` / ``hidden``; fields it does not name are
  ``others``, ``read_only`` by default), ``timeout``
  (``minutes``, ``business``, ``action``: ``remind``, ``escalate``, ``approve``, ``reject`` or
  ``goto`` with ``node``), ``multi`` (``over`` a sub-table with ``assignee_field``, ``mode``
  ``parallel`` or ``sequential``, ``completion`` condition), ``after_return`` (``direct``: after
  this node returns work, the resubmission comes straight back here; ``rerun``: the nodes between
  run again). Approvals have a ``mode`` (``single``, ``any``, ``all``, ``sequential``,
  ``percentage`` with ``percent``) and ``reject_to`` (``start``, ``previous`` or node ids);
* ``cc``: ``assignees`` are notified and see it in their CC box; the token moves on;
* ``exclusive``: the first outgoing edge (in order) whose ``condition`` holds, else the ``default``;
* ``parallel_split`` / ``parallel_join``; ``inclusive`` (every edge whose condition holds, or the
  default) / ``inclusive_join`` (waits for exactly the branches that ran);
* ``automation``: rule ``actions`` (set fields, create record, webhook, ...);
* ``timer``: ``minutes`` (``business`` time or not) or ``until_field`` (a date or datetime field);
* ``sub_process``: ``flow`` started on a ``record`` (``{"form": key, "values": {...}}`` to create
  one, ``{"field": key}`` for a referenced one), ``wait`` for it or not;
* ``end`` and ``terminate_end`` (ends every branch).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, VariableSpec, compile_logic
from tangram.engines.rules import Actions, compile_actions

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
    """Multi-instance: one task per sub-table row (or per user the assignee rule finds)."""

    over: str | None
    assignee_field: str | None
    sequential: bool
    completion: CompiledLogic | None


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
    wait: bool = True
    trigger: str = "manual"
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


def _rules(
    raw: Any, path: str, problems: list[Diagnostic], fields: frozenset[str] | None
) -> tuple[Mapping[str, Any], ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items):
        where = f"{path}/{i}" if isinstance(raw, list) else path
        if (
            not isinstance(item, Mapping)
            or len(item) != 1
            or next(iter(item)) not in ASSIGNEE_KINDS
        ):
            problems.append(
                Diagnostic(
                    where, "flow.assignee", f"one of {', '.join(ASSIGNEE_KINDS)} (one per rule)"
                )
            )
            continue
        ((kind, value),) = item.items()
        if kind == "users" and not (
            isinstance(value, list)
            and value
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            problems.append(Diagnostic(f"{where}/users", "flow.assignee", "a list of user ids"))
        elif kind in ("group", "role") and not (isinstance(value, str) and value):
            problems.append(Diagnostic(f"{where}/{kind}", "flow.assignee", f"a {kind} key"))
        elif kind == "field" and (
            not isinstance(value, str) or (fields is not None and value not in fields)
        ):
            problems.append(
                Diagnostic(f"{where}/field", "flow.field", f"{value!r} is not a field of the form")
            )
        elif kind == "initiator_manager" and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10
        ):
            problems.append(
                Diagnostic(f"{where}/initiator_manager", "flow.assignee", "levels up: 1 to 10")
            )
        out.append(dict(item))
    return tuple(out)


def compile_definition(
    definition: Mapping[str, Any],
    *,
    fields: frozenset[str] | None = None,
    subtables: Mapping[str, frozenset[str]] | None = None,
    flows: frozenset[str] | None = None,
    forms: frozenset[str] | None = None,
) -> ProcessDefinition:
    """Check a process definition completely (every problem with a path naming the node) and
    compile it. ``fields`` are the form's field keys, ``subtables`` the row fields of each
    sub-table, ``flows`` and ``forms`` what sub-processes and automations may name."""
    problems: list[Diagnostic] = []
    spec = VariableSpec(fields=fields) if fields is not None else None

    def logic(
        expression: Any, path: str, variables: VariableSpec | None = spec
    ) -> CompiledLogic | None:
        try:
            return compile_logic(expression, variables=variables)
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    raw_nodes = definition.get("nodes")
    raw_edges = definition.get("edges")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise DefinitionError([Diagnostic("/nodes", "flow.nodes", "needs nodes")])
    if not isinstance(raw_edges, list):
        raise DefinitionError([Diagnostic("/edges", "flow.edges", "needs a list of edges")])
    index_of: dict[str, int] = {}
    for i, raw in enumerate(raw_nodes):
        node_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(node_id, str) or not node_id:
            problems.append(Diagnostic(f"/nodes/{i}/id", "flow.node", "needs an id"))
            continue
        if node_id in index_of:
            problems.append(
                Diagnostic(f"/nodes/{i}/id", "flow.duplicate", f"node {node_id!r} is defined twice")
            )
            continue
        if raw.get("type") not in NODE_TYPES:
            problems.append(
                Diagnostic(f"/nodes/{i}/type", "flow.type", f"use one of {', '.join(NODE_TYPES)}")
            )
        index_of[node_id] = i
    edges: list[Edge] = []
    for i, raw in enumerate(raw_edges):
        if not isinstance(raw, Mapping):
            problems.append(Diagnostic(f"/edges/{i}", "flow.edge", "must be an object"))
            continue
        source, target = raw.get("from"), raw.get("to")
        for name, value in (("from", source), ("to", target)):
            if value not in index_of:
                problems.append(Diagnostic(f"/edges/{i}/{name}", "flow.edge", f"no node {value!r}"))
        condition = logic(raw["condition"], f"/edges/{i}/condition") if "condition" in raw else None
        edges.append(Edge(i, str(source), str(target), condition, bool(raw.get("default", False))))
    if problems:
        raise DefinitionError(problems)
    outgoing: dict[str, list[Edge]] = {n: [] for n in index_of}
    incoming: dict[str, list[Edge]] = {n: [] for n in index_of}
    for edge in edges:
        outgoing[edge.source].append(edge)
        incoming[edge.target].append(edge)
    nodes: dict[str, Node] = {}
    starts = []
    fallback = _rules(
        definition.get("options", {}).get("fallback"), "/options/fallback", problems, fields
    )
    for node_id, i in index_of.items():
        raw = raw_nodes[i]
        where = f"/nodes/{i}"
        kind = raw["type"]
        outs, ins = outgoing[node_id], incoming[node_id]
        options: dict[str, Any] = {}
        if kind == "start":
            starts.append(node_id)
            trigger = raw.get("trigger", "manual")
            if trigger not in ("manual", "record_created", "condition"):
                problems.append(
                    Diagnostic(
                        f"{where}/trigger", "flow.trigger", "manual, record_created or condition"
                    )
                )
            options["trigger"] = trigger
            if trigger == "condition":
                options["condition"] = logic(raw.get("condition"), f"{where}/condition")
            # the initiator's task when the instance comes back to the start (a withdrawal, a
            # rejection to the start): every field editable unless the node says otherwise
            options.update(_field_permissions(raw, where, problems, fields, "editable"))
        if kind in ("end", "terminate_end"):
            if outs:
                problems.append(
                    Diagnostic(where, "flow.end", f"end node {node_id!r} has outgoing edges")
                )
        elif not outs:
            problems.append(
                Diagnostic(where, "flow.dead_end", f"node {node_id!r} has no outgoing edge")
            )
        if kind not in ("exclusive", "inclusive", "parallel_split") and len(outs) > 1:
            problems.append(
                Diagnostic(
                    where,
                    "flow.fork",
                    f"node {node_id!r} ({kind}) has {len(outs)} outgoing edges; use a split",
                )
            )
        if kind in ("exclusive", "inclusive"):
            defaults = [e for e in outs if e.default]
            if len(defaults) != 1:
                problems.append(
                    Diagnostic(
                        where, "flow.default", f"branch {node_id!r} needs exactly one default edge"
                    )
                )
            for edge in outs:
                if not edge.default and edge.condition is None:
                    problems.append(
                        Diagnostic(
                            f"/edges/{edge.index}/condition",
                            "flow.condition",
                            "a branch edge needs a condition (or default)",
                        )
                    )
        if kind in SPLITS and len(ins) < 2:
            problems.append(
                Diagnostic(
                    where, "flow.join", f"join {node_id!r} has fewer than two incoming edges"
                )
            )
        if kind in TASK_TYPES or kind == "cc":
            options["assignees"] = _rules(
                raw.get("assignees"), f"{where}/assignees", problems, fields
            )
            if not options["assignees"] and not (kind == "fill" and raw.get("multi")):
                problems.append(
                    Diagnostic(
                        f"{where}/assignees",
                        "flow.assignee",
                        f"node {node_id!r} has no assignee rule",
                    )
                )
            options["fallback"] = _rules(raw.get("fallback"), f"{where}/fallback", problems, fields)
        if kind in TASK_TYPES:
            options.update(_field_permissions(raw, where, problems, fields, "read_only"))
            mode = raw.get("mode", "single" if kind == "approval" else "any")
            if kind == "approval" and mode not in MODES:
                problems.append(
                    Diagnostic(f"{where}/mode", "flow.mode", f"use one of {', '.join(MODES)}")
                )
            options["mode"] = mode
            percent = raw.get("percent", 100)
            if mode == "percentage" and (
                isinstance(percent, bool)
                or not isinstance(percent, int | float)
                or not 0 < percent <= 100
            ):
                problems.append(
                    Diagnostic(f"{where}/percent", "flow.percent", "a percentage in (0, 100]")
                )
            options["percent"] = float(percent) if isinstance(percent, int | float) else 100.0
            reject_to = raw.get("reject_to", ["previous"] if kind == "approval" else [])
            for r, target in enumerate(reject_to if isinstance(reject_to, list) else [reject_to]):
                if target not in ("start", "previous") and target not in index_of:
                    problems.append(
                        Diagnostic(f"{where}/reject_to/{r}", "flow.reject", f"no node {target!r}")
                    )
            options["reject_to"] = tuple(reject_to if isinstance(reject_to, list) else [reject_to])
            after = raw.get("after_return", "rerun")
            if after not in ("direct", "rerun"):
                problems.append(
                    Diagnostic(f"{where}/after_return", "flow.return", "direct or rerun")
                )
            options["after_return"] = after
            timeout = raw.get("timeout")
            if timeout is not None:
                options["timeout"] = _timeout(timeout, f"{where}/timeout", index_of, problems)
            multi = raw.get("multi")
            if multi is not None:
                options["multi"] = _multi(
                    multi, f"{where}/multi", kind, fields, subtables or {}, logic, problems
                )
        if kind == "automation":
            try:
                options["actions"] = compile_actions(
                    raw.get("actions"),
                    fields=fields,
                    forms=forms,
                    flows=flows,
                    path=f"{where}/actions",
                )
            except DefinitionError as exc:
                problems.extend(exc.diagnostics)
        if kind == "timer":
            minutes, until = raw.get("minutes"), raw.get("until_field")
            if (minutes is None) == (until is None):
                problems.append(Diagnostic(where, "flow.timer", "give minutes or until_field"))
            elif minutes is not None and (
                isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0
            ):
                problems.append(
                    Diagnostic(f"{where}/minutes", "flow.timer", "a positive number of minutes")
                )
            elif until is not None and (fields is not None and until not in fields):
                problems.append(
                    Diagnostic(
                        f"{where}/until_field",
                        "flow.field",
                        f"{until!r} is not a field of the form",
                    )
                )
            options.update(minutes=minutes, until_field=until, business=bool(raw.get("business")))
        if kind == "sub_process":
            flow = raw.get("flow")
            if not isinstance(flow, str) or (flows is not None and flow not in flows):
                problems.append(
                    Diagnostic(f"{where}/flow", "flow.sub_process", f"no flow {flow!r} in this app")
                )
            record = raw.get("record", {})
            if not isinstance(record, Mapping) or not (
                {"form"} <= set(record) or {"field"} <= set(record)
            ):
                problems.append(
                    Diagnostic(
                        f"{where}/record",
                        "flow.sub_process",
                        "{form: key, values: {...}} or {field: key}",
                    )
                )
                record = {}
            elif "field" in record and fields is not None and record["field"] not in fields:
                problems.append(
                    Diagnostic(
                        f"{where}/record/field",
                        "flow.field",
                        f"{record['field']!r} is not a field of the form",
                    )
                )
            elif "form" in record and forms is not None and record["form"] not in forms:
                problems.append(
                    Diagnostic(f"{where}/record/form", "flow.form", f"no form {record['form']!r}")
                )
            options.update(flow=str(flow), record=dict(record), wait=bool(raw.get("wait", True)))
        nodes[node_id] = Node(
            id=node_id,
            type=kind,
            label=dict(raw.get("label") or {}),
            incoming=tuple(ins),
            outgoing=tuple(outs),
            **options,
        )
    if len(starts) != 1:
        problems.append(
            Diagnostic(
                "/nodes", "flow.start", f"needs exactly one start node (found {len(starts)})"
            )
        )
    if len(starts) == 1:
        problems += _graph_problems(nodes, starts[0], index_of)
    if problems:
        raise DefinitionError(problems)
    return ProcessDefinition(
        key=str(definition.get("key", "")),
        form=str(definition.get("form", "")),
        nodes=nodes,
        start=starts[0],
        fallback=fallback,
        fields=fields,
        label=dict(definition.get("label") or {}),
    )


def _field_permissions(
    raw: Mapping[str, Any],
    where: str,
    problems: list[Diagnostic],
    fields: frozenset[str] | None,
    default: str,
) -> dict[str, Any]:
    """A node's ``permissions`` (field → level) and ``others`` (``default`` when absent)."""
    permissions = raw.get("permissions", {})
    if not isinstance(permissions, Mapping):
        problems.append(
            Diagnostic(
                f"{where}/permissions",
                "flow.permissions",
                "maps fields to editable, read_only or hidden",
            )
        )
        permissions = {}
    for key, value in permissions.items():
        if fields is not None and key not in fields:
            problems.append(
                Diagnostic(
                    f"{where}/permissions/{key}",
                    "flow.field",
                    f"{key!r} is not a field of the form",
                )
            )
        if value not in PERMISSIONS:
            problems.append(
                Diagnostic(
                    f"{where}/permissions/{key}", "flow.permission", "editable, read_only or hidden"
                )
            )
    others = raw.get("others", default)
    if others not in PERMISSIONS:
        problems.append(
            Diagnostic(f"{where}/others", "flow.permission", "editable, read_only or hidden")
        )
    return {"permissions": dict(permissions), "others": others}


def _timeout(
    raw: Any, where: str, index_of: Mapping[str, int], problems: list[Diagnostic]
) -> Timeout | None:
    if not isinstance(raw, Mapping):
        problems.append(Diagnostic(where, "flow.timeout", "must be an object"))
        return None
    minutes = raw.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
        problems.append(
            Diagnostic(f"{where}/minutes", "flow.timeout", "a positive number of minutes")
        )
        minutes = 1
    action = raw.get("action", "remind")
    if action not in TIMEOUT_ACTIONS:
        problems.append(
            Diagnostic(
                f"{where}/action", "flow.timeout", f"use one of {', '.join(TIMEOUT_ACTIONS)}"
            )
        )
    target = raw.get("node")
    if action == "goto" and target not in index_of:
        problems.append(Diagnostic(f"{where}/node", "flow.timeout", f"no node {target!r}"))
    return Timeout(float(minutes), bool(raw.get("business")), str(action), target)


def _multi(
    raw: Any,
    where: str,
    kind: str,
    fields: frozenset[str] | None,
    subtables: Mapping[str, frozenset[str]],
    logic: Any,
    problems: list[Diagnostic],
) -> Multi | None:
    if not isinstance(raw, Mapping):
        problems.append(Diagnostic(where, "flow.multi", "must be an object"))
        return None
    over = raw.get("over")
    assignee_field = raw.get("assignee_field")
    if over is not None:
        if fields is not None and over not in subtables:
            problems.append(
                Diagnostic(
                    f"{where}/over", "flow.multi", f"{over!r} is not a sub-table of the form"
                )
            )
        elif over in subtables and assignee_field not in subtables[over]:
            problems.append(
                Diagnostic(
                    f"{where}/assignee_field",
                    "flow.multi",
                    f"{assignee_field!r} is not a field of {over!r} rows",
                )
            )
    mode = raw.get("mode", "parallel")
    if mode not in ("parallel", "sequential"):
        problems.append(Diagnostic(f"{where}/mode", "flow.multi", "parallel or sequential"))
    completion = None
    if "completion" in raw:
        completion = logic(
            raw["completion"],
            f"{where}/completion",
            VariableSpec(fields=frozenset({"done", "total", "approved", "rejected"})),
        )
    return Multi(over, assignee_field, mode == "sequential", completion)


def _graph_problems(
    nodes: Mapping[str, Node], start: str, index_of: Mapping[str, int]
) -> list[Diagnostic]:
    """Unreachable nodes, nodes that cannot reach an end, joins without a matching split."""
    problems = []

    def reach(origin: Sequence[str], forward: bool) -> set[str]:
        seen = set(origin)
        queue = deque(origin)
        while queue:
            node = nodes[queue.popleft()]
            links = [
                e.target if forward else e.source
                for e in (node.outgoing if forward else node.incoming)
            ]
            # a timeout that moves the work elsewhere is a way on, too
            if forward and node.timeout is not None and node.timeout.node is not None:
                links.append(node.timeout.node)
            if not forward:
                links += [
                    n
                    for n, other in nodes.items()
                    if other.timeout is not None and other.timeout.node == node.id
                ]
            for nxt in links:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    reachable = reach([start], True)
    ends = [n for n, node in nodes.items() if node.type in ("end", "terminate_end")]
    if not ends:
        problems.append(Diagnostic("/nodes", "flow.end", "needs an end node"))
    finishing = reach(ends, False)
    for node_id, node in nodes.items():
        where = f"/nodes/{index_of[node_id]}"
        if node_id not in reachable:
            problems.append(
                Diagnostic(
                    where, "flow.unreachable", f"node {node_id!r} cannot be reached from the start"
                )
            )
        elif node_id not in finishing:
            problems.append(
                Diagnostic(where, "flow.no_end", f"node {node_id!r} cannot reach an end")
            )
        split = SPLITS.get(node.type)
        if split is not None:
            upstream = reach([node_id], False)
            if not any(nodes[n].type == split for n in upstream):
                problems.append(
                    Diagnostic(where, "flow.join", f"join {node_id!r} has no {split} before it")
                )
    return problems
