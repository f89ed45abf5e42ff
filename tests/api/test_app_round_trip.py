"""An app built from scratch through the API exports with every group, role and calendar it
names, and installs into an empty database where a record is created and routed as at home.

Both ways round: from the test database (SQLite, or PostgreSQL when configured) to an empty
SQLite one, and from an empty SQLite one into the test database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Notification, Task
from tangram.web import create_app
from tests.conftest import ADMIN_PASSWORD, CHEAP_PASSWORDS, ApiClient, assert_problem

APP = "/api/v1/apps/maint"
PASSWORD = "member-password-1"


def text(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": text(key, key), **extra}


def choices(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": text(v, v)} for v in values]


CALENDAR = {
    "key": "maint_hours",
    "label": text("维修工时", "Maintenance hours"),
    "time_zone": "Asia/Shanghai",
    "week": {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}
JOB = {
    "key": "job",
    "label": text("维修单", "Job"),
    "fields": [
        field("title", "text", required=True),
        field("urgency", "select", options=choices("P1", "P2"), default="P2"),
        field("team", "group"),
        field("done_at", "datetime"),
        field("due", "datetime"),
    ],
    "options": {"title_field": "title", "group_field": "team"},
}
DISPATCH = {
    "key": "dispatch",
    "label": text("派单", "Dispatch"),
    "form": "job",
    "trigger": {"type": "record_created"},
    "actions": [
        {"type": "assign", "field": "team", "to": {"group": "maint_elec"}},
        {"type": "notify", "to": {"role": "maint_supervisor"}, "title": "new job {{title}}"},
    ],
}
SLA = {
    "key": "job_sla",
    "type": "sla",
    "label": text("时限", "SLA"),
    "form": "job",
    "calendar": "maint_hours",
    "priority_field": "urgency",
    "targets": [
        {
            "key": "fix",
            "minutes": {"P1": 60, "P2": 240},
            "stop_when": {"!!": [{"var": "done_at"}]},
            "due_field": "due",
        }
    ],
}
REPAIR = {
    "key": "repair",
    "label": text("维修", "Repair"),
    "form": "job",
    "nodes": [
        {"id": "start", "type": "start", "trigger": "record_created"},
        {"id": "fix", "type": "approval", "assignees": {"group": "maint_elec"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [{"from": "start", "to": "fix"}, {"from": "fix", "to": "end"}],
}
DEFINITIONS = [
    ("calendars", CALENDAR),
    ("forms", JOB),
    ("rules", DISPATCH),
    ("rules", SLA),
    ("flows", REPAIR),
]


@dataclass
class Site:
    """One installation: its platform and an administrator's client."""

    platform: Platform
    client: ApiClient


def _site(path: Path, clock: FrozenClock) -> Iterator[Site]:
    settings = Settings(
        database_url=f"sqlite:///{path / 'tangram.db'}",
        secret_key="elsewhere-secret",
        instance_path=path,
        embedded_worker=False,
        **CHEAP_PASSWORDS,
    )
    other = Platform.from_settings(settings, clock=clock)
    with other.unit_of_work() as uow:
        users.ensure_admin(uow, username="admin", password=ADMIN_PASSWORD)
        uow.commit()
    flask_app = create_app(platform=other)
    flask_app.testing = True
    client = ApiClient(flask_app.test_client())
    assert client.login("admin", ADMIN_PASSWORD).status_code == 200
    try:
        yield Site(other, client)
    finally:
        other.dispose()


@pytest.fixture
def elsewhere(tmp_path: Path, sqlite_template: Path, clock: FrozenClock) -> Iterator[Site]:
    """An empty installation of its own (a fresh migrated SQLite database)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "tangram.db")
    yield from _site(folder, clock)


@pytest.fixture
def here(platform: Platform, admin_client: ApiClient) -> Site:
    """The test database's installation."""
    return Site(platform, admin_client)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def build(client: ApiClient) -> None:
    """The maintenance app, from scratch: groups, a role, a calendar, a form, a rule, an SLA
    policy and a flow, each published."""
    ok(client.post("/api/v1/apps", json={"key": "maint", "name": text("维修", "Maint")}), 201)
    dept = ok(client.post("/api/v1/groups", json={"key": "maint_dept", "name": "维修部"}), 201)
    elec = {"key": "maint_elec", "name": "电工组", "parent_id": dept["id"]}
    ok(client.post("/api/v1/groups", json=elec), 201)
    role = {"key": "maint_supervisor", "name": "维修主管"}
    supervisor = ok(client.post("/api/v1/roles", json=role), 201)
    grant = {
        "app_key": "maint",
        "form_key": "job",
        "actions": ["read", "update"],
        "field_rules": {"due": "hidden", "urgency": "read_only"},
    }
    ok(client.post(f"/api/v1/roles/{supervisor['id']}/grants", json=grant), 201)
    for kinds, body in DEFINITIONS:
        ok(client.post(f"{APP}/{kinds}", json={"body": body}), 201)
        ok(client.post(f"{APP}/{kinds}/{body['key']}/publish", json={}), 201)


