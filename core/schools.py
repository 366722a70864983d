"""A trust's schools (issue 18): which schools the store holds, which school a pupil and an
import belong to, and which schools a user may see.

A single-school store has one school (school 1, made by the migration from the `school_name`
setting) and everything here answers "every pupil", so it behaves exactly as before. With
more than one school, a school's staff see their own school's pupils; the trust roles see
every school (`trust_admin`, `trust_lead`) or their hub's (`hub_lead`). The scope a user
gets is worked out once, when the user is read (`visible_school_ids`), and then applied in
the one place every list, download and command already goes through (auth.scope_pupils,
cases.visible_pupil_ids).

A school's DfE number is its local authority code and establishment number, "LLL/EEEE"
(written "LLLEEEE" as well); an import is routed to the school whose DfE number its file
names (a CTF's <SourceSchool>, or a DfE number column), else to the school chosen.
Plain functions over the store; every change is audited.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
import sqlite_utils

from core import store

FIRST_SCHOOL = 1  # the store's own school, made by the migration
TRUST_WIDE_ROLES = frozenset({"trust_admin", "trust_lead"})
HUB_ROLE = "hub_lead"
STORE_ADMIN = "admin"  # an admin named to no school administers the whole store

_DFE_NUMBER = re.compile(r"^\s*(\d{3})\s*[/-]?\s*(\d{4})\s*$")
_URN = re.compile(r"^\d{6,7}$")
NAME_LIMIT = 120


class SchoolError(ValueError):
    """A request about schools that cannot be done, worded for the person who asked."""


@dataclass(frozen=True)
class School:
    id: int
    name: str
    urn: str
    dfe_number: str
    hub: str

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "urn": self.urn, "dfe_number": self.dfe_number, "hub": self.hub}


def dfe_number(text: str) -> str:
    """A DfE number as stored, "LLL/EEEE", from "LLL/EEEE", "LLL-EEEE" or "LLLEEEE"; "" for none.
    Raises SchoolError for anything else."""
    if not str(text or "").strip():
        return ""
    found = _DFE_NUMBER.match(str(text))
    if not found:
        raise SchoolError(f"'{text}' is not a DfE number: give the local authority code and establishment number, "
                          "e.g. 999/4001 or 9994001.")
    return f"{found.group(1)}/{found.group(2)}"


# --- reading ---------------------------------------------------------------------


_COLUMNS = "id, name, urn, dfe_number, hub"


def list_schools(db: sqlite_utils.Database) -> list[School]:
    return [School(*row) for row in db.execute(f"SELECT {_COLUMNS} FROM schools ORDER BY id").fetchall()]


def schools_frame(db: sqlite_utils.Database) -> pd.DataFrame:
    return pd.DataFrame([s.as_json() for s in list_schools(db)], columns=["id", "name", "urn", "dfe_number", "hub"])


def count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM schools").fetchone()[0]


def find(db: sqlite_utils.Database, key: str | int) -> School | None:
    """A school by id, DfE number or name (case-insensitive)."""
    text = str(key).strip()
    rows = []
    if text.isdigit() and len(text) < 6:
        rows = db.execute(f"SELECT {_COLUMNS} FROM schools WHERE id = ?", (int(text),)).fetchall()
    if not rows and _DFE_NUMBER.match(text):
        rows = db.execute(f"SELECT {_COLUMNS} FROM schools WHERE dfe_number = ?", (dfe_number(text),)).fetchall()
    if not rows:
        rows = db.execute(f"SELECT {_COLUMNS} FROM schools WHERE lower(name) = lower(?)", (text,)).fetchall()
    return School(*rows[0]) if rows else None


def require(db: sqlite_utils.Database, key: str | int) -> School:
    school = find(db, key)
    if school is None:
        known = "; ".join(f"{s.id} {s.name}" + (f" ({s.dfe_number})" if s.dfe_number else "") for s in list_schools(db))
        raise SchoolError(f"There is no school '{key}'. The schools are: {known}.")
    return school


def hubs(db: sqlite_utils.Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT DISTINCT hub FROM schools WHERE hub != '' ORDER BY hub")]


def pupil_school(db: sqlite_utils.Database, pupil_id: int) -> School | None:
    row = db.execute(f"SELECT {', '.join('s.' + c for c in _COLUMNS.split(', '))} FROM pupils p "
                     "JOIN schools s ON s.id = p.school_id WHERE p.id = ?", (int(pupil_id),)).fetchone()
    return School(*row) if row else None


def school_of_pupils(db: sqlite_utils.Database) -> pd.Series:
    """Pupil id → school id, for every stored pupil."""
    rows = db.execute("SELECT id, school_id FROM pupils").fetchall()
    return pd.Series([r[1] for r in rows], index=pd.Index([r[0] for r in rows], name="id"), dtype="int64")


def pupil_ids_of(db: sqlite_utils.Database, school_ids: tuple[int, ...] | list[int]) -> list[int]:
    marks = ",".join("?" * len(school_ids))
    if not school_ids:
        return []
    return [r[0] for r in db.execute(f"SELECT id FROM pupils WHERE school_id IN ({marks}) ORDER BY id",
                                     tuple(int(s) for s in school_ids))]


# --- who sees which schools ------------------------------------------------------------


def visible_school_ids(db: sqlite_utils.Database, role: str, own_schools: tuple[int, ...] = (),
                       hub: str = "") -> tuple[int, ...] | None:
    """The schools a user may see; None means every school (and so every pupil).

    A store with one school: None for everyone (nothing changes for a single school).
    Trust admin and trust lead: None. A hub lead: the schools of their hub. An admin named to
    no school: None (the store's administrator). Any other role: the schools they are named to.
    """
    if count(db) <= 1 or role in TRUST_WIDE_ROLES or (role == STORE_ADMIN and not own_schools):
        return None
    if role == HUB_ROLE:
        return tuple(r[0] for r in db.execute("SELECT id FROM schools WHERE hub = ? AND hub != '' ORDER BY id", (hub,)))
    return tuple(sorted(int(s) for s in own_schools))


# --- adding ------------------------------------------------------------------------


def add_school(db: sqlite_utils.Database, name: str, dfe: str = "", urn: str = "", hub: str = "",
               by: str = "cli") -> School:
    """Add a school to the trust's store (audited). Names and DfE numbers are unique."""
    name, urn, hub = " ".join(str(name or "").split()), str(urn or "").strip(), " ".join(str(hub or "").split())
    if not name:
        raise SchoolError("Give the school's name, e.g. --name \"Oak Hill Primary\".")
    if len(name) > NAME_LIMIT or len(hub) > NAME_LIMIT:
        raise SchoolError(f"A school's name and hub are at most {NAME_LIMIT} characters.")
    if urn and not _URN.match(urn):
        raise SchoolError(f"'{urn}' is not a URN: a school's unique reference number is 6 or 7 digits.")
    number = dfe_number(dfe)
    if db.execute("SELECT 1 FROM schools WHERE lower(name) = lower(?)", (name,)).fetchone():
        raise SchoolError(f"There is already a school called '{name}'.")
    if number and db.execute("SELECT 1 FROM schools WHERE dfe_number = ?", (number,)).fetchone():
        raise SchoolError(f"DfE number {number} is already another school's.")
    with store.transaction(db) as conn:
        cursor = conn.execute("INSERT INTO schools (name, urn, dfe_number, hub, created_at) VALUES (?, ?, ?, ?, ?)",
                              (name, urn, number, hub, store.now()))
        store.audit(conn, by, "school.add", "schools", cursor.lastrowid,
                    {"name": name, "urn": urn, "dfe_number": number, "hub": hub})
        school_id = cursor.lastrowid
    return require(db, school_id)


# --- routing imports ---------------------------------------------------------------


_CTF_SOURCE = re.compile(rb"<SourceSchool>.*?<LEA>\s*(\d{3})\s*</LEA>.*?<Estab>\s*(\d{4})\s*</Estab>", re.S)
_DFE_HEADERS = {"dfe number", "dfe no", "dfe", "laestab", "la estab", "la/estab", "dfes number", "estab number"}


def dfe_number_in_file(content: bytes, file_name: str = "") -> str | None:
    """The DfE number a file names for its school: a CTF's <SourceSchool> LEA and Estab, or a
    "DfE number" / "LAESTAB" column of a CSV whose rows all give the same number. None when
    it names none (or several)."""
    head = content[:64 * 1024]
    found = _CTF_SOURCE.search(head)
    if found:
        return f"{found.group(1).decode()}/{found.group(2).decode()}"
    if not file_name.lower().endswith((".csv", ".txt")):
        return None
    try:
        frame = pd.read_csv(io.BytesIO(content), dtype=str, nrows=5000, keep_default_na=False)
    except Exception:  # not a table with a header row: it names no school
        return None
    columns = [c for c in frame.columns if " ".join(str(c).lower().replace("_", " ").split()) in _DFE_HEADERS]
    if not columns:
        return None
    values = {v.strip() for v in frame[columns[0]] if v.strip()}
    if len(values) != 1:
        return None
    try:
        return dfe_number(values.pop()) or None
    except SchoolError:
        return None


def route(db: sqlite_utils.Database, content: bytes, file_name: str, chosen: str | int | None) -> School:
    """The school an import goes to: the one whose DfE number the file names, else the one
    chosen, else the only school. Raises SchoolError with what to do otherwise."""
    named = dfe_number_in_file(content, file_name)
    if named:
        school = find(db, named)
        if school is None:
            raise SchoolError(f"{file_name} is from the school with DfE number {named}, which is not one of this "
                              "store's schools; add it first (pastoral schools add --name ... --dfe "
                              f"{named}) or check the file.")
        if chosen is not None and require(db, chosen).id != school.id:
            raise SchoolError(f"{file_name} is from {school.name} ({named}), not the school chosen; "
                              "choose that school or check the file.")
        return school
    if chosen is not None:
        return require(db, chosen)
    if count(db) == 1:
        return list_schools(db)[0]
    raise SchoolError(f"{file_name} does not say which school it is from, and this store holds "
                      f"{count(db)} schools: choose one with --school (its number, name or DfE number).")


def route_upload(db: sqlite_utils.Database, content: bytes, file_name: str, chosen: int | None,
                 allowed: tuple[int, ...] | None) -> School:
    """`route` for someone who may import into the schools `allowed` (None: any): the file's
    own school must be one of theirs."""
    head = content[:64 * 1024]
    if dfe_number_in_file(head, file_name):
        school = route(db, head, file_name, None)  # the school the file names
        if allowed is not None and school.id not in allowed:
            raise SchoolError(f"{file_name} is from {school.name} ({school.dfe_number}), which is not your school; "
                              "nothing was imported.")
    return route(db, head, file_name, chosen)


def import_ids_of(db: sqlite_utils.Database, school_ids: tuple[int, ...] | None) -> set[int] | None:
    """The imports of these schools (None: every import)."""
    if school_ids is None:
        return None
    return {r[0] for r in db.execute("SELECT id, school_id FROM imports").fetchall() if r[1] in school_ids}


@contextmanager
def routed_to(db: sqlite_utils.Database, school_id: int) -> Iterator[None]:
    """While open, pupils and imports added through this connection belong to `school_id`
    (temporary triggers on this connection only, so they are written in the importer's own
    transaction: nothing is half-routed). Pupils already stored keep their school and their
    one chronology."""
    school_id = int(school_id)
    conn = db.conn
    conn.execute("DROP TRIGGER IF EXISTS temp.route_pupils")
    conn.execute("DROP TRIGGER IF EXISTS temp.route_imports")
    conn.execute(f"CREATE TEMP TRIGGER route_pupils AFTER INSERT ON main.pupils BEGIN "
                 f"UPDATE pupils SET school_id = {school_id} WHERE id = NEW.id; END")
    conn.execute(f"CREATE TEMP TRIGGER route_imports AFTER INSERT ON main.imports BEGIN "
                 f"UPDATE imports SET school_id = {school_id} WHERE id = NEW.id; END")
    try:
        yield
    finally:
        conn.execute("DROP TRIGGER IF EXISTS temp.route_pupils")
        conn.execute("DROP TRIGGER IF EXISTS temp.route_imports")


# --- whose heading a document carries ---------------------------------------------------------


def school_of_scope(db: sqlite_utils.Database, school_ids: tuple[int, ...] | None = None,
                    pupil_ids=None) -> int | None:
    """The one school a document covers (a section report, an LA pack), so it is headed with
    that school's name and settings: the only school of `school_ids` (a user's scope), else
    the only school of `pupil_ids`. None when it covers several schools or the store holds
    one (the store's own settings, as always)."""
    if count(db) <= 1:
        return None
    if school_ids is not None and len(school_ids) == 1:
        return int(school_ids[0])
    if pupil_ids is not None and len(pupil_ids):
        ids = [int(p) for p in pupil_ids]
        found = {r[0] for r in db.execute(
            "SELECT DISTINCT school_id FROM pupils WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),)).fetchall()}
        if len(found) == 1:
            return int(found.pop())
    return None
