"""Fixtures shared by the whole suite: a fresh store per test and tiny exports built in the test."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import streamlit as st
from streamlit.components.v2 import manifest_scanner
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import app_test, local_script_runner

from core import store
from core.importers import import_file
from core.importers.values import upn_check_letter

# The tests' stores and files go in memory (/dev/shm) where it has room and TMPDIR names no
# other place: a test's store is written and closed many times, and on a busy disk each
# close waits for its sync (~50 ms against ~15 ms). pytest's temporary folders follow
# (basetemp, kept for the last three runs as usual), as do the servers and browsers the
# browser tests start. Set before pytest makes its base folder, on the controller and workers.
_IN_MEMORY = Path("/dev/shm")
if ("TMPDIR" not in os.environ and _IN_MEMORY.is_dir() and os.access(_IN_MEMORY, os.W_OK)
        and shutil.disk_usage(_IN_MEMORY).free > 2 * 1024 ** 3):
    os.environ["TMPDIR"] = str(_IN_MEMORY)
    tempfile.tempdir = str(_IN_MEMORY)

# AppTest scans every installed package for Streamlit components whenever it builds an app
# (~0.4 s a test); the installed packages don't change during a run, so they are scanned once.
_scan_once = functools.lru_cache(maxsize=1)(manifest_scanner.scan_component_manifests)
manifest_scanner.scan_component_manifests = lambda max_workers=None: list(_scan_once())


def _wait_for_the_run(runner, timeout: float = 3) -> None:
    """AppTest's wait for a script run, as a join on the script's thread: Streamlit's own wakes
    every millisecond to look (taking the interpreter from the running script each time,
    ~3% of the suite). The same outcome: back when the run has finished, and after `timeout`
    seconds the run stopped and the same error raised."""
    thread = runner._script_thread
    if thread is None:
        return _streamlit_wait(runner, timeout)
    thread.join(timeout)
    if runner.script_stopped():
        return
    runner.request_stop()
    runner.join()
    raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")


_streamlit_wait = local_script_runner.require_widgets_deltas
local_script_runner.require_widgets_deltas = _wait_for_the_run

# AppTest gives every run a new script cache, so app.py and the screen's file are compiled
# again on each run (~5 ms a run; the server keeps one cache for its life). The files don't
# change during a test run, so every run shares one, as the server's runs do.
_SCRIPTS = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _SCRIPTS


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a store. A closed store (no write-ahead log beside it: SQLite folds the log
    into the file when its last connection closes) is copied as a file, a store still open
    by SQLite's backup (so nothing still in the write-ahead log is lost)."""
    import shutil
    import sqlite3

    source = Path(source)
    if not Path(f"{source}-wal").exists():
        shutil.copyfile(source, target)
        return target
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        reading.close()
        writing.close()
    return target


ROLL_HEADER = "upn,adno,surname,forename,dob,gender,year_group,form,pp,fsm,sen,eal,cla"


# `make fuzz` runs the property tests with this many times their usual examples.
FUZZ_FACTOR = int(os.environ.get("PASTORAL_FUZZ_FACTOR", "1"))


def examples(usual: int) -> int:
    """How many examples a property test tries: `usual` in the everyday suite, many more
    under `make fuzz`."""
    return usual * FUZZ_FACTOR


def make_upn(serial: int) -> str:
    """A valid synthetic UPN (local authority 999, so never a real child's)."""
    digits = f"999000026{serial:03d}"
    return upn_check_letter(digits) + digits


