"""Uninstalling an app: a dry run that counts what would go, and the real run that removes it
all in one transaction.

What goes: the app, its definitions and their versions, its records (deleted ones too) and their
projection tables, comments, SLA statuses, flow instances with their tasks and CC entries, attachments
(their files too, once committed, unless another attachment shares the bytes), intake links and
their submissions, saved views, rollups and their marks, serial counters, assignment cursors,
the jobs about it (pending, done or dead), the in-app notifications pointing into it, its install
history, and every role's grants on it.

What stays: users, groups and roles (other apps share them; roles left with no grant at all are
named), mail already queued, and the audit log, which is append-only and gets an
``app.uninstalled`` entry with the counts.

Deletions are set-based statements (``DELETE … WHERE app_id = …``), so a large app costs time in
the database, not memory here, and the transaction holds everything or nothing. It is refused
(409 ``app.uninstall_blocked``, every reason in ``errors``) while another installed app depends
on it or a worker is running one of its jobs; the dry run shows those reasons as ``blockers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select

from tangram.platform import metadata
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import Conflict, check_lock
from tangram.platform.kernel.files import FileStore
from tangram.platform.kernel.models import (
    App,
    AppInstall,
    AssignmentCursor,
    Attachment,
    CarbonCopyEntry,
    Comment,
    Definition,
    DefinitionVersion,
    FlowInstance,
    Grant,
    IntakeLink,
    IntakeSubmission,
    Job,
    JobStatus,
    Notification,
    ProjectionTable,
    Record,
    Role,
    Rollup,
    RollupDay,
    RollupMark,
    SavedView,
    SerialCounter,
    SlaStatus,
    Task,
)
from tangram.platform.kernel.uow import UnitOfWork, translated_errors
from tangram.platform.records import projections

Step = Callable[[str], None]


@dataclass
class Uninstall:
    """What an uninstall removes (or, in a dry run, would remove), and what blocks it."""

    app: str
    version: str
    dry_run: bool
    definitions: dict[str, int] = field(default_factory=dict)
    versions: int = 0
    records: dict[str, int] = field(default_factory=dict)
    flow_instances: dict[str, int] = field(default_factory=dict)
    open_tasks: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    attachments: int = 0
    attachment_bytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    projection_tables: list[str] = field(default_factory=list)
    grants: dict[str, int] = field(default_factory=dict)
    roles_left_without_grants: list[str] = field(default_factory=list)
    blockers: list[dict[str, str]] = field(default_factory=list)
    #: SHA-256 of the attachments removed: their files go once the removal is committed.
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The API answer."""
        return {
            "app": self.app,
            "version": self.version,
            "dry_run": self.dry_run,
            "definitions": self.definitions,
            "versions": self.versions,
            "records": self.records,
            "flow_instances": self.flow_instances,
            "open_tasks": self.open_tasks,
            "jobs": self.jobs,
            "attachments": {"count": self.attachments, "bytes": self.attachment_bytes},
            "counts": self.counts,
            "projection_tables": self.projection_tables,
            "grants": self.grants,
            "roles_left_without_grants": self.roles_left_without_grants,
            "blockers": self.blockers,
        }


@dataclass(frozen=True)
class _Scope:
    """The rows of one app, as subqueries and conditions."""

    app: App

    @property
    def records(self) -> Select[int]:
        return select(Record.id).where(Record.app_id == self.app.id)

    @property
    def instances(self) -> Select[int]:
        return select(FlowInstance.id).where(FlowInstance.app_id == self.app.id)

    @property
    def links(self) -> Select[int]:
        return select(IntakeLink.id).where(IntakeLink.app_id == self.app.id)

    @property
    def definitions(self) -> Select[int]:
        return select(Definition.id).where(Definition.app_id == self.app.id)

    @property
    def rollups(self) -> Select[int]:
        return select(Rollup.id).where(Rollup.app_id == self.app.id)

    @property
    def jobs(self) -> ColumnElement[bool]:
        """Jobs about the app: their payload names it, or one of its flow instances."""
        return or_(
            Job.payload["app"].as_string() == self.app.key,
            Job.payload["instance"].as_integer().in_(self.instances),
        )

    @property
    def notifications(self) -> ColumnElement[bool]:
        named: ColumnElement[bool] = Notification.payload["app"].as_string() == self.app.key
        return named

    @property
    def serials(self) -> ColumnElement[bool]:
        return SerialCounter.scope.startswith(f"{self.app.key}/", autoescape=True)

    @property
    def cursors(self) -> ColumnElement[bool]:
        return AssignmentCursor.key.startswith(f"{self.app.key}:", autoescape=True)


