"""Children missing education: the statutory steps after a pupil is absent without a reason,
each due on a school day counted from the first day of absence, overdue when not done by
then, recorded with who and when (issue 17 item 3)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from core import auth, calendar, cases, missing_education as cme, store
from tests.case_school import HEAD, OFFICER, first, pupils, second  # noqa: F401 (fixture)
from tests.conftest import marks_csv, week_rows

MONDAY = date(2025, 9, 8)


def days(*isos: str) -> np.ndarray:
    return np.array([calendar.to_day(date.fromisoformat(d)) for d in isos])


# --- school days ---------------------------------------------------------------------------------


def test_school_days_are_the_days_the_school_held_a_session_then_weekdays():
    # Wednesday 10/09 was an INSET day (no session); the registers end on Friday 12/09.
    known = days("2025-09-08", "2025-09-09", "2025-09-11", "2025-09-12")
    found = cme.school_day_dates(MONDAY, 6, known, date(2025, 9, 12))
    assert found == [date(2025, 9, 8), date(2025, 9, 9), date(2025, 9, 11), date(2025, 9, 12), date(2025, 9, 15),
                     date(2025, 9, 16)]


def test_with_no_registers_yet_school_days_are_weekdays():
    assert cme.school_day_dates(date(2025, 9, 12), 3, np.array([], dtype=np.int64), None) == [
        date(2025, 9, 12), date(2025, 9, 15), date(2025, 9, 16)]


def test_the_steps_fall_due_on_school_days_1_3_10_and_20(db):
    dues = cme.due_dates(db, MONDAY)
    assert dues == {"first_day_contact": date(2025, 9, 8), "enquiries": date(2025, 9, 10),
                    "home_visit": date(2025, 9, 19), "joint_enquiries": date(2025, 10, 3)}


def test_a_day_without_a_session_in_the_registers_is_not_counted(db, load, pupils):
    rows = [r for r in week_rows(MONDAY, ["." * 10, "." * 10]) if r[1] != "2025-09-10"]
    load("marks.csv", marks_csv(rows))
    assert cme.due_dates(db, MONDAY)["enquiries"] == date(2025, 9, 11)


def test_the_due_days_are_a_setting(db):
    store.set_setting(db, "cme_step_school_days",
                      {"first_day_contact": 1, "enquiries": 2, "home_visit": 5, "joint_enquiries": 15}, "admin")
    assert cme.due_dates(db, MONDAY)["home_visit"] == date(2025, 9, 12)


# --- the case and its steps -------------------------------------------------------------------------


def status(db, today: date, viewer=OFFICER) -> dict[str, str]:
    return dict(zip(*cme.steps(db, viewer, today)[["step", "status"]].to_numpy().T))


def test_a_step_not_done_by_its_due_day_is_overdue_the_day_after(db, pupils):
    cme.open_case(db, OFFICER, first(pupils), MONDAY)
    assert status(db, MONDAY) == {"first_day_contact": "Due by 08/09/2025", "enquiries": "Due from 10/09/2025",
                                  "home_visit": "Due by 19/09/2025", "joint_enquiries": "Due by 03/10/2025"}
    assert status(db, date(2025, 9, 9))["first_day_contact"] == "Overdue"
    assert status(db, date(2025, 9, 10))["enquiries"] == "Due from 10/09/2025"
    assert status(db, date(2025, 9, 11))["enquiries"] == "Overdue"
    assert cme.overdue_steps(db, OFFICER, date(2025, 9, 11))["step"].tolist() == ["first_day_contact", "enquiries"]


def test_a_step_recorded_is_done_with_who_and_when(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    cme.record_step(db, OFFICER, case, "first_day_contact", MONDAY, "Olu Officer", "Rang mother, no answer; texted.")
    done = cme.steps(db, OFFICER, date(2025, 9, 9)).set_index("step").loc["first_day_contact"]
    assert (done["status"], done["done_on"], done["done_by"], done["note"]) == (
        "Done", MONDAY, "Olu Officer", "Rang mother, no answer; texted.")
    assert cme.overdue_steps(db, OFFICER, date(2025, 9, 9)).empty


def test_a_step_is_recorded_once_and_not_before_the_absence_began(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    with pytest.raises(cases.CaseError, match="dated before the absence began"):
        cme.record_step(db, OFFICER, case, "home_visit", MONDAY - timedelta(days=1))
    cme.record_step(db, OFFICER, case, "home_visit", MONDAY)
    with pytest.raises(cases.CaseError, match="Home visit is already recorded"):
        cme.record_step(db, OFFICER, case, "home_visit", MONDAY)


def test_one_open_case_a_pupil(db, pupils):
    cme.open_case(db, OFFICER, first(pupils), MONDAY)
    with pytest.raises(cases.CaseError, match="already open for this pupil"):
        cme.open_case(db, OFFICER, first(pupils), date(2025, 9, 15))


def test_removal_from_roll_waits_for_20_school_days_and_the_joint_enquiries(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    with pytest.raises(cases.CaseError, match="only after 20 school days' absence: not before 04/10/2025"):
        cme.close_case(db, OFFICER, case, cme.REMOVED, date(2025, 10, 3))
    with pytest.raises(cases.CaseError, match="Record the joint enquiries"):
        cme.close_case(db, OFFICER, case, cme.REMOVED, date(2025, 10, 6))
    cme.record_step(db, OFFICER, case, "joint_enquiries", date(2025, 10, 2), "LA CME officer")
    cme.close_case(db, OFFICER, case, cme.REMOVED, date(2025, 10, 6))
    assert cme.steps(db, OFFICER, date(2025, 10, 6)).empty  # closed cases leave the open list
    assert set(cme.steps(db, OFFICER, date(2025, 10, 6), open_only=False)["status"]) == {"Done", "Closed"}


def test_a_closed_case_has_no_overdue_steps_and_takes_no_more(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    cme.close_case(db, OFFICER, case, cme.RETURNED, date(2025, 9, 9))
    assert cme.overdue_steps(db, OFFICER, date(2025, 12, 1)).empty
    with pytest.raises(cases.CaseError, match="This case is closed"):
        cme.record_step(db, OFFICER, case, "home_visit", date(2025, 9, 10))


def test_every_write_is_in_the_audit_log(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    cme.record_step(db, OFFICER, case, "first_day_contact", MONDAY)
    cme.close_case(db, OFFICER, case, cme.RETURNED, date(2025, 9, 9))
    log, _ = store.audit_log(db, action="cme")
    assert sorted(log["action"]) == ["cme.close", "cme.open", "cme.step"]
    assert set(log["pupil_id"]) == {first(pupils)} and set(log["username"]) == {"officer"}


def test_a_head_of_section_sees_and_records_only_their_sections_pupils(db, pupils):
    cme.open_case(db, OFFICER, second(pupils), MONDAY)
    with pytest.raises(cases.CaseError, match="not in your sections"):
        cme.open_case(db, HEAD, second(pupils), date(2025, 9, 15))
    cme.open_case(db, HEAD, first(pupils), MONDAY)
    assert set(cme.steps(db, HEAD, MONDAY)["pupil_id"]) == {first(pupils)}


def test_meeting_mode_shows_the_steps_but_not_the_notes_or_who(db, pupils):
    case = cme.open_case(db, OFFICER, first(pupils), MONDAY)
    cme.record_step(db, OFFICER, case, "home_visit", MONDAY, "Olu Officer", "Neighbour says family moved to Leeds.")
    shared = auth.Viewer("officer", "attendance_officer", shared_screen=True)
    visit = cme.steps(db, shared, MONDAY).set_index("step").loc["home_visit"]
    assert visit["status"] == "Done"
    assert visit["note"] == visit["done_by"] == "(hidden in meeting mode)"
