"""Fuzz the served API with schemathesis, as an administrator and as an agent.

    python -m tests.fuzz [--database-url URL] [--max-examples N] [--scenarios N] [--seed N]
        [--report-dir DIR]

What it does, in order:

1. a fresh database: a SQLite file in a temporary directory, or the PostgreSQL database named by
   ``--database-url`` / ``TANGRAM_TEST_DATABASE_URL`` (its ``public`` schema is rebuilt, as the
   test suite does);
2. the migrations, an administrator, the after-sales package and a small demo history, through the
   same CLI commands as ``make run``;
3. the app served by ``tangram serve`` (waitress, the production server) on a free local port,
   with its embedded job worker, so that jobs the requests queue also run;
4. an API token for ``admin`` and for the demo's ``agent01``, an intake link and a status page
   (their tokens are only stored hashed);
5. ``st run`` over the OpenAPI document for each of them, the agent first (the administrator's run
   may deactivate users and uninstall the app): the examples, coverage, fuzzing and stateful
   phases with the checks the hardening issue names and ours (``tests/fuzz/hooks.py``). Path
   parameters are drawn from the stored values and start from them as examples; the stateful
   phase follows links from what it creates (each 201's ``Location``).

It exits non-zero when a check failed or the server wrote a traceback to its log; the server's
log and schemathesis' JUnit and HAR reports are kept in the report directory, with each
operation's statuses beside the HAR (``*.breadth.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from tests.fuzz.hooks import EXAMPLES_ENV

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "fuzz-admin-password-1"
#: The demo's users all share this password (``tangram/platform/demo.py``).
DEMO_PASSWORD = "tangram-demo"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "ndjson_lines",  # ours (tests/fuzz/hooks.py): a streamed answer, line by line
)
PHASES = "examples,coverage,fuzzing,stateful"
#: Call sequences of the stateful phase: it follows the links it infers from the document and
#: from the ``Location`` of each 201 (a record created, then read, changed, deleted).
STATEFUL_SCENARIOS = 60
#: Operations a run must not call on itself: they end the very session or token it runs with.
SELF_ENDING = ("/api/v1/auth/logout", "/api/v1/auth/tokens/{token_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", default=os.environ.get("TANGRAM_TEST_DATABASE_URL", ""))
    parser.add_argument("--max-examples", type=int, default=5, help="test cases per operation")
    parser.add_argument(
        "--scenarios",
        type=int,
        default=STATEFUL_SCENARIOS,
        help="call sequences of the stateful phase (each follows links from what it created)",
    )
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--tickets", type=int, default=20, help="demo tickets to seed")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "tests" / "fuzz" / "reports")
    args = parser.parse_args(argv)

    reports: Path = args.report_dir
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tangram-fuzz-") as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'fuzz.db'}"
        env = _environment(url, Path(scratch))
        started = time.monotonic()
        if url.startswith("postgresql"):
            _rebuild_postgres(url)
        _tangram(env, "db", "upgrade")
        _tangram(env, "user", "ensure-admin")
        _tangram(
            env, "demo", "seed", "--tickets", str(args.tickets), "--package", "apps/aftersales"
        )
        print(f"fuzz: database ready in {time.monotonic() - started:.0f} s ({_kind(url)})")
        stored = _stored(url)
        log_path = reports / f"server-{_kind(url)}.log"
        with _served(env, log_path) as base:
            with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=30) as answer:  # noqa: S310
                document = json.load(answer)
            tokens = {
                username: _token(base, username, password)
                for username, password in (("agent01", DEMO_PASSWORD), ("admin", ADMIN_PASSWORD))
            }
            bindings = stored + _public_tokens(base, tokens["admin"])
            config = Path(scratch) / "schemathesis.toml"
            config.write_text(
                _config(bindings, args.max_examples, args.scenarios), encoding="utf-8"
            )
            examples = Path(scratch) / "examples.json"
            examples.write_text(json.dumps([asdict(b) for b in bindings]), encoding="utf-8")
            failed = False
            for username, token in tokens.items():
                report = reports / f"junit-{_kind(url)}-{username}.xml"
                code = _schemathesis(base, token, config, examples, args.seed, report)
                print(f"fuzz: as {username}: {'passed' if code == 0 else 'FAILED'}")
                print(f"fuzz: as {username}: {_breadth(report.with_suffix('.har'), document)}")
                failed = failed or code != 0
        tracebacks = log_path.read_text(encoding="utf-8", errors="replace").count("Traceback")
        if tracebacks:
            print(f"fuzz: the server logged {tracebacks} traceback(s): see {log_path}")
        print(f"fuzz: {time.monotonic() - started:.0f} s in all")
        return 1 if failed or tracebacks else 0


def _kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def _environment(url: str, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANGRAM_")}
    env.update(
        TANGRAM_DATABASE_URL=url,
        TANGRAM_SECRET_KEY="fuzz-secret-key-" + "0" * 32,
        TANGRAM_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TANGRAM_FILES_DIR=str(scratch / "files"),
        # the fuzzer signs in twice; the server's own hashing cost is not what is tested here
        TANGRAM_PASSWORD_TIME_COST="1",
        TANGRAM_PASSWORD_MEMORY_KIB="64",
        # generated bodies may hold anything: a public intake link must not refuse them all by rate
        TANGRAM_INTAKE_MAX_PER_HOUR="100000",
        PYTHONUNBUFFERED="1",
    )
    return env


def _tangram(env: Mapping[str, str], *args: str) -> None:
    subprocess.run(
        [str(BIN / "tangram"), *args],
        cwd=ROOT,
        env=dict(env),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _rebuild_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


#: Path parameters and the stored values the fuzzer draws them from (most of the time: the rest
#: stay generated), so that operations reach past "not found" into the installed app.
_STORED: dict[str, str] = {
    "app": "SELECT key FROM apps",
    # tickets half of the time, so that a record id drawn below often belongs to the form drawn
    "form": "SELECT key FROM definitions WHERE kind = 'form' UNION ALL "
    "SELECT 'ticket' FROM definitions WHERE kind = 'form'",
    "key": "SELECT DISTINCT key FROM definitions",
    "record_id": "SELECT id FROM records WHERE form_key = 'ticket' ORDER BY id DESC LIMIT 20",
    "task_id": "SELECT id FROM tasks ORDER BY id DESC LIMIT 20",
    "instance_id": "SELECT id FROM flow_instances ORDER BY id DESC LIMIT 20",
    "user_id": "SELECT id FROM users",
    "group_id": "SELECT id FROM groups",
    "role_id": "SELECT id FROM roles",
    "job_id": "SELECT id FROM jobs ORDER BY id DESC LIMIT 20",
    "notification_id": "SELECT id FROM notifications ORDER BY id DESC LIMIT 20",
    "number": "SELECT DISTINCT version FROM definition_versions",
    "view_id": "SELECT id FROM saved_views",
    "link_id": "SELECT id FROM intake_links",
    "mail_id": "SELECT id FROM inbound_mails ORDER BY id DESC LIMIT 20",
    "attachment_id": "SELECT id FROM attachments ORDER BY id DESC LIMIT 20",
}
#: Where an operation's path names what a parameter holds, the values of that kind instead.
_STORED_AT: tuple[tuple[str, str, str], ...] = (
    *(
        (rf"/{kinds}/\{{key\}}", "key", f"SELECT key FROM definitions WHERE kind = '{kind}'")
        for kinds, kind in (
            ("forms", "form"),
            ("flows", "flow"),
            ("rules", "rule"),
            ("reports", "report"),
            ("dashboards", "dashboard"),
            ("kpis", "kpi"),
            ("calendars", "calendar"),
        )
    ),
    # any kind: the forms, whose keys then go with it
    (r"/\{kinds\}/\{key\}", "kinds", "SELECT DISTINCT 'forms' FROM definitions"),
    (r"/\{kinds\}/\{key\}", "key", "SELECT key FROM definitions WHERE kind = 'form'"),
    # a help center's articles (the demo's knowledge base)
    (
        r"/help/\{app\}/\{form\}/articles/\{record_id\}",
        "record_id",
        "SELECT id FROM records WHERE form_key = 'knowledge_article' ORDER BY id DESC LIMIT 20",
    ),
)


@dataclass(frozen=True)
class Binding:
    """Stored values for a path parameter: everywhere, or on the paths ``path`` matches."""

    name: str
    values: list[Any]
    path: str | None = None


def _stored(url: str) -> list[Binding]:
    """The stored values of the path parameters in ``_STORED`` and ``_STORED_AT``, the help
    centers' forms and the dashboards' widgets."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        found = [
            Binding(name, [row[0] for row in connection.execute(text(query))])
            for name, query in _STORED.items()
        ]
        found += [
            Binding(name, [row[0] for row in connection.execute(text(query))], path)
            for path, name, query in _STORED_AT
        ]
        bodies = [
            (kind, key, body if isinstance(body, dict) else json.loads(body))
            for kind, key, body in connection.execute(
                text(
                    "SELECT d.kind, d.key, v.body FROM definitions d "
                    "JOIN definition_versions v ON v.definition_id = d.id "
                    "WHERE d.kind IN ('form', 'dashboard') ORDER BY v.version DESC"
                )
            )
        ]
    engine.dispose()
    helped = list(dict.fromkeys(key for kind, key, body in bodies if "help" in body))
    found.append(Binding("form", helped, r"/help/\{app\}/\{form\}"))
    boards = [(key, body) for kind, key, body in bodies if kind == "dashboard"]
    if boards:  # the widgets of the newest dashboard, and that dashboard first
        newest = boards[0][1]
        keys = list(dict.fromkeys(k for k, _ in boards))
        widgets = [w["id"] for w in newest.get("widgets", []) if "id" in w]
        found += [
            Binding("key", keys, r"/widgets/\{widget\}"),
            Binding("widget", widgets, r"/widgets/\{widget\}"),
        ]
    return [binding for binding in found if binding.values]