# pytest's base temporary folder of this run (removed with it, three runs on), for what is
# made once per test process outside a fixture (tests/app_school.py's template schools).
RUN_FOLDER: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def run_folder(tmp_path_factory) -> Path:
    RUN_FOLDER[:] = [tmp_path_factory.getbasetemp()]
    return RUN_FOLDER[0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "school.db"


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """An empty store with every migration run, made once per test process (each test copies it)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    store.connect(path).conn.close()
    return path


@pytest.fixture
def db(db_path: Path, migrated_store: Path):
    """A fresh, fully migrated, empty store for the test: a copy of the session's template."""
    database = store.connect(copy_store(migrated_store, db_path))
    yield database
    database.conn.close()


# What each `filled_once` fixture left, by (fixture, its parameter, the store it started from).
_FILLED: dict[tuple, tuple] = {}


def filled_once(fixture):
    """Decorate a fixture that fills the test's store (`db`) the same way for every test, so
    that it runs once per test process: the first test gets it run; each later test starting
    from the same store gets a copy of what it left — the store (by SQLite's backup), the
    files it wrote in the test's folder, and (copied) what it returned, `db` itself as `db`.

    Only for a fixture whose work depends on nothing but the store and its parameter (no
    monkeypatching, no clock read by the test): the same imports of the same files, say."""
    import copy
    import functools
    import hashlib
    import inspect
    import sqlite3

    signature = inspect.signature(fixture)
    asks_for_request = "request" in signature.parameters
    if not asks_for_request:
        signature = signature.replace(parameters=[*signature.parameters.values(),
                                                  inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY)])

    @functools.wraps(fixture)
    def once(*args, **kwargs):
        request = kwargs["request"] if asks_for_request else kwargs.pop("request")
        database, folder = request.getfixturevalue("db"), request.getfixturevalue("tmp_path")
        key = (fixture.__module__, fixture.__qualname__, repr(getattr(request, "param", None)),
               hashlib.sha256(database.conn.serialize()).hexdigest())
        if key in _FILLED:
            saved, files, value = _FILLED[key]
            saved.backup(database.conn)
            for name, content in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(content)
            return database if value is _THE_DB else copy.deepcopy(value)
        before = {path for path in folder.rglob("*") if path.is_file()}
        value = fixture(*args, **kwargs)
        saved = sqlite3.connect(":memory:")
        database.conn.backup(saved)
        store_file = Path(database.conn.execute("PRAGMA database_list").fetchone()[2]).name  # and its -wal, -shm
        files = {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*")
                 if path.is_file() and path not in before and not path.name.startswith(store_file)}
        _FILLED[key] = (saved, files, _THE_DB if value is database else copy.deepcopy(value))
        return value

    once.__signature__ = signature
    return once


_THE_DB = object()


@pytest.fixture
def load(db, tmp_path: Path):
    """load(name, text) writes a CSV into the test's folder and imports it; returns the outcome."""

    def _load(name: str, text: str, user: str = "test"):
        path = tmp_path / name
        path.write_text(text.strip() + "\n", encoding="utf-8")
        return import_file(db, path, user)

    return _load


def roll_csv(*pupils: dict) -> str:
    """A pupil roll CSV; each pupil a dict overriding the defaults (a Year 7 pupil)."""
    lines = [ROLL_HEADER]
    for i, pupil in enumerate(pupils, start=1):
        row = {"upn": make_upn(i), "adno": f"{i:05d}", "surname": f"Surname{i}", "forename": f"Forename{i}",
               "dob": "2014-01-15", "gender": "F", "year_group": "7", "form": "7A",
               "pp": "N", "fsm": "N", "sen": "N", "eal": "N", "cla": "N", **pupil}
        lines.append(",".join(str(row[c]) for c in ROLL_HEADER.split(",")))
    return "\n".join(lines)


def marks_csv(rows: list[tuple]) -> str:
    """A long marks CSV from (upn, iso_date, session, mark[, minutes_late]) tuples."""
    lines = ["upn,date,session,mark,minutes_late"]
    for row in rows:
        upn, day, session, mark, *late = row
        lines.append(f"{upn},{day},{session},{mark},{late[0] if late else ''}")
    return "\n".join(lines)


def week_rows(monday, patterns: list[str]) -> list[tuple]:
    """Marks for one school week: pupil n (make_upn(n)) gets patterns[n-1], ten sessions from
    Monday AM to Friday PM, where '.' is present (/ or \\) and any other character is that mark."""
    from datetime import timedelta

    rows = []
    for number, pattern in enumerate(patterns, start=1):
        for slot, mark in enumerate(pattern):
            session = "AM" if slot % 2 == 0 else "PM"
            rows.append((make_upn(number), (monday + timedelta(days=slot // 2)).isoformat(), session,
                         ("/" if session == "AM" else "\\") if mark == "." else mark))
    return rows


@pytest.fixture
def downloads(monkeypatch):
    """The bytes of every download button drawn (a deferred download is made by calling it)."""
    made: list[bytes] = []
    original = DeltaGenerator.download_button

    def recording(self, label, data, *args, **kwargs):
        content = data() if callable(data) else data
        made.append(content.encode() if isinstance(content, str) else bytes(content or b""))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: recording(st._main, *a, **k))
    return made


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Make `--dist loadgroup` keep each xdist_group on one worker.

    pytest-xdist groups tests by a suffix it adds to their node ids ("...::test@group"), by
    assigning `item._nodeid`; pytest 9 keeps a node's id in `item._id`, so that suffix is lost
    and every group is spread over the workers (a module's fixtures built on each). The
    suffix is added here instead, as xdist would."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")
