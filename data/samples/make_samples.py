"""Write the sample exports in data/samples/: one small file per shape the importer reads.

Six synthetic pupils (UPNs with local-authority number 999, so never a real child's)
in a small secondary school, and five consecutive school weeks of the autumn term 2026,
each week in a different shape, the way SIMS, Arbor, Bromcom and friends lay them out.
Imported in order — roll, then the weeks, then the summer-term counts — they make a
coherent school. The layouts the MIS suppliers document (SIMS session attendance XML and its
2024 form, the DfE CTF, Wonde-style JSON, census counts) follow for later weeks of the term;
README.md beside this file says where each layout comes from. Regenerate with:

    .venv/bin/python data/samples/make_samples.py [folder]
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.importers.values import upn_check_letter  # noqa: E402

FOLDER = Path(__file__).resolve().parent
FIRST_MONDAY = date(2026, 9, 7)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")


def upn(serial: int) -> str:
    digits = f"999123420{serial:03d}"  # LA 999, establishment 1234, year 20, serial
    return upn_check_letter(digits) + digits


# Names with an apostrophe, a hyphen, accents and a double surname, as real rolls have.
PUPILS = [
    {"upn": upn(1), "adno": "000101", "person_id": "6421", "surname": "O'Brien", "forename": "Siobhán", "dob": "2014-03-02",
     "gender": "F", "year": "Year 7", "form": "7A", "pp": "Y", "fsm": "Y", "sen": "N", "eal": "N", "cla": "N"},
    {"upn": upn(2), "adno": "000102", "person_id": "6422", "surname": "Smith-Jones", "forename": "Tom", "dob": "2014-07-19",
     "gender": "M", "year": "Year 7", "form": "7A", "pp": "N", "fsm": "N", "sen": "K", "eal": "N", "cla": "N"},
    {"upn": upn(3), "adno": "000103", "person_id": "6423", "surname": "Garcia Lopez", "forename": "María", "dob": "2013-11-30",
     "gender": "F", "year": "Year 8", "form": "8B", "pp": "N", "fsm": "N", "sen": "N", "eal": "Y", "cla": "N"},
    {"upn": upn(4), "adno": "000104", "person_id": "6424", "surname": "Nowak", "forename": "Zoë", "dob": "2013-01-08",
     "gender": "F", "year": "Year 8", "form": "8B", "pp": "Y", "fsm": "N", "sen": "E", "eal": "Y", "cla": "N"},
    {"upn": upn(5), "adno": "000105", "person_id": "6425", "surname": "Okafor", "forename": "Chidi", "dob": "2012-05-23",
     "gender": "M", "year": "Year 9", "form": "9C", "pp": "N", "fsm": "N", "sen": "N", "eal": "N", "cla": "Y"},
    {"upn": upn(6), "adno": "000106", "person_id": "6426", "surname": "Patel", "forename": "Aarav", "dob": "2012-09-14",
     "gender": "M", "year": "Year 9", "form": "9C", "pp": "N", "fsm": "Y", "sen": "N", "eal": "N", "cla": "N"},
]

# Each pupil's week, AM then PM for Monday to Friday, one line per week.
WEEKS = [
    ["/\\/\\/\\/\\/\\", "/\\NN/\\/\\L\\", "/\\/\\MI/\\/\\", "IIII/\\/\\/\\", "/\\/\\/\\/\\- ", "NNNNNNNNNN"],
    ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\NN", "/\\L\\/\\/\\/\\", "NNNNOOOOGG"],
    ["/\\/\\/\\/\\/\\", "/\\/\\IIII/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "UUOONNNNNN"],
    ["/\\/\\/\\####", "/\\/\\/\\####", "/\\/\\/\\####", "/\\/\\/\\####", "/\\/\\/\\####", "NN//NN####"],
    ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "MM/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "NNNNNN/\\/\\"],
]


def week_days(week: int) -> list[date]:
    monday = FIRST_MONDAY + timedelta(weeks=week)
    return [monday + timedelta(days=i) for i in range(5)]


def marks(week: int, pupil: int) -> list[str]:
    """The pupil's ten marks that week ('' where the register was left blank)."""
    return [m.strip() for m in WEEKS[week][pupil]]


