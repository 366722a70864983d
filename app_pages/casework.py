"""Casework — what is due, what is overdue, who has been left, and what worked.

My caseload (my open actions, my check-ins with the overdue in red), the team's overdue
check-ins, pupils at or below 90% with no action in N days, reduced timetables due for
review, penalty notices this academic year with the national framework's next step, and
the impact of each kind of intervention. Every list is scoped to the user's pupils and
can be downloaded; viewers see the lists without notes and record nothing.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, case_forms, formatting, lists, sidebar, workflows
from app_pages.ui.formatting import dataframe, md, names, pct, today, uk
from core import auth, cases, impact, intervention_types, penalty_notices, reads, store, support_plans

SHOW_KEY = "cw_show"
OPEN_KEY = "casework_open_pupil"


def open_row(row: pd.Series) -> None:
    st.session_state[OPEN_KEY] = int(row["pupil_id"])


def ask(form: str, id_column: str, id_name: str):
    return lambda row: case_forms.request(form, **{id_name: int(row[id_column])})


def buttons(frame: pd.DataFrame, key: str, actions: dict[str, tuple[str, callable]]) -> dict:
    """Column configs for row buttons: the column's label → (cell text, what a click does)."""
    configs = {}
    for column, (_text, act) in actions.items():
        click_key = f"{key}_{column.lower().replace(' ', '_')}"
        configs[column] = st.column_config.ButtonColumn(
            "", type="tertiary", key=click_key, on_click=lists.row_clicked, args=(click_key, frame, act),
            width=90 if column != "Open" else 60, pinned=True)
    return configs


def table(frame: pd.DataFrame, shown: pd.DataFrame, key: str, actions: dict, overdue: pd.Series | None = None,
          dates: tuple[str, ...] = (), formats: dict | None = None, config: dict | None = None) -> None:
    """`shown` (the columns people read, as a shared screen may show them) with row buttons
    in front; `frame` holds the ids."""
    shown = formatting.shown(shown, masked)
    with_buttons = pd.concat([pd.DataFrame({c: t for c, (t, _) in actions.items()}, index=shown.index), shown], axis=1)
    dataframe(lists.styled(with_buttons, overdue, dates, formats, plain=tuple(actions)), hide_index=True,
              width="stretch",
              height=min(38 + 35 * len(shown), 420),
              column_config={**buttons(frame, key, actions), **(config or {})})


def download(shown: pd.DataFrame, stem: str, key: str, dates: tuple[str, ...] = ()) -> None:
    export = shown.assign(**{c: shown[c].map(uk) for c in dates if c in shown.columns})
    _, right = st.columns([4, 1.3])
    with right:
        lists.download_buttons(export, stem, now, key)


user = access.require("casework")
path, version = reads.db_path(), reads.version()
case_version = reads.case_version(path)
period = sidebar.chosen_period()
settings = reads.settings(path, version)
viewer = case_forms.viewer_for(user)
writer = case_forms.may_write(user)
masked = sidebar.meeting_mode()
now = today()
no_action_days = int(settings["no_action_days"])
school_days = int(settings["impact_school_days"])

st.title("Casework")
if period is None:  # no registers yet: nothing is below 90%, and the way to the first upload
    lists.no_registers_yet(user)

with store.opened(path) as db:
    staff = {u.username: u.name for u in auth.list_users(db)}
    outstanding = cases.checkins(db, viewer, now)
    my_actions = cases.interventions(db, viewer, status="open", owner=user.username)
    reviews = cases.reduced_timetables_due(db, viewer, now)
    plan_reviews = support_plans.plans_due(db, viewer, now)
    framework = penalty_notices.PenaltyFramework.of(db)
    notices = penalty_notices.penalty_notices(db, viewer, now, year_of=period.as_of if period else None, framework=framework)
    notice_history = penalty_notices.penalty_notice_history(db, viewer, framework=framework)
    no_action = None
    if period is not None:
        figures = lists.scoped_figures(user, path, version, period.date_from, period.as_of)
        no_action = cases.without_recent_action(db, figures[figures["possible_sessions"] > 0], now, no_action_days)
mine = outstanding[outstanding["owner"] == user.username]
overdue = outstanding[outstanding["overdue"]].sort_values(["days_overdue", "due_on"], ascending=[False, True])
per_action = reads.impact(path, version, case_version, school_days, viewer)
by_type = impact.impact_by_type(per_action)

