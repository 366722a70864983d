"""The LA's termly targeting-support meeting pack (issue 17 item 5): who is selected, what each
row holds, scope, meeting mode and the audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from core import cases, la_pack, metrics, store, support_plans
from core.exports import csv_bytes
from tests.case_school import HEAD, LEAD, OFFICER  # noqa: F401
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows
from tests.test_reports import needs_pdftotext, pdf_text

PERIOD = metrics.Period(date(2025, 9, 1), date(2025, 9, 5))
# Pupil 1 severely absent (40%), 2 PA with two agencies (80%), 3 PA with one agency (80%),
# 4 present every session, 5 (Year 3, Primary) severely absent (0%).
WEEK = ["NNNNNN....", "NN........", "OO........", "..........", "NNNNNNNNNN"]


@pytest.fixture
def school(db, load):
    load("roll.csv", roll_csv({}, {}, {}, {}, {"year_group": "3", "form": "3A", "dob": "2018-01-10"}))
    load("marks.csv", marks_csv(week_rows(date(2025, 9, 1), WEEK)))
    ids = {upn: pid for upn, pid in db.execute("SELECT upn, id FROM pupils")}
    pupil = {n: ids[make_upn(n)] for n in range(1, 6)}
    two = support_plans.start_plan(db, OFFICER, pupil[2], date(2025, 9, 1), "officer", barriers="Young carer at home",
                                   early_help="accepted")
    support_plans.add_action(db, OFFICER, two, "other", "Weekly sessions", agency="Young carers service")
    cases.open_intervention(db, OFFICER, pupil[2], "Early Help referral", "officer", date(2025, 9, 2),
                            details={"agency": "Early Help hub"})
    cases.open_intervention(db, OFFICER, pupil[3], "Early Help referral", "officer", date(2025, 9, 2),
                            details={"agency": "Early Help hub"})
    return pupil


def selected(pack):
    return list(pack.pupils["pupil_id"])


def test_the_pack_takes_severely_absent_pupils_and_pa_pupils_with_two_or_more_agencies(db, school):
    pack = la_pack.la_pack(db, OFFICER, PERIOD)
    assert selected(pack) == [school[5], school[1], school[2]]  # severe first (lowest first), then PA
    assert list(pack.pupils["why"]) == [la_pack.SEVERE, la_pack.SEVERE, la_pack.PERSISTENT]


def test_the_number_of_agencies_is_the_las_setting(db, school):
    store.set_setting(db, "la_pack_min_agencies", 1, "admin")
    assert school[3] in selected(la_pack.la_pack(db, OFFICER, PERIOD))
    store.set_setting(db, "la_pack_min_agencies", 3, "admin")
    assert school[2] not in selected(la_pack.la_pack(db, OFFICER, PERIOD))


def test_each_row_holds_agencies_barriers_early_help_plan_and_actions(db, school):
    row = la_pack.la_pack(db, OFFICER, PERIOD).pupils.set_index("pupil_id").loc[school[2]]
    assert row["agencies"] == "Early Help hub, Young carers service"
    assert row["barriers"] == "Young carer at home" and row["early_help"] == "Accepted — support open"
    assert row["plan"] == "open, next review 13/10/2025"
    assert row["actions"] == "Early Help referral (02/09/2025)"
    severe = la_pack.la_pack(db, OFFICER, PERIOD).pupils.set_index("pupil_id").loc[school[1]]
    assert severe["early_help"] == "Not offered yet" and severe["barriers"] == "no support plan"


def test_a_head_of_section_gets_their_sections_pupils_only(db, school):
    assert school[5] not in selected(la_pack.la_pack(db, HEAD, PERIOD))  # Year 3: Primary
    assert school[1] in selected(la_pack.la_pack(db, HEAD, PERIOD))


def test_in_meeting_mode_the_pack_has_initials_and_no_upn_or_barriers(db, school):
    pack = la_pack.la_pack(db, replace(OFFICER, shared_screen=True), PERIOD)
    table = csv_bytes(la_pack.la_pack_table(pack, masked=True)).decode("utf-8")
    assert "Surname2" not in table and make_upn(2) not in table and "Young carer at home" not in table
    assert "F. S." in table and "Early Help hub" in table


def test_making_the_pack_is_audited(db, db_path, school):
    la_pack.made(str(db_path), OFFICER, PERIOD, None, masked=False, extension="csv")
    [(who, detail)] = db.execute("SELECT username, detail FROM audit WHERE action = 'la_pack.download'").fetchall()
    assert who == "officer" and '"pupils": 3' in detail and '"format": "csv"' in detail


@needs_pdftotext
def test_the_pack_pdf_names_the_la_and_lists_the_pupils(db, school):
    store.set_setting(db, "local_authority", "Northshire County Council", "admin")
    text = " ".join(pdf_text(la_pack.la_pack_pdf(la_pack.la_pack(db, OFFICER, PERIOD), masked=False)).split())
    assert "Targeting support meeting with Northshire County Council" in text
    assert all(word in text for word in ("Surname2,", "Forename2", "Young", "carers"))  # cells wrap in the layout
    assert "M999000026001" in text and "Not offered" in text
