"""Two pupils and the staff who do case work, shared by the case-work tests (test_cases,
test_intervention_types, test_penalty_notices, test_chronology, test_impact)."""

from __future__ import annotations

from datetime import date

import pytest

from core import auth, cases
from tests.conftest import filled_once, make_upn, roll_csv

OFFICER = auth.Viewer("officer", "attendance_officer")
LEAD = auth.Viewer("dsl", "pastoral_lead")
ADMIN = auth.Viewer("admin", "admin")
HEAD = auth.Viewer("hos", "head_of_section", ("Secondary",))
VIEWER = auth.Viewer("governor", "viewer")


@pytest.fixture
@filled_once
def pupils(db, load):
    """Pupil 1 in Year 7 (Secondary), pupil 2 in Year 3 (Primary)."""
    load("roll.csv", roll_csv({}, {"year_group": "3", "form": "3A", "dob": "2018-01-10"}))
    return {upn: pid for upn, pid in db.execute("SELECT upn, id FROM pupils")}


def first(pupils):
    return pupils[make_upn(1)]


def second(pupils):
    return pupils[make_upn(2)]


def visit(db, pupil_id, opened=date(2025, 10, 1), viewer=OFFICER, **fields):
    return cases.open_intervention(db, viewer, pupil_id, "Home visit", viewer.username, opened, **fields)
