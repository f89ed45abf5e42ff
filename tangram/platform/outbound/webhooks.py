"""Outgoing webhooks: queued as jobs, signed, retried with back-off, dead-lettered, replayable.

A delivery is a ``webhook`` job written in the transaction of the rule that called it. The worker
POSTs the JSON body with these headers:

- ``X-Tangram-Timestamp``: Unix seconds at sending;
- ``X-Tangram-Signature``: ``sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">`` keyed with the
  app's webhook secret (``tangram webhooks secret APP`` prints it; administrators see it in the
  rule editor's webhook action, ``POST /api/v1/apps/{app}/webhooks/secret``, each time audited);
- ``Idempotency-Key``: one per delivery, the same on every retry, so receivers drop repeats.

Any answer other than 2xx, a redirect included, is a failure: the job is retried with back-off
and, after its last attempt, lands in the dead-letter list (``GET /api/v1/jobs?status=dead``),
from which an administrator replays it (``POST /api/v1/jobs/{id}/retry``).

Targets that resolve to private, loopback, link-local or otherwise non-public addresses are refused
unless allow-listed (``TANGRAM_WEBHOOK_ALLOW``). Queuing checks the URL and any literal address
without a DNS lookup (it runs inside the record's transaction); each attempt resolves the host and
checks every address before sending.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from tangram.config import Settings
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import App
from tangram.platform.kernel.uow import UnitOfWork

KIND = "webhook"
MAX_ATTEMPTS = 6


class TargetRefused(ValueError):
    """A webhook URL that may not be called."""


def secret(settings: Settings, app_key: str) -> str:
    """The app's webhook signing secret (derived from the installation's secret key)."""
    key = settings.with_secret().secret_key.encode()
    return hmac.new(key, f"webhook:{app_key}".encode(), hashlib.sha256).hexdigest()


def reveal_secret(uow: UnitOfWork, actor: Actor, app_key: str) -> dict[str, str]:
    """The app's signing secret for an administrator to hand to a receiver, with how to check a
    delivery; each reveal is audited (a credential was seen). 404 for an unknown app."""
    require_admin(actor, "see a webhook signing secret")
    app = uow.session.scalar(select(App).where(App.key == app_key))
    if app is None:
        raise NotFound(f"There is no app {app_key!r}.", code="app.not_found")
    uow.audit(actor.user_id, actor.label, "webhook.secret_shown", "app", app.id, {"app": app_key})
    return {
        "secret": secret(uow.settings, app_key),
        "signature_header": "X-Tangram-Signature",
        "timestamp_header": "X-Tangram-Timestamp",
        "algorithm": 'sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>',
    }


def sign(secret_text: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>.<body>"``."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret_text.encode(), message, hashlib.sha256).hexdigest()


def _allowed(
    settings: Settings,
) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for item in (p.strip() for p in settings.webhook_allow.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower())
    return hosts, networks


def check_target(
    settings: Settings,
    url: str,
    *,
    resolve: Callable[[str], list[str]] | None = None,
) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"{url!r} is not an http(s) URL")
    host = parts.hostname.lower()
    hosts, networks = _allowed(settings)
    if host in hosts:
        return
    try:
        addresses = (resolve or _resolve)(host)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host!r}: {exc}") from exc
    for text in addresses:
        address = ipaddress.ip_address(text)
        if any(address in n for n in networks):
            continue
        if not address.is_global:
            raise TargetRefused(
                f"{host!r} resolves to {address}, a non-public address; allow-list it in "
                "TANGRAM_WEBHOOK_ALLOW to call it"
            )


def _literal(host: str) -> list[str]:
    """The host itself when it is an IP address; names are resolved only when sending."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return []


def _resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def enqueue(
    uow: UnitOfWork,
    settings: Settings,
    *,
    app_key: str,
    url: str,
    event: str,
    source: str,
    record: Mapping[str, Any],
    data: Mapping[str, Any],
) -> int:
    """Queue one delivery (after checking the URL, without a DNS lookup) and return its job id."""
    check_target(settings, url, resolve=_literal)
    delivery = str(uuid.uuid4())
    body = {
        "event": event,
        "app": app_key,
        "rule": source,
        "delivery": delivery,
        "occurred_at": uow.now.isoformat(),
        "record": dict(record),
        "data": dict(data),
    }
    job = jobs.enqueue(
        uow,
        KIND,
        {"app": app_key, "url": url, "key": delivery, "body": body},
        max_attempts=MAX_ATTEMPTS,
    )
    return job.id


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a redirect could lead anywhere: it is a failed delivery


def deliverer(settings: Settings) -> jobs.Handler:
    """The job handler that sends deliveries for this installation."""
    opener = urllib.request.build_opener(_NoRedirect)

    def deliver(_uow: UnitOfWork, job: JobContext) -> None:
        payload = job.payload
        url = str(payload["url"])
        check_target(settings, url)
        body = json.dumps(payload["body"], ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(job.now.timestamp())
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Tangram-Webhooks/1",
                "X-Tangram-Timestamp": str(timestamp),
                "X-Tangram-Signature": sign(secret(settings, str(payload["app"])), timestamp, body),
                "Idempotency-Key": str(payload["key"]),
            },
        )
        try:
            with opener.open(request, timeout=settings.webhook_timeout_seconds) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{url} answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"{url} could not be reached: {exc}") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"{url} answered {status}")

    return deliver
