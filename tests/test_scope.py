"""core/scope.py reads a scope's marks without reading the plain present ones, and works
out the rest from the sessions the school held. These properties check that nothing is
lost that way: on any small school — pupils joining late or leaving early, sessions only
part of the school had, missing marks, closures, a pupil with a gap in their marks — the
figures from the marks read equal the figures from every mark, and the statutory triggers
equal those found from every mark (`triggers.find_triggers`)."""

from __future__ import annotations

import tempfile
from unittest.mock import patch
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import calendar, codes, metrics, scope, store, triggers
from core import marks as marks_table
from tests.conftest import examples, make_upn

FIRST_MONDAY = date(2025, 9, 1)
CODES = ["/", "\\", "/", "\\", "/", "\\", "L", "N", "U", "G", "O", "I", "M", "C2", "X", "#", ""]
WEEKDAYS = [FIRST_MONDAY + timedelta(weeks=w, days=d) for w in range(6) for d in range(5)]
SATURDAY_TRIP = FIRST_MONDAY + timedelta(weeks=2, days=5)


@st.composite
def schools(draw):
    """Pupils' registers: each pupil on roll for a stretch of days, mostly present, with
    absences and missing marks, now and then a session with no mark at all, and a Saturday
    trip for a few pupils (a session only part of the school had)."""
    pupils = draw(st.integers(2, 5))
    rows = []
    for pupil in range(1, pupils + 1):
        start = draw(st.integers(0, 10))
        end = draw(st.integers(start + 1, len(WEEKDAYS)))
        runs = draw(st.lists(st.tuples(st.integers(0, len(WEEKDAYS) - 1), st.integers(1, 14),
                                       st.sampled_from(["N", "G", "I", "U", "M"])), max_size=3))
        absent = {d: code for first, length, code in runs for d in range(first, first + length)}
        for d in range(start, end):
            for session in (0, 1):
                if draw(st.integers(0, 40)) == 0:
                    continue  # no row: the pupil is incomplete
                code = absent.get(d) or draw(st.sampled_from(CODES))
                rows.append((pupil, calendar.to_day(WEEKDAYS[d]), session, code))
        if draw(st.booleans()) and pupil <= 2:
            rows.append((pupil, calendar.to_day(SATURDAY_TRIP), 0, draw(st.sampled_from(["/", "V", "N"]))))
    return pupils, rows


def stored(pupils: int, rows: list[tuple]):
    """A store holding the pupils (Year 7, compulsory school age) and their marks."""
    folder = tempfile.mkdtemp()
    db = store.connect(Path(folder) / "school.db")
    with store.transaction(db) as conn:
        conn.execute("INSERT INTO imports (id, file_name, sha256, shape, rows, pupils, imported_by, imported_at) "
                     "VALUES (1, 'test.csv', '', 'long_marks', 0, 0, 'test', '2025-10-01')")
        conn.executemany("INSERT INTO pupils (id, upn, dob, year_group, nc_year) VALUES (?, ?, '2014-01-15', '7', 7)",
                         [(p, make_upn(p)) for p in range(1, pupils + 1)])
        conn.executemany("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (?, ?, ?, ?, 1)", rows)
    return db


def every_mark(db, first_day: int, last_day: int, pupil_ids: list[int]) -> scope.ScopeMarks:
    return scope._read_whole(db, first_day, last_day, pupil_ids)


def read_by_sample(db, first_day: int, last_day: int) -> scope.ScopeMarks:
    """The scope read the way a big school's is: sessions told apart by a sample of two pupils."""
    with patch.object(scope, "SAMPLE_PUPILS", 2):
        return scope.read_scope(db, first_day, last_day, None)


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_index().astype("int64")


SLOW = settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPAN = (calendar.to_day(WEEKDAYS[0]), calendar.to_day(SATURDAY_TRIP + timedelta(weeks=3)))


@SLOW
@given(schools())
def test_sessions_by_week_from_the_marks_read_equal_those_from_every_mark(school):
    pupils, rows = school
    db = stored(pupils, rows)
    whole = every_mark(db, *SPAN, list(range(1, pupils + 1)))
    by_week = calendar.week_of_days
    figures = metrics.pupil_figures(db, metrics.Period(*(calendar.from_day(d) for d in SPAN)))
    counted = figures.set_index("pupil_id")[list(codes.CATEGORIES)].sum(axis=1)
    for read in (scope.read_scope(db, *SPAN, None), read_by_sample(db, *SPAN),
                 scope.read_scope(db, *SPAN, None, marks_per_pupil=counted)):
        assert sorted_frame(read.totals_by(by_week)).equals(sorted_frame(whole.totals_by(by_week)))
    db.conn.close()


