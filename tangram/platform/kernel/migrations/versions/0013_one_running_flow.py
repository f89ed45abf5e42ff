"""One running instance of a flow per record: a partial unique index, so that two starts racing on
PostgreSQL cannot both insert (the check before the insert sees neither). Older duplicates, if
any, are marked cancelled first, keeping the newest.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.execute(
        "UPDATE flow_instances SET status = 'cancelled' WHERE status = 'running' AND id NOT IN "
        "(SELECT newest FROM (SELECT MAX(id) AS newest FROM flow_instances "
        "WHERE status = 'running' GROUP BY record_id, flow_key) AS kept)"
    )
    op.create_index(
        "uq_flow_instances_running",
        "flow_instances",
        ["record_id", "flow_key"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_flow_instances_running", table_name="flow_instances")
