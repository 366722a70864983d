"""The weekly pastoral meeting: the agenda for its date, decisions that become actions, and minutes.

The agenda (SCREENS.md "Meeting") lists each pupil who needs the room's attention since the
last meeting — or, before the first meeting, since the previous upload — for the reasons in
AGENDA_KINDS: a statutory trigger reached, newly severely or persistently absent, a reduced
timetable due for review, a check-in overdue, persistently absent with no action in the
last `no_action_days` days, or carried over from the last meeting, which did not reach them.

A school's list can run to 180 pupils, 15 seconds each in a 45-minute meeting, so the
agenda is taken in priority order (PRIORITY) and the team chooses how many to discuss
(setting `meeting_agenda_length`, 20 by default); the rest are "not reached — carried to the
next meeting". The order, statutory deadlines and severity first:
  0. a children-missing-education step overdue (core/missing_education.py) — a child nobody
     has found yet, the oldest due date first;
  1. a statutory trigger — the most serious first (TRIGGER_ORDER: 20 days' unauthorised
     absence in a row, 10 days, 15 days' illness, the penalty-notice threshold), then the one
     reached longest ago (the nearest its deadline): the law puts a duty on the school now;
  2. a reduced timetable due for review — a date agreed with the family, soonest first;
     then an attendance support plan due for review (core/support_plans.py), soonest first;
  3. severely absent (50% or below) — the pupils missing most school, lowest first;
  4. newly persistently absent — caught early, support works best;
  5. a check-in overdue — a promise the team made, longest overdue first;
  6. persistently absent with no recent action — lowest attendance first.
A pupil takes the place of their most pressing reason; a pupil carried over from the last
meeting keeps the reasons they had then and goes before this week's pupils of the same rank.

Starting the meeting keeps its agenda in the store (order, reasons, length), so the position
survives someone looking up a pupil, another device, or a reload. A decision opens an
action through core/cases.py (with its owner and check-in) and is kept in the minutes in
the same transaction; "discussed, no decision" is minuted too; every write is audited. An
"Attendance letter" decision is for the stage the pupil is due (letters.stage_due) and is
recorded as agreed, to make on the Letters screen: a letter counts as sent only once made.
An owner is a user or a named person who does not sign in (cases.named_owner).
Callers restrict pupils to the user's scope by passing `pupil_ids`, as in cases. The
minutes are shown and exported as a table (`minutes_table`), a CSV and a PDF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, intervention_types, letters, marks, metrics, missing_education, patterns, \
    privacy, reads, store, support_plans, triggers
from core import text as typed
from core.calendar import uk_date
from core.exports import csv_bytes
from core.pdf import Document

TRIGGER = "trigger"
NEWLY_SEVERE = "newly_severe"
NEWLY_PERSISTENT = "newly_persistent"
REVIEW_DUE = "reduced_timetable_review"
PLAN_REVIEW_DUE = "support_plan_review"
CHECKIN_OVERDUE = "checkin_overdue"
NO_RECENT_ACTION = "no_recent_action"
CARRIED = "carried_over"
CME_OVERDUE = "cme_step_overdue"

# Why a pupil is on the agenda (the screen's reason chips, in this order).
AGENDA_KINDS: dict[str, str] = {
    CME_OVERDUE: "Missing education step overdue",
    TRIGGER: "Statutory trigger reached",
    REVIEW_DUE: "Reduced timetable due for review",
    PLAN_REVIEW_DUE: "Support plan due for review",
    NEWLY_SEVERE: "Newly severely absent (50% or below)",
    NEWLY_PERSISTENT: "Newly persistently absent (90% or below)",
    CHECKIN_OVERDUE: "Check-in overdue",
    NO_RECENT_ACTION: "Persistently absent, no recent action",
    CARRIED: "Carried over from the last meeting",
}


@dataclass(frozen=True)
class Rank:
    """One step of the agenda's order: who it takes (`kinds`, or every severely absent pupil)."""

    label: str
    kinds: tuple[str, ...]
    severe: bool = False


# The order the meeting takes pupils in — statutory deadlines and severity first (the module
# docstring says why). Within a rank: carried over first, then the reason's own urgency (the
# trigger's seriousness and date, the review or check-in date), then the lowest attendance.
PRIORITY: tuple[Rank, ...] = (
    Rank("Missing education step overdue", (CME_OVERDUE,)),
    Rank("Statutory trigger", (TRIGGER,)),
    Rank("Reduced timetable review due", (REVIEW_DUE,)),
    Rank("Support plan review due", (PLAN_REVIEW_DUE,)),
    Rank("Severely absent", (NEWLY_SEVERE,), severe=True),
    Rank("Newly persistently absent", (NEWLY_PERSISTENT,)),
    Rank("Check-in overdue", (CHECKIN_OVERDUE,)),
    Rank("Persistently absent, no recent action", (NO_RECENT_ACTION,)),
)
# Statutory triggers, most serious first: children missing education, then the duties to
# notify the local authority, then the penalty notice the school may consider.
TRIGGER_ORDER = (triggers.UNAUTHORISED_20_DAYS, triggers.UNAUTHORISED_10_DAYS, triggers.ILLNESS_15_DAYS,
                 triggers.PENALTY_NOTICE_THRESHOLD)
