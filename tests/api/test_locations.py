"""A creation answers 201 with the address of what it created in ``Location`` (RFC 9110), and
that address reads it back: clients (and the fuzzer's stateful phase) follow it."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiClient

FORM = {
    "key": "note",
    "label": {"zh-CN": "便签"},
    "fields": [{"key": "title", "type": "text", "label": {"zh-CN": "标题"}}],
}


def followed(client: ApiClient, answer: Any) -> dict[str, Any]:
    """What the ``Location`` of a 201 answers."""
    assert answer.status_code == 201, answer.get_json()
    location = answer.headers["Location"]
    assert location.startswith("/api/v1/"), location
    read = client.get(location)
    assert read.status_code == 200, (location, read.get_json())
    body: dict[str, Any] = read.get_json()
    return body


def test_every_creation_says_where_it_is(admin_client: ApiClient) -> None:
    app = followed(
        admin_client,
        admin_client.post("/api/v1/apps", json={"key": "desk", "name": {"zh-CN": "服务台"}}),
    )
    assert app["key"] == "desk"

    draft = followed(
        admin_client, admin_client.post("/api/v1/apps/desk/forms", json={"body": FORM})
    )
    assert (draft["key"], draft["kind"]) == ("note", "form")

    published = admin_client.post("/api/v1/apps/desk/forms/note/publish", json={"note": "首版"})
    version = followed(admin_client, published)
    assert version["version"] == published.get_json()["version"] == 1

    made = admin_client.post("/api/v1/apps/desk/records/note", json={"data": {"title": "换墨盒"}})
    record = followed(admin_client, made)
    assert (record["id"], record["data"]["title"]) == (made.get_json()["id"], "换墨盒")

    group = followed(
        admin_client, admin_client.post("/api/v1/groups", json={"key": "desk", "name": "服务台"})
    )
    assert group["key"] == "desk"

    role = followed(
        admin_client, admin_client.post("/api/v1/roles", json={"key": "clerk", "name": "文员"})
    )
    assert role["key"] == "clerk"

    user = followed(
        admin_client,
        admin_client.post(
            "/api/v1/users", json={"username": "clerk01", "password": "a-long-enough-password-1"}
        ),
    )
    assert user["username"] == "clerk01"


def test_the_document_states_the_location_of_each_creation(app: Any) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    for path in (
        "/api/v1/apps",
        "/api/v1/apps/{app}/{kinds}",
        "/api/v1/apps/{app}/{kinds}/{key}/publish",
        "/api/v1/apps/{app}/records/{form}",
        "/api/v1/groups",
        "/api/v1/roles",
        "/api/v1/users",
    ):
        created = spec["paths"][path]["post"]["responses"]["201"]
        assert "Location" in created["headers"], path
