"""Turn an export file into normalised marks and pupils, collecting every problem.

Nothing here touches the store: `read_export` returns what the file says, with the
file's own row numbers (the header is row 1, as a spreadsheet shows it), so problems
point at the row the user can open and fix.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from core import codes
from core.importers import values

LONG_MARKS = "long_marks"
PUPIL_ROLL = "pupil_roll"

MARKS_COLUMNS = ("upn", "date", "session", "mark")
ROLL_COLUMNS = ("upn", "surname", "forename", "year_group")
ROLL_OPTIONAL = ("adno", "dob", "gender", "form", "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date")

# Most problems listed one by one before the rest are summed up in one line.
MAX_LISTED_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" rejects the file; "warning" is listed and imported

    def as_json(self) -> dict:
        text = self.message if self.severity == "error" else f"Warning: {self.message}"
        return {"row": self.row, "column": self.column, "message": text}


@dataclass
class ReadResult:
    shape: str | None
    rows: int = 0
    marks: pd.DataFrame | None = None
    pupils: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def add_rows(self, rows: pd.Series, column: str | None, message: str, severity: str = "error") -> None:
        """One problem per row number, up to the listing limit, then a count of the rest."""
        rows = list(rows)
        listed = max(0, MAX_LISTED_PROBLEMS - len(self.problems))
        for row in rows[:listed]:
            self.problems.append(Problem(int(row), column, message, severity))
        if len(rows) > listed:
            self.problems.append(
                Problem(int(rows[listed]), column, f"{message} (and {len(rows) - listed - 1} more rows like this)", severity)
            )


def header_key(name: str) -> str:
    """Header compared by meaning: case, spaces and punctuation ignored."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def read_table(content: bytes) -> pd.DataFrame:
    """A CSV as strings, every cell kept as written (nothing turned into NaN or a formula)."""
    text = decode(content)
    if "\x00" in text:
        raise ValueError("binary")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    return pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True,
        engine="python" if sep != "," else "c",
    )


def read_export(content: bytes, file_name: str) -> ReadResult:
    """Detect the file's shape and read it. Problems are collected, never raised."""
    if not content.strip():
        return ReadResult(None, problems=[Problem(None, None, f"{file_name} is empty. Export the register again and upload that file.")])
    try:
        table = read_table(content)
    except (ValueError, pd.errors.ParserError, csv.Error):
        return ReadResult(None, problems=[Problem(None, None,
            f"{file_name} is not a CSV export a register report produces. Save the report as CSV (or XLSX) and upload that.")])
    table.columns = [header_key(c) for c in table.columns]
    columns = set(table.columns)
    if set(MARKS_COLUMNS) <= columns:
        return read_long_marks(table)
    if {header_key(c) for c in ROLL_COLUMNS} <= columns:
        return read_roll(table)
    found = ", ".join(c for c in table.columns if c) or "none"
    return ReadResult(None, problems=[Problem(1, None,
        f"Could not tell what this file is. Columns found: {found}. A marks file needs the columns "
        f"{', '.join(MARKS_COLUMNS)} (and optionally minutes_late); a pupil roll needs "
        f"{', '.join(ROLL_COLUMNS)}.")])


def _file_rows(table: pd.DataFrame) -> pd.Series:
    return pd.Series(range(2, len(table) + 2), index=table.index)


def read_long_marks(table: pd.DataFrame) -> ReadResult:
    """One row per pupil per session: upn, date, session, mark[, minutes_late]."""
    result = ReadResult(LONG_MARKS, rows=len(table))
    rows = _file_rows(table)
    blank = (table[list(MARKS_COLUMNS)].apply(lambda c: c.str.strip()) == "").all(axis=1)
    table, rows = table[~blank], rows[~blank]

    upn = values.normalise_upns(table["upn"])
    result.add_rows(rows[upn == ""], "upn", "The UPN is empty.")

    dates = values.parse_dates(table["date"])
    result.add_rows(rows[dates.isna()], "date", "The date is not a date (use dd/mm/yyyy or yyyy-mm-dd).")

    sessions = values.parse_sessions(table["session"])
    result.add_rows(rows[sessions.isna()], "session", "The session must be AM or PM.")

    minutes = pd.Series(pd.NA, index=table.index, dtype="Int64")
    if "minuteslate" in table.columns:
        raw = table["minuteslate"].str.strip()
        minutes = pd.to_numeric(raw.where(raw != ""), errors="coerce").astype("Float64")
        bad = (raw != "") & (minutes.isna() | (minutes < 0) | (minutes % 1 != 0))
        result.add_rows(rows[bad.fillna(True)], "minutes_late", "Minutes late must be a whole number of minutes.")
        minutes = minutes.where(~bad.fillna(True)).round().astype("Int64")

    result.marks = pd.DataFrame({
        "row": rows,
        "upn": upn,
        "date": dates,
        "session": sessions,
        "mark": codes.normalise_marks(table["mark"]),
        "minutes_late": minutes,
    })
    readable = result.marks.dropna(subset=["date", "session"])
    report_duplicates(result, readable, ["upn", "date", "session"], "session",
                      "Pupil {upn} has two marks for the {session} session on {date} (first on row {first}).")
    return result


