"""A register uploaded part-way through the day: sessions not taken yet are no session and
no missing marks; an empty register in the past stays missing marks (FORMATS.md)."""

from __future__ import annotations

from core import marks
from tests.conftest import make_upn, marks_csv, roll_csv

A, B = make_upn(1), make_upn(2)
RUN_AT_0940 = "Attendance marks\nReport run 22/09/2025 09:40\n"


def stored(db) -> list[tuple]:
    return db.execute("SELECT pupil_id, date(day * 86400, 'unixepoch'), session, code FROM marks "
                      "ORDER BY day, session, pupil_id").fetchall()


def test_this_afternoons_empty_register_in_a_morning_export_is_not_stored(db, load):
    load("roll.csv", roll_csv({}, {}))
    outcome = load("today.csv", RUN_AT_0940 + marks_csv([
        (A, "2025-09-22", "AM", "/"), (B, "2025-09-22", "AM", "N"), (A, "2025-09-22", "PM", ""),
        (B, "2025-09-22", "PM", "")]))
    assert (outcome.status, outcome.marks_added) == ("imported", 2)
    assert [row[2] for row in stored(db)] == [0, 0]
    assert any("PM session on 22/09/2025 has no marks for anyone yet" in p.message and p.severity == "warning"
               for p in outcome.problems)


def test_a_weekly_grid_run_on_monday_morning_stores_only_what_was_taken(db, load):
    load("roll.csv", roll_csv({}))
    rows = [(A, "2025-09-22", "AM", "/")] + [(A, f"2025-09-{d}", s, "") for d in (22, 23, 24) for s in ("AM", "PM")
                                              if (d, s) != (22, "AM")]
    load("week.csv", RUN_AT_0940 + marks_csv(rows))
    assert stored(db) == [(1, "2025-09-22", 0, "/")]
    assert marks.mark_date_range(db)[1].isoformat() == "2025-09-22"


def test_an_empty_register_before_the_export_was_run_stays_missing_marks(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("week.csv", "Attendance marks\nReport run 26/09/2025 16:00\n" + marks_csv([
        (A, "2025-09-22", "AM", "/"), (B, "2025-09-22", "AM", "/"), (A, "2025-09-22", "PM", ""),
        (B, "2025-09-22", "PM", "")]))
    assert [row[3] for row in stored(db) if row[2] == 1] == ["", ""]


def test_once_anyone_has_an_afternoon_mark_the_empty_cells_are_missing_marks(db, load):
    load("roll.csv", roll_csv({}, {}))
    load("today.csv", RUN_AT_0940 + marks_csv([(A, "2025-09-22", "AM", "/"), (B, "2025-09-22", "AM", "/"),
                                               (A, "2025-09-22", "PM", "\\"), (B, "2025-09-22", "PM", "")]))
    assert [row[3] for row in stored(db) if row[2] == 1] == ["\\", ""]


def test_the_afternoon_uploaded_later_adds_its_marks_without_changing_any(db, load):
    load("roll.csv", roll_csv({}))
    load("am.csv", RUN_AT_0940 + marks_csv([(A, "2025-09-22", "AM", "/"), (A, "2025-09-22", "PM", "")]))
    outcome = load("pm.csv", "Attendance marks\nReport run 22/09/2025 15:30\n" + marks_csv(
        [(A, "2025-09-22", "AM", "/"), (A, "2025-09-22", "PM", "\\")]))
    assert (outcome.marks_added, outcome.marks_changed) == (1, 0)
