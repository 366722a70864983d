"""Opening an export: bytes → a grid of text cells numbered as the user sees them.

A CSV (UTF-8 with or without a BOM, UTF-16, or Windows-1252 — never a mix; comma, semicolon or tab) or the first sheet
of a workbook (XLSX, XLS, ODS, read by python-calamine through pandas) becomes a
DataFrame of strings whose index is the file's own row number (1 = the first line, as a
spreadsheet shows it), blank lines kept, so every problem can point at the row to open.
What the file really is comes from its bytes, not its name: a workbook renamed .csv is
read as a workbook, and a letter, a picture or random bytes are refused with a message.
"""

from __future__ import annotations

import copy
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

from core.store import DEFAULT_SETTINGS

# What a file may hold, per MB of the school's upload limit (max_upload_mb; 50 MB by
# default): a sheet — a CSV, or a workbook's first sheet as unpacked — may span 100,000
# cells (5 million at 50 MB: a 2,700-pupil year of long marks is 4.2 million), and a
# workbook may unpack to 8 MB of XML. Both are checked while the file is streamed, before
# anything is parsed, so a "zip bomb" is refused in a few megabytes of memory. No cell may
# hold more text than Excel allows (32,767 characters; up to 6 bytes each as XML).
CELLS_PER_MB = 100_000
UNPACKED_BYTES_PER_MB = 8 * 1024 * 1024
LONGEST_CELL_BYTES = 32_767 * 6
DEFAULT_LIMIT_MB = DEFAULT_SETTINGS["max_upload_mb"]
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


