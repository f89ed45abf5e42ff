"""Help centers: ``help_feedback``, visitors' answers to "did this article solve your problem?"
on an article's public page or on an intake page that suggested it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_help_feedback_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_feedback")),
    )
    op.create_index("ix_help_feedback_record_id_visitor", "help_feedback", ["record_id", "visitor"])
    op.create_index(
        "ix_help_feedback_visitor_created_at", "help_feedback", ["visitor", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_help_feedback_visitor_created_at", table_name="help_feedback")
    op.drop_index("ix_help_feedback_record_id_visitor", table_name="help_feedback")
    op.drop_table("help_feedback")
