"""The SQLite store: connections, transactions, schema migrations, settings, audit, pupils.

One short-lived connection per operation, never shared across threads or reruns. Every
connection has WAL, foreign keys and a busy timeout. Writes happen inside `transaction`,
which takes the write lock up front (BEGIN IMMEDIATE) so two writers queue rather than
deadlock. sqlite-utils serves the schema and the small tables; the marks table, and the
yearly tallies kept with it, are read and written by core/marks.py (DESIGN.md, "Store").
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from core import characteristics, codes

DEFAULT_DB = Path("var/pastoral.db")

# A school's roles; a trust's roles (issue 18) see several schools. ALL_ROLES is what a user may be.
ROLES = ("admin", "attendance_officer", "pastoral_lead", "head_of_section", "viewer")
TRUST_ROLES = ("trust_admin", "trust_lead", "hub_lead")
ALL_ROLES = ROLES + TRUST_ROLES

DEFAULT_SETTINGS: dict[str, Any] = {
    "school_name": "Our School",
    # Section of each year group; a head of section sees the pupils of their section(s).
    "sections": {
        "Early Years": ["N1", "N2", "R"],
        "Primary": ["1", "2", "3", "4", "5", "6"],
        "Secondary": ["7", "8", "9", "10", "11"],
        "Sixth Form": ["12", "13", "14"],
    },
    # Statutory triggers (DOMAIN.md §4): defaults, configurable per local authority.
    "unauthorised_run_days": {"unauthorised_10_days": 10, "unauthorised_20_days": 20},
    "illness_sessions": 30,
    "penalty_sessions": 10,
    "penalty_school_weeks": 10,
    "penalty_codes": ["G", "N", "O", "U"],
    # Case work (used by later screens).
    "no_action_days": 10,
    # The meeting's agenda lists reduced timetables whose review falls within this many days.
    "review_due_within_days": 7,
    # How many pupils a meeting's agenda takes by default (the rest carried to the next
    # meeting), and how long the meeting runs: about 2 minutes a pupil (issue 16).
    "meeting_agenda_length": 20,
    "meeting_minutes": 45,
    "impact_school_days": 20,
    # Attendance support plans: a review falls due this many weeks after the plan started or
    # its last review (issue 17; reviews at least this far apart unless brought forward).
    "plan_review_weeks": 6,
    # The school's local authority, named on the LA's termly targeting-support meeting pack.
    "local_authority": "",
    # The LA pack lists persistently absent pupils with at least this many agencies involved.
    "la_pack_min_agencies": 2,
    "max_upload_mb": 50,
    # UK GDPR storage limitation: leavers' data is removed this long after leaving
    # (register entries must be kept 6 years under the 2024 Pupil Registration Regulations).
    "leaver_retention_years": 6,
    # The attendance officer's daily work.
    # Marks a first-day call can say to enter in the MIS once a parent gives the reason.
    "first_day_call_marks": ["I", "M", "R", "J1", "C", "G", "O", "L", "U"],
    # An N should be resolved within this many school days (DOMAIN.md §4); older ones are listed.
    "unresolved_n_school_days": 5,
    # Persistent lateness: this many late arrivals (L or U) in one half term.
    "persistent_late_arrivals": 10,
    # Penalty notices (national framework): amounts in pounds; per parent per child, a second within
    # `penalty_repeat_years` is the flat `second` amount and no more than `penalty_notices_per_parent_child`.
    "penalty_amounts": {"first_paid_within_21_days": 80, "first_paid_within_28_days": 160, "second": 160},
    "penalty_repeat_years": 3,
    "penalty_notices_per_parent_child": 2,
    # A Notice to Improve's improvement period (national framework: 3 to 6 weeks).
    "penalty_improvement_weeks": {"shortest": 3, "longest": 6},
    # Children missing education (core/missing_education.py): the school day (counting the first
    # day of absence as day 1) by which each statutory step is due.
    "cme_step_school_days": {"first_day_contact": 1, "enquiries": 3, "home_visit": 10, "joint_enquiries": 20},
    # Letters: the school's address and who signs them.
    "school_address": "",
    "school_phone": "",
    "letter_signatory": "",
    "letter_signatory_role": "Attendance Officer",
    # The school's own targets, by academic year (its starting year, as text): attendance % to
    # reach or beat and persistent absence % (pupils) to stay at or under (core/benchmarks.py).
    # {"2025": {"attendance_pct": 95.0, "persistent_absence_pct": 15.0}}; a year absent: no target.
    "targets": {},
    # A trust's own targets (issue 18), the same shape with severe absence % (pupils, at or under)
    # too: shown on the Trust screen beside each school's figures and its own targets.
    "trust_targets": {},
}

# Numbered migrations. Each is a list of statements run in one transaction; the
# database's user_version records how many have been applied.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)""",
        """CREATE TABLE code_map (
            local_code TEXT PRIMARY KEY,
            dfe_code TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)""",
        f"""CREATE TABLE users (
            username TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ({", ".join(repr(r) for r in ROLES)})),
            sections TEXT NOT NULL DEFAULT '[]',
            active INTEGER NOT NULL DEFAULT 1,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            shape TEXT NOT NULL,
            rows INTEGER NOT NULL,
            pupils INTEGER NOT NULL,
            pupils_added INTEGER NOT NULL DEFAULT 0,
            pupils_updated INTEGER NOT NULL DEFAULT 0,
            marks_added INTEGER NOT NULL DEFAULT 0,
            marks_changed INTEGER NOT NULL DEFAULT 0,
            date_from TEXT,
            date_to TEXT,
            data_as_at TEXT,
            imported_by TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'imported' CHECK (status IN ('imported', 'undone')))""",
        """CREATE TABLE pupils (
            id INTEGER PRIMARY KEY,
            upn TEXT NOT NULL UNIQUE,
            adno TEXT NOT NULL DEFAULT '',
            surname TEXT NOT NULL DEFAULT '',
            forename TEXT NOT NULL DEFAULT '',
            dob TEXT,
            gender TEXT NOT NULL DEFAULT '',
            year_group TEXT NOT NULL DEFAULT '',
            nc_year INTEGER,
            form TEXT NOT NULL DEFAULT '',
            pp INTEGER NOT NULL DEFAULT 0,
            fsm INTEGER NOT NULL DEFAULT 0,
            sen TEXT NOT NULL DEFAULT 'N' CHECK (sen IN ('N', 'K', 'E')),
            eal INTEGER NOT NULL DEFAULT 0,
            cla INTEGER NOT NULL DEFAULT 0,
            entry_date TEXT,
            leave_date TEXT,
            on_roll INTEGER NOT NULL DEFAULT 1,
            first_import_id INTEGER REFERENCES imports(id),
            updated_import_id INTEGER REFERENCES imports(id))""",
        "CREATE INDEX pupils_adno ON pupils(adno)",
        """CREATE TABLE pupil_changes (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            import_id INTEGER NOT NULL REFERENCES imports(id),
            before TEXT NOT NULL)""",
        """CREATE TABLE marks (
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            day INTEGER NOT NULL,
            session INTEGER NOT NULL CHECK (session IN (0, 1)),
            code TEXT NOT NULL,
            minutes_late INTEGER,
            import_id INTEGER NOT NULL REFERENCES imports(id),
            PRIMARY KEY (pupil_id, day, session)) WITHOUT ROWID""",
        "CREATE INDEX marks_day ON marks(day, code)",
        # Covering index for tallies: GROUP BY pupil, code straight from the index.
        "CREATE INDEX marks_pupil_code ON marks(pupil_id, code, day)",
        """CREATE TABLE mark_changes (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            day INTEGER NOT NULL,
            session INTEGER NOT NULL,
            old_code TEXT NOT NULL,
            new_code TEXT NOT NULL,
            old_minutes_late INTEGER,
            new_minutes_late INTEGER,
            import_id INTEGER NOT NULL REFERENCES imports(id))""",
        "CREATE INDEX mark_changes_pupil ON mark_changes(pupil_id, day)",
        "CREATE INDEX mark_changes_import ON mark_changes(import_id)",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            username TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL DEFAULT '',
            entity_id TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}')""",
        "CREATE INDEX audit_at ON audit(at)",
    ],
    # 2: case work — interventions, check-ins, contacts, key adults (nothing is deleted).
    [
        """CREATE TABLE intervention_types (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 6),
            details TEXT NOT NULL DEFAULT '[]',
            needs_review_date INTEGER NOT NULL DEFAULT 0,
            help TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            sort INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE interventions (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            type_id INTEGER NOT NULL REFERENCES intervention_types(id),
            tier INTEGER NOT NULL,
            owner TEXT NOT NULL,
            opened_on TEXT NOT NULL,
            review_on TEXT,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            summary TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            sensitive_note TEXT NOT NULL DEFAULT '',
            details TEXT NOT NULL DEFAULT '{}',
            closed_on TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_by TEXT,
            updated_at TEXT)""",
        "CREATE INDEX interventions_pupil ON interventions(pupil_id, opened_on)",
        """CREATE TABLE intervention_history (
            id INTEGER PRIMARY KEY,
            intervention_id INTEGER NOT NULL REFERENCES interventions(id),
            changed_by TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            before TEXT NOT NULL)""",
        """CREATE TABLE checkins (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            intervention_id INTEGER REFERENCES interventions(id),
            due_on TEXT NOT NULL,
            owner TEXT NOT NULL,
            done_on TEXT,
            done_by TEXT,
            outcome TEXT,
            note TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX checkins_due ON checkins(done_on, due_on)",
        "CREATE INDEX checkins_pupil ON checkins(pupil_id)",
        """CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            intervention_id INTEGER REFERENCES interventions(id),
            kind TEXT NOT NULL,
            with_whom TEXT NOT NULL,
            contact_on TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            sensitive_note TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX contacts_pupil ON contacts(pupil_id, contact_on)",
        """CREATE TABLE key_adults (
            pupil_id INTEGER PRIMARY KEY REFERENCES pupils(id),
            username TEXT NOT NULL,
            assigned_on TEXT NOT NULL,
            assigned_by TEXT NOT NULL)""",
    ],
    # 3: importers — saved column mappings, per-pupil summary counts, and what undoing an
    # import needs (the import each changed mark came from; who undid an import, when).
    [
        """CREATE TABLE mapping_profiles (
            name TEXT PRIMARY KEY,
            mapping TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)""",
        # Summary counts are kept only as a roll-up for dates with no marks; a corrected
        # upload supersedes a row rather than overwriting it, so an undo can bring it back.
        """CREATE TABLE summary_counts (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
            date_from TEXT NOT NULL,
            date_to TEXT NOT NULL,
            possible_sessions INTEGER NOT NULL,
            attendance_sessions INTEGER NOT NULL,
            authorised_sessions INTEGER NOT NULL,
            unauthorised_sessions INTEGER NOT NULL,
            import_id INTEGER NOT NULL REFERENCES imports(id),
            superseded_by INTEGER REFERENCES imports(id))""",
        "CREATE UNIQUE INDEX summary_counts_current ON summary_counts(pupil_id, date_from, date_to) "
        "WHERE superseded_by IS NULL",
        "CREATE INDEX summary_counts_import ON summary_counts(import_id)",
        "ALTER TABLE mark_changes ADD COLUMN old_import_id INTEGER REFERENCES imports(id)",
        "ALTER TABLE imports ADD COLUMN undone_at TEXT",
        "ALTER TABLE imports ADD COLUMN undone_by TEXT",
    ],
    # 4: meetings and their minutes (issue 7) — attendees, decisions (each linked to the
    # action or check-in it created), notes; and the reports issued, so the next one can
    # say what changed since. Nothing is deleted except with a leaver's records.
    [
        """CREATE TABLE meetings (
            id INTEGER PRIMARY KEY,
            held_on TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            since TEXT,
            attendees TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_by TEXT,
            updated_at TEXT)""",
        "CREATE INDEX meetings_held_on ON meetings(held_on)",
        """CREATE TABLE meeting_items (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            agenda TEXT NOT NULL DEFAULT '[]',
            decision TEXT NOT NULL,
            intervention_id INTEGER REFERENCES interventions(id),
            checkin_id INTEGER REFERENCES checkins(id),
            owner TEXT,
            check_in_on TEXT,
            note TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX meeting_items_meeting ON meeting_items(meeting_id)",
        "CREATE INDEX meeting_items_pupil ON meeting_items(pupil_id)",
        """CREATE TABLE report_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            date_from TEXT NOT NULL,
            as_of TEXT NOT NULL,
            figures TEXT NOT NULL DEFAULT '{}',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX report_runs_scope ON report_runs(kind, scope, as_of)",
    ],
    # 5: the history of the statutory triggers the app has shown (DOMAIN.md §4): triggers
    # are recomputed from the marks as stored, so a corrected mark can withdraw one; this
    # keeps when each was first shown and, if so, when it was withdrawn.
    [
        """CREATE TABLE trigger_history (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            trigger TEXT NOT NULL,
            academic_year INTEGER NOT NULL,
            reached_on TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            first_shown_at TEXT NOT NULL,
            withdrawn_at TEXT)""",
        "CREATE UNIQUE INDEX trigger_history_standing ON trigger_history(pupil_id, trigger, academic_year) "
        "WHERE withdrawn_at IS NULL",
        "CREATE INDEX trigger_history_pupil ON trigger_history(pupil_id)",
    ],
    # 6: the attendance officer's daily work — what the roll says about each pupil's family,
    # contacts and groups (blank until a roll carries it); first-day calls; letter templates;
    # siblings confirmed (or ruled out) by a person; the parent each penalty notice went to.
    [
        *(f"ALTER TABLE pupils ADD COLUMN {column} TEXT NOT NULL DEFAULT ''" for column in (
            "contact1_name", "contact1_relationship", "contact1_phone", "contact1_email",
            "contact2_name", "contact2_relationship", "contact2_phone", "contact2_email",
            "address", "postcode", "family_id", "ethnicity", "social_worker", "flags")),
        "ALTER TABLE pupils ADD COLUMN young_carer INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE pupils ADD COLUMN vulnerable INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX pupils_family ON pupils(family_id) WHERE family_id != ''",
        """CREATE TABLE first_day_calls (
            id INTEGER PRIMARY KEY,
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            absence_on TEXT NOT NULL,
            session INTEGER NOT NULL CHECK (session IN (0, 1)),
            outcome TEXT NOT NULL CHECK (outcome IN ('reached', 'message_left', 'no_answer', 'reason_given')),
            mark_to_enter TEXT NOT NULL DEFAULT '',
            contact_id INTEGER NOT NULL REFERENCES contacts(id),
            called_by TEXT NOT NULL,
            called_at TEXT NOT NULL)""",
        "CREATE INDEX first_day_calls_session ON first_day_calls(absence_on, session)",
        """CREATE TABLE letter_templates (
            kind TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)""",
        """CREATE TABLE sibling_links (
            pupil_id INTEGER NOT NULL REFERENCES pupils(id),
            sibling_id INTEGER NOT NULL REFERENCES pupils(id),
            decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected')),
            reason TEXT NOT NULL DEFAULT '',
            decided_by TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (pupil_id, sibling_id),
            CHECK (pupil_id < sibling_id))""",
        """CREATE TABLE penalty_notice_parents (
            intervention_id INTEGER PRIMARY KEY REFERENCES interventions(id),
            parent TEXT NOT NULL)""",
    ],
]