def open_sheet(content: bytes, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> Sheet:
    """The file's cells as text. Raises UnreadableFile with a message the user can act on.
    `limit_mb` is the school's upload limit, from which the most cells and unpacked bytes
    a file may hold are derived (see CELLS_PER_MB)."""
    if not content or content.isspace():
        raise UnreadableFile(f"{file_name} is empty. Export the register again and upload that file.")
    for signature, what in _NOT_EXPORTS:
        if content.startswith(signature):
            raise UnreadableFile(f"{file_name} is {what}, not a register export. "
                                 "Save the MIS report as CSV or XLSX and upload that.")
    if content.startswith(_ZIP):
        _check_workbook_archive(content, file_name, limit_mb)
        return Sheet(_read_workbook(content, file_name, limit_mb), "workbook")
    if content.startswith(_OLE):
        return Sheet(_read_workbook(content, file_name, limit_mb), "workbook")
    return Sheet(_read_csv(content, file_name, limit_mb), "csv")


def most_cells(limit_mb: float) -> int:
    return int(float(limit_mb) * CELLS_PER_MB)


def _too_many_cells(file_name: str, rows: int, columns: int | None, limit_mb: float) -> UnreadableFile:
    extent = (f"has {rows:,} lines" if columns is None else
              f"spans {rows:,} rows by {columns:,} columns ({rows * columns:,} cells)")
    return UnreadableFile(
        f"{file_name} {extent}; Pastoral reads up to "
        f"{most_cells(limit_mb):,} cells from one file (with the {limit_mb:g} MB upload limit). Export a shorter date "
        "range (a term or a week), or delete the empty rows and columns, and upload that.")


# --- CSV ---------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """The text of a CSV export in whichever encoding it came (see `_decoded`)."""
    return _decoded(content)[0]


class MixedEncoding(UnreadableFile):
    """Part of the file is UTF-8 and part Windows-1252: read either way, some names come out
    garbled. `row` is the file's row (line) where the encoding changes."""

    def __init__(self, message: str, row: int):
        super().__init__(message)
        self.row = row


_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# In the first bytes of UTF-16 text without a BOM, most characters are ASCII, so one byte
# of each pair is NUL: at least this share of the odd (LE) or even (BE) bytes, and almost
# none of the others. Binary data has NULs scattered over both.
UTF16_NUL_SHARE = 0.4
UTF16_SAMPLE_BYTES = 4096
# A valid UTF-8 character beyond ASCII, and a byte that is not valid UTF-8 (as decoded with
# errors="surrogateescape", which keeps each bad byte as a lone surrogate).
_UTF8_LETTER = re.compile("[\u0080-\ud7ff\ue000-\U0010ffff]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
SAVE_AS_UTF8 = ("Export the report again as UTF-8 (in Excel: Save As → \"CSV UTF-8 (Comma delimited)\"; in the MIS, "
                "choose UTF-8 or Unicode as the file's encoding) and upload that.")


def _decoded(content: bytes, file_name: str = "The file") -> tuple[str, bool]:
    """The text, and whether the bytes were UTF-8 (so pyarrow may read them as they are).

    UTF-8 with or without a BOM; UTF-16 with a BOM (LE or BE), or without one when one byte
    of each pair is mostly NUL; else Windows-1252, as Excel's plain "CSV" saves it. A file
    that is partly UTF-8 and partly not (two exports pasted together, or a row edited in
    another program) is refused with the lines where its encoding changes (MixedEncoding):
    read either way, its accented names would come out garbled.
    """
    for bom, encoding in _UTF16_BOMS:
        if content.startswith(bom):
            text = _utf16(content[len(bom):], encoding)
            if text is not None:
                return text, False
    try:
        return content.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        pass
    encoding = _utf16_without_bom(content)
    if encoding:
        text = _utf16(content, encoding)
        if text is not None:
            return text, False
    text = content.decode("cp1252", errors="replace")
    if _looks_like_text(text):  # binary data is refused as such by the caller
        _refuse_mixed(content, file_name)
    return text, False


def _utf16(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _utf16_without_bom(content: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when the first bytes look like UTF-16 text, else None."""
    sample = content[:UTF16_SAMPLE_BYTES]
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even = sample[0:pairs * 2:2].count(0) / pairs
    odd = sample[1:pairs * 2:2].count(0) / pairs
    if odd >= UTF16_NUL_SHARE and even <= 0.02:
        return "utf-16-le"
    if even >= UTF16_NUL_SHARE and odd <= 0.02:
        return "utf-16-be"
    return None


def _refuse_mixed(content: bytes, file_name: str) -> None:
    """Raise MixedEncoding when the bytes, which are not all UTF-8, hold UTF-8 characters
    beyond ASCII too (a UTF-8 BOM counts as one): naming the line where the encoding changes."""
    text = content.decode("utf-8", errors="surrogateescape")
    bad = _NOT_UTF8.search(text)
    good = _UTF8_LETTER.search(text, 1 if text.startswith("\ufeff") else 0)
    if bad is None or (good is None and not text.startswith("\ufeff")):
        return
    good_at = 0 if good is None or text.startswith("\ufeff") else good.start()

    def line(position: int) -> int:
        return text.count("\n", 0, position) + 1

    if good_at < bad.start():  # UTF-8 first, then Windows-1252 from this line
        first, first_line, later, changes_at = "UTF-8", line(good_at), "Windows-1252", line(bad.start())
    else:  # Windows-1252 first, then UTF-8 from this line
        first, first_line, later, changes_at = "Windows-1252", line(bad.start()), "UTF-8", line(good_at)
    raise MixedEncoding(
        f"{file_name} mixes two text encodings: row {first_line} is written in {first} but from row {changes_at} "
        f"it is {later}, so accented names in one part or the other would come out garbled. {SAVE_AS_UTF8}",
        changes_at)


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


def _read_csv(content: bytes, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> pd.DataFrame:
    lines = content.count(b"\n") + (not content.endswith(b"\n"))
    if lines > most_cells(limit_mb):  # before decoding: a file of blank lines is refused in its own bytes
        raise _too_many_cells(file_name, lines, None, limit_mb)
    text, utf8 = _decoded(content, file_name)
    if not _looks_like_text(text):
        raise UnreadableFile(f"{file_name} is not a text file a register report produces (it holds binary data). "
                             "Save the report as CSV or XLSX and upload that.")
    head = text[:200_000].splitlines()[:SAMPLE_LINES]
    sep = _delimiter([line for line in head if line.strip()])
    width = max((len(row) for row in csv.reader(head, delimiter=sep)), default=1)
    if lines * width > most_cells(limit_mb):
        raise _too_many_cells(file_name, lines, width, limit_mb)
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


def _check_workbook_archive(content: bytes, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> None:
    """A zip must be a workbook (not a Word document) and must not unpack to more than the
    upload limit allows: every part is streamed through the decompressor (whatever sizes the
    archive declares), counting its bytes, and each worksheet's rows and cells, so a "zip
    bomb" is refused before the spreadsheet reader allocates anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            _check_workbook_kind(names, file_name)
            most_bytes = int(float(limit_mb) * UNPACKED_BYTES_PER_MB)
            if sum(info.file_size for info in infos) > most_bytes:
                raise _unpacks_too_far(file_name, sum(info.file_size for info in infos), limit_mb)
            unpacked = 0
            for info in infos:
                scan = _SheetScan(file_name, limit_mb) if _is_sheet(info.filename) else None
                unpacked = _stream_part(archive, info, unpacked, most_bytes, scan, file_name, limit_mb)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        raise UnreadableFile(f"{file_name} looks like a workbook but is damaged ({error}). "
                             "Export the report again.") from error


def _check_workbook_kind(names: list[str], file_name: str) -> None:
    if any(n.startswith("word/") for n in names):
        raise UnreadableFile(f"{file_name} is a Word document, not a register export. "
                             "Save the MIS report as CSV or XLSX and upload that.")
    if any(n.startswith("ppt/") for n in names):
        raise UnreadableFile(f"{file_name} is a PowerPoint file, not a register export.")
    if not any(n.startswith("xl/") or n == "content.xml" for n in names):
        raise UnreadableFile(f"{file_name} is a zip archive, not a register export. "
                             "Unzip it and upload the CSV or XLSX inside.")


def _unpacks_too_far(file_name: str, unpacked: int, limit_mb: float) -> UnreadableFile:
    return UnreadableFile(
        f"{file_name} unpacks to more than {unpacked / 1024 / 1024:,.0f} MB, far more than a register export "
        f"(the most Pastoral unpacks is {float(limit_mb) * UNPACKED_BYTES_PER_MB / 1024 / 1024:,.0f} MB, with the "
        f"{float(limit_mb):g} MB upload limit). Export a shorter date range and upload that.")


def _is_sheet(name: str) -> bool:
    return (name.startswith("xl/worksheets/") and name.endswith(".xml")) or name == "content.xml"


_CHUNK = 1 << 20
_LONGEST_ROW_BYTES = 16 << 20  # more XML than 16,384 columns of long text: not a register row


def _stream_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, unpacked: int, most_bytes: int,
                 scan: _SheetScan | None, file_name: str, limit_mb: float) -> int:
    """Decompress one part a megabyte at a time, never keeping more than that (plus one
    row of a sheet); returns the bytes unpacked so far. The declared size is not trusted:
    the part is read to the end of its compressed data, and the CRC still checked."""
    unbounded = copy.copy(info)
    unbounded.file_size = most_bytes - unpacked + 2 * _CHUNK  # read on until past the limit (checked below)
    is_xml = info.filename.endswith(".xml") or info.filename.endswith(".rels")
    run = 0  # bytes of text since the last '<'
    with archive.open(unbounded) as part:
        while chunk := part.read(_CHUNK):
            unpacked += len(chunk)
            if unpacked > most_bytes:
                raise _unpacks_too_far(file_name, unpacked, limit_mb)
            if is_xml:
                run = _text_run(chunk, run, file_name)
            if scan is not None:
                scan.feed(chunk)
    if scan is not None:
        scan.finish()
    return unpacked


def _text_run(chunk: bytes, run: int, file_name: str) -> int:
    """Refuse XML with a text longer than any cell may hold; the run carried to the next chunk.
    Within the chunk, a run that long must cover one of the half-length windows checked."""
    first = chunk.find(b"<")
    longest = run + (len(chunk) if first < 0 else first)
    half = LONGEST_CELL_BYTES // 2
    for start in range(max(first, 0), len(chunk) - half, half):
        if longest > LONGEST_CELL_BYTES:
            break
        if chunk.find(b"<", start, start + half) < 0:
            end = chunk.find(b"<", start + half)
            longest = max(longest, (len(chunk) if end < 0 else end) - chunk.rfind(b"<", 0, start) - 1)
    if longest > LONGEST_CELL_BYTES:
        raise UnreadableFile(f"{file_name} holds a cell with more text than a spreadsheet cell can hold "
                             "(32,767 characters). Export the report again and upload that.")
    return longest if first < 0 else len(chunk) - chunk.rfind(b"<") - 1


_NAME = rb"<(?:[A-Za-z_][\w.-]*:)?"
_ROW_START = re.compile(_NAME + rb"(?:row|table-row)(?=[\s/>])")
_ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:row|table-row)>|" + _NAME + rb"(?:row|table-row)\b[^>]*/>")
_ROW_REF = re.compile(_NAME + rb"row\s[^>]*?\br\s*=\s*[\"'](\d{1,10})")
_CELL = re.compile(_NAME + rb"(?:c|table-cell|covered-table-cell)(?=[\s/>])")
_CELL_REF = re.compile(_NAME + rb"c\s[^>]*?\br\s*=\s*[\"']\$?([A-Za-z]{1,4})\$?(\d{1,10})")
_REPEATED = re.compile(rb"number-(rows|columns)-repeated\s*=\s*[\"'](\d{1,10})")


_WHITESPACE = b" \t\n\r\f\v"  # what \s matches in a bytes pattern
_CELL_NAMES, _ROW_NAMES = (b"c", b"table-cell", b"covered-table-cell"), (b"row", b"table-row")
_SELF_CLOSED_ROW = re.compile(rb"<(?:row|table-row)\b[^>]*/>")  # _ROW_END's other half, unprefixed


def _tags(data: bytes, names: tuple[bytes, ...]) -> int:
    """How many tags named one of `names` `data` holds, where no tag has a namespace
    prefix (no ':' in it): the count _CELL or _ROW_START finds, by byte searches. A tag is
    its name after '<' and before whitespace, '/' or '>'."""
    found = 0
    for name in names:
        start = b"<" + name
        named = data.count(start)  # and longer names beginning with it (<cols>)
        if named:
            usual = data.count(start + b">") + data.count(start + b" ")
            found += usual if usual == named else usual + sum(data.count(start + bytes([after]))
                                                             for after in b"\t\n\r\f\v/")
    return found


def _spaced(data: bytes, name: bytes) -> bool:
    """Whether an unprefixed `name` tag with attributes (where a reference can be) is there."""
    return any(b"<" + name + bytes([space]) in data for space in _WHITESPACE)


class _SheetScan:
    """How far a worksheet's cells reach, from its XML as it streams past: the spreadsheet
    reader makes a grid from the first to the last cell, so a sheet with a cell in A1 and
    another in XFD1048576 is 17 billion cells however small the file. Cells placed by
    reference (r="AB12") reach that cell; cells without one follow the previous, so the grid
    is bounded by the furthest reference plus the most cells any row holds, and likewise
    for rows. OpenDocument's repeated rows and cells count as many times as repeated."""

    def __init__(self, file_name: str, limit_mb: float):
        self.file_name, self.limit_mb, self.most = file_name, limit_mb, most_cells(limit_mb)
        self.pending = b""
        self.cells = self.furthest_row = self.furthest_column = self.unplaced_rows = self.widest_row = 0
        self.unplaced_cells = False
        self.row_position = 0  # OpenDocument rows so far, repeats included

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk
        end = data.rfind(b"</row>") + 6
        if end == 5:  # no plain end of row: a namespace prefix, or OpenDocument
            last = None
            for last in _ROW_END.finditer(data, max(0, len(self.pending) - 64)):
                pass
            end = last.end() if last else 0
        if end == 0:
            if len(data) > _LONGEST_ROW_BYTES:
                raise UnreadableFile(f"{self.file_name} has a row far longer than a register export's. "
                                     "Export the report again and upload that.")
            self.pending = data
            return
        self.pending = data[end:]
        self._rows(data[:end])

    def finish(self) -> None:
        if self.pending:
            self._rows(self.pending)
            self.pending = b""

    def _rows(self, rows: bytes) -> None:
        # Without a ':' no tag has a namespace prefix: tags are counted by byte searches
        # (many times faster than the patterns, giving the same counts), a reference is looked
        # for only where a tag that could hold one is there, and rows end at '</row>' unless
        # one closes itself.
        plain = b":" not in rows
        placed = _CELL_REF.findall(rows) if not plain or _spaced(rows, b"c") else []
        if b"table-row" in rows:  # OpenDocument: each row on its own, its cells and itself repeated
            self._repeated_rows(rows)
        else:
            def cells_in(part: bytes) -> int:
                return _tags(part, _CELL_NAMES) if plain else len(_CELL.findall(part))

            cells = cells_in(rows)
            row_starts = _tags(rows, _ROW_NAMES) if plain else len(_ROW_START.findall(rows))
            row_refs = _ROW_REF.findall(rows) if not plain or _spaced(rows, b"row") else []
            self.unplaced_rows += row_starts - len(row_refs)
            if row_refs:
                self.furthest_row = max(self.furthest_row, max(map(int, row_refs)))
            self.cells += cells
            if cells > len(placed):
                self.unplaced_cells = True
                each = (rows.split(b"</row>") if plain and not _SELF_CLOSED_ROW.search(rows)
                        else _ROW_END.split(rows))
                self.widest_row = max(self.widest_row, max(cells_in(r) for r in each))
        if placed:
            letters, numbers = zip(*placed)
            self.furthest_row = max(self.furthest_row, max(map(int, numbers)))
            self.furthest_column = max(self.furthest_column, max(map(_column_number, set(letters))))
        self._check()

    def _repeated_rows(self, rows: bytes) -> None:
        """OpenDocument rows: a row or cell may stand for many; empty ones (self-closing)
        reach only as far as a filled one after them."""
        for row in _ROW_END.split(rows):
            start = _ROW_START.search(row)
            if not start:
                continue
            head = row[start.start():row.find(b">", start.start()) + 1]
            repeated = _REPEATED.search(head)
            times = int(repeated[2]) if repeated and repeated[1] == b"rows" else 1
            position = width = 0
            cells = _CELL.split(row[start.end():])
            for cell in cells[1:]:
                tag = cell[:cell.find(b">") + 1]
                repeated = _REPEATED.search(tag)
                position += int(repeated[2]) if repeated and repeated[1] == b"columns" else 1
                if not tag.endswith(b"/>"):
                    width = position
            self.row_position += times
            if width:
                self.furthest_row = max(self.furthest_row, self.row_position)
                self.furthest_column = max(self.furthest_column, width)
                self.cells += times * width
            if self.cells > self.most:
                break

    def _check(self) -> None:
        rows = self.furthest_row + self.unplaced_rows
        columns = self.furthest_column + (self.widest_row if self.unplaced_cells else 0)
        if self.cells > self.most or rows * columns > self.most:
            raise _too_many_cells(self.file_name, rows, max(columns, 1), self.limit_mb)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


# Cell texts that mean "no value" in a workbook (those pandas' read_excel reads as missing).
EMPTY_CELL_TEXTS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
})


