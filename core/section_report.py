"""The head of section report: their pupils' figures for a period with the change since the
last report issued (or the previous upload), by year group, the persistently absent pupils
with their reasons, triggers and last action, who became or stopped being persistently
absent, reasons for absence, and the actions opened with their impact. Built as data
(`section_report`, shown by the Reports screen), written as PDF (`section_report_pdf`);
issuing one is kept in `report_runs` so the next one says what changed since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, benchmarks, cases, charts, impact, metrics, patterns, privacy, reads, schools, store, triggers
from core.calendar import academic_year_label, academic_year_start, uk_date
from core.pdf import MUTED, PRINT_WIDTH, Document
from core.statistics import comparison, group_value_label, percent, with_attendance, year_order

SECTION_REPORT = "section"


@dataclass(frozen=True)
class SectionReport:
    school: str
    scope: str  # "Secondary", or "Whole school"
    period: metrics.Period
    who: str  # "pupils of compulsory school age" or "all pupils"
    headline: dict
    compared_with: date | None
    compared_reason: str
    before: dict | None
    by_year: pd.DataFrame
    pa_list: pd.DataFrame
    newly_pa: pd.DataFrame
    no_longer_pa: pd.DataFrame
    actions: pd.DataFrame
    impact_by_type: pd.DataFrame
    trend: pd.DataFrame
    reasons: pd.DataFrame
    # The national figure shown beside each headline measure (None: none published), and the
    # school's targets for the academic year checked against these pupils' year to date.
    national: dict = field(default_factory=dict)
    targets: tuple = ()

    def figures_snapshot(self) -> dict:
        return {k: self.headline.get(k) for k in ("pupils", "attendance_pct", "persistent_absence_pct",
                                                  "severe_absence_pct", "unauthorised_absence_pct")}


def last_report(db: sqlite_utils.Database, scope: str, before: date, kind: str = SECTION_REPORT) -> dict | None:
    """The latest report of this kind and scope issued for data before `before`."""
    row = db.execute("SELECT id, date_from, as_of, figures, created_at FROM report_runs WHERE kind = ? AND scope = ? "
                     "AND as_of < ? ORDER BY as_of DESC, id DESC LIMIT 1", (kind, scope, before.isoformat())).fetchone()
    if row is None:
        return None
    return {"id": row[0], "date_from": date.fromisoformat(row[1]), "as_of": date.fromisoformat(row[2]),
            "figures": json.loads(row[3]), "created_at": row[4]}


def record_report(db: sqlite_utils.Database, username: str, report: SectionReport, kind: str = SECTION_REPORT) -> int:
    """Keep that this report was issued (so the next one can say what changed since); audited."""
    with store.transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO report_runs (kind, scope, date_from, as_of, figures, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, report.scope, report.period.date_from.isoformat(), report.period.as_of.isoformat(),
             json.dumps(report.figures_snapshot(), default=str), username, store.now()))
        store.audit(conn, username, "report.issue", "report_runs", cursor.lastrowid,
                    {"kind": kind, "scope": report.scope, "as_of": report.period.as_of.isoformat()})
        return cursor.lastrowid


def section_report(db: sqlite_utils.Database, viewer: auth.Viewer, period: metrics.Period, scope: str,
                   pupil_ids: list[int] | None = None) -> SectionReport:
    """A head of section's report on their pupils (`pupil_ids`; None: the whole school) for a period."""
    # Headed with the one school it covers, its targets too (issue 18; the store's own otherwise).
    settings = store.get_settings(db, schools.school_of_scope(db, viewer.school_ids, pupil_ids))
    path = reads.path_of(db)
    version = reads.version(path)
    scope_ids = None if pupil_ids is None else tuple(int(p) for p in pupil_ids)
    figures = reads.figures_of_pupils(path, version, period.date_from, period.as_of, scope_ids)
    figures = figures[figures["possible_sessions"] > 0]
    ids = figures["pupil_id"].tolist()
    compulsory = figures[figures["compulsory_school_age"]]
    counted, who = (compulsory, "pupils of compulsory school age") if len(compulsory) else (figures, "all pupils")
    headline = with_attendance(metrics.group_figures(counted))

    previous = last_report(db, scope, period.as_of)
    if previous:
        compared_with, reason = previous["as_of"], f"the last report (data as at {uk_date(previous['as_of'])})"
    else:
        upload = patterns.previous_data_as_at(db)
        compared_with = upload if upload and upload < period.as_of else None
        reason = f"the previous upload (data as at {uk_date(upload)})" if compared_with else "nothing earlier"
    before = newly = gone = None
    if compared_with is not None and compared_with >= period.date_from:
        earlier = reads.figures_of_pupils(path, version, period.date_from, compared_with, ids)
        earlier = earlier[earlier["possible_sessions"] > 0]
        earlier_counted = earlier[earlier["compulsory_school_age"]] if who.startswith("pupils of") else earlier
        before = with_attendance(metrics.group_figures(earlier_counted))
        was = set(earlier.loc[earlier["persistently_absent"], "pupil_id"])
        now = set(figures.loc[figures["persistently_absent"], "pupil_id"])
        newly = figures[figures["pupil_id"].isin(now - was)]
        gone = figures[figures["pupil_id"].isin(was - now)]
    empty_pupils = figures.iloc[0:0]

    by_year = metrics.by_group(figures, "year_group") if len(figures) else pd.DataFrame()
    if len(by_year):
        by_year = pd.DataFrame({
            "Year group": by_year["year_group"].map(lambda v: group_value_label("year_group", v)),
            "Pupils": by_year["pupils"], "Attendance %": (100 - by_year["overall_absence_pct"]).round(1),
            "Unauthorised %": by_year["unauthorised_absence_pct"].round(1),
            "PA pupils": by_year["persistent_absentees"], "PA %": by_year["persistent_absence_pct"].round(1),
            "SA pupils": by_year["severe_absentees"],
            "order": by_year["year_group"].map(year_order)}).sort_values("order").drop(columns="order")

    pa = figures[figures["persistently_absent"]]
    pupil_patterns = reads.pupil_patterns(path, version, period.date_from, period.as_of, scope_ids) if ids else \
        pd.DataFrame(columns=patterns.PUPIL_PATTERN_COLUMNS)
    reached = reads.triggers_of_pupils(path, version, period.as_of, ids)
    badges = reached.groupby("pupil_id")["trigger"].agg(
        lambda t: "; ".join(triggers.BY_ID[x].badge for x in t))
    latest = cases.latest_actions(db, ids, period.as_of) if ids else pd.DataFrame(
        columns=["pupil_id", "last_action", "last_action_on", "next_check_in", "check_in_overdue"])
    pa_list = (pa.merge(pupil_patterns[["pupil_id", "top_reason_label", "worst_weekday"]], on="pupil_id", how="left")
               .merge(latest[["pupil_id", "last_action", "last_action_on"]], on="pupil_id", how="left"))
    pa_list = pa_list.assign(triggers=pa_list["pupil_id"].map(badges.to_dict()).astype(object).fillna(""),
                             top_reason_label=pa_list["top_reason_label"].fillna(""),
                             worst_weekday=pa_list["worst_weekday"].fillna(""),
                             last_action=pa_list["last_action"].fillna("")
                             ).sort_values(["attendance_pct", "surname", "forename"], ignore_index=True)

    per_action = impact.impact(db, viewer, int(settings["impact_school_days"]), ids) if ids else pd.DataFrame(
        columns=["id", "pupil_id", "type", "opened_on", "before_pct", "after_pct", "change_pts", "after_days"])
    in_period = per_action[per_action["opened_on"].map(lambda d: period.date_from <= d <= period.as_of).astype(bool)]
    actions = in_period.merge(figures[["pupil_id", "surname", "forename", "form"]], on="pupil_id", how="left")
    actions = actions.sort_values(["opened_on", "id"], ignore_index=True)
    trend = reads.weekly_trend(path, version, period.date_from, period.as_of, scope_ids)
    reasons = reads.reasons(path, version, period.date_from, period.as_of, scope_ids) if ids else \
        pd.DataFrame(columns=patterns.REASON_COLUMNS)
    national_figures = reads.national_figures(path, version)
    national = {measure: metrics.national(national_figures, measure, period.academic_year) for measure in HEADLINE}
    targets = tuple(benchmarks.check_targets(benchmarks.targets_for(settings, period.academic_year),
                                             _year_to_date(path, version, period, ids, who)))
    return SectionReport(
        school=schools.document_heading(db, viewer.school_ids, pupil_ids), scope=scope, period=period, who=who, headline=headline,
        compared_with=compared_with, compared_reason=reason, before=before, by_year=by_year, pa_list=pa_list,
        newly_pa=newly if newly is not None else empty_pupils, no_longer_pa=gone if gone is not None else empty_pupils,
        actions=actions, impact_by_type=impact.impact_by_type(per_action[per_action["id"].isin(in_period["id"])]),
        trend=trend, reasons=reasons, national=national, targets=targets)


