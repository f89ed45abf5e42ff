"""Requests decoded at the edge: JSON bodies through the platform's strict reader, integer path
parameters within the range of the id columns.

Every blueprint is a :class:`Blueprint` of this module, whose argument parser reads JSON bodies
with :func:`~tangram.platform.kernel.jsondoc.strict_loads`: ``NaN``, duplicate keys, lone
surrogates, NUL characters, integers beyond 64 bits and deep nesting get a 400 problem
(``request.malformed_json``) naming the JSON pointer, before anything else looks at the body. A
path segment such as ``/groups/22284992631536738304`` matches no route (404) instead of
overflowing the database driver.
"""

from __future__ import annotations

import math
from typing import Any

import flask
import flask_smorest
import orjson
from flask.json.provider import DefaultJSONProvider
from marshmallow import fields as ma_fields
from marshmallow import validate
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.jsondoc import JsonRefused, strict_loads


class BodyRefused(TangramError):
    """A request body that is not acceptable JSON."""

    status = 400
    title = "Bad request"
    default_code = "request.malformed_json"


def decode_body(content: bytes) -> Any:
    """A JSON body read strictly, or a 400 problem naming what is wrong and where."""
    try:
        return strict_loads(content)
    except JsonRefused as exc:
        raise BodyRefused(
            f"The request body is not acceptable JSON: {exc.message}.",
            errors=[{"path": exc.path or "/", "message": exc.message}],
        ) from None


class QueryRefused(TangramError):
    """A query string the server would otherwise read by guessing."""

    status = 400
    title = "Bad request"
    default_code = "request.repeated_parameter"


def _takes_many(schema: Any, name: str) -> bool:
    """Whether the schema's parameter ``name`` (its data key) holds a list; a record list's
    ``field__in`` filter takes its values repeated too."""
    if name.endswith("__in"):
        return True
    for attribute, field in getattr(schema, "fields", {}).items():
        if (field.data_key or attribute) == name:
            return isinstance(field, ma_fields.List | ma_fields.Tuple)
    return False


class StrictParser(FlaskParser):
    """webargs' Flask parser with the strict JSON reader, refusing a query parameter given twice
    unless it takes a list (otherwise one of the values would silently win)."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not core.is_json(req.mimetype):
            return core.missing
        return decode_body(req.get_data(cache=True))

    def load_querystring(self, req: flask.Request, schema: Any) -> Any:
        repeated = sorted(
            name
            for name in req.args
            if len(req.args.getlist(name)) > 1 and not _takes_many(schema, name)
        )
        if repeated:
            raise QueryRefused(
                f"A query parameter is given more than once: {', '.join(repeated)}. Give it once "
                "(filters take several values as a comma-separated list with __in).",
                errors=[{"path": name, "message": "given more than once"} for name in repeated],
            )
        return super().load_querystring(req, schema)


#: The range of the databases' INTEGER columns (32 bits on PostgreSQL), where every integer a
#: request names (an id, a lock version, a cursor) is stored or compared.
INTEGER_RANGE = (-(2**31), 2**31 - 1)
#: The largest id a table holds.
ID_MAX = INTEGER_RANGE[1]


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest is untyped
    """The API's blueprints: flask-smorest's, with the strict body parser, and every integer of
    an operation's arguments within :data:`INTEGER_RANGE` (a larger one is a 422 naming it,
    never the database driver's overflow; the document states the range)."""

    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        instance = schema() if isinstance(schema, type) else schema
        bound_integers(instance)
        return super().arguments(instance, *args, **kwargs)


def bound_integers(schema: Any) -> None:
    """Give every integer field of ``schema`` — nested, listed, a dict's values — that has no
    upper or lower bound of its own the range of :data:`INTEGER_RANGE` (in place: ``schema``
    is an instance, whose fields are its own copies)."""
    low, high = INTEGER_RANGE
    seen: set[int] = set()

    def visit(field: Any) -> None:
        if field is None or id(field) in seen:
            return
        seen.add(id(field))
        if isinstance(field, ma_fields.Integer):
            ranges = [v for v in field.validators if isinstance(v, validate.Range)]
            if not any(r.max is not None for r in ranges) or not any(
                r.min is not None for r in ranges
            ):
                field.validators.append(validate.Range(min=low, max=high))
        elif isinstance(field, ma_fields.Nested):
            for inner in field.schema.fields.values():
                visit(inner)
        elif isinstance(field, ma_fields.List):
            visit(field.inner)
        elif isinstance(field, ma_fields.Tuple):
            for inner in field.tuple_fields:
                visit(inner)
        elif isinstance(field, ma_fields.Mapping):  # (Dict is one)
            visit(field.key_field)
            visit(field.value_field)

    for field in schema.fields.values():
        visit(field)


class BoundedInt(IntegerConverter):
    """``<int:…>`` that matches only values an id column can hold (others: no route, 404)."""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return number


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no such number)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


#: orjson's options for an answer: keys sorted as Flask sorts them, and dates and dataclasses
#: handed to Flask's own conversion (dates as HTTP dates), so that the text is the same.
_ANSWER = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
#: What Flask asks for an answer out of debug mode: compact text.
_COMPACT = {"separators": (",", ":")}


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider that never writes ``NaN`` or ``Infinity``, which are not JSON (a
    computed value that is no number goes out as ``null``); UTF-8 text as it is. Answers are
    written by orjson (several times faster than ``json``), with what it refuses (integers
    beyond 64 bits, keys that are not text) written by ``json`` as before."""

    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT:
            try:
                return orjson.dumps(obj, default=self.default, option=_ANSWER).decode()
            except TypeError:  # orjson.JSONEncodeError
                pass
        try:
            return super().dumps(obj, allow_nan=False, **kwargs)
        except ValueError:  # the rare document holding a non-finite float
            return super().dumps(_finite(obj), allow_nan=False, **kwargs)


def init_app(app: flask.Flask) -> None:
    """Install the bounded integer converter (before any route is added) and the JSON provider."""
    app.url_map.converters["int"] = BoundedInt
    app.json = FiniteJSONProvider(app)
