"""Users, roles and scopes: who may sign in, what a role may do, which pupils it sees.

Plain functions over the store (never Streamlit). The one table of who may do what:
ACTION_ROLES (what it may change or read, case notes included) and SECTION_SCOPED (which
screens a role opens is each screen's row in core/menu.py); `User` (a login) and `Viewer` (who is reading or writing
case work) answer from them. Passwords are bcrypt hashes; a user is never deleted (the
audit log names them), only deactivated. Repeated failed logins lock an account for a while.
A head of section sees only the pupils of their section(s) — `scope_pupils` is the one
filter every list, chart, search and export goes through.
Every change and every login is audited through `store.audit`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import bcrypt
import pandas as pd
import sqlite_utils

from core import schools as school_table
from core import sessions, store

ADMIN = "admin"
ATTENDANCE_OFFICER = "attendance_officer"
PASTORAL_LEAD = "pastoral_lead"
HEAD_OF_SECTION = "head_of_section"
VIEWER = "viewer"
ROLES = store.ROLES
# A trust's roles (issue 18): every school (trust admin, trust lead) or a hub's schools (hub
# lead), to read and report; ALL_ROLES is what a user may be.
TRUST_ADMIN = "trust_admin"
TRUST_LEAD = "trust_lead"
HUB_LEAD = "hub_lead"
TRUST_ROLES = store.TRUST_ROLES
ALL_ROLES = store.ALL_ROLES

ROLE_LABELS = {
    ADMIN: "Administrator",
    ATTENDANCE_OFFICER: "Attendance officer",
    PASTORAL_LEAD: "Pastoral lead (DSL)",
    HEAD_OF_SECTION: "Head of section",
    VIEWER: "Viewer",
    TRUST_ADMIN: "Trust administrator",
    TRUST_LEAD: "Trust attendance lead",
    HUB_LEAD: "Hub lead",
}

EVERYONE = frozenset(ALL_ROLES)

# The roles that do case work (DESIGN.md "Roles"): a head of section for their sections' pupils.
CASE_ROLES = frozenset({ADMIN, ATTENDANCE_OFFICER, PASTORAL_LEAD, HEAD_OF_SECTION})

# What each role may change.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "import": frozenset({ADMIN, ATTENDANCE_OFFICER}),
    "undo_import": frozenset({ADMIN, ATTENDANCE_OFFICER}),
    "manage_users": frozenset({ADMIN, TRUST_ADMIN}),  # a trust admin: the trust's people (issue 18)
    "change_settings": frozenset({ADMIN}),
    "case_work": CASE_ROLES,
    # Parents' names, phone numbers, emails and addresses are personal data: only the roles
    # doing case work read them (a head of section: for their sections' pupils); viewers never.
    "see_contacts": CASE_ROLES,
    "edit_letter_templates": frozenset({ADMIN, ATTENDANCE_OFFICER}),
    # Case records: notes on actions, contacts and check-ins are read by the roles doing case
    # work; sensitive notes are read and written by the pastoral lead (DSL) and admins only
    # (and never shown on a shared screen, see `Viewer`).
    "read_notes": CASE_ROLES,
    "read_sensitive": frozenset({ADMIN, PASTORAL_LEAD}),
    "write_sensitive": frozenset({ADMIN, PASTORAL_LEAD}),
    "edit_types": frozenset({ADMIN, PASTORAL_LEAD}),  # the list of intervention types
    # A trust's schools side by side (issue 18), and adding schools to the store.
    "trust_overview": frozenset({ADMIN, TRUST_ADMIN, TRUST_LEAD, HUB_LEAD}),
    "manage_schools": frozenset({ADMIN, TRUST_ADMIN}),
}

# These roles see only the pupils of their sections; every other role sees every pupil.
SECTION_SCOPED = frozenset({HEAD_OF_SECTION})

# Login throttling: this many failures in a row locks the account for LOCK_MINUTES.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
HASH_ROUNDS = 12  # bcrypt cost; tests lower it
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")

# Demo logins, one per role, created with the demo school (synthetic data only).
DEMO_LOGINS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("admin", "admin-demo-1", "Alex Admin", ADMIN, ()),
    ("officer", "officer-demo-1", "Olu Officer", ATTENDANCE_OFFICER, ()),
    ("pastoral", "pastoral-demo-1", "Priya Pastoral", PASTORAL_LEAD, ()),
    ("secondary", "secondary-demo-1", "Sam Secondary", HEAD_OF_SECTION, ("Secondary",)),
    ("viewer", "viewer-demo-1", "Vic Viewer", VIEWER, ()),
)
# Published in the README: never a real school's password (only the demo school gets them).
DEMO_PASSWORDS = frozenset(password for _username, password, *_ in DEMO_LOGINS)


class UserError(ValueError):
    """A request about users that cannot be done, worded for the person who asked."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    role: str
    sections: tuple[str, ...]
    active: bool
    failed_logins: int
    locked_until: str | None
    meeting_mode: bool = False  # names hidden on every screen until this user turns it off
    schools: tuple[int, ...] = ()  # the schools they are named to (core/schools.py)
    hub: str = ""  # a hub lead's hub
    # The schools they may see, worked out when read (schools.visible_school_ids): None = every school.
    school_ids: tuple[int, ...] | None = None
    school_names: tuple[str, ...] = ()  # their names, for the screens

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def sees_all_pupils(self) -> bool:
        return self.role not in SECTION_SCOPED and self.school_ids is None

    @property
    def sees_all_sections(self) -> bool:
        """Whether they see each of their schools whole (every role but a head of section)."""
        return self.role not in SECTION_SCOPED

    def locked(self, at: datetime | None = None) -> bool:
        if not self.locked_until:
            return False
        return datetime.fromisoformat(self.locked_until) > (at or _utc_now())

    def may(self, action: str) -> bool:
        return may(self.role, action)

    def scope_label(self) -> str:
        if self.sees_all_pupils:
            return "all pupils"
        if self.school_ids is not None and self.sees_all_sections:
            return ", ".join(self.school_names) if self.school_names else "no school yet"
        return ", ".join(self.sections) if self.sections else "no sections yet"


