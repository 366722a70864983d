"""Meeting — what do we decide today? The agenda for the meeting's date, taken one pupil at a
time (figures, 12-week trend, last actions), decisions that become actions with an owner and
a check-in in one click, and the minutes, kept in the store and exported at the end.

The agenda and the minutes (and their exports) come from core/meetings.py.
Pupils are masked whenever meeting mode is on (initials and form, no sensitive notes).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, sidebar
from app_pages.ui.formatting import markdown_cells, md, meeting_mode, names, pct, pupil_label, shown, uk, viewer
from app_pages.ui.guard import friendly_errors
from core import auth, cases, charts, exports, intervention_types, meetings, reads, store

WHOLE_SCHOOL = "Whole school"
AGENDA_KEY = "meeting_agenda"  # (meeting date, scope, data version) → the agenda, frozen while the meeting runs
POSITION_KEY = "meeting_position"
DONE_KEY = "meeting_done"


def agenda_for(meeting_on: date, scope: str, ids: tuple[int, ...] | None, reader: auth.Viewer,
               refresh: bool = False) -> meetings.Agenda:
    """The agenda, computed once per date, scope and upload: decisions taken during the
    meeting do not reshuffle the pupils still to discuss."""
    key = (meeting_on, scope, reads.version(), reader.shared_screen)
    kept = st.session_state.get(AGENDA_KEY)
    if refresh or not kept or kept[0] != key:
        with store.opened(reads.db_path()) as db:
            built = meetings.agenda(db, reader, meeting_on, list(ids) if ids is not None else None, [scope])
        st.session_state[AGENDA_KEY] = (key, built)
        st.session_state[POSITION_KEY] = 0
    return st.session_state[AGENDA_KEY][1]


def staff(db) -> dict[str, str]:
    """Who can own an action: active users who do case work, username → name."""
    return {u.username: u.name for u in auth.list_users(db) if u.active and u.may("case_work")}


def move(step: int, total: int) -> None:
    st.session_state[POSITION_KEY] = max(0, min(total - 1, st.session_state.get(POSITION_KEY, 0) + step))


def decide(reader: auth.Viewer, owners: dict[str, str], meeting_id: int, pupil_id: int, decision: str,
           kinds: list[str], total: int, action_type: str | None = None) -> None:
    """A decision button: record it, say so, and go on to the next pupil."""
    owner = st.session_state.get("meeting_owner")
    check_in = st.session_state.get("meeting_check_in")
    note = st.session_state.get("meeting_note", "")
    try:
        with store.opened(reads.db_path()) as db:
            meetings.record_decision(db, reader, meeting_id, pupil_id, decision, owner, check_in, kinds,
                                     action_type=action_type, note=note)
    except meetings.MeetingError as error:
        st.session_state[DONE_KEY] = ("error", str(error))
        return
    label = meetings.DECISION_BY_KEY[decision].label if decision in meetings.DECISION_BY_KEY else action_type
    st.session_state[DONE_KEY] = ("done", f"Recorded: {label}, owner {owners.get(owner, owner)}"
                                  + (f", check-in {uk(check_in)}." if check_in else "."))
    st.session_state["meeting_note"] = ""
    move(1, total)


user = access.require("meeting")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
masked = meeting_mode()
reader = viewer(user)

st.title("Meeting")
lists.require_registers(user, period)

settings = reads.settings(path, version)
sections = list(settings["sections"]) if user.sees_all_pupils else list(user.sections)
with store.opened(path) as db:
    owners = staff(db)

# --- which meeting ---------------------------------------------------------------------

date_column, scope_column, start_column = st.columns([1.2, 1.6, 2.2], vertical_alignment="bottom")
st.session_state.setdefault("meeting_date", date.today())
meeting_on = date_column.date_input("Meeting date", format="DD/MM/YYYY", key="meeting_date")
scope_options = ([WHOLE_SCHOOL] if user.sees_all_pupils else []) + sections
if not scope_options:
    st.info("You have no sections yet, so there is no agenda to draw up. Ask your Pastoral administrator.")
    st.stop()
scope_name = scope_column.selectbox("Pupils", scope_options, key="meeting_scope",
                                    help="The whole school, or one section's pupils.")
scope = "" if scope_name == WHOLE_SCHOOL else scope_name
everyone = lists.scoped_pupils(user, path, version)
if scope:
    everyone = everyone[everyone["section"] == scope]
ids = None if (not scope and user.sees_all_pupils) else tuple(int(i) for i in everyone["id"])

with store.opened(path) as db:
    held = meetings.meetings(db, [scope])
current = held[(held["held_on"] == meeting_on) & (held["status"] == "open")]
meeting_id = int(current["id"].iloc[0]) if len(current) else None

with friendly_errors("drawing up the agenda"):
    agenda = agenda_for(meeting_on, scope, ids, reader)

if meeting_id is None:
    with start_column.popover("Start the meeting", icon=":material/play_arrow:", type="primary",
                              disabled=not user.may("case_work")):
        attendees = st.multiselect("Who is here", list(owners.values()), default=[user.name], key="meeting_attendees")
        others = st.text_input("Others (comma-separated)", key="meeting_others", placeholder="e.g. School nurse")
        if st.button("Open the minutes", type="primary", key="meeting_start"):
            try:
                with store.opened(path) as db:
                    meetings.start_meeting(db, reader, meeting_on, attendees + [o for o in others.split(",")],
                                           scope=scope, since=agenda.since)
                st.rerun()
            except meetings.MeetingError as error:
                st.error(md(error))
else:
    start_column.success(f"Minutes open for {uk(meeting_on)}", icon=":material/edit_note:")

counts = agenda.counts()
st.markdown(f"**{len(agenda.pupils)} pupils on the agenda** for {uk(meeting_on)} · {md(scope_name)} · "
            f"new {agenda.since_reason}" + (f" · figures to {uk(agenda.as_of)}" if agenda.as_of else ""))
chosen_kinds = st.pills("Reasons", list(meetings.AGENDA_KINDS), selection_mode="multi",
                        default=list(meetings.AGENDA_KINDS), key="meeting_kinds",
                        format_func=lambda k: f"{meetings.AGENDA_KINDS[k]} · {counts[k]}", label_visibility="collapsed")
walk = agenda.pupils[agenda.pupils["kinds"].map(lambda kinds: bool(set(kinds) & set(chosen_kinds)))].reset_index(drop=True)

if walk.empty:
    st.success("Nobody on the agenda for these reasons.")
    st.stop()

# --- one pupil at a time ---------------------------------------------------------------

total = len(walk)
position = min(st.session_state.get(POSITION_KEY, 0), total - 1)
pupil = walk.iloc[position]
pupil_id = int(pupil["pupil_id"])

previous_column, label_column, next_column = st.columns([1, 4, 1], vertical_alignment="center")
previous_column.button("Previous", key="meeting_previous", on_click=move, args=(-1, total), icon=":material/arrow_back:",
                       disabled=position == 0, width="stretch")
next_column.button("Next", key="meeting_next", on_click=move, args=(1, total), icon=":material/arrow_forward:",
                   icon_position="right", disabled=position >= total - 1, width="stretch")
label_column.markdown(f"**Pupil {position + 1} of {total}** · {md(', '.join(pupil['reasons']))}")

outcome = st.session_state.pop(DONE_KEY, None)
if outcome:
    (st.error if outcome[0] == "error" else st.success)(md(outcome[1]))

with st.container(border=True):
    status = ("Severe absence (50% or below)" if pupil["severely_absent"] else
              "Persistent absence (90% or below)" if pupil["persistently_absent"] else "Above 90%")
    name_column, status_column = st.columns([3, 2], vertical_alignment="center")
    name_column.header(md(pupil_label(pupil["surname"], pupil["forename"], pupil["form"])))
    with status_column:
        st.badge(status, color="red" if pupil["persistently_absent"] else "green")
    items = agenda.items[agenda.items["pupil_id"] == pupil_id]
    st.markdown("\n".join(f"- **{md(row.label)}** — {md(row.detail)}" for row in items.itertuples()))
    figures_column, trend_column = st.columns([5, 6], gap="large")
    with figures_column:
        first, second, third = st.columns(3)
        first.metric("Attendance", pct(pupil["attendance_pct"]), help=f"{int(pupil['possible_sessions'])} possible sessions")
        second.metric("Authorised", f"{int(pupil['authorised_sessions'])}", help="Authorised absence sessions")
        third.metric("Unauthorised", f"{int(pupil['unauthorised_sessions'])}", help="Unauthorised absence sessions")
    with trend_column:
        weekly = reads.pupil_weekly(path, version, period.date_from, agenda.as_of or period.as_of, (pupil_id,), 12)
        weekly = weekly[weekly["possible_sessions"] > 0]
        if weekly.empty:
            st.caption("No school weeks to chart yet.")
        else:
            st.altair_chart(charts.attendance_trend(weekly, height=300, font_size=18 if masked else 13,
                                                    title="Last 12 school weeks"), width="stretch")
    with store.opened(path) as db:
        actions = cases.interventions(db, reader, [pupil_id])
    st.markdown("**Last actions**")
    if actions.empty:
        st.caption("No actions recorded yet.")
    else:
        recent = actions.head(3)
        st.table(markdown_cells(shown(pd.DataFrame({
            "Opened": recent["opened_on"].map(uk), "Action": recent["type"],
            "Owner": recent["owner"].map(lambda o: owners.get(o, o)), "Status": recent["status"],
            **({"Summary": recent["summary"]} if "summary" in recent else {}),
            **({"sensitive_note": recent["sensitive_note"]} if "sensitive_note" in recent else {}),
        }).rename(columns={"sensitive_note": "Sensitive note"})).set_index("Opened")))

# --- the decision ----------------------------------------------------------------------

if meeting_id is None:
    st.info("Start the meeting (above) to record decisions; each becomes an action with an owner and a check-in.")
elif not user.may("case_work"):
    st.caption("Your role can follow the meeting but not record decisions.")
else:
    st.subheader("Decision")
    owner_column, date_column, note_column = st.columns([1.4, 1, 3])
    names_of = list(owners)
    st.session_state.setdefault("meeting_owner", user.username if user.username in owners else names_of[0])
    owner_column.selectbox("Owner", names_of, key="meeting_owner", format_func=lambda u: owners.get(u, u))
    if (st.session_state.get("meeting_check_in") or date.min) < meeting_on:  # new meeting date: a fresh default
        st.session_state["meeting_check_in"] = meetings.default_check_in(meeting_on)
    date_column.date_input("Check-in", key="meeting_check_in", format="DD/MM/YYYY", min_value=meeting_on)
    note_column.text_input("Note for the minutes (optional)", key="meeting_note",
                           help="Not a place for safeguarding concerns: record those in the safeguarding system.")
    kinds = list(pupil["kinds"])
    buttons = st.columns(4)
    for i, decision in enumerate(meetings.DECISIONS):
        buttons[i % 4].button(decision.label, key=f"decide_{decision.key}", width="stretch",
                              type="primary" if decision.key == "monitor" else "secondary",
                              on_click=decide, args=(reader, owners, meeting_id, pupil_id, decision.key, kinds, total),
                              help=f"Opens “{md(decision.action_type)}”" if decision.action_type
                              else "Records the decision and books the check-in; opens no action.")
    with store.opened(path) as db:
        types = intervention_types.intervention_types(db)["name"].tolist()
    other_column, other_button = st.columns([3, 1], vertical_alignment="bottom")
    other = other_column.selectbox("Another action", types, key="meeting_other_type")
    other_button.button("Record it", key="decide_other", width="stretch", on_click=decide,
                        args=(reader, owners, meeting_id, pupil_id, "", kinds, total, other))

# --- minutes -----------------------------------------------------------------------------

st.divider()
st.subheader("Minutes")
if meeting_id is None:
    st.caption("No minutes yet for this date: start the meeting to open them.")
else:
    with store.opened(path) as db:
        kept = meetings.minutes(db, meeting_id, list(ids) if ids is not None else None)
    st.caption(f"Attendees: {md(', '.join(kept.attendees)) or 'not recorded'} · {len(kept.items)} decisions · "
               f"{kept.actions_created} actions opened")
    if not kept.items.empty:
        st.dataframe(meetings.minutes_table(kept, masked), hide_index=True, width="stretch")
    with st.form("meeting_minutes"):
        attendees_now = st.text_input("Attendees (comma-separated)", value=", ".join(kept.attendees))
        notes = st.text_area("Notes", value=kept.notes, height=120,
                             placeholder="Anything the minutes should say beyond the decisions.")
        save, finish = st.columns(2)
        saved = save.form_submit_button("Save the minutes", type="primary", icon=":material/save:")
        finished = finish.form_submit_button("Save and finish the meeting", icon=":material/done_all:")
    if saved or finished:
        try:
            with store.opened(path) as db:
                meetings.save_minutes(db, reader, meeting_id, attendees_now.split(","), notes)
                if finished:
                    meetings.finish_meeting(db, reader, meeting_id)
            st.toast("Minutes saved." if saved else "Meeting finished; the minutes are kept.", icon=":material/check:")
            st.rerun()
        except meetings.MeetingError as error:
            st.error(md(error))

# --- earlier meetings and exports --------------------------------------------------------

if not held.empty:
    with st.expander(f"Meetings on record ({len(held)})", expanded=meeting_id is not None):
        chosen = st.selectbox("Minutes of", held["id"].tolist(), key="meeting_export_id",
                              index=held["id"].tolist().index(meeting_id) if meeting_id in held["id"].tolist() else 0,
                              format_func=lambda i: (lambda r: f"{uk(r['held_on'])} · {r['scope'] or WHOLE_SCHOOL} · "
                                                     f"{r['decisions']} decisions · {r['status']}")(
                                  held.set_index("id").loc[i]))
        with store.opened(path) as db:
            chosen_minutes = meetings.minutes(db, int(chosen), list(ids) if ids is not None else None)
        school = settings["school_name"]
        pdf_column, csv_column, _ = st.columns([1, 1, 3])
        pdf_column.download_button(
            "Minutes (PDF)", lambda m=chosen_minutes, s=school, k=masked: meetings.minutes_pdf(m, s, k),
            exports.file_name(school, "meeting-minutes", chosen_minutes.held_on, "pdf"), "application/pdf",
            key="minutes_pdf", icon=":material/picture_as_pdf:", on_click="ignore", width="stretch")
        csv_column.download_button(
            "Minutes (CSV)", meetings.minutes_csv(chosen_minutes, masked),
            exports.file_name(school, "meeting-minutes", chosen_minutes.held_on, "csv"), "text/csv",
            key="minutes_csv", icon=":material/download:", on_click="ignore", width="stretch")
        if masked:
            st.caption("Meeting mode is on, so the exports show initials; turn it off for the copy to file.")

with st.expander("The whole agenda as a list"):
    table = pd.DataFrame({
        "Pupil": names(walk), "Form": walk["form"], "Attendance %": walk["attendance_pct"].round(1),
        "Why": walk["reasons"].map("; ".join), "UPN": walk["upn"]})
    st.dataframe(shown(table), hide_index=True, width="stretch",
                 column_config={"Attendance %": st.column_config.NumberColumn(format="%.1f%%")})
    lists.download_buttons(table, "meeting-agenda", meeting_on, "meeting_agenda")