def write_csv(folder: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (folder / name).write_bytes(buffer.getvalue().encode(encoding))


# What the roll says about each pupil's family, contacts and groups (fictional: Ofcom drama
# numbers, example.org, ZZ postcodes). Tom and Aarav are half-brothers (one family id);
# ethnicity is written as codes and as descriptions, as MIS reports do.
FAMILIES = [
    {"contact": "Aoife O'Brien", "relationship": "Mother", "phone": "07700 900101", "email": "aoife.obrien@example.org",
     "address": "4 Mill Lane, Riverside", "postcode": "ZZ1 1AA", "family": "", "ethnicity": "WIRI", "carer": "N",
     "social": "", "vulnerable": "N", "breakfast": "Y"},
    {"contact": "Priya Patel", "relationship": "Mother", "phone": "07700 900102", "email": "priya.patel@example.org",
     "address": "12 Church Street, Riverside", "postcode": "ZZ1 2BB", "family": "F0102", "ethnicity": "MOTH",
     "carer": "N", "social": "", "vulnerable": "N", "breakfast": "N"},
    {"contact": "Lucía Lopez", "relationship": "Mother", "phone": "07700 900103", "email": "",
     "address": "7 Station Road, Riverside", "postcode": "ZZ1 3CC", "family": "", "ethnicity": "White - Other",
     "carer": "N", "social": "CIN", "vulnerable": "Y", "breakfast": "N"},
    {"contact": "Jan Nowak", "relationship": "Father", "phone": "07700 900104", "email": "jan.nowak@example.org",
     "address": "21 Park Avenue, Riverside", "postcode": "ZZ1 4DD", "family": "", "ethnicity": "Gypsy/Roma",
     "carer": "N", "social": "", "vulnerable": "N", "breakfast": "Y"},
    {"contact": "Riverside Children's Services", "relationship": "Social worker", "phone": "01632 960105",
     "email": "", "address": "", "postcode": "", "family": "", "ethnicity": "BAFR", "carer": "Y",
     "social": "CLA", "vulnerable": "Y", "breakfast": "N"},
    {"contact": "Priya Patel", "relationship": "Mother", "phone": "07700 900102", "email": "priya.patel@example.org",
     "address": "12 Church Street, Riverside", "postcode": "ZZ1 2BB", "family": "F0102", "ethnicity": "AIND",
     "carer": "N", "social": "", "vulnerable": "N", "breakfast": "N"},
]


def roll(folder: Path) -> None:
    """SIMS-style pupil roll, UTF-8 with a BOM, two title rows above the header; with SIMS's
    own Person ID (which the SIMS XML sample is keyed by), the contacts, family, ethnicity, young carer, social worker, vulnerable and flag columns."""
    header = ["UPN", "Adno", "Person ID", "Legal Surname", "Legal Forename", "DOB", "Gender", "Year", "Reg Group",
              "Pupil Premium", "FSM Eligible", "SEN Status", "EAL", "Looked After", "Primary Contact Name",
              "Primary Contact Relationship", "Contact 1 Telephone", "Contact 1 Email", "Address", "Postcode",
              "Family ID", "Ethnicity", "Young Carer", "Social Worker", "Vulnerable", "Flag: Breakfast club"]
    keys = ["upn", "adno", "person_id", "surname", "forename", "dob", "gender", "year", "form", "pp", "fsm", "sen", "eal", "cla",
            "contact", "relationship", "phone", "email", "address", "postcode", "family", "ethnicity", "carer",
            "social", "vulnerable", "breakfast"]
    rows = [["Pupil roll — Sample Academy"], ["Report run 04/09/2026 09:12"], header]
    for p, family in zip(PUPILS, FAMILIES):
        record = {**p, **family, "dob": date.fromisoformat(p["dob"]).strftime("%d/%m/%Y")}
        rows.append([record[k] for k in keys])
    write_csv(folder, "pupil_roll.csv", rows, encoding="utf-8-sig")


def long_marks(folder: Path) -> None:
    """Arbor-style long marks for week 1: one row per pupil per session, a name column,
    lower-case marks, the SIMS '-' for a mark not yet entered, minutes late."""
    rows = [["Student UPN", "Student Name", "Date", "Session", "Mark", "Minutes Late"]]
    for i, p in enumerate(PUPILS):
        for d, day in enumerate(week_days(0)):
            for s, session in enumerate(("AM", "PM")):
                mark = marks(0, i)[d * 2 + s] or "-"
                late = "12" if mark == "L" else ""
                rows.append([p["upn"].lower() + " ", f"{p['forename']} {p['surname']}", day.strftime("%d/%m/%Y"),
                             session, mark.lower() if mark in "LNI" else mark, late])
    write_csv(folder, "long_marks.csv", rows)


def long_marks_corrected(folder: Path) -> None:
    """Week 1 again, exported after Tom's parent rang (his two N on Tuesday are I), saved as
    Excel's "Unicode Text": tab-separated UTF-16 with a BOM, a title and the run date above.
    Dropped with long_marks.csv, the two disagree about those two sessions."""
    rows = [["Attendance marks — week 1, corrected"], ["Report run 10/09/2026 15:30"],
            ["Student UPN", "Student Name", "Date", "Session", "Mark", "Minutes Late"]]
    for i, p in enumerate(PUPILS):
        for d, day in enumerate(week_days(0)):
            for s, session in enumerate(("AM", "PM")):
                mark = marks(0, i)[d * 2 + s] or "-"
                mark = "I" if (i, mark) == (1, "N") else mark
                rows.append([p["upn"], f"{p['forename']} {p['surname']}", day.strftime("%d/%m/%Y"), session, mark,
                             "12" if mark == "L" else ""])
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows(rows)
    (folder / "long_marks_corrected.txt").write_bytes(buffer.getvalue().encode("utf-16"))


def weekly_grid_xlsx(folder: Path) -> None:
    """SIMS 'Attendance marks' report for week 2 as XLSX: title rows, the header split over
    two rows (each date merged over its AM and PM columns), admission numbers that lost
    their leading zeros, 'Surname, Forename' names, a totals row and a key at the end."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Attendance Marks"
    sheet.append(["Attendance Marks"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Report run 18/09/2026 16:05"])
    sheet.append([])
    days = week_days(1)
    sheet.append(["Adno", "Name", "Reg Group"] + [x for d in days for x in (d, None)])
    sheet.append([None, None, None] + ["AM", "PM"] * 5)
    for column, day in enumerate(days):
        first = 4 + column * 2
        sheet.merge_cells(start_row=4, start_column=first, end_row=4, end_column=first + 1)
        cell = sheet.cell(row=4, column=first)
        cell.number_format = "ddd dd/mm/yyyy"
        cell.alignment = Alignment(horizontal="center")
    for i, p in enumerate(PUPILS):
        sheet.append([int(p["adno"]), f"{p['surname']}, {p['forename']}", p["form"]] + marks(1, i))
    sheet.append([])
    sheet.append(["Total", None, None] + [sum(1 for i in range(6) if marks(1, i)[s] in "/\\L") for s in range(10)])
    sheet.append(["Key: / \\ present, L late, N no reason yet, I illness, M medical, O unauthorised, G holiday"])
    book.save(folder / "weekly_grid.xlsx")


def weekly_grid_csv(folder: Path) -> None:
    """Bromcom-style week view for week 3 as Windows-1252 CSV: one header row, each session
    column headed by weekday, date and AM/PM; forename and surname columns."""
    days = week_days(2)
    header = ["UPN", "Forename", "Surname"] + [f"{d:%a} {d:%d/%m/%Y} {s}" for d in days for s in ("AM", "PM")]
    rows = [header] + [[p["upn"], p["forename"], p["surname"]] + marks(2, i) for i, p in enumerate(PUPILS)]
    write_csv(folder, "weekly_grid.csv", rows, encoding="cp1252")


def weekday_grid(folder: Path) -> None:
    """A weekday grid for week 4 (Thursday and Friday a planned closure, '#'): the week's
    start in a title row, sessions headed MonAM … FriPM, a blank row inside the data."""
    header = ["UPN", "Pupil Name", "Year"] + [f"{d}{s}" for d in WEEKDAYS for s in ("AM", "PM")]
    rows = [[f"Weekly attendance — week beginning {week_days(3)[0]:%d/%m/%Y}"], [], header]
    for i, p in enumerate(PUPILS):
        rows.append([p["upn"], f"{p['surname']}, {p['forename']}", p["year"]] + marks(3, i))
        if i == 2:
            rows.append([])
    write_csv(folder, "weekday_grid.csv", rows)


def marks_string(folder: Path) -> None:
    """One string of marks per pupil for week 5, two characters a day (AM then PM), with
    the week's start in a column."""
    rows = [["UPN", "Surname", "Forename", "Week Beginning", "Marks"]]
    for i, p in enumerate(PUPILS):
        rows.append([p["upn"], p["surname"], p["forename"], week_days(4)[0].strftime("%d/%m/%Y"), WEEKS[4][i]])
    write_csv(folder, "marks_string.csv", rows)


def summary_counts(folder: Path) -> None:
    """Per-pupil counts for the summer term 2026, before the marks begin: kept as a roll-up."""
    rows = [["Attendance summary 20/04/2026 to 17/07/2026"],
            ["UPN", "Name", "Possible Sessions", "Present", "Authorised Absences", "Unauthorised Absences",
             "Attendance %"]]
    for i, p in enumerate(PUPILS):
        possible, authorised, unauthorised = 250, 4 + 3 * i, 2 * i
        present = possible - authorised - unauthorised
        rows.append([p["upn"], f"{p['forename']} {p['surname']}", possible, present, authorised, unauthorised,
                     f"{100 * present / possible:.1f}"])
    write_csv(folder, "summary_counts.csv", rows)


# --- layouts the MIS suppliers document (data/samples/README.md cites each source) ------

# Weeks 6 to 11 of the autumn term (12/10/2026 on; half term 26/10 to 30/10), AM then PM for
# Monday to Friday, one line per pupil.
MIS_WEEKS = {
    5: ["/\\/\\/\\/\\/\\", "/\\/\\NN/\\/\\", "/\\/\\/\\L\\/\\", "/\\MM/\\/\\/\\", "/\\/\\/\\/\\/\\", "NNNN/\\/\\GG"],
    6: ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\CC", "IIII/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "UUNN/\\/\\NN"],
    8: ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\IIII/\\", "/\\/\\/\\/\\/\\", "/\\L\\/\\/\\/\\", "NNNNNNNNNN"],
    9: ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "MM/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\NNOO/\\/\\"],
    10: ["/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\/\\", "/\\/\\/\\/\\II", "/\\/\\/\\/\\/\\", "GGGGGGGGGG"],
}
# The 2024 extended SIMS form shows a sub-code beside some marks (week 7): C with C1 (licensed
# performance), I with I01, and I02 given as the mark itself, as Arbor and SIMS 8 show it.
SUB_CODES = {(1, 8): "C1", (1, 9): "C1", (2, 0): "I01", (2, 1): "I01"}
MARK_AS_SUB_CODE = {(2, 2): "I02", (2, 3): "I02"}


