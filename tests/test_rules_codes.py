"""DOMAIN.md §2: what each attendance code counts as, legacy codes by date, local codes, missing marks.

Each test imports marks through the real importer and reads each pupil's session
counts back from `metrics.pupil_figures`, so a code is checked end to end:
export → store → figures.
"""

from __future__ import annotations

from datetime import date

import pytest

from core import metrics, store
from tests.conftest import make_upn, marks_csv, roll_csv

PUPIL = make_upn(1)
AUTUMN_2025 = metrics.Period(date(2025, 9, 1), date(2025, 12, 19))
SUMMER_2024 = metrics.Period(date(2024, 6, 1), date(2024, 8, 31))


def counts_of(db, load, rows, period=AUTUMN_2025) -> dict:
    """Import one pupil's marks and return their session counts for the period."""
    load("roll.csv", roll_csv({}))
    outcome = load("marks.csv", marks_csv(rows))
    assert outcome.status == "imported", [p.message for p in outcome.problems]
    pupil = metrics.pupil_figures(db, period).set_index("upn").loc[PUPIL]
    return {
        "possible": int(pupil["possible_sessions"]),
        "attendance": int(pupil["attendance_sessions"]),
        "authorised": int(pupil["authorised_sessions"]),
        "unauthorised": int(pupil["unauthorised_sessions"]),
        "missing": int(pupil["missing_marks"]),
    }


def counts_by_code(db, load, codes: list[str], pm: str, on: str = "2025-09-08", period=AUTUMN_2025) -> dict[str, dict]:
    """One pupil per code, marked with it in the AM and with `pm` in the PM: each pupil's counts, by code."""
    load("roll.csv", roll_csv(*({} for _ in codes)))
    upns = {make_upn(i): code for i, code in enumerate(codes, start=1)}
    rows = [row for upn, code in upns.items() for row in ((upn, on, "AM", code), (upn, on, "PM", pm))]
    outcome = load("marks.csv", marks_csv(rows))
    assert outcome.status == "imported", [p.message for p in outcome.problems]
    figures = metrics.pupil_figures(db, period).set_index("upn")
    return {
        upns[upn]: {
            "possible": int(pupil["possible_sessions"]),
            "attendance": int(pupil["attendance_sessions"]),
            "authorised": int(pupil["authorised_sessions"]),
            "unauthorised": int(pupil["unauthorised_sessions"]),
            "missing": int(pupil["missing_marks"]),
        }
        for upn, pupil in figures.iterrows()
    }


def stored_marks(db) -> list[tuple]:
    return db.execute("SELECT pupil_id, day, session, code, minutes_late, import_id FROM marks ORDER BY 1, 2, 3").fetchall()


# --- codes in force from 19 August 2024 ------------------------------------------------
# Each table: one pupil per code, AM the code under test, PM a code of another category,
# so the two sessions land in different totals.


def test_present_codes_count_as_attendance(db, load):
    codes = ["/", "\\", "L"]
    assert counts_by_code(db, load, codes, pm="N") == {
        code: {"possible": 2, "attendance": 1, "authorised": 0, "unauthorised": 1, "missing": 0} for code in codes}


def test_late_before_registers_close_is_present_and_after_is_unauthorised(db, load):
    rows = [
        (PUPIL, "2025-09-08", "AM", "L", 10),  # late, registers still open: present
        (PUPIL, "2025-09-08", "PM", "U", 45),  # late, after registers closed: unauthorised
    ]
    assert counts_of(db, load, rows) == {"possible": 2, "attendance": 1, "authorised": 0, "unauthorised": 1, "missing": 0}


def test_approved_educational_activity_counts_as_attendance(db, load):
    codes = ["K", "V", "P", "W", "B"]
    assert counts_by_code(db, load, codes, pm="N") == {
        code: {"possible": 2, "attendance": 1, "authorised": 0, "unauthorised": 1, "missing": 0} for code in codes}


def test_authorised_absence_codes_count_as_authorised_absence(db, load):
    codes = ["C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T"]
    assert counts_by_code(db, load, codes, pm="/") == {
        code: {"possible": 2, "attendance": 1, "authorised": 1, "unauthorised": 0, "missing": 0} for code in codes}


def test_unauthorised_absence_codes_count_as_unauthorised_absence(db, load):
    codes = ["G", "N", "O", "U"]
    assert counts_by_code(db, load, codes, pm="/") == {
        code: {"possible": 2, "attendance": 1, "authorised": 0, "unauthorised": 1, "missing": 0} for code in codes}


