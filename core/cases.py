"""Case work written and read: actions (interventions), check-ins, contacts, key adults,
and the lists the team works from (latest actions, no recent action, reduced timetables due).

The list of intervention types is core/intervention_types.py; penalty notices under the
national framework core/penalty_notices.py; the pupil's timeline core/chronology.py; whether
an action worked core/impact.py; who may read and write what is `auth.Viewer`.

Rules (issue 6, DOMAIN.md §5): support first, enforcement last — every intervention type
has a tier; nothing is deleted (closing and editing keep history); every create, edit,
close, check-in and contact is audited; viewers see no notes, and sensitive notes are for
the pastoral lead (DSL) and admins only (and never on a shared screen). A safeguarding
referral is recorded as *where* it is recorded, never what the concern was. A head of
section reads and writes cases for their sections' pupils only: the `Viewer` carries
their sections and every function here enforces them; callers may narrow the pupils
further by passing `pupil_ids`. Functions that judge "due" or "overdue" take `today`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlite_utils

from core import auth, intervention_types, penalty_notices, privacy, store
from core import text as typed

CONTACT_KINDS = {
    "call": "Phone call",
    "letter": "Letter",
    "email": "Email",
    "meeting": "Meeting",
    "home_visit": "Home visit",
    "text_message": "Text message",
}

# Columns that hold notes, by who may read them.
NOTE_COLUMNS = ("summary", "outcome", "note")
SENSITIVE_COLUMNS = ("sensitive_note",)

DEFAULT_CHECK_IN_DAYS = 14
REDUCED_TIMETABLE_REVIEW_WEEKS = 6
REVIEW_SOON_DAYS = 7  # a review date this close counts as due


class CaseError(ValueError):
    """A case entry that cannot be saved, with a message for the user."""


# --- scope: which pupils a viewer may read and write ----------------------------------


def _section_pupil_ids(db, viewer: auth.Viewer) -> list[int]:
    """The pupils of the viewer's schools (a trust's store) and, for a head of section, of
    their sections (year groups mapped by the `sections` setting)."""
    where, params = [], []
    if viewer.role in auth.SECTION_SCOPED:
        settings = store.get_settings(db)
        years = [year for section in viewer.sections for year in settings["sections"].get(section, [])]
        where.append("year_group IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(years))
    if viewer.school_ids is not None:
        where.append("school_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(viewer.school_ids)))
    rows = db.execute(f"SELECT id FROM pupils WHERE {' AND '.join(where) or '1'}", params).fetchall()
    return [row[0] for row in rows]


def visible_pupil_ids(db, viewer: auth.Viewer, pupil_ids: list[int] | tuple[int, ...] | None = None) -> list[int] | None:
    """The pupils a read covers: those asked for (None = all), narrowed to the viewer's sections."""
    asked = None if pupil_ids is None else [int(p) for p in pupil_ids]
    if viewer.sees_all_pupils:
        return asked
    allowed = _section_pupil_ids(db, viewer)
    return allowed if asked is None else sorted(set(asked) & set(allowed))


def _check_pupil(conn, viewer: auth.Viewer, pupil_id: int) -> None:
    """The pupil exists and is the writer's to record for."""
    row = conn.execute("SELECT year_group, surname, forename, school_id FROM pupils WHERE id = ?",
                       (int(pupil_id),)).fetchone()
    if row is None:
        raise CaseError("That pupil is not in the store.")
    if viewer.sees_all_pupils:
        return
    if viewer.school_ids is not None and row[3] not in viewer.school_ids:
        raise CaseError(f"{row[2]} {row[1]} is not at your school, so you cannot record case work for them.")
    if viewer.role not in auth.SECTION_SCOPED:
        return
    section = store.section_of_year_groups(store.get_settings(conn)).get(row[0])
    if section not in viewer.sections:
        raise CaseError(f"{row[2]} {row[1]} is not in your sections ({', '.join(viewer.sections) or 'none'}), "
                        "so you cannot record case work for them; ask the attendance officer or pastoral lead.")


# --- writing -----------------------------------------------------------------------


def _require_writer(viewer: auth.Viewer) -> None:
    if not viewer.may_write:
        raise CaseError("Your role can view cases but not record them.")