@dataclass(frozen=True)
class Viewer:
    """Who is reading or writing case work: their username, role and (a head of section's)
    sections. Every question it answers is read from ACTION_ROLES and SECTION_SCOPED.

    `shared_screen` is set in meeting mode: sensitive notes and parents' and carers' names are
    never shown on a projector. `leaves_school` is set for what is sent out (the evidence
    pack): no sensitive notes, whoever makes it.
    """

    username: str
    role: str
    sections: tuple[str, ...] = ()
    shared_screen: bool = False
    leaves_school: bool = False
    school_ids: tuple[int, ...] | None = None  # the schools they may see; None = every school

    @classmethod
    def of(cls, user: Any, shared_screen: bool = False) -> "Viewer":
        """The viewer for a signed-in user (anything with username, role and sections)."""
        return cls(user.username, user.role, tuple(getattr(user, "sections", ()) or ()), shared_screen,
                   school_ids=getattr(user, "school_ids", None))

    @property
    def sees_notes(self) -> bool:
        return may(self.role, "read_notes")

    @property
    def sees_sensitive(self) -> bool:
        return may(self.role, "read_sensitive") and not self.shared_screen and not self.leaves_school

    @property
    def sees_contacts(self) -> bool:
        """Whether parents' and carers' identities (names, who a contact was with) may be shown:
        the roles doing case work, and never on a shared screen."""
        return may(self.role, "see_contacts") and not self.shared_screen

    @property
    def may_write(self) -> bool:
        return may(self.role, "case_work")

    @property
    def may_write_sensitive(self) -> bool:
        return may(self.role, "write_sensitive")

    @property
    def may_edit_types(self) -> bool:
        return may(self.role, "edit_types")

    @property
    def sees_all_pupils(self) -> bool:
        return self.role not in SECTION_SCOPED and self.school_ids is None


# --- roles and scopes --------------------------------------------------------------


def may(role: str, action: str) -> bool:
    return role in ACTION_ROLES.get(action, frozenset())