def test_not_possible_codes_count_nowhere(db, load):
    codes = ["D", "Q", "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"]
    # Only the PM session is possible; the AM code is in no total, not even missing marks.
    assert counts_by_code(db, load, codes, pm="/") == {
        code: {"possible": 1, "attendance": 1, "authorised": 0, "unauthorised": 0, "missing": 0} for code in codes}


def test_a_missing_mark_counts_in_no_total_but_is_reported_as_missing(db, load):
    spellings = ["", "-", "*"]
    assert counts_by_code(db, load, spellings, pm="N") == {
        spelling: {"possible": 1, "attendance": 0, "authorised": 0, "unauthorised": 1, "missing": 1}
        for spelling in spellings}


# --- legacy codes, read by the date of the mark -----------------------------------------


def test_legacy_holiday_codes_before_19_august_2024_are_authorised_absence(db, load):
    codes = ["H", "F"]
    assert counts_by_code(db, load, codes, pm="/", on="2024-07-15", period=SUMMER_2024) == {
        code: {"possible": 2, "attendance": 1, "authorised": 1, "unauthorised": 0, "missing": 0} for code in codes}


def test_legacy_j_before_19_august_2024_is_approved_educational_activity(db, load):
    rows = [(PUPIL, "2024-07-15", "AM", "J"), (PUPIL, "2024-07-15", "PM", "N")]
    assert counts_of(db, load, rows, SUMMER_2024) == {
        "possible": 2, "attendance": 1, "authorised": 0, "unauthorised": 1, "missing": 0}


def test_legacy_y_before_19_august_2024_is_not_a_possible_session(db, load):
    rows = [(PUPIL, "2024-07-15", "AM", "Y"), (PUPIL, "2024-07-15", "PM", "N")]
    assert counts_of(db, load, rows, SUMMER_2024) == {
        "possible": 1, "attendance": 0, "authorised": 0, "unauthorised": 1, "missing": 0}


def test_the_last_day_of_the_old_code_set_is_18_august_2024(db, load):
    rows = [(PUPIL, "2024-08-18", "AM", "H"), (PUPIL, "2024-08-18", "PM", "J")]
    assert counts_of(db, load, rows, SUMMER_2024) == {
        "possible": 2, "attendance": 1, "authorised": 1, "unauthorised": 0, "missing": 0}


def test_a_legacy_code_dated_19_august_2024_or_later_rejects_the_file_with_its_rows(db, load):
    load("roll.csv", roll_csv({}))
    outcome = load("marks.csv", marks_csv([
        (PUPIL, "2024-08-16", "AM", "H"),  # row 2: still in force
        (PUPIL, "2024-08-16", "PM", "J"),  # row 3: still in force
        (PUPIL, "2024-08-19", "AM", "H"),  # row 4: the new code set is in force
        (PUPIL, "2024-08-19", "PM", "F"),  # row 5
        (PUPIL, "2025-09-08", "AM", "J"),  # row 6
        (PUPIL, "2025-09-08", "PM", "Y"),  # row 7
        (PUPIL, "2025-09-09", "AM", "/"),  # row 8
    ]))
    assert outcome.status == "rejected"
    assert sorted((p.row, p.column) for p in outcome.problems) == [(4, "mark"), (5, "mark"), (6, "mark"), (7, "mark")]
    assert stored_marks(db) == []


def test_a_legacy_code_after_19_august_2024_is_read_through_the_schools_code_map(db, load):
    load("roll.csv", roll_csv({}))
    store.set_local_code(db, "H", "C", "admin")
    rows = [(PUPIL, "2025-09-08", "AM", "H"), (PUPIL, "2025-09-08", "PM", "/")]
    assert counts_of(db, load, rows) == {"possible": 2, "attendance": 1, "authorised": 1, "unauthorised": 0, "missing": 0}


@pytest.mark.parametrize("legacy, mapped_to, counts", [
    # J→J1: J was approved activity before 19/08/2024; mapped, it becomes J1, not in force then: file rejected.
    ("J", "J1", {"possible": 4, "attendance": 3, "authorised": 1, "unauthorised": 0, "missing": 0}),
    # H→G: H was authorised before 19/08/2024; mapped, it silently becomes unauthorised there too.
    ("H", "G", {"possible": 4, "attendance": 2, "authorised": 1, "unauthorised": 1, "missing": 0}),
], ids=["J-to-J1", "H-to-G"])
def test_mapping_a_legacy_code_for_new_data_leaves_its_meaning_before_19_august_2024_alone(
        db, load, legacy, mapped_to, counts):
    load("roll.csv", roll_csv({}))
    store.set_local_code(db, legacy, mapped_to, "admin")  # the school's MIS still writes the old letter
    rows = [
        (PUPIL, "2024-07-15", "AM", legacy),  # before the change: the legacy meaning
        (PUPIL, "2024-07-15", "PM", "/"),
        (PUPIL, "2025-09-08", "AM", legacy),  # after: the mapped code
        (PUPIL, "2025-09-08", "PM", "/"),
    ]
    before_and_after = metrics.Period(date(2024, 7, 1), date(2025, 9, 30))
    assert counts_of(db, load, rows, before_and_after) == counts


