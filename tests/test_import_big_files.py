"""Importer: a file too big to read — a zip bomb, a workbook whose two cells are billions of
cells apart, a CSV of blank lines — is refused while it is streamed, before anything is
parsed, in little memory; an upload is read once to be checked."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import importers, store
from core.importers import sheets
from tests import big_files
from tests.conftest import copy_store, examples, make_upn, marks_csv

ROOT = Path(__file__).resolve().parent.parent


def test_a_workbook_with_two_cells_far_apart_is_refused_for_its_size(db, tmp_path):
    path = big_files.far_apart(tmp_path / "far.xlsx", row=5000, column="ZZ")  # 5,000 x 702 = 3.5 million cells
    store.set_setting(db, "max_upload_mb", 10, "admin")  # 1 million cells

    outcome = importers.import_file(db, path, "officer")

    assert outcome.status == importers.REJECTED
    assert "5,000 rows by 702 columns" in outcome.problems[0].message
    assert "1,000,000 cells" in outcome.problems[0].message


def test_the_cell_limit_follows_the_upload_limit(db, tmp_path):
    path = big_files.far_apart(tmp_path / "far.xlsx", row=5000, column="ZZ")
    store.set_setting(db, "max_upload_mb", 50, "admin")  # 5 million cells: this one is read

    outcome = importers.import_file(db, path, "officer", dry_run=True)

    assert not any("cells" in p.message for p in outcome.problems)


def test_a_zip_bomb_is_refused_however_small_its_archive_says_it_unpacks(db, tmp_path):
    path = big_files.understate_sizes(big_files.zip_bomb(tmp_path / "bomb.xlsx", rows=40))  # 655,000 cells
    store.set_setting(db, "max_upload_mb", 1, "admin")  # 100,000 cells, 8 MB unpacked

    outcome = importers.import_file(db, path, "officer")

    assert outcome.status == importers.REJECTED
    assert "100,000 cells" in outcome.problems[0].message
    assert db.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 0


def test_a_workbook_that_unpacks_past_the_limit_is_refused(tmp_path):
    path = big_files.write_workbook(tmp_path / "strings.xlsx", [["upn"], [make_upn(1)]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:  # 20 MB of shared strings, in 20 KB
        archive.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>a</t></si>" * 1_200_000 + "</sst>")
    big_files.understate_sizes(path)

    with pytest.raises(sheets.UnreadableFile, match="unpacks to more than"):
        sheets.open_sheet(path.read_bytes(), "strings.xlsx", limit_mb=1)  # 8 MB unpacked at most


def test_a_cell_longer_than_excel_allows_is_refused(tmp_path):
    path = big_files.write_workbook(tmp_path / "long.xlsx", [["upn", "name"], [make_upn(1), "x" * 300_000]])

    with pytest.raises(sheets.UnreadableFile, match="32,767 characters"):
        sheets.open_sheet(path.read_bytes(), "long.xlsx")


def test_a_workbook_within_the_limits_is_read_as_before(tmp_path):
    rows = [["upn", "date", "session", "mark"]] + [[make_upn(i), "2025-09-08", "AM", "/"] for i in range(1, 51)]
    numbered = big_files.write_workbook(tmp_path / "numbered.xlsx", rows)
    plain = big_files.write_workbook(tmp_path / "plain.xlsx", rows, numbered=False)

    for path in (numbered, plain):
        cells = sheets.open_sheet(path.read_bytes(), path.name, limit_mb=0.01).cells  # 1,000 cells: 204 here
        assert cells.shape == (51, 4)
        assert cells.loc[51].tolist() == [make_upn(50), "2025-09-08", "AM", "/"]


def test_a_csv_of_blank_lines_is_refused_before_it_is_parsed(db):
    store.set_setting(db, "max_upload_mb", 1, "admin")

    outcome = importers.import_bytes(db, b"upn,date,session,mark\n" + b"\n" * 200_000, "blank.csv", "officer")

    assert outcome.status == importers.REJECTED
    assert "has 200,001 lines" in outcome.problems[0].message
    assert "100,000 cells" in outcome.problems[0].message


def test_a_csv_wider_than_the_limit_allows_is_refused(db):
    store.set_setting(db, "max_upload_mb", 1, "admin")
    rows = "".join(f"{make_upn(1)},2025-09-08,AM,/\n" for _ in range(30_000))

    outcome = importers.import_bytes(db, ("upn,date,session,mark\n" + rows).encode(), "year.csv", "officer")

    assert outcome.status == importers.REJECTED
    assert "30,001 rows by 4 columns (120,004 cells)" in outcome.problems[0].message


def test_the_upload_check_reads_the_file_once(db, monkeypatch):
    opened = []
    real = sheets.open_sheet
    monkeypatch.setattr("core.importers.reading.open_sheet", lambda *a, **k: opened.append(a[1]) or real(*a, **k))
    content = marks_csv([(make_upn(1), "2025-09-08", "AM", "/"), (make_upn(1), "2025-09-08", "PM", "N")]).encode()

    found = importers.check_bytes(db, content, "week.csv", "officer")

    assert opened == ["week.csv"]
    assert found.detection.shape == "long_marks"
    assert found.read.rows == 2
    assert found.outcome.status == importers.IMPORTED and found.outcome.marks_added == 2
    assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0  # a dry run


def test_the_upload_check_of_an_unreadable_file_says_why(db):
    found = importers.check_bytes(db, b"%PDF-1.4 ...", "letter.csv", "officer")

    assert found.outcome.status == importers.REJECTED
    assert "PDF" in found.detection.message and "PDF" in found.outcome.problems[0].message


# --- in a process of its own: the memory a refusal takes -----------------------------

MEASURE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from core import store
    from core.importers import import_file
    db = store.connect(sys.argv[2])
    outcome = import_file(db, sys.argv[1], "officer", dry_run=True)
    peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM"))
    print(json.dumps({"status": outcome.status, "problem": outcome.problems[0].message if outcome.problems else "",
                      "peak_mb": peak / 1024}))
""")


