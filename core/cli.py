"""The `pastoral` command: a stable contract other tools script against (DESIGN.md).

JSON output is for machines (ISO dates, unrounded percentages); text is for people.
Exit codes: 0 success, 1 a file was rejected (import) or the database cannot be used
(`init` on a store that already holds a school), 2 a usage error.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import sqlite3
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from core import auth, early_warning, metrics, schools, store, triggers
from core.calendar import uk_date

PUPIL_JSON_FIELDS = [
    "upn", "surname", "forename", "year_group", "form", "section",
    *metrics.PUPIL_FIGURE_COLUMNS,
]
CLI_USER = "cli"


class UsageError(Exception):
    pass


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD, e.g. 2026-09-07") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pastoral", description="School attendance by the DfE's rules.")
    parser.add_argument("--db", type=Path, help="database file (default: $PASTORAL_DB, else var/pastoral.db)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    importing = commands.add_parser("import", help="import register exports and pupil rolls")
    importing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    importing.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    importing.add_argument("--format", choices=["text", "json"], default="text")
    importing.add_argument("--accept-dates", action="store_true",
                           help="import marks dated after today, on weekends or on the school calendar's non-school "
                                "days (held otherwise: the file is refused)")
    importing.add_argument("--user", default=CLI_USER, help="who is importing (for the audit log)")
    importing.add_argument("--as-given", action="store_true",
                           help="import the files in the order given (default: rolls first, then marks oldest first)")
    importing.add_argument("--overwrite-corrections", action="store_true",
                           help="apply marks even where a later upload corrected them (default: keep the corrections)")
    _school_argument(importing, "the school the files are from, when they do not say (a trust's store)")

    pupils = commands.add_parser("pupils", help="each pupil's attendance figures")
    _period_arguments(pupils)
    pupils.add_argument("--only", choices=["persistent", "severe"], help="only persistently (severely) absent pupils")
    pupils.add_argument("--format", choices=["json", "csv", "text"], default="json")
    _school_argument(pupils, "only this school's pupils (a trust's store; default: every school)")

    summary = commands.add_parser("summary", help="the school's headline figures")
    _period_arguments(summary)
    summary.add_argument("--format", choices=["json", "text"], default="json")
    _school_argument(summary, "only this school's pupils (a trust's store; default: every school)")

    reached = commands.add_parser("triggers", help="statutory triggers reached this academic year")
    reached.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD")
    reached.add_argument("--format", choices=["json", "text"], default="json")
    _school_argument(reached, "only this school's pupils (a trust's store; default: every school)")

    demo = commands.add_parser("demo", help="fill the database with a generated demo school")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--year", type=int, help="start year of the academic year (2025 = 2025/26; default: this "
                      "autumn term up to today, or the last autumn term once it has ended)")
    demo.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="last date of marks (default: today, "
                      "or the end of the autumn term)")
    demo.add_argument("--size", type=float, default=1.0, help="pupils as a multiple of ~1,300 (default 1.0)")
    demo.add_argument("--export", type=Path, metavar="DIR", help="also write the generated CSV exports to DIR")
    demo.add_argument("--logins", action="store_true", help="only print the demo logins")
    _school_argument(demo, "refused: the demo fills a new store of its own with one school, never one school of a "
                           "trust's store")

    init = commands.add_parser("init", help="set up a new, empty store for a real school with its first administrator")
    init.add_argument("--school", required=True, help="the school's name, as letters and reports show it")
    init.add_argument("--admin", required=True, metavar="USERNAME", help="the first administrator's username")
    init.add_argument("--name", help="the administrator's name as colleagues know them (default: the username)")
    init.add_argument("--email", default="")
    init.add_argument("--user", default=CLI_USER, help="who is doing this (for the audit log)")

    _schools_parser(commands)
    _users_parser(commands)

    backup = commands.add_parser("backup", help="copy the database to a new file (safe while the app runs)")
    backup.add_argument("destination", type=Path, metavar="FILE")
    restore = commands.add_parser("restore", help="replace the database's contents with a backup")
    restore.add_argument("source", type=Path, metavar="FILE")
    purge = commands.add_parser("purge", help="remove leavers' data kept past the retention period")
    purge.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    purge.add_argument("--today", type=iso_date, default=None, metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    for command in (backup, restore, purge):
        command.add_argument("--user", default=CLI_USER, help="who is doing this (for the audit log)")
    for command in (backup, restore):
        _school_argument(command, "refused: a backup is of the whole store, every school, so that restoring it "
                                  "brings back everything together")
    _school_argument(purge, "only this school's leavers (a trust's store; default: every school)")
    return parser


def _school_argument(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--school", metavar="SCHOOL", help=f"{text}: its number, name or DfE number (LLL/EEEE)")


def _schools_parser(commands) -> None:
    """`pastoral schools list|add`: a trust's schools (issue 18), JSON on stdout."""
    group = commands.add_parser("schools", help="a trust's schools: list, add, edit; move a pupil between them")
    actions = group.add_subparsers(dest="schools_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=["json", "text"], default="json")
    common.add_argument("--user", default=CLI_USER, help="who is making the change (for the audit log)")
    actions.add_parser("list", parents=[common], help="every school: number, name, URN, DfE number, hub")
    adding = actions.add_parser("add", parents=[common], help="add a school to the store")
    adding.add_argument("--name", required=True, help="the school's name, as screens and reports show it")
    adding.add_argument("--dfe", default="", metavar="LLL/EEEE",
                        help="its DfE number (local authority code and establishment number), to route imports")
    adding.add_argument("--urn", default="", help="its unique reference number (6 or 7 digits)")
    adding.add_argument("--hub", default="", help="the trust's hub (group of schools) it belongs to")
    editing = actions.add_parser("edit", parents=[common], help="change a school's name, URN, DfE number or hub")
    editing.add_argument("school", metavar="SCHOOL", help="its number, name or DfE number")
    editing.add_argument("--name", help="its new name")
    editing.add_argument("--dfe", metavar="LLL/EEEE", help="its DfE number ('' to clear)")
    editing.add_argument("--urn", help="its URN ('' to clear)")
    editing.add_argument("--hub", help="its hub ('' for none)")
    moving = actions.add_parser("move-pupil", parents=[common],
                                help="move a pupil to another of the trust's schools (one record: their history "
                                     "goes with them)")
    moving.add_argument("upn", metavar="UPN")
    moving.add_argument("--to", required=True, metavar="SCHOOL", help="the school they move to")
    moving.add_argument("--on", type=iso_date, metavar="YYYY-MM-DD", help="the date of the move (default: today)")
    listed = actions.add_parser("moves", parents=[common], help="pupils who moved between the trust's schools")
    _school_argument(listed, "only moves into or out of this school")


def _period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD", help="default: the last date with marks")
    parser.add_argument("--from", dest="date_from", type=iso_date, metavar="YYYY-MM-DD",
                        help="default: 1 September of the academic year containing --as-of")


def _users_parser(commands) -> None:
    """`pastoral users ACTION`: who may sign in. Passwords are never arguments: they are asked
    for (without echo) at a terminal, else read as the first line of stdin."""
    users = commands.add_parser("users", help="manage who can sign in to the app")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=["json", "text"], default="json")
    common.add_argument("--user", default=CLI_USER, help="who is making the change (for the audit log)")
    roles = ", ".join(auth.ROLES)

    listing = actions.add_parser("list", parents=[common],
                                 help="every user, their role, sections and whether they may sign in; on a trust's "
                                      "store also their schools and hub")
    _school_argument(listing, "only the users named to this school or leading its hub (a trust's store)")
    adding = actions.add_parser("add", parents=[common], help="add a user (asks for their first password)")
    adding.add_argument("username")
    adding.add_argument("--name", required=True, help="the name colleagues know them by")
    adding.add_argument("--role", required=True, metavar="ROLE", help=f"one of {roles}")
    adding.add_argument("--section", action="append", default=[], help="a head of section's section (repeat for several)")
    adding.add_argument("--email", default="")
    adding.add_argument("--school", action="append", default=[],
                        help="the school they work in, on a trust's store (number, name or DfE number; repeat for several)")
    adding.add_argument("--hub", default="", help="a hub lead's hub")
    set_role = actions.add_parser("set-role", parents=[common], help="change a user's role")
    set_role.add_argument("username")
    set_role.add_argument("role", metavar="ROLE", help=f"one of {roles}")
    set_role.add_argument("--section", action="append", default=None, help="a head of section's section (repeat)")
    set_role.add_argument("--school", action="append", default=None,
                          help="the school they work in, on a trust's store (repeat for several)")
    set_role.add_argument("--hub", default=None, help="a hub lead's hub")
    set_schools = actions.add_parser("set-schools", parents=[common],
                                     help="change the schools a user works in (a trust's store)")
    set_schools.add_argument("username")
    set_schools.add_argument("--school", action="append", required=True,
                             help="a school they work in: number, name or DfE number (repeat for several)")
    set_sections = actions.add_parser("set-sections", parents=[common], help="change a head of section's sections")
    set_sections.add_argument("username")
    set_sections.add_argument("sections", nargs="+", metavar="SECTION")
    for action, text in (("disable", "stop a user signing in (kept for the audit log)"),
                         ("enable", "let a disabled user sign in again"),
                         ("reset-password", "set a new password (asked for) and unlock the account"),
                         ("unlock", "clear a lock after too many failed sign-ins"),
                         ("sign-out", "end every session of the user, on every browser (sign out everywhere)")):
        actions.add_parser(action, parents=[common], help=text).add_argument("username")


