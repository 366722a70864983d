"""The one road from the store to a screen, a meeting, a report or a letter: cached reads.

Every cached read takes the database path and `version` (the last import id plus the
settings and code-map stamps), so an upload, an undo or a settings change gives fresh
figures and nothing else recomputes. Reads of case work are keyed on `case_version` as
well (case writes do not change `version`). A read opens a connection and closes it; the
stamps alone (`version`, `case_version`, `school_count`: asked for several times a run) go
through one connection each thread keeps (`stamp_reader`, which says why that is safe).
Scoping to a head of section's pupils happens after the cache (cheap, and one cached frame
serves every user).

A cached read never writes: the history of triggers shown is kept by its callers
(`triggers.record_shown`), outside the cache.

Each cache holds a few recent results (least recently used goes first) and is safe to use
from the app's threads: one thread computes a result while others asking for the same wait
for it. A frame handed out is a shallow copy (pandas copy-on-write: a caller changing it
changes only its own copy); `scope_marks` is the exception, one shared object, because a
trust's read holds millions of marks. `clear()` empties every cache (tests, benches).
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections import OrderedDict
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, benchmarks, calendar, cases, codes, early_warning, lateness, metrics, patterns, schools, scope, store, triggers
from core import summary_counts
from core import marks as marks_table
from core import impact as action_impact  # `impact` below is the cached read of it
from core import data_quality as data_quality_lists
from core import school_calendar as school_calendar_store

Version = tuple

_CACHES: list["_Cache"] = []


class _Cache:
    """A function's recent results, keyed on its arguments (defaults filled in)."""

    def __init__(self, function, max_entries: int, shared: bool):
        self.function = function
        self.signature = inspect.signature(function)
        self.max_entries = max_entries
        self.shared = shared
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.computing: dict = {}  # key → the lock held while one thread computes it
        functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = tuple(bound.arguments.values())
        found, value = self._get(key)
        if not found:
            with self.lock:
                computing = self.computing.setdefault(key, threading.Lock())
            with computing:
                found, value = self._get(key)
                if not found:
                    try:
                        value = self.function(*bound.args, **bound.kwargs)
                        self._put(key, value)
                    finally:
                        with self.lock:
                            self.computing.pop(key, None)
        return value if self.shared else _handed_out(value)

    def held(self, *args, **kwargs):
        """The result for these arguments if one is held now (never computed here), else None."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        found, value = self._get(tuple(bound.arguments.values()))
        return (value if self.shared else _handed_out(value)) if found else None

    def _get(self, key):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return True, self.entries[key]
        return False, None

    def _put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def _cached(max_entries: int, shared: bool = False):
    def wrap(function):
        cache = _Cache(function, max_entries, shared)
        _CACHES.append(cache)
        return cache
    return wrap


def _handed_out(value):
    """What a caller gets: frames as shallow copies, dicts and lists as new containers."""
    if isinstance(value, pd.DataFrame):
        return value.copy(deep=False)
    if isinstance(value, dict):
        return {k: _handed_out(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_handed_out(v) for v in value]
    return value


def clear() -> None:
    """Forget every cached read (tests and benches measuring a cold read)."""
    for cache in _CACHES:
        cache.clear()


# --- where the store is, and which version of its data ----------------------------------------


def db_path() -> str:
    """The app's store ($PASTORAL_DB, else var/pastoral.db), as a full path: the key of its
    cached reads, the same whether a screen or a core function given a connection asks."""
    return os.path.realpath(store.default_path())


def path_of(db: sqlite_utils.Database) -> str:
    """The file of an open store (full path), for core functions given a connection."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            return os.path.realpath(file)
    raise ValueError("The store is not a file, so its reads cannot be cached.")


