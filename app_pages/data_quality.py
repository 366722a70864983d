"""Data quality — can we trust the figures? Missing marks (session by session, by pupil or by
week; with the school calendar saved, school days with no mark at all count), N marks older than the school
days allowed to resolve them, pupils in the marks but not on the roll, UPNs failing the
check letter, leavers still receiving marks, marks on closure days and summary counts the
figures leave out (they overlap marks or newer counts): each a count and
a list, with what to do about it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, sidebar
from app_pages.ui.formatting import dataframe, md, pupil_name, shown, uk
from core import codes, data_quality, reads, summary_counts

CHECK_KEY = "dq_check"

user = access.require("data_quality")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
settings = reads.settings(path, version)
masked = sidebar.meeting_mode()

st.title("Data quality")
lists.require_registers(user, period)

ids = reads.scoped_pupil_ids(user, path, version)
found = reads.data_quality(path, version, period.date_from, period.as_of, ids)
counts = data_quality.counts(found)
pupils = reads.pupils(path, version, reads.school_scope(user)).set_index("id")
st.caption(f"{uk(period.date_from)} to {uk(period.as_of)}" + ("" if user.sees_all_pupils else
                                                             f" · {md(user.scope_label())} only")
           + " · every figure counts only the marks as stored; fix these in the MIS and upload again.")

checks = list(data_quality.CHECKS)
if st.session_state.get(CHECK_KEY) not in checks:
    st.session_state[CHECK_KEY] = next((c for c in checks if counts[c]), checks[0])
chosen = st.segmented_control(
    "Check", checks, key=CHECK_KEY, required=True, label_visibility="collapsed",
    format_func=lambda c: f"{data_quality.title(c, settings)}: {counts[c]:,}")
check = data_quality.CHECKS[chosen]
frame = found[chosen]

st.subheader(f"{data_quality.title(chosen, settings)} — {counts[chosen]:,} {check.unit}")
st.caption(check.what_to_do)
if frame.empty:
    st.success("Nothing to fix here.")
    st.stop()

MISSING_VIEWS = ("Session by session", "By pupil", "By week")
view = MISSING_VIEWS[0]
if chosen == data_quality.MISSING_MARKS:
    if reads.has_school_calendar(path, version):
        st.caption("With the school calendar saved, a school day with no mark at all for a pupil on roll counts "
                   "too: its two sessions are listed here (charts show such weeks as gaps).")
    view = st.segmented_control("Show", MISSING_VIEWS, key="dq_missing_view", default=MISSING_VIEWS[0],
                                required=True)
    if view == "By pupil":
        frame = data_quality.missing_by_pupil(frame)
    elif view == "By week":
        by_week = data_quality.missing_by_week(frame)
        table = pd.DataFrame({"Week beginning": by_week["week_start"].map(uk), "Sessions": by_week["sessions"],
                              "Pupils": by_week["pupils"], "Dates": by_week["dates"]})
        left, right = st.columns([4, 1.3], vertical_alignment="bottom")
        with right:
            lists.download_buttons(table, "data_quality_missing_marks_by_week", period.as_of, "dq_week")
        dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 560))
        st.stop()

known = frame["pupil_id"].isin(pupils.index)
table = pd.DataFrame({
    "pupil_id": frame["pupil_id"].to_numpy(),
    "Pupil": [pupil_name(pupils.at[p, "surname"], pupils.at[p, "forename"], masked) if p in pupils.index else ""
              for p in frame["pupil_id"]],
    "UPN": frame["pupil_id"].map(pupils["upn"]).fillna("").to_numpy(),
    "Form": frame["pupil_id"].map(pupils["form"]).fillna("").to_numpy(),
})
if "date" in frame.columns:
    table = table.assign(Date=frame["date"].map(lambda d: f"{d:%a} {uk(d)}").to_numpy(),
                         Session=frame["session"].to_numpy(),
                         Mark=frame["code"].map(codes.meaning).to_numpy())
if "first_date" in frame.columns:
    table = table.assign(Sessions=frame["sessions"].to_numpy(), First=frame["first_date"].map(uk).to_numpy(),
                         Last=frame["last_date"].map(uk).to_numpy())
if "school_days_old" in frame.columns:
    table = table.assign(**{"School days old": frame["school_days_old"].to_numpy()})
if "leave_date" in frame.columns:
    table = table.assign(**{"Left on": frame["leave_date"].map(uk).to_numpy()})
if "counts_from" in frame.columns:  # summary counts left out of the figures
    table = table.assign(**{"Counts for": [f"{uk(a)}–{uk(b)}" for a, b in zip(frame["counts_from"], frame["counts_to"])],
                            "Possible sessions": frame["possible_sessions"].to_numpy(),
                            "Not used because": frame["reason"].map(summary_counts.REASONS).to_numpy()})
if "marks" in frame.columns:
    table = table.assign(**{"Marks stored": frame["marks"].to_numpy()})
if "Date" in table.columns:
    table = table.sort_values(["Date", "Form", "Pupil"], ignore_index=True)

left, right = st.columns([4, 1.3], vertical_alignment="bottom")
with right:
    lists.download_buttons(table.drop(columns="pupil_id"), f"data_quality_{chosen}"
                           + ("_by_pupil" if view == "By pupil" else ""), period.as_of, "dq")
on_screen = shown(table, masked)  # the UPN is an identifier: not in meeting mode


def open_clicked() -> None:
    click = st.session_state.get("dq_open")
    if click is not None:
        st.session_state["dq_open_pupil"] = int(table.iloc[click["row"]]["pupil_id"])


dataframe(on_screen.assign(Open="Open")[["Open", *[c for c in on_screen.columns if c != "pupil_id"]]],
          hide_index=True, width="stretch", height=min(38 + 35 * len(table), 560),
          column_config={"Open": st.column_config.ButtonColumn("", type="tertiary", on_click=open_clicked,
                                                               key="dq_open", width=60, pinned=True)})
if st.session_state.get("dq_open_pupil"):
    lists.open_pupil(st.session_state.pop("dq_open_pupil"))
