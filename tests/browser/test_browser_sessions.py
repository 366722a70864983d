"""Sessions in a real browser (issue 14): a copied login cookie is dead once its owner signs
out, and a password change ends the user's other open sessions at their next click."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core import auth, menu, store
from tests.app_school import make_school
from tests.browser.conftest import expect_login_form_only, school_app, sign_in

pytestmark = pytest.mark.browser

COOKIE = "pastoral_session"


@pytest.fixture(scope="module")
def sessions_server(tmp_path_factory):
    with school_app(tmp_path_factory, "sessions_school", lambda db, exports: make_school(db, exports, weeks=1)) \
            as (server, school):
        yield server, school


def session_cookies(page: Page) -> list[dict]:
    """The login cookie the app gave this browser (waits for it)."""
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')", timeout=20_000)
    return [cookie for cookie in page.context.cookies() if cookie["name"] == COOKIE]


def logins(school, username: str) -> int:
    with store.opened(school.db) as db:
        return db.execute("SELECT COUNT(*) FROM audit WHERE action = 'login' AND username = ?", (username,)).fetchone()[0]


def test_a_reload_keeps_you_signed_in_until_you_log_out(sessions_server, page):
    server, school = sessions_server
    before = logins(school, "viewer")
    sign_in(page, server.url, "viewer")
    session_cookies(page)
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert logins(school, "viewer") == before + 1  # the sign-in, once: a reload is the same session
    page.get_by_role("button", name="Log out").click()
    expect_login_form_only(page)
    page.reload()
    expect_login_form_only(page)


def test_a_copied_cookie_is_dead_after_its_owner_signs_out(sessions_server, browser, page):
    server, _ = sessions_server
    sign_in(page, server.url, "pastoral")
    stolen = session_cookies(page)
    copy = browser.new_context()
    try:
        thief = copy.new_page()
        copy.add_cookies(stolen)
        thief.goto(server.url)
        expect(thief.get_by_role("button", name="Log out")).to_be_visible()  # a live copy works…
        page.get_by_role("button", name="Log out").click()
        expect_login_form_only(page)
        open_screen_or_form(thief)  # …until the owner signs out: the open copy ends at its next click
        expect_login_form_only(thief)
        later = copy.new_page()  # and the cookie opens nothing later on
        later.goto(server.url)
        expect_login_form_only(later)
    finally:
        copy.close()


def open_screen_or_form(page: Page) -> None:
    """Click a menu item (the app then either draws the screen or the login form)."""
    page.locator("[data-testid='stSidebarNav'] a", has_text="Patterns").first.click()


def test_a_password_change_ends_the_users_other_session(sessions_server, browser, page):
    server, school = sessions_server
    sign_in(page, server.url, "officer")
    second_context = browser.new_context()
    try:
        second = second_context.new_page()
        sign_in(second, server.url, "officer")
        held = session_cookies(second)
        with store.opened(school.db) as db:
            auth.set_password(db, "officer", "a-brand-new-pass-9", "admin")  # as Admin → Users does
        open_screen_or_form(second)
        expect_login_form_only(second)
        expect(second.get_by_text("Your session has ended")).to_be_visible()
        open_screen_or_form(page)
        expect_login_form_only(page)
        fresh = browser.new_context()  # its cookie, refreshed or not, signs nobody in
        try:
            fresh.add_cookies(held)
            again = fresh.new_page()
            again.goto(server.url)
            expect_login_form_only(again)
        finally:
            fresh.close()
    finally:
        second_context.close()



def test_every_screen_answers_at_its_own_address_after_signing_in(sessions_server, page):
    """Issue 16: `/overview` said "Page not found" — Streamlit gives the home page the root only.
    Signed in, each screen the role may open answers at its address, the home screen at both."""
    server, _ = sessions_server
    sign_in(page, server.url, "pastoral")
    for screen in menu.screens_for(auth.PASTORAL_LEAD):
        page.goto(f"{server.url}/{screen.url_path}")
        expect(page.get_by_role("heading", name=screen.title, level=1)).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
    page.goto(server.url)
    expect(page.get_by_role("heading", name=menu.BY_ID[menu.HOME].title, level=1)).to_be_visible()
