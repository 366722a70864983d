"""Which pupils a list shows (core/selections.py) and the pupil list it selects from
(core/pupil_list.py), on small frames written here."""

from __future__ import annotations

from datetime import date

import pandas as pd

from core import pupil_list, selections, triggers


def pupils(**columns) -> pd.DataFrame:
    """Three pupils (ids 1, 2, 3) with the core columns every selection reads."""
    base = {"pupil_id": [1, 2, 3], "persistently_absent": [True, True, False], "severely_absent": [True, False, False],
            "newly_persistent": [False, True, False], "triggers": [[], [triggers.PENALTY_NOTICE_THRESHOLD], []],
            "missing_marks": [0, 0, 2], "next_letter_due": [False, True, True]}
    return pd.DataFrame({**base, **columns})


def chosen(selection_id: str, frame: pd.DataFrame | None = None) -> list[int]:
    return selections.selected(pupils() if frame is None else frame, selection_id)["pupil_id"].tolist()


def test_below_90_lists_the_persistently_absent():
    assert chosen("pa") == [1, 2]


def test_below_50_lists_the_severely_absent():
    assert chosen("sa") == [1]


def test_newly_below_90_lists_those_who_crossed_since_the_previous_upload():
    assert chosen("new") == [2]


def test_reached_a_trigger_lists_anyone_with_a_trigger():
    frame = pupils(triggers=[[triggers.UNAUTHORISED_10_DAYS], [triggers.PENALTY_NOTICE_THRESHOLD], []])
    assert chosen("triggers", frame) == [1, 2]


def test_penalty_threshold_lists_only_the_penalty_notice_trigger():
    frame = pupils(triggers=[[triggers.UNAUTHORISED_10_DAYS], [triggers.PENALTY_NOTICE_THRESHOLD], []])
    assert chosen("penalty", frame) == [2]


def test_missing_marks_lists_pupils_with_a_session_unmarked():
    assert chosen("missing") == [3]


def test_due_this_stage_needs_persistent_absence_and_the_stage_before():
    assert chosen("next_stage") == [2]


def test_choose_pupils_selects_nobody_by_itself():
    assert chosen("chosen") == []


def test_each_screen_offers_its_selections_in_order_with_the_labels_it_shows():
    assert [selections.BY_ID[s].label for s in selections.BELOW_90] == [
        "Below 90%", "Below 50%", "Newly below 90%", "Reached a trigger", "Missing marks"]
    assert [selections.BY_ID[s].label for s in selections.LETTERS] == [
        "Agreed at a meeting", "Newly below 90%", "Below 90%", "Penalty threshold", "Due this stage", "Choose pupils"]


def test_the_letters_help_says_what_three_selections_mean():
    assert selections.help_text(("new", "penalty", "next_stage")) == (
        "Newly below 90%: crossed into persistent absence since the previous upload. Penalty threshold: reached "
        "the penalty-notice threshold this year. Due this stage: below 90% and sent the stage before this one.")


# --- the pupil list ------------------------------------------------------------------------

FIGURES = pd.DataFrame({"pupil_id": [1, 2, 3], "surname": ["Ash", "Birch", "Cedar"], "attendance_pct": [80.0, 95.0, 88.0]})
CHANGE = pd.DataFrame({"pupil_id": [1, 2], "newly_persistent": [True, False], "attendance_change_pts": [-3.0, 1.0]})
REACHED = pd.DataFrame({"pupil_id": [1, 1, 3], "reached_on": [date(2025, 10, 3), date(2025, 9, 19), date(2025, 9, 9)],
                        "trigger": [triggers.UNAUTHORISED_20_DAYS, triggers.UNAUTHORISED_10_DAYS,
                                    triggers.ILLNESS_15_DAYS]})


def test_the_pupil_list_keeps_the_figures_order_and_lists_triggers_earliest_first():
    table = pupil_list.joined(FIGURES, CHANGE, REACHED)
    assert table["pupil_id"].tolist() == [1, 2, 3]
    assert table["triggers"].tolist() == [[triggers.UNAUTHORISED_10_DAYS, triggers.UNAUTHORISED_20_DAYS], [],
                                          [triggers.ILLNESS_15_DAYS]]


def test_a_pupil_with_no_change_row_is_not_newly_persistent():
    table = pupil_list.joined(FIGURES, CHANGE, REACHED)
    assert table["newly_persistent"].tolist() == [True, False, False]


def test_the_pupil_list_takes_patterns_sparklines_and_case_work_when_given():
    patterns = pd.DataFrame({"pupil_id": [1], "top_reason_label": ["Illness"], "worst_weekday": ["Monday"]})
    weekly = pd.Series({1: [90.0, 80.0], 3: [100.0]})
    latest = pd.DataFrame({"pupil_id": [3], "last_action": ["Phone call"], "last_action_on": [date(2025, 9, 10)],
                           "next_check_in": [date(2025, 9, 24)], "check_in_overdue": [True]})
    table = pupil_list.joined(FIGURES, CHANGE, REACHED, patterns, weekly, latest)
    assert table["top_reason_label"].tolist() == ["Illness", "", ""]
    assert table["weekly_pcts"].map(lambda v: v if isinstance(v, list) else None).tolist() == [[90.0, 80.0], None,
                                                                                               [100.0]]
    assert table["next_check_in"].tolist() == [None, None, date(2025, 9, 24)]
    assert table["check_in_overdue"].tolist() == [False, False, True]


def test_the_next_letter_is_due_one_stage_after_the_last_sent():
    sent = pd.DataFrame({"pupil_id": [1, 2], "stage": [1, 2]})
    due = pupil_list.with_next_letter_due(FIGURES, sent, "stage_2")
    assert due["next_letter_due"].tolist() == [True, False, False]
    assert pupil_list.with_next_letter_due(FIGURES, sent.iloc[0:0], "stage_1")["next_letter_due"].tolist() == [
        True, True, True]


def test_agreed_at_a_meeting_selects_the_pupils_with_a_letter_waiting_and_says_which():
    agreed = pd.DataFrame({"pupil_id": [3], "stage": [2], "agreed_on": [date(2025, 10, 3)], "owner": ["officer"]})
    table = pupil_list.with_letters_agreed(FIGURES, agreed)
    assert selections.selected(table, "agreed")["pupil_id"].tolist() == [3]
    assert table["agreed_letter"].tolist() == ["", "", "Stage 2, agreed 03/10/2025"]
    nothing = pupil_list.with_letters_agreed(FIGURES, agreed.iloc[:0])
    assert selections.selected(nothing, "agreed").empty and set(nothing["agreed_letter"]) == {""}
