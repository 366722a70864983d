"""Pupil — what is happening with this child? Search, "log action" and "log contact" at the
top, figures with the sessions behind them, open actions and check-ins, the weekly chart with
each action marked (attendance before and after it), a calendar of marks, runs of absence,
triggers with their dates, and the chronology: everything in one timeline, newest first."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import access, case_forms, lists, sidebar, workflows
from app_pages.ui.formatting import chart, counts_periods, dataframe, flags, hidden, md, pct, pupil_name, today, uk, \
    year_label
from core import (auth, cases, charts, chronology, codes, evidence_pack, intervention_types, reads, schools, store,
                  summary_counts)
from core import support_plans, thresholds, triggers
from core.calendar import uk_dates_in

# Colours of the calendar, one per category (present green, absences amber and red).
CATEGORY_COLOURS = {
    codes.PRESENT: "#2e8b57",
    codes.APPROVED_ACTIVITY: "#7fb77e",
    codes.AUTHORISED: "#f0ad4e",
    codes.UNAUTHORISED: "#c0392b",
    codes.NOT_POSSIBLE: "#d5d8dc",
    codes.MISSING: "#ffffff",
    codes.UNKNOWN: "#8e44ad",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_MATCHES = 50


def find_pupils(pupils: pd.DataFrame, query: str) -> pd.DataFrame:
    """Pupils whose name contains every word typed, or whose UPN or admission number is the query.

    Admission numbers match without their leading zeros (Excel drops them: 00123 → 123).
    """
    query = query.strip()
    if not query:
        return pupils.iloc[0:0]
    upn = query.upper().replace(" ", "")
    by_upn = pupils["upn"].str.upper() == upn
    digits = query.lstrip("0")
    by_adno = (pupils["adno"].fillna("").str.lstrip("0") == digits) if digits.isdigit() else False
    words = [w for w in re.split(r"[\s,]+", query.lower()) if w]
    full_names = (pupils["forename"].fillna("") + " " + pupils["surname"].fillna("")).str.lower()
    by_name = pd.Series(True, index=pupils.index)
    for word in words:
        by_name &= full_names.str.contains(word, regex=False)
    found = pupils[by_upn | by_adno | by_name]
    return found.sort_values(["surname", "forename"])


def calendar_chart(marks: pd.DataFrame) -> alt.Chart:
    """One cell per session: weeks across, Monday AM to Friday PM down, coloured by category."""
    dates = pd.to_datetime(marks["date"])
    cells = marks.assign(
        week=(dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.strftime("%d/%m"),
        week_order=(dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")),
        slot=[f"{WEEKDAYS[d.weekday()]} {s}" for d, s in zip(dates, marks["session"])],
        day=dates.dt.strftime("%a %d/%m/%Y"),
        label=marks["category"].map(codes.CATEGORY_LABELS),
        shown_code=marks["code"].replace("", "·"),
    )
    slots = [f"{d} {s}" for d in WEEKDAYS[:5] for s in ("AM", "PM")]
    slots += sorted(set(cells["slot"]) - set(slots))
    weeks = list(dict.fromkeys(cells.sort_values("week_order")["week"]))
    categories = [c for c in CATEGORY_COLOURS if c in set(cells["category"])]
    labels = [codes.CATEGORY_LABELS[c] for c in categories]
    base = alt.Chart(cells).encode(
        x=alt.X("week:O", sort=weeks, title="Week beginning", axis=alt.Axis(labelAngle=-60, orient="top")),
        y=alt.Y("slot:O", sort=slots, title=None, axis=alt.Axis(labelOverlap=False)),
    )
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        color=alt.Color("label:N", title=None,
                        scale=alt.Scale(domain=labels, range=[CATEGORY_COLOURS[c] for c in categories]),
                        legend=alt.Legend(orient="bottom", columns=4, symbolStrokeColor="#999999")),
        tooltip=[alt.Tooltip("day:N", title="Date"), alt.Tooltip("session:N", title="Session"),
                 alt.Tooltip("meaning:N", title="Mark"), alt.Tooltip("label:N", title="Counts as")],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("shown_code:N"),
        color=alt.ColorValue(**alt.condition(alt.FieldOneOfPredicate("category", [codes.NOT_POSSIBLE, codes.MISSING]),
                                             alt.value("#333333"), alt.value("#ffffff"))),
    )
    return (rect + text).properties(height=300)


def case_work_now() -> None:
    """Open actions with their check-ins, each with its buttons."""
    with store.opened(path) as db:
        open_actions = cases.interventions(db, viewer, [pupil_id], status="open")
        due = cases.checkins(db, viewer, now, [pupil_id])
    st.subheader("Open actions and check-ins")
    if open_actions.empty and due.empty:
        st.caption("No open actions." + (" Use “Log action” above to record what is being done." if writer else ""))
        return
    for action in open_actions.to_dict("records"):
        with st.container(border=True):
            text_column, *button_columns = st.columns([6, 1, 1]) if writer else st.columns([1])
            facts = [f"**{md(action['type'])}**", f"tier {action['tier']} {md(action['tier_name'])}",
                     f"started {uk(action['opened_on'])}", f"owner {md(staff.get(action['owner'], action['owner']))}"]
            if action["review_on"]:
                facts.append(f"review {uk(action['review_on'])}")
            text_column.markdown(" · ".join(facts))
            if action["details"]:
                text_column.caption(md(intervention_types.details_text(action["details"])))
            if action.get("summary"):
                text_column.caption(md(action["summary"]))
            if writer:
                button_columns[0].button("Edit", key=f"edit_{action['id']}", on_click=case_forms.request,
                                         args=("edit",), kwargs={"intervention_id": action["id"]}, width="stretch")
                button_columns[1].button("Close", key=f"close_{action['id']}", on_click=case_forms.request,
                                         args=("close",), kwargs={"intervention_id": action["id"]}, width="stretch")
            for checkin in due[due["intervention_id"] == action["id"]].to_dict("records"):
                checkin_row(checkin)
    loose = due[~due["intervention_id"].isin(open_actions["id"])]
    for checkin in loose.to_dict("records"):
        with st.container(border=True):
            checkin_row(checkin)


def statutory_workflows() -> None:
    """The penalty-notice ledger and children missing education (issue 17)."""
    workflows.penalty_ledger_section(user, viewer, int(pupil_id), now, masked, period.as_of if period else now)
    workflows.missing_education_section(user, viewer, int(pupil_id), now, masked)


def read_plan() -> support_plans.Plan | None:
    with store.opened(path) as db:
        return support_plans.plan_of(db, viewer, pupil_id)


def plan_layers(plan: support_plans.Plan | None, weekly: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The plan's targets (with progress) and reviews (held, and the next due) for the weekly chart."""
    if plan is None:
        return None, None
    targets = support_plans.target_progress(weekly, plan.targets, period.as_of) if period else plan.targets
    held = pd.DataFrame({"on": plan.reviews["held_on"].to_numpy(), "what": "Review held"})
    due = pd.DataFrame({"on": [plan.plan["next_review_on"]], "what": ["Review due"]}) if plan.is_open else None
    reviews = pd.concat([held, due], ignore_index=True) if due is not None else held
    return targets, reviews