def _clean_text(text: str | None, limit: int = typed.NOTE_LIMIT) -> str:
    """Typed text as stored: control characters and bidi overrides dropped (core/text.py),
    line breaks kept in notes; refused when longer than `limit`."""
    text = typed.clean(str(text or ""), multiline=limit > 200).strip()
    if len(text) > limit:
        raise CaseError(f"This is {len(text):,} characters long; keep it to {limit:,} characters.")
    return text


def _check_sensitive(viewer: auth.Viewer, sensitive_note: str | None) -> None:
    if (sensitive_note or "").strip() and not viewer.may_write_sensitive:
        raise CaseError("Only the pastoral lead or an admin can record a sensitive note.")


def as_date(value: Any, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise CaseError(f"{label}: give a date.") from None


def clean_details(type_name: str, fields: tuple[str, ...], details: dict[str, Any] | None, opened_on: date,
                  fill_defaults: bool = True) -> dict[str, str]:
    """A type's extra fields checked and stored as text (dates ISO); defaults filled in."""
    details = {k: v for k, v in (details or {}).items() if v is not None and v != ""}
    unknown = set(details) - set(fields)
    if unknown:
        raise CaseError(f"{type_name} does not record {', '.join(sorted(unknown))}.")
    cleaned: dict[str, str] = {}
    for name in fields:
        spec = intervention_types.DETAIL_FIELDS.get(name, intervention_types.DetailField(name, "text"))
        value = details.get(name)
        if value is None and fill_defaults and spec.default is not None:
            value = opened_on if spec.default == "opened_on" else spec.default
        if value is None:
            if spec.required and fill_defaults:
                raise CaseError(f"{type_name}: fill in “{spec.label}”.")
            continue
        if spec.kind == "date":
            cleaned[name] = as_date(value, spec.label).isoformat()
        elif spec.kind == "choice":
            if value not in spec.options:
                raise CaseError(f"{spec.label}: choose one of {', '.join(spec.option_labels or spec.options)}.")
            cleaned[name] = str(value)
        else:
            cleaned[name] = _clean_text(str(value), 200)
    if cleaned.get("from_date") and cleaned.get("to_date") and cleaned["to_date"] < cleaned["from_date"]:
        raise CaseError("The leave ends before it starts.")
    return cleaned


def _type_row(db, type_name: str) -> pd.Series:
    types = intervention_types.intervention_types(db).set_index("name")
    if type_name not in types.index:
        raise CaseError(f"'{type_name}' is not an intervention type in use; choose one from the list.")
    return types.loc[type_name]


def _check_where_only(kind: pd.Series, summary: str | None, sensitive_note: str | None) -> None:
    if intervention_types.WHERE_ONLY_FIELD in kind["details"] and ((summary or "").strip()
                                                                 or (sensitive_note or "").strip()):
        raise CaseError("For a safeguarding referral record only where it is recorded — never the concern; "
                        "leave the summary and notes empty.")


def open_intervention(
    db: sqlite_utils.Database,
    viewer: auth.Viewer,
    pupil_id: int,
    type_name: str,
    owner: str,
    opened_on: date,
    summary: str = "",
    sensitive_note: str = "",
    review_on: date | None = None,
    check_in_on: date | None = None,
    details: dict[str, Any] | None = None,
    parent: str | None = None,
) -> int:
    """Record an action for a pupil; with `check_in_on`, also its first check-in.

    A penalty notice may name the `parent` it was issued to, and is refused when the
    framework allows that parent no further notice for this child (`penalty_notices.check_penalty_allowed`).
    """
    _require_writer(viewer)
    _check_sensitive(viewer, sensitive_note)
    kind = _type_row(db, type_name)
    _check_where_only(kind, summary, sensitive_note)
    if kind["needs_review_date"] and review_on is None:
        raise CaseError(f"A {type_name.lower()} needs a review date (normally within "
                        f"{REDUCED_TIMETABLE_REVIEW_WEEKS} weeks).")
    if review_on is not None and review_on < opened_on:
        raise CaseError("The review date is before the date the action started.")
    if check_in_on is not None and check_in_on < opened_on:
        raise CaseError("The check-in date is before the date the action started.")
    if not (owner or "").strip():
        raise CaseError("Every action needs an owner.")
    cleaned = clean_details(type_name, kind["details"], details, opened_on)
    penalty = intervention_types.PENALTY_FIELD in kind["details"]
    parent = " ".join(typed.clean(parent or "").split())
    if parent and not penalty:
        raise CaseError(f"A {type_name.lower()} is not issued to a parent; only a penalty notice records who it went to.")
    if len(parent) > 200:
        raise CaseError("Keep the parent's name under 200 characters.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if penalty:
            penalty_notices.check_penalty_allowed(db, viewer, pupil_id, parent,
                                                  date.fromisoformat(cleaned[intervention_types.PENALTY_FIELD]))
        cursor = conn.execute(
            "INSERT INTO interventions (pupil_id, type_id, tier, owner, opened_on, review_on, status, summary, "
            "sensitive_note, details, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            (int(pupil_id), int(kind["id"]), int(kind["tier"]), owner.strip(), opened_on.isoformat(),
             review_on.isoformat() if review_on else None, _clean_text(summary), _clean_text(sensitive_note),
             json.dumps(cleaned), viewer.username, store.now()),
        )
        intervention_id = cursor.lastrowid
        store.audit(conn, viewer.username, "intervention.open", "interventions", intervention_id,
                    {"pupil_id": int(pupil_id), "type": type_name, "owner": owner.strip()})
        if parent:
            conn.execute("INSERT INTO penalty_notice_parents (intervention_id, parent) VALUES (?, ?)",
                         (intervention_id, parent))
            store.audit(conn, viewer.username, "penalty_notice.parent", "interventions", intervention_id,
                        {"pupil_id": int(pupil_id), "parent": parent})
        if check_in_on is not None:
            _insert_checkin(conn, viewer, pupil_id, intervention_id, check_in_on, owner.strip())
    return intervention_id


def _insert_checkin(conn, viewer: auth.Viewer, pupil_id: int, intervention_id: int | None, due_on: date, owner: str) -> int:
    cursor = conn.execute(
        "INSERT INTO checkins (pupil_id, intervention_id, due_on, owner, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (int(pupil_id), intervention_id, due_on.isoformat(), owner, viewer.username, store.now()),
    )
    store.audit(conn, viewer.username, "checkin.schedule", "checkins", cursor.lastrowid,
                {"pupil_id": int(pupil_id), "due_on": due_on.isoformat(), "owner": owner})
    return cursor.lastrowid


INTERVENTION_KEYS = ["id", "pupil_id", "type_id", "owner", "opened_on", "review_on", "status", "summary", "outcome",
                     "sensitive_note", "details", "closed_on"]


def _intervention(conn, intervention_id: int) -> dict:
    row = conn.execute(f"SELECT {', '.join(INTERVENTION_KEYS)} FROM interventions WHERE id = ?",
                       (int(intervention_id),)).fetchone()
    if row is None:
        raise CaseError("That action no longer exists.")
    return dict(zip(INTERVENTION_KEYS, row))


EDITABLE = {"owner", "review_on", "summary", "sensitive_note", "details"}


def edit_intervention(db, viewer: auth.Viewer, intervention_id: int, **changes: Any) -> None:
    """Change an open action; the record before the change is kept in its history."""
    _require_writer(viewer)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise CaseError(f"These cannot be edited: {', '.join(sorted(unknown))}.")
    if "sensitive_note" in changes and not viewer.may_write_sensitive:
        raise CaseError("Only the pastoral lead or an admin can change a sensitive note.")
    if "owner" in changes and not (changes["owner"] or "").strip():
        raise CaseError("Every action needs an owner.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        _check_pupil(conn, viewer, before["pupil_id"])
        if before["status"] != "open":
            raise CaseError("This action is closed; open a new one instead.")
        kind_name, fields, needs_review = conn.execute(
            "SELECT name, details, needs_review_date FROM intervention_types WHERE id = ?",
            (before["type_id"],)).fetchone()
        opened_on = date.fromisoformat(before["opened_on"])
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "details":
                merged = {**json.loads(before["details"]), **(value or {})}
                cleaned = clean_details(kind_name, tuple(json.loads(fields)), merged, opened_on)
                issued = cleaned.get(intervention_types.PENALTY_FIELD)
                if issued and issued != json.loads(before["details"]).get(intervention_types.PENALTY_FIELD):
                    parent = conn.execute("SELECT parent FROM penalty_notice_parents WHERE intervention_id = ?",
                                          (int(intervention_id),)).fetchone()
                    penalty_notices.check_penalty_allowed(db, viewer, before["pupil_id"],
                                                          parent[0] if parent else None, date.fromisoformat(issued),
                                                          leaving_out=intervention_id)
                values[key] = json.dumps(cleaned)
            elif key == "review_on":
                if value is None and needs_review:
                    raise CaseError(f"A {kind_name.lower()} needs a review date.")
                if value is not None and value < opened_on:
                    raise CaseError("The review date is before the date the action started.")
                values[key] = value.isoformat() if value else None
            else:
                values[key] = _clean_text(value)
        if (intervention_types.WHERE_ONLY_FIELD in json.loads(fields)
                and (values.get("summary") or values.get("sensitive_note"))):
            raise CaseError("For a safeguarding referral record only where it is recorded — never the concern.")
        values = {k: v for k, v in values.items() if v != before[k]}
        if not values:
            return
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            f"UPDATE interventions SET {', '.join(f'{k} = ?' for k in values)}, updated_by = ?, updated_at = ? WHERE id = ?",
            (*values.values(), viewer.username, store.now(), int(intervention_id)),
        )
        store.audit(conn, viewer.username, "intervention.edit", "interventions", intervention_id,
                    {"fields": sorted(values)})


CLOSED_WITH_ACTION = "Not needed: the action was closed."


def close_intervention(db, viewer: auth.Viewer, intervention_id: int, outcome: str, closed_on: date) -> None:
    """Close an action with its outcome; the record stays, with its history.

    Its check-ins still outstanding are recorded as done on the closing date ("not
    needed"), so they leave the overdue lists but stay in the pupil's chronology.
    """
    _require_writer(viewer)
    if not (outcome or "").strip():
        raise CaseError("Say what the outcome was before closing the action.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        _check_pupil(conn, viewer, before["pupil_id"])
        if before["status"] == "closed":
            raise CaseError("This action is already closed.")
        if closed_on < date.fromisoformat(before["opened_on"]):
            raise CaseError("The closing date is before the action started.")
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            "UPDATE interventions SET status = 'closed', outcome = ?, closed_on = ?, updated_by = ?, updated_at = ? "
            "WHERE id = ?",
            (_clean_text(outcome), closed_on.isoformat(), viewer.username, store.now(), int(intervention_id)),
        )
        store.audit(conn, viewer.username, "intervention.close", "interventions", intervention_id, {})
        outstanding = [row[0] for row in conn.execute(
            "SELECT id FROM checkins WHERE intervention_id = ? AND done_on IS NULL", (int(intervention_id),))]
        for checkin_id in outstanding:
            conn.execute("UPDATE checkins SET done_on = ?, done_by = ?, outcome = ? WHERE id = ?",
                         (closed_on.isoformat(), viewer.username, CLOSED_WITH_ACTION, checkin_id))
            store.audit(conn, viewer.username, "checkin.complete", "checkins", checkin_id,
                        {"pupil_id": before["pupil_id"], "with_action": int(intervention_id)})


def _keep_history(conn, viewer: auth.Viewer, intervention_id: int, before: dict) -> None:
    conn.execute(
        "INSERT INTO intervention_history (intervention_id, changed_by, changed_at, before) VALUES (?, ?, ?, ?)",
        (int(intervention_id), viewer.username, store.now(), json.dumps(before)),
    )


def schedule_checkin(db, viewer: auth.Viewer, pupil_id: int, due_on: date, owner: str, intervention_id: int | None = None) -> int:
    _require_writer(viewer)
    if not (owner or "").strip():
        raise CaseError("Every check-in needs an owner.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if intervention_id is not None:
            action = _intervention(conn, intervention_id)
            if action["pupil_id"] != int(pupil_id):
                raise CaseError("That action is for another pupil.")
        return _insert_checkin(conn, viewer, pupil_id, intervention_id, due_on, owner.strip())


def complete_checkin(db, viewer: auth.Viewer, checkin_id: int, done_on: date, outcome: str, note: str = "",
                     next_due_on: date | None = None) -> int | None:
    """Record a check-in as done; with `next_due_on`, schedule the next one for the same owner."""
    _require_writer(viewer)
    if not (outcome or "").strip():
        raise CaseError("Say how the check-in went.")
    if next_due_on is not None and next_due_on < done_on:
        raise CaseError("The next check-in is before this one was done.")
    with store.transaction(db) as conn:
        row = conn.execute("SELECT pupil_id, intervention_id, owner, done_on FROM checkins WHERE id = ?",
                           (int(checkin_id),)).fetchone()
        if row is None:
            raise CaseError("That check-in no longer exists.")
        _check_pupil(conn, viewer, row[0])
        if row[3] is not None:
            raise CaseError("This check-in has already been done.")
        conn.execute("UPDATE checkins SET done_on = ?, done_by = ?, outcome = ?, note = ? WHERE id = ?",
                     (done_on.isoformat(), viewer.username, _clean_text(outcome), _clean_text(note), int(checkin_id)))
        store.audit(conn, viewer.username, "checkin.complete", "checkins", checkin_id, {"pupil_id": row[0]})
        if next_due_on is not None:
            return _insert_checkin(conn, viewer, row[0], row[1], next_due_on, row[2])
    return None


def log_contact(db, viewer: auth.Viewer, pupil_id: int, kind: str, contact_on: date, with_whom: str,
                summary: str = "", sensitive_note: str = "", intervention_id: int | None = None) -> int:
    """A call, letter, email, meeting or home visit with parents or agencies."""
    _require_writer(viewer)
    _check_sensitive(viewer, sensitive_note)
    if kind not in CONTACT_KINDS:
        raise CaseError(f"Choose the kind of contact: {', '.join(CONTACT_KINDS.values())}.")
    if not (with_whom or "").strip():
        raise CaseError("Say who the contact was with (e.g. mother, social worker).")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if intervention_id is not None and _intervention(conn, intervention_id)["pupil_id"] != int(pupil_id):
            raise CaseError("That action is for another pupil.")
        cursor = conn.execute(
            "INSERT INTO contacts (pupil_id, intervention_id, kind, with_whom, contact_on, summary, sensitive_note, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(pupil_id), intervention_id, kind, _clean_text(with_whom, 200), contact_on.isoformat(),
             _clean_text(summary), _clean_text(sensitive_note), viewer.username, store.now()),
        )
        store.audit(conn, viewer.username, "contact.log", "contacts", cursor.lastrowid,
                    {"pupil_id": int(pupil_id), "kind": kind})
        return cursor.lastrowid


def assign_key_adult(db, viewer: auth.Viewer, pupil_id: int, staff_username: str) -> None:
    """Allocate a vulnerable pupil to a key member of staff (replacing any earlier one)."""
    _require_writer(viewer)
    staff = db.execute("SELECT active FROM users WHERE username = ?", (staff_username,)).fetchone()
    if staff is None or not staff[0]:
        raise CaseError(f"'{staff_username}' is not a member of staff who can sign in.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        conn.execute(
            "INSERT INTO key_adults (pupil_id, username, assigned_on, assigned_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(pupil_id) DO UPDATE SET username = excluded.username, "
            "assigned_on = excluded.assigned_on, assigned_by = excluded.assigned_by",
            (int(pupil_id), staff_username, store.now(), viewer.username),
        )
        store.audit(conn, viewer.username, "key_adult.assign", "key_adults", pupil_id, {"key_adult": staff_username})


# --- reading -----------------------------------------------------------------------

# Audit entities of case work: their newest entry stamps cached case data.
CASE_ENTITIES = ("interventions", "checkins", "contacts", "key_adults", "intervention_types",
                 "support_plans", "support_plan_actions", "support_plan_targets", "support_plan_reviews")


def stamp(db) -> int:
    """Changes whenever case work is written (every write is audited): a key for caches."""
    row = db.execute("SELECT id FROM audit WHERE entity IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT 1",
                     (json.dumps(CASE_ENTITIES),)).fetchone()
    return row[0] if row else 0


def _in_scope(sql: str, pupil_ids: list[int] | None, params: list, column: str = "i.pupil_id") -> str:
    """Restrict a query to the given pupils (None = every pupil)."""
    if pupil_ids is None:
        return sql
    params.append(json.dumps([int(p) for p in pupil_ids]))
    return sql + f" AND {column} IN (SELECT value FROM json_each(?))"


def redact(frame: pd.DataFrame, viewer: auth.Viewer) -> pd.DataFrame:
    """Hide what the viewer may not read: every note for viewers, sensitive notes for most,
    and who a contact was with (often a parent's name) for viewers and on a shared screen."""
    hidden = [] if viewer.sees_notes else list(NOTE_COLUMNS)
    if not viewer.sees_sensitive:
        hidden += list(SENSITIVE_COLUMNS)
    if not viewer.sees_contacts:
        hidden += ["with_whom"]
    return frame.drop(columns=[c for c in hidden if c in frame.columns])


def interventions(db, viewer: auth.Viewer, pupil_ids: list[int] | None = None, status: str | None = None,
                  owner: str | None = None) -> pd.DataFrame:
    """Actions with their type and pupil, newest first, redacted for the viewer."""
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, t.name AS type, i.tier, "
        "i.owner, i.opened_on, i.review_on, i.status, i.summary, i.outcome, i.sensitive_note, i.details, i.closed_on, "
        "i.created_by, i.updated_by "
        "FROM interventions i JOIN pupils p ON p.id = i.pupil_id JOIN intervention_types t ON t.id = i.type_id "
        "WHERE 1 = 1", visible_pupil_ids(db, viewer, pupil_ids), params)
    if status:
        sql += " AND i.status = ?"
        params.append(status)
    if owner:
        sql += " AND i.owner = ?"
        params.append(owner)
    frame = _frame(db, sql + " ORDER BY i.opened_on DESC, i.id DESC", params)
    frame = frame.assign(
        opened_on=_dates(frame["opened_on"]), review_on=_dates(frame["review_on"]), closed_on=_dates(frame["closed_on"]),
        details=frame["details"].map(json.loads), tier_name=frame["tier"].map(intervention_types.TIERS))
    return redact(names_off_shared_screen(db, frame, viewer), viewer)


