"""Attendance support plans in the app (issue 17 item 1), driven as a user drives them (AppTest)
on the test school of tests/app_school.py: starting a plan, adding to it, reviewing it, who may,
meeting mode, and the plans due for review on Casework."""

from __future__ import annotations

from datetime import timedelta

from app_pages.ui.formatting import today
from core import auth, store, support_plans
from tests.app_school import all_text, quick_hashes, school, signed_in  # noqa: F401 (fixtures)
from tests.test_app_casework import pupil_id, pupil_page, stored

OFFICER = auth.Viewer("officer", "attendance_officer")


def started(db_path, surname: str, weeks_ago: int = 0, barriers: str = "Anxious about the bus") -> int:
    with store.opened(db_path) as db:
        return support_plans.start_plan(db, OFFICER, pupil_id(db_path, surname), today() - timedelta(weeks=weeks_ago),
                                        "officer", barriers=barriers, early_help="offered")


def test_starting_a_plan_from_the_pupil_page_stores_it_with_a_review_six_weeks_on_and_audits_it(school):
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_plan_start").click().run()
    assert next(d for d in app.date_input if d.label == "First review").value == today() + timedelta(weeks=6)
    app.selectbox(key="pf_early_help").set_value("accepted")
    app.text_area(key="pf_barriers").input("Caring for a younger sibling")
    app.button(key="pf_save").click().run()
    assert stored(school, "SELECT owner, barriers, early_help, next_review_on FROM support_plans") == [
        ("officer", "Caring for a younger sibling", "accepted", (today() + timedelta(weeks=6)).isoformat())]
    assert [a for (a,) in stored(school, "SELECT action FROM audit WHERE action LIKE 'support_plan.%'")] == [
        "support_plan.start"]
    assert "pf_save" not in [b.key for b in app.button]  # the form has closed
    assert "Barriers:** Caring for a younger sibling" in all_text(app)


def test_an_agreed_action_by_others_without_an_agency_is_refused_and_nothing_is_saved(school):
    started(school, "Evans")
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_plan_action").click().run()
    app.segmented_control(key="pf_party").set_value("other").run()
    app.text_input(key="pf_action").input("Weekly drop-in")
    app.button(key="pf_save").click().run()
    assert any("Name the agency" in e.value for e in app.error)
    assert stored(school, "SELECT COUNT(*) FROM support_plan_actions") == [(0,)]
    app.text_input(key="pf_agency").input("School nurse")
    app.button(key="pf_save").click().run()
    assert stored(school, "SELECT party, agency, action FROM support_plan_actions") == [
        ("other", "School nurse", "Weekly drop-in")]


def test_a_target_and_a_review_are_recorded_and_the_next_review_moves_on(school):
    plan_id = started(school, "Evans", weeks_ago=6)
    app = pupil_page(school, "officer", "Evans")
    app.button(key="pupil_plan_target").click().run()
    app.number_input(key="pf_target_pct").set_value(94.0)
    app.button(key="pf_save").click().run()
    assert stored(school, "SELECT attendance_pct FROM support_plan_targets") == [(94.0,)]
    app.button(key="pupil_plan_review").click().run()
    app.text_area(key="pf_note").input("Better mornings")
    app.button(key="pf_save").click().run()
    assert stored(school, "SELECT note, next_review_on FROM support_plan_reviews WHERE plan_id = ?", plan_id) == [
        ("Better mornings", (today() + timedelta(weeks=6)).isoformat())]
    assert stored(school, "SELECT next_review_on FROM support_plans") == [((today() + timedelta(weeks=6)).isoformat(),)]


def test_a_viewer_sees_the_plan_without_barriers_and_no_buttons(school):
    started(school, "Evans")
    app = pupil_page(school, "viewer", "Evans")
    text = all_text(app)
    assert "Attendance support plan" in text and "Anxious about the bus" not in text
    assert not [b for b in app.button if (b.key or "").startswith("pupil_plan")]


def test_an_overdue_review_is_shown_in_red_on_the_pupil_page(school):
    started(school, "Evans", weeks_ago=7)
    app = pupil_page(school, "officer", "Evans")
    assert any(":red[**next review" in m.value and "overdue**]" in m.value for m in app.markdown)


def test_meeting_mode_hides_the_barriers_and_review_notes_and_shows_initials(school):
    plan_id = started(school, "Evans")
    with store.opened(school) as db:
        support_plans.record_review(db, OFFICER, plan_id, today(), "Private review words")
    app = pupil_page(school, "pastoral", "Evans")
    assert "Anxious about the bus" in all_text(app) and "Private review words" in all_text(app)
    app = signed_in("pastoral", "pupil", pupil_id=pupil_id(school, "Evans"), meeting_mode=True)
    text = all_text(app)
    assert "Anxious about the bus" not in text and "Private review words" not in text
    assert "Barriers and review notes are not shown in meeting mode" in text


def test_plans_due_for_review_are_listed_on_casework(school):
    started(school, "Evans", weeks_ago=7)
    app = signed_in("officer", "casework")
    app.segmented_control(key="cw_show").set_value("reviews").run()
    frame = next(f.value for f in app.dataframe if "Next review" in f.value.columns)
    assert list(frame["Pupil"]) == ["Evans, Eli"]
    assert list(frame["Next review"]) == [today() - timedelta(weeks=1)]


