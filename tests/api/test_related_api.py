"""A record's related records: the records of every form that names it in a reference field, by
form and field, as far as the viewer may read them."""

from __future__ import annotations

from flask import Flask

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Record
from tests.api.test_field_access import _holder
from tests.api.test_report_access import APP, _viewer, _world
from tests.conftest import ApiClient, assert_problem


def _customer(platform: Platform, name: str) -> int:
    with platform.unit_of_work(write=False) as uow:
        for record in uow.session.query(Record).filter(Record.form_key == "customer"):
            if record.data.get("name") == name:
                return record.id
    raise AssertionError(name)


def test_a_customer_lists_the_cases_that_name_it(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    _world(platform)
    acme = _customer(platform, "Acme")
    answer = admin_client.get(f"{APP}/records/customer/{acme}/related?lang=en")
    assert answer.status_code == 200, answer.get_json()
    (cases,) = answer.get_json()
    assert (cases["form"], cases["field"], cases["total"]) == ("case", "customer", 6)
    assert cases["form_label"] == "case"
    assert len(cases["items"]) == 5  # the newest five
    ids = [i["id"] for i in cases["items"]]
    assert ids == sorted(ids, reverse=True)
    # the list filtered by the field holds them all
    listed = admin_client.get(f"{APP}/records/case?customer={acme}&count=true").get_json()
    assert listed["total"] == 6
    assert {i["id"] for i in listed["items"]} >= set(ids)
    # a form that no form references has no groups
    nothing = admin_client.get(f"{APP}/records/case/{ids[0]}/related").get_json()
    assert nothing == []


def test_related_records_follow_what_the_viewer_may_read(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = _world(platform)
    acme = _customer(platform, "Acme")
    # reads customers but no case: the cases are not theirs to count
    bob = _viewer(platform, app, world, "bob", [("customer", "all")])
    assert bob.get(f"{APP}/records/customer/{acme}/related").get_json() == []
    # reads cases only where they own them: none of Acme's
    cat = _viewer(platform, app, world, "cat", [("customer", "all"), ("case", "own")])
    (cases,) = cat.get(f"{APP}/records/customer/{acme}/related").get_json()
    assert (cases["total"], cases["items"]) == (0, [])
    # a reference field the viewer's roles hide is not followed
    ann = _holder(platform, app, world, "ann", {"customer": "hidden"})
    assert ann.get(f"{APP}/records/customer/{acme}/related").get_json() == []
    # and a record the viewer may not read has no related records to show
    dan = _viewer(platform, app, world, "dan", [("case", "all")])
    assert_problem(dan.get(f"{APP}/records/customer/{acme}/related"), 404, "record.not_found")
