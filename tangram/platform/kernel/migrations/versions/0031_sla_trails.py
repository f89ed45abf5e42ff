"""SLA trails: ``sla_status.trail`` keeps a record's history as its policy reads it (the first
snapshot and each where a field the policy reads changed), so that refreshing an SLA on a write
no longer replays the record's whole audit trail. Rows kept before it have none: their first
refresh replays the audit trail once and keeps the result.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE ... ADD COLUMN (nullable, no default): no batch copy of the table
    op.add_column(
        "sla_status",
        sa.Column("trail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("sla_status") as batch:
        batch.drop_column("trail")
