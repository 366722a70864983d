"""More groups to compare: ethnicity (Gypsy, Roma and Traveller pupils among them), young
carers, social-worker involvement, the vulnerable list and the school's own flags —
pooled like every group (DOMAIN.md §3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import groups, metrics
from tests.conftest import make_upn, marks_csv

MONDAY = date(2025, 9, 8)
PERIOD = metrics.Period(MONDAY, MONDAY + timedelta(days=4))


@pytest.fixture
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
