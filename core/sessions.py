"""Sign-in sessions, held in the store: what makes a browser signed in, and what ends it.

A sign-in starts a session: a random token (256 bits) goes to the browser in the login
cookie, and the store keeps only its SHA-256 (`sessions.id`), the user, and when the
session started, expires and ended. Every run of the app asks the store whether the
token's session is still live, so ending a session works at once and for good: a copied
cookie is dead after its owner signs out, and a password change, deactivation, a change of
role or sections, or an administrator's "sign out everywhere" ends every session of that
user at its next click (core/auth.py calls `end_all` inside those changes' transactions);
restoring a backup ends every session (the backup's live sessions may have been ended since).

A session lasts a school day (SESSION_HOURS) from signing in, however busy; ended and
expired rows are kept a week (who was signed in when), then removed.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone

import sqlite_utils

from core import store

SESSION_HOURS = 12  # a school day; a shared laptop does not stay signed in overnight
KEEP_ENDED_DAYS = 7
COOKIE = "pastoral_session"  # the browser cookie that carries the token

# Why a session ended, as stored (and audited).
SIGNED_OUT = "signed out"
PASSWORD_CHANGED = "password changed"
DEACTIVATED = "deactivated"
ROLE_CHANGED = "role changed"
SIGNED_OUT_EVERYWHERE = "signed out everywhere"
RESTORED = "store restored from a backup"


def _id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def start(db: sqlite_utils.Database, username: str, at: datetime | None = None) -> str:
    """A new session for `username`; returns the token for the browser's cookie (never stored)."""
    at = at or _now()
    token = secrets.token_urlsafe(32)
    with store.transaction(db) as conn:
        conn.execute("DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?",
                     ((at - timedelta(days=KEEP_ENDED_DAYS)).isoformat(),) * 2)
        conn.execute("INSERT INTO sessions (id, username, started_at, expires_at) VALUES (?, ?, ?, ?)",
                     (_id(token), username, at.isoformat(), (at + timedelta(hours=SESSION_HOURS)).isoformat()))
    return token


def live_username(db: sqlite_utils.Database, token: str | None, at: datetime | None = None) -> str | None:
    """The user whose live session `token` is, or None (unknown, ended or expired)."""
    if not isinstance(token, str) or not token:
        return None
    row = db.execute("SELECT username FROM sessions WHERE id = ? AND ended_at IS NULL AND expires_at > ?",
                     (_id(token), (at or _now()).isoformat())).fetchone()
    return row[0] if row else None


def expires_at(db: sqlite_utils.Database, token: str) -> datetime | None:
    row = db.execute("SELECT expires_at FROM sessions WHERE id = ?", (_id(token),)).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


def short_id(token: str) -> str:
    """How the audit log names a session (a prefix of its stored id, never the token)."""
    return _id(token)[:12]


def end(db: sqlite_utils.Database, token: str, why: str = SIGNED_OUT) -> bool:
    """End one session (signing out); False if it was not live."""
    with store.transaction(db) as conn:
        return conn.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE id = ? AND ended_at IS NULL",
                            (_now().isoformat(), why, _id(token))).rowcount > 0


def end_all(conn: sqlite3.Connection, username: str, why: str) -> int:
    """End every live session of `username` (call inside the change's transaction); how many ended."""
    return conn.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE username = ? AND ended_at IS NULL",
                        (_now().isoformat(), why, username)).rowcount


def end_everyone(conn: sqlite3.Connection, why: str) -> int:
    """End every live session of every user (a restore brings back sessions since signed out)."""
    return conn.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE ended_at IS NULL",
                        (_now().isoformat(), why)).rowcount


def open_counts(db: sqlite_utils.Database, at: datetime | None = None) -> dict[str, int]:
    """Live sessions per user (for Admin → Users)."""
    return dict(db.execute("SELECT username, COUNT(*) FROM sessions WHERE ended_at IS NULL AND expires_at > ? "
                           "GROUP BY username", ((at or _now()).isoformat(),)).fetchall())
