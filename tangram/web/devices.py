"""Known devices: a signed cookie naming the user names that signed in from this browser.

The account lock (:mod:`tangram.platform.identity.lockout`) does not hold back a browser that
signed in to the name before, so a guesser elsewhere cannot lock the real user out. The cookie is
signed with the installation's secret key (it cannot be forged), lives for 180 days, is only
sent to the sign-in endpoints and holds a random device id with up to five user names.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tangram.platform.identity.lockout import normalize_username

COOKIE = "tangram_device"
PATH = "/api/v1/auth"
MAX_AGE_SECONDS = 180 * 24 * 3600
MAX_NAMES = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="tangram.device")


def _read() -> tuple[str | None, list[str]]:
    """The device id and user names of a valid cookie, or ``(None, [])``."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None, []
    try:
        payload: Any = _serializer().loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # tampered, foreign or expired: a device like any other
        return None, []
    if not isinstance(payload, dict):
        return None, []
    device, names = payload.get("d"), payload.get("u")
    if not isinstance(device, str) or not device or not isinstance(names, list):
        return None, []
    return device[:64], [n for n in names if isinstance(n, str)][:MAX_NAMES]


def known_device(username: str) -> str | None:
    """The id of this browser when it signed in to ``username`` before, else ``None``."""
    device, names = _read()
    return device if device is not None and normalize_username(username) in names else None


def remember(username: str, *, secure: bool) -> None:
    """After a successful sign-in: set the cookie (this browser now knows ``username``)."""
    device, names = _read()
    name = normalize_username(username)
    payload = {
        "d": device or secrets.token_urlsafe(16),
        "u": [name, *[n for n in names if n != name]][:MAX_NAMES],
    }
    value = _serializer().dumps(payload)

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            path=PATH,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response
