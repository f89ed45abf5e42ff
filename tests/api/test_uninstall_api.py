"""Uninstalling an app over HTTP and on the command line: a dry run that counts what goes and
changes nothing, refusals naming what blocks it, and a real run removing it all at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, inspect, select, update

from tangram.cli import main
from tangram.config import Settings
from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import jobs
from tangram.platform.kernel.models import (
    App,
    AuditEntry,
    Comment,
    Definition,
    FlowInstance,
    Grant,
    Group,
    Job,
    JobStatus,
    Notification,
    Record,
    Role,
    Task,
)
from tests.api.test_app_round_trip import APP, build, ok, text
from tests.api.test_archive_api import PASSWORD, new_job, people
from tests.conftest import START, ApiClient, assert_problem, make_user
from tests.platform.test_packages import as_bytes

NOTE = b"meter reading 4711\n"
SHARED = b"the same bytes in two apps\n"


def upload(client: ApiClient, app: str, form: str, content: bytes, name: str) -> Any:
    path = f"/api/v1/apps/{app}/records/{form}/attachments"
    return ok(client.post(path, data={"file": (BytesIO(content), name)}), 201)


def file_of(settings: Settings, content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()
    return Path(settings.instance_path) / "files" / digest[:2] / digest


def other_app(client: ApiClient, depends: str | None = None) -> None:
    """A second app (depending on maint when asked), with a form and an upload of SHARED."""
    form = {"key": "note", "label": text("便签", "Note"), "fields": []}
    form["fields"] = [{"key": "title", "type": "text", "label": text("标题", "Title")}]
    tree: dict[str, Any] = {"forms/note.json": form}
    tree["manifest.json"] = {
        "key": "other",
        "name": text("其他", "Other"),
        "version": "1.0.0",
        "platform": ">=0.1",
        "contents": ["forms/note.json"],
        **({"depends": {"maint": depends}} if depends else {}),
    }
    data = packages.zip_entries(as_bytes(tree))
    headers = {"Content-Type": "application/zip"}
    ok(client.post("/api/v1/apps/import", data=data, headers=headers))
    upload(client, "other", "note", SHARED, "shared.txt")


def maint_rows(platform: Platform) -> dict[str, int]:
    with platform.unit_of_work(write=False) as uow:

        def count(model: Any, *where: Any) -> int:
            return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)))

        app_id = uow.session.scalar(select(App.id).where(App.key == "maint"))
        records = select(Record.id).where(Record.app_id == app_id)
        return {
            "apps": count(App, App.key == "maint"),
            "definitions": count(Definition, Definition.app_id == app_id),
            "records": count(Record, Record.app_id == app_id),
            "instances": count(FlowInstance, FlowInstance.app_id == app_id),
            "tasks": count(Task, Task.app_key == "maint"),
            "jobs": count(Job, Job.payload["app"].as_string() == "maint"),
            "notifications": count(
                Notification, Notification.payload["app"].as_string() == "maint"
            ),
            "grants": count(Grant, Grant.app_key == "maint"),
            "comments": count(Comment, Comment.record_id.in_(records)),
        }


def test_a_dry_run_shows_what_goes_and_the_real_run_removes_it_all(
    platform: Platform, settings: Settings, admin_client: ApiClient
) -> None:
    build(admin_client)
    people(admin_client)
    upload(admin_client, "maint", "job", NOTE, "note.txt")
    upload(admin_client, "maint", "job", SHARED, "shared.txt")
    other_app(admin_client)
    first = new_job(admin_client, "pump")
    second = new_job(admin_client, "fan")
    said = {"body": "the fan rattles", "mentions": []}
    ok(admin_client.post(f"{APP}/records/job/{second['id']}/comments", json=said), 201)
    view = {"name": "urgent", "filters": {"urgency": "P1"}}
    ok(admin_client.post(f"{APP}/records/job/views", json=view))
    deleted = ok(admin_client.get(f"{APP}/records/job/{first['id']}"))
    gone = admin_client.delete(
        f"{APP}/records/job/{first['id']}?lock_version={deleted['lock_version']}"
    )
    assert gone.status_code == 204  # a deleted record goes too
    exported = admin_client.get(f"{APP}/export").data
    with platform.unit_of_work() as uow:  # a flow timer names its instance, not the app
        instance = uow.session.scalar(select(FlowInstance.id).order_by(FlowInstance.id))
        jobs.enqueue(uow, "flow.timer", {"instance": instance, "timer": "t1"})
        uow.commit()
    before = maint_rows(platform)

    dry = ok(admin_client.delete(f"{APP}?dry_run=true"))
    assert dry["dry_run"] is True
    assert dry["definitions"] == {"calendar": 1, "flow": 1, "form": 1, "rule": 2}
    assert dry["versions"] == 5
    assert dry["records"] == {"job": 2}
    assert dry["flow_instances"] == {"cancelled": 1, "running": 1}  # deleting cancels its flow
    assert dry["open_tasks"] == 1
    assert dry["jobs"] == {"pending": before["jobs"] + 1}
    assert dry["attachments"] == {"count": 2, "bytes": len(NOTE) + len(SHARED)}
    assert dry["counts"]["saved_views"] == 1
    assert dry["counts"]["comments"] == before["comments"] == 1
    assert dry["counts"]["notifications"] == before["notifications"] > 0
    assert dry["counts"]["installs"] == 0  # built by hand, never installed from a package
    assert dry["projection_tables"] == [f"rp_{_app_id(platform)}_job"]
    assert dry["grants"] == {"maint_supervisor": 1}
    assert dry["roles_left_without_grants"] == ["maint_supervisor"]
    assert dry["blockers"] == []
    assert maint_rows(platform) == before  # the dry run changed nothing

    refused = admin_client.delete(APP)
    assert assert_problem(refused, 422)["errors"] == {
        "lock_version": ["give the app's lock_version to uninstall it (a dry run needs none)"]
    }
    assert_problem(admin_client.delete(f"{APP}?lock_version=99"), 409, "lock_version.stale")
    lock = ok(admin_client.get(APP))["lock_version"]
    done = ok(admin_client.delete(f"{APP}?lock_version={lock}"))
    assert done["dry_run"] is False
    assert done["records"] == {"job": 2}

    assert admin_client.get(APP).status_code == 404
    assert set(maint_rows(platform).values()) == {0}
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Job)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Comment)) == 0
        tables = inspect(uow.session.connection()).get_table_names()
        assert dry["projection_tables"][0] not in tables
        assert uow.session.scalar(select(Group.id).where(Group.key == "maint_elec"))
        assert uow.session.scalar(select(Role.id).where(Role.key == "maint_supervisor"))
        entry = uow.session.scalar(select(AuditEntry).where(AuditEntry.action == "app.uninstalled"))
        assert entry is not None
        assert (entry.object_id, entry.payload["records"]) == ("maint", {"job": 2})
    assert not file_of(settings, NOTE).exists()
    assert file_of(settings, SHARED).exists()  # the other app's attachment still holds it
    assert ok(admin_client.get("/api/v1/audit/verify"))["ok"] is True

    again = admin_client.post(
        "/api/v1/apps/import", data=exported, headers={"Content-Type": "application/zip"}
    )
    assert ok(again)["action"] == "install"  # nothing of it lingers
    assert new_job(admin_client, "valve")["data"]["team"]


def _app_id(platform: Platform) -> int:
    with platform.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(App.id).where(App.key == "maint")) or 0)


def test_an_uninstall_is_refused_while_something_blocks_it(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    build(admin_client)
    new_job(admin_client, "pump")
    other_app(admin_client, depends=">=0.1")
    with platform.unit_of_work() as uow:
        job_id = uow.session.scalar(
            select(Job.id).where(Job.payload["app"].as_string() == "maint").limit(1)
        )
        running = {"status": JobStatus.RUNNING.value, "locked_until": START + timedelta(minutes=5)}
        uow.session.execute(update(Job).where(Job.id == job_id).values(**running))
        uow.commit()
    dry = ok(admin_client.delete(f"{APP}?dry_run=true"))
    assert dry["blockers"] == [
        {
            "path": "apps/other:/depends/maint",
            "message": "app other depends on maint >=0.1: uninstall it first",
        },
        {"path": f"jobs/{job_id}", "message": dry["blockers"][1]["message"]},
    ]
    assert "a worker is running its" in dry["blockers"][1]["message"]
    lock = ok(admin_client.get(APP))["lock_version"]
    blocked = assert_problem(
        admin_client.delete(f"{APP}?lock_version={lock}"), 409, "app.uninstall_blocked"
    )
    assert set(blocked["errors"]) == {"apps/other:/depends/maint", f"jobs/{job_id}"}
    assert ok(admin_client.get(APP))["key"] == "maint"
    with platform.unit_of_work() as uow:  # the worker's lease ran out: it is gone
        stale = {"locked_until": START - timedelta(minutes=1)}
        uow.session.execute(update(Job).where(Job.id == job_id).values(**stale))
        uow.commit()
    assert [b["path"] for b in ok(admin_client.delete(f"{APP}?dry_run=true"))["blockers"]] == [
        "apps/other:/depends/maint"
    ]

    make_user(platform, "dan", password=PASSWORD)
    dan = ApiClient(app.test_client())
    assert dan.login("dan", PASSWORD).status_code == 200
    assert_problem(dan.delete(f"{APP}?dry_run=true"), 403, "permission.admin_required")
    assert_problem(admin_client.delete("/api/v1/apps/nowhere?dry_run=true"), 404)


def test_the_command_line_uninstalls_after_a_dry_run_and_a_question(
    platform: Platform,
    settings: Settings,
    admin_client: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TANGRAM_INSTANCE_PATH", str(settings.instance_path))
    build(admin_client)
    new_job(admin_client, "pump")
    runner = CliRunner()
    dry = runner.invoke(main, ["app", "uninstall", "maint", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "maint 0.1.0: would remove" in dry.output
    assert "  records: 1 job" in dry.output
    assert "  definitions: 1 calendar, 1 flow, 1 form, 2 rule (5 versions)" in dry.output
    declined = runner.invoke(main, ["app", "uninstall", "maint"], input="n\n")
    assert declined.exit_code == 1
    assert "Aborted" in declined.output
    assert maint_rows(platform)["apps"] == 1
    done = runner.invoke(main, ["app", "uninstall", "maint", "--yes"])
    assert done.exit_code == 0, done.output
    assert "maint uninstalled (0 file(s) deleted)." in done.output
    assert maint_rows(platform)["apps"] == 0
    missing = runner.invoke(main, ["app", "uninstall", "maint", "--yes"])
    assert missing.exit_code == 1
    assert "App 'maint' does not exist." in missing.output
