"""Records, jobs, the audit log and notifications."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tangram.platform.kernel.models.base import Base, Locked


class Record(Locked, Base):
    """A business record: the JSON document is the source of truth."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_app_form_id", "app_id", "form_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="RESTRICT"))
    form_key: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    data: Mapped[dict[str, Any]]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None]


class JobStatus(StrEnum):
    """Life of a job: pending → running → done, or back to pending to retry, or dead."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    """A durable unit of background work, written in the transaction that causes it."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One entry of the append-only audit log: queued by the writer's transaction (``seq``,
    ``prev_hash`` and ``hash`` empty), then chained once by the sequencer (see
    :mod:`tangram.platform.kernel.audit`)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        # the queue: entries the sequencer has not chained yet, in insertion order
        Index(
            "ix_audit_log_queued",
            "id",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
    )

    #: Insertion order (a sequence on PostgreSQL: dense on SQLite, with gaps on PostgreSQL).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    #: Position in the chain, set by the sequencer (``None`` while queued).
    seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), unique=True
    )
    at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    #: The writer's keyed digest of the entry's id and content (form 3; ``None`` before).
    digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The canonical form ``hash`` was computed over (1: Python's JSON text; 2: RFC 8785; 3: RFC
    #: 8785 over the entry's id and digest too, chained by the sequencer).
    canon: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class Notification(Base):
    """A message for one user (in-app inbox; mail and webhooks are jobs)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Comment(Base):
    """What someone said about a record, and whom they mentioned (each of them was notified).

    Comments are not part of the record's document: writing one changes no field, takes no lock
    on the record and starts no rule; the record's timeline shows it through its audit entry."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_record_id", "record_id", "id"),
        Index("ix_comments_remote_addr_created_at", "remote_addr", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    #: The ids of the users it mentions, in the order the author named them.
    mentions: Mapped[list[Any]]
    created_at: Mapped[datetime]
    #: Whether the customer sees it on the record's public status page (a public reply, or the
    #: customer's own reply); agents' comments are internal unless they say otherwise.
    public: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    #: Written by the customer through the record's status link (no user account: ``author_id``
    #: is null and the comment is public).
    from_customer: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    #: The files it carries, as a file field stores them (id, name, size, type, digest).
    attachments: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    #: The address a customer's reply came from (what the reply limit counts); null otherwise.
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class SerialCounter(Base):
    """The last number drawn in one serial-number scope (e.g. ``aftersales/ticket/ticket_no/SV-20261122-#``)."""

    __tablename__ = "serial_counters"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    updated_at: Mapped[datetime]


class ProjectionTable(Base):
    """The projection table of a form as it exists in the database (DESIGN.md §4)."""

    __tablename__ = "projections"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    form_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63), unique=True)
    #: The engine's projection description (columns, kinds, indexes, child tables).
    spec: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    updated_at: Mapped[datetime]


