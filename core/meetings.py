"""The weekly pastoral meeting: the agenda for its date, decisions that become actions, and minutes.

The agenda (SCREENS.md "Meeting") lists each pupil who needs the room's attention since the
last meeting — or, before the first meeting, since the previous upload — for the reasons in
AGENDA_KINDS: a statutory trigger reached, newly severely or persistently absent, a reduced
timetable due for review, a check-in overdue, or persistently absent with no action in the
last `no_action_days` days. A decision opens an action through core/cases.py (with its
owner and check-in) and is kept in the minutes in the same transaction; every write is
audited. Callers restrict pupils to the user's scope by passing `pupil_ids`, as in cases.
The minutes are shown and exported as a table (`minutes_table`), a CSV and a PDF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, intervention_types, marks, metrics, patterns, privacy, reads, store, triggers
from core import text as typed
from core.calendar import uk_date
from core.exports import csv_bytes
from core.pdf import Document

TRIGGER = "trigger"
NEWLY_SEVERE = "newly_severe"
NEWLY_PERSISTENT = "newly_persistent"
REVIEW_DUE = "reduced_timetable_review"
CHECKIN_OVERDUE = "checkin_overdue"
NO_RECENT_ACTION = "no_recent_action"

# Why a pupil is on the agenda, most pressing first (the order the meeting takes them in).
AGENDA_KINDS: dict[str, str] = {
    TRIGGER: "Statutory trigger reached",
    NEWLY_SEVERE: "Newly severely absent (50% or below)",
    NEWLY_PERSISTENT: "Newly persistently absent (90% or below)",
    REVIEW_DUE: "Reduced timetable due for review",
    CHECKIN_OVERDUE: "Check-in overdue",
    NO_RECENT_ACTION: "Persistently absent, no recent action",
}
ITEM_COLUMNS = ["pupil_id", "kind", "label", "detail", "on"]
PUPIL_COLUMNS = ["pupil_id", "upn", "surname", "forename", "form", "year_group", "section", "attendance_pct",
                 "possible_sessions", "authorised_sessions", "unauthorised_sessions", "persistently_absent",
                 "severely_absent", "kinds", "reasons", "priority"]


@dataclass(frozen=True)
class Decision:
    """A decision the meeting can take in one click: the action it opens (None: the minutes
    record it and a check-in is booked, nothing else)."""

    key: str
    label: str
    action_type: str | None


DECISIONS: tuple[Decision, ...] = (
    Decision("letter", "Attendance letter", "Attendance letter (stage 1)"),
    Decision("family_meeting", "Meet the family", "Attendance meeting / clinic"),
    Decision("home_visit", "Home visit", "Home visit"),
    Decision("mentoring", "Mentoring / ELSA", "ELSA or mentoring sessions"),
    Decision("early_help", "Early Help referral", "Early Help referral"),
    Decision("notify_la", "Notify the LA", "Referral to the local authority (statutory trigger)"),
    Decision("formal_warning", "Formal warning", "Attendance letter (stage 3 — formal warning)"),
    Decision("monitor", "Keep monitoring", None),
)
DECISION_BY_KEY = {d.key: d for d in DECISIONS}


class MeetingError(ValueError):
    """A meeting entry that cannot be saved, with a message for the user."""


# --- the agenda ------------------------------------------------------------------------


@dataclass(frozen=True)
class Agenda:
    meeting_on: date
    as_of: date | None  # the data the figures count (the last marks on or before the meeting)
    since: date | None  # what "new" is counted from
    since_reason: str
    items: pd.DataFrame  # one row per pupil per reason: ITEM_COLUMNS
    pupils: pd.DataFrame  # one row per pupil on the agenda, in the order to take them: PUPIL_COLUMNS

    def counts(self) -> dict[str, int]:
        """Pupils on the agenda for each reason, in AGENDA_KINDS order."""
        by_kind = self.items.groupby("kind")["pupil_id"].nunique()
        return {kind: int(by_kind.get(kind, 0)) for kind in AGENDA_KINDS}


def scope_label(sections: tuple[str, ...] | list[str] | None) -> str:
    """How a meeting's scope is stored: '' for the whole school, else its sections."""
    return ", ".join(sorted(sections)) if sections else ""


