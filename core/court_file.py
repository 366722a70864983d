"""The court file for a prosecution under section 444 of the Education Act 1996 (issue 17
item 4): what the local authority's legal team asks a school for, in one PDF and one CSV.

It builds on the pupil's evidence pack (core/evidence_pack.py: the pupil, figures,
attendance by week, reasons, triggers and the chronology) and adds the registers week by
week (every session's mark), the letters sent, the support offered and whether it was taken
up or refused (actions of tiers 1–5, the support plan's actions, Early Help), the support
plan with its targets and reviews (core/support_plans.py), the penalty notices as
core/penalty_notices.py records them, and a certificate of attendance for the head teacher
to sign (section 564 makes a certificate signed by the head teacher evidence of attendance).

Scoped: a head of section makes one only for their sections' pupils. Audited: each file
made is in the audit log (who, which pupil, when). Sensitive notes are never in it (it
leaves the school); in meeting mode names are initials and identifiers, parents and notes
are left out, as everywhere (core/privacy.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, cases, codes, evidence_pack, metrics, penalty_ledger, penalty_notices, privacy, reads, store, \
    support_plans
from core.calendar import uk_date
from core.exports import file_name
from core.pdf import MUTED, Document
from core.statistics import percent

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
SESSION_COLUMNS = [f"{d} {s}" for d in WEEKDAYS for s in ("AM", "PM")]
SUPPORT_TIERS = (1, 2, 3, 4, 5)  # support first: tiers 1–5; tier 6 is enforcement
SECTIONS = ("Pupil", "Figures", "Register", "Chronology", "Letter sent", "Support offered", "Support plan",
            "Plan target", "Plan review", "Penalty ledger", "Penalty notice", "Certificate")


class CourtFileError(cases.CaseError):
    """A court file that cannot be made, with a message for the user."""


@dataclass(frozen=True)
class CourtFile:
    pack: evidence_pack.EvidencePack
    registers: pd.DataFrame  # Week beginning, Mon AM … Fri PM, Attended, Possible
    letters: pd.DataFrame  # Date, Letter, To (where the reader may see parents)
    support: pd.DataFrame  # Date, Support, Offered by, Status, Outcome
    plan: support_plans.Plan | None
    targets: pd.DataFrame  # plan targets with progress (support_plans.target_progress)
    notices: pd.DataFrame  # Issued, Parent (where shown), Number, Amount, Paid
    made_by: str
    # The penalty-notice ledger (core/penalty_ledger.py): Threshold, Sessions, Notice to Improve,
    # Outcome, Decision, Notice issued — each threshold reached and what followed it.
    ledger: pd.DataFrame


def _check_scope(db, viewer: auth.Viewer, pupil_id: int) -> None:
    if not viewer.may_write:
        raise CourtFileError("Court files are made by the roles that do case work.")
    allowed = cases.visible_pupil_ids(db, viewer, [int(pupil_id)])
    if allowed is not None and int(pupil_id) not in allowed:
        raise CourtFileError("That pupil is not in your sections, so you cannot make their court file.")


def registers_by_week(marks: pd.DataFrame) -> pd.DataFrame:
    """Every session's mark, a row per week (Monday AM to Friday PM; '' where the school held
    no session, '-' for a missing mark), with the sessions attended and possible that week."""
    columns = ["Week beginning", *SESSION_COLUMNS, "Attended", "Possible"]
    if marks.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(marks["date"])
    weekday = days.dt.day_of_week
    marks = marks.assign(week=(days - pd.to_timedelta(weekday, unit="D")).dt.date,
                         slot=[f"{WEEKDAYS[d]} {s}" if d < 5 else "" for d, s in zip(weekday, marks["session"])],
                         shown=marks["code"].replace("", "-").fillna("-"))
    counted = marks["category"].isin([codes.PRESENT, codes.APPROVED_ACTIVITY, codes.AUTHORISED, codes.UNAUTHORISED])
    attended = marks["category"].isin([codes.PRESENT, codes.APPROVED_ACTIVITY])
    grid = marks[marks["slot"] != ""].pivot_table(index="week", columns="slot", values="shown", aggfunc="first")
    grid = grid.reindex(columns=SESSION_COLUMNS).fillna("")
    totals = marks.assign(attended=attended, possible=counted).groupby("week")[["attended", "possible"]].sum()
    grid = grid.join(totals).reset_index().sort_values("week")
    return pd.DataFrame({"Week beginning": grid["week"].to_numpy(),
                         **{c: grid[c].to_numpy() for c in SESSION_COLUMNS},
                         "Attended": grid["attended"].astype("int64").to_numpy(),
                         "Possible": grid["possible"].astype("int64").to_numpy()}, columns=columns)


def _letters(db, reader: auth.Viewer, pupil_id: int) -> pd.DataFrame:
    sent = cases.contacts(db, reader, [pupil_id])
    sent = sent[sent["kind"] == "letter"].sort_values("contact_on", kind="stable")
    frame = pd.DataFrame({"Date": sent["contact_on"].to_numpy(),
                          "Letter": sent["summary"].to_numpy() if "summary" in sent else "(not shown to your role)"})
    if "with_whom" in sent:
        frame = frame.assign(To=sent["with_whom"].to_numpy())
    return frame


def _support(db, reader: auth.Viewer, pupil_id: int, plan: support_plans.Plan | None) -> pd.DataFrame:
    """Support offered, oldest first: actions of tiers 1–5 with their status and outcome,
    the plan's actions with whether they were done or refused, and the Early Help status."""
    actions = cases.interventions(db, reader, [pupil_id])
    actions = actions[actions["tier"].isin(SUPPORT_TIERS)].sort_values(["opened_on", "id"])
    rows = [{"Date": a["opened_on"], "Support": f"{a['type']} (tier {a['tier']} {a['tier_name']})",
             "Offered by": "School", "Status": "Open" if a["status"] == "open" else f"Closed {uk_date(a['closed_on'])}",
             "Outcome": a.get("outcome", "") or ""} for a in actions.to_dict("records")]
    if plan is not None:
        for a in plan.actions.to_dict("records"):
            rows.append({"Date": a["due_on"] or plan.plan["started_on"], "Support": f"Support plan: {a['action']}",
                         "Offered by": a["agency"] if a["party"] == "other" else support_plans.PARTIES[a["party"]],
                         "Status": a["status_label"], "Outcome": ""})
        rows.append({"Date": plan.plan["started_on"], "Support": "Early Help", "Offered by": "School",
                     "Status": support_plans.EARLY_HELP.get(plan.plan["early_help"], plan.plan["early_help"]),
                     "Outcome": ""})
    frame = pd.DataFrame(rows, columns=["Date", "Support", "Offered by", "Status", "Outcome"])
    return frame.sort_values("Date", kind="stable").reset_index(drop=True)