def support_plan_section(plan: support_plans.Plan | None, weekly: pd.DataFrame | None) -> None:
    """The pupil's attendance support plan: facts, barriers, agreed actions, targets and
    their progress, reviews, with the buttons that add to it and its PDF for the parents."""
    st.subheader("Attendance support plan")
    if plan is None or not plan.is_open:
        if plan is not None:
            st.caption(f"The last plan closed on {uk(plan.plan['closed_on'])}"
                       + (f": {md(plan.plan['plan_outcome'])}" if plan.plan.get("plan_outcome") else "."))
        else:
            st.caption("No support plan. A plan records the barriers, what the school, family and others agreed, "
                       "a target and regular reviews.")
        if writer:
            st.button("Start a support plan", key="pupil_plan_start", icon=":material/assignment_add:",
                      on_click=case_forms.request, args=("plan_start",), kwargs={"pupil_id": pupil_id})
        return
    p = plan.plan
    overdue = p["next_review_on"] < now
    review = f"next review {uk(p['next_review_on'])}"
    facts = [f"started {uk(p['started_on'])}", f"kept by {md(staff.get(p['owner'], p['owner']))}",
             f":red[**{review} — overdue**]" if overdue else review,
             f"Early Help: {md(support_plans.EARLY_HELP.get(p['early_help'], p['early_help']))}",
             f"shared with the parents {uk(p['shared_on'])}" if p.get("shared_on") else "not yet shared with the parents"]
    with st.container(border=True, key="pupil_plan"):
        st.markdown(" · ".join(facts))
        if "barriers" in p:
            st.markdown(f"**Barriers:** {md(p['barriers']) or 'none recorded yet'}")
        elif viewer.shared_screen:
            st.caption("Barriers and review notes are not shown in meeting mode.")
        tables = support_plans.plan_tables(plan, staff)
        st.markdown("**Agreed actions**")
        if tables["actions"].empty:
            st.caption("None yet.")
        else:
            dataframe(tables["actions"].assign(By=tables["actions"]["By"].map(uk)), hide_index=True,
                      width="stretch", key="pupil_plan_actions",
                      column_config={"Agreed action": st.column_config.TextColumn(width="large")})
        targets_column, reviews_column = st.columns([2, 3], gap="large")
        with targets_column:
            st.markdown("**Targets**")
            progress = support_plans.target_progress(weekly, plan.targets, period.as_of) \
                if weekly is not None and period is not None else None
            if plan.targets.empty:
                st.caption("None yet.")
            elif progress is not None:
                dataframe(pd.DataFrame({
                    "Target": [f"{v:.1f}%" for v in progress["attendance_pct"]], "By": progress["by_date"].map(uk),
                    "Since set": [pct(v) if v is not None and not pd.isna(v) else "—"
                               for v in progress["attendance_since_pct"]],
                    "Progress": progress["status_label"]}), hide_index=True, width="stretch", key="pupil_plan_targets")
        with reviews_column:
            st.markdown("**Reviews**")
            reviews = tables["reviews"]
            if reviews.empty:
                st.caption("None held yet.")
            else:
                dataframe(reviews.assign(**{"Review held": reviews["Review held"].map(uk),
                                            "Next review": reviews["Next review"].map(uk)}),
                          hide_index=True, width="stretch", key="pupil_plan_reviews")
        if writer:
            buttons = st.columns(6)
            for place, (label, form, icon) in zip(buttons, (
                    ("Add action", "plan_action", ":material/playlist_add:"),
                    ("Set target", "plan_target", ":material/flag:"),
                    ("Review", "plan_review", ":material/rate_review:"),
                    ("Edit, share", "plan_edit", ":material/edit:"),
                    ("Close plan", "plan_close", ":material/task_alt:"))):
                place.button(label, key=f"pupil_{form}", icon=icon, on_click=case_forms.request, args=(form,),
                             kwargs={"pupil_id": pupil_id}, width="stretch")
            school = pupils_school_name(int(pupil_id))
            buttons[5].download_button(
                "Plan PDF", lambda r=viewer, i=int(pupil_id), m=masked: support_plans.plan_pdf_for(path, r, i, m, now),
                support_plans.plan_file_name(school, plan, now, masked), "application/pdf", key="pupil_plan_pdf",
                icon=":material/picture_as_pdf:", on_click="ignore", width="stretch",
                help="The plan to share with the parents: barriers, agreed actions, targets and reviews.")


