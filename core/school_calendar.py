"""The school calendar: terms, and the non-school days inside them (INSET days, bank
holidays, closures), saved by the school an academic year at a time.

A school day is a weekday inside a term that is not a non-school day. Weekends and the
days between terms (holidays) are never school days.

Where no calendar is saved for an academic year, its school days stay what they always
were — the days the school held a session on (core/calendar.py) — so a school that has
not set one up sees nothing change. `propose` reads such a year's marks into a calendar
the admin checks and saves (Admin → School calendar):
- terms are runs of school weeks: a Monday–Sunday week with no session is a holiday, so a
  gap of a week or more ends a term (half terms are terms here);
- a weekday inside a term on which nobody had a session is proposed as a non-school day
  (a closure, which the admin can call an INSET day or a bank holiday).

A calendar "reaches the end of the year" when its last term of the academic year ends on
or after 1 July (the summer term's end): only then can it say how many school days are
left in the year (`school_days_left`), which the early warning needs (DOMAIN.md §4).

Each school of a trust has its own calendar (issue 18): saved and read for a school (the
store's own school, school 1, unless named); missing marks are counted for each pupil from
their own school's calendar (`load_each`, `sessions_without_marks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, store
from core import marks as marks_table

INSET, BANK_HOLIDAY, CLOSURE = "inset", "bank_holiday", "closure"
KINDS = {INSET: "INSET day", BANK_HOLIDAY: "Bank holiday", CLOSURE: "Closure"}
KIND_OF_NAME = {name: kind for kind, name in KINDS.items()}
PROPOSED_LABEL = "No sessions held"
SESSIONS_PER_DAY = len(calendar.SESSIONS)
# The last term of a year ending on or after this day of July means the calendar has the year's end.
YEAR_END_FROM = (7, 1)


@dataclass(frozen=True)
class Term:
    name: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class NonSchoolDay:
    day: date
    kind: str  # one of KINDS
    label: str = ""


@dataclass(frozen=True)
class SchoolCalendar:
    """Terms and non-school days of one or more academic years (each saved year whole)."""

    terms: tuple[Term, ...] = ()
    non_school_days: tuple[NonSchoolDay, ...] = ()
    _closed: frozenset = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "terms", tuple(sorted(self.terms, key=lambda t: t.first_day)))
        object.__setattr__(self, "non_school_days", tuple(sorted(self.non_school_days, key=lambda d: d.day)))
        object.__setattr__(self, "_closed", frozenset(d.day for d in self.non_school_days))

    @property
    def years(self) -> set[int]:
        """The academic years (starting years) this calendar has terms for."""
        return {calendar.academic_year(t.first_day) for t in self.terms}

    def covers(self, d: date) -> bool:
        """Whether the calendar speaks for `d`: its academic year has terms saved."""
        return calendar.academic_year(d) in self.years

    def for_year(self, academic_year: int) -> "SchoolCalendar":
        return SchoolCalendar(
            tuple(t for t in self.terms if calendar.academic_year(t.first_day) == academic_year),
            tuple(d for d in self.non_school_days if calendar.academic_year(d.day) == academic_year))

    def term_of(self, d: date) -> Term | None:
        for term in self.terms:
            if term.first_day <= d <= term.last_day:
                return term
        return None

    def is_school_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self._closed and self.term_of(d) is not None

    def school_days(self, first: date, last: date) -> list[date]:
        """The school days from `first` to `last`, both included, in order."""
        found: list[date] = []
        for term in self.terms:
            day, end = max(first, term.first_day), min(last, term.last_day)
            while day <= end:
                if day.weekday() < 5 and day not in self._closed:
                    found.append(day)
                day += timedelta(days=1)
        return found

    def reaches_year_end(self, academic_year: int) -> bool:
        """Whether the year's last term ends on or after 1 July (so the rest of the year is known)."""
        ends = [t.last_day for t in self.terms if calendar.academic_year(t.first_day) == academic_year]
        return bool(ends) and max(ends) >= date(academic_year + 1, *YEAR_END_FROM)

    def school_days_left(self, after: date) -> int | None:
        """School days after `after` to the end of its academic year; None when the calendar
        does not reach the end of that year."""
        year = calendar.academic_year(after)
        if not self.reaches_year_end(year):
            return None
        return len(self.school_days(after + timedelta(days=1), calendar.academic_year_end(after)))

    def school_sessions_left(self, after: date) -> int | None:
        """Sessions (AM and PM of each school day) after `after` to the end of its academic year."""
        days = self.school_days_left(after)
        return None if days is None else days * SESSIONS_PER_DAY


