"""Attendance figures by DOMAIN.md §3: per pupil, and pooled for any group of pupils.

The store tallies sessions per pupil per code in SQL (one GROUP BY over the marks); the
code table turns each tally row into a category; pandas sums categories per pupil. No
Python loop ever runs over marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlite_utils

from core import benchmarks, calendar, characteristics, codes, groups, school_calendar, store, summary_counts, thresholds
from core import marks as marks_table

PUPIL_FIGURE_COLUMNS = [
    "possible_sessions", "attendance_sessions", "authorised_sessions", "unauthorised_sessions",
    "missing_marks", "attendance_pct", "absence_pct", "persistently_absent", "severely_absent",
]

def national(figures: pd.DataFrame, measure: str, year: int | None = None) -> benchmarks.NationalFigure | None:
    """The national figure to show beside the school's for a measure in academic year `year`
    (None: the latest), with its period and source (core/benchmarks.py says which is chosen).

    `figures` are the store's national figures: `reads.national_figures(path, version)` on
    screens, `benchmarks.national_figures(db)` elsewhere. `attendance_pct` is 100 minus the
    national overall absence. A figure is a NamedTuple whose first item is the value.
    """
    return benchmarks.national(figures, measure, year)


@dataclass(frozen=True)
class Period:
    """A date range for figures: from `date_from` to `as_of`, both inclusive."""

    date_from: date
    as_of: date

    @property
    def academic_year(self) -> int:
        return calendar.academic_year(self.as_of)


def default_period(db: sqlite_utils.Database, as_of: date | None = None, date_from: date | None = None) -> Period | None:
    """`as_of` defaults to the last date with marks; `date_from` to 1 September of its academic year."""
    if as_of is None:
        span = marks_table.mark_date_range(db)
        if span is None:
            return None
        as_of = span[1]
    return Period(date_from or calendar.academic_year_start(as_of), as_of)


def session_counts(tally: pd.DataFrame) -> pd.DataFrame:
    """Per pupil: sessions in each category, from a (pupil_id, code, era, sessions) tally."""
    category = codes.classify_by_era(tally["code"], tally["era"].to_numpy()).cat.codes.to_numpy(dtype=np.int64)
    pupils, position = np.unique(tally["pupil_id"].to_numpy(dtype=np.int64), return_inverse=True)
    width = len(codes.CATEGORIES)
    summed = np.bincount(position * width + category, weights=tally["sessions"].to_numpy(dtype=np.float64),
                         minlength=len(pupils) * width)
    return pd.DataFrame(summed.reshape(len(pupils), width).astype(np.int64),
                        index=pd.Index(pupils, name="pupil_id"),
                        columns=pd.Index(list(codes.CATEGORIES), name="category"))


def add_rates(frame: pd.DataFrame, counted: pd.DataFrame | None = None) -> pd.DataFrame:
    """Possible sessions, percentages and PA/SA from session counts (integer comparisons).

    `counted` (aligned with `frame`'s index): sessions from summary counts to add to the
    marks' (core/summary_counts.py `used`); the category columns stay the marks' own."""
    attendance = frame[codes.PRESENT] + frame[codes.APPROVED_ACTIVITY]
    authorised, unauthorised = frame[codes.AUTHORISED], frame[codes.UNAUTHORISED]
    if counted is not None:
        attendance = attendance + counted["attendance_sessions"]
        authorised = authorised + counted["authorised_sessions"]
        unauthorised = unauthorised + counted["unauthorised_sessions"]
    possible = attendance + authorised + unauthorised
    absent = authorised + unauthorised
    denominator = possible.where(possible > 0)
    return frame.assign(
        possible_sessions=possible,
        attendance_sessions=attendance,
        authorised_sessions=authorised,
        unauthorised_sessions=unauthorised,
        missing_marks=frame[codes.MISSING],
        attendance_pct=(attendance / denominator * 100).astype("float64"),
        absence_pct=(absent / denominator * 100).astype("float64"),
        persistently_absent=thresholds.PERSISTENT.crossed(absent, possible),
        severely_absent=thresholds.SEVERE.crossed(absent, possible),
    )


def pupil_figures(db: sqlite_utils.Database, period: Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per pupil with any mark or used summary count in the period: identity, groups
    and figures. With `pupil_ids` (one school of a trust's store), only those pupils' rows,
    read and counted for them alone: each row is the same as in every pupil's figures (a
    pupil's figures are their own marks and counts).

    Pupils with no possible session are included (their missing marks still count
    against the data); filter on `possible_sessions > 0` for lists of pupils. The figures
    add the summary counts core/summary_counts.py allows for the period to the marks (never
    both for the same dates): `counted_sessions` is the possible sessions from counts (0 for
    none) and `counts_periods` their (from, to) dates (an empty tuple for none). The category
    columns (present, authorised, ... missing) are the marks' own.
    """
    first_day, last_day = calendar.to_day(period.date_from), calendar.to_day(period.as_of)
    tally = marks_table.tally_marks(db, first_day, last_day, pupil_ids)
    counts = session_counts(tally)
    counted = summary_counts.used(db, first_day, last_day)
    if pupil_ids is not None and not counted.empty:
        counted = counted[counted.index.isin(pupil_ids)]
    if counted.empty:  # the usual store: no summary counts in the period
        sessions = None
        periods = [()] * len(counts)
    else:
        counts = counts.reindex(counts.index.union(counted.index), fill_value=0)
        counts.index.name = "pupil_id"
        counted = counted.reindex(counts.index)
        sessions = counted[list(summary_counts.SESSION_COLUMNS)].fillna(0).astype("int64")
        periods = [p if isinstance(p, tuple) else () for p in counted["counts_periods"]]
    pupils = store.pupils_frame(db, pupil_ids=pupil_ids).set_index("id")
    settings = store.get_settings(db)
    sections = store.section_of_year_groups(settings)
    figures = add_rates(counts, sessions).join(pupils, how="left")
    figures = figures.assign(
        counted_sessions=0 if sessions is None else sessions["possible_sessions"].to_numpy(),
        counts_periods=periods,
        section=figures["year_group"].map(sections).fillna(""),
        compulsory_school_age=calendar.compulsory_school_age(
            figures["dob"], figures["nc_year"], period.academic_year
        ).to_numpy(),
        ethnic_group=characteristics.ethnic_group(figures["ethnicity"]).to_numpy(),
        gypsy_roma_traveller=figures["ethnicity"].isin(characteristics.GYPSY_ROMA_TRAVELLER).to_numpy(),
    )
    figures.index.name = "pupil_id"
    saved = school_calendar.load_each(db)  # each school's own calendar (issue 18)
    if saved and not figures.empty:  # with a saved calendar, a school day's session with
        # nothing stored for a pupil on roll is a missing mark too (as Data quality lists them)
        without = school_calendar.sessions_without_marks(db, period.date_from, period.as_of, saved, pupil_ids)
        extra = without.groupby("pupil_id").size().reindex(figures.index, fill_value=0)
        figures = figures.assign(missing_marks=figures["missing_marks"] + extra.to_numpy(dtype="int64"))
    return figures.reset_index().sort_values(["surname", "forename", "upn"], ignore_index=True)


def no_pupils() -> pd.DataFrame:
    """An empty `pupil_figures` frame, for a store with no marks yet."""
    tally = pd.DataFrame({"pupil_id": pd.Series(dtype="int64"), "code": pd.Series(dtype="string"),
                          "era": pd.Series(dtype="int64"), "sessions": pd.Series(dtype="int64")})
    return add_rates(session_counts(tally)).assign(compulsory_school_age=pd.Series(dtype=bool),
                                                   counted_sessions=pd.Series(dtype="int64"),
                                                   counts_periods=pd.Series(dtype=object))


def group_figures(figures: pd.DataFrame) -> dict:
    """Pooled figures for a group of pupils (DOMAIN.md §3): totals over totals, never means."""
    counted = figures[figures["possible_sessions"] > 0]
    pupils = len(counted)
    possible = int(counted["possible_sessions"].sum())
    authorised = int(counted["authorised_sessions"].sum())
    unauthorised = int(counted["unauthorised_sessions"].sum())
    pa = int(counted["persistently_absent"].sum())
    sa = int(counted["severely_absent"].sum())

    def pct(part: int, whole: int) -> float | None:
        return part / whole * 100 if whole else None

    return {
        "pupils": pupils,
        "possible_sessions": possible,
        "attendance_sessions": int(counted["attendance_sessions"].sum()),
        "authorised_sessions": authorised,
        "unauthorised_sessions": unauthorised,
        "missing_marks": int(figures["missing_marks"].sum()),
        "overall_absence_pct": pct(authorised + unauthorised, possible),
        "authorised_absence_pct": pct(authorised, possible),
        "unauthorised_absence_pct": pct(unauthorised, possible),
        "persistent_absentees": pa,
        "persistent_absence_pct": pct(pa, pupils),
        "severe_absentees": sa,
        "severe_absence_pct": pct(sa, pupils),
    }


def summary(figures: pd.DataFrame) -> dict:
    """The headline for all pupils and for pupils of compulsory school age."""
    return {
        "all": group_figures(figures),
        "compulsory_school_age": group_figures(figures[figures["compulsory_school_age"]]),
    }


def by_group(figures: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """Pooled figures for each value of one characteristic (a column of core/groups.py
    GROUPINGS: section, year_group, pp…, or a school's own flag as `flag:<name>`)."""
    if grouping.startswith(groups.FLAG_GROUPING):
        members = characteristics.has_flag(figures["flags"], grouping[len(groups.FLAG_GROUPING):])
        figures = figures.assign(**{grouping: members.astype(int).to_numpy()})
    elif grouping not in groups.BY_COLUMN:
        raise KeyError(f"Unknown grouping '{grouping}'; choose one of {', '.join(groups.BY_COLUMN)}.")
    rows = [
        {grouping: value, **group_figures(members)}
        for value, members in figures.groupby(grouping, sort=True, dropna=False)
    ]
    return pd.DataFrame(rows)
