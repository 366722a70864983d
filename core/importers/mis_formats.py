"""Exports that come as XML or JSON rather than a sheet: read into the same grid of text
cells a CSV gives, one row per record, so detection, the shapes' readers and every check
after them work on them unchanged.

The layouts, as their suppliers document them (FORMATS.md, "Layouts the MIS suppliers
document"; data/samples/README.md cites each source):
- SIMS partner-API session attendance (`SessionAttendances/SessionAttendance`: PersonID,
  AttendanceDate, SessionName, AttendanceMark, MinsLate, Comments; the 2024 extended form
  adds Minute and AttendanceMarkSubCode), usually iso-8859-1 → one row per session.
- The DfE Common Transfer File (`CTfile/CTFpupilData/Pupil`, with `Attendance/YearData`
  holding `AttendSessions` — AttendanceStartDate and the AttendanceMarks string — and the
  year's SessionsPossible/Authorised/Attended/Unauthorised) → one row per pupil and year
  with marks; a CTF whose years carry only the counts is read as summary counts.
- Wonde-style session JSON (`{"data": [{"student", "session", "date": {"date"},
  "attendance_code": {"data": {"code"}}, "minutes_late"}]}`, one page or a list of pages)
  → one row per session.

The grid's row 0 is the header (the elements' own names, CamelCase read as words by
headers.header_key); rows 1, 2, … are the records in file order, so a problem on "row 12"
is the 12th record. A file that is XML or JSON but not one of these is refused with a
short, plain message that never repeats the file. XML is parsed by the standard library's
C parser after refusing any DTD (`<!DOCTYPE`, `<!ENTITY`): with no DTD there are no
entities to expand or fetch, which is what defusedxml guards against — and defusedxml's
ElementTree would force the pure-Python parser, several times slower on a year's file.
"""

from __future__ import annotations

import html
import io
from concurrent.futures import ThreadPoolExecutor
import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.importers import headers
from core.importers.sheets import Sheet, UnreadableFile

SIMS_XML, CTF_XML, WONDE_JSON = "sims_xml", "ctf_xml", "wonde_json"
KINDS = (SIMS_XML, CTF_XML, WONDE_JSON)
DESCRIBED = {SIMS_XML: "SIMS session attendance XML file", CTF_XML: "Common Transfer File",
             WONDE_JSON: "Wonde-style session JSON file"}

# Columns of each layout, in the order the header reads them (the first column with a
# meaning wins, so MinsLate is read before the extended form's Minute).
SIMS_COLUMNS = ("PersonID", "AttendanceDate", "SessionName", "AttendanceMark", "AttendanceMarkSubCode", "MinsLate",
                "Minute", "Comments")
CTF_PUPIL = ("UPN", "Surname", "Forename", "DOB", "Gender", "Sex")
CTF_MARKS = ("AttendanceStartDate", "AttendanceMarks")
CTF_COUNTS = ("SessionsPossible", "SessionsAttended", "SessionsAuthorised", "SessionsUnauthorised")
WONDE_COLUMNS = ("Student ID", "UPN", "Date", "Session", "Mark", "Minutes Late", "Comment")

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def refusal(file_name: str, what: str) -> UnreadableFile:
    """A short, plain refusal (never the file's content)."""
    return UnreadableFile(f"{file_name} is {what}. Pastoral reads SIMS session attendance XML, the DfE Common "
                          "Transfer File, Wonde-style session JSON, CSV and XLSX; export the register as one of those.")


def open_structured(content: bytes, file_name: str) -> Sheet | None:
    """The XML or JSON export as a grid of text cells (its `kind` says which layout), or None
    when the file is neither XML nor JSON. Raises UnreadableFile for XML or JSON it cannot read."""
    start = _first_text(content)
    if start.startswith("<"):
        return _read_xml(content, file_name)
    if start.startswith("{"):
        return _read_json(content, file_name, certain=True)
    if start.startswith("["):
        return _read_json(content, file_name, certain=False)
    return None


def _first_text(content: bytes) -> str:
    head = content[:4096]
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, errors="ignore").lstrip()
    return head.decode("latin-1").lstrip()


# --- XML ---------------------------------------------------------------------------


def _xml_bytes(content: bytes) -> bytes:
    """The bytes to scan for a DTD: UTF-16 XML is scanned as text."""
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return content.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    return content


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _read_xml(content: bytes, file_name: str) -> Sheet:
    if _DTD.search(_xml_bytes(content)):
        raise refusal(file_name, "XML with a document type (DTD) declaration, which Pastoral does not read for safety")
    fast = _sims_rows_fast(content)
    if fast is not None:
        return Sheet(fast, SIMS_XML)
    events = ElementTree.iterparse(io.BytesIO(content), events=("start", "end"))
    try:
        _, root = next(events)
        kind = {"SessionAttendances": SIMS_XML, "CTfile": CTF_XML}.get(_local(root.tag))
        if kind is None:
            raise refusal(file_name, f"XML whose root element <{_local(root.tag)[:40]}> is not a register export")
        cells = _sims_rows(events, root) if kind == SIMS_XML else _ctf_rows(events, root)
    except ElementTree.ParseError as error:
        line = getattr(error, "position", (None, None))[0]
        where = f" (line {line})" if line else ""
        raise UnreadableFile(f"{file_name} is not complete, well-formed XML{where}: it may have been cut short. "
                             "Export it from the MIS again and upload the new file.") from error
    return Sheet(cells, kind)


