"""``tangram db backup`` copies a SQLite database that is being written to, and the copy restores
into a working installation holding one consistent moment: every record with its projection
rows as the same commit left them, the audit chain intact."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tangram.cli import main
from tangram.config import Settings
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import audit, checkpoints
from tangram.platform.kernel.backup import BackupFailed, backup_sqlite
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.db import build_engine
from tangram.platform.kernel.models import App, Record
from tangram.platform.records import projections
from tangram.platform.records.projections import identifier


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Online backups are SQLite's (PostgreSQL's are pg_dump's): these tests run on a SQLite
    installation whichever database the rest of the suite runs on."""
    path = tmp_path / "tangram.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单"},
    "fields": [
        {"key": "no", "type": "serial", "label": {"zh-CN": "单号"}, "serial": "T-{seq:6}"},
        {"key": "title", "type": "text", "label": {"zh-CN": "标题"}, "required": True},
        {
            "key": "parts",
            "type": "sub_table",
            "label": {"zh-CN": "备件"},
            "fields": [
                {"key": "part", "type": "text", "label": {"zh-CN": "备件"}},
                {"key": "qty", "type": "integer", "label": {"zh-CN": "数量"}},
            ],
        },
    ],
}


RECORDS = select(func.count()).select_from(Record)


class Writer(threading.Thread):
    """The server, as far as the database sees it: records created and changed through the
    service, one transaction each, on its own engine, until told to stop."""

    def __init__(self, settings: Settings, clock: FrozenClock) -> None:
        super().__init__(daemon=True)
        self.platform = Platform.from_settings(settings, clock=clock)
        self.stop = threading.Event()
        self.writes = 0
        self.error: BaseException | None = None
        self._wanted = 0
        self._reached = threading.Event()

    def written(self, more: int) -> None:
        """Wait until ``more`` further writes have committed."""
        self._reached.clear()
        self._wanted = self.writes + more
        assert self._reached.wait(timeout=120), "the writer stalled"

    def run(self) -> None:
        actor = Actor.system("writer")
        made: list[tuple[int, int]] = []
        try:
            while not self.stop.is_set():
                n = self.writes
                with self.platform.unit_of_work() as uow:
                    parts = [{"part": f"p{n}-{i}", "qty": i + 1} for i in range(n % 4)]
                    if n % 3 == 2 and made:
                        record_id, lock = made.pop(0)
                        changes = {"title": f"changed {n}", "parts": parts}
                        written = records.update_record(
                            uow, actor, "shop", "ticket", record_id, changes, lock_version=lock
                        )
                    else:
                        data = {"title": f"ticket {n}", "parts": parts}
                        written = records.create_record(uow, actor, "shop", "ticket", data)
                    uow.commit()
                made.append((written.record.id, written.record.lock_version))
                self.writes += 1
                if self.writes >= self._wanted:
                    self._reached.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self._reached.set()
        finally:
            self.platform.dispose()


def inconsistencies(path: Path, app_id: int) -> list[str]:
    """What a torn snapshot would show: records without their projection row, or whose row or
    sub-table rows say something other than the document."""
    main_table = projections.table_name(app_id, "ticket")
    parts_table = identifier("rp", str(app_id), "ticket", "", "parts")
    found: list[str] = []
    with sqlite3.connect(path) as db:
        rows = db.execute(
            f"SELECT r.id, json_extract(r.data, '$.title'), p.title,"
            f" coalesce(json_array_length(r.data, '$.parts'), 0),"
            f" (SELECT count(*) FROM {parts_table} c WHERE c._record = r.id)"
            f" FROM records r LEFT JOIN {main_table} p ON p._id = r.id"
            " WHERE r.form_key = 'ticket'"
        ).fetchall()
    db.close()
    for record_id, title, projected, parts, part_rows in rows:
        if projected != title or parts != part_rows:
            found.append(f"record {record_id}: {title!r}/{projected!r}, {parts}/{part_rows} parts")
    return found


def test_a_backup_taken_while_records_are_written_restores_a_consistent_installation(
    platform: Platform, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    system = Actor.system("test")
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, system, key="shop", name={"zh-CN": "门店"})
        metadata.create_definition(uow, system, "shop", "form", TICKET)
        metadata.publish(uow, system, "shop", "form", "ticket")
        app_id = uow.session.scalars(select(App.id).where(App.key == "shop")).one()
        uow.commit()
    writer = Writer(settings, clock)
    writer.start()
    env = {"TANGRAM_DATABASE_URL": settings.database_url, "TANGRAM_INSTANCE_PATH": str(tmp_path)}
    backups: list[Path] = []
    try:
        writer.written(20)
        for n in range(3):
            backups.append(tmp_path / f"backup-{n}.db")
            result = CliRunner().invoke(
                main, ["db", "backup", "--output", str(backups[-1])], env=env
            )
            assert result.exit_code == 0, result.output
            assert f"backup written to {backups[-1]}" in result.output
            writer.written(5)  # the copy did not stop the writes
    finally:
        writer.stop.set()
        writer.join(timeout=120)
    assert writer.error is None, writer.error
    with platform.unit_of_work(write=False) as uow:
        total = uow.session.scalar(RECORDS)
    assert not inconsistencies(Path(settings.database_url.removeprefix("sqlite:///")), app_id)

    held_before: list[int] = []
    for backup in backups:
        # the restore procedure: the server stopped, the copy put in place of the database
        restored = tmp_path / f"restored-{backup.stem}" / "tangram.db"
        restored.parent.mkdir()
        shutil.copyfile(backup, restored)
        with sqlite3.connect(restored) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.close()
        assert inconsistencies(restored, app_id) == []
        copy = Platform.from_settings(
            Settings(
                database_url=f"sqlite:///{restored}",
                secret_key=settings.secret_key,
                instance_path=restored.parent,
                embedded_worker=False,
            ),
            clock=clock,
        )
        try:
            with copy.unit_of_work(write=False) as uow:
                verdict = audit.verify(uow.session, key=checkpoints.audit_key(copy.settings))
                held = uow.session.scalar(RECORDS)
            assert verdict.ok, verdict.as_dict()
            assert 0 < held < total
            assert held >= max(held_before, default=0)  # later copies, later moments
            held_before.append(held)
            with copy.unit_of_work() as uow:  # and the restored installation takes writes
                records.create_record(uow, system, "shop", "ticket", {"title": "after restore"})
                uow.commit()
        finally:
            copy.dispose()


def test_a_backup_never_overwrites_a_file_nor_leaves_a_partial_one(
    platform: Platform, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"an older backup")
    with pytest.raises(BackupFailed, match="exists"):
        backup_sqlite(platform.engine, taken)
    assert taken.read_bytes() == b"an older backup"
    with pytest.raises(BackupFailed, match="does not exist"):
        backup_sqlite(platform.engine, tmp_path / "missing" / "copy.db")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_postgresql_is_sent_to_its_own_tools(tmp_path: Path) -> None:
    engine = build_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")  # never connected
    with pytest.raises(BackupFailed, match="pg_dump") as refused:
        backup_sqlite(engine, tmp_path / "copy.db")
    assert refused.value.code == "backup.not_sqlite"
