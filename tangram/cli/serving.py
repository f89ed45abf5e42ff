"""``tangram serve --processes N``: the app in N gunicorn worker processes on one port.

One process is served by waitress with the embedded job worker (``make run``); several by
gunicorn's ``gthread`` workers, each with its own threads, configured here in code (no
configuration file, no command line of gunicorn's own). What makes several processes safe:

- each worker process creates the app, its database engine and its pool after the fork (the
  master opens no connection that the children would share; ``post_fork`` disposes one that
  would exist without closing the parent's sockets);
- no job worker runs inside them: ``tangram worker`` processes take the jobs;
- the metrics of all processes are added up through a folder of their own, fresh for each start,
  from which the files of a worker that exited are removed (``child_exit``);
- ``SIGTERM`` stops accepting connections and lets the requests running finish within the
  graceful timeout; gunicorn's own log lines go through Tangram's handler, in its format.

The master loads jieba's dictionary (the search words' segmenter) before it forks the workers:
each has it from the fork, sharing its memory, and no worker's first registration or search
waits for it (0.6 s on an idle machine, seconds while the other workers start and serve).
Each worker compiles the installed apps' forms, flows and rule books after it has loaded the
app and before it takes requests (``post_worker_init``: ``Platform.warm``), for the same reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from tangram.cli.ahead import compile_ahead
from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.records import search

#: How long a stopping process lets its running requests finish, in seconds.
GRACEFUL_SECONDS = 30
#: The environment variable prometheus-client reads, when imported, to share metrics.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class TangramLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's log (workers booting and exiting, errors) written by Tangram's handler, so that
    every line of the server has one format, JSON included."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """The app served by gunicorn: created in each worker process, after the fork."""

    def __init__(
        self,
        settings: Settings,
        options: dict[str, Any],
        metrics_dir: Path,
        forget_process: Callable[[int, str], None],
    ) -> None:
        self.settings = settings
        self.options = options
        self.metrics_dir = metrics_dir
        self.forget_process = forget_process
        #: This process's platform, once the app is loaded (in a worker, never in the master).
        self.platform: Platform | None = None
        super().__init__()

    def load_config(self) -> None:
        """Set the options and the process hooks (gunicorn calls it while constructing)."""
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_fork", self.post_fork)
        self.cfg.set("post_worker_init", self.post_worker_init)
        self.cfg.set("worker_exit", self.worker_exit)
        self.cfg.set("child_exit", self.child_exit)

    def load(self) -> Flask:
        """Create the app in this worker process (gunicorn loads it after forking)."""
        from tangram.web import create_app

        self.platform = Platform.from_settings(self.settings)
        return create_app(platform=self.platform, metrics_dir=self.metrics_dir)

    def post_fork(self, _server: Any, _worker: Any) -> None:
        """In a new worker: drop pooled connections inherited from the master, leaving them open
        for it (a connection used by two processes corrupts both sides' sessions)."""
        if self.platform is not None:
            self.platform.engine.dispose(close=False)

    def post_worker_init(self, _worker: Any) -> None:
        """In a worker whose app is loaded, before it takes requests: compile the installed apps'
        definitions (a worker that cannot is still served: the first requests compile them)."""
        if self.platform is not None:
            compile_ahead(self.platform)

    def worker_exit(self, _server: Any, _worker: Any) -> None:
        """In a worker that stops: close its connections instead of letting the server time
        them out."""
        if self.platform is not None:
            self.platform.dispose()

    def child_exit(self, _server: Any, worker: Any) -> None:
        """In the master, when a worker exited: drop its per-process metrics (the pool gauges),
        which would otherwise be reported as if it still ran. It runs in the master's SIGCHLD
        handler, which the next worker's exit may interrupt: it must not import anything."""
        self.forget_process(worker.pid, str(self.metrics_dir))


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for ``host`` and ``port`` (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def serve_processes(
    settings: Settings, *, host: str, port: int, processes: int, threads: int
) -> None:
    """Run gunicorn with ``processes`` workers of ``threads`` threads each until it is stopped
    (it exits the process). The metrics folder is made before anything imports prometheus-client,
    which reads its variable once, and removed when the server stops."""
    parent = os.environ.get(METRICS_DIR_VARIABLE) or None  # an operator's choice (a tmpfs)
    metrics_dir = Path(tempfile.mkdtemp(prefix="tangram-metrics-", dir=parent))
    os.environ[METRICS_DIR_VARIABLE] = str(metrics_dir)
    # imported now that the variable is set, and here rather than in a signal handler
    from prometheus_client import multiprocess

    options: dict[str, Any] = {
        "bind": bind_address(host, port),
        "workers": processes,
        "threads": threads,
        "worker_class": "gthread",
        "graceful_timeout": GRACEFUL_SECONDS,
        "preload_app": False,
        "proc_name": "tangram",
        "accesslog": None,  # Tangram logs each request itself (tangram.web.access)
        "errorlog": "-",
        "logger_class": TangramLogger,
    }
    search.segmenter()  # in the master: every worker has it from the fork
    try:
        GunicornServer(settings, options, metrics_dir, multiprocess.mark_process_dead).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
