"""More groups to compare: ethnicity (Gypsy, Roma and Traveller pupils among them), young
carers, social-worker involvement, the vulnerable list and the school's own flags —
pooled like every group (DOMAIN.md §3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import groups, metrics
from tests.conftest import filled_once, make_upn, marks_csv

MONDAY = date(2025, 9, 8)
PERIOD = metrics.Period(MONDAY, MONDAY + timedelta(days=4))


@pytest.fixture
@filled_once
def figures(db, load):
    """Three pupils: a Roma young carer with a CP plan and a flag (8/10), an Irish Traveller
    (9/10) and a White British pupil (10/10)."""
    load("roll.csv", "\n".join([
        "UPN,Surname,Forename,Year,Ethnicity,Young Carer,Social Worker,Vulnerable,Flags",
        f"{make_upn(1)},Lee,Ana,7,WROM,Y,CP,Y,Breakfast club",
        f"{make_upn(2)},Ward,Ben,7,WIRT,N,,N,",
        f"{make_upn(3)},Hall,Cal,7,WBRI,N,,N,breakfast CLUB; Mentoring",
    ]))
    rows = []
    for n, absent in ((1, 2), (2, 1), (3, 0)):
        for i in range(10):
            mark = "O" if i < absent else ("/" if i % 2 == 0 else "\\")
            rows.append((make_upn(n), (MONDAY + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], mark))
    load("marks.csv", marks_csv(rows))
    return metrics.pupil_figures(db, PERIOD)


def pupils_and_absence(groups, grouping) -> dict:
    return {row[grouping]: (row["pupils"], round(row["overall_absence_pct"], 1)) for _, row in groups.iterrows()}


def test_ethnicity_groups_pool_sessions(figures):
    groups = metrics.by_group(figures, "ethnic_group")
    assert pupils_and_absence(groups, "ethnic_group") == {"White": (3, 10.0)}


def test_gypsy_roma_and_traveller_pupils_are_compared_with_everyone_else(figures):
    groups = metrics.by_group(figures, "gypsy_roma_traveller")
    assert pupils_and_absence(groups, "gypsy_roma_traveller") == {False: (1, 0.0), True: (2, 15.0)}


def test_young_carers_are_a_group(figures):
    assert pupils_and_absence(metrics.by_group(figures, "young_carer"), "young_carer") == {0: (2, 5.0), 1: (1, 20.0)}


def test_social_worker_involvement_is_a_group_by_plan(figures):
    assert pupils_and_absence(metrics.by_group(figures, "social_worker"), "social_worker") == {
        "": (2, 5.0), "CP": (1, 20.0)}


def test_the_vulnerable_list_is_a_group(figures):
    assert pupils_and_absence(metrics.by_group(figures, "vulnerable"), "vulnerable") == {0: (2, 5.0), 1: (1, 20.0)}


def test_a_schools_own_flag_is_a_group_whatever_its_case(figures):
    grouping = groups.flag_grouping("Breakfast club")
    assert pupils_and_absence(metrics.by_group(figures, grouping), grouping) == {0: (1, 10.0), 1: (2, 10.0)}


def test_an_unknown_grouping_is_refused(figures):
    with pytest.raises(KeyError):
        metrics.by_group(figures, "star_sign")


# --- the tables of core/groups.py, on small frames --------------------------------------------

import pandas as pd  # noqa: E402

from core import groups as pupil_groups  # noqa: E402

ROLL = pd.DataFrame({
    "pupil_id": [1, 2, 3],
    "pp": [1, 0, 1], "fsm": [0, 0, 1], "sen": ["K", "E", "N"], "cla": [0, 1, 0], "eal": [0, 0, 1],
    "gypsy_roma_traveller": [True, False, False], "young_carer": [1, 0, 0], "social_worker": ["CP", "CIN", ""],
    "vulnerable": [1, 0, 0], "flags": ["Breakfast club", "", "Breakfast club; Mentoring"],
})


def members(label: str) -> list[int]:
    return pupil_groups.in_every_group(ROLL, [label], pupil_groups.pupil_groups(ROLL["flags"]))["pupil_id"].tolist()


def test_each_list_group_selects_its_pupils_from_core_columns():
    assert {group.label: members(group.label) for group in pupil_groups.PUPIL_GROUPS} == {
        "PP": [1, 3], "FSM": [3], "SEN support": [1], "EHCP": [2], "CLA": [2], "EAL": [3],
        "Gypsy, Roma, Traveller": [1], "Young carer": [1], "Social worker (CIN/CP)": [1, 2], "CP plan": [1],
        "Vulnerable list": [1]}


def test_a_schools_own_flags_are_list_groups():
    assert [label for label in pupil_groups.pupil_groups(ROLL["flags"]) if label.startswith("Flag: ")] == [
        "Flag: Breakfast club", "Flag: Mentoring"]
    assert members("Flag: Breakfast club") == [1, 3]


def test_pupils_in_every_group_chosen_are_listed_and_unknown_groups_are_ignored():
    chosen = pupil_groups.in_every_group(ROLL, ["PP", "FSM", "No such group"], pupil_groups.pupil_groups(ROLL["flags"]))
    assert chosen["pupil_id"].tolist() == [3]


def test_patterns_compare_by_the_table_in_order_then_the_schools_flags():
    compared = pupil_groups.compared(ROLL)
    assert list(compared)[:3] == ["pp", "fsm", "sen"]
    assert "form" not in compared and "compulsory_school_age" not in compared
    assert list(compared)[-2:] == [pupil_groups.flag_grouping("Breakfast club"), pupil_groups.flag_grouping("Mentoring")]
    assert compared[pupil_groups.flag_grouping("Mentoring")].values == {1: "Mentoring", 0: "Not Mentoring"}
    assert compared["social_worker"].values["CP"] == "Child protection plan"


def test_the_statistics_report_its_groupings_in_order_under_their_own_headings():
    assert [pupil_groups.statistics_label(g) for g in pupil_groups.STATISTICS] == [
        "Section", "Year group", "Pupil premium", "Free school meals", "SEN", "Looked after (CLA)", "EAL", "Gender"]


def test_every_grouping_by_group_accepts_is_a_row_of_the_table():
    assert set(pupil_groups.BY_COLUMN) >= {"form", "compulsory_school_age", *pupil_groups.STATISTICS}
