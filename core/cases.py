"""Case work: interventions, check-ins, contacts, key adults — and whether it worked.

Rules (issue 6, DOMAIN.md §5): support first, enforcement last — every intervention type
has a tier; nothing is deleted (closing and editing keep history); every create, edit and
close is audited; viewers see no notes, and sensitive notes are for the pastoral lead
(DSL) and admins only. A safeguarding referral is recorded as *where* it went, never
what the concern was. Callers restrict pupils to the user's scope (a head of section's
sections) by passing `pupil_ids`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, store

TIERS = {
    1: "Expect",
    2: "Monitor",
    3: "Listen and understand",
    4: "Facilitate support",
    5: "Formalise support",
    6: "Enforce",
}

CONTACT_KINDS = {
    "call": "Phone call",
    "letter": "Letter",
    "email": "Email",
    "meeting": "Meeting",
    "home_visit": "Home visit",
    "text_message": "Text message",
}

# Who may read which parts of a case record.
NOTE_READERS = {"admin", "attendance_officer", "pastoral_lead", "head_of_section"}
SENSITIVE_READERS = {"admin", "pastoral_lead"}
CASE_WRITERS = {"admin", "attendance_officer", "pastoral_lead", "head_of_section"}


@dataclass(frozen=True)
class InterventionType:
    name: str
    tier: int
    details: tuple[str, ...] = ()  # extra fields the type records, e.g. ("date_issued", "paid")
    needs_review_date: bool = False
    help: str = ""


# Seeded into the editable list on first use (DOMAIN.md §5 and issue 6).
SEED_TYPES: tuple[InterventionType, ...] = (
    InterventionType("First-day call", 1, help="Call home on the first day of an unexplained absence."),
    InterventionType("Leave-of-absence request", 1, ("from_date", "to_date", "decision"),
                     help="A parent's request for leave in term time and the head's decision."),
    InterventionType("Attendance letter (stage 1)", 2, help="Letter sharing attendance concerns."),
    InterventionType("Attendance letter (stage 2)", 3, help="Letter inviting parents to meet."),
    InterventionType("Attendance meeting / clinic", 3, help="Meeting with pupil and family to understand barriers."),
    InterventionType("Home visit", 3),
    InterventionType("ELSA or mentoring sessions", 4),
    InterventionType("EBSA support plan", 4, help="Plan for emotionally based school avoidance."),
    InterventionType("Reduced (part-time) timetable", 4, ("end_date",), needs_review_date=True,
                     help="Agreed with parents, with a review date normally within 6 weeks (code C2)."),
    InterventionType("Early Help referral", 4, ("agency",)),
    InterventionType("Safeguarding referral recorded", 4, ("recorded_in",),
                     help="Record only where the referral was made — never the concern itself."),
    InterventionType("Referral to the local authority (statutory trigger)", 4, ("trigger",)),
    InterventionType("Children-missing-education referral", 4),
    InterventionType("Elective home education notification", 4),
    InterventionType("Attendance contract", 5),
    InterventionType("Parenting contract", 5),
    InterventionType("Education supervision order", 5),
    InterventionType("Attendance letter (stage 3 — formal warning)", 6, help="Warning before a penalty notice."),
    InterventionType("Penalty notice", 6, ("date_issued", "paid"),
                     help="£80 if paid within 21 days, £160 within 28; a second within 3 years is £160; no third."),
    InterventionType("Prosecution referral", 6),
)

DEFAULT_CHECK_IN_DAYS = 14
REDUCED_TIMETABLE_REVIEW_WEEKS = 6


class CaseError(ValueError):
    """A case entry that cannot be saved, with a message for the user."""


@dataclass(frozen=True)
class Viewer:
    """Who is reading or writing: their username and role, and whether the screen is shared
    (meeting mode: nobody reads sensitive notes on a projector, core/privacy.py)."""

    username: str
    role: str
    meeting: bool = False

    @property
    def sees_notes(self) -> bool:
        return self.role in NOTE_READERS

    @property
    def sees_sensitive(self) -> bool:
        return self.role in SENSITIVE_READERS and not self.meeting

    @property
    def may_write(self) -> bool:
        return self.role in CASE_WRITERS


# --- intervention types ------------------------------------------------------------


def ensure_types(db: sqlite_utils.Database) -> None:
    """Seed the editable list of intervention types once."""
    if db.execute("SELECT COUNT(*) FROM intervention_types").fetchone()[0]:
        return
    with store.transaction(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO intervention_types (name, tier, details, needs_review_date, help, sort) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(t.name, t.tier, json.dumps(list(t.details)), int(t.needs_review_date), t.help, i)
             for i, t in enumerate(SEED_TYPES)],
        )


def intervention_types(db: sqlite_utils.Database, include_inactive: bool = False) -> pd.DataFrame:
    ensure_types(db)
    rows = db.execute(
        "SELECT id, name, tier, details, needs_review_date, help, active FROM intervention_types "
        + ("" if include_inactive else "WHERE active = 1 ") + "ORDER BY tier, sort, name"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["id", "name", "tier", "details", "needs_review_date", "help", "active"])
    return frame.assign(details=frame["details"].map(json.loads), tier_name=frame["tier"].map(TIERS))


def save_type(db, viewer: Viewer, name: str, tier: int, details: list[str] | None = None,
              needs_review_date: bool = False, help: str = "", active: bool = True) -> None:
    """Add or edit an intervention type (admin and pastoral lead)."""
    if viewer.role not in {"admin", "pastoral_lead"}:
        raise CaseError("Only an admin or the pastoral lead can change the list of intervention types.")
    name = name.strip()
    if not name:
        raise CaseError("Give the intervention type a name.")
    if tier not in TIERS:
        raise CaseError(f"The tier must be 1 to 6 ({', '.join(f'{k} {v}' for k, v in TIERS.items())}).")
    ensure_types(db)
    with store.transaction(db) as conn:
        conn.execute(
            "INSERT INTO intervention_types (name, tier, details, needs_review_date, help, active, sort) "
            "VALUES (?, ?, ?, ?, ?, ?, 1000) ON CONFLICT(name) DO UPDATE SET tier = excluded.tier, "
            "details = excluded.details, needs_review_date = excluded.needs_review_date, "
            "help = excluded.help, active = excluded.active",
            (name, tier, json.dumps(details or []), int(needs_review_date), help, int(active)),
        )
        store.audit(conn, viewer.username, "intervention_type.save", "intervention_types", name,
                    {"tier": tier, "active": active})


# --- writing -----------------------------------------------------------------------


def _require_writer(viewer: Viewer) -> None:
    if not viewer.may_write:
        raise CaseError("Your role can view cases but not record them.")


def _pupil_exists(conn, pupil_id: int) -> None:
    if conn.execute("SELECT 1 FROM pupils WHERE id = ?", (pupil_id,)).fetchone() is None:
        raise CaseError("That pupil is not in the store.")


def _clean_text(text: str | None, limit: int = 5000) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise CaseError(f"Keep it under {limit} characters.")
    return text


def open_intervention(
    db: sqlite_utils.Database,
    viewer: Viewer,
    pupil_id: int,
    type_name: str,
    owner: str,
    opened_on: date,
    summary: str = "",
    sensitive_note: str = "",
    review_on: date | None = None,
    check_in_on: date | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record an action for a pupil; with `check_in_on`, also its first check-in."""
    _require_writer(viewer)
    types = intervention_types(db).set_index("name")
    if type_name not in types.index:
        raise CaseError(f"'{type_name}' is not an intervention type in use; choose one from the list.")
    kind = types.loc[type_name]
    if kind["needs_review_date"] and review_on is None:
        raise CaseError(f"A {type_name.lower()} needs a review date (normally within "
                        f"{REDUCED_TIMETABLE_REVIEW_WEEKS} weeks).")
    if review_on is not None and review_on < opened_on:
        raise CaseError("The review date is before the date the action started.")
    if check_in_on is not None and check_in_on < opened_on:
        raise CaseError("The check-in date is before the date the action started.")
    if not owner:
        raise CaseError("Every action needs an owner.")
    unknown = set(details or {}) - set(kind["details"])
    if unknown:
        raise CaseError(f"{type_name} does not record {', '.join(sorted(unknown))}.")
    with store.transaction(db) as conn:
        _pupil_exists(conn, pupil_id)
        cursor = conn.execute(
            "INSERT INTO interventions (pupil_id, type_id, tier, owner, opened_on, review_on, status, summary, "
            "sensitive_note, details, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            (pupil_id, int(kind["id"]), int(kind["tier"]), owner, opened_on.isoformat(),
             review_on.isoformat() if review_on else None, _clean_text(summary), _clean_text(sensitive_note),
             json.dumps(details or {}, default=str), viewer.username, store.now()),
        )
        intervention_id = cursor.lastrowid
        store.audit(conn, viewer.username, "intervention.open", "interventions", intervention_id,
                    {"pupil_id": pupil_id, "type": type_name, "owner": owner})
        if check_in_on is not None:
            _insert_checkin(conn, viewer, pupil_id, intervention_id, check_in_on, owner)
    return intervention_id


