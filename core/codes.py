"""The DfE attendance code table (DOMAIN.md §2) as data, and classification of marks.

Every figure the product shows starts here: a mark becomes a category, and the
category says whether the session was possible and what it counts as. The table is
data; the functions only read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

# Categories a session can fall into.
PRESENT = "present"
APPROVED_ACTIVITY = "approved_activity"
AUTHORISED = "authorised"
UNAUTHORISED = "unauthorised"
NOT_POSSIBLE = "not_possible"
MISSING = "missing"  # no mark yet: a data problem, counts in no total
UNKNOWN = "unknown"  # not a DfE code in force on that date and not mapped

CATEGORIES = (PRESENT, APPROVED_ACTIVITY, AUTHORISED, UNAUTHORISED, NOT_POSSIBLE, MISSING, UNKNOWN)
ATTENDANCE_CATEGORIES = frozenset({PRESENT, APPROVED_ACTIVITY})
POSSIBLE_CATEGORIES = frozenset({PRESENT, APPROVED_ACTIVITY, AUTHORISED, UNAUTHORISED})

CATEGORY_LABELS = {
    PRESENT: "Present",
    APPROVED_ACTIVITY: "Approved educational activity",
    AUTHORISED: "Authorised absence",
    UNAUTHORISED: "Unauthorised absence",
    NOT_POSSIBLE: "Not a possible session",
    MISSING: "Missing mark",
    UNKNOWN: "Unknown code",
}

# The day the 2024 code set came into force (School Attendance (Pupil Registration)
# (England) Regulations 2024).
CODES_2024_IN_FORCE = date(2024, 8, 19)
BEFORE_2024 = date(2024, 8, 18)

# Codes that say the whole school was closed (planned, or unexpectedly; legacy Y was used
# for enforced closures before 19/08/2024). A day on which every mark is one of these
# held no session, so it is not a school day and its week may not be a school week.
SCHOOL_CLOSED_CODES = ("#", "Y4", "Y")

# Strings that exports use for "no mark entered".
MISSING_MARK_SPELLINGS = frozenset({"", "-", "*", "?"})


@dataclass(frozen=True)
class Code:
    code: str
    meaning: str
    category: str
    valid_from: date | None = None  # first day in force; None = always before
    valid_to: date | None = None  # last day in force; None = still in force

    @property
    def possible(self) -> bool:
        return self.category in POSSIBLE_CATEGORIES

    @property
    def attendance(self) -> bool:
        return self.category in ATTENDANCE_CATEGORIES

    def in_force_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_to is None or day <= self.valid_to
        )


_NEW_2024 = CODES_2024_IN_FORCE

CODE_TABLE: tuple[Code, ...] = (
    Code("/", "Present (AM)", PRESENT),
    Code("\\", "Present (PM)", PRESENT),
    Code("L", "Late, before registers closed", PRESENT),
    Code("K", "Attending education arranged by the local authority", APPROVED_ACTIVITY, _NEW_2024),
    Code("V", "Educational visit or trip", APPROVED_ACTIVITY),
    Code("P", "Approved sporting activity", APPROVED_ACTIVITY),
    Code("W", "Work experience", APPROVED_ACTIVITY),
    Code("B", "Other approved educational activity", APPROVED_ACTIVITY),
    Code("C", "Leave for exceptional circumstances", AUTHORISED),
    Code("C1", "Leave for a licensed performance or employment", AUTHORISED, _NEW_2024),
    Code("C2", "Part-time timetable", AUTHORISED, _NEW_2024),
    Code("E", "Suspended or excluded, no alternative provision", AUTHORISED),
    Code("I", "Illness", AUTHORISED),
    Code("J1", "Interview", AUTHORISED, _NEW_2024),
    Code("M", "Medical or dental appointment", AUTHORISED),
    Code("R", "Religious observance", AUTHORISED),
    Code("S", "Study leave", AUTHORISED),
    Code("T", "Mobile child (Traveller) travelling", AUTHORISED),
    Code("G", "Holiday not agreed by the school", UNAUTHORISED),
    Code("N", "No reason yet provided", UNAUTHORISED),
    Code("O", "Other unauthorised absence", UNAUTHORISED),
    Code("U", "Arrived after registers closed", UNAUTHORISED),
    Code("D", "Dual registered at another school", NOT_POSSIBLE),
    Code("Q", "No access arrangements available", NOT_POSSIBLE, _NEW_2024),
    Code("X", "Not of compulsory school age, not required to attend", NOT_POSSIBLE),
    Code("Y1", "Unable to attend: transport not available", NOT_POSSIBLE, _NEW_2024),
    Code("Y2", "Unable to attend: widespread disruption to travel", NOT_POSSIBLE, _NEW_2024),
    Code("Y3", "Unable to attend: part of the school closed", NOT_POSSIBLE, _NEW_2024),
    Code("Y4", "Unable to attend: whole school closed unexpectedly", NOT_POSSIBLE, _NEW_2024),
    Code("Y5", "Unable to attend: in criminal justice detention", NOT_POSSIBLE, _NEW_2024),
    Code("Y6", "Unable to attend: public health guidance or law", NOT_POSSIBLE, _NEW_2024),
    Code("Y7", "Unable to attend: any other unavoidable cause", NOT_POSSIBLE, _NEW_2024),
    Code("Z", "Not yet on roll", NOT_POSSIBLE),
    Code("#", "Planned whole-school closure", NOT_POSSIBLE),
    # Legacy codes, read by date in older exports and multi-year data.
    Code("H", "Agreed family holiday (before 19/08/2024)", AUTHORISED, None, BEFORE_2024),
    Code("F", "Agreed extended family holiday (before 19/08/2024)", AUTHORISED, None, BEFORE_2024),
    Code("J", "Interview (before 19/08/2024)", APPROVED_ACTIVITY, None, BEFORE_2024),
    Code("Y", "Unable to attend, exceptional circumstances (before 19/08/2024)", NOT_POSSIBLE, None, BEFORE_2024),
)

CODES: dict[str, Code] = {c.code: c for c in CODE_TABLE}

# MIS sub-codes shown in place of the DfE code, and the DfE code each is read as by default.
# Arbor and SIMS 8 show I01/I02 (illness) and X01-X07 (not required to attend: non-compulsory
# school age, and the former Covid-19 reasons), all mapped to I and X in statutory returns
# (support.arbor-education.com "Why is X showing on the Attendance Certificate?";
# sims-partners.com "SIMS 8 - Attendance DfE Subcodes"). A school's own mapping of the same
# code under Admin → Codes takes its place.
MIS_SUB_CODES: dict[str, str] = {
    "I01": "I", "I02": "I",
    **{f"X0{n}": "X" for n in range(1, 8)},
}


def meaning(code: str) -> str:
    """A code in words, e.g. "Illness (I)"; missing marks read as "Missing mark"."""
    if code in MISSING_MARK_SPELLINGS:
        return CATEGORY_LABELS[MISSING]
    known = CODES.get(code)
    return f"{known.meaning} ({code})" if known else f"Unknown code ({code})"


def normalise_marks(marks: pd.Series) -> pd.Series:
    """Trim and upper-case marks; every spelling of 'no mark' becomes ''."""
    cleaned = marks.astype("string").fillna("").str.strip().str.upper()
    return cleaned.where(~cleaned.isin(MISSING_MARK_SPELLINGS), "")


def era_boundaries() -> list[date]:
    """Dates on which some code enters or leaves force, in order.

    Between two boundaries every code has a fixed category, so marks can be
    tallied by (code, era) and classified afterwards.
    """
    edges: set[date] = set()
    for c in CODE_TABLE:
        if c.valid_from is not None:
            edges.add(c.valid_from)
        if c.valid_to is not None:
            edges.add(date.fromordinal(c.valid_to.toordinal() + 1))
    return sorted(edges)


def era_of(days: pd.Series | np.ndarray) -> np.ndarray:
    """Era index (0 = before the first boundary) for dates given as datetime64 or date."""
    values = pd.to_datetime(pd.Series(days)).to_numpy(dtype="datetime64[D]")
    edges = np.array(era_boundaries(), dtype="datetime64[D]")
    return np.searchsorted(edges, values, side="right")


def _era_start(era: int) -> date:
    edges = era_boundaries()
    return date.min if era == 0 else edges[era - 1]


def _category_grid() -> tuple[list[str], np.ndarray]:
    """All known codes (with '' for missing) and a grid [era, code] → category index."""
    known = [c.code for c in CODE_TABLE] + [""]
    eras = len(era_boundaries()) + 1
    grid = np.full((eras, len(known) + 1), CATEGORIES.index(UNKNOWN), dtype=np.int8)
    for era in range(eras):
        start = _era_start(era)
        for i, c in enumerate(CODE_TABLE):
            if c.in_force_on(start):
                grid[era, i] = CATEGORIES.index(c.category)
        grid[era, len(known) - 1] = CATEGORIES.index(MISSING)
    return known, grid


def classify_by_era(codes: pd.Series, eras: np.ndarray) -> pd.Series:
    """Category of each (code, era) pair; the vectorised core of `classify`."""
    known, grid = _category_grid()
    codes = pd.Series(codes, copy=False)
    # Each distinct code is looked up once: position -1 (no value) is a missing mark ('').
    positions, distinct = pd.factorize(codes)
    lookup = pd.Index(known).get_indexer(pd.Index(np.asarray(distinct, dtype=object).astype(str), dtype=object))
    lookup = np.append(np.where(lookup < 0, len(known), lookup), len(known) - 1)  # unknown → the UNKNOWN column
    category_index = grid[np.asarray(eras, dtype=np.int64), lookup[positions]]
    return pd.Series(
        pd.Categorical.from_codes(category_index, categories=list(CATEGORIES)),
        index=codes.index,
    )


def classify(codes: pd.Series, dates: pd.Series) -> pd.Series:
    """Category of each mark on its date, vectorised over a whole column.

    `codes` must already be DfE codes (local codes resolved by `resolve_local_codes`);
    `''` is a missing mark. A code not in force on its date is UNKNOWN.
    """
    return classify_by_era(codes, era_of(dates))


def resolve_local_codes(marks: pd.Series, local_codes: dict[str, str], dates: pd.Series | None = None) -> pd.Series:
    """Replace the school's local codes and MIS sub-codes (e.g. 'I01', '7') by DfE codes.

    `marks` must be normalised. Codes without a mapping are returned as they are. With
    `dates`, a mapping of a legacy code (say H → G) applies only where that code is no
    longer in force: before 19/08/2024 an `H` keeps its DfE meaning.
    """
    if not local_codes:
        return marks
    mapping = {k.strip().upper(): v.strip().upper() for k, v in local_codes.items()}
    mapped = marks.map(lambda m: mapping.get(m, m)).astype("string")
    if dates is None:
        return mapped
    in_force = classify(marks, dates) != UNKNOWN
    return marks.where(in_force, mapped).astype("string")


def check_local_mapping(local_code: str, dfe_code: str) -> str | None:
    """Why a local-code mapping cannot be saved, or None if it can."""
    local_code, dfe_code = local_code.strip().upper(), dfe_code.strip().upper()
    if not local_code:
        return "The local code is empty."
    if local_code in MISSING_MARK_SPELLINGS:
        return f"'{local_code}' means 'no mark' in exports and cannot be mapped."
    current = CODES.get(local_code)
    if current is not None and current.valid_to is None:
        return f"'{local_code}' is a DfE code in force; it cannot be remapped."
    if dfe_code not in CODES or CODES[dfe_code].valid_to is not None:
        return f"'{dfe_code}' is not a DfE code in force. Choose one of: {', '.join(current_codes())}."
    return None


def current_codes() -> list[str]:
    return [c.code for c in CODE_TABLE if c.valid_to is None]
