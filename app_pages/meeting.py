"""Meeting — what do we decide today? The agenda for the meeting's date, taken one pupil at a
time (figures, 12-week trend, last actions), decisions that become actions with an owner and
a check-in in one click, and the minutes, kept in the store and exported at the end.

The agenda, its order and the minutes (and their exports) come from core/meetings.py. A
long list is cut to the number the team chooses to discuss (the rest are carried to the next
meeting); starting the meeting keeps the agenda in the store, so the place in it survives a
look at a pupil's page, a reload or another device. Each pupil's owner, check-in and note
start afresh (the pupil's key adult, if any, is the suggested owner).
Pupils are masked whenever meeting mode is on (initials and form, no sensitive notes).
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, sidebar
from app_pages.ui.formatting import chart, dataframe, markdown_cells, md, meeting_mode, names, pct, pupil_label, \
    shown, uk, viewer
from app_pages.ui.guard import friendly_errors
from core import auth, cases, charts, exports, intervention_types, letters, meetings, reads, schools, store

WHOLE_SCHOOL = "Whole school"
AGENDA_KEY = "meeting_agenda"  # (meeting date, scope, data version) → the agenda, frozen while the meeting runs
POSITION_KEY = "meeting_position"  # (date, scope, pupil_id) the walk is on (a plain key: kept on other screens)
DONE_KEY = "meeting_done"
LENGTH_KEY = "meeting_length"
SOMEONE_ELSE = "__someone_else__"  # the owner choice for a person who does not sign in


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
    return st.session_state[AGENDA_KEY][1]


def staff(db) -> dict[str, str]:
    """Who can own an action: active users who do case work, username → name."""
    return {u.username: u.name for u in auth.list_users(db) if u.active and u.may("case_work")}


def go_to(where: tuple, pupil_id: int) -> None:
    st.session_state[POSITION_KEY] = (*where, int(pupil_id))


def current_pupil(where: tuple) -> int | None:
    """The pupil the walk is on for this meeting (date and scope), if any."""
    kept = st.session_state.get(POSITION_KEY)
    return kept[-1] if isinstance(kept, tuple) and kept[:-1] == where else None


def move(where: tuple, today: list[int], step: int) -> None:
    """Previous / Next along today's agenda."""
    current = current_pupil(where)
    index = today.index(current) if current in today else 0
    go_to(where, today[max(0, min(len(today) - 1, index + step))])


def chosen_owner(pupil_id: int) -> str | None:
    """The owner picked for this pupil: a username, or "Name (role)" for someone else."""
    picked = st.session_state.get(f"meeting_owner_{pupil_id}")
    if picked != SOMEONE_ELSE:
        return picked
    return cases.named_owner(st.session_state.get(f"meeting_owner_name_{pupil_id}", ""),
                             st.session_state.get(f"meeting_owner_role_{pupil_id}", ""))


def decide(reader: auth.Viewer, owners: dict[str, str], meeting_id: int, pupil_id: int, decision: str,
           kinds: list[str], where: tuple, today: list[int], action_type: str | None = None) -> None:
    """A decision button: record it, say so, and go on to the next pupil."""
    check_in = st.session_state.get(f"meeting_check_in_{pupil_id}")
    note = st.session_state.get(f"meeting_note_{pupil_id}", "")
    try:
        with store.opened(reads.db_path()) as db:
            if decision == meetings.DISCUSSED:
                meetings.record_discussed(db, reader, meeting_id, pupil_id, kinds, note=note)
                label, owner = meetings.DISCUSSED, None
            else:
                owner = chosen_owner(pupil_id)
                item = meetings.record_decision(db, reader, meeting_id, pupil_id, decision, owner, check_in, kinds,
                                                action_type=action_type, note=note)
                label = db.execute("SELECT decision FROM meeting_items WHERE id = ?", (item,)).fetchone()[0]
    except (meetings.MeetingError, cases.CaseError) as error:
        st.session_state[DONE_KEY] = ("error", str(error))
        return
    st.session_state[DONE_KEY] = ("done", f"Recorded: {label}" + (
        f", owner {owners.get(owner, owner)}" + (f", check-in {uk(check_in)}." if check_in else ".") if owner else "."))
    move(where, today, 1)


