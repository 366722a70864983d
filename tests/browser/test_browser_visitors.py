"""A visitor in headless Chromium: every address, before signing in and as the first request
a freshly started server answers, shows the login form and sends no pupil data.

The module has a server of its own (on the test school's roll and first week, as the shared
one): it restarts it for every first request, and its tests run beside the shared school's
on the other worker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import menu
from tests.app_school import make_school
from tests.browser.conftest import expect_login_form_only, listen, school_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def visitor_server(tmp_path_factory):
    with school_app(tmp_path_factory, "visitor_school", lambda db, exports: make_school(db, exports, weeks=1)) as (server, _):
        yield server

# Every screen's address as app.py registers it (new screens are picked up), and one that is none.
ADDRESSES = ["", *[screen.url_path for screen in menu.SCREENS], "no-such-page"]


# --- visitors ----------------------------------------------------------------------


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_visitor_opening_any_address_sees_the_login_form_and_no_pupil_data(visitor_server, page, address):
    frames = listen(page)
    page.goto(f"{visitor_server.url}/{address}")
    expect_login_form_only(page, frames)


# The first request a new server answers: the home address, a screen with pupil data, the
# officer's upload and an address that is none (every address is checked without a restart above).
FIRST_AFTER_RESTART = ["", "below-90", "pupil", "upload", "no-such-page"]


@pytest.mark.parametrize("address", FIRST_AFTER_RESTART)
def test_the_first_request_after_a_restart_sees_only_the_login_form(visitor_server, page, address):
    visitor_server.restart()  # each address is the first request the new server answers
    frames = listen(page)
    page.goto(f"{visitor_server.url}/{address}")
    expect_login_form_only(page, frames)


def test_a_wrong_password_is_refused(visitor_server, page):
    page.goto(visitor_server.url)
    page.get_by_role("textbox", name="Username").fill("viewer")
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Username or password is incorrect")).to_be_visible()
    expect_login_form_only(page)
