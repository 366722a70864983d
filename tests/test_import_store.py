"""Importer and store: pupils matched to the roll, idempotent and incremental imports,
corrections recorded, the imports log, warnings that still import, and undo of the
last import."""

from __future__ import annotations

import json

import pytest

from core import store
from core.importers import NothingToUndo, import_bytes, undo_last_import
from tests.conftest import filled_once, make_upn, marks_csv, roll_csv

A, B, C = make_upn(1), make_upn(2), make_upn(3)
TABLES = ("pupils", "marks", "mark_changes", "imports", "pupil_changes", "summary_counts")


def put(db, text: str, name: str = "marks.csv", user: str = "officer", **kwargs):
    return import_bytes(db, text.strip().encode() + b"\n", name, user, **kwargs)


def week(upns, monday: str = "2025-09-08", marks: str = "/\\/\\/\\/\\/\\", late=None) -> str:
    """A long marks CSV: each pupil's ten sessions from `monday`, marks two a day (AM, PM)."""
    from datetime import date, timedelta

    start = date.fromisoformat(monday)
    return marks_csv([(u, (start + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], m)
                      for u in upns for i, m in enumerate(marks)])


def stored(db) -> list[tuple]:
    return db.execute("SELECT p.upn, date(m.day * 86400, 'unixepoch'), m.session, m.code, m.minutes_late, m.import_id "
                      "FROM marks m JOIN pupils p ON p.id = m.pupil_id ORDER BY 1, 2, 3").fetchall()


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def everything(db) -> dict[str, list]:
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


@pytest.fixture
@filled_once
def roll(db):
    assert put(db, roll_csv({}, {}, {"surname": "O'Brien", "forename": "Zoë", "dob": "2014-02-03"}),
               "roll.csv").status == "imported"
    return db


# --- matching pupils ---------------------------------------------------------------


def test_pupils_are_matched_by_upn_with_spaces_and_lower_case(db, roll):
    outcome = put(db, f"UPN,Date,Session,Mark\n {A.lower()} ,08/09/2025,AM,/")
    assert (outcome.status, outcome.pupils_added) == ("imported", 0)
    assert [r[0] for r in stored(db)] == [A]


def test_pupils_are_matched_by_admission_number_that_lost_its_leading_zeros(db, roll):
    outcome = put(db, "Adno,Date,Session,Mark\n2,08/09/2025,AM,/\n0003,08/09/2025,AM,N")  # stored 00002, 00003
    assert (outcome.status, outcome.pupils_added, outcome.problems) == ("imported", 0, [])
    assert [(r[0], r[3]) for r in stored(db)] == [(B, "/"), (C, "N")]


def test_pupils_are_matched_by_name_and_date_of_birth_ignoring_accents_apostrophes_and_order(db, roll):
    outcome = put(db, "Name,DOB,Date,Session,Mark\n\"Zoe OBrien\",03/02/2014,08/09/2025,AM,I")
    assert (outcome.status, outcome.problems) == ("imported", [])
    assert [(r[0], r[3]) for r in stored(db)] == [(C, "I")]


def test_a_pupil_not_on_the_roll_is_imported_with_what_the_file_says_and_flagged(db, roll):
    new = make_upn(9)
    outcome = put(db, f"UPN,Forename,Surname,Year,Date,Session,Mark\n{new},Ada,Lovelace,Year 8,08/09/2025,AM,/")
    assert (outcome.status, outcome.pupils_added) == ("imported", 1)
    [warning] = outcome.problems
    assert (warning.row, warning.column, warning.severity) == (2, "UPN", "warning")
    assert "not on the roll" in warning.message and new in warning.message
    assert db.execute("SELECT surname, forename, year_group, on_roll FROM pupils WHERE upn = ?", (new,)).fetchone() == (
        "Lovelace", "Ada", "8", 0)


def test_a_pupil_who_cannot_be_matched_and_has_no_upn_rejects_the_file(db, roll):
    before = everything(db)
    outcome = put(db, "Adno,Date,Session,Mark\n1,08/09/2025,AM,/\n777,08/09/2025,AM,/")
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "Adno")]
    assert "admission number 777" in outcome.problems[0].message
    assert everything(db) == before


def test_an_invalid_upn_check_letter_is_a_warning_and_the_marks_are_imported(db, roll):
    wrong = ("A" if A[0] != "A" else "B") + A[1:]
    outcome = put(db, f"UPN,Date,Session,Mark\n{wrong},08/09/2025,AM,/")
    assert outcome.status == "imported"
    assert [(p.row, p.severity) for p in outcome.problems if "check letter" in p.message] == [(2, "warning")]


def test_the_same_pupil_named_two_ways_in_one_session_is_refused(db, roll):
    outcome = put(db, f"UPN,Adno,Date,Session,Mark\n{A},,08/09/2025,AM,/\n,00001,08/09/2025,AM,N")
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems if p.severity == "error"] == [(3, "Mark")]


# --- idempotent and incremental ----------------------------------------------------


