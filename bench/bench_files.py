"""Benchmark: the memory it takes to read — or refuse — a big or hostile upload.

Builds, in a temporary folder: a 1.3 MB "zip bomb" XLSX (one sheet of 44 million identical
cells), the same with its archive claiming tiny sizes, a 1 KB XLSX with two cells 17
billion cells apart (A1 and XFD1048576), an XLSX with as many rows as Excel allows
(1,048,575 under the header), and a normal full year's long CSV (1,500 pupils). Each is
read in a fresh Python process on a fresh store, both as `pastoral import` does
(`import_file`, dry run) and as the upload screen's check does (`check_bytes`), and the
process's peak memory (VmHWM) is printed beside the target, with its memory after the
read is done with (VmRSS once the result is dropped) beside its memory before.

Targets (issue 14, item 7): a refused file ≤ 500 MB peak; memory handed back afterwards
(after ≤ before + 100 MB). Timings on a shared machine are not the point here.

Run: .venv/bin/python bench/bench_files.py [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFUSED_PEAK_MB = 500
KEPT_AFTER_MB = 100

CHILD = textwrap.dedent("""
    import gc, json, sys, time
    from pathlib import Path
    def status(key):
        return next(int(l.split()[1]) / 1024 for l in Path("/proc/self/status").read_text().splitlines()
                    if l.startswith(key + ":"))
    from core import store, importers
    mode, path, db_path = sys.argv[1:4]
    db = store.connect(db_path)
    before = status("VmRSS")
    start, clock = time.perf_counter(), time.process_time()
    if mode == "cli":
        outcome = importers.import_file(db, path, "bench", dry_run=True)
    else:
        found = importers.check_bytes(db, Path(path).read_bytes(), Path(path).name, "bench")
        outcome = found.outcome
        del found
    seconds, cpu = time.perf_counter() - start, time.process_time() - clock
    result = {"status": outcome.status, "rows": outcome.rows,
              "problem": next((p.message for p in outcome.problems if p.severity == "error"), "")}
    del outcome
    importers.give_back_memory()
    print(json.dumps({**result, "before_mb": before, "peak_mb": status("VmHWM"), "after_mb": status("VmRSS"),
                      "seconds": seconds, "cpu_seconds": cpu}))
""")


def build(folder: Path) -> dict[str, Path]:
    from tests import big_files

    return {
        "zip bomb (1.3 MB, 44 M cells)": big_files.zip_bomb(folder / "bomb.xlsx"),
        "zip bomb, sizes understated": big_files.understate_sizes(big_files.zip_bomb(folder / "bomb_forged.xlsx")),
        "two cells A1 and XFD1048576": big_files.far_apart(folder / "far.xlsx"),
        "1,048,575-row XLSX": big_files.max_rows_workbook(folder / "max_rows.xlsx"),
        "full-year CSV (1,500 pupils)": big_files.year_csv(folder / "year.csv"),
    }


def measure(mode: str, path: Path, folder: Path) -> dict:
    from core import store

    db_path = folder / f"store_{mode}_{path.stem}.db"
    db_path.unlink(missing_ok=True)
    store.connect(db_path).conn.close()
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(db_path)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"status": f"process died ({done.returncode})", "problem": done.stderr[-300:], "peak_mb": float("nan"),
                "before_mb": float("nan"), "after_mb": float("nan"), "cpu_seconds": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="measure only the files whose name contains this")
    parser.add_argument("--folder", type=Path, help="build (or reuse) the files here rather than in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.folder or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        files = build(folder)
        print(f"built the files in {time.perf_counter() - start:.0f} s: "
              + ", ".join(f"{p.name} {p.stat().st_size / 1024 / 1024:.1f} MB" for p in files.values()))
        print(f"{'file':32} {'read as':7} {'outcome':9} {'peak MB':>8} {'target':>7} {'before':>7} {'after':>7} "
              f"{'CPU s':>6}  refusal")
        for name, path in files.items():
            if args.only and args.only not in name:
                continue
            for mode in ("cli", "upload"):
                r = measure(mode, path, folder)
                refused = r["status"] == "rejected"
                target = f"≤{REFUSED_PEAK_MB}" if refused else "-"
                ok = "" if not refused or r["peak_mb"] <= REFUSED_PEAK_MB else "  OVER TARGET"
                kept = "" if r["after_mb"] - r["before_mb"] <= KEPT_AFTER_MB else "  memory kept"
                print(f"{name:32} {mode:7} {r['status']:9} {r['peak_mb']:8.0f} {target:>7} {r['before_mb']:7.0f} "
                      f"{r['after_mb']:7.0f} {r['cpu_seconds']:6.1f}  {r['problem'][:90]}{ok}{kept}", flush=True)


if __name__ == "__main__":
    main()
