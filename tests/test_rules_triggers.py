"""DOMAIN.md §4: statutory triggers, each reached on the date of the session that completes it.

Runs of days are written as registers, one line per week:

    week of     Mon   Tue   Wed   Thu   Fri
    2025-09-08  N N   N N   / /   G -   # #     ; AM and PM of each weekday

`-` is a missing mark, `.` no row at all for that session, and a week with no line is a
week the school was shut (a half term). Text after `;` is a comment.

Every pupil is a Year 7 pupil of compulsory school age unless the test says otherwise.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

import numpy as np
import pandas as pd

from core import auth, calendar, chronology, store, triggers
from core.importers import import_file
from tests.conftest import make_upn, marks_csv, roll_csv

A, B, C = make_upn(1), make_upn(2), make_upn(3)
UNAUTHORISED_10_DAYS = "unauthorised_10_days"
UNAUTHORISED_20_DAYS = "unauthorised_20_days"
ILLNESS_15_DAYS = "illness_15_days"
PENALTY = "penalty_notice_threshold"


def register(upn: str, grid: str) -> list[tuple]:
    """Marks rows (upn, date, session, code) from a register written week by week."""
    rows = []
    for line in grid.strip().splitlines():
        words = line.split(";")[0].split()
        if not words or not re.fullmatch(r"\d{4}-\d\d-\d\d", words[0]):
            continue
        monday, cells = date.fromisoformat(words[0]), words[1:]
        assert monday.weekday() == 0 and len(cells) in (0, 10), line
        for i, code in enumerate(cells):
            if code != ".":
                rows.append((upn, (monday + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], code))
    return rows


def weeks_present(upn: str, mondays: list[str], absences: list[tuple] = (), closed: list[str] = (),
                  closure_code: str = "#") -> list[tuple]:
    """Every weekday of the given weeks marked present, except the `absences` table
    (date, session, code); weeks in `closed` are marked `closure_code` in every session."""
    override = {(day, session): code for day, session, code in absences}
    rows = []
    for monday in [*mondays, *closed]:
        for offset in range(5):
            day = (date.fromisoformat(monday) + timedelta(days=offset)).isoformat()
            for session in ("AM", "PM"):
                code = closure_code if monday in closed else override.pop((day, session), "/")
                rows.append((upn, day, session, code))
    assert not override, f"absences outside the weeks given: {override}"
    return rows


def school(load, rows: list[tuple], *pupils: dict) -> None:
    load("roll.csv", roll_csv(*(pupils or ({},))))
    outcome = load("marks.csv", marks_csv(rows))
    assert outcome.status == "imported", [p.message for p in outcome.problems]


def reached(db, as_of: date | None = None) -> list[tuple[str, str, date]]:
    """(upn, trigger, reached_on) for every trigger reached, in order."""
    found = triggers.reached(db, as_of)
    return sorted(zip(found["upn"], found["trigger"], found["reached_on"]))


def reached_on(db, trigger: str, upn: str = A, as_of: date | None = None) -> date | None:
    dates = [on for who, what, on in reached(db, as_of) if (who, what) == (upn, trigger)]
    assert len(dates) <= 1, f"{trigger} reported {len(dates)} times"
    return dates[0] if dates else None


# --- unauthorised absence on consecutive school days ----------------------------------

ACROSS_HALF_TERM = """
week of     Mon   Tue   Wed   Thu   Fri
2025-10-13  / /   / /   N N   G G   O O     ; days 1-3
2025-10-20  U U   N G   N N   N N   N N     ; days 4-8
                                            ; 27/10 half term: no marks at all
