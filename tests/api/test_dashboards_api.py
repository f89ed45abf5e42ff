"""KPI cards, report widgets, dashboards with filters, drill-down, exports and the result cache."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from openpyxl import load_workbook

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.kernel.models import Record
from tangram.platform.worker import Worker
from tests.api.test_reports_api import report, setup
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World, field, rule, text

APP = "/api/v1/apps/svc"
CURRENT = "2026-11-08..2026-11-13"  # cases 6..11 were opened then; cases 0..5 the six days before


def kpi(key: str, measure: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "key": key,
        "label": {"zh-CN": key, "en": key},
        "form": "case",
        "measure": measure,
        "period_field": "opened_at",
        **more,
    }


MTTR = kpi(
    "mttr",
    {"type": "duration", "from": "opened_at", "to": "resolved_at", "unit": "hours"},
    unit="h",
    direction="lower",
)
CLOSED = kpi("closed", {"type": "count"}, filter={"==": [{"var": "status"}, "closed"]}, decimals=0)


def with_kpis(platform: Platform) -> World:
    world = setup(platform)
    world.publish("kpi", MTTR)
    world.publish("kpi", CLOSED)
    return world


def test_a_kpi_card_compares_with_the_period_before(
    platform: Platform, admin_client: ApiClient
) -> None:
    with_kpis(platform)
    card = admin_client.get(f"{APP}/kpis/mttr/data?period={CURRENT}")
    assert card.status_code == 200, card.get_json()
    body = card.get_json()
    # resolved i + 1 hours after opening: cases 6..11 against cases 0..5
    assert (body["value"], body["previous"], body["change"]) == (9.5, 3.5, 6.0)
    assert body["change_pct"] == 171.4
    assert body["better"] is False  # lower is better, and it went up
    assert body["period"] == {"from": "2026-11-08", "to": "2026-11-13"}
    assert body["previous_period"] == {"from": "2026-11-02", "to": "2026-11-07"}
    closed = admin_client.get(f"{APP}/kpis/closed/data?period={CURRENT}").get_json()
    assert (closed["value"], closed["previous"], closed["better"]) == (5, 4, True)
    assert_problem(admin_client.get(f"{APP}/kpis/mttr/data?period=fortnight"), 422, "query.invalid")
    assert_problem(admin_client.get(f"{APP}/kpis/mttr/data?colour=red"), 422, "query.invalid")
    assert_problem(admin_client.get(f"{APP}/kpis/ghost/data"), 404)


def test_kpis_that_do_not_fit_their_form_are_refused_with_paths(
    platform: Platform, admin_client: ApiClient
) -> None:
    setup(platform)
    bad = kpi(
        "bad",
        {"type": "avg", "field": "issue"},
        filter={"==": [{"var": "colour"}, "red"]},
        period_field="line",
    )
    assert admin_client.post(f"{APP}/kpis", json={"body": bad}).status_code == 201
    problem = assert_problem(
        admin_client.post(f"{APP}/kpis/bad/publish", json={}), 422, "definition.invalid"
    )
    assert set(problem["errors"]) == {"/measure/field", "/filter/==/0/var", "/period_field"}


def test_report_widgets_reuse_kpis_pivot_stack_and_compare_periods(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    by_line = report(type="bar", x="issue", y="mttr")
    by_line["key"] = "mttr_by_issue"
    by_line["dataset"]["measures"] = [{"key": "mttr", "type": "kpi", "kpi": "mttr"}]
    world.publish("report", by_line)
    rows = admin_client.get(f"{APP}/reports/mttr_by_issue/data").get_json()["rows"]
    # hw: cases 0, 3, 6, 9 resolved after 1, 4, 7, 10 hours
    assert rows[0] == ["hw", 5.5]

    pivot = report(type="pivot", rows="issue", columns="line", y="avg_cost")
    pivot["key"] = "cost_pivot"
    pivot["dataset"]["dimensions"].append({"key": "line", "field": "line"})
    pivot["dataset"]["measures"] = [{"key": "avg_cost", "type": "avg", "field": "cost"}]
    world.publish("report", pivot)
    table = admin_client.get(f"{APP}/reports/cost_pivot/data").get_json()
    assert table["columns"] == ["issue", "A", "B", "total"]
    by_issue = {r[0]: r[1:] for r in table["rows"]}
    # hw costs: A 0, 30, 60; B 90 → the total is the average of all four, not of the cells
    assert by_issue["hw"] == [30.0, 90.0, 45.0]
    assert by_issue["total"][-1] == 55.0  # the average cost of all twelve cases

    stacked = report(type="stacked", x="issue", series="line", y="tickets")
    stacked["key"] = "stacked"
    stacked["dataset"]["dimensions"].append({"key": "line", "field": "line"})
    world.publish("report", stacked)
    bars = admin_client.get(f"{APP}/reports/stacked/data").get_json()
    assert bars["columns"] == ["issue", "A", "B"]
    assert bars["rows"][0] == ["hw", 3, 1]

    compare = report(
        type="before_after",
        before="2026-11-02..2026-11-07",
        after=CURRENT,
        period_field="opened_at",
    )
    compare["key"] = "compare"
    compare["dataset"]["dimensions"] = []
    del compare["widget"]["x"], compare["widget"]["y"]
    compare["dataset"]["measures"] = [{"key": "mttr", "type": "kpi", "kpi": "mttr"}]
    world.publish("report", compare)
    both = admin_client.get(f"{APP}/reports/compare/data").get_json()
    assert both["columns"] == ["mttr_before", "mttr_after", "mttr_change"]
    assert both["rows"] == [[3.5, 9.5, 6.0]]

    broken = report(type="pivot", rows="issue", columns="nowhere")
    broken["key"] = "broken"
    assert admin_client.post(f"{APP}/reports", json={"body": broken}).status_code == 201
    problem = assert_problem(
        admin_client.post(f"{APP}/reports/broken/publish", json={}), 422, "definition.invalid"
    )
    assert set(problem["errors"]) == {"/widget/columns", "/dataset/dimensions"}


def test_drill_down_lists_the_records_behind_a_point(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = setup(platform)
    world.publish("report", report(top=1))
    page = admin_client.get(f"{APP}/reports/by_issue/records?at.issue=sw&line=A")
    assert page.status_code == 200, page.get_json()
    found = page.get_json()
    assert found["total"] == 3  # sw cases 1, 4, 7 are on line A; 10 is on B
    assert {r["data"]["issue"] for r in found["items"]} == {"sw"}
    assert {r["data"]["line"] for r in found["items"]} == {"A"}
    assert admin_client.get(f"{APP}/reports/by_issue/records?at.issue=").get_json()["total"] == 0
    problem = assert_problem(
        admin_client.get(f"{APP}/reports/by_issue/records?at.colour=red"), 422, "report.point"
    )
    assert "at.colour" in problem["errors"]
    assert_problem(admin_client.get(f"{APP}/reports/by_issue/records?at.issue=others"), 422)


def cockpit(**more: Any) -> dict[str, Any]:
    return {
        "key": "cockpit",
        "label": {"zh-CN": "驾驶舱", "en": "Cockpit"},
        "columns": 12,
        "filters": [
            {"key": "period", "type": "date_range", "field": "opened_at", "default": CURRENT},
            {"key": "line", "type": "select", "field": "line"},
        ],
        "widgets": [
            {"id": "mttr", "kpi": "mttr", "layout": {"x": 0, "y": 0, "w": 6, "h": 2}},
            {"id": "by_issue", "report": "by_issue", "layout": {"x": 6, "y": 0, "w": 6, "h": 4}},
        ],
        **more,
    }


def test_a_dashboard_applies_its_filters_to_every_widget(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    world.publish("report", report())
    world.publish("dashboard", cockpit())
    out = admin_client.get(f"{APP}/dashboards/cockpit/data")
    assert out.status_code == 200, out.get_json()
    body = out.get_json()
    assert [w["id"] for w in body["widgets"]] == ["mttr", "by_issue"]
    card, bars = (w["data"] for w in body["widgets"])
    assert card["value"] == 9.5
    assert sum(r[1] for r in bars["rows"]) == 6  # the default period: cases 6..11
    assert body["filters"][0]["period"] == {"from": "2026-11-08", "to": "2026-11-13"}
    assert body["widgets"][0]["layout"] == {"x": 0, "y": 0, "w": 6, "h": 2}
    line = body["filters"][1]  # a select filter offers its field's options, with their labels
    assert [(o["value"], o["label"]["en"]) for o in line["options"]] == [("A", "A"), ("B", "B")]
    narrowed = admin_client.get(f"{APP}/dashboards/cockpit/data?line=B").get_json()
    card, bars = (w["data"] for w in narrowed["widgets"])
    assert sum(r[1] for r in bars["rows"]) == 4  # cases 8..11 are on line B
    assert card["value"] == 10.5  # and their mean time to resolve
    everything = admin_client.get(
        f"{APP}/dashboards/cockpit/data?period=2026-11-01..2026-11-30"
    ).get_json()
    assert sum(r[1] for r in everything["widgets"][1]["data"]["rows"]) == 12
    assert_problem(admin_client.get(f"{APP}/dashboards/cockpit/data?colour=red"), 422)
    assert_problem(admin_client.get(f"{APP}/dashboards/cockpit/data?period=soon"), 422)

    drill = admin_client.get(f"{APP}/dashboards/cockpit/widgets/by_issue/records?at.issue=hw")
    assert drill.get_json()["total"] == 2  # hw cases 6 and 9 in the period
    card_records = admin_client.get(f"{APP}/dashboards/cockpit/widgets/mttr/records?line=B")
    assert card_records.get_json()["total"] == 4
    assert_problem(
        admin_client.get(f"{APP}/dashboards/cockpit/widgets/mttr/records?at.issue=hw"), 422
    )
    assert_problem(admin_client.get(f"{APP}/dashboards/cockpit/widgets/ghost/records"), 404)

    csv_text = admin_client.get(f"{APP}/dashboards/cockpit/widgets/by_issue/data?format=csv")
    lines = csv_text.data.decode("utf-8").lstrip("\ufeff").splitlines()
    assert lines[0] == "issue,tickets,cost"
    assert len(lines) == 4
    xlsx = admin_client.get(f"{APP}/dashboards/cockpit/widgets/mttr/data?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:3] == ["mttr", 9.5, 3.5]


def test_a_widget_the_viewer_may_not_read_shows_its_error_in_place(
    platform: Platform, app: Flask
) -> None:
    world = with_kpis(platform)
    world.publish(
        "form",
        {"key": "secret", "label": {"zh-CN": "机密"}, "fields": []}
        | {"fields": [{"key": "note", "type": "text", "label": {"zh-CN": "备注"}}]},
    )
    world.publish(
        "kpi",
        {**kpi("secrets", {"type": "count"}), "form": "secret", "period_field": "_created_at"},
    )
    world.publish("report", report())
    board = cockpit()
    board["widgets"].append({"id": "secrets", "kpi": "secrets"})
    world.publish("dashboard", board)
    world.revoke_staff("ann")  # ann reads only what the role below grants
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key="case_reader", name="case reader")
        roles.add_grant(
            uow, SYSTEM, role.id, app_key="svc", form_key="case", actions=["read"], scope="all"
        )
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": "ann-password-1"}, lock_version=ann.lock_version
        )
        users.assign_role(uow, SYSTEM, role_key="case_reader", user_id=ann.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    widgets = client.get(f"{APP}/dashboards/cockpit/data").get_json()["widgets"]
    assert widgets[0]["data"]["value"] == 9.5
    assert widgets[2]["error"]["status"] == 403
    assert "data" not in widgets[2]


def test_publishing_a_dashboard_checks_its_widgets_and_filters(
    platform: Platform, admin_client: ApiClient
) -> None:
    with_kpis(platform)
    board = cockpit()
    board["widgets"][1]["layout"]["w"] = 8  # 6 + 8 > 12 columns
    board["widgets"].append({"id": "mttr", "report": "nothing"})
    board["filters"].append({"key": "colour", "type": "select", "field": "colour"})
    board["filters"][0]["default"] = "someday"
    assert admin_client.post(f"{APP}/dashboards", json={"body": board}).status_code == 201
    problem = assert_problem(
        admin_client.post(f"{APP}/dashboards/cockpit/publish", json={}), 422, "definition.invalid"
    )
    assert set(problem["errors"]) == {
        "/widgets/1/report",  # by_issue is not published
        "/widgets/2/id",
        "/widgets/2/report",
        "/widgets/1/layout",
        "/filters/2/field",
        "/filters/0/default",
    }


def test_results_are_cached_until_a_record_changes(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = setup(platform)
    world.publish("report", report())
    first = admin_client.get(f"{APP}/reports/by_issue/data").get_json()
    again = admin_client.get(f"{APP}/reports/by_issue/data").get_json()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["rows"] == first["rows"]
    filtered = admin_client.get(f"{APP}/reports/by_issue/data?line=B").get_json()
    assert filtered["cached"] is False  # other filters, another entry
    world.create({"issue": "hw", "line": "A", "status": "open"}, form="case")
    fresh = admin_client.get(f"{APP}/reports/by_issue/data").get_json()
    assert fresh["cached"] is False
    assert fresh["rows"][0][1] == first["rows"][0][1] + 1


def test_rules_read_kpis_for_a_period(platform: Platform) -> None:
    world = with_kpis(platform)
    world.publish(
        "form",
        {
            "key": "plan",
            "label": text("plan"),
            "fields": [
                field("kpi_key", "text"),
                field("span", "text"),
                field("measured", "number"),
            ],
        },
    )
    world.publish(
        "rule",
        rule(
            "check",
            form="plan",
            actions=[
                {
                    "type": "set_fields",
                    "values": {
                        "measured": {"expr": {"kpi": [{"var": "kpi_key"}, {"var": "span"}]}}
                    },
                }
            ],
        ),
    )
    plan = world.create({"kpi_key": "mttr", "span": CURRENT}, form="plan")
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.get(Record, plan.id).data["measured"] == 9.5  # type: ignore[union-attr]
    ghost = world.create({"kpi_key": "ghost", "span": CURRENT}, form="plan")
    with platform.unit_of_work(write=False) as uow:
        stored = uow.session.get(Record, ghost.id)
        assert stored is not None
        assert "measured" not in stored.data
        fired = [
            e
            for e in records.timeline(uow, SYSTEM, "svc", "plan", ghost.id)
            if e.action == "rule.failed"
        ]
    assert fired[0].payload["error"] == "kpi: there is no published KPI 'ghost'"


def test_a_dashboard_answers_from_rollups_once_the_worker_built_them(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    world.publish("report", report())
    world.publish("dashboard", cockpit())
    url = f"{APP}/dashboards/cockpit/data?line=B"
    first = admin_client.get(url).get_json()
    assert [w["data"]["rollup"] for w in first["widgets"]] == [False, False]  # asked for
    assert Worker(platform, name="test").run_due().done == 2
    world.create({"issue": "hw", "line": "B", "status": "open"}, form="case")  # cache stale
    again = admin_client.get(url).get_json()
    assert [w["data"]["rollup"] for w in again["widgets"]] == [True, True]
    card, bars = (w["data"] for w in again["widgets"])
    assert card["value"] == 10.5  # as the query said
    assert sum(r[1] for r in bars["rows"]) == 4  # the new case was opened outside the period
    report_data = admin_client.get(f"{APP}/reports/by_issue/data").get_json()
    assert report_data["rollup"] is False  # another rollup (no dashboard): asked for now
    Worker(platform, name="test").run_due()
    world.create({"issue": "sw", "line": "A", "status": "open"}, form="case")
    rolled = admin_client.get(f"{APP}/reports/by_issue/data").get_json()
    assert rolled["rollup"] is True
    assert sum(r[1] for r in rolled["rows"]) == sum(r[1] for r in report_data["rows"]) + 1


def test_designers_preview_drafts_of_reports_and_kpis_without_publishing(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    # a draft KPI, never published: measured over the period against the one before
    assert admin_client.post(f"{APP}/kpis", json={"body": kpi("cases", {"type": "count"})})
    card = admin_client.post(f"{APP}/kpis/cases/preview", json={"period": CURRENT})
    assert card.status_code == 200, card.get_json()
    assert (card.get_json()["value"], card.get_json()["previous"], card.get_json()["version"]) == (
        6,
        6,
        0,
    )
    # a body sent with the request, published or not, is measured instead of the draft
    lower = MTTR | {"filter": {"==": [{"var": "status"}, "closed"]}, "decimals": 2}
    out = admin_client.post(f"{APP}/kpis/mttr/preview", json={"body": lower, "period": CURRENT})
    assert out.status_code == 200, out.get_json()
    assert out.get_json()["decimals"] == 2
    assert out.get_json()["cached"] is False
    bad = MTTR | {"measure": {"type": "avg", "field": "issue"}}
    problem = assert_problem(
        admin_client.post(f"{APP}/kpis/mttr/preview", json={"body": bad}), 422, "definition.invalid"
    )
    assert "/measure/field" in problem["errors"]
    assert_problem(
        admin_client.post(f"{APP}/kpis/mttr/preview", json={"period": "fortnight"}),
        422,
        "query.invalid",
    )
    assert_problem(
        admin_client.post(f"{APP}/kpis/mttr/preview", json={"body": MTTR | {"key": "x"}}), 422
    )
    assert_problem(admin_client.post(f"{APP}/kpis/ghost/preview", json={}), 404)

    # a report's draft: rows, labels and the query's time, nothing published
    assert admin_client.post(f"{APP}/reports", json={"body": report()}).status_code == 201
    data = admin_client.post(f"{APP}/reports/by_issue/preview", json={})
    assert data.status_code == 200, data.get_json()
    rows = data.get_json()
    assert rows["columns"] == ["issue", "tickets", "cost"]
    assert sum(r[1] for r in rows["rows"]) == 12
    assert set(rows["labels"]["issue"]) == {"hw", "sw", "usage"}
    assert (rows["version"], rows["cached"]) == (0, False)
    pareto = admin_client.post(
        f"{APP}/reports/by_issue/preview", json={"body": report(type="pareto", top=2)}
    ).get_json()
    assert pareto["columns"][-1] == "cumulative_share"
    broken = report()
    broken["dataset"]["measures"].append({"key": "avg_issue", "type": "avg", "field": "issue"})
    broken["widget"]["x"] = "nowhere"
    problem = assert_problem(
        admin_client.post(f"{APP}/reports/by_issue/preview", json={"body": broken}),
        422,
        "definition.invalid",
    )
    assert "/dataset/measures/2/field" in problem["errors"]
    problem = assert_problem(
        admin_client.post(f"{APP}/reports/by_issue/preview", json={"body": report(x="nowhere")}),
        422,
        "definition.invalid",
    )
    assert "/widget/x" in problem["errors"]
    assert_problem(
        admin_client.post(f"{APP}/reports/by_issue/preview", json={"period": "this_month"}), 422
    )
    # only designers preview
    world.revoke_staff("ann")
    with platform.unit_of_work() as uow:
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": "ann-password-1"}, lock_version=ann.lock_version
        )
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    assert_problem(client.post(f"{APP}/reports/by_issue/preview", json={}), 403)
    assert_problem(client.post(f"{APP}/kpis/mttr/preview", json={}), 403)


def test_designers_preview_a_dashboard_draft_as_a_role_would_see_it(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    world.publish("report", report())
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key="own_cases", name="own cases")
        roles.add_grant(
            uow, SYSTEM, role.id, app_key="svc", form_key="case", actions=["read"], scope="own"
        )
        uow.commit()
    # a draft, never published, under a filter value
    assert admin_client.post(f"{APP}/dashboards", json={"body": cockpit()}).status_code == 201
    out = admin_client.post(f"{APP}/dashboards/cockpit/preview", json={"values": {"line": ["B"]}})
    assert out.status_code == 200, out.get_json()
    body = out.get_json()
    assert (body["version"], body["as_role"]) == (0, None)
    card, bars = body["widgets"]
    assert card["data"]["value"] == 10.5
    assert sum(r[1] for r in bars["data"]["rows"]) == 4
    assert (card["form"], card["filtered_by"]) == ("case", ["period", "line"])
    # as a holder of a role whose scope is their own records: the system's records are not theirs
    mine = admin_client.post(
        f"{APP}/dashboards/cockpit/preview", json={"as_role": "own_cases"}
    ).get_json()
    assert mine["as_role"] == "own_cases"
    assert mine["widgets"][1]["data"]["rows"] == []
    assert mine["widgets"][0]["data"]["value"] is None
    # a body sent with the request; problems with their paths; unknown roles and filters
    narrow = cockpit(widgets=cockpit()["widgets"][:1])
    one = admin_client.post(f"{APP}/dashboards/cockpit/preview", json={"body": narrow}).get_json()
    assert [w["id"] for w in one["widgets"]] == ["mttr"]
    wide = cockpit(columns=4)
    problem = assert_problem(
        admin_client.post(f"{APP}/dashboards/cockpit/preview", json={"body": wide}),
        422,
        "definition.invalid",
    )
    assert "/widgets/0/layout" in problem["errors"]
    assert_problem(
        admin_client.post(f"{APP}/dashboards/cockpit/preview", json={"as_role": "ghosts"}), 404
    )
    assert_problem(
        admin_client.post(f"{APP}/dashboards/cockpit/preview", json={"values": {"x": ["1"]}}),
        422,
        "query.invalid",
    )
    # a designer who is no administrator previews only as a role they hold
    with platform.unit_of_work() as uow:
        designer = roles.create_role(uow, SYSTEM, key="designer", name="designer")
        roles.add_grant(
            uow, SYSTEM, designer.id, app_key="svc", form_key="*", actions=["design"], scope="all"
        )
        roles.add_grant(
            uow, SYSTEM, designer.id, app_key="svc", form_key="case", actions=["read"], scope="all"
        )
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": "ann-password-1"}, lock_version=ann.lock_version
        )
        users.assign_role(uow, SYSTEM, role_key="designer", user_id=ann.id)
        uow.commit()
    world.revoke_staff("ann")
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    assert client.post(f"{APP}/dashboards/cockpit/preview", json={}).status_code == 200
    assert_problem(
        client.post(f"{APP}/dashboards/cockpit/preview", json={"as_role": "own_cases"}),
        403,
        "permission.role",
    )
    held = client.post(f"{APP}/dashboards/cockpit/preview", json={"as_role": "designer"})
    assert held.status_code == 200, held.get_json()


def test_a_filter_bound_to_some_widgets_applies_to_those_only(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = with_kpis(platform)
    world.publish("report", report())
    board = cockpit()
    board["filters"][1]["widgets"] = ["by_issue"]  # the line filter: the chart only
    world.publish("dashboard", board)
    narrowed = admin_client.get(f"{APP}/dashboards/cockpit/data?line=B").get_json()
    card, bars = (w["data"] for w in narrowed["widgets"])
    assert sum(r[1] for r in bars["rows"]) == 4  # cases 8..11 are on line B
    assert card["value"] == 9.5  # the card is not bound: every line, as without the filter
    # the export and the drill-down of a widget follow its binding too
    csv_text = admin_client.get(f"{APP}/dashboards/cockpit/widgets/mttr/data?format=csv&line=B")
    assert ",9.5," in csv_text.data.decode("utf-8")
    drill = admin_client.get(f"{APP}/dashboards/cockpit/widgets/mttr/records?line=B").get_json()
    assert drill["total"] == 6
    # the preview names the filters each widget takes
    out = admin_client.post(f"{APP}/dashboards/cockpit/preview", json={}).get_json()
    assert [w["filtered_by"] for w in out["widgets"]] == [["period"], ["period", "line"]]
    # a binding to a widget that is not there is refused with its path
    ghost = cockpit()
    ghost["filters"][1]["widgets"] = ["ghost"]
    verdict = admin_client.post(f"{APP}/dashboards/check", json={"body": ghost}).get_json()
    assert {p["path"] for p in verdict["problems"]} >= {"/filters/1/widgets/0"}
