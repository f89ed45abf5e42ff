"""Inbound e-mail: ``inbound_mails``, every message the SMTP endpoint accepted, stored raw before
the transaction is acknowledged, with its state, attempts, last error and resulting record.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("envelope_from", sa.String(length=320), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("access_link_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_inbound_mails_record_id_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["access_link_id"],
            ["access_links.id"],
            name=op.f("fk_inbound_mails_access_link_id_access_links"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
    )
    op.create_index("ix_inbound_mails_state_id", "inbound_mails", ["state", "id"])
    op.create_index(
        "ix_inbound_mails_sender_received_at", "inbound_mails", ["sender", "received_at"]
    )
    op.create_index("ix_inbound_mails_record_id", "inbound_mails", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_mails_record_id", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_sender_received_at", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_state_id", table_name="inbound_mails")
    op.drop_table("inbound_mails")