2025-11-03  N N   N N   / /   / /   / /     ; days 9, 10 (Tue 04/11)
"""


def test_ten_unauthorised_days_in_a_row_across_a_weekend_and_half_term_reach_the_trigger_on_the_tenth(db, load):
    school(load, register(A, ACROSS_HALF_TERM))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 11, 4)


def test_the_10_day_trigger_is_not_reached_on_the_ninth_day(db, load):
    school(load, register(A, ACROSS_HALF_TERM))
    assert reached_on(db, UNAUTHORISED_10_DAYS, as_of=date(2025, 11, 3)) is None


@pytest.mark.parametrize("breaking_day", ["N /", "/ N", "N I", "L N", "B N"])
def test_a_day_with_any_session_not_unauthorised_breaks_the_run(db, load, breaking_day):
    school(load, register(A, f"""
2025-09-08  N N   N N   N N   N N   N N                 ; 5 days
2025-09-15  {breaking_day}   N N   N N   N N   N N      ; the run breaks on Monday; 4 days
2025-09-22  N N   N N   N N   N N   / /                 ; 8 days: never 10 in a row
"""))
    assert reached_on(db, UNAUTHORISED_10_DAYS) is None


@pytest.mark.parametrize("no_possible_session", ["# #", "- -", "X X", "Y1 Y1", "D Z", ". ."])
def test_a_day_with_no_possible_session_for_the_pupil_neither_counts_nor_breaks_the_run(db, load, no_possible_session):
    school(load, register(A, f"""
2025-09-08  N N   N N   N N   N N   N N                        ; days 1-5
2025-09-15  {no_possible_session}   N N   N N   N N   N N      ; Monday not counted; days 6-9
2025-09-22  N N   / /   / /   / /   / /                        ; day 10 (Mon 22/09)
"""))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 9, 22)


def test_a_day_with_an_unauthorised_morning_and_a_missing_afternoon_counts(db, load):
    school(load, register(A, """
2025-09-08  N N   N N   N N   N N   N N     ; days 1-5
2025-09-15  N N   N N   N N   N N   N -     ; days 6-10: Friday's PM not yet marked
2025-09-22  / /   / /   / /   / /   / /
"""))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 9, 19)


TWENTY_DAYS = """
2025-09-08  N N   N N   N N   N N   N N     ; days 1-5 (the 10th session on Fri 12/09)
2025-09-15  G G   N N   N N   N N   N N     ; days 6-10 (Fri 19/09)
2025-09-22  N N   O O   N N   N N   N N     ; days 11-15
2025-09-29  N N   N N   U U   N N   {day_20}  ; days 16-19, and Fri 03/10
2025-10-06  / /   / /   / /   / /   / /
"""


def test_twenty_unauthorised_days_in_a_row_reach_the_20_day_trigger_on_the_twentieth(db, load):
    school(load, register(A, TWENTY_DAYS.format(day_20="N N")))
    assert reached(db) == [
        (A, PENALTY, date(2025, 9, 12)),
        (A, UNAUTHORISED_10_DAYS, date(2025, 9, 19)),
        (A, UNAUTHORISED_20_DAYS, date(2025, 10, 3)),
    ]


def test_nineteen_unauthorised_days_in_a_row_do_not_reach_the_20_day_trigger(db, load):
    school(load, register(A, TWENTY_DAYS.format(day_20="/ /")))
    assert reached_on(db, UNAUTHORISED_20_DAYS) is None


def test_a_run_carries_over_the_summer_holiday_into_the_new_academic_year(db, load):
    # Summer holiday: no school days, so the last July days and the first September days are consecutive.
    school(load, register(A, """