def checkin_row(checkin: dict) -> None:
    text_column, button_column = st.columns([6, 2]) if writer else (st.container(), None)
    when = f"Check-in due {uk(checkin['due_on'])} · {md(staff.get(checkin['owner'], checkin['owner']))}"
    text_column.markdown(f":red[**{when} — overdue by {checkin['days_overdue']} days**]" if checkin["overdue"]
                         else f":material/event: {when}")
    if button_column is not None:
        button_column.button("Complete check-in", key=f"checkin_{checkin['id']}", on_click=case_forms.request,
                             args=("checkin",), kwargs={"checkin_id": checkin["id"]}, width="stretch",
                             icon=":material/task_alt:")


def chronology_section(reached: pd.DataFrame) -> None:
    st.subheader("Chronology")
    with store.opened(path) as db:
        events = chronology.chronology(db, viewer, pupil_id, now, reached)
    if events.empty:
        st.caption("Nothing yet: no actions, contacts or check-ins, no triggers, and no marks changed by later uploads.")
        return
    shown = pd.DataFrame({
        "Date": events["on"].to_numpy(),
        "What": events["what"].to_numpy(),
        "Details": events["detail"].to_numpy(),
    })
    if viewer.sees_notes:
        shown = shown.assign(Notes=events["note"].to_numpy())
    if viewer.sees_sensitive and events["sensitive_note"].fillna("").ne("").any():
        shown = shown.assign(**{"Sensitive note": events["sensitive_note"].to_numpy()})
    shown = shown.assign(By=events["by"].to_numpy())
    dataframe(lists.styled(shown, events["overdue"], ("Date",)), hide_index=True, width="stretch",
              height=min(38 + 35 * len(shown), 460),
              column_config={"Date": st.column_config.Column("Date", width=90),
                             "What": st.column_config.TextColumn("What", width="medium"),
                             "Details": st.column_config.TextColumn("Details", width="large"),
                             "Notes": st.column_config.TextColumn("Notes", width="large")})
    st.caption("Newest first; check-ins still to come are at the top, overdue ones in red."
               + ("" if viewer.sees_notes else " Notes are not shown to your role."))


