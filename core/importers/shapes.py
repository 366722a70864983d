"""The shapes of export Pastoral reads — one row each in `SHAPES`, at the end of this
module — and the reader that turns each into the normalised frames of `results`.

A shape's row says everything about it once: its id (the `shape` of the import JSON),
the name the upload screen shows, how detection recognises it, the columns the upload
screen offers to map, its reader, and what importing it stores. Detection, reading,
importing and the upload screen all read that table, so a new shape is one row plus
its reader.

Every reader gets the same `Body`: the data rows under the header (title, blank, totals
and key rows already set aside), what each column means, and what the title rows say.
It reads the pupils the rows name, then the shape's own columns, collecting every
problem with the file's row and column. Nothing here touches the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import characteristics, codes
from core.calendar import academic_year, academic_year_label
from core.importers import values
from core.importers.headers import LABELS, Header, TitleFacts
from core.importers.pupils import read_roll_details
from core.importers.results import ColumnMapping, ReadResult

NOT_A_DATE = "The date '{}' is not a date; use dd/mm/yyyy or yyyy-mm-dd."
US_DATE = "The date '{}' is in month/day order; exports must give day/month/year — set the report's date format to UK."

# Rows below the data that are not pupils: totals, counts, run dates. A key ("Key:",
# "Legend") ends the data: every row after it explains codes.
_FOOTER = re.compile(r"^\s*(grand\s+total|sub-?totals?|totals?|count|average|mean|percentages?|number\s+of|no\.\s+of|"
                     r"report\s+(run|printed|produced|generated)|printed\s+(on|by)|generated|page\s+\d+|end\s+of\s+report)"
                     r"\b(?!\s*,)", re.I)
_KEY = re.compile(r"^\s*(key|legend|codes?\s+key)\s*(:|=|-|$)", re.I)
_FORMULA = re.compile(r"^\s*[=+@]\s*[A-Za-z_]+\s*\(")

MARK_FIELDS = ["row", "column", "pupil", "date", "session", "mark", "minutes_late"]
PUPIL_FIELDS = ["row", "upn", "adno", "mis_id", "surname", "forename", "dob", "gender", "year_group", "nc_year", "form"]
IDENTITY_MEANINGS = ("upn", "adno", "mis_id", "surname", "forename", "name", "dob")


@dataclass
class Body:
    """The data rows of an export and what its columns mean."""

    cells: pd.DataFrame  # text cells of the data rows; index = the file's row numbers
    header: Header
    title: TitleFacts
    mapping: ColumnMapping | None = None
    _distinct: dict = field(default_factory=dict, repr=False, compare=False)

    def has(self, meaning: str) -> bool:
        return meaning in self.header.meanings

    def distinct(self, meaning: str) -> tuple[np.ndarray, np.ndarray]:
        """(each row's position among the column's distinct values, those values trimmed);
        a column the file lacks is one distinct value, ''. Worked out once per column."""
        if meaning not in self.header.meanings:
            return np.zeros(len(self.cells), dtype=np.intp), np.array([""], dtype=object)
        if meaning not in self._distinct:
            self._distinct[meaning] = values.distinct(self.cells[self.header.meanings[meaning]])
        return self._distinct[meaning]

    def text(self, meaning: str) -> pd.Series:
        """The column with that meaning, trimmed ('' everywhere when the file has none)."""
        codes_, text = self.distinct(meaning)
        return pd.Series(text[codes_], index=self.cells.index, dtype="string")

    def name(self, meaning: str) -> str:
        """The header the file gives that meaning, for problems to name."""
        if meaning in self.header.meanings:
            return self.header.column_name(meaning) or LABELS.get(meaning, meaning)
        return LABELS.get(meaning, meaning)

    @property
    def rows(self) -> pd.Series:
        return pd.Series(self.cells.index, index=self.cells.index)


# --- the data rows -----------------------------------------------------------------


def data_rows(cells: pd.DataFrame, header: Header) -> pd.DataFrame:
    """The rows under the header that can hold pupils: blank rows, totals and counts
    dropped, and everything from a key row down. Footers and keys are read from the
    first cell with text in each row."""
    data = cells.loc[header.last_row + 1:]
    if data.empty:
        return data
    filled = np.zeros(len(data), dtype=bool)
    key = np.zeros(len(data), dtype=bool)
    footer = np.zeros(len(data), dtype=bool)
    for position in data.columns:
        codes_, text = values.distinct(data[position])
        has_text = (text != "")[codes_]
        take = has_text & ~filled
        if take.any():  # this column holds the row's first text: match only the values that lead a row
            leads = np.zeros(len(text), dtype=bool)
            leads[codes_[take]] = True
            lead = pd.Series(text[leads], dtype=object)
            for flags, pattern in ((key, _KEY), (footer, _FOOTER)):
                matched = np.zeros(len(text), dtype=bool)
                matched[leads] = lead.str.match(pattern).to_numpy(dtype=bool)
                flags[take] = matched[codes_[take]]
        filled |= has_text
    keep = filled & ~footer
    if key.any():
        keep[np.argmax(key):] = False
    return data[keep]


# --- pupils ------------------------------------------------------------------------


def read_pupils(body: Body, result: ReadResult) -> pd.Series:
    """Fill `result.pupils` with the pupils the rows name; return each row's pupil position.

    A row names its pupil by UPN, else by admission number, else by name and date of
    birth (whichever the file gives on that row); rows naming a pupil the same way share
    one position. The pupils' details are read from the first row naming each.
    """
    rows = body.rows
    n = len(rows)
    upn_meaning = "upn"
    if not body.has("upn") and body.has("mis_id"):
        codes_, text = body.distinct("mis_id")
        named = values.normalise_upns(pd.Series(text))
        if values.looks_like_upns(named[named != ""]).mean() >= 0.9:  # an MIS id column holding UPNs
            upn_meaning = "upn_in_mis_id"
    has = {"upn": upn_meaning == "upn_in_mis_id" or body.has("upn"), "adno": body.has("adno"),
           "mis_id": body.has("mis_id") and upn_meaning == "upn",
           "name": body.has("surname") or body.has("forename") or body.has("name"), "dob": body.has("dob")}
    if upn_meaning == "upn_in_mis_id":
        upn_meaning = "mis_id"
    result.identity = tuple(k for k, present in has.items() if present)
    result.identity_columns = {"upn": body.name(upn_meaning), "adno": body.name("adno"), "dob": body.name("dob"),
                               "mis_id": body.name("mis_id"),
                               "name": body.name("surname") if body.has("surname") else body.name("name")}
    if not (has["upn"] or has["adno"] or has["mis_id"] or (has["name"] and has["dob"])):
        result.add(body.header.last_row, None, "The file has no column naming the pupil: it needs a UPN, an admission "
                   "number, the MIS's pupil id, or names and dates of birth.")
        result.pupils = pd.DataFrame(columns=PUPIL_FIELDS)
        return pd.Series(-1, index=rows.index, dtype="int64")

    dob = values.parse_dates(body.text("dob")) if has["dob"] else pd.Series(pd.NaT, index=rows.index)
    if has["mis_id"] and not (has["upn"] or has["adno"] or (has["name"] and has["dob"])):
        # Every row names its pupil by the MIS's id (SIMS XML, Wonde JSON): positions from the distinct ids.
        upn = np.full(n, "", dtype=object)
        codes_, text = body.distinct("mis_id")
        keys = values.mis_id_key(pd.Series(text, dtype=object)).to_numpy(dtype=object)
        position = pd.Series(pd.factorize(np.where(keys != "", keys, None))[0][codes_], index=rows.index, dtype="int64")
        blank = (position < 0).to_numpy()
    else:
        if has["upn"]:
            codes_, text = body.distinct(upn_meaning)
            distinct_upns = values.normalise_upns(pd.Series(text, dtype=object)).to_numpy(dtype=object)
            upn = distinct_upns[codes_]
        else:
            upn = np.full(n, "", dtype=object)
        key = upn.copy()
        need = key == ""
        if has["adno"] and need.any():
            adno_key = values.by_distinct(body.text("adno")[need], values.admission_number_key)
            key[need] = np.where(adno_key != "", "adno:" + adno_key, "")
            need = key == ""
        if has["mis_id"] and need.any():
            mis_key = values.by_distinct(body.text("mis_id")[need], values.mis_id_key)
            key[need] = np.where(mis_key != "", "mis:" + mis_key, "")
            need = key == ""
        if has["name"] and has["dob"] and need.any():
            names = _name_keys(*_names(body, need))
            dob_text = dob[need].dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
            key[need] = np.where((names != "") & (dob_text != ""), "name:" + names + "|" + dob_text, "")
        blank = key == ""
        if has["upn"] and not blank.any() and (upn != "").all():
            # Every row names its pupil by UPN: positions from the distinct UPNs, in order of first appearance.
            position = pd.Series(pd.factorize(distinct_upns)[0][codes_], index=rows.index, dtype="int64")
        else:
            key[blank] = None  # no position: factorize gives -1, and the pupils' positions stay 0, 1, 2…
            position = pd.Series(pd.factorize(key)[0], index=rows.index, dtype="int64")
    result.add_rows(rows[blank], body.name(upn_meaning if has["upn"] else "adno" if has["adno"] else
                                           "mis_id" if has["mis_id"] else "name"),
                    "This row names no pupil: it needs a UPN, an admission number, the MIS's pupil id, or a name "
                    "and date of birth.")

    first = (position >= 0).to_numpy() & ~position.duplicated().to_numpy()
    order = np.flatnonzero(first)[np.argsort(position.to_numpy()[first], kind="stable")]
    pupils = _pupil_details(body, order, upn, dob, upn_meaning)
    result.pupils = pupils
    _pupil_warnings(body, result, pupils, dob, upn_meaning)
    return position


def _names(body: Body, where: np.ndarray | None = None) -> tuple[pd.Series, pd.Series]:
    """(surname, forename) of the rows `where` selects (all rows when None)."""
    def column(meaning):
        text = body.text(meaning)
        return text if where is None else text[where]
    if body.has("surname") or body.has("forename"):
        return column("surname"), column("forename")
    return values.split_full_names(column("name"))


def _pupil_details(body: Body, order: np.ndarray, upn: np.ndarray, dob: pd.Series, upn_meaning: str) -> pd.DataFrame:
    """What the file says about each pupil, from the first row naming them."""
    first = body.cells.iloc[order]
    sub = Body(first, body.header, body.title, body.mapping)
    surname, forename = _names(sub)
    year_group = values.parse_year_groups(sub.text("year_group")) if sub.has("year_group") else \
        pd.Series(pd.NA, index=first.index, dtype="string")
    return pd.DataFrame({
        "row": first.index.to_numpy(dtype=np.int64),
        "upn": upn[order],
        "adno": sub.text("adno").to_numpy(dtype=object),
        # The MIS's own id, unless its column holds the UPNs.
        "mis_id": values.mis_id_key(sub.text("mis_id") if upn_meaning != "mis_id" else sub.text("upn_only"))
        .to_numpy(dtype=object),
        "surname": surname.to_numpy(dtype=object),
        "forename": forename.to_numpy(dtype=object),
        "dob": dob.iloc[order].dt.strftime("%Y-%m-%d").astype("string").to_numpy(),
        "gender": sub.text("gender").str.upper().str.slice(0, 1).to_numpy(dtype=object),
        "year_group": year_group.fillna("").to_numpy(dtype=object),
        "nc_year": year_group.map(values.NC_YEAR).astype("Int64").to_numpy(),
        "form": sub.text("form").to_numpy(dtype=object),
    })


def _pupil_warnings(body: Body, result: ReadResult, pupils: pd.DataFrame, dob: pd.Series, upn_meaning: str) -> None:
    """Invalid UPNs (a warning: imported as they are), unreadable dates of birth, formulas."""
    if body.has(upn_meaning):
        named = pupils[pupils["upn"] != ""]
        invalid = ~values.valid_upns(pd.Series(named["upn"].to_numpy(), dtype="string")).to_numpy()
        column = body.name(upn_meaning)
        for _, pupil in named[invalid].head(20).iterrows():
            result.add(int(pupil["row"]), column, f"UPN {pupil['upn']}: its check letter or form is not valid; "
                       "imported as it is — correct it in the MIS.", "warning")
        if invalid.sum() > 20:
            result.add(None, column, f"… and {int(invalid.sum()) - 20} more UPNs that are not valid.", "warning")
    if body.has("dob"):
        dob_text = body.text("dob")
        bad = ((dob_text != "") & dob.isna()).to_numpy()
        _date_problems(result, body.rows[bad], dob_text[bad], body.name("dob"))
    _flag_formulas(body, result, [m for m in IDENTITY_MEANINGS + ("form",) if body.has(m)])


def _name_keys(surname: pd.Series, forename: pd.Series) -> np.ndarray:
    whole = (surname.fillna("").astype(str) + " " + forename.fillna("").astype(str)).str.strip()
    return values.by_distinct(whole, lambda text: text.map(values.name_key))


def _flag_formulas(body: Body, result: ReadResult, meanings: list[str]) -> None:
    """A cell holding a spreadsheet formula (`=HYPERLINK(…)`) is kept as plain text and never
    run; the user is told, since a real export holds values, not formulas."""
    for meaning in meanings:
        codes_, text = body.distinct(meaning)
        formula = pd.Series(text, dtype=object).str.match(_FORMULA).to_numpy(dtype=bool)
        if formula.any():
            result.add_rows(body.rows[formula[codes_]], body.name(meaning),
                            "The cell holds a spreadsheet formula; it is kept as plain text and never run.", "warning")


def _date_problems(result: ReadResult, rows: pd.Series, texts: pd.Series, column) -> None:
    if rows.empty:
        return
    us = texts.map(values.looks_like_us_date).astype(bool)
    for flag, message in ((us, US_DATE), (~us, NOT_A_DATE)):
        for text, group in rows[flag].groupby(texts[flag], sort=False):
            result.add_rows(group, column, message.format(text))


# --- marks -------------------------------------------------------------------------


def _marks_frame(rows, column, pupil, dates, sessions, marks, minutes=None) -> pd.DataFrame:
    """The normalised marks frame; `column` is one header for all rows, or one per row."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(column, str):
        column = pd.Categorical.from_codes(np.zeros(len(rows), dtype=np.int8), categories=[column])
    frame = pd.DataFrame({
        "row": rows,
        "column": pd.Categorical(column),
        "pupil": np.asarray(pupil, dtype=np.int64),
        "date": pd.Series(dates).to_numpy(dtype="datetime64[ns]"),
        "session": pd.array(sessions, dtype="Int64"),
        "mark": pd.array(marks, dtype="string"),
    })
    if minutes is None:  # no minutes-late column: every value missing (built without a list of NAs)
        frame["minutes_late"] = pd.arrays.IntegerArray(np.zeros(len(frame), dtype=np.int64), np.ones(len(frame), dtype=bool))
    else:
        frame["minutes_late"] = pd.array(minutes, dtype="Int64")
    return frame


