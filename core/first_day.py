"""First-day calling (DOMAIN.md §5, tier 1 "Expect"): every unexplained absence this
session, and a call home about each, logged as a contact on the pupil's record.

An unexplained absence is an `N` (no reason yet), or no mark yet for a pupil on roll in a
session whose register has been taken. A form none of whose pupils has a mark yet has not
had its register taken: its pupils are not absences, the form is listed instead. A session
with no marks for anyone has not been taken at all (`sessions_taken`).

Pupils with a social worker, on a child protection or child-in-need plan, looked after,
or on the school's vulnerable list come first. A call's outcome is one of `OUTCOMES`;
reached or a reason given ends the calling for that session, a message left waits for the
parent to ring back, no answer stays on the list to try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, characteristics, codes, store
from core import marks as marks_table
from core.calendar import uk_date

OUTCOMES = {
    "reached": "Reached",
    "message_left": "Message left",
    "no_answer": "No answer",
    "reason_given": "Reason given",
}
DONE_OUTCOMES = frozenset({"reached", "reason_given"})
AWAITING_OUTCOMES = frozenset({"message_left"})

# Where each pupil stands for the session, in the order the list shows them.
TO_CALL, TRY_AGAIN, AWAITING, DONE = "to call", "try again", "awaiting call back", "done"
STATUS_ORDER = {TO_CALL: 0, TRY_AGAIN: 1, AWAITING: 2, DONE: 3}
STILL_TO_CALL = (TO_CALL, TRY_AGAIN)

NO_REASON, NO_MARK = "N", ""
ABSENCE_LABELS = {NO_REASON: "No reason yet (N)", NO_MARK: "No mark yet"}

CALL_LIST_COLUMNS = [
    "pupil_id", "upn", "surname", "forename", "form", "year_group", "mark", "absence", "priority", "priority_reasons",
    "status", "calls", "last_outcome", "last_called_at", "last_called_by", "mark_to_enter",
]


# What the call list reads of each pupil on it (only they are read).
CALL_LIST_PUPIL_COLUMNS = ("id", "upn", "surname", "forename", "form", "year_group", "social_worker", "cla",
                           "vulnerable")


@dataclass
class CallList:
    on: date
    session: int
    taken: bool  # the register of this session has marks for someone
    pupils: pd.DataFrame  # CALL_LIST_COLUMNS, in the order to call
    registers_not_taken: pd.DataFrame  # form, pupils: forms with no mark at all yet this session

    @property
    def still_to_call(self) -> int:
        return int(self.pupils["status"].isin(STILL_TO_CALL).sum())

    @property
    def label(self) -> str:
        return session_label(self.on, self.session)


def session_label(on: date, session: int) -> str:
    return f"{on:%a} {uk_date(on)} {calendar.SESSIONS[session]}"


def sessions_taken(db: sqlite_utils.Database, on: date) -> list[int]:
    """The sessions of a day whose register has been taken: some pupil has a mark."""
    return marks_table.sessions_marked(db, calendar.to_day(on))


def latest_session(db: sqlite_utils.Database) -> tuple[date, int] | None:
    """The newest session with marks: what "this session" means for the calls."""
    latest = marks_table.latest_marked_session(db)
    if latest is None:
        return None
    return calendar.from_day(latest[0]), latest[1]


def priority_reasons(pupils: pd.DataFrame) -> pd.Series:
    """Why a pupil goes to the top of the list: 'CP plan · looked after · vulnerable'."""
    social = pupils["social_worker"].fillna("").map({
        characteristics.CHILD_PROTECTION: "CP plan", characteristics.CHILD_IN_NEED: "CIN plan",
        characteristics.SOCIAL_WORKER: "social worker"}).fillna("")
    looked_after = pupils["cla"].fillna(0).astype(bool).map({True: "looked after", False: ""})
    vulnerable = pupils["vulnerable"].fillna(0).astype(bool).map({True: "vulnerable list", False: ""})
    parts = pd.concat([social, looked_after, vulnerable], axis=1)
    return parts.apply(lambda row: " · ".join(v for v in row if v), axis=1).astype("string") if len(pupils) else \
        pd.Series([], index=pupils.index, dtype="string")


def call_list(db: sqlite_utils.Database, on: date, session: int, pupil_ids: list[int] | None = None) -> CallList:
    """Every pupil (of the scope) with an unexplained absence in one session, with how the
    calls about it stand, in the order to call: priority pupils first, then those still to
    call, then by form and name."""
    day = calendar.to_day(on)
    iso = on.isoformat()
    rows = marks_table.session_register(db, day, session, iso, pupil_ids)
    marks = pd.DataFrame(rows, columns=["pupil_id", "form", "code"]).astype({"pupil_id": "int64"})
    marks = marks.assign(code=marks["code"].fillna(NO_MARK).astype(str))
    marked = marks["code"] != NO_MARK
    taken = marks_table.session_taken(db, day, session)
    form_taken = marked.groupby(marks["form"]).transform("any")
    not_taken = marks[~form_taken & ~marked]
    registers = (not_taken.groupby("form", as_index=False).size().rename(columns={"size": "pupils"})
                 if taken else pd.DataFrame(columns=["form", "pupils"]))
    unexplained = marks[(marks["code"] == NO_REASON) | (~marked & form_taken)] if taken else marks.iloc[0:0]

    pupils = store.pupils_frame(db, pupil_ids=unexplained["pupil_id"].tolist(), columns=CALL_LIST_PUPIL_COLUMNS)
    chosen = pupils.set_index("id").loc[unexplained["pupil_id"]].reset_index().rename(columns={"id": "pupil_id"})
    chosen = chosen.assign(mark=unexplained["code"].to_numpy())
    reasons = priority_reasons(chosen)
    made = session_calls(db, on, session, chosen["pupil_id"].tolist())
    last = made.drop_duplicates("pupil_id").set_index("pupil_id")
    count = made.groupby("pupil_id").size()
    outcome = chosen["pupil_id"].map(last["outcome"]) if len(last) else pd.Series(None, index=chosen.index)
    status = outcome.map(lambda o: DONE if o in DONE_OUTCOMES else AWAITING if o in AWAITING_OUTCOMES
                         else TRY_AGAIN if isinstance(o, str) else TO_CALL)
    table = pd.DataFrame({
        "pupil_id": chosen["pupil_id"].astype("int64"),
        "upn": chosen["upn"], "surname": chosen["surname"], "forename": chosen["forename"],
        "form": chosen["form"], "year_group": chosen["year_group"], "mark": chosen["mark"],
        "absence": chosen["mark"].map(ABSENCE_LABELS),
        "priority": (reasons != "").to_numpy(), "priority_reasons": reasons.to_numpy(),
        "status": status.to_numpy(),
        "calls": chosen["pupil_id"].map(count).fillna(0).astype("int64").to_numpy(),
        "last_outcome": outcome.map(OUTCOMES).fillna("").to_numpy(),
        "last_called_at": chosen["pupil_id"].map(last["called_at"]).to_numpy() if len(last) else None,
        "last_called_by": chosen["pupil_id"].map(last["called_by"]).to_numpy() if len(last) else None,
        "mark_to_enter": chosen["pupil_id"].map(last["mark_to_enter"]).fillna("").to_numpy() if len(last) else "",
    }, columns=CALL_LIST_COLUMNS)
    table = table.assign(_order=table["status"].map(STATUS_ORDER)).sort_values(
        ["_order", "priority", "form", "surname", "forename"], ascending=[True, False, True, True, True])
    return CallList(on, session, taken, table.drop(columns="_order").reset_index(drop=True), registers)


def session_calls(db: sqlite_utils.Database, on: date, session: int, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """The calls logged about one session's absences, newest first."""
    rows = db.execute(
        "SELECT f.id, f.pupil_id, f.outcome, f.mark_to_enter, f.called_by, f.called_at, f.contact_id, c.with_whom "
        "FROM first_day_calls f JOIN contacts c ON c.id = f.contact_id WHERE f.absence_on = ? AND f.session = ? "
        "ORDER BY f.called_at DESC, f.id DESC", (on.isoformat(), session)).fetchall()
    frame = pd.DataFrame(rows, columns=["id", "pupil_id", "outcome", "mark_to_enter", "called_by", "called_at",
                                        "contact_id", "with_whom"])
    return frame if pupil_ids is None else frame[frame["pupil_id"].isin(pupil_ids)]