def read_password(username: str) -> str:
    """A new password for `username`: asked twice without echo at a terminal, else the first
    line of stdin. Never an argument (it would stay in the shell's history)."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(f"New password for {username}: ")
        if first != getpass.getpass("Type it again: "):
            raise UsageError("The two passwords differ; nothing was changed.")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init":  # before opening: init must not create or change a store it refuses
        return _reported(run_init, args)
    try:
        db = store.connect(args.db)
    except store.StoreError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 1
    try:
        return _reported(lambda given: COMMANDS[given.command](db, given), args)
    finally:
        db.conn.close()  # closing twice is harmless (restore closes it early)


def _reported(command, args) -> int:
    try:
        return command(args)
    except UsageError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 2
    except store.StoreError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 1


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _route_paths(db, args) -> tuple[dict[int, list[int]], dict[int, object]]:
    """Each file's school (schools.route): the one its DfE number names, else --school, else
    the only school → (school id → positions of its files, position → refusal outcome)."""
    from core.importers import REJECTED, FileOutcome, Problem

    by_school: dict[int, list[int]] = {}
    refused: dict[int, object] = {}
    for position, path in enumerate(map(Path, args.paths)):
        try:
            with open(path, "rb") as file:
                head = file.read(64 * 1024)
            head = head if len(head) < 64 * 1024 else head[:head.rfind(b"\n") + 1]
            school_id = schools.route(db, head, str(path.name), args.school).id
        except OSError:
            school_id = schools.FIRST_SCHOOL  # the importer says why it cannot be read
        except schools.SchoolError as error:
            refused[position] = FileOutcome(str(path), REJECTED, problems=[Problem(None, None, str(error))])
            continue
        by_school.setdefault(school_id, []).append(position)
    return by_school, refused


def run_import(db, args) -> int:
    from core import reads
    from core.importers import IMPORTED, REJECTED
    from core.importers.batch import import_paths

    def batch(paths):
        return import_paths(db, paths, args.user, dry_run=args.dry_run, as_given=args.as_given,
                            overwrite_corrections=args.overwrite_corrections, accept_dates=args.accept_dates)

    if schools.count(db) == 1 and not args.school:
        outcomes = batch(args.paths)
    else:  # a trust's store (issue 18): each school's files as a batch, into that school
        by_school, found = _route_paths(db, args)
        for school_id, positions in by_school.items():
            with schools.routed_to(db, school_id):
                found.update(zip(positions, batch([args.paths[i] for i in positions])))
        outcomes = [found[i] for i in range(len(args.paths))]
    if not args.dry_run and any(o.status == IMPORTED for o in outcomes):
        reads.keep_triggers(reads.path_of(db))  # a trust's store: the screens' first read of its triggers
    if args.format == "json":
        _emit(json.dumps({"files": [o.as_json() for o in outcomes]}, indent=2))
    else:
        for o in outcomes:
            verb = {"imported": "would import" if args.dry_run else "imported"}.get(o.status, o.status)
            span = f", {o.date_from} to {o.date_to}" if o.date_from else ""
            _emit(f"{o.file}: {verb} ({o.shape or 'unknown shape'}, {o.rows} rows, {o.pupils} pupils{span}; "
                  f"{o.marks_added} marks added, {o.marks_changed} changed)")
    for o in outcomes:
        for p in o.problems:
            where = ", ".join(x for x in (f"row {p.row}" if p.row else "", f"column {p.column}" if p.column else "") if x)
            if args.format == "text":
                print(f"{o.file}: {where + ': ' if where else ''}{p.as_json()['message']}", file=sys.stderr)
    return 1 if any(o.status == REJECTED for o in outcomes) else 0


def _school(db, args) -> schools.School | None:
    """The school --school names (None: not given); an unknown school is a usage error."""
    if not getattr(args, "school", None):
        return None
    try:
        return schools.require(db, args.school)
    except schools.SchoolError as error:
        raise UsageError(str(error)) from None


def _school_pupils(db, args) -> set[int] | None:
    """The pupil ids of --school (None: every school); an unknown school is a usage error."""
    school = _school(db, args)
    return None if school is None else set(schools.pupil_ids_of(db, [school.id]))


def _period(db, args) -> metrics.Period | None:
    period = metrics.default_period(db, args.as_of, args.date_from)
    if period and period.date_from > period.as_of:
        raise UsageError(f"--from {period.date_from} is after --as-of {period.as_of}.")
    return period


def pupil_rows(db, args, sessions_to_spare: bool = False) -> pd.DataFrame:
    """The pupils' figures; with `sessions_to_spare` (the JSON) also each pupil's sessions to
    spare before ending the year persistently absent (core/early_warning.py; null where the
    school calendar does not reach the end of the year)."""
    fields = PUPIL_JSON_FIELDS + (["sessions_to_spare"] if sessions_to_spare else [])
    period = _period(db, args)
    if period is None:
        return pd.DataFrame(columns=fields)
    only = _school_pupils(db, args)  # --school: only its pupils are read and counted
    everyone = metrics.pupil_figures(db, period, None if only is None else sorted(only))
    figures = everyone[everyone["possible_sessions"] > 0]
    if args.only == "persistent":
        figures = figures[figures["persistently_absent"]]
    elif args.only == "severe":
        figures = figures[figures["severely_absent"]]
    if sessions_to_spare:
        year = everyone if period == early_warning.year_to_date(period.as_of) else None  # the year's, read once
        spare = early_warning.spare_sessions(db, period.as_of, pupil_ids=None if only is None else sorted(only),
                                             figures=year).set_index("pupil_id")["sessions_to_spare"]
        figures = figures.assign(sessions_to_spare=figures["pupil_id"].map(spare).astype("Int64"))
    return figures[fields]


def _json_records(frame: pd.DataFrame) -> list[dict]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]


def _json_value(value) -> str:
    """One value as json.dumps writes it (after _json_records' conversion)."""
    value = value.item() if hasattr(value, "item") else value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.encoder.encode_basestring_ascii(value)
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    return json.dumps(value)


def _json_text(frame: pd.DataFrame) -> str:
    """`json.dumps(_json_records(frame), indent=1)`, the same text, built column by column
    (json's indenting encoder is pure Python: seconds for a trust's 50,000 pupils)."""
    if frame.empty:
        return json.dumps([], indent=1)
    objects = frame.astype(object).where(frame.notna(), None)
    columns = [[f"  {json.encoder.encode_basestring_ascii(str(name))}: {_json_value(v)}" for v in objects[name].tolist()]
               for name in objects.columns]
    return "[\n" + ",\n".join(" {\n" + ",\n".join(row) + "\n }" for row in zip(*columns)) + "\n]"


def run_pupils(db, args) -> int:
    rows = pupil_rows(db, args, sessions_to_spare=args.format == "json")
    if args.format == "json":
        _emit(_json_text(rows))
        return 0
    shown = rows.assign(attendance_pct=rows["attendance_pct"].round(1), absence_pct=rows["absence_pct"].round(1))
    if args.format == "csv":
        buffer = io.StringIO()
        shown.to_csv(buffer, index=False, float_format="%.1f", quoting=csv.QUOTE_MINIMAL)
        _emit(buffer.getvalue())
    else:
        _emit(_text_table(shown.assign(
            persistently_absent=shown["persistently_absent"].map({True: "PA", False: ""}),
            severely_absent=shown["severely_absent"].map({True: "SA", False: ""}),
        )) if len(shown) else "No pupils with possible sessions in this period.")
    return 0


def _text_table(frame: pd.DataFrame) -> str:
    text = frame.astype(str)
    widths = {c: max(len(c), text[c].str.len().max()) for c in text.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in text.columns)]
    lines += ["  ".join(v.ljust(widths[c]) for c, v in zip(text.columns, row)) for row in text.itertuples(index=False)]
    return "\n".join(lines)


