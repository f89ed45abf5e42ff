"""A calendar's probe: the due time of a target in working minutes, with the working stretches
that make it, on the draft or a body sent with the request — and clear refusals."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tests.apps.test_aftersales import PACKAGE
from tests.conftest import ApiClient, assert_problem, make_user
from tests.platform.test_packages import SYSTEM

BASE = "/api/v1/apps/aftersales/calendars"


def probe(client: ApiClient, key: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/{key}/probe", json=body)
    assert response.status_code == 200, response.get_json()
    out: dict[str, Any] = response.get_json()
    return out


def test_a_target_of_working_hours_ends_after_the_weekend(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        uow.commit()
    # Friday 14:00 plus 8 working hours: four on Friday, four on Monday morning
    out = probe(admin_client, "cn_workdays", start="2026-12-04T14:00:00", minutes=480)
    assert out["due"] == "2026-12-07T13:00:00+08:00"
    assert out["time_zone"] == "Asia/Shanghai"
    assert out["segments"] == [
        {"start": "2026-12-04T14:00:00+08:00", "end": "2026-12-04T18:00:00+08:00", "minutes": 240},
        {"start": "2026-12-07T09:00:00+08:00", "end": "2026-12-07T13:00:00+08:00", "minutes": 240},
    ]
    # an instant with an offset is taken as it is (06:00 UTC is 14:00 in Shanghai)
    assert (
        probe(admin_client, "cn_workdays", start="2026-12-04T06:00:00Z", minutes=480)["due"]
        == "2026-12-07T13:00:00+08:00"
    )
    # a body sent with the request: Saturday mornings work too
    body = admin_client.get(f"{BASE}/cn_workdays").get_json()["body"]
    body["week"]["sat"] = [["09:00", "12:00"]]
    out = probe(admin_client, "cn_workdays", start="2026-12-04T14:00:00", minutes=480, body=body)
    assert out["due"] == "2026-12-07T10:00:00+08:00"
    assert probe(admin_client, "always", start="2026-12-04T22:00:00", minutes=120)["due"] == (
        "2026-12-05T00:00:00+08:00"
    )
    # refusals: no time, no start, a broken body, an unknown calendar, someone who does not design
    assert_problem(
        admin_client.post(f"{BASE}/always/probe", json={"start": "2026-12-04T22:00", "minutes": 0}),
        422,
    )
    assert_problem(admin_client.post(f"{BASE}/always/probe", json={"minutes": 5}), 422)
    broken = body | {"week": {"someday": [["09:00", "18:00"]]}}
    problem = assert_problem(
        admin_client.post(
            f"{BASE}/cn_workdays/probe",
            json={"start": "2026-12-04T14:00:00", "minutes": 60, "body": broken},
        ),
        422,
        "definition.invalid",
    )
    assert problem["diagnostics"]
    assert_problem(
        admin_client.post(
            f"{BASE}/nothing/probe", json={"start": "2026-12-04T14:00", "minutes": 5}
        ),
        404,
    )
    make_user(platform, "clerk")
    clerk = ApiClient(app.test_client())
    assert clerk.login("clerk", "user-password-1").status_code == 200
    assert_problem(
        clerk.post(f"{BASE}/always/probe", json={"start": "2026-12-04T14:00", "minutes": 5}), 403
    )