def read_roll(table: pd.DataFrame) -> ReadResult:
    """One row per pupil: identifiers and characteristics."""
    result = ReadResult(PUPIL_ROLL, rows=len(table))
    rows = _file_rows(table)
    blank = (table.apply(lambda c: c.str.strip()) == "").all(axis=1)
    table, rows = table[~blank], rows[~blank]

    def column(name: str) -> pd.Series:
        if name in table.columns:
            return table[name].astype("string").fillna("").str.strip()
        return pd.Series("", index=table.index, dtype="string")

    upn = values.normalise_upns(table["upn"])
    result.add_rows(rows[upn == ""], "upn", "The UPN is empty.")
    invalid = (upn != "") & ~values.valid_upns(upn)
    result.add_rows(rows[invalid], "upn",
        "The UPN's check letter or form is not valid; imported as it is — correct it in the MIS.", "warning")

    year_group = values.parse_year_groups(column("yeargroup"))
    result.add_rows(rows[year_group.isna()], "year_group",
        "The year group is not one we know (use e.g. 7, Year 7, R, Reception, N1, 12).")

    frame = {"row": rows, "upn": upn, "adno": column("adno"), "surname": column("surname"),
             "forename": column("forename"), "gender": column("gender").str.upper().str.slice(0, 1),
             "year_group": year_group, "nc_year": year_group.map(values.NC_YEAR).astype("Int64"),
             "form": column("form")}

    for name in ("dob", "entry_date", "leave_date"):
        raw = column(name.replace("_", ""))
        parsed = values.parse_dates(raw)
        result.add_rows(rows[(raw != "") & parsed.isna()], name, "The date is not a date (use dd/mm/yyyy or yyyy-mm-dd).")
        frame[name] = parsed.dt.strftime("%Y-%m-%d").astype("string")

    for name in ("pp", "fsm", "eal", "cla"):
        flags = values.parse_flags(column(name))
        result.add_rows(rows[flags.isna()], name, "Use Y or N (or Yes/No, True/False, 1/0).")
        frame[name] = flags.fillna(0)

    sen = values.parse_sen(column("sen"))
    result.add_rows(rows[sen.isna()], "sen", "SEN status must be N, K (SEN support) or E (EHC plan).")
    frame["sen"] = sen.fillna("N")

    result.pupils = pd.DataFrame(frame)
    report_duplicates(result, result.pupils[upn != ""], ["upn"], "upn",
                      "UPN {upn} appears more than once (first on row {first}); each pupil must be on one row.")
    return result


def report_duplicates(result: ReadResult, frame: pd.DataFrame, keys: list[str], column: str, message: str) -> None:
    """An error on every repeat of a key, naming the row where it first appeared."""
    repeats = frame.duplicated(keys, keep="first")
    if not repeats.any():
        return
    first = frame.groupby(keys, sort=False, dropna=False)["row"].transform("first")
    listed = max(0, MAX_LISTED_PROBLEMS - len(result.problems))
    shown = frame[repeats].head(listed)
    for index, record in shown.iterrows():
        fields = {k: _show(record[k]) for k in keys}
        result.problems.append(Problem(int(record["row"]), column, message.format(first=int(first[index]), **fields)))
    hidden = int(repeats.sum()) - len(shown)
    if hidden:
        result.problems.append(Problem(None, column, f"… and {hidden} more repeated rows."))


def _show(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (int,)) or hasattr(value, "item"):
        return {0: "AM", 1: "PM"}.get(int(value), str(value))
    return str(value)