def run_summary(db, args) -> int:
    period = _period(db, args)
    only = _school_pupils(db, args)
    figures = metrics.pupil_figures(db, period, None if only is None else sorted(only)) if period \
        else metrics.no_pupils()
    result = metrics.summary(figures)
    if args.format == "json":
        _emit(json.dumps(result, indent=2))
        return 0
    if period:
        _emit(f"Attendance from {uk_date(period.date_from)} to {uk_date(period.as_of)}")
    for name, group in (("All pupils", result["all"]), ("Compulsory school age", result["compulsory_school_age"])):
        def pct(v):
            return "—" if v is None else f"{v:.1f}%"
        _emit(
            f"{name}: {group['pupils']} pupils, {group['possible_sessions']} possible sessions\n"
            f"  overall absence {pct(group['overall_absence_pct'])} "
            f"(authorised {pct(group['authorised_absence_pct'])}, unauthorised {pct(group['unauthorised_absence_pct'])})\n"
            f"  persistent absence {group['persistent_absentees']} pupils ({pct(group['persistent_absence_pct'])}), "
            f"severe {group['severe_absentees']} ({pct(group['severe_absence_pct'])})\n"
            f"  missing marks {group['missing_marks']}"
        )
    return 0


def run_triggers(db, args) -> int:
    only = _school_pupils(db, args)  # --school: only its pupils' marks are read
    found = triggers.reached(db, args.as_of, None if only is None else sorted(only))
    records = [
        {"upn": r.upn, "trigger": r.trigger, "reached_on": r.reached_on.isoformat(), "detail": r.detail}
        for r in found.itertuples(index=False)
    ]
    if args.format == "json":
        _emit(json.dumps(records, indent=1))
    elif not records:
        _emit("No triggers reached.")
    else:
        _emit("\n".join(f"{uk_date(r.reached_on)}  {r.upn}  {triggers.BY_ID[r.trigger].label}: {r.detail}"
                        for r in found.itertuples(index=False)))
    return 0


