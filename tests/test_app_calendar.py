"""Admin → School calendar and the missing marks it makes visible in Data quality (AppTest)."""

from __future__ import annotations

from datetime import date

from core import calendar, reads, school_calendar, store
from core.school_calendar import SchoolCalendar, Term
from tests.app_school import quick_hashes, school, screen, signed_in  # noqa: F401 (fixtures)

TERMS = "calendar_2025_proposed_terms"
DAYS = "calendar_2025_proposed_days"
SAVE = "Save the calendar for 2025/26"


def button(app, label: str):
    return next(b for b in app.button if b.label == label)


def editor(app, key: str):
    return next(e for e in app.data_editor if e.key == key)


def saved(db_path):
    with store.opened(db_path) as db:
        return school_calendar.load(db)


def test_the_admin_sees_a_calendar_proposed_from_the_marks_in_uk_dates(school):
    app = signed_in("admin", "admin")
    assert not app.exception
    assert "School calendar" in [t.label for t in app.tabs]
    assert any("Proposed from the marks" in i.value for i in app.info)
    terms = editor(app, TERMS)
    assert terms.value.to_dict("records") == [{"Term": "Autumn 1", "First day": date(2025, 9, 8),
                                               "Last day": date(2025, 9, 19)}]
    assert terms.proto.columns and "DD/MM/YYYY" in terms.proto.columns  # the date columns show dd/mm/yyyy
    assert saved(school) is None


def test_the_admin_adds_a_term_and_an_inset_day_and_saves_and_it_is_audited(school):
    app = signed_in("admin", "admin")
    app.session_state[TERMS] = {"edited_rows": {"0": {"Last day": "2025-10-24"}},
                                "added_rows": [{"Term": "Autumn 2", "First day": "2025-11-03", "Last day": "2025-12-19"}],
                                "deleted_rows": []}
    app.session_state[DAYS] = {"edited_rows": {}, "added_rows": [{"Date": "2025-11-03", "Kind": "INSET day",
                                                                  "Label": "Staff training"}], "deleted_rows": []}
    app.run()
    button(app, SAVE).click().run()
    assert not app.exception and not app.error
    found = saved(school)
    assert found.terms == (Term("Autumn 1", date(2025, 9, 8), date(2025, 10, 24)),
                           Term("Autumn 2", date(2025, 11, 3), date(2025, 12, 19)))
    assert [(d.day, d.kind, d.label) for d in found.non_school_days] == [(date(2025, 11, 3), "inset", "Staff training")]
    with store.opened(school) as db:
        log, _ = store.audit_log(db, action="calendar.save")
    assert log["username"].tolist() == ["admin"]


def test_a_term_ending_before_it_starts_is_refused_with_what_to_do_and_nothing_saved(school):
    app = signed_in("admin", "admin")
    app.session_state[TERMS] = {"edited_rows": {"0": {"Last day": "2025-09-01"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    button(app, SAVE).click().run()
    assert not app.exception
    assert any("Autumn 1 ends on 01/09/2025, before it starts on 08/09/2025 — correct its dates." in e.value
               for e in app.error)
    assert saved(school) is None


def test_a_non_school_day_outside_every_term_is_refused(school):
    app = signed_in("admin", "admin")
    app.session_state[DAYS] = {"edited_rows": {}, "added_rows": [{"Date": "2025-10-01", "Kind": "Closure",
                                                                  "Label": ""}], "deleted_rows": []}
    app.run()
    button(app, SAVE).click().run()
    assert any("01/10/2025 (Closure) is not inside any term" in e.value for e in app.error)
    assert saved(school) is None


def test_data_quality_lists_a_school_day_nobody_uploaded_by_pupil_and_by_week(school):
    with store.opened(school) as db:
        # Wednesday 17/09/2025's register never reached Pastoral.
        db.execute("DELETE FROM marks WHERE day = ?", (calendar.to_day(date(2025, 9, 17)),))
        db.conn.commit()
    app = signed_in("officer", "data_quality", dq_check="missing_marks")
    assert any("Missing marks — 0 sessions" in s.value for s in app.subheader)  # no calendar: nobody's day is missed
    with store.opened(school) as db:
        school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 10, 24)),)),
                             "admin")
    reads.clear()
    app = signed_in("officer", "data_quality", dq_check="missing_marks")
    assert not app.exception
    assert any("Missing marks — 10 sessions" in s.value for s in app.subheader)
    by_session = app.dataframe[0].value
    assert set(by_session["Date"]) == {"Wed 17/09/2025"} and len(by_session) == 10
    app.segmented_control(key="dq_missing_view").set_value("By week").run()
    assert app.dataframe[0].value.to_dict("records") == [
        {"Week beginning": "15/09/2025", "Sessions": 10, "Pupils": 5, "Dates": "17/09/2025"}]
    app.segmented_control(key="dq_missing_view").set_value("By pupil").run()
    assert app.dataframe[0].value["Sessions"].tolist() == [2] * 5


# --- early warning on the pupil screen and Below 90% -----------------------------------------------


def full_year(db_path) -> None:
    """Autumn 1 as uploaded, and a summer term of 5 days (10 sessions) left in the year."""
    with store.opened(db_path) as db:
        school_calendar.save(db, 2025, SchoolCalendar((Term("Autumn 1", date(2025, 9, 8), date(2025, 9, 19)),
                                                       Term("Summer 2", date(2026, 7, 6), date(2026, 7, 10)))), "admin")
    reads.clear()


def brown(db_path) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = 'Brown'").fetchone()[0]


def test_the_pupil_screen_gives_the_sessions_to_spare_and_the_attendance_needed(school):
    full_year(school)
    app = screen("viewer", "pupil", pupil_id=brown(school))
    assert not app.exception
    # 20 possible, none missed, 10 left: ceil(30 / 10) - 1 - 0 = 2 to spare; 8 of 10 to attend.
    assert any("**Early warning:** 2 sessions to spare — the most this pupil can still miss of the 10 left this year "
               "and end it above 90%; that needs 80.0% attendance from now on." in m.value for m in app.markdown)


def test_without_a_calendar_the_pupil_screen_says_what_sessions_to_spare_need(school):
    app = screen("viewer", "pupil", pupil_id=brown(school))
    assert any("need the school calendar to reach the end of the year" in c.value for c in app.caption)
    assert not any("Early warning:" in m.value for m in app.markdown)


def test_below_90_shows_the_early_warning_part(school):
    full_year(school)
    app = screen("viewer", "below_90")
    assert not app.exception
    assert "Early warning — above 90% and at most 93%" in [s.value for s in app.subheader]
