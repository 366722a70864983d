"""The marks table: every read and write of the marks, the changed-mark history
(mark_changes) and the yearly tallies kept with them.

The importers read files and hand this module rows: `diff` compares them with what is
stored, `write` stores the difference in the import's transaction (one `executemany` of
integer-keyed rows into the WITHOUT ROWID table, the tallies kept in bulk) and
`undo_import` takes an import's marks back out. Every other module reads marks through the
named queries here (its schema and migrations stay in store.py).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from core import codes, store

CLOSURE = "#"  # planned whole-school closure
# A session is a planned closure "for everyone else" when at least this share of the
# other marks in it are '#' (and at least two are).
CLOSURE_SHARE = 0.9
# Adding at least this many marks, and no fewer than the store holds, is a bulk load.
BULK_ROWS = 100_000
IMPORT_CACHE_KIB = 32 * 1024  # SQLite's page cache while importing marks


# --- reading ---------------------------------------------------------------------


def mark_date_range(db: sqlite_utils.Database) -> tuple[date, date] | None:
    """First and last dates with marks in the store, or None when it has none."""
    # Two queries: SQLite answers a lone MIN or MAX from the end of an index, but both at once by a scan.
    low = db.execute("SELECT MIN(day) FROM marks").fetchone()[0]
    high = db.execute("SELECT MAX(day) FROM marks").fetchone()[0]
    if low is None:
        return None
    from core.calendar import from_day

    return from_day(low), from_day(high)



def _era_sql(first_day: int, last_day: int) -> str:
    """SQL giving the code era of `day` (see codes.era_boundaries): a constant when the
    range lies within one era, as almost every range does."""
    from core.calendar import to_day

    edges = [to_day(edge) for edge in codes.era_boundaries()]
    first_era = sum(edge <= first_day for edge in edges)
    if first_era == sum(edge <= last_day for edge in edges):
        return str(first_era)
    whens = " ".join(f"WHEN day < {edge} THEN {i}" for i, edge in enumerate(edges))
    return f"CASE {whens} ELSE {len(edges)} END"


def rows_frame(rows: list[tuple], columns: dict[str, str]) -> pd.DataFrame:
    """Rows fetched from SQLite as a DataFrame, built column by column (several times faster
    than from the tuples). `columns` maps each column to its dtype: "int64", "Int64" (may be
    NULL), "object" (text kept as Python strings) or any pandas dtype."""
    values = list(zip(*rows)) if rows else [()] * len(columns)
    frame = {}
    for (name, dtype), column in zip(columns.items(), values):
        if dtype == "int64":
            frame[name] = np.array(column, dtype=np.int64)
        elif dtype == "Int64":
            frame[name] = pd.array(np.array(column, dtype=np.float64), dtype="Int64")
        elif dtype == "object":
            frame[name] = np.array(column, dtype=object)
        else:
            frame[name] = pd.Series(np.array(column, dtype=object), dtype=dtype).array
    return pd.DataFrame(frame)



# --- yearly tallies, kept with the marks -------------------------------------------------

@contextmanager
def tallies_kept_in_bulk(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside a write transaction: the marks' triggers leave the tallies alone while the
    writer keeps them itself (add_to_tallies, refresh_tallies), a row at a time being far
    slower for a year's marks. Should the transaction fail, it rolls back with it."""
    conn.execute("UPDATE tally_eras SET bulk = 1 WHERE id = 1")
    yield
    conn.execute("UPDATE tally_eras SET bulk = 0 WHERE id = 1")


def add_to_tallies(conn: sqlite3.Connection, changes: pd.DataFrame) -> None:
    """Keep the yearly and day tallies with the marks: `changes` (pupil_id, day, session, code,
    sessions) gives +1 for each mark stored and -1 for each removed (a corrected mark is both).
    Call inside the write's transaction."""
    if changes.empty:
        return
    by_day = changes.groupby(["day", "session", "code"], as_index=False)["sessions"].sum()
    by_day = by_day[by_day["sessions"] != 0]
    conn.executemany(
        "INSERT INTO day_tallies (day, session, code, marks) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (day, session, code) DO UPDATE SET marks = marks + excluded.marks",
        zip(*(by_day[c].tolist() for c in ("day", "session", "code", "sessions"))))
    conn.execute("DELETE FROM day_tallies WHERE marks = 0")
    days = changes["day"].to_numpy(dtype=np.int64)
    dates = days.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    edges = np.array([edge.toordinal() - date(1970, 1, 1).toordinal() for edge in codes.era_boundaries()])
    summed = changes.assign(year=years - (months < 9), era=np.searchsorted(edges, days, side="right")) \
        .groupby(["pupil_id", "year", "era", "code"], as_index=False)["sessions"].sum()
    summed = summed[summed["sessions"] != 0]
    conn.executemany(
        "INSERT INTO pupil_year_tallies (pupil_id, year, era, code, sessions) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (pupil_id, year, era, code) DO UPDATE SET sessions = sessions + excluded.sessions",
        zip(*(summed[c].tolist() for c in ("pupil_id", "year", "era", "code", "sessions"))))
    conn.execute("DELETE FROM pupil_year_tallies WHERE sessions = 0 AND pupil_id IN (SELECT value FROM json_each(?))",
                 (json.dumps(np.unique(summed["pupil_id"].to_numpy()).tolist()),))


def add_day_tallies_of(conn: sqlite3.Connection, pupil_ids, sign: int) -> None:
    """Add (sign 1) or take away (-1) these pupils' marks, as stored now, to or from the day
    tallies: a bulk writer changing or removing their marks takes them away before, and adds
    them back after (an undo, a purge)."""
    conn.execute(
        "INSERT INTO day_tallies (day, session, code, marks) SELECT day, session, code, ? * COUNT(*) FROM marks "
        "WHERE pupil_id IN (SELECT value FROM json_each(?)) GROUP BY day, session, code "
        "ON CONFLICT (day, session, code) DO UPDATE SET marks = marks + excluded.marks",
        (int(sign), json.dumps(sorted({int(p) for p in pupil_ids}))))
    conn.execute("DELETE FROM day_tallies WHERE marks = 0")


