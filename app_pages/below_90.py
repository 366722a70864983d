"""Below 90% — who needs us? The persistent-absence list first, filters above it.

One row per pupil at or below 90% (absence ≥ 10% of their possible sessions, DOMAIN.md
§3), sorted by attendance, with why (top reason, worst day, absence split), the change
since the previous upload, triggers reached, the last action and the next check-in (red
when overdue), and a "Log action" button for those who record case work. The same table
lists severe absence, pupils newly below 90%, pupils who reached a trigger, and pupils
with missing marks. Below it, the early warning: pupils above 90% and at most 93% whose
attendance is falling or whose absence comes in short spells, with the sessions each can
still miss this year (from the school calendar). A head of section sees only their
sections' pupils.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, case_forms, lists, sidebar
from app_pages.ui.formatting import counts_periods, dataframe, flags, names, today, uk, year_label, year_order
from core import cases, characteristics, early_warning, pupil_list, reads, selections, thresholds, triggers
from core import groups as pupil_groups

FILTER_KEYS = ("f_section", "f_year", "f_form", "f_groups", "f_gender", "f_ethnicity", "f_search")
PA, SA = thresholds.PERSISTENT.attendance_label, thresholds.SEVERE.attendance_label
NO_ACTION = "no action yet"


def clear_filters() -> None:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)


def for_display(table: pd.DataFrame, masked: bool) -> pd.DataFrame:
    """The pupil list (core/pupil_list.py) under the headings the screen shows."""
    last_action = (table["last_action"].astype("string")
                   .str.cat(table["last_action_on"].map(uk).astype("string"), sep=", ").fillna(NO_ACTION))
    return pd.DataFrame({
        "pupil_id": table["pupil_id"].to_numpy(),
        "Open": "Open",
        "Log action": "Log action",
        "New": table["newly_persistent"].map({True: "● new", False: ""}).to_numpy(),
        "Pupil": names(table, masked).to_numpy(),
        "Form": table["form"].to_numpy(),
        "Year": table["year_group"].to_numpy(),
        "Attendance %": table["attendance_pct"].round(1).to_numpy(),
        "Last 12 weeks": table["weekly_pcts"].to_numpy(),
        "Change (pts)": table["attendance_change_pts"].round(1).to_numpy(),
        "Authorised": table["authorised_sessions"].to_numpy(),
        "Unauthorised": table["unauthorised_sessions"].to_numpy(),
        "Top reason": table["top_reason_label"].to_numpy(),
        "Worst day": table["worst_weekday"].to_numpy(),
        "Triggers": [[triggers.BY_ID[t].badge for t in reached] for reached in table["triggers"]],
        "Last action": last_action.to_numpy(),
        "Next check-in": table["next_check_in"].to_numpy(),
        "Check-in overdue": table["check_in_overdue"].to_numpy(),
        "Groups": flags(table).to_numpy(),
        "Missing marks": table["missing_marks"].to_numpy(),
        "From counts": table["counts_periods"].map(counts_periods).to_numpy(),
        "UPN": table["upn"].to_numpy(),
        "Section": table["section"].to_numpy(),
        f"Newly below {PA}": table["newly_persistent"].to_numpy(),
    })


def draw_early_warning(figures: pd.DataFrame) -> None:
    """Pupils above 90% to watch (falling, or absence in many short spells), with the sessions
    each can still miss this year and the attendance the rest of the year needs
    (core/early_warning.py); the sessions need a school calendar reaching the year's end."""
    st.subheader("Early warning — above 90% and at most 93%")
    watch = reads.watch_list(path, version, period.date_from, period.as_of, ids)
    spare = reads.spare_sessions(path, version, period.as_of, reads.school_scope(user)).set_index("pupil_id")
    known = spare["sessions_to_spare"].notna().any()
    if not known:
        st.caption("Sessions to spare need the school calendar to reach the end of the year — an admin can set it in "
                   "Admin → School calendar.")
    if watch.empty:
        st.caption(f"No pupil between {PA} and {early_warning.WATCH_UP_TO_PCT:g}% has falling attendance or "
                   f"{early_warning.MANY_SPELLS} or more short spells of absence.")
        return
    about = figures.set_index("pupil_id").reindex(watch["pupil_id"])
    table = pd.DataFrame({
        "Pupil": names(about.reset_index(), sidebar.meeting_mode()).to_numpy(),
        "Form": about["form"].fillna("").to_numpy(),
        "Attendance %": watch["attendance_pct"].round(1).to_numpy(),
        "Sessions to spare": watch["pupil_id"].map(spare["sessions_to_spare"]).astype("Int64").to_numpy(),
        "Attendance needed %": watch["pupil_id"].map(spare["attendance_needed_pct"]).astype("Float64").round(1).to_numpy(),
        "Why": watch["why"].to_numpy(),
    })
    if not known:  # without a calendar reaching the year's end there is nothing to show in them (said above)
        table = table.drop(columns=["Sessions to spare", "Attendance needed %"])
    dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 400),
              column_config={
                  "Attendance %": st.column_config.NumberColumn("Attendance", format="%.1f%%"),
                  "Sessions to spare": st.column_config.NumberColumn(
                      help="Sessions the pupil can still miss this year and end it above 90% (from the school "
                           "calendar; blank when it does not reach the end of the year)"),
                  "Attendance needed %": st.column_config.NumberColumn(
                      "Attendance needed", format="%.1f%%",
                      help="Attendance over the rest of the year that ends it above 90%"),
              })
    st.caption(f"Falling: the last {early_warning.RECENT_WEEKS} school weeks below the attendance before them. "
               f"Short spells: absences of {early_warning.SHORT_SPELL_DAYS} school days or fewer.")


