"""JSON columns and answers go through orjson, with ``json`` for what orjson refuses: the text
and the values are what they were."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import flask
import pytest
from sqlalchemy import text

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.db import json_text, json_value
from tangram.platform.kernel.models import User
from tangram.web.decoding import FiniteJSONProvider
from tests.conftest import make_user


@pytest.mark.parametrize(
    "value",
    [
        {"title": "空调不制冷", "rows": [{"qty": 2, "price": 19.9}], "ok": True, "none": None},
        {"big": 2**63 - 1, "small": -(2**63), "tiny": 1e-7, "huge": 1e300},
        {"beyond": 2**70},  # orjson refuses it: json writes it
        {1: "one", 2: "two"},  # keys that are not text: json writes them as text
        [],
        "纯文本",
    ],
)
def test_a_column_value_reads_back_as_json_would_read_it(value: Any) -> None:
    written = json_text(value)
    assert json.loads(written) == json.loads(json.dumps(value))
    assert json_value(written) == json.loads(written)
    assert json_value(written.encode()) == json.loads(written)  # psycopg hands bytes


def test_chinese_text_is_kept_as_utf8_and_a_nan_written_earlier_still_reads() -> None:
    assert json_text({"t": "维修"}) == '{"t":"维修"}'
    old = json_value('{"weight": NaN}')  # what json.dumps wrote for a NaN
    assert math.isnan(old["weight"])


def test_a_json_column_round_trips_through_the_database(platform: Platform) -> None:
    user = make_user(platform, "tess")
    skills = ["空调", {"level": 2**63 - 1, "since": "2026-12-06"}, 0.1]
    with platform.unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        uow.update(row, {"skills": skills})
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        again = uow.session.get(User, user.id)
        assert again is not None
        assert again.skills == skills
        stored = uow.session.execute(
            text("SELECT skills FROM users WHERE id = :id"), {"id": user.id}
        ).scalar_one()
        assert (json.loads(stored) if isinstance(stored, str) else stored) == skills


@dataclass
class _Point:
    y: int
    x: str


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": {"d": [1.5, "中文"], "c": None}},
        {"at": datetime(2026, 12, 6, 9, 30, tzinfo=UTC), "on": date(2026, 12, 6)},
        {"point": _Point(1, "z")},
        {"beyond": 2**70},
        {2: "b", 1: "a"},
    ],
)
def test_an_answer_is_the_text_flask_wrote(value: Any) -> None:
    app = flask.Flask(__name__)
    provider = FiniteJSONProvider(app)
    expected = json.dumps(
        value,
        default=provider.default,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    assert provider.dumps(value, separators=(",", ":")) == expected


def test_an_answer_holding_no_number_says_null() -> None:
    provider = FiniteJSONProvider(flask.Flask(__name__))
    for kwargs in ({"separators": (",", ":")}, {"indent": 2}):
        assert json.loads(provider.dumps({"a": math.nan, "b": [math.inf]}, **kwargs)) == {
            "a": None,
            "b": [None],
        }
