"""The after-sales package, driven through the API as its users would drive it.

An agent registers a VIP hardware fault on product line A; it is dispatched to the Line A quality
engineers with raised urgency and SLA due times; the first-response deadline passes and the
group's manager hears of it; the engineer analyses and plans a major rectification that the
technical director rejects once and then approves; each measure owner gets a task; a failed
acceptance row sends the work back; once resolved, the customer is sent a satisfaction survey and,
without an answer in three days, called back; the callback says "not solved" and the ticket
reopens; the second round closes it; the cockpit's FCR, MTTR and SLA compliance show exactly this ticket.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from tangram.cli import main
from tangram.cli.ahead import compile_ahead
from tangram.config import Settings
from tangram.platform import metadata, packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.flows import definitions
from tangram.platform.identity import groups, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import (
    AccessLink,
    FlowInstance,
    Group,
    Notification,
    Record,
    SlaStatus,
)
from tangram.platform.metadata import compiled
from tangram.platform.records import access
from tangram.platform.rules import rulebook, sla
from tangram.platform.worker import Worker
from tangram.web.app import create_app
from tests.conftest import START, ApiClient, PeopleTemplate, settings_for
from tests.platform.test_packages import _elsewhere, published

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "aftersales"
SYSTEM = Actor.system("test")
PASSWORD = "password-for-tests-1"
APP = "/api/v1/apps/aftersales"
#: (username, roles, groups)
PEOPLE = [
    ("agent", ("agent",), ("customer_service",)),
    ("qe_a", ("quality_engineer",), ("line_a_qe",)),
    ("manager_a", ("service_manager",), ()),
    ("director", ("technical_director",), ()),
    ("owner_1", ("engineer",), ("field_service",)),
    ("owner_2", ("engineer",), ("field_service",)),
    ("inspector", ("quality_engineer",), ("quality_dept",)),
    ("board_1", ("service_manager",), ("complaint_board",)),
    ("board_2", ("service_manager",), ("complaint_board",)),
]


def install_people(platform: Platform) -> dict[str, int]:
    """The after-sales package installed and :data:`PEOPLE` made, with their roles and groups
    (``line_a_qe`` managed by ``manager_a``): their ids by name."""
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        ids = {}
        for name, roles, memberships in PEOPLE:
            user = users.create_user(
                uow,
                SYSTEM,
                username=name,
                password=PASSWORD,
                email=f"{name}@example.com",
                roles=roles,
            )
            ids[name] = user.id
            for key in memberships:
                group = uow.session.scalar(select(Group).where(Group.key == key))
                assert group is not None
                groups.add_member(uow, SYSTEM, group_id=group.id, user_id=user.id)
        line_a = uow.session.scalar(select(Group).where(Group.key == "line_a_qe"))
        assert line_a is not None
        groups.update_group(
            uow,
            SYSTEM,
            line_a.id,
            {"manager_id": ids["manager_a"]},
            lock_version=line_a.lock_version,
        )
        uow.commit()
    return ids


@pytest.fixture
def people(platform: Platform, people_template: PeopleTemplate | None) -> dict[str, int]:
    """The after-sales package and :data:`PEOPLE`: on SQLite the test's database is a copy of
    ``people_template``, which has them; on PostgreSQL they are made now."""
    if people_template is None:
        return install_people(platform)
    made = settings_for(platform.settings.database_url, platform.settings.instance_path)
    if platform.settings != made or platform.clock.now() != START:
        pytest.fail(
            "people_template was made on the tests' own settings and clock at START: a module "
            "that changes them installs the after-sales people itself (install_people)"
        )
    return dict(people_template.ids)


def signed_in(app: Flask, name: str) -> ApiClient:
    client = ApiClient(app.test_client())
    assert client.login(name, PASSWORD).status_code == 200
    return client


def task(client: ApiClient, node: str) -> dict[str, Any]:
    """The caller's one open task at ``node``."""
    found = [
        t for t in client.get("/api/v1/tasks?box=todo").get_json()["items"] if t["node"] == node
    ]
    assert len(found) == 1, found
    return found[0]


