"""The pupil's chronology: everything about one pupil in one timeline, with the notes
the viewer may read."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core import cases, chronology, missing_education, penalty_ledger
from tests.case_school import HEAD, LEAD, OFFICER, VIEWER, first, pupils, second, visit
from tests.conftest import make_upn, marks_csv, week_rows

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
    events = chronology.chronology(db, OFFICER, pid, today=date(2025, 10, 12), reached=reached_for(pid, "2025-09-12"))
    assert list(events["kind"]) == ["action_closed", "checkin_done", "contact", "action_opened", "trigger", "mark_change"]
    assert events["on"].tolist() == [date(2025, 10, 10), date(2025, 10, 10), date(2025, 9, 25), date(2025, 9, 20),
                                     date(2025, 9, 12), date(2025, 9, 8)]  # the correction: its data as at
    assert events.set_index("kind").loc["mark_change", "detail"].startswith("08/09/2025 AM N → I")
    assert events.set_index("kind").loc["action_opened", "note"] == "Mum at home"


def test_the_chronology_shows_a_check_in_still_due_and_whether_it_is_overdue(db, pupils):
    visit(db, first(pupils), check_in_on=date(2025, 10, 8))
    events = chronology.chronology(db, OFFICER, first(pupils), today=date(2025, 10, 9), reached=reached_for(0, "2025-09-01"))
    due = events[events["kind"] == "checkin_due"].iloc[0]
    assert (due["what"], due["overdue"]) == ("Check-in overdue (Home visit)", True)
    assert due["detail"] == "owner officer; 1 day overdue"


def test_the_chronology_shows_a_viewer_no_notes_and_a_head_no_sensitive_notes(db, pupils):
    visit(db, first(pupils), viewer=LEAD, summary="Spoke to dad", sensitive_note="Private")
    none = reached_for(0, "2025-09-01")
    assert chronology.chronology(db, VIEWER, first(pupils), date(2025, 10, 2), none)["note"].isna().all()
    head = chronology.chronology(db, HEAD, first(pupils), date(2025, 10, 2), none).iloc[0]
    assert (head["note"], head["sensitive_note"]) == ("Spoke to dad", None)
    assert chronology.chronology(db, LEAD, first(pupils), date(2025, 10, 2), none).iloc[0]["sensitive_note"] == "Private"


def test_a_head_of_section_cannot_read_the_chronology_of_a_pupil_outside_their_sections(db, pupils):
    with pytest.raises(cases.CaseError, match="not in your sections"):
        chronology.chronology(db, HEAD, second(pupils), date(2025, 10, 2), reached_for(0, "2025-09-01"))


def test_the_chronology_holds_the_penalty_ledger_and_a_missing_education_case(db, pupils, load):
    pid = first(pupils)
    load("marks.csv", marks_csv(week_rows(date(2025, 9, 8), ["N" * 10, "." * 10])))
    entry = penalty_ledger.open_entry(db, OFFICER, pid, "Jane Smith", date(2025, 9, 30))
    penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 10, 1), date(2025, 11, 5))
    penalty_ledger.record_improvement_outcome(db, OFFICER, entry, penalty_ledger.NOT_MET, date(2025, 11, 5))
    penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "Improvement period not met.", date(2025, 11, 6))
    case = missing_education.open_case(db, OFFICER, pid, date(2025, 11, 10))
    missing_education.record_step(db, OFFICER, case, "first_day_contact", date(2025, 11, 10), "Olu Officer",
                                  "Rang mother.")
    events = chronology.chronology(db, OFFICER, pid, date(2025, 11, 12), reached_for(0, "2025-09-01"))
    by_kind = events.set_index("kind")
    assert [k for k in events["kind"] if k != "checkin_due"] == [
        "cme_step", "cme_opened", "penalty_decision", "notice_to_improve", "penalty_threshold"]  # newest first
    threshold = by_kind.loc["penalty_threshold"]
    assert (threshold["on"], threshold["what"]) == (date(2025, 9, 12), "Penalty-notice threshold reached — Jane Smith")
    assert threshold["detail"].startswith("10 sessions: 08/09/2025 AM N")
    nti = by_kind.loc["notice_to_improve"]
    assert (nti["on"], nti["detail"]) == (date(2025, 10, 1), "improvement period to 05/11/2025; Not met")
    decision = by_kind.loc["penalty_decision"]
    assert (decision["on"], decision["what"], decision["note"]) == (
        date(2025, 11, 6), "Penalty-notice decision: Issue a penalty notice", "Improvement period not met.")
    opened = by_kind.loc["cme_opened"]
    assert opened["on"] == date(2025, 11, 10) and "Home visit due by" in opened["detail"]
    assert "First-day contact" not in opened["detail"]  # done: listed as its own event
    step = by_kind.loc["cme_step"]
    assert (step["on"], step["what"], step["note"], step["by"]) == (
        date(2025, 11, 10), "Missing education: First-day contact with the family", "Rang mother.", "Olu Officer")
    # A viewer reads the same events without the parent or the notes.
    seen = chronology.chronology(db, VIEWER, pid, date(2025, 11, 12), reached_for(0, "2025-09-01"))
    assert "Jane" not in " ".join(str(v) for v in seen.to_numpy().ravel())
    assert set(seen["kind"]) >= {"penalty_threshold", "notice_to_improve", "penalty_decision", "cme_opened", "cme_step"}
    # The evidence pack names them.
    pack = chronology.evidence_pack_table(db, OFFICER, pid, date(2025, 11, 12), reached_for(0, "2025-09-01"))
    assert {"Penalty notice", "Missing education"} <= set(pack["kind"])
