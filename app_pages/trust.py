"""Trust — how are our schools doing? (issue 18) The schools a trust user may see side by
side against the national figures, and the choice of one school for the other screens."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, case_forms, lists, sidebar
from app_pages.ui.formatting import dataframe, md, pct, today, uk
from core import benchmarks, calendar, cases, exports, menu, reads, schools, statistics, store, trust

user = access.require("trust")
everyone = access.current_user() or user  # the whole of their scope, whatever school they chose
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()

st.title("Trust")
lists.require_registers(user, period)

with store.opened(path) as db:
    listed = schools.schools_frame(db)
    school_of = reads.school_of_pupils(path, version)
    if everyone.school_ids is not None:
        listed = listed[listed["id"].isin(list(everyone.school_ids))]
    overdue = cases.checkins(db, case_forms.viewer_for(everyone), today())
if listed.empty:
    st.info("You are not linked to any school yet. Ask your trust's Pastoral administrator.")
    st.stop()

figures = lists.scoped_figures(everyone, path, version, period.date_from, period.as_of)
reached = lists.triggers_shown(path, version, period.as_of, everyone)
overdue_by_pupil = overdue[overdue["overdue"]].groupby("pupil_id").size()
table = trust.side_by_side(listed, figures, school_of, reached["pupil_id"].unique(), overdue_by_pupil)

st.caption(f"{uk(period.date_from)} to {uk(period.as_of)} · {len(listed)} schools · pupils of compulsory school "
           "age (all pupils at a school with none) · choose a school below to see its pupils on every screen")

national_figures = reads.national_figures(path, version)
national = {m: benchmarks.national(national_figures, m, period.academic_year)
            for m in ("attendance_pct", "persistent_absence_pct", "severe_absence_pct")}
national_row = pd.DataFrame([{
    "school_id": None, "school": "National (state-funded schools)", "dfe_number": "", "hub": "", "pupils": None,
    **{m: (f.value if f else None) for m, f in national.items()},
    "unauthorised_absence_pct": None, "pupils_at_trigger": None, "overdue_check_ins": None, "missing_marks": None}])

shown = pd.concat([table, national_row], ignore_index=True)
view = pd.DataFrame({
    "School": shown["school"],
    "DfE number": shown["dfe_number"],
    "Hub": shown["hub"],
    "Pupils": shown["pupils"].astype("Int64"),
    "Attendance %": shown["attendance_pct"].astype("Float64").round(1),
    "PA %": shown["persistent_absence_pct"].astype("Float64").round(1),
    "SA %": shown["severe_absence_pct"].astype("Float64").round(1),
    "Unauth. %": shown["unauthorised_absence_pct"].astype("Float64").round(1),
    "At a trigger": shown["pupils_at_trigger"].astype("Int64"),
    "Check-ins overdue": shown["overdue_check_ins"].astype("Int64"),
    "Missing marks": shown["missing_marks"].astype("Int64"),
})
dataframe(view.style.format(na_rep="", precision=1), hide_index=True, width="stretch", key="trust_table")
lists.download_buttons(view, "trust", period.as_of, "trust_download")
notes = [f"{label}: {f.described()}" for label, f in
         (("Attendance", national["attendance_pct"]), ("PA", national["persistent_absence_pct"]),
          ("SA", national["severe_absence_pct"])) if f]
if notes:
    st.caption("National figures — " + md(" · ".join(notes)))

below = table[(table["school_id"].notna()) & (table["attendance_pct"].notna())]
if national["attendance_pct"] and not below.empty:
    under = below[below["attendance_pct"] < national["attendance_pct"].value]
    st.caption(f"{len(under)} of {len(below)} schools below the national attendance of "
               f"{pct(national['attendance_pct'].value)}.")

# --- the targets: each school's own and the trust's -----------------------------------------

year = period.academic_year
with store.opened(path) as db:
    school_targets = {int(i): benchmarks.targets_for(store.get_settings(db, int(i)), year) for i in listed["id"]}
trust_targets = benchmarks.targets_for(reads.settings(path, version), year, benchmarks.TRUST_TARGETS)
targets = trust.against_targets(table, school_targets, trust_targets)
st.subheader("Against the targets")
if targets.empty:
    st.caption(f"No targets set for {calendar.academic_year_label(year)}: the trust's and each school's are set "
               "in Admin → Benchmarks and targets.")
else:
    # One measure at a time: a row a school (21 rows for 21 schools, not 63), the trust's last.
    offered = trust.target_measures(targets)
    if st.session_state.get("trust_target_measure") not in offered:
        st.session_state["trust_target_measure"] = offered[0]
    measure = st.segmented_control("Measure", offered, key="trust_target_measure", required=True,
                                   label_visibility="collapsed")
    dataframe(trust.target_view(targets, measure), hide_index=True, width="stretch", key="trust_targets")
    st.caption(f"Targets for {calendar.academic_year_label(year)} beside the figures for the dates chosen. Gap: "
               "how far the figure is better (+) or worse (−) than the target, in points — attendance above its "
               "target, persistent and severe absence below theirs, is better.")

# --- drill down: one school on every screen ------------------------------------------------

st.subheader("Look at one school")
names = dict(zip(listed["id"].astype(int), listed["name"]))
options = [0, *names]
chosen_before = st.session_state.get(access.TRUST_SCHOOL_KEY)
index = options.index(chosen_before[0]) if chosen_before and chosen_before[0] in options else 0
choice = st.selectbox("Show on the other screens", options, index=index,
                      format_func=lambda i: "All my schools" if i == 0 else names[i], key="trust_school_choice")
if choice:
    st.session_state[access.TRUST_SCHOOL_KEY] = (int(choice), names[choice])
    st.caption(f"Overview, Below 90%, Patterns, Pupil and Reports now show the pupils of {md(names[choice])} only.")
    st.page_link(menu.BY_ID["below_90"].file, label=f"Pupils below 90% at {md(names[choice])}", icon=":material/warning:")
else:
    st.session_state.pop(access.TRUST_SCHOOL_KEY, None)

# --- vulnerable groups: each school's gap -------------------------------------------------

st.subheader("Vulnerable groups: the gap at each school")
gaps = trust.group_gaps(listed, figures, school_of)
if gaps.empty:
    st.caption("No pupil in these schools is in a vulnerable group (PP, FSM, SEN, CLA, EAL, social worker).")
else:
    dataframe(pd.DataFrame({
        "School": gaps["school"],
        "Group": gaps["group"],
        "Pupils in group": gaps["pupils_in_group"],
        "Group attendance %": gaps["group_attendance_pct"].astype("Float64").round(1),
        "Others' attendance %": gaps["others_attendance_pct"].astype("Float64").round(1),
        "Gap (points)": gaps["gap_points"].astype("Float64").round(1),
    }), hide_index=True, width="stretch", key="trust_gaps")
    st.caption("Gap: the group's attendance minus the other pupils' at the same school, over the dates chosen; "
               "negative means the group attends less. Small groups swing widely — read the pupils column too.")

# --- the half-termly trust report (PDF) -------------------------------------------------

st.subheader("Trust report")
with store.opened(path) as db:
    terms = statistics.half_terms_so_far(db)
term_options = list(range(len(terms)))[::-1]
chosen_term = st.selectbox("Half term", [*term_options, -1], key="trust_report_term",
                           format_func=lambda i: "The dates chosen in the sidebar" if i == -1 else
                           f"{terms[i].label} ({uk(terms[i].first_day)} to {uk(terms[i].last_day)})")
if chosen_term == -1:
    first, last, label = period.date_from, period.as_of, f"{uk(period.date_from)} to {uk(period.as_of)}"
else:
    term = terms[chosen_term]
    first, last, label = term.first_day, term.last_day, f"{term.label} ({uk(term.first_day)} to {uk(term.last_day)})"
title = f"Hub {everyone.hub}" if everyone.hub else "Trust"


def term_report() -> bytes:
    """The report's PDF, made when the button is clicked: the half term's figures are a read
    of every school's marks for those dates (seconds on a large trust), not needed to draw the screen."""
    term_figures = lists.scoped_figures(everyone, path, version, first, last)
    term_table = trust.side_by_side(listed, term_figures, school_of, reached["pupil_id"].unique(), overdue_by_pupil)
    return trust.report_pdf(title, label, term_table, trust.group_gaps(listed, term_figures, school_of), national,
                            trust.against_targets(term_table, school_targets, trust_targets))


st.download_button(
    "Trust report (PDF)", term_report,
    exports.file_name(title, "trust-report", last, "pdf"), "application/pdf", key="trust_report_pdf",
    icon=":material/picture_as_pdf:", on_click="ignore")
st.caption("The schools side by side and each school's vulnerable-group gaps for the half term, with the national "
           "figures; triggers and overdue check-ins as they stand at the last upload.")
