"""Big and hostile exports, built fast by writing a workbook's XML straight into a zip
(no spreadsheet library): a "zip bomb" whose one sheet repeats one cell millions of times
and packs to about a megabyte, a workbook with as many rows as Excel allows, and a full
year's long CSV. Used by the reading tests and by bench/bench_files.py."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import make_upn

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Marks" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_START = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>')
_SHEET_END = "</sheetData></worksheet>"


def _cell(value: str) -> str:
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def _row(values: list[str], number: int | None = None) -> str:
    """A row of text cells; given its number, the row and each cell say where they are
    (r="3", r="B3"), as Excel and most writers do."""
    if number is None:
        return "<row>" + "".join(_cell(v) for v in values) + "</row>"
    return (f'<row r="{number}">' + "".join(f'<c r="{_letters(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                                             for i, v in enumerate(values)) + "</row>")


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _workbook_parts(archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
    archive.writestr("_rels/.rels", _RELS)
    archive.writestr("xl/workbook.xml", _WORKBOOK)
    archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)


def write_workbook(path: Path, rows, dimension: str = "", numbered: bool = True) -> Path:
    """An XLSX whose first sheet holds `rows` (an iterable of lists of text), streamed
    into the zip a chunk at a time; `numbered`: rows and cells carry their references."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _workbook_parts(archive)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.format(dimension=f'<dimension ref="{dimension}"/>' if dimension else "").encode())
            chunk = []
            for number, row in enumerate(rows, start=1):
                chunk.append(_row(row, number if numbered else None))
                if len(chunk) >= 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write(("".join(chunk) + _SHEET_END).encode())
    return path


def zip_bomb(path: Path, rows: int = 2_700, columns: int = 16_384) -> Path:
    """About 1.3 MB on disk: a header, then `rows` rows of `columns` cells (as wide as Excel
    allows) all holding 1, unpacking to some 660 MB of sheet XML (44 million cells) — under
    the old 1 GB unpacked guard. Its dimension claims two cells."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _workbook_parts(archive)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.format(dimension='<dimension ref="A1:B1"/>').encode())
            sheet.write(_row(["upn", "date", "session", "mark"]).encode())
            same = ("<row>" + "<c><v>1</v></c>" * columns + "</row>").encode()
            for _ in range(rows):
                sheet.write(same)
            sheet.write(_SHEET_END.encode())
    return path


def max_rows_workbook(path: Path, rows: int = 1_048_575) -> Path:
    """A long-marks workbook with as many data rows as Excel allows (1,048,575 under the
    header): distinct pupils, dates and sessions, as a large export would hold."""
    days = [day for day in (date(2025, 9, 1) + timedelta(days=d) for d in range(400)) if day.weekday() < 5]
    upns = [make_upn(i) for i in range(1, 3001)]

    def body():
        yield ["upn", "date", "session", "mark"]
        for i in range(rows):
            pupil, slot = divmod(i, 2 * len(days))
            yield [upns[pupil % len(upns)], days[slot // 2].isoformat(), ("AM", "PM")[slot % 2], "/"]

    return write_workbook(path, body())


def year_csv(path: Path, pupils: int = 1500, days: int = 190) -> Path:
    """A normal full year's long-marks CSV: `pupils` pupils, `days` school days, two sessions."""
    start = date(2025, 9, 1)
    school_days = [start + timedelta(days=d) for d in range(400) if (start + timedelta(days=d)).weekday() < 5][:days]
    with open(path, "w", newline="") as out:
        out.write("upn,date,session,mark\n")
        for p in range(1, pupils + 1):
            upn = make_upn(p)
            out.write("".join(f"{upn},{d.isoformat()},{s},/\n" for d in school_days for s in ("AM", "PM")))
    return path


def far_apart(path: Path, row: int = 1_048_576, column: str = "XFD") -> Path:
    """Two cells, in A1 and (by default) XFD1048576: a kilobyte on disk, but the
    spreadsheet reader makes a grid of every cell between them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _workbook_parts(archive)
        archive.writestr("xl/worksheets/sheet1.xml", _SHEET_START.format(dimension="")
                         + f'<row r="1">{_cell("upn").replace("<c ", "<c r=" + chr(34) + "A1" + chr(34) + " ")}</row>'
                         + f'<row r="{row}"><c r="{column}{row}"><v>1</v></c></row>' + _SHEET_END)
    return path


def understate_sizes(path: Path) -> Path:
    """Make the archive claim each part unpacks to 100 bytes (a forged header): the sizes a
    zip declares cannot be trusted."""
    import struct

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        directory = archive.start_dir
    for info in infos:
        struct.pack_into("<I", data, info.header_offset + 22, 100)  # local header: uncompressed size
    position = directory
    while data[position:position + 4] == b"PK\x01\x02":  # central directory entries
        struct.pack_into("<I", data, position + 24, 100)
        name, extra, comment = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name + extra + comment
    path.write_bytes(bytes(data))
    return path
