"""Every main projection table gets an index on the ``_created_at`` of its live records.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tangram.platform.kernel.models.projection import created_index_name

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _tables() -> list[str]:
    rows = op.get_bind().execute(sa.text("SELECT table_name FROM projections"))
    return [str(r[0]) for r in rows]


def upgrade() -> None:
    for table in _tables():
        op.create_index(
            created_index_name(table),
            table,
            ["_created_at"],
            if_not_exists=True,
            sqlite_where=sa.text("_deleted_at IS NULL"),
            postgresql_where=sa.text("_deleted_at IS NULL"),
        )


def downgrade() -> None:
    for table in _tables():
        op.drop_index(created_index_name(table), table_name=table, if_exists=True)
