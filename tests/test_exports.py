"""Spreadsheet exports: formula injection neutralised, numbers and dates kept as such, and
file names that carry the school and the date."""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import openpyxl
import pandas as pd

from core import exports


# --- spreadsheets -------------------------------------------------------------------------------

DANGEROUS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_csv_cells_that_start_like_formulas_get_an_apostrophe():
    frame = pd.DataFrame({"Note": DANGEROUS + ["Ahmed, Amir"]})
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(frame).decode("utf-8-sig"), newline="")))
    assert [row[0] for row in rows[1:]] == ["'" + v for v in DANGEROUS] + ["Ahmed, Amir"]


def test_csv_keeps_negative_numbers_as_numbers():
    frame = pd.DataFrame({"Change (pts)": [-20.0, 5.5], "Written as text": ["-5", "+4.5"]})
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(frame).decode("utf-8-sig"))))
    assert rows[1:] == [["-20.0", "-5"], ["5.5", "+4.5"]]


def test_csv_writes_dates_the_uk_way():
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(pd.DataFrame({"On": [date(2025, 9, 3)]})).decode("utf-8-sig"))))
    assert rows[1] == ["03/09/2025"]


def test_xlsx_text_that_starts_like_a_formula_is_stored_as_text_never_a_formula():
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(pd.DataFrame({"Note": DANGEROUS}), "list"))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in DANGEROUS]  # XML keeps CR as LF
    assert all(c.data_type == "s" for c in cells)  # openpyxl would store "=…" as a formula ('f') otherwise
    assert all(c.quotePrefix for c in cells)


def test_xlsx_keeps_numbers_negative_numbers_and_dates_as_such():
    frame = pd.DataFrame({"Change": [-20.0], "Pupils": [np.int64(3)], "On": [date(2025, 9, 3)]})
    row = next(openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "x"))).active.iter_rows(min_row=2))
    assert [c.value for c in row[:2]] == [-20.0, 3] and row[0].data_type == "n"
    assert row[2].value.date() == date(2025, 9, 3) and row[2].number_format == "DD/MM/YYYY"


def test_xlsx_reads_like_a_school_spreadsheet_real_dates_yes_no_flags_a_frozen_filtered_header():
    frame = pd.DataFrame({"Pupil": ["Ahmed, Amir", "Brown, Bella"], "Last action": ["03/09/2025", ""],
                          "Opened": ["2025-09-08", "not a date"], "Check-in": [date(2025, 10, 1), None],
                          "PP": [True, False], "FSM": np.array([False, True]), "Sessions": [3, 4]})
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "list"))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][1].date() == date(2025, 9, 3) and rows[0][2].date() == date(2025, 9, 8)
    assert rows[1][2] == "not a date" and rows[0][3].date() == date(2025, 10, 1)
    assert sheet["B2"].number_format == "DD/MM/YYYY"
    assert [r[4:6] for r in rows] == [("Yes", "No"), ("No", "Yes")] and [r[6] for r in rows] == [3, 4]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G3"


def test_csv_flags_read_yes_or_no():
    text = exports.csv_bytes(pd.DataFrame({"PP": [True, False], "SEN": ["K", ""]})).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1:] == [["Yes", "K"], ["No", ""]]


def test_file_names_carry_the_school_and_the_date():
    assert exports.file_name("St Mary’s C of E Primary", "below 90", date(2025, 9, 19), "csv") == \
        "St-Marys-C-of-E-Primary_below-90_19-09-2025.csv"
    assert exports.file_name("École Saint-Éloi", "statistics", date(2025, 9, 19), ".xlsx") == \
        "Ecole-Saint-Eloi_statistics_19-09-2025.xlsx"

