"""Browser tests: the built front end served by the real app, driven in Debian's headless Chromium."""

from __future__ import annotations

import itertools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import WSGIRequestHandler, make_server

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.web.app import STATIC_DIST, create_app
from tests.apps.test_aftersales import people  # noqa: F401 - the after-sales fixture, reused

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    if not (STATIC_DIST / "index.html").is_file():
        pytest.fail("the front end is not built: `make web` (or `make test`) builds static/dist")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


#: Marks the answers of a server whose test is over (not a fault of the page).
CLOSING_HEADER = "X-Test-Closing"
#: Where the server finds the answer being sent, to close it when the client went away.
BODY_KEY = "tests.e2e.body"


class _Body:
    """An answer's body as the app sends it (a streamed answer arrives in its pieces), counted
    until it has all been sent, or the server closes it (the client went away). The server's
    own work after that (werkzeug drains what the client may still send) is not counted: it
    waits on the client, not on the app."""

    def __init__(self, result: Iterable[bytes], left: Callable[[], None]) -> None:
        self.result = result
        self.left: Callable[[], None] | None = left
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.result
        self._done()

    def _done(self) -> None:
        if self.left is not None:
            self.left()
            self.left = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()  # as a WSGI server must (files are closed there)
        finally:
            self._done()


class _Counted:
    """WSGI middleware counting the requests being answered, so the server can wait for them
    before the test's database goes (a request still holding a connection then would leak it).
    Once closing, it turns new requests away before they reach the app: a request the server
    accepted just before shutting down, whose thread had not yet come in, would otherwise open a
    connection after the count was read as zero."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.closing = False
        self.lock = threading.Lock()
        #: The requests being answered, each as "METHOD path", by a number of their own.
        self.running: dict[int, str] = {}
        self.numbers = itertools.count()

    @property
    def active(self) -> int:
        return len(self.running)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            if self.closing:
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain"), (CLOSING_HEADER, "1")],
                )
                return [b"the test is over"]
            number = next(self.numbers)
            self.running[number] = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._left(number)
            raise
        body = _Body(result, lambda: self._left(number))
        environ[BODY_KEY] = body
        return body

    def _left(self, number: int) -> None:
        with self.lock:
            self.running.pop(number, None)

    def close(self, seconds: float = 10.0) -> None:
        """Let no request in any more, and wait for those inside to finish."""
        with self.lock:
            self.closing = True
        deadline = time.monotonic() + seconds
        while self.active and time.monotonic() < deadline:
            time.sleep(0.05)
        with self.lock:
            running = list(self.running.values())
        assert not running, f"still answering after {seconds} s: {running}"


#: How long an assertion waits for the page to reach what it expects: as long as an action may
#: take (``set_default_timeout`` below). Playwright's own 5 s assumed a server round trip — a
#: publication compiling and checking a flow — answers within 5 s, which a loaded machine broke.
expect.set_options(timeout=15_000)


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, closing the answer when the client went away.

    After sending an answer, werkzeug drains what the client may still send, and only then
    closes the answer; when that drain fails because the client reset the connection (the
    browser left the page while a request was in flight), the answer is never closed. A file
    being served then stays open until the garbage collector finds it (a ``ResourceWarning``),
    and the request stays counted as running. werkzeug calls this hook in that case."""

    def connection_dropped(
        self, error: BaseException, environ: dict[str, Any] | None = None
    ) -> None:
        body = (environ or {}).get(BODY_KEY)
        if body is not None:
            body.close()


@contextmanager
def serving(wsgi: Any) -> Iterator[str]:
    """A WSGI app on a free local port, as the browser tests serve the app: the base URL."""
    app = _Counted(wsgi)
    http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        app.close()  # requests already being answered finish before the database goes
        http.shutdown()
        thread.join(timeout=5)


def _late(app: Any, most: float) -> Any:
    """``app``, answering each API request after a random wait of up to ``most`` seconds (none
    when 0): answers then come back late and out of order, as on a loaded machine, which brings
    out a scenario's hidden assumptions about when the page changes."""
    if most <= 0:
        return app
    draw = random.Random(most)

    def late(environ: dict[str, Any], start: Any) -> Any:
        if environ["PATH_INFO"].startswith("/api/"):
            time.sleep(draw.random() * most)
        return app(environ, start)

    return late