def _insert_checkin(conn, viewer: Viewer, pupil_id: int, intervention_id: int | None, due_on: date, owner: str) -> int:
    cursor = conn.execute(
        "INSERT INTO checkins (pupil_id, intervention_id, due_on, owner, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (pupil_id, intervention_id, due_on.isoformat(), owner, viewer.username, store.now()),
    )
    store.audit(conn, viewer.username, "checkin.schedule", "checkins", cursor.lastrowid,
                {"pupil_id": pupil_id, "due_on": due_on.isoformat(), "owner": owner})
    return cursor.lastrowid


def _intervention(conn, intervention_id: int) -> dict:
    row = conn.execute(
        "SELECT id, pupil_id, owner, opened_on, review_on, status, summary, outcome, sensitive_note, details, closed_on "
        "FROM interventions WHERE id = ?", (intervention_id,)).fetchone()
    if row is None:
        raise CaseError("That action no longer exists.")
    keys = ["id", "pupil_id", "owner", "opened_on", "review_on", "status", "summary", "outcome",
            "sensitive_note", "details", "closed_on"]
    return dict(zip(keys, row))


EDITABLE = {"owner", "review_on", "summary", "sensitive_note", "details"}


def edit_intervention(db, viewer: Viewer, intervention_id: int, **changes: Any) -> None:
    """Change an open action; the record before the change is kept in its history."""
    _require_writer(viewer)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise CaseError(f"These cannot be edited: {', '.join(sorted(unknown))}.")
    if "sensitive_note" in changes and not viewer.sees_sensitive:
        raise CaseError("Only the pastoral lead or an admin can change a sensitive note.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        if before["status"] != "open":
            raise CaseError("This action is closed; open a new one instead.")
        values = {k: (v.isoformat() if isinstance(v, date) else json.dumps(v) if k == "details" else _clean_text(v))
                  for k, v in changes.items()}
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            f"UPDATE interventions SET {', '.join(f'{k} = ?' for k in values)}, updated_by = ?, updated_at = ? WHERE id = ?",
            (*values.values(), viewer.username, store.now(), intervention_id),
        )
        store.audit(conn, viewer.username, "intervention.edit", "interventions", intervention_id,
                    {"fields": sorted(values)})