class Attachment(Base):
    """An uploaded file; its bytes live under ``instance/files/`` by SHA-256."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_record_id", "record_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Which public intake link uploaded it (anonymous uploads).
    intake_id: Mapped[int | None] = mapped_column(
        ForeignKey("intake_links.id", ondelete="SET NULL")
    )
    #: The record that holds it (set when a record write refers to it).
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    #: Which access link (a customer's status link) uploaded it (anonymous uploads).
    access_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_links.id", ondelete="SET NULL")
    )


class IntakeLink(Locked, Base):
    """A public intake form: a tokened link for anonymous submissions of some fields of a form."""

    __tablename__ = "intake_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    #: ``{"zh-CN": ..., "en": ...}``: the title shown above the public form.
    title: Mapped[dict[str, Any]]
    #: Keys of the fields a visitor may fill (and see).
    fields: Mapped[list[Any]]
    #: Owner of submitted records (they belong to nobody otherwise).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enabled: Mapped[bool]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AccessLink(Base):
    """A private link to one record for someone without an account (a customer's ticket status
    page, a satisfaction survey): only the SHA-256 of its random token is stored, so a lost link is
    replaced, not recovered."""

    __tablename__ = "access_links"
    __table_args__ = (
        Index("ix_access_links_record_id", "record_id"),
        Index("ix_access_links_remote_addr_used_at", "remote_addr", "used_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the link opens (``status`` or ``survey``).
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    #: After this instant the link opens nothing (null: it does not expire).
    expires_at: Mapped[datetime | None]
    #: When a single-use link was used (null: unused, or not single-use).
    used_at: Mapped[datetime | None]
    #: Survey links: the form the answer is written to (null for other kinds).
    form_key: Mapped[str | None] = mapped_column(String(64))
    #: Survey links: the reference field of that form the server sets to the subject record.
    link_field: Mapped[str | None] = mapped_column(String(64))
    #: Survey links: a date-time field of the subject stamped when the survey is answered.
    answered_field: Mapped[str | None] = mapped_column(String(64))
    #: Survey links: the address the answer came from (what the answers' rate limit counts).
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class HelpFeedback(Base):
    """A visitor's answer to "did this article solve your problem?" on a public help center
    (:mod:`tangram.platform.public.help`): on the article's page, or offered while filling an
    intake page (a ticket the article deflected). Visitors are told apart only by a keyed hash of
    their address and the day, so one visitor's second answer on the same day replaces the
    first and no address is stored."""

    __tablename__ = "help_feedback"
    __table_args__ = (
        Index("ix_help_feedback_record_id_visitor", "record_id", "visitor"),
        Index("ix_help_feedback_visitor_created_at", "visitor", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    #: Whether the article solved the visitor's problem.
    solved: Mapped[bool]
    #: Where it was answered: ``article`` (the help center) or ``intake`` (a deflection).
    via: Mapped[str] = mapped_column(String(16))
    #: The keyed hash of the visitor's address and day (see the class's description).
    visitor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class RecordSearch(Base):
    """Full-text search rows: one per (record, searched field) holding the field's tokens
    separated by spaces (see :mod:`tangram.platform.records.search`). PostgreSQL reads them
    through a GIN index over their ``tsvector``; SQLite through the FTS5 table
    ``record_search_fts`` kept in step by triggers (both made by migration 0025)."""

    __tablename__ = "record_search"
    __table_args__ = (Index("ix_record_search_record_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    #: The field key (``table.field`` for a sub-table's column).
    field: Mapped[str] = mapped_column(String(130))
    tokens: Mapped[str] = mapped_column(Text)


class IntakeSubmission(Base):
    """One anonymous submission through an intake link (also what the rate limit counts)."""

    __tablename__ = "intake_submissions"
    __table_args__ = (Index("ix_intake_submissions_remote_addr_at", "remote_addr", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("intake_links.id", ondelete="CASCADE"))
    remote_addr: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    at: Mapped[datetime]


class AuditCheckpoint(Base):
    """A signed head of the audit chain: the entry ``seq`` had ``hash`` at ``at``. The signature
    (HMAC-SHA256 with a key kept outside the database) anchors the chain, so deleting its last
    entries or rewriting one with a recomputed hash no longer goes unnoticed."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """A write sent with an ``Idempotency-Key`` header: what it asked (a fingerprint of method,
    path and body) and what it answered, so that a retry gets the same answer instead of a second
    record. ``status`` is 0 while the first request is still running."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("caller", "key", name="uq_idempotency_keys_caller_key"),
        Index("ix_idempotency_keys_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who sent it: ``user:<id>``, ``token:<id>`` or ``anonymous:<address>``.
    caller: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]


