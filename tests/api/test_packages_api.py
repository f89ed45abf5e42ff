"""App packages over HTTP: upload with a dry run, install, export, roll back; admins only."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tests.conftest import ApiClient, assert_problem
from tests.platform.test_packages import SYSTEM, as_bytes, case_form, files

APPS = "/api/v1/apps"


def zipped(client: ApiClient, data: bytes, query: str = "") -> Any:
    return client.post(
        f"{APPS}/import{query}", data=data, headers={"Content-Type": "application/zip"}
    )


def uploaded(client: ApiClient, data: bytes) -> Any:
    return client.post(
        f"{APPS}/import",
        data={"file": (io.BytesIO(data), "cases.zip")},
        content_type="multipart/form-data",
    )


def test_import_export_and_rollback_over_http(admin_client: ApiClient) -> None:
    first = packages.zip_entries(as_bytes(files()))
    dry = zipped(admin_client, first, "?dry_run=true")
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["dry_run"] is True
    assert dry.get_json()["counts"] == {"added": 7}
    assert admin_client.get(f"{APPS}/cases").status_code == 404  # nothing written
    done = uploaded(admin_client, first)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["action"] == "install"
    assert admin_client.get(f"{APPS}/cases").get_json()["version"] == "1.0.0"

    newer = packages.zip_entries(as_bytes(files("1.1.0", forms__case=case_form())))
    again = zipped(admin_client, newer).get_json()
    assert (again["action"], again["counts"]) == ("upgrade", {"unchanged": 7})
    older = zipped(admin_client, first)
    assert_problem(older, 409, "package.downgrade")

    exported = admin_client.get(f"{APPS}/cases/export")
    assert exported.headers["Content-Type"] == "application/zip"
    assert 'filename="cases-1.1.0.zip"' in exported.headers["Content-Disposition"]
    assert packages.read(exported.data).version == "1.1.0"

    rolled = admin_client.post(f"{APPS}/cases/rollback", json={})
    assert rolled.status_code == 200, rolled.get_json()
    assert rolled.get_json()["version"] == "1.0.0"
    assert_problem(admin_client.post(f"{APPS}/cases/rollback", json={}), 409)

    bad = zipped(admin_client, b"not a zip")
    problem = assert_problem(bad, 422, "package.invalid")
    assert problem["errors"] == {"": ["not a zip file"]}
    missing = admin_client.post(f"{APPS}/import", json={})
    assert_problem(missing, 422, "package.missing")


def test_only_administrators_install_or_export(platform: Platform, app: Flask) -> None:
    with platform.unit_of_work() as uow:
        users.create_user(uow, SYSTEM, username="ann", password="ann-password-1")
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    data = packages.zip_entries(as_bytes(files()))
    assert_problem(zipped(client, data), 403)
