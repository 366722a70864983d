"""Benchmarks and targets: the national figures shown beside the school's, and the school's own
targets for the year.

National figures (DOMAIN.md §3) are rows of the store's `national_figures` table: an academic
year (its starting year), a period ("full year", "autumn term", "year to date", …), the
overall absence, persistent absence and severe absence percentages (None where not
published), the source and the date published. The app ships DOMAIN.md's rows and the latest
published figures (store.MIGRATIONS); a school admin brings them up to date by uploading the
DfE statistics CSV from explore-education-statistics (`read_dfe_csv` → `changes` → `save`).

Which figure is shown for an academic year (`national`): the latest academic year up to it
that has the measure, and within that year the period covering most of it (PERIODS order),
then the latest published. A part-year figure always says so ("autumn 2025/26"), and is shown
beside the latest full-year figure (`national_caption`).

Targets are a setting (`targets`, by academic year): attendance % to reach and persistent
absence % (pupils) not to exceed. `check_targets` says whether the year to date is on track
(ON_TRACK_RULE).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import pandas as pd
import sqlite_utils

from core import calendar, store

MEASURES = ("overall_absence_pct", "persistent_absence_pct", "severe_absence_pct")
MEASURE_LABELS = {"overall_absence_pct": "Overall absence %", "persistent_absence_pct": "Persistent absence %",
                  "severe_absence_pct": "Severe absence %"}

# Periods a national figure can describe, from the one covering most of the year to the least:
# for a year with several, the first is shown.
PERIODS = ("full year", "autumn and spring terms", "year to date", "summer term", "spring term", "autumn term")
FULL_YEAR = "full year"


class BenchmarkError(ValueError):
    """A file or a value the user must fix; the message says how. Nothing was stored."""


# --- the national figures -----------------------------------------------------------------------


class NationalFigure(NamedTuple):
    """One published national figure for a measure, with what it describes and where it came from."""

    value: float
    academic_year: int
    period: str
    source: str
    published_on: date | None

    @property
    def label(self) -> str:
        """'autumn 2025/26', 'full year 2024/25', 'year to date 2025/26'."""
        short = re.sub(r" terms?$", "", self.period)
        return f"{short} {calendar.academic_year_label(self.academic_year)}"

    @property
    def full_year(self) -> bool:
        return self.period == FULL_YEAR

    def described(self) -> str:
        """Where it is from: 'autumn 2025/26 — DfE, Pupil attendance in schools, 2026 week 2 (published 15/01/2026)'."""
        published = f" (published {calendar.uk_date(self.published_on)})" if self.published_on else ""
        return f"{self.label} — {self.source}{published}"


FIGURE_COLUMNS = ["academic_year", "period", *MEASURES, "source", "published_on", "updated_at", "updated_by"]


def national_figures(db: sqlite_utils.Database) -> pd.DataFrame:
    """Every stored national figure, newest academic year first."""
    rows = db.execute(f"SELECT {', '.join(FIGURE_COLUMNS)} FROM national_figures "
                      "ORDER BY academic_year DESC, period").fetchall()
    frame = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    published = pd.Series([date.fromisoformat(row[FIGURE_COLUMNS.index("published_on")])
                           if row[FIGURE_COLUMNS.index("published_on")] else None for row in rows],
                          index=frame.index, dtype=object)
    measures = {m: frame[m].astype("float64") for m in MEASURES}
    return frame.assign(published_on=published, **measures)


def _period_rank(period: str) -> int:
    return len(PERIODS) - PERIODS.index(period) if period in PERIODS else 0


def national(figures: pd.DataFrame, measure: str, year: int | None = None,
             full_year_only: bool = False) -> NationalFigure | None:
    """The national figure to show for `measure` in academic year `year` (None: the latest):
    the latest academic year up to `year` with the measure published; within it, the period
    covering most of the year, then the latest published. `attendance_pct` is 100 minus the
    overall absence."""
    column = "overall_absence_pct" if measure == "attendance_pct" else measure
    if column not in MEASURES or figures.empty:
        return None
    # A few dozen rows at most: read one by one (a screen asks for several figures per draw).
    rows = [r for r in figures.itertuples(index=False)
            if pd.notna(getattr(r, column)) and (year is None or r.academic_year <= year)
            and (not full_year_only or r.period == FULL_YEAR)]
    if not rows:
        return None
    best = max(rows, key=lambda r: (r.academic_year, _period_rank(r.period), r.published_on or date.min))
    value = float(getattr(best, column))
    return NationalFigure(round(100 - value, 10) if measure == "attendance_pct" else value, int(best.academic_year),
                          best.period, best.source, best.published_on)


def national_pair(figures: pd.DataFrame, measure: str, year: int | None = None
                  ) -> tuple[NationalFigure | None, NationalFigure | None]:
    """The figure to show, and beside it the latest full-year figure when the first is part of a year."""
    shown = national(figures, measure, year)
    if shown is None or shown.full_year:
        return shown, None
    return shown, national(figures, measure, year, full_year_only=True)


def national_caption(figures: pd.DataFrame, measure: str, year: int | None = None) -> str:
    """'National 93.4% (autumn 2025/26) · 93.1% (full year 2024/25)', or that none is published."""
    return pair_caption(*national_pair(figures, measure, year))


def pair_caption(shown: NationalFigure | None, full_year: NationalFigure | None) -> str:
    """The caption of a pair `national_pair` gave."""
    if shown is None:
        return "No national figure published"
    text = f"National {shown.value:.1f}% ({shown.label})"
    return text + (f" · {full_year.value:.1f}% ({full_year.label})" if full_year else "")


# --- reading the DfE statistics CSV ----------------------------------------------------------------

# The explore-education-statistics CSVs name each figure in one of these ways: "Pupil absence in
# schools in England" (school census: sess_overall_percent, enrolments_pa_10_exact_percent,
# enrolments_pa_50_exact_percent) and "Pupil attendance in schools" (daily data: overall_absence_perc,
# pa_perc). A file is read by meaning, never by position.
MEASURE_COLUMNS = {
    "overall_absence_pct": ("sess_overall_percent", "overall_absence_perc", "session_overall_absence_rate",
                            "overall_absence_percent", "overall_absence_rate"),
    "persistent_absence_pct": ("enrolments_pa_10_exact_percent", "pa_perc", "persistent_absence_percent",
                               "persistent_absence_perc", "persistent_absence_rate"),
    "severe_absence_pct": ("enrolments_pa_50_exact_percent", "sa_perc", "severe_absence_percent",
                           "severe_absence_perc", "severe_absence_rate"),
}
# Columns every EES file has, which say what a row describes.
REQUIRED_COLUMNS = ("time_period", "time_identifier", "geographic_level")
# The school-type filter (renamed over the years); "Total" is the state-funded total (primary,
# secondary and special schools).
PHASE_COLUMNS = ("education_phase", "school_type")
STATE_FUNDED_TOTAL = {"total", "state-funded total", "state funded total", "total state-funded"}
# Other filters a row can be broken down by: only their "Total" rows are national headlines.
BREAKDOWN_COLUMNS = ("characteristic", "characteristic_breakdown", "breakdown_topic", "breakdown",
                     "characteristic_group", "characteristic_type")
# time_identifier → period. "Academic year" in the daily-data publication is the year to date.
TERM_PERIODS = {"autumn term": "autumn term", "spring term": "spring term", "summer term": "summer term",
                "autumn and spring term": "autumn and spring terms", "autumn and spring terms": "autumn and spring terms",
                "full year": "full year"}
NOT_AVAILABLE = {"", "x", "z", "c", ":", "u", "low", "..", "-", "na", "n/a"}

SOURCES = {"census": "DfE, Pupil absence in schools in England",
           "attendance": "DfE, Pupil attendance in schools"}
DOWNLOAD_HINT = ("Download the CSV from explore-education-statistics.service.gov.uk — “Pupil absence in schools in "
                 "England” (absence rates by geographic level) or “Pupil attendance in schools” (year to date or "
                 "autumn term) — and upload it as it comes.")


@dataclass(frozen=True)
class DfeFigures:
    """What a DfE statistics CSV says nationally for state-funded schools: one row per academic
    year and period (columns academic_year, period, and MEASURES with None where the file has none)."""

    rows: pd.DataFrame
    layout: str  # "census" or "attendance"
    rows_read: int

    @property
    def source(self) -> str:
        return SOURCES[self.layout]


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _decode(data: bytes) -> str:
    if data[:2] == b"PK":
        raise BenchmarkError("This is a zip file. Open it, and upload the CSV of national figures inside it. "
                             + DOWNLOAD_HINT)
    if not data.strip():
        raise BenchmarkError("The file is empty. " + DOWNLOAD_HINT)
    if b"\x00" in data[:4096]:
        raise BenchmarkError("This is not a CSV file. " + DOWNLOAD_HINT)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BenchmarkError("The file's text could not be read (not UTF-8 or Windows-1252). " + DOWNLOAD_HINT)


def _academic_year(time_period: str) -> int | None:
    """'202425' → 2024; '2024/25' → 2024; anything else (a calendar year of weekly data) → None."""
    digits = re.sub(r"\D", "", time_period)
    if len(digits) != 6:
        return None
    start, end = int(digits[:4]), int(digits[4:])
    return start if end == (start + 1) % 100 else None


def _percentage(text: str, column: str, line: int) -> float | None:
    value = str(text).strip()
    if value.lower() in NOT_AVAILABLE:
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        raise BenchmarkError(f"Row {line}: {column} is “{value}”, not a percentage. {DOWNLOAD_HINT}") from None
    if not 0 <= number <= 100:
        raise BenchmarkError(f"Row {line}: {column} is {value}, outside 0 to 100 — this is not a percentage column.")
    return number


def read_dfe_csv(data: bytes) -> DfeFigures:
    """The national, state-funded-total figures in a DfE statistics CSV, or BenchmarkError
    saying why the file is refused (another file, no national total rows, a bad value)."""
    text = _decode(data)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as error:
        raise BenchmarkError(f"The file could not be read as a CSV ({error}). {DOWNLOAD_HINT}") from None
    frame.columns = [_header_key(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    measures = {m: next((c for c in names if c in frame.columns), None) for m, names in MEASURE_COLUMNS.items()}
    if missing or not any(measures.values()):
        wanted = ", ".join(missing + ([] if any(measures.values()) else
                                      ["an absence rate (sess_overall_percent, overall_absence_perc, pa_perc, "
                                       "enrolments_pa_10_exact_percent)"]))
        raise BenchmarkError(f"This does not look like a DfE attendance statistics file: it has no {wanted}. "
                             + DOWNLOAD_HINT)
    layout = "census" if measures["overall_absence_pct"] == "sess_overall_percent" or (
        measures["persistent_absence_pct"] == "enrolments_pa_10_exact_percent") else "attendance"

    keep = frame["geographic_level"].str.strip().str.lower() == "national"
    if "country_name" in frame.columns:
        keep &= frame["country_name"].str.strip().str.lower().isin(["england", ""])
    phase = next((c for c in PHASE_COLUMNS if c in frame.columns), None)
    if phase:
        keep &= frame[phase].str.strip().str.lower().isin(STATE_FUNDED_TOTAL)
    for column in BREAKDOWN_COLUMNS:
        if column in frame.columns:
            keep &= frame[column].str.strip().str.lower().isin(["total", ""])

    rows, seen = [], {}
    for position in frame.index[keep]:
        line = int(position) + 2  # the header is line 1
        row = frame.loc[position]
        year = _academic_year(row["time_period"])
        identifier = row["time_identifier"].strip().lower()
        if identifier == "academic year":
            period = FULL_YEAR if layout == "census" else "year to date"
        else:
            period = TERM_PERIODS.get(identifier)
        if year is None or period is None:
            continue  # weekly or daily rows: not a term or a year
        values = {m: (_percentage(row[c], c, line) if c else None) for m, c in measures.items()}
        if all(v is None for v in values.values()):
            continue
        key = (year, period)
        if key in seen and seen[key] != values:
            raise BenchmarkError(
                f"Rows {seen[key]['line']} and {line} both give national totals for {period} "
                f"{calendar.academic_year_label(year)} with different figures, so Pastoral cannot tell which is the "
                "headline. Upload the file of absence rates by geographic level (one national total row per period).")
        if key not in seen:
            seen[key] = {**values, "line": line}
            rows.append({"academic_year": year, "period": period, **values})
    if not rows:
        raise BenchmarkError("The file has no national rows for state-funded schools in total (geographic_level "
                             "“National”, school type “Total”) for a term or an academic year. " + DOWNLOAD_HINT)
    table = pd.DataFrame(rows, columns=["academic_year", "period", *MEASURES]).sort_values(
        ["academic_year", "period"], ascending=[False, True], ignore_index=True)
    return DfeFigures(table.astype({m: "object" for m in MEASURES}), layout, len(frame))


# --- what an upload would change, and saving it --------------------------------------------------


def changes(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """Per incoming row: academic_year, period, each measure now and after (a value the file does
    not give keeps what is stored), and status "new", "changed" or "unchanged"."""
    by_key = {(int(r.academic_year), r.period): r for r in stored.itertuples(index=False)}
    out = []
    for row in incoming.itertuples(index=False):
        old = by_key.get((int(row.academic_year), row.period))
        entry: dict[str, Any] = {"academic_year": int(row.academic_year), "period": row.period}
        differs = False
        for measure in MEASURES:
            before = None if old is None or pd.isna(getattr(old, measure)) else float(getattr(old, measure))
            given = getattr(row, measure)
            after = before if given is None or pd.isna(given) else float(given)
            entry[f"{measure}_before"], entry[f"{measure}_after"] = before, after
            differs |= before != after
        entry["status"] = "new" if old is None else ("changed" if differs else "unchanged")
        out.append(entry)
    columns = ["academic_year", "period", *(f"{m}_{s}" for m in MEASURES for s in ("before", "after")), "status"]
    return pd.DataFrame(out, columns=columns)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def save(db: sqlite_utils.Database, incoming: pd.DataFrame, source: str, published_on: date | None,
         username: str, file_name: str = "") -> int:
    """Store the new and changed national figures of an upload (all or nothing), with their source
    and publication date; audited. Returns how many rows were written."""
    source = " ".join(str(source).split())
    if not source:
        raise BenchmarkError("Say where the figures come from (the publication and release), e.g. "
                             "“DfE, Pupil attendance in schools, 2026 week 2”.")
    if published_on is not None and published_on > date.today():
        raise BenchmarkError("The publication date is in the future. Give the date the DfE published the figures.")
    with store.transaction(db) as conn:
        wanted = changes(national_figures(db), incoming)
        wanted = wanted[wanted["status"] != "unchanged"]
        written = []
        for row in wanted.itertuples(index=False):
            values = [_number(getattr(row, f"{m}_after")) for m in MEASURES]
            conn.execute(
                "INSERT INTO national_figures (academic_year, period, overall_absence_pct, persistent_absence_pct, "
                "severe_absence_pct, source, published_on, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (academic_year, period) DO UPDATE SET overall_absence_pct = excluded.overall_absence_pct, "
                "persistent_absence_pct = excluded.persistent_absence_pct, severe_absence_pct = excluded.severe_absence_pct, "
                "source = excluded.source, published_on = excluded.published_on, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (int(row.academic_year), row.period, *values, source,
                 published_on.isoformat() if published_on else None, store.now(), username))
            written.append({"year": calendar.academic_year_label(int(row.academic_year)), "period": row.period,
                            "status": row.status,
                            **{m: [_number(getattr(row, f"{m}_before")), _number(getattr(row, f"{m}_after"))]
                               for m in MEASURES}})
        if written:
            store.audit(conn, username, "national_figures.upload", "national_figures", file_name,
                        {"source": source, "published_on": published_on, "rows": written})
    return len(written)


# --- the school's targets --------------------------------------------------------------------------

TARGET_MEASURES = {"attendance_pct": "Attendance", "persistent_absence_pct": "Persistent absence"}
ON_TRACK_RULE = ("On track means: over this academic year to date (1 September to the date of the latest marks), "
                 "the school's figure as shown (to one decimal place) is at or above the attendance target, and at or "
                 "below the persistent-absence target (the share of pupils missing 10% or more of their sessions). "
                 "Pupils of compulsory school age are counted where the school has them, as nationally.")
TARGET_LIMITS = {"attendance_pct": (50.0, 100.0), "persistent_absence_pct": (0.0, 100.0),
                 "severe_absence_pct": (0.0, 100.0)}
# A trust's own targets (issue 18, the `trust_targets` setting, the same shape as `targets`):
# severe absence (% of pupils, at or below) too.
TRUST_TARGETS = "trust_targets"
TRUST_TARGET_MEASURES = {**TARGET_MEASURES, "severe_absence_pct": "Severe absence"}


def targets_for(settings: dict, year: int, key: str = "targets") -> dict[str, float]:
    """The school's targets (`key` "trust_targets": the trust's) for an academic year (its
    starting year): measure → target %."""
    measures = TRUST_TARGET_MEASURES if key == TRUST_TARGETS else TARGET_MEASURES
    chosen = (settings.get(key) or {}).get(str(year)) or {}
    return {m: float(chosen[m]) for m in measures if chosen.get(m) is not None}


def with_targets(settings: dict, year: int, attendance_pct: float | None,
                 persistent_absence_pct: float | None, key: str = "targets",
                 severe_absence_pct: float | None = None) -> dict:
    """The `targets` setting (or `key`'s) with this year's targets replaced (None: no target), checked."""
    given = {"attendance_pct": attendance_pct, "persistent_absence_pct": persistent_absence_pct}
    if key == TRUST_TARGETS:
        given["severe_absence_pct"] = severe_absence_pct
    for measure, value in given.items():
        low, high = TARGET_LIMITS[measure]
        if value is not None and not low <= float(value) <= high:
            raise BenchmarkError(f"The {TRUST_TARGET_MEASURES[measure].lower()} target must be between {low:g}% and "
                                 f"{high:g}%.")
    targets = {k: dict(v) for k, v in (settings.get(key) or {}).items()}
    year_targets = {m: round(float(v), 1) for m, v in given.items() if v is not None}
    if year_targets:
        targets[str(year)] = year_targets
    else:
        targets.pop(str(year), None)
    return targets


def set_targets(db: sqlite_utils.Database, year: int, attendance_pct: float | None,
                persistent_absence_pct: float | None, username: str, school_id: int | None = None) -> bool:
    """Save this year's targets of a school (the store's own unless named; audited as a
    setting change). Whether anything changed."""
    settings = store.get_settings(db, school_id)
    wanted = with_targets(settings, year, attendance_pct, persistent_absence_pct)
    if wanted == (settings.get("targets") or {}):
        return False
    store.set_setting(db, "targets", wanted, username, school_id)
    return True


def set_trust_targets(db: sqlite_utils.Database, year: int, attendance_pct: float | None,
                      persistent_absence_pct: float | None, severe_absence_pct: float | None, username: str) -> bool:
    """Save this year's trust-wide targets (audited as a setting change). Whether anything changed."""
    settings = store.get_settings(db)
    wanted = with_targets(settings, year, attendance_pct, persistent_absence_pct, TRUST_TARGETS, severe_absence_pct)
    if wanted == (settings.get(TRUST_TARGETS) or {}):
        return False
    store.set_setting(db, TRUST_TARGETS, wanted, username)
    return True


