"""Importer: the layouts the MIS suppliers document (FORMATS.md) — SIMS session attendance
XML and its 2024 extended form, the DfE Common Transfer File's AttendSessions, Wonde-style
session JSON, census-style counts — from the samples in data/samples and from tiny files
written in the test; CamelCase headers, `yyyy-Mon-dd` dates, MIS sub-codes; pupils matched
by the MIS id the roll carries; and a short, plain refusal for what cannot be read."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core import cli, store
from core.importers import detect, import_bytes, import_file, read_export
from core.importers.values import parse_date_text
from tests.app_school import quick_hashes, school, signed_in  # noqa: F401 (fixtures)
from tests.conftest import filled_once, make_upn
from tests.test_import_shapes import SAMPLES, SUPPLIER_SAMPLES, csv_bytes, load_samples_module, stored

A, B, C = make_upn(1), make_upn(2), make_upn(3)
MONDAY = date(2026, 11, 9)
SHORT = 300  # no refusal of an unreadable XML or JSON file is longer than this

NEW_SAMPLES = SUPPLIER_SAMPLES


def marks_count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM marks").fetchone()[0]


def pupils_count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0]


def roll_with_ids(header: str = "Person ID", ids=("6420", "6421", "6422")) -> bytes:
    lines = [f"UPN,Adno,{header},Surname,Forename,Year"]
    for i, (upn, mis_id) in enumerate(zip((A, B, C), ids), start=1):
        lines.append(f"{upn},{i:05d},{mis_id},Surname{i},Forename{i},7")
    return csv_bytes("\n".join(lines))


@pytest.fixture
@filled_once
def roll(db):
    """Three pupils on the roll with SIMS Person IDs 6420-6422."""
    assert import_bytes(db, roll_with_ids(), "roll.csv", "t").status == "imported"
    return db


def sims_xml(records: list[dict], extra: str = "", encoding: str = "iso-8859-1") -> bytes:
    """A SIMS session attendance document; each record's elements in the order given."""
    body = "".join("<SessionAttendance>" + "".join(f"<{k}>{v}</{k}>" if v != "" else f"<{k} />"
                                                    for k, v in r.items()) + "</SessionAttendance>\n" for r in records)
    text = f'<?xml version="1.0" encoding="{encoding}" standalone="yes"?>\n{extra}<SessionAttendances>\n{body}' \
           "</SessionAttendances>\n"
    return text.encode(encoding)


def session(person="6420", day=MONDAY, name="AM", mark="/", late="0", **more) -> dict:
    return {"PersonID": person, "AttendanceDate": f"{day.isoformat()}T09:00:00", "SessionName": name,
            "AttendanceMark": mark, "MinsLate": late, **more}


def wonde(records: list[dict]) -> bytes:
    return json.dumps({"data": records, "meta": {"pagination": {"more": False}}}).encode()


