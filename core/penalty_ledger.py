"""The penalty-notice ledger (issue 17 item 2): each time a child reaches the penalty-notice
threshold, the workflow that follows for one parent, with its dates and evidence.

An entry is per child per parent (DOMAIN.md §4, core/penalty_notices.py) and records, in order:
  1. the threshold reached — its date and the exact sessions behind it (date, AM/PM, code):
     `penalty_sessions` sessions of the `penalty_codes` within `penalty_school_weeks` school
     weeks (settings; the rolling window may reach back into an earlier term or year);
  2. optionally a Notice to Improve — issued, the end of its improvement period (between
     `penalty_improvement_weeks` shortest and longest after it), then met or not met;
  3. the decision — issue or waive, with the reason, the date and who decided;
  4. the notice issued — recorded as a penalty-notice action (penalty_notices.record_penalty_notice),
     so the framework's limit (no more than `penalty_notices_per_parent_child` within
     `penalty_repeat_years`) refuses one too many, and its number in that window sets the amount;
  5. the payment stage, computed from the date issued and the framework (`payment_stage`):
     a first notice £80 up to day 21, £160 up to day 28; a later one £160 up to day 28; unpaid
     after that → refer to the local authority to consider prosecution; until paid or withdrawn.

Sessions used by one entry are never counted for another for the same parent and child: the
next threshold is found among the sessions no earlier entry holds (the store's key on
penalty_ledger_sessions refuses a session held twice). Every write is audited; reads are
narrowed to the viewer's sections, and a shared screen (meeting mode) sees no parent's name
and no reason (privacy.without_workflow_words).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, penalty_notices, privacy, store, triggers
from core import marks as marks_table
from core import text as typed
from core.calendar import uk_date
from core.penalty_notices import PARENT_NOT_SHOWN, PenaltyFramework, _notice_history, parent_key, penalty_terms

ISSUE, WAIVE = "issue", "waive"
DECISIONS = {ISSUE: "Issue a penalty notice", WAIVE: "Waive (no notice)"}
MET, NOT_MET = "met", "not_met"
NTI_OUTCOMES = {MET: "Met — attendance improved", NOT_MET: "Not met"}
PAID, WITHDRAWN = "paid", "withdrawn"
REASON_LIMIT = 2000


@dataclass(frozen=True)
class Threshold:
    """The penalty-notice threshold reached: on `reached_on`, by exactly `sessions` (day,
    session 0/1, code; oldest first) — the sessions that complete it within the window."""

    reached_on: date
    sessions: pd.DataFrame

    def sessions_text(self) -> str:
        return sessions_text(self.sessions)


def sessions_text(sessions: pd.DataFrame) -> str:
    """'06/10/2025 AM N; 06/10/2025 PM N; …' — the evidence as a person reads it."""
    return "; ".join(f"{uk_date(calendar.from_day(d))} {calendar.SESSIONS[int(s)]} {c}"
                     for d, s, c in zip(sessions["day"], sessions["session"], sessions["code"]))


def first_threshold(marks: pd.DataFrame, school_days: np.ndarray, rules: triggers.TriggerRules,
                    used: set[tuple[int, int]] = frozenset(), from_day: int | None = None) -> Threshold | None:
    """The first date on or after `from_day` on which one pupil's `marks` (day, session, code)
    reach the threshold, counting only sessions not in `used` ((day, session) pairs held by an
    earlier entry), and the `penalty_sessions` sessions that reach it (None: not reached).

    On a date, the sessions counted are those on or before it in its school week and the
    `penalty_school_weeks` - 1 school weeks before it (`school_days`: days the school held a
    session). The count only rises at such a session, so the threshold is first met at one."""
    counted = marks[marks["code"].isin(rules.penalty_codes)]
    if used:
        keys = list(zip(counted["day"].astype(int), counted["session"].astype(int)))
        counted = counted[[k not in used for k in keys]]
    counted = counted.sort_values(["day", "session"], ignore_index=True)
    if len(counted) < rules.penalty_sessions or len(school_days) == 0:
        return None
    weeks = calendar.school_weeks(np.asarray(school_days))
    day = counted["day"].to_numpy(dtype=np.int64)
    week_index = np.searchsorted(weeks, calendar.week_of_days(day))
    first_week = np.maximum(week_index - (rules.penalty_school_weeks - 1), 0)
    window_start = np.searchsorted(week_index, first_week, side="left")
    in_window = np.arange(len(day)) - window_start + 1
    hit = in_window >= rules.penalty_sessions
    if from_day is not None:
        hit &= day >= from_day
    if not hit.any():
        return None
    at = int(np.argmax(hit))
    behind = counted.iloc[at - rules.penalty_sessions + 1: at + 1][["day", "session", "code"]].reset_index(drop=True)
    return Threshold(calendar.from_day(int(day[at])), behind)


def _used_sessions(db, pupil_id: int, key: str) -> set[tuple[int, int]]:
    return {(int(d), int(s)) for d, s in db.execute(
        "SELECT day, session FROM penalty_ledger_sessions WHERE pupil_id = ? AND parent_key = ?",
        (int(pupil_id), key)).fetchall()}


def find_threshold(db: sqlite_utils.Database, pupil_id: int, parent: str, as_of: date,
                   since: date | None = None) -> Threshold | None:
    """The pupil's first threshold reached from `since` (default: the start of the academic
    year of `as_of`) up to `as_of`, among the sessions no ledger entry for this parent holds."""
    rules = triggers.TriggerRules.from_settings(store.get_settings(db))
    since = since or calendar.academic_year_start(as_of)
    look_back = calendar.to_day(since - timedelta(weeks=rules.penalty_school_weeks + 30))
    last_day = calendar.to_day(as_of)
    days = marks_table.school_session_days(db, look_back, last_day)["day"].to_numpy()
    pupil_marks = marks_table.load_marks(db, look_back, last_day, [int(pupil_id)])
    return first_threshold(pupil_marks, days, rules, _used_sessions(db, pupil_id, parent_key(parent)),
                           calendar.to_day(since))


# --- writing -------------------------------------------------------------------------------


def _clean_parent(parent: str | None) -> str:
    parent = " ".join(typed.clean(parent or "").split())
    if not parent:
        raise cases.CaseError("Say which parent or carer this is for: notices are counted per parent per child.")
    if len(parent) > 200:
        raise cases.CaseError("Keep the parent's name under 200 characters.")
    return parent


def _reason(text: str | None, what: str) -> str:
    reason = typed.clean(str(text or ""), multiline=True).strip()
    if not reason:
        raise cases.CaseError(f"Give the reason for {what}.")
    if len(reason) > REASON_LIMIT:
        raise cases.CaseError(f"The reason is {len(reason):,} characters long; keep it to {REASON_LIMIT:,}.")
    return reason


def _entry(conn, viewer: auth.Viewer, entry_id: int) -> dict:
    row = conn.execute("SELECT * FROM penalty_ledger WHERE id = ?", (int(entry_id),)).fetchone()
    if row is None:
        raise cases.CaseError("That penalty-notice ledger entry is not in the store.")
    entry = dict(zip([c[0] for c in conn.execute("SELECT * FROM penalty_ledger LIMIT 0").description], row))
    cases._check_pupil(conn, viewer, entry["pupil_id"])
    return entry


def _not_before(on: date, entry: dict, column: str, what: str, since: str) -> date:
    """The entry's date in `column`; a step dated before it is refused, saying which date."""
    earlier = date.fromisoformat(entry[column])
    if on < earlier:
        raise cases.CaseError(f"{what} is dated before {since} ({uk_date(earlier)}).")
    return earlier