def last_meeting_before(db: sqlite_utils.Database, day: date, scopes: list[str] | None = None) -> dict | None:
    """The latest meeting held before `day` (any scope, or one of `scopes`)."""
    params: list[Any] = [day.isoformat()]
    sql = "SELECT id, held_on, scope FROM meetings WHERE held_on < ?"
    if scopes is not None:
        sql += " AND scope IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(scopes)))
    row = db.execute(sql + " ORDER BY held_on DESC, id DESC LIMIT 1", params).fetchone()
    return None if row is None else {"id": row[0], "held_on": date.fromisoformat(row[1]), "scope": row[2]}


def agenda_since(db: sqlite_utils.Database, meeting_on: date, scopes: list[str] | None = None) -> tuple[date | None, str]:
    """What the agenda counts "new" from: the last meeting, else the previous upload."""
    last = last_meeting_before(db, meeting_on, scopes)
    if last:
        return last["held_on"], f"since the meeting of {uk_date(last['held_on'])}"
    previous = patterns.previous_data_as_at(db)
    if previous and previous < meeting_on:
        return previous, f"since the upload of data as at {uk_date(previous)} (no earlier meeting)"
    return None, "no earlier meeting or upload to compare with, so every trigger this year is listed"


def agenda(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_on: date, pupil_ids: list[int] | None = None,
           scopes: list[str] | None = None) -> Agenda:
    """The agenda for a meeting on `meeting_on`, over the given pupils (None: everyone)."""
    since, since_reason = agenda_since(db, meeting_on, scopes)
    span = marks.mark_date_range(db)
    if span is None or span[0] > meeting_on:
        return Agenda(meeting_on, None, since, since_reason, pd.DataFrame(columns=ITEM_COLUMNS),
                      pd.DataFrame(columns=PUPIL_COLUMNS))
    as_of = min(meeting_on, span[1])
    period = metrics.Period(calendar.academic_year_start(as_of), as_of)
    settings = store.get_settings(db)
    path = reads.path_of(db)
    version = reads.version(path)
    figures = reads.pupil_figures(path, version, period.date_from, period.as_of)
    figures = figures[figures["possible_sessions"] > 0]
    scope = None if pupil_ids is None else tuple(int(p) for p in pupil_ids)
    if scope is not None:
        figures = figures[figures["pupil_id"].isin(scope)]

    found = [
        _triggers_since(path, version, as_of, since, figures),
        _newly_absent(path, version, period, since, scope, figures),
        _reviews_due(db, viewer, meeting_on, int(settings["review_due_within_days"]), pupil_ids),
        _overdue_checkins(db, viewer, meeting_on, pupil_ids),
        _without_action(db, figures, meeting_on, int(settings["no_action_days"])),
    ]
    items = pd.concat([f for f in found if not f.empty], ignore_index=True) if any(
        not f.empty for f in found) else pd.DataFrame(columns=ITEM_COLUMNS)
    return Agenda(meeting_on, as_of, since, since_reason, items[ITEM_COLUMNS], _agenda_pupils(db, items, figures))


def _item(frame: pd.DataFrame, kind: str, detail: pd.Series | list, on: pd.Series | list) -> pd.DataFrame:
    return pd.DataFrame({"pupil_id": frame["pupil_id"].astype("int64").to_numpy(), "kind": kind,
                         "label": AGENDA_KINDS[kind], "detail": list(detail), "on": list(on)}, columns=ITEM_COLUMNS)


def _triggers_since(path: str, version: reads.Version, as_of: date, since: date | None,
                    figures: pd.DataFrame) -> pd.DataFrame:
    reached = reads.triggers_reached(path, version, as_of)
    reached = reached[reached["pupil_id"].isin(figures["pupil_id"])]
    if since is not None:
        reached = reached[reached["reached_on"].map(lambda d: d > since).astype(bool)]
    details = [f"{triggers.BY_ID[t].label} on {uk_date(d)} — {triggers.BY_ID[t].next_step}"
               for t, d in zip(reached["trigger"], reached["reached_on"])]
    return _item(reached, TRIGGER, details, reached["reached_on"])


