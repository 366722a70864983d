"""The statutory workflows of issue 17 as screen parts: the penalty-notice ledger and children
missing education, on the pupil page (each step's form where the workflow waits for it), the
ledger list on Casework and the overdue missing-education steps on Today.

Thin: every rule, date and refusal is core's (core/penalty_ledger.py, core/missing_education.py);
these read the inputs, call core and draw. Text a person typed is shown as text (tables) or
through `md`. In meeting mode the forms are not drawn (they name parents and say why), and
core leaves parents' names, reasons, notes and who did a step out of what it returns.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app_pages.ui import case_forms, lists
from app_pages.ui.formatting import dataframe, md, names, shown, uk
from core import auth, missing_education, penalty_ledger, penalty_notices, reads, store
from core.penalty_notices import PenaltyFramework

MESSAGE_KEY = "workflow_message"


def _write(write, message: str) -> None:
    """A workflow form's write (`case_forms.wrote`): a success is confirmed beside the section
    once the screen has redrawn."""
    if not case_forms.wrote(write):
        return
    st.session_state[MESSAGE_KEY] = message
    st.rerun()


def _saved_message() -> None:
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(md(message), icon=":material/check:")


def _outside_meeting_mode(viewer: auth.Viewer) -> bool:
    if viewer.shared_screen:
        st.caption("Recorded outside meeting mode: the forms name parents and carers and say why.")
        return False
    return True


# --- penalty-notice ledger on the pupil page -------------------------------------------------


def _ledger_table(entries: pd.DataFrame, masked: bool) -> pd.DataFrame:
    return shown(pd.DataFrame({
        "Threshold reached": entries["threshold_on"].map(uk), "Parent": entries["parent"],
        "Sessions": entries["sessions"], "Notice to Improve": [
            "" if not i else f"{uk(i)} to {uk(e)}" + (f" · {penalty_ledger.NTI_OUTCOMES[o].split(' —')[0].lower()}"
                                                        if o else "")
            for i, e, o in zip(entries["nti_issued_on"], entries["nti_period_end"], entries["nti_outcome"])],
        "Decision": [f"{'Issue' if d == penalty_ledger.ISSUE else 'Waive'} · {uk(on)} · {by}" if d else ""
                     for d, on, by in zip(entries["decision"], entries["decided_on"], entries["decided_by"])],
        "Reason": entries["decision_reason"],
        "Notice issued": [f"{uk(i)} ({penalty_notices.ordinal(n)} in window)" if i else ""
                          for i, n in zip(entries["notice_issued_on"], entries["number_in_window"])],
        "Next step": entries["next_step"],
    }, index=entries.index), masked)


def penalty_ledger_section(user: auth.User, viewer: auth.Viewer, pupil_id: int, now: date, masked: bool,
                           reached_by: date) -> None:
    """The pupil's ledger: each threshold with its sessions and where it stands, and the form
    for the step each entry waits for (`reached_by`: the date a new threshold is looked for up to,
    the registers' latest date chosen in the sidebar)."""
    st.subheader("Penalty-notice ledger")
    _saved_message()
    with store.opened(reads.db_path()) as db:
        entries = penalty_ledger.ledger(db, viewer, now, [pupil_id])
        framework = PenaltyFramework.of(db)
        shortest, longest = penalty_ledger.improvement_weeks(db)
    st.caption(framework.describe() + " Sessions used for one entry are not counted again for the same parent.")
    if entries.empty:
        st.caption("No threshold recorded in the ledger for this pupil.")
    else:
        overdue = entries["overdue"].astype(bool)
        dataframe(lists.styled(_ledger_table(entries, masked), overdue, ()), hide_index=True, width="stretch",
                  column_config={"Next step": st.column_config.TextColumn(width="large")})
    writer = auth.may(user.role, "case_work")
    if not writer or not _outside_meeting_mode(viewer):
        return
    with st.popover("Record a threshold reached", icon=":material/gavel:"):
        with st.form(f"pl_open_{pupil_id}", border=False):
            parent = st.text_input("Parent or carer", max_chars=200, key=f"pl_parent_{pupil_id}",
                                   help="Notices are counted per parent per child.")
            as_of = st.date_input("Reached by", reached_by, format="DD/MM/YYYY", key=f"pl_asof_{pupil_id}",
                                  help="The first threshold reached this academic year up to this date, among "
                                       "sessions no earlier entry for this parent used.")
            if st.form_submit_button("Find the threshold and record it", type="primary"):
                _write(lambda db: penalty_ledger.open_entry(db, viewer, pupil_id, parent, as_of),
                       "Threshold recorded in the ledger with the sessions behind it.")
    for entry in entries.to_dict("records"):
        _entry_forms(viewer, entry, now, shortest, longest)


def _entry_forms(viewer: auth.Viewer, entry: dict, now: date, shortest: int, longest: int) -> None:
    if entry["next_step"] == "Closed":
        return
    key = f"pl_{entry['id']}"
    title = f"Threshold of {uk(entry['threshold_on'])} · {entry['parent']} — {entry['next_step']}"
    with st.expander(md(title), expanded=bool(entry["overdue"])):
        st.caption("Sessions: " + md(entry["sessions_text"]))
        if entry["notice_issued_on"]:
            paid_column, withdrawn_column = st.columns(2, gap="large")
            if entry["overdue"]:
                paid_column.warning("The days to pay are over: the notice can no longer be paid. Refer it to the "
                                    "local authority, which considers prosecution.", icon=":material/gavel:")
            else:
                with paid_column, st.form(f"{key}_paid"):
                    paid_on = st.date_input("Paid on", now, format="DD/MM/YYYY", key=f"{key}_paid_on")
                    if st.form_submit_button("Record payment", type="primary"):
                        _write(lambda db: penalty_ledger.record_paid(db, viewer, entry["id"], paid_on),
                               "Payment recorded at the amount due that day.")
            with withdrawn_column, st.form(f"{key}_withdrawn"):
                withdrawn_on = st.date_input("Withdrawn on", now, format="DD/MM/YYYY", key=f"{key}_withdrawn_on")
                why = st.text_input("Why (the LA's reason)", max_chars=2000, key=f"{key}_withdrawn_why")
                if st.form_submit_button("Record withdrawn"):
                    _write(lambda db: penalty_ledger.record_withdrawn(db, viewer, entry["id"], withdrawn_on, why),
                           "Notice recorded as withdrawn.")
            return
        if entry["decision"] == penalty_ledger.ISSUE:
            with st.form(f"{key}_issue"):
                issued_on = st.date_input("Notice issued on", now, format="DD/MM/YYYY", key=f"{key}_issued_on")
                note = st.text_input("Note (optional)", max_chars=500, key=f"{key}_issue_note")
                if st.form_submit_button("Record notice issued", type="primary"):
                    _write(lambda db: penalty_ledger.issue_notice(db, viewer, entry["id"], issued_on, note),
                           "Notice recorded as issued; its payment stage follows from today.")
            return
        if entry["nti_issued_on"] and not entry["nti_outcome"]:
            with st.form(f"{key}_outcome"):
                outcome = st.radio("Notice to Improve", list(penalty_ledger.NTI_OUTCOMES),
                                   format_func=penalty_ledger.NTI_OUTCOMES.get, key=f"{key}_outcome_choice")
                on = st.date_input("Recorded on", max(now, entry["nti_period_end"]), format="DD/MM/YYYY",
                                   key=f"{key}_outcome_on")
                if st.form_submit_button("Record the outcome", type="primary"):
                    _write(lambda db: penalty_ledger.record_improvement_outcome(db, viewer, entry["id"], outcome, on),
                           "Notice to Improve outcome recorded.")
            return
        decision_column, nti_column = st.columns(2, gap="large")
        with decision_column, st.form(f"{key}_decide"):
            decision = st.radio("Decision", list(penalty_ledger.DECISIONS), format_func=penalty_ledger.DECISIONS.get,
                                key=f"{key}_decision", horizontal=True)
            reason = st.text_area("Reason", max_chars=2000, height=80, key=f"{key}_reason")
            decided_on = st.date_input("Decided on", now, format="DD/MM/YYYY", key=f"{key}_decided_on")
            decided_by = st.text_input("Decided by", viewer.username, max_chars=200, key=f"{key}_decided_by")
            if st.form_submit_button("Record the decision", type="primary"):
                _write(lambda db: penalty_ledger.decide(db, viewer, entry["id"], decision, reason, decided_on,
                                                        decided_by), "Decision recorded.")
        if not entry["nti_issued_on"]:
            with nti_column, st.form(f"{key}_nti"):
                nti_on = st.date_input("Notice to Improve issued on", now, format="DD/MM/YYYY", key=f"{key}_nti_on")
                period_end = st.date_input(f"Improvement period ends ({shortest}–{longest} weeks)",
                                           now + timedelta(weeks=longest), format="DD/MM/YYYY", key=f"{key}_nti_end")
                if st.form_submit_button("Record Notice to Improve"):
                    _write(lambda db: penalty_ledger.record_notice_to_improve(db, viewer, entry["id"], nti_on,
                                                                              period_end),
                           "Notice to Improve recorded.")


# --- the ledger on Casework ------------------------------------------------------------------


def ledger_list(viewer: auth.Viewer, now: date, masked: bool) -> None:
    """Every ledger entry in the viewer's scope, overdue (unpaid past day 28, an improvement
    period ended with no outcome) in red."""
    with store.opened(reads.db_path()) as db:
        entries = penalty_ledger.ledger(db, viewer, now)
    st.subheader("Penalty-notice ledger")
    if entries.empty:
        st.caption("No thresholds in the ledger yet — record one from the pupil's page.")
        return
    open_now = entries[entries["next_step"] != "Closed"]
    st.markdown(f"**{len(open_now)} open, {int(entries['overdue'].sum())} overdue** · of {len(entries)} entries")
    table = pd.concat([pd.DataFrame({"Pupil": names(entries, masked), "Form": entries["form"]}),
                       _ledger_table(entries, masked).drop(columns=["Reason"])], axis=1)
    table = shown(table, masked)
    _with_open_buttons(entries, table, "cw_ledger", entries["overdue"].astype(bool),
                       {"Next step": st.column_config.TextColumn(width="large")})
    _, right = st.columns([4, 1.3])
    with right:
        lists.download_buttons(table.assign(Sessions=entries["sessions_text"].to_numpy()), "penalty_ledger", now,
                               "cw_ledger_dl")


# --- children missing education ----------------------------------------------------------------


def _steps_table(steps: pd.DataFrame, with_pupil: bool, masked: bool) -> pd.DataFrame:
    columns = {"Pupil": names(steps, masked), "Form": steps["form"]} if with_pupil else {}
    return shown(pd.DataFrame({
        **columns, "Absent from": steps["absent_from"].map(uk), "Step": steps["label"],
        "Due": steps["due_on"].map(uk), "Status": steps["status"], "Done on": steps["done_on"].map(uk),
        "By": steps["done_by"], "Note": steps["note"]}, index=steps.index), masked)


def missing_education_section(user: auth.User, viewer: auth.Viewer, pupil_id: int, now: date, masked: bool) -> None:
    """The pupil's children-missing-education case: its steps with due dates, and the forms."""
    st.subheader("Children missing education")
    with store.opened(reads.db_path()) as db:
        steps = missing_education.steps(db, viewer, now, [pupil_id])
    if steps.empty:
        st.caption("No open case. Start one when the pupil is absent without a reason and cannot be reached.")
    else:
        dataframe(lists.styled(_steps_table(steps, False, masked), steps["overdue"].astype(bool), ()),
                  hide_index=True, width="stretch", column_config={"Step": st.column_config.TextColumn(width="large")})
    if not auth.may(user.role, "case_work") or not _outside_meeting_mode(viewer):
        return
    if steps.empty:  # kept in a popover like the ledger's: most pupils never need it
        with st.popover("Start a case", icon=":material/person_search:"), st.form(f"cme_open_{pupil_id}", border=False):
            absent_from = st.date_input("Absent without a reason from", now, format="DD/MM/YYYY",
                                        key=f"cme_from_{pupil_id}")
            if st.form_submit_button("Start a children-missing-education case", type="primary"):
                _write(lambda db: missing_education.open_case(db, viewer, pupil_id, absent_from),
                       "Case started: the steps and their due dates are listed.")
        return
    case_id = int(steps["case_id"].iloc[0])
    to_do = steps[steps["done_on"].isna()]
    step_column, close_column = st.columns(2, gap="large")
    if not to_do.empty:
        with step_column, st.form(f"cme_step_{case_id}"):
            step = st.selectbox("Step done", to_do["step"].tolist(), key=f"cme_step_choice_{case_id}",
                                format_func=lambda s: missing_education.STEP_BY_KEY[s].label)
            done_on = st.date_input("Done on", now, format="DD/MM/YYYY", key=f"cme_done_on_{case_id}")
            done_by = st.text_input("Done by", viewer.username, max_chars=200, key=f"cme_done_by_{case_id}")
            note = st.text_area("Note", max_chars=2000, height=80, key=f"cme_note_{case_id}")
            if st.form_submit_button("Record step", type="primary"):
                _write(lambda db: missing_education.record_step(db, viewer, case_id, step, done_on, done_by, note),
                       "Step recorded.")
    with close_column, st.form(f"cme_close_{case_id}"):
        outcome = st.radio("Case ends", list(missing_education.OUTCOMES), format_func=missing_education.OUTCOMES.get,
                           key=f"cme_outcome_{case_id}")
        closed_on = st.date_input("On", now, format="DD/MM/YYYY", key=f"cme_closed_on_{case_id}")
        if st.form_submit_button("Close the case"):
            _write(lambda db: missing_education.close_case(db, viewer, case_id, outcome, closed_on), "Case closed.")


def overdue_on_today(viewer: auth.Viewer, scope: list[int] | None, now: date, masked: bool) -> None:
    """Today's list of children-missing-education steps overdue (nothing drawn when none)."""
    with store.opened(reads.db_path()) as db:
        overdue = missing_education.overdue_steps(db, viewer, now, scope)
    if overdue.empty:
        return
    with st.container(border=True, key="today_cme"):
        pupils = overdue["pupil_id"].nunique()
        st.markdown(f":red[**:material/person_search: Children missing education — {len(overdue)} step"
                    f"{'s' if len(overdue) != 1 else ''} overdue for {pupils} pupil{'s' if pupils != 1 else ''}**]")
        _with_open_buttons(overdue, _steps_table(overdue, True, masked).drop(columns=["Status", "Done on", "By", "Note"]),
                           "today_cme", None, {"Step": st.column_config.TextColumn(width="large")})


OPEN_KEY = "workflow_open_pupil"


def _with_open_buttons(frame: pd.DataFrame, table: pd.DataFrame, key: str, overdue: pd.Series | None,
                       config: dict) -> None:
    """`table` with an "Open" button in front of each row that opens that row's pupil (`frame`'s pupil_id)."""
    click_key = f"{key}_open"
    with_button = pd.concat([pd.DataFrame({"Open": "Open"}, index=table.index), table], axis=1)
    dataframe(lists.styled(with_button, overdue, (), plain=("Open",)), hide_index=True, width="stretch",
              height=min(38 + 35 * len(table), 420), column_config={
                  "Open": st.column_config.ButtonColumn("", type="tertiary", key=click_key, width=60, pinned=True,
                                                        on_click=lists.row_clicked,
                                                        args=(click_key, frame, _remember_open)), **config})
    if st.session_state.get(OPEN_KEY) is not None:
        lists.open_pupil(st.session_state.pop(OPEN_KEY))


def _remember_open(row: pd.Series) -> None:
    st.session_state[OPEN_KEY] = int(row["pupil_id"])
