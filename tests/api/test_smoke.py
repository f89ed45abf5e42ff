from __future__ import annotations

from tests.conftest import ApiClient, assert_problem


def test_health_reports_ok_when_database_is_migrated(client: ApiClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_me_requires_authentication_when_anonymous(client: ApiClient) -> None:
    assert_problem(client.get("/api/v1/me"), 401, "auth.required")


def test_admin_can_sign_in_and_see_themself(admin_client: ApiClient) -> None:
    body = admin_client.get("/api/v1/me").get_json()
    assert body["username"] == "admin"
    assert body["is_admin"] is True