def _academic_year_sql(day: str = "day") -> str:
    """SQL for the academic year (its starting year) of a stored day number."""
    moment = f"{day} * 86400, 'unixepoch'"
    return (f"(CAST(strftime('%Y', {moment}) AS INTEGER) - (CAST(strftime('%m', {moment}) AS INTEGER) < 9))")


def _era_case_sql(day: str = "day") -> str:
    """SQL for the code era of a stored day number (codes.era_boundaries; day numbers only)."""
    from core.calendar import to_day

    edges = [to_day(edge) for edge in codes.era_boundaries()]
    whens = " ".join(f"WHEN {day} < {int(edge)} THEN {i}" for i, edge in enumerate(edges))
    return f"(CASE {whens} ELSE {len(edges)} END)"


def _era_boundaries_json() -> str:
    return json.dumps([edge.isoformat() for edge in codes.era_boundaries()])


# Each pupil's sessions per code per academic year (and code era), kept with the marks by
# every write of marks, so the year's figures for every pupil (the PA list, a trust's
# 50,000 pupils) are read from a few rows a pupil rather than counted from every mark.
TALLIES_TABLE = """CREATE TABLE pupil_year_tallies (
    pupil_id INTEGER NOT NULL REFERENCES pupils(id),
    year INTEGER NOT NULL,
    era INTEGER NOT NULL,
    code TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (pupil_id, year, era, code)) WITHOUT ROWID"""
