"""Load the generated demo school into a store the way a school would: roll, then weekly exports.

Each weekly export is written as it would have been on the Friday it was taken: some
absences still `N` (no reason yet). The next week's export covers that week again with
the reasons filled in, so the store records corrections (N → I after a parent rang)
exactly as it does for a real school.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from core import auth, store
from core import marks as marks_table
from core.importers import REJECTED, import_file

DEMO_USER = "demo"
# Absence codes a parent's call typically resolves; first recorded as N.
RESOLVED_LATER = ("I", "M", "O", "G", "R", "C")


def load_demo(
    db: sqlite_utils.Database,
    seed: int = 1,
    academic_year: int = 2025,
    until: date | None = None,
    size: float = 1.0,
    export_to: Path | None = None,
) -> str:
    """Generate the demo school and import it week by week; returns a report for people."""
    from data.demo_school import DEFAULT_SECTIONS, generate

    if marks_table.mark_date_range(db) is not None:
        return "The database already holds register data; the demo school was not loaded. Use `make demo` to start again."
    if real_school(db):
        return ("This database was set up for a real school (`pastoral init`); the demo school was not loaded, so "
                "no demo logins were added to it. Give the demo a database of its own: pastoral --db var/demo.db demo")
    school = generate(seed=seed, academic_year=academic_year, until=until, size=size)
    store.set_setting(db, "school_name", school.name, DEMO_USER)
    # A made-up address and a number from Ofcom's drama range (01632 960xxx), so the demo's
    # letters look like a school's.
    store.set_setting(db, "school_address", "Riverside Lane\nExampletown\nEX1 2MP", DEMO_USER)
    store.set_setting(db, "school_phone", "01632 960000", DEMO_USER)
    store.set_setting(db, "sections", {s.name: list(s.year_groups) for s in DEFAULT_SECTIONS}, DEMO_USER)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(export_to or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        files = write_weekly_exports(school, folder, seed)
        outcomes = [import_file(db, path, DEMO_USER) for path in files]
    rejected = [o for o in outcomes if o.status == REJECTED]
    if rejected:
        problems = "; ".join(p.message for p in rejected[0].problems[:3])
        raise RuntimeError(f"The demo export {rejected[0].file} was rejected: {problems}")

    logins = create_logins(db)
    from data.demo_cases import add_case_work

    actions = add_case_work(db, seed, today=min(date.today(), marks_table.mark_date_range(db)[1]))
    first, last = marks_table.mark_date_range(db)
    changed = sum(o.marks_changed for o in outcomes)
    lines = [
        f"Demo school loaded: {school.name}",
        f"  {len(school.roll)} pupils, {len(school.marks):,} sessions from {first:%d/%m/%Y} to {last:%d/%m/%Y}",
        f"  {len(outcomes)} uploads (the roll and one register export a week); {changed:,} marks corrected on later uploads",
        f"  {actions} actions recorded by the pastoral team, with their contacts and check-ins",
    ]
    if export_to:
        lines.append(f"  exports written to {export_to}")
    return "\n".join(lines + ["", logins_text(logins)])


def current_autumn(today: date, until: date | None = None) -> tuple[int, date | None]:
    """The demo's academic year and last date of marks as of `today`: this autumn term up to
    today while it runs, the whole of it once it has ended, last year's before it starts."""
    from data.demo_school import term_dates

    year = today.year if today.month >= 9 else today.year - 1
    term = term_dates(year)
    if today < term.start:
        return year - 1, until
    return year, until or (today if today < term.end else None)


def write_weekly_exports(school, folder: Path, seed: int) -> list[Path]:
    """The roll, then one marks CSV per school week as exported on its Friday."""
    rng = np.random.default_rng(seed + 7)
    roll_path = folder / "roll.csv"
    school.roll.to_csv(roll_path, index=False)
    files = [roll_path]
    marks = school.marks
    dates = pd.to_datetime(marks["date"])
    previous = None
    for number, (monday, friday) in enumerate(school.register_weeks, start=1):
        this_week = (dates >= pd.Timestamp(monday)) & (dates <= pd.Timestamp(friday))
        week = marks[this_week]
        if week.empty:
            continue
        # As first exported: some absences not yet explained.
        unexplained = week["mark"].isin(RESOLVED_LATER) & (rng.random(len(week)) < 0.35)
        as_exported = week.assign(mark=week["mark"].where(~unexplained, "N"))
        # The export overlaps the week before, now with the reasons filled in.
        export = as_exported if previous is None else pd.concat([previous, as_exported])
        path = folder / f"marks_week_{number:02d}_{monday.isoformat()}.csv"
        export.to_csv(path, index=False)
        files.append(path)
        previous = week
    return files


def create_logins(db: sqlite_utils.Database) -> list[tuple]:
    """Demo logins, one per role (username, password, role, sections)."""
    return auth.create_demo_users(db)


def existing_logins(db: sqlite_utils.Database) -> list[tuple]:
    """The demo logins that still work in this store, for `make run` to print."""
    return auth.demo_logins_in(db)


def real_school(db: sqlite_utils.Database) -> bool:
    """Whether this store belongs to a real school — set up by `pastoral init`, or with logins other
    than the demo's — so the demo (and its published passwords) is never loaded into it."""
    if db.execute("SELECT 1 FROM audit WHERE action = 'school.init' LIMIT 1").fetchone():
        return True
    demo_usernames = [username for username, *_ in auth.DEMO_LOGINS]
    placeholders = ", ".join("?" * len(demo_usernames))
    return db.execute(f"SELECT 1 FROM users WHERE username NOT IN ({placeholders}) LIMIT 1",
                      demo_usernames).fetchone() is not None


NO_DEMO_LOGINS = ("No demo logins work in this database: it is not the demo school, or their passwords were changed.\n"
                  "Sign in with a login your administrator gave you; `pastoral users list` shows who can sign in and "
                  "`pastoral users add` adds someone.")


def logins_text(logins: list[tuple]) -> str:
    if not logins:
        return NO_DEMO_LOGINS
    lines = ["Demo logins (username / password — role):"]
    for username, password, role, *sections in logins:
        scope = f" ({', '.join(sections[0])})" if sections and sections[0] else ""
        lines.append(f"  {username} / {password} — {role}{scope}")
    return "\n".join(lines)
