"""The suite's `filled_once` fixtures: a later test gets what the first one's fixture left,
without the fixture running again (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from core import store
from core.importers import import_file
from tests.conftest import copy_store, filled_once, roll_csv


class Request:
    """What a fixture's `request` gives `filled_once`: the test's store and folder."""

    def __init__(self, db, folder: Path):
        self.fixtures = {"db": db, "tmp_path": folder}

    def getfixturevalue(self, name: str):
        return self.fixtures[name]


def test_a_later_test_gets_the_same_store_files_and_value_without_the_fixture_running(migrated_store, tmp_path):
    runs = []

    def roll(db, folder: Path):
        runs.append("ran")
        (folder / "roll.csv").write_text(roll_csv({}, {"surname": "Nowak"}) + "\n", encoding="utf-8")
        outcome = import_file(db, folder / "roll.csv", "test")
        return {"status": outcome.status, "ids": [r[0] for r in db.execute("SELECT id FROM pupils ORDER BY id")]}

    once = filled_once(roll)
    given = []
    for test in ("first", "second"):
        folder = tmp_path / test
        folder.mkdir()
        db = store.connect(copy_store(migrated_store, folder / "school.db"))
        given.append((once(db, folder, request=Request(db, folder)), db, folder))

    assert runs == ["ran"]
    (first, _, _), (second, db, folder) = given
    assert second == first == {"status": "imported", "ids": [1, 2]}
    assert second is not first  # a copy: a test changing it changes only its own
    assert [r[0] for r in db.execute("SELECT surname FROM pupils ORDER BY id")] == ["Surname1", "Nowak"]
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 1
    assert (folder / "roll.csv").read_text(encoding="utf-8").startswith("upn,")
    db.conn.close()
    with store.opened(folder / "school.db") as other:  # in the file, for any connection
        assert other.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 2
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_that_starts_differently_runs_the_fixture_again(migrated_store, tmp_path):
    runs = []

    def named(db, folder: Path):
        runs.append(db.execute("SELECT COUNT(*) FROM settings").fetchone()[0])
        return db

    once = filled_once(named)
    for test, school_name in (("plain", None), ("named", "Elm Park")):
        folder = tmp_path / test
        folder.mkdir()
        db = store.connect(copy_store(migrated_store, folder / "school.db"))
        if school_name:
            store.set_setting(db, "school_name", school_name, "test")
        assert once(db, folder, request=Request(db, folder)) is db  # the test's own store, as it returned
        db.conn.close()
    assert len(runs) == 2
