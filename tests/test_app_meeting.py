"""Meeting mode on every screen, the Meeting screen and the Reports screen, driven like a user
drives them (AppTest) on the test school of tests/app_school.py with its case work."""

from __future__ import annotations

from datetime import date

import pytest

import pandas as pd

from app_pages.ui.formatting import shown
from core import auth, cases, exports, letters, meetings, store
from tests.conftest import make_upn
from tests.app_school import (  # noqa: F401 (fixtures)
    FORENAMES, PUPIL_NAMES, SENSITIVE_NOTE, all_text, quick_hashes, school, school_with_cases, signed_in, titles,
)

FRIDAY = date(2025, 9, 19)
UPNS = [make_upn(i) for i in range(1, 6)]
FULL_NAMES = [f"{s}, {f}" for s, f in zip(PUPIL_NAMES, FORENAMES)] + [f"{f} {s}" for s, f in zip(PUPIL_NAMES, FORENAMES)]


def everything_shown(app) -> str:
    """What the user can read: all_text plus tables, badges, choices offered and file names."""
    parts = [all_text(app)]
    parts += [t.value.to_string() for t in app.table]
    parts += [str(b.proto) for b in app.get("badge")]
    for kind in ("selectbox", "multiselect", "radio", "segmented_control", "pills"):
        for widget in app.get(kind):
            parts += [str(o) for o in getattr(widget, "options", [])] + [str(getattr(widget, "label", ""))]
    parts += [str(b.proto) for b in app.get("download_button")]
    parts += [str(e.proto) for e in app.get("expander")]
    return "\n".join(parts)


def assert_nothing_private(text: str) -> None:
    leaked = [name for name in (*PUPIL_NAMES, *FORENAMES) if name in text]
    assert not leaked, f"full names shown in meeting mode: {leaked}"
    assert SENSITIVE_NOTE not in text
    assert not [upn for upn in UPNS if upn in text]  # identifiers, not for a projector


