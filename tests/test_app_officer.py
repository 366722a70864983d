"""The attendance officer's other screens, driven like a user drives them (AppTest):
Letters, Families, Data quality, the Overview's data-quality row, lateness and the new
groups on Patterns and Below 90%."""

from __future__ import annotations

import re

from datetime import date

from core import auth, cases, families, meetings, penalty_notices, store
from tests.app_school import (  # noqa: F401 (fixtures)
    all_text, calling_school, quick_hashes, school, signed_in, titles,
)
from core.importers import import_file
from tests.conftest import make_upn, marks_csv

OFFICER = auth.Viewer("officer", "attendance_officer")


def pupil_ids(db_path) -> dict[str, int]:
    with store.opened(db_path) as db:
        return dict(db.execute("SELECT surname, id FROM pupils").fetchall())


# --- Letters -----------------------------------------------------------------------------


def test_stage_1_letters_for_pupils_below_90_percent_are_recorded_on_their_records(calling_school):
    app = signed_in("officer", "letters")
    app.segmented_control(key="l_who").set_value("pa").run()
    assert "letters ready" in all_text(app)
    app.button(key="l_send").click().run()
    assert "recorded on the pupils' records" in all_text(app)
    with store.opened(calling_school) as db:
        sent = cases.contacts(db, OFFICER)
        actions = cases.interventions(db, OFFICER)
    assert set(sent["kind"]) == {"letter"} and len(sent) == len(actions) >= 2
    assert set(actions["type"]) == {"Attendance letter (stage 1)"}


def test_a_stage_letter_is_ticked_only_for_pupils_it_is_the_next_stage_for(calling_school):
    """After stage 1 went to everyone below 90%, a second stage-1 batch lists them unticked:
    letters go only to the pupils the rule selects."""
    app = signed_in("officer", "letters")
    app.segmented_control(key="l_who").set_value("pa").run()
    app.button(key="l_send").click().run()
    with store.opened(calling_school) as db:
        sent = len(cases.contacts(db, OFFICER))
    again = signed_in("officer", "letters")
    again.segmented_control(key="l_who").set_value("pa").run()
    assert "0 letters ready" in all_text(again) and sent >= 2


def test_letters_pdf_is_named_for_the_school_what_and_date(calling_school, monkeypatch):
    from streamlit.delta_generator import DeltaGenerator

    names, original = [], DeltaGenerator.download_button

    def recording(self, label, data, file_name=None, *args, **kwargs):
        names.append((label, file_name))
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    app = signed_in("officer", "letters")
    app.segmented_control(key="l_who").set_value("pa").run()
    [name] = [n for label, n in names if label == "Download the PDF without recording"][-1:]
    assert re.fullmatch(r"[A-Za-z0-9-]+_letters-stage-1_\d{2}-\d{2}-\d{4}\.pdf", name), name


def test_in_meeting_mode_letters_are_neither_previewed_nor_made(calling_school):
    app = signed_in("officer", "letters", meeting_mode=True)
    app.segmented_control(key="l_who").set_value("pa").run()
    text = all_text(app)
    assert "previewed and made only with meeting mode off" in text
    assert [b for b in app.button if b.key == "l_send"] == [] and "letters ready" not in text
    assert "Ahmed" not in text


def test_a_letter_without_a_parent_in_the_roll_is_refused_with_what_to_add(school):
    app = signed_in("officer", "letters")
    app.segmented_control(key="l_who").set_value("pa").run()
    text = all_text(app)
    assert "cannot be made yet" in text and "Primary Contact Name" in text
    assert "0 letters ready" in text


def test_the_officer_edits_a_template_and_the_pastoral_lead_cannot(calling_school):
    app = signed_in("officer", "letters")
    app.text_input(key="l_template_title_stage_1").set_value("Attendance of {pupil_name}")
    app.button(key="l_template_save").click().run()
    with store.opened(calling_school) as db:
        assert db.execute("SELECT title FROM letter_templates WHERE kind = 'stage_1'").fetchone() == (
            "Attendance of {pupil_name}",)
    lead = signed_in("pastoral", "letters")
    assert "Only an administrator or the attendance officer" in all_text(lead)