def mis_marks(week: int, pupil: int) -> list[str]:
    """The pupil's ten marks in a week of the MIS samples, each as a DfE code."""
    return list(MIS_WEEKS[week][pupil])


def sims_xml(folder: Path) -> None:
    """SIMS partner-API session attendance for week 6, as TPAttendanceRead's
    GetXmlSessionAttendances returns it: iso-8859-1, one SessionAttendance per pupil and
    session, keyed by SIMS's Person ID (carried by the roll), '-' for no mark yet."""
    lines = ['<?xml version="1.0" encoding="iso-8859-1" standalone="yes"?>', "<SessionAttendances>"]
    for i, p in enumerate(PUPILS):
        for d, day in enumerate(week_days(5)):
            for s, session in enumerate(("AM", "PM")):
                mark = mis_marks(5, i)[d * 2 + s]
                comment = "Rendez-vous m\u00e9dical" if mark == "M" else ""
                lines += ["  <SessionAttendance>", f"    <PersonID>{p['person_id']}</PersonID>",
                          "    <BaseGroupID>0</BaseGroupID>",
                          f"    <AttendanceDate>{day.isoformat()}T{('09:00', '13:15')[s]}:00</AttendanceDate>",
                          f"    <SessionName>{session}</SessionName>", f"    <AttendanceMark>{mark}</AttendanceMark>",
                          f"    <MinsLate>{7 if mark == 'L' else 0}</MinsLate>",
                          f"    <Comments>{comment}</Comments>" if comment else "    <Comments />",
                          "  </SessionAttendance>"]
    lines.append("</SessionAttendances>")
    (folder / "sims_sessions.xml").write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))


