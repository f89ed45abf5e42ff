"""What a definition names outside itself: groups, roles and users of the directory, and the
calendars, forms, flows, decision tables, KPIs and reports of its app.

A finder per kind reads a definition body (its meta-schema shape; anything else is passed over,
since the meta-schema reports it) and returns every :class:`Reference` with the JSON pointer
that holds it:

- forms: reference fields (``form``), defaults of user and group fields (ids), and ``in_group``,
  ``has_role`` and ``kpi`` in their expressions;
- rules: their ``form``; a timer's ``calendar``; an SLA policy's ``calendar`` and ``calendars``;
  in ``actions``, ``on_warn`` and ``escalation``: recipients (``to``: group, role, user), the
  decision table an assignment reads, ``create_record``'s form and ``start_flow``'s flow;
- flows: their ``form``; assignee rules and fallbacks (group, role, users) of every node and of
  ``options``; sub-processes (flow, form); automation nodes' actions as in rules;
- KPIs: their ``form``; reports: their dataset's ``form`` and the KPIs their measures read;
  dashboards: their widgets' KPIs and reports; calendars name nothing.

:func:`app_references` reads every definition of an app at once, which also finds the groups
and roles a decision table hands out (its output cells, when an assignment reads them ``as``
a group or a role): those are the table's references.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Kinds of reference to the directory, shared by every app: by key (groups, roles) or by id
#: (users, and groups as the default of a group field).
DIRECTORY_KINDS = ("group", "role", "user", "group_id")

#: Kinds of reference to another definition of the same app.
DEFINITION_KINDS = ("calendar", "form", "flow", "rule", "kpi", "report")

#: JsonLogic operations whose first argument names something (``{"in_group": ["line_a"]}``), and
#: how many arguments they take: a one-key object of another shape (a field named ``kpi`` set to a
#: text) is not taken for one.
_NAMING_OPERATIONS = {
    "in_group": ("group", (1,)),
    "has_role": ("role", (1,)),
    "kpi": ("kpi", (2, 4)),  # [key, period] or [key, period, reference field, record id]
}


@dataclass(frozen=True, slots=True)
class Reference:
    """Something a definition names: ``kind`` (see :data:`DIRECTORY_KINDS` and
    :data:`DEFINITION_KINDS`), its ``key`` (ids as text) and the JSON pointer holding it."""

    path: str
    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class Found:
    """A reference and the definition (``kind``, ``key``) it is in."""

    kind: str
    key: str
    reference: Reference


def _key(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _items(raw: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(pointer, object)`` of a list of objects, or of one object standing alone."""
    if isinstance(raw, Mapping):
        yield path, raw
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, Mapping):
                yield f"{path}/{i}", item


def _named(raw: Mapping[str, Any], path: str, name: str, kind: str) -> list[Reference]:
    key = _key(raw.get(name))
    return [Reference(f"{path}/{name}", kind, key)] if key else []