def normalise_marks(marks) -> np.ndarray:
    """Marks trimmed and upper-cased, '' for every spelling of no mark, read per distinct value."""
    return values.by_distinct(marks, lambda text: codes.normalise_marks(text.astype("string")).to_numpy(dtype=object))


def _parsed(body: Body, meaning: str, parse) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """(the column parsed, row by row; each row's distinct-value position; the distinct texts)."""
    codes_, text = body.distinct(meaning)
    parsed = parse(pd.Series(text, dtype=object))
    return pd.Series(parsed.array.take(codes_), index=body.cells.index), codes_, text


def _column_problems(body: Body, result: ReadResult, meaning: str, codes_: np.ndarray, text: np.ndarray,
                     bad: np.ndarray, message: str) -> None:
    """`message` (with '{}' for the cell's text) on every row whose value is bad, grouped by value."""
    for value in np.flatnonzero(bad):
        result.add_rows(body.rows[codes_ == value], body.name(meaning), message.format(text[value]))


def read_long_marks(body: Body, result: ReadResult) -> None:
    """One row per pupil per session: pupil, date, session, mark[, minutes late]."""
    pupil = read_pupils(body, result)
    rows = body.rows
    dates, date_codes, date_text = _parsed(body, "date", values.parse_dates)
    unreadable = pd.isna(values.parse_dates(pd.Series(date_text, dtype=object))).to_numpy() & (date_text != "")
    us = np.array([values.looks_like_us_date(t) for t in date_text], dtype=bool)
    _column_problems(body, result, "date", date_codes, date_text, unreadable & us, US_DATE)
    _column_problems(body, result, "date", date_codes, date_text, unreadable & ~us, NOT_A_DATE)
    _column_problems(body, result, "date", date_codes, date_text, date_text == "", "The date is empty.")

    names = body.mapping.session_names if body.mapping else None
    sessions, session_codes, session_text = _parsed(body, "session", lambda t: values.parse_sessions(t, names))
    bad = pd.isna(values.parse_sessions(pd.Series(session_text, dtype=object), names)).to_numpy()
    _column_problems(body, result, "session", session_codes, session_text, bad & (session_text != ""),
                     "The session '{}' is not AM or PM. Map the school's register names to AM and PM when uploading.")
    _column_problems(body, result, "session", session_codes, session_text, bad & (session_text == ""),
                     "The session is empty; it must be AM or PM.")

    mark_meaning = "mark" if body.has("mark") else "week_marks"
    minutes = _minutes_late(body, result)
    result.marks = _marks_frame(rows, body.name(mark_meaning), pupil, dates, sessions,
                                _marks_with_sub_codes(body, mark_meaning), minutes)
    _report_repeats(result, session_column=body.name("session"))