def sims_xml_2024(folder: Path) -> None:
    """The 2024 extended SIMS form for week 7: each session also carries Minute (minutes late)
    and AttendanceMarkSubCode; some marks are MIS sub-codes (I02) read as their DfE code."""
    lines = ['<?xml version="1.0" encoding="iso-8859-1" standalone="yes"?>', "<SessionAttendances>"]
    for i, p in enumerate(PUPILS):
        for d, day in enumerate(week_days(6)):
            for s, session in enumerate(("AM", "PM")):
                position = d * 2 + s
                dfe = mis_marks(6, i)[position]
                sub = SUB_CODES.get((i, position), "")
                mark = MARK_AS_SUB_CODE.get((i, position), dfe[0] if sub else dfe)
                lines += ["  <SessionAttendance>", f"    <PersonID>{p['person_id']}</PersonID>",
                          f"    <AttendanceDate>{day.isoformat()}T00:00:00</AttendanceDate>",
                          f"    <SessionName>{session}</SessionName>", f"    <AttendanceMark>{mark}</AttendanceMark>",
                          f"    <AttendanceMarkSubCode>{sub}</AttendanceMarkSubCode>" if sub
                          else "    <AttendanceMarkSubCode />",
                          "    <MinsLate>0</MinsLate>", "    <Minute>0</Minute>", "    <Comments />",
                          "  </SessionAttendance>"]
    lines.append("</SessionAttendances>")
    (folder / "sims_sessions_2024.xml").write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))


