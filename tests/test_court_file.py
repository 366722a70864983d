"""The court file for a section 444 prosecution (issue 17 item 4): complete, scoped, audited."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import pytest

from core import cases, court_file, metrics, support_plans
from core.exports import csv_bytes
from tests.case_school import HEAD, LEAD, OFFICER, first, pupils, second  # noqa: F401 (fixture)
from tests.conftest import marks_csv, week_rows
from tests.test_reports import needs_pdftotext, pdf_text

PERIOD = metrics.Period(date(2025, 9, 1), date(2025, 9, 12))


@pytest.fixture
def prosecution(db, pupils, load):
    """Pupil 1: two weeks of registers, a letter, support offered (some refused), a plan with a
    target and a review, and a penalty notice to a parent."""
    load("marks.csv", marks_csv(week_rows(date(2025, 9, 1), ["..NNOO..GG", ".........."])
                                + week_rows(date(2025, 9, 8), ["OOOOOO....", ".........."])))
    pupil_id = first(pupils)
    cases.log_contact(db, OFFICER, pupil_id, "letter", date(2025, 9, 3), "Jane Parent",
                      "Letter sent: Attendance letter stage 1")
    cases.open_intervention(db, OFFICER, pupil_id, "Home visit", "officer", date(2025, 9, 4), summary="Nobody in",
                            sensitive_note="")
    cases.open_intervention(db, LEAD, pupil_id, "Attendance meeting / clinic", "dsl", date(2025, 9, 5),
                            sensitive_note="Worry disclosed at home")
    plan_id = support_plans.start_plan(db, OFFICER, pupil_id, date(2025, 9, 5), "officer", barriers="Late nights",
                                       early_help="declined")
    refused = support_plans.add_action(db, OFFICER, plan_id, "school", "Breakfast club place", date(2025, 9, 8))
    support_plans.set_action_status(db, OFFICER, refused, "refused")
    support_plans.add_target(db, OFFICER, plan_id, 95, date(2025, 10, 17), date(2025, 9, 5))
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 9, 12), "No change", 55.0)
    cases.open_intervention(db, OFFICER, pupil_id, "Penalty notice", "officer", date(2025, 9, 10),
                            details={"date_issued": date(2025, 9, 10), "paid": "unpaid"}, parent="Jane Parent")
    return pupil_id


def test_the_court_file_holds_registers_letters_support_plan_notices_and_the_certificate(db, prosecution):
    court = court_file.court_file(db, OFFICER, prosecution, PERIOD)
    first_week = court.registers.iloc[0]
    assert first_week["Week beginning"] == date(2025, 9, 1)
    assert [first_week[c] for c in ("Tue AM", "Tue PM", "Wed AM", "Fri AM")] == ["N", "N", "O", "G"]
    assert (first_week["Attended"], first_week["Possible"]) == (4, 10)
    assert list(court.letters["Letter"]) == ["Letter sent: Attendance letter stage 1"]
    assert list(court.letters["To"]) == ["Jane Parent"]
    support = dict(zip(court.support["Support"], court.support["Status"]))
    assert support["Support plan: Breakfast club place"] == "Refused by the family"
    assert support["Early Help"] == "Offered and declined by the family"
    assert "Home visit (tier 3 Listen and understand)" in support
    assert not any("Penalty" in s for s in support)  # enforcement is not support
    assert court.plan.plan["barriers"] == "Late nights" and list(court.plan.reviews["review_note"]) == ["No change"]
    assert list(court.targets["status_label"]) == ["Behind"]
    assert list(court.notices["Parent"]) == ["Jane Parent"] and list(court.notices["Amount"]) == ["£80 by 01/10/2025, else £160 by 08/10/2025"]
    text = court_file.certificate_text(court, masked=False)
    assert "Surname1, Forename1, born 15/01/2014," in text and "from 01/09/2025 to 12/09/2025" in text
    assert "8 of 20 possible sessions attended (40.0%); 0 sessions of authorised and 12 of unauthorised" in text


def test_the_court_file_never_carries_sensitive_notes(db, prosecution):
    court = court_file.court_file(db, LEAD, prosecution, PERIOD)
    table = csv_bytes(court_file.court_file_frame(court, masked=False)).decode("utf-8")
    assert "Worry disclosed" not in table
    assert "Late nights" in table and "No change" in table  # the plan's barriers and review notes do go


def test_the_court_file_csv_has_every_section(db, prosecution):
    court = court_file.court_file(db, OFFICER, prosecution, PERIOD)
    rows = list(csv.DictReader(io.StringIO(csv_bytes(court_file.court_file_frame(court, False)).decode("utf-8-sig"))))
    sections = {r["Section"] for r in rows}
    assert {"Pupil", "Figures", "Register", "Chronology", "Letter sent", "Support offered", "Support plan",
            "Plan target", "Plan review", "Penalty notice", "Certificate"} <= sections
    register = [r for r in rows if r["Section"] == "Register"]
    assert register[0]["Date"] == "01/09/2025" and register[0]["Entry"] == "/ \\ N N O O / \\ G G"


def test_a_head_of_section_cannot_make_a_court_file_for_a_pupil_outside_their_sections(db, prosecution, pupils):
    court_file.court_file(db, HEAD, prosecution, PERIOD)  # Year 7: theirs
    with pytest.raises(cases.CaseError, match="not in your sections"):
        court_file.court_file(db, HEAD, second(pupils), PERIOD)  # Year 3


def test_a_viewer_cannot_make_a_court_file(db, prosecution):
    from tests.case_school import VIEWER
    with pytest.raises(cases.CaseError, match="case work"):
        court_file.court_file(db, VIEWER, prosecution, PERIOD)


def test_making_a_court_file_is_audited_with_who_which_pupil_and_format(db, db_path, prosecution):
    court_file.made(str(db_path), OFFICER, prosecution, PERIOD, masked=False, extension="csv")
    court_file.made(str(db_path), OFFICER, prosecution, PERIOD, masked=False, extension="pdf")
    entries = db.execute("SELECT username, detail FROM audit WHERE action = 'court_file.download' ORDER BY id").fetchall()
    assert [u for u, _ in entries] == ["officer", "officer"]
    assert f'"pupil_id": {prosecution}' in entries[0][1] and '"format": "csv"' in entries[0][1]


def test_in_meeting_mode_the_court_file_has_initials_and_no_parents_identifiers_or_plan_notes(db, prosecution):
    court = court_file.court_file(db, replace(OFFICER, shared_screen=True), prosecution, PERIOD)
    table = csv_bytes(court_file.court_file_frame(court, masked=True)).decode("utf-8")
    for hidden in ("Surname1", "Forename1", "Jane", "Late nights", "No change", "15/01/2014"):
        assert hidden not in table
    assert "F. S." in table


@needs_pdftotext
def test_the_court_file_pdf_prints_each_part_and_the_certificate_to_sign(db, prosecution):
    court = court_file.court_file(db, OFFICER, prosecution, PERIOD)
    text = " ".join(pdf_text(court_file.court_file_pdf(court, masked=False)).split())
    for expected in ("Court file — Surname1, Forename1 (7A)", "Registers, week by week", "Letters sent",
                     "Support offered, taken up and refused", "Breakfast club place", "Refused by the family",
                     "Attendance support plan", "Penalty notices", "Jane Parent", "section 564",
                     "Head teacher"):
        assert expected in text