def act(client: ApiClient, node: str, action: str = "submit", **body: Any) -> dict[str, Any]:
    task_id = task(client, node)["id"]
    if "data" in body:  # based on the record as the task shows it now
        body.setdefault(
            "lock_version",
            client.get(f"/api/v1/tasks/{task_id}").get_json()["record"]["lock_version"],
        )
    answer = client.post(f"/api/v1/tasks/{task_id}/{action}", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def task_list(client: ApiClient, node: str) -> list[dict[str, Any]]:
    """The caller's open tasks at ``node``."""
    items = client.get("/api/v1/tasks?box=todo").get_json()["items"]
    return [t for t in items if t["node"] == node]


def verdicts(client: ApiClient, node: str, *results: str) -> list[dict[str, Any]]:
    """The measures as the caller's task shows them, with an acceptance verdict each."""
    view = client.get(f"/api/v1/tasks/{task(client, node)['id']}").get_json()
    rows = view["record"]["data"]["measures"]
    return [{**row, "verdict": result} for row, result in zip(rows, results, strict=True)]


def lock(client: ApiClient, record_id: int) -> int:
    found = client.get(f"{APP}/records/ticket/{record_id}").get_json()
    return int(found["lock_version"])


def ticket(platform: Platform, record_id: int) -> dict[str, Any]:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.get(Record, record_id)
        assert found is not None
        return dict(found.data)


def run_jobs(platform: Platform) -> None:
    Worker(platform, name="test").run_due()


def survey_links(platform: Platform, record_id: int) -> int:
    """How many surveys were sent about a record."""
    with platform.unit_of_work(write=False) as uow:
        return len(
            uow.session.scalars(
                select(AccessLink).where(
                    AccessLink.record_id == record_id, AccessLink.kind == "survey"
                )
            ).all()
        )


def test_a_ticket_goes_round_the_whole_loop(
    platform: Platform, app: Flask, clock: FrozenClock, people: dict[str, int]
) -> None:
    agent = signed_in(app, "agent")
    customer = agent.post(
        f"{APP}/records/customer", json={"data": {"name": "华东精密", "tier": "vip"}}
    )
    assert customer.status_code == 201, customer.get_json()
    with platform.unit_of_work() as uow:  # products come from the master data, not from agents
        product = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "A-100", "product_line": "A"}
        ).record
        uow.commit()
    created = agent.post(
        f"{APP}/records/ticket",
        json={
            "data": {
                "title": "设备运行噪音大",
                "channel": "phone",
                "customer": customer.get_json()["id"],
                "product": product.id,
                "product_line": "A",
                "issue_type": "hardware_fault",
                "urgency": "P3",
                "contact_name": "王工",
            }
        },
    )
    assert created.status_code == 201, created.get_json()
    ticket_id = created.get_json()["id"]
    registered = ticket(platform, ticket_id)
    assert registered["ticket_no"].startswith("SV-20261122-")
    with platform.unit_of_work(write=False) as uow:
        line_a = uow.session.scalar(select(Group.id).where(Group.key == "line_a_qe"))
    assert registered["group"] == line_a
    assert registered["assignee"] == people["qe_a"]
    assert registered["urgency"] == "P2"  # a VIP: one level up
    assert registered["customer_tier"] == "vip"  # copied from the customer
    assert registered["status"] == "assigned"
    # registered on a Sunday morning: 30 business minutes from Monday 09:00 Shanghai
    assert registered["response_due"] == "2026-11-23T01:30:00+00:00"

    clock.set(datetime.fromisoformat("2026-11-23T02:00:00+00:00"))  # Monday 10:00: too late
    run_jobs(platform)
    breached = ticket(platform, ticket_id)
    assert breached["response_breached"] is True
    assert breached["escalation_level"] == 1
    with platform.unit_of_work(write=False) as uow:
        told = uow.session.scalars(
            select(Notification.title).where(Notification.user_id == people["manager_a"])
        ).all()
    assert any("工单超时" in title for title in told)

    qe = signed_in(app, "qe_a")
    # the ticket belongs to the group it was dispatched to: the engineer's group-scoped grant
    # lists it (the agent registered it from another group)
    listed = qe.get(f"{APP}/records/ticket").get_json()["items"]
    assert [r["id"] for r in listed] == [ticket_id]
    assert listed[0]["group_id"] == line_a
    respond = task(qe, "respond")
    assert (respond["label"], respond["form_label"], respond["title"]) == (
        "首次响应",
        "售后工单",
        "设备运行噪音大",
    )
    act(qe, "respond", data={"response_note": "已电话联系客户，安排现场检查"})
    responded = ticket(platform, ticket_id)
    assert responded["status"] == "in_progress"
    assert responded["first_response_at"] == "2026-11-23T02:00:00+00:00"
    assert responded["response_minutes"] == 60.0  # business time: Monday 09:00–10:00
    rca = {
        "direct_cause": "风扇轴承磨损",
        "indirect_cause": "润滑脂规格不符",
        "root_cause": "供应商变更润滑脂未经验证",
        "cause_category": "production",
        "five_whys": [{"why": "为什么噪音大", "answer": "轴承磨损"}],
        "fishbone": [
            {"category": "material", "cause": "润滑脂批次不符", "is_root": True},
            {"category": "machine", "cause": "轴承磨损"},
        ],
    }
    act(qe, "analyse", data=rca)
    measures = [
        {
            "what": "更换全部A线风扇轴承",
            "owner": people["owner_1"],
            "due": "2026-11-30",
            "verify": "24小时噪音 < 45 dB",
        },
        {
            "what": "润滑脂供应商重新认证",
            "owner": people["owner_2"],
            "due": "2026-12-15",
            "verify": "认证报告通过",
        },
    ]
    act(qe, "plan", data={"major": True, "measures": measures})
    assert ticket(platform, ticket_id)["status"] == "plan_approval"
    # a hardware fault is no complaint: the board does not countersign it
    assert task_list(signed_in(app, "board_1"), "countersign") == []

    director = signed_in(app, "director")
    act(director, "approve", "reject", opinion="验证标准不够具体", target="plan")
    act(
        qe,
        "plan",
        data={"measures": [{**m, "verify": m["verify"] + "（第三方检测）"} for m in measures]},
    )
    act(director, "approve", "approve", opinion="同意")
    assert ticket(platform, ticket_id)["status"] == "executing"

    owners = {name: signed_in(app, name) for name in ("owner_1", "owner_2")}
    for client in owners.values():
        act(client, "execute", opinion="已完成")
    assert ticket(platform, ticket_id)["status"] == "acceptance"
    inspector = signed_in(app, "inspector")
    failed_row = {
        "item": "设备噪音",
        "criterion": "< 45 dB",
        "method": "现场分贝仪 24 小时",
        "result": "fail",
    }
    # the bearings failed, the supplier's certification passed: only its owner goes back
    act(
        inspector,
        "accept",
        data={
            "acceptance": [failed_row],
            "measures": verdicts(inspector, "accept", "fail", "pass"),
        },
    )
    assert ticket(platform, ticket_id)["acceptance_result"] == "fail"
    assert ticket(platform, ticket_id)["status"] == "executing"
    assert task_list(owners["owner_2"], "execute") == []
    act(owners["owner_1"], "execute", opinion="再次处理")
    act(
        inspector,
        "accept",
        data={
            "acceptance": [{**failed_row, "result": "pass", "remark": "报告 TR-2026-088"}],
            "measures": verdicts(inspector, "accept", "pass", "pass"),
        },
    )
    resolved = ticket(platform, ticket_id)
    assert resolved["status"] == "resolved"  # the customer has three days to answer the survey
    assert resolved["resolved_at"] is not None
    assert survey_links(platform, ticket_id) == 1
    clock.advance(timedelta(days=3))
    run_jobs(platform)
    assert ticket(platform, ticket_id)["status"] == "callback"  # no answer: the agent calls
    # the callback's answers and the status are the flow's: a plain write cannot forge them
    forged = agent.patch(
        f"{APP}/records/ticket/{ticket_id}",
        json={"data": {"status": "closed", "csat": 5}, "lock_version": lock(agent, ticket_id)},
    )
    assert forged.status_code == 422, forged.get_json()
    assert set(forged.get_json()["errors"]) == {"status", "csat"}

    clock.advance(timedelta(hours=1))  # the customer is called an hour later

    act(
        agent,
        "callback",
        data={"csat": 2, "nps": 3, "effort": 4, "solved": "no", "customer_words": "还是有噪音"},
    )
    reopened = ticket(platform, ticket_id)
    assert reopened["status"] == "in_progress"
    assert reopened["reopen_count"] == 1
    assert reopened["resolve_cycles"] == 2  # a new resolution clock: rework
    with platform.unit_of_work(write=False) as uow:
        told = uow.session.scalars(
            select(Notification.title).where(Notification.user_id == people["manager_a"])
        ).all()
    assert any("工单重开" in title for title in told)

    clock.advance(timedelta(hours=2))
    act(qe, "analyse", data={**rca, "root_cause": "轴承座加工公差超差"})
    act(qe, "plan", data={"major": False, "measures": [measures[0]]})
    act(owners["owner_1"], "execute", opinion="已更换轴承座")
    act(
        inspector,
        "accept",
        data={
            "acceptance": [{**failed_row, "result": "pass"}],
            "measures": verdicts(inspector, "accept", "pass"),
        },
    )
    assert survey_links(platform, ticket_id) == 2
    clock.advance(timedelta(days=3))
    run_jobs(platform)
    act(agent, "callback", data={"csat": 5, "nps": 10, "effort": 1, "solved": "yes"})
    closed = ticket(platform, ticket_id)
    assert closed["status"] == "closed"
    assert closed["closed_at"] == "2026-11-29T05:00:00+00:00"  # two waits of three days

    with platform.unit_of_work(write=False) as uow:
        filed = {
            form: uow.session.scalars(
                select(Record.data)
                .where(Record.form_key == form, Record.deleted_at.is_(None))
                .order_by(Record.id)
            ).all()
            for form in ("root_cause", "acceptance_checklist", "callback", "knowledge_article")
        }
    assert [r["root_cause"] for r in filed["root_cause"]] == [
        rca["root_cause"],
        "轴承座加工公差超差",
    ]
    # the cause was new (no known article was linked): closing drafted an article from it
    [draft] = filed["knowledge_article"]
    assert draft["status"] == "draft"
    assert draft["source_ticket"] == ticket_id
    assert draft["title"] == closed["title"]
    assert draft["product_line"] == closed["product_line"]
    assert "轴承座加工公差超差" in draft["solution"]
    assert "<li>" in draft["solution"]
    assert [r["overall"] for r in filed["acceptance_checklist"]] == ["fail", "pass", "pass"]
    assert [r["solved"] for r in filed["callback"]] == ["no", "yes"]

    viewer = signed_in(app, "director")
    board = viewer.get(f"{APP}/dashboards/cockpit/data?period=this_month").get_json()
    cards = {w["id"]: w["data"] for w in board["widgets"] if w["kind"] == "kpi"}
    assert cards["fcr"]["value"] == 0.0  # closed, but only after a reopening
    assert cards["first_contact_resolution"]["value"] == 0.0
    assert cards["rework_rate"]["value"] == 100.0
    created_at = datetime.fromisoformat("2026-11-22T01:00:00+00:00")
    hours = (datetime.fromisoformat(closed["resolved_at"]) - created_at).total_seconds() / 3600
    assert cards["mttr"]["value"] == round(hours, 1)
    assert cards["sla_compliance"]["value"] == 0.0  # the first response was late
    assert cards["frt_median"]["value"] == 60.0  # business minutes, not the night and Sunday
    assert cards["csat"]["value"] == 50.0  # one of two callbacks scored 4 or 5
    assert cards["open_tickets"]["value"] == 0
    errors = [w for w in board["widgets"] if "error" in w]
    assert errors == []
    by_group = next(w for w in board["widgets"] if w["id"] == "sla_by_group")["data"]
    assert by_group["labels"]["group"][str(line_a)]["zh-CN"] == "A线质量工程师组"


