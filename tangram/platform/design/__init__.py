"""What the designers' workbench reads beyond one draft: the app's definitions with their status,
what a publication would change (by field, for forms), and what it would mean for the data —
values left in removed fields, options still in use, records a newly required field finds empty,
flow instances that stay on their version, and the definitions that name this one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from tangram.engines.common import diff
from tangram.engines.forms import form_changes
from tangram.engines.meta import app_references
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.models import (
    Definition,
    DefinitionVersion,
    FlowInstance,
    Record,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import (
    DRAFT,
    get_app,
    get_version,
    judge,
    latest_version,
    list_versions,
    load_definition,
    published_all,
)


def overview(uow: UnitOfWork, actor: Actor, app_key: str) -> list[dict[str, Any]]:
    """Every definition of the app, without bodies: kind, key, name, status and problems."""
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    rows = list(
        uow.session.scalars(
            select(Definition)
            .where(Definition.app_id == app.id)
            .order_by(Definition.kind, Definition.key)
        )
    )
    rows_latest = uow.session.execute(
        select(DefinitionVersion.definition_id, DefinitionVersion.checksum)
        .join(Definition, Definition.id == DefinitionVersion.definition_id)
        .where(
            Definition.app_id == app.id,
            DefinitionVersion.version == Definition.published_version,
        )
    )
    latest: dict[int, str] = dict(rows_latest.all())
    out = []
    for d in rows:
        label = d.draft.get("label") if isinstance(d.draft, Mapping) else None
        if d.published_version is None:
            status = "draft"
        elif latest.get(d.id) == d.draft_checksum:
            status = "published"
        else:
            status = "changed"
        out.append(
            {
                "kind": d.kind,
                "key": d.key,
                "name": label if isinstance(label, Mapping) else {"zh-CN": d.key},
                "status": status,
                "published_version": d.published_version,
                # a draft equal to its published version passed the verdict when published;
                # the others are judged now (what they name may have changed since saved)
                "problems": 0
                if status == "published"
                else len(judge(uow, app_key, d.kind, d.key, d.draft).problems),
                "archived_at": d.archived_at,
                "updated_at": d.updated_at,
                "lock_version": d.lock_version,
            }
        )
    return out


def changes(kind: str, old: Any, new: Any) -> Any:
    """By field for forms (see :func:`form_changes`); JSON-pointer changes for other kinds."""
    if kind == "form" and isinstance(old, Mapping) and isinstance(new, Mapping):
        return form_changes(old, new)
    return [change.as_dict() for change in diff(old, new)]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fields(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(f.get("key")): f for f in body.get("fields") or [] if isinstance(f, Mapping)}


def _records(uow: UnitOfWork, app_id: int, form_key: str) -> Iterable[Mapping[str, Any]]:
    """The live records' documents, streamed (an impact reads each once)."""
    query = (
        select(Record.data)
        .where(Record.app_id == app_id, Record.form_key == form_key, Record.deleted_at.is_(None))
        .execution_options(yield_per=500)
    )
    for data in uow.session.scalars(query):
        if isinstance(data, Mapping):
            yield data


def _form_impact(
    uow: UnitOfWork, app_id: int, form_key: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    before, after = _fields(old), _fields(new)
    removed = [k for k in before if k not in after]
    options: dict[str, set[str]] = {}
    for key, was in before.items():
        now = after.get(key)
        if now is None or was.get("type") not in ("select", "radio", "multi_select"):
            continue
        kept = {str(o.get("value")) for o in now.get("options") or [] if isinstance(o, Mapping)}
        gone = {
            str(o.get("value")) for o in was.get("options") or [] if isinstance(o, Mapping)
        } - kept
        if gone:
            options[key] = gone
    required = [
        k
        for k, now in after.items()
        if k in before and now.get("required") and not before[k].get("required")
    ]
    filled: Counter[str] = Counter()
    used: Counter[tuple[str, str]] = Counter()
    empty: Counter[str] = Counter()
    if removed or options or required:
        for data in _records(uow, app_id, form_key):
            for key in removed:
                if not _empty(data.get(key)):
                    filled[key] += 1
            for key, gone in options.items():
                value = data.get(key)
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, str) and v in gone:
                        used[(key, v)] += 1
            for key in required:
                if _empty(data.get(key)):
                    empty[key] += 1

    def option_label(key: str, value: str) -> Any:
        for o in before[key].get("options") or []:
            if isinstance(o, Mapping) and o.get("value") == value:
                return o.get("label")
        return None

    return {
        "removed_values": [
            {"field": k, "label": before[k].get("label"), "records": filled[k]}
            for k in removed
            if filled[k]
        ],
        "options_in_use": [
            {
                "field": k,
                "label": after[k].get("label"),
                "option": v,
                "option_label": option_label(k, v),
                "records": n,
            }
            for (k, v), n in sorted(used.items())
        ],
        "required_empty": [
            {"field": k, "label": after[k].get("label"), "records": empty[k]}
            for k in required
            if empty[k]
        ],
    }


def _active_nodes(state: Mapping[str, Any]) -> set[str]:
    """The nodes an instance is at: where its tokens are, and its open (or waiting) tasks."""
    tokens = state.get("tokens") or {}
    tasks = state.get("tasks") or {}
    return {str(t["node"]) for t in tokens.values() if t.get("node")} | {
        str(t["node"]) for t in tasks.values() if t.get("status") in ("open", "waiting", "held")
    }


