"""The form designer in Chromium: opening the after-sales ticket form, and a drop on a large form,
beside baselines measured in the same run.

- **Opening**: from navigation to the canvas showing every field of the ticket form (50 fields,
  17 sub-table columns), against opening a 5-field form the same way; then to every card holding
  the field as the runtime's renderer draws it (the draft compiled by the server).
- **A drop**: a field dragged from the palette onto the canvas of a 150-field form, from the
  pointer's release to the new card in the page (a MutationObserver stamps it), against the
  same drop on a 10-field form.

Needs the built front end (`make web`) and Debian's chromium (`make chromium`).

    .venv/bin/python benchmarks/designer_browser.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from design import label, large_form
from playwright.sync_api import Browser, Page, sync_playwright
from sandbox import temporary_platform
from werkzeug.serving import make_server

from tangram.platform import metadata, packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.web.app import STATIC_DIST, create_app

SYSTEM = Actor.system("bench")
CHROMIUM = Path("/usr/bin/chromium")
PACKAGE = Path(__file__).parents[1] / "apps" / "aftersales"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway database


@contextmanager
def serving(platform: Platform) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, create_app(platform=platform), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=5)


def signed_in(browser: Browser, base: str) -> Page:
    """A desktop-sized page signed in as the administrator."""
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def prepare(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        users.ensure_admin(uow, username="admin", password=PASSWORD)
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        for key, size in (("large", 150), ("small", 10), ("tiny", 5)):
            body = large_form(size) if size >= 10 else _tiny()
            body["key"] = key
            metadata.create_definition(uow, SYSTEM, "aftersales", "form", body)
        uow.commit()


def _tiny() -> dict[str, Any]:
    fields = [{"key": f"f{n}", "type": "text", "label": label(f"字段{n}")} for n in range(5)]
    return {"key": "tiny", "label": label("小表单"), "fields": fields}


def cards(form: dict[str, Any]) -> int:
    """The cards the canvas draws: every field and every column of its sub-tables."""
    return sum(1 + len(f.get("fields") or []) for f in form["fields"])


def drawings(form: dict[str, Any]) -> int:
    """The cards the runtime's renderer draws into: every card but a sub-table's own."""
    return cards(form) - sum(1 for f in form["fields"] if f["type"] == "sub_table")


def open_ms(page: Page, base: str, form: str, count: int) -> float:
    """From the navigation's start (a new document's clock starts there) to the last card."""
    page.goto(f"{base}/design/aftersales/forms/{form}")
    page.locator("[data-testid=design-field]").nth(count - 1).wait_for()
    return float(page.evaluate("() => performance.now()"))


def drawn_ms(page: Page, base: str, form: str, count: int) -> float:
    """From the navigation's start to every card drawn by the runtime's renderer."""
    page.goto(f"{base}/design/aftersales/forms/{form}")
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=design-field-drawing]').length === n",
        arg=count,
    )
    return float(page.evaluate("() => performance.now()"))


def drop_ms(page: Page, base: str, form: str, count: int) -> float:
    page.goto(f"{base}/design/aftersales/forms/{form}")
    page.locator("[data-testid=design-field]").nth(count - 1).wait_for()
    page.evaluate(
        """(count) => {
            window.__dropped = null;
            window.__released = null;
            document.addEventListener("pointerup", () => { window.__released = performance.now(); },
                                      {capture: true, once: true});
            new MutationObserver((_, observer) => {
                if (document.querySelectorAll("[data-testid=design-field]").length > count) {
                    window.__dropped = performance.now();
                    observer.disconnect();
                }
            }).observe(document.body, {childList: true, subtree: true});
        }""",
        count,
    )
    source = page.get_by_test_id("design-palette-text").bounding_box()
    target = page.locator("[data-testid=design-container]").first.bounding_box()
    assert source is not None
    assert target is not None
    page.mouse.move(source["x"] + 20, source["y"] + 10)
    page.mouse.down()
    page.mouse.move(source["x"] + 40, source["y"] + 30, steps=4)
    page.mouse.move(target["x"] + 100, target["y"] + 40, steps=10)
    page.mouse.up()
    page.wait_for_function("() => window.__dropped !== null")
    return float(page.evaluate("() => window.__dropped - window.__released"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (STATIC_DIST / "index.html").is_file():
        raise SystemExit("the front end is not built: run `make web` first")
    with temporary_platform() as platform:
        prepare(platform)
        with serving(platform) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = signed_in(browser, base)
            ticket = cards(json.loads((PACKAGE / "forms" / "ticket.json").read_text("utf-8")))
            drawn = drawings(json.loads((PACKAGE / "forms" / "ticket.json").read_text("utf-8")))
            large, small = cards(large_form(150)), cards(large_form(10))
            rows = []
            for name, measure in (
                ("open the 5-field form (baseline)", lambda: open_ms(page, base, "tiny", 5)),
                (
                    "open the ticket form",
                    lambda: open_ms(page, base, "ticket", ticket),
                ),
                ("draw the 5-field form (baseline)", lambda: drawn_ms(page, base, "tiny", 5)),
                ("draw the ticket form", lambda: drawn_ms(page, base, "ticket", drawn)),
                ("drop on a 10-field form (baseline)", lambda: drop_ms(page, base, "small", small)),
                ("drop on a 150-field form", lambda: drop_ms(page, base, "large", large)),
            ):
                measure()  # warm: chunks cached, code compiled
                rows.append((name, statistics.median(measure() for _ in range(args.rounds))))
            browser.close()
    print(f"Chromium, median of {args.rounds} rounds after one warm-up\n")
    print(f"{'step':<40} {'ms':>8} {'vs baseline':>12}")
    for i, (name, ms) in enumerate(rows):
        base_ms = rows[i - i % 2][1]
        print(f"{name:<40} {ms:>8.1f} {ms / base_ms:>11.1f}x")


if __name__ == "__main__":
    main()