def run_demo(db, args) -> int:
    from data import demo

    if args.school:
        raise UsageError("The demo fills a new, empty store with one made-up school; it never goes into one school "
                         "of a trust's store. Give it a database of its own: pastoral --db var/demo.db demo")
    if args.logins:
        _emit(demo.logins_text(demo.existing_logins(db)))
        return 0
    year, until = (args.year, args.until) if args.year is not None else demo.current_autumn(date.today(), args.until)
    _emit(demo.load_demo(db, seed=args.seed, academic_year=year, until=until, size=args.size, export_to=args.export))
    return 0


def existing_school(path: Path) -> str | None:
    """Why `init` must leave this file alone (what it already holds, and what to do instead), or
    None when it is absent or an empty Pastoral store (schema and nothing else). Reads the
    file without changing it."""
    elsewhere = "`pastoral init` changed nothing. Give init a new file with --db."
    if not path.exists():
        return None
    if path.is_dir():
        return f"{path} is a folder, not a database file; {elsewhere}"
    if path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return f"{path} cannot be read ({error}); {elsewhere}"
    try:
        tables = {name for name, in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        held = []
        for table, what in (("users", "user"), ("pupils", "pupil"), ("imports", "upload"), ("settings", "setting")):
            count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] if table in tables else 0
            if count:
                held.append(f"{count:,} {what}{'' if count == 1 else 's'}")
        if not {"users", "settings"} <= tables:
            return f"{path} is not a Pastoral database; {elsewhere}"
    except sqlite3.DatabaseError as error:
        return f"{path} is not a Pastoral database ({error}); {elsewhere}"
    finally:
        conn.close()
    if not held:
        return None
    return (f"{path} already holds a school ({', '.join(held)}); `pastoral init` changed nothing. Manage its "
            "logins with `pastoral users`, or give init a new file with --db.")