2025-07-14  / /   / /   N N   N N   N N     ; days 1-3 (2024/25)
2025-09-01  N N   N N   N N   N N   N N     ; days 4-8
2025-09-08  N N   N N   / /   / /   / /     ; days 9, 10 (Tue 09/09)
"""))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 9, 9)


# --- illness ----------------------------------------------------------------------------

SCATTERED_ILLNESS = """
week of     Mon   Tue   Wed   Thu   Fri
2025-09-08  I /   / /   / I   I I   / I     ; 5 sessions of illness
2025-09-15  I /   / /   / I   I I   / I     ; 10
2025-09-22  I /   / /   / I   I I   / I     ; 15
2025-09-29  I /   / /   / I   I I   / I     ; 20
2025-10-06  I /   / /   / I   I I   / I     ; 25
2025-10-13  I /   / /   / I   I I   / I     ; 26-29 by Thursday, the 30th on Friday 17/10
"""


def test_thirty_illness_sessions_consecutive_or_not_reach_the_illness_trigger_on_the_thirtieth(db, load):
    school(load, register(A, SCATTERED_ILLNESS))
    assert reached_on(db, ILLNESS_15_DAYS) == date(2025, 10, 17)


def test_twenty_nine_illness_sessions_do_not_reach_the_illness_trigger(db, load):
    school(load, register(A, SCATTERED_ILLNESS))
    assert reached_on(db, ILLNESS_15_DAYS, as_of=date(2025, 10, 16)) is None


# --- penalty-notice threshold: 10 sessions within a rolling 10 school weeks ------------

AUTUMN_2025 = ["2025-09-01", "2025-09-08", "2025-09-15", "2025-09-22", "2025-09-29",
               "2025-10-06", "2025-10-13", "2025-10-20",  # half term: week of 27/10
               "2025-11-03", "2025-11-10", "2025-11-17"]
TEN_SCHOOL_WEEKS_ACROSS_HALF_TERM = [
    ("2025-09-03", "AM", "G"), ("2025-09-03", "PM", "G"),  # school week 1: sessions 1, 2
    ("2025-09-09", "AM", "N"),                             # school week 2: 3
    ("2025-09-23", "AM", "O"), ("2025-09-24", "PM", "O"),  # school week 4: 4, 5
    ("2025-10-07", "PM", "U"),                             # school week 6: 6
    ("2025-10-21", "AM", "N"), ("2025-10-21", "PM", "N"),  # school week 8: 7, 8
    ("2025-11-04", "AM", "G"),                             # school week 9: 9
    ("2025-11-12", "PM", "O"),                             # school week 10: 10, Wed 12/11
]


@pytest.mark.parametrize("closure_code", [
    None,   # half term: the week of 27/10 has no marks at all
    "#",    # the week of 27/10 is a planned closure, marked # for every session
    "Y4",   # the whole school closed unexpectedly that week: no session held
])
def test_ten_unauthorised_sessions_within_ten_school_weeks_across_a_closed_week_reach_the_penalty_threshold(
        db, load, closure_code):
    # Week 10 is the 11th calendar week: the closed week is not a school week, so the window reaches back to week 1.
    closed = ["2025-10-27"] if closure_code else []
    school(load, weeks_present(A, AUTUMN_2025, TEN_SCHOOL_WEEKS_ACROSS_HALF_TERM, closed, closure_code))
    assert reached_on(db, PENALTY) == date(2025, 11, 12)


def test_nine_unauthorised_sessions_within_ten_school_weeks_do_not_reach_the_penalty_threshold(db, load):
    school(load, weeks_present(A, AUTUMN_2025, TEN_SCHOOL_WEEKS_ACROSS_HALF_TERM[:-1]))
    assert reached_on(db, PENALTY) is None


def test_unauthorised_sessions_eleven_school_weeks_apart_do_not_combine(db, load):
    school(load, weeks_present(A, AUTUMN_2025, [
        ("2025-09-01", "AM", "G"), ("2025-09-01", "PM", "G"), ("2025-09-02", "AM", "N"),
        ("2025-09-02", "PM", "N"), ("2025-09-03", "AM", "O"),                             # school week 1: 5
        ("2025-11-17", "AM", "G"), ("2025-11-17", "PM", "G"), ("2025-11-18", "AM", "N"),
        ("2025-11-18", "PM", "N"), ("2025-11-19", "AM", "O"),                             # school week 11: 5
    ]))
    assert reached_on(db, PENALTY) is None


def test_the_rolling_window_counts_the_schools_weeks_not_the_pupils(db, load):
    # A has marks only in school weeks 1 and 11 (5 unauthorised sessions each); B is in school every week.
    absent = [("2025-09-01", "AM", "G"), ("2025-09-01", "PM", "G"), ("2025-09-02", "AM", "N"),
              ("2025-09-02", "PM", "N"), ("2025-09-03", "AM", "O")]
    a_rows = weeks_present(A, ["2025-09-01"], absent) + [
        (A, "2025-11-17", "AM", "G"), (A, "2025-11-17", "PM", "G"), (A, "2025-11-18", "AM", "N"),
        (A, "2025-11-18", "PM", "N"), (A, "2025-11-19", "AM", "O")]
    school(load, a_rows + weeks_present(B, AUTUMN_2025), {}, {})
    assert reached_on(db, PENALTY) is None


def test_the_penalty_window_reaches_back_into_the_previous_academic_year(db, load):
    rows = weeks_present(A, ["2025-06-30", "2025-07-07", "2025-07-14", "2025-09-01", "2025-09-08"], [
        ("2025-07-14", "AM", "G"), ("2025-07-14", "PM", "G"), ("2025-07-15", "AM", "G"),
        ("2025-07-15", "PM", "G"), ("2025-07-16", "AM", "G"),                             # 2024/25: 1-5
        ("2025-09-08", "AM", "N"), ("2025-09-08", "PM", "N"), ("2025-09-09", "AM", "N"),
        ("2025-09-09", "PM", "N"), ("2025-09-10", "AM", "N"),                             # 2025/26: 6-10
    ])
    school(load, rows)
    assert reached_on(db, PENALTY) == date(2025, 9, 10)


# --- who and what ------------------------------------------------------------------------

TEN_DAYS = """
2025-09-08  N N   N N   N N   N N   N N
2025-09-15  N N   N N   N N   N N   N N     ; day 10 on Fri 19/09
"""


def test_triggers_concern_only_pupils_of_compulsory_school_age(db, load):
    school(load, register(A, TEN_DAYS) + register(B, TEN_DAYS) + register(C, TEN_DAYS),
           {"dob": "2010-01-10", "year_group": "11"},   # A: aged 15
           {"dob": "2009-01-10", "year_group": "12"},   # B: aged 16
           {"dob": "2021-01-10", "year_group": "R"})    # C: aged 4
    assert {upn for upn, _, _ in reached(db)} == {A}


def test_without_a_date_of_birth_the_year_group_decides_who_triggers_concern(db, load):
    school(load, register(A, TEN_DAYS) + register(B, TEN_DAYS),
           {"dob": "", "year_group": "11"}, {"dob": "", "year_group": "12"})
    assert {upn for upn, _, _ in reached(db)} == {A}


def test_a_corrected_mark_removes_a_trigger(db, load):
    school(load, register(A, TEN_DAYS))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 9, 19)
    corrected = register(A, TEN_DAYS.replace("2025-09-15  N N", "2025-09-15  I I"))  # Monday 15/09 was illness
    assert load("corrected.csv", marks_csv(corrected)).marks_changed == 2
    assert reached_on(db, UNAUTHORISED_10_DAYS) is None


def shown(db, as_of: date = date(2025, 9, 19)) -> dict[str, int]:
    """What the app does when it shows the triggers standing at the last date with marks."""
    return triggers.record_shown(db, triggers.reached(db, as_of), as_of)


def test_the_triggers_shown_are_kept_with_when_they_were_first_shown(db, load):
    school(load, register(A, TEN_DAYS))
    assert shown(db)["recorded"] == 2  # the 10-day run and the penalty threshold
    history = triggers.history(db)
    assert set(history["trigger"]) == {UNAUTHORISED_10_DAYS, PENALTY}
    assert history["withdrawn_at"].isna().all() and history["first_shown_at"].notna().all()
    assert history.loc[history["trigger"] == UNAUTHORISED_10_DAYS, "reached_on"].item() == date(2025, 9, 19)


def test_showing_the_same_triggers_again_writes_nothing(db, load):
    school(load, register(A, TEN_DAYS))
    shown(db)
    audited = db.execute("SELECT COUNT(*) FROM audit WHERE action = 'triggers.shown'").fetchone()[0]
    assert shown(db) == {"recorded": 0, "withdrawn": 0, "moved": 0}
    assert len(triggers.history(db)) == 2
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'triggers.shown'").fetchone()[0] == audited == 1


def test_two_screens_showing_the_same_new_triggers_at_once_record_them_once(db, load, monkeypatch):
    """A sign-in and the page it opens are drawn at the same moment: both find the triggers
    new, and the second must neither fail on the history's unique index nor record twice."""
    school(load, register(A, TEN_DAYS))
    other = store.connect(db.conn.execute("PRAGMA database_list").fetchone()[2])
    now = store.now

    def the_other_screen_records_first():  # runs after the first screen's read, before its write
        monkeypatch.setattr(store, "now", now)
        assert shown(other)["recorded"] == 2
        return now()

    monkeypatch.setattr(store, "now", the_other_screen_records_first)
    assert shown(db) == {"recorded": 0, "withdrawn": 0, "moved": 0}
    assert len(triggers.history(db)) == 2
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'triggers.shown'").fetchone()[0] == 1
    other.conn.close()


