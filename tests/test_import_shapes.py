"""Importer: every shape of FORMATS.md, from the sample exports in data/samples and from
tiny files written in the test — title rows, split and merged headers, totals and keys,
every date form, every encoding."""

from __future__ import annotations

import importlib.util
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.importers import import_bytes, import_file, read_export
from core.importers.headers import meaning_of
from tests.app_school import empty_school, quick_hashes, signed_in  # noqa: F401 (fixtures)
from tests.conftest import filled_once, make_upn, roll_csv

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
A, B, C = make_upn(1), make_upn(2), make_upn(3)


def load_samples_module():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(db) -> list[tuple]:
    """(upn, date, session, code, minutes_late) of every stored mark, in order."""
    rows = db.execute(
        "SELECT p.upn, date(m.day * 86400, 'unixepoch'), m.session, m.code, m.minutes_late "
        "FROM marks m JOIN pupils p ON p.id = m.pupil_id ORDER BY p.upn, m.day, m.session").fetchall()
    return [(u, d, ("AM", "PM")[s], c, late) for u, d, s, c, late in rows]


def xlsx(rows: list[list], merges: list[str] = ()) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.strip().replace("\n", "\r\n").encode(encoding) + b"\r\n"


@pytest.fixture
@filled_once
def roll(db):
    """Three Year 7 pupils on the roll (admission numbers 00001-00003)."""
    outcome = import_bytes(db, csv_bytes(roll_csv({}, {}, {"surname": "Nowak", "forename": "Zoë"})), "roll.csv", "t")
    assert outcome.status == "imported"
    return db


# --- the samples -------------------------------------------------------------------

SAMPLE_SHAPES = {
    "pupil_roll.csv": "pupil_roll",
    "long_marks.csv": "long_marks",
    "weekly_grid.xlsx": "weekly_grid",
    "weekly_grid.csv": "weekly_grid",
    "weekday_grid.csv": "weekday_grid",
    "marks_string.csv": "marks_string",
    "summary_counts.csv": "summary_counts",
}
# The layouts the MIS suppliers document (read in tests/test_import_mis_formats.py): (shape, rows).
SUPPLIER_SAMPLES = {
    "sims_sessions.xml": ("sims_session_xml", 60),
    "sims_sessions_2024.xml": ("sims_session_xml", 60),
    "ctf_attendance.xml": ("ctf_attendance", 6),
    "wonde_sessions.json": ("wonde_session_json", 60),
    "census_counts.csv": ("summary_counts", 6),
}


@pytest.mark.parametrize("name, shape", SAMPLE_SHAPES.items())
def test_each_sample_export_is_read_as_its_shape_without_problems(name, shape):
    read = read_export((SAMPLES / name).read_bytes(), name)
    assert (read.shape, read.problems) == (shape, [])
    assert read.rows == (60 if shape == "long_marks" else 6)  # one row per session, or per pupil


