"""Importer: files that are not exports, or exports with something wrong, are refused with
a message the user can act on — and a refused file writes nothing at all."""

from __future__ import annotations

import io
import os
import random
import shutil
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from core import store
from core.importers import import_bytes, import_file
from tests.conftest import examples, filled_once, make_upn, marks_csv, roll_csv

A, B = make_upn(1), make_upn(2)
TABLES = ("pupils", "marks", "mark_changes", "imports", "pupil_changes", "summary_counts")


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
@filled_once
def school(db):
    """A roll of two pupils and one week of marks already stored."""
    import_bytes(db, roll_csv({}, {}).encode(), "roll.csv", "officer")
    import_bytes(db, marks_csv([(A, "2025-09-08", "AM", "/"), (B, "2025-09-08", "AM", "N")]).encode(), "w1.csv", "officer")
    return db


def refused(db, content: bytes, name: str):
    """Import `content`; assert it was rejected and nothing was written; return the outcome."""
    before = counts(db)
    outcome = import_bytes(db, content, name, "officer")
    assert outcome.status == "rejected", outcome.problems
    assert outcome.problems and all(p.message for p in outcome.problems)
    assert counts(db) == before
    return outcome


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def word_document() -> bytes:
    """The parts of a .docx that make it a Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document><w:body><w:p>Dear parent</w:p></w:body></w:document>")
    return buffer.getvalue()


# --- not an export -----------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n  ", b"\xef\xbb\xbf"], ids=["empty", "blank lines", "only a BOM"])
def test_an_empty_file_is_refused(school, content):
    outcome = refused(school, content, "week.csv")
    assert "is empty" in outcome.problems[0].message


def test_random_bytes_named_csv_are_refused(school):
    noise = random.Random(4).randbytes(20_000)
    outcome = refused(school, noise, "week.csv")
    assert "not a text file" in outcome.problems[0].message


def test_a_word_document_is_refused(school):
    outcome = refused(school, word_document(), "register.docx")
    assert "Word document" in outcome.problems[0].message


@pytest.mark.parametrize("content, says", [
    (b"%PDF-1.7\n%binary", "PDF"), (b"\x89PNG\r\n\x1a\n" + bytes(100), "picture"),
    (b"PK\x03\x04" + bytes(60), "damaged"),
])
def test_a_pdf_a_picture_or_a_damaged_workbook_is_refused(school, content, says):
    outcome = refused(school, content, "week.csv")
    assert says in outcome.problems[0].message


def test_a_workbook_with_no_data_is_refused(school):
    outcome = refused(school, workbook([]), "empty.xlsx")
    assert "no data" in outcome.problems[0].message


def test_a_workbook_with_a_header_and_no_rows_is_refused(school):
    outcome = refused(school, workbook([["UPN", "Date", "Session", "Mark"]]), "header.xlsx")
    assert "no rows of data" in outcome.problems[0].message


def test_a_letter_is_refused_naming_the_columns_it_found_and_those_needed(school):
    outcome = refused(school, b"Dear parent,\nPlease call the office.\n", "letter.csv")
    message = outcome.problems[0].message
    assert "Could not tell what this file is" in message and "Columns found: Dear parent" in message
    assert "Date, Session and Mark" in message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(school, tmp_path, monkeypatch):
    big = tmp_path / "year.csv"
    with open(big, "wb") as handle:  # a sparse 100 MB file: no disk written, nothing to read
        handle.truncate(100 * 1024 * 1024)
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: pytest.fail("a refused file must not be read"))
    before = counts(school)
    outcome = import_file(school, big, "officer")
    assert outcome.status == "rejected"
    assert outcome.problems[0].message.startswith("year.csv is 100 MB; the limit is 50 MB.")
    assert counts(school) == before
    os.remove(big)


def test_an_upload_over_the_size_limit_is_refused(school):
    store.set_setting(school, "max_upload_mb", 1, "admin")
    outcome = refused(school, b"upn,date,session,mark\n" + b"x" * (2 * 1024 * 1024), "big.csv")
    assert "the limit is 1 MB" in outcome.problems[0].message


def test_a_row_with_more_cells_than_the_header_is_refused_with_its_row(school):
    outcome = refused(school, f"upn,date,session,mark\n{A},2025-09-09,AM,/\n{A},2025-09-09,PM,/,extra\n".encode(),
                      "ragged.csv")
    assert [p.row for p in outcome.problems] == [3]
    assert "more cells than the header" in outcome.problems[0].message


def test_a_row_far_below_with_more_cells_than_any_row_above_is_refused_with_its_row(school):
    rows = [f"{A},{date(2025, 9, 8) + timedelta(days=i // 2)},{('AM', 'PM')[i % 2]},/" for i in range(100)]
    rows.append(f"{B},2025-09-09,AM,/,surplus")
    outcome = refused(school, ("upn,date,session,mark\n" + "\n".join(rows) + "\n").encode(), "ragged.csv")
    assert "Row 102" in outcome.problems[0].message


# --- an export with something wrong ------------------------------------------------


def test_a_formula_stored_as_text_is_kept_as_text_and_flagged(school):
    text = marks_csv([(A, "2025-09-09", "AM", "/")]).replace("upn,", "upn,name,").replace(
        f"{A},", f'{A},"=HYPERLINK(""http://example.invalid"",""Smith"")",')
    outcome = import_bytes(school, text.encode(), "week.csv", "officer")
    assert outcome.status == "imported"
    assert [(p.row, p.column, p.severity) for p in outcome.problems] == [(2, "name", "warning")]
    assert "never run" in outcome.problems[0].message


def test_a_formula_in_place_of_a_mark_is_refused(school):
    outcome = refused(school, marks_csv([(A, "2025-09-09", "AM", "=HYPERLINK(\"x\")")]).encode(), "week.csv")
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "mark")]


def test_a_mark_no_one_knows_is_refused_with_every_row_that_carries_it(school):
    outcome = refused(school, marks_csv([(A, "2025-09-09", "AM", "/"), (A, "2025-09-09", "PM", "Q7"),
                                         (B, "2025-09-09", "AM", "q7")]).encode(), "week.csv")
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "mark"), (4, "mark")]
    assert "Mark 'Q7' is not a DfE code" in outcome.problems[0].message
    assert "Settings → Codes" in outcome.problems[0].message


def test_a_mark_no_one_knows_in_a_grid_names_its_column(school):
    outcome = refused(school, f"UPN,09/09/2025 AM,09/09/2025 PM\n{A},/,Q7\n".encode(), "grid.csv")
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "09/09/2025 PM")]


def test_dates_from_two_academic_years_are_imported_with_a_warning(school):
    outcome = import_bytes(school, marks_csv([(A, "2025-07-21", "AM", "/"), (A, "2025-09-09", "AM", "/")]).encode(),
                           "two_years.csv", "officer")
    assert outcome.status == "imported"
    assert [p.severity for p in outcome.problems] == ["warning"]


def test_the_same_pupil_twice_in_a_session_is_refused(school):
    outcome = refused(school, marks_csv([(A, "2025-09-09", "AM", "/"), (A, "2025-09-09", "AM", "N")]).encode(),
                      "week.csv")
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "session")]
    assert "first on row 2" in outcome.problems[0].message


def test_the_same_pupil_on_two_rows_of_a_grid_is_refused(school):
    outcome = refused(school, f"UPN,09/09/2025 AM\n{A},/\n{A},N\n".encode(), "grid.csv")
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "09/09/2025 AM")]


def test_every_problem_in_a_file_is_reported_at_once(school):
    outcome = refused(school, marks_csv([(A, "2025-02-30", "AM", "/"), (A, "2025-09-09", "EVE", "/"),
                                         (A, "2025-09-10", "AM", "Q7"), ("", "2025-09-10", "AM", "/")]).encode(),
                      "week.csv")
    assert sorted((p.row, p.column) for p in outcome.problems) == [(2, "date"), (3, "session"), (4, "mark"),
                                                                   (5, "upn")]


def test_a_weekday_grid_with_no_week_start_is_refused_saying_what_is_needed(school):
    outcome = refused(school, f"UPN,Mon AM,Mon PM\n{A},/,\\\n".encode(), "week.csv")
    assert "week's start date" in outcome.problems[0].message


def test_a_bad_file_among_good_ones_leaves_the_good_ones_and_the_store_consistent(school, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(marks_csv([(A, "2025-09-10", "AM", "/")]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(random.Random(1).randbytes(5000))
    assert [import_file(school, p, "officer").status for p in (good, bad)] == ["imported", "rejected"]
    assert school.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- anything at all ---------------------------------------------------------------

CELLS = st.sampled_from([
    "UPN", "Date", "Session", "Mark", "Adno", "Name", "Mon AM", "07/09/2026 PM", "Week Beginning", "Marks", "Possible",
    "Present", "Authorised", "Unauthorised", "From", "To", "Total", "Key:", A, A.lower(), B, "123", "07/09/2026",
    "31/02/2026", "2026-09-07", "46272", "AM", "PM", "/", "\\", "N", "I", "q7", "-", "", " ", '"', "'", "=SUM(A1)",
    "//\\\\LN//##", "9" * 30, "Zoë", "\x00", "\ufffd", "Surname", "Forename", "DOB", "Year", "Form", "7", "R",
])
FUZZ = settings(max_examples=examples(50), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def stored_school(tmp_path_factory) -> Path:
    """A store with a roll of two pupils and a week of marks, copied afresh for each case."""
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    db = store.connect(path)
    import_bytes(db, roll_csv({}, {}).encode(), "roll.csv", "officer")
    import_bytes(db, marks_csv([(A, "2025-09-08", "AM", "/"), (B, "2025-09-08", "AM", "N")]).encode(), "w1.csv", "officer")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


def imported_whole_or_not_at_all(template: Path, content: bytes, name: str) -> None:
    """Import `content` into a fresh copy of the store: it must not crash, and the store must
    change by exactly what the outcome says (nothing at all unless it was imported)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "school.db"
        shutil.copy(template, path)
        db = store.connect(path)
        try:
            before = counts(db)
            outcome = import_bytes(db, content, name, "officer")
            assert outcome.status in ("imported", "unchanged", "rejected")
            assert not any("could not read" in p.message for p in outcome.problems), outcome.problems
            after = counts(db)
            if outcome.status == "imported":
                assert after["imports"] == before["imports"] + 1
                assert after["marks"] - before["marks"] == outcome.marks_added
                assert after["mark_changes"] - before["mark_changes"] == outcome.marks_changed
                assert after["pupils"] - before["pupils"] == outcome.pupils_added
            else:
                assert after == before
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            db.conn.close()


@FUZZ
@given(st.lists(st.lists(CELLS, max_size=8), max_size=12), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_no_csv_however_malformed_crashes_or_writes_a_partial_import(stored_school, rows, sep, encoding):
    text = "\n".join(sep.join(row) for row in rows)
    imported_whole_or_not_at_all(stored_school, text.encode(encoding, errors="replace"), "any.csv")


@FUZZ
@given(st.lists(st.lists(st.one_of(CELLS, st.integers(-5, 50000), st.floats(allow_nan=False, allow_infinity=False),
                                   st.dates(date(1990, 1, 1), date(2030, 1, 1)), st.booleans(), st.none()),
                         max_size=8), max_size=10))
def test_no_workbook_however_malformed_crashes_or_writes_a_partial_import(stored_school, rows):
    cleaned = [[c.replace("\x00", "") if isinstance(c, str) else c for c in row] for row in rows]
    imported_whole_or_not_at_all(stored_school, workbook(cleaned), "any.xlsx")


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["any.csv", "any.xlsx", "any.txt"]))
def test_no_bytes_at_all_crash_the_importer_or_write_anything(stored_school, content, name):
    imported_whole_or_not_at_all(stored_school, content, name)
