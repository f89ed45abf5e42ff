"""What the browser fetches to show the runtime's first pages: the scripts and styles of the
sign-in page, the app launcher, the ticket list and the cockpit dashboard, each loaded in a fresh
browser (nothing cached), uncompressed and as sent (the server picks the brotli copy the build
writes). The designers' code must not be among them.

Needs the built front end (`make web`) and Debian's chromium (`make chromium`).

    .venv/bin/python benchmarks/first_load.py
"""

from __future__ import annotations

import logging

from designer_browser import CHROMIUM, PACKAGE, PASSWORD, SYSTEM, serving
from playwright.sync_api import Browser, Page, Request, sync_playwright
from sandbox import temporary_platform

from tangram.platform import packages
from tangram.platform.identity import users
from tangram.web.app import STATIC_DIST

PAGES = (
    ("sign-in", "/login", "#username"),
    ("launcher", "/", "[data-testid=form-ticket]"),
    ("ticket list", "/apps/aftersales/records/ticket", "[data-testid=new-record]"),
    ("cockpit", "/apps/aftersales/dashboards/cockpit", "[data-testid=chart]"),
)


def _assets(page: Page, path: str, ready: str) -> tuple[int, int, list[str]]:
    """Bytes of the scripts and styles ``path`` loads (uncompressed, as sent) and their names."""
    fetched: list[Request] = []
    page.on("requestfinished", lambda r: fetched.append(r) if "/assets/" in r.url else None)
    page.goto(path)
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    raw = sent = 0
    names = []
    for request in fetched:
        response = request.response()
        if response is None or not request.url.endswith((".js", ".css")):
            continue
        raw += len(response.body())
        sent += request.sizes()["responseBodySize"]
        names.append(request.url.rsplit("/", 1)[-1])
    return raw, sent, names


def _signed_in(browser: Browser, base: str) -> Page:
    """A fresh context (an empty cache) signed in through the API, so that the page measured is
    the first one the browser loads."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    answer = context.request.post(
        f"{base}/api/v1/auth/login", data={"username": "admin", "password": PASSWORD}
    )
    assert answer.ok, answer.text()
    return context.new_page()


def main() -> None:
    if not (STATIC_DIST / "index.html").is_file():
        raise SystemExit("the front end is not built: run `make web` first")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with temporary_platform() as platform:
        with platform.unit_of_work() as uow:
            users.ensure_admin(uow, username="admin", password=PASSWORD)
            packages.install(uow, SYSTEM, packages.read(PACKAGE))
            uow.commit()
        with serving(platform) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM))
            print(f"{'page':<14}{'uncompressed':>14}{'as sent':>12}  files")
            for name, path, ready in PAGES:
                if name == "sign-in":
                    context = browser.new_context(locale="zh-CN")
                    page = context.new_page()
                else:
                    page = _signed_in(browser, base)
                raw, sent, files = _assets(page, f"{base}{path}", ready)
                designer = [f for f in files if "Designer" in f or "design" in f.lower()]
                print(f"{name:<14}{raw:>14,}{sent:>12,}  {len(files)}")
                if designer:
                    print(f"  designer code loaded: {', '.join(designer)}")
                page.context.close()
            browser.close()


if __name__ == "__main__":
    main()
