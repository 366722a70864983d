"""Reading the values found in exports: dates, sessions, year groups, yes/no flags, UPNs.

Each parser takes a whole column (a pandas Series of strings) and returns the parsed
column, with missing values (NA) where a cell could not be read, so the caller can turn
those into problems with row numbers.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Excel's day zero for serial dates (1900 date system, with its leap-year bug).
EXCEL_EPOCH = pd.Timestamp(1899, 12, 30)

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_UK = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?: 00:00(?::00)?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates as yyyy-mm-dd, dd/mm/yyyy, d/m/yy, Excel serials or datetimes at midnight.

    UK order always wins over US order. Returns datetime64 with NaT where unreadable.
    """
    text = values.astype("string").fillna("").str.strip()
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")

    iso = text.str.match(_ISO).fillna(False)
    if iso.any():
        result[iso] = pd.to_datetime(text[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")

    uk_parts = text.str.extract(_UK)
    uk = uk_parts[0].notna()
    if uk.any():
        parts = uk_parts[uk].astype(int)
        years = parts[2].where(parts[2] >= 100, parts[2] + 2000)
        result[uk] = pd.to_datetime(
            pd.DataFrame({"year": years, "month": parts[1], "day": parts[0]}), errors="coerce"
        )

    serial = text.str.match(_SERIAL).fillna(False)
    if serial.any():
        days = text[serial].astype(float).astype(int)
        result[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")

    return result


_SESSIONS = {"AM": 0, "A": 0, "MORNING": 0, "PM": 1, "P": 1, "AFTERNOON": 1}


def parse_sessions(values: pd.Series) -> pd.Series:
    """'AM'/'PM' (any case) → 0/1, NA where not a session."""
    key = values.astype("string").fillna("").str.strip().str.upper()
    return key.map(_SESSIONS).astype("Int64")


_TRUE = {"Y", "YES", "TRUE", "T", "1"}
_FALSE = {"", "N", "NO", "FALSE", "F", "0"}


def parse_flags(values: pd.Series) -> pd.Series:
    """Y/N, Yes/No, True/False, T/F, 1/0, blank for no → 1/0; NA where unreadable."""
    key = values.astype("string").fillna("").str.strip().str.upper()
    flags = pd.Series(pd.NA, index=key.index, dtype="Int64")
    flags[key.isin(_TRUE)] = 1
    flags[key.isin(_FALSE)] = 0
    return flags


_SEN = {"": "N", "N": "N", "NO": "N", "NONE": "N", "K": "K", "SEN SUPPORT": "K", "E": "E", "EHCP": "E", "EHC PLAN": "E", "S": "E"}


def parse_sen(values: pd.Series) -> pd.Series:
    """SEN status → 'N' (none), 'K' (SEN support), 'E' (EHC plan); NA where unreadable."""
    key = values.astype("string").fillna("").str.strip().str.upper()
    return key.map(_SEN).astype("string")


_YEAR = re.compile(r"^(?:YEAR|YR|Y|NC YEAR)?\s*(\d{1,2})$")
_YEAR_WORDS = {
    "R": "R", "REC": "R", "RECEPTION": "R", "YR": "R", "YEAR R": "R",
    "N": "N2", "NURSERY": "N2", "N1": "N1", "N2": "N2", "NURSERY 1": "N1", "NURSERY 2": "N2",
}
# National Curriculum year as a number, for ordering and compulsory-age rules.
NC_YEAR = {"N1": -2, "N2": -1, "R": 0, **{str(y): y for y in range(1, 15)}}


def parse_year_groups(values: pd.Series) -> pd.Series:
    """'7', 'Year 7', 'Yr 7', 'Y7', 'R', 'Reception', 'N1', 'Nursery', '12' → canonical '7', 'R', 'N1'…"""
    key = values.astype("string").fillna("").str.strip().str.upper()
    words = key.map(_YEAR_WORDS)
    numbers = key.str.extract(_YEAR)[0]
    numbers = numbers.where(pd.to_numeric(numbers, errors="coerce").between(1, 14))
    canonical = words.fillna(numbers.astype("string").str.lstrip("0"))
    return canonical.astype("string")


def year_group_label(year_group: str | None) -> str:
    """'7' → 'Year 7', 'R' → 'Reception', 'N1' → 'Nursery 1'."""
    if not year_group:
        return "Year unknown"
    if year_group == "R":
        return "Reception"
    if year_group.startswith("N"):
        return f"Nursery {year_group[1:]}"
    return f"Year {year_group}"


_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def normalise_upns(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.strip().str.upper().str.replace(" ", "", regex=False)


def upn_check_letter(digits12: str) -> str:
    """The check letter for the 12 characters after it (FORMATS.md)."""
    total = sum(int(ch) * weight for ch, weight in zip(digits12, range(2, 14)))
    return _UPN_LETTERS[total % 23]


def valid_upns(upns: pd.Series) -> pd.Series:
    """True where the UPN is 13 characters with a correct check letter.

    A temporary UPN (last character a letter) is accepted when its form is right; its
    check letter uses the letter's position in the alphabet of UPN letters, so only the
    form is checked here.
    """
    text = upns.astype("string").fillna("")
    form_ok = text.str.match(r"^[A-Z]\d{11}[0-9A-Z]$").fillna(False)
    permanent = text.str.match(r"^[A-Z]\d{12}$").fillna(False)
    checked = pd.Series(False, index=text.index)
    if permanent.any():
        digits = np.array([list(map(int, s[1:])) for s in text[permanent]], dtype=np.int64)
        letters = np.array(list(_UPN_LETTERS))[(digits @ np.arange(2, 14)) % 23]
        checked[permanent] = text[permanent].str.slice(0, 1).to_numpy() == letters
    return checked | (form_ok & ~permanent)
