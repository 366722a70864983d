"""Summary counts in the figures (FORMATS.md: a roll-up for dates the store has no marks for).

A summary-counts import (core/importers) stores, per pupil and date range, the possible,
attendance, authorised and unauthorised sessions. A pupil's figures for a period are their
marks in the period plus the counts that the period may take. The rule, which never counts
the same dates twice:

1. A count is taken whole or not at all (it says nothing about which dates in its range
   the sessions fell on): only a count whose whole date range lies in the period is used.
2. Marks win. A count is used only when the store holds no mark at all for that pupil
   on any date of its range; a count that overlaps the pupil's marks (even partly) is not
   used, and is listed as a data-quality problem (`not_used`).
3. Two current counts of one pupil whose ranges overlap are never both used: the newer
   (the later import) is used and the older is listed as not used.

Patterns (day of week, AM/PM, runs, trends) and the statutory triggers are computed from
marks only: a count has no dates for its sessions (DOMAIN.md §4 counts marks on or before
a date). `used` says for which dates a pupil's figures rest on counts, so screens can say
that patterns are not available there.
"""

from __future__ import annotations

import pandas as pd
import sqlite_utils

from core import calendar

SESSION_COLUMNS = ("possible_sessions", "attendance_sessions", "authorised_sessions", "unauthorised_sessions")

# Why a current count inside (or reaching into) the period is not in a pupil's figures.
OVERLAPS_MARKS = "overlaps_marks"
OVERLAPS_NEWER_COUNTS = "overlaps_newer_counts"
OUTSIDE_PERIOD = "outside_period"
REASONS = {
    OVERLAPS_MARKS: "the store holds marks for this pupil on some of these dates (marks are used instead)",
    OVERLAPS_NEWER_COUNTS: "newer summary counts for this pupil cover some of these dates (those are used instead)",
    OUTSIDE_PERIOD: "these dates reach outside the dates chosen (counts are used whole or not at all)",
}

_DAY = "CAST(julianday({}) - 2440587.5 AS INTEGER)"  # ISO date → day number (days since 1970-01-01)

COLUMNS = ["count_id", "pupil_id", "first_day", "last_day", *SESSION_COLUMNS, "first_marked_day", "last_marked_day"]


def current(db: sqlite_utils.Database, first_day: int | None = None, last_day: int | None = None) -> pd.DataFrame:
    """The current (not superseded) counts whose range touches the days given (every current
    count when no days are given), each with the first and last day the pupil has marks
    inside the count's range (NA when none). One indexed probe of the marks per count."""
    touching = "" if first_day is None else \
        f"AND {_DAY.format('c.date_to')} >= :first AND {_DAY.format('c.date_from')} <= :last"
    rows = db.execute(
        f"SELECT c.id, c.pupil_id, {_DAY.format('c.date_from')} AS first_day, {_DAY.format('c.date_to')} AS last_day, "
        f"{', '.join('c.' + column for column in SESSION_COLUMNS)} FROM summary_counts c "
        f"WHERE c.superseded_by IS NULL {touching} ORDER BY c.pupil_id, c.id",
        {"first": first_day, "last": last_day}).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS[:-2]).astype({c: "int64" for c in COLUMNS[:-2]})
    if frame.empty:
        return frame.assign(first_marked_day=pd.Series(dtype="Int64"), last_marked_day=pd.Series(dtype="Int64"))
    # Two probes each, so SQLite answers both from the end of the (pupil_id, day) primary key.
    marked = db.execute(
        "SELECT (SELECT MIN(day) FROM marks WHERE pupil_id = c.pupil_id AND day BETWEEN c.first_day AND c.last_day), "
        "       (SELECT MAX(day) FROM marks WHERE pupil_id = c.pupil_id AND day BETWEEN c.first_day AND c.last_day) "
        "FROM (SELECT json_extract(value, '$[0]') AS pupil_id, json_extract(value, '$[1]') AS first_day, "
        "             json_extract(value, '$[2]') AS last_day, key FROM json_each(?)) c ORDER BY c.key",
        (frame[["pupil_id", "first_day", "last_day"]].to_json(orient="values"),)).fetchall()
    spans = pd.DataFrame(marked, columns=["first_marked_day", "last_marked_day"]).astype("Int64")
    return pd.concat([frame, spans], axis=1)