def close_intervention(db, viewer: Viewer, intervention_id: int, outcome: str, closed_on: date) -> None:
    """Close an action with its outcome; the record stays, with its history."""
    _require_writer(viewer)
    if not outcome.strip():
        raise CaseError("Say what the outcome was before closing the action.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        if before["status"] == "closed":
            raise CaseError("This action is already closed.")
        if closed_on < date.fromisoformat(before["opened_on"]):
            raise CaseError("The closing date is before the action started.")
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            "UPDATE interventions SET status = 'closed', outcome = ?, closed_on = ?, updated_by = ?, updated_at = ? WHERE id = ?",
            (_clean_text(outcome), closed_on.isoformat(), viewer.username, store.now(), intervention_id),
        )
        store.audit(conn, viewer.username, "intervention.close", "interventions", intervention_id, {})


def _keep_history(conn, viewer: Viewer, intervention_id: int, before: dict) -> None:
    conn.execute(
        "INSERT INTO intervention_history (intervention_id, changed_by, changed_at, before) VALUES (?, ?, ?, ?)",
        (intervention_id, viewer.username, store.now(), json.dumps(before)),
    )


def schedule_checkin(db, viewer: Viewer, pupil_id: int, due_on: date, owner: str, intervention_id: int | None = None) -> int:
    _require_writer(viewer)
    with store.transaction(db) as conn:
        _pupil_exists(conn, pupil_id)
        return _insert_checkin(conn, viewer, pupil_id, intervention_id, due_on, owner)