def names_known(db, pupil_ids) -> dict[int, list[tuple[str, str]]]:
    """For each pupil, the names a note about them may not show on a shared screen and what
    shows instead (privacy.name_replacements): theirs, their parents' and carers' from the
    roll, and whoever a penalty notice for them went to (a summary the app wrote names them)."""
    wanted = json.dumps(sorted({int(p) for p in pupil_ids}))
    rows = db.execute("SELECT id, surname, forename, contact1_name, contact2_name FROM pupils "
                      "WHERE id IN (SELECT value FROM json_each(?))", (wanted,)).fetchall()
    notices: dict[int, list[str]] = {}
    for pupil_id, parent in db.execute(
            "SELECT i.pupil_id, n.parent FROM penalty_notice_parents n JOIN interventions i ON i.id = n.intervention_id "
            "WHERE i.pupil_id IN (SELECT value FROM json_each(?))", (wanted,)).fetchall():
        notices.setdefault(pupil_id, []).append(parent)
    return {pupil_id: privacy.name_replacements(surname, forename, [c for c in (first, second) if c]
                                                + notices.get(pupil_id, []))
            for pupil_id, surname, forename, first, second in rows}


def names_off_shared_screen(db, frame: pd.DataFrame, viewer: auth.Viewer,
                            columns: tuple[str, ...] = NOTE_COLUMNS) -> pd.DataFrame:
    """The notes of `frame` (one pupil per row, `pupil_id`) as a shared screen shows them: the
    pupil's names as initials and their parents' and carers' names as "the parent/carer" —
    a summary the app wrote ("Issued to Jane Smith: ...") or a note someone typed. Unchanged
    for a reader at their own screen."""
    notes = [c for c in columns if c in frame.columns]
    if not viewer.shared_screen or frame.empty or not notes:
        return frame
    known = names_known(db, frame["pupil_id"])
    return frame.assign(**{column: [privacy.without_names(text, known.get(int(p), [])) if isinstance(text, str) else text
                                    for p, text in zip(frame["pupil_id"], frame[column])] for column in notes})