def refresh_tallies(conn: sqlite3.Connection, pupil_ids) -> None:
    """Count these pupils' yearly tallies again from their marks (after an undo or a purge)."""
    pupils = json.dumps(sorted({int(p) for p in pupil_ids}))
    conn.execute("DELETE FROM pupil_year_tallies WHERE pupil_id IN (SELECT value FROM json_each(?))", (pupils,))
    conn.execute(
        f"INSERT INTO pupil_year_tallies (pupil_id, year, era, code, sessions) "
        f"SELECT pupil_id, {store._academic_year_sql()}, {store._era_case_sql()}, code, COUNT(*) FROM marks "
        "WHERE pupil_id IN (SELECT value FROM json_each(?)) GROUP BY 1, 2, 3, 4", (pupils,))


def _tallies_cover(db: sqlite_utils.Database, first_day: int, last_day: int,
                   pupil_ids: list[int] | None = None) -> bool:
    """Whether the yearly tallies give the range's figures for these pupils (None: every
    pupil): they are kept (they add up to the pupils' stored marks, and were counted in today's
    code eras), and the range cuts no academic year's stored marks short (none in its first
    year before it starts, none in its last after it ends)."""
    from core.calendar import academic_year_end, academic_year_start, from_day, to_day

    if not _tallies_current(db):
        return False
    before = (to_day(academic_year_start(from_day(first_day))), first_day - 1)
    after = (last_day + 1, to_day(academic_year_end(from_day(last_day))))
    for low, high in (before, after):
        if low <= high and db.execute("SELECT 1 FROM marks WHERE day BETWEEN ? AND ? LIMIT 1", (low, high)).fetchone():
            return False
    return _tallies_kept(db, pupil_ids)


def _tallies_current(db: sqlite_utils.Database) -> bool:
    """Whether the yearly tallies were counted in today's code eras."""
    era_row = db.execute("SELECT boundaries FROM tally_eras WHERE id = 1").fetchone()
    return era_row is not None and era_row[0] == store._era_boundaries_json()


