"""A scope's marks over a range of days, read without reading every mark.

Per-pupil views (patterns, the Below 90% list) and the statutory triggers need each
pupil's marks session by session. Most marks are plain present marks (`/`, `\\`); reading
them one by one would cost more than everything else those views do. So only these are
read: every mark other than a plain present one; every mark at a session only part of the
school had (a nursery-only INSET day, a weekend trip); and every mark of an *incomplete*
pupil. A pupil is complete with a mark for every whole-school session between their own
first and last marked day (almost every pupil: exports give a mark for every session on
roll); any of their whole-school sessions in that span not read is then a plain present mark.

Speed: the marks other than plain present ones are read from the (pupil_id, code, day)
index, one range of codes at a time, so SQLite steps over none of the plain present marks;
a small scope (one pupil, a form) is read whole. Nothing here loops over marks in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, store

# Codes that are a present mark in every code era and say nothing more: the bulk of the
# store, which per-pupil views count without reading (everything else is read mark by mark).
LATE = "L"
PLAIN_PRESENT = tuple(sorted(
    c.code for c in codes.CODE_TABLE
    if c.category == codes.PRESENT and c.valid_from is None and c.valid_to is None and c.code != LATE
))

# Marks whose minutes late are read (a late arrival before and after registers closed,
# DOMAIN.md §1); other marks read carry no minutes.
LATE_ARRIVALS = ("L", "U")

# A session is a whole-school session when it has marks for at least this share of the
# pupils marked at the busiest session in the range; the marks at other sessions (a
# nursery-only INSET day, a weekend trip) are read one by one. It changes only how fast
# per-pupil views read, never a figure.
WHOLE_SCHOOL_SESSION_SHARE = 0.5

# A scope of at most this many pupils is read whole: their marks are few, and counting the
# school's sessions would cost more than reading them.
READ_WHOLE_UP_TO_PUPILS = 60

MARK_COLUMNS = ["pupil_id", "day", "session", "code", "minutes_late"]


@dataclass(frozen=True)
class ScopeMarks:
    """What was read of a scope's marks, and what the rest must be.

    marks    -- the marks read, classified: pupil_id, day, session, code, minutes_late,
                category, whole_school (the mark is at a whole-school session).
    pupils   -- pupil_id, complete, lo, hi: the pupil's span as positions [lo, hi) in days_held.
    days_held, sessions_held -- the days with a whole-school session, and how many (1 or 2).
    """

    marks: pd.DataFrame
    pupils: pd.DataFrame
    days_held: np.ndarray
    sessions_held: np.ndarray

    def totals_by(self, bucket_of: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
        """Sessions in each category per pupil per bucket of days (a weekday, a week...):
        indexed by (pupil_id, bucket), a column per category."""
        marks = self.marks.assign(bucket=bucket_of(self.marks["day"].to_numpy()))
        read = (marks.groupby(["pupil_id", "bucket", "category"]).size().unstack("category", fill_value=0)
                .reindex(columns=list(codes.CATEGORIES), fill_value=0))
        read_held = marks[marks["whole_school"]].groupby(["pupil_id", "bucket"]).size()
        # Whole-school sessions in each complete pupil's span, by bucket: differences of running totals.
        labels, buckets = pd.factorize(bucket_of(self.days_held), sort=True)
        running = np.zeros((len(self.days_held) + 1, len(buckets)), dtype=np.int64)
        running[np.arange(1, len(self.days_held) + 1), labels] = self.sessions_held
        running = running.cumsum(axis=0)
        complete = self.pupils[self.pupils["complete"]]
        held = pd.DataFrame(running[complete["hi"].to_numpy()] - running[complete["lo"].to_numpy()],
                            index=pd.Index(complete["pupil_id"].to_numpy(), name="pupil_id"),
                            columns=pd.Index(buckets, name="bucket")).stack()
        held = held[held > 0]
        totals = read.reindex(read.index.union(held.index), fill_value=0)
        plain = held.reindex(totals.index, fill_value=0) - read_held.reindex(totals.index, fill_value=0)
        is_complete = totals.index.get_level_values("pupil_id").isin(complete["pupil_id"])
        return totals.assign(**{codes.PRESENT: totals[codes.PRESENT] + plain.where(is_complete, 0)})

    def days_all(self, counted: tuple[str, ...]) -> pd.DataFrame:
        """Each day on which a pupil had a possible session and every possible session was in
        one of the `counted` categories (absence, or unauthorised absence): pupil_id, day,
        sessions (how many were), run; in (pupil_id, day) order.

        `run` numbers the runs of such days across all pupils. Days with no possible session
        neither count nor break a run; a day with a possible session of any other category
        breaks it. The days not read (all plain present) are counted from each read day's
        place among the days held.
        """
        marks = self.marks
        days = (marks.groupby(["pupil_id", "day", "category"]).size().unstack("category", fill_value=0)
                .reindex(columns=list(codes.CATEGORIES), fill_value=0))
        read_held = marks[marks["whole_school"]].groupby(["pupil_id", "day"]).size()
        days = days.assign(read_held=read_held.reindex(days.index, fill_value=0)).reset_index()
        pupils = self.pupils.set_index("pupil_id").loc[days["pupil_id"]]
        complete = pupils["complete"].to_numpy()
        # Each day's place among the days held (a sentinel past the last keeps the lookups in bounds).
        days_held = np.append(self.days_held, np.iinfo(np.int64).max)
        sessions_held = np.append(self.sessions_held, 0)
        position = np.searchsorted(self.days_held, days["day"].to_numpy())
        held_day = days_held[position] == days["day"].to_numpy()
        plain = np.where(complete & held_day, sessions_held[position] - days["read_held"], 0)
        held_days_read_before = pd.Series(held_day).groupby(days["pupil_id"]).cumsum().to_numpy() - held_day
        plain_days_before = np.where(complete, position - pupils["lo"].to_numpy() - held_days_read_before, 0)
        sessions = sum(days[c] for c in counted)
        breaking = sum(days[c] for c in codes.POSSIBLE_CATEGORIES if c not in counted) + plain
        # Days broken so far (read or not): constant along a run, and different from the next run.
        broken_so_far = plain_days_before + (breaking > 0).groupby(days["pupil_id"]).cumsum()
        qualifying = days.assign(sessions=sessions, broken_so_far=broken_so_far)[(sessions > 0) & (breaking == 0)]
        run = qualifying.groupby(["pupil_id", "broken_so_far"], sort=False).ngroup()
        return qualifying.assign(run=run)[["pupil_id", "day", "sessions", "run"]].reset_index(drop=True)

    def since(self, first_day: int) -> "ScopeMarks":
        """The same scope read from `first_day` on: what `read_scope` would give for the later
        start (a complete pupil is complete over any later part of their span too)."""
        marks = self.marks[self.marks["day"].to_numpy() >= first_day].reset_index(drop=True)
        pupils = self.pupils
        lo = np.maximum(pupils["lo"].to_numpy(), np.searchsorted(self.days_held, first_day, side="left"))
        lo = np.minimum(lo, pupils["hi"].to_numpy())
        marked = (pupils["complete"].to_numpy() & (lo < pupils["hi"].to_numpy())) | \
            pupils["pupil_id"].isin(marks["pupil_id"]).to_numpy()
        pupils = pupils.assign(lo=lo)[marked].reset_index(drop=True)
        return ScopeMarks(marks, pupils, self.days_held, self.sessions_held)

    def of_pupils(self, pupil_ids) -> "ScopeMarks":
        """The same read, for only these pupils."""
        marks = self.marks[self.marks["pupil_id"].isin(pupil_ids)].reset_index(drop=True)
        pupils = self.pupils[self.pupils["pupil_id"].isin(pupil_ids)].reset_index(drop=True)
        return ScopeMarks(marks, pupils, self.days_held, self.sessions_held)

    def absent_days(self) -> pd.DataFrame:
        """Each day on which every possible session of a pupil was absence (authorised or
        not): pupil_id, day, absence (sessions), run — see `days_all`."""
        return self.days_all((codes.AUTHORISED, codes.UNAUTHORISED)).rename(columns={"sessions": "absence"})


def read_scope(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None) -> ScopeMarks:
    """Read what per-pupil views need of a scope's marks between two day numbers, inclusive
    (`pupil_ids` None: every pupil)."""
    if pupil_ids is not None and len(pupil_ids) <= READ_WHOLE_UP_TO_PUPILS:
        return _read_whole(db, first_day, last_day, pupil_ids)
    days = {"first": first_day, "last": last_day}
    scope, scope_params = scope_sql(pupil_ids)
    # Marks per pupil from a scan of the narrow index (`+day` keeps SQLite on it); first and
    # last day by a key probe each.
    rows = db.execute(
        "SELECT p.pupil_id, p.marks, "
        "(SELECT MIN(day) FROM marks m WHERE m.pupil_id = p.pupil_id AND m.day BETWEEN :first AND :last), "
        "(SELECT MAX(day) FROM marks m WHERE m.pupil_id = p.pupil_id AND m.day BETWEEN :first AND :last) "
        f"FROM (SELECT pupil_id, COUNT(*) AS marks FROM marks WHERE +day BETWEEN :first AND :last{scope} "
        "GROUP BY pupil_id) p",
        {**days, **scope_params},
    ).fetchall()
    spans = pd.DataFrame(rows, columns=["pupil_id", "marks", "first", "last"]).astype("int64")
    sessions = sessions_held(db, first_day, last_day)
    whole_school = (sessions["marks"] > 0) & (sessions["marks"] >= WHOLE_SCHOOL_SESSION_SHARE * sessions["marks"].max())
    held = sessions[whole_school].groupby("day").size()
    days_held, counts_held = held.index.to_numpy(dtype=np.int64), held.to_numpy(dtype=np.int64)

    rows = _read_not_plain(db, first_day, last_day, pupil_ids)
    partial = sessions.loc[~whole_school, ["day", "session"]]
    plain, plain_params = codes_sql("plain", PLAIN_PRESENT)
    if len(partial):
        rows += db.execute(
            "SELECT pupil_id, day, session, code, minutes_late FROM marks "
            "WHERE (day, session) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
            f"FROM json_each(:partial)) AND code IN {plain}",  # few marks: the scope is applied below
            {"partial": json.dumps(partial.to_numpy().tolist()), **plain_params},
        ).fetchall()
    marks = _marks_frame(rows, sessions[whole_school], spans["pupil_id"])

    held_before = np.concatenate([[0], np.cumsum(counts_held)])
    lo = np.searchsorted(days_held, spans["first"].to_numpy(), side="left")
    hi = np.searchsorted(days_held, spans["last"].to_numpy(), side="right")
    at_partial = marks[~marks["whole_school"]].groupby("pupil_id").size().reindex(spans["pupil_id"], fill_value=0)
    complete = spans["marks"].to_numpy() - at_partial.to_numpy() == held_before[hi] - held_before[lo]
    pupils = pd.DataFrame({"pupil_id": spans["pupil_id"], "complete": complete, "lo": lo, "hi": hi})

    incomplete = spans["pupil_id"][~complete].tolist()
    if incomplete:
        scope, scope_params = scope_sql(incomplete)
        rows += db.execute(
            "SELECT pupil_id, day, session, code, minutes_late FROM marks WHERE +day BETWEEN :first AND :last "
            f"AND code IN {plain}{scope}", {**days, **plain_params, **scope_params}).fetchall()
        marks = _marks_frame(rows, sessions[whole_school], spans["pupil_id"])
    return ScopeMarks(marks, pupils, days_held, counts_held)


def _read_whole(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int]) -> ScopeMarks:
    """Every mark of a few pupils, each pupil incomplete (nothing is inferred)."""
    scope, scope_params = scope_sql(pupil_ids)
    rows = db.execute(
        "SELECT pupil_id, day, session, code, minutes_late FROM marks "
        f"WHERE day BETWEEN :first AND :last{scope}", {"first": first_day, "last": last_day, **scope_params}).fetchall()
    marks = classified(store.rows_frame(rows, MARK_DTYPES))
    present = np.unique(marks["pupil_id"].to_numpy())
    pupils = pd.DataFrame({"pupil_id": present, "complete": False, "lo": 0, "hi": 0})
    return ScopeMarks(marks.assign(whole_school=False), pupils, np.array([], dtype=np.int64),
                      np.array([], dtype=np.int64))


def _read_not_plain(db: sqlite_utils.Database, first_day: int, last_day: int,
                    pupil_ids: list[int] | None) -> list[tuple]:
    """Every mark other than a plain present one, from the (pupil_id, code, day) index: one
    range of codes at a time, each pupil's range found by a probe. Minutes late are read
    (from the table) only for late arrivals."""
    if pupil_ids is None:
        pupils, params = "SELECT id FROM pupils", {}
    else:
        pupils, params = "SELECT value FROM json_each(:pupils)", {"pupils": json.dumps([int(p) for p in pupil_ids])}
    params.update({"first": first_day, "last": last_day})
    bounds = [None, *PLAIN_PRESENT, None]  # codes between two plain present codes, in index order
    ranges = []
    for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
        conditions = []
        if low is not None:
            conditions.append(f"code > :low{i}")
            params[f"low{i}"] = low
        if high is not None:
            conditions.append(f"code < :high{i}")
            params[f"high{i}"] = high
        ranges.append(
            "SELECT pupil_id, day, session, code, NULL FROM marks INDEXED BY marks_pupil_code "
            f"WHERE pupil_id IN ({pupils}) AND {' AND '.join(conditions)} AND +day BETWEEN :first AND :last")
    rows = db.execute(" UNION ALL ".join(ranges), params).fetchall()
    late, late_params = codes_sql("late", LATE_ARRIVALS)
    lates = db.execute(
        "SELECT pupil_id, day, session, code, minutes_late FROM marks INDEXED BY marks_pupil_code "
        f"WHERE pupil_id IN ({pupils}) AND code IN {late} AND +day BETWEEN :first AND :last "
        "AND minutes_late IS NOT NULL", {**params, **late_params}).fetchall()
    return lates + rows  # the late arrivals first: duplicates are dropped keeping the first


MARK_DTYPES = {"pupil_id": "int64", "day": "int64", "session": "int64", "code": "object", "minutes_late": "Int64"}


def _marks_frame(rows: list[tuple], whole_school_sessions: pd.DataFrame, pupil_ids: pd.Series) -> pd.DataFrame:
    """The scope's marks as read (each once: the first read of a session is kept), classified,
    each saying whether it is at a whole-school session."""
    marks = store.rows_frame(rows, MARK_DTYPES)
    pupil, day, session = (marks[c].to_numpy() for c in ("pupil_id", "day", "session"))
    first_read = ~pd.Series(pupil * 2_000_000 + day * 2 + session).duplicated().to_numpy()
    marks = marks[np.isin(pupil, pupil_ids.to_numpy()) & first_read].reset_index(drop=True)
    key = marks["day"].to_numpy() * 2 + marks["session"].to_numpy()
    held = whole_school_sessions["day"].to_numpy() * 2 + whole_school_sessions["session"].to_numpy()
    return classified(marks).assign(whole_school=np.isin(key, held))


# Sessions are told apart (whole school or not) by counting the marks of this many pupils,
# spread over the roll; a school with fewer pupils has all of them counted.
SAMPLE_PUPILS = 64


def sessions_held(db: sqlite_utils.Database, first_day: int, last_day: int) -> pd.DataFrame:
    """Every session with a mark in the range (whole school): day, session, marks — the marks
    of a sample of the pupils (every pupil in a school of up to SAMPLE_PUPILS), enough to
    tell a whole-school session from one only a few pupils had.

    Found by probes rather than by counting every mark: each day with marks from the one
    before it, whether it had an AM and a PM session, then the sample's marks by key. (How
    sessions are told apart changes only how fast a scope is read, never what it holds.)
    """
    params = {"first": first_day, "last": last_day}
    held = db.execute(
        "WITH RECURSIVE days(day) AS (SELECT MIN(day) FROM marks WHERE day >= :first "
        "UNION ALL SELECT (SELECT MIN(day) FROM marks WHERE day > days.day) FROM days WHERE days.day < :last) "
        "SELECT day, EXISTS (SELECT 1 FROM marks m WHERE m.day = days.day AND m.session = 0), "
        "EXISTS (SELECT 1 FROM marks m WHERE m.day = days.day AND m.session = 1) FROM days WHERE day <= :last",
        params).fetchall()
    pupils = [row[0] for row in db.execute("SELECT id FROM pupils ORDER BY id").fetchall()]
    sample = pupils[::max(1, len(pupils) // SAMPLE_PUPILS)]
    counted = db.execute(
        "SELECT day, session, COUNT(*) FROM marks WHERE pupil_id IN (SELECT value FROM json_each(:sample)) "
        "AND day BETWEEN :first AND :last GROUP BY day, session", {**params, "sample": json.dumps(sample)}).fetchall()
    days = store.rows_frame(held, {"day": "int64", 0: "int64", 1: "int64"})
    sessions = days.melt(id_vars="day", var_name="session", value_name="held").astype("int64")
    sessions = sessions[sessions["held"] > 0].drop(columns="held")
    counts = store.rows_frame(counted, {"day": "int64", "session": "int64", "marks": "int64"})
    sessions = sessions.merge(counts, on=["day", "session"], how="left").fillna({"marks": 0}).astype("int64")
    return sessions.sort_values(["day", "session"], ignore_index=True)


# --- small helpers -------------------------------------------------------------------------


CATEGORY_NAMES = np.array(codes.CATEGORIES, dtype=object)


def classified(marks: pd.DataFrame) -> pd.DataFrame:
    """Marks (or tallies) with `day` and `code`, given the category of each code on its day
    (both as text: Python strings)."""
    era_starts = np.array([calendar.to_day(edge) for edge in codes.era_boundaries()], dtype=np.int64)
    eras = np.searchsorted(era_starts, marks["day"].to_numpy(dtype=np.int64), side="right")
    code = marks["code"].to_numpy(dtype=object)
    category = codes.classify_by_era(pd.Series(code, copy=False), eras).cat.codes.to_numpy()
    return marks.assign(code=code, category=CATEGORY_NAMES[category])


def scope_sql(pupil_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    """A condition restricting marks to a scope's pupils (none when the scope is everyone),
    and its named parameter."""
    if pupil_ids is None:
        return "", {}
    pupils = json.dumps([int(p) for p in pupil_ids])
    return " AND pupil_id IN (SELECT value FROM json_each(:pupils))", {"pupils": pupils}


def codes_sql(name: str, code_list: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Named placeholders for a list of codes, e.g. "(:plain0, :plain1)", and their parameters."""
    params = {f"{name}{i}": code for i, code in enumerate(code_list)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params