user = access.require("pupil")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
masked = sidebar.meeting_mode()

st.title("Pupil")
everyone = lists.scoped_pupils(user, path, version)
if everyone.empty:
    if period is None:
        lists.no_registers_yet(user)
    else:
        st.info("There are no pupils in your sections yet.")
    st.stop()

# The pupil's address: /pupil?pupil=<internal id> (never a UPN or a name) opens them, for a
# bookmark or a link; an address already followed does not win over a pupil opened since.
from_address = st.query_params.get(lists.PUPIL_PARAM)
if from_address and from_address != st.session_state.get("pupil_address_seen"):
    st.session_state["pupil_address_seen"] = from_address
    if from_address.isdigit():
        st.session_state[lists.OPEN_PUPIL_KEY] = int(from_address)

query = st.text_input("Find a pupil", key="pupil_query", placeholder="Name, UPN or admission number",
                      help="Type part of a name (e.g. “amir kh”), a UPN, or an admission number.")
if query.strip():
    matches = find_pupils(everyone, query)
    if matches.empty:
        # Nobody is open after a search that finds nobody: an action must never go on the
        # pupil who happened to be open before.
        st.session_state.pop(lists.OPEN_PUPIL_KEY, None)
        st.query_params.pop(lists.PUPIL_PARAM, None)
        st.info(f"No pupil{' in your sections' if not user.sees_all_pupils else ''} matches “{md(query)}”. "
                "Check the spelling, or try the UPN or admission number.")
    else:
        options = matches["id"].head(MAX_MATCHES).tolist()
        labels = {int(r.id): f"{pupil_name(r.surname, r.forename, masked)} — {r.form or year_label(r.year_group)}"
                             + ("" if hidden("upn") else f" — UPN {r.upn}")
                             + (f" — adm. {r.adno}" if r.adno and not hidden("adno") else "")
                  for r in matches.head(MAX_MATCHES).itertuples()}
        if len(options) == 1:
            st.session_state[lists.OPEN_PUPIL_KEY] = options[0]
        else:
            current = st.session_state.get(lists.OPEN_PUPIL_KEY)
            chosen = st.selectbox(
                f"{len(matches)} pupils match" + (f" (first {MAX_MATCHES} shown)" if len(matches) > MAX_MATCHES else ""),
                options, index=options.index(current) if current in options else 0, format_func=labels.get)
            st.session_state[lists.OPEN_PUPIL_KEY] = chosen

def pupils_school_name(pupil_id: int) -> str:
    """The pupil's own school's name (issue 18), for the file names of their documents."""
    school_id = reads.school_of_pupils(path, version).get(pupil_id)
    return reads.settings(path, version, None if school_id is None else int(school_id))["school_name"]


pupil_id = st.session_state.get(lists.OPEN_PUPIL_KEY)
if pupil_id is None:
    st.caption("Search above, or open a pupil from the Below 90% list.")
    st.stop()
found = everyone[everyone["id"] == pupil_id]
if found.empty:
    st.warning("That pupil is not in your sections, so their record is not shown.")
    st.stop()
pupil = found.iloc[0]
st.query_params[lists.PUPIL_PARAM] = st.session_state["pupil_address_seen"] = str(int(pupil_id))

# --- header ------------------------------------------------------------------------

