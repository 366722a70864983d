"""The demo school loads through the importer, week by week, as a school's uploads would."""

from __future__ import annotations

import contextlib
import io
from datetime import date
from pathlib import Path

import pytest

from core import auth, metrics, store, triggers
from core import marks as marks_table
from core.cli import main
from data.demo import current_autumn, load_demo
from tests.conftest import copy_store


# The module's tests run on one worker, so the demo school below is generated once.
pytestmark = pytest.mark.xdist_group("demo_load")


@pytest.fixture(scope="module")
def demo_command(tmp_path_factory) -> tuple[int, str, Path]:
    """`pastoral --db <file> demo` for the small demo school (seed 3, 2025/26), run once for the
    module: its exit code, what it printed, and the store it filled (a test reads its own copy)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--db", str(path), "demo", "--seed", "3", "--year", "2025", "--size", "0.1"])
    return code, printed.getvalue(), path


@pytest.fixture(scope="module")
def loaded(demo_command) -> Path:
    """The small demo school, loaded once for the module (a test reads its own copy)."""
    code, printed, path = demo_command
    assert code == 0, printed
    return path


@pytest.fixture
def demo(loaded, tmp_path):
    with store.opened(copy_store(loaded, tmp_path / "demo.db")) as db:
        yield db


def test_the_demo_school_loads_week_by_week_with_corrections(demo):
    db = demo
    imports = db.execute("SELECT COUNT(*), SUM(marks_changed) FROM imports").fetchone()
    assert imports[0] >= 10  # the roll and one export per school week
    assert imports[1] > 0  # later exports resolve earlier N marks
    assert db.execute("SELECT COUNT(*) FROM mark_changes WHERE old_code = 'N'").fetchone()[0] == imports[1]


def test_the_demo_school_shows_every_statutory_trigger(demo):
    assert set(triggers.reached(demo)["trigger"]) == {t.id for t in triggers.TRIGGERS}


def test_the_demo_school_has_persistent_and_severe_absence_and_missing_marks(demo):
    headline = metrics.summary(metrics.pupil_figures(demo, metrics.default_period(demo)))
    compulsory = headline["compulsory_school_age"]
    assert 0 < compulsory["persistent_absentees"] < compulsory["pupils"]
    assert headline["all"]["severe_absentees"] > 0
    assert headline["all"]["missing_marks"] > 0
    assert headline["all"]["pupils"] > compulsory["pupils"]  # nursery and sixth form


def test_loading_the_demo_twice_leaves_the_first_in_place(demo):
    marks = demo.execute("SELECT COUNT(*) FROM marks").fetchone()[0]
    assert "already holds" in load_demo(demo, seed=3, size=0.1)
    assert demo.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == marks


def test_pastoral_demo_fills_the_database_named_by_db(demo_command):
    # The module's demo school is this command's (without --year: the test further down).
    code, printed, db_path = demo_command
    assert code == 0
    assert "Demo school loaded" in printed
    with store.opened(db_path) as db:
        assert store.get_settings(db)["school_name"] == "Riverside All-Through Academy"


def test_pastoral_demo_logins_prints_the_logins_that_still_work(db, db_path, capsys, monkeypatch):
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)
    auth.create_demo_users(db)
    auth.update_user(db, "viewer", by="test", active=False)
    assert main(["--db", str(db_path), "demo", "--logins"]) == 0
    printed = capsys.readouterr().out
    assert "officer / officer-demo-1 — attendance_officer" in printed
    assert "secondary / secondary-demo-1 — head_of_section (Secondary)" in printed
    assert "viewer /" not in printed


def test_pastoral_demo_logins_on_a_store_without_them_says_so_and_how_to_sign_in(db, db_path, capsys):
    assert main(["--db", str(db_path), "demo", "--logins"]) == 0
    printed = capsys.readouterr().out
    assert "No demo logins work in this database" in printed
    assert "pastoral users list" in printed and "pastoral users add" in printed


def test_the_demo_is_never_loaded_into_a_real_schools_store(db_path, capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct-horse-9\n"))
    assert main(["--db", str(db_path), "init", "--school", "Hillside", "--admin", "head"]) == 0
    capsys.readouterr()
    assert main(["--db", str(db_path), "demo", "--size", "0.1"]) == 0
    assert "set up for a real school" in capsys.readouterr().out
    with store.opened(db_path) as real:
        assert [u.username for u in auth.list_users(real)] == ["head"]
        assert store.get_settings(real)["school_name"] == "Hillside"
        assert real.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0


def test_the_demo_school_has_a_calling_list_for_its_last_session_and_siblings_to_confirm(demo):
    from core import families, first_day

    on, session = first_day.latest_session(demo)
    assert first_day.call_list(demo, on, session).still_to_call > 0
    assert len(families.links(demo)) > 0 and len(families.suggestions(demo)) > 0


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 12, 1), (2026, date(2026, 12, 1))),   # during the autumn term: up to today
    (date(2027, 1, 10), (2026, None)),                # the term has ended: all of it
    (date(2026, 8, 20), (2025, None)),                # the summer holiday: last autumn
    (date(2026, 9, 1), (2025, None)),                 # before the first day of term
])
def test_the_demo_is_this_autumn_term_up_to_today(today, expected):
    assert current_autumn(today) == expected


def test_pastoral_demo_without_a_year_shows_the_data_as_at_today_during_term(db_path, monkeypatch, capsys):
    monkeypatch.setattr("data.demo.current_autumn", lambda today, until=None: (2025, date(2025, 10, 8)))
    assert main(["--db", str(db_path), "demo", "--size", "0.05"]) == 0
    with store.opened(db_path) as db:
        assert marks_table.mark_date_range(db)[1] == date(2025, 10, 8)