TALLIES_FILL = (f"INSERT INTO pupil_year_tallies (pupil_id, year, era, code, sessions) "
                f"SELECT pupil_id, {_academic_year_sql()}, {_era_case_sql()}, code, COUNT(*) FROM marks "
                "GROUP BY 1, 2, 3, 4")



def _tally_trigger(name: str, event: str, body: str) -> str:
    """A trigger keeping the tallies with any other change or removal of marks; a writer that
    keeps them itself, in bulk (the importer, undo, purge), sets tally_eras.bulk for its
    transaction."""
    return (f"CREATE TRIGGER {name} AFTER {event} ON marks "
            f"WHEN (SELECT bulk FROM tally_eras WHERE id = 1) = 0 BEGIN {body} END")


def _tally_step(side: str, step: int) -> str:
    """Add `step` to the tally of the mark NEW or OLD (and drop a tally that falls to none)."""
    year, era = _academic_year_sql(f"{side}.day"), _era_case_sql(f"{side}.day")
    where = f"pupil_id = {side}.pupil_id AND year = {year} AND era = {era} AND code = {side}.code"
    return ("INSERT INTO pupil_year_tallies (pupil_id, year, era, code, sessions) "
            f"VALUES ({side}.pupil_id, {year}, {era}, {side}.code, {step}) "
            f"ON CONFLICT (pupil_id, year, era, code) DO UPDATE SET sessions = sessions + {step}; "
            f"DELETE FROM pupil_year_tallies WHERE {where} AND sessions = 0;")


MIGRATIONS.append([
    # 7: per-pupil yearly tallies (see TALLIES_TABLE); the code eras they were counted in and
    # whether a bulk writer is keeping them; triggers keeping them with any other change or
    # removal of marks.
    TALLIES_TABLE,
    "CREATE TABLE tally_eras (id INTEGER PRIMARY KEY CHECK (id = 1), boundaries TEXT NOT NULL, "
    "bulk INTEGER NOT NULL DEFAULT 0)",
    f"INSERT INTO tally_eras (id, boundaries) VALUES (1, '{_era_boundaries_json()}')",
    TALLIES_FILL,
    # No trigger on INSERT (it would slow every import by a third): marks added some other way
    # make the tallies fall short of the marks, so they go unused (see marks._tallies_cover).
    _tally_trigger("marks_tally_delete", "DELETE", _tally_step("OLD", -1)),
    _tally_trigger("marks_tally_update", "UPDATE OF pupil_id, day, code",
                   _tally_step("OLD", -1) + " " + _tally_step("NEW", 1)),
])

