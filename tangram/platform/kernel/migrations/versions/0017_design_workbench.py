"""The design workbench: apps have an icon and a time zone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("apps", sa.Column("icon", sa.String(64), nullable=True))
    op.add_column(
        "apps",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
    )


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+): a batch copy would break the foreign keys pointing here
    op.execute("ALTER TABLE apps DROP COLUMN time_zone")
    op.execute("ALTER TABLE apps DROP COLUMN icon")