def scope_pupils(frame: pd.DataFrame, user: User, settings: dict[str, Any] | None = None,
                 school_of: pd.Series | None = None) -> pd.DataFrame:
    """The rows of a pupil frame this user may see.

    First their schools (a store with several): the frame's `school_id` column, else its
    `pupil_id` (or `id`) mapped through `school_of` (pupil id → school id). Then their
    sections: the frame's `section` column when it has one, else `year_group` mapped through
    the `sections` setting. A head of section with no sections sees nobody.
    """
    if user.sees_all_pupils:
        return frame
    school_ids = getattr(user, "school_ids", None)
    if school_ids is not None:
        if "school_id" in frame.columns:
            school = frame["school_id"]
        else:
            key = frame["pupil_id"] if "pupil_id" in frame.columns else frame["id"]
            school = key.map(school_of if school_of is not None else pd.Series(dtype="int64"))
        frame = frame[school.isin(list(school_ids)).to_numpy()]
    if user.role not in SECTION_SCOPED:
        return frame
    if "section" in frame.columns:
        section = frame["section"]
    else:
        mapping = store.section_of_year_groups(settings or store.DEFAULT_SETTINGS)
        section = frame["year_group"].map(mapping)
    return frame[section.isin(list(user.sections)).to_numpy()]


# --- passwords ---------------------------------------------------------------------


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=HASH_ROUNDS)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def password_problem(password: str, allow_demo: bool = False) -> str | None:
    """Why a new password is not acceptable, or None. The demo school's published passwords
    are refused unless `allow_demo` (only the demo school's own logins are made with them)."""
    if not password:
        return f"No password was given; a password needs at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    if password.strip() != password:
        return "A password cannot start or end with a space."
    if len(set(password)) < 4:
        return "That password is too easy to guess; use a mix of letters, numbers and symbols."
    if password in DEMO_PASSWORDS and not allow_demo:
        return "That is one of the demo school's published passwords; choose another."
    return None


# --- reading users -------------------------------------------------------------------

_USER_COLUMNS = ("username, name, email, role, sections, active, failed_logins, locked_until, meeting_mode, "
                 "schools, hub")


def _user(db, row) -> User:
    username, name, email, role, sections, active, failed, locked, meeting, own_schools, hub = row
    own = tuple(int(s) for s in json.loads(own_schools or "[]"))
    visible = school_table.visible_school_ids(db, role, own, hub or "")
    names = () if visible is None else tuple(s.name for s in school_table.list_schools(db) if s.id in visible)
    return User(username, name, email, role, tuple(json.loads(sections or "[]")), bool(active), int(failed), locked,
                bool(meeting), own, hub or "", visible, names)


def scoped_to_school(user: User, school_id: int | None, school_name: str = "") -> User:
    """The user as they see one of their schools (a trust user drilling down from the Trust
    screen), or as they are when `school_id` is None or not one of theirs."""
    if school_id is None or (user.school_ids is not None and int(school_id) not in user.school_ids):
        return user
    return replace(user, school_ids=(int(school_id),), school_names=(school_name or f"school {int(school_id)}",))


def _school_scope(db, role: str, own_schools, hub: str) -> tuple[list[int], str]:
    """A user's schools and hub as stored, checked: school roles on a store with several
    schools name theirs (one of a one-school store's staff belongs to its school); a hub lead
    names a hub; the trust-wide roles and a store administrator name none."""
    own = sorted({int(school_table.require(db, s).id) for s in (own_schools or ())})
    if role in school_table.TRUST_WIDE_ROLES:
        return [], ""
    if role == HUB_LEAD:
        known = school_table.hubs(db)
        if not hub or hub not in known:
            raise UserError(f"A hub lead needs a hub, one of: {', '.join(known) or 'none yet (give schools a hub first)'}.")
        return [], hub
    if not own and role != ADMIN:
        if school_table.count(db) > 1:
            raise UserError("This store holds several schools: say which school this user works in, e.g. --school 2.")
        own = [school_table.FIRST_SCHOOL]
    return own, ""


def get_user(db: sqlite_utils.Database, username: str | None) -> User | None:
    if not username:
        return None
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (normalise_username(username),)).fetchone()
    return _user(db, row) if row else None


def list_users(db: sqlite_utils.Database) -> list[User]:
    return [_user(db, row) for row in db.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()]


def users_frame(db: sqlite_utils.Database) -> pd.DataFrame:
    """Users as a table for people: no hashes."""
    rows = [
        {"username": u.username, "name": u.name, "email": u.email, "role": u.role_label,
         "sections": ", ".join(u.sections), "active": u.active, "locked": u.locked()}
        for u in list_users(db)
    ]
    return pd.DataFrame(rows, columns=["username", "name", "email", "role", "sections", "active", "locked"])


