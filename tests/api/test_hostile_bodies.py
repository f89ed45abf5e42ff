"""Hostile request bodies and path ids: a 400 or 404 problem naming what is wrong, nothing written.

Every case goes through the same strict JSON reader (tangram.platform.kernel.jsondoc) that every
blueprint's argument parser and the package reader use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import AuditEntry, Definition, Group, Role, User
from tests.conftest import ApiClient, assert_problem

JSON = {"Content-Type": "application/json"}


def counts(platform: Platform) -> tuple[int, ...]:
    with platform.unit_of_work(write=False) as uow:
        return tuple(
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (User, Role, Group, Definition, AuditEntry)
        )


@pytest.mark.parametrize(
    ("body", "path", "says"),
    [
        ('{"username": "\\ud800", "password": "long-enough-1"}', "/username", "surrogate"),
        ('{"username": "a\\u0000b", "password": "long-enough-1"}', "/username", "NUL"),
        ('{"username": "ann", "\\udfff": 1}', "/", "surrogate"),
        ('{"username": "ann", "username": "bob"}', "/", "twice"),
        ('{"username": "ann", "weight": NaN}', "/", "NaN"),
        ('{"username": "ann", "weight": -Infinity}', "/", "-Infinity"),
        ('{"username": "ann", "n": 123456789012345678901234567890}', "/n", "64-bit"),
        ("[" * 10_000 + "]" * 10_000, "/", "deeper"),
        ('{"a": ' * 100 + "1" + "}" * 100, "/a/a/a", "deeper"),
        ("{not json", "/", "not valid JSON"),
        (b'{"username": "\xff"}', "/", "UTF-8"),
    ],
)
def test_a_body_the_platform_cannot_keep_is_refused_naming_the_place(
    platform: Platform, admin_client: ApiClient, body: str | bytes, path: str, says: str
) -> None:
    before = counts(platform)
    answer = admin_client.post("/api/v1/users", data=body, headers=JSON)
    problem = assert_problem(answer, 400, "request.malformed_json")
    ((where, messages),) = problem["errors"].items()
    assert where.startswith(path)
    assert says in " ".join(messages)
    assert counts(platform) == before


def test_a_definition_body_with_infinity_is_refused_before_its_checksum(
    platform: Platform, admin_client: ApiClient
) -> None:
    assert admin_client.post("/api/v1/apps", json={"key": "svc", "name": {"zh-CN": "服务"}})
    before = counts(platform)
    body = '{"body": {"key": "f", "label": {"zh-CN": "f"}, "fields": [], "x": -Infinity}}'
    answer = admin_client.post("/api/v1/apps/svc/forms", data=body, headers=JSON)
    assert_problem(answer, 400, "request.malformed_json")
    assert counts(platform) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/groups/22284992631536738304"),
        ("post", "/api/v1/flows/17271672090290203915553800716288/urge"),
        ("get", "/api/v1/users/9223372036854775808"),
        ("get", "/api/v1/tasks/99999999999999999999"),
    ],
)
def test_an_id_beyond_the_id_columns_matches_nothing(
    admin_client: ApiClient, method: str, path: str
) -> None:
    answer: Any = getattr(admin_client, method)(path, json={})
    assert_problem(answer, 404)


def test_the_largest_id_is_simply_not_found_and_one_more_matches_nothing(
    admin_client: ApiClient,
) -> None:
    assert_problem(admin_client.get("/api/v1/groups/2147483647"), 404, "group.not_found")
    assert_problem(admin_client.get("/api/v1/groups/2147483648"), 404, "not_found")


def test_answers_never_hold_nan_or_infinity(app: Any) -> None:
    written = app.json.dumps({"a": float("nan"), "b": [float("inf"), 1.5], "c": "文本"})
    assert written == '{"a": null, "b": [null, 1.5], "c": "文本"}'


def test_a_query_parameter_given_twice_is_refused_unless_it_takes_a_list(
    admin_client: ApiClient,
) -> None:
    twice = admin_client.get("/api/v1/audit?limit=5&limit=500")
    problem = assert_problem(twice, 400, "request.repeated_parameter")
    assert problem["errors"] == {"limit": ["given more than once"]}
    assert admin_client.get("/api/v1/audit?limit=5").status_code == 200


def _integers(schema: Any, components: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """Every integer in ``schema`` (through references, properties, items and map values)."""
    if "$ref" in schema:
        yield from _integers(components[schema["$ref"].rsplit("/", 1)[1]], components, where)
        return
    kinds = schema.get("type")
    if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
        yield where, schema
    for name, inner in schema.get("properties", {}).items():
        yield from _integers(inner, components, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _integers(schema[key], components, f"{where}[]")
    for inner in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _integers(inner, components, where)


def test_every_integer_an_operation_takes_is_bounded_to_the_columns_range(app: Any) -> None:
    """Ids, lock versions, cursors: whatever integer a request names is stored in or compared
    with an INTEGER column, so the document bounds each one (a larger one is refused, never
    handed to the database driver to overflow)."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    components = spec["components"]["schemas"]
    unbounded, seen = [], 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            inputs = [
                (f"{p['in']} {p['name']}", p.get("schema", {}))
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
            ] + [
                ("body", content.get("schema", {}))
                for content in operation.get("requestBody", {}).get("content", {}).values()
            ]
            for name, schema in inputs:
                for where, integer in _integers(schema, components, name):
                    seen += 1
                    low, high = integer.get("minimum"), integer.get("maximum")
                    if low is None or high is None or low < -(2**31) or high > 2**31 - 1:
                        unbounded.append(f"{method.upper()} {path} {where}")
    assert seen > 100  # (the walk finds them)
    assert unbounded == []


def test_an_integer_argument_beyond_the_range_is_refused_by_name(
    app: Any, admin_client: ApiClient
) -> None:
    """Every read taking an integer in its query, given one beyond the INTEGER range: a 422
    naming it, before anything reads the database (SQLite's driver overflowed on 2^63)."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    tried = []
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] != "query" or "integer" not in (
                schema.get("type"),
                schema.get("items", {}).get("type"),
            ):
                continue
            url = path
            declared = [*item.get("parameters", []), *operation.get("parameters", [])]
            for name in (p["name"] for p in declared if p["in"] == "path"):
                url = url.replace(f"{{{name}}}", "1" if name.endswith(("_id", "number")) else "x")
            answer = admin_client.get(f"{url}?{parameter['name']}={2**63}")
            problem = assert_problem(answer, 422)
            named = [k for k in problem["errors"] if k.split(".")[0] == parameter["name"]]
            assert named, (url, problem)
            tried.append(f"{url} {parameter['name']}")
    assert len(tried) > 5, tried


def test_an_out_of_range_id_in_a_body_is_refused_and_nothing_is_written(
    platform: Platform, admin_client: ApiClient
) -> None:
    before = counts(platform)
    answer = admin_client.post(
        "/api/v1/groups", json={"key": "far", "name": "远", "manager_id": 2**31}
    )
    problem = assert_problem(answer, 422)
    assert "manager_id" in problem["errors"]
    assert counts(platform) == before