def change_length(reader: auth.Viewer, meeting_id: int | None) -> None:
    if meeting_id is None:
        return
    try:
        with store.opened(reads.db_path()) as db:
            meetings.set_agenda_length(db, reader, meeting_id, int(st.session_state[LENGTH_KEY]))
    except meetings.MeetingError as error:
        st.session_state[DONE_KEY] = ("error", str(error))


user = access.require("meeting")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
masked = meeting_mode()
reader = viewer(user)

st.title("Meeting", help=meetings.PRIORITY_HELP)
lists.require_registers(user, period)

with store.opened(path) as db:  # a school's meeting: its own name on the minutes, a trust's "Trust" (issue 18)
    settings = reads.settings(path, version, schools.school_of_scope(db, user.school_ids))
    heading = schools.document_heading(db, user.school_ids)
sections = list(settings["sections"]) if user.sees_all_sections else list(user.sections)
with store.opened(path) as db:
    owners = staff(db)

# --- which meeting ---------------------------------------------------------------------

date_column, scope_column, length_column, start_column = st.columns([1.2, 1.5, 1, 1.8], vertical_alignment="bottom")
st.session_state.setdefault("meeting_date", date.today())
meeting_on = date_column.date_input("Meeting date", format="DD/MM/YYYY", key="meeting_date")
scope_options = ([WHOLE_SCHOOL] if user.sees_all_sections else []) + sections
if not scope_options:
    st.info("You have no sections yet, so there is no agenda to draw up. Ask your Pastoral administrator.")
    st.stop()
scope_name = scope_column.selectbox("Pupils", scope_options, key="meeting_scope",
                                    help="The whole school, or one section's pupils.")
section = "" if scope_name == WHOLE_SCHOOL else scope_name
# A meeting is held for a scope: the whole school or a section — on a trust's store, of the
# user's school(s), named first, so one school's meetings never open another's (issue 18).
scope = section if user.school_ids is None else " · ".join([*user.school_names, *([section] if section else [])])
everyone = lists.scoped_pupils(user, path, version)
if section:
    everyone = everyone[everyone["section"] == section]
ids = None if (not section and user.sees_all_pupils) else tuple(int(i) for i in everyone["id"])

with store.opened(path) as db:
    held = meetings.meetings(db, [scope])
current = held[(held["held_on"] == meeting_on) & (held["status"] == "open")]
meeting_id = int(current["id"].iloc[0]) if len(current) else None

with friendly_errors("drawing up the agenda"):
    kept = None
    if meeting_id is not None:
        with store.opened(path) as db:
            kept = meetings.kept_agenda(db, meeting_id, list(ids) if ids is not None else None)
    # Before the meeting starts (or for minutes from before agendas were kept): today's list.
    live = agenda_for(meeting_on, scope, ids, reader) if kept is None else None

stored_length = current["agenda_length"].iloc[0] if len(current) else None
if meeting_id is not None and stored_length is not None and not pd.isna(stored_length):
    st.session_state[LENGTH_KEY] = int(stored_length)
st.session_state.setdefault(LENGTH_KEY, int(settings["meeting_agenda_length"]))
length = int(length_column.number_input(
    "Pupils to discuss", min_value=1, max_value=500, step=5, key=LENGTH_KEY, on_change=change_length,
    args=(reader, meeting_id),
    help=f"How many the meeting takes, most pressing first; the rest are not reached and carried to the next "
         f"meeting. {settings['meeting_agenda_length']} is about "
         f"{settings['meeting_minutes'] / settings['meeting_agenda_length']:.0f} minutes each in a "
         f"{settings['meeting_minutes']}-minute meeting."))