def _sorted_out(found: pd.DataFrame, first_day: int | None, last_day: int | None) -> pd.DataFrame:
    """`found` (current) with `reason`: '' for a count the figures use, else why not (REASONS)."""
    reason = pd.Series("", index=found.index, dtype=object)
    reason[found["first_marked_day"].notna().to_numpy()] = OVERLAPS_MARKS  # a conflict in the data comes first
    if first_day is not None:
        reason[(reason == "") & ((found["first_day"] < first_day) | (found["last_day"] > last_day))] = OUTSIDE_PERIOD
    candidates = found[reason == ""]
    if len(candidates) > 1:
        pairs = candidates.reset_index().merge(candidates.reset_index(), on="pupil_id", suffixes=("", "_other"))
        older = pairs[(pairs["count_id"] < pairs["count_id_other"])
                      & (pairs["first_day"] <= pairs["last_day_other"]) & (pairs["first_day_other"] <= pairs["last_day"])]
        reason[older["index"].unique()] = OVERLAPS_NEWER_COUNTS
    return found.assign(reason=reason.to_numpy())


def used(db: sqlite_utils.Database, first_day: int, last_day: int) -> pd.DataFrame:
    """Per pupil whose figures for the period rest partly on counts: the sessions from the
    counts used (SESSION_COLUMNS) and `counts_periods`, a tuple of (from, to) dates, earliest
    first. Indexed by pupil_id; empty (with those columns) when no count is used."""
    found = current(db, first_day, last_day)
    if found.empty:  # the usual store: nothing more to work out
        return pd.DataFrame({**{c: pd.Series(dtype="int64") for c in SESSION_COLUMNS},
                             "counts_periods": pd.Series(dtype=object)}, index=pd.Index([], name="pupil_id"))
    found = _sorted_out(found, first_day, last_day)
    taken = found[found["reason"] == ""].sort_values(["pupil_id", "first_day"])
    sums = taken.groupby("pupil_id")[list(SESSION_COLUMNS)].sum().astype("int64")
    periods: dict[int, list] = {}
    for pupil, first, last in zip(taken["pupil_id"], taken["first_day"], taken["last_day"]):  # a few rows a pupil
        periods.setdefault(int(pupil), []).append((calendar.from_day(first), calendar.from_day(last)))
    return sums.assign(counts_periods=pd.Series({p: tuple(spans) for p, spans in periods.items()}, dtype=object))

def not_used(db: sqlite_utils.Database, first_day: int | None = None, last_day: int | None = None) -> pd.DataFrame:
    """Current counts the figures leave out, with the reason (REASONS): those touching the days
    given, or — with no days — every current count that overlaps marks or newer counts
    (the data-quality list: either is a conflict in the data, wherever the period is)."""
    found = _sorted_out(current(db, first_day, last_day), first_day, last_day)
    left_out = found[found["reason"] != ""]
    return pd.DataFrame({
        "pupil_id": left_out["pupil_id"].to_numpy(),
        "counts_from": [calendar.from_day(d) for d in left_out["first_day"]],
        "counts_to": [calendar.from_day(d) for d in left_out["last_day"]],
        "possible_sessions": left_out["possible_sessions"].to_numpy(),
        "reason": left_out["reason"].to_numpy(),
        "first_marked_day": [None if pd.isna(d) else calendar.from_day(int(d)) for d in left_out["first_marked_day"]],
        "last_marked_day": [None if pd.isna(d) else calendar.from_day(int(d)) for d in left_out["last_marked_day"]],
    })