PRIORITY_HELP = ("Most pressing first: " + "; ".join(f"{i}. {r.label.lower()}" for i, r in enumerate(PRIORITY, 1))
                 + ". Statutory deadlines and severity come first because the law puts a duty on the school "
                   "now and those pupils miss most; a pupil carried over from the last meeting goes before "
                   "this week's pupils of the same rank.")

ITEM_COLUMNS = ["pupil_id", "kind", "label", "detail", "on", "urgency"]
PUPIL_COLUMNS = ["pupil_id", "upn", "surname", "forename", "form", "year_group", "section", "attendance_pct",
                 "possible_sessions", "authorised_sessions", "unauthorised_sessions", "persistently_absent",
                 "severely_absent", "kinds", "reasons", "priority", "priority_label", "carried"]


@dataclass(frozen=True)
class Decision:
    """A decision the meeting can take in one click: the action it opens (None: the minutes
    record it and a check-in is booked, nothing else)."""

    key: str
    label: str
    action_type: str | None


LETTER = "letter"
MONITOR = "monitor"
DECISIONS: tuple[Decision, ...] = (
    # The stage is the one the pupil is due (letters.stage_due); agreed here, made on the Letters screen.
    Decision(LETTER, "Attendance letter", None),
    Decision("family_meeting", "Meet the family", "Attendance meeting / clinic"),
    Decision("home_visit", "Home visit", "Home visit"),
    Decision("mentoring", "Mentoring / ELSA", "ELSA or mentoring sessions"),
    Decision("early_help", "Early Help referral", "Early Help referral"),
    Decision("notify_la", "Notify the LA", "Referral to the local authority (statutory trigger)"),
    Decision(MONITOR, "Keep monitoring", None),
)
DECISION_BY_KEY = {d.key: d for d in DECISIONS}
DISCUSSED = "Discussed — no decision"
NOT_REACHED = "Not reached — carried to the next meeting"


class MeetingError(ValueError):
    """A meeting entry that cannot be saved, with a message for the user."""


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 decision', '2 decisions'."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def letter_label(stage: str) -> str:
    """How the minutes name an agreed letter: 'Attendance letter (stage 2) — to make'."""
    return f"Attendance letter (stage {letters.STAGES[stage]}) — to make"


# --- the agenda ------------------------------------------------------------------------


@dataclass(frozen=True)
class Agenda:
    meeting_on: date
    as_of: date | None  # the data the figures count (the last marks on or before the meeting)
    since: date | None  # what "new" is counted from
    since_reason: str
    items: pd.DataFrame  # one row per pupil per reason: ITEM_COLUMNS
    pupils: pd.DataFrame  # one row per pupil on the agenda, in the order to take them: PUPIL_COLUMNS
    carried_from: date | None = None  # the meeting whose pupils not reached are carried over

    def counts(self) -> dict[str, int]:
        """Pupils on the agenda for each reason, in AGENDA_KINDS order."""
        by_kind = self.items[self.items["pupil_id"].isin(self.pupils["pupil_id"])].groupby("kind")["pupil_id"].nunique()
        return {kind: int(by_kind.get(kind, 0)) for kind in AGENDA_KINDS}

    def only(self, kinds: list[str] | tuple[str, ...]) -> "Agenda":
        """The pupils on the agenda for at least one of `kinds` (all of their reasons kept)."""
        wanted = set(kinds)
        pupils = self.pupils[self.pupils["kinds"].map(lambda k: bool(set(k) & wanted)).astype(bool)]
        return replace(self, pupils=pupils.reset_index(drop=True),
                       items=self.items[self.items["pupil_id"].isin(pupils["pupil_id"])].reset_index(drop=True))


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


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(columns=ITEM_COLUMNS)


def agenda(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_on: date, pupil_ids: list[int] | None = None,
           scopes: list[str] | None = None) -> Agenda:
    """The agenda for a meeting on `meeting_on`, over the given pupils (None: everyone), in
    PRIORITY order, with the pupils the last meeting (of `scopes`) did not reach."""
    since, since_reason = agenda_since(db, meeting_on, scopes)
    span = marks.mark_date_range(db)
    if span is None or span[0] > meeting_on:
        return Agenda(meeting_on, None, since, since_reason, _empty_items(), pd.DataFrame(columns=PUPIL_COLUMNS))
    as_of = min(meeting_on, span[1])
    period = metrics.Period(calendar.academic_year_start(as_of), as_of)
    settings = store.get_settings(db)
    figures = _figures(db, period, pupil_ids)
    scope = None if pupil_ids is None else tuple(int(p) for p in pupil_ids)
    path, version = reads.path_of(db), reads.version(reads.path_of(db))
    staff = cases.staff_names(db)
    last = last_meeting_before(db, meeting_on, scopes)
    carried, carried_kinds = _carried(db, last, figures)

    found = [
        _triggers_since(path, version, as_of, since, figures),
        _newly_absent(path, version, period, since, scope, figures),
        _reviews_due(db, viewer, meeting_on, int(settings["review_due_within_days"]), pupil_ids, staff),
        _plan_reviews_due(db, viewer, meeting_on, int(settings["review_due_within_days"]), pupil_ids, staff),
        _overdue_checkins(db, viewer, meeting_on, pupil_ids, staff),
        _overdue_cme_steps(db, viewer, meeting_on, pupil_ids),
        _without_action(db, figures, meeting_on, int(settings["no_action_days"])),
        carried,
    ]
    found = [f for f in found if not f.empty]
    items = pd.concat(found, ignore_index=True) if found else _empty_items()
    return Agenda(meeting_on, as_of, since, since_reason, items[ITEM_COLUMNS],
                  _agenda_pupils(items, figures, carried_kinds), last["held_on"] if last else None)