st.header(md(pupil_name(pupil["surname"], pupil["forename"], masked)))
pupil_flags = flags(found).iloc[0]
facts = [f"Form **{md(pupil['form']) or '—'}**", md(year_label(pupil["year_group"]))]
if not hidden("upn"):
    facts.append(f"UPN {md(pupil['upn'])}")
if pupil["adno"] and not hidden("adno"):
    facts.append(f"Admission no. {md(pupil['adno'])}")
if pupil_flags:
    facts.append(f"**{pupil_flags}**")
if not pupil["on_roll"]:
    facts.append("not on the roll uploaded")
viewer = case_forms.viewer_for(user)
writer = case_forms.may_write(user)
now = today()
with store.opened(path) as db:
    staff = {u.username: u.name for u in auth.list_users(db)}
    key_adult = cases.key_adults(db, [pupil_id])
    # On a trust's store: the pupil's school, and their last move between the trust's schools.
    their_school = schools.pupil_school(db, pupil_id) if schools.count(db) > 1 else None
    last_move = schools.moves(db, [pupil_id]).tail(1) if their_school else None
if not key_adult.empty:
    facts.append(f"Key adult **{md(key_adult['key_adult_name'].iloc[0])}**")
if their_school is not None:
    facts.append(f"School **{md(their_school.name)}**")
st.markdown(" · ".join(facts))
if last_move is not None and not last_move.empty:
    move = last_move.iloc[0]
    st.caption(md(schools.move_text(move["from_school"], move["to_school"], move["moved_on"])
                  + " — one record: their marks and case work from before the move are below."))

if writer:
    log_action, log_contact, choose_key_adult, _ = st.columns([1.2, 1.2, 1.2, 4])
    log_action.button("Log action", key="pupil_log_action", type="primary", icon=":material/add_task:",
                      on_click=case_forms.request, args=("action",), kwargs={"pupil_id": pupil_id}, width="stretch")
    log_contact.button("Log contact", key="pupil_log_contact", icon=":material/call:",
                       on_click=case_forms.request, args=("contact",), kwargs={"pupil_id": pupil_id}, width="stretch")
    choose_key_adult.button("Key adult", key="pupil_key_adult", icon=":material/person_pin:",
                            on_click=case_forms.request, args=("key_adult",), kwargs={"pupil_id": pupil_id},
                            width="stretch")
case_forms.draw(user)

if period is None:
    lists.no_registers_yet(user)
    case_work_now()
    support_plan_section(read_plan(), None)
    statutory_workflows()
    chronology_section(pd.DataFrame(columns=triggers.COLUMNS))
    st.stop()

if user.may("case_work"):
    school = pupils_school_name(int(pupil_id))
    st.download_button(
        "Download evidence pack", lambda r=viewer, p=period, m=masked, i=int(pupil_id):
        evidence_pack.evidence_pack_pdf_for(path, r, i, p, m),
        evidence_pack.pack_file_name(school, pupil["surname"], pupil["forename"], period.as_of, masked, "pdf"),
        "application/pdf", key="pupil_evidence_pack", icon=":material/picture_as_pdf:", on_click="ignore",
        help="A PDF for a referral to the local authority: figures, attendance by week, reasons, triggers and the "
             "chronology (CSV on the Reports screen).")

figures = reads.pupil_figures(path, version, period.date_from, period.as_of, reads.school_scope(user))
mine = figures[figures["pupil_id"] == pupil_id]
reached = lists.triggers_shown(path, version, period.as_of, user)
reached = reached[reached["pupil_id"] == pupil_id].sort_values("reached_on")
if mine.empty or int(mine.iloc[0]["possible_sessions"]) == 0:
    st.info(f"No possible sessions for this pupil between {uk(period.date_from)} and {uk(period.as_of)}.")
    case_work_now()
    support_plan_section(read_plan(), None)
    statutory_workflows()
    chronology_section(reached)
    st.stop()
me = mine.iloc[0]
possible, attended = int(me["possible_sessions"]), int(me["attendance_sessions"])
authorised, unauthorised = int(me["authorised_sessions"]), int(me["unauthorised_sessions"])
absent = authorised + unauthorised
PA, SA = thresholds.PERSISTENT, thresholds.SEVERE
status = f"{SA.label} ({SA.attendance_label} or below)" if me["severely_absent"] else (
    f"{PA.label} ({PA.attendance_label} or below)" if me["persistently_absent"] else f"Above {PA.attendance_label}")

