"""Patterns — why? Absence by weekday and session, reasons, the weekly trend with the 90%
line, and groups compared, for the school, a section, a year or a form. Every chart has
its table beneath it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, sidebar
from app_pages.ui.formatting import chart, dataframe, md, pupil_name, uk, year_label, year_order
from core import charts, codes, metrics, reads
from core import groups as pupil_groups

SCOPES = {"school": "Whole school", "section": "Section", "year": "Year", "form": "Form"}
def lateness_chart(by_weekday: pd.DataFrame) -> alt.Chart:
    kinds = {"late_before_close": "Before registers closed (L)",
             "late_after_close": "After registers closed (U) — unauthorised absence"}
    long = by_weekday.assign(slot=by_weekday["weekday_name"].str[:3] + " " + by_weekday["session"]).melt(
        id_vars=["weekday", "slot"], value_vars=list(kinds), var_name="kind", value_name="lates")
    long = long.assign(kind=long["kind"].map(kinds))
    order = list(by_weekday.sort_values(["weekday", "session"]).assign(
        slot=lambda f: f["weekday_name"].str[:3] + " " + f["session"])["slot"])
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("slot:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("lates:Q", title="Late arrivals"),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=list(kinds.values()),
                                                              range=["#f0ad4e", "#c0392b"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("slot:N", title="Session"), alt.Tooltip("kind:N", title="Late"),
                 alt.Tooltip("lates:Q", title="Late arrivals")],
    ).properties(height=240)


def show_data(frame: pd.DataFrame, rename: dict[str, str]) -> None:
    with st.expander("Show data"):
        dataframe(frame.rename(columns=rename).round(1), hide_index=True, width="stretch")


def heatmap(weekdays: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(weekdays).encode(
        x=alt.X("session:O", title=None, axis=alt.Axis(labelAngle=0, orient="top", labelFontSize=13)),
        y=alt.Y("weekday_name:O", title=None, sort=list(weekdays.sort_values("weekday")["weekday_name"].unique()),
                axis=alt.Axis(labelFontSize=13)),
    )
    rect = base.mark_rect().encode(
        color=alt.Color("absence_pct:Q", title="Absence %", scale=alt.Scale(scheme="orangered")),
        tooltip=[alt.Tooltip("weekday_name:N", title="Day"), alt.Tooltip("session:N", title="Session"),
                 alt.Tooltip("absence_pct:Q", title="Absence %", format=".1f"),
                 alt.Tooltip("absence_sessions:Q", title="Absence sessions"),
                 alt.Tooltip("possible_sessions:Q", title="Possible sessions")],
    )
    middle = float(weekdays["absence_pct"].min() + weekdays["absence_pct"].max()) / 2
    text = base.mark_text(fontSize=15, fontWeight="bold").encode(
        text=alt.Text("absence_pct:Q", format=".1f"),
        color=alt.ColorValue(**alt.condition(alt.datum.absence_pct > middle, alt.value("white"), alt.value("#222222"))),
    )
    return (rect + text).properties(height=260)


def groups_chart(groups: pd.DataFrame) -> alt.Chart:
    return alt.Chart(groups).mark_bar(clip=True).encode(
        x=alt.X("attendance_pct:Q", title="Attendance %", scale=alt.Scale(zero=False, domain=[
            max(0.0, float(groups["attendance_pct"].min()) - 5), 100])),
        y=alt.Y("group:N", title=None, sort=list(groups["group"]), axis=alt.Axis(labelFontSize=12)),
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("pupils:Q", title="Pupils"),
                 alt.Tooltip("attendance_pct:Q", title="Attendance %", format=".1f"),
                 alt.Tooltip("persistent_absence_pct:Q", title="Persistent absence %", format=".1f")],
    ).properties(height=alt.Step(34))


user = access.require("patterns")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()

st.title("Patterns")
lists.require_registers(user, period)

figures = lists.scoped_figures(user, path, version, period.date_from, period.as_of)
figures = figures[figures["possible_sessions"] > 0]

# --- scope -------------------------------------------------------------------------

kind_column, value_column, _ = st.columns([3, 2, 2], vertical_alignment="bottom")
st.session_state.setdefault("p_scope_kind", "school")
kind = kind_column.segmented_control("Scope", list(SCOPES), key="p_scope_kind", required=True,
                                     format_func=lambda k: "My sections" if k == "school" and not user.sees_all_pupils
                                     else SCOPES[k])
column = {"section": "section", "year": "year_group", "form": "form"}.get(kind)
if column:
    values = sorted((v for v in figures[column].unique() if v), key=year_order if column == "year_group" else str)
    if not values:
        st.info("No pupils to compare yet.")
        st.stop()
    if st.session_state.get("p_scope_value") not in values:
        st.session_state["p_scope_value"] = values[0]
    chosen = value_column.selectbox(SCOPES[kind], values, key="p_scope_value",
                                    format_func=year_label if column == "year_group" else str)
    in_scope = figures[figures[column] == chosen]
    scope_name = year_label(chosen) if column == "year_group" else f"{SCOPES[kind]} {chosen}" if kind == "form" else chosen
    ids = tuple(int(i) for i in in_scope["pupil_id"])
else:
    in_scope = figures
    scope_name = "Whole school" if user.sees_all_pupils else user.scope_label()
    ids = reads.scoped_pupil_ids(user, path, version)

if in_scope.empty:
    st.info("No pupils with possible sessions in this scope and period.")
    st.stop()
group = metrics.group_figures(in_scope)
st.caption(f"{md(scope_name)} · {group['pupils']:,} pupils · {uk(period.date_from)} to {uk(period.as_of)} · "
           f"absence {group['overall_absence_pct']:.1f}%, persistent absence {group['persistent_absence_pct']:.1f}%")
on_counts = in_scope[in_scope["counted_sessions"] > 0]
if not on_counts.empty:  # their figures take some dates from summary counts, which have no days or codes
    st.caption(f":material/functions: {len(on_counts):,} of these pupils' figures rest partly on summary counts "
               f"({int(on_counts['counted_sessions'].sum()):,} possible sessions, dates with no marks). The figures "
               "above include them; the charts below come from marks only — patterns are not available for those "
               "dates.")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Absence by day and session")
    weekdays = reads.weekday_absence(path, version, period.date_from, period.as_of, ids)
    if weekdays.empty:
        st.caption("No possible sessions yet.")
    else:
        chart(heatmap, weekdays)
        show_data(weekdays[["weekday_name", "session", "possible_sessions", "absence_sessions",
                            "unauthorised_sessions", "absence_pct"]],
                  {"weekday_name": "Day", "session": "Session", "possible_sessions": "Possible sessions",
                   "absence_sessions": "Absence sessions", "unauthorised_sessions": "Unauthorised sessions",
                   "absence_pct": "Absence %"})
with right:
    st.subheader("Reasons for absence")
    reasons = reads.reasons(path, version, period.date_from, period.as_of, ids)
    if reasons.empty:
        st.caption("No absence in this scope and period.")
    else:
        chart(charts.absence_reasons, reasons, font_size=12, row_height=26, legend=False)
        st.caption("Amber: authorised absence · Red: unauthorised absence")
        show_data(reasons.assign(category=reasons["category"].map(codes.CATEGORY_LABELS))[
            ["reason", "category", "sessions", "share_pct"]],
            {"reason": "Reason", "category": "Counts as", "sessions": "Sessions", "share_pct": "Share of absence %"})

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Weekly attendance")
    trend = reads.weekly_trend(path, version, period.date_from, period.as_of, ids)
    trend = trend[trend["possible_sessions"] > 0]
    if trend.empty:
        st.caption("No school weeks yet.")
    else:
        chart(charts.attendance_trend, trend, height=260, label=True)
        show_data(trend.assign(week_start=trend["week_start"].map(uk)),
                  {"week_start": "Week beginning", "possible_sessions": "Possible sessions",
                   "attendance_sessions": "Attendance sessions", "absence_sessions": "Absence sessions",
                   "attendance_pct": "Attendance %", "cumulative_attendance_pct": "Year to date %"})
with right:
    st.subheader("Groups compared")
    comparisons = pupil_groups.compared(in_scope)
    options = [k for k in comparisons if not (k == column) and not (k == "section" and kind in ("year", "form"))]
    grouping = st.selectbox("Compare by", options, key="p_grouping", format_func=lambda k: comparisons[k].label,
                            label_visibility="collapsed")
    compared = metrics.by_group(in_scope, grouping)
    labels = comparisons[grouping].values
    names = compared[grouping].map(lambda v: (labels or {}).get(v, year_label(v) if grouping == "year_group" else v or "(none)"))
    groups = pd.DataFrame({
        "group": names, "pupils": compared["pupils"], "attendance_pct": 100 - compared["overall_absence_pct"],
        "persistent_absence_pct": compared["persistent_absence_pct"],
        "unauthorised_absence_pct": compared["unauthorised_absence_pct"],
    })
    if grouping == "year_group":
        groups = groups.iloc[sorted(range(len(groups)), key=lambda i: year_order(compared[grouping].iloc[i]))]
    if len(groups) < 2:
        st.caption("Everyone in this scope is in the same group.")
    else:
        chart(groups_chart, groups)
        best, worst = groups.loc[groups["attendance_pct"].idxmax()], groups.loc[groups["attendance_pct"].idxmin()]
        st.markdown(f"Gap: **{best['attendance_pct'] - worst['attendance_pct']:.1f} points** between "
                    f"{md(best['group'])} ({best['attendance_pct']:.1f}%) and {md(worst['group'])} "
                    f"({worst['attendance_pct']:.1f}%).")
    show_data(groups, {"group": "Group", "pupils": "Pupils", "attendance_pct": "Attendance %",
                       "persistent_absence_pct": "Persistent absence %", "unauthorised_absence_pct": "Unauthorised %"})

st.subheader("Lateness")
late_pupils = reads.lateness_by_pupil(path, version, period.date_from, period.as_of, ids)
if late_pupils.empty:
    st.caption("No late arrivals in this scope and period.")
else:
    before, after = int(late_pupils["late_before_close"].sum()), int(late_pupils["late_after_close"].sum())
    st.caption(f"{before + after:,} late arrivals by {len(late_pupils):,} pupils: {before:,} before registers closed "
               f"(L, present) and {after:,} after (U — counted as unauthorised absence) · "
               f"{int(late_pupils['minutes_late'].sum()):,} minutes late in all")
    left, right = st.columns(2, gap="large")
    with left:
        by_weekday = reads.lateness_by_weekday(path, version, period.date_from, period.as_of, ids)
        chart(lateness_chart, by_weekday)
        show_data(by_weekday[["weekday_name", "session", "late_before_close", "late_after_close", "minutes_late"]],
                  {"weekday_name": "Day", "session": "Session", "late_before_close": "Late before close (L)",
                   "late_after_close": "Late after close (U)", "minutes_late": "Minutes late"})
    with right:
        threshold = reads.settings(path, version)["persistent_late_arrivals"]
        persistent = reads.persistent_late(path, version, period.date_from, period.as_of, ids)
        st.markdown(f"**Persistently late** — {threshold} or more late arrivals in a half term: "
                    f"**{persistent['pupil_id'].nunique():,}** pupils")
        names = figures.set_index("pupil_id")
        masked = sidebar.meeting_mode()
        shown = persistent[persistent["pupil_id"].isin(names.index)]
        whose = names.reindex(shown["pupil_id"])
        dataframe(pd.DataFrame({
            "Pupil": [pupil_name(s, f, masked) for s, f in zip(whose["surname"], whose["forename"])],
            "Form": whose["form"].to_numpy(),
            "Half term from": shown["half_term_from"].map(uk),
            "Lates": shown["late_arrivals"],
            "After close (U)": shown["late_after_close"],
            "Minutes": shown["minutes_late"],
        }), hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 280), column_config={
            "Form": st.column_config.TextColumn(width=50), "Lates": st.column_config.NumberColumn(width=50),
            "After close (U)": st.column_config.NumberColumn(width=95, help="Late after registers closed: "
                                                                           "unauthorised absence"),
            "Minutes": st.column_config.NumberColumn(width=65)})
        with st.expander("Late arrivals by pupil"):
            named = late_pupils[late_pupils["pupil_id"].isin(names.index)]
            whose = names.reindex(named["pupil_id"])
            dataframe(pd.DataFrame({
                "Pupil": [pupil_name(s, f, masked) for s, f in zip(whose["surname"], whose["forename"])],
                "Form": whose["form"].to_numpy(),
                "Before close (L)": named["late_before_close"],
                "After close (U)": named["late_after_close"],
                "Minutes late": named["minutes_late"],
                "Average minutes": named["mean_minutes_late"].round(1),
                "Most lates on": named["most_lates_on"],
            }), hide_index=True, width="stretch", height=min(38 + 35 * len(named), 320))
