"""Case work: actions, check-ins, contacts, who may read what, and whether it worked."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases
from tests.conftest import make_upn, marks_csv, roll_csv

OFFICER = cases.Viewer("officer", "attendance_officer")
LEAD = cases.Viewer("dsl", "pastoral_lead")
HEAD = cases.Viewer("hos", "head_of_section")
VIEWER = cases.Viewer("governor", "viewer")


@pytest.fixture
def pupils(db, load):
    load("roll.csv", roll_csv({}, {"year_group": "3", "form": "3A", "dob": "2018-01-10"}))
    return {upn: pid for upn, pid in db.execute("SELECT upn, id FROM pupils")}


def first(pupils):
    return pupils[make_upn(1)]


def test_an_action_with_a_check_in_shows_in_the_caseload_and_is_overdue_after_its_date(db, pupils):
    cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 10, 1),
                            summary="Mum at home", check_in_on=date(2025, 10, 15))
    before = cases.checkins(db, OFFICER, today=date(2025, 10, 15), owner="officer")
    after = cases.checkins(db, OFFICER, today=date(2025, 10, 16), owner="officer")
    assert list(before["overdue"]) == [False]
    assert list(after["overdue"]) == [True]
    assert after["type"].iloc[0] == "Home visit"


def test_completing_a_check_in_takes_it_off_the_overdue_list_and_can_book_the_next(db, pupils):
    cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 10, 1),
                            check_in_on=date(2025, 10, 8))
    due = cases.checkins(db, OFFICER, today=date(2025, 10, 20))
    cases.complete_checkin(db, OFFICER, int(due["id"].iloc[0]), date(2025, 10, 20), "Attending again",
                           next_due_on=date(2025, 11, 3))
    still_due = cases.checkins(db, OFFICER, today=date(2025, 10, 20))
    assert list(still_due["due_on"]) == [date(2025, 11, 3)]
    assert not still_due["overdue"].any()


def test_a_reduced_timetable_needs_a_review_date(db, pupils):
    with pytest.raises(cases.CaseError, match="review date"):
        cases.open_intervention(db, OFFICER, first(pupils), "Reduced (part-time) timetable", "officer", date(2025, 10, 1))
    cases.open_intervention(db, OFFICER, first(pupils), "Reduced (part-time) timetable", "officer", date(2025, 10, 1),
                            review_on=date(2025, 11, 5))
    due = cases.reduced_timetables_due(db, OFFICER, today=date(2025, 11, 1))
    assert list(due["review_on"]) == [date(2025, 11, 5)]


def test_a_viewer_cannot_record_a_case(db, pupils):
    with pytest.raises(cases.CaseError, match="cannot|not record"):
        cases.open_intervention(db, VIEWER, first(pupils), "Home visit", "governor", date(2025, 10, 1))


def test_viewers_see_no_notes_and_only_the_lead_sees_sensitive_notes(db, pupils):
    cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 10, 1),
                            summary="Spoke to dad", sensitive_note="Disclosed worries at home")
    assert "summary" not in cases.interventions(db, VIEWER).columns
    assert "sensitive_note" not in cases.interventions(db, VIEWER).columns
    assert "sensitive_note" not in cases.interventions(db, HEAD).columns
    assert cases.interventions(db, HEAD)["summary"].iloc[0] == "Spoke to dad"
    assert cases.interventions(db, LEAD)["sensitive_note"].iloc[0] == "Disclosed worries at home"


def test_only_the_lead_may_change_a_sensitive_note(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 10, 1))
    with pytest.raises(cases.CaseError, match="sensitive"):
        cases.edit_intervention(db, OFFICER, action, sensitive_note="x")
    cases.edit_intervention(db, LEAD, action, sensitive_note="Noted")


def test_editing_and_closing_keep_history_and_nothing_is_deleted(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Attendance contract", "officer", date(2025, 10, 1),
                                     summary="Signed")
    cases.edit_intervention(db, OFFICER, action, owner="dsl")
    cases.close_intervention(db, LEAD, action, "Attendance up to 96%", date(2025, 12, 1))
    history = db.execute("SELECT before FROM intervention_history WHERE intervention_id = ?", (action,)).fetchall()
    assert len(history) == 2 and '"owner": "officer"' in history[0][0]
    closed = cases.interventions(db, LEAD)
    assert (closed["status"].iloc[0], closed["outcome"].iloc[0], closed["owner"].iloc[0]) == ("closed", "Attendance up to 96%", "dsl")
    with pytest.raises(cases.CaseError, match="closed"):
        cases.edit_intervention(db, OFFICER, action, summary="changed")


def test_every_create_edit_and_close_is_audited_with_who(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 10, 1),
                                     check_in_on=date(2025, 10, 8))
    cases.edit_intervention(db, OFFICER, action, summary="More detail")
    cases.close_intervention(db, LEAD, action, "Resolved", date(2025, 10, 20))
    cases.log_contact(db, OFFICER, first(pupils), "call", date(2025, 10, 2), "mother", "Ill with flu")
    audited = db.execute("SELECT username, action FROM audit WHERE action NOT LIKE 'import%' ORDER BY id").fetchall()
    assert audited == [("officer", "intervention.open"), ("officer", "checkin.schedule"),
                       ("officer", "intervention.edit"), ("dsl", "intervention.close"), ("officer", "contact.log")]


def test_scope_restricts_cases_to_the_heads_pupils(db, pupils):
    for pupil_id in pupils.values():
        cases.open_intervention(db, OFFICER, pupil_id, "Home visit", "officer", date(2025, 10, 1))
    mine = cases.interventions(db, HEAD, pupil_ids=[first(pupils)])
    assert list(mine["pupil_id"]) == [first(pupils)]


def test_the_latest_action_and_next_check_in_per_pupil(db, pupils):
    pid = first(pupils)
    cases.open_intervention(db, OFFICER, pid, "First-day call", "officer", date(2025, 9, 10))
    cases.open_intervention(db, OFFICER, pid, "Home visit", "officer", date(2025, 9, 20), check_in_on=date(2025, 9, 27))
    latest = cases.latest_actions(db, today=date(2025, 10, 1)).set_index("pupil_id").loc[pid]
    assert (latest["last_action"], latest["last_action_on"], latest["next_check_in"]) == (
        "Home visit", date(2025, 9, 20), date(2025, 9, 27))
    assert latest["check_in_overdue"]


def test_penalty_notices_this_academic_year_are_counted_per_pupil(db, pupils):
    pid = first(pupils)
    for issued in ("2025-07-01", "2025-10-01", "2025-11-15"):
        cases.open_intervention(db, OFFICER, pid, "Penalty notice", "officer", date.fromisoformat(issued),
                                details={"date_issued": issued, "paid": "unpaid"})
    notices = cases.penalty_notices(db, OFFICER, today=date(2025, 12, 1))
    assert list(notices["notices"]) == [2]


def test_impact_compares_attendance_before_and_after_an_action(db, pupils, load):
    upn = make_upn(1)
    days = ["2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12", "2025-09-15", "2025-09-16", "2025-09-17"]
    rows = [(upn, d, s, "N" if i < 4 else "/") for i, d in enumerate(days) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    cases.open_intervention(db, OFFICER, first(pupils), "Home visit", "officer", date(2025, 9, 12))
    result = cases.impact(db, OFFICER, school_days=4).iloc[0]
    assert (result["before_pct"], result["after_pct"], result["change_pts"]) == (0.0, 100.0, 100.0)
    assert result["after_days"] == 4
    by_type = cases.impact_by_type(cases.impact(db, OFFICER, school_days=4))
    assert by_type.iloc[0]["improved"] == 1 and by_type.iloc[0]["indicative_only"]


def test_pupils_below_90_with_no_recent_action_are_listed(db, pupils, load):
    from core import metrics

    upn1, upn2 = make_upn(1), make_upn(2)
    rows = [(u, "2025-09-08", s, "N") for u in (upn1, upn2) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    cases.open_intervention(db, OFFICER, pupils[upn1], "Home visit", "officer", date(2025, 9, 9))
    figures = metrics.pupil_figures(db, metrics.default_period(db))
    stale = cases.without_recent_action(db, figures, today=date(2025, 9, 12), days=10)
    assert list(stale["upn"]) == [upn2]