def ctf_attendance(folder: Path) -> None:
    """A DfE Common Transfer File for weeks 9 and 10 (after half term): per pupil,
    Attendance/YearData with the year's session counts and AttendSessions — the start date and
    one character per session, AM then PM, '#' on the weekend between (no session)."""
    start = week_days(8)[0]
    pupils = []
    for i, p in enumerate(PUPILS):
        marks = "".join(mis_marks(8, i)) + "####" + "".join(mis_marks(9, i))
        possible = sum(1 for m in marks if m != "#")
        absent = sum(1 for m in marks if m in "IMCNOGU")
        unauthorised = sum(1 for m in marks if m in "NOGU")
        pupils.append(
            "    <Pupil>\n"
            f"      <UPN>{p['upn']}</UPN>\n      <Surname>{p['surname']}</Surname>\n"
            f"      <Forename>{p['forename']}</Forename>\n      <DOB>{p['dob']}</DOB>\n"
            f"      <Sex>{p['gender']}</Sex>\n"
            "      <Attendance>\n        <YearData>\n          <Year>2026</Year>\n          <LEA>999</LEA>\n"
            "          <Estab>1234</Estab>\n          <SchoolName>Sample Academy</SchoolName>\n"
            f"          <SessionsPossible>{possible}</SessionsPossible>\n"
            f"          <SessionsAuthorised>{absent - unauthorised}</SessionsAuthorised>\n"
            f"          <SessionsAttended>{possible - absent}</SessionsAttended>\n"
            f"          <SessionsUnauthorised>{unauthorised}</SessionsUnauthorised>\n"
            "          <AttendSessions>\n"
            f"            <AttendanceStartDate>{start.isoformat()}</AttendanceStartDate>\n"
            f"            <AttendanceMarks>{escape(marks)}</AttendanceMarks>\n"
            "          </AttendSessions>\n        </YearData>\n      </Attendance>\n    </Pupil>\n")
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n  <Header>\n'
            "    <DocumentName>Common Transfer File</DocumentName>\n    <CTFversion>26.0</CTFversion>\n"
            "    <DateTime>2026-11-14T10:00:00</DateTime>\n    <DocumentQualifier>partial</DocumentQualifier>\n"
            "    <SourceSchool><LEA>999</LEA><Estab>1234</Estab><SchoolName>Sample Academy</SchoolName>"
            "</SourceSchool>\n  </Header>\n  <CTFpupilData>\n" + "".join(pupils) + "  </CTFpupilData>\n</CTfile>\n")
    (folder / "ctf_attendance.xml").write_bytes(text.encode("utf-8"))