HEADLINE = {"attendance_pct": "Attendance", "persistent_absence_pct": "Persistent absence",
            "severe_absence_pct": "Severe absence", "unauthorised_absence_pct": "Unauthorised"}


def _year_to_date(path: str, version, period: metrics.Period, ids: list[int], who: str) -> dict:
    """These pupils' figures from 1 September to the report's date (what targets are checked on),
    counting the same pupils as the headline (compulsory school age where there are any)."""
    figures = reads.figures_of_pupils(path, version, academic_year_start(period.as_of), period.as_of, ids)
    figures = figures[figures["possible_sessions"] > 0]
    if who.startswith("pupils of"):
        figures = figures[figures["compulsory_school_age"]]
    return metrics.group_figures(figures)


def targets_text(report: SectionReport) -> str:
    """'Targets for 2025/26 (year to date, 01/09/2025 to 19/09/2025): attendance 94.2% against a target
    of 95.0%: off track; …', or that none are set."""
    year = report.period.academic_year
    if not report.targets:
        return f"No targets set for {academic_year_label(year)} (Admin → Benchmarks and targets)."
    span = f"{uk_date(academic_year_start(report.period.as_of))} to {uk_date(report.period.as_of)}"
    return (f"Targets for {academic_year_label(year)} (year to date, {span}): "
            + "; ".join(check.sentence() for check in report.targets) + ".")