def _figures(db, period: metrics.Period, pupil_ids) -> pd.DataFrame:
    path = reads.path_of(db)
    figures = reads.figures_of_pupils(path, reads.version(path), period.date_from, period.as_of, pupil_ids)
    return figures[figures["possible_sessions"] > 0]


def _item(frame: pd.DataFrame, kind: str, detail: pd.Series | list, on: pd.Series | list,
          urgency: pd.Series | list | int = 0) -> pd.DataFrame:
    return pd.DataFrame({"pupil_id": frame["pupil_id"].astype("int64").to_numpy(), "kind": kind,
                         "label": AGENDA_KINDS[kind], "detail": list(detail), "on": list(on),
                         "urgency": list(urgency) if not isinstance(urgency, int) else urgency}, columns=ITEM_COLUMNS)


def _day(d) -> int:
    return calendar.to_day(d) if isinstance(d, date) else 0


def _triggers_since(path: str, version: reads.Version, as_of: date, since: date | None,
                    figures: pd.DataFrame) -> pd.DataFrame:
    reached = reads.triggers_of_pupils(path, version, as_of, figures["pupil_id"])
    if since is not None:
        reached = reached[reached["reached_on"].map(lambda d: d > since).astype(bool)]
    details = [f"{triggers.BY_ID[t].label} on {uk_date(d)} — {triggers.BY_ID[t].next_step}"
               for t, d in zip(reached["trigger"], reached["reached_on"])]
    # The most serious trigger first, then the one reached longest ago.
    urgency = [(TRIGGER_ORDER.index(t) if t in TRIGGER_ORDER else len(TRIGGER_ORDER)) * 1_000_000 + _day(d)
               for t, d in zip(reached["trigger"], reached["reached_on"])]
    return _item(reached, TRIGGER, details, reached["reached_on"], urgency)


def _newly_absent(path: str, version: reads.Version, period: metrics.Period, since: date | None,
                  scope: tuple[int, ...] | None, figures: pd.DataFrame) -> pd.DataFrame:
    if since is None or since >= period.as_of:
        return _empty_items()
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


def _reviews_due(db, viewer, meeting_on: date, within_days: int, pupil_ids, staff: dict[str, str]) -> pd.DataFrame:
    due = cases.reduced_timetables_due(db, viewer, meeting_on, within_days, pupil_ids)
    details = [f"Review {'was due' if overdue else 'due'} {uk_date(d)} (owner {staff.get(owner, owner)})"
               for d, overdue, owner in zip(due["review_on"], due["review_overdue"], due["owner"])]
    return _item(due, REVIEW_DUE, details, due["review_on"], [_day(d) for d in due["review_on"]])


def _plan_reviews_due(db, viewer, meeting_on: date, within_days: int, pupil_ids, staff: dict[str, str]) -> pd.DataFrame:
    due = support_plans.plans_due(db, viewer, meeting_on, within_days, pupil_ids)
    details = [f"Support plan review {'was due' if overdue else 'due'} {uk_date(d)} (owner {staff.get(owner, owner)})"
               for d, overdue, owner in zip(due["next_review_on"], due["review_overdue"], due["owner"])]
    return _item(due, PLAN_REVIEW_DUE, details, due["next_review_on"], [_day(d) for d in due["next_review_on"]])


def _overdue_checkins(db, viewer, meeting_on: date, pupil_ids, staff: dict[str, str]) -> pd.DataFrame:
    due = cases.checkins(db, viewer, meeting_on, pupil_ids)
    due = due[due["overdue"]]
    agreed = dict(db.execute("SELECT checkin_id, decision FROM meeting_items WHERE checkin_id IS NOT NULL").fetchall())
    details = []
    for checkin_id, d, owner, kind in zip(due["id"], due["due_on"], due["owner"], due["type"]):
        about = kind if isinstance(kind, str) and kind else agreed.get(checkin_id)
        details.append(f"Check-in was due {uk_date(d)} (owner {staff.get(owner, owner)})"
                       + (f" for {about}" if about else ""))
    return _item(due, CHECKIN_OVERDUE, details, due["due_on"], [_day(d) for d in due["due_on"]])


def _overdue_cme_steps(db, viewer, meeting_on: date, pupil_ids) -> pd.DataFrame:
    """Children-missing-education steps overdue on the meeting's date: one item per step."""
    due = missing_education.overdue_steps(db, viewer, meeting_on, pupil_ids)
    details = [f"{label} was due {uk_date(d)} (absent from {uk_date(start)})"
               for label, d, start in zip(due["label"], due["due_on"], due["absent_from"])]
    return _item(due, CME_OVERDUE, details, due["due_on"], [_day(d) for d in due["due_on"]])


