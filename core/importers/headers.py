"""Finding the header row of an export and what each column means.

Headers are matched by meaning, with the spellings schools' MIS reports use (FORMATS.md):
case, spaces, punctuation and word order are ignored, so `Late (mins)` is `Mins Late`.
Session columns of a register grid are recognised by their form: a date and AM/PM
(`Mon 07/09/2026 AM`, `07/09/2026 PM`) or a weekday and AM/PM (`MonAM`, `Mon PM`), in one
header row or split over two (the date above, merged across its AM and PM columns).
Rows above the header are the report's title; the dates written there can give the
week a weekday grid covers and the day the report was run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import pandas as pd

from core.importers import values

# Meaning → the header spellings seen for it. Rules as data: a new spelling is one line here.
MEANINGS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN", "Student UPN"),
    "adno": ("Admission No", "Admission Number", "Adno", "Adm No", "Admissions No"),
    "mis_id": ("MIS ID", "Student ID", "Pupil ID", "Person ID", "SIMS ID", "SIMS Person ID", "Arbor ID", "Arbor Student ID",
               "Bromcom ID", "Bromcom Student ID", "Wonde ID", "Wonde Student ID", "External ID", "Learner ID"),
    "surname": ("Surname", "Legal Surname", "Last Name", "Family Name", "Preferred Surname"),
    "forename": ("Forename", "Legal Forename", "First Name", "Preferred Forename", "Given Name"),
    "name": ("Name", "Pupil Name", "Student", "Student Name", "Full Name", "Pupil", "Learner Name"),
    "year_group": ("Year", "Year Group", "NC Year", "Curriculum Year", "Yr Group", "Year Grp"),
    "form": ("Reg Group", "Registration Group", "Form", "Tutor Group", "Class", "Reg", "Form Group", "Tutor"),
    "dob": ("DOB", "D.O.B.", "Date of Birth", "Birth Date"),
    "gender": ("Gender", "Sex"),
    "date": ("Date", "Session Date", "Attendance Date", "Mark Date", "Register Date"),
    "session": ("Session", "AM/PM", "Period", "Register", "Session Name"),
    "mark": ("Mark", "Code", "Attendance Mark", "Attendance Code", "Raw Mark", "Session Mark", "Mark Code"),
    "minutes_late": ("Minutes Late", "Mins Late", "Late (mins)", "Late Minutes", "Minute"),
    "comment": ("Comment", "Comments", "Note", "Notes"),
    # An MIS sub-code beside the mark (SIMS 2024 extended form: mark C, sub-code C1).
    "sub_code": ("Attendance Mark Sub Code", "Mark Sub Code", "Sub Code", "Subcode", "Attendance Sub Code"),
    # Marks from a start date, one character per session, AM then PM (the DfE CTF's AttendSessions).
    "marks_start": ("Attendance Start Date", "Marks Start Date", "Marks Start"),
    "pp": ("Pupil Premium", "PP", "Pupil Premium Eligible"),
    "fsm": ("FSM", "FSM Eligible", "Ever 6 FSM", "Free School Meals", "FSM6"),
    "sen": ("SEN", "SEN Status", "SEN Provision", "SEND"),
    "eal": ("EAL", "English as an Additional Language"),
    "cla": ("CLA", "Looked After", "Looked After Child", "LAC", "In Care"),
    "entry_date": ("Entry Date", "Date of Entry", "Admission Date", "Date of Admission", "Enrolment Date"),
    "leave_date": ("Leave Date", "Leaving Date", "Date of Leaving", "Leaver Date"),
    "week_start": ("Week Start", "Week Beginning", "Week Commencing", "Week Starting", "W/C", "Week",
                   "Week Start Date", "Week Beginning Date"),
    "week_marks": ("Marks", "Week Marks", "Weekly Marks", "Attendance Marks", "Mark String", "Marks String",
                   "Session Marks", "Register Marks"),
    "possible": ("Possible", "Possible Sessions", "Sessions Possible", "Poss", "Termly Sessions Possible"),
    "attendance": ("Present", "Attendance", "Attended", "Present Sessions", "Attendance Sessions",
                   "Sessions Attended", "Present and AEA", "Termly Sessions Attended"),
    "approved_activity": ("AEA", "Approved Educational Activity", "Approved Activity"),
    "authorised": ("Authorised", "Authorised Absence", "Authorised Absences", "Auth Abs", "Auth",
                   "Authorised Sessions", "Authorised Absence Sessions", "Sessions Authorised",
                   "Termly Sessions Authorised"),
    "unauthorised": ("Unauthorised", "Unauthorised Absence", "Unauthorised Absences", "Unauth Abs", "Unauth",
                     "Unauthorised Sessions", "Unauthorised Absence Sessions", "Sessions Unauthorised",
                     "Termly Sessions Unauthorised"),
    "date_from": ("From", "Date From", "From Date", "Start Date", "Period Start", "Start"),
    "date_to": ("To", "Date To", "To Date", "End Date", "Period End", "End"),
    # What a roll says about a pupil's family, contacts and groups (SIMS, Arbor, Bromcom spellings).
    "contact1_name": ("Primary Contact Name", "Primary Contact", "Contact 1 Name", "Contact 1", "Priority 1 Contact",
                      "Priority 1 Contact Name", "Main Contact", "Main Contact Name", "First Contact Name",
                      "Parent Name", "Parent/Carer Name", "Parent Carer Name", "Parent/Guardian Name", "Contact Name",
                      "Parent 1 Name", "Carer Name"),
    "contact1_relationship": ("Primary Contact Relationship", "Contact 1 Relationship", "Contact 1 Relation",
                              "Priority 1 Contact Relationship", "Main Contact Relationship", "Relationship",
                              "Relationship to Pupil", "Contact Relationship", "Parent Relationship",
                              "Parent 1 Relationship"),
    "contact1_phone": ("Primary Contact Telephone", "Primary Contact Phone", "Primary Contact Mobile",
                       "Primary Contact Telephone Number", "Contact 1 Telephone", "Contact 1 Phone", "Contact 1 Mobile",
                       "Contact 1 Telephone Number", "Priority 1 Contact Telephone", "Main Contact Telephone",
                       "Main Contact Phone", "Parent Phone", "Parent Telephone", "Parent Mobile", "Contact Telephone",
                       "Contact Phone", "Contact Mobile", "Parent 1 Phone", "Parent 1 Mobile"),
    "contact1_email": ("Primary Contact Email", "Primary Contact Email Address", "Contact 1 Email",
                       "Contact 1 Email Address", "Priority 1 Contact Email", "Main Contact Email", "Parent Email",
                       "Parent Email Address", "Contact Email", "Contact Email Address", "Parent 1 Email"),
    "contact2_name": ("Secondary Contact Name", "Secondary Contact", "Contact 2 Name", "Contact 2", "Priority 2 Contact",
                      "Priority 2 Contact Name", "Second Contact Name", "Parent 2 Name"),
    "contact2_relationship": ("Secondary Contact Relationship", "Contact 2 Relationship", "Contact 2 Relation",
                              "Priority 2 Contact Relationship", "Parent 2 Relationship"),
    "contact2_phone": ("Secondary Contact Telephone", "Secondary Contact Phone", "Secondary Contact Mobile",
                       "Contact 2 Telephone", "Contact 2 Phone", "Contact 2 Mobile", "Contact 2 Telephone Number",
                       "Priority 2 Contact Telephone", "Parent 2 Phone", "Parent 2 Mobile"),
    "contact2_email": ("Secondary Contact Email", "Secondary Contact Email Address", "Contact 2 Email",
                       "Contact 2 Email Address", "Priority 2 Contact Email", "Parent 2 Email"),
    "address": ("Address", "Home Address", "Pupil Address", "Full Address", "Address Block", "Postal Address",
                "Contact 1 Address", "Primary Contact Address"),
    "postcode": ("Postcode", "Post Code", "Postal Code", "Home Postcode", "Address Postcode"),
    "family_id": ("Family ID", "Family", "Family Code", "Family Reference", "Family No", "Sibling Group",
                  "Sibling ID", "Household ID", "Contact ID", "Primary Contact ID", "Contact 1 ID", "Parent ID"),
    "ethnicity": ("Ethnicity", "Ethnic Group", "Ethnic Origin", "Ethnicity Code", "Ethnic Code", "Ethnic Background",
                  "Ethnicity Description"),
    "young_carer": ("Young Carer", "Young Carers", "Is Young Carer", "Young Carer Indicator", "Young Carer Status",
                    "Young Carer Flag"),
    "social_worker": ("Social Worker", "Social Worker Involvement", "Has Social Worker", "Social Care",
                      "Social Care Status", "Social Care Involvement", "CIN/CP", "CIN CP Status", "CIN/CP Status",
                      "Children's Services"),
    "cin": ("CIN", "Child in Need", "Child in Need Plan", "CIN Plan", "On CIN Plan"),
    "cp": ("CP", "Child Protection", "Child Protection Plan", "CP Plan", "CPP", "On CP Plan"),
    "vulnerable": ("Vulnerable", "Vulnerable Pupil", "Vulnerable Child", "Vulnerable Learner", "Vulnerable List",
                   "On Vulnerable List"),
    "flags": ("Flags", "Custom Flags", "Pupil Flags", "School Flags", "Tags", "Pupil Tags", "Pupil Groups",
              "User Defined Groups", "Groups", "Additional Groups"),
}

# What a meaning is called when a message names it to the user.
LABELS: dict[str, str] = {
    "upn": "UPN", "adno": "Admission No", "mis_id": "MIS ID", "surname": "Surname", "forename": "Forename",
    "name": "Name", "year_group": "Year Group", "form": "Reg Group", "dob": "Date of Birth", "gender": "Gender",
    "date": "Date", "session": "Session (AM/PM)", "mark": "Mark", "minutes_late": "Minutes Late",
    "comment": "Comment", "sub_code": "Mark Sub Code", "marks_start": "Attendance Start Date",
    "pp": "Pupil Premium", "fsm": "FSM", "sen": "SEN Status", "eal": "EAL", "cla": "CLA",
    "entry_date": "Entry Date", "leave_date": "Leave Date", "week_start": "Week Beginning",
    "week_marks": "Marks (two characters a day)", "possible": "Possible Sessions", "attendance": "Present",
    "approved_activity": "AEA", "authorised": "Authorised", "unauthorised": "Unauthorised",
    "date_from": "From", "date_to": "To",
    "contact1_name": "Primary Contact Name", "contact1_relationship": "Primary Contact Relationship",
    "contact1_phone": "Primary Contact Telephone", "contact1_email": "Primary Contact Email",
    "contact2_name": "Secondary Contact Name", "contact2_relationship": "Secondary Contact Relationship",
    "contact2_phone": "Secondary Contact Telephone", "contact2_email": "Secondary Contact Email",
    "address": "Address", "postcode": "Postcode", "family_id": "Family ID", "ethnicity": "Ethnicity",
    "young_carer": "Young Carer", "social_worker": "Social Worker (CIN/CP)", "cin": "Child in Need",
    "cp": "Child Protection Plan", "vulnerable": "Vulnerable", "flags": "Flags",
}

# Words spelled more than one way in headers.
_WORD_FORMS = {"number": "no", "num": "no", "nos": "no", "mins": "minutes", "min": "minutes",
               "authorized": "authorised", "unauthorized": "unauthorised", "surnames": "surname"}
_IGNORED_WORDS = {"of", "the", "a", "an"}


# A word boundary inside a CamelCase header: 'AttendanceDate', 'PersonID', 'NCYear'.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def header_key(name: str) -> str:
    """A header compared by meaning: case, spaces, punctuation and word order ignored
    ('%' and '+' kept as words, so 'Attendance %' is not 'Attendance'); CamelCase is read
    as words ('AttendanceDate' is 'Attendance Date', 'PersonID' is 'Person ID')."""
    text = _CAMEL.sub(" ", str(name)).lower().replace("%", " pct ").replace("+", " and ").replace("&", " and ")
    words = [_WORD_FORMS.get(w, w) for w in re.split(r"[^a-z0-9]+", text) if w and w not in _IGNORED_WORDS]
    return " ".join(sorted(words))


_MEANING_OF_KEY = {header_key(spelling): meaning for meaning, spellings in MEANINGS.items() for spelling in spellings}
_MEANING_OF_KEY.update({header_key(meaning): meaning for meaning in MEANINGS})  # the plain shapes' own names


# Headers run together in lower case, as census and LA extracts write them
# ('termlysessionspossible', 'startdate'): compared with each spelling's letters alone.
_MEANING_OF_RUN_TOGETHER = {re.sub(r"[^a-z0-9]", "", spelling.lower()): meaning
                            for meaning, spellings in MEANINGS.items() for spelling in spellings}


@lru_cache(maxsize=8192)
def meaning_of(header: str) -> str | None:
    found = _MEANING_OF_KEY.get(header_key(header))
    if found is None and re.fullmatch(r"[a-z0-9]{6,}", str(header).strip()):
        found = _MEANING_OF_RUN_TOGETHER.get(str(header).strip())
    return found


# A school's own flag as a Y/N column of the roll: 'Flag: Breakfast club', 'Flag - Mentoring'.
_FLAG_COLUMN = re.compile(r"^\s*(?:custom\s+)?flag\s*[:\-–]\s*(\S.*?)\s*$", re.I)


def flag_column(header: str) -> str | None:
    """The flag a 'Flag: <name>' column holds, or None."""
    m = _FLAG_COLUMN.match(str(header))
    return m[1] if m else None


# --- session columns of a register grid --------------------------------------------


@dataclass(frozen=True)
class SessionColumn:
    """A grid column holding one session's marks: on a date, or on a weekday of a week."""

    session: int  # 0 AM, 1 PM
    date: date | None = None
    weekday: int | None = None  # 0 Monday … 6 Sunday


