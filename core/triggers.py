"""Statutory triggers of DOMAIN.md §4, each with the date it was first reached.

A trigger is reached on the first date in the academic year that satisfies it, counting
only marks on or before that date; `reached_on` is the date of the session that
completes it. Only pupils of compulsory school age are considered. Thresholds and the
penalty-notice codes come from the settings. Everything is vectorised over sessions.

Each trigger is one row of `TRIGGERS` (id, label, badge, next step, finder); `find_triggers`
runs every row's finder. A new trigger is a new row and its finder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, scope, store
from core import marks as marks_table

UNAUTHORISED_10_DAYS = "unauthorised_10_days"
UNAUTHORISED_20_DAYS = "unauthorised_20_days"
ILLNESS_15_DAYS = "illness_15_days"
PENALTY_NOTICE_THRESHOLD = "penalty_notice_threshold"

COLUMNS = ["pupil_id", "upn", "trigger", "reached_on", "detail"]


@dataclass(frozen=True)
class TriggerRules:
    """The thresholds in force, from the settings (defaults in store.DEFAULT_SETTINGS)."""

    unauthorised_run_days: dict[str, int]
    illness_sessions: int
    penalty_sessions: int
    penalty_school_weeks: int
    penalty_codes: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: dict) -> "TriggerRules":
        return cls(
            unauthorised_run_days=dict(settings["unauthorised_run_days"]),
            illness_sessions=int(settings["illness_sessions"]),
            penalty_sessions=int(settings["penalty_sessions"]),
            penalty_school_weeks=int(settings["penalty_school_weeks"]),
            penalty_codes=tuple(settings["penalty_codes"]),
        )


def reached(db: sqlite_utils.Database, as_of: date | None = None, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Every trigger reached by a pupil of compulsory school age in the academic year up to
    `as_of` (only by the pupils `pupil_ids`, read for them alone, when given)."""
    if as_of is None:
        span = marks_table.mark_date_range(db)
        if span is None:
            return pd.DataFrame(columns=COLUMNS)
        as_of = span[1]
    return reached_from(db, as_of, None, pupil_ids)


def _days(rules: "TriggerRules", as_of: date) -> tuple[int, int, int]:
    """Day numbers: the furthest back a trigger can look, the academic year's first day, `as_of`."""
    year_start = calendar.academic_year_start(as_of)
    # The penalty window may reach back into the previous term or academic year.
    look_back = year_start - timedelta(weeks=rules.penalty_school_weeks + 30)
    return calendar.to_day(look_back), calendar.to_day(year_start), calendar.to_day(as_of)


def marks_needed(db: sqlite_utils.Database, as_of: date) -> tuple[int, int]:
    """The day numbers (first, last) of the marks `reached` reads for `as_of`: from the first
    mark the look-back window holds — or from the first day of the academic year when it holds
    none before it, so that the read is the same as for the year's figures — to `as_of`."""
    first_day, year_first_day, last_day = _days(TriggerRules.from_settings(store.get_settings(db)), as_of)
    first_marked = marks_table.first_marked_day_from(db, first_day)
    return (year_first_day if first_marked is None or first_marked >= year_first_day else first_marked), last_day