def _without_action(db, figures: pd.DataFrame, meeting_on: date, days: int) -> pd.DataFrame:
    """Persistently absent with no action, contact or meeting discussion in the last `days`
    days (a meeting that looked at the pupil and chose to keep monitoring is an action)."""
    stale = cases.without_recent_action(db, figures, meeting_on, days)
    discussed = {row[0] for row in db.execute(
        "SELECT DISTINCT i.pupil_id FROM meeting_items i JOIN meetings m ON m.id = i.meeting_id "
        "WHERE m.held_on >= ? AND m.held_on <= ?",
        ((meeting_on - timedelta(days=days)).isoformat(), meeting_on.isoformat())).fetchall()}
    stale = stale[~stale["pupil_id"].isin(discussed)]
    details = [f"No action in the last {days} days" + (f" (last: {kind}, {uk_date(d)})" if isinstance(kind, str)
                                                       else " (none recorded yet)")
               for kind, d in zip(stale["last_action"], stale["last_action_on"])]
    return _item(stale, NO_RECENT_ACTION, details, stale["last_action_on"])


def _carried(db, last: dict | None, figures: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """The pupils on the last meeting's agenda that it did not discuss (still in scope), and
    the reasons each was on it for."""
    if last is None:
        return _empty_items(), {}
    rows = db.execute(
        "SELECT a.pupil_id, a.kinds FROM meeting_agenda a WHERE a.meeting_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM meeting_items i WHERE i.meeting_id = a.meeting_id AND i.pupil_id = a.pupil_id) "
        "ORDER BY a.position", (last["id"],)).fetchall()
    inside = set(figures["pupil_id"].astype(int))
    rows = [(int(p), [k for k in json.loads(kinds) if k != CARRIED]) for p, kinds in rows if int(p) in inside]
    frame = pd.DataFrame({"pupil_id": [p for p, _ in rows]})
    details = [f"Not reached at the meeting of {uk_date(last['held_on'])}; on its agenda for: "
               + "; ".join(AGENDA_KINDS.get(k, k) for k in kinds) for _, kinds in rows]
    return _item(frame, CARRIED, details, [last["held_on"]] * len(rows)), dict(rows)


def _rank_of(kinds: set[str], severe: bool) -> int:
    for i, rank in enumerate(PRIORITY):
        if kinds & set(rank.kinds) or (rank.severe and severe):
            return i
    return len(PRIORITY)


def _agenda_pupils(items: pd.DataFrame, figures: pd.DataFrame, carried_kinds: dict[int, list[str]]) -> pd.DataFrame:
    if items.empty:
        return pd.DataFrame(columns=PUPIL_COLUMNS)
    order = {kind: i for i, kind in enumerate(AGENDA_KINDS)}
    ranked = items.assign(order=items["kind"].map(order)).sort_values(["pupil_id", "order"])
    per_pupil = ranked.groupby("pupil_id").agg(
        kinds=("kind", lambda k: list(dict.fromkeys(k))), reasons=("label", lambda k: list(dict.fromkeys(k))))
    pupils = figures.merge(per_pupil, left_on="pupil_id", right_index=True)
    rank, urgency = [], []
    for pupil_id, kinds, severe in zip(pupils["pupil_id"], pupils["kinds"], pupils["severely_absent"]):
        counted = set(kinds) | set(carried_kinds.get(int(pupil_id), []))
        rank.append(_rank_of(counted, bool(severe)))
        step = PRIORITY[rank[-1]].kinds if rank[-1] < len(PRIORITY) else ()
        own = items[(items["pupil_id"] == pupil_id) & items["kind"].isin(step)]["urgency"]
        urgency.append(int(own.min()) if len(own) else 0)
    pupils = pupils.assign(priority=rank, urgency=urgency,
                           priority_label=[PRIORITY[r].label if r < len(PRIORITY) else "Carried over" for r in rank],
                           carried=pupils["pupil_id"].map(lambda p: int(p) in carried_kinds).astype(bool),
                           not_carried=pupils["pupil_id"].map(lambda p: int(p) not in carried_kinds).astype(bool))
    return pupils.sort_values(["priority", "not_carried", "urgency", "attendance_pct", "surname", "forename"],
                              ignore_index=True)[PUPIL_COLUMNS]


# --- the agenda kept when the meeting starts -----------------------------------------------


def kept_agenda(db: sqlite_utils.Database, meeting_id: int, pupil_ids: list[int] | None = None) -> Agenda | None:
    """The agenda a meeting started with, in its order, with today's figures (None for a
    meeting from before agendas were kept). `pupils` holds `position` (from 1) and
    `discussed` (the pupil has a decision or a discussion in the minutes)."""
    row = db.execute("SELECT held_on, since FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
    if row is None:
        raise MeetingError("That meeting is not in the store.")
    held_on, since = date.fromisoformat(row[0]), date.fromisoformat(row[1]) if row[1] else None
    rows = db.execute(
        "SELECT a.position, a.pupil_id, a.kinds, a.items, EXISTS (SELECT 1 FROM meeting_items i WHERE "
        "i.meeting_id = a.meeting_id AND i.pupil_id = a.pupil_id) FROM meeting_agenda a WHERE a.meeting_id = ? "
        "ORDER BY a.position", (meeting_id,)).fetchall()
    if not rows:
        return None
    if pupil_ids is not None:
        wanted = {int(p) for p in pupil_ids}
        rows = [r for r in rows if int(r[1]) in wanted]
    span = marks.mark_date_range(db)
    as_of = min(held_on, span[1]) if span else held_on
    figures = _figures(db, metrics.Period(calendar.academic_year_start(as_of), as_of), None)
    order = pd.DataFrame({"position": [r[0] for r in rows], "pupil_id": [int(r[1]) for r in rows],
                          "kinds": [json.loads(r[2]) for r in rows],
                          "reasons": [[AGENDA_KINDS.get(k, k) for k in json.loads(r[2])] for r in rows],
                          "discussed": [bool(r[4]) for r in rows]})
    pupils = order.merge(figures.drop(columns=[c for c in ("kinds", "reasons") if c in figures]), on="pupil_id",
                         how="left").sort_values("position", ignore_index=True)
    stored = [dict(item, pupil_id=int(r[1])) for r in rows for item in json.loads(r[3])]
    items = pd.DataFrame(stored, columns=["pupil_id", "kind", "label", "detail"]).assign(on=None, urgency=0)
    carried = pupils["kinds"].map(lambda k: CARRIED in k).astype(bool)
    return Agenda(held_on, as_of, since, f"since {uk_date(since)}" if since else "", items[ITEM_COLUMNS],
                  pupils.assign(priority=0, priority_label="", carried=carried))


def _store_agenda(conn, meeting_id: int, chosen: Agenda) -> None:
    rows = []
    for position, pupil in enumerate(chosen.pupils.itertuples(), start=1):
        own = chosen.items[chosen.items["pupil_id"] == pupil.pupil_id]
        items = [{"kind": k, "label": label, "detail": str(d)} for k, label, d in zip(own["kind"], own["label"],
                                                                                       own["detail"])]
        rows.append((meeting_id, position, int(pupil.pupil_id), json.dumps(list(pupil.kinds)), json.dumps(items)))
    conn.executemany("INSERT INTO meeting_agenda (meeting_id, position, pupil_id, kinds, items) VALUES (?, ?, ?, ?, ?)",
                     rows)


def _check_length(length: int | None) -> int | None:
    if length is None:
        return None
    if not 1 <= int(length) <= 500:
        raise MeetingError("Choose between 1 and 500 pupils to discuss.")
    return int(length)


def set_agenda_length(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int, length: int) -> None:
    """How many pupils of the kept agenda the meeting takes (the rest are carried over)."""
    _require_writer(viewer)
    length = _check_length(length)
    with store.transaction(db) as conn:
        _open_meeting(conn, meeting_id)
        conn.execute("UPDATE meetings SET agenda_length = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                     (length, viewer.username, store.now(), meeting_id))
        store.audit(conn, viewer.username, "meeting.length", "meetings", meeting_id, {"agenda_length": length})


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
    items: pd.DataFrame = field(repr=False)  # ITEMS_COLUMNS, in the order decided (discussions included)
    # Per pupil discussed, the names their notes may not show on a shared screen (cases.names_known).
    names: dict = field(default_factory=dict, repr=False)
    agenda_length: int | None = None
    # The pupils on the kept agenda the meeting did not discuss, in agenda order:
    # pupil_id, upn, surname, forename, form, agenda (kinds) — carried to the next meeting.
    not_reached: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NOT_REACHED_COLUMNS), repr=False)

    @property
    def decisions(self) -> pd.DataFrame:
        return self.items[self.items["outcome"] == "decision"]

    @property
    def actions_created(self) -> int:
        return int(self.items["intervention_id"].notna().sum())

    @property
    def discussed(self) -> int:
        """Pupils discussed, with or without a decision."""
        return int(self.items["pupil_id"].nunique())

    def summary(self) -> str:
        """'3 pupils discussed · 2 decisions · 1 action opened · 17 not reached'."""
        return " · ".join([plural(self.discussed, "pupil") + " discussed", plural(len(self.decisions), "decision"),
                           plural(self.actions_created, "action") + " opened"]
                          + self._waiting())

    def _waiting(self) -> list[str]:
        """While the meeting runs, those of today's length not yet discussed are still to
        discuss; the rest (and, once finished, all not discussed) are carried over."""
        waiting = self.not_reached
        still = 0 if self.status != "open" else int((waiting["position"] <= (self.agenda_length or 0)).sum())
        carried = len(waiting) - still
        return ([f"{still} still to discuss"] if still else []) + (
            [f"{carried} not reached — carried to the next meeting"] if carried else [])


ITEMS_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "agenda", "outcome", "decision", "action",
                 "intervention_id", "checkin_id", "owner", "owner_name", "check_in_on", "letter_stage", "note",
                 "created_by", "created_at"]
