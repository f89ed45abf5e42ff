"""The runtime's reading pages in Chromium on the after-sales demo history: the ticket list, one
ticket's record page and the inbox, each opened cold (a fresh browser, nothing cached, the address
typed) and warm (the same browser, a click in the page: the launcher's ticket form, a row of the
list, the inbox in the menu).

Signed in as the demo's agent with the most open tasks. For each page: the time from the
navigation's start (or the click) to the page's data answered (the last of the requests it needs
to draw its rows: the form's schema and the records; the schema and the record; the tasks), to
the rows visible (the newest ticket's row, the document's first field, the first task: in the
page and a frame painted after it), the gap between the two (the script's own work), and the long
tasks of the main thread (``longtask`` entries, over 50 ms) until the page settles: the longest,
their sum and their number. Medians of ``--rounds`` runs; the machine's other work moves them, so
compare figures of one run (or of runs close together), not with a fixed budget.

The demo history is lived through the platform's services (`tangram demo seed`), which takes a
while: ``--database`` keeps it in a SQLite file for the next run.

Needs the built front end (`make web`) and Debian's chromium (`make chromium`).

    .venv/bin/python benchmarks/runtime_timings.py [--tickets 300] [--rounds 5] [--database FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from designer_browser import CHROMIUM, PACKAGE, SYSTEM, serving
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sandbox import platform_on
from sqlalchemy import func, select

from tangram.platform import demo, packages
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record, Task, User
from tangram.web.app import STATIC_DIST

# Stamps, in the page's clock, the moment a selector's element holding a text is in the page and
# the next frame after it was painted (a task queued from requestAnimationFrame runs after the
# frame's paint), and keeps every long task of the main thread.
WATCH = """
(() => {
  window.__bench = { long: [], found: null, painted: null, watch: null };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.long.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const check = () => {
    const w = window.__bench.watch;
    if (!w || window.__bench.found !== null) return;
    const el = [...document.querySelectorAll(w.selector)].find((e) => e.textContent.includes(w.text));
    if (!el) return;
    window.__bench.found = performance.now();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { window.__bench.painted = performance.now(); };
      channel.port2.postMessage(null);
    });
  };
  window.__benchWatch = (selector, text) => {
    window.__bench.watch = { selector, text };
    window.__bench.found = null;
    window.__bench.painted = null;
    check();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();
"""


@dataclass(frozen=True)
class Target:
    """A page measured: its address, the requests it waits for, what its first row shows."""

    name: str
    path: str
    data: tuple[str, ...]  # path fragments of the API requests the rows need
    selector: str
    text: str
    click: str  # how to reach it without a reload: the page to start from and what to click
    start: str
    ready: str  # what the starting page shows when it is ready


@dataclass(frozen=True)
class Timing:
    data: float
    rows: float
    longest: float
    total: float
    count: int


def _seed(database: Path, tickets: int) -> None:
    until = datetime.now(UTC).replace(microsecond=0)
    clock = FrozenClock(until)
    with _platform(database, clock) as platform:
        migrate.upgrade(platform.engine)
        spec = demo.load_spec(PACKAGE)
        with platform.unit_of_work() as uow:
            packages.install(uow, SYSTEM, packages.read(PACKAGE))
            uow.commit()
        report = demo.seed(platform, clock, spec, count=tickets, until=until)
        print(f"seeded {report.records}, {report.actions} task actions, {report.open} open")


@contextmanager
def _platform(database: Path, clock: FrozenClock | None = None) -> Iterator[Platform]:
    with platform_on(f"sqlite:///{database}", database.parent, clock) as platform:
        yield platform


def _subjects(platform: Platform) -> tuple[str, int, int]:
    """The agent with the most open tasks, the newest ticket and a ticket with the longest
    history (the heaviest record page)."""
    with platform.unit_of_work(write=False) as uow:
        s = uow.session
        agent = s.execute(
            select(User.username, func.count(Task.id))
            .join(Task, Task.assignee_id == User.id)
            .where(Task.status == "open", User.username.like("agent%"))
            .group_by(User.username)
            .order_by(func.count(Task.id).desc())
        ).first()
        newest = s.scalar(select(func.max(Record.id)).where(Record.form_key == "ticket"))
        busiest = s.scalar(
            select(Task.record_id)
            .where(Task.form_key == "ticket")
            .group_by(Task.record_id)
            .order_by(func.count(Task.id).desc(), Task.record_id)
            .limit(1)
        )
    return (agent[0] if agent else "agent01"), int(newest or 0), int(busiest or newest or 0)


def _targets(newest: int, busiest: int) -> list[Target]:
    list_path = "/apps/aftersales/records/ticket"
    return [
        Target(
            "ticket list",
            list_path,
            ("/forms/ticket/schema", "/records/ticket?"),
            f'a[href="{list_path}/{newest}"]',
            str(newest),
            f'a[href="{list_path}"][data-testid=form-ticket]',
            "/",
            "[data-testid=form-ticket]",
        ),
        Target(
            "record page",
            f"{list_path}/{busiest}",
            ("/forms/ticket/schema", f"/records/ticket/{busiest}?"),
            "[data-testid=record-document] [data-field]",
            "",
            f'a[href="{list_path}/{busiest}"]',
            f"{list_path}?_id__in={busiest}",
            f'a[href="{list_path}/{busiest}"]',
        ),
        Target(
            "inbox",
            "/inbox",
            ("/tasks?",),
            "[data-testid=inbox-item]",
            "",
            "[data-testid=nav-inbox] >> visible=true",
            "/",
            "[data-testid=form-ticket]",
        ),
    ]


def _collect(page: Page, target: Target, since: float) -> Timing:
    page.wait_for_function("() => window.__bench.painted !== null", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # a quiet moment: the long tasks after the rows count too
    found: dict[str, Any] = page.evaluate(
        """([since, wanted]) => {
            const ends = performance.getEntriesByType("resource")
              .filter((e) => e.startTime >= since && e.name.includes("/api/v1/"))
              .map((e) => [e.name + (e.name.includes("?") ? "" : "?"), e.responseEnd]);
            // a request the page did not make (its answer was cached) does not count
            const data = Math.max(since, ...ends.filter(([name]) => wanted.some((w) => name.includes(w))).map(([, end]) => end));
            const long = window.__bench.long.filter(([start]) => start >= since).map(([, d]) => d);
            return { data: data - since, painted: window.__bench.painted - since, long };
        }""",
        [since, list(target.data)],
    )
    long = found["long"]
    return Timing(found["data"], found["painted"], max(long, default=0.0), sum(long), len(long))


def _context(browser: Browser, base: str, user: str, password: str) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_init_script(WATCH)
    answer = context.request.post(
        f"{base}/api/v1/auth/login", data={"username": user, "password": password}
    )
    assert answer.ok, answer.text()
    return context


def cold(
    browser: Browser, base: str, login: tuple[str, str], target: Target
) -> tuple[Timing, BrowserContext]:
    """A fresh browser (empty cache) types the page's address."""
    context = _context(browser, base, *login)
    page = context.new_page()
    # armed before any script of the page runs
    page.add_init_script(
        f"window.__benchWatch({json.dumps(target.selector)}, {json.dumps(target.text)})"
    )
    page.goto(f"{base}{target.path}")
    return _collect(page, target, 0.0), context


def warm(context: BrowserContext, base: str, target: Target) -> Timing:
    """The same browser (chunks cached) reaches the page by a click from another page."""
    page = context.new_page()
    page.goto(f"{base}{target.start}")
    page.locator(target.ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    since = float(
        page.evaluate(
            "([s, t]) => { window.__benchWatch(s, t); return performance.now(); }",
            [target.selector, target.text],
        )
    )
    page.locator(target.click).first.click()
    timing = _collect(page, target, since)
    page.close()
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", type=Path, help="a seeded SQLite file kept between runs")
    parser.add_argument("--page", action="append", help="only this page (list, record, inbox)")
    args = parser.parse_args()
    if not (STATIC_DIST / "index.html").is_file():
        raise SystemExit("the front end is not built: run `make web` first")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "bench.db"
        if args.database and args.database.is_file():
            shutil.copy(args.database, database)
        else:
            _seed(database, args.tickets)
            if args.database:
                shutil.copy(database, args.database)
        with _platform(database) as platform:
            user, newest, busiest = _subjects(platform)
            password = str(demo.load_spec(PACKAGE).get("password", "tangram-demo"))
            targets = [
                t
                for t in _targets(newest, busiest)
                if not args.page
                or t.name.split()[-1] in args.page
                or t.name.split()[0] in args.page
            ]
            results: dict[tuple[str, str], list[Timing]] = {}
            with serving(platform) as base, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
                for _ in range(args.rounds):
                    for target in targets:
                        timing, context = cold(browser, base, (user, password), target)
                        results.setdefault((target.name, "cold"), []).append(timing)
                        results.setdefault((target.name, "warm"), []).append(
                            warm(context, base, target)
                        )
                        context.close()
                browser.close()
    print(f"\nChromium, {user} on the after-sales demo, ticket #{busiest} (the longest history);")
    print(
        f"median of {args.rounds} rounds, ms from the navigation's start (cold) or the click (warm)\n"
    )
    head = f"{'page':<13}{'load':<6}{'data in':>9}{'rows':>8}{'rows-data':>11}{'longest task':>14}{'tasks sum':>11}{'n':>4}"
    print(head)
    print("-" * len(head))
    for (name, load), runs in results.items():
        med = {
            k: statistics.median(getattr(r, k) for r in runs)
            for k in ("data", "rows", "longest", "total", "count")
        }
        gap = statistics.median(r.rows - r.data for r in runs)
        print(
            f"{name:<13}{load:<6}{med['data']:>9.0f}{med['rows']:>8.0f}{gap:>11.0f}"
            f"{med['longest']:>14.0f}{med['total']:>11.0f}{med['count']:>4.0f}"
        )


if __name__ == "__main__":
    main()