user = access.require("below_90")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()

st.title("Below 90%")
lists.require_registers(user, period)

ids = reads.scoped_pupil_ids(user, path, version)
figures = lists.scoped_figures(user, path, version, period.date_from, period.as_of)
lists.require_possible_sessions(user, period, figures)
figures = figures[figures["possible_sessions"] > 0]
previous = reads.previous_as_at(path, version)
compare_with = previous if previous and previous < period.as_of else None
change = reads.change_since(path, version, period.date_from, period.as_of, compare_with, ids)
patterns = reads.pupil_patterns(path, version, period.date_from, period.as_of, ids)
weekly = reads.pupil_weekly(path, version, period.date_from, period.as_of, ids, 12)
reached = lists.triggers_shown(path, version, period.as_of, user)
reached = reached[reached["pupil_id"].isin(figures["pupil_id"])]

latest = reads.latest_actions(path, reads.case_version(path), today())
writer = case_forms.may_write(user)

everyone = pupil_list.joined(figures, change, reached, patterns, lists.sparklines(weekly), latest)

# --- filters -----------------------------------------------------------------------

show_column, download_column = st.columns([4, 1.3], vertical_alignment="bottom")
st.session_state.setdefault("f_only", "pa")  # the Overview's links set it too
show = show_column.segmented_control("Show", list(selections.BELOW_90), format_func=lambda s: selections.BY_ID[s].label,
                                     key="f_only", required=True, label_visibility="collapsed")
section_column, year_column, form_column, group_column, ethnicity_column, gender_column, search_column = st.columns(
    [2.6, 2.6, 2.4, 3, 2.6, 1.8, 2.6])
sections = sorted(s for s in everyone["section"].unique() if s)
chosen_sections = section_column.multiselect("Section", sections, key="f_section", placeholder="All sections")
in_sections = everyone[everyone["section"].isin(chosen_sections)] if chosen_sections else everyone
years = sorted(in_sections["year_group"].unique(), key=year_order)
chosen_years = year_column.multiselect("Year", years, key="f_year", format_func=year_label, placeholder="All years")
in_years = in_sections[in_sections["year_group"].isin(chosen_years)] if chosen_years else in_sections
forms = sorted(f for f in in_years["form"].unique() if f)
chosen_forms = form_column.multiselect("Form", forms, key="f_form", placeholder="All forms")
groups = pupil_groups.pupil_groups(figures["flags"])
chosen_groups = group_column.multiselect("Groups", list(groups), key="f_groups", placeholder="Any group",
                                         help="Pupils in every group chosen.")
