"""Benchmark: each screen's first render and a filter change, with a full year of 1,500 pupils.

Builds the school of bench_pupils.py (a full academic year, ~570,000 marks) in a temporary
store through the importer, then drives the app in-process with AppTest as an administrator:
for each screen, the first render with every cache empty (cold: as after an upload, in a
server that has drawn each screen before), the same screen again (cached), and on Below
90% a filter change. Each is printed beside its target (issue 5:
first render ≤ 1.5 s; filter changes instant).
Run: .venv/bin/python bench/bench_screens.py [--pupils 1500]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench_pupils import build  # noqa: E402
from app_pages.ui import access  # noqa: E402
from core import auth, menu, reads, sessions, store  # noqa: E402
from core.importers import import_file  # noqa: E402
from data.demo_cases import add_case_work  # noqa: E402

# Every screen an administrator of one school opens, in menu order (the Trust screen is a
# trust's: bench/bench_trust.py measures it).
SCREENS = {screen.title: screen.file for screen in menu.screens_for(auth.ADMIN)}
FIRST_RENDER_TARGET = 1.5
FILTER_TARGET = 0.3


def signed_in_app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    with store.opened(store.default_path()) as db:
        token = sessions.start(db, "admin")  # a live session in the store, as a sign-in leaves
    app.session_state[access.SESSION_KEY] = token
    app.session_state[access.USER_KEY] = "admin"
    app.session_state["authentication_status"] = True
    return app


def timed(action) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process — the page runs on a thread of it)."""
    start, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - start, time.process_time() - cpu


def line(what: str, seconds: tuple[float, float], target: float) -> str:
    wall, cpu = seconds
    verdict = "ok" if wall <= target else "SLOW"
    return f"  {what:<40} {wall:6.2f} s  (CPU {cpu:5.2f} s)   target ≤ {target:.1f} s  {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        db_path = folder / "school.db"
        started = time.perf_counter()
        roll, marks = build(folder, args.pupils)
        with store.opened(db_path) as db:
            auth.create_demo_users(db)
            for path in (roll, marks):
                outcome = import_file(db, path, "bench")
                if outcome.status == "rejected":
                    print(f"{path.name} was rejected: {outcome.problems[:3]}")
                    return 1
            marks_held = db.execute("SELECT COUNT(*) FROM marks").fetchone()[0]
            actions = add_case_work(db)  # what a pastoral team would have recorded, for the case-work columns
        print(f"{args.pupils:,} pupils, {marks_held:,} marks, {actions:,} actions "
              f"(built in {time.perf_counter() - started:.0f} s)")
        os.environ["PASTORAL_DB"] = str(db_path)
        os.environ["PASTORAL_SECRETS"] = str(folder / "secrets.toml")

        # The server has drawn every screen before (its modules are imported, as in a server
        # that has been running); each measurement then starts with every cache empty, as it
        # is after an upload.
        for page in SCREENS.values():
            app = signed_in_app()
            app.session_state["pupil_id"] = 1
            app.run()
            app.switch_page(page).run()
        slow = False
        for name, page in SCREENS.items():
            app = signed_in_app()
            app.session_state["pupil_id"] = 1  # the Pupil screen shows someone
            app.run()
            reads.clear()
            cold = timed(lambda: app.switch_page(page).run())
            warm = timed(lambda: app.run())
            if app.exception:
                print(f"  {name}: {app.exception[0].value}")
                return 1
            print(line(f"{name}: first render (cold caches)", cold, FIRST_RENDER_TARGET))
            print(line(f"{name}: again (cached)", warm, FIRST_RENDER_TARGET))
            slow |= cold[0] > FIRST_RENDER_TARGET
            if name == "Below 90%":
                change = timed(lambda: app.multiselect(key="f_year").set_value(["7"]).run())
                print(line("Below 90%: choose a year group", change, FILTER_TARGET))
                slow |= change[0] > FILTER_TARGET
        print("Some screens are slower than their targets." if slow else "Every screen meets its target.")
        print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
              "CPU seconds are the steadier figure on a busy machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
