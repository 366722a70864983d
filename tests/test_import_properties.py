"""Importer, property-based: the same register written every way an MIS might write it —
rows and columns shuffled, headers renamed by their synonyms, dates, sessions, marks and
UPNs spelled differently, re-encoded, other delimiters, title and blank rows, as a long
file, a grid or a workbook — stores exactly the same marks."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from core import store
from core.importers import import_bytes
from core.importers.headers import MEANINGS
from tests.conftest import examples, make_upn, roll_csv

UPNS = [make_upn(i) for i in range(1, 5)]
NAMES = ["Zoë Nowak", "Seán O'Brien", "María Garcia Lopez", "Tom Smith-Jones"]
DAYS = [date(2025, 9, 8) + timedelta(days=i) for i in range(5)]  # Monday to Friday
CODES = ["/", "\\", "L", "N", "I", "M", "#", "C2", "J1", "", "-"]
SETTINGS = settings(max_examples=examples(5), deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

Register = dict  # (upn, date, session 0/1) → mark as written


@st.composite
def registers(draw) -> Register:
    """A complete register: every pupil has a mark (perhaps none yet) for every session."""
    pupils, days = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    return {(u, d, s): draw(st.sampled_from(CODES)) for u in UPNS[:pupils] for d in DAYS[:days] for s in (0, 1)}


def expected(register: Register) -> list[tuple]:
    return sorted((u, d.isoformat(), s, "" if m == "-" else m) for (u, d, s), m in register.items())


def stored_after(content: bytes, name: str) -> list[tuple]:
    """The marks a fresh store holds after importing the roll and then `content`."""
    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "school.db")
        try:
            import_bytes(db, roll_csv(*({} for _ in UPNS)).encode(), "roll.csv", "test")
            outcome = import_bytes(db, content, name, "test")
            assert outcome.status == "imported", [p.message for p in outcome.problems]
            rows = db.execute("SELECT p.upn, date(m.day * 86400, 'unixepoch'), m.session, m.code FROM marks m "
                              "JOIN pupils p ON p.id = m.pupil_id").fetchall()
        finally:
            db.conn.close()
    return sorted(rows)


# --- ways of writing each part ------------------------------------------------------

DATE_FORMS = [
    lambda d: d.strftime("%d/%m/%Y"), lambda d: d.isoformat(), lambda d: f"{d.day}/{d.month}/{d:%y}",
    lambda d: d.strftime("%d-%b-%Y"), lambda d: f"{d:%Y-%m-%d} 00:00:00", lambda d: str((d - date(1899, 12, 30)).days),
    lambda d: d.strftime("%a %d/%m/%Y"),
]
SESSION_FORMS = [("AM", "PM"), ("am", "pm"), ("Morning", "Afternoon"), ("AM Registration", "PM Registration")]
CASES = [str, str.upper, str.lower, str.title]


def spelled(draw, meaning: str) -> str:
    return draw(st.sampled_from(CASES))(draw(st.sampled_from(MEANINGS[meaning])))


def mark_as_written(draw, mark: str) -> str:
    return draw(st.sampled_from([mark, mark.lower(), f" {mark}", f"{mark} "])) if mark else draw(st.sampled_from(["", "-", " "]))


def upn_as_written(draw, upn: str) -> str:
    return draw(st.sampled_from([upn, upn.lower(), f"{upn} ", f" {upn.lower()}  "]))


def to_bytes(draw, rows: list[list[str]]) -> bytes:
    """CSV in a random delimiter and encoding, perhaps with title and blank rows above."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    above = draw(st.sampled_from([[], [["Attendance export"]], [["Attendance export"], ["Printed 12/09/2025"], []]]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(above + rows)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])))


def to_workbook(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@st.composite
def long_exports(draw, register: Register) -> tuple[bytes, str]:
    meanings = ["upn", "date", "session", "mark"] + draw(st.sampled_from([[], ["name"]]))
    meanings = draw(st.permutations(meanings))
    date_form, (am, pm) = draw(st.sampled_from(DATE_FORMS)), draw(st.sampled_from(SESSION_FORMS))
    rows = []
    for (u, d, s), m in register.items():
        cell = {"upn": upn_as_written(draw, u), "date": date_form(d), "session": (am, pm)[s],
                "mark": mark_as_written(draw, m), "name": NAMES[UPNS.index(u)]}
        rows.append([cell[k] for k in meanings])
    rows = draw(st.permutations(rows))
    header = [spelled(draw, k) for k in meanings]
    if draw(st.booleans()):
        return to_workbook([header, *rows]), "marks.xlsx"
    return to_bytes(draw, [header, *rows]), "marks.csv"


@st.composite
def grid_exports(draw, register: Register) -> tuple[bytes, str]:
    sessions = sorted({(d, s) for (_, d, s) in register})
    sessions = draw(st.permutations(sessions))
    pupils = draw(st.permutations(sorted({u for (u, _, _) in register})))
    date_form = draw(st.sampled_from(DATE_FORMS[:4] + DATE_FORMS[6:]))
    two_rows = draw(st.booleans())
    id_header = [spelled(draw, "upn"), spelled(draw, "name")]
    body = [[upn_as_written(draw, u), NAMES[UPNS.index(u)]]
            + [mark_as_written(draw, register[(u, d, s)]) for d, s in sessions] for u in pupils]
    if two_rows:
        header = [["", ""] + [date_form(d) for d, _ in sessions], id_header + [("AM", "PM")[s] for _, s in sessions]]
    else:
        header = [id_header + [f"{date_form(d)} {('AM', 'PM')[s]}" for d, s in sessions]]
    if draw(st.booleans()):
        return to_workbook(header + body), "grid.xlsx"
    return to_bytes(draw, header + body), "grid.csv"


# --- the properties -------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_a_long_export_written_any_way_stores_the_same_marks(data):
    register = data.draw(registers())
    content, name = data.draw(long_exports(register))
    assert stored_after(content, name) == expected(register)


@SETTINGS
@given(st.data())
def test_a_register_grid_written_any_way_stores_the_same_marks(data):
    register = data.draw(registers())
    content, name = data.draw(grid_exports(register))
    assert stored_after(content, name) == expected(register)


@SETTINGS
@given(st.data())
def test_a_register_as_a_grid_and_as_a_long_file_stores_the_same_marks(data):
    register = data.draw(registers())
    long_content, long_name = data.draw(long_exports(register))
    grid_content, grid_name = data.draw(grid_exports(register))
    assert stored_after(long_content, long_name) == stored_after(grid_content, grid_name)
