"""Projection tables: typed columns and child tables, kept in step with records and form versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from tangram.cli import main
from tangram.config import Settings
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import Conflict, ValidationFailed
from tangram.platform.kernel.models import ProjectionTable
from tangram.platform.metadata import compiled
from tangram.platform.records import projections
from tests.conftest import count_queries


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key}, **extra}


OPTIONS = [{"value": v} for v in ("a", "b", "c")]
EVERYTHING = {
    "key": "ticket",
    "label": {"zh-CN": "工单"},
    "fields": [
        field("no", "serial", serial="T-{seq:3}"),
        field("title", "text", indexed=True),
        field("body", "textarea"),
        field("rich", "rich_text"),
        field("hours", "number"),
        field("count", "integer"),
        field("cost", "money"),
        field("due", "date"),
        field("at", "datetime"),
        field("kind", "select", options=OPTIONS),
        field("tags", "multi_select", options=OPTIONS),
        field("level", "radio", options=OPTIONS),
        field("ok", "checkbox"),
        field("who", "user"),
        field("team", "group"),
        field("mail", "email", unique=True),
        field("phone", "phone"),
        field("file", "attachment"),
        field("files", "attachments"),
        field("sign", "signature"),
        field("double", "formula", formula={"*": [{"var": "count"}, 2]}, result="integer"),
        field(
            "parts",
            "sub_table",
            fields=[field("part", "text", indexed=True), field("qty", "integer")],
        ),
    ],
}


def publish(platform: Platform, body: dict[str, Any], *, create: bool = False) -> None:
    system = Actor.system("test")
    with platform.unit_of_work() as uow:
        if create:
            metadata.create_app(uow, system, key="app", name={"zh-CN": "应用"})
            metadata.create_definition(uow, system, "app", "form", body)
        else:
            current = metadata.get_definition(uow, system, "app", "form", body["key"])
            metadata.update_draft(
                uow,
                system,
                "app",
                "form",
                body["key"],
                body,
                lock_version=current.definition.lock_version,
            )
        metadata.publish(uow, system, "app", "form", body["key"])
        uow.commit()


def write(platform: Platform, data: dict[str, Any], form: str = "ticket") -> int:
    with platform.unit_of_work() as uow:
        written = records.create_record(uow, Actor.system("test"), "app", form, data, lang="en")
        uow.commit()
    return written.record.id


def patch(platform: Platform, record_id: int, changes: dict[str, Any]) -> None:
    with platform.unit_of_work() as uow:
        record = records.get_record(uow, Actor.system("test"), "app", "ticket", record_id)
        records.update_record(
            uow,
            Actor.system("test"),
            "app",
            "ticket",
            record_id,
            changes,
            lock_version=record.lock_version,
            lang="en",
        )
        uow.commit()


def rows(platform: Platform, table: str) -> list[dict[str, Any]]:
    with platform.engine.connect() as connection:
        t = _tables(platform)
        target = t.main if table == "main" else t.children[table]
        order = [target.c._id] if table == "main" else [target.c._record, target.c._row]
        return [dict(r._mapping) for r in connection.execute(select(target).order_by(*order))]


def _tables(platform: Platform) -> projections.Tables:
    with platform.unit_of_work(write=False) as uow:
        _, form = compiled.form(uow, "app", "ticket")
        return projections.ready(uow, 1, "ticket", form)


@pytest.fixture
def app(platform: Platform) -> str:
    publish(platform, EVERYTHING, create=True)
    return "app"


FULL = {
    "title": "噪音",
    "body": "long text",
    "rich": "<b>x</b>",
    "hours": 1.5,
    "count": 3,
    "cost": 12.34,
    "due": "2026-12-01",
    "at": "2026-11-22T09:30:00+08:00",
    "kind": "b",
    "tags": ["c", "a"],
    "level": "a",
    "ok": True,
    "who": 1,
    "team": 2,
    "mail": "li@example.com",
    "phone": "+86 10 1234",
    "parts": [{"part": "fan", "qty": 2}, {"part": "belt"}],
}


def test_every_scalar_type_gets_a_typed_column_and_sub_tables_a_child_table(
    platform: Platform, app: str
) -> None:
    record_id = write(platform, FULL)
    (row,) = rows(platform, "main")
    assert row["_id"] == record_id
    assert row["_form_version"] == 1
    assert row["_deleted_at"] is None
    expected = {
        "no": "T-001",
        "title": "噪音",
        "body": "long text",
        "rich": "<b>x</b>",
        "hours": 1.5,
        "count": 3,
        "cost": 12.34,
        "due": date(2026, 12, 1),
        "kind": "b",
        "tags": '["a","c"]',
        "level": "a",
        "ok": True,
        "who": 1,
        "team": 2,
        "mail": "li@example.com",
        "phone": "+86 10 1234",
        "double": 6,
    }
    assert {k: row[k] for k in expected} == expected
    assert row["at"].astimezone(UTC) == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert not {"file", "files", "sign", "parts"} & set(row)  # files and sub-tables are not columns
    assert rows(platform, "parts") == [
        {"_record": record_id, "_row": 0, "part": "fan", "qty": 2},
        {"_record": record_id, "_row": 1, "part": "belt", "qty": None},
    ]
    columns = {c["name"]: c for c in inspect(platform.engine).get_columns("rp_1_ticket")}
    assert {"title", "hours", "due", "at", "tags", "double"} <= set(columns)
    indexes = {i["name"] for i in inspect(platform.engine).get_indexes("rp_1_ticket")}
    assert {"ix_rp_1_ticket_title", "ux_rp_1_ticket_mail"} <= indexes


def test_updates_deletes_and_restores_reach_the_projection(platform: Platform, app: str) -> None:
    record_id = write(platform, FULL)
    patch(platform, record_id, {"title": "新标题", "parts": [{"part": "motor", "qty": 1}]})
    assert rows(platform, "main")[0]["title"] == "新标题"
    assert [r["part"] for r in rows(platform, "parts")] == ["motor"]
    patch(platform, record_id, {"count": None})  # clearing a field empties its column
    assert rows(platform, "main")[0]["count"] is None
    with platform.unit_of_work() as uow:
        records.delete_record(uow, Actor.system("t"), "app", "ticket", record_id, lock_version=3)
        uow.commit()
    assert rows(platform, "main")[0]["_deleted_at"] is not None
    with platform.unit_of_work() as uow:
        records.restore_record(uow, Actor.system("t"), "app", "ticket", record_id)
        uow.commit()
    assert rows(platform, "main")[0]["_deleted_at"] is None


def _columns_set(statements: list[str]) -> set[str]:
    """The columns the one update of the ticket's main row among ``statements`` sets."""
    (found,) = [s for s in statements if s.lstrip().upper().startswith("UPDATE RP_1_TICKET ")]
    assignments = found.split(" SET ", 1)[1].rsplit(" WHERE ", 1)[0]
    return {part.split("=", 1)[0].strip() for part in assignments.split(", ")}


