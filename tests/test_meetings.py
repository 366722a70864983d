"""The weekly meeting: each kind of agenda item, decisions that open actions, and minutes kept in the store."""

from __future__ import annotations

from datetime import date

import pytest

from core import auth, cases, meetings
from tests.conftest import marks_csv, roll_csv, week_rows

LEAD = auth.Viewer("dsl", "pastoral_lead")
VIEWER = auth.Viewer("governor", "viewer")
WEEK_1, WEEK_2 = date(2025, 9, 8), date(2025, 9, 15)
FRIDAY_1, FRIDAY_2 = date(2025, 9, 12), date(2025, 9, 19)

# Ten sessions a week (Mon AM … Fri PM); '.' present. Every pupil is in Year 7 (compulsory age).
#   1 Ahmed: present, then 4 N        → 80%: newly below 90% in week 2
#   2 Brown: present throughout       → 100%
#   3 Clarke: 6 O, then 6 O           → severe from week 1; penalty-notice threshold on Tue 16/09 (10th O)
#   4 Dunn:  present, then 10 I       → 50%: newly severely absent in week 2
WEEKS = {
    WEEK_1: ["..........", "..........", "OOOOOO....", ".........."],
    WEEK_2: ["NNNN......", "..........", "OOOOOO....", "IIIIIIIIII"],
}
NAMES = ["Ahmed", "Brown", "Clarke", "Dunn"]


def week_marks(monday: date) -> str:
    return marks_csv(week_rows(monday, WEEKS[monday]))


@pytest.fixture
def school(db, load):
    load("roll.csv", roll_csv(*({"surname": name} for name in NAMES)))
    load("week1.csv", week_marks(WEEK_1))
    load("week2.csv", week_marks(WEEK_2))
    return {name: pid for name, pid in db.execute("SELECT surname, id FROM pupils")}


def on_agenda(agenda: meetings.Agenda, kind: str, school: dict) -> list[str]:
    names = {pid: name for name, pid in school.items()}
    return sorted(names[p] for p in agenda.items.loc[agenda.items["kind"] == kind, "pupil_id"])


def held(db, day: date) -> int:
    return meetings.start_meeting(db, LEAD, day, ["Priya"])


# --- what the agenda lists ---------------------------------------------------------------


def test_pupils_newly_below_90_percent_since_the_last_meeting_are_on_the_agenda(db, school):
    held(db, FRIDAY_1)
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert agenda.since == FRIDAY_1
    assert on_agenda(agenda, meetings.NEWLY_PERSISTENT, school) == ["Ahmed"]


def test_a_pupil_newly_severely_absent_is_listed_as_severe_not_twice(db, school):
    held(db, FRIDAY_1)
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert on_agenda(agenda, meetings.NEWLY_SEVERE, school) == ["Dunn"]
    assert "Dunn" not in on_agenda(agenda, meetings.NEWLY_PERSISTENT, school)


def test_triggers_reached_since_the_last_meeting_are_on_the_agenda_with_their_date(db, school):
    held(db, FRIDAY_1)
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert on_agenda(agenda, meetings.TRIGGER, school) == ["Clarke"]
    item = agenda.items[agenda.items["kind"] == meetings.TRIGGER].iloc[0]
    assert item["on"] == date(2025, 9, 16) and "16/09/2025" in item["detail"]


def test_a_trigger_reached_before_the_last_meeting_is_not_listed_again(db, school):
    held(db, date(2025, 9, 17))
    assert on_agenda(meetings.agenda(db, LEAD, FRIDAY_2), meetings.TRIGGER, school) == []


def test_without_a_meeting_new_is_counted_from_the_previous_upload(db, school):
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert agenda.since == FRIDAY_1 and "upload" in agenda.since_reason
    assert on_agenda(agenda, meetings.NEWLY_PERSISTENT, school) == ["Ahmed"]


def test_overdue_check_ins_are_on_the_agenda(db, school):
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "dsl", date(2025, 9, 1),
                            check_in_on=date(2025, 9, 18))
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert on_agenda(agenda, meetings.CHECKIN_OVERDUE, school) == ["Brown"]
    assert "18/09/2025" in agenda.items.loc[agenda.items["kind"] == meetings.CHECKIN_OVERDUE, "detail"].iloc[0]


def test_a_check_in_due_on_the_meeting_day_is_not_yet_overdue(db, school):
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "dsl", date(2025, 9, 1), check_in_on=FRIDAY_2)
    assert on_agenda(meetings.agenda(db, LEAD, FRIDAY_2), meetings.CHECKIN_OVERDUE, school) == []


def test_reduced_timetables_due_for_review_within_the_setting_are_on_the_agenda(db, school):
    for name, review in (("Brown", date(2025, 9, 24)), ("Ahmed", date(2025, 10, 30))):
        cases.open_intervention(db, LEAD, school[name], "Reduced (part-time) timetable", "dsl", date(2025, 9, 1),
                                review_on=review)
    assert on_agenda(meetings.agenda(db, LEAD, FRIDAY_2), meetings.REVIEW_DUE, school) == ["Brown"]


def test_persistently_absent_pupils_with_no_recent_action_are_on_the_agenda(db, school):
    cases.open_intervention(db, LEAD, school["Clarke"], "Home visit", "dsl", date(2025, 9, 15))
    cases.open_intervention(db, LEAD, school["Ahmed"], "Home visit", "dsl", date(2025, 9, 1))  # 18 days before
    assert on_agenda(meetings.agenda(db, LEAD, FRIDAY_2), meetings.NO_RECENT_ACTION, school) == ["Ahmed", "Dunn"]


