"""Lateness: late arrivals before registers closed (`L`, present) and after (`U`, an
unauthorised absence — DOMAIN.md §1), minutes late, the weekdays lates fall on, and the
persistent-late list (a setting: this many late arrivals in one half term).

Half terms come from the marks like everything else in the calendar: a run of school
weeks with no week off between them.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, metrics, store
from core import marks as marks_table

BEFORE_CLOSE, AFTER_CLOSE = "L", "U"
LATE_CODES = (BEFORE_CLOSE, AFTER_CLOSE)
LATE_LABELS = {
    BEFORE_CLOSE: "Late before registers closed (L) — present",
    AFTER_CLOSE: f"Late after registers closed (U) — {codes.CATEGORY_LABELS[codes.UNAUTHORISED].lower()}",
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

PUPIL_COLUMNS = ["pupil_id", "late_arrivals", "late_before_close", "late_after_close", "minutes_late",
                 "mean_minutes_late", "most_lates_on"]
WEEKDAY_COLUMNS = ["weekday", "weekday_name", "session", "late_before_close", "late_after_close", "minutes_late"]
PERSISTENT_COLUMNS = ["pupil_id", "half_term_from", "half_term_to", "late_arrivals", "late_before_close",
                      "late_after_close", "minutes_late"]


def late_marks(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Every L and U mark in the period: pupil_id, day, session, code, minutes_late.

    `+day` keeps SQLite off the (day, code) index: through it, it would look up every mark
    of the period for its minutes late (1 s for a year); a straight scan takes 0.07 s."""
    rows = marks_table.marks_with_codes(db, calendar.to_day(period.date_from), calendar.to_day(period.as_of), LATE_CODES,
                                        pupil_ids, rare=True)
    return pd.DataFrame(rows, columns=["pupil_id", "day", "session", "code", "minutes_late"]).astype(
        {"pupil_id": "int64", "day": "int64", "session": "int64", "minutes_late": "Int64"})


def _weekday(days: np.ndarray) -> np.ndarray:
    return days - calendar.week_of_days(days)


def _tally(marks: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    counted = marks.assign(late_before_close=marks["code"] == BEFORE_CLOSE, late_after_close=marks["code"] == AFTER_CLOSE,
                           minutes_late=marks["minutes_late"].fillna(0))
    return counted.groupby(keys, as_index=False)[["late_before_close", "late_after_close", "minutes_late"]].sum()


def per_pupil(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per pupil with a late arrival: L and U counts, minutes late (total and mean),
    and the weekday most of their lates fall on."""
    marks = late_marks(db, period, pupil_ids)
    if marks.empty:
        return pd.DataFrame(columns=PUPIL_COLUMNS)
    totals = _tally(marks, ["pupil_id"]).set_index("pupil_id")
    arrivals = totals["late_before_close"] + totals["late_after_close"]
    timed = marks.dropna(subset=["minutes_late"]).groupby("pupil_id")["minutes_late"].mean()
    by_day = marks.assign(weekday=_weekday(marks["day"].to_numpy())).groupby(["pupil_id", "weekday"]).size()
    top = by_day.reset_index(name="lates").sort_values(["pupil_id", "lates", "weekday"], ascending=[True, False, True])
    top = top.drop_duplicates("pupil_id").set_index("pupil_id")["weekday"].map(dict(enumerate(WEEKDAY_NAMES)))
    return pd.DataFrame({
        "pupil_id": totals.index.to_numpy(),
        "late_arrivals": arrivals.astype("int64").to_numpy(),
        "late_before_close": totals["late_before_close"].astype("int64").to_numpy(),
        "late_after_close": totals["late_after_close"].astype("int64").to_numpy(),
        "minutes_late": totals["minutes_late"].astype("int64").to_numpy(),
        "mean_minutes_late": timed.reindex(totals.index).astype("float64").to_numpy(),
        "most_lates_on": top.reindex(totals.index).to_numpy(),
    }, columns=PUPIL_COLUMNS).sort_values(["late_arrivals", "pupil_id"], ascending=[False, True], ignore_index=True)


def by_weekday(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Late arrivals by weekday and session over the scope (the late-gate pattern)."""
    marks = late_marks(db, period, pupil_ids)
    if marks.empty:
        return pd.DataFrame(columns=WEEKDAY_COLUMNS)
    tally = _tally(marks.assign(weekday=_weekday(marks["day"].to_numpy())), ["weekday", "session"])
    return tally.assign(
        weekday_name=tally["weekday"].map(dict(enumerate(WEEKDAY_NAMES))),
        session=tally["session"].map(dict(enumerate(calendar.SESSIONS))),
        late_before_close=tally["late_before_close"].astype("int64"),
        late_after_close=tally["late_after_close"].astype("int64"),
        minutes_late=tally["minutes_late"].astype("int64"),
    )[WEEKDAY_COLUMNS]


def half_terms(school_days: np.ndarray) -> pd.DataFrame:
    """The half terms the school days fall in: number, first and last school day (day
    numbers). A new half term starts after a week with no school day."""
    days = np.unique(np.asarray(school_days, dtype=np.int64))
    if len(days) == 0:
        return pd.DataFrame(columns=["half_term", "first_day", "last_day"])
    weeks = calendar.week_of_days(days)
    number = np.cumsum(np.diff(weeks, prepend=weeks[0]) > 7)
    frame = pd.DataFrame({"half_term": number, "day": days})
    return frame.groupby("half_term", as_index=False).agg(first_day=("day", "min"), last_day=("day", "max"))


def persistent_late(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None,
                    threshold: int | None = None) -> pd.DataFrame:
    """Pupils with at least `threshold` late arrivals (L or U) in one half term of the
    period (the `persistent_late_arrivals` setting): one row per pupil and half term."""
    if threshold is None:
        threshold = int(store.get_settings(db)["persistent_late_arrivals"])
    marks = late_marks(db, period, pupil_ids)
    if marks.empty:
        return pd.DataFrame(columns=PERSISTENT_COLUMNS)
    first, last = calendar.to_day(period.date_from), calendar.to_day(period.as_of)
    terms = half_terms(marks_table.school_session_days(db, first, last)["day"].to_numpy())
    at = np.searchsorted(terms["first_day"].to_numpy(), marks["day"].to_numpy(), side="right") - 1
    marks = marks.assign(half_term=terms["half_term"].to_numpy()[np.maximum(at, 0)])
    tally = _tally(marks, ["pupil_id", "half_term"])
    tally = tally.assign(late_arrivals=tally["late_before_close"] + tally["late_after_close"])
    hits = tally[tally["late_arrivals"] >= threshold].merge(terms, on="half_term")
    return pd.DataFrame({
        "pupil_id": hits["pupil_id"].astype("int64"),
        "half_term_from": [calendar.from_day(d) for d in hits["first_day"]],
        "half_term_to": [calendar.from_day(d) for d in hits["last_day"]],
        "late_arrivals": hits["late_arrivals"].astype("int64"),
        "late_before_close": hits["late_before_close"].astype("int64"),
        "late_after_close": hits["late_after_close"].astype("int64"),
        "minutes_late": hits["minutes_late"].astype("int64"),
    }, columns=PERSISTENT_COLUMNS).sort_values(["half_term_from", "late_arrivals"], ascending=[False, False],
                                               ignore_index=True)
