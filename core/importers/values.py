"""Reading the values found in exports: dates, sessions, year groups, yes/no flags, UPNs, names.

Each column parser takes a whole column (a pandas Series of text) and returns the parsed
column, with missing values (NA) where a cell could not be read, so the caller can turn
those into problems with row numbers. Columns repeat the same few values (a year's marks
hold ~190 dates), so parsers read each distinct value once and spread the result.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import numpy as np
import pandas as pd

# Excel's day zero for serial dates (1900 date system, with its leap-year bug).
EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers read as dates: 1954-10-03 .. 2119-01-21, so a count or an id is not a date.
_SERIAL_RANGE = (20000, 80000)

_MONTHS = {name: number for number, names in enumerate([
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}

WEEKDAYS = {name: number for number, names in enumerate([
    ("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "weds", "wednesday"), ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday")]) for name in names}

_TIME = r"(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AP]M)?)?"
_WEEKDAY_PREFIX = re.compile(r"^(?:(?:" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\b[\s,.]*)", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})" + _TIME + "$")
_WORDS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([a-z]{3,9})\.?,?[\s\-]+(\d{4}|\d{2})" + _TIME + "$", re.I)
# Census and LA extracts write the year first and the month as a word: 2014-Feb-02 00:00:00 (%Y-%b-%d).
_YEAR_WORD_DAY = re.compile(r"^(\d{4})[\s\-/]([a-z]{3,9})\.?[\s\-/](\d{1,2})" + _TIME + "$", re.I)
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")

# Dates inside free text (a title row: "Week beginning Monday 7th September 2026").
_DATE_IN_TEXT = re.compile(
    r"(?<![\d/])(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{1,2}(?:st|nd|rd|th)?[\s\-]+[a-z]{3,9}\.?,?[\s\-]+\d{4})(?![\d/])",
    re.I,
)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if 2000 + year <= date.today().year + 5 else 1900
    return year


def parse_date_text(text: str) -> date | None:
    """One date as exports write it, or None: yyyy-mm-dd, dd/mm/yyyy, d/m/yy, 7 Sep 2026,
    2026-Sep-07 (census extracts), an Excel serial number, each optionally after a weekday and before a time.

    UK order always: 04/05/2026 is the 4th of May, and 05/13/2026 is no date at all.
    """
    text = _WEEKDAY_PREFIX.sub("", str(text).strip())
    try:
        if m := _ISO.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC.match(text):
            return date(_year(m[3]), int(m[2]), int(m[1]))
        if m := _WORDS.match(text):
            month = _MONTHS.get(m[2].lower())
            return date(_year(m[3]), month, int(m[1])) if month else None
        if m := _YEAR_WORD_DAY.match(text):
            month = _MONTHS.get(m[2].lower())
            return date(int(m[1]), month, int(m[3])) if month else None
        if m := _SERIAL.match(text):
            serial = int(m[1])
            if _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
                return EXCEL_EPOCH + timedelta(days=serial)
    except ValueError:  # 30/02/2026 and the like
        return None
    return None


def dates_in_text(text: str) -> list[date]:
    """Every date written inside a line of text, in order."""
    found = (parse_date_text(m.group(1)) for m in _DATE_IN_TEXT.finditer(str(text)))
    return [d for d in found if d is not None]


def distinct(values) -> tuple[np.ndarray, np.ndarray]:
    """(each cell's position among the distinct values, the distinct values as trimmed text).

    Export columns repeat a few values (a year's marks hold ~190 dates, 1,500 UPNs), so
    work done per distinct value and spread back with `take` is what keeps a 570,000-row
    file fast."""
    codes, uniques = pd.factorize(pd.Series(values, copy=False), use_na_sentinel=False)
    text = np.array(["" if u is None or u is pd.NA or (isinstance(u, float) and u != u) else str(u).strip()
                     for u in np.asarray(uniques, dtype=object)], dtype=object)
    return codes, text


def by_distinct(values, transform) -> np.ndarray:
    """`transform` (a function of a Series of distinct trimmed texts) applied once per
    distinct value, spread back over the column as a numpy array."""
    codes, text = distinct(values)
    result = np.asarray(transform(pd.Series(text, dtype=object)), dtype=object)
    return result[codes] if len(codes) else result[:0]


def _by_distinct_value(values: pd.Series, parse, dtype) -> pd.Series:
    """Apply `parse` to each distinct value once and spread the results back over the column."""
    codes, text = distinct(values)
    parsed = pd.array([parse(u) for u in text], dtype=dtype)
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(parsed.take(codes) if len(codes) else parsed[:0], index=index)


def parse_dates(values: pd.Series) -> pd.Series:
    """A column of dates in any of the forms `parse_date_text` reads; NaT where unreadable."""
    def parse(text: str):
        found = parse_date_text(text)
        return pd.Timestamp(found) if found else pd.NaT

    return _by_distinct_value(values, parse, "datetime64[ns]")


def looks_like_us_date(text: str) -> bool:
    """True for 09/15/2026: no date in UK order, but one in US order."""
    m = _NUMERIC.match(_WEEKDAY_PREFIX.sub("", str(text).strip()))
    return bool(m) and int(m[2]) > 12 and int(m[1]) <= 12


_SESSION_WORDS = {"am": 0, "a.m.": 0, "a.m": 0, "morning": 0, "morn": 0, "pm": 1, "p.m.": 1, "p.m": 1, "afternoon": 1, "aft": 1}


def session_of(text: str, names: dict[str, str] | None = None) -> int | None:
    """0 for AM, 1 for PM: 'AM', 'pm', 'Morning', 'AM Registration', 'Reg PM'; `names` maps a
    school's own register names ('P1' → 'AM'). None when it says neither."""
    key = str(text).strip()
    if names:
        mapped = {k.strip().upper(): v for k, v in names.items()}.get(key.upper())
        if mapped is not None:
            key = mapped
    words = set(re.split(r"[\s_\-/()]+", key.lower())) - {""}
    found = {_SESSION_WORDS[w] for w in words if w in _SESSION_WORDS}
    if key.upper() in ("A", "P"):
        found = {0 if key.upper() == "A" else 1}
    return found.pop() if len(found) == 1 else None


def parse_sessions(values: pd.Series, names: dict[str, str] | None = None) -> pd.Series:
    """'AM'/'PM' (any case, or a register name that says which) → 0/1, NA where not a session."""
    return _by_distinct_value(values, lambda text: session_of(text, names), "Int64")


_TRUE = {"Y", "YES", "TRUE", "T", "1"}
_FALSE = {"", "N", "NO", "FALSE", "F", "0"}


def parse_flags(values: pd.Series) -> pd.Series:
    """Y/N, Yes/No, True/False, T/F, 1/0, blank for no → 1/0; NA where unreadable."""
    key = values.astype("string").fillna("").str.strip().str.upper()
    flags = pd.Series(pd.NA, index=key.index, dtype="Int64")
    flags[key.isin(_TRUE)] = 1
    flags[key.isin(_FALSE)] = 0
    return flags


def normalise_phones(values: pd.Series) -> pd.Series:
    """Telephone numbers as written, spaces tidied; a UK number that lost its leading zero in
    Excel (7700900123, 7700900123.0) gets it back."""
    text = values.astype("string").fillna("").str.strip().str.replace(r"\s+", " ", regex=True)
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    lost_zero = text.str.fullmatch(r"[1-37-9]\d{9}").fillna(False).astype(bool)
    return text.where(~lost_zero, "0" + text)


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
    """UPNs trimmed, upper-cased, spaces removed ('a12345 678901 2 ' → 'A123456789012')."""
    return values.astype("string").fillna("").str.strip().str.upper().str.replace(" ", "", regex=False)


def upn_check_letter(digits12: str) -> str:
    """The check letter for the 12 characters after it (FORMATS.md)."""
    total = sum(int(ch) * weight for ch, weight in zip(digits12, range(2, 14)))
    return _UPN_LETTERS[total % 23]


def looks_like_upns(upns: pd.Series) -> pd.Series:
    """True where the value has the form of a UPN (a letter, 11 digits, a digit or letter)."""
    return upns.astype("string").fillna("").str.match(r"^[A-Z]\d{11}[0-9A-Z]$").fillna(False).astype(bool)


def valid_upns(upns: pd.Series) -> pd.Series:
    """True where the UPN is 13 characters with a correct check letter.

    A temporary UPN (last character a letter) is accepted when its form is right; its
    check letter uses the letter's position in the alphabet of UPN letters, so only the
    form is checked here.
    """
    text = upns.astype("string").fillna("")
    form_ok = looks_like_upns(text)
    permanent = text.str.match(r"^[A-Z]\d{12}$").fillna(False).astype(bool)
    checked = pd.Series(False, index=text.index)
    if permanent.any():
        digits = np.array([list(map(int, s[1:])) for s in text[permanent]], dtype=np.int64)
        letters = np.array(list(_UPN_LETTERS))[(digits @ np.arange(2, 14)) % 23]
        checked[permanent] = text[permanent].str.slice(0, 1).to_numpy() == letters
    return checked | (form_ok & ~permanent)


def admission_number_key(values: pd.Series) -> pd.Series:
    """Admission numbers compared without the leading zeros Excel drops ('00123' ≡ '123')."""
    text = values.astype("string").fillna("").str.strip().str.upper()
    text = text.str.replace(r"\.0+$", "", regex=True)  # 123.0 from a spreadsheet number
    stripped = text.str.lstrip("0")
    return stripped.where((stripped != "") | (text == ""), "0")


def mis_id_key(values: pd.Series) -> pd.Series:
    """An MIS's own pupil id (SIMS Person ID, Arbor or Bromcom id, Wonde id) compared trimmed,
    upper-cased, without the '.0' a spreadsheet adds to a number."""
    text = values.astype("string").fillna("").str.strip().str.upper()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def name_key(text: str) -> str:
    """A name compared by its words: case, accents, apostrophes, hyphens and order ignored,
    so 'O’Brien-Smith, Zoë' and 'Zoe O'Brien Smith' are the same name."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"['’`]", "", folded)
    return " ".join(sorted(re.split(r"[^a-z0-9]+", folded))).strip()


def split_full_names(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'Surname, Forename' or 'Forename Surname' → (surname, forename).

    Without a comma the first word is the forename and the rest the surname, so a
    double surname ('Maria Garcia Lopez') stays whole.
    """
    text = names.astype("string").fillna("").str.strip().str.replace(r"\s+", " ", regex=True)
    if text.empty:
        return text.copy(), text.copy()
    comma = text.str.contains(",", regex=False).fillna(False)
    at_comma, at_space = text.str.partition(","), text.str.partition(" ")
    before, after = at_comma[0], at_comma[2]
    first, rest = at_space[0], at_space[2]
    surname = before.str.strip().where(comma, rest.where(rest != "", first))
    forename = after.str.strip().where(comma, first.where(rest != "", ""))
    return surname.astype("string"), forename.astype("string")