def _newly_absent(path: str, version: reads.Version, period: metrics.Period, since: date | None,
                  scope: tuple[int, ...] | None, figures: pd.DataFrame) -> pd.DataFrame:
    if since is None or since >= period.as_of:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    change = reads.change_since(path, version, period.date_from, period.as_of, since, scope)
    change = change[change["pupil_id"].isin(figures["pupil_id"])].merge(
        figures[["pupil_id", "attendance_pct"]], on="pupil_id")
    severe = change[change["newly_severe"]]
    persistent = change[change["newly_persistent"] & ~change["newly_severe"]]

    def detail(rows: pd.DataFrame) -> list[str]:
        return [f"Attendance {now:.1f}%" + ("" if pd.isna(then) else f", was {then:.1f}% on {uk_date(since)}")
                for now, then in zip(rows["attendance_pct"], rows["attendance_pct_before"])]

    return pd.concat([_item(severe, NEWLY_SEVERE, detail(severe), [period.as_of] * len(severe)),
                      _item(persistent, NEWLY_PERSISTENT, detail(persistent), [period.as_of] * len(persistent))],
                     ignore_index=True)


def _reviews_due(db, viewer, meeting_on: date, within_days: int, pupil_ids) -> pd.DataFrame:
    due = cases.reduced_timetables_due(db, viewer, meeting_on, within_days, pupil_ids)
    details = [f"Review {'was due' if overdue else 'due'} {uk_date(d)} (owner {owner})"
               for d, overdue, owner in zip(due["review_on"], due["review_overdue"], due["owner"])]
    return _item(due, REVIEW_DUE, details, due["review_on"])


def _overdue_checkins(db, viewer, meeting_on: date, pupil_ids) -> pd.DataFrame:
    due = cases.checkins(db, viewer, meeting_on, pupil_ids)
    due = due[due["overdue"]]
    details = [f"Check-in was due {uk_date(d)} (owner {owner})" + (f" for {kind}" if isinstance(kind, str) else "")
               for d, owner, kind in zip(due["due_on"], due["owner"], due["type"])]
    return _item(due, CHECKIN_OVERDUE, details, due["due_on"])


def _without_action(db, figures: pd.DataFrame, meeting_on: date, days: int) -> pd.DataFrame:
    stale = cases.without_recent_action(db, figures, meeting_on, days)
    details = [f"No action in the last {days} days" + (f" (last: {kind}, {uk_date(d)})" if isinstance(kind, str)
                                                       else " (none recorded yet)")
               for kind, d in zip(stale["last_action"], stale["last_action_on"])]
    return _item(stale, NO_RECENT_ACTION, details, stale["last_action_on"])


def _agenda_pupils(db, items: pd.DataFrame, figures: pd.DataFrame) -> pd.DataFrame:
    if items.empty:
        return pd.DataFrame(columns=PUPIL_COLUMNS)
    order = {kind: i for i, kind in enumerate(AGENDA_KINDS)}
    ranked = items.assign(rank=items["kind"].map(order)).sort_values(["pupil_id", "rank"])
    per_pupil = ranked.groupby("pupil_id").agg(
        kinds=("kind", lambda k: list(dict.fromkeys(k))), reasons=("label", lambda k: list(dict.fromkeys(k))),
        priority=("rank", "min"))
    pupils = figures.merge(per_pupil, left_on="pupil_id", right_index=True)
    return pupils.sort_values(["priority", "attendance_pct", "surname", "forename"], ignore_index=True)[PUPIL_COLUMNS]


# --- minutes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Minutes:
    id: int
    held_on: date
    scope: str
    since: date | None
    attendees: list[str]
    notes: str
    status: str
    created_by: str
    items: pd.DataFrame = field(repr=False)  # ITEMS_COLUMNS, in the order decided
    # Per pupil discussed, the names their notes may not show on a shared screen (cases.names_known).
    names: dict = field(default_factory=dict, repr=False)

    @property
    def actions_created(self) -> int:
        return int(self.items["intervention_id"].notna().sum())


