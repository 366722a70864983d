"""Spreadsheet exports: CSV and XLSX of any table, and the names the files are saved under.

Every cell that a spreadsheet would read as a formula (starting `=`, `+`, `-`, `@`, tab or
carriage return) is neutralised; numbers stay numbers, yes/no flags read Yes or No, and in a
workbook dates (a date, or a dd/mm/yyyy or ISO date a screen wrote as text) are real dates
shown dd/mm/yyyy, under a frozen header row with filters. File names carry the school and the
date (`file_name`). Every CSV or Excel download in the app is written here.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core import text
from core.calendar import uk_date

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
UK_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
YES_NO = {True: "Yes", False: "No"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_CELL_LIMIT = 32_767  # the most characters an Excel cell holds
FILE_NAME_PART_LIMIT = 60  # characters of each part of a file name (the school, what it is)


def file_name(school: str, what: str, on: date, extension: str) -> str:
    """'Test-Academy_below-90_19-09-2025.csv': the school, what it is, the date (UK order)."""
    school_part, what_part = _slug(school)[:FILE_NAME_PART_LIMIT].strip("-"), _slug(what)[:FILE_NAME_PART_LIMIT].strip("-")
    return f"{school_part or 'school'}_{what_part}_{on.strftime('%d-%m-%Y')}.{extension.lstrip('.')}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


def neutralise_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; anything
    else (numbers, dates, a plain '-5' written as text) is left as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet cell: lists joined, dates as dates, missing as blank, text
    without the control characters no spreadsheet can hold (core/text.py; the importer
    removes them too, this is for anything stored before it did)."""
    if isinstance(value, str):
        return text.UNPRINTABLE.sub("", value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return text.UNPRINTABLE.sub("", "; ".join(str(v) for v in value))
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return YES_NO[value]
    return value


def _as_date(value: str) -> date | None:
    """A date a screen wrote as text (dd/mm/yyyy or ISO), as a date; None for any other text."""
    found = UK_DATE.match(value)
    if found:
        day, month, year = (int(part) for part in found.groups())
    else:
        found = ISO_DATE.match(value)
        if not found:
            return None
        year, month, day = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _text_columns(frame: pd.DataFrame) -> list:
    """Every column but the numeric ones (yes/no flags are text: Yes or No)."""
    return [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])
            or not pd.api.types.is_numeric_dtype(frame[c])]


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell neutralised (numeric columns untouched)."""
    return frame.assign(**{str(c): frame[c].map(lambda v: neutralise_cell(cell_value(v))) for c in _text_columns(frame)})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads accents), dates dd/mm/yyyy, formulas neutralised."""
    shown = neutralised(frame.rename(columns=str))
    shown = shown.assign(**{c: shown[c].map(lambda v: uk_date(v) if isinstance(v, date) else v) for c in shown.columns
                            if shown[c].map(lambda v: isinstance(v, date)).any()})
    # CRLF rows (as Excel writes them), so a carriage return inside a cell is quoted, never a row break.
    return shown.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """An Excel workbook of the frame: text cells stored as text (a cell that starts like a
    formula is never one), numbers as numbers, dates as dd/mm/yyyy dates, bold headings."""
    book = openpyxl.Workbook()
    table = book.active
    table.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "Sheet1"
    table.append([str(c) for c in frame.columns])
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        table.append([None] * len(frame.columns))
        for column, value in enumerate(row, start=1):
            cell = table.cell(row=table.max_row, column=column)
            value = cell_value(value)
            if isinstance(value, str) and (written_date := _as_date(value)) is not None:
                value = written_date
            if isinstance(value, str):
                cell.value = text.clip(value, XLSX_CELL_LIMIT)
                cell.data_type = "s"  # never a formula, whatever it starts with
                if value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
            else:
                cell.value = value
                if isinstance(value, (date, datetime)):
                    cell.number_format = "DD/MM/YYYY"
    for index, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
        table.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)
    table.freeze_panes = "A2"  # the header row stays in view
    if len(frame.columns):
        table.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(table.max_row, 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