def run_init(args) -> int:
    """A new school: an empty store with its name and one administrator, all or nothing."""
    path = _db_path(args)
    found = existing_school(path)
    if found:
        raise store.StoreError(found)
    school = " ".join((args.school or "").split())
    if not school or len(school) > 200:
        raise UsageError("Give the school's name (up to 200 characters), e.g. --school \"Hillside Academy\".")
    username = auth.normalise_username(args.admin)
    name = " ".join((args.name or username).split())
    problem = auth.username_problem(username)
    if problem:
        raise UsageError(problem)
    password = read_password(username)
    problem = auth.password_problem(password)
    if problem:
        raise UsageError(f"{problem} Nothing was created.")
    db = store.connect(path)
    try:
        with store.transaction(db) as conn:
            store.set_setting(db, "school_name", school, args.user)
            admin = auth.add_user(db, username, name, password, auth.ADMIN, email=args.email, by=args.user)
            store.audit(conn, args.user, "school.init", "settings", "school_name",
                        {"school_name": school, "admin": admin.username})
    except auth.UserError as error:
        raise UsageError(f"{error} Nothing was created.") from None
    finally:
        db.conn.close()
    _emit(json.dumps({"database": str(path), "school_name": school, "admin": auth.as_json(admin)}, indent=2))
    return 0


