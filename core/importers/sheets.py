"""Opening an export: bytes → a grid of text cells numbered as the user sees them.

A CSV (UTF-8, UTF-8 with BOM or Windows-1252; comma, semicolon or tab) or the first sheet
of a workbook (XLSX, XLS, ODS, read by python-calamine through pandas) becomes a
DataFrame of strings whose index is the file's own row number (1 = the first line, as a
spreadsheet shows it), blank lines kept, so every problem can point at the row to open.
What the file really is comes from its bytes, not its name: a workbook renamed .csv is
read as a workbook, and a letter, a picture or random bytes are refused with a message.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import python_calamine

# A workbook this big once unpacked is refused before it is parsed (a "zip bomb" guard).
MAX_UNPACKED_BYTES = 1_000_000_000
# Lines sampled to find the delimiter and the widest row above the data.
SAMPLE_LINES = 60


class UnreadableFile(Exception):
    """The file cannot be read as an export; the message says why, in the school's words."""


@dataclass
class Sheet:
    cells: pd.DataFrame  # text cells ('' when empty), columns 0..n-1, index = the file's row number
    kind: str  # "csv" or "workbook"


# Signatures of files that are not exports, by their first bytes.
_NOT_EXPORTS = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a picture (PNG)"),
    (b"\xff\xd8\xff", "a picture (JPEG)"),
    (b"GIF8", "a picture (GIF)"),
    (b"{\\rtf", "a Word (RTF) document"),
]
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97 .xls, Word 97 .doc


def open_sheet(content: bytes, file_name: str) -> Sheet:
    """The file's cells as text. Raises UnreadableFile with a message the user can act on."""
    if not content or content.isspace():
        raise UnreadableFile(f"{file_name} is empty. Export the register again and upload that file.")
    for signature, what in _NOT_EXPORTS:
        if content.startswith(signature):
            raise UnreadableFile(f"{file_name} is {what}, not a register export. "
                                 "Save the MIS report as CSV or XLSX and upload that.")
    if content.startswith(_ZIP):
        _check_workbook_archive(content, file_name)
        return Sheet(_read_workbook(content, file_name), "workbook")
    if content.startswith(_OLE):
        return Sheet(_read_workbook(content, file_name), "workbook")
    return Sheet(_read_csv(content, file_name), "csv")


# --- CSV ---------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252."""
    return _decoded(content)[0]


def _decoded(content: bytes) -> tuple[str, bool]:
    """The text, and whether the bytes were UTF-8."""
    try:
        return content.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace"), False


_ODD_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _looks_like_text(text: str) -> bool:
    """False for binary data: a NUL anywhere in the file (no text export holds one), or more
    than 1% control or undecodable characters in its first 64 KB."""
    if "\x00" in text:
        return False
    sample = text[:65536]
    return len(_ODD_CHARACTERS.findall(sample)) <= len(sample) / 100


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sampled lines most (comma when none does)."""
    counts = {sep: sum(line.count(sep) for line in lines) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(content: bytes, file_name: str) -> pd.DataFrame:
    text, utf8 = _decoded(content)
    if not _looks_like_text(text):
        raise UnreadableFile(f"{file_name} is not a text file a register report produces (it holds binary data). "
                             "Save the report as CSV or XLSX and upload that.")
    head = text[:200_000].splitlines()[:SAMPLE_LINES]
    sep = _delimiter([line for line in head if line.strip()])
    width = max((len(row) for row in csv.reader(head, delimiter=sep)), default=1)
    cells = _read_regular_csv(content if utf8 else text.encode("utf-8"), sep, width)
    if cells is not None:
        return cells
    try:
        cells = pd.read_csv(
            io.StringIO(text), sep=sep, header=None, names=range(width), dtype=str, keep_default_na=False,
            na_filter=False, skip_blank_lines=False, engine="c", index_col=False, quotechar='"',
        )
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            raise UnreadableFile(
                f"Row {found[2]} of {file_name} has {found[3]} cells where the rows above have {found[1]}. "
                "A comma inside a name may need quotes; export the report again as CSV.") from error
        raise UnreadableFile(f"{file_name} could not be read as CSV ({error}).") from error
    except (ValueError, csv.Error) as error:
        raise UnreadableFile(f"{file_name} could not be read as CSV ({error}).") from error
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    return cells


def _read_regular_csv(content: bytes, sep: str, width: int) -> pd.DataFrame | None:
    """The fast path for the usual big file, a regular CSV (every row `width` cells): read by
    pyarrow, several times faster than pandas' own parser and giving the same cells. None
    when pyarrow cannot read it that way (a title row, a ragged row, a stray quote...): the
    caller then reads it with pandas, which pads short rows and explains bad ones."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(content),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError):
        return None
    text_dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # what pandas' parser gives for dtype=str
    cells = pd.DataFrame({i: table.column(i).to_pandas(types_mapper={pa.string(): text_dtype}.get)
                          for i in range(width)})
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    return cells


# --- workbooks ---------------------------------------------------------------------


def _check_workbook_archive(content: bytes, file_name: str) -> None:
    """A zip must be a workbook (not a Word document) and must not unpack to gigabytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise UnreadableFile(f"{file_name} looks like a workbook but is damaged ({error}). "
                             "Export the report again.") from error
    if any(n.startswith("word/") for n in names):
        raise UnreadableFile(f"{file_name} is a Word document, not a register export. "
                             "Save the MIS report as CSV or XLSX and upload that.")
    if any(n.startswith("ppt/") for n in names):
        raise UnreadableFile(f"{file_name} is a PowerPoint file, not a register export.")
    if not any(n.startswith("xl/") or n == "content.xml" for n in names):
        raise UnreadableFile(f"{file_name} is a zip archive, not a register export. "
                             "Unzip it and upload the CSV or XLSX inside.")
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(f"{file_name} unpacks to {unpacked / 1e9:.1f} GB, far more than a register export. "
                             "Export a shorter date range and upload that.")


# Cell texts that mean "no value" in a workbook (those pandas' read_excel reads as missing).
EMPTY_CELL_TEXTS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
})


def _read_workbook(content: bytes, file_name: str) -> pd.DataFrame:
    """The first sheet's cells as text, read by python-calamine straight into columns."""
    try:
        rows = python_calamine.load_workbook(io.BytesIO(content)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as error:  # calamine raises its own error types for every kind of damage
        raise UnreadableFile(f"{file_name} could not be read as a spreadsheet ({type(error).__name__}: {error}). "
                             "Open it in Excel, save it as XLSX or CSV, and upload that.") from error
    width = max((len(row) for row in rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [list(row) + [""] * (width - len(row)) for row in rows]
    columns = zip(*rows) if rows else ()
    cells = pd.DataFrame({i: _column_text(column) for i, column in enumerate(columns)})
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    return cells


def _column_text(values) -> pd.Series:
    """A workbook column as text the way the spreadsheet shows it: 123 not 123.0, a date
    at midnight as yyyy-mm-dd, TRUE/FALSE, '' for empty."""
    return pd.Series([("" if v in EMPTY_CELL_TEXTS else v) if type(v) is str else _cell_text(v) for v in values],
                     dtype="string")


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (time, timedelta)):
        return str(value)
    return str(value)