def _public_tokens(base: str, admin_token: str) -> list[Binding]:
    """An intake link's token and a submission's status token, made through the API as the
    administrator and a visitor would (only their hashes are stored)."""
    bearer = {"Authorization": f"Bearer {admin_token}"}
    opener = urllib.request.build_opener()
    fields = ["title", "channel", "issue_type", "urgency", "description", "images"]
    link = _post(
        opener,
        f"{base}/api/v1/apps/aftersales/intake",
        {"form": "ticket", "fields": fields},
        **bearer,
    )
    data = {
        "title": "打印机卡纸",
        "channel": "web",
        "issue_type": "hardware_fault",
        "urgency": "P3",
    }
    receipt = _post(opener, f"{base}/api/v1/intake/{link['token']}", {"data": data})
    status = str(receipt["status_path"]).removeprefix("/status/")
    return [
        Binding("token", [link["token"]], r"^/api/v1/intake/\{token\}"),
        Binding("token", [status], r"^/api/v1/status/\{token\}"),
    ]


def _config(bindings: list[Binding], max_examples: int, scenarios: int) -> str:
    """A schemathesis configuration: ``max_examples`` cases per operation, ``scenarios`` call
    sequences in the stateful phase, path parameters drawn from the stored data (everywhere,
    or on the operations whose paths a binding names)."""
    lines: list[str] = [
        # every run starts afresh: no failures replayed from an earlier run's cache
        "[cache]",
        "enabled = false",
        "",
        "[generation]",
        f"max-examples = {max_examples}",
        "",
        "[phases.stateful.generation]",
        f"max-examples = {scenarios}",
        "",
    ]
    everywhere: list[str] = []
    at: dict[str, list[str]] = defaultdict(list)
    for number, binding in enumerate(bindings):
        dictionary = f"{binding.name}_{number}"
        lines += [f"[dictionaries.{dictionary}]", f"values = {json.dumps(binding.values)}", ""]
        entry = f'"path.{binding.name}" = {{ dictionary = "{dictionary}", probability = 0.8 }}'
        (everywhere if binding.path is None else at[binding.path]).append(entry)
    lines += ["[parameters]", *everywhere, ""]
    for path, entries in at.items():
        lines += [
            "[[operations]]",
            f"include-path-regex = {json.dumps(path)}",
            f"parameters = {{ {', '.join(entries)} }}",
            "",
        ]
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _served(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(BIN / "tangram"), "serve", "--port", str(port), "--threads", "4"],
            cwd=ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    # the URL is the local server's own
                    with urllib.request.urlopen(f"{base}/api/v1/health", timeout=5):  # noqa: S310
                        break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        message = f"fuzz: the server did not start: see {log_path}"
                        raise SystemExit(message) from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _post(opener: urllib.request.OpenerDirector, url: str, body: Any, **headers: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the local server's own URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with opener.open(request, timeout=30) as response:
        return json.load(response)


def _token(base: str, username: str, password: str) -> str:
    """An API token of ``username``, minted through a signed-in session as a user would."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    me = _post(browser, f"{base}/api/v1/auth/login", {"username": username, "password": password})
    created = _post(
        browser,
        f"{base}/api/v1/auth/tokens",
        {"name": "fuzz"},
        **{"X-CSRF-Token": me["csrf_token"]},
    )
    return str(created["token"])


def _schemathesis(
    base: str, token: str, config: Path, examples: Path, seed: int, junit: Path
) -> int:
    command = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/openapi.json",
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        PHASES,
        "--seed",
        str(seed),
        "--generation-database",
        "none",
        # one worker: Hypothesis' lambda descriptions are not thread-safe on Python 3.11
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--no-color",
        "--report",
        "junit,har",
        "--report-junit-path",
        str(junit),
        "--report-har-path",
        str(junit.with_suffix(".har")),
    ]
    for path in SELF_ENDING:
        command += ["--exclude-path", path]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", EXAMPLES_ENV: str(examples)}
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def _breadth(har: Path, document: Mapping[str, Any]) -> str:
    """How far a run reached: its requests by status class, and how many of the operations it
    called answered with success at least once (the rest only refused: 401/403, 404, 422...).
    Beside the HAR, ``<name>.breadth.json`` lists each operation's statuses."""
    templates = sorted(
        (
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in document.get("paths", {})
        ),
        key=lambda pair: -len(re.sub(r"\{[^}]*\}", "", pair[1])),  # literal paths first
    )
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    classes: Counter[str] = Counter()
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    for entry in entries:
        status = int(entry["response"]["status"])
        classes[f"{status // 100}xx"] += 1
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        name = next((t for pattern, t in templates if pattern.match(path)), None)
        method = entry["request"]["method"]
        # (a method the path does not have is a probe of its 405, not an operation)
        if name is not None and method.lower() in document["paths"][name]:
            statuses[f"{method} {name}"][status] += 1
    reached = sorted(op for op, seen in statuses.items() if any(200 <= s < 300 for s in seen))
    har.with_suffix(".breadth.json").write_text(
        json.dumps(
            {op: dict(sorted(seen.items())) for op, seen in sorted(statuses.items())}, indent=1
        ),
        encoding="utf-8",
    )
    return (
        f"{len(entries)} requests ({', '.join(f'{k} {v}' for k, v in sorted(classes.items()))}); "
        f"{len(reached)} of {len(statuses)} operations answered 2xx at least once"
    )


if __name__ == "__main__":
    sys.exit(main())
