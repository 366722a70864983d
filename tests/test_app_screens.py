"""Each screen's logic, driven like a user drives it (AppTest), on the test school of
tests/app_school.py: who is listed, what the figures say, and what each role sees."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from app_pages.ui import lists
from core import auth, cases, reads, store, triggers
from tests.app_school import (  # noqa: F401 (fixtures)
    PUPIL_NAMES, all_text, empty_school, quick_hashes, school, screen, signed_in, titles,
)


def metrics_of(app) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in app.metric}


def pupil_id(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


def listed(app) -> list[str]:
    return list(app.dataframe[0].value["Pupil"]) if app.dataframe else []


# --- Overview ------------------------------------------------------------------------


def test_the_overview_shows_compulsory_age_headlines_with_the_change_since_the_last_upload(school):
    tiles = metrics_of(screen("viewer", "overview"))
    assert tiles["Attendance"] == ("77.5%", "-5.0 pts")
    assert tiles["Persistent absence (pupils)"] == ("75.0%", "+25.0 pts")
    assert tiles["Severe absence (pupils)"] == ("25.0%", "no change")
    assert tiles["Unauthorised absence"] == ("20.0%", "+5.0 pts")
    assert tiles["Newly below 90% this week"][0] == "1"
    assert tiles["Triggers reached this week"][0] == "1"


def test_the_triggers_the_overview_shows_go_into_the_history_of_triggers_shown(school):
    screen("viewer", "overview")
    with store.opened(school) as db:
        assert triggers.history(db)["trigger"].tolist() == ["penalty_notice_threshold"]  # Clarke's O sessions


def test_the_overview_puts_the_national_figures_beside_the_school(school):
    captions = [c.value for c in screen("viewer", "overview").caption]
    assert "National 93.4% (autumn 2025/26) · 93.1% (full year 2024/25)" in captions
    assert "National 19.5% (autumn 2025/26) · 18.7% (full year 2024/25)" in captions


def test_the_overview_shows_all_pupils_beside_compulsory_age_when_the_school_has_a_sixth_form(school):
    app = screen("viewer", "overview")
    both = [frame.value for frame in app.dataframe if "Compulsory school age" in frame.value.iloc[:, 0].tolist()]
    assert both and both[0]["Pupils"].tolist() == [5, 4]


def test_a_head_of_sections_overview_counts_only_their_sections(school):
    tiles = metrics_of(screen("secondary", "overview"))
    assert tiles["Attendance"][0] == "90.0%"  # Ahmed 16/20, Brown 20/20, Evans 18/20
    assert tiles["Persistent absence (pupils)"][0] == "66.7%"


def test_a_tile_link_opens_its_list(school):
    app = signed_in("pastoral", "overview")
    app.button(key="overview_new").click().run()
    assert titles(app) == ["Below 90%"]
    assert listed(app) == ["Ahmed, Amir"]


def test_an_empty_store_says_how_to_start(empty_school):
    for username, screen_id in (("officer", "overview"), ("viewer", "below_90"), ("viewer", "patterns")):
        app = signed_in(username, screen_id)
        assert "No registers uploaded yet" in app.info[0].value
        assert not app.exception


# --- the period in the sidebar --------------------------------------------------------

WEEK_ONE = (date(2025, 9, 1), date(2025, 9, 12))


def test_dates_chosen_in_the_sidebar_narrow_every_figure(school):
    app = signed_in("viewer", "below_90", date_range=WEEK_ONE)
    assert "01/09/2025 to 12/09/2025" in all_text(app)
    assert listed(app) == ["Clarke, Cody", "Evans, Eli"]  # Ahmed's absence was in week 2


def test_the_year_to_date_grows_when_a_new_week_is_uploaded(school):
    app = signed_in("viewer", "below_90", date_range=WEEK_ONE, date_range_default=WEEK_ONE)
    assert "01/09/2025 to 19/09/2025" in all_text(app)


# --- Below 90% -----------------------------------------------------------------------


def test_the_list_holds_everyone_at_or_below_90_percent_lowest_first(school):
    app = screen("viewer", "below_90")
    assert listed(app) == ["Clarke, Cody", "Ahmed, Amir", "Evans, Eli"]  # Evans is at exactly 90.0%
    table = app.dataframe[0].value.set_index("Pupil")
    assert table.loc["Ahmed, Amir", "Attendance %"] == 80.0
    assert table.loc["Ahmed, Amir", "Top reason"] == "No reason yet provided (N)"
    assert table.loc["Clarke, Cody", "Triggers"] == ["Penalty-notice threshold"]
    assert (table["Last action"] == "no action yet").all()


def test_the_list_shows_who_how_low_and_why_first(school):
    """At 1366 px a head of section reads the pupil, their attendance and why (reason, worst
    day, triggers) without scrolling sideways: those columns come first."""
    app = signed_in("viewer", "below_90")
    order = list(app.dataframe[0].proto.column_order)
    assert order[:7] == ["Open", "Pupil", "New", "Form", "Attendance %", "Top reason", "Worst day"]
    assert order[7] == "Triggers" and order.index("Authorised") > order.index("Triggers")


def test_newly_below_90_percent_since_the_previous_upload_is_marked(school):
    table = screen("viewer", "below_90").dataframe[0].value.set_index("Pupil")
    assert table.loc["Ahmed, Amir", "New"] == "● new"
    assert table.loc["Evans, Eli", "New"] == "" and table.loc["Clarke, Cody", "New"] == ""
    assert table.loc["Ahmed, Amir", "Change (pts)"] == -20.0


@pytest.mark.parametrize(("show", "expected"), [
    ("sa", ["Clarke, Cody"]),
    ("new", ["Ahmed, Amir"]),
    ("triggers", ["Clarke, Cody"]),
])
def test_the_list_can_show_severe_absence_new_cases_and_triggers(school, show, expected):
    app = screen("viewer", "below_90")
    app.segmented_control(key="f_only").set_value(show).run()
    assert listed(app) == expected


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("f_year", ["7"], ["Ahmed, Amir"]),
    ("f_section", ["Primary"], ["Clarke, Cody"]),
    ("f_groups", ["SEN support"], ["Evans, Eli"]),
    ("f_groups", ["PP"], ["Ahmed, Amir"]),
])
def test_filters_narrow_the_list(school, key, value, expected):
    app = screen("viewer", "below_90")
    app.multiselect(key=key).set_value(value).run()
    assert listed(app) == expected


def test_a_filter_with_nobody_says_so_and_offers_to_clear_it(school):
    app = screen("viewer", "below_90")
    app.text_input(key="f_search").input("nobody by this name").run()
    assert app.info[0].value == "No pupils match these filters."
    app.button[0].click().run()
    assert len(listed(app)) == 3


def test_filters_stay_when_moving_to_another_screen_and_back(school):
    app = signed_in("viewer", "below_90")
    app.multiselect(key="f_year").set_value(["7"]).run()
    app.switch_page("app_pages/overview.py").run()
    app.switch_page("app_pages/below_90.py").run()
    assert listed(app) == ["Ahmed, Amir"]


def test_a_head_of_section_lists_only_their_sections_pupils(school):
    app = screen("secondary", "below_90")
    assert listed(app) == ["Ahmed, Amir", "Evans, Eli"]
    assert "Clarke" not in all_text(app)


def test_meeting_mode_shows_initials_instead_of_names(school):
    app = signed_in("viewer", "below_90", meeting_mode=True)  # the sidebar's banner and style too
    assert listed(app) == ["C. C.", "A. A.", "E. E."]
    assert not any(name in all_text(app) for name in PUPIL_NAMES)


def test_the_list_can_be_downloaded_as_csv_and_excel(school):
    app = screen("viewer", "below_90")
    assert [b.label for b in app.get("download_button")] == ["CSV", "Excel"]


def test_the_excel_download_holds_the_rows_and_columns_given():
    shown = pd.DataFrame({"Pupil": ["Ahmed, Amir"], "Attendance %": [80.0], "Triggers": [""]})
    sheet = openpyxl.load_workbook(io.BytesIO(lists.excel_bytes(shown, "below_90"))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Pupil", "Attendance %", "Triggers"], ["Ahmed, Amir", 80, None]]


# --- Pupil ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["amir", "Amir Ahmed", "ahmed, amir", "123", "00123"])
def test_a_pupil_is_found_by_name_or_admission_number_even_without_leading_zeros(school, query):
    app = screen("viewer", "pupil")
    app.text_input(key="pupil_query").input(query).run()
    assert [h.value for h in app.header] == ["Ahmed, Amir"]


def test_a_pupil_is_found_by_upn_in_any_case(school):
    from tests.app_school import upn

    app = screen("viewer", "pupil")
    app.text_input(key="pupil_query").input(upn(3).lower()).run()
    assert [h.value for h in app.header] == ["Clarke, Cody"]


def test_the_pupil_screen_shows_the_sessions_behind_each_percentage_and_the_rule(school):
    app = screen("viewer", "pupil", pupil_id=pupil_id(school, "Ahmed"))
    assert metrics_of(app)["Attendance"][0] == "80.0%"
    rule = [m.value for m in app.expander[0].markdown][0]
    assert "16 attendance sessions ÷ 20 possible sessions" in rule
    assert "10 × 4 = 40 ≥ 20, so **yes**" in rule
    behind = app.expander[0].dataframe[0].value
    assert dict(zip(behind["Code"], behind["Sessions"])) == {"/": 8, "\\": 8, "N": 4}


def test_the_pupil_screen_lists_runs_and_triggers_with_uk_dates(school):
    app = screen("viewer", "pupil", pupil_id=pupil_id(school, "Clarke"))
    frames = [frame.value for frame in app.dataframe]
    triggers = next(f for f in frames if "Reached on" in f.columns)
    assert triggers["Reached on"].tolist() == ["16/09/2025"]
    runs = next(f for f in frames if "School days" in f.columns)
    assert runs["From"].tolist() == ["08/09/2025", "15/09/2025"]


def test_a_head_of_section_cannot_find_or_open_a_pupil_outside_their_sections(school):
    app = screen("secondary", "pupil")
    app.text_input(key="pupil_query").input("Cody").run()
    assert "No pupil in your sections matches" in app.info[0].value
    app = screen("secondary", "pupil", pupil_id=pupil_id(school, "Clarke"))
    assert "not in your sections" in app.warning[0].value
    assert "Clarke" not in all_text(app)


def test_a_search_that_finds_nobody_leaves_no_pupil_open(school):
    """The pupil open before must not stay on screen under "No pupil matches": an action
    logged there would go on the wrong child."""
    app = signed_in("pastoral", "pupil", pupil_id=pupil_id(school, "Ahmed"))
    assert [h.value for h in app.header] == ["Ahmed, Amir"]
    app.text_input(key="pupil_query").input("Nobody-of-that-name").run()
    assert "No pupil matches" in app.info[0].value
    assert not app.header and "Ahmed" not in all_text(app)
    assert not [b for b in app.button if b.label in ("Log action", "Log contact")]


def test_a_pupil_has_an_address_by_internal_id_that_opens_them(school):
    app = signed_in("viewer", "pupil", pupil_id=pupil_id(school, "Ahmed"))
    assert app.query_params["pupil"] == str(pupil_id(school, "Ahmed"))  # the address to bookmark: no UPN, no name
    app = signed_in("viewer", "pupil")
    app.query_params["pupil"] = str(pupil_id(school, "Evans"))
    app.run()
    assert [h.value for h in app.header] == ["Evans, Eli"]
    app = signed_in("secondary", "pupil")  # the address opens nobody outside the user's sections
    app.query_params["pupil"] = str(pupil_id(school, "Clarke"))
    app.run()
    assert "not in your sections" in app.warning[0].value and "Clarke" not in all_text(app)


# --- Patterns ------------------------------------------------------------------------


def test_patterns_draws_four_charts_each_with_its_data(school):
    app = screen("viewer", "patterns")
    charts = [e for e in app.main if getattr(e, "type", "") == "vega_lite_chart"] or app.get("vega_lite_chart")
    assert len(charts) == 4
    assert len(app.expander) == 4 and all(expander.dataframe for expander in app.expander)


def test_patterns_can_be_scoped_to_a_year(school):
    app = screen("viewer", "patterns")
    app.segmented_control(key="p_scope_kind").set_value("year").run()
    app.selectbox(key="p_scope_value").set_value("3").run()
    assert app.caption[0].value.startswith("Year 3 · 1 pupils")
    reasons = next(e.dataframe[0].value for e in app.expander if "Reason" in e.dataframe[0].value.columns)
    assert reasons["Reason"].tolist() == ["Other unauthorised absence (O)"]


def test_a_head_of_sections_patterns_cover_only_their_sections(school):
    app = screen("secondary", "patterns")
    assert app.caption[0].value.startswith("Secondary · 3 pupils")


# --- Upload --------------------------------------------------------------------------


def test_an_upload_shows_the_shape_preview_and_what_would_change_before_importing(empty_school, tmp_path):
    from tests.app_school import write_exports

    files = write_exports(tmp_path / "exports")
    app = signed_in("officer", "upload")
    assert "No uploads yet" in app.info[0].value
    app.file_uploader[0].set_value([("roll.csv", files["roll"].read_bytes(), "text/csv")]).run()
    text = all_text(app)
    assert "Pupil roll, one row per pupil" in text and "Importing adds **5** pupils." in text
    with store.opened(empty_school) as db:
        assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0  # nothing stored yet

    app.button(key="import_files").click().run()
    assert app.success[0].value.startswith("**roll.csv**: Imported: 5 pupils added")
    with store.opened(empty_school) as db:
        assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 5
        assert db.execute("SELECT username, action FROM audit WHERE action = 'import'").fetchall() == [("officer", "import")]
    history = app.dataframe[0].value
    assert history["File"].tolist() == ["roll.csv"] and history["Who"].tolist() == ["officer"]


def test_a_file_that_is_not_an_export_is_refused_with_its_problem_and_nothing_to_import(empty_school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("letter.csv", b"Dear parent,\nPlease call.\n", "text/csv")]).run()
    problems = next(frame.value for frame in app.dataframe if "Problem" in frame.value.columns)
    assert "Could not tell what this file is" in problems["Problem"][0]
    assert app.button(key="import_files").label == "Import 0 files" and app.button(key="import_files").disabled
    assert not app.exception


def test_a_second_week_shows_sessions_added_and_marks_changed(school, tmp_path):
    from tests.app_school import week_rows
    from tests.conftest import marks_csv

    corrected = [(u, d, s, "I" if m == "N" else m) for u, d, s, m in week_rows(2)]
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("corrected.csv", marks_csv(corrected).encode(), "text/csv")]).run()
    assert "changes **4** stored marks" in all_text(app)


def odd_export() -> bytes:
    """Week 2, corrected (Amir's N marks now I), as a school's own report whose headings
    Pastoral does not know."""
    from tests.app_school import week_rows

    rows = [(u, d, s, "I" if m == "N" else m) for u, d, s, m in week_rows(2)]
    return ("Ref,When,Half,Att\n" + "\n".join(f"{u},{d},{s},{m}" for u, d, s, m in rows)).encode()


def test_a_file_that_is_not_recognised_opens_the_column_mapping(school):
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("own-report.csv", odd_export(), "text/csv")]).run()
    assert "Could not tell what this file is" in app.warning[0].value
    assert app.expander[0].label == "Column mapping — please check"
    assert app.button(key="import_files").disabled


def test_a_saved_mapping_reads_the_file_and_is_there_next_week(school):
    from core.importers import ColumnMapping, save_mapping_profile

    with store.opened(school) as db:
        save_mapping_profile(db, "Our own report", ColumnMapping(
            "long_marks", {"upn": "Ref", "date": "When", "session": "Half", "mark": "Att"}, header_rows=(1,)), "officer")
    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("own-report.csv", odd_export(), "text/csv")]).run()
    file_key = next(w.key for w in app.selectbox if w.key and w.key.endswith("_profile"))
    app.selectbox(key=file_key).set_value("Our own report").run()
    app.button(key=file_key.replace("_profile", "_use")).click().run()
    assert "as you mapped it" in all_text(app)
    app.button(key="import_files").click().run()
    assert app.success[0].value == "**own-report.csv**: Imported: 4 marks changed."
    table = signed_in("viewer", "below_90").dataframe[0].value.set_index("Pupil")
    assert table.loc["Ahmed, Amir", "Top reason"] == "Illness (I)"


def test_the_last_import_can_be_undone(school):
    app = signed_in("officer", "upload")
    app.button(key="confirm_undo").click().run()
    assert "undone" in app.info[0].value
    assert app.dataframe[0].value["Status"].tolist()[0] == "undone"
    assert listed(signed_in("viewer", "below_90")) == ["Clarke, Cody", "Evans, Eli"]  # back to week 1


# --- Admin ---------------------------------------------------------------------------


def test_an_admin_adds_a_head_of_section_and_it_is_audited(school):
    app = signed_in("admin", "admin")
    form = app.form(key="add_user")
    form.text_input[0].input("newhos")
    form.text_input[1].input("New Head")
    form.selectbox[0].set_value(auth.HEAD_OF_SECTION)
    form.multiselect[0].set_value(["Primary"])
    form.text_input[3].input("a-good-password")
    form.button[0].click()
    app.run()
    with store.opened(school) as db:
        user = auth.get_user(db, "newhos")
        assert user.role == auth.HEAD_OF_SECTION and user.sections == ("Primary",)
        assert ("admin", "user.add") in db.execute("SELECT username, action FROM audit").fetchall()


def test_an_admin_sees_why_a_user_cannot_be_added(school):
    app = signed_in("admin", "admin")
    form = app.form(key="add_user")
    form.text_input[0].input("x")
    form.text_input[1].input("X")
    form.text_input[3].input("a-good-password")
    form.button[0].click()
    app.run()
    assert "A username is 2–40 characters" in app.error[0].value


def test_the_sections_tab_lists_every_year_group_with_its_section(school):
    app = signed_in("admin", "admin")
    table = next(frame.value for frame in app.dataframe if "Year group" in frame.value.columns)
    sections = dict(zip(table["Year group"], table["Section"]))
    assert sections["3"] == "Primary" and sections["7"] == "Secondary" and sections["12"] == "Sixth Form"


def test_a_head_of_section_follows_the_section_setting(school):
    with store.opened(school) as db:
        store.set_setting(db, "sections", {"Lower": ["3", "7"], "Secondary": ["9", "12"]}, "admin")
    assert listed(signed_in("secondary", "below_90")) == ["Evans, Eli"]


def test_thresholds_are_settings_changed_by_an_admin_and_audited(school):
    app = signed_in("admin", "admin")
    form = app.form(key="thresholds")
    form.number_input(key="t_penalty").set_value(20)  # penalty-notice threshold: unauthorised sessions
    form.button[0].click()
    app.run()
    with store.opened(school) as db:
        assert store.get_settings(db)["penalty_sessions"] == 20
        assert ("admin", "setting.change") in db.execute("SELECT username, action FROM audit").fetchall()
    app = signed_in("viewer", "below_90")
    app.segmented_control(key="f_only").set_value("triggers").run()
    assert listed(app) == []  # Clarke's 12 unauthorised sessions no longer reach it


def test_an_admin_maps_a_local_code(school):
    app = signed_in("admin", "admin")
    form = app.form(key="local_code")
    form.text_input[0].input("i01")
    form.selectbox[0].set_value("I")
    form.button[0].click()
    app.run()
    with store.opened(school) as db:
        assert store.local_codes(db) == {"I01": "I"}


def test_the_audit_log_shows_who_did_what_to_which_pupil_and_filters_by_person(school):
    with store.opened(school) as db:
        pupil_id, surname, forename = db.execute("SELECT id, surname, forename FROM pupils ORDER BY id").fetchone()
        cases.open_intervention(db, auth.Viewer("pastoral", auth.PASTORAL_LEAD), pupil_id, "First-day call",
                                "pastoral", date(2025, 9, 9), summary="spoke to mum")
    app = signed_in("admin", "admin")
    [table] = [frame.value for frame in app.dataframe if "Who" in frame.value.columns]
    logged = table[table["What"] == "Action logged"]
    assert logged[["Who", "Pupil"]].values.tolist() == [["pastoral", f"{surname}, {forename}"]]
    assert "Upload imported" in set(table["What"]) and "spoke to mum" not in table.to_string()  # no notes audited
    app.selectbox(key="audit_who").set_value("pastoral").run()
    [table] = [frame.value for frame in app.dataframe if "Who" in frame.value.columns]
    assert set(table["Who"]) == {"pastoral"}


# --- errors --------------------------------------------------------------------------


def test_an_unexpected_error_becomes_a_message_not_a_stack_trace(school, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reads, "pupil_patterns", broken)
    app = signed_in("viewer", "below_90")
    assert "Something went wrong while showing this page" in app.error[0].value
    assert not app.exception and "disk on fire" not in all_text(app)