ethnic_groups = [g for g in characteristics.ETHNIC_GROUPS if g in set(figures["ethnic_group"])]
chosen_ethnicities = ethnicity_column.multiselect("Ethnicity", ethnic_groups, key="f_ethnicity",
                                                  placeholder="Any", help="Pupils in any ethnic group chosen.")
genders = sorted(g for g in everyone["gender"].unique() if g)
chosen_genders = gender_column.multiselect("Gender", genders, key="f_gender", placeholder="Any")
search = search_column.text_input("Name or UPN", key="f_search", placeholder="Search")

shown = in_years
if chosen_forms:
    shown = shown[shown["form"].isin(chosen_forms)]
shown = pupil_groups.in_every_group(shown, chosen_groups, groups)
if chosen_ethnicities:
    shown = shown[shown["ethnic_group"].isin(chosen_ethnicities)]
if chosen_genders:
    shown = shown[shown["gender"].isin(chosen_genders)]
if search.strip():
    needle = search.strip().lower()
    shown = shown[(shown["surname"].str.lower().str.contains(needle, regex=False))
                  | (shown["forename"].str.lower().str.contains(needle, regex=False))
                  | (shown["upn"].str.lower() == needle)]
filtered_pupils = len(shown)
shown = for_display(selections.selected(shown, show), sidebar.meeting_mode()).sort_values(
    ["Attendance %", "Pupil"], ignore_index=True)

# --- the list ------------------------------------------------------------------------

headline = {
    "pa": f"{len(shown)} of {filtered_pupils} pupils at or below {PA} attendance",
    "sa": f"{len(shown)} of {filtered_pupils} pupils at or below {SA} attendance",
    "new": f"{len(shown)} pupils newly at or below {PA} since the upload of {uk(compare_with)}" if compare_with
    else f"No earlier upload to compare with yet — “newly below {PA}” needs two weeks of uploads.",
    "triggers": f"{len(shown)} pupils reached a statutory trigger this academic year",
    "missing": f"{len(shown)} pupils with sessions still missing a mark",
}[show]
st.markdown(f"**{headline}** · {uk(period.date_from)} to {uk(period.as_of)}")

if shown.empty:
    any_filter = any(st.session_state.get(k) for k in FILTER_KEYS)
    if any_filter:
        st.info("No pupils match these filters.")
        st.button("Clear filters", on_click=clear_filters, icon=":material/filter_alt_off:")
    elif show == "pa":
        st.success(f"No pupil is at or below {PA} attendance in this period.")
    else:
        st.info("No pupils to list here.")
    draw_early_warning(figures)
    st.stop()

export_columns = ["UPN", "Pupil", "Form", "Year", "Section", "Attendance %", "Change (pts)", "Authorised",
                  "Unauthorised", "Top reason", "Worst day", "Triggers", "Last action", "Next check-in", "Groups",
                  "Check-in overdue", "Missing marks", "From counts", f"Newly below {PA}"]
if not (shown["From counts"] != "").any():  # the column is shown only when someone's figures rest on counts
    export_columns.remove("From counts")
export = shown[export_columns].assign(Triggers=shown["Triggers"].map("; ".join),
                                      **{"Next check-in": shown["Next check-in"].map(uk)})
with download_column:
    lists.download_buttons(export, "below_90" if show == "pa" else show, period.as_of, "below_90")


def open_clicked() -> None:
    click = st.session_state.get("below_90_open")
    if click is not None:
        st.session_state["below_90_open_pupil"] = int(shown.iloc[click["row"]]["pupil_id"])


def log_clicked() -> None:
    lists.row_clicked("below_90_log", shown, lambda row: case_forms.request("action", pupil_id=row["pupil_id"]))