class CalendarError(ValueError):
    """A calendar that cannot be saved: every reason, each a sentence for the admin."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


# --- proposing a calendar from the marks ----------------------------------------------------


def propose_from_days(days, academic_year: int) -> SchoolCalendar:
    """A calendar for `academic_year` from the day numbers on which the school held a session."""
    first, last = calendar.to_day(date(academic_year, 9, 1)), calendar.to_day(date(academic_year + 1, 8, 31))
    held = calendar.school_days(np.asarray(days, dtype=np.int64))
    held = held[(held >= first) & (held <= last)]
    terms, closed = [], []
    held_set = set(held.tolist())
    for half_term in calendar.half_terms(held):
        terms.append(Term(half_term.name, half_term.first_day, half_term.last_day))
        day = half_term.first_day
        while day <= half_term.last_day:
            if day.weekday() < 5 and calendar.to_day(day) not in held_set:
                closed.append(NonSchoolDay(day, CLOSURE, PROPOSED_LABEL))
            day += timedelta(days=1)
    return SchoolCalendar(tuple(terms), tuple(closed))


def propose(db: sqlite_utils.Database, academic_year: int, school_id: int | None = None) -> SchoolCalendar:
    """A calendar for `academic_year` from the days its marks show a session held on (the
    marks of `school_id`'s pupils when the store holds several schools)."""
    first, last = calendar.to_day(date(academic_year, 9, 1)), calendar.to_day(date(academic_year + 1, 8, 31))
    several = db.execute("SELECT COUNT(*) FROM schools").fetchone()[0] > 1
    if school_id is None or not several:
        days = marks_table.school_session_days(db, first, last)["day"].to_numpy()
    else:
        closed = ", ".join("?" for _ in codes.SCHOOL_CLOSED_CODES)
        days = np.array([r[0] for r in db.execute(
            f"SELECT DISTINCT m.day FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.school_id = ? "
            f"AND m.day BETWEEN ? AND ? AND m.code NOT IN ({closed}) ORDER BY m.day",
            (int(school_id), first, last, *codes.SCHOOL_CLOSED_CODES))], dtype=np.int64)
    return propose_from_days(days, academic_year)


# --- checking, saving and reading ------------------------------------------------------------


def problems(year_calendar: SchoolCalendar, academic_year: int) -> list[str]:
    """Why `year_calendar` cannot be saved as `academic_year`'s calendar (none: it can)."""
    found: list[str] = []
    uk = calendar.uk_date
    year_start, year_end = date(academic_year, 9, 1), date(academic_year + 1, 8, 31)
    year_label = calendar.academic_year_label(academic_year)
    for term in year_calendar.terms:
        name = term.name.strip() or "A term with no name"
        if not term.name.strip():
            found.append(f"A term from {uk(term.first_day)} has no name — give it one (e.g. 'Autumn 1').")
        if term.last_day < term.first_day:
            found.append(f"{name} ends on {uk(term.last_day)}, before it starts on {uk(term.first_day)} — "
                         "correct its dates.")
        elif term.first_day < year_start or term.last_day > year_end:
            found.append(f"{name} ({uk(term.first_day)} – {uk(term.last_day)}) is not inside the academic year "
                         f"{year_label} ({uk(year_start)} – {uk(year_end)}) — correct its dates.")
    ordered = sorted((t for t in year_calendar.terms if t.last_day >= t.first_day), key=lambda t: t.first_day)
    for before, after in zip(ordered, ordered[1:]):
        if after.first_day <= before.last_day:
            found.append(f"{before.name} ({uk(before.first_day)} – {uk(before.last_day)}) and {after.name} "
                         f"({uk(after.first_day)} – {uk(after.last_day)}) overlap — a day can be in one term only.")
    seen: set[date] = set()
    for closed in year_calendar.non_school_days:
        what = f"{uk(closed.day)} ({KINDS.get(closed.kind, closed.kind)})"
        if closed.kind not in KINDS:
            found.append(f"{uk(closed.day)}: '{closed.kind}' is not a kind of non-school day — choose "
                         f"{', '.join(KINDS.values())}.")
        if closed.day in seen:
            found.append(f"{uk(closed.day)} is listed twice — keep one.")
        seen.add(closed.day)
        if closed.day.weekday() >= 5:
            found.append(f"{what} is a {closed.day:%A}: weekends are never school days — remove it.")
        elif not any(t.first_day <= closed.day <= t.last_day for t in ordered):
            found.append(f"{what} is not inside any term — a holiday needs no entry: remove it, or correct the "
                         "date or the term's dates.")
    return found


def save(db: sqlite_utils.Database, academic_year: int, year_calendar: SchoolCalendar, username: str,
         school_id: int = store.FIRST_SCHOOL) -> None:
    """Replace `academic_year`'s calendar of `school_id` (the store's own school unless named)
    with `year_calendar` (checked first: CalendarError with every problem, nothing saved). An
    empty calendar removes the year's calendar."""
    found = problems(year_calendar, academic_year)
    if found:
        raise CalendarError(found)
    school_id = int(school_id)
    if db.execute("SELECT 1 FROM schools WHERE id = ?", (school_id,)).fetchone() is None:
        raise CalendarError([f"There is no school {school_id} to save a calendar for."])
    first, last = date(academic_year, 9, 1).isoformat(), date(academic_year + 1, 8, 31).isoformat()
    stamp = store.now()
    with store.transaction(db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM school_terms WHERE school_id = ? AND academic_year = ?",
                              (school_id, academic_year)).fetchone()[0]
        conn.execute("DELETE FROM school_terms WHERE school_id = ? AND academic_year = ?", (school_id, academic_year))
        conn.execute("DELETE FROM non_school_days WHERE school_id = ? AND (academic_year = ? OR day BETWEEN ? AND ?)",
                     (school_id, academic_year, first, last))
        conn.executemany(
            "INSERT INTO school_terms (school_id, first_day, last_day, academic_year, name, saved_at, saved_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(school_id, t.first_day.isoformat(), t.last_day.isoformat(), academic_year, t.name.strip(), stamp,
              username) for t in year_calendar.terms])
        conn.executemany(
            "INSERT INTO non_school_days (school_id, day, academic_year, kind, label, saved_at, saved_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(school_id, d.day.isoformat(), academic_year, d.kind, d.label.strip(), stamp, username)
             for d in year_calendar.non_school_days])
        store.audit(conn, username, "calendar.save", "school_calendar", calendar.academic_year_label(academic_year), {
            "terms": [[t.name.strip(), t.first_day.isoformat(), t.last_day.isoformat()] for t in year_calendar.terms],
            "non_school_days": [[d.day.isoformat(), d.kind, d.label.strip()] for d in year_calendar.non_school_days],
            "replaced_terms": before, "school_id": school_id,
        })