MIGRATIONS.append([
    # 8: the seed of each intervention type as this store last took it from the code
    # (intervention_types.SEED_TYPES), so a later seed's new detail field or changed tier
    # reaches an existing school without undoing the school's own changes (the rule is in
    # core/intervention_types.py; `ensure_types` fills and follows this table).
    """CREATE TABLE intervention_type_seeds (
        name TEXT PRIMARY KEY,
        tier INTEGER NOT NULL,
        details TEXT NOT NULL,
        needs_review_date INTEGER NOT NULL,
        help TEXT NOT NULL)""",
])

MIGRATIONS.append([
    # 9: meeting mode held per user (issue 14): on until that user turns it off, so a reload,
    # a new tab or a new sign-in of the same user on the projector shows no names.
    "ALTER TABLE users ADD COLUMN meeting_mode INTEGER NOT NULL DEFAULT 0",
])

MIGRATIONS.append([
    # 10: the MIS's own pupil id (SIMS Person ID, Arbor/Bromcom/Wonde id) as the
    # roll carries it, so registers keyed by that id are matched through it (FORMATS.md).
    "ALTER TABLE pupils ADD COLUMN mis_id TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX pupils_mis_id ON pupils(mis_id) WHERE mis_id != ''",
])

MIGRATIONS.append([
    # 11: the meeting's agenda as it stood when the meeting started (issue 16): its pupils in
    # the order taken, with why each was on it, and how many the team chose to discuss; the
    # rest, and any not discussed, are carried to the next meeting. A minutes item is a
    # decision or a discussion without one (`outcome`); an attendance letter agreed there
    # records the stage to make (`letter_stage`) — a letter counts as sent only once made.
    "ALTER TABLE meetings ADD COLUMN agenda_length INTEGER",
    """CREATE TABLE meeting_agenda (
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        position INTEGER NOT NULL,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        kinds TEXT NOT NULL DEFAULT '[]',
        items TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (meeting_id, position),
        UNIQUE (meeting_id, pupil_id))""",
    "CREATE INDEX meeting_agenda_pupil ON meeting_agenda(pupil_id)",
    "ALTER TABLE meeting_items ADD COLUMN outcome TEXT NOT NULL DEFAULT 'decision' "
    "CHECK (outcome IN ('decision', 'discussed'))",
    "ALTER TABLE meeting_items ADD COLUMN letter_stage INTEGER",
])

MIGRATIONS.append([
    # 12 (issue 14): sign-in sessions held in the store (core/sessions.py): the SHA-256 of the
    # random token a browser's login cookie carries, whose it is, when it started and
    # expires, and when and why it ended (signed out, password changed, deactivated, role
    # changed, signed out everywhere). A session is live while not ended and not expired.
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        started_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        ended_why TEXT)""",
    "CREATE INDEX sessions_username ON sessions(username, ended_at)",
])

MIGRATIONS.append([
    # 13: the national figures shown beside the school's (DOMAIN.md §3) as data a school admin
    # updates by uploading the DfE statistics CSV (core/benchmarks.py): one row per academic
    # year (its starting year) and period ("full year", "autumn term", "year to date", …), each
    # measure a percentage or NULL where not published, where it came from and when published.
    """CREATE TABLE national_figures (
        academic_year INTEGER NOT NULL,
        period TEXT NOT NULL,
        overall_absence_pct REAL,
        persistent_absence_pct REAL,
        severe_absence_pct REAL,
        source TEXT NOT NULL,
        published_on TEXT,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (academic_year, period))""",
    # Shipped: DOMAIN.md §3's table and the latest figures published when this was written.
    *(f"INSERT INTO national_figures (academic_year, period, overall_absence_pct, persistent_absence_pct, "
      f"severe_absence_pct, source, published_on, updated_at, updated_by) VALUES ({row}, "
      "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), 'pastoral')" for row in (
          "2023, 'full year', 7.1, 20.0, 2.3, 'DfE, Pupil absence in schools in England', NULL",
          "2024, 'full year', 6.9, 18.7, NULL, 'DfE, Pupil absence in schools in England', NULL",
          "2025, 'autumn term', 6.62, 19.47, NULL, 'DfE, Pupil attendance in schools, 2026 week 2', NULL",
      )),
])

MIGRATIONS.append([
    # Penalty-notice ledger (issue 17 item 2, core/penalty_ledger.py): one row per threshold
    # reached for a child, per parent: the date and the exact sessions behind it, the Notice
    # to Improve (issued, improvement period end, met / not met), the decision (issue / waive,
    # reason, date, who), the notice issued (the penalty-notice action it recorded) and how it
    # was settled (paid with the amount, or withdrawn with why). A session is used by at most
    # one entry for the same parent and child (the primary key of penalty_ledger_sessions).
    """CREATE TABLE penalty_ledger (
        id INTEGER PRIMARY KEY,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        parent TEXT NOT NULL,
        parent_key TEXT NOT NULL,
        threshold_on TEXT NOT NULL,
        nti_issued_on TEXT,
        nti_period_end TEXT,
        nti_outcome TEXT CHECK (nti_outcome IN ('met', 'not_met')),
        nti_outcome_on TEXT,
        decision TEXT CHECK (decision IN ('issue', 'waive')),
        decision_reason TEXT NOT NULL DEFAULT '',
        decided_on TEXT,
        decided_by TEXT NOT NULL DEFAULT '',
        notice_issued_on TEXT,
        intervention_id INTEGER REFERENCES interventions(id),
        settled TEXT CHECK (settled IN ('paid', 'withdrawn')),
        settled_on TEXT,
        paid_amount INTEGER,
        settled_reason TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX penalty_ledger_pupil ON penalty_ledger(pupil_id)",
    """CREATE TABLE penalty_ledger_sessions (
        ledger_id INTEGER NOT NULL REFERENCES penalty_ledger(id) ON DELETE CASCADE,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        parent_key TEXT NOT NULL,
        day INTEGER NOT NULL,
        session INTEGER NOT NULL,
        code TEXT NOT NULL,
        PRIMARY KEY (pupil_id, parent_key, day, session))""",
    "CREATE INDEX penalty_ledger_sessions_entry ON penalty_ledger_sessions(ledger_id)",
])

