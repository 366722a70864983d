"""Attendance support plans (issue 17 item 1; DfE "Working together to improve school
attendance", 2024): support first, written down and reviewed.

A plan belongs to one pupil (one open plan at a time) and holds the barriers to attendance
the school and family found, the Early Help status (EARLY_HELP), the actions agreed by the
school, the family and others (an agency named: PARTIES), targets (attendance % to reach by
a date) and review meetings with their notes. A review falls due `plan_review_weeks` (a
setting, 6 by default) after the plan started or its last review (`review_due`); a review
may be brought forward by choosing an earlier date. The plan is shared with the parents as
a PDF (`plan_pdf`); its targets and reviews are drawn on the pupil's weekly chart
(charts.attendance_trend `plan`), and plans due for review are listed on Casework and ranked
on the meeting's agenda (core/meetings.py).

Rules: who may write is `auth.ACTION_ROLES["case_work"]` (a head of section for their
sections' pupils, checked as cases does); nothing is deleted (a plan is closed with an
outcome, an action's status changes); every write is audited with who and when. Barriers,
review notes and the plan's outcome are notes: a viewer never reads them, and a shared screen
(meeting mode) never shows them — the columns are privacy.PLAN_NOTE_COLUMNS — nor the
names of the pupil or parents in an agreed action's words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlite_utils

from core import auth, cases, privacy, schools, store
from core import text as typed

EARLY_HELP: dict[str, str] = {
    "not_offered": "Not offered yet",
    "not_needed": "Not needed",
    "offered": "Offered",
    "accepted": "Accepted — support open",
    "declined": "Offered and declined by the family",
    "closed": "Early Help closed",
}
EARLY_HELP_OFFERED = ("offered", "accepted", "declined", "closed")
PARTIES: dict[str, str] = {"school": "School", "family": "Family", "other": "Others"}
ACTION_STATUSES: dict[str, str] = {"agreed": "Agreed", "done": "Done", "not_done": "Not done",
                                   "refused": "Refused by the family"}
TARGET_STATUSES = {"not_started": "No school days yet", "on_track": "On track", "behind": "Behind",
                   "met": "Met", "missed": "Missed"}
REVIEW_SOON_DAYS = cases.REVIEW_SOON_DAYS  # a review this close counts as due (Casework)
AUDIT_ENTITIES = ("support_plans", "support_plan_actions", "support_plan_targets", "support_plan_reviews")
ACTION_LIMIT = 500  # characters of an agreed action


class PlanError(cases.CaseError):
    """A plan entry that cannot be saved, with a message for the user."""


# --- the review rule --------------------------------------------------------------------------


def review_weeks(settings: dict[str, Any]) -> int:
    """The weeks between reviews (the setting `plan_review_weeks`, at least 1)."""
    return max(1, int(settings.get("plan_review_weeks", store.DEFAULT_SETTINGS["plan_review_weeks"])))


def review_due(last: date, weeks: int) -> date:
    """When the next review falls due: `weeks` after the plan started or its last review."""
    return last + timedelta(weeks=weeks)


# --- writing ------------------------------------------------------------------------------------


def _require_writer(viewer: auth.Viewer) -> None:
    if not viewer.may_write:
        raise PlanError("Your role can view plans but not write them.")


def _text(value: str | None, label: str, limit: int = typed.NOTE_LIMIT) -> str:
    cleaned = typed.clean(str(value or ""), multiline=True).strip()
    if len(cleaned) > limit:
        raise PlanError(f"{label} is {len(cleaned):,} characters long; keep it to {limit:,}.")
    return cleaned


def _date(value: Any, label: str) -> date:
    try:
        return cases.as_date(value, label)
    except cases.CaseError as error:
        raise PlanError(str(error)) from None


def _plan(conn, plan_id: int) -> dict:
    keys = ("id", "pupil_id", "status", "started_on", "next_review_on", "owner")
    row = conn.execute(f"SELECT {', '.join(keys)} FROM support_plans WHERE id = ?", (int(plan_id),)).fetchone()
    if row is None:
        raise PlanError("That plan no longer exists.")
    return dict(zip(keys, row))


def _open_plan(conn, viewer: auth.Viewer, plan_id: int, on: date | None = None, refusal: str = "") -> dict:
    """The open plan the viewer may write to; with `on`, refused (`refusal`) when that date
    is before the plan started."""
    plan = _plan(conn, plan_id)
    cases._check_pupil(conn, viewer, plan["pupil_id"])
    if plan["status"] != "open":
        raise PlanError("This plan is closed; its record is kept. Start a new plan instead.")
    if on is not None and on < date.fromisoformat(plan["started_on"]):
        raise PlanError(refusal)
    return plan


def _early_help(value: str) -> str:
    if value not in EARLY_HELP:
        raise PlanError(f"Early Help: choose one of {', '.join(EARLY_HELP.values())}.")
    return value


def start_plan(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, started_on: date, owner: str,
               barriers: str = "", early_help: str = "not_offered", next_review_on: date | None = None) -> int:
    """Start a pupil's attendance support plan; its first review falls due `plan_review_weeks`
    after it starts unless an earlier date is chosen. One open plan per pupil."""
    _require_writer(viewer)
    started_on = _date(started_on, "Started on")
    owner = (owner or "").strip()
    if not owner:
        raise PlanError("Every plan needs an owner: the member of staff who keeps it.")
    weeks = review_weeks(store.get_settings(db))
    due = review_due(started_on, weeks) if next_review_on is None else _date(next_review_on, "First review")
    if due <= started_on:
        raise PlanError("The first review must come after the plan starts.")
    barriers, early_help = _text(barriers, "Barriers"), _early_help(early_help)
    with store.transaction(db) as conn:
        cases._check_pupil(conn, viewer, pupil_id)
        if conn.execute("SELECT 1 FROM support_plans WHERE pupil_id = ? AND status = 'open'",
                        (int(pupil_id),)).fetchone():
            raise PlanError("This pupil already has an open support plan: add to it, review it, or close it first.")
        cursor = conn.execute(
            "INSERT INTO support_plans (pupil_id, started_on, owner, barriers, early_help, next_review_on, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (int(pupil_id), started_on.isoformat(), owner, barriers, early_help, due.isoformat(), viewer.username,
             store.now()))
        store.audit(conn, viewer.username, "support_plan.start", "support_plans", cursor.lastrowid,
                    {"pupil_id": int(pupil_id), "owner": owner, "early_help": early_help,
                     "next_review_on": due.isoformat()})
    return cursor.lastrowid


def edit_plan(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, *, barriers: str | None = None,
              early_help: str | None = None, owner: str | None = None) -> None:
    """Change an open plan's barriers, Early Help status or owner (audited: what changed, never the words)."""
    _require_writer(viewer)
    changes: dict[str, str] = {}
    if barriers is not None:
        changes["barriers"] = _text(barriers, "Barriers")
    if early_help is not None:
        changes["early_help"] = _early_help(early_help)
    if owner is not None:
        if not owner.strip():
            raise PlanError("Every plan needs an owner.")
        changes["owner"] = owner.strip()
    if not changes:
        return
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id)
        conn.execute(f"UPDATE support_plans SET {', '.join(f'{k} = ?' for k in changes)}, updated_by = ?, "
                     "updated_at = ? WHERE id = ?", (*changes.values(), viewer.username, store.now(), int(plan_id)))
        shown = {k: v for k, v in changes.items() if k != "barriers"}
        store.audit(conn, viewer.username, "support_plan.edit", "support_plans", plan_id,
                    {"pupil_id": plan["pupil_id"], "changed": sorted(changes), **shown})


