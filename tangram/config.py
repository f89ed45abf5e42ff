"""Typed settings, read from ``TANGRAM_*`` environment variables by ``create_app`` and the CLI only.

Nothing below ``tangram.web`` / ``tangram.cli`` reads the environment: services receive a ``Settings``.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE = Path("instance")
#: The kinds of attachment store (``TANGRAM_FILE_STORE``).
FILE_STORES = ("local", "s3")


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one Tangram installation."""

    database_url: str = f"sqlite:///{DEFAULT_INSTANCE / 'tangram.db'}"
    secret_key: str = ""
    instance_path: Path = DEFAULT_INSTANCE
    #: Largest request body accepted, in bytes (larger ones get 413).
    max_request_bytes: int = 2 * 1024 * 1024
    #: Largest uploaded file, in bytes (a file field's ``max_size`` may lower it).
    max_upload_bytes: int = 20 * 1024 * 1024
    #: Submissions per address and hour through public intake links before 429; also the replies
    #: per address and hour on public status pages (counted apart).
    intake_max_per_hour: int = 20
    #: Where people reach the web app from outside (``https://service.example.com``): the start
    #: of the links mailed to customers (surveys). Empty: links are mailed as paths.
    public_url: str = ""
    #: Failed logins per (user name, address) inside the window before 429.
    login_max_failures: int = 5
    login_window_seconds: int = 900
    #: Failed logins per user name from all addresses together inside the window before the
    #: name is locked (browsers that signed in to it before are not locked out).
    login_account_max_failures: int = 10
    #: The first lock of a user name, in minutes; each lock in a row lasts twice as long as the
    #: one before, up to the longest.
    login_lock_minutes: int = 1
    login_lock_max_minutes: int = 15
    #: Session cookie over HTTPS only; turn on behind TLS.
    secure_cookies: bool = False
    #: How many reverse proxies stand in front of the app servers. Their ``X-Forwarded-For``,
    #: ``-Proto``, ``-Host`` and ``-Port`` headers are believed for that many hops, so the client's
    #: own address is what sign-in limits, intake limits and sessions see; 0 (the default) believes
    #: none, since a client could send them itself.
    trusted_proxies: int = 0
    #: A sign-in session ends this many hours after it began, however active.
    session_hours: int = 12
    #: ... and after this many minutes without a request (0: no idle timeout).
    session_idle_minutes: int = 30
    #: Run one job worker thread inside ``tangram serve``.
    embedded_worker: bool = True
    worker_poll_seconds: float = 2.0
    job_max_attempts: int = 5
    #: A failing job is given up (dead-lettered) only once it is this old, whatever its attempts:
    #: a short outage of what it calls is ridden out instead of losing the job.
    job_min_age_minutes: int = 10
    #: Argon2id cost of password hashes: passes over the memory, and the memory in KiB (about
    #: 0.25 s per hash with the defaults; hashes of another cost are rehashed at sign-in).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    job_lease_seconds: int = 300
    #: How often the audit chain's head is signed (a checkpoint anchors the entries before it).
    audit_checkpoint_minutes: int = 10
    #: How often a worker's audit sequencer looks for queued entries committed by other processes
    #: (entries committed by its own process wake it at once).
    audit_sequencer_poll_seconds: float = 0.1
    #: How long a write on SQLite waits for the single writer's lock before answering 503.
    sqlite_busy_seconds: float = 30.0
    log_sql: bool = False
    #: Webhook targets allowed although they resolve to private, loopback or link-local
    #: addresses: comma-separated host names or networks (``hooks.internal,10.1.0.0/16``).
    webhook_allow: str = ""
    webhook_timeout_seconds: float = 10.0
    #: Outgoing mail server (``smtp://user:password@host:587``, ``smtps://`` for TLS); without
    #: one, e-mail notifications are delivered in-app only.
    smtp_url: str = ""
    mail_from: str = "tangram@localhost"
    #: The domain inbound mail is addressed to (``mail.example.com``): a form's ``mail`` channel
    #: ``service`` receives what is sent to ``service@mail.example.com``. Empty: any domain.
    mail_domain: str = ""
    #: The largest inbound message, in bytes (bigger ones are refused with 552 while received).
    mail_max_bytes: int = 10 * 1024 * 1024
    #: Inbound messages one sender may send in an hour before further ones are refused.
    mail_max_per_hour: int = 20
    #: Time zone of business dates: serial numbers, date defaults, calendars.
    time_zone: str = "Asia/Shanghai"
    #: Answer reports and KPI cards from daily rollups where they can (see the reports docs).
    report_rollups: bool = True
    #: Where attachment bytes are kept: ``local`` (the folder ``<instance>/files``) or ``s3`` (an
    #: S3-compatible bucket, which every app server of an installation shares; credentials come
    #: from boto3's own environment: ``AWS_ACCESS_KEY_ID``, a profile, an instance role).
    file_store: str = "local"
    s3_bucket: str = ""
    #: Key prefix of the files inside the bucket (``tangram/files/``), so one bucket can hold
    #: several installations or other data.
    s3_prefix: str = ""
    #: Endpoint of an S3-compatible service other than AWS (MinIO, Ceph, ...): addressed
    #: path-style (``https://host/bucket/key``), which they all understand.
    s3_endpoint_url: str = ""
    s3_region: str = ""
    #: Bearer token that lets a Prometheus server read ``/metrics`` (compared in constant time).
    #: Without it only administrators' sessions and API tokens may read the metrics.
    metrics_token: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A relative folder is resolved once, against the working directory at start: every
        # reader then finds the same files (Flask's send_file resolves relative paths against
        # the package instead, so downloads from a relative instance folder failed).
        object.__setattr__(self, "instance_path", Path(self.instance_path).absolute())
        self._check_proxies()
        self._check_file_store()

    def _check_proxies(self) -> None:
        if not 0 <= self.trusted_proxies <= 10:
            raise SettingsError(
                f"TANGRAM_TRUSTED_PROXIES={self.trusted_proxies} must be between 0 and 10"
            )

    def _check_file_store(self) -> None:
        """Refuse a file store that cannot work at start, not at the first upload."""
        if self.file_store not in FILE_STORES:
            raise SettingsError(
                f"TANGRAM_FILE_STORE={self.file_store!r} is not one of {', '.join(FILE_STORES)}"
            )
        if self.file_store != "s3":
            return
        if not self.s3_bucket:
            raise SettingsError("TANGRAM_FILE_STORE=s3 needs TANGRAM_S3_BUCKET")
        if importlib.util.find_spec("boto3") is None:
            raise SettingsError(
                "TANGRAM_FILE_STORE=s3 needs boto3: install Tangram with its s3 extra"
                " (pip install 'tangram[s3]')"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``TANGRAM_<NAME>`` variables; ``overrides`` win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"TANGRAM_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _parse(f.name, raw, type(getattr(cls(), f.name)))
        values.update(overrides)
        settings = cls(**values)
        if "instance_path" in values and "database_url" not in values:
            settings = replace(
                settings, database_url=f"sqlite:///{Path(settings.instance_path) / 'tangram.db'}"
            )
        return settings

    def with_secret(self) -> Settings:
        """Return settings with a secret key: the configured one, else one kept in the instance folder."""
        if self.secret_key:
            return self
        path = Path(self.instance_path) / "secret_key"
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.write_text(key, encoding="utf-8")
            path.chmod(0o600)
        return replace(self, secret_key=key)


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if issubclass(kind, Path):
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(
            f"TANGRAM_{name.upper()}={raw!r} is not a valid {kind.__name__}"
        ) from exc
    return raw
