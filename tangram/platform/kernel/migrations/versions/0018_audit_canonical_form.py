"""Audit entries name the canonical form their hash was computed over.

Entries written so far keep form 1 (Python's JSON text) and verify as before; new entries are
hashed over the JSON Canonicalization Scheme (RFC 8785, form 2), in which ``1`` and ``1.0`` are
one number and a number PostgreSQL's JSONB rewrote (``1e16`` read back as
``10000000000000000``) hashes as it did when written. Adding a column with a default rewrites no
row, so the append-only triggers are not involved.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_log", sa.Column("canon", sa.SmallInteger(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+): a batch copy would trip the append-only triggers
    op.execute("ALTER TABLE audit_log DROP COLUMN canon")
