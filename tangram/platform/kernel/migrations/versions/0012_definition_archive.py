"""Definitions can be archived: ``archived_at`` is set while a published definition is retired
(hidden from launchers and exports, kept for history); existing rows stay live (NULL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "definitions", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+): a batch copy of ``definitions`` would break the foreign
    # keys of its versions
    op.execute("ALTER TABLE definitions DROP COLUMN archived_at")
