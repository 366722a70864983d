"""Children's data on disk is for the account running Pastoral only: the store, its
write-ahead log and shared-memory file, and backups are created 0600 whatever the umask;
a secrets.toml others may read, or a weak cookie key, is reported at start."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from app_pages.ui import access
from core import safekeeping, store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # the usual umask: new files 0644, readable by every account
    yield
    os.umask(previous)


def test_a_new_store_and_its_wal_and_shm_are_0600(tmp_path, open_umask):
    path = tmp_path / "school.db"
    db = store.connect(path)
    try:
        store.set_setting(db, "school_name", "Test Academy", "test")  # a write: the WAL holds it
        assert (tmp_path / "school.db-wal").exists() and (tmp_path / "school.db-shm").exists()
        assert {name: mode(tmp_path / name) for name in ("school.db", "school.db-wal", "school.db-shm")} == {
            "school.db": 0o600, "school.db-wal": 0o600, "school.db-shm": 0o600}
    finally:
        db.conn.close()


def test_a_store_made_world_readable_before_is_made_private_when_opened(tmp_path, open_umask):
    import sqlite3

    path = tmp_path / "school.db"
    with sqlite3.connect(path) as older:  # as an earlier version of Pastoral left it: 0644
        older.execute("PRAGMA journal_mode = WAL")
        older.execute("CREATE TABLE t (x)")
    assert mode(path) == 0o644
    with store.opened(path):
        pass
    assert mode(path) == 0o600


def test_a_backup_is_0600(tmp_path, open_umask):
    with store.opened(tmp_path / "school.db"):
        pass
    backup = safekeeping.backup(tmp_path / "school.db", tmp_path / "backups" / "monday.db", "admin")
    assert mode(backup) == 0o600


def test_a_secrets_file_others_may_read_is_reported(tmp_path):
    secrets = tmp_path / "secrets.toml"
    access.cookie_key(secrets)
    assert access.secrets_problems(secrets) == []
    os.chmod(secrets, 0o644)
    [problem] = access.secrets_problems(secrets)
    assert "can be read by other accounts" in problem and f"chmod 600 {secrets}" in problem


@pytest.mark.parametrize("key", ["short-key", "a" * 48, "abababababababababababababababababab"])
def test_a_weak_cookie_key_is_reported(tmp_path, key):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[auth]\ncookie_key = "{key}"\n')
    os.chmod(secrets, 0o600)
    [problem] = access.secrets_problems(secrets)
    assert "is weak" in problem
    assert access.cookie_key(secrets) == key  # kept (nothing appended that would break the file)
    assert secrets.read_text().count("[auth]") == 1


def test_the_problems_go_to_the_server_log_at_start(tmp_path, monkeypatch, caplog):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\ncookie_key = "changeme"\n')
    os.chmod(secrets, 0o644)
    monkeypatch.setenv("PASTORAL_SECRETS", str(secrets))
    monkeypatch.setattr(access, "_secrets_checked", False)
    with caplog.at_level(logging.WARNING, logger="pastoral.access"):
        access.warn_about_secrets()
        access.warn_about_secrets()  # once per server start
    assert len(caplog.records) == 2
    assert "can be read by other accounts" in caplog.records[0].message and "is weak" in caplog.records[1].message