def _notices(db, reader: auth.Viewer, pupil_id: int) -> pd.DataFrame:
    history = penalty_notices.penalty_notice_history(db, reader, [pupil_id])
    frame = pd.DataFrame({"Issued": history["date_issued"].to_numpy()})
    if reader.sees_contacts:
        frame = frame.assign(Parent=history["parent"].to_numpy())
    return frame.assign(Number=history["number_in_window"].to_numpy(),
                        Amount=[(f"£{int(r)} by {uk_date(rb)}, else " if pd.notna(r) else "") + f"£{int(a)} by {uk_date(pb)}"
                                for r, rb, a, pb in zip(history["reduced_amount"], history["reduced_by"],
                                                        history["amount"], history["pay_by"])],
                        Paid=history["paid"].map({"paid": "Paid", "unpaid": "Not paid"}).fillna("").to_numpy())


def _ledger(db, reader: auth.Viewer, pupil_id: int, today: date) -> pd.DataFrame:
    """Each threshold reached for the pupil and what followed: the sessions behind it, the
    Notice to Improve with its period and outcome, the decision (with its reason where the
    reader may read it) and the notice issued."""
    entries = penalty_ledger.ledger(db, reader, today, [pupil_id])
    decided = [("" if not d else ("Issue a penalty notice" if d == penalty_ledger.ISSUE else "Waive")
                + (f" on {uk_date(on)}" if on else "") + (f" by {who}" if who else "") + (f": {why}" if why else ""))
               for d, on, who, why in zip(entries["decision"], entries["decided_on"], entries["decided_by"],
                                          entries["decision_reason"])]
    return pd.DataFrame({
        "Threshold": entries["threshold_on"].map(uk_date).to_numpy(),
        "Sessions": entries["sessions_text"].to_numpy(),
        "Notice to Improve": [f"{uk_date(i)} to {uk_date(e)}" if i else "None issued"
                              for i, e in zip(entries["nti_issued_on"], entries["nti_period_end"])],
        "Outcome": [penalty_ledger.NTI_OUTCOMES.get(o, "") for o in entries["nti_outcome"]],
        "Decision": decided,
        "Notice issued": entries["notice_issued_on"].map(uk_date).to_numpy(),
    })


