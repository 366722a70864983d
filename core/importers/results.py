"""What reading an export gives: its shape (an id of `shapes.SHAPES`), the marks, pupils
and counts it holds, and the problems found, each pointing at the file's own row and column.

Normalised frames (every shape reads into these):
- `pupils`: one row per pupil the file names — row (the file row first naming them),
  upn, adno, mis_id, surname, forename, dob, gender, year_group, nc_year, form, and for a
  roll the characteristics; `identity` says which of these identify the pupil.
- `marks`: one row per session — row, column (the file's header), pupil (position in
  `pupils`), date, session (0 AM, 1 PM), mark (trimmed, upper case, '' when missing),
  minutes_late.
- `counts`: one row per pupil and date range of a summary report — row, pupil,
  date_from, date_to, possible, attendance, authorised, unauthorised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd

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
class ColumnMapping:
    """How to read a file whose shape or headers were not recognised (or to pin them down).

    `columns` maps a meaning (`upn`, `date`, `mark`… see headers.MEANINGS) to the file's
    header text. `header_rows` are the file's row numbers of the header (two when split);
    None finds them. `week_start` gives a weekday grid or marks strings their week when the
    file does not; `date_from`/`date_to` give summary counts their dates; `session_names`
    maps a school's register names to AM or PM ({"Reg 1": "AM", "Reg 2": "PM"}).
    """

    shape: str
    columns: dict[str, str] = field(default_factory=dict)
    header_rows: tuple[int, ...] | None = None
    week_start: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    session_names: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        data["header_rows"] = list(self.header_rows) if self.header_rows else None
        for name in ("week_start", "date_from", "date_to"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ColumnMapping":
        def day(name):
            value = data.get(name)
            return date.fromisoformat(value) if isinstance(value, str) and value else value or None

        rows = data.get("header_rows")
        return cls(
            shape=data["shape"],
            columns=dict(data.get("columns") or {}),
            header_rows=tuple(int(r) for r in rows) if rows else None,
            week_start=day("week_start"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            session_names=dict(data.get("session_names") or {}),
        )


@dataclass
class Detection:
    """What `detect` makes of a file, for the upload screen to show and the user to correct.

    `mapping` is the proposed ColumnMapping (None when not even a header was found);
    `columns` the header texts found; `missing` the meanings the best-fitting shape still
    needs, by their usual header names; `message` says it in words.
    """

    shape: str | None
    mapping: ColumnMapping | None
    header_row: int | None
    columns: list[str]
    missing: list[str]
    message: str = ""
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ReadResult:
    shape: str | None
    rows: int = 0
    marks: pd.DataFrame | None = None
    pupils: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    data_as_at: date | None = None  # the day the report was run, when its title says
    roll_fields: tuple[str, ...] = ()  # for a roll: the pupil fields the file holds
    identity: tuple[str, ...] = ()  # which pupil fields identify pupils (upn, adno, name, dob)
    identity_columns: dict[str, str] = field(default_factory=dict)  # those fields → the file's header

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def add(self, row: int | None, column: str | None, message: str, severity: str = "error") -> None:
        """One problem. Always recorded: an error past the listing limit must still reject."""
        self.problems.append(Problem(row, column, message, severity))

    def add_rows(self, rows, column, message: str, severity: str = "error") -> None:
        """One problem per row number, up to the listing limit, then a count of the rest.

        `column` is one header for every row, or a Series of headers (one per row)."""
        rows = pd.Series(rows)
        if rows.empty:
            return
        columns = column if isinstance(column, pd.Series) else pd.Series(column, index=rows.index)
        listed = self._room()
        for row, name in zip(rows.iloc[:listed], columns.iloc[:listed]):
            self.problems.append(Problem(int(row), None if pd.isna(name) else str(name), message, severity))
        if len(rows) > listed:
            row, name = rows.iloc[listed], columns.iloc[listed]
            self.problems.append(Problem(int(row), None if pd.isna(name) else str(name),
                                         f"{message} (and {len(rows) - listed - 1} more like this)", severity))

    def _room(self) -> int:
        return max(0, MAX_LISTED_PROBLEMS - len(self.problems))
