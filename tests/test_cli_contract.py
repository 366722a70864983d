"""DESIGN.md "The `pastoral` command — a stable contract": the JSON each command prints,
its exit codes, and its date defaults. Everything goes through `core.cli.main`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest

from core import cli
from tests.conftest import make_upn, marks_csv, roll_csv

A, B, C, D, E, F = (make_upn(i) for i in range(1, 7))

IMPORT_FIELDS = {"file", "status", "shape", "rows", "pupils", "marks_added", "marks_changed",
                 "date_from", "date_to", "problems"}
PUPIL_FIELDS = {"upn", "surname", "forename", "year_group", "form", "section", "possible_sessions",
                "attendance_sessions", "authorised_sessions", "unauthorised_sessions", "missing_marks",
                "attendance_pct", "absence_pct", "persistently_absent", "severely_absent",
                "sessions_to_spare"}  # issue 17 item 6 added sessions_to_spare (null without a full-year calendar)
GROUP_FIELDS = {"pupils", "possible_sessions", "attendance_sessions", "authorised_sessions",
                "unauthorised_sessions", "missing_marks", "overall_absence_pct", "authorised_absence_pct",
                "unauthorised_absence_pct", "persistent_absentees", "persistent_absence_pct",
                "severe_absentees", "severe_absence_pct"}


@pytest.fixture
def pastoral(db_path, capsys):
    """pastoral(*args) runs the command on the test's database: (exit code, stdout)."""

    def _run(*args: str) -> tuple[int, str]:
        code = cli.main(["--db", str(db_path), *args])
        return code, capsys.readouterr().out

    return _run


@pytest.fixture
def write(tmp_path):
    """write(name, text) puts a file in the test's folder and returns its path as text."""

    def _write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text.strip() + "\n", encoding="utf-8")
        return str(path)

    return _write


@pytest.fixture
def imported(pastoral, write):
    """imported(roll_text, marks_text): both files imported through the CLI, checked."""

    def _import(roll: str, marks: str) -> None:
        code, out = pastoral("import", "--format", "json", write("roll.csv", roll), write("marks.csv", marks))
        assert code == 0, out
        assert [f["status"] for f in json.loads(out)["files"]] == ["imported", "imported"], out

    return _import


def json_of(result: tuple[int, str]):
    code, out = result
    assert code == 0, out
    return json.loads(out)


def register(upn: str, grid: str) -> list[tuple]:
    """Marks rows from a register written one week a line: `2025-09-08  / /  N N  …` (AM PM per weekday)."""
    rows = []
    for line in grid.strip().splitlines():
        words = line.split(";")[0].split()
        if words and re.fullmatch(r"\d{4}-\d\d-\d\d", words[0]):
            monday = date.fromisoformat(words[0])
            for i, code in enumerate(words[1:]):
                rows.append((upn, (monday + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], code))
    return rows


def stored(db) -> dict[str, list[tuple]]:
    return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("marks", "mark_changes", "imports", "pupils")}


# --- import ------------------------------------------------------------------------------


def test_import_reports_each_file_with_the_contract_fields(pastoral, write):
    roll = write("roll.csv", roll_csv({}, {}))
    marks = write("marks.csv", marks_csv([
        (A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N"),
        (B, "2025-09-08", "AM", "/"), (B, "2025-09-09", "PM", "-"),
    ]))
    code, out = pastoral("import", "--format", "json", roll, marks)
    files = json.loads(out)["files"]
    assert code == 0
    assert [set(f) for f in files] == [IMPORT_FIELDS, IMPORT_FIELDS]
    assert files[1] == {
        "file": marks, "status": "imported", "shape": "long_marks", "rows": 4, "pupils": 2,
        "marks_added": 4, "marks_changed": 0, "date_from": "2025-09-08", "date_to": "2025-09-09", "problems": [],
    }
    assert (files[0]["status"], files[0]["shape"], files[0]["pupils"]) == ("imported", "pupil_roll", 2)


def test_reimporting_the_same_file_is_unchanged_and_changes_nothing(pastoral, write, db):
    roll = write("roll.csv", roll_csv({}))
    marks = write("marks.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N")]))
    pastoral("import", roll, marks)
    before = stored(db)
    code, out = pastoral("import", "--format", "json", roll, marks)
    files = json.loads(out)["files"]
    assert code == 0
    assert [f["status"] for f in files] == ["unchanged", "unchanged"]
    assert (files[1]["marks_added"], files[1]["marks_changed"]) == (0, 0)
    assert stored(db) == before


