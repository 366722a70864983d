"""What the list screens share: the empty state, opening a pupil, downloads, trigger badges."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from core import auth, triggers

OPEN_PUPIL_KEY = "pupil_id"  # the pupil the Pupil screen shows
PUPIL_PAGE = "app_pages/pupil.py"
UPLOAD_PAGE = "app_pages/upload.py"

TRIGGER_BADGES = {
    triggers.UNAUTHORISED_10_DAYS: "10 days unauthorised",
    triggers.UNAUTHORISED_20_DAYS: "20 days unauthorised",
    triggers.ILLNESS_15_DAYS: "15 days illness",
    triggers.PENALTY_NOTICE_THRESHOLD: "Penalty-notice threshold",
}


def no_registers_yet(user: auth.User) -> None:
    """The first thing a new school sees, on every screen that needs marks."""
    st.info("**No registers uploaded yet** — drag this week's export from SIMS, Arbor or Bromcom into the Upload "
            "screen. Sample exports to try are in the `data/samples` folder.", icon=":material/upload_file:")
    if user.may_open("upload"):
        st.page_link(UPLOAD_PAGE, label="Go to Upload", icon=":material/upload_file:")
    else:
        st.caption("Your attendance officer or administrator uploads the registers.")


def open_pupil(pupil_id: int) -> None:
    st.session_state[OPEN_PUPIL_KEY] = int(pupil_id)
    st.switch_page(PUPIL_PAGE)


def download_buttons(frame: pd.DataFrame, stem: str, as_of: date, key: str) -> None:
    """CSV and Excel downloads of exactly this table, made when the button is clicked (not
    on every rerun)."""
    name = f"{stem}_{as_of.isoformat()}"
    left, right = st.columns(2)
    left.download_button("CSV", lambda: csv_bytes(frame), f"{name}.csv", "text/csv",
                         key=f"{key}_csv", icon=":material/download:", width="stretch")
    right.download_button("Excel", lambda: excel_bytes(frame, stem), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", icon=":material/download:", width="stretch")


# A cell starting with one of these is a formula to a spreadsheet ("=HYPERLINK(...)" in a
# pupil's name would run when the download is opened): such text gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_spreadsheet_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell that a spreadsheet would read as a formula made plain text."""
    def safe(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(safe, na_action="ignore") for c in text_columns}) if len(frame) else frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return as_spreadsheet_text(frame).to_csv(index=False).encode("utf-8-sig")


def excel_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    frame = as_spreadsheet_text(frame)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
        columns = writer.sheets[sheet[:31]].column_dimensions
        for i, column in enumerate(frame.columns):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            columns[_excel_column(i)].width = min(max(width + 2, 8), 50)
    return buffer.getvalue()


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


def _excel_column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