ITEMS_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "agenda", "decision", "action",
                 "intervention_id", "checkin_id", "owner", "owner_name", "check_in_on", "note", "created_by",
                 "created_at"]


def _require_writer(viewer: auth.Viewer) -> None:
    if not viewer.may_write:
        raise MeetingError("Your role can read the minutes but not record a meeting.")


def _clean(text: str | None, limit: int = 20000) -> str:
    text = typed.clean(text or "", multiline=True).strip()  # no control characters (core/text.py)
    if len(text) > limit:
        raise MeetingError(f"Keep it under {limit} characters.")
    return text


def _attendees(attendees: list[str] | None) -> list[str]:
    names = (typed.clean(a).strip()[:typed.NAME_LIMIT] for a in attendees or [] if a)
    return list(dict.fromkeys(a for a in names if a))


def start_meeting(db: sqlite_utils.Database, viewer: auth.Viewer, held_on: date, attendees: list[str] | None = None,
                  scope: str = "", since: date | None = None) -> int:
    """Open the minutes of a meeting on `held_on`; returns its id."""
    _require_writer(viewer)
    with store.transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO meetings (held_on, scope, since, attendees, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (held_on.isoformat(), scope, since.isoformat() if since else None, json.dumps(_attendees(attendees)),
             viewer.username, store.now()))
        store.audit(conn, viewer.username, "meeting.start", "meetings", cursor.lastrowid,
                    {"held_on": held_on.isoformat(), "scope": scope})
        return cursor.lastrowid


def _meeting(conn, meeting_id: int) -> dict:
    row = conn.execute("SELECT id, held_on, status FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
    if row is None:
        raise MeetingError("That meeting is not in the store.")
    return {"id": row[0], "held_on": date.fromisoformat(row[1]), "status": row[2]}


def _open_meeting(conn, meeting_id: int) -> dict:
    meeting = _meeting(conn, meeting_id)
    if meeting["status"] != "open":
        raise MeetingError("These minutes are finished; start a new meeting to record more.")
    return meeting


def save_minutes(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int,
                 attendees: list[str] | None = None, notes: str | None = None) -> None:
    """Change who attended and the free-text notes of an open meeting."""
    _require_writer(viewer)
    changes: dict[str, str] = {}
    if attendees is not None:
        changes["attendees"] = json.dumps(_attendees(attendees))
    if notes is not None:
        changes["notes"] = _clean(notes)
    if not changes:
        return
    with store.transaction(db) as conn:
        _open_meeting(conn, meeting_id)
        conn.execute(f"UPDATE meetings SET {', '.join(f'{k} = ?' for k in changes)}, updated_by = ?, updated_at = ? "
                     "WHERE id = ?", (*changes.values(), viewer.username, store.now(), meeting_id))
        store.audit(conn, viewer.username, "meeting.minutes", "meetings", meeting_id, {"fields": sorted(changes)})


def finish_meeting(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int) -> None:
    """Close the minutes: nothing more is added to them."""
    _require_writer(viewer)
    with store.transaction(db) as conn:
        _open_meeting(conn, meeting_id)
        conn.execute("UPDATE meetings SET status = 'closed', updated_by = ?, updated_at = ? WHERE id = ?",
                     (viewer.username, store.now(), meeting_id))
        store.audit(conn, viewer.username, "meeting.finish", "meetings", meeting_id, {})


def record_decision(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int, pupil_id: int,
                    decision: str, owner: str, check_in_on: date | None, agenda_kinds: list[str] | None = None,
                    action_type: str | None = None, note: str = "") -> int:
    """The meeting's decision about one pupil: opens the action (`decision` a key of
    DECISION_BY_KEY, or `action_type` any intervention type) with its owner and check-in,
    or for "keep monitoring" books the check-in, and records it in the minutes — all in
    one transaction. Returns the minutes item's id."""
    _require_writer(viewer)
    chosen = DECISION_BY_KEY.get(decision)
    if chosen is None and not action_type:
        raise MeetingError("Choose what the meeting decided.")
    action_type = action_type or chosen.action_type
    label = chosen.label if chosen and not (action_type and chosen.action_type != action_type) else action_type
    if not owner:
        raise MeetingError("Every decision needs an owner.")
    note = _clean(note, 5000)
    with store.transaction(db) as conn:
        meeting = _open_meeting(conn, meeting_id)
        if check_in_on is not None and check_in_on < meeting["held_on"]:
            raise MeetingError("The check-in date is before the meeting.")
        intervention_id = checkin_id = None
        try:
            if action_type:
                summary = f"Agreed at the pastoral meeting of {uk_date(meeting['held_on'])}." + (f" {note}" if note else "")
                needs_review = intervention_types.intervention_types(db).set_index("name")["needs_review_date"].get(action_type)
                intervention_id = cases.open_intervention(
                    db, viewer, pupil_id, action_type, owner, meeting["held_on"], summary=summary,
                    check_in_on=check_in_on, review_on=check_in_on if needs_review else None)
                row = conn.execute("SELECT id FROM checkins WHERE intervention_id = ? ORDER BY id DESC LIMIT 1",
                                   (intervention_id,)).fetchone()
                checkin_id = row[0] if row else None
            elif check_in_on is not None:
                checkin_id = cases.schedule_checkin(db, viewer, pupil_id, check_in_on, owner)
        except cases.CaseError as error:
            raise MeetingError(str(error)) from error
        cursor = conn.execute(
            "INSERT INTO meeting_items (meeting_id, pupil_id, agenda, decision, intervention_id, checkin_id, owner, "
            "check_in_on, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (meeting_id, pupil_id, json.dumps(list(agenda_kinds or [])), label, intervention_id, checkin_id, owner,
             check_in_on.isoformat() if check_in_on else None, note, viewer.username, store.now()))
        store.audit(conn, viewer.username, "meeting.decision", "meeting_items", cursor.lastrowid,
                    {"meeting_id": meeting_id, "pupil_id": pupil_id, "decision": label,
                     "intervention_id": intervention_id})
        return cursor.lastrowid


