"""Benchmark: importing a 1,500-pupil school's full year (~570,000 marks).

Generates, in a temporary folder, the school's roll, the year's register as one long
CSV, and the same year as one weekly XLSX grid per school week (SIMS-style: a row per
pupil, a column per dated session). Each import runs in a fresh Python process on a
fresh store (the roll already imported), so its time and peak memory are its own.
Every figure is printed beside its target (DESIGN.md) and beside the time pandas alone
takes to read the same file, so the importer's overhead shows as a ratio.

Run: .venv/bin/python bench/bench_import.py [--pupils 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def build(folder: Path, pupils: int, year: int = 2025, grids_too: bool = True) -> dict:
    """The roll, the long CSV and the weekly XLSX grids; returns their paths."""
    from openpyxl import Workbook

    from core.importers.values import upn_check_letter

    rng = np.random.default_rng(3)
    digits = [f"99900002{i:04d}" for i in range(pupils)]
    upns = [upn_check_letter(d) + d for d in digits]
    years = rng.integers(7, 12, pupils)
    roll = pd.DataFrame({
        "upn": upns, "adno": [f"{i:06d}" for i in range(pupils)], "surname": [f"Surname{i}" for i in range(pupils)],
        "forename": "Pat", "dob": [f"{year - y - 5}-12-01" for y in years], "gender": "F",
        "year_group": years.astype(str), "form": [f"{y}A" for y in years]})
    roll.to_csv(folder / "roll.csv", index=False)

    days = school_days(year)
    grid = CODES[rng.choice(len(CODES), (pupils, len(days) * 2), p=WEIGHTS / WEIGHTS.sum())]
    marks = pd.DataFrame({
        "upn": np.repeat(upns, len(days) * 2),
        "date": np.tile(np.repeat([d.isoformat() for d in days], 2), pupils),
        "session": np.tile(["AM", "PM"], pupils * len(days)),
        "mark": grid.ravel(),
    })
    marks.to_csv(folder / "year.csv", index=False)

    weeks: dict[date, list[int]] = {}
    for i, d in enumerate(days):
        weeks.setdefault(d - timedelta(days=d.weekday()), []).append(i)
    grids = []
    for number, (monday, indices) in enumerate(sorted(weeks.items()) if grids_too else (), start=1):
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Attendance Marks")
        sheet.append([f"Attendance marks, week beginning {monday:%d/%m/%Y}"])
        sheet.append([])
        sheet.append(["UPN", "Name", "Reg Group"]
                     + [f"{days[i]:%a %d/%m/%Y} {s}" for i in indices for s in ("AM", "PM")])
        columns = [c for i in indices for c in (2 * i, 2 * i + 1)]
        week = grid[:, columns]
        for p in range(pupils):
            sheet.append([upns[p], f"Surname{p}, Pat", roll.at[p, "form"], *week[p].tolist()])
        path = folder / f"week_{number:02d}.xlsx"
        book.save(path)
        grids.append(path)
    _sims_year(folder / "year_sims.xml", rng, pupils, days, grid)
    _ctf_year(folder / "year_ctf.xml", upns, roll, days, grid)
    roll.assign(person_id=[str(6000 + p) for p in range(pupils)]).rename(columns={"person_id": "Person ID"}).to_csv(
        folder / "roll_sims.csv", index=False)
    return {"roll": folder / "roll.csv", "year": folder / "year.csv", "grids": grids,
            "sims": folder / "year_sims.xml", "ctf": folder / "year_ctf.xml", "roll_sims": folder / "roll_sims.csv",
            "marks": len(marks), "days": len(days)}


def _sims_year(path: Path, rng, pupils: int, days: list[date], grid: np.ndarray) -> None:
    """The same year as SIMS partner-API session attendance XML (iso-8859-1, one
    SessionAttendance per session, keyed by SIMS's Person ID), as SIMS indents it."""
    with open(path, "w", encoding="iso-8859-1") as out:
        out.write('<?xml version="1.0" encoding="iso-8859-1" standalone="yes"?>\n<SessionAttendances>\n')
        for p in range(pupils):
            person = 6000 + p
            out.write("".join(
                f"  <SessionAttendance>\n    <PersonID>{person}</PersonID>\n    <BaseGroupID>0</BaseGroupID>\n"
                f"    <AttendanceDate>{day.isoformat()}T{('09', '13')[s]}:00:00</AttendanceDate>\n"
                f"    <SessionName>{('AM', 'PM')[s]}</SessionName>\n    <AttendanceMark>{grid[p, 2 * d + s] or '-'}"
                f"</AttendanceMark>\n    <MinsLate>{12 if grid[p, 2 * d + s] == 'L' else 0}</MinsLate>\n"
                "    <Comments />\n  </SessionAttendance>\n"
                for d, day in enumerate(days) for s in (0, 1)))
        out.write("</SessionAttendances>\n")


def _ctf_year(path: Path, upns: list[str], roll: pd.DataFrame, days: list[date], grid: np.ndarray) -> None:
    """The same year as a DfE Common Transfer File: per pupil, AttendSessions with the start
    date and one character per session ('#' on weekends and holidays)."""
    first, last = days[0], days[-1]
    position = {day: i for i, day in enumerate(days)}
    calendar = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<CTfile><Header><DocumentName>Common Transfer File'
                  "</DocumentName><CTFversion>26.0</CTFversion></Header><CTFpupilData>\n")
        for p, upn in enumerate(upns):
            marks = "".join((grid[p, 2 * position[d]] or " ") + (grid[p, 2 * position[d] + 1] or " ")
                            if d in position else "##" for d in calendar)
            out.write(f"<Pupil><UPN>{upn}</UPN><Surname>{roll.at[p, 'surname']}</Surname><Forename>Pat</Forename>"
                      f"<DOB>{roll.at[p, 'dob']}</DOB><Gender>F</Gender><Attendance><YearData><Year>{first.year}</Year>"
                      f"<AttendSessions><AttendanceStartDate>{first.isoformat()}</AttendanceStartDate>"
                      f"<AttendanceMarks>{marks}</AttendanceMarks></AttendSessions></YearData></Attendance></Pupil>\n")
        out.write("</CTFpupilData></CTfile>\n")