def reached_from(db: sqlite_utils.Database, as_of: date, read: scope.ScopeMarks | None,
                 pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """`reached`, given a scope read (core/scope.py) of at least the pupils of compulsory
    school age over `marks_needed(db, as_of)`; None reads it here. With `pupil_ids` (one
    school of a trust's store), only those pupils' triggers: the same rows as every pupil's
    `reached` holds for them (a pupil's triggers are found from their own marks; the school
    days and weeks stay the store's)."""
    rules = TriggerRules.from_settings(store.get_settings(db))
    first_day, year_first_day, last_day = _days(rules, as_of)
    misconfigured = bool(set(rules.penalty_codes) & set(scope.PLAIN_PRESENT))
    if read is not None and not misconfigured:  # only the pupils read can reach a trigger
        in_read = np.union1d(read.pupils["pupil_id"].to_numpy(dtype=np.int64),
                             read.marks["pupil_id"].to_numpy(dtype=np.int64))
        pupil_ids = in_read if pupil_ids is None else np.intersect1d(in_read, np.asarray(pupil_ids, dtype=np.int64))
    pupils = store.pupils_frame(db, pupil_ids=pupil_ids, columns=("id", "upn", "dob", "nc_year"))
    compulsory = pupils[
        calendar.compulsory_school_age(pupils["dob"], pupils["nc_year"], calendar.academic_year(as_of)).to_numpy()
    ]
    school_days = marks_table.school_session_days(db, first_day, last_day)["day"].to_numpy()
    if misconfigured:
        # Thresholds that count present marks (a misconfiguration): read every mark.
        candidates = _candidates(db, rules, compulsory["id"], first_day, year_first_day, last_day)
        marks = marks_table.load_marks(db, first_day, last_day, pupil_ids=candidates)
        found = find_triggers(marks, rules, year_first_day, school_days)
    else:
        if read is None:  # only the pupils who might reach a trigger need reading
            might = might_reach(db, as_of, compulsory["id"].tolist())
            read = scope.read_scope(db, *marks_needed(db, as_of),
                                    compulsory["id"].tolist() if might is None else sorted(might))
        found = _find_in_scope(read.of_pupils(compulsory["id"]), rules, year_first_day, school_days)
    upns = compulsory.set_index("id")["upn"]
    return found.assign(upn=found["pupil_id"].map(upns))[COLUMNS].sort_values(
        ["reached_on", "upn", "trigger"], ignore_index=True
    )


def _candidates(db, rules: TriggerRules, pupil_ids: pd.Series, first_day: int, year_first_day: int, last_day: int) -> list[int]:
    """Pupils with enough unauthorised or illness sessions to possibly reach a trigger.

    A cheap tally narrows the session-by-session work to the pupils who need it.
    """
    tally = marks_table.tally_marks(db, first_day, last_day)
    return _enough(tally[tally["pupil_id"].isin(pupil_ids)], rules)


def might_reach(db: sqlite_utils.Database, as_of: date, pupil_ids: list[int] | None = None) -> list[int] | None:
    """The pupils (of `pupil_ids`, None: every pupil) who have enough unauthorised, penalty-code
    or illness sessions over `marks_needed(db, as_of)` to reach any trigger, counted from the
    yearly tallies of the whole academic years holding those days (at least the days' own
    sessions, so no pupil who could reach one is left out); None when the tallies cannot say.
    Reading only their marks finds every trigger `reached` finds."""
    first_day, last_day = marks_needed(db, as_of)
    tally = marks_table.year_tallies(db, first_day, last_day, pupil_ids)
    return None if tally is None else _enough(tally, TriggerRules.from_settings(store.get_settings(db)))


def might_reach_from_figures(db: sqlite_utils.Database, figures: pd.DataFrame) -> list[int] | None:
    """`might_reach` from the pupils' figures over exactly `marks_needed(db, as_of)` (their
    marks' own category columns): a pupil with fewer unauthorised sessions than the shortest
    count, and fewer authorised sessions (illness is authorised) than the illness count,
    reaches nothing. None when a penalty code is not unauthorised in every code era (then
    the figures cannot bound its sessions)."""
    rules = TriggerRules.from_settings(store.get_settings(db))
    eras = np.arange(len(codes.era_boundaries()) + 1)
    penalty = codes.classify_by_era(pd.Series(np.repeat(list(rules.penalty_codes), len(eras)), dtype=object),
                                    np.tile(eras, len(rules.penalty_codes)))
    if not (penalty == codes.UNAUTHORISED).all():
        return None
    fewest = min([rules.penalty_sessions, *rules.unauthorised_run_days.values()])
    keep = (figures[codes.UNAUTHORISED] >= fewest) | (figures[codes.AUTHORISED] >= rules.illness_sessions)
    return figures.loc[keep.to_numpy(), "pupil_id"].astype("int64").tolist()


def _enough(tally: pd.DataFrame, rules: TriggerRules) -> list[int]:
    """The pupils of a (pupil_id, code, era, sessions) tally with enough sessions for a trigger:
    a run of N unauthorised days holds at least N unauthorised sessions, the penalty-notice
    threshold `penalty_sessions` of the penalty codes, the illness trigger `illness_sessions` of I."""
    category = codes.classify_by_era(tally["code"], tally["era"].to_numpy())
    unauthorised = tally["code"].isin(rules.penalty_codes) | (category == codes.UNAUTHORISED).to_numpy()
    fewest = min([rules.penalty_sessions, *rules.unauthorised_run_days.values()])
    by_pupil = tally.assign(
        unauthorised=tally["sessions"].where(unauthorised, 0),
        illness=tally["sessions"].where(tally["code"] == "I", 0),
    ).groupby("pupil_id")[["unauthorised", "illness"]].sum()
    # Illness counts only this academic year, but the wider tally is a safe over-estimate.
    keep = (by_pupil["unauthorised"] >= fewest) | (by_pupil["illness"] >= rules.illness_sessions)
    return by_pupil.index[keep].tolist()


def _find_in_scope(marks_read: scope.ScopeMarks, rules: TriggerRules, year_first_day: int,
                   school_days: np.ndarray) -> pd.DataFrame:
    """`find_triggers` from a scope read without its plain present marks (core/scope.py):
    every mark the illness and penalty-notice counts need is among those read, and the runs
    of unauthorised days come from `ScopeMarks.days_all`, which counts the days not read."""
    runs = marks_read.days_all((codes.UNAUTHORISED,))
    runs = runs.assign(length=runs.groupby("run").cumcount() + 1,
                       start=runs.groupby("run")["day"].transform("first"))
    marks = marks_read.marks.sort_values(["pupil_id", "day", "session"], ignore_index=True)
    return _found(Sessions(marks, runs[["pupil_id", "day", "length", "start"]], year_first_day, school_days), rules)


def find_triggers(marks: pd.DataFrame, rules: TriggerRules, year_first_day: int, school_days: np.ndarray) -> pd.DataFrame:
    """Triggers from sessions (pupil_id, day, session, code); reached days ≥ `year_first_day`.

    `school_days` are the day numbers on which the school held a session; their weeks
    are the school weeks of the rolling penalty-notice window.
    """
    marks = marks.sort_values(["pupil_id", "day", "session"], ignore_index=True)
    category = codes.classify_by_era(marks["code"], codes.era_of(calendar.days_to_dates(marks["day"])))
    marks = marks.assign(category=category.astype(str).to_numpy())
    return _found(Sessions(marks, _unauthorised_days(marks), year_first_day, school_days), rules)


@dataclass(frozen=True)
class Sessions:
    """What a trigger's finder reads, however the marks were read."""

    marks: pd.DataFrame  # pupil_id, day, session, code; in pupil, day and session order
    # Each day a pupil had a possible session and all were unauthorised, in pupil and day order:
    # pupil_id, day, length (the days of its run so far), start (the run's first day).
    unauthorised_days: pd.DataFrame
    year_first_day: int  # triggers are reached on this day or later
    school_days: np.ndarray  # day numbers on which the school held a session

    @property
    def this_year(self) -> pd.DataFrame:
        return self.marks[self.marks["day"] >= self.year_first_day]


def _found(sessions: Sessions, rules: TriggerRules) -> pd.DataFrame:
    """Every trigger of the table found, one row each (pupil_id, trigger, reached_on, detail)."""
    found = [frame.assign(trigger=trigger.id) for trigger in TRIGGERS
             if not (frame := trigger.finder(sessions, rules)).empty]
    if not found:
        return pd.DataFrame(columns=["pupil_id", "trigger", "reached_on", "detail"])
    return pd.concat(found, ignore_index=True)[["pupil_id", "trigger", "reached_on", "detail"]]


def _iso(day: int) -> str:
    return calendar.from_day(day).isoformat()


def _unauthorised_days(marks: pd.DataFrame) -> pd.DataFrame:
    """The days of `Sessions.unauthorised_days` from every mark (with its category).

    Days with no possible session for the pupil neither count nor break a run, so the
    summer holiday doesn't either: a run may begin in the previous academic year.
    """
    possible = marks[marks["category"].isin(codes.POSSIBLE_CATEGORIES)]
    days = (
        possible.assign(unauthorised=possible["category"] == codes.UNAUTHORISED)
        .groupby(["pupil_id", "day"], sort=True)["unauthorised"].all()
        .reset_index()
    )
    # A new run starts at each day that breaks the previous one, and at each new pupil.
    new_pupil = days["pupil_id"].ne(days["pupil_id"].shift())
    run_id = (~days["unauthorised"] | new_pupil).cumsum()
    length = days["unauthorised"].astype(int).groupby(run_id).cumsum()
    start = days["day"].where(days["unauthorised"]).groupby(run_id).transform("min")
    unauthorised = days["unauthorised"].to_numpy(dtype=bool)
    return pd.DataFrame({"pupil_id": days["pupil_id"], "day": days["day"], "length": length,
                         "start": start})[unauthorised].reset_index(drop=True)


def _unauthorised_run(setting_key: str):
    """The finder of a run of unauthorised days as long as the setting `setting_key` says:
    `days` consecutive school days on which every possible session is unauthorised, reached
    on the first day of this academic year on which the run is long enough."""

    def finder(sessions: Sessions, rules: TriggerRules) -> pd.DataFrame:
        days, run_days = sessions.unauthorised_days, rules.unauthorised_run_days[setting_key]
        hits = days[(days["length"] >= run_days) & (days["day"] >= sessions.year_first_day)]
        hits = hits.groupby("pupil_id", sort=False).head(1)
        return pd.DataFrame({
            "pupil_id": hits["pupil_id"].to_numpy(),
            "reached_on": [calendar.from_day(d) for d in hits["day"]],
            "detail": [
                f"{length} consecutive school days of unauthorised absence, {_iso(first)} to {_iso(day)}"
                for first, day, length in zip(hits["start"].astype(int), hits["day"], hits["length"])
            ],
        })

    return finder


def _illness(found_in: Sessions, rules: TriggerRules) -> pd.DataFrame:
    """`illness_sessions` or more illness (`I`) sessions this academic year, consecutive or not."""
    sessions, marks = rules.illness_sessions, found_in.this_year
    ill = marks[marks["code"] == "I"]
    count = ill.groupby("pupil_id").cumcount() + 1
    hits = ill[count == sessions]
    return pd.DataFrame({
        "pupil_id": hits["pupil_id"].to_numpy(),
        "reached_on": [calendar.from_day(d) for d in hits["day"]],
        "detail": [f"{sessions} sessions of illness (I) this academic year, the {sessions}th on {_iso(d)}" for d in hits["day"]],
    })


def _first_week_of_window(week_index: np.ndarray, rules: TriggerRules) -> np.ndarray:
    """Index (among the school weeks) of the first week of the rolling penalty window that
    ends in the week at `week_index`: that week and the school weeks before it."""
    return np.maximum(np.asarray(week_index) - (rules.penalty_school_weeks - 1), 0)


def penalty_window(db: sqlite_utils.Database, as_of: date, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Per pupil: unauthorised sessions (the penalty codes) on or before `as_of` in the rolling
    window of the penalty-notice threshold — the school week of `as_of` and the school weeks
    before it (10 in all by default), reaching back into an earlier term or year — and the
    window's first day. Pupils with none in the window have 0. For letters and lists."""
    rules = TriggerRules.from_settings(store.get_settings(db))
    last_day = calendar.to_day(as_of)
    look_back = calendar.to_day(as_of - timedelta(weeks=rules.penalty_school_weeks + 30))
    weeks = calendar.school_weeks(marks_table.school_session_days(db, look_back, last_day)["day"].to_numpy())
    columns = ["pupil_id", "unauthorised_sessions", "window_from"]
    if len(weeks) == 0:
        return pd.DataFrame(columns=columns)
    this_week = calendar.week_of_days(np.array([last_day]))[0]
    at = int(np.searchsorted(weeks, this_week, side="left"))
    in_school_week = at < len(weeks) and weeks[at] == this_week
    end = at if in_school_week else at - 1  # a holiday week: the window is the school weeks before it
    if end < 0:
        return pd.DataFrame(columns=columns)
    window_from = int(weeks[int(_first_week_of_window(np.array([end]), rules)[0])])
    counted = marks_table.tally_marks(db, window_from, last_day, None if pupil_ids is None else list(pupil_ids))
    counted = counted[counted["code"].isin(rules.penalty_codes)].groupby("pupil_id")["sessions"].sum()
    ids = counted.index if pupil_ids is None else pd.Index([int(p) for p in pupil_ids])
    return pd.DataFrame({"pupil_id": ids.to_numpy(dtype=np.int64),
                         "unauthorised_sessions": counted.reindex(ids, fill_value=0).astype("int64").to_numpy(),
                         "window_from": calendar.from_day(window_from)}, columns=columns)


def _penalty_threshold(sessions: Sessions, rules: TriggerRules) -> pd.DataFrame:
    """`penalty_sessions` unauthorised sessions (penalty codes) within a rolling window of school weeks.

    On a date, count the sessions on or before it in the school week of the date and the
    school weeks before it. Within the year the count only rises at such a session, so the
    threshold is first met on the date of one of them — or, when sessions carried over
    from before the academic year already meet it, on the year's first school day.
    """
    year_first_day, school_days = sessions.year_first_day, sessions.school_days
    counted = sessions.marks[sessions.marks["code"].isin(rules.penalty_codes)]
    year_days = school_days[school_days >= year_first_day]
    if counted.empty or len(year_days) == 0:
        return pd.DataFrame()
    weeks = calendar.school_weeks(school_days)
    reach_back = rules.penalty_school_weeks - 1
    day = counted["day"].to_numpy()
    week_index = np.searchsorted(weeks, calendar.week_of_days(day))
    pupil = counted["pupil_id"].to_numpy(dtype=np.int64)
    span = len(weeks) + 1
    key = pupil * span + week_index  # ascending: marks are ordered by pupil, then day
    window_start = np.searchsorted(key, pupil * span + _first_week_of_window(week_index, rules), side="left")
    in_window = np.arange(len(key)) - window_start + 1
    hit = (in_window >= rules.penalty_sessions) & (day >= year_first_day)
    reached = pd.DataFrame({"pupil_id": pupil[hit], "day": day[hit], "first": day[window_start[hit]]})

    first_school_day = int(year_days[0])
    first_week = np.searchsorted(weeks, calendar.week_of_days(np.array([first_school_day])))[0]
    before = counted[(day < first_school_day) & (week_index >= first_week - reach_back)]
    carried = before.groupby("pupil_id")["day"].agg(["size", "min"])
    carried = carried[carried["size"] >= rules.penalty_sessions]
    reached = pd.concat([
        pd.DataFrame({"pupil_id": carried.index.to_numpy(), "day": first_school_day, "first": carried["min"].to_numpy()}),
        reached,
    ]).groupby("pupil_id", sort=False).head(1)
    return pd.DataFrame({
        "pupil_id": reached["pupil_id"].to_numpy(),
        "reached_on": [calendar.from_day(d) for d in reached["day"]],
        "detail": [
            f"{rules.penalty_sessions} sessions of unauthorised absence ({'/'.join(rules.penalty_codes)}) "
            f"within {rules.penalty_school_weeks} school weeks, {_iso(first)} to {_iso(d)}"
            for first, d in zip(reached["first"], reached["day"])
        ],
    })


# --- the trigger table ---------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    """One statutory trigger: its id (the CLI's and the store's), how the screens name it,
    what follows, and the finder that tells who reached it and when."""

    id: str
    label: str  # in full, for the pupil's page, the CLI and reports
    badge: str  # short, for badges, lists and reports
    next_step: str
    # Sessions, rules → pupil_id, reached_on, detail: each pupil's first date this academic year.
    finder: Callable[[Sessions, TriggerRules], pd.DataFrame]


TRIGGERS = (
    Trigger(UNAUTHORISED_10_DAYS, "10 school days' unauthorised absence in a row", "10 days unauthorised",
            "Notify the local authority.", _unauthorised_run(UNAUTHORISED_10_DAYS)),
    Trigger(UNAUTHORISED_20_DAYS, "20 school days' unauthorised absence in a row", "20 days unauthorised",
            "Children-missing-education checks with the local authority.", _unauthorised_run(UNAUTHORISED_20_DAYS)),
    Trigger(ILLNESS_15_DAYS, "15 days' (30 sessions) illness", "15 days illness",
            "Notify the local authority (section 19 duty to arrange education).", _illness),
    Trigger(PENALTY_NOTICE_THRESHOLD, "Penalty-notice threshold", "Penalty-notice threshold",
            "Consider a penalty notice under the national framework.", _penalty_threshold),
)
BY_ID = {trigger.id: trigger for trigger in TRIGGERS}


# --- the history of triggers shown ---------------------------------------------------

HISTORY_COLUMNS = ["pupil_id", "trigger", "academic_year", "reached_on", "detail", "first_shown_at", "withdrawn_at"]
SYSTEM_USER = "pastoral"  # the audit log's name for writes the app makes by itself


def record_shown(db: sqlite_utils.Database, found: pd.DataFrame, as_of: date,
                 pupil_ids: list[int] | None = None) -> dict[str, int]:
    """Keep the history of the triggers shown for the academic year of `as_of`.

    `found` is `reached(db, as_of)` with `as_of` the last date with marks (the triggers
    standing now) — of only the pupils `pupil_ids` when given (one school's screen on a
    trust's store: the other pupils' history is left as it is). A trigger not in the history is recorded as first shown now; one in the
    history that is no longer reached — a corrected mark removed it — is marked withdrawn;
    one whose date moved keeps its first showing with the new date. Nothing is deleted.
    Returns how many were recorded, withdrawn and moved.
    """
    year = calendar.academic_year(as_of)
    in_scope = None if pupil_ids is None else {int(p) for p in pupil_ids}
    now = {(int(p), t): (r.isoformat(), d) for p, t, r, d in
           found[["pupil_id", "trigger", "reached_on", "detail"]].itertuples(index=False)}

    def changes(conn) -> tuple[list, list, list]:
        standing = {(int(p), t): (r, d) for p, t, r, d in conn.execute(
            "SELECT pupil_id, trigger, reached_on, detail FROM trigger_history "
            "WHERE academic_year = ? AND withdrawn_at IS NULL", (year,)).fetchall()
            if in_scope is None or int(p) in in_scope}
        return ([key for key in now if key not in standing], [key for key in standing if key not in now],
                [key for key in now if key in standing and standing[key] != now[key]])

    if not any(changes(db.conn)):  # the everyday case: read only, no write lock taken
        return {"recorded": 0, "withdrawn": 0, "moved": 0}
    at = store.now()
    with store.transaction(db) as conn:
        # Decided again under the write lock: two screens drawn at once (a sign-in and the
        # page it opens) both find the same triggers new, and only the first records them.
        new, gone, moved = changes(conn)
        if not (new or gone or moved):
            return {"recorded": 0, "withdrawn": 0, "moved": 0}
        conn.executemany(
            "INSERT INTO trigger_history (pupil_id, trigger, academic_year, reached_on, detail, first_shown_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [(p, t, year, *now[(p, t)], at) for p, t in new])
        conn.executemany(
            "UPDATE trigger_history SET withdrawn_at = ? WHERE pupil_id = ? AND trigger = ? AND academic_year = ? "
            "AND withdrawn_at IS NULL", [(at, p, t, year) for p, t in gone])
        conn.executemany(
            "UPDATE trigger_history SET reached_on = ?, detail = ? WHERE pupil_id = ? AND trigger = ? "
            "AND academic_year = ? AND withdrawn_at IS NULL", [(*now[(p, t)], p, t, year) for p, t in moved])
        store.audit(conn, SYSTEM_USER, "triggers.shown", "trigger_history", year,
                    {"as_of": as_of.isoformat(), "recorded": len(new), "withdrawn": len(gone), "moved": len(moved),
                     "withdrawn_pupils": sorted({p for p, _ in gone})})
    return {"recorded": len(new), "withdrawn": len(gone), "moved": len(moved)}


def history(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Every trigger the app has shown, oldest first, with when it was first shown and withdrawn."""
    sql = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM trigger_history"
    params: list = []
    if pupil_ids is not None:
        sql += " WHERE pupil_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps([int(p) for p in pupil_ids]))
    frame = pd.DataFrame(db.execute(sql + " ORDER BY first_shown_at, id", params).fetchall(), columns=HISTORY_COLUMNS)
    return frame.assign(reached_on=frame["reached_on"].map(date.fromisoformat))


# --- triggers kept for the next read (a trust's store) ------------------------------------------


def keep(db: sqlite_utils.Database, version_key: str, as_of: date, found: pd.DataFrame) -> None:
    """Keep `found` (`reached` as at `as_of`) under the read version it was found for; what was
    kept for any other version goes."""
    rows = found[COLUMNS].assign(reached_on=found["reached_on"].map(lambda d: d.isoformat())).to_dict("records")
    with store.transaction(db) as conn:
        conn.execute("DELETE FROM triggers_kept WHERE version != ?", (version_key,))
        conn.execute("INSERT OR REPLACE INTO triggers_kept (as_of, version, kept_at, triggers) VALUES (?, ?, ?, ?)",
                     (as_of.isoformat(), version_key, store.now(), json.dumps(rows, default=str)))


def kept(db: sqlite_utils.Database, version_key: str, as_of: date) -> pd.DataFrame | None:
    """The triggers kept for this version and date, as `reached` returns them; None if none."""
    row = db.execute("SELECT triggers FROM triggers_kept WHERE as_of = ? AND version = ?",
                     (as_of.isoformat(), version_key)).fetchone()
    if row is None:
        return None
    frame = pd.DataFrame(json.loads(row[0]), columns=COLUMNS)
    return frame.assign(pupil_id=frame["pupil_id"].astype("int64"),
                        reached_on=frame["reached_on"].map(date.fromisoformat))