def _update(conn, viewer: auth.Viewer, entry: dict, action: str, **values) -> None:
    conn.execute(f"UPDATE penalty_ledger SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                 (*values.values(), entry["id"]))
    store.audit(conn, viewer.username, f"penalty_ledger.{action}", "penalty_ledger", entry["id"],
                {"pupil_id": entry["pupil_id"], **{k: v for k, v in values.items() if not k.endswith("reason")}})


def _check_compulsory_age(conn, pupil_id: int, on: date) -> None:
    """Penalty notices concern pupils of compulsory school age only (DOMAIN.md §4)."""
    dob, nc_year = conn.execute("SELECT dob, nc_year FROM pupils WHERE id = ?", (int(pupil_id),)).fetchone()
    year = calendar.academic_year(on)
    if not calendar.compulsory_school_age(pd.Series([dob]), pd.Series([nc_year]), year).iloc[0]:
        raise cases.CaseError(f"This pupil is not of compulsory school age in {calendar.academic_year_label(year)}: "
                              "penalty notices apply to pupils of compulsory school age only.")


def open_entry(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, parent: str, as_of: date,
               since: date | None = None) -> int:
    """Start a ledger entry for the pupil and parent at the first threshold reached up to
    `as_of` among the sessions no earlier entry for this parent holds; refused when there is none."""
    cases._require_writer(viewer)
    parent = _clean_parent(parent)
    key = parent_key(parent)
    with store.transaction(db) as conn:
        cases._check_pupil(conn, viewer, pupil_id)
        found = find_threshold(db, pupil_id, parent, as_of, since)
        if found is None:
            rules = triggers.TriggerRules.from_settings(store.get_settings(db))
            raise cases.CaseError(
                f"The penalty-notice threshold ({rules.penalty_sessions} sessions of unauthorised absence "
                f"({'/'.join(rules.penalty_codes)}) within {rules.penalty_school_weeks} school weeks) is not reached "
                f"by {uk_date(as_of)} with sessions not already used for an earlier entry for {parent}.")
        _check_compulsory_age(conn, pupil_id, found.reached_on)
        cursor = conn.execute(
            "INSERT INTO penalty_ledger (pupil_id, parent, parent_key, threshold_on, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (int(pupil_id), parent, key, found.reached_on.isoformat(), viewer.username, store.now()))
        entry_id = cursor.lastrowid
        conn.executemany(
            "INSERT INTO penalty_ledger_sessions (ledger_id, pupil_id, parent_key, day, session, code) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(entry_id, int(pupil_id), key, int(d), int(s), str(c))
             for d, s, c in zip(found.sessions["day"], found.sessions["session"], found.sessions["code"])])
        store.audit(conn, viewer.username, "penalty_ledger.open", "penalty_ledger", entry_id,
                    {"pupil_id": int(pupil_id), "parent": parent, "threshold_on": found.reached_on.isoformat(),
                     "sessions": found.sessions_text()})
    return entry_id


def improvement_weeks(db) -> tuple[int, int]:
    weeks = store.get_settings(db)["penalty_improvement_weeks"]
    return int(weeks["shortest"]), int(weeks["longest"])


def record_notice_to_improve(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, issued_on: date,
                             period_end: date) -> None:
    """A Notice to Improve issued on `issued_on` with its improvement period ending `period_end`
    (between the shortest and longest `penalty_improvement_weeks` after it)."""
    cases._require_writer(viewer)
    shortest, longest = improvement_weeks(db)
    with store.transaction(db) as conn:
        entry = _entry(conn, viewer, entry_id)
        if entry["decision"]:
            raise cases.CaseError("The decision is already made; a Notice to Improve comes before it.")
        if entry["nti_issued_on"]:
            raise cases.CaseError("A Notice to Improve is already recorded for this threshold.")
        _not_before(issued_on, entry, "threshold_on", "The Notice to Improve", "the threshold was reached")
        earliest, latest = issued_on + timedelta(weeks=shortest), issued_on + timedelta(weeks=longest)
        if not earliest <= period_end <= latest:
            raise cases.CaseError(f"The improvement period runs {shortest} to {longest} weeks: end it between "
                                  f"{uk_date(earliest)} and {uk_date(latest)}.")
        _update(conn, viewer, entry, "notice_to_improve", nti_issued_on=issued_on.isoformat(),
                nti_period_end=period_end.isoformat())


def record_improvement_outcome(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, outcome: str,
                               on: date) -> None:
    """Whether the Notice to Improve was met, recorded once its improvement period has ended."""
    cases._require_writer(viewer)
    if outcome not in NTI_OUTCOMES:
        raise cases.CaseError("Choose whether the Notice to Improve was met or not met.")
    with store.transaction(db) as conn:
        entry = _entry(conn, viewer, entry_id)
        if not entry["nti_issued_on"]:
            raise cases.CaseError("No Notice to Improve is recorded for this threshold.")
        if entry["nti_outcome"]:
            raise cases.CaseError("The Notice to Improve's outcome is already recorded.")
        end = date.fromisoformat(entry["nti_period_end"])
        if on < end:
            raise cases.CaseError(f"The improvement period runs to {uk_date(end)}; record whether it was met from then.")
        _update(conn, viewer, entry, "improvement_outcome", nti_outcome=outcome, nti_outcome_on=on.isoformat())


def decide(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, decision: str, reason: str,
           decided_on: date, decided_by: str | None = None) -> None:
    """Issue or waive, with the reason, the date and who decided (default: the writer).
    Issuing is refused when a Notice to Improve is awaiting its outcome or was met, and when
    the framework allows this parent no further notice for the child on that date."""
    cases._require_writer(viewer)
    if decision not in DECISIONS:
        raise cases.CaseError("Choose to issue a notice or to waive it.")
    reason = _reason(reason, "the decision")
    decided_by = " ".join(typed.clean(decided_by or viewer.username).split())[:200]
    with store.transaction(db) as conn:
        entry = _entry(conn, viewer, entry_id)
        if entry["decision"]:
            raise cases.CaseError(f"The decision ({DECISIONS[entry['decision']].lower()}) is already recorded.")
        _not_before(decided_on, entry, "threshold_on", "The decision", "the threshold was reached")
        if entry["nti_issued_on"] and not entry["nti_outcome"]:
            raise cases.CaseError("A Notice to Improve is open: record whether it was met before deciding.")
        if decision == ISSUE:
            if entry["nti_outcome"] == MET:
                raise cases.CaseError("The Notice to Improve was met, so no notice follows for these sessions; "
                                      "record the decision as waived.")
            framework = PenaltyFramework.of(db)
            history = _notice_history(db, viewer, [entry["pupil_id"]], framework)
            terms = penalty_terms(history, entry["pupil_id"], entry["parent"], decided_on, framework)
            if not terms.allowed:
                raise cases.CaseError(f"{terms.counted} {terms.next_step}")
        _update(conn, viewer, entry, "decide", decision=decision, decision_reason=reason,
                decided_on=decided_on.isoformat(), decided_by=decided_by)


def issue_notice(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, issued_on: date,
                 note: str = "") -> int:
    """The notice issued, after a decision to issue: recorded as a penalty-notice action on the
    child's record (refused when the framework allows no further notice); its action's id."""
    cases._require_writer(viewer)
    with store.transaction(db) as conn:
        entry = _entry(conn, viewer, entry_id)
        if entry["decision"] != ISSUE:
            raise cases.CaseError("Record the decision to issue a notice first.")
        if entry["notice_issued_on"]:
            raise cases.CaseError("The notice is already recorded as issued.")
        _not_before(issued_on, entry, "decided_on", "The notice", "the decision to issue it")
        action = penalty_notices.record_penalty_notice(db, viewer, entry["pupil_id"], entry["parent"], issued_on, note)
        _update(conn, viewer, entry, "issue", notice_issued_on=issued_on.isoformat(), intervention_id=action)
    return action


@dataclass(frozen=True)
class PaymentStage:
    """Where an issued notice stands on a date."""

    key: str  # "reduced", "full", "unpaid", "paid", "withdrawn"
    label: str
    amount_due: float  # £ due on the date (NaN when nothing can be paid)
    due_by: date | None
    overdue: bool  # unpaid past its last day to pay


def payment_stage(issued_on: date, number: int, framework: PenaltyFramework, on: date,
                  settled: str | None = None, settled_on: date | None = None,
                  paid_amount: int | None = None) -> PaymentStage:
    """The stage of the `number`th notice (within the window) issued on `issued_on`, on `on`:
    a first is £80 up to day 21 and £160 up to day 28 (days after the date issued), a later one
    £160 up to day 28; after that it is unpaid and the local authority considers prosecution."""
    if settled == PAID:
        return PaymentStage(PAID, f"Paid £{paid_amount} on {uk_date(settled_on)}", np.nan, None, False)
    if settled == WITHDRAWN:
        return PaymentStage(WITHDRAWN, f"Withdrawn on {uk_date(settled_on)}", np.nan, None, False)
    days = (on - issued_on).days
    reduced_by = issued_on + timedelta(days=framework.first_reduced_days)
    pay_by = issued_on + timedelta(days=framework.pay_within_days)
    if number == 1 and days <= framework.first_reduced_days:
        return PaymentStage("reduced", f"£{framework.first_reduced_amount} due by {uk_date(reduced_by)}",
                            float(framework.first_reduced_amount), reduced_by, False)
    if days <= framework.pay_within_days:
        amount = framework.first_amount if number == 1 else framework.second_amount
        return PaymentStage("full", f"£{amount} due by {uk_date(pay_by)}", float(amount), pay_by, False)
    return PaymentStage("unpaid", f"Unpaid after {framework.pay_within_days} days (due {uk_date(pay_by)}): refer to "
                                  "the local authority to consider prosecution", np.nan, pay_by, True)


def _issued_number(db, viewer: auth.Viewer, entry: dict, framework: PenaltyFramework) -> int:
    history = _notice_history(db, viewer, [entry["pupil_id"]], framework)
    mine = history[history["id"] == entry["intervention_id"]]
    return int(mine["number_in_window"].iloc[0]) if len(mine) else 1


def _issued_not_settled(conn, viewer: auth.Viewer, entry_id: int) -> dict:
    """The entry, if its notice is issued and not yet paid or withdrawn (what settling needs)."""
    entry = _entry(conn, viewer, entry_id)
    if not entry["notice_issued_on"]:
        raise cases.CaseError("The notice is not recorded as issued yet.")
    if entry["settled"]:
        raise cases.CaseError(f"The notice is already recorded as {entry['settled']}.")
    return entry


def record_paid(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, paid_on: date) -> int:
    """The notice paid on `paid_on`, at the amount due that day; refused after the last day to
    pay (the notice can then no longer be paid). The penalty-notice action is marked paid too."""
    cases._require_writer(viewer)
    framework = PenaltyFramework.of(db)
    with store.transaction(db) as conn:
        entry = _issued_not_settled(conn, viewer, entry_id)
        issued = _not_before(paid_on, entry, "notice_issued_on", "The payment", "the notice was issued")
        stage = payment_stage(issued, _issued_number(db, viewer, entry, framework), framework, paid_on)
        if stage.overdue:
            raise cases.CaseError(f"{uk_date(paid_on)} is after the last day to pay ({uk_date(stage.due_by)}): the "
                                  "notice can no longer be paid — the local authority considers prosecution. "
                                  "If the LA withdrew it, record it as withdrawn.")
        amount = int(stage.amount_due)
        cases.edit_intervention(db, viewer, entry["intervention_id"], details={"paid": PAID})
        _update(conn, viewer, entry, "paid", settled=PAID, settled_on=paid_on.isoformat(), paid_amount=amount)
    return amount


def record_withdrawn(db: sqlite_utils.Database, viewer: auth.Viewer, entry_id: int, on: date, reason: str) -> None:
    """The notice withdrawn (by the local authority), with why."""
    cases._require_writer(viewer)
    reason = _reason(reason, "withdrawing the notice")
    with store.transaction(db) as conn:
        entry = _issued_not_settled(conn, viewer, entry_id)
        _not_before(on, entry, "notice_issued_on", "The withdrawal", "the notice was issued")
        _update(conn, viewer, entry, "withdrawn", settled=WITHDRAWN, settled_on=on.isoformat(), settled_reason=reason)


# --- reading -------------------------------------------------------------------------------

LEDGER_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "year_group", "parent", "threshold_on",
                  "sessions", "sessions_text", "nti_issued_on", "nti_period_end", "nti_outcome", "decision",
                  "decision_reason", "decided_on", "decided_by", "notice_issued_on", "number_in_window", "stage",
                  "amount_due", "due_by", "overdue", "settled_reason", "next_step"]
