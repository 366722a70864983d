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


def test_the_overview_has_one_address_that_opens_it(app_server, page):
    """The root address opens the Overview at /overview, and /overview itself (a bookmark,
    a link) opens it too rather than Streamlit's "Page not found"."""
    sign_in(page, app_server.url, "pastoral")
    expect(page).to_have_url(re.compile(r"/overview$"))
    page.goto(f"{app_server.url}/overview")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_a_head_of_section_sees_only_their_sections_pupils(app_server, page):
    sign_in(page, app_server.url, "secondary")
    open_screen(page, "Below 90%")
    expect(page.get_by_text(re.compile(r"1 of 3 pupils at or below 90%"))).to_be_visible()
    assert "Clarke" not in page.locator("body").inner_text()


def test_a_reload_keeps_you_signed_in_until_you_log_out(app_server, page):
    sign_in(page, app_server.url, "pastoral")
    page.wait_for_function("document.cookie.includes('pastoral_login')", timeout=15_000)
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect_login_form_only(page)
    page.reload()
    expect_login_form_only(page)


# --- the remember-me cookie: expiry and revocation, checked by the server ----------------


def cookie(browser_school, username: str, issued_ago_s: float, key: str | None = None) -> str:
    """A remember-me token as the app writes it: the username and when it expires (half a
    school day after it was issued), signed with the server's cookie key (or another)."""
    import time
    import tomllib

    import jwt

    from app_pages.ui.access import COOKIE_EXPIRY_DAYS

    key = key or tomllib.loads((browser_school["folder"] / "secrets.toml").read_text())["auth"]["cookie_key"]
    expires = time.time() - issued_ago_s + COOKIE_EXPIRY_DAYS * 86400
    return jwt.encode({"username": username, "exp_date": expires}, key, algorithm="HS256")


def open_with_cookie(page: Page, base: str, token) -> None:
    """Open the app carrying the token `token()` makes (after a first visit, by which the
    server has its cookie key)."""
    page.goto(base)
    expect(page.get_by_role("button", name="Sign in").or_(page.get_by_role("button", name="Log out"))).to_be_visible()
    page.context.add_cookies([{"name": "pastoral_login", "value": token(), "url": base}])
    page.goto(base)


def test_a_fresh_remember_me_cookie_signs_in(app_server, page, browser_school):
    open_with_cookie(page, app_server.url, lambda: cookie(browser_school, "viewer", issued_ago_s=-2))
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)


def test_an_expired_remember_me_cookie_shows_the_login_form(app_server, page, browser_school):
    frames = listen(page)
    open_with_cookie(page, app_server.url, lambda: cookie(browser_school, "viewer", issued_ago_s=13 * 3600))
    expect_login_form_only(page, frames)


def test_a_cookie_not_signed_with_the_servers_key_shows_the_login_form(app_server, page, browser_school):
    frames = listen(page)
    open_with_cookie(page, app_server.url, lambda: cookie(browser_school, "admin", issued_ago_s=-2, key="x" * 48))
    expect_login_form_only(page, frames)


def test_a_cookie_from_before_a_logout_no_longer_signs_in(app_server, page, browser_school):
    sign_in(page, app_server.url, "pastoral")
    page.get_by_role("button", name="Log out").click()
    expect_login_form_only(page)
    page.context.clear_cookies()
    frames = listen(page)
    # Issued an hour ago (before that logout) and not yet expired: the server still refuses it.
    open_with_cookie(page, app_server.url, lambda: cookie(browser_school, "pastoral", issued_ago_s=3600))
    expect_login_form_only(page, frames)
    settled = len(frames)
    page.wait_for_timeout(2000)
    assert len(frames) - settled <= 2, "the login page keeps rerunning"  # and it stays put


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
