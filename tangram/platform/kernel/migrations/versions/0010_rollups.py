"""Rollups: reports' partial aggregates per local day, and marks of the days records were written.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_marks",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_rollup_marks_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "form_key", "field", "day", name=op.f("pk_rollup_marks")),
    )
    op.create_table(
        "rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("day_field", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_rollups_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollups")),
        sa.UniqueConstraint("app_id", "name", name=op.f("uq_rollups_app_id_name")),
    )
    op.create_index("ix_rollups_form", "rollups", ["app_id", "form_key"], unique=False)
    op.create_index("ix_rollups_owner", "rollups", ["app_id", "owner"], unique=False)
    op.create_table(
        "rollup_days",
        sa.Column("rollup_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollup_id"],
            ["rollups.id"],
            name=op.f("fk_rollup_days_rollup_id_rollups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rollup_id", "day", name=op.f("pk_rollup_days")),
    )


def downgrade() -> None:
    op.drop_table("rollup_days")
    op.drop_index("ix_rollups_owner", table_name="rollups")
    op.drop_index("ix_rollups_form", table_name="rollups")
    op.drop_table("rollups")
    op.drop_table("rollup_marks")