VIEWS = {
    "mine": f"My caseload · {len(mine) + len(my_actions)}",
    "overdue": f"Overdue check-ins · {len(overdue)}",
    "no_action": f"No action in {no_action_days} days · {'—' if no_action is None else len(no_action)}",
    "reviews": f"Reviews due · {len(reviews) + len(plan_reviews)}",
    "penalties": f"Penalty notices · {int(notices['notices_this_year'].sum()) if len(notices) else 0}",
    "impact": "Impact",
}
if not writer:
    VIEWS.pop("mine")
if st.session_state.get(SHOW_KEY) not in VIEWS:
    st.session_state[SHOW_KEY] = next(iter(VIEWS))
scope = "" if user.sees_all_pupils else f" · {md(user.scope_label())} only"
st.caption(f"Today {uk(now)}{scope}" + ("" if viewer.sees_notes else " · lists only, no notes"))
show = st.segmented_control("Show", list(VIEWS), format_func=VIEWS.get, key=SHOW_KEY, required=True,
                            label_visibility="collapsed")


def pupil_columns(frame: pd.DataFrame) -> dict:
    return {"Pupil": names(frame, masked).to_numpy(), "Form": frame["form"].to_numpy()}


# --- my caseload ---------------------------------------------------------------------------

if show == "mine":
    late = int(mine["overdue"].sum())
    st.subheader("My check-ins")
    if mine.empty:
        st.caption("No check-ins booked for you. A check-in is booked when an action is logged.")
    else:
        st.markdown(f"**{len(mine)} booked for you, {late} overdue** (in red) · soonest first")
        shown = pd.DataFrame({**pupil_columns(mine), "For": mine["type"].fillna("—").to_numpy(),
                              "Due": mine["due_on"].to_numpy(), "Days overdue": mine["days_overdue"].to_numpy()},
                             index=mine.index)
        table(mine, shown, "cw_mine", {"Complete": ("Complete", ask("checkin", "id", "checkin_id")),
                                       "Open": ("Open", open_row)}, mine["overdue"], ("Due",))
        download(shown, "my_check_ins", "cw_mine_dl", ("Due",))
    st.subheader("My open actions")
    if my_actions.empty:
        st.caption("No open actions owned by you. Log one from Below 90% or a pupil's page.")
    else:
        shown = pd.DataFrame({**pupil_columns(my_actions), "Action": my_actions["type"].to_numpy(),
                              "Tier": my_actions["tier"].to_numpy(), "Started": my_actions["opened_on"].to_numpy(),
                              "Review on": my_actions["review_on"].to_numpy()}, index=my_actions.index)
        if viewer.sees_notes:
            shown = shown.assign(Summary=my_actions["summary"].to_numpy())
        table(my_actions, shown, "cw_actions", {"Edit": ("Edit", ask("edit", "id", "intervention_id")),
                                                "Close": ("Close", ask("close", "id", "intervention_id")),
                                                "Open": ("Open", open_row)},
              dates=("Started", "Review on"), config={"Summary": st.column_config.TextColumn("Summary", width="large")})
        download(shown, "my_open_actions", "cw_actions_dl", ("Started", "Review on"))

# --- the team's overdue check-ins ---------------------------------------------------------------

elif show == "overdue":
    if overdue.empty:
        st.success("No check-in is overdue.")
    else:
        st.markdown(f"**{len(overdue)} check-in{'s' if len(overdue) != 1 else ''} overdue** across the team · "
                    "longest overdue first")
        shown = pd.DataFrame({**pupil_columns(overdue), "For": overdue["type"].fillna("—").to_numpy(),
                              "Owner": overdue["owner"].map(lambda u: staff.get(u, u)).to_numpy(),
                              "Due": overdue["due_on"].to_numpy(), "Days overdue": overdue["days_overdue"].to_numpy()},
                             index=overdue.index)
        actions = {"Open": ("Open", open_row)}
        if writer:
            actions = {"Complete": ("Complete", ask("checkin", "id", "checkin_id")), **actions}
        table(overdue, shown, "cw_overdue", actions, overdue["overdue"], ("Due",))
        download(shown, "overdue_check_ins", "cw_overdue_dl", ("Due",))

# --- below 90% with no recent action -----------------------------------------------------------