MIGRATIONS.append([
    # Children missing education (issue 17 item 3, core/missing_education.py): a case per
    # pupil absent without reason from a date, and the statutory steps recorded on it
    # (first-day contact, enquiries, home visit, joint enquiries with the LA): when, by whom,
    # a note; closed with an outcome (returned, removed from roll after joint enquiries, ...).
    """CREATE TABLE cme_cases (
        id INTEGER PRIMARY KEY,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        absent_from TEXT NOT NULL,
        closed_on TEXT,
        outcome TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX cme_cases_pupil ON cme_cases(pupil_id)",
    """CREATE TABLE cme_steps (
        case_id INTEGER NOT NULL REFERENCES cme_cases(id),
        step TEXT NOT NULL,
        done_on TEXT NOT NULL,
        done_by TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (case_id, step))""",
])

MIGRATIONS.append([
    # 16 (issue 15 item 5): the school calendar (core/school_calendar.py): terms with their first
    # and last day, by academic year, and the non-school days inside them (INSET days, bank
    # holidays, closures), each with its kind and a label. Saved a whole academic year at a
    # time (`saved_at`, `saved_by` of that save); a school with none keeps days from the marks.
    """CREATE TABLE school_terms (
        first_day TEXT PRIMARY KEY,
        last_day TEXT NOT NULL CHECK (last_day >= first_day),
        academic_year INTEGER NOT NULL,
        name TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        saved_by TEXT NOT NULL)""",
    "CREATE INDEX school_terms_year ON school_terms(academic_year)",
    """CREATE TABLE non_school_days (
        day TEXT PRIMARY KEY,
        academic_year INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('inset', 'bank_holiday', 'closure')),
        label TEXT NOT NULL DEFAULT '',
        saved_at TEXT NOT NULL,
        saved_by TEXT NOT NULL)""",
])

MIGRATIONS.append([
    # 17: Attendance support plans (issue 17 item 1, core/support_plans.py): one plan per pupil at
    # a time with its barriers, Early Help status and review dates; the actions agreed by the
    # school, the family and others (an agency named); targets (attendance to reach by a date);
    # and the review meetings with their notes. Nothing is deleted: a plan is closed.
    """CREATE TABLE support_plans (
        id INTEGER PRIMARY KEY,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        started_on TEXT NOT NULL,
        owner TEXT NOT NULL,
        barriers TEXT NOT NULL DEFAULT '',
        early_help TEXT NOT NULL DEFAULT 'not_offered',
        next_review_on TEXT NOT NULL,
        shared_on TEXT,
        closed_on TEXT,
        outcome TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_by TEXT,
        updated_at TEXT)""",
    "CREATE INDEX support_plans_pupil ON support_plans(pupil_id, status)",
    """CREATE TABLE support_plan_actions (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES support_plans(id),
        party TEXT NOT NULL CHECK (party IN ('school', 'family', 'other')),
        agency TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        due_on TEXT,
        status TEXT NOT NULL DEFAULT 'agreed' CHECK (status IN ('agreed', 'done', 'not_done', 'refused')),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_by TEXT,
        updated_at TEXT)""",
    "CREATE INDEX support_plan_actions_plan ON support_plan_actions(plan_id)",
    """CREATE TABLE support_plan_targets (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES support_plans(id),
        set_on TEXT NOT NULL,
        attendance_pct REAL NOT NULL CHECK (attendance_pct > 0 AND attendance_pct <= 100),
        by_date TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX support_plan_targets_plan ON support_plan_targets(plan_id)",
    """CREATE TABLE support_plan_reviews (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES support_plans(id),
        held_on TEXT NOT NULL,
        attendance_pct REAL,
        note TEXT NOT NULL DEFAULT '',
        next_review_on TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX support_plan_reviews_plan ON support_plan_reviews(plan_id, held_on)",
])

MIGRATIONS.append([
    # (issue 18) A trust's schools: one row per school (its DfE number "LLL/EEEE", URN, the
    # hub it sits in), the store's own school created from the `school_name` setting as
    # school 1. Every pupil and import belongs to a school (school 1 unless routed elsewhere,
    # core/schools.py); a user's scope names their school(s) (`schools`, JSON ids; an admin
    # with none is the store's administrator, every school) or, for a hub lead, their `hub`.
    # The users table is rebuilt so its role CHECK takes the trust roles (store.TRUST_ROLES).
    """CREATE TABLE schools (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        urn TEXT NOT NULL DEFAULT '',
        dfe_number TEXT NOT NULL DEFAULT '',
        hub TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX schools_dfe_number ON schools(dfe_number) WHERE dfe_number != ''",
    "INSERT INTO schools (id, name, created_at) VALUES (1, COALESCE((SELECT json_extract(value, '$') FROM settings "
    f"WHERE key = 'school_name'), {DEFAULT_SETTINGS['school_name']!r}), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))",
    "ALTER TABLE pupils ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1",
    "CREATE INDEX pupils_school ON pupils(school_id)",
    "ALTER TABLE imports ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1",
    f"""CREATE TABLE users_with_schools (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ({", ".join(repr(r) for r in ALL_ROLES)})),
        sections TEXT NOT NULL DEFAULT '[]',
        active INTEGER NOT NULL DEFAULT 1,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        created_at TEXT NOT NULL,
        meeting_mode INTEGER NOT NULL DEFAULT 0,
        schools TEXT NOT NULL DEFAULT '[]',
        hub TEXT NOT NULL DEFAULT '')""",
    "INSERT INTO users_with_schools (username, name, email, password_hash, role, sections, active, failed_logins, "
    "locked_until, created_at, meeting_mode, schools) SELECT username, name, email, password_hash, role, sections, "
    "active, failed_logins, locked_until, created_at, meeting_mode, "
    "CASE WHEN role = 'admin' THEN '[]' ELSE '[1]' END FROM users",
    "DROP TABLE users",
    "ALTER TABLE users_with_schools RENAME TO users",
])

MIGRATIONS.append([
    # (issue 18) Pupils moving between a trust's schools keep one record: each move is a row
    # (from which school to which, on which date, by an import — `import_id`, so undoing that
    # import moves the pupil back — or by hand), and pupils.school_id says where they are now.
    """CREATE TABLE pupil_moves (
        id INTEGER PRIMARY KEY,
        pupil_id INTEGER NOT NULL REFERENCES pupils(id),
        from_school_id INTEGER NOT NULL REFERENCES schools(id),
        to_school_id INTEGER NOT NULL REFERENCES schools(id),
        moved_on TEXT NOT NULL,
        import_id INTEGER REFERENCES imports(id),
        moved_by TEXT NOT NULL,
        moved_at TEXT NOT NULL)""",
    "CREATE INDEX pupil_moves_pupil ON pupil_moves(pupil_id, moved_on)",
])

MIGRATIONS.append([
    # (issue 18 item 1) What may differ per school: `school_settings` holds a school's own value of
    # each of SCHOOL_KEYS (school 1, the store's own school, keeps using `settings`; another school
    # falls back to the store-wide value where it has none; its name is `schools.name`). The
    # letter templates and the school calendar belong to a school: rebuilt with `school_id` in
    # their keys, the rows already saved becoming school 1's.
    """CREATE TABLE school_settings (
        school_id INTEGER NOT NULL REFERENCES schools(id),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (school_id, key))""",
    """CREATE TABLE letter_templates_of_schools (
        school_id INTEGER NOT NULL DEFAULT 1 REFERENCES schools(id),
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (school_id, kind))""",
    "INSERT INTO letter_templates_of_schools (school_id, kind, title, body, updated_at, updated_by) "
    "SELECT 1, kind, title, body, updated_at, updated_by FROM letter_templates",
    "DROP TABLE letter_templates",
    "ALTER TABLE letter_templates_of_schools RENAME TO letter_templates",
    """CREATE TABLE school_terms_of_schools (
        school_id INTEGER NOT NULL DEFAULT 1 REFERENCES schools(id),
        first_day TEXT NOT NULL,
        last_day TEXT NOT NULL CHECK (last_day >= first_day),
        academic_year INTEGER NOT NULL,
        name TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        saved_by TEXT NOT NULL,
        PRIMARY KEY (school_id, first_day))""",
    "INSERT INTO school_terms_of_schools (school_id, first_day, last_day, academic_year, name, saved_at, saved_by) "
    "SELECT 1, first_day, last_day, academic_year, name, saved_at, saved_by FROM school_terms",
    "DROP TABLE school_terms",
    "ALTER TABLE school_terms_of_schools RENAME TO school_terms",
    "CREATE INDEX school_terms_year ON school_terms(school_id, academic_year)",
    """CREATE TABLE non_school_days_of_schools (
        school_id INTEGER NOT NULL DEFAULT 1 REFERENCES schools(id),
        day TEXT NOT NULL,
        academic_year INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('inset', 'bank_holiday', 'closure')),
        label TEXT NOT NULL DEFAULT '',
        saved_at TEXT NOT NULL,
        saved_by TEXT NOT NULL,
        PRIMARY KEY (school_id, day))""",
    "INSERT INTO non_school_days_of_schools (school_id, day, academic_year, kind, label, saved_at, saved_by) "
    "SELECT 1, day, academic_year, kind, label, saved_at, saved_by FROM non_school_days",
    "DROP TABLE non_school_days",
    "ALTER TABLE non_school_days_of_schools RENAME TO non_school_days",
])

MIGRATIONS.append([
    # (issue 18 item 5) The statutory triggers of the whole store as at its last date with marks,
    # worked out once after an import into a trust's store (core/triggers.py `keep`) and kept
    # under the read version they were found for (core/reads.py `version`): a screen's first
    # read after the import, in any process, takes them from here instead of walking every
    # candidate pupil's marks; any other change (an undo, a setting, a code mapping, the
    # calendar) makes a new version, and they are worked out from the marks again.
    """CREATE TABLE triggers_kept (
        as_of TEXT NOT NULL,
        version TEXT NOT NULL,
        kept_at TEXT NOT NULL,
        triggers TEXT NOT NULL,
        PRIMARY KEY (as_of, version))""",
])

MIGRATIONS.append([
    # A count of every change to what the figures are read with (settings, each school's own,
    # code mappings, national figures), kept by triggers: part of the read version
    # (core/reads.py `version`). Their latest `updated_at` is to the second, so two changes
    # within one second could leave a screen on the first one's figures.
    "CREATE TABLE read_stamp (id INTEGER PRIMARY KEY CHECK (id = 1), changes INTEGER NOT NULL)",
    "INSERT INTO read_stamp (id, changes) VALUES (1, 0)",
    *(f"CREATE TRIGGER {table}_{event.lower()}_stamp AFTER {event} ON {table} "
      "BEGIN UPDATE read_stamp SET changes = changes + 1 WHERE id = 1; END"
      for table in ("settings", "school_settings", "code_map", "national_figures")
      for event in ("INSERT", "UPDATE", "DELETE")),
])


def _day_tally_step(side: str, step: int) -> str:
    """Add `step` to the day tally of the mark NEW or OLD (and drop a tally that falls to none)."""
    return ("INSERT INTO day_tallies (day, session, code, marks) "
            f"VALUES ({side}.day, {side}.session, {side}.code, {step}) "
            f"ON CONFLICT (day, session, code) DO UPDATE SET marks = marks + {step}; "
            f"DELETE FROM day_tallies WHERE day = {side}.day AND session = {side}.session AND code = {side}.code "
            "AND marks = 0;")


MIGRATIONS.append([
    # Every pupil's marks per day, session and code, kept with the marks as the yearly tallies
    # are (core/marks.py): the whole store's day-by-day figures (Overview, Patterns, the weekly
    # trend) read from a few thousand rows rather than counted from every mark — a trust's
    # 19 million in 2.7 s. Marks added some other way than the importer leave them short of
    # the marks, and they go unused (marks.sessions_by_day_and_code).
    "CREATE TABLE day_tallies (day INTEGER NOT NULL, session INTEGER NOT NULL, code TEXT NOT NULL, "
    "marks INTEGER NOT NULL, PRIMARY KEY (day, session, code)) WITHOUT ROWID",
    "INSERT INTO day_tallies (day, session, code, marks) SELECT day, session, code, COUNT(*) FROM marks "
    "GROUP BY day, session, code",
    _tally_trigger("marks_day_tally_delete", "DELETE", _day_tally_step("OLD", -1)),
    _tally_trigger("marks_day_tally_update", "UPDATE OF day, session, code",
                   _day_tally_step("OLD", -1) + " " + _day_tally_step("NEW", 1)),
])

SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """A problem with the database file the user can act on."""


def default_path() -> Path:
    return Path(os.environ.get("PASTORAL_DB") or DEFAULT_DB)


def now() -> str:
    """The current time as stored: ISO 8601 in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# How long one attempt to take the write lock waits (SQLite's busy timeout), and how long a
# write keeps trying in all before it tells the user the store is busy: a trust's yearly
# upload can hold the lock for longer than one attempt waits.
BUSY_TIMEOUT_MS = 30_000
WRITE_WAIT_SECONDS = 180.0


# The store, its write-ahead log and shared-memory file, and backups hold children's data:
# readable and writable by the account running Pastoral only.
PRIVATE_MODE = 0o600
STORE_SIDE_FILES = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create `path` empty with PRIVATE_MODE if it does not exist (whatever the umask)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
    except FileExistsError:
        pass


def keep_private(path: Path) -> None:
    """Make the store and its side files PRIVATE_MODE (SQLite gives the side files the store's
    mode); a store created before this rule was world-readable."""
    for file in (path, *(Path(f"{path}{suffix}") for suffix in STORE_SIDE_FILES)):
        try:
            if file.stat().st_mode & 0o777 != PRIVATE_MODE:
                os.chmod(file, PRIVATE_MODE)
        except (FileNotFoundError, PermissionError):
            pass


_prepared: set[str] = set()  # stores this process has made private (a screen opens several connections a click)


def _prepare(path: Path) -> None:
    """Its folder, and the store created or kept PRIVATE_MODE: once per process and store."""
    if str(path) in _prepared and path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_private(path)
    keep_private(path)
    _prepared.add(str(path))


def connect(path: str | Path | None = None, migrate_to: int = SCHEMA_VERSION) -> sqlite_utils.Database:
    """Open the store (creating and migrating it if needed) for one operation."""
    path = Path(path) if path else default_path()
    if str(path) != ":memory:":
        _prepare(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a Pastoral database ({error}).") from error
    db = sqlite_utils.Database(conn)
    migrate(db, migrate_to)
    return db


@contextmanager
def opened(path: str | Path | None = None) -> Iterator[sqlite_utils.Database]:
    """`with opened(path) as db:` — a connection that is closed afterwards."""
    db = connect(path)
    try:
        yield db
    finally:
        db.conn.close()


class Rollback(Exception):
    """Raised inside `transaction` to undo it quietly (a dry run, or nothing to change)."""


class StoreBusy(StoreError):
    """Another write (usually a long upload) held the store for longer than a write waits."""


def _begin_write(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, tried again while another writer holds the lock, up to WRITE_WAIT_SECONDS."""
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    pause = 0.05
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() + pause > deadline:
                raise StoreBusy("Pastoral's database is busy with another change (usually a large upload) and "
                                "nothing was saved. Try again in a minute.") from error
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together or not at all. Taking the
    write lock waits for other writers (and tries again past SQLite's busy timeout).

    Inside another transaction it is a savepoint of it, so a write built from other writes
    (a meeting's decision that opens an action) is still all-or-nothing.
    """
    conn = db.conn
    if conn.in_transaction:
        with _savepoint(conn):
            yield conn
        return
    _begin_write(conn)
    try:
        yield conn
    except Rollback:
        conn.execute("ROLLBACK")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    name = f"nested_{id(conn)}_{conn.total_changes}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except Rollback:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    else:
        conn.execute(f"RELEASE {name}")


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, target: int = SCHEMA_VERSION) -> None:
    """Apply the numbered migrations not yet applied, each in its own transaction."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"This database was written by a newer version of Pastoral (schema {current}); "
            "update the program before opening it."
        )
    for number in range(current, target):
        with transaction(db) as conn:
            # Re-read inside the lock: another process may have migrated meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] > number:
                continue
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")


# --- audit -----------------------------------------------------------------------


def audit(
    conn: sqlite3.Connection | sqlite_utils.Database,
    username: str,
    action: str,
    entity: str = "",
    entity_id: str | int = "",
    detail: dict | None = None,
) -> None:
    """Record who did what, when, to which record. Call inside the write's transaction."""
    execute = conn.execute
    execute(
        "INSERT INTO audit (at, username, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (now(), username, action, entity, str(entity_id), json.dumps(detail or {}, default=str)),
    )


AUDIT_LIMIT = 5_000


def audit_log(db: sqlite_utils.Database, since: date | None = None, until: date | None = None,
              username: str = "", action: str = "", limit: int = AUDIT_LIMIT) -> tuple[pd.DataFrame, bool]:
    """The audit log, newest first: at, username, action, entity, entity_id, detail (a dict),
    and pupil_id when the entry names a pupil. `since` and `until` are UTC dates, inclusive;
    `action` matches an action or its family ("intervention" → intervention.open, …). Also
    whether there were more than `limit` entries (only the newest `limit` are returned)."""
    where, params = [], []
    if since is not None:
        where.append("at >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("at < ?")
        params.append((until + timedelta(days=1)).isoformat())
    if username:
        where.append("username = ?")
        params.append(username)
    if action:
        where.append("(action = ? OR substr(action, 1, ?) = ?)")
        params.extend([action, len(action) + 1, action + "."])
    sql = ("SELECT id, at, username, action, entity, entity_id, detail FROM audit"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
    rows = db.execute(sql, [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    frame = pd.DataFrame(rows[:limit], columns=["id", "at", "username", "action", "entity", "entity_id", "detail"])
    details = [json.loads(d or "{}") for d in frame["detail"]]
    frame["detail"] = pd.Series(details, index=frame.index, dtype=object)
    frame["pupil_id"] = pd.array([d.get("pupil_id") if isinstance(d, dict) and isinstance(d.get("pupil_id"), int)
                                  else None for d in details], dtype="Int64")
    return frame, more


def audit_actions(db: sqlite_utils.Database) -> list[str]:
    """The actions the audit log holds, each family ("intervention") before its members."""
    actions = [a for a, in db.execute("SELECT DISTINCT action FROM audit ORDER BY action").fetchall()]
    families = sorted({a.split(".")[0] for a in actions if "." in a})
    return sorted(set(actions) | set(families))


# --- settings and code mappings --------------------------------------------------


# The settings a school of a trust may have its own value of (issue 18); the rest (the DfE's
# thresholds, the store's limits) are the same for every school. School 1, the store's own
# school, keeps these in `settings` as a single school always has; its name is `schools.name`
# kept in step with the `school_name` setting.
SCHOOL_KEYS = ("school_name", "school_address", "school_phone", "letter_signatory", "letter_signatory_role",
               "local_authority", "targets")
FIRST_SCHOOL = 1


def _own_school(school_id: int | None) -> bool:
    return school_id is None or int(school_id) == FIRST_SCHOOL


def get_settings(db: sqlite_utils.Database, school_id: int | None = None) -> dict[str, Any]:
    """The defaults overlaid with what the school has saved. For a school other than the
    store's own (school 1; None means school 1), its own values of SCHOOL_KEYS overlay the
    store-wide ones, and `school_name` is its name."""
    saved = {row[0]: json.loads(row[1]) for row in db.execute("SELECT key, value FROM settings")}
    settings = {**DEFAULT_SETTINGS, **saved}
    if _own_school(school_id):
        return settings
    name = db.execute("SELECT name FROM schools WHERE id = ?", (int(school_id),)).fetchone()
    if name is None:
        return settings
    own = {row[0]: json.loads(row[1]) for row in db.execute(
        "SELECT key, value FROM school_settings WHERE school_id = ?", (int(school_id),)) if row[0] in SCHOOL_KEYS}
    return {**settings, **own, "school_name": name[0]}


def set_setting(db: sqlite_utils.Database, key: str, value: Any, username: str, school_id: int | None = None) -> None:
    """Save a setting (audited, with the school it is for). For a school other than school 1,
    only SCHOOL_KEYS; its `school_name` renames the school."""
    if key not in DEFAULT_SETTINGS:
        raise KeyError(f"Unknown setting '{key}'.")
    if not _own_school(school_id):
        _set_school_setting(db, int(school_id), key, value, username)
        return
    if key == "school_name" and db.execute("SELECT 1 FROM schools WHERE lower(name) = lower(?) AND id != 1",
                                           (str(value),)).fetchone():
        raise ValueError(f"There is already a school called '{value}'.")
    with transaction(db) as conn:
        old = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        conn.execute(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (key, json.dumps(value), now(), username),
        )
        audit(conn, username, "setting.change", "settings", key,
              {"old": json.loads(old[0]) if old else DEFAULT_SETTINGS[key], "new": value,
               **({"school_id": FIRST_SCHOOL} if key in SCHOOL_KEYS else {})})
        if key == "school_name":  # the store's own school (schools, issue 18) keeps the school's name
            conn.execute("UPDATE schools SET name = ? WHERE id = 1", (str(value),))


def _set_school_setting(db: sqlite_utils.Database, school_id: int, key: str, value: Any, username: str) -> None:
    if key not in SCHOOL_KEYS:
        raise KeyError(f"'{key}' is the same for every school: change it for the whole store.")
    if db.execute("SELECT 1 FROM schools WHERE id = ?", (school_id,)).fetchone() is None:
        raise KeyError(f"There is no school {school_id}.")
    old = get_settings(db, school_id)[key]
    with transaction(db) as conn:
        if key == "school_name":
            name = " ".join(str(value or "").split())
            if not name:
                raise ValueError("A school needs a name.")
            if conn.execute("SELECT 1 FROM schools WHERE lower(name) = lower(?) AND id != ?",
                            (name, school_id)).fetchone():
                raise ValueError(f"There is already a school called '{name}'.")
            conn.execute("UPDATE schools SET name = ? WHERE id = ?", (name, school_id))
            value = name
        else:
            conn.execute(
                "INSERT INTO school_settings (school_id, key, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(school_id, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (school_id, key, json.dumps(value), now(), username))
        audit(conn, username, "setting.change", "school_settings", key,
              {"school_id": school_id, "old": old, "new": value})


def local_codes(db: sqlite_utils.Database) -> dict[str, str]:
    return dict(db.execute("SELECT local_code, dfe_code FROM code_map").fetchall())


def code_mappings(db: sqlite_utils.Database) -> dict[str, str]:
    """What an import reads each non-DfE mark as: the MIS sub-codes' defaults
    (codes.MIS_SUB_CODES), overridden by the school's own mappings (Admin → Codes)."""
    return {**codes.MIS_SUB_CODES, **local_codes(db)}


def set_local_code(db: sqlite_utils.Database, local_code: str, dfe_code: str, username: str, note: str = "") -> None:
    problem = codes.check_local_mapping(local_code, dfe_code)
    if problem:
        raise ValueError(problem)
    local_code, dfe_code = local_code.strip().upper(), dfe_code.strip().upper()
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO code_map (local_code, dfe_code, note, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(local_code) DO UPDATE SET dfe_code = excluded.dfe_code, note = excluded.note, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (local_code, dfe_code, note, now(), username),
        )
        audit(conn, username, "code_map.set", "code_map", local_code, {"dfe_code": dfe_code})


def section_of_year_groups(settings: dict[str, Any]) -> dict[str, str]:
    """Year group → section name, from the `sections` setting."""
    return {year: section for section, years in settings["sections"].items() for year in years}


# --- reading ---------------------------------------------------------------------

PUPIL_COLUMNS = (
    "id", "upn", "adno", "mis_id", "surname", "forename", "dob", "gender", "year_group", "nc_year",
    "form", "pp", "fsm", "sen", "eal", "cla", "entry_date", "leave_date", "on_roll",
    *characteristics.GROUP_FIELDS,
)


def pupils_frame(db: sqlite_utils.Database, contacts: bool = False, pupil_ids=None,
                 columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every stored pupil (only these, in id order, when `pupil_ids` is given). Parents' contact
    details and addresses (personal data, for the roles doing case work only) are left out
    unless `contacts`. Only `columns` (of PUPIL_COLUMNS, `id` among them) when given: a trust's
    tens of thousands of pupils are quicker to read without the text columns not needed."""
    columns = columns or PUPIL_COLUMNS + (characteristics.CONTACT_FIELDS if contacts else ())
    if pupil_ids is None:
        rows = db.execute(f"SELECT {', '.join(columns)} FROM pupils").fetchall()
    else:
        rows = db.execute(f"SELECT {', '.join(columns)} FROM pupils WHERE id IN (SELECT value FROM json_each(?)) "
                          "ORDER BY id", (json.dumps([int(p) for p in pupil_ids]),)).fetchall()
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({c: t for c, t in (("id", "int64"), ("nc_year", "Int64")) if c in frame})


def last_import_id(db: sqlite_utils.Database) -> int:
    """Key for caches: changes whenever the stored data changes."""
    row = db.execute("SELECT MAX(id) FROM imports").fetchone()
    undone = db.execute("SELECT COUNT(*) FROM imports WHERE status = 'undone'").fetchone()
    return (row[0] or 0) * 1000 + undone[0]


def as_rows(frame: pd.DataFrame, columns: list[str]):
    """Rows for executemany, with NA as NULL and numbers as Python ints (column-wise, fast)."""
    values = []
    for name in columns:
        column = frame[name]
        if column.isna().any():
            values.append(column.astype(object).where(column.notna(), None).tolist())
        else:
            values.append(column.tolist())
    return zip(*values)
