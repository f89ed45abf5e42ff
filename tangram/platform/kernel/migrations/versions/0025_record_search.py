"""Full-text search over records: ``record_search``, one row per (record, searched field).

Each row holds the field's tokens separated by spaces (Chinese already cut into words by jieba,
see ``tangram.platform.records.search``). PostgreSQL searches them through a GIN index over
``array_to_tsvector(string_to_array(tokens, ' '))`` (the tokens taken as lexemes, untouched by a
text-search parser); SQLite through the FTS5 table ``record_search_fts``, an external-content
index of ``record_search`` kept in step by three triggers.

The table starts empty: ``tangram records reindex`` fills it from the records (until then the
list's search box finds nothing by words in records written before this migration, but still
finds them by number).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE record_search_fts USING fts5(tokens, content='record_search', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER record_search_ai AFTER INSERT ON record_search BEGIN "
    "INSERT INTO record_search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER record_search_ad AFTER DELETE ON record_search BEGIN "
    "INSERT INTO record_search_fts(record_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER record_search_au AFTER UPDATE ON record_search BEGIN "
    "INSERT INTO record_search_fts(record_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO record_search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS record_search_au",
    "DROP TRIGGER IF EXISTS record_search_ad",
    "DROP TRIGGER IF EXISTS record_search_ai",
    "DROP TABLE IF EXISTS record_search_fts",
)


def upgrade() -> None:
    op.create_table(
        "record_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=130), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_search_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_search")),
    )
    op.create_index("ix_record_search_record_id", "record_search", ["record_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_record_search_tsv ON record_search "
            "USING gin (array_to_tsvector(string_to_array(tokens, ' ')))"
        )
    else:
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_record_search_tsv")
    else:
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    op.drop_index("ix_record_search_record_id", table_name="record_search")
    op.drop_table("record_search")