def credentials(db: sqlite_utils.Database) -> dict[str, Any]:
    """The credentials streamlit-authenticator checks: active users who are not locked out."""
    rows = db.execute("SELECT username, name, email, password_hash, role, locked_until FROM users WHERE active = 1").fetchall()
    now = _utc_now()
    return {"usernames": {
        username: {"name": name, "email": email, "password": password_hash, "roles": [role]}
        for username, name, email, password_hash, role, locked_until in rows
        if not (locked_until and datetime.fromisoformat(locked_until) > now)
    }}


# --- changing users ----------------------------------------------------------------


def normalise_username(username: str) -> str:
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    """Why a (normalised) username cannot be used, or None."""
    if not USERNAME_PATTERN.match(username):
        return "A username is 2–40 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."
    return None


def as_json(user: User, school_names: dict[int, str] | None = None) -> dict[str, Any]:
    """A user as the `pastoral users` command prints it: never the password hash. With
    `school_names` (school id → name; a trust's store) also the schools they are named to
    (`schools`: [{id, name}]) and a hub lead's `hub`."""
    found = {"username": user.username, "name": user.name, "email": user.email, "role": user.role,
             "sections": list(user.sections), "active": user.active, "locked": user.locked()}
    if school_names is not None:
        found["schools"] = [{"id": s, "name": school_names.get(s, "")} for s in user.schools]
        found["hub"] = user.hub
    return found


def school_names(db: sqlite_utils.Database) -> dict[int, str]:
    return {s.id: s.name for s in school_table.list_schools(db)}


def scope_text(user: User, names: dict[int, str]) -> str:
    """Where a user works, for people: their schools, a hub lead's hub, or every school."""
    if user.role in school_table.TRUST_WIDE_ROLES or (user.role == ADMIN and not user.schools):
        return "every school"
    if user.role == HUB_LEAD:
        return f"hub {user.hub}" if user.hub else "no hub yet"
    return ", ".join(names.get(s, f"school {s}") for s in user.schools) or "no school yet"


def _check_role_and_sections(db, role: str, sections: tuple[str, ...]) -> None:
    if role not in ALL_ROLES:
        raise UserError(f"'{role}' is not a role; choose one of {', '.join(ALL_ROLES)}.")
    if role == HEAD_OF_SECTION:
        if not sections:
            raise UserError("A head of section needs at least one section, e.g. --section Secondary.")
        known = list(store.get_settings(db)["sections"])
        unknown = [s for s in sections if s not in known]
        if unknown:
            raise UserError(f"Unknown section(s): {', '.join(unknown)}. The sections are: {', '.join(known)}.")


def check_new_user(db: sqlite_utils.Database, username: str, name: str, role: str,
                   sections: tuple[str, ...] | list[str] = ()) -> None:
    """Raise UserError if a user with these details cannot be added (the password aside)."""
    username = normalise_username(username)
    problem = username_problem(username)
    if problem:
        raise UserError(problem)
    if not name.strip():
        raise UserError("Give the user's name, as colleagues know them.")
    _check_role_and_sections(db, role, tuple(sections or ()) if role == HEAD_OF_SECTION else ())
    if get_user(db, username):
        raise UserError(f"There is already a user '{username}'.")


def add_user(
    db: sqlite_utils.Database,
    username: str,
    name: str,
    password: str,
    role: str,
    sections: tuple[str, ...] | list[str] = (),
    email: str = "",
    by: str = "cli",
    allow_demo_password: bool = False,
    schools: tuple | list | None = None,
    hub: str = "",
) -> User:
    """Add a login. `schools` (ids, names or DfE numbers) and `hub` say where they work on a
    trust's store (core/schools.py); a one-school store's staff belong to its school."""
    username = normalise_username(username)
    check_new_user(db, username, name, role, sections)
    problem = password_problem(password, allow_demo=allow_demo_password)
    if problem:
        raise UserError(problem)
    try:
        own, hub = _school_scope(db, role, schools, hub)
    except school_table.SchoolError as error:
        raise UserError(str(error)) from error
    sections = tuple(sections) if role == HEAD_OF_SECTION else ()
    scope = {"schools": own, "hub": hub} if school_table.count(db) > 1 or hub else {}
    with store.transaction(db) as conn:
        conn.execute(
            "INSERT INTO users (username, name, email, password_hash, role, sections, active, created_at, schools, hub) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (username, name.strip(), email.strip(), hash_password(password), role, json.dumps(list(sections)), store.now(),
             json.dumps(own), hub),
        )
        store.audit(conn, by, "user.add", "users", username, {"role": role, "sections": list(sections), **scope})
    return get_user(db, username)