def test_the_samples_import_in_order_into_one_school_with_every_mark_where_it_belongs(db):
    samples = load_samples_module()
    for name in SAMPLE_SHAPES:
        assert import_file(db, SAMPLES / name, "officer").status == "imported", name
    marks = stored(db)
    assert len(marks) == 6 * 5 * 10  # six pupils, five weeks, ten sessions
    expected = {}
    for week in range(5):
        for i, pupil in enumerate(samples.PUPILS):
            for s, mark in enumerate(samples.marks(week, i)):
                day = samples.week_days(week)[s // 2].isoformat()
                expected[(pupil["upn"], day, ("AM", "PM")[s % 2])] = "" if mark == "-" else mark
    assert {(u, d, s): c for u, d, s, c, _ in marks} == expected


def test_the_committed_csv_samples_are_what_the_generator_writes(tmp_path):
    load_samples_module().main(tmp_path)
    for name in SAMPLE_SHAPES:
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    assert read_export((tmp_path / "weekly_grid.xlsx").read_bytes(), "w.xlsx").marks["mark"].tolist() == \
        read_export((SAMPLES / "weekly_grid.xlsx").read_bytes(), "w.xlsx").marks["mark"].tolist()


def test_names_with_accents_read_the_same_from_utf8_bom_and_windows_1252(db):
    samples = load_samples_module()
    import_file(db, SAMPLES / "pupil_roll.csv", "officer")  # UTF-8 with BOM
    names = {u: (s, f) for u, s, f in db.execute("SELECT upn, surname, forename FROM pupils")}
    cp1252 = read_export((SAMPLES / "weekly_grid.csv").read_bytes(), "weekly_grid.csv")  # Windows-1252
    assert {(u, s, f) for u, s, f in cp1252.pupils[["upn", "surname", "forename"]].itertuples(index=False)} == \
        {(p["upn"], *names[p["upn"]]) for p in samples.PUPILS}
    assert names[samples.upn(4)] == ("Nowak", "Zoë")


def test_the_report_run_date_in_a_title_row_is_the_data_as_at_date(db):
    import_file(db, SAMPLES / "pupil_roll.csv", "officer")
    import_file(db, SAMPLES / "weekly_grid.xlsx", "officer")
    assert db.execute("SELECT data_as_at FROM imports ORDER BY id").fetchall() == [("2026-09-04",), ("2026-09-18",)]


# --- headers -----------------------------------------------------------------------


@pytest.mark.parametrize("header, meaning", [
    ("UPN", "upn"), ("Unique Pupil Number", "upn"), ("pupil upn", "upn"), ("Adm No.", "adno"), ("ADNO", "adno"),
    ("Admission Number", "adno"), ("Legal Surname", "surname"), ("Family Name", "surname"),
    ("Preferred Forename", "forename"), ("Pupil Name", "name"), ("NC Year", "year_group"),
    ("Registration Group", "form"), ("Tutor Group", "form"), ("Date of Birth", "dob"), ("D.O.B.", "dob"),
    ("Session Date", "date"), ("AM/PM", "session"), ("Attendance Code", "mark"), ("Raw Mark", "mark"),
    ("Late (mins)", "minutes_late"), ("Mins Late", "minutes_late"), ("minutes_late", "minutes_late"),
    ("Ever 6 FSM", "fsm"), ("Looked After", "cla"), ("Week Beginning", "week_start"), ("W/C", "week_start"),
    ("Possible Sessions", "possible"), ("Unauthorised Absences", "unauthorised"),
    ("Unauthorized Absence", "unauthorised"), ("Attendance %", None), ("Comments", "comment"), ("Notes about", None),
])
def test_headers_are_matched_by_meaning_ignoring_case_spaces_punctuation_and_word_order(header, meaning):
    assert meaning_of(header) == meaning


def test_title_rows_blank_rows_and_a_totals_and_key_row_are_skipped_and_rows_keep_their_numbers(roll):
    read = read_export(csv_bytes(f"""
Attendance by session
Printed 12/09/2026 08:00

Pupil UPN,Session Date,AM/PM,Attendance Code
{A},07/09/2026,AM,/

{A},07/09/2026,PM,Q7
Total,,,1
Key: / present AM
N,= no reason yet,,
"""), "marks.csv")
    assert read.shape == "long_marks"
    assert read.marks["row"].tolist() == [5, 7]
    assert read.data_as_at == date(2026, 9, 12)


def test_a_header_split_over_two_rows_is_read_date_above_am_pm_below(roll):
    read = read_export(csv_bytes(f"""
,,Mon 07/09/2026,,Tue 08/09/2026,
UPN,Name,AM,PM,AM,PM
{A},"Surname1, Forename1",/,\\,N,
"""), "grid.csv")
    assert read.shape == "weekly_grid"
    assert sorted(zip(read.marks["date"].dt.strftime("%d/%m"), read.marks["session"], read.marks["mark"])) == [
        ("07/09", 0, "/"), ("07/09", 1, "\\"), ("08/09", 0, "N"), ("08/09", 1, "")]
    assert read.marks["column"].astype(str).tolist()[0] == "Mon 07/09/2026 AM"


def test_merged_xlsx_header_cells_carry_their_date_over_the_am_and_pm_columns(db, roll):
    content = xlsx([
        ["Attendance Marks"], [],
        ["Adno", "Name", datetime(2026, 9, 7), None, datetime(2026, 9, 8), None],
        [None, None, "AM", "PM", "AM", "PM"],
        [1, "Surname1, Forename1", "/", "\\", "I", "I"],
        [2, "Surname2, Forename2", "/", "\\", "/", "L"],
        ["Total", None, 2, 2, 1, 2],
    ], merges=["C3:D3", "E3:F3"])
    outcome = import_bytes(db, content, "marks.xlsx", "officer")
    assert (outcome.status, outcome.shape, outcome.marks_added) == ("imported", "weekly_grid", 8)
    by_pupil = {u: [c for v, _, _, c, _ in stored(db) if v == u] for u in (A, B)}
    assert by_pupil == {A: ["/", "\\", "I", "I"], B: ["/", "\\", "/", "L"]}  # admission numbers 1, 2 ≡ 00001, 00002


def test_a_weekday_grid_takes_its_week_from_a_title_row(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
Register for the week commencing Monday 7th September 2026
UPN,MonAM,MonPM,Tue AM,Tue PM,Wednesday AM
{A},/,\\,n,N,i
"""), "week.csv", "officer")
    assert (outcome.status, outcome.shape, outcome.date_from, outcome.date_to) == (
        "imported", "weekday_grid", "2026-09-07", "2026-09-09")
    assert [(d, s, c) for _, d, s, c, _ in stored(db)] == [
        ("2026-09-07", "AM", "/"), ("2026-09-07", "PM", "\\"), ("2026-09-08", "AM", "N"), ("2026-09-08", "PM", "N"),
        ("2026-09-09", "AM", "I")]


def test_a_weekday_grid_takes_each_rows_week_from_a_week_column(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Week Beginning,Mon AM,Mon PM,Fri AM,Fri PM
{A},07/09/2026,/,\\,/,\\
{A},14/09/2026,N,N,/,\\
"""), "weeks.csv", "officer")
    assert (outcome.shape, outcome.marks_added, outcome.date_from, outcome.date_to) == (
        "weekday_grid", 8, "2026-09-07", "2026-09-18")