def court_file(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, period: metrics.Period,
               today: date | None = None) -> CourtFile:
    """Everything the court file holds for one pupil over `period`, as `viewer` may read it
    (never sensitive notes: it leaves the school)."""
    _check_scope(db, viewer, pupil_id)
    reader = replace(viewer, leaves_school=True)
    pack = evidence_pack.evidence_pack(db, reader, pupil_id, period, today)
    path = reads.path_of(db)
    marks = reads.pupil_calendar(path, reads.version(path), int(pupil_id), period.date_from, period.as_of)
    plan = support_plans.plan_of(db, reader, pupil_id)
    targets = pd.DataFrame()
    if plan is not None:
        weekly = reads.weekly_trend(path, reads.version(path), period.date_from, period.as_of, (int(pupil_id),))
        targets = support_plans.target_progress(weekly, plan.targets, period.as_of)
    return CourtFile(pack=pack, registers=registers_by_week(marks), letters=_letters(db, reader, pupil_id),
                     support=_support(db, reader, pupil_id, plan), plan=plan, targets=targets,
                     notices=_notices(db, reader, pupil_id), made_by=viewer.username,
                     ledger=_ledger(db, reader, pupil_id, today or date.today()))


# --- the certificate -----------------------------------------------------------------------------


def certificate_text(court: CourtFile, masked: bool) -> str:
    """The head teacher's certificate of attendance (Education Act 1996, section 564)."""
    p, f, period = court.pack.pupil, court.pack.figures, court.pack.period
    name = privacy.pupil_name(p["surname"], p["forename"], masked)
    born = "" if masked or not p.get("dob") else f", born {uk_date(date.fromisoformat(p['dob']))},"
    if f:
        counts = (f"{int(f['attendance_sessions'])} of {int(f['possible_sessions'])} possible sessions attended "
                  f"({percent(f['attendance_pct'])}); {int(f['authorised_sessions'])} sessions of authorised and "
                  f"{int(f['unauthorised_sessions'])} of unauthorised absence")
    else:
        counts = "no possible sessions"
    return (f"I certify that the extract of the attendance register in this file is a true record of the attendance "
            f"of {name}{born} a registered pupil at {court.pack.school}, from {uk_date(period.date_from)} to "
            f"{uk_date(period.as_of)}: {counts}.")


# --- PDF and CSV -----------------------------------------------------------------------------------


def _dated(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].map(lambda d: uk_date(d) if isinstance(d, date) else (d or ""))
                           for c in columns if c in frame.columns})


def plan_summary(court: CourtFile) -> list[tuple[str, str]]:
    if court.plan is None:
        return []
    p = court.plan.plan
    facts = [("Started", uk_date(p["started_on"])), ("Status", "open" if p["status"] == "open" else
                                                     f"closed {uk_date(p['closed_on'])}"),
             ("Early Help", support_plans.EARLY_HELP.get(p["early_help"], p["early_help"])),
             ("Shared with the parents", uk_date(p["shared_on"]) if p.get("shared_on") else "not recorded"),
             ("Next review", uk_date(p["next_review_on"]))]
    if "barriers" in p:
        facts.append(("Barriers", p["barriers"] or "none recorded"))
    if p.get("plan_outcome"):
        facts.append(("Outcome", p["plan_outcome"]))
    return facts