def test_a_letter_agreed_at_a_meeting_waits_on_the_letters_screen_until_it_is_made(calling_school):
    """Issue 16: a letter the meeting agreed is listed for the officer (and chosen by default)
    until it is made here; once made it no longer waits."""
    with store.opened(calling_school) as db:
        ahmed = pupil_ids(calling_school)["Ahmed"]
        meeting = meetings.start_meeting(db, auth.Viewer("pastoral", "pastoral_lead"), date.today(), ["Priya"])
        meetings.record_decision(db, auth.Viewer("pastoral", "pastoral_lead"), meeting, ahmed, meetings.LETTER,
                                 "officer", date.today())
    app = signed_in("officer", "letters")
    text = all_text(app)
    assert "1 letter agreed at pastoral meetings is waiting to be made (stage 1: 1)" in text
    assert app.segmented_control(key="l_who").value == "agreed" and app.selectbox(key="l_kind").value == "stage_1"
    table = app.dataframe[0].value
    assert table["pupil_id"].tolist() == [ahmed] and table["Send"].tolist() == [True]
    assert table["Agreed at a meeting"].iloc[0] == f"Stage 1, agreed {date.today():%d/%m/%Y}"
    app.button(key="l_send").click().run()
    assert "1 letter recorded on the pupils' records" in all_text(app)
    with store.opened(calling_school) as db:
        assert meetings.letters_agreed(db, OFFICER).empty
    again = signed_in("officer", "letters")
    assert "waiting to be made" not in all_text(again) and again.segmented_control(key="l_who").value == "new"


# --- Families ---------------------------------------------------------------------------


def test_a_family_shows_every_childs_attendance(calling_school):
    app = signed_in("officer", "families")
    ids = pupil_ids(calling_school)
    app.selectbox(key="fam_pupil").set_value(ids["Ahmed"]).run()
    children = app.dataframe[0].value
    assert children["Child"].tolist() == ["Ahmed, Amir", "Evans, Eli"]


def test_a_suggested_sibling_is_confirmed_with_one_click(calling_school, tmp_path):
    from core.importers import import_bytes

    with store.opened(calling_school) as db:
        import_bytes(db, f"UPN,Surname,Forename,Contact 1 Telephone\n{make_upn(2)},Brown,Bella,07700 900009\n"
                         f"{make_upn(4)},Dunn,Dara,07700900009".encode(), "phones.csv", "officer")
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "families")
    assert "Siblings to confirm (1)" in [t.label for t in app.tabs]
    app.button(key=f"fam_yes_{ids['Brown']}_{ids['Dunn']}").click().run()
    with store.opened(calling_school) as db:
        assert families.family_of(db, ids["Brown"]) == [ids["Brown"], ids["Dunn"]]


# --- Data quality and the Overview ---------------------------------------------------------


def test_the_data_quality_screen_lists_the_missing_marks(calling_school):
    app = signed_in("officer", "data_quality")
    assert titles(app) == ["Data quality"]
    table = app.dataframe[0].value
    assert table["Pupil"].tolist() == ["Brown, Bella"] and table["Session"].tolist() == ["AM"]


def test_the_overview_counts_data_problems_and_links_the_officer_to_the_lists(calling_school):
    text = all_text(signed_in("officer", "overview"))
    assert "**Data quality** · :red[**1**] missing marks" in text
    assert [link.label for link in signed_in("officer", "overview").get("page_link")] == ["See the lists"]
    assert not signed_in("viewer", "overview").get("page_link")


# --- Patterns and Below 90% ------------------------------------------------------------------


def test_patterns_compare_young_carers_and_show_lateness(calling_school, tmp_path):
    late_file = tmp_path / "lates.csv"  # two pupils late on the Monday and Tuesday of the third week
    late_file.write_text(marks_csv([(make_upn(n), day, "AM", code, 12) for n in (1, 2)
                                    for day, code in (("2025-09-15", "L"), ("2025-09-16", "U"))]))
    with store.opened(calling_school) as db:
        assert import_file(db, late_file, "officer").status == "imported"
        store.set_setting(db, "persistent_late_arrivals", 2, "officer")
    app = signed_in("viewer", "patterns")
    app.selectbox(key="p_grouping").set_value("social_worker").run()
    assert "Child protection plan" in all_text(app)
    assert "Lateness" in [s.value for s in app.subheader]
    with store.opened(calling_school) as db:
        late = db.execute("SELECT p.surname || ', ' || p.forename, p.form FROM pupils p WHERE p.id IN "
                          "(SELECT pupil_id FROM marks WHERE code IN ('L', 'U'))").fetchall()
    assert len(late) == 2
    for column in ("Most lates on", "Half term from"):  # by pupil; persistently late (2 or more)
        table = next(frame.value for frame in app.dataframe if column in frame.value.columns)
        assert sorted(zip(table["Pupil"], table["Form"])) == sorted(late), column  # each row its own pupil's name