# --- the Reports screen: the court file and the LA pack ----------------------------------------------


def test_the_court_file_downloads_as_pdf_and_csv_and_each_one_made_is_audited(school, downloads):
    started(school, "Clarke")
    app = signed_in("officer", "reports", report_kind="court", court_pupil=pupil_id(school, "Clarke"))
    assert not app.exception
    labels = [b.proto.label for b in app.get("download_button")]
    assert "Court file (PDF)" in labels and "Court file (CSV)" in labels
    pdf = next(d for d in downloads if d.startswith(b"%PDF"))
    table = next(d for d in downloads if b"Section" in d[:20]).decode("utf-8-sig")
    assert pdf and "Register" in table and "Certificate of attendance" in table and "Clarke, Cody" in table
    assert "Anxious about the bus" in table  # the plan's barriers go to court
    made = stored(school, "SELECT username, detail FROM audit WHERE action = 'court_file.download'")
    assert {u for u, _ in made} == {"officer"} and len(made) >= 2
    support = next(f.value for f in app.dataframe if "Offered by" in f.value.columns)
    assert "Early Help" in list(support["Support"])


def test_a_head_of_section_chooses_the_court_file_only_for_their_sections_pupils(school):
    app = signed_in("secondary", "reports", report_kind="court")
    options = app.selectbox(key="court_pupil").options
    assert any("Ahmed" in o for o in options) and not any("Clarke" in o for o in options)


def test_a_viewer_is_offered_neither_the_court_file_nor_the_la_pack(school):
    app = signed_in("viewer", "reports")
    options = app.segmented_control(key="report_kind").options
    assert "court" not in options and "la_pack" not in options


def test_the_la_pack_lists_severe_absence_and_downloads_audited(school, downloads):
    app = signed_in("officer", "reports", report_kind="la_pack")
    assert not app.exception
    table = next(f.value for f in app.dataframe if "Why listed" in f.value.columns)
    assert list(table["Pupil"]) == ["Clarke, Cody"]  # 40%: severe; the PA pupils have no agencies
    assert [b.proto.label for b in app.get("download_button")] == ["LA pack (PDF)", "LA pack (CSV)"]
    csv_made = next(d for d in downloads if not d.startswith(b"%PDF")).decode("utf-8-sig")
    assert "Clarke, Cody" in csv_made and "Severe absence" in csv_made
    assert len(stored(school, "SELECT id FROM audit WHERE action = 'la_pack.download'")) >= 2


def test_in_meeting_mode_the_la_pack_shows_initials_and_no_barriers(school):
    started(school, "Clarke", barriers="Grandparent unwell")
    app = signed_in("pastoral", "reports", report_kind="la_pack", meeting_mode=True)
    text = all_text(app) + " ".join(str(f.value.to_dict()) for f in app.dataframe)
    assert "Clarke" not in text and "Grandparent unwell" not in text and "C. C." in text


def test_an_admin_sets_the_review_interval_the_la_and_the_agencies_and_each_change_is_audited(school):
    app = signed_in("admin", "admin")
    form = app.form(key="plan_settings")
    form.number_input(key="t_plan_weeks").set_value(4)
    form.number_input(key="t_la_agencies").set_value(3)
    form.text_input[0].input("Northshire County Council")
    form.button[0].click()
    app.run()
    with store.opened(school) as db:
        settings = store.get_settings(db)
        assert (settings["plan_review_weeks"], settings["la_pack_min_agencies"], settings["local_authority"]) == (
            4, 3, "Northshire County Council")
        changed = db.execute("SELECT username, entity_id FROM audit WHERE action = 'setting.change' AND entity_id IN "
                             "('plan_review_weeks', 'la_pack_min_agencies', 'local_authority')").fetchall()
        assert sorted(changed) == [("admin", "la_pack_min_agencies"), ("admin", "local_authority"),
                                   ("admin", "plan_review_weeks")]
    started(school, "Evans")
    assert stored(school, "SELECT next_review_on FROM support_plans") == [((today() + timedelta(weeks=4)).isoformat(),)]


def test_barriers_typed_with_markup_show_as_typed_not_as_markdown(school):
    started(school, "Evans", barriers="**not bold** <b>no html</b> [link](http://example.org)")
    app = pupil_page(school, "officer", "Evans")
    [shown] = [m.value for m in app.markdown if m.value.startswith("**Barriers:**")]
    assert "\\*\\*not bold\\*\\*" in shown and "\\<b\\>" in shown and "\\[link\\]" in shown


def test_a_plan_due_is_reviewed_from_casework(school):
    started(school, "Evans", weeks_ago=7)
    app = signed_in("officer", "casework", cw_show="reviews")
    assert "Review" in next(f.value for f in app.dataframe if "Next review" in f.value.columns).columns
    app = signed_in("officer", "casework", cw_show="reviews",
                    case_form={"form": "plan_review", "pupil_id": pupil_id(school, "Evans")})
    app.text_area(key="pf_note").input("Reviewed from the list")
    app.button(key="pf_save").click().run()
    assert stored(school, "SELECT note FROM support_plan_reviews") == [("Reviewed from the list",)]
    assert not [f for f in app.dataframe if "Next review" in f.value.columns]  # nothing due any more