def test_an_update_writes_the_columns_of_the_fields_it_changed_and_a_move_writes_all(
    platform: Platform, app: str, clock: FrozenClock
) -> None:
    record_id = write(platform, FULL)
    (before,) = rows(platform, "main")
    clock.advance(timedelta(minutes=5))
    with count_queries(platform.engine) as statements:
        patch(platform, record_id, {"count": 5})  # the formula "double" follows it
    assert _columns_set(statements) == {"count", "double", "_updated_at", "_group", "_form_version"}
    (after,) = rows(platform, "main")
    assert (after["count"], after["double"]) == (5, 10)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"count", "double", "_updated_at"}
    body = {**EVERYTHING, "fields": [*EVERYTHING["fields"], field("notes", "text")]}
    publish(platform, body)
    with count_queries(platform.engine) as statements:
        patch(platform, record_id, {"title": "换了版本"})  # the record moves to version 2
    assert _columns_set(statements) == {c.name for c in _tables(platform).main.c} - {"_id"}
    (moved,) = rows(platform, "main")
    assert (moved["title"], moved["_form_version"], moved["count"]) == ("换了版本", 2, 5)


def test_a_refused_write_leaves_no_projection_row(platform: Platform, app: str) -> None:
    with pytest.raises(ValidationFailed):
        write(platform, {"count": "three"})
    assert rows(platform, "main") == []