def test_a_trigger_a_corrected_mark_removes_stays_in_the_history_as_withdrawn(db, load):
    school(load, register(A, TEN_DAYS))
    shown(db)
    load("corrected.csv", marks_csv(register(A, TEN_DAYS.replace("2025-09-15  N N", "2025-09-15  I I"))))
    assert shown(db)["withdrawn"] == 1
    history = triggers.history(db).set_index("trigger")
    assert history.loc[UNAUTHORISED_10_DAYS, "withdrawn_at"] is not None
    assert pd.isna(history.loc[PENALTY, "withdrawn_at"])  # 18 unauthorised sessions still within 10 weeks
    events = chronology.chronology(db, auth.Viewer("dsl", "pastoral_lead"), 1, date(2025, 9, 20), triggers.reached(db))
    assert "Trigger withdrawn: 10 school days' unauthorised absence in a row" in events["what"].tolist()


def test_a_trigger_reached_again_after_it_was_withdrawn_is_a_new_entry(db, load, tmp_path):
    school(load, register(A, TEN_DAYS))
    shown(db)
    load("corrected.csv", marks_csv(register(A, TEN_DAYS.replace("2025-09-15  N N", "2025-09-15  I I"))))
    shown(db)
    # Another export of the same week puts the N marks back: by default the correction is kept
    # (issue 15: never silently undone), so nothing is reached again ...
    assert load("again.csv", marks_csv(register(A, TEN_DAYS)[::-1])).corrections_kept == 2
    assert shown(db)["recorded"] == 0
    # ... until the officer says this export is right and applies it over the correction.
    import_file(db, tmp_path / "again.csv", "test", overwrite_corrections=True)
    assert shown(db)["recorded"] == 1
    ten_day = triggers.history(db).query("trigger == @UNAUTHORISED_10_DAYS")
    assert ten_day["withdrawn_at"].notna().tolist() == [True, False]


