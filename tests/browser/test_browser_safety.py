"""In the browser: a pupil, a user and a school whose names hold HTML, Markdown and script
are drawn as the text they are — nothing in them runs, loads or links (its own server and
store, so the other browser tests' school is untouched)."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from core import auth, cases, store
from core.importers import import_bytes
from tests.app_school import password_of
from tests.browser.conftest import AppServer, settled
from tests.conftest import make_upn

pytestmark = pytest.mark.browser

# Each would set window.pwned, load or link to evil.example, or style text, if it were not text.
SURNAME = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>"
FORENAME = "![pic](https://evil.example/p.png) [click](https://evil.example/x)"
FORM = "**7A** :red[red]"
USER_NAME = "<b>Alex</b> [me](https://evil.example/me)"


class Trap:
    """An HTTP server on another loopback address (127.0.0.2): a page that fetches a picture
    named in a pupil's name would ask it, and every request it gets is recorded."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def page(fresh_page):
    """Each test here has a browser of its own: what it requests is all seen and none of it
    is answered from another test's cache."""
    return fresh_page


@pytest.fixture(scope="module")
def trap():
    server = Trap()
    yield server
    server.close()


def link_name() -> str:
    return "[x](http://evil.example/)"


def image_name(port: int, picture: str = "x") -> str:
    return f"![x](http://127.0.0.2:{port}/{picture}.png)"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, app_server, trap):  # app_server: skip when Chromium is missing
    folder = tmp_path_factory.mktemp("hostile_school")
    previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
    roll, marks = io.StringIO(), io.StringIO()
    # Pupil 1: HTML and script; pupils 2 and 3 (one family): a link and a picture on another
    # host as names, their parents' names and relationships likewise. Everyone is N every
    # session, so every list (Today's calls, Below 90%, the agenda) shows them.
    csv.writer(roll).writerows([
        ["upn", "surname", "forename", "dob", "year_group", "form", "Primary Contact Name",
         "Primary Contact Relationship", "Primary Contact Telephone", "Family ID"],
        [make_upn(1), SURNAME, FORENAME, "2014-01-15", "7", FORM, link_name(), "Mother", "07700 900001", ""],
        [make_upn(2), "Linkton", link_name(), "2014-02-15", "7", "7B", image_name(trap.port, "parent"),
         image_name(trap.port, "relationship"), "07700 900002", "F9"],
        [make_upn(3), image_name(trap.port), image_name(trap.port, "forename"), "2014-03-15", "7", "7B",
         link_name(), "Father", "07700 900002", "F9"]])
    csv.writer(marks).writerows([["upn", "date", "session", "mark"],
                                 *[[make_upn(n), f"2025-09-{d:02d}", s, "N"] for n in (1, 2, 3) for d in range(8, 13)
                                   for s in ("AM", "PM")]])
    try:
        with store.opened(folder / "school.db") as db:
            auth.create_demo_users(db)
            auth.update_user(db, "admin", "test", name=USER_NAME)
            import_bytes(db, roll.getvalue().encode(), "roll.csv", "officer")
            import_bytes(db, marks.getvalue().encode(), "marks.csv", "officer")
            lead = auth.Viewer("pastoral", auth.PASTORAL_LEAD)
            for pupil_id, in db.execute("SELECT id FROM pupils").fetchall():
                cases.open_intervention(db, lead, pupil_id, "First-day call", "pastoral", date(2025, 9, 9),
                                        summary=f"{link_name()} {image_name(trap.port, 'summary')}")
                cases.log_contact(db, lead, pupil_id, "call", date(2025, 9, 10), image_name(trap.port, "whom"),
                                  summary=link_name())
    finally:
        auth.HASH_ROUNDS = previous
    server = AppServer(folder / "school.db", folder / "secrets.toml", folder / "streamlit.log")
    server.start()
    yield server
    server.stop()