def add_action(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, party: str, action: str,
               due_on: date | None = None, agency: str = "") -> int:
    """An action agreed in the plan: by the school, the family, or others (the agency named)."""
    _require_writer(viewer)
    if party not in PARTIES:
        raise PlanError(f"Who will do it: choose one of {', '.join(PARTIES.values())}.")
    action = " ".join(_text(action, "The action", ACTION_LIMIT).split())
    if not action:
        raise PlanError("Say what was agreed, e.g. “Breakfast club every morning from Monday”.")
    agency = " ".join(_text(agency, "The agency", 120).split())
    if party == "other" and not agency:
        raise PlanError("Name the agency or person outside school and family, e.g. Early Help, school nurse, CAMHS.")
    if party != "other":
        agency = ""
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id, None if due_on is None else _date(due_on, "By"),
                          "The action is due before the plan started.")
        cursor = conn.execute(
            "INSERT INTO support_plan_actions (plan_id, party, agency, action, due_on, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (int(plan_id), party, agency, action, due_on.isoformat() if due_on else None, viewer.username, store.now()))
        store.audit(conn, viewer.username, "support_plan.action", "support_plan_actions", cursor.lastrowid,
                    {"pupil_id": plan["pupil_id"], "plan_id": int(plan_id), "party": party, "agency": agency})
    return cursor.lastrowid


def set_action_status(db: sqlite_utils.Database, viewer: auth.Viewer, action_id: int, status: str) -> None:
    """Mark an agreed action done, not done, or refused by the family (for the court file)."""
    _require_writer(viewer)
    if status not in ACTION_STATUSES:
        raise PlanError(f"Choose one of {', '.join(ACTION_STATUSES.values())}.")
    with store.transaction(db) as conn:
        row = conn.execute("SELECT plan_id, status FROM support_plan_actions WHERE id = ?", (int(action_id),)).fetchone()
        if row is None:
            raise PlanError("That action is no longer in the plan.")
        plan = _open_plan(conn, viewer, row[0])
        conn.execute("UPDATE support_plan_actions SET status = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                     (status, viewer.username, store.now(), int(action_id)))
        store.audit(conn, viewer.username, "support_plan.action_status", "support_plan_actions", action_id,
                    {"pupil_id": plan["pupil_id"], "plan_id": row[0], "from": row[1], "to": status})


def add_target(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, attendance_pct: float, by_date: date,
               set_on: date) -> int:
    """A target: attendance of at least `attendance_pct` % from `set_on` to `by_date`."""
    _require_writer(viewer)
    try:
        attendance_pct = float(attendance_pct)
    except (TypeError, ValueError):
        raise PlanError("Give the attendance to reach as a percentage, e.g. 92.") from None
    if not 0 < attendance_pct <= 100:
        raise PlanError("The attendance to reach is a percentage between 0 and 100.")
    by_date, set_on = _date(by_date, "By"), _date(set_on, "Set on")
    if by_date <= set_on:
        raise PlanError("The date to reach the target must come after the day it is set.")
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id, set_on, "A target cannot be set before the plan started.")
        cursor = conn.execute(
            "INSERT INTO support_plan_targets (plan_id, set_on, attendance_pct, by_date, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (int(plan_id), set_on.isoformat(), attendance_pct, by_date.isoformat(), viewer.username, store.now()))
        store.audit(conn, viewer.username, "support_plan.target", "support_plan_targets", cursor.lastrowid,
                    {"pupil_id": plan["pupil_id"], "plan_id": int(plan_id), "attendance_pct": attendance_pct,
                     "by_date": by_date.isoformat()})
    return cursor.lastrowid


def record_review(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, held_on: date, note: str = "",
                  attendance_pct: float | None = None, next_review_on: date | None = None) -> int:
    """A review meeting held: its notes, attendance at the time, and the next review date
    (`plan_review_weeks` after this one unless an earlier date is chosen)."""
    _require_writer(viewer)
    held_on = _date(held_on, "Held on")
    weeks = review_weeks(store.get_settings(db))
    following = review_due(held_on, weeks) if next_review_on is None else _date(next_review_on, "Next review")
    if following <= held_on:
        raise PlanError("The next review must come after this one.")
    note = _text(note, "The review notes")
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id, held_on, "A review cannot be held before the plan started.")
        cursor = conn.execute(
            "INSERT INTO support_plan_reviews (plan_id, held_on, attendance_pct, note, next_review_on, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (int(plan_id), held_on.isoformat(), None if attendance_pct is None or pd.isna(attendance_pct)
             else round(float(attendance_pct), 1), note, following.isoformat(), viewer.username, store.now()))
        conn.execute("UPDATE support_plans SET next_review_on = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                     (following.isoformat(), viewer.username, store.now(), int(plan_id)))
        store.audit(conn, viewer.username, "support_plan.review", "support_plan_reviews", cursor.lastrowid,
                    {"pupil_id": plan["pupil_id"], "plan_id": int(plan_id), "held_on": held_on.isoformat(),
                     "next_review_on": following.isoformat()})
    return cursor.lastrowid


def mark_shared(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, shared_on: date) -> None:
    """Record that the plan (its PDF) was shared with the parents on `shared_on`."""
    _require_writer(viewer)
    shared_on = _date(shared_on, "Shared on")
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id)
        conn.execute("UPDATE support_plans SET shared_on = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                     (shared_on.isoformat(), viewer.username, store.now(), int(plan_id)))
        store.audit(conn, viewer.username, "support_plan.shared", "support_plans", plan_id,
                    {"pupil_id": plan["pupil_id"], "shared_on": shared_on.isoformat()})


def close_plan(db: sqlite_utils.Database, viewer: auth.Viewer, plan_id: int, closed_on: date, outcome: str) -> None:
    """Close a plan with its outcome; its record, actions, targets and reviews are kept."""
    _require_writer(viewer)
    closed_on = _date(closed_on, "Closed on")
    outcome = _text(outcome, "The outcome")
    if not outcome:
        raise PlanError("Say how the plan ended, e.g. “Attendance above 95% for six weeks”.")
    with store.transaction(db) as conn:
        plan = _open_plan(conn, viewer, plan_id, closed_on, "A plan cannot close before it started.")
        conn.execute("UPDATE support_plans SET status = 'closed', closed_on = ?, outcome = ?, updated_by = ?, "
                     "updated_at = ? WHERE id = ?", (closed_on.isoformat(), outcome, viewer.username, store.now(),
                                                     int(plan_id)))
        store.audit(conn, viewer.username, "support_plan.close", "support_plans", plan_id,
                    {"pupil_id": plan["pupil_id"], "closed_on": closed_on.isoformat()})


def record_download(db: sqlite_utils.Database, viewer: auth.Viewer, what: str, detail: dict) -> None:
    """An audit entry for a document made from plans and case work (a plan PDF, a court file,
    the LA pack): who made which, when, for which pupils."""
    with store.transaction(db) as conn:
        store.audit(conn, viewer.username, f"{what}.download", what, detail.get("pupil_id", ""), detail)


# --- reading ------------------------------------------------------------------------------------

PLAN_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "year_group", "status", "started_on", "owner",
                "barriers", "early_help", "next_review_on", "shared_on", "closed_on", "plan_outcome"]


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: cases._dates(frame[c]) for c in columns if c in frame.columns})


