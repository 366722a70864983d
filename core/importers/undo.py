"""Undoing the newest import: the store goes back to how it was before that upload.

Only the most recent import still in force can be undone (imports stack: each one's
changes were made on top of the one before), and undoing it is one transaction:
marks it added are removed and marks it changed get back their old code, minutes late and
import from `mark_changes` (marks.undo_import); pupils it updated get back their details from
`pupil_changes`; pupils it added are removed when nothing else refers to them; summary
counts it stored are removed and those it superseded are current again. The import
stays in the log, marked 'undone', with who undid it and when, and the undo is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from core import characteristics, marks, schools, store

# Pupil fields a roll import may change, restored from pupil_changes.before.
RESTORED_FIELDS = ("adno", "mis_id", "surname", "forename", "dob", "gender", "year_group", "nc_year", "form",
                   "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date", "on_roll", "updated_import_id",
                   *characteristics.ROLL_DETAIL_FIELDS)


class NothingToUndo(Exception):
    """There is no import to undo, or the one asked for is not the newest; the message says which."""


@dataclass
class UndoOutcome:
    import_id: int
    file_name: str
    marks_removed: int = 0
    marks_restored: int = 0
    pupils_removed: int = 0
    pupils_restored: int = 0
    pupils_kept: int = 0  # added by the import, but now referred to by case work, so kept
    counts_removed: int = 0

    def as_json(self) -> dict:
        return dict(self.__dict__)


def undo_last_import(db: sqlite_utils.Database, username: str, import_id: int | None = None) -> UndoOutcome:
    """Undo the newest import still in force. With `import_id`, refuse unless it is that one
    (so a screen showing an older list cannot undo the wrong upload)."""
    with store.transaction(db) as conn:
        last = conn.execute(
            "SELECT id, file_name, imported_at FROM imports WHERE status = 'imported' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if last is None:
            raise NothingToUndo("There is no import to undo.")
        if import_id is not None and int(import_id) != last[0]:
            raise NothingToUndo(f"Only the most recent upload can be undone ({last[1]}, imported {last[2]}); "
                                "undo that one first.")
        number = last[0]
        outcome = UndoOutcome(number, last[1])
        fallback = conn.execute("SELECT MAX(id) FROM imports WHERE status = 'imported' AND id < ?",
                                (number,)).fetchone()[0]
        outcome.marks_removed, outcome.marks_restored = marks.undo_import(conn, number, fallback)
        outcome.pupils_restored = _restore_pupils(conn, number)
        schools.undo_moves(conn, number, username)  # pupils it moved between a trust's schools go back
        outcome.counts_removed = conn.execute("DELETE FROM summary_counts WHERE import_id = ?", (number,)).rowcount
        conn.execute("UPDATE summary_counts SET superseded_by = NULL WHERE superseded_by = ?", (number,))
        outcome.pupils_removed, outcome.pupils_kept = _remove_added_pupils(conn, number)
        conn.execute("UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE id = ?",
                     (store.now(), username, number))
        store.audit(conn, username, "import.undo", "imports", number, outcome.as_json())
    return outcome


def _restore_pupils(conn, number: int) -> int:
    rows = conn.execute("SELECT pupil_id, before FROM pupil_changes WHERE import_id = ? ORDER BY id DESC",
                        (number,)).fetchall()
    for pupil_id, before in rows:
        record = {k: v for k, v in json.loads(before).items() if k in RESTORED_FIELDS}
        if not record:
            continue
        conn.execute(f"UPDATE pupils SET {', '.join(f'{k} = ?' for k in record)} WHERE id = ?",
                     [*record.values(), pupil_id])
    return len(rows)


def _tables_referring_to_pupils(conn) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to pupils, read from the schema so that tables
    added later (by other features) also keep a pupil they refer to."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
    return [(table, key[3]) for table in tables if table != "pupils"
            for key in conn.execute(f"PRAGMA foreign_key_list('{table}')").fetchall() if key[2] == "pupils"]


def _remove_added_pupils(conn, number: int) -> tuple[int, int]:
    """Pupils the import added are removed unless something still refers to them."""
    added = [r[0] for r in conn.execute("SELECT id FROM pupils WHERE first_import_id = ?", (number,)).fetchall()]
    if not added:
        return 0, 0
    referring = _tables_referring_to_pupils(conn)
    for table, column in referring:  # history left by imports already undone does not keep a pupil
        columns = [c[1] for c in conn.execute(f"PRAGMA table_info('{table}')").fetchall()]
        if "import_id" in columns:
            conn.execute(f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT id FROM pupils WHERE first_import_id = ?) '
                         "AND (import_id = ? OR import_id IN (SELECT id FROM imports WHERE status = 'undone'))",
                         (number, number))
    referred = " OR ".join(f'EXISTS (SELECT 1 FROM "{table}" WHERE "{column}" = pupils.id)'
                           for table, column in referring)
    removed = conn.execute(
        f"DELETE FROM pupils WHERE first_import_id = ? AND NOT ({referred or '0'})", (number,)).rowcount
    kept = len(added) - removed
    if kept:  # still referred to (case work began on them): kept, no longer tied to the undone import
        conn.execute("UPDATE pupils SET first_import_id = NULL, updated_import_id = NULL WHERE first_import_id = ?",
                     (number,))
    return removed, kept
