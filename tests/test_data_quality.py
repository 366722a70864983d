"""Data quality: each list a school fixes so its figures can be trusted, and its count."""

from __future__ import annotations

from datetime import date, timedelta

from core import data_quality, metrics
from tests.conftest import make_upn, marks_csv, roll_csv

A, B, C = make_upn(1), make_upn(2), make_upn(3)
MONDAY = date(2025, 9, 8)


def day(offset: int) -> str:
    """The school day `offset` weekdays after Monday 08/09/2025."""
    d = MONDAY
    for _ in range(offset):
        d += timedelta(days=3 if d.weekday() == 4 else 1)
    return d.isoformat()


def period(last: int) -> metrics.Period:
    return metrics.Period(MONDAY, date.fromisoformat(day(last)))


def ids(db) -> dict[str, int]:
    return dict(db.execute("SELECT upn, id FROM pupils").fetchall())


def test_missing_marks_are_listed_session_by_session(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(A, day(0), "AM", "/"), (A, day(0), "PM", "-"), (B, day(0), "AM", "/"),
                             (B, day(0), "PM", "\\")]))
    found = data_quality.missing_marks(db, period(0))
    assert found[["pupil_id", "session"]].values.tolist() == [[ids(db)[A], "PM"]]


def test_an_n_older_than_5_school_days_is_unresolved(db, load):
    load("roll.csv", roll_csv({}))
    rows = [(A, day(0), "AM", "N"), (A, day(1), "AM", "N")] + [(A, day(d), "AM", "/") for d in range(2, 7)]
    load("m.csv", marks_csv(rows))
    found = data_quality.unresolved_n(db, period(6))
    assert [d.isoformat() for d in found["date"]] == [day(0)]  # day 1's N is 5 school days old: still in time
    assert found["school_days_old"].tolist() == [6]


def test_the_school_days_allowed_to_resolve_an_n_are_a_setting(db, load):
    from core import store

    load("roll.csv", roll_csv({}))
    load("m.csv", marks_csv([(A, day(0), "AM", "N"), (A, day(1), "AM", "/"), (A, day(2), "AM", "/")]))
    assert data_quality.unresolved_n(db, period(2)).empty
    store.set_setting(db, "unresolved_n_school_days", 1, "admin")
    assert len(data_quality.unresolved_n(db, period(2))) == 1


def test_pupils_in_the_marks_but_not_on_the_roll_are_listed(db, load):
    load("roll.csv", roll_csv({}))
    load("m.csv", marks_csv([(A, day(0), "AM", "/"), (B, day(0), "AM", "/")]))
    assert data_quality.not_on_roll(db, period(0))[["pupil_id", "marks"]].values.tolist() == [[ids(db)[B], 1]]


def test_upns_failing_the_check_letter_are_listed(db, load):
    bad = "A" + A[1:] if A[0] != "A" else "B" + A[1:]
    load("roll.csv", roll_csv({"upn": bad}, {}))
    assert data_quality.invalid_upns(db)["upn"].tolist() == [bad]


def test_leavers_still_receiving_marks_are_listed(db, load):
    load("roll.csv", roll_csv({}) + f"\n{B},00002,Gone,Pupil,2014-01-15,F,7,7A,N,N,N,N,N")
    load("leavers.csv", f"upn,surname,forename,leave_date\n{B},Gone,Pupil,{day(0)}")
    load("m.csv", marks_csv([(A, day(1), "AM", "/"), (B, day(0), "AM", "/"), (B, day(1), "AM", "N")]))
    found = data_quality.leavers_with_marks(db, period(1))
    assert found[["pupil_id", "code"]].values.tolist() == [[ids(db)[B], "N"]]


def test_marks_on_a_day_the_school_was_closed_for_everyone_else_are_listed(db, load):
    load("roll.csv", roll_csv({}, {}, {}, {}))
    D = make_upn(4)
    load("m.csv", marks_csv([(A, day(0), "AM", "#"), (B, day(0), "AM", "#"), (C, day(0), "AM", "/"),
                             (D, day(0), "AM", "Z"),  # not yet on roll that day: no problem
                             (A, day(1), "AM", "/"), (B, day(1), "AM", "/"), (C, day(1), "AM", "/")]))
    found = data_quality.closure_day_marks(db, period(1))
    assert found[["pupil_id", "code"]].values.tolist() == [[ids(db)[C], "/"]]


def test_every_list_has_a_count(db, load):
    load("roll.csv", roll_csv({}))
    load("m.csv", marks_csv([(A, day(0), "AM", "/"), (A, day(0), "PM", "")]))
    counts = data_quality.counts(data_quality.lists(db, period(0)))
    assert counts == {"missing_marks": 1, "unresolved_n": 0, "not_on_roll": 0, "invalid_upns": 0,
                      "leavers_with_marks": 0, "closure_day_marks": 0, "counts_not_used": 0}


def test_a_head_of_section_sees_only_their_pupils_problems(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(A, day(0), "AM", ""), (B, day(0), "AM", ""), (A, day(0), "PM", "\\")]))
    assert data_quality.missing_marks(db, period(0), pupil_ids=[ids(db)[B]])["pupil_id"].tolist() == [ids(db)[B]]