# --- measuring in a fresh process -----------------------------------------------------


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec; ru_maxrss (the
    fallback off Linux) can carry over the parent's peak from before the fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(db_path: str, roll: str, files: list[str]) -> dict:
    """Import the roll, then time each file's import; report times and this process's peak memory."""
    from core import store
    from core.importers import import_file

    db = store.connect(db_path)
    store.set_setting(db, "max_upload_mb", 500, "bench")  # a year of SIMS XML is ~160 MB
    import_file(db, roll, "bench")
    before = peak_memory_mb()
    times, cpu, outcomes = [], [], []
    for path in files:
        start, clock = time.perf_counter(), time.process_time()
        outcome = import_file(db, path, "bench")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
        outcomes.append((outcome.status, outcome.marks_added, outcome.marks_changed))
    peak = peak_memory_mb()
    db.conn.close()
    return {"times": times, "cpu": cpu, "outcomes": outcomes, "peak_mb": peak, "before_mb": before}


def measure_in_child(folder: Path, name: str, roll: Path, files: list[Path]) -> dict:
    db_path = folder / f"{name}.db"
    command = [sys.executable, __file__, "--measure", str(db_path), str(roll), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pandas_read_time(read, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        read(path)
    return time.perf_counter() - start


def line(label: str, seconds: float, target: str, pandas_seconds: float | None = None, cpu: float | None = None) -> None:
    ratio = f"   pandas alone {pandas_seconds:6.3f} s  (×{seconds / pandas_seconds:4.1f})" if pandas_seconds else ""
    cpu_text = f"  (CPU {cpu:6.3f} s)" if cpu is not None else " " * 17
    print(f"  {label:<44} {seconds:7.3f} s{cpu_text}   target {target:<8}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--xml-only", action="store_true", help="only the long CSV, SIMS XML and CTF year imports")
    args = parser.parse_args()
    if args.measure:
        db_path, roll, *files = args.measure
        print(json.dumps(measure(db_path, roll, files)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        start = time.perf_counter()
        built = build(folder, args.pupils, grids_too=not args.xml_only)
        print(f"{args.pupils:,} pupils, {built['days']} school days, {built['marks']:,} marks, "
              f"{len(built['grids'])} weekly grids (generated in {time.perf_counter() - start:.0f} s)")

        read_csv = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
        read_xlsx = lambda p: pd.read_excel(p, engine="calamine", header=None, dtype=object)  # noqa: E731

        long = measure_in_child(folder, "long", built["roll"], [built["year"]])
        status, added, _ = long["outcomes"][0]
        line("full year, long CSV", long["times"][0], "≤ 3 s", pandas_read_time(read_csv, [built["year"]]), long["cpu"][0])
        print(f"  {'  peak memory of the importing process':<44} {long['peak_mb']:7.0f} MB  target ≤ 500 MB"
              f"   (Python, pandas and the store open before it: {long['before_mb']:.0f} MB)")
        print(f"  {'  ' + status + ',':<44} {added:,} marks added")

        for label, key, roll in (("full year, SIMS session XML", "sims", built["roll_sims"]),
                                 ("full year, CTF AttendSessions XML", "ctf", built["roll"])):
            other = measure_in_child(folder, key, roll, [built[key]])
            status, added, _ = other["outcomes"][0]
            size = built[key].stat().st_size / 1e6
            print(f"  {label:<44} {other['times'][0]:7.3f} s  (CPU {other['cpu'][0]:6.3f} s)   target ≤ 2× long CSV"
                  f"   (×{other['times'][0] / long['times'][0]:4.2f}, CPU ×{other['cpu'][0] / long['cpu'][0]:4.2f};"
                  f" {size:.0f} MB; {status}, {added:,} marks; peak {other['peak_mb']:.0f} MB)")

        if args.xml_only:
            print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
            return
        again = measure_in_child(folder, "again", built["roll"], [built["year"], built["year"]])
        line("the same year imported again (unchanged)", again["times"][1], "—", cpu=again["cpu"][1])

        grids = measure_in_child(folder, "grids", built["roll"], built["grids"])
        per_week = grids["times"]
        added = sum(o[1] for o in grids["outcomes"])
        cpu = grids["cpu"]
        line(f"full year, {len(per_week)} weekly XLSX grids", sum(per_week), "≤ 15 s",
             pandas_read_time(read_xlsx, built["grids"]), sum(cpu))
        one_week = pandas_read_time(read_xlsx, [built["grids"][-1]])
        line("  one week's XLSX grid (median)", statistics.median(per_week), "≤ 0.5 s", one_week, statistics.median(cpu))
        line("  one week's XLSX grid (slowest)", max(per_week), "≤ 0.5 s", one_week, max(cpu))
        print(f"  {'  peak memory of the importing process':<44} {grids['peak_mb']:7.0f} MB"
              f"   ({added:,} marks added)")
        print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