def test_a_changed_mark_counts_as_one_changed_mark(pastoral, write):
    pastoral("import", write("roll.csv", roll_csv({})),
             write("week.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N")])))
    corrected = write("corrected.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "I")]))
    code, out = pastoral("import", "--format", "json", corrected)
    [result] = json.loads(out)["files"]
    assert code == 0
    assert (result["status"], result["marks_added"], result["marks_changed"]) == ("imported", 0, 1)


def test_a_missing_mark_is_added_and_filling_it_in_counts_as_changed(pastoral, write):
    pastoral("import", write("roll.csv", roll_csv({})))
    _, out = pastoral("import", "--format", "json",
                      write("week.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "-")])))
    assert json.loads(out)["files"][0]["marks_added"] == 2
    _, out = pastoral("import", "--format", "json",
                      write("filled.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "M")])))
    [result] = json.loads(out)["files"]
    assert (result["status"], result["marks_added"], result["marks_changed"]) == ("imported", 0, 1)


@pytest.mark.parametrize("bad_row, column", [
    ((A, "2025-09-09", "AM", "Q7"), "mark"),          # not a DfE code, not mapped
    ((A, "2025-02-30", "AM", "/"), "date"),           # no such date
    ((A, "2025-09-09", "EVE", "/"), "session"),       # not a session
    ((A, "08/09/2025", "PM", "I"), "session"),        # the same session as row 3, written another way
])
def test_a_file_with_a_bad_row_is_rejected_with_its_row_number_and_writes_nothing(pastoral, write, db, bad_row, column):
    pastoral("import", write("roll.csv", roll_csv({})),
             write("week.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N")])))
    before = stored(db)
    bad = write("bad.csv", marks_csv([
        (A, "2025-09-08", "AM", "L"),    # row 2: a change that must not be written
        (A, "2025-09-08", "PM", "N"),    # row 3
        bad_row,                         # row 4
        (A, "2025-09-10", "AM", "/"),    # row 5: a new mark that must not be written
    ]))
    code, out = pastoral("import", "--format", "json", bad)
    [result] = json.loads(out)["files"]
    assert code == 1
    assert result["status"] == "rejected"
    assert [(p["row"], p["column"]) for p in result["problems"]] == [(4, column)]
    assert set(result["problems"][0]) == {"row", "column", "message"}
    assert stored(db) == before


def test_each_file_is_all_or_nothing_and_any_rejected_file_exits_1(pastoral, write, db):
    pastoral("import", write("roll.csv", roll_csv({})))
    good = write("good.csv", marks_csv([(A, "2025-09-08", "AM", "/")]))
    bad = write("bad.csv", marks_csv([(A, "2025-09-09", "AM", "/"), (A, "2025-09-09", "PM", "Q7")]))
    code, out = pastoral("import", "--format", "json", good, bad)
    assert code == 1
    assert [f["status"] for f in json.loads(out)["files"]] == ["imported", "rejected"]
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 1


def test_every_problem_in_a_rejected_file_is_reported_at_once(pastoral, write):
    pastoral("import", write("roll.csv", roll_csv({})))
    bad = write("bad.csv", marks_csv([(A, "2025-02-30", "AM", "/"), (A, "2025-09-09", "PM", "Q7")]))
    _, out = pastoral("import", "--format", "json", bad)
    [result] = json.loads(out)["files"]
    assert sorted((p["row"], p["column"]) for p in result["problems"]) == [(2, "date"), (3, "mark")]


def test_a_dry_run_reports_what_would_change_and_writes_nothing(pastoral, write, db):
    pastoral("import", write("roll.csv", roll_csv({})))
    before = stored(db)
    code, out = pastoral("import", "--dry-run", "--format", "json",
                         write("week.csv", marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N")])))
    assert code == 0
    assert json.loads(out)["files"][0]["marks_added"] == 2
    assert stored(db) == before


# --- pupils ------------------------------------------------------------------------------


def test_pupils_lists_each_pupil_with_a_possible_session_with_the_contract_fields(pastoral, imported):
    imported(roll_csv({}, {}), marks_csv([
        (A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "N"),
        (B, "2025-09-08", "AM", "X"), (B, "2025-09-08", "PM", "-"),   # B: no possible session
    ]))
    rows = json_of(pastoral("pupils"))
    assert [set(r) for r in rows] == [PUPIL_FIELDS]
    assert rows[0] == {
        "upn": A, "surname": "Surname1", "forename": "Forename1", "year_group": "7", "form": "7A",
        "section": "Secondary", "possible_sessions": 2, "attendance_sessions": 1, "authorised_sessions": 0,
        "unauthorised_sessions": 1, "missing_marks": 0, "attendance_pct": 50.0, "absence_pct": 50.0,
        "persistently_absent": True, "severely_absent": True, "sessions_to_spare": None,
    }


def test_pupils_percentages_are_unrounded_in_json(pastoral, imported):
    imported(roll_csv({}), marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "/"),
                                      (A, "2025-09-09", "AM", "N")]))
    [pupil] = json_of(pastoral("pupils"))
    assert pupil["attendance_pct"] == pytest.approx(200 / 3, rel=1e-12)
    assert pupil["absence_pct"] == pytest.approx(100 / 3, rel=1e-12)


def test_pupils_csv_shows_percentages_to_one_decimal_place(pastoral, imported):
    imported(roll_csv({}), marks_csv([(A, "2025-09-08", "AM", "/"), (A, "2025-09-08", "PM", "/"),
                                      (A, "2025-09-09", "AM", "N")]))
    code, out = pastoral("pupils", "--format", "csv")
    [pupil] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert set(pupil) == PUPIL_FIELDS - {"sessions_to_spare"}  # the JSON's addition only (issue 17 item 6)
    assert (pupil["attendance_pct"], pupil["absence_pct"]) == ("66.7", "33.3")


@pytest.mark.parametrize("only, listed", [("persistent", {A, B}), ("severe", {B})])
def test_pupils_only_lists_persistently_or_severely_absent_pupils(pastoral, imported, only, listed):
    imported(roll_csv({}, {}, {}), marks_csv(
        register(A, "2025-09-08  / /   / /   / /   / /   N /")     # A: 9 of 10 = 90.0%: PA
        + register(B, "2025-09-08  / /   / /   / N   N N   N N")   # B: 5 of 10 = 50.0%: PA and SA
        + register(C, "2025-09-08  / /   / /   / /   / /   / /")   # C: 100%
    ))
    assert {r["upn"] for r in json_of(pastoral("pupils", "--only", only))} == listed


# --- summary -----------------------------------------------------------------------------


def test_summary_gives_all_pupils_and_compulsory_age_pupils_with_the_contract_fields(pastoral, imported):
    imported(roll_csv({}), marks_csv([(A, "2025-09-08", "AM", "/")]))
    headline = json_of(pastoral("summary"))
    assert set(headline) == {"all", "compulsory_school_age"}
    assert set(headline["all"]) == GROUP_FIELDS
    assert set(headline["compulsory_school_age"]) == GROUP_FIELDS


# The hand-calculated school: five pupils on roll over two weeks, plus one who has not joined yet.
# Friday 19/09 is an INSET day (# for everyone).
HAND_SCHOOL_ROLL = roll_csv(
    {"forename": "Amira", "dob": "2014-01-15", "year_group": "7"},    # A: aged 11 on 31/08/2025
    {"forename": "Ben", "dob": "2012-04-04", "year_group": "9"},      # B: aged 13
    {"forename": "Chloe", "dob": "2010-02-02", "year_group": "11"},   # C: aged 15
    {"forename": "Dev", "dob": "2021-03-03", "year_group": "R"},      # D: aged 4, not of compulsory school age
    {"forename": "Erin", "dob": "2009-05-05", "year_group": "12"},    # E: aged 16, not of compulsory school age
    {"forename": "Finn", "dob": "2013-06-06", "year_group": "8"},     # F: joins later
)
HAND_SCHOOL_MARKS = marks_csv(
    #                 Mon   Tue   Wed   Thu   Fri
    register(A, """
        2025-09-08    / /   / /   I I   / /   / /
        2025-09-15    L /   / /   / /   / /   # #   ; possible 18: attendance 16 (L is present), authorised 2
    """) + register(B, """
        2025-09-08    G G   G G   / /   N N   / /
        2025-09-15    N O   / U   / /   / /   # #   ; possible 18: attendance 9, unauthorised 9 (G×4 N×3 O U)
    """) + register(C, """
        2025-09-08    / /   V V   / -   / /   / /
        2025-09-15    / /   / /   / /   * /   # #   ; possible 16: attendance 16 (V is approved activity), missing 2
    """) + register(D, """
        2025-09-08    / /   I I   / /   / /   / /
        2025-09-15    / C   / /   / /   / /   # #   ; possible 18: attendance 15, authorised 3
    """) + register(E, """
        2025-09-08    X X   X X   / /   / /   / /
        2025-09-15    / /   / N   / /   / /   # #   ; possible 14 (X not possible): attendance 13, unauthorised 1
    """) + register(F, """
        2025-09-08    Z Z   Z Z   Z Z   Z Z   Z Z
        2025-09-15    Z Z   Z Z   Z Z   Z Z   # #   ; no possible session: not one of the pupils
    """)
)


def test_summary_of_a_small_school_matches_the_figures_worked_by_hand(pastoral, imported):
    imported(HAND_SCHOOL_ROLL, HAND_SCHOOL_MARKS)
    headline = json_of(pastoral("summary"))
    # PA when 10 × absent ≥ possible; SA when 2 × absent ≥ possible:
    #   A: absent 2 of 18  → 20 ≥ 18 PA;  4 < 18 not SA
    #   B: absent 9 of 18  → PA; 18 ≥ 18 SA
    #   C: absent 0 of 16  → neither
    #   D: absent 3 of 18  → 30 ≥ 18 PA; 6 < 18 not SA
    #   E: absent 1 of 14  → 10 < 14 not PA
    # All pupils (A B C D E; F has no possible session):
    #   possible     18 + 18 + 16 + 18 + 14 = 84
    #   attendance   16 +  9 + 16 + 15 + 13 = 69
    #   authorised    2 +  0 +  0 +  3 +  0 = 5
    #   unauthorised  0 +  9 +  0 +  0 +  1 = 10        (69 + 5 + 10 = 84)
    #   missing marks: C's 2
    #   overall absence (5 + 10) / 84 = 17.857…%, authorised 5 / 84 = 5.952…%, unauthorised 10 / 84 = 11.904…%
    #   PA: A B D = 3 of 5 = 60%; SA: B = 1 of 5 = 20%
    assert headline["all"] == {
        "pupils": 5, "possible_sessions": 84, "attendance_sessions": 69, "authorised_sessions": 5,
        "unauthorised_sessions": 10, "missing_marks": 2,
        "overall_absence_pct": pytest.approx(15 / 84 * 100), "authorised_absence_pct": pytest.approx(5 / 84 * 100),
        "unauthorised_absence_pct": pytest.approx(10 / 84 * 100),
        "persistent_absentees": 3, "persistent_absence_pct": pytest.approx(60.0),
        "severe_absentees": 1, "severe_absence_pct": pytest.approx(20.0),
    }
    # Compulsory school age (A B C; D is 4, E is 16):
    #   possible 18 + 18 + 16 = 52; attendance 16 + 9 + 16 = 41; authorised 2; unauthorised 9; missing 2
    #   overall absence 11 / 52 = 21.153…%, authorised 2 / 52 = 3.846…%, unauthorised 9 / 52 = 17.307…%
    #   PA: A B = 2 of 3 = 66.7%; SA: B = 1 of 3 = 33.3%
    assert headline["compulsory_school_age"] == {
        "pupils": 3, "possible_sessions": 52, "attendance_sessions": 41, "authorised_sessions": 2,
        "unauthorised_sessions": 9, "missing_marks": 2,
        "overall_absence_pct": pytest.approx(11 / 52 * 100), "authorised_absence_pct": pytest.approx(2 / 52 * 100),
        "unauthorised_absence_pct": pytest.approx(9 / 52 * 100),
        "persistent_absentees": 2, "persistent_absence_pct": pytest.approx(200 / 3),
        "severe_absentees": 1, "severe_absence_pct": pytest.approx(100 / 3),
    }


def test_pupils_of_a_small_school_match_the_figures_worked_by_hand(pastoral, imported):
    imported(HAND_SCHOOL_ROLL, HAND_SCHOOL_MARKS)
    rows = json_of(pastoral("pupils"))
    figures = {r["forename"]: (r["possible_sessions"], r["attendance_sessions"], r["authorised_sessions"],
                               r["unauthorised_sessions"], r["missing_marks"], r["persistently_absent"],
                               r["severely_absent"]) for r in rows}
    assert figures == {
        #         possible  attendance  authorised  unauthorised  missing  PA     SA
        "Amira": (18,       16,         2,          0,            0,       True,  False),
        "Ben":   (18,       9,          0,          9,            0,       True,  True),
        "Chloe": (16,       16,         0,          0,            2,       False, False),
        "Dev":   (18,       15,         3,          0,            0,       True,  False),
        "Erin":  (14,       13,         0,          1,            0,       False, False),
    }


# --- triggers ----------------------------------------------------------------------------


def test_triggers_lists_upn_trigger_reached_on_and_detail(pastoral, imported):
    imported(roll_csv({}), marks_csv(register(A, """
        2025-09-08    N N   N N   N N   N N   N N
        2025-09-15    N N   N N   N N   N N   N N   ; 10th day Fri 19/09; 10th session Fri 12/09
    """)))
    found = json_of(pastoral("triggers"))
    assert all(set(t) == {"upn", "trigger", "reached_on", "detail"} for t in found)
    assert all(isinstance(t["detail"], str) and t["detail"] for t in found)
    assert sorted((t["upn"], t["trigger"], t["reached_on"]) for t in found) == [
        (A, "penalty_notice_threshold", "2025-09-12"),
        (A, "unauthorised_10_days", "2025-09-19"),
    ]


# --- dates -------------------------------------------------------------------------------


def test_as_of_defaults_to_the_last_date_with_marks_and_from_to_1_september_of_its_academic_year(pastoral, imported):
    imported(roll_csv({}, {}), marks_csv([
        (A, "2024-07-15", "AM", "N"),                                  # 2023/24: before the default --from
        (B, "2024-09-02", "AM", "/"), (B, "2025-03-03", "PM", "N"),    # 2024/25: the last date with marks is 03/03/2025
    ]))
    headline = json_of(pastoral("summary"))["all"]
    assert headline == json_of(pastoral("summary", "--from", "2024-09-01", "--as-of", "2025-03-03"))["all"]
    assert (headline["pupils"], headline["possible_sessions"], headline["unauthorised_sessions"]) == (1, 2, 1)


def test_as_of_limits_the_figures_and_moves_the_default_from_to_its_academic_year(pastoral, imported):
    imported(roll_csv({}, {}), marks_csv([
        (A, "2024-07-15", "AM", "N"),
        (B, "2024-09-02", "AM", "/"), (B, "2025-03-03", "PM", "N"),
    ]))
    assert [r["upn"] for r in json_of(pastoral("pupils", "--as-of", "2024-07-31"))] == [A]
    assert json_of(pastoral("pupils", "--as-of", "2024-09-30"))[0]["possible_sessions"] == 1


def test_triggers_as_of_defaults_to_the_last_date_with_marks(pastoral, imported):
    imported(roll_csv({}), marks_csv(register(A, """
        2024-09-09    N N   N N   N N   N N   N N
        2024-09-16    N N   N N   N N   N N   N N   ; 10th day Fri 20/09/2024
    """)))
    found = json_of(pastoral("triggers"))
    assert ("unauthorised_10_days", "2024-09-20") in {(t["trigger"], t["reached_on"]) for t in found}


@pytest.mark.parametrize("args", [
    ["pupils", "--as-of", "2025-13-01"],
    ["summary", "--from", "01/09/2025"],
    ["triggers", "--as-of", "yesterday"],
])
def test_a_date_that_is_not_an_iso_date_is_a_usage_error(pastoral, args):
    with pytest.raises(SystemExit) as exit_:
        pastoral(*args)
    assert exit_.value.code == 2


def test_from_after_as_of_is_a_usage_error(pastoral, imported):
    imported(roll_csv({}), marks_csv([(A, "2025-09-08", "AM", "/")]))
    code, _ = pastoral("summary", "--from", "2025-09-10", "--as-of", "2025-09-08")
    assert code == 2
