"""Apps carry a tag that changes with every publication (caches of published definitions key on it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "apps", sa.Column("metadata_tag", sa.String(length=32), nullable=False, server_default="")
    )
    bind = op.get_bind()
    for (app_id,) in bind.execute(sa.text("SELECT id FROM apps")).all():
        bind.execute(
            sa.text("UPDATE apps SET metadata_tag = :tag WHERE id = :id"),
            {"tag": uuid.uuid4().hex, "id": app_id},
        )


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+): a batch copy of ``apps`` would break its foreign keys
    op.execute("ALTER TABLE apps DROP COLUMN metadata_tag")
