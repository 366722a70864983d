"""Importing register exports: read → validate → diff against the store → one transaction.

`import_file` is the one way data enters the store. Each file is all-or-nothing: any error
rejects it whole and nothing is written; warnings are listed and the file imported.
Re-importing a file changes nothing; a corrected export replaces only the marks that
changed and records each change (old code → new code, which import).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from core import codes, store
from core.calendar import to_day
from core.importers.reading import LONG_MARKS, PUPIL_ROLL, Problem, ReadResult, read_export

__all__ = ["FileOutcome", "Problem", "import_file", "import_bytes", "read_export", "LONG_MARKS", "PUPIL_ROLL"]

IMPORTED, UNCHANGED, REJECTED = "imported", "unchanged", "rejected"


@dataclass
class FileOutcome:
    """What happened to one file; `as_json` is the `pastoral import` contract."""

    file: str
    status: str
    shape: str | None = None
    rows: int = 0
    pupils: int = 0
    marks_added: int = 0
    marks_changed: int = 0
    date_from: str | None = None
    date_to: str | None = None
    problems: list[Problem] = field(default_factory=list)
    pupils_added: int = 0
    pupils_updated: int = 0
    import_id: int | None = None

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "shape": self.shape,
            "rows": self.rows,
            "pupils": self.pupils,
            "marks_added": self.marks_added,
            "marks_changed": self.marks_changed,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "problems": [p.as_json() for p in self.problems],
        }


def import_file(db: sqlite_utils.Database, path: str | Path, username: str, dry_run: bool = False) -> FileOutcome:
    path = Path(path)
    settings = store.get_settings(db)
    limit = int(settings["max_upload_mb"]) * 1024 * 1024
    try:
        size = path.stat().st_size
    except OSError as error:
        return FileOutcome(str(path), REJECTED, problems=[Problem(None, None, f"Cannot open {path}: {error.strerror}.")])
    if size > limit:
        return _rejected(db, str(path), None, 0, [Problem(None, None,
            f"{path.name} is {size / 1024 / 1024:.0f} MB; the limit is {settings['max_upload_mb']} MB. "
            "Export a shorter date range (a term or a week) and upload that.")], username, dry_run)
    return import_bytes(db, path.read_bytes(), str(path), username, dry_run)


def import_bytes(db: sqlite_utils.Database, content: bytes, file_name: str, username: str, dry_run: bool = False) -> FileOutcome:
    """Validate and store one export given as bytes (the upload screen's entry point)."""
    read = read_export(content, Path(file_name).name)
    sha256 = hashlib.sha256(content).hexdigest()
    if read.shape == LONG_MARKS and not read.errors:
        _check_codes(db, read)
    if read.errors:
        return _rejected(db, file_name, read.shape, read.rows, read.problems, username, dry_run)

    outcome = FileOutcome(file_name, IMPORTED, read.shape, read.rows, problems=list(read.problems))
    if read.shape == LONG_MARKS:
        _import_marks(db, read, outcome, sha256, username, dry_run)
    else:
        _import_roll(db, read, outcome, sha256, username, dry_run)
    if outcome.status == UNCHANGED and not dry_run:
        with store.transaction(db) as conn:
            store.audit(conn, username, "import.unchanged", "file", Path(file_name).name, {"sha256": sha256})
    return outcome


def _rejected(db, file_name: str, shape: str | None, rows: int, problems: list[Problem], username: str, dry_run: bool) -> FileOutcome:
    if not dry_run:
        with store.transaction(db) as conn:
            store.audit(conn, username, "import.rejected", "file", Path(file_name).name,
                        {"problems": len([p for p in problems if p.severity == "error"])})
    return FileOutcome(file_name, REJECTED, shape, rows, problems=problems)


def _check_codes(db: sqlite_utils.Database, read: ReadResult) -> None:
    """Map local codes to DfE codes; any mark that is neither rejects the file."""
    marks = read.marks
    resolved = codes.resolve_local_codes(marks["mark"], store.local_codes(db))
    category = codes.classify(resolved, marks["date"])
    unknown = category == codes.UNKNOWN
    for mark, rows in marks.loc[unknown, "row"].groupby(marks.loc[unknown, "mark"]):
        read.add_rows(rows, "mark",
            f"Mark '{mark}' is not a DfE code in force on that date and has no local mapping — "
            "add it under Settings → Codes, or correct it in the MIS and export again.")
    read.marks = marks.assign(code=resolved)


def _resolve_pupils(conn, upns: pd.Series, import_id: int | None) -> tuple[pd.Series, list[str]]:
    """Stored pupil id for each UPN; UPNs not yet stored are added as pupils not on the roll."""
    known = dict(conn.execute("SELECT upn, id FROM pupils").fetchall())
    new = sorted(set(upns) - set(known))
    if new and import_id is not None:
        conn.executemany(
            "INSERT INTO pupils (upn, on_roll, first_import_id, updated_import_id) VALUES (?, 0, ?, ?)",
            [(u, import_id, import_id) for u in new],
        )
        known = dict(conn.execute("SELECT upn, id FROM pupils").fetchall())
    else:
        known.update({u: -(i + 1) for i, u in enumerate(new)})  # placeholders for a dry run
    return upns.map(known).astype("int64"), new


def _diff_marks(conn, incoming: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split incoming marks into sessions new to the store and sessions whose mark changed."""
    rows = conn.execute(
        "SELECT pupil_id, day, session, code, minutes_late FROM marks WHERE day BETWEEN ? AND ?",
        (int(incoming["day"].min()), int(incoming["day"].max())),
    ).fetchall()
    stored = pd.DataFrame(rows, columns=["pupil_id", "day", "session", "old_code", "old_minutes_late"]).astype(
        {"pupil_id": "int64", "day": "int64", "session": "int64", "old_minutes_late": "Int64"})
    merged = incoming.merge(stored, on=["pupil_id", "day", "session"], how="left", indicator=True)
    added = merged[merged["_merge"] == "left_only"]
    existing = merged[merged["_merge"] == "both"]
    same_minutes = (existing["minutes_late"].fillna(-1) == existing["old_minutes_late"].fillna(-1))
    changed = existing[(existing["code"] != existing["old_code"]) | ~same_minutes]
    return added, changed


def _marks_for_store(read: ReadResult) -> pd.DataFrame:
    marks = read.marks
    return pd.DataFrame({
        "upn": marks["upn"],
        "day": (marks["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)),
        "session": marks["session"].astype("int64"),
        "code": marks["code"].astype(str),
        "minutes_late": marks["minutes_late"],
    })


def _as_rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows for executemany, with NA as NULL and numbers as Python ints (column-wise, fast)."""
    values = []
    for name in columns:
        column = frame[name]
        if column.isna().any():
            values.append(column.astype(object).where(column.notna(), None).tolist())
        else:
            values.append(column.tolist())
    return list(zip(*values))


def _import_marks(db, read: ReadResult, outcome: FileOutcome, sha256: str, username: str, dry_run: bool) -> None:
    marks = _marks_for_store(read)
    first, last = read.marks["date"].min(), read.marks["date"].max()
    outcome.pupils = int(marks["upn"].nunique())
    outcome.date_from, outcome.date_to = first.date().isoformat(), last.date().isoformat()

    with store.transaction(db) as conn:
        import_id = None if dry_run else _new_import(conn, outcome, sha256, username, first, last)
        marks["pupil_id"], new_upns = _resolve_pupils(conn, marks["upn"], import_id)
        added, changed = _diff_marks(conn, marks)
        outcome.marks_added, outcome.marks_changed = len(added), len(changed)
        outcome.pupils_added = len(new_upns)
        if new_upns:
            shown = ", ".join(new_upns[:10]) + (f" and {len(new_upns) - 10} more" if len(new_upns) > 10 else "")
            outcome.problems.append(Problem(None, "upn",
                f"{len(new_upns)} pupil(s) are not on the roll: {shown}. Their marks are imported; "
                "upload the pupil roll to add names and year groups.", "warning"))
        outcome.status = IMPORTED if (len(added) or len(changed)) else UNCHANGED
        if dry_run or outcome.status == UNCHANGED:
            raise store.Rollback
        conn.executemany(
            "INSERT INTO marks (pupil_id, day, session, code, minutes_late, import_id) VALUES (?, ?, ?, ?, ?, ?)",
            _as_rows(added.assign(import_id=import_id), ["pupil_id", "day", "session", "code", "minutes_late", "import_id"]),
        )
        conn.executemany(
            "UPDATE marks SET code = ?, minutes_late = ?, import_id = ? WHERE pupil_id = ? AND day = ? AND session = ?",
            _as_rows(changed.assign(import_id=import_id), ["code", "minutes_late", "import_id", "pupil_id", "day", "session"]),
        )
        conn.executemany(
            "INSERT INTO mark_changes (pupil_id, day, session, old_code, new_code, old_minutes_late, new_minutes_late, import_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _as_rows(changed.assign(import_id=import_id),
                     ["pupil_id", "day", "session", "old_code", "code", "old_minutes_late", "minutes_late", "import_id"]),
        )
        _finish_import(conn, outcome, import_id, username)


def _new_import(conn, outcome: FileOutcome, sha256: str, username: str, first=None, last=None) -> int:
    cursor = conn.execute(
        "INSERT INTO imports (file_name, sha256, shape, rows, pupils, date_from, date_to, data_as_at, imported_by, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (Path(outcome.file).name, sha256, outcome.shape, outcome.rows, outcome.pupils,
         outcome.date_from, outcome.date_to, outcome.date_to, username, store.now()),
    )
    outcome.import_id = cursor.lastrowid
    return cursor.lastrowid


