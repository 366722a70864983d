"""The local authority's termly targeting-support meeting pack (issue 17 item 5; DfE "Working
together to improve school attendance", 2024: each term the LA meets each school to agree
targeted actions for pupils at risk of, or in, persistent and severe absence).

The pack lists, for the school's LA (the setting `local_authority`):
- every severely absent pupil (50% or below) in the period, and
- every persistently absent pupil (90% or below) with at least `la_pack_min_agencies`
  agencies involved (a setting, 2 by default: the agencies named on a support plan's actions
  and those an action was referred to — support_plans.agencies),
with each one's barriers (from their support plan), Early Help status, the actions taken
and their impact (attendance in the school days before and after each, core/impact.py).

Scoped to the reader's pupils (a head of section: their sections); notes as their role may
read them, never sensitive notes (it leaves the school) and, in meeting mode, no names,
identifiers or barriers (core/privacy.py). Making it is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import sqlite_utils

from core import auth, cases, impact, metrics, privacy, reads, schools, store, support_plans
from core.calendar import uk_date
from core.exports import csv_bytes, file_name
from core.pdf import MUTED, Document

SEVERE, PERSISTENT = "Severe absence", "Persistent absence, several agencies"
EARLY_HELP_REFERRAL = "Early Help referral"  # the seeded intervention type
ACTIONS_SHOWN = 6  # the most recent actions listed per pupil
COLUMN_WIDTHS = {"Pupil": 28, "UPN": 24, "Form": 10, "Attendance %": 13, "Unauthorised sessions": 14, "Why listed": 22,
                 "Agencies involved": 26, "Barriers": 30, "Early Help": 20, "Support plan": 20, "Actions": 26}  # mm


@dataclass(frozen=True)
class LaPack:
    school: str
    local_authority: str
    period: metrics.Period
    min_agencies: int
    pupils: pd.DataFrame  # one row per pupil selected (PACK_COLUMNS)
    notes_shown: bool  # whether barriers are in it (roles that read notes, not on a shared screen)


PACK_COLUMNS = ["pupil_id", "upn", "surname", "forename", "form", "year_group", "attendance_pct", "possible_sessions",
                "unauthorised_sessions", "why", "agencies", "barriers", "early_help", "plan", "actions", "impact"]


def _early_help(plan_row: dict | None, referrals: pd.DataFrame) -> str:
    """The plan's Early Help status, else an Early Help referral recorded, else not offered."""
    if plan_row is not None and plan_row["early_help"] != "not_offered":
        return support_plans.EARLY_HELP[plan_row["early_help"]]
    if len(referrals):
        return f"Referred {uk_date(referrals['opened_on'].min())}"
    return support_plans.EARLY_HELP["not_offered"]


def _impact_text(rows: pd.DataFrame) -> str:
    """'Home visit 04/09/2025: +5.0 pts (20 school days)' for each action with a figure after it."""
    parts = []
    for a in rows.sort_values("opened_on").to_dict("records")[-ACTIONS_SHOWN:]:
        if pd.isna(a["change_pts"]):
            continue
        window = "" if a["window_complete"] else " so far"
        parts.append(f"{a['type']} {uk_date(a['opened_on'])}: {a['change_pts']:+.1f} pts{window}")
    return "; ".join(parts) or "not measured yet"


def la_pack(db: sqlite_utils.Database, viewer: auth.Viewer, period: metrics.Period,
            pupil_ids: list[int] | None = None) -> LaPack:
    """The pack over `period` for the viewer's pupils (narrowed to `pupil_ids` if given)."""
    reader = replace(viewer, leaves_school=True)
    # Headed with the one school it covers (issue 18; the store's own settings otherwise).
    settings = store.get_settings(db, schools.school_of_scope(db, reader.school_ids, pupil_ids))
    min_agencies = max(1, int(settings["la_pack_min_agencies"]))
    path = reads.path_of(db)
    allowed = cases.visible_pupil_ids(db, reader, pupil_ids)
    figures = reads.figures_of_pupils(path, reads.version(path), period.date_from, period.as_of, allowed)
    figures = figures[figures["possible_sessions"] > 0]
    persistent = figures[figures["persistently_absent"].astype(bool)]
    involved = support_plans.agencies(db, persistent["pupil_id"].tolist())
    chosen = persistent[persistent["severely_absent"].astype(bool)
                        | persistent["pupil_id"].map(lambda p: len(involved.get(int(p), [])) >= min_agencies)]
    chosen = chosen.sort_values(["severely_absent", "attendance_pct"], ascending=[False, True])
    ids = chosen["pupil_id"].astype(int).tolist()
    notes_shown = reader.sees_notes and not reader.shared_screen
    plans = support_plans.plans(db, reader, ids) if ids else pd.DataFrame(columns=support_plans.PLAN_COLUMNS)
    plans = plans.assign(is_open=plans["status"].eq("open")).sort_values(["is_open", "started_on"], ascending=False)
    latest_plan = {}
    for row in plans.to_dict("records"):  # the open plan, else the latest
        latest_plan.setdefault(int(row["pupil_id"]), row)
    actions = cases.interventions(db, reader, ids) if ids else pd.DataFrame(columns=["pupil_id", "type", "opened_on"])
    measured = impact.impact(db, reader, int(settings["impact_school_days"]), ids) if ids else \
        pd.DataFrame(columns=impact.IMPACT_COLUMNS)
    rows = []
    for pupil in chosen.to_dict("records"):
        pid = int(pupil["pupil_id"])
        plan = latest_plan.get(pid)
        mine = actions[actions["pupil_id"] == pid].sort_values("opened_on")
        rows.append({
            **{c: pupil.get(c) for c in ("pupil_id", "upn", "surname", "forename", "form", "year_group",
                                         "attendance_pct", "possible_sessions", "unauthorised_sessions")},
            "why": SEVERE if pupil["severely_absent"] else PERSISTENT,
            "agencies": ", ".join(involved.get(pid, [])) or "none recorded",
            "barriers": (plan.get("barriers") or "none recorded") if plan is not None and notes_shown else
                        ("no support plan" if plan is None else ""),
            "early_help": _early_help(plan, mine[mine["type"] == EARLY_HELP_REFERRAL]),
            "plan": "none" if plan is None else (f"open, next review {uk_date(plan['next_review_on'])}"
                                                 if plan["status"] == "open" else f"closed {uk_date(plan['closed_on'])}"),
            "actions": "; ".join(f"{t} ({uk_date(d)})" for t, d in
                                 zip(mine["type"].tail(ACTIONS_SHOWN), mine["opened_on"].tail(ACTIONS_SHOWN)))
                       or "none recorded",
            "impact": _impact_text(measured[measured["pupil_id"] == pid]),
        })
    frame = pd.DataFrame(rows, columns=PACK_COLUMNS)
    if not notes_shown:
        frame = frame.drop(columns=["barriers"])
    return LaPack(schools.document_heading(db, reader.school_ids, pupil_ids), settings.get("local_authority", "") or "", period, min_agencies, frame,
                  notes_shown)


