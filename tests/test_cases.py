"""Case work: actions, check-ins, contacts, who may read and write what, and the lists the
team works from."""

from __future__ import annotations

from datetime import date

import pytest

from core import auth, cases, intervention_types, store
from tests.case_school import ADMIN, HEAD, LEAD, OFFICER, VIEWER, first, pupils, second, visit
from tests.conftest import make_upn, marks_csv

# --- actions and check-ins ------------------------------------------------------------


def test_an_action_with_a_check_in_shows_in_the_caseload_and_is_overdue_after_its_date(db, pupils):
    visit(db, first(pupils), summary="Mum at home", check_in_on=date(2025, 10, 15))
    before = cases.checkins(db, OFFICER, today=date(2025, 10, 15), owner="officer")
    after = cases.checkins(db, OFFICER, today=date(2025, 10, 18), owner="officer")
    assert list(before["overdue"]) == [False]
    assert list(after["overdue"]) == [True] and list(after["days_overdue"]) == [3]
    assert after["type"].iloc[0] == "Home visit"


def test_the_caseload_lists_only_the_owners_open_actions(db, pupils):
    visit(db, first(pupils))
    cases.open_intervention(db, OFFICER, second(pupils), "First-day call", "dsl", date(2025, 10, 1))
    mine = cases.interventions(db, OFFICER, status="open", owner="officer")
    assert list(mine["type"]) == ["Home visit"]


def test_completing_a_check_in_takes_it_off_the_overdue_list_and_can_book_the_next(db, pupils):
    visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    due = cases.checkins(db, OFFICER, today=date(2025, 10, 20))
    cases.complete_checkin(db, OFFICER, int(due["id"].iloc[0]), date(2025, 10, 20), "Attending again",
                           next_due_on=date(2025, 11, 3))
    still_due = cases.checkins(db, OFFICER, today=date(2025, 10, 20))
    assert list(still_due["due_on"]) == [date(2025, 11, 3)]
    assert not still_due["overdue"].any()


def test_a_check_in_needs_an_outcome_and_cannot_be_done_twice(db, pupils):
    visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    checkin = int(cases.checkins(db, OFFICER, today=date(2025, 10, 8))["id"].iloc[0])
    with pytest.raises(cases.CaseError, match="how the check-in went"):
        cases.complete_checkin(db, OFFICER, checkin, date(2025, 10, 8), " ")
    cases.complete_checkin(db, OFFICER, checkin, date(2025, 10, 8), "Fine")
    with pytest.raises(cases.CaseError, match="already been done"):
        cases.complete_checkin(db, OFFICER, checkin, date(2025, 10, 9), "Again")


def test_a_check_in_cannot_be_before_its_action_started(db, pupils):
    with pytest.raises(cases.CaseError, match="before the date the action started"):
        visit(db, first(pupils), check_in_on=date(2025, 9, 30))


def test_a_reduced_timetable_needs_a_review_date_and_is_listed_when_its_review_is_near(db, pupils):
    with pytest.raises(cases.CaseError, match="review date"):
        cases.open_intervention(db, OFFICER, first(pupils), "Reduced (part-time) timetable", "officer", date(2025, 10, 1))
    cases.open_intervention(db, OFFICER, first(pupils), "Reduced (part-time) timetable", "officer", date(2025, 10, 1),
                            review_on=date(2025, 11, 5))
    assert cases.reduced_timetables_due(db, OFFICER, today=date(2025, 10, 20)).empty
    due = cases.reduced_timetables_due(db, OFFICER, today=date(2025, 11, 1))
    assert list(due["review_on"]) == [date(2025, 11, 5)] and not due["review_overdue"].any()
    assert cases.reduced_timetables_due(db, OFFICER, today=date(2025, 11, 6))["review_overdue"].all()


def test_a_closed_reduced_timetable_is_no_longer_due_for_review(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Reduced (part-time) timetable", "officer",
                                     date(2025, 10, 1), review_on=date(2025, 11, 5))
    cases.close_intervention(db, OFFICER, action, "Back full time", date(2025, 11, 5))
    assert cases.reduced_timetables_due(db, OFFICER, today=date(2025, 11, 6)).empty


def test_closing_an_action_settles_its_outstanding_check_ins_without_deleting_them(db, pupils):
    action = visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    cases.close_intervention(db, OFFICER, action, "Moved away", date(2025, 10, 20))
    assert cases.checkins(db, OFFICER, today=date(2025, 10, 30)).empty
    kept = cases.checkins(db, OFFICER, today=date(2025, 10, 30), outstanding_only=False)
    assert list(kept["outcome"]) == [cases.CLOSED_WITH_ACTION] and list(kept["done_on"]) == [date(2025, 10, 20)]


