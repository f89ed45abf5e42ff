"""``/metrics``: who may read it, and what it says about requests, jobs, the audit chain and the
database pool."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit, backlog, checkpoints, jobs
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Job, JobStatus, User
from tangram.web import create_app
from tests.api.test_health_api import NOWHERE
from tests.conftest import START, ApiClient, assert_problem, make_user

TOKEN = "scrape-token-of-the-installation"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(response: object) -> Samples:
    """Every sample of an exposition by name and labels."""
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


@pytest.fixture
def tokened(settings: Settings, clock: FrozenClock) -> Iterator[Flask]:
    """An app of an installation that gives its scraper a token."""
    platform = Platform.from_settings(replace(settings, metrics_token=TOKEN), clock=clock)
    app = create_app(platform=platform)
    app.testing = True
    yield app
    platform.dispose()


def test_anonymous_callers_get_401_as_from_the_api(client: ApiClient) -> None:
    assert_problem(client.get("/metrics"), 401, "auth.required")


def test_users_who_do_not_administer_get_403(client: ApiClient, platform: Platform) -> None:
    make_user(platform, "ann", password="user-password-1")
    assert client.login("ann", "user-password-1").status_code == 200
    assert_problem(client.get("/metrics"), 403, "permission.admin_required")


def test_administrators_read_the_metrics_without_a_token(admin_client: ApiClient) -> None:
    response = admin_client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert value(samples(response), "tangram_database_up") == 1


def test_the_token_lets_a_scraper_in_and_nothing_else_does(tokened: Flask) -> None:
    http = tokened.test_client()
    assert http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for header in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}"):
        answer = http.get("/metrics", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.mimetype == "application/problem+json"
    assert http.get("/metrics").status_code == 401


def test_without_a_configured_token_no_bearer_value_is_one(client: ApiClient) -> None:
    client.headers["Authorization"] = "Bearer "
    assert client.get("/metrics").status_code == 401
    client.headers["Authorization"] = "Bearer tgm_anything"
    assert client.get("/metrics").status_code == 401


def test_requests_are_counted_by_route_rule_method_and_status(
    admin_client: ApiClient, admin_user: User
) -> None:
    for _ in range(3):
        assert admin_client.get(f"/api/v1/users/{admin_user.id}").status_code == 200
    assert admin_client.get("/api/v1/users/999999").status_code == 404
    admin_client.client.open("/api/v1/health", method="BREW")  # no such method: not a label
    found = samples(admin_client.get("/metrics"))
    rule = "/api/v1/users/<int:user_id>"
    count = "tangram_http_requests_total"
    assert value(found, count, route=rule, method="GET", status="200") == 3
    assert value(found, count, route=rule, method="GET", status="404") == 1
    assert value(found, count, route="<unmatched>", method="other", status="405") == 1
    latency = "tangram_http_request_duration_seconds_count"
    assert value(found, latency, route=rule, method="GET", status="200") == 3
    assert not any(
        f"/api/v1/users/{admin_user.id}" in dict(labels).get("route", "") for _, labels in found
    )


def test_jobs_are_reported_by_state_and_kind_with_the_oldest_due_lag(
    admin_client: ApiClient, platform: Platform
) -> None:
    with platform.unit_of_work() as uow:
        jobs.enqueue(uow, "mail", {}, run_at=START - timedelta(seconds=90))
        jobs.enqueue(uow, "mail", {}, run_at=START - timedelta(seconds=10))
        jobs.enqueue(uow, "webhook", {}, run_at=START + timedelta(hours=1))
        running = jobs.enqueue(uow, "rollup.build", {})
        vanished = jobs.enqueue(uow, "webhook", {})
        dead = jobs.enqueue(uow, "webhook", {})
        uow.commit()
    with platform.unit_of_work() as uow:
        lease = {"status": JobStatus.RUNNING.value, "locked_by": "w"}
        uow.session.execute(
            update(Job)
            .where(Job.id == running.id)
            .values(**lease, locked_until=START + timedelta(minutes=5))
        )
        uow.session.execute(  # its worker vanished: its lease ran out a minute ago
            update(Job)
            .where(Job.id == vanished.id)
            .values(
                **lease,
                run_at=START - timedelta(minutes=2),
                locked_until=START - timedelta(minutes=1),
            )
        )
        uow.session.execute(
            update(Job).where(Job.id == dead.id).values(status=JobStatus.DEAD.value)
        )
        uow.commit()
    found = samples(admin_client.get("/metrics"))
    assert {state: value(found, "tangram_jobs", state=state) for state in backlog.JOB_STATES} == {
        "pending": 3,
        "due": 3,  # two mails, and the webhook whose lease ran out
        "running": 2,
        "dead": 1,
    }
    assert value(found, "tangram_jobs_by_kind", state="due", kind="mail") == 2
    assert value(found, "tangram_jobs_by_kind", state="running", kind="rollup.build") == 1
    assert value(found, "tangram_jobs_by_kind", state="dead", kind="webhook") == 1
    assert value(found, "tangram_jobs_oldest_due_lag_seconds") == 120  # the vanished one's
    with platform.unit_of_work() as uow:
        uow.session.execute(update(Job).where(Job.id == vanished.id).values(status="done"))
        uow.commit()
    found = samples(admin_client.get("/metrics"))
    assert value(found, "tangram_jobs_oldest_due_lag_seconds") == 90  # now the oldest mail's


def test_audit_entries_queued_and_after_the_newest_checkpoint_are_counted(
    admin_client: ApiClient, platform: Platform
) -> None:
    def unanchored() -> float | None:
        return value(samples(admin_client.get("/metrics")), "tangram_audit_unanchored_entries")

    def queued() -> float | None:
        return value(samples(admin_client.get("/metrics")), "tangram_audit_queued_entries")

    with platform.unit_of_work(write=False) as uow:
        written = audit.count(uow.session)
    assert written > 0  # the administrator's creation and sign-in
    assert unanchored() == written
    assert queued() == written  # no sequencer runs here
    platform.chain_audit()
    assert (unanchored(), queued()) == (written, 0)
    with platform.unit_of_work() as uow:
        audit.checkpoint(uow.session, key=checkpoints.audit_key(platform.settings), at=uow.now)
        uow.commit()
    assert unanchored() == 0
    make_user(platform, "bob")  # audited: queued, not anchored
    with platform.unit_of_work(write=False) as uow:
        assert unanchored() == queued() == audit.count(uow.session) - written


def test_the_pool_of_this_process_is_reported(admin_client: ApiClient) -> None:
    found = samples(admin_client.get("/metrics"))
    idle = value(found, "tangram_db_pool_connections", state="idle")
    in_use = value(found, "tangram_db_pool_connections", state="checked_out")
    assert idle is not None
    assert idle >= 1  # the sign-in's connection went back to the pool
    assert in_use == 0  # sampled before the scrape took one


def test_a_scrape_says_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = Settings(
        database_url=NOWHERE, secret_key="k", instance_path=tmp_path, metrics_token=TOKEN
    )
    platform = Platform.from_settings(settings)
    try:
        app = create_app(platform=platform)
        answer = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        platform.dispose()
    assert answer.status_code == 200
    found = samples(answer)
    assert value(found, "tangram_database_up") == 0
    assert value(found, "tangram_jobs", state="due") is None


def test_metrics_stay_out_of_the_api_document(client: ApiClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert not [path for path in spec["paths"] if "metrics" in path]