_SESSION_AT_END = re.compile(r"^(.*?)[\s\-_/:.,()\[\]]*\b(am|pm|a\.m\.?|p\.m\.?|morning|afternoon)[\s).\]]*$", re.I)
_SESSION_AT_START = re.compile(r"^[\s(\[]*(am|pm|a\.m\.?|p\.m\.?|morning|afternoon)\b[\s\-_/:.,()\[\]]*(.*)$", re.I)
_WEEKDAY_THEN_SESSION = re.compile(
    r"^(" + "|".join(sorted(values.WEEKDAYS, key=len, reverse=True)) + r")[\s\-_/:.]*(am|pm)$", re.I)


@lru_cache(maxsize=8192)
def session_column(header: str) -> SessionColumn | None:
    """`Mon 07/09/2026 AM`, `07/09/2026 PM`, `2026-09-07 AM`, `MonAM`, `Mon PM`, `Monday Morning` → a session column."""
    text = re.sub(r"\s+", " ", str(header)).strip()
    if not text:
        return None
    if m := _WEEKDAY_THEN_SESSION.match(text):
        return SessionColumn(values.session_of(m[2]), weekday=values.WEEKDAYS[m[1].lower()])
    m = _SESSION_AT_END.match(text)
    rest, word = (m[1], m[2]) if m else (None, None)
    if not m and (m := _SESSION_AT_START.match(text)):
        rest, word = m[2], m[1]
    if word is None or not rest.strip():
        return None
    session = values.session_of(word)
    rest = rest.strip(" -_/:.,")
    if rest.lower() in values.WEEKDAYS:
        return SessionColumn(session, weekday=values.WEEKDAYS[rest.lower()])
    day = values.parse_date_text(rest)
    return SessionColumn(session, date=day) if day else None


