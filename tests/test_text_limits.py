"""Text from a file or a person is kept fit to store, show and download: names and fields
have length limits, control characters (BEL, NUL, ESC…) never get in, a file with a NUL
anywhere is refused as binary, and every download works whatever the store holds — even a
100,000-character name or a BEL stored before the importer removed them."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from core import auth, cases, evidence_pack, exports, meetings, metrics, pdf, text
from core.importers import import_bytes
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

LEAD = auth.Viewer("dsl", "pastoral_lead")
MONDAY = date(2025, 9, 8)
HUGE = "A" * 100_000
# BEL, ESC, DEL, C1 NEL, a bidi override, a BOM (a NUL refuses the whole file: see below)
HOSTILE = "Bel\x07la \x1b[31mRed\x7f\x85 \u202eevil\ufeff"


def _roll(*pupils: dict, filler: int = 40) -> bytes:
    """A roll of the given pupils plus `filler` ordinary ones (a real roll is mostly text, so
    a few control characters are not mistaken for a binary file)."""
    ordinary = [{"surname": f"Surname{i}", "forename": f"Forename{i}"} for i in range(filler)]
    return roll_csv(*pupils, *ordinary).encode()


def _problems(outcome, severity: str) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in outcome.problems if p.severity == severity]


# --- at import ---------------------------------------------------------------------------------


def test_a_name_longer_than_100_characters_refuses_the_roll_naming_row_and_column(db):
    outcome = import_bytes(db, _roll({"surname": "Smith"}, {"forename": "B" * 101}), "roll.csv", "officer")
    assert outcome.status == "rejected"
    [(row, column, message)] = _problems(outcome, "error")
    assert (row, column) == (3, "Forename")
    assert "101 characters" in message and "at most 100" in message and "B" * 101 not in message
    assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0


def test_a_name_of_exactly_100_characters_is_imported(db):
    outcome = import_bytes(db, _roll({"surname": "S" * 100}), "roll.csv", "officer")
    assert outcome.status == "imported"
    assert db.execute("SELECT surname FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0] == "S" * 100


def test_a_100000_character_forename_is_refused_quickly_with_one_problem(db):
    outcome = import_bytes(db, _roll({"forename": HUGE}), "roll.csv", "officer")
    assert outcome.status == "rejected"
    assert [(r, c) for r, c, _ in _problems(outcome, "error")] == [(2, "Forename")]


def test_each_field_has_a_limit_and_a_parent_s_name_over_it_is_refused(db):
    assert text.limit("surname") == text.limit("forename") == text.limit("contact1_name") == 100
    assert text.limit("address") == 500 and text.limit("anything else") == text.OTHER_LIMIT
    roll = ("upn,surname,forename,dob,year_group,Primary Contact Name\n"
            f"{make_upn(1)},Smith,Ann,2014-01-15,7,{'M' * 150}\n").encode()
    outcome = import_bytes(db, roll, "roll.csv", "officer")
    assert outcome.status == "rejected"
    assert [(r, c) for r, c, _ in _problems(outcome, "error")] == [(2, "Primary Contact Name")]


def test_control_characters_in_a_roll_are_removed_with_a_warning_naming_row_and_column(db):
    outcome = import_bytes(db, _roll({"surname": "Jo\x07nes", "forename": HOSTILE}), "roll.csv", "officer")
    assert outcome.status == "imported"
    assert {(r, c) for r, c, _ in _problems(outcome, "warning")} >= {(2, "Surname"), (2, "Forename")}
    surname, forename = db.execute("SELECT surname, forename FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()
    assert surname == "Jones"
    assert forename == "Bella [31mRed evil"
    assert not text.UNPRINTABLE.search(forename)


def test_control_characters_in_a_marks_file_s_names_are_removed_too(db):
    rows = [(make_upn(1), (MONDAY).isoformat(), "AM", "/")]
    marks = "upn,surname,forename,date,session,mark\n" + "\n".join(
        f"{u},New\x07man,Nia,{d},{s},{m}" for u, d, s, m in rows) + "\n"
    marks += "".join(f"{make_upn(i)},Other,Pupil,{MONDAY.isoformat()},AM,/\n" for i in range(2, 40))
    outcome = import_bytes(db, marks.encode(), "marks.csv", "officer")
    assert outcome.status == "imported", outcome.problems
    assert db.execute("SELECT surname FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0] == "Newman"


def test_a_nul_after_the_first_64_kb_refuses_the_file_as_binary(db):
    padding = "".join(f"{make_upn(1)},{MONDAY.isoformat()},AM,/\n" for _ in range(4000))
    content = ("upn,date,session,mark\n" + padding).encode() + b"\x00\x00" + b"\n"
    assert len(content) > 65536 and b"\x00" not in content[:65536]
    outcome = import_bytes(db, content, "marks.csv", "officer")
    assert outcome.status == "rejected"
    assert "binary data" in outcome.problems[0].message
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0


# --- typed by a person -------------------------------------------------------------------------


def _one_pupil(db) -> int:
    assert import_bytes(db, _roll({"surname": "Ahmed", "forename": "Amir"}), "roll.csv", "officer").status == "imported"
    return db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0]


def test_a_case_note_is_stored_without_control_characters_and_keeps_its_lines(db):
    pupil = _one_pupil(db)
    action = cases.open_intervention(db, LEAD, pupil, "Home visit", "dsl", MONDAY,
                                     summary="Met\x07 mum\x00.\nWill call\u202e back.")
    cases.log_contact(db, LEAD, pupil, "call", MONDAY, "Mo\x1bther", summary="Rang\x07")
    summary = db.execute("SELECT summary FROM interventions WHERE id = ?", (action,)).fetchone()[0]
    assert summary == "Met mum.\nWill call back."
    assert db.execute("SELECT with_whom, summary FROM contacts").fetchone() == ("Mother", "Rang")


def test_a_case_note_over_5000_characters_is_refused_with_a_clear_message(db):
    pupil = _one_pupil(db)
    with pytest.raises(cases.CaseError, match="5,001 characters long; keep it to 5,000"):
        cases.open_intervention(db, LEAD, pupil, "Home visit", "dsl", MONDAY, summary="x" * 5001)
    assert db.execute("SELECT COUNT(*) FROM interventions").fetchone()[0] == 0


def test_meeting_minutes_and_attendees_are_stored_without_control_characters(db):
    meeting = meetings.start_meeting(db, LEAD, MONDAY, ["Pri\x07ya Pastoral", "Olu\x1b Officer"])
    meetings.save_minutes(db, LEAD, meeting, notes="Clinic\x07 on\x00 Thursday.\nCall mum.")
    kept = meetings.minutes(db, meeting)
    assert kept.attendees == ["Priya Pastoral", "Olu Officer"]
    assert kept.notes == "Clinic on Thursday.\nCall mum."


# --- every download works for every stored value ------------------------------------------------

STORED = ["Bel\x07la", "\x00NUL\x1b", "=cmd\x07", "\u202eevil", "x" * 40_000, HUGE]


def test_an_excel_download_of_any_stored_text_opens():
    frame = pd.DataFrame({"Pupil": STORED, "Attendance %": [90.0] * len(STORED)})
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "list"))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells[:4] == ["Bella", "NUL", "=cmd", "evil"]
    assert all(len(c) <= exports.XLSX_CELL_LIMIT for c in cells)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_csv_download_of_any_stored_text_has_no_control_characters_and_no_formula():
    frame = pd.DataFrame({"Pupil": STORED})
    written = exports.csv_bytes(frame).decode("utf-8-sig")
    cells = [row[0] for row in csv.reader(io.StringIO(written))][1:]
    assert cells[:4] == ["Bella", "NUL", "'=cmd", "evil"] and cells[5] == HUGE
    assert not text.UNPRINTABLE.search(written)


def test_a_pdf_table_title_and_heading_of_any_stored_text_are_drawn():
    for value in STORED:
        document = pdf.Document(value, f"Report — {value}", value)
        document.heading(value)
        document.table(pd.DataFrame({"Pupil": [value], "Note": [value]}), widths=[30, 150])
        document.table(pd.DataFrame({"Pupil": [value], "Note": [value]}))
        assert document.pdf_bytes().startswith(b"%PDF")


def test_a_file_name_built_from_a_huge_name_stays_short():
    name = evidence_pack.pack_file_name("Test Academy", HUGE, HUGE, MONDAY, False, "pdf")
    assert len(name) < 160 and name.endswith("_08-09-2025.pdf")


@pytest.fixture
def huge_name_pupil(db):
    """A pupil whose stored forename is 100,000 characters and holds a BEL (stored before the
    importer refused such names), with a week of marks and a case note."""
    assert import_bytes(db, _roll({"surname": "Ahmed", "forename": "Amir"}, filler=0), "roll.csv", "officer").status \
        == "imported"
    assert import_bytes(db, marks_csv(week_rows(MONDAY, ["NNNN......"])).encode(), "week.csv", "officer").status \
        == "imported"
    pupil = db.execute("SELECT id FROM pupils").fetchone()[0]
    cases.open_intervention(db, LEAD, pupil, "Home visit", "dsl", MONDAY, summary="y" * 5000)
    with db.conn:
        db.execute("UPDATE pupils SET forename = ?, contact1_name = ? WHERE id = ?", (HUGE + "\x07", "Mum\x07", pupil))
    return pupil


def test_the_evidence_pack_of_a_pupil_with_a_100000_character_name_is_made(db, huge_name_pupil):
    pack = evidence_pack.evidence_pack(db, LEAD, huge_name_pupil, metrics.Period(date(2025, 9, 1), MONDAY.replace(day=12)))
    assert evidence_pack.evidence_pack_pdf(pack, masked=False).startswith(b"%PDF")
    assert evidence_pack.evidence_pack_pdf(pack, masked=True).startswith(b"%PDF")
    written = exports.csv_bytes(evidence_pack.evidence_pack_frame(pack, False))
    assert HUGE.encode() in written and b"\x07" not in written
    workbook = exports.xlsx_bytes(evidence_pack.evidence_pack_frame(pack, False), "pack")
    assert openpyxl.load_workbook(io.BytesIO(workbook)).active.max_row > 5