def wonde_record(student="A100", day=MONDAY, name="AM", code="/", late=0) -> dict:
    return {"id": "B1", "student": student, "session": name,
            "date": {"date": f"{day.isoformat()} 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
            "attendance_code": {"data": {"id": "C1", "code": code}}, "minutes_late": late}


def ctf(pupils: list[tuple[str, str, str]]) -> bytes:
    """A CTF whose pupils are (UPN, start date, marks string)."""
    body = "".join(f"<Pupil><UPN>{upn}</UPN><Surname>S</Surname><Forename>F</Forename><DOB>2014-01-15</DOB>"
                   f"<Attendance><YearData><Year>2026</Year><AttendSessions><AttendanceStartDate>{start}"
                   f"</AttendanceStartDate><AttendanceMarks>{marks}</AttendanceMarks></AttendSessions></YearData>"
                   "</Attendance></Pupil>" for upn, start, marks in pupils)
    return (f'<?xml version="1.0" encoding="UTF-8"?><CTfile><Header><CTFversion>26.0</CTFversion></Header>'
            f"<CTFpupilData>{body}</CTFpupilData></CTfile>").encode()


# --- the samples ---------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", NEW_SAMPLES.items())
def test_each_supplier_layout_sample_is_read_as_its_shape_without_problems(name, expected):
    read = read_export((SAMPLES / name).read_bytes(), name)
    assert (read.shape, read.rows, read.problems) == (*expected, [])


def test_the_supplier_layout_samples_import_after_the_roll_with_every_mark_where_it_belongs(db):
    samples = load_samples_module()
    assert import_file(db, SAMPLES / "pupil_roll.csv", "officer").status == "imported"
    for name in NEW_SAMPLES:
        outcome = import_file(db, SAMPLES / name, "officer")
        assert (outcome.status, [p.message for p in outcome.problems]) == ("imported", []), name
    assert pupils_count(db) == 6  # every file matched the roll's pupils; none was added
    expected = {}
    for week in (5, 6, 8, 9, 10):
        for i, pupil in enumerate(samples.PUPILS):
            for s, mark in enumerate(samples.mis_marks(week, i)):
                sub = samples.SUB_CODES.get((i, s)) if week == 6 else None
                code = sub if sub in ("C1",) else mark  # the 2024 form's C with sub-code C1 is C1; I01 is I
                day = samples.week_days(week)[s // 2].isoformat()
                expected[(pupil["upn"], day, ("AM", "PM")[s % 2])] = code
    assert {(u, d, s): c for u, d, s, c, _ in stored(db)} == expected


def test_the_sims_samples_minutes_late_and_the_roll_s_person_ids_are_stored(db):
    samples = load_samples_module()
    import_file(db, SAMPLES / "pupil_roll.csv", "officer")
    import_file(db, SAMPLES / "sims_sessions.xml", "officer")
    assert dict(db.execute("SELECT upn, mis_id FROM pupils").fetchall()) == \
        {p["upn"]: p["person_id"] for p in samples.PUPILS}
    late = db.execute("SELECT code, minutes_late FROM marks WHERE code = 'L'").fetchall()
    assert late == [("L", 7)]


def test_census_counts_are_read_as_summary_counts_for_their_term(db):
    read = read_export((SAMPLES / "census_counts.csv").read_bytes(), "census_counts.csv")
    counts = read.counts.assign(date_from=read.counts["date_from"].dt.date, date_to=read.counts["date_to"].dt.date)
    first = counts.iloc[1]
    assert (first["date_from"], first["date_to"], first["possible"], first["authorised"], first["unauthorised"],
            first["attendance"]) == (date(2026, 1, 5), date(2026, 3, 27), 118, 3, 1, 114)


def test_the_committed_supplier_layout_samples_are_what_the_generator_writes(tmp_path):
    load_samples_module().main(tmp_path)
    for name in NEW_SAMPLES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_pastoral_import_json_on_a_sims_sample_keeps_the_contract(db_path, capsys):
    assert cli.main(["--db", str(db_path), "import", "--format", "json", str(SAMPLES / "pupil_roll.csv")]) == 0
    capsys.readouterr()
    path = str(SAMPLES / "sims_sessions.xml")
    assert cli.main(["--db", str(db_path), "import", "--format", "json", path]) == 0
    assert json.loads(capsys.readouterr().out) == {"files": [{
        "file": path, "status": "imported", "shape": "sims_session_xml", "rows": 60, "pupils": 6,
        "marks_added": 60, "marks_changed": 0, "date_from": "2026-10-12", "date_to": "2026-10-16", "problems": []}]}


def test_pastoral_import_json_rejects_an_unreadable_xml_file_with_one_short_problem(db_path, tmp_path, capsys):
    path = tmp_path / "register.xml"
    path.write_bytes((SAMPLES / "sims_sessions.xml").read_bytes()[:5000])
    assert cli.main(["--db", str(db_path), "import", "--format", "json", str(path)]) == 1
    (outcome,) = json.loads(capsys.readouterr().out)["files"]
    assert (outcome["status"], outcome["shape"], outcome["marks_added"], len(outcome["problems"])) == \
        ("rejected", None, 0, 1)
    assert len(outcome["problems"][0]["message"]) <= SHORT


# --- SIMS session attendance XML -----------------------------------------------------


def test_sims_xml_is_matched_through_the_person_id_the_roll_carries(roll):
    outcome = import_bytes(roll, sims_xml([session("6420", mark="/"), session("6421", name="PM", mark="N")]),
                           "sims.xml", "t")
    assert (outcome.status, outcome.shape, outcome.problems) == ("imported", "sims_session_xml", [])
    assert {(u, d, s, c) for u, d, s, c, _ in stored(roll)} == {
        (A, MONDAY.isoformat(), "AM", "/"), (B, MONDAY.isoformat(), "PM", "N")}


def test_sims_xml_with_person_ids_no_pupil_carries_is_refused_naming_how_many_and_some(roll):
    records = [session("6420")] + [session(str(9000 + i)) for i in range(20)]
    outcome = import_bytes(roll, sims_xml(records), "sims.xml", "t")
    assert outcome.status == "rejected"
    (problem,) = [p for p in outcome.problems if p.severity == "error"]
    assert "20 pupil ids in the PersonID column match no pupil on the roll (e.g. 9000, 9001, 9002)" in problem.message
    assert (pupils_count(roll), marks_count(roll)) == (3, 0)  # no pupil made up, nothing stored


def test_sims_xml_extended_form_reads_the_sub_code_where_it_is_a_dfe_code(roll):
    records = [session(mark="C", AttendanceMarkSubCode="C1", Minute="0"),
               session(name="PM", mark="I", AttendanceMarkSubCode="I01", Minute="0")]
    outcome = import_bytes(roll, sims_xml(records), "sims.xml", "t")
    assert (outcome.status, outcome.problems) == ("imported", [])
    assert [c for *_, c, _ in stored(roll)] == ["C1", "I"]


def test_sims_xml_in_iso_8859_1_is_decoded_as_declared_and_its_entities_resolved(db):
    import_bytes(db, roll_with_ids(ids=("P\u00e920", "P\u00e921", "P\u00e922")), "roll.csv", "t")
    content = sims_xml([session("P\u00e921", name="A&#77;", mark="&#47;")])
    assert b"P\xe921" in content  # iso-8859-1, as SIMS writes it
    outcome = import_bytes(db, content, "sims.xml", "t")
    assert (outcome.status, outcome.problems) == ("imported", [])
    assert [(u, s, c) for u, _, s, c, _ in stored(db)] == [(B, "AM", "/")]


def test_sims_xml_written_another_way_reads_the_same_as_the_plain_form(roll):
    plain = [session("6420"), session("6421", name="PM", mark="L", late="5")]
    reordered = [{"SessionName": "AM", "AttendanceMark": "/", "PersonID": "6420",
                  "AttendanceDate": f"{MONDAY.isoformat()}T09:00:00"},
                 session("6421", name="PM", mark="L", late="5")]
    fast = read_export(sims_xml(plain), "a.xml")
    parsed = read_export(sims_xml(reordered), "b.xml")  # elements in another order: read by the XML parser
    columns = ["pupil", "date", "session", "mark"]
    assert fast.marks[columns].to_dict("list") == parsed.marks[columns].to_dict("list")
    assert fast.pupils["mis_id"].tolist() == parsed.pupils["mis_id"].tolist() == ["6420", "6421"]


def test_a_sims_record_with_an_unreadable_date_or_session_names_the_record_and_element(roll):
    records = [session(), session(name="Lunch"), {**session(), "AttendanceDate": "next Tuesday"}]
    read = read_export(sims_xml(records), "sims.xml")
    assert {(p.row, p.column) for p in read.errors} == {(2, "SessionName"), (3, "AttendanceDate")}


@pytest.mark.parametrize("content, words", [
    (sims_xml([session()] * 3)[:150], "not complete, well-formed XML"),
    (b'<?xml version="1.0"?><Register><Row/></Register>', "root element <Register> is not a register export"),
    (b"<html><head><title>Login</title></head><body>Session expired</body></html>",
     "root element <html> is not a register export"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
     b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><SessionAttendances><SessionAttendance><PersonID>'
     b"&lol3;</PersonID></SessionAttendance></SessionAttendances>", "document type (DTD)"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]><SessionAttendances>'
     b"<SessionAttendance><PersonID>&secret;</PersonID></SessionAttendance></SessionAttendances>",
     "document type (DTD)"),
    (sims_xml([session()]).replace(b"</SessionAttendance>", b"") + b"", "not complete, well-formed XML"),
], ids=["truncated", "wrong root", "html page", "entity bomb", "external entity", "record never closed"])
def test_xml_pastoral_cannot_read_is_refused_shortly_and_nothing_is_stored(roll, content, words):
    outcome = import_bytes(roll, content, "register.xml", "t")
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert words in problem.message and len(problem.message) <= SHORT
    assert "root:" not in problem.message and "lol" not in problem.message
    assert marks_count(roll) == 0


def test_sims_xml_without_marks_says_what_is_missing_in_a_few_words(roll):
    content = sims_xml([{"PersonID": "6420", "AttendanceDate": "2026-11-09T09:00:00", "SessionName": "AM"}])
    outcome = import_bytes(roll, content, "sims.xml", "t")
    (problem,) = outcome.problems
    assert outcome.status == "rejected" and "Mark" in problem.message and len(problem.message) <= SHORT


# --- the DfE Common Transfer File -------------------------------------------------------


def test_ctf_marks_run_am_then_pm_from_the_start_date_and_hash_is_no_session(roll):
    friday = MONDAY - timedelta(days=3)
    outcome = import_bytes(roll, ctf([(A, friday.isoformat(), "/N####I\\")]), "ctf.xml", "t")
    assert (outcome.status, outcome.shape, outcome.problems) == ("imported", "ctf_attendance", [])
    assert [(d, s, c) for _, d, s, c, _ in stored(roll)] == [
        (friday.isoformat(), "AM", "/"), (friday.isoformat(), "PM", "N"),
        (MONDAY.isoformat(), "AM", "I"), (MONDAY.isoformat(), "PM", "\\")]


def test_a_ctf_pupil_with_an_unreadable_start_date_is_an_error_on_that_pupil(roll):
    read = read_export(ctf([(A, "2026-11-09", "/\\"), (B, "soon", "/\\")]), "ctf.xml")
    assert [(p.row, p.column) for p in read.errors] == [(2, "AttendanceStartDate")]


def test_a_ctf_with_only_the_years_counts_is_read_as_summary_counts(roll):
    content = (b'<?xml version="1.0"?><CTfile><CTFpupilData><Pupil><UPN>' + A.encode() + b"</UPN><Attendance>"
               b"<YearData><Year>2025</Year><SessionsPossible>300</SessionsPossible><SessionsAttended>290"
               b"</SessionsAttended><SessionsAuthorised>8</SessionsAuthorised><SessionsUnauthorised>2"
               b"</SessionsUnauthorised></YearData></Attendance></Pupil></CTFpupilData></CTfile>")
    read = read_export(content, "ctf.xml")
    assert (read.shape, read.problems) == ("summary_counts", [])
    row = read.counts.iloc[0]
    assert (row["date_from"].date(), row["date_to"].date(), row["possible"], row["attendance"]) == \
        (date(2025, 9, 1), date(2026, 8, 31), 300, 290)


def test_a_truncated_ctf_is_refused_shortly(roll):
    outcome = import_bytes(roll, ctf([(A, "2026-11-09", "/\\")])[:-40], "ctf.xml", "t")
    assert outcome.status == "rejected" and len(outcome.problems[0].message) <= SHORT


# --- Wonde-style session JSON -----------------------------------------------------------


def test_wonde_json_is_matched_through_the_student_id_the_roll_carries(db):
    import_bytes(db, roll_with_ids("Wonde ID", ("A100", "A101", "A102")), "roll.csv", "t")
    outcome = import_bytes(db, wonde([wonde_record("A100"), wonde_record("A101", name="PM", code="L", late=4)]),
                           "wonde.json", "t")
    assert (outcome.status, outcome.shape, outcome.problems) == ("imported", "wonde_session_json", [])
    assert {(u, s, c, late) for u, _, s, c, late in stored(db)} == {(A, "AM", "/", 0), (B, "PM", "L", 4)}


def test_wonde_json_pages_in_a_list_are_read_as_one_file(db):
    import_bytes(db, roll_with_ids("Wonde ID", ("A100", "A101", "A102")), "roll.csv", "t")
    pages = json.dumps([{"data": [wonde_record("A100")]}, {"data": [wonde_record("A100", name="PM", code="\\")]}])
    outcome = import_bytes(db, pages.encode(), "wonde.json", "t")
    assert (outcome.status, outcome.marks_added) == ("imported", 2)


def test_wonde_json_with_an_included_student_is_matched_by_its_upn(db):
    import_bytes(db, roll_with_ids(), "roll.csv", "t")
    record = wonde_record({"data": {"id": "A999", "upn": B}})
    outcome = import_bytes(db, wonde([record]), "wonde.json", "t")
    assert outcome.status == "imported" and [u for u, *_ in stored(db)] == [B]


@pytest.mark.parametrize("content, words", [
    (json.dumps({"data": [1, 2, 3]}).encode(), "not Wonde-style session attendance"),
    (json.dumps({"students": []}).encode(), "not Wonde-style session attendance"),
    (json.dumps({"data": [{"id": "x", "name": "Pat"}] * 2000}).encode(), "not Wonde-style session attendance"),
    (json.dumps({"data": []}).encode(), "no session records"),
    (wonde([wonde_record()] * 3)[:-30], "not complete, valid JSON"),
], ids=["numbers", "no data list", "big file of other records", "empty", "truncated"])
def test_json_pastoral_cannot_read_is_refused_shortly_never_echoing_the_file(db, content, words):
    outcome = import_bytes(db, content, "export.json", "t")
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert words in problem.message and len(problem.message) <= SHORT and "Pat" not in problem.message


def test_a_csv_whose_title_starts_with_a_bracket_is_still_read_as_csv(db):
    text = f"[Attendance] week of 09/11/2026\nUPN,Date,Session,Mark\n{A},09/11/2026,AM,/\n"
    assert read_export(text.encode(), "marks.csv").shape == "long_marks"


# --- headers, dates and codes --------------------------------------------------------


def test_camelcase_headers_are_read_as_their_words(roll):
    text = "PersonID,AttendanceDate,SessionName,AttendanceMark,MinsLate\n6420,2026-11-09T09:00:00,AM,L,12\n"
    outcome = import_bytes(roll, text.encode(), "sessions.csv", "t")
    assert (outcome.status, outcome.shape, outcome.problems) == ("imported", "long_marks", [])
    assert [(c, late) for *_, c, late in stored(roll)] == [("L", 12)]


@pytest.mark.parametrize("text, expected", [
    ("2014-Feb-02 00:00:00", date(2014, 2, 2)), ("2026-Nov-09", date(2026, 11, 9)),
    ("2026-sep-7", date(2026, 9, 7)), ("2026-Foo-07", None)])
def test_year_month_name_day_dates_are_read(text, expected):
    assert parse_date_text(text) == expected


def test_marks_dated_year_month_name_day_import(roll):
    text = f"UPN,Date,Session,Mark\n{A},2026-Nov-09 00:00:00,AM,/\n"
    outcome = import_bytes(roll, text.encode(), "marks.csv", "t")
    assert outcome.status == "imported" and stored(roll)[0][1] == "2026-11-09"


def test_mis_sub_codes_are_read_as_their_dfe_code_by_default(roll):
    text = f"UPN,Date,Session,Mark\n{A},2026-11-09,AM,I01\n{A},2026-11-09,PM,i02\n{B},2026-11-09,AM,X01\n"
    outcome = import_bytes(roll, text.encode(), "marks.csv", "t")
    assert (outcome.status, outcome.problems) == ("imported", [])
    assert {(u, s, c) for u, _, s, c, _ in stored(roll)} == {(A, "AM", "I"), (A, "PM", "I"), (B, "AM", "X")}


def test_a_school_s_own_mapping_of_a_sub_code_replaces_the_default(roll):
    store.set_local_code(roll, "I01", "M", "admin", "our MIS uses I01 for appointments")
    text = f"UPN,Date,Session,Mark\n{A},2026-11-09,AM,I01\n"
    assert import_bytes(roll, text.encode(), "marks.csv", "t").status == "imported"
    assert [c for *_, c, _ in stored(roll)] == ["M"]


def test_a_column_of_plain_numbers_is_not_proposed_as_dates(db):
    text = "Ref,Session Date,AM/PM,Mark\n" + "".join(f"{45000 + i},09/11/2026,AM,/\n" for i in range(10))
    found = detect(text.encode(), "marks.csv")
    assert "date" not in {m for m, c in found.mapping.columns.items() if c == "Ref"}


# --- pupils matched by admission number or MIS id ---------------------------------------


def test_a_register_keyed_by_student_id_is_matched_through_the_roll_and_the_id_is_kept(db):
    import_bytes(db, roll_with_ids("Student ID", ("S-1", "S-2", "S-3")), "roll.csv", "t")
    assert dict(db.execute("SELECT upn, mis_id FROM pupils").fetchall()) == {A: "S-1", B: "S-2", C: "S-3"}
    text = "Student ID,Date,Session,Mark\ns-2 ,09/11/2026,AM,N\n"
    outcome = import_bytes(db, text.encode(), "marks.csv", "t")
    assert (outcome.status, outcome.problems) == ("imported", [])
    assert [(u, c) for u, _, _, c, _ in stored(db)] == [(B, "N")]


def test_a_register_keyed_by_admission_number_is_matched_through_the_roll(roll):
    text = "Adno,Date,Session,Mark\n2,09/11/2026,AM,/\n"
    assert import_bytes(roll, text.encode(), "marks.csv", "t").status == "imported"
    assert [u for u, *_ in stored(roll)] == [B]


def test_student_ids_mapped_by_hand_as_upns_are_refused_rather_than_made_into_pupils(roll):
    text = "Student ID,Date,Session,Mark\n" + "".join(f"{7000 + i},09/11/2026,AM,/\n" for i in range(20))
    mapping = {"shape": "long_marks", "columns": {"upn": "Student ID", "date": "Date", "session": "Session",
                                                  "mark": "Mark"}}
    outcome = import_bytes(roll, text.encode(), "marks.csv", "t", mapping=mapping)
    assert outcome.status == "rejected"
    assert any("20 values in the Student ID column are not a UPN" in p.message and "7000, 7001, 7002" in p.message
               for p in outcome.problems)
    assert (pupils_count(roll), marks_count(roll)) == (3, 0)


def test_a_pupil_named_only_by_an_unknown_mis_id_is_refused_even_beside_known_ones(roll):
    text = "Person ID,Date,Session,Mark\n6420,09/11/2026,AM,/\n7777,09/11/2026,AM,/\n"
    outcome = import_bytes(roll, text.encode(), "marks.csv", "t")
    assert outcome.status == "rejected"
    assert [p.message.split(" (e.g.")[0] for p in outcome.problems if "no pupil on the roll" in p.message] == [
        "1 pupil id in the Person ID column matches no pupil on the roll"]
    assert marks_count(roll) == 0


def test_an_la_extract_with_a_column_per_absence_code_is_read_as_summary_counts(db):
    text = (f"upn,surname,possible,I,M,N,O,G,startdate,enddate\n"
            f"{A},Surname1,120,3,1,2,,1,2026-Jan-05 00:00:00,2026-Mar-27 00:00:00\n")
    read = read_export(text.encode(), "la_extract.csv")
    assert (read.shape, read.problems) == ("summary_counts", [])
    row = read.counts.iloc[0]
    assert (row["possible"], row["authorised"], row["unauthorised"], row["attendance"]) == (120, 4, 3, 113)


# --- Admin → Codes ------------------------------------------------------------------------


def test_admin_codes_lists_the_default_sub_codes_until_the_school_maps_one(school):
    def defaults_caption(app) -> str:
        return next(c.value for c in app.caption if "sub-codes read by default" in c.value)

    app = signed_in("admin", "admin")
    assert "I01 → I" in defaults_caption(app) and "X07 → X" in defaults_caption(app)
    form = app.form(key="local_code")
    form.text_input[0].input("I01")
    form.selectbox[0].set_value("M")
    form.button[0].click()
    app.run()
    with store.opened(school) as db:
        assert store.code_mappings(db)["I01"] == "M"
    assert "I01 →" not in defaults_caption(signed_in("admin", "admin"))


def test_sims_xml_saved_as_utf_16_is_read_by_the_xml_parser(roll):
    content = sims_xml([session("6420"), session("6421", name="PM", mark="I")], encoding="utf-16")
    assert content[:2] in (b"\xff\xfe", b"\xfe\xff")
    outcome = import_bytes(roll, content, "sims.xml", "t")
    assert (outcome.status, outcome.shape, outcome.marks_added) == ("imported", "sims_session_xml", 2)