def who_to_ask_for(contacts: pd.Series | dict) -> str:
    """'Mother (Jane Smith)' from a pupil's first contact; 'parent/carer' when the roll has none."""
    name = str(contacts.get("contact1_name") or "").strip()
    relationship = str(contacts.get("contact1_relationship") or "").strip()
    if name and relationship:
        return f"{relationship} ({name})"
    return name or relationship or "parent/carer"


SAME_CALL_SECONDS = 60


def log_call(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, on: date, session: int, outcome: str,
             mark_to_enter: str = "", with_whom: str = "", note: str = "", called_on: date | None = None) -> int:
    """Log one call about a pupil's absence in a session: a contact (kind 'call') on the pupil's
    record, and its outcome for the calling list. With a reason given, `mark_to_enter` is the
    code to enter in the MIS (one of the `first_day_call_marks` setting)."""
    if outcome not in OUTCOMES:
        raise cases.CaseError(f"Choose what happened: {', '.join(OUTCOMES.values())}.")
    mark_to_enter = (mark_to_enter or "").strip().upper()
    allowed = store.get_settings(db)["first_day_call_marks"]
    if outcome == "reason_given" and mark_to_enter not in allowed:
        raise cases.CaseError(f"Say which mark the reason means: one of {', '.join(allowed)}.")
    if outcome != "reason_given" and mark_to_enter:
        raise cases.CaseError("A mark to enter goes with a reason given.")
    if session not in (0, 1):
        raise cases.CaseError("The session is AM or PM.")
    summary = f"First-day call about the absence on {session_label(on, session)}: {OUTCOMES[outcome].lower()}"
    if mark_to_enter:
        summary += f" — enter {mark_to_enter} ({codes.meaning(mark_to_enter)}) in the MIS"
    summary += f". {note.strip()}" if note.strip() else "."
    with store.transaction(db) as conn:
        # The same outcome logged again by the same person within moments is one call
        # clicked twice (or a widget's change the browser sent again), not a second call.
        same = conn.execute(
            "SELECT id, called_at FROM first_day_calls WHERE pupil_id = ? AND absence_on = ? AND session = ? "
            "AND outcome = ? AND mark_to_enter = ? AND called_by = ? ORDER BY id DESC LIMIT 1",
            (pupil_id, on.isoformat(), session, outcome, mark_to_enter, viewer.username)).fetchone()
        if same and (datetime.fromisoformat(store.now()) - datetime.fromisoformat(same[1])).total_seconds() \
                < SAME_CALL_SECONDS:
            return same[0]
        # The contact and the call are one write: both are kept or neither.
        contact_id = cases.log_contact(db, viewer, pupil_id, "call", called_on or date.today(),
                                       with_whom or "parent/carer", summary=summary)
        cursor = conn.execute(
            "INSERT INTO first_day_calls (pupil_id, absence_on, session, outcome, mark_to_enter, contact_id, called_by, "
            "called_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (pupil_id, on.isoformat(), session, outcome, mark_to_enter, contact_id, viewer.username, store.now()))
        store.audit(conn, viewer.username, "first_day_call.log", "first_day_calls", cursor.lastrowid,
                    {"pupil_id": pupil_id, "absence_on": on.isoformat(), "session": session, "outcome": outcome})
        return cursor.lastrowid
