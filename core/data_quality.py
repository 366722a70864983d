"""Data quality: the lists that let a school trust its figures, each with a count.

- missing marks: sessions stored with no mark (they count in no total) and, once the school
  calendar is saved (core/school_calendar.py), every session of a school day on which a
  pupil on roll has no mark stored at all — so a week nobody uploaded shows up;
- unresolved N: `N` (no reason yet) marks older than the school days allowed to resolve
  them (DOMAIN.md §4, a setting: 5);
- not on the roll: pupils in the marks whom no roll upload has listed;
- invalid UPNs: UPNs whose check letter or form is wrong (FORMATS.md);
- leavers still receiving marks: marks after a pupil's leave date;
- marks on closure days: present or absence marks at a session closed for everyone else
  (the importer's rule for a closure);
- summary counts not used: a pupil's counts whose dates overlap their marks or newer
  counts, so the figures leave them out (core/summary_counts.py; never both for one date).

Every list takes the period (and, for a head of section, `pupil_ids`) and reads the
marks table through its (day, code) index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, marks, metrics, school_calendar, store, summary_counts
from core.importers import values

MISSING_MARKS = "missing_marks"
UNRESOLVED_N = "unresolved_n"
NOT_ON_ROLL = "not_on_roll"
INVALID_UPNS = "invalid_upns"
LEAVERS_WITH_MARKS = "leavers_with_marks"
CLOSURE_DAY_MARKS = "closure_day_marks"
COUNTS_NOT_USED = "counts_not_used"


@dataclass(frozen=True)
class Check:
    title: str
    short: str  # in a line of counts ("62 missing marks · 10 N over 5 school days")
    unit: str  # what the count counts
    what_to_do: str


CHECKS: dict[str, Check] = {
    MISSING_MARKS: Check("Missing marks", "missing marks", "sessions",
                         "Take the register in the MIS for these sessions, then upload the export again."),
    UNRESOLVED_N: Check("N older than {days} school days", "N over {days} school days", "marks",
                        "Find out the reason and change the N in the MIS (then upload again)."),
    NOT_ON_ROLL: Check("In the marks, not on the roll", "not on the roll", "pupils",
                       "Upload the current pupil roll; if the pupil has left, check their marks."),
    INVALID_UPNS: Check("UPNs failing the check letter", "invalid UPNs", "pupils",
                        "Correct the UPN in the MIS and upload the roll."),
    LEAVERS_WITH_MARKS: Check("Leavers still receiving marks", "marks after leaving", "marks",
                              "Remove the marks after the leave date in the MIS, or correct the leave date."),
    CLOSURE_DAY_MARKS: Check("Marks on closure days", "marks on closure days", "marks",
                             "The school was closed for everyone else: check these marks in the MIS."),
    COUNTS_NOT_USED: Check("Summary counts not used", "summary counts not used", "counts",
                           "The figures use the marks for these dates and leave the counts out. Export the counts "
                           "again for the dates before the pupil's marks begin, or undo the older upload."),
}

MARK_LIST_COLUMNS = ["pupil_id", "date", "session", "code"]


def _days(period: metrics.Period) -> tuple[int, int]:
    return calendar.to_day(period.date_from), calendar.to_day(period.as_of)


def _marks(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pupil_id", "day", "session", "code"]).astype(
        {"pupil_id": "int64", "day": "int64", "session": "int64"})
    return frame.assign(date=[calendar.from_day(d) for d in frame["day"]],
                        session=frame["session"].map(dict(enumerate(calendar.SESSIONS))))


def _scope(frame: pd.DataFrame, pupil_ids: list[int] | None, column: str = "pupil_id") -> pd.DataFrame:
    return frame if pupil_ids is None else frame[frame[column].isin(pupil_ids)]


def missing_marks(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Sessions with no mark: stored empty, and (with a saved calendar) school days' sessions
    with nothing stored for a pupil on roll (`school_calendar.sessions_without_marks`), in date order."""
    first, last = _days(period)
    found = _marks(marks.marks_with_code(db, first, last, "", pupil_ids))
    saved = school_calendar.load_each(db)  # each pupil counted from their own school's calendar
    if saved:
        absent = school_calendar.sessions_without_marks(db, period.date_from, period.as_of, saved, pupil_ids)
        if not absent.empty:
            found = pd.concat([found, _marks(list(absent.itertuples(index=False, name=None)))], ignore_index=True)
            found = found.sort_values(["day", "session", "pupil_id"], ignore_index=True)
    return _scope(found, pupil_ids)[MARK_LIST_COLUMNS]