def _tallies_kept(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> bool:
    """Whether the yearly tallies add up to the stored marks of these pupils (None: every
    pupil). One school's pupils are counted on the (pupil_id, ...) index, a small part of a
    trust's store: 0.03 s for 1,500 pupils against 0.16 s for all 19 million marks."""
    in_scope, scope_params = scope_sql(pupil_ids)
    where = f"WHERE {in_scope[5:]}" if in_scope else ""
    # Every mark is counted from the index's pages, not row by row.
    marks = db.execute(f"SELECT COUNT(*) FROM marks {where}", scope_params).fetchone()[0]
    return db.execute(f"SELECT COALESCE(SUM(sessions), 0) FROM pupil_year_tallies {where}",
                      scope_params).fetchone()[0] == marks


def _day_tallies_kept(db: sqlite_utils.Database) -> bool:
    """Whether the day tallies add up to every stored mark (marks added some other way than
    the importer leave them short)."""
    marks = db.execute("SELECT COUNT(*) FROM marks").fetchone()[0]
    return db.execute("SELECT COALESCE(SUM(marks), 0) FROM day_tallies").fetchone()[0] == marks


def year_tallies(db: sqlite_utils.Database, first_day: int, last_day: int,
                 pupil_ids: list[int] | None = None) -> pd.DataFrame | None:
    """`tally_marks` over the whole academic years holding the range: at least
    the range's own sessions of each (more when the range cuts a year short), from the yearly
    tallies — for telling who cannot reach a count, never for a figure. None when the
    tallies are not kept."""
    if not (_tallies_current(db) and _tallies_kept(db, pupil_ids)):
        return None
    from core.calendar import academic_year, from_day

    in_scope, scope_params = scope_sql(pupil_ids)
    return _tally_frame(db, "SELECT pupil_id, code, era, SUM(sessions) AS n FROM pupil_year_tallies "
                            f"WHERE year BETWEEN :first_year AND :last_year{in_scope} GROUP BY pupil_id, era, code",
                        {"first_year": academic_year(from_day(first_day)), "last_year": academic_year(from_day(last_day)),
                         **scope_params})


def marks_per_pupil(db: sqlite_utils.Database, first_day: int, last_day: int,
                    pupil_ids: list[int] | None = None) -> pd.Series | None:
    """How many marks each pupil (of `pupil_ids`; None: every pupil) has between two day
    numbers, from the yearly tallies (None when they cannot say: see `tally_marks`)."""
    if not _tallies_cover(db, first_day, last_day, pupil_ids):
        return None
    from core.calendar import academic_year, from_day

    in_scope, scope_params = scope_sql(pupil_ids)
    rows = db.execute("SELECT pupil_id, SUM(sessions) FROM pupil_year_tallies WHERE year BETWEEN :first AND :last"
                      f"{in_scope} GROUP BY pupil_id", {"first": academic_year(from_day(first_day)),
                                                         "last": academic_year(from_day(last_day)),
                                                         **scope_params}).fetchall()
    counts = rows_frame(rows, {"pupil_id": "int64", "marks": "int64"})
    return pd.Series(counts["marks"].to_numpy(), index=counts["pupil_id"].to_numpy())


def tally_marks(db: sqlite_utils.Database, first_day: int, last_day: int,
                pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Sessions per pupil per code per code era, between two day numbers inclusive (only
    these pupils' when `pupil_ids` is given: one school of a trust's store, by key).

    Whole academic years (to date) come from the yearly tallies kept with the marks: a few
    rows a pupil. Any other range is counted from the marks:

    `+day` keeps SQLite off the day index and on the covering (pupil_id, code, day) index,
    which gives the groups in order with no sorting: ~0.06 s for 780,000 marks. When the
    range holds every stored mark (the usual year to date) the days are not even compared.
    The groups come back packed in JSON arrays, far fewer Python objects than a row each
    (a trust's store has half a million groups).
    """
    if _tallies_cover(db, first_day, last_day, pupil_ids):
        from core.calendar import academic_year, from_day

        # In primary-key order (pupil, year, era, code): no sorting for a single year.
        in_scope, scope_params = scope_sql(pupil_ids)
        groups = ("SELECT pupil_id, code, era, SUM(sessions) AS n FROM pupil_year_tallies "
                  f"WHERE year BETWEEN :first_year AND :last_year{in_scope} GROUP BY pupil_id, era, code")
        params = {"first_year": academic_year(from_day(first_day)), "last_year": academic_year(from_day(last_day)),
                  **scope_params}
    else:
        era = _era_sql(first_day, last_day)
        group_by = "pupil_id, code" if era.isdigit() else "pupil_id, code, era"
        stored_first = db.execute("SELECT MIN(day) FROM marks").fetchone()[0]
        stored_last = db.execute("SELECT MAX(day) FROM marks").fetchone()[0]
        every_day = stored_first is not None and first_day <= stored_first and stored_last <= last_day
        in_scope, scope_params = scope_sql(pupil_ids)
        conditions = ([] if every_day else ["+day BETWEEN :first AND :last"]) + ([in_scope[5:]] if in_scope else [])
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        groups = f"SELECT pupil_id, code, {era} AS era, COUNT(*) AS n FROM marks {where}GROUP BY {group_by}"
        params = {"first": first_day, "last": last_day, **scope_params}
    return _tally_frame(db, groups, params)


def _tally_frame(db: sqlite_utils.Database, groups: str, params: dict) -> pd.DataFrame:
    """pupil_id, code, era, sessions from a query of those groups (`n` the sessions), handed
    over packed in JSON arrays."""
    pupils, codes_, eras, sessions = db.execute(
        "SELECT json_group_array(pupil_id), json_group_array(code), json_group_array(era), json_group_array(n) "
        f"FROM ({groups})", params).fetchone()
    columns = [json.loads(pupils), json.loads(codes_), json.loads(eras), json.loads(sessions)]
    return pd.DataFrame({
        "pupil_id": np.array(columns[0], dtype=np.int64),
        "code": np.array(columns[1], dtype=object),
        "era": np.array(columns[2], dtype=np.int64),
        "sessions": np.array(columns[3], dtype=np.int64),
    })


def load_marks(
    db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None = None
) -> pd.DataFrame:
    """Every stored session between two day numbers: pupil_id, day, session, code, minutes_late."""
    sql = "SELECT pupil_id, day, session, code, minutes_late FROM marks WHERE day BETWEEN ? AND ?"
    params: list[Any] = [first_day, last_day]
    if pupil_ids is not None:
        sql += " AND pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps([int(p) for p in pupil_ids]))
    rows = db.execute(sql, params).fetchall()
    return rows_frame(rows, {"pupil_id": "int64", "day": "int64", "session": "int64", "code": "object",
                             "minutes_late": "Int64"})


def school_session_days(db: sqlite_utils.Database, first_day: int, last_day: int) -> pd.DataFrame:
    """Day numbers on which the school held a session: some mark that is not a closure.

    A day on which every mark is a whole-school closure (`#`, `Y4`) held no session.
    Both steps read only the (day, code) index, by probes: each day with marks is found
    from the one before it (a skip over the index, not a scan of its marks), then one
    probe for a mark that is not a closure.
    """
    closed = ", ".join("?" for _ in codes.SCHOOL_CLOSED_CODES)
    rows = db.execute(
        "WITH RECURSIVE days(day) AS ("
        "SELECT MIN(day) FROM marks WHERE day >= ? "
        "UNION ALL SELECT (SELECT MIN(day) FROM marks WHERE day > days.day) FROM days WHERE days.day < ?) "
        "SELECT day FROM days WHERE day <= ? AND EXISTS "
        f"(SELECT 1 FROM marks m WHERE m.day = days.day AND m.code NOT IN ({closed})) ORDER BY day",
        (first_day, last_day, last_day, *codes.SCHOOL_CLOSED_CODES),
    ).fetchall()
    return pd.DataFrame(rows, columns=["day"]).astype("int64")


def first_marked_day_from(db: sqlite_utils.Database, first_day: int) -> int | None:
    """The first day number with marks on or after `first_day` (None when there is none)."""
    return db.execute("SELECT MIN(day) FROM marks WHERE day >= ?", (first_day,)).fetchone()[0]


def first_and_last_marked_days(conn, first_day: int, last_day: int) -> tuple[int | None, int | None]:
    """The first and last day numbers with marks between two days (None, None when none)."""
    low, high = conn.execute("SELECT MIN(day), MAX(day) FROM marks WHERE day BETWEEN ? AND ?",
                             (first_day, last_day)).fetchone()
    return low, high


def sessions_taken_between(conn, first_day: int, last_day: int) -> set[int]:
    """Sessions between two days with some pupil marked, each as day * 2 + session."""
    rows = conn.execute("SELECT DISTINCT day * 2 + session FROM marks WHERE day BETWEEN ? AND ? AND code != ''",
                        (first_day, last_day)).fetchall()
    return {int(r[0]) for r in rows}


def sessions_marked(db: sqlite_utils.Database, day: int) -> list[int]:
    """The sessions (0 AM, 1 PM) of a day with some pupil marked."""
    rows = db.execute("SELECT DISTINCT session FROM marks WHERE day = ? AND code != '' ORDER BY session",
                      (day,)).fetchall()
    return [int(r[0]) for r in rows]


def latest_marked_session(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """(day, session) of the newest session with some pupil marked, or None."""
    row = db.execute("SELECT day, MAX(session) FROM marks WHERE day = (SELECT MAX(day) FROM marks WHERE code != '') "
                     "AND code != ''").fetchone()
    if row is None or row[0] is None:
        return None
    return row[0], int(row[1])


def session_taken(db: sqlite_utils.Database, day: int, session: int) -> bool:
    """Whether some pupil has a mark at this session (its register was taken)."""
    return bool(db.execute("SELECT 1 FROM marks WHERE day = ? AND session = ? AND code != '' LIMIT 1",
                           (day, session)).fetchone())


def codes_at_session(db: sqlite_utils.Database, day: int, session: int,
                     pupil_ids: list[int] | None = None) -> dict[int, str]:
    """pupil_id → stored code of every pupil marked at one session (of these pupils only,
    when given: a probe per pupil rather than the whole session's marks)."""
    if pupil_ids is None:
        return dict(db.execute("SELECT pupil_id, code FROM marks WHERE day = ? AND session = ?",
                               (day, session)).fetchall())
    return dict(db.execute("SELECT pupil_id, code FROM marks WHERE pupil_id IN (SELECT value FROM json_each(?)) "
                           "AND day = ? AND session = ?",
                           (json.dumps(sorted({int(p) for p in pupil_ids})), day, session)).fetchall())


def session_register(db: sqlite_utils.Database, day: int, session: int, on: str,
                     pupil_ids: list[int] | None = None) -> list[tuple]:
    """(pupil_id, form, code) of every pupil marked at a session and every pupil on roll on
    the ISO date `on` (code None when unmarked), in pupil id order; of these pupils only,
    when given (one school of a trust: its pupils read, not every school's)."""
    in_scope = "" if pupil_ids is None else "p.id IN (SELECT value FROM json_each(?)) AND "
    scope_params = () if pupil_ids is None else (json.dumps(sorted({int(p) for p in pupil_ids})),)
    return db.execute(
        "SELECT p.id, p.form, m.code FROM pupils p LEFT JOIN marks m ON m.pupil_id = p.id AND m.day = ? "
        f"AND m.session = ? WHERE {in_scope}(m.pupil_id IS NOT NULL OR (p.on_roll = 1 AND (p.entry_date IS NULL OR "
        "p.entry_date = '' OR p.entry_date <= ?) AND (p.leave_date IS NULL OR p.leave_date = '' OR p.leave_date >= ?))) "
        "ORDER BY p.id", (day, session, *scope_params, on, on)).fetchall()


def marks_with_code(db: sqlite_utils.Database, first_day: int, last_day: int, code: str,
                    pupil_ids: list[int] | None = None) -> list[tuple]:
    """(pupil_id, day, session, code) of every mark with this code between two days, in (day,
    pupil, session) order; only these pupils' when `pupil_ids` is given. A probe of the
    (pupil_id, code, day) index per pupil, not a pass over every mark of the range through
    the (day, code) index: 0.24 s against 1.2 s for a 50,000-pupil trust's N marks, 7 ms
    against 40 ms for a school's."""
    pupils, params = ("SELECT id FROM pupils", ()) if pupil_ids is None else \
        ("SELECT value FROM json_each(?)", (json.dumps([int(p) for p in pupil_ids]),))
    return db.execute(f"SELECT pupil_id, day, session, code FROM marks INDEXED BY marks_pupil_code WHERE pupil_id IN "
                      f"({pupils}) AND code = ? AND +day BETWEEN ? AND ? ORDER BY day, pupil_id, session",
                      (*params, code, first_day, last_day)).fetchall()


def marks_of_pupils(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids) -> list[tuple]:
    """(pupil_id, day, session, code) of every mark of these pupils between two days."""
    return db.execute("SELECT pupil_id, day, session, code FROM marks WHERE day BETWEEN ? AND ? AND pupil_id IN "
                      "(SELECT value FROM json_each(?))", (first_day, last_day, json.dumps(list(pupil_ids)))).fetchall()


def marks_of_pupils_not_on_roll(db: sqlite_utils.Database, first_day: int, last_day: int,
                                pupil_ids: list[int] | None = None) -> list[tuple]:
    """(pupil_id, marks) of each pupil not on roll with marks between two days, in pupil order
    (of these pupils only, when given). The few pupils not on roll are found first and their
    marks counted by key: joining from the marks would pass every mark of the range (0.12 s
    for a school's year, against under 1 ms)."""
    in_scope, params = scope_sql(pupil_ids)
    return db.execute(
        "SELECT id, n FROM (SELECT p.id, (SELECT COUNT(*) FROM marks m WHERE m.pupil_id = p.id AND m.day BETWEEN "
        f":first AND :last) AS n FROM pupils p WHERE p.on_roll = 0{in_scope.replace('pupil_id', 'p.id')}) "
        "WHERE n > 0 ORDER BY id", {"first": first_day, "last": last_day, **params}).fetchall()


def closure_sessions(db: sqlite_utils.Database, first_day: int, last_day: int, closed_codes) -> list[tuple]:
    """(day, session, marks) of each session between two days with marks of `closed_codes`
    (whole-school closures): found by probes of the (day, code) index, each day with marks
    from the one before it, not by a pass over every mark."""
    closed = ", ".join("?" * len(closed_codes))
    return db.execute(
        "WITH RECURSIVE days(day) AS (SELECT MIN(day) FROM marks WHERE day >= ? "
        "UNION ALL SELECT (SELECT MIN(day) FROM marks WHERE day > days.day) FROM days WHERE days.day < ?) "
        f"SELECT m.day, m.session, COUNT(*) FROM days JOIN marks m ON m.day = days.day AND m.code IN ({closed}) "
        "WHERE days.day <= ? GROUP BY m.day, m.session ORDER BY m.day, m.session",
        (first_day, last_day, *closed_codes, last_day)).fetchall()


def codes_at_sessions(db: sqlite_utils.Database, sessions: list[list[int]]) -> list[tuple]:
    """(day, session, code, marks) at each of these [day, session] pairs."""
    return db.execute("SELECT m.day, m.session, m.code, COUNT(*) FROM json_each(?) s JOIN marks m "
                      "ON m.day = json_extract(s.value, '$[0]') AND m.session = json_extract(s.value, '$[1]') "
                      "GROUP BY m.day, m.session, m.code", (json.dumps(sessions),)).fetchall()


def open_marks_at_sessions(db: sqlite_utils.Database, sessions: list[list[int]], closed_codes,
                           pupil_ids: list[int] | None = None) -> list[tuple]:
    """(pupil_id, day, session, code) of every mark at these [day, session] pairs that is
    neither missing nor one of `closed_codes` (of these pupils only, when given)."""
    closed = ", ".join("?" * len(closed_codes))
    in_scope = "" if pupil_ids is None else " AND pupil_id IN (SELECT value FROM json_each(?))"
    scope_params = () if pupil_ids is None else (json.dumps([int(p) for p in pupil_ids]),)
    return db.execute(f"SELECT pupil_id, day, session, code FROM marks WHERE (day, session) IN (SELECT "
                      "json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
                      f"AND code NOT IN ({closed}) AND code != ''{in_scope}",
                      (json.dumps(sessions), *closed_codes, *scope_params)).fetchall()


def sessions_by_day_and_code(db: sqlite_utils.Database, first_day: int, last_day: int,
                             pupil_ids: list[int] | None = None) -> list[tuple]:
    """(day, code, AM marks, PM marks) between two days, for a scope's pupils (None: everyone).

    Every pupil's: the (day, code) index gives the groups in order; splitting AM and PM
    inside each group keeps SQLite from sorting (~0.06 s for 600,000 marks).

    Some pupils' (a school of a trust's store): their marks come off the (pupil_id, code,
    day) index in order of pupil and code, each group's sessions packed in one JSON array,
    and are counted by day here. Through the (day, code) index SQLite would pass every
    school's marks, and grouping theirs by day would sort them (0.28 s against 0.17 s for
    a school of 1,500 pupils among 50,000).
    """
    params = {"first": first_day, "last": last_day}
    if pupil_ids is None and _day_tallies_kept(db):
        return [tuple(row) for row in db.execute(
            "SELECT day, code, SUM(CASE WHEN session = 0 THEN marks ELSE 0 END), "
            "SUM(CASE WHEN session = 1 THEN marks ELSE 0 END) FROM day_tallies "
            "WHERE day BETWEEN :first AND :last GROUP BY day, code", params).fetchall()]
    if pupil_ids is None:
        return db.execute("SELECT day, code, SUM(session = 0), SUM(session = 1) FROM marks "
                          "WHERE day BETWEEN :first AND :last GROUP BY day, code", params).fetchall()
    in_scope, scope_params = scope_sql(pupil_ids)
    groups = db.execute(
        "SELECT code, json_group_array((day - :first) * 2 + session) FROM marks INDEXED BY marks_pupil_code "
        f"WHERE +day BETWEEN :first AND :last{in_scope} GROUP BY pupil_id, code", {**params, **scope_params}).fetchall()
    by_code: dict[str, list[str]] = {}
    for code, packed in groups:
        by_code.setdefault(code, []).append(packed[1:-1])
    rows = []
    for code, parts in by_code.items():
        at = np.array(json.loads(f"[{','.join(parts)}]"), dtype=np.int64)  # (day - first) * 2 + session
        counted = np.bincount(at, minlength=2 * (last_day - first_day + 1)).reshape(-1, 2)
        held = np.flatnonzero(counted.sum(axis=1))
        rows += zip((held + first_day).tolist(), [code] * len(held), counted[held, 0].tolist(),
                    counted[held, 1].tolist())
    return sorted(rows)


def marks_with_codes(db: sqlite_utils.Database, first_day: int, last_day: int, code_list: tuple[str, ...],
                     pupil_ids: list[int] | None = None, rare: bool = False) -> list[tuple]:
    """(pupil_id, day, session, code, minutes_late) of every mark with one of these codes
    between two days, for a scope's pupils (None: everyone).

    `+day` keeps SQLite off the (day, code) index: through it, it would look up every mark
    of the range for its minutes late (1 s for a year); a straight scan takes 0.07 s. Marks
    with `rare` codes (lates) are found on the (pupil_id, code, day) index, a probe a pupil:
    a school's year 0.02 s against 0.09 s, a 50,000-pupil trust's 0.75 s against 2.2 s.
    Common codes (present) are quicker read with the marks."""
    listed, code_params = codes_sql("code", code_list)
    in_scope, scope_params = scope_sql(pupil_ids)
    if rare:
        pupils = "SELECT id FROM pupils" if pupil_ids is None else "SELECT value FROM json_each(:pupils)"
        return db.execute(
            "SELECT pupil_id, day, session, code, minutes_late FROM marks INDEXED BY marks_pupil_code "
            f"WHERE pupil_id IN ({pupils}) AND code IN {listed} AND +day BETWEEN :first AND :last",
            {"first": first_day, "last": last_day, **code_params, **scope_params}).fetchall()
    return db.execute(
        f"SELECT pupil_id, day, session, code, minutes_late FROM marks WHERE +day BETWEEN :first AND :last "
        f"AND code IN {listed}{in_scope}", {"first": first_day, "last": last_day, **code_params, **scope_params}
    ).fetchall()


def marks_with_codes_at_sessions(db: sqlite_utils.Database, sessions: list[list[int]],
                                 code_list: tuple[str, ...], pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Every mark with one of these codes at these [day, session] pairs (of these pupils; None:
    every pupil's)."""
    listed, params = codes_sql("plain", code_list)
    in_scope, scope_params = scope_sql(pupil_ids)
    return _read_rows(db,
        "SELECT pupil_id, day, session, code, minutes_late FROM marks "
        "WHERE (day, session) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
        f"FROM json_each(:partial)) AND code IN {listed}{in_scope}",
        {"partial": json.dumps(sessions), **params, **scope_params})


def mark_changes_of_pupil(db: sqlite_utils.Database, pupil_id: int) -> list[tuple]:
    """(day, session, old_code, new_code, imported_at, imported_by, file_name, data_as_at) of
    every change to this pupil's marks by an import still in force, newest import first."""
    return db.execute(
        "SELECT c.day, c.session, c.old_code, c.new_code, i.imported_at, i.imported_by, i.file_name, i.data_as_at "
        "FROM mark_changes c JOIN imports i ON i.id = c.import_id "
        "WHERE c.pupil_id = ? AND i.status = 'imported' "
        "ORDER BY c.import_id DESC, c.day DESC, c.session DESC",
        (int(pupil_id),),
    ).fetchall()


# --- a scope's marks (core/scope.py) -------------------------------------------------------


MARK_DTYPES = {"pupil_id": "int64", "day": "int64", "session": "int64", "code": "object", "minutes_late": "Int64"}
_DAY_BITS = 20  # a read's marks packed as (pupil << 20) | (days since the read's first day << 1) | session


def _read_rows(db: sqlite_utils.Database, sql: str, params: dict) -> pd.DataFrame:
    return rows_frame(db.execute(sql, params).fetchall(), MARK_DTYPES)


def _first_and_last_day_probes(pupil: str) -> str:
    return (f"(SELECT MIN(day) FROM marks m WHERE m.pupil_id = {pupil} AND m.day BETWEEN :first AND :last), "
            f"(SELECT MAX(day) FROM marks m WHERE m.pupil_id = {pupil} AND m.day BETWEEN :first AND :last)")


def counted_spans(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None) -> pd.DataFrame:
    """pupil_id, marks, first, last: each pupil's marks between two days (counted from a scan of
    the narrow index: `+day` keeps SQLite on it) and their first and last day (a key probe each)."""
    in_scope, scope_params = scope_sql(pupil_ids)
    rows = db.execute(
        f"SELECT p.pupil_id, p.marks, {_first_and_last_day_probes('p.pupil_id')} FROM (SELECT pupil_id, COUNT(*) "
        f"AS marks FROM marks WHERE +day BETWEEN :first AND :last{in_scope} GROUP BY pupil_id) p",
        {"first": first_day, "last": last_day, **scope_params}).fetchall()
    return rows_frame(rows, {"pupil_id": "int64", "marks": "int64", "first": "int64", "last": "int64"})


def first_and_last_days(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids) -> pd.DataFrame:
    """pupil_id, first, last: each of these pupils' first and last marked day between two days."""
    rows = db.execute(f"SELECT p.value, {_first_and_last_day_probes('p.value')} FROM json_each(:pupils) p",
                      {"first": first_day, "last": last_day, "pupils": json.dumps([int(i) for i in pupil_ids])}
                      ).fetchall()
    return rows_frame(rows, {"pupil_id": "int64", "first": "int64", "last": "int64"})


def marks_other_than(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int] | None,
                     plain_codes: tuple[str, ...], late_codes: tuple[str, ...]) -> pd.DataFrame:
    """Every mark other than one of `plain_codes` (in index order), from the (pupil_id, code,
    day) index: one range of codes at a time, each pupil's range found by a probe, handed over
    packed in two JSON arrays (far fewer Python objects than a row each). Minutes late are
    read (from the table) only for `late_codes`, which come first."""
    if pupil_ids is None:
        pupils, params = "SELECT id FROM pupils", {}
    else:
        pupils, params = "SELECT value FROM json_each(:pupils)", {"pupils": json.dumps([int(p) for p in pupil_ids])}
    params.update({"first": first_day, "last": last_day})
    bounds = [None, *plain_codes, None]  # codes between two plain present codes, in index order
    ranges = []
    for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
        conditions = []
        if low is not None:
            conditions.append(f"code > :low{i}")
            params[f"low{i}"] = low
        if high is not None:
            conditions.append(f"code < :high{i}")
            params[f"high{i}"] = high
        ranges.append(
            "SELECT pupil_id, day, session, code FROM marks INDEXED BY marks_pupil_code "
            f"WHERE pupil_id IN ({pupils}) AND {' AND '.join(conditions)} AND +day BETWEEN :first AND :last")
    keys, texts = db.execute(
        f"SELECT json_group_array((pupil_id << {_DAY_BITS}) | ((day - :first) << 1) | session), "
        f"json_group_array(code) FROM ({' UNION ALL '.join(ranges)})", params).fetchone()
    keys = np.array(json.loads(keys), dtype=np.int64)
    others = pd.DataFrame({
        "pupil_id": keys >> _DAY_BITS, "day": ((keys & ((1 << _DAY_BITS) - 1)) >> 1) + first_day, "session": keys & 1,
        "code": np.array(json.loads(texts), dtype=object),
        "minutes_late": pd.arrays.IntegerArray(np.zeros(len(keys), dtype=np.int64), np.ones(len(keys), dtype=bool)),
    })
    late, late_params = codes_sql("late", late_codes)
    lates = _read_rows(db,
        "SELECT pupil_id, day, session, code, minutes_late FROM marks INDEXED BY marks_pupil_code "
        f"WHERE pupil_id IN ({pupils}) AND code IN {late} AND +day BETWEEN :first AND :last "
        "AND minutes_late IS NOT NULL", {**params, **late_params})
    return pd.concat([lates, others], ignore_index=True)


def days_with_sessions(db: sqlite_utils.Database, first_day: int, last_day: int) -> pd.DataFrame:
    """day, 0, 1: each day with marks between two days, and whether it had an AM (0) and a PM
    (1) session. Found by probes: each day with marks from the one before it."""
    held = db.execute(
        "WITH RECURSIVE days(day) AS (SELECT MIN(day) FROM marks WHERE day >= :first "
        "UNION ALL SELECT (SELECT MIN(day) FROM marks WHERE day > days.day) FROM days WHERE days.day < :last) "
        "SELECT day, EXISTS (SELECT 1 FROM marks m WHERE m.day = days.day AND m.session = 0), "
        "EXISTS (SELECT 1 FROM marks m WHERE m.day = days.day AND m.session = 1) FROM days WHERE day <= :last",
        {"first": first_day, "last": last_day}).fetchall()
    return rows_frame(held, {"day": "int64", 0: "int64", 1: "int64"})


def marks_per_session(db: sqlite_utils.Database, first_day: int, last_day: int, pupil_ids: list[int]) -> pd.DataFrame:
    """day, session, marks: how many marks these pupils have at each session between two days (by key)."""
    counted = db.execute(
        "SELECT day, session, COUNT(*) FROM marks WHERE pupil_id IN (SELECT value FROM json_each(:sample)) "
        "AND day BETWEEN :first AND :last GROUP BY day, session",
        {"first": first_day, "last": last_day, "sample": json.dumps(pupil_ids)}).fetchall()
    return rows_frame(counted, {"day": "int64", "session": "int64", "marks": "int64"})


def scope_sql(pupil_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    """A condition restricting marks to a scope's pupils (none when the scope is everyone),
    and its named parameter."""
    if pupil_ids is None:
        return "", {}
    pupils = json.dumps([int(p) for p in pupil_ids])
    return " AND pupil_id IN (SELECT value FROM json_each(:pupils))", {"pupils": pupils}


def codes_sql(name: str, code_list: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Named placeholders for a list of codes, e.g. "(:plain0, :plain1)", and their parameters."""
    params = {f"{name}{i}": code for i, code in enumerate(code_list)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


# --- an import's marks: diff against the store, write, undo --------------------------------


@dataclass
class Diff:
    """Incoming marks against the stored ones: sessions new to the store, sessions whose mark
    changed (with old_code, old_minutes_late, old_import_id), the stored marks of the
    incoming pupils over the incoming days, and each incoming session's position in `stored`
    (-1 when new)."""

    added: pd.DataFrame
    changed: pd.DataFrame
    stored: pd.DataFrame
    position: np.ndarray


def diff(conn, incoming: pd.DataFrame, first_day: int, last_day: int) -> Diff:
    """Compare `incoming` (pupil_id, day, session, code, minutes_late; a pupil id of 0 or less
    is a pupil not stored yet) with the stored marks between two days."""
    stored = _stored_marks(conn, first_day, last_day, incoming["pupil_id"])
    added, changed, position = _diff_marks(incoming, stored)
    return Diff(added, changed, stored, position)


def _stored_marks(conn, first_day: int, last_day: int, pupil_ids: pd.Series) -> pd.DataFrame:
    """The stored marks of the file's pupils between two days (by key: a week's upload into a
    trust's store reads its own pupils' marks, not everyone's)."""
    pupils = json.dumps(np.unique(pupil_ids.to_numpy(dtype=np.int64)[pupil_ids.to_numpy() > 0]).tolist())
    rows = conn.execute(
        "SELECT pupil_id, day, session, code, minutes_late, import_id FROM marks "
        "WHERE pupil_id IN (SELECT value FROM json_each(?)) AND day BETWEEN ? AND ?",
        (pupils, first_day, last_day),
    ).fetchall()
    return rows_frame(rows, {"pupil_id": "int64", "day": "int64", "session": "int64", "old_code": "object",
                             "old_minutes_late": "Int64", "old_import_id": "int64"})


def _session_keys(frame: pd.DataFrame, first_day: int) -> np.ndarray:
    """One integer per (pupil, day, session), for fast matching."""
    return (frame["pupil_id"].to_numpy(dtype=np.int64) * 2_000_000
            + (frame["day"].to_numpy(dtype=np.int64) - first_day) * 2 + frame["session"].to_numpy(dtype=np.int64))


def _diff_marks(incoming: pd.DataFrame, stored: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Sessions new to the store, sessions whose mark changed, and each incoming session's
    position in `stored` (-1 when new)."""
    if stored.empty:
        return incoming, incoming.iloc[:0].assign(old_code="", old_minutes_late=pd.NA, old_import_id=0), \
            np.full(len(incoming), -1)
    first_day = int(min(incoming["day"].min(), stored["day"].min()))
    position = pd.Index(_session_keys(stored, first_day)).get_indexer(_session_keys(incoming, first_day))
    is_new = position < 0
    existing = incoming[~is_new]
    before = stored.iloc[position[~is_new]]
    existing = existing.assign(old_code=before["old_code"].to_numpy(), old_minutes_late=before["old_minutes_late"].array,
                               old_import_id=before["old_import_id"].to_numpy())
    same_minutes = existing["minutes_late"].fillna(-1).to_numpy() == existing["old_minutes_late"].fillna(-1).to_numpy()
    changed = existing[(existing["code"].to_numpy() != existing["old_code"].to_numpy()) | ~same_minutes]
    return incoming[is_new], changed, position


def marks_on_closure_days(conn, incoming: pd.DataFrame, found: Diff) -> pd.DataFrame:
    """The incoming marks other than '#' on a session that is a planned closure ('#') for
    everyone else: the other incoming marks and the stored marks of other pupils.

    `found.stored` holds the incoming pupils' stored marks; the other pupils' are counted in
    SQL, and only on the days that have a '#' incoming or in the store (found by index probes).
    """
    stored, position = found.stored, found.position
    code = incoming["code"].to_numpy(dtype=object)
    file_days = np.unique(incoming["day"].to_numpy())
    hash_days = set(incoming["day"].to_numpy()[code == CLOSURE].tolist())
    hash_days |= {row[0] for row in conn.execute(
        "SELECT DISTINCT day FROM marks WHERE day IN (SELECT value FROM json_each(?)) AND code = ?",
        (json.dumps(file_days.tolist()), CLOSURE))}
    if not hash_days:
        return incoming.iloc[:0]
    days = json.dumps(sorted(hash_days))
    whole_store = rows_frame(conn.execute(
        "SELECT day * 2 + session, SUM(code = ?1), SUM(code NOT IN (?1, '')) FROM marks "
        "WHERE day IN (SELECT value FROM json_each(?2)) GROUP BY day, session", (CLOSURE, days)).fetchall(),
        {"key": "int64", "hash": "int64", "other": "int64"})

    def tally(day, session, marks, sign=1):
        marks = np.asarray(marks, dtype=object)
        return pd.DataFrame({"key": np.asarray(day, dtype=np.int64) * 2 + np.asarray(session, dtype=np.int64),
                             "hash": sign * (marks == CLOSURE), "other": sign * ((marks != CLOSURE) & (marks != ""))})

    replaced = stored.iloc[position[position >= 0]]  # stored sessions these marks replace: not "everyone else"
    replaced = replaced[replaced["day"].isin(hash_days)]
    per_session = pd.concat([
        tally(incoming["day"], incoming["session"], code), whole_store,
        tally(replaced["day"], replaced["session"], replaced["old_code"], sign=-1),
    ]).groupby("key")[["hash", "other"]].sum()
    key = incoming["day"].to_numpy(dtype=np.int64) * 2 + incoming["session"].to_numpy(dtype=np.int64)
    hashes = per_session["hash"].reindex(key).to_numpy()
    others_marked = per_session["other"].reindex(key).to_numpy() - 1  # everyone else: not this mark
    open_mark = (code != CLOSURE) & (code != "")
    closed = open_mark & (hashes >= 2) & (hashes >= CLOSURE_SHARE * (hashes + others_marked))
    return incoming[closed]


def corrections_in_the_way(conn, changed: pd.DataFrame) -> pd.DataFrame:
    """Of the stored marks an import would change, those a correction set: the stored mark's
    import (`old_import_id`) is not the one that first stored the session but a later one
    that changed it (its row in mark_changes, still in force). One row per such mark, in
    `changed`'s order: its position there, the code the correction replaced
    (`replaced_code`), and the correcting import's id, file_name, imported_at, data_as_at."""
    columns = {"position": "int64", "replaced_code": "object", "correction_import_id": "int64",
               "correction_file": "object", "corrected_at": "object", "correction_as_at": "object"}
    if changed.empty:
        return rows_frame([], columns)
    keys = json.dumps([[int(p), int(d), int(s), int(i)] for p, d, s, i in zip(
        changed["pupil_id"], changed["day"], changed["session"], changed["old_import_id"])])
    rows = conn.execute(
        "SELECT j.key, MAX(c.old_code), i.id, i.file_name, i.imported_at, COALESCE(i.data_as_at, i.date_to, '') "
        "FROM json_each(?) j JOIN mark_changes c ON c.pupil_id = json_extract(j.value, '$[0]') "
        "AND c.day = json_extract(j.value, '$[1]') AND c.session = json_extract(j.value, '$[2]') "
        "AND c.import_id = json_extract(j.value, '$[3]') "
        "JOIN imports i ON i.id = c.import_id AND i.status = 'imported' GROUP BY j.key ORDER BY j.key",
        (keys,)).fetchall()
    return rows_frame(rows, columns)


def without(found: Diff, positions: np.ndarray) -> Diff:
    """The diff with these rows of `changed` left out (stored marks kept as they are)."""
    keep = np.ones(len(found.changed), dtype=bool)
    keep[positions] = False
    return Diff(found.added, found.changed[keep], found.stored, found.position)


def write(conn, import_id: int, found: Diff) -> None:
    """Store a diff inside the import's transaction: the marks added, the marks changed (each
    change kept in mark_changes, old code → new code, which import), the tallies kept in bulk."""
    added, changed = found.added, found.changed
    with tallies_kept_in_bulk(conn):
        _insert_marks(conn, added, import_id)
        add_to_tallies(conn, pd.concat([
            added[["pupil_id", "day", "session", "code"]].assign(sessions=1),
            changed[["pupil_id", "day", "session", "code"]].assign(sessions=1),
            changed[["pupil_id", "day", "session", "old_code"]].rename(columns={"old_code": "code"}).assign(sessions=-1),
        ], ignore_index=True))
        conn.executemany(
            "UPDATE marks SET code = ?, minutes_late = ?, import_id = ? WHERE pupil_id = ? AND day = ? AND session = ?",
            store.as_rows(changed.assign(import_id=import_id),
                          ["code", "minutes_late", "import_id", "pupil_id", "day", "session"]),
        )
    conn.executemany(
        "INSERT INTO mark_changes (pupil_id, day, session, old_code, new_code, old_minutes_late, new_minutes_late, "
        "import_id, old_import_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        store.as_rows(changed.assign(import_id=import_id), ["pupil_id", "day", "session", "old_code", "code",
                                                            "old_minutes_late", "minutes_late", "import_id", "old_import_id"]),
    )


def _insert_marks(conn, added: pd.DataFrame, import_id: int) -> None:
    """One executemany of integer-keyed rows. A bulk load (a year into a store holding less)
    drops the marks' secondary indexes and builds them again afterwards, inside the same
    transaction: building an index by sorting is several times faster than growing it row
    by row in random order."""
    if added.empty:
        return
    # In primary-key order, each pupil's new sessions go into the same few pages one after another.
    added = added.iloc[np.lexsort((added["session"].to_numpy(), added["day"].to_numpy(), added["pupil_id"].to_numpy()))]
    # Bulk when the store holds fewer marks than this adds (counted no further than that).
    bulk = len(added) >= BULK_ROWS and conn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM marks LIMIT ?)", (len(added) + 1,)).fetchone()[0] <= len(added)
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'marks' "
                           "AND sql IS NOT NULL").fetchall() if bulk else []
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    # Into a table without its indexes, many rows to a statement; into live indexes one row to
    # a statement, as a many-row one changes pages all over them and must first copy each
    # page it changes into a statement journal (to undo the statement should a row fail).
    insert = "INSERT INTO marks (pupil_id, day, session, code, minutes_late, import_id) VALUES "
    rows_per_insert = ROWS_PER_INSERT if bulk else 1
    if added["minutes_late"].isna().all():
        _insert_rows(conn, insert, f"(?, ?, ?, ?, NULL, {int(import_id)})", added, ["pupil_id", "day", "session", "code"],
                     rows_per_insert)
    else:
        _insert_rows(conn, insert, f"(?, ?, ?, ?, ?, {int(import_id)})", added,
                     ["pupil_id", "day", "session", "code", "minutes_late"], rows_per_insert)
    for _, sql in indexes:
        conn.execute(sql)


# Rows per INSERT statement in a bulk load: many rows to a statement halve the time of one
# row each, and 100 rows of 5 values stay far below SQLite's limit on parameters (999 in
# old builds).
ROWS_PER_INSERT = 100


def _insert_rows(conn, insert: str, values: str, frame: pd.DataFrame, columns: list[str], per_statement: int) -> None:
    """`insert` + `values` for every row of `frame` (its `columns`, in order), `per_statement`
    rows to a statement."""
    rows = len(frame)
    whole = rows - rows % per_statement if per_statement > 1 else 0  # rows going in full statements
    if whole:
        flat = list(itertools.chain.from_iterable(store.as_rows(frame.iloc[:whole], columns)))
        conn.executemany(insert + ", ".join([values] * per_statement), zip(*[iter(flat)] * (len(columns) * per_statement)))
    if whole < rows:
        conn.executemany(insert + values, store.as_rows(frame.iloc[whole:], columns))



def undo_import(conn, import_id: int, fallback_import_id: int | None) -> tuple[int, int]:
    """Inside the undo's transaction: the marks an import changed get back their code, minutes
    late and import (`fallback_import_id` where the change did not record it), the marks it
    added are removed, and the touched pupils' tallies are counted again. Returns (marks
    removed, marks restored)."""
    touched = {r[0] for r in conn.execute(
        "SELECT DISTINCT pupil_id FROM marks WHERE import_id = ? UNION SELECT pupil_id FROM mark_changes "
        "WHERE import_id = ?", (import_id, import_id)).fetchall()}
    with tallies_kept_in_bulk(conn):
        add_day_tallies_of(conn, touched, -1)
        restored = _restore_changed_marks(conn, import_id, fallback_import_id)
        removed = conn.execute("DELETE FROM marks WHERE import_id = ?", (import_id,)).rowcount
        add_day_tallies_of(conn, touched, 1)
        refresh_tallies(conn, touched)  # before the added pupils are removed: theirs go with their marks
    return removed, restored


def _restore_changed_marks(conn, import_id: int, fallback_import_id: int | None) -> int:
    """Marks the import changed get back their code, minutes late and import."""
    rows = conn.execute(
        "SELECT old_code, old_minutes_late, COALESCE(old_import_id, ?), pupil_id, day, session "
        "FROM mark_changes WHERE import_id = ?", (fallback_import_id, import_id)).fetchall()
    conn.executemany(
        "UPDATE marks SET code = ?, minutes_late = ?, import_id = ? WHERE pupil_id = ? AND day = ? AND session = ?", rows)
    return len(rows)
