"""Several exports dropped at once, worked out as a whole.

A batch is put in order before anything is worked out (`default_order`): pupil rolls
first (so the marks' pupils are known), then summary counts, then register marks oldest
first — by the last date each file holds marks for, then, for files reaching the same
date, by the day the report was run when its title says, then by the file's modified
time when known (the command line knows it; a browser does not send it), then as given.
So a week's export goes in before the next week's, and a corrected export of a week after
the first export of it, whatever the files are called.

`plan_batch` works out every file as if the files before it had been imported (a dry run
of the whole batch in one transaction, rolled back), and names the sessions on which two
files disagree (`Conflict`), with the marks in question, so the user can say which file is
newer (a new order) before anything is written. `import_batch` writes the batch in the
order given, in ONE transaction: each file inside it is still all-or-nothing (a rejected
file writes nothing and the others are imported, as the `pastoral import` contract says),
and a batch that fails as a whole (the store busy, the machine stopping) writes nothing.

Marks a later upload corrected are kept unless the user chose otherwise for that file
(`overwrite`, file keys): see importers.Corrections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from core import importers, store
from core.calendar import from_day, to_day, uk_date
from core.importers.results import Detection, Problem, ReadResult
from core.importers.shapes import SHAPES
from core.importers.sheets import UnreadableFile

# Most sessions listed for each pair of files that disagree (the count says how many in all).
MAX_LISTED_CONFLICTS = 50
_GROUPS = {"pupils": 0, "counts": 1, "marks": 2}  # the order of what files store


@dataclass
class BatchFile:
    """One file of a batch: its name, bytes, the column mapping chosen for it (None:
    detected), its modified time (seconds since 1970) when known, and a key naming it
    in the batch (its name when not given)."""

    name: str
    content: bytes
    mapping: importers.ColumnMapping | dict | None = None
    modified: float | None = None
    key: str = ""

    def __post_init__(self):
        self.key = self.key or self.name


@dataclass
class Planned:
    """One file as the batch works it out: what it looks like, what it holds, what importing
    it after the files before it would change (`outcome`), its first rows as cells, the days
    it brings that the store (and the files before it) hold no session for, and why it is
    where it is in the order."""

    file: BatchFile
    detection: Detection
    read: ReadResult
    outcome: importers.FileOutcome
    top: pd.DataFrame
    new_days: list[date] = field(default_factory=list)
    why: str = ""
    last_date: date | None = None
    run_on: date | None = None


@dataclass
class Conflict:
    """Two files of the batch with different marks for the same sessions: `earlier` is
    imported first, so `later`'s marks are the ones kept unless the order changes.
    `marks` lists the sessions in question (Pupil, UPN, Date, Session, each file's mark and
    row); `sessions` counts them all."""

    earlier: str
    later: str
    sessions: int
    marks: pd.DataFrame


@dataclass
class BatchPlan:
    files: list[Planned]
    conflicts: list[Conflict]

    @property
    def order(self) -> list[str]:
        return [p.file.key for p in self.files]


def plan_batch(db: sqlite_utils.Database, files: list[BatchFile], username: str, order: list[str] | None = None,
               overwrite: frozenset[str] = frozenset(), accept_dates: frozenset[str] = frozenset()) -> BatchPlan:
    """Work out the batch in `order` (file keys; None: `default_order`) without writing
    anything: each file's outcome takes the files before it into account. A file's marks on
    days without registers are held unless its key is in `accept_dates` (importers/dates.py)."""
    return _run(db, files, username, order, overwrite, dry_run=True, accept_dates=accept_dates)


def import_batch(db: sqlite_utils.Database, files: list[BatchFile], username: str, order: list[str] | None = None,
                 overwrite: frozenset[str] = frozenset(), dry_run: bool = False, progress=None,
                 accept_dates: frozenset[str] = frozenset()) -> BatchPlan:
    """Import the batch in `order` (None: `default_order`) in one transaction. Files that
    disagree are imported in that order (the later file's marks kept) and each pair is
    named in a warning on the later file, with the first sessions in question.
    `progress(number, total, name)`, when given, is called as each file starts."""
    plan = _run(db, files, username, order, overwrite, dry_run, progress, accept_dates)
    for conflict in plan.conflicts:
        later = next(p for p in plan.files if p.file.key == conflict.later)
        earlier = next(p for p in plan.files if p.file.key == conflict.earlier)
        later.outcome.problems.extend(conflict_warnings(conflict, earlier.file.name, later.file.name))
    return plan


def default_order(planned: list[Planned]) -> list[str]:
    """File keys in the order to import them (see the module's docstring)."""
    def key(item):
        position, p = item
        group = _GROUPS.get(SHAPES[p.read.shape].stores if p.read.shape in SHAPES else "", 3)
        return (group, p.last_date or date.min, p.run_on or date.min, p.file.modified or 0.0, position)

    return [p.file.key for _, p in sorted(enumerate(planned), key=key)]


def conflict_warnings(conflict: Conflict, earlier_name: str, later_name: str) -> list[Problem]:
    """The conflict as warnings on the later file: one line saying what happened, then one per
    session listed."""
    problems = [Problem(None, None, f"{Path(earlier_name).name} and {Path(later_name).name} have different marks "
                        f"for {conflict.sessions:,} session{'s' if conflict.sessions != 1 else ''}; "
                        f"{Path(later_name).name} was taken as the newer (imported after it), so its marks are kept.",
                        "warning")]
    for mark in conflict.marks.head(importers.MAX_LISTED_WARNINGS).itertuples(index=False):
        problems.append(Problem(int(mark.later_row), None, f"{mark.Pupil} ({mark.UPN}), {mark.Date} {mark.Session}: "
                                f"{_mark(mark.earlier_mark)} in {Path(earlier_name).name} (row {mark.earlier_row}), "
                                f"{_mark(mark.later_mark)} here.", "warning"))
    return problems


def why(planned: Planned) -> str:
    """Why a file is where it is in the default order, in words."""
    stores = SHAPES[planned.read.shape].stores if planned.read.shape in SHAPES else None
    if stores == "pupils":
        return "pupil roll: first, so the marks' pupils are known"
    if stores == "counts":
        return "summary counts: before the marks"
    if stores is None:
        return "not importable"
    parts = [f"marks up to {uk_date(planned.last_date)}" if planned.last_date else "no dated marks"]
    if planned.run_on:
        parts.append(f"report run {uk_date(planned.run_on)}")
    if planned.file.modified:
        parts.append(f"file saved {datetime.fromtimestamp(planned.file.modified, timezone.utc):%d/%m/%Y %H:%M} UTC")
    return ", ".join(parts)


# --- working it out ------------------------------------------------------------------------


def _run(db, files: list[BatchFile], username: str, order: list[str] | None, overwrite: frozenset[str],
         dry_run: bool, progress=None, accept_dates: frozenset[str] = frozenset()) -> BatchPlan:
    keys = [f.key for f in files]
    if len(set(keys)) != len(keys):
        raise ValueError("Each file of a batch needs its own key.")
    limit_mb = importers._limit_mb(db)
    planned = [_look(db, f, limit_mb) for f in files]
    by_key = {p.file.key: p for p in planned}
    order = _complete(order, default_order(planned), keys)
    planned = [by_key[k] for k in order]
    made: set[int] = set()
    with store.transaction(db) as conn:
        for number, p in enumerate(planned, start=1):
            if progress is not None:
                progress(number, len(planned), Path(p.file.name).name)
            p.new_days = _new_school_days(db, p.read)
            rule = importers.Corrections(p.file.key in overwrite, frozenset(made))
            # Written (to be rolled back with the rest, for a dry run) so the files after it see
            # its marks; the last file of a dry run has none after it, so it is only diffed.
            last_of_dry_run = dry_run and number == len(planned)
            p.outcome = importers._store(db, p.read, p.file.content, p.file.name, username, last_of_dry_run,
                                         accept_dates=p.file.key in accept_dates, corrections=rule)
            if p.outcome.import_id is not None and p.outcome.status == importers.IMPORTED:
                made.add(p.outcome.import_id)
        conflicts = _conflicts(conn, planned)
        if dry_run:
            raise store.Rollback
    for p in planned:
        p.why = why(p)
        p.outcome.sessions = None  # not kept: a year's marks per file
        if dry_run:
            p.outcome.import_id = None
    if any(len(f.content) > importers.BIG_FILE_BYTES for f in files):
        importers.give_back_memory()
    return BatchPlan(planned, conflicts)


def _complete(order: list[str] | None, default: list[str], keys: list[str]) -> list[str]:
    """The order asked for, keeping only known keys, with any file it leaves out placed as
    the default order places it (at the end)."""
    if order is None:
        return default
    given = [k for k in dict.fromkeys(order) if k in keys]
    return given + [k for k in default if k not in given]


def _look(db, f: BatchFile, limit_mb: float) -> Planned:
    """Open, detect and read one file (its bytes parsed once); nothing is stored."""
    name = Path(f.name).name
    refusal = importers._too_big(db, name, len(f.content))
    try:
        if refusal:
            raise UnreadableFile(refusal.message)
        sheet = importers.open_file(f.content, name, limit_mb)
    except UnreadableFile as error:
        problems = [Problem(getattr(error, "row", None), None, str(error))]
        read = ReadResult(None, problems=problems)
        return Planned(f, Detection(None, None, None, [], [], str(error), list(problems)), read,
                       importers.FileOutcome(f.name, importers.REJECTED), pd.DataFrame())
    detection = importers.detect(sheet, name)
    read = importers._read(sheet, f.name, f.mapping, limit_mb)
    top = sheet.cells.loc[:importers.TOP_ROWS]
    del sheet
    last = run_on = None
    if read.marks is not None and read.marks["date"].notna().any():
        last = read.marks["date"].max().date()
    run_on = read.data_as_at
    return Planned(f, detection, read, importers.FileOutcome(f.name, importers.REJECTED), top,
                   last_date=last, run_on=run_on)


def _new_school_days(db, read: ReadResult) -> list[date]:
    """Days the file has marks for on which the store holds no session yet."""
    from core import marks as marks_table

    if read.marks is None or read.marks.empty or read.errors:
        return []
    days = read.marks["date"].dropna().dt.date.unique()
    if not len(days):
        return []
    stored = set(marks_table.school_session_days(db, to_day(min(days)), to_day(max(days)))["day"])
    return sorted(d for d in days if to_day(d) not in stored)


def _conflicts(conn, planned: list[Planned]) -> list[Conflict]:
    """Each pair of files (in order) with different marks for the same sessions."""
    with_marks = [p for p in planned if p.outcome.sessions is not None and p.outcome.status != importers.REJECTED]
    found = []
    keys = ["pupil_id", "day", "session"]
    for i, earlier in enumerate(with_marks):
        for later in with_marks[i + 1:]:
            both = earlier.outcome.sessions.merge(later.outcome.sessions, on=keys, suffixes=("_earlier", "_later"))
            differ = both[both["code_earlier"].to_numpy() != both["code_later"].to_numpy()]
            if differ.empty:
                continue
            differ = differ.sort_values(["day", "session", "row_later"])
            found.append(Conflict(earlier.file.key, later.file.key, len(differ),
                                  _listed(conn, differ.head(MAX_LISTED_CONFLICTS))))
    return found


def _listed(conn, differ: pd.DataFrame) -> pd.DataFrame:
    ids = sorted({int(p) for p in differ["pupil_id"]})
    pupils = {pid: (upn, f"{surname}, {forename}".strip(", ")) for pid, upn, surname, forename in conn.execute(
        f"SELECT id, upn, surname, forename FROM pupils WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()}
    return pd.DataFrame({
        "Pupil": [pupils.get(int(p), ("", ""))[1] for p in differ["pupil_id"]],
        "UPN": [pupils.get(int(p), ("", ""))[0] for p in differ["pupil_id"]],
        "Date": [uk_date(from_day(int(d))) for d in differ["day"]],
        "Session": [("AM", "PM")[int(s)] for s in differ["session"]],
        "earlier_mark": differ["code_earlier"].to_numpy(dtype=object),
        "earlier_row": differ["row_earlier"].to_numpy(dtype=np.int64),
        "later_mark": differ["code_later"].to_numpy(dtype=object),
        "later_row": differ["row_later"].to_numpy(dtype=np.int64),
    })


def _mark(code) -> str:
    return f"'{code}'" if code else "no mark"


# --- the command line --------------------------------------------------------------------


def import_paths(db: sqlite_utils.Database, paths: list[Path], username: str, dry_run: bool = False,
                 as_given: bool = False, overwrite_corrections: bool = False,
                 accept_dates: bool = False) -> list[importers.FileOutcome]:
    """`pastoral import PATH...`: the files as one batch, in the default order unless
    `as_given`; one outcome per path, in the order given. A file that was moved in the order
    says so in a warning, and files that disagree are named in warnings on the later one.
    A path that cannot be read, or is over the upload limit, is refused before it is read
    (as `importers.import_file` does) and takes no part in the batch."""
    outcomes: dict[str, importers.FileOutcome] = {}
    files = []
    for position, path in enumerate(map(Path, paths)):
        key = str(position)
        try:
            size = path.stat().st_size
            too_big = importers._too_big(db, path.name, size) is not None
            content = None if too_big else path.read_bytes()
            modified = path.stat().st_mtime
        except OSError:
            content = None
        if content is None:
            outcomes[key] = importers.import_file(db, path, username, dry_run=dry_run, accept_dates=accept_dates)
        else:
            files.append(BatchFile(str(path), content, modified=modified, key=key))
    if files:
        given = [f.key for f in files]
        plan = import_batch(db, files, username, order=given if as_given else None,
                            overwrite=frozenset(given) if overwrite_corrections else frozenset(), dry_run=dry_run,
                            accept_dates=frozenset(given) if accept_dates else frozenset())
        for number, p in enumerate(plan.files, start=1):
            if p.file.key != given[number - 1] and p.outcome.status != importers.REJECTED:
                p.outcome.problems.append(Problem(None, None, f"Imported as file {number} of {len(plan.files)} "
                    f"({p.why}): rolls go first, then marks oldest first, whatever the files are called "
                    "(--as-given keeps the order given).", "warning"))
            outcomes[p.file.key] = p.outcome
    return [outcomes[str(position)] for position in range(len(paths))]
