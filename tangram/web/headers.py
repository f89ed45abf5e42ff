"""Security headers on every response.

The front end is built by Vite into files the server serves from its own origin: no inline script,
no third-party source. Ant Design writes its styles at run time, so styles may be inline, and the
browser-side form validator (Ajv, through react-jsonschema-form) compiles the server's JSON Schemas
into functions, which takes ``'unsafe-eval'``; inline scripts stay refused. Uploaded files keep
their own stricter policy (``default-src 'none'; sandbox``, set where they are served).
"""

from __future__ import annotations

from flask import Flask, Response

#: The policy the single-page app satisfies: everything from this origin, images also as data and
#: blob URLs (previews of uploads), styles also inline (Ant Design's CSS-in-JS), scripts compiled by
#: the form validator; no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Set the security headers on every response (a response that set its own policy keeps it)."""

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
