"""Attendance support plans (issue 17 item 1): review dates, targets, scope, audit, meeting mode."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from core import cases, store, support_plans
from tests.test_reports import needs_pdftotext, pdf_text
from tests.case_school import HEAD, LEAD, OFFICER, VIEWER, first, pupils, second  # noqa: F401 (fixture)

START = date(2025, 9, 8)


def plan(db, pupil_id, viewer=OFFICER, **fields):
    return support_plans.start_plan(db, viewer, pupil_id, fields.pop("started_on", START), viewer.username, **fields)


def audited(db, action):
    return [(u, e, json) for u, e, json in db.execute(
        "SELECT username, entity_id, detail FROM audit WHERE action = ? ORDER BY id", (action,)).fetchall()]


# --- review dates ------------------------------------------------------------------------------


def test_the_first_review_falls_due_six_weeks_after_the_plan_starts_by_default(db, pupils):
    plan_id = plan(db, first(pupils))
    assert support_plans.plans(db, OFFICER).iloc[0]["next_review_on"] == date(2025, 10, 20)
    assert plan_id


def test_the_review_interval_is_the_plan_review_weeks_setting(db, pupils):
    store.set_setting(db, "plan_review_weeks", 4, "admin")
    plan(db, first(pupils))
    assert support_plans.plans(db, OFFICER).iloc[0]["next_review_on"] == date(2025, 10, 6)


def test_a_review_moves_the_next_one_to_six_weeks_after_it(db, pupils):
    plan_id = plan(db, first(pupils))
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 15), "Going better", 91.5)
    assert support_plans.plans(db, OFFICER).iloc[0]["next_review_on"] == date(2025, 11, 26)
    reviews = support_plans.plan_reviews(db, OFFICER, [plan_id])
    assert list(reviews["attendance_pct"]) == [91.5] and list(reviews["review_note"]) == ["Going better"]


def test_a_review_can_be_brought_forward_but_never_set_before_the_meeting(db, pupils):
    plan_id = plan(db, first(pupils))
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), next_review_on=date(2025, 10, 22))
    assert support_plans.plans(db, OFFICER).iloc[0]["next_review_on"] == date(2025, 10, 22)
    with pytest.raises(cases.CaseError, match="after this one"):
        support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 22), next_review_on=date(2025, 10, 22))


def test_a_review_before_the_plan_started_is_refused_and_nothing_is_stored(db, pupils):
    plan_id = plan(db, first(pupils))
    with pytest.raises(cases.CaseError, match="before the plan started"):
        support_plans.record_review(db, OFFICER, plan_id, date(2025, 9, 1))
    assert db.execute("SELECT COUNT(*) FROM support_plan_reviews").fetchone()[0] == 0
    assert support_plans.plans(db, OFFICER).iloc[0]["next_review_on"] == date(2025, 10, 20)


def test_plans_due_lists_reviews_passed_or_within_seven_days_soonest_first(db, pupils):
    late = plan(db, first(pupils))                                     # due 20/10
    soon = plan(db, second(pupils), started_on=date(2025, 9, 22))        # due 03/11
    due = support_plans.plans_due(db, OFFICER, date(2025, 10, 27))
    assert list(due["id"]) == [late, soon] and list(due["review_overdue"]) == [True, False]
    assert list(support_plans.plans_due(db, OFFICER, date(2025, 10, 12))["id"]) == []


def test_a_closed_plan_is_never_due_for_review(db, pupils):
    plan_id = plan(db, first(pupils))
    support_plans.close_plan(db, OFFICER, plan_id, date(2025, 10, 1), "Attending every day")
    assert support_plans.plans_due(db, OFFICER, date(2025, 12, 1)).empty


def test_one_open_plan_per_pupil(db, pupils):
    plan(db, first(pupils))
    with pytest.raises(cases.CaseError, match="already has an open support plan"):
        plan(db, first(pupils))


# --- actions, targets and their progress ----------------------------------------------------------


def test_an_action_by_others_must_name_the_agency(db, pupils):
    plan_id = plan(db, first(pupils))
    with pytest.raises(cases.CaseError, match="Name the agency"):
        support_plans.add_action(db, OFFICER, plan_id, "other", "Weekly sessions")
    support_plans.add_action(db, OFFICER, plan_id, "other", "Weekly sessions", agency="School nurse")
    support_plans.add_action(db, OFFICER, plan_id, "family", "Bring to breakfast club", date(2025, 9, 15))
    actions = support_plans.plan_actions(db, OFFICER, [plan_id])
    assert list(actions["party"]) == ["other", "family"] and list(actions["agency"]) == ["School nurse", ""]


def test_a_target_must_be_a_percentage_reached_after_it_is_set(db, pupils):
    plan_id = plan(db, first(pupils))
    with pytest.raises(cases.CaseError, match="between 0 and 100"):
        support_plans.add_target(db, OFFICER, plan_id, 120, date(2025, 12, 1), START)
    with pytest.raises(cases.CaseError, match="after the day it is set"):
        support_plans.add_target(db, OFFICER, plan_id, 92, START, START)


def weekly(*rows):
    return pd.DataFrame({"week_start": [r[0] for r in rows], "possible_sessions": [r[1] for r in rows],
                         "attendance_pct": [r[2] for r in rows]})


def targets(pct, set_on, by_date):
    return pd.DataFrame({"id": [1], "plan_id": [1], "set_on": [set_on], "attendance_pct": [pct], "by_date": [by_date]})


def test_target_progress_pools_sessions_from_the_week_it_was_set():
    weeks = weekly((date(2025, 9, 1), 10, 0.0), (date(2025, 9, 8), 10, 80.0), (date(2025, 9, 15), 10, 100.0))
    progress = support_plans.target_progress(weeks, targets(90.0, date(2025, 9, 10), date(2025, 12, 1)),
                                             date(2025, 9, 19)).iloc[0]
    assert (progress["possible_sessions"], progress["attendance_sessions"]) == (20, 18)
    assert progress["attendance_since_pct"] == 90.0 and progress["status"] == "on_track"  # exactly 90 reaches 90


def test_a_target_below_its_line_before_its_date_is_behind_and_after_it_missed():
    weeks = weekly((date(2025, 9, 8), 10, 80.0))
    aim = targets(95.0, date(2025, 9, 8), date(2025, 9, 30))
    assert support_plans.target_progress(weeks, aim, date(2025, 9, 12)).iloc[0]["status"] == "behind"
    assert support_plans.target_progress(weeks, aim, date(2025, 10, 3)).iloc[0]["status"] == "missed"
    assert support_plans.target_progress(weekly((date(2025, 9, 8), 10, 100.0)), aim,
                                         date(2025, 10, 3)).iloc[0]["status"] == "met"


def test_a_target_with_no_school_days_yet_has_not_started():
    progress = support_plans.target_progress(weekly((date(2025, 9, 1), 10, 50.0)),
                                             targets(95.0, date(2025, 9, 8), date(2025, 12, 1)), date(2025, 9, 8))
    assert progress.iloc[0]["status"] == "not_started" and progress.iloc[0]["attendance_since_pct"] is None


# --- who may do what, and the audit -------------------------------------------------------------


def test_every_plan_write_is_audited_with_who_and_which_pupil(db, pupils):
    pupil_id = first(pupils)
    plan_id = plan(db, pupil_id, barriers="Anxiety about the bus")
    action = support_plans.add_action(db, OFFICER, plan_id, "school", "Meet at the gate")
    support_plans.set_action_status(db, OFFICER, action, "refused")
    support_plans.add_target(db, OFFICER, plan_id, 92, date(2025, 12, 1), START)
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), "Fine")
    support_plans.edit_plan(db, OFFICER, plan_id, early_help="offered")
    support_plans.mark_shared(db, OFFICER, plan_id, date(2025, 9, 9))
    support_plans.close_plan(db, OFFICER, plan_id, date(2025, 11, 1), "Attending")
    actions = [a for a, in db.execute("SELECT action FROM audit WHERE action LIKE 'support_plan.%' ORDER BY id")]
    assert actions == ["support_plan.start", "support_plan.action", "support_plan.action_status",
                       "support_plan.target", "support_plan.review", "support_plan.edit", "support_plan.shared",
                       "support_plan.close"]
    assert all(u == "officer" and f'"pupil_id": {pupil_id}' in d
               for u, _, d in audited(db, "support_plan.start") + audited(db, "support_plan.review"))
    assert "Anxiety" not in "".join(d for *_, d in audited(db, "support_plan.start"))  # the words are not audited


def test_a_viewer_may_not_write_a_plan(db, pupils):
    with pytest.raises(cases.CaseError, match="cannot|not write"):
        plan(db, first(pupils), viewer=VIEWER)


def test_a_head_of_section_writes_and_reads_plans_for_their_sections_only(db, pupils):
    plan(db, first(pupils), viewer=HEAD)  # Year 7: Secondary
    with pytest.raises(cases.CaseError, match="not in your sections"):
        plan(db, second(pupils), viewer=HEAD)  # Year 3: Primary
    plan(db, second(pupils))
    assert list(support_plans.plans(db, HEAD)["pupil_id"]) == [first(pupils)]
    assert support_plans.plan_of(db, HEAD, second(pupils)) is None


def test_a_viewer_reads_no_barriers_review_notes_or_agreed_words(db, pupils):
    plan_id = plan(db, first(pupils), barriers="Bereavement")
    support_plans.add_action(db, OFFICER, plan_id, "family", "Walk in with mum")
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), "Private words")
    seen = support_plans.plan_of(db, VIEWER, first(pupils))
    assert "barriers" not in seen.plan and "review_note" not in seen.reviews.columns
    assert list(seen.actions["action"]) == ["(not shown to your role)"]


def test_meeting_mode_hides_barriers_and_review_notes_even_from_the_pastoral_lead(db, pupils):
    plan_id = plan(db, first(pupils), barriers="Bereavement")
    support_plans.add_action(db, OFFICER, plan_id, "family", "Forename1 walks in with Surname1's aunt")
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), "Private words")
    shared = support_plans.plan_of(db, replace(LEAD, shared_screen=True), first(pupils))
    assert "barriers" not in shared.plan and "review_note" not in shared.reviews.columns
    assert "Forename1" not in shared.actions["action"].iloc[0] and "Surname1" not in shared.actions["action"].iloc[0]
    at_desk = support_plans.plan_of(db, LEAD, first(pupils))
    assert at_desk.plan["barriers"] == "Bereavement" and list(at_desk.reviews["review_note"]) == ["Private words"]


def test_agencies_count_plan_actions_by_others_and_referrals_once_each(db, pupils):
    pupil_id = first(pupils)
    plan_id = plan(db, pupil_id)
    support_plans.add_action(db, OFFICER, plan_id, "other", "Sessions", agency="School nurse")
    support_plans.add_action(db, OFFICER, plan_id, "other", "More sessions", agency="school  nurse")
    cases.open_intervention(db, OFFICER, pupil_id, "Early Help referral", "officer", START,
                            details={"agency": "Early Help hub"})
    assert support_plans.agencies(db, [pupil_id]) == {pupil_id: ["Early Help hub", "School nurse"]}


@needs_pdftotext
def test_the_plan_pdf_for_parents_prints_barriers_actions_targets_and_reviews_as_typed(db, pupils):
    plan_id = plan(db, first(pupils), barriers="**not bold** <b>nor html</b>", early_help="declined")
    support_plans.add_action(db, OFFICER, plan_id, "school", "Meet at the gate")
    support_plans.add_action(db, OFFICER, plan_id, "other", "Weekly check", agency="School nurse")
    support_plans.add_target(db, OFFICER, plan_id, 92, date(2025, 12, 1), START)
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), "Good half term", 88.0)
    text = " ".join(pdf_text(support_plans.plan_pdf(support_plans.plan_of(db, OFFICER, first(pupils)),
                                                    "Test School", masked=False)).split())
    for expected in ("Surname1, Forename1", "**not bold** <b>nor html</b>", "Meet at the gate", "School nurse",
                     "92.0%", "01/12/2025", "Good half term", "88.0%", "Offered and declined by the family",
                     "Signed (parent/carer)"):
        assert expected in text


@needs_pdftotext
def test_the_plan_pdf_in_meeting_mode_has_initials_and_no_barriers(db, pupils):
    plan(db, first(pupils), barriers="Bereavement")
    shared = support_plans.plan_of(db, replace(LEAD, shared_screen=True), first(pupils))
    text = pdf_text(support_plans.plan_pdf(shared, "Test School", masked=True))
    assert "F. S." in text and "Surname1" not in text and "Bereavement" not in text


def test_the_chronology_holds_the_plan_its_reviews_and_the_next_review_with_notes_as_the_reader_may_see(db, pupils):
    from core import chronology
    plan_id = plan(db, first(pupils), barriers="Bereavement")
    support_plans.record_review(db, OFFICER, plan_id, date(2025, 10, 1), "Steadier", 88.0)
    events = chronology.chronology(db, OFFICER, first(pupils), date(2025, 12, 1), pd.DataFrame(
        columns=["pupil_id", "trigger", "reached_on", "detail"]))
    rows = {e["what"]: e for e in events.to_dict("records")}
    assert rows["Support plan started"]["note"] == "Bereavement"
    assert rows["Support plan reviewed"]["detail"] == "attendance 88.0%; next review 12/11/2025"
    assert rows["Support plan review overdue"]["overdue"]
    shared = chronology.chronology(db, replace(OFFICER, shared_screen=True), first(pupils), date(2025, 12, 1),
                                   pd.DataFrame(columns=["pupil_id", "trigger", "reached_on", "detail"]))
    assert "Bereavement" not in shared["note"].fillna("").tolist() and "Steadier" not in shared["note"].fillna("").tolist()
