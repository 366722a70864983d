"""Benchmark: the PA list (`pastoral pupils`) for 2,000 pupils × a full year (~760,000 marks).

Builds a synthetic school in a temporary store through the normal importer, then times
the figures each screen and the CLI need, printing each beside its target (DESIGN.md).
Run: .venv/bin/python bench/bench_pupils.py [--pupils 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import metrics, store, triggers  # noqa: E402
from core.importers import import_file  # noqa: E402
from core.importers.values import upn_check_letter  # noqa: E402

CODES = np.array(["/", "\\", "L", "I", "M", "N", "O", "G", "U", "C", "V", "X", ""])
WEIGHTS = np.array([0.45, 0.45, 0.02, 0.035, 0.005, 0.008, 0.007, 0.006, 0.002, 0.002, 0.004, 0.003, 0.001])


def school_days(year: int) -> list[date]:
    """Weekdays of an academic year less holidays (~190 days)."""
    holidays = [(date(year, 10, 27), date(year, 10, 31)), (date(year, 12, 20), date(year + 1, 1, 4)),
                (date(year + 1, 2, 16), date(year + 1, 2, 20)), (date(year + 1, 3, 30), date(year + 1, 4, 10)),
                (date(year + 1, 5, 25), date(year + 1, 5, 29))]
    day, end, days = date(year, 9, 3), date(year + 1, 7, 21), []
    while day <= end:
        if day.weekday() < 5 and not any(a <= day <= b for a, b in holidays):
            days.append(day)
        day += timedelta(days=1)
    return days


def build(folder: Path, pupils: int, year: int = 2025) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    digits = [f"999000026{i:03d}"[-12:] if i < 1000 else f"99900002{i:04d}" for i in range(pupils)]
    upns = [upn_check_letter(d) + d for d in digits]
    years = rng.integers(1, 14, pupils)
    roll = pd.DataFrame({
        "upn": upns, "adno": [f"{i:06d}" for i in range(pupils)], "surname": [f"Surname{i}" for i in range(pupils)],
        "forename": "Pat", "dob": [f"{year - y - 5}-12-01" for y in years], "gender": "F",
        "year_group": years.astype(str), "form": [f"{y}A" for y in years],
        "pp": "N", "fsm": "N", "sen": "N", "eal": "N", "cla": "N"})
    roll_path = folder / "roll.csv"
    roll.to_csv(roll_path, index=False)
    days = school_days(year)
    n = pupils * len(days) * 2
    marks = pd.DataFrame({
        "upn": np.repeat(upns, len(days) * 2),
        "date": np.tile(np.repeat([d.isoformat() for d in days], 2), pupils),
        "session": np.tile(["AM", "PM"], pupils * len(days)),
        "mark": CODES[rng.choice(len(CODES), n, p=WEIGHTS / WEIGHTS.sum())],
    })
    marks_path = folder / "marks.csv"
    marks.to_csv(marks_path, index=False)
    return roll_path, marks_path


def timed(label: str, target: str, work):
    start, clock = time.perf_counter(), time.process_time()
    result = work()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - clock
    print(f"  {label:<52} {elapsed:7.3f} s  (CPU {cpu:6.3f} s)   target {target}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        roll_path, marks_path = build(folder, args.pupils)
        db_path = folder / "bench.db"
        db = store.connect(db_path)
        import_file(db, roll_path, "bench")
        print(f"{args.pupils} pupils, full year:")
        outcome = timed("import the year's long marks CSV", "≤ 3 s", lambda: import_file(db, marks_path, "bench"))
        print(f"  ({outcome.marks_added:,} marks, status {outcome.status})")
        timed("pandas read_csv of the same file (for comparison)", "—", lambda: pd.read_csv(marks_path, dtype=str))
        db.conn.close()

        def cold_pupils():
            with store.opened(db_path) as fresh:
                period = metrics.default_period(fresh)
                return metrics.pupil_figures(fresh, period)

        figures = timed("PA list (pupil figures), cold connection", "≤ 0.3 s", cold_pupils)
        print(f"  ({len(figures):,} pupils, {int(figures['persistently_absent'].sum())} persistently absent)")
        timed("summary from those figures", "—", lambda: metrics.summary(figures))
        with store.opened(db_path) as fresh:
            timed("statutory triggers, whole school", "—", lambda: triggers.reached(fresh))
        # Every pupil also has summary counts for the days before the marks begin (1-2 September):
        # the figures add them (core/summary_counts.py), one indexed probe of the marks per count.
        counts_path = folder / "counts.csv"
        pd.DataFrame({"UPN": figures["upn"], "From": "2025-09-01", "To": "2025-09-02", "Possible": 4, "Present": 3,
                      "Authorised": 1, "Unauthorised": 0}).to_csv(counts_path, index=False)
        with store.opened(db_path) as fresh:
            counted = import_file(fresh, counts_path, "bench")
        with_counts = timed("PA list with every pupil on summary counts too", "≤ 0.3 s", cold_pupils)
        print(f"  ({counted.status}: {counted.counts_added:,} counts; "
              f"{int((with_counts['counted_sessions'] > 0).sum()):,} pupils' figures rest partly on them)")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core.cli", "--db", str(db_path), "pupils"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"  {'`pastoral pupils` end to end (incl. Python start-up)':<52} {time.perf_counter() - start:7.3f} s"
              f"{' ' * 17}   target —")
        print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