def test_unique_values_are_refused_by_path_and_restoring_a_taken_value_is_a_conflict(
    platform: Platform, app: str
) -> None:
    first = write(platform, {"mail": "a@example.com"})
    with pytest.raises(ValidationFailed) as caught:
        write(platform, {"mail": "a@example.com"})
    assert caught.value.errors == [
        {"path": "mail", "code": "unique", "message": f"is already used by record {first}"}
    ]
    with platform.unit_of_work() as uow:
        records.delete_record(uow, Actor.system("t"), "app", "ticket", first, lock_version=1)
        uow.commit()
    second = write(platform, {"mail": "a@example.com"})  # a deleted record frees its value
    with platform.unit_of_work() as uow, pytest.raises(Conflict) as conflict:
        records.restore_record(uow, Actor.system("t"), "app", "ticket", first)
    assert f"used by record {second}" in conflict.value.detail
    patch(platform, second, {"mail": "a@example.com", "title": "same value, same record"})


def test_publishing_a_version_that_adds_fields_alters_the_table_in_place(
    platform: Platform, app: str
) -> None:
    kept = write(platform, FULL)
    body = {**EVERYTHING, "fields": [*EVERYTHING["fields"], field("notes", "text", indexed=True)]}
    publish(platform, body)
    with platform.unit_of_work(write=False) as uow:
        spec = uow.session.get(ProjectionTable, (1, "ticket"))
        assert spec is not None
        assert spec.form_version == 2
    (row,) = rows(platform, "main")
    assert (row["_id"], row["title"], row["notes"]) == (kept, "噪音", None)
    assert "ix_rp_1_ticket_notes" in {
        i["name"] for i in inspect(platform.engine).get_indexes("rp_1_ticket")
    }
    write(platform, {"notes": "written under version 2"})
    assert rows(platform, "main")[1]["notes"] == "written under version 2"


def test_a_removed_field_added_back_is_filled_from_the_documents_that_kept_it(
    platform: Platform, app: str
) -> None:
    record_id = write(platform, FULL)
    without = {**EVERYTHING, "fields": [f for f in EVERYTHING["fields"] if f["key"] != "hours"]}
    publish(platform, without)  # a column goes away: rebuilt from the documents
    assert "hours" not in rows(platform, "main")[0]
    publish(platform, EVERYTHING)  # and comes back: the kept values return with it
    (row,) = rows(platform, "main")
    assert (row["_id"], row["hours"]) == (record_id, 1.5)


def test_changing_a_field_type_rebuilds_the_projection(platform: Platform, app: str) -> None:
    write(platform, {**FULL, "title": "42"})
    changed = {
        **EVERYTHING,
        "fields": [
            field("title", "integer") if f["key"] == "title" else f for f in EVERYTHING["fields"]
        ],
    }
    publish(platform, changed)
    (row,) = rows(platform, "main")
    assert row["title"] is None  # "42" was text: documents keep it, the integer column does not
    assert [r["part"] for r in rows(platform, "parts")] == ["fan", "belt"]


def test_a_field_cannot_become_unique_over_existing_duplicates(
    platform: Platform, app: str
) -> None:
    write(platform, {"title": "dup"})
    write(platform, {"title": "dup"})
    unique_title = {
        **EVERYTHING,
        "fields": [
            {**f, "unique": True} if f["key"] == "title" else f for f in EVERYTHING["fields"]
        ],
    }
    with pytest.raises(ValidationFailed) as caught:
        publish(platform, unique_title)
    assert caught.value.errors[0]["path"] == "/fields/1/unique"
    assert "'dup'" in caught.value.errors[0]["message"]
    with platform.unit_of_work(write=False) as uow:  # nothing changed: still version 1
        assert uow.session.get(ProjectionTable, (1, "ticket")).form_version == 1  # type: ignore[union-attr]


