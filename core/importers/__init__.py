"""Importing register exports: read → check codes → match pupils → hand the marks to
core/marks.py (diff against the store, write) → one transaction with the import record.

`import_file` and `import_bytes` are the one way data enters the store. Each file is
all-or-nothing: any error rejects it whole and nothing is written; warnings are listed
and the file imported. Re-importing a file changes nothing; a corrected export replaces
only the marks that changed and records each change (old code → new code, which import);
`undo_last_import` takes the newest import back out. Marks dated after today, on a weekend or
on a non-school day of the saved school calendar are held — the file refused — unless the
user confirms the dates (`accept_dates`; dates.py). Several files at once are worked out
and imported as one batch by core/importers/batch.py. A stored mark that a later import
corrected is kept when a file would change it back, unless the user chooses otherwise
(`Corrections`).

Shapes read (their ids are the `shape` of the import JSON): `long_marks`, `weekly_grid`,
`weekday_grid`, `marks_string`, `pupil_roll`, `summary_counts` (see reading.py and
FORMATS.md). When a file's shape or columns are not recognised, `detect` proposes a
`ColumnMapping`, the user corrects it, and `import_bytes(..., mapping=...)` reads the file
that way; mappings can be saved by name (`save_mapping_profile`) for next week.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from core import codes, marks, schools, store
from core.calendar import LONDON
from core.importers.profiles import delete_mapping_profile, load_mapping_profile, mapping_profiles, save_mapping_profile
from core.importers.pupils import check_text, match_pupils
from core.importers.reading import detect, open_file, read_export, read_with_mapping
from core.importers.results import ColumnMapping, Detection, Problem, ReadResult
from core.importers.dates import hold_marks_on_days_without_registers
from core.importers.sessions import drop_sessions_not_taken
from core.importers.sheets import Sheet, UnreadableFile, give_back_memory
from core.importers.shapes import ROLL_FIELDS, SHAPES, check_academic_years
from core.importers.undo import NothingToUndo, UndoOutcome, undo_last_import

__all__ = [
    "FileOutcome", "Problem", "ReadResult", "ColumnMapping", "Detection", "UndoOutcome", "NothingToUndo",
    "import_file", "import_bytes", "check_bytes", "Check", "give_back_memory", "BIG_FILE_BYTES",
    "read_export", "open_file", "detect", "read_with_mapping", "undo_last_import",
    "save_mapping_profile", "load_mapping_profile", "mapping_profiles", "delete_mapping_profile",
    "IMPORTED", "UNCHANGED", "REJECTED", "Corrections",
]

IMPORTED, UNCHANGED, REJECTED = "imported", "unchanged", "rejected"
UNEXPECTED = ("Pastoral could not read {name} ({error!r}); nothing was imported. Save the report again as CSV or "
              "XLSX and upload that; if it still fails, send the file to your administrator.")
log = logging.getLogger(__name__)

MAX_LISTED_WARNINGS = 20


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
    counts_added: int = 0
    counts_changed: int = 0
    import_id: int | None = None
    corrections_kept: int = 0  # stored marks a later import corrected, which this file would change: kept
    corrections_overwritten: int = 0  # … changed all the same, as the user chose
    pupils_moved: int = 0  # pupils it moves here from another of a trust's schools (schools.plan_moves)
    # The file's sessions as stored keys (pupil_id, day, session, code, row, column), for
    # comparing the files of a batch (core/importers/batch.py); not part of the JSON.
    sessions: pd.DataFrame | None = field(default=None, repr=False)

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


@dataclass(frozen=True)
class Corrections:
    """What to do with stored marks that a correction set (a later import changed the mark
    the first import stored) when a file would change them: by default they are kept and
    the file says so (an older export never silently undoes a correction); `overwrite`
    applies the file all the same. Imports made earlier in the same batch
    (`made_in_batch`) are not "later corrections": the batch's order decides between them."""

    overwrite: bool = False
    made_in_batch: frozenset[int] = frozenset()


KEEP_CORRECTIONS = Corrections()


