"""Who is calling: session cookies (with a CSRF token) for the SPA, bearer tokens for integrations.

The session cookie is Flask's signed cookie holding a random secret that names a server-side
session (:mod:`tangram.platform.identity.sessions`), which logout, a password change,
deactivation or an administrator can end; the cookie alone proves nothing once it has.

Every API operation requires a signed-in caller unless its view is marked :func:`public` (the
health check, signing in and out, public intake); the caller is authenticated before anything
reads the request's body or query, so an anonymous request answers 401 whatever it sends, never
422. Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by the session cookie must send the
session's CSRF token in ``X-CSRF-Token``; bearer-token requests carry no ambient credentials and
need none. Every API body must be JSON, which cross-site HTML forms cannot send.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask.views import MethodView
from flask_smorest import Blueprint

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth, sessions
from tangram.platform.identity.perms import Actor, Authenticated
from tangram.platform.kernel.errors import PermissionDenied, TangramError, Unauthenticated
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records import imports

#: The API operations: every one of them authenticates its caller unless marked public.
API_PREFIX = "/api/v1/"
#: The attribute :func:`public` sets on a view (class or function).
PUBLIC_MARK = "tangram_public"
#: How the OpenAPI document says an operation needs a signed-in caller (public ones: ``[]``).
SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
CSRF_HEADER = "X-CSRF-Token"
#: The session cookie's key holding the server-side session's secret.
SESSION_KEY = "sid"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Endpoints that take no CSRF token: signing in creates the session the token belongs to.
CSRF_EXEMPT = frozenset(
    {  # anonymous: nothing to forge
        "auth.Login",
        "intake.PublicForm",
        "intake.PublicUpload",
        "status.Replies",
        "status.Upload",
    }
)
#: Endpoints whose bodies are not JSON (file uploads); they accept up to max_upload_bytes.
NON_JSON_ENDPOINTS = frozenset(
    {"files.Upload", "intake.PublicUpload", "status.Upload", "apps.Import", "imports.RecordImport"}
)


class UnsupportedMediaType(TangramError):
    """The body is not JSON."""

    status = 415
    title = "Unsupported media type"
    default_code = "request.unsupported_media_type"


View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark a view (a ``MethodView`` class or a view function) as callable without signing in; a
    class's operations say so in the OpenAPI document (``security: []``). Put it under
    ``@blp.route``, which reads the methods' documentation."""
    setattr(view, PUBLIC_MARK, True)
    if isinstance(view, type) and issubclass(view, MethodView):
        for method in view.methods or ():
            name = method.lower()
            setattr(view, name, Blueprint.doc(security=[])(getattr(view, name)))
    return view


def is_public(endpoint: str) -> bool:
    """Whether the endpoint's view is marked :func:`public`."""
    view = current_app.view_functions.get(endpoint)
    return bool(
        getattr(view, PUBLIC_MARK, False)
        or getattr(getattr(view, "view_class", None), PUBLIC_MARK, False)
    )


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
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated(
                "Use 'Authorization: Bearer <token>'.", code="auth.scheme_unsupported"
            )
        actor = _token_actor(value)
    else:
        actor = _cookie_actor()
    g.actor = actor
    return actor


def _authenticated(check: Callable[[UnitOfWork], Authenticated]) -> Actor:
    """The actor a credential gives: one indexed lookup in a read-only unit, and the write
    noting its use, when one is due (at most once a minute), in a unit of its own."""
    p = platform()
    with p.unit_of_work(write=False) as uow:
        found = check(uow)
    if found.note_use is not None:
        with p.unit_of_work() as uow:
            found.note_use(uow)
            uow.commit()
    return found.actor


def _token_actor(value: str) -> Actor:
    """The actor of a bearer token."""
    return _authenticated(partial(auth.token_check, raw=value))


def _cookie_actor() -> Actor | None:
    """The actor of the session cookie. A cookie without a session secret (one made before
    sessions were kept on the server) is simply forgotten: signed out; so is one whose session
    is refused."""
    secret = session_secret()
    if secret is None:
        if session:
            session.clear()
        return None
    try:
        return _authenticated(partial(sessions.session_actor, secret=secret))
    except Unauthenticated:
        session.clear()
        raise


def require_actor() -> Actor:
    """The authenticated actor, or a 401 problem."""
    actor = current_actor()
    if actor is None:
        raise Unauthenticated("Sign in first, or send an API token.", code="auth.required")
    return actor


def session_secret() -> str | None:
    """The session secret the cookie carries, if any."""
    value = session.get(SESSION_KEY)
    return value if isinstance(value, str) and value else None


def start_session(secret: str) -> str:
    """Bind the cookie to a new server-side session (its ``secret``); return its CSRF token."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = secret
    token = secrets.token_urlsafe(32)
    session["csrf"] = token
    g.pop("actor", None)
    return token


def end_session() -> None:
    """Forget the cookie session (the server-side session is ended by the caller)."""
    session.clear()
    g.pop("actor", None)


def csrf_token() -> str | None:
    """The CSRF token of the cookie session, if any."""
    value = session.get("csrf")
    return str(value) if value else None


def _authenticate() -> None:
    """401 for an anonymous (or badly authenticated) call of an operation that is not public,
    before flask-smorest validates its body and query. Unknown paths stay 404."""
    endpoint = request.endpoint
    if (
        endpoint is None
        or endpoint == "spa"  # the front end's catch-all: no operation, a 404 below /api
        or request.method == "OPTIONS"
        or not request.path.startswith(API_PREFIX)
        or is_public(endpoint)
    ):
        return
    require_actor()


def _check_request() -> None:
    if not request.path.startswith("/api/"):
        return
    if request.endpoint in NON_JSON_ENDPOINTS:
        # Room for the file plus the multipart envelope; the service enforces the exact limit.
        limit = {
            "apps.Import": packages.MAX_TOTAL_BYTES,
            "imports.RecordImport": imports.MAX_BYTES,
        }.get(request.endpoint, platform().settings.max_upload_bytes)
        request.max_content_length = limit + 64 * 1024
    _authenticate()
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
        and SESSION_KEY in session
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