def complete_checkin(db, viewer: Viewer, checkin_id: int, done_on: date, outcome: str, note: str = "",
                     next_due_on: date | None = None) -> int | None:
    """Record a check-in as done; with `next_due_on`, schedule the next one for the same owner."""
    _require_writer(viewer)
    if not outcome.strip():
        raise CaseError("Say how the check-in went.")
    with store.transaction(db) as conn:
        row = conn.execute("SELECT pupil_id, intervention_id, owner, done_on FROM checkins WHERE id = ?",
                           (checkin_id,)).fetchone()
        if row is None:
            raise CaseError("That check-in no longer exists.")
        if row[3] is not None:
            raise CaseError("This check-in has already been done.")
        conn.execute("UPDATE checkins SET done_on = ?, done_by = ?, outcome = ?, note = ? WHERE id = ?",
                     (done_on.isoformat(), viewer.username, _clean_text(outcome), _clean_text(note), checkin_id))
        store.audit(conn, viewer.username, "checkin.complete", "checkins", checkin_id, {"pupil_id": row[0]})
        if next_due_on is not None:
            return _insert_checkin(conn, viewer, row[0], row[1], next_due_on, row[2])
    return None


def log_contact(db, viewer: Viewer, pupil_id: int, kind: str, contact_on: date, with_whom: str,
                summary: str = "", sensitive_note: str = "", intervention_id: int | None = None) -> int:
    """A call, letter, email, meeting or home visit with parents or agencies."""
    _require_writer(viewer)
    if kind not in CONTACT_KINDS:
        raise CaseError(f"Choose the kind of contact: {', '.join(CONTACT_KINDS.values())}.")
    if not with_whom.strip():
        raise CaseError("Say who the contact was with (e.g. mother, social worker).")
    with store.transaction(db) as conn:
        _pupil_exists(conn, pupil_id)
        cursor = conn.execute(
            "INSERT INTO contacts (pupil_id, intervention_id, kind, with_whom, contact_on, summary, sensitive_note, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pupil_id, intervention_id, kind, _clean_text(with_whom, 200), contact_on.isoformat(),
             _clean_text(summary), _clean_text(sensitive_note), viewer.username, store.now()),
        )
        store.audit(conn, viewer.username, "contact.log", "contacts", cursor.lastrowid,
                    {"pupil_id": pupil_id, "kind": kind})
        return cursor.lastrowid


def assign_key_adult(db, viewer: Viewer, pupil_id: int, staff_username: str) -> None:
    """Allocate a vulnerable pupil to a key member of staff (replacing any earlier one)."""
    _require_writer(viewer)
    with store.transaction(db) as conn:
        _pupil_exists(conn, pupil_id)
        conn.execute(
            "INSERT INTO key_adults (pupil_id, username, assigned_on, assigned_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(pupil_id) DO UPDATE SET username = excluded.username, "
            "assigned_on = excluded.assigned_on, assigned_by = excluded.assigned_by",
            (pupil_id, staff_username, store.now(), viewer.username),
        )
        store.audit(conn, viewer.username, "key_adult.assign", "pupils", pupil_id, {"key_adult": staff_username})


# --- reading -----------------------------------------------------------------------


def _in_scope(sql: str, pupil_ids: list[int] | None, params: list, column: str = "i.pupil_id") -> str:
    """Restrict a query to the caller's pupils (None = every pupil)."""
    if pupil_ids is None:
        return sql
    params.append(json.dumps([int(p) for p in pupil_ids]))
    return sql + f" AND {column} IN (SELECT value FROM json_each(?))"


def redact(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """Hide what the viewer's role may not read: notes for viewers, sensitive notes for most."""
    hidden = [] if viewer.sees_notes else ["summary", "outcome", "note"]
    if not viewer.sees_sensitive:
        hidden.append("sensitive_note")
    present = [c for c in hidden if c in frame.columns]
    return frame.drop(columns=present)


def interventions(db, viewer: Viewer, pupil_ids: list[int] | None = None, status: str | None = None) -> pd.DataFrame:
    """Actions with their type and pupil, newest first, redacted for the viewer."""
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, p.upn, p.surname, p.forename, p.form, t.name AS type, i.tier, i.owner, "
        "i.opened_on, i.review_on, i.status, i.summary, i.outcome, i.sensitive_note, i.details, i.closed_on "
        "FROM interventions i JOIN pupils p ON p.id = i.pupil_id JOIN intervention_types t ON t.id = i.type_id "
        "WHERE 1 = 1", pupil_ids, params)
    if status:
        sql += " AND i.status = ?"
        params.append(status)
    frame = _frame(db, sql + " ORDER BY i.opened_on DESC, i.id DESC", params)
    frame = frame.assign(
        opened_on=_dates(frame["opened_on"]), review_on=_dates(frame["review_on"]), closed_on=_dates(frame["closed_on"]),
        details=frame["details"].map(json.loads), tier_name=frame["tier"].map(TIERS))
    return redact(frame, viewer)