def _logic(node: Any, path: str) -> Iterator[Reference]:
    """``in_group``, ``has_role`` and ``kpi`` with a literal first argument, anywhere below."""
    if isinstance(node, Mapping):
        if len(node) == 1:
            ((op, args),) = node.items()
            kind, arities = _NAMING_OPERATIONS.get(str(op), ("", ()))
            if kind and isinstance(args, list) and len(args) in arities and _key(args[0]):
                yield Reference(f"{path}/{op}/0", kind, args[0])
        for name, value in node.items():
            yield from _logic(value, f"{path}/{_escape(str(name))}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _logic(item, f"{path}/{i}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _recipients(raw: Any, path: str) -> list[Reference]:
    """``{group}``, ``{role}``, ``{user}`` in a rule action's ``to`` (one or a list)."""
    found = []
    for where, item in _items(raw, path):
        found += _named(item, where, "group", "group") + _named(item, where, "role", "role")
        user = _id(item.get("user"))
        if user is not None:
            found.append(Reference(f"{where}/user", "user", user))
    return found


def _assignees(raw: Any, path: str) -> list[Reference]:
    """``{group}``, ``{role}``, ``{users: [ids]}`` in flow assignee rules (one or a list)."""
    found = []
    for where, item in _items(raw, path):
        found += _named(item, where, "group", "group") + _named(item, where, "role", "role")
        users = item.get("users")
        for i, user in enumerate(users if isinstance(users, list) else []):
            if _id(user) is not None:
                found.append(Reference(f"{where}/users/{i}", "user", str(user)))
    return found


def actions(raw: Any, path: str) -> list[Reference]:
    """What rule actions name (in rules, SLA policies and flow automation nodes)."""
    found: list[Reference] = []
    for where, action in _items(raw if isinstance(raw, list) else [], path):
        found += _recipients(action.get("to"), f"{where}/to")
        kind = action.get("type")
        if kind == "assign":
            found += _named(action, where, "table", "rule")
        elif kind == "create_record":
            found += _named(action, where, "form", "form")
        elif kind == "start_flow":
            found += _named(action, where, "flow", "flow")
    return found


def _fields(raw: Any, path: str) -> list[Reference]:
    found: list[Reference] = []
    for where, f in _items(raw if isinstance(raw, list) else [], path):
        reference = f.get("reference")
        if isinstance(reference, Mapping):
            found += _named(reference, f"{where}/reference", "form", "form")
        default = _id(f.get("default"))
        if default is not None and f.get("type") in ("user", "group"):
            kind = "user" if f["type"] == "user" else "group_id"
            found.append(Reference(f"{where}/default", kind, default))
        found += _fields(f.get("fields"), f"{where}/fields")
    return found


def _form(body: Mapping[str, Any]) -> list[Reference]:
    return _fields(body.get("fields"), "/fields")


def _rule(body: Mapping[str, Any]) -> list[Reference]:
    found = _named(body, "", "form", "form")
    kind = body.get("type", "rule")
    if kind == "sla":
        found += _named(body, "", "calendar", "calendar")
        calendars = body.get("calendars")
        for name, key in calendars.items() if isinstance(calendars, Mapping) else []:
            if _key(key):
                found.append(Reference(f"/calendars/{_escape(str(name))}", "calendar", key))
        found += actions(body.get("on_warn"), "/on_warn")
        for where, level in _items(body.get("escalation") or [], "/escalation"):
            found += actions(level.get("actions"), f"{where}/actions")
    elif kind == "rule":
        trigger = body.get("trigger")
        if isinstance(trigger, Mapping):
            found += _named(trigger, "/trigger", "calendar", "calendar")
        found += actions(body.get("actions"), "/actions")
    return found


def _flow(body: Mapping[str, Any]) -> list[Reference]:
    found = _named(body, "", "form", "form")
    for where, node in _items(body.get("nodes") or [], "/nodes"):
        found += _assignees(node.get("assignees"), f"{where}/assignees")
        found += _assignees(node.get("fallback"), f"{where}/fallback")
        if node.get("type") == "sub_process":
            found += _named(node, where, "flow", "flow")
            record = node.get("record")
            if isinstance(record, Mapping):
                found += _named(record, f"{where}/record", "form", "form")
        elif node.get("type") == "automation":
            found += actions(node.get("actions"), f"{where}/actions")
    options = body.get("options")
    if isinstance(options, Mapping):
        found += _assignees(options.get("fallback"), "/options/fallback")
    return found


def _kpi(body: Mapping[str, Any]) -> list[Reference]:
    return _named(body, "", "form", "form")


def _report(body: Mapping[str, Any]) -> list[Reference]:
    dataset = body.get("dataset")
    if not isinstance(dataset, Mapping):
        return []
    found = _named(dataset, "/dataset", "form", "form")
    for where, measure in _items(dataset.get("measures") or [], "/dataset/measures"):
        found += _named(measure, where, "kpi", "kpi")
    return found


def _dashboard(body: Mapping[str, Any]) -> list[Reference]:
    found = []
    for where, widget in _items(body.get("widgets") or [], "/widgets"):
        found += _named(widget, where, "kpi", "kpi") + _named(widget, where, "report", "report")
    return found


_FINDERS = {
    "form": _form,
    "rule": _rule,
    "flow": _flow,
    "kpi": _kpi,
    "report": _report,
    "dashboard": _dashboard,
}


def references(kind: str, body: Mapping[str, Any]) -> list[Reference]:
    """Everything a definition of ``kind`` names, in order of appearance, without repeats."""
    finder = _FINDERS.get(kind)
    found = finder(body) if finder is not None else []
    found += _logic(body, "")
    return list(dict.fromkeys(found))


def _table_outputs(
    action: Mapping[str, Any], table: Mapping[str, Any]
) -> Iterator[tuple[int, int, str, str]]:
    """``(row, column, kind, key)`` of the cells an assignment reads from a decision table as a
    group or a role."""
    kind = action.get("as", "group")
    if kind not in ("group", "role"):
        return
    outputs = [o.get("key") for o in table.get("outputs") or [] if isinstance(o, Mapping)]
    if action.get("output") not in outputs:
        return
    column = outputs.index(action["output"])
    for r, row in enumerate(table.get("rules") or []):
        then = row.get("then") if isinstance(row, Mapping) else None
        if isinstance(then, list) and len(then) > column and _key(then[column]):
            yield r, column, str(kind), then[column]


def _assignments(kind: str, body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The assignment actions of a definition that read a decision table."""
    lists: list[Any] = []
    if kind == "rule":
        lists += [body.get("actions"), body.get("on_warn")]
        lists += [
            level.get("actions")
            for level in body.get("escalation") or []
            if isinstance(level, Mapping)
        ]
    elif kind == "flow":
        lists += [
            node.get("actions")
            for node in body.get("nodes") or []
            if isinstance(node, Mapping) and node.get("type") == "automation"
        ]
    for raw in lists:
        for action in raw if isinstance(raw, list) else []:
            if (
                isinstance(action, Mapping)
                and action.get("type") == "assign"
                and _key(action.get("table"))
            ):
                yield action


def app_references(definitions: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[Found]:
    """Every reference of an app's definitions (``(kind, key)`` → body), each with the
    definition it is in; a decision table's output cells read as groups or roles count as the
    table's references."""
    found = [
        Found(kind, key, reference)
        for (kind, key), body in sorted(definitions.items())
        for reference in references(kind, body)
    ]
    for (kind, _), body in sorted(definitions.items()):
        for action in _assignments(kind, body):
            table_key = str(action["table"])
            table = definitions.get(("rule", table_key))
            if table is None or table.get("type") != "decision_table":
                continue
            for r, c, cell_kind, value in _table_outputs(action, table):
                reference = Reference(f"/rules/{r}/then/{c}", cell_kind, value)
                found.append(Found("rule", table_key, reference))
    return list(dict.fromkeys(found))