def test_markup_in_names_is_shown_as_text_and_nothing_in_it_runs_loads_or_links(hostile_server, page):
    page.goto(hostile_server.url)
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(password_of("admin"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Pupil").first.click()
    search = page.get_by_role("textbox", name="Find a pupil")
    search.fill(make_upn(1))
    search.press("Enter")

    heading = page.get_by_role("heading", level=2).first
    expect(heading).to_contain_text(SURNAME)  # the characters themselves, on the page
    settled(page)  # the page is drawn in full: whatever would run, load or link has had its chance

    def shown(locator) -> str:  # as read (web addresses carry a zero-width space, so they are no links)
        return locator.inner_text().replace("\u200b", "")

    assert f"{SURNAME}, {FORENAME}" in shown(heading)
    assert FORM in shown(page.locator("[data-testid='stMain']"))
    assert USER_NAME in shown(page.locator("section[data-testid='stSidebar']"))
    assert page.evaluate("window.pwned") is None
    found = page.locator("img[src*='evil.example'], a[href*='evil.example']")
    assert found.count() == 0, [found.nth(i).evaluate("e => e.outerHTML + ' IN ' + e.parentElement.outerHTML.slice(0, 300)") for i in range(found.count())]
    stray = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stMain'] script, [data-testid='stMain'] img[src='x']")]
        .filter(e => !e.closest('.st-key-session_cookie_script')).map(e => e.outerHTML.slice(0, 200))""")
    assert stray == []  # the only script in the page is the app's own session cookie (access._script)


# Every address a page element points the browser at: pictures, scripts, styles, icons, frames
# and links (a link is not fetched until clicked, but none may lead away from the app either).
ADDRESSES = """() => Array.from(document.querySelectorAll('[src],[href],[srcset],[poster],[data]'))
    .flatMap(e => ['src', 'href', 'srcset', 'poster', 'data'].map(a => e.getAttribute(a) ? e[a] || e.getAttribute(a) : null))
    .filter(Boolean)"""


DRAWN_WHEN = {"Today": "still to call", "Families": "Parents/carers"}


def _foreign(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript", ""):
        return parts.scheme == "javascript"
    return f"{parts.scheme}://{parts.netloc}" != origin


def test_every_screen_shows_link_and_picture_names_as_text_and_asks_no_other_host(hostile_server, trap, page):
    """Signed in as an administrator, every screen in the menu is opened: the names that are
    Markdown links and pictures show as the characters they are, and the browser asks
    nothing of any host but the app's (no picture on 127.0.0.2, no font or icon from Google)."""
    origin = hostile_server.url
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    pointed: set[str] = set()
    page.goto(origin)
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(password_of("admin"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
    menu = page.locator("[data-testid='stSidebarNav'] a")
    screens = [menu.nth(i).inner_text().strip().splitlines()[-1] for i in range(menu.count())]  # after the icon
    assert len(screens) >= 12, screens
    seen_text: dict[str, str] = {}
    for number, screen in enumerate(screens):
        menu.nth(number).click()
        expect(page.get_by_role("heading", name=screen, level=1)).to_be_visible()
        if screen in DRAWN_WHEN:  # the screens whose names the test reads: wait until they are drawn
            expect(page.locator("[data-testid='stMain']").get_by_text(DRAWN_WHEN[screen]).first).to_be_visible()
        settled(page)
        pointed.update(page.evaluate(ADDRESSES))
        seen_text[screen] = page.locator("[data-testid='stMain']").inner_text().replace("\u200b", "")
    page.wait_for_timeout(1000)

    # The names are on the page as the characters they are.
    assert link_name() in seen_text["Today"] and image_name(trap.port) in seen_text["Today"]
    assert image_name(trap.port, "parent") in seen_text["Today"]  # a parent's name, on the call list
    assert image_name(trap.port, "parent") in seen_text["Families"]  # the family's parents, as text
    # Nothing was fetched from another host, and nothing on the pages points at one.
    assert trap.hits == [], trap.hits
    assert [u for u in requested if _foreign(u, origin)] == [], sorted({u for u in requested if _foreign(u, origin)})
    assert [u for u in pointed if _foreign(u, origin)] == [], sorted(u for u in pointed if _foreign(u, origin))
    assert page.locator("[data-testid='stMain'] a[href*='evil.example'], img[src*='127.0.0.2']").count() == 0
