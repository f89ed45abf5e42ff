"""The full-text search index of records: ``record_search``, one row per (record, searched field).

What is searched and how text becomes tokens is the form engine's (``tangram.engines.forms.search``);
this module cuts Chinese with jieba, keeps the rows in step with the record events in the writing
transaction, rebuilds them (``tangram records reindex``) and turns query tokens into SQL:

- PostgreSQL: ``array_to_tsvector(string_to_array(tokens, ' ')) @@ 'token':*`` through a GIN index
  over that expression (the tokens are the lexemes; no text-search parser touches them);
- SQLite: the FTS5 table ``record_search_fts`` (external content: ``record_search``, kept in step
  by triggers), ``MATCH '"token"*'``.

Every token matches as a prefix, and every token of a query must match in some field the viewer
may read: a hidden field's row is never consulted, so it cannot make a record findable.

jieba loads its dictionary (0.6 s on an idle machine, seconds on a busy one; it ships in the package
and needs no network) once per process, under a lock, never from a cache another user could have
left in the shared temporary folder: ``tangram serve`` loads it as it starts (in gunicorn's master,
before the workers are forked from it), so that no request waits for it.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    column,
    delete,
    false,
    func,
    insert,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import Boolean

from tangram.engines.forms import ColumnKind, Form, Projection
from tangram.engines.forms.search import Segmenter, document_tokens
from tangram.platform.kernel.events import Event, EventBus
from tangram.platform.kernel.models import Record, RecordSearch
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled

_TABLE = cast(Table, RecordSearch.__table__)
#: The statements of every record write, built once.
_INSERT = insert(_TABLE)
_DELETE = delete(_TABLE).where(_TABLE.c.record_id == bindparam("record"))
_DELETE_FIELDS = _DELETE.where(_TABLE.c.field.in_(bindparam("fields", expanding=True)))
T = TypeVar("T")


class Once(Generic[T]):
    """A value made on first use, once per process: callers arriving during the making wait for
    it instead of making their own."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: T | None = None

    def __call__(self) -> T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


def _jieba() -> Segmenter:
    with warnings.catch_warnings():  # its sources predate Python's escape-sequence warnings
        warnings.simplefilter("ignore")
        import jieba  # type: ignore[import-untyped]

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    # jieba would read (and write) a cache of its dictionary in the shared temporary folder,
    # where another local user could leave one of their own: it writes into a folder of ours
    # instead, removed once loaded, so the dictionary is always read from the package.
    with tempfile.TemporaryDirectory(prefix="tangram-jieba-") as private:
        tokenizer.tmp_dir = private
        tokenizer.initialize()
    cut: Segmenter = tokenizer.cut_for_search
    return cut


#: jieba's search-mode cut, its dictionary loaded on first use, once per process.
segmenter: Once[Segmenter] = Once(_jieba)


def field_names(projection: Projection, hidden: Collection[str] = ()) -> list[str]:
    """The index's field names of a form (text and option fields; ``table.field`` for a
    sub-table's), without those under ``hidden`` (fields the viewer may not read)."""
    searched = (ColumnKind.TEXT, ColumnKind.ARRAY)
    names = [c.key for c in projection.columns if c.kind in searched and c.key not in hidden]
    for child in projection.children:
        if child.key not in hidden:
            names.extend(f"{child.key}.{c.key}" for c in child.columns if c.kind in searched)
    return names


# --- writing ---------------------------------------------------------------------------------


def _rows(
    form: Form, record_id: int, data: Mapping[str, Any], only: Collection[str] | None
) -> list[dict[str, Any]]:
    fields = form.fields if only is None else [f for f in form.fields if f.key in only]
    found = document_tokens(fields, data, segmenter())
    return [{"record_id": record_id, "field": name, "tokens": text} for name, text in found.items()]


