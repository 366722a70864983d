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
    from app_pages.formatting import uk

    flags = [False] * len(frame) if overdue is None else list(overdue)
    coloured = [c for c in frame.columns if c not in plain]
    styler = frame.style.apply(
        lambda row: [OVERDUE_STYLE if flags[frame.index.get_loc(row.name)] else ""] * len(row), axis=1,
        subset=coloured)
    return styler.format({**{c: uk for c in dates if c in frame.columns}, **(formats or {})}, na_rep="")


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
