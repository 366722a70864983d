"""Overview — how are we doing? Headline tiles against the national figures, this week's
changes, the weekly trend, and the figures by section and year group."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from app_pages.ui import access, case_forms, lists, sidebar
from app_pages.ui.formatting import chart, counts_periods, dataframe, md, pct, today, uk, year_label, year_order
from core import benchmarks, calendar, cases, charts, data_quality, menu, metrics, reads, schools, store


def attendance_pct(group: dict) -> float | None:
    absence = group["overall_absence_pct"]
    return None if absence is None else 100 - absence


def points(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    change = round(now - before, 1)
    return "no change" if change == 0 else f"{change:+.1f} pts"


def go_to_list(show: str) -> None:
    st.session_state["f_only"] = show
    st.session_state["overview_go"] = True


def go_to_overdue_check_ins() -> None:
    st.session_state["cw_show"] = "overdue"
    st.session_state["overview_go_casework"] = True


def group_table(figures: pd.DataFrame, grouping: str) -> pd.DataFrame:
    groups = metrics.by_group(figures[figures["possible_sessions"] > 0], grouping)
    if groups.empty:
        return groups
    label = groups[grouping].map(year_label) if grouping == "year_group" else groups[grouping].replace("", "(none)")
    table = pd.DataFrame({
        "Group": label,
        "Pupils": groups["pupils"],
        "Attendance %": 100 - groups["overall_absence_pct"],
        "Unauth. %": groups["unauthorised_absence_pct"],
        "PA pupils": groups["persistent_absentees"],
        "PA %": groups["persistent_absence_pct"],
        "SA %": groups["severe_absence_pct"],
        "Missing": groups["missing_marks"],
    })
    on_counts = metrics.by_group(figures[(figures["possible_sessions"] > 0) & (figures["counted_sessions"] > 0)],
                                 grouping)
    if not on_counts.empty:  # pupils whose figures rest partly on summary counts
        table = table.assign(**{"On counts": groups[grouping].map(on_counts.set_index(grouping)["pupils"])
                                .fillna(0).astype(int).to_numpy()})
    if grouping == "year_group":
        table = table.iloc[sorted(range(len(groups)), key=lambda i: year_order(groups[grouping].iloc[i]))]
    return table.round(1).reset_index(drop=True)


user = access.require("overview")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
with store.opened(path) as db:  # one school's overview: its own targets (issue 18)
    settings = reads.settings(path, version, schools.school_of_scope(db, user.school_ids))

st.title("Overview")
lists.require_registers(user, period)
if st.session_state.pop("overview_go", False):
    st.switch_page(menu.BY_ID["below_90"].file)
if st.session_state.pop("overview_go_casework", False):
    st.switch_page(menu.BY_ID["casework"].file)

ids = reads.scoped_pupil_ids(user, path, version)
figures = lists.scoped_figures(user, path, version, period.date_from, period.as_of)
lists.require_possible_sessions(user, period, figures)
headline = metrics.summary(figures)
previous = reads.previous_as_at(path, version)
compare_with = previous if previous and previous < period.as_of else None
before = None
if compare_with:
    earlier = lists.scoped_figures(user, path, version, period.date_from, compare_with)
    before = metrics.summary(earlier)

# Nationally, headline figures count pupils of compulsory school age.
has_other_pupils = headline["all"]["pupils"] != headline["compulsory_school_age"]["pupils"]
key = "compulsory_school_age" if headline["compulsory_school_age"]["pupils"] else "all"
now_group, before_group = headline[key], (before[key] if before else None)
scope = "" if user.sees_all_pupils else f" — {md(user.scope_label())} only"
who = "pupils of compulsory school age" if key == "compulsory_school_age" else "all pupils"
st.caption(f"{uk(period.date_from)} to {uk(period.as_of)} · {now_group['pupils']:,} {who}{scope}"
           + (f" · change since the upload of {uk(compare_with)}" if compare_with else ""))
on_counts = figures[(figures["counted_sessions"] > 0) & (figures["possible_sessions"] > 0)]
if not on_counts.empty:
    periods = sorted({span for spans in on_counts["counts_periods"] for span in spans})
    more = f" and {len(periods) - 3} more date ranges" if len(periods) > 3 else ""
    whose = "1 pupil's figures rest" if len(on_counts) == 1 else f"{len(on_counts):,} pupils' figures rest"
    st.caption(f":material/functions: {whose} partly on summary counts, for "
               f"{counts_periods(periods[:3])}{more} (dates with no marks; Below 90% and each pupil's page say "
               "which pupils). The weekly chart and patterns come from marks only.")

# National figures (core/benchmarks.py): the one for this academic year, with its period, and
# beside a part-year figure the latest full-year one.
national_figures = reads.national_figures(path, version)
year = period.academic_year


def national_note(measure: str) -> None:
    shown, full_year = benchmarks.national_pair(national_figures, measure, year)
    sources = " · ".join(f.described() for f in (shown, full_year) if f)
    st.caption(benchmarks.pair_caption(shown, full_year),
               help=f"State-funded schools in England, pupils of compulsory school age: {sources}." if sources else None)


# The school's targets for the year, checked on the year to date (ON_TRACK_RULE).
year_start = calendar.academic_year_start(period.as_of)
target_checks = {}
targets = benchmarks.targets_for(settings, year)
if targets:
    year_to_date = headline if period.date_from == year_start else metrics.summary(
        lists.scoped_figures(user, path, version, year_start, period.as_of))
    ytd_group = year_to_date["compulsory_school_age"] if year_to_date["compulsory_school_age"]["pupils"] \
        else year_to_date["all"]
    target_checks = {c.measure: c for c in benchmarks.check_targets(targets, ytd_group)}
BADGES = {True: ":green-badge[:material/check: On track]", False: ":red-badge[:material/close: Off track]",
          None: ":gray-badge[No figures yet]"}


def target_note(measure: str) -> None:
    check = target_checks.get(measure)
    if check is None:
        if measure == "attendance_pct" and user.may("change_settings"):
            st.caption(f"No targets set for {calendar.academic_year_label(year)} — Admin → Benchmarks and targets")
        return
    bound = "≥" if measure == "attendance_pct" else "≤"
    so_far = "no possible sessions yet" if check.value is None else f"{check.value:.1f}%"
    st.markdown(f"{BADGES[check.on_track]} · target {bound} {check.target:.1f}%",
                help=f"{benchmarks.ON_TRACK_RULE}\n\nYear to date ({uk(year_start)} to {uk(period.as_of)}"
                     f"{scope}): {so_far}.")


tiles = [
    ("Attendance", attendance_pct(now_group), attendance_pct(before_group) if before_group else None, "normal",
     "attendance_pct"),
    ("Persistent absence (pupils)", now_group["persistent_absence_pct"],
     before_group["persistent_absence_pct"] if before_group else None, "inverse", "persistent_absence_pct"),
    ("Severe absence (pupils)", now_group["severe_absence_pct"],
     before_group["severe_absence_pct"] if before_group else None, "inverse", "severe_absence_pct"),
    ("Unauthorised absence", now_group["unauthorised_absence_pct"],
     before_group["unauthorised_absence_pct"] if before_group else None, "inverse", None),
]
for column, (label, value, earlier_value, colour, measure) in zip(st.columns(4), tiles):
    with column.container(border=True):
        delta = points(value, earlier_value)
        st.metric(label, pct(value), delta, delta_color="off" if delta == "no change" else colour,
                  delta_arrow="off" if delta == "no change" else "auto")
        if measure:
            national_note(measure)
            target_note(measure)
        else:
            st.caption("No national figure published")

change = reads.change_since(path, version, period.date_from, period.as_of, compare_with, ids)
reached = lists.triggers_shown(path, version, period.as_of, user)
reached = reached[reached["pupil_id"].isin(figures["pupil_id"])]
since = compare_with or period.as_of - timedelta(days=7)
recent_triggers = reached[pd.to_datetime(reached["reached_on"]) > pd.Timestamp(since)]
with store.opened(path) as db:
    overdue_check_ins = int(cases.checkins(db, case_forms.viewer_for(user), today())["overdue"].sum())
counts = [
    ("Newly below 90% this week", int(change["newly_persistent"].sum()) if compare_with else None, "new"),
    ("Triggers reached this week", len(recent_triggers), "triggers"),
    ("Check-ins overdue", overdue_check_ins, "overdue"),
    ("Missing marks (sessions)", int(figures["missing_marks"].sum()), "missing"),
]
for column, (label, value, show) in zip(st.columns(4), counts):
    with column.container(border=True):
        st.metric(label, "—" if value is None else f"{value:,}")
        if show == "overdue":
            st.button("See the list", key="overview_overdue", on_click=go_to_overdue_check_ins,
                      type="tertiary", icon=":material/arrow_forward:")
        elif show:
            st.button("See the list", key=f"overview_{show}", on_click=go_to_list, args=(show,),
                      type="tertiary", icon=":material/arrow_forward:")
        else:
            st.caption("Needs two uploads to compare")

# One compact row: the data-quality counts, linked to their lists, so the figures can be trusted.
quality = data_quality.counts(reads.data_quality(path, version, period.date_from, period.as_of, ids))
with st.container(border=True, key="overview_data_quality"):
    linked = menu.may_open(user.role, "data_quality")
    text_column, link_column = st.columns([6, 1.2] if linked else [1, 0.001], vertical_alignment="center")
    parts = [(f":red[**{n:,}**]" if n else f":gray[{n}]") + f" {data_quality.title(check, settings, short=True)}"
             for check, n in quality.items()]
    text_column.markdown("**Data quality** · " + " · ".join(parts))
    if linked:
        link_column.page_link(menu.BY_ID["data_quality"].file, label="See the lists", icon=":material/arrow_forward:")

trend_column, table_column = st.columns([3, 2], gap="large")
with trend_column:
    st.subheader("Weekly attendance")
    trend = reads.weekly_trend(path, version, period.date_from, period.as_of, ids)
    trend = trend[trend["possible_sessions"] > 0]
    if trend.empty:
        st.info("No school weeks in this period yet.")
    else:
        national_attendance = metrics.national(national_figures, "attendance_pct", year)
        chart(charts.attendance_trend, trend, height=300, year_to_date=True, label=True,
              national=national_attendance.value if national_attendance else None,
              national_label=national_attendance.label if national_attendance else "")
        with st.expander("Show data"):
            dataframe(trend.assign(week_start=trend["week_start"].map(uk)).rename(columns={
                "week_start": "Week beginning", "possible_sessions": "Possible sessions",
                "attendance_sessions": "Attendance sessions", "absence_sessions": "Absence sessions",
                "attendance_pct": "Attendance %", "cumulative_attendance_pct": "Year to date %"}).round(1),
                hide_index=True, width="stretch")

with table_column:
    st.subheader("By section and year")
    grouping = st.segmented_control("Group by", ["section", "year_group"], default="section", required=True,
                                    format_func={"section": "Section", "year_group": "Year group"}.get,
                                    key="overview_grouping", label_visibility="collapsed")
    dataframe(group_table(figures, grouping), hide_index=True, width="stretch",
              column_config={c: st.column_config.NumberColumn(c, format="%.1f%%")
                             for c in ("Attendance %", "Unauth. %", "PA %", "SA %")})

if has_other_pupils:
    st.subheader("All pupils and pupils of compulsory school age")
    st.caption("National figures count pupils aged 5 to 15 on the 31 August before the year began; "
               "nursery, reception and sixth-form pupils are in “All pupils” only.")
    rows = []
    for label, name in (("All pupils", "all"), ("Compulsory school age", "compulsory_school_age")):
        g = headline[name]
        rows.append({"": label, "Pupils": g["pupils"], "Attendance": pct(attendance_pct(g)),
                     "Authorised absence": pct(g["authorised_absence_pct"]),
                     "Unauthorised absence": pct(g["unauthorised_absence_pct"]),
                     "Persistent absence": f"{pct(g['persistent_absence_pct'])} ({g['persistent_absentees']} pupils)",
                     "Severe absence": f"{pct(g['severe_absence_pct'])} ({g['severe_absentees']} pupils)",
                     "Missing marks": g["missing_marks"]})
    dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
