"""The `pastoral` command: a stable contract other tools script against (DESIGN.md).

JSON output is for machines (ISO dates, unrounded percentages); text is for people.
Exit codes: 0 success, 1 a file was rejected (import) or the database cannot be used,
2 a usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from core import metrics, store, triggers
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
    importing.add_argument("--user", default=CLI_USER, help="who is importing (for the audit log)")

    pupils = commands.add_parser("pupils", help="each pupil's attendance figures")
    _period_arguments(pupils)
    pupils.add_argument("--only", choices=["persistent", "severe"], help="only persistently (severely) absent pupils")
    pupils.add_argument("--format", choices=["json", "csv", "text"], default="json")

    summary = commands.add_parser("summary", help="the school's headline figures")
    _period_arguments(summary)
    summary.add_argument("--format", choices=["json", "text"], default="json")

    reached = commands.add_parser("triggers", help="statutory triggers reached this academic year")
    reached.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD")
    reached.add_argument("--format", choices=["json", "text"], default="json")

    demo = commands.add_parser("demo", help="fill the database with a generated demo school")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--year", type=int, help="start year of the academic year (2025 = 2025/26; default: this "
                      "autumn term up to today, or the last autumn term once it has ended)")
    demo.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="last date of marks (default: today, "
                      "or the end of the autumn term)")
    demo.add_argument("--size", type=float, default=1.0, help="pupils as a multiple of ~1,300 (default 1.0)")
    demo.add_argument("--export", type=Path, metavar="DIR", help="also write the generated CSV exports to DIR")
    demo.add_argument("--logins", action="store_true", help="only print the demo logins")

    backup = commands.add_parser("backup", help="copy the database to a new file (safe while the app runs)")
    backup.add_argument("destination", type=Path, metavar="FILE")
    restore = commands.add_parser("restore", help="replace the database's contents with a backup")
    restore.add_argument("source", type=Path, metavar="FILE")
    purge = commands.add_parser("purge", help="remove leavers' data kept past the retention period")
    purge.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    purge.add_argument("--today", type=iso_date, default=None, metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    for command in (backup, restore, purge):
        command.add_argument("--user", default=CLI_USER, help="who is doing this (for the audit log)")
    return parser


def _period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD", help="default: the last date with marks")
    parser.add_argument("--from", dest="date_from", type=iso_date, metavar="YYYY-MM-DD",
                        help="default: 1 September of the academic year containing --as-of")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        db = store.connect(args.db)
    except store.StoreError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 1
    try:
        return COMMANDS[args.command](db, args)
    except UsageError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 2
    except store.StoreError as error:
        print(f"pastoral: {error}", file=sys.stderr)
        return 1
    finally:
        db.conn.close()  # closing twice is harmless (restore closes it early)


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def run_import(db, args) -> int:
    from core.importers import REJECTED, import_file

    outcomes = [import_file(db, path, args.user, dry_run=args.dry_run) for path in args.paths]
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


def _period(db, args) -> metrics.Period | None:
    period = metrics.default_period(db, args.as_of, args.date_from)
    if period and period.date_from > period.as_of:
        raise UsageError(f"--from {period.date_from} is after --as-of {period.as_of}.")
    return period


def pupil_rows(db, args) -> pd.DataFrame:
    period = _period(db, args)
    if period is None:
        return pd.DataFrame(columns=PUPIL_JSON_FIELDS)
    figures = metrics.pupil_figures(db, period)
    figures = figures[figures["possible_sessions"] > 0]
    if args.only == "persistent":
        figures = figures[figures["persistently_absent"]]
    elif args.only == "severe":
        figures = figures[figures["severely_absent"]]
    return figures[PUPIL_JSON_FIELDS]


def _json_records(frame: pd.DataFrame) -> list[dict]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]


def run_pupils(db, args) -> int:
    rows = pupil_rows(db, args)
    if args.format == "json":
        _emit(json.dumps(_json_records(rows), indent=1))
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
    result = metrics.summary(metrics.pupil_figures(db, period) if period else metrics.no_pupils())
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
    found = triggers.reached(db, args.as_of)
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

    if args.logins:
        _emit(demo.logins_text(demo.existing_logins(db)))
        return 0
    year, until = (args.year, args.until) if args.year is not None else demo.current_autumn(date.today(), args.until)
    _emit(demo.load_demo(db, seed=args.seed, academic_year=year, until=until, size=args.size, export_to=args.export))
    return 0


def run_backup(db, args) -> int:
    from core import safekeeping

    path = safekeeping.backup(_db_path(args), args.destination, args.user)
    _emit(f"Backed up to {path}")
    return 0


def run_restore(db, args) -> int:
    from core import safekeeping

    db.conn.close()
    safekeeping.restore(_db_path(args), args.source, args.user)
    _emit(f"Restored from {args.source}")
    return 0


def run_purge(db, args) -> int:
    from core import safekeeping

    removed = safekeeping.purge_leavers(db, args.today or date.today(), args.user, dry_run=args.dry_run)
    years = store.get_settings(db)["leaver_retention_years"]
    verb = "Would remove" if args.dry_run else "Removed"
    _emit(f"{verb} {removed['pupils']} leaver(s) who left more than {years} years ago, "
          f"with {removed['marks']} marks and {sum(removed.values()) - removed['pupils'] - removed['marks']} other records.")
    return 0


def _db_path(args) -> Path:
    return args.db or store.default_path()


COMMANDS = {
    "import": run_import,
    "pupils": run_pupils,
    "summary": run_summary,
    "triggers": run_triggers,
    "demo": run_demo,
    "backup": run_backup,
    "restore": run_restore,
    "purge": run_purge,
}


if __name__ == "__main__":
    sys.exit(main())