@pytest.fixture
def server(platform: Platform) -> Iterator[str]:
    """The app on a free local port, on the test's database."""
    app = create_app(platform=platform)
    with serving(_late(app, float(os.environ.get("TANGRAM_E2E_API_DELAY", "0")))) as url:
        yield url


#: Each test's reports by phase ("setup", "call"), for its fixtures to see how it went.
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def keep_if_failed(request: pytest.FixtureRequest, page: Page) -> None:
    """A test that failed leaves its page as it was then, for people to look at: a screenshot
    and the document (``tests/e2e/artifacts/failed/<test>.png`` and ``.html``). A browser test
    that fails once under load has met a race; what the page showed is where to start."""
    reports = request.node.stash.get(REPORTS, {})
    if not any(r.failed for r in reports.values()) or page.is_closed():
        return
    folder = ARTIFACTS / "failed"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True, timeout=10_000)
        (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")
    except PlaywrightError as error:  # a page that broke can refuse even this: say so, go on
        (folder / f"{name}.txt").write_text(f"could not keep the page: {error}\n", "utf-8")


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    slowdown = float(os.environ.get("TANGRAM_E2E_CPU_SLOWDOWN", "1"))
    if slowdown > 1:  # the page's scripts run that many times slower, as on a loaded machine
        cdp = context.new_cdp_session(opened)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    dialogs: list[str] = []
    opened.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    broken = watch(opened)
    yield opened
    keep_if_failed(request, opened)
    context.close()
    assert dialogs == [], f"the page opened dialogs: {dialogs}"
    assert broken == [], f"the page made broken requests: {broken}"


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A customer's phone: 390 px wide, Chinese, not signed in."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    broken = watch(opened)
    yield opened
    keep_if_failed(request, opened)
    context.close()
    assert broken == [], f"the phone made broken requests: {broken}"


def no_sideways_scroll(page: Page) -> None:
    """A phone-sized page fits its width (nothing to scroll sideways)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def watch(page: Page) -> list[str]:
    """The broken requests ``page`` makes from now on (see :func:`_broken`), and what the content
    security policy blocks."""
    broken: list[str] = []
    page.on("response", lambda r: broken.append(f"{r.status} {r.url}") if _broken(r) else None)
    # the security policy the server sends must not block anything the app does
    page.on(
        "console",
        lambda m: (
            broken.append(f"policy: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    return broken


def _broken(response: Response) -> bool:
    """A server error, or an API call the page built with an empty path segment."""
    path = response.url.split("?", 1)[0]
    if response.headers.get(CLOSING_HEADER.lower()):
        return False  # asked after the test ended, while the page was still open
    return response.status >= 500 or ("/api/" in path and "//" in path.split("://", 1)[1])


def shot(page: Page, name: str) -> None:
    """A screenshot for people to look at (tests/e2e/artifacts, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def opened(popup: Locator) -> Locator:
    """``popup`` (a popconfirm, a dropdown) once its opening animation is over: a button of a
    popup still zooming in can take a click that does nothing (seen under load)."""
    expect(popup).to_be_visible()
    expect(popup).not_to_have_class(re.compile(r"-(appear|enter)\b"))
    return popup


def dialog_ok(page: Page) -> None:
    """Click the open dialog's primary button (antd spaces two-character labels: 确 定) once the
    dialog finished opening: a button of a dialog still zooming in can take a click that does
    nothing (seen under load)."""
    opened(page.locator(".ant-modal:visible")).locator(".ant-modal-footer .ant-btn-primary").click()


def new_definition(
    page: Page, kinds: str, name: str, key: str, *, app: str = "aftersales", rule_type: str = ""
) -> None:
    """Make a definition from the app's design page (``rule_type``: the kind of rule picked
    first): the new-definition dialog filled and confirmed, and the new definition's designer
    open."""
    page.get_by_test_id(f"design-new-{kinds}").click()
    if rule_type:
        choose_rule_type(page, rule_type)
    page.get_by_test_id("definition-name-zh").fill(name)
    page.get_by_test_id("definition-key").fill(key)
    dialog_ok(page)
    expect(page).to_have_url(re.compile(rf"/design/{app}/{kinds}/{key}$"))


def let_go(page: Page) -> None:
    """Let go of a drag that dnd-kit holds, and return once dnd-kit stopped listening on the
    document. For 50 ms after a drop it swallows every click (so that the drop is not also a
    click) and clears every text selection, which takes the text a fill types: a click or a
    fill made in that window is lost (seen under load; a hand is slower). A timer set in the page
    after the drop runs after dnd-kit's, timers running in the order they fall due, so the page
    is past that window when it fires, however slowly the page runs."""
    page.mouse.up()
    page.evaluate("() => new Promise((done) => setTimeout(done, 60))")


def publish_dialog(page: Page) -> Locator:
    """Open the open definition's publish dialog and wait for it to finish opening and for its
    impact (the confirm button is enabled then): the dialog's content. A confirm clicked while
    the dialog still zooms in does nothing (seen under load)."""
    page.get_by_test_id("design-publish").click()
    opened(page.locator(".ant-modal:visible"))
    expect(page.get_by_test_id("design-publish-confirm")).to_be_enabled()
    return page.get_by_test_id("design-publish-dialog")


def publish_draft(page: Page, note: str | None = None) -> None:
    """Publish the open definition through its dialog, as a person does: open it
    (``publish_dialog``), write the note, confirm, and see it close."""
    publish_dialog(page)
    if note is not None:
        page.get_by_test_id("design-publish-note").fill(note)
    page.get_by_test_id("design-publish-confirm").click()
    expect(page.locator(".ant-modal:visible")).to_have_count(0)


_WATCH_MOVES = """(testId) => {
    const area = () => document.querySelector(`[data-testid=${testId}]`);
    const moved = [];
    const note = (entries) => {
        for (const entry of entries) for (const source of entry.sources) {
            const node = source.node;
            const el = node && (node.nodeType === 1 ? node : node.parentElement);
            if (el && area()?.contains(el)) {
                const from = Math.round(source.previousRect.y), to = Math.round(source.currentRect.y);
                moved.push(`${el.className || el.tagName} ${el.textContent.slice(0, 16)}: ${Math.round(source.previousRect.x)},${from} -> ${Math.round(source.currentRect.x)},${to}`);
            }
        }
    };
    const observer = new PerformanceObserver((list) => note(list.getEntries()));
    observer.observe({type: 'layout-shift'});
    window[`moves:${testId}`] = () => { note(observer.takeRecords()); return moved; };
}"""


def watch_moves(page: Page, test_id: str) -> Callable[[], list[str]]:
    """From now on, what moves inside the element ``test_id`` once drawn there (the browser's
    layout-shift entries whose element lies in it): the returned function lists them. Something
    that slides after it shows is where a click aimed a moment before does not land."""
    page.evaluate(_WATCH_MOVES, test_id)
    return lambda: list(page.evaluate(f"() => window['moves:{test_id}']()"))


def still(page: Page, test_id: str) -> None:
    """Nothing in the element ``test_id`` is on its way in or out: no motion class on anything,
    no transition or animation running."""
    page.wait_for_function(
        """(testId) => {
            const area = document.querySelector(`[data-testid=${testId}]`);
            return area !== null
                && area.querySelector("[class*='-appear'], [class*='-enter'], [class*='-leave']") === null
                && area.getAnimations({subtree: true}).length === 0;
        }""",
        arg=test_id,
    )


def settled(page: Page) -> None:
    """No dialog, toast or dropdown on its way in or out: axe measures the contrast of what is
    on screen, and a fading element has a fading contrast."""
    expect(page.locator(".ant-modal-wrap:visible")).to_have_count(0)
    expect(page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)


def saved(page: Page) -> None:
    """The designer's draft reached the server and the engine's verdict is in."""
    expect(page.get_by_test_id("design-save-state")).to_have_attribute("data-state", "saved")


def open_list(page: Page) -> Locator:
    """The open select's dropdown, once it finished opening (a dropdown closing meanwhile, still
    visible while it fades, is not the one)."""
    return opened(page.locator(".ant-select-dropdown:visible:not([class*='-leave'])"))


def option(page: Page, text: str) -> Locator:
    """The option ``text`` of the open select's dropdown."""
    return open_list(page).locator(".ant-select-item-option", has_text=text)


def enter_found(page: Page, text: str) -> None:
    """Choose the option ``text`` of the open select that was typed into, as a person does once
    the list shows it first: with Enter, when it is the active option. A click would need the
    list to stay put between the button's press and release, and typing shrinks the list, which
    can shorten the page and scroll it, so the list moves to follow its select a frame later: a
    press on the option and a release on what came under the pointer chose nothing, and the
    list stayed open (seen under load)."""
    active = open_list(page).locator(".ant-select-item-option-active")
    expect(active).to_contain_text(text)
    page.keyboard.press("Enter")


def pick(page: Page, select: Locator, text: str) -> None:
    """Choose the option ``text`` of the antd select ``select`` as a person does. A searchable
    select is typed into and the option found is chosen with Enter (``enter_found``); in a list
    that cannot be searched, the option is clicked."""
    select.click()
    search = select.locator("input")
    if search.count() == 1 and search.get_attribute("readonly") is None:
        search.fill(text)
        enter_found(page, text)
    else:
        option(page, text).first.click()
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)


def pick_more(page: Page, select: Locator, text: str) -> None:
    """Add the option ``text`` to the antd multiple select ``select``: typed to find it, chosen,
    then the list closed (a multiple select keeps it open for more)."""
    select.click()
    select.locator("input").fill(text)
    enter_found(page, text)
    page.keyboard.press("Escape")
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)


