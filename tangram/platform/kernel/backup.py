"""Backups of an embedded SQLite database while the server keeps writing to it.

Copying ``tangram.db`` with ``cp`` while Tangram runs can produce a file that is not a database
at all: the newest commits live in ``tangram.db-wal`` until a checkpoint moves them, and a copy
taken during a checkpoint mixes pages of two moments. SQLite's online backup API instead
copies the database page by page through a connection, inside one read transaction: in WAL mode
readers do not block writers, so requests go on while the backup runs, and the copy is the
database as one commit left it (every record with its projection row, audit entry and jobs, or
none of them).

The copy is made in one step (``pages=-1``): an incremental backup restarts whenever another
connection writes between its steps, which under steady writes may never finish. It is written
next to its destination under a temporary name, checked with ``PRAGMA integrity_check``, and
only then renamed into place, so a failed or interrupted backup never leaves a file under the
name an operator would restore from.

PostgreSQL has its own tools (``pg_dump``, ``pg_restore``); the README gives the procedure.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from tangram.platform.kernel.errors import TangramError


class BackupFailed(TangramError):
    """The backup could not be made, or its copy did not pass the integrity check."""

    status = 500
    title = "Backup failed"
    default_code = "backup.failed"


@dataclass(frozen=True, slots=True)
class Backup:
    """What a backup wrote."""

    path: Path
    size: int
    seconds: float


def backup_sqlite(engine: Engine, output: Path) -> Backup:
    """Copy the SQLite database of ``engine`` to ``output`` (a new file) while it is in use."""
    if engine.dialect.name != "sqlite":
        raise BackupFailed(
            f"Online backups are for SQLite; back up {engine.dialect.name} with its own tools "
            "(pg_dump -Fc, see the README's Backups section).",
            code="backup.not_sqlite",
        )
    output = Path(output).absolute()
    if output.exists():
        raise BackupFailed(f"{output} exists; name a new file.", code="backup.exists")
    if not output.parent.is_dir():
        raise BackupFailed(f"The folder {output.parent} does not exist.", code="backup.no_folder")
    partial = output.with_name(f".{output.name}.partial-{secrets.token_hex(4)}")
    started = time.perf_counter()
    pooled = engine.raw_connection()
    try:
        source = pooled.driver_connection
        if not isinstance(source, sqlite3.Connection):
            raise BackupFailed("The database connection is not sqlite3's.", code="backup.driver")
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=-1)
            verdict = [row[0] for row in target.execute("PRAGMA integrity_check")]
        finally:
            target.close()
        if verdict != ["ok"]:
            raise BackupFailed(
                "The copy failed SQLite's integrity check: " + "; ".join(map(str, verdict[:5])),
                code="backup.corrupt",
            )
        os.replace(partial, output)
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite could not copy the database: {exc}") from exc
    finally:
        pooled.close()
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    return Backup(output, output.stat().st_size, time.perf_counter() - started)
