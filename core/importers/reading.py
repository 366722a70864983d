"""Turn an export file into normalised marks, pupils or counts, collecting every problem.

`detect` says what a file looks like (its shape, header row, the columns found and
missing, and a proposed column mapping); `read_with_mapping` reads it the way a mapping
says; `read_export` detects and reads in one step. Nothing here touches the store: the
results carry the file's own row numbers (as a spreadsheet shows them) and column
headers, so problems point at the cell the user can open and fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.importers import detection, headers, mis_formats, shapes, values
from core.importers.headers import Header, TitleFacts, find_header, find_named_header, header_at, title_facts
from core.importers.results import ColumnMapping, Detection, Problem, ReadResult
from core.importers.sheets import DEFAULT_LIMIT_MB, Sheet, UnreadableFile, open_sheet

__all__ = ["ColumnMapping", "Detection", "Problem", "ReadResult", "detect", "open_file", "read_export",
           "read_with_mapping"]


def read_export(content: bytes | Sheet, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> ReadResult:
    """Detect the file's shape and read it. Problems are collected, never raised."""
    return read_with_mapping(content, file_name, None, limit_mb)


def open_file(content: bytes | Sheet, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> Sheet:
    """The one read of a file's bytes (raises UnreadableFile): `detect` and
    `read_with_mapping` take the Sheet it returns, so a file is parsed once however many
    times it is looked at. `limit_mb` is the school's upload limit (sheets.CELLS_PER_MB)."""
    if isinstance(content, Sheet):
        return content
    name = Path(file_name).name
    # An XML or JSON export is read by mis_formats (its layout in `kind`), else a CSV or workbook.
    return mis_formats.open_structured(content, name) or open_sheet(content, name, limit_mb)


def detect(content: bytes | Sheet, file_name: str, limit_mb: float = DEFAULT_LIMIT_MB) -> Detection:
    """What the file looks like, and a proposed mapping the upload screen can show and correct."""
    name = Path(file_name).name
    try:
        sheet = open_file(content, name, limit_mb)
    except UnreadableFile as error:
        return Detection(None, None, None, [], [], str(error), [Problem(getattr(error, "row", None), None, str(error))])
    header = _header(sheet, None)
    if header is None:
        message = _no_data_message(name)
        return Detection(None, None, None, [], [], message, [Problem(None, None, message)])
    title = title_facts(header.title)
    shape, closest, missing = detection.choose_shape(header, title)
    proposed = _proposed_mapping((shape or closest).id, header, title)
    if shape is not None:
        message = f"{name} looks like a {shape.described_as}."
        return Detection(shape.id, proposed, header.rows[0], header.found(), [], message)
    message = _unknown_shape_message(name, header, closest, missing, sheet.kind)
    return Detection(None, proposed, header.rows[0], header.found(), missing, message,
                     [Problem(header.rows[0], None, message)])


def read_with_mapping(content: bytes | Sheet, file_name: str, mapping: ColumnMapping | dict | None,
                      limit_mb: float = DEFAULT_LIMIT_MB) -> ReadResult:
    """Read the file as `mapping` says (a ColumnMapping, its JSON form, or None to detect)."""
    name = Path(file_name).name
    if isinstance(mapping, dict):
        mapping = ColumnMapping.from_json(mapping)
    try:
        sheet = open_file(content, name, limit_mb)
    except UnreadableFile as error:
        return ReadResult(None, problems=[Problem(getattr(error, "row", None), None, str(error))])
    header = _header(sheet, mapping)
    if header is None:
        return ReadResult(None, problems=[Problem(None, None, _no_data_message(name))])
    result = ReadResult(mapping.shape if mapping else None)
    if mapping is not None and not _apply_mapping(header, mapping, result):
        return result
    title = title_facts(header.title)
    shape = _shape(name, header, title, mapping, result, sheet.kind)
    if shape is None:
        return result
    result.shape = shape
    result.data_as_at = title.run_on
    _read_body(sheet, header, title, mapping, result)
    return result


# --- steps -------------------------------------------------------------------------


def _header(sheet: Sheet, mapping: ColumnMapping | None) -> Header | None:
    cells = sheet.cells
    if cells.empty:
        return None
    if sheet.kind in mis_formats.KINDS:  # row 0 holds the elements' names, as mis_formats lays them out
        header = header_at(cells, (0,))
        header.source = sheet.kind
        return header
    if mapping is not None and mapping.header_rows:
        rows = tuple(r for r in mapping.header_rows if r in cells.index)
        if rows:
            return header_at(cells, rows)
    if mapping is not None and mapping.columns:
        named = find_named_header(cells, list(mapping.columns.values()))
        if named is not None:
            return named
    header = find_header(cells)
    if header is not None:
        header.guessed = detection.guess_columns(cells, header)
    return header


def _apply_mapping(header: Header, mapping: ColumnMapping, result: ReadResult) -> bool:
    """Point each mapped meaning at the column the user chose; False (with problems) when a
    mapped column is not in the file or the shape is not one we read."""
    if mapping.shape not in shapes.SHAPES:
        result.add(None, None, f"'{mapping.shape}' is not a shape Pastoral reads; choose one of: "
                   f"{', '.join(shapes.SHAPES)}.")
        return False
    for meaning, column in mapping.columns.items():
        if meaning not in headers.MEANINGS:
            result.add(header.rows[0], column, f"'{meaning}' is not a column meaning Pastoral knows.")
            continue
        position = _find_column(header, column)
        if position is None:
            result.add(header.rows[0], column, f"The column '{column}' (mapped to {headers.LABELS[meaning]}) is not "
                       f"in the file. Columns found: {', '.join(header.found()) or 'none'}.")
            continue
        header.sessions.pop(position, None)
        header.meanings = {m: p for m, p in header.meanings.items() if p != position}
        header.meanings[meaning] = position
    return not result.errors


def _find_column(header: Header, column: str) -> int | None:
    for same in (lambda a, b: a == b, lambda a, b: a.strip().lower() == b.strip().lower(),
                 lambda a, b: headers.header_key(a) == headers.header_key(b) and headers.header_key(a) != ""):
        for position, name in header.names.items():
            if same(str(name), str(column)):
                return position
    return None


def _shape(name: str, header: Header, title: TitleFacts, mapping: ColumnMapping | None, result: ReadResult,
           kind: str = "csv") -> str | None:
    if mapping is not None:
        missing = detection.unmet(shapes.SHAPES[mapping.shape], header, title, mapping, ignore=("no_marks",))
        if missing:
            result.add(header.rows[0], None, f"Read as a {shapes.SHAPES[mapping.shape].described_as}, the file still "
                       f"needs: {'; '.join(missing)}. Columns found: {', '.join(header.found()) or 'none'}.")
            return None
        return mapping.shape
    shape, closest, missing = detection.choose_shape(header, title)
    if shape is None:
        result.add(header.rows[0], None, _unknown_shape_message(name, header, closest, missing, kind))
        return None
    return shape.id


def _read_body(sheet: Sheet, header: Header, title: TitleFacts, mapping: ColumnMapping | None, result: ReadResult) -> None:
    data = shapes.data_rows(sheet.cells, header)
    if shapes.SHAPES[result.shape].skips_unmarked_rows:
        data = _pupil_rows(data, header)
    result.rows = len(data)
    if data.empty:
        result.add(header.last_row, None, "The file has a header but no rows of data under it. "
                   "Check the report's date range and filters, export it again and upload that.")
        return
    if sheet.kind == "csv":
        _check_overflow(data, header, result)
    body = shapes.Body(data, header, title, mapping)
    shapes.SHAPES[result.shape].reader(body, result)
    if result.marks is not None and result.pupils is not None:
        upns = np.append(result.pupils["upn"].to_numpy(dtype=object), "")  # position -1: no pupil
        result.marks["upn"] = pd.Series(upns[result.marks["pupil"].to_numpy()], index=result.marks.index, dtype=object)


def _check_overflow(data: pd.DataFrame, header: Header, result: ReadResult) -> None:
    """In a CSV, a row with text beyond the last headed column has more cells than the
    header: usually a comma inside a name that was not quoted, which shifts every cell."""
    headed = [p for p, name in header.names.items() if str(name).strip()]
    beyond = [p for p in data.columns if headed and p > max(headed)]
    if not beyond:
        return
    overflow = np.zeros(len(data), dtype=bool)
    for position in beyond:
        codes, text = values.distinct(data[position])
        overflow |= (text != "")[codes]
    result.add_rows(pd.Series(data.index[overflow]), None,
                    "This row has more cells than the header has columns — a comma inside a name or note may need "
                    "quotes. Export the report again as CSV.")


def _pupil_rows(data: pd.DataFrame, header: Header) -> pd.DataFrame:
    """In a grid, rows with no marks that do not name a pupil by UPN are headings
    (a registration group's name) or notes, not pupils."""
    mark_columns = [p for p in header.sessions] + [header.meanings[m] for m in ("week_marks", "mark") if m in header.meanings]
    if data.empty or not mark_columns:
        return data
    has_marks = np.zeros(len(data), dtype=bool)
    for position in mark_columns:
        has_marks |= (data[position].astype("string").fillna("").str.strip() != "").to_numpy()
    named = np.zeros(len(data), dtype=bool)
    for meaning in ("upn", "mis_id", "adno"):
        if meaning in header.meanings:
            text = values.normalise_upns(data[header.meanings[meaning]])
            looks = values.looks_like_upns(text) if meaning != "adno" else text.str.fullmatch(r"\d+").fillna(False)
            named |= looks.to_numpy()
    return data[has_marks | named]


# --- messages ----------------------------------------------------------------------


def _no_data_message(name: str) -> str:
    return f"{name} has no data (its first sheet is empty). Export the register again and upload that file."


def _unknown_shape_message(name: str, header: Header, closest: shapes.Shape, missing: list[str],
                           kind: str = "csv") -> str:
    if kind in mis_formats.KINDS:  # kept short: the elements found and what is missing, never the data
        found = ", ".join(n[:40] for n in header.found()[:8]) or "none"
        return (f"{name} is a {mis_formats.DESCRIBED[kind]} but lacks {'; '.join(missing[:3]) or 'what a register needs'}"
                f" (elements found: {found}). Export the full register and upload that.")
    found = ", ".join(header.found()) or "none"
    recognised = bool(header.meanings or header.sessions or header.guessed)
    guesses = "; ".join(f"'{header.names[p]}' looks like the {headers.LABELS[m]}" for m, p in header.guessed.items())
    closest_text = (f"It looks most like a {closest.described_as}" + (f" ({guesses})" if guesses else "")
                    + (f", which still needs: {'; '.join(missing)}. " if missing else "; confirm its columns. ")
                    if recognised else "")
    return (f"Could not tell what this file is ({name}). Columns found: {found}. {closest_text}"
            f"{detection.WHAT_EACH_NEEDS} On the upload screen you can say which column is which.")


def _proposed_mapping(shape: str, header: Header, title: TitleFacts) -> ColumnMapping:
    dates = shapes.SHAPES[shape].given_dates
    guesses = {meaning: header.names[p] for meaning, p in header.guessed.items() if str(header.names[p]).strip()}
    return ColumnMapping(
        shape=shape,
        columns={**guesses, **{meaning: header.names[position] for meaning, position in header.meanings.items()}},
        header_rows=header.rows,
        week_start=title.week_start if "week_start" in dates and "week_start" not in header.meanings else None,
        date_from=title.date_from if "date_from" in dates else None,
        date_to=title.date_to if "date_to" in dates else None,
    )
