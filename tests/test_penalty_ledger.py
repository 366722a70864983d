"""The penalty-notice ledger: a threshold with the exact sessions behind it, a Notice to
Improve, the decision, the notice and its payment stage — per parent per child, no session
used twice (issue 17 item 2; DOMAIN.md §4)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from core import auth, calendar, cases, penalty_ledger, store, triggers
from core.penalty_notices import PenaltyFramework
from tests.case_school import HEAD, OFFICER, VIEWER, first, pupils, second  # noqa: F401 (fixture)
from tests.conftest import marks_csv, week_rows

JANE, JOHN = "Jane Smith", "John Smith"
FRAMEWORK = PenaltyFramework.from_settings(store.DEFAULT_SETTINGS)
RULES = triggers.TriggerRules.from_settings(store.DEFAULT_SETTINGS)
MONDAY = date(2025, 9, 8)


def weeks_of_absence(load, *patterns_by_week: tuple[str, str]) -> None:
    """Marks for pupils 1 and 2, one (pupil 1, pupil 2) pattern pair per week from 8 September 2025."""
    rows = []
    for n, (one, two) in enumerate(patterns_by_week):
        rows += week_rows(MONDAY + timedelta(weeks=n), [one, two])
    load("marks.csv", marks_csv(rows))


ALL_N, ALL_O, PRESENT = "N" * 10, "O" * 10, "." * 10


def day(iso: str) -> int:
    return calendar.to_day(date.fromisoformat(iso))


def tiny_marks(*sessions: tuple[str, int, str]) -> pd.DataFrame:
    return pd.DataFrame({"day": [day(d) for d, _, _ in sessions], "session": [s for _, s, _ in sessions],
                         "code": [c for _, _, c in sessions]})


def weekdays(first: str, weeks: int, skip_weeks: tuple[int, ...] = ()) -> np.ndarray:
    start = date.fromisoformat(first)
    return np.array([calendar.to_day(start + timedelta(weeks=w, days=d))
                     for w in range(weeks) if w not in skip_weeks for d in range(5)])


# --- the threshold and its sessions ------------------------------------------------------------


def test_the_threshold_is_reached_on_the_date_of_the_tenth_session_and_holds_exactly_those_ten():
    marks = tiny_marks(*[(f"2025-09-{8 + i // 2:02d}", i % 2, "N") for i in range(11)])
    found = penalty_ledger.first_threshold(marks, weekdays("2025-09-08", 2), RULES)
    assert found.reached_on == date(2025, 9, 12)
    assert len(found.sessions) == 10
    assert found.sessions_text().startswith("08/09/2025 AM N; 08/09/2025 PM N;")
    assert found.sessions_text().endswith("12/09/2025 PM N")


def test_sessions_eleven_school_weeks_apart_do_not_reach_the_threshold_but_ten_weeks_apart_do():
    early = [("2025-09-08", 0, "U"), ("2025-09-08", 1, "U"), ("2025-09-09", 0, "G"), ("2025-09-09", 1, "G"),
             ("2025-09-10", 0, "O")]
    school = weekdays("2025-09-08", 12)
    tenth_week = [(f"2025-11-{10 + i // 2:02d}", i % 2, "N") for i in range(5)]  # school week 10
    eleventh_week = [(f"2025-11-{17 + i // 2:02d}", i % 2, "N") for i in range(5)]  # school week 11
    assert penalty_ledger.first_threshold(tiny_marks(*early, *eleventh_week), school, RULES) is None
    assert penalty_ledger.first_threshold(tiny_marks(*early, *tenth_week), school, RULES).reached_on == date(2025, 11, 12)


def test_the_rolling_window_counts_school_weeks_so_a_holiday_does_not_shorten_it():
    early = [("2025-09-08", s, "N") for s in (0, 1)] + [("2025-09-09", s, "N") for s in (0, 1)] + [("2025-09-10", 0, "N")]
    later = [("2025-11-17", s, "N") for s in (0, 1)] + [("2025-11-18", s, "N") for s in (0, 1)] + [("2025-11-19", 0, "N")]
    # Calendar week 11; with a two-week holiday in weeks 6 and 7 it is only the ninth school week.
    with_holiday = weekdays("2025-09-08", 12, skip_weeks=(6, 7))
    assert penalty_ledger.first_threshold(tiny_marks(*early, *later), with_holiday, RULES).reached_on == date(2025, 11, 19)
    assert penalty_ledger.first_threshold(tiny_marks(*early, *later), weekdays("2025-09-08", 12), RULES) is None


def test_codes_that_do_not_count_towards_the_threshold_are_left_out():
    marks = tiny_marks(*[(f"2025-09-{8 + i // 2:02d}", i % 2, "I" if i == 3 else "N") for i in range(10)])
    assert penalty_ledger.first_threshold(marks, weekdays("2025-09-08", 2), RULES) is None


def test_sessions_held_by_an_earlier_entry_are_not_counted_again():
    week_one = [(f"2025-09-{8 + i // 2:02d}", i % 2, "N") for i in range(10)]
    week_two = [("2025-09-15", 0, "N"), ("2025-09-15", 1, "N"), ("2025-09-16", 0, "N")]
    marks, school = tiny_marks(*week_one, *week_two), weekdays("2025-09-08", 2)
    assert penalty_ledger.first_threshold(marks, school, RULES).reached_on == date(2025, 9, 12)
    used = {(day("2025-09-08"), 0), (day("2025-09-08"), 1), (day("2025-09-09"), 0)}
    found = penalty_ledger.first_threshold(marks, school, RULES, used)
    assert found.reached_on == date(2025, 9, 16)
    assert not set(zip(found.sessions["day"], found.sessions["session"])) & used and len(found.sessions) == 10


def test_a_second_entry_for_the_same_parent_uses_only_sessions_after_the_first(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT), (ALL_O, PRESENT))
    one = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    two = penalty_ledger.open_entry(db, OFFICER, first(pupils), "  jane SMITH ", date(2025, 9, 30))
    entries = penalty_ledger.ledger(db, OFFICER, date(2025, 9, 30)).set_index("id")
    assert entries.loc[one, "threshold_on"] == date(2025, 9, 12) and entries.loc[two, "threshold_on"] == date(2025, 9, 19)
    assert entries.loc[one, "sessions_text"].count(" N") == 10 and entries.loc[two, "sessions_text"].count(" O") == 10
    with pytest.raises(cases.CaseError, match="not reached by 30/09/2025 with sessions not already used"):
        penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))


def test_the_store_refuses_a_session_held_by_two_entries_for_the_same_parent(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    import sqlite3
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO penalty_ledger_sessions (ledger_id, pupil_id, parent_key, day, session, code) "
                   "SELECT ledger_id + 0, pupil_id, parent_key, day, session, code FROM penalty_ledger_sessions "
                   "WHERE ledger_id = ? LIMIT 1", (entry,))


def test_the_other_parent_may_have_an_entry_for_the_same_sessions(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    other = penalty_ledger.open_entry(db, OFFICER, first(pupils), JOHN, date(2025, 9, 30))
    assert penalty_ledger.ledger(db, OFFICER, date(2025, 9, 30)).set_index("id").loc[other, "threshold_on"] == \
        date(2025, 9, 12)


def test_an_entry_needs_a_parent(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    with pytest.raises(cases.CaseError, match="Say which parent or carer"):
        penalty_ledger.open_entry(db, OFFICER, first(pupils), "  ", date(2025, 9, 30))


# --- payment stages ---------------------------------------------------------------------------

ISSUED = date(2025, 10, 1)


@pytest.mark.parametrize("days, amount, key, overdue", [
    (0, 80, "reduced", False), (21, 80, "reduced", False), (22, 160, "full", False), (28, 160, "full", False),
    (29, None, "unpaid", True)])
def test_a_first_notice_is_80_pounds_to_day_21_then_160_to_day_28_then_unpaid(days, amount, key, overdue):
    stage = penalty_ledger.payment_stage(ISSUED, 1, FRAMEWORK, ISSUED + timedelta(days=days))
    assert (stage.key, stage.overdue) == (key, overdue)
    assert (np.isnan(stage.amount_due) if amount is None else stage.amount_due == amount)


def test_the_stage_says_the_date_to_pay_by_and_what_follows_non_payment():
    assert penalty_ledger.payment_stage(ISSUED, 1, FRAMEWORK, ISSUED).label == "£80 due by 22/10/2025"
    assert penalty_ledger.payment_stage(ISSUED, 1, FRAMEWORK, date(2025, 10, 23)).label == "£160 due by 29/10/2025"
    assert "refer to the local authority to consider prosecution" in \
        penalty_ledger.payment_stage(ISSUED, 1, FRAMEWORK, date(2025, 10, 30)).label


@pytest.mark.parametrize("days, key", [(0, "full"), (21, "full"), (22, "full"), (28, "full"), (29, "unpaid")])
def test_a_second_notice_is_160_pounds_flat_until_day_28(days, key):
    stage = penalty_ledger.payment_stage(ISSUED, 2, FRAMEWORK, ISSUED + timedelta(days=days))
    assert stage.key == key and (stage.amount_due == 160 if key == "full" else np.isnan(stage.amount_due))


def test_the_amounts_and_days_come_from_the_settings():
    framework = PenaltyFramework.from_settings({**store.DEFAULT_SETTINGS, "penalty_amounts": {
        "first_paid_within_21_days": 60, "first_paid_within_28_days": 120, "second": 150}})
    assert penalty_ledger.payment_stage(ISSUED, 1, framework, ISSUED).amount_due == 60
    assert penalty_ledger.payment_stage(ISSUED, 2, framework, ISSUED).amount_due == 150


# --- the workflow -----------------------------------------------------------------------------


def issued(db, pupil_id, parent=JANE, on=date(2025, 10, 1)) -> int:
    entry = penalty_ledger.open_entry(db, OFFICER, pupil_id, parent, date(2025, 10, 31))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "No improvement after warning letters.", on)
    penalty_ledger.issue_notice(db, OFFICER, entry, on)
    return entry


def test_a_notice_paid_on_day_21_is_80_pounds_and_marks_the_action_paid(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = issued(db, first(pupils))
    assert penalty_ledger.record_paid(db, OFFICER, entry, ISSUED + timedelta(days=21)) == 80
    row = penalty_ledger.ledger(db, OFFICER, date(2025, 11, 30)).iloc[0]
    assert (row["stage"], row["next_step"]) == ("Paid £80 on 22/10/2025", "Closed")
    [action] = cases.interventions(db, OFFICER, [first(pupils)]).to_dict("records")
    assert action["details"]["paid"] == "paid"


def test_a_notice_paid_on_day_22_is_160_pounds(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = issued(db, first(pupils))
    assert penalty_ledger.record_paid(db, OFFICER, entry, ISSUED + timedelta(days=22)) == 160


def test_payment_after_day_28_is_refused(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = issued(db, first(pupils))
    with pytest.raises(cases.CaseError, match=r"after the last day to pay \(29/10/2025\)"):
        penalty_ledger.record_paid(db, OFFICER, entry, ISSUED + timedelta(days=29))
    row = penalty_ledger.ledger(db, OFFICER, ISSUED + timedelta(days=29)).iloc[0]
    assert row["overdue"] and "consider prosecution" in row["next_step"]


def test_a_second_notice_to_the_same_parent_is_160_pounds_flat_and_a_third_is_refused(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT), (ALL_O, PRESENT), (ALL_N, PRESENT))
    issued(db, first(pupils), on=date(2025, 10, 1))
    second_entry = issued(db, first(pupils), on=date(2025, 11, 3))
    assert penalty_ledger.record_paid(db, OFFICER, second_entry, date(2025, 11, 4)) == 160
    assert penalty_ledger.ledger(db, OFFICER, date(2025, 11, 5)).set_index("id").loc[second_entry,
                                                                                      "number_in_window"] == 2
    third = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 10, 31))
    with pytest.raises(cases.CaseError, match="2 notices to Jane Smith .* the next step is other action"):
        penalty_ledger.decide(db, OFFICER, third, penalty_ledger.ISSUE, "Still absent.", date(2025, 12, 1))
    penalty_ledger.decide(db, OFFICER, third, penalty_ledger.WAIVE, "Limit reached: referred for prosecution advice.",
                          date(2025, 12, 1))


def test_a_decision_needs_a_reason_and_is_made_once(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    with pytest.raises(cases.CaseError, match="Give the reason for the decision"):
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.WAIVE, "  ", date(2025, 9, 30))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.WAIVE, "Bereavement in the family.", date(2025, 9, 30),
                          decided_by="Head teacher")
    row = penalty_ledger.ledger(db, OFFICER, date(2025, 9, 30)).iloc[0]
    assert (row["decision"], row["decision_reason"], row["decided_by"]) == ("waive", "Bereavement in the family.",
                                                                             "Head teacher")
    with pytest.raises(cases.CaseError, match="already recorded"):
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "Changed mind.", date(2025, 10, 1))
    with pytest.raises(cases.CaseError, match="Record the decision to issue a notice first"):
        penalty_ledger.issue_notice(db, OFFICER, entry, date(2025, 10, 1))


# --- Notice to Improve --------------------------------------------------------------------------


def test_the_improvement_period_runs_3_to_6_weeks(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    for end in (date(2025, 10, 21), date(2025, 11, 13)):  # 3 weeks less a day, 6 weeks and a day
        with pytest.raises(cases.CaseError, match="3 to 6 weeks: end it between 22/10/2025 and 12/11/2025"):
            penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 10, 1), end)
    penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 10, 1), date(2025, 10, 22))
    assert penalty_ledger.ledger(db, OFFICER, date(2025, 10, 2)).iloc[0]["next_step"] == \
        "Improvement period runs to 22/10/2025"


def test_the_outcome_of_a_notice_to_improve_is_recorded_only_after_its_period(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 10, 1), date(2025, 11, 5))
    with pytest.raises(cases.CaseError, match="Notice to Improve is open: record whether it was met"):
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "No change.", date(2025, 10, 20))
    with pytest.raises(cases.CaseError, match="runs to 05/11/2025"):
        penalty_ledger.record_improvement_outcome(db, OFFICER, entry, penalty_ledger.MET, date(2025, 11, 4))
    assert penalty_ledger.ledger(db, OFFICER, date(2025, 11, 6)).iloc[0]["overdue"]
    penalty_ledger.record_improvement_outcome(db, OFFICER, entry, penalty_ledger.MET, date(2025, 11, 5))
    with pytest.raises(cases.CaseError, match="Notice to Improve was met"):
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "No change.", date(2025, 11, 6))


def test_a_notice_to_improve_not_met_leads_to_a_notice(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 10, 1), date(2025, 11, 5))
    penalty_ledger.record_improvement_outcome(db, OFFICER, entry, penalty_ledger.NOT_MET, date(2025, 11, 5))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "Improvement period not met.", date(2025, 11, 6))
    penalty_ledger.issue_notice(db, OFFICER, entry, date(2025, 11, 7))
    assert penalty_ledger.ledger(db, OFFICER, date(2025, 11, 7)).iloc[0]["stage"] == "£80 due by 28/11/2025"


# --- audit, scope, meeting mode --------------------------------------------------------------------


def test_every_step_of_the_ledger_is_in_the_audit_log(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = issued(db, first(pupils))
    penalty_ledger.record_withdrawn(db, OFFICER, entry, date(2025, 10, 5), "LA withdrew: served to the wrong address.")
    log, _ = store.audit_log(db, action="penalty_ledger")
    assert sorted(log["action"]) == ["penalty_ledger.decide", "penalty_ledger.issue", "penalty_ledger.open",
                                     "penalty_ledger.withdrawn"]
    assert set(log["username"]) == {"officer"} and set(log["pupil_id"]) == {first(pupils)}


def test_a_head_of_section_sees_and_records_only_their_sections_pupils(db, load, pupils):
    weeks_of_absence(load, (ALL_N, ALL_N))
    penalty_ledger.open_entry(db, OFFICER, second(pupils), JANE, date(2025, 9, 30))
    with pytest.raises(cases.CaseError, match="not in your sections"):
        penalty_ledger.open_entry(db, HEAD, second(pupils), JOHN, date(2025, 9, 30))
    penalty_ledger.open_entry(db, HEAD, first(pupils), JANE, date(2025, 9, 30))
    assert penalty_ledger.ledger(db, HEAD, date(2025, 9, 30))["pupil_id"].tolist() == [first(pupils)]


def test_meeting_mode_hides_the_parent_and_the_reasons(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.WAIVE, "Jane is in hospital.", date(2025, 9, 30))
    shared = auth.Viewer("officer", "attendance_officer", shared_screen=True)
    row = penalty_ledger.ledger(db, shared, date(2025, 9, 30)).iloc[0]
    assert "Jane" not in " ".join(str(v) for v in row.to_numpy())
    assert row["parent"] == row["decision_reason"] == "(hidden in meeting mode)"


def test_a_viewer_reads_the_ledger_without_parents_or_reasons_and_cannot_write(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    entry = penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.WAIVE, "Jane is in hospital.", date(2025, 9, 30))
    row = penalty_ledger.ledger(db, VIEWER, date(2025, 9, 30)).iloc[0]
    assert "Jane" not in " ".join(str(v) for v in row.to_numpy())
    with pytest.raises(cases.CaseError, match="can view cases but not record them"):
        penalty_ledger.open_entry(db, VIEWER, first(pupils), JOHN, date(2025, 9, 30))


def test_words_not_given_yet_are_empty_text_not_missing_values(db, load, pupils):
    weeks_of_absence(load, (ALL_N, PRESENT))
    penalty_ledger.open_entry(db, OFFICER, first(pupils), JANE, date(2025, 9, 30))
    row = penalty_ledger.ledger(db, OFFICER, date(2025, 9, 30)).iloc[0]
    assert [row[c] for c in ("decision", "nti_outcome", "decision_reason", "decided_by")] == ["", "", "", ""]


def test_a_pupil_below_compulsory_school_age_gets_no_entry(db, load):
    from tests.conftest import roll_csv

    load("roll.csv", roll_csv({"year_group": "R", "form": "RA", "dob": "2021-03-01"}))
    load("marks.csv", marks_csv(week_rows(MONDAY, [ALL_N])))
    reception = db.execute("SELECT id FROM pupils").fetchone()[0]
    with pytest.raises(cases.CaseError, match="not of compulsory school age in 2025/26"):
        penalty_ledger.open_entry(db, OFFICER, reception, JANE, date(2025, 9, 30))
    assert db.execute("SELECT COUNT(*) FROM penalty_ledger").fetchone()[0] == 0


def test_the_ledgers_first_threshold_is_the_date_the_trigger_reports(db, load, pupils):
    weeks_of_absence(load, ("..NN..NN..", PRESENT), ("NN..NN..NN", PRESENT), ("N.N.......", PRESENT))
    reached = triggers.reached(db, date(2025, 9, 26))
    trigger = reached[(reached["pupil_id"] == first(pupils))
                      & (reached["trigger"] == triggers.PENALTY_NOTICE_THRESHOLD)]["reached_on"].tolist()
    found = penalty_ledger.find_threshold(db, first(pupils), JANE, date(2025, 9, 26))
    assert trigger == [found.reached_on] == [date(2025, 9, 19)]  # the 4 of week 1 and the 6 of week 2