MISSING_BY_PUPIL_COLUMNS = ["pupil_id", "sessions", "first_date", "last_date"]
MISSING_BY_WEEK_COLUMNS = ["week_start", "sessions", "pupils", "dates"]


def missing_by_pupil(found: pd.DataFrame) -> pd.DataFrame:
    """`missing_marks` per pupil: how many sessions, first and last date; most first."""
    if found.empty:
        return pd.DataFrame(columns=MISSING_BY_PUPIL_COLUMNS)
    by_pupil = found.groupby("pupil_id", as_index=False).agg(
        sessions=("date", "size"), first_date=("date", "min"), last_date=("date", "max"))
    return by_pupil.sort_values(["sessions", "pupil_id"], ascending=[False, True], ignore_index=True)


def missing_by_week(found: pd.DataFrame) -> pd.DataFrame:
    """`missing_marks` per school week (Monday): sessions, pupils, and the dates they fall on."""
    if found.empty:
        return pd.DataFrame(columns=MISSING_BY_WEEK_COLUMNS)
    week = found["date"].map(calendar.week_start)
    by_week = found.assign(week_start=week).groupby("week_start", as_index=False).agg(
        sessions=("date", "size"), pupils=("pupil_id", "nunique"),
        dates=("date", lambda d: ", ".join(calendar.uk_date(x) for x in sorted(set(d)))))
    return by_week.sort_values("week_start", ignore_index=True)


def unresolved_n(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None,
                 school_days: int | None = None) -> pd.DataFrame:
    """`N` marks with more than `school_days` school days after them up to the period's end:
    date, session and how many school days old each is."""
    if school_days is None:
        school_days = int(store.get_settings(db)["unresolved_n_school_days"])
    first, last = _days(period)
    found = _marks(marks.marks_with_code(db, first, last, "N", pupil_ids))
    held = marks.school_session_days(db, first, last)["day"].to_numpy()
    age = len(held) - np.searchsorted(held, found["day"].to_numpy(), side="right")
    found = found.assign(school_days_old=age)
    return _scope(found[found["school_days_old"] > school_days], pupil_ids)[MARK_LIST_COLUMNS + ["school_days_old"]]