def run_users(db, args) -> int:
    """`pastoral users list|add|set-role|set-sections|disable|enable|reset-password|unlock|sign-out`: JSON
    on stdout (`--format text` for people); a request that cannot be done exits 2, nothing changed."""
    action, by = args.users_command, args.user
    # A trust's store (issue 18): `users list` adds each user's schools and hub to the JSON, as
    # do set-schools and a set-role that names a school or hub; one school's store: as before.
    names = auth.school_names(db) if schools.count(db) > 1 else None
    try:
        if action == "list":
            users = auth.list_users(db)
            if args.school:
                users = _users_of_school(db, users, args.school)
            if args.format == "json":
                _emit(json.dumps([auth.as_json(u, names) for u in users], indent=1))
            elif not users:
                _emit("No users yet. Add one with: pastoral users add USERNAME --name NAME --role admin")
            else:
                _emit("\n".join(_user_line(u, names) for u in users))
            return 0
        if action == "add":
            auth.check_new_user(db, args.username, args.name, args.role, args.section)  # before asking a password
            user = auth.add_user(db, args.username, args.name, read_password(auth.normalise_username(args.username)),
                                 args.role, args.section, args.email, by, schools=args.school, hub=args.hub)
        elif action == "set-role":
            user = auth.update_user(db, args.username, by, role=args.role, sections=args.section,
                                    schools=args.school, hub=args.hub)
            if args.school is None and args.hub is None:
                names = None
        elif action == "set-schools":
            user = auth.update_user(db, args.username, by, schools=args.school)
            names = auth.school_names(db)
        elif action == "set-sections":
            current = auth.get_user(db, args.username)
            if current is not None and current.role != auth.HEAD_OF_SECTION:
                raise auth.UserError(f"Only a head of section has sections; {current.username} is a "
                                     f"{current.role_label.lower()} and sees every pupil. To change that: "
                                     f"pastoral users set-role {current.username} head_of_section --section SECTION")
            user = auth.update_user(db, args.username, by, sections=args.sections)
        elif action in ("disable", "enable"):
            user = auth.update_user(db, args.username, by, active=action == "enable")
        elif action == "reset-password":
            target = auth.get_user(db, args.username)
            if target is None:
                raise auth.UserError(f"There is no user '{auth.normalise_username(args.username)}'.")
            auth.set_password(db, target.username, read_password(target.username), by)
            user = auth.get_user(db, target.username)
        elif action == "unlock":
            auth.unlock(db, args.username, by)
            user = auth.get_user(db, args.username)
        elif action == "sign-out":
            auth.sign_out_everywhere(db, args.username, by)
            user = auth.get_user(db, args.username)
        else:  # argparse allows only the actions above
            raise UsageError(f"unknown users action '{action}'.")
        if action not in ("set-role", "set-schools"):
            names = None  # the other actions print a user as they always have
    except auth.UserError as error:
        raise UsageError(f"{error}") from None
    _emit(json.dumps(auth.as_json(user, names), indent=2) if args.format == "json" else _user_line(user, names))
    return 0