def test_below_90_filters_by_social_worker_involvement(calling_school):
    app = signed_in("viewer", "below_90")
    app.multiselect(key="f_groups").set_value(["CP plan"]).run()
    assert list(app.dataframe[0].value["Pupil"]) == ["Clarke, Cody"]


def test_the_date_of_a_penalty_notice_in_the_family_view_uses_the_framework(calling_school):
    ids = pupil_ids(calling_school)
    with store.opened(calling_school) as db:
        penalty_notices.record_penalty_notice(db, OFFICER, ids["Clarke"], "Carla Clarke", date(2025, 9, 19))
    app = signed_in("officer", "families")
    app.selectbox(key="fam_pupil").set_value(ids["Clarke"]).run()
    notices = app.dataframe[-1].value
    assert notices[["Parent", "Notices (3 yrs)"]].values.tolist() == [["Carla Clarke", 1]]
    assert notices["Next step"].tolist() == ["A second notice within 3 years would be £160 with no reduction."]


def test_casework_and_families_show_the_same_next_step_for_the_parent_of_the_latest_notice(calling_school,
                                                                                           monkeypatch):
    monkeypatch.setattr("app_pages.ui.formatting.today", lambda: date(2025, 10, 1))
    ids = pupil_ids(calling_school)
    with store.opened(calling_school) as db:
        for issued in (date(2025, 9, 12), date(2025, 9, 19)):
            penalty_notices.record_penalty_notice(db, OFFICER, ids["Clarke"], "Carla Clarke", issued)
    casework = signed_in("officer", "casework", cw_show="penalties")
    summary = next(f.value for f in casework.dataframe if "Next step" in f.value.columns)
    family = signed_in("officer", "families")
    family.selectbox(key="fam_pupil").set_value(ids["Clarke"]).run()
    by_parent = family.dataframe[-1].value.set_index("Parent")
    assert summary[["Parent", "In 3 years"]].values.tolist() == [["Carla Clarke", 2]]
    assert by_parent.loc["Carla Clarke", "Next step"] == summary["Next step"].iloc[0]
    assert summary["Next step"].iloc[0].startswith("No further notice to this parent for this child within 3 years")


def test_the_log_action_form_records_the_parent_a_penalty_notice_went_to(calling_school):
    ids = pupil_ids(calling_school)
    with store.opened(calling_school) as db:
        penalty_notices.record_penalty_notice(db, OFFICER, ids["Clarke"], "Carla Clarke", date(2025, 9, 19))
    app = signed_in("officer", "pupil", pupil_id=ids["Clarke"])
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Penalty notice").run()
    assert app.selectbox(key="cf_parent").options == ["Carla Clarke"]
    app.selectbox(key="cf_parent").set_value("Carla Clarke").run()
    assert any(c.value.startswith("1 notice to Carla Clarke for this child in the last 3 years. A second notice")
               for c in app.caption)
    app.button(key="cf_save").click().run()
    with store.opened(calling_school) as db:
        assert penalty_notices.penalty_notice_history(db, OFFICER)["parent"].tolist() == ["Carla Clarke", "Carla Clarke"]


def test_the_log_action_form_refuses_a_third_notice_to_the_same_parent(calling_school):
    ids = pupil_ids(calling_school)
    with store.opened(calling_school) as db:
        for issued in (date(2025, 9, 12), date(2025, 9, 19)):
            penalty_notices.record_penalty_notice(db, OFFICER, ids["Clarke"], "Carla Clarke", issued)
    app = signed_in("officer", "pupil", pupil_id=ids["Clarke"])
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Penalty notice").run()
    app.selectbox(key="cf_parent").set_value("Carla Clarke").run()
    app.button(key="cf_save").click().run()
    assert any("No further notice to this parent" in e.value for e in app.error)
    with store.opened(calling_school) as db:
        assert len(penalty_notices.penalty_notice_history(db, OFFICER)) == 2


def test_an_admin_sets_the_address_and_signatory_the_letters_use(calling_school):
    app = signed_in("admin", "admin")
    [address] = [area for area in app.text_area if area.label == "School address (on every letter)"]
    address.set_value("1 School Road\nRiverside")
    [form_save] = [b for b in app.button if b.label == "Save" and b.form_id == "officer_settings"]
    form_save.click().run()
    with store.opened(calling_school) as db:
        assert store.get_settings(db)["school_address"] == "1 School Road\nRiverside"
