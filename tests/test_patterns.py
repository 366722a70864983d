"""Patterns behind the figures: weekdays, reasons, weekly trends, runs, change since the last upload."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from core import codes, metrics, patterns, store
from core import marks as marks_table
from tests.conftest import make_upn, marks_csv, roll_csv

MONDAY = date(2025, 9, 8)
PERIOD = metrics.Period(date(2025, 9, 1), date(2025, 12, 19))
P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)


def register(upn: str, days: str, first: date = MONDAY) -> list[tuple]:
    """Marks for consecutive weekdays from `first`, one AM/PM pair per day separated by spaces:
    "/\\\\ II N-" is present, ill all day, then N in the morning and a missing mark after
    lunch. '-' is a missing mark; '.' means no mark at all for that session."""
    rows, day = [], first
    for pair in days.split():
        while day.weekday() >= 5:
            day += timedelta(days=1)
        for session, mark in zip(("AM", "PM"), pair):
            if mark != ".":
                rows.append((upn, day.isoformat(), session, "" if mark == "-" else mark))
        day += timedelta(days=1)
    return rows


def present(weeks: int) -> str:
    return " ".join(["/\\"] * 5 * weeks)


@pytest.fixture
def school(db, load):
    """school(*rows) imports a roll of three pupils and the given marks; returns pupil ids by UPN."""

    def _school(*rows: tuple, roll: int = 3) -> dict[str, int]:
        load("roll.csv", roll_csv(*[{}] * roll))
        if rows:
            outcome = load("marks.csv", marks_csv(list(rows)))
            assert outcome.status == "imported", outcome.problems
        return dict(zip(store.pupils_frame(db)["upn"], store.pupils_frame(db)["id"]))

    return _school


# --- weekdays and sessions ---------------------------------------------------------------


def test_monday_absence_makes_monday_the_worst_weekday(db, school):
    ids = school(*register(P1, "NN /\\ /\\ /\\ /\\ " * 2 + "/\\ /\\ /\\ /\\ /\\"))
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    assert row["worst_weekday"] == "Monday"
    assert row["worst_weekday_absence_pct"] == pytest.approx(4 / 6 * 100)


def test_a_weekday_with_one_possible_session_cannot_be_the_worst(db, school):
    # Absent the only possible Monday session (PM; AM not possible); absent 1 of 2 on Tuesday.
    ids = school(*register(P1, "XI /N /\\ /\\ /\\"))
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    assert row["worst_weekday"] == "Tuesday"


def test_worst_weekday_ties_go_to_the_earlier_day(db, school):
    ids = school(*register(P1, "/I /\\ /\\ /\\ /I"))
    assert patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1], "worst_weekday"] == "Monday"


def test_the_heatmap_pools_each_weekday_and_session_over_pupils(db, school):
    school(*register(P1, "I\\ /\\ /\\ /\\ /\\"), *register(P2, "N\\ /\\ /\\ /\\ /\\"), *register(P3, present(1)))
    heatmap = patterns.weekday_session_absence(db, PERIOD).set_index(["weekday_name", "session"])
    assert len(heatmap) == 10
    monday_am = heatmap.loc[("Monday", "AM")]
    counts = monday_am[["possible_sessions", "absence_sessions", "unauthorised_sessions"]].tolist()
    assert counts == [3, 2, 1]
    assert monday_am["absence_pct"] == pytest.approx(200 / 3)
    assert heatmap.loc[("Monday", "PM"), "absence_pct"] == 0


def test_the_heatmap_leaves_out_sessions_with_nothing_possible(db, school):
    school(*register(P1, "X\\ /\\ /\\ /\\ /\\"))
    heatmap = patterns.weekday_session_absence(db, PERIOD)
    assert ("Monday", "AM") not in set(zip(heatmap["weekday_name"], heatmap["session"]))
    assert list(heatmap["weekday"]) == [0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_am_and_pm_absence_are_counted_apart(db, school):
    ids = school(*register(P1, "I\\ IN /\\ /G /\\"))
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    assert (row["am_absence_sessions"], row["pm_absence_sessions"]) == (2, 2)


# --- reasons -------------------------------------------------------------------------------


def test_reasons_are_sorted_by_sessions_and_their_shares_sum_to_100(db, school):
    school(*register(P1, "II IN /\\ MG /\\"), *register(P2, "NN /\\ I\\ /\\ /\\"))
    found = patterns.reasons(db, PERIOD)
    assert list(zip(found["code"], found["sessions"])) == [("I", 4), ("N", 3), ("G", 1), ("M", 1)]
    assert found["share_pct"].sum() == pytest.approx(100)
    assert found["share_pct"].iloc[0] == pytest.approx(4 / 9 * 100)


def test_reasons_name_each_code_in_words_with_its_category(db, school):
    school(*register(P1, "I\\ /N"))
    found = patterns.reasons(db, PERIOD).set_index("code")
    assert found.loc["I", "reason"] == "Illness (I)"
    assert found.loc["I", "category"] == codes.AUTHORISED
    assert found.loc["N", "category"] == codes.UNAUTHORISED


def test_top_reason_ties_are_broken_by_code(db, school):
    ids = school(*register(P1, "NI /\\ /\\ /\\ /\\"))
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    assert (row["top_reason"], row["top_reason_label"], row["top_reason_sessions"]) == ("I", "Illness (I)", 1)


# --- weekly trend --------------------------------------------------------------------------


def test_weekly_trend_is_pooled_not_averaged(db, school):
    # Week 1: P1 attends 1 of 2 possible sessions (the rest not possible), P2 all 10.
    # Pooled: 11 / 12; the mean of the pupils' percentages would be 75%.
    school(*register(P1, "/N XX XX XX XX " + present(1)), *register(P2, present(2)))
    week = patterns.weekly_trend(db, PERIOD).iloc[0]
    assert week["week_start"] == MONDAY
    assert (week["possible_sessions"], week["attendance_sessions"], week["absence_sessions"]) == (12, 11, 1)
    assert week["attendance_pct"] == pytest.approx(11 / 12 * 100)


def test_cumulative_attendance_runs_from_the_start_of_the_period(db, school):
    school(*register(P1, "NN NN NN NN NN " + present(1)))
    trend = patterns.weekly_trend(db, PERIOD)
    assert list(trend["week_start"]) == [MONDAY, MONDAY + timedelta(weeks=1)]
    assert list(trend["attendance_pct"]) == [0, 100]
    assert list(trend["cumulative_attendance_pct"]) == [0, 50]


def test_a_week_of_planned_closure_is_not_a_school_week(db, school):
    school(*register(P1, present(1) + " ## ## ## ## ## " + present(1)))
    assert list(patterns.weekly_trend(db, PERIOD)["week_start"]) == [MONDAY, MONDAY + timedelta(weeks=2)]


def test_pupil_weekly_gives_the_last_school_weeks_up_to_as_of(db, school):
    ids = school(*register(P1, present(1) + " " + "NN /\\ /\\ /\\ /\\ " + present(1)))
    weekly = patterns.pupil_weekly(db, PERIOD, weeks=2)
    assert list(weekly["week_start"]) == [MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=2)]
    assert list(weekly["pupil_id"]) == [ids[P1]] * 2
    assert list(weekly["possible_sessions"]) == [10, 10]
    assert list(weekly["attendance_pct"]) == [80, 100]


def test_pupil_weekly_has_no_percentage_for_a_week_before_a_pupil_joined(db, school):
    ids = school(*register(P1, present(2)), *register(P2, present(1), first=MONDAY + timedelta(weeks=1)))
    weekly = patterns.pupil_weekly(db, PERIOD).set_index(["pupil_id", "week_start"])
    assert weekly.loc[(ids[P2], MONDAY), "possible_sessions"] == 0
    assert np.isnan(weekly.loc[(ids[P2], MONDAY), "attendance_pct"])
    assert weekly.loc[(ids[P2], MONDAY + timedelta(weeks=1)), "attendance_pct"] == 100


# --- runs of absence -----------------------------------------------------------------------


def test_a_run_across_a_weekend_is_one_run(db, school):
    # Thursday, Friday, Monday, Tuesday absent.
    ids = school(*register(P1, "/\\ /\\ /\\ II IN NN NN /\\"))
    runs = patterns.absence_runs(db, ids[P1], PERIOD)
    assert runs[["start", "end", "school_days", "sessions"]].to_dict("records") == [
        {"start": date(2025, 9, 11), "end": date(2025, 9, 16), "school_days": 4, "sessions": 8}]


def test_a_present_day_breaks_a_run_into_two(db, school):
    ids = school(*register(P1, "II II /\\ NN NN NN"))
    runs = patterns.absence_runs(db, ids[P1], PERIOD)
    assert list(runs["school_days"]) == [2, 3]
    assert list(runs["start"]) == [date(2025, 9, 8), date(2025, 9, 11)]


def test_half_a_day_present_breaks_a_run(db, school):
    ids = school(*register(P1, "II /I II"))
    runs = patterns.absence_runs(db, ids[P1], PERIOD, min_days=1)
    assert list(runs["start"]) == [date(2025, 9, 8), date(2025, 9, 10)]


def test_a_day_with_no_possible_session_neither_counts_nor_breaks_a_run(db, school):
    ids = school(*register(P1, "NN XX -- NN /\\"))
    runs = patterns.absence_runs(db, ids[P1], PERIOD)
    assert runs[["start", "end", "school_days", "sessions"]].to_dict("records") == [
        {"start": date(2025, 9, 8), "end": date(2025, 9, 11), "school_days": 2, "sessions": 4}]


def test_a_day_absent_with_the_other_session_not_possible_counts_in_a_run(db, school):
    ids = school(*register(P1, "NN NX NN"))
    assert patterns.absence_runs(db, ids[P1], PERIOD)["school_days"].tolist() == [3]


def test_a_weekend_trip_breaks_a_run_only_for_the_pupil_on_it(db, school):
    # Both absent Friday and Monday; P1 was on a Saturday trip in between.
    ids = school(*register(P1, "/\\ /\\ /\\ /\\ NN NN"), (P1, "2025-09-13", "AM", "V"),
                 *register(P2, "/\\ /\\ /\\ /\\ NN NN"), *register(P3, present(2)))
    assert patterns.absence_runs(db, ids[P1], PERIOD, min_days=1)["school_days"].tolist() == [1, 1]
    assert patterns.absence_runs(db, ids[P2], PERIOD, min_days=1)["school_days"].tolist() == [2]
    longest = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id")["longest_absence_run"]
    assert (longest[ids[P1]], longest[ids[P2]]) == (1, 2)


def test_runs_shorter_than_min_days_are_left_out(db, school):
    ids = school(*register(P1, "II /\\ NN NN"))
    assert patterns.absence_runs(db, ids[P1], PERIOD, min_days=2)["school_days"].tolist() == [2]
    assert patterns.absence_runs(db, ids[P1], PERIOD, min_days=1)["school_days"].tolist() == [1, 2]


def test_the_codes_of_a_run_are_summarised_most_first(db, school):
    ids = school(*register(P1, "NI II II IN /\\ GG"))
    runs = patterns.absence_runs(db, ids[P1], PERIOD, min_days=1)
    assert list(runs["codes"]) == ["I×6, N×2", "G×2"]


def test_longest_absence_run_is_in_whole_school_days(db, school):
    ids = school(*register(P1, "II /\\ NN NN GG /\\ I\\"), *register(P2, "/I /\\ /\\ /\\ /\\"))
    found = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id")["longest_absence_run"]
    assert found[ids[P1]] == 3
    assert found[ids[P2]] == 0


# --- lates ---------------------------------------------------------------------------------


def test_lates_count_l_marks_and_minutes_count_every_late_arrival(db, school):
    rows = register(P1, "/\\ /\\ /\\ /\\ NN")
    rows[0] = (P1, "2025-09-08", "AM", "L", 10)
    rows[2] = (P1, "2025-09-09", "AM", "L", 5)
    rows[4] = (P1, "2025-09-10", "AM", "U", 40)
    ids = school(*rows)
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    assert (row["lates"], row["minutes_late_total"]) == (2, 55)


# --- missing marks, scope, pupils with marks for only some sessions ---------------------------


def test_missing_marks_are_not_absence_anywhere(db, school):
    ids = school(*register(P1, "-- -- /\\ /\\ I-"))
    pupil = ids[P1]
    heatmap = patterns.weekday_session_absence(db, PERIOD)
    assert heatmap["absence_sessions"].sum() == 1 and heatmap["possible_sessions"].sum() == 5
    assert list(patterns.reasons(db, PERIOD)["code"]) == ["I"]
    week = patterns.weekly_trend(db, PERIOD).iloc[0]
    assert (week["possible_sessions"], week["absence_sessions"]) == (5, 1)
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[pupil]
    assert (row["top_reason"], row["am_absence_sessions"] + row["pm_absence_sessions"]) == ("I", 1)
    assert row["worst_weekday"] is None  # Friday's one possible session is too few to compare
    assert row["longest_absence_run"] == 1
    assert patterns.pupil_weekly(db, PERIOD)["possible_sessions"].tolist() == [5]
    behind = patterns.sessions_behind(db, pupil, PERIOD).set_index("code")
    assert behind.loc["", "counts_as"] == "missing mark" and behind.loc["", "sessions"] == 5


def test_pupil_ids_restrict_the_scope(db, school):
    ids = school(*register(P1, "II NN /\\"), *register(P2, "GG /\\ /\\"), *register(P3, "/\\ /\\ /\\"))
    scope = [ids[P2], ids[P3]]
    assert list(patterns.reasons(db, PERIOD, scope)["code"]) == ["G"]
    assert patterns.weekday_session_absence(db, PERIOD, scope)["possible_sessions"].sum() == 12
    assert patterns.weekly_trend(db, PERIOD, scope)["absence_sessions"].tolist() == [2]
    assert list(patterns.pupil_patterns(db, PERIOD, scope)["pupil_id"]) == [ids[P2]]
    assert set(patterns.pupil_weekly(db, PERIOD, scope)["pupil_id"]) == set(scope)
    assert set(patterns.change_since(db, PERIOD, date(2025, 9, 8), scope)["pupil_id"]) == set(scope)
    assert patterns.reasons(db, PERIOD, [])["code"].tolist() == []


def test_a_pupil_marked_for_only_some_sessions_is_counted_from_their_own_marks(db, school):
    # P2 has no afternoon marks at all (the school held them, for P1): not plain present.
    ids = school(*register(P1, "NN /\\ /\\ /\\ /\\"), *register(P2, "N. /. N. N. /."))
    row = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id").loc[ids[P2]]
    assert (row["am_absence_sessions"], row["pm_absence_sessions"], row["longest_absence_run"]) == (3, 0, 2)
    assert row["worst_weekday"] is None  # one possible session per weekday: too few to compare
    weekly = patterns.pupil_weekly(db, PERIOD).set_index("pupil_id")
    assert weekly.loc[ids[P2], "possible_sessions"] == 5
    assert weekly.loc[ids[P2], "attendance_pct"] == pytest.approx(40)


def test_per_pupil_patterns_agree_with_a_count_over_every_mark(db, school):
    """The per-pupil views skip reading plain present marks; check them against every mark."""
    rng = np.random.default_rng(5)
    choices = np.array(list("/\\/\\/\\/\\INGMXL-."))
    rows = []
    for upn in (P1, P2, P3):
        days = ["".join(rng.choice(choices, 2)) for _ in range(30)]
        if upn == P3:  # a complete pupil: no session without a mark
            days = [d.replace(".", "/") for d in days]
        rows += register(upn, " ".join(days))
    # Saturday sessions only one pupil had: one incomplete pupil, one complete.
    rows += [(P1, "2025-09-13", "AM", "/"), (P3, "2025-09-20", "AM", "/"), (P3, "2025-09-20", "PM", "N")]
    ids = school(*rows)
    marks = marks_table.load_marks(db, 0, 100_000)
    category = codes.classify(marks["code"], pd.to_datetime(marks["day"], unit="D"))
    marks = marks.assign(attendance=category.isin(codes.ATTENDANCE_CATEGORIES).to_numpy(),
                         absence=category.isin([codes.AUTHORISED, codes.UNAUTHORISED]).to_numpy())
    found = patterns.pupil_patterns(db, PERIOD).set_index("pupil_id")
    weekly = patterns.pupil_weekly(db, PERIOD, weeks=6).set_index(["pupil_id", "week_start"])
    for pupil in ids.values():
        alone = patterns.pupil_patterns(db, PERIOD, [pupil]).set_index("pupil_id")
        pd.testing.assert_frame_equal(alone, found.loc[[pupil]])
        mine = marks[marks["pupil_id"] == pupil]
        by_day = mine.groupby("day")[["attendance", "absence"]].sum()
        longest = run = 0
        for attended, absent in zip(by_day["attendance"], by_day["absence"]):
            if attended:
                run = 0
            elif absent:
                run += 1
                longest = max(longest, run)
        assert found.loc[pupil, "longest_absence_run"] == longest
        weekday = (mine["day"] + 3) % 7
        by_weekday = mine.groupby(weekday)[["attendance", "absence"]].sum()
        rate = by_weekday["absence"] / (by_weekday["attendance"] + by_weekday["absence"]) * 100
        rate = rate[(by_weekday["attendance"] + by_weekday["absence"] >= 2) & (by_weekday["absence"] > 0)]
        assert found.loc[pupil, "worst_weekday_absence_pct"] == pytest.approx(rate.max(), nan_ok=True)
        week = mine["day"] - (mine["day"] + 3) % 7
        by_week = mine.groupby(week)[["attendance", "absence"]].sum()
        for monday, counts in by_week.iterrows():
            possible = counts["attendance"] + counts["absence"]
            assert weekly.loc[(pupil, date(1970, 1, 1) + timedelta(days=int(monday))), "possible_sessions"] == possible


# --- change since the previous upload ------------------------------------------------------


def test_change_since_marks_a_pupil_who_crossed_90_percent_as_newly_persistent(db, school):
    # Week 1: 10 of 10. Week 2: 8 of 10 → 18 of 20 = 90%, which is persistent absence.
    ids = school(*register(P1, present(1) + " NN /\\ /\\ /\\ /\\"), *register(P2, present(2)))
    change = patterns.change_since(db, PERIOD, MONDAY + timedelta(days=4)).set_index("pupil_id")
    crossed = change.loc[ids[P1]]
    assert crossed["attendance_pct_before"] == 100
    assert crossed["attendance_change_pts"] == pytest.approx(-10)
    assert bool(crossed["newly_persistent"]) and not bool(crossed["newly_severe"])
    assert not bool(change.loc[ids[P2], "newly_persistent"])


def test_a_pupil_already_persistently_absent_is_not_newly_so(db, school):
    ids = school(*register(P1, "NN /\\ /\\ /\\ /\\ NN /\\ /\\ /\\ /\\"))
    change = patterns.change_since(db, PERIOD, MONDAY + timedelta(days=4)).set_index("pupil_id")
    assert not bool(change.loc[ids[P1], "newly_persistent"])


def test_change_since_with_no_previous_date_has_no_before_and_nothing_new(db, school):
    ids = school(*register(P1, "NN NN /\\"))
    change = patterns.change_since(db, PERIOD, None).set_index("pupil_id")
    assert np.isnan(change.loc[ids[P1], "attendance_pct_before"])
    assert np.isnan(change.loc[ids[P1], "attendance_change_pts"])
    assert not change["newly_persistent"].any() and not change["newly_severe"].any()


def test_previous_data_as_at_is_the_as_at_date_before_the_latest(db, load):
    load("roll.csv", roll_csv({}))
    assert patterns.previous_data_as_at(db) is None
    load("week1.csv", marks_csv(register(P1, present(1))))
    assert patterns.previous_data_as_at(db) is None
    load("week2.csv", marks_csv(register(P1, present(1), first=MONDAY + timedelta(weeks=1))))
    assert patterns.previous_data_as_at(db) == date(2025, 9, 12)
    load("week3.csv", marks_csv(register(P1, present(1), first=MONDAY + timedelta(weeks=2))))
    assert patterns.previous_data_as_at(db) == date(2025, 9, 19)


def test_previous_data_as_at_ignores_undone_imports(db, load):
    load("roll.csv", roll_csv({}))
    load("week1.csv", marks_csv(register(P1, present(1))))
    load("week2.csv", marks_csv(register(P1, present(1), first=MONDAY + timedelta(weeks=1))))
    outcome = load("week3.csv", marks_csv(register(P1, present(1), first=MONDAY + timedelta(weeks=2))))
    db.execute("UPDATE imports SET status = 'undone' WHERE id = ?", (outcome.import_id,))
    assert patterns.previous_data_as_at(db) == date(2025, 9, 12)


# --- one pupil -----------------------------------------------------------------------------


def test_pupil_calendar_lists_every_session_with_its_meaning(db, school):
    ids = school(*register(P1, "/I X-"))
    found = patterns.pupil_calendar(db, ids[P1], PERIOD)
    assert found[["date", "session", "code", "category", "meaning"]].values.tolist() == [
        [date(2025, 9, 8), "AM", "/", codes.PRESENT, "Present (AM) (/)"],
        [date(2025, 9, 8), "PM", "I", codes.AUTHORISED, "Illness (I)"],
        [date(2025, 9, 9), "AM", "X", codes.NOT_POSSIBLE, codes.meaning("X")],
        [date(2025, 9, 9), "PM", "", codes.MISSING, "Missing mark"],
    ]


def test_sessions_behind_add_up_to_the_pupils_figures(db, school):
    ids = school(*register(P1, "/\\ II /N XX /- L\\ V\\"))
    behind = patterns.sessions_behind(db, ids[P1], PERIOD)
    figures = metrics.pupil_figures(db, PERIOD).set_index("pupil_id").loc[ids[P1]]
    counted = behind.groupby("counts_as")["sessions"].sum()
    assert counted["attendance"] == figures["attendance_sessions"] == 8
    assert counted["authorised absence"] == figures["authorised_sessions"] == 2
    assert counted["unauthorised absence"] == figures["unauthorised_sessions"] == 1
    assert counted[["attendance", "authorised absence", "unauthorised absence"]].sum() == figures["possible_sessions"]
    assert counted["not possible"] == 2 and counted["missing mark"] == 1
    assert list(behind["counts_as"].drop_duplicates()) == [
        "attendance", "authorised absence", "unauthorised absence", "not possible", "missing mark"]


def test_mark_history_shows_a_corrected_mark_and_its_upload(db, load):
    load("roll.csv", roll_csv({}))
    load("week1.csv", marks_csv(register(P1, "NN /\\")), user="officer")
    load("week1-corrected.csv", marks_csv(register(P1, "IN /\\")), user="head")
    pupil = int(store.pupils_frame(db)["id"].iloc[0])
    history = patterns.mark_history(db, pupil)
    assert history[["date", "session", "old_code", "new_code", "changed_by", "file_name"]].values.tolist() == [
        [date(2025, 9, 8), "AM", "N", "I", "head", "week1-corrected.csv"]]
    assert history["changed_on"].iloc[0].year >= 2025


# --- an empty store ------------------------------------------------------------------------


def test_every_view_of_an_empty_store_is_an_empty_table_with_its_columns(db):
    views = {
        "weekday": (patterns.weekday_session_absence(db, PERIOD), patterns.WEEKDAY_COLUMNS),
        "reasons": (patterns.reasons(db, PERIOD), patterns.REASON_COLUMNS),
        "trend": (patterns.weekly_trend(db, PERIOD), patterns.TREND_COLUMNS),
        "weekly": (patterns.pupil_weekly(db, PERIOD), patterns.PUPIL_WEEKLY_COLUMNS),
        "patterns": (patterns.pupil_patterns(db, PERIOD), patterns.PUPIL_PATTERN_COLUMNS),
        "change": (patterns.change_since(db, PERIOD, date(2025, 9, 12)), patterns.CHANGE_COLUMNS),
        "calendar": (patterns.pupil_calendar(db, 1, PERIOD), patterns.CALENDAR_COLUMNS),
        "runs": (patterns.absence_runs(db, 1, PERIOD), patterns.RUN_COLUMNS),
        "behind": (patterns.sessions_behind(db, 1, PERIOD), patterns.BEHIND_COLUMNS),
        "history": (patterns.mark_history(db, 1), patterns.HISTORY_COLUMNS),
    }
    for name, (frame, columns) in views.items():
        assert (name, list(frame.columns), len(frame)) == (name, columns, 0)
    assert patterns.previous_data_as_at(db) is None