if kept is None:
    counts = live.counts()
    st.markdown(f"**{len(live.pupils)} pupils need the team** for {uk(meeting_on)} · {md(scope_name)} · "
                f"new {live.since_reason}" + (f" · figures to {uk(live.as_of)}" if live.as_of else ""))
    st.session_state.setdefault("meeting_kinds", list(meetings.AGENDA_KINDS))  # every reason, unless narrowed
    chosen_kinds = st.pills("Reasons", list(meetings.AGENDA_KINDS), selection_mode="multi", key="meeting_kinds",
                            format_func=lambda k: f"{meetings.AGENDA_KINDS[k]} · {counts[k]}",
                            label_visibility="collapsed",
                            help="Click a reason to leave its pupils off this meeting (a pupil with another reason "
                                 "chosen stays on).")
    agenda = live.only(chosen_kinds or [])
    narrowed = len(agenda.pupils) < len(live.pupils)
else:
    agenda = kept
    narrowed = False

pupils = agenda.pupils.reset_index(drop=True)
if "discussed" not in pupils:
    pupils = pupils.assign(position=range(1, len(pupils) + 1), discussed=False)
today_pupils = pupils.head(length)
rest = len(pupils) - len(today_pupils)
minutes_each = settings["meeting_minutes"] / max(len(today_pupils), 1)

if kept is None:
    st.markdown(
        f"**Today's agenda: the first {len(today_pupils)} of {len(pupils)}"
        + (f" for the reasons chosen (of {len(live.pupils)})" if narrowed else "") + "**, most pressing first — "
        f"about {math.floor(minutes_each) if minutes_each >= 1 else '<1'} min each in "
        f"{settings['meeting_minutes']} minutes."
        + (f" The other {rest} are **not reached — carried to the next meeting**." if rest else ""),
        help=meetings.PRIORITY_HELP)
else:
    discussed_today = int(pupils["discussed"].sum())
    st.markdown(f"**Today's agenda: {len(today_pupils)} of the {len(pupils)} kept when the meeting started** "
                f"({md(scope_name)}" + (f", new {md(kept.since_reason)}" if kept.since_reason else "") + ") · "
                f"{discussed_today} discussed"
                + (f" · {rest} not reached — carried to the next meeting" if rest else ""),
                help=meetings.PRIORITY_HELP)

if pupils.empty:
    st.success("Nobody on the agenda for these reasons.")
    st.stop()

# --- one pupil at a time ---------------------------------------------------------------

today = [int(p) for p in today_pupils["pupil_id"]]
where = (meeting_on.isoformat(), scope)
if current_pupil(where) not in today:
    # A new session, another meeting, or the list changed: the first pupil not yet discussed.
    waiting = today_pupils.loc[~today_pupils["discussed"].astype(bool), "pupil_id"]
    go_to(where, int(waiting.iloc[0]) if len(waiting) else today[0])
pupil_id = current_pupil(where)
position = today.index(pupil_id)
pupil = today_pupils.iloc[position]

previous_column, label_column, next_column = st.columns([1, 4, 1], vertical_alignment="center")
previous_column.button("Previous", key="meeting_previous", on_click=move, args=(where, today, -1),
                      icon=":material/arrow_back:", disabled=position == 0, width="stretch")
next_column.button("Next", key="meeting_next", on_click=move, args=(where, today, 1), icon=":material/arrow_forward:",
                   icon_position="right", disabled=position >= len(today) - 1, width="stretch")
label_column.markdown(f"**Pupil {position + 1} of {len(today)}** · {md(', '.join(pupil['reasons']))}")

outcome = st.session_state.pop(DONE_KEY, None)
if outcome:
    (st.error if outcome[0] == "error" else st.success)(md(outcome[1]))

with store.opened(path) as db:
    so_far = meetings.minutes(db, meeting_id, [pupil_id]).items if meeting_id is not None else pd.DataFrame()

