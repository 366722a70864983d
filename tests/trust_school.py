"""Two schools of one trust in one store, for the scoping tests (issue 18).

School 1 is the test school of tests/app_school.py ("Test Academy": Ahmed, Brown, Clarke,
Dunn, Evans), imported before the store knew of schools. School 2, "Second Primary" (DfE
number 999/4002, hub North), is added after, and its three pupils come in by CLI import
routed to it: Fenton (a CTF-like roll naming nothing, with --school) and the marks file,
whose DfE number column routes it.

| pupil           | school | year | marks (two weeks)  | so                      |
|-----------------|--------|------|--------------------|-------------------------|
| Fenton, Faye    | 2      | 4    | 4 O a week         | 60% — below 90%         |
| Gray, Gus       | 2      | 8    | all present        | 100%                    |
| Hughes, Hana    | 2      | 5    | 2 N a week         | 80%                     |

Logins: the demo logins of school 1 (admin, officer, pastoral, secondary, viewer), plus
`officer2` (attendance officer at school 2), `secondary2` (head of section at school 2,
Secondary), `lead` (trust lead), `north` (hub lead of hub North).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import auth, cli, schools, store
from tests.app_school import WEEK_1, WEEK_2, copied_school, make_school, the_apps_store
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows

SECOND = "Second Primary"
SECOND_DFE = "999/4002"
SECOND_PUPILS = [
    {"surname": "Fenton", "forename": "Faye", "year_group": "4", "form": "4F"},
    {"surname": "Gray", "forename": "Gus", "year_group": "8", "form": "8G"},
    {"surname": "Hughes", "forename": "Hana", "year_group": "5", "form": "5H"},
]
SECOND_UPNS = [make_upn(n) for n in (101, 102, 103)]
FIRST_SURNAMES = ("Ahmed", "Brown", "Clarke", "Dunn", "Evans")
SECOND_SURNAMES = ("Fenton", "Gray", "Hughes")
PASSWORD = "trust-test-pw-1"


def second_roll() -> str:
    return roll_csv(*[{**p, "upn": u} for p, u in zip(SECOND_PUPILS, SECOND_UPNS)])


def second_marks() -> str:
    """The two weeks' marks of school 2, with a DfE number column naming it."""
    patterns = ["OOOO......", "..........", "NN........"]
    rows = week_rows(WEEK_1, patterns) + week_rows(WEEK_2, patterns)
    ours = {make_upn(n): upn for n, upn in enumerate(SECOND_UPNS, start=1)}
    rows = [(ours[upn], *rest) for upn, *rest in rows]
    lines = marks_csv(rows).splitlines()
    return "\n".join([lines[0] + ",DfE number", *(line + f",{SECOND_DFE}" for line in lines[1:])]) + "\n"


def make_trust(db_path: Path, exports: Path) -> None:
    make_school(db_path, exports)
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "second_roll.csv").write_text(second_roll() + "\n", encoding="utf-8")
    (exports / "second_marks.csv").write_text(second_marks(), encoding="utf-8")
    with store.opened(db_path) as db:
        schools.add_school(db, SECOND, SECOND_DFE, "140002", "North", by="test")
        auth.add_user(db, "officer2", "Oona Officer", PASSWORD, auth.ATTENDANCE_OFFICER, schools=[2], by="test")
        auth.add_user(db, "secondary2", "Sid Second", PASSWORD, auth.HEAD_OF_SECTION, ("Secondary",), schools=[2],
                      by="test")
        auth.add_user(db, "lead", "Lee Lead", PASSWORD, auth.TRUST_LEAD, by="test")
        auth.add_user(db, "north", "Nia North", PASSWORD, auth.HUB_LEAD, hub="North", by="test")
    assert cli.main(["--db", str(db_path), "import", "--school", SECOND, str(exports / "second_roll.csv")]) == 0
    assert cli.main(["--db", str(db_path), "import", str(exports / "second_marks.csv")]) == 0


@pytest.fixture
def trust_store(tmp_path, monkeypatch, quick_hashes) -> Path:
    """The two schools in a fresh store named by PASTORAL_DB; returns the database path."""
    return the_apps_store(copied_school("trust", make_trust, tmp_path), monkeypatch)