def checkins(db, viewer: auth.Viewer, today: date, pupil_ids: list[int] | None = None, owner: str | None = None,
             outstanding_only: bool = True) -> pd.DataFrame:
    """Check-ins with `overdue` (due before today, not done) and `days_overdue`; the caseload and overdue lists."""
    params: list = []
    sql = _in_scope(
        "SELECT c.id, c.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, c.intervention_id, "
        "t.name AS type, c.due_on, c.owner, c.done_on, c.done_by, c.outcome, c.note, c.created_by "
        "FROM checkins c JOIN pupils p ON p.id = c.pupil_id "
        "LEFT JOIN interventions i ON i.id = c.intervention_id "
        "LEFT JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1",
        visible_pupil_ids(db, viewer, pupil_ids), params, column="c.pupil_id")
    if owner:
        sql += " AND c.owner = ?"
        params.append(owner)
    if outstanding_only:
        sql += " AND c.done_on IS NULL"
    frame = _frame(db, sql + " ORDER BY c.due_on, c.id", params)
    due = pd.to_datetime(frame["due_on"])
    late = (pd.Timestamp(today) - due).dt.days
    overdue = frame["done_on"].isna() & (late > 0)
    frame = frame.assign(due_on=_dates(frame["due_on"]), done_on=_dates(frame["done_on"]),
                         overdue=overdue.astype(bool), days_overdue=late.where(overdue, 0).fillna(0).astype("int64"))
    return redact(names_off_shared_screen(db, frame, viewer), viewer)


