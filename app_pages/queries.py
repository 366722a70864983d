"""Cached reads for the screens: results keyed on the store's data version, never connections.

Every cached function takes the database path and `version` (the last import id plus
the settings and code-map stamps), so an upload, an undo or a settings change gives
fresh figures and nothing else recomputes. A connection is opened per call and closed.
Scoping to a head of section's pupils happens after the cache (cheap, and one cached
frame serves every user).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import auth, calendar, cases, codes, lateness, metrics, patterns, scope, store, triggers
from core import marks as marks_table
from core import impact as action_impact  # `impact` below is the cached read of it
from core import data_quality as data_quality_lists

Version = tuple


def db_path() -> str:
    return str(store.default_path())


def version(path: str | None = None) -> Version:
    """Changes whenever what the screens show could change."""
    with store.opened(path or db_path()) as db:
        settings_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM settings").fetchone()
        codes_stamp = db.execute("SELECT COUNT(*), MAX(updated_at) FROM code_map").fetchone()
        return (store.last_import_id(db), *settings_stamp, *codes_stamp)


@st.cache_data(show_spinner=False, max_entries=8)
def settings(path: str, version: Version) -> dict:
    with store.opened(path) as db:
        return store.get_settings(db)


@st.cache_data(show_spinner=False, max_entries=8)
def mark_span(path: str, version: Version) -> tuple[date, date] | None:
    with store.opened(path) as db:
        return marks_table.mark_date_range(db)


@st.cache_data(show_spinner=False, max_entries=32)
def pupil_figures(path: str, version: Version, date_from: date, as_of: date) -> pd.DataFrame:
    """Every pupil with a mark in the period, with their figures (metrics.pupil_figures)."""
    with store.opened(path) as db:
        return metrics.pupil_figures(db, metrics.Period(date_from, as_of))


@st.cache_data(show_spinner=False, max_entries=16)
def triggers_reached(path: str, version: Version, as_of: date) -> pd.DataFrame:
    """triggers.reached, from the cached read of every pupil's marks (shared with the year's
    per-pupil patterns when the look-back holds no earlier marks). Those standing at the last
    date with marks go into the history of triggers shown (once per data version: the result
    is cached)."""
    with store.opened(path) as db:
        first_day, last_day = triggers.marks_needed(db, as_of)
        span = marks_table.mark_date_range(db)
    read = scope_marks(path, version, first_day, last_day, None)
    with store.opened(path) as db:
        found = triggers.reached_from(db, as_of, read)
        if span is not None and as_of == span[1]:
            triggers.record_shown(db, found, as_of)
        return found


@st.cache_resource(show_spinner=False, max_entries=4)
def scope_marks(path: str, version: Version, first_day: int, last_day: int,
                pupil_ids: tuple[int, ...] | None) -> scope.ScopeMarks:
    """What per-pupil views read of a scope's marks (core/scope.py), read once for every
    view of the same days and pupils. Each pupil's marks in the range are counted already in
    their figures (one mark, one category), so the read need not count them again.

    Kept as one shared object rather than copied to each caller (a trust's read holds
    millions of marks): the views only read it (ScopeMarks is never changed in place)."""
    figures = pupil_figures(path, version, calendar.from_day(first_day), calendar.from_day(last_day))
    marks_per_pupil = figures.set_index("pupil_id")[list(codes.CATEGORIES)].sum(axis=1)
    with store.opened(path) as db:
        return scope.read_scope(db, first_day, last_day, _ids(pupil_ids), marks_per_pupil)


@st.cache_data(show_spinner=False, max_entries=8)
def pupils(path: str, version: Version) -> pd.DataFrame:
    """Every stored pupil (for search), with their section."""
    with store.opened(path) as db:
        frame = store.pupils_frame(db)
        sections = store.section_of_year_groups(store.get_settings(db))
    return frame.assign(section=frame["year_group"].map(sections).fillna(""))


@st.cache_data(show_spinner=False, max_entries=8)
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


def scoped(frame: pd.DataFrame, user: auth.User, path: str, version: Version) -> pd.DataFrame:
    """Only the pupils this user may see (a head of section: their sections)."""
    return auth.scope_pupils(frame, user, settings(path, version))


def scoped_pupil_ids(user: auth.User, path: str, version: Version) -> tuple[int, ...] | None:
    """Pupil ids a head of section may see; None means every pupil."""
    if user.sees_all_pupils:
        return None
    return tuple(int(i) for i in scoped(pupils(path, version), user, path, version)["id"])


# --- patterns (core/patterns.py), for a scope given as pupil ids (None = every pupil) -------


def _ids(pupil_ids: tuple[int, ...] | None) -> list[int] | None:
    return None if pupil_ids is None else list(pupil_ids)


@st.cache_data(show_spinner=False, max_entries=16)
def day_tally(path: str, version: Version, date_from: date, as_of: date,
              pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """The scope's sessions by day and code (patterns.day_tally), counted once for every
    school-wide view of the same dates."""
    with store.opened(path) as db:
        return patterns.day_tally(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def weekday_absence(path: str, version: Version, date_from: date, as_of: date,
                    pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    return patterns.weekday_session_absence_of(day_tally(path, version, date_from, as_of, pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def reasons(path: str, version: Version, date_from: date, as_of: date, pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    return patterns.reasons_of(day_tally(path, version, date_from, as_of, pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def weekly_trend(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        weeks = patterns.school_weeks(db, metrics.Period(date_from, as_of))
    return patterns.weekly_trend_of(day_tally(path, version, date_from, as_of, pupil_ids), weeks)


@st.cache_data(show_spinner=False, max_entries=8)
def pupil_weekly(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None, weeks: int = 12) -> pd.DataFrame:
    """patterns.pupil_weekly, from the cached read of the period."""
    with store.opened(path) as db:
        shown = patterns.last_school_weeks(db, metrics.Period(date_from, as_of), weeks)
    read = scope_marks(path, version, calendar.to_day(date_from), calendar.to_day(as_of), pupil_ids)
    return patterns.pupil_weekly_of(read, shown)


@st.cache_data(show_spinner=False, max_entries=8)
def pupil_patterns(path: str, version: Version, date_from: date, as_of: date,
                   pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """patterns.pupil_patterns, from the cached read of the period."""
    read = scope_marks(path, version, calendar.to_day(date_from), calendar.to_day(as_of), pupil_ids)
    return patterns.pupil_patterns_of(read)


@st.cache_data(show_spinner=False, max_entries=8)
def previous_as_at(path: str, version: Version) -> date | None:
    with store.opened(path) as db:
        return patterns.previous_data_as_at(db)


@st.cache_data(show_spinner=False, max_entries=8)
def change_since(path: str, version: Version, date_from: date, as_of: date, previous: date | None,
                 pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    """patterns.change_since, from the cached pupil figures now and as at `previous`."""
    before = None if previous is None else pupil_figures(path, version, date_from, min(previous, as_of))
    return patterns.change_between(pupil_figures(path, version, date_from, as_of), before, _ids(pupil_ids))


@st.cache_data(show_spinner=False, max_entries=64)
def pupil_calendar(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.pupil_calendar(db, pupil_id, metrics.Period(date_from, as_of))


@st.cache_data(show_spinner=False, max_entries=64)
def absence_runs(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.absence_runs(db, pupil_id, metrics.Period(date_from, as_of))


@st.cache_data(show_spinner=False, max_entries=64)
def sessions_behind(path: str, version: Version, pupil_id: int, date_from: date, as_of: date) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.sessions_behind(db, pupil_id, metrics.Period(date_from, as_of))


@st.cache_data(show_spinner=False, max_entries=64)
def mark_history(path: str, version: Version, pupil_id: int) -> pd.DataFrame:
    with store.opened(path) as db:
        return patterns.mark_history(db, pupil_id)


# --- case work (core/cases.py) ---------------------------------------------------------------
# Case-work writes do not change `version()`, so cached case data is keyed on `case_version()`
# as well: the newest audit entry of case work (every case write is audited).


def case_version(path: str | None = None) -> int:
    with store.opened(path or db_path()) as db:
        return cases.stamp(db)


@st.cache_data(show_spinner=False, max_entries=8)
def latest_actions(path: str, case_version: int, today: date) -> pd.DataFrame:
    """Every pupil's last action and next check-in (no notes: scope by merging with scoped rows)."""
    with store.opened(path) as db:
        return cases.latest_actions(db, None, today)


