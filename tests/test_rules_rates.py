"""DOMAIN.md §3: possible sessions, pupil rates, persistent and severe absence, pooled group
rates and the compulsory-school-age headline.

Marks go in through the real importer; figures come back from `metrics.pupil_figures`
and `metrics.summary`.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import metrics
from tests.conftest import make_upn, marks_csv, roll_csv

A, B, C = make_upn(1), make_upn(2), make_upn(3)
FIRST_MONDAY = date(2024, 9, 2)


def register(upn: str, *runs: tuple[int, str], start: date = FIRST_MONDAY) -> list[tuple]:
    """A pupil's sessions in register order (AM, PM, each weekday from `start`).

    `runs` are (how many sessions, code): register(A, (90, "/"), (10, "N")) is 90 present
    sessions followed by 10 with N.
    """
    codes = [code for count, code in runs for _ in range(count)]
    rows, day = [], start
    for i, code in enumerate(codes):
        rows.append((upn, day.isoformat(), "AM" if i % 2 == 0 else "PM", code))
        if i % 2 == 1:
            day += timedelta(days=3 if day.weekday() == 4 else 1)
    return rows


def figures_of(db, load, rows: list[tuple], *pupils: dict):
    """Import a roll and marks; figures for the whole span of the marks, indexed by UPN."""
    load("roll.csv", roll_csv(*(pupils or ({},))))
    outcome = load("marks.csv", marks_csv(rows))
    assert outcome.status == "imported", [p.message for p in outcome.problems]
    days = [date.fromisoformat(r[1]) for r in rows]
    return metrics.pupil_figures(db, metrics.Period(min(days), max(days))).set_index("upn")


def summary_of(db, load, rows: list[tuple], *pupils: dict) -> dict:
    figures = figures_of(db, load, rows, *pupils)
    return metrics.summary(figures.reset_index())


# --- persistent absence: 10 × absent ≥ possible -------------------------------------


def test_exactly_90_percent_attendance_is_persistent_absence(db, load):
    pupil = figures_of(db, load, register(A, (90, "/"), (10, "N"))).loc[A]
    assert (pupil["possible_sessions"], pupil["attendance_pct"]) == (100, 90.0)
    assert pupil["persistently_absent"]


def test_90_point_1_percent_attendance_is_not_persistent_absence(db, load):
    pupil = figures_of(db, load, register(A, (901, "/"), (50, "I"), (49, "N"))).loc[A]
    assert pupil["possible_sessions"] == 1000
    assert pupil["attendance_pct"] == pytest.approx(90.1)
    assert not pupil["persistently_absent"]


def test_attendance_a_hair_above_90_percent_is_not_persistent_absence_though_it_rounds_to_90_0(db, load):
    # 901 / 1001 = 90.0099…% shows as 90.0%, but 10 × 100 = 1000 < 1001.
    pupil = figures_of(db, load, register(A, (901, "/"), (100, "N"))).loc[A]
    assert round(pupil["attendance_pct"], 1) == 90.0
    assert not pupil["persistently_absent"]


def test_attendance_a_hair_below_90_percent_is_persistent_absence_though_it_rounds_to_90_0(db, load):
    # 899 / 999 = 89.99…% shows as 90.0%, and 10 × 100 = 1000 ≥ 999.
    pupil = figures_of(db, load, register(A, (899, "/"), (100, "N"))).loc[A]
    assert round(pupil["attendance_pct"], 1) == 90.0
    assert pupil["persistently_absent"]


def test_persistent_absence_is_decided_in_integers_not_by_adding_rates(db, load):
    # 1 authorised + 5 unauthorised of 60: 10 × 6 = 60 ≥ 60, so PA. In floats the two
    # rates add up to 1/60·100 + 5/60·100 = 9.999999999999998, which would miss it.
    assert 1 / 60 * 100 + 5 / 60 * 100 < 10
    pupil = figures_of(db, load, register(A, (54, "/"), (1, "I"), (5, "N"))).loc[A]
    assert pupil["possible_sessions"] == 60
    assert pupil["persistently_absent"]


# --- severe absence: 2 × absent ≥ possible ------------------------------------------


def test_exactly_50_percent_attendance_is_severe_absence(db, load):
    pupil = figures_of(db, load, register(A, (5, "/"), (5, "N"))).loc[A]
    assert pupil["attendance_pct"] == 50.0
    assert pupil["severely_absent"]


def test_just_above_50_percent_attendance_is_not_severe_absence(db, load):
    pupil = figures_of(db, load, register(A, (501, "/"), (499, "N"))).loc[A]
    assert pupil["attendance_pct"] == pytest.approx(50.1)
    assert not pupil["severely_absent"]
    assert pupil["persistently_absent"]


def test_severe_absence_is_decided_in_integers_not_by_adding_rates(db, load):
    # 1 authorised + 2 unauthorised of 6: 2 × 3 = 6 ≥ 6, so SA; the float rates add up to 49.99…
    assert 1 / 6 * 100 + 2 / 6 * 100 < 50
    pupil = figures_of(db, load, register(A, (3, "/"), (1, "I"), (2, "N"))).loc[A]
    assert pupil["severely_absent"]


# --- what the denominator holds ----------------------------------------------------


def test_not_possible_sessions_are_not_in_the_denominator(db, load):
    # 9 present + 1 N is 10% absence; were the 10 X sessions possible it would be 5%.
    pupil = figures_of(db, load, register(A, (9, "/"), (1, "N"), (10, "X"))).loc[A]
    assert (pupil["possible_sessions"], pupil["absence_pct"]) == (10, 10.0)
    assert pupil["persistently_absent"]


def test_missing_marks_are_not_in_the_denominator_but_are_counted(db, load):
    pupil = figures_of(db, load, register(A, (9, "/"), (1, "N"), (3, "-"), (2, "*"))).loc[A]
    assert (pupil["possible_sessions"], pupil["missing_marks"]) == (10, 5)
    assert pupil["persistently_absent"]


def test_possible_sessions_are_attendance_plus_authorised_plus_unauthorised(db, load):
    pupil = figures_of(db, load, register(A, (3, "/"), (2, "V"), (4, "M"), (1, "G"), (2, "#"), (1, "-"))).loc[A]
    assert (pupil["attendance_sessions"], pupil["authorised_sessions"], pupil["unauthorised_sessions"]) == (5, 4, 1)
    assert pupil["possible_sessions"] == 10
    assert (pupil["attendance_pct"], pupil["absence_pct"]) == (50.0, 50.0)


# --- group figures -------------------------------------------------------------------


def test_group_rates_are_pooled_not_the_mean_of_pupil_rates(db, load):
    # A: 5 of 10 absent (50%). B: 0 of 90 absent (0%).
    # Pooled: 5 / 100 = 5%. The mean of the pupils' rates would be (50 + 0) / 2 = 25%.
    rows = register(A, (5, "/"), (3, "I"), (2, "N")) + register(B, (90, "/"))
    group = summary_of(db, load, rows, {}, {})["all"]
    assert group["possible_sessions"] == 100
    assert group["overall_absence_pct"] == pytest.approx(5.0)
    assert group["authorised_absence_pct"] == pytest.approx(3.0)
    assert group["unauthorised_absence_pct"] == pytest.approx(2.0)


def test_persistent_and_severe_absence_rates_count_only_pupils_with_a_possible_session(db, load):
    # A: SA and PA. B: neither. C: only X marks, so not one of the group's pupils.
    rows = register(A, (1, "/"), (1, "N")) + register(B, (2, "/")) + register(C, (2, "X"))
    group = summary_of(db, load, rows, {}, {}, {})["all"]
    assert group["pupils"] == 2
    assert (group["persistent_absentees"], group["persistent_absence_pct"]) == (1, 50.0)
    assert (group["severe_absentees"], group["severe_absence_pct"]) == (1, 50.0)


def test_missing_marks_are_reported_for_the_group_including_pupils_with_no_possible_session(db, load):
    # A: 2 missing. C: nothing but missing marks, so not a pupil of the group, yet 4 sessions lack marks.
    rows = register(A, (2, "/"), (2, "-")) + register(C, (4, ""))
    group = summary_of(db, load, rows, {}, {}, {})["all"]
    assert (group["pupils"], group["possible_sessions"], group["missing_marks"]) == (1, 2, 6)


# --- compulsory school age: aged 5–15 on 31 August before the academic year -----------

IN_2025_26 = date(2025, 9, 8)  # ages are taken on 31/08/2025


def compulsory(db, load, *pupils: dict, on: date = IN_2025_26) -> dict[str, bool]:
    """Whether each pupil counts as of compulsory school age, keyed by their forename."""
    rows = [(make_upn(i), on.isoformat(), "AM", "/") for i in range(1, len(pupils) + 1)]
    figures = figures_of(db, load, rows, *pupils)
    return dict(zip(figures["forename"], figures["compulsory_school_age"].astype(bool)))


def test_a_reception_child_aged_4_is_not_of_compulsory_school_age(db, load):
    assert compulsory(db, load, {"forename": "Rita", "dob": "2021-01-10", "year_group": "R"}) == {"Rita": False}


def test_a_year_1_child_aged_5_is_of_compulsory_school_age(db, load):
    assert compulsory(db, load, {"forename": "Yusuf", "dob": "2020-01-10", "year_group": "1"}) == {"Yusuf": True}


def test_a_year_11_pupil_aged_15_is_of_compulsory_school_age(db, load):
    assert compulsory(db, load, {"forename": "Ella", "dob": "2010-01-10", "year_group": "11"}) == {"Ella": True}


def test_a_year_12_student_aged_16_is_not_of_compulsory_school_age(db, load):
    assert compulsory(db, load, {"forename": "Sam", "dob": "2009-01-10", "year_group": "12"}) == {"Sam": False}


def test_a_birthday_on_31_august_counts_as_already_had(db, load):
    assert compulsory(db, load,
        {"forename": "Five", "dob": "2020-08-31", "year_group": "1"},       # 5 on 31/08/2025
        {"forename": "Sixteen", "dob": "2009-08-31", "year_group": "12"},   # 16 on 31/08/2025
    ) == {"Five": True, "Sixteen": False}


def test_a_birthday_on_1_september_is_not_yet_had(db, load):
    assert compulsory(db, load,
        {"forename": "Four", "dob": "2020-09-01", "year_group": "R"},       # still 4 on 31/08/2025
        {"forename": "Fifteen", "dob": "2009-09-01", "year_group": "11"},   # still 15 on 31/08/2025
    ) == {"Four": False, "Fifteen": True}


def test_the_date_of_birth_decides_even_where_the_year_group_suggests_otherwise(db, load):
    assert compulsory(db, load,
        {"forename": "Ahead", "dob": "2010-03-03", "year_group": "12"},   # aged 15, taught a year ahead
        {"forename": "Behind", "dob": "2009-03-03", "year_group": "11"},  # aged 16, kept back a year
    ) == {"Ahead": True, "Behind": False}


def test_without_a_date_of_birth_national_curriculum_years_1_to_11_stand_in(db, load):
    years = ["N1", "N2", "R", "1", "6", "7", "11", "12", "13"]
    pupils = [{"forename": f"Year{y}", "dob": "", "year_group": y} for y in years]
    assert compulsory(db, load, *pupils) == {
        "YearN1": False, "YearN2": False, "YearR": False,
        "Year1": True, "Year6": True, "Year7": True, "Year11": True,
        "Year12": False, "Year13": False,
    }


def test_age_is_taken_on_31_august_before_the_academic_year_of_the_figures(db, load):
    # Born 01/03/2020: aged 4 on 31/08/2024, so not compulsory in 2024/25; aged 5 on 31/08/2025.
    rows = [(A, "2025-07-14", "AM", "/"), (A, "2025-09-08", "AM", "/")]
    figures_of(db, load, rows, {"dob": "2020-03-01", "year_group": "R"})
    in_2024_25 = metrics.pupil_figures(db, metrics.Period(date(2024, 9, 1), date(2025, 7, 31))).set_index("upn")
    in_2025_26 = metrics.pupil_figures(db, metrics.Period(date(2025, 9, 1), date(2025, 9, 30))).set_index("upn")
    assert not in_2024_25.loc[A, "compulsory_school_age"]
    assert in_2025_26.loc[A, "compulsory_school_age"]


def test_the_headline_is_given_for_all_pupils_and_for_compulsory_age_pupils(db, load):
    # A (Year 7, aged 11): 10 present. B (Year 12, aged 16): 5 present, 5 N — PA and SA.
    rows = register(A, (10, "/")) + register(B, (5, "/"), (5, "N"))
    headline = summary_of(db, load, rows, {"dob": "2013-05-05", "year_group": "7"},
                          {"dob": "2008-05-05", "year_group": "12"})
    assert (headline["all"]["pupils"], headline["all"]["possible_sessions"]) == (2, 20)
    assert headline["all"]["overall_absence_pct"] == pytest.approx(25.0)
    assert headline["all"]["persistent_absentees"] == 1
    assert (headline["compulsory_school_age"]["pupils"], headline["compulsory_school_age"]["possible_sessions"]) == (1, 10)
    assert headline["compulsory_school_age"]["overall_absence_pct"] == 0.0
    assert headline["compulsory_school_age"]["persistent_absentees"] == 0
