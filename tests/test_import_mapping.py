"""Importer: detect → proposed column mapping → read with a mapping, and saved mapping
profiles for the upload screen."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.importers import (
    ColumnMapping, delete_mapping_profile, detect, import_bytes, load_mapping_profile, mapping_profiles,
    read_with_mapping, save_mapping_profile,
)
from tests.conftest import make_upn, roll_csv

A, B = make_upn(1), make_upn(2)
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
OWN_REPORT = f"""Our attendance export
Ref,When,Half,Att
{A},08/09/2025,Reg 1,/
{A},08/09/2025,Reg 2,N
{B},08/09/2025,Reg 1,/
""".encode()
OWN_MAPPING = ColumnMapping("long_marks", {"upn": "Ref", "date": "When", "session": "Half", "mark": "Att"},
                            header_rows=(2,), session_names={"Reg 1": "AM", "Reg 2": "PM"})


@pytest.fixture
def roll(db):
    import_bytes(db, roll_csv({}, {}).encode(), "roll.csv", "officer")
    return db


def test_detect_says_the_shape_the_header_row_and_the_columns_of_a_recognised_file():
    found = detect((SAMPLES / "weekly_grid.xlsx").read_bytes(), "weekly_grid.xlsx")
    assert (found.shape, found.header_row, found.missing, found.problems) == ("weekly_grid", 4, [], [])
    assert found.columns[:3] == ["Adno", "Name", "Reg Group"]
    assert found.mapping.columns == {"adno": "Adno", "name": "Name", "form": "Reg Group"}
    assert found.mapping.header_rows == (4, 5)


def test_detect_proposes_the_week_start_a_title_row_gives():
    found = detect((SAMPLES / "weekday_grid.csv").read_bytes(), "weekday_grid.csv")
    assert (found.shape, found.mapping.week_start) == ("weekday_grid", date(2026, 9, 28))


def test_detect_names_the_columns_found_and_those_missing_when_it_cannot_tell():
    found = detect(f"UPN,Name,Half,Att\n{A},Ann,AM,/\n".encode(), "odd.csv")
    assert (found.shape, found.header_row, found.columns) == (None, 1, ["UPN", "Name", "Half", "Att"])
    assert found.missing == ["Date"]
    assert "Columns found: UPN, Name, Half, Att" in found.message
    assert "'Half' looks like the Session (AM/PM); 'Att' looks like the Mark), which still needs: Date" in found.message
    assert (found.mapping.shape, found.mapping.columns) == (
        "long_marks", {"upn": "UPN", "name": "Name", "session": "Half", "mark": "Att"})


def test_detect_of_a_file_that_is_not_an_export_gives_its_problem():
    found = detect(b"%PDF-1.4 ...", "letter.csv")
    assert (found.shape, found.mapping) == (None, None)
    assert "PDF" in found.problems[0].message


def test_a_file_read_with_a_mapping_imports_with_the_schools_own_headers_and_register_names(db, roll):
    read = read_with_mapping(OWN_REPORT, "own.csv", OWN_MAPPING)
    assert (read.shape, read.errors) == ("long_marks", [])
    assert read.marks["session"].tolist() == [0, 1, 0]
    outcome = import_bytes(db, OWN_REPORT, "own.csv", "officer", mapping=OWN_MAPPING)
    assert (outcome.status, outcome.marks_added) == ("imported", 3)


def test_without_the_mapping_the_same_file_is_refused_with_what_was_found():
    read = read_with_mapping(OWN_REPORT, "own.csv", None)
    assert read.shape is None
    assert "Columns found: Ref, When, Half, Att" in read.problems[0].message


def test_a_mapping_can_give_a_weekday_grid_the_week_its_file_does_not_say(db, roll):
    content = f"UPN,Mon AM,Mon PM\n{A},/,N\n".encode()
    mapping = ColumnMapping("weekday_grid", {"upn": "UPN"}, week_start=date(2025, 9, 8))
    outcome = import_bytes(db, content, "week.csv", "officer", mapping=mapping)
    assert (outcome.status, outcome.date_from, outcome.marks_added) == ("imported", "2025-09-08", 2)


def test_a_mapping_to_a_column_the_file_lacks_is_refused_naming_it():
    mapping = ColumnMapping("long_marks", {"upn": "Pupil Ref", "date": "When", "session": "Half", "mark": "Att"})
    read = read_with_mapping(OWN_REPORT, "own.csv", mapping)
    assert [(p.column, p.severity) for p in read.problems] == [("Pupil Ref", "error")]
    assert "The column 'Pupil Ref' (mapped to UPN) is not in the file" in read.problems[0].message


def test_a_mapping_that_leaves_a_need_unmet_says_what_is_still_needed():
    read = read_with_mapping(OWN_REPORT, "own.csv", ColumnMapping("long_marks", {"upn": "Ref"}, header_rows=(2,)))
    assert "still needs: Date; Session (AM/PM); Mark" in read.problems[0].message


def test_a_mapping_survives_its_json_form():
    assert ColumnMapping.from_json(json.loads(json.dumps(OWN_MAPPING.as_json()))) == OWN_MAPPING


def test_a_saved_mapping_profile_is_there_next_time_and_its_saving_is_audited(db, roll):
    save_mapping_profile(db, "Our own report", OWN_MAPPING, "officer")
    assert [p["name"] for p in mapping_profiles(db)] == ["Our own report"]
    assert load_mapping_profile(db, "Our own report") == OWN_MAPPING
    outcome = import_bytes(db, OWN_REPORT, "own.csv", "officer", mapping=load_mapping_profile(db, "Our own report"))
    assert outcome.status == "imported"
    assert db.execute("SELECT username, action, entity_id FROM audit WHERE entity = 'mapping_profiles'").fetchall() == [
        ("officer", "mapping.save", "Our own report")]


def test_saving_a_profile_under_the_same_name_replaces_it_and_deleting_removes_it(db):
    save_mapping_profile(db, "SIMS", OWN_MAPPING, "officer")
    save_mapping_profile(db, "SIMS", ColumnMapping("pupil_roll", {"upn": "Ref"}), "admin")
    assert [(p["name"], p["shape"], p["updated_by"]) for p in mapping_profiles(db)] == [("SIMS", "pupil_roll", "admin")]
    assert delete_mapping_profile(db, "SIMS", "admin") is True
    assert mapping_profiles(db) == []
    with pytest.raises(KeyError, match="No saved mapping called 'SIMS'"):
        load_mapping_profile(db, "SIMS")


@pytest.mark.parametrize("mapping, says", [
    (ColumnMapping("register", {}), "not a shape"),
    (ColumnMapping("long_marks", {"pupil": "Ref"}), "Unknown column meaning"),
])
def test_a_profile_that_cannot_be_read_is_not_saved(db, mapping, says):
    with pytest.raises(ValueError, match=says):
        save_mapping_profile(db, "Bad", mapping, "officer")
    assert mapping_profiles(db) == []


def test_a_mapping_may_name_any_shape_in_the_table_of_shapes_and_is_refused_naming_those_it_has(db, roll, monkeypatch):
    from dataclasses import replace

    from core.importers import shapes

    row = replace(shapes.SHAPES["long_marks"], id="test_marks", label="Test register marks")
    monkeypatch.setitem(shapes.SHAPES, row.id, row)
    mapping = ColumnMapping("test_marks", OWN_MAPPING.columns, header_rows=(2,), session_names=OWN_MAPPING.session_names)
    save_mapping_profile(db, "Test", mapping, "officer")
    read = read_with_mapping(OWN_REPORT, "own.csv", load_mapping_profile(db, "Test"))
    assert (read.shape, read.errors, len(read.marks)) == ("test_marks", [], 3)
    refused = read_with_mapping(OWN_REPORT, "own.csv", ColumnMapping("register", OWN_MAPPING.columns))
    assert refused.errors[0].message == ("'register' is not a shape Pastoral reads; choose one of: long_marks, "
                                         "weekly_grid, weekday_grid, marks_string, sims_session_xml, ctf_attendance, "
                                             "wonde_session_json, pupil_roll, summary_counts, test_marks.")
