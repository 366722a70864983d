"""The cached read layer (core/reads.py): reads write nothing, hand out frames a caller may
change, follow the data's version, and are the same reads whether a screen or a core
function given a connection asks."""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import date

import pytest

from core import auth, cases, reads, store, triggers
from tests.app_school import WEEK_1, quick_hashes, school  # noqa: F401 (fixtures)

AS_OF = date(2025, 9, 19)
VIEWER = auth.Viewer("pastoral", "pastoral_lead")


def every_read(path: str) -> None:
    """Each cached read, once, over the test school's fortnight."""
    version = reads.version(path)
    case_version = reads.case_version(path)
    reads.settings(path, version)
    reads.mark_span(path, version)
    reads.pupils(path, version)
    reads.imports(path, version)
    reads.pupil_figures(path, version, WEEK_1, AS_OF)
    reads.triggers_reached(path, version, AS_OF)
    for ids in (None, (1, 2)):
        reads.weekday_absence(path, version, WEEK_1, AS_OF, ids)
        reads.reasons(path, version, WEEK_1, AS_OF, ids)
        reads.weekly_trend(path, version, WEEK_1, AS_OF, ids)
        reads.pupil_weekly(path, version, WEEK_1, AS_OF, ids, 12)
        reads.pupil_patterns(path, version, WEEK_1, AS_OF, ids)
        reads.change_since(path, version, WEEK_1, AS_OF, reads.previous_as_at(path, version), ids)
        reads.data_quality(path, version, WEEK_1, AS_OF, ids)
        reads.lateness_by_pupil(path, version, WEEK_1, AS_OF, ids)
        reads.lateness_by_weekday(path, version, WEEK_1, AS_OF, ids)
        reads.persistent_late(path, version, WEEK_1, AS_OF, ids)
    reads.pupil_calendar(path, version, 1, WEEK_1, AS_OF)
    reads.absence_runs(path, version, 1, WEEK_1, AS_OF)
    reads.sessions_behind(path, version, 1, WEEK_1, AS_OF)
    reads.mark_history(path, version, 1)
    reads.latest_actions(path, case_version, AS_OF)
    reads.impact(path, version, case_version, 10, VIEWER)


def test_a_cold_read_of_every_cached_read_writes_nothing(school):
    reads.clear()
    with store.opened(school) as watching:
        before = watching.execute("PRAGMA data_version").fetchone()[0]
        every_read(str(school))
        # data_version changes when another connection commits a write to the store
        assert watching.execute("PRAGMA data_version").fetchone()[0] == before
        assert watching.execute("SELECT COUNT(*) FROM trigger_history").fetchone()[0] == 0


def test_the_triggers_read_are_those_reached_but_none_is_recorded_as_shown(school):
    reads.clear()
    found = reads.triggers_reached(str(school), reads.version(str(school)), AS_OF)
    with store.opened(school) as db:
        assert found.equals(triggers.reached(db, AS_OF))
        assert triggers.history(db).empty


def test_a_caller_changing_a_frame_it_was_given_changes_nobody_elses(school):
    path = str(school)
    version = reads.version(path)
    given = reads.pupil_figures(path, version, WEEK_1, AS_OF)
    given.loc[:, "attendance_pct"] = 0.0
    settings = reads.settings(path, version)
    settings["school_name"] = "changed"
    assert (reads.pupil_figures(path, version, WEEK_1, AS_OF)["attendance_pct"] > 0).any()
    assert reads.settings(path, version)["school_name"] != "changed"


def test_a_settings_change_gives_a_new_version_and_fresh_reads(school):
    path = str(school)
    before = reads.version(path)
    with store.opened(school) as db:
        store.set_setting(db, "school_name", "Elm Park Primary", "admin")
    after = reads.version(path)
    assert after != before
    assert reads.settings(path, after)["school_name"] == "Elm Park Primary"


def test_the_kept_stamp_connection_sees_every_write_made_since_its_last_stamp(school):
    """`version`, `case_version` and `school_count` read through one connection a thread
    keeps: a write committed through another connection between two stamps changes the
    next, each time (no read snapshot is left open between them)."""
    path = str(school)
    seen = [(reads.version(path), reads.case_version(path), reads.school_count(path))]
    lead = auth.Viewer("pastoral", auth.PASTORAL_LEAD)
    for change in range(3):
        with store.opened(school) as db:
            store.set_setting(db, "school_name", f"Renamed {change}", "admin")
            pupil = db.execute("SELECT id FROM pupils ORDER BY id LIMIT 1").fetchone()[0]
            cases.log_contact(db, lead, pupil, "call", AS_OF, "mother", summary=f"Call {change}")
            db.execute("INSERT INTO schools (name, created_at) VALUES (?, '2025-09-01')", (f"School {change}",))
        seen.append((reads.version(path), reads.case_version(path), reads.school_count(path)))
    assert len({v for v, _, _ in seen}) == len({c for _, c, _ in seen}) == 4
    assert [n for _, _, n in seen] == [1, 2, 3, 4]
    assert reads.stamp_reader(path) is reads.stamp_reader(path)  # one connection, kept


def test_a_thread_closes_its_stamp_connection_when_it_ends_and_a_replaced_store_gets_a_new_one(school, tmp_path):
    kept = []
    worker = threading.Thread(target=lambda: kept.append(reads.stamp_reader(str(school)).conn))
    worker.start()
    worker.join()
    del worker
    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        kept[0].execute("SELECT 1")

    other = tmp_path / "other.db"
    store.connect(other).conn.close()
    first = reads.stamp_reader(str(other))
    for name in ("other.db", "other.db-wal", "other.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with store.opened(other) as db:  # a new, different store at the same path
        db.execute("INSERT INTO schools (name, created_at) VALUES ('Second', '2025-09-01')")
    assert reads.school_count(str(other)) == 2
    assert reads.stamp_reader(str(other)) is not first
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")


def test_a_store_opened_by_a_core_function_is_the_store_the_screens_read(school):
    with store.opened(school) as db:
        assert reads.path_of(db) == reads.db_path()


def test_clear_forgets_every_cached_read(school):
    path = str(school)
    version = reads.version(path)
    first = reads.scope_marks(path, version, 0, 10**6, None)
    assert reads.scope_marks(path, version, 0, 10**6, None) is first  # one shared object
    reads.clear()
    assert reads.scope_marks(path, version, 0, 10**6, None) is not first


def test_a_head_of_sections_pupil_ids_are_their_sections_only(school):
    path = str(school)
    version = reads.version(path)
    with store.opened(school) as db:
        secondary = auth.get_user(db, "secondary")
        admin = auth.get_user(db, "admin")
    ids = reads.scoped_pupil_ids(secondary, path, version)
    surnames = reads.pupils(path, version).set_index("id").loc[list(ids), "surname"]
    assert sorted(surnames) == ["Ahmed", "Brown", "Evans"]
    assert reads.scoped_pupil_ids(admin, path, version) is None