def test_the_agenda_takes_triggers_first_then_the_lowest_attendance(db, school):
    held(db, FRIDAY_1)
    pupils = meetings.agenda(db, LEAD, FRIDAY_2).pupils
    names = {pid: name for name, pid in school.items()}
    assert [names[p] for p in pupils["pupil_id"]] == ["Clarke", "Dunn", "Ahmed"]
    assert pupils["reasons"].iloc[0][0] == "Statutory trigger reached"


def test_the_agenda_covers_only_the_pupils_given(db, school):
    held(db, FRIDAY_1)
    agenda = meetings.agenda(db, LEAD, FRIDAY_2, pupil_ids=[school["Ahmed"]])
    assert set(agenda.items["pupil_id"]) == {school["Ahmed"]}


def test_an_empty_store_gives_an_empty_agenda(db):
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert agenda.pupils.empty and agenda.items.empty and agenda.counts()[meetings.TRIGGER] == 0


# --- decisions and minutes ---------------------------------------------------------------


def test_a_decision_opens_the_action_with_its_owner_and_check_in_and_is_minuted(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "officer", date(2025, 10, 3),
                             [meetings.NEWLY_PERSISTENT])
    action = cases.interventions(db, LEAD, [school["Ahmed"]]).iloc[0]
    assert (action["type"], action["owner"], action["opened_on"]) == ("Attendance letter (stage 1)", "officer", FRIDAY_2)
    assert "19/09/2025" in action["summary"]
    due = cases.checkins(db, LEAD, FRIDAY_2, [school["Ahmed"]])
    assert list(due["due_on"]) == [date(2025, 10, 3)] and list(due["owner"]) == ["officer"]


def test_keep_monitoring_books_a_check_in_and_opens_no_action(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "monitor", "dsl", date(2025, 10, 3))
    assert cases.interventions(db, LEAD, [school["Ahmed"]]).empty
    assert len(cases.checkins(db, LEAD, FRIDAY_2, [school["Ahmed"]])) == 1
    assert meetings.minutes(db, meeting).items["decision"].tolist() == ["Keep monitoring"]


def test_minutes_round_trip_attendees_notes_decisions_and_actions(db, school):
    meeting = meetings.start_meeting(db, LEAD, FRIDAY_2, ["Priya Pastoral", "Olu Officer"], since=FRIDAY_1)
    meetings.record_decision(db, LEAD, meeting, school["Clarke"], "notify_la", "officer", date(2025, 9, 26),
                             [meetings.TRIGGER], note="Penalty-notice threshold: LA to advise")
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "", "dsl", None, action_type="Home visit")
    meetings.save_minutes(db, LEAD, meeting, attendees=["Priya Pastoral", "Olu Officer", "Sam Secondary"],
                          notes="Whole-school attendance 92%.")
    meetings.finish_meeting(db, LEAD, meeting)

    kept = meetings.minutes(db, meeting)
    assert (kept.held_on, kept.since, kept.status) == (FRIDAY_2, FRIDAY_1, "closed")
    assert kept.attendees == ["Priya Pastoral", "Olu Officer", "Sam Secondary"]
    assert kept.notes == "Whole-school attendance 92%."
    assert kept.items["surname"].tolist() == ["Clarke", "Ahmed"]
    assert kept.items["decision"].tolist() == ["Notify the LA", "Home visit"]
    assert kept.items["action"].tolist() == ["Referral to the local authority (statutory trigger)", "Home visit"]
    assert kept.items["agenda"].tolist() == [[meetings.TRIGGER], []]
    assert kept.items["check_in_on"].tolist() == [date(2025, 9, 26), None]
    assert kept.actions_created == 2


def test_every_meeting_write_is_audited(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "dsl", date(2025, 10, 3))
    meetings.save_minutes(db, LEAD, meeting, notes="Notes")
    meetings.finish_meeting(db, LEAD, meeting)
    actions = [row[0] for row in db.execute("SELECT action FROM audit WHERE username = 'dsl' ORDER BY id")]
    assert actions == ["meeting.start", "intervention.open", "checkin.schedule", "meeting.decision",
                       "meeting.minutes", "meeting.finish"]


def test_a_decision_that_cannot_be_saved_leaves_nothing_half_saved(db, school):
    meeting = held(db, FRIDAY_2)
    with pytest.raises(meetings.MeetingError, match="not an intervention type"):
        meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "", "dsl", date(2025, 10, 3),
                                 action_type="Detention")
    with pytest.raises(meetings.MeetingError, match="before the meeting"):
        meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "dsl", date(2025, 9, 1))
    assert cases.interventions(db, LEAD).empty and cases.checkins(db, LEAD, FRIDAY_2).empty
    assert meetings.minutes(db, meeting).items.empty


def test_finished_minutes_take_no_more_decisions(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.finish_meeting(db, LEAD, meeting)
    with pytest.raises(meetings.MeetingError, match="finished"):
        meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "dsl", date(2025, 10, 3))


def test_a_viewer_cannot_record_a_meeting(db, school):
    with pytest.raises(meetings.MeetingError, match="cannot|not record"):
        meetings.start_meeting(db, VIEWER, FRIDAY_2)


def test_a_head_of_sections_minutes_show_only_their_pupils(db, school):
    meeting = held(db, FRIDAY_2)
    for name in ("Ahmed", "Clarke"):
        meetings.record_decision(db, LEAD, meeting, school[name], "letter", "dsl", date(2025, 10, 3))
    assert meetings.minutes(db, meeting, pupil_ids=[school["Ahmed"]]).items["surname"].tolist() == ["Ahmed"]


def test_a_leavers_minutes_go_with_their_other_records_when_purged(db, school):
    from core import safekeeping

    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "dsl", date(2025, 10, 3))
    assert "meeting_items" in safekeeping.PUPIL_TABLES
    assert safekeeping.PUPIL_TABLES.index("meeting_items") < safekeeping.PUPIL_TABLES.index("interventions")
