"""Projection tables: a typed table per published form, a child table per sub-table (DESIGN.md §4).

The record's JSON document stays the truth; its projection row is written in the same
transaction by the records service, so lists, filters, sorting and reports can run on real,
indexed columns. Tables are created when a form is first published, altered in place when a new
version only adds columns (or changes indexes), rebuilt from the documents when it changes or
removes one, and can always be rebuilt with ``tangram records reindex``.

Names never come from requests: a table is ``rp_<app id>_<form key>`` (child tables add
``__<sub-table key>``), columns are the field keys (validated identifiers), and the record's
own columns start with ``_`` (which field keys cannot).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.types import TypeEngine

from tangram.engines.common import Diagnostic
from tangram.engines.forms import Column as ProjectedColumn
from tangram.engines.forms import ColumnKind, Form, Projection
from tangram.platform.kernel.caches import Caches
from tangram.platform.kernel.errors import TangramError, ValidationFailed
from tangram.platform.kernel.models import ProjectionTable, Record, Rollup, UTCDateTime
from tangram.platform.kernel.models.projection import (
    Tables as Tables,  # re-exported: what ready() gives
)
from tangram.platform.kernel.models.projection import created_index_name, identifier
from tangram.platform.kernel.uow import UnitOfWork, translated_errors

ID = BigInteger().with_variant(Integer(), "sqlite")
BATCH = 1000
_SQL_TYPES: dict[ColumnKind, TypeEngine[Any]] = {
    ColumnKind.TEXT: Text(),
    ColumnKind.INTEGER: BigInteger(),
    ColumnKind.FLOAT: Double(),
    ColumnKind.DECIMAL: Numeric(20, 4, asdecimal=False),
    ColumnKind.BOOLEAN: Boolean(),
    ColumnKind.DATE: Date(),
    ColumnKind.DATETIME: UTCDateTime(),
    ColumnKind.ARRAY: Text(),
}
_RECORD_COLUMNS = (
    "id",
    "data",
    "form_version",
    "owner_id",
    "group_id",
    "created_at",
    "updated_at",
    "deleted_at",
)


class ProjectionMissing(TangramError):
    """The form's projection table has not been built (a database from before projections)."""

    status = 503
    title = "Projection not built"
    default_code = "projection.missing"


def table_name(app_id: int, form_key: str) -> str:
    """The main table of a form's projection."""
    return identifier("rp", str(app_id), form_key)


def _column(c: ProjectedColumn) -> Column[Any]:
    return Column(c.key, _SQL_TYPES[c.kind], nullable=True)