def _marks_with_sub_codes(body: Body, mark_meaning: str) -> np.ndarray:
    """The marks, normalised; where a sub-code column (SIMS's extended form: mark C, sub-code
    C1) gives a DfE code, that more precise code is the mark."""
    marks = normalise_marks(body.cells[body.header.meanings[mark_meaning]])
    if not body.has("sub_code"):
        return marks
    sub = normalise_marks(body.cells[body.header.meanings["sub_code"]])
    return np.where(pd.Series(sub).isin(list(codes.CODES)).to_numpy(), sub, marks)


def _minutes_late(body: Body, result: ReadResult) -> pd.Series | None:
    if not body.has("minutes_late"):
        return None

    def parse(text: pd.Series) -> pd.Series:
        number = pd.to_numeric(text.where(text != ""), errors="coerce").astype("Float64")
        whole = number.notna() & (number >= 0) & (number % 1 == 0)
        return number.where(whole.fillna(False)).round().astype("Int64")

    minutes, codes_, text = _parsed(body, "minutes_late", parse)
    bad = pd.isna(parse(pd.Series(text, dtype=object))).to_numpy() & (text != "")
    _column_problems(body, result, "minutes_late", codes_, text, bad,
                     "Minutes late must be a whole number of minutes, not '{}'.")
    return minutes


