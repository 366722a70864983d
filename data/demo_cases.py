"""Case work for the demo school: what a pastoral team would have recorded over the term.

Written through core/cases.py as the demo staff (so it is checked and audited like any
entry), deterministic from the seed. Most pupils at or below 90% have had something done:
first-day calls and letters early on, then meetings, home visits, mentoring, a few reduced
timetables and — for pupils who reached the penalty-notice threshold — some notices. Some
check-ins are done; the outstanding ones fall either side of `today`, so the caseload has
work due, overdue and coming up, and most families had a call in the days before `today`
(the demo's term may lie well before the day it is loaded). A few pupils at or below 90% are left with nothing, which
is what the "no action" list is for. Everything invented; no real pupil is described.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import sqlite_utils

from core import auth, cases, intervention_types, metrics, triggers

STAFF = {
    "officer": auth.Viewer("officer", "attendance_officer"),
    "pastoral": auth.Viewer("pastoral", "pastoral_lead"),
    "secondary": auth.Viewer("secondary", "head_of_section", ("Secondary",)),
}
RELATIVES = ("mother", "father", "grandmother", "carer", "aunt", "stepfather")
CALL_SUMMARIES = (
    "Unwell with a cough; back tomorrow.", "Overslept; parent to use an alarm.", "Anxious about a test; reassured.",
    "No answer; message left.", "Hospital appointment; letter to follow.", "Family issues; agreed to meet.",
)
VISIT_SUMMARIES = (
    "Parent at home; agreed a morning routine and a lift on Mondays.",
    "Pupil reluctant to come in; agreed a soft start with the key adult.",
    "Housing move under way; bus route to school discussed.",
    "Younger sibling unwell; parent to ring on each day of absence.",
)
OUTCOMES = ("Attending every day since.", "Improving; one day missed.", "No change yet; meeting booked.",
            "Better mornings; late twice.")


def add_case_work(db: sqlite_utils.Database, seed: int = 1, today: date | None = None) -> int:
    """Record the demo's case work; returns how many actions were opened."""
    today = today or date.today()
    period = metrics.default_period(db)
    if period is None:
        return 0
    rng = np.random.default_rng(seed + 11)
    figures = metrics.pupil_figures(db, period)
    pa = figures[figures["persistently_absent"] & (figures["possible_sessions"] > 0)].sort_values("attendance_pct")
    reached = triggers.reached(db, period.as_of)
    penalty_pupils = set(reached.loc[reached["trigger"] == triggers.PENALTY_NOTICE_THRESHOLD, "pupil_id"])
    first_day, last_day = period.date_from, period.as_of
    term_days = (last_day - first_day).days
    opened = 0
    for row in pa.itertuples():  # a few dozen pupils, not marks
        if rng.random() < 0.18:
            continue  # left without action: the "no action" list finds them
        who = _owner(row.section, rng)
        relative = str(rng.choice(RELATIVES))
        start = first_day + timedelta(days=int(rng.integers(3, max(4, term_days // 3))))
        opened += _open(db, who, row.pupil_id, "First-day call", start)
        cases.log_contact(db, STAFF[who], row.pupil_id, "call", start, relative, str(rng.choice(CALL_SUMMARIES)))
        if row.attendance_pct < 88 or rng.random() < 0.5:
            letter_on = start + timedelta(days=int(rng.integers(7, 21)))
            if letter_on <= last_day:
                opened += _open(db, who, row.pupil_id, "Attendance letter (stage 1)", letter_on)
        if row.attendance_pct < 85:
            visit_on = min(last_day, start + timedelta(days=int(rng.integers(21, 42))))
            kind = "Home visit" if rng.random() < 0.5 else "Attendance meeting / clinic"
            check_in = _check_in_date(rng, visit_on, last_day, today)
            action = cases.open_intervention(db, STAFF[who], row.pupil_id, kind, who, visit_on,
                                             summary=str(rng.choice(VISIT_SUMMARIES)), check_in_on=check_in)
            opened += 1
            if kind == "Home visit":
                cases.log_contact(db, STAFF[who], row.pupil_id, "home_visit", visit_on, relative,
                                  "Visit as planned.", intervention_id=action)
            if check_in <= last_day:  # a check-in that fell in term was done
                due = cases.checkins(db, STAFF[who], today, [row.pupil_id])
                for checkin_id in due.loc[due["intervention_id"] == action, "id"]:
                    cases.complete_checkin(db, STAFF[who], int(checkin_id), check_in, str(rng.choice(OUTCOMES)),
                                           next_due_on=_check_in_date(rng, check_in, last_day, today, late=True))
        if row.attendance_pct < 75 and rng.random() < 0.6:
            mentoring_on = min(last_day, start + timedelta(days=int(rng.integers(28, 56))))
            opened += _open(db, "pastoral", row.pupil_id, "ELSA or mentoring sessions", mentoring_on)
        if row.attendance_pct < 60 and rng.random() < 0.4:
            reduced_on = min(last_day, start + timedelta(days=int(rng.integers(20, 50))))
            review = today + timedelta(days=int(rng.integers(-5, 20)))
            cases.open_intervention(db, STAFF["pastoral"], row.pupil_id, "Reduced (part-time) timetable", "pastoral",
                                    reduced_on, review_on=max(review, reduced_on), summary="Mornings only for now.")
            opened += 1
        if row.pupil_id in penalty_pupils and rng.random() < 0.5:
            issued = min(last_day, start + timedelta(days=int(rng.integers(30, 70))))
            parent = db.execute("SELECT contact1_name FROM pupils WHERE id = ?", (row.pupil_id,)).fetchone()[0]
            cases.open_intervention(db, STAFF["officer"], row.pupil_id, intervention_types.PENALTY_TYPE, "officer", issued,
                                    details={"date_issued": issued, "paid": "paid" if rng.random() < 0.5 else "unpaid"},
                                    parent=parent)
            opened += 1
        if rng.random() < 0.8:  # the team keeps in touch: a call in the last days before `today`
            cases.log_contact(db, STAFF[who], row.pupil_id, "call", today - timedelta(days=int(rng.integers(0, 10))),
                              relative, str(rng.choice(CALL_SUMMARIES)))
    return opened


def _owner(section: str, rng: np.random.Generator) -> str:
    if section == "Secondary" and rng.random() < 0.4:
        return "secondary"
    return "officer" if rng.random() < 0.6 else "pastoral"


ONE_OFF_OUTCOMES = {"First-day call": "Reason given; mark updated.", "Attendance letter (stage 1)": "Letter sent home."}


def _open(db, who: str, pupil_id: int, type_name: str, on: date) -> int:
    """Open an action; a call or letter is done once sent, so it is closed at once."""
    action = cases.open_intervention(db, STAFF[who], pupil_id, type_name, who, on)
    if type_name in ONE_OFF_OUTCOMES:
        cases.close_intervention(db, STAFF[who], action, ONE_OFF_OUTCOMES[type_name], on + timedelta(days=1))
    return 1


def _check_in_date(rng: np.random.Generator, opened_on: date, last_day: date, today: date, late: bool = False) -> date:
    """Two weeks on in term, or — for the term's last weeks — either side of today."""
    planned = opened_on + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS)
    if planned <= last_day and not late:
        return planned
    return max(opened_on, today + timedelta(days=int(rng.integers(-10, 12))))