def write(
    uow: UnitOfWork,
    form: Form,
    record_id: int,
    data: Mapping[str, Any],
    *,
    changed: Collection[str] | None = None,
    fresh: bool = False,
) -> None:
    """Replace a record's search rows (only those of the ``changed`` top-level fields, when
    given) with its document's; a ``fresh`` record (just created) has none to replace."""
    connection = uow.session.connection()
    if changed is None:
        if not fresh:
            connection.execute(_DELETE, {"record": record_id})
    elif not changed:
        return
    elif not fresh:
        names = set(changed) | {
            f"{key}.{c.key}"
            for child in form.projection.children
            if (key := child.key) in changed
            for c in child.columns
        }
        connection.execute(_DELETE_FIELDS, {"record": record_id, "fields": sorted(names)})
    rows = _rows(form, record_id, data, changed)
    if rows:
        connection.execute(_INSERT, rows)


def remove(uow: UnitOfWork, record_id: int) -> None:
    """Drop a record's search rows (it was deleted)."""
    table = _TABLE
    uow.session.connection().execute(delete(table).where(table.c.record_id == record_id))


def rebuild(uow: UnitOfWork, app_id: int, form_key: str, form: Form) -> int:
    """Rebuild the search rows of a form's live records from their documents; how many records."""
    table = _TABLE
    connection = uow.session.connection()
    ids = select(Record.id).where(Record.app_id == app_id, Record.form_key == form_key)
    connection.execute(delete(table).where(table.c.record_id.in_(ids)))
    count, after, segment = 0, 0, segmenter()
    while True:
        batch = connection.execute(
            select(Record.id, Record.data)
            .where(
                Record.app_id == app_id,
                Record.form_key == form_key,
                Record.deleted_at.is_(None),
                Record.id > after,
            )
            .order_by(Record.id)
            .limit(1000)
        ).all()
        if not batch:
            return count
        rows = [
            {"record_id": record_id, "field": name, "tokens": text}
            for record_id, data in batch
            for name, text in document_tokens(form.fields, data, segment).items()
        ]
        if rows:
            connection.execute(insert(table), rows)
        count += len(batch)
        after = batch[-1].id


def never_indexed(uow: UnitOfWork, app_id: int, form_key: str) -> bool:
    """Whether a form has live records and none of its records has a search row: its words
    were never written (an installation upgraded to the search, whose migration leaves the
    index empty). Two index probes."""
    live = select(Record.id).where(
        Record.app_id == app_id, Record.form_key == form_key, Record.deleted_at.is_(None)
    )
    table = _TABLE
    indexed = (
        select(table.c.record_id)
        .join(Record, Record.id == table.c.record_id)
        .where(Record.app_id == app_id, Record.form_key == form_key)
    )
    connection = uow.session.connection()
    has_records = connection.execute(select(live.exists())).scalar()
    return bool(has_records) and not connection.execute(select(indexed.exists())).scalar()


def _on_record(uow: UnitOfWork, event: Event) -> None:
    record_id = int(event.object_id)
    if event.name == "record.deleted":
        remove(uow, record_id)
        return
    # The record as it stands: a rule reacting to the same write may have changed it since.
    record = uow.session.get(Record, record_id)
    if record is None or record.deleted_at is not None:
        return
    _, form = compiled.form(uow, event.app, event.subject)
    changed = event.payload.get("changed") if event.name == "record.updated" else None
    write(
        uow,
        form,
        record_id,
        record.data,
        changed=None if changed is None else list(changed),
        fresh=event.name == "record.created",
    )


#: The record events that change what search finds.
RECORD_EVENTS = ("record.created", "record.updated", "record.deleted", "record.restored")


def install(events: EventBus[UnitOfWork]) -> None:
    """Keep the search rows in step with every record write, in its transaction."""
    for name in RECORD_EVENTS:
        events.subscribe(name, _on_record)


# --- reading ---------------------------------------------------------------------------------


_FTS = table("record_search_fts", column("rowid"))