@SLOW
@given(schools())
def test_sessions_by_week_equal_a_plain_count_of_every_stored_mark(school):
    pupils, rows = school
    db = stored(pupils, rows)
    marks = scope.classified(marks_table.load_marks(db, *SPAN))
    counted = (marks.assign(bucket=calendar.week_of_days(marks["day"].to_numpy()))
               .groupby(["pupil_id", "bucket", "category"]).size().unstack("category", fill_value=0)
               .reindex(columns=list(codes.CATEGORIES), fill_value=0))
    totals = read_by_sample(db, *SPAN).totals_by(calendar.week_of_days)
    totals = totals[totals.sum(axis=1) > 0]
    assert sorted_frame(totals).equals(sorted_frame(counted))
    db.conn.close()


@SLOW
@given(schools())
def test_runs_of_absent_and_unauthorised_days_from_the_marks_read_equal_those_from_every_mark(school):
    pupils, rows = school
    db = stored(pupils, rows)
    read = read_by_sample(db, *SPAN)
    whole = every_mark(db, *SPAN, list(range(1, pupils + 1)))
    for counted in (("authorised", "unauthorised"), ("unauthorised",)):
        mine, theirs = read.days_all(counted), whole.days_all(counted)
        assert mine[["pupil_id", "day", "sessions"]].equals(theirs[["pupil_id", "day", "sessions"]])
        # The same days belong together in a run (the run numbers themselves may differ).
        assert (mine["run"].diff().fillna(1) != 0).tolist() == (theirs["run"].diff().fillna(1) != 0).tolist()
    db.conn.close()


@SLOW
@given(schools())
def test_triggers_from_the_marks_read_equal_those_found_from_every_mark(school):
    pupils, rows = school
    db = stored(pupils, rows)
    as_of = calendar.from_day(max((day for _, day, _, _ in rows), default=calendar.to_day(WEEKDAYS[-1])))
    # Low thresholds, so that small registers reach every trigger now and then.
    low = {"illness_sessions": 4, "penalty_sessions": 3, "penalty_school_weeks": 2,
           "unauthorised_run_days": {"unauthorised_10_days": 2, "unauthorised_20_days": 4}}
    for key, value in low.items():
        store.set_setting(db, key, value, "test")
    rules = triggers.TriggerRules.from_settings(store.get_settings(db))
    # A school this small would be read whole, and its sessions told apart by every pupil's marks.
    with patch.object(scope, "READ_WHOLE_UP_TO_PUPILS", 0), patch.object(scope, "SAMPLE_PUPILS", 2):
        found = triggers.reached(db, as_of)

    year_start = calendar.academic_year_start(as_of)
    first_day = calendar.to_day(year_start - timedelta(weeks=rules.penalty_school_weeks + 30))
    last_day = calendar.to_day(as_of)
    marks = marks_table.load_marks(db, first_day, last_day)
    school_days = marks_table.school_session_days(db, first_day, last_day)["day"].to_numpy()
    expected = triggers.find_triggers(marks, rules, calendar.to_day(year_start), school_days)

    def key(frame):
        return sorted(zip(frame["pupil_id"].astype(int), frame["trigger"], frame["reached_on"], frame["detail"]))

    assert key(found) == key(expected)
    db.conn.close()


def test_a_small_scope_is_read_whole_with_nothing_inferred():
    db = stored(2, [(1, calendar.to_day(WEEKDAYS[0]), 0, "/"), (1, calendar.to_day(WEEKDAYS[0]), 1, "N"),
                    (2, calendar.to_day(WEEKDAYS[0]), 0, "/")])
    read = scope.read_scope(db, *SPAN, [1])
    assert sorted(read.marks["code"]) == ["/", "N"]
    assert not read.pupils["complete"].any()
    db.conn.close()


def test_minutes_late_are_read_for_late_arrivals():
    db = stored(70, [(p, calendar.to_day(WEEKDAYS[0]), 0, "/") for p in range(1, 71)])
    with store.transaction(db) as conn:
        conn.execute("UPDATE marks SET code = 'L', minutes_late = 12 WHERE pupil_id = 3")
    read = scope.read_scope(db, *SPAN, None)
    late = read.marks[read.marks["code"] == "L"]
    assert late["minutes_late"].tolist() == [12]
    assert np.array_equal(late["pupil_id"].to_numpy(), [3])
    db.conn.close()


@SLOW
@given(schools(), st.integers(0, len(WEEKDAYS) - 1))
def test_a_read_cut_to_a_later_start_equals_a_read_from_that_start(school, start):
    pupils, rows = school
    db = stored(pupils, rows)
    later = calendar.to_day(WEEKDAYS[start])
    cut = read_by_sample(db, *SPAN).since(later)
    fresh = every_mark(db, later, SPAN[1], list(range(1, pupils + 1)))
    assert sorted(cut.pupils["pupil_id"]) == sorted(fresh.pupils["pupil_id"])
    by_week = calendar.week_of_days
    assert sorted_frame(cut.totals_by(by_week)).equals(sorted_frame(fresh.totals_by(by_week)))
    db.conn.close()
