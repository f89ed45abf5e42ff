"""The ``Idempotency-Key`` header on API writes (``POST``): a retry gets the first answer.

See :mod:`tangram.platform.kernel.idempotency`. The key is claimed before the request runs and its
answer kept after it, each in a transaction of its own; a replayed answer carries
``Idempotent-Replayed: true``. Streamed answers (downloads) are not kept.
"""

from __future__ import annotations

import re

from flask import Flask, Response, g, request

from tangram.platform.kernel import idempotency
from tangram.platform.kernel.errors import ValidationFailed
from tangram.web.security import current_actor, platform, remote_addr

HEADER = "Idempotency-Key"
#: A key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _caller() -> str:
    actor = current_actor()
    if actor is None:
        return f"anonymous:{remote_addr()}"[:100]
    if actor.token_id is not None:
        return f"token:{actor.token_id}"
    return f"user:{actor.user_id}"


def _claim() -> Response | None:
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or not request.path.startswith("/api/v1/"):
        return None
    if not _KEY.fullmatch(key):
        raise ValidationFailed(
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            code="idempotency.key",
            errors=[{"path": HEADER, "message": "1 to 255 visible ASCII characters"}],
        )
    caller = _caller()
    print_ = idempotency.fingerprint(
        request.method, request.path, request.query_string, request.get_data(cache=True)
    )
    with platform().unit_of_work() as uow:
        answer = idempotency.claim(uow, caller, key, print_)
        uow.commit()
    if answer is None:
        g.idempotency = (caller, key)
        return None
    replay = Response(answer.body, status=answer.status, content_type=answer.content_type)
    replay.headers["Idempotent-Replayed"] = "true"
    if answer.location:
        replay.headers["Location"] = answer.location
    return replay


def _settle(response: Response) -> Response:
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    caller, key = claimed
    answer = None
    if response.status_code < 500 and not response.is_streamed:
        answer = idempotency.Answer(
            response.status_code,
            response.content_type or "",
            response.get_data(as_text=True),
            response.headers.get("Location"),
        )
    with platform().unit_of_work() as uow:
        idempotency.settle(uow, caller, key, answer)
        uow.commit()
    return response


def init_app(app: Flask) -> None:
    """Claim keys before a request runs (after it is authenticated) and keep the answers."""
    app.before_request(_claim)
    app.after_request(_settle)
