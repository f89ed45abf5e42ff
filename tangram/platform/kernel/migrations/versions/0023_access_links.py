"""Access links and public comments: a customer follows a record through a private link.

``access_links`` holds private links to one record for people without an account (the status
page an intake submission returns; surveys later): the SHA-256 of the token, what the link
opens (``kind``), an optional expiry and the instant a single-use link was used. ``comments``
gain ``public`` (the customer sees it), ``from_customer`` (written through the status link,
without an author), ``attachments`` and the ``remote_addr`` a customer's reply came from (what
the reply limit counts); ``attachments`` gain the access link that uploaded them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "access_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_access_links_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_links_token_hash")),
    )
    op.create_index("ix_access_links_record_id", "access_links", ["record_id"], unique=False)
    with op.batch_alter_table("comments") as batch:
        batch.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch.add_column(
            sa.Column(
                "from_customer", sa.Boolean(), nullable=False, server_default=sa.text("false")
            )
        )
        batch.add_column(
            sa.Column("attachments", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("remote_addr", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_comments_remote_addr_created_at",
        "comments",
        ["remote_addr", "created_at"],
        unique=False,
    )
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("access_link_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_attachments_access_link_id_access_links"),
            "access_links",
            ["access_link_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint(
            batch.f("fk_attachments_access_link_id_access_links"), type_="foreignkey"
        )
        batch.drop_column("access_link_id")
    op.drop_index("ix_comments_remote_addr_created_at", table_name="comments")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("remote_addr")
        batch.drop_column("attachments")
        batch.drop_column("from_customer")
        batch.drop_column("public")
    op.drop_index("ix_access_links_record_id", table_name="access_links")
    op.drop_table("access_links")
