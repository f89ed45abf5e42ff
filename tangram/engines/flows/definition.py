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
  ``permissions`` and ``others`` as below, for the initiator's task when a withdrawal or a
  rejection brings the instance back to the start: it edits the fields the node names editable,
  the others are read-only unless ``others`` says otherwise);
- ``fill`` and ``approval`` — task nodes: ``assignees`` (an assignee rule or a list of them:
  ``{"users": [ids]}``, ``{"group": key}``, ``{"role": key}``, ``{"field": key}``,
  ``{"initiator": true}``, ``{"initiator_manager": 1}`` (N levels up), ``{"previous_actor": true}``),
  ``fallback`` (who gets the task when the rule finds nobody; the process option ``fallback`` by
  default), ``permissions`` (field → ``editable`` / ``read_only`` / ``hidden``; fields it does not name are
  ``others``, ``read_only`` by default), ``required`` (fields editable at the node that a
  submission or an approval must leave filled in; also on ``start``), ``timeout``
  (``minutes``, ``business``, ``action``: ``remind``, ``escalate``, ``approve``, ``reject`` or
  ``goto`` with ``node``), ``multi`` (``over`` a sub-table with ``assignee_field``, ``mode``
  ``parallel`` or ``sequential``, ``completion`` condition), ``after_return`` (``direct``: after
  this node returns work, the resubmission comes straight back here; ``rerun``: the nodes between
  run again). Approvals have a ``mode`` (``single``, ``any``, ``all``, ``sequential``,
  ``percentage`` with ``percent``) and ``reject_to`` (``start``, ``previous`` or node ids);
* ``cc``: ``assignees`` are notified and see it in their CC box; the token moves on;
* ``exclusive``: the first outgoing edge (in order) whose ``condition`` holds, else the ``default``;
* ``parallel_split`` / ``parallel_join``; ``inclusive`` (every edge whose condition holds, or the
  default) / ``inclusive_join`` (waits for exactly the branches that ran); a join with ``wait``
  (1 to its incoming edges) fires once that many branches arrived, and ``remaining`` says what
  becomes of the others: ``ignore`` (they run on; the join consumes them) or ``cancel``;
* ``automation``: rule ``actions`` (set fields, create record, webhook, ...);
* ``timer``: ``minutes`` (``business`` time or not) or ``until_field`` (a date or datetime field),
  and ``ends_when``, a condition on the record that ends the wait before its time (checked when
  the token arrives and after each change of the record: the command ``record_changed``);
* ``sub_process``: ``flow`` started on a ``record`` (``{"form": key, "values": {...}}`` to create
  one, values literal or ``{"expr": ...}``; ``{"field": key}`` for a referenced one), ``wait`` for
  it or not; with ``multi`` (``over`` a sub-table, ``wait``, ``where``) one child per row, the
  row being ``$row`` in the values (and ``field`` a column of the rows);
* ``end`` and ``terminate_end`` (ends every branch).