# --- thresholds and codes are settings -------------------------------------------------


def test_the_run_lengths_are_read_from_the_settings(db, load):
    store.set_setting(db, "unauthorised_run_days", {UNAUTHORISED_10_DAYS: 3, UNAUTHORISED_20_DAYS: 6}, "admin")
    school(load, register(A, """
2025-09-08  N N   N N   N N   N N   N N     ; day 3 on Wed 10/09
2025-09-15  N N   / /   / /   / /   / /     ; day 6 on Mon 15/09
"""))
    assert reached_on(db, UNAUTHORISED_10_DAYS) == date(2025, 9, 10)
    assert reached_on(db, UNAUTHORISED_20_DAYS) == date(2025, 9, 15)


def test_the_illness_threshold_is_read_from_the_settings(db, load):
    store.set_setting(db, "illness_sessions", 4, "admin")
    school(load, register(A, "2025-09-08  I /   / I   / /   I I   I /   ; the 4th on Thu 11/09"))
    assert reached_on(db, ILLNESS_15_DAYS) == date(2025, 9, 11)


def test_the_penalty_session_count_is_read_from_the_settings(db, load):
    store.set_setting(db, "penalty_sessions", 3, "admin")
    school(load, register(A, "2025-09-08  G /   / /   N /   / O   O /   ; the 3rd on Thu 11/09"))
    assert reached_on(db, PENALTY) == date(2025, 9, 11)


