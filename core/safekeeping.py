"""Keeping children's data safe over time: backups, restores, and removing leavers' data.

Backups use SQLite's online backup, so they are consistent while the app is in use.
Purging follows UK GDPR storage limitation: leavers' records are kept for the school's
retention period (default 6 years, the period the 2024 Pupil Registration Regulations set
for register entries) and then removed with everything linked to them. The audit log
records that a purge happened and how much it removed — never who.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import sqlite_utils

from core import marks, sessions, store

# Tables holding a pupil's records, children before parents so foreign keys hold, each
# with how its rows name the pupil ({ids}: the pupils being removed).
BY_PUPIL = "pupil_id IN ({ids})"
BY_INTERVENTION = "intervention_id IN (SELECT id FROM interventions WHERE pupil_id IN ({ids}))"
PUPIL_RECORDS: dict[str, str] = {
    "meeting_items": BY_PUPIL,
    "trigger_history": BY_PUPIL,
    "first_day_calls": BY_PUPIL,
    "sibling_links": "pupil_id IN ({ids}) OR sibling_id IN ({ids})",
    "penalty_notice_parents": BY_INTERVENTION,
    "mark_changes": BY_PUPIL,
    "marks": BY_PUPIL,
    "pupil_year_tallies": BY_PUPIL,
    "pupil_changes": BY_PUPIL,
    "summary_counts": BY_PUPIL,
    "checkins": BY_PUPIL,
    "contacts": BY_PUPIL,
    "intervention_history": BY_INTERVENTION,
    "interventions": BY_PUPIL,
    "key_adults": BY_PUPIL,
}
PUPIL_TABLES = tuple(PUPIL_RECORDS)


def backup(db_path: str | Path, destination: str | Path, username: str) -> Path:
    """Copy the live database to `destination` (online; the app may keep running)."""
    destination = Path(destination)
    if destination.exists():
        raise store.StoreError(f"{destination} already exists; choose a new file name for the backup.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with store.opened(db_path) as db:
        with store.transaction(db) as conn:
            store.audit(conn, username, "backup", "file", destination.name)
        store.create_private(destination)  # a copy of children's data: the owner's eyes only
        target = sqlite3.connect(destination)
        try:
            db.conn.backup(target)
        finally:
            target.close()
    store.keep_private(destination)
    return destination


def restore(db_path: str | Path, source: str | Path, username: str) -> None:
    """Replace the live database's contents with a backup, after checking it is one."""
    source = Path(source)
    if not source.is_file():
        raise store.StoreError(f"{source} does not exist.")
    try:
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        version = check.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        check.close()
    except sqlite3.DatabaseError as error:
        raise store.StoreError(f"{source} is not a Pastoral backup ({error}).") from error
    if not {"pupils", "marks", "imports", "audit"} <= tables or version < 1:
        raise store.StoreError(f"{source} is not a Pastoral backup.")
    if version > store.SCHEMA_VERSION:
        raise store.StoreError(f"{source} was made by a newer version of Pastoral; update before restoring it.")
    if ok != "ok":
        raise store.StoreError(f"{source} is damaged ({ok}); choose another backup.")
    with store.opened(db_path) as db:
        reader = sqlite3.connect(source)
        try:
            reader.backup(db.conn)
        finally:
            reader.close()
    # Bring an older backup up to date, then record the restore in the restored log. Sessions
    # the backup held as live may have been signed out since: everyone signs in again.
    with store.opened(db_path) as db:
        with store.transaction(db) as conn:
            ended = sessions.end_everyone(conn, sessions.RESTORED)
            store.audit(conn, username, "restore", "file", source.name,
                        {"schema_version": version, "sessions_ended": ended})


def leavers_due_for_purge(db: sqlite_utils.Database, today: date) -> list[int]:
    """Pupils who left more than the retention period ago."""
    years = int(store.get_settings(db)["leaver_retention_years"])
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    rows = db.execute(
        "SELECT id FROM pupils WHERE leave_date IS NOT NULL AND leave_date != '' AND leave_date < ?",
        (cutoff.isoformat(),),
    ).fetchall()
    return [r[0] for r in rows]


def purge_leavers(db: sqlite_utils.Database, today: date, username: str, dry_run: bool = False) -> dict[str, int]:
    """Remove leavers past the retention period and every record linked to them.

    Returns rows removed per table (what would be removed, for a dry run).
    """
    removed: dict[str, int] = {}
    scope = "SELECT value FROM json_each(?)"
    with store.transaction(db) as conn, marks.tallies_kept_in_bulk(conn):  # purged with the pupils' marks
        ids = json.dumps(leavers_due_for_purge(db, today))
        for table, rows in PUPIL_RECORDS.items():
            removed[table] = conn.execute(f"DELETE FROM {table} WHERE {rows.format(ids=scope)}",
                                          (ids,) * rows.count("{ids}")).rowcount
        removed["pupils"] = conn.execute(f"DELETE FROM pupils WHERE id IN ({scope})", (ids,)).rowcount
        if dry_run:
            raise store.Rollback
        store.audit(conn, username, "purge.leavers", "pupils", "",
                    {"retention_years": store.get_settings(db)["leaver_retention_years"], **removed})
    return removed
