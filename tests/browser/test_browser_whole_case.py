"""One whole case in headless Chromium (issue 17: "a browser test of one whole case — plan →
reviews → notice to improve → notice → court file"), on its own server and store.

The school: three Year 7 pupils over two weeks of September 2025; Wren Wholecase has ten
unauthorised sessions (O) in them — persistently absent and at the penalty-notice threshold
(10 sessions within 10 school weeks) on Tuesday 16/09/2025 PM. Signed in as the attendance
officer, on her Pupil page: an attendance support plan (start, an agreed action, a target, a
review), then the penalty-notice ledger (threshold, a Notice to Improve dated in the past so its
period has ended, its outcome "not met", the decision to issue, the notice issued); then
Reports → Court file, downloaded as CSV and PDF and read back; and the audit log checked.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from core import auth, store
from core.importers import import_file
from tests.browser import conftest
from tests.browser.conftest import school_app, sign_in, submit
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

pytestmark = pytest.mark.browser

MONDAYS = (date(2025, 9, 8), date(2025, 9, 15))
SURNAME, FORENAME = "Wholecase", "Wren"
PARENT = "Rowan Wholecase"
BARRIERS = "Anxiety about the bus in the morning"
PLAN_ACTION = "Breakfast club every morning from Monday"
REVIEW_NOTE = "Two weeks of breakfast club; mornings better"
DECISION_REASON = "Notice to Improve not met: no improvement"
NTI_ISSUED, NTI_ENDS = "22/09/2025", "27/10/2025"  # five weeks (3–6 allowed), long past


def whole_case_school(db_path, exports) -> int:
    """The roll and two weeks of marks; returns Wren's pupil id."""
    exports.mkdir(parents=True, exist_ok=True)
    roll = exports / "roll.csv"
    roll.write_text(roll_csv({"surname": SURNAME, "forename": FORENAME},
                             {"surname": "Present", "forename": "Pat"},
                             {"surname": "Punctual", "forename": "Pip"}) + "\n", encoding="utf-8")
    patterns = [["OOOOOO....", "OOOO......"], [".........."] * 2, [".........."] * 2]
    with store.opened(db_path) as db:
        store.set_setting(db, "school_name", "Wholecase Academy", "test")
        auth.create_demo_users(db)
        import_file(db, roll, "officer")
        for week, monday in enumerate(MONDAYS):
            marks = exports / f"week_{week + 1}.csv"
            marks.write_text(marks_csv(week_rows(monday, [p[week] for p in patterns])) + "\n", encoding="utf-8")
            import_file(db, marks, "officer")
        return int(db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0])


@pytest.fixture(scope="module")
def whole_case_app(tmp_path_factory):
    with school_app(tmp_path_factory, "whole_case_school", whole_case_school) as (server, school):
        yield server, school


def click(page: Page, target: Locator) -> None:
    target.click()
    conftest.settled(page)


def type_date(within: Locator, label: str, value: str) -> None:
    """Type a date (dd/mm/yyyy) into a Streamlit date input (day, month and year segments) and leave it.
    The rerun the last field's change started is let finish first (keys typed while it draws
    can land in a field it replaces); a date the page did not take is typed again."""
    field = within.locator("[data-testid='stDateInput']").filter(has_text=label)
    day, month, year = value.split("/")
    shown = field.locator("input[type='date']")
    for _ in range(3):
        conftest.settled(field.page)
        field.get_by_role("spinbutton").first.click()
        field.page.keyboard.type(value.replace("/", ""))
        field.page.keyboard.press("Tab")
        try:
            expect(shown).to_have_value(f"{year}-{month}-{day}", timeout=5000)
            return
        except AssertionError:
            continue
    expect(shown).to_have_value(f"{year}-{month}-{day}")


def saved(page: Page, message: str) -> None:
    expect(page.get_by_text(message).first).to_be_visible()
    conftest.settled(page)


