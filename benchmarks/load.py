"""Tangram under load: ``tangram serve --processes 4`` and two ``tangram worker`` processes on
PostgreSQL with the after-sales package, beside two baselines in the same run — a bare app that
replays Tangram's own statements and a bare Flask + SQLAlchemy app doing the essential rows by
hand —; then how throughput grows with processes, then whether anything was lost.

    .venv/bin/python benchmarks/load.py [--clients 16] [--run-time 40] [--scaling-time 20]
        [--tickets 20] [--server postgresql+psycopg://postgres@127.0.0.1:5432]

1. A database ``load_bench`` is created on the server (dropped first if it exists), migrated and
   seeded with the after-sales demo (``tangram demo seed``); its copies ``load_bench_baseline``
   and ``load_bench_replay`` are what the baselines write to.
2. The cockpit is opened once in this process, cold, and the aggregate statements it runs are
   kept for the bare baseline to replay. Then each request type of the mix is made through
   Tangram in this process on the replay's copy, once to warm it (the cockpit's rollups built
   meanwhile, as the workers build them under load) and once recorded, with the copy's
   sequences spread first (``load_replay``) — the registrations, the inbox, the task view and
   the submit once per quality engineer. Unloaded, one client: each request type
   through Tangram and through the replay, in turns, in this process (``--unloaded`` rounds).
3. The bare baseline, the replay, then Tangram: locust (headless, a subprocess: it patches with
   gevent) runs the mix of ``benchmarks/locustfile.py`` with the same clients for the same time
   against each, served by gunicorn with the same settings (processes, threads); two
   ``tangram worker`` processes run Tangram's jobs throughout.
4. Scaling: the registration mix at 1, 2 and 4 processes (gunicorn in each case).
5. Checks, after the workers had time to run what is due: the replay wrote a ticket for every
   registration and closed a task for every submit it answered; every ticket that got a 201
   from Tangram is stored with its projection row; no job is left running or overdue, none is
   dead and every finished one was claimed once; ``tangram audit verify`` exits 0 with nothing
   waiting.

Prints the unloaded means; per request type the statements Tangram ran, requests/s, p50/p95/p99 and
errors for all three, the p50 ratios; where each run's CPU went, per answered request (the
server's processes, PostgreSQL's, the job workers', locust's, the machine's in all); the scaling
and the checks; exits 1 if a check failed or any answer was a 5xx. The databases are dropped at
the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import pickle
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from sqlalchemy import create_engine, event, text

if TYPE_CHECKING:
    from load_replay import Recorder, Script

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH = Path(__file__).resolve().parent
DATABASE = "load_bench"
PASSWORD = "tangram-demo"  # noqa: S105 - the demo package's (apps/aftersales/demo/seed.json)
#: Statements of the cockpit that are Tangram's bookkeeping, not the dashboard's data.
BOOKKEEPING = re.compile(
    r"\b(user_sessions|roles|grants|memberships|apps|definitions|definition_versions|audit_log|"
    r"api_tokens|users)\b"
)


#: Who shares the machine's cores during a run, as ``CpuShares`` reports them.
CPU_GROUPS = ("app", "database", "workers", "locust")


class CpuShares:
    """The CPU time (user and system) each part of the machine spent during one locust run: the
    server's processes, PostgreSQL's, the job workers', locust's (a child of this process,
    measured when it has exited), and the machine's busy time in all.

    Each process counts what it spent since the run began (all of it if it started during the
    run); one that exited during the run counts nothing, rather than taking what it had spent
    before the run away from the others (the previous server's connections end as it begins)."""

    def __init__(self, server: psutil.Process, workers: Sequence[int]) -> None:
        self.server = server
        self.workers = [psutil.Process(pid) for pid in workers]
        self.begin = self._read()

    @staticmethod
    def _spent(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:  # it exited while it was read
            return 0.0
        return float(times.user + times.system)

    def _groups(self) -> dict[str, list[psutil.Process]]:
        def tree(root: psutil.Process) -> list[psutil.Process]:
            try:
                return [root, *root.children(recursive=True)]
            except psutil.Error:
                return []

        database = [
            process
            for process in psutil.process_iter(["name"])
            if process.info["name"] in ("postgres", "postgresql")
        ]
        workers = [process for worker in self.workers for process in tree(worker)]
        return {"app": tree(self.server), "database": database, "workers": workers}

    def _read(self) -> dict[str, Any]:
        busy = psutil.cpu_times()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            **{
                group: {process.pid: self._spent(process) for process in processes}
                for group, processes in self._groups().items()
            },
            "locust": children.ru_utime + children.ru_stime,
            "machine": float(busy.user + busy.nice + busy.system + busy.irq + busy.softirq),
            "wall": time.monotonic(),
        }

    def end(self) -> dict[str, float]:
        """Seconds of CPU per part since this was made (``wall``: seconds of the run)."""
        now = self._read()
        spent = {key: float(now[key] - self.begin[key]) for key in ("locust", "machine", "wall")}
        for group in ("app", "database", "workers"):
            before = self.begin[group]
            spent[group] = sum(cpu - before.get(pid, 0.0) for pid, cpu in now[group].items())
        return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--run-time", type=int, default=40, help="seconds of each main run")
    parser.add_argument("--scaling-time", type=int, default=20, help="seconds of each scaling run")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tickets", type=int, default=20, help="demo tickets seeded first")
    parser.add_argument("--port", type=int, default=5951)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument(
        "--unloaded",
        type=int,
        default=60,
        help="rounds of the unloaded comparison with the replay, before the runs (0: none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tangram-load-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            return bench.run()
        finally:
            bench.stop_all()
            if not args.keep:
                bench.drop_databases()


class Bench:
    """One run: its databases, its processes, what locust reported."""

    def __init__(self, args: argparse.Namespace, scratch: Path) -> None:
        self.args = args
        self.scratch = scratch
        self.url = f"{args.server}/{DATABASE}"
        self.baseline_url = f"{args.server}/{DATABASE}_baseline"
        self.replay_url = f"{args.server}/{DATABASE}_replay"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.board: Any = None  # the replay's BoardManager while the replay serves
        self.created = scratch / "created.txt"
        self.five_xx = 0
        #: CPU seconds per part of the machine during each locust run (``CpuShares``).
        self.cpu: dict[str, dict[str, float]] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TANGRAM_")}
        self.env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            TANGRAM_DATABASE_URL=self.url,
            TANGRAM_SECRET_KEY="load-secret-key-" + "0" * 32,
            TANGRAM_INSTANCE_PATH=str(scratch / "instance"),
            TANGRAM_LOG_LEVEL="WARNING",
        )

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        self.prepare()
        load = os.getloadavg()
        print(
            f"machine: {os.cpu_count()} cores; load average before the run "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        base = f"http://127.0.0.1:{self.args.port}"
        self.start_workers()
        self.start_baseline("load_baseline")
        baseline = self.locust("baseline", base, "full", self.args.run_time)
        self.stop_servers()
        written = self.replay_writes()
        self.start_baseline("load_replay")
        replay = self.locust("replay", base, "full", self.args.run_time)
        self.stop_servers()
        replayed = self.check_replay(written)
        self.start_tangram(self.args.processes, cli=True)
        token = self.token(base)
        tangram = self.locust("tangram", base, "full", self.args.run_time, token=token)
        self.stop_servers()
        self.report(tangram, replay, baseline)
        scaling: dict[int, float] = {}
        if not self.args.no_scaling:
            for n in sorted({1, 2, self.args.processes}):
                self.start_tangram(n, cli=False)
                stats = self.locust(f"scale{n}", base, "register", self.args.scaling_time, token)
                self.stop_servers()
                scaling[n] = sum(s["rps"] for k, s in stats.items() if k.startswith("register"))
            print(f"\nscaling: the registration mix, {self.args.clients} clients, gunicorn")
            print(f"{'processes':>9} {'tickets/s':>10} {'vs 1':>6}")
            for n, rps in scaling.items():
                print(f"{n:>9} {rps:>10.1f} {rps / scaling[1]:>5.2f}x")
        ok = self.checks() and replayed
        load = os.getloadavg()
        print(
            f"\nload average after the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
            f"{time.monotonic() - started:.0f} s in all"
        )
        if self.five_xx:
            print(f"FAILED: {self.five_xx} answers were 5xx")
            self.print_server_errors()
        return 0 if ok and not self.five_xx else 1

    def print_server_errors(self, most: int = 3) -> None:
        """The first tracebacks the servers logged (their logs go with the scratch directory)."""
        shown = 0
        for log in sorted([*self.scratch.glob("tangram*.log"), *self.scratch.glob("load_*.log")]):
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            for start, line in enumerate(lines):
                if shown < most and line.startswith("Traceback"):
                    end = start + 1
                    while end < len(lines) and (lines[end].startswith(" ") or end == start + 1):
                        end += 1
                    print(f"\n{log.name}, line {start + 1}:")
                    print("\n".join(lines[max(0, start - 3) : end + 1]))
                    shown += 1

    def prepare(self) -> None:
        """The database, migrated and seeded; its copy for the baseline; the cockpit's SQL."""
        self.drop_databases()
        self.admin(f"CREATE DATABASE {DATABASE}")
        self.tangram("db", "upgrade")
        began = time.monotonic()
        self.tangram(
            "demo", "seed", "--tickets", str(self.args.tickets), "--package", "apps/aftersales"
        )
        print(f"seeded {self.args.tickets} demo tickets in {time.monotonic() - began:.0f} s")
        self.capture_cockpit()
        self.admin(f"CREATE DATABASE {DATABASE}_baseline TEMPLATE {DATABASE}")
        self.admin(f"CREATE DATABASE {DATABASE}_replay TEMPLATE {DATABASE}")
        self.record_scripts()
        if self.args.unloaded:
            self.unloaded(self.args.unloaded)

    def in_process(self, url: str) -> Any:
        """A platform in this process on the database ``url``, with the servers' settings and
        no embedded worker."""
        from tangram.config import Settings
        from tangram.platform.bootstrap import Platform

        environ = {**self.env, "TANGRAM_DATABASE_URL": url}
        return Platform.from_settings(
            Settings.from_env(environ, embedded_worker=False).with_secret()
        )

    def capture_cockpit(self) -> None:
        """Open the cockpit as a manager in this process, cold, and keep its data statements."""
        from tangram.web import create_app

        platform = self.in_process(self.url)
        statements: list[tuple[str, Any]] = []

        def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and not BOOKKEEPING.search(
                statement
            ):
                statements.append((statement, parameters))

        try:
            client = create_app(platform=platform).test_client()
            client.post("/api/v1/auth/login", json={"username": "director", "password": PASSWORD})
            event.listen(platform.engine, "before_cursor_execute", keep)
            answer = client.get("/api/v1/apps/aftersales/dashboards/cockpit/data")
            assert answer.status_code == 200, answer.get_data(as_text=True)
        finally:
            platform.dispose()
        (self.scratch / "cockpit.pickle").write_bytes(pickle.dumps(statements))
        print(f"cockpit: {len(statements)} data statements kept for the baseline")

    def record_scripts(self) -> None:
        """Make each request type through Tangram in this process, on the replay's copy of the
        database, and keep the statements it sent (``load_replay``): a first time to warm the
        caches (and to build the cockpit's rollups, which the job workers build at the start of
        a run), then with the copy's sequences spread, recorded."""
        from load_replay import Recorder, mark_remaps, spread_generators

        from tangram.platform.worker import Worker
        from tangram.web import create_app

        platform = self.in_process(self.replay_url)
        recorder = Recorder()
        try:
            app = create_app(platform=platform)
            people = Clients(app)
            # warm: every request type once (the submit on the first ticket's task)
            warm = people.register("agent01")
            people.register("agent04", token=True)
            people.list("agent01")
            people.work(*people.respond_task(platform, warm))
            people.cockpit("director")  # asks for its rollups: built, as the workers do under load
            Worker(platform, name="load-recording").run_due()
            people.cockpit("director")
            with platform.engine.begin() as connection:
                spread_generators(connection)
            scripts: dict[str, list[Script]] = {}
            tickets: dict[str, tuple[int, int]] = {}  # engineer: the ticket and its task
            for name, agent, token in (
                ("register ticket", "agent01", False),
                ("register ticket (token)", "agent04", True),
            ):
                scripts[name] = self.record_per_engineer(
                    recorder, platform, people, agent, token, tickets
                )
            recorder.start()
            people.list("agent01")
            scripts["list tickets"] = [recorder.stop()]
            for engineer, (_, task_id) in tickets.items():
                people.inbox(engineer)  # signed in before the recording
                for name in ("inbox", "task view", "task submit"):
                    recorder.start()
                    people.work(engineer, task_id, only=name)
                    script = recorder.stop()
                    script.engineer = engineer
                    scripts.setdefault(name, []).append(script)
            recorder.start()
            people.cockpit("director")
            scripts["cockpit"] = [recorder.stop()]
        finally:
            recorder.close()
            platform.dispose()
        registered = {s.engineer: s for s in scripts["register ticket"]}
        for script in scripts["register ticket (token)"]:
            script.align(registered[script.engineer])
        for name, recorded in scripts.items():
            for script in recorded:
                ticket = (
                    registered[script.engineer].generated()
                    if name in ("task view", "task submit")
                    else []
                )
                mark_remaps(script, script.generated() + ticket)
        self.statements = {
            name: round(sum(s.statements() for s in recorded) / len(recorded))
            for name, recorded in scripts.items()
        }
        (self.scratch / "scripts.pickle").write_bytes(pickle.dumps(scripts))
        print(
            "replay: statements recorded per request, "
            + ", ".join(f"{n} {c}" for n, c in self.statements.items())
            + f"; per quality engineer: {', '.join(tickets)}"
        )

    @staticmethod
    def record_per_engineer(
        recorder: Recorder,
        platform: Any,
        people: Clients,
        agent: str,
        token: bool,
        tickets: dict[str, tuple[int, int]],
    ) -> list[Script]:
        """Registrations recorded until each quality engineer has had one dispatched to them
        (the product lines in turn: each line's tickets go to that line's engineers, the least
        busy first); each with its engineer, the first of each engineer's tickets noted in
        ``tickets`` for the work recorded on it."""
        engineers: list[str] = locustfile().ENGINEERS
        recorded: dict[str, Script] = {}
        lines = itertools.cycle("ABC")
        for _ in range(6 * len(engineers)):
            recorder.start()
            ticket = people.register(agent, token=token, line=next(lines))
            script = recorder.stop()
            engineer, task_id = people.respond_task(platform, ticket)
            if engineer not in recorded:
                script.engineer = engineer
                recorded[engineer] = script
                tickets.setdefault(engineer, (ticket, task_id))
            if len(recorded) == len(engineers):
                break
        else:
            missing = sorted(set(engineers) - set(recorded))
            raise SystemExit(f"recording: no registration was dispatched to {missing}")
        return [recorded[e] for e in engineers]

    def unloaded(self, rounds: int) -> None:
        """One client, no load: each request type through Tangram's test client and through
        the replay, in turns, in this process, on the replay's database; mean times."""
        from load_replay import Replayer

        from tangram.web import create_app

        scripts = pickle.loads((self.scratch / "scripts.pickle").read_bytes())  # noqa: S301
        replayer = Replayer(self.replay_url, scripts)
        platform = self.in_process(self.replay_url)
        times: dict[tuple[str, str], list[float]] = {}

        def timed(who: str, name: str, request: Any) -> Any:
            began = time.perf_counter()
            answer = request()
            times.setdefault((who, name), []).append(time.perf_counter() - began)
            return answer

        try:
            people = Clients(create_app(platform=platform))
            for n in range(rounds + 3):  # the first three warm both
                ticket = timed("tangram", "register ticket", lambda: people.register("agent01"))
                timed("replay", "register ticket", lambda: replayer.replay("register ticket"))
                timed(
                    "tangram",
                    "register ticket (token)",
                    lambda: people.register("agent04", token=True),
                )
                timed(
                    "replay",
                    "register ticket (token)",
                    lambda: replayer.replay("register ticket (token)"),
                )
                timed("tangram", "list tickets", lambda: people.list("agent01"))
                timed("replay", "list tickets", lambda: replayer.replay("list tickets"))
                engineer, task_id = people.respond_task(platform, ticket)
                people.session(engineer)
                number = replayer.take()
                assert number is not None
                taken = replayer.taken.pop(number)
                for name in ("inbox", "task view", "task submit"):
                    timed("tangram", name, lambda: people.work(engineer, task_id, only=name))  # noqa: B023
                    timed("replay", name, lambda: replayer.replay(name, taken))  # noqa: B023
                if n % 3 == 0:  # the cockpit after the round's writes (and the last rounds')
                    timed("tangram", "cockpit", lambda: people.cockpit("director"))
                    timed("replay", "cockpit", lambda: replayer.replay("cockpit"))
        finally:
            platform.dispose()
            replayer.engine.dispose()
            replayer.autocommit.dispose()
        print(f"unloaded: one client in this process, {rounds} rounds, mean ms")
        print(f"{'request':<24} {'tangram':>8} {'replay':>8} {'ratio':>6}")
        for name in REQUESTS:
            tangram, replay = (times.get((who, name), [])[3:] for who in ("tangram", "replay"))
            if tangram and replay:
                ours, theirs = sum(tangram) / len(tangram), sum(replay) / len(replay)
                print(
                    f"{name:<24} {ours * 1000:>8.1f} {theirs * 1000:>8.1f} {ours / theirs:>5.1f}x"
                )

    # --- processes ----------------------------------------------------------------------------

    def spawn(self, command: Sequence[str], log: str, env: dict[str, str] | None = None) -> None:
        out = (self.scratch / log).open("ab")
        self.processes.append(
            subprocess.Popen(  # noqa: S603 - our own commands
                list(command), cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT
            )
        )

    def start_workers(self) -> None:
        self.workers = [
            self._spawned([str(BIN / "tangram"), "worker"], f"worker{i}.log")
            for i in range(self.args.workers)
        ]

    def _spawned(self, command: Sequence[str], log: str) -> subprocess.Popen[bytes]:
        self.spawn(command, log)
        return self.processes[-1]

    def start_tangram(self, processes: int, *, cli: bool) -> None:
        """``tangram serve --processes N`` (``cli``), or the same gunicorn server for any N
        (``serve`` runs a single process with waitress instead)."""
        port = str(self.args.port)
        if cli:
            command = [str(BIN / "tangram"), "serve", "--processes", str(processes), "--port", port]
        else:
            command = [
                sys.executable,
                "-c",
                "import sys; from tangram.config import Settings; "
                "from tangram.cli.serving import serve_processes; "
                "serve_processes(Settings.from_env().with_secret(), host='127.0.0.1', "
                "port=int(sys.argv[1]), processes=int(sys.argv[2]), threads=int(sys.argv[3]))",
                port,
                str(processes),
                str(self.args.threads),
            ]
        if cli:
            command += ["--threads", str(self.args.threads)]
        self.server = self._spawned(command, f"tangram{processes}.log")
        self.wait_ready(f"http://127.0.0.1:{port}/api/v1/health")

    def start_baseline(self, module: str) -> None:
        """A baseline app (``load_baseline`` or ``load_replay``) under gunicorn, with the
        settings ``tangram serve --processes N`` uses."""
        env = {
            **self.env,
            "LOAD_BASELINE_DATABASE_URL": self.baseline_url,
            "LOAD_BASELINE_COCKPIT": str(self.scratch / "cockpit.pickle"),
            "LOAD_REPLAY_DATABASE_URL": self.replay_url,
            "LOAD_REPLAY_SCRIPTS": str(self.scratch / "scripts.pickle"),
            "LOAD_REPLAY_ANSWERED": str(self.scratch / "answered.jsonl"),
            "PYTHONPATH": str(BENCH),
        }
        if module == "load_replay":
            env["LOAD_REPLAY_BOARD"] = self.start_board()
        command = [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.args.port}",
            "--workers",
            str(self.args.processes),
            "--threads",
            str(self.args.threads),
            "--worker-class",
            "gthread",
            "--graceful-timeout",
            "30",
            f"{module}:create_app()",
        ]
        self.spawn(command, f"{module}.log", env)
        self.server = self.processes[-1]
        self.wait_ready(
            f"http://127.0.0.1:{self.args.port}/records/ticket?limit=1", any_answer=True
        )

    def wait_ready(self, url: str, *, any_answer: bool = False) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"the server exited with {self.server.returncode}: see its log")
            try:
                with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our own server
                    return
            except urllib.error.HTTPError:
                if any_answer:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{url} did not answer within 60 s")

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM, then wait (the servers let running requests finish)."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.processes:
            self.processes.remove(process)

    def start_board(self) -> str:
        """The replay's board of waiting tickets, served to its processes (``load_replay``);
        its address."""
        from load_replay import BOARD_KEY, BoardManager

        address = str(self.scratch / "board")
        self.board = BoardManager(address=address, authkey=BOARD_KEY)
        self.board.start()
        return address

    def stop_board(self) -> None:
        if self.board is not None:
            self.board.shutdown()
            self.board = None

    def stop_servers(self) -> None:
        self.stop(self.server)
        self.stop_board()

    def stop_all(self) -> None:
        for process in list(self.processes):
            self.stop(process)
        self.stop_board()

    def tangram(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command
            [str(BIN / "tangram"), *arguments],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )

    # --- locust -------------------------------------------------------------------------------

    def token(self, base: str) -> str:
        """An API token of agent04, minted through a signed-in session as a user would."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

        def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            request = urllib.request.Request(  # noqa: S310 - our own server
                base + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", **headers},
            )
            with opener.open(request) as answer:
                return json.load(answer)

        me = post("/api/v1/auth/login", {"username": "agent04", "password": PASSWORD}, {})
        made = post("/api/v1/auth/tokens", {"name": "load"}, {"X-CSRF-Token": me["csrf_token"]})
        return str(made["token"])

    def locust(
        self, label: str, host: str, mix: str, seconds: int, token: str = ""
    ) -> dict[str, dict[str, float]]:
        """Run locust headless; its stats per request name (and the 5xx counted)."""
        prefix = self.scratch / label
        env = {
            **self.env,
            "LOAD_TARGET": "baseline" if label in ("baseline", "replay") else "tangram",
            "LOAD_MIX": mix,
            "LOAD_TOKEN": token,
            "LOAD_PASSWORD": PASSWORD,
            "LOAD_CREATED": str(self.created),
        }
        command = [
            str(BIN / "locust"),
            "-f",
            str(BENCH / "locustfile.py"),
            "--headless",
            "--host",
            host,
            "--users",
            str(self.args.clients),
            "--spawn-rate",
            str(self.args.clients),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "30",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        if mix == "register":
            command += ["Registrar", "Integration"]
        shares = CpuShares(psutil.Process(self.server.pid), [w.pid for w in self.workers])
        done = subprocess.run(  # noqa: S603 - our own command
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        self.cpu[label] = shares.end()
        (self.scratch / f"{label}.locust.log").write_text(done.stdout + done.stderr)
        stats: dict[str, dict[str, float]] = {}
        with open(f"{prefix}_stats.csv", encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                if row["Name"] == "Aggregated":
                    continue
                stats[row["Name"]] = {
                    "count": float(row["Request Count"]),
                    "errors": float(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": float(row["50%"]),
                    "p95": float(row["95%"]),
                    "p99": float(row["99%"]),
                }
        with open(f"{prefix}_failures.csv", encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                # locust words a failure as HTTP 500 or CatchResponseError('HTTP 500')
                if re.search(r"HTTP 5\d\d", row["Error"]) or "HTTP" not in row["Error"]:
                    self.five_xx += int(row["Occurrences"])
                print(f"  {label}: {row['Name']}: {row['Error']} x{row['Occurrences']}")
        return stats

    def report(
        self, tangram: dict[str, Any], replay: dict[str, Any], baseline: dict[str, Any]
    ) -> None:
        print(
            f"\n{self.args.clients} clients, {self.args.run_time} s each, {self.args.processes}"
            f" processes x {self.args.threads} threads (gunicorn), {self.args.workers} workers;"
            " times in ms; replay: Tangram's statements replayed bare, bare: the essential rows"
            " by hand"
        )
        print(
            f"{'request':<24} {'':>8} {'stmts':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
            f" {'errors':>6} {'p50 ratio':>9}"
        )
        for name in sorted(tangram):
            for who, stats in (("tangram", tangram), ("replay", replay), ("bare", baseline)):
                s = stats.get(name)
                if s is None:
                    continue
                statements = self.statements.get(name, "") if who != "bare" else ""
                ratio = ""
                if who != "tangram" and s["p50"] and name in tangram:
                    ratio = f"{tangram[name]['p50'] / s['p50']:.1f}x"
                print(
                    f"{name if who == 'tangram' else '':<24} {who:>8} {statements:>5}"
                    f" {s['rps']:>7.1f} {s['p50']:>6.0f} {s['p95']:>6.0f} {s['p99']:>6.0f}"
                    f" {s['errors']:>6.0f} {ratio:>9}"
                )
        self.report_cpu({"baseline": baseline, "replay": replay, "tangram": tangram})

    def report_cpu(self, runs: dict[str, dict[str, Any]]) -> None:
        """Where each run's CPU went, per answered request: under load the cores are shared by
        the server, PostgreSQL, the job workers and locust, and a request waits for its share."""
        cores = os.cpu_count() or 1
        print("\nCPU during each run, ms per answered request; busy: the machine's cores in use")
        print(
            f"{'run':<8} {'answers':>7} "
            + " ".join(f"{g:>8}" for g in CPU_GROUPS)
            + f" {'machine':>8} {'busy':>5}"
        )
        for label, stats in runs.items():
            cpu = self.cpu.get(label)
            answers = sum(s["count"] for s in stats.values())
            if cpu is None or not answers:
                continue
            shares = " ".join(f"{cpu[g] * 1000 / answers:>8.2f}" for g in CPU_GROUPS)
            busy = cpu["machine"] / (cpu["wall"] * cores)
            print(
                f"{label:<8} {answers:>7.0f} {shares} {cpu['machine'] * 1000 / answers:>8.2f}"
                f" {busy:>5.0%}"
            )

    # --- checks -------------------------------------------------------------------------------

    def checks(self) -> bool:
        """Nothing lost: the tickets, the jobs, the audit chain."""
        engine = create_engine(self.url)
        ok = True
        try:
            ids = (
                [int(n) for n in self.created.read_text().split()] if self.created.exists() else []
            )
            with engine.connect() as c:
                app_id = c.execute(text("SELECT id FROM apps WHERE key = 'aftersales'")).scalar()
                table = f"rp_{app_id}_ticket"
                stored = c.execute(
                    text(
                        f"SELECT count(*) FROM records r JOIN {table} p ON p._id = r.id"
                        " WHERE r.id = ANY(:ids)"
                    ),
                    {"ids": ids},
                ).scalar_one()
            print(f"\ntickets: {len(ids)} got a 201, {stored} stored with their projection row")
            ok &= stored == len(ids) == len(set(ids))
            ok &= self.check_jobs(engine)
        finally:
            engine.dispose()
        for worker in self.workers:
            self.stop(worker)
        verify = subprocess.run(  # noqa: S603 - our own command
            [str(BIN / "tangram"), "audit", "verify", "--json"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        result = json.loads(verify.stdout or "{}")
        print(f"audit verify: exit {verify.returncode}, {result}")
        ok &= verify.returncode == 0 and result.get("waiting", 1) == 0
        print("checks: " + ("passed" if ok else "FAILED"))
        return ok

    def replay_writes(self) -> tuple[int, int]:
        """The replay's database: its tickets, and its first-response tasks done."""
        engine = create_engine(self.replay_url)
        try:
            with engine.connect() as c:
                tickets, done = c.execute(
                    text(
                        "SELECT (SELECT count(*) FROM records WHERE form_key = 'ticket'),"
                        " (SELECT count(*) FROM tasks WHERE node = 'respond' AND status = 'done')"
                    )
                ).one()
        finally:
            engine.dispose()
        return int(tickets), int(done)

    def check_replay(self, before: tuple[int, int]) -> bool:
        """The replay wrote what it answered for: a ticket for each registration, a done
        first-response task for each submit (its processes count what they answered: locust's
        figures leave out the last requests)."""
        answered: dict[str, int] = {}
        counts = self.scratch / "answered.jsonl"
        for line in counts.read_text().splitlines() if counts.exists() else []:
            for name, n in json.loads(line).items():
                answered[name] = answered.get(name, 0) + n
        after = self.replay_writes()
        tickets, done = after[0] - before[0], after[1] - before[1]
        registered = answered.get("register ticket", 0) + answered.get("register ticket (token)", 0)
        submitted = answered.get("task submit", 0)
        print(
            f"replay: {tickets} tickets written for {registered} registrations answered,"
            f" {done} first-response tasks done for {submitted} submits answered"
        )
        return bool(registered and tickets == registered and done == submitted)

    def check_jobs(self, engine: Any) -> bool:
        """Let the workers run what is due, then look at what the jobs table records."""
        due = (
            "SELECT count(*) FROM jobs WHERE status = 'running' OR"
            " (status = 'pending' AND run_at <= now())"
        )
        deadline = time.monotonic() + 60
        with engine.connect() as c:
            while c.execute(text(due)).scalar_one() and time.monotonic() < deadline:
                c.commit()
                time.sleep(1)
            left = c.execute(text(due)).scalar_one()
            rows = c.execute(
                text("SELECT status, attempts > 1, count(*) FROM jobs GROUP BY 1, 2")
            ).all()
        counts = {(r[0], r[1]): r[2] for r in rows}
        done_once = counts.get(("done", False), 0)
        again = counts.get(("done", True), 0) + counts.get(("pending", True), 0)
        dead = counts.get(("dead", False), 0) + counts.get(("dead", True), 0)
        waiting = counts.get(("pending", False), 0)
        print(
            f"jobs: {done_once} done at the first claim, {again} claimed more than once,"
            f" {dead} dead, {waiting} pending (not yet due), {left} due but not run"
        )
        return again == 0 and dead == 0 and left == 0

    # --- databases ----------------------------------------------------------------------------

    def admin(self, statement: str) -> None:
        engine = create_engine(f"{self.args.server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as c:
                c.execute(text(statement))
        finally:
            engine.dispose()

    def drop_databases(self) -> None:
        for name in (f"{DATABASE}_replay", f"{DATABASE}_baseline", DATABASE):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


RECORDS = "/api/v1/apps/aftersales/records/ticket"
#: The request types, in the order the unloaded comparison prints them.
REQUESTS = (
    "register ticket",
    "register ticket (token)",
    "task submit",
    "inbox",
    "list tickets",
    "task view",
    "cockpit",
)


def locustfile() -> Any:
    """The locustfile's module, for its tickets, without locust patching this process for
    gevent."""
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    import locustfile

    return locustfile


class Clients:
    """Tangram's test clients, one signed-in session per person, making the locustfile's
    requests (for the replay's recording)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sessions: dict[str, tuple[Any, dict[str, str]]] = {}
        self.bearer = ""
        self.lock_version = 0

    def session(self, username: str) -> tuple[Any, dict[str, str]]:
        if username not in self.sessions:
            client = self.app.test_client()
            me = self.expect(
                client.post(
                    "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
                ),
                200,
            )
            self.sessions[username] = (client, {"X-CSRF-Token": me["csrf_token"]})
        return self.sessions[username]

    @staticmethod
    def expect(answer: Any, status: int) -> Any:
        if answer.status_code != status:
            raise SystemExit(f"recording: {answer.status_code} {answer.get_data(as_text=True)}")
        return answer.get_json()

    def register(self, username: str, *, token: bool = False, line: str = "") -> int:
        client, headers = self.session(username)
        if token:
            if not self.bearer:
                made = self.expect(
                    client.post("/api/v1/auth/tokens", json={"name": "replay"}, headers=headers),
                    201,
                )
                self.bearer = str(made["token"])
            client, headers = self.app.test_client(), {"Authorization": f"Bearer {self.bearer}"}
        data = locustfile().ticket(random.randrange(1_000_000))
        if line:
            data["product_line"] = line
        body = {"data": data}
        return int(self.expect(client.post(RECORDS, json=body, headers=headers), 201)["id"])

    def list(self, username: str) -> None:
        client, headers = self.session(username)
        self.expect(client.get(f"{RECORDS}?limit=20", headers=headers), 200)

    def inbox(self, username: str) -> None:
        client, headers = self.session(username)
        self.expect(client.get("/api/v1/tasks?box=todo&limit=20", headers=headers), 200)

    def cockpit(self, username: str) -> None:
        client, headers = self.session(username)
        path = "/api/v1/apps/aftersales/dashboards/cockpit/data"
        self.expect(client.get(path, headers=headers), 200)

    def respond_task(self, platform: Any, record_id: int) -> tuple[str, int]:
        """The engineer the ticket's first-response task went to, and the task."""
        with platform.engine.connect() as c:
            found = c.execute(
                text(
                    "SELECT u.username, t.id FROM tasks t JOIN users u ON u.id = t.assignee_id"
                    " WHERE t.record_id = :r AND t.node = 'respond'"
                ),
                {"r": record_id},
            ).one()
        return str(found[0]), int(found[1])

    def work(self, username: str, task_id: int, only: str = "") -> None:
        """The engineer's inbox, the task's view and its submit (or only one of them)."""
        client, headers = self.session(username)
        if only in ("", "inbox"):
            self.inbox(username)
        if only in ("", "task view"):
            view = self.expect(client.get(f"/api/v1/tasks/{task_id}", headers=headers), 200)
            self.lock_version = int(view["record"]["lock_version"])
        if only in ("", "task submit"):
            body = {
                "data": {"response_note": "已电话联系客户确认现象"},
                "lock_version": self.lock_version,
            }
            path = f"/api/v1/tasks/{task_id}/submit"
            self.expect(client.post(path, json=body, headers=headers), 200)


if __name__ == "__main__":
    sys.exit(main())
