"""One log line and one measurement per request.

Every answered request is logged at INFO on ``tangram.web.access`` (written in JSON, one object
per line, under ``TANGRAM_LOG_FORMAT=json``) with its request id (the ``X-Request-Id`` the
response carries and a 500's problem names), the signed-in user's id, the method, the route, the
status and the duration in milliseconds; and it is counted in the request metrics.

The route is the URL rule (``/api/v1/intake/<token>``), not the path: paths carry secrets (a
public intake link's token) and values users chose, which a log should not collect, and a
metric's labels must stay few.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from tangram.web.metrics import UNMATCHED, Metrics
from tangram.web.problems import request_id

log = logging.getLogger(__name__)


def _start() -> None:
    g.access_started = time.perf_counter()


def init_app(app: Flask, metrics: Metrics) -> None:
    """Time every request from before any other check to its final response. Call it before the
    other ``init_app``: the first ``before_request`` runs first and its ``after_request`` last."""

    def finish(response: Response) -> Response:
        started: float = g.get("access_started", time.perf_counter())
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else None
        metrics.observe(route, request.method, response.status_code, seconds)
        if log.isEnabledFor(logging.INFO):
            actor = g.get("actor")
            user_id = getattr(actor, "user_id", None)
            duration_ms = round(seconds * 1000, 1)
            rid = request_id()
            log.info(
                "%s %s %s %.1f ms request=%s user=%s",
                request.method,
                route or UNMATCHED,
                response.status_code,
                duration_ms,
                rid,
                "-" if user_id is None else user_id,
                extra={
                    "request_id": rid,
                    "user_id": user_id,
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        return response

    app.before_request(_start)
    app.after_request(finish)