def _import_in_own_process(path: Path, store_path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(store_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]  # a calamine abort (SIGABRT) ends the process
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_a_workbook_spanning_all_of_excel_is_refused_without_ending_the_process(tmp_path, migrated_store):
    path = big_files.far_apart(tmp_path / "far.xlsx")  # A1 and XFD1048576: 17 billion cells

    result = _import_in_own_process(path, copy_store(migrated_store, tmp_path / "store.db"))

    assert result["status"] == importers.REJECTED
    assert "1,048,576 rows by 16,384 columns" in result["problem"]
    assert result["peak_mb"] < 500


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_a_zip_bomb_is_refused_in_under_500_mb(tmp_path, migrated_store):
    path = big_files.understate_sizes(big_files.zip_bomb(tmp_path / "bomb.xlsx", rows=400))  # 6.5 million cells

    result = _import_in_own_process(path, copy_store(migrated_store, tmp_path / "store.db"))

    assert result["status"] == importers.REJECTED
    assert "cells" in result["problem"]
    assert result["peak_mb"] < 500


# The scan counts unprefixed tags by byte searches: the same counts as its patterns.
_TOKENS = [b"<row>", b"</row>", b'<row r="7">', b'<row\tr="12" spans="1 4">', b"<row/>", b'<row r="3"/>', b"<c>",
           b"</c>", b'<c r="B2">', b'<c\nr="$AA$10" t="s">', b"<c/>", b'<c r="C3"/>', b"<v>1</v>", b"<cx>", b"<cols>",
           b"<covered-table-cell/>", b"<table-cell>", b"<rowx>", b"<c\x0b>", b"<row\x0c>", b" ", b"<is><t>a</t></is>"]


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=40))
def test_the_scan_counts_unprefixed_tags_as_its_patterns_do(tokens):
    data = b"".join(tokens)

    assert sheets._tags(data, sheets._CELL_NAMES) == len(sheets._CELL.findall(data))
    assert sheets._tags(data, sheets._ROW_NAMES) == len(sheets._ROW_START.findall(data))
    assert sheets._spaced(data, b"c") or not sheets._CELL_REF.findall(data)  # a reference only where one can be
    assert sheets._spaced(data, b"row") or not sheets._ROW_REF.findall(data)
    if not sheets._SELF_CLOSED_ROW.search(data) and b"table-row" not in data:
        assert data.split(b"</row>") == sheets._ROW_END.split(data)
