"""Meeting mode in the rendered page (headless Chromium): with it on, no screen shows a full
name, a UPN or a sensitive note — read from the page as the browser drew it. Its own server,
on the test school with both weeks and some case work (tests/app_school.add_cases)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from app_pages.ui.sidebar import BANNER_KEY, MEETING_ROOT_FONT_PX
from core import auth, meetings, store
from core.importers import import_file
from tests.app_school import FORENAMES, PUPIL_NAMES, SENSITIVE_NOTE, add_cases, make_school
from tests.browser import conftest
from tests.browser.conftest import find_pupil, school_app, sign_in
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

pytestmark = pytest.mark.browser

PRIVATE = (*PUPIL_NAMES, *FORENAMES, SENSITIVE_NOTE, *(make_upn(i) for i in range(1, 6)))


def meeting_school(db_path, exports) -> None:
    make_school(db_path, exports, weeks=2)
    add_cases(db_path)


@pytest.fixture(scope="module")
def meeting_school_app(tmp_path_factory):
    with school_app(tmp_path_factory, "meeting_school", meeting_school) as (server, school):
        yield server, school


@pytest.fixture
def meeting_server(meeting_school_app):
    """The server, with every user's meeting mode off to begin with (it is kept per user)."""
    server, school = meeting_school_app
    with store.opened(school.db) as db:
        for user in auth.list_users(db):
            auth.set_meeting_mode(db, user.username, False, by="test")
    return server


def open_screen(page: Page, name: str) -> None:
    """Open a screen and let it finish drawing, so nothing is read from a half-drawn page."""
    conftest.open_screen(page, name, settle=True)


def leaks(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in PRIVATE if word in text]


def turn_on_meeting_mode(page: Page) -> None:
    """Click the sidebar toggle; meeting mode is on once the type has grown for the projector."""
    page.get_by_text("Meeting mode", exact=True).click()
    page.wait_for_function(f"getComputedStyle(document.documentElement).fontSize === '{MEETING_ROOT_FONT_PX}px'")
    # and the rerun has finished: until then the browser may still hold elements of the run before
    conftest.settled(page)


MEETING_SCREENS = ["Overview", "Below 90%", "Patterns", "Today", "Casework", "Families", "Letters", "Meeting",
                   "Reports", "Data quality", "Upload"]


def test_meeting_mode_shows_no_full_name_upn_or_sensitive_note_on_any_screen(meeting_server, page):
    """One sign-in, meeting mode on, then every screen in turn (the mode stays on as you move):
    nothing private on any of them; Below 90% lists the pupils by initials; each report of
    Reports shows no full name; and a pupil found by name is headed by their initials."""
    sign_in(page, meeting_server.url, "admin")
    turn_on_meeting_mode(page)
    found = {}
    for screen in MEETING_SCREENS:
        open_screen(page, screen)
        found[screen] = leaks(page)
        if screen == "Below 90%":
            expect(page.locator("[data-testid='stDataFrame']")).to_contain_text("A. A.")
        if screen == "Reports":
            for report in ("Half-termly statistics", "Head of section report", "Evidence pack"):
                page.get_by_role("radio", name=report).click()
                conftest.settled(page)
                found[f"Reports: {report}"] = leaks(page)
    open_screen(page, "Pupil")
    find_pupil(page, "amir", "A. A.")
    expect(page.get_by_text("Marks, session by session")).to_be_visible()
    found["Pupil"] = leaks(page)
    assert found == {screen: [] for screen in found}
    assert len(found) == len(MEETING_SCREENS) + 4


def test_without_meeting_mode_the_same_page_shows_the_name_and_the_dsl_reads_the_note(meeting_server, page):
    """So the checks above would see a leak if there were one."""
    sign_in(page, meeting_server.url, "admin")
    open_screen(page, "Meeting")
    for kind, label in meetings.AGENDA_KINDS.items():  # narrow the walk to overdue check-ins: Amir's
        if kind != meetings.CHECKIN_OVERDUE:
            page.get_by_role("button", name=re.compile("^" + re.escape(label))).click()
            conftest.settled(page)
    expect(page.get_by_role("heading", name="Ahmed, Amir (7A)")).to_be_visible()
    expect(page.get_by_text(SENSITIVE_NOTE)).to_be_visible()
    turn_on_meeting_mode(page)
    expect(page.get_by_role("heading", name="A. A. (7A)")).to_be_visible()
    assert leaks(page) == []


