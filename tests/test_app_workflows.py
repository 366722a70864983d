"""The penalty-notice ledger and children missing education in the app (issue 17), driven
like a user drives them (AppTest) on the test school of tests/app_school.py: Clarke (3B) has
six O sessions in each of the two weeks, so the penalty-notice threshold is reached on his
tenth, Tuesday 16/09/2025 PM."""

from __future__ import annotations

from datetime import date, timedelta

from app_pages.ui.formatting import today
from core import auth, missing_education, penalty_ledger, store
from tests.app_school import all_text, quick_hashes, school, signed_in  # noqa: F401 (fixtures: quick_hashes is used by school)

OFFICER = auth.Viewer("officer", "attendance_officer")
PARENT = "Carla Clarke"


def pupil_id(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


def pupil_page(db_path, username: str, surname: str, **state):
    return signed_in(username, "pupil", pupil_id=pupil_id(db_path, surname), **state)


def submit(app, label: str):
    next(b for b in app.button if b.label == label).click().run()
    return app


def ledger_frame(app):
    return next(f.value for f in app.dataframe if "Threshold reached" in f.value.columns)


def audited(db_path, family: str) -> list[str]:
    with store.opened(db_path) as db:
        log, _ = store.audit_log(db, action=family)
    return sorted(log["action"])


def entry_with_reason(db_path) -> int:
    with store.opened(db_path) as db:
        entry = penalty_ledger.open_entry(db, OFFICER, pupil_id(db_path, "Clarke"), PARENT, date(2025, 9, 19))
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.WAIVE, "Carla Clarke is in hospital.",
                              date(2025, 9, 19))
    return entry


def test_recording_a_threshold_shows_its_date_and_the_ten_sessions_behind_it(school):
    app = pupil_page(school, "officer", "Clarke")
    app.text_input(key=f"pl_parent_{pupil_id(school, 'Clarke')}").input(PARENT)
    submit(app, "Find the threshold and record it")
    assert not app.exception and not app.error
    row = ledger_frame(app).iloc[0]
    assert (row["Threshold reached"], row["Parent"], row["Sessions"]) == ("16/09/2025", PARENT, 10)
    assert row["Next step"] == "Decide: issue or waive, or issue a Notice to Improve first"
    assert "Sessions: 08/09/2025 AM O; 08/09/2025 PM O;" in all_text(app).replace("\\", "")
    assert audited(school, "penalty_ledger") == ["penalty_ledger.open"]


def test_no_threshold_for_a_pupil_without_one_is_said_and_nothing_is_stored(school):
    app = pupil_page(school, "officer", "Brown")
    app.text_input(key=f"pl_parent_{pupil_id(school, 'Brown')}").input("Bob Brown")
    submit(app, "Find the threshold and record it")
    assert "is not reached by 19/09/2025" in app.error[0].value
    assert audited(school, "penalty_ledger") == []


def test_the_decision_form_records_a_waiver_with_its_reason_and_closes_the_entry(school):
    with store.opened(school) as db:
        entry = penalty_ledger.open_entry(db, OFFICER, pupil_id(school, "Clarke"), PARENT, date(2025, 9, 19))
    app = pupil_page(school, "officer", "Clarke")
    app.radio(key=f"pl_{entry}_decision").set_value(penalty_ledger.WAIVE)
    app.text_area(key=f"pl_{entry}_reason").input("Family bereavement; support plan agreed instead.")
    submit(app, "Record the decision")
    row = ledger_frame(app).iloc[0]
    assert row["Next step"] == "Closed" and row["Reason"] == "Family bereavement; support plan agreed instead."
    assert audited(school, "penalty_ledger") == ["penalty_ledger.decide", "penalty_ledger.open"]


def test_a_decision_with_no_reason_is_refused_on_the_form(school):
    with store.opened(school) as db:
        entry = penalty_ledger.open_entry(db, OFFICER, pupil_id(school, "Clarke"), PARENT, date(2025, 9, 19))
    app = pupil_page(school, "officer", "Clarke")
    submit(app, "Record the decision")
    assert "Give the reason for the decision." in app.error[0].value
    assert audited(school, "penalty_ledger") == ["penalty_ledger.open"]


def test_meeting_mode_shows_the_ledger_without_the_parent_or_the_reason_and_no_forms(school):
    entry_with_reason(school)
    app = pupil_page(school, "officer", "Clarke", meeting_mode=True)
    text = all_text(app)
    assert "16/09/2025" in text and "Carla" not in text and "hospital" not in text
    assert not [b for b in app.button if b.label == "Find the threshold and record it"]


def test_casework_lists_the_ledger_for_the_team(school):
    entry_with_reason(school)
    app = signed_in("officer", "casework", cw_show="penalties")
    frame = next(f.value for f in app.dataframe if "Threshold reached" in f.value.columns)
    assert frame[["Pupil", "Threshold reached", "Next step"]].values.tolist() == [["Clarke, Cody", "16/09/2025",
                                                                                     "Closed"]]


def test_a_head_of_section_does_not_see_another_sections_ledger(school):
    entry_with_reason(school)  # Clarke is in Year 3 (Primary)
    app = signed_in("secondary", "casework", cw_show="penalties")
    assert "No thresholds in the ledger yet" in all_text(app)


# --- children missing education ---------------------------------------------------------------