def dialog_form(page: Page, opener: str, title: str) -> Locator:
    """Click a plan button and wait for its dialog (a rerun may swallow the click: try again)."""
    dialog = page.get_by_role("dialog")
    for _ in range(3):
        click(page, page.get_by_role("button", name=opener, exact=True).first)
        try:
            expect(dialog.get_by_text(title)).to_be_visible(timeout=8000)
            return dialog
        except AssertionError:
            continue
    expect(dialog.get_by_text(title)).to_be_visible()
    return dialog


def ledger_entry(page: Page, next_step: str) -> Locator:
    """The ledger entry's expander (titled with its next step), opened."""
    expander = page.locator("[data-testid='stExpander']").filter(has_text=f"{PARENT} —").filter(
        has_text=next_step).last
    expect(expander).to_be_visible()
    details = expander.locator("details")
    if details.get_attribute("open") is None:
        click(page, expander.locator("summary"))
    expect(details).to_have_attribute("open", "")
    # Opening animates the expander's height (half a second): let it end before its form is used.
    details.evaluate("(d) => Promise.all(d.getAnimations({subtree: true}).map((a) => a.finished))")
    return expander


def test_one_whole_case_from_plan_to_court_file(whole_case_app, page, tmp_path):
    server, school = whole_case_app
    pupil_id = school.made
    sign_in(page, server.url, "officer", f"pupil?pupil={pupil_id}")
    expect(page.get_by_role("heading", name=re.compile(f"{SURNAME}, {FORENAME}"))).to_be_visible()
    conftest.settled(page)

    # --- the attendance support plan: start, an agreed action, a target, a review ------------
    dialog = dialog_form(page, "Start a support plan", "Start an attendance support plan")
    dialog.get_by_label("Barriers to attendance").fill(BARRIERS)
    submit(page, dialog.get_by_role("button", name="Start plan"))
    saved(page, "Support plan started")
    expect(page.get_by_text(BARRIERS)).to_be_visible()

    dialog = dialog_form(page, "Add action", "Support plan: add an agreed action")
    dialog.get_by_label("What was agreed").fill(PLAN_ACTION)
    submit(page, dialog.get_by_role("button", name="Add action"))
    saved(page, "Action added to the support plan.")

    dialog = dialog_form(page, "Set target", "Support plan: set a target")
    submit(page, dialog.get_by_role("button", name="Set target"))
    saved(page, "Target 90.0% by")

    dialog = dialog_form(page, "Review", "Support plan: record a review")
    dialog.get_by_label("Notes").fill(REVIEW_NOTE)
    submit(page, dialog.get_by_role("button", name="Save review"))
    saved(page, "Review recorded; the next is due")

    # --- the penalty-notice ledger --------------------------------------------------------------
    expect(page.get_by_role("heading", name="Penalty-notice ledger")).to_be_visible()
    click(page, page.get_by_role("button", name="Record a threshold reached"))
    popover = page.locator("[data-testid='stPopoverBody']")
    popover.get_by_role("textbox", name="Parent or carer", exact=True).fill(PARENT)
    submit(page, popover.get_by_role("button", name="Find the threshold and record it"))
    saved(page, "Threshold recorded in the ledger with the sessions behind it.")
    expect(page.get_by_text(f"Threshold of 16/09/2025 · {PARENT}")).to_be_visible()

    entry = ledger_entry(page, "Threshold of 16/09/2025")
    type_date(entry, "Notice to Improve issued on", NTI_ISSUED)
    type_date(entry, "Improvement period ends", NTI_ENDS)
    submit(page, entry.get_by_role("button", name="Record Notice to Improve"))
    saved(page, "Notice to Improve recorded.")

    entry = ledger_entry(page, "Threshold of 16/09/2025")
    click(page, entry.get_by_text("Not met", exact=True))
    submit(page, entry.get_by_role("button", name="Record the outcome"))
    saved(page, "Notice to Improve outcome recorded.")

    entry = ledger_entry(page, "Threshold of 16/09/2025")
    click(page, entry.get_by_text("Issue a penalty notice", exact=True))
    entry.get_by_role("textbox", name="Reason", exact=True).fill(DECISION_REASON)
    submit(page, entry.get_by_role("button", name="Record the decision"))
    saved(page, "Decision recorded.")

    entry = ledger_entry(page, "Threshold of 16/09/2025")
    submit(page, entry.get_by_role("button", name="Record notice issued"))
    saved(page, "Notice recorded as issued")
    # The ledger's table (its "Threshold reached" column), not the chronology's "threshold reached" line.
    ledger = page.locator("[data-testid='stDataFrame']").filter(has_text=re.compile("Threshold reached"))
    expect(ledger).to_contain_text(f"{NTI_ISSUED} to {NTI_ENDS} · not met")
    # The pupil's one chronology holds the ledger's steps beside the plan's.
    chronology = page.locator("[data-testid='stDataFrame']").filter(has_text="Support plan reviewed")
    expect(chronology).to_contain_text("Notice to Improve issued")
    expect(chronology).to_contain_text("Penalty-notice decision: Issue a penalty notice")

    # --- Reports → Court file ---------------------------------------------------------------------
    conftest.open_screen(page, "Reports", settle=True)
    click(page, page.get_by_role("radio", name="Court file"))
    pupil_box = page.get_by_role("combobox", name="Pupil", exact=True)
    expect(pupil_box).to_have_value(re.compile(SURNAME))
    expect(page.get_by_text("a support plan ·")).to_be_visible()
    expect(page.get_by_text("1 penalty notice")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Court file (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    conftest.settled(page)
    sections = {r["Section"] for r in rows}
    assert {"Register", "Support plan", "Plan review", "Penalty notice"} <= sections, sections
    registers = [r for r in rows if r["Section"] == "Register"]
    assert [r["Entry"] for r in registers] == ["O O O O O O / \\ / \\", "O O O O / \\ / \\ / \\"], registers
    text = "\n".join(" | ".join(r.values()) for r in rows)
    assert BARRIERS in text and REVIEW_NOTE in text and PLAN_ACTION in text
    assert any(r["Section"] == "Penalty notice" and PARENT in r["Entry"] for r in rows), rows

    with page.expect_download() as download:
        page.get_by_role("button", name="Court file (PDF)").click()
    pdf = tmp_path / "court.pdf"
    download.value.save_as(pdf)
    conftest.settled(page)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pdf_text = ""
    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout
        squashed = " ".join(pdf_text.split())
        for wanted in ("Registers, week by week", "Attendance support plan and its reviews", "Penalty notices",
                       REVIEW_NOTE.split(";")[0], SURNAME):
            assert wanted in squashed, wanted

    # --- the audit log --------------------------------------------------------------------------
    with store.opened(school.db) as db:
        actions = [a for (a,) in db.execute("SELECT action FROM audit WHERE username = 'officer' ORDER BY id")]
    for wanted in ("support_plan.start", "support_plan.action", "support_plan.target", "support_plan.review",
                   "penalty_ledger.open", "penalty_ledger.notice_to_improve", "penalty_ledger.improvement_outcome",
                   "penalty_ledger.decide", "penalty_ledger.issue", "court_file.download"):
        assert wanted in actions, (wanted, actions)
    assert actions.count("court_file.download") >= 2

    # The ledger's story is in the file: the Notice to Improve with its period and outcome, and
    # the decision with its reason (core/court_file.py reads the penalty-notice ledger).
    assert f"Notice to Improve {NTI_ISSUED} to {NTI_ENDS} (Not met)" in text
    assert DECISION_REASON in text and "Issue a penalty notice" in text
    if pdf_text:
        assert "Notice to Improve" in " ".join(pdf_text.split())