def _is_session_word(text: str) -> bool:
    return values.session_of(text) is not None and len(str(text).strip()) <= 12


def _is_day_heading(text: str) -> bool:
    """A cell that can head the AM and PM columns below it: a date or a weekday."""
    text = str(text).strip()
    return bool(text) and (text.lower() in values.WEEKDAYS or values.parse_date_text(text) is not None)


# --- the header row ----------------------------------------------------------------


@dataclass
class Header:
    """The header of an export: where it is and what each column means."""

    rows: tuple[int, ...]  # the file's row numbers forming the header (one, or two when split)
    names: dict[int, str]  # column position → the header text as the file writes it
    meanings: dict[str, int]  # meaning → column position (first column with that meaning)
    sessions: dict[int, SessionColumn]  # column position → the session it holds
    title: list[str] = field(default_factory=list)  # text of the rows above the header
    guessed: dict[str, int] = field(default_factory=dict)  # meaning → column, guessed from the data (not used to read)
    flags: dict[int, str] = field(default_factory=dict)  # column position → the school's flag it holds (Y/N)
    source: str = ""  # the XML or JSON layout the cells came from (mis_formats.KINDS); "" for a sheet

    @property
    def last_row(self) -> int:
        return self.rows[-1]

    def column_name(self, meaning: str) -> str:
        return self.names[self.meanings[meaning]]

    def found(self) -> list[str]:
        return [name for name in self.names.values() if name]