def test_editing_and_closing_keep_history_and_nothing_is_deleted(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Attendance contract", "officer", date(2025, 10, 1),
                                     summary="Signed")
    cases.edit_intervention(db, OFFICER, action, owner="dsl")
    cases.close_intervention(db, LEAD, action, "Attendance up to 96%", date(2025, 12, 1))
    history = db.execute("SELECT before FROM intervention_history WHERE intervention_id = ?", (action,)).fetchall()
    assert len(history) == 2 and '"owner": "officer"' in history[0][0]
    closed = cases.interventions(db, LEAD)
    assert (closed["status"].iloc[0], closed["outcome"].iloc[0], closed["owner"].iloc[0]) == (
        "closed", "Attendance up to 96%", "dsl")
    with pytest.raises(cases.CaseError, match="closed"):
        cases.edit_intervention(db, OFFICER, action, summary="changed")


def test_an_action_needs_an_outcome_to_close(db, pupils):
    action = visit(db, first(pupils))
    with pytest.raises(cases.CaseError, match="outcome"):
        cases.close_intervention(db, OFFICER, action, "", date(2025, 10, 2))


def test_an_edit_that_changes_nothing_records_nothing(db, pupils):
    action = visit(db, first(pupils), summary="Same")
    cases.edit_intervention(db, OFFICER, action, summary="Same")
    assert db.execute("SELECT COUNT(*) FROM intervention_history").fetchone()[0] == 0


def test_an_inactive_type_cannot_be_chosen_for_a_new_action(db, pupils):
    intervention_types.save_type(db, ADMIN, "Home visit", 3, active=False)
    with pytest.raises(cases.CaseError, match="not an intervention type in use"):
        visit(db, first(pupils))


# --- the details a type records -----------------------------------------------------------


def test_a_penalty_notice_records_its_date_issued_and_is_unpaid_until_said_otherwise(db, pupils):
    cases.open_intervention(db, OFFICER, first(pupils), "Penalty notice", "officer", date(2025, 10, 1))
    assert cases.interventions(db, OFFICER)["details"].iloc[0] == {"date_issued": "2025-10-01", "paid": "unpaid"}


def test_a_detail_must_be_one_of_its_choices(db, pupils):
    with pytest.raises(cases.CaseError, match="Paid: choose one of"):
        cases.open_intervention(db, OFFICER, first(pupils), "Penalty notice", "officer", date(2025, 10, 1),
                                details={"paid": "maybe"})


def test_a_type_refuses_details_it_does_not_record(db, pupils):
    with pytest.raises(cases.CaseError, match="does not record paid"):
        visit(db, first(pupils), details={"paid": "paid"})


def test_a_leave_request_cannot_end_before_it_starts(db, pupils):
    with pytest.raises(cases.CaseError, match="ends before it starts"):
        cases.open_intervention(db, OFFICER, first(pupils), "Leave-of-absence request", "officer", date(2025, 10, 1),
                                details={"from_date": date(2025, 11, 10), "to_date": date(2025, 11, 3)})


def test_marking_a_penalty_notice_paid_is_an_edit_that_keeps_the_date_issued(db, pupils):
    action = cases.open_intervention(db, OFFICER, first(pupils), "Penalty notice", "officer", date(2025, 10, 1))
    cases.edit_intervention(db, OFFICER, action, details={"paid": "paid"})
    assert cases.interventions(db, OFFICER)["details"].iloc[0] == {"date_issued": "2025-10-01", "paid": "paid"}


def test_a_safeguarding_referral_records_where_it_is_recorded_and_never_the_concern(db, pupils):
    referral = "Safeguarding referral recorded"
    with pytest.raises(cases.CaseError, match="Where it is recorded"):
        cases.open_intervention(db, LEAD, first(pupils), referral, "dsl", date(2025, 10, 1))
    with pytest.raises(cases.CaseError, match="never the concern"):
        cases.open_intervention(db, LEAD, first(pupils), referral, "dsl", date(2025, 10, 1),
                                summary="Bruise on arm", details={"recorded_in": "CPOMS"})
    action = cases.open_intervention(db, LEAD, first(pupils), referral, "dsl", date(2025, 10, 1),
                                     details={"recorded_in": "CPOMS"})
    with pytest.raises(cases.CaseError, match="never the concern"):
        cases.edit_intervention(db, LEAD, action, sensitive_note="Details of the concern")


# --- who may read and write what ------------------------------------------------------------


def test_a_viewer_cannot_record_a_case(db, pupils):
    with pytest.raises(cases.CaseError, match="not record"):
        cases.open_intervention(db, VIEWER, first(pupils), "Home visit", "governor", date(2025, 10, 1))
    with pytest.raises(cases.CaseError, match="not record"):
        cases.log_contact(db, VIEWER, first(pupils), "call", date(2025, 10, 1), "mother")


