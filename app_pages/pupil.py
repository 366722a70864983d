"""Pupil — what is happening with this child? Search, figures with the sessions behind them,
a calendar of marks, runs of absence, triggers with their dates, and the mark history."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import access, lists, queries, sidebar
from app_pages.formatting import flags, md, pct, pupil_name, uk, uk_time, year_label
from core import codes, triggers

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
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_MATCHES = 50


def uk_dates_in(text: str) -> str:
    """ISO dates inside a sentence written the UK way."""
    return ISO_DATE.sub(r"\3/\2/\1", text)


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
        text="shown_code:N",
        color=alt.condition(alt.FieldOneOfPredicate("category", [codes.NOT_POSSIBLE, codes.MISSING]),
                            alt.value("#333333"), alt.value("#ffffff")),
    )
    return (rect + text).properties(height=300)


user = access.require("pupil")
path, version = queries.db_path(), queries.version()
period = sidebar.chosen_period()
masked = sidebar.meeting_mode()

st.title("Pupil")
everyone = queries.scoped(queries.pupils(path, version), user, path, version)
if everyone.empty:
    if period is None:
        lists.no_registers_yet(user)
    else:
        st.info("There are no pupils in your sections yet.")
    st.stop()

query = st.text_input("Find a pupil", key="pupil_query", placeholder="Name, UPN or admission number",
                      help="Type part of a name (e.g. “amir kh”), a UPN, or an admission number.")
if query.strip():
    matches = find_pupils(everyone, query)
    if matches.empty:
        st.info(f"No pupil{' in your sections' if not user.sees_all_pupils else ''} matches “{md(query)}”. "
                "Check the spelling, or try the UPN or admission number.")
    else:
        options = matches["id"].head(MAX_MATCHES).tolist()
        labels = {int(r.id): f"{pupil_name(r.surname, r.forename, masked)} — {r.form or year_label(r.year_group)} — "
                             f"UPN {r.upn}" + (f" — adm. {r.adno}" if r.adno else "")
                  for r in matches.head(MAX_MATCHES).itertuples()}
        if len(options) == 1:
            st.session_state[lists.OPEN_PUPIL_KEY] = options[0]
        else:
            current = st.session_state.get(lists.OPEN_PUPIL_KEY)
            chosen = st.selectbox(
                f"{len(matches)} pupils match" + (f" (first {MAX_MATCHES} shown)" if len(matches) > MAX_MATCHES else ""),
                options, index=options.index(current) if current in options else 0, format_func=labels.get)
            st.session_state[lists.OPEN_PUPIL_KEY] = chosen

pupil_id = st.session_state.get(lists.OPEN_PUPIL_KEY)
if pupil_id is None:
    st.caption("Search above, or open a pupil from the Below 90% list.")
    st.stop()
found = everyone[everyone["id"] == pupil_id]
if found.empty:
    st.warning("That pupil is not in your sections, so their record is not shown.")
    st.stop()
pupil = found.iloc[0]

# --- header ------------------------------------------------------------------------

st.header(md(pupil_name(pupil["surname"], pupil["forename"], masked)))
pupil_flags = flags(found).iloc[0]
facts = [f"Form **{md(pupil['form']) or '—'}**", md(year_label(pupil["year_group"])), f"UPN {md(pupil['upn'])}"]
if pupil["adno"]:
    facts.append(f"Admission no. {md(pupil['adno'])}")
if pupil_flags:
    facts.append(f"**{pupil_flags}**")
if not pupil["on_roll"]:
    facts.append("not on the roll uploaded")
st.markdown(" · ".join(facts))

if period is None:
    lists.no_registers_yet(user)
    st.stop()

figures = queries.pupil_figures(path, version, period.date_from, period.as_of)
mine = figures[figures["pupil_id"] == pupil_id]
if mine.empty or int(mine.iloc[0]["possible_sessions"]) == 0:
    st.info(f"No possible sessions for this pupil between {uk(period.date_from)} and {uk(period.as_of)}.")
    st.stop()
me = mine.iloc[0]
possible, attended = int(me["possible_sessions"]), int(me["attendance_sessions"])
authorised, unauthorised = int(me["authorised_sessions"]), int(me["unauthorised_sessions"])
absent = authorised + unauthorised
status = "Severe absence (50% or below)" if me["severely_absent"] else (
    "Persistent absence (90% or below)" if me["persistently_absent"] else "Above 90%")

columns = st.columns(5)
columns[0].metric("Attendance", pct(me["attendance_pct"]), help=f"{attended} of {possible} possible sessions")
columns[1].metric("Absence", pct(me["absence_pct"]), help=f"{absent} of {possible} possible sessions")
columns[2].metric("Authorised sessions", f"{authorised}")
columns[3].metric("Unauthorised sessions", f"{unauthorised}")
columns[4].metric("Missing marks", f"{int(me['missing_marks'])}", help="Sessions with no mark yet; they count in no total.")
st.markdown(f"**{status}** · {uk(period.date_from)} to {uk(period.as_of)}")

with st.expander("The sessions behind these percentages, and the rule applied"):
    behind = queries.sessions_behind(path, version, pupil_id, period.date_from, period.as_of)
    st.markdown(
        f"- Attendance **{pct(me['attendance_pct'], 2)}** = {attended} attendance sessions ÷ {possible} possible sessions.\n"
        f"- Absence **{pct(me['absence_pct'], 2)}** = ({authorised} authorised + {unauthorised} unauthorised) ÷ {possible}.\n"
        f"- Possible sessions = attendance + authorised absence + unauthorised absence. "
        f"Sessions marked “not possible” (e.g. X, Z, #) and missing marks count in no total.\n"
        f"- Persistent absence when absence is at least 10% of possible sessions: 10 × {absent} = {10 * absent} "
        f"{'≥' if 10 * absent >= possible else '<'} {possible}, so **{'yes' if me['persistently_absent'] else 'no'}**. "
        f"Severe absence at 50%: 2 × {absent} = {2 * absent} {'≥' if 2 * absent >= possible else '<'} {possible}, "
        f"so **{'yes' if me['severely_absent'] else 'no'}**."
    )
    st.dataframe(behind.rename(columns={"code": "Code", "meaning": "Mark", "category": "Category",
                                        "sessions": "Sessions", "counts_as": "Counts as"})
                 .drop(columns=["Category"]), hide_index=True, width="stretch")

# --- calendar ----------------------------------------------------------------------

st.subheader("Marks, session by session")
marks = queries.pupil_calendar(path, version, pupil_id, period.date_from, period.as_of)
if marks.empty:
    st.info("No marks stored for this pupil in this period.")
else:
    st.altair_chart(calendar_chart(marks), width="stretch")
    with st.expander("Show data"):
        st.dataframe(marks.assign(date=marks["date"].map(uk), category=marks["category"].map(codes.CATEGORY_LABELS))
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
        st.dataframe(absence_codes[["meaning", "sessions", "counts_as"]].rename(
            columns={"meaning": "Reason", "sessions": "Sessions", "counts_as": "Counts as"}),
            hide_index=True, width="stretch")
with runs_column:
    st.subheader("Runs of absence")
    runs = queries.absence_runs(path, version, pupil_id, period.date_from, period.as_of)
    if runs.empty:
        st.caption("No run of two or more whole school days absent.")
    else:
        st.dataframe(runs.assign(start=runs["start"].map(uk), end=runs["end"].map(uk)).rename(columns={
            "start": "From", "end": "To", "school_days": "School days", "sessions": "Sessions", "codes": "Marks"}),
            hide_index=True, width="stretch")

st.subheader("Statutory triggers")
reached = queries.triggers_reached(path, version, period.as_of)
reached = reached[reached["pupil_id"] == pupil_id].sort_values("reached_on")
if reached.empty:
    st.caption("None reached this academic year" + ("" if me["compulsory_school_age"] else
               " (triggers apply to pupils of compulsory school age only)") + ".")
else:
    st.dataframe(pd.DataFrame({
        "Reached on": reached["reached_on"].map(uk),
        "Trigger": reached["trigger"].map(triggers.TRIGGER_LABELS),
        "Detail": reached["detail"].map(uk_dates_in),
        "What follows": reached["trigger"].map(triggers.TRIGGER_NEXT_STEPS),
    }), hide_index=True, width="stretch")

st.subheader("Chronology")
history = queries.mark_history(path, version, pupil_id)
st.caption("Case work (actions, contacts, check-ins) will appear here once it is recorded; newest first.")
if history.empty:
    st.caption("No marks have been changed by later uploads.")
else:
    st.dataframe(pd.DataFrame({
        "Changed": history["changed_on"].map(lambda t: uk_time(t.isoformat())),
        "Session": history["date"].map(uk) + " " + history["session"],
        "Mark": history["old_code"].map(codes.meaning) + " → " + history["new_code"].map(codes.meaning),
        "By": history["changed_by"],
        "File": history["file_name"],
    }), hide_index=True, width="stretch")