def update_user(
    db: sqlite_utils.Database,
    username: str,
    by: str,
    *,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    sections: tuple[str, ...] | list[str] | None = None,
    active: bool | None = None,
    schools: tuple | list | None = None,
    hub: str | None = None,
) -> User:
    """Change a user's details, role, sections, schools (ids, names or DfE numbers), hub or
    whether they may sign in. On a trust's store a change of role checks where they work
    again (a school role names a school, a hub lead a hub, the trust roles neither)."""
    user = _existing(db, username)
    new_role = role or user.role
    new_sections = tuple(sections) if sections is not None else user.sections
    if new_role != HEAD_OF_SECTION:
        new_sections = ()
    _check_role_and_sections(db, new_role, new_sections)
    if schools is not None or hub is not None or (new_role != user.role and school_table.count(db) > 1):
        try:
            own, new_hub = _school_scope(db, new_role, user.schools if schools is None else schools,
                                         user.hub if hub is None else " ".join(str(hub).split()))
        except school_table.SchoolError as error:
            raise UserError(str(error)) from error
    else:
        own, new_hub = list(user.schools), user.hub
    if name is not None and not name.strip():
        raise UserError("Give the user's name, as colleagues know them.")
    if user.role == ADMIN and (new_role != ADMIN or active is False) and _other_active_admins(db, user.username) == 0:
        raise UserError("This is the only active administrator; make someone else an administrator first.")
    changes = {
        "name": (user.name, name.strip() if name is not None else user.name),
        "email": (user.email, email.strip() if email is not None else user.email),
        "role": (user.role, new_role),
        "sections": (list(user.sections), list(new_sections)),
        "active": (user.active, user.active if active is None else bool(active)),
        "schools": (list(user.schools), list(own)),
        "hub": (user.hub, new_hub),
    }
    changed = {field: {"old": old, "new": new} for field, (old, new) in changes.items() if old != new}
    if not changed:
        return user
    # A deactivated user, or one whose role, sections or schools changed, signs in again (or not
    # at all): every open session of theirs ends at its next click.
    ending = (sessions.DEACTIVATED if "active" in changed and not changes["active"][1]
              else sessions.ROLE_CHANGED if {"role", "sections", "schools", "hub"} & set(changed) else None)
    with store.transaction(db) as conn:
        conn.execute(
            "UPDATE users SET name = ?, email = ?, role = ?, sections = ?, active = ?, schools = ?, hub = ? "
            "WHERE username = ?",
            (changes["name"][1], changes["email"][1], new_role, json.dumps(list(new_sections)),
             int(changes["active"][1]), json.dumps(list(own)), new_hub, user.username),
        )
        if ending:
            changed["sessions_ended"] = sessions.end_all(conn, user.username, ending)
        store.audit(conn, by, "user.change", "users", user.username, changed)
    return get_user(db, user.username)


def set_password(db: sqlite_utils.Database, username: str, password: str, by: str) -> None:
    user = _existing(db, username)
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    with store.transaction(db) as conn:
        conn.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE username = ?",
            (hash_password(password), user.username),
        )
        ended = sessions.end_all(conn, user.username, sessions.PASSWORD_CHANGED)
        store.audit(conn, by, "user.password", "users", user.username, {"sessions_ended": ended})


def sign_out_everywhere(db: sqlite_utils.Database, username: str, by: str) -> int:
    """End every open session of a user (a lost laptop, a shared password): how many ended."""
    user = _existing(db, username)
    with store.transaction(db) as conn:
        ended = sessions.end_all(conn, user.username, sessions.SIGNED_OUT_EVERYWHERE)
        store.audit(conn, by, "user.sign_out_everywhere", "users", user.username, {"sessions_ended": ended})
    return ended


