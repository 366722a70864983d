"""Families — what is happening for this family? Siblings (from the roll's family id, or
suggested by a shared parent phone, email or address and surname, and confirmed by a
person), every child's attendance side by side, the days they miss together (a likely
family holiday), and penalty notices counted per parent per child as the national
framework requires."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, formatting, lists, sidebar
from app_pages.ui.formatting import dataframe, md, pupil_name, uk, year_label
from core import calendar, cases, families, letters, penalty_notices, reads, store

FAMILY_KEY = "fam_pupil"
MESSAGE_KEY = "fam_message"
MOST_SUGGESTIONS = 12


def decide(pupil_id: int, sibling_id: int, confirmed: bool) -> None:
    try:
        with store.opened(reads.db_path()) as db:
            families.decide(db, viewer, pupil_id, sibling_id, confirmed)
        st.session_state[MESSAGE_KEY] = ("success", "Linked as siblings." if confirmed else "Noted: not siblings.")
    except cases.CaseError as error:
        st.session_state[MESSAGE_KEY] = ("error", str(error))


def first_to_look_at(linked: pd.Series, options: list[int]) -> int:
    """The family shown first: the one with the most children below 90%, then the lowest attendance."""
    if linked.empty or period is None:
        return options[0]
    figures = reads.pupil_figures(path, version, period.date_from, period.as_of, school_ids).set_index("pupil_id")
    members = linked.rename("family").to_frame().join(figures[["persistently_absent", "attendance_pct"]], how="left")
    ranked = members.groupby("family").agg(below=("persistently_absent", "sum"), lowest=("attendance_pct", "min"))
    best = ranked.sort_values(["below", "lowest"], ascending=[False, True]).index[0]
    return int(linked.index[linked == best][0])


user = access.require("families")
viewer = formatting.viewer(user)
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
masked = sidebar.meeting_mode()

st.title("Families")
everyone = lists.scoped_pupils(user, path, version)
if everyone.empty:
    lists.no_registers_yet(user)
    st.stop()
in_scope = set(everyone["id"].astype(int))
# On a trust's store a school's user reads only their own pupils' figures and families (the
# families followed into other schools as far as they reach, nothing more); else every pupil's.
school_ids = reads.school_scope(user)
family_scope = None if school_ids is None else sorted(in_scope)
by_id = everyone.set_index("id")
labels = {int(r.id): f"{pupil_name(r.surname, r.forename, masked)} ({r.form or year_label(r.year_group)})"
          for r in everyone.itertuples()}  # one label per pupil, for every picker
message = st.session_state.pop(MESSAGE_KEY, None)
if message:
    (st.success if message[0] == "success" else st.error)(md(message[1]))

with store.opened(path) as db:
    family_number = families.families(db, family_scope)
    suggested = families.suggestions(db, sorted(in_scope))
suggested = suggested[suggested["pupil_id"].isin(in_scope) & suggested["sibling_id"].isin(in_scope)]

family_column, suggestion_column = st.tabs(["Family", f"Siblings to confirm ({len(suggested)})"])

with suggestion_column:
    st.caption("Pupils who share a parent's phone or email, or an address and a surname, but are not linked as "
               "siblings in the roll. Say whether they are; the answer is kept and they are not suggested again.")
    if suggested.empty:
        st.caption("No pupils share a parent's phone, email or an address and surname without being linked.")
    for row in suggested.head(MOST_SUGGESTIONS).itertuples():
        with st.container(border=True):
            text, yes, no = st.columns([6, 1, 1], vertical_alignment="center", gap="small")
            text.markdown(f"**{md(labels[row.pupil_id])}** and **{md(labels[row.sibling_id])}**  \n:gray[{md(row.reason)}]")
            yes.button("", key=f"fam_yes_{row.pupil_id}_{row.sibling_id}", icon=":material/check:",
                       help="They are siblings: link them", on_click=decide,
                       args=(int(row.pupil_id), int(row.sibling_id), True), width="stretch")
            no.button("", key=f"fam_no_{row.pupil_id}_{row.sibling_id}", icon=":material/close:",
                      help="Not siblings: do not suggest them again", on_click=decide,
                      args=(int(row.pupil_id), int(row.sibling_id), False), width="stretch")
    if len(suggested) > MOST_SUGGESTIONS:
        st.caption(f"… and {len(suggested) - MOST_SUGGESTIONS} more; they appear here as these are decided.")

with family_column:
    linked = family_number[family_number.index.isin(in_scope)]
    options = everyone.sort_values(["surname", "forename"])["id"].astype(int).tolist()
    several = families.families_with_several(family_number, in_scope)
    st.caption(f"{several:,} {'family' if several == 1 else 'families'} with more than one child "
               f"{'at the school' if user.sees_all_pupils else 'here'} · pick any pupil to see their family")
    if st.session_state.get(FAMILY_KEY) not in options:
        st.session_state[FAMILY_KEY] = first_to_look_at(linked, options)
    chosen = st.selectbox("Family of", options, key=FAMILY_KEY, format_func=labels.get)
    with store.opened(path) as db:
        whole_family = families.family_of(db, chosen)
        members = [m for m in whole_family if m in in_scope]
        framework = penalty_notices.PenaltyFramework.of(db)
        notices = penalty_notices.penalty_notice_history(db, viewer, members, framework)
        parents = families.parents(db, viewer, members)
        contacts = families.contacts(db, viewer, members).set_index("pupil_id")
        stages = letters.stages(db, viewer, members,
                                since=calendar.academic_year_start(period.as_of) if period else None)
        at_other_schools, in_other_sections = families.siblings_not_shown(db, whole_family, in_scope, school_ids)

    lists.require_registers(user, period)
    figures = reads.pupil_figures(path, version, period.date_from, period.as_of, school_ids).set_index("pupil_id")
    stage_of = stages.set_index("pupil_id")["stage"] if not stages.empty else pd.Series(dtype="int64")
    children = pd.DataFrame({
        "Child": [pupil_name(by_id.at[m, "surname"], by_id.at[m, "forename"], masked) for m in members],
        "Form": [by_id.at[m, "form"] for m in members],
        "Attendance %": [figures["attendance_pct"].get(m) for m in members],
        "Unauth.": [figures["unauthorised_sessions"].get(m) for m in members],
        "Below 90%": ["yes" if figures["persistently_absent"].get(m, False) else "" for m in members],
        "Letters": [letters.stage_label(stage_of.get(m)) for m in members],
    })
    dataframe(children, hide_index=True, width="stretch",
              column_config={"Attendance %": st.column_config.NumberColumn(format="%.1f%%")})
    if len(whole_family) == 1:
        st.caption("No siblings linked. Siblings come from the roll's family id, or from the suggestions "
                   "on the right once someone confirms them.")
    for count, where in ((at_other_schools, "at another of the trust's schools"), (in_other_sections, "in other sections")):
        if count:
            st.caption(f"{count} sibling{'s' if count != 1 else ''} {where} not shown.")
    first = contacts.iloc[0].to_dict() if not contacts.empty else {}
    lines = families.contact_lines(first)
    if lines and not masked:
        st.caption("Parents/carers: " + md(" · ".join(lines)))

    if len(members) > 1:
        st.subheader("Days off together")
        with store.opened(path) as db:
            shared = families.shared_days_off(db, period, members)
        if shared.empty:
            st.caption(f"No school day between {uk(period.date_from)} and {uk(period.as_of)} on which two or more "
                       "of the children were all absent.")
        else:
            holidays = int(shared["likely_holiday"].sum())
            st.markdown(f"**{len(shared)}** school day{'s' if len(shared) != 1 else ''} on which two or more were "
                        f"absent all day" + (f" — **{holidays}** look like a family holiday" if holidays else ""))
            dataframe(pd.DataFrame({
                "Date": shared["date"].map(lambda d: f"{d:%a} {uk(d)}"),
                "Children absent": shared["children"],
                "Marks": shared["codes"],
                "Days in a row": shared["run_days"],
                "Likely family holiday": shared["likely_holiday"].map({True: "yes", False: ""}),
            }), hide_index=True, width="stretch", height=min(38 + 35 * len(shared), 250))

    st.subheader("Penalty notices, per parent per child")
    table = penalty_notices.notices_by_parent(notices, members, parents, formatting.today(), framework)
    in_window = f"Notices ({framework.window_years} yrs)"
    dataframe(formatting.shown(pd.DataFrame({
        "Child": [pupil_name(by_id.at[m, "surname"], by_id.at[m, "forename"], masked) for m in table["pupil_id"]],
        "Parent": table["parent"],
        in_window: table["within_repeat_period"],
        "Last issued": table["last_issued"].map(uk),
        "Next step": table["next_step"],
    }), masked), hide_index=True, width="stretch", column_config={
        "Next step": st.column_config.TextColumn(width="large"),
        in_window: st.column_config.NumberColumn(
            width="small", help=f"Notices to this parent for this child in the last {framework.window_years} years")})
    st.caption(md(framework.describe()))
    if viewer.may_write and masked:
        st.caption("Penalty notices are recorded outside meeting mode: the form names the parents.")
    elif viewer.may_write:
        with st.popover("Record a penalty notice", icon=":material/gavel:"):
            with st.form("penalty_notice", border=False):
                child = st.selectbox("Child", members, format_func=labels.get)
                names = list(dict.fromkeys(n for m in members for n in parents.get(m, [])))
                parent = st.selectbox("Issued to", names, accept_new_options=True,
                                      help="A parent or carer from the roll, or type another name.")
                issued = st.date_input("Date issued", value=formatting.today(), format="DD/MM/YYYY")
                note = st.text_input("Note (optional)")
                if st.form_submit_button("Record", type="primary"):
                    try:
                        with store.opened(path) as db:
                            penalty_notices.record_penalty_notice(db, viewer, int(child), parent or "", issued, note)
                        st.session_state[MESSAGE_KEY] = ("success", "Penalty notice recorded on the child's record.")
                        st.rerun()
                    except cases.CaseError as error:
                        st.error(md(error))

    with st.expander("Link two pupils as siblings by hand"):
        left, right = st.columns(2)
        first_pupil = left.selectbox("Pupil", options, format_func=labels.get,
                                     index=options.index(chosen), key="fam_link_a")
        second_pupil = right.selectbox("and", [o for o in options if o != first_pupil],
                                       format_func=labels.get, key="fam_link_b")
        st.button("Link as siblings", key="fam_link", on_click=decide, args=(first_pupil, second_pupil, True),
                  disabled=not viewer.may_write)