def _running(uow: UnitOfWork, definition: Definition, draft: Any) -> list[dict[str, Any]]:
    """The running instances of a flow by version, and by the nodes they are at: each node with
    its label in that version, and whether the draft still has a node of that id and type (an
    instance at a node the draft drops must be moved after publishing)."""
    counts: dict[int, Counter[str]] = {}
    totals: Counter[int] = Counter()
    for version, state in uow.session.execute(
        select(FlowInstance.version, FlowInstance.state).where(
            FlowInstance.app_id == definition.app_id,
            FlowInstance.flow_key == definition.key,
            FlowInstance.status == "running",
        )
    ):
        totals[version] += 1
        counts.setdefault(version, Counter()).update(_active_nodes(state or {}))
    bodies: dict[int, Any] = dict(
        uow.session.execute(
            select(DefinitionVersion.version, DefinitionVersion.body).where(
                DefinitionVersion.definition_id == definition.id,
                DefinitionVersion.version.in_(list(totals)),
            )
        ).all()
    )

    def nodes_of(body: Any) -> dict[str, Mapping[str, Any]]:
        nodes = body.get("nodes") if isinstance(body, Mapping) else None
        return {
            str(n.get("id")): n
            for n in (nodes if isinstance(nodes, list) else [])
            if isinstance(n, Mapping)
        }

    kept = nodes_of(draft)
    out: list[dict[str, Any]] = []
    for version in sorted(totals):
        had = nodes_of(bodies.get(version))
        out.append(
            {
                "version": version,
                "instances": totals[version],
                "nodes": [
                    {
                        "node": node,
                        "label": had.get(node, {}).get("label"),
                        "type": had.get(node, {}).get("type"),
                        "instances": n,
                        "in_draft": node in kept
                        and kept[node].get("type") == had.get(node, {}).get("type"),
                    }
                    for node, n in sorted(counts[version].items())
                ],
            }
        )
    return out


def impact(uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str) -> dict[str, Any]:
    """What publishing the draft of ``kind`` ``key`` would change, and what it means for data."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    latest = latest_version(uow, definition)
    draft = definition.draft
    out: dict[str, Any] = {
        "published_version": definition.published_version,
        "diff": changes(kind, latest.body, draft) if latest is not None else [],
        "removed_values": [],
        "options_in_use": [],
        "required_empty": [],
        "running": [],
        "referenced_by": [],
    }
    if latest is not None and kind == "form" and isinstance(draft, Mapping):
        out |= _form_impact(uow, definition.app_id, key, latest.body, draft)
    if kind == "flow":
        out["running"] = _running(uow, definition, draft)
    live = {
        k: body
        for k, (_, body) in published_all(uow, definition.app_id, archived=False).items()
        if k != (kind, key)
    }
    named = {
        (f.kind, f.key)
        for f in app_references(live)
        if (f.reference.kind, f.reference.key) == (kind, key)
    }
    out["referenced_by"] = [{"kind": k, "key": n} for k, n in sorted(named)]
    return out


def version_history(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str
) -> list[dict[str, Any]]:
    """Published versions, newest first, with their authors' names (designers of the app)."""
    require_design(actor, app_key)
    versions = list_versions(uow, actor, app_key, kind, key)
    authors = {v.author_id for v in versions if v.author_id is not None}
    names: dict[int, str] = {}
    if authors:
        rows = uow.session.execute(select(User.id, User.display_name).where(User.id.in_(authors)))
        names = dict(rows.all())
    return [
        {
            "version": v.version,
            "checksum": v.checksum,
            "note": v.note,
            "author_id": v.author_id,
            "author": names.get(v.author_id) if v.author_id is not None else None,
            "created_at": v.created_at,
        }
        for v in versions
    ]


def version_changes(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, *, from_: Any, to: Any
) -> Any:
    """What changed from one version (or the draft) to another, by field for forms."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)

    def body(side: Any) -> Any:
        if side == DRAFT:
            return definition.draft
        return get_version(uow, actor, app_key, kind, key, int(side)).body

    return changes(kind, body(from_), body(to))


#: The most people the designers' directory lists (an organisation larger than this picks people
#: by search in the runtime's pickers).
DIRECTORY_SIZE = 2000


def directory(uow: UnitOfWork, actor: Actor, app_key: str) -> dict[str, Any]:
    """Who a designer of the app can name in assignee rules: active users, groups and roles, by
    id, key and name (designers who are not administrators cannot list the directory itself)."""
    get_app(uow, actor, app_key)
    require_design(actor, app_key)
    people = [u for u in users.list_users(uow, limit=DIRECTORY_SIZE) if u.is_active]
    return {
        "users": [
            {"id": u.id, "username": u.username, "display_name": u.display_name} for u in people
        ],
        "groups": [
            {"id": g.id, "key": g.key, "name": g.name, "parent_id": g.parent_id}
            for g in groups.list_groups(uow)
        ],
        "roles": [{"id": r.id, "key": r.key, "name": r.name} for r in roles.list_roles(uow)],
    }