def _users_of_school(db, users: list[auth.User], key: str) -> list[auth.User]:
    """The users named to a school, or leading its hub."""
    try:
        school = schools.require(db, key)
    except schools.SchoolError as error:
        raise UsageError(str(error)) from None
    return [u for u in users if school.id in u.schools or (u.role == auth.HUB_LEAD and u.hub and u.hub == school.hub)]


def _user_line(user: auth.User, names: dict[int, str] | None = None) -> str:
    scope = f" — {', '.join(user.sections)}" if user.sections else ""
    where = f" — {auth.scope_text(user, names)}" if names is not None else ""
    flags = ("" if user.active else "  (disabled)") + ("  (locked)" if user.locked() else "")
    return f"{user.username:<16} {user.name:<24} {user.role_label}{scope}{where}{flags}"


WHOLE_STORE = ("{what} is of the whole store — every school's pupils, users and settings — so that {then}; it "
               "takes no --school. Nothing was done. For one school's figures use `pastoral pupils --school` or "
               "`pastoral summary --school`.")


def _no_school(args, what: str, then: str) -> None:
    if getattr(args, "school", None):
        raise UsageError(WHOLE_STORE.format(what=what, then=then))


def run_backup(db, args) -> int:
    from core import safekeeping

    _no_school(args, "A backup", "restoring it brings everything back together")
    path = safekeeping.backup(_db_path(args), args.destination, args.user)
    _emit(f"Backed up to {path}")
    return 0


def run_restore(db, args) -> int:
    from core import safekeeping

    _no_school(args, "A restore", "no school is left out of step with the others")
    db.conn.close()
    safekeeping.restore(_db_path(args), args.source, args.user)
    _emit(f"Restored from {args.source}")
    return 0


