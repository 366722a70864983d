"""Whether an action worked: attendance before and after it, and the roll-up per type."""

from __future__ import annotations

from datetime import date

from core import impact
from tests.case_school import OFFICER, first, pupils, visit
from tests.conftest import make_upn, marks_csv

# --- impact ---------------------------------------------------------------------------------


def two_weeks_absent_then_present(load):
    upn = make_upn(1)
    days = ["2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12", "2025-09-15", "2025-09-16", "2025-09-17"]
    rows = [(upn, d, s, "N" if i < 4 else "/") for i, d in enumerate(days) for s in ("AM", "PM")]
    load("marks.csv", marks_csv(rows))


def test_impact_compares_attendance_before_and_after_an_action(db, pupils, load):
    two_weeks_absent_then_present(load)
    visit(db, first(pupils), opened=date(2025, 9, 12))
    result = impact.impact(db, OFFICER, school_days=4).iloc[0]
    assert (result["before_pct"], result["after_pct"], result["change_pts"]) == (0.0, 100.0, 100.0)
    assert result["after_days"] == 4 and result["window_complete"]
    by_type = impact.impact_by_type(impact.impact(db, OFFICER, school_days=4))
    assert by_type.iloc[0]["improved"] == 1 and by_type.iloc[0]["indicative_only"]


def test_an_action_whose_after_window_is_still_forming_is_left_out_of_the_roll_up(db, pupils, load):
    two_weeks_absent_then_present(load)
    visit(db, first(pupils), opened=date(2025, 9, 15))
    result = impact.impact(db, OFFICER, school_days=4).iloc[0]
    assert result["after_days"] == 3 and not result["window_complete"]
    assert impact.impact_by_type(impact.impact(db, OFFICER, school_days=4)).empty


def test_impact_with_no_marks_yet_has_no_figures(db, pupils):
    visit(db, first(pupils))
    assert impact.impact(db, OFFICER, school_days=20)["change_pts"].isna().all()
