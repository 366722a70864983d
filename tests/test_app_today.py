"""The Today screen (first-day calling), driven like the attendance officer drives it: this
morning's unexplained absences, priority pupils first, a call logged in one click, and the
list shrinking as the calls are made."""

from __future__ import annotations

from core import auth, cases, store
from tests.app_school import (  # noqa: F401 (fixtures)
    TODAY, all_text, calling_school, quick_hashes, signed_in, titles,
)


def pupil_ids(db_path) -> dict[str, int]:
    with store.opened(db_path) as db:
        return dict(db.execute("SELECT surname, id FROM pupils").fetchall())


def cards(app) -> list[str]:
    """The pupils listed, in order (each card's first line starts with the name)."""
    return [m.value.split("**")[1] for m in app.markdown if m.value.startswith("**") and " · " in m.value]


def test_this_mornings_unexplained_absences_are_listed_with_the_child_protection_pupil_first(calling_school):
    app = signed_in("officer", "today")
    assert titles(app) == ["Today"]
    assert cards(app) == ["Clarke, Cody", "Ahmed, Amir", "Brown, Bella", "Evans, Eli"]
    text = all_text(app)
    assert "4 still to call" in text and "Register of Mon 22/09/2025 AM" in text
    assert "Mother — Carla Clarke · 07700\u00a0900003" in text
    assert "Siblings: Evans, Eli (9E): No reason yet provided (N)" in text


def test_logging_a_call_takes_the_pupil_off_the_list_and_records_a_contact(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    app.button(key=f"call_{ids['Clarke']}_reached").click().run()
    assert cards(app) == ["Ahmed, Amir", "Brown, Bella", "Evans, Eli"]
    assert "3 still to call" in all_text(app)
    with store.opened(calling_school) as db:
        [contact] = cases.contacts(db, auth.Viewer("officer", "attendance_officer"), [ids["Clarke"]]).to_dict("records")
    assert (contact["kind"], contact["with_whom"]) == ("call", "Mother (Carla Clarke)")


def test_a_reason_given_is_logged_from_the_mark_to_enter(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    app.selectbox(key=f"reason_{ids['Ahmed']}").set_value("I").run()
    assert cards(app) == ["Clarke, Cody", "Ahmed, Amir", "Brown, Bella", "Evans, Eli"]  # picked, not logged yet
    app.button(key=f"log_reason_{ids['Ahmed']}").click().run()
    assert cards(app) == ["Clarke, Cody", "Brown, Bella", "Evans, Eli"]
    assert "Ahmed, Amir: logged reason given — enter I in the MIS." in [s.value for s in app.success]


def test_a_reason_picked_by_mistake_logs_nothing(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    assert app.button(key=f"log_reason_{ids['Ahmed']}").disabled  # nothing picked: nothing to log
    app.selectbox(key=f"reason_{ids['Ahmed']}").set_value("I").run()
    app.selectbox(key=f"reason_{ids['Ahmed']}").set_value("M").run()  # the slip corrected before logging
    with store.opened(calling_school) as db:
        assert cases.contacts(db, auth.Viewer("officer", "attendance_officer"), [ids["Ahmed"]]).empty


def test_a_message_left_goes_on_the_call_back_list_and_the_confirmation_names_the_pupil(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    app.button(key=f"call_{ids['Clarke']}_message_left").click().run()
    assert "Clarke, Cody: logged message left." in [s.value for s in app.success]
    assert "Clarke, Cody" not in cards(app)
    app.segmented_control(key="t_show").set_value("call_back").run()
    assert cards(app) == ["Clarke, Cody"]
    assert "1 to call back (message left)" in all_text(app)


def test_no_answer_keeps_the_pupil_on_the_list_to_try_again(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    app.button(key=f"call_{ids['Evans']}_no_answer").click().run()
    assert cards(app) == ["Clarke, Cody", "Ahmed, Amir", "Brown, Bella", "Evans, Eli"]
    assert "No answer — try again" in all_text(app)


def test_everyone_shows_the_pupils_already_called(calling_school):
    ids = pupil_ids(calling_school)
    app = signed_in("officer", "today")
    app.button(key=f"call_{ids['Clarke']}_message_left").click().run()
    app.segmented_control(key="t_show").set_value("all").run()
    assert cards(app) == ["Ahmed, Amir", "Brown, Bella", "Evans, Eli", "Clarke, Cody"]


def test_the_afternoon_not_taken_yet_says_so(calling_school):
    app = signed_in("officer", "today")
    app.segmented_control(key="t_session").set_value(1).run()
    assert "register has not been uploaded yet" in all_text(app)


def test_a_head_of_section_calls_about_their_sections_pupils_only(calling_school):
    app = signed_in("secondary", "today")
    assert cards(app) == ["Ahmed, Amir", "Brown, Bella", "Evans, Eli"]


def test_the_afternoon_register_pasted_in_moves_the_list_to_the_afternoon(calling_school):
    from tests.app_school import upn
    from tests.conftest import marks_csv

    pasted = marks_csv([(upn(n), TODAY.isoformat(), "PM", "N" if n == 1 else "\\") for n in range(1, 6)])
    app = signed_in("officer", "today")
    app.text_area(key="today_paste_0").set_value(pasted).run()
    app.button(key="today_import").click().run()
    text = all_text(app)
    assert "imported: 5 sessions added" in text and "Register of Mon 22/09/2025 PM" in text
    assert cards(app) == ["Ahmed, Amir"]
