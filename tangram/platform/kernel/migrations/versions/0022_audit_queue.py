"""Audit entries are queued by writers and chained by one sequencer.

``audit_log`` gains an insertion ``id`` (the primary key; existing entries keep ``id = seq``) and
a ``digest`` (the writer's keyed digest of the entry); ``seq``, ``prev_hash`` and ``hash`` may be
empty while an entry waits for the sequencer. A partial index holds the queue.

The triggers still refuse every DELETE, and every UPDATE but one: filling in the empty chain
columns of a queued entry (all three at once, nothing else changed). A chained entry can never be
changed, and a queued one is chained exactly once.

A downgrade chains the queued entries first; entries chained in form 3 do not verify under the
older code (their hash covers the id and digest the downgrade drops).

SQLite cannot change a primary key in place: the table is rebuilt (its triggers are dropped
first, so the copy is plain INSERTs). PostgreSQL changes it in place.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"
#: Every column a chaining UPDATE must leave as it was.
KEPT = ("id", "at", "actor_id", "actor", "action", "object_type", "object_id", "digest", "canon")
#: What the one allowed UPDATE does: chain columns from empty to set, the rest unchanged.
CHAINING = (
    "OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL "
    "AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL "
)


def _kept(same: str) -> str:
    return " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in KEPT)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_postgresql() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("ALTER TABLE audit_log DROP CONSTRAINT pk_audit_log")
    op.execute("ALTER TABLE audit_log ADD COLUMN id BIGINT")
    op.execute("UPDATE audit_log SET id = seq")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id SET NOT NULL")
    op.execute("ALTER TABLE audit_log ADD CONSTRAINT pk_audit_log PRIMARY KEY (id)")
    op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
    op.execute(
        "SELECT setval('audit_log_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM audit_log), false)"
    )
    for column in ("seq", "prev_hash", "hash"):
        op.execute(f"ALTER TABLE audit_log ALTER COLUMN {column} DROP NOT NULL")
    op.execute("ALTER TABLE audit_log ADD CONSTRAINT uq_audit_log_seq UNIQUE (seq)")
    op.execute("ALTER TABLE audit_log ADD COLUMN digest VARCHAR(64)")
    op.execute("CREATE INDEX ix_audit_log_queued ON audit_log (id) WHERE seq IS NULL")
    # payload is JSONB: equality compares values
    kept = _kept("IS NOT DISTINCT FROM") + " AND NEW.payload = OLD.payload"
    op.execute(
        "CREATE FUNCTION tangram_audit_chain_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {CHAINING} AND {kept} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_chain_once BEFORE UPDATE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION tangram_audit_chain_once()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION tangram_append_only()"
    )


def _content() -> list[sa.Column[object]]:
    """The columns an entry's content is kept in (as 0001 made them)."""
    return [
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
    ]


#: The columns both forms of the table share, in the order the copies name them.
SHARED = "seq, at, actor_id, actor, action, object_type, object_id, payload, prev_hash, hash, canon"


def _upgrade_sqlite() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.execute("DROP INDEX IF EXISTS ix_audit_log_object")
    op.execute("ALTER TABLE audit_log RENAME TO audit_log_before_0022")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        *_content(),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("canon", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("seq", name="uq_audit_log_seq"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.execute(
        f"INSERT INTO audit_log (id, {SHARED}) SELECT seq, {SHARED} FROM audit_log_before_0022"  # noqa: S608 - constant names
    )
    op.execute("DROP TABLE audit_log_before_0022")
    op.execute("CREATE INDEX ix_audit_log_object ON audit_log (object_type, object_id)")
    op.execute("CREATE INDEX ix_audit_log_queued ON audit_log (id) WHERE seq IS NULL")
    op.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        f"WHEN NOT ({CHAINING} AND {_kept('IS')} AND NEW.payload IS OLD.payload) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def downgrade() -> None:
    """Back to one chained table: the entries still queued are chained first (the sequencer's
    own function: at this revision the table is the one the model describes)."""
    from sqlalchemy.orm import Session

    from tangram.platform.kernel import audit

    bind = op.get_bind()
    session = Session(bind=bind)
    while len(audit.chain_queued(session, wait=True)) == audit.BATCH:
        pass
    session.flush()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_chain_once ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS tangram_audit_chain_once()")
        op.execute("DROP INDEX IF EXISTS ix_audit_log_queued")
        op.execute("ALTER TABLE audit_log DROP CONSTRAINT uq_audit_log_seq")
        op.execute("ALTER TABLE audit_log DROP CONSTRAINT pk_audit_log")
        op.execute("ALTER TABLE audit_log DROP COLUMN id")
        op.execute("ALTER TABLE audit_log DROP COLUMN digest")
        for column in ("seq", "prev_hash", "hash"):
            op.execute(f"ALTER TABLE audit_log ALTER COLUMN {column} SET NOT NULL")
        op.execute("ALTER TABLE audit_log ADD CONSTRAINT pk_audit_log PRIMARY KEY (seq)")
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION tangram_append_only()"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.execute("DROP INDEX IF EXISTS ix_audit_log_object")
    op.execute("DROP INDEX IF EXISTS ix_audit_log_queued")
    op.execute("ALTER TABLE audit_log RENAME TO audit_log_after_0022")
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        *_content(),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("canon", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.execute(f"INSERT INTO audit_log ({SHARED}) SELECT {SHARED} FROM audit_log_after_0022")  # noqa: S608
    op.execute("DROP TABLE audit_log_after_0022")
    op.execute("CREATE INDEX ix_audit_log_object ON audit_log (object_type, object_id)")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