def choose_rule_type(page: Page, label: str) -> None:
    """Pick what a new rules definition is (rule, decision table, SLA policy) in the 新建 dialog,
    once the dialog finished opening, and see it picked: a choice clicked while the dialog still
    zooms in can be lost, and the definition is then made as a plain rule (seen under load)."""
    opened(page.locator(".ant-modal:visible"))
    types = page.get_by_test_id("definition-rule-type")
    types.get_by_text(label).click()
    expect(types.locator(".ant-radio-button-wrapper-checked")).to_have_text(label)


def within_window(page: Page, locator: Locator) -> None:
    """``locator`` is wholly inside the window as it is scrolled now (a sticky or fixed bar)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= size["height"], (box, size)


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


AXE = Path(__file__).parents[2] / "static" / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_problems(page: Page, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """The serious and critical WCAG violations axe-core finds on the page as it is now, one line
    each (rule, impact, how many elements, the selectors of the first twelve). axe-core comes from the
    front end's npm packages; it is evaluated in the page, which the page's CSP does not stop."""
    if not AXE.is_file():
        pytest.fail("axe-core is missing: `make web-deps` installs the front end's npm packages")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async (exclude) => {
            const result = await axe.run(
                {include: [document], exclude: exclude.map((s) => [s])},
                {resultTypes: ["violations"],
                 runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, count: v.nodes.length,
                target: v.nodes.slice(0, 12).map((n) => {
                    const d = n.any[0]?.data;
                    const colours = d && d.fgColor ? ` ${d.fgColor} on ${d.bgColor} = ${d.contrastRatio}` : "";
                    return String(n.target) + colours;
                }).join(" | "), help: v.help}));
        }""",
        list(exclude),
    )
    return [
        f"{v['id']} ({v['impact']}, {v['count']}×: {v['target']}): {v['help']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def stored_tickets(platform: Platform, *tickets: dict[str, Any]) -> list[int]:
    """After-sales tickets written by the system for one line B product (phone, P3, a hardware
    fault unless a ticket says otherwise); their ids, in order."""
    system = Actor.system("test")
    with platform.unit_of_work() as uow:
        product = records.create_record(
            uow, system, "aftersales", "product", {"model": "B-200", "product_line": "B"}
        ).record
        base = {
            "channel": "phone",
            "product": product.id,
            "product_line": "B",
            "urgency": "P3",
            "issue_type": "hardware_fault",
        }
        ids = [
            records.create_record(uow, system, "aftersales", "ticket", base | t).record.id
            for t in tickets
        ]
        uow.commit()
    return ids