def checkins(db, viewer: Viewer, today: date, pupil_ids: list[int] | None = None, owner: str | None = None,
             outstanding_only: bool = True) -> pd.DataFrame:
    """Check-ins with `overdue` (due before today, not done); the caseload and overdue lists."""
    params: list = []
    sql = _in_scope(
        "SELECT c.id, c.pupil_id, p.upn, p.surname, p.forename, p.form, c.intervention_id, t.name AS type, "
        "c.due_on, c.owner, c.done_on, c.done_by, c.outcome, c.note "
        "FROM checkins c JOIN pupils p ON p.id = c.pupil_id "
        "LEFT JOIN interventions i ON i.id = c.intervention_id "
        "LEFT JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1", pupil_ids, params, column="c.pupil_id")
    if owner:
        sql += " AND c.owner = ?"
        params.append(owner)
    if outstanding_only:
        sql += " AND c.done_on IS NULL"
    frame = _frame(db, sql + " ORDER BY c.due_on, c.id", params)
    frame = frame.assign(due_on=_dates(frame["due_on"]), done_on=_dates(frame["done_on"]))
    overdue = frame["done_on"].isna() & (frame["due_on"] < today)
    return redact(frame.assign(overdue=overdue.astype(bool)), viewer)


def contacts(db, viewer: Viewer, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, i.intervention_id, i.kind, i.with_whom, i.contact_on, i.summary, "
        "i.sensitive_note, i.created_by FROM contacts i WHERE 1 = 1", pupil_ids, params)
    frame = _frame(db, sql + " ORDER BY i.contact_on DESC, i.id DESC", params)
    frame = frame.assign(contact_on=_dates(frame["contact_on"]), kind_label=frame["kind"].map(CONTACT_KINDS))
    return redact(frame, viewer)


def key_adults(db) -> pd.DataFrame:
    return _frame(db, "SELECT pupil_id, username AS key_adult FROM key_adults", [])


def latest_actions(db, pupil_ids: list[int] | None = None, today: date | None = None) -> pd.DataFrame:
    """Per pupil: the latest action and its date, and the next outstanding check-in (for the PA list)."""
    params: list = []
    latest = _frame(db, _in_scope(
        "SELECT i.pupil_id, t.name AS last_action, MAX(i.opened_on) AS last_action_on FROM interventions i "
        "JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1", pupil_ids, params) + " GROUP BY i.pupil_id", params)
    params = []
    due = _frame(db, _in_scope(
        "SELECT i.pupil_id, MIN(i.due_on) AS next_check_in FROM checkins i WHERE i.done_on IS NULL",
        pupil_ids, params) + " GROUP BY i.pupil_id", params)
    merged = latest.merge(due, on="pupil_id", how="outer")
    merged = merged.assign(last_action_on=_dates(merged["last_action_on"]), next_check_in=_dates(merged["next_check_in"]))
    today = today or date.today()
    return merged.assign(check_in_overdue=merged["next_check_in"].map(lambda d: d is not None and d < today))


def _frame(db, sql: str, params: list) -> pd.DataFrame:
    cursor = db.execute(sql, params)
    return pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])


def _dates(values: pd.Series) -> pd.Series:
    return values.map(lambda v: date.fromisoformat(v) if isinstance(v, str) and v else None).astype(object)


# --- lists the team works from ----------------------------------------------------------


def without_recent_action(db, figures: pd.DataFrame, today: date, days: int) -> pd.DataFrame:
    """Persistently absent pupils with no action opened in the last `days` days."""
    pa = figures[figures["persistently_absent"]]
    latest = latest_actions(db, pa["pupil_id"].tolist(), today)
    merged = pa.merge(latest, on="pupil_id", how="left")
    cutoff = today - timedelta(days=days)
    stale = merged["last_action_on"].map(lambda d: d is None or pd.isna(d) or d < cutoff)
    return merged[stale.astype(bool)]