ROWS_AT_A_TIME = 50_000  # a workbook's rows become text columns this many at a time


def _read_workbook(content: bytes, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> pd.DataFrame:
    """The first sheet's cells as text, read by python-calamine and turned into columns a
    block of rows at a time (so the whole sheet never exists as Python objects at once)."""
    try:
        sheet = python_calamine.load_workbook(io.BytesIO(content)).get_sheet_by_index(0)
        height = (sheet.end[0] + 1) if sheet.end else 0  # from row 1 and column A, as the spreadsheet numbers them
        width = (sheet.end[1] + 1) if sheet.end else 0
        if height * width > most_cells(limit_mb):  # an old .xls is not unpacked, so checked here
            raise _too_many_cells(file_name, height, width, limit_mb)
        left = sheet.start[1] if sheet.start else 0  # iter_rows leaves out the empty columns on the left
        blocks, block, seen = [], [], 0
        for row in sheet.iter_rows():
            block.append(row)
            if len(block) == ROWS_AT_A_TIME:
                blocks.append(_block_columns(block, left, width))
                seen, block = seen + len(block), []
        seen += len(block)
        blocks.append(_block_columns(block, left, width))
        del sheet
    except UnreadableFile:
        raise
    except Exception as error:  # calamine raises its own error types for every kind of damage
        raise UnreadableFile(f"{file_name} could not be read as a spreadsheet ({type(error).__name__}: {error}). "
                             "Open it in Excel, save it as XLSX or CSV, and upload that.") from error
    if seen < height:  # empty rows above the data, when the reader leaves them out
        blocks.insert(0, _block_columns([[]] * (height - seen), 0, width))
    cells = pd.DataFrame({i: pd.concat([b[i] for b in blocks], ignore_index=True) for i in range(width)})
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    return cells


def _block_columns(rows: list, left: int, width: int) -> list[pd.Series]:
    """Rows of cells (each starting `left` columns in) as `width` text columns."""
    padded = [[""] * left + list(row) + [""] * (width - left - len(row)) for row in rows]
    if not padded:
        return [pd.Series([], dtype="string") for _ in range(width)]
    return [_column_text(column) for column in zip(*padded)]


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


# --- memory ------------------------------------------------------------------------


def give_back_memory() -> None:
    """Hand the memory a big read used back to the system once it is done with: Python's
    cycles collected, pyarrow's pool and glibc's free lists trimmed (without this a server
    that read one big file keeps its peak for good)."""
    import ctypes
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