def _hide_notes(frame: pd.DataFrame, viewer: auth.Viewer) -> pd.DataFrame:
    """Barriers, review notes and outcomes: never for a viewer nor on a shared screen."""
    if viewer.sees_notes and not viewer.shared_screen:
        return frame
    return frame.drop(columns=[c for c in privacy.PLAN_NOTE_COLUMNS if c in frame.columns])


def plans(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_ids: list[int] | None = None,
          status: str | None = None) -> pd.DataFrame:
    """Plans with their pupil, newest first, in the viewer's scope and as their role may read them."""
    params: list = []
    sql = cases._in_scope(
        "SELECT s.id, s.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, s.status, s.started_on, s.owner, "
        "s.barriers, s.early_help, s.next_review_on, s.shared_on, s.closed_on, s.outcome AS plan_outcome "
        "FROM support_plans s JOIN pupils p ON p.id = s.pupil_id WHERE 1 = 1",
        cases.visible_pupil_ids(db, viewer, pupil_ids), params, column="s.pupil_id")
    if status:
        sql += " AND s.status = ?"
        params.append(status)
    frame = cases._frame(db, sql + " ORDER BY s.started_on DESC, s.id DESC", params)
    frame = _dates(frame, "started_on", "next_review_on", "shared_on", "closed_on")
    return _hide_notes(frame.assign(early_help_label=frame["early_help"].map(EARLY_HELP)), viewer)


