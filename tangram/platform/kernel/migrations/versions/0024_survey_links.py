"""Survey links: an access link of kind ``survey`` names the form its answer is written to.

``access_links`` gain ``form_key`` (the survey form), ``link_field`` (the reference field of the
survey form that the answer's server sets to the subject record) and ``answered_field`` (an
optional date-time field of the subject the answer stamps, which a timer rule may read), and
``remote_addr``, the address a survey was answered from (what the answers' rate limit counts).
They are null for status links.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_links") as batch:
        batch.add_column(sa.Column("form_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("link_field", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("answered_field", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("remote_addr", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_access_links_remote_addr_used_at",
        "access_links",
        ["remote_addr", "used_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_access_links_remote_addr_used_at", table_name="access_links")
    with op.batch_alter_table("access_links") as batch:
        batch.drop_column("remote_addr")
        batch.drop_column("answered_field")
        batch.drop_column("link_field")
        batch.drop_column("form_key")
