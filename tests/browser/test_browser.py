"""The running app in headless Chromium: what each role and the attendance officer with
this week's export actually see (visitors: test_browser_visitors.py). The store starts with the roll and week 1;
the upload test adds week 2 (so it runs last)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import expect_login_form_only, find_pupil, listen, open_screen, sign_in

pytestmark = pytest.mark.browser

CASE_WORK = ["Overview", "Below 90%", "Patterns", "Pupil", "Today", "Casework", "Families", "Letters", "Meeting", "Reports",
             "Data quality"]
MENUS = {
    "admin": [*CASE_WORK, "Upload", "Admin"],
    "officer": [*CASE_WORK, "Upload"],
    "pastoral": CASE_WORK,
    "secondary": CASE_WORK,
    "viewer": ["Overview", "Below 90%", "Patterns", "Pupil", "Casework", "Reports"],
}


def menu(page: Page) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    expect(links.first).to_be_visible()
    return [text.strip().split("\n")[-1] for text in links.all_inner_texts()]  # after the icon's name


# --- roles -------------------------------------------------------------------------


@pytest.mark.parametrize("username", list(MENUS))
def test_each_role_signs_in_and_sees_only_its_screens(app_server, page, username):
    sign_in(page, app_server.url, username)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    assert menu(page) == MENUS[username]
    page.get_by_role("button", name="Log out").click()
    expect_login_form_only(page)


def test_a_deep_link_opens_its_screen_after_signing_in(app_server, page):
    sign_in(page, app_server.url, "admin", "admin")
    expect(page.get_by_role("heading", name="Admin", level=1)).to_be_visible()


def test_a_head_of_section_sees_only_their_sections_pupils(app_server, page):
    sign_in(page, app_server.url, "secondary")
    open_screen(page, "Below 90%")
    expect(page.get_by_text(re.compile(r"1 of 3 pupils at or below 90%"))).to_be_visible()
    assert "Clarke" not in page.locator("body").inner_text()


# --- the login cookie: a session token the server checks in the store ---------------------
# (a copied cookie after sign-out, and sessions ended by a password change:
# test_browser_sessions.py)


def session_token(browser_school, username: str, started_ago_h: float = 0) -> str:
    """A session's token as a sign-in gives the browser (started `started_ago_h` hours ago)."""
    from datetime import datetime, timedelta, timezone

    from core import sessions, store

    with store.opened(browser_school["db"]) as db:
        return sessions.start(db, username, at=datetime.now(timezone.utc) - timedelta(hours=started_ago_h))


def open_with_cookie(page: Page, base: str, token: str) -> None:
    page.context.add_cookies([{"name": "pastoral_session", "value": token, "url": base}])
    page.goto(base)


def test_a_live_sessions_cookie_signs_in(app_server, page, browser_school):
    open_with_cookie(page, app_server.url, session_token(browser_school, "viewer"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)


def test_an_expired_sessions_cookie_shows_the_login_form(app_server, page, browser_school):
    from core import sessions

    frames = listen(page)
    open_with_cookie(page, app_server.url, session_token(browser_school, "viewer", sessions.SESSION_HOURS + 1))
    expect_login_form_only(page, frames)


def test_a_made_up_cookie_shows_the_login_form(app_server, page):
    import secrets

    frames = listen(page)
    open_with_cookie(page, app_server.url, secrets.token_urlsafe(32))
    expect_login_form_only(page, frames)


def test_the_cookie_of_a_session_signed_out_shows_the_login_form_and_stays_put(app_server, page, browser_school):
    from core import auth, store

    token = session_token(browser_school, "pastoral")
    with store.opened(browser_school["db"]) as db:
        auth.record_logout(db, "pastoral", token)
    frames = listen(page)
    open_with_cookie(page, app_server.url, token)
    expect_login_form_only(page, frames)
    settled = len(frames)
    page.wait_for_timeout(2000)
    assert len(frames) - settled <= 2, "the login page keeps rerunning"
    page.wait_for_function("!document.cookie.includes('pastoral_session=')", timeout=10_000)  # and it is removed


# --- finding a pupil -----------------------------------------------------------------


def test_find_a_pupil_by_name(app_server, page):
    sign_in(page, app_server.url, "viewer")
    open_screen(page, "Pupil")
    find_pupil(page, "evans", "Evans, Eli")
    expect(page.get_by_text("Persistent absence (90% or below)")).to_be_visible()
    expect(page.get_by_text("Marks, session by session")).to_be_visible()


# --- this week's upload (changes the store: keep last) ---------------------------------


def test_uploading_this_weeks_export_changes_the_below_90_list(app_server, page, browser_school):
    sign_in(page, app_server.url, "officer")
    open_screen(page, "Below 90%")
    expect(page.get_by_text(re.compile(r"2 of 5 pupils at or below 90%"))).to_be_visible()
    assert "Ahmed" not in page.locator("[data-testid='stDataFrame']").inner_text()

    open_screen(page, "Upload")
    page.locator("input[type='file']").set_input_files(str(browser_school["files"]["week_2"]))
    expect(page.locator("strong", has_text="Register marks, one row per pupil per session")).to_be_visible()
    expect(page.get_by_text(re.compile(r"adds 50 sessions new to the store"))).to_be_visible()
    page.get_by_role("button", name="Import 1 file").click()
    expect(page.get_by_text(re.compile(r"marks_2025-09-15\.csv: Imported"))).to_be_visible()

    open_screen(page, "Below 90%")
    expect(page.get_by_text(re.compile(r"3 of 5 pupils at or below 90%"))).to_be_visible()
    table = page.locator("[data-testid='stDataFrame']")
    expect(table).to_contain_text("Ahmed, Amir")
    expect(table).to_contain_text("● new")