def by_key(client: ApiClient, path: str) -> dict[str, Any]:
    return {item["key"]: item for item in ok(client.get(path))}


@pytest.mark.parametrize("way", ["to_an_empty_sqlite", "from_sqlite_into_the_test_database"])
def test_an_app_built_through_the_api_installs_into_an_empty_database_and_routes_a_record(
    request: pytest.FixtureRequest, way: str
) -> None:
    names = ("here", "elsewhere") if way == "to_an_empty_sqlite" else ("elsewhere", "here")
    source: Site = request.getfixturevalue(names[0])
    target: Site = request.getfixturevalue(names[1])
    build(source.client)
    exported = source.client.get(f"{APP}/export")
    assert exported.status_code == 200
    package = packages.read(exported.data)
    assert sorted(n for n in package.files if not n.startswith(("forms/", "rules/", "flows/"))) == [
        "calendars/maint_hours.json",
        "groups/maint_dept.json",
        "groups/maint_elec.json",
        "manifest.json",
        "roles/maint_supervisor.json",
    ]
    assert package.groups["maint_elec"] == {
        "key": "maint_elec",
        "name": {"zh-CN": "电工组"},
        "parent": "maint_dept",
    }
    assert package.roles["maint_supervisor"]["grants"] == [
        {
            "form": "job",
            "actions": ["read", "update"],
            "scope": "all",
            "fields": {"due": "hidden", "urgency": "read_only"},
        }
    ]

    client = target.client
    assert client.get(APP).status_code == 404  # an empty database
    installed = client.post(
        "/api/v1/apps/import", data=exported.data, headers={"Content-Type": "application/zip"}
    )
    report = ok(installed)
    assert (report["action"], report["counts"]) == ("install", {"added": 5})
    for kinds, body in DEFINITIONS:
        found = ok(client.get(f"{APP}/{kinds}/{body['key']}"))
        assert (found["published_version"], found["body"]) == (1, body)
    groups = by_key(client, "/api/v1/groups")
    assert groups["maint_elec"]["parent_id"] == groups["maint_dept"]["id"]
    roles = by_key(client, "/api/v1/roles")
    grants = ok(client.get(f"/api/v1/roles/{roles['maint_supervisor']['id']}/grants"))
    assert [(g["app_key"], g["form_key"], g["scope"], g["field_rules"]) for g in grants] == [
        ("maint", "job", "all", {"due": "hidden", "urgency": "read_only"})
    ]

    elec = groups["maint_elec"]["id"]
    # a member of the team who works the app (tasks go only to people whose grants reach it)
    worker = {"username": "ella", "password": PASSWORD, "roles": ["maint_supervisor"]}
    member = ok(client.post("/api/v1/users", json=worker), 201)
    boss = {"username": "sam", "password": PASSWORD, "roles": ["maint_supervisor"]}
    supervisor = ok(client.post("/api/v1/users", json=boss), 201)
    assert client.put(f"/api/v1/groups/{elec}/members/{member['id']}").status_code == 204
    created = ok(
        client.post(f"{APP}/records/job", json={"data": {"title": "pump", "urgency": "P1"}}), 201
    )
    assert created["data"]["team"] == elec  # dispatched to the group by its id here
    assert created["data"]["due"]  # the SLA ran on the packaged calendar
    with target.platform.unit_of_work(write=False) as uow:
        tasks = uow.session.scalars(select(Task).where(Task.record_id == created["id"])).all()
        assert [(t.node, t.assignee_id) for t in tasks] == [("fix", member["id"])]
        notes = uow.session.scalars(
            select(Notification.title).where(Notification.user_id == supervisor["id"])
        ).all()
        assert notes == ["new job pump"]


def test_an_export_names_every_reference_that_does_not_resolve(
    here: Site, platform: Platform
) -> None:
    build(here.client)
    flow = {
        **REPAIR,
        "nodes": [
            REPAIR["nodes"][0],
            {"id": "fix", "type": "approval", "assignees": [{"users": [1]}, {"role": "ghost"}]},
            REPAIR["nodes"][2],
        ],
    }
    current = ok(here.client.get(f"{APP}/flows/repair"))
    draft = {"body": flow, "lock_version": current["lock_version"]}
    ok(here.client.put(f"{APP}/flows/repair", json=draft))
    ok(here.client.post(f"{APP}/flows/repair/publish", json={}), 201)
    groups = by_key(here.client, "/api/v1/groups")
    team = groups["maint_elec"]
    deleted = here.client.delete(f"/api/v1/groups/{team['id']}?lock_version={team['lock_version']}")
    assert deleted.status_code == 204  # the rule still names it
    problem = assert_problem(here.client.get(f"{APP}/export"), 422, "package.unresolved")
    assert problem["errors"] == {
        "flows/repair.json:/nodes/1/assignees/0/users/0": [
            "names user 1 by id; another database has other users: name a group, a role or a"
            " field instead"
        ],
        "flows/repair.json:/nodes/1/assignees/1/role": ["there is no role 'ghost'"],
        "rules/dispatch.json:/actions/0/to/group": ["there is no group 'maint_elec'"],
    }