def wonde_json(folder: Path) -> None:
    """Wonde-style session attendance for week 11, as two pages of the attendance endpoint
    with the student included: its Wonde id, and the MIS id the roll carries (Person ID)."""
    pages = []
    for half in (PUPILS[:3], PUPILS[3:]):
        records = []
        for p in half:
            i = PUPILS.index(p)
            for d, day in enumerate(week_days(10)):
                for s, session in enumerate(("AM", "PM")):
                    mark = mis_marks(10, i)[d * 2 + s]
                    records.append({
                        "id": f"B{1000 + len(records) + 100 * i}",
                        "student": {"data": {"id": f"A17491914{i:02d}", "mis_id": p["person_id"]}},
                        "session": session,
                        "date": {"date": f"{day.isoformat()} 00:00:00.000000", "timezone_type": 3,
                                 "timezone": "Europe/London"},
                        "attendance_code": {"data": {"id": f"C{ord(mark[0])}", "code": mark}},
                        "minutes_late": 0, "comment": None})
        pages.append({"data": records, "meta": {"pagination": {"more": half is PUPILS[:3], "per_page": 30}}})
    (folder / "wonde_sessions.json").write_text(json.dumps(pages, indent=1) + "\n", encoding="utf-8")


def census_counts(folder: Path) -> None:
    """Census-style counts for the spring term 2026, as an LA extract writes them: lower-case
    run-together headers, 'yyyy-Mon-dd hh:mm:ss' dates, termly sessions possible, authorised
    and unauthorised (present is what is left)."""
    rows = [["upn", "surname", "forename", "startdate", "enddate", "termlysessionspossible",
             "termlysessionsauthorised", "termlysessionsunauthorised"]]
    for i, p in enumerate(PUPILS):
        rows.append([p["upn"], p["surname"], p["forename"], "2026-Jan-05 00:00:00", "2026-Mar-27 00:00:00",
                     "118", str(2 + i), str(i)])
    write_csv(folder, "census_counts.csv", rows)


SAMPLES = {
    "pupil_roll.csv": roll,
    "long_marks.csv": long_marks,
    "long_marks_corrected.txt": long_marks_corrected,
    "weekly_grid.xlsx": weekly_grid_xlsx,
    "weekly_grid.csv": weekly_grid_csv,
    "weekday_grid.csv": weekday_grid,
    "marks_string.csv": marks_string,
    "summary_counts.csv": summary_counts,
    "sims_sessions.xml": sims_xml,
    "sims_sessions_2024.xml": sims_xml_2024,
    "ctf_attendance.xml": ctf_attendance,
    "wonde_sessions.json": wonde_json,
    "census_counts.csv": census_counts,
}


def main(folder: Path = FOLDER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, write in SAMPLES.items():
        write(folder)
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
