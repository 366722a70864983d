"""Lateness: L (late before registers closed, present) and U (after they closed, an
unauthorised absence), minutes late, weekdays, half terms and the persistent-late list."""

from __future__ import annotations

from datetime import date, timedelta

from core import calendar, lateness, metrics, store
from tests.conftest import make_upn, marks_csv, roll_csv

A, B = make_upn(1), make_upn(2)
MONDAY = date(2025, 9, 8)


def week(upn: str, monday: date, marks: str, minutes: int = 10) -> list[tuple]:
    """Ten marks Monday AM to Friday PM ('.' present); L and U carry `minutes` late."""
    rows = []
    for i, m in enumerate(marks):
        code = ("/" if i % 2 == 0 else "\\") if m == "." else m
        rows.append((upn, (monday + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], code,
                     minutes if m in "LU" else ""))
    return rows


def load_weeks(load, *weeks: list[tuple]) -> None:
    load("roll.csv", roll_csv({}, {}))
    load("marks.csv", marks_csv([row for w in weeks for row in w]))


def period(weeks: int = 1) -> metrics.Period:
    return metrics.Period(MONDAY, MONDAY + timedelta(weeks=weeks) - timedelta(days=3))


def ids(db) -> dict[str, int]:
    return dict(db.execute("SELECT upn, id FROM pupils").fetchall())


def test_l_and_u_are_counted_apart_with_the_minutes_late(db, load):
    load_weeks(load, week(A, MONDAY, "L.L.U.....", minutes=12), week(B, MONDAY, ".........."))
    [row] = lateness.per_pupil(db, period()).to_dict("records")
    assert row["pupil_id"] == ids(db)[A]
    assert (row["late_before_close"], row["late_after_close"], row["late_arrivals"]) == (2, 1, 3)
    assert (row["minutes_late"], row["mean_minutes_late"]) == (36, 12.0)
    assert row["most_lates_on"] == "Monday"


def test_a_late_after_registers_closed_is_an_unauthorised_absence():
    assert "unauthorised absence" in lateness.LATE_LABELS["U"]


def test_lates_by_weekday_show_the_late_gate_pattern(db, load):
    load_weeks(load, week(A, MONDAY, "L.......U."), week(B, MONDAY, "L........."))
    table = lateness.by_weekday(db, period()).set_index(["weekday_name", "session"])
    assert table.loc[("Monday", "AM"), "late_before_close"] == 2
    assert table.loc[("Friday", "AM"), "late_after_close"] == 1


def test_a_week_with_no_school_day_starts_a_new_half_term():
    days = [calendar.to_day(MONDAY + timedelta(days=d)) for d in (0, 1, 7, 21, 22)]
    terms = lateness.half_terms(days)
    assert len(terms) == 2
    assert calendar.from_day(terms["first_day"].iloc[1]) == MONDAY + timedelta(days=21)


def test_the_persistent_late_list_counts_late_arrivals_within_one_half_term(db, load):
    second_half = MONDAY + timedelta(weeks=3)  # after a week with no school day
    load_weeks(load, week(A, MONDAY, "L.L.L.L.L."), week(A, second_half, "U.L.L.L.L."),
               week(B, MONDAY, "L.L.L.L.L."), week(B, MONDAY + timedelta(weeks=1), "L........."))
    found = lateness.persistent_late(db, metrics.Period(MONDAY, second_half + timedelta(days=4)), threshold=6)
    assert found["pupil_id"].tolist() == [ids(db)[B]]  # A has 5 + 5 in two half terms; B 6 in one
    assert found["half_term_from"].tolist() == [MONDAY]


def test_the_persistent_late_threshold_is_a_setting(db, load):
    load_weeks(load, week(A, MONDAY, "L.L.L....."))
    assert lateness.persistent_late(db, period()).empty
    store.set_setting(db, "persistent_late_arrivals", 3, "admin")
    assert lateness.persistent_late(db, period())["late_arrivals"].tolist() == [3]
