"""Flow instances keep the path their tokens took: each move from one node to the next, in order,
as the engine reports it while a command runs (the live instance view draws it). Instances
started before keep an empty path; their view falls back to the nodes their history names.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column(
        "flow_instances", sa.Column("path", JSON, nullable=False, server_default=sa.text("'[]'"))
    )


def downgrade() -> None:
    op.drop_column("flow_instances", "path")