with st.container(border=True):
    status = ("Severe absence (50% or below)" if pupil["severely_absent"] else
              "Persistent absence (90% or below)" if pupil["persistently_absent"] else "Above 90%")
    name_column, status_column, look_column = st.columns([3, 2, 1.2], vertical_alignment="center")
    name_column.header(md(pupil_label(pupil["surname"], pupil["forename"], pupil["form"])))
    with status_column:
        st.badge(status, color="red" if pupil["persistently_absent"] else "green")
        if not so_far.empty:
            st.badge("Discussed: " + "; ".join(so_far["decision"]), icon=":material/check:", color="blue")
    if look_column.button("Look up this pupil", key="meeting_lookup", icon=":material/person_search:",
                          width="stretch", help="Opens the pupil's page; come back to Meeting to carry on here."):
        lists.open_pupil(pupil_id)
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
            chart(charts.attendance_trend, weekly, height=300, font_size=18 if masked else 13,
                  title="Last 12 school weeks")
    with store.opened(path) as db:
        actions = cases.interventions(db, reader, [pupil_id])
        named = cases.named_owners(db)
        key_adult = cases.key_adults(db, [pupil_id])
        due_stage = letters.stage_due(db, reader, pupil_id, meeting_on)
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
    owner_column, date_column, note_column = st.columns([1.6, 1, 2.6])
    choices = list(owners) + [n for n in named if n not in owners] + [SOMEONE_ELSE]
    adult = key_adult["key_adult"].iloc[0] if not key_adult.empty else None
    owner_key = f"meeting_owner_{pupil_id}"
    if owner_key not in st.session_state and adult in owners:
        st.session_state[owner_key] = adult  # the key adult, if the pupil has one; otherwise chosen each time
    owner_column.selectbox(
        "Owner", choices, key=owner_key, index=None, placeholder="Who will do it?",
        format_func=lambda u: "Someone who does not sign in…" if u == SOMEONE_ELSE else owners.get(u, u),
        help="Chosen for each pupil. A tutor, the EWO or the school nurse can own an action without a login: "
             "choose “Someone who does not sign in…”.")
    if st.session_state.get(owner_key) == SOMEONE_ELSE:
        name_part, role_part = owner_column.columns(2)
        name_part.text_input("Their name", key=f"meeting_owner_name_{pupil_id}", placeholder="e.g. Mr Khan")
        role_part.selectbox("Role", cases.NAMED_OWNER_ROLES, key=f"meeting_owner_role_{pupil_id}",
                            accept_new_options=True)
    check_key = f"meeting_check_in_{pupil_id}"
    if (st.session_state.get(check_key) or date.min) < meeting_on:
        st.session_state[check_key] = meetings.default_check_in(meeting_on)
    date_column.date_input("Check-in", key=check_key, format="DD/MM/YYYY", min_value=meeting_on)
    note_column.text_input("Note for the minutes (optional)", key=f"meeting_note_{pupil_id}",
                           help="Not a place for safeguarding concerns: record those in the safeguarding system.")
    no_owner = not st.session_state.get(owner_key)
    if no_owner:
        st.caption("Choose an owner to record a decision.")
    kinds = list(pupil["kinds"])
    buttons = st.columns(4)
    for i, decision in enumerate(meetings.DECISIONS):
        label, why = decision.label, (f"Opens “{md(decision.action_type)}”" if decision.action_type
                                      else "Records the decision and books the check-in; opens no action.")
        disabled = no_owner
        if decision.key == meetings.LETTER:
            if due_stage is None:
                label, why, disabled = "Attendance letter", "All three letters have been made this year.", True
            else:
                label = f"Attendance letter (stage {letters.STAGES[due_stage]})"
                why = ("The stage this pupil is due. Agreed here, made on the Letters screen: it counts as sent "
                       "only once made there. Books the check-in.")
        buttons[i % 4].button(label, key=f"decide_{decision.key}", width="stretch", disabled=disabled,
                              type="primary" if decision.key == meetings.MONITOR else "secondary",
                              on_click=decide,
                              args=(reader, owners, meeting_id, pupil_id, decision.key, kinds, where, today),
                              help=md(why))
    buttons[len(meetings.DECISIONS) % 4].button(
        "Discussed — no decision", key="decide_discussed", width="stretch", icon=":material/check:",
        on_click=decide, args=(reader, owners, meeting_id, pupil_id, meetings.DISCUSSED, kinds, where, today),
        help="Minutes that the team discussed the pupil and decided nothing new; they are not carried over.")
    with store.opened(path) as db:
        # Staged letters are agreed with "Attendance letter" and made on the Letters screen.
        types = [t for t in intervention_types.intervention_types(db)["name"] if t not in letters.STAGE_ACTIONS]
    other_column, other_button = st.columns([3, 1], vertical_alignment="bottom")
    other = other_column.selectbox("Another action", types, key="meeting_other_type")
    other_button.button("Record it", key="decide_other", width="stretch", on_click=decide, disabled=no_owner,
                        args=(reader, owners, meeting_id, pupil_id, "", kinds, where, today, other))

