"""Summary counts in the figures (FORMATS.md: a roll-up for dates the store has no marks for;
core/summary_counts.py states the rule): a pupil's figures are their marks plus the counts
for dates with no marks, never both for the same dates; patterns and triggers stay marks only.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from core import cli, data_quality, metrics, patterns, summary_counts, triggers
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

A, B = make_upn(1), make_upn(2)
AUTUMN = (date(2025, 9, 1), date(2025, 12, 19))
SPRING_MONDAY = date(2026, 1, 5)
YEAR = metrics.Period(date(2025, 9, 1), date(2026, 1, 9))
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def counts_csv(*rows: tuple) -> str:
    """Summary counts: (upn, from, to, possible, present, authorised, unauthorised), ISO dates."""
    lines = ["UPN,From,To,Possible,Present,Authorised,Unauthorised"]
    lines += [",".join(str(value) for value in row) for row in rows]
    return "\n".join(lines)


def imported(outcome):
    assert outcome.status == "imported", [p.message for p in outcome.problems]
    return outcome


def figures(db, period: metrics.Period = YEAR):
    return metrics.pupil_figures(db, period).set_index("upn")


def test_a_pupil_with_only_counts_gets_their_figures_from_the_counts(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 120, 12, 8))))
    pupil = figures(db).loc[A]
    assert (pupil["possible_sessions"], pupil["attendance_sessions"], pupil["authorised_sessions"],
            pupil["unauthorised_sessions"]) == (140, 120, 12, 8)
    assert round(pupil["attendance_pct"], 2) == 85.71
    assert pupil["persistently_absent"]
    assert (pupil["counted_sessions"], pupil["counts_periods"]) == (140, (AUTUMN,))


def test_counts_and_marks_for_different_dates_are_added_together(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("marks.csv", marks_csv(week_rows(SPRING_MONDAY, ["..NN......"]))))  # 10 sessions, 2 N
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 130, 6, 4))))
    pupil = figures(db).loc[A]
    assert (pupil["possible_sessions"], pupil["attendance_sessions"], pupil["authorised_sessions"],
            pupil["unauthorised_sessions"]) == (150, 138, 6, 6)
    assert pupil["counted_sessions"] == 140
    assert pupil["unauthorised"] == 2  # the category columns stay the marks' own


def test_counts_whose_dates_overlap_the_pupils_marks_are_never_added_to_them(db, load):
    imported(load("roll.csv", roll_csv({}, {})))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 130, 6, 4), (B, *AUTUMN, 140, 140, 0, 0))))
    # A week of A's autumn marks arrives after the counts: the marks win, the counts are left out.
    imported(load("marks.csv", marks_csv(week_rows(date(2025, 12, 15), ["NNNNNNNNNN"]))))
    found = figures(db)
    assert (found.loc[A, "possible_sessions"], found.loc[A, "unauthorised_sessions"],
            found.loc[A, "counted_sessions"], found.loc[A, "counts_periods"]) == (10, 10, 0, ())
    assert (found.loc[B, "possible_sessions"], found.loc[B, "counts_periods"]) == (140, (AUTUMN,))
    left_out = summary_counts.not_used(db)
    assert left_out[["counts_from", "counts_to", "reason", "first_marked_day", "last_marked_day"]].values.tolist() == [
        [*AUTUMN, summary_counts.OVERLAPS_MARKS, date(2025, 12, 15), date(2025, 12, 19)]]


def test_a_pupils_overlapping_counts_are_never_both_used_the_newer_wins(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("year.csv", counts_csv((A, "2025-09-01", "2025-10-24", 70, 60, 5, 5))))
    imported(load("term.csv", counts_csv((A, *AUTUMN, 140, 130, 6, 4))))
    pupil = figures(db).loc[A]
    assert (pupil["possible_sessions"], pupil["unauthorised_sessions"], pupil["counts_periods"]) == (140, 4, (AUTUMN,))
    assert summary_counts.not_used(db)["reason"].tolist() == [summary_counts.OVERLAPS_NEWER_COUNTS]


def test_counts_reaching_outside_the_dates_chosen_are_left_out_whole(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 130, 6, 4))))
    half_term = metrics.Period(date(2025, 9, 1), date(2025, 10, 24))
    assert A not in figures(db, half_term).index
    first, last = (d.toordinal() - date(1970, 1, 1).toordinal() for d in (half_term.date_from, half_term.as_of))
    assert summary_counts.not_used(db, first, last)["reason"].tolist() == [summary_counts.OUTSIDE_PERIOD]
    assert summary_counts.not_used(db).empty  # not a data problem: only a choice of dates


def test_patterns_come_from_marks_only_and_the_figures_say_which_dates_rest_on_counts(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("marks.csv", marks_csv(week_rows(SPRING_MONDAY, ["NN........"]))))  # absent Monday only
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 100, 20, 20))))
    weekdays = patterns.weekday_session_absence(db, YEAR)
    assert weekdays["possible_sessions"].sum() == 10  # the counts' 140 sessions have no weekday
    assert figures(db).loc[A, "counts_periods"] == (AUTUMN,)  # so screens can say patterns are not available there


def test_counts_never_reach_a_trigger(db, load):
    # 40 unauthorised sessions in counts: enough for every unauthorised trigger if they were marks.
    imported(load("roll.csv", roll_csv({})))
    imported(load("marks.csv", marks_csv(week_rows(SPRING_MONDAY, [".........."]))))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 40, 60, 40))))
    assert figures(db).loc[A, "unauthorised_sessions"] == 40
    assert triggers.reached(db, date(2026, 1, 9)).empty


def test_the_census_style_sample_reaches_the_figures(db, load):
    imported(load("roll.csv", (SAMPLES / "pupil_roll.csv").read_text(encoding="utf-8-sig")))
    imported(load("census.csv", (SAMPLES / "census_counts.csv").read_text(encoding="utf-8")))
    spring = metrics.Period(date(2025, 9, 1), date(2026, 3, 31))
    found = metrics.pupil_figures(db, spring)
    assert len(found) == 6
    assert found["possible_sessions"].tolist() == [118] * 6
    assert sorted(found["unauthorised_sessions"]) == [0, 1, 2, 3, 4, 5]
    assert set(found["counts_periods"]) == {((date(2026, 1, 5), date(2026, 3, 27)),)}


def test_counts_that_overlap_marks_are_a_data_quality_problem(db, load):
    imported(load("roll.csv", roll_csv({})))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 130, 6, 4))))
    imported(load("marks.csv", marks_csv(week_rows(date(2025, 12, 15), [".........."]))))
    found = data_quality.lists(db, YEAR)[data_quality.COUNTS_NOT_USED]
    assert found[["counts_from", "counts_to"]].values.tolist() == [list(AUTUMN)]


def test_pastoral_pupils_json_keeps_its_fields_with_a_counts_pupil(db, db_path, load, capsys):
    imported(load("roll.csv", roll_csv({}, {})))
    imported(load("marks.csv", marks_csv(week_rows(SPRING_MONDAY, ["..........", ".........."]))))
    imported(load("counts.csv", counts_csv((A, *AUTUMN, 140, 120, 12, 8))))
    capsys.readouterr()
    assert cli.main(["--db", str(db_path), "pupils", "--format", "json"]) == 0
    rows = {row["upn"]: row for row in json.loads(capsys.readouterr().out)}
    assert list(rows[A]) == list(rows[B]) == [*cli.PUPIL_JSON_FIELDS, "sessions_to_spare"]
    assert (rows[A]["possible_sessions"], rows[B]["possible_sessions"]) == (150, 10)


def test_the_evidence_pack_says_which_dates_its_figures_take_from_counts(db, load):
    from core import auth, evidence_pack
    from tests.test_reports import pdf_text

    imported(load("roll.csv", roll_csv({})))
    imported(load("marks.csv", marks_csv(week_rows(date(2025, 9, 8), [".........."]))))
    imported(load("counts.csv", counts_csv((A, "2025-09-01", "2025-09-05", 10, 6, 0, 4))))
    pupil = db.execute("SELECT id FROM pupils WHERE upn = ?", (A,)).fetchone()[0]
    pack = evidence_pack.evidence_pack(db, auth.Viewer("dsl", "pastoral_lead"), pupil,
                                       metrics.Period(date(2025, 9, 1), date(2025, 9, 12)))
    text = pdf_text(evidence_pack.evidence_pack_pdf(pack, masked=False))
    assert "80.0% (16 of 20 possible sessions)" in text
    assert "10 of the possible sessions, for 01/09/2025 to 05/09/2025" in " ".join(text.split())
