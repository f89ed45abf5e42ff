"""Search finds a word by any of its Chinese characters: a record's search rows now also hold each
Chinese character of its words (``index_tokens``). The rows written before lack them, so they are
dropped here; ``tangram db upgrade`` (which runs this) then writes every form's rows again, as it
does for forms never indexed (``tangram records reindex`` does the same by hand).

Revision ID: 0029
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM record_search")


def downgrade() -> None:
    """Nothing to undo: rows with the characters are still rows the former search reads."""