NEW_ROW_COLOUR = "background-color: #fff3cd"  # pupils newly below 90% since the previous upload
hidden = ["pupil_id", "UPN", "Section", f"Newly below {PA}", "Check-in overdue"]
table = shown.drop(columns=hidden + ([] if writer else ["Log action"]))
overdue = shown["Check-in overdue"].to_numpy()
highlighted = table.style.apply(
    lambda row: [NEW_ROW_COLOUR if row["New"] else ""] * len(row), axis=1
).apply(
    lambda column: [lists.OVERDUE_STYLE if late else "" for late in overdue], subset=["Next check-in"]
).format({"Attendance %": "{:.1f}%", "Change (pts)": "{:+.1f}", "Next check-in": uk}, na_rep="")
# What a head of section reads first — who, how low, and why (reason, day, triggers) — fits
# at 1366 px without scrolling sideways; the counts and the rest follow.
FIRST_READ = ["Open", "Log action", "Pupil", "New", "Form", "Attendance %", "Top reason", "Worst day", "Triggers",
              "From counts", "Change (pts)", "Last 12 weeks", "Last action", "Next check-in", "Authorised", "Unauthorised",
              "Year", "Groups", "Missing marks"]
# Pupils whose figures rest partly on summary counts (core/summary_counts.py) are marked with
# the counts' dates after the triggers; the column is there only when someone has them.
on_counts = int((shown["From counts"] != "").sum())
if on_counts:
    st.caption(f"{on_counts} of these pupils' figures rest partly on summary counts (the dates under “From counts”, "
               "for which the store has no marks). Top reason, worst day and the last 12 weeks come from marks "
               "only — patterns are not available for those dates.")
else:
    FIRST_READ.remove("From counts")
dataframe(
    highlighted,
    hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 620),
    column_order=[column for column in FIRST_READ if column in table.columns],
    column_config={
        "Open": st.column_config.ButtonColumn("", type="tertiary", on_click=open_clicked, key="below_90_open",
                                           width=60, pinned=True),
        "Log action": st.column_config.ButtonColumn("", type="tertiary", on_click=log_clicked, key="below_90_log",
                                                 width=90, pinned=True),
        "New": st.column_config.TextColumn("New", width=55, help=f"Newly at or below {PA} since the previous upload"),
        "Pupil": st.column_config.TextColumn("Pupil", width=160, pinned=True),
        "Form": st.column_config.TextColumn("Form", width=50),
        "Year": st.column_config.TextColumn("Year", width=50),
        "Attendance %": st.column_config.NumberColumn("Attendance", format="%.1f%%", width=90),
        "Last 12 weeks": st.column_config.LineChartColumn("Last 12 weeks", y_min=0, y_max=100, width=120),
        "Change (pts)": st.column_config.NumberColumn("Change", format="%+.1f", width=70,
                                                   help="Points of attendance since the previous upload"),
        "Authorised": st.column_config.NumberColumn("Auth.", width=60, help="Authorised absence sessions"),
        "Unauthorised": st.column_config.NumberColumn("Unauth.", width=65, help="Unauthorised absence sessions"),
        "Top reason": st.column_config.TextColumn("Top reason", width=150),
        "Worst day": st.column_config.TextColumn("Worst day", width=85),
        "Triggers": st.column_config.ListColumn("Triggers", width=170),
        "Last action": st.column_config.TextColumn("Last action", width="medium",
                                                help="The latest action or contact, and its date"),
        "Next check-in": st.column_config.Column("Next check-in", width=100,
                                              help="The next check-in booked; red when it is overdue"),
        "Groups": st.column_config.TextColumn("Groups", width=110),
        "Missing marks": st.column_config.NumberColumn("Missing", width=65, help="Sessions with no mark yet"),
        "From counts": st.column_config.TextColumn(
            "From counts", width=160, help="Dates whose sessions come from summary counts, not marks: no patterns there"),
    },
)
st.caption("Sorted by attendance, lowest first; click a column heading to sort by it. "
           "“Open” shows the pupil" + ("; “Log action” records what is being done, with a check-in in "
                                       f"{cases.DEFAULT_CHECK_IN_DAYS} days." if writer else "."))
draw_early_warning(figures)
case_forms.draw(user)

if st.session_state.get("below_90_open_pupil"):
    lists.open_pupil(st.session_state.pop("below_90_open_pupil"))