def load(db: sqlite_utils.Database, school_id: int = store.FIRST_SCHOOL) -> SchoolCalendar | None:
    """A school's saved calendar (every year saved; the store's own school unless named), or
    None when that school has saved none."""
    return load_each(db, int(school_id)).get(int(school_id))


def load_each(db: sqlite_utils.Database, school_id: int | None = None) -> dict[int, SchoolCalendar]:
    """School id → its saved calendar, for each school that saved one (only `school_id`'s if given)."""
    where, params = ("WHERE school_id = ?", (int(school_id),)) if school_id is not None else ("", ())
    terms = db.execute(f"SELECT school_id, name, first_day, last_day FROM school_terms {where} "
                       "ORDER BY school_id, first_day", params).fetchall()
    if not terms:
        return {}
    closed = db.execute(f"SELECT school_id, day, kind, label FROM non_school_days {where} ORDER BY school_id, day",
                        params).fetchall()
    found = {}
    for school in dict.fromkeys(row[0] for row in terms):
        found[int(school)] = SchoolCalendar(
            tuple(Term(name, date.fromisoformat(first), date.fromisoformat(last))
                  for s, name, first, last in terms if s == school),
            tuple(NonSchoolDay(date.fromisoformat(day), kind, label) for s, day, kind, label in closed if s == school))
    return found