def import_file(db: sqlite_utils.Database, path: str | Path, username: str, dry_run: bool = False,
                mapping: ColumnMapping | dict | None = None, accept_dates: bool = False,
                overwrite_corrections: bool = False) -> FileOutcome:
    """Validate and store one export file (the CLI's entry point). Too big a file is refused
    before it is read. Marks after today, on weekends or on the school calendar's non-school
    days are held (the file refused) unless `accept_dates` (importers/dates.py)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        return FileOutcome(str(path), REJECTED, problems=[Problem(None, None, f"Cannot open {path}: {error.strerror}.")])
    refusal = _too_big(db, path.name, size)
    if refusal:
        return _rejected(db, str(path), None, 0, [refusal], username, dry_run)
    try:
        content = path.read_bytes()
    except OSError as error:
        return FileOutcome(str(path), REJECTED, problems=[Problem(None, None, f"Cannot read {path}: {error.strerror}.")])
    return import_bytes(db, content, str(path), username, dry_run, mapping, accept_dates, overwrite_corrections)


def import_bytes(db: sqlite_utils.Database, content: bytes, file_name: str, username: str, dry_run: bool = False,
                 mapping: ColumnMapping | dict | None = None, accept_dates: bool = False,
                 overwrite_corrections: bool = False) -> FileOutcome:
    """Validate and store one export given as bytes (the upload screen's entry point)."""
    try:
        refusal = _too_big(db, Path(file_name).name, len(content))
        if refusal:
            return _rejected(db, file_name, None, 0, [refusal], username, dry_run)
        read = _read(content, file_name, mapping, _limit_mb(db))
        return _store(db, read, content, file_name, username, dry_run, accept_dates, Corrections(overwrite_corrections))
    finally:
        if len(content) > BIG_FILE_BYTES:
            give_back_memory()


@dataclass
class Check:
    """A look at one file on its own before it is imported (the upload screen looks at a
    batch instead, batch.plan_batch, which gives the same for each file): what the file looks like
    (`detection`), what it holds read as the mapping says (`read`), what importing it would
    change (`outcome`, a dry run), and its first rows as cells (`top`, for choosing another
    header row)."""

    detection: Detection
    read: ReadResult
    outcome: FileOutcome
    top: pd.DataFrame


TOP_ROWS = 200


def check_bytes(db: sqlite_utils.Database, content: bytes, file_name: str, username: str,
                mapping: ColumnMapping | dict | None = None, accept_dates: bool = False) -> Check:
    """Detect, read and dry-run one file, reading its bytes once (`reading.open_file`)."""
    name = Path(file_name).name
    try:
        refusal = _too_big(db, name, len(content))
        try:
            if refusal:
                raise UnreadableFile(refusal.message)
            sheet = open_file(content, name, _limit_mb(db))
        except UnreadableFile as error:
            problems = [Problem(getattr(error, "row", None), None, str(error))]
            return Check(Detection(None, None, None, [], [], str(error), problems), ReadResult(None, problems=problems),
                         FileOutcome(file_name, REJECTED, problems=list(problems)), pd.DataFrame())
        detection = detect(sheet, name)
        read = _read(sheet, file_name, mapping, _limit_mb(db))
        top = sheet.cells.loc[:TOP_ROWS]
        del sheet
        return Check(detection, read, _store(db, read, content, file_name, username, dry_run=True,
                                             accept_dates=accept_dates), top)
    finally:
        if len(content) > BIG_FILE_BYTES:
            give_back_memory()


# Past this size a file's read is followed by handing its memory back (sheets.give_back_memory).
BIG_FILE_BYTES = 1024 * 1024


def _limit_mb(db) -> float:
    return float(store.get_settings(db)["max_upload_mb"])


def _read(content: bytes | Sheet, file_name: str, mapping, limit_mb: float) -> ReadResult:
    name = Path(file_name).name
    try:
        return read_with_mapping(content, name, mapping, limit_mb)
    except Exception as error:  # a file no reader foresaw: refused, never a crash (nothing is written yet)
        log.exception("Reading %s failed", name)
        return ReadResult(None, problems=[Problem(None, None, UNEXPECTED.format(name=name, error=error))])


def _store(db, read: ReadResult, content: bytes, file_name: str, username: str, dry_run: bool,
           accept_dates: bool = False, corrections: Corrections = KEEP_CORRECTIONS) -> FileOutcome:
    """Check the text and the marks' codes, then import what was read (or only work out what
    importing would change)."""
    name = Path(file_name).name
    check_text(read)  # control characters removed, over-long names and fields refused
    stores = SHAPES[read.shape].stores if read.shape in SHAPES else None
    if stores == "marks" and read.marks is not None:
        _check_codes(db, read)
    if read.errors:
        return _rejected(db, file_name, read.shape, read.rows, read.problems, username, dry_run)

    if stores == "marks":
        check_academic_years(read)  # only for a file that will be imported: the warning says so
    sha256 = hashlib.sha256(content).hexdigest()
    outcome = FileOutcome(file_name, IMPORTED, read.shape, read.rows, problems=list(read.problems))
    if _already_imported(db, sha256, read, outcome):
        pass
    elif stores == "marks":
        _import_marks(db, read, outcome, sha256, username, dry_run, accept_dates, corrections)
    elif stores == "counts":
        _import_counts(db, read, outcome, sha256, username, dry_run)
    else:
        _import_roll(db, read, outcome, sha256, username, dry_run)
    if outcome.status == REJECTED:
        return _rejected(db, file_name, read.shape, read.rows, outcome.problems, username, dry_run)
    if outcome.status == UNCHANGED and not dry_run:
        with store.transaction(db) as conn:
            store.audit(conn, username, "import.unchanged", "file", name, {"sha256": sha256})
    return outcome


def _too_big(db, name: str, size: int) -> Problem | None:
    limit_mb = store.get_settings(db)["max_upload_mb"]
    if size <= float(limit_mb) * 1024 * 1024:
        return None
    return Problem(None, None, f"{name} is {size / 1024 / 1024:.0f} MB; the limit is {limit_mb} MB. "
                   "Export a shorter date range (a term or a week) and upload that.")


def _rejected(db, file_name: str, shape: str | None, rows: int, problems: list[Problem], username: str,
              dry_run: bool) -> FileOutcome:
    if not dry_run:
        with store.transaction(db) as conn:
            store.audit(conn, username, "import.rejected", "file", Path(file_name).name,
                        {"problems": len([p for p in problems if p.severity == "error"])})
    return FileOutcome(file_name, REJECTED, shape, rows, problems=problems)


def _already_imported(db, sha256: str, read: ReadResult, outcome: FileOutcome) -> bool:
    """The very same file is already imported (and not undone): re-importing changes nothing,
    even where a later upload has since corrected its marks."""
    if db.execute("SELECT 1 FROM imports WHERE sha256 = ? AND status = 'imported'", (sha256,)).fetchone() is None:
        return False
    outcome.status = UNCHANGED
    outcome.pupils = len(read.pupils) if read.pupils is not None else 0
    dates = read.marks["date"] if read.marks is not None else (
        pd.concat([read.counts["date_from"], read.counts["date_to"]]) if read.counts is not None else None)
    if dates is not None and dates.notna().any():
        outcome.date_from, outcome.date_to = dates.min().date().isoformat(), dates.max().date().isoformat()
    return True


# --- codes -------------------------------------------------------------------------


def _check_codes(db: sqlite_utils.Database, read: ReadResult) -> None:
    """Map local codes and MIS sub-codes to DfE codes; a mark that is neither rejects the file.

    The school's mapping applies only where the mark is not a DfE code in force on its
    date, so mapping a legacy letter for new data leaves its meaning in older data alone.
    Each distinct (mark, code era) pair is classified once.
    """
    file_marks = read.marks
    if file_marks.empty:
        read.marks = file_marks.assign(code=file_marks["mark"])
        return
    eras = codes.era_of(file_marks["date"])
    n_eras = len(codes.era_boundaries()) + 1
    mark_index, distinct_marks = pd.factorize(file_marks["mark"].fillna(""))
    pair_index, pairs = pd.factorize(mark_index.astype(np.int64) * n_eras + eras)
    pair_marks = pd.Series(np.asarray(distinct_marks, dtype=object)[pairs // n_eras], dtype="string")
    pair_eras = pairs % n_eras
    as_given = codes.classify_by_era(pair_marks, pair_eras)
    mapped = codes.resolve_local_codes(pair_marks, store.code_mappings(db))
    resolved = pair_marks.where(as_given != codes.UNKNOWN, mapped)
    unknown = (codes.classify_by_era(resolved, pair_eras) == codes.UNKNOWN).to_numpy()[pair_index]
    unknown &= file_marks["date"].notna().to_numpy()
    if unknown.any():
        bad = file_marks[unknown]
        for mark, group in bad.groupby(bad["mark"], sort=False):
            read.add_rows(group["row"], group["column"].astype("string"),
                f"Mark '{mark}' is not a DfE code in force on that date and has no local mapping — "
                "add it under Settings → Codes, or correct it in the MIS and export again.")
    read.marks = file_marks.assign(code=resolved.to_numpy(dtype=object)[pair_index])


# --- marks -------------------------------------------------------------------------


def _pupil_ids(conn, read: ReadResult, outcome: FileOutcome, import_id: int | None) -> np.ndarray | None:
    """Stored pupil id of each pupil the file names, adding those it introduces; None (with
    the outcome rejected) when a pupil cannot be matched."""
    match = match_pupils(conn, read)
    outcome.problems.extend(match.problems)
    if any(p.severity == "error" for p in match.problems):
        outcome.status = REJECTED
        return None
    ids = match.ids.copy()
    new = match.new
    outcome.pupils_added = len(new)
    if len(new):
        if import_id is None:  # a dry run: placeholders
            ids[new.index.to_numpy()] = -np.arange(1, len(new) + 1)
        else:
            columns = ["upn", "adno", "mis_id", "surname", "forename", "dob", "gender", "year_group", "nc_year", "form"]
            conn.executemany(
                f"INSERT INTO pupils ({', '.join(columns)}, on_roll, first_import_id, updated_import_id) "
                f"VALUES ({', '.join('?' * len(columns))}, 0, {import_id}, {import_id})",
                store.as_rows(new.drop_duplicates("upn"), columns))
            added = dict(conn.execute("SELECT upn, id FROM pupils WHERE first_import_id = ?", (import_id,)).fetchall())
            ids[new.index.to_numpy()] = new["upn"].map(added).to_numpy(dtype=np.int64)
    return ids


def _import_marks(db, read: ReadResult, outcome: FileOutcome, sha256: str, username: str, dry_run: bool,
                  accept_dates: bool = False, corrections: Corrections = KEEP_CORRECTIONS) -> None:
    file_marks = read.marks
    days = file_marks["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    first, last = file_marks["date"].min(), file_marks["date"].max()
    outcome.pupils = len(read.pupils)
    outcome.date_from, outcome.date_to = first.date().isoformat(), last.date().isoformat()

    # Room for the pages a big import touches (each pupil's, in three B-trees), so they are
    # written once at commit rather than spilled and read back while inserting.
    db.conn.execute(f"PRAGMA cache_size = -{marks.IMPORT_CACHE_KIB}")
    with store.transaction(db) as conn:
        import_id = None if dry_run else _new_import(conn, outcome, sha256, username, read)
        ids = _pupil_ids(conn, read, outcome, import_id)
        if ids is None:
            raise store.Rollback
        incoming = pd.DataFrame({
            "row": file_marks["row"].to_numpy(), "column": file_marks["column"],
            "pupil_id": ids[file_marks["pupil"].to_numpy()], "day": days,
            "session": file_marks["session"].to_numpy(dtype=np.int64), "code": file_marks["code"].to_numpy(dtype=object),
            "minutes_late": file_marks["minutes_late"].array,
        })
        if _same_pupil_twice(incoming, outcome):
            raise store.Rollback
        incoming = drop_sessions_not_taken(conn, incoming, read.data_as_at, outcome.problems)
        incoming, held = hold_marks_on_days_without_registers(conn, incoming, accept_dates, outcome.problems)
        if held:
            outcome.status = REJECTED
            raise store.Rollback
        moving, incoming = _pupils_at_other_schools(conn, incoming, outcome)
        if incoming.empty:
            outcome.status = UNCHANGED
            raise store.Rollback
        outcome.sessions = incoming[["pupil_id", "day", "session", "code", "row", "column"]]
        found = marks.diff(conn, incoming, int(days.min()), int(days.max()))
        found = _corrections(conn, read, found, outcome, corrections)
        _warn_closure_days(conn, incoming, found, outcome)
        outcome.marks_added, outcome.marks_changed = len(found.added), len(found.changed)
        outcome.status = IMPORTED if (len(found.added) or len(found.changed)) else UNCHANGED
        if dry_run or outcome.status == UNCHANGED:
            raise store.Rollback
        marks.write(conn, import_id, found)
        schools.record_moves(conn, moving, import_id, username)
        _finish_import(conn, outcome, import_id, username)


def _pupils_at_other_schools(conn, incoming: pd.DataFrame, outcome: FileOutcome
                             ) -> tuple[schools.PlannedMoves, pd.DataFrame]:
    """On an import routed to one of a trust's schools: the pupils it names who are at another
    school, whether it moves them here (schools.plan_moves), and the file's marks kept for them
    — each said as a warning. A pupil arrives on their first session in the file with a mark
    other than 'Z' (not yet on roll) or 'D' (dual registered, at the other school).

    The pupil's one record keeps every school's registers: a 'Z', 'D' or missing mark here,
    before they arrived (or at all, for a pupil this file does not move), is not this school's
    to give, so it never replaces their old school's mark; and for a pupil who moved away, the
    old school's marks dated on or after the move are not imported (the new school's registers
    are theirs from that day).

    A pupil dual registered at another of the trust's schools (its register marks them 'D' this
    academic year) stays that school's pupil, and its register is kept whole: this file's marks
    for them are not imported. The pupil's one record holds one register, and DOMAIN.md counts
    a 'D' session as not possible for the school that records it — this file's mark for the
    same session would count it."""
    target = schools.routed_school(conn)
    if target is None:
        return schools.PlannedMoves(), incoming
    elsewhere = schools.pupils_elsewhere(conn, incoming["pupil_id"].to_numpy(), target)
    if not elsewhere:  # the usual case: every pupil named is at this school already
        return schools.PlannedMoves(target), incoming
    dual = schools.dual_registered(conn, elsewhere, int(incoming["day"].min()), int(incoming["day"].max()))
    if dual:
        kept = ~incoming["pupil_id"].isin(list(dual)).to_numpy()
        outcome.problems.append(Problem(None, None, schools.dual_registered_warning(conn, dual, int((~kept).sum())),
                                        "warning"))
        incoming, elsewhere = incoming[kept], elsewhere - dual
        if not elsewhere:
            return schools.PlannedMoves(target), incoming
    theirs = incoming["pupil_id"].isin(list(elsewhere)).to_numpy()
    code = incoming["code"].astype(object)
    empty = (code.isna() | code.isin(["", *schools.NOT_ARRIVED])).to_numpy()
    real = incoming[theirs & ~empty]
    first = real.sort_values(["day", "session"]).groupby("pupil_id", sort=False).first()
    arrivals = pd.DataFrame({"pupil_id": first.index.to_numpy(dtype=np.int64),
                             "arrived": [_date(d).date() for d in first["day"]], "row": first["row"].to_numpy()})
    planned = schools.plan_moves(conn, arrivals)
    outcome.pupils_moved = len(planned.moving)
    outcome.problems.extend(Problem(int(row), None, text, "warning") for row, text in planned.warnings)

    def as_day(value) -> int:
        return int(np.datetime64(value, "D").astype(np.int64))

    never = 1 << 40  # a day number later than any date
    arrived = {int(p): as_day(a) for p, a in zip(planned.moving["pupil_id"], planned.moving["arrived"])}
    moved_away = {int(p): as_day(date.fromisoformat(d)) for p, d in conn.execute(
        "SELECT pupil_id, MAX(moved_on) FROM pupil_moves WHERE pupil_id IN (SELECT value FROM json_each(?)) "
        "GROUP BY pupil_id", (schools.json_ids(elsewhere),)).fetchall()}
    pupil, day = incoming["pupil_id"], incoming["day"].to_numpy()
    arrival_day = pupil.map(arrived)
    moving = arrival_day.notna().to_numpy() & theirs
    staying = theirs & ~moving
    before_arrival = day < arrival_day.fillna(0).to_numpy(dtype=np.int64)
    after_leaving = day >= pupil.map(moved_away).fillna(never).to_numpy(dtype=np.int64)
    dropped = (moving & empty & before_arrival) | (staying & (empty | after_leaving))
    if dropped.any():
        count = int(dropped.sum())
        outcome.problems.append(Problem(None, None, f"{count:,} mark{'s' if count != 1 else ''} in this file for "
            "pupils at another of the trust's schools (not yet on roll here, dual registered, missing, or dated after "
            "they moved away) were not imported: their own school's registers are kept.", "warning"))
    return planned, incoming[~dropped]


def _corrections(conn, read: ReadResult, found: marks.Diff, outcome: FileOutcome, rule: Corrections) -> marks.Diff:
    """Stored marks that a later import corrected and this file would change: listed as
    warnings, and kept as they are unless the user chose to overwrite them.

    A file whose data is as at a later day than the correcting import's is newer than the
    correction and changes those marks like any other: "as at" is the report's run date
    when its title gives one, else the last date it holds marks for (imports.data_as_at is
    kept the same way). So next week's export, reaching past a corrected week, is newer; an
    export of the corrected week itself is not."""
    hits = marks.corrections_in_the_way(conn, found.changed)
    hits = hits[~hits["correction_import_id"].isin(list(rule.made_in_batch))]
    as_at = read.data_as_at or read.marks["date"].max().date()
    hits = hits[~(hits["correction_as_at"].astype(str) < as_at.isoformat())]
    if hits.empty:
        return found
    changed = found.changed.iloc[hits["position"].to_numpy()]
    names = {pid: (upn, f"{surname}, {forename}".strip(", ")) for pid, upn, surname, forename in conn.execute(
        "SELECT id, upn, surname, forename FROM pupils WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted({int(p) for p in changed["pupil_id"]})),)).fetchall()}
    count = len(hits)
    if rule.overwrite:
        outcome.corrections_overwritten = count
        outcome.problems.append(Problem(None, None, f"{count:,} mark{'s' if count != 1 else ''} in this file "
            "overwrite corrections that a later upload made (listed below), as you chose.", "warning"))
    else:
        outcome.corrections_kept = count
        outcome.problems.append(Problem(None, None, f"{count:,} mark{'s' if count != 1 else ''} in this file would "
            "undo corrections that a later upload made (listed below): the corrections are kept and these marks are "
            "not imported. If this file is the newer one, choose to apply it over the corrections (on the Upload "
            "screen, or `pastoral import --overwrite-corrections`).", "warning"))
        found = marks.without(found, hits["position"].to_numpy())
    for (_, mark), (_, hit) in itertools.islice(zip(changed.iterrows(), hits.iterrows()), MAX_LISTED_WARNINGS):
        upn, name = names.get(int(mark["pupil_id"]), ("", ""))
        day = pd.Timestamp(np.datetime64(int(mark["day"]), "D"))
        outcome.problems.append(Problem(int(mark["row"]), str(mark["column"]),
            f"{name} ({upn}), {day:%d/%m/%Y} {('AM', 'PM')[int(mark['session'])]}: this file has {_mark(mark['code'])}; "
            f"{hit['correction_file']} (uploaded {_when(hit['corrected_at'])}) corrected {_mark(hit['replaced_code'])} "
            f"to {_mark(mark['old_code'])}" + (" — overwritten." if rule.overwrite else " — the correction is kept."),
            "warning"))
    if count > MAX_LISTED_WARNINGS:
        outcome.problems.append(Problem(None, None, f"… and {count - MAX_LISTED_WARNINGS:,} more marks that a later "
                                        "upload corrected.", "warning"))
    return found


def _mark(code) -> str:
    return f"'{code}'" if code else "no mark"


def _when(stamp: str) -> str:
    """A stored UTC timestamp as London time (dd/mm/yyyy HH:MM)."""
    try:
        return f"{datetime.fromisoformat(stamp).astimezone(LONDON):%d/%m/%Y %H:%M}"
    except (TypeError, ValueError):
        return str(stamp)


def _same_pupil_twice(incoming: pd.DataFrame, outcome: FileOutcome) -> bool:
    """Two rows naming one stored pupil in different ways (a UPN here, an admission number
    there) with marks for the same session: an error, as within a file."""
    key = pd.Series(incoming["pupil_id"].to_numpy() * 400_000 + (incoming["day"].to_numpy() + 100_000) * 2
                    + incoming["session"].to_numpy())
    repeat = key.duplicated(keep="first").to_numpy()
    if not repeat.any():
        return False
    first_row = incoming["row"].groupby(key.to_numpy()).transform("first").to_numpy()
    for index in np.flatnonzero(repeat)[:MAX_LISTED_WARNINGS]:
        mark = incoming.iloc[index]
        day = pd.Timestamp(np.datetime64(int(mark["day"]), "D"))
        outcome.problems.append(Problem(int(mark["row"]), str(mark["column"]),
            f"This row and row {int(first_row[index])} are the same pupil, named two ways, with marks for the "
            f"{('AM', 'PM')[int(mark['session'])]} session on {day:%d/%m/%Y}."))
    outcome.status = REJECTED
    return True


def _warn_closure_days(conn, incoming: pd.DataFrame, found: marks.Diff, outcome: FileOutcome) -> None:
    """A warning for each mark other than '#' on a session that is a planned closure ('#')
    for everyone else (marks.marks_on_closure_days)."""
    flagged = marks.marks_on_closure_days(conn, incoming, found)
    for _, mark in flagged.head(MAX_LISTED_WARNINGS).iterrows():
        day = pd.Timestamp(np.datetime64(int(mark["day"]), "D"))
        outcome.problems.append(Problem(int(mark["row"]), str(mark["column"]),
            f"Mark '{mark['code']}' for the {('AM', 'PM')[int(mark['session'])]} session on {day:%d/%m/%Y}, when the "
            "school was closed for everyone else ('#', planned closure); imported as it is — check the register.",
            "warning"))
    if len(flagged) > MAX_LISTED_WARNINGS:
        outcome.problems.append(Problem(None, None, f"… and {len(flagged) - MAX_LISTED_WARNINGS} more marks on "
                                        "closure days.", "warning"))


def _new_import(conn, outcome: FileOutcome, sha256: str, username: str, read: ReadResult) -> int:
    data_as_at = read.data_as_at.isoformat() if read.data_as_at else outcome.date_to
    cursor = conn.execute(
        "INSERT INTO imports (file_name, sha256, shape, rows, pupils, date_from, date_to, data_as_at, imported_by, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (Path(outcome.file).name, sha256, outcome.shape, outcome.rows, outcome.pupils,
         outcome.date_from, outcome.date_to, data_as_at, username, store.now()),
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
        "pupils_updated": outcome.pupils_updated, "counts_added": outcome.counts_added,
        "counts_changed": outcome.counts_changed, "corrections_kept": outcome.corrections_kept,
        "corrections_overwritten": outcome.corrections_overwritten,
        **({"pupils_moved": outcome.pupils_moved} if outcome.pupils_moved else {})})


# --- pupil roll --------------------------------------------------------------------

_ROLL_DEFAULTS = {"adno": "", "mis_id": "", "surname": "", "forename": "", "gender": "", "year_group": "", "nc_year": None,
                  "form": "", "pp": 0, "fsm": 0, "sen": "N", "eal": 0, "cla": 0}


def _import_roll(db, read: ReadResult, outcome: FileOutcome, sha256: str, username: str, dry_run: bool) -> None:
    """Pupils matched by UPN. Only the fields the file holds are compared and updated; each
    updated pupil's previous details are kept in pupil_changes (for the record and for undo)."""
    fields = list(read.roll_fields)
    incoming = read.pupils.drop(columns="row")
    incoming = incoming.assign(**{k: v for k, v in _ROLL_DEFAULTS.items() if k not in incoming.columns})
    outcome.pupils = len(incoming)
    with store.transaction(db) as conn:
        stored = store.pupils_frame(db, contacts=True).set_index("upn")
        is_new = ~incoming["upn"].isin(stored.index)
        new = incoming[is_new]
        existing = incoming[~is_new].set_index("upn")
        before = stored.loc[existing.index]
        moving = _roll_moves(conn, read, existing, before, outcome)
        differs = (_as_text(existing[fields]) != _as_text(before[fields])).any(axis=1) | (before["on_roll"] != 1)
        differs = (differs | before["id"].isin(list(moving.moving_ids))) & ~before["id"].isin(list(moving.staying))
        updated = existing[differs]
        outcome.pupils_added, outcome.pupils_updated = len(new), len(updated)
        outcome.status = IMPORTED if (len(new) or len(updated)) else UNCHANGED
        if dry_run or outcome.status == UNCHANGED:
            raise store.Rollback
        import_id = _new_import(conn, outcome, sha256, username, read)
        columns = ["upn"] + list(ROLL_FIELDS)
        conn.executemany(
            f"INSERT INTO pupils ({', '.join(columns)}, on_roll, first_import_id, updated_import_id) "
            f"VALUES ({', '.join('?' * len(columns))}, 1, {import_id}, {import_id})",
            store.as_rows(new, columns),
        )
        previous = db.execute("SELECT upn, updated_import_id FROM pupils").fetchall()
        previous_import = dict(previous)
        old = before.loc[updated.index, list(ROLL_FIELDS) + ["on_roll"]]
        conn.executemany(
            "INSERT INTO pupil_changes (pupil_id, import_id, before) VALUES (?, ?, ?)",
            [(int(pid), import_id, json.dumps({**record, "updated_import_id": previous_import.get(upn)}, default=str))
             for pid, upn, record in zip(before.loc[updated.index, "id"], updated.index, _records(old))],
        )
        conn.executemany(
            f"UPDATE pupils SET {''.join(f'{c} = ?, ' for c in fields)}on_roll = 1, updated_import_id = ? WHERE upn = ?",
            store.as_rows(updated.reset_index().assign(import_id=import_id), fields + ["import_id", "upn"]),
        )
        schools.record_moves(conn, moving, import_id, username)
        _finish_import(conn, outcome, import_id, username)


def _roll_moves(conn, read: ReadResult, existing: pd.DataFrame, before: pd.DataFrame,
                outcome: FileOutcome) -> schools.PlannedMoves:
    """On a roll routed to one of a trust's schools: the pupils it lists who are at another
    school, moved here from their entry date (schools.plan_moves); those it does not move keep
    their details as their own school's roll gave them. A pupil dual registered there (its
    register marks them 'D' in the year of the store's latest marks) is never moved by a roll:
    the other school lists them on its roll too."""
    target = schools.routed_school(conn)
    if target is None or existing.empty:
        return schools.PlannedMoves()
    latest = conn.execute("SELECT MAX(day) FROM marks").fetchone()[0]
    elsewhere = schools.pupils_elsewhere(conn, before["id"].to_numpy(), target)
    dual = schools.dual_registered(conn, elsewhere, latest, latest) if latest is not None and elsewhere else set()
    rows = read.pupils.groupby("upn")["row"].first()
    dated = "entry_date" in read.roll_fields
    arrivals = pd.DataFrame({
        "pupil_id": before["id"].to_numpy(dtype=np.int64),
        "arrived": [pd.Timestamp(d).date() if dated and isinstance(d, str) and d else None
                    for d in (existing["entry_date"] if dated else [None] * len(existing))],
        "row": rows.reindex(existing.index).to_numpy(),
    })
    planned = schools.plan_moves(conn, arrivals[~arrivals["pupil_id"].isin(list(dual))], roll_without_dates=not dated)
    if dual:
        planned.staying |= dual
        outcome.problems.append(Problem(None, None, schools.dual_registered_warning(conn, dual, None), "warning"))
    outcome.pupils_moved = len(planned.moving)
    outcome.problems.extend(Problem(int(row), None, text, "warning") for row, text in planned.warnings)
    return planned


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as comparable text, blank for missing (1 and '1', NA and None compare equal)."""
    return frame.astype("string").fillna("")


def _records(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()} for row in clean.to_dict("records")]


# --- per-pupil summary counts ------------------------------------------------------

COUNT_COLUMNS = {"possible": "possible_sessions", "attendance": "attendance_sessions",
                 "authorised": "authorised_sessions", "unauthorised": "unauthorised_sessions"}


def _import_counts(db, read: ReadResult, outcome: FileOutcome, sha256: str, username: str, dry_run: bool) -> None:
    """Summary counts, kept only for dates the store has no marks for (patterns need marks;
    counts never become invented marks). A changed count supersedes the stored one."""
    counts = read.counts
    outcome.pupils = len(read.pupils)
    outcome.date_from = counts["date_from"].min().date().isoformat()
    outcome.date_to = counts["date_to"].max().date().isoformat()
    with store.transaction(db) as conn:
        for (start, end), group in counts.groupby(["date_from", "date_to"]):
            low, high = marks.first_and_last_marked_days(conn, _day(start), _day(end))
            if low is not None:
                outcome.problems.append(Problem(int(group["row"].iloc[0]), None,
                    f"The store already holds marks from {_date(low):%d/%m/%Y} to {_date(high):%d/%m/%Y}, inside "
                    f"these counts' dates ({start:%d/%m/%Y} to {end:%d/%m/%Y}). Summary counts are kept only for dates "
                    "with no marks — export the counts for the dates before the marks begin."))
        if outcome.problems and any(p.severity == "error" for p in outcome.problems):
            outcome.status = REJECTED
            raise store.Rollback
        import_id = None if dry_run else _new_import(conn, outcome, sha256, username, read)
        ids = _pupil_ids(conn, read, outcome, import_id)
        if ids is None:
            raise store.Rollback
        incoming = pd.DataFrame({
            "pupil_id": ids[counts["pupil"].to_numpy()],
            "date_from": counts["date_from"].dt.strftime("%Y-%m-%d").to_numpy(),
            "date_to": counts["date_to"].dt.strftime("%Y-%m-%d").to_numpy(),
            **{column: counts[meaning].to_numpy(dtype=np.int64) for meaning, column in COUNT_COLUMNS.items()},
        })
        stored = pd.DataFrame(conn.execute(
            f"SELECT id, pupil_id, date_from, date_to, {', '.join(COUNT_COLUMNS.values())} FROM summary_counts "
            "WHERE superseded_by IS NULL").fetchall(), columns=["id", "pupil_id", "date_from", "date_to",
                                                                *COUNT_COLUMNS.values()])
        merged = incoming.merge(stored.astype({"pupil_id": "int64"}), on=["pupil_id", "date_from", "date_to"],
                                how="left", suffixes=("", "_old"))
        is_new = merged["id"].isna()
        differs = pd.concat([merged[c] != merged[f"{c}_old"] for c in COUNT_COLUMNS.values()], axis=1).any(axis=1)
        changed = merged[~is_new & differs]
        outcome.counts_added, outcome.counts_changed = int(is_new.sum()), len(changed)
        outcome.status = IMPORTED if (outcome.counts_added or outcome.counts_changed) else UNCHANGED
        if dry_run or outcome.status == UNCHANGED:
            raise store.Rollback
        conn.executemany("UPDATE summary_counts SET superseded_by = ? WHERE id = ?",
                         [(import_id, int(i)) for i in changed["id"]])
        columns = ["pupil_id", "date_from", "date_to", *COUNT_COLUMNS.values()]
        conn.executemany(
            f"INSERT INTO summary_counts ({', '.join(columns)}, import_id) VALUES ({', '.join('?' * len(columns))}, ?)",
            store.as_rows(pd.concat([merged[is_new], changed])[columns].assign(import_id=import_id), columns + ["import_id"]))
        _finish_import(conn, outcome, import_id, username)


def _day(timestamp: pd.Timestamp) -> int:
    return int(np.datetime64(timestamp.date(), "D").astype(np.int64))


def _date(day: int):
    return pd.Timestamp(np.datetime64(int(day), "D"))