@dataclass(frozen=True)
class TargetCheck:
    """One target against the year to date."""

    measure: str
    target: float
    value: float | None  # the year-to-date figure; None with no possible sessions yet

    @property
    def label(self) -> str:
        return TARGET_MEASURES[self.measure]

    @property
    def on_track(self) -> bool | None:
        if self.value is None:
            return None
        shown = round(self.value, 1)
        return shown >= self.target if self.measure == "attendance_pct" else shown <= self.target

    @property
    def verdict(self) -> str:
        return {True: "on track", False: "off track", None: "no figures yet"}[self.on_track]

    def sentence(self) -> str:
        """'Attendance 94.2% against a target of 95.0%: off track'."""
        now = "—" if self.value is None else f"{self.value:.1f}%"
        return f"{self.label} {now} against a target of {self.target:.1f}%: {self.verdict}"


def check_targets(targets: dict[str, float], year_to_date: dict | None) -> list[TargetCheck]:
    """Each target set against the year-to-date group figures (metrics.group_figures: the
    attendance is 100 minus overall_absence_pct)."""
    checks = []
    for measure, target in targets.items():
        value = None
        if year_to_date and year_to_date.get("pupils"):
            if measure == "attendance_pct":
                absence = year_to_date.get("overall_absence_pct")
                value = None if absence is None else 100 - float(absence)
            else:
                figure = year_to_date.get(measure)
                value = None if figure is None else float(figure)
        checks.append(TargetCheck(measure, float(target), value))
    return checks