def _build(app_id: int, form_key: str, projection: Projection) -> Tables:
    metadata = MetaData()
    name = table_name(app_id, form_key)
    main = Table(
        name,
        metadata,
        Column(
            "_id",
            ID,
            ForeignKey(Record.__table__.c.id, ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        Column("_form_version", Integer, nullable=False),
        Column("_owner", ID),
        Column("_group", ID),
        Column("_created_at", UTCDateTime(), nullable=False),
        Column("_updated_at", UTCDateTime(), nullable=False),
        Column("_deleted_at", UTCDateTime()),
        *(_column(c) for c in projection.columns),
    )
    live = main.c._deleted_at.is_(None)
    # live records only: a trend of counts by creation date reads nothing but this index
    Index(
        created_index_name(name),
        main.c._created_at,
        sqlite_where=live,
        postgresql_where=live,
    )
    for c in projection.columns:
        if c.unique:
            Index(
                identifier("ux", name, c.key),
                main.c[c.key],
                unique=True,
                sqlite_where=live,
                postgresql_where=live,
            )
        elif c.indexed:
            Index(identifier("ix", name, c.key), main.c[c.key], main.c._id)
    children = {}
    for child in projection.children:
        child_name = identifier("rp", str(app_id), form_key, "", child.key)
        table = Table(
            child_name,
            metadata,
            Column(
                "_record",
                ID,
                ForeignKey(main.c._id, ondelete="CASCADE"),
                primary_key=True,
                autoincrement=False,
            ),
            Column("_row", Integer, primary_key=True, autoincrement=False),
            *(_column(c) for c in child.columns),
        )
        for c in child.columns:
            if c.indexed:
                Index(identifier("ix", child_name, c.key), table.c[c.key], table.c._record)
        children[child.key] = table
    return Tables(projection, main, children)


def tables(caches: Caches, app_id: int, form_key: str, projection: Projection) -> Tables:
    """The tables of a projection (built once per digest in a platform)."""
    key = (app_id, form_key, projection.digest)
    return caches.projection_tables.setdefault(key, lambda: _build(app_id, form_key, projection))


# --- keeping the tables in step with the published form --------------------------------------


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What :func:`sync` did: ``created``, ``altered``, ``rebuilt`` or ``unchanged``."""

    action: str
    table: str
    rows: int = 0
    added: tuple[str, ...] = ()


def sync(
    uow: UnitOfWork,
    app_id: int,
    form_key: str,
    version: int,
    form: Form,
    *,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Make the database hold the projection of ``form`` (called when a version is published)."""
    new = tables(uow.caches, app_id, form_key, form.projection)
    row = uow.session.get(ProjectionTable, (app_id, form_key))
    if row is not None and row.digest == form.projection.digest:
        row.form_version = version
        return SyncReport("unchanged", new.main.name)
    connection = uow.session.connection()
    old = (
        tables(uow.caches, app_id, form_key, Projection.from_description(row.spec)) if row else None
    )
    added = _additions(old.projection, form.projection) if old else None
    if old is not None and added is not None:
        rows = _alter(uow, app_id, form_key, form, old, new, added)
        report = SyncReport("altered", new.main.name, rows, tuple(added))
    else:
        # First publication, or a change a column cannot follow: build from the documents.
        _drop(connection, old or new)  # without a registry row: leftovers of an interrupted past
        _create(connection, new)
        rows = _populate(uow, app_id, form_key, form, new, progress=progress)
        report = SyncReport("rebuilt" if row else "created", new.main.name, rows)
    forget_rollups(uow, app_id, form_key)
    if row is None:
        row = ProjectionTable(app_id=app_id, form_key=form_key, table_name=new.main.name)
        uow.session.add(row)
    row.spec = form.projection.describe()
    row.digest = form.projection.digest
    row.form_version = version
    row.updated_at = uow.now
    uow.flush()
    return report


def rebuild(
    uow: UnitOfWork,
    app_id: int,
    form_key: str,
    version: int,
    form: Form,
    *,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Drop and rebuild a form's projection from the record documents."""
    row = uow.session.get(ProjectionTable, (app_id, form_key))
    if row is not None:
        _drop(
            uow.session.connection(),
            tables(uow.caches, app_id, form_key, Projection.from_description(row.spec)),
        )
        uow.session.delete(row)
        uow.flush()
    report = sync(uow, app_id, form_key, version, form, progress=progress)
    return SyncReport("rebuilt", report.table, report.rows)


def drop(uow: UnitOfWork, app_id: int, form_key: str) -> list[str]:
    """Drop a form's projection tables and forget them (an app being uninstalled); the names of
    the tables dropped (none when the form has no projection)."""
    row = uow.session.get(ProjectionTable, (app_id, form_key))
    if row is None:
        return []
    old = tables(uow.caches, app_id, form_key, Projection.from_description(row.spec))
    _drop(uow.session.connection(), old)
    uow.caches.projections_built.pop((app_id, form_key, row.digest))
    uow.session.delete(row)
    uow.flush()
    return [t.name for t in old.all()]


def forget_rollups(uow: UnitOfWork, app_id: int, form_key: str) -> None:
    """Drop the rollups of a form whose projection changed or was rebuilt (they are built again
    when next asked for; see :mod:`tangram.platform.reports.rollups`)."""
    uow.session.execute(delete(Rollup).where(Rollup.app_id == app_id, Rollup.form_key == form_key))


def _create(connection: Connection, new: Tables) -> None:
    # Unique indexes exist before any row; _populate refuses duplicates with a clear message.
    for table in new.all():
        table.create(connection)


def _drop(connection: Connection, old: Tables) -> None:
    for table in reversed(old.all()):
        table.drop(connection, checkfirst=True)


def _additions(old: Projection, new: Projection) -> list[str] | None:
    """New column keys when ``new`` only adds to ``old`` (None when a rebuild is needed)."""
    new_columns = {c.key: c.kind for c in new.columns}
    if any(new_columns.get(c.key) != c.kind for c in old.columns):
        return None
    new_children = {c.key: c for c in new.children}
    for child in old.children:
        other = new_children.get(child.key)
        if other is None or [(c.key, c.kind) for c in other.columns] != [
            (c.key, c.kind) for c in child.columns
        ]:
            return None
    old_keys = {c.key for c in old.columns} | {c.key for c in old.children}
    return [c.key for c in new.columns if c.key not in old_keys] + [
        c.key for c in new.children if c.key not in old_keys
    ]


def _alter(
    uow: UnitOfWork,
    app_id: int,
    form_key: str,
    form: Form,
    old: Tables,
    new: Tables,
    added: list[str],
) -> int:
    connection = uow.session.connection()
    preparer = connection.dialect.identifier_preparer
    main = new.main
    for key in added:
        if key in main.c:
            column = main.c[key]
            connection.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(main)} ADD COLUMN "
                f"{preparer.format_column(column)} {column.type.compile(connection.dialect)}"
            )
    for key in added:
        if key in new.children:
            new.children[key].create(connection)
    # Indexes: drop those that went away or changed, create the new ones.
    old_indexes = {i.name: i for t in old.all() for i in t.indexes}
    new_indexes = {i.name: i for t in new.all() for i in t.indexes}
    for name, index in old_indexes.items():
        if name not in new_indexes:
            index.drop(connection)
    for name, index in new_indexes.items():
        if name not in old_indexes:
            if index.unique:
                _check_unique(connection, form, main, next(iter(index.columns)).name)
            index.create(connection)
    if not added:
        return 0
    # Old documents may already hold values for added keys (a field removed and added back).
    count = 0
    for record in _records(uow, app_id, form_key, keys=added):
        data = record.data
        values = {k: v for k, v in new.projection.row(data).items() if k in added}
        if values:
            connection.execute(update(main).where(main.c._id == record.id).values(**values))
        for key, rows in new.projection.child_rows(data).items():
            if key in added and rows:
                connection.execute(
                    insert(new.children[key]), [{"_record": record.id, **r} for r in rows]
                )
        count += 1
    return count


def _check_unique(connection: Connection, form: Form, main: Table, key: str) -> None:
    column = main.c[key]
    duplicate = connection.execute(
        select(column, func.count())
        .where(main.c._deleted_at.is_(None), column.is_not(None))
        .group_by(column)
        .having(func.count() > 1)
        .limit(1)
    ).first()
    if duplicate is not None:
        _refuse_unique(form, key, duplicate[0])


def _refuse_unique(form: Form, key: str, value: Any) -> None:
    index = next(i for i, f in enumerate(form.fields) if f.key == key)
    raise ValidationFailed.from_diagnostics(
        f"Field {key!r} cannot be unique: live records already share the value {value!r}.",
        [
            Diagnostic(
                f"/fields/{index}/unique",
                "form.unique_conflict",
                f"records already share the value {value!r}; change them first",
            )
        ],
        code="definition.invalid",
    )


def _records(
    uow: UnitOfWork, app_id: int, form_key: str, *, keys: Iterable[str] | None = None
) -> Iterable[Any]:
    """The form's records (deleted ones too) in id order, as plain rows, a batch at a time."""
    keys = list(keys or [])
    columns = [getattr(Record, name) for name in _RECORD_COLUMNS]
    after = 0
    while True:
        query = (
            select(*columns)
            .where(Record.app_id == app_id, Record.form_key == form_key, Record.id > after)
            .order_by(Record.id)
            .limit(BATCH)
        )
        batch = uow.session.execute(query).all()
        if not batch:
            return
        for record in batch:
            if not keys or any(k in record.data for k in keys):
                yield record
        after = batch[-1].id


def _populate(
    uow: UnitOfWork,
    app_id: int,
    form_key: str,
    form: Form,
    new: Tables,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    connection = uow.session.connection()
    unique = [c.key for c in form.projection.columns if c.unique]
    seen: dict[str, set[Any]] = {k: set() for k in unique}
    count = 0
    mains: list[dict[str, Any]] = []
    children: dict[str, list[dict[str, Any]]] = {k: [] for k in new.children}

    def flush() -> None:
        if mains:
            connection.execute(insert(new.main), mains)
        for key, rows in children.items():
            if rows:
                connection.execute(insert(new.children[key]), rows)
            rows.clear()
        mains.clear()

    for record in _records(uow, app_id, form_key):
        row = main_row(new.projection, record)
        if record.deleted_at is None:
            for key in unique:
                value = row[key]
                if value is not None and value in seen[key]:
                    _refuse_unique(form, key, value)
                seen[key].add(value)
        mains.append(row)
        for key, rows in new.projection.child_rows(record.data).items():
            children[key].extend({"_record": record.id, **r} for r in rows)
        count += 1
        if len(mains) >= BATCH:
            flush()
            if progress:
                progress(count)
    flush()
    if progress:
        progress(count)
    return count


# --- the records service's side -------------------------------------------------------------


#: The main row's columns a record's update writes whatever its fields (its owner, creation
#: and deletion are written by their own operations).
UPDATED_ALWAYS = ("_form_version", "_group", "_updated_at")


def main_row(
    projection: Projection, record: Any, changed: Container[str] | None = None
) -> dict[str, Any]:
    """The main-table row of a record (a :class:`Record` or a row with the same attributes);
    with ``changed``, the part of it an update of those fields writes: the id, the columns of
    :data:`UPDATED_ALWAYS` and those of the changed fields."""
    system = {
        "_id": record.id,
        "_form_version": record.form_version,
        "_owner": record.owner_id,
        "_group": record.group_id,
        "_created_at": record.created_at,
        "_updated_at": record.updated_at,
        "_deleted_at": record.deleted_at,
    }
    if changed is not None:
        system = {key: system[key] for key in ("_id", *UPDATED_ALWAYS)}
    return {**system, **projection.row(record.data, changed)}


def ready(uow: UnitOfWork, app_id: int, form_key: str, form: Form) -> Tables:
    """The tables of a form's projection, after checking (once per process) that they exist."""
    found = tables(uow.caches, app_id, form_key, form.projection)
    built = uow.caches.projections_built
    key = (app_id, form_key, form.projection.digest)
    if key in built:
        return found
    row = uow.session.get(ProjectionTable, (app_id, form_key))
    if row is None or row.digest != form.projection.digest:
        raise ProjectionMissing(
            f"The projection of form {form_key!r} is not built for its published version. "
            "Run `tangram records reindex` (or publish the form again)."
        )
    if row not in uow.session.new:
        built.put(key, True)
    return found


def insert_record(uow: UnitOfWork, t: Tables, record: Record) -> None:
    """Write the projection of a new record."""
    connection = uow.session.connection()
    with translated_errors():  # a unique value taken by a racing writer: 409
        connection.execute(t.main_insert, main_row(t.projection, record))
    for key, rows in t.projection.child_rows(record.data).items():
        if rows:
            connection.execute(t.child_inserts[key], [{"_record": record.id, **r} for r in rows])


def update_record(
    uow: UnitOfWork, t: Tables, record: Record, changed: Iterable[str], *, moved: bool = False
) -> None:
    """Write the projection of a record whose fields ``changed``: the main row's columns of
    those fields, and the child rows of those sub-tables; every column and sub-table when the
    record ``moved`` to another version of its form."""
    connection = uow.session.connection()
    changed = set(changed)
    row = main_row(t.projection, record, None if moved else changed)
    statement = t.main_update if moved else t.main_update_of([k for k in row if k != "_id"])
    with translated_errors():
        connection.execute(statement, t.update_params(row))
    for key, rows in t.projection.child_rows(record.data).items():
        if key not in changed and not moved:
            continue
        child = t.children[key]
        connection.execute(delete(child).where(child.c._record == record.id))
        if rows:
            connection.execute(t.child_inserts[key], [{"_record": record.id, **r} for r in rows])


def mark_record(uow: UnitOfWork, t: Tables, record: Record) -> None:
    """Copy a record's deletion state and timestamps (delete, restore)."""
    with translated_errors():
        uow.session.connection().execute(
            update(t.main)
            .where(t.main.c._id == record.id)
            .values(_deleted_at=record.deleted_at, _updated_at=record.updated_at)
        )


def taken(
    uow: UnitOfWork, t: Tables, data: Mapping[str, Any], record_id: int | None
) -> dict[str, int]:
    """Unique fields whose value in ``data`` a live record other than ``record_id`` holds."""
    out = {}
    for c in t.projection.columns:
        value = c.value(data.get(c.key)) if c.unique else None
        if value is None:
            continue
        query = select(t.main.c._id).where(t.main.c[c.key] == value, t.main.c._deleted_at.is_(None))
        if record_id is not None:
            query = query.where(t.main.c._id != record_id)
        other = uow.session.execute(query.limit(1)).scalar()
        if other is not None:
            out[c.key] = int(other)
    return out