def register(agent: ApiClient, platform: Platform, **data: Any) -> int:
    with platform.unit_of_work() as uow:
        product = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "B-200", "product_line": "B"}
        ).record
        uow.commit()
    created = agent.post(
        f"{APP}/records/ticket",
        json={
            "data": {
                "title": "对服务态度不满",
                "channel": "phone",
                "product": product.id,
                "product_line": "B",
                "urgency": "P3",
                **data,
            }
        },
    )
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def test_a_warmed_process_compiles_nothing_when_a_ticket_is_registered(
    platform: Platform,
    settings: Settings,
    clock: FrozenClock,
    people: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server process compiles the installed apps' published forms and flows and their rule
    books before it takes requests (``Platform.warm``): its first registration, which on a cold
    process costs about ten times a warm one, compiles nothing."""
    fresh = Platform.from_settings(settings, clock=clock)  # a new process: empty caches
    try:
        with fresh.unit_of_work(write=False) as uow:
            published = metadata.published_in(uow, "aftersales", archived=False)
        assert fresh.warm() == len(published["form"]) + len(published["flow"]) + 1
        compiles: list[str] = []

        def noted(name: str, real: Any) -> Any:
            def compile_it(*args: Any, **kwargs: Any) -> Any:
                compiles.append(name)
                return real(*args, **kwargs)

            return compile_it

        for module, name in (
            (compiled, "compile_form"),
            (definitions, "compile_flow"),
            (rulebook, "compile_book"),
        ):
            monkeypatch.setattr(module, name, noted(name, getattr(module, name)))
        agent = signed_in(create_app(platform=fresh), "agent")
        assert register(agent, fresh, issue_type="usage_question") > 0
        assert compiles == []
    finally:
        fresh.dispose()


def test_a_process_that_cannot_compile_ahead_serves_all_the_same(tmp_path: Path) -> None:
    """Compiling ahead never stops a server from starting: a database without the schema yet
    (or not answering) leaves the definitions to the first requests, with a warning."""
    empty = Platform.from_settings(
        Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", instance_path=tmp_path)
    )
    try:
        with pytest.raises(SQLAlchemyError):
            empty.warm()
        compile_ahead(empty)  # logs, does not raise
    finally:
        empty.dispose()


def test_a_major_complaint_waits_for_the_boards_countersign(
    platform: Platform, app: Flask, people: dict[str, int]
) -> None:
    agent = signed_in(app, "agent")
    ticket_id = register(agent, platform, issue_type="complaint")
    assert ticket(platform, ticket_id)["assignee"] == people["agent"]  # the service desk's
    with platform.unit_of_work() as uow:  # the desk hands the complaint to the line engineer
        found = uow.session.get(Record, ticket_id)
        assert found is not None
        records.update_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            ticket_id,
            {"assignee": people["qe_a"]},
            lock_version=found.lock_version,
        )
        uow.commit()
    assert ticket(platform, ticket_id)["transfer_count"] == 1  # kept by a rule
    act(agent, "respond", data={"response_note": "已联系客户"})
    qe = signed_in(app, "qe_a")
    act(qe, "analyse", data={"root_cause": "服务规范缺失", "cause_category": "service"})
    measures = [
        {
            "what": "修订服务规范并培训",
            "owner": people["owner_1"],
            "due": "2026-12-10",
            "verify": "培训考核通过",
        },
    ]
    act(qe, "plan", data={"major": True, "measures": measures})
    assert ticket(platform, ticket_id)["status"] == "plan_approval"
    director = signed_in(app, "director")
    assert task_list(director, "approve") == []  # the board decides first
    board = {n: signed_in(app, n) for n in ("board_1", "board_2")}
    act(board["board_1"], "countersign", "approve", opinion="同意")
    act(board["board_2"], "countersign", "reject", opinion="未覆盖同类客户", target="plan")
    # one rejection sends the plan back: the director's approval alone cannot start execution
    assert task_list(director, "approve") == []
    assert task_list(board["board_1"], "countersign") == []
    act(qe, "plan", data={"measures": [{**measures[0], "verify": "培训考核通过，同类客户回访"}]})
    for client in board.values():
        act(client, "countersign", "approve", opinion="同意")
    act(director, "approve", "approve", opinion="同意")
    assert ticket(platform, ticket_id)["status"] == "executing"


def test_a_ticket_solved_at_first_contact_goes_straight_to_the_callback(
    platform: Platform, app: Flask, people: dict[str, int], clock: FrozenClock
) -> None:
    agent = signed_in(app, "agent")
    ticket_id = register(agent, platform, issue_type="usage_question")
    holder = ticket(platform, ticket_id)["assignee"]
    name = next(n for n, i in people.items() if i == holder)
    act(
        signed_in(app, name),
        "respond",
        data={"response_note": "电话指导客户完成设置", "first_contact_resolved": True},
    )
    solved = ticket(platform, ticket_id)
    assert solved["status"] == "resolved"
    assert solved["resolved_at"] is not None
    clock.advance(timedelta(days=3))
    run_jobs(platform)
    assert ticket(platform, ticket_id)["status"] == "callback"
    act(agent, "callback", data={"csat": 5, "nps": 9, "effort": 1, "solved": "yes"})
    assert ticket(platform, ticket_id)["status"] == "closed"
    board = signed_in(app, "director").get(f"{APP}/dashboards/cockpit/data?period=this_month")
    cards = {w["id"]: w["data"] for w in board.get_json()["widgets"] if w["kind"] == "kpi"}
    assert cards["first_contact_resolution"]["value"] == 100.0
    assert cards["fcr"]["value"] == 100.0


def test_a_customer_who_answers_the_survey_is_not_called_back(
    platform: Platform, app: Flask, people: dict[str, int], clock: FrozenClock
) -> None:
    agent = signed_in(app, "agent")
    ticket_id = register(agent, platform, issue_type="usage_question")
    holder = ticket(platform, ticket_id)["assignee"]
    name = next(n for n, i in people.items() if i == holder)
    act(
        signed_in(app, name),
        "respond",
        data={"response_note": "电话指导客户完成设置", "first_contact_resolved": True},
    )
    assert ticket(platform, ticket_id)["status"] == "resolved"
    with platform.unit_of_work(write=False) as uow:  # open as long as the callback waits
        (link,) = uow.session.scalars(select(AccessLink).where(AccessLink.kind == "survey"))
    assert link.expires_at == clock.now() + timedelta(days=3)
    with platform.unit_of_work() as uow:  # the customer's status link (intake gives them one)
        _, token = access.create(uow, ticket_id)
        uow.commit()
    customer = ApiClient(app.test_client())
    status = customer.get(f"/api/v1/status/{token}?lang=zh-CN").get_json()
    assert status["survey"]["title"] == "满意度调查"
    clock.advance(timedelta(days=1))
    answered = customer.post(
        f"/api/v1/status/{token}/survey",
        json={"data": {"csat": 4, "nps": 9, "ces": 2, "comment": "很快解决了"}},
    )
    assert answered.status_code == 201, answered.get_json()
    assert customer.get(f"/api/v1/status/{token}").get_json()["survey"] is None
    with platform.unit_of_work(write=False) as uow:
        (answer,) = uow.session.scalars(
            select(Record).where(Record.form_key == "satisfaction_survey")
        ).all()
        subject = uow.session.get(Record, ticket_id)
        assert subject is not None
        assert (answer.data["ticket"], answer.owner_id) == (ticket_id, subject.owner_id)
        assert answer.owner_id is not None
    with platform.unit_of_work(write=False) as uow:
        (filed,) = uow.session.scalars(
            select(Record.data).where(Record.form_key == "callback")
        ).all()
    assert (filed["ticket"], filed["csat"], filed["nps"], filed["effort"]) == (ticket_id, 4, 9, 2)
    assert filed["customer_words"] == "很快解决了"
    run_jobs(platform)
    # answered: the wait ends at once and nobody calls
    assert ticket(platform, ticket_id)["status"] == "closed"
    assert task_list(agent, "callback") == []
    clock.advance(timedelta(days=2))
    run_jobs(platform)  # the three days' timer comes to nothing
    assert ticket(platform, ticket_id)["status"] == "closed"
    assert task_list(agent, "callback") == []
    board = signed_in(app, "director").get(f"{APP}/dashboards/cockpit/data?period=this_month")
    cards = {w["id"]: w["data"] for w in board.get_json()["widgets"] if w["kind"] == "kpi"}
    assert cards["csat"]["value"] == 100.0  # the survey's answer counts


def test_the_package_exports_and_imports_elsewhere_identically(
    platform: Platform, tmp_path: Path
) -> None:
    with platform.unit_of_work() as uow:
        report = packages.install(uow, SYSTEM, packages.read(PACKAGE))
        uow.commit()
    assert report.as_dict()["counts"] == {"added": 62}
    with platform.unit_of_work(write=False) as uow:
        exported = packages.export(uow, SYSTEM, "aftersales")
    again = packages.read(exported)
    assert again.version == packages.read(PACKAGE).version
    assert again.i18n == packages.read(PACKAGE).i18n
    for other in _elsewhere(tmp_path):
        with other.unit_of_work() as uow:
            packages.install(uow, SYSTEM, again)
            uow.commit()
        assert published(other, "aftersales") == published(platform, "aftersales")


def test_an_upgrade_keeps_tickets_and_their_running_flows(platform: Platform) -> None:
    original = packages.read(PACKAGE)
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, original)
        written = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            {"title": "旧工单", "issue_type": "usage_question", "urgency": "P4"},
        ).record
        uow.commit()
    files = dict(original.files)
    ticket_form = original.definitions["form"]["ticket"]
    field = {"key": "site", "type": "text", "label": {"zh-CN": "现场地址", "en": "Site"}}
    files["forms/ticket.json"] = _json({**ticket_form, "fields": [*ticket_form["fields"], field]})
    flow = original.definitions["flow"]["ticket_handling"]
    files["flows/ticket_handling.json"] = _json(
        {**flow, "label": {"zh-CN": "工单处理 v2", "en": "Ticket handling v2"}}
    )
    major, minor, _ = str(original.manifest["version"]).split(".")
    manifest = {**original.manifest, "version": f"{major}.{int(minor) + 1}.0"}
    files["manifest.json"] = _json(manifest)
    with platform.unit_of_work() as uow:
        plan = packages.install(uow, SYSTEM, packages.parse(files), dry_run=True)
    assert "flow ticket_handling: 1 running instance(s) stay on version 1" in plan.data
    with platform.unit_of_work() as uow:
        done = packages.install(uow, SYSTEM, packages.parse(files))
        uow.commit()
    assert done.as_dict()["counts"] == {"changed": 2, "unchanged": 60}
    with platform.unit_of_work() as uow:
        kept = uow.session.get(Record, written.id)
        assert kept is not None
        assert kept.data["title"] == "旧工单"
        (running,) = uow.session.scalars(
            select(FlowInstance).where(FlowInstance.record_id == written.id)
        )
        assert (running.version, running.status) == (1, "running")
        newer = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            {"title": "新工单", "issue_type": "other", "site": "上海"},
        ).record
        uow.flush()
        (started,) = uow.session.scalars(
            select(FlowInstance).where(FlowInstance.record_id == newer.id)
        )
        assert started.version == 2


def _json(body: Any) -> bytes:
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode()


def test_the_demo_seed_lives_two_years_through_the_platform(
    platform: Platform, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TANGRAM_INSTANCE_PATH", str(settings.instance_path))
    result = CliRunner().invoke(
        main, ["demo", "seed", "--tickets", "12", "--package", str(PACKAGE)]
    )
    assert result.exit_code == 0, result.output
    assert "installed aftersales" in result.output
    assert "28 users (password: tangram-demo)" in result.output
    assert "not done" not in result.output
    with platform.unit_of_work(write=False) as uow:
        tickets = uow.session.scalars(select(Record).where(Record.form_key == "ticket")).all()
        assert len(tickets) == 12
        spread = max(t.created_at for t in tickets) - min(t.created_at for t in tickets)
        assert spread > timedelta(days=180)  # a history, not a burst
        assert all(t.data.get("group") and t.data.get("assignee") for t in tickets)  # dispatched
        closed = [t for t in tickets if t.data["status"] == "closed"]
        assert closed
        assert all(t.data.get("first_response_at") and t.data.get("resolved_at") for t in closed)
        callbacks = uow.session.scalars(select(Record).where(Record.form_key == "callback")).all()
        assert len(callbacks) >= len(closed) - 2  # some callbacks time out and close the ticket
        plans = uow.session.scalars(
            select(Record.data).where(Record.form_key == "improvement_plan")
        ).all()
        assert any(p.get("measured_result") is not None for p in plans)  # the PDCA check ran
        managers = uow.session.scalars(select(Group).where(Group.manager_id.is_not(None))).all()
        assert {g.key for g in managers} >= {"line_a_qe", "customer_service", "quality_dept"}
        customers = uow.session.scalars(
            select(Record.data).where(Record.form_key == "customer")
        ).all()
        # the seed's runs of the daily health score: every customer scored and explained
        assert all(isinstance(c.get("health_score"), int) for c in customers)
        assert all(c["health_explanation"].startswith("健康分 ") for c in customers)
        assert all(c.get("installed_base") for c in customers)
        # two years of writes, tasks, rules and SLA checks later, every SLA's kept trail is the
        # one its record's whole audit trail gives, as of the record's last write
        book = rulebook.load(uow, "aftersales")
        statuses = uow.session.scalars(select(SlaStatus)).all()
        assert len(statuses) >= 2 * len(tickets)
        for status in statuses:
            record = uow.session.get(Record, status.record_id)
            assert record is not None
            assert status.trail is not None
            (policy,) = [p for p in book.slas[record.form_key] if p.key == status.policy]
            kept = [(datetime.fromisoformat(at), v) for at, v in status.trail["points"]]
            assert kept == policy.trail(sla.history(uow, record)), record.id
            assert status.trail["through"] == record.lock_version
    again = CliRunner().invoke(main, ["demo", "seed", "--tickets", "1", "--package", str(PACKAGE)])
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_only_a_closed_ticket_with_a_new_cause_drafts_a_knowledge_article(
    platform: Platform, people: dict[str, int]
) -> None:
    def write(form: str, data: dict[str, Any]) -> int:
        with platform.unit_of_work() as uow:
            written = records.service.create_record(uow, SYSTEM, "aftersales", form, data)
            uow.commit()
        return written.record.id

    def close(ticket_id: int, **changes: Any) -> None:
        with platform.unit_of_work() as uow:
            found = uow.session.get(Record, ticket_id)
            assert found is not None
            records.service.update_record(
                uow,
                SYSTEM,
                "aftersales",
                "ticket",
                ticket_id,
                {"root_cause": "密封圈老化", "status": "closed", **changes},
                lock_version=found.lock_version,
            )
            uow.commit()

    known = write(
        "knowledge_article",
        {"title": "漏水处理", "solution": "<p>更换密封圈</p>", "status": "published"},
    )
    base = {"title": "设备漏水", "channel": "phone", "issue_type": "hardware_fault"}
    linked = write("ticket", {**base, "urgency": "P3", "assignee": people["qe_a"]})
    close(linked, known_article=known)
    new_cause = write("ticket", {**base, "urgency": "P3", "assignee": people["qe_a"]})
    with platform.unit_of_work() as uow:  # open, with a cause: nothing drafted yet
        found = uow.session.get(Record, new_cause)
        assert found is not None
        records.service.update_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            new_cause,
            {"root_cause": "密封圈老化"},
            lock_version=found.lock_version,
        )
        uow.commit()
    close(new_cause)
    run_jobs(platform)
    with platform.unit_of_work(write=False) as uow:
        assignee = uow.session.get(Record, new_cause)
        drafts = uow.session.scalars(
            select(Record.data).where(Record.form_key == "knowledge_article", Record.id != known)
        ).all()
        told = uow.session.scalars(
            select(Notification.title).where(
                Notification.user_id == (assignee.data["assignee"] if assignee else 0)
            )
        ).all()
    assert [(d["source_ticket"], d["status"]) for d in drafts] == [(new_cause, "draft")]
    assert "密封圈老化" in drafts[0]["solution"]
    assert any(t.startswith("知识沉淀：") for t in told), told
