"""Helpers shared by the API blueprints: schemas, paging, the request's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from flask import Response, request, stream_with_context, url_for
from marshmallow import Schema, fields, validate

from tangram.platform.kernel.names import KEY
from tangram.platform.records.listing import Filter

#: Most items one page of a list endpoint returns.
MAX_PAGE = 500

#: The ``Location`` header of a 201, as the document states it (RFC 9110, 15.3.2).
LOCATION = {
    "Location": {
        "description": "The address of what was created (its own GET)",
        "schema": {"type": "string"},
    }
}

T = TypeVar("T")


def created(body: T, endpoint: str, **values: Any) -> tuple[T, dict[str, str]]:
    """A 201's body, with the created resource's address (the view ``endpoint`` with
    ``values``) in ``Location``."""
    return body, {"Location": url_for(endpoint, **values)}


class StrictSchema(Schema):
    """Request schemas refuse unknown fields (marshmallow's default, made explicit)."""

    class Meta:
        unknown = "raise"


class PageArgs(StrictSchema):
    """Keyset paging: items after ``after`` (an id), at most ``limit``."""

    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class LockedSchema(StrictSchema):
    """A write that carries the lock version it was based on."""

    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


I18nText = fields.Dict(keys=fields.String(), values=fields.String())


def new_key() -> fields.String:
    """The key of a new app, group or role: 1–63 characters, the pattern the platform checks
    stated for the document (a key that misses it gets the platform's own message)."""
    return fields.String(
        required=True, validate=validate.Length(min=1, max=63), metadata={"pattern": KEY.pattern}
    )


def next_after(items: list[object], limit: int, key: str = "id") -> int | None:
    """The ``after`` value of the next page, or ``None`` when this one was the last."""
    if len(items) < limit or not items:
        return None
    value = getattr(items[-1], key)
    return int(value)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    name: str,
    kind: str,
    csv_chunks: Callable[[], Iterator[str]],
    xlsx: Callable[[], bytes],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A CSV (streamed) or XLSX attachment named ``name.kind``."""
    sent = {"Content-Disposition": f'attachment; filename="{name}.{kind}"', **(headers or {})}
    if kind == "xlsx":
        return Response(xlsx(), mimetype=XLSX, headers=sent)
    return Response(stream_with_context(csv_chunks()), mimetype="text/csv", headers=sent)


def filters_from_query(reserved: frozenset[str] | set[str]) -> list[Filter]:
    """Record-list filters from the query string: every parameter but the ``reserved`` ones."""
    return [
        Filter.parse(name, values) for name, values in request.args.lists() if name not in reserved
    ]