# Rows searched for the header, from the top of the file.
HEADER_SEARCH_ROWS = 40


def read_header(names: dict[int, str], rows: tuple[int, ...], title: list[str]) -> Header:
    meanings: dict[str, int] = {}
    sessions: dict[int, SessionColumn] = {}
    flags: dict[int, str] = {}
    for position, name in names.items():
        found = session_column(name)
        if found is not None:
            sessions[position] = found
            continue
        if (flag := flag_column(name)) is not None:
            flags[position] = flag
            continue
        meaning = meaning_of(name)
        if meaning is not None and meaning not in meanings:
            meanings[meaning] = position
    return Header(rows, names, meanings, sessions, title, flags=flags)


def _two_row_names(upper: list[str], lower: list[str]) -> dict[int, str]:
    """One name per column from a header split over two rows.

    A day heading (a date or weekday) stands above its AM and PM columns; in XLSX it is a
    merged cell whose value is in its first column only, so it is carried to the right
    over the session words beneath it. Other columns take whichever part has a meaning.
    """
    names: dict[int, str] = {}
    day = ""
    for position, (top, bottom) in enumerate(zip(upper, lower)):
        if top:
            day = top if _is_day_heading(top) else ""
        if _is_session_word(bottom):
            heading = top or day
            names[position] = f"{heading} {bottom}" if heading else bottom
            continue
        if not top:
            day = ""
        joined = f"{top} {bottom}".strip()
        names[position] = next((n for n in (joined, bottom, top) if n and meaning_of(n)), bottom or top)
    return names


