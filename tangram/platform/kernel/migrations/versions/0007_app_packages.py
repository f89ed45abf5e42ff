"""App packages: the manifest and UI strings an app was installed with, and each install's record.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("apps", sa.Column("manifest", JSON, nullable=True))
    op.add_column("apps", sa.Column("i18n", JSON, nullable=True))
    op.create_table(
        "app_installs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("previous_version", sa.String(length=64), nullable=True),
        sa.Column("manifest", JSON, nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.Integer(), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_installs_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["installed_by"],
            ["users.id"],
            name=op.f("fk_app_installs_installed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_installs")),
    )
    op.create_index(op.f("ix_app_installs_app_id"), "app_installs", ["app_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_app_installs_app_id"), table_name="app_installs")
    op.drop_table("app_installs")
    # plain ALTER TABLE (SQLite 3.35+): a batch copy of ``apps`` would break its foreign keys
    op.execute("ALTER TABLE apps DROP COLUMN i18n")
    op.execute("ALTER TABLE apps DROP COLUMN manifest")
