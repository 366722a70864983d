"""The running app for browser tests: a free localhost port, a temporary store holding the
test school's roll and first week (tests/app_school.py), and headless Chromium.

The server is started once for the browser tests and stopped at the end; `restart()`
replaces it with a freshly started one on the same store (for "the first request after a
restart").
A test module that changes its store gets its own school and server from `school_app`
(one factory for every such module), and every module drives the page with the same
`sign_in`, `open_screen` and `find_pupil`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from core import auth
from tests.app_school import PUPIL_NAMES, ROOT, make_school, password_of, upn

# A loaded two-core machine can take a few seconds over a rerun: wait up to 20 s for what
# the page should show (a real failure still fails, only later).
expect.set_options(timeout=20_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on localhost, serving the store named by PASTORAL_DB."""

    def __init__(self, db_path: Path, secrets: Path, log: Path):
        self.db_path, self.secrets, self.log = db_path, secrets, log
        self.process: subprocess.Popen | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PASTORAL_DB": str(self.db_path), "PASTORAL_SECRETS": str(self.secrets)}
        command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
                   "--server.address", "localhost", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The app stopped while starting; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"The app did not start within 30 s; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """A new server on the same store (on another port), answering from now on; the old
        one is stopped in the background (nothing waits for it to wind down)."""
        old, self.process = self.process, None
        self.port = free_port()
        self.start()
        if old and old.poll() is None:
            old.terminate()
            threading.Thread(target=_reap, args=(old,), daemon=True).start()


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class School:
    """A store built for browser tests: its folder, the database, and what the builder returned."""

    folder: Path
    db: Path
    made: Any = None


def build_school(tmp_path_factory, name: str, build: Callable[[Path, Path], Any]) -> School:
    """A fresh store in its own folder: `build(db_path, exports_folder)` fills it (with quick
    password hashing, as nobody attacks a test's logins)."""
    folder = tmp_path_factory.mktemp(name)
    previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
    try:
        made = build(folder / "school.db", folder / "exports")
    finally:
        auth.HASH_ROUNDS = previous
    return School(folder, folder / "school.db", made)


@contextmanager
def serving(school: School) -> Iterator[AppServer]:
    """The app running on the school's store (skipped where Chromium is missing), stopped after."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    server = AppServer(school.db, school.folder / "secrets.toml", school.folder / "streamlit.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def school_app(tmp_path_factory, name: str, build: Callable[[Path, Path], Any]) -> Iterator[tuple[AppServer, School]]:
    """A module's own school and server: for browser tests that change what is stored."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    school = build_school(tmp_path_factory, name, build)
    with serving(school) as server:
        yield server, school


def pytest_collection_modifyitems(items) -> None:
    """Under xdist's loadgroup, the modules on the shared school (those using `app_server`)
    go to one worker together, so its server starts once; a module with its own school
    stays on one worker (its server starts once); every other test is spread one at a time."""
    for item in items:
        if "/browser/" in str(item.path).replace("\\", "/"):
            shared = "app_server" in getattr(item, "fixturenames", ())
            item.add_marker(pytest.mark.xdist_group("browser_school" if shared else item.path.stem))


@pytest.fixture(scope="session")
def browser_school(tmp_path_factory) -> dict:
    school = build_school(tmp_path_factory, "browser_school", lambda db, exports: make_school(db, exports, weeks=1))
    return {"folder": school.folder, "db": school.db, "files": school.made}


@pytest.fixture(scope="session")
def app_server(browser_school):
    with serving(School(browser_school["folder"], browser_school["db"])) as server:
        yield server


# --- driving the page ----------------------------------------------------------------------


def sign_in(page: Page, base: str, username: str, address: str = "") -> None:
    page.goto(f"{base}/{address}")
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password_of(username))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)