def _grid(body: Body, result: ReadResult, positions: list[int], dates_by_column) -> None:
    """Session columns → one mark per pupil row and column. `dates_by_column(position)` gives
    the column's dates, one per row."""
    pupil = read_pupils(body, result)
    n = len(body.cells)
    if not positions:
        result.marks = _marks_frame([], [], [], [], [], [])
        return
    names = [body.header.names[p] for p in positions]
    repeated = pd.Series([body.header.sessions[p] for p in positions]).duplicated()
    for name in pd.Series(names)[repeated.to_numpy()]:
        result.add(body.header.last_row, name, f"The column '{name}' repeats a session another column already holds.")
    marks = np.concatenate([body.cells[p].to_numpy(dtype=object) for p in positions])
    dates = np.concatenate([dates_by_column(p) for p in positions])
    labels = pd.Index(names).unique()
    result.marks = _marks_frame(
        rows=np.tile(body.cells.index.to_numpy(), len(positions)),
        column=pd.Categorical.from_codes(np.repeat(labels.get_indexer(names), n), categories=labels),
        pupil=np.tile(pupil.to_numpy(), len(positions)),
        dates=dates,
        sessions=np.repeat([body.header.sessions[p].session for p in positions], n),
        marks=normalise_marks(marks),
    )
    _report_repeats(result)


