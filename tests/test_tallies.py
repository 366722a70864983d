"""The yearly tallies kept with the marks (core/marks.py, table pupil_year_tallies) always say what the
marks say: after imports, corrected weeks, undos and purges, in any order; and figures read
from them equal figures counted from the marks. Where they cannot give a range's figures
(a range cutting a year short, marks written some other way) the marks are counted."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import calendar, marks, metrics, safekeeping, store
from core.importers import NothingToUndo, import_bytes, undo_last_import
from tests.conftest import examples, make_upn, marks_csv, roll_csv

UPNS = [make_upn(i) for i in range(1, 4)]
MONDAYS = [date(2025, 9, 1) + timedelta(weeks=w) for w in range(3)] + [date(2024, 8, 12)]  # and one across 19/08/2024
CODES = ["/", "\\", "N", "I", "G", "#", "", "H", "X"]


def counted_from_marks(db) -> list[tuple]:
    return sorted(db.execute(
        f"SELECT pupil_id, {store._academic_year_sql()}, {store._era_case_sql()}, code, COUNT(*) FROM marks "
        "GROUP BY 1, 2, 3, 4").fetchall())


def days_counted(db) -> list[tuple]:
    return sorted(db.execute("SELECT day, session, code, COUNT(*) FROM marks GROUP BY 1, 2, 3").fetchall())


def days_kept(db) -> list[tuple]:
    return sorted(db.execute("SELECT day, session, code, marks FROM day_tallies").fetchall())


def kept(db) -> list[tuple]:
    return sorted(db.execute("SELECT pupil_id, year, era, code, sessions FROM pupil_year_tallies").fetchall())


def counted_tally(db, first: int, last: int) -> pd.DataFrame:
    with patch.object(marks, "_tallies_cover", lambda *args, **kwargs: False):
        return marks.tally_marks(db, first, last)


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    key = ["pupil_id", "code", "era"]
    return a.sort_values(key, ignore_index=True).equals(b.sort_values(key, ignore_index=True))


@st.composite
def histories(draw):
    """Uploads of weeks (some corrected), now and then an undo of the last one."""
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        if steps and draw(st.integers(0, 4)) == 0:
            steps.append(("undo", None))
            continue
        monday = draw(st.sampled_from(MONDAYS))
        pupils = draw(st.lists(st.sampled_from(UPNS), min_size=1, max_size=3, unique=True))
        rows = [(u, (monday + timedelta(days=d)).isoformat(), s, draw(st.sampled_from(CODES)))
                for u in pupils for d in range(5) for s in ("AM", "PM")]
        steps.append(("upload", rows))
    return steps


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_tallies_say_what_the_marks_say_after_any_uploads_and_undos(history):
    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "school.db")
        import_bytes(db, roll_csv({}, {}, {}).encode(), "roll.csv", "officer")
        for number, (step, rows) in enumerate(history):
            if step == "undo":
                try:
                    undo_last_import(db, "officer")
                except NothingToUndo:
                    pass
            else:
                import_bytes(db, marks_csv(rows).encode(), f"upload{number}.csv", "officer")
            assert kept(db) == counted_from_marks(db)
            assert days_kept(db) == days_counted(db)
        for first, last in ((date(2024, 9, 1), date(2025, 8, 31)), (date(2025, 9, 1), date(2026, 8, 31)),
                            (date(2023, 9, 1), date(2026, 8, 31))):
            span = (calendar.to_day(first), calendar.to_day(last))
            assert marks._tallies_cover(db, *span)
            assert same(marks.tally_marks(db, *span), counted_tally(db, *span))
        db.conn.close()


def test_figures_for_the_year_to_date_come_from_the_tallies_and_equal_the_marks(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[1], "2025-09-08", "AM", "/")]))
    period = metrics.default_period(db)
    span = (calendar.to_day(period.date_from), calendar.to_day(period.as_of))
    assert marks._tallies_cover(db, *span)
    assert same(marks.tally_marks(db, *span), counted_tally(db, *span))


def test_a_range_that_cuts_the_year_short_is_counted_from_the_marks(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[0], "2025-09-15", "AM", "/")]))
    assert not marks._tallies_cover(db, calendar.to_day(date(2025, 9, 10)), calendar.to_day(date(2026, 8, 31)))
    assert not marks._tallies_cover(db, calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2025, 9, 10)))
    tally = marks.tally_marks(db, calendar.to_day(date(2025, 9, 10)), calendar.to_day(date(2026, 8, 31)))
    assert tally["code"].tolist() == ["/"]


def test_marks_changed_or_removed_some_other_way_are_kept_in_the_tallies_by_the_store_itself(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[0], "2025-09-09", "AM", "/")]))
    day = calendar.to_day(date(2025, 9, 8))
    with store.transaction(db) as conn:  # not through the importer: the marks' triggers keep the tallies
        conn.execute("UPDATE marks SET code = 'M' WHERE pupil_id = 1 AND day = ? AND session = 0", (day,))
        conn.execute("DELETE FROM marks WHERE pupil_id = 1 AND day = ?", (day + 1,))
    assert kept(db) == counted_from_marks(db)
    assert days_kept(db) == days_counted(db) == [(day, 0, "M", 1)]
    span = (calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2026, 8, 31)))
    assert marks._tallies_cover(db, *span)
    assert marks.tally_marks(db, *span)["code"].tolist() == ["M"]


def test_marks_added_some_other_way_are_counted_from_the_marks(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N")]))
    with store.transaction(db) as conn:  # the tallies do not know of it, and fall short of the marks
        conn.execute("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (1, ?, 1, 'I', 1)",
                     (calendar.to_day(date(2025, 9, 8)),))
    span = (calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2026, 8, 31)))
    assert not marks._tallies_cover(db, *span)
    assert sorted(marks.tally_marks(db, *span)["code"]) == ["I", "N"]


def test_a_mark_added_some_other_way_stops_only_its_own_pupils_scope_reading_the_tallies(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[1], "2025-09-08", "AM", "/")]))
    with store.transaction(db) as conn:  # pupil 1's tallies fall short of their marks; pupil 2's still add up
        conn.execute("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (1, ?, 1, 'I', 1)",
                     (calendar.to_day(date(2025, 9, 8)),))
    span = (calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2026, 8, 31)))
    assert not marks._tallies_cover(db, *span)
    assert not marks._tallies_cover(db, *span, [1])
    assert not marks._tallies_cover(db, *span, [1, 2])
    assert marks._tallies_cover(db, *span, [2])
    assert marks.marks_per_pupil(db, *span, [1]) is None
    assert marks.marks_per_pupil(db, *span, [2]).to_dict() == {2: 1}
    assert marks.year_tallies(db, *span, [1]) is None
    assert sorted(marks.tally_marks(db, *span, [1])["code"]) == ["I", "N"]
    assert marks.tally_marks(db, *span, [2])["code"].tolist() == ["/"]


def test_tallies_that_no_longer_add_up_to_the_marks_are_not_used(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[0], "2025-09-09", "AM", "/")]))
    with store.transaction(db) as conn:
        conn.execute("DELETE FROM pupil_year_tallies WHERE code = 'N'")
    span = (calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2026, 8, 31)))
    assert not marks._tallies_cover(db, *span)
    assert sorted(marks.tally_marks(db, *span)["code"]) == ["/", "N"]


def test_a_bulk_writer_that_fails_leaves_the_triggers_keeping_the_tallies(db, load):
    load("roll.csv", roll_csv({}))
    try:
        with store.transaction(db) as conn, marks.tallies_kept_in_bulk(conn):
            raise RuntimeError("power cut")
    except RuntimeError:
        pass
    assert db.execute("SELECT bulk FROM tally_eras").fetchone()[0] == 0


def test_purging_leavers_takes_their_tallies_with_their_marks(db, load):
    lines = roll_csv({}, {}).splitlines()
    load("roll.csv", "\n".join(f"{line},{extra}" for line, extra in zip(lines, ["leave_date", "2018-07-20", ""])))
    load("old.csv", marks_csv([(UPNS[0], "2018-07-02", "AM", "N"), (UPNS[1], "2025-09-08", "AM", "/")]))
    safekeeping.purge_leavers(db, date(2025, 9, 1), "admin")
    assert kept(db) == counted_from_marks(db)
    assert days_kept(db) == days_counted(db) == [(calendar.to_day(date(2025, 9, 8)), 0, "/", 1)]
    assert [(pupil, year, code) for pupil, year, _, code, _ in kept(db)] == [(2, 2025, "/")]


def test_tallies_read_the_same_counts_as_the_marks(db, load):
    load("roll.csv", roll_csv({}))
    upn = make_upn(1)
    load("marks.csv", marks_csv([(upn, "2025-09-08", "AM", "/"), (upn, "2025-09-08", "PM", "I"),
                                 (upn, "2025-09-09", "AM", "I"), (upn, "2025-09-09", "PM", "")]))
    tally = marks.tally_marks(db, 0, 100_000)
    assert dict(zip(tally["code"], tally["sessions"])) == {"/": 1, "I": 2, "": 1}


def test_the_whole_stores_day_by_day_counts_come_from_the_day_tallies_and_equal_the_marks(db, load, monkeypatch):
    load("roll.csv", roll_csv({}, {}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[0], "2025-09-08", "PM", "/"),
                              (UPNS[1], "2025-09-08", "AM", "N"), (UPNS[1], "2025-09-09", "PM", "L", 5)]))
    span = (calendar.to_day(date(2025, 9, 1)), calendar.to_day(date(2025, 9, 30)))
    counted = db.execute("SELECT day, code, SUM(session = 0), SUM(session = 1) FROM marks WHERE day BETWEEN ? AND ? "
                         "GROUP BY day, code", span).fetchall()
    assert marks._day_tallies_kept(db)
    read = []
    real = db.execute
    monkeypatch.setattr(db, "execute", lambda sql, *a: read.append(sql) or real(sql, *a))
    assert marks.sessions_by_day_and_code(db, *span) == counted == [
        (span[0] + 7, "/", 0, 1), (span[0] + 7, "N", 2, 0), (span[0] + 8, "L", 0, 1)]
    assert any("FROM day_tallies" in sql for sql in read)
    monkeypatch.undo()
    with store.transaction(db) as conn:  # a mark added some other way: the tallies fall short, the marks are counted
        conn.execute("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (1, ?, 0, 'I', 1)", (span[0] + 9,))
    assert not marks._day_tallies_kept(db)
    assert marks.sessions_by_day_and_code(db, *span)[-1] == (span[0] + 9, "I", 1, 0)


def test_a_store_from_before_the_day_tallies_gets_them_filled_from_its_marks(db, load):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(UPNS[0], "2025-09-08", "AM", "N"), (UPNS[0], "2025-09-08", "PM", "/")]))
    with store.transaction(db) as conn:  # as it was before the migration: no tallies
        conn.execute("DELETE FROM day_tallies")
    fill = next(step for step in store.MIGRATIONS[-1] if step.startswith("INSERT INTO day_tallies"))
    with store.transaction(db) as conn:
        conn.execute(fill)
    assert days_kept(db) == days_counted(db)