def test_the_penalty_window_length_is_read_from_the_settings(db, load):
    store.set_setting(db, "penalty_school_weeks", 2, "admin")
    # 5 sessions in school week 1 and 5 in school week 3: two school weeks apart, so they don't combine.
    school(load, weeks_present(A, ["2025-09-01", "2025-09-08", "2025-09-15"], [
        ("2025-09-01", "AM", "G"), ("2025-09-01", "PM", "G"), ("2025-09-02", "AM", "N"),
        ("2025-09-02", "PM", "N"), ("2025-09-03", "AM", "O"),
        ("2025-09-15", "AM", "G"), ("2025-09-15", "PM", "G"), ("2025-09-16", "AM", "N"),
        ("2025-09-16", "PM", "N"), ("2025-09-17", "AM", "O"),
    ]))
    assert reached_on(db, PENALTY) is None


def test_the_penalty_codes_are_read_from_the_settings(db, load):
    store.set_setting(db, "penalty_codes", ["G"], "admin")  # this LA issues notices for holidays only
    scattered = """
2025-09-08  {c} /   / {c}   {c} /   / {c}   {c} /
2025-09-15  {c} /   / {c}   {c} /   / {c}   {c} /     ; the 10th on Fri 19/09
"""
    school(load, register(A, scattered.format(c="G")) + register(B, scattered.format(c="N")), {}, {})
    assert reached_on(db, PENALTY, upn=A) == date(2025, 9, 19)
    assert reached_on(db, PENALTY, upn=B) is None


# --- the trigger table -----------------------------------------------------------------------


def test_each_trigger_is_one_row_with_its_id_label_badge_next_step_and_finder():
    assert [t.id for t in triggers.TRIGGERS] == [UNAUTHORISED_10_DAYS, UNAUTHORISED_20_DAYS, ILLNESS_15_DAYS, PENALTY]
    assert all(t.label and t.badge and t.next_step and callable(t.finder) for t in triggers.TRIGGERS)
    assert triggers.BY_ID[UNAUTHORISED_10_DAYS].badge == "10 days unauthorised"
    assert triggers.BY_ID[PENALTY].next_step == "Consider a penalty notice under the national framework."


def test_find_triggers_runs_every_rows_finder_on_a_small_frame_of_sessions():
    # One pupil, 3 school days Mon 8 – Wed 10 September 2025, every session unauthorised (O) or ill (I).
    first = calendar.to_day(date(2025, 9, 8))
    codes_by_day = {first: ("O", "O"), first + 1: ("O", "O"), first + 2: ("I", "I")}
    marks = pd.DataFrame([(1, day, session, code) for day, pair in codes_by_day.items() for session, code in enumerate(pair)],
                         columns=["pupil_id", "day", "session", "code"])
    rules = triggers.TriggerRules({UNAUTHORISED_10_DAYS: 2, UNAUTHORISED_20_DAYS: 3}, illness_sessions=2,
                                  penalty_sessions=4, penalty_school_weeks=1, penalty_codes=("O",))
    found = triggers.find_triggers(marks, rules, first, np.array(list(codes_by_day)))
    assert sorted(zip(found["trigger"], found["reached_on"])) == [
        (ILLNESS_15_DAYS, date(2025, 9, 10)), (PENALTY, date(2025, 9, 9)), (UNAUTHORISED_10_DAYS, date(2025, 9, 9))]