_WORDS = ("parent", "nti_outcome", "decision", "decision_reason", "decided_by", "settled_reason")
_DATES = ("threshold_on", "nti_issued_on", "nti_period_end", "decided_on", "notice_issued_on", "settled_on")


def _next_step(entry: dict, stage: PaymentStage | None, today: date) -> tuple[str, bool]:
    """What the entry waits for, in words, and whether it is overdue."""
    if entry["settled"] or entry["decision"] == WAIVE:
        return ("Closed", False)
    if entry["notice_issued_on"]:
        return (stage.label, stage.overdue)
    if entry["decision"] == ISSUE:
        return ("Issue the notice (decided " + uk_date(entry["decided_on"]) + ")", False)
    if entry["nti_issued_on"] and not entry["nti_outcome"]:
        end = entry["nti_period_end"]
        return ((f"Improvement period runs to {uk_date(end)}", False) if today <= end else
                (f"Record whether the Notice to Improve was met (period ended {uk_date(end)})", True))
    return ("Decide: issue or waive" + ("" if entry["nti_issued_on"] else ", or issue a Notice to Improve first"),
            False)


def ledger(db: sqlite_utils.Database, viewer: auth.Viewer, today: date, pupil_ids: list[int] | None = None
           ) -> pd.DataFrame:
    """Every ledger entry the viewer may read (their sections), newest threshold first, with its
    sessions, the framework's number for an issued notice, its payment stage on `today` and the
    next step. Parents' names as the role may read them; on a shared screen no parent and no reason."""
    scope = cases.visible_pupil_ids(db, viewer, pupil_ids)
    sql = ("SELECT l.*, p.upn, p.surname, p.forename, p.form, p.year_group FROM penalty_ledger l "
           "JOIN pupils p ON p.id = l.pupil_id")
    params: list = []
    if scope is not None:
        sql += " WHERE l.pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(scope))
    cursor = db.execute(sql + " ORDER BY l.threshold_on DESC, l.id DESC", params)
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    if not rows:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    for row in rows:
        for column in _DATES:
            row[column] = date.fromisoformat(row[column]) if row[column] else None
    held = pd.DataFrame(db.execute(
        "SELECT ledger_id, day, session, code FROM penalty_ledger_sessions WHERE ledger_id IN "
        "(SELECT value FROM json_each(?)) ORDER BY day, session", (json.dumps([r["id"] for r in rows]),)).fetchall(),
        columns=["ledger_id", "day", "session", "code"])
    framework = PenaltyFramework.of(db)
    history = _notice_history(db, viewer, sorted({r["pupil_id"] for r in rows}), framework)
    number_of = dict(zip(history["id"], history["number_in_window"]))
    out = []
    for row in rows:
        mine = held[held["ledger_id"] == row["id"]]
        number = int(number_of.get(row["intervention_id"], 0)) if row["intervention_id"] else 0
        stage = (payment_stage(row["notice_issued_on"], number or 1, framework, today, row["settled"],
                               row["settled_on"], row["paid_amount"]) if row["notice_issued_on"] else None)
        step, overdue = _next_step(row, stage, today)
        out.append({**row, "sessions": len(mine), "sessions_text": sessions_text(mine), "number_in_window": number,
                    "stage": stage.label if stage else "", "amount_due": stage.amount_due if stage else np.nan,
                    "due_by": stage.due_by if stage else None, "overdue": overdue, "next_step": step})
    frame = pd.DataFrame(out)[LEDGER_COLUMNS]
    # Words not given yet are empty text (never NaN, which reads as true).
    frame = frame.assign(**{c: frame[c].fillna("").astype(object) for c in _WORDS})
    if not auth.may(viewer.role, "see_contacts"):
        frame = frame.assign(parent=PARENT_NOT_SHOWN)
    if not viewer.sees_notes:
        frame = frame.assign(decision_reason="", settled_reason="")
    return privacy.without_workflow_words(frame, viewer.shared_screen)

