"""Early warning (issue 17 item 6): how close each pupil is to ending the year persistently
absent, from the school calendar (core/school_calendar.py) and DOMAIN.md §4's rule.

- `sessions_to_spare` = ceil((P + R) × 10%) − 1 − A: P possible sessions and A absence
  sessions from the start of the academic year to the as-of date, R the school calendar's
  sessions after it to the last school day of the year. The most sessions the pupil can
  still miss and end the year not persistently absent (PA is absence at or above 10%, so
  exactly 90.0% is PA), if every remaining session is possible; negative when even full
  attendance cannot keep them out of PA; None when the calendar does not reach the year's end.
- `attendance_needed_pct`: the attendance over the rest of the year that ends it above 90%
  (not PA): (R − spare) / R; 0 when the pupil could miss every remaining session; None
  when it cannot be done (spare below 0) or is not known.
- `watch_list`: pupils not persistently absent but at or below `WATCH_UP_TO_PCT` whose
  attendance is falling (the last `RECENT_WEEKS` school weeks below their attendance before
  them) or whose absence comes in many short spells (`MANY_SPELLS` or more spells of at most
  `SHORT_SPELL_DAYS` school days).
"""

from __future__ import annotations

from datetime import date
from math import ceil

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, metrics, patterns, school_calendar, schools, scope, thresholds

WATCH_UP_TO_PCT = 93.0
RECENT_WEEKS = 4
SHORT_SPELL_DAYS = 2
MANY_SPELLS = 3

SPARE_COLUMNS = ["pupil_id", "year_possible_sessions", "year_absence_sessions", "sessions_left",
                 "sessions_to_spare", "attendance_needed_pct"]
WATCH_COLUMNS = ["pupil_id", "attendance_pct", "recent_attendance_pct", "earlier_attendance_pct", "falling",
                 "short_spells", "why"]


def sessions_to_spare(possible: int, absent: int, sessions_left: int | None) -> int | None:
    """DOMAIN.md §4: the most further absences that still end the year out of PA."""
    if sessions_left is None:
        return None
    share = thresholds.PERSISTENT.absence_share  # 1/10: PA at absence ≥ 10% of possible
    total = possible + sessions_left
    return ceil(share.numerator * total / share.denominator) - 1 - absent if total else None


def attendance_needed_pct(spare: int | None, sessions_left: int | None) -> float | None:
    """Attendance over the rest of the year that ends it above 90%."""
    if spare is None or sessions_left is None or spare < 0 or sessions_left <= 0:
        return None
    return max(0, sessions_left - spare) / sessions_left * 100


def year_to_date(as_of: date) -> metrics.Period:
    return metrics.Period(calendar.academic_year_start(as_of), as_of)


