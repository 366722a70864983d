"""Marks on days no register is taken (core/importers/dates.py): after today, on a weekend,
on the school calendar's non-school days — held (the file refused, nothing stored) with how
many, which dates and what to do, unless the user confirms the dates."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core import cli, school_calendar
from core.importers import IMPORTED, REJECTED, import_file
from core.importers import dates as import_dates
from core.school_calendar import INSET, NonSchoolDay, SchoolCalendar, Term
from tests.conftest import make_upn, marks_csv, roll_csv

P1 = make_upn(1)
TERM = Term("Autumn 1", date(2025, 9, 3), date(2025, 10, 24))


@pytest.fixture(autouse=True)
def today_is_in_autumn(monkeypatch):
    monkeypatch.setattr(import_dates, "today", lambda: date(2025, 10, 1))


@pytest.fixture(autouse=True)
def roll(load):
    load("roll.csv", roll_csv({}, {}))


def stored_marks(db) -> int:
    return db.execute("SELECT COUNT(*) FROM marks").fetchone()[0]


def messages(outcome) -> list[str]:
    return [p.as_json()["message"] for p in outcome.problems]


def test_marks_dated_after_today_are_refused_with_the_dates_and_what_to_do(db, load):
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-30", "AM", "/"), (P1, "2025-10-02", "AM", "/"),
                                           (P1, "2025-10-02", "PM", "/"), (P1, "2025-10-03", "AM", "I")]))
    assert outcome.status == REJECTED
    assert messages(outcome) == [
        "3 marks dated after today (02/10/2025, 03/10/2025): a register cannot be taken before its day. Check the "
        "report's date range in the MIS and export again; if these marks are right, import them anyway: tick "
        "“Import marks on these dates anyway” on Upload (or add --accept-dates to `pastoral import`)."]
    assert stored_marks(db) == 0


def test_marks_after_today_are_imported_when_confirmed_and_the_warning_says_so(db, tmp_path):
    path = tmp_path / "marks.csv"
    path.write_text(marks_csv([(P1, "2025-09-30", "AM", "/"), (P1, "2025-10-02", "AM", "C")]), encoding="utf-8")
    outcome = import_file(db, path, "officer", accept_dates=True)
    assert outcome.status == IMPORTED
    assert messages(outcome) == ["Warning: 1 mark dated after today (02/10/2025) imported as you confirmed."]
    assert stored_marks(db) == 2


def test_without_a_calendar_weekend_marks_are_imported_with_a_warning(db, load):
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-12", "AM", "/"), (P1, "2025-09-13", "AM", "V")]))
    assert outcome.status == IMPORTED
    assert messages(outcome)[0].startswith("Warning: 1 mark on a weekend (13/09/2025); imported as they are")
    assert stored_marks(db) == 2


def test_with_a_calendar_weekend_marks_are_refused(db, load):
    school_calendar.save(db, 2025, SchoolCalendar((TERM,)), "admin")
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-12", "AM", "/"), (P1, "2025-09-13", "AM", "V"),
                                           (P1, "2025-09-14", "PM", "V")]))
    assert outcome.status == REJECTED
    assert messages(outcome)[0].startswith("2 marks on a weekend (13/09/2025, 14/09/2025), when the school calendar "
                                           "has no school day. Check the dates in the MIS and export again;")
    assert stored_marks(db) == 0


def test_marks_on_an_inset_day_or_in_the_holiday_are_refused_naming_the_day(db, load):
    school_calendar.save(db, 2025, SchoolCalendar((TERM,), (NonSchoolDay(date(2025, 9, 19), INSET, "Training"),)),
                         "admin")
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-18", "AM", "/"), (P1, "2025-09-19", "AM", "/"),
                                           (P1, "2025-09-02", "AM", "/")]))
    assert outcome.status == REJECTED
    assert messages(outcome) == [
        "2 marks on days the school calendar says are not school days (02/09/2025 (holiday), 19/09/2025 (INSET day: "
        "Training)). If the school was open, correct the calendar in Admin → School calendar and upload again; if "
        "the dates are wrong, export again from the MIS; if these marks are right, import them anyway: tick "
        "“Import marks on these dates anyway” on Upload (or add --accept-dates to `pastoral import`)."]
    assert stored_marks(db) == 0


def test_closure_marks_and_empty_cells_on_a_non_school_day_are_not_held(db, load):
    school_calendar.save(db, 2025, SchoolCalendar((TERM,), (NonSchoolDay(date(2025, 9, 19), INSET, ""),)), "admin")
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-18", "AM", "/"), (make_upn(2), "2025-09-18", "AM", "/"),
                                           (P1, "2025-09-19", "AM", "#"), (make_upn(2), "2025-09-19", "AM", "")]))
    assert outcome.status == IMPORTED
    assert "Warning: 1 empty cell on non-school days of the school calendar (19/09/2025) not stored" in messages(outcome)[0]
    assert stored_marks(db) == 3


def test_the_cli_json_keeps_its_shape_when_a_file_is_held(db_path, tmp_path, capsys):
    path = tmp_path / "marks.csv"
    path.write_text(marks_csv([(P1, "2025-10-06", "AM", "/")]), encoding="utf-8")
    assert cli.main(["--db", str(db_path), "import", str(path), "--format", "json"]) == 1
    held = json.loads(capsys.readouterr().out)["files"][0]
    assert set(held) == {"file", "status", "shape", "rows", "pupils", "marks_added", "marks_changed", "date_from",
                         "date_to", "problems"}
    assert held["status"] == "rejected"
    assert held["problems"][0]["row"] is None and held["problems"][0]["column"] is None
    assert held["problems"][0]["message"].startswith("1 mark dated after today (06/10/2025)")
    assert cli.main(["--db", str(db_path), "import", str(path), "--format", "json", "--accept-dates"]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["status"] == "imported"


def test_with_a_calendar_empty_weekend_cells_are_not_stored_as_missing_marks(db, load):
    school_calendar.save(db, 2025, SchoolCalendar((TERM,)), "admin")
    outcome = load("marks.csv", marks_csv([(P1, "2025-09-12", "AM", "/"), (P1, "2025-09-13", "AM", "")]))
    assert outcome.status == IMPORTED
    assert db.execute("SELECT COUNT(*) FROM marks WHERE code = ''").fetchone()[0] == 0
