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


# --- missing marks from the school calendar -------------------------------------------------------


def save_autumn(db, *closed):
    from core import school_calendar
    from core.school_calendar import INSET, NonSchoolDay, SchoolCalendar, Term

    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 10, 24)),),
                                                  tuple(NonSchoolDay(d, INSET, "") for d in closed)), "admin")


def test_without_a_calendar_a_day_nobody_was_marked_on_is_no_missing_mark(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(p, day(d), s, "/") for p in (A, B) for d in (0, 2) for s in ("AM", "PM")]))
    assert data_quality.missing_marks(db, period(2)).empty


def test_with_a_calendar_a_school_day_with_no_mark_for_a_pupil_on_roll_is_two_missing_marks(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(p, day(d), s, "/") for p in (A, B) for d in (0, 2) for s in ("AM", "PM")]
                            + [(A, day(1), "AM", "/"), (A, day(1), "PM", "/")]))
    save_autumn(db)
    found = data_quality.missing_marks(db, period(2))
    assert found[["pupil_id", "date", "session", "code"]].values.tolist() == [
        [ids(db)[B], date(2025, 9, 9), "AM", ""], [ids(db)[B], date(2025, 9, 9), "PM", ""]]


def test_a_whole_week_never_uploaded_is_missing_for_every_pupil_and_listed_by_week(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(p, day(d), s, "/") for p in (A, B) for d in (0, 1, 2, 3, 4, 10) for s in ("AM", "PM")]))
    save_autumn(db)
    found = data_quality.missing_marks(db, period(10))
    assert len(found) == 2 * 5 * 2
    by_week = data_quality.missing_by_week(found)
    assert by_week[["week_start", "sessions", "pupils"]].values.tolist() == [[date(2025, 9, 15), 20, 2]]
    assert by_week["dates"].iloc[0] == "15/09/2025, 16/09/2025, 17/09/2025, 18/09/2025, 19/09/2025"
    assert data_quality.missing_by_pupil(found)["sessions"].tolist() == [10, 10]


def test_an_inset_day_is_no_missing_mark_and_a_pupil_is_counted_only_from_joining(db, load):
    lines = roll_csv({}, {}).splitlines()
    load("roll.csv", "\n".join([lines[0] + ",entry_date", lines[1] + ",2025-09-01", lines[2] + ",2025-09-10"]))
    load("m.csv", marks_csv([(A, day(d), s, "/") for d in (0, 2) for s in ("AM", "PM")]
                            + [(B, day(2), s, "/") for s in ("AM", "PM")]))
    save_autumn(db, date(2025, 9, 9))
    assert data_quality.missing_marks(db, period(2)).empty


def test_missing_marks_from_the_calendar_count_in_no_total(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(p, day(d), s, "/") for p in (A, B) for d in (0, 2) for s in ("AM", "PM")]))
    before = metrics.pupil_figures(db, period(2))
    save_autumn(db)
    assert len(data_quality.missing_marks(db, period(2))) == 4
    after = metrics.pupil_figures(db, period(2))
    assert after["possible_sessions"].tolist() == before["possible_sessions"].tolist() == [4, 4]
    assert after["attendance_pct"].tolist() == [100.0, 100.0]


def test_the_pupils_figures_count_the_calendars_missing_marks_as_data_quality_lists_them(db, load):
    """Issue 15 item 5: one count of missing marks everywhere — the pupil figures behind the
    Overview tile, the pupil page, Below 90%'s list and `pastoral pupils` count the school
    days with nothing stored exactly as Data quality lists them."""
    load("roll.csv", roll_csv({}, {}))
    load("m.csv", marks_csv([(p, day(d), s, "/") for p in (A, B) for d in (0, 2) for s in ("AM", "PM")]
                            + [(A, day(1), "AM", "/"), (A, day(1), "PM", "/")]))
    assert metrics.pupil_figures(db, period(2))["missing_marks"].tolist() == [0, 0]  # no calendar: as before
    save_autumn(db)
    figures = metrics.pupil_figures(db, period(2)).set_index("pupil_id")
    listed = data_quality.missing_by_pupil(data_quality.missing_marks(db, period(2))).set_index("pupil_id")
    assert figures["missing_marks"].to_dict() == {ids(db)[A]: 0, ids(db)[B]: 2}
    assert figures.loc[listed.index, "missing_marks"].tolist() == listed["sessions"].tolist()
