"""Backups, restores, retention of leavers' data, and faults during writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from core import auth, cases, families, first_day, penalty_notices, safekeeping, store
from core.cli import main
from core.importers import import_file
from tests.conftest import make_upn, marks_csv, roll_csv


def count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_backup_restores_the_state_it_was_taken_in(db, db_path, load, tmp_path):
    load("roll.csv", roll_csv({}))
    load("w1.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "/")]))
    backup = safekeeping.backup(db_path, tmp_path / "backup.db", "admin")
    load("w2.csv", marks_csv([(make_upn(1), "2025-09-08", "PM", "N")]))
    assert count(db, "marks") == 2
    safekeeping.restore(db_path, backup, "admin")
    with store.opened(db_path) as restored:
        assert count(restored, "marks") == 1
        assert restored.execute("SELECT action FROM audit ORDER BY id DESC").fetchone()[0] == "restore"


def test_restoring_something_that_is_not_a_backup_changes_nothing(db, db_path, load, tmp_path):
    load("roll.csv", roll_csv({}))
    fake = tmp_path / "photo.db"
    fake.write_bytes(os.urandom(4096))
    with pytest.raises(store.StoreError):
        safekeeping.restore(db_path, fake, "admin")
    assert count(db, "pupils") == 1


def test_backup_refuses_to_overwrite_a_file(db_path, tmp_path):
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    with pytest.raises(store.StoreError, match="already exists"):
        safekeeping.backup(db_path, target, "admin")
    assert target.read_text() == "keep me"


def test_pastoral_backup_and_restore_commands(db_path, load, tmp_path, capsys):
    load("roll.csv", roll_csv({}))
    assert main(["--db", str(db_path), "backup", str(tmp_path / "b.db")]) == 0
    assert main(["--db", str(db_path), "restore", str(tmp_path / "b.db")]) == 0
    assert main(["--db", str(db_path), "restore", str(tmp_path / "missing.db")]) == 1


def test_leavers_past_the_retention_period_are_purged_with_their_records(db, load):
    load("roll.csv", _roll_with_leavers())
    old_leaver = db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0]
    load("marks.csv", marks_csv([(make_upn(1), "2018-07-02", "AM", "/"), (make_upn(2), "2024-07-01", "AM", "/")]))
    officer = auth.Viewer("o", "attendance_officer")
    cases.open_intervention(db, officer, old_leaver, "Home visit", "o", date(2018, 7, 3), check_in_on=date(2018, 7, 10))
    first_day.log_call(db, officer, old_leaver, date(2018, 7, 2), 0, "no_answer")
    families.decide(db, officer, old_leaver, old_leaver + 2, confirmed=True)
    penalty_notices.record_penalty_notice(db, officer, old_leaver, "Mrs Surname1", date(2018, 7, 4))
    preview = safekeeping.purge_leavers(db, date(2025, 9, 1), "admin", dry_run=True)
    assert preview["pupils"] == 1 and count(db, "pupils") == 3
    removed = safekeeping.purge_leavers(db, date(2025, 9, 1), "admin")
    assert (removed["pupils"], removed["marks"], removed["interventions"], removed["checkins"]) == (1, 1, 2, 1)
    assert (removed["first_day_calls"], removed["sibling_links"], removed["penalty_notice_parents"]) == (1, 1, 1)
    assert {r[0] for r in db.execute("SELECT upn FROM pupils")} == {make_upn(2), make_upn(3)}
    action, detail = db.execute("SELECT action, detail FROM audit ORDER BY id DESC").fetchone()
    assert action == "purge.leavers" and make_upn(1) not in detail


def test_every_table_that_names_a_pupil_is_purged_with_them(db):
    naming = {table for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if any(fk[2] == "pupils" for fk in db.execute(f"PRAGMA foreign_key_list({table})"))}
    assert naming <= set(safekeeping.PUPIL_TABLES), naming - set(safekeeping.PUPIL_TABLES)


def _roll_with_leavers() -> str:
    """Three pupils: one left in 2018, one in 2024, one still on roll."""
    lines = roll_csv({}, {}, {}).splitlines()
    leave = ["leave_date", "2018-07-20", "2024-07-20", ""]
    return "\n".join(f"{line},{extra}" for line, extra in zip(lines, leave))


def _big_marks_file(path: Path, pupils: int = 400, days: int = 150) -> None:
    import pandas as pd

    upns = [make_upn(i) for i in range(1, pupils + 1)]
    dates = pd.bdate_range("2025-09-01", periods=days).strftime("%Y-%m-%d")
    rows = [(u, d, s) for u in upns for d in dates for s in ("AM", "PM")]
    frame = pd.DataFrame(rows, columns=["upn", "date", "session"]).assign(mark="/", minutes_late="")
    frame.to_csv(path, index=False)


def test_a_process_killed_mid_import_leaves_the_previous_state_intact(db, db_path, load, tmp_path):
    load("w1.csv", marks_csv([(make_upn(1), "2025-09-01", "AM", "N")]))
    marks_before = db.execute("SELECT pupil_id, day, session, code FROM marks").fetchall()
    big = tmp_path / "year.csv"
    _big_marks_file(big)
    child = subprocess.Popen([sys.executable, "-m", "core.cli", "--db", str(db_path), "import", str(big)],
                             cwd=Path(__file__).resolve().parent.parent)
    # Kill it once the import holds the write lock (its transaction has begun).
    deadline = time.time() + 60
    while time.time() < deadline and child.poll() is None:
        probe = store.connect(db_path)
        probe.conn.execute("PRAGMA busy_timeout = 0")
        try:
            probe.conn.execute("BEGIN IMMEDIATE")
            probe.conn.execute("ROLLBACK")
        except Exception:
            break  # locked: the import is writing
        finally:
            probe.conn.close()
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    with store.opened(db_path) as after:
        assert after.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert after.execute("SELECT pupil_id, day, session, code FROM marks").fetchall() == marks_before
        assert count(after, "imports") == 1


def _writer(db_path: str, worker: int) -> str:
    """One member of staff: logs 15 calls, then uploads a one-mark export. Runs in its own process."""
    database = store.connect(db_path)
    viewer = auth.Viewer(f"user{worker}", "attendance_officer")
    pupil_id = database.execute("SELECT id FROM pupils ORDER BY id LIMIT 1").fetchone()[0]
    for i in range(15):
        cases.log_contact(database, viewer, pupil_id, "call", date(2025, 9, 8), "mother", f"call {worker}-{i}")
    folder = Path(db_path).parent
    path = folder / f"w{worker}.csv"
    path.write_text(marks_csv([(make_upn(1), f"2025-09-{8 + worker:02d}", "AM", "/")]) + "\n")
    status = import_file(database, path, f"user{worker}").status
    database.conn.close()
    return status


def test_parallel_writers_lose_nothing(db, db_path, load):
    load("roll.csv", roll_csv({}))
    # Separate interpreters, not multiprocessing: each worker is a fresh process like a
    # second Streamlit server would be, whatever the test runner's __main__ is.
    workers = [subprocess.Popen([sys.executable, "-c",
                                 f"from tests.test_safekeeping import _writer; print(_writer({str(db_path)!r}, {w}))"],
                                stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
               for w in range(4)]
    statuses = [w.communicate(timeout=120)[0].strip() for w in workers]
    assert sorted(statuses) == ["imported"] * 4
    assert count(db, "contacts") == 4 * 15
    assert count(db, "marks") == 4


@pytest.mark.parametrize("what", ["another program's database", "an empty file", "a damaged backup"])
def test_restoring_a_file_that_is_not_a_sound_pastoral_backup_is_refused_and_changes_nothing(db, db_path, load,
                                                                                          tmp_path, what):
    import sqlite3

    load("roll.csv", roll_csv({}))
    before = db.execute("SELECT * FROM pupils").fetchall()
    candidate = tmp_path / "candidate.db"
    if what == "another program's database":
        other = sqlite3.connect(candidate)
        other.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        other.execute("INSERT INTO photos (name) VALUES ('holiday.jpg')")
        other.commit()
        other.close()
    elif what == "an empty file":
        candidate.write_bytes(b"")
    else:
        backup = safekeeping.backup(db_path, tmp_path / "good.db", "admin")
        damaged = bytearray(backup.read_bytes())
        damaged[5000:9000] = b"\xff" * 4000  # pages of the tables, past the header
        candidate.write_bytes(bytes(damaged))
    with pytest.raises(store.StoreError):
        safekeeping.restore(db_path, candidate, "admin")
    with store.opened(db_path) as after:
        assert after.execute("SELECT * FROM pupils").fetchall() == before
        assert "restore" not in {r[0] for r in after.execute("SELECT action FROM audit")}


def test_a_purge_dry_run_removes_nothing_and_records_nothing(db, load):
    load("roll.csv", _roll_with_leavers())
    audit_before = count(db, "audit")
    preview = safekeeping.purge_leavers(db, date(2025, 9, 1), "admin", dry_run=True)
    assert preview["pupils"] == 1
    assert count(db, "pupils") == 3 and count(db, "audit") == audit_before


def test_a_purge_is_recorded_in_the_audit_log_with_who_did_it_and_how_much_went(db, load):
    load("roll.csv", _roll_with_leavers())
    safekeeping.purge_leavers(db, date(2025, 9, 1), "admin")
    who, action, detail = db.execute("SELECT username, action, detail FROM audit WHERE action = 'purge.leavers'").fetchone()
    assert (who, action) == ("admin", "purge.leavers")
    assert '"pupils": 1' in detail and '"retention_years": 6' in detail


def _busy_member_of_staff(db_path: str, worker: int) -> str:
    """Uploads a week of a 300-pupil year group and logs 20 calls in between; its own process."""
    import pandas as pd

    database = store.connect(db_path)
    viewer = auth.Viewer(f"user{worker}", "attendance_officer")
    folder = Path(db_path).parent
    monday = pd.Timestamp("2025-09-08") + pd.Timedelta(weeks=worker)
    path = folder / f"week{worker}.csv"
    rows = [(make_upn(p), (monday + pd.Timedelta(days=d)).strftime("%Y-%m-%d"), s, "/" if (p + d) % 7 else "N")
            for p in range(1, 301) for d in range(5) for s in ("AM", "PM")]
    path.write_text(marks_csv(rows) + "\n")
    statuses = []
    for i in range(20):
        cases.log_contact(database, viewer, 1 + (worker * 20 + i) % 300, "call", date(2025, 9, 8), "mother",
                          f"call {worker}-{i}")
        if i == 10:
            statuses.append(import_file(database, path, f"user{worker}").status)
    database.conn.close()
    return ",".join(statuses)


WRITERS_DONE = "writers_done"  # written beside the store when every writer has finished


def _reader(db_path: str) -> str:
    """A screen being drawn over and over while the others write, until they have all
    finished (the test says so with WRITERS_DONE beside the store), and once more after."""
    from core import metrics

    seen = set()
    done = Path(db_path).parent / WRITERS_DONE
    deadline = time.time() + 300
    while time.time() < deadline:
        finished = done.exists()
        with store.opened(db_path) as database:
            period = metrics.default_period(database)
            if period is not None:
                seen.add(int(metrics.pupil_figures(database, period)["possible_sessions"].sum()))
        if finished:
            break
    return "read"


def test_uploads_and_case_logging_at_the_same_time_lose_nothing(db, db_path, load):
    load("roll.csv", roll_csv(*({} for _ in range(300))))
    root = Path(__file__).resolve().parent.parent
    code = "from tests.test_safekeeping import {0}; print({0}({1}))"
    workers = [subprocess.Popen([sys.executable, "-c", code.format("_busy_member_of_staff", f"{str(db_path)!r}, {w}")],
                                stdout=subprocess.PIPE, text=True, cwd=root) for w in range(3)]
    reader = subprocess.Popen([sys.executable, "-c", code.format("_reader", repr(str(db_path)))],
                              stdout=subprocess.PIPE, text=True, cwd=root)
    statuses = [w.communicate(timeout=300)[0].strip() for w in workers]
    (db_path.parent / WRITERS_DONE).touch()
    assert reader.communicate(timeout=300)[0].strip() == "read"
    assert statuses == ["imported"] * 3
    assert count(db, "contacts") == 3 * 20
    assert count(db, "marks") == 3 * 300 * 10
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'contact.log'").fetchone()[0] == 60
    assert db.execute("SELECT COUNT(*) FROM imports WHERE status = 'imported'").fetchone()[0] == 1 + 3
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_after_a_purge_no_audit_entry_names_a_purged_pupil_and_the_purge_keeps_its_counts(db, load):
    load("roll.csv", _roll_with_leavers())
    leaver, other = (db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(n),)).fetchone()[0] for n in (1, 2))
    officer = auth.Viewer("o", "attendance_officer")
    cases.open_intervention(db, officer, leaver, "Home visit", "o", date(2018, 7, 3), check_in_on=date(2018, 7, 10))
    first_day.log_call(db, officer, leaver, date(2018, 7, 2), 0, "no_answer")
    families.decide(db, officer, leaver, other + 1, confirmed=True)
    penalty_notices.record_penalty_notice(db, officer, leaver, "Mrs Jane Parentname", date(2018, 7, 4))
    cases.log_contact(db, officer, leaver, "call", date(2018, 7, 5), "mother", "no answer")
    cases.log_contact(db, officer, other, "call", date(2024, 7, 5), "father", "spoke to dad")
    with store.transaction(db) as conn:
        store.audit(conn, "o", "note.test", "file", "x.csv", {"about": f"{make_upn(1)} Forename1 Surname1"})
        store.audit(conn, "o", "key_adult.assign", "key_adults", leaver, {"key_adult": "o"})
        store.audit(conn, "system", "triggers.shown", "trigger_history", 2018, {"withdrawn_pupils": [leaver, other]})
    entries_before = count(db, "audit")

    safekeeping.purge_leavers(db, date(2025, 9, 1), "admin")

    rows = db.execute("SELECT username, action, entity, entity_id, detail FROM audit").fetchall()
    assert len(rows) == entries_before + 1  # the trail of what was done stays; only who it was about goes
    for username, action, entity, entity_id, detail in rows:
        for word in (make_upn(1), "Forename1", "Parentname", f'"pupil_id": {leaver}', f'"sibling_id": {leaver}'):
            assert word not in detail, (action, detail)
        assert not (entity in ("pupils", "key_adults") and entity_id == str(leaver)), action
    assert any(f'"pupil_id": {other}' in r[4] for r in rows if r[1] == "contact.log")  # another pupil's stays
    shown = json.loads(next(r[4] for r in rows if r[1] == "triggers.shown"))
    assert shown == {"withdrawn_pupils": [other], "purged_pupils": 1}
    purge = json.loads(next(r[4] for r in rows if r[1] == "purge.leavers"))
    assert purge["pupils"] == 1 and purge["interventions"] == 2 and purge["audit_entries_anonymised"] >= 9
    assert sum(r[4] == '{"pupil": "purged pupil"}' for r in rows) >= 8


def test_a_restore_keeps_the_audit_trail_made_since_the_backup_and_records_what_it_replaced(db, db_path, load,
                                                                                              tmp_path):
    load("roll.csv", roll_csv({}, {}))
    safekeeping.backup(db_path, tmp_path / "b.db", "admin")
    load("marks.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "/")]))
    store.set_setting(db, "max_upload_mb", 20, "admin")
    since = db.execute("SELECT at, username, action, entity, entity_id, detail FROM audit WHERE action IN "
                       "('import', 'setting.change') ORDER BY id").fetchall()
    imports, last_audit = count(db, "imports"), db.execute("SELECT MAX(id) FROM audit").fetchone()[0]

    safekeeping.restore(db_path, tmp_path / "b.db", "admin")

    with store.opened(db_path) as after:
        assert count(after, "imports") == imports - 1  # the data is the backup's
        kept = after.execute("SELECT at, username, action, entity, entity_id, detail FROM audit WHERE action IN "
                             "('import', 'setting.change') ORDER BY id").fetchall()
        restore = json.loads(after.execute("SELECT detail FROM audit WHERE action = 'restore'").fetchone()[0])
        actions = [a for a, in after.execute("SELECT action FROM audit ORDER BY id")]
    assert kept == since
    assert restore["replaced"]["imports"] == imports and restore["replaced"]["latest_audit_id"] == last_audit
    assert restore["audit_entries_kept"] == 2
    assert actions[-3:] == ["import", "setting.change", "restore"]
    assert actions.count("backup") == 1


def test_a_purged_leaver_takes_their_support_plan_with_its_actions_targets_and_reviews(db, load):
    from core import support_plans
    load("roll.csv", _roll_with_leavers())
    old_leaver = db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0]
    officer = auth.Viewer("o", "attendance_officer")
    plan = support_plans.start_plan(db, officer, old_leaver, date(2018, 5, 1), "o", barriers="Surname1's worries")
    support_plans.add_action(db, officer, plan, "school", "Breakfast club")
    support_plans.add_target(db, officer, plan, 95, date(2018, 7, 1), date(2018, 5, 1))
    support_plans.record_review(db, officer, plan, date(2018, 6, 1), "Fine")
    removed = safekeeping.purge_leavers(db, date(2025, 9, 1), "admin")
    assert [removed[t] for t in ("support_plans", "support_plan_actions", "support_plan_targets",
                                 "support_plan_reviews")] == [1, 1, 1, 1]
    assert all(count(db, t) == 0 for t in ("support_plans", "support_plan_actions", "support_plan_targets",
                                           "support_plan_reviews"))
    assert not db.execute("SELECT COUNT(*) FROM audit WHERE action LIKE 'support_plan.%' AND detail LIKE ?",
                          (f'%"pupil_id": {old_leaver}%',)).fetchone()[0]
