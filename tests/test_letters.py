"""Letters from templates: fields filled from the store, a missing field named not crashed
on, templates the school edits, one PDF for a batch, and each letter sent on the pupil's
record with the escalation stage it reached."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta

import pytest

from core import auth, cases, letters, metrics, pdf, triggers
from tests.conftest import filled_once, make_upn, marks_csv

OFFICER = auth.Viewer("officer", "attendance_officer")
LEAD = auth.Viewer("dsl", "pastoral_lead")
MONDAY = date(2025, 9, 8)
PERIOD = metrics.Period(MONDAY, MONDAY + timedelta(days=4))
LETTER_DAY = date(2025, 9, 15)


@pytest.fixture
@filled_once
def pupils(db, load) -> list[int]:
    """Zoë (with her mother's details) absent 3 sessions (2 unauthorised); Tom with no contact."""
    load("roll.csv", "\n".join([
        "UPN,Surname,Forename,Year,Reg Group,Primary Contact Name,Address,Postcode",
        f'{make_upn(1)},Nowak,Zoë,7,7A,Agnieszka Nowak,"2 Mill Lane, Town",AB1 2CD',
        f"{make_upn(2)},Smith,Tom,8,8B,,,",
    ]))
    rows = []
    for n, marks in ((1, "OOI......."), (2, "N.........")):
        for i, m in enumerate(marks):
            code = ("/" if i % 2 == 0 else "\\") if m == "." else m
            rows.append((make_upn(n), (MONDAY + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2], code))
    load("marks.csv", marks_csv(rows))
    ids = dict(db.execute("SELECT upn, id FROM pupils").fetchall())
    return [ids[make_upn(1)], ids[make_upn(2)]]


def made(db, kind: str, pupil_ids: list[int], **asked) -> letters.Batch:
    values = letters.field_values(db, PERIOD, pupil_ids, LETTER_DAY, "Olu Officer", asked)
    return letters.compose(letters.templates(db)[kind], values)


def test_a_stage_1_letter_is_filled_from_the_figures_and_the_roll(db, pupils):
    [letter] = made(db, "stage_1", pupils[:1]).letters
    assert letter.title == "Zoë Nowak's attendance"
    assert letter.body.startswith("Dear Agnieszka Nowak,")
    assert "attended 70.0% of sessions and missed 3 sessions, 2 of them unauthorised" in letter.body
    assert "between 08/09/2025 and 12/09/2025".lower() in letter.body.lower()
    assert letter.body.endswith("Olu Officer\nAttendance Officer, Our School")
    assert letter.address == "2 Mill Lane, Town\nAB1 2CD"


def test_a_letter_missing_a_field_is_refused_with_what_to_add_and_the_others_are_made(db, pupils):
    batch = made(db, "stage_1", pupils)
    assert [letter.pupil_name for letter in batch.letters] == ["Zoë Nowak"]
    [(pupil_id, name, why)] = batch.refused
    assert (pupil_id, name) == (pupils[1], "Tom Smith")
    assert "no the first parent/carer contact in the roll ({parent_name})" in why and "Primary Contact Name" in why


def test_fields_the_person_types_in_fill_the_meeting_invitation(db, pupils):
    [letter] = made(db, "meeting_invitation", pupils[:1], meeting_date="Tuesday 23 September", meeting_time="9:00",
                    meeting_place="the school office").letters
    assert "on Tuesday 23 September at 9:00, at the school office" in letter.body
    assert made(db, "meeting_invitation", pupils[:1]).refused  # without them: refused, not a gap


def test_the_penalty_warning_counts_unauthorised_sessions_in_the_rolling_window(db, pupils):
    [letter] = made(db, "penalty_warning", pupils[:1]).letters
    assert "In the last 10 school weeks (since 08/09/2025), Zoë has had 2 sessions of unauthorised absence" in letter.body


def test_the_rolling_window_is_the_penalty_notice_triggers_window(db, load):
    load("roll.csv", "upn,surname,forename,year_group\n" + make_upn(1) + ",Nowak,Zoë,7")
    weeks = [MONDAY + timedelta(weeks=w) for w in range(11)]
    load("marks.csv", marks_csv([(make_upn(1), w.isoformat(), "AM", "O") for w in weeks]))
    window = triggers.penalty_window(db, weeks[-1])
    assert window["unauthorised_sessions"].tolist() == [10] and window["window_from"].tolist() == [weeks[1]]


def test_a_template_the_school_edits_is_used_and_can_be_reset(db, pupils):
    letters.save_template(db, OFFICER, "stage_1", "Attendance: {pupil_name}", "Dear {parent_name}, {attendance_pct}.")
    [letter] = made(db, "stage_1", pupils[:1]).letters
    assert (letter.title, letter.body) == ("Attendance: Zoë Nowak", "Dear Agnieszka Nowak, 70.0%.")
    letters.reset_template(db, OFFICER, "stage_1")
    assert letters.templates(db)["stage_1"] == letters.DEFAULT_TEMPLATES["stage_1"]


def test_a_template_naming_a_field_we_do_not_fill_is_not_saved(db):
    with pytest.raises(letters.LetterError, match=r"\{shoe_size\}, which is not a field"):
        letters.save_template(db, OFFICER, "stage_1", "Hello", "Dear {parent_name}, {shoe_size}")


def test_a_template_with_an_unclosed_brace_says_how_to_write_fields(db):
    with pytest.raises(letters.LetterError, match="not closed or opened"):
        letters.save_template(db, OFFICER, "stage_1", "Hello", "Dear {parent_name")


def test_only_an_admin_or_the_attendance_officer_edits_templates(db):
    with pytest.raises(letters.LetterError, match="Only an administrator"):
        letters.save_template(db, LEAD, "stage_1", "Hello", "Dear {parent_name}")


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


def pdf_pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return text.split("\f")[:-1]


def a_letter(title: str = "Zoë's attendance", body: str = "Dear Ms Nowak,\n\nPlease call us.") -> letters.Letter:
    return letters.Letter(1, "stage_1", title, body, "Agnieszka Nowak", "12 Łódź Street\nAB1 2CD", "Zoë Nowak")


@needs_pdftotext
def test_a_batch_is_one_pdf_with_a_page_per_letter_and_accented_names_intact(db, pupils, load):
    assert load("roll2.csv", "UPN,Surname,Forename,Primary Contact Name\n" + make_upn(2) + ",Smith,Tom,Seán Smith"
                ).status == "imported"
    batch = made(db, "stage_1", pupils)
    pages = pdf_pages(letters.pdf_bytes(batch.letters, "Our School", "1 School Road", LETTER_DAY))
    assert len(batch.letters) == 2 and len(pages) == 2
    assert "Dear Agnieszka Nowak" in pages[0] and "Zoë" in pages[0] and "Seán Smith" in pages[1]


@needs_pdftotext
def test_each_letter_has_the_letterhead_the_addressee_and_the_date(db):
    [page] = pdf_pages(letters.pdf_bytes([a_letter()], "Our School", "1 School Road\nTown", LETTER_DAY))
    lines = [line for line in page.splitlines() if line.strip()]
    assert lines[:8] == ["Our School", "1 School Road", "Town", "Agnieszka Nowak", "12 Łódź Street", "AB1 2CD",
                         "15 September 2025", "Zoë's attendance"]


@needs_pdftotext
def test_the_letterhead_carries_the_schools_telephone(db):
    [page] = pdf_pages(letters.pdf_bytes([a_letter()], "Our School", "1 School Road\nTown", LETTER_DAY,
                                         "01632 960000"))
    lines = [line for line in page.splitlines() if line.strip()]
    assert lines[:4] == ["Our School", "1 School Road", "Town", "Tel. 01632 960000"]


def test_a_pupil_who_joined_in_the_period_is_written_to_about_their_time_on_roll(db, pupils, load):
    """A pupil whose first register is on the Thursday is told about Thursday to Friday, not
    the whole week (10 possible sessions are not 'the term')."""
    load("joiner.csv", "\n".join(["UPN,Surname,Forename,Year,Reg Group,Primary Contact Name,Address,Postcode",
                                   f"{make_upn(3)},Khan,Ali,7,7A,Sara Khan,1 New Road,AB1 2CD"]))
    thursday = MONDAY + timedelta(days=3)
    load("joiner_marks.csv", marks_csv([(make_upn(3), (thursday + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2],
                                         "O" if i == 0 else ("/", "\\")[i % 2]) for i in range(4)]))
    joiner = db.execute("SELECT id FROM pupils WHERE upn = ?", (make_upn(3),)).fetchone()[0]
    values = letters.field_values(db, PERIOD, [pupils[0], joiner], LETTER_DAY, "Olu Officer")
    assert (values.loc[joiner, "period_from"], values.loc[joiner, "period_to"]) == ("11/09/2025", "12/09/2025")
    assert (values.loc[pupils[0], "period_from"], values.loc[pupils[0], "period_to"]) == ("08/09/2025", "12/09/2025")


@needs_pdftotext
def test_a_letter_that_runs_on_is_headed_with_its_title_on_the_next_page(db):
    long = a_letter(body="Dear Ms Nowak,\n\n" + "Every day in school matters. " * 400)
    pages = pdf_pages(letters.pdf_bytes([long, a_letter("Tom's attendance")], "Our School", "", LETTER_DAY))
    assert len(pages) >= 3 and "Zoë's attendance (continued)" in pages[1] and "page 2" in pages[1]
    assert pages[-1].lstrip().startswith("Our School") and "Tom's attendance" in pages[-1]


@needs_pdftotext
def test_without_the_font_a_letter_is_transliterated_rather_than_failing(db, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    [page] = pdf_pages(letters.pdf_bytes([a_letter()], "Our School", "", LETTER_DAY))
    assert "12 Lódz Street" in page and "Zoë's attendance" in page


def test_each_letter_sent_is_a_contact_and_a_stage_letter_an_action_of_its_type(db, pupils):
    batch = made(db, "stage_2", pupils[:1])
    letters.record_sent(db, OFFICER, letters.templates(db)["stage_2"], batch.letters, LETTER_DAY)
    [contact] = cases.contacts(db, OFFICER, pupils[:1]).to_dict("records")
    [action] = cases.interventions(db, OFFICER, pupils[:1]).to_dict("records")
    assert (contact["kind"], contact["with_whom"], contact["contact_on"]) == ("letter", "Agnieszka Nowak", LETTER_DAY)
    assert action["type"] == "Attendance letter (stage 2)" and contact["intervention_id"] == action["id"]


def test_a_letter_that_is_not_staged_is_a_contact_only(db, pupils):
    batch = made(db, "penalty_warning", pupils[:1])
    letters.record_sent(db, OFFICER, letters.templates(db)["penalty_warning"], batch.letters, LETTER_DAY)
    assert len(cases.contacts(db, OFFICER, pupils[:1])) == 1 and cases.interventions(db, OFFICER, pupils[:1]).empty


def test_the_escalation_stage_is_the_highest_stage_letter_sent(db, pupils):
    for kind in ("stage_1", "stage_2"):
        letters.record_sent(db, OFFICER, letters.templates(db)[kind], made(db, kind, pupils[:1]).letters, LETTER_DAY)
    found = letters.stages(db, OFFICER, since=date(2025, 9, 1))
    assert found[["pupil_id", "stage"]].values.tolist() == [[pupils[0], 2]]
    assert letters.next_stage(2) == "stage_3" and letters.next_stage(None) == "stage_1"
    assert letters.next_stage(3) is None


def test_a_pupil_sent_no_stage_letter_has_no_stage(db, pupils):
    assert letters.stages(db, OFFICER, pupils, since=date(2025, 9, 1)).empty
    assert letters.stage_label(None) == "No letter yet"