NOT_REACHED_COLUMNS = ["position", "pupil_id", "upn", "surname", "forename", "form", "agenda"]


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
                  scope: str = "", since: date | None = None, chosen: Agenda | None = None,
                  length: int | None = None) -> int:
    """Open the minutes of a meeting on `held_on`; returns its id. With `chosen` (the agenda
    as the team will take it), keep its pupils, order and reasons, and `length`: how many
    the meeting means to discuss (the rest are carried to the next meeting)."""
    _require_writer(viewer)
    length = _check_length(length)
    with store.transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO meetings (held_on, scope, since, attendees, agenda_length, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (held_on.isoformat(), scope, since.isoformat() if since else None, json.dumps(_attendees(attendees)),
             length, viewer.username, store.now()))
        meeting_id = cursor.lastrowid
        if chosen is not None:
            _store_agenda(conn, meeting_id, chosen)
        store.audit(conn, viewer.username, "meeting.start", "meetings", meeting_id,
                    {"held_on": held_on.isoformat(), "scope": scope, "agenda_length": length,
                     "agenda_pupils": 0 if chosen is None else len(chosen.pupils)})
        return meeting_id


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


def _insert_item(conn, viewer: auth.Viewer, meeting_id: int, pupil_id: int, agenda_kinds, outcome: str, label: str,
                 intervention_id, checkin_id, owner, check_in_on: date | None, note: str,
                 letter_stage: int | None = None) -> int:
    cursor = conn.execute(
        "INSERT INTO meeting_items (meeting_id, pupil_id, agenda, outcome, decision, intervention_id, checkin_id, "
        "owner, check_in_on, letter_stage, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (meeting_id, int(pupil_id), json.dumps(list(agenda_kinds or [])), outcome, label, intervention_id, checkin_id,
         owner, check_in_on.isoformat() if check_in_on else None, letter_stage, note, viewer.username, store.now()))
    store.audit(conn, viewer.username, "meeting.decision" if outcome == "decision" else "meeting.discussed",
                "meeting_items", cursor.lastrowid,
                {"meeting_id": meeting_id, "pupil_id": int(pupil_id), "decision": label,
                 "intervention_id": intervention_id})
    return cursor.lastrowid