class SlaStatus(Base):
    """Where one SLA target of one record stands (kept by the platform, explained to people)."""

    __tablename__ = "sla_status"
    __table_args__ = (UniqueConstraint("record_id", "policy", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    #: The engine's full status (budget, used and paused time, cycle, breaches, explanation).
    detail: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    #: The record's history as the policy reads it, kept so that a write need not replay the
    #: record's audit trail: ``{"reads": [...], "through": <lock_version>, "points": [[at,
    #: {...}], ...]}`` (see ``tangram.platform.rules.sla``); ``None`` until first kept.
    trail: Mapped[dict[str, Any] | None]

    @property
    def cycle(self) -> int:
        """The target's current cycle (1 for statuses kept before targets had cycles)."""
        value = self.detail.get("cycle", 1)
        return value if isinstance(value, int) else 1

    @property
    def breaches(self) -> int:
        """How many of the target's cycles breached (before cycles: whether it breached)."""
        value = self.detail.get("breaches")
        return value if isinstance(value, int) else int(self.breached_at is not None)


class AssignmentCursor(Base):
    """Round-robin position per (rule, candidate pool): the user assigned last."""

    __tablename__ = "assignment_cursors"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_user_id: Mapped[int | None]
    updated_at: Mapped[datetime]


class FlowInstance(Locked, Base):
    """A running (or finished) process on a record, pinned to the version it started with."""

    __tablename__ = "flow_instances"
    __table_args__ = (
        Index("ix_flow_instances_record", "record_id"),
        # one running instance of a flow per record, also when two starts race (migration 0013)
        Index(
            "uq_flow_instances_running",
            "record_id",
            "flow_key",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="RESTRICT"))
    flow_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    form_key: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    #: The engine's state (JSON with its ``schema_version``).
    state: Mapped[dict[str, Any]]
    #: The moves its tokens made, ``[from, to]`` in order (migration 0019; empty before).
    path: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    initiator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_instances.id", ondelete="SET NULL")
    )
    parent_token: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Task(Base):
    """A task of a flow instance, as the inbox lists it (the engine state is the truth)."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "key"),
        Index("ix_tasks_assignee_status", "assignee_id", "status", "id"),
        Index("ix_tasks_actor", "actor_id", "id"),
        Index("ix_tasks_assignee_due", "assignee_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instances.id", ondelete="CASCADE"))
    #: The engine's task id inside the instance.
    key: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    app_key: Mapped[str] = mapped_column(String(64))
    flow_key: Mapped[str] = mapped_column(String(64))
    form_key: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opinion: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    acted_at: Mapped[datetime | None]
    #: When the node's time limit runs out for this task (none when the node sets none).
    due_at: Mapped[datetime | None]


class CarbonCopyEntry(Base):
    """A process copied to someone at a cc node (their CC box)."""

    __tablename__ = "flow_cc"
    __table_args__ = (Index("ix_flow_cc_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instances.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class SavedView(Base):
    """A named set of filters and a sort over one form's record list: a user's own, or shared
    with everyone who may read the form."""

    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("user_id", "app_id", "form_key", "name"),
        Index("ix_saved_views_form", "app_id", "form_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    #: List query parameters as the list endpoint takes them (``status__in`` → ``"new,assigned"``).
    filters: Mapped[dict[str, Any]]
    sort: Mapped[str] = mapped_column(String(300))
    shared: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Rollup(Base):
    """Partial aggregates of one dataset per local day of its day field (see
    :mod:`tangram.platform.reports.rollups`); ``name`` fingerprints the definition it serves."""

    __tablename__ = "rollups"
    __table_args__ = (
        UniqueConstraint("app_id", "name"),
        Index("ix_rollups_form", "app_id", "form_key"),
        Index("ix_rollups_owner", "app_id", "owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    #: What it serves, by shape: ``report:by_type@_created_at|product_line``.
    owner: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(64))
    day_field: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    #: When every day was first computed (``None`` while it is being built).
    built_at: Mapped[datetime | None]


class RollupDay(Base):
    """One local day of a rollup: its tuples (JSON text) and the stamp of the marks they
    reflect."""

    __tablename__ = "rollup_days"

    rollup_id: Mapped[int] = mapped_column(
        ForeignKey("rollups.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)


class RollupMark(Base):
    """How often records with a date field on one UTC day were written: a rollup day whose
    stamp differs from its days' marks is computed again."""

    __tablename__ = "rollup_marks"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    form_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger)


class InboundMailState(StrEnum):
    """Where an inbound e-mail stands."""

    #: Stored, its processing job queued.
    RECEIVED = "received"
    #: Turned into a record or a reply on one.
    PROCESSED = "processed"
    #: Not turned into anything, on purpose (an auto-reply, a loop, too many from the sender).
    REFUSED = "refused"
    #: Every attempt failed: kept for an administrator to look at and retry.
    DEAD = "dead"


class InboundMail(Base):
    """One e-mail received by the SMTP endpoint, stored raw before the transaction is
    acknowledged, then processed by a job: never lost, its outcome kept."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        Index("ix_inbound_mails_state_id", "state", "id"),
        Index("ix_inbound_mails_sender_received_at", "sender", "received_at"),
        Index("ix_inbound_mails_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The envelope recipient that chose the channel (``service@mail.example.com``).
    recipient: Mapped[str] = mapped_column(String(320))
    #: The envelope sender (``MAIL FROM``; empty for bounces).
    envelope_from: Mapped[str] = mapped_column(String(320))
    #: The address of the ``From`` header, lowercased (empty until parsed or when unreadable).
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")
    #: The message exactly as received.
    raw: Mapped[bytes] = mapped_column(LargeBinary())
    size: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    #: Why it was refused or given up (``auto_submitted``, ``loop``, …), or how it was used
    #: (``created``, ``replied``).
    outcome: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text())
    #: The record it created or replied on.
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    #: The status link made for a record it created (replies by mail go through it).
    access_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_links.id", ondelete="SET NULL")
    )
    #: The customer reply it became.
    comment_id: Mapped[int | None]
    #: Whether an acknowledgement was queued back to the sender.
    acknowledged: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
