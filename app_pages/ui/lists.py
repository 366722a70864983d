"""What the list screens share: the empty state, the user's pupils and figures, the triggers
shown (and their history kept), opening a pupil, downloads, trigger badges."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.ui import access
from app_pages.ui.formatting import md, shown, uk
from core import auth, exports, menu, reads, store, triggers

OPEN_PUPIL_KEY = "pupil_id"  # the pupil the Pupil screen shows
PUPIL_PARAM = "pupil"  # the Pupil screen's address names the pupil by internal id: /pupil?pupil=12
PUPIL_PAGE = menu.BY_ID["pupil"].file
UPLOAD_PAGE = menu.BY_ID["upload"].file


def no_registers_yet(user: auth.User) -> None:
    """The first thing a new school sees, on every screen that needs marks."""
    st.info("**No registers uploaded yet** — drag this week's export from SIMS, Arbor or Bromcom into the Upload "
            "screen. Sample exports to try are in the `data/samples` folder.", icon=":material/upload_file:")
    if menu.may_open(user.role, "upload"):
        st.page_link(UPLOAD_PAGE, label="Go to Upload", icon=":material/upload_file:")
    else:
        st.caption("Your attendance officer or administrator uploads the registers.")


def require_registers(user: auth.User, period):
    """The period chosen in the sidebar; without any registers, the first-use message and
    nothing more of the screen."""
    if period is None:
        no_registers_yet(user)
        st.stop()
    return period


def scoped_pupils(user: auth.User, path: str, version) -> pd.DataFrame:
    """Every stored pupil this user may see (a head of section: their sections)."""
    return reads.scoped(reads.pupils(path, version, reads.school_scope(user)), user, path, version)


def scoped_figures(user: auth.User, path: str, version, date_from: date, as_of: date) -> pd.DataFrame:
    """The figures of the pupils this user may see, over `date_from` to `as_of` (on a trust's
    store, only their schools' pupils are computed)."""
    return reads.scoped(reads.pupil_figures(path, version, date_from, as_of, reads.school_scope(user)), user,
                        path, version)


def triggers_shown(path: str, version, as_of: date, user: auth.User | None = None) -> pd.DataFrame:
    """The triggers reached by `as_of` (reads.triggers_reached), as a screen shows them: every
    pupil's, or — given the `user` — their schools' pupils' only (on a trust's store; a head
    of section still filters to their sections). Those standing at the last date with marks
    go into the history of triggers shown here, on the screen's side of the cached read
    (which never writes); recording the same triggers again changes nothing."""
    school_ids = reads.school_scope(user)
    found = reads.triggers_reached(path, version, as_of, school_ids)
    span = reads.mark_span(path, version)
    if span is not None and as_of == span[1]:
        in_scope = reads.school_pupil_ids(path, version, school_ids)
        with store.opened(path) as db:
            triggers.record_shown(db, found, as_of, None if in_scope is None else list(in_scope))
    return found


def require_possible_sessions(user: auth.User, period, figures: pd.DataFrame) -> None:
    """Say so, and draw nothing more, when none of the user's pupils had a possible session
    in the period."""
    if not (figures["possible_sessions"] > 0).any():
        st.info(f"No pupils{'' if user.sees_all_pupils else ' in ' + md(user.scope_label())} have possible sessions "
                f"between {uk(period.date_from)} and {uk(period.as_of)}.")
        st.stop()


def open_pupil(pupil_id: int) -> None:
    st.session_state[OPEN_PUPIL_KEY] = int(pupil_id)
    st.switch_page(PUPIL_PAGE, query_params={PUPIL_PARAM: str(int(pupil_id))})


def row_clicked(key: str, frame: pd.DataFrame, act) -> None:
    """A ButtonColumn's on_click: call `act(row)` with the row of `frame` that was clicked."""
    click = st.session_state.get(key)
    if click is not None:
        act(frame.iloc[click["row"]])


OVERDUE_STYLE = "color: #b03a2e; font-weight: 600"  # red, for what is overdue


def styled(frame: pd.DataFrame, overdue: pd.Series | None = None, dates: tuple[str, ...] = (),
           formats: dict | None = None, plain: tuple[str, ...] = ()):
    """A table with dates written dd/mm/yyyy and overdue rows in red (`overdue` aligned to the
    rows; the `plain` columns, such as row buttons, keep their own colour)."""
    flags = [False] * len(frame) if overdue is None else list(overdue)
    coloured = [c for c in frame.columns if c not in plain]
    styler = frame.style.apply(
        lambda row: [OVERDUE_STYLE if flags[frame.index.get_loc(row.name)] else ""] * len(row), axis=1,
        subset=coloured)
    return styler.format({**{c: uk for c in dates if c in frame.columns}, **(formats or {})}, na_rep="")


def named_in_downloads() -> str:
    """Whose name a download's file carries: the store's school; on a trust's store, the one
    school the user looks at (their own, or the one a trust user chose on the Trust screen),
    else their hub ("Hub North") or the trust ("Trust")."""
    path, version = reads.db_path(), reads.version()
    user = access.current_user() if access.school_count() > 1 else None
    if user is None:
        return reads.settings(path, version)["school_name"]
    looking = auth.scoped_to_school(user, *st.session_state.get(access.TRUST_SCHOOL_KEY, (None, "")))
    if looking.school_ids is not None and len(looking.school_ids) == 1:
        return reads.settings(path, version, int(looking.school_ids[0]))["school_name"]
    return f"Hub {user.hub}" if user.hub else "Trust"


def download_buttons(frame: pd.DataFrame, stem: str, as_of: date, key: str) -> None:
    """CSV and Excel downloads of exactly this table: named for the school and the date,
    formulas neutralised (core/exports.py), masked like the screen in meeting mode, and made
    when the button is clicked (not on every rerun)."""
    school = named_in_downloads()
    table = shown(frame)
    left, right = st.columns(2)
    left.download_button("CSV", lambda: exports.csv_bytes(table), exports.file_name(school, stem, as_of, "csv"), "text/csv",
                         key=f"{key}_csv", icon=":material/download:", width="stretch", on_click="ignore")
    right.download_button("Excel", lambda: exports.xlsx_bytes(table, stem), exports.file_name(school, stem, as_of, "xlsx"),
                          exports.XLSX_MIME, key=f"{key}_xlsx", icon=":material/download:", width="stretch",
                          on_click="ignore")


excel_bytes = exports.xlsx_bytes  # the workbook of a table, as the downloads build it


def sparklines(weekly: pd.DataFrame) -> pd.Series:
    """Each pupil's weekly attendance percentages (from patterns.pupil_weekly), oldest week
    first, rounded to one place, weeks with no possible session left out: pupil_id → list."""
    weeks = weekly[weekly["attendance_pct"].notna()].sort_values(["pupil_id", "week_start"], kind="stable")
    pupil_ids, starts = np.unique(weeks["pupil_id"].to_numpy(), return_index=True)
    values = weeks["attendance_pct"].astype("float64").round(1).tolist()
    ends = [*starts[1:], len(values)]
    lines = dict(zip(pupil_ids.tolist(), (values[a:b] for a, b in zip(starts, ends))))
    everyone = pd.unique(weekly["pupil_id"])
    return pd.Series([lines.get(p, []) for p in everyone.tolist()], index=pd.Index(everyone, name="pupil_id"),
                     dtype=object)
