"""Idempotency-Key: a retried create gets the first answer, never a second record."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import idempotency
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import build_world
from tests.platform.test_flows import PLAN

URL = "/api/v1/apps/svc/records/plan"


def count(platform: Platform) -> int:
    with platform.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Record)) or 0)


def test_a_retried_create_answers_the_first_record_and_writes_it_once(
    platform: Platform, admin_client: ApiClient, clock: FrozenClock
) -> None:
    build_world(platform).publish("form", PLAN)
    key = {"Idempotency-Key": "5f0c6a57-retry-me"}
    first = admin_client.post(URL, json={"data": {"title": "noise"}}, headers=key)
    assert first.status_code == 201, first.get_json()
    again = admin_client.post(URL, json={"data": {"title": "noise"}}, headers=key)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(platform) == 1
    other = admin_client.post(URL, json={"data": {"title": "fan"}}, headers=key)
    assert_problem(other, 422, "idempotency.mismatch")
    fresh = admin_client.post(
        URL, json={"data": {"title": "fan"}}, headers={"Idempotency-Key": "k2"}
    )
    assert fresh.status_code == 201
    assert count(platform) == 2
    # a refusal is an answer too: the same invalid request gets the same refusal
    bad = {"Idempotency-Key": "k3"}
    refused = admin_client.post(URL, json={"data": {"cost": "many"}}, headers=bad)
    assert_problem(refused, 422, "record.invalid")
    assert admin_client.post(URL, json={"data": {"cost": "many"}}, headers=bad).get_json() == (
        refused.get_json()
    )
    # after a day the key is forgotten
    clock.advance(idempotency.KEEP + timedelta(minutes=1))
    later = admin_client.post(URL, json={"data": {"title": "noise"}}, headers=key)
    assert later.status_code == 201
    assert later.get_json()["id"] != first.get_json()["id"]


def test_a_key_whose_request_is_still_running_is_refused_until_it_answers(
    platform: Platform, admin_client: ApiClient, clock: FrozenClock
) -> None:
    build_world(platform).publish("form", PLAN)
    me = admin_client.get("/api/v1/me").get_json()["id"]
    body = b'{"data": {"title": "noise"}}'
    print_ = idempotency.fingerprint("POST", URL, b"", body)
    with platform.unit_of_work() as uow:  # another request with this key has just started
        assert idempotency.claim(uow, f"user:{me}", "busy-key", print_) is None
        uow.commit()
    headers = {"Idempotency-Key": "busy-key", "Content-Type": "application/json"}
    racing = admin_client.post(URL, data=body, headers=headers)
    assert_problem(racing, 409, "idempotency.in_progress")
    assert count(platform) == 0
    clock.advance(idempotency.STALE + timedelta(seconds=1))  # it died without answering
    assert admin_client.post(URL, data=body, headers=headers).status_code == 201
    assert_problem(
        admin_client.post(URL, json={"data": {}}, headers={"Idempotency-Key": "é"}),
        422,
        "idempotency.key",
    )