def plan_actions(db: sqlite_utils.Database, viewer: auth.Viewer, plan_ids: list[int]) -> pd.DataFrame:
    """The actions agreed in these plans (which the caller read through `plans`), oldest first;
    on a shared screen the words without the pupil's or parents' names, for a viewer not at all."""
    frame = cases._frame(db, "SELECT a.id, a.plan_id, s.pupil_id, a.party, a.agency, a.action, a.due_on, a.status "
                         "FROM support_plan_actions a JOIN support_plans s ON s.id = a.plan_id "
                         "WHERE a.plan_id IN (SELECT value FROM json_each(?)) ORDER BY a.id",
                         [json.dumps([int(p) for p in plan_ids])])
    frame = _dates(frame, "due_on").assign(party_label=frame["party"].map(PARTIES),
                                           status_label=frame["status"].map(ACTION_STATUSES))
    if not viewer.sees_notes:
        return frame.assign(action="(not shown to your role)")
    return cases.names_off_shared_screen(db, frame, viewer, ("action",))


def plan_targets(db: sqlite_utils.Database, plan_ids: list[int]) -> pd.DataFrame:
    frame = cases._frame(db, "SELECT id, plan_id, set_on, attendance_pct, by_date FROM support_plan_targets "
                         "WHERE plan_id IN (SELECT value FROM json_each(?)) ORDER BY by_date, id",
                         [json.dumps([int(p) for p in plan_ids])])
    return _dates(frame, "set_on", "by_date")


