"""The text encodings a CSV export comes in: UTF-8 (with or without a BOM), UTF-16 (with a
BOM either way round, or without one), Windows-1252 as Excel's plain "CSV" saves it — and a
file mixing UTF-8 and Windows-1252, refused with the row where it changes."""

from __future__ import annotations

import pytest

from core.importers import import_bytes, read_export
from tests.conftest import make_upn

ROLL = ("upn,surname,forename,year_group,form\n"
        f"{make_upn(1)},Nowak,Zoë,7,7A\n"
        f"{make_upn(2)},Ó Briain,Seán,7,7A\n"
        f"{make_upn(3)},Brown,Bella,7,7A\n")
NAMES = {(make_upn(1), "Nowak", "Zoë"), (make_upn(2), "Ó Briain", "Seán"), (make_upn(3), "Brown", "Bella")}


def names_read(content: bytes) -> set[tuple[str, str, str]]:
    read = read_export(content, "roll.csv")
    assert not read.errors, read.problems
    return set(read.pupils[["upn", "surname", "forename"]].itertuples(index=False, name=None))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_with_or_without_bom_and_windows_1252_read_the_same_names(encoding):
    assert names_read(ROLL.encode(encoding)) == NAMES


@pytest.mark.parametrize("bom, encoding", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_with_a_bom_reads_the_same_names_either_byte_order(bom, encoding):
    assert names_read(bom + ROLL.encode(encoding)) == NAMES


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_and_read(encoding):
    assert names_read(ROLL.encode(encoding)) == NAMES


def test_a_utf16_roll_imports_with_its_accents_intact(db):
    outcome = import_bytes(db, ROLL.encode("utf-16"), "roll.csv", "officer")
    assert outcome.status == "imported", outcome.problems
    assert db.execute("SELECT forename FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone() == ("Zoë",)


def mixed_roll() -> bytes:
    """Rows 1–3 saved as UTF-8, row 4 onwards appended by a program writing Windows-1252."""
    lines = ROLL.splitlines(keepends=True)
    return "".join(lines[:3]).encode("utf-8") + "".join(lines[3:] + [f"{make_upn(4)},Renée,Léa,7,7A\n"]).encode("cp1252")


def test_a_file_half_utf8_half_windows_1252_is_refused_naming_the_row_where_it_changes(db):
    outcome = import_bytes(db, mixed_roll(), "roll.csv", "officer")
    assert outcome.status == "rejected"
    problem = outcome.problems[0]
    assert problem.row == 5  # Renée's row is the first written in Windows-1252
    assert "row 2 is written in UTF-8 but from row 5 it is Windows-1252" in problem.message
    assert "CSV UTF-8" in problem.message
    assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0


def test_a_windows_1252_file_with_utf8_rows_pasted_in_is_refused_at_the_first_utf8_row():
    content = ROLL.encode("cp1252") + f"{make_upn(4)},Renée,Léa,7,7A\n".encode("utf-8")
    read = read_export(content, "roll.csv")
    assert [p.row for p in read.errors] == [5]
    assert "row 2 is written in Windows-1252 but from row 5 it is UTF-8" in read.errors[0].message


def test_a_utf8_bom_file_with_a_windows_1252_row_is_refused():
    content = ROLL.encode("utf-8-sig").replace("Brown".encode(), "Brówn".encode("cp1252"))
    read = read_export(content, "roll.csv")
    assert read.errors and read.errors[0].row == 4
    assert "mixes two text encodings" in read.errors[0].message


def test_binary_data_with_scattered_nuls_is_still_refused_not_read_as_utf16():
    content = bytes(range(256)) * 20
    read = read_export(content, "photo.csv")
    assert read.errors and "binary data" in read.errors[0].message
