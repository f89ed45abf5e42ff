"""Money is decimal end to end: what formulas, reports, KPIs and exports show is the decimal
sum of the decimals entered, never a binary float's noise (0.1 + 0.2 is 0.3)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from tangram.platform.bootstrap import Platform
from tests.conftest import ApiClient
from tests.platform.rules_fixtures import World, build_world, field, options, text

APP = "/api/v1/apps/svc"
EXPENSE = {
    "key": "expense",
    "label": text("expense"),
    "fields": [
        field("kind", "select", options=options("parts", "travel")),
        field("amount", "money", precision=2),
        field("rate", "number"),
        field("qty", "integer"),
        # price × quantity, then a 17 % surcharge: money to the cent, rounded half-up
        field(
            "billed",
            "formula",
            precision=2,
            formula={"*": [{"var": "amount"}, {"var": "qty"}, 1.17]},
        ),
        field("plain", "formula", formula={"+": [{"var": "amount"}, {"var": "rate"}]}),
    ],
}
AMOUNTS = [("parts", 0.1), ("parts", 0.2), ("travel", 1.1), ("travel", 2.2), ("travel", 0.7)]


def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", EXPENSE)
    for kind, amount in AMOUNTS:
        w.create({"kind": kind, "amount": amount, "rate": 0.2, "qty": 3}, form="expense")
    w.publish(
        "report",
        {
            "key": "spend",
            "label": text("spend"),
            "dataset": {
                "form": "expense",
                "dimensions": [{"key": "kind", "field": "kind"}],
                "measures": [
                    {"key": "total", "type": "sum", "field": "amount"},
                    {"key": "most", "type": "max", "field": "amount"},
                    {"key": "billed", "type": "sum", "field": "billed"},
                ],
            },
            "widget": {"type": "table"},
        },
    )
    w.publish(
        "kpi",
        {
            "key": "spent",
            "label": text("spent"),
            "form": "expense",
            "measure": {"type": "sum", "field": "amount"},
            "decimals": 2,
        },
    )
    return w


def test_formulas_give_the_decimal_and_money_formulas_round_half_up_to_their_precision(
    platform: Platform, admin_client: ApiClient
) -> None:
    world(platform)
    created = admin_client.post(
        f"{APP}/records/expense", json={"data": {"amount": 0.1, "rate": 0.2, "qty": 3}}
    )
    assert created.status_code == 201, created.get_json()
    data = created.get_json()["data"]
    assert data["plain"] == 0.3  # not 0.30000000000000004
    assert data["billed"] == 0.35  # 0.1 × 3 × 1.17 = 0.351
    half = admin_client.post(
        f"{APP}/records/expense", json={"data": {"amount": 1.25, "qty": 1, "rate": 0}}
    ).get_json()["data"]
    assert half["billed"] == 1.46  # 1.4625 → 1.46; half-up at the cent: 1.465 would be 1.47
    edge = admin_client.post(
        f"{APP}/records/expense", json={"data": {"amount": 2.5, "qty": 1, "rate": 0}}
    ).get_json()["data"]
    assert edge["billed"] == 2.93  # 2.925 exactly: half-up, where binary rounding gives 2.92


def _rows(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {row[0]: row[1:] for row in body["rows"]}


def test_report_sums_of_money_are_the_decimal_sums_on_every_path(
    platform: Platform, admin_client: ApiClient
) -> None:
    world(platform)
    body = admin_client.get(f"{APP}/reports/spend/data").get_json()
    assert body["columns"] == ["kind", "total", "most", "billed"]
    assert _rows(body) == {"parts": [0.3, 0.2, 1.05], "travel": [4.0, 2.2, 14.04]}
    csv_text = admin_client.get(f"{APP}/reports/spend/data?format=csv").data.decode("utf-8")
    assert "parts,0.3,0.2,1.05" in csv_text
    xlsx = admin_client.get(f"{APP}/reports/spend/data?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]] == ["parts", 0.3, 0.2, 1.05]
    card = admin_client.get(f"{APP}/kpis/spent/data?period=2026-01-01..2026-12-31").get_json()
    assert card["value"] == 4.3