def plan_reviews(db: sqlite_utils.Database, viewer: auth.Viewer, plan_ids: list[int]) -> pd.DataFrame:
    frame = cases._frame(db, "SELECT id, plan_id, held_on, attendance_pct, note AS review_note, next_review_on, "
                         "created_by FROM support_plan_reviews WHERE plan_id IN (SELECT value FROM json_each(?)) "
                         "ORDER BY held_on, id", [json.dumps([int(p) for p in plan_ids])])
    return _hide_notes(_dates(frame, "held_on", "next_review_on"), viewer)


@dataclass(frozen=True)
class Plan:
    """One plan as the viewer may read it (`plan` a dict of PLAN_COLUMNS, barriers and the
    outcome absent where hidden) with its actions, targets and reviews."""

    plan: dict
    actions: pd.DataFrame
    targets: pd.DataFrame
    reviews: pd.DataFrame

    @property
    def id(self) -> int:
        return int(self.plan["id"])

    @property
    def is_open(self) -> bool:
        return self.plan["status"] == "open"


def plan_of(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int) -> Plan | None:
    """The pupil's open plan, else their latest closed one; None without one (or out of scope)."""
    found = plans(db, viewer, [pupil_id])
    if found.empty:
        return None
    found = found.assign(is_open=found["status"].eq("open")).sort_values(["is_open", "started_on", "id"],
                                                                        ascending=False)
    row = found.iloc[0].drop(labels=["is_open"]).to_dict()
    ids = [int(row["id"])]
    return Plan(row, plan_actions(db, viewer, ids), plan_targets(db, ids), plan_reviews(db, viewer, ids))


