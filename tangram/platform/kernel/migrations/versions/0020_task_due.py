"""Tasks keep when their node's time limit runs out, so that the inbox can put what is due
first. Tasks opened before keep none: their limit was only in the flow's state.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_tasks_assignee_due", "tasks", ["assignee_id", "status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_assignee_due", table_name="tasks")
    op.drop_column("tasks", "due_at")