def contacts(db, viewer: auth.Viewer, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Contacts with parents and agencies, newest first, redacted for the viewer."""
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, i.intervention_id, i.kind, i.with_whom, i.contact_on, i.summary, "
        "i.sensitive_note, i.created_by FROM contacts i WHERE 1 = 1", visible_pupil_ids(db, viewer, pupil_ids), params)
    frame = _frame(db, sql + " ORDER BY i.contact_on DESC, i.id DESC", params)
    frame = frame.assign(contact_on=_dates(frame["contact_on"]), kind_label=frame["kind"].map(CONTACT_KINDS))
    return redact(names_off_shared_screen(db, frame, viewer), viewer)


def staff_names(db) -> dict[str, str]:
    """username → the name colleagues know them by (for owners and authors)."""
    return dict(db.execute("SELECT username, name FROM users").fetchall())


# An owner is a username (staff who sign in) or a named person who does not (a tutor, the
# education welfare officer, the school nurse), kept as "Name (role)": with its space and
# brackets it can never be a username (auth.USERNAME_PATTERN), so the two never mix, and
# every screen that shows `staff.get(owner, owner)` shows it as written.
NAMED_OWNER_ROLES = ("Form tutor", "Head of year", "Education welfare officer", "School nurse",
                     "Family support worker", "SENCo", "Teacher", "Outside agency")


def named_owner(name: str, role: str) -> str:
    """The owner value for someone who does not sign in: "Name (role)"."""
    name, role = " ".join((name or "").split()), " ".join((role or "").split())
    if not name:
        raise CaseError("Give the name of the person who will own it, e.g. Mr Khan.")
    if not role:
        raise CaseError("Say what their role is, e.g. form tutor or school nurse.")
    if len(name) > 80 or len(role) > 60:
        raise CaseError("Keep the name under 80 characters and the role under 60.")
    if any(c in name + role for c in "()"):
        raise CaseError("Leave brackets out of the name and role; they are added for you.")
    return f"{name} ({role})"


def named_owners(db, limit: int = 30) -> list[str]:
    """Owners named so far who are not users, most recently used first (to offer again)."""
    rows = db.execute(
        "SELECT owner, MAX(at) FROM (SELECT owner, created_at AS at FROM interventions UNION ALL "
        "SELECT owner, created_at AS at FROM checkins) WHERE owner NOT IN (SELECT username FROM users) "
        "AND owner LIKE '% (%)' GROUP BY owner ORDER BY MAX(at) DESC LIMIT ?", (int(limit),)).fetchall()
    return [row[0] for row in rows]


def key_adults(db, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """pupil_id → key_adult (username) and key_adult_name."""
    params: list = []
    sql = _in_scope("SELECT k.pupil_id, k.username AS key_adult, COALESCE(u.name, k.username) AS key_adult_name "
                    "FROM key_adults k LEFT JOIN users u ON u.username = k.username WHERE 1 = 1",
                    pupil_ids, params, column="k.pupil_id")
    return _frame(db, sql, params)


LATEST_COLUMNS = ["pupil_id", "last_action", "last_action_on", "next_check_in", "check_in_overdue"]


def latest_actions(db, pupil_ids: list[int] | None = None, today: date | None = None) -> pd.DataFrame:
    """Per pupil: the latest action (an intervention opened or a contact made) and its date,
    and the next outstanding check-in with whether it is overdue (for the PA list).

    Holds no notes, so one frame serves every role; callers keep the rows of their pupils.
    """
    params = []
    actions_sql = _in_scope(
        "SELECT i.pupil_id, t.name, i.opened_on, i.created_at FROM interventions i "
        "JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1", pupil_ids, params)
    contacts_sql = _in_scope(
        f"SELECT i.pupil_id, {_contact_label_sql()}, i.contact_on, i.created_at FROM contacts i WHERE 1 = 1",
        pupil_ids, params)
    done = _frame(db,
                  "SELECT pupil_id, last_action, last_action_on FROM (SELECT pupil_id, name AS last_action, "
                  "opened_on AS last_action_on, ROW_NUMBER() OVER (PARTITION BY pupil_id ORDER BY opened_on DESC, "
                  f"created_at DESC) AS n FROM ({actions_sql} UNION ALL {contacts_sql})) WHERE n = 1", params)
    params = []
    due = _frame(db, _in_scope(
        "SELECT i.pupil_id, MIN(i.due_on) AS next_check_in FROM checkins i WHERE i.done_on IS NULL",
        pupil_ids, params) + " GROUP BY i.pupil_id", params)
    merged = done.merge(due, on="pupil_id", how="outer")
    today = today or date.today()
    overdue = pd.to_datetime(merged["next_check_in"]) < pd.Timestamp(today)
    return merged.assign(last_action_on=_dates(merged["last_action_on"]), next_check_in=_dates(merged["next_check_in"]),
                         check_in_overdue=overdue.to_numpy(dtype=bool))[LATEST_COLUMNS]


def _contact_label_sql() -> str:
    """SQL naming a contact's kind in words, from CONTACT_KINDS."""
    whens = " ".join(f"WHEN '{kind}' THEN '{label}'" for kind, label in CONTACT_KINDS.items())
    return f"CASE i.kind {whens} ELSE i.kind END"


def _frame(db, sql: str, params: list) -> pd.DataFrame:
    cursor = db.execute(sql, params)
    return pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])