def test_marks_strings_are_two_characters_a_day_am_then_pm_with_blanks_and_dashes_missing(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Week Commencing,Marks
{A},07/09/2026,//\\\\LN//##
{B},07/09/2026,/\\ \\-\\/\\
"""), "strings.csv", "officer")
    assert (outcome.shape, outcome.marks_added) == ("marks_string", 20)
    marks = {(u, d, s): c for u, d, s, c, _ in stored(db)}
    assert [marks[(A, f"2026-09-{7 + i // 2:02d}", ("AM", "PM")[i % 2])] for i in range(10)] == \
        ["/", "/", "\\", "\\", "L", "N", "/", "/", "#", "#"]
    assert [marks[(B, f"2026-09-{7 + i // 2:02d}", ("AM", "PM")[i % 2])] for i in range(10)] == \
        ["/", "\\", "", "\\", "", "\\", "/", "\\", "", ""]  # Thursday PM on: the string ended, still missing


def test_a_register_grid_skips_registration_group_headings_between_pupils(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Name,07/09/2026 AM,07/09/2026 PM
Reg Group: 7A,,,
{A},"Surname1, Forename1",/,\\
Reg Group: 7B,,,
{B},"Surname2, Forename2",/,N
"""), "grid.csv", "officer")
    assert (outcome.status, outcome.rows, outcome.marks_added, outcome.problems) == ("imported", 2, 4, [])


def test_a_semicolon_separated_csv_is_read(db, roll):
    outcome = import_bytes(db, csv_bytes(f"UPN;Date;Session;Mark\n{A};07/09/2026;AM;/"), "m.csv", "officer")
    assert (outcome.status, outcome.marks_added) == ("imported", 1)


def test_a_long_marks_file_reads_register_names_that_say_am_or_pm(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Date,Register,Mark
{A},07/09/2026,AM Registration,/
{A},07/09/2026,Afternoon,\\
{A},08/09/2026,morning,/
"""), "m.csv", "officer")
    assert [(d, s) for _, d, s, _, _ in stored(db)] == [("2026-09-07", "AM"), ("2026-09-07", "PM"), ("2026-09-08", "AM")]
    assert outcome.status == "imported"


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "07/09/2026", "7/9/26", "7/9/2026", "2026-09-07", "2026-09-07 00:00:00", "07/09/2026 00:00", "46272",
    "Mon 07/09/2026", "7 Sep 2026", "07-Sep-2026", "7 September 2026", "07.09.2026",
])
def test_every_date_form_in_formats_md_reads_as_the_same_day(db, roll, written):
    import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark\n{A},{written},AM,/"), "m.csv", "officer")
    assert [d for _, d, _, _, _ in stored(db)] == ["2026-09-07"]


def test_an_ambiguous_date_is_read_in_uk_order(db, roll):
    import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark\n{A},04/05/2026,AM,/"), "m.csv", "officer")
    assert [d for _, d, _, _, _ in stored(db)] == ["2026-05-04"]


def test_a_date_in_us_order_is_refused_with_a_message_saying_so(db, roll):
    outcome = import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark\n{A},09/15/2026,AM,/"), "m.csv", "officer")
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "Date")]
    assert "month/day order" in outcome.problems[0].message


def test_xlsx_dates_stored_as_datetimes_and_as_serial_numbers_are_read(db, roll):
    content = xlsx([["UPN", "Date", "Session", "Mark"], [A, datetime(2026, 9, 7), "AM", "/"], [A, 46272, "PM", "\\"]])
    outcome = import_bytes(db, content, "m.xlsx", "officer")
    assert (outcome.status, outcome.marks_added) == ("imported", 2)
    assert {d for _, d, _, _, _ in stored(db)} == {"2026-09-07"}


# --- marks -------------------------------------------------------------------------


def test_marks_are_trimmed_and_upper_cased_and_the_sims_dash_is_a_missing_mark(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Date,Session,Mark
{A},07/09/2026,AM, l
{A},07/09/2026,PM,u 
{A},08/09/2026,AM,-
{A},08/09/2026,PM,
"""), "m.csv", "officer")
    assert outcome.status == "imported"
    assert [c for _, _, _, c, _ in stored(db)] == ["L", "U", "", ""]


