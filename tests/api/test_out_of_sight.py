"""What the caller may not see answers exactly as what does not exist (404, same problem code);
403 is kept for what they may see but not do."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.kernel.models import Record
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World, build_world
from tests.platform.test_flows import PLAN, flow_body

APP = "/api/v1/apps/svc"
MISSING = 999_999
PASSWORD = "viewer-password-1"


def _sign_in(
    platform: Platform, app: Flask, world: World, name: str, grants: list[dict[str, Any]]
) -> ApiClient:
    """``name`` holding only ``grants`` in app svc (a role each), signed in."""
    world.revoke_staff(name)
    with platform.unit_of_work() as uow:
        user = users.get_user(uow, world.users[name])
        users.update_user(
            uow, SYSTEM, user.id, {"password": PASSWORD}, lock_version=user.lock_version
        )
        for n, grant in enumerate(grants):
            role = roles.create_role(uow, SYSTEM, key=f"{name}_{n}", name=f"{name} {n}")
            roles.add_grant(uow, SYSTEM, role.id, app_key="svc", **grant)
            users.assign_role(uow, SYSTEM, role_id=role.id, user_id=user.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login(name, PASSWORD).status_code == 200
    return client


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body(mode="any"))
    return world


def _bobs_ticket(platform: Platform, world: World) -> Record:
    with platform.unit_of_work() as uow:
        record = records.create_record(
            uow, SYSTEM, "svc", "ticket", {"title": "bob's"}, owner_id=world.users["bob"]
        ).record
        uow.commit()
    return record


def _same_problem(seen: Any, missing: Any, status: int, code: str) -> None:
    """Both answers are the same problem: status, code, title and keys (the detail names the id)."""
    one = assert_problem(seen, status, code)
    other = assert_problem(missing, status, code)
    assert set(one) == set(other)
    assert one["title"] == other["title"]


def test_a_record_out_of_the_callers_scope_answers_as_a_missing_one(
    platform: Platform, app: Flask, world: World
) -> None:
    ticket = _bobs_ticket(platform, world)
    # ann reads, changes and deletes her own tickets only
    ann = _sign_in(
        platform,
        app,
        world,
        "ann",
        [{"form_key": "ticket", "actions": ["read", "update", "delete"], "scope": "own"}],
    )
    base = f"{APP}/records/ticket"
    for method, suffix, body in (
        ("get", "", None),
        ("patch", "", {"data": {"title": "ann's now"}, "lock_version": 1}),
        ("patch", "", {"data": {"title": "ann's now"}, "lock_version": 7}),  # no 409 either
        ("delete", "?lock_version=1", None),
        ("get", "/timeline", None),
        ("get", "/sla", None),
        ("get", "/flows", None),
    ):
        call = getattr(ann, method)
        kw = {"json": body} if body is not None else {}
        seen = call(f"{base}/{ticket.id}{suffix}", **kw)
        missing = call(f"{base}/{MISSING}{suffix}", **kw)
        _same_problem(seen, missing, 404, "record.not_found")
        assert b"bob's" not in seen.data
    kept = world.get(ticket.id)
    assert (kept.data["title"], kept.lock_version, kept.deleted_at) == ("bob's", 1, None)


def test_a_record_the_caller_may_read_but_not_change_answers_403(
    platform: Platform, app: Flask, world: World
) -> None:
    ticket = _bobs_ticket(platform, world)
    cat = _sign_in(
        platform,
        app,
        world,
        "cat",
        [
            {"form_key": "ticket", "actions": ["read"], "scope": "all"},
            {"form_key": "ticket", "actions": ["update"], "scope": "own"},
        ],
    )
    base = f"{APP}/records/ticket/{ticket.id}"
    assert cat.get(base).status_code == 200
    refused = cat.patch(base, json={"data": {"title": "cat's now"}, "lock_version": 1})
    assert_problem(refused, 403, "permission.record")
    assert_problem(cat.delete(f"{base}?lock_version=1"), 403, "permission.record")
    kept = world.get(ticket.id)
    assert (kept.data["title"], kept.lock_version, kept.deleted_at) == ("bob's", 1, None)


def test_a_flow_instance_whose_record_is_out_of_sight_answers_as_a_missing_one(
    platform: Platform, app: Flask, world: World, admin_client: ApiClient
) -> None:
    plan = world.create({"title": "noise"}, form="plan")
    started = admin_client.post(f"{APP}/records/plan/{plan.id}/flows", json={"flow": "handling"})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    (task,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    # ann holds no grant on plans; cat reads them all
    ann = _sign_in(
        platform, app, world, "ann", [{"form_key": "ticket", "actions": ["read"], "scope": "own"}]
    )
    cat = _sign_in(
        platform, app, world, "cat", [{"form_key": "plan", "actions": ["read"], "scope": "all"}]
    )
    for action in ("comment", "urge", "withdraw", "cancel"):
        body = {"opinion": "let me in"}
        seen = ann.post(f"/api/v1/flows/{instance['id']}/{action}", json=body)
        missing = ann.post(f"/api/v1/flows/{MISSING}/{action}", json=body)
        _same_problem(seen, missing, 404, "flow.not_found")
    _same_problem(
        ann.get(f"/api/v1/tasks/{task['id']}"),
        ann.get(f"/api/v1/tasks/{MISSING}"),
        404,
        "task.not_found",
    )
    # cat sees the flow but did not start it: she may not cancel it
    refused = cat.post(f"/api/v1/flows/{instance['id']}/cancel", json={"opinion": "stop"})
    assert_problem(refused, 403, "flow.forbidden")
    flows = admin_client.get(f"{APP}/records/plan/{plan.id}/flows").get_json()
    assert flows[0]["status"] == "running"
    assert all(h.get("opinion") != "let me in" for h in flows[0]["history"])


def test_a_shared_view_of_a_form_the_caller_may_not_read_answers_as_a_missing_one(
    platform: Platform, app: Flask, world: World, admin_client: ApiClient
) -> None:
    views = {}
    for form in ("ticket", "callback"):
        saved = admin_client.post(
            f"{APP}/records/{form}/views", json={"name": "everyone's", "shared": True}
        )
        assert saved.status_code == 200, saved.get_json()
        views[form] = saved.get_json()["id"]
    ann = _sign_in(
        platform, app, world, "ann", [{"form_key": "ticket", "actions": ["read"], "scope": "own"}]
    )
    _same_problem(
        ann.delete(f"{APP}/records/callback/views/{views['callback']}"),
        ann.delete(f"{APP}/records/callback/views/{MISSING}"),
        404,
        "view.not_found",
    )
    # a shared view she sees (she reads tickets) is refused, not hidden
    refused = ann.delete(f"{APP}/records/ticket/views/{views['ticket']}")
    assert_problem(refused, 403, "view.delete_denied")
    for form in ("ticket", "callback"):
        listed = admin_client.get(f"{APP}/records/{form}/views").get_json()
        assert [v["id"] for v in listed] == [views[form]]
