"""First-day calling: who has an unexplained absence this session, who comes first, and
each call logged as a contact on the pupil's record (DOMAIN.md §5, tier 1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core import auth, cases, first_day, store
from core.importers import import_bytes
from tests.conftest import make_upn, marks_csv

MONDAY = date(2025, 9, 22)
OFFICER = auth.Viewer("officer", "attendance_officer")
VIEWER = auth.Viewer("governor", "viewer")


def roll(*pupils: dict) -> str:
    header = "upn,surname,forename,year_group,form,cla,Primary Contact Name,Primary Contact Relationship," \
             "Contact 1 Telephone,Vulnerable,Social Worker"
    lines = [header]
    for i, p in enumerate(pupils, start=1):
        row = {"surname": f"Surname{i}", "forename": f"Forename{i}", "year_group": "7", "form": "7A", "cla": "N",
               "contact": "", "relationship": "", "phone": "", "vulnerable": "N", "social": "", **p}
        lines.append(f"{make_upn(i)},{row['surname']},{row['forename']},{row['year_group']},{row['form']},{row['cla']},"
                     f"{row['contact']},{row['relationship']},{row['phone']},{row['vulnerable']},{row['social']}")
    return "\n".join(lines)


@pytest.fixture
def school(db):
    """import(roll pupils, {pupil number: AM mark}) — the register of Monday 22/09/2025 AM."""
    def _school(pupils: list[dict], am: dict[int, str], pm: dict[int, str] | None = None, title: str = ""):
        import_bytes(db, roll(*pupils).encode(), "roll.csv", "officer")
        rows = [(make_upn(n), MONDAY.isoformat(), "AM", mark) for n, mark in am.items()]
        rows += [(make_upn(n), MONDAY.isoformat(), "PM", mark) for n, mark in (pm or {}).items()]
        outcome = import_bytes(db, (title + marks_csv(rows)).encode(), "today.csv", "officer")
        assert outcome.status == "imported", [p.message for p in outcome.problems]
        return {upn: pid for upn, pid in db.execute("SELECT upn, id FROM pupils")}
    return _school


def listed(found: first_day.CallList) -> list[str]:
    return found.pupils["surname"].tolist()


def test_an_n_or_a_missing_mark_is_an_unexplained_absence_to_call_about(db, school):
    school([{}, {}, {}, {}], {1: "N", 2: "/", 3: "", 4: "I"})
    found = first_day.call_list(db, MONDAY, 0)
    assert listed(found) == ["Surname1", "Surname3"]
    assert found.pupils["absence"].tolist() == ["No reason yet (N)", "No mark yet"]
    assert found.still_to_call == 2


def test_a_pupil_on_roll_with_no_row_at_all_has_no_mark_yet(db, school):
    school([{}, {}], {1: "/"})
    assert listed(first_day.call_list(db, MONDAY, 0)) == ["Surname2"]


def test_a_form_whose_register_is_not_taken_is_listed_as_a_form_not_as_absences(db, school):
    school([{"form": "7A"}, {"form": "7B"}, {"form": "7B"}], {1: "N", 2: "", 3: ""})
    found = first_day.call_list(db, MONDAY, 0)
    assert listed(found) == ["Surname1"]
    assert found.registers_not_taken.to_dict("records") == [{"form": "7B", "pupils": 2}]


def test_a_session_nobody_has_a_mark_for_has_not_been_taken(db, school):
    school([{}, {}], {1: "N", 2: "/"})
    found = first_day.call_list(db, MONDAY, 1)
    assert not found.taken and found.pupils.empty and found.registers_not_taken.empty
    assert first_day.sessions_taken(db, MONDAY) == [0]


def test_this_afternoons_empty_register_in_a_morning_export_is_not_stored_as_missing_marks(db, school):
    title = "Attendance export\nReport run 22/09/2025 10:05\n"
    school([{}, {}], {1: "N", 2: "/"}, pm={1: "", 2: ""}, title=title)
    assert db.execute("SELECT COUNT(*) FROM marks WHERE session = 1").fetchone()[0] == 0
    assert first_day.latest_session(db) == (MONDAY, 0)


def test_pupils_with_a_social_worker_looked_after_or_vulnerable_come_first(db, school):
    school([{"surname": "Adams"}, {"surname": "Brown", "vulnerable": "Y"}, {"surname": "Cole", "social": "CP"},
            {"surname": "Dunn", "cla": "Y"}], {1: "N", 2: "N", 3: "N", 4: "N"})
    found = first_day.call_list(db, MONDAY, 0)
    assert listed(found) == ["Brown", "Cole", "Dunn", "Adams"]
    assert found.pupils.set_index("surname").loc["Cole", "priority_reasons"] == "CP plan"


def test_a_call_is_a_contact_on_the_pupils_record(db, school):
    ids = school([{"contact": "Jane Smith", "relationship": "Mother"}], {1: "N"})
    pupil = ids[make_upn(1)]
    first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "reason_given", "I", with_whom="Mother (Jane Smith)",
                       called_on=MONDAY)
    [contact] = cases.contacts(db, OFFICER, [pupil]).to_dict("records")
    assert (contact["kind"], contact["with_whom"], contact["contact_on"]) == ("call", "Mother (Jane Smith)", MONDAY)
    assert "enter I (Illness (I)) in the MIS" in contact["summary"]


@pytest.mark.parametrize(("outcome", "status"), [
    ("reached", first_day.DONE), ("reason_given", first_day.DONE),
    ("message_left", first_day.AWAITING), ("no_answer", first_day.TRY_AGAIN),
])
def test_each_outcome_says_whether_the_pupil_is_still_to_call(db, school, outcome, status):
    ids = school([{}], {1: "N"})
    first_day.log_call(db, OFFICER, ids[make_upn(1)], MONDAY, 0, outcome, "I" if outcome == "reason_given" else "")
    found = first_day.call_list(db, MONDAY, 0)
    assert found.pupils["status"].tolist() == [status]
    assert found.still_to_call == (1 if status == first_day.TRY_AGAIN else 0)


def test_the_list_shrinks_as_calls_are_made_and_done_pupils_go_to_the_bottom(db, school):
    ids = school([{"surname": "Adams"}, {"surname": "Brown"}, {"surname": "Cole"}], {1: "N", 2: "N", 3: "N"})
    first_day.log_call(db, OFFICER, ids[make_upn(1)], MONDAY, 0, "reached")
    found = first_day.call_list(db, MONDAY, 0)
    assert found.still_to_call == 2 and listed(found) == ["Brown", "Cole", "Adams"]


def test_the_same_outcome_clicked_twice_is_one_call_and_a_later_call_is_another(db, school, monkeypatch):
    ids = school([{}], {1: "N"})
    pupil = ids[make_upn(1)]
    first = first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "no_answer")
    assert first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "no_answer") == first  # a double click
    assert len(cases.contacts(db, OFFICER, [pupil])) == 1
    first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "message_left")  # what happened next: a new call
    later = (datetime.fromisoformat(store.now()) + timedelta(seconds=first_day.SAME_CALL_SECONDS + 1)).isoformat()
    monkeypatch.setattr(store, "now", lambda: later)
    first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "no_answer")
    assert len(cases.contacts(db, OFFICER, [pupil])) == 3
    assert db.execute("SELECT COUNT(*) FROM first_day_calls").fetchone()[0] == 3


def test_a_call_whose_record_cannot_be_written_leaves_no_contact_behind(db, school, monkeypatch):
    ids = school([{}], {1: "N"})
    pupil = ids[make_upn(1)]
    monkeypatch.setattr(store, "audit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "reached")
    assert db.execute("SELECT COUNT(*) FROM contacts").fetchone()[0] == 0


def test_a_reason_given_needs_one_of_the_marks_the_setting_allows(db, school):
    ids = school([{}], {1: "N"})
    pupil = ids[make_upn(1)]
    with pytest.raises(cases.CaseError, match="which mark"):
        first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "reason_given", "")
    store.set_setting(db, "first_day_call_marks", ["I", "O"], "admin")
    with pytest.raises(cases.CaseError, match="one of I, O"):
        first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "reason_given", "M")
    first_day.log_call(db, OFFICER, pupil, MONDAY, 0, "reason_given", "O")
    assert first_day.call_list(db, MONDAY, 0).pupils["mark_to_enter"].tolist() == ["O"]


def test_a_viewer_cannot_log_a_call(db, school):
    ids = school([{}], {1: "N"})
    with pytest.raises(cases.CaseError):
        first_day.log_call(db, VIEWER, ids[make_upn(1)], MONDAY, 0, "reached")


def test_a_head_of_section_sees_only_their_pupils_on_the_list(db, school):
    ids = school([{"surname": "Adams"}, {"surname": "Brown", "year_group": "3", "form": "3A"}], {1: "N", 2: "N"})
    found = first_day.call_list(db, MONDAY, 0, pupil_ids=[ids[make_upn(1)]])
    assert listed(found) == ["Adams"]


def test_asking_for_a_parent_uses_the_first_contact_in_the_roll():
    assert first_day.who_to_ask_for({"contact1_name": "Jane Smith", "contact1_relationship": "Mother"}) == \
        "Mother (Jane Smith)"
    assert first_day.who_to_ask_for({}) == "parent/carer"