The shape of every node type (enumerations, ranges, which options go together) is in the flow
meta-schema (``tangram/engines/meta/flow.schema.json``, ``if``/``then`` on ``type``), which
compilation checks first; each node type then compiles in a small function of its own, chosen
from :data:`_NODE_COMPILERS`, that checks what the node names (fields, sub-tables, nodes, flows,
forms, expressions), and the graph is checked last (:mod:`~tangram.engines.flows.graph`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.flows.graph import edge_problems, graph_problems, quorum_problems
from tangram.engines.flows.nodes import (
    NODE_TYPES,
    Edge,
    Multi,
    Node,
    ProcessDefinition,
    Timeout,
    Value,
)
from tangram.engines.logic import CONTEXT_VARIABLES, CompiledLogic, VariableSpec, compile_logic
from tangram.engines.meta import validate_definition
from tangram.engines.rules import compile_actions


def _among(value: Any, known: Collection[str]) -> bool:
    """Whether ``value`` is one of ``known`` (a value of the wrong shape never is)."""
    return isinstance(value, str) and value in known


def _text(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass
class _Compiling:
    """One compilation: what the definition may name, and every problem found so far."""

    fields: frozenset[str] | None
    subtables: Mapping[str, frozenset[str]]
    flows: frozenset[str] | None
    forms: frozenset[str] | None
    index_of: Mapping[str, int]
    problems: list[Diagnostic] = field(default_factory=list)

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Diagnostic(path, code, message))

    def logic(
        self, expression: Any, path: str, variables: VariableSpec | bool | None = True
    ) -> CompiledLogic | None:
        """``expression`` compiled (over the form's fields unless ``variables`` says otherwise),
        or ``None`` with its problems noted under ``path``."""
        if variables is True:
            variables = VariableSpec(fields=self.fields) if self.fields is not None else None
        try:
            return compile_logic(expression, variables=variables or None, strict=True)
        except DefinitionError as exc:
            self.problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    def field(self, key: Any, path: str) -> None:
        """A field the node names must be a field of the form."""
        if self.fields is not None and not _among(key, self.fields):
            self.problem(path, "flow.field", f"{key!r} is not a field of the form")

    def rules(self, raw: Any, path: str) -> tuple[Mapping[str, Any], ...]:
        """Assignee rules (their shape is the meta-schema's); the fields they name must exist."""
        items = raw if isinstance(raw, list) else [] if raw is None else [raw]
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or len(item) != 1:
                continue
            if "field" in item:
                where = f"{path}/{i}" if isinstance(raw, list) else path
                self.field(item["field"], f"{where}/field")
            out.append(dict(item))
        return tuple(out)

    def permissions(self, raw: Mapping[str, Any], where: str, default: str) -> dict[str, Any]:
        """A node's ``permissions`` (field → level), ``others`` (``default`` when absent) and
        ``required`` fields, each of which the node must let its tasks edit."""
        permissions = raw.get("permissions", {})
        permissions = permissions if isinstance(permissions, Mapping) else {}
        for key in permissions:
            self.field(key, f"{where}/permissions/{key}")
        others = raw.get("others", default)
        required = raw.get("required", [])
        required = required if isinstance(required, list) else []
        for i, key in enumerate(required):
            self.field(key, f"{where}/required/{i}")
            known = isinstance(key, str) and (self.fields is None or key in self.fields)
            if known and permissions.get(key, others) != "editable":
                self.problem(
                    f"{where}/required/{i}",
                    "flow.required",
                    f"{key!r} is required here but not editable at this node",
                )
        return {
            "permissions": dict(permissions),
            "others": others,
            "required": tuple(k for k in required if isinstance(k, str)),
        }


#: A node type's options, compiled: ``compile(c, raw node, its path) -> Node keyword arguments``.
NodeCompiler = Callable[[_Compiling, Mapping[str, Any], str], dict[str, Any]]


def _start(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    trigger = raw.get("trigger", "manual")
    options: dict[str, Any] = {"trigger": trigger}
    if trigger == "condition" and "condition" in raw:
        options["condition"] = c.logic(raw["condition"], f"{where}/condition")
    # the initiator's task when the instance comes back to the start (a withdrawal, a rejection
    # to the start) edits what the node allows, nothing else: fields it does not name are
    # read-only unless ``others`` says otherwise
    return options | c.permissions(raw, where, "read_only")


def _task(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = raw["type"]
    mode = raw.get("mode", "single" if kind == "approval" else "any")
    percent = raw.get("percent", 100)
    reject_to = raw.get("reject_to", ["previous"] if kind == "approval" else [])
    reject_to = reject_to if isinstance(reject_to, list) else [reject_to]
    for r, target in enumerate(reject_to):
        if isinstance(target, str) and not _among(target, ("start", "previous", *c.index_of)):
            c.problem(f"{where}/reject_to/{r}", "flow.reject", f"no node {target!r}")
    options: dict[str, Any] = {
        **_people(c, raw, where),
        "mode": mode,
        "percent": float(percent) if isinstance(percent, int | float) else 100.0,
        "reject_to": tuple(t for t in reject_to if isinstance(t, str)),
        "after_return": raw.get("after_return", "rerun"),
        **c.permissions(raw, where, "read_only"),
    }
    timeout = raw.get("timeout")
    if isinstance(timeout, Mapping):
        options["timeout"] = _timeout(c, timeout, f"{where}/timeout")
    multi = raw.get("multi")
    if isinstance(multi, Mapping):
        options["multi"] = _multi(c, multi, f"{where}/multi")
    return options


def _timeout(c: _Compiling, raw: Mapping[str, Any], where: str) -> Timeout:
    action, target = raw.get("action", "remind"), raw.get("node")
    if action == "goto" and isinstance(target, str) and not _among(target, c.index_of):
        c.problem(f"{where}/node", "flow.timeout", f"no node {target!r}")
    minutes = raw.get("minutes")
    minutes = minutes if isinstance(minutes, int | float) and not isinstance(minutes, bool) else 1
    return Timeout(float(minutes), bool(raw.get("business")), str(action), target)


def _multi(c: _Compiling, raw: Mapping[str, Any], where: str) -> Multi:
    over, assignee_field = raw.get("over"), raw.get("assignee_field")
    if over is not None and c.fields is not None and not _among(over, c.subtables):
        c.problem(f"{where}/over", "flow.multi", f"{over!r} is not a sub-table of the form")
    elif (
        isinstance(over, str)
        and over in c.subtables
        and not _among(assignee_field, c.subtables[over])
    ):
        c.problem(
            f"{where}/assignee_field",
            "flow.multi",
            f"{assignee_field!r} is not a field of {over!r} rows",
        )
    completion = None
    if "completion" in raw:
        counts = VariableSpec(fields=frozenset({"done", "total", "approved", "rejected"}))
        completion = c.logic(raw["completion"], f"{where}/completion", counts)
    return Multi(
        over,
        assignee_field,
        raw.get("mode") == "sequential",
        completion,
        where=_where(c, raw, where),
    )


def _explain_row(c: _Compiling, since: int) -> None:
    """Problems noted since ``since`` that read ``$row`` without ``multi`` say where it comes
    from."""
    c.problems[since:] = [
        Diagnostic(d.path, d.code, f"{d.message} ($row is there with multi only)")
        if d.code == "logic.var.unknown" and "'$row'" in d.message
        else d
        for d in c.problems[since:]
    ]


def _where(c: _Compiling, raw: Mapping[str, Any], where: str) -> CompiledLogic | None:
    """The condition that selects the rows of a multi-instance node: it reads the row's columns
    and ``$record`` (the record's fields), nothing else."""
    if "where" not in raw:
        return None
    over = raw.get("over")
    columns = c.subtables.get(over) if isinstance(over, str) else None
    rows = VariableSpec(fields=columns, context=frozenset({"$record"})) if columns else None
    try:
        return compile_logic(raw["where"], variables=rows, strict=True)
    except DefinitionError as exc:
        for d in exc.diagnostics:
            message = d.message
            if d.code == "logic.var.unknown":
                message += f" (where reads the columns of {over!r} rows and $record)"
            c.problem(f"{where}/where{d.path}", d.code, message)
        return None


def _people(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Who a task or cc node reaches: its assignee rules (a fill task over sub-table rows may go
    by the rows instead) and its fallback."""
    assignees = c.rules(raw.get("assignees"), f"{where}/assignees")
    if raw.get("assignees") is None and not (raw["type"] == "fill" and raw.get("multi")):
        c.problem(f"{where}/assignees", "flow.assignee", f"node {raw['id']!r} has no assignee rule")
    return {"assignees": assignees, "fallback": c.rules(raw.get("fallback"), f"{where}/fallback")}


def _automation(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    try:
        actions = compile_actions(
            raw.get("actions"),
            fields=c.fields,
            forms=c.forms,
            flows=c.flows,
            path=f"{where}/actions",
        )
    except DefinitionError as exc:
        c.problems.extend(exc.diagnostics)
        return {}
    return {"actions": actions}


def _timer(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    until = raw.get("until_field")
    if until is not None:
        c.field(until, f"{where}/until_field")
    options = {
        "minutes": raw.get("minutes"),
        "until_field": until,
        "business": bool(raw.get("business")),
    }
    if "ends_when" in raw:
        options["condition"] = c.logic(raw["ends_when"], f"{where}/ends_when")
    return options


def _sub_process(c: _Compiling, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    flow = raw.get("flow")
    if isinstance(flow, str) and c.flows is not None and not _among(flow, c.flows):
        c.problem(f"{where}/flow", "flow.sub_process", f"no flow {flow!r} in this app")
    multi = raw.get("multi")
    multi = multi if isinstance(multi, Mapping) else None
    over = multi.get("over") if multi is not None else None
    columns = c.subtables.get(over) if isinstance(over, str) else None
    if isinstance(over, str) and c.fields is not None and columns is None:
        c.problem(f"{where}/multi/over", "flow.multi", f"{over!r} is not a sub-table of the form")
    record = raw.get("record")
    record = dict(record) if isinstance(record, Mapping) else {}
    if "field" in record and multi is not None:
        if columns is not None and not _among(record["field"], columns):
            c.problem(
                f"{where}/record/field",
                "flow.sub_process",
                f"{record['field']!r} is not a column of {over!r} rows (with multi, each row "
                "names its record)",
            )
    elif "field" in record:
        c.field(record["field"], f"{where}/record/field")
    elif "form" in record and c.forms is not None and not _among(record["form"], c.forms):
        c.problem(f"{where}/record/form", "flow.form", f"no form {record['form']!r}")
    options: dict[str, Any] = {
        "flow": str(flow),
        "record": record,
        "values": _values(c, record.get("values"), f"{where}/record/values", multi, columns),
        "wait": _sub_wait(c, raw, multi, where),
    }
    if multi is not None:
        options["multi"] = Multi(
            over if isinstance(over, str) else None,
            None,
            False,
            None,
            where=_where(c, multi, f"{where}/multi"),
        )
    return options


def _sub_wait(
    c: _Compiling, raw: Mapping[str, Any], multi: Mapping[str, Any] | None, where: str
) -> bool:
    """Whether a sub-process waits: ``wait`` of the node, or of its ``multi``; they may not
    disagree."""
    wait = raw.get("wait", True)
    if multi is not None and "wait" in multi:
        if "wait" in raw and raw["wait"] != multi["wait"]:
            c.problem(
                f"{where}/multi/wait",
                "flow.sub_process",
                "the node's wait says otherwise: give wait once",
            )
        wait = multi["wait"]
    return bool(wait)


def _values(
    c: _Compiling,
    raw: Any,
    where: str,
    multi: Mapping[str, Any] | None,
    columns: frozenset[str] | None,
) -> dict[str, Value]:
    """The values a sub-process gives the record it creates: literals, or ``{"expr": ...}``
    over the record's fields and the context variables (and ``$row``, the row's columns, with
    ``multi``)."""
    if not isinstance(raw, Mapping):
        return {}
    variables: VariableSpec | bool = True
    if multi is not None and c.fields is not None:
        variables = VariableSpec(
            fields=c.fields,
            context=CONTEXT_VARIABLES | {"$row"},
            members={"$row": columns} if columns is not None else {},
        )
    out = {}
    for key, value in raw.items():
        if isinstance(value, Mapping) and set(value) == {"expr"}:
            found = len(c.problems)
            out[str(key)] = Value(logic=c.logic(value["expr"], f"{where}/{key}/expr", variables))
            if multi is None:
                _explain_row(c, found)
        else:
            out[str(key)] = Value(literal=value)
    return out


def _join(_c: _Compiling, raw: Mapping[str, Any], _where: str) -> dict[str, Any]:
    """A join's ``wait`` (its shape is the meta-schema's; its bound, the incoming edges, is
    checked with the edges) and what becomes of the ``remaining`` branches."""
    wait = raw.get("wait")
    quorum = wait if isinstance(wait, int) and not isinstance(wait, bool) and wait >= 1 else None
    return {"quorum": quorum, "remaining": raw.get("remaining", "ignore")}


#: What each node type compiles beyond its id, type and edges (the others have no options).
_NODE_COMPILERS: dict[str, NodeCompiler] = {
    "start": _start,
    "fill": _task,
    "approval": _task,
    "cc": _people,
    "automation": _automation,
    "timer": _timer,
    "sub_process": _sub_process,
    "parallel_join": _join,
    "inclusive_join": _join,
}


def _index(raw_nodes: Sequence[Any], problems: list[Diagnostic]) -> dict[str, int]:
    """Node ids → their position; a repeated id is a problem (shapes are the meta-schema's)."""
    index_of: dict[str, int] = {}
    for i, raw in enumerate(raw_nodes):
        node_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(node_id, str) or not node_id or raw.get("type") not in NODE_TYPES:
            continue
        if node_id in index_of:
            problems.append(
                Diagnostic(f"/nodes/{i}/id", "flow.duplicate", f"node {node_id!r} is defined twice")
            )
            continue
        index_of[node_id] = i
    return index_of


def _edges(c: _Compiling, raw_edges: Sequence[Any], structure: list[Diagnostic]) -> list[Edge]:
    """The edges, their conditions compiled; an end that names no node is a ``structure``
    problem (there is no graph to check without it)."""
    edges = []
    for i, raw in enumerate(raw_edges):
        if not isinstance(raw, Mapping):
            continue
        source, target = raw.get("from"), raw.get("to")
        for name, value in (("from", source), ("to", target)):
            if not _among(value, c.index_of):
                structure.append(
                    Diagnostic(f"/edges/{i}/{name}", "flow.edge", f"no node {value!r}")
                )
        condition = (
            c.logic(raw["condition"], f"/edges/{i}/condition") if "condition" in raw else None
        )
        edges.append(Edge(i, str(source), str(target), condition, bool(raw.get("default", False))))
    return edges


def compile_definition(
    definition: Mapping[str, Any],
    *,
    fields: frozenset[str] | None = None,
    subtables: Mapping[str, frozenset[str]] | None = None,
    flows: frozenset[str] | None = None,
    forms: frozenset[str] | None = None,
) -> ProcessDefinition:
    """Check a process definition completely (every problem with a path naming the node) and
    compile it. The flow meta-schema checks the shape of every node type; this checks what the
    nodes name (``fields`` of the form, the row fields of its ``subtables``, the app's ``flows``
    and ``forms``, the nodes themselves) and the graph."""
    shapes = validate_definition("flow", definition)
    raw_nodes, raw_edges = definition.get("nodes"), definition.get("edges")
    if not isinstance(raw_nodes, list) or not raw_nodes or not isinstance(raw_edges, list):
        raise DefinitionError(shapes)
    structure: list[Diagnostic] = []
    index_of = _index(raw_nodes, structure)
    c = _Compiling(fields, subtables or {}, flows, forms, index_of, list(shapes))
    edges = _edges(c, raw_edges, structure)
    if structure:  # the nodes and edges do not make a graph yet
        raise DefinitionError([*c.problems, *structure])
    problems = c.problems
    # edges written with a condition (one that does not compile was reported already)
    conditioned = {
        i for i, raw in enumerate(raw_edges) if isinstance(raw, Mapping) and "condition" in raw
    }
    outgoing: dict[str, list[Edge]] = {n: [] for n in index_of}
    incoming: dict[str, list[Edge]] = {n: [] for n in index_of}
    for edge in edges:
        outgoing[edge.source].append(edge)
        incoming[edge.target].append(edge)
    options = definition.get("options")
    fallback = c.rules(
        options.get("fallback") if isinstance(options, Mapping) else None, "/options/fallback"
    )
    nodes: dict[str, Node] = {}
    for node_id, i in index_of.items():
        raw, where = raw_nodes[i], f"/nodes/{i}"
        kind, outs, ins = raw["type"], outgoing[node_id], incoming[node_id]
        problems += edge_problems(node_id, kind, where, outs, ins, conditioned)
        compile_options = _NODE_COMPILERS.get(kind)
        options = compile_options(c, raw, where) if compile_options is not None else {}
        nodes[node_id] = Node(
            id=node_id,
            type=kind,
            label=_text(raw.get("label")),
            incoming=tuple(ins),
            outgoing=tuple(outs),
            **options,
        )
        problems += quorum_problems(nodes[node_id], where)
    starts = [n for n, node in nodes.items() if node.type == "start"]
    if len(starts) != 1:
        problems.append(
            Diagnostic(
                "/nodes", "flow.start", f"needs exactly one start node (found {len(starts)})"
            )
        )
    else:
        problems += graph_problems(nodes, starts[0], index_of)
    if problems:
        raise DefinitionError(problems)
    return ProcessDefinition(
        key=str(definition.get("key", "")),
        form=str(definition.get("form", "")),
        nodes=nodes,
        start=starts[0],
        fallback=fallback,
        fields=fields,
        label=_text(definition.get("label")),
    )