def section_headline(report: SectionReport) -> list[tuple[str, str, str]]:
    """The key figures with the change since the comparison and the national figure."""
    before = report.before or {}
    rows = []
    for measure, label in HEADLINE.items():
        figure = report.national.get(measure)
        rows.append((label, percent(report.headline.get(measure)),
                     comparison(report.headline.get(measure), before.get(measure),
                                figure.value if figure else None, figure.label if figure else "")))
    return rows


def pa_table(report: SectionReport, masked: bool) -> pd.DataFrame:
    pa = report.pa_list
    return pd.DataFrame({
        "Pupil": privacy.names(pa, masked), "Form": pa["form"], "Att. %": pa["attendance_pct"].round(1),
        "Auth.": pa["authorised_sessions"], "Unauth.": pa["unauthorised_sessions"],
        "Top reason": pa["top_reason_label"], "Worst day": pa["worst_weekday"], "Triggers": pa["triggers"],
        "Last action": [f"{a} ({uk_date(d)})" if a else "none yet" for a, d in zip(pa["last_action"], pa["last_action_on"])],
    })


def actions_table(report: SectionReport, masked: bool) -> pd.DataFrame:
    a = report.actions
    return pd.DataFrame({
        "Opened": a["opened_on"].map(uk_date), "Pupil": privacy.names(a, masked), "Form": a["form"],
        "Action": a["type"], "Before %": a["before_pct"].astype("float64").round(1),
        "After %": a["after_pct"].astype("float64").round(1), "Change (pts)": a["change_pts"].astype("float64").round(1),
        "School days since": a["after_days"],
    })


def impact_table(report: SectionReport) -> pd.DataFrame:
    i = report.impact_by_type
    return pd.DataFrame({
        "Action": i["type"], "Pupils": i["pupils"], "Actions": i["actions"],
        "Mean change (pts)": i["mean_change_pts"].astype("float64").round(1), "Improved": i["improved"],
        "Note": i["indicative_only"].map({True: "fewer than 10 pupils: indicative only", False: ""}),
    })


def section_report_pdf(report: SectionReport, masked: bool) -> bytes:
    period = report.period
    doc = Document(report.school, f"Attendance report — {report.scope}",
                   f"{uk_date(period.date_from)} to {uk_date(period.as_of)} · {report.headline['pupils']} {report.who}"
                   + f" · changes since {report.compared_reason}")
    doc.key_figures(section_headline(report))
    doc.paragraph(targets_text(report), size=9)
    doc.paragraph(benchmarks.ON_TRACK_RULE, size=7.5, colour=MUTED)
    doc.heading("Weekly attendance")
    doc.chart(charts.attendance_trend(report.trend, width=PRINT_WIDTH, height=220), height=58, fallback=(
        [uk_date(d) for d in report.trend["week_start"]], list(report.trend["attendance_pct"]), "%"))
    if len(report.by_year):
        doc.heading("By year group")
        doc.table(report.by_year)
    doc.heading(f"Persistently absent pupils ({len(report.pa_list)})")
    doc.table(pa_table(report, masked), widths=[30, 11, 12, 10, 12, 36, 17, 30, 24], size=7.5)
    doc.heading("Changes since " + report.compared_reason)
    if report.before is None:
        doc.paragraph("Nothing earlier to compare with yet.", colour=MUTED)
    else:
        doc.paragraph(f"Newly persistently absent: {len(report.newly_pa)} — "
                      + (", ".join(privacy.pupil_label(s, f, fm, masked) for s, f, fm in
                                   zip(report.newly_pa["surname"], report.newly_pa["forename"], report.newly_pa["form"]))
                         or "none"))
        doc.paragraph(f"No longer persistently absent: {len(report.no_longer_pa)} — "
                      + (", ".join(privacy.pupil_label(s, f, fm, masked) for s, f, fm in
                                   zip(report.no_longer_pa["surname"], report.no_longer_pa["forename"],
                                       report.no_longer_pa["form"])) or "none"))
    doc.heading("Reasons for absence")
    if report.reasons.empty:
        doc.paragraph("No absence in this period.", colour=MUTED)
    else:
        top = report.reasons.head(10)
        doc.chart(charts.absence_reasons(top, width=PRINT_WIDTH), height=8 + 5.5 * len(top),
                  fallback=(list(top["reason"]), list(top["sessions"].astype(float)), "sessions"))
    doc.heading(f"Actions opened in the period and their impact ({len(report.actions)})")
    doc.paragraph("Attendance in the school days before each action and since (up to the impact window).",
                  size=8.5, colour=MUTED)
    doc.table(actions_table(report, masked), size=7.5)
    if not report.impact_by_type.empty:
        doc.table(impact_table(report), size=7.5)
    return doc.pdf_bytes()