def test_indexed_fields_are_used_by_the_database_for_equality_filters(
    platform: Platform, app: str
) -> None:
    for n in range(30):
        write(platform, {"title": f"t{n}", "parts": [{"part": f"p{n}"}]})
    with platform.engine.connect() as connection:
        postgres = platform.engine.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET enable_seqscan = off"))  # tiny tables: force the choice

        def explain(query: str) -> str:
            if postgres:
                return " ".join(connection.execute(text(f"EXPLAIN {query}")).scalars())
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            return " ".join(str(r[-1]) for r in rows)

        plan = explain("SELECT _id FROM rp_1_ticket WHERE title = 't3'")
        child_plan = explain("SELECT _record FROM rp_1_ticket__parts WHERE part = 'p3'")
        since = explain(
            "SELECT _created_at FROM rp_1_ticket"
            " WHERE _deleted_at IS NULL AND _created_at >= '2026-11-01' ORDER BY _created_at"
        )
    assert "ix_rp_1_ticket_title" in plan
    assert "ix_rp_1_ticket__parts_part" in child_plan
    assert "ix_rp_1_ticket__created_at" in since  # every main table: date ranges, reports


def test_the_created_at_index_reaches_tables_built_before_it(platform: Platform, app: str) -> None:
    write(platform, FULL)
    migrate.downgrade(platform.engine, "0005")
    names = {i["name"] for i in inspect(platform.engine).get_indexes("rp_1_ticket")}
    assert "ix_rp_1_ticket__created_at" not in names
    migrate.upgrade(platform.engine)
    names = {i["name"] for i in inspect(platform.engine).get_indexes("rp_1_ticket")}
    assert "ix_rp_1_ticket__created_at" in names


def test_reindex_rebuilds_projections_from_the_documents(
    platform: Platform, app: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_id = write(platform, FULL)
    with platform.engine.begin() as connection:
        connection.execute(text("DELETE FROM rp_1_ticket__parts"))
        connection.execute(text("UPDATE rp_1_ticket SET title = 'garbled'"))
        connection.execute(text("DELETE FROM record_search"))
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TANGRAM_INSTANCE_PATH", str(settings.instance_path))
    result = CliRunner().invoke(main, ["records", "reindex", "--app", "app"])
    assert result.exit_code == 0, result.output
    assert "app/ticket: 1 records projected into rp_1_ticket and indexed for search" in (
        result.output
    )
    assert rows(platform, "main")[0]["title"] == "噪音"
    with platform.engine.connect() as connection:  # the search rows too
        searched = connection.execute(
            text("SELECT tokens FROM record_search WHERE field = 'title'")
        ).scalars()
        assert list(searched) == ["噪音 噪 音"]  # the word and each character
    assert [r["_record"] for r in rows(platform, "parts")] == [record_id, record_id]
    missing = CliRunner().invoke(main, ["records", "reindex", "--app", "nope"])
    assert missing.exit_code == 1
    assert "No published form matches app='nope'" in missing.output


def test_db_upgrade_builds_projections_that_are_missing(
    platform: Platform, app: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(platform, FULL)
    with platform.engine.begin() as connection:  # as if the form predated projections
        connection.execute(text("DROP TABLE rp_1_ticket__parts"))
        connection.execute(text("DROP TABLE rp_1_ticket"))
        connection.execute(text("DELETE FROM projections"))
    fresh = Platform.from_settings(settings, clock=platform.clock)
    with fresh.unit_of_work() as uow, pytest.raises(projections.ProjectionMissing):
        records.list_records(uow, Actor.system("t"), "app", "ticket")
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TANGRAM_INSTANCE_PATH", str(settings.instance_path))
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "projection rp_1_ticket of app/ticket: created" in result.output
    assert rows(fresh, "main")[0]["title"] == "噪音"
    fresh.dispose()
