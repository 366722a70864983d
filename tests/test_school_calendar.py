"""The school calendar (core/school_calendar.py): proposed from the marks, checked, saved,
and asked which days are school days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import calendar, school_calendar, store
from core.school_calendar import CLOSURE, INSET, BANK_HOLIDAY, NonSchoolDay, SchoolCalendar, Term
from tests.conftest import make_upn, marks_csv

# 2025/26: Autumn 1 Wed 03/09 – Fri 24/10 (half term 27–31/10), Autumn 2 Mon 03/11 – Fri 19/12.
AUTUMN_1 = Term("Autumn 1", date(2025, 9, 3), date(2025, 10, 24))
AUTUMN_2 = Term("Autumn 2", date(2025, 11, 3), date(2025, 12, 19))
SUMMER_2 = Term("Summer 2", date(2026, 6, 1), date(2026, 7, 22))


def weekdays(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1) if (first + timedelta(days=i)).weekday() < 5]


def held_days(*ranges: tuple[date, date], skip: tuple[date, ...] = ()) -> list[int]:
    return [calendar.to_day(d) for first, last in ranges for d in weekdays(first, last) if d not in skip]


def test_a_proposal_makes_a_term_of_each_run_of_school_weeks_split_at_a_week_without_sessions():
    days = held_days((AUTUMN_1.first_day, AUTUMN_1.last_day), (AUTUMN_2.first_day, date(2025, 11, 14)))
    proposed = school_calendar.propose_from_days(days, 2025)
    assert proposed.terms == (Term("Autumn 1", date(2025, 9, 3), date(2025, 10, 24)),
                              Term("Autumn 2", date(2025, 11, 3), date(2025, 11, 14)))


def test_a_proposal_lists_a_weekday_in_term_with_no_session_for_anyone_as_a_non_school_day():
    inset = date(2025, 10, 10)  # a Friday
    days = held_days((AUTUMN_1.first_day, AUTUMN_1.last_day), skip=(inset,))
    proposed = school_calendar.propose_from_days(days, 2025)
    assert proposed.non_school_days == (NonSchoolDay(inset, CLOSURE, school_calendar.PROPOSED_LABEL),)
    assert not proposed.is_school_day(inset)


def test_a_proposal_keeps_only_the_academic_year_asked_for():
    days = held_days((date(2025, 7, 14), date(2025, 7, 18)), (AUTUMN_1.first_day, date(2025, 9, 12)))
    assert school_calendar.propose_from_days(days, 2025).terms == (Term("Autumn 1", date(2025, 9, 3), date(2025, 9, 12)),)


def test_proposed_from_the_stored_marks(db, load):
    rows = [(make_upn(1), d.isoformat(), s, "/") for d in weekdays(date(2025, 9, 8), date(2025, 9, 19)) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    assert school_calendar.propose(db, 2025).terms == (Term("Autumn 1", date(2025, 9, 8), date(2025, 9, 19)),)


def test_a_school_day_is_a_weekday_in_term_that_is_not_a_non_school_day():
    saved = SchoolCalendar((AUTUMN_1, AUTUMN_2), (NonSchoolDay(date(2025, 9, 3), INSET, "Training"),))
    assert saved.is_school_day(date(2025, 9, 4))
    assert not saved.is_school_day(date(2025, 9, 3))  # INSET
    assert not saved.is_school_day(date(2025, 9, 6))  # a Saturday
    assert not saved.is_school_day(date(2025, 10, 29))  # half term
    assert not saved.is_school_day(date(2025, 9, 2))  # before the first term


def test_school_days_between_two_dates_skip_weekends_half_term_and_inset_days():
    saved = SchoolCalendar((AUTUMN_1, AUTUMN_2), (NonSchoolDay(date(2025, 11, 3), INSET, ""),))
    # Mon 20/10 – Fri 07/11: 5 days, then half term, then 5 days less the INSET Monday.
    days = saved.school_days(date(2025, 10, 20), date(2025, 11, 7))
    assert days == weekdays(date(2025, 10, 20), date(2025, 10, 24)) + weekdays(date(2025, 11, 4), date(2025, 11, 7))


def test_school_days_left_count_the_days_after_the_date_to_the_end_of_the_last_term():
    saved = SchoolCalendar((AUTUMN_1, SUMMER_2), (NonSchoolDay(date(2026, 6, 5), BANK_HOLIDAY, "Made up"),))
    after = date(2026, 7, 15)  # a Wednesday: Thu 16 – Wed 22 July are left
    assert saved.school_days_left(after) == 5
    assert saved.school_sessions_left(after) == 10
    assert saved.school_days_left(date(2026, 5, 29)) == len(weekdays(date(2026, 6, 1), date(2026, 7, 22))) - 1


def test_school_days_left_are_unknown_when_the_calendar_stops_before_the_summer():
    saved = SchoolCalendar((AUTUMN_1, AUTUMN_2))
    assert saved.school_days_left(date(2025, 10, 1)) is None
    assert saved.school_sessions_left(date(2025, 10, 1)) is None


def test_saving_then_loading_gives_the_calendar_back_and_is_audited(db):
    saved = SchoolCalendar((AUTUMN_1, AUTUMN_2), (NonSchoolDay(date(2025, 9, 3), INSET, "Training"),))
    school_calendar.save(db, 2025, saved, "admin")
    assert school_calendar.load(db) == saved
    entry = db.execute("SELECT username, action, entity_id FROM audit WHERE action = 'calendar.save'").fetchone()
    assert entry == ("admin", "calendar.save", "2025/26")


def test_saving_a_year_again_replaces_only_that_year(db):
    school_calendar.save(db, 2024, SchoolCalendar((Term("Summer 2", date(2025, 6, 2), date(2025, 7, 18)),)), "admin")
    school_calendar.save(db, 2025, SchoolCalendar((AUTUMN_1,)), "admin")
    school_calendar.save(db, 2025, SchoolCalendar((AUTUMN_2,)), "admin")
    assert school_calendar.load(db).terms == (Term("Summer 2", date(2025, 6, 2), date(2025, 7, 18)), AUTUMN_2)


def test_no_calendar_saved_loads_as_none(db):
    assert school_calendar.load(db) is None


@pytest.mark.parametrize("bad, message", [
    (SchoolCalendar((Term("Autumn 1", date(2025, 10, 24), date(2025, 9, 3)),)),
     "Autumn 1 ends on 03/09/2025, before it starts on 24/10/2025 — correct its dates."),
    (SchoolCalendar((AUTUMN_1, Term("Autumn 2", date(2025, 10, 20), date(2025, 12, 19)))),
     "Autumn 1 (03/09/2025 – 24/10/2025) and Autumn 2 (20/10/2025 – 19/12/2025) overlap — a day can be in one "
     "term only."),
    (SchoolCalendar((AUTUMN_1,), (NonSchoolDay(date(2025, 10, 29), INSET, ""),)),
     "29/10/2025 (INSET day) is not inside any term — a holiday needs no entry: remove it, or correct the date or "
     "the term's dates."),
    (SchoolCalendar((AUTUMN_1,), (NonSchoolDay(date(2025, 9, 6), CLOSURE, ""),)),
     "06/09/2025 (Closure) is a Saturday: weekends are never school days — remove it."),
    (SchoolCalendar((Term("Autumn 1", date(2025, 8, 20), date(2025, 10, 24)),)),
     "Autumn 1 (20/08/2025 – 24/10/2025) is not inside the academic year 2025/26 (01/09/2025 – 31/08/2026) — "
     "correct its dates."),
])
def test_a_calendar_that_cannot_be_right_is_refused_with_what_to_do_and_nothing_saved(db, bad, message):
    with pytest.raises(school_calendar.CalendarError) as refused:
        school_calendar.save(db, 2025, bad, "admin")
    assert message in refused.value.problems
    assert school_calendar.load(db) is None


def test_without_a_calendar_the_school_days_are_the_days_with_sessions(db, load):
    rows = [(make_upn(1), d.isoformat(), "AM", "/") for d in (date(2025, 9, 8), date(2025, 9, 10))]
    load("marks.csv", marks_csv(rows))
    days = school_calendar.school_day_numbers(db, calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2025, 9, 30)))
    assert [calendar.from_day(d) for d in days] == [date(2025, 9, 8), date(2025, 9, 10)]


def test_with_a_calendar_the_school_days_are_the_calendars_even_without_marks(db, load):
    rows = [(make_upn(1), d.isoformat(), "AM", "/") for d in (date(2025, 9, 8), date(2025, 9, 10))]
    load("marks.csv", marks_csv(rows))
    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 9, 12)),)), "admin")
    days = school_calendar.school_day_numbers(db, calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2025, 9, 30)))
    assert [calendar.from_day(d) for d in days] == weekdays(date(2025, 9, 8), date(2025, 9, 12))


def test_with_a_calendar_the_weekly_trend_has_a_week_nobody_uploaded_with_no_possible_session(db, load):
    from core import metrics, patterns

    rows = [(make_upn(1), d.isoformat(), s, "/") for d in weekdays(date(2025, 9, 8), date(2025, 9, 12))
            + weekdays(date(2025, 9, 22), date(2025, 9, 26)) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))
    period = metrics.Period(date(2025, 9, 1), date(2025, 9, 26))
    assert [str(w) for w in patterns.weekly_trend(db, period)["week_start"]] == ["2025-09-08", "2025-09-22"]
    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 10, 24)),)), "admin")
    trend = patterns.weekly_trend(db, period)
    assert [str(w) for w in trend["week_start"]] == ["2025-09-08", "2025-09-15", "2025-09-22"]
    assert trend["possible_sessions"].tolist() == [10, 0, 10]


def test_with_a_calendar_a_day_with_a_session_outside_the_terms_is_still_a_day_with_marks(db, load):
    rows = [(make_upn(1), "2025-09-08", "AM", "/"), (make_upn(1), "2025-09-13", "AM", "V")]
    load("marks.csv", marks_csv(rows))
    school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 9, 9)),)), "admin")
    days = school_calendar.school_day_numbers(db, calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2025, 9, 30)))
    assert [calendar.from_day(d) for d in days] == [date(2025, 9, 8), date(2025, 9, 9), date(2025, 9, 13)]
