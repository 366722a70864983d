"""Benchmarks and targets (issue 17, item 7): the national figures as data, which one a year
shows and how it is labelled, reading the DfE statistics CSV, and the school's targets."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core import benchmarks, reads, store
from core.benchmarks import BenchmarkError, TargetCheck
from tests.dfe_statistics import (REGIONAL, attendance_csv, attendance_row, census_csv, census_row)


def figures(*rows: tuple) -> pd.DataFrame:
    """National figures written in the test: (year, period, absence, pa, sa[, published])."""
    return pd.DataFrame([{"academic_year": r[0], "period": r[1], "overall_absence_pct": r[2],
                          "persistent_absence_pct": r[3], "severe_absence_pct": r[4], "source": "DfE",
                          "published_on": r[5] if len(r) > 5 else None} for r in rows])


# --- what is shipped -------------------------------------------------------------------------------


def test_a_new_store_holds_domain_md_figures_and_the_autumn_2025_26_figures(db):
    stored = benchmarks.national_figures(db)
    rows = {(r.academic_year, r.period): (r.overall_absence_pct, r.persistent_absence_pct, r.severe_absence_pct)
            for r in stored.itertuples()}
    assert rows[(2023, "full year")] == (7.1, 20.0, 2.3)
    assert rows[(2024, "full year")][:2] == (6.9, 18.7) and pd.isna(rows[(2024, "full year")][2])
    assert rows[(2025, "autumn term")][:2] == (6.62, 19.47)
    assert stored.set_index(["academic_year", "period"]).loc[(2025, "autumn term"), "source"] == \
        "DfE, Pupil attendance in schools, 2026 week 2"


# --- which figure a year shows, and its label ----------------------------------------------------------


def test_a_part_year_figure_is_labelled_with_its_period_and_shown_beside_the_full_year(db):
    shipped = benchmarks.national_figures(db)
    figure = benchmarks.national(shipped, "attendance_pct", 2025)
    assert figure.value == pytest.approx(93.38) and figure.label == "autumn 2025/26" and not figure.full_year
    assert benchmarks.national_caption(shipped, "attendance_pct", 2025) == \
        "National 93.4% (autumn 2025/26) · 93.1% (full year 2024/25)"
    assert benchmarks.national_caption(shipped, "persistent_absence_pct", 2025) == \
        "National 19.5% (autumn 2025/26) · 18.7% (full year 2024/25)"


def test_a_full_year_figure_is_shown_alone():
    assert benchmarks.national_caption(figures((2024, "full year", 6.9, 18.7, None)), "attendance_pct", 2024) == \
        "National 93.1% (full year 2024/25)"


def test_an_earlier_year_shows_its_own_figure_and_a_year_before_any_shows_none(db):
    shipped = benchmarks.national_figures(db)
    assert benchmarks.national(shipped, "overall_absence_pct", 2023)[:3] == (7.1, 2023, "full year")
    assert benchmarks.national(shipped, "overall_absence_pct", 2022) is None
    assert benchmarks.national_caption(shipped, "overall_absence_pct", 2022) == "No national figure published"


def test_within_a_year_the_period_covering_most_of_it_is_shown():
    several = figures((2030, "autumn term", 5.0, 15.0, None), (2030, "year to date", 5.5, 16.0, None),
                      (2030, "full year", 6.0, 17.0, 2.0), (2029, "full year", 7.0, 18.0, 2.5))
    assert benchmarks.national(several, "overall_absence_pct", 2030).period == "full year"
    assert benchmarks.national(several.iloc[:2], "overall_absence_pct", 2030).period == "year to date"


def test_a_measure_not_published_for_the_latest_year_comes_from_the_latest_year_that_has_it(db):
    severe = benchmarks.national(benchmarks.national_figures(db), "severe_absence_pct", 2025)
    assert (severe.value, severe.label) == (2.3, "full year 2023/24")


# --- reading the DfE statistics CSV ------------------------------------------------------------------


def test_the_census_file_gives_its_national_state_funded_total_only():
    read = benchmarks.read_dfe_csv(census_csv())
    assert read.layout == "census" and read.source == "DfE, Pupil absence in schools in England"
    assert read.rows.to_dict("records") == [{"academic_year": 2030, "period": "full year", "overall_absence_pct": 5.55,
                                             "persistent_absence_pct": 15.25, "severe_absence_pct": 1.75}]


def test_the_attendance_files_autumn_term_and_year_to_date_rows_are_read_with_their_periods():
    read = benchmarks.read_dfe_csv(attendance_csv(
        *[attendance_row("203031", "Autumn term", "5.05", "14.5"), attendance_row("203031", "Academic year", "5.5", "16"),
          attendance_row("2031", "Week 2", "4.0", "x")]))
    assert read.layout == "attendance"
    rows = read.rows.set_index("period")
    assert rows.loc["autumn term", "overall_absence_pct"] == 5.05 and rows.loc["year to date", "persistent_absence_pct"] == 16
    assert rows["severe_absence_pct"].isna().all()  # this publication has no severe absence
    assert len(rows) == 2  # the weekly row is neither a term nor a year


def test_not_available_markers_are_no_value_rather_than_a_problem():
    read = benchmarks.read_dfe_csv(census_csv(census_row("203132", "Autumn term", "5.0", "14.0", "x")))
    assert read.rows.iloc[0]["period"] == "autumn term" and pd.isna(read.rows.iloc[0]["severe_absence_pct"])


@pytest.mark.parametrize("data, says", [
    (b"upn,surname,forename\nA999,Ahmed,Amir\n", "does not look like a DfE attendance statistics file"),
    (b"", "The file is empty"),
    (b"PK\x03\x04rest-of-a-zip", "This is a zip file"),
    (census_csv(census_row("203031", "Academic year", "6.66", "17.77", where=REGIONAL)),
     "no national rows for state-funded schools in total"),
    (census_csv(census_row("203031", "Academic year", "about six", "17.77")), "Row 2: sess_overall_percent is “about six”"),
    (census_csv(census_row("203031", "Academic year", "66.6", "177.7")), "outside 0 to 100"),
    (census_csv(census_row("203031", "Academic year", "5.5", "15"), census_row("203031", "Academic year", "5.9", "15")),
     "Rows 2 and 3 both give national totals for full year 2030/31"),
])
def test_anything_else_is_refused_with_what_to_do(data, says):
    with pytest.raises(BenchmarkError) as refused:
        benchmarks.read_dfe_csv(data)
    assert says in str(refused.value)


# --- preview and save ------------------------------------------------------------------------------


def test_the_preview_says_what_is_new_changed_or_as_stored(db):
    incoming = pd.DataFrame([
        {"academic_year": 2025, "period": "autumn term", "overall_absence_pct": 6.62, "persistent_absence_pct": 19.47,
         "severe_absence_pct": None},
        {"academic_year": 2024, "period": "full year", "overall_absence_pct": 6.93, "persistent_absence_pct": 18.7,
         "severe_absence_pct": 2.4},
        {"academic_year": 2030, "period": "full year", "overall_absence_pct": 5.55, "persistent_absence_pct": 15.25,
         "severe_absence_pct": 1.75}])
    preview = benchmarks.changes(benchmarks.national_figures(db), incoming).set_index("academic_year")
    assert preview["status"].to_dict() == {2025: "unchanged", 2024: "changed", 2030: "new"}
    assert (preview.loc[2024, "overall_absence_pct_before"], preview.loc[2024, "overall_absence_pct_after"]) == (6.9, 6.93)
    assert pd.isna(preview.loc[2030, "overall_absence_pct_before"])


def test_a_value_the_file_does_not_give_keeps_what_is_stored(db):
    incoming = pd.DataFrame([{"academic_year": 2023, "period": "full year", "overall_absence_pct": 7.1,
                              "persistent_absence_pct": 20.0, "severe_absence_pct": None}])
    assert benchmarks.changes(benchmarks.national_figures(db), incoming).iloc[0]["status"] == "unchanged"


def test_saving_writes_the_new_and_changed_rows_with_source_date_and_who_and_audits_it(db):
    read = benchmarks.read_dfe_csv(census_csv())
    benchmarks.save(db, pd.DataFrame([{"academic_year": 2024, "period": "full year", "overall_absence_pct": 6.9,
                                       "persistent_absence_pct": 18.7, "severe_absence_pct": 2.2}]), "DfE", None, "admin")
    assert benchmarks.national_figures(db).set_index(["academic_year", "period"]).loc[(2024, "full year"),
                                                                                     "severe_absence_pct"] == 2.2
    written = benchmarks.save(db, read.rows, "DfE, Pupil absence in schools in England, 2030/31",
                              date(2026, 3, 19), "admin", "absence_rates.csv")
    assert written == 1
    stored = benchmarks.national_figures(db).set_index(["academic_year", "period"]).loc[(2030, "full year")]
    assert (stored["overall_absence_pct"], stored["persistent_absence_pct"], stored["severe_absence_pct"]) == \
        (5.55, 15.25, 1.75)
    assert stored["published_on"] == date(2026, 3, 19) and stored["updated_by"] == "admin"
    log, _ = store.audit_log(db, action="national_figures")
    assert log["username"].tolist() == ["admin", "admin"] and log["entity_id"][0] == "absence_rates.csv"
    assert log["detail"][0]["rows"][0]["overall_absence_pct"] == [None, 5.55]
    # the same file again changes nothing and logs nothing
    assert benchmarks.save(db, read.rows, "again", None, "admin") == 0
    assert len(store.audit_log(db, action="national_figures")[0]) == 2


def test_a_save_without_a_source_stores_nothing(db):
    before = benchmarks.national_figures(db)
    with pytest.raises(BenchmarkError, match="Say where the figures come from"):
        benchmarks.save(db, benchmarks.read_dfe_csv(census_csv()).rows, "  ", None, "admin")
    assert benchmarks.national_figures(db).equals(before)


def test_new_national_figures_give_screens_fresh_reads(db, db_path):
    path = str(db_path.resolve())
    before = reads.version(path)
    assert 2030 not in reads.national_figures(path, before)["academic_year"].tolist()
    benchmarks.save(db, benchmarks.read_dfe_csv(census_csv()).rows, "DfE", None, "admin")
    after = reads.version(path)
    assert after != before and 2030 in reads.national_figures(path, after)["academic_year"].tolist()


# --- the school's targets -------------------------------------------------------------------------


def test_targets_are_kept_per_academic_year_and_audited_as_a_setting(db):
    assert benchmarks.set_targets(db, 2025, 95.0, 15.0, "admin")
    assert benchmarks.set_targets(db, 2026, 96.0, None, "admin")
    settings = store.get_settings(db)
    assert benchmarks.targets_for(settings, 2025) == {"attendance_pct": 95.0, "persistent_absence_pct": 15.0}
    assert benchmarks.targets_for(settings, 2026) == {"attendance_pct": 96.0}
    assert benchmarks.targets_for(settings, 2024) == {}
    log, _ = store.audit_log(db, action="setting.change")
    assert log["entity_id"].tolist() == ["targets", "targets"] and log["username"].tolist() == ["admin", "admin"]
    assert not benchmarks.set_targets(db, 2025, 95.0, 15.0, "admin")  # nothing changed, nothing logged
    assert benchmarks.set_targets(db, 2025, None, None, "admin")  # cleared
    assert benchmarks.targets_for(store.get_settings(db), 2025) == {}


@pytest.mark.parametrize("attendance, persistent", [(49.0, None), (100.5, None), (None, -1.0), (None, 101.0)])
def test_a_target_outside_its_range_is_refused_and_nothing_saved(db, attendance, persistent):
    with pytest.raises(BenchmarkError, match="target must be between"):
        benchmarks.set_targets(db, 2025, attendance, persistent, "admin")
    assert store.get_settings(db)["targets"] == {}


@pytest.mark.parametrize("measure, target, value, on_track", [
    ("attendance_pct", 95.0, 95.0, True),
    ("attendance_pct", 95.0, 94.96, True),   # shown as 95.0%: as shown, at the target
    ("attendance_pct", 95.0, 94.94, False),  # shown as 94.9%
    ("attendance_pct", 95.0, 97.0, True),
    ("persistent_absence_pct", 15.0, 15.0, True),
    ("persistent_absence_pct", 15.0, 15.04, True),
    ("persistent_absence_pct", 15.0, 15.06, False),
    ("persistent_absence_pct", 15.0, 12.0, True),
])
def test_on_track_is_attendance_at_or_above_and_persistent_absence_at_or_below_the_target_as_shown(
        measure, target, value, on_track):
    assert TargetCheck(measure, target, value).on_track is on_track


def test_targets_are_checked_on_the_year_to_date_group_figures():
    year_to_date = {"pupils": 4, "overall_absence_pct": 12.5, "persistent_absence_pct": 50.0}
    checks = benchmarks.check_targets({"attendance_pct": 95.0, "persistent_absence_pct": 60.0}, year_to_date)
    assert [(c.measure, c.value, c.on_track) for c in checks] == [("attendance_pct", 87.5, False),
                                                                  ("persistent_absence_pct", 50.0, True)]
    assert checks[0].sentence() == "Attendance 87.5% against a target of 95.0%: off track"
    assert benchmarks.check_targets({"attendance_pct": 95.0}, {"pupils": 0})[0].verdict == "no figures yet"
