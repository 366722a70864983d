"""Case work in headless Chromium, on its own server and store (both weeks uploaded, and
one check-in already overdue for Cody Clarke), so the other browser tests' data is untouched.

The attendance officer finds a pupil at or below 90% on the list, logs a home visit with a
check-in from the row, sees it in their caseload and in the pupil's chronology, completes
the check-in, and sees the overdue list shrink."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app_pages.ui.formatting import today
from core import auth, cases, store
from tests.app_school import make_school
from tests.browser.conftest import find_pupil, open_screen, school_app, sign_in, submit

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # st.dataframe's header and rows
OPEN_WIDTH = 60  # the pinned "Open" column on Below 90%
LOG_WIDTH = 90  # the pinned "Log action" column beside it


def casework_school(db_path, exports) -> None:
    """Both weeks, and a check-in already ten days overdue for Cody Clarke."""
    make_school(db_path, exports, weeks=2)
    with store.opened(db_path) as db:
        clarke = db.execute("SELECT id FROM pupils WHERE surname = 'Clarke'").fetchone()[0]
        cases.open_intervention(db, auth.Viewer("pastoral", "pastoral_lead"), clarke, "Attendance meeting / clinic",
                                "pastoral", today() - timedelta(days=30), check_in_on=today() - timedelta(days=10))


@pytest.fixture(scope="module")
def casework_server(tmp_path_factory):
    with school_app(tmp_path_factory, "casework_school", casework_school) as (server, _):
        yield server


def click_log_action(page: Page, row: int) -> None:
    """The "Log action" button in a row of the Below 90% table (cells are drawn on a canvas)."""
    table = page.locator("[data-testid='stDataFrame']").first
    expect(table).to_be_visible()
    box = table.bounding_box()
    page.mouse.click(box["x"] + OPEN_WIDTH + LOG_WIDTH / 2, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def set_date(page: Page, field, day) -> None:
    """Type a date into a date input's day, month and year segments (they advance on their own)."""
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(day.strftime("%d%m%Y"))
    page.get_by_role("dialog").get_by_role("heading").first.click()  # leaving the field commits it


def date_shown(field) -> str:
    return "/".join(field.get_by_role("spinbutton").nth(i).inner_text() for i in range(3))


def show(page: Page, view: str) -> None:
    page.get_by_text(view).first.click()


def test_log_a_home_visit_see_it_in_caseload_and_chronology_complete_the_check_in(casework_server, page):
    sign_in(page, casework_server.url, "officer")
    open_screen(page, "Below 90%")
    table = page.locator("[data-testid='stDataFrame']").first
    expect(table).to_contain_text("Evans, Eli", timeout=30_000)  # exactly 90%: PA, third row (cold caches)

    click_log_action(page, 2)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Evans, Eli")).to_be_visible()
    dialog.get_by_role("combobox").first.click()
    page.keyboard.type("Home visit")
    page.keyboard.press("Enter")
    set_date(page, dialog.get_by_role("group", name="Started on"), today() - timedelta(days=20))
    check_in = dialog.get_by_role("group", name="Check-in on")
    expect(check_in.get_by_role("spinbutton").first).to_have_text((today() - timedelta(days=6)).strftime("%d"))
    assert date_shown(check_in) == (today() - timedelta(days=6)).strftime("%d/%m/%Y")  # two weeks on: overdue
    dialog.get_by_label("Summary").fill("Mum at home; Eli back on Monday")
    submit(page, dialog.get_by_role("button", name="Save action"))
    expect(page.get_by_role("dialog")).to_have_count(0)

    open_screen(page, "Casework")
    expect(page.get_by_text("1 booked for you, 1 overdue")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_contain_text("Evans, Eli")
    show(page, "Overdue check-ins")
    expect(page.get_by_text("2 check-ins overdue")).to_be_visible()

    open_screen(page, "Pupil")
    find_pupil(page, "evans", "Evans, Eli")
    chronology = page.locator("[data-testid='stDataFrame']").last
    chronology.scroll_into_view_if_needed()  # the table draws its cells once it is on screen
    expect(chronology).to_contain_text("Action opened: Home visit")
    expect(chronology).to_contain_text("Check-in overdue (Home visit)")

    page.get_by_role("button", name="Complete check-in").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("How did it go?").fill("In every day this week")
    submit(page, dialog.get_by_role("button", name="Save check-in"))
    expect(page.get_by_role("dialog")).to_have_count(0)
    chronology = page.locator("[data-testid='stDataFrame']").last
    chronology.scroll_into_view_if_needed()
    expect(chronology).to_contain_text("Check-in done (Home visit)")

    open_screen(page, "Casework")
    show(page, "Overdue check-ins")
    expect(page.get_by_text("1 check-in overdue")).to_be_visible()
    overdue = page.locator("[data-testid='stDataFrame']").first
    expect(overdue).to_contain_text("Clarke, Cody")
    expect(overdue).not_to_contain_text("Evans, Eli")


def test_the_overview_tile_counts_overdue_check_ins_and_opens_the_list(casework_server, page):
    sign_in(page, casework_server.url, "pastoral")
    tile = page.locator("[data-testid='stMetric']", has_text="Check-ins overdue")
    expect(tile).to_contain_text(re.compile(r"Check-ins overdue\s*1"), timeout=30_000)
    page.get_by_role("button", name="See the list").nth(2).click()  # tiles: new, triggers, check-ins, missing
    expect(page.get_by_role("heading", name="Casework", level=1)).to_be_visible()
    expect(page.get_by_text("1 check-in overdue")).to_be_visible()
