"""A synthetic all-through school with a full autumn term of attendance marks.

Everything here is invented: names are random combinations from built-in lists, and
every UPN carries local-authority number 999, which no real authority uses. The data is
deterministic from the seed (numpy ``default_rng``), so the demo, the tests and the
benchmarks can all rebuild the same school.

The marks follow DfE attendance codes in force from 19 August 2024 (DOMAIN.md §2) and
hold the patterns the dashboard exists to find: illness episodes, medical appointments,
term-time holidays, lates before and after registers close, part-time timetables,
Monday/Friday absence, long unauthorised runs, suspensions, trips, closures, missing
marks, joiners and leavers.

Layout of the work: the school's sessions form a matrix (pupil × session) of code
indices. Whole-school facts are written to whole columns, patterns to slices of a
pupil's row (loops over pupils and episodes, never over marks), and a single pass turns
the matrix into the long marks frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_SECTIONS",
    "DemoSchool",
    "MARK_COLUMNS",
    "ROLL_COLUMNS",
    "Section",
    "generate",
    "term_dates",
    "upn_check_letter",
    "write_csvs",
]


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Section:
    name: str
    year_groups: tuple[str, ...]


DEFAULT_SECTIONS: tuple[Section, ...] = (
    Section("Early Years", ("N1", "N2", "R")),
    Section("Primary", ("1", "2", "3", "4", "5", "6")),
    Section("Secondary", ("7", "8", "9", "10", "11")),
    Section("Sixth Form", ("12", "13")),
)


@dataclass(frozen=True)
class DemoSchool:
    name: str
    roll: pd.DataFrame
    marks: pd.DataFrame
    register_weeks: list[tuple[date, date]]


ROLL_COLUMNS = (
    "upn", "adno", "surname", "forename", "dob", "gender", "year_group", "form",
    "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date",
    # Families, contacts and groups (issue 9): what an MIS roll export carries for the attendance officer.
    "contact1_name", "contact1_relationship", "contact1_phone", "contact1_email",
    "contact2_name", "contact2_relationship", "contact2_phone", "contact2_email",
    "address", "postcode", "family_id", "ethnicity", "young_carer", "social_worker", "vulnerable", "flags",
)
MARK_COLUMNS = ("upn", "date", "session", "mark", "minutes_late")

SCHOOL_NAME = "Riverside All-Through Academy"
LA_NUMBER = "999"  # not a real local authority: every UPN here is obviously fake
ESTABLISHMENT = "4127"  # this school's (fictional) establishment number
FEEDER_ESTABLISHMENTS = ("2013", "2047", "2101", "2210", "2386", "3302", "3415", "2555")

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn_check_letter(digits: str) -> str:
    """Check letter for the 12 digits of a UPN (FORMATS.md): weights 2..13."""
    total = sum(int(d) * w for d, w in zip(digits, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23]


# --------------------------------------------------------------------------- codes

# Index order matters: present marks first, so "still present" is `cell <= 1`.
_CODES = (
    "/", "\\", "L", "K", "V", "P", "W", "B",
    "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T",
    "G", "N", "O", "U",
    "D", "Q", "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#",
    "",  # missing mark
    "~",  # not on roll any more (after leaving): no row at all
)
_IX = {c: i for i, c in enumerate(_CODES)}
AM_P, PM_P = _IX["/"], _IX["\\"]
L_, K_, V_, P_, W_, B_ = (_IX[c] for c in ("L", "K", "V", "P", "W", "B"))
C_, C2_, E_, I_, M_, R_ = (_IX[c] for c in ("C", "C2", "E", "I", "M", "R"))
G_, N_, O_, U_ = (_IX[c] for c in ("G", "N", "O", "U"))
D_, X_, Y4_, Z_, HASH_ = (_IX[c] for c in ("D", "X", "Y4", "Z", "#"))
MISSING_, GONE_ = _IX[""], _IX["~"]
_CODE_STRINGS = np.array(_CODES, dtype=object)


# --------------------------------------------------------------------------- calendar


def _first_weekday_on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


@dataclass(frozen=True)
class _Term:
    start: date  # first day with marks
    end: date  # last day with marks
    half_term: tuple[date, date]  # Monday, Friday
    planned_closure: date  # INSET day in November: '#'
    unplanned_closure: date  # heating failure: 'Y4'
    work_experience_monday: date  # Year 10 work-experience week


def term_dates(academic_year: int) -> _Term:
    """The autumn term of `academic_year` (2025 = 2025/26).

    Starts on the first Wednesday on/after 1 September, with at least the first two
    weekdays of September as INSET days before it (when 1 September is a Tuesday or a
    Wednesday, the term starts on the third weekday instead). Half term is the last full
    Monday–Friday week of October. The term ends on the Friday of the third full week of
    December, or the Friday before when that would fall after 21 December (Christmas week).
    """
    y = academic_year
    weekdays = [d for d in (date(y, 9, 1) + timedelta(days=i) for i in range(10)) if d.weekday() < 5]
    start = _first_weekday_on_or_after(date(y, 9, 1), 2)
    if start < weekdays[2]:
        start = weekdays[2]
    oct31 = date(y, 10, 31)
    ht_friday = oct31 - timedelta(days=(oct31.weekday() - 4) % 7)
    dec_monday = _first_weekday_on_or_after(date(y, 12, 1), 0)
    end = dec_monday + timedelta(days=18)
    if end > date(y, 12, 21):
        end -= timedelta(days=7)
    nov_monday = _first_weekday_on_or_after(date(y, 11, 1), 0)
    return _Term(
        start=start,
        end=end,
        half_term=(ht_friday - timedelta(days=4), ht_friday),
        planned_closure=nov_monday + timedelta(days=11),  # Friday, 2nd full week of Nov
        unplanned_closure=nov_monday + timedelta(days=22),  # Tuesday, 4th full week of Nov
        work_experience_monday=nov_monday + timedelta(days=14),  # 3rd full week of Nov
    )


def _school_days(term: _Term) -> list[date]:
    days = []
    d = term.start
    while d <= term.end:
        if d.weekday() < 5 and not (term.half_term[0] <= d <= term.half_term[1]):
            days.append(d)
        d += timedelta(days=1)
    return days


# --------------------------------------------------------------------------- year groups

# label -> (NC year number, form suffixes, pupils per form at size 1.0)
_YEAR_SPEC: dict[str, tuple[int, tuple[str, ...], int]] = {
    "N1": (-2, ("",), 26),
    "N2": (-1, ("",), 26),
    "R": (0, ("A", "B"), 30),
    **{str(y): (y, ("A", "B"), 30) for y in range(1, 7)},
    **{str(y): (y, ("A", "B", "C", "D", "E"), 28) for y in range(7, 12)},
    "12": (12, ("A", "B", "C"), 30),
    "13": (13, ("A", "B", "C"), 30),
}

# --------------------------------------------------------------------------- names

_FORENAMES_F = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Sophia", "Grace",
    "Freya", "Florence", "Willow", "Evie", "Poppy", "Emily", "Ella", "Chloé", "Zoë", "Ruby",
    "Aisha", "Fatima", "Maryam", "Zainab", "Amira", "Hafsa", "Inaaya", "Safiya", "Khadija",
    "Priya", "Ananya", "Diya", "Simran", "Harleen", "Aaliyah", "Nia", "Amara", "Chiamaka",
    "Adaeze", "Ifeoma", "Abena", "Zuzanna", "Maja", "Oliwia", "Ioana", "Elena", "Sofía",
    "Inés", "Mei", "Jia", "Yusra", "Siobhán", "Niamh", "Aoife", "Renée", "Anaïs", "Noémie",
    "Hannah", "Jessica", "Phoebe", "Rosie", "Layla", "Hana", "Leah", "Maisie", "Esmé",
)
_FORENAMES_M = (
    "Muhammad", "Noah", "Oliver", "George", "Leo", "Arthur", "Oscar", "Theodore", "Freddie",
    "Jack", "Harry", "Charlie", "Alfie", "Finley", "Archie", "Thomas", "Jacob", "Henry",
    "Ibrahim", "Yusuf", "Ali", "Omar", "Hamza", "Zayn", "Ayaan", "Aarav", "Arjun", "Rohan",
    "Vihaan", "Kabir", "Kwame", "Tunde", "Chidi", "Oluwaseun", "Emeka", "Kofi", "Jakub",
    "Szymon", "Filip", "Mateo", "Luca", "Rafael", "Andrei", "Kai", "Wei", "Hao", "Ciarán",
    "Seán", "Oisín", "José", "Jérôme", "André", "Zaid", "Bilal", "Reuben", "Joshua", "Samuel",
    "Max", "Ethan", "Dylan", "Tyler", "Callum", "Riley", "Mason", "Elijah", "Joel",
)
_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
    "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes",
    "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke",
    "Turner", "Hill", "Scott", "Cooper", "Morris", "Ward", "Moore", "King", "Watson",
    "Baker", "Harrison", "Morgan", "Patel", "Khan", "Ahmed", "Hussain", "Ali", "Singh",
    "Sharma", "Chowdhury", "Rahman", "Mahmood", "Iqbal", "Shah", "Mistry", "Gill",
    "O'Neill", "O'Brien", "O'Connor", "O'Sullivan", "McCarthy", "Murphy", "Kelly", "Byrne",
    "MacDonald", "Nowak", "Kowalski", "Wiśniewski", "Popescu", "da Silva", "dos Santos",
    "de Souza", "van der Berg", "de la Cruz", "Le Roux", "St John", "Okafor", "Adeyemi",
    "Mensah", "Osei", "Okoro", "Abdi", "Mohamed", "Hassan", "Ibrahim", "Nguyen", "Chen",
    "Wang", "Li", "Yılmaz", "Kaya", "Rossi", "Müller", "García", "Fernández", "Novák",
    "Smith-Khan", "Jones-Okafor", "Patel-Brown", "Campbell", "Stewart", "Reid", "Murray",
)

# --------------------------------------------------------------------------- generation


def generate(
    seed: int = 1,
    academic_year: int = 2025,
    until: date | None = None,
    sections=DEFAULT_SECTIONS,
    size: float = 1.0,
) -> DemoSchool:
    """Build the demo school: its roll, and its marks for the autumn term.

    `academic_year` is the start year (2025 = 2025/26). `until` cuts the term at that
    date (inclusive) and shows the data as it would look that day: joiners not yet
    arrived are not on the roll, leavers not yet gone have no leave date, the last five
    school days carry the unexplained absences ('N'). `sections` lists the year groups
    to generate; `size` scales the number of pupils (1.0 is about 1,350).
    """
    if not size > 0:
        raise ValueError("size must be positive")
    year_groups = [yg for s in sections for yg in s.year_groups]
    unknown = [yg for yg in year_groups if yg not in _YEAR_SPEC]
    if unknown:
        raise ValueError(f"unknown year groups: {unknown}")
    if not year_groups:
        raise ValueError("no year groups to generate")
    year_groups = sorted(set(year_groups), key=lambda yg: _YEAR_SPEC[yg][0])

    rng = np.random.default_rng(seed)
    term = term_dates(academic_year)
    days = _school_days(term)
    if until is not None and until < days[0]:
        raise ValueError(f"until ({until}) is before the first day of term ({days[0]})")

    pupils = _make_pupils(rng, academic_year, year_groups, size, days)
    grid = _Grid(rng, pupils, days, term)
    grid.build()
    # Families, contacts and groups come from a stream of their own, so the marks above
    # are exactly what they were before these were added.
    pupils.details = _families(np.random.default_rng([seed, 9]), grid)

    n_days = len(days) if until is None else sum(d <= until for d in days)
    return grid.finish(n_days)


# ----------------------------------------------------------------- pupils


@dataclass
class _Pupils:
    n: int
    nc: np.ndarray  # NC year number (N1=-2, N2=-1, R=0, 1..13)
    year_group: np.ndarray  # labels
    form: np.ndarray
    upn: np.ndarray
    adno: np.ndarray
    surname: np.ndarray
    forename: np.ndarray
    dob: np.ndarray
    gender: np.ndarray
    pp: np.ndarray  # bool
    fsm: np.ndarray
    sen: np.ndarray  # 'N'/'K'/'E'
    eal: np.ndarray
    cla: np.ndarray
    entry_date: np.ndarray  # ISO strings of earlier admissions; in-term joiners set later
    first_day: np.ndarray  # index of first school day on roll this term
    last_day: np.ndarray  # index of last school day on roll this term (inclusive)
    joiner: np.ndarray
    leaver: np.ndarray
    details: dict[str, np.ndarray] | None = None  # families, contacts and groups (`_families`)


def _make_pupils(rng, academic_year: int, year_groups: list[str], size: float, days: list[date]) -> _Pupils:
    Y = academic_year
    nc, ygl, form = [], [], []
    for yg in year_groups:
        y, suffixes, per_form = _YEAR_SPEC[yg]
        for suffix in suffixes:
            k = max(1, int(round(rng.normal(per_form, 1.5) * size)))
            nc += [y] * k
            ygl += [yg] * k
            form += [yg + suffix] * k
    n = len(nc)
    nc = np.array(nc)
    ygl = np.array(ygl, dtype=object)
    form = np.array(form, dtype=object)

    gender = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    f_names = np.array(_FORENAMES_F, dtype=object)
    m_names = np.array(_FORENAMES_M, dtype=object)
    forename = np.where(
        gender == "F", f_names[rng.integers(0, len(f_names), n)], m_names[rng.integers(0, len(m_names), n)]
    )
    surnames = np.array(_SURNAMES, dtype=object)
    surname = surnames[rng.integers(0, len(surnames), n)]
    double = rng.random(n) < 0.04
    second = surnames[rng.integers(0, len(surnames), n)]
    for i in np.flatnonzero(double):
        a, b = surname[i], second[i]
        if a != b and " " not in a + b and "-" not in a + b:
            surname[i] = f"{a}-{b}"

    # Date of birth: NC year y in academic year Y means born 1 Sep (Y-y-5) .. 31 Aug (Y-y-4).
    born_from = np.array([date(Y - y - 5, 9, 1).toordinal() for y in nc])
    born_span = np.array([(date(Y - y - 4, 8, 31) - date(Y - y - 5, 9, 1)).days + 1 for y in nc])
    born = born_from + (rng.random(n) * born_span).astype(int)
    dob = np.array([date.fromordinal(int(o)).isoformat() for o in born], dtype=object)

    # Characteristics.
    cla = rng.random(n) < 0.01
    pp = (rng.random(n) < 0.245) | cla
    fsm = np.where(pp, rng.random(n) < 0.80, rng.random(n) < 0.03)
    u = rng.random(n)
    sen = np.where(u < 0.025, "E", np.where(u < 0.025 + 0.13, "K", "N")).astype(object)
    eal = rng.random(n) < 0.20

    # Where each pupil joined: the NC year of admission, then UPN and admission number.
    entry_nc = nc.copy()
    u = rng.random(n)
    for i in range(n):
        y = nc[i]
        if y == -1:
            entry_nc[i] = -2 if u[i] < 0.7 else -1
        elif 0 <= y <= 6:
            entry_nc[i] = rng.choice([-2, 0]) if u[i] < 0.85 else rng.integers(1, y + 1) if y >= 1 else 0
        elif 7 <= y <= 11:
            entry_nc[i] = (
                rng.choice([-2, 0]) if u[i] < 0.35 else 7 if u[i] < 0.92 else rng.integers(7, y + 1)
            )
        elif y >= 12:
            entry_nc[i] = rng.choice([-2, 0, 7]) if u[i] < 0.45 else 12
    entry_year = Y - (nc - entry_nc)  # academic year of admission here
    first_school_here = entry_nc <= 0
    upn_year = np.where(first_school_here, entry_year, Y - np.maximum(nc, 0))
    estab = np.where(
        first_school_here,
        ESTABLISHMENT,
        np.array(FEEDER_ESTABLISHMENTS, dtype=object)[rng.integers(0, len(FEEDER_ESTABLISHMENTS), n)],
    )

    # In-term joiners (~2%) and leavers (~1%), never the same pupil.
    n_days = len(days)
    joiner = np.zeros(n, dtype=bool)
    leaver = np.zeros(n, dtype=bool)
    older = np.flatnonzero(nc >= 0)  # nursery places start in September
    if len(older) >= 2:
        joiner[rng.choice(older, size=max(1, round(0.02 * n)), replace=False)] = True
        rest = np.flatnonzero(~joiner)
        leaver[rng.choice(rest, size=max(1, round(0.01 * n)), replace=False)] = True
    first_day = np.zeros(n, dtype=int)
    last_day = np.full(n, n_days - 1, dtype=int)
    first_day[joiner] = rng.integers(3, max(4, n_days - 3), joiner.sum())
    last_day[leaver] = rng.integers(5, max(6, n_days - 5), leaver.sum())
    estab = np.where(
        joiner,
        np.array(FEEDER_ESTABLISHMENTS, dtype=object)[rng.integers(0, len(FEEDER_ESTABLISHMENTS), n)],
        estab,
    )
    upn_year = np.where(joiner, Y - np.maximum(nc, 0), upn_year)

    upn = np.empty(n, dtype=object)
    keys = np.array([f"{e}{yy % 100:02d}" for e, yy in zip(estab, upn_year)], dtype=object)
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        serials = rng.choice(1000, size=len(members), replace=False)
        for i, s in zip(members, serials):
            digits = f"{LA_NUMBER}{key}{s:03d}"
            upn[i] = upn_check_letter(digits) + digits

    entry_date = np.empty(n, dtype=object)
    term_starts = {yr: term_dates(yr).start for yr in np.unique(entry_year)}
    late_admission = rng.random(n) < 0.12
    offsets = rng.integers(14, 280, n)
    for i in range(n):
        d = term_starts[entry_year[i]]
        if late_admission[i] and entry_year[i] < Y:
            d = d + timedelta(days=int(offsets[i]))
            while d.weekday() >= 5:
                d += timedelta(days=1)
        entry_date[i] = d.isoformat()
    for i in np.flatnonzero(joiner):
        entry_date[i] = days[first_day[i]].isoformat()

    # Admission numbers: issued in order of admission with small gaps, so the oldest
    # pupils' numbers start with "00" and Excel would drop the zeros.
    order = np.lexsort((rng.random(n), entry_date))
    numbers = 3000 + int(rng.integers(0, 900)) + np.cumsum(rng.integers(1, 12, n))
    adno = np.empty(n, dtype=object)
    adno[order] = np.array([f"{x:06d}" for x in numbers], dtype=object)

    return _Pupils(
        n=n, nc=nc, year_group=ygl, form=form, upn=upn, adno=adno, surname=surname,
        forename=forename, dob=dob, gender=gender, pp=pp, fsm=fsm, sen=sen, eal=eal, cla=cla,
        entry_date=entry_date, first_day=first_day, last_day=last_day, joiner=joiner, leaver=leaver,
    )


# ----------------------------------------------------------------- marks


class _Grid:
    """Pupil × session matrix of code indices, and the patterns written into it."""

    def __init__(self, rng, pupils: _Pupils, days: list[date], term: _Term):
        self.rng = rng
        self.p = pupils
        self.days = days
        self.term = term
        self.n_days = len(days)
        n, s = pupils.n, 2 * len(days)
        self.m = np.empty((n, s), dtype=np.uint8)
        self.m[:, 0::2] = AM_P
        self.m[:, 1::2] = PM_P
        self.late = np.full((n, s), -1, dtype=np.int16)  # minutes late, -1 = none
        self.weekday = np.array([d.weekday() for d in days])
        self.taken = np.zeros(n, dtype=bool)  # pupils given a special role
        self.run_pupils: list[int] = []
        self.day_of = {d: i for i, d in enumerate(days)}
        compulsory = (pupils.nc >= 1) & (pupils.nc <= 11)
        self.compulsory = compulsory
        self.whole_term = ~pupils.joiner & ~pupils.leaver

    # -- helpers

    def _put(self, p: int, s0: int, s1: int, code: int, step: int = 1) -> int:
        """Write `code` into pupil p's present sessions s0..s1 (every `step`th); count written."""
        first = 2 * int(self.p.first_day[p])
        if s0 < first:  # keep to the same sessions (AM or PM) when stepping
            s0 += -(-(first - s0) // step) * step
        s1 = min(s1, 2 * int(self.p.last_day[p]) + 2)
        if s1 <= s0:
            return 0
        seg = self.m[p, s0:s1:step]
        present = seg <= PM_P
        seg[present] = code
        return int(present.sum())

    def _pick(self, eligible: np.ndarray, k: int) -> list[int]:
        pool = np.flatnonzero(eligible & ~self.taken)
        k = min(k, len(pool))
        if k <= 0:
            return []
        chosen = self.rng.choice(pool, size=k, replace=False)
        self.taken[chosen] = True
        return [int(c) for c in chosen]

    def _count(self, size_1: float, minimum: int = 1) -> int:
        """How many pupils get a rare pattern: `size_1` at size 1.0, scaled, at least `minimum`."""
        return max(minimum, int(round(size_1 * self.p.n / 1350)))

    def _day(self, d: date) -> int | None:
        return self.day_of.get(d)

    # -- the build

    def build(self) -> None:
        p, m = self.p, self.m
        # Whole-school closures: every pupil, both sessions.
        for d, code in ((self.term.planned_closure, HASH_), (self.term.unplanned_closure, Y4_)):
            i = self._day(d)
            if i is not None:
                m[:, 2 * i : 2 * i + 2] = code
        # Nursery: part-time, mornings only.
        nursery = p.nc < 0
        pm = m[:, 1::2]
        pm_n = pm[nursery]
        pm[nursery] = np.where(pm_n <= PM_P, X_, pm_n)
        # Not yet on roll / no longer on roll.
        for i in np.flatnonzero(p.joiner):
            m[i, : 2 * p.first_day[i]] = Z_
        for i in np.flatnonzero(p.leaver):
            m[i, 2 * p.last_day[i] + 2 :] = GONE_

        already = np.zeros(p.n, dtype=int)  # absence sessions written by the special patterns
        self._long_illness(already)
        self._unauthorised_runs(already)
        self._holidays(already)
        self._part_time(already)
        self._suspensions(already)
        self._religious_observance(already)
        self._alternative_provision()
        self._dual_registration()
        self._everyday_absence(already)
        self._lates()
        self._approved_activities()

    # -- special patterns

    def _long_illness(self, already) -> None:
        """A few compulsory-age pupils with a long illness: 30+ 'I' sessions."""
        for i in self._pick(self.compulsory & self.whole_term, self._count(4)):
            need = int(self.rng.integers(30, 46))
            start = int(self.rng.integers(5, max(6, self.n_days - need // 2 - 5)))
            d, got = start, 0
            while got < need and d < self.n_days:
                got += self._put(i, 2 * d, 2 * d + 2, I_)
                d += 1
            already[i] += got

    def _unauthorised_runs(self, already) -> None:
        """Pupils who stop attending: 10+ consecutive days of 'O' (one 20+, to the end)."""
        k = max(2, int(round(3 * self.p.n / 1350)))
        for j, i in enumerate(self._pick(self.compulsory & self.whole_term, k)):
            if j == 0:  # missing from education: from some weeks before the end, to the end
                length = int(self.rng.integers(22, 27))
                start = self.n_days - length
            else:
                length = int(self.rng.integers(10, 15))
                start = int(self.rng.integers(3, self.n_days - length - 8))
            already[i] += self._put(i, 2 * start, 2 * (start + length), O_)
            self.run_pupils.append(i)

    def _holidays(self, already) -> None:
        """~3% take 5–10 consecutive school days of term-time holiday ('G')."""
        eligible = (self.p.nc >= 0) & (self.p.nc <= 11) & self.whole_term
        k = max(1, int(round(0.03 * eligible.sum())))
        ht_mon, ht_fri = self.term.half_term
        before_ht = sum(d < ht_mon for d in self.days)  # first day index after half term
        for i in self._pick(eligible, k):
            length = int(self.rng.integers(5, 11))
            u = self.rng.random()
            if u < 0.25:  # ending the Friday before half term
                start = before_ht - length
            elif u < 0.45:  # starting the Monday after half term
                start = before_ht
            elif u < 0.6:  # leaving early for Christmas
                start = self.n_days - length
            else:
                start = int(self.rng.integers(0, self.n_days - length))
            already[i] += self._put(i, 2 * start, 2 * (start + length), G_)

    def _part_time(self, already) -> None:
        """A few pupils on a part-time timetable: 'C2' every afternoon for 4–7 weeks."""
        eligible = self.compulsory & self.whole_term & (self.p.sen != "N")
        for i in self._pick(eligible, self._count(3)):
            weeks = int(self.rng.integers(4, 8))
            start = int(self.rng.integers(0, max(1, self.n_days - 5 * weeks)))
            already[i] += self._put(i, 2 * start + 1, 2 * (start + 5 * weeks), C2_, step=2)

    def _suspensions(self, already) -> None:
        """A few secondary pupils suspended ('E') for 1–3 days, once or twice."""
        eligible = (self.p.nc >= 7) & (self.p.nc <= 11) & self.whole_term
        for i in self._pick(eligible, self._count(7)):
            for _ in range(1 + int(self.rng.random() < 0.3)):
                length = int(self.rng.integers(1, 4))
                start = int(self.rng.integers(0, self.n_days - length))
                already[i] += self._put(i, 2 * start, 2 * (start + length), E_)

    def _religious_observance(self, already) -> None:
        """'R' on a festival day or two for some pupils (not exclusive of other patterns)."""
        rng = self.rng
        for share in (0.03, 0.015):
            d = int(rng.integers(10, self.n_days - 10))
            who = np.flatnonzero((rng.random(self.p.n) < share) & (self.p.nc >= 0))
            for i in who:
                already[i] += self._put(int(i), 2 * d, 2 * d + 2, R_)

    def _alternative_provision(self) -> None:
        """A couple of Year 9–11 pupils at LA-arranged provision ('K') Tue and Thu PM."""
        eligible = (self.p.nc >= 9) & (self.p.nc <= 11) & self.whole_term
        slots = np.zeros(2 * self.n_days, dtype=bool)
        slots[0::2] = self.weekday == 1  # Tuesday AM
        slots[1::2] = (self.weekday == 1) | (self.weekday == 3)  # Tuesday and Thursday PM
        for i in self._pick(eligible, self._count(2)):
            row = self.m[i]
            row[slots & (row <= PM_P)] = K_

    def _dual_registration(self) -> None:
        """One pupil dual registered: at another school ('D') every Monday and Friday."""
        eligible = (self.p.nc >= 8) & (self.p.nc <= 11) & self.whole_term
        for i in self._pick(eligible, 1):
            slots = np.repeat((self.weekday == 0) | (self.weekday == 4), 2)
            row = self.m[i]
            row[slots & (row <= PM_P)] = D_

    # -- everyday absence

    def _targets(self) -> np.ndarray:
        """Each pupil's absence rate this term: skewed, higher for PP/FSM/SEN and Y9–11."""
        p, rng = self.p, self.rng
        rate = rng.gamma(0.8, 1.0, p.n)
        mult = np.ones(p.n)
        mult *= np.where(p.pp, 1.45, 1.0)
        mult *= np.where(p.fsm, 1.15, 1.0)
        mult *= np.select([p.sen == "E", p.sen == "K"], [1.5, 1.3], 1.0)
        mult *= np.where(p.cla, 1.2, 1.0)
        year_mult = {-2: 1.5, -1: 1.3, 0: 1.0, 7: 1.0, 8: 1.1, 9: 1.4, 10: 1.5, 11: 1.45, 12: 1.6, 13: 1.7}
        mult *= np.array([year_mult.get(int(y), 0.85) for y in p.nc])
        rate = rate * mult * 0.022
        # Pupils whose attendance is slipping: 10–25% of sessions, likelier in the same groups.
        at_risk = rng.random(p.n) < 0.16 * mult / mult.mean()
        rate[at_risk] = rng.uniform(0.085, 0.25, at_risk.sum())
        # Severe absence: ~2% away half the time or more.
        severe = (rng.random(p.n) < 0.02 * mult / mult.mean()) & (p.nc >= 1)
        rate[severe] = rng.uniform(0.5, 0.8, severe.sum())
        return np.minimum(rate, 0.9)

    def _everyday_absence(self, already) -> None:
        """Illness episodes, appointments, odd days off: fill each pupil's target."""
        p, rng, m = self.p, self.rng, self.m
        rate = self._targets()
        possible = ((m <= PM_P) | (m == K_)).sum(axis=1) + already
        target = np.round(rate * possible).astype(int)
        mon_fri = np.flatnonzero((self.weekday == 0) | (self.weekday == 4))
        mon_fri_pupil = (rng.random(p.n) < 0.035) & (p.nc >= 0)
        illness_len = np.array([1, 2, 3, 4, 5])
        illness_p = np.array([0.34, 0.26, 0.19, 0.12, 0.09])
        for i in range(p.n):
            need = target[i] - already[i]
            if need <= 0:
                continue
            lo, hi = int(p.first_day[i]), int(p.last_day[i])
            heavy = rate[i] > 0.3
            p_unauth = 0.15 + 0.1 * p.pp[i] + (0.45 if mon_fri_pupil[i] else 0.0) + (0.25 if heavy else 0.0)
            tries = 0
            while need > 0 and tries < 80:
                tries += 1
                u = rng.random()
                if u < p_unauth:  # a day (or morning) off with no good reason
                    if mon_fri_pupil[i] and rng.random() < 0.8:
                        d = int(mon_fri[rng.integers(0, len(mon_fri))])
                    else:
                        d = int(rng.integers(lo, hi + 1))
                    length = int(rng.integers(1, 4)) if heavy else 1
                    if rng.random() < 0.15 and not heavy:
                        got = self._put(i, 2 * d, 2 * d + 1, O_)
                    else:
                        got = self._put(i, 2 * d, 2 * (d + length), O_)
                elif u < p_unauth + 0.09:  # appointment: one session
                    s = int(rng.integers(2 * lo, 2 * hi + 2))
                    got = self._put(i, s, s + 1, M_)
                elif u < p_unauth + 0.10:  # exceptional leave (a funeral, say)
                    d = int(rng.integers(lo, hi + 1))
                    got = self._put(i, 2 * d, 2 * d + 2, C_)
                else:  # illness, whole days
                    length = int(rng.choice(illness_len, p=illness_p)) + (2 if heavy else 0)
                    length = min(length, max(1, (need + 1) // 2 + 1))
                    d = int(rng.integers(lo, hi + 1))
                    got = self._put(i, 2 * d, 2 * (d + length), I_)
                need -= got

    # -- lates and approved activities

    def _lates(self) -> None:
        """'L' (1–29 minutes, some pupils habitually) and a few 'U' (30–90 minutes)."""
        p, rng, m = self.p, self.rng, self.m
        habitual = rng.random(p.n) < 0.06
        p_am = np.where(habitual, rng.uniform(0.1, 0.35, p.n), 0.012)
        p_am = np.where(p.nc < 0, p_am * 0.5, p_am)
        am = m[:, 0::2]
        late_am = (rng.random(am.shape) < p_am[:, None]) & (am == AM_P)
        pm = m[:, 1::2]
        late_pm = (rng.random(pm.shape) < 0.002) & (pm == PM_P)
        late = np.zeros(m.shape, dtype=bool)
        late[:, 0::2] = late_am
        late[:, 1::2] = late_pm
        m[late] = L_
        minutes = 1 + np.minimum(28, rng.exponential(7.0, late.sum()).astype(np.int16))
        self.late[late] = minutes
        # After registers closed: a few pupils, mostly habitual lates, a few mornings each.
        k = self._count(20)
        weights = np.where(habitual & (p.nc >= 1), 5.0, 1.0) * (p.nc >= 0)
        if weights.sum() == 0:
            return
        who = rng.choice(p.n, size=min(k, int((weights > 0).sum())), replace=False, p=weights / weights.sum())
        for i in who:
            mornings = np.flatnonzero(m[i, 0::2] == AM_P)
            if len(mornings) == 0:
                continue
            chosen = rng.choice(mornings, size=min(len(mornings), int(rng.integers(2, 7))), replace=False)
            m[i, 2 * chosen] = U_
            self.late[i, 2 * chosen] = rng.integers(30, 91, len(chosen))

    def _approved_activities(self) -> None:
        """Trips ('V') for some forms, sport ('P'), Year 10 work experience ('W'), 'B'."""
        p, rng, m = self.p, self.rng, self.m
        present = lambda block: block <= PM_P  # noqa: E731
        for form in np.unique(p.form):
            members = np.flatnonzero(p.form == form)
            if p.nc[members[0]] < 0 or rng.random() > 0.35:
                continue
            d = int(rng.integers(0, self.n_days))
            block = m[members, 2 * d : 2 * d + 2]
            block[present(block)] = V_
            m[members, 2 * d : 2 * d + 2] = block
        for y in range(3, 12):
            members = np.flatnonzero(p.nc == y)
            if len(members) == 0 or rng.random() > 0.5:
                continue
            team = members[rng.random(len(members)) < 0.25]
            d = int(rng.integers(0, self.n_days))
            col = m[team, 2 * d + 1]
            m[team, 2 * d + 1] = np.where(present(col), P_, col)
        start = self._day(self.term.work_experience_monday)
        year10 = np.flatnonzero(p.nc == 10)
        if start is not None and len(year10):
            block = m[year10, 2 * start : 2 * start + 10]
            block[present(block)] = W_
            m[year10, 2 * start : 2 * start + 10] = block
        for i in np.flatnonzero((rng.random(p.n) < 0.02) & (p.nc >= 1)):
            s = int(rng.integers(0, 2 * self.n_days))
            if m[i, s] <= PM_P:
                m[i, s] = B_

    # -- cut at `until`, then what the data looks like on that day

    def finish(self, n_days: int) -> DemoSchool:
        p, rng = self.p, self.rng
        days = self.days[:n_days]
        m = self.m[:, : 2 * n_days].copy()
        late = self.late[:, : 2 * n_days].copy()
        end = days[-1]

        # Joiners who have not joined yet are not on the roll; leavers who have not left
        # yet have no leave date.
        keep = p.first_day < n_days
        has_left = p.leaver & (p.last_day < n_days - 1)

        # Unexplained absence: the last 5 school days still have 'N' where nobody has
        # called yet; older absences are resolved (to 'I' or 'O', as generated). A few
        # older 'N' are left standing, as in real registers.
        recent = slice(2 * max(0, n_days - 5), 2 * n_days)
        block = m[:, recent]
        unexplained = (block == I_) | (block == O_)
        # Chance that nobody has explained a day's absence yet, oldest day first.
        still_open = np.array([0.1, 0.2, 0.3, 0.45, 0.7])[-(block.shape[1] // 2) :]
        not_called = np.repeat(rng.random((p.n, block.shape[1] // 2)) < still_open, 2, axis=1)
        not_called[self.run_pupils] = True
        block[unexplained & not_called] = N_
        old_o = np.argwhere(m[:, : recent.start] == O_)
        if len(old_o):
            k = min(len(old_o), max(1, int(round(0.004 * p.n))))
            for i, s in old_o[rng.choice(len(old_o), size=k, replace=False)]:
                day = s // 2
                pair = m[i, 2 * day : 2 * day + 2]
                pair[pair == O_] = N_

        # One form's afternoon register not taken on two days in the last two weeks.
        candidates = [
            d for d in range(max(0, n_days - 10), n_days)
            if days[d] not in (self.term.planned_closure, self.term.unplanned_closure)
        ]
        forms = np.unique(p.form[keep & (p.nc >= 1)]) if (keep & (p.nc >= 1)).any() else np.unique(p.form[keep])
        if len(candidates) >= 1 and len(forms):
            form = forms[rng.integers(0, len(forms))]
            members = np.flatnonzero((p.form == form) & keep)
            for d in rng.choice(candidates, size=min(2, len(candidates)), replace=False):
                s = 2 * int(d) + 1
                col = m[members, s]
                on_roll = (col != Z_) & (col != GONE_)
                m[members[on_roll], s] = MISSING_
                late[members[on_roll], s] = -1

        # Roll.
        leave_date = np.where(
            has_left, np.array([days[min(d, n_days - 1)].isoformat() for d in p.last_day], dtype=object), ""
        )
        yn = lambda a: np.where(a, "Y", "N").astype(object)  # noqa: E731
        roll = pd.DataFrame(
            {
                "upn": p.upn, "adno": p.adno, "surname": p.surname, "forename": p.forename,
                "dob": p.dob, "gender": p.gender, "year_group": p.year_group, "form": p.form,
                "pp": yn(p.pp), "fsm": yn(p.fsm), "sen": p.sen, "eal": yn(p.eal), "cla": yn(p.cla),
                "entry_date": p.entry_date, "leave_date": leave_date,
                **(p.details or {}),
            }
        )
        roll["_nc"] = p.nc
        roll = roll[keep].sort_values(["_nc", "form", "surname", "forename", "upn"], kind="stable")
        roll = roll.drop(columns="_nc").reset_index(drop=True).astype(str)

        # Marks: pupils in UPN order, the matrix read session by session.
        order = np.flatnonzero(keep)
        order = order[np.argsort(p.upn[order], kind="stable")]
        cells = m[order].T.ravel()
        minutes = late[order].T.ravel()
        n_pupils, n_sessions = len(order), 2 * n_days
        on_roll = cells != GONE_
        day_str = np.array([d.isoformat() for d in days], dtype=object)
        marks = pd.DataFrame(
            {
                "upn": np.tile(p.upn[order], n_sessions)[on_roll],
                "date": np.repeat(np.repeat(day_str, 2), n_pupils)[on_roll],
                "session": np.repeat(np.tile(np.array(["AM", "PM"], dtype=object), n_days), n_pupils)[on_roll],
                "mark": _CODE_STRINGS[cells[on_roll]],
                "minutes_late": pd.array(
                    minutes[on_roll].astype(np.int64), dtype="Int64"
                ),
            }
        )
        marks["minutes_late"] = marks["minutes_late"].mask(marks["minutes_late"] < 0)
        for col in ("upn", "date", "session", "mark"):
            marks[col] = marks[col].astype(str)

        weeks: list[tuple[date, date]] = []
        for d in days:
            monday = d - timedelta(days=d.weekday())
            if not weeks or weeks[-1][0] != monday:
                weeks.append((monday, monday + timedelta(days=4)))
        assert end <= weeks[-1][1]
        return DemoSchool(name=SCHOOL_NAME, roll=roll, marks=marks, register_weeks=weeks)


# ----------------------------------------------------------------- families, contacts and groups

# DfE main ethnicity codes, in roughly the shares of England's pupils.
_ETHNICITY_SHARES = {
    "WBRI": 0.60, "WOTH": 0.07, "WIRI": 0.005, "WROM": 0.009, "WIRT": 0.004, "MWBC": 0.015, "MWAS": 0.015,
    "MWBA": 0.008, "MOTH": 0.02, "AIND": 0.035, "APKN": 0.045, "ABAN": 0.02, "AOTH": 0.02, "BAFR": 0.045,
    "BCRB": 0.01, "BOTH": 0.008, "CHNE": 0.005, "OOTH": 0.02, "REFU": 0.005, "NOBT": 0.011,
}
_STREETS = ("Mill Lane", "Church Street", "Station Road", "Park Avenue", "Victoria Road", "Queen Street",
            "Riverside Walk", "Orchard Close", "Meadow Way", "Canal Street", "Bridge Road", "Elm Grove")
_FLAGS = (("Breakfast club", 0.08), ("Mentoring", 0.03), ("Attendance champion", 0.02))


def _families(rng, grid: "_Grid") -> dict[str, np.ndarray]:
    """Sibling groups (two or three children in different year groups, most with the MIS's
    family id, some only sharing a parent's phone and address), each family's contacts and
    address (fictional: Ofcom drama numbers, example.org, ZZ postcodes), ethnicity, young
    carers, social-worker plans, the vulnerable list and the school's own flags. A few
    families take the same days of holiday. Absence in the marks makes a pupil likelier to
    be a young carer, to have a social worker or to be on the vulnerable list."""
    p = grid.p
    n = p.n
    order = rng.permutation(n)
    family = np.full(n, -1)
    members: list[list[int]] = []
    free = np.ones(n, dtype=bool)
    for i in order:
        if not free[i] or rng.random() > 0.32 or p.nc[i] < 0:
            continue
        younger = np.flatnonzero(free & (p.nc < p.nc[i]) & (p.nc >= p.nc[i] - 6))
        if len(younger) == 0:
            continue
        group = [int(i), int(rng.choice(younger))]
        if rng.random() < 0.2:
            youngest = np.flatnonzero(free & (p.nc < p.nc[group[1]]) & (p.nc >= p.nc[group[1]] - 5))
            youngest = youngest[~np.isin(youngest, group)]
            if len(youngest):
                group.append(int(rng.choice(youngest)))
        free[group] = False
        members.append(group)
    for i in np.flatnonzero(free):  # everyone else is a family of one
        members.append([int(i)])
    for number, group in enumerate(members):
        family[group] = number
        for j in group[1:]:
            if rng.random() < 0.8:  # most siblings share a surname
                p.surname[j] = p.surname[group[0]]

    n_families = len(members)
    parent_f = np.array(_FORENAMES_F, dtype=object)[rng.integers(0, len(_FORENAMES_F), n_families)]
    parent_m = np.array(_FORENAMES_M, dtype=object)[rng.integers(0, len(_FORENAMES_M), n_families)]
    lead = np.array([p.surname[g[0]] for g in members], dtype=object)
    mother_first = rng.random(n_families) < 0.7
    relationship = np.where(mother_first, "Mother", np.where(rng.random(n_families) < 0.85, "Father", "Grandmother"))
    first_name = np.where(relationship == "Father", parent_m, parent_f)
    mobiles = [f"07700 900{k:03d}" for k in range(1000)] + [f"01632 960{k:03d}" for k in range(1000)]
    mobile = np.array(mobiles, dtype=object)[rng.permutation(len(mobiles))[:n_families] % len(mobiles)]
    landlines = np.array([f"020 7946 0{k:03d}" for k in range(1000)] + [f"0113 496 0{k:03d}" for k in range(1000)],
                         dtype=object)[rng.permutation(2000)[:n_families] % 2000]
    second = rng.random(n_families) < 0.55
    second_relationship = np.where(relationship == "Father", "Mother", "Father")
    second_name = np.where(second_relationship == "Father", parent_m, parent_f)
    house = rng.integers(1, 180, n_families)
    street = np.array(_STREETS, dtype=object)[rng.integers(0, len(_STREETS), n_families)]
    postcode = [f"ZZ{rng.integers(1, 10)} {rng.integers(1, 10)}{chr(65 + rng.integers(0, 26))}"
                f"{chr(65 + rng.integers(0, 26))}" for _ in range(n_families)]
    has_family_id = rng.random(n_families) < 0.85
    codes_, shares = list(_ETHNICITY_SHARES), np.array(list(_ETHNICITY_SHARES.values()))
    ethnicity = np.array(codes_, dtype=object)[rng.choice(len(codes_), n_families, p=shares / shares.sum())]

    # A few families take the same days of holiday in term time ('G').
    pairs = [g for g in members if len(g) > 1 and all(grid.whole_term[j] and p.nc[j] >= 0 for j in g)]
    for group in [pairs[k] for k in rng.permutation(len(pairs))[:max(1, len(pairs) // 12)]]:
        length = int(rng.integers(3, 8))
        start = int(rng.integers(0, max(1, grid.n_days - length)))
        for j in group:
            grid._put(j, 2 * start, 2 * (start + length), G_)

    absence = ((grid.m > PM_P) & (grid.m != L_) & (grid.m < D_)).mean(axis=1)
    weight = 0.5 + absence / max(float(absence.mean()), 1e-9)
    chance = lambda share: rng.random(n) < share * weight  # noqa: E731
    young_carer = chance(0.02) & (p.nc >= 3)
    u = rng.random(n) / weight
    social_worker = np.where(u < 0.005, "CP", np.where(u < 0.03, "CIN", "")).astype(object)
    vulnerable = (social_worker == "CP") | p.cla | (chance(0.03) & (p.nc >= 0))
    flags = [[name for name, share in _FLAGS if rng.random() < share * (1.6 if name == "Breakfast club" and p.pp[i]
              else 1)] for i in range(n)]

    f = family
    yn = lambda a: np.where(a, "Y", "N").astype(object)  # noqa: E731
    email = np.array([f"{re_ascii(first_name[k])}.{re_ascii(lead[k])}{k}@example.org" for k in range(n_families)],
                     dtype=object)
    return {
        "contact1_name": (first_name + " " + lead)[f],
        "contact1_relationship": relationship.astype(object)[f],
        "contact1_phone": mobile[f],
        "contact1_email": email[f],
        "contact2_name": np.where(second, second_name + " " + lead, "")[f].astype(object),
        "contact2_relationship": np.where(second, second_relationship, "")[f].astype(object),
        "contact2_phone": np.where(second, landlines, "")[f].astype(object),
        "contact2_email": np.full(n, "", dtype=object),
        "address": np.array([f"{h} {s_}, Riverside" for h, s_ in zip(house, street)], dtype=object)[f],
        "postcode": np.array(postcode, dtype=object)[f],
        "family_id": np.where(has_family_id & (np.array([len(g) for g in members]) > 1),
                              np.array([f"FAM{k:05d}" for k in range(n_families)], dtype=object), "")[f].astype(object),
        "ethnicity": ethnicity[f],
        "young_carer": yn(young_carer),
        "social_worker": social_worker,
        "vulnerable": yn(vulnerable),
        "flags": np.array(["; ".join(x) for x in flags], dtype=object),
    }


def re_ascii(name: str) -> str:
    """A surname as the part of an email address before the @ ('O'Brien' → 'obrien')."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum())


# --------------------------------------------------------------------------- files


def write_csvs(school: DemoSchool, folder: Path) -> list[Path]:
    """Write roll.csv and one marks_week_NN_<monday>.csv per school week (UTF-8, no index)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    roll_path = folder / "roll.csv"
    school.roll.to_csv(roll_path, index=False, encoding="utf-8")
    written.append(roll_path)
    marks = school.marks
    dates = pd.to_datetime(marks["date"]).dt.date
    for n, (monday, friday) in enumerate(school.register_weeks, start=1):
        in_week = (dates >= monday) & (dates <= monday + timedelta(days=6))
        path = folder / f"marks_week_{n:02d}_{monday.isoformat()}.csv"
        marks.loc[in_week, list(MARK_COLUMNS)].to_csv(path, index=False, encoding="utf-8")
        written.append(path)
    return written
