"""A pupil's referral / evidence pack: what an LA attendance team asks for with a
penalty-notice or section 19 referral — the pupil, their figures, attendance week by week,
reasons, statutory triggers reached with dates, runs of absence, and the chronology. Built
as data (`evidence_pack`, shown by the Reports screen), written as PDF (`evidence_pack_pdf`)
or as one table for the CSV (`evidence_pack_frame`). Sensitive notes are never in a pack.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, charts, chronology, codes, metrics, privacy, reads, schools, store, triggers
from core.calendar import uk_date, uk_dates_in
from core.exports import file_name
from core.pdf import MUTED, PRINT_WIDTH, Document
from core.statistics import group_value_label, percent

@dataclass(frozen=True)
class EvidencePack:
    school: str
    pupil: dict
    period: metrics.Period
    figures: dict
    weekly: pd.DataFrame  # week_start, possible_sessions, attendance_sessions, absence_sessions, attendance_pct
    reasons: pd.DataFrame  # Reason, Counts as, Sessions
    triggers: pd.DataFrame  # reached_on, trigger, label, detail, next_step
    runs: pd.DataFrame
    chronology: pd.DataFrame  # on, kind, entry, detail, by (oldest first)


def evidence_pack(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, period: metrics.Period,
                  today: date | None = None) -> EvidencePack:
    """What an LA attendance team asks for with a penalty-notice or section 19 referral: the
    pupil, their figures, attendance week by week, reasons, triggers reached with dates, runs
    of absence, and the chronology (marks corrected, actions, contacts, check-ins, meeting
    decisions, triggers). Sensitive notes are never in a pack: it leaves the school."""
    reader = replace(viewer, leaves_school=True)  # the pack never carries sensitive notes
    row = db.execute(f"SELECT {', '.join(store.PUPIL_COLUMNS)} FROM pupils WHERE id = ?", (int(pupil_id),)).fetchone()
    if row is None:
        raise ValueError("That pupil is not in the store.")
    pupil = dict(zip(store.PUPIL_COLUMNS, row))
    school = schools.pupil_school(db, int(pupil_id))
    settings = store.get_settings(db, school.id if school else None)  # headed with the pupil's own school (issue 18)
    path = reads.path_of(db)
    version = reads.version(path)
    mine = reads.figures_of_pupils(path, version, period.date_from, period.as_of, [int(pupil_id)])
    figures = mine.iloc[0].to_dict() if len(mine) else {}
    weekly = reads.weekly_trend(path, version, period.date_from, period.as_of, (int(pupil_id),))
    weekly = weekly[weekly["possible_sessions"] > 0].reset_index(drop=True)
    behind = reads.sessions_behind(path, version, int(pupil_id), period.date_from, period.as_of)
    absence = behind[behind["category"].isin([codes.AUTHORISED, codes.UNAUTHORISED])]
    reasons = pd.DataFrame({"Reason": absence["meaning"], "Counts as": absence["counts_as"],
                            "Sessions": absence["sessions"]})
    reached = reads.triggers_of_pupils(path, version, period.as_of, [int(pupil_id)]).sort_values("reached_on")
    history = chronology.evidence_pack_table(db, reader, pupil_id, today or date.today(), reached)
    reached = pd.DataFrame({"reached_on": reached["reached_on"].to_numpy(), "trigger": reached["trigger"].to_numpy(),
                            "label": reached["trigger"].map(lambda t: triggers.BY_ID[t].label).to_numpy(),
                            "detail": reached["detail"].map(uk_dates_in).to_numpy(),
                            "next_step": reached["trigger"].map(lambda t: triggers.BY_ID[t].next_step).to_numpy()})
    runs = reads.absence_runs(path, version, int(pupil_id), period.date_from, period.as_of)
    return EvidencePack(school=settings["school_name"], pupil={**pupil, "section": figures.get("section", "")},
                        period=period, figures=figures, weekly=weekly, reasons=reasons, triggers=reached, runs=runs,
                        chronology=history)


def _pupil_facts(pack: EvidencePack, masked: bool) -> list[tuple[str, str]]:
    p = pack.pupil
    facts = [("Pupil", privacy.pupil_name(p["surname"], p["forename"], masked)), ("Form", p["form"] or "—"),
             ("Year group", group_value_label("year_group", p["year_group"]))]
    if not masked:
        facts += [("UPN", p["upn"]), ("Date of birth", uk_date(date.fromisoformat(p["dob"])) if p["dob"] else "—")]
    flags = [label for column, label in (("pp", "PP"), ("fsm", "FSM"), ("eal", "EAL"), ("cla", "CLA")) if p[column]]
    flags += [{"K": "SEN support", "E": "EHCP"}[p["sen"]]] if p["sen"] in ("K", "E") else []
    facts.append(("Groups", " · ".join(flags) or "none"))
    return facts


def _figure_facts(pack: EvidencePack) -> list[tuple[str, str]]:
    f = pack.figures
    if not f:
        return [("Possible sessions", "0")]
    absent = int(f["authorised_sessions"]) + int(f["unauthorised_sessions"])
    return [("Attendance", f"{percent(f['attendance_pct'])} ({int(f['attendance_sessions'])} of "
                           f"{int(f['possible_sessions'])} possible sessions)"),
            ("Absence", f"{percent(f['absence_pct'])} ({absent} sessions: {int(f['authorised_sessions'])} authorised, "
                        f"{int(f['unauthorised_sessions'])} unauthorised)"),
            ("Persistent absence (10% or more)", "yes" if f["persistently_absent"] else "no"),
            ("Severe absence (50% or more)", "yes" if f["severely_absent"] else "no"),
            ("Sessions with no mark yet", str(int(f["missing_marks"])))] + _counts_facts(f)


def _counts_facts(f: dict) -> list[tuple[str, str]]:
    """Where the figures rest partly on summary counts (core/summary_counts.py): which dates."""
    counted = int(f.get("counted_sessions") or 0)
    if not counted:
        return []
    dates = "; ".join(f"{uk_date(start)} to {uk_date(end)}" for start, end in f["counts_periods"])
    return [("From summary counts", f"{counted} of the possible sessions, for {dates}: no marks are held for those "
                                     "dates, so the weeks, reasons and runs below come from marks only")]


def weekly_table(pack: EvidencePack) -> pd.DataFrame:
    w = pack.weekly
    return pd.DataFrame({"Week beginning": w["week_start"].map(uk_date), "Possible sessions": w["possible_sessions"],
                         "Attended": w["attendance_sessions"], "Absent": w["absence_sessions"],
                         "Attendance %": w["attendance_pct"].round(1)})


def chronology_table(pack: EvidencePack) -> pd.DataFrame:
    c = pack.chronology
    return pd.DataFrame({"Date": c["on"].map(uk_date), "What": c["kind"], "Entry": c["entry"], "Detail": c["detail"],
                         "By": c["by"]})


def triggers_table(pack: EvidencePack) -> pd.DataFrame:
    t = pack.triggers
    return pd.DataFrame({"Reached on": t["reached_on"].map(uk_date), "Trigger": t["label"], "Detail": t["detail"],
                         "What follows": t["next_step"]})


def evidence_pack_pdf(pack: EvidencePack, masked: bool) -> bytes:
    p = pack.pupil
    doc = Document(pack.school, "Attendance evidence pack — "
                   + privacy.pupil_label(p["surname"], p["forename"], p["form"], masked),
                   f"{uk_date(pack.period.date_from)} to {uk_date(pack.period.as_of)} · for a referral to the local "
                   "authority (penalty notice, section 19, children missing education)")
    doc.heading("The pupil", size=11)
    doc.table(pd.DataFrame(_pupil_facts(pack, masked), columns=["", " "]), widths=[40, doc.epw - 40], size=9,
              headings=False)
    doc.heading("Attendance in the period", size=11)
    doc.table(pd.DataFrame(_figure_facts(pack), columns=["", " "]), widths=[60, doc.epw - 60], size=9,
              headings=False)
    doc.paragraph("Possible sessions = attendance + authorised + unauthorised absence (DfE rules); sessions not "
                  "possible and missing marks count in no total.", size=8, colour=MUTED)
    doc.heading("Attendance by week", size=11)
    if pack.weekly.empty:
        doc.paragraph("No school weeks with possible sessions.", colour=MUTED)
    else:
        doc.chart(charts.attendance_trend(pack.weekly, width=PRINT_WIDTH, height=220), height=55, fallback=(
            [uk_date(d) for d in pack.weekly["week_start"]], list(pack.weekly["attendance_pct"]), "%"))
        doc.table(weekly_table(pack), size=8)
    doc.heading("Reasons for absence", size=11)
    doc.table(pack.reasons, size=8.5)
    doc.heading("Statutory triggers reached", size=11)
    doc.table(triggers_table(pack), widths=[22, 45, 70, doc.epw - 137], size=8)
    if not pack.runs.empty:
        doc.heading("Runs of absence (two or more whole school days)", size=11)
        doc.table(pd.DataFrame({"From": pack.runs["start"].map(uk_date), "To": pack.runs["end"].map(uk_date),
                                "School days": pack.runs["school_days"], "Sessions": pack.runs["sessions"],
                                "Marks": pack.runs["codes"]}), size=8)
    doc.heading("Chronology (oldest first)", size=11)
    doc.paragraph("Marks corrected, actions, contacts, check-ins, meeting decisions and triggers. Sensitive notes "
                  "are not included in this pack.", size=8, colour=MUTED)
    doc.table(chronology_table(pack), widths=[20, 26, 52, doc.epw - 120, 22], size=7.5)
    return doc.pdf_bytes()


def evidence_pack_frame(pack: EvidencePack, masked: bool) -> pd.DataFrame:
    """The pack as one table (Section, Date, Entry, Detail, Value) for the CSV."""
    rows: list[tuple] = []
    rows += [("Pupil", "", label, value, "") for label, value in _pupil_facts(pack, masked)]
    rows += [("Figures", "", label, value, "") for label, value in _figure_facts(pack)]
    rows += [("Attendance by week", w["Week beginning"], f"{w['Attended']} of {w['Possible sessions']} sessions",
              "", w["Attendance %"]) for w in weekly_table(pack).to_dict("records")]
    rows += [("Reasons", "", r["Reason"], r["Counts as"], r["Sessions"]) for r in pack.reasons.to_dict("records")]
    rows += [("Trigger reached", t["Reached on"], t["Trigger"], t["Detail"], "") for t in
             triggers_table(pack).to_dict("records")]
    rows += [("Chronology", c["Date"], f"{c['What']}: {c['Entry']}", c["Detail"], c["By"])
             for c in chronology_table(pack).to_dict("records")]
    return pd.DataFrame(rows, columns=["Section", "Date", "Entry", "Detail", "Value"]).astype({"Value": object})


def evidence_pack_name(pack: EvidencePack, masked: bool, extension: str) -> str:
    p = pack.pupil
    return pack_file_name(pack.school, p["surname"], p["forename"], pack.period.as_of, masked, extension)


def pack_file_name(school: str, surname: str, forename: str, as_of: date, masked: bool, extension: str) -> str:
    """'School_evidence-pack_Ahmed-Amir_19-09-2025.pdf' (initials in meeting mode)."""
    who = privacy.initials(surname, forename).replace(".", "").replace(" ", "") if masked else f"{surname}-{forename}"
    return file_name(school, f"evidence-pack_{who}", as_of, extension)


def evidence_pack_pdf_for(db_path: str, viewer: auth.Viewer, pupil_id: int, period: metrics.Period,
                          masked: bool) -> bytes:
    """Build a pupil's pack and write its PDF, opening the store itself (for a deferred download)."""
    with store.opened(db_path) as db:
        pack = evidence_pack(db, viewer, pupil_id, period)
    return evidence_pack_pdf(pack, masked)
