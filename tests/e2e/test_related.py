"""A customer's page lists what names the customer — its tickets and callbacks — with counts, the
newest few and a way to the whole list."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, sign_in, stored_tickets


def test_a_customer_shows_its_tickets(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    system = Actor.system("test")
    with platform.unit_of_work() as uow:
        customer = records.create_record(
            uow, system, "aftersales", "customer", {"name": "华东精密", "tier": "vip"}
        ).record.id
        uow.commit()
    titles = [f"故障 {n}" for n in range(7)]
    *mine, _other = stored_tickets(
        platform, *({"title": t, "customer": customer} for t in titles), {"title": "别家的工单"}
    )
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/customer/{customer}")
    card = page.get_by_test_id("related-card")
    expect(card.get_by_role("tab", name=re.compile(r"售后工单\s*7"))).to_be_visible()
    expect(card).to_contain_text("故障 6")  # the newest first
    expect(card).not_to_contain_text("故障 1")  # five of them
    expect(card).not_to_contain_text("别家的工单")
    settled(page)
    assert accessibility_problems(page) == []
    card.get_by_test_id("related-all-ticket").click()
    expect(page).to_have_url(re.compile(rf"/records/ticket\?customer={customer}$"))
    rows = page.locator(".ant-table-row")
    expect(rows).to_have_count(7)
    expect(page.locator(".ant-table")).not_to_contain_text("别家的工单")
    page.get_by_text("故障 0").click()
    expect(page).to_have_url(re.compile(rf"/records/ticket/{mine[0]}$"))
