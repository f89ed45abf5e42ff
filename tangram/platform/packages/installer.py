"""Installing a package: every file checked against its meta-schema first, then every definition
published in one transaction.

Each definition is checked by its engine against everything else the app will hold (forms,
fields, groups, roles, tables, calendars, flows, KPIs), in whatever order the references allow;
every group and role a definition names must exist once the package's own are created. Any
problem refuses the whole package, each with the file and JSON pointer that hold it (a group a
decision table hands out is refused at the table, not at the rule that reads it), and nothing is
written. Importing the same version again changes nothing. A higher version is an upgrade:
changed definitions get new versions, records stay, running flow instances stay on the version
they started with. A lower one is refused unless forced. :func:`plan` is the dry run: it does
the same work and then rolls it back, and shows a diff for each definition and what it means
for data. :func:`rollback` restores the metadata an upgrade replaced and leaves the business data
alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import func, select

from tangram.engines.common import checksum, diff
from tangram.engines.meta import app_references
from tangram.platform import metadata
from tangram.platform.identity import groups, roles
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import Conflict, NotFound, TangramError, ValidationFailed
from tangram.platform.kernel.models import (
    App,
    AppInstall,
    Definition,
    FlowInstance,
    Grant,
    Group,
    Role,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.packages.reader import FOLDERS, Package, refuse
from tangram.platform.records import projections


@dataclass
class Change:
    """What an install does to one definition."""

    kind: str
    key: str
    action: str  # added, changed, unchanged, removed, disabled, kept
    details: list[str] = field(default_factory=list)
    version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """For reports."""
        return {
            "kind": self.kind,
            "key": self.key,
            "action": self.action,
            "details": self.details,
            "version": self.version,
        }


@dataclass
class Report:
    """What an install did (or, in a dry run, would do)."""

    app: str
    action: str  # install, upgrade, downgrade, reinstall, rollback
    version: str
    previous_version: str | None
    changes: list[Change] = field(default_factory=list)
    directory: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written."""
        return bool(self.directory) or any(c.action != "unchanged" for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        """The API answer."""
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        return {
            "app": self.app,
            "action": self.action,
            "version": self.version,
            "previous_version": self.previous_version,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "counts": counts,
            "changes": [c.as_dict() for c in self.changes],
            "directory": self.directory,
            "data": self.data,
        }


Progress = Callable[[str], None]

#: What the directory holds by key, for every app: definitions name them.
DIRS = ("group", "role")


def _action(app: App | None, package: Package) -> str:
    if app is None:
        return "install"
    try:
        new, old = Version(package.version), Version(app.version)
    except InvalidVersion:
        return "upgrade"
    if new == old:
        return "reinstall"
    return "upgrade" if new > old else "downgrade"


def _depends(uow: UnitOfWork, package: Package) -> list[dict[str, str]]:
    problems = []
    for key, spec in (package.manifest.get("depends") or {}).items():
        installed = uow.session.scalar(select(App.version).where(App.key == key))
        if installed is None:
            problems.append(
                {
                    "path": f"manifest.json:/depends/{key}",
                    "message": f"app {key!r} is not installed",
                }
            )
        elif Version(installed) not in SpecifierSet(spec):
            problems.append(
                {
                    "path": f"manifest.json:/depends/{key}",
                    "message": f"needs {key} {spec}; {installed} is installed",
                }
            )
    return problems


def _details(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    if kind == "form":
        before = {f["key"]: f for f in old.get("fields", [])}
        after = {f["key"]: f for f in new.get("fields", [])}
        out = [f"field {k} added" for k in after if k not in before]
        out += [f"field {k} removed" for k in before if k not in after]
        out += [
            f"field {k} changed"
            for k in after
            if k in before and checksum(after[k]) != checksum(before[k])
        ]
        return out or ["layout or labels changed"]
    return [f"{c.kind.value} {c.path or '/'}" for c in diff(old, new)[:20]]


def _data_effects(
    uow: UnitOfWork, app: App, changes: list[Change], published: Mapping[tuple[str, str], Any]
) -> list[str]:
    """What the changes mean for stored data: removed fields holding values, flows running."""
    notes = []
    for change in changes:
        if change.kind == "form" and change.action == "changed":
            removed = [d.split()[1] for d in change.details if d.endswith(" removed")]
            if not removed:
                continue
            try:
                _, form = compiled.form(uow, app.key, change.key)
                t = projections.ready(uow, app.id, change.key, form)
            except TangramError:
                continue
            for name in removed:
                if name not in t.main.c:
                    continue
                held = uow.session.scalar(
                    select(func.count())
                    .select_from(t.main)
                    .where(t.main.c[name].is_not(None), t.main.c._deleted_at.is_(None))
                )
                if held:
                    notes.append(
                        f"form {change.key}: field {name} is removed but {held} record(s) hold a"
                        " value; the documents keep it"
                    )
        if change.kind == "flow" and change.action == "changed":
            running = uow.session.scalar(
                select(func.count())
                .select_from(FlowInstance)
                .where(
                    FlowInstance.app_id == app.id,
                    FlowInstance.flow_key == change.key,
                    FlowInstance.status == "running",
                )
            )
            if running:
                version = published[("flow", change.key)][0]
                notes.append(
                    f"flow {change.key}: {running} running instance(s) stay on version {version}"
                )
    return notes


def _sync_directory(uow: UnitOfWork, actor: Actor, package: Package, app_key: str) -> list[str]:
    """Create the groups and roles the package expects; set its roles' grants on this app."""
    done = []
    pending = dict(package.groups)
    while pending:  # parents first, whichever order the files came in
        ready = [g for g in pending.values() if not g.get("parent") or g["parent"] not in pending]
        if not ready:
            raise refuse(
                [
                    {"path": f"groups/{k}.json:/parent", "message": "groups form a cycle"}
                    for k in pending
                ]
            )
        for g in ready:
            del pending[g["key"]]
            if uow.session.scalar(select(Group.id).where(Group.key == g["key"])) is not None:
                continue
            parent_id = None
            if g.get("parent"):
                parent_id = uow.session.scalar(select(Group.id).where(Group.key == g["parent"]))
                if parent_id is None:
                    raise refuse(
                        [
                            {
                                "path": f"groups/{g['key']}.json:/parent",
                                "message": f"there is no group {g['parent']!r}",
                            }
                        ]
                    )
            groups.create_group(
                uow, actor, key=g["key"], name=g["name"]["zh-CN"], parent_id=parent_id
            )
            done.append(f"group {g['key']} created (its manager is for an administrator to set)")
    forms = set(package.definitions.get("form", {}))
    for key, doc in package.roles.items():
        role = uow.session.scalar(select(Role).where(Role.key == key))
        if role is not None and role.is_system:
            raise refuse(
                [{"path": f"roles/{key}.json:/key", "message": f"{key!r} is a system role"}]
            )
        if role is None:
            role = roles.create_role(
                uow,
                actor,
                key=key,
                name=doc["name"]["zh-CN"],
                description=(doc.get("description") or {}).get("zh-CN", ""),
            )
            done.append(f"role {key} created")
        wanted = {
            (
                g.get("form", "*"),
                tuple(sorted(g["actions"])),
                g.get("scope", "all"),
                tuple(sorted((g.get("fields") or {}).items())),
            )
            for g in doc.get("grants") or []
        }
        for g in doc.get("grants") or []:
            if g.get("form", "*") != "*" and g["form"] not in forms:
                raise refuse(
                    [
                        {
                            "path": f"roles/{key}.json:/grants",
                            "message": f"the package has no form {g['form']!r}",
                        }
                    ]
                )
        current = uow.session.scalars(
            select(Grant).where(Grant.role_id == role.id, Grant.app_key == app_key)
        ).all()
        have = {
            (
                g.form_key,
                tuple(sorted(g.actions)),
                g.scope,
                tuple(sorted((g.field_rules or {}).items())),
            )
            for g in current
        }
        if have == wanted:
            continue
        for grant in current:
            roles.remove_grant(uow, actor, role.id, grant.id)
        for form_key, actions, scope, rules in sorted(wanted):
            roles.add_grant(
                uow,
                actor,
                role.id,
                app_key=app_key,
                form_key=form_key,
                actions=actions,
                scope=scope,
                field_rules=dict(rules),
            )
        done.append(f"role {key}: grants on {app_key} set")
    return done


def _can_disable(kind: str, body: Mapping[str, Any]) -> bool:
    """Whether a definition left out of a package is published again disabled: enabled rules and
    SLA policies (a decision table has no ``enabled``: it is kept, like other kinds)."""
    return (
        kind == "rule"
        and body.get("type") != "decision_table"
        and body.get("enabled", True) is not False
    )


def _order(kind: str, body: Mapping[str, Any]) -> int:
    """A first guess at a publishing order; the loop in :func:`_publish_all` sorts out the rest."""
    rank = list(FOLDERS.values()).index(kind) * 10
    if kind == "rule":
        rank += {"decision_table": 0, "sla": 1}.get(str(body.get("type")), 2)
    return rank


def _publish_all(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    pending: list[tuple[str, str, str]],
    progress: Progress | None,
) -> dict[tuple[str, str], int]:
    """Publish every (kind, key, note) whose references allow it, again and again until none is
    left or none moves; what still fails is refused with its reasons. The package's forms may
    refer to each other: each is checked against the others' drafts."""
    forms = sorted(key for kind, key, _ in pending if kind == "form")
    drafts = uow.session.execute(
        select(Definition.key, Definition.draft)
        .join(App, App.id == Definition.app_id)
        .where(App.key == app_key, Definition.kind == "form", Definition.key.in_(forms))
    ).all()
    uow.memo.package_forms[app_key] = {
        key: [f.get("key") for f in body.get("fields", [])] for key, body in drafts
    }
    try:
        return _publish_rounds(uow, actor, app_key, pending, progress)
    finally:
        uow.memo.package_forms.pop(app_key, None)


def _publish_rounds(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    pending: list[tuple[str, str, str]],
    progress: Progress | None,
) -> dict[tuple[str, str], int]:
    published: dict[tuple[str, str], int] = {}
    failures: dict[tuple[str, str], TangramError] = {}
    while pending:
        failures = {}
        left = []
        for kind, key, note in pending:
            try:
                with uow.session.begin_nested():
                    version = metadata.publish(uow, actor, app_key, kind, key, note=note)
            except (ValidationFailed, NotFound) as exc:
                failures[(kind, key)] = exc
                left.append((kind, key, note))
                uow.memo.forget_compiled()  # nothing compiled for a refused version may linger
                continue
            published[(kind, key)] = version.version
            if progress is not None:
                progress(f"{kind} {key}")
        if len(left) == len(pending):
            break
        pending = left
    else:
        return published
    problems: dict[tuple[str, str], dict[str, str]] = {}
    for (kind, key), error in failures.items():
        errors = getattr(error, "errors", None) or [{"path": "", "message": str(error)}]
        for e in errors:
            problem = {"path": _file_path(kind, key, e), "message": e["message"]}
            problems.setdefault((problem["path"], problem["message"]), problem)
    found = list(problems.values())
    raise refuse(found, f"The package cannot be installed: {len(found)} problem(s).")


def _file_path(kind: str, key: str, error: Mapping[str, str]) -> str:
    """``file:pointer`` of a refused publication's problem: in the definition the problem lies
    in (the app's rule book names it, as ``definition``), else in the one being published."""
    folder = {v: k for k, v in FOLDERS.items()}
    path = error.get("path") or ""
    owner = error.get("definition")
    if owner:
        kind, key = owner.split("/", 1)
        path = error.get("pointer") or ""
    return f"{folder[kind]}/{key}.json:{path or '/'}"


def _missing_directory(uow: UnitOfWork, package: Package) -> list[dict[str, str]]:
    """The groups and roles the package's definitions name that do not exist (once the package's
    own are created), each at the file and pointer that names it."""
    definitions = {(kind, key): body for kind, key, body in package.items()}
    named = [f for f in app_references(definitions) if f.reference.kind in ("group", "role")]
    wanted = {kind: {f.reference.key for f in named if f.reference.kind == kind} for kind in DIRS}
    known = {
        "group": set(uow.session.scalars(select(Group.key).where(Group.key.in_(wanted["group"])))),
        "role": set(uow.session.scalars(select(Role.key).where(Role.key.in_(wanted["role"])))),
    }
    folder = {v: k for k, v in FOLDERS.items()}
    return [
        {
            "path": f"{folder[f.kind]}/{f.key}.json:{f.reference.path or '/'}",
            "message": f"there is no {f.reference.kind} {f.reference.key!r}",
        }
        for f in named
        if f.reference.key not in known[f.reference.kind]
    ]


def install(
    uow: UnitOfWork,
    actor: Actor,
    package: Package,
    *,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Install or upgrade the app from ``package`` in the caller's transaction (commit it, or
    roll it back for a dry run); every problem refuses the whole package."""
    require_admin(actor, "install app packages")
    problems = _depends(uow, package)
    if problems:
        raise refuse(problems)
    app = uow.session.scalar(select(App).where(App.key == package.key))
    action = _action(app, package)
    if action == "downgrade" and not force:
        raise Conflict(
            f"App {package.key!r} is at version {app.version if app else '?'}; the package is "
            f"{package.version}, older. Force the downgrade if that is intended.",
            code="package.downgrade",
        )
    previous_version = app.version if app is not None else None
    if app is None:
        app = metadata.create_app(
            uow,
            actor,
            key=package.key,
            name=package.manifest["name"],
            description=package.manifest.get("description"),
            version=package.version,
        )
    before = metadata.published_all(uow, app.id)
    report = Report(package.key, action, package.version, previous_version, dry_run=dry_run)
    report.directory = _sync_directory(uow, actor, package, package.key)
    missing = _missing_directory(uow, package)
    if missing:
        raise refuse(missing, f"The package cannot be installed: {len(missing)} problem(s).")
    note = f"package {package.key} {package.version}"
    pending = []
    for kind, key, body in sorted(package.items(), key=lambda i: (_order(i[0], i[2]), i[1])):
        existing = before.get((kind, key))
        if existing is not None and checksum(existing[1]) == checksum(body):
            report.changes.append(Change(kind, key, "unchanged", version=existing[0]))
            continue
        view = _draft(uow, actor, package.key, kind, key, body)
        if existing is None:
            report.changes.append(Change(kind, key, "added"))
        else:
            report.changes.append(Change(kind, key, "changed", _details(kind, existing[1], body)))
        del view
        pending.append((kind, key, note))
    archived = metadata.archived_in(uow, package.key)
    for change in report.changes:
        if (change.kind, change.key) in archived:
            change.details.append("archived in this app: restore it to use it")
    for (kind, key), (_version, body) in sorted(before.items()):
        if key in package.definitions.get(kind, {}):
            continue
        if (kind, key) in archived:
            report.changes.append(Change(kind, key, "kept", ["archived; not in the package"]))
        elif _can_disable(kind, body):
            _draft(uow, actor, package.key, kind, key, {**body, "enabled": False})
            pending.append((kind, key, f"{note}: no longer in the package"))
            report.changes.append(Change(kind, key, "disabled", ["no longer in the package"]))
        else:
            report.changes.append(
                Change(kind, key, "kept", ["no longer in the package; published versions stay"])
            )
    report.data = _data_effects(uow, app, report.changes, before)
    versions = _publish_all(uow, actor, package.key, pending, progress)
    for change in report.changes:
        change.version = versions.get((change.kind, change.key), change.version)
    if report.changed or action != "reinstall":
        app.version = package.version
        app.name = dict(package.manifest["name"])
        app.description = dict(package.manifest.get("description") or {})
        app.manifest = dict(package.manifest)
        app.i18n = dict(package.i18n)
        app.updated_at = uow.now
        uow.session.add(
            AppInstall(
                app_id=app.id,
                action=action,
                version=package.version,
                previous_version=previous_version,
                manifest=dict(package.manifest),
                before={
                    kind: {key: v for (k, key), (v, _) in before.items() if k == kind}
                    for kind in {k for k, _ in before}
                },
                report={
                    **report.as_dict(),
                    "roles": list(package.roles.values()),
                    "groups": list(package.groups.values()),
                },
                installed_at=uow.now,
                installed_by=actor.user_id,
            )
        )
        uow.audit(
            actor.user_id,
            actor.label,
            f"app.{action}",
            "app",
            package.key,
            {"version": package.version, "previous_version": previous_version},
        )
    uow.flush()
    return report


def _draft(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, body: Mapping[str, Any]
) -> metadata.DefinitionView:
    """Store a package's body as the draft, unjudged: the installer publishes every draft it
    stores, and publishing judges it (with every other definition of the package in place)."""
    try:
        current = metadata.get_definition(uow, actor, app_key, kind, key)
    except NotFound:
        return metadata.create_definition(uow, actor, app_key, kind, dict(body), judged=False)
    return metadata.update_draft(
        uow,
        actor,
        app_key,
        kind,
        key,
        dict(body),
        lock_version=current.definition.lock_version,
        judged=False,
    )


def rollback(uow: UnitOfWork, actor: Actor, app_key: str) -> Report:
    """Restore the metadata the last upgrade replaced (a new version of each definition with the
    earlier body); rules it added are disabled, other definitions it added stay; records and
    running instances are left alone."""
    require_admin(actor, "roll back apps")
    app = metadata.get_app(uow, actor, app_key)
    last = uow.session.scalars(
        select(AppInstall)
        .where(
            AppInstall.app_id == app.id,
            AppInstall.rolled_back_at.is_(None),
            AppInstall.action != "rollback",
        )
        .order_by(AppInstall.id.desc())
    ).first()
    if last is None or last.action == "install":
        raise Conflict(
            f"App {app_key!r} has no upgrade to roll back.", code="package.nothing_to_roll_back"
        )
    report = Report(app_key, "rollback", last.previous_version or app.version, app.version)
    current = metadata.published_all(uow, app.id)
    before: Mapping[str, Mapping[str, int]] = last.before
    note = f"rollback to {last.previous_version}"
    pending = []
    for (kind, key), (version, body) in sorted(
        current.items(), key=lambda i: _order(i[0][0], i[1][1])
    ):
        target = int(before.get(kind, {}).get(key, 0))
        if target == version:
            report.changes.append(Change(kind, key, "unchanged", version=version))
        elif target == 0:
            if _can_disable(kind, body):
                _draft(uow, actor, app_key, kind, key, {**body, "enabled": False})
                pending.append((kind, key, note))
                report.changes.append(Change(kind, key, "disabled", ["added by the upgrade"]))
            else:
                report.changes.append(Change(kind, key, "kept", ["added by the upgrade"]))
        else:
            _, _, earlier = metadata.published_body(uow, app_key, kind, key, target)
            _draft(uow, actor, app_key, kind, key, earlier)
            pending.append((kind, key, note))
            report.changes.append(Change(kind, key, "changed", [f"back to version {target}"]))
    versions = _publish_all(uow, actor, app_key, pending, None)
    for change in report.changes:
        change.version = versions.get((change.kind, change.key), change.version)
    last.rolled_back_at = uow.now
    app.version = report.version
    app.updated_at = uow.now
    uow.session.add(
        AppInstall(
            app_id=app.id,
            action="rollback",
            version=report.version,
            previous_version=report.previous_version,
            manifest=dict(app.manifest or {}),
            before={
                kind: {key: v for (k, key), (v, _) in current.items() if k == kind}
                for kind in {k for k, _ in current}
            },
            report=report.as_dict(),
            installed_at=uow.now,
            installed_by=actor.user_id,
        )
    )
    uow.audit(
        actor.user_id,
        actor.label,
        "app.rollback",
        "app",
        app_key,
        {"version": report.version, "from": report.previous_version},
    )
    uow.flush()
    return report
