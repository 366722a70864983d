"""Academic years, school days and school weeks.

School days and weeks come from the marks themselves: a day is a school day when the
school held a session on it, and a school week is a Monday–Sunday week with at least one
school day. So half terms, bank holidays and closures need no setting up.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

EPOCH = date(1970, 1, 1)
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
