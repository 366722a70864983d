"""Which shape an export has, decided from what its header and title rows hold.

Each shape's row in `shapes.SHAPES` says what it needs (keys of `NEEDS`, here) and when
it is tried: the first shape whose needs are all met is the file's shape. When none fits,
the shape that comes closest names what is still missing, so the message can say what
was found and what is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from core import codes
from core.importers import values

from core.importers.headers import Header, TitleFacts
from core.importers.results import ColumnMapping
from core.importers.shapes import SHAPES, Shape, count_columns_by_category


@dataclass(frozen=True)
class Need:
    label: str  # how messages name it to the user
    met: Callable[[Header, TitleFacts, ColumnMapping | None], bool]


def _has(*meanings: str):
    return lambda header, title, mapping: any(m in header.meanings for m in meanings)


def _names_pupil(header: Header, title: TitleFacts, mapping) -> bool:
    by_name = ("name" in header.meanings or "surname" in header.meanings) and "dob" in header.meanings
    return by_name or any(m in header.meanings for m in ("upn", "adno", "mis_id"))


def _week_start(header: Header, title: TitleFacts, mapping) -> bool:
    return "week_start" in header.meanings or title.week_start is not None or bool(mapping and mapping.week_start)


def _counts(header: Header, title: TitleFacts, mapping) -> bool:
    present = {m for m in ("possible", "attendance", "authorised", "unauthorised") if m in header.meanings}
    present |= set(count_columns_by_category(header))  # an LA extract's column per absence code
    if "approved_activity" in header.meanings:
        present.add("attendance")
    return len(present) >= 3


def _count_dates(header: Header, title: TitleFacts, mapping) -> bool:
    def given(meaning):
        return meaning in header.meanings or getattr(title, meaning) is not None or bool(mapping and getattr(mapping, meaning))
    return given("date_from") and given("date_to")


def _no_marks(header: Header, title: TitleFacts, mapping) -> bool:
    """Neither the headers nor the data of unrecognised columns hold marks or counts."""
    marks = ("mark", "week_marks", "date", "session", "possible", "authorised", "unauthorised", "marks_start")
    return not header.sessions and not any(m in header.meanings or m in header.guessed for m in marks)


NEEDS: dict[str, Need] = {
    "pupil": Need("a pupil id (UPN, Admission No, or Name and Date of Birth)", _names_pupil),
    "upn": Need("UPN", _has("upn")),
    "names": Need("Surname and Forename (or Name)", _has("surname", "name")),
    "date": Need("Date", _has("date")),
    "session": Need("Session (AM/PM)", _has("session")),
    "mark": Need("Mark", _has("mark", "week_marks")),
    "dated_sessions": Need("session columns headed by a date and AM/PM (e.g. 'Mon 07/09/2026 AM')",
                           lambda h, t, m: any(s.date is not None for s in h.sessions.values())),
    "weekday_sessions": Need("session columns headed by a weekday and AM/PM (e.g. 'Mon AM')",
                             lambda h, t, m: any(s.weekday is not None for s in h.sessions.values())),
    "week_start": Need("the week's start date (a 'Week Beginning' column or title row)", _week_start),
    "week_marks": Need("Marks (the week's marks, two characters a day)", _has("week_marks", "mark")),
    "counts": Need("three of Possible, Present, Authorised and Unauthorised sessions", _counts),
    "count_dates": Need("the dates the counts cover ('From' and 'To' columns, or a title row)", _count_dates),
    "no_marks": Need("no marks or counts", _no_marks),
    "marks_start": Need("the date the marks start from (AttendanceStartDate)", _has("marks_start")),
    "sims_xml": Need("a SIMS session attendance XML export", lambda h, t, m: h.source == "sims_xml"),
    "wonde_json": Need("a Wonde-style session JSON export", lambda h, t, m: h.source == "wonde_json"),
}


def in_the_order_tried() -> list[Shape]:
    """Every shape, in the order detection tries them (their rows' `tried`)."""
    return sorted(SHAPES.values(), key=lambda shape: shape.tried)


WHAT_EACH_NEEDS = (
    "A marks file needs a pupil id (UPN, Admission No, or Name and Date of Birth), Date, Session and Mark; "
    "a register grid needs a pupil id and session columns headed by a date or weekday and AM/PM; "
    "a pupil roll needs UPN and names; summary counts need a pupil id, Possible, Present, Authorised and "
    "Unauthorised sessions, and the dates they cover."
)


def unmet(shape: Shape, header: Header, title: TitleFacts, mapping: ColumnMapping | None = None,
          ignore: tuple[str, ...] = ()) -> list[str]:
    """Labels of what `shape` needs that the file does not give."""
    return [NEEDS[n].label for n in shape.needs if n not in ignore and not NEEDS[n].met(header, title, mapping)]


def choose_shape(header: Header, title: TitleFacts, mapping: ColumnMapping | None = None) -> tuple[Shape | None, Shape, list[str]]:
    """(the shape, or None; the closest shape; what the closest still needs).

    Only headers decide the shape. When they do not, columns guessed from their data
    (`guess_columns`) count towards the closest shape, and what it still needs is what
    neither the headers nor the guesses give — what the user must still point out."""
    tried = in_the_order_tried()
    for shape in tried:
        if not unmet(shape, header, title, mapping):
            return shape, shape, []
    with_guesses = replace(header, meanings={**header.guessed, **header.meanings})
    closest, closest_key, closest_missing = None, None, []
    for shape in tried:
        missing = unmet(shape, with_guesses, title, mapping)
        excluded = NEEDS["no_marks"].label in missing
        # Not excluded, most needs met, fewest missing, first in order.
        key = (not excluded, len(shape.needs) - len(missing), -len(missing))
        if closest_key is None or key > closest_key:
            closest, closest_key, closest_missing = shape, key, missing
    return None, closest, [m for m in closest_missing if m != NEEDS["no_marks"].label]


# --- guessing what unrecognised columns hold, from their first rows -------------------

GUESS_SAMPLE_ROWS = 50
GUESS_SHARE = 0.8  # this share of a column's filled cells must fit


def _marks_like(text: pd.Series) -> pd.Series:
    clean = codes.normalise_marks(text.astype("string"))
    return (clean.isin(list(codes.CODES)) | (clean == "")) & (text.str.len() <= 3)


def _week_marks_like(text: pd.Series) -> pd.Series:
    return text.str.fullmatch(r"[/\\A-Za-z#\- ]{4,14}") & text.str.contains(r"[/\\]")


_GUESSES = (
    ("upn", lambda text: values.looks_like_upns(values.normalise_upns(text))),
    # Plain numbers are ids (a Person ID of 20000-80000 reads as an Excel serial date), never guessed as dates.
    ("date", lambda text: values.parse_dates(text).notna() & ~text.str.fullmatch(r"\d+(\.0+)?").fillna(False)),
    ("session", lambda text: values.parse_sessions(text).notna() & (text.str.len() <= 16)),
    ("mark", _marks_like),
    ("week_marks", _week_marks_like),
)


def guess_columns(cells: pd.DataFrame, header: Header) -> dict[str, int]:
    """Meaning → position of unrecognised columns whose first rows look like UPNs, dates,
    sessions, marks or a week's marks. Used only to propose a mapping, never to read."""
    data = cells.loc[header.last_row + 1:].head(GUESS_SAMPLE_ROWS)
    taken = set(header.meanings.values()) | set(header.sessions) | set(header.flags)
    guesses: dict[str, int] = {}
    for position in data.columns:
        if position in taken:
            continue
        text = data[position].astype("string").fillna("").str.strip()
        text = text[text != ""]
        if text.empty:
            continue
        for meaning, fits in _GUESSES:
            if meaning in header.meanings or meaning in guesses:
                continue
            if fits(text).fillna(False).astype(bool).mean() >= GUESS_SHARE:
                guesses[meaning] = position
                break
    return guesses
