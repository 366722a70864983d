"""Meeting mode in the rendered page (headless Chromium): with it on, no screen shows a full
name, a UPN or a sensitive note — read from the page as the browser drew it. Its own server,
on the test school with both weeks and some case work (tests/app_school.add_cases)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app_pages.ui.sidebar import MEETING_ROOT_FONT_PX
from core import meetings
from tests.app_school import FORENAMES, PUPIL_NAMES, SENSITIVE_NOTE, add_cases, make_school
from tests.browser import conftest
from tests.browser.conftest import find_pupil, school_app, sign_in
from tests.conftest import make_upn

pytestmark = pytest.mark.browser

PRIVATE = (*PUPIL_NAMES, *FORENAMES, SENSITIVE_NOTE, *(make_upn(i) for i in range(1, 6)))


def meeting_school(db_path, exports) -> None:
    make_school(db_path, exports, weeks=2)
    add_cases(db_path)


@pytest.fixture(scope="module")
def meeting_server(tmp_path_factory):
    with school_app(tmp_path_factory, "meeting_school", meeting_school) as (server, _):
        yield server


def open_screen(page: Page, name: str) -> None:
    """Open a screen and let it finish drawing, so nothing is read from a half-drawn page."""
    conftest.open_screen(page, name, settle=True)


def leaks(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in PRIVATE if word in text]


def turn_on_meeting_mode(page: Page) -> None:
    """Click the sidebar toggle; meeting mode is on once the type has grown for the projector."""
    page.get_by_text("Meeting mode").click()
    page.wait_for_function(f"getComputedStyle(document.documentElement).fontSize === '{MEETING_ROOT_FONT_PX}px'")
    # and the rerun has finished: until then the browser may still hold elements of the run before
    conftest.settled(page)


MEETING_SCREENS = ["Overview", "Below 90%", "Patterns", "Today", "Casework", "Families", "Letters", "Meeting",
                   "Reports", "Data quality", "Upload"]


def test_meeting_mode_shows_no_full_name_upn_or_sensitive_note_on_any_screen(meeting_server, page):
    """One sign-in, meeting mode on, then every screen in turn (the mode stays on as you move)."""
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    found = {}
    for screen in MEETING_SCREENS:
        open_screen(page, screen)
        found[screen] = leaks(page)
    assert found == {screen: [] for screen in MEETING_SCREENS}


def test_meeting_mode_lists_pupils_as_initials(meeting_server, page):
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    open_screen(page, "Below 90%")
    table = page.locator("[data-testid='stDataFrame']")
    expect(table).to_contain_text("A. A.")
    assert leaks(page) == []


def test_meeting_mode_search_results_and_pupil_header_are_initials(meeting_server, page):
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    open_screen(page, "Pupil")
    find_pupil(page, "amir", "A. A.")
    expect(page.get_by_text("Marks, session by session")).to_be_visible()
    assert leaks(page) == []


def test_each_report_in_meeting_mode_shows_no_full_name(meeting_server, page):
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    open_screen(page, "Reports")
    for report in ("Half-termly statistics", "Head of section report", "Evidence pack"):
        page.get_by_role("radio", name=report).click()
        page.wait_for_timeout(2500)
        expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=30_000)
        assert leaks(page) == [], report


def test_without_meeting_mode_the_same_page_shows_the_name_and_the_dsl_reads_the_note(meeting_server, page):
    """So the checks above would see a leak if there were one."""
    sign_in(page, meeting_server.url, "admin")
    open_screen(page, "Meeting")
    for kind, label in meetings.AGENDA_KINDS.items():  # narrow the walk to overdue check-ins: Amir's
        if kind != meetings.CHECKIN_OVERDUE:
            page.get_by_role("button", name=re.compile("^" + re.escape(label))).click()
            page.wait_for_timeout(700)
    expect(page.get_by_role("heading", name="Ahmed, Amir (7A)")).to_be_visible()
    expect(page.get_by_text(SENSITIVE_NOTE)).to_be_visible()
    turn_on_meeting_mode(page)
    expect(page.get_by_role("heading", name="A. A. (7A)")).to_be_visible()
    assert leaks(page) == []
