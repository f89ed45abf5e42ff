"""Who is calling: session cookies (with a CSRF token) for the SPA, bearer tokens for integrations.

Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by the session cookie must send the
session's CSRF token in ``X-CSRF-Token``; bearer-token requests carry no ambient credentials and
need none. Every API body must be JSON, which cross-site HTML forms cannot send.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Flask, current_app, g, request, session

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import PermissionDenied, TangramError, Unauthenticated
from tangram.platform.kernel.models import User

CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Endpoints that take no CSRF token: signing in creates the session the token belongs to.
CSRF_EXEMPT = frozenset(
    {"auth.login", "intake.PublicForm", "intake.PublicUpload"}  # anonymous: nothing to forge
)
#: Endpoints whose bodies are not JSON (file uploads); they accept up to max_upload_bytes.
NON_JSON_ENDPOINTS = frozenset({"files.Upload", "intake.PublicUpload", "apps.Import"})


class UnsupportedMediaType(TangramError):
    """The body is not JSON."""

    status = 415
    title = "Unsupported media type"
    default_code = "request.unsupported_media_type"


def platform() -> Platform:
    """The platform of the running app."""
    found: Platform = current_app.extensions["tangram"]
    return found


def current_actor() -> Actor | None:
    """The authenticated actor of this request, or ``None`` (resolved once per request)."""
    if "actor" in g:
        cached: Actor | None = g.actor
        return cached
    actor: Actor | None = None
    header = request.headers.get("Authorization", "")
    with platform().unit_of_work() as uow:
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthenticated(
                    "Use 'Authorization: Bearer <token>'.", code="auth.scheme_unsupported"
                )
            actor = auth.token_actor(uow, value)
            uow.commit()
        elif "user_id" in session:
            try:
                actor = auth.session_actor(
                    uow, int(session["user_id"]), int(session.get("epoch", 0))
                )
            except Unauthenticated:
                session.clear()
                raise
    g.actor = actor
    return actor


def require_actor() -> Actor:
    """The authenticated actor, or a 401 problem."""
    actor = current_actor()
    if actor is None:
        raise Unauthenticated("Sign in first, or send an API token.", code="auth.required")
    return actor


def start_session(user: User) -> str:
    """Bind the cookie session to ``user`` and return its new CSRF token."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["epoch"] = user.session_epoch
    token = secrets.token_urlsafe(32)
    session["csrf"] = token
    g.pop("actor", None)
    return token


def refresh_session_epoch(user: User) -> None:
    """Keep this session valid after an action that ended the user's other sessions."""
    if session.get("user_id") == user.id:
        session["epoch"] = user.session_epoch


def end_session() -> None:
    """Forget the cookie session."""
    session.clear()
    g.pop("actor", None)


def csrf_token() -> str | None:
    """The CSRF token of the cookie session, if any."""
    value = session.get("csrf")
    return str(value) if value else None


def _check_request() -> None:
    if not request.path.startswith("/api/"):
        return
    if request.endpoint in NON_JSON_ENDPOINTS:
        # Room for the file plus the multipart envelope; the service enforces the exact limit.
        limit = (
            packages.MAX_TOTAL_BYTES
            if request.endpoint == "apps.Import"
            else platform().settings.max_upload_bytes
        )
        request.max_content_length = limit + 64 * 1024
    if request.method in UNSAFE_METHODS and request.endpoint not in NON_JSON_ENDPOINTS:
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", ""
        )
        if has_body and not request.is_json:
            raise UnsupportedMediaType(
                f"Send the body as application/json (got {request.mimetype or 'no content type'})."
            )
    if (
        request.method in UNSAFE_METHODS
        and request.endpoint not in CSRF_EXEMPT
        and "user_id" in session
        and not request.headers.get("Authorization")
    ):
        expected = csrf_token()
        sent = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(expected, sent):
            raise PermissionDenied(
                f"The {CSRF_HEADER} header is missing or does not match this session.",
                code="auth.csrf",
            )


def init_app(app: Flask) -> None:
    """Install the per-request checks."""
    app.before_request(_check_request)


def remote_addr() -> str:
    """The caller's address (the proxy setup decides what ``remote_addr`` means)."""
    return request.remote_addr or "unknown"


def actor_payload(actor: Actor) -> dict[str, Any]:
    """A short description of the actor for responses."""
    return {"user_id": actor.user_id, "username": actor.username, "is_admin": actor.is_admin}