columns = st.columns(5)
columns[0].metric("Attendance", pct(me["attendance_pct"]), help=f"{attended} of {possible} possible sessions")
columns[1].metric("Absence", pct(me["absence_pct"]), help=f"{absent} of {possible} possible sessions")
columns[2].metric("Authorised sessions", f"{authorised}")
columns[3].metric("Unauthorised sessions", f"{unauthorised}")
columns[4].metric("Missing marks", f"{int(me['missing_marks'])}", help="Sessions with no mark yet; they count in no total.")
st.markdown(f"**{status}** · {uk(period.date_from)} to {uk(period.as_of)}")
spare = reads.spare_sessions(path, version, period.as_of, reads.school_scope(user))
spare = spare[spare["pupil_id"] == pupil_id]
if not spare.empty and pd.notna(spare["sessions_to_spare"].iloc[0]):
    left, to_spare = int(spare["sessions_left"].iloc[0]), int(spare["sessions_to_spare"].iloc[0])
    needed = spare["attendance_needed_pct"].iloc[0]
    if to_spare < 0:
        st.markdown(f"**Early warning:** with {left} sessions left this year, even full attendance ends the year at "
                    f"or below {PA.attendance_label} ({-to_spare} session{'s' if to_spare != -1 else ''} too many "
                    "already).")
    else:
        st.markdown(f"**Early warning:** {to_spare} session{'s' if to_spare != 1 else ''} to spare — the most this "
                    f"pupil can still miss of the {left} left this year and end it above {PA.attendance_label}; "
                    f"that needs {needed:.1f}% attendance from now on.")
elif not spare.empty:
    st.caption("Sessions to spare this year need the school calendar to reach the end of the year (Admin → School "
               "calendar).")
# Summary counts in these figures (core/summary_counts.py): which dates, and that patterns stop there.
counted = int(me["counted_sessions"])
if counted:
    st.info(f"**Figures include summary counts** for {counts_periods(me['counts_periods'])} ({counted} possible "
            "sessions): the store has no marks for this pupil on those dates. The weekly chart, the session "
            "calendar, reasons, runs of absence and triggers come from marks only — patterns are not available "
            "for those dates.", icon=":material/functions:")
left_out = reads.counts_not_used(path, version, period.date_from, period.as_of)
for row in left_out[left_out["pupil_id"] == pupil_id].itertuples():  # a few counts at most
    st.caption(f"Summary counts for {uk(row.counts_from)}–{uk(row.counts_to)} ({row.possible_sessions} possible "
               f"sessions) are not in these figures: {md(summary_counts.REASONS[row.reason])}.")

with st.expander("The sessions behind these percentages, and the rule applied"):
    behind = reads.sessions_behind(path, version, pupil_id, period.date_from, period.as_of)
    st.markdown(
        f"- Attendance **{pct(me['attendance_pct'], 2)}** = {attended} attendance sessions ÷ {possible} possible sessions.\n"
        f"- Absence **{pct(me['absence_pct'], 2)}** = ({authorised} authorised + {unauthorised} unauthorised) ÷ {possible}.\n"
        + (f"- Of the {possible} possible sessions, {counted} come from summary counts for "
           f"{counts_periods(me['counts_periods'])} (dates with no marks); the table below is the marks' share.\n"
           if counted else "")
        + f"- Possible sessions = attendance + authorised absence + unauthorised absence. "
        f"Sessions marked “not possible” (e.g. X, Z, #) and missing marks count in no total.\n"
        f"- {PA.label} when absence is at least {PA.absence_label} of possible sessions: "
        f"{PA.rule_text(absent, possible)}, so **{'yes' if me['persistently_absent'] else 'no'}**. "
        f"{SA.label} at {SA.absence_label}: {SA.rule_text(absent, possible)}, "
        f"so **{'yes' if me['severely_absent'] else 'no'}**."
    )
    dataframe(behind.rename(columns={"code": "Code", "meaning": "Mark", "category": "Category",
                                     "sessions": "Sessions", "counts_as": "Counts as"})
              .drop(columns=["Category"]), hide_index=True, width="stretch")

# --- case work and the weekly chart --------------------------------------------------------

case_work_now()

