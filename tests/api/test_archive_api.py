"""Archiving published definitions over HTTP: hidden from launchers, the rule book and exports,
readable for history; running instances finish; live definitions never name archived ones."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import AuditEntry, FlowInstance, Notification
from tests.api.test_app_round_trip import APP, PASSWORD, build, ok, text
from tests.conftest import ApiClient, assert_problem, make_user


def people(client: ApiClient) -> dict[str, int]:
    """A member of the electricians' group and a supervisor."""
    groups = {g["key"]: g for g in ok(client.get("/api/v1/groups"))}
    # a member of the team who works the app (tasks go only to people whose grants reach it)
    worker = {"username": "ella", "password": PASSWORD, "roles": ["maint_supervisor"]}
    ella = ok(client.post("/api/v1/users", json=worker), 201)
    boss = {"username": "sam", "password": PASSWORD, "roles": ["maint_supervisor"]}
    sam = ok(client.post("/api/v1/users", json=boss), 201)
    elec = groups["maint_elec"]["id"]
    assert client.put(f"/api/v1/groups/{elec}/members/{ella['id']}").status_code == 204
    return {"ella": ella["id"], "sam": sam["id"], "elec": elec}


def new_job(client: ApiClient, title: str) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        client.post(f"{APP}/records/job", json={"data": {"title": title}}), 201
    )
    return created


def audited(platform: Platform, action: str) -> list[dict[str, Any]]:
    with platform.unit_of_work(write=False) as uow:
        return [
            {"object": e.object_id, **e.payload}
            for e in uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        ]