def targets_table(court: CourtFile) -> pd.DataFrame:
    t = court.targets
    if t.empty:
        return pd.DataFrame(columns=["Target", "Set on", "By", "Attendance since", "Progress"])
    return pd.DataFrame({"Target": [f"{v:.1f}%" for v in t["attendance_pct"]], "Set on": t["set_on"].map(uk_date),
                         "By": t["by_date"].map(uk_date),
                         "Attendance since": [percent(v) if v is not None and not pd.isna(v) else "—"
                                              for v in t["attendance_since_pct"]],
                         "Progress": t["status_label"]})


def reviews_table(court: CourtFile) -> pd.DataFrame:
    if court.plan is None:
        return pd.DataFrame(columns=["Held on", "Attendance then", "Next review"])
    r = court.plan.reviews
    frame = pd.DataFrame({"Held on": r["held_on"].map(uk_date),
                          "Attendance then": [percent(v) if not pd.isna(v) else "—" for v in r["attendance_pct"]]})
    if "review_note" in r:
        frame = frame.assign(Notes=r["review_note"].to_numpy())
    return frame.assign(**{"Next review": r["next_review_on"].map(uk_date).to_numpy()})


def court_file_pdf(court: CourtFile, masked: bool) -> bytes:
    pack, p = court.pack, court.pack.pupil
    doc = Document(pack.school, "Court file — " + privacy.pupil_label(p["surname"], p["forename"], p["form"], masked),
                   f"{uk_date(pack.period.date_from)} to {uk_date(pack.period.as_of)} · Education Act 1996 s444: "
                   "registers, chronology, letters, support offered, the support plan, penalty notices and the "
                   "certificate of attendance")
    doc.heading("1. The pupil and their attendance", size=11)
    doc.table(pd.DataFrame(evidence_pack._pupil_facts(pack, masked) + evidence_pack._figure_facts(pack),
                           columns=["", " "]), widths=[60, doc.epw - 60], size=9, headings=False)
    doc.heading("2. Registers, week by week", size=11)
    doc.paragraph("Each session's mark as held in the register (DfE codes); '-' is a session with no mark yet, a "
                  "blank a session the school did not hold.", size=8, colour=MUTED)
    registers = _dated(court.registers, "Week beginning")
    doc.table(registers, widths=[22] + [(doc.epw - 22 - 30) / 10] * 10 + [15, 15], size=7.5, numbers="CENTER")
    doc.heading("3. Statutory triggers reached", size=11)
    doc.table(evidence_pack.triggers_table(pack), widths=[22, 45, 70, doc.epw - 137], size=8)
    doc.heading("4. Letters sent", size=11)
    doc.table(_dated(court.letters, "Date"), size=8)
    doc.heading("5. Support offered, taken up and refused", size=11)
    doc.table(_dated(court.support, "Date"), widths=[20, 70, 28, 34, doc.epw - 152], size=7.5)
    doc.heading("6. Attendance support plan and its reviews", size=11)
    if court.plan is None:
        doc.paragraph("No attendance support plan recorded.", size=9, colour=MUTED)
    else:
        doc.table(pd.DataFrame(plan_summary(court), columns=["", " "]), widths=[45, doc.epw - 45], size=8.5,
                  headings=False)
        doc.table(targets_table(court), size=8)
        doc.table(reviews_table(court), size=8)
    doc.heading("7. Penalty notices", size=11)
    if not court.ledger.empty:
        doc.paragraph("Thresholds reached, Notices to Improve and decisions (the penalty-notice ledger):", size=9)
        doc.table(court.ledger, size=7.5)
    doc.table(_dated(court.notices, "Issued"), size=8)
    doc.heading("8. Chronology (oldest first)", size=11)
    doc.table(evidence_pack.chronology_table(pack), widths=[20, 26, 52, doc.epw - 120, 22], size=7.5)
    doc.add_page()
    doc.heading("Certificate of attendance (Education Act 1996, section 564)", size=12)
    doc.paragraph(certificate_text(court, masked), size=10.5)
    doc.ln(10)
    for line in ("Signed ______________________________________  Head teacher",
                 "Name   ______________________________________",
                 "Date   ______________________"):
        doc.paragraph(line, size=10.5)
        doc.ln(4)
    doc.paragraph("Sensitive notes are never included in this file.", size=8, colour=MUTED)
    return doc.pdf_bytes()


