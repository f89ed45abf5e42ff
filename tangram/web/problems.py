"""RFC 9457 problem details for every failure the API can answer with."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, g, json, request
from marshmallow import Schema, fields
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from tangram.platform.kernel.errors import RateLimited, TangramError
from tangram.web import problem_texts

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

#: Stable codes for the HTTP errors raised by Flask / Werkzeug / webargs.
_HTTP_CODES = {
    400: "request.malformed",
    401: "auth.required",
    403: "permission.denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "validation.failed",
    429: "rate_limited",
    500: "internal_error",
}


class ProblemSchema(Schema):
    """An RFC 9457 problem, as every error response of the API."""

    type = fields.String(required=True, metadata={"description": "URN naming the problem type"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    code = fields.String(required=True, metadata={"description": "stable dotted error code"})
    instance = fields.String(metadata={"description": "the request path"})
    request_id = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "messages by field path (JSON pointer for definition bodies)"},
    )
    diagnostics = fields.List(
        fields.Dict(), metadata={"description": "[{path, code, message}] for definition bodies"}
    )
    current = fields.Dict(metadata={"description": "the current state, on a 409 conflict"})
    current_version = fields.Integer()
    retry_after = fields.Integer()


def request_id() -> str:
    """The id of the current request (also sent back as ``X-Request-Id``)."""
    rid = g.get("request_id")
    if rid is None:
        rid = uuid.uuid4().hex
        g.request_id = rid
    return str(rid)


_CJK = re.compile(r"[\u3400-\u9fff]")


def _prefers_chinese() -> bool:
    """Whether the caller asks for Chinese first (``Accept-Language``); English otherwise."""
    best = request.accept_languages.best_match(("en", "zh-CN", "zh"), default="en")
    return best.startswith("zh")


def _problem(
    status: int,
    title: str,
    detail: str | None,
    code: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """One problem's body, its detail in the caller's language where a sentence exists, and
    whether it was put in Chinese."""
    body: dict[str, Any] = {
        "type": f"urn:tangram:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "instance": request.path,
        "request_id": request_id(),
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = dict(errors)
    body.update(extra or {})
    # a detail written in the caller's language already (with its particulars) stays as it is
    chinese = (
        _prefers_chinese()
        and not _CJK.search(str(body.get("detail", "")))
        and problem_texts.sentence(code, body)
    )
    if chinese:
        body["detail"] = chinese
    return body, bool(chinese)


def problem_response(
    status: int,
    title: str,
    detail: str | None,
    code: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render one problem."""
    body, chinese = _problem(status, title, detail, code, errors=errors, extra=extra)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE
    )
    if chinese:
        response.headers["Content-Language"] = "zh-CN"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def errors_by_path(items: Iterable[Mapping[str, str]]) -> dict[str, list[str]]:
    """``[{path, message}]`` → ``{path: [message, …]}``."""
    grouped: dict[str, list[str]] = {}
    for item in items:
        grouped.setdefault(item.get("path", ""), []).append(item.get("message", ""))
    return grouped


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs / marshmallow nested messages → ``{"field.path": [...]}`` (location keys dropped)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub, texts in flatten_messages(value, path).items():
                out.setdefault(sub, []).extend(texts)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix] = [str(m) for m in messages]
        else:
            for item in messages:
                for sub, texts in flatten_messages(item, prefix).items():
                    out.setdefault(sub, []).extend(texts)
    else:
        out[prefix] = [str(messages)]
    return out


def _tangram_parts(error: TangramError) -> tuple[dict[str, list[str]] | None, dict[str, Any]]:
    extra = dict(error.extra)
    if error.errors and any("code" in e for e in error.errors):
        extra["diagnostics"] = error.errors
    return (errors_by_path(error.errors) if error.errors else None), extra


def tangram_problem(error: TangramError) -> dict[str, Any]:
    """A platform error's problem body, for answers that carry it inside another (a stream's
    last line)."""
    errors, extra = _tangram_parts(error)
    body, _ = _problem(
        error.status, error.title, error.detail, error.code, errors=errors, extra=extra
    )
    return body


def handle_tangram_error(error: TangramError) -> Response:
    """A platform error → its problem."""
    errors, extra = _tangram_parts(error)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    return problem_response(
        error.status,
        error.title,
        error.detail,
        error.code,
        errors=errors,
        extra=extra,
        headers=headers,
    )


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug / webargs HTTP errors → problems (validation messages flattened by path)."""
    status = error.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    data = getattr(error, "data", None) or {}
    errors: dict[str, list[str]] | None = None
    messages = data.get("messages") or data.get("errors")
    if messages:
        # Drop the webargs location level ("json", "query", ...).
        if isinstance(messages, Mapping) and set(messages) <= {
            "json",
            "query",
            "form",
            "files",
            "headers",
            "view_args",
            "path",
        }:
            merged: dict[str, list[str]] = {}
            for value in messages.values():
                merged.update(flatten_messages(value))
            errors = merged
        else:
            errors = flatten_messages(messages)
    detail = data.get("message") or error.description
    if status == 400 and errors and any("Invalid JSON" in m for ms in errors.values() for m in ms):
        code, detail, errors = "request.malformed_json", "The request body is not valid JSON.", None
    elif status == 422 and errors:
        detail = "The request has invalid or unknown fields; see errors."
    headers: dict[str, str] = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return problem_response(
        status, error.name, detail, code, errors=errors, headers=headers or None
    )


#: When a client should try again after the database stayed busy.
BUSY_RETRY_SECONDS = 5
#: What the drivers say when a write waited too long for a lock: SQLite's single writer after its
#: busy timeout, PostgreSQL's lock and statement timeouts and deadlock victims.
_BUSY = ("database is locked", "lock timeout", "lock_timeout", "deadlock detected")


def _database_busy(error: Exception) -> bool:
    if not isinstance(error, OperationalError):
        return False
    message = str(error.orig).lower()
    return any(sign in message for sign in _BUSY)


def handle_unexpected(error: Exception) -> Response:
    """Anything else: a 500 that names the request id and hides internals."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if _database_busy(error):
        log.warning("request %s: the database stayed busy: %s", request_id(), error)
        return problem_response(
            503,
            "Service unavailable",
            "The database is busy with other writes; try again in a few seconds.",
            "database.busy",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )
    log.exception("unexpected error in request %s", request_id(), exc_info=error)
    return problem_response(
        500,
        "Internal server error",
        f"Something went wrong on our side. Quote request id {request_id()} when reporting it.",
        "internal_error",
    )


def init_app(app: Flask) -> None:
    """Register the problem handlers on ``app``."""
    app.register_error_handler(TangramError, handle_tangram_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

    @app.after_request
    def _tag(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_id()
        return response
