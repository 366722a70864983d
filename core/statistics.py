"""Half-termly statistics: the figures of DOMAIN.md §3 for everyone and by group (section,
year group, PP, FSM, SEN, CLA, EAL, gender) for a half term, against the previous half term
and the national figures; the table people read them as, and its PDF.

Also the few shared words of every report: how a group value is named (`group_value_label`),
year groups in school order (`year_order`), a group's attendance beside its absence
(`with_attendance`), and a percentage or a comparison as text (`percent`, `comparison`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, groups, marks, metrics, reads
from core.calendar import uk_date
from core.pdf import MUTED, Document

MEASURES = {
    "attendance_pct": "Attendance %",
    "overall_absence_pct": "Absence %",
    "authorised_absence_pct": "Authorised %",
    "unauthorised_absence_pct": "Unauthorised %",
    "persistent_absence_pct": "PA %",
    "severe_absence_pct": "SA %",
}
NATIONAL_MEASURES = ("attendance_pct", "overall_absence_pct", "persistent_absence_pct", "severe_absence_pct")


def group_value_label(grouping: str, value: Any) -> str:
    if grouping == "year_group":
        return f"Year {value}" if str(value).isdigit() else {"R": "Reception"}.get(str(value), str(value) or "(none)")
    named = getattr(groups.BY_COLUMN.get(grouping), "values", None) or {}
    return named.get(value, str(value) if value not in ("", None) else "(none)")


def with_attendance(group: dict) -> dict:
    absence = group.get("overall_absence_pct")
    return {**group, "attendance_pct": None if absence is None else 100 - absence}


def _figures_by_group(figures: pd.DataFrame) -> pd.DataFrame:
    """Pooled figures (DOMAIN.md §3) for everyone and for each value of each grouping."""
    counted = figures[figures["possible_sessions"] > 0]
    rows = [{"grouping": "all", "group": "", **with_attendance(metrics.group_figures(counted))}]
    for grouping in groups.STATISTICS:
        if counted.empty:
            continue
        by_value = counted.groupby(grouping, sort=True, dropna=False)
        values = sorted(by_value.groups, key=year_order) if grouping == "year_group" else list(by_value.groups)
        for value in values:
            rows.append({"grouping": grouping, "group": value,
                         **with_attendance(metrics.group_figures(by_value.get_group(value)))})
    return pd.DataFrame(rows)


def half_term_statistics(db: sqlite_utils.Database, term: calendar.HalfTerm, previous: calendar.HalfTerm | None,
                         pupil_ids: list[int] | None = None, compulsory_only: bool = True) -> pd.DataFrame:
    """The figures of DOMAIN.md §3 for everyone and by group for a half term, each with the
    previous half term's, the change in points, and the national figure where published.

    Columns: grouping, grouping_label, group, group_label, pupils, pupils_previous, and per
    measure M: M, M_previous, M_change (points), M_national and M_national_label (which period
    the national figure describes, e.g. "autumn 2025/26"; for NATIONAL_MEASURES).
    """

    path = reads.path_of(db)
    version = reads.version(path)
    national_figures = reads.national_figures(path, version)

    def figures_for(half: calendar.HalfTerm | None) -> pd.DataFrame:
        if half is None:
            return pd.DataFrame(columns=["grouping", "group", "pupils", *MEASURES])
        figures = reads.figures_of_pupils(path, version, half.first_day, half.last_day, pupil_ids)
        if compulsory_only:
            figures = figures[figures["compulsory_school_age"]]
        return _figures_by_group(figures)

    now = figures_for(term)
    before = figures_for(previous)[["grouping", "group", "pupils", *MEASURES]]
    key = ["grouping", "group"]
    now = now.assign(group=now["group"].astype(str))
    before = before.assign(group=before["group"].astype(str))
    table = now[[*key, "pupils", *MEASURES]].merge(before, on=key, how="left", suffixes=("", "_previous"))
    columns: dict[str, Any] = {
        "grouping": table["grouping"],
        "grouping_label": table["grouping"].map({"all": "All pupils", **{g: groups.statistics_label(g) for g in groups.STATISTICS}}),
        "group": table["group"],
        "group_label": [("All pupils" if g == "all" else group_value_label(g, _original(v)))
                        for g, v in zip(table["grouping"], table["group"])],
        "pupils": table["pupils"].astype("int64"),
        "pupils_previous": table["pupils_previous"].astype("Int64"),
    }
    for measure in MEASURES:
        this, then = table[measure].astype("float64"), table[f"{measure}_previous"].astype("float64")
        columns[measure] = this
        columns[f"{measure}_previous"] = then
        columns[f"{measure}_change"] = this - then
        if measure in NATIONAL_MEASURES:
            figure = metrics.national(national_figures, measure, term.academic_year)
            columns[f"{measure}_national"] = np.nan if figure is None else figure.value
            columns[f"{measure}_national_label"] = "" if figure is None else figure.label
    return pd.DataFrame(columns)


def _original(value: str) -> Any:
    """Group values came through str(); flags were 0/1 integers."""
    return int(value) if value in ("0", "1") else value


def statistics_table(statistics: pd.DataFrame, measures: tuple[str, ...] = ("attendance_pct", "persistent_absence_pct",
                                                                            "severe_absence_pct")) -> pd.DataFrame:
    """The statistics as people read them: a row per group, this half term, the previous one,
    the change and the national figure for each measure chosen."""
    table = {"Grouping": statistics["grouping_label"], "Group": statistics["group_label"],
             "Pupils": statistics["pupils"]}
    for measure in measures:
        label = MEASURES[measure]
        table[label] = statistics[measure].round(1)
        table[f"{label} previous"] = statistics[f"{measure}_previous"].round(1)
        table[f"{label} change"] = statistics[f"{measure}_change"].round(1)
        if f"{measure}_national" in statistics:
            table[f"{label} national"] = statistics[f"{measure}_national"].round(1)
    return pd.DataFrame(table)


def half_terms_so_far(db: sqlite_utils.Database) -> list[calendar.HalfTerm]:
    span = marks.mark_date_range(db)
    if span is None:
        return []
    days = marks.school_session_days(db, calendar.to_day(span[0]), calendar.to_day(span[1]))["day"].to_numpy()
    return calendar.half_terms(days)


def statistics_pdf(statistics: pd.DataFrame, school: str, term: calendar.HalfTerm,
                   previous: calendar.HalfTerm | None, scope: str, compulsory_only: bool) -> bytes:
    who = "pupils of compulsory school age" if compulsory_only else "all pupils"
    doc = Document(school, f"Half-termly attendance statistics — {term.label}",
                   f"{scope} · {uk_date(term.first_day)} to {uk_date(term.last_day)} · {who}"
                   + (f" · compared with {previous.label} ({uk_date(previous.first_day)} to "
                      f"{uk_date(previous.last_day)})" if previous else " · no previous half term stored"),
                   landscape=True)
    everyone = statistics[statistics["grouping"] == "all"].iloc[0]
    doc.key_figures([
        (MEASURES[m], percent(everyone[m]), comparison(everyone[m], everyone[f"{m}_previous"], everyone.get(f"{m}_national"),
                                                everyone.get(f"{m}_national_label") or ""))
        for m in ("attendance_pct", "unauthorised_absence_pct", "persistent_absence_pct", "severe_absence_pct")])
    doc.paragraph("Rates are pooled (sessions over possible sessions); PA and SA are pupils at or below 90% and 50% "
                  "attendance in the half term. " + national_note(everyone), size=8.5, colour=MUTED)
    for grouping, label in [("all", "All pupils"), *((g, groups.statistics_label(g)) for g in groups.STATISTICS)]:
        part = statistics[statistics["grouping"] == grouping]
        if part.empty or grouping == "all":
            continue
        doc.heading(f"By {label.lower()}", size=11)
        table = statistics_table(part).drop(columns=["Grouping"])
        spans = [("", 2)] + [(MEASURES[m], 4) for m in ("attendance_pct", "persistent_absence_pct", "severe_absence_pct")]
        table.columns = ["Group", "Pupils"] + ["This half term", "Previous", "Change (pts)", "National"] * 3
        doc.table(table, size=7.5, group_headings=spans)
    return doc.pdf_bytes()


def national_note(everyone: pd.Series) -> str:
    """Which period each national figure describes: 'National figures (state-funded schools, England):
    attendance % autumn 2025/26; ...'."""
    parts = [f"{MEASURES[m]} {everyone.get(f'{m}_national_label')}" for m in NATIONAL_MEASURES
             if everyone.get(f"{m}_national_label")]
    return ("National figures (state-funded schools, England): " + "; ".join(parts) + "."
            if parts else "No national figures published.")


def percent(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def comparison(now: Any, before: Any, national: Any = None, national_label: str = "") -> str:
    parts = []
    if before is not None and not pd.isna(before) and now is not None and not pd.isna(now):
        parts.append(f"{float(now) - float(before):+.1f} pts on {float(before):.1f}%")
    if national is not None and not pd.isna(national):
        parts.append(f"national {float(national):.1f}%" + (f" ({national_label})" if national_label else ""))
    return " · ".join(parts) or "no comparison"


def year_order(year_group: str) -> int:
    order = {"N1": -2, "N2": -1, "R": 0}
    return order.get(year_group, int(year_group) if str(year_group).isdigit() else 99)