def record_decision(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int, pupil_id: int,
                    decision: str, owner: str, check_in_on: date | None, agenda_kinds: list[str] | None = None,
                    action_type: str | None = None, note: str = "") -> int:
    """The meeting's decision about one pupil: opens the action (`decision` a key of
    DECISION_BY_KEY, or `action_type` any intervention type) with its owner and check-in,
    or for "keep monitoring" books the check-in, and records it in the minutes — all in
    one transaction. An attendance letter is for the stage the pupil is due, agreed here and
    made on the Letters screen (it opens no action: a letter counts as sent once made).
    `owner` is a username or a named person (cases.named_owner). Returns the minutes item's id."""
    _require_writer(viewer)
    chosen = DECISION_BY_KEY.get(decision)
    if chosen is None and not action_type:
        raise MeetingError("Choose what the meeting decided.")
    if action_type in letters.STAGE_ACTIONS:
        raise MeetingError("Agree a letter with “Attendance letter”: it is for the stage the pupil is due and is "
                           "made on the Letters screen, where it counts as sent.")
    action_type = action_type or chosen.action_type
    label = chosen.label if chosen and not (action_type and chosen.action_type != action_type) else action_type
    owner = " ".join((owner or "").split())
    if not owner:
        raise MeetingError("Every decision needs an owner.")
    note = _clean(note, 5000)
    with store.transaction(db) as conn:
        meeting = _open_meeting(conn, meeting_id)
        if check_in_on is not None and check_in_on < meeting["held_on"]:
            raise MeetingError("The check-in date is before the meeting.")
        intervention_id = checkin_id = stage = None
        if chosen is not None and chosen.key == LETTER and not (action_type and action_type != chosen.action_type):
            due = letters.stage_due(db, viewer, pupil_id, meeting["held_on"])
            if due is None:
                raise MeetingError("All three attendance letters have been made this year: choose another step, "
                                   "e.g. a penalty notice or an attendance contract.")
            stage, label = letters.STAGES[due], letter_label(due)
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
        return _insert_item(conn, viewer, meeting_id, pupil_id, agenda_kinds, "decision", label, intervention_id,
                            checkin_id, owner, check_in_on, note, stage)


def record_discussed(db: sqlite_utils.Database, viewer: auth.Viewer, meeting_id: int, pupil_id: int,
                     agenda_kinds: list[str] | None = None, note: str = "") -> int:
    """The meeting discussed the pupil and decided nothing new: minuted as such, so the
    pupil is not carried over and the minutes show everyone discussed."""
    _require_writer(viewer)
    note = _clean(note, 5000)
    with store.transaction(db) as conn:
        _open_meeting(conn, meeting_id)
        try:
            cases._check_pupil(conn, viewer, pupil_id)  # the pupil is in the writer's scope, as for a decision
        except cases.CaseError as error:
            raise MeetingError(str(error)) from error
        return _insert_item(conn, viewer, meeting_id, pupil_id, agenda_kinds, "discussed", DISCUSSED, None, None,
                            None, None, note)


