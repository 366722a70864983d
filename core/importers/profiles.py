"""Saved column mappings ("profiles"): how to read a school's own export, named once and
chosen again next week on the upload screen. Saving and deleting are audited."""

from __future__ import annotations

import json

import sqlite_utils

from core import store
from core.importers.headers import MEANINGS
from core.importers.results import ColumnMapping
from core.importers.shapes import SHAPES


def _check(mapping: ColumnMapping) -> None:
    if mapping.shape not in SHAPES:
        raise ValueError(f"'{mapping.shape}' is not a shape Pastoral reads; choose one of: {', '.join(SHAPES)}.")
    unknown = sorted(set(mapping.columns) - set(MEANINGS))
    if unknown:
        raise ValueError(f"Unknown column meaning(s): {', '.join(unknown)}.")


def save_mapping_profile(db: sqlite_utils.Database, name: str, mapping: ColumnMapping | dict, username: str) -> None:
    """Save (or replace) a named mapping."""
    name = name.strip()
    if not name:
        raise ValueError("Give the mapping a name, e.g. 'SIMS weekly marks'.")
    if isinstance(mapping, dict):
        mapping = ColumnMapping.from_json(mapping)
    _check(mapping)
    with store.transaction(db) as conn:
        existed = conn.execute("SELECT 1 FROM mapping_profiles WHERE name = ?", (name,)).fetchone() is not None
        conn.execute(
            "INSERT INTO mapping_profiles (name, mapping, updated_at, updated_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            (name, json.dumps(mapping.as_json()), store.now(), username),
        )
        store.audit(conn, username, "mapping.replace" if existed else "mapping.save", "mapping_profiles", name,
                    mapping.as_json())


def load_mapping_profile(db: sqlite_utils.Database, name: str) -> ColumnMapping:
    row = db.execute("SELECT mapping FROM mapping_profiles WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise KeyError(f"No saved mapping called '{name}'.")
    return ColumnMapping.from_json(json.loads(row[0]))


def mapping_profiles(db: sqlite_utils.Database) -> list[dict]:
    """Saved mappings, by name: name, shape, updated_at, updated_by."""
    rows = db.execute("SELECT name, mapping, updated_at, updated_by FROM mapping_profiles ORDER BY name").fetchall()
    return [{"name": n, "shape": json.loads(m)["shape"], "updated_at": at, "updated_by": by} for n, m, at, by in rows]


def delete_mapping_profile(db: sqlite_utils.Database, name: str, username: str) -> bool:
    with store.transaction(db) as conn:
        removed = conn.execute("DELETE FROM mapping_profiles WHERE name = ?", (name.strip(),)).rowcount
        if removed:
            store.audit(conn, username, "mapping.delete", "mapping_profiles", name.strip())
    return bool(removed)