def test_starting_a_case_lists_the_steps_with_their_due_dates_and_recording_one_marks_it_done(school):
    ahmed = pupil_id(school, "Ahmed")
    app = pupil_page(school, "officer", "Ahmed")
    app.date_input(key=f"cme_from_{ahmed}").set_value(today())
    submit(app, "Start a children-missing-education case")
    steps = next(f.value for f in app.dataframe if "Step" in f.value.columns)
    assert steps["Step"].tolist()[0] == "First-day contact with the family"
    assert steps["Status"].tolist()[0].startswith("Due by")
    with store.opened(school) as db:
        [case_id] = [r[0] for r in db.execute("SELECT id FROM cme_cases")]
    app.text_input(key=f"cme_done_by_{case_id}").input("Olu Officer")
    app.text_area(key=f"cme_note_{case_id}").input("Spoke to grandmother.")
    submit(app, "Record step")
    steps = next(f.value for f in app.dataframe if "Step" in f.value.columns)
    assert steps.iloc[0][["Status", "By", "Note"]].tolist() == ["Done", "Olu Officer", "Spoke to grandmother."]
    assert audited(school, "cme") == ["cme.open", "cme.step"]


def test_today_lists_the_overdue_missing_education_steps(school):
    with store.opened(school) as db:
        missing_education.open_case(db, OFFICER, pupil_id(school, "Ahmed"), today() - timedelta(days=40))
    app = signed_in("officer", "today")
    text = all_text(app)
    assert "Children missing education — 4 steps overdue for 1 pupil" in text
    frame = next(f.value for f in app.dataframe if "Step" in f.value.columns)
    assert frame["Pupil"].tolist()[0] == "Ahmed, Amir"


def test_today_in_meeting_mode_shows_initials_for_the_overdue_steps(school):
    with store.opened(school) as db:
        missing_education.open_case(db, OFFICER, pupil_id(school, "Ahmed"), today() - timedelta(days=40))
    app = signed_in("officer", "today", meeting_mode=True)
    frame = next(f.value for f in app.dataframe if "Step" in f.value.columns)
    assert frame["Pupil"].tolist()[0] == "A. A." and "Ahmed" not in all_text(app)


def test_after_a_notice_to_improve_the_form_asks_for_its_outcome_and_then_the_decision(school):
    with store.opened(school) as db:
        entry = penalty_ledger.open_entry(db, OFFICER, pupil_id(school, "Clarke"), PARENT, date(2025, 9, 19))
        penalty_ledger.record_notice_to_improve(db, OFFICER, entry, date(2025, 9, 22), date(2025, 10, 20))
    app = pupil_page(school, "officer", "Clarke")
    assert not [b for b in app.button if b.label == "Record the decision"]
    app.radio(key=f"pl_{entry}_outcome_choice").set_value(penalty_ledger.NOT_MET)
    submit(app, "Record the outcome")
    assert "Notice to Improve outcome recorded." in [s.value for s in app.success]
    assert ledger_frame(app).iloc[0]["Notice to Improve"] == "22/09/2025 to 20/10/2025 · not met"
    assert [b for b in app.button if b.label == "Record the decision"]


def test_the_notice_issued_and_its_payment_are_recorded_from_the_forms(school):
    with store.opened(school) as db:
        entry = penalty_ledger.open_entry(db, OFFICER, pupil_id(school, "Clarke"), PARENT, date(2025, 9, 19))
        penalty_ledger.decide(db, OFFICER, entry, penalty_ledger.ISSUE, "No improvement after two letters.",
                              today() - timedelta(days=10))
    app = pupil_page(school, "officer", "Clarke")
    app.date_input(key=f"pl_{entry}_issued_on").set_value(today() - timedelta(days=5))
    submit(app, "Record notice issued")
    row = ledger_frame(app).iloc[0]
    assert row["Next step"] == f"£80 due by {(today() + timedelta(days=16)):%d/%m/%Y}"
    submit(app, "Record payment")
    assert ledger_frame(app).iloc[0]["Next step"] == "Closed"
    with store.opened(school) as db:
        assert db.execute("SELECT settled, paid_amount FROM penalty_ledger").fetchone() == ("paid", 80)
    assert audited(school, "penalty_ledger") == ["penalty_ledger.decide", "penalty_ledger.issue",
                                                 "penalty_ledger.open", "penalty_ledger.paid"]


def test_removing_a_pupil_from_roll_too_soon_is_refused_on_the_form_and_the_case_stays_open(school):
    ahmed = pupil_id(school, "Ahmed")
    with store.opened(school) as db:
        case_id = missing_education.open_case(db, OFFICER, ahmed, today() - timedelta(days=3))
    app = pupil_page(school, "officer", "Ahmed")
    app.radio(key=f"cme_outcome_{case_id}").set_value(missing_education.REMOVED)
    submit(app, "Close the case")
    assert "is removed from roll only after 20 school days' absence" in app.error[0].value
    with store.opened(school) as db:
        assert db.execute("SELECT closed_on FROM cme_cases").fetchone() == (None,)


def test_meeting_mode_shows_the_missing_education_steps_without_notes_or_forms(school):
    with store.opened(school) as db:
        case_id = missing_education.open_case(db, OFFICER, pupil_id(school, "Ahmed"), today() - timedelta(days=3))
        missing_education.record_step(db, OFFICER, case_id, "home_visit", today(), "Olu Officer",
                                      "Neighbour says the family moved to Leeds.")
    app = pupil_page(school, "officer", "Ahmed", meeting_mode=True)
    steps = next(f.value for f in app.dataframe if "Step" in f.value.columns)
    assert "Home visit" in steps["Step"].tolist()
    assert "Leeds" not in all_text(app) and "Olu Officer" not in steps.to_string()
    assert not [b for b in app.button if b.label in ("Record step", "Close the case")]


def test_the_ledger_downloads_with_the_sessions_behind_each_threshold(school, downloads):
    entry_with_reason(school)
    app = signed_in("officer", "casework", cw_show="penalties")
    csv = next(d.decode("utf-8-sig") for d in downloads if b"Threshold reached" in d)
    assert "16/09/2025" in csv and "08/09/2025 AM O;" in csv and "hospital" not in csv
    assert not app.exception