def meetings(db: sqlite_utils.Database, scopes: list[str] | None = None) -> pd.DataFrame:
    """Every meeting (or those of the given scopes), newest first, with how many decisions each holds."""
    params: list[Any] = []
    sql = ("SELECT m.id, m.held_on, m.scope, m.status, m.attendees, m.created_by, COUNT(i.id) AS decisions "
           "FROM meetings m LEFT JOIN meeting_items i ON i.meeting_id = m.id WHERE 1 = 1")
    if scopes is not None:
        sql += " AND m.scope IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(scopes)))
    cursor = db.execute(sql + " GROUP BY m.id ORDER BY m.held_on DESC, m.id DESC", params)
    frame = pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])
    return frame.assign(held_on=frame["held_on"].map(date.fromisoformat).astype(object),
                        attendees=frame["attendees"].map(json.loads).astype(object))


def minutes(db: sqlite_utils.Database, meeting_id: int, pupil_ids: list[int] | None = None) -> Minutes:
    """A meeting's minutes: who attended, the notes, and each decision with the action it opened."""
    row = db.execute("SELECT id, held_on, scope, since, attendees, notes, status, created_by FROM meetings "
                     "WHERE id = ?", (meeting_id,)).fetchone()
    if row is None:
        raise MeetingError("That meeting is not in the store.")
    params: list[Any] = [meeting_id]
    sql = ("SELECT i.id, i.pupil_id, p.upn, p.surname, p.forename, p.form, i.agenda, i.decision, t.name AS action, "
           "i.intervention_id, i.checkin_id, i.owner, COALESCE(u.name, i.owner) AS owner_name, i.check_in_on, i.note, "
           "i.created_by, i.created_at FROM meeting_items i JOIN pupils p ON p.id = i.pupil_id "
           "LEFT JOIN users u ON u.username = i.owner "
           "LEFT JOIN interventions v ON v.id = i.intervention_id "
           "LEFT JOIN intervention_types t ON t.id = v.type_id WHERE i.meeting_id = ?")
    if pupil_ids is not None:
        sql += " AND i.pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps([int(p) for p in pupil_ids]))
    cursor = db.execute(sql + " ORDER BY i.id", params)
    items = pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])
    items = items.assign(
        agenda=items["agenda"].map(json.loads).astype(object),
        check_in_on=items["check_in_on"].map(lambda v: date.fromisoformat(v) if isinstance(v, str) and v else None)
        .astype(object),
        intervention_id=items["intervention_id"].astype("Int64"), checkin_id=items["checkin_id"].astype("Int64"))
    return Minutes(id=row[0], held_on=date.fromisoformat(row[1]), scope=row[2],
                   since=date.fromisoformat(row[3]) if row[3] else None, attendees=json.loads(row[4]),
                   notes=row[5], status=row[6], created_by=row[7], items=items[ITEMS_COLUMNS],
                   names=cases.names_known(db, items["pupil_id"]))