def read_date_grid(body: Body, result: ReadResult) -> None:
    """One row per pupil, one column per session headed by a date and AM/PM."""
    positions = [p for p, s in sorted(body.header.sessions.items()) if s.date is not None]
    n = len(body.cells)
    _grid(body, result, positions,
          lambda p: np.full(n, np.datetime64(body.header.sessions[p].date, "ns")))


def _week_starts(body: Body, result: ReadResult) -> np.ndarray | None:
    """Each row's week start (datetime64[D]): from a week column, else the mapping, else the title."""
    if body.has("week_start"):
        text = body.text("week_start")
        parsed = values.parse_dates(text)
        bad = parsed.isna()
        _date_problems(result, body.rows[bad & (text != "")], text[bad & (text != "")], body.name("week_start"))
        result.add_rows(body.rows[text == ""], body.name("week_start"), "The week's start date is empty.")
        return parsed.to_numpy(dtype="datetime64[D]")
    start = (body.mapping.week_start if body.mapping and body.mapping.week_start else None) or body.title.week_start
    if start is None:
        result.add(body.header.rows[0], None, "The file does not say which week it covers: add a 'Week Beginning' "
                   "column, or give the week's start date when uploading.")
        return None
    return np.full(len(body.cells), np.datetime64(start, "D"))


