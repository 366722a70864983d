"""Keeping children's data safe over time: backups, restores, and removing leavers' data.

Backups use SQLite's online backup, so they are consistent while the app is in use.
Purging follows UK GDPR storage limitation: leavers' records are kept for the school's
retention period (default 6 years, the period the 2024 Pupil Registration Regulations set
for register entries) and then removed with everything linked to them. The audit log
records that a purge happened and how much it removed — never who — and its earlier
entries about the purged pupils are kept as "purged pupil" (what was done, by whom and
when), with nothing left that names them. A restore keeps the audit trail made since the
backup was taken, and records what it replaced.
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
BY_PLAN = "plan_id IN (SELECT id FROM support_plans WHERE pupil_id IN ({ids}))"
PUPIL_RECORDS: dict[str, str] = {
    "support_plan_reviews": BY_PLAN,
    "support_plan_targets": BY_PLAN,
    "support_plan_actions": BY_PLAN,
    "support_plans": BY_PUPIL,
    "meeting_items": BY_PUPIL,
    "meeting_agenda": BY_PUPIL,
    "trigger_history": BY_PUPIL,
    "first_day_calls": BY_PUPIL,
    "sibling_links": "pupil_id IN ({ids}) OR sibling_id IN ({ids})",
    "penalty_notice_parents": BY_INTERVENTION,
    "penalty_ledger_sessions": BY_PUPIL,
    "penalty_ledger": BY_PUPIL,
    "cme_steps": "case_id IN (SELECT id FROM cme_cases WHERE pupil_id IN ({ids}))",
    "cme_cases": BY_PUPIL,
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
    "pupil_moves": BY_PUPIL,
}
PUPIL_TABLES = tuple(PUPIL_RECORDS)

# How an audit entry names a pupil: the pupil's id under one of these keys of its detail;
# the pupil (or a record of theirs, by its id) as the entry's entity; or in words — a UPN,
# the pupil's name, a parent's or carer's name — anywhere in its detail.
AUDIT_PUPIL_KEYS = ("pupil_id", "sibling_id")
AUDIT_PUPIL_ENTITIES = ("pupils", "key_adults")
AUDIT_RECORD_ENTITIES = ("interventions", "checkins", "contacts", "first_day_calls", "meeting_items", "support_plans")
AUDIT_PUPIL_LISTS = ("withdrawn_pupils",)  # lists of pupil ids: the purged ids are taken out
PURGED_ENTRY = {"pupil": "purged pupil"}
SHORTEST_NAME = 4  # shorter words are not searched for (they would match unrelated entries)


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
        replaced = _what_is_there(db)
        since = _audit_since(db, source)
        reader = sqlite3.connect(source)
        try:
            reader.backup(db.conn)
        finally:
            reader.close()
    # Bring an older backup up to date, then put back the audit trail made since the backup
    # and record the restore, with what it replaced, in the restored log. Sessions the backup
    # held as live may have been signed out since: everyone signs in again.
    with store.opened(db_path) as db:
        with store.transaction(db) as conn:
            conn.executemany("INSERT INTO audit (at, username, action, entity, entity_id, detail) "
                             "VALUES (?, ?, ?, ?, ?, ?)", since)
            ended = sessions.end_everyone(conn, sessions.RESTORED)
            store.audit(conn, username, "restore", "file", source.name,
                        {"schema_version": version, "replaced": replaced, "audit_entries_kept": len(since),
                         "sessions_ended": ended})


def _what_is_there(db: sqlite_utils.Database) -> dict:
    """What a restore is about to replace, for its audit entry."""
    def one(sql: str):
        return db.execute(sql).fetchone()[0]

    return {"imports": one("SELECT COUNT(*) FROM imports"), "last_import_id": one("SELECT MAX(id) FROM imports"),
            "latest_audit_id": one("SELECT MAX(id) FROM audit"), "latest_audit_at": one("SELECT MAX(at) FROM audit"),
            "pupils": one("SELECT COUNT(*) FROM pupils"), "marks": one("SELECT COUNT(*) FROM marks")}


def _audit_since(db: sqlite_utils.Database, source: Path) -> list[tuple]:
    """The live store's audit entries made after the backup's last one (by time, then
    number), oldest first: a restore brings the data back, not the history since."""
    backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        last_at, last_id = backup.execute("SELECT at, id FROM audit ORDER BY at DESC, id DESC LIMIT 1").fetchone() \
            or ("", 0)
    finally:
        backup.close()
    return db.execute(
        "SELECT at, username, action, entity, entity_id, detail FROM audit WHERE at > ? OR (at = ? AND id > ?) "
        "ORDER BY id", (last_at, last_at, last_id)).fetchall()


def leavers_due_for_purge(db: sqlite_utils.Database, today: date, school_id: int | None = None) -> list[int]:
    """Pupils who left more than the retention period ago (of one school of a trust's store, with
    `school_id`)."""
    years = int(store.get_settings(db)["leaver_retention_years"])
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    rows = db.execute(
        "SELECT id FROM pupils WHERE leave_date IS NOT NULL AND leave_date != '' AND leave_date < ?"
        + ("" if school_id is None else " AND school_id = ?"),
        (cutoff.isoformat(),) + (() if school_id is None else (int(school_id),)),
    ).fetchall()
    return [r[0] for r in rows]


def purge_leavers(db: sqlite_utils.Database, today: date, username: str, dry_run: bool = False,
                  school_id: int | None = None) -> dict[str, int]:
    """Remove leavers past the retention period and every record linked to them (only one
    school's leavers, with `school_id`: a trust's store).

    Returns rows removed per table (what would be removed, for a dry run).
    """
    removed: dict[str, int] = {}
    scope = "SELECT value FROM json_each(?)"
    with store.transaction(db) as conn, marks.tallies_kept_in_bulk(conn):  # purged with the pupils' marks
        ids = json.dumps(leavers_due_for_purge(db, today, school_id))
        anonymised = _anonymise_audit(conn, ids)  # before the records that tie entries to a pupil go
        marks.add_day_tallies_of(conn, json.loads(ids), -1)  # their marks go from the day tallies too
        for table, rows in PUPIL_RECORDS.items():
            removed[table] = conn.execute(f"DELETE FROM {table} WHERE {rows.format(ids=scope)}",
                                          (ids,) * rows.count("{ids}")).rowcount
        removed["pupils"] = conn.execute(f"DELETE FROM pupils WHERE id IN ({scope})", (ids,)).rowcount
        if dry_run:
            raise store.Rollback
        store.audit(conn, username, "purge.leavers", "pupils", "",
                    {"retention_years": store.get_settings(db)["leaver_retention_years"], **removed,
                     "audit_entries_anonymised": anonymised, **({"school": school_id} if school_id else {})})
    return removed


def _anonymise_audit(conn: sqlite3.Connection, ids: str) -> int:
    """Audit entries that name the pupils being purged keep what was done, by whom and when,
    but say only "purged pupil"; a list of pupils loses the purged ones. How many changed."""
    scope = "SELECT value FROM json_each(:ids)"
    naming = [f"(json_valid(detail) AND json_extract(detail, '$.{key}') IN ({scope}))" for key in AUDIT_PUPIL_KEYS]
    naming += [f"(entity = '{entity}' AND entity_id IN (SELECT CAST(value AS TEXT) FROM json_each(:ids)))"
               for entity in AUDIT_PUPIL_ENTITIES]
    naming += [f"(entity = '{table}' AND entity_id IN "
               f"(SELECT CAST(id AS TEXT) FROM {table} WHERE pupil_id IN ({scope})))" for table in AUDIT_RECORD_ENTITIES]
    words = _words_naming(conn, ids)
    naming += ["instr(detail, :w{}) > 0".format(i) for i in range(len(words))]
    params = {"ids": ids, **{f"w{i}": word for i, word in enumerate(words)}}
    entries = [r[0] for r in conn.execute(f"SELECT id FROM audit WHERE {' OR '.join(naming)}", params)]
    conn.executemany("UPDATE audit SET entity_id = '', detail = ? WHERE id = ?",
                     [(json.dumps(PURGED_ENTRY), entry) for entry in entries])
    purged = set(json.loads(ids))
    listed = 0
    for key in AUDIT_PUPIL_LISTS:
        for entry, detail in conn.execute(f"SELECT id, detail FROM audit WHERE json_valid(detail) AND "
                                          f"json_type(detail, '$.{key}') = 'array'").fetchall():
            detail = json.loads(detail)
            kept = [p for p in detail[key] if p not in purged]
            if len(kept) != len(detail[key]):
                detail["purged_pupils"] = detail.get("purged_pupils", 0) + len(detail[key]) - len(kept)
                detail[key] = kept
                conn.execute("UPDATE audit SET detail = ? WHERE id = ?", (json.dumps(detail), entry))
                listed += 1
    return len(entries) + listed


def _words_naming(conn: sqlite3.Connection, ids: str) -> list[str]:
    """The UPNs, names and parents' names of the pupils, as they appear inside the JSON of
    an audit entry's detail."""
    scope = "SELECT value FROM json_each(?)"
    words = set()
    for upn, forename, surname, first, second in conn.execute(
            f"SELECT upn, forename, surname, contact1_name, contact2_name FROM pupils WHERE id IN ({scope})", (ids,)):
        words |= {upn, first, second}
        if forename.strip() and surname.strip():
            words |= {f"{forename} {surname}", f"{surname}, {forename}", f"{surname} {forename}"}
    words |= {parent for parent, in conn.execute(
        f"SELECT parent FROM penalty_notice_parents WHERE {BY_INTERVENTION.format(ids=scope)}", (ids,))}
    return sorted(json.dumps(w.strip())[1:-1] for w in words if w and len(w.strip()) >= SHORTEST_NAME)
