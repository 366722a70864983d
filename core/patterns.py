"""Patterns behind the figures: days of the week, reasons, weekly trends, runs of absence,
and the sessions behind one pupil's percentage (the Patterns, Below 90% and Pupil screens).

Every function takes the store and a `metrics.Period` (and, where it reads many pupils,
`pupil_ids` to restrict it to a scope such as a head of section's pupils) and returns a
DataFrame. Rates are pooled by DOMAIN.md §3 (sessions over possible sessions) through
`metrics.add_rates`; marks are classified through `codes.classify_by_era`; a missing mark
counts in no total anywhere.

Speed: nothing loops over marks or queries per pupil. School-wide views read one
`GROUP BY day, code` tally. Per-pupil views would otherwise have to read every mark; most
marks are plain present marks (`/`, `\\`), so only the other marks are read, and each
pupil's plain present sessions are recovered from the sessions the school held between the
pupil's first and last marked day (see core/scope.py).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, metrics, school_calendar, scope
from core import marks as marks_table
from core.scope import classified as _classified, read_scope as _read_scope

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

ABSENCE_CATEGORIES = (codes.AUTHORISED, codes.UNAUTHORISED)

# A late arrival before registers closed (present), the codes whose marks carry the minutes
# a pupil arrived late (before and after registers closed, DOMAIN.md §1), and the marks
# counted without reading them (core/scope.py).
LATE = scope.LATE
LATE_ARRIVALS = scope.LATE_ARRIVALS
PLAIN_PRESENT = scope.PLAIN_PRESENT

# What each category counts as, in the words the pupil screen uses (and in this order).
COUNTS_AS = {
    codes.PRESENT: "attendance",
    codes.APPROVED_ACTIVITY: "attendance",
    codes.AUTHORISED: "authorised absence",
    codes.UNAUTHORISED: "unauthorised absence",
    codes.NOT_POSSIBLE: "not possible",
    codes.MISSING: "missing mark",
    codes.UNKNOWN: "unknown code",
}
COUNTS_AS_ORDER = list(dict.fromkeys(COUNTS_AS.values()))

WEEKDAY_COLUMNS = ["weekday", "weekday_name", "session", "possible_sessions", "absence_sessions",
                   "unauthorised_sessions", "absence_pct"]
REASON_COLUMNS = ["code", "reason", "category", "sessions", "share_pct"]
TREND_COLUMNS = ["week_start", "possible_sessions", "attendance_sessions", "absence_sessions",
                 "attendance_pct", "cumulative_attendance_pct"]
PUPIL_WEEKLY_COLUMNS = ["pupil_id", "week_start", "possible_sessions", "attendance_pct"]
PUPIL_PATTERN_COLUMNS = [
    "pupil_id", "top_reason", "top_reason_label", "top_reason_sessions", "worst_weekday",
    "worst_weekday_absence_pct", "am_absence_sessions", "pm_absence_sessions", "longest_absence_run",
    "lates", "minutes_late_total",
]
CHANGE_COLUMNS = ["pupil_id", "attendance_pct_before", "attendance_change_pts", "newly_persistent", "newly_severe"]
CALENDAR_COLUMNS = ["date", "session", "code", "category", "meaning", "minutes_late"]
RUN_COLUMNS = ["start", "end", "school_days", "sessions", "codes"]
BEHIND_COLUMNS = ["code", "meaning", "category", "sessions", "counts_as"]
HISTORY_COLUMNS = ["date", "session", "old_code", "new_code", "changed_on", "changed_by", "file_name", "data_as_at"]

# A weekday needs this many possible sessions before its absence rate can be a pupil's worst.
WORST_WEEKDAY_MIN_SESSIONS = 2


# --- school-wide views -------------------------------------------------------------------


def weekday_session_absence(db: sqlite_utils.Database, period: metrics.Period,
                            pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Absence by weekday and session (the Patterns heatmap): one row per weekday × AM/PM
    with possible sessions, pooled over the scope's pupils."""
    return weekday_session_absence_of(day_tally(db, period, pupil_ids))


def weekday_session_absence_of(tally: pd.DataFrame) -> pd.DataFrame:
    """`weekday_session_absence` from the scope's `day_tally`."""
    figures = _rates(tally.assign(weekday=_weekday(tally["day"].to_numpy())), ["weekday", "session"])
    figures = figures[figures["possible_sessions"] > 0]
    return figures.assign(
        weekday_name=figures["weekday"].map(dict(enumerate(WEEKDAY_NAMES))),
        session=figures["session"].map(dict(enumerate(calendar.SESSIONS))),
        absence_sessions=figures["authorised_sessions"] + figures["unauthorised_sessions"],
    )[WEEKDAY_COLUMNS].reset_index(drop=True)


