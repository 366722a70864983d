"""Children missing education (issue 17 item 3): a pupil absent without a reason from a date is
followed through the statutory steps, each with its due date in school days and who did it.

The steps are data (STEPS) and their due days a setting (`cme_step_school_days`), counting the
first day of absence as school day 1:
  - first-day contact with the family — by day 1;
  - reasonable enquiries (family, friends, other schools, agencies) — from day 3;
  - a home visit — by day 10;
  - joint enquiries with the local authority — by day 20, before any removal from roll.
A step is overdue when it is not recorded by the end of its due day. A case closes with an
outcome; "removed from roll" only after 20 school days' absence (the day after the joint
enquiries' due day, at the earliest) and once the joint enquiries are recorded.

School days: those on which the school held a session (core/calendar.py, from the marks) up
to the last day with marks; after it, weekdays (Monday to Friday) stand in, so a due date can
be shown ahead of the registers. `school_day_dates` is the one place that counts them.

Reads are narrowed to the viewer's sections (cases.visible_pupil_ids); every write is audited;
a shared screen (meeting mode) shows the steps and dates but never what a note says or who
was spoken to (privacy.without_workflow_words).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, privacy, store
from core import marks as marks_table
from core import text as typed
from core.calendar import uk_date


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    when: str  # "by" the due day, or "from" it (started by then)


STEPS: tuple[Step, ...] = (
    Step("first_day_contact", "First-day contact with the family", "by"),
    Step("enquiries", "Reasonable enquiries (family, friends, other schools, agencies)", "from"),
    Step("home_visit", "Home visit", "by"),
    Step("joint_enquiries", "Joint enquiries with the local authority", "by"),
)
STEP_BY_KEY = {s.key: s for s in STEPS}
JOINT_ENQUIRIES = "joint_enquiries"

RETURNED, LOCATED, REMOVED = "returned", "located", "removed_from_roll"
OUTCOMES = {
    RETURNED: "Returned to school",
    LOCATED: "Located (another school, elective home education, moved away) — referred as needed",
    REMOVED: "Removed from roll after joint enquiries with the LA",
}
NOTE_LIMIT = 2000


# --- school days ---------------------------------------------------------------------------


def school_day_dates(start: date, count: int, known_days: np.ndarray, known_until: date | None) -> list[date]:
    """The first `count` school days on or after `start`: the days in `known_days` (day numbers
    the school held a session) up to `known_until`, then weekdays."""
    found: list[date] = []
    day = start
    if known_until is not None:
        first, until = calendar.to_day(start), calendar.to_day(known_until)
        found = [calendar.from_day(d) for d in np.asarray(known_days, dtype=np.int64) if first <= d <= until][:count]
        day = max(start, known_until + timedelta(days=1))
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def _known_school_days(db, start: date) -> tuple[np.ndarray, date | None]:
    """The days from `start` the school held a session, and the last day with marks (None: none since)."""
    span = marks_table.mark_date_range(db)
    if span is None or span[1] < start:
        return np.array([], dtype=np.int64), None
    known = marks_table.school_session_days(db, calendar.to_day(start), calendar.to_day(span[1]))["day"].to_numpy()
    return known, span[1]


def due_days(db) -> dict[str, int]:
    days = store.get_settings(db)["cme_step_school_days"]
    return {step.key: int(days[step.key]) for step in STEPS}


def due_dates(db, absent_from: date, known: tuple[np.ndarray, date | None] | None = None,
              days: dict[str, int] | None = None) -> dict[str, date]:
    """Each step's due date for an absence from `absent_from` (school day 1); `known` and
    `days` as read once for many cases (`_known_school_days`, `due_days`)."""
    days = days or due_days(db)
    known_days, known_until = known or _known_school_days(db, absent_from)
    dates = school_day_dates(absent_from, max(days.values()) + 1, known_days, known_until)
    return {key: dates[n - 1] for key, n in days.items()}


# --- writing -------------------------------------------------------------------------------


def _note(text: str | None) -> str:
    note = typed.clean(str(text or ""), multiline=True).strip()
    if len(note) > NOTE_LIMIT:
        raise cases.CaseError(f"The note is {len(note):,} characters long; keep it to {NOTE_LIMIT:,}.")
    return note


def _case(conn, viewer: auth.Viewer, case_id: int) -> dict:
    row = conn.execute("SELECT id, pupil_id, absent_from, closed_on, outcome FROM cme_cases WHERE id = ?",
                       (int(case_id),)).fetchone()
    if row is None:
        raise cases.CaseError("That children-missing-education case is not in the store.")
    found = dict(zip(("id", "pupil_id", "absent_from", "closed_on", "outcome"), row))
    cases._check_pupil(conn, viewer, found["pupil_id"])
    return found


def open_case(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, absent_from: date) -> int:
    """Start following a pupil absent without a reason from `absent_from`; one open case a pupil."""
    cases._require_writer(viewer)
    with store.transaction(db) as conn:
        cases._check_pupil(conn, viewer, pupil_id)
        open_one = conn.execute("SELECT absent_from FROM cme_cases WHERE pupil_id = ? AND closed_on IS NULL",
                                (int(pupil_id),)).fetchone()
        if open_one:
            raise cases.CaseError(f"A children-missing-education case is already open for this pupil (absent from "
                                  f"{uk_date(date.fromisoformat(open_one[0]))}); record its steps there.")
        case_id = conn.execute(
            "INSERT INTO cme_cases (pupil_id, absent_from, created_by, created_at) VALUES (?, ?, ?, ?)",
            (int(pupil_id), absent_from.isoformat(), viewer.username, store.now())).lastrowid
        store.audit(conn, viewer.username, "cme.open", "cme_cases", case_id,
                    {"pupil_id": int(pupil_id), "absent_from": absent_from.isoformat()})
    return case_id


def record_step(db: sqlite_utils.Database, viewer: auth.Viewer, case_id: int, step: str, done_on: date,
                done_by: str | None = None, note: str = "") -> None:
    """A step done on `done_on` by `done_by` (default: the writer), with a note."""
    cases._require_writer(viewer)
    if step not in STEP_BY_KEY:
        raise cases.CaseError("Choose one of the steps.")
    done_by = " ".join(typed.clean(done_by or viewer.username).split())
    if not done_by or len(done_by) > 200:
        raise cases.CaseError("Say who did it (under 200 characters).")
    note = _note(note)
    with store.transaction(db) as conn:
        case = _case(conn, viewer, case_id)
        if case["closed_on"]:
            raise cases.CaseError("This case is closed; open a new one if the pupil is missing again.")
        if done_on < date.fromisoformat(case["absent_from"]):
            raise cases.CaseError(f"{STEP_BY_KEY[step].label} is dated before the absence began "
                                  f"({uk_date(date.fromisoformat(case['absent_from']))}).")
        if conn.execute("SELECT 1 FROM cme_steps WHERE case_id = ? AND step = ?", (case["id"], step)).fetchone():
            raise cases.CaseError(f"{STEP_BY_KEY[step].label} is already recorded for this case.")
        conn.execute("INSERT INTO cme_steps (case_id, step, done_on, done_by, note, recorded_by, recorded_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (case["id"], step, done_on.isoformat(), done_by, note, viewer.username, store.now()))
        store.audit(conn, viewer.username, "cme.step", "cme_cases", case["id"],
                    {"pupil_id": case["pupil_id"], "step": step, "done_on": done_on.isoformat(), "done_by": done_by})


def close_case(db: sqlite_utils.Database, viewer: auth.Viewer, case_id: int, outcome: str, closed_on: date) -> None:
    """Close with an outcome. Removal from roll is refused before 20 school days' absence have
    passed and before the joint enquiries with the local authority are recorded."""
    cases._require_writer(viewer)
    if outcome not in OUTCOMES:
        raise cases.CaseError("Choose how the case ended.")
    with store.transaction(db) as conn:
        case = _case(conn, viewer, case_id)
        if case["closed_on"]:
            raise cases.CaseError("This case is already closed.")
        absent_from = date.fromisoformat(case["absent_from"])
        if closed_on < absent_from:
            raise cases.CaseError("The case is closed on a date before the absence began.")
        if outcome == REMOVED:
            joint_due = due_dates(db, absent_from)[JOINT_ENQUIRIES]
            if closed_on <= joint_due:
                raise cases.CaseError(f"A pupil is removed from roll only after {due_days(db)[JOINT_ENQUIRIES]} "
                                      f"school days' absence: not before {uk_date(joint_due + timedelta(days=1))}.")
            if not conn.execute("SELECT 1 FROM cme_steps WHERE case_id = ? AND step = ?",
                                (case["id"], JOINT_ENQUIRIES)).fetchone():
                raise cases.CaseError("Record the joint enquiries with the local authority before removing the "
                                      "pupil from roll.")
        conn.execute("UPDATE cme_cases SET closed_on = ?, outcome = ? WHERE id = ?",
                     (closed_on.isoformat(), outcome, case["id"]))
        store.audit(conn, viewer.username, "cme.close", "cme_cases", case["id"],
                    {"pupil_id": case["pupil_id"], "outcome": outcome, "closed_on": closed_on.isoformat()})


# --- reading -------------------------------------------------------------------------------

STEP_COLUMNS = ["case_id", "pupil_id", "upn", "surname", "forename", "form", "year_group", "absent_from", "closed_on",
                "outcome", "step", "label", "due_on", "done_on", "done_by", "note", "overdue", "status"]


def steps(db: sqlite_utils.Database, viewer: auth.Viewer, today: date, pupil_ids: list[int] | None = None,
          open_only: bool = True) -> pd.DataFrame:
    """One row per case and step (in STEPS order), for the cases the viewer may read: the due
    date, when and by whom it was done, and whether it is overdue on `today` (not done and its
    due date passed, on an open case). A shared screen sees no note and no name of who did it."""
    scope = cases.visible_pupil_ids(db, viewer, pupil_ids)
    sql = ("SELECT c.id, c.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, c.absent_from, c.closed_on, "
           "c.outcome FROM cme_cases c JOIN pupils p ON p.id = c.pupil_id WHERE 1 = 1")
    params: list = []
    if open_only:
        sql += " AND c.closed_on IS NULL"
    if scope is not None:
        sql += " AND c.pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(scope))
    found = db.execute(sql + " ORDER BY c.absent_from, c.id", params).fetchall()
    if not found:
        return pd.DataFrame(columns=STEP_COLUMNS)
    done = {(c, s): (d, by, note) for c, s, d, by, note in db.execute(
        "SELECT case_id, step, done_on, done_by, note FROM cme_steps WHERE case_id IN (SELECT value FROM json_each(?))",
        (json.dumps([r[0] for r in found]),)).fetchall()}
    rows = []
    known = _known_school_days(db, min(date.fromisoformat(r[7]) for r in found))
    days = due_days(db)
    for case_id, pupil_id, upn, surname, forename, form, year_group, absent_from, closed_on, outcome in found:
        absent_from = date.fromisoformat(absent_from)
        closed = date.fromisoformat(closed_on) if closed_on else None
        dues = due_dates(db, absent_from, known, days)
        for step in STEPS:
            done_on, done_by, note = done.get((case_id, step.key), (None, "", ""))
            done_on = date.fromisoformat(done_on) if done_on else None
            overdue = done_on is None and closed is None and today > dues[step.key]
            status = ("Done" if done_on else "Closed" if closed else "Overdue" if overdue else
                      ("Due from " if step.when == "from" else "Due by ") + uk_date(dues[step.key]))
            rows.append({"case_id": case_id, "pupil_id": pupil_id, "upn": upn, "surname": surname, "forename": forename,
                         "form": form, "year_group": year_group, "absent_from": absent_from, "closed_on": closed,
                         "outcome": outcome, "step": step.key, "label": step.label, "due_on": dues[step.key],
                         "done_on": done_on, "done_by": done_by, "note": note, "overdue": overdue, "status": status})
    frame = pd.DataFrame(rows, columns=STEP_COLUMNS)
    if not viewer.sees_notes:
        frame = frame.assign(note="")
    if viewer.shared_screen:
        frame = frame.assign(done_by=frame["done_by"].map(lambda v: privacy.HIDDEN_ON_SHARED_SCREEN if v else ""))
    return privacy.without_workflow_words(frame, viewer.shared_screen)


def overdue_steps(db: sqlite_utils.Database, viewer: auth.Viewer, today: date,
                  pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """The steps overdue on `today` on open cases, longest overdue first."""
    found = steps(db, viewer, today, pupil_ids)
    if found.empty:
        return found
    return found[found["overdue"].astype(bool)].sort_values(["due_on", "case_id"], ignore_index=True)