def court_file_frame(court: CourtFile, masked: bool) -> pd.DataFrame:
    """The file as one table (Section, Date, Entry, Detail, Value) for the CSV."""
    rows: list[tuple] = [row for row in evidence_pack.evidence_pack_frame(court.pack, masked).itertuples(index=False)
                         if row[0] in ("Pupil", "Figures", "Trigger reached", "Chronology")]
    for week in _dated(court.registers, "Week beginning").to_dict("records"):
        rows.append(("Register", week["Week beginning"], " ".join(week[c] or "." for c in SESSION_COLUMNS),
                     f"{week['Attended']} of {week['Possible']} sessions attended", ""))
    for letter in _dated(court.letters, "Date").to_dict("records"):
        rows.append(("Letter sent", letter["Date"], letter["Letter"], letter.get("To", ""), ""))
    for item in _dated(court.support, "Date").to_dict("records"):
        rows.append(("Support offered", item["Date"], item["Support"], item["Status"], item["Offered by"]))
    rows += [("Support plan", "", label, value, "") for label, value in plan_summary(court)]
    rows += [("Plan target", t["Set on"], f"{t['Target']} by {t['By']}", t["Progress"], t["Attendance since"])
             for t in targets_table(court).to_dict("records")]
    rows += [("Plan review", r["Held on"], r.get("Notes", ""), f"next review {r['Next review']}",
              r["Attendance then"]) for r in reviews_table(court).to_dict("records")]
    rows += [("Penalty ledger", e["Threshold"], f"Threshold reached: {e['Sessions']}",
              f"Notice to Improve {e['Notice to Improve']}" + (f" ({e['Outcome']})" if e["Outcome"] else "")
              + (f"; decision: {e['Decision']}" if e["Decision"] else ""),
              f"notice issued {e['Notice issued']}" if e["Notice issued"] else "")
             for e in court.ledger.to_dict("records")]
    rows += [("Penalty notice", n["Issued"], f"Notice {n['Number']}" + (f" to {n['Parent']}" if n.get("Parent") else ""),
              n["Paid"], n["Amount"]) for n in _dated(court.notices, "Issued").to_dict("records")]
    rows.append(("Certificate", "", "Certificate of attendance (Education Act 1996, section 564)",
                 certificate_text(court, masked), "to be signed by the head teacher"))
    order = {s: i for i, s in enumerate(SECTIONS)}
    frame = pd.DataFrame(rows, columns=["Section", "Date", "Entry", "Detail", "Value"]).astype({"Value": object})
    return frame.assign(_o=frame["Section"].map(order).fillna(len(order))).sort_values("_o", kind="stable") \
        .drop(columns="_o").reset_index(drop=True)


def court_file_name(court: CourtFile, masked: bool, extension: str) -> str:
    p = court.pack.pupil
    who = privacy.initials(p["surname"], p["forename"]).replace(".", "").replace(" ", "") if masked \
        else f"{p['surname']}-{p['forename']}"
    return file_name(court.pack.school, f"court-file_{who}", court.pack.period.as_of, extension)


def made(db_path: str, viewer: auth.Viewer, pupil_id: int, period: metrics.Period, masked: bool, extension: str) -> bytes:
    """Build the court file as PDF or CSV for a deferred download, and audit that it was made."""
    from core.exports import csv_bytes
    with store.opened(db_path) as db:
        court = court_file(db, viewer, pupil_id, period)
        support_plans.record_download(db, viewer, "court_file", {
            "pupil_id": int(pupil_id), "format": extension, "masked": masked,
            "from": period.date_from.isoformat(), "to": period.as_of.isoformat()})
    return court_file_pdf(court, masked) if extension == "pdf" else csv_bytes(court_file_frame(court, masked))
