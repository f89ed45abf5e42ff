"""``create_app``: the Flask application factory."""

from __future__ import annotations

import http
import logging
import mimetypes
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import PathConverter

from tangram import __version__
from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import Clock
from tangram.web import access, decoding, headers, idempotency, metrics, problems, security
from tangram.web.api import health, register_blueprints

log = logging.getLogger(__name__)
STATIC_DIST = Path(__file__).resolve().parents[2] / "static" / "dist"


class TangramApi(Api):  # type: ignore[misc]
    """flask-smorest's ``Api`` answering every HTTP error as an RFC 9457 problem."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_responses(self) -> None:
        """The error responses every operation may give, as ``application/problem+json``: what
        the server sends (flask-smorest would document ``application/json``)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def handle_http_exception(self, error: Any) -> Response:
        return problems.handle_http_exception(error)


def create_app(
    settings: Settings | None = None,
    *,
    platform: Platform | None = None,
    clock: Clock | None = None,
    static_dir: Path | None = None,
    metrics_dir: Path | None = None,
) -> Flask:
    """Build the WSGI app. ``settings`` default to the environment; tests pass a ``platform``.

    ``metrics_dir`` is the folder several processes share their metrics through; by default
    ``PROMETHEUS_MULTIPROC_DIR``, the variable by which prometheus-client itself chose, when it
    was imported, whether this process writes its figures there (``tangram serve --processes``
    sets it)."""
    if platform is None:
        settings = (settings or Settings.from_env()).with_secret()
        platform = Platform.from_settings(settings, clock=clock)
    settings = platform.settings
    if not settings.secret_key:
        settings = settings.with_secret()
        platform.settings = settings

    app = Flask("tangram", static_folder=None)
    decoding.init_app(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_NAME="tangram_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # the cookie is set when it changes (sign-in, sign-out), not signed and sent again with
        # every answer: it expires with its server-side session's absolute end, session_hours
        # after the sign-in, and the idle timeout is the server's to keep
        SESSION_REFRESH_EACH_REQUEST=False,
        JSON_SORT_KEYS=False,
        API_TITLE="Tangram",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        # every operation needs a signed-in caller unless it says otherwise (security.public)
        API_SPEC_OPTIONS={"security": security.SECURITY},
    )
    app.extensions["tangram"] = platform

    if metrics_dir is None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    # first: its before_request runs before every other check, its after_request last
    access.init_app(app, metrics.init_app(app, platform, multiprocess_dir=metrics_dir))
    health.init_app(app)
    problems.init_app(app)
    headers.init_app(app)
    security.init_app(app)
    idempotency.init_app(app)
    api = TangramApi(app)
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "tangram_session"}
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    # an integer path segment beyond an id column's range matches no route (404): say so
    api.register_converter(
        decoding.BoundedInt, lambda _: {"type": "integer", "minimum": 0, "maximum": decoding.ID_MAX}
    )
    register_blueprints(api)
    _serve_spa(app, static_dir or STATIC_DIST)
    if settings.trusted_proxies:
        # outermost: every part of the app sees the client's address and scheme
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    return app


class _PagePath(PathConverter):
    """A path of the front end: anything but the API's (an unknown API path answers 404 for
    every method, not 405 because the front end's route takes GET)."""

    regex = r"(?!api(?:/|$))[^/].*?"


#: Compressed copies the build writes beside each file, best first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _asset(dist: Path, path: str) -> Response:
    """A file of the build: its brotli or gzip copy when the browser accepts one (written at build
    time), cached for a year when its name carries its content's hash (``assets/``), else asked
    again each time."""
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    chosen = next(
        (
            (coding, suffix)
            for coding, suffix in ENCODINGS
            if request.accept_encodings[coding] and (dist / f"{path}{suffix}").is_file()
        ),
        None,
    )
    if chosen is None:
        response = send_from_directory(dist, path)
    else:
        response = send_from_directory(dist, f"{path}{chosen[1]}", mimetype=mimetype)
        response.headers["Content-Encoding"] = chosen[0]
    response.vary.add("Accept-Encoding")
    hashed = path.startswith("assets/")
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if hashed else "no-cache"
    )
    return response


def _serve_spa(app: Flask, dist: Path) -> None:
    """Serve the built front end at ``/`` (any non-API path falls back to ``index.html``)."""

    app.url_map.converters["page"] = _PagePath

    @app.get("/", defaults={"path": ""})
    @app.get("/<page:path>")
    def spa(path: str) -> Response:
        from werkzeug.exceptions import NotFound

        if path.startswith("api/") or not (dist / "index.html").is_file():
            raise NotFound()
        if path and (dist / path).is_file():
            return _asset(dist, path)
        page = send_from_directory(dist, "index.html")
        page.headers["Cache-Control"] = "no-cache"  # it names the current build's files
        return page