elif show == "no_action":
    if no_action is None:
        lists.no_registers_yet(user)
    elif no_action.empty:
        st.success(f"Every pupil at or below 90% has had an action or contact in the last {no_action_days} days.")
    else:
        stale = no_action.sort_values(["attendance_pct", "surname"]).reset_index(drop=True)
        st.markdown(f"**{len(stale)} pupils at or below 90% with no action or contact in the last {no_action_days} "
                    f"days** · {uk(period.date_from)} to {uk(period.as_of)} · lowest attendance first")
        shown = pd.DataFrame({**pupil_columns(stale), "Year": stale["year_group"].to_numpy(),
                              "Attendance %": stale["attendance_pct"].round(1).to_numpy(),
                              "Last action": stale["last_action"].fillna("none yet").to_numpy(),
                              "On": stale["last_action_on"].to_numpy()}, index=stale.index)
        actions = {"Open": ("Open", open_row)}
        if writer:
            actions = {"Log action": ("Log action", ask("action", "pupil_id", "pupil_id")), **actions}
        table(stale, shown, "cw_no_action", actions, dates=("On",), formats={"Attendance %": "{:.1f}%"})
        download(shown, "no_recent_action", "cw_no_action_dl", ("On",))
    st.caption(f"The number of days is the “no action” setting ({no_action_days}); an action is an intervention "
               "opened or a contact with the family or an agency.")

# --- reviews due ----------------------------------------------------------------------------

elif show == "reviews":
    st.subheader("Attendance support plans due for review")
    if plan_reviews.empty:
        st.success(f"No support plan is due for review in the next {support_plans.REVIEW_SOON_DAYS} days.")
    else:
        weeks = support_plans.review_weeks(settings)
        st.markdown(f"**{len(plan_reviews)} support plans due for review** (overdue in red) · reviewed every "
                    f"{weeks} weeks (the setting “plan_review_weeks”)")
        shown = pd.DataFrame({**pupil_columns(plan_reviews), "Started": plan_reviews["started_on"].to_numpy(),
                              "Last review": plan_reviews["last_review_on"].to_numpy(),
                              "Next review": plan_reviews["next_review_on"].to_numpy(),
                              "Early Help": plan_reviews["early_help_label"].to_numpy(),
                              "Kept by": plan_reviews["owner"].map(lambda u: staff.get(u, u)).to_numpy()},
                             index=plan_reviews.index)
        actions = {"Open": ("Open", open_row)}
        if writer:
            actions = {"Review": ("Review", ask("plan_review", "pupil_id", "pupil_id")), **actions}
        table(plan_reviews, shown, "cw_plan_reviews", actions, plan_reviews["review_overdue"],
              ("Started", "Last review", "Next review"))
        download(shown, "support_plan_reviews_due", "cw_plan_reviews_dl", ("Started", "Last review", "Next review"))
    st.subheader("Reduced timetables due for review")
    if reviews.empty:
        st.success(f"No reduced timetable is due for review in the next {cases.REVIEW_SOON_DAYS} days.")
    else:
        st.markdown(f"**{len(reviews)} reduced timetables due for review** (overdue in red) · "
                    f"normally reviewed within {cases.REDUCED_TIMETABLE_REVIEW_WEEKS} weeks")
        shown = pd.DataFrame({**pupil_columns(reviews), "Action": reviews["type"].to_numpy(),
                              "Started": reviews["opened_on"].to_numpy(), "Review on": reviews["review_on"].to_numpy(),
                              "Owner": reviews["owner"].map(lambda u: staff.get(u, u)).to_numpy()}, index=reviews.index)
        actions = {"Open": ("Open", open_row)}
        if writer:
            actions = {"Edit": ("Edit", ask("edit", "id", "intervention_id")),
                       "Close": ("Close", ask("close", "id", "intervention_id")), **actions}
        table(reviews, shown, "cw_reviews", actions, reviews["review_overdue"], ("Started", "Review on"))
        download(shown, "reviews_due", "cw_reviews_dl", ("Started", "Review on"))

# --- penalty notices ------------------------------------------------------------------------