def reasons(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Absence sessions by code, most first, each with its share of all absence sessions."""
    return reasons_of(day_tally(db, period, pupil_ids))


def reasons_of(tally: pd.DataFrame) -> pd.DataFrame:
    """`reasons` from the scope's `day_tally`."""
    absence = tally[tally["category"].isin(ABSENCE_CATEGORIES)]
    by_code = absence.groupby(["code", "category"], as_index=False, observed=True)["sessions"].sum()
    by_code = by_code[by_code["sessions"] > 0]
    total = by_code["sessions"].sum()
    return by_code.assign(
        reason=by_code["code"].map(codes.meaning),
        share_pct=(by_code["sessions"] / total * 100).astype("float64"),
    ).sort_values(["sessions", "code"], ascending=[False, True])[REASON_COLUMNS].reset_index(drop=True)


def weekly_trend(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per school week of the period: that week's attendance and the cumulative
    attendance from the start of the period through it, both pooled.

    The weeks are the school's (DOMAIN.md §1), so a scope gets the same weeks as the school;
    a week in which the scope had no possible session has no percentage.
    """
    return weekly_trend_of(day_tally(db, period, pupil_ids), school_weeks(db, period))


def school_weeks(db: sqlite_utils.Database, period: metrics.Period) -> np.ndarray:
    """Mondays (day numbers) of the school weeks of the period (DOMAIN.md §1): from the saved
    school calendar where there is one (so a week nobody uploaded is still a week), else from
    the marks."""
    return calendar.school_weeks(school_calendar.school_day_numbers(db, *_days(period)))


def weekly_trend_of(tally: pd.DataFrame, weeks: np.ndarray) -> pd.DataFrame:
    """`weekly_trend` from the scope's `day_tally` and the period's `school_weeks`."""
    figures = _rates(tally.assign(week=calendar.week_of_days(tally["day"].to_numpy())), ["week"])
    counted = ["possible_sessions", "attendance_sessions", "authorised_sessions", "unauthorised_sessions"]
    figures = figures.set_index("week")[counted].reindex(weeks, fill_value=0)
    possible, attendance = figures["possible_sessions"], figures["attendance_sessions"]
    cumulative_possible = possible.cumsum()
    return pd.DataFrame({
        "week_start": _dates(pd.Series(weeks, dtype="int64")).to_numpy(),
        "possible_sessions": possible.to_numpy(),
        "attendance_sessions": attendance.to_numpy(),
        "absence_sessions": (figures["authorised_sessions"] + figures["unauthorised_sessions"]).to_numpy(),
        "attendance_pct": _pct(attendance, possible).to_numpy(),
        "cumulative_attendance_pct": _pct(attendance.cumsum(), cumulative_possible).to_numpy(),
    }, columns=TREND_COLUMNS)


# --- per-pupil views over a scope ----------------------------------------------------------


def pupil_weekly(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None,
                 weeks: int = 12) -> pd.DataFrame:
    """Each pupil's attendance in each of the last `weeks` school weeks of the period up to
    `as_of` (sparklines, the pupil's weekly chart): one row per pupil with a mark in those
    weeks per school week, NaN where the pupil had no possible session that week."""
    shown = last_school_weeks(db, period, weeks)
    if len(shown) == 0:
        return _empty(PUPIL_WEEKLY_COLUMNS)
    first_day, last_day = _days(period)
    return pupil_weekly_of(_read_scope(db, max(first_day, int(shown[0])), last_day, pupil_ids), shown)


def last_school_weeks(db: sqlite_utils.Database, period: metrics.Period, weeks: int) -> np.ndarray:
    """Mondays (day numbers) of the last `weeks` school weeks of the period."""
    if weeks <= 0:
        return np.array([], dtype=np.int64)
    return calendar.school_weeks(school_calendar.school_day_numbers(db, *_days(period)))[-weeks:]


def pupil_weekly_of(read: scope.ScopeMarks, shown: np.ndarray) -> pd.DataFrame:
    """`pupil_weekly` from a scope read (core/scope.py) over at least the `shown` weeks
    (from `last_school_weeks`) up to the period's end."""
    if len(shown) == 0:
        return _empty(PUPIL_WEEKLY_COLUMNS)
    read = read.since(int(shown[0]))
    if read.pupils.empty:
        return _empty(PUPIL_WEEKLY_COLUMNS)
    figures = metrics.add_rates(read.totals_by(calendar.week_of_days))
    grid = pd.MultiIndex.from_product([read.pupils["pupil_id"], shown], names=["pupil_id", "bucket"])
    figures = figures.reindex(grid).reset_index()
    possible = figures["possible_sessions"].fillna(0).astype("int64")
    return pd.DataFrame({
        "pupil_id": figures["pupil_id"].astype("int64"),
        "week_start": _dates(figures["bucket"]),
        "possible_sessions": possible,
        "attendance_pct": figures["attendance_pct"].astype("float64"),
    })


def pupil_patterns(db: sqlite_utils.Database, period: metrics.Period,
                   pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per pupil with absence in the period: top reason, worst weekday, AM/PM
    absence, the longest run of whole days absent, lates and minutes late (Below 90% list)."""
    return pupil_patterns_of(_read_scope(db, *_days(period), pupil_ids))


def pupil_patterns_of(read: scope.ScopeMarks) -> pd.DataFrame:
    """`pupil_patterns` from a scope read over the period (core/scope.py)."""
    marks = read.marks
    absence = marks[marks["category"].isin(ABSENCE_CATEGORIES)]
    if absence.empty:
        return _empty(PUPIL_PATTERN_COLUMNS)

    by_code = absence.groupby(["pupil_id", "code"], as_index=False).size()
    top = (by_code.sort_values(["pupil_id", "size", "code"], ascending=[True, False, True])
           .drop_duplicates("pupil_id").set_index("pupil_id"))
    by_session = (absence.groupby(["pupil_id", "session"]).size().unstack(fill_value=0)
                  .reindex(columns=[0, 1], fill_value=0))
    late = marks[marks["code"].isin(LATE_ARRIVALS)]
    lates = late[late["code"] == LATE].groupby("pupil_id").size()
    minutes = late.groupby("pupil_id")["minutes_late"].sum()
    worst = _worst_weekdays(read.totals_by(_weekday).rename_axis(["pupil_id", "weekday"]))
    longest = _runs(read.absent_days()).groupby("pupil_id")["school_days"].max()

    pupils = top.index
    worst_day = worst["weekday_name"].reindex(pupils)
    return pd.DataFrame({
        "pupil_id": pupils.to_numpy(),
        "top_reason": top["code"].to_numpy(),
        "top_reason_label": top["code"].map(codes.meaning).to_numpy(),
        "top_reason_sessions": top["size"].astype("int64").to_numpy(),
        "worst_weekday": pd.Series(worst_day.astype(object).where(worst_day.notna(), None).to_numpy(), dtype=object),
        "worst_weekday_absence_pct": worst["absence_pct"].reindex(pupils).astype("float64").to_numpy(),
        "am_absence_sessions": by_session[0].reindex(pupils, fill_value=0).astype("int64").to_numpy(),
        "pm_absence_sessions": by_session[1].reindex(pupils, fill_value=0).astype("int64").to_numpy(),
        "longest_absence_run": longest.reindex(pupils, fill_value=0).astype("int64").to_numpy(),
        "lates": lates.reindex(pupils, fill_value=0).astype("int64").to_numpy(),
        "minutes_late_total": minutes.reindex(pupils, fill_value=0).astype("int64").to_numpy(),
    }, columns=PUPIL_PATTERN_COLUMNS)


def change_since(db: sqlite_utils.Database, period: metrics.Period, previous_as_of: date | None,
                 pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Each pupil's change since an earlier "as at" date (e.g. `previous_data_as_at`): the
    attendance then (period.date_from to previous_as_of), the change in points, and whether
    the pupil has newly become persistently or severely absent. Both sides are computed from
    the marks as now stored."""
    before = None if previous_as_of is None else \
        metrics.pupil_figures(db, metrics.Period(period.date_from, min(previous_as_of, period.as_of)))
    return change_between(metrics.pupil_figures(db, period), before, pupil_ids)


def change_between(figures: pd.DataFrame, figures_before: pd.DataFrame | None,
                   pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """`change_since` from two `metrics.pupil_figures` frames, now and as at the earlier
    date (None when there is no earlier upload to compare with)."""
    now = _in_scope(figures, pupil_ids)
    now = now[["pupil_id", "attendance_pct", "persistently_absent", "severely_absent"]]
    if figures_before is None:
        return pd.DataFrame({
            "pupil_id": now["pupil_id"].to_numpy(),
            "attendance_pct_before": np.nan,
            "attendance_change_pts": np.nan,
            "newly_persistent": False,
            "newly_severe": False,
        }, columns=CHANGE_COLUMNS)
    before = figures_before.set_index("pupil_id").reindex(now["pupil_id"])
    was_persistent = before["persistently_absent"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    was_severe = before["severely_absent"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    pct_before = before["attendance_pct"].astype("float64").to_numpy()
    return pd.DataFrame({
        "pupil_id": now["pupil_id"].to_numpy(),
        "attendance_pct_before": pct_before,
        "attendance_change_pts": now["attendance_pct"].to_numpy(dtype="float64") - pct_before,
        "newly_persistent": now["persistently_absent"].to_numpy(dtype=bool) & ~was_persistent,
        "newly_severe": now["severely_absent"].to_numpy(dtype=bool) & ~was_severe,
    }, columns=CHANGE_COLUMNS)


def previous_data_as_at(db: sqlite_utils.Database) -> date | None:
    """The "data as at" date before the latest one among imports of marks still in force:
    what "since the previous upload" compares with. None with fewer than two such dates.

    Distinct dates, so a second file for the same week, or a corrected earlier week, does
    not make the comparison one with itself.
    """
    rows = db.execute(
        "SELECT DISTINCT data_as_at FROM imports WHERE status = 'imported' AND data_as_at IS NOT NULL "
        "ORDER BY data_as_at DESC LIMIT 2"
    ).fetchall()
    return date.fromisoformat(rows[1][0]) if len(rows) == 2 else None


# --- one pupil ---------------------------------------------------------------------------


def pupil_calendar(db: sqlite_utils.Database, pupil_id: int, period: metrics.Period) -> pd.DataFrame:
    """Every stored session of one pupil in the period (the year calendar), in date order."""
    first_day, last_day = _days(period)
    marks = _classified(marks_table.load_marks(db, first_day, last_day, pupil_ids=[pupil_id]))
    marks = marks.sort_values(["day", "session"], ignore_index=True)
    return pd.DataFrame({
        "date": _dates(marks["day"]),
        "session": marks["session"].map(dict(enumerate(calendar.SESSIONS))),
        "code": marks["code"],
        "category": marks["category"],
        "meaning": marks["code"].map(codes.meaning),
        "minutes_late": marks["minutes_late"],
    }, columns=CALENDAR_COLUMNS)


def absence_runs(db: sqlite_utils.Database, pupil_id: int, period: metrics.Period, min_days: int = 2) -> pd.DataFrame:
    """Runs of at least `min_days` consecutive school days on which every possible session
    of the pupil was absence, with the codes in each run summarised ("I×6, N×2").

    A school day here is a day with a possible session for the pupil: days with none (not
    possible, missing marks, weekends, holidays) neither count nor break a run.
    """
    first_day, last_day = _days(period)
    scope = _read_scope(db, first_day, last_day, [pupil_id])
    absent_days = scope.absent_days()
    runs = _runs(absent_days)
    runs = runs[runs["school_days"] >= min_days]
    if runs.empty:
        return _empty(RUN_COLUMNS)
    marks = scope.marks.merge(absent_days[["pupil_id", "day", "run"]], on=["pupil_id", "day"])
    absence = marks[marks["category"].isin(ABSENCE_CATEGORIES)]
    counted = (absence.groupby(["run", "code"], as_index=False).size()
               .sort_values(["run", "size", "code"], ascending=[True, False, True]))
    summary = (counted["code"] + "×" + counted["size"].astype(str)).groupby(counted["run"]).agg(", ".join)
    return pd.DataFrame({
        "start": _dates(runs["start"]).to_numpy(),
        "end": _dates(runs["end"]).to_numpy(),
        "school_days": runs["school_days"].astype("int64").to_numpy(),
        "sessions": runs["sessions"].astype("int64").to_numpy(),
        "codes": summary.reindex(runs["run"]).to_numpy(),
    }, columns=RUN_COLUMNS)


def sessions_behind(db: sqlite_utils.Database, pupil_id: int, period: metrics.Period) -> pd.DataFrame:
    """The sessions behind one pupil's figures, by code, each saying what it counts as.

    The sessions counted as attendance, authorised or unauthorised absence add up to the
    pupil's possible sessions, so the screen can say "88.2% = 150 of 170 possible sessions".
    """
    first_day, last_day = _days(period)
    marks = _classified(marks_table.load_marks(db, first_day, last_day, pupil_ids=[pupil_id]))
    by_code = marks.groupby(["code", "category"], as_index=False).size().rename(columns={"size": "sessions"})
    by_code = by_code.assign(
        meaning=by_code["code"].map(codes.meaning),
        counts_as=by_code["category"].map(COUNTS_AS),
        order=by_code["category"].map(COUNTS_AS).map(COUNTS_AS_ORDER.index),
    )
    return (by_code.sort_values(["order", "sessions", "code"], ascending=[True, False, True])
            [BEHIND_COLUMNS].astype({"sessions": "int64"}).reset_index(drop=True))


def mark_history(db: sqlite_utils.Database, pupil_id: int) -> pd.DataFrame:
    """Every stored change to this pupil's marks, newest import first: which session, old and
    new code, and the import (when, who, which file, and the date its data was as at — the
    upload day when the export does not say). Changes by undone imports are left out."""
    rows = marks_table.mark_changes_of_pupil(db, pupil_id)
    changes = pd.DataFrame(rows, columns=["day", "session", "old_code", "new_code", "changed_on", "changed_by",
                                          "file_name", "data_as_at"])
    changed_on = pd.to_datetime(changes["changed_on"], utc=True, format="ISO8601")
    uploaded_on = pd.Series(changed_on.dt.tz_convert("Europe/London").dt.date, index=changes.index, dtype=object)
    as_at = changes["data_as_at"].map(lambda v: date.fromisoformat(v) if isinstance(v, str) and v else None)
    return changes.assign(
        day=_dates(changes["day"]),
        session=changes["session"].map(dict(enumerate(calendar.SESSIONS))),
        changed_on=changed_on,
        data_as_at=as_at.where(as_at.notna(), uploaded_on).astype(object),
    ).rename(columns={"day": "date"})[HISTORY_COLUMNS]


# --- reading marks -------------------------------------------------------------------------


def _days(period: metrics.Period) -> tuple[int, int]:
    return calendar.to_day(period.date_from), calendar.to_day(period.as_of)






def day_tally(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Sessions by day, session and code over the scope, each with its category (what the
    school-wide views count from: day, code, session, sessions, category)."""
    rows = marks_table.sessions_by_day_and_code(db, *_days(period), pupil_ids)
    by_day = pd.DataFrame(rows, columns=["day", "code", 0, 1])
    tally = by_day.melt(id_vars=["day", "code"], value_vars=[0, 1], var_name="session", value_name="sessions")
    tally = tally.astype({"day": "int64", "code": "str", "session": "int64", "sessions": "int64"})
    return _classified(tally)


# --- figures from counts -------------------------------------------------------------------


def _rates(tally: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pooled figures (metrics.add_rates) per key from a tally with `category` and `sessions`."""
    wide = tally.groupby([*keys, "category"])["sessions"].sum().unstack("category", fill_value=0)
    wide = wide.reindex(columns=list(codes.CATEGORIES), fill_value=0).astype("int64")
    return metrics.add_rates(wide).reset_index()


def _pct(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0) * 100).astype("float64")


def _worst_weekdays(totals: pd.DataFrame) -> pd.DataFrame:
    """Per pupil, from totals by (pupil_id, weekday): the weekday with the highest absence
    rate among weekdays with enough possible sessions (ties: the earlier weekday); pupils
    absent on no such weekday are left out."""
    figures = metrics.add_rates(totals).reset_index()
    absent = figures["authorised_sessions"] + figures["unauthorised_sessions"]
    eligible = figures[(figures["possible_sessions"] >= WORST_WEEKDAY_MIN_SESSIONS) & (absent > 0)]
    worst = (eligible.sort_values(["pupil_id", "absence_pct", "weekday"], ascending=[True, False, True])
             .drop_duplicates("pupil_id").set_index("pupil_id"))
    return worst.assign(weekday_name=worst["weekday"].map(dict(enumerate(WEEKDAY_NAMES))))


def _runs(absent_days: pd.DataFrame) -> pd.DataFrame:
    """Runs from `scope.ScopeMarks.absent_days`: pupil_id, run, start, end (day numbers), school_days, sessions."""
    return (absent_days.groupby(["pupil_id", "run"], as_index=False)
            .agg(start=("day", "min"), end=("day", "max"), school_days=("day", "size"), sessions=("absence", "sum")))


def _weekday(days: np.ndarray) -> np.ndarray:
    """Day numbers → 0 = Monday … 6 = Sunday."""
    return days - calendar.week_of_days(days)


# --- small helpers -------------------------------------------------------------------------


def _dates(days: pd.Series) -> pd.Series:
    """Stored day numbers → datetime.date values (an object column, as the screens show them)."""
    dates = calendar.days_to_dates(days.to_numpy(dtype="int64")).dt.date
    return pd.Series(dates.to_numpy(dtype=object), index=days.index, dtype=object)


def _in_scope(frame: pd.DataFrame, pupil_ids: list[int] | None) -> pd.DataFrame:
    return frame if pupil_ids is None else frame[frame["pupil_id"].isin([int(p) for p in pupil_ids])]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)
