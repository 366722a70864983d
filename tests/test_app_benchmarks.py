"""Benchmarks and targets on screen (issue 17, item 7): Overview's national figures with their
period and the on-track badges, and Admin's targets form and DfE statistics upload."""

from __future__ import annotations

from datetime import date

from core import benchmarks, store
from tests.app_school import all_text, quick_hashes, school, signed_in  # noqa: F401 (fixtures)
from tests.dfe_statistics import census_csv


def button(app, label: str):
    return next(b for b in app.button if b.label == label)


def markdown_with(app, text: str) -> list[str]:
    return [m.value for m in app.markdown if text in m.value]


# --- Overview -----------------------------------------------------------------------------------


def test_the_overview_names_a_part_year_national_figure_beside_the_full_year_one(school):
    captions = [c.value for c in signed_in("viewer", "overview").caption]
    assert "National 93.4% (autumn 2025/26) · 93.1% (full year 2024/25)" in captions
    assert "National 19.5% (autumn 2025/26) · 18.7% (full year 2024/25)" in captions
    assert "National 2.3% (full year 2023/24)" in captions  # severe absence: none published since


def test_the_overview_shows_each_target_on_or_off_track_with_the_rule_on_hover(school):
    with store.opened(school) as db:
        benchmarks.set_targets(db, 2025, 95.0, 80.0, "admin")
    app = signed_in("viewer", "overview")
    [attendance] = markdown_with(app, "target ≥ 95.0%")
    [persistent] = markdown_with(app, "target ≤ 80.0%")
    assert "Off track" in attendance and "On track" in persistent  # compulsory age: 77.5% attendance, 75.0% PA
    badge = next(m for m in app.markdown if "target ≥ 95.0%" in m.value)
    assert badge.help.startswith("On track means: over this academic year to date")
    assert "Year to date (01/09/2025 to 19/09/2025): 77.5%." in badge.help


def test_without_targets_only_an_admin_is_told_where_to_set_them(school):
    assert "No targets set for 2025/26" in all_text(signed_in("admin", "overview"))
    assert "No targets set" not in all_text(signed_in("viewer", "overview"))


# --- Admin: targets -----------------------------------------------------------------------------


def test_an_admin_sets_this_years_targets_and_the_change_is_audited(school):
    app = signed_in("admin", "admin")
    app.number_input(key="target_attendance_2025").set_value(96.5)
    app.number_input(key="target_persistent_2025").set_value(12.0)
    button(app, "Save targets").click().run()
    assert not app.exception and not app.error
    with store.opened(school) as db:
        assert benchmarks.targets_for(store.get_settings(db), 2025) == {"attendance_pct": 96.5,
                                                                        "persistent_absence_pct": 12.0}
        log, _ = store.audit_log(db, action="setting.change")
    targets = log[log["entity_id"] == "targets"]
    assert targets["username"].tolist() == ["admin"]
    assert targets["detail"].iloc[0]["new"] == {"2025": {"attendance_pct": 96.5, "persistent_absence_pct": 12.0}}


# --- Admin: national figures from the DfE's CSV ---------------------------------------------------


def test_an_admin_uploads_the_dfe_csv_sees_what_changes_then_saves_it(school):
    app = signed_in("admin", "admin")
    app.file_uploader[0].set_value([("absence_rates.csv", census_csv(), "text/csv")]).run()
    preview = next(f.value for f in app.dataframe if "What happens" in f.value.columns)
    assert preview.to_dict("records") == [{"Academic year": "2030/31", "Period": "full year", "What happens": "added",
                                           "Overall absence %": "— → 5.55", "Persistent absence %": "— → 15.25",
                                           "Severe absence %": "— → 1.75"}]
    with store.opened(school) as db:
        assert 2030 not in benchmarks.national_figures(db)["academic_year"].tolist()  # nothing stored yet

    app.text_input(key="national_source").set_value("DfE, Pupil absence in schools in England, 2030/31")
    app.date_input(key="national_published").set_value(date(2026, 3, 19))
    button(app, "Save 1 national figure(s)").click().run()
    assert not app.exception and not app.error
    with store.opened(school) as db:
        row = benchmarks.national_figures(db).set_index(["academic_year", "period"]).loc[(2030, "full year")]
        log, _ = store.audit_log(db, action="national_figures.upload")
    assert row["source"] == "DfE, Pupil absence in schools in England, 2030/31"
    assert row["published_on"] == date(2026, 3, 19) and row["updated_by"] == "admin"
    assert log["username"].tolist() == ["admin"]
    stored = next(f.value for f in app.dataframe if "Source" in f.value.columns)
    assert "2030/31" in stored["Academic year"].tolist()


def test_a_file_that_is_not_the_dfe_csv_is_refused_with_what_to_do_and_nothing_stored(school):
    app = signed_in("admin", "admin")
    app.file_uploader[0].set_value([("roll.csv", b"upn,surname\nA1,Ahmed\n", "text/csv")]).run()
    assert "does not look like a DfE attendance statistics file" in app.error[0].value
    assert not any(b.label.startswith("Save") and "national" in b.label for b in app.button)
    with store.opened(school) as db:
        assert len(benchmarks.national_figures(db)) == 3
        assert store.audit_log(db, action="national_figures")[0].empty
