"""The weekly meeting: each kind of agenda item, decisions that open actions, and minutes kept in the store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import pandas as pd

from core import auth, cases, chronology, letters, meetings, triggers
from tests.conftest import filled_once, marks_csv, roll_csv, week_rows

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
@filled_once
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
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "home_visit", "officer", date(2025, 10, 3),
                             [meetings.NEWLY_PERSISTENT])
    action = cases.interventions(db, LEAD, [school["Ahmed"]]).iloc[0]
    assert (action["type"], action["owner"], action["opened_on"]) == ("Home visit", "officer", FRIDAY_2)
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
    assert actions == ["meeting.start", "checkin.schedule", "meeting.decision",
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


# --- issue 16: an agenda a team can finish ----------------------------------------------------


def names_in_order(agenda: meetings.Agenda, school: dict) -> list[str]:
    names = {pid: name for name, pid in school.items()}
    return [names[p] for p in agenda.pupils["pupil_id"]]


def test_the_agenda_takes_statutory_triggers_then_severity_then_newly_pa_then_overdue_check_ins(db, school):
    held(db, FRIDAY_1)
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "dsl", date(2025, 9, 1),
                            check_in_on=date(2025, 9, 10))
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert names_in_order(agenda, school) == ["Clarke", "Dunn", "Ahmed", "Brown"]
    assert agenda.pupils["priority_label"].tolist() == ["Statutory trigger", "Severely absent",
                                                        "Newly persistently absent", "Check-in overdue"]


def test_a_reduced_timetable_due_for_review_comes_before_severe_absence(db, school):
    held(db, FRIDAY_1)
    cases.open_intervention(db, LEAD, school["Brown"], "Reduced (part-time) timetable", "dsl", date(2025, 9, 1),
                            review_on=date(2025, 9, 22))
    assert names_in_order(meetings.agenda(db, LEAD, FRIDAY_2), school) == ["Clarke", "Brown", "Dunn", "Ahmed"]


def synthetic_pupils(n: int) -> pd.DataFrame:
    return pd.DataFrame({"pupil_id": range(1, n + 1), "upn": "", "surname": [f"P{i}" for i in range(1, n + 1)],
                         "forename": "", "form": "7A", "year_group": "7", "section": "Secondary",
                         "attendance_pct": 85.0, "possible_sessions": 100, "authorised_sessions": 15,
                         "unauthorised_sessions": 0, "persistently_absent": True, "severely_absent": False})


def test_the_most_serious_trigger_comes_first_then_the_one_reached_longest_ago(db):
    items = pd.concat([
        meetings._item(pd.DataFrame({"pupil_id": [1]}), meetings.TRIGGER, ["penalty"], [date(2025, 9, 1)],
                       [meetings.TRIGGER_ORDER.index(triggers.PENALTY_NOTICE_THRESHOLD) * 1_000_000]),
        meetings._item(pd.DataFrame({"pupil_id": [2, 3]}), meetings.TRIGGER, ["10 days", "10 days"],
                       [date(2025, 9, 20), date(2025, 9, 12)],
                       [meetings.TRIGGER_ORDER.index(triggers.UNAUTHORISED_10_DAYS) * 1_000_000 + d for d in (20, 12)]),
    ])
    assert meetings._agenda_pupils(items, synthetic_pupils(3), {})["pupil_id"].tolist() == [3, 2, 1]


def test_a_pupil_carried_over_goes_before_this_weeks_pupils_of_the_same_rank(db):
    items = meetings._item(pd.DataFrame({"pupil_id": [1, 2]}), meetings.NO_RECENT_ACTION, ["", ""], [None, None])
    carried = meetings._item(pd.DataFrame({"pupil_id": [2]}), meetings.CARRIED, ["carried"], [FRIDAY_1])
    pupils = meetings._agenda_pupils(pd.concat([items, carried]), synthetic_pupils(2).assign(
        attendance_pct=[50.5, 80.0]), {2: [meetings.NO_RECENT_ACTION]})
    assert pupils["pupil_id"].tolist() == [2, 1] and pupils["carried"].tolist() == [True, False]


def start_with_agenda(db, day: date, length: int) -> tuple[int, meetings.Agenda]:
    agenda = meetings.agenda(db, LEAD, day, scopes=[""])
    return meetings.start_meeting(db, LEAD, day, ["Priya"], since=agenda.since, chosen=agenda, length=length), agenda


def test_pupils_the_last_meeting_did_not_reach_are_carried_to_the_next_with_their_reasons(db, school):
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "dsl", date(2025, 9, 1),
                            check_in_on=date(2025, 9, 10))
    first, agenda = start_with_agenda(db, FRIDAY_1, length=1)
    assert names_in_order(agenda, school) == ["Clarke", "Brown"]
    meetings.record_decision(db, LEAD, first, school["Clarke"], "family_meeting", "dsl", date(2025, 9, 26))
    kept = meetings.minutes(db, first)
    assert kept.not_reached["surname"].tolist() == ["Brown"]
    assert kept.summary().endswith("1 not reached — carried to the next meeting")  # beyond today's length

    following = meetings.agenda(db, LEAD, FRIDAY_2, scopes=[""])
    carried = following.items[following.items["kind"] == meetings.CARRIED]
    assert carried["pupil_id"].tolist() == [school["Brown"]]
    assert "Not reached at the meeting of 12/09/2025" in carried["detail"].iloc[0]
    assert "Check-in overdue" in carried["detail"].iloc[0]
    assert school["Clarke"] not in set(carried["pupil_id"])  # discussed, so not carried


def test_a_carried_pupil_stays_on_the_agenda_after_their_reason_has_gone(db, school):
    checkin = cases.schedule_checkin(db, LEAD, school["Brown"], date(2025, 9, 10), "dsl")
    start_with_agenda(db, FRIDAY_1, length=1)
    cases.complete_checkin(db, LEAD, checkin, date(2025, 9, 15), "Spoke to mum")
    following = meetings.agenda(db, LEAD, FRIDAY_2, scopes=[""])
    brown = following.pupils[following.pupils["pupil_id"] == school["Brown"]].iloc[0]
    assert brown["kinds"] == [meetings.CARRIED] and brown["priority_label"] == "Check-in overdue"


def test_the_kept_agenda_holds_the_order_and_who_was_discussed(db, school):
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "dsl", date(2025, 9, 1),
                            check_in_on=date(2025, 9, 10))
    meeting, _ = start_with_agenda(db, FRIDAY_1, length=1)
    meetings.record_discussed(db, LEAD, meeting, school["Brown"], [meetings.CHECKIN_OVERDUE], note="Mum called")
    kept = meetings.kept_agenda(db, meeting)
    assert kept.pupils["surname"].tolist() == ["Clarke", "Brown"]
    assert kept.pupils["position"].tolist() == [1, 2] and kept.pupils["discussed"].tolist() == [False, True]
    assert "Check-in was due 10/09/2025" in kept.items.loc[kept.items["pupil_id"] == school["Brown"], "detail"].iloc[0]


def test_a_pupil_discussed_without_a_decision_is_in_the_minutes(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "home_visit", "dsl", date(2025, 10, 3))
    meetings.record_discussed(db, LEAD, meeting, school["Dunn"], [meetings.NEWLY_SEVERE], note="Illness; GP letter seen")
    kept = meetings.minutes(db, meeting)
    table = meetings.minutes_table(kept, masked=False)
    assert table["Decision"].tolist() == ["Home visit", meetings.DISCUSSED]
    assert table["Note"].tolist()[1] == "Illness; GP letter seen"
    assert kept.summary() == "2 pupils discussed · 1 decision · 1 action opened"
    assert meetings.meetings(db)["decisions"].tolist() == [1]
    assert b"Discussed" in meetings.minutes_csv(kept, masked=False)


def test_the_minutes_name_the_owner_not_the_username(db, school):
    auth.add_user(db, "olu", "Olu Officer", "a-long-password-1", auth.ATTENDANCE_OFFICER)
    cases.open_intervention(db, LEAD, school["Brown"], "Home visit", "olu", date(2025, 9, 1),
                            check_in_on=date(2025, 9, 10))
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    detail = agenda.items.loc[agenda.items["kind"] == meetings.CHECKIN_OVERDUE, "detail"].iloc[0]
    assert "(owner Olu Officer)" in detail and "olu)" not in detail


def test_an_owner_who_is_not_a_user_is_kept_by_name_and_role(db, school):
    owner = cases.named_owner("Mr  Khan", "Form tutor")
    assert owner == "Mr Khan (Form tutor)" and not auth.USERNAME_PATTERN.match(auth.normalise_username(owner))
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "home_visit", owner, date(2025, 10, 3))
    assert meetings.minutes(db, meeting).items["owner_name"].tolist() == ["Mr Khan (Form tutor)"]
    assert cases.interventions(db, LEAD, [school["Ahmed"]])["owner"].tolist() == ["Mr Khan (Form tutor)"]
    assert cases.named_owners(db) == ["Mr Khan (Form tutor)"]


@pytest.mark.parametrize("name, role, message", [("", "School nurse", "name"), ("Sam", "", "role"),
                                                 ("Sam (EWO)", "Education welfare officer", "brackets")])
def test_a_named_owner_needs_a_name_and_a_role(name, role, message):
    with pytest.raises(cases.CaseError, match=message):
        cases.named_owner(name, role)


def test_a_letter_decision_is_for_the_stage_due_and_records_no_letter_until_made(db, school):
    cases.open_intervention(db, LEAD, school["Ahmed"], "Attendance letter (stage 1)", "dsl", date(2025, 9, 10))
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], meetings.LETTER, "dsl", date(2025, 10, 3))
    kept = meetings.minutes(db, meeting)
    assert kept.items["decision"].tolist() == ["Attendance letter (stage 2) — to make"]
    assert kept.items["letter_stage"].tolist() == [2] and kept.actions_created == 0
    assert letters.stages(db, LEAD, [school["Ahmed"]])["stage"].tolist() == [1]  # stage 2 is not made yet
    assert letters.stage_due(db, LEAD, school["Ahmed"], FRIDAY_2) == "stage_2"
    agreed = meetings.letters_agreed(db, LEAD)
    assert agreed[["pupil_id", "stage"]].values.tolist() == [[school["Ahmed"], 2]]

    cases.open_intervention(db, LEAD, school["Ahmed"], "Attendance letter (stage 2)", "dsl", date(2025, 9, 22))
    assert meetings.letters_agreed(db, LEAD).empty  # made: no longer waiting


def test_a_pupil_sent_no_letter_is_due_stage_1_and_one_sent_all_three_gets_no_letter(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Dunn"], meetings.LETTER, "dsl", date(2025, 10, 3))
    assert meetings.minutes(db, meeting).items["decision"].tolist() == ["Attendance letter (stage 1) — to make"]
    for stage in ("stage 1", "stage 2", "stage 3 — formal warning"):
        cases.open_intervention(db, LEAD, school["Ahmed"], f"Attendance letter ({stage})", "dsl", date(2025, 9, 10))
    with pytest.raises(meetings.MeetingError, match="All three"):
        meetings.record_decision(db, LEAD, meeting, school["Ahmed"], meetings.LETTER, "dsl", date(2025, 10, 3))


def test_a_staged_letter_cannot_be_opened_as_another_action_at_the_meeting(db, school):
    meeting = held(db, FRIDAY_2)
    with pytest.raises(meetings.MeetingError, match="Letters screen"):
        meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "", "dsl", date(2025, 10, 3),
                                 action_type="Attendance letter (stage 2)")
    assert cases.interventions(db, LEAD).empty


def test_keep_monitoring_leaves_no_nan_in_the_pupils_chronology(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], meetings.MONITOR, "dsl", date(2025, 10, 3))
    events = chronology.chronology(db, LEAD, school["Ahmed"], FRIDAY_2)
    due = events[events["kind"] == "checkin_due"]
    assert due["what"].tolist() == ["Check-in due"]
    assert "nan" not in " ".join(events["what"].astype(str))


def test_a_pupil_discussed_at_a_meeting_is_not_listed_again_as_without_recent_action(db, school):
    meeting = held(db, FRIDAY_2)
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], meetings.MONITOR, "dsl", date(2025, 10, 3))
    later = meetings.agenda(db, LEAD, date(2025, 9, 22))
    assert school["Ahmed"] not in set(later.items.loc[later.items["kind"] == meetings.NO_RECENT_ACTION, "pupil_id"])


def test_a_meetings_agenda_length_can_change_while_it_runs_and_is_audited(db, school):
    meeting, _ = start_with_agenda(db, FRIDAY_2, length=20)
    meetings.set_agenda_length(db, LEAD, meeting, 2)
    assert meetings.minutes(db, meeting).agenda_length == 2
    with pytest.raises(meetings.MeetingError, match="between 1 and 500"):
        meetings.set_agenda_length(db, LEAD, meeting, 0)
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'meeting.length'").fetchone()[0] == 1


def test_while_the_meeting_runs_pupils_within_its_length_are_still_to_discuss(db, school):
    meeting, _ = start_with_agenda(db, FRIDAY_2, length=2)
    assert meetings.minutes(db, meeting).summary().endswith(
        "2 still to discuss · 1 not reached — carried to the next meeting")
    meetings.finish_meeting(db, LEAD, meeting)
    assert meetings.minutes(db, meeting).summary().endswith("3 not reached — carried to the next meeting")


def test_the_minutes_pdf_lists_the_pupils_not_reached(db, school):
    meeting, _ = start_with_agenda(db, FRIDAY_2, length=1)
    pdf = meetings.minutes_pdf(meetings.minutes(db, meeting), "Test School", masked=True)
    assert pdf.startswith(b"%PDF") and len(meetings.minutes(db, meeting).not_reached) == 3


def test_a_leavers_kept_agenda_rows_go_when_purged(db, school):
    from core import safekeeping

    assert "meeting_agenda" in safekeeping.PUPIL_TABLES


# --- issue 17: children missing education ------------------------------------------------------


def test_a_missing_education_step_overdue_puts_the_pupil_first_on_the_agenda(db, school):
    from core import missing_education

    held(db, FRIDAY_1)
    case = missing_education.open_case(db, LEAD, school["Brown"], FRIDAY_2 - timedelta(days=4))
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert names_in_order(agenda, school)[0] == "Brown"
    assert agenda.pupils["priority_label"].iloc[0] == "Missing education step overdue"
    overdue = agenda.items[agenda.items["kind"] == meetings.CME_OVERDUE]
    assert overdue["detail"].iloc[0].startswith("First-day contact with the family was due")
    missing_education.record_step(db, LEAD, case, "first_day_contact", FRIDAY_2 - timedelta(days=4))
    missing_education.record_step(db, LEAD, case, "enquiries", FRIDAY_2 - timedelta(days=4))
    assert meetings.CME_OVERDUE not in set(meetings.agenda(db, LEAD, FRIDAY_2).items["kind"])


# --- issue 17: attendance support plans due for review ------------------------------------------


def test_support_plans_due_for_review_rank_after_reduced_timetables_and_before_severe_absence(db, school):
    from core import support_plans
    support_plans.start_plan(db, LEAD, school["Ahmed"], date(2025, 8, 1), "dsl")   # review due 12/09: overdue
    support_plans.start_plan(db, LEAD, school["Dunn"], date(2025, 9, 1), "dsl")    # due 13/10: not yet
    cases.open_intervention(db, LEAD, school["Brown"], "Reduced (part-time) timetable", "dsl", date(2025, 9, 1),
                            review_on=date(2025, 9, 18))
    agenda = meetings.agenda(db, LEAD, FRIDAY_2)
    assert on_agenda(agenda, meetings.PLAN_REVIEW_DUE, school) == ["Ahmed"]
    assert names_in_order(agenda, school) == ["Clarke", "Brown", "Ahmed", "Dunn"]
    assert agenda.pupils["priority_label"].tolist() == ["Statutory trigger", "Reduced timetable review due",
                                                        "Support plan review due", "Severely absent"]
    [detail] = agenda.items.loc[agenda.items["kind"] == meetings.PLAN_REVIEW_DUE, "detail"]
    assert detail == "Support plan review was due 12/09/2025 (owner dsl)"