def plans_due(db: sqlite_utils.Database, viewer: auth.Viewer, today: date, within_days: int = REVIEW_SOON_DAYS,
              pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Open plans whose next review has passed or falls within `within_days` of `today`,
    soonest first, with `review_overdue` and the last review's date (`last_review_on`)."""
    found = plans(db, viewer, pupil_ids, status="open")
    found = found[pd.to_datetime(found["next_review_on"]) <= pd.Timestamp(today + timedelta(days=within_days))]
    last = dict(db.execute("SELECT plan_id, MAX(held_on) FROM support_plan_reviews GROUP BY plan_id").fetchall())
    return (found.assign(review_overdue=(pd.to_datetime(found["next_review_on"]) < pd.Timestamp(today)).to_numpy(),
                         last_review_on=found["id"].map(lambda i: date.fromisoformat(last[i]) if last.get(i) else None))
            .sort_values(["next_review_on", "id"]).reset_index(drop=True))


def target_progress(weekly: pd.DataFrame, targets: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Each target with the pupil's attendance from the week it was set (weeks up to its date
    and `as_of`, pooled: sessions attended over possible sessions) and its status: met or
    missed once its date has passed, else on track or behind; `not_started` with no
    possible session yet. `weekly`: week_start, possible_sessions, attendance_pct."""
    counted = weekly[weekly["possible_sessions"] > 0]
    starts = pd.to_datetime(counted["week_start"])
    attended = (counted["attendance_pct"].astype("float64") * counted["possible_sessions"] / 100).round()
    rows = []
    for target in targets.to_dict("records"):
        set_week = pd.Timestamp(target["set_on"] - timedelta(days=target["set_on"].weekday()))
        end = pd.Timestamp(min(target["by_date"], as_of))
        inside = ((starts >= set_week) & (starts <= end)).to_numpy()
        possible, present = int(counted["possible_sessions"][inside].sum()), int(attended[inside].sum())
        pct = present / possible * 100 if possible else None
        reached = possible > 0 and present * 100 >= target["attendance_pct"] * possible
        if as_of >= target["by_date"]:
            status = "met" if reached else "missed"
        else:
            status = "not_started" if not possible else ("on_track" if reached else "behind")
        rows.append({**target, "possible_sessions": possible, "attendance_sessions": present,
                     "attendance_since_pct": pct, "gap_pts": None if pct is None else pct - target["attendance_pct"],
                     "status": status, "status_label": TARGET_STATUSES[status]})
    return pd.DataFrame(rows, columns=[*targets.columns, "possible_sessions", "attendance_sessions",
                                       "attendance_since_pct", "gap_pts", "status", "status_label"])


def agencies(db: sqlite_utils.Database, pupil_ids: list[int]) -> dict[int, list[str]]:
    """The agencies involved with each pupil: those named on a plan's actions ("others") and
    those an action was referred to (an Early Help referral's service), each named once."""
    wanted = json.dumps(sorted({int(p) for p in pupil_ids}))
    rows = db.execute(
        "SELECT s.pupil_id, a.agency FROM support_plan_actions a JOIN support_plans s ON s.id = a.plan_id "
        "WHERE a.party = 'other' AND a.agency != '' AND s.pupil_id IN (SELECT value FROM json_each(?)) "
        "UNION ALL SELECT i.pupil_id, json_extract(i.details, '$.agency') FROM interventions i "
        "WHERE json_extract(i.details, '$.agency') IS NOT NULL AND json_extract(i.details, '$.agency') != '' "
        "AND i.pupil_id IN (SELECT value FROM json_each(?))", (wanted, wanted)).fetchall()
    found: dict[int, dict[str, str]] = {}
    for pupil_id, agency in rows:
        name = " ".join(str(agency).split())
        found.setdefault(int(pupil_id), {}).setdefault(name.lower(), name)
    return {pupil_id: sorted(names.values(), key=str.lower) for pupil_id, names in found.items()}


# --- the plan as a PDF for the family -----------------------------------------------------------


def plan_tables(plan: Plan, staff: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The plan's parts as tables, worded for the family (PDF) and the screen."""
    staff = staff or {}
    actions = plan.actions
    return {
        "actions": pd.DataFrame({
            "Who": [a if p == "other" and a else PARTIES[p] for p, a in zip(actions["party"], actions["agency"])],
            "Agreed action": actions["action"].to_numpy(), "By": actions["due_on"].to_numpy(),
            "Status": actions["status_label"].to_numpy()}),
        "targets": pd.DataFrame({"Attendance to reach": [f"{t:.1f}%" for t in plan.targets["attendance_pct"]],
                                 "From": plan.targets["set_on"].to_numpy(), "By": plan.targets["by_date"].to_numpy()}),
        "reviews": pd.DataFrame({
            "Review held": plan.reviews["held_on"].to_numpy(),
            "Attendance then": [None if pd.isna(p) else f"{p:.1f}%" for p in plan.reviews["attendance_pct"]],
            **({"Notes": plan.reviews["review_note"].to_numpy()} if "review_note" in plan.reviews else {}),
            "Next review": plan.reviews["next_review_on"].to_numpy()}),
    }


def plan_pdf(plan: Plan, school: str, masked: bool, staff: dict[str, str] | None = None) -> bytes:
    """The plan to share with the parents: barriers, Early Help, agreed actions by the school,
    the family and others, targets and reviews. Every value is printed as text."""
    from core.calendar import uk_date
    from core.pdf import MUTED, Document

    staff = staff or {}
    p = plan.plan
    doc = Document(school, "Attendance support plan — " + privacy.pupil_label(p["surname"], p["forename"], p["form"],
                                                                            masked),
                   f"Started {uk_date(p['started_on'])} · next review {uk_date(p['next_review_on'])}"
                   + (f" · closed {uk_date(p['closed_on'])}" if p.get("closed_on") else ""))
    facts = [("Pupil", privacy.pupil_name(p["surname"], p["forename"], masked)), ("Form", p["form"] or "—"),
             ("Plan kept by", staff.get(p["owner"], p["owner"])),
             ("Early Help", EARLY_HELP.get(p["early_help"], p["early_help"])),
             ("Reviewed every", f"{review_weeks_of(plan)} weeks or sooner")]
    doc.table(pd.DataFrame(facts, columns=["", " "]), widths=[40, doc.epw - 40], size=9.5, headings=False)
    if "barriers" in p:
        doc.heading("What makes attending school hard (barriers)", size=11)
        doc.paragraph(p["barriers"] or "None recorded.", size=10)
    tables = plan_tables(plan, staff)
    doc.heading("What we agreed", size=11)
    doc.table(tables["actions"], widths=[30, doc.epw - 80, 22, 28], size=9)
    doc.heading("Attendance targets", size=11)
    doc.table(tables["targets"], size=9)
    doc.heading("Reviews", size=11)
    doc.table(tables["reviews"], size=9)
    if "plan_outcome" in p and p.get("plan_outcome"):
        doc.heading("How the plan ended", size=11)
        doc.paragraph(p["plan_outcome"], size=10)
    doc.paragraph("This plan was agreed between the school and the family under the DfE's \"Working together to "
                  "improve school attendance\" (2024): support first, reviewed regularly.", size=8, colour=MUTED)
    doc.ln(6)
    doc.paragraph("Signed (parent/carer) ____________________________    Date ____________", size=10)
    doc.paragraph("Signed (school) ____________________________    Date ____________", size=10)
    return doc.pdf_bytes()


def review_weeks_of(plan: Plan) -> int:
    """The weeks between this plan's reviews as set now (the setting); for the PDF's facts."""
    return int(plan.plan.get("review_weeks") or store.DEFAULT_SETTINGS["plan_review_weeks"])


def plan_file_name(school: str, plan: Plan, as_of: date, masked: bool) -> str:
    from core.exports import file_name
    p = plan.plan
    who = privacy.initials(p["surname"], p["forename"]).replace(".", "").replace(" ", "") if masked \
        else f"{p['surname']}-{p['forename']}"
    return file_name(school, f"support-plan_{who}", as_of, "pdf")


def plan_pdf_for(db_path: str, viewer: auth.Viewer, pupil_id: int, masked: bool, as_of: date) -> bytes:
    """Build a pupil's plan PDF for a deferred download, and audit that it was made."""
    with store.opened(db_path) as db:
        plan = plan_of(db, viewer, pupil_id)
        if plan is None:
            raise PlanError("This pupil has no support plan.")
        settings = store.get_settings(db)
        staff = cases.staff_names(db)
        plan = Plan({**plan.plan, "review_weeks": review_weeks(settings)}, plan.actions, plan.targets, plan.reviews)
        record_download(db, viewer, "support_plan", {"pupil_id": int(pupil_id), "plan_id": plan.id, "masked": masked})
        school = schools.pupil_school(db, int(pupil_id))  # headed with the pupil's own school (issue 18)
        school_name = school.name if school else settings["school_name"]
    return plan_pdf(plan, school_name, masked, staff)
