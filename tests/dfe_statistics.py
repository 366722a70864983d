"""DfE statistics CSVs for the tests, in the layouts explore-education-statistics publishes,
with synthetic figures (never the published ones, except where a test says so).

- "Pupil absence in schools in England", absence rates by geographic level (school census):
  time_period 202425, time_identifier "Academic year" / "Autumn term" / "Autumn and spring term",
  education_phase "Total" (the state-funded total) or a phase, sess_overall_percent,
  enrolments_pa_10_exact_percent, enrolments_pa_50_exact_percent.
- "Pupil attendance in schools" (daily attendance data), autumn term or year to date: the same
  time and geography columns with overall_absence_perc, attendance_perc and pa_perc.
"""

from __future__ import annotations

import csv
import io

GEOGRAPHY = ["geographic_level", "country_code", "country_name", "region_code", "region_name", "old_la_code",
             "new_la_code", "la_name"]
NATIONAL = {"geographic_level": "National", "country_code": "E92000001", "country_name": "England"}
REGIONAL = {"geographic_level": "Regional", "country_code": "E92000001", "country_name": "England",
            "region_code": "E12000001", "region_name": "North East"}

CENSUS_COLUMNS = ["time_period", "time_identifier", *GEOGRAPHY, "education_phase", "num_schools", "enrolments",
                  "sess_possible", "sess_overall", "sess_overall_percent", "sess_authorised_percent",
                  "sess_unauthorised_percent", "enrolments_pa_10_exact", "enrolments_pa_10_exact_percent",
                  "enrolments_pa_50_exact", "enrolments_pa_50_exact_percent"]
ATTENDANCE_COLUMNS = ["academic_year", "time_period", "time_identifier", *GEOGRAPHY, "education_phase",
                      "num_schools", "enrolments", "possible_sessions", "overall_absence", "attendance_perc",
                      "overall_absence_perc", "authorised_absence_perc", "unauthorised_absence_perc", "pa_perc"]


def _csv(columns: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def census_row(time_period: str, identifier: str, absence: str, pa: str, sa: str = "x", phase: str = "Total",
               where: dict = NATIONAL) -> dict:
    return {"time_period": time_period, "time_identifier": identifier, **where, "education_phase": phase,
            "num_schools": "20000", "enrolments": "7000000", "sess_possible": "2500000000", "sess_overall": "170000000",
            "sess_overall_percent": absence, "sess_authorised_percent": "4.5", "sess_unauthorised_percent": "2.4",
            "enrolments_pa_10_exact": "1300000", "enrolments_pa_10_exact_percent": pa,
            "enrolments_pa_50_exact": "150000", "enrolments_pa_50_exact_percent": sa}


def census_csv(*rows: dict) -> bytes:
    """A 'Pupil absence in schools in England' CSV: by default a full year 2030/31 national total
    (absence 5.55, PA 15.25, SA 1.75) beside a regional total and a primary-phase national row."""
    rows = rows or (
        census_row("203031", "Academic year", "5.55", "15.25", "1.75"),
        census_row("203031", "Academic year", "4.44", "11.11", "1.11", phase="State-funded primary"),
        census_row("203031", "Academic year", "6.66", "17.77", "2.22", where=REGIONAL),
    )
    return _csv(CENSUS_COLUMNS, list(rows))


def attendance_row(time_period: str, identifier: str, absence: str, pa: str, phase: str = "Total",
                   where: dict = NATIONAL) -> dict:
    attendance = "" if absence in ("x", "z", "") else f"{100 - float(absence):.4f}"
    return {"academic_year": time_period, "time_period": time_period, "time_identifier": identifier, **where,
            "education_phase": phase, "num_schools": "21000", "enrolments": "6700000",
            "possible_sessions": "880000000", "overall_absence": "58000000", "attendance_perc": attendance,
            "overall_absence_perc": absence, "authorised_absence_perc": "4.4", "unauthorised_absence_perc": "2.2",
            "pa_perc": pa}


def attendance_csv(*rows: dict) -> bytes:
    """A 'Pupil attendance in schools' CSV: by default autumn term 2030/31 for each phase and the total
    (absence 5.05, PA 14.5 in total)."""
    rows = rows or tuple(attendance_row("203031", "Autumn term", absence, pa, phase)
                         for phase, absence, pa in (("Primary", "4.50", "12.5"), ("Secondary", "7.25", "20.5"),
                                                    ("Special", "12.00", "33.0"), ("Total", "5.05", "14.5")))
    return _csv(ATTENDANCE_COLUMNS, list(rows))