def _grid(header: list[str], columns: dict[str, list]) -> pd.DataFrame:
    """Row 0 the header, rows 1… the records; '' where a record lacks an element."""
    frame = pd.DataFrame({i: pd.array([name] + columns[name], dtype="string") for i, name in enumerate(header)})
    return frame.fillna("")


def _sims_rows(events, root) -> pd.DataFrame:
    """One row per SessionAttendance: its children's text by element name."""
    columns: dict[str, list] = {name: [] for name in SIMS_COLUMNS}
    count = 0
    for event, element in events:
        if event != "end" or _local(element.tag) != "SessionAttendance":
            continue
        for column in columns.values():
            column.append(None)
        for child in element:
            name = _local(child.tag)
            if name not in columns:
                columns[name] = [None] * (count + 1)
            columns[name][count] = child.text
        count += 1
        element.clear()
        root.clear()  # the records read so far are not kept in memory
    header = [name for name, column in columns.items() if any(v is not None for v in column)]
    return _grid(header or ["PersonID"], columns)


_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_SIMS_ROOT = re.compile(rb"^\s*(<\?xml[^>]*\?>)?\s*(<!--.*?-->\s*)*<SessionAttendances[\s>]", re.S)
_SIMS_END = re.compile(rb"</SessionAttendances>\s*$")
_TAG = re.compile(r"<([A-Za-z_][\w.-]*)[\s/>]")


def _sims_rows_fast(content: bytes) -> pd.DataFrame | None:
    """A year of SIMS session attendance (570,000 records for 1,500 pupils) read column by
    column in Arrow, straight from the bytes, for the plain form SIMS writes: records of
    simple elements, no CDATA, no namespaces, the root closed at the end. None for anything
    else, which the XML parser then reads (and, when it is damaged, says where)."""
    head = content[:65536]
    if not _SIMS_ROOT.match(head) or not _SIMS_END.search(content[-4096:]):
        return None
    if b"<![CDATA[" in content or b"xmlns" in head or re.search(rb"<[A-Za-z_][\w.-]*:", head):
        return None
    declared = _DECLARED_ENCODING.match(head)
    encoding = declared[1].decode("ascii") if declared else "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        return None
    records = _records(content, b"</SessionAttendance>")
    # Each record opened once and closed once (the root's start shares the records' prefix).
    if content.count(b"<SessionAttendance") != len(records) + 1:
        return None
    sample = b"".join(records.slice(0, 200).to_pylist()).decode(encoding, errors="replace")
    found = list(dict.fromkeys(t for t in _TAG.findall(sample) if t not in ("SessionAttendance", "SessionAttendances")))
    # Only the elements a register's reader uses (a comment or base group is not stored).
    read = [n for n in SIMS_COLUMNS if n in found] + [n for n in found if n not in SIMS_COLUMNS]
    read = [n for n in read if headers.meaning_of(n) in _READ_MEANINGS]
    if not read:
        return None
    def extract(name: str) -> pa.DictionaryArray:
        tag = re.escape(name)
        return pc.struct_field(pc.extract_regex(records, rf"<{tag}\s*>(?P<v>[^<]*)</{tag}\s*>".encode()),
                               [0]).dictionary_encode()

    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow lets go of the GIL: two columns at once
        extracted = dict(zip(read, pool.map(extract, read)))
    columns = {}
    for name, value in extracted.items():
        try:  # each distinct value decoded once, entities (&amp;) resolved
            distinct = [html.unescape(v.decode(encoding)) if v is not None else ""
                        for v in value.dictionary.to_pylist()]
        except UnicodeDecodeError:
            return None
        indices = value.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
        # Row 0 the element's name, then each record's text ('' where it lacks the element).
        remap, categories = pd.factorize(pd.Series([name, *distinct, ""], dtype=object))
        codes = remap[np.concatenate([[0], indices.astype(np.int64) + 1])]
        columns[name] = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
    return pd.DataFrame({i: column for i, column in enumerate(columns.values())})


_READ_MEANINGS = {"upn", "adno", "mis_id", "surname", "forename", "name", "dob", "date", "session", "mark", "sub_code",
                  "minutes_late"}


def _records(content: bytes, closing: bytes) -> pa.Array:
    """The file cut before each `closing` tag, as Arrow values over the file's own bytes (no
    copy): value i runs from the end of record i-1 to the end tag of record i."""
    ends = [found.start() for found in re.finditer(re.escape(closing), content)]
    offsets = np.array([0, *ends], dtype=np.int64)
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets),
                                                                           pa.py_buffer(content)])