def _dates(values: pd.Series) -> pd.Series:
    return values.map(lambda v: date.fromisoformat(v[:10]) if isinstance(v, str) and v else None).astype(object)


# --- lists the team works from ----------------------------------------------------------


def without_recent_action(db, figures: pd.DataFrame, today: date, days: int) -> pd.DataFrame:
    """Persistently absent pupils (of `figures`, already the caller's scope) with no action
    — no intervention opened and no contact made — in the `days` days up to `today`."""
    pa = figures[figures["persistently_absent"]]
    latest = latest_actions(db, pa["pupil_id"].tolist(), today)
    merged = pa.merge(latest, on="pupil_id", how="left")
    last = pd.to_datetime(merged["last_action_on"])
    stale = last.isna() | (last < pd.Timestamp(today - timedelta(days=days)))
    return merged[stale.to_numpy()].reset_index(drop=True)


def reduced_timetables_due(db, viewer: auth.Viewer, today: date, within_days: int = REVIEW_SOON_DAYS,
                           pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Open actions of a type that needs a review date (a reduced timetable) whose review
    date has passed or falls within `within_days`, soonest first, with `review_overdue`."""
    types = intervention_types.intervention_types(db, include_inactive=True)
    reviewed = set(types.loc[types["needs_review_date"], "name"])
    open_actions = interventions(db, viewer, pupil_ids, status="open")
    due = open_actions[open_actions["type"].isin(reviewed) & open_actions["review_on"].notna()]
    review = pd.to_datetime(due["review_on"])
    due = due[(review <= pd.Timestamp(today + timedelta(days=within_days))).to_numpy()]
    return (due.assign(review_overdue=(pd.to_datetime(due["review_on"]) < pd.Timestamp(today)).to_numpy())
            .sort_values(["review_on", "id"]).reset_index(drop=True))