def test_an_archived_flow_leaves_the_launchers_and_the_export_while_its_instances_finish(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    build(admin_client)
    ids = people(admin_client)
    first = new_job(admin_client, "pump")  # the flow starts on creation
    repair = ok(admin_client.get(f"{APP}/flows/repair"))
    archived = ok(
        admin_client.post(
            f"{APP}/flows/repair/archive",
            json={"note": "replaced", "lock_version": repair["lock_version"]},
        )
    )
    assert archived["archived_at"] is not None
    assert archived["published_version"] == 1
    assert audited(platform, "definition.archived") == [
        {"object": "maint/flow/repair", "version": 1, "note": "replaced"}
    ]
    menu = ok(admin_client.get(f"{APP}/navigation"))
    assert [f["key"] for f in menu["flows"]] == []
    assert [f["key"] for f in menu["forms"]] == ["job"]
    listed = {d["key"]: d for d in ok(admin_client.get(f"{APP}/flows"))}
    assert listed["repair"]["archived_at"] is not None  # designers still see it
    assert ok(admin_client.get(f"{APP}/flows/repair/versions/1"))["body"]["key"] == "repair"

    second = new_job(admin_client, "fan")  # no new instance on an archived flow
    start = admin_client.post(f"{APP}/records/job/{second['id']}/flows", json={"flow": "repair"})
    assert_problem(start, 409, "definition.archived")
    with platform.unit_of_work(write=False) as uow:
        started = uow.session.scalars(select(FlowInstance.record_id)).all()
    assert started == [first["id"]]

    ella = ApiClient(app.test_client())
    assert ella.login("ella", PASSWORD).status_code == 200
    (task,) = ok(ella.get("/api/v1/tasks?box=todo"))["items"]
    assert task["record_id"] == first["id"]
    ok(ella.post(f"/api/v1/tasks/{task['id']}/approve", json={}))
    with platform.unit_of_work(write=False) as uow:
        instance = uow.session.scalar(select(FlowInstance))
        assert instance is not None
        assert (instance.status, instance.version) == ("completed", 1)

    package = packages.read(admin_client.get(f"{APP}/export").data)
    assert "flows/repair.json" not in package.files
    assert "forms/job.json" in package.files

    restored = ok(admin_client.post(f"{APP}/flows/repair/restore", json={}))
    assert restored["archived_at"] is None
    assert [f["key"] for f in ok(admin_client.get(f"{APP}/navigation"))["flows"]] == ["repair"]
    assert audited(platform, "definition.restored")[0]["object"] == "maint/flow/repair"
    assert ids["elec"] == new_job(admin_client, "lamp")["data"]["team"]


def test_an_archived_rule_stops_running(platform: Platform, admin_client: ApiClient) -> None:
    build(admin_client)
    ids = people(admin_client)
    ok(admin_client.post(f"{APP}/rules/dispatch/archive", json={}))
    job = new_job(admin_client, "pump")
    assert job["data"].get("team") is None
    assert job["data"]["due"]  # the SLA policy still runs
    with platform.unit_of_work(write=False) as uow:
        notes = uow.session.scalars(
            select(Notification).where(Notification.user_id == ids["sam"])
        ).all()
    assert notes == []


def test_live_definitions_never_name_archived_ones(admin_client: ApiClient) -> None:
    build(admin_client)
    job = new_job(admin_client, "pump")
    in_use = assert_problem(
        admin_client.post(f"{APP}/forms/job/archive", json={}), 409, "definition.in_use"
    )
    assert in_use["errors"] == {
        "flows/repair:/form": ["names form 'job'"],
        "rules/dispatch:/form": ["names form 'job'"],
        "rules/job_sla:/form": ["names form 'job'"],
    }
    calendar = admin_client.post(f"{APP}/calendars/maint_hours/archive", json={})
    assert assert_problem(calendar, 409, "definition.in_use")["errors"] == {
        "rules/job_sla:/calendar": ["names calendar 'maint_hours'"]
    }
    for kinds, key in (("flows", "repair"), ("rules", "dispatch"), ("rules", "job_sla")):
        ok(admin_client.post(f"{APP}/{kinds}/{key}/archive", json={}))
    ok(admin_client.post(f"{APP}/forms/job/archive", json={}))
    ok(admin_client.post(f"{APP}/calendars/maint_hours/archive", json={}))

    refused = admin_client.post(f"{APP}/records/job", json={"data": {"title": "fan"}})
    assert_problem(refused, 409, "definition.archived")
    kept = ok(admin_client.get(f"{APP}/records/job/{job['id']}"))  # records stay usable
    changed = {"data": {"title": "pump 2"}, "lock_version": kept["lock_version"]}
    assert ok(admin_client.patch(f"{APP}/records/job/{job['id']}", json=changed))
    assert ok(admin_client.get(f"{APP}/navigation"))["forms"] == []

    early = admin_client.post(f"{APP}/rules/dispatch/restore", json={})
    assert assert_problem(early, 409, "definition.archived_reference")["errors"] == {
        "rules/dispatch:/form": ["names form 'job', archived"]
    }
    other = {
        "key": "other",
        "label": text("其他", "Other"),
        "form": "job",
        "trigger": {"type": "record_created"},
        "actions": [{"type": "comment", "text": "hi"}],
    }
    ok(admin_client.post(f"{APP}/rules", json={"body": other}), 201)
    unpublishable = admin_client.post(f"{APP}/rules/other/publish", json={})
    problem = assert_problem(unpublishable, 422, "definition.invalid")
    assert problem["errors"] == {"/form": ["form 'job' is archived: restore it, or name another"]}
    assert_problem(
        admin_client.post(f"{APP}/rules/other/archive", json={}), 409, "definition.not_published"
    )
    ok(admin_client.post(f"{APP}/forms/job/restore", json={}))
    ok(admin_client.post(f"{APP}/rules/dispatch/restore", json={}))
    assert_problem(
        admin_client.post(f"{APP}/rules/dispatch/restore", json={}), 409, "definition.not_archived"
    )
    assert_problem(
        admin_client.post(f"{APP}/flows/repair/archive", json={}), 409, "definition.archived"
    )
    stale = admin_client.post(f"{APP}/forms/job/archive", json={"lock_version": 1})
    assert_problem(stale, 409, "lock_version.stale")


def test_only_administrators_archive_or_restore(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    build(admin_client)
    make_user(platform, "dan", password=PASSWORD)
    dan = ApiClient(app.test_client())
    assert dan.login("dan", PASSWORD).status_code == 200
    assert_problem(dan.post(f"{APP}/flows/repair/archive", json={}), 404)  # no grant: no app
    role = ok(admin_client.post("/api/v1/roles", json={"key": "designer", "name": "设计"}), 201)
    grant = {"app_key": "maint", "actions": ["read", "design"]}
    ok(admin_client.post(f"/api/v1/roles/{role['id']}/grants", json=grant), 201)
    users = {u["username"]: u["id"] for u in ok(admin_client.get("/api/v1/users"))["items"]}
    member = f"/api/v1/roles/{role['id']}/members/{users['dan']}"
    assert admin_client.put(member).status_code == 204
    assert_problem(
        dan.post(f"{APP}/flows/repair/archive", json={}), 403, "permission.admin_required"
    )
    assert_problem(
        dan.post(f"{APP}/flows/repair/restore", json={}), 403, "permission.admin_required"
    )
    assert_problem(admin_client.post(f"{APP}/flows/nowhere/archive", json={}), 404)
    assert_problem(admin_client.post(f"{APP}/flows/repair/archive", json={"x": 1}), 422)
