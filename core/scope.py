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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes
from core import marks as marks_table

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

# A pupil and a bucket of days (a day number, a week's Monday, a weekday) packed into one
# integer that sorts by pupil, then bucket.
_BUCKET_BITS = 24
_BUCKET_OFFSET = 1 << 22  # buckets may be negative (days before 1970)
_PRESENT = list(codes.CATEGORIES).index(codes.PRESENT)


def _pair_keys(pupil_ids: np.ndarray, buckets: np.ndarray) -> np.ndarray:
    return (np.asarray(pupil_ids, dtype=np.int64) << _BUCKET_BITS) + (np.asarray(buckets, dtype=np.int64)
                                                                         + _BUCKET_OFFSET)


def _unpack(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return keys >> _BUCKET_BITS, (keys & ((1 << _BUCKET_BITS) - 1)) - _BUCKET_OFFSET


def _category_counts(position: np.ndarray, categories: np.ndarray, rows: int) -> np.ndarray:
    """A (rows × categories) count of marks: each mark at its row `position`, in its category."""
    category = pd.Index(list(codes.CATEGORIES)).get_indexer(categories)
    flat = np.bincount(np.asarray(position, dtype=np.int64) * len(codes.CATEGORIES) + category,
                       minlength=rows * len(codes.CATEGORIES))
    return flat.reshape(rows, len(codes.CATEGORIES)).astype(np.int64)


def _cumsum_within(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running totals of `values` restarting at each new group (rows in group order)."""
    running = np.cumsum(values)
    if len(values) == 0:
        return running
    starts = np.ones(len(groups), dtype=bool)
    starts[1:] = groups[1:] != groups[:-1]
    before = (running - values)[starts]
    return running - np.repeat(before, np.diff(np.append(np.flatnonzero(starts), len(values))))


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
        indexed by (pupil_id, bucket) in order, a column per category."""
        marks = self.marks
        read_key = _pair_keys(marks["pupil_id"].to_numpy(), bucket_of(marks["day"].to_numpy()))
        # Whole-school sessions in each complete pupil's span, by bucket: differences of running totals.
        labels, buckets = pd.factorize(bucket_of(self.days_held), sort=True)
        running = np.zeros((len(self.days_held) + 1, len(buckets)), dtype=np.int64)
        running[np.arange(1, len(self.days_held) + 1), labels] = self.sessions_held
        running = running.cumsum(axis=0)
        complete = self.pupils[self.pupils["complete"]]
        held = running[complete["hi"].to_numpy()] - running[complete["lo"].to_numpy()]
        has = np.nonzero(held > 0)
        held_key = _pair_keys(complete["pupil_id"].to_numpy()[has[0]], np.asarray(buckets, dtype=np.int64)[has[1]])
        keys, position = np.unique(np.concatenate([read_key, held_key]), return_inverse=True)
        read_at, held_at = position[:len(read_key)], position[len(read_key):]
        totals = _category_counts(read_at, marks["category"].to_numpy(), len(keys))
        # Complete pupils' whole-school sessions not read are plain present marks.
        plain = np.zeros(len(keys), dtype=np.int64)
        np.add.at(plain, held_at, held[has])
        read_held = np.bincount(read_at[marks["whole_school"].to_numpy(dtype=bool)], minlength=len(keys))
        pupil, bucket = _unpack(keys)
        is_complete = np.isin(pupil, complete["pupil_id"].to_numpy())
        totals[:, _PRESENT] += np.where(is_complete, plain - read_held, 0)
        index = pd.MultiIndex.from_arrays([pupil, bucket], names=["pupil_id", "bucket"])
        return pd.DataFrame(totals, index=index, columns=pd.Index(list(codes.CATEGORIES), name="category"))

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
        keys, position = np.unique(_pair_keys(marks["pupil_id"].to_numpy(), marks["day"].to_numpy()),
                                   return_inverse=True)
        by_category = _category_counts(position, marks["category"].to_numpy(), len(keys))
        read_held = np.bincount(position[marks["whole_school"].to_numpy(dtype=bool)], minlength=len(keys))
        pupil, day = _unpack(keys)
        spans = self.pupils.set_index("pupil_id")
        complete = spans["complete"].reindex(pupil).to_numpy(dtype=bool)
        lo = spans["lo"].reindex(pupil).to_numpy(dtype=np.int64)
        # Each day's place among the days held (a sentinel past the last keeps the lookups in bounds).
        days_held = np.append(self.days_held, np.iinfo(np.int64).max)
        sessions_held = np.append(self.sessions_held, 0)
        at = np.searchsorted(self.days_held, day)
        held_day = days_held[at] == day
        plain = np.where(complete & held_day, sessions_held[at] - read_held, 0)
        held_days_read_before = _cumsum_within(pupil, held_day.astype(np.int64)) - held_day
        plain_days_before = np.where(complete, at - lo - held_days_read_before, 0)
        in_counted = np.isin(codes.CATEGORIES, counted)
        possible = np.isin(codes.CATEGORIES, list(codes.POSSIBLE_CATEGORIES))
        sessions = by_category[:, in_counted].sum(axis=1)
        breaking = by_category[:, possible & ~in_counted].sum(axis=1) + plain
        # Days broken so far (read or not): constant along a run, and different from the next run.
        broken_so_far = plain_days_before + _cumsum_within(pupil, (breaking > 0).astype(np.int64))
        qualifying = (sessions > 0) & (breaking == 0)
        pupil, day, sessions = pupil[qualifying], day[qualifying], sessions[qualifying]
        broken_so_far = broken_so_far[qualifying]
        new_run = np.ones(len(pupil), dtype=bool)
        new_run[1:] = (pupil[1:] != pupil[:-1]) | (broken_so_far[1:] != broken_so_far[:-1])
        return pd.DataFrame({"pupil_id": pupil, "day": day, "sessions": sessions, "run": np.cumsum(new_run) - 1})

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


def read_scope(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None,
               marks_per_pupil: pd.Series | None = None) -> ScopeMarks:
    """Read what per-pupil views need of a scope's marks between two day numbers, inclusive
    (`pupil_ids` None: every pupil). `marks_per_pupil` (pupil_id → how many marks each has
    in the range, every pupil with any) saves counting them when the caller already has.
    """
    if pupil_ids is not None and len(pupil_ids) <= READ_WHOLE_UP_TO_PUPILS:
        return _read_whole(db, first_day, last_day, pupil_ids)
    spans = _spans(db, first_day, last_day, pupil_ids, marks_per_pupil)
    sessions = sessions_held(db, first_day, last_day, pupil_ids)
    whole_school = (sessions["marks"] > 0) & (sessions["marks"] >= WHOLE_SCHOOL_SESSION_SHARE * sessions["marks"].max())
    held = sessions[whole_school].groupby("day").size()
    days_held, counts_held = held.index.to_numpy(dtype=np.int64), held.to_numpy(dtype=np.int64)

    read = [marks_table.marks_other_than(db, first_day, last_day, pupil_ids, PLAIN_PRESENT, LATE_ARRIVALS)]
    partial = sessions.loc[~whole_school, ["day", "session"]]
    if len(partial):  # few marks
        read.append(marks_table.marks_with_codes_at_sessions(db, partial.to_numpy().tolist(), PLAIN_PRESENT,
                                                             pupil_ids))
    marks = _marks_frame(read, sessions[whole_school], spans["pupil_id"])

    held_before = np.concatenate([[0], np.cumsum(counts_held)])
    lo = np.searchsorted(days_held, spans["first"].to_numpy(), side="left")
    hi = np.searchsorted(days_held, spans["last"].to_numpy(), side="right")
    at_partial = marks[~marks["whole_school"]].groupby("pupil_id").size().reindex(spans["pupil_id"], fill_value=0)
    complete = spans["marks"].to_numpy() - at_partial.to_numpy() == held_before[hi] - held_before[lo]
    pupils = pd.DataFrame({"pupil_id": spans["pupil_id"], "complete": complete, "lo": lo, "hi": hi})

    incomplete = spans["pupil_id"][~complete].tolist()
    if incomplete:
        read.append(marks_table.rows_frame(
            marks_table.marks_with_codes(db, first_day, last_day, PLAIN_PRESENT, incomplete), marks_table.MARK_DTYPES))
        marks = _marks_frame(read, sessions[whole_school], spans["pupil_id"])
    return ScopeMarks(marks, pupils, days_held, counts_held)


def _spans(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None,
           marks_per_pupil: pd.Series | None) -> pd.DataFrame:
    """pupil_id, marks, first, last: each pupil's marks in the range and their first and last
    day. The marks are counted from a scan of the narrow index (`+day` keeps SQLite on it)
    unless given or the yearly tallies can say; first and last day by a key probe each."""
    if marks_per_pupil is None:
        marks_per_pupil = marks_table.marks_per_pupil(db, first_day, last_day, pupil_ids)
    if marks_per_pupil is None:
        return marks_table.counted_spans(db, first_day, last_day, pupil_ids)
    counts = marks_per_pupil[marks_per_pupil > 0]
    if pupil_ids is not None:
        counts = counts[counts.index.isin(pupil_ids)]
    spans = marks_table.first_and_last_days(db, first_day, last_day, counts.index)
    return spans.assign(marks=counts.reindex(spans["pupil_id"]).to_numpy(dtype=np.int64))[
        ["pupil_id", "marks", "first", "last"]]


def _read_whole(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int]) -> ScopeMarks:
    """Every mark of a few pupils, each pupil incomplete (nothing is inferred)."""
    marks = classified(marks_table.load_marks(db, first_day, last_day, pupil_ids))
    present = np.unique(marks["pupil_id"].to_numpy())
    pupils = pd.DataFrame({"pupil_id": present, "complete": False, "lo": 0, "hi": 0})
    return ScopeMarks(marks.assign(whole_school=False), pupils, np.array([], dtype=np.int64),
                      np.array([], dtype=np.int64))


def _marks_frame(read: list[pd.DataFrame], whole_school_sessions: pd.DataFrame, pupil_ids: pd.Series) -> pd.DataFrame:
    """The scope's marks as read (each once: the first read of a session is kept), classified,
    each saying whether it is at a whole-school session."""
    marks = pd.concat(read, ignore_index=True) if len(read) > 1 else read[0]
    pupil, day, session = (marks[c].to_numpy() for c in ("pupil_id", "day", "session"))
    first_read = ~pd.Series(pupil * 2_000_000 + day * 2 + session).duplicated().to_numpy()
    marks = marks[np.isin(pupil, pupil_ids.to_numpy()) & first_read].reset_index(drop=True)
    key = marks["day"].to_numpy() * 2 + marks["session"].to_numpy()
    held = whole_school_sessions["day"].to_numpy() * 2 + whole_school_sessions["session"].to_numpy()
    return classified(marks).assign(whole_school=np.isin(key, held))


# Sessions are told apart (whole school or not) by counting the marks of this many pupils,
# spread over the roll; a school with fewer pupils has all of them counted.
SAMPLE_PUPILS = 64


def sessions_held(db: sqlite_utils.Database, first_day: int, last_day: int,
                  pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Every session with a mark in the range (whole school): day, session, marks — the marks
    of a sample of the pupils (of `pupil_ids` when given: one school of a trust's store, whose
    calendar may differ from the others'; every pupil in a school of up to SAMPLE_PUPILS),
    enough to tell a whole-school session from one only a few pupils had.

    Found by probes rather than by counting every mark: each day with marks from the one
    before it, whether it had an AM and a PM session, then the sample's marks by key. (How
    sessions are told apart changes only how fast a scope is read, never what it holds.)
    """
    days = marks_table.days_with_sessions(db, first_day, last_day)
    pupils = sorted(int(p) for p in pupil_ids) if pupil_ids is not None else \
        [row[0] for row in db.execute("SELECT id FROM pupils ORDER BY id").fetchall()]
    sample = pupils[::max(1, len(pupils) // SAMPLE_PUPILS)]
    sessions = days.melt(id_vars="day", var_name="session", value_name="held").astype("int64")
    sessions = sessions[sessions["held"] > 0].drop(columns="held")
    counts = marks_table.marks_per_session(db, first_day, last_day, sample)
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
