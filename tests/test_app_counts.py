"""The screens say which pupils' figures rest on summary counts (core/summary_counts.py):
Below 90%, the Overview and the pupil's page, with the counts' dates, and that patterns are
not available for those dates."""

from __future__ import annotations

import csv
import io

import pytest

from core import store
from core.importers import import_bytes
from tests.app_school import all_text, screen, upn
from tests.app_school import quick_hashes, school  # noqa: F401 (fixtures)

# Bella Brown is at 100% on the marks (two weeks from 08/09/2025); her counts for the week
# before the marks begin (4 of 10 sessions unauthorised) take her to 26 of 30, 86.7%.
COUNTS = ("UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
          f"{upn(2)},01/09/2025,05/09/2025,10,6,0,4\n")
PERIOD_TEXT = "01/09/2025–05/09/2025"


@pytest.fixture
def school_with_counts(school):
    with store.opened(school) as db:
        outcome = import_bytes(db, COUNTS.encode(), "summary.csv", "officer")
        assert outcome.status == "imported", [p.message for p in outcome.problems]
        brown = db.execute("SELECT id FROM pupils WHERE upn = ?", (upn(2),)).fetchone()[0]
    return brown


def test_below_90_marks_the_pupil_whose_figures_rest_on_counts_with_their_dates(school_with_counts):
    app = screen("viewer", "below_90")
    table = app.dataframe[0].value.set_index("Pupil")
    assert table.loc["Brown, Bella", "Attendance %"] == 86.7
    assert table.loc["Brown, Bella", "From counts"] == PERIOD_TEXT
    assert table.loc["Ahmed, Amir", "From counts"] == ""
    assert "From counts" in list(app.dataframe[0].proto.column_order)
    assert any("1 of these pupils' figures rest partly on summary counts" in c.value
               and "patterns are not available" in c.value for c in app.caption)


def test_below_90_has_no_counts_column_when_nobody_has_counts(school):
    app = screen("viewer", "below_90")
    assert "From counts" not in list(app.dataframe[0].proto.column_order)
    assert "summary counts" not in all_text(app)


def test_the_overview_says_how_many_pupils_rest_on_counts_and_for_which_dates(school_with_counts):
    app = screen("officer", "overview")
    assert any("1 pupil's figures rest partly on summary counts, for " + PERIOD_TEXT in c.value for c in app.caption)


def test_the_pupil_page_says_its_figures_include_counts_and_patterns_stop_there(school_with_counts):
    app = screen("officer", "pupil", pupil_id=school_with_counts)
    assert [m.value for m in app.metric][:1] == ["86.7%"]
    note = " ".join(i.value for i in app.info)
    assert f"Figures include summary counts** for {PERIOD_TEXT} (10 possible sessions)" in note
    assert "patterns are not available for those dates" in note


def test_a_pupil_with_only_counts_is_listed_and_their_page_draws(school):
    """A pupil with no marks at all, only counts before the marks begin (6 of 10 sessions)."""
    with store.opened(school) as db:
        roll = "UPN,Surname,Forename,Year,Form\n" f"{upn(6)},Fox,Finn,8,8F\n"
        assert import_bytes(db, roll.encode(), "roll.csv", "officer").status == "imported"
        counts = ("UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
                  f"{upn(6)},01/09/2025,05/09/2025,10,6,2,2\n")
        assert import_bytes(db, counts.encode(), "summary.csv", "officer").status == "imported"
        fox = db.execute("SELECT id FROM pupils WHERE upn = ?", (upn(6),)).fetchone()[0]
    table = screen("viewer", "below_90").dataframe[0].value.set_index("Pupil")
    assert (table.loc["Fox, Finn", "Attendance %"], table.loc["Fox, Finn", "From counts"]) == (60.0, PERIOD_TEXT)
    app = screen("officer", "pupil", pupil_id=fox)
    assert not app.exception
    assert [m.value for m in app.metric][:1] == ["60.0%"]
    assert any("No marks stored for this pupil" in i.value for i in app.info)
    patterns = screen("viewer", "patterns")
    assert not patterns.exception
    assert any("1 of these pupils' figures rest partly on summary counts" in c.value for c in patterns.caption)


def test_counts_left_out_for_overlapping_marks_are_listed_under_data_quality_and_on_the_pupils_page(school):
    with store.opened(school) as db:
        counts = ("UPN,From,To,Possible,Present,Authorised,Unauthorised\n"
                  f"{upn(2)},22/09/2025,26/09/2025,10,10,0,0\n")
        assert import_bytes(db, counts.encode(), "summary.csv", "officer").status == "imported"
        marks = "UPN,Date,Session,Mark\n" f"{upn(2)},22/09/2025,AM,N\n"  # the register for those dates arrives later
        assert import_bytes(db, marks.encode(), "marks.csv", "officer").status == "imported"
        brown = db.execute("SELECT id FROM pupils WHERE upn = ?", (upn(2),)).fetchone()[0]
    app = screen("officer", "data_quality", dq_check="counts_not_used")
    table = app.dataframe[0].value
    assert table[["Pupil", "Counts for", "Possible sessions"]].values.tolist() == [
        ["Brown, Bella", "22/09/2025–26/09/2025", 10]]
    assert table["Not used because"].iloc[0].startswith("the store holds marks for this pupil")
    page = screen("officer", "pupil", pupil_id=brown)
    assert any("Summary counts for 22/09/2025–26/09/2025 (10 possible sessions) are not in these figures: the store "
               "holds marks" in c.value for c in page.caption)
    assert [m.value for m in page.metric][:1] == ["95.2%"]  # 20 of 21 sessions: the marks only


def test_the_below_90_download_carries_the_counts_dates_only_when_someone_has_counts(school, downloads):
    screen("viewer", "below_90")
    assert "From counts" not in downloads[0].decode("utf-8-sig").splitlines()[0]
    with store.opened(school) as db:
        assert import_bytes(db, COUNTS.encode(), "summary.csv", "officer").status == "imported"
    downloads.clear()
    screen("viewer", "below_90")
    rows = list(csv.DictReader(io.StringIO(downloads[0].decode("utf-8-sig"))))
    assert {row["Pupil"]: row["From counts"] for row in rows}["Brown, Bella"] == PERIOD_TEXT
