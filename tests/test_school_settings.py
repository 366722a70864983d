"""Each school of a trust has its own settings, letters, calendar and targets (issue 18 item 1).

Two schools in one store (tests/trust_school.py: school 1 "Test Academy", school 2 "Second
Primary"). School 1 reads the store-wide settings exactly as a single school does; school 2
falls back to them where it has none of its own. A letter is headed with its pupil's
school, worded from its template; missing marks come from each pupil's school's calendar;
the Trust screen sets each school's figures beside its own target and the trust's.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from core import auth, benchmarks, data_quality, letters, metrics, school_calendar, schools, store, trust
from core.school_calendar import NonSchoolDay, SchoolCalendar, Term
from tests.app_school import WEEK_1, quick_hashes, school, signed_in  # noqa: F401 (fixtures)
from tests.test_letters import pdf_pages
from tests.trust_school import SECOND, SECOND_SURNAMES, trust_store  # noqa: F401 (fixture)

PERIOD = metrics.Period(WEEK_1, WEEK_1 + timedelta(days=11))  # the two weeks of marks
OFFICER = auth.Viewer("officer", auth.ATTENDANCE_OFFICER)


def ids_of(db, *surnames: str) -> list[int]:
    found = dict(db.execute("SELECT surname, id FROM pupils").fetchall())
    return [found[s] for s in surnames]


# --- settings: school 1 reads the store's, another school falls back to them ---------------------


def test_a_second_school_falls_back_to_the_store_settings_until_it_has_its_own(trust_store):
    with store.opened(trust_store) as db:
        store.set_setting(db, "school_address", "1 Academy Road", "admin")
        store.set_setting(db, "letter_signatory", "Ann Head", "admin")
        assert store.get_settings(db, 2)["school_address"] == "1 Academy Road"  # none of its own yet
        assert store.get_settings(db, 2)["school_name"] == SECOND  # its name is its own, always

        store.set_setting(db, "school_address", "2 Second Lane", "admin", school_id=2)
        first, second = store.get_settings(db), store.get_settings(db, 2)
        assert first == store.get_settings(db, 1)  # None and 1 are the store's own school
        assert (first["school_address"], second["school_address"]) == ("1 Academy Road", "2 Second Lane")
        assert second["letter_signatory"] == "Ann Head"  # still the store's
        assert first["school_name"] == "Test Academy"
        # The audit names the school the change was for.
        detail = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'setting.change' "
                                       "ORDER BY id DESC LIMIT 1").fetchone()[0])
        assert detail == {"school_id": 2, "old": "1 Academy Road", "new": "2 Second Lane"}


def test_a_second_schools_name_is_its_schools_row_and_the_thresholds_stay_store_wide(trust_store):
    with store.opened(trust_store) as db:
        store.set_setting(db, "school_name", "Second Primary Academy", "admin", school_id=2)
        assert schools.require(db, 2).name == "Second Primary Academy"
        assert store.get_settings(db)["school_name"] == "Test Academy"
        with pytest.raises(ValueError, match="already a school called"):
            store.set_setting(db, "school_name", "Test Academy", "admin", school_id=2)
        with pytest.raises(KeyError, match="same for every school"):
            store.set_setting(db, "penalty_sessions", 8, "admin", school_id=2)
        assert store.get_settings(db, 2)["penalty_sessions"] == 10
        store.set_setting(db, "school_name", "Test Academy Trust School", "admin")  # school 1 kept in step
        assert schools.require(db, 1).name == "Test Academy Trust School"


# --- letters: each headed with its pupil's school, from its template --------------------------------


@pytest.fixture
def two_schools_letters(trust_store):
    with store.opened(trust_store) as db:
        db.conn.execute("UPDATE pupils SET contact1_name = 'Pat Parent', address = '9 Home Street', "
                        "postcode = 'AB1 2CD'")
        store.set_setting(db, "school_address", "1 Academy Road", "admin")
        store.set_setting(db, "school_phone", "01000 111111", "admin")
        store.set_setting(db, "letter_signatory", "Ann Head", "admin")
        store.set_setting(db, "school_address", "2 Second Lane", "admin", school_id=2)
        store.set_setting(db, "school_phone", "02000 222222", "admin", school_id=2)
        store.set_setting(db, "letter_signatory", "Sam Second", "admin", school_id=2)
        store.set_setting(db, "letter_signatory_role", "Attendance Lead", "admin", school_id=2)
    return trust_store


def test_a_batch_spanning_two_schools_heads_each_letter_with_its_own_school(two_schools_letters):
    with store.opened(two_schools_letters) as db:
        letters.save_template(db, OFFICER, "stage_1", "Second's letter about {pupil_name}",
                              "Dear {parent_name},\n\nA word from {school_name}.\n\n{signatory}, {signatory_role}",
                              school_id=2)
        clarke, fenton = ids_of(db, "Clarke", "Fenton")
        values = letters.field_values(db, PERIOD, [clarke, fenton], date(2025, 9, 22), "")  # blank: each school's
        by_school = {int(s): letters.templates(db, int(s))["stage_1"] for s in values["school_id"].unique()}
        batch = letters.compose(letters.templates(db)["stage_1"], values, by_school)
    assert not batch.refused
    first, second = batch.letters
    assert first.title == "Cody Clarke's attendance"  # school 1: the standard wording
    assert first.body.endswith("Ann Head\nAttendance Officer, Test Academy")
    assert second.title == "Second's letter about Faye Fenton"  # school 2: its own wording
    assert second.body.endswith("A word from Second Primary.\n\nSam Second, Attendance Lead")
    pages = pdf_pages(letters.pdf_bytes(batch.letters, "Test Academy", "1 Academy Road", date(2025, 9, 22)))
    assert len(pages) == 2
    assert "Test Academy" in pages[0] and "1 Academy Road" in pages[0] and "01000 111111" in pages[0]
    assert "Second Primary" in pages[1] and "2 Second Lane" in pages[1] and "02000 222222" in pages[1]
    assert "1 Academy Road" not in pages[1] and "Second Primary" not in pages[0]


def test_a_second_school_without_its_own_template_uses_the_store_schools_wording(two_schools_letters):
    with store.opened(two_schools_letters) as db:
        letters.save_template(db, OFFICER, "stage_2", "Trust wording for {pupil_name}", "Dear {parent_name}, hello.")
        assert letters.templates(db, 2)["stage_2"].title == "Trust wording for {pupil_name}"
        letters.save_template(db, OFFICER, "stage_2", "Own wording for {pupil_name}", "Hi.", school_id=2)
        assert letters.templates(db, 2)["stage_2"].title == "Own wording for {pupil_name}"
        assert letters.templates(db)["stage_2"].title == "Trust wording for {pupil_name}"
        letters.reset_template(db, OFFICER, "stage_2", school_id=2)
        assert letters.templates(db, 2)["stage_2"].title == "Trust wording for {pupil_name}"
        officer2 = auth.Viewer("officer2", auth.ATTENDANCE_OFFICER, school_ids=(2,))
        with pytest.raises(letters.LetterError, match="your own school"):
            letters.save_template(db, officer2, "stage_2", "Not mine", "No.", school_id=1)
        saved = db.execute("SELECT detail FROM audit WHERE action = 'letter_template.save' ORDER BY id").fetchall()
        assert [json.loads(d)["school_id"] for d, in saved] == [1, 2]


def test_the_evidence_pack_and_a_schools_section_report_are_headed_with_the_pupils_school(two_schools_letters):
    from core import evidence_pack, la_pack, section_report

    with store.opened(two_schools_letters) as db:
        [fenton] = ids_of(db, "Fenton")
        pack = evidence_pack.evidence_pack(db, auth.Viewer("admin", auth.ADMIN), fenton, PERIOD)
        assert pack.school == SECOND
        officer2 = auth.Viewer("officer2", auth.ATTENDANCE_OFFICER, school_ids=(2,))
        report = section_report.section_report(db, officer2, PERIOD, "Whole school", schools.pupil_ids_of(db, [2]))
        assert report.school == SECOND
        everyone = section_report.section_report(db, auth.Viewer("lead", auth.TRUST_LEAD), PERIOD, "Whole school")
        assert everyone.school == "Trust"  # several schools: the trust, never the first school's name
        assert la_pack.la_pack(db, auth.Viewer("lead", auth.TRUST_LEAD), PERIOD).school == "Trust"
        assert la_pack.la_pack(db, officer2, PERIOD).school == SECOND
        # A hub lead's schools, all of one hub: the hub.
        for school_id in (1, 2):
            schools.edit_school(db, school_id, hub="North", by="admin")
        hub_lead = auth.Viewer("hub", auth.HUB_LEAD, school_ids=(1, 2))
        assert section_report.section_report(db, hub_lead, PERIOD, "Whole school").school == "Hub North"
        assert schools.document_heading(db, None, schools.pupil_ids_of(db, [2])) == SECOND


# --- the calendar: each school its own; missing marks from each pupil's school's -------------------


def autumn(last: date, closed: tuple[NonSchoolDay, ...] = ()) -> SchoolCalendar:
    return SchoolCalendar((Term("Autumn 1", WEEK_1, last),), closed)


def test_missing_marks_come_from_each_pupils_own_schools_calendar(trust_store):
    until = WEEK_1 + timedelta(days=18)  # a third week nobody's marks reach
    period = metrics.Period(WEEK_1, until)
    with store.opened(trust_store) as db:
        school_calendar.save(db, 2025, autumn(until), "admin", school_id=2)  # school 2: the third week is term
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=11)), "admin")  # school 1: it is not
        assert school_calendar.load(db).terms[0].last_day == WEEK_1 + timedelta(days=11)
        assert school_calendar.load(db, 2).terms[0].last_day == until
        missing = data_quality.missing_marks(db, period)
        figures = metrics.pupil_figures(db, period).set_index("surname")
        second = schools.pupil_ids_of(db, [2])
    assert set(missing["pupil_id"]) == set(second)  # only school 2's pupils: 5 days × 2 sessions each
    assert len(missing) == 3 * 10
    assert figures.loc[list(SECOND_SURNAMES), "missing_marks"].tolist() == [10, 10, 10]
    assert figures.loc[["Ahmed", "Brown", "Clarke"], "missing_marks"].tolist() == [0, 0, 0]


def test_a_school_without_the_years_calendar_starts_from_another_schools_and_saves_it_as_its_own(trust_store):
    inset = NonSchoolDay(WEEK_1 + timedelta(days=7), "inset", "Trust training day")
    with store.opened(trust_store) as db:
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=18), (inset,)), "admin")  # school 1's
    app = signed_in("admin", "admin")
    assert not [s for s in app.selectbox if s.key == "calendar_source_1"]  # school 1 has its own: nothing offered
    app.selectbox(key="calendar_school").set_value(2).run()
    source = app.selectbox(key="calendar_source_2")
    assert source.options == ["The days this school's marks show", "Test Academy's saved calendar"]
    source.set_value(1).run()
    assert any("Copied from Test Academy's saved calendar" in i.value for i in app.info)
    terms = next(e for e in app.data_editor if e.key == "calendar_2025_proposed_2_from_1_terms")
    assert terms.value.to_dict("records") == [{"Term": "Autumn 1", "First day": WEEK_1,
                                               "Last day": WEEK_1 + timedelta(days=18)}]
    with store.opened(trust_store) as db:
        assert school_calendar.load(db, 2) is None  # nothing saved for school 2 until asked
    next(b for b in app.button if b.label == "Save the calendar for 2025/26").click().run()
    assert not app.exception and not app.error
    with store.opened(trust_store) as db:
        assert school_calendar.load(db, 2) == school_calendar.load(db)  # school 2's own copy
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=11)), "admin")  # school 1 changes its own...
        assert school_calendar.load(db, 2).terms[0].last_day == WEEK_1 + timedelta(days=18)  # ...not school 2's
        assert school_calendar.load(db, 2).non_school_days == (inset,)
        saved_for = [json.loads(d)["school_id"] for d, in db.execute(
            "SELECT detail FROM audit WHERE action = 'calendar.save' ORDER BY id")]
    assert saved_for == [1, 2, 1]


def test_a_calendar_saved_for_one_school_leaves_the_other_as_it_was(trust_store):
    with store.opened(trust_store) as db:
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=18)), "admin", school_id=2)
        assert school_calendar.load(db) is None  # school 1: none, so nothing missing for its pupils
        missing = data_quality.missing_marks(db, metrics.Period(WEEK_1, WEEK_1 + timedelta(days=18)))
        assert set(missing["pupil_id"]) <= set(schools.pupil_ids_of(db, [2]))
        audit = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'calendar.save'").fetchone()[0])
        assert audit["school_id"] == 2


# --- targets: each school's own and the trust's ------------------------------------------------------


def test_each_school_is_set_beside_its_own_target_and_the_trusts_with_the_gap():
    table = pd.DataFrame([
        {"school_id": 1, "school": "A", "attendance_pct": 94.0, "persistent_absence_pct": 20.0,
         "severe_absence_pct": 1.0},
        {"school_id": 2, "school": "B", "attendance_pct": 96.5, "persistent_absence_pct": 10.0,
         "severe_absence_pct": None},
        {"school_id": None, "school": trust.TRUST_ROW, "attendance_pct": 95.0, "persistent_absence_pct": 15.0,
         "severe_absence_pct": 0.5}])
    found = trust.against_targets(table, {1: {"attendance_pct": 95.0}, 2: {}},
                                  {"attendance_pct": 96.0, "severe_absence_pct": 2.0})
    rows = {(r["school"], r["measure"]): r for r in found.to_dict("records")}
    assert rows[("A", "Attendance")]["school_gap"] == -1.0 and rows[("A", "Attendance")]["trust_gap"] == -2.0
    assert pd.isna(rows[("B", "Attendance")]["school_target"]) and rows[("B", "Attendance")]["trust_gap"] == 0.5
    assert pd.isna(rows[("B", "Severe absence")]["figure"]) and pd.isna(rows[("B", "Severe absence")]["trust_gap"])
    assert rows[(trust.TRUST_ROW, "Severe absence")]["trust_gap"] == 1.5  # 0.5% against 2.0%: 1.5 points better
    assert ("A", "Persistent absence") not in rows  # no target set for it: no row


def test_trust_targets_are_kept_per_year_with_severe_absence_and_audited(trust_store):
    with store.opened(trust_store) as db:
        assert benchmarks.set_trust_targets(db, 2025, 95.5, 14.0, 2.5, "admin")
        assert benchmarks.targets_for(store.get_settings(db), 2025, benchmarks.TRUST_TARGETS) == {
            "attendance_pct": 95.5, "persistent_absence_pct": 14.0, "severe_absence_pct": 2.5}
        assert benchmarks.targets_for(store.get_settings(db), 2025) == {}  # not the school's own
        with pytest.raises(benchmarks.BenchmarkError, match="severe absence"):
            benchmarks.set_trust_targets(db, 2025, None, None, 101.0, "admin")
        assert benchmarks.set_targets(db, 2025, 97.0, None, "admin", school_id=2)
        assert benchmarks.targets_for(store.get_settings(db, 2), 2025) == {"attendance_pct": 97.0}
        assert benchmarks.targets_for(store.get_settings(db), 2025) == {}


# --- the screens ----------------------------------------------------------------------------------------


def test_the_trust_screen_shows_each_school_against_its_target_and_the_trusts(trust_store, downloads):
    with store.opened(trust_store) as db:
        benchmarks.set_trust_targets(db, 2025, 95.0, None, None, "admin")
        benchmarks.set_targets(db, 2025, 85.0, None, "admin", school_id=2)
    app = signed_in("lead", "trust")
    assert not app.exception, [e.value for e in app.exception]
    assert app.segmented_control(key="trust_target_measure").options == ["Attendance"]  # the only one with a target
    [shown] = [d.value for d in app.dataframe if "School's target" in d.value.columns]
    assert list(shown["School"]) == ["Test Academy", SECOND, trust.TRUST_ROW]  # a row a school, the trust last
    second = shown[shown["School"] == SECOND].iloc[0]  # Second Primary: 80.0% attendance
    assert (second["Attendance"], second["School's target"]) == ("80.0%", "85.0%")
    assert second["Gap to the school's (points)"] == "-5.0"
    assert (second["Trust's target"], second["Gap to the trust's (points)"]) == ("95.0%", "-15.0")
    first = shown[shown["School"] == "Test Academy"].iloc[0]
    assert first["School's target"] == "—" and first["Trust's target"] == "95.0%"
    from tests.test_reports import pdf_text

    report = " ".join(pdf_text([d for d in downloads if d.startswith(b"%PDF")][-1]).split())
    assert "Against the targets" in report and "85.0%" in report and "-15.0" in report
    assert "points. Attendance Gap to the school's School Attendance School's target" in report  # a table a measure
    with store.opened(trust_store) as db:
        benchmarks.set_trust_targets(db, 2025, 95.0, 10.0, None, "admin")
    app.run()
    assert app.segmented_control(key="trust_target_measure").options == ["Attendance", "Persistent absence"]
    app.segmented_control(key="trust_target_measure").set_value("Persistent absence").run()
    [shown] = [d.value for d in app.dataframe if "School's target" in d.value.columns]
    assert "Persistent absence" in shown.columns and "Attendance" not in shown.columns
    assert set(shown["Trust's target"]) == {"10.0%"}


def test_the_trust_screen_says_where_to_set_targets_when_there_are_none(trust_store):
    app = signed_in("lead", "trust")
    assert not [d for d in app.dataframe if "Measure" in d.value.columns]
    assert any("No targets set" in c.value for c in app.caption)


def school_name_box(app):
    [box] = [t for t in app.text_input if t.label == "School name"]
    return box


def test_admin_of_a_trusts_store_chooses_the_school_whose_details_are_saved(trust_store):
    app = signed_in("admin", "admin")
    assert not app.exception, [e.value for e in app.exception]
    choice = app.selectbox(key="settings_school")
    assert choice.options == ["Test Academy", SECOND]  # the store's administrator: every school
    choice.select(2).run()
    next(t for t in app.text_area if t.label.startswith("School address")).input("2 Second Lane\nTown")
    next(b for b in app.button if b.label == "Save" and b.form_id == "officer_settings").click().run()
    assert not app.exception and not app.error
    with store.opened(trust_store) as db:
        assert store.get_settings(db, 2)["school_address"] == "2 Second Lane\nTown"
        assert store.get_settings(db)["school_address"] == ""  # school 1 untouched
        who = db.execute("SELECT username, entity FROM audit WHERE action = 'setting.change' ORDER BY id DESC"
                         ).fetchone()
    assert who == ("admin", "school_settings")


def test_a_schools_admin_chooses_only_their_own_school(trust_store):
    with store.opened(trust_store) as db:
        auth.add_user(db, "admin2", "Ada Admin", "trust-test-pw-1", auth.ADMIN, schools=[2], by="test")
    app = signed_in("admin2", "admin")
    assert not app.exception, [e.value for e in app.exception]
    for key in ("settings_school", "calendar_school", "targets_school"):
        assert app.selectbox(key=key).options == [SECOND]
    assert school_name_box(app).value == SECOND  # the school name shown is their school's


def test_a_one_school_stores_admin_has_no_school_choice(school):
    app = signed_in("admin", "admin")
    assert not app.exception
    assert not [s for s in app.selectbox if s.key in ("settings_school", "calendar_school", "targets_school")]
    assert school_name_box(app).value == "Test Academy"



def test_the_sessions_left_in_the_year_come_from_each_pupils_own_schools_calendar(trust_store):
    from core import early_warning

    as_of = WEEK_1 + timedelta(days=11)
    with store.opened(trust_store) as db:
        school_calendar.save(db, 2025, autumn(date(2026, 7, 17)), "admin", school_id=2)  # reaches the year's end
        spare = early_warning.spare_sessions(db, as_of).set_index("pupil_id")
        second = schools.pupil_ids_of(db, [2])
        first = schools.pupil_ids_of(db, [1])
        expected = len(school_calendar.load(db, 2).school_days(as_of + timedelta(days=1), date(2026, 8, 31))) * 2
    assert spare.loc[spare.index.isin(second), "sessions_left"].tolist() == [expected] * 3
    assert spare.loc[spare.index.isin(first), "sessions_left"].isna().all()  # school 1 has no calendar


def test_the_letters_screen_edits_the_chosen_schools_template(trust_store):
    app = signed_in("officer2", "letters")
    assert not app.exception, [e.value for e in app.exception]
    choice = app.selectbox(key="l_template_school")
    assert choice.options == [SECOND]  # a school's officer: their own school only
    app.text_input(key="l_template_title_stage_1_2").input("Second Primary: {pupil_name}")
    next(b for b in app.button if b.label == "Save" and b.form_id == "template_stage_1_2").click().run()
    assert not app.exception and not app.error
    with store.opened(trust_store) as db:
        assert letters.templates(db, 2)["stage_1"].title == "Second Primary: {pupil_name}"
        assert letters.templates(db)["stage_1"].title == letters.DEFAULT_TEMPLATES["stage_1"].title


def test_the_migration_makes_the_saved_templates_and_calendar_the_store_schools(tmp_path):
    path = tmp_path / "old.db"
    ours = next(i for i, m in enumerate(store.MIGRATIONS) if any("CREATE TABLE school_settings" in x for x in m))
    db = store.connect(path, migrate_to=ours)  # the store as it was before this migration
    db.conn.execute("INSERT INTO letter_templates (kind, title, body, updated_at, updated_by) "
                    "VALUES ('stage_1', 'Old title', 'Old body', '2025-09-01T00:00:00+00:00', 'admin')")
    db.conn.execute("INSERT INTO school_terms (first_day, last_day, academic_year, name, saved_at, saved_by) "
                    "VALUES ('2025-09-03', '2025-10-24', 2025, 'Autumn 1', 'now', 'admin')")
    db.conn.execute("INSERT INTO non_school_days (day, academic_year, kind, label, saved_at, saved_by) "
                    "VALUES ('2025-09-19', 2025, 'inset', 'Training', 'now', 'admin')")
    db.conn.close()
    with store.opened(path) as db:
        assert store.schema_version(db) == store.SCHEMA_VERSION
        assert letters.templates(db)["stage_1"].title == "Old title"
        saved = school_calendar.load(db)
        assert [t.name for t in saved.terms] == ["Autumn 1"]
        assert [(d.day, d.kind) for d in saved.non_school_days] == [(date(2025, 9, 19), "inset")]
        assert db.execute("SELECT DISTINCT school_id FROM school_terms").fetchall() == [(1,)]


def test_a_schools_overview_checks_its_own_target(trust_store):
    with store.opened(trust_store) as db:
        benchmarks.set_targets(db, 2025, 97.5, None, "admin")  # the store's own school's
        benchmarks.set_targets(db, 2025, 75.5, None, "admin", school_id=2)
    shown = " ".join(m.value for m in signed_in("officer2", "overview").markdown)
    assert "target ≥ 75.5%" in shown and "97.5" not in shown
    shown = " ".join(m.value for m in signed_in("officer", "overview").markdown)
    assert "target ≥ 97.5%" in shown


def test_an_upload_is_checked_against_its_own_schools_calendar(trust_store, tmp_path):
    from core import cli
    from tests.app_school import upn
    from tests.conftest import marks_csv
    from tests.trust_school import SECOND_UPNS

    inset = WEEK_1 + timedelta(days=14)  # Monday of the third week: an INSET day at school 2 only
    closed = (NonSchoolDay(inset, school_calendar.INSET, "Training"),)
    with store.opened(trust_store) as db:
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=25), closed), "admin", school_id=2)
        school_calendar.save(db, 2025, autumn(WEEK_1 + timedelta(days=25)), "admin")
    second = tmp_path / "second.csv"
    second.write_text(marks_csv([(SECOND_UPNS[0], inset.isoformat(), "AM", "/")]) + "\n", encoding="utf-8")
    first = tmp_path / "first.csv"
    first.write_text(marks_csv([(upn(1), inset.isoformat(), "AM", "/")]) + "\n", encoding="utf-8")
    assert cli.main(["--db", str(trust_store), "import", "--school", SECOND, str(second)]) != 0  # held
    assert cli.main(["--db", str(trust_store), "import", "--school", "Test Academy", str(first)]) == 0
    with store.opened(trust_store) as db:
        day = (inset - date(1970, 1, 1)).days
        held = db.execute("SELECT p.school_id FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE m.day = ?",
                          (day,)).fetchall()
    assert held == [(1,)]  # school 1's mark imported; school 2's held on its INSET day
