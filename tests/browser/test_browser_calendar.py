"""The school calendar in headless Chromium, on its own server and store (week 1 uploaded and
a calendar saved with an INSET day on Monday 15/09/2025): the officer uploads week 2, is told
its Monday's marks are on an INSET day and held, ticks that the dates are right, and imports."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from core import school_calendar, store
from core.school_calendar import INSET, NonSchoolDay, SchoolCalendar, Term
from tests.app_school import make_school
from tests.browser.conftest import open_screen, school_app, sign_in

pytestmark = pytest.mark.browser


def calendar_school(db_path, exports):
    files = make_school(db_path, exports, weeks=1)
    with store.opened(db_path) as db:
        school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 10, 24)),),
                                                      (NonSchoolDay(date(2025, 9, 15), INSET, "Training"),)), "admin")
    return files


@pytest.fixture(scope="module")
def calendar_app(tmp_path_factory):
    with school_app(tmp_path_factory, "calendar_school", calendar_school) as (server, school):
        yield server, school


def test_marks_on_an_inset_day_are_held_until_the_officer_confirms_them(calendar_app, page):
    server, school = calendar_app
    sign_in(page, server.url, "officer")
    open_screen(page, "Upload")
    page.locator("input[type='file']").set_input_files(str(school.made["week_2"]))
    held = page.locator("[data-testid='stAlertContentError']").filter(has_text="10 marks on days the school calendar")
    expect(held).to_contain_text("10 marks on days the school calendar says are not school days (15/09/2025 (INSET "
                                 "day: Training)). If the school was open, correct the calendar in Admin → School "
                                 "calendar and upload again")
    expect(page.get_by_role("button", name="Import 0 files")).to_be_disabled()
    page.get_by_text("Import marks on these dates anyway — I have checked they are right").click()
    expect(page.get_by_role("button", name="Import 1 file")).to_be_enabled()
    page.get_by_role("button", name="Import 1 file").click()
    expect(page.get_by_text(re.compile(r"marks_2025-09-15\.csv: Imported"))).to_be_visible()
    with store.opened(school.db) as db:
        assert db.execute("SELECT COUNT(*) FROM marks WHERE day = ?", (20346,)).fetchone()[0] == 10
