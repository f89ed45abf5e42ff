"""Audit, jobs and notifications over HTTP."""

from __future__ import annotations

from flask import Flask

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import jobs
from tangram.platform.kernel.models import User
from tangram.platform.outbound import notify
from tangram.platform.worker import Worker
from tests.conftest import ApiClient, assert_problem, count_queries, make_user, tamper_audit


def _signed_in(app: Flask, username: str) -> ApiClient:
    api = ApiClient(app.test_client())
    assert api.login(username, "user-password-1").status_code == 200
    return api


def test_audit_verify_reports_intact_then_broken_chain(
    admin_client: ApiClient, platform: Platform
) -> None:
    admin_client.post("/api/v1/roles", json={"key": "a1", "name": "A1"})
    admin_client.post("/api/v1/roles", json={"key": "a2", "name": "A2"})
    waiting = admin_client.get("/api/v1/audit/verify").get_json()  # no sequencer runs here
    assert (waiting["ok"], waiting["checked"]) == (True, 0)
    assert waiting["waiting"] >= 3
    platform.chain_audit()
    intact = admin_client.get("/api/v1/audit/verify").get_json()
    assert (intact["ok"], intact["checked"]) == (True, waiting["waiting"])
    assert intact["waiting"] == 0
    tamper_audit(platform, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    broken = admin_client.get("/api/v1/audit/verify").get_json()
    assert (broken["ok"], broken["broken_seq"], broken["checked"]) == (False, 2, 1)


def test_audit_entries_are_paged_and_filtered(admin_client: ApiClient) -> None:
    for n in range(3):
        admin_client.post("/api/v1/roles", json={"key": f"r{n}", "name": f"R{n}"})
    page = admin_client.get("/api/v1/audit?limit=2").get_json()
    assert [(e["id"], e["seq"]) for e in page["items"]] == [(1, None), (2, None)]  # queued
    rest = admin_client.get(f"/api/v1/audit?after={page['next_after']}").get_json()
    assert [e["action"] for e in rest["items"]] == ["auth.login"] + ["role.created"] * 3
    assert rest["next_after"] is None
    roles = admin_client.get("/api/v1/audit?object_type=role").get_json()["items"]
    assert [e["action"] for e in roles] == ["role.assigned"] + ["role.created"] * 3
    assert all(e["object_type"] == "role" for e in roles)


def test_operations_endpoints_are_for_admins_only(platform: Platform, app: Flask) -> None:
    make_user(platform, "olga")
    olga = _signed_in(app, "olga")
    for path in ("/api/v1/audit/verify", "/api/v1/audit", "/api/v1/jobs"):
        assert_problem(olga.get(path), 403, "permission.admin_required")
    assert_problem(olga.post("/api/v1/jobs/1/retry"), 403)
    anonymous = ApiClient(app.test_client())
    assert_problem(anonymous.get("/api/v1/audit/verify"), 401)


def test_dead_job_is_listed_and_retried(admin_client: ApiClient, platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        job = jobs.enqueue(uow, "unknown.kind", {"x": 1})
        uow.commit()
    Worker(platform).run_due()
    dead = admin_client.get("/api/v1/jobs?status=dead").get_json()["items"]
    assert [(j["id"], j["status"]) for j in dead] == [(job.id, "dead")]
    assert "no handler" in dead[0]["last_error"]
    retried = admin_client.post(f"/api/v1/jobs/{job.id}/retry")
    assert retried.get_json()["status"] == "pending"
    assert retried.get_json()["attempts"] == 0
    assert_problem(admin_client.post("/api/v1/jobs/999/retry"), 404, "job.not_found")
    assert_problem(admin_client.get("/api/v1/jobs?status=sleeping"), 422)


def test_job_list_costs_the_same_queries_whatever_its_length(
    admin_client: ApiClient, platform: Platform
) -> None:
    def add(n: int) -> None:
        with platform.unit_of_work() as uow:
            for _ in range(n):
                jobs.enqueue(uow, "x", {})
            uow.commit()

    add(2)
    with count_queries(platform.engine) as few:
        admin_client.get("/api/v1/jobs")
    add(20)
    with count_queries(platform.engine) as many:
        assert len(admin_client.get("/api/v1/jobs").get_json()["items"]) == 22
    assert len(few) == len(many)


def test_notifications_are_private_and_marked_read(platform: Platform, app: Flask) -> None:
    pia = make_user(platform, "pia")
    quinn: User = make_user(platform, "quinn")
    with platform.unit_of_work() as uow:
        mine = notify.notify(uow, pia.id, kind="task", title="新待办：审批整改方案")
        notify.notify(uow, pia.id, kind="task", title="second")
        theirs = notify.notify(uow, quinn.id, kind="task", title="not for pia")
        uow.commit()
    client = _signed_in(app, "pia")
    listed = client.get("/api/v1/me/notifications").get_json()["items"]
    assert [n["title"] for n in listed] == ["新待办：审批整改方案", "second"]
    read = client.post(f"/api/v1/me/notifications/{mine}/read").get_json()
    assert read["read_at"] is not None
    unread = client.get("/api/v1/me/notifications?unread=true").get_json()["items"]
    assert [n["title"] for n in unread] == ["second"]
    assert_problem(
        client.post(f"/api/v1/me/notifications/{theirs}/read"), 404, "notification.not_found"
    )