def pupil_id(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


def on_meeting(state: dict | None = None, username: str = "pastoral"):
    return signed_in(username, "meeting", meeting_date=FRIDAY, **(state or {}))


# --- meeting mode, screen by screen ----------------------------------------------------------


@pytest.mark.parametrize("screen", ["overview", "below_90", "patterns", "meeting", "upload", "admin"])
def test_meeting_mode_shows_no_full_name_identifier_or_sensitive_note(school_with_cases, screen):
    username = "admin"  # sees everything, sensitive notes included, outside meeting mode
    app = signed_in(username, screen, meeting_mode=True, meeting_date=FRIDAY)
    assert not app.exception
    assert_nothing_private(everything_shown(app))


def test_meeting_mode_on_the_pupil_screen_shows_initials_and_form_not_the_upn(school_with_cases):
    app = signed_in("admin", "pupil", meeting_mode=True, pupil_id=pupil_id(school_with_cases, "Ahmed"))
    assert [h.value for h in app.header] == ["A. A."]
    assert "Form **7A**" in all_text(app)
    assert_nothing_private(everything_shown(app))


def test_meeting_mode_search_results_show_initials(school_with_cases):
    app = signed_in("admin", "pupil", meeting_mode=True)
    app.text_input(key="pupil_query").input("a").run()  # matches several pupils: a list to choose from
    assert app.selectbox and all(". " in option for option in app.selectbox[0].options)
    assert_nothing_private(everything_shown(app))


@pytest.mark.parametrize("kind", ["statistics", "section", "pack", "court", "la_pack"])
def test_meeting_mode_on_each_report_shows_no_full_name_or_sensitive_note(school_with_cases, kind):
    app = signed_in("admin", "reports", meeting_mode=True, report_kind=kind,
                    pack_pupil=pupil_id(school_with_cases, "Ahmed"), court_pupil=pupil_id(school_with_cases, "Ahmed"))
    assert not app.exception
    assert_nothing_private(everything_shown(app))


def test_outside_meeting_mode_the_pastoral_lead_reads_names_and_the_sensitive_note(school_with_cases):
    """The check above would see a leak: the same screen without meeting mode shows both."""
    app = on_meeting({"meeting_kinds": [meetings.CHECKIN_OVERDUE]})
    text = everything_shown(app)
    assert "Ahmed, Amir (7A)" in text and SENSITIVE_NOTE in text


def test_meeting_mode_hides_the_sensitive_note_from_the_pastoral_lead_too(school_with_cases):
    app = on_meeting({"meeting_kinds": [meetings.CHECKIN_OVERDUE], "meeting_mode": True})
    assert [h.value for h in app.header] == ["A. A. (7A)"]
    assert_nothing_private(everything_shown(app))


def test_downloads_made_in_meeting_mode_leave_out_identifiers_and_notes(school_with_cases, monkeypatch, downloads):
    made = {}
    monkeypatch.setattr(exports, "csv_bytes", lambda frame: made.setdefault("csv", frame) is None or b"")
    app = signed_in("viewer", "below_90", meeting_mode=True)  # `downloads` makes each file as a click would
    assert [b.proto.label for b in app.get("download_button")] == ["CSV", "Excel"]
    assert "UPN" not in made["csv"].columns and set(made["csv"]["Pupil"]) == {"C. C.", "A. A.", "E. E."}
    assert list(shown(pd.DataFrame({"UPN": ["X"], "Pupil": ["A. A."], "sensitive_note": ["x"]}), masked=True).columns) \
        == ["Pupil"]


# --- the Meeting screen -------------------------------------------------------------------------


def test_the_agenda_lists_each_pupil_once_with_why_most_pressing_first(school_with_cases):
    app = on_meeting()
    assert titles(app) == ["Meeting"]
    assert "pupils need the team" in all_text(app)
    assert app.header[0].value == "Clarke, Cody (3B)"  # the penalty-notice threshold comes first
    assert "Statutory trigger reached" in all_text(app)


def test_walking_the_agenda_moves_one_pupil_at_a_time(school_with_cases):
    app = on_meeting()
    first = app.header[0].value
    app.button(key="meeting_next").click().run()
    assert app.header[0].value != first
    app.button(key="meeting_previous").click().run()
    assert app.header[0].value == first


def start_from_the_screen(app):
    app.button(key="meeting_start").click().run()
    assert "Minutes open for 19/09/2025" in all_text(app)
    return app


def minutes_now(db_path) -> meetings.Minutes:
    with store.opened(db_path) as db:
        return meetings.minutes(db, int(meetings.meetings(db)["id"].iloc[0]))


def test_a_decision_button_opens_the_action_with_owner_and_check_in_and_minutes_it(school_with_cases):
    app = start_from_the_screen(on_meeting())
    clarke = pupil_id(school_with_cases, "Clarke")
    app.selectbox(key=f"meeting_owner_{clarke}").set_value("officer").run()
    app.button(key="decide_family_meeting").click().run()
    assert "Recorded: Meet the family, owner Olu Officer, check-in 03/10/2025." in all_text(app)
    kept = minutes_now(school_with_cases)
    with store.opened(school_with_cases) as db:
        action = cases.interventions(db, auth.Viewer("pastoral", "pastoral_lead"), [clarke]).iloc[0]
    assert kept.items["decision"].tolist() == ["Meet the family"] and kept.items["owner"].tolist() == ["officer"]
    assert (action["type"], action["owner"]) == ("Attendance meeting / clinic", "officer")
    assert app.header[0].value != "Clarke, Cody (3B)"  # on to the next pupil


def test_the_agenda_is_cut_to_the_chosen_length_and_the_rest_carried_to_the_next_meeting(school_with_cases):
    app = on_meeting({"meeting_length": 1})
    text = all_text(app)
    assert "Pupil 1 of 1" in text and "Today's agenda: the first 1 of 3" in text
    assert "The other 2 are **not reached — carried to the next meeting**" in text
    listed = app.dataframe[-1].value
    assert listed["Status"].tolist() == ["To discuss", meetings.NOT_REACHED, meetings.NOT_REACHED]
    assert app.button(key="meeting_next").disabled


def test_starting_the_meeting_keeps_its_agenda_and_length_and_the_next_meeting_carries_the_rest(school_with_cases):
    app = start_from_the_screen(on_meeting({"meeting_length": 2}))
    with store.opened(school_with_cases) as db:
        meeting = int(meetings.meetings(db)["id"].iloc[0])
        kept = meetings.kept_agenda(db, meeting)
        assert meetings.minutes(db, meeting).agenda_length == 2
        meetings.finish_meeting(db, auth.Viewer("pastoral", "pastoral_lead"), meeting)
        following = meetings.agenda(db, auth.Viewer("pastoral", "pastoral_lead"), date(2025, 9, 26), scopes=[""])
    assert kept.pupils["surname"].tolist()[0] == "Clarke" and len(kept.pupils) == 3
    carried = following.items[following.items["kind"] == meetings.CARRIED]
    assert len(carried) == 3 and "Not reached at the meeting of 19/09/2025" in carried["detail"].iloc[0]


def test_switching_a_reason_off_counts_the_same_in_the_heading_and_the_walk(school_with_cases):
    app = on_meeting({"meeting_kinds": [meetings.CHECKIN_OVERDUE]})
    text = all_text(app)
    assert "**3 pupils need the team**" in text
    assert "Today's agenda: the first 1 of 1 for the reasons chosen (of 3)" in text
    assert "Pupil 1 of 1" in text and app.header[0].value == "Ahmed, Amir (7A)"


def test_the_owner_chosen_for_one_pupil_does_not_carry_over_to_the_next(school_with_cases):
    app = start_from_the_screen(on_meeting())
    clarke = pupil_id(school_with_cases, "Clarke")
    app.selectbox(key=f"meeting_owner_{clarke}").set_value("officer").run()
    app.button(key="decide_home_visit").click().run()
    following = app.session_state["meeting_position"][-1]
    assert following != clarke
    assert app.selectbox(key=f"meeting_owner_{following}").value is None
    assert app.button(key="decide_home_visit").disabled and "Choose an owner" in all_text(app)


def test_an_owner_who_does_not_sign_in_is_recorded_by_name_and_role(school_with_cases):
    app = start_from_the_screen(on_meeting())
    clarke = pupil_id(school_with_cases, "Clarke")
    app.selectbox(key=f"meeting_owner_{clarke}").set_value("__someone_else__").run()
    app.text_input(key=f"meeting_owner_name_{clarke}").input("Ms Reid").run()
    app.selectbox(key=f"meeting_owner_role_{clarke}").set_value("Education welfare officer").run()
    app.button(key="decide_home_visit").click().run()
    assert "owner Ms Reid (Education welfare officer)" in all_text(app)
    assert minutes_now(school_with_cases).items["owner_name"].tolist() == ["Ms Reid (Education welfare officer)"]


def test_the_letter_decision_is_for_the_stage_due_and_is_not_a_letter_sent(school_with_cases):
    app = start_from_the_screen(on_meeting())
    clarke = pupil_id(school_with_cases, "Clarke")  # sent stage 1 on 12/09/2025
    assert app.button(key="decide_letter").proto.label == "Attendance letter (stage 2)"
    app.selectbox(key=f"meeting_owner_{clarke}").set_value("officer").run()
    app.button(key="decide_letter").click().run()
    assert "Recorded: Attendance letter (stage 2) — to make, owner Olu Officer" in all_text(app)
    with store.opened(school_with_cases) as db:
        made = letters.stages(db, auth.Viewer("pastoral", "pastoral_lead"), [clarke])
        opened = cases.interventions(db, auth.Viewer("pastoral", "pastoral_lead"), [clarke])["type"].tolist()
    assert made["stage"].tolist() == [1]  # Letters still shows stage 1 until stage 2 is made there
    assert opened == ["Attendance letter (stage 1)"]


def test_a_pupil_discussed_without_a_decision_is_minuted_and_the_count_reads_in_english(school_with_cases):
    app = start_from_the_screen(on_meeting())
    clarke = pupil_id(school_with_cases, "Clarke")
    app.selectbox(key=f"meeting_owner_{clarke}").set_value("officer").run()
    app.button(key="decide_monitor").click().run()
    app.button(key="decide_discussed").click().run()
    text = all_text(app)
    assert "2 pupils discussed · 1 decision · 0 actions opened" in text and "1 decisions" not in text
    table = app.dataframe[0].value
    assert table["Decision"].tolist() == ["Keep monitoring", meetings.DISCUSSED]


def test_the_place_in_the_agenda_is_kept_when_someone_looks_up_a_pupil_and_comes_back(school_with_cases):
    app = start_from_the_screen(on_meeting())
    app.button(key="meeting_next").click().run()
    second = app.header[0].value
    app.button(key="meeting_lookup").click().run()
    assert titles(app) == ["Pupil"] and app.header[0].value == second.rsplit(" (", 1)[0]
    app.switch_page("app_pages/meeting.py").run()
    assert app.header[0].value == second


def test_a_new_session_opens_the_started_meeting_at_the_first_pupil_not_yet_discussed(school_with_cases):
    app = start_from_the_screen(on_meeting())
    app.button(key="decide_discussed").click().run()
    second = app.header[0].value
    again = on_meeting()  # another device, or a reload
    assert again.header[0].value == second and "Minutes open" in all_text(again)


def test_the_meeting_is_started_from_the_screen_and_its_minutes_saved(school_with_cases):
    app = on_meeting()
    app.button(key="meeting_start").click().run()
    form = app.form(key="meeting_minutes")
    form.text_area[0].input("Attendance clinic next week.")
    form.button[0].click()
    app.run()
    with store.opened(school_with_cases) as db:
        held = meetings.meetings(db)
        kept = meetings.minutes(db, int(held["id"].iloc[0]))
    assert kept.held_on == FRIDAY and kept.attendees == ["Priya Pastoral"]
    assert kept.notes == "Attendance clinic next week."
    assert [b.proto.label for b in app.get("download_button")][:2] == ["Minutes (PDF)", "Minutes (CSV)"]


def test_a_head_of_sections_agenda_holds_only_their_pupils(school_with_cases):
    app = on_meeting(username="secondary")
    assert "Clarke" not in everything_shown(app)
    assert app.header[0].value.startswith(("Ahmed", "Evans"))


# --- the Reports screen -------------------------------------------------------------------------


def test_half_termly_statistics_compare_groups_with_the_national_figures(school_with_cases):
    app = signed_in("viewer", "reports")
    table = app.dataframe[0].value.set_index("Group")
    assert table.loc["All pupils", "Attendance %"] == pytest.approx(77.5)
    assert table.loc["All pupils", "Attendance % national"] == pytest.approx(93.4)  # autumn 2025/26 (93.38 shown to one place)
    assert "National 93.4% (autumn 2025/26)" in [c.value for c in app.caption]
    assert {"PP", "Not PP", "SEN support", "Year 7", "Female"} <= set(table.index)


def test_the_head_of_section_report_covers_their_section(school_with_cases):
    app = signed_in("secondary", "reports", report_kind="section")
    text = everything_shown(app)
    assert "Secondary" in text and "Clarke" not in text
    pa = next(frame.value for frame in app.dataframe if "Pupil" in frame.value.columns)
    assert sorted(pa["Pupil"]) == ["Ahmed, Amir", "Evans, Eli"]


def test_the_evidence_pack_lists_triggers_and_the_chronology(school_with_cases):
    app = signed_in("pastoral", "reports", report_kind="pack", pack_pupil=pupil_id(school_with_cases, "Clarke"))
    frames = [frame.value for frame in app.dataframe]
    triggers = next(f for f in frames if "Reached on" in f.columns)
    assert triggers["Reached on"].tolist() == ["16/09/2025"]
    chronology = next(f for f in frames if "What" in f.columns)
    assert "Action opened" in chronology["What"].tolist() and "Trigger reached" in chronology["What"].tolist()


def test_a_viewer_gets_no_evidence_pack(school_with_cases):
    app = signed_in("viewer", "reports")
    assert "pack" not in app.segmented_control(key="report_kind").options


def test_the_pupil_screen_offers_the_evidence_pack(school_with_cases):
    app = signed_in("pastoral", "pupil", pupil_id=pupil_id(school_with_cases, "Ahmed"))
    assert "Download evidence pack" in [b.proto.label for b in app.get("download_button")]
