"""Academic years, school days and school weeks.

School days and weeks come from the marks themselves: a day is a school day when the
school held a session on it, and a school week is a Monday–Sunday week with at least one
school day. So half terms, bank holidays and closures need no setting up. A school that saves
its calendar (core/school_calendar.py) has its school days from that instead, for the years
it covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

EPOCH = date(1970, 1, 1)
LONDON = ZoneInfo("Europe/London")  # schools in England keep London time; the store keeps UTC
SESSIONS = ("AM", "PM")


def to_day(d: date) -> int:
    """Day number as stored: days since 1 January 1970."""
    return (d - EPOCH).days


def from_day(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def days_to_dates(days: pd.Series | np.ndarray) -> pd.Series:
    """Stored day numbers → datetime64 column."""
    return pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]"))


def academic_year(d: date) -> int:
    """Start year of the academic year (1 September – 31 August) containing `d`."""
    return d.year if d.month >= 9 else d.year - 1


def academic_year_start(d: date) -> date:
    return date(academic_year(d), 9, 1)


def academic_year_end(d: date) -> date:
    return date(academic_year(d) + 1, 8, 31)


def academic_year_label(start_year: int) -> str:
    """2025 → '2025/26'."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def week_start(d: date) -> date:
    """Monday of the week containing `d`."""
    return d - timedelta(days=d.weekday())


def week_of_days(days: np.ndarray) -> np.ndarray:
    """Stored day numbers → day number of that week's Monday (1 Jan 1970 was a Thursday)."""
    days = np.asarray(days, dtype=np.int64)
    return days - (days + 3) % 7


def school_days(days: np.ndarray) -> np.ndarray:
    """Sorted distinct day numbers on which the school held a session."""
    return np.unique(np.asarray(days, dtype=np.int64))


def school_weeks(days: np.ndarray) -> np.ndarray:
    """Sorted Mondays (as day numbers) of weeks with at least one school session."""
    return np.unique(week_of_days(days))


def local_date(stamp: str) -> date:
    """The date in England of a stored UTC timestamp (ISO 8601)."""
    return datetime.fromisoformat(stamp).astimezone(LONDON).date()


def uk_date(d: date | None) -> str:
    """dd/mm/yyyy, the way the app shows dates."""
    return d.strftime("%d/%m/%Y") if d else ""


def compulsory_school_age(
    dob: pd.Series, nc_year: pd.Series, start_year: int
) -> pd.Series:
    """True for pupils of compulsory school age in the academic year starting `start_year`.

    Compulsory age: aged 5 to 15 on 31 August before the academic year starts. Where the
    date of birth is missing, National Curriculum years 1–11 stand in.
    """
    born = pd.to_datetime(pd.Series(dob, copy=False), errors="coerce", format="ISO8601")
    cutoff = pd.Timestamp(start_year, 8, 31)
    had_birthday = (born.dt.month < cutoff.month) | (
        (born.dt.month == cutoff.month) & (born.dt.day <= cutoff.day)
    )
    age = cutoff.year - born.dt.year - (~had_birthday).astype("Int64")
    by_age = (age >= 5) & (age <= 15)
    years = pd.to_numeric(pd.Series(nc_year, copy=False), errors="coerce")
    by_year = (years >= 1) & (years <= 11)
    return by_age.where(born.notna(), by_year).fillna(False).astype(bool)


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def uk_dates_in(text: str) -> str:
    """ISO dates inside a sentence written the UK way ('... to 2025-09-16' → '... to 16/09/2025')."""
    return ISO_DATE.sub(r"\3/\2/\1", text)


# --- half terms ------------------------------------------------------------------------

TERM_OF_MONTH = {9: "Autumn", 10: "Autumn", 11: "Autumn", 12: "Autumn", 1: "Spring", 2: "Spring", 3: "Spring",
                 4: "Summer", 5: "Summer", 6: "Summer", 7: "Summer", 8: "Summer"}


@dataclass(frozen=True)
class HalfTerm:
    """A run of consecutive school weeks between holidays: first and last school day."""

    academic_year: int
    name: str  # "Autumn 1"
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        return f"{self.name} {academic_year_label(self.academic_year)}"


def half_terms(days: np.ndarray) -> list[HalfTerm]:
    """Half terms from the days the school held a session: a Monday–Sunday week with no
    session is a holiday, so each run of consecutive school weeks is a half term. Named by
    the term its first week falls in (September–December Autumn, January–March Spring,
    April–August Summer) and numbered within it; the academic year is that of its first day.
    """
    days = school_days(days)
    if len(days) == 0:
        return []
    weeks = week_of_days(days)
    starts = np.flatnonzero(np.diff(weeks, prepend=weeks[0] - 14) > 7)  # a gap of a whole week or more
    ends = np.append(starts[1:] - 1, len(days) - 1)
    terms: list[HalfTerm] = []
    counts: dict[tuple[int, str], int] = {}
    for start, end in zip(starts, ends):
        first, last = from_day(days[start]), from_day(days[end])
        year, term = academic_year(first), TERM_OF_MONTH[first.month]
        counts[(year, term)] = counts.get((year, term), 0) + 1
        terms.append(HalfTerm(year, f"{term} {counts[(year, term)]}", first, last))
    return terms