def expect_meeting_mode_on(page: Page) -> None:
    """The page says meeting mode is on, the type is the projector's and no name or UPN is shown."""
    expect(page.locator(f".st-key-{BANNER_KEY}")).to_contain_text("Meeting mode is on")
    page.wait_for_function(f"getComputedStyle(document.documentElement).fontSize === '{MEETING_ROOT_FONT_PX}px'")
    expect(page.get_by_role("switch", name="Meeting mode")).to_be_checked()
    conftest.settled(page)
    expect(page.locator("[data-testid='stDataFrame']").first).to_contain_text("A. A.")
    assert leaks(page) == []


def test_meeting_mode_stays_on_after_a_reload_a_new_tab_and_a_new_browser_session(meeting_server, page, browser):
    sign_in(page, meeting_server.url, "admin")
    page.wait_for_function("document.cookie.includes('pastoral_session')", timeout=15_000)
    open_screen(page, "Below 90%")
    turn_on_meeting_mode(page)
    expect_meeting_mode_on(page)

    page.reload()  # F5 on the projector
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
    expect_meeting_mode_on(page)

    second_tab = page.context.new_page()  # a new tab of the same browser, signed in by its cookie
    second_tab.goto(f"{meeting_server.url}/below-90")
    expect(second_tab.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
    expect_meeting_mode_on(second_tab)

    # A new browser session (the browser restarted with its cookies): still on.
    restarted = browser.new_context(viewport={"width": 1366, "height": 768}, storage_state=page.context.storage_state())
    restarted.add_init_script(conftest.RUN_WATCH)  # as the `page` fixture's context has, for `settled`
    try:
        again = restarted.new_page()
        again.goto(f"{meeting_server.url}/below-90")
        expect(again.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
        expect_meeting_mode_on(again)
        # Turned off there, it is off everywhere for this user from their next rerun (the store holds it).
        again.get_by_text("Meeting mode", exact=True).click()
        expect(again.locator(f".st-key-{BANNER_KEY}")).to_have_count(0)
        expect(again.locator("[data-testid='stDataFrame']").first).to_contain_text("Ahmed, Amir")
    finally:
        restarted.close()
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)
    conftest.settled(page)
    expect(page.locator(f".st-key-{BANNER_KEY}")).to_have_count(0)


# --- a whole meeting, on a projector ----------------------------------------------------------

MONDAYS = (date(2025, 9, 8), date(2025, 9, 15))
SURNAME = "Zedwood"  # every pupil of this school: a full name on the projector would show it
CLASS_SIZE = 30
LENGTH = 8


def projector_school(db_path, exports) -> None:
    """30 pupils, every one persistently absent with no action yet; the first three reach the
    penalty-notice threshold in the second week — 30 on the agenda, triggers first."""
    exports.mkdir(parents=True, exist_ok=True)
    roll = exports / "roll.csv"
    roll.write_text(roll_csv(*({"surname": f"{SURNAME}{n}", "forename": f"Kit{n}", "form": f"7{'ABC'[n % 3]}"}
                               for n in range(1, CLASS_SIZE + 1))) + "\n", encoding="utf-8")
    patterns = ["OOOOOO...." if n <= 3 else ("O" * (1 + n % 4)).ljust(10, ".") for n in range(1, CLASS_SIZE + 1)]
    with store.opened(db_path) as db:
        store.set_setting(db, "school_name", "Projector Academy", "test")
        auth.create_demo_users(db)
        import_file(db, roll, "officer")
        for week, monday in enumerate(MONDAYS, start=1):
            marks = exports / f"week_{week}.csv"
            marks.write_text(marks_csv(week_rows(monday, patterns)) + "\n", encoding="utf-8")
            import_file(db, marks, "officer")


@pytest.fixture(scope="module")
def projector_server(tmp_path_factory):
    with school_app(tmp_path_factory, "projector_school", projector_school) as (server, school):
        yield server, school


def choose(page: Page, label: str, option: str) -> None:
    """Pick from a selectbox; a click that lands while the page redraws is lost, so try again."""
    box, wanted = page.get_by_role("combobox", name=label, exact=True), page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.click()
        try:
            wanted.wait_for(timeout=3000)
            break
        except Exception:  # noqa: BLE001 — not open yet: click again
            page.keyboard.press("Escape")
    wanted.click()
    expect(box).to_have_value(option)


def choose_owner(page: Page, decision: Locator) -> None:
    """Choose Olu Officer as owner until the decision button takes it: an owner picked on the
    previous pupil's box, while the rerun that replaces it is still drawing, is lost with the
    box (and while both are on the page, "the Owner box" names two)."""
    owner = page.get_by_role("combobox", name="Owner", exact=True)
    for _ in range(3):
        try:
            expect(owner).to_have_count(1)  # the previous pupil's box, still fading out, is gone
            choose(page, "Owner", "Olu Officer")
            conftest.settled(page)
            expect(decision).to_be_enabled(timeout=5000)
            return
        except (AssertionError, PlaywrightError):
            conftest.settled(page)
    expect(decision).to_be_enabled()


def test_a_whole_meeting_in_meeting_mode_on_a_projector(projector_server, page, tmp_path):
    """Agenda of the chosen length, five pupils walked, decisions recorded, minutes downloaded —
    at 1920×1080 in meeting mode, with no full name or UPN on the screen or in the minutes."""
    server, school = projector_server
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, server.url, "pastoral")
    turn_on_meeting_mode(page)
    open_screen(page, "Meeting")
    expect(page.get_by_text(f"{CLASS_SIZE} pupils need the team")).to_be_visible()

    length = page.get_by_label("Pupils to discuss", exact=True)
    length.fill(str(LENGTH))
    length.press("Enter")
    expect(page.get_by_text(f"Today's agenda: the first {LENGTH} of {CLASS_SIZE}")).to_be_visible()
    expect(page.get_by_text(f"The other {CLASS_SIZE - LENGTH} are")).to_be_visible()
    expect(page.get_by_text(f"Pupil 1 of {LENGTH}")).to_be_visible()

    page.get_by_role("button", name="Start the meeting").click()
    page.get_by_role("button", name="Open the minutes").click()
    expect(page.get_by_text("Minutes open for")).to_be_visible()
    conftest.settled(page)

    decisions = ["Home visit", "Keep monitoring", "Discussed — no decision", "Attendance letter (stage 1)",
                 "Meet the family"]
    for number, decision in enumerate(decisions, start=1):
        expect(page.get_by_text(f"Pupil {number} of {LENGTH}")).to_be_visible()
        conftest.settled(page)
        button = page.get_by_role("button", name=decision, exact=True)
        if decision != "Discussed — no decision":
            choose_owner(page, button)
        button.click()
        expect(page.get_by_text("Recorded:").first).to_be_visible()
        conftest.settled(page)
        assert leaks_of_this_school(page) == [], decision
    expect(page.get_by_text(f"Pupil 6 of {LENGTH}")).to_be_visible()
    expect(page.get_by_text("5 pupils discussed · 4 decisions · 2 actions opened")).to_be_visible()

    # Someone looks up the pupil on screen; back on Meeting, the walk is where it was.
    sixth = page.locator("[data-testid='stHeading'] h2").first.inner_text()
    page.get_by_role("button", name="Look up this pupil").click()
    expect(page.get_by_role("heading", name="Pupil", level=1)).to_be_visible()
    open_screen(page, "Meeting")
    expect(page.get_by_text(f"Pupil 6 of {LENGTH}")).to_be_visible()
    expect(page.locator("[data-testid='stHeading'] h2").first).to_have_text(sixth)

    with page.expect_download() as download:
        page.get_by_role("button", name="Minutes (CSV)").click()
    minutes = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(minutes)))
    decided = [r["Decision"] for r in rows[1:] if r["Decision"] != meetings.NOT_REACHED]
    assert decided == ["Home visit", "Keep monitoring", meetings.DISCUSSED, "Attendance letter (stage 1) — to make",
                       "Meet the family"]
    assert sum(r["Decision"] == meetings.NOT_REACHED for r in rows) == CLASS_SIZE - 5
    assert SURNAME not in minutes and "Kit1" not in minutes  # initials only, as on the screen
    assert all(". " in r["Pupil"] for r in rows[1:])


def leaks_of_this_school(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in (SURNAME, "Kit1", *(make_upn(n) for n in range(1, CLASS_SIZE + 1))) if word in text]