def test_viewers_see_no_notes_and_only_the_lead_sees_sensitive_notes(db, pupils):
    visit(db, first(pupils), viewer=LEAD, summary="Spoke to dad", sensitive_note="Disclosed worries at home")
    assert "summary" not in cases.interventions(db, VIEWER).columns
    assert "sensitive_note" not in cases.interventions(db, VIEWER).columns
    assert "sensitive_note" not in cases.interventions(db, HEAD).columns
    assert "sensitive_note" not in cases.interventions(db, OFFICER).columns
    assert cases.interventions(db, HEAD)["summary"].iloc[0] == "Spoke to dad"
    assert cases.interventions(db, LEAD)["sensitive_note"].iloc[0] == "Disclosed worries at home"
    assert cases.interventions(db, ADMIN)["sensitive_note"].iloc[0] == "Disclosed worries at home"


def test_viewers_see_no_contact_or_check_in_notes(db, pupils):
    visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    cases.complete_checkin(db, OFFICER, int(cases.checkins(db, OFFICER, date(2025, 10, 8))["id"].iloc[0]),
                           date(2025, 10, 8), "Better", note="Dad working nights")
    cases.log_contact(db, OFFICER, first(pupils), "call", date(2025, 10, 2), "mother", "Ill with flu")
    assert not {"outcome", "note"} & set(cases.checkins(db, VIEWER, date(2025, 10, 9), outstanding_only=False).columns)
    assert "summary" not in cases.contacts(db, VIEWER).columns


def test_on_a_shared_screen_even_the_lead_sees_no_sensitive_notes(db, pupils):
    visit(db, first(pupils), viewer=LEAD, sensitive_note="Private")
    meeting = auth.Viewer("dsl", "pastoral_lead", shared_screen=True)
    assert "sensitive_note" not in cases.interventions(db, meeting).columns


def test_only_the_lead_or_an_admin_may_write_a_sensitive_note(db, pupils):
    with pytest.raises(cases.CaseError, match="sensitive"):
        visit(db, first(pupils), sensitive_note="x")
    with pytest.raises(cases.CaseError, match="sensitive"):
        cases.log_contact(db, HEAD, first(pupils), "call", date(2025, 10, 2), "mother", sensitive_note="x")
    action = visit(db, first(pupils))
    with pytest.raises(cases.CaseError, match="sensitive"):
        cases.edit_intervention(db, OFFICER, action, sensitive_note="x")
    cases.edit_intervention(db, LEAD, action, sensitive_note="Noted")


def test_a_head_of_section_reads_only_their_sections_cases(db, pupils):
    for pupil_id in pupils.values():
        visit(db, pupil_id, check_in_on=date(2025, 10, 8))
        cases.log_contact(db, OFFICER, pupil_id, "call", date(2025, 10, 2), "mother")
    assert list(cases.interventions(db, HEAD)["pupil_id"]) == [first(pupils)]
    assert list(cases.checkins(db, HEAD, today=date(2025, 10, 9))["pupil_id"]) == [first(pupils)]
    assert list(cases.contacts(db, HEAD)["pupil_id"]) == [first(pupils)]
    assert cases.interventions(db, HEAD, pupil_ids=[second(pupils)]).empty


def test_a_head_of_section_cannot_record_for_a_pupil_outside_their_sections(db, pupils):
    with pytest.raises(cases.CaseError, match="not in your sections"):
        visit(db, second(pupils), viewer=HEAD)
    with pytest.raises(cases.CaseError, match="not in your sections"):
        cases.log_contact(db, HEAD, second(pupils), "call", date(2025, 10, 2), "mother")
    visit(db, first(pupils), viewer=HEAD)  # their own section: fine


def test_a_head_of_section_cannot_edit_close_or_complete_work_on_a_pupil_outside_their_sections(db, pupils):
    action = visit(db, second(pupils), check_in_on=date(2025, 10, 8))
    checkin = int(cases.checkins(db, OFFICER, date(2025, 10, 8))["id"].iloc[0])
    for attempt in (lambda: cases.edit_intervention(db, HEAD, action, summary="x"),
                    lambda: cases.close_intervention(db, HEAD, action, "Done", date(2025, 10, 9)),
                    lambda: cases.complete_checkin(db, HEAD, checkin, date(2025, 10, 9), "Fine"),
                    lambda: cases.schedule_checkin(db, HEAD, second(pupils), date(2025, 10, 20), "hos")):
        with pytest.raises(cases.CaseError, match="not in your sections"):
            attempt()


def test_a_head_of_sections_scope_follows_the_section_setting(db, pupils):
    store.set_setting(db, "sections", {"Secondary": ["3", "7"]}, "admin")
    visit(db, second(pupils), viewer=HEAD)
    assert list(cases.interventions(db, HEAD)["pupil_id"]) == [second(pupils)]