# --- the calendar as two tables (Admin → School calendar edits these) ----------------------------

TERM_COLUMNS = ["Term", "First day", "Last day"]
DAY_COLUMNS = ["Date", "Kind", "Label"]


def as_tables(year_calendar: SchoolCalendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Terms (Term, First day, Last day) and non-school days (Date, Kind in words, Label)."""
    terms = pd.DataFrame([(t.name, t.first_day, t.last_day) for t in year_calendar.terms], columns=TERM_COLUMNS)
    days = pd.DataFrame([(d.day, KINDS.get(d.kind, d.kind), d.label) for d in year_calendar.non_school_days],
                        columns=DAY_COLUMNS)
    return terms.astype({"Term": "object"}), days.astype({"Kind": "object", "Label": "object"})


def _as_date(value) -> date | None:
    if value is None or (not isinstance(value, (date, datetime, str)) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]) if value.strip() else None
        except ValueError:
            return None
    return value.date() if isinstance(value, datetime) else value


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def from_tables(terms: pd.DataFrame, days: pd.DataFrame) -> SchoolCalendar:
    """The calendar the two tables describe (rows left wholly empty are ignored); a row with a
    date missing raises CalendarError saying which row."""
    found: list[str] = []
    kept_terms, kept_days = [], []
    for number, (name, first, last) in enumerate(terms[TERM_COLUMNS].itertuples(index=False), start=1):
        name, first, last = _text(name), _as_date(first), _as_date(last)
        if not name and first is None and last is None:
            continue
        if first is None or last is None:
            found.append(f"Term row {number} ({name or 'no name'}) needs both its first and its last day.")
            continue
        kept_terms.append(Term(name, first, last))
    for number, (day, kind, label) in enumerate(days[DAY_COLUMNS].itertuples(index=False), start=1):
        day, kind, label = _as_date(day), _text(kind), _text(label)
        if day is None and not kind and not label:
            continue
        if day is None:
            found.append(f"Non-school day row {number} ({label or kind or 'no label'}) needs its date.")
            continue
        kept_days.append(NonSchoolDay(day, KIND_OF_NAME.get(kind, kind or CLOSURE), label))
    if found:
        raise CalendarError(found)
    return SchoolCalendar(tuple(kept_terms), tuple(kept_days))


# --- school days, from the calendar where saved, else from the marks -------------------------------


def school_day_numbers(db: sqlite_utils.Database, first_day: int, last_day: int,
                       saved: SchoolCalendar | None = None) -> np.ndarray:
    """Sorted day numbers of the school days from `first_day` to `last_day`: the saved
    calendar's school days, and any day the marks show a session held on (so a trip or a
    confirmed Saturday keeps its marks in every weekly view). With no calendar saved,
    exactly the days the marks show (core/calendar.py)."""
    # Not given: every school's saved calendar (a trust's schools' school days together).
    calendars = list(load_each(db).values()) if saved is None else [saved]
    held = marks_table.school_session_days(db, first_day, last_day)["day"].to_numpy()
    if not calendars:
        return held
    first, last = calendar.from_day(first_day), calendar.from_day(last_day)
    from_calendar = [np.array([calendar.to_day(d) for d in one.school_days(first, last)], dtype=np.int64)
                     for one in calendars]
    return np.unique(np.concatenate([np.asarray(held, dtype=np.int64), *from_calendar]))


def sessions_without_marks(db: sqlite_utils.Database, date_from: date, as_of: date,
                           saved: SchoolCalendar | dict[int, SchoolCalendar],
                           pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """(pupil_id, day, session, code '') of each session of a school day of the saved calendar
    in the period on which a pupil on roll has nothing stored.

    `saved`: one calendar for every pupil, or school id → calendar (`load_each`): each
    school's pupils counted from their own school's calendar (none saved: none counted).

    On roll that day: from the pupil's entry date (else their first mark of the academic
    year) to their leave date (else the period's end); only pupils with a mark stored in the
    academic year up to the period's end are counted (a roll lists pupils the registers may
    not cover, e.g. a nursery taken elsewhere). With `pupil_ids`, only those pupils' (each
    pupil's sessions are their own)."""
    if isinstance(saved, dict):
        if db.execute("SELECT COUNT(*) FROM schools").fetchone()[0] <= 1:
            return _without_marks(db, date_from, as_of, saved[min(saved)], None, pupil_ids) if saved \
                else _NO_MARKS.copy()
        found = [_without_marks(db, date_from, as_of, one, int(school_id), pupil_ids)
                 for school_id, one in sorted(saved.items())]
        found = [frame for frame in found if not frame.empty]
        return pd.concat(found, ignore_index=True) if found else _NO_MARKS.copy()
    return _without_marks(db, date_from, as_of, saved, None, pupil_ids)


