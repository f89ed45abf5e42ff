"""Rules over HTTP: what-if simulation, publication errors, a record's SLA."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import AuditEntry, Record
from tangram.platform.outbound import webhooks
from tests.conftest import ApiClient, assert_problem, make_user
from tests.platform.rules_fixtures import CALENDAR, DISPATCH, build_world, rule
from tests.platform.test_rule_jobs import SLA

RULES = "/api/v1/apps/svc/rules"


def test_simulate_a_draft_rule_and_a_table_without_writing(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("rule", DISPATCH)
    world.publish(
        "rule",
        rule(
            "vip",
            condition={"==": [{"var": "tier"}, "vip"]},
            actions=[{"type": "set_fields", "values": {"urgency": "P1"}}],
        ),
    )
    for tier, line in (("vip", "A"), ("normal", "A"), ("normal", "B"), ("vip", "B")):
        world.create(
            {"title": "t", "issue_type": "hardware_fault", "product_line": line, "tier": tier}
        )
    with platform.unit_of_work(write=False) as uow:
        before = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    draft = rule(
        "vip",
        condition={"in": [{"var": "tier"}, ["vip", "normal"]]},
        actions=[{"type": "set_fields", "values": {"urgency": "P2"}}],
    )
    response = admin_client.post(f"{RULES}/vip/simulate", json={"body": draft})
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert out["evaluated"] == 4
    assert out["counts"] == {"matched": 4}
    assert out["effects"] == {'set_fields {"values": {"urgency": "P2"}}': 4}
    assert out["changed"] == 4
    assert out["published_version"] == 1
    change = out["changes"][0]
    assert change["published"]["outcome"] in {"matched", "not matched"}
    # only the records a filter picks
    filtered = admin_client.post(
        f"{RULES}/vip/simulate", json={"body": draft, "filter": {"product_line": "B"}, "limit": 10}
    ).get_json()
    assert filtered["evaluated"] == 2
    # a decision table draft: outcome counts and the rows that changed
    table = DISPATCH | {
        "rules": [
            {"when": ["hardware_fault", "-"], "then": ["line_a"]},
            {"when": ["-", "-"], "then": ["desk"]},
        ]
    }
    out = admin_client.post(f"{RULES}/dispatch_matrix/simulate", json={"body": table}).get_json()
    assert out["counts"] == {'{"group": "line_a"}': 4}
    assert out["changed"] == 2  # the line B tickets used to go to the desk
    with platform.unit_of_work(write=False) as uow:
        after = uow.session.scalar(select(func.count()).select_from(AuditEntry))
        documents = list(uow.session.scalars(select(Record.data)))
    assert after == before  # nothing was written
    assert sorted(d["urgency"] for d in documents) == ["P1", "P1", "P3", "P3"]


def test_simulate_refuses_bad_drafts_with_paths(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("rule", DISPATCH)
    bad = rule(
        "dispatch_matrix",
        condition={"==": [{"var": "colour"}, 1]},
        actions=[{"type": "comment", "text": "x"}],
    )
    body = assert_problem(
        admin_client.post(f"{RULES}/dispatch_matrix/simulate", json={"body": bad}),
        422,
        "definition.invalid",
    )
    assert body["diagnostics"][0]["path"] == "/rules/dispatch_matrix/condition/==/0/var"
    assert_problem(
        admin_client.post(f"{RULES}/dispatch_matrix/simulate", json={"limit": 5000}),
        422,
    )
    assert_problem(admin_client.post(f"{RULES}/nothing/simulate", json={}), 404)


def test_publishing_a_rule_for_a_missing_group_is_a_422_with_the_path(
    platform: Platform, admin_client: ApiClient
) -> None:
    build_world(platform)
    body = rule("lost", actions=[{"type": "assign", "to": {"group": "ghosts"}}])
    assert admin_client.post(f"{RULES}", json={"body": body}).status_code == 201
    problem = assert_problem(
        admin_client.post(f"{RULES}/lost/publish", json={}), 422, "definition.invalid"
    )
    # pinned inside the rule's own body, as the designers pin problems
    assert problem["errors"] == {"/actions/0/to/group": ["there is no group 'ghosts'"]}


def test_a_record_explains_its_sla(
    platform: Platform, clock: FrozenClock, admin_client: ApiClient
) -> None:
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    world = build_world(platform)
    world.publish("calendar", CALENDAR)
    world.publish("rule", SLA)
    ticket = world.create({"title": "t", "issue_type": "usage", "product_line": "A"})
    response = admin_client.get(f"/api/v1/apps/svc/records/ticket/{ticket.id}/sla")
    assert response.status_code == 200
    (target,) = response.get_json()
    assert target["policy"] == "standard_sla"
    assert (target["state"], target["cycle"], target["breaches"]) == ("running", 1, 0)
    assert target["due_at"].startswith("2026-11-23T07:00:00")
    assert target["explanation"].endswith("due 2026-11-23 15:00")


def test_the_check_lists_the_inputs_a_decision_table_lets_through(
    platform: Platform, admin_client: ApiClient
) -> None:
    build_world(platform)
    check = f"{RULES}/check"
    whole = admin_client.post(check, json={"body": DISPATCH}).get_json()
    assert whole["problems"] == []
    assert [w for w in whole["warnings"] if w["code"] == "decision.gap"] == []
    partial = DISPATCH | {
        "rules": [DISPATCH["rules"][0]],
        "tests": [],
    }
    verdict = admin_client.post(check, json={"body": partial}).get_json()
    assert verdict["problems"] == []  # a gap is a warning: publishing it is allowed
    (gap,) = [w for w in verdict["warnings"] if w["code"] == "decision.gap"]
    assert gap["path"] == "/rules"
    assert gap["count"] == len(gap["gaps"]) > 1
    assert {"issue_type": "hardware_fault", "product_line": "A"} not in gap["gaps"]
    # a value no cell names reads as "other", an empty input as null
    assert {"issue_type": {"other": True}, "product_line": "A"} in gap["gaps"]
    assert {"issue_type": None, "product_line": None} in gap["gaps"]
    assert "no row matches" in gap["message"]
    # a failing test case is a problem, and the gaps are still told
    failing = partial | {
        "tests": [
            {"input": {"issue_type": "billing", "product_line": "B"}, "expect": {"group": "x"}}
        ]
    }
    verdict = admin_client.post(check, json={"body": failing}).get_json()
    assert [p["path"] for p in verdict["problems"]] == ["/tests/0"]
    assert [w["code"] for w in verdict["warnings"]] == ["decision.gap"]


def test_the_check_pins_a_tables_problems_inside_its_body(
    platform: Platform, admin_client: ApiClient
) -> None:
    build_world(platform)
    body = DISPATCH | {
        "rules": [
            {"when": ["hardware_fault", "A"], "then": ["zzz"]},
            {"when": ["-", "-"], "then": ["desk"]},
        ]
    }
    verdict = admin_client.post(f"{RULES}/check", json={"body": body}).get_json()
    (failed,) = verdict["problems"]
    assert (failed["path"], failed["code"]) == ("/tests/0", "decision.test_failed")
    assert failed["definition"] == "rule/dispatch_matrix"


def test_simulate_an_sla_policy_counts_the_records_that_would_have_breached(
    platform: Platform, clock: FrozenClock, admin_client: ApiClient
) -> None:
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    world = build_world(platform)
    world.publish("calendar", CALENDAR)
    world.publish("rule", SLA)
    tickets = [
        world.create({"title": f"t{i}", "issue_type": "usage", "product_line": "A"})
        for i in range(3)
    ]
    clock.set(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))  # 11:00: the first is answered
    world.update(tickets[0].id, {"first_response_at": "2026-11-23T03:00:00+00:00"})
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # 16:00: P3's 240 minutes ran out at 15:00
    with platform.unit_of_work(write=False) as uow:
        before = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    url = f"{RULES}/standard_sla/simulate"
    same = admin_client.post(url, json={}).get_json()
    assert same["type"] == "sla"
    assert same["counts"] == {"breached": 2, "within": 1}
    assert same["targets"] == {"first_response": {"breached": 2, "met": 1}}
    assert same["changed"] == 0
    # a day's worth of minutes for P3: nobody is late, and the two open ones are still running
    longer = SLA | {"targets": [SLA["targets"][0] | {"minutes": {"P1": 30, "P2": 60, "P3": 600}}]}
    out = admin_client.post(url, json={"body": longer}).get_json()
    assert out["counts"] == {"within": 3}
    assert out["targets"] == {"first_response": {"running": 2, "met": 1}}
    assert out["published_targets"] == {"first_response": {"breached": 2, "met": 1}}
    assert out["published_counts"] == {"breached": 2, "within": 1}
    assert out["changed"] == 2
    assert {c["record"] for c in out["changes"]} == {tickets[1].id, tickets[2].id}
    late = next(r for r in same["records"] if r["record"] == tickets[1].id)
    assert late["targets"][0]["state"] == "breached"
    assert late["targets"][0]["due_at"] == "2026-11-23T15:00:00+08:00"  # the calendar's time
    # a shorter target than the first answer took: met, but late
    shorter = SLA | {"targets": [SLA["targets"][0] | {"minutes": {"P1": 30, "P2": 60, "P3": 30}}]}
    out = admin_client.post(url, json={"body": shorter}).get_json()
    assert out["targets"] == {"first_response": {"breached": 2, "met_late": 1}}
    assert out["counts"] == {"breached": 3}
    # a broken draft is refused with the path of its problem
    broken = SLA | {"calendar": "nowhere"}
    problem = assert_problem(admin_client.post(url, json={"body": broken}), 422)
    assert any(d["path"].endswith("/calendar") for d in problem["diagnostics"])
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_administrators_see_the_webhook_signing_secret_and_each_reveal_is_audited(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    build_world(platform)
    shown = admin_client.post("/api/v1/apps/svc/webhooks/secret", json={})
    assert shown.status_code == 200, shown.get_json()
    body = shown.get_json()
    assert body["secret"] == webhooks.secret(platform.settings, "svc")
    assert body["signature_header"] == "X-Tangram-Signature"
    with platform.unit_of_work(write=False) as uow:
        reveals = list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "webhook.secret_shown")
            )
        )
    assert [e.payload["app"] for e in reveals] == ["svc"]
    assert_problem(admin_client.post("/api/v1/apps/nothing/webhooks/secret", json={}), 404)
    make_user(platform, "viewer")
    client = ApiClient(app.test_client())
    assert client.login("viewer", "user-password-1").status_code == 200
    assert_problem(
        client.post("/api/v1/apps/svc/webhooks/secret", json={}), 403, "permission.admin_required"
    )
