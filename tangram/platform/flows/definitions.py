"""Published flows compiled against their form, the app's forms and flows: once per version in
the platform, looked up once per unit of work; and the check a flow must pass to be published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.flows import (
    Node,
    Process,
    compile_process,
)
from tangram.engines.forms import FieldType, Form
from tangram.platform import metadata
from tangram.platform.flows.context import may_act
from tangram.platform.kernel.errors import (
    NotFound,
    ValidationFailed,
)
from tangram.platform.kernel.models import (
    App,
    Definition,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.rules import assignment

#: Assignee rules whose people are known at publication (fields and the initiator are not).
_STATIC = ("users", "user", "group", "role")


def _published_keys(uow: UnitOfWork, app_key: str, kind: str) -> frozenset[str]:
    return frozenset(
        uow.session.scalars(
            select(Definition.key)
            .join(App, App.id == Definition.app_id)
            .where(
                App.key == app_key,
                Definition.kind == kind,
                Definition.published_version.is_not(None),
            )
        )
    )


def compile_flow(uow: UnitOfWork, app_key: str, body: Mapping[str, Any], version: int) -> Process:
    form_key = str(body.get("form"))
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise DefinitionError(
            [Diagnostic("/form", "flow.form", f"form {form_key!r} is not published")]
        ) from None
    subtables = {
        f.key: frozenset(sub.key for sub in f.fields)
        for f in form.fields
        if f.type is FieldType.SUB_TABLE
    }
    return compile_process(
        body,
        fields=frozenset(form.by_key),
        subtables=subtables,
        flows=_published_keys(uow, app_key, "flow") | {str(body.get("key"))},
        forms=_published_keys(uow, app_key, "form"),
        version=version,
    )


def check(uow: UnitOfWork, app_key: str, _kind: str, _key: str, body: Mapping[str, Any]) -> None:
    """Refuse a flow that does not compile, with every problem's path (node ids in messages)."""
    try:
        compile_flow(uow, app_key, body, 0)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The flow cannot be published: {len(exc.diagnostics)} problem(s).",
            exc.diagnostics,
            code="definition.invalid",
        ) from None


def advise(
    uow: UnitOfWork, app_key: str, _kind: str, _key: str, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Warn about assignee rules (and fallbacks) that name people who could not act on the
    node's tasks: no grant for what the node needs on the flow's form, or a deactivated account.
    At run time those people are skipped (the fallback, then a manager, then the administrators'
    incidents take the task); the designer should know before."""
    try:
        proc = compile_flow(uow, app_key, body, 0)
        _, form = compiled.form(uow, app_key, proc.definition.form)
    except (DefinitionError, NotFound):
        return []
    places = {
        str(raw.get("id")): i
        for i, raw in enumerate(body.get("nodes") or [])
        if isinstance(raw, Mapping)
    }
    warnings: list[dict[str, Any]] = []
    for node in proc.definition.nodes.values():
        for part in ("assignees", "fallback"):
            where = f"/nodes/{places.get(node.id, 0)}/{part}"
            warnings += _unable(uow, app_key, form, node, getattr(node, part), where)
    return warnings


def _unable(
    uow: UnitOfWork,
    app_key: str,
    form: Form,
    node: Node,
    rules: tuple[Mapping[str, Any], ...],
    where: str,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        ((kind, value),) = rule.items()
        if kind not in _STATIC:
            continue
        try:
            if kind == "users":
                ids = [int(u) for u in value]
            else:
                ids = sorted(assignment.named_ids(uow, [{kind: value}], form, {}))
        except (assignment.Unresolvable, TypeError, ValueError) as exc:
            out.append(
                {
                    "code": "flow.assignee_unresolved",
                    "path": where,
                    "message": f"node {node.id!r}: {exc}; its tasks would go to the fallback",
                }
            )
            continue
        unable = [u for u in ids if not may_act(uow, app_key, form.key, u, node.needs)]
        if unable:
            names = uow.session.scalars(select(User.username).where(User.id.in_(unable)))
            out.append(
                {
                    "code": "flow.assignee_cannot_act",
                    "path": where,
                    "message": (
                        f"node {node.id!r}: {', '.join(sorted(names))} (named by {kind} "
                        f"{value!r}) cannot act on its tasks: no {node.needs!r} grant on form "
                        f"{form.key!r} or a deactivated account; their tasks would go to the "
                        "fallback, a manager or the administrators' incidents"
                    ),
                }
            )
    return out


def process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None = None
) -> tuple[int, Process]:
    """A published flow (newest, or ``version``) compiled once per version (and looked up once
    per unit of work)."""
    memo, pinned = uow.memo.processes, uow.caches.pinned_processes
    if version is not None:
        # a published version never changes: an instance pinned to it needs no lookup
        known = pinned.get((app_key, flow_key, version))
        if known is not None:
            return version, known
    found = memo.get((app_key, flow_key, version))
    if found is None:
        found = memo[(app_key, flow_key, version)] = load_process(uow, app_key, flow_key, version)
        pinned.put((app_key, flow_key, found[0]), found[1])
    return found


def load_process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None
) -> tuple[int, Process]:
    row_id, number, digest = metadata.published_ref(uow, app_key, "flow", flow_key, version)
    cache = uow.caches.processes
    key = (app_key, flow_key, number, digest)
    found = cache.get(key)
    if found is None:
        body = metadata.version_body(uow, row_id)
        found = cache.put(key, compile_flow(uow, app_key, body, number))
    return number, found


def start_fields(uow: UnitOfWork, app_key: str, form_key: str) -> frozenset[str] | None:
    """The fields a new record of the form is registered with when a published flow starts by
    itself on its records (on creation or a condition): those the flow's start node lets its
    initiator edit, the union over such flows. ``None`` when no flow starts by itself there,
    or none that does names an editable field at its start."""
    found: set[str] | None = None
    flows = metadata.published_in(uow, app_key, archived=False).get("flow", {})
    for key, body in sorted(flows.items()):
        if body.get("form") != form_key:
            continue
        definition = process(uow, app_key, key)[1].definition
        start = definition.nodes[definition.start]
        if start.trigger == "manual":
            continue
        _, form = compiled.form(uow, app_key, form_key)
        editable = {k for k in form.by_key if start.permissions.get(k, start.others) == "editable"}
        if not editable:
            continue  # a start that names no field leaves the form as it is
        found = editable if found is None else found | editable
    return None if found is None else frozenset(found)
