"""Meeting mode in the rendered page (headless Chromium): with it on, no screen shows a full
name, a UPN or a sensitive note — read from the page as the browser drew it. Its own server,
on the test school with both weeks and some case work (tests/app_school.add_cases)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app_pages.sidebar import MEETING_ROOT_FONT_PX
from core import auth, meetings
from tests.app_school import FORENAMES, PUPIL_NAMES, SENSITIVE_NOTE, add_cases, make_school
from tests.browser.test_browser import sign_in
from tests.browser.conftest import CHROMIUM, AppServer
from tests.conftest import make_upn

pytestmark = pytest.mark.browser

PRIVATE = (*PUPIL_NAMES, *FORENAMES, SENSITIVE_NOTE, *(make_upn(i) for i in range(1, 6)))


@pytest.fixture(scope="module")
def meeting_server(tmp_path_factory):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("meeting_school")
    previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
    try:
        make_school(folder / "school.db", folder / "exports", weeks=2)
        add_cases(folder / "school.db")
    finally:
        auth.HASH_ROUNDS = previous
    server = AppServer(folder / "school.db", folder / "secrets.toml", folder / "streamlit.log")
    server.start()
    yield server
    server.stop()


def open_screen(page: Page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.wait_for_timeout(1500)  # let the screen finish drawing (tables, charts)
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=30_000)


def leaks(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in PRIVATE if word in text]


def turn_on_meeting_mode(page: Page) -> None:
    """Click the sidebar toggle; meeting mode is on once the type has grown for the projector."""
    page.get_by_text("Meeting mode").click()
    page.wait_for_function(f"getComputedStyle(document.documentElement).fontSize === '{MEETING_ROOT_FONT_PX}px'")


@pytest.mark.parametrize("screen", ["Overview", "Below 90%", "Patterns", "Meeting", "Reports", "Upload"])
def test_meeting_mode_shows_no_full_name_upn_or_sensitive_note_in_the_page(meeting_server, page, screen):
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    open_screen(page, screen)
    assert leaks(page) == []


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
    search = page.get_by_role("textbox", name="Find a pupil")
    search.fill("amir")
    search.press("Enter")
    expect(page.get_by_role("heading", name="A. A.")).to_be_visible()
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