def set_meeting_mode(db: sqlite_utils.Database, username: str, on: bool, by: str | None = None) -> None:
    """Turn a user's meeting mode on or off (audited as a setting of theirs); it stays as set
    across reloads, tabs and sign-ins until someone turns it off."""
    user = _existing(db, username)
    if user.meeting_mode == bool(on):
        return
    with store.transaction(db) as conn:
        conn.execute("UPDATE users SET meeting_mode = ? WHERE username = ?", (int(bool(on)), user.username))
        store.audit(conn, by or user.username, "user.meeting_mode", "users", user.username,
                    {"old": user.meeting_mode, "new": bool(on)})


def unlock(db: sqlite_utils.Database, username: str, by: str) -> None:
    user = _existing(db, username)
    with store.transaction(db) as conn:
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (user.username,))
        store.audit(conn, by, "user.unlock", "users", user.username)


def _existing(db, username: str) -> User:
    user = get_user(db, username)
    if user is None:
        raise UserError(f"There is no user '{normalise_username(username)}'.")
    return user


def _other_active_admins(db, username: str) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM users WHERE role = ? AND active = 1 AND username != ?", (ADMIN, username)
    ).fetchone()[0]


# --- logins ------------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def record_login(db: sqlite_utils.Database, username: str, via: str = "password", session: str = "") -> None:
    """A successful login (by password, or by the login cookie): audited, failures reset."""
    with store.transaction(db) as conn:
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (username,))
        store.audit(conn, username, "login", "users", username,
                    {"via": via, **({"session": sessions.short_id(session)} if session else {})})


def sign_in(db: sqlite_utils.Database, username: str) -> str:
    """A password sign-in: a new session (its token for the browser's cookie), audited."""
    token = sessions.start(db, normalise_username(username))
    record_login(db, normalise_username(username), "password", token)
    return token


def session_user(db: sqlite_utils.Database, token: str | None) -> User | None:
    """The user a browser's session token signs in: None unless the session is live and the
    user active and not locked."""
    user = get_user(db, sessions.live_username(db, token))
    return user if user and user.active and not user.locked() else None


def record_failed_login(db: sqlite_utils.Database, username: str, at: datetime | None = None) -> User | None:
    """A wrong password for a known user: counted, and the account locked after too many."""
    user = get_user(db, username)
    if user is None:
        with store.transaction(db) as conn:
            store.audit(conn, normalise_username(username)[:40] or "?", "login.failed", "users", "", {"reason": "unknown user"})
        return None
    at = at or _utc_now()
    failures = user.failed_logins + 1
    locked_until = (at + timedelta(minutes=LOCK_MINUTES)).isoformat() if failures >= MAX_FAILED_LOGINS else None
    with store.transaction(db) as conn:
        conn.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
                     (0 if locked_until else failures, locked_until, user.username))
        store.audit(conn, user.username, "login.failed", "users", user.username, {"failures": failures})
        if locked_until:
            store.audit(conn, user.username, "user.locked", "users", user.username, {"until": locked_until})
    return get_user(db, user.username)


def record_logout(db: sqlite_utils.Database, username: str, token: str | None = None) -> None:
    """Signing out: the session ends for good (its cookie, wherever copied, no longer signs in)."""
    if token:
        sessions.end(db, token, sessions.SIGNED_OUT)
    with store.transaction(db) as conn:
        store.audit(conn, username, "logout", "users", username,
                    {"session": sessions.short_id(token)} if token else None)


# --- demo logins -------------------------------------------------------------------


def create_demo_users(db: sqlite_utils.Database) -> list[tuple[str, str, str, list[str]]]:
    """One login per role for the demo school; returns (username, password, role, sections).

    Users that already exist are left as they are (and still listed).
    """
    created = []
    for username, password, name, role, sections in DEMO_LOGINS:
        if get_user(db, username) is None:
            add_user(db, username, name, password, role, sections, by="demo", allow_demo_password=True)
        created.append((username, password, role, list(sections)))
    return created


def demo_logins_in(db: sqlite_utils.Database) -> list[tuple[str, str, str, list[str]]]:
    """The demo logins that still work in this store (user active, password unchanged)."""
    found = []
    for username, password, _name, role, sections in DEMO_LOGINS:
        row = db.execute("SELECT password_hash, active FROM users WHERE username = ?", (username,)).fetchone()
        if row and row[1] and check_password(password, row[0]):
            found.append((username, password, role, list(sections)))
    return found