def _score(header: Header) -> int:
    return len(header.meanings) + len(header.sessions)


def _text_rows(cells: pd.DataFrame) -> dict[int, list[str]]:
    """Row number → its cells as trimmed text."""
    grid = cells.to_numpy(dtype=object)
    return {row: ["" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v).strip() for v in line]
            for row, line in zip(cells.index, grid)}


def find_header(cells: pd.DataFrame) -> Header | None:
    """The row (or pair of rows) near the top of the file that best reads as a header.

    Each candidate is scored by the columns it gives a meaning to: a title row scores
    nothing, a data row next to nothing. A header split over two rows wins over either
    row alone only when joining them recognises more columns; among equals the single row
    with the most cells, then the earliest, wins (so with nothing recognised, the header is
    the first full row, not a one-cell title). None when the top of the file is blank.
    """
    texts = _text_rows(cells.head(HEADER_SEARCH_ROWS))
    filled = [row for row, line in texts.items() if any(line)]
    best, best_key = None, None
    for i, row in enumerate(filled):
        title = [" ".join(t for t in texts[r] if t) for r in filled[:i]]
        candidates = [read_header(dict(enumerate(texts[row])), (row,), title)]
        if i + 1 < len(filled):
            below = filled[i + 1]
            candidates.append(read_header(_two_row_names(texts[row], texts[below]), (row, below), title))
        cells_filled = sum(1 for t in texts[row] if t)
        for candidate in candidates:
            key = (_score(candidate), len(candidate.rows) == 1, cells_filled, -row)
            if best_key is None or key > best_key:
                best, best_key = candidate, key
    return best


def find_named_header(cells: pd.DataFrame, names: list[str]) -> Header | None:
    """The row near the top that holds the most of `names` (the headers a saved mapping
    uses), or None when no row holds any."""
    wanted = {header_key(n) for n in names if header_key(n)}
    best_row, best_hits = None, 0
    for row, line in _text_rows(cells.head(HEADER_SEARCH_ROWS)).items():
        hits = len(wanted & {header_key(t) for t in line if t})
        if hits > best_hits:
            best_row, best_hits = row, hits
    return header_at(cells, (best_row,)) if best_row is not None else None


def header_at(cells: pd.DataFrame, rows: tuple[int, ...]) -> Header:
    """The header at the rows a user named (a saved mapping), rather than found."""
    texts = _text_rows(cells.loc[: rows[-1]])
    title = [" ".join(t for t in line if t) for row, line in texts.items() if row < rows[0] and any(line)]
    if len(rows) == 2:
        return read_header(_two_row_names(texts[rows[0]], texts[rows[1]]), rows, title)
    return read_header(dict(enumerate(texts[rows[0]])), rows, title)


# --- what the title rows say -------------------------------------------------------

_WEEK_WORDS = re.compile(r"\b(week\s+(beginning|commencing|starting|start|of)|w/?c|wk\s+beg)\b", re.I)
_RUN_WORDS = re.compile(r"\b(run|printed|generated|produced|created|exported|as\s+at|as\s+of)\b", re.I)


@dataclass
class TitleFacts:
    week_start: date | None = None  # "Week beginning 07/09/2026", or the first day of a date range
    date_from: date | None = None  # "01/09/2025 to 19/12/2025"
    date_to: date | None = None
    run_on: date | None = None  # "Report run 11/09/2026 16:05": the data as at this day


def title_facts(lines: list[str]) -> TitleFacts:
    facts = TitleFacts()
    ranges: list[list[date]] = []
    for line in lines:
        found = values.dates_in_text(line)
        if not found:
            continue
        if _RUN_WORDS.search(line) and not _WEEK_WORDS.search(line):
            facts.run_on = facts.run_on or found[-1]
            continue
        if _WEEK_WORDS.search(line) and facts.week_start is None:
            facts.week_start = found[0]
        ranges.append(found)
    for found in ranges:
        if len(found) >= 2 and facts.date_from is None:
            facts.date_from, facts.date_to = found[0], found[1]
    if facts.week_start is None and facts.date_from is not None:
        facts.week_start = facts.date_from
    if facts.week_start is None and ranges:
        facts.week_start = ranges[0][0]
    return facts