def _count(uow: UnitOfWork, model: Any, *where: ColumnElement[bool]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _by(uow: UnitOfWork, column: Any, *where: ColumnElement[bool]) -> dict[str, int]:
    rows = uow.session.execute(
        select(column, func.count()).where(*where).group_by(column).order_by(column)
    )
    return {str(key): int(n) for key, n in rows}


def _blockers(uow: UnitOfWork, s: _Scope) -> list[dict[str, str]]:
    """Other apps that depend on it, and its jobs a worker holds now."""
    found = [
        {
            "path": f"apps/{other.key}:/depends/{s.app.key}",
            "message": f"app {other.key} depends on {s.app.key} "
            f"{(other.manifest or {})['depends'][s.app.key]}: uninstall it first",
        }
        for other in uow.session.scalars(select(App).where(App.id != s.app.id).order_by(App.key))
        if s.app.key in ((other.manifest or {}).get("depends") or {})
    ]
    running = uow.session.execute(  # a lease run out is a worker gone: its job may go
        select(Job.id, Job.kind).where(
            s.jobs,
            Job.status == JobStatus.RUNNING.value,
            or_(Job.locked_until.is_(None), Job.locked_until >= uow.now),
        )
    )
    found += [
        {"path": f"jobs/{job_id}", "message": f"a worker is running its {kind} job; try again"}
        for job_id, kind in running
    ]
    return found


def _directory(uow: UnitOfWork, report: Uninstall, key: str) -> None:
    report.grants = _by(
        uow, Role.key, Role.id == Grant.role_id, Grant.app_key == key, Role.is_system.is_(False)
    )
    elsewhere = select(Grant.role_id).where(Grant.app_key != key)
    report.roles_left_without_grants = sorted(
        uow.session.scalars(
            select(Role.key).where(Role.key.in_(report.grants), Role.id.not_in(elsewhere))
        )
    )


def _survey(uow: UnitOfWork, app: App, dry_run: bool) -> Uninstall:
    """Count what goes."""
    s = _Scope(app)
    report = Uninstall(app.key, app.version, dry_run)
    report.definitions = _by(uow, Definition.kind, Definition.app_id == app.id)
    report.versions = _count(
        uow, DefinitionVersion, DefinitionVersion.definition_id.in_(s.definitions)
    )
    report.records = _by(uow, Record.form_key, Record.app_id == app.id)
    report.flow_instances = _by(uow, FlowInstance.status, FlowInstance.app_id == app.id)
    report.open_tasks = _count(uow, Task, Task.instance_id.in_(s.instances), Task.status == "open")
    report.jobs = _by(uow, Job.status, s.jobs)
    files = uow.session.execute(
        select(Attachment.sha256, Attachment.size).where(Attachment.app_id == app.id)
    ).all()
    report.attachments = len(files)
    report.attachment_bytes = sum(int(size) for _, size in files)
    report.files = sorted({str(sha) for sha, _ in files})
    report.counts = {
        "sla_statuses": _count(uow, SlaStatus, SlaStatus.record_id.in_(s.records)),
        "comments": _count(uow, Comment, Comment.record_id.in_(s.records)),
        "intake_links": _count(uow, IntakeLink, IntakeLink.app_id == app.id),
        "saved_views": _count(uow, SavedView, SavedView.app_id == app.id),
        "notifications": _count(uow, Notification, s.notifications),
        "rollups": _count(uow, Rollup, Rollup.app_id == app.id),
        "serial_counters": _count(uow, SerialCounter, s.serials),
        "installs": _count(uow, AppInstall, AppInstall.app_id == app.id),
    }
    report.projection_tables = sorted(
        uow.session.scalars(
            select(ProjectionTable.table_name).where(ProjectionTable.app_id == app.id)
        )
    )
    _directory(uow, report, app.key)
    report.blockers = _blockers(uow, s)
    return report


def _remove(uow: UnitOfWork, app: App, step: Step) -> None:
    """Delete every row of the app, children first (set-based statements)."""
    s = _Scope(app)
    dropped: list[str] = []
    for form_key in uow.session.scalars(
        select(ProjectionTable.form_key).where(ProjectionTable.app_id == app.id)
    ).all():
        dropped += projections.drop(uow, app.id, form_key)
    step(f"projection tables dropped: {len(dropped)}")
    statements = [
        ("jobs", delete(Job).where(s.jobs)),
        ("notifications", delete(Notification).where(s.notifications)),
        ("tasks", delete(Task).where(Task.instance_id.in_(s.instances))),
        ("cc entries", delete(CarbonCopyEntry).where(CarbonCopyEntry.instance_id.in_(s.instances))),
        ("flow instances", delete(FlowInstance).where(FlowInstance.app_id == app.id)),
        ("sla statuses", delete(SlaStatus).where(SlaStatus.record_id.in_(s.records))),
        ("comments", delete(Comment).where(Comment.record_id.in_(s.records))),
        ("attachments", delete(Attachment).where(Attachment.app_id == app.id)),
        (
            "intake submissions",
            delete(IntakeSubmission).where(IntakeSubmission.link_id.in_(s.links)),
        ),
        ("intake links", delete(IntakeLink).where(IntakeLink.app_id == app.id)),
        ("records", delete(Record).where(Record.app_id == app.id)),
        ("saved views", delete(SavedView).where(SavedView.app_id == app.id)),
        ("rollup days", delete(RollupDay).where(RollupDay.rollup_id.in_(s.rollups))),
        ("rollups", delete(Rollup).where(Rollup.app_id == app.id)),
        ("rollup marks", delete(RollupMark).where(RollupMark.app_id == app.id)),
        (
            "versions",
            delete(DefinitionVersion).where(DefinitionVersion.definition_id.in_(s.definitions)),
        ),
        ("definitions", delete(Definition).where(Definition.app_id == app.id)),
        ("installs", delete(AppInstall).where(AppInstall.app_id == app.id)),
        ("grants", delete(Grant).where(Grant.app_key == app.key)),
        ("serial counters", delete(SerialCounter).where(s.serials)),
        ("assignment cursors", delete(AssignmentCursor).where(s.cursors)),
        ("app", delete(App).where(App.id == app.id)),
    ]
    for name, statement in statements:
        result = uow.session.execute(statement, execution_options={"synchronize_session": False})
        step(f"{name} deleted: {getattr(result, 'rowcount', 0)}")
    uow.session.expunge(app)
    uow.memo.app_ids.pop(app.key, None)  # a package installed again in this unit gets a new id


def uninstall(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    *,
    dry_run: bool = False,
    lock_version: int | None = None,
    progress: Step | None = None,
) -> Uninstall:
    """Remove the app and everything it holds in the caller's transaction (administrators), or
    with ``dry_run`` only count it; refused while something blocks it (see the module)."""
    require_admin(actor, "uninstall apps")
    app = metadata.get_app(uow, actor, app_key)
    check_lock(app, lock_version)
    if not dry_run:
        # its row locked (PostgreSQL): a record written meanwhile waits, then finds no app
        uow.session.execute(select(App.id).where(App.id == app.id).with_for_update())
    report = _survey(uow, app, dry_run)
    if dry_run:
        return report
    if report.blockers:
        raise Conflict(
            f"App {app_key!r} cannot be uninstalled: {len(report.blockers)} reason(s).",
            code="app.uninstall_blocked",
            errors=report.blockers,
        )
    with translated_errors():  # a write that slipped in between answers 409, not 500
        _remove(uow, app, progress or (lambda _line: None))
    shown = report.as_dict()
    uow.audit(
        actor.user_id,
        actor.label,
        "app.uninstalled",
        "app",
        app_key,
        {k: v for k, v in shown.items() if k not in ("app", "dry_run", "blockers")},
    )
    uow.memo.forget_compiled()
    uow.memo.app_tags.pop(app_key, None)
    uow.flush()
    return report


def sweep_files(uow: UnitOfWork, files: FileStore, digests: list[str]) -> int:
    """After an uninstall is committed: delete from the file store the files of ``digests`` that
    no attachment refers to any more; how many were deleted."""
    if not digests:
        return 0
    kept = set(uow.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests))))
    removed = 0
    for digest in sorted(set(digests) - kept):
        if files.delete(digest):
            removed += 1
    return removed
