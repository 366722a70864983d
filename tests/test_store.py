"""The store: migrations, connection settings, transactions, audit and settings."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date, timedelta

import pytest

from core import marks, store
from tests.conftest import make_upn, marks_csv, roll_csv


def test_a_new_database_is_migrated_to_the_latest_schema(db):
    assert store.schema_version(db) == store.SCHEMA_VERSION
    assert {"pupils", "marks", "mark_changes", "imports", "audit", "settings", "code_map", "users"} <= set(db.table_names())


def test_every_connection_uses_wal_foreign_keys_and_a_busy_timeout(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrating_twice_changes_nothing(db_path):
    store.connect(db_path).conn.close()
    again = store.connect(db_path)
    assert store.schema_version(again) == store.SCHEMA_VERSION


def test_each_earlier_schema_version_migrates_to_the_latest(tmp_path):
    for version in range(store.SCHEMA_VERSION + 1):
        path = tmp_path / f"v{version}.db"
        store.connect(path, migrate_to=version).conn.close()
        assert store.schema_version(store.connect(path)) == store.SCHEMA_VERSION


def test_a_database_from_a_newer_version_is_refused_with_a_message(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(store.StoreError, match="newer version"):
        store.connect(db_path)


def test_a_file_that_is_not_a_database_is_refused_with_a_message(tmp_path):
    path = tmp_path / "letter.db"
    path.write_bytes(b"Dear parent, " * 200)
    with pytest.raises(store.StoreError, match="not a Pastoral database"):
        store.connect(path)


def test_a_failed_transaction_writes_nothing(db):
    with pytest.raises(RuntimeError):
        with store.transaction(db) as conn:
            store.audit(conn, "someone", "test")
            raise RuntimeError("power cut")
    assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0


def test_marks_need_a_stored_pupil(db):
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction(db) as conn:
            conn.execute("INSERT INTO imports (id, file_name, sha256, shape, rows, pupils, imported_by, imported_at) "
                         "VALUES (1, 'x', 'x', 'x', 0, 0, 'x', 'x')")
            conn.execute("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (999, 1, 0, '/', 1)")


def test_settings_default_until_saved_and_each_change_is_audited(db):
    assert store.get_settings(db)["penalty_sessions"] == 10
    store.set_setting(db, "penalty_sessions", 12, "head")
    assert store.get_settings(db)["penalty_sessions"] == 12
    who, action, detail = db.execute("SELECT username, action, detail FROM audit").fetchone()
    assert (who, action) == ("head", "setting.change")
    assert '"old": 10' in detail and '"new": 12' in detail


def test_an_unknown_setting_is_refused(db):
    with pytest.raises(KeyError):
        store.set_setting(db, "penalty_sesions", 12, "head")


def test_a_local_code_cannot_remap_a_dfe_code_in_force(db):
    with pytest.raises(ValueError, match="DfE code in force"):
        store.set_local_code(db, "I", "O", "admin")
    store.set_local_code(db, "i01", "I", "admin")
    assert store.local_codes(db) == {"I01": "I"}


def test_every_import_is_audited_with_who_and_what(db, load):
    load("roll.csv", roll_csv({}), user="officer")
    load("marks.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "/")]), user="officer")
    actions = db.execute("SELECT username, action FROM audit ORDER BY id").fetchall()
    assert actions == [("officer", "import"), ("officer", "import")]


def test_a_rejected_import_is_audited_but_stores_nothing(db, load):
    load("roll.csv", roll_csv({}))
    before = db.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
    outcome = load("marks.csv", marks_csv([(make_upn(1), "2025-09-08", "AM", "Q7")]))
    assert outcome.status == "rejected"
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == before
    assert db.execute("SELECT action FROM audit ORDER BY id DESC").fetchone()[0] == "import.rejected"


def test_a_corrected_mark_is_replaced_and_its_change_recorded(db, load):
    load("roll.csv", roll_csv({}))
    upn = make_upn(1)
    load("week1.csv", marks_csv([(upn, "2025-09-08", "AM", "N"), (upn, "2025-09-08", "PM", "N")]))
    outcome = load("week1-corrected.csv", marks_csv([(upn, "2025-09-08", "AM", "I"), (upn, "2025-09-08", "PM", "N")]))
    assert (outcome.status, outcome.marks_added, outcome.marks_changed) == ("imported", 0, 1)
    assert db.execute("SELECT code FROM marks WHERE session = 0").fetchone()[0] == "I"
    assert db.execute("SELECT old_code, new_code, import_id FROM mark_changes").fetchall() == [("N", "I", outcome.import_id)]


# --- writers waiting for each other ---------------------------------------------------


def _hold_write_lock(db_path, seconds: float, started: threading.Event) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    other.execute("ROLLBACK")
    other.close()


def test_a_write_waits_past_the_busy_timeout_for_a_long_upload_to_finish(db, db_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    short = store.connect(db_path)  # gives up on each attempt after 50 ms
    started = threading.Event()
    upload = threading.Thread(target=_hold_write_lock, args=(db_path, 0.6, started))
    upload.start()
    started.wait()
    store.set_setting(short, "school_name", "Waited Academy", "admin")
    upload.join()
    assert store.get_settings(db)["school_name"] == "Waited Academy"
    short.conn.close()


def test_a_write_that_never_gets_the_lock_says_the_store_is_busy_and_saves_nothing(db, db_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 20)
    monkeypatch.setattr(store, "WRITE_WAIT_SECONDS", 0.3)
    short = store.connect(db_path)
    started = threading.Event()
    upload = threading.Thread(target=_hold_write_lock, args=(db_path, 1.0, started))
    upload.start()
    started.wait()
    with pytest.raises(store.StoreBusy, match="busy with another change"):
        store.set_setting(short, "school_name", "Impatient Academy", "admin")
    upload.join()
    assert store.get_settings(db)["school_name"] == store.DEFAULT_SETTINGS["school_name"]
    short.conn.close()


# --- migrations keep what earlier versions stored ----------------------------------------


def test_what_each_earlier_version_stored_survives_migration_and_imports_still_work(tmp_path):
    from core.importers import import_bytes

    for version in range(1, store.SCHEMA_VERSION):
        path = tmp_path / f"v{version}.db"
        old = store.connect(path, migrate_to=version)
        with store.transaction(old) as conn:  # what version 1 already had: an import, a pupil, a mark
            conn.execute("INSERT INTO imports (id, file_name, sha256, shape, rows, pupils, imported_by, imported_at) "
                         "VALUES (1, 'w1.csv', 'abc', 'long_marks', 1, 1, 'officer', '2025-09-08T16:00:00+00:00')")
            conn.execute("INSERT INTO pupils (id, upn, surname, year_group, first_import_id) "
                         "VALUES (1, ?, 'Ahmed', '7', 1)", (make_upn(1),))
            conn.execute("INSERT INTO marks (pupil_id, day, session, code, import_id) VALUES (1, 20339, 0, 'N', 1)")
            if version >= 7:  # from version 7 an import stores each mark's tally with it
                marks.refresh_tallies(conn, [1])
            store.audit(conn, "officer", "import", "imports", 1)
        old.conn.close()
        db = store.connect(path)
        assert store.schema_version(db) == store.SCHEMA_VERSION
        assert db.execute("SELECT upn, surname FROM pupils").fetchall() == [(make_upn(1), "Ahmed")]
        assert db.execute("SELECT day, session, code FROM marks").fetchall() == [(20339, 0, "N")]
        corrected = import_bytes(db, marks_csv([(make_upn(1), "2025-09-08", "AM", "I")]).encode(), "w1b.csv", "officer")
        assert (corrected.status, corrected.marks_changed) == ("imported", 1), version
        assert db.execute("SELECT old_code, new_code, old_import_id FROM mark_changes").fetchall() == [("N", "I", 1)]
        assert db.execute("SELECT code, sessions FROM pupil_year_tallies").fetchall() == [("I", 1)]  # kept since
        db.conn.close()


def test_the_audit_log_reads_newest_first_by_person_action_family_and_date(tmp_path):
    db = store.connect(tmp_path / "a.db")
    with store.transaction(db) as conn:
        store.audit(conn, "ann", "intervention.open", "interventions", 1, {"pupil_id": 7})
        store.audit(conn, "bob", "login", "users", "bob")
        store.audit(conn, "ann", "intervention.close", "interventions", 1)
        store.audit(conn, "ann", "interventions_note", "x", 2)  # shares the first letters only
    entries, more = store.audit_log(db)
    assert entries["action"].tolist()[:2] == ["interventions_note", "intervention.close"] and not more
    family, _ = store.audit_log(db, action="intervention")
    assert sorted(family["action"]) == ["intervention.close", "intervention.open"]
    assert family.set_index("action").loc["intervention.open", "pupil_id"] == 7
    assert set(store.audit_log(db, username="bob")[0]["action"]) == {"login"}
    newest, more = store.audit_log(db, limit=2)
    assert len(newest) == 2 and more
    today = date.fromisoformat(store.now()[:10])
    assert store.audit_log(db, since=today + timedelta(days=1))[0].empty
    assert len(store.audit_log(db, since=today, until=today)[0]) == 4
    assert "intervention" in store.audit_actions(db) and "login" in store.audit_actions(db)


def test_every_change_to_what_figures_read_makes_a_new_read_version_even_within_one_second(db, monkeypatch):
    """Settings, a school's own settings and code mappings are stamped to the second; two changes
    in the same second must still make two read versions, or a screen keeps the first's figures."""
    from core import reads

    monkeypatch.setattr(store, "now", lambda: "2026-12-04T09:00:00+00:00")  # every change in one second
    path = reads.path_of(db)
    seen = [reads.version(path)]
    store.set_setting(db, "meeting_minutes", 45, "admin")
    seen.append(reads.version(path))
    store.set_setting(db, "meeting_minutes", 50, "admin")
    seen.append(reads.version(path))
    store.set_local_code(db, "A1", "C", "admin")
    seen.append(reads.version(path))
    store.set_local_code(db, "A1", "I", "admin")
    seen.append(reads.version(path))
    assert len(set(seen)) == len(seen)