def test_reimporting_the_same_file_is_unchanged_and_writes_nothing(db, roll):
    assert put(db, week([A, B])).status == "imported"
    before = everything(db)
    again = put(db, week([A, B]))
    assert (again.status, again.marks_added, again.marks_changed) == ("unchanged", 0, 0)
    assert everything(db) == before


def test_the_same_marks_in_another_order_and_spelling_are_unchanged(db, roll):
    put(db, week([A, B]))
    rows = week([A, B]).splitlines()
    shuffled = "Pupil UPN,Attendance Date,AM/PM,Attendance Mark,Mins Late\n" + "\n".join(reversed(rows[1:]))
    assert put(db, shuffled, "other.csv").status == "unchanged"


def test_an_overlapping_week_adds_only_the_new_sessions_and_never_double_counts(db, roll):
    put(db, week([A]))
    both = week([A]) + "\n" + "\n".join(week([A], "2025-09-15").splitlines()[1:])
    outcome = put(db, both, "two_weeks.csv")
    assert (outcome.status, outcome.marks_added, outcome.marks_changed) == ("imported", 10, 0)
    assert len(stored(db)) == 20


def test_a_corrected_export_replaces_only_the_changed_marks_and_records_each_change(db, roll):
    first = put(db, week([A, B], marks="/\\NN/\\/\\/\\"))
    second = put(db, week([A, B], marks="/\\II/\\/\\/\\").replace(f"{B},2025-09-09,AM,I", f"{B},2025-09-09,AM,N"),
                 "corrected.csv")
    assert (second.status, second.marks_added, second.marks_changed) == ("imported", 0, 3)
    changes = db.execute("SELECT p.upn, date(c.day * 86400, 'unixepoch'), c.session, c.old_code, c.new_code, "
                         "c.import_id, c.old_import_id FROM mark_changes c JOIN pupils p ON p.id = c.pupil_id "
                         "ORDER BY 1, 2, 3").fetchall()
    assert changes == sorted([(A, "2025-09-09", 0, "N", "I", second.import_id, first.import_id),
                              (A, "2025-09-09", 1, "N", "I", second.import_id, first.import_id),
                              (B, "2025-09-09", 1, "N", "I", second.import_id, first.import_id)])
    assert [r[5] for r in stored(db) if r[3] == "I"] == [second.import_id] * 3


def test_the_imports_log_records_file_hash_shape_rows_pupils_dates_data_as_at_who_and_when(db, roll):
    import hashlib

    text = "Report run 12/09/2025 16:00\n" + week([A, B])
    outcome = put(db, text, "week1.csv", user="ms.khan")
    row = db.execute("SELECT file_name, sha256, shape, rows, pupils, marks_added, date_from, date_to, data_as_at, "
                     "imported_by, imported_at, status FROM imports WHERE id = ?", (outcome.import_id,)).fetchone()
    assert row[:10] == ("week1.csv", hashlib.sha256(text.strip().encode() + b"\n").hexdigest(), "long_marks", 20, 2,
                        20, "2025-09-08", "2025-09-12", "2025-09-12", "ms.khan")
    assert row[10].startswith("20") and row[11] == "imported"


def test_a_dry_run_reports_what_would_change_and_writes_nothing(db, roll):
    before = everything(db)
    outcome = put(db, week([A, make_upn(9)]), dry_run=True)
    assert (outcome.status, outcome.marks_added, outcome.pupils_added) == ("imported", 20, 1)
    assert everything(db) == before


# --- warnings that import ----------------------------------------------------------


def test_marks_on_a_day_that_is_a_planned_closure_for_everyone_else_import_with_a_warning(db, roll):
    outcome = put(db, marks_csv([(A, "2025-10-24", "AM", "#"), (B, "2025-10-24", "AM", "#"),
                                 (C, "2025-10-24", "AM", "/")]))
    assert outcome.status == "imported"
    [warning] = outcome.problems
    assert (warning.row, warning.column, warning.severity) == (4, "mark", "warning")
    assert "closed for everyone else" in warning.message


def test_a_mark_on_a_day_already_stored_as_closed_for_everyone_else_imports_with_a_warning(db, roll):
    put(db, marks_csv([(A, "2025-10-24", "AM", "#"), (B, "2025-10-24", "AM", "#")]), "closed.csv")
    outcome = put(db, marks_csv([(C, "2025-10-24", "AM", "/")]), "late_register.csv")
    assert outcome.status == "imported"
    [warning] = outcome.problems
    assert (warning.row, warning.severity) == (2, "warning")
    assert "closed for everyone else" in warning.message


def test_a_closure_corrected_to_a_school_day_is_not_a_mark_on_a_closed_day(db, roll):
    put(db, marks_csv([(A, "2025-10-24", "AM", "#"), (B, "2025-10-24", "AM", "#"), (C, "2025-10-24", "AM", "/")]),
        "first.csv")
    corrected = put(db, marks_csv([(A, "2025-10-24", "AM", "/"), (B, "2025-10-24", "AM", "/")]), "corrected.csv")
    assert corrected.status == "imported"
    assert corrected.problems == []


