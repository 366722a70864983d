"""Early warning (core/early_warning.py, DOMAIN.md §4 "Sessions to spare"): sessions still to
spare before ending the year persistently absent, the attendance the rest of the year needs,
and the pupils just above 90% to watch."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core import cli, early_warning, metrics, school_calendar
from core.school_calendar import SchoolCalendar, Term
from tests.conftest import make_upn, marks_csv, roll_csv

A, B, C = make_upn(1), make_upn(2), make_upn(3)
MONDAY = date(2025, 9, 8)


def weekdays(first: date, count: int) -> list[date]:
    days, d = [], first
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


# --- the rule, in whole sessions -------------------------------------------------------------


def test_a_pupil_who_can_end_the_year_on_exactly_90_percent_has_no_session_to_spare_there():
    # 100 sessions in the year, none missed yet: 9 more absences end on 91% (not PA); 10 end on 90.0% (PA).
    assert early_warning.sessions_to_spare(possible=40, absent=0, sessions_left=60) == 9


@pytest.mark.parametrize("absent", [0, 5, 9, 10, 12])
def test_missing_exactly_the_sessions_to_spare_ends_out_of_pa_and_one_more_ends_in_it(absent):
    possible, left = 60, 130
    spare = early_warning.sessions_to_spare(possible, absent, left)
    persistent = metrics.thresholds.PERSISTENT.crossed
    if spare >= 0:
        assert not persistent(absent + spare, possible + left)
    assert persistent(absent + spare + 1, possible + left)


def test_spare_is_negative_when_even_full_attendance_ends_the_year_in_pa():
    assert early_warning.sessions_to_spare(possible=100, absent=30, sessions_left=100) == -11
    assert early_warning.attendance_needed_pct(-11, 100) is None


def test_spare_is_unknown_without_the_sessions_left():
    assert early_warning.sessions_to_spare(40, 2, None) is None
    assert early_warning.attendance_needed_pct(None, None) is None


def test_the_attendance_needed_is_the_share_of_the_remaining_sessions_that_must_be_attended():
    spare = early_warning.sessions_to_spare(possible=100, absent=8, sessions_left=100)  # ceil(20) - 1 - 8 = 11
    assert spare == 11
    assert early_warning.attendance_needed_pct(spare, 100) == pytest.approx(89.0)


# --- from the store and the calendar ------------------------------------------------------------


def full_year(db):
    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 9, 19)),
                                                   Term("Summer 2", date(2026, 7, 6), date(2026, 7, 10)))), "admin")


def two_weeks(load, patterns: dict[str, str]):
    """Ten weekdays from Monday 08/09/2025, one character a day for both sessions ('.' present)."""
    load("roll.csv", roll_csv(*[{} for _ in patterns]))
    rows = [(upn, d.isoformat(), s, "/" if mark == "." else mark)
            for upn, days in patterns.items() for d, mark in zip(weekdays(MONDAY, 10), days) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))


def test_spare_sessions_count_the_calendars_sessions_left_in_the_year(db, load):
    two_weeks(load, {A: "..........", B: "I........."})
    full_year(db)
    found = early_warning.spare_sessions(db, date(2025, 9, 19)).set_index("pupil_id")
    # 20 possible so far, 10 left (Summer 2, 5 days): ceil(30 / 10) - 1 - absent.
    ids = dict(db.execute("SELECT upn, id FROM pupils").fetchall())
    assert found.loc[ids[A], "sessions_to_spare"] == 2 and found.loc[ids[B], "sessions_to_spare"] == 0
    assert found.loc[ids[A], "sessions_left"] == 10


def test_spare_sessions_are_null_when_the_calendar_stops_before_the_summer(db, load):
    two_weeks(load, {A: ".........."})
    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 12, 19)),)), "admin")
    assert early_warning.spare_sessions(db, date(2025, 9, 19))["sessions_to_spare"].isna().all()


def test_the_cli_gives_sessions_to_spare_null_without_a_calendar_and_an_integer_with_one(db, db_path, load, capsys):
    two_weeks(load, {A: "..........", B: "I........."})
    assert cli.main(["--db", str(db_path), "pupils", "--format", "json"]) == 0
    assert [r["sessions_to_spare"] for r in json.loads(capsys.readouterr().out)] == [None, None]
    full_year(db)
    assert cli.main(["--db", str(db_path), "pupils", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["upn"], r["sessions_to_spare"]) for r in rows] == [(A, 2), (B, 0)]
    assert all(type(r["sessions_to_spare"]) is int for r in rows)


def test_the_pupils_csv_and_text_keep_their_columns(db, db_path, load, capsys):
    two_weeks(load, {A: ".........."})
    full_year(db)
    assert cli.main(["--db", str(db_path), "pupils", "--format", "csv"]) == 0
    assert "sessions_to_spare" not in capsys.readouterr().out.splitlines()[0]


# --- the watch list ----------------------------------------------------------------------------------


def test_a_pupil_at_exactly_90_percent_is_persistently_absent_so_not_on_the_watch_list(db, load):
    load("roll.csv", roll_csv({}))
    days = weekdays(MONDAY, 40)
    off = {days[5], days[15], days[25], days[35]}  # 4 single days of 40: 90.0%, four short spells
    load("marks.csv", marks_csv([(A, d.isoformat(), s, "I" if d in off else "/") for d in days for s in ("AM", "PM")]))
    figures = metrics.pupil_figures(db, metrics.Period(MONDAY, days[-1]))
    assert figures["attendance_pct"].tolist() == [90.0] and figures["persistently_absent"].tolist() == [True]
    assert early_warning.watch_list(db, metrics.Period(MONDAY, days[-1])).empty


def test_the_watch_list_holds_pupils_between_90_and_93_percent_falling_or_in_short_spells(db, load):
    load("roll.csv", roll_csv({}, {}, {}))
    days = weekdays(MONDAY, 40)
    away = {
        A: {days[5], days[15], days[25]},  # 3 single days of 40: 92.5%, three short spells
        B: {days[36], days[37], days[38]},  # 3 days, all in the last week: 92.5%, one spell, falling
        C: {days[2], days[3], days[4]},  # 3 days, one spell, early on: 92.5%, rising since
    }
    rows = [(upn, d.isoformat(), s, "I" if d in off else "/") for upn, off in away.items() for d in days
            for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    found = early_warning.watch_list(db, metrics.Period(MONDAY, days[-1])).set_index("pupil_id")
    ids = dict(db.execute("SELECT upn, id FROM pupils").fetchall())
    assert set(found.index) == {ids[A], ids[B]}
    assert found.loc[ids[A], "short_spells"] == 3 and "3 short spells of absence" in found.loc[ids[A], "why"]
    assert found.loc[ids[B], "falling"] and found.loc[ids[B], "why"] == "attendance falling"