class _ByDialect(ColumnElement[bool]):
    """One condition written twice: for PostgreSQL and for SQLite (chosen when compiled)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, postgresql: ColumnElement[bool], sqlite: ColumnElement[bool]) -> None:
        self.postgresql = postgresql
        self.sqlite = sqlite


@compiles(_ByDialect)
def _compile_by_dialect(element: _ByDialect, compiler: SQLCompiler, **kw: Any) -> str:
    chosen = element.postgresql if compiler.dialect.name == "postgresql" else element.sqlite
    return compiler.process(chosen, **kw)


def _lexemes() -> ColumnElement[Any]:
    """A search row's words as PostgreSQL lexemes (the GIN index's expression)."""
    return func.array_to_tsvector(func.string_to_array(_TABLE.c.tokens, " "))


def _lexemes_hold(lexemes: ColumnElement[Any], tokens: Iterable[str]) -> ColumnElement[bool]:
    """PostgreSQL: ``lexemes`` hold a word starting with one of ``tokens``."""
    query = " | ".join(f"'{token}':*" for token in tokens)
    return lexemes.op("@@")(cast_(bindparam(None, query), TSQUERY))


def _fts_holds(tokens: Iterable[str]) -> ColumnElement[bool]:
    """SQLite: the FTS5 rows holding a word starting with one of ``tokens``."""
    query = " OR ".join(f'"{token}"*' for token in tokens)
    return literal_column("record_search_fts").op("MATCH")(bindparam(None, query))


def holds(record_id: ColumnElement[Any], token: str, fields: list[str]) -> ColumnElement[bool]:
    """Records with a row in one of ``fields`` holding a word that starts with ``token``."""
    on_postgresql = record_id.in_(
        select(_TABLE.c.record_id).where(
            _TABLE.c.field.in_(fields), _lexemes_hold(_lexemes(), [token])
        )
    )
    # SQLite: driven by the FTS5 index (its matches, then their rows by primary key)
    on_sqlite = record_id.in_(
        select(_TABLE.c.record_id)
        .select_from(_FTS.join(_TABLE, _TABLE.c.id == _FTS.c.rowid))
        .where(
            _fts_holds([token]),
            _TABLE.c.field.in_(fields),
        )
    )
    return _ByDialect(on_postgresql, on_sqlite)


def matches(
    record_id: ColumnElement[Any], tokens: Iterable[str], fields: Collection[str]
) -> ColumnElement[bool]:
    """Records (``record_id``: the column naming them) holding every token, each in one of
    ``fields``. Tokens come from :func:`tangram.engines.forms.search.tokens`: letters and digits
    only, so quoting them for either query language is safe."""
    wanted = list(tokens)
    if not wanted:
        return true()
    if not fields:
        return false()
    names = sorted(fields)
    return and_(*(holds(record_id, token, names) for token in wanted))


def _row_holds(tokens: list[str]) -> ColumnElement[bool]:
    """This search row holds a word starting with one of ``tokens``."""
    on_postgresql = _lexemes_hold(_lexemes(), tokens)
    on_sqlite = _TABLE.c.id.in_(select(_FTS.c.rowid).where(_fts_holds(tokens)))
    return _ByDialect(on_postgresql, on_sqlite)


def hits(tokens: Iterable[str], fields: Collection[str], dialect: str) -> Select[Any]:
    """One pass over the search rows of ``fields`` that hold any of ``tokens``: each row's
    ``record_id``, ``field`` and, per token in order, whether the row holds it (``hit_0``, …) —
    what ranking by shared words needs, in a single scan instead of one per token. Join it to the
    records it may return (``record_id``). On PostgreSQL each row's lexemes are made once (a
    materialised CTE), not once per token."""
    wanted = list(tokens)
    if not wanted:
        return select(_TABLE.c.record_id, _TABLE.c.field).where(false())
    if dialect != "postgresql":
        held = [_row_holds([token]).label(f"hit_{i}") for i, token in enumerate(wanted)]
        return select(_TABLE.c.record_id, _TABLE.c.field, *held).where(
            _TABLE.c.field.in_(sorted(fields)), _row_holds(wanted)
        )
    lexemes = _lexemes()
    rows = (
        select(_TABLE.c.record_id, _TABLE.c.field, lexemes.label("tsv"))
        .where(_TABLE.c.field.in_(sorted(fields)), _lexemes_hold(lexemes, wanted))
        .cte("search_rows")
        .prefix_with("MATERIALIZED")
    )
    return select(
        rows.c.record_id,
        rows.c.field,
        *(_lexemes_hold(rows.c.tsv, [token]).label(f"hit_{i}") for i, token in enumerate(wanted)),
    )
