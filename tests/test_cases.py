"""Case work: actions, check-ins, contacts, who may read and write what, and whether it worked."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core import cases, store
from tests.conftest import make_upn, marks_csv, roll_csv

OFFICER = cases.Viewer("officer", "attendance_officer")
LEAD = cases.Viewer("dsl", "pastoral_lead")
ADMIN = cases.Viewer("admin", "admin")
HEAD = cases.Viewer("hos", "head_of_section", ("Secondary",))
VIEWER = cases.Viewer("governor", "viewer")


@pytest.fixture
def pupils(db, load):
    """Pupil 1 in Year 7 (Secondary), pupil 2 in Year 3 (Primary)."""
    load("roll.csv", roll_csv({}, {"year_group": "3", "form": "3A", "dob": "2018-01-10"}))
    return {upn: pid for upn, pid in db.execute("SELECT upn, id FROM pupils")}


def first(pupils):
    return pupils[make_upn(1)]


def second(pupils):
    return pupils[make_upn(2)]


def visit(db, pupil_id, opened=date(2025, 10, 1), viewer=OFFICER, **fields):
    return cases.open_intervention(db, viewer, pupil_id, "Home visit", viewer.username, opened, **fields)


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
    cases.save_type(db, ADMIN, "Home visit", 3, active=False)
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
    meeting = cases.Viewer("dsl", "pastoral_lead", shared_screen=True)
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


# --- intervention types ---------------------------------------------------------------------


def test_the_types_are_seeded_in_tier_order_from_support_to_enforcement(db):
    types = cases.intervention_types(db)
    assert types["tier"].is_monotonic_increasing
    assert types["name"].iloc[0] == "First-day call" and types["name"].iloc[-1] == "Prosecution referral"


def test_changing_a_types_tier_keeps_the_fields_it_records(db):
    cases.save_type(db, ADMIN, "Penalty notice", 5)
    penalty = cases.intervention_types(db).set_index("name").loc["Penalty notice"]
    assert penalty["tier"] == 5 and penalty["details"] == ("date_issued", "paid")


def test_a_school_adds_its_own_type_and_it_is_audited(db):
    cases.save_type(db, ADMIN, "  Breakfast club  place ", 4)
    assert "Breakfast club place" in set(cases.intervention_types(db)["name"])
    assert db.execute("SELECT username, action FROM audit").fetchall() == [("admin", "intervention_type.save")]


def test_saving_the_edited_list_changes_only_the_types_that_changed(db):
    listed = [(t.name, t.tier, True) for t in cases.SEED_TYPES]
    listed[5] = ("Home visit", 4, False)
    assert cases.save_types(db, ADMIN, listed + [("Breakfast club", 4, True)]) == 2
    types = cases.intervention_types(db, include_inactive=True).set_index("name")
    assert (types.loc["Home visit", "tier"], types.loc["Home visit", "active"]) == (4, False)
    assert "Breakfast club" in types.index


def test_a_type_cannot_be_renamed_or_removed_from_the_list(db):
    listed = [(t.name, t.tier, True) for t in cases.SEED_TYPES if t.name != "Home visit"]
    with pytest.raises(cases.CaseError, match="cannot be renamed or removed.*Home visit"):
        cases.save_types(db, ADMIN, listed + [("Home visits", 3, True)])
    assert "Home visits" not in set(cases.intervention_types(db)["name"])


def test_only_an_admin_or_the_lead_changes_the_types(db):
    with pytest.raises(cases.CaseError, match="Only an admin"):
        cases.save_type(db, OFFICER, "New", 2)


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


# --- penalty notices under the national framework ----------------------------------------------
# DOMAIN.md §4: £80 if paid within 21 days, £160 within 28; a second to the same parent for the
# same child within 3 years is £160 flat; no third — the next step is other action.

JANE, JOHN = "Jane Smith", "John Smith"


def notice(db, pupil_id, issued: str, parent: str | None = JANE, paid: str = "unpaid"):
    return cases.open_intervention(db, OFFICER, pupil_id, "Penalty notice", "officer", date.fromisoformat(issued),
                                   details={"date_issued": issued, "paid": paid}, parent=parent)


def history(db):
    return cases.penalty_notice_history(db, OFFICER)


def next_step(db, pupil_id, on: str, parent: str | None = JANE) -> str:
    return cases.penalty_next_step(db, OFFICER, pupil_id, date.fromisoformat(on), parent)


def test_penalty_notices_this_academic_year_are_counted_per_pupil(db, pupils):
    for issued, parent in (("2025-07-01", JANE), ("2025-10-01", JOHN), ("2025-11-15", JOHN)):
        notice(db, first(pupils), issued, parent)
    notices = cases.penalty_notices(db, OFFICER, today=date(2025, 12, 1))
    assert list(notices["notices_this_year"]) == [2] and list(notices["last_issued"]) == [date(2025, 11, 15)]


def test_a_first_notice_is_80_pounds_within_21_days_or_160_within_28(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    first_notice = history(db).iloc[0]
    assert (first_notice["number_in_window"], first_notice["reduced_amount"], first_notice["reduced_by"],
            first_notice["amount"], first_notice["pay_by"]) == (1, 80, date(2025, 10, 22), 160, date(2025, 10, 29))
    summary = cases.penalty_notices(db, OFFICER, today=date(2025, 10, 2)).iloc[0]
    assert summary["next_step"] == "A second notice within 3 years would be £160 with no reduction."


def test_a_second_notice_to_the_same_parent_for_the_same_child_within_3_years_is_160_pounds_with_no_reduction(
        db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    second_notice = history(db).iloc[1]
    assert (second_notice["number_in_window"], second_notice["amount"]) == (2, 160)
    assert pd.isna(second_notice["reduced_amount"])


def test_a_third_notice_to_the_same_parent_for_the_same_child_within_3_years_is_refused(db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    with pytest.raises(cases.CaseError, match=r"2 notices to Jane Smith for this child in the last 3 years\. "
                                              r"No further notice .* \(until 01/11/2026\): .* e\.g\. prosecution"):
        notice(db, first(pupils), "2025-11-01")
    assert len(history(db)) == 2


def test_after_two_notices_the_next_step_is_other_action_until_the_older_is_3_years_old(db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    summary = cases.penalty_notices(db, OFFICER, today=date(2025, 12, 1)).iloc[0]
    assert (summary["parent"], summary["notices_in_window"]) == (JANE, 2)
    assert pd.isna(summary["next_notice_amount"]) and summary["no_further_notice_until"] == date(2026, 11, 1)
    assert "the next step is other action, e.g. prosecution" in summary["next_step"]
    assert next_step(db, first(pupils), "2026-11-01").endswith("A second notice within 3 years would be £160 with "
                                                               "no reduction.")


def test_a_notice_to_the_other_parent_for_the_same_child_is_a_first(db, pupils):
    notice(db, first(pupils), "2024-11-01")
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2025-11-01", parent=JOHN)
    assert history(db)[["parent", "number_in_window", "reduced_amount"]].values.tolist()[-1] == [JOHN, 1, 80]


def test_a_notice_for_another_child_of_the_same_parent_is_a_first(db, pupils):
    notice(db, first(pupils), "2024-11-01")
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-11-01")
    assert history(db).set_index("pupil_id").loc[second(pupils), "number_in_window"] == 1


def test_the_same_parent_is_recognised_however_their_name_is_typed(db, pupils):
    notice(db, first(pupils), "2025-10-01", parent="Jane Smith")
    notice(db, first(pupils), "2026-03-01", parent="  smith,  JANE ")
    assert history(db)["number_in_window"].tolist() == [1, 2]
    with pytest.raises(cases.CaseError, match="No further notice"):
        notice(db, first(pupils), "2026-06-01", parent="JANE SMITH")


def test_a_notice_exactly_3_years_old_no_longer_counts(db, pupils):
    notice(db, first(pupils), "2022-10-01")
    assert "A second notice" in next_step(db, first(pupils), "2025-09-30")
    assert "A first notice" in next_step(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2025-10-01")
    assert history(db)["number_in_window"].tolist() == [1, 1]


def test_a_notice_a_day_short_of_3_years_old_still_counts(db, pupils):
    notice(db, first(pupils), "2022-10-02")
    notice(db, first(pupils), "2025-10-01")
    assert history(db)["number_in_window"].tolist() == [1, 2]


def test_notices_with_no_parent_recorded_are_counted_together_apart_from_named_parents(db, pupils):
    notice(db, first(pupils), "2025-09-10", parent=None)
    notice(db, first(pupils), "2025-10-01", parent="")
    assert history(db)[["parent", "number_in_window"]].values.tolist() == [
        [cases.PARENT_NOT_RECORDED, 1], [cases.PARENT_NOT_RECORDED, 2]]
    with pytest.raises(cases.CaseError, match="2 notices with no parent recorded for this child"):
        notice(db, first(pupils), "2025-11-01", parent=None)
    assert "A first notice" in next_step(db, first(pupils), "2025-11-01", parent=JANE)


def test_a_notice_entered_late_is_refused_when_it_would_make_a_later_one_the_third(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2026-03-01")
    with pytest.raises(cases.CaseError, match="would make the notice of 01/03/2026 the third to Jane Smith"):
        notice(db, first(pupils), "2025-01-10")
    notice(db, first(pupils), "2022-01-10")  # more than 3 years before either
    assert history(db)["number_in_window"].tolist() == [1, 1, 2]


def test_moving_a_notices_date_issued_is_checked_like_a_new_notice(db, pupils):
    moved = notice(db, first(pupils), "2023-01-10")
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2026-03-01")
    with pytest.raises(cases.CaseError, match="would make the notice of 01/03/2026 the third"):
        cases.edit_intervention(db, OFFICER, moved, details={"date_issued": "2023-06-01"})
    cases.edit_intervention(db, OFFICER, moved, details={"date_issued": "2023-01-20"})
    assert history(db)["date_issued"].tolist()[0] == date(2023, 1, 20)


def test_only_a_penalty_notice_records_the_parent_it_went_to(db, pupils):
    with pytest.raises(cases.CaseError, match="only a penalty notice records who it went to"):
        visit(db, first(pupils), parent=JANE)


def test_the_parent_a_notice_went_to_is_recorded_and_audited(db, pupils):
    action = notice(db, first(pupils), "2025-10-01", parent="  Jane   Smith ")
    assert db.execute("SELECT parent FROM penalty_notice_parents WHERE intervention_id = ?", (action,)).fetchall() == [
        (JANE,)]
    assert db.execute("SELECT username FROM audit WHERE action = 'penalty_notice.parent' AND entity_id = ?",
                      (str(action),)).fetchall() == [("officer",)]


def test_the_amounts_window_and_limit_are_the_schools_settings(db, pupils):
    store.set_setting(db, "penalty_amounts", {"first_paid_within_21_days": 60, "first_paid_within_28_days": 120,
                                              "second": 150}, "admin")
    store.set_setting(db, "penalty_repeat_years", 2, "admin")
    notice(db, first(pupils), "2025-10-01")
    first_notice = history(db).iloc[0]
    assert (first_notice["reduced_amount"], first_notice["amount"]) == (60, 120)
    assert next_step(db, first(pupils), "2026-10-01").endswith("A second notice within 2 years would be £150 with "
                                                               "no reduction.")
    assert "A first notice would be £60 if paid within 21 days, £120 within 28." in next_step(
        db, first(pupils), "2027-10-01")
    store.set_setting(db, "penalty_notices_per_parent_child", 1, "admin")
    with pytest.raises(cases.CaseError, match="within 2 years"):
        notice(db, first(pupils), "2026-10-01")
    assert cases.PenaltyFramework.of(db).describe() == (
        "National framework: a first notice is £60 if paid within 21 days, £120 within 28; there is no second to "
        "the same parent for the same child within 2 years — the next step is other action, e.g. prosecution.")


def test_the_framework_in_words_follows_domain_md_by_default(db):
    assert cases.PenaltyFramework.of(db).describe() == (
        "National framework: a first notice is £80 if paid within 21 days, £160 within 28; a second to the same "
        "parent for the same child within 3 years is £160 with no reduction; there is no third — the next step is "
        "other action, e.g. prosecution.")


def test_a_notice_past_a_limit_lowered_since_is_flagged_beyond_the_framework(db, pupils):
    notice(db, first(pupils), "2025-09-10")
    notice(db, first(pupils), "2025-10-01")
    store.set_setting(db, "penalty_notices_per_parent_child", 1, "admin")
    assert history(db)["beyond_framework"].tolist() == [False, True]


def test_the_form_is_told_where_another_notice_to_that_parent_would_fall_in_the_framework(db, pupils):
    assert next_step(db, first(pupils), "2025-10-01") == (
        "0 notices to Jane Smith for this child in the last 3 years. "
        "A first notice would be £80 if paid within 21 days, £160 within 28.")
    notice(db, first(pupils), "2025-10-01")
    assert next_step(db, first(pupils), "2025-11-01") == (
        "1 notice to Jane Smith for this child in the last 3 years. "
        "A second notice within 3 years would be £160 with no reduction.")
    assert next_step(db, first(pupils), "2025-11-01", parent=JOHN).startswith("0 notices to John Smith")


def test_the_casework_summary_gives_the_next_step_for_the_parent_of_the_latest_notice(db, pupils):
    notice(db, first(pupils), "2024-06-03")
    notice(db, first(pupils), "2025-09-17")
    notice(db, first(pupils), "2025-10-01", parent=JOHN)
    summary = cases.penalty_notices(db, OFFICER, today=date(2025, 12, 1)).iloc[0]
    assert (summary["notices_this_year"], summary["parent"], summary["notices_in_window"]) == (2, JOHN, 1)
    assert summary["next_step"] == "A second notice within 3 years would be £160 with no reduction."
    assert summary["next_notice_amount"] == 160


def test_an_unpaid_notice_past_its_28_days_is_counted(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-10-01", paid="paid")
    summary = cases.penalty_notices(db, OFFICER, today=date(2025, 11, 1)).set_index("pupil_id")
    assert summary.loc[first(pupils), "unpaid_past_due"] == 1 and summary.loc[second(pupils), "unpaid_past_due"] == 0
    assert cases.penalty_notices(db, OFFICER, today=date(2025, 10, 20))["unpaid_past_due"].sum() == 0


def test_a_head_of_section_sees_penalty_notices_for_their_sections_only(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-10-01")
    assert list(cases.penalty_notices(db, HEAD, today=date(2025, 11, 1))["pupil_id"]) == [first(pupils)]


# --- the pupil's chronology ------------------------------------------------------------------


def reached_for(pupil_id, on: str) -> pd.DataFrame:
    return pd.DataFrame({"pupil_id": [pupil_id], "upn": [make_upn(1)], "trigger": ["penalty_notice_threshold"],
                         "reached_on": [on], "detail": [""]})


def test_the_chronology_puts_everything_in_one_timeline_newest_first(db, pupils, load):
    pid = first(pupils)
    load("w1.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "N")]))
    load("w1-corrected.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "I")]))
    action = visit(db, pid, opened=date(2025, 9, 20), summary="Mum at home", check_in_on=date(2025, 10, 4))
    cases.log_contact(db, OFFICER, pid, "call", date(2025, 9, 25), "mother", "Ill")
    cases.close_intervention(db, OFFICER, action, "Back in school", date(2025, 10, 10))
    events = cases.chronology(db, OFFICER, pid, today=date(2025, 10, 12), reached=reached_for(pid, "2025-09-12"))
    assert list(events["kind"]) == ["action_closed", "checkin_done", "contact", "action_opened", "trigger", "mark_change"]
    assert events["on"].tolist() == [date(2025, 10, 10), date(2025, 10, 10), date(2025, 9, 25), date(2025, 9, 20),
                                     date(2025, 9, 12), date(2025, 9, 8)]  # the correction: its data as at
    assert events.set_index("kind").loc["mark_change", "detail"].startswith("08/09/2025 AM N → I")
    assert events.set_index("kind").loc["action_opened", "note"] == "Mum at home"


def test_the_chronology_shows_a_check_in_still_due_and_whether_it_is_overdue(db, pupils):
    visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    events = cases.chronology(db, OFFICER, first(pupils), today=date(2025, 10, 9), reached=reached_for(0, "2025-09-01"))
    due = events[events["kind"] == "checkin_due"].iloc[0]
    assert (due["what"], due["overdue"]) == ("Check-in overdue (Home visit)", True)
    assert due["detail"] == "owner officer; 1 day overdue"


def test_the_chronology_shows_a_viewer_no_notes_and_a_head_no_sensitive_notes(db, pupils):
    visit(db, first(pupils), viewer=LEAD, summary="Spoke to dad", sensitive_note="Private")
    none = reached_for(0, "2025-09-01")
    assert cases.chronology(db, VIEWER, first(pupils), date(2025, 10, 2), none)["note"].isna().all()
    head = cases.chronology(db, HEAD, first(pupils), date(2025, 10, 2), none).iloc[0]
    assert (head["note"], head["sensitive_note"]) == ("Spoke to dad", None)
    assert cases.chronology(db, LEAD, first(pupils), date(2025, 10, 2), none).iloc[0]["sensitive_note"] == "Private"


def test_a_head_of_section_cannot_read_the_chronology_of_a_pupil_outside_their_sections(db, pupils):
    with pytest.raises(cases.CaseError, match="not in your sections"):
        cases.chronology(db, HEAD, second(pupils), date(2025, 10, 2), reached_for(0, "2025-09-01"))


# --- impact ---------------------------------------------------------------------------------


def two_weeks_absent_then_present(load):
    upn = make_upn(1)
    days = ["2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12", "2025-09-15", "2025-09-16", "2025-09-17"]
    rows = [(upn, d, s, "N" if i < 4 else "/") for i, d in enumerate(days) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))


def test_impact_compares_attendance_before_and_after_an_action(db, pupils, load):
    two_weeks_absent_then_present(load)
    visit(db, first(pupils), opened=date(2025, 9, 12))
    result = cases.impact(db, OFFICER, school_days=4).iloc[0]
    assert (result["before_pct"], result["after_pct"], result["change_pts"]) == (0.0, 100.0, 100.0)
    assert result["after_days"] == 4 and result["window_complete"]
    by_type = cases.impact_by_type(cases.impact(db, OFFICER, school_days=4))
    assert by_type.iloc[0]["improved"] == 1 and by_type.iloc[0]["indicative_only"]


def test_an_action_whose_after_window_is_still_forming_is_left_out_of_the_roll_up(db, pupils, load):
    two_weeks_absent_then_present(load)
    visit(db, first(pupils), opened=date(2025, 9, 15))
    result = cases.impact(db, OFFICER, school_days=4).iloc[0]
    assert result["after_days"] == 3 and not result["window_complete"]
    assert cases.impact_by_type(cases.impact(db, OFFICER, school_days=4)).empty


def test_impact_with_no_marks_yet_has_no_figures(db, pupils):
    visit(db, first(pupils))
    assert cases.impact(db, OFFICER, school_days=20)["change_pts"].isna().all()