@st.cache_data(show_spinner=False, max_entries=32)
def impact(path: str, version: Version, case_version: int, school_days: int, viewer: auth.Viewer,
           pupil_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Attendance before and after each action the viewer may see (core/impact.py)."""
    with store.opened(path) as db:
        return action_impact.impact(db, viewer, school_days, _ids(pupil_ids))


# --- the attendance officer's lists (core/data_quality.py, core/lateness.py) ----------------


@st.cache_data(show_spinner=False, max_entries=8)
def data_quality(path: str, version: Version, date_from: date, as_of: date,
                 pupil_ids: tuple[int, ...] | None) -> dict[str, pd.DataFrame]:
    with store.opened(path) as db:
        return data_quality_lists.lists(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def lateness_by_pupil(path: str, version: Version, date_from: date, as_of: date,
                      pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.per_pupil(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def lateness_by_weekday(path: str, version: Version, date_from: date, as_of: date,
                        pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.by_weekday(db, metrics.Period(date_from, as_of), _ids(pupil_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def persistent_late(path: str, version: Version, date_from: date, as_of: date,
                    pupil_ids: tuple[int, ...] | None) -> pd.DataFrame:
    with store.opened(path) as db:
        return lateness.persistent_late(db, metrics.Period(date_from, as_of), _ids(pupil_ids))
