"""What the list screens share: the empty state, opening a pupil, downloads, trigger badges."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import streamlit as st

from core import auth, triggers

OPEN_PUPIL_KEY = "pupil_id"  # the pupil the Pupil screen shows
PUPIL_PAGE = "app_pages/pupil.py"
UPLOAD_PAGE = "app_pages/upload.py"

TRIGGER_BADGES = triggers.TRIGGER_BADGES


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
    """CSV and Excel downloads of exactly this table."""
    name = f"{stem}_{as_of.isoformat()}"
    left, right = st.columns(2)
    left.download_button("CSV", frame.to_csv(index=False).encode("utf-8-sig"), f"{name}.csv", "text/csv",
                          key=f"{key}_csv", icon=":material/download:", width="stretch")
    right.download_button("Excel", excel_bytes(frame, stem), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", icon=":material/download:", width="stretch")


def excel_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
        columns = writer.sheets[sheet[:31]].column_dimensions
        for i, column in enumerate(frame.columns):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            columns[_excel_column(i)].width = min(max(width + 2, 8), 50)
    return buffer.getvalue()


def _excel_column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
