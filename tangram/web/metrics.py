"""Prometheus metrics at ``/metrics``: requests, the job queue, the audit chain, the database pool.

What is measured, and why so:

- requests by route, method and status (``tangram_http_requests_total``) and their latency
  (``tangram_http_request_duration_seconds``, a histogram). The route is the URL rule
  (``/api/v1/apps/<app>/records/<form>/<int:record_id>``), never the path, and an unknown
  method counts as ``other``: what a client sends cannot grow the number of series;
- the job queue and the audit log, read from the database when Prometheus scrapes
  (:class:`BacklogCollector`, see :mod:`tangram.platform.kernel.backlog`): every process sees
  the same rows, so any app server reports the installation's whole queue;
- the connection pool of each process (``tangram_db_pool_connections``: checked out and idle),
  sampled after each request and at each scrape; pools are per process, so under several
  processes each reports its own (labelled by ``pid``).

Under gunicorn the processes share their figures through prometheus-client's multiprocess mode:
``tangram serve --processes N`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before
anything imports the library, each process writes its counters there, and a scrape (answered by
any process) adds them up. The library chooses the mode once per process from that variable, so
:func:`init_app` follows the same variable.

The figures are not public: with ``TANGRAM_METRICS_TOKEN`` a scraper sends it as a bearer token
(compared in constant time); administrators' sessions and API tokens may always read them; anyone
else gets the API's answers (401 signed out, 403 signed in without administration).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import require_admin
from tangram.platform.kernel import backlog
from tangram.web.security import require_actor

log = logging.getLogger(__name__)

PATH = "/metrics"
#: The label of a request that matched no route (an unknown path, a wrong method).
UNMATCHED = "<unmatched>"
#: Methods counted by name; any other counts as ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Latency buckets in seconds, from a cached read to a large export.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BacklogCollector(Collector):
    """Job counts by state and kind, the oldest due job's lag, the unanchored audit entries and
    the audit queue's length, read from the database at each scrape (three queries)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterator[Metric]:
        """The figures now; ``tangram_database_up`` is 0 (and nothing else is reported) when the
        database does not answer, so a scrape still succeeds and says so."""
        up = GaugeMetricFamily(
            "tangram_database_up", "Whether the database answered this scrape's queries (1 or 0)."
        )
        try:
            with self.platform.unit_of_work(write=False) as uow:
                jobs = backlog.job_backlog(uow.session, uow.now)
                unanchored = backlog.unanchored_audit_entries(uow.session)
                queued = backlog.queued_audit_entries(uow.session)
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_state = GaugeMetricFamily(
            "tangram_jobs",
            "Jobs by state: pending (waiting, due or not), due (to run now, or whose lease ran"
            " out), running (leased to a worker), dead (given up).",
            labels=["state"],
        )
        by_kind = GaugeMetricFamily(
            "tangram_jobs_by_kind",
            "Jobs by state and kind (webhook, mail, rollup.build, audit.checkpoint, ...).",
            labels=["state", "kind"],
        )
        for state in backlog.JOB_STATES:
            by_state.add_metric([state], jobs.total(state))
            for kind, number in sorted(jobs.counts.get(state, {}).items()):
                by_kind.add_metric([state, kind], number)
        yield by_state
        yield by_kind
        yield GaugeMetricFamily(
            "tangram_jobs_oldest_due_lag_seconds",
            "How long the oldest due job has been due (0 when none is): how far behind the"
            " workers are.",
            value=jobs.oldest_due_lag_seconds,
        )
        yield GaugeMetricFamily(
            "tangram_audit_unanchored_entries",
            "Audit entries written after the newest signed checkpoint.",
            value=unanchored,
        )
        yield GaugeMetricFamily(
            "tangram_audit_queued_entries",
            "Audit entries committed and waiting for the sequencer to chain them.",
            value=queued,
        )


class Metrics:
    """The metrics of one app: created once per process (after gunicorn forked it)."""

    def __init__(self, platform: Platform, multiprocess_dir: Path | None) -> None:
        self.platform = platform
        self.multiprocess_dir = multiprocess_dir
        # One process: a registry of this app's own (tests build many apps in one process).
        # Several: the values live in the shared folder, and a scrape reads them from there.
        self.registry = CollectorRegistry() if multiprocess_dir is None else None
        labels = ("route", "method", "status")
        self.requests = Counter(
            "tangram_http_requests",
            "HTTP requests answered, by route (the URL rule), method and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "tangram_http_request_duration_seconds",
            "Time to answer an HTTP request, by route (the URL rule), method and status.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.pool = Gauge(
            "tangram_db_pool_connections",
            "Database connections of this process's pool: checked_out (in use) and idle (open"
            " in the pool), sampled after each request and at each scrape.",
            ("state",),
            registry=self.registry,
            multiprocess_mode="liveall",  # per process: each has its own pool
        )
        self.backlog = BacklogCollector(platform)
        if self.registry is not None:
            self.registry.register(self.backlog)

    def observe(self, route: str | None, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        labels = (
            route or UNMATCHED,
            method if method in METHODS else "other",
            str(status),
        )
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)
        self.sample_pool()

    def sample_pool(self) -> None:
        """Record how many of this process's pooled connections are in use and idle (a pool
        that keeps no count, such as SQLite's in-memory one, is not reported)."""
        pool = self.platform.engine.pool
        if isinstance(pool, QueuePool):
            self.pool.labels("checked_out").set(pool.checkedout())
            self.pool.labels("idle").set(pool.checkedin())

    def render(self) -> bytes:
        """The text exposition of every metric, added up over the processes when there are
        several."""
        self.sample_pool()
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        registry.register(self.backlog)
        return generate_latest(registry)


def may_read(platform: Platform) -> None:
    """Let the caller through if they send the metrics token or are an administrator; otherwise
    raise the API's 401 or 403 problem."""
    token = platform.settings.metrics_token
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(sent.strip().encode(), token.encode())
    ):
        return
    require_admin(require_actor(), "read the metrics")


def init_app(app: Flask, platform: Platform, *, multiprocess_dir: Path | None) -> Metrics:
    """Create the app's metrics and serve them at :data:`PATH` (outside the API and its OpenAPI
    document: the exposition is Prometheus' text format, not JSON)."""
    metrics = Metrics(platform, multiprocess_dir)
    app.extensions["tangram_metrics"] = metrics

    @app.get(PATH, endpoint="metrics")
    def exposition() -> Response:
        may_read(platform)
        response = Response(metrics.render(), content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    return metrics
