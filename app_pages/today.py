"""Today — who do we call first? Every pupil with an unexplained absence this session (an
N, or no mark yet), pupils with a social worker, looked after or on the vulnerable list
first, with their parents' contact details, siblings and any open case; each call's
outcome logged in one click as a contact on the pupil's record. Today's register can be
uploaded (or pasted) here at any time of day."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui import access, formatting, lists, sidebar, workflows
from app_pages.ui.formatting import md, pupil_name, uk, uk_time, year_label
from app_pages.ui.guard import friendly_errors
from core import calendar, cases, codes, families, first_day, importers, letters, marks, reads, store

DAY_KEY, SESSION_KEY, SHOW_KEY = "t_day", "t_session", "t_show"
MESSAGE_KEY = "today_message"
UPLOAD_ROUND_KEY = "today_upload_round"
SHOWN = {"to_call": "Still to call", "call_back": "Call back", "all": "Everyone"}
SHOWN_STATUSES = {"to_call": first_day.STILL_TO_CALL, "call_back": (first_day.AWAITING,)}  # "all": every status
STATUS_BADGES = {
    first_day.TO_CALL: ("Not called yet", "red"),
    first_day.TRY_AGAIN: ("No answer — try again", "orange"),
    first_day.AWAITING: ("Message left", "blue"),
    first_day.DONE: ("Done", "green"),
}


def log(pupil_id: int, name: str, on: date, session: int, outcome: str, mark: str = "", with_whom: str = "") -> None:
    """A call's outcome, from a button (the page reruns and the list updates); the message
    names the pupil (as the screen shows them), so a call logged on the wrong card is seen."""
    try:
        with store.opened(reads.db_path()) as db:
            first_day.log_call(db, viewer, pupil_id, on, session, outcome, mark, with_whom)
        st.session_state[MESSAGE_KEY] = ("success", f"{name}: logged {first_day.OUTCOMES[outcome].lower()}"
                                         + (f" — enter {mark} in the MIS." if mark else "."))
    except cases.CaseError as error:
        st.session_state[MESSAGE_KEY] = ("error", f"{name}: {error}")


def log_reason(pupil_id: int, name: str, on: date, session: int, with_whom: str) -> None:
    mark = st.session_state.get(f"reason_{pupil_id}")
    if mark:
        log(pupil_id, name, on, session, "reason_given", mark, with_whom)


def upload_today(user) -> None:
    """A register export dropped or pasted here goes straight in (each file all-or-nothing)."""
    round_ = st.session_state.get(UPLOAD_ROUND_KEY, 0)
    left, right = st.columns(2, gap="medium")
    files = left.file_uploader("Drop the register export", type=["csv", "xlsx", "txt", "xml", "json"], accept_multiple_files=True,
                               key=f"today_files_{round_}")
    pasted = right.text_area("…or paste it (copied from the MIS report, with its header row)", height=110,
                             key=f"today_paste_{round_}")
    if st.button("Import", type="primary", icon=":material/database_upload:", key="today_import",
                 disabled=not files and not pasted.strip()):
        sources = [(f.name, f.getvalue()) for f in files or []]
        if pasted.strip():
            sources.append((f"pasted {date.today():%d-%m-%Y}.csv", pasted.encode("utf-8")))
        results = []
        with friendly_errors("importing today's register"):
            for name, content in sources:
                with store.opened(reads.db_path()) as db:
                    outcome = importers.import_bytes(db, content, name, user.username)
                problems = [p.message for p in outcome.problems if p.severity == "error"][:3]
                warnings = [p.message for p in outcome.problems if p.severity == "warning"][:3]
                results.append((name, outcome.status, outcome.marks_added, outcome.marks_changed, problems, warnings))
        st.session_state["today_results"] = results
        st.session_state[UPLOAD_ROUND_KEY] = round_ + 1
        for key in (DAY_KEY, SESSION_KEY):  # show the newest session uploaded
            st.session_state.pop(key, None)
        st.rerun()


def show_upload_results() -> None:
    for name, status, added, changed, problems, warnings in st.session_state.pop("today_results", []):
        if status == importers.REJECTED:
            st.error(f"**{md(name)}** was not imported: " + md(" ".join(problems)))
        elif status == importers.UNCHANGED:
            st.info(f"**{md(name)}** is already stored — nothing changed.")
        else:
            st.success(f"**{md(name)}** imported: {added:,} sessions added, {changed:,} marks changed.")
        for warning in warnings:
            st.caption(f"Note: {md(warning)}")


user = access.require("today")
viewer = formatting.viewer(user)
path, version = reads.db_path(), reads.version()
masked = sidebar.meeting_mode()

st.title("Today")
show_upload_results()
workflows.overdue_on_today(viewer, None, formatting.today(), masked)
with store.opened(path) as db:
    latest = first_day.latest_session(db)
if user.may("import"):
    with st.expander("Upload or paste today's register — at any time of day", expanded=latest is None,
                     icon=":material/upload_file:"):
        st.caption("A morning export is fine: an afternoon nobody has a mark for yet is not stored as missing marks.")
        upload_today(user)
if latest is None:
    lists.no_registers_yet(user)
    st.stop()

# --- which session --------------------------------------------------------------------

# A newer register (uploaded here or elsewhere) moves the screen to it; so does an undo.
if st.session_state.get("t_latest") != latest or st.session_state.get(DAY_KEY, latest[0]) > latest[0]:
    st.session_state[DAY_KEY] = latest[0]
    st.session_state.pop(SESSION_KEY, None)
    st.session_state["t_latest"] = latest
day_column, session_column, show_column, summary_column = st.columns([1.2, 1.0, 2.8, 3.0], vertical_alignment="bottom")
chosen_day = day_column.date_input("Register of", key=DAY_KEY, format="DD/MM/YYYY", max_value=latest[0])
with store.opened(path) as db:
    taken = first_day.sessions_taken(db, chosen_day)
default_session = max(taken) if taken else 0
if st.session_state.get(SESSION_KEY) not in (0, 1):
    st.session_state[SESSION_KEY] = default_session
chosen_session = session_column.segmented_control("Session", [0, 1], key=SESSION_KEY, required=True,
                                                  format_func=lambda s: calendar.SESSIONS[s])
st.session_state.setdefault(SHOW_KEY, "to_call")
show = show_column.segmented_control("Show", list(SHOWN), key=SHOW_KEY, required=True, format_func=SHOWN.get)

ids = reads.scoped_pupil_ids(user, path, version)
scope = None if ids is None else list(ids)
with store.opened(path) as db:
    found = first_day.call_list(db, chosen_day, chosen_session, scope)
    on_list = found.pupils["pupil_id"].tolist()
    contacts = families.contacts(db, viewer, on_list).set_index("pupil_id") if on_list else pd.DataFrame()
    sibling_pairs = families.siblings(db, on_list)
    if scope is not None:  # a sibling the user may not see is not named
        sibling_pairs = sibling_pairs[sibling_pairs["sibling_id"].isin(scope)]
    open_cases = cases.interventions(db, viewer, on_list, status="open") if on_list else pd.DataFrame()
    stages = letters.stages(db, viewer, on_list, since=calendar.academic_year_start(chosen_day)).set_index("pupil_id")
    shown_siblings = sorted(set(sibling_pairs["sibling_id"].astype(int)))  # only they are read
    everyone = store.pupils_frame(db, pupil_ids=shown_siblings, columns=("id", "surname", "forename", "form")
                                  ).set_index("id")
    sibling_marks = marks.codes_at_session(db, calendar.to_day(chosen_day), chosen_session, shown_siblings)

message = st.session_state.pop(MESSAGE_KEY, None)
if message:
    (st.success if message[0] == "success" else st.error)(md(message[1]))

if not found.taken:
    st.info(f"The {found.label} register has not been uploaded yet — nobody has a mark for it. "
            + ("Upload it above once it is taken." if user.may("import") else "The attendance officer uploads it."))
    st.stop()

table = found.pupils
counts = table["status"].value_counts()
with summary_column:
    st.markdown(f"#### {found.still_to_call:,} still to call")
    st.caption(f"{int(counts.get(first_day.AWAITING, 0)):,} to call back (message left) · "
               f"{int(counts.get(first_day.DONE, 0)):,} done "
               f"· {len(table):,} unexplained absences")
st.caption(f"Register of {found.label} · unexplained absence: N (no reason yet), or no mark yet · "
           "social worker, looked after and vulnerable pupils first"
           + ("" if user.sees_all_pupils else f" · {md(user.scope_label())} only"))
if not found.registers_not_taken.empty:
    forms = md(", ".join(f"{r.form or '(no form)'} ({r.pupils})" for r in found.registers_not_taken.itertuples()))
    st.warning(f"Registers not taken yet: {forms}. Their pupils are not listed — ask the form tutor to take the "
               "register, then upload again.", icon=":material/assignment_late:")

shown = table[table["status"].isin(SHOWN_STATUSES[show])] if show in SHOWN_STATUSES else table
if table.empty:
    st.success(f"No unexplained absences in the {found.label} register.")
    st.stop()
if shown.empty:
    st.success("Nobody is waiting for a call back." if show == "call_back" else
               "Everyone has been called. Switch to “Everyone” to see the calls made.")
elif show == "call_back":
    st.caption("A message was left for these families: when they ring back, log what they say here.")

reason_marks = reads.settings(path, version)["first_day_call_marks"]
siblings_of = sibling_pairs.groupby("pupil_id")["sibling_id"].agg(list).to_dict()
cases_of = open_cases.groupby("pupil_id")["type"].agg(list).to_dict() if not open_cases.empty else {}


def sibling_line(sibling_id: int) -> str:
    sibling = everyone.loc[sibling_id]
    mark = sibling_marks.get(sibling_id)
    today = ("no mark yet" if mark is None or mark == "" else
             f"{codes.meaning(mark)}" if mark not in ("/", "\\") else "present")
    return md(f"{pupil_name(sibling['surname'], sibling['forename'], masked)} ({sibling['form'] or '—'}): {today}")


OUTCOME_BUTTONS = (("reached", "Reached"), ("message_left", "Message left"), ("no_answer", "No answer"))
PAGE_SIZE = 25  # pupils drawn at once; the list moves up as calls are logged
more = len(shown) - PAGE_SIZE
if more > 0 and not st.session_state.get("t_all"):
    shown = shown.head(PAGE_SIZE)

for row in shown.itertuples():
    pupil_id = int(row.pupil_id)
    name = pupil_name(row.surname, row.forename, masked)
    person = contacts.loc[pupil_id].to_dict() if pupil_id in contacts.index else {}
    with st.container(border=True, key=f"pupil_{pupil_id}"):
        who, details, actions = st.columns([2.4, 2.9, 3.9], gap="medium")
        with who:
            st.markdown(f"**{md(name)}** · {md(row.form) or '—'} · "
                        f"{year_label(row.year_group)}")
            label, colour = STATUS_BADGES[row.status]
            badges = [f":{colour}-badge[{label}]", f":gray-badge[{md(row.absence)}]"]
            if row.priority_reasons:
                badges.insert(0, f":violet-badge[:material/priority_high: {md(row.priority_reasons)}]")
            st.markdown(" ".join(badges))
            if st.button("Open record", key=f"open_{pupil_id}", type="tertiary", icon=":material/person:"):
                lists.open_pupil(pupil_id)
        with details:
            lines = families.contact_lines(person)
            st.markdown("  \n".join(md(line) for line in lines) if lines and not masked else
                        "*Contacts hidden in meeting mode*" if lines else
                        "*No parent contact in the roll — upload a roll with contacts.*")
            extra = [f"Siblings: {'; '.join(sibling_line(s) for s in siblings_of[pupil_id])}"] \
                if pupil_id in siblings_of else []
            if pupil_id in cases_of:
                extra.append(f"Open: {md(', '.join(dict.fromkeys(cases_of[pupil_id])))}")
            if pupil_id in stages.index:
                extra.append(letters.stage_label(stages.loc[pupil_id, "stage"]) + " sent "
                             + uk(stages.loc[pupil_id, "stage_on"]))
            if row.calls:
                extra.append(f"{row.calls} call{'s' if row.calls != 1 else ''} · last: {md(row.last_outcome.lower())}"
                             + (f" — enter {md(row.mark_to_enter)} in the MIS" if row.mark_to_enter else "")
                             + f" · {uk_time(row.last_called_at)} by {md(row.last_called_by)}")
            if extra:
                st.caption("  \n".join(extra))
        with actions:
            with_whom = first_day.who_to_ask_for(person)
            if person.get("contact2_name"):
                second = first_day.who_to_ask_for({"contact1_name": person["contact2_name"],
                                                   "contact1_relationship": person["contact2_relationship"]})
                # Each contact by relationship; without one, by name — or, where names are
                # hidden (meeting mode), as the first or second contact.
                short = {with_whom: person.get("contact1_relationship") or (with_whom if not masked else "contact 1"),
                         second: person.get("contact2_relationship") or (second if not masked else "contact 2")}
                with_whom = st.segmented_control("Calling", [with_whom, second], default=with_whom,
                                                 key=f"whom_{pupil_id}", format_func=lambda w: f"Calling {md(short[w])}",
                                                 label_visibility="collapsed") or with_whom
            for column, (outcome, label) in zip(st.columns(3, gap="small"), OUTCOME_BUTTONS):
                column.button(label, key=f"call_{pupil_id}_{outcome}", on_click=log, width="stretch",
                              args=(pupil_id, name, chosen_day, chosen_session, outcome, "", with_whom))
            # A reason is picked, then logged with its own button: a slip in the list logs nothing.
            reason_column, log_column = st.columns([1.8, 1.2], gap="small", vertical_alignment="bottom")
            reason = reason_column.selectbox(
                "Reason given → mark to enter in the MIS", reason_marks, index=None, key=f"reason_{pupil_id}",
                placeholder="Reason given → mark to enter in the MIS…", label_visibility="collapsed",
                format_func=lambda c: f"Reason given: {codes.meaning(c)}")
            log_column.button("Log reason", key=f"log_reason_{pupil_id}", on_click=log_reason, width="stretch",
                              type="primary" if reason else "secondary", disabled=not reason,
                              args=(pupil_id, name, chosen_day, chosen_session, with_whom))

if more > 0:
    if st.session_state.get("t_all"):
        st.button("Show the first 25 only", key="t_fewer", on_click=lambda: st.session_state.update(t_all=False))
    else:
        st.caption(f"… and {more} more. Log these calls and the list moves up, or show them all.")
        st.button(f"Show all {more + PAGE_SIZE}", key="t_more", on_click=lambda: st.session_state.update(t_all=True))
