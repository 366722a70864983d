"""Marks on days no register is taken: after today, on a weekend, or on a day the school
calendar (core/school_calendar.py) says is no school day (a holiday, an INSET day, a bank
holiday, a closure).

Such marks are held, not imported: the file is refused with one problem per kind saying
how many marks, on which dates, and what to do. They are imported only when the user
confirms the dates are right (`accept` — Upload's “Import marks on these dates anyway”,
`pastoral import --accept-dates`); the problem is then a warning that says so. Refusing
by default keeps each file all-or-nothing: nothing wrong-dated is stored unseen, and
nothing is half-imported.

Not held: empty cells and whole-school closure marks (`#`, `Y4`), which say there was no
session. Empty cells on a non-school day of a saved calendar are not stored (no missing
marks for a day the school was shut).

Weekends with no calendar saved: the school's days are then the days it held sessions on
(DOMAIN.md §1), and a Saturday trip or Saturday school is a session, so weekend marks are
imported with a warning; once a calendar is saved, they are held like any non-school day.
"""

from __future__ import annotations

import json

from datetime import date, datetime

import numpy as np
import pandas as pd

from core import calendar, codes, school_calendar
from core.importers.results import Problem

LISTED_DATES = 10
CONFIRM = ("if these marks are right, import them anyway: tick “Import marks on these dates anyway” on Upload "
           "(or add --accept-dates to `pastoral import`)")


def held_problems(problems: list[Problem]) -> list[Problem]:
    """The problems that hold marks until the user confirms their dates."""
    return [p for p in problems if p.severity == "error" and CONFIRM in p.message]


def held_for_confirmation(problems: list[Problem]) -> bool:
    """Whether a file's problems include marks held until the user confirms their dates."""
    return bool(held_problems(problems))


def today() -> date:
    """Today in England (the store keeps UTC; a register is taken on England's date)."""
    return datetime.now(calendar.LONDON).date()


def _dates(days: np.ndarray, describe=None) -> str:
    distinct = sorted(set(int(d) for d in days))
    words = [calendar.uk_date(calendar.from_day(d)) + (f" {describe(calendar.from_day(d))}" if describe else "")
             for d in distinct[:LISTED_DATES]]
    more = len(distinct) - LISTED_DATES
    return ", ".join(words) + (f" and {more} more day{'s' if more != 1 else ''}" if more > 0 else "")


def _marks(count: int) -> str:
    return f"{count} mark{'s' if count != 1 else ''}"


def _school_of(conn, incoming: pd.DataFrame) -> int:
    """The school whose calendar a file's marks are checked against: the school most of its
    pupils belong to (an import goes to one school, issue 18); the store's own school when
    the store holds one school or the pupils are not stored yet."""
    if conn.execute("SELECT COUNT(*) FROM schools").fetchone()[0] <= 1 or incoming.empty:
        return 1
    ids = json.dumps(sorted({int(p) for p in incoming["pupil_id"].tolist()}))
    row = conn.execute("SELECT school_id FROM pupils WHERE id IN (SELECT value FROM json_each(?)) "
                       "GROUP BY school_id ORDER BY COUNT(*) DESC, school_id LIMIT 1", (ids,)).fetchone()
    return int(row[0]) if row else 1


def hold_marks_on_days_without_registers(conn, incoming: pd.DataFrame, accept: bool,
                                         problems: list[Problem]) -> tuple[pd.DataFrame, bool]:
    """`incoming` (day, code) checked for marks after today, on weekends and on the saved
    calendar's non-school days: a problem for each kind found (an error unless `accept`).
    Returns the marks to import (without empty cells on non-school days) and whether the
    file is held (refused)."""
    days = incoming["day"].to_numpy(dtype=np.int64)
    code = incoming["code"].to_numpy(dtype=object)
    is_mark = ~np.isin(code, ("", *codes.SCHOOL_CLOSED_CODES))
    saved = school_calendar.load(conn, _school_of(conn, incoming))
    severity = "warning" if accept else "error"
    held = False

    def hold(mask: np.ndarray, where: str, fix: str, confirmed_where: str = "", describe=None) -> bool:
        """The problem for marks held — how many, which dates, what to do — or, once the user
        confirmed them, the warning that they were imported; whether the file is held."""
        listed = f"({_dates(days[mask], describe)})"
        problems.append(Problem(None, None, f"{_marks(int(mask.sum()))} {where} {listed}{fix}; {CONFIRM}."
                                if not accept else
                                f"{_marks(int(mask.sum()))} {confirmed_where or where} {listed} imported as you confirmed.",
                                severity))
        return not accept

    future = is_mark & (days > calendar.to_day(today()))
    if future.any():
        held |= hold(future, "dated after today", ": a register cannot be taken before its day. Check the report's "
                     "date range in the MIS and export again")

    weekday = (days + 3) % 7  # 1 Jan 1970 was a Thursday: 0 is Monday
    weekend = is_mark & (weekday >= 5) & ~future
    covered = np.zeros(len(days), dtype=bool)
    school_day = np.ones(len(days), dtype=bool)
    if saved is not None:
        distinct = np.unique(days)
        covered_days = {int(d) for d in distinct if saved.covers(calendar.from_day(int(d)))}
        open_days = {d for d in covered_days if saved.is_school_day(calendar.from_day(d))}
        covered = np.isin(days, list(covered_days))
        school_day = ~covered | np.isin(days, list(open_days))
    if weekend.any():
        with_calendar = weekend & covered
        without = weekend & ~covered
        if without.any():
            problems.append(Problem(None, None, (
                f"{_marks(int(without.sum()))} on a weekend ({_dates(days[without])}); imported as they are (a trip or "
                "Saturday school is a session) — if the school was not open, correct the register in the MIS. Save the "
                "school calendar in Admin → School calendar and weekend marks are held for you to confirm."),
                "warning"))
        if with_calendar.any():
            held |= hold(with_calendar, "on a weekend", ", when the school calendar has no school day. Check the "
                         "dates in the MIS and export again")

    closed = is_mark & ~school_day & ~(weekday >= 5) & ~future
    if closed.any():
        def kind(d: date) -> str:
            found = next((c for c in saved.non_school_days if c.day == d), None)
            if found is not None:
                return f"({school_calendar.KINDS[found.kind]}{': ' + found.label if found.label else ''})"
            return "(holiday)" if saved.term_of(d) is None else ""

        held |= hold(closed, "on days the school calendar says are not school days", ". If the school was open, "
                     "correct the calendar in Admin → School calendar and upload again; if the dates are wrong, "
                     "export again from the MIS", "on non-school days", kind)

    empty_closed = (code == "") & ~school_day  # a weekend, holiday or closure of the saved calendar
    if empty_closed.any() and not held:
        problems.append(Problem(None, None, (
            f"{int(empty_closed.sum())} empty cell{'s' if empty_closed.sum() != 1 else ''} on non-school days of the "
            f"school calendar ({_dates(days[empty_closed])}) not stored: no register is taken on those days."),
            "warning"))
        incoming = incoming[~empty_closed]
    return incoming, held
