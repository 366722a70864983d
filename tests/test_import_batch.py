"""Several exports at once, worked out as a whole (issue 15 item 4): the batch's order, each
file's preview taking the files before it into account, files that disagree named with the
marks in question, and corrections a later upload made never silently undone."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core import cli
from core.importers import import_bytes
from core.importers.batch import BatchFile, import_batch, plan_batch
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

MONDAY_1, MONDAY_2 = date(2025, 9, 8), date(2025, 9, 15)
A, B = make_upn(1), make_upn(2)
ROLL = roll_csv({}, {}).encode()
WEEK_1 = marks_csv(week_rows(MONDAY_1, ["NNNN......", ".........."])).encode()
# The same week after a parent rang: Amir's four N are now I.
WEEK_1_CORRECTED = marks_csv(week_rows(MONDAY_1, ["IIII......", ".........."])).encode()
WEEK_2 = marks_csv(week_rows(MONDAY_2, ["..........", "O........."])).encode()


def stored_codes(db, upn: str, day: date) -> list[str]:
    return [c for (c,) in db.execute(
        "SELECT m.code FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.upn = ? AND m.day = ? ORDER BY session",
        (upn, (day - date(1970, 1, 1)).days))]


def titled(content: bytes, run_on: str) -> bytes:
    return f"Attendance marks\nReport run {run_on} 16:05\n\n".encode() + content


# --- order ---------------------------------------------------------------------------------


def test_the_default_order_is_the_roll_then_marks_oldest_first_whatever_the_names(db):
    files = [BatchFile("a-week-2.csv", WEEK_2), BatchFile("b-week-1.csv", WEEK_1), BatchFile("z-roll.csv", ROLL)]
    plan = plan_batch(db, files, "officer")
    assert plan.order == ["z-roll.csv", "b-week-1.csv", "a-week-2.csv"]
    assert plan.files[0].why.startswith("pupil roll: first")
    assert plan.files[1].why == "marks up to 12/09/2025" and plan.files[2].why == "marks up to 19/09/2025"


def test_files_reaching_the_same_date_go_by_the_report_run_date_in_their_titles(db):
    files = [BatchFile("corrected.csv", titled(WEEK_1_CORRECTED, "12/09/2025")),
             BatchFile("first.csv", titled(WEEK_1, "10/09/2025")), BatchFile("roll.csv", ROLL)]
    plan = plan_batch(db, files, "officer")
    assert plan.order == ["roll.csv", "first.csv", "corrected.csv"]
    assert "report run 12/09/2025" in plan.files[2].why


def test_files_reaching_the_same_date_with_no_run_date_go_by_modified_time(db):
    files = [BatchFile("a.csv", WEEK_1_CORRECTED, modified=2_000.0), BatchFile("b.csv", WEEK_1, modified=1_000.0),
             BatchFile("roll.csv", ROLL)]
    assert plan_batch(db, files, "officer").order == ["roll.csv", "b.csv", "a.csv"]


# --- each preview takes the files before it into account --------------------------------


def test_each_files_preview_counts_what_the_files_before_it_will_have_stored(db):
    files = [BatchFile("week1.csv", WEEK_1), BatchFile("corrected.csv", WEEK_1_CORRECTED), BatchFile("roll.csv", ROLL)]
    plan = plan_batch(db, files, "officer", order=["roll.csv", "week1.csv", "corrected.csv"])
    roll, week, corrected = (p.outcome for p in plan.files)
    assert roll.pupils_added == 2
    assert (week.marks_added, week.marks_changed, week.pupils_added) == (20, 0, 0)  # the roll's pupils, not new ones
    assert (corrected.marks_added, corrected.marks_changed) == (0, 4)  # against week1.csv, not the empty store
    assert plan.files[1].new_days == [date(2025, 9, d) for d in range(8, 13)]
    assert plan.files[2].new_days == []
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0  # nothing written
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 0


# --- files that disagree -----------------------------------------------------------------


def test_files_that_disagree_about_sessions_are_named_with_the_marks_in_question(db):
    import_bytes(db, ROLL, "roll.csv", "officer")
    files = [BatchFile("first.csv", WEEK_1), BatchFile("corrected.csv", WEEK_1_CORRECTED)]
    plan = plan_batch(db, files, "officer", order=["first.csv", "corrected.csv"])
    [conflict] = plan.conflicts
    assert (conflict.earlier, conflict.later, conflict.sessions) == ("first.csv", "corrected.csv", 4)
    listed = conflict.marks
    assert listed["UPN"].tolist() == [A] * 4
    assert listed["Pupil"].tolist() == ["Surname1, Forename1"] * 4
    assert listed["Date"].tolist() == ["08/09/2025", "08/09/2025", "09/09/2025", "09/09/2025"]
    assert listed["Session"].tolist() == ["AM", "PM", "AM", "PM"]
    assert listed["earlier_mark"].tolist() == ["N"] * 4 and listed["later_mark"].tolist() == ["I"] * 4
    assert listed["earlier_row"].tolist() == [2, 3, 4, 5]


def test_files_that_agree_are_no_conflict(db):
    files = [BatchFile("roll.csv", ROLL), BatchFile("week1.csv", WEEK_1), BatchFile("again.csv", WEEK_1 + b"\n")]
    assert plan_batch(db, files, "officer").conflicts == []


def test_the_order_decides_whose_marks_are_kept(db):
    files = [BatchFile("roll.csv", ROLL), BatchFile("first.csv", WEEK_1), BatchFile("corrected.csv", WEEK_1_CORRECTED)]
    import_batch(db, files, "officer", order=["roll.csv", "corrected.csv", "first.csv"])  # the user said first is newer
    assert stored_codes(db, A, MONDAY_1) == ["N", "N"]


def test_an_imported_batch_names_the_disagreement_in_a_warning_on_the_later_file(db):
    files = [BatchFile("roll.csv", ROLL), BatchFile("first.csv", WEEK_1), BatchFile("corrected.csv", WEEK_1_CORRECTED)]
    plan = import_batch(db, files, "officer", order=["roll.csv", "first.csv", "corrected.csv"])
    later = plan.files[2].outcome
    assert later.problems[0].severity == "warning"
    assert "first.csv and corrected.csv have different marks for 4 sessions" in later.problems[0].message
    assert f"Surname1, Forename1 ({A}), 08/09/2025 AM: 'N' in first.csv (row 2), 'I' here." == later.problems[1].message
    assert stored_codes(db, A, MONDAY_1) == ["I", "I"]


# --- corrections a later upload made ------------------------------------------------------


@pytest.fixture
def corrected_store(db):
    """The roll, week 1, then its correction, imported one after another."""
    for name, content in (("roll.csv", ROLL), ("week1.csv", WEEK_1), ("corrected.csv", WEEK_1_CORRECTED)):
        assert import_bytes(db, content, name, "officer").status == "imported"
    return db


def test_an_older_export_applied_after_its_correction_keeps_the_correction_and_says_so(corrected_store):
    db = corrected_store
    older = WEEK_1.replace(b"minutes_late", b"Minutes Late")  # the first export again, not byte for byte
    outcome = import_bytes(db, older, "week1-again.csv", "officer")
    assert (outcome.status, outcome.marks_changed, outcome.corrections_kept) == ("unchanged", 0, 4)
    assert stored_codes(db, A, MONDAY_1) == ["I", "I"]
    summary, first = outcome.problems[0], outcome.problems[1]
    assert summary.severity == "warning" and "4 marks in this file would undo corrections" in summary.message
    assert (first.row, first.column) == (2, "mark")
    assert first.message.startswith(f"Surname1, Forename1 ({A}), 08/09/2025 AM: this file has 'N'; corrected.csv")
    assert first.message.endswith("corrected 'N' to 'I' — the correction is kept.")


def test_the_user_may_apply_a_file_over_the_corrections(corrected_store):
    db = corrected_store
    older = WEEK_1.replace(b"minutes_late", b"Minutes Late")
    outcome = import_bytes(db, older, "week1-again.csv", "officer", overwrite_corrections=True)
    assert (outcome.status, outcome.marks_changed, outcome.corrections_overwritten) == ("imported", 4, 4)
    assert stored_codes(db, A, MONDAY_1) == ["N", "N"]


def test_a_report_run_after_the_correction_changes_corrected_marks_like_any_other(corrected_store):
    db = corrected_store
    newer = titled(marks_csv(week_rows(MONDAY_1, ["MMMM......", ".........."])).encode(), "20/09/2025")
    outcome = import_bytes(db, newer, "rerun.csv", "officer")
    assert (outcome.marks_changed, outcome.corrections_kept) == (4, 0)
    assert stored_codes(db, A, MONDAY_1) == ["M", "M"]


def test_a_batch_does_not_count_its_own_files_as_later_corrections(db):
    plan = import_batch(db, [BatchFile("roll.csv", ROLL), BatchFile("first.csv", WEEK_1),
                             BatchFile("corrected.csv", WEEK_1_CORRECTED),
                             BatchFile("rerun.csv", marks_csv(week_rows(MONDAY_1, ["MMMM......"])).encode())],
                        "officer", order=["roll.csv", "first.csv", "corrected.csv", "rerun.csv"])
    assert plan.files[3].outcome.corrections_kept == 0
    assert stored_codes(db, A, MONDAY_1) == ["M", "M"]


def test_a_batch_keeps_a_stored_correction_from_an_older_file_in_it(corrected_store):
    db = corrected_store
    older = WEEK_1.replace(b"minutes_late", b"Minutes Late")
    plan = import_batch(db, [BatchFile("old.csv", older), BatchFile("week2.csv", WEEK_2)], "officer")
    assert plan.files[0].outcome.corrections_kept == 4
    assert plan.files[1].outcome.marks_added == 20
    assert stored_codes(db, A, MONDAY_1) == ["I", "I"]


# --- writing -------------------------------------------------------------------------------


def test_a_rejected_file_in_a_batch_writes_nothing_and_the_others_are_imported(db):
    bad = marks_csv([(A, "2025-09-22", "AM", "Q7")]).encode()
    plan = import_batch(db, [BatchFile("roll.csv", ROLL), BatchFile("week1.csv", WEEK_1), BatchFile("bad.csv", bad)],
                        "officer")
    assert [p.outcome.status for p in plan.files] == ["imported", "imported", "rejected"]
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 20
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 2


# --- the command line ----------------------------------------------------------------------


def test_pastoral_import_orders_the_files_and_reports_in_the_order_given(db_path, tmp_path, capsys):
    paths = []
    for name, content in (("a-corrected.csv", titled(WEEK_1_CORRECTED, "12/09/2025")),
                          ("b-first.csv", titled(WEEK_1, "10/09/2025")), ("c-roll.csv", ROLL)):
        (tmp_path / name).write_bytes(content)
        paths.append(str(tmp_path / name))
    code = cli.main(["--db", str(db_path), "import", "--format", "json", *paths])
    files = json.loads(capsys.readouterr().out)["files"]
    assert code == 0
    assert [f["file"] for f in files] == paths
    assert set(files[0]) == {"file", "status", "shape", "rows", "pupils", "marks_added", "marks_changed",
                             "date_from", "date_to", "problems"}
    assert (files[0]["marks_added"], files[0]["marks_changed"]) == (0, 4)  # after b-first.csv
    assert files[0]["problems"][0]["message"].startswith("Warning: b-first.csv and a-corrected.csv have different marks")
    assert any("Imported as file 3 of 3" in p["message"] for p in files[0]["problems"])
    from core import store

    with store.opened(db_path) as check:
        assert stored_codes(check, A, MONDAY_1) == ["I", "I"]


def test_pastoral_import_keeps_corrections_unless_told_to_overwrite_them(db_path, tmp_path, capsys):
    for name, content in (("roll.csv", ROLL), ("week1.csv", WEEK_1), ("corrected.csv", WEEK_1_CORRECTED)):
        (tmp_path / name).write_bytes(content)
        cli.main(["--db", str(db_path), "import", str(tmp_path / name)])
    (tmp_path / "old.csv").write_bytes(WEEK_1.replace(b"minutes_late", b"Minutes Late"))
    capsys.readouterr()
    assert cli.main(["--db", str(db_path), "import", "--format", "json", str(tmp_path / "old.csv")]) == 0
    [kept] = json.loads(capsys.readouterr().out)["files"]
    assert (kept["status"], kept["marks_changed"]) == ("unchanged", 0)
    assert "would undo corrections" in kept["problems"][0]["message"]
    assert cli.main(["--db", str(db_path), "import", "--format", "json", "--overwrite-corrections",
                     str(tmp_path / "old.csv")]) == 0
    [applied] = json.loads(capsys.readouterr().out)["files"]
    assert (applied["status"], applied["marks_changed"]) == ("imported", 4)


def test_an_export_reaching_past_the_corrected_week_is_newer_and_changes_corrected_marks(corrected_store):
    db = corrected_store
    two_weeks = marks_csv(week_rows(MONDAY_1, ["MMMM......", ".........."])
                          + week_rows(MONDAY_2, ["..........", ".........."])).encode()
    outcome = import_bytes(db, two_weeks, "weeks-1-2.csv", "officer")
    assert (outcome.marks_changed, outcome.corrections_kept) == (4, 0)
    assert stored_codes(db, A, MONDAY_1) == ["M", "M"]


def test_the_sample_correction_in_utf16_goes_after_the_first_export_and_disagrees_on_two_sessions(db):
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "data" / "samples"
    import_bytes(db, (samples / "pupil_roll.csv").read_bytes(), "pupil_roll.csv", "officer")
    files = [BatchFile(name, (samples / name).read_bytes()) for name in ("long_marks_corrected.txt", "long_marks.csv")]
    plan = plan_batch(db, files, "officer")
    assert plan.order == ["long_marks.csv", "long_marks_corrected.txt"]  # same dates; the correction's title is later
    assert [p.outcome.status for p in plan.files] == ["imported", "imported"]
    [conflict] = plan.conflicts
    assert conflict.sessions == 2
    assert (conflict.marks["earlier_mark"].tolist(), conflict.marks["later_mark"].tolist()) == (["N", "N"], ["I", "I"])


def test_a_batch_that_fails_part_way_writes_nothing_of_it(db, monkeypatch):
    from core import importers

    real_store = importers._store

    def failing(db_, read, content, file_name, *args, **options):
        if file_name == "week2.csv":
            raise RuntimeError("the machine stopped")
        return real_store(db_, read, content, file_name, *args, **options)

    monkeypatch.setattr(importers, "_store", failing)
    with pytest.raises(RuntimeError):
        import_batch(db, [BatchFile("roll.csv", ROLL), BatchFile("week1.csv", WEEK_1), BatchFile("week2.csv", WEEK_2)],
                     "officer")
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0