_NO_MARKS = pd.DataFrame(columns=["pupil_id", "day", "session", "code"])


def _without_marks(db: sqlite_utils.Database, date_from: date, as_of: date, saved: SchoolCalendar,
                   school_id: int | None = None, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """`sessions_without_marks` from one calendar, for the pupils of `school_id` (None: every
    pupil), of `pupil_ids` only when given."""
    school = np.array([calendar.to_day(d) for d in saved.school_days(date_from, as_of)], dtype=np.int64)
    if len(school) == 0:
        return pd.DataFrame(columns=["pupil_id", "day", "session", "code"])
    year_start = calendar.to_day(calendar.academic_year_start(as_of))
    of_school = "" if school_id is None else " AND pupil_id IN (SELECT id FROM pupils WHERE school_id = :school)"
    in_scope, scope_params = marks_table.scope_sql(pupil_ids)
    stored = np.array(db.execute(f"SELECT pupil_id, day, session FROM marks WHERE day BETWEEN :first AND :last"
                                 f"{of_school}{in_scope}",
                                 {"first": min(year_start, int(school[0])), "last": int(school[-1]),
                                  "school": None if school_id is None else int(school_id), **scope_params}).fetchall(),
                      dtype=np.int64).reshape(-1, 3)
    in_year = stored[stored[:, 1] >= year_start]
    if len(in_year) == 0:
        return pd.DataFrame(columns=["pupil_id", "day", "session", "code"])
    first_mark = pd.Series(in_year[:, 1]).groupby(in_year[:, 0]).min()
    pupils = store.pupils_frame(db).set_index("id").reindex(first_mark.index)
    entry = pd.to_datetime(pupils["entry_date"], errors="coerce", format="ISO8601")
    leave = pd.to_datetime(pupils["leave_date"], errors="coerce", format="ISO8601")
    epoch = pd.Timestamp(calendar.EPOCH)
    start = ((entry - epoch).dt.days.astype("float64")).fillna(pd.Series(first_mark.to_numpy(dtype="float64"),
                                                                          index=first_mark.index))
    end = ((leave - epoch).dt.days.astype("float64")).fillna(float(school[-1]))
    pupil = np.repeat(first_mark.index.to_numpy(dtype=np.int64), len(school))
    day = np.tile(school, len(first_mark))
    on_roll = (day >= np.repeat(start.to_numpy(), len(school))) & (day <= np.repeat(end.to_numpy(), len(school)))
    pupil, day = pupil[on_roll], day[on_roll]
    pupil, day = np.repeat(pupil, 2), np.repeat(day, 2)
    session = np.tile(np.array([0, 1], dtype=np.int64), len(day) // 2)
    key = (pupil << 32) + day * 2 + session
    stored_key = (stored[:, 0] << 32) + stored[:, 1] * 2 + stored[:, 2]
    missing = ~np.isin(key, stored_key)
    return pd.DataFrame({"pupil_id": pupil[missing], "day": day[missing], "session": session[missing],
                         "code": ""})