school_days = int(reads.settings(path, version)["impact_school_days"])
plan = read_plan()
weekly = reads.pupil_weekly(path, version, period.date_from, period.as_of, (int(pupil_id),), 60)
weekly = weekly[weekly["possible_sessions"] > 0]
support_plan_section(plan, weekly)
statutory_workflows()  # support first: the plan, then the penalty-notice ledger and missing education
plan_targets, plan_reviews = plan_layers(plan, weekly)
st.subheader("Week by week, and what was done")
actions = reads.impact(path, version, reads.case_version(path), school_days, viewer, (int(pupil_id),))
actions = actions[pd.to_datetime(actions["opened_on"]) <= pd.Timestamp(period.as_of)]
if weekly.empty:
    st.caption("No school weeks with possible sessions in this period.")
else:
    chart(charts.attendance_trend, weekly, actions=actions, impact_days=school_days, height=240,
          plan_targets=plan_targets, plan_reviews=plan_reviews, key="pupil_trend")
    st.caption(f"▼ marks where an action started; hover for attendance in the {school_days} school days before "
               "and after it (the after figure is still forming until that many school days have passed)."
               + (" The green dashed line is the support plan's target; ◆ its reviews (held and next due)."
                  if plan is not None else ""))
    with st.expander("Show data"):
        dataframe(weekly.assign(week_start=weekly["week_start"].map(uk))[
            ["week_start", "possible_sessions", "attendance_pct"]].rename(columns={
                "week_start": "Week beginning", "possible_sessions": "Possible sessions",
                "attendance_pct": "Attendance %"}).round(1), hide_index=True, width="stretch")
        if not actions.empty:
            dataframe(pd.DataFrame({
                "Action": actions["type"], "Started": actions["opened_on"].map(uk),
                f"{school_days} days before": actions["before_pct"].map(pct), "After": actions["after_pct"].map(pct),
                "Change (pts)": actions["change_pts"].round(1), "School days since": actions["after_days"],
            }), hide_index=True, width="stretch")

# --- calendar ----------------------------------------------------------------------

st.subheader("Marks, session by session")
marks = reads.pupil_calendar(path, version, pupil_id, period.date_from, period.as_of)
if marks.empty:
    st.info("No marks stored for this pupil in this period.")
else:
    chart(calendar_chart, marks)
    with st.expander("Show data"):
        dataframe(marks.assign(date=marks["date"].map(uk), category=marks["category"].map(codes.CATEGORY_LABELS))
                  .rename(columns={"date": "Date", "session": "Session", "code": "Code", "category": "Counts as",
                                   "meaning": "Mark", "minutes_late": "Minutes late"}),
                  hide_index=True, width="stretch")

# --- reasons, runs, triggers ----------------------------------------------------------

reasons_column, runs_column = st.columns(2, gap="large")
with reasons_column:
    st.subheader("Reasons for absence")
    absence_codes = behind[behind["category"].isin([codes.AUTHORISED, codes.UNAUTHORISED])]
    if absence_codes.empty:
        st.caption("No absence in this period.")
    else:
        dataframe(absence_codes[["meaning", "sessions", "counts_as"]].rename(
            columns={"meaning": "Reason", "sessions": "Sessions", "counts_as": "Counts as"}),
            hide_index=True, width="stretch")
with runs_column:
    st.subheader("Runs of absence")
    runs = reads.absence_runs(path, version, pupil_id, period.date_from, period.as_of)
    if runs.empty:
        st.caption("No run of two or more whole school days absent.")
    else:
        dataframe(runs.assign(start=runs["start"].map(uk), end=runs["end"].map(uk)).rename(columns={
            "start": "From", "end": "To", "school_days": "School days", "sessions": "Sessions", "codes": "Marks"}),
            hide_index=True, width="stretch")

st.subheader("Statutory triggers")
if reached.empty:
    st.caption("None reached this academic year" + ("" if me["compulsory_school_age"] else
               " (triggers apply to pupils of compulsory school age only)") + ".")
else:
    dataframe(pd.DataFrame({
        "Reached on": reached["reached_on"].map(uk),
        "Trigger": reached["trigger"].map(lambda t: triggers.BY_ID[t].label),
        "Detail": reached["detail"].map(uk_dates_in),
        "What follows": reached["trigger"].map(lambda t: triggers.BY_ID[t].next_step),
    }), hide_index=True, width="stretch")

chronology_section(reached)
