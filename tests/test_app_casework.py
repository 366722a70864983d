"""Case work in the app, driven like a user drives it (AppTest) on the test school of
tests/app_school.py: logging actions and contacts, check-ins, the chronology, the Casework
lists, and what each role may see and do. Dates are relative to today, as in a school."""

from __future__ import annotations

from datetime import date, timedelta


from app_pages.ui.formatting import today, uk
from core import auth, cases, store
from tests.app_school import all_text, quick_hashes, school, signed_in, titles  # noqa: F401 (fixtures)

OFFICER = auth.Viewer("officer", "attendance_officer")
LEAD = auth.Viewer("pastoral", "pastoral_lead")


def pupil_id(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def home_visit(db_path, surname: str, *, opened: int = 20, check_in: int | None = 6, owner: str = "officer",
               viewer=OFFICER, **fields) -> int:
    """A home visit opened `opened` days ago, with a check-in due `check_in` days ago (negative: ahead)."""
    with store.opened(db_path) as db:
        return cases.open_intervention(db, viewer, pupil_id(db_path, surname), "Home visit", owner, days_ago(opened),
                                       check_in_on=None if check_in is None else days_ago(check_in), **fields)


def stored(db_path, sql: str, *params):
    with store.opened(db_path) as db:
        return db.execute(sql, params).fetchall()


def pupil_page(db_path, username: str, surname: str):
    return signed_in(username, "pupil", pupil_id=pupil_id(db_path, surname))


def labels(app, kind: str) -> list[str]:
    return [w.label for w in app.get(kind)]


def frame_with(app, column: str):
    return next(f.value for f in app.dataframe if column in f.value.columns)


# --- logging an action from the pupil page ------------------------------------------------------


def test_log_action_opens_pre_filled_for_the_pupil_with_me_as_owner_and_a_check_in_in_two_weeks(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_log_action").click().run()
    assert "**Evans, Eli** · 9E" in [m.value for m in app.markdown]
    app.selectbox(key="cf_type").set_value("Home visit").run()
    assert app.selectbox(key="cf_owner").value == "officer"
    check_in = next(d for d in app.date_input if d.label == "Check-in on")
    assert check_in.value == today() + timedelta(days=cases.DEFAULT_CHECK_IN_DAYS)


def test_saving_the_form_records_the_action_and_its_check_in_and_audits_them(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Home visit").run()
    app.text_area(key="cf_summary").input("Mum at home; Eli back on Monday")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT owner, summary, opened_on FROM interventions") == [
        ("officer", "Mum at home; Eli back on Monday", today().isoformat())]
    assert stored(school, "SELECT due_on, owner FROM checkins") == [
        ((today() + timedelta(days=14)).isoformat(), "officer")]
    assert [a for (a,) in stored(school, "SELECT action FROM audit WHERE username = 'officer' AND action LIKE '%.%'")] == [
        "intervention.open", "checkin.schedule"]
    assert "cf_save" not in [b.key for b in app.button]  # the form has closed


def test_the_types_are_offered_labelled_by_tier(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_log_action").click().run()
    chooser = app.selectbox(key="cf_type")
    assert chooser.options[0] == "1 · Expect — First-day call"
    assert "6 · Enforce — Penalty notice" in chooser.options


def test_a_penalty_notice_asks_for_its_date_issued_and_whether_it_is_paid(school):
    app = pupil_page(school, "officer", "Clarke")
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Penalty notice").run()
    assert app.date_input(key="cf_d_date_issued").value == today()
    assert app.selectbox(key="cf_d_paid").value == "unpaid"
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT details FROM interventions") == [
        (f'{{"date_issued": "{today().isoformat()}", "paid": "unpaid"}}',)]


def test_a_reduced_timetable_asks_for_a_review_date_six_weeks_ahead(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Reduced (part-time) timetable").run()
    review = next(d for d in app.date_input if d.label == "Review on")
    assert review.value == today() + timedelta(weeks=6)


def test_a_safeguarding_referral_asks_only_where_it_is_recorded(school):
    app = pupil_page(school, "pastoral", "Evans")
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Safeguarding referral recorded").run()
    assert labels(app, "text_area") == []
    assert "never the" in app.info[0].value
    app.text_input(key="cf_d_recorded_in").input("CPOMS")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT summary, sensitive_note, details FROM interventions") == [
        ("", "", '{"recorded_in": "CPOMS"}')]


def test_the_sensitive_note_is_offered_only_to_the_pastoral_lead_and_admins(school):
    offered = {}
    for username in ("officer", "secondary", "pastoral", "admin"):
        app = pupil_page(school, username, "Evans")
        app.button(key="pupil_log_action").click().run()
        app.selectbox(key="cf_type").set_value("Home visit").run()
        offered[username] = "Sensitive note (optional)" in labels(app, "text_area")
    assert offered == {"officer": False, "secondary": False, "pastoral": True, "admin": True}


def test_no_sensitive_note_is_offered_in_meeting_mode(school):
    app = signed_in("pastoral", "pupil", pupil_id=pupil_id(school, "Evans"), meeting_mode=True)
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Home visit").run()
    assert "Sensitive note (optional)" not in labels(app, "text_area")


def test_a_refused_entry_says_why_and_saves_nothing(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Leave-of-absence request").run()
    app.date_input(key="cf_d_from_date").set_value(today())
    app.date_input(key="cf_d_to_date").set_value(days_ago(3))
    app.button(key="cf_save").click().run()
    assert "The leave ends before it starts." in [e.value for e in app.error]
    assert stored(school, "SELECT COUNT(*) FROM interventions") == [(0,)]


# --- contacts, check-ins, editing and closing -----------------------------------------------------


def test_log_contact_records_a_home_visit_with_whom_and_when(school):
    app = pupil_page(school, "officer", "Ahmed")
    app.button(key="pupil_log_contact").click().run()
    app.segmented_control(key="cf_kind").set_value("home_visit").run()
    app.text_input(key="cf_with").input("grandmother")
    app.text_area(key="cf_summary").input("Amir unwell; doctor's note to follow")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT kind, with_whom, contact_on FROM contacts") == [
        ("home_visit", "grandmother", today().isoformat())]
    chronology = frame_with(app, "What")
    assert chronology["What"].iloc[0] == "Home visit with grandmother"


def test_completing_a_check_in_from_the_pupil_page_takes_it_off_the_overdue_list(school):
    home_visit(school, "Evans")
    app = pupil_page(school, "officer", "Evans")
    assert any("overdue by 6 days" in m.value for m in app.markdown)
    checkin = stored(school, "SELECT id FROM checkins")[0][0]
    app.button(key=f"checkin_{checkin}").click().run()
    app.text_input(key="cf_outcome").input("In every day this week")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT done_on, done_by, outcome FROM checkins") == [
        (today().isoformat(), "officer", "In every day this week")]
    assert not any("overdue" in m.value for m in app.markdown)


def test_closing_an_action_asks_for_the_outcome_and_keeps_it_in_the_chronology(school):
    action = home_visit(school, "Evans", check_in=None)
    app = pupil_page(school, "officer", "Evans")
    app.button(key=f"close_{action}").click().run()
    app.button(key="cf_save").click().run()
    assert "Say what the outcome was" in app.error[0].value
    app.text_area(key="cf_outcome").input("Attendance back above 95%")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT status, outcome FROM interventions") == [("closed", "Attendance back above 95%")]
    chronology = frame_with(app, "What")
    assert chronology["What"].tolist()[:2] == ["Action closed: Home visit", "Action opened: Home visit"]
    assert chronology["Notes"].iloc[0] == "Attendance back above 95%"


def test_editing_an_action_keeps_the_record_before_the_change(school):
    action = home_visit(school, "Evans", check_in=None, summary="First visit")
    app = pupil_page(school, "officer", "Evans")
    app.button(key=f"edit_{action}").click().run()
    assert app.text_area(key="cf_summary").value == "First visit"
    app.text_area(key="cf_summary").input("First visit; dad there too")
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT summary FROM interventions") == [("First visit; dad there too",)]
    assert len(stored(school, "SELECT before FROM intervention_history")) == 1


def test_a_penalty_notice_is_marked_paid_by_editing_it(school):
    with store.opened(school) as db:
        action = cases.open_intervention(db, OFFICER, pupil_id(school, "Clarke"), "Penalty notice", "officer",
                                         date(2025, 9, 17))
    app = pupil_page(school, "officer", "Clarke")
    app.button(key=f"edit_{action}").click().run()
    app.selectbox(key="cf_d_paid").set_value("paid").run()
    app.button(key="cf_save").click().run()
    assert stored(school, "SELECT details FROM interventions") == [('{"date_issued": "2025-09-17", "paid": "paid"}',)]


def test_a_key_adult_is_shown_on_the_pupil_page(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_key_adult").click().run()
    app.selectbox(key="cf_key_adult").set_value("pastoral").run()
    app.button(key="cf_save").click().run()
    assert any("Key adult **Priya Pastoral**" in m.value for m in app.markdown)


# --- the chronology and the weekly chart ----------------------------------------------------------


def test_the_chronology_lists_actions_check_ins_contacts_and_triggers_newest_first(school):
    home_visit(school, "Clarke", opened=10, check_in=-4, summary="Spoke to mum")
    app = pupil_page(school, "officer", "Clarke")
    chronology = frame_with(app, "What")
    assert chronology["What"].tolist() == ["Check-in due (Home visit)", "Action opened: Home visit",
                                           "Trigger reached: Penalty-notice threshold"]
    assert chronology["Date"].tolist()[-1] == date(2025, 9, 16)
    assert chronology["Notes"].tolist()[1] == "Spoke to mum"


def test_a_viewer_sees_the_chronology_without_notes_and_no_buttons_to_record(school):
    home_visit(school, "Evans", summary="Private summary")
    app = pupil_page(school, "viewer", "Evans")
    assert "Notes" not in frame_with(app, "What").columns
    assert "Private summary" not in all_text(app)
    assert "Log action" not in labels(app, "button") and "Complete check-in" not in labels(app, "button")


def test_only_the_lead_sees_a_sensitive_note_in_the_chronology(school):
    home_visit(school, "Evans", viewer=LEAD, owner="pastoral", sensitive_note="Disclosure at home")
    assert "Disclosure at home" in all_text(pupil_page(school, "pastoral", "Evans"))
    assert "Disclosure at home" not in all_text(pupil_page(school, "officer", "Evans"))
    assert "Disclosure at home" not in all_text(signed_in("pastoral", "pupil", pupil_id=pupil_id(school, "Evans"),
                                                          meeting_mode=True))


def test_the_weekly_chart_lists_each_action_with_attendance_before_and_after(school):
    with store.opened(school) as db:
        cases.open_intervention(db, OFFICER, pupil_id(school, "Ahmed"), "First-day call", "officer", date(2025, 9, 15))
    app = pupil_page(school, "officer", "Ahmed")
    impact = frame_with(app, "School days since")
    assert impact[["Action", "Started", "20 days before", "After"]].values.tolist() == [
        ["First-day call", "15/09/2025", "100.0%", "60.0%"]]


# --- the Casework screen ------------------------------------------------------------------------


def test_my_caseload_shows_my_check_ins_with_the_overdue_ones_and_my_open_actions(school):
    home_visit(school, "Evans")
    home_visit(school, "Ahmed", check_in=-5)
    home_visit(school, "Clarke", owner="pastoral")
    app = signed_in("officer", "casework")
    check_ins = frame_with(app, "Days overdue")
    assert check_ins[["Pupil", "Days overdue"]].values.tolist() == [["Evans, Eli", 6], ["Ahmed, Amir", 0]]
    assert "**2 booked for you, 1 overdue** (in red) · soonest first" in [m.value for m in app.markdown]
    assert frame_with(app, "Action")["Pupil"].tolist() == ["Ahmed, Amir", "Evans, Eli"]
    actions = next(f for f in app.dataframe if "Review on" in f.value.columns)
    assert actions.value["Review on"].isna().all()  # home visits have no review date ...
    assert actions.proto.HasField("placeholder") and actions.proto.placeholder == ""  # ... left blank, not "None"


def test_the_teams_overdue_list_shows_everyones_overdue_check_ins(school):
    home_visit(school, "Evans", check_in=2)
    home_visit(school, "Clarke", owner="pastoral", check_in=9)
    app = signed_in("officer", "casework")
    app.segmented_control(key="cw_show").set_value("overdue").run()
    overdue = frame_with(app, "Owner")
    assert overdue[["Pupil", "Owner", "Days overdue"]].values.tolist() == [
        ["Clarke, Cody", "Priya Pastoral", 9], ["Evans, Eli", "Olu Officer", 2]]


def test_completing_a_check_in_from_the_caseload_shrinks_the_overdue_list(school):
    home_visit(school, "Evans")
    home_visit(school, "Ahmed")
    checkin = stored(school, "SELECT id FROM checkins ORDER BY id")[0][0]
    app = signed_in("officer", "casework", cw_show="overdue", case_form={"form": "checkin", "checkin_id": checkin})
    assert "Overdue check-ins · 2" in app.segmented_control(key="cw_show").options
    app.text_input(key="cf_outcome").input("Back in school")
    app.button(key="cf_save").click().run()
    assert "Overdue check-ins · 1" in app.segmented_control(key="cw_show").options
    assert frame_with(app, "Owner")["Pupil"].tolist() == ["Ahmed, Amir"]


def test_below_90_with_no_action_in_the_set_number_of_days(school):
    home_visit(school, "Clarke", opened=3, check_in=None)
    home_visit(school, "Ahmed", opened=30, check_in=None)
    app = signed_in("officer", "casework", cw_show="no_action")
    assert frame_with(app, "Last action")["Pupil"].tolist() == ["Ahmed, Amir", "Evans, Eli"]
    with store.opened(school) as db:
        store.set_setting(db, "no_action_days", 40, "admin")
    app = signed_in("officer", "casework", cw_show="no_action")
    assert frame_with(app, "Last action")["Pupil"].tolist() == ["Evans, Eli"]


def test_reduced_timetables_due_for_review_are_listed(school):
    with store.opened(school) as db:
        cases.open_intervention(db, OFFICER, pupil_id(school, "Evans"), "Reduced (part-time) timetable", "officer",
                                days_ago(40), review_on=days_ago(1))
    app = signed_in("officer", "casework", cw_show="reviews")
    reviews = frame_with(app, "Review on")
    assert reviews[["Pupil", "Review on"]].values.tolist() == [["Evans, Eli", days_ago(1)]]


def test_penalty_notices_this_academic_year_show_the_frameworks_next_step_per_pupil(school, monkeypatch):
    monkeypatch.setattr("app_pages.ui.formatting.today", lambda: date(2025, 12, 1))
    with store.opened(school) as db:
        for issued in (date(2024, 6, 3), date(2025, 9, 17)):  # last year's, and this year's (the sidebar's year)
            cases.open_intervention(db, OFFICER, pupil_id(school, "Clarke"), "Penalty notice", "officer", issued,
                                    details={"date_issued": issued, "paid": "unpaid"}, parent="Carla Clarke")
    app = signed_in("officer", "casework", cw_show="penalties")
    notices = frame_with(app, "Next step")
    assert notices[["Pupil", "This year", "Parent", "In 3 years"]].values.tolist() == [
        ["Clarke, Cody", 1, "Carla Clarke", 2]]
    assert notices["Next step"].iloc[0] == ("No further notice to this parent for this child within 3 years "
                                            "(until 03/06/2027): the next step is other action, e.g. prosecution.")


def test_meeting_mode_leaves_the_parent_off_the_penalty_notices(school):
    with store.opened(school) as db:
        cases.open_intervention(db, OFFICER, pupil_id(school, "Clarke"), "Penalty notice", "officer",
                                date(2025, 9, 17), parent="Carla Clarke")
    app = signed_in("officer", "casework", cw_show="penalties", meeting_mode=True)
    assert "Parent" not in frame_with(app, "Next step").columns
    assert "Carla" not in all_text(app)


def test_impact_by_type_comes_with_the_small_group_caveat(school):
    with store.opened(school) as db:
        store.set_setting(db, "impact_school_days", 3, "admin")
        cases.open_intervention(db, OFFICER, pupil_id(school, "Ahmed"), "First-day call", "officer", date(2025, 9, 15))
    app = signed_in("officer", "casework", cw_show="impact")
    by_type = frame_with(app, "Mean change (pts)")
    assert by_type[["Action", "Pupils", "Improved", "Group"]].values.tolist() == [
        ["First-day call", 1, "0 of 1", "small — indicative only"]]
    assert any("indicative only" in c.value for c in app.caption)


def test_every_casework_list_can_be_downloaded(school):
    home_visit(school, "Evans")
    app = signed_in("officer", "casework")
    assert labels(app, "download_button") == ["CSV", "Excel", "CSV", "Excel"]


# --- who sees and does what on the Casework screen -----------------------------------------------------


def test_a_viewer_sees_the_team_lists_without_a_caseload_notes_or_buttons(school):
    home_visit(school, "Evans", summary="Private summary")
    app = signed_in("viewer", "casework")
    options = app.segmented_control(key="cw_show").options
    assert not any(o.startswith("My caseload") for o in options)
    assert app.segmented_control(key="cw_show").value == "overdue"
    assert "Complete" not in frame_with(app, "Owner").columns
    assert "Private summary" not in all_text(app)


def test_a_head_of_section_sees_only_their_sections_cases(school):
    home_visit(school, "Evans")
    home_visit(school, "Clarke")
    app = signed_in("secondary", "casework", cw_show="overdue")
    assert frame_with(app, "Owner")["Pupil"].tolist() == ["Evans, Eli"]
    assert "Clarke" not in all_text(app)


def test_a_head_of_section_cannot_log_an_action_for_a_pupil_outside_their_sections(school):
    app = signed_in("secondary", "below_90", case_form={"form": "action", "pupil_id": pupil_id(school, "Clarke")})
    app.selectbox(key="cf_type").set_value("Home visit").run()
    app.button(key="cf_save").click().run()
    assert "not in your sections" in app.error[0].value
    assert stored(school, "SELECT COUNT(*) FROM interventions") == [(0,)]


def test_a_viewer_is_never_shown_a_case_form(school):
    app = signed_in("viewer", "below_90", case_form={"form": "action", "pupil_id": pupil_id(school, "Evans")})
    assert "cf_save" not in [b.key for b in app.button]


# --- Below 90% and the Overview ---------------------------------------------------------------------


def test_below_90_shows_the_last_action_and_the_next_check_in(school):
    home_visit(school, "Evans")
    table = signed_in("viewer", "below_90").dataframe[0].value.set_index("Pupil")
    assert table.loc["Evans, Eli", "Last action"] == f"Home visit, {uk(days_ago(20))}"
    assert table.loc["Evans, Eli", "Next check-in"] == days_ago(6)
    assert table.loc["Ahmed, Amir", "Last action"] == "no action yet"


def test_below_90_offers_log_action_on_each_row_only_to_those_who_record_case_work(school):
    assert "Log action" in signed_in("officer", "below_90").dataframe[0].value.columns
    assert "Log action" not in signed_in("viewer", "below_90").dataframe[0].value.columns


def test_the_overview_counts_overdue_check_ins_and_links_to_the_list(school):
    home_visit(school, "Evans")
    home_visit(school, "Clarke", check_in=-3)
    app = signed_in("officer", "overview")
    assert {m.label: m.value for m in app.metric}["Check-ins overdue"] == "1"
    app.button(key="overview_overdue").click().run()
    assert titles(app) == ["Casework"]
    assert app.segmented_control(key="cw_show").value == "overdue"


def test_a_head_of_sections_overview_counts_only_their_overdue_check_ins(school):
    home_visit(school, "Clarke")
    assert {m.label: m.value for m in signed_in("secondary", "overview").metric}["Check-ins overdue"] == "0"


# --- Admin: the list of intervention types ----------------------------------------------------------


def test_the_admin_lists_every_intervention_type_with_its_tier(school):
    app = signed_in("admin", "admin")
    types = frame_with(app, "Tier")
    assert types.set_index("Name").loc["Penalty notice", "Tier"] == "6 · Enforce"
    assert types.set_index("Name").loc["Penalty notice", "Records"] == "Date issued, Paid"