def _finish_import(conn, outcome: FileOutcome, import_id: int, username: str) -> None:
    conn.execute(
        "UPDATE imports SET pupils_added = ?, pupils_updated = ?, marks_added = ?, marks_changed = ? WHERE id = ?",
        (outcome.pupils_added, outcome.pupils_updated, outcome.marks_added, outcome.marks_changed, import_id),
    )
    store.audit(conn, username, "import", "imports", import_id, {
        "file": Path(outcome.file).name, "shape": outcome.shape, "marks_added": outcome.marks_added,
        "marks_changed": outcome.marks_changed, "pupils_added": outcome.pupils_added,
        "pupils_updated": outcome.pupils_updated})


ROLL_FIELDS = ["adno", "surname", "forename", "dob", "gender", "year_group", "nc_year", "form",
               "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date"]


def _import_roll(db, read: ReadResult, outcome: FileOutcome, sha256: str, username: str, dry_run: bool) -> None:
    incoming = read.pupils.drop(columns="row")
    outcome.pupils = len(incoming)
    with store.transaction(db) as conn:
        stored = store.pupils_frame(db)
        stored_by_upn = stored.set_index("upn")
        is_new = ~incoming["upn"].isin(stored_by_upn.index)
        new = incoming[is_new]
        existing = incoming[~is_new].set_index("upn")
        before = stored_by_upn.loc[existing.index, ROLL_FIELDS + ["on_roll", "id"]]
        differs = (_as_text(existing[ROLL_FIELDS]) != _as_text(before[ROLL_FIELDS])).any(axis=1)
        differs |= before["on_roll"] != 1
        updated = existing[differs]
        outcome.pupils_added, outcome.pupils_updated = len(new), len(updated)
        outcome.status = IMPORTED if (len(new) or len(updated)) else UNCHANGED
        if dry_run or outcome.status == UNCHANGED:
            raise store.Rollback
        import_id = _new_import(conn, outcome, sha256, username)
        columns = ["upn"] + ROLL_FIELDS
        conn.executemany(
            f"INSERT INTO pupils ({', '.join(columns)}, on_roll, first_import_id, updated_import_id) "
            f"VALUES ({', '.join('?' * len(columns))}, 1, {import_id}, {import_id})",
            _as_rows(new, columns),
        )
        old = before.loc[updated.index].drop(columns="id")
        conn.executemany(
            "INSERT INTO pupil_changes (pupil_id, import_id, before) VALUES (?, ?, ?)",
            [(int(pid), import_id, json.dumps(record, default=str))
             for pid, record in zip(before.loc[updated.index, "id"], _records(old))],
        )
        conn.executemany(
            f"UPDATE pupils SET {', '.join(f'{c} = ?' for c in ROLL_FIELDS)}, on_roll = 1, updated_import_id = ? WHERE upn = ?",
            _as_rows(updated.reset_index().assign(import_id=import_id), ROLL_FIELDS + ["import_id", "upn"]),
        )
        _finish_import(conn, outcome, import_id, username)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as comparable text, blank for missing (1 and '1', NA and None compare equal)."""
    return frame.astype("string").fillna("")


def _records(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()} for row in clean.to_dict("records")]
