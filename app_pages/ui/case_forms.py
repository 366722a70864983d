"""The case-work forms a screen opens over itself: log an action, log a contact, edit or
close an action, complete a check-in, choose a key adult.

A button anywhere calls `request(form, ...)` (as its on_click); the screen calls `draw(user)`
once, and the form asked for opens as a dialog. Saving goes through core/cases.py, which
checks the rules (scope, notes, dates) and audits the write; a refusal is shown in the
dialog and nothing is saved. Closing the dialog forgets the request.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app_pages.ui import formatting, sidebar
from app_pages.ui.formatting import md, pupil_name, today, uk
from core import auth, cases, families, intervention_types, penalty_notices, reads, store, support_plans

FORM_KEY = "case_form"  # {"form": ..., "pupil_id" | "intervention_id" | "checkin_id": ...}
SAVED_KEY = "case_form_saved"  # a message to show once the screen has redrawn


def request(form: str, **ids: int) -> None:
    """Ask for a form (use as a button's on_click, with args or kwargs)."""
    st.session_state[FORM_KEY] = {"form": form, **{k: int(v) for k, v in ids.items()}}


def _forget() -> None:
    st.session_state.pop(FORM_KEY, None)


def viewer_for(user: auth.User) -> auth.Viewer:
    """The case-work viewer for the signed-in user (meeting mode is a shared screen)."""
    return formatting.viewer(user)


def may_write(user: auth.User) -> bool:
    return auth.may(user.role, "case_work")


def draw(user: auth.User) -> None:
    """Show what the last save said, and open the form asked for, if any."""
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved:
        st.toast(md(saved), icon=":material/check:")
    wanted = st.session_state.get(FORM_KEY)
    if not wanted or not may_write(user):
        return
    form = FORMS.get(wanted.get("form"))
    if form is None:
        _forget()
        return
    form(user, wanted)


def wrote(write) -> bool:
    """Run a core write (`write(db)`); a refusal is shown where the form is and nothing is
    saved (False). Every case and workflow form writes through here."""
    try:
        with store.opened(reads.db_path()) as db:
            write(db)
    except cases.CaseError as error:
        st.error(md(error))
        return False
    return True


def _save(write, message: str) -> None:
    """A case form's write (`wrote`): a success closes the form and is confirmed once the
    screen has redrawn."""
    if not wrote(write):
        return
    _forget()
    st.session_state[SAVED_KEY] = message
    st.rerun()


# --- what the forms read ---------------------------------------------------------------


def _pupil(db, pupil_id: int) -> dict | None:
    row = db.execute("SELECT surname, forename, form, year_group FROM pupils WHERE id = ?", (pupil_id,)).fetchone()
    return dict(zip(("surname", "forename", "form", "year_group"), row)) if row else None


def _who(pupil: dict) -> str:
    name = pupil_name(pupil["surname"], pupil["forename"], sidebar.meeting_mode())
    return f"**{md(name)}**" + (f" · {md(pupil['form'])}" if pupil["form"] else "")


def case_workers(db) -> dict[str, str]:
    """username → name of the staff who can own case work."""
    return {u.username: u.name for u in auth.list_users(db) if u.active and auth.may(u.role, "case_work")}


def _owner_picker(workers: dict[str, str], current: str, key: str, label: str = "Owner") -> str:
    options = list(workers) if current in workers else [current, *workers]
    return st.selectbox(label, options, index=options.index(current), key=key,
                        format_func=lambda u: workers.get(u, u))


def _detail_inputs(fields: tuple[str, ...], opened_on: date, current: dict | None = None, prefix: str = "cf_d") -> dict:
    """One input per extra field the type records (DETAIL_FIELDS says what each is)."""
    values = {}
    current = current or {}
    places = st.columns(2) if len(fields) > 1 else [st.container()]
    for i, name in enumerate(fields):
        spec = intervention_types.DETAIL_FIELDS.get(name, intervention_types.DetailField(name, "text"))
        label = spec.label + ("" if spec.required else " (optional)")
        key = f"{prefix}_{name}"
        place = places[i % len(places)]
        if spec.kind == "date":
            default = date.fromisoformat(current[name]) if current.get(name) else (
                opened_on if spec.default == "opened_on" else None)
            values[name] = place.date_input(label, default, key=key, format="DD/MM/YYYY", help=spec.help or None)
        elif spec.kind == "choice":
            options = list(spec.options)
            index = options.index(current[name]) if current.get(name) in options else (
                options.index(spec.default) if spec.default in options else None)
            values[name] = place.selectbox(label, options, index=index, key=key, format_func=spec.label_of,
                                           help=spec.help or None, placeholder="Choose…")
        else:
            values[name] = place.text_input(label, current.get(name, ""), key=key, help=spec.help or None)
    return values


def _type_label(types: pd.DataFrame):
    by_name = types.set_index("name")
    return lambda name: f"{by_name.loc[name, 'tier']} · {by_name.loc[name, 'tier_name']} — {name}"


# --- log an action -----------------------------------------------------------------------


@st.dialog("Log an action", width="large", on_dismiss=_forget)
def log_action(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        pupil = _pupil(db, wanted["pupil_id"])
        types = intervention_types.intervention_types(db)
        workers = case_workers(db)
    if pupil is None:
        st.error("That pupil is no longer in the store.")
        return
    st.markdown(_who(pupil))
    type_name = st.selectbox(
        "What was done", types["name"].tolist(), index=None, key="cf_type", format_func=_type_label(types),
        placeholder="Choose the kind of action…",
        help="Listed by tier of the DfE's approach: support first (1 Expect … 4 Facilitate support), "
             "then formal support (5) and enforcement (6).")
    if type_name is None:
        st.caption("Choose what was done; its own fields appear below.")
        return
    kind = types.set_index("name").loc[type_name]
    if kind["help"]:
        st.caption(md(kind["help"]))
    if intervention_types.PENALTY_FIELD in kind["details"] and not viewer.sees_contacts:
        # The form names the parents and counts each one's notices: not on a shared screen.
        st.info("Penalty notices are recorded outside meeting mode: the form names the parents and carers. "
                "Turn meeting mode off in the sidebar to record one.", icon=":material/gavel:")
        return
    where_only = intervention_types.WHERE_ONLY_FIELD in kind["details"]

    left, right = st.columns(2)
    opened_on = left.date_input("Started on", today(), key="cf_opened", max_value=today(), format="DD/MM/YYYY")
    with right:
        owner = _owner_picker(workers, user.username, "cf_owner")
    details = _detail_inputs(kind["details"], opened_on)
    parent = None
    if intervention_types.PENALTY_FIELD in kind["details"]:
        with store.opened(reads.db_path()) as db:
            known = families.parents(db, viewer, [wanted["pupil_id"]])[wanted["pupil_id"]]
            parent = st.selectbox("Issued to", known, index=0 if len(known) == 1 else None, key="cf_parent",
                                  accept_new_options=True, placeholder="Choose or type the parent or carer…",
                                  help="Notices are counted per parent per child; one with no parent recorded "
                                       "is counted with this child's other notices that have none.")
            issued = details.get(intervention_types.PENALTY_FIELD) or opened_on
            allowed = penalty_notices.penalty_next_step(db, viewer, wanted["pupil_id"], issued, parent)
            st.caption(md(allowed) if parent else f"Choose who it was issued to: notices are counted per parent. {md(allowed)}")

    review_on = None
    if kind["needs_review_date"]:
        review_on = st.date_input(
            "Review on", opened_on + timedelta(weeks=cases.REDUCED_TIMETABLE_REVIEW_WEEKS),
            key=f"cf_review_{opened_on.isoformat()}", min_value=opened_on, format="DD/MM/YYYY",
            help=f"Normally within {cases.REDUCED_TIMETABLE_REVIEW_WEEKS} weeks.")
        if review_on and review_on > opened_on + timedelta(weeks=cases.REDUCED_TIMETABLE_REVIEW_WEEKS):
            st.warning(f"That is more than {cases.REDUCED_TIMETABLE_REVIEW_WEEKS} weeks away; "
                       "a reduced timetable is normally reviewed sooner.")

    check_left, check_right = st.columns(2)
    book = check_left.checkbox("Book a check-in", True, key="cf_book")
    check_in_on = check_right.date_input(
        "Check-in on", opened_on + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS),
        key=f"cf_checkin_{opened_on.isoformat()}", min_value=opened_on, format="DD/MM/YYYY", disabled=not book,
        help=f"{cases.DEFAULT_CHECK_IN_DAYS} days after it started unless you choose another date; "
             "the owner sees it in their caseload.")

    if where_only:
        st.info("Record only **where** the referral is recorded (the school's safeguarding system) — never the "
                "concern itself. There is no summary or note for this kind of action.", icon=":material/shield:")
        summary, sensitive = "", ""
    else:
        summary = st.text_area("Summary", key="cf_summary", height=90,
                               placeholder="What was done and agreed, in a sentence or two.")
        sensitive = ""
        if viewer.sees_sensitive:
            sensitive = st.text_area("Sensitive note (optional)", key="cf_sensitive", height=68,
                                     help="Seen only by the pastoral lead (DSL) and administrators.")
    if st.button("Save action", type="primary", key="cf_save", icon=":material/save:"):
        booked = f"; check-in booked for {uk(check_in_on)}" if book else ""
        _save(lambda db: cases.open_intervention(
            db, viewer, wanted["pupil_id"], type_name, owner, opened_on, summary=summary, sensitive_note=sensitive,
            review_on=review_on, check_in_on=check_in_on if book else None, details=details, parent=parent),
            f"{type_name} recorded{booked}.")


# --- log a contact ------------------------------------------------------------------------


@st.dialog("Log a contact", width="large", on_dismiss=_forget)
def log_contact(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        pupil = _pupil(db, wanted["pupil_id"])
        open_actions = cases.interventions(db, viewer, [wanted["pupil_id"]], status="open")
    if pupil is None:
        st.error("That pupil is no longer in the store.")
        return
    st.markdown(_who(pupil))
    kind = st.segmented_control("Kind of contact", list(cases.CONTACT_KINDS), default="call", key="cf_kind",
                                format_func=cases.CONTACT_KINDS.get, required=True)
    left, right = st.columns(2)
    with_whom = left.text_input("With whom", key="cf_with", placeholder="e.g. mother, social worker, school nurse")
    contact_on = right.date_input("When", today(), key="cf_when", max_value=today(), format="DD/MM/YYYY")
    action_labels = {int(r.id): f"{r.type} (from {uk(r.opened_on)})" for r in open_actions.itertuples()}
    action = st.selectbox("Part of an action (optional)", list(action_labels), index=None, key="cf_action",
                          format_func=action_labels.get, placeholder="Not part of an open action")
    summary = st.text_area("Summary", key="cf_summary", height=90, placeholder="What was said and agreed.")
    sensitive = ""
    if viewer.sees_sensitive:
        sensitive = st.text_area("Sensitive note (optional)", key="cf_sensitive", height=68,
                                 help="Seen only by the pastoral lead (DSL) and administrators.")
    if st.button("Save contact", type="primary", key="cf_save", icon=":material/save:"):
        _save(lambda db: cases.log_contact(db, viewer, wanted["pupil_id"], kind, contact_on, with_whom, summary,
                                           sensitive, intervention_id=action),
              f"{cases.CONTACT_KINDS[kind]} with {with_whom.strip()} recorded.")


# --- edit or close an action --------------------------------------------------------------


def _action(db, viewer: auth.Viewer, intervention_id: int) -> tuple[dict | None, pd.Series | None]:
    actions = cases.interventions(db, viewer)
    found = actions[actions["id"] == intervention_id]
    if found.empty:
        return None, None
    action = found.iloc[0].to_dict()
    kind = intervention_types.intervention_types(db, include_inactive=True).set_index("name").loc[action["type"]]
    return action, kind


def _action_heading(action: dict) -> None:
    name = pupil_name(action["surname"], action["forename"], sidebar.meeting_mode())
    st.markdown(f"**{md(name)}** · {md(action['type'])} · started {uk(action['opened_on'])} · owner {md(action['owner'])}")


@st.dialog("Edit an action", width="large", on_dismiss=_forget)
def edit_action(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        action, kind = _action(db, viewer, wanted["intervention_id"])
        workers = case_workers(db)
    if action is None:
        st.error("That action is not one you can see.")
        return
    _action_heading(action)
    if action["status"] != "open":
        st.info("This action is closed; its record and history are kept. Open a new action instead.")
        return
    changes: dict = {}
    owner = _owner_picker(workers, action["owner"], "cf_owner")
    if owner != action["owner"]:
        changes["owner"] = owner
    if kind["needs_review_date"] or action["review_on"]:
        review_on = st.date_input("Review on", action["review_on"], key="cf_review", min_value=action["opened_on"],
                                  format="DD/MM/YYYY")
        if review_on != action["review_on"]:
            changes["review_on"] = review_on
    details = _detail_inputs(kind["details"], action["opened_on"], action["details"])
    entered = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items() if v not in (None, "")}
    if entered != action["details"]:
        changes["details"] = details
    if intervention_types.WHERE_ONLY_FIELD not in kind["details"] and viewer.shared_screen:
        # On a shared screen the summary shows without names (cases.names_off_shared_screen):
        # edited from there, the names would be lost.
        st.caption("The summary and notes are edited outside meeting mode.")
    elif intervention_types.WHERE_ONLY_FIELD not in kind["details"]:
        summary = st.text_area("Summary", action.get("summary", ""), key="cf_summary", height=90)
        if summary.strip() != action.get("summary", ""):
            changes["summary"] = summary
        if viewer.sees_sensitive:
            sensitive = st.text_area("Sensitive note", action.get("sensitive_note", ""), key="cf_sensitive", height=68,
                                     help="Seen only by the pastoral lead (DSL) and administrators.")
            if sensitive.strip() != action.get("sensitive_note", ""):
                changes["sensitive_note"] = sensitive
    st.caption("The record as it was before this change is kept in the action's history.")
    if st.button("Save changes", type="primary", key="cf_save", icon=":material/save:"):
        if not changes:
            _forget()
            st.rerun()
        _save(lambda db: cases.edit_intervention(db, viewer, wanted["intervention_id"], **changes),
              f"{action['type']} updated.")


@st.dialog("Close an action", width="large", on_dismiss=_forget)
def close_action(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        action, _ = _action(db, viewer, wanted["intervention_id"])
    if action is None:
        st.error("That action is not one you can see.")
        return
    _action_heading(action)
    if action["status"] != "open":
        st.info(f"Already closed on {uk(action['closed_on'])}.")
        return
    outcome = st.text_area("Outcome", key="cf_outcome", height=90,
                           placeholder="What came of it, e.g. “Attending full time since 03/11”.")
    closed_on = st.date_input("Closed on", today(), key="cf_closed", min_value=action["opened_on"],
                              max_value=max(today(), action["opened_on"]), format="DD/MM/YYYY")
    st.caption("Closing keeps the record and its history; check-ins still booked for it are marked not needed.")
    if st.button("Close action", type="primary", key="cf_save", icon=":material/task_alt:"):
        _save(lambda db: cases.close_intervention(db, viewer, wanted["intervention_id"], outcome, closed_on),
              f"{action['type']} closed.")


# --- complete a check-in -------------------------------------------------------------------


@st.dialog("Complete a check-in", width="large", on_dismiss=_forget)
def complete_checkin(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        due = cases.checkins(db, viewer, today(), outstanding_only=False)
    found = due[due["id"] == wanted["checkin_id"]]
    if found.empty:
        st.error("That check-in is not one you can see.")
        return
    checkin = found.iloc[0]
    name = pupil_name(checkin["surname"], checkin["forename"], sidebar.meeting_mode())
    about = f" · {md(checkin['type'])}" if checkin["type"] else ""
    st.markdown(f"**{md(name)}**{about} · due {uk(checkin['due_on'])} · owner {md(checkin['owner'])}")
    if checkin["done_on"] is not None:
        st.info(f"Already done on {uk(checkin['done_on'])}.")
        return
    left, right = st.columns(2)
    done_on = left.date_input("Done on", today(), key="cf_done", max_value=today(), format="DD/MM/YYYY")
    outcome = right.text_input("How did it go?", key="cf_outcome", placeholder="e.g. Attending every day this week")
    note = st.text_area("Note (optional)", key="cf_note", height=68)
    next_left, next_right = st.columns(2)
    again = next_left.checkbox("Book the next check-in", False, key="cf_again")
    next_due = next_right.date_input("Next check-in on", done_on + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS),
                                     key=f"cf_next_{done_on.isoformat()}", min_value=done_on, format="DD/MM/YYYY",
                                     disabled=not again)
    if st.button("Save check-in", type="primary", key="cf_save", icon=":material/save:"):
        _save(lambda db: cases.complete_checkin(db, viewer, wanted["checkin_id"], done_on, outcome, note,
                                                next_due if again else None),
              "Check-in recorded" + (f"; the next is booked for {uk(next_due)}." if again else "."))


# --- key adult ------------------------------------------------------------------------------


@st.dialog("Key adult", on_dismiss=_forget)
def key_adult(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        pupil = _pupil(db, wanted["pupil_id"])
        workers = {u.username: u.name for u in auth.list_users(db) if u.active}
        current = cases.key_adults(db, [wanted["pupil_id"]])
    if pupil is None:
        st.error("That pupil is no longer in the store.")
        return
    st.markdown(_who(pupil))
    now = current["key_adult"].iloc[0] if not current.empty else None
    staff = st.selectbox("Key member of staff", list(workers), index=list(workers).index(now) if now in workers else None,
                         key="cf_key_adult", format_func=workers.get, placeholder="Choose a member of staff…",
                         help="The adult in school this pupil goes to; shown on the pupil's page.")
    if st.button("Save", type="primary", key="cf_save", disabled=staff is None):
        _save(lambda db: cases.assign_key_adult(db, viewer, wanted["pupil_id"], staff),
              f"{workers[staff]} is now the key adult.")


# --- attendance support plans (core/support_plans.py) ----------------------------------------------


def _open_plan(user: auth.User, wanted: dict) -> tuple[auth.Viewer, support_plans.Plan | None]:
    """The viewer and the pupil's open plan, headed by the pupil; None (said why) without one."""
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        plan = support_plans.plan_of(db, viewer, wanted["pupil_id"])
        pupil = _pupil(db, wanted["pupil_id"])
    if plan is None or not plan.is_open or pupil is None:
        st.error("This pupil has no open support plan; start one first.")
        return viewer, None
    st.markdown(_who(pupil))
    return viewer, plan


def _early_help_picker(current: str, key: str) -> str:
    options = list(support_plans.EARLY_HELP)
    return st.selectbox("Early Help", options, index=options.index(current), key=key,
                        format_func=support_plans.EARLY_HELP.get,
                        help="Whether Early Help (the LA's family support) was offered, and what the family said.")


@st.dialog("Start an attendance support plan", width="large", on_dismiss=_forget)
def plan_start(user: auth.User, wanted: dict) -> None:
    viewer = viewer_for(user)
    with store.opened(reads.db_path()) as db:
        pupil = _pupil(db, wanted["pupil_id"])
        workers = case_workers(db)
        weeks = support_plans.review_weeks(store.get_settings(db))
    if pupil is None:
        st.error("That pupil is no longer in the store.")
        return
    st.markdown(_who(pupil))
    left, right = st.columns(2)
    started_on = left.date_input("Started on", today(), key="pf_started", max_value=today(), format="DD/MM/YYYY")
    with right:
        owner = _owner_picker(workers, user.username, "pf_owner", "Kept by")
    left, right = st.columns(2)
    with left:
        early_help = _early_help_picker("not_offered", "pf_early_help")
    first_review = right.date_input(
        "First review", support_plans.review_due(started_on, weeks), key=f"pf_review_{started_on.isoformat()}",
        min_value=started_on + timedelta(days=1), format="DD/MM/YYYY",
        help=f"{weeks} weeks after the plan starts (the setting “plan_review_weeks”) unless you bring it forward.")
    if viewer.shared_screen:
        st.caption("Barriers are written outside meeting mode; add them once meeting mode is off.")
        barriers = ""
    else:
        barriers = st.text_area("Barriers to attendance", key="pf_barriers", height=90,
                                placeholder="What the pupil and family say makes attending hard, e.g. anxiety about "
                                            "the bus, caring for a younger sibling.")
    st.caption("Add the actions agreed by the school, the family and others, and a target, once the plan is started.")
    if st.button("Start plan", type="primary", key="pf_save", icon=":material/save:"):
        _save(lambda db: support_plans.start_plan(db, viewer, wanted["pupil_id"], started_on, owner, barriers,
                                                  early_help, first_review),
              f"Support plan started; first review {uk(first_review)}.")


@st.dialog("Support plan: add an agreed action", width="large", on_dismiss=_forget)
def plan_action(user: auth.User, wanted: dict) -> None:
    viewer, plan = _open_plan(user, wanted)
    if plan is None:
        return
    party = st.segmented_control("Who will do it", list(support_plans.PARTIES), default="school", key="pf_party",
                                 format_func=support_plans.PARTIES.get, required=True)
    agency = ""
    if party == "other":
        agency = st.text_input("Agency or person", key="pf_agency", placeholder="e.g. Early Help, school nurse, CAMHS")
    action = st.text_input("What was agreed", key="pf_action", max_chars=support_plans.ACTION_LIMIT,
                           placeholder="e.g. Breakfast club every morning from Monday")
    by = st.date_input("By (optional)", None, key="pf_by", min_value=plan.plan["started_on"], format="DD/MM/YYYY")
    if st.button("Add action", type="primary", key="pf_save", icon=":material/save:"):
        _save(lambda db: support_plans.add_action(db, viewer, plan.id, party, action, by, agency),
              "Action added to the support plan.")


@st.dialog("Support plan: set a target", on_dismiss=_forget)
def plan_target(user: auth.User, wanted: dict) -> None:
    viewer, plan = _open_plan(user, wanted)
    if plan is None:
        return
    pct = st.number_input("Attendance to reach (%)", min_value=1.0, max_value=100.0, value=90.0, step=0.5,
                          key="pf_target_pct")
    left, right = st.columns(2)
    set_on = left.date_input("From", max(today(), plan.plan["started_on"]), key="pf_target_from",
                             min_value=plan.plan["started_on"], format="DD/MM/YYYY")
    by = right.date_input("By", set_on + timedelta(weeks=6), key=f"pf_target_by_{set_on.isoformat()}",
                          min_value=set_on + timedelta(days=1), format="DD/MM/YYYY")
    st.caption("Progress is the pupil's attendance from the week the target is set, drawn on their weekly chart.")
    if st.button("Set target", type="primary", key="pf_save", icon=":material/save:"):
        _save(lambda db: support_plans.add_target(db, viewer, plan.id, pct, by, set_on),
              f"Target {pct:.1f}% by {uk(by)} set.")


@st.dialog("Support plan: record a review", width="large", on_dismiss=_forget)
def plan_review(user: auth.User, wanted: dict) -> None:
    viewer, plan = _open_plan(user, wanted)
    if plan is None:
        return
    with store.opened(reads.db_path()) as db:
        weeks = support_plans.review_weeks(store.get_settings(db))
    st.caption(f"Review due {uk(plan.plan['next_review_on'])}.")
    left, right = st.columns(2)
    held_on = left.date_input("Held on", today(), key="pf_held", min_value=plan.plan["started_on"],
                              max_value=max(today(), plan.plan["started_on"]), format="DD/MM/YYYY")
    following = right.date_input("Next review", support_plans.review_due(held_on, weeks),
                                 key=f"pf_next_{held_on.isoformat()}", min_value=held_on + timedelta(days=1),
                                 format="DD/MM/YYYY", help=f"{weeks} weeks on unless you bring it forward.")
    attendance = st.number_input("Attendance at the review (%, optional)", min_value=0.0, max_value=100.0, value=None,
                                 step=0.1, key="pf_review_pct")
    changes = {}
    with st.expander("Early Help and actions"):
        early_help = _early_help_picker(plan.plan["early_help"], "pf_review_early_help")
        if early_help != plan.plan["early_help"]:
            changes["early_help"] = early_help
        for action in plan.actions.to_dict("records"):
            status = st.selectbox(f"{support_plans.PARTIES[action['party']]}: {action['action']}",
                                  list(support_plans.ACTION_STATUSES), key=f"pf_status_{action['id']}",
                                  index=list(support_plans.ACTION_STATUSES).index(action["status"]),
                                  format_func=support_plans.ACTION_STATUSES.get)
            if status != action["status"]:
                changes[f"action_{action['id']}"] = (action["id"], status)
    if viewer.shared_screen:
        st.caption("Review notes are written outside meeting mode.")
        note = ""
    else:
        note = st.text_area("Notes", key="pf_note", height=90, placeholder="What has changed, what was agreed.")

    def write(db) -> None:
        # The review first: a refusal (a date) stops the save before anything is written.
        support_plans.record_review(db, viewer, plan.id, held_on, note, attendance, following)
        for key, value in changes.items():
            if key == "early_help":
                support_plans.edit_plan(db, viewer, plan.id, early_help=value)
            else:
                support_plans.set_action_status(db, viewer, *value)

    if st.button("Save review", type="primary", key="pf_save", icon=":material/save:"):
        _save(write, f"Review recorded; the next is due {uk(following)}.")


@st.dialog("Support plan: barriers, Early Help, sharing", width="large", on_dismiss=_forget)
def plan_edit(user: auth.User, wanted: dict) -> None:
    viewer, plan = _open_plan(user, wanted)
    if plan is None:
        return
    changes: dict = {}
    early_help = _early_help_picker(plan.plan["early_help"], "pf_edit_early_help")
    if early_help != plan.plan["early_help"]:
        changes["early_help"] = early_help
    if viewer.shared_screen or "barriers" not in plan.plan:
        st.caption("Barriers are edited outside meeting mode.")
    else:
        barriers = st.text_area("Barriers to attendance", plan.plan["barriers"], key="pf_edit_barriers", height=90)
        if barriers.strip() != plan.plan["barriers"]:
            changes["barriers"] = barriers
    shared = st.checkbox("Shared with the parents", bool(plan.plan.get("shared_on")), key="pf_shared",
                         disabled=bool(plan.plan.get("shared_on")),
                         help="Tick once the plan (its PDF) has been given to the parents.")
    shared_on = plan.plan.get("shared_on") or today()

    def write(db) -> None:
        if changes:
            support_plans.edit_plan(db, viewer, plan.id, **changes)
        if shared and not plan.plan.get("shared_on"):
            support_plans.mark_shared(db, viewer, plan.id, shared_on)

    if st.button("Save", type="primary", key="pf_save", icon=":material/save:"):
        _save(write, "Support plan updated.")


@st.dialog("Close the support plan", on_dismiss=_forget)
def plan_close(user: auth.User, wanted: dict) -> None:
    viewer, plan = _open_plan(user, wanted)
    if plan is None:
        return
    outcome = st.text_area("Outcome", key="pf_outcome", height=90,
                           placeholder="How the plan ended, e.g. “Attending every day for six weeks”.")
    closed_on = st.date_input("Closed on", today(), key="pf_closed", min_value=plan.plan["started_on"],
                              max_value=max(today(), plan.plan["started_on"]), format="DD/MM/YYYY")
    st.caption("Closing keeps the plan, its actions, targets and reviews.")
    if st.button("Close plan", type="primary", key="pf_save", icon=":material/task_alt:"):
        _save(lambda db: support_plans.close_plan(db, viewer, plan.id, closed_on, outcome), "Support plan closed.")


FORMS = {
    "action": log_action,
    "contact": log_contact,
    "edit": edit_action,
    "close": close_action,
    "checkin": complete_checkin,
    "key_adult": key_adult,
    "plan_start": plan_start,
    "plan_action": plan_action,
    "plan_target": plan_target,
    "plan_review": plan_review,
    "plan_edit": plan_edit,
    "plan_close": plan_close,
}