def meetings(db: sqlite_utils.Database, scopes: list[str] | None = None) -> pd.DataFrame:
    """Every meeting (or those of the given scopes), newest first, with how many decisions
    each holds, how many pupils it discussed and how many its kept agenda held."""
    params: list[Any] = []
    sql = ("SELECT m.id, m.held_on, m.scope, m.status, m.attendees, m.created_by, m.agenda_length, "
           "(SELECT COUNT(*) FROM meeting_items i WHERE i.meeting_id = m.id AND i.outcome = 'decision') AS decisions, "
           "(SELECT COUNT(DISTINCT i.pupil_id) FROM meeting_items i WHERE i.meeting_id = m.id) AS discussed, "
           "(SELECT COUNT(*) FROM meeting_agenda a WHERE a.meeting_id = m.id) AS on_agenda "
           "FROM meetings m WHERE 1 = 1")
    if scopes is not None:
        sql += " AND m.scope IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(scopes)))
    cursor = db.execute(sql + " ORDER BY m.held_on DESC, m.id DESC", params)
    frame = pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])
    return frame.assign(held_on=frame["held_on"].map(date.fromisoformat).astype(object),
                        attendees=frame["attendees"].map(json.loads).astype(object))


def minutes(db: sqlite_utils.Database, meeting_id: int, pupil_ids: list[int] | None = None) -> Minutes:
    """A meeting's minutes: who attended, the notes, each pupil discussed (with the decision
    and the action it opened, or "discussed — no decision"), and the pupils not reached."""
    row = db.execute("SELECT id, held_on, scope, since, attendees, notes, status, created_by, agenda_length "
                     "FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
    if row is None:
        raise MeetingError("That meeting is not in the store.")
    params: list[Any] = [meeting_id]
    sql = ("SELECT i.id, i.pupil_id, p.upn, p.surname, p.forename, p.form, i.agenda, i.outcome, i.decision, "
           "t.name AS action, i.intervention_id, i.checkin_id, i.owner, COALESCE(u.name, i.owner) AS owner_name, "
           "i.check_in_on, i.letter_stage, i.note, i.created_by, i.created_at "
           "FROM meeting_items i JOIN pupils p ON p.id = i.pupil_id "
           "LEFT JOIN users u ON u.username = i.owner "
           "LEFT JOIN interventions v ON v.id = i.intervention_id "
           "LEFT JOIN intervention_types t ON t.id = v.type_id WHERE i.meeting_id = ?")
    scope = "" if pupil_ids is None else " AND {column} IN (SELECT value FROM json_each(?))"
    if pupil_ids is not None:
        params.append(json.dumps([int(p) for p in pupil_ids]))
    cursor = db.execute(sql + scope.format(column="i.pupil_id") + " ORDER BY i.id", params)
    items = pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])
    items = items.assign(
        agenda=items["agenda"].map(json.loads).astype(object),
        check_in_on=items["check_in_on"].map(lambda v: date.fromisoformat(v) if isinstance(v, str) and v else None)
        .astype(object),
        intervention_id=items["intervention_id"].astype("Int64"), checkin_id=items["checkin_id"].astype("Int64"),
        letter_stage=items["letter_stage"].astype("Int64"))
    cursor = db.execute(
        "SELECT a.position, a.pupil_id, p.upn, p.surname, p.forename, p.form, a.kinds AS agenda FROM meeting_agenda a "
        "JOIN pupils p ON p.id = a.pupil_id WHERE a.meeting_id = ? AND NOT EXISTS (SELECT 1 FROM meeting_items i "
        "WHERE i.meeting_id = a.meeting_id AND i.pupil_id = a.pupil_id)" + scope.format(column="a.pupil_id")
        + " ORDER BY a.position", params)
    not_reached = pd.DataFrame(cursor.fetchall(), columns=NOT_REACHED_COLUMNS)
    not_reached = not_reached.assign(agenda=not_reached["agenda"].map(json.loads).astype(object))
    return Minutes(id=row[0], held_on=date.fromisoformat(row[1]), scope=row[2],
                   since=date.fromisoformat(row[3]) if row[3] else None, attendees=json.loads(row[4]),
                   notes=row[5], status=row[6], created_by=row[7], items=items[ITEMS_COLUMNS], agenda_length=row[8],
                   not_reached=not_reached, names=cases.names_known(db, items["pupil_id"]))


def _masked_notes(minutes: Minutes, text: str | None, pupil_id: int | None, masked: bool) -> str | None:
    """A note of the minutes as it may be shown: in meeting mode without the pupil's names or
    their parents' (a note about the whole meeting: without any discussed pupil's)."""
    if not masked:
        return text
    if pupil_id is not None:
        return privacy.without_names(text, minutes.names.get(int(pupil_id), []))
    return privacy.without_names(text, [pair for pairs in minutes.names.values() for pair in pairs])