def la_pack_table(pack: LaPack, masked: bool) -> pd.DataFrame:
    """The pack as the table shown and downloaded (meeting mode: initials, no UPN, no barriers)."""
    p = pack.pupils
    table = pd.DataFrame({
        "Pupil": privacy.names(p, masked).to_numpy() if len(p) else [],
        **({} if masked else {"UPN": p["upn"].to_numpy()}),
        "Form": p["form"].to_numpy(), "Attendance %": p["attendance_pct"].astype("float64").round(1).to_numpy(),
        "Unauthorised sessions": p["unauthorised_sessions"].to_numpy(), "Why listed": p["why"].to_numpy(),
        "Agencies involved": p["agencies"].to_numpy(),
        **({"Barriers": p["barriers"].to_numpy()} if "barriers" in p and not masked else {}),
        "Early Help": p["early_help"].to_numpy(), "Support plan": p["plan"].to_numpy(),
        "Actions": p["actions"].to_numpy(), "Impact (attendance before → after)": p["impact"].to_numpy()})
    return privacy.for_screen(table, masked)


def la_pack_title(pack: LaPack) -> str:
    return "Targeting support meeting" + (f" with {pack.local_authority}" if pack.local_authority else "")


def la_pack_pdf(pack: LaPack, masked: bool) -> bytes:
    severe = int((pack.pupils["why"] == SEVERE).sum())
    doc = Document(pack.school, la_pack_title(pack),
                   f"{uk_date(pack.period.date_from)} to {uk_date(pack.period.as_of)} · severely absent pupils, and "
                   f"persistently absent pupils with {pack.min_agencies} or more agencies involved", landscape=True)
    doc.key_figures([("Pupils in this pack", f"{len(pack.pupils)}", ""),
                     ("Severely absent (50% or below)", f"{severe}", ""),
                     (f"Persistently absent, {pack.min_agencies}+ agencies", f"{len(pack.pupils) - severe}", "")])
    table = la_pack_table(pack, masked)
    if table.empty:
        doc.paragraph("No pupil meets the pack's rules in this period.", colour=MUTED)
    else:
        widths = [COLUMN_WIDTHS.get(c, 0) for c in table.columns]
        widths[-1] = doc.epw - sum(widths[:-1])  # the impact takes what is left
        doc.table(table, widths=widths, size=7)
    doc.paragraph("Attendance % = attendance sessions over possible sessions (DfE rules). Impact compares the pupil's "
                  "attendance in the school days before each action with the days after it; attendance moves for "
                  "many reasons. Sensitive notes are never included." + ("" if pack.notes_shown and not masked else
                                                                        " Barriers are not included in this copy."),
                  size=7.5, colour=MUTED)
    return doc.pdf_bytes()


def la_pack_name(pack: LaPack, extension: str) -> str:
    return file_name(pack.school, "la-targeting-support-pack", pack.period.as_of, extension)


def made(db_path: str, viewer: auth.Viewer, period: metrics.Period, pupil_ids: list[int] | None, masked: bool,
         extension: str) -> bytes:
    """Build the pack as PDF or CSV for a deferred download, and audit that it was made."""
    with store.opened(db_path) as db:
        pack = la_pack(db, viewer, period, pupil_ids)
        support_plans.record_download(db, viewer, "la_pack", {
            "pupils": len(pack.pupils), "format": extension, "masked": masked,
            "from": period.date_from.isoformat(), "to": period.as_of.isoformat()})
    return la_pack_pdf(pack, masked) if extension == "pdf" else csv_bytes(la_pack_table(pack, masked))