def open_screen(page: Page, name: str, settle: bool = False) -> None:
    """Open a screen from the menu; with `settle`, wait until it has finished drawing (tables, charts)."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    if settle:
        settled(page)


# Installed in every tab before the app loads: a record of the app's script runs (the state
# Streamlit writes on its root element), of the values its components send (a component's
# first value, e.g. the cookie manager's on mounting, asks the server for another run) and a
# count of the messages the page sends the server (a click that asks for a run sends one).
RUN_WATCH = """
(() => {
  if (window !== window.top) return;  // the app's page, not a component's frame
  const watch = window.__pastoral = {state: null, ranSinceValue: true, valueAt: 0, reporters: new Set(), sent: 0};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...message) { watch.sent += 1; return send.apply(this, message); };
  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'streamlit:setComponentValue') {
      watch.reporters.add(event.source);
      watch.valueAt = performance.now();
      watch.ranSinceValue = false;
    }
  });
  const observe = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) { setTimeout(observe, 10); return; }
    const note = () => {
      watch.state = app.getAttribute('data-test-script-state');
      if (watch.state === 'running') watch.ranSinceValue = true;
    };
    note();
    new MutationObserver(note).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  };
  observe();
})();
"""

# The app has finished every run it was asked for: connected, not running, nothing stale or
# "Running…" on the page, every component frame has sent its first value, and a run has
# started (and so, not running, finished) since the last value any component sent. A value
# that asks for no run (none has started 2 s after it) is taken as answered.
SETTLED = """() => {
  const watch = window.__pastoral, app = document.querySelector("[data-testid='stApp']");
  if (!watch || !app || watch.state !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
      || document.querySelector("[data-stale='true'], [data-testid='stStatusWidget']")) return false;
  const frames = [...document.querySelectorAll("iframe")].filter((f) => (f.src || '').includes('/component/'));
  if (!frames.every((f) => watch.reporters.has(f.contentWindow))) return false;
  return watch.ranSinceValue || performance.now() - watch.valueAt > 2000;
}"""


def settled(page: Page) -> None:
    """Wait until the app has finished its reruns (the condition SETTLED, checked every 50 ms):
    while a rerun draws, the elements it replaces linger, and a component's first value
    asks for one more run. A tab opened without RUN_WATCH (a context the `page` fixture did
    not make) gets it now, its component frames counted as having sent their first value."""
    page.evaluate("""(watch) => { if (!window.__pastoral) { eval(watch);
        document.querySelectorAll("iframe").forEach((f) => window.__pastoral.reporters.add(f.contentWindow)); } }""",
                  RUN_WATCH)
    page.wait_for_function(SETTLED, timeout=30_000, polling=50)


def submit(page: Page, button: Locator) -> None:
    """Click a button that asks the server for a run (a form's submit button), make sure the page
    sent that request, and wait for the run to finish. On a loaded machine, what is around the
    button can still be moving when the click lands (an expander just opened, a widget above it
    drawing): pressed on the button and released beside it, the click reaches neither, and
    nothing is sent. Such a click is made again; as it sent nothing, nothing is submitted twice."""
    for _ in range(3):
        settled(page)
        before = page.evaluate("() => window.__pastoral.sent")
        button.click()
        try:
            page.wait_for_function("(before) => window.__pastoral.sent > before", arg=before, timeout=2000,
                                   polling=50)
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError(f"The page sent nothing when {button} was clicked, three times")
    settled(page)


def find_pupil(page: Page, typed: str, heading: str) -> None:
    """Search on the Pupil screen and wait for the pupil's page (headed `heading`)."""
    search = page.get_by_role("textbox", name="Find a pupil")
    search.fill(typed)
    search.press("Enter")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


VIEWPORT = {"width": 1366, "height": 768}


def _new_context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RUN_WATCH)
    context.set_default_timeout(20_000)
    return context


class _Tab:
    """The worker's one browser tab, lent to each test in turn. A new tab costs Chromium about
    1.7 s of CPU (a window, a renderer process, the app's scripts parsed cold); a page loaded
    in a tab already open costs 0.4 s. Between tests the tab is emptied as a new one would be:
    its other tabs closed, the app's storage and every cookie cleared, the page left for
    about:blank (its websocket closed) and the window put back to its size. The websocket
    frames `listen` reads are recorded by one listener, into the list of the test listening."""

    def __init__(self, browser):
        self.browser = browser
        self.page: Page | None = None
        self.frames: list[bytes] | None = None

    def lend(self) -> Page:
        if self.page is None or self.page.is_closed():
            self.page = _new_context(self.browser).new_page()
            self.page.on("websocket", lambda socket: socket.on("framereceived", self._received))
        return self.page

    def _received(self, frame) -> None:
        if self.frames is not None:
            self.frames.append(frame if isinstance(frame, bytes) else frame.encode())

    def give_back(self) -> None:
        self.frames = None
        page = self.page
        if page is None or page.is_closed():
            return
        try:
            for other in page.context.pages:
                if other != page:
                    other.close()
            if page.url.startswith("http"):
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
            page.goto("about:blank")
            page.context.clear_cookies()
            page.set_viewport_size(VIEWPORT)
        except Exception:  # a tab that cannot be emptied is not lent again
            page.context.close()
            self.page = None


_LENT: list[_Tab] = []  # the worker's tab, once made


@pytest.fixture(scope="session")
def _tab(browser):
    tab = _Tab(browser)
    _LENT[:] = [tab]
    yield tab
    _LENT.clear()
    if tab.page is not None and not tab.page.is_closed():
        tab.page.context.close()


@pytest.fixture
def page(_tab):
    """A browser tab with no cookies or stored state, on about:blank: the worker's one tab, emptied."""
    yield _tab.lend()
    _tab.give_back()


@pytest.fixture
def fresh_page(browser):
    """A tab in a browser context of its own, closed after the test: for a test that listens to
    every request its context makes (one lent tab's cache would answer some of them unseen)."""
    context = _new_context(browser)
    yield context.new_page()
    context.close()


# --- what a visitor sees -------------------------------------------------------------------

PUPIL_DATA = [*PUPIL_NAMES, *(upn(i) for i in range(1, 6))]


def listen(page: Page) -> list[bytes]:
    """Everything the server sends this tab over its websocket (the app's only channel), from now on."""
    frames: list[bytes] = []
    if _LENT and _LENT[0].page is page:
        _LENT[0].frames = frames
    else:
        page.on("websocket", lambda socket: socket.on(
            "framereceived", lambda frame: frames.append(frame if isinstance(frame, bytes) else frame.encode())))
    return frames


def expect_login_form_only(page: Page, frames: list[bytes] | None = None) -> None:
    # Once the page has settled: while a rerun draws, the elements it replaces are still on
    # the page for a moment.
    expect(page.locator("[data-testid='stSidebarNav']")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Log out")
    settled(page)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Username")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    body = page.locator("body").inner_text()
    assert not any(name in body for name in PUPIL_NAMES), body
    assert "Test Academy" not in body and "Log out" not in body
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    if frames is not None:  # nor anywhere in what the server sent, drawn or not (all of it has
        # arrived: the page is settled, so every run the server made has been drawn)
        sent = b"".join(frames)
        assert sent, "no websocket traffic was seen"
        assert not [d for d in PUPIL_DATA if d.encode() in sent], "pupil data sent before signing in"
        assert b"Test Academy" not in sent