class _Held:
    """A thread's stamp connection and the file it reads, closed when the thread ends (its
    thread-local state is let go in that thread) or when the file at its path changes."""

    def __init__(self, file: tuple, db: sqlite_utils.Database):
        self.file, self.db = file, db

    def __del__(self):
        try:
            self.db.conn.close()
        except Exception:  # noqa: BLE001 — already closed, or the interpreter is shutting down
            pass


_STAMP_READER = threading.local()


def stamp_reader(path: str | None = None) -> sqlite_utils.Database:
    """The connection `version`, `case_version` and `school_count` read their stamps through:
    kept by each thread for its life (in the app, a thread runs one screen's run and its reruns,
    and a run asks for these stamps several times), where every other read opens its own.

    Safe to keep because each stamp is a single-row read (COUNT, MAX, a LIMIT 1, a
    group_concat), read whole: SQLite ends the statement, so no read snapshot outlives it and
    the next stamp sees every commit made meanwhile. Nothing is written through it. A store
    file replaced at the same path (another file there now) gets a new connection."""
    path = os.path.realpath(path or db_path())
    try:
        status = os.stat(path)
        file = (path, status.st_dev, status.st_ino)
    except FileNotFoundError:
        file = None
    held = getattr(_STAMP_READER, "held", None)
    if file is None or held is None or held.file != file:
        _STAMP_READER.held = None  # closes the one held
        db = store.connect(path)
        if file is None:  # created just now
            status = os.stat(path)
            file = (path, status.st_dev, status.st_ino)
        _STAMP_READER.held = held = _Held(file, db)
    return held.db


def version(path: str | None = None) -> Version:
    """Changes whenever the figures, patterns or triggers could change."""
    db = stamp_reader(path)
    settings_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM settings").fetchone()
    codes_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM code_map").fetchone()
    national_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM national_figures").fetchone()
    # The schools' own settings (issue 18).
    school_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM school_settings").fetchone()
    # The school calendar is a few dozen rows a school: the rows themselves are its stamp.
    calendar_stamp = db.execute(
        "SELECT (SELECT group_concat(school_id || first_day || last_day || name, '|') FROM school_terms), "
        "(SELECT group_concat(school_id || day || kind || label, '|') FROM non_school_days)").fetchone()
    # A trust's schools and the pupils who moved between them (issue 18): which school sees whom.
    schools_stamp = db.execute(
        "SELECT (SELECT group_concat(id || name || dfe_number || hub, '|') FROM schools), "
        "(SELECT COUNT(*) || '.' || IFNULL(MAX(id), 0) FROM pupil_moves)").fetchone()
    changes = db.execute("SELECT changes FROM read_stamp WHERE id = 1").fetchone()[0]  # to the change, not the second
    return (store.last_import_id(db), *settings_stamp, *codes_stamp, *national_stamp, *calendar_stamp,
            *school_stamp, *schools_stamp, changes)


def case_version(path: str | None = None) -> int:
    """Changes whenever case work is written (the newest audit entry of case work)."""
    return cases.stamp(stamp_reader(path))


def school_count(path: str | None = None) -> int:
    """How many schools the store holds (a trust's store: more than one)."""
    return schools.count(stamp_reader(path))


def _ids(pupil_ids: tuple[int, ...] | None) -> list[int] | None:
    return None if pupil_ids is None else list(pupil_ids)


# --- the store's settings, pupils and imports ----------------------------------------------------


@_cached(max_entries=8)
def settings(path: str, version: Version, school_id: int | None = None) -> dict:
    """store.get_settings: the store's (school 1's), or a school's own over them."""
    with store.opened(path) as db:
        return store.get_settings(db, school_id)


@_cached(max_entries=8)
def national_figures(path: str, version: Version) -> pd.DataFrame:
    """The national figures shown beside the school's (core/benchmarks.py), as stored."""
    with store.opened(path) as db:
        return benchmarks.national_figures(db)


@_cached(max_entries=8)
def mark_span(path: str, version: Version) -> tuple[date, date] | None:
    with store.opened(path) as db:
        return marks_table.mark_date_range(db)