def test_every_create_edit_close_check_in_and_contact_is_audited_with_who(db, pupils):
    action = visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    cases.edit_intervention(db, OFFICER, action, summary="More detail")
    checkin = int(cases.checkins(db, OFFICER, date(2025, 10, 8))["id"].iloc[0])
    cases.complete_checkin(db, LEAD, checkin, date(2025, 10, 8), "Fine")
    cases.close_intervention(db, LEAD, action, "Resolved", date(2025, 10, 20))
    cases.log_contact(db, OFFICER, first(pupils), "call", date(2025, 10, 2), "mother", "Ill with flu")
    audited = db.execute("SELECT username, action, at FROM audit WHERE action NOT LIKE 'import%' ORDER BY id").fetchall()
    assert [(who, what) for who, what, _ in audited] == [
        ("officer", "intervention.open"), ("officer", "checkin.schedule"), ("officer", "intervention.edit"),
        ("dsl", "checkin.complete"), ("dsl", "intervention.close"), ("officer", "contact.log")]
    assert all(at for _, _, at in audited)


def test_the_case_stamp_changes_with_every_case_write(db, pupils):
    before = cases.stamp(db)
    action = visit(db, first(pupils))
    after_open = cases.stamp(db)
    cases.edit_intervention(db, OFFICER, action, summary="x")
    assert before < after_open < cases.stamp(db)


# --- key adults -----------------------------------------------------------------------------


def test_a_key_adult_is_a_member_of_staff_and_the_allocation_is_audited(db, pupils):
    db.execute("INSERT INTO users (username, name, password_hash, role, created_at) "
               "VALUES ('mentor', 'Mo Mentor', 'x', 'pastoral_lead', '2025-01-01')")
    with pytest.raises(cases.CaseError, match="not a member of staff"):
        cases.assign_key_adult(db, OFFICER, first(pupils), "nobody")
    cases.assign_key_adult(db, OFFICER, first(pupils), "mentor")
    assert cases.key_adults(db).to_dict("records") == [
        {"pupil_id": first(pupils), "key_adult": "mentor", "key_adult_name": "Mo Mentor"}]
    assert ("officer", "key_adult.assign") in db.execute("SELECT username, action FROM audit").fetchall()


# --- the lists the team works from ------------------------------------------------------------


def test_the_latest_action_and_next_check_in_per_pupil(db, pupils):
    pid = first(pupils)
    cases.open_intervention(db, OFFICER, pid, "First-day call", "officer", date(2025, 9, 10))
    visit(db, pid, opened=date(2025, 9, 20), check_in_on=date(2025, 9, 27))
    latest = cases.latest_actions(db, today=date(2025, 10, 1)).set_index("pupil_id").loc[pid]
    assert (latest["last_action"], latest["last_action_on"], latest["next_check_in"]) == (
        "Home visit", date(2025, 9, 20), date(2025, 9, 27))
    assert latest["check_in_overdue"]


def test_a_contact_counts_as_the_latest_action(db, pupils):
    pid = first(pupils)
    visit(db, pid, opened=date(2025, 9, 20))
    cases.log_contact(db, OFFICER, pid, "call", date(2025, 9, 22), "mother")
    latest = cases.latest_actions(db, today=date(2025, 10, 1)).set_index("pupil_id").loc[pid]
    assert (latest["last_action"], latest["last_action_on"]) == ("Phone call", date(2025, 9, 22))


def pa_figures(db, load, pupils):
    from core import metrics

    rows = [(u, "2025-09-08", s, "N") for u in (make_upn(1), make_upn(2)) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    return metrics.pupil_figures(db, metrics.default_period(db))


def test_pupils_below_90_with_no_recent_action_are_listed(db, pupils, load):
    figures = pa_figures(db, load, pupils)
    visit(db, first(pupils), opened=date(2025, 9, 9))
    stale = cases.without_recent_action(db, figures, today=date(2025, 9, 12), days=10)
    assert list(stale["upn"]) == [make_upn(2)]


def test_an_action_older_than_the_setting_no_longer_counts_as_recent(db, pupils, load):
    figures = pa_figures(db, load, pupils)
    visit(db, first(pupils), opened=date(2025, 9, 1))
    assert list(cases.without_recent_action(db, figures, today=date(2025, 9, 11), days=10)["upn"]) == [make_upn(2)]
    assert len(cases.without_recent_action(db, figures, today=date(2025, 9, 12), days=10)) == 2


def test_a_recent_contact_keeps_a_pupil_off_the_no_action_list(db, pupils, load):
    figures = pa_figures(db, load, pupils)
    cases.log_contact(db, OFFICER, second(pupils), "home_visit", date(2025, 9, 10), "grandmother")
    assert list(cases.without_recent_action(db, figures, today=date(2025, 9, 12), days=10)["upn"]) == [make_upn(1)]
