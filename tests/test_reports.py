"""Reports: meeting mode's rule, half terms and their statistics, the head of section report,
the evidence pack and the minutes, and PDFs that open and hold the figures (read back with
pdftotext). The spreadsheet writing they share is tested in test_exports.py."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from core import auth, calendar, cases, evidence_pack, meetings, metrics, pdf, privacy, section_report, statistics
from core.exports import csv_bytes
from tests.conftest import filled_once, make_upn, marks_csv, roll_csv, week_rows

LEAD = auth.Viewer("dsl", "pastoral_lead")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


def pdf_text(document: bytes) -> str:
    assert document.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


# --- meeting mode's rule ----------------------------------------------------------------------


def test_meeting_mode_cuts_names_to_initials_and_drops_identifiers_notes_and_contacts():
    frame = pd.DataFrame({"surname": ["Ó Briain"], "forename": ["Zoë"], "form": ["7A"], "upn": ["X"], "dob": ["d"],
                          "sensitive_note": ["s"], "parent_phone": ["07700 900000"], "Admission no.": ["1"]})
    assert privacy.for_screen(frame, masked=True).to_dict("records") == [{"surname": "Ó.", "forename": "Z.", "form": "7A"}]
    assert privacy.for_screen(frame, masked=False) is frame


def test_a_masked_pupil_is_initials_and_form():
    assert privacy.pupil_label("Ahmed", "Amir", "7A", masked=True) == "A. A. (7A)"
    assert privacy.pupil_label("Ahmed", "Amir", "7A", masked=False) == "Ahmed, Amir (7A)"
    assert privacy.pupil_name("Ahmed", "", masked=True) == "A."


def test_contact_details_added_later_are_hidden_by_naming_them_once():
    assert privacy.is_hidden("Contact phone", masked=True) and privacy.is_hidden("contact_email", masked=True)
    assert not privacy.is_hidden("Contact phone", masked=False)


def test_a_meeting_viewer_reads_no_sensitive_notes_even_as_the_pastoral_lead():
    assert auth.Viewer("dsl", "pastoral_lead").sees_sensitive
    assert not auth.Viewer("dsl", "pastoral_lead", shared_screen=True).sees_sensitive


# --- half terms -------------------------------------------------------------------------------


def days(*ranges: tuple[date, date]) -> np.ndarray:
    out = []
    for first, last in ranges:
        out += [calendar.to_day(first + timedelta(days=i)) for i in range((last - first).days + 1)
                if (first + timedelta(days=i)).weekday() < 5]
    return np.array(out)


def test_a_week_without_sessions_ends_a_half_term():
    terms = calendar.half_terms(days((date(2025, 9, 3), date(2025, 10, 24)), (date(2025, 11, 3), date(2025, 12, 19)),
                                     (date(2026, 1, 5), date(2026, 2, 13))))
    assert [(t.label, t.first_day, t.last_day) for t in terms] == [
        ("Autumn 1 2025/26", date(2025, 9, 3), date(2025, 10, 24)),
        ("Autumn 2 2025/26", date(2025, 11, 3), date(2025, 12, 19)),
        ("Spring 1 2025/26", date(2026, 1, 5), date(2026, 2, 13)),
    ]


def test_a_bank_holiday_monday_does_not_split_a_half_term():
    school = [d for d in days((date(2026, 4, 20), date(2026, 5, 22))) if d != calendar.to_day(date(2026, 5, 4))]
    assert [t.name for t in calendar.half_terms(np.array(school))] == ["Summer 1"]


# --- a tiny school over two half terms --------------------------------------------------------
#   Half term 1 = the week of 08/09/2025, half term 2 = the week of 22/09/2025 (15/09 is a holiday week).
#   Pupil 1 (PP): present, then 4 N (80%). Pupil 2: present both. Pupil 3 (Year 3): 6 O each week.

WEEKS = {date(2025, 9, 8): ["..........", "..........", "OOOOOO...."],
         date(2025, 9, 22): ["NNNN......", "..........", "OOOOOO...."]}


@pytest.fixture
@filled_once
def school(db, load):
    load("roll.csv", roll_csv({"surname": "Ahmed", "forename": "Amir", "pp": "Y"},
                              {"surname": "Brown", "forename": "Bella"},
                              {"surname": "Ó Briain", "forename": "Zoë", "year_group": "3", "form": "3B",
                               "dob": "2018-03-01"}))
    for monday in WEEKS:
        load(f"{monday}.csv", marks_csv(week_rows(monday, WEEKS[monday])))
    return dict(db.execute("SELECT surname, id FROM pupils").fetchall())


def test_half_term_statistics_pool_each_group_and_compare_with_the_previous_half_term(db, school):
    first, second = statistics.half_terms_so_far(db)
    stats = statistics.half_term_statistics(db, second, first).set_index(["grouping", "group_label"])
    everyone = stats.loc[("all", "All pupils")]
    assert everyone["attendance_pct"] == pytest.approx(2000 / 30)  # (6 + 10 + 4) ÷ 30 absent → 20 of 30 attended
    assert everyone["attendance_pct_previous"] == pytest.approx(80.0)
    assert everyone["attendance_pct_change"] == pytest.approx(2000 / 30 - 80)
    # the latest national figure up to 2025/26 (the shipped autumn 2025/26 figure), labelled as part of a year
    assert everyone["persistent_absence_pct_national"] == pytest.approx(19.47)
    assert everyone["persistent_absence_pct_national_label"] == "autumn 2025/26"
    assert stats.loc[("pp", "PP"), "attendance_pct"] == pytest.approx(60.0)
    assert stats.loc[("pp", "PP"), "persistent_absence_pct_previous"] == pytest.approx(0.0)
    assert stats.loc[("year_group", "Year 3"), "severe_absence_pct"] == pytest.approx(100.0)


# --- PDFs -------------------------------------------------------------------------------------


@needs_pdftotext
def test_the_head_of_section_report_pdf_opens_and_holds_the_figures_and_the_pa_list(db, school):
    period = metrics.Period(date(2025, 9, 1), date(2025, 9, 26))
    report = section_report.section_report(db, LEAD, period, "Whole school")
    text = pdf_text(section_report.section_report_pdf(report, masked=False))
    assert "Attendance report — Whole school" in text and "01/09/2025 to 26/09/2025" in text
    assert "73.3%" in text  # 44 of 60 possible sessions attended
    assert "Ó Briain, Zoë" in text and "Ahmed, Amir" in text  # DejaVu embedded: accents print
    assert "Persistently absent pupils (2)" in text


@needs_pdftotext
def test_the_head_of_section_report_shows_the_schools_targets_on_or_off_track_for_the_year_to_date(db, school):
    from core import benchmarks

    period = metrics.Period(date(2025, 9, 15), date(2025, 9, 26))  # a part of the year: targets use the year to date
    report = section_report.section_report(db, LEAD, period, "Whole school")
    assert report.targets == () and section_report.targets_text(report).startswith("No targets set for 2025/26")
    benchmarks.set_targets(db, 2025, 95.0, 60.0, "admin")
    report = section_report.section_report(db, LEAD, period, "Whole school")
    year_to_date = section_report.section_report(db, LEAD, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)),
                                                 "Whole school").headline
    attendance, persistent = report.targets
    assert attendance.value == pytest.approx(year_to_date["attendance_pct"]) and attendance.on_track is False
    assert persistent.value == pytest.approx(year_to_date["persistent_absence_pct"])
    assert persistent.on_track is (round(year_to_date["persistent_absence_pct"], 1) <= 60.0)
    text = " ".join(pdf_text(section_report.section_report_pdf(report, masked=False)).split())  # lines wrap
    assert "Targets for 2025/26 (year to date, 01/09/2025 to 26/09/2025)" in text
    assert f"Attendance {year_to_date['attendance_pct']:.1f}% against a target of 95.0%: off track" in text
    assert "national 93.4% (autumn" in text  # the national figure says which period it describes (boxes wrap)


@needs_pdftotext
def test_a_masked_report_pdf_has_initials_only(db, school):
    report = section_report.section_report(db, LEAD, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)), "Whole school")
    text = pdf_text(section_report.section_report_pdf(report, masked=True))
    assert "Ahmed" not in text and "Briain" not in text and "A. A." in text


@needs_pdftotext
@pytest.mark.skipif(not pdf.font_available(), reason="DejaVu fonts (fonts-dejavu-core) missing")
def test_each_pdf_prints_its_own_text_and_embeds_the_styles_it_uses():
    # The fonts are read once per process and shared: each document still has its own.
    first = pdf.Document("Test Academy", "First")
    first.paragraph("Łukasz Zoë Ó Briain", style="I")
    second = pdf.Document("Test Academy", "Second")
    second.paragraph("Ahmed, Amir")
    made_second, made_first = second.pdf_bytes(), first.pdf_bytes()

    assert "Łukasz Zoë Ó Briain" in pdf_text(made_first) and "Ahmed, Amir" in pdf_text(made_second)
    assert "Łukasz" not in pdf_text(made_second)
    for made in (made_first, made_second):  # the text, and the header's bold
        assert b"DejaVuSansBook" in made and b"DejaVuSansBold" in made and b"DejaVuSansBoldOblique" not in made
    assert b"DejaVuSansOblique" in made_first and b"DejaVuSansOblique" not in made_second  # italics only where printed


@needs_pdftotext
def test_pdfs_made_at_the_same_time_each_print_their_own_text():
    # Several people downloading at once: the screens' threads make documents side by side.
    import threading

    made: dict[int, bytes] = {}

    def make(number: int) -> None:
        document = pdf.Document("Test Academy", f"Report {number}")
        document.paragraph(f"Pupil number {number}, Zoë")
        made[number] = document.pdf_bytes()

    threads = [threading.Thread(target=make, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(made) == list(range(6))
    for number, content in made.items():
        assert f"Pupil number {number}, Zoë" in pdf_text(content)


@needs_pdftotext
def test_without_the_font_the_pdf_transliterates_rather_than_failing(db, school, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    report = section_report.section_report(db, LEAD, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)), "Whole school")
    text = pdf_text(section_report.section_report_pdf(report, masked=False))
    assert "Ó Briain, Zoë" in text or "O Briain, Zoe" in text  # Ó and ë are in Latin-1; either way it prints
    assert pdf.transliterate("Łukasz — ≥ 90%") == "Lukasz - >= 90%"


@needs_pdftotext
def test_the_evidence_pack_pdf_holds_weeks_reasons_triggers_and_the_chronology_but_no_sensitive_note(db, school):
    pupil = school["Ó Briain"]
    cases.open_intervention(db, LEAD, pupil, "Home visit", "dsl", date(2025, 9, 23), summary="Met dad",
                            sensitive_note="NOT FOR THE LA")
    cases.log_contact(db, LEAD, pupil, "call", date(2025, 9, 24), "father", summary="Will bring her in")
    pack = evidence_pack.evidence_pack(db, LEAD, pupil, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)))
    text = pdf_text(evidence_pack.evidence_pack_pdf(pack, masked=False))
    assert "Attendance evidence pack — Ó Briain, Zoë (3B)" in text and make_upn(3) in text
    assert "40.0% (8 of 20 possible sessions)" in text
    assert "08/09/2025" in text and "22/09/2025" in text  # attendance by week
    assert "Other unauthorised absence (O)" in text
    assert "Penalty-notice threshold" in text and "23/09/2025" in text  # the 10th O session: Tue 23/09 PM
    assert "Home visit" in text and "Phone call with father" in text
    assert "NOT FOR THE LA" not in text


def test_the_evidence_pack_csv_has_one_row_per_entry_with_uk_dates(db, school):
    pupil = school["Ó Briain"]
    pack = evidence_pack.evidence_pack(db, LEAD, pupil, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)))
    rows = list(csv.DictReader(io.StringIO(csv_bytes(evidence_pack.evidence_pack_frame(pack, False)).decode("utf-8-sig"))))
    sections = {row["Section"] for row in rows}
    assert {"Pupil", "Figures", "Attendance by week", "Reasons", "Trigger reached", "Chronology"} <= sections
    trigger = next(row for row in rows if row["Section"] == "Trigger reached")
    assert trigger["Date"] == "23/09/2025" and trigger["Entry"] == "Penalty-notice threshold"


@needs_pdftotext
def test_the_minutes_pdf_and_csv_hold_attendees_decisions_and_notes(db, school):
    meeting = meetings.start_meeting(db, LEAD, date(2025, 9, 26), ["Priya Pastoral", "Olu Officer"])
    meetings.record_decision(db, LEAD, meeting, school["Ahmed"], "letter", "officer", date(2025, 10, 10),
                             [meetings.NEWLY_PERSISTENT])
    meetings.save_minutes(db, LEAD, meeting, notes="Clinic on Thursday.")
    kept = meetings.minutes(db, meeting)
    text = pdf_text(meetings.minutes_pdf(kept, "Test Academy", masked=False))
    assert "minutes of 26/09/2025" in text and "Priya Pastoral, Olu Officer" in text
    assert "Ahmed, Amir" in text and "Attendance letter (stage 1) — to make" in text and "10/10/2025" in text
    assert "Clinic on Thursday." in text
    rows = list(csv.reader(io.StringIO(meetings.minutes_csv(kept, masked=True).decode("utf-8-sig"))))
    assert rows[2][:2] == ["A. A.", "7A"] and "Ahmed" not in str(rows)


@needs_pdftotext
def test_the_statistics_pdf_holds_the_half_term_and_its_comparison(db, school):
    first, second = statistics.half_terms_so_far(db)
    stats = statistics.half_term_statistics(db, second, first)
    text = pdf_text(statistics.statistics_pdf(stats, "Test Academy", second, first, "Whole school", True))
    assert "Half-termly attendance statistics — Autumn 2 2025/26" in text
    assert "66.7%" in text and "compared with Autumn 1 2025/26" in text


def test_the_section_report_compares_with_the_last_report_issued(db, school):
    early = section_report.section_report(db, LEAD, metrics.Period(date(2025, 9, 1), date(2025, 9, 12)), "Whole school")
    section_report.record_report(db, "dsl", early)
    later = section_report.section_report(db, LEAD, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)), "Whole school")
    assert later.compared_with == date(2025, 9, 12) and "last report" in later.compared_reason
    assert later.newly_pa["surname"].tolist() == ["Ahmed"]
    assert ("dsl", "report.issue") in db.execute("SELECT username, action FROM audit").fetchall()


def test_the_evidence_pack_chronology_is_the_pupils_case_history_with_meeting_decisions_oldest_first(db, school):
    pupil = school["Ó Briain"]
    cases.log_contact(db, LEAD, pupil, "call", date(2025, 9, 24), "father", summary="Will bring her in")
    meeting = meetings.start_meeting(db, LEAD, date(2025, 9, 26), ["Priya Pastoral"])
    meetings.record_decision(db, LEAD, meeting, pupil, "home_visit", "dsl", date(2025, 10, 10), note="Visit Monday")
    pack = evidence_pack.evidence_pack(db, LEAD, pupil, metrics.Period(date(2025, 9, 1), date(2025, 9, 26)),
                                 today=date(2025, 9, 26))
    kinds = pack.chronology[["on", "kind"]].itertuples(index=False)
    assert [tuple(k) for k in kinds] == [
        (date(2025, 9, 23), "Trigger reached"), (date(2025, 9, 24), "Contact"), (date(2025, 9, 26), "Action opened"),
        (date(2025, 9, 26), "Meeting decision"), (date(2025, 10, 10), "Check-in due")]
    assert "Visit Monday" in pack.chronology["detail"].tolist()