def run_purge(db, args) -> int:
    from core import safekeeping

    school = _school(db, args)
    removed = safekeeping.purge_leavers(db, args.today or date.today(), args.user, dry_run=args.dry_run,
                                        school_id=school.id if school else None)
    years = store.get_settings(db)["leaver_retention_years"]
    verb = "Would remove" if args.dry_run else "Removed"
    _emit(f"{verb} {removed['pupils']} leaver(s){f' of {school.name}' if school else ''} who left more than {years} years ago, "
          f"with {removed['marks']} marks and {sum(removed.values()) - removed['pupils'] - removed['marks']} other records.")
    return 0


def run_schools(db, args) -> int:
    """`pastoral schools list|add`: JSON on stdout (`--format text` for people); a request that
    cannot be done exits 2, nothing changed."""
    action = args.schools_command
    try:
        if action == "add":
            added = schools.add_school(db, args.name, args.dfe, args.urn, args.hub, by=args.user)
            _emit(json.dumps(added.as_json(), indent=2) if args.format == "json" else _school_line(added))
            return 0
        if action == "edit":
            edited = schools.edit_school(db, args.school, args.user, name=args.name, urn=args.urn, dfe=args.dfe,
                                         hub=args.hub)
            _emit(json.dumps(edited.as_json(), indent=2) if args.format == "json" else _school_line(edited))
            return 0
        if action == "move-pupil":
            moved = schools.move_pupil(db, args.upn, args.to, args.on, by=args.user)
            _emit(json.dumps(moved, indent=2) if args.format == "json" else
                  f"{moved['upn']}: " + schools.move_text(moved["from_school"]["name"], moved["to_school"]["name"],
                                                          date.fromisoformat(moved["moved_on"])))
            return 0
        if action == "moves":
            return _moves(db, args)
    except schools.SchoolError as error:
        raise UsageError(str(error)) from None
    listed = schools.list_schools(db)
    _emit(json.dumps([s.as_json() for s in listed], indent=1) if args.format == "json"
          else "\n".join(_school_line(s) for s in listed))
    return 0


def _moves(db, args) -> int:
    """`pastoral schools moves [--school S]`: each move, oldest first."""
    found = schools.moves(db)
    school = _school(db, args)
    if school is not None:
        found = found[(found["from_school_id"] == school.id) | (found["to_school_id"] == school.id)]
    upns = dict(db.execute("SELECT id, upn FROM pupils").fetchall())
    records = [{"upn": upns.get(int(m.pupil_id), ""), "from_school": int(m.from_school_id),
                "to_school": int(m.to_school_id), "moved_on": m.moved_on.isoformat(),
                "by_import": None if pd.isna(m.import_id) else int(m.import_id), "moved_by": m.moved_by}
               for m in found.itertuples(index=False)]
    if args.format == "json":
        _emit(json.dumps(records, indent=1))
    else:
        _emit("\n".join(f"{upns.get(int(m.pupil_id), '')}  " + schools.move_text(m.from_school, m.to_school, m.moved_on)
                        for m in found.itertuples(index=False)) or "No pupil has moved between the schools.")
    return 0


def _school_line(school: schools.School) -> str:
    extra = " · ".join(x for x in (school.dfe_number, f"URN {school.urn}" if school.urn else "",
                                   f"hub {school.hub}" if school.hub else "") if x)
    return f"{school.id:>3}  {school.name}" + (f"  ({extra})" if extra else "")


def _db_path(args) -> Path:
    return args.db or store.default_path()


COMMANDS = {
    "import": run_import,
    "pupils": run_pupils,
    "summary": run_summary,
    "triggers": run_triggers,
    "demo": run_demo,
    "users": run_users,
    "schools": run_schools,
    "backup": run_backup,
    "restore": run_restore,
    "purge": run_purge,
}


if __name__ == "__main__":
    sys.exit(main())