def not_on_roll(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Pupils added from marks whom no roll has listed, with their marks in the period."""
    first, last = _days(period)
    rows = marks.marks_of_pupils_not_on_roll(db, first, last, pupil_ids)
    return _scope(pd.DataFrame(rows, columns=["pupil_id", "marks"]), pupil_ids)


def invalid_upns(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    pupils = store.pupils_frame(db, pupil_ids=pupil_ids)
    bad = ~values.valid_upns(pupils["upn"].astype("string")).to_numpy()
    return _scope(pupils.loc[bad, ["id", "upn"]].rename(columns={"id": "pupil_id"}), pupil_ids)


def leavers_with_marks(db: sqlite_utils.Database, period: metrics.Period,
                       pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Marks dated after the pupil's leave date (a missing mark included: the register still lists them)."""
    first, last = _days(period)
    pupils = store.pupils_frame(db, pupil_ids=pupil_ids)
    leavers = pupils[pupils["leave_date"].fillna("") != ""]
    if leavers.empty:
        return pd.DataFrame(columns=MARK_LIST_COLUMNS + ["leave_date"])
    left_on = {int(i): calendar.to_day(pd.Timestamp(d).date()) for i, d in zip(leavers["id"], leavers["leave_date"])}
    found = _marks(marks.marks_of_pupils(db, first, last, list(left_on)))
    found = found[found["day"].to_numpy() > found["pupil_id"].map(left_on).to_numpy()]
    found = found.assign(leave_date=found["pupil_id"].map(
        {i: calendar.from_day(d) for i, d in left_on.items()}))
    return _scope(found, pupil_ids)[MARK_LIST_COLUMNS + ["leave_date"]]


def closure_day_marks(db: sqlite_utils.Database, period: metrics.Period,
                      pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Marks that count as a possible session (present or absent) at a session on which at
    least `marks.CLOSURE_SHARE` of the other marks — and two or more — are whole-school closures.
    A pupil not yet on roll (`Z`) or not required to attend (`X`) that day is no problem."""
    first, last = _days(period)
    # Only a session with two or more closure marks can be flagged: those are found by probes
    # of the (day, code) index, then every mark of each of them counted by code (the whole
    # store's marks, as a closure is the school's).
    closures = marks.closure_sessions(db, first, last, codes.SCHOOL_CLOSED_CODES)
    candidates = [[int(day), int(session)] for day, session, closed in closures if closed >= 2]
    tally = pd.DataFrame(marks.codes_at_sessions(db, candidates) if candidates else [],
                         columns=["day", "session", "code", "marks"])
    not_possible = {c.code for c in codes.CODE_TABLE if c.category == codes.NOT_POSSIBLE}
    tally = tally.assign(closed=tally["marks"].where(tally["code"].isin(codes.SCHOOL_CLOSED_CODES), 0),
                         open=tally["marks"].where(~tally["code"].isin(not_possible) & (tally["code"] != ""), 0))
    sessions = tally.groupby(["day", "session"], as_index=False)[["closed", "open"]].sum()
    others = sessions["open"] - 1  # everyone else: not the mark itself
    flagged = sessions[(sessions["open"] > 0) & (sessions["closed"] >= 2)
                       & (sessions["closed"] >= marks.CLOSURE_SHARE * (sessions["closed"] + others))]
    if flagged.empty:
        return pd.DataFrame(columns=MARK_LIST_COLUMNS)
    found = _marks(marks.open_marks_at_sessions(db, flagged[["day", "session"]].astype(int).to_numpy().tolist(),
                                                codes.SCHOOL_CLOSED_CODES, pupil_ids))
    category = codes.classify_by_era(found["code"], codes.era_of(calendar.days_to_dates(found["day"])))
    found = found[category.isin(codes.POSSIBLE_CATEGORIES).to_numpy()]
    return _scope(found, pupil_ids)[MARK_LIST_COLUMNS]


def counts_not_used(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Current summary counts the figures leave out because marks or newer counts cover some
    of their dates (whatever the period: the conflict is in the data)."""
    return _scope(summary_counts.not_used(db), pupil_ids)


def lists(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int] | None = None) -> dict[str, pd.DataFrame]:
    """Every data-quality list, by check id (the keys of CHECKS)."""
    return {
        MISSING_MARKS: missing_marks(db, period, pupil_ids),
        UNRESOLVED_N: unresolved_n(db, period, pupil_ids),
        NOT_ON_ROLL: not_on_roll(db, period, pupil_ids),
        INVALID_UPNS: invalid_upns(db, pupil_ids),
        LEAVERS_WITH_MARKS: leavers_with_marks(db, period, pupil_ids),
        CLOSURE_DAY_MARKS: closure_day_marks(db, period, pupil_ids),
        COUNTS_NOT_USED: counts_not_used(db, pupil_ids),
    }


def counts(found: dict[str, pd.DataFrame]) -> dict[str, int]:
    return {check: len(frame) for check, frame in found.items()}


def title(check: str, settings: dict, short: bool = False) -> str:
    found = CHECKS[check]
    return (found.short if short else found.title).format(days=settings["unresolved_n_school_days"])