def test_local_codes_are_read_through_the_schools_code_map(db, roll):
    from core import store

    store.set_local_code(db, "I01", "I", "admin")
    outcome = import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark\n{A},07/09/2026,AM,i01"), "m.csv", "officer")
    assert outcome.status == "imported"
    assert [c for _, _, _, c, _ in stored(db)] == ["I"]


def test_minutes_late_are_stored_with_the_late_mark(db, roll):
    import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark,Late (mins)\n{A},07/09/2026,AM,L,12\n{A},07/09/2026,PM,\\,"),
                 "m.csv", "officer")
    assert [(c, late) for _, _, _, c, late in stored(db)] == [("L", 12), ("\\", None)]


# --- pupil roll and summary counts -------------------------------------------------


def test_a_roll_with_a_full_name_column_splits_surname_and_forename(db):
    outcome = import_bytes(db, csv_bytes(f"""
UPN,Pupil Name,Year Group,Form
{A},"Garcia Lopez, María",Y7,7A
{B},Seán O'Neill-Byrne,Reception,RB
"""), "roll.csv", "officer")
    assert outcome.status == "imported"
    pupils = {u: rest for u, *rest in db.execute("SELECT upn, surname, forename, year_group, nc_year FROM pupils")}
    assert pupils == {A: ["Garcia Lopez", "María", "7", 7], B: ["O'Neill-Byrne", "Seán", "R", 0]}


def test_a_partial_roll_updates_only_the_columns_it_has(db, roll):
    db.execute("UPDATE pupils SET eal = 1 WHERE upn = ?", (A,))
    outcome = import_bytes(db, csv_bytes(f"UPN,Surname,Forename,Form\n{A},Surname1,Forename1,7Z"), "forms.csv", "t")
    assert (outcome.status, outcome.pupils_updated) == ("imported", 1)
    assert db.execute("SELECT form, eal, year_group FROM pupils WHERE upn = ?", (A,)).fetchone() == ("7Z", 1, "7")


def test_summary_counts_are_stored_as_a_roll_up_and_invent_no_marks(db, roll):
    outcome = import_bytes(db, csv_bytes(f"""
Attendance summary 20/04/2026 to 17/07/2026
UPN,Possible,Present,Authorised,Unauthorised
{A},250,240,6,4
{B},250,240,10,0
"""), "summary.csv", "officer")
    assert (outcome.status, outcome.shape, outcome.date_from, outcome.date_to) == (
        "imported", "summary_counts", "2026-04-20", "2026-07-17")
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone() == (0,)
    assert db.execute("SELECT possible_sessions, attendance_sessions, authorised_sessions, unauthorised_sessions "
                      "FROM summary_counts ORDER BY pupil_id").fetchall() == [(250, 240, 6, 4), (250, 240, 10, 0)]


def test_summary_counts_that_do_not_add_up_are_refused(db, roll):
    outcome = import_bytes(db, csv_bytes(f"UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
                                         f"{A},01/09/2025,19/12/2025,100,90,5,4"), "s.csv", "officer")
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "Possible")]


def test_summary_counts_for_dates_the_store_has_marks_for_are_refused(db, roll):
    import_bytes(db, csv_bytes(f"UPN,Date,Session,Mark\n{A},08/09/2025,AM,/"), "m.csv", "officer")
    outcome = import_bytes(db, csv_bytes(f"UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
                                         f"{A},01/09/2025,19/12/2025,100,90,6,4"), "s.csv", "officer")
    assert outcome.status == "rejected"
    assert "only for dates with no marks" in outcome.problems[0].message
    assert db.execute("SELECT COUNT(*) FROM summary_counts").fetchone() == (0,)


