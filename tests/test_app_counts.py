"""The screens say which pupils' figures rest on summary counts (core/summary_counts.py):
Below 90%, the Overview and the pupil's page, with the counts' dates, and that patterns are
not available for those dates."""

from __future__ import annotations

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
