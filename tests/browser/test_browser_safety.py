"""In the browser: a pupil, a user and a school whose names hold HTML, Markdown and script
are drawn as the text they are — nothing in them runs, loads or links (its own server and
store, so the other browser tests' school is untouched)."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from core import auth, store
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


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, app_server):  # app_server: skip when Chromium is missing
    folder = tmp_path_factory.mktemp("hostile_school")
    previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
    roll, marks = io.StringIO(), io.StringIO()
    csv.writer(roll).writerows([["upn", "surname", "forename", "dob", "year_group", "form"],
                                [make_upn(1), SURNAME, FORENAME, "2014-01-15", "7", FORM]])
    csv.writer(marks).writerows([["upn", "date", "session", "mark"],
                                 *[[make_upn(1), f"2025-09-{d:02d}", s, "N"] for d in range(8, 13) for s in ("AM", "PM")]])
    try:
        with store.opened(folder / "school.db") as db:
            auth.create_demo_users(db)
            auth.update_user(db, "admin", "test", name=USER_NAME)
            import_bytes(db, roll.getvalue().encode(), "roll.csv", "officer")
            import_bytes(db, marks.getvalue().encode(), "marks.csv", "officer")
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
    assert page.locator("[data-testid='stMain'] script, [data-testid='stMain'] img[src='x']").count() == 0