# --- the table of shapes: each shape one row, read by detection, reading, importing and Upload ----------


def test_every_shape_row_names_its_label_detection_columns_reader_and_what_it_stores():
    from dataclasses import fields

    from core.importers import detection
    from core.importers.headers import LABELS
    from core.importers.results import ColumnMapping
    from core.importers.shapes import SHAPES

    mapping_dates = {f.name for f in fields(ColumnMapping) if f.name in ("week_start", "date_from", "date_to")}
    # every shape has a sample export, read above or in test_import_mis_formats
    assert set(SHAPES) == set(SAMPLE_SHAPES.values()) | {shape for shape, _ in SUPPLIER_SAMPLES.values()}
    for shape_id, shape in SHAPES.items():
        assert shape.id == shape_id
        assert shape.label.strip() and shape.described_as.strip(), shape_id
        assert shape.needs and set(shape.needs) <= set(detection.NEEDS), shape_id
        assert shape.columns and set(shape.columns) <= set(LABELS), shape_id
        assert callable(shape.reader), shape_id
        assert shape.stores in ("marks", "counts", "pupils"), shape_id
        assert set(shape.given_dates) <= mapping_dates, shape_id
    assert len({s.tried for s in SHAPES.values()}) == len(SHAPES)  # no two tried at once
    assert len({s.label for s in SHAPES.values()}) == len(SHAPES)  # the upload screen tells them apart


def test_detection_tries_grids_then_marks_then_counts_then_marks_strings_and_the_roll_last():
    from core.importers import detection

    assert [s.id for s in detection.in_the_order_tried()] == [
        "sims_session_xml", "wonde_session_json", "ctf_attendance",  # their own layouts first (XML, JSON, CTF)
        "weekly_grid", "weekday_grid", "long_marks", "summary_counts", "marks_string", "pupil_roll"]


def a_new_shape_row(monkeypatch, **row):
    """A shape added as one row (reading long marks, tried before every other shape), and
    the files its reader was given."""
    from core.importers import shapes

    given = []

    def read_test_marks(body, result):
        given.append(len(body.cells))
        shapes.read_long_marks(body, result)

    shape = shapes.Shape("test_marks", "Test register marks", "test marks file (one row per session)",
                         needs=("upn", "date", "session", "mark"), tried=0,
                         columns=("upn", "date", "session", "mark"), reader=read_test_marks, stores="marks",
                         **row)
    monkeypatch.setitem(shapes.SHAPES, shape.id, shape)
    return given


TEST_MARKS = csv_bytes(f"""
UPN,Date,Session,Mark
{A},08/09/2025,AM,/
{A},08/09/2025,PM,N
{B},08/09/2025,AM,/
""")


def test_a_new_shape_row_is_detected_read_by_its_reader_and_imported_as_what_it_stores(db, roll, monkeypatch):
    from core.importers import detect

    given = a_new_shape_row(monkeypatch)
    found = detect(TEST_MARKS, "test.csv")
    assert (found.shape, found.mapping.shape) == ("test_marks", "test_marks")
    assert found.message == "test.csv looks like a test marks file (one row per session)."
    outcome = import_bytes(db, TEST_MARKS, "test.csv", "officer")
    assert (outcome.status, outcome.shape, outcome.marks_added) == ("imported", "test_marks", 3)
    assert given == [3]
    assert sorted(stored(db)) == sorted([(A, "2025-09-08", "AM", "/", None), (A, "2025-09-08", "PM", "N", None),
                                         (B, "2025-09-08", "AM", "/", None)])


def test_a_new_shape_row_is_named_and_offered_with_its_columns_and_dates_on_the_upload_screen(
        empty_school, monkeypatch):
    from core.importers.headers import LABELS

    a_new_shape_row(monkeypatch, given_dates=("week_start",))
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("test.csv", TEST_MARKS, "text/csv")]).run()
    assert not app.exception
    assert any("Detected: **Test register marks**" in m.value for m in app.markdown)
    chosen = next(box for box in app.selectbox if box.key and box.key.endswith("_shape"))
    assert chosen.value == "test_marks" and "Test register marks" in chosen.options
    assert app.dataframe[0].value["Meaning"].tolist() == [LABELS[m] for m in ("upn", "date", "session", "mark")]
    assert [d.label for d in app.date_input] == ["Week beginning"]