@_cached(max_entries=8)
def pupils(path: str, version: Version, school_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Every stored pupil (for search), with their section; only the pupils of `school_ids`
    (school_scope), in the same order, when given."""
    with store.opened(path) as db:
        frame = store.pupils_frame(db, pupil_ids=None if school_ids is None else schools.pupil_ids_of(db, school_ids))
        sections = store.section_of_year_groups(store.get_settings(db))
    return frame.assign(section=frame["year_group"].map(sections).fillna(""))


@_cached(max_entries=8)
def imports(path: str, version: Version) -> pd.DataFrame:
    """The imports history, newest first."""
    with store.opened(path) as db:
        rows = db.execute(
            "SELECT id, file_name, shape, rows, pupils, pupils_added, pupils_updated, marks_added, marks_changed, "
            "date_from, date_to, data_as_at, imported_by, imported_at, status FROM imports ORDER BY id DESC"
        ).fetchall()
    columns = ["id", "file_name", "shape", "rows", "pupils", "pupils_added", "pupils_updated", "marks_added",
               "marks_changed", "date_from", "date_to", "data_as_at", "imported_by", "imported_at", "status"]
    return pd.DataFrame(rows, columns=columns)


def last_upload(path: str, version: Version) -> dict | None:
    """The newest import still in force: file, who, when, data as at."""
    history = imports(path, version)
    live = history[history["status"] == "imported"]
    return None if live.empty else live.iloc[0].to_dict()


@_cached(max_entries=8)
def school_of_pupils(path: str, version: Version) -> pd.Series:
    """Pupil id → school id (core/schools.py), for scoping frames without a school column."""
    with store.opened(path) as db:
        return schools.school_of_pupils(db)


def scoped(frame: pd.DataFrame, user: auth.User, path: str, version: Version) -> pd.DataFrame:
    """Only the pupils this user may see (their school's on a trust's store; a head of
    section: their sections)."""
    school_of = None if getattr(user, "school_ids", None) is None else school_of_pupils(path, version)
    return auth.scope_pupils(frame, user, settings(path, version), school_of)


def scoped_pupil_ids(user: auth.User, path: str, version: Version) -> tuple[int, ...] | None:
    """Pupil ids a head of section may see; None means every pupil."""
    if user.sees_all_pupils:
        return None
    return tuple(int(i) for i in scoped(pupils(path, version, school_scope(user)), user, path, version)["id"])


# --- a school's reads: only its pupils computed -----------------------------------------------


def school_scope(user: auth.User | None) -> tuple[int, ...] | None:
    """The schools whose pupils a user's screens read (their school on a trust's store; a hub
    lead's schools); None: every school (a one-school store, a trust-wide user). The reads
    that take it compute only those schools' pupils, each figure the same as in every
    pupil's read."""
    school_ids = getattr(user, "school_ids", None)
    return None if school_ids is None else tuple(sorted(int(s) for s in school_ids))


def school_pupil_ids(path: str, version: Version, school_ids: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The pupils of these schools, in the order `scoped_pupil_ids` gives a school's user
    (None: every pupil)."""
    if school_ids is None:
        return None
    return tuple(int(i) for i in pupils(path, version, school_ids)["id"])


def _schools_of(path: str, version: Version, pupil_ids: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The schools of a scope's pupils, for reading only them (None: every school — a scope
    reaching every school holding pupils, or a one-school store)."""
    if pupil_ids is None:
        return None
    school_of = school_of_pupils(path, version)
    held = school_of.unique()
    if len(held) <= 1:
        return None
    found = pd.unique(school_of.reindex(list(pupil_ids)).dropna().astype("int64"))
    return None if len(found) == len(held) else tuple(sorted(int(s) for s in found))


# --- figures and triggers ------------------------------------------------------------------------


@_cached(max_entries=32)
def pupil_figures(path: str, version: Version, date_from: date, as_of: date,
                  school_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Every pupil with a mark in the period, with their figures (metrics.pupil_figures); only
    the pupils of `school_ids` (school_scope), computed for them alone, when given."""
    with store.opened(path) as db:
        ids = None if school_ids is None else schools.pupil_ids_of(db, school_ids)
        return metrics.pupil_figures(db, metrics.Period(date_from, as_of), ids)


def figures_of_pupils(path: str, version: Version, date_from: date, as_of: date,
                      pupil_ids) -> pd.DataFrame:
    """pupil_figures of these pupils only (None: every pupil), in the cached read's order,
    computed for their schools alone: a report or letter for one school's pupils on a
    trust's store does not work out every school's figures first."""
    if pupil_ids is None:
        return pupil_figures(path, version, date_from, as_of)
    wanted = tuple(int(p) for p in pupil_ids)
    figures = pupil_figures(path, version, date_from, as_of, _schools_of(path, version, wanted))
    return figures[figures["pupil_id"].isin(wanted)]


@_cached(max_entries=16)
def triggers_reached(path: str, version: Version, as_of: date,
                     school_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """triggers.reached, from the cached read of every pupil's marks (shared with the year's
    per-pupil patterns when the look-back holds no earlier marks); only the pupils of
    `school_ids` (school_scope), read for them alone, when given. Writes nothing: the
    screens record the triggers they show (triggers.record_shown) themselves."""
    ids = school_pupil_ids(path, version, school_ids)
    with store.opened(path) as db:
        kept = triggers.kept(db, repr(version), as_of)  # worked out after the import (keep_triggers)
        if kept is not None:
            return kept if ids is None else kept[kept["pupil_id"].isin(list(ids))].reset_index(drop=True)
        first_day, last_day = triggers.marks_needed(db, as_of)
        # The scope's whole read when a view has made it already; else only the marks of the
        # pupils with enough unauthorised or illness sessions to reach a trigger (the same
        # triggers found: the others cannot reach one), not kept for other views.
        read = scope_marks.held(path, version, first_day, last_day, ids)
        might = None
        if read is None:
            figures = pupil_figures(path, version, calendar.from_day(first_day), calendar.from_day(last_day),
                                    school_ids)
            might = triggers.might_reach_from_figures(db, figures if ids is None else
                                                      figures[figures["pupil_id"].isin(ids)])
            if might is None:
                might = triggers.might_reach(db, as_of, _ids(ids))
    if read is None and might is None:
        read = scope_marks(path, version, first_day, last_day, ids)
    elif read is None:
        read = _scope_read(path, version, first_day, last_day, tuple(might), school_ids)
    with store.opened(path) as db:
        return triggers.reached_from(db, as_of, read, None if ids is None else list(ids))


def triggers_of_pupils(path: str, version: Version, as_of: date, pupil_ids) -> pd.DataFrame:
    """triggers_reached for these pupils only (None: every pupil), read for their schools
    alone (as figures_of_pupils)."""
    if pupil_ids is None:
        return triggers_reached(path, version, as_of)
    wanted = tuple(int(p) for p in pupil_ids)
    reached = triggers_reached(path, version, as_of, _schools_of(path, version, wanted))
    return reached[reached["pupil_id"].isin(wanted)]


def keep_triggers(path: str) -> bool:
    """After an import into a trust's store: work out the whole store's triggers as at its last
    date with marks and keep them in the store under this version (triggers.keep), so the first
    read of them afterwards — the Trust screen's, any school's, in any process — takes them
    from there. A one-school store's triggers take a fraction of a second: nothing is kept.
    True when kept. A write, made by the one who imported, never inside a cached read."""
    with store.opened(path) as db:
        if schools.count(db) <= 1:
            return False
    now = version(path)
    span = mark_span(path, now)
    if span is None:
        return False
    found = triggers_reached(path, now, span[1])
    with store.opened(path) as db:
        triggers.keep(db, repr(now), span[1], found)
    return True


@_cached(max_entries=4, shared=True)
def scope_marks(path: str, version: Version, first_day: int, last_day: int,
                pupil_ids: tuple[int, ...] | None) -> scope.ScopeMarks:
    """What per-pupil views read of a scope's marks (core/scope.py), read once for every
    view of the same days and pupils. Each pupil's marks in the range are counted already in
    their figures (one mark, one category), so the read need not count them again.

    Kept as one shared object rather than copied to each caller (a trust's read holds
    millions of marks): the views only read it (ScopeMarks is never changed in place)."""
    return _scope_read(path, version, first_day, last_day, pupil_ids, _schools_of(path, version, pupil_ids))


def _scope_read(path: str, version: Version, first_day: int, last_day: int, pupil_ids: tuple[int, ...] | None,
                school_ids: tuple[int, ...] | None) -> scope.ScopeMarks:
    """scope.read_scope, each pupil's marks counted from the cached figures of their schools."""
    figures = pupil_figures(path, version, calendar.from_day(first_day), calendar.from_day(last_day), school_ids)
    marks_per_pupil = figures.set_index("pupil_id")[list(codes.CATEGORIES)].sum(axis=1)
    with store.opened(path) as db:
        return scope.read_scope(db, first_day, last_day, _ids(pupil_ids), marks_per_pupil)


# --- patterns (core/patterns.py), for a scope given as pupil ids (None = every pupil) -------------


@_cached(max_entries=16)
def day_tally(path: str, version: Version, date_from: date, as_of: date,
              pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """The scope's sessions by day and code (patterns.day_tally), counted once for every
    school-wide view of the same dates."""
    with store.opened(path) as db:
        return patterns.day_tally(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@_cached(max_entries=16)
def weekday_absence(path: str, version: Version, date_from: date, as_of: date,
                    pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    return patterns.weekday_session_absence_of(day_tally(path, version, date_from, as_of, pupil_ids))


@_cached(max_entries=16)
def reasons(path: str, version: Version, date_from: date, as_of: date, pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    return patterns.reasons_of(day_tally(path, version, date_from, as_of, pupil_ids))


@_cached(max_entries=16)
def weekly_trend(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        weeks = patterns.school_weeks(db, metrics.Period(date_from, as_of))
    return patterns.weekly_trend_of(day_tally(path, version, date_from, as_of, pupil_ids), weeks)


@_cached(max_entries=8)
def pupil_weekly(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None, weeks: int = 12) -> pd.DataFrame:
    """patterns.pupil_weekly, from the cached read of the period."""
    with store.opened(path) as db:
        shown = patterns.last_school_weeks(db, metrics.Period(date_from, as_of), weeks)
    read = scope_marks(path, version, calendar.to_day(date_from), calendar.to_day(as_of), pupil_ids)
    return patterns.pupil_weekly_of(read, shown)


@_cached(max_entries=8)
def pupil_patterns(path: str, version: Version, date_from: date, as_of: date,
                   pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """patterns.pupil_patterns, from the cached read of the period."""
    read = scope_marks(path, version, calendar.to_day(date_from), calendar.to_day(as_of), pupil_ids)
    return patterns.pupil_patterns_of(read)


@_cached(max_entries=8)
def previous_as_at(path: str, version: Version) -> date | None:
    with store.opened(path) as db:
        return patterns.previous_data_as_at(db)


@_cached(max_entries=8)
def change_since(path: str, version: Version, date_from: date, as_of: date, previous: date | None,
                 pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """patterns.change_since, from the cached pupil figures now and as at `previous`."""
    school_ids = _schools_of(path, version, pupil_ids)
    before = None if previous is None else pupil_figures(path, version, date_from, min(previous, as_of), school_ids)
    return patterns.change_between(pupil_figures(path, version, date_from, as_of, school_ids), before,
                                   _ids(pupil_ids))


@_cached(max_entries=64)
def pupil_calendar(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.pupil_calendar(db, pupil_id, metrics.Period(date_from, as_of))


@_cached(max_entries=64)
def absence_runs(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.absence_runs(db, pupil_id, metrics.Period(date_from, as_of))


@_cached(max_entries=64)
def sessions_behind(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.sessions_behind(db, pupil_id, metrics.Period(date_from, as_of))


@_cached(max_entries=64)
def mark_history(path: str, version: Version, pupil_id: int) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.mark_history(db, pupil_id)


# --- case work (core/cases.py), keyed on case_version as well --------------------------------------


@_cached(max_entries=8)
def latest_actions(path: str, case_version: int, today: date) -> pd.DataFrame:
    """Every pupil's last action and next check-in (no notes: scope by merging with scoped rows)."""
    with store.opened(path) as db:
        return cases.latest_actions(db, None, today)


@_cached(max_entries=32)
def impact(path: str, version: Version, case_version: int, school_days: int, viewer: auth.Viewer,
           pupil_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Attendance before and after each action the viewer may see (core/impact.py)."""
    with store.opened(path) as db:
        return action_impact.impact(db, viewer, school_days, _ids(pupil_ids))


@_cached(max_entries=8)
def school_calendar(path: str, version: Version, school_id: int = store.FIRST_SCHOOL):
    """A school's saved calendar (core/school_calendar.py; the store's own school unless
    named), or None."""
    with store.opened(path) as db:
        return school_calendar_store.load(db, school_id)


@_cached(max_entries=8)
def school_calendars(path: str, version: Version) -> dict:
    """School id → its saved calendar, for the schools that saved one."""
    with store.opened(path) as db:
        return school_calendar_store.load_each(db)


def has_school_calendar(path: str, version: Version) -> bool:
    """Whether some school of the store has saved a calendar."""
    return bool(school_calendars(path, version))


@_cached(max_entries=8)
def spare_sessions(path: str, version: Version, as_of: date,
                   school_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """early_warning.spare_sessions: each pupil's sessions to spare this year up to `as_of`
    (only the pupils of `school_ids`, school_scope, when given), from the cached year's figures."""
    figures = pupil_figures(path, version, calendar.academic_year_start(as_of), as_of, school_ids)
    with store.opened(path) as db:
        return early_warning.spare_sessions(db, as_of, school_calendars(path, version), figures=figures)


@_cached(max_entries=8)
def watch_list(path: str, version: Version, date_from: date, as_of: date,
               pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """early_warning.watch_list: pupils above 90% and at most 93%, falling or in short spells."""
    with store.opened(path) as db:
        return early_warning.watch_list(db, metrics.Period(date_from, as_of), _ids(pupil_ids),
                                        pupil_figures(path, version, date_from, as_of,
                                                      _schools_of(path, version, pupil_ids)))


# --- the attendance officer's lists (core/data_quality.py, core/lateness.py) ---------------------


@_cached(max_entries=8)
def data_quality(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None) -> dict[str, pd.DataFrame]:
    with store.opened(path) as db:
        return data_quality_lists.lists(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@_cached(max_entries=8)
def counts_not_used(path: str, version: Version, date_from: date, as_of: date) -> pd.DataFrame:
    """Summary counts reaching into the period that its figures leave out, with why
    (core/summary_counts.py `not_used`)."""
    with store.opened(path) as db:
        return summary_counts.not_used(db, calendar.to_day(date_from), calendar.to_day(as_of))


@_cached(max_entries=16)
def lateness_by_pupil(path: str, version: Version, date_from: date, as_of: date,
                      pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.per_pupil(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@_cached(max_entries=16)
def lateness_by_weekday(path: str, version: Version, date_from: date, as_of: date,
                        pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.by_weekday(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@_cached(max_entries=16)
def persistent_late(path: str, version: Version, date_from: date, as_of: date,
                    pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.persistent_late(db, metrics.Period(date_from, as_of), _ids(pupil_ids))
