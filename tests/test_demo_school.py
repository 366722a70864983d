"""The synthetic demo school: determinism, identifiers, calendar, codes and patterns."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pandas as pd
import pytest

from data.demo_school import (
    DEFAULT_SECTIONS,
    DemoSchool,
    Section,
    generate,
    term_dates,
    write_csvs,
)

DFE_2024_CODES = {
    "/", "\\", "L", "K", "V", "P", "W", "B",
    "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T",
    "G", "N", "O", "U",
    "D", "Q", "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#",
}
ABSENCE = {"C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T", "G", "N", "O", "U"}
UNAUTHORISED = {"G", "N", "O", "U"}
NOT_POSSIBLE = {"X", "Z", "#", "D", "Q", "", *(f"Y{i}" for i in range(1, 8))}
COMPULSORY_YEARS = {str(y) for y in range(1, 12)}
ROLL_COLUMNS = [
    "upn", "adno", "surname", "forename", "dob", "gender", "year_group", "form",
    "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date",
    "contact1_name", "contact1_relationship", "contact1_phone", "contact1_email",
    "contact2_name", "contact2_relationship", "contact2_phone", "contact2_email",
    "address", "postcode", "family_id", "ethnicity", "young_carer", "social_worker", "vulnerable", "flags",
]
NC_YEAR = {"N1": -2, "N2": -1, "R": 0, **{str(y): y for y in range(1, 14)}}


@pytest.fixture(scope="module")
def small() -> DemoSchool:
    return generate(seed=1, size=0.1)


@pytest.fixture(scope="module")
def full() -> DemoSchool:
    return generate(seed=1, size=1.0)


def _with_year(school: DemoSchool) -> pd.DataFrame:
    return school.marks.merge(school.roll[["upn", "year_group", "form"]], on="upn", how="left")


def _pupil_totals(school: DemoSchool) -> pd.DataFrame:
    marks = _with_year(school)
    marks = marks[marks["year_group"].isin(COMPULSORY_YEARS)]
    totals = pd.DataFrame(
        {
            "upn": marks["upn"],
            "possible": ~marks["mark"].isin(NOT_POSSIBLE),
            "absent": marks["mark"].isin(ABSENCE),
        }
    ).groupby("upn").sum()
    return totals[totals["possible"] > 0]


def _longest_unauthorised_run(pupil_marks: pd.DataFrame) -> int:
    """Consecutive school days on which every possible session is G/N/O/U (DOMAIN §4)."""
    best = run = 0
    for _, day in pupil_marks.groupby("date", sort=True)["mark"]:
        possible = [m for m in day if m not in NOT_POSSIBLE]
        if not possible:
            continue
        if all(m in UNAUTHORISED for m in possible):
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames():
    a, b = generate(seed=7, size=0.1), generate(seed=7, size=0.1)
    pd.testing.assert_frame_equal(a.roll, b.roll)
    pd.testing.assert_frame_equal(a.marks, b.marks)
    assert a.register_weeks == b.register_weeks


def test_other_seed_gives_different_frames(small):
    other = generate(seed=2, size=0.1)
    assert not other.roll.equals(small.roll)
    assert not other.marks.equals(small.marks)


# --------------------------------------------------------------------------- roll


def test_roll_has_the_columns_in_order_all_strings(small):
    assert list(small.roll.columns) == ROLL_COLUMNS
    for column in ROLL_COLUMNS:
        assert all(isinstance(v, str) for v in small.roll[column]), column


def test_upns_are_unique_with_valid_check_letters_and_la_999(full):
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    upns = full.roll["upn"]
    assert upns.is_unique
    for upn in upns:
        assert len(upn) == 13 and upn[1:].isdigit() and upn[1:4] == "999"
        total = sum(int(upn[i - 1]) * i for i in range(2, 14))
        assert upn[0] == letters[total % 23], upn


def test_admission_numbers_are_unique_six_digits_some_with_leading_zeros(full):
    adno = full.roll["adno"]
    assert adno.is_unique
    assert adno.str.fullmatch(r"\d{6}").all()
    assert adno.str.startswith("00").any()
    assert not adno.str.startswith("00").all()


def test_dob_matches_year_group(full):
    year_start = 2025
    for dob, year_group in zip(full.roll["dob"], full.roll["year_group"]):
        y = NC_YEAR[year_group]
        born = date.fromisoformat(dob)
        assert date(year_start - y - 5, 9, 1) <= born <= date(year_start - y - 4, 8, 31), (dob, year_group)


def test_characteristics_are_in_realistic_proportions(full):
    roll = full.roll
    share = lambda column, value="Y": (roll[column] == value).mean()  # noqa: E731
    assert 0.18 <= share("pp") <= 0.32
    assert 0.15 <= share("fsm") <= 0.29
    assert share("fsm") > 0 and ((roll["fsm"] == "Y") & (roll["pp"] == "Y")).sum() > 0.7 * (roll["fsm"] == "Y").sum()
    assert 0.09 <= share("sen", "K") <= 0.17
    assert 0.01 <= share("sen", "E") <= 0.05
    assert 0.14 <= share("eal") <= 0.26
    assert 0.002 <= share("cla") <= 0.03
    assert set(roll["sen"]) <= {"N", "K", "E"} and set(roll["gender"]) <= {"F", "M"}


def test_names_include_apostrophes_hyphens_accents_and_two_word_surnames(full):
    names = pd.concat([full.roll["surname"], full.roll["forename"]])
    assert names.str.contains("'").any()
    assert full.roll["surname"].str.contains("-").any()
    assert names.str.contains("[éëïíóáñüöłśı]", regex=True).any()
    assert full.roll["surname"].str.contains(" ").any()


def test_size_scales_the_roll_to_about_1300_pupils(small, full):
    assert 1200 <= len(full.roll) <= 1450
    assert 100 <= len(small.roll) <= 180


def test_only_the_listed_sections_are_generated():
    school = generate(seed=1, size=0.1, sections=(Section("Primary", ("1", "2", "3", "4", "5", "6")),))
    assert set(school.roll["year_group"]) == {"1", "2", "3", "4", "5", "6"}
    assert set(school.marks["upn"]) <= set(school.roll["upn"])


def test_default_sections_cover_nursery_to_sixth_form():
    years = [yg for s in DEFAULT_SECTIONS for yg in s.year_groups]
    assert years == ["N1", "N2", "R", *(str(y) for y in range(1, 14))]


# --------------------------------------------------------------------------- calendar and marks


def test_no_marks_on_weekends_half_term_or_inset_start(small):
    dates = {date.fromisoformat(d) for d in small.marks["date"].unique()}
    assert min(dates) == date(2025, 9, 3)  # Mon 1 and Tue 2 Sep are INSET
    assert max(dates) == date(2025, 12, 19)
    assert all(d.weekday() < 5 for d in dates)
    half_term = {date(2025, 10, 27) + timedelta(days=i) for i in range(5)}
    assert not dates & half_term
    assert date(2025, 10, 24) in dates and date(2025, 11, 3) in dates


@pytest.mark.parametrize("year", range(2020, 2034))
def test_term_starts_after_two_inset_weekdays_and_ends_before_christmas_week(year):
    term = term_dates(year)
    weekdays_before = [date(year, 9, d) for d in range(1, term.start.day) if date(year, 9, d).weekday() < 5]
    assert len(weekdays_before) >= 2 and term.start.weekday() < 5
    assert term.end.weekday() == 4 and date(year, 12, 15) <= term.end <= date(year, 12, 21)
    monday, friday = term.half_term
    assert monday.weekday() == 0 and friday.month == 10 and (friday + timedelta(days=7)).month == 11


def test_register_weeks_are_the_school_weeks_in_order(small):
    weeks = small.register_weeks
    assert weeks[0] == (date(2025, 9, 1), date(2025, 9, 5))
    assert weeks[-1] == (date(2025, 12, 15), date(2025, 12, 19))
    assert (date(2025, 10, 27), date(2025, 10, 31)) not in weeks
    assert all(m.weekday() == 0 and f == m + timedelta(days=4) for m, f in weeks)
    assert weeks == sorted(weeks) and len(weeks) == 15


def test_every_mark_is_a_dfe_2024_code_or_blank(full):
    assert set(full.marks["mark"]) <= DFE_2024_CODES | {""}


def test_one_mark_per_pupil_per_session_sorted_by_date_session_upn(small):
    marks = small.marks
    assert list(marks.columns) == ["upn", "date", "session", "mark", "minutes_late"]
    assert not marks.duplicated(["upn", "date", "session"]).any()
    assert set(marks["session"]) == {"AM", "PM"}
    keys = list(zip(marks["date"], marks["session"], marks["upn"]))
    assert keys == sorted(keys)


def test_pupils_on_roll_all_term_have_every_session(small):
    marks = small.marks
    sessions = marks[["date", "session"]].drop_duplicates()
    counts = marks.groupby("upn").size()
    stayers = small.roll.loc[small.roll["leave_date"] == "", "upn"]
    assert (counts[stayers] == len(sessions)).all()


def test_minutes_late_only_on_l_and_u_within_their_ranges(full):
    marks = full.marks
    assert str(marks["minutes_late"].dtype) == "Int64"
    has_minutes = marks["minutes_late"].notna()
    assert set(marks.loc[has_minutes, "mark"]) <= {"L", "U"}
    assert has_minutes[marks["mark"].isin(["L", "U"])].all()
    late = marks.loc[marks["mark"] == "L", "minutes_late"]
    after = marks.loc[marks["mark"] == "U", "minutes_late"]
    assert late.between(1, 29).all() and after.between(30, 90).all()


def test_nursery_afternoons_are_x(small):
    marks = _with_year(small)
    nursery_pm = marks[marks["year_group"].isin(["N1", "N2"]) & (marks["session"] == "PM")]
    assert len(nursery_pm) > 0
    assert set(nursery_pm["mark"]) <= {"X", "#", "Y4", ""}


# --------------------------------------------------------------------------- patterns at size 0.1


def test_holiday_block_of_five_to_ten_days_of_g(small):
    g = small.marks[small.marks["mark"] == "G"]
    days_per_pupil = g.groupby("upn")["date"].nunique()
    assert days_per_pupil.between(5, 10).any()


def test_a_pupil_has_thirty_or_more_illness_sessions(small):
    illness = small.marks[small.marks["mark"] == "I"].groupby("upn").size()
    assert (illness >= 30).any()


def test_a_compulsory_age_pupil_has_ten_days_all_unauthorised(small):
    marks = _with_year(small)
    marks = marks[marks["year_group"].isin(COMPULSORY_YEARS)]
    candidates = marks.loc[marks["mark"].isin(["N", "O"]), "upn"].value_counts()
    candidates = candidates[candidates >= 20].index
    runs = [_longest_unauthorised_run(marks[marks["upn"] == upn]) for upn in candidates]
    assert max(runs, default=0) >= 10


def test_full_size_has_two_ten_day_runs_one_of_twenty(full):
    marks = _with_year(full)
    marks = marks[marks["year_group"].isin(COMPULSORY_YEARS)]
    candidates = marks.loc[marks["mark"].isin(["N", "O"]), "upn"].value_counts()
    candidates = candidates[candidates >= 20].index
    runs = sorted(_longest_unauthorised_run(marks[marks["upn"] == upn]) for upn in candidates)
    assert len(runs) >= 2 and runs[-2] >= 10 and runs[-1] >= 20


def test_part_time_timetable_c2_on_afternoons_over_weeks(small):
    c2 = small.marks[small.marks["mark"] == "C2"]
    assert len(c2) > 0
    assert set(c2["session"]) == {"PM"}
    assert (c2.groupby("upn")["date"].nunique() >= 10).any()


def test_u_marks_carry_thirty_to_ninety_minutes(small):
    after = small.marks[small.marks["mark"] == "U"]
    assert len(after) > 0
    assert after["minutes_late"].between(30, 90).all()


def test_planned_closure_day_is_hash_for_every_pupil_on_roll(small):
    day = small.marks[small.marks["date"] == "2025-11-14"]
    assert len(day) > 0
    assert set(day["mark"]) <= {"#", "Z"}
    assert (day["mark"] == "#").sum() > 0.9 * len(day)


def test_unplanned_closure_day_is_y4_for_every_pupil_on_roll(small):
    day = small.marks[small.marks["date"] == "2025-11-25"]
    assert len(day) > 0
    assert set(day["mark"]) <= {"Y4", "Z"}
    assert (day["mark"] == "Y4").sum() > 0.9 * len(day)


def test_missing_marks_are_one_forms_pm_register_on_two_days_in_last_two_weeks(small):
    missing = _with_year(small)
    missing = missing[missing["mark"] == ""]
    assert len(missing) > 0
    assert missing["form"].nunique() == 1
    assert set(missing["session"]) == {"PM"}
    assert missing["date"].nunique() == 2
    assert missing["date"].min() >= "2025-12-08"


def test_joiner_has_z_before_entry_date_and_not_after(small):
    roll = small.roll.set_index("upn")
    z = small.marks[small.marks["mark"] == "Z"]
    assert len(z) > 0
    for upn, rows in small.marks[small.marks["upn"].isin(z["upn"])].groupby("upn"):
        entry = roll.loc[upn, "entry_date"]
        assert (rows.loc[rows["date"] < entry, "mark"] == "Z").all()
        assert not (rows.loc[rows["date"] >= entry, "mark"] == "Z").any()


def test_leaver_has_no_marks_after_leave_date(small):
    leavers = small.roll[small.roll["leave_date"] != ""]
    assert len(leavers) > 0
    last = small.marks.groupby("upn")["date"].max()
    for upn, leave in zip(leavers["upn"], leavers["leave_date"]):
        assert last[upn] == leave


def test_n_marks_are_mostly_in_the_last_five_school_days(small):
    dates = sorted(small.marks["date"].unique())
    n = small.marks[small.marks["mark"] == "N"]
    assert len(n) > 0
    assert (n["date"] >= dates[-5]).mean() > 0.7


def test_some_pupils_miss_mostly_mondays_and_fridays(full):
    unauthorised = full.marks[full.marks["mark"].isin(["O", "N"])]
    weekday = pd.to_datetime(unauthorised["date"]).dt.day_of_week
    per_pupil = weekday.isin([0, 4]).groupby(unauthorised["upn"]).agg(["size", "mean"])
    assert ((per_pupil["size"] >= 6) & (per_pupil["mean"] >= 0.75)).sum() >= 3


def test_other_patterns_are_present_at_full_size(full):
    counts = full.marks["mark"].value_counts()
    for code in ("M", "E", "V", "P", "W", "K", "R", "D", "B", "C", "L"):
        assert counts.get(code, 0) > 0, code
    assert full.marks.loc[full.marks["mark"] == "D", "upn"].nunique() == 1


# --------------------------------------------------------------------------- rates


def test_persistent_absence_share_of_compulsory_age_pupils_at_full_size(full):
    totals = _pupil_totals(full)
    share = (10 * totals["absent"] >= totals["possible"]).mean()
    assert 0.12 <= share <= 0.30


def test_overall_absence_of_compulsory_age_pupils_is_six_to_eight_percent(full):
    totals = _pupil_totals(full)
    assert 0.055 <= totals["absent"].sum() / totals["possible"].sum() <= 0.085


def test_severe_absence_share_is_about_two_percent(full):
    totals = _pupil_totals(full)
    assert 0.005 <= (2 * totals["absent"] >= totals["possible"]).mean() <= 0.05


def test_absence_is_higher_for_pupil_premium(full):
    marks = _with_year(full).merge(full.roll[["upn", "pp"]], on="upn")
    marks = marks[marks["year_group"].isin(COMPULSORY_YEARS) & ~marks["mark"].isin(NOT_POSSIBLE)]
    rate = marks["mark"].isin(ABSENCE).groupby(marks["pp"]).mean()
    assert rate["Y"] > rate["N"]


# --------------------------------------------------------------------------- until, files, speed


def test_until_cuts_the_term_and_the_roll_as_seen_that_day():
    until = date(2025, 10, 11)  # a Saturday
    school = generate(seed=1, size=0.1, until=until)
    assert school.marks["date"].max() == "2025-10-10"
    assert school.register_weeks[-1] == (date(2025, 10, 6), date(2025, 10, 10))
    assert (school.roll["entry_date"] <= "2025-10-10").all()
    assert (school.roll["leave_date"].isin([""]) | (school.roll["leave_date"] <= "2025-10-10")).all()
    n = school.marks[school.marks["mark"] == "N"]
    assert (n["date"] >= "2025-10-06").mean() > 0.7


def test_until_before_term_is_refused():
    with pytest.raises(ValueError):
        generate(seed=1, size=0.1, until=date(2025, 9, 2))


def test_write_csvs_writes_roll_and_one_file_per_week(small, tmp_path):
    paths = write_csvs(small, tmp_path)
    assert paths[0].name == "roll.csv"
    assert [p.name for p in paths[1:3]] == ["marks_week_01_2025-09-01.csv", "marks_week_02_2025-09-08.csv"]
    assert len(paths) == 1 + len(small.register_weeks)
    roll = pd.read_csv(paths[0], dtype=str, keep_default_na=False, encoding="utf-8")
    pd.testing.assert_frame_equal(roll, small.roll, check_dtype=False)
    weeks = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths[1:]]
    assert all(list(w.columns) == ["upn", "date", "session", "mark", "minutes_late"] for w in weeks)
    assert sum(len(w) for w in weeks) == len(small.marks)


def test_generation_at_full_size_is_fast():
    started = time.perf_counter()
    generate(seed=5, size=1.0)
    assert time.perf_counter() - started < 3.0


# --------------------------------------------------------------------------- families, contacts and groups


def test_siblings_share_a_family_id_or_only_a_parents_phone_and_address(full):
    roll = full.roll
    with_id = roll[roll["family_id"] != ""].groupby("family_id")
    assert with_id.size().between(2, 3).all() and with_id.ngroups > 100
    assert (with_id["contact1_phone"].nunique() == 1).all() and (with_id["address"].nunique() == 1).all()
    shared_phone = roll[roll["family_id"] == ""].groupby("contact1_phone").size()
    assert (shared_phone > 1).any()  # siblings the MIS has not linked: for a person to confirm


def test_every_pupil_has_a_fictional_parent_contact_and_address(full):
    roll = full.roll
    assert (roll["contact1_name"] != "").all() and roll["contact1_relationship"].isin(
        ["Mother", "Father", "Grandmother"]).all()
    assert roll["contact1_phone"].str.match(r"^(07700 900|01632 960)\d{3}$").all()
    assert roll["contact1_email"].str.endswith("@example.org").all() and roll["postcode"].str.startswith("ZZ").all()


def test_ethnicities_are_dfe_codes_with_gypsy_roma_and_irish_traveller_pupils(full):
    from core.characteristics import ETHNICITIES

    assert set(full.roll["ethnicity"]) <= set(ETHNICITIES)
    assert {"WROM", "WIRT"} <= set(full.roll["ethnicity"])


def test_young_carers_social_workers_vulnerable_pupils_and_flags_are_present(full):
    roll = full.roll
    assert (roll["young_carer"] == "Y").sum() > 5 and set(roll["young_carer"]) == {"Y", "N"}
    assert {"CIN", "CP"} <= set(roll["social_worker"]) and set(roll["social_worker"]) <= {"", "CIN", "CP"}
    assert ((roll["social_worker"] != "CP") | (roll["vulnerable"] == "Y")).all()  # every CP plan is on the list
    assert roll["flags"].str.contains("Breakfast club").any()


def test_the_last_school_day_has_unexplained_absences_to_call_about(small):
    last = small.marks["date"].max()
    assert (small.marks.loc[small.marks["date"] == last, "mark"] == "N").sum() > 0
