"""The pupil's chronology: everything about one pupil in one timeline — marks changed by
later uploads, triggers reached and withdrawn, actions opened and closed, contacts,
check-ins due and done — with the notes the viewer may read. The pupil screen shows it;
the evidence pack's table (`evidence_pack_table`) is derived from it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from core import auth, calendar, cases, intervention_types, missing_education, patterns, penalty_ledger, penalty_notices, \
    privacy, support_plans, triggers

CHRONOLOGY_COLUMNS = ["on", "kind", "what", "detail", "note", "sensitive_note", "by", "overdue",
                      "intervention_id", "checkin_id"]
# The kinds of event, and within a day the order they read in (newest first, so the first
# thing to happen reads last).
CHRONOLOGY_KIND_ORDER = {"mark_change": 0, "trigger_withdrawn": 0, "trigger": 1, "penalty_threshold": 1,
                         "cme_opened": 1, "action_opened": 2, "plan_started": 2, "notice_to_improve": 2,
                         "contact": 3, "cme_step": 3, "checkin_done": 4, "plan_review": 4, "penalty_decision": 4,
                         "action_closed": 5, "plan_closed": 5, "cme_closed": 5, "checkin_due": 6,
                         "plan_review_due": 6}


def chronology(db, viewer: auth.Viewer, pupil_id: int, today: date, reached: pd.DataFrame | None = None) -> pd.DataFrame:
    """Everything about one pupil in one timeline, newest first: marks changed by later
    uploads (dated by the upload's "data as at"), triggers reached, actions opened and
    closed, contacts, check-ins due and done — with the notes this viewer may read (`note`
    is None for a viewer; `sensitive_note` only for the pastoral lead and admins). `reached`
    is the school's triggers frame when the caller has it (else it is computed)."""
    if cases.visible_pupil_ids(db, viewer, [pupil_id]) == []:
        raise cases.CaseError("That pupil is not in your sections.")
    sees_notes, sees_sensitive = viewer.sees_notes, viewer.sees_sensitive
    staff = cases.staff_names(db)
    events: list[dict] = []

    def add(on, kind, what, detail="", note="", sensitive="", by="", overdue=False, action=None, checkin=None):
        events.append({"on": on, "kind": kind, "what": what, "detail": detail,
                       "note": (note or "") if sees_notes else None,
                       "sensitive_note": (sensitive or "") if sees_sensitive else None,
                       "by": staff.get(by, by or ""), "overdue": bool(overdue), "intervention_id": action,
                       "checkin_id": checkin})

    history = patterns.mark_history(db, pupil_id)
    if not history.empty:  # one event per upload, on the date its data was as at
        for (day, by, file_name), changes in history.groupby(["data_as_at", "changed_by", "file_name"], sort=False):
            listed = "; ".join(f"{calendar.uk_date(d)} {s} {o or '·'} → {n or '·'}" for d, s, o, n in
                               changes[["date", "session", "old_code", "new_code"]].head(6).itertuples(index=False))
            more = f" and {len(changes) - 6} more" if len(changes) > 6 else ""
            add(day, "mark_change", f"{len(changes)} mark{'s' if len(changes) != 1 else ''} changed by an upload",
                f"{listed}{more} ({file_name})", by=by)

    from core import schools  # a trust's schools (issue 18)

    for move in schools.moves(db, [pupil_id]).itertuples(index=False):  # one record across a trust's schools
        add(move.moved_on, "school_move", schools.move_text(move.from_school, move.to_school, move.moved_on),
            "with an upload to their new school" if pd.notna(move.import_id) else "moved on the Admin screen or "
            "by command", by=move.moved_by)

    if reached is None:
        reached = triggers.reached(db)
    for row in reached[reached["pupil_id"] == pupil_id].itertuples():
        add(cases.as_date(row.reached_on, "reached on"), "trigger",
            f"Trigger reached: {triggers.BY_ID[row.trigger].label if row.trigger in triggers.BY_ID else row.trigger}",
            triggers.BY_ID[row.trigger].next_step if row.trigger in triggers.BY_ID else "")
    shown = triggers.history(db, [pupil_id])
    for row in shown[shown["withdrawn_at"].notna()].itertuples():
        add(calendar.local_date(row.withdrawn_at), "trigger_withdrawn",
            f"Trigger withdrawn: {triggers.BY_ID[row.trigger].label if row.trigger in triggers.BY_ID else row.trigger}",
            f"shown from {calendar.uk_date(calendar.local_date(row.first_shown_at))} "
            f"as reached on {calendar.uk_date(row.reached_on)}; no longer reached once marks were corrected")

    for row in cases.interventions(db, viewer, [pupil_id]).to_dict("records"):
        facts = (f"Tier {row['tier']} {row['tier_name']}", f"owner {staff.get(row['owner'], row['owner'])}",
                 intervention_types.details_text(row["details"]),
                 f"review {calendar.uk_date(row['review_on'])}" if row["review_on"] else "")
        add(row["opened_on"], "action_opened", f"Action opened: {row['type']}", "; ".join(p for p in facts if p),
            row.get("summary"), row.get("sensitive_note"), row["created_by"], action=row["id"])
        if row["status"] == "closed":
            add(row["closed_on"], "action_closed", f"Action closed: {row['type']}", "", row.get("outcome"),
                by=row["updated_by"], action=row["id"])

    for row in cases.contacts(db, viewer, [pupil_id]).to_dict("records"):
        with_whom = f" with {row['with_whom']}" if row.get("with_whom") else ""  # not for every reader
        add(row["contact_on"], "contact", f"{row['kind_label']}{with_whom}", "",
            row.get("summary"), row.get("sensitive_note"), row["created_by"], action=row["intervention_id"])

    for row in cases.checkins(db, viewer, today, [pupil_id], outstanding_only=False).to_dict("records"):
        # A check-in of no action (a meeting's "keep monitoring") has no type: nothing in brackets.
        about = f" ({row['type']})" if isinstance(row["type"], str) and row["type"] else ""
        owner = f"owner {staff.get(row['owner'], row['owner'])}"
        if row["done_on"] is None:
            days = row["days_overdue"]
            late = f"; {days} day{'s' if days != 1 else ''} overdue" if row["overdue"] else ""
            add(row["due_on"], "checkin_due", f"Check-in {'overdue' if row['overdue'] else 'due'}{about}",
                owner + late, by=row["created_by"], overdue=row["overdue"], action=row["intervention_id"],
                checkin=row["id"])
        else:
            note = " — ".join(p for p in (row.get("outcome"), row.get("note")) if p)
            add(row["done_on"], "checkin_done", f"Check-in done{about}", f"due {calendar.uk_date(row['due_on'])}",
                note, by=row["done_by"], action=row["intervention_id"], checkin=row["id"])

    plans = support_plans.plans(db, viewer, [pupil_id])
    reviews = support_plans.plan_reviews(db, viewer, plans["id"].tolist())
    for row in plans.to_dict("records"):  # barriers, review notes and outcomes only where the reader may see them
        help_status = support_plans.EARLY_HELP.get(row["early_help"], row["early_help"])
        add(row["started_on"], "plan_started", "Support plan started",
            f"kept by {staff.get(row['owner'], row['owner'])}; Early Help: {help_status}",
            row.get("barriers"), by=row["owner"])
        for review in reviews[reviews["plan_id"] == row["id"]].to_dict("records"):
            then = "" if pd.isna(review["attendance_pct"]) else f"attendance {review['attendance_pct']:.1f}%; "
            add(review["held_on"], "plan_review", "Support plan reviewed",
                f"{then}next review {calendar.uk_date(review['next_review_on'])}", review.get("review_note"),
                by=review["created_by"])
        if row["status"] == "closed":
            add(row["closed_on"], "plan_closed", "Support plan closed", "", row.get("plan_outcome"), by=row["owner"])
        else:
            overdue = row["next_review_on"] < today
            add(row["next_review_on"], "plan_review_due", f"Support plan review {'overdue' if overdue else 'due'}",
                f"kept by {staff.get(row['owner'], row['owner'])}", by=row["owner"], overdue=overdue)

    # The penalty-notice ledger (the notice itself is the penalty-notice action above): the
    # threshold with its sessions, a Notice to Improve and its outcome, the decision and why.
    for row in penalty_ledger.ledger(db, viewer, today, [pupil_id]).to_dict("records"):
        named = row["parent"] not in ("", penalty_notices.PARENT_NOT_SHOWN, privacy.HIDDEN_ON_SHARED_SCREEN)
        parent = f" — {row['parent']}" if named else ""  # only where the reader may see parents
        add(row["threshold_on"], "penalty_threshold", f"Penalty-notice threshold reached{parent}",
            f"{row['sessions']} sessions: {row['sessions_text']}", by=row.get("created_by", ""))
        if row["nti_issued_on"]:
            add(row["nti_issued_on"], "notice_to_improve", "Notice to Improve issued",
                f"improvement period to {calendar.uk_date(row['nti_period_end'])}"
                + (f"; {penalty_ledger.NTI_OUTCOMES.get(row['nti_outcome'], row['nti_outcome'])}"
                   if row["nti_outcome"] else ""))
        if row["decision"] and row["decided_on"]:
            add(row["decided_on"], "penalty_decision", f"Penalty-notice decision: "
                f"{penalty_ledger.DECISIONS.get(row['decision'], row['decision'])}", "", row["decision_reason"],
                by=row["decided_by"])

    # Children missing education: the case, each step done, and how it ended.
    for (case_id, absent_from, closed_on, outcome), case in missing_education.steps(
            db, viewer, today, [pupil_id], open_only=False).groupby(
            ["case_id", "absent_from", "closed_on", "outcome"], dropna=False, sort=False):
        add(absent_from, "cme_opened", "Missing education: absent without explanation from this day",
            "; ".join(f"{s.label} {s.status.lower()}" for s in case.itertuples() if not s.done_on))
        for step in case[case["done_on"].notna()].itertuples():
            add(step.done_on, "cme_step", f"Missing education: {step.label}", "", step.note, by=step.done_by)
        if isinstance(closed_on, date):
            add(closed_on, "cme_closed", "Missing education case closed",
                missing_education.OUTCOMES.get(outcome, outcome or ""))

    frame = pd.DataFrame(events, columns=CHRONOLOGY_COLUMNS)
    if frame.empty:
        return frame
    order = frame["kind"].map(CHRONOLOGY_KIND_ORDER)
    return (frame.assign(_order=order).sort_values(["on", "_order"], ascending=[False, False], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


# The evidence pack's table: the chronology oldest first, in the pack's words, with the
# pastoral meeting's decisions about the pupil.
EVIDENCE_PACK_COLUMNS = ["on", "kind", "entry", "detail", "by"]
# The chronology's kinds of event, as the pack names them.
EVIDENCE_PACK_KINDS = {"mark_change": "Mark corrected", "trigger": "Trigger reached",
                       "trigger_withdrawn": "Trigger withdrawn", "action_opened": "Action opened",
                       "action_closed": "Action closed", "contact": "Contact", "checkin_due": "Check-in due",
                       "checkin_done": "Check-in done", "plan_started": "Support plan", "plan_review": "Support plan",
                       "plan_closed": "Support plan", "plan_review_due": "Support plan",
                       "penalty_threshold": "Penalty notice", "notice_to_improve": "Penalty notice",
                       "penalty_decision": "Penalty notice", "cme_opened": "Missing education",
                       "cme_step": "Missing education", "cme_closed": "Missing education"}


def evidence_pack_table(db, viewer: auth.Viewer, pupil_id: int, today: date, reached: pd.DataFrame) -> pd.DataFrame:
    """One pupil's history for the evidence pack, oldest first (on, kind, entry, detail, by):
    `chronology` (with the notes `viewer` may read, each after its detail) and the pastoral
    meeting's decisions about the pupil."""
    events = chronology(db, viewer, pupil_id, today, reached)
    notes = events["note"].fillna("")
    detail = [" — ".join(part for part in (d, n) if part) for d, n in zip(events["detail"], notes)]
    frame = pd.DataFrame({"on": events["on"], "kind": events["kind"].map(EVIDENCE_PACK_KINDS), "entry": events["what"],
                          "detail": detail, "by": events["by"]}, columns=EVIDENCE_PACK_COLUMNS)
    decisions = db.execute(
        "SELECT m.held_on, i.decision, i.note, i.created_by FROM meeting_items i JOIN meetings m ON m.id = i.meeting_id "
        "WHERE i.pupil_id = ?", (int(pupil_id),)).fetchall()
    known = cases.names_known(db, [pupil_id]).get(int(pupil_id), []) if viewer.shared_screen else []
    made = pd.DataFrame([{"on": date.fromisoformat(held_on), "kind": "Meeting decision", "entry": decision,
                          "detail": privacy.without_names(note or "", known) if viewer.sees_notes else "", "by": by}
                         for held_on, decision, note, by in decisions], columns=EVIDENCE_PACK_COLUMNS)
    # The chronology is newest first; the pack reads oldest first.
    return (pd.concat([frame.iloc[::-1], made], ignore_index=True) if len(made) else frame.iloc[::-1]) \
        .sort_values("on", kind="stable").reset_index(drop=True)


# A move between a trust's schools (issue 18): first on its day; named in the evidence pack.
CHRONOLOGY_KIND_ORDER["school_move"] = 0
EVIDENCE_PACK_KINDS["school_move"] = "Moved school"