def reduced_timetables_due(db, viewer: Viewer, today: date, within_days: int = 7,
                           pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Open reduced timetables whose review date has passed or falls within `within_days`."""
    open_actions = interventions(db, viewer, pupil_ids, status="open")
    reduced = open_actions[open_actions["type"].str.startswith("Reduced")]
    horizon = today + timedelta(days=within_days)
    due = reduced[reduced["review_on"].map(lambda d: d is not None and d <= horizon).astype(bool)]
    return due.assign(review_overdue=due["review_on"].map(lambda d: d < today).astype(bool))


def penalty_notices(db, viewer: Viewer, today: date, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Penalty notices issued this academic year, per pupil (the framework counts per parent per child)."""
    notices = interventions(db, viewer, pupil_ids)
    notices = notices[notices["type"] == "Penalty notice"]
    issued = notices["details"].map(lambda d: d.get("date_issued")).fillna(notices["opened_on"].map(str))
    issued = issued.map(lambda v: date.fromisoformat(str(v)))
    this_year = notices[issued >= calendar.academic_year_start(today)].assign(date_issued=issued)
    return (this_year.groupby(["pupil_id", "upn", "surname", "forename", "form"], as_index=False)
            .agg(notices=("id", "size"), last_issued=("date_issued", "max")))


# --- impact --------------------------------------------------------------------------


def impact(db, viewer: Viewer, school_days: int, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Attendance in the `school_days` school days before each action opened and from it on.

    School days are the school's (days with a session), so holidays don't dilute either
    window. `after_days` says how many school days have passed since; fewer than
    `school_days` means the after figure is still forming.
    """
    actions = interventions(db, viewer, pupil_ids)
    columns = ["id", "pupil_id", "type", "opened_on", "before_pct", "after_pct", "change_pts",
               "before_possible", "after_possible", "after_days"]
    if actions.empty:
        return pd.DataFrame(columns=columns)
    span = store.mark_date_range(db)
    if span is None:
        return actions.assign(before_pct=np.nan, after_pct=np.nan, change_pts=np.nan,
                              before_possible=0, after_possible=0, after_days=0)[columns]
    days = store.school_session_days(db, calendar.to_day(span[0]), calendar.to_day(span[1]))["day"].to_numpy()
    opened = np.array([calendar.to_day(d) for d in actions["opened_on"]])
    at = np.searchsorted(days, opened, side="left")  # first school day on or after opening
    before_first = days[np.maximum(at - school_days, 0)]
    after_last = days[np.minimum(at + school_days, len(days)) - 1]
    windows = actions[["id", "pupil_id"]].assign(
        before_first=before_first, opened=opened, after_last=after_last,
        after_days=np.minimum(len(days) - at, school_days))
    marks = store.load_marks(db, int(before_first.min()), int(after_last.max()),
                             pupil_ids=actions["pupil_id"].unique().tolist())
    category = codes.classify_by_era(marks["code"], codes.era_of(calendar.days_to_dates(marks["day"])))
    marks = marks.assign(possible=category.isin(codes.POSSIBLE_CATEGORIES).to_numpy(),
                         attended=category.isin(codes.ATTENDANCE_CATEGORIES).to_numpy())
    joined = windows.merge(marks, on="pupil_id")
    before = joined[(joined["day"] >= joined["before_first"]) & (joined["day"] < joined["opened"])]
    after = joined[(joined["day"] >= joined["opened"]) & (joined["day"] <= joined["after_last"])
                   & (joined["after_days"] > 0)]

    def rates(part: pd.DataFrame, name: str) -> pd.DataFrame:
        sums = part.groupby("id")[["possible", "attended"]].sum()
        return pd.DataFrame({f"{name}_possible": sums["possible"],
                             f"{name}_pct": sums["attended"] / sums["possible"].where(sums["possible"] > 0) * 100})

    result = (actions[["id", "pupil_id", "type", "opened_on"]]
              .merge(windows[["id", "after_days"]], on="id")
              .merge(rates(before, "before"), left_on="id", right_index=True, how="left")
              .merge(rates(after, "after"), left_on="id", right_index=True, how="left"))
    result = result.assign(change_pts=result["after_pct"] - result["before_pct"],
                           before_possible=result["before_possible"].fillna(0).astype(int),
                           after_possible=result["after_possible"].fillna(0).astype(int))
    return result[columns]


SMALL_GROUP = 10


def impact_by_type(per_action: pd.DataFrame) -> pd.DataFrame:
    """Per intervention type: pupils, mean change in points, how many improved; small groups flagged."""
    measured = per_action.dropna(subset=["change_pts"])
    if measured.empty:
        return pd.DataFrame(columns=["type", "pupils", "actions", "mean_change_pts", "improved", "indicative_only"])
    grouped = measured.groupby("type").agg(
        pupils=("pupil_id", "nunique"), actions=("id", "size"),
        mean_change_pts=("change_pts", "mean"), improved=("change_pts", lambda c: int((c > 0).sum())))
    return grouped.reset_index().assign(indicative_only=lambda f: f["pupils"] < SMALL_GROUP)