def test_dates_from_two_academic_years_import_with_a_warning(db, roll):
    outcome = put(db, marks_csv([(A, "2025-07-18", "AM", "/"), (A, "2025-09-08", "AM", "/")]))
    assert outcome.status == "imported"
    assert [p.severity for p in outcome.problems] == ["warning"]
    assert "2024/25 and 2025/26" in outcome.problems[0].message


# --- undo --------------------------------------------------------------------------


def test_undoing_the_last_import_restores_the_marks_it_changed_and_removes_those_it_added(db, roll):
    put(db, week([A], marks="/\\NN/\\/\\/\\"))
    before = everything(db)
    corrected = week([A], marks="/\\IN/\\/\\/\\") + "\n" + "\n".join(week([A], "2025-09-15").splitlines()[1:])
    outcome = put(db, corrected, "corrected.csv")
    assert (outcome.marks_added, outcome.marks_changed) == (10, 1)

    undone = undo_last_import(db, "officer")
    assert (undone.import_id, undone.marks_removed, undone.marks_restored) == (outcome.import_id, 10, 1)
    after = everything(db)
    assert after["marks"] == before["marks"]
    assert db.execute("SELECT status, undone_by FROM imports WHERE id = ?", (outcome.import_id,)).fetchone() == (
        "undone", "officer")
    audit = db.execute("SELECT username, entity_id, detail FROM audit WHERE action = 'import.undo'").fetchall()
    assert [(u, e, json.loads(d)["marks_restored"]) for u, e, d in audit] == [("officer", str(outcome.import_id), 1)]


def test_undoing_an_import_removes_the_pupils_it_added(db, roll):
    new = make_upn(9)
    put(db, week([A, new]))
    assert undo_last_import(db, "officer").pupils_removed == 1
    assert db.execute("SELECT COUNT(*) FROM pupils WHERE upn = ?", (new,)).fetchone() == (0,)
    assert stored(db) == []


def test_undoing_an_import_keeps_an_added_pupil_that_case_work_now_refers_to(db, roll):
    new = make_upn(9)
    put(db, week([new]))
    pupil_id = db.execute("SELECT id FROM pupils WHERE upn = ?", (new,)).fetchone()[0]
    db.execute("INSERT INTO key_adults (pupil_id, username, assigned_on, assigned_by) VALUES (?, 'mr.x', "
               "'2025-09-10', 'admin')", (pupil_id,))
    undone = undo_last_import(db, "officer")
    assert (undone.pupils_removed, undone.pupils_kept, undone.marks_removed) == (0, 1, 10)


def test_undoing_a_roll_import_restores_the_pupils_details_it_changed(db, roll):
    before = everything(db)["pupils"]
    put(db, roll_csv({"form": "7Z", "year_group": "8"}, {}, {"surname": "O'Brien", "forename": "Zoë",
                                                             "dob": "2014-02-03"}, {}), "roll2.csv")
    undone = undo_last_import(db, "admin")
    assert (undone.pupils_restored, undone.pupils_removed) == (1, 1)
    assert everything(db)["pupils"] == before


def test_only_the_most_recent_import_can_be_undone(db, roll):
    first = put(db, week([A]))
    put(db, week([A], "2025-09-15"), "week2.csv")
    with pytest.raises(NothingToUndo, match="Only the most recent upload"):
        undo_last_import(db, "officer", import_id=first.import_id)
    undo_last_import(db, "officer")
    assert undo_last_import(db, "officer", import_id=first.import_id).import_id == first.import_id
    undo_last_import(db, "officer")  # the roll
    with pytest.raises(NothingToUndo, match="no import to undo"):
        undo_last_import(db, "officer")
    assert counts(db)["marks"] == 0 and counts(db)["pupils"] == 0


def test_a_file_whose_import_was_undone_can_be_imported_again(db, roll):
    put(db, week([A]))
    undo_last_import(db, "officer")
    again = put(db, week([A]))
    assert (again.status, again.marks_added) == ("imported", 10)


def test_undoing_a_summary_import_brings_back_the_counts_it_replaced(db, roll):
    header = "UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
    put(db, header + f"{A},01/09/2024,31/12/2024,100,90,6,4", "s1.csv")
    second = put(db, header + f"{A},01/09/2024,31/12/2024,100,92,4,4", "s2.csv")
    assert (second.status, second.counts_changed) == ("imported", 1)
    current = "SELECT attendance_sessions FROM summary_counts WHERE superseded_by IS NULL"
    assert db.execute(current).fetchall() == [(92,)]
    undo_last_import(db, "officer")
    assert db.execute(current).fetchall() == [(90,)]


def test_a_store_migrated_from_schema_2_keeps_its_imports_undoable(tmp_path):
    path = tmp_path / "old.db"
    old = store.connect(path, migrate_to=2)
    old.conn.close()
    db = store.connect(path)
    put(db, roll_csv({}), "roll.csv")
    put(db, week([A]))
    assert undo_last_import(db, "officer").marks_removed == 10