def _text(element, name: str) -> str | None:
    found = element.find(f".//{{*}}{name}")
    if found is None:
        found = element.find(f".//{name}")
    return found.text.strip() if found is not None and found.text else None


def _ctf_rows(events, root) -> pd.DataFrame:
    """One row per pupil and YearData: the pupil's identity, then the year's marks from its
    start date (or, for a CTF with no marks, the year's counts and its dates)."""
    marks_rows: list[dict] = []
    count_rows: list[dict] = []
    for event, element in events:
        if event != "end" or _local(element.tag) != "Pupil":
            continue
        pupil = {name: _text(element, name) for name in CTF_PUPIL}
        if pupil["Gender"] is None:
            pupil["Gender"] = pupil.pop("Sex")
        pupil.pop("Sex", None)
        for year in element.iter():
            if _local(year.tag) != "YearData":
                continue
            marks = {name: _text(year, name) for name in CTF_MARKS}
            if marks["AttendanceMarks"] is not None or marks["AttendanceStartDate"] is not None:
                marks_rows.append({**pupil, **marks})
            counts = {name: _text(year, name) for name in CTF_COUNTS}
            if any(v is not None for v in counts.values()):
                count_rows.append({**pupil, **counts, **_academic_year_dates(_text(year, "Year"))})
        element.clear()
        root.clear()
    rows = marks_rows or count_rows
    header = list(dict.fromkeys(k for row in rows[:1] for k in row)) or ["UPN", *CTF_MARKS]
    columns = {name: [row.get(name) for row in rows] for name in header}
    return _grid(header, columns)


def _academic_year_dates(year: str | None) -> dict:
    """A CTF Year (the year the academic year starts, e.g. 2025 for 2025/26) as the counts' dates."""
    if not year or not year.strip().isdigit():
        return {"Start Date": None, "End Date": None}
    start = int(year.strip())
    return {"Start Date": date(start, 9, 1).isoformat(), "End Date": date(start + 1, 8, 31).isoformat()}


# --- JSON --------------------------------------------------------------------------

NOT_WONDE = ("JSON that is not Wonde-style session attendance (a \"data\" list of sessions with student, date, "
             "session and attendance_code)")


def _read_json(content: bytes, file_name: str, certain: bool) -> Sheet | None:
    try:
        text = content.decode("utf-16") if content[:2] in (b"\xff\xfe", b"\xfe\xff") else content.decode("utf-8-sig")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        if not certain:
            return None  # a '[' at the start of a CSV's title row: not JSON after all
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise UnreadableFile(f"{file_name} is not complete, valid JSON{where}: it may have been cut short. "
                             "Export it again and upload the new file.") from error
    pages = data if isinstance(data, list) else [data]
    records = []
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise refusal(file_name, NOT_WONDE)
        records.extend(page["data"])
    if not records or not all(isinstance(r, dict) for r in records):
        raise refusal(file_name, NOT_WONDE if records else "JSON with no session records in its \"data\" list")
    if not all(("student" in r and "date" in r and "session" in r and "attendance_code" in r) for r in records[:50]):
        raise refusal(file_name, NOT_WONDE)
    columns: dict[str, list] = {name: [] for name in WONDE_COLUMNS}
    for record in records:
        student, upn = _wonde_student(record.get("student"))
        columns["Student ID"].append(student)
        columns["UPN"].append(upn)
        columns["Date"].append(_inner(record.get("date"), "date"))
        columns["Session"].append(_scalar(record.get("session")))
        columns["Mark"].append(_inner(_inner(record.get("attendance_code"), "data", keep=True), "code"))
        columns["Minutes Late"].append(_scalar(record.get("minutes_late")))
        columns["Comment"].append(_scalar(record.get("comment")))
    header = [name for name in WONDE_COLUMNS if name != "UPN" or any(columns["UPN"])]
    return Sheet(_grid(header, columns), WONDE_JSON)


def _scalar(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _inner(value, key: str, keep: bool = False):
    """`value[key]` when value is an object (Wonde nests `date.date`, `attendance_code.data.code`);
    a plain value as it is."""
    if isinstance(value, dict):
        inner = value.get(key)
        return inner if keep else _scalar(inner)
    return value if keep else _scalar(value)


def _wonde_student(value) -> tuple[str | None, str | None]:
    """(the student's id, the UPN when the record includes the student). A plain `student` is
    the intermediary's own id; an included student gives the MIS's own id (`mis_id`, what a
    roll exported from the MIS carries) in preference to the intermediary's."""
    if isinstance(value, dict):
        data = value.get("data") if isinstance(value.get("data"), dict) else value
        return _scalar(data.get("mis_id")) or _scalar(data.get("id")), _scalar(data.get("upn"))
    return _scalar(value), None
