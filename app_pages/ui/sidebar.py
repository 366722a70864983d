"""The sidebar on every screen: school, data as at, academic year and dates, who is signed in.

The chosen period lives in session state, so every screen reads the same one and it stays
put when moving between screens. Filters on the screens (each screen's kept_keys in core/menu.py) are kept
across screens the same way. Meeting mode is the user's own setting in the store (so a reload,
a new tab or the next sign-in keeps it): the toggle mirrors it on every run and writes it when
switched, and while it is on a banner at the top of every screen says so.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import streamlit as st

from app_pages.ui import access
from app_pages.ui.formatting import MEETING_KEY, md, meeting_mode, remember_reader, uk, uk_time
from core import auth, calendar, menu, metrics, reads, store

YEAR_KEY = "academic_year"
DATES_KEY = "date_range"
DEFAULT_DATES_KEY = "date_range_default"
PERIOD_KEY = "period"

# Meeting mode's larger type for a projector (fixed styling, no user data). Streamlit sizes
# text in rem, so a larger root font enlarges text, widgets and spacing together; tables
# (st.dataframe draws on a canvas) take their font size from the root font too. CSS zoom
# is not used: it leaves charts measuring the wrong width and blurs the canvas.
MEETING_ROOT_FONT_PX = 21
MEETING_STYLE = (f"<style>html {{ font-size: {MEETING_ROOT_FONT_PX}px; }} "
                 "[data-testid='stMainBlockContainer'] { max-width: 100%; padding-left: 3rem; padding-right: 3rem; }"
                 "</style>")

# Said at the top of every screen while meeting mode is on (fixed text, no user data).
BANNER_KEY = "meeting_mode_banner"
MEETING_ERROR_KEY = "meeting_mode_error"
MEETING_BANNER = ("**Meeting mode is on** — pupils are shown by initials and form; UPNs, dates of birth, "
                  "parents' and carers' details and sensitive notes are hidden. It stays on until someone turns it "
                  "off in the sidebar.")


def keep_filters() -> None:
    """Re-assign kept widget values so Streamlit does not drop them on another screen."""
    for key in menu.KEPT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def chosen_period() -> metrics.Period | None:
    chosen = st.session_state.get(PERIOD_KEY)
    return metrics.Period(*chosen) if chosen else None


def _reset_dates() -> None:
    st.session_state.pop(DATES_KEY, None)


def draw(user: auth.User) -> None:
    path, version = reads.db_path(), reads.version()
    settings = reads.settings(path, version)
    span = reads.mark_span(path, version)
    with st.sidebar:
        # On a trust's store: a school's staff see their school's name, a trust user the
        # school they chose on the Trust screen, else "All schools" (issue 18).
        looking_at = st.session_state.get(access.TRUST_SCHOOL_KEY)
        several = access.school_count() > 1
        heading = (looking_at[1] if looking_at else ", ".join(user.school_names) if user.school_names
                   else "All schools" if several else settings["school_name"])
        st.markdown(f"**{md(heading)}**")
        if looking_at:  # a trust user chose one school on the Trust screen
            st.caption("Chosen on the Trust screen: every screen shows this school's pupils only")
            st.button("Show all my schools", key="trust_school_clear", type="tertiary", icon=":material/close:",
                      on_click=lambda: st.session_state.pop(access.TRUST_SCHOOL_KEY, None))
        if span is None:
            st.caption("No registers uploaded yet.")
            st.session_state[PERIOD_KEY] = None
        else:
            upload = reads.last_upload(path, version)
            last = f" (last upload: {md(upload['imported_by'])}, {uk_time(upload['imported_at'])})" if upload else ""
            st.caption(f"**Data as at {uk(span[1])}**{last}")
            _period_picker(span)
        # Meeting mode is the user's, held in the store: a reload, a new tab or a new sign-in
        # of the same user starts with it as they left it, and another tab's change shows here
        # at its next rerun. The toggle mirrors the store and writes to it (audited).
        st.session_state[MEETING_KEY] = user.meeting_mode
        remember_reader(user)
        st.toggle("Meeting mode", key=MEETING_KEY, on_change=_meeting_mode_changed, args=(user.username,),
                  help="Larger type and pupils' initials instead of names, for a shared screen. "
                       "It stays on — after a reload, in a new tab, at the next sign-in — until you turn it off.")
        if st.session_state.get(MEETING_ERROR_KEY):
            st.error(st.session_state.pop(MEETING_ERROR_KEY))
        st.caption(f"Signed in as **{md(user.name)}** · {user.role_label}"
                   + ("" if user.sees_all_pupils else f" ({md(user.scope_label())})"))
        access.sign_out_button()
    if meeting_mode():
        st.html(MEETING_STYLE)
        with st.container(key=BANNER_KEY):
            st.warning(MEETING_BANNER, icon=":material/co_present:")


def _meeting_mode_changed(username: str) -> None:
    """The toggle was switched: keep the new state as this user's (the store is the truth).
    Should the store refuse, the toggle goes back to what the store holds and says why."""
    try:
        with store.opened(reads.db_path()) as db:
            auth.set_meeting_mode(db, username, bool(st.session_state.get(MEETING_KEY)))
    except (store.StoreError, sqlite3.Error, auth.UserError) as error:
        st.session_state[MEETING_ERROR_KEY] = f"Meeting mode could not be changed ({error}). Try again in a moment."


def _period_picker(span: tuple[date, date]) -> None:
    first_year, last_year = calendar.academic_year(span[0]), calendar.academic_year(span[1])
    years = list(range(last_year, first_year - 1, -1))
    if st.session_state.get(YEAR_KEY) not in years:
        st.session_state[YEAR_KEY] = years[0]
    year = st.selectbox("Academic year", years, key=YEAR_KEY, format_func=calendar.academic_year_label,
                        on_change=_reset_dates)
    year_start = date(year, 9, 1)
    year_end = min(date(year + 1, 8, 31), span[1])
    # The whole year to date, unless the user chose other dates; it grows as uploads arrive.
    default = (year_start, year_end)
    chosen_before = st.session_state.get(DATES_KEY)
    if (chosen_before is None or not _inside(chosen_before, year_start, year_end)
            or tuple(chosen_before) == st.session_state.get(DEFAULT_DATES_KEY)):
        st.session_state[DATES_KEY] = default
    st.session_state[DEFAULT_DATES_KEY] = default
    chosen = st.date_input("Dates", key=DATES_KEY, min_value=year_start, max_value=year_end, format="DD/MM/YYYY",
                           help="Figures count the sessions between these dates, inclusive.")
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        date_from, as_of = chosen
    else:  # half-way through picking a range: keep the last full one
        date_from, as_of = (st.session_state.get(PERIOD_KEY) or (year_start, year_end))
    st.session_state[PERIOD_KEY] = (date_from, as_of)
    if (date_from, as_of) != (year_start, year_end):
        st.caption(f"Showing {uk(date_from)} to {uk(as_of)}, not the whole year to date.")


def _inside(chosen, low: date, high: date) -> bool:
    if not isinstance(chosen, (tuple, list)) or not chosen:
        return False
    return all(isinstance(d, date) and low <= d <= high for d in chosen)