def read_weekday_grid(body: Body, result: ReadResult) -> None:
    """One row per pupil (and week), session columns headed by a weekday and AM/PM."""
    positions = [p for p, s in sorted(body.header.sessions.items()) if s.weekday is not None]
    starts = _week_starts(body, result)
    if starts is None:
        read_pupils(body, result)
        return
    start_weekday = (starts.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday

    def dates(p):
        offset = (body.header.sessions[p].weekday - start_weekday) % 7
        return (starts + offset.astype("timedelta64[D]")).astype("datetime64[ns]")

    _grid(body, result, positions, dates)


def read_marks_strings(body: Body, result: ReadResult) -> None:
    """One row per pupil (and week): the week's marks in one cell, two characters a day, AM then PM."""
    starts = _week_starts(body, result)
    pupil = read_pupils(body, result)
    meaning = "week_marks" if body.has("week_marks") else "mark"
    column = body.name(meaning)
    strings = body.cells[body.header.meanings[meaning]].astype("string").fillna("").str.rstrip()
    too_long = strings.str.len() > 14
    result.add_rows(body.rows[too_long], column,
                    "The marks hold more than 14 characters; a week has at most 14 (two a day, AM then PM).")
    if starts is None:
        return
    covered = int(strings[~too_long].str.len().max() or 0)
    covered += covered % 2  # a week's marks end on a PM
    n = len(strings)
    padded = strings.where(~too_long, "").str.pad(covered, side="right").to_numpy(dtype=object)
    chars = np.array([list(s) for s in padded], dtype=object).reshape(n, covered) if covered else np.empty((n, 0), object)
    position = np.arange(covered)
    dates = (np.repeat(starts, covered).reshape(n, covered) + (position // 2).astype("timedelta64[D]")).ravel()
    result.marks = _marks_frame(
        rows=np.repeat(body.cells.index.to_numpy(), covered), column=column,
        pupil=np.repeat(pupil.to_numpy(), covered), dates=dates.astype("datetime64[ns]"),
        sessions=np.tile(position % 2, n), marks=normalise_marks(chars.ravel()))
    _report_repeats(result, session_column=column)


NO_SESSION = "#"  # in a CTF's marks string: no session that half-day (weekends, holidays, closures)


def read_marks_from_start(body: Body, result: ReadResult) -> None:
    """One row per pupil (and year): a start date and the marks from it, one character per
    session, AM then PM of each date in turn (the DfE Common Transfer File's AttendSessions).
    '#' is no session and stores nothing; a space or '-' is a missing mark."""
    pupil = read_pupils(body, result)
    text = body.text("marks_start")
    starts = values.parse_dates(text)
    bad = starts.isna() & (text != "")
    _date_problems(result, body.rows[bad], text[bad], body.name("marks_start"))
    result.add_rows(body.rows[text == ""], body.name("marks_start"), "The date the marks start from is empty.")
    column = body.name("week_marks")
    strings = body.cells[body.header.meanings["week_marks"]].astype("string").fillna("").str.rstrip("\r\n")
    usable = starts.notna().to_numpy()
    lengths = np.where(usable, strings.str.len().to_numpy(dtype=np.int64), 0)
    joined = "".join(strings[usable].tolist())
    chars = np.array(list(joined), dtype=object) if joined else np.empty(0, dtype=object)
    owner = np.repeat(np.arange(len(strings)), lengths)
    position = np.arange(len(chars)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    start_days = starts.to_numpy(dtype="datetime64[D]")
    dates = start_days[owner] + (position // 2).astype("timedelta64[D]")
    session = chars != NO_SESSION
    result.marks = _marks_frame(
        rows=body.cells.index.to_numpy()[owner][session], column=column, pupil=pupil.to_numpy()[owner][session],
        dates=dates[session].astype("datetime64[ns]"), sessions=(position % 2)[session],
        marks=normalise_marks(chars[session]))
    _report_repeats(result, session_column=column)


def _report_repeats(result: ReadResult, session_column: str | None = None) -> None:
    """An error on every repeat of a pupil's session, naming the row where it first appeared."""
    marks = result.marks
    readable = marks["date"].notna().to_numpy() & marks["session"].notna().to_numpy() & (marks["pupil"] >= 0).to_numpy()
    days = marks["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    key = np.where(readable, marks["pupil"].to_numpy() * 400_000 + (days + 100_000) * 2
                   + marks["session"].fillna(0).to_numpy(dtype=np.int64), -1 - np.arange(len(marks)))
    key = pd.Series(key, index=marks.index)
    repeat = key.duplicated(keep="first")
    if not repeat.any():
        return
    first_row = marks["row"].groupby(key).transform("first")
    pupils = result.pupils
    shown = 0
    for index in repeat[repeat].index:
        if shown >= 20:
            result.add(None, session_column, f"… and {int(repeat.sum()) - shown} more repeated sessions.")
            break
        mark = marks.loc[index]
        who = _pupil_label(pupils.iloc[int(mark["pupil"])])
        when = f"the {('AM', 'PM')[int(mark['session'])]} session on {mark['date']:%d/%m/%Y}"
        result.add(int(mark["row"]), session_column or str(mark["column"]),
                   f"Pupil {who} has two marks for {when} (first on row {int(first_row[index])}).")
        shown += 1


def _pupil_label(pupil: pd.Series) -> str:
    name = " ".join(p for p in (pupil["forename"], pupil["surname"]) if p)
    ident = pupil["upn"] or (f"adm. no. {pupil['adno']}" if pupil["adno"] else "")
    return f"{ident} ({name})" if ident and name else ident or name or "?"


def check_academic_years(result: ReadResult) -> None:
    """A warning when the marks span more than one academic year (usually a wrong date range)."""
    dates = result.marks["date"].dropna()
    if dates.empty:
        return
    first, last = dates.min().date(), dates.max().date()
    years = range(academic_year(first), academic_year(last) + 1)
    if len(years) > 1:
        labels = " and ".join(academic_year_label(y) for y in years)
        result.add(None, None, f"The marks run from {first:%d/%m/%Y} to {last:%d/%m/%Y}, across the academic years "
                   f"{labels} — check the report's date range was the one you meant.", "warning")


# --- pupil roll --------------------------------------------------------------------

ROLL_FLAGS = ("pp", "fsm", "eal", "cla")
ROLL_DATES = ("dob", "entry_date", "leave_date")
ROLL_FIELDS = ("adno", "mis_id", "surname", "forename", "dob", "gender", "year_group", "nc_year", "form",
               "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date", *characteristics.ROLL_DETAIL_FIELDS)


def read_roll(body: Body, result: ReadResult) -> None:
    """One row per pupil: identifiers and characteristics. Only the fields the file has are
    read (and later stored), so a roll without, say, an EAL column leaves EAL as it was."""
    rows = body.rows
    upn = values.normalise_upns(body.text("upn"))
    result.add_rows(rows[upn == ""], body.name("upn"), "The UPN is empty.")
    invalid = (upn != "") & ~values.valid_upns(upn)
    result.add_rows(rows[invalid], body.name("upn"),
                    "The UPN's check letter or form is not valid; imported as it is — correct it in the MIS.", "warning")
    if body.has("surname") or body.has("forename"):
        surname, forename = body.text("surname"), body.text("forename")
    else:
        surname, forename = values.split_full_names(body.text("name"))

    frame: dict[str, pd.Series] = {"row": rows, "upn": upn, "adno": body.text("adno"),
                                   "mis_id": values.mis_id_key(body.text("mis_id")), "surname": surname,
                                   "forename": forename, "gender": body.text("gender").str.upper().str.slice(0, 1),
                                   "form": body.text("form")}
    fields = ["surname", "forename"] + [m for m in ("adno", "mis_id", "gender", "form") if body.has(m)]

    if body.has("year_group"):
        raw = body.text("year_group")
        year_group = values.parse_year_groups(raw)
        for text, group in rows[year_group.isna()].groupby(raw[year_group.isna()], sort=False):
            result.add_rows(group, body.name("year_group"),
                            f"The year group '{text}' is not one we know (use e.g. 7, Year 7, R, Reception, N1, 12).")
        frame["year_group"], frame["nc_year"] = year_group, year_group.map(values.NC_YEAR).astype("Int64")
        fields += ["year_group", "nc_year"]

    for name in ROLL_DATES:
        raw = body.text(name)
        parsed = values.parse_dates(raw)
        _date_problems(result, rows[(raw != "") & parsed.isna()], raw[(raw != "") & parsed.isna()], body.name(name))
        frame[name] = parsed.dt.strftime("%Y-%m-%d").astype("string")
        fields += [name] if body.has(name) else []

    for name in ROLL_FLAGS:
        flags = values.parse_flags(body.text(name))
        result.add_rows(rows[flags.isna()], body.name(name), "Use Y or N (or Yes/No, True/False, 1/0).")
        frame[name] = flags.fillna(0)
        fields += [name] if body.has(name) else []

    sen = values.parse_sen(body.text("sen"))
    result.add_rows(rows[sen.isna()], body.name("sen"), "SEN status must be N, K (SEN support) or E (EHC plan).")
    frame["sen"] = sen.fillna("N")
    fields += ["sen"] if body.has("sen") else []

    details, detail_fields = read_roll_details(body, result)
    frame.update(details)
    fields += detail_fields

    result.pupils = pd.DataFrame(frame)
    result.roll_fields = tuple(f for f in ROLL_FIELDS if f in fields)
    _flag_formulas(body, result, [m for m in ("upn", "adno", "surname", "forename", "name", "form") if body.has(m)])
    named = result.pupils[upn != ""]
    repeat = named.duplicated("upn", keep="first")
    first = named.groupby("upn", sort=False)["row"].transform("first")
    for index in repeat[repeat].index[:50]:
        result.add(int(named.at[index, "row"]), body.name("upn"),
                   f"UPN {named.at[index, 'upn']} appears more than once (first on row {int(first[index])}); "
                   "each pupil must be on one row.")


# --- per-pupil summary counts ------------------------------------------------------

COUNT_MEANINGS = ("possible", "attendance", "authorised", "unauthorised")


def read_summary(body: Body, result: ReadResult) -> None:
    """One row per pupil (and period): possible, present, authorised and unauthorised sessions
    over a date range, kept only as a roll-up for dates with no marks."""
    pupil = read_pupils(body, result)
    rows = body.rows
    counts: dict[str, pd.Series] = {}
    by_code = count_columns_by_category(body.header)
    if sum(body.has(m) or m in by_code for m in COUNT_MEANINGS) + (
            body.has("approved_activity") and not body.has("attendance")) < 3:
        result.add(body.header.last_row, None, "Summary counts need at least three of: Possible, Present, "
                   "Authorised and Unauthorised sessions.")
        return

    def whole_numbers(text: pd.Series, column: str) -> pd.Series:
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = number.isna() | (number < 0) | (number % 1 != 0)
        result.add_rows(rows[bad], column, "The count must be a whole number of sessions.")
        return number.where(~bad).fillna(0).astype("int64")

    for meaning in COUNT_MEANINGS + ("approved_activity",):
        if body.has(meaning):
            counts[meaning] = whole_numbers(body.text(meaning), body.name(meaning))
        elif meaning in by_code:  # an LA extract's column per code, summed by what each code counts as
            cells = (body.cells[p].astype("string").fillna("").str.strip() for p in by_code[meaning])
            counts[meaning] = sum(whole_numbers(text.where(text != "", "0"), body.header.names[p])  # blank: none
                                  for text, p in zip(cells, by_code[meaning]))
    if "approved_activity" in counts:
        counts["attendance"] = counts.get("attendance", 0) + counts.pop("approved_activity")
    if "possible" not in counts:
        counts["possible"] = counts["attendance"] + counts["authorised"] + counts["unauthorised"]
    for meaning in ("attendance", "authorised", "unauthorised"):
        if meaning not in counts:
            others = [counts[m] for m in ("attendance", "authorised", "unauthorised") if m != meaning]
            counts[meaning] = counts["possible"] - others[0] - others[1]
    total = counts["attendance"] + counts["authorised"] + counts["unauthorised"]
    wrong = (total != counts["possible"]) | (counts["attendance"] < 0) | (counts["authorised"] < 0) | (counts["unauthorised"] < 0)
    result.add_rows(rows[wrong], body.name("possible"),
                    "Possible sessions must equal present + authorised + unauthorised sessions.")

    date_from, date_to = _count_dates(body, result, "date_from"), _count_dates(body, result, "date_to")
    if date_from is None or date_to is None:
        result.add(body.header.rows[0], None, "The file does not say which dates the counts cover: add 'From' and "
                   "'To' columns or a title row such as '01/09/2025 to 19/12/2025', or give the dates when uploading.")
        return
    backwards = date_from > date_to
    result.add_rows(rows[backwards], body.name("date_from"), "The 'From' date is after the 'To' date.")
    result.counts = pd.DataFrame({"row": rows, "pupil": pupil, "date_from": date_from, "date_to": date_to,
                                  **{m: counts[m] for m in COUNT_MEANINGS}})
    frame = result.counts[result.counts["pupil"] >= 0]
    repeat = frame.duplicated(["pupil", "date_from", "date_to"])
    result.add_rows(frame.loc[repeat, "row"], body.name("possible"),
                    "The same pupil and dates appear on an earlier row.")


_CATEGORY_COUNTS = {codes.AUTHORISED: "authorised", codes.UNAUTHORISED: "unauthorised"}


def count_columns_by_category(header: Header) -> dict[str, list[int]]:
    """Columns of counts headed by a DfE absence code (LA extracts: `I`, `M`, `N`, `O`…), by what
    the code counts as: {"authorised": [positions], "unauthorised": [...]}. Only absence codes:
    present and not-possible sessions are what Possible leaves."""
    found: dict[str, list[int]] = {}
    for position, name in header.names.items():
        if position in header.meanings.values() or position in header.sessions:
            continue
        code = codes.CODES.get(str(name).strip().upper())
        if code is not None and code.category in _CATEGORY_COUNTS:
            found.setdefault(_CATEGORY_COUNTS[code.category], []).append(position)
    return found


def _count_dates(body: Body, result: ReadResult, meaning: str) -> pd.Series | None:
    if body.has(meaning):
        text = body.text(meaning)
        parsed = values.parse_dates(text)
        _date_problems(result, body.rows[parsed.isna()], text[parsed.isna()], body.name(meaning))
        return parsed
    given = getattr(body.mapping, meaning, None) if body.mapping else None
    given = given or getattr(body.title, meaning)
    return None if given is None else pd.Series(pd.Timestamp(given), index=body.cells.index)


# --- the shapes, one row each --------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One shape of export: everything the importer and the upload screen know about it."""

    id: str  # the `shape` of the import JSON and of a saved mapping
    label: str  # what the upload screen calls it
    described_as: str  # what messages call it, after "a" ("… looks like a marks file (…)")
    needs: tuple[str, ...]  # what detection needs the header to give: keys of `detection.NEEDS`
    tried: int  # detection tries the shapes in this order (lowest first); the first whose needs are met wins
    columns: tuple[str, ...]  # the meanings the upload screen's column mapping offers, in order
    reader: Callable[[Body, ReadResult], None]
    stores: str  # what importing it writes: "marks", "counts" (a summary roll-up) or "pupils" (the roll)
    skips_unmarked_rows: bool = False  # a row with no marks naming no pupil by id is a heading, not a pupil
    given_dates: tuple[str, ...] = ()  # the ColumnMapping dates that stand in for a column the file lacks
    #                                   (taken from a title row, or given on the upload screen)


PUPIL_ID_COLUMNS = ("upn", "adno", "mis_id", "name", "surname", "forename", "dob", "year_group", "form")

# In the order the upload screen lists them.
SHAPES: dict[str, Shape] = {shape.id: shape for shape in (
    Shape("long_marks", "Register marks, one row per pupil per session",
          "marks file (one row per pupil per session)",
          needs=("pupil", "date", "session", "mark"), tried=3,
          columns=PUPIL_ID_COLUMNS + ("date", "session", "mark", "minutes_late", "comment"),
          reader=read_long_marks, stores="marks"),
    Shape("weekly_grid", "Register grid, a column per dated session",
          "register grid (one row per pupil, a column per dated session)",
          needs=("pupil", "dated_sessions"), tried=1,
          columns=PUPIL_ID_COLUMNS,
          reader=read_date_grid, stores="marks", skips_unmarked_rows=True),
    Shape("weekday_grid", "Register grid, a column per weekday session",
          "register grid (one row per pupil, a column per weekday session)",
          needs=("pupil", "weekday_sessions", "week_start"), tried=2,
          columns=PUPIL_ID_COLUMNS + ("week_start",),
          reader=read_weekday_grid, stores="marks", skips_unmarked_rows=True, given_dates=("week_start",)),
    Shape("marks_string", "A week's marks as one string per pupil",
          "week's marks as one string per pupil",
          needs=("pupil", "week_marks", "week_start"), tried=5,
          columns=PUPIL_ID_COLUMNS + ("week_start", "week_marks"),
          reader=read_marks_strings, stores="marks", skips_unmarked_rows=True, given_dates=("week_start",)),
    Shape("sims_session_xml", "SIMS session attendance (partner-API XML)",
          "SIMS session attendance XML file",
          needs=("sims_xml", "pupil", "date", "session", "mark"), tried=-3,
          columns=("mis_id", "upn", "adno", "date", "session", "mark", "sub_code", "minutes_late", "comment"),
          reader=read_long_marks, stores="marks"),
    Shape("ctf_attendance", "Common Transfer File attendance (marks from a start date)",
          "file of marks from a start date, one character a session (CTF AttendSessions)",
          needs=("pupil", "marks_start", "week_marks"), tried=-1,
          columns=PUPIL_ID_COLUMNS + ("marks_start", "week_marks"),
          reader=read_marks_from_start, stores="marks"),
    Shape("wonde_session_json", "Wonde-style session attendance (JSON)",
          "Wonde-style session JSON file",
          needs=("wonde_json", "pupil", "date", "session", "mark"), tried=-2,
          columns=("mis_id", "upn", "date", "session", "mark", "minutes_late", "comment"),
          reader=read_long_marks, stores="marks"),
    Shape("pupil_roll", "Pupil roll, one row per pupil",
          "pupil roll",
          needs=("upn", "names", "no_marks"), tried=6,
          columns=("upn", "adno", "mis_id", "surname", "forename", "name", "dob", "gender", "year_group", "form",
                   "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date",
                   "contact1_name", "contact1_relationship", "contact1_phone", "contact1_email",
                   "contact2_name", "contact2_relationship", "contact2_phone", "contact2_email",
                   "address", "postcode", "family_id", "ethnicity", "young_carer", "social_worker",
                   "cin", "cp", "vulnerable", "flags"),
          reader=read_roll, stores="pupils"),
    Shape("summary_counts", "Attendance summary counts per pupil",
          "summary counts (one row per pupil)",
          needs=("pupil", "counts", "count_dates"), tried=4,
          columns=PUPIL_ID_COLUMNS + ("possible", "attendance", "approved_activity", "authorised", "unauthorised",
                                      "date_from", "date_to"),
          reader=read_summary, stores="counts", given_dates=("date_from", "date_to")),
)}