NEW_IN_2024 = ["K", "C1", "C2", "J1", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"]


def test_codes_new_in_2024_are_in_force_from_19_august_2024(db, load):
    load("roll.csv", roll_csv(*({} for _ in NEW_IN_2024)))
    # One pupil per new code, each marked with it on 19/08/2024.
    rows = [(make_upn(i), "2024-08-19", "AM", code) for i, code in enumerate(NEW_IN_2024, start=1)]
    assert load("marks.csv", marks_csv(rows)).status == "imported"


def test_codes_new_in_2024_are_not_codes_before_19_august_2024(db, load):
    load("roll.csv", roll_csv(*({} for _ in NEW_IN_2024)))
    # Rows 2–13: one pupil per new code, each marked with it on 18/08/2024; row 14 is fine.
    rows = [(make_upn(i), "2024-08-18", "AM", code) for i, code in enumerate(NEW_IN_2024, start=1)]
    rows.append((PUPIL, "2024-08-18", "PM", "/"))
    outcome = load("marks.csv", marks_csv(rows))
    assert outcome.status == "rejected"
    assert sorted((p.row, p.column) for p in outcome.problems) == [(row, "mark") for row in range(2, 14)]
    assert stored_marks(db) == []


def test_a_period_spanning_19_august_2024_reads_each_mark_by_its_own_date(db, load):
    rows = [
        (PUPIL, "2024-07-15", "AM", "H"),   # authorised (legacy)
        (PUPIL, "2024-07-15", "PM", "Y"),   # not possible (legacy)
        (PUPIL, "2024-09-09", "AM", "C1"),  # authorised (new)
        (PUPIL, "2024-09-09", "PM", "K"),   # attendance (new)
    ]
    both_years = metrics.Period(date(2024, 7, 1), date(2024, 9, 30))
    assert counts_of(db, load, rows, both_years) == {
        "possible": 3, "attendance": 1, "authorised": 2, "unauthorised": 0, "missing": 0}


# --- the school's own codes ---------------------------------------------------------


def test_a_local_sub_code_counts_as_the_dfe_code_it_is_mapped_to(db, load):
    load("roll.csv", roll_csv({}))
    store.set_local_code(db, "I01", "I", "admin")
    store.set_local_code(db, "7", "B", "admin")
    rows = [(PUPIL, "2025-09-08", "AM", "I01"), (PUPIL, "2025-09-08", "PM", "7")]
    assert counts_of(db, load, rows) == {"possible": 2, "attendance": 1, "authorised": 1, "unauthorised": 0, "missing": 0}


def test_a_code_neither_dfe_nor_mapped_rejects_the_file_with_every_row_that_carries_it(db, load):
    load("roll.csv", roll_csv({}))
    outcome = load("marks.csv", marks_csv([
        (PUPIL, "2025-09-08", "AM", "/"),   # row 2
        (PUPIL, "2025-09-08", "PM", "8"),   # row 3
        (PUPIL, "2025-09-09", "AM", "Q7"),  # row 4
        (PUPIL, "2025-09-09", "PM", "8"),   # row 5
    ]))
    assert outcome.status == "rejected"
    assert sorted((p.row, p.column) for p in outcome.problems) == [(3, "mark"), (4, "mark"), (5, "mark")]
    assert any("'Q7'" in p.message for p in outcome.problems)
    assert stored_marks(db) == []


def test_problem_rows_are_the_files_own_line_numbers_even_after_a_blank_line(db, load):
    load("roll.csv", roll_csv({}))
    outcome = load("marks.csv", "\n".join([
        "upn,date,session,mark",              # line 1
        f"{PUPIL},2025-09-08,AM,/",           # line 2
        "",                                   # line 3: a blank line, as a spreadsheet shows it
        f"{PUPIL},2025-09-08,PM,Q7",          # line 4
    ]))
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [(4, "mark")]