# --- minutes -----------------------------------------------------------------------------

st.divider()
st.subheader("Minutes")
if meeting_id is None:
    st.caption("No minutes yet for this date: start the meeting to open them.")
else:
    with store.opened(path) as db:
        record = meetings.minutes(db, meeting_id, list(ids) if ids is not None else None)
    st.caption(f"Attendees: {md(', '.join(record.attendees)) or 'not recorded'} · {md(record.summary())}")
    if not record.items.empty:
        dataframe(meetings.minutes_table(record, masked), hide_index=True, width="stretch")
    with st.form("meeting_minutes"):
        attendees_now = st.text_input("Attendees (comma-separated)", value=", ".join(record.attendees))
        notes = st.text_area("Notes", value=record.notes, height=120,
                             placeholder="Anything the minutes should say beyond the decisions.")
        save, finish = st.columns(2)
        saved = save.form_submit_button("Save the minutes", type="primary", icon=":material/save:")
        finished = finish.form_submit_button("Save and finish the meeting", icon=":material/done_all:",
                                             help="Pupils not discussed are carried to the next meeting.")
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
                                                     f"{meetings.plural(int(r['discussed']), 'pupil')} discussed · "
                                                     f"{meetings.plural(int(r['decisions']), 'decision')} · "
                                                     f"{r['status']}")(held.set_index("id").loc[i]))
        with store.opened(path) as db:
            chosen_minutes = meetings.minutes(db, int(chosen), list(ids) if ids is not None else None)
        school = heading
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

status_of = ["Discussed" if done else "To discuss" if i < length else meetings.NOT_REACHED
             for i, done in enumerate(pupils["discussed"].astype(bool))]
with st.expander(f"The whole agenda as a list ({len(pupils)}: {len(today_pupils)} today"
                 + (f", {rest} not reached — carried to the next meeting" if rest else "") + ")"):
    table = pd.DataFrame({
        "#": pupils["position"].astype(int), "Pupil": names(pupils), "Form": pupils["form"],
        "Attendance %": pupils["attendance_pct"].round(1), "Why": pupils["reasons"].map("; ".join),
        "Status": status_of, "UPN": pupils["upn"]})
    dataframe(shown(table), hide_index=True, width="stretch",
              column_config={"Attendance %": st.column_config.NumberColumn(format="%.1f%%")})
    lists.download_buttons(table, "meeting-agenda", meeting_on, "meeting_agenda")

# --- starting the meeting (last: it keeps the agenda exactly as shown above) -------------

if meeting_id is None:
    with start_column.popover("Start the meeting", icon=":material/play_arrow:", type="primary",
                              disabled=not user.may("case_work")):
        attendees = st.multiselect("Who is here", list(owners.values()), default=[user.name], key="meeting_attendees")
        others = st.text_input("Others (comma-separated)", key="meeting_others", placeholder="e.g. School nurse")
        st.caption(f"Keeps this agenda: {len(pupils)} pupils in this order, the first {len(today_pupils)} to discuss.")
        if st.button("Open the minutes", type="primary", key="meeting_start"):
            try:
                with store.opened(path) as db:
                    meetings.start_meeting(db, reader, meeting_on, attendees + [o for o in others.split(",")],
                                           scope=scope, since=live.since, chosen=agenda, length=length)
                st.session_state.pop(POSITION_KEY, None)
                st.rerun()
            except meetings.MeetingError as error:
                st.error(md(error))
else:
    start_column.success(f"Minutes open for {uk(meeting_on)}", icon=":material/edit_note:")
