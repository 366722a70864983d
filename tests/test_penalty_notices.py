"""Penalty notices under the national framework, counted per parent per child."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core import cases, penalty_notices, store
from tests.case_school import HEAD, OFFICER, first, pupils, second, visit

# --- penalty notices under the national framework ----------------------------------------------
# DOMAIN.md §4: £80 if paid within 21 days, £160 within 28; a second to the same parent for the
# same child within 3 years is £160 flat; no third — the next step is other action.

JANE, JOHN = "Jane Smith", "John Smith"


def notice(db, pupil_id, issued: str, parent: str | None = JANE, paid: str = "unpaid"):
    return cases.open_intervention(db, OFFICER, pupil_id, "Penalty notice", "officer", date.fromisoformat(issued),
                                   details={"date_issued": issued, "paid": paid}, parent=parent)


def history(db):
    return penalty_notices.penalty_notice_history(db, OFFICER)


def next_step(db, pupil_id, on: str, parent: str | None = JANE) -> str:
    return penalty_notices.penalty_next_step(db, OFFICER, pupil_id, date.fromisoformat(on), parent)


def test_penalty_notices_this_academic_year_are_counted_per_pupil(db, pupils):
    for issued, parent in (("2025-07-01", JANE), ("2025-10-01", JOHN), ("2025-11-15", JOHN)):
        notice(db, first(pupils), issued, parent)
    notices = penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 12, 1))
    assert list(notices["notices_this_year"]) == [2] and list(notices["last_issued"]) == [date(2025, 11, 15)]


def test_a_first_notice_is_80_pounds_within_21_days_or_160_within_28(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    first_notice = history(db).iloc[0]
    assert (first_notice["number_in_window"], first_notice["reduced_amount"], first_notice["reduced_by"],
            first_notice["amount"], first_notice["pay_by"]) == (1, 80, date(2025, 10, 22), 160, date(2025, 10, 29))
    summary = penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 10, 2)).iloc[0]
    assert summary["next_step"] == "A second notice within 3 years would be £160 with no reduction."


def test_a_second_notice_to_the_same_parent_for_the_same_child_within_3_years_is_160_pounds_with_no_reduction(
        db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    second_notice = history(db).iloc[1]
    assert (second_notice["number_in_window"], second_notice["amount"]) == (2, 160)
    assert pd.isna(second_notice["reduced_amount"])


def test_a_third_notice_to_the_same_parent_for_the_same_child_within_3_years_is_refused(db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    with pytest.raises(cases.CaseError, match=r"2 notices to Jane Smith for this child in the last 3 years\. "
                                              r"No further notice .* \(until 01/11/2026\): .* e\.g\. prosecution"):
        notice(db, first(pupils), "2025-11-01")
    assert len(history(db)) == 2


def test_after_two_notices_the_next_step_is_other_action_until_the_older_is_3_years_old(db, pupils):
    notice(db, first(pupils), "2023-11-01")
    notice(db, first(pupils), "2025-10-01")
    summary = penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 12, 1)).iloc[0]
    assert (summary["parent"], summary["notices_in_window"]) == (JANE, 2)
    assert pd.isna(summary["next_notice_amount"]) and summary["no_further_notice_until"] == date(2026, 11, 1)
    assert "the next step is other action, e.g. prosecution" in summary["next_step"]
    assert next_step(db, first(pupils), "2026-11-01").endswith("A second notice within 3 years would be £160 with "
                                                               "no reduction.")


def test_a_notice_to_the_other_parent_for_the_same_child_is_a_first(db, pupils):
    notice(db, first(pupils), "2024-11-01")
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2025-11-01", parent=JOHN)
    assert history(db)[["parent", "number_in_window", "reduced_amount"]].values.tolist()[-1] == [JOHN, 1, 80]


def test_a_notice_for_another_child_of_the_same_parent_is_a_first(db, pupils):
    notice(db, first(pupils), "2024-11-01")
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-11-01")
    assert history(db).set_index("pupil_id").loc[second(pupils), "number_in_window"] == 1


def test_the_same_parent_is_recognised_however_their_name_is_typed(db, pupils):
    notice(db, first(pupils), "2025-10-01", parent="Jane Smith")
    notice(db, first(pupils), "2026-03-01", parent="  smith,  JANE ")
    assert history(db)["number_in_window"].tolist() == [1, 2]
    with pytest.raises(cases.CaseError, match="No further notice"):
        notice(db, first(pupils), "2026-06-01", parent="JANE SMITH")


def test_a_notice_exactly_3_years_old_no_longer_counts(db, pupils):
    notice(db, first(pupils), "2022-10-01")
    assert "A second notice" in next_step(db, first(pupils), "2025-09-30")
    assert "A first notice" in next_step(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2025-10-01")
    assert history(db)["number_in_window"].tolist() == [1, 1]


def test_a_notice_a_day_short_of_3_years_old_still_counts(db, pupils):
    notice(db, first(pupils), "2022-10-02")
    notice(db, first(pupils), "2025-10-01")
    assert history(db)["number_in_window"].tolist() == [1, 2]


def test_notices_with_no_parent_recorded_are_counted_together_apart_from_named_parents(db, pupils):
    notice(db, first(pupils), "2025-09-10", parent=None)
    notice(db, first(pupils), "2025-10-01", parent="")
    assert history(db)[["parent", "number_in_window"]].values.tolist() == [
        [penalty_notices.PARENT_NOT_RECORDED, 1], [penalty_notices.PARENT_NOT_RECORDED, 2]]
    with pytest.raises(cases.CaseError, match="2 notices with no parent recorded for this child"):
        notice(db, first(pupils), "2025-11-01", parent=None)
    assert "A first notice" in next_step(db, first(pupils), "2025-11-01", parent=JANE)


def test_a_notice_entered_late_is_refused_when_it_would_make_a_later_one_the_third(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2026-03-01")
    with pytest.raises(cases.CaseError, match="would make the notice of 01/03/2026 the third to Jane Smith"):
        notice(db, first(pupils), "2025-01-10")
    notice(db, first(pupils), "2022-01-10")  # more than 3 years before either
    assert history(db)["number_in_window"].tolist() == [1, 1, 2]


def test_moving_a_notices_date_issued_is_checked_like_a_new_notice(db, pupils):
    moved = notice(db, first(pupils), "2023-01-10")
    notice(db, first(pupils), "2025-10-01")
    notice(db, first(pupils), "2026-03-01")
    with pytest.raises(cases.CaseError, match="would make the notice of 01/03/2026 the third"):
        cases.edit_intervention(db, OFFICER, moved, details={"date_issued": "2023-06-01"})
    cases.edit_intervention(db, OFFICER, moved, details={"date_issued": "2023-01-20"})
    assert history(db)["date_issued"].tolist()[0] == date(2023, 1, 20)


def test_only_a_penalty_notice_records_the_parent_it_went_to(db, pupils):
    with pytest.raises(cases.CaseError, match="only a penalty notice records who it went to"):
        visit(db, first(pupils), parent=JANE)


def test_the_parent_a_notice_went_to_is_recorded_and_audited(db, pupils):
    action = notice(db, first(pupils), "2025-10-01", parent="  Jane   Smith ")
    assert db.execute("SELECT parent FROM penalty_notice_parents WHERE intervention_id = ?", (action,)).fetchall() == [
        (JANE,)]
    assert db.execute("SELECT username FROM audit WHERE action = 'penalty_notice.parent' AND entity_id = ?",
                      (str(action),)).fetchall() == [("officer",)]


def test_the_amounts_window_and_limit_are_the_schools_settings(db, pupils):
    store.set_setting(db, "penalty_amounts", {"first_paid_within_21_days": 60, "first_paid_within_28_days": 120,
                                              "second": 150}, "admin")
    store.set_setting(db, "penalty_repeat_years", 2, "admin")
    notice(db, first(pupils), "2025-10-01")
    first_notice = history(db).iloc[0]
    assert (first_notice["reduced_amount"], first_notice["amount"]) == (60, 120)
    assert next_step(db, first(pupils), "2026-10-01").endswith("A second notice within 2 years would be £150 with "
                                                               "no reduction.")
    assert "A first notice would be £60 if paid within 21 days, £120 within 28." in next_step(
        db, first(pupils), "2027-10-01")
    store.set_setting(db, "penalty_notices_per_parent_child", 1, "admin")
    with pytest.raises(cases.CaseError, match="within 2 years"):
        notice(db, first(pupils), "2026-10-01")
    assert penalty_notices.PenaltyFramework.of(db).describe() == (
        "National framework: a first notice is £60 if paid within 21 days, £120 within 28; there is no second to "
        "the same parent for the same child within 2 years — the next step is other action, e.g. prosecution.")


def test_the_framework_in_words_follows_domain_md_by_default(db):
    assert penalty_notices.PenaltyFramework.of(db).describe() == (
        "National framework: a first notice is £80 if paid within 21 days, £160 within 28; a second to the same "
        "parent for the same child within 3 years is £160 with no reduction; there is no third — the next step is "
        "other action, e.g. prosecution.")


def test_a_notice_past_a_limit_lowered_since_is_flagged_beyond_the_framework(db, pupils):
    notice(db, first(pupils), "2025-09-10")
    notice(db, first(pupils), "2025-10-01")
    store.set_setting(db, "penalty_notices_per_parent_child", 1, "admin")
    assert history(db)["beyond_framework"].tolist() == [False, True]


def test_the_form_is_told_where_another_notice_to_that_parent_would_fall_in_the_framework(db, pupils):
    assert next_step(db, first(pupils), "2025-10-01") == (
        "0 notices to Jane Smith for this child in the last 3 years. "
        "A first notice would be £80 if paid within 21 days, £160 within 28.")
    notice(db, first(pupils), "2025-10-01")
    assert next_step(db, first(pupils), "2025-11-01") == (
        "1 notice to Jane Smith for this child in the last 3 years. "
        "A second notice within 3 years would be £160 with no reduction.")
    assert next_step(db, first(pupils), "2025-11-01", parent=JOHN).startswith("0 notices to John Smith")


def test_the_casework_summary_gives_the_next_step_for_the_parent_of_the_latest_notice(db, pupils):
    notice(db, first(pupils), "2024-06-03")
    notice(db, first(pupils), "2025-09-17")
    notice(db, first(pupils), "2025-10-01", parent=JOHN)
    summary = penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 12, 1)).iloc[0]
    assert (summary["notices_this_year"], summary["parent"], summary["notices_in_window"]) == (2, JOHN, 1)
    assert summary["next_step"] == "A second notice within 3 years would be £160 with no reduction."
    assert summary["next_notice_amount"] == 160


def test_an_unpaid_notice_past_its_28_days_is_counted(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-10-01", paid="paid")
    summary = penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 11, 1)).set_index("pupil_id")
    assert summary.loc[first(pupils), "unpaid_past_due"] == 1 and summary.loc[second(pupils), "unpaid_past_due"] == 0
    assert penalty_notices.penalty_notices(db, OFFICER, today=date(2025, 10, 20))["unpaid_past_due"].sum() == 0


def test_a_head_of_section_sees_penalty_notices_for_their_sections_only(db, pupils):
    notice(db, first(pupils), "2025-10-01")
    notice(db, second(pupils), "2025-10-01")
    assert list(penalty_notices.penalty_notices(db, HEAD, today=date(2025, 11, 1))["pupil_id"]) == [first(pupils)]
