"""Below 90% — who needs us? The persistent-absence list first, filters above it.

One row per pupil at or below 90% (absence ≥ 10% of their possible sessions, DOMAIN.md
§3), sorted by attendance, with why (top reason, worst day, absence split), the change
since the previous upload, triggers reached, and where case work will go. The same table
lists severe absence, pupils newly below 90%, pupils who reached a trigger, and pupils
with missing marks. A head of section sees only their sections' pupils.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import access, lists, queries, sidebar
from app_pages.formatting import flags, names, uk, year_label, year_order

SHOW = {
    "pa": "Below 90%",
    "sa": "Below 50%",
    "new": "Newly below 90%",
    "triggers": "Reached a trigger",
    "missing": "Missing marks",
}
GROUPS = {
    "PP": lambda f: f["pp"].astype(bool),
    "FSM": lambda f: f["fsm"].astype(bool),
    "SEN support": lambda f: f["sen"] == "K",
    "EHCP": lambda f: f["sen"] == "E",
    "CLA": lambda f: f["cla"].astype(bool),
    "EAL": lambda f: f["eal"].astype(bool),
}
FILTER_KEYS = ("f_section", "f_year", "f_form", "f_groups", "f_gender", "f_search")
NO_ACTION = "no action yet"


def clear_filters() -> None:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)


def pupil_list(figures, change, patterns, weekly, reached, masked: bool) -> pd.DataFrame:
    """One row per pupil: the figures joined with patterns, change, triggers and sparkline."""
    weekly_pcts = lists.sparklines(weekly)
    badges = (reached.assign(badge=reached["trigger"].map(lists.TRIGGER_BADGES))
              .sort_values("reached_on").groupby("pupil_id")["badge"].agg(list))
    table = (figures.merge(change, on="pupil_id", how="left")
             .merge(patterns[["pupil_id", "top_reason_label", "worst_weekday"]], on="pupil_id", how="left"))
    return pd.DataFrame({
        "pupil_id": table["pupil_id"].to_numpy(),
        "Open": "Open",
        "New": table["newly_persistent"].fillna(False).astype(bool).map({True: "● new", False: ""}).to_numpy(),
        "Pupil": names(table, masked).to_numpy(),
        "Form": table["form"].to_numpy(),
        "Year": table["year_group"].to_numpy(),
        "Attendance %": table["attendance_pct"].round(1).to_numpy(),
        "Last 12 weeks": table["pupil_id"].map(weekly_pcts).to_numpy(),
        "Change (pts)": table["attendance_change_pts"].round(1).to_numpy(),
        "Authorised": table["authorised_sessions"].to_numpy(),
        "Unauthorised": table["unauthorised_sessions"].to_numpy(),
        "Top reason": table["top_reason_label"].fillna("").to_numpy(),
        "Worst day": table["worst_weekday"].fillna("").to_numpy(),
        "Triggers": [b if isinstance(b, list) else [] for b in table["pupil_id"].map(badges)],
        "Last action": NO_ACTION,
        "Next check-in": "",
        "Groups": flags(table).to_numpy(),
        "Missing marks": table["missing_marks"].to_numpy(),
        "UPN": table["upn"].to_numpy(),
        "Section": table["section"].to_numpy(),
        "Persistent": table["persistently_absent"].to_numpy(),
        "Severe": table["severely_absent"].to_numpy(),
        "Newly below 90%": table["newly_persistent"].fillna(False).astype(bool).to_numpy(),
        "Gender": table["gender"].to_numpy(),
    })


user = access.require("below_90")
path, version = queries.db_path(), queries.version()
period = sidebar.chosen_period()

st.title("Below 90%")
if period is None:
    lists.no_registers_yet(user)
    st.stop()

ids = queries.scoped_pupil_ids(user, path, version)
figures = queries.scoped(queries.pupil_figures(path, version, period.date_from, period.as_of), user, path, version)
figures = figures[figures["possible_sessions"] > 0]
if figures.empty:
    st.info(f"No pupils{'' if user.sees_all_pupils else ' in ' + user.scope_label()} have possible sessions between "
            f"{uk(period.date_from)} and {uk(period.as_of)}.")
    st.stop()
previous = queries.previous_as_at(path, version)
compare_with = previous if previous and previous < period.as_of else None
change = queries.change_since(path, version, period.date_from, period.as_of, compare_with, ids)
patterns = queries.pupil_patterns(path, version, period.date_from, period.as_of, ids)
weekly = queries.pupil_weekly(path, version, period.date_from, period.as_of, ids, 12)
reached = queries.triggers_reached(path, version, period.as_of)
reached = reached[reached["pupil_id"].isin(figures["pupil_id"])]

everyone = pupil_list(figures, change, patterns, weekly, reached, sidebar.meeting_mode())

# --- filters -----------------------------------------------------------------------

show_column, download_column = st.columns([4, 1.3], vertical_alignment="bottom")
st.session_state.setdefault("f_only", "pa")  # the Overview's links set it too
show = show_column.segmented_control("Show", list(SHOW), format_func=SHOW.get, key="f_only", required=True,
                                     label_visibility="collapsed")
section_column, year_column, form_column, group_column, gender_column, search_column = st.columns([3, 3, 3, 3, 2, 3])
sections = sorted(s for s in everyone["Section"].unique() if s)
chosen_sections = section_column.multiselect("Section", sections, key="f_section", placeholder="All sections")
in_sections = everyone[everyone["Section"].isin(chosen_sections)] if chosen_sections else everyone
years = sorted(in_sections["Year"].unique(), key=year_order)
chosen_years = year_column.multiselect("Year", years, key="f_year", format_func=year_label, placeholder="All years")
in_years = in_sections[in_sections["Year"].isin(chosen_years)] if chosen_years else in_sections
forms = sorted(f for f in in_years["Form"].unique() if f)
chosen_forms = form_column.multiselect("Form", forms, key="f_form", placeholder="All forms")
chosen_groups = group_column.multiselect("Groups", list(GROUPS), key="f_groups", placeholder="Any group",
                                         help="Pupils in every group chosen.")
genders = sorted(g for g in everyone["Gender"].unique() if g)
chosen_genders = gender_column.multiselect("Gender", genders, key="f_gender", placeholder="Any")
search = search_column.text_input("Name or UPN", key="f_search", placeholder="Search")

shown = in_years
if chosen_forms:
    shown = shown[shown["Form"].isin(chosen_forms)]
for group in chosen_groups:
    shown = shown[GROUPS[group](figures.set_index("pupil_id").loc[shown["pupil_id"]]).to_numpy()]
if chosen_genders:
    shown = shown[shown["Gender"].isin(chosen_genders)]
if search.strip():
    needle = search.strip().lower()
    matching = figures[(figures["surname"].str.lower().str.contains(needle, regex=False))
                       | (figures["forename"].str.lower().str.contains(needle, regex=False))
                       | (figures["upn"].str.lower() == needle)]
    shown = shown[shown["pupil_id"].isin(matching["pupil_id"])]
filtered_pupils = len(shown)
shown = {
    "pa": lambda f: f[f["Persistent"]],
    "sa": lambda f: f[f["Severe"]],
    "new": lambda f: f[f["Newly below 90%"]],
    "triggers": lambda f: f[f["Triggers"].map(len) > 0],
    "missing": lambda f: f[f["Missing marks"] > 0],
}[show](shown).sort_values(["Attendance %", "Pupil"], ignore_index=True)

# --- the list ------------------------------------------------------------------------

headline = {
    "pa": f"{len(shown)} of {filtered_pupils} pupils at or below 90% attendance",
    "sa": f"{len(shown)} of {filtered_pupils} pupils at or below 50% attendance",
    "new": f"{len(shown)} pupils newly at or below 90% since the upload of {uk(compare_with)}" if compare_with
    else "No earlier upload to compare with yet — “newly below 90%” needs two weeks of uploads.",
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
        st.success("No pupil is at or below 90% attendance in this period.")
    else:
        st.info("No pupils to list here.")
    st.stop()

export_columns = ["UPN", "Pupil", "Form", "Year", "Section", "Attendance %", "Change (pts)", "Authorised",
                  "Unauthorised", "Top reason", "Worst day", "Triggers", "Last action", "Next check-in", "Groups",
                  "Missing marks", "Newly below 90%"]
export = shown[export_columns].assign(Triggers=shown["Triggers"].map("; ".join))
with download_column:
    lists.download_buttons(export, "below_90" if show == "pa" else show, period.as_of, "below_90")


def open_clicked() -> None:
    click = st.session_state.get("below_90_open")
    if click is not None:
        st.session_state["below_90_open_pupil"] = int(shown.iloc[click["row"]]["pupil_id"])


NEW_ROW_COLOUR = "background-color: #fff3cd"  # pupils newly below 90% since the previous upload
table = shown.drop(columns=["pupil_id", "UPN", "Section", "Persistent", "Severe", "Newly below 90%", "Gender"])
highlighted = table.style.apply(
    lambda row: [NEW_ROW_COLOUR if row["New"] else ""] * len(row), axis=1
).format({"Attendance %": "{:.1f}%", "Change (pts)": "{:+.1f}"}, na_rep="")
st.dataframe(
    highlighted,
    hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 620),
    column_config={
        "Open": st.column_config.ButtonColumn("", type="tertiary", on_click=open_clicked, key="below_90_open",
                                              width=60, pinned=True),
        "New": st.column_config.TextColumn("New", width=60, help="Newly at or below 90% since the previous upload"),
        "Pupil": st.column_config.TextColumn("Pupil", width="medium"),
        "Form": st.column_config.TextColumn("Form", width=60),
        "Year": st.column_config.TextColumn("Year", width=50),
        "Attendance %": st.column_config.NumberColumn("Attendance", format="%.1f%%", width=90),
        "Last 12 weeks": st.column_config.LineChartColumn("Last 12 weeks", y_min=0, y_max=100, width=120),
        "Change (pts)": st.column_config.NumberColumn("Change", format="%+.1f", width=70,
                                                      help="Points of attendance since the previous upload"),
        "Authorised": st.column_config.NumberColumn("Auth.", width=60, help="Authorised absence sessions"),
        "Unauthorised": st.column_config.NumberColumn("Unauth.", width=65, help="Unauthorised absence sessions"),
        "Top reason": st.column_config.TextColumn("Top reason", width="medium"),
        "Worst day": st.column_config.TextColumn("Worst day", width=90),
        "Triggers": st.column_config.ListColumn("Triggers", width="medium"),
        "Last action": st.column_config.TextColumn("Last action", width=110),
        "Next check-in": st.column_config.TextColumn("Next check-in", width=100),
        "Groups": st.column_config.TextColumn("Groups", width=110),
        "Missing marks": st.column_config.NumberColumn("Missing", width=65, help="Sessions with no mark yet"),
    },
)
st.caption("Sorted by attendance, lowest first; click a column heading to sort by it. "
           "“Open” shows the pupil. Last action and next check-in fill in once case work is recorded.")

if st.session_state.get("below_90_open_pupil"):
    lists.open_pupil(st.session_state.pop("below_90_open_pupil"))