def _masked_notes(minutes: Minutes, text: str | None, pupil_id: int | None, masked: bool) -> str | None:
    """A note of the minutes as it may be shown: in meeting mode without the pupil's names or
    their parents' (a note about the whole meeting: without any discussed pupil's)."""
    if not masked:
        return text
    if pupil_id is not None:
        return privacy.without_names(text, minutes.names.get(int(pupil_id), []))
    return privacy.without_names(text, [pair for pairs in minutes.names.values() for pair in pairs])


def default_check_in(held_on: date) -> date:
    """When a decision is checked on, unless the meeting says otherwise."""
    return held_on + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS)


# --- the minutes as a document: on screen, PDF and CSV --------------------------------------


def minutes_table(minutes: Minutes, masked: bool) -> pd.DataFrame:
    items = minutes.items
    return pd.DataFrame({
        "Pupil": privacy.names(items, masked), "Form": items["form"],
        "On the agenda for": items["agenda"].map(lambda kinds: "; ".join(AGENDA_KINDS.get(k, k) for k in kinds)),
        "Decision": items["decision"], "Action opened": items["action"].fillna(""), "Owner": items["owner_name"],
        "Check-in": items["check_in_on"].map(lambda d: uk_date(d) if d else ""),
        "Note": [_masked_notes(minutes, note, p, masked) for p, note in zip(items["pupil_id"], items["note"])],
    })


def minutes_csv(minutes: Minutes, masked: bool) -> bytes:
    header = pd.DataFrame({
        "Pupil": ["(meeting)"], "Form": [""], "On the agenda for": [f"Held {uk_date(minutes.held_on)}"],
        "Decision": ["Attendees: " + ", ".join(minutes.attendees)], "Action opened": [""], "Owner": [""],
        "Check-in": [""], "Note": [_masked_notes(minutes, minutes.notes, None, masked)]})
    return csv_bytes(pd.concat([header, minutes_table(minutes, masked)], ignore_index=True))


def minutes_pdf(minutes: Minutes, school: str, masked: bool) -> bytes:
    doc = Document(school, f"Pastoral meeting — minutes of {uk_date(minutes.held_on)}",
                   (minutes.scope or "Whole school") + (f" · new since {uk_date(minutes.since)}" if minutes.since else "")
                   + (" · draft (meeting not finished)" if minutes.status == "open" else ""), landscape=True)
    doc.key_figures([("Date", uk_date(minutes.held_on), minutes.scope or "Whole school"),
                     ("Attendees", str(len(minutes.attendees)), ", ".join(minutes.attendees)[:120]),
                     ("Decisions", str(len(minutes.items)), "pupils discussed with a decision"),
                     ("Actions opened", str(minutes.actions_created), "each with an owner and check-in")])
    doc.heading("Attendees", size=11)
    doc.paragraph(", ".join(minutes.attendees) or "Not recorded.")
    doc.heading("Decisions and actions", size=11)
    doc.table(minutes_table(minutes, masked), widths=[30, 13, 50, 34, 52, 25, 20, doc.epw - 224], size=8)
    doc.heading("Notes", size=11)
    doc.paragraph(_masked_notes(minutes, minutes.notes, None, masked) or "No notes.")
    return doc.pdf_bytes()