def letters_agreed(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Attendance letters agreed at meetings and not yet made: pupil_id, stage, agreed_on,
    owner — agreed, until a letter of that stage or later is made on or after the meeting."""
    params: list[Any] = []
    sql = ("SELECT i.pupil_id, i.letter_stage AS stage, m.held_on AS agreed_on, i.owner FROM meeting_items i "
           "JOIN meetings m ON m.id = i.meeting_id WHERE i.letter_stage IS NOT NULL")
    if pupil_ids is not None:
        sql += " AND i.pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps([int(p) for p in pupil_ids]))
    agreed = pd.DataFrame(db.execute(sql + " ORDER BY m.held_on", params).fetchall(),
                          columns=["pupil_id", "stage", "agreed_on", "owner"])
    if agreed.empty:
        return agreed
    agreed = agreed.assign(agreed_on=agreed["agreed_on"].map(date.fromisoformat).astype(object))
    made = letters.stages(db, viewer, agreed["pupil_id"].tolist(),
                          since=calendar.academic_year_start(min(agreed["agreed_on"])))
    made_stage = made.set_index("pupil_id")["stage"] if not made.empty else pd.Series(dtype="int64")
    still = [int(made_stage.get(p, 0)) < int(s) for p, s in zip(agreed["pupil_id"], agreed["stage"])]
    return agreed[still].drop_duplicates("pupil_id", keep="last").reset_index(drop=True)


def default_check_in(held_on: date) -> date:
    """When a decision is checked on, unless the meeting says otherwise."""
    return held_on + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS)


# --- the minutes as a document: on screen, PDF and CSV --------------------------------------


def _agenda_text(kinds: list[str]) -> str:
    return "; ".join(AGENDA_KINDS.get(k, k) for k in kinds)


def minutes_table(minutes: Minutes, masked: bool) -> pd.DataFrame:
    """Each pupil discussed, in the order taken: the decision (or "discussed — no decision")."""
    items = minutes.items
    return pd.DataFrame({
        "Pupil": privacy.names(items, masked), "Form": items["form"],
        "On the agenda for": items["agenda"].map(_agenda_text),
        "Decision": items["decision"], "Action opened": items["action"].fillna(""),
        "Owner": items["owner_name"].fillna(""),
        "Check-in": items["check_in_on"].map(lambda d: uk_date(d) if d else ""),
        "Note": [_masked_notes(minutes, note, p, masked) for p, note in zip(items["pupil_id"], items["note"])],
    })


def not_reached_table(minutes: Minutes, masked: bool) -> pd.DataFrame:
    """The pupils the meeting did not reach, carried to the next meeting."""
    rows = minutes.not_reached
    return pd.DataFrame({"Pupil": privacy.names(rows, masked), "Form": rows["form"],
                         "On the agenda for": rows["agenda"].map(_agenda_text)})


def minutes_csv(minutes: Minutes, masked: bool) -> bytes:
    header = pd.DataFrame({
        "Pupil": ["(meeting)"], "Form": [""], "On the agenda for": [f"Held {uk_date(minutes.held_on)}"],
        "Decision": ["Attendees: " + ", ".join(minutes.attendees)], "Action opened": [""], "Owner": [""],
        "Check-in": [""], "Note": [_masked_notes(minutes, minutes.notes, None, masked)]})
    carried = not_reached_table(minutes, masked).assign(Decision=NOT_REACHED, **{"Action opened": "", "Owner": "",
                                                                                "Check-in": "", "Note": ""})
    return csv_bytes(pd.concat([header, minutes_table(minutes, masked), carried], ignore_index=True))


def minutes_pdf(minutes: Minutes, school: str, masked: bool) -> bytes:
    doc = Document(school, f"Pastoral meeting — minutes of {uk_date(minutes.held_on)}",
                   (minutes.scope or "Whole school") + (f" · new since {uk_date(minutes.since)}" if minutes.since else "")
                   + (" · draft (meeting not finished)" if minutes.status == "open" else ""), landscape=True)
    doc.key_figures([("Date", uk_date(minutes.held_on), minutes.scope or "Whole school"),
                     ("Attendees", str(len(minutes.attendees)), ", ".join(minutes.attendees)[:120]),
                     ("Pupils discussed", str(minutes.discussed), plural(len(minutes.decisions), "decision")),
                     ("Actions opened", str(minutes.actions_created), "each with an owner and check-in"),
                     ("Not reached", str(len(minutes.not_reached)), "carried to the next meeting")])
    doc.heading("Attendees", size=11)
    doc.paragraph(", ".join(minutes.attendees) or "Not recorded.")
    doc.heading("Pupils discussed, decisions and actions", size=11)
    if minutes.items.empty:
        doc.paragraph("No pupils discussed.")
    else:
        doc.table(minutes_table(minutes, masked), widths=[28, 12, 44, 58, 44, 26, 20, doc.epw - 232], size=8)
    doc.heading("Notes", size=11)
    doc.paragraph(_masked_notes(minutes, minutes.notes, None, masked) or "No notes.")
    if not minutes.not_reached.empty:
        doc.heading(f"{NOT_REACHED} ({len(minutes.not_reached)})", size=11)
        doc.table(not_reached_table(minutes, masked), widths=[40, 20, doc.epw - 60], size=8)
    return doc.pdf_bytes()