def spare_sessions(db: sqlite_utils.Database, as_of: date,
                   saved: school_calendar.SchoolCalendar | dict | None = None, pupil_ids: list[int] | None = None,
                   figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per pupil with a possible session this academic year up to `as_of`: their year's
    possible and absence sessions, the calendar's sessions left, `sessions_to_spare` and
    `attendance_needed_pct` (both None without a calendar reaching the year's end).

    `saved`: one calendar for every pupil, or school id → calendar (not given: each school's
    saved calendar, `school_calendar.load_each`), each pupil's sessions left from their own
    school's (issue 18). Only the pupils `pupil_ids` when given; `figures`: the year's
    figures, when the caller has them."""
    saved = school_calendar.load_each(db) if saved is None else saved
    if figures is None:
        figures = metrics.pupil_figures(db, year_to_date(as_of), pupil_ids)
    if not isinstance(saved, dict):
        return spare_sessions_of(figures, saved.school_sessions_left(as_of) if saved is not None else None)
    left = {int(s): one.school_sessions_left(as_of) for s, one in saved.items()}
    if db.execute("SELECT COUNT(*) FROM schools").fetchone()[0] <= 1:
        return spare_sessions_of(figures, left.get(1))
    school_of = schools.school_of_pupils(db, figures["pupil_id"])
    return spare_sessions_of(figures, figures["pupil_id"].map(school_of).map(left).set_axis(figures["pupil_id"]))


def spare_sessions_of(figures: pd.DataFrame, sessions_left: int | None | pd.Series) -> pd.DataFrame:
    """`spare_sessions` from the year's `metrics.pupil_figures` and the sessions left (one number
    for every pupil, or a Series by pupil id: each pupil's school's)."""
    figures = figures[figures["possible_sessions"] > 0]
    possible = figures["possible_sessions"].astype("int64").to_numpy()
    absent = (figures["authorised_sessions"] + figures["unauthorised_sessions"]).astype("int64").to_numpy()
    if isinstance(sessions_left, pd.Series):
        lefts = [None if pd.isna(v) else int(v) for v in sessions_left.reindex(figures["pupil_id"]).to_numpy()]
    else:
        lefts = [sessions_left] * len(figures)
    spare = [sessions_to_spare(int(p), int(a), left) for p, a, left in zip(possible, absent, lefts)]
    return pd.DataFrame({
        "pupil_id": figures["pupil_id"].astype("int64").to_numpy(),
        "year_possible_sessions": possible,
        "year_absence_sessions": absent,
        "sessions_left": pd.array(lefts, dtype="Int64"),
        "sessions_to_spare": pd.array(spare, dtype="Int64"),
        "attendance_needed_pct": pd.array([attendance_needed_pct(s, left) for s, left in zip(spare, lefts)],
                                          dtype="Float64"),
    }, columns=SPARE_COLUMNS)


def watch_list(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None,
               figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pupils above 90% and at or below 93% whose attendance is falling or whose absence comes in
    many short spells, lowest attendance first. `figures`: the period's metrics.pupil_figures
    of at least these pupils, when the caller has them."""
    figures = metrics.pupil_figures(db, period, pupil_ids) if figures is None else figures
    if pupil_ids is not None:
        figures = figures[figures["pupil_id"].isin(pupil_ids)]
    near = figures[(figures["possible_sessions"] > 0) & ~figures["persistently_absent"]
                   & (figures["attendance_pct"] <= WATCH_UP_TO_PCT)]
    if near.empty:
        return pd.DataFrame(columns=WATCH_COLUMNS)
    ids = near["pupil_id"].astype("int64").tolist()
    first_day, last_day = calendar.to_day(period.date_from), calendar.to_day(period.as_of)
    read = scope.read_scope(db, first_day, last_day, ids)
    recent_weeks = patterns.last_school_weeks(db, period, RECENT_WEEKS)
    recent = _attendance_since(read, int(recent_weeks[0]) if len(recent_weeks) else last_day + 1)
    runs = patterns._runs(read.absent_days()) if not read.absent_days().empty else pd.DataFrame(
        columns=["pupil_id", "school_days"])
    spells = runs[runs["school_days"] <= SHORT_SPELL_DAYS].groupby("pupil_id").size()
    found = near[["pupil_id", "attendance_pct", "possible_sessions", "attendance_sessions"]].set_index("pupil_id")
    found = found.join(recent, how="left")
    earlier_possible = found["possible_sessions"] - found["recent_possible"].fillna(0)
    earlier_attended = found["attendance_sessions"] - found["recent_attended"].fillna(0)
    earlier = (earlier_attended / earlier_possible.where(earlier_possible > 0) * 100).astype("float64")
    recent_pct = (found["recent_attended"] / found["recent_possible"].where(found["recent_possible"] > 0)
                  * 100).astype("float64")
    falling = (recent_pct < earlier).fillna(False)
    short = spells.reindex(found.index, fill_value=0).astype("int64")
    many = short >= MANY_SPELLS
    why = [", ".join(x for x in ("attendance falling" if f else "", f"{s} short spells of absence" if m else "") if x)
           for f, s, m in zip(falling, short, many)]
    out = pd.DataFrame({
        "pupil_id": found.index.to_numpy(dtype="int64"),
        "attendance_pct": found["attendance_pct"].astype("float64").to_numpy(),
        "recent_attendance_pct": recent_pct.to_numpy(), "earlier_attendance_pct": earlier.to_numpy(),
        "falling": falling.to_numpy(dtype=bool), "short_spells": short.to_numpy(), "why": why,
    }, columns=WATCH_COLUMNS)
    out = out[out["falling"] | (out["short_spells"] >= MANY_SPELLS)]
    return out.sort_values(["attendance_pct", "pupil_id"], ignore_index=True)


def _attendance_since(read: scope.ScopeMarks, first_day: int) -> pd.DataFrame:
    """Per pupil: possible and attended sessions from `first_day` to the read's end."""
    since = read.since(first_day)
    if since.pupils.empty:
        return pd.DataFrame(columns=["recent_possible", "recent_attended"])
    figures = metrics.add_rates(since.totals_by(lambda days: np.zeros(len(days), dtype=np.int64)))
    figures = figures.reset_index()
    return pd.DataFrame({"recent_possible": figures["possible_sessions"].to_numpy(dtype="float64"),
                         "recent_attended": (figures[codes.PRESENT] + figures[codes.APPROVED_ACTIVITY]
                                             ).to_numpy(dtype="float64")},
                        index=pd.Index(figures["pupil_id"].to_numpy(dtype="int64"), name="pupil_id"))
