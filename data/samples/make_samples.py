"""Write the sample exports in data/samples/: one small file per shape the importer reads.

Six synthetic pupils (UPNs with local-authority number 999, so never a real child's)
in a small secondary school, and five consecutive school weeks of the autumn term 2026,
each week in a different shape, the way SIMS, Arbor, Bromcom and friends lay them out.
Imported in order — roll, then the weeks, then the summer-term counts — they make a
coherent school. Regenerate with:

    .venv/bin/python data/samples/make_samples.py [folder]
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, timedelta
from pathlib import Path

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
    {"upn": upn(1), "adno": "000101", "surname": "O'Brien", "forename": "Siobhán", "dob": "2014-03-02",
     "gender": "F", "year": "Year 7", "form": "7A", "pp": "Y", "fsm": "Y", "sen": "N", "eal": "N", "cla": "N"},
    {"upn": upn(2), "adno": "000102", "surname": "Smith-Jones", "forename": "Tom", "dob": "2014-07-19",
     "gender": "M", "year": "Year 7", "form": "7A", "pp": "N", "fsm": "N", "sen": "K", "eal": "N", "cla": "N"},
    {"upn": upn(3), "adno": "000103", "surname": "Garcia Lopez", "forename": "María", "dob": "2013-11-30",
     "gender": "F", "year": "Year 8", "form": "8B", "pp": "N", "fsm": "N", "sen": "N", "eal": "Y", "cla": "N"},
    {"upn": upn(4), "adno": "000104", "surname": "Nowak", "forename": "Zoë", "dob": "2013-01-08",
     "gender": "F", "year": "Year 8", "form": "8B", "pp": "Y", "fsm": "N", "sen": "E", "eal": "Y", "cla": "N"},
    {"upn": upn(5), "adno": "000105", "surname": "Okafor", "forename": "Chidi", "dob": "2012-05-23",
     "gender": "M", "year": "Year 9", "form": "9C", "pp": "N", "fsm": "N", "sen": "N", "eal": "N", "cla": "Y"},
    {"upn": upn(6), "adno": "000106", "surname": "Patel", "forename": "Aarav", "dob": "2012-09-14",
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
    """SIMS-style pupil roll, UTF-8 with a BOM, two title rows above the header; with the
    contacts, family, ethnicity, young carer, social worker, vulnerable and flag columns."""
    header = ["UPN", "Adno", "Legal Surname", "Legal Forename", "DOB", "Gender", "Year", "Reg Group",
              "Pupil Premium", "FSM Eligible", "SEN Status", "EAL", "Looked After", "Primary Contact Name",
              "Primary Contact Relationship", "Contact 1 Telephone", "Contact 1 Email", "Address", "Postcode",
              "Family ID", "Ethnicity", "Young Carer", "Social Worker", "Vulnerable", "Flag: Breakfast club"]
    keys = ["upn", "adno", "surname", "forename", "dob", "gender", "year", "form", "pp", "fsm", "sen", "eal", "cla",
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


SAMPLES = {
    "pupil_roll.csv": roll,
    "long_marks.csv": long_marks,
    "weekly_grid.xlsx": weekly_grid_xlsx,
    "weekly_grid.csv": weekly_grid_csv,
    "weekday_grid.csv": weekday_grid,
    "marks_string.csv": marks_string,
    "summary_counts.csv": summary_counts,
}


def main(folder: Path = FOLDER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, write in SAMPLES.items():
        write(folder)
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
