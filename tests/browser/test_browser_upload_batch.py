"""Two exports of the same week dropped at once, in headless Chromium, on its own school (both
weeks uploaded): the batch's order, the sessions the files disagree about, and nothing
imported until the officer says which file is newer. A screenshot of the batch preview is
saved in the test's folder (upload-batch.png) for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core import store
from tests.app_school import make_school, upn, week_rows
from tests.browser.conftest import open_screen, school_app, settled, sign_in
from tests.conftest import marks_csv


@pytest.fixture(scope="module")
def batch_app(tmp_path_factory):
    with school_app(tmp_path_factory, "upload_batch", make_school) as served:
        yield served


def test_two_exports_that_disagree_wait_for_the_officer_to_say_which_is_newer(batch_app, page: Page, tmp_path):
    server, school = batch_app
    corrected = tmp_path / "week-2-corrected.csv"
    corrected.write_text(marks_csv([(u, d, s, "I" if m == "N" else m) for u, d, s, m in week_rows(2)]) + "\n")
    export = tmp_path / "week-2-export.csv"
    export.write_text(marks_csv(week_rows(2) + [(upn(1), "2025-09-22", "AM", "/")]) + "\n")

    sign_in(page, server.url, "officer")
    open_screen(page, "Upload")
    page.locator("input[type='file']").set_input_files([str(corrected), str(export)])
    expect(page.get_by_role("heading", name="Order of import")).to_be_visible()
    expect(page.get_by_text(re.compile(r"have different marks for 4 sessions"))).to_be_visible()
    import_button = page.get_by_role("button", name="Import 2 files")
    expect(import_button).to_be_disabled()
    settled(page)
    page.set_viewport_size({"width": 1366, "height": 2600})  # the whole preview in one picture
    settled(page)
    page.screenshot(path=str(tmp_path / "upload-batch.png"))
    page.set_viewport_size({"width": 1366, "height": 768})

    page.get_by_role("radiogroup").get_by_text("week-2-corrected.csv").click()
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(page.get_by_text(re.compile(r"week-2-corrected\.csv: Imported"))).to_be_visible()
    with store.opened(school.db) as db:
        assert db.execute("SELECT m.code FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.upn = ? "
                          "AND m.day = 20346 ORDER BY m.session", (upn(1),)).fetchall() == [("I",), ("I",)]
