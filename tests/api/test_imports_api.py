"""Records from a spreadsheet: a check names every row's problems and writes nothing; an import
writes every row or none; cells read as people type them (labels, names, dates, yes/no)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from flask import Flask
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import AuditEntry, Record
from tests.api.test_runtime_api import APP, install
from tests.conftest import ApiClient, assert_problem
from tests.platform.test_packages import SYSTEM

TICKETS = f"{APP}/records/ticket/import"
PRODUCTS = f"{APP}/records/product/import"


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send(
    client: ApiClient,
    url: str,
    content: bytes,
    name: str = "tickets.xlsx",
    **form: str,
) -> Any:
    return client.post(
        url,
        data={"file": (io.BytesIO(content), name), **form},
        content_type="multipart/form-data",
    )


def counts(platform: Platform) -> tuple[int, int]:
    with platform.unit_of_work(write=False) as uow:
        return (
            int(uow.session.scalar(select(func.count()).select_from(Record)) or 0),
            int(uow.session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


HEADER = ["标题", "来源渠道", "客户", "问题类型", "紧急程度", "发生时间", "联系邮箱", "备注"]


def test_a_check_names_every_row_s_problems_and_an_import_writes_all_or_nothing(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    with platform.unit_of_work() as uow:
        customer = records.create_record(
            uow, SYSTEM, "aftersales", "customer", {"name": "华东精密", "tier": "key"}
        ).record
        uow.commit()
    rows = [
        HEADER,
        [
            "开机无响应",
            "电话",
            "华东精密",
            "硬件故障",
            "P1 紧急",
            datetime(2026, 11, 20, 9, 30),
            "",
            "x",
        ],
        [
            "屏幕闪烁",
            "phone",
            f"#{customer.id}",
            "software_bug",
            "P3",
            "2026/11/21",
            "bad-mail",
            "",
        ],
        ["", "电话", "无名公司", "外星故障", "P9", "昨天", "", ""],
    ]
    before = counts(platform)
    checked = send(admin_client, TICKETS, workbook(rows))
    assert checked.status_code == 200, checked.get_json()
    report = checked.get_json()
    # the columns map by their headers; a column no field is named by is left out
    assert report["mapping"] == {
        "标题": "title",
        "来源渠道": "channel",
        "客户": "customer",
        "问题类型": "issue_type",
        "紧急程度": "urgency",
        "发生时间": "occurred_at",
        "联系邮箱": "contact_email",
        "备注": None,
    }
    assert (report["rows"], report["valid"], report["created"]) == (3, 1, [])
    assert report["samples"]["发生时间"] == ["2026-11-20 09:30", "2026/11/21", "昨天"]
    assert report["samples"]["备注"] == ["x"]
    by_row: dict[int, list[dict[str, Any]]] = {}
    for problem in report["problems"]:
        by_row.setdefault(problem["row"], []).append(problem)
    assert sorted(by_row) == [3, 4]
    assert [(p["column"], p["field"]) for p in by_row[3]] == [("联系邮箱", "contact_email")]
    fourth = {p["field"]: p["message"] for p in by_row[4]}
    assert fourth["customer"] == "找不到「无名公司」：请填写customer的name或 #编号"
    assert fourth["issue_type"].startswith("「外星故障」不是可选项：")
    assert fourth["urgency"].startswith("「P9」不是可选项：P1 紧急、")
    assert fourth["occurred_at"] == "「昨天」不是时间，应如 2026-12-01 09:30"
    assert fourth["title"].startswith("标题：")
    assert counts(platform) == before  # a check writes nothing

    # an import of a file with problems writes nothing and names them
    refused = send(admin_client, TICKETS, workbook(rows), dry_run="false")
    body = assert_problem(refused, 422, "import.invalid")
    assert "rows/3/contact_email" in body["errors"]
    assert counts(platform) == before

    # fixed, and one column left out on purpose: every row becomes a record
    rows[2][6] = "li@example.com"
    rows[3] = ["报警灯常亮", "电话", "华东精密", "硬件故障", "P2", "2026-11-22 08:00", "", ""]
    mapping = dict(report["mapping"], 联系邮箱=None)
    done = send(
        admin_client,
        f"{TICKETS}?lang=en",
        workbook(rows),
        dry_run="false",
        mapping=json.dumps(mapping, ensure_ascii=False),
    )
    assert done.status_code == 200, done.get_json()
    created = done.get_json()["created"]
    assert len(created) == 3
    with platform.unit_of_work(write=False) as uow:
        first, second, third = (uow.session.get(Record, i) for i in created)
        assert first is not None
        assert second is not None
        assert third is not None
        assert first.data["channel"] == "phone"
        assert first.data["customer"] == customer.id
        assert first.data["urgency"] == "P1"
        assert first.data["occurred_at"].startswith("2026-11-20T09:30:00+08:00")
        assert second.data["customer"] == customer.id
        assert "contact_email" not in second.data  # its column was not imported
        assert third.data["occurred_at"].startswith("2026-11-22T08:00:00+08:00")
        assert first.data["ticket_no"] != second.data["ticket_no"]  # serials drawn on import


def test_unique_values_repeated_in_the_file_or_taken_are_named(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    with platform.unit_of_work() as uow:
        taken = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "A-100", "product_line": "A"}
        ).record
        uow.commit()
    text = "型号,产品线,上市日期\nB-200,A 产品线,2026-01-05\nB-200,B 产品线,\nA-100,A,\n"
    report = send(admin_client, PRODUCTS, text.encode("gb18030"), "products.csv").get_json()
    problems = {p["row"]: p["message"] for p in report["problems"]}
    assert problems == {3: "与第 2 行重复", 4: f"型号：该值已被记录 {taken.id} 使用"}


def test_bad_files_and_mappings_are_refused_clearly(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    good = workbook([HEADER, ["开机无响应", "电话", "", "硬件故障", "P3", "", "", ""]])
    assert_problem(admin_client.post(TICKETS, data={}, content_type="multipart/form-data"), 422)
    assert_problem(send(admin_client, TICKETS, b"%PDF-1.4", "a.pdf"), 422, "import.type")
    assert_problem(send(admin_client, TICKETS, b"not a zip", "a.xlsx"), 422, "import.unreadable")
    assert_problem(send(admin_client, TICKETS, b"", "a.csv"), 422, "import.empty")
    many = "标题\n" + "".join(f"工单{i}\n" for i in range(2001))
    assert_problem(send(admin_client, TICKETS, many.encode(), "a.csv"), 422, "import.too_many")
    assert_problem(send(admin_client, TICKETS, good, mapping='{"标题": "nothing"}'), 422)
    assert_problem(
        send(admin_client, TICKETS, good, mapping='{"标题": "title", "来源渠道": "title"}'), 422
    )
    assert_problem(send(admin_client, TICKETS, good, mapping='{"标题": 1}'), 422)
    assert_problem(send(admin_client, TICKETS, good, mapping='{"标题": '), 400)
    assert_problem(send(admin_client, TICKETS, good, mapping='{"没有这列": "title"}'), 422)
    assert_problem(send(admin_client, TICKETS, good, dry_run="maybe"), 422)
    assert_problem(send(admin_client, f"{APP}/records/nothing/import", good), 404)


def lines(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def steps_of(answer: list[dict[str, Any]], stage: str) -> list[int]:
    return [line["done"] for line in answer if line.get("stage") == stage]


def test_progress_follows_a_check_and_an_import_and_a_refusal_on_the_way_writes_nothing(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    products = "型号,产品线\n" + "".join(f"P-{i},A\n" for i in range(120))
    before = counts(platform)

    checked = lines(send(admin_client, PRODUCTS, products.encode(), "p.csv", progress="true"))
    done = steps_of(checked, "check")
    # from nothing to every row, in steps of about a fiftieth, never backwards
    assert (done[0], done[-1]) == (0, 120)
    assert done == sorted(done)
    assert 40 <= len(done) <= 62
    assert all(line["total"] == 120 for line in checked[:-1])
    assert checked[-1]["report"]["rows"] == 120
    assert checked[-1]["report"]["valid"] == 120
    assert counts(platform) == before  # a check writes nothing

    imported = lines(
        send(admin_client, PRODUCTS, products.encode(), "p.csv", progress="true", dry_run="false")
    )
    assert [line["stage"] for line in imported[:-1]] == sorted(
        (line["stage"] for line in imported[:-1]), key=["check", "write"].index
    )
    assert (steps_of(imported, "write")[0], steps_of(imported, "write")[-1]) == (0, 120)
    assert len(imported[-1]["report"]["created"]) == 120
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Record)) == before[0] + 120

    # the same file again: every model is taken now, so the check refuses it on the way
    middle = counts(platform)
    refused = lines(
        send(admin_client, PRODUCTS, products.encode(), "p.csv", progress="true", dry_run="false")
    )
    problem = refused[-1]["problem"]
    assert (problem["status"], problem["code"]) == (422, "import.invalid")
    assert "rows/2/model" in problem["errors"]
    assert steps_of(refused, "write") == []
    assert counts(platform) == middle

    # what refuses the whole file answers before any step, as a problem of its own
    assert_problem(
        send(
            admin_client,
            PRODUCTS,
            products.encode(),
            "p.csv",
            progress="true",
            mapping='{"型号": "nothing"}',
        ),
        422,
    )
    assert_problem(send(admin_client, PRODUCTS, products.encode(), "p.csv", progress="yes"), 422)
    assert counts(platform) == middle


def test_a_caller_leaving_an_import_half_way_leaves_nothing_written(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    products = "型号,产品线\n" + "".join(f"Q-{i},B\n" for i in range(60))
    before = counts(platform)
    response = admin_client.client.post(
        PRODUCTS,
        data={
            "file": (io.BytesIO(products.encode()), "q.csv"),
            "dry_run": "false",
            "progress": "true",
        },
        content_type="multipart/form-data",
        headers={"X-CSRF-Token": admin_client.csrf or ""},
        buffered=False,
    )
    stream = iter(response.response)
    seen = [json.loads(next(stream)) for _ in range(70)]
    assert seen[-1]["stage"] == "write"  # some records are written, none committed
    assert seen[-1]["done"] > 0
    response.close()
    assert counts(platform) == before
    # and the database is free again for the next write
    with platform.unit_of_work() as uow:
        records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "Q-0", "product_line": "B"}
        )
        uow.commit()
    assert counts(platform)[0] == before[0] + 1


def test_the_template_names_the_fields_a_new_record_takes(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    answer = admin_client.get(f"{TICKETS}/template")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["标题", "来源渠道", "客户"]
    assert "问题类型" in header
    assert "响应说明" not in header  # the engineer's, later
    assert "工单号" not in header  # drawn, not typed
    assert "图片" not in header  # files are not imported
    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    assert_problem(viewer.get(f"{TICKETS}/template"), 403)
    assert_problem(send(viewer, TICKETS, answer.data), 403)