elif show == "penalties":
    st.caption(framework.describe())
    if notices.empty:
        st.info("No penalty notices recorded this academic year.")
    else:
        st.markdown(f"**{int(notices['notices_this_year'].sum())} penalty notices this academic year, "
                    f"for {len(notices)} pupils** · newest first")
        paid = intervention_types.DETAIL_FIELDS["paid"]
        shown = pd.DataFrame({**pupil_columns(notices), "This year": notices["notices_this_year"].to_numpy(),
                              "Last issued": notices["last_issued"].to_numpy(),
                              "Parent": notices["parent"].to_numpy(),
                              f"In {framework.window_years} years": notices["notices_in_window"].to_numpy(),
                              "Next step": notices["next_step"].to_numpy(),
                              "Last paid": notices["last_paid"].map(paid.label_of).to_numpy(),
                              f"Unpaid after {framework.pay_within_days} days": notices["unpaid_past_due"].to_numpy()},
                             index=notices.index)
        table(notices, shown, "cw_penalties", {"Open": ("Open", open_row)}, notices["unpaid_past_due"] > 0,
              ("Last issued",), config={
                  "Next step": st.column_config.TextColumn("Next step", width="large"),
                  "Parent": st.column_config.TextColumn("Parent", help="The parent or carer the latest notice "
                                                        "went to; the count and the next step are theirs"),
                  "This year": st.column_config.NumberColumn("This year", width="small"),
                  f"In {framework.window_years} years": st.column_config.NumberColumn(
                      width="small", help=f"Notices to that parent for this child in the last "
                                          f"{framework.window_years} years")})
        download(shown, "penalty_notices", "cw_penalties_dl", ("Last issued",))
        with st.expander("Each notice, with what is due"):
            each = notice_history[notice_history["pupil_id"].isin(notices["pupil_id"])].sort_values(
                "date_issued", ascending=False)
            terms = [(f"£{int(r)} by {uk(rb)}, then " if pd.notna(r) else "") + f"£{int(a)} by {uk(pb)}"
                     for r, rb, a, pb in zip(each["reduced_amount"], each["reduced_by"], each["amount"], each["pay_by"])]
            each_notice = pd.DataFrame({
                **pupil_columns(each), "Issued": each["date_issued"].map(uk).to_numpy(),
                "Parent": each["parent"].to_numpy(),
                f"Number in {framework.window_years} years": each["number_in_window"].to_numpy(), "To pay": terms,
                "Paid": each["paid"].map(paid.label_of).to_numpy(),
                "Note": [f"Beyond the framework: no {penalty_notices.ordinal(framework.most_in_window + 1)} notice to the "
                         f"same parent within {framework.window_years} years" if b else ""
                         for b in each["beyond_framework"]]})
            dataframe(formatting.shown(each_notice, masked), hide_index=True, width="stretch")
            download(each_notice, "penalty_notices_each", "cw_each_notice_dl")
    workflows.ledger_list(viewer, now, masked)

# --- impact -------------------------------------------------------------------------------

elif show == "impact":
    recent = int((~per_action["window_complete"].astype(bool)).sum()) if len(per_action) else 0
    st.markdown(f"Attendance in the **{school_days} school days before** each action started and the "
                f"**{school_days} school days from** it, by kind of action.")
    if by_type.empty:
        st.info("No action has a full window after it yet" + (f" ({recent} still forming)." if recent else "."))
    else:
        shown = pd.DataFrame({
            "Tier": by_type["tier"].to_numpy(), "Action": by_type["type"].to_numpy(),
            "Pupils": by_type["pupils"].to_numpy(), "Actions": by_type["actions"].to_numpy(),
            "Mean change (pts)": by_type["mean_change_pts"].round(1).to_numpy(),
            "Improved": [f"{i} of {a}" for i, a in zip(by_type["improved"], by_type["actions"])],
            "Group": by_type["indicative_only"].map({True: "small — indicative only", False: ""}).to_numpy(),
        })
        dataframe(shown.style.format({"Mean change (pts)": "{:+.1f}"}), hide_index=True, width="stretch",
                  column_config={"Tier": st.column_config.NumberColumn("Tier", width=50)})
        download(shown, "impact_by_type", "cw_impact_dl")
        st.caption(f"Groups of fewer than {impact.SMALL_GROUP} pupils are indicative only: attendance moves for many "
                   "reasons, and a few pupils can swing a mean. Each pupil is compared with themselves."
                   + (f" {recent} actions are too recent to measure (fewer than {school_days} school days since)."
                      if recent else ""))
        with st.expander("Each action"):
            named = per_action.merge(reads.pupils(path, version, reads.school_scope(user))[["id", "surname", "forename", "form"]],
                                     left_on="pupil_id", right_on="id", suffixes=("", "_pupil"))
            dataframe(pd.DataFrame({
                **pupil_columns(named), "Action": named["type"], "Started": named["opened_on"].map(uk),
                "Before": named["before_pct"].map(pct), "After": named["after_pct"].map(pct),
                "Change (pts)": named["change_pts"].round(1), "School days since": named["after_days"],
            }), hide_index=True, width="stretch")

case_forms.draw(user)
if st.session_state.get(OPEN_KEY) is not None:
    lists.open_pupil(st.session_state.pop(OPEN_KEY))
