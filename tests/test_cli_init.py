"""A real school's first day on the command line: `pastoral init` makes an empty store with the
school's name and one administrator, `pastoral users` manages who may sign in. JSON on
stdout, errors on stderr with exit 2 (a request that cannot be done) or 1 (a store init must
not touch); a password is never an argument and never printed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import auth, cli, sessions, store

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-9"
USER_FIELDS = {"username", "name", "email", "role", "sections", "active", "locked"}


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)


class Terminal(io.StringIO):
    """stdin as a terminal: the password must come from getpass, never from reading stdin."""

    def isatty(self) -> bool:
        return True

    def readline(self, *args):
        raise AssertionError("read the password from stdin at a terminal")


@pytest.fixture
def pastoral(db_path, capsys, monkeypatch):
    """pastoral(*args, stdin="…") runs the command on the test's database: (exit code, stdout, stderr)."""

    def _run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(["--db", str(db_path), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def school(pastoral, db_path) -> Path:
    """A store made by `pastoral init` for Hillside Academy, administrator `head`."""
    code, out, err = pastoral("init", "--school", "Hillside Academy", "--admin", "head", "--name", "Hana Head",
                              stdin=PASSWORD + "\n")
    assert code == 0, err
    return db_path


def stored_hash(db_path: Path, username: str) -> str:
    with store.opened(db_path) as db:
        return db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()[0]


def audit_of(db_path: Path) -> list[tuple[str, str, str]]:
    with store.opened(db_path) as db:
        return db.execute("SELECT username, action, entity_id FROM audit ORDER BY id").fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- pastoral init ------------------------------------------------------------------


def test_init_makes_an_empty_store_with_the_schools_name_and_one_administrator(pastoral, db_path):
    code, out, err = pastoral("init", "--school", "  Hillside   Academy ", "--admin", "Head", "--name", "Hana Head",
                              stdin=PASSWORD + "\n")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["school_name"] == "Hillside Academy" and printed["database"] == str(db_path)
    assert set(printed["admin"]) == USER_FIELDS
    assert printed["admin"] | {"locked": False} == {"username": "head", "name": "Hana Head", "email": "",
                                                    "role": "admin", "sections": [], "active": True, "locked": False}
    assert PASSWORD not in out + err
    with store.opened(db_path) as db:
        assert store.get_settings(db)["school_name"] == "Hillside Academy"
        assert [u.username for u in auth.list_users(db)] == ["head"]
        assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 0
    assert auth.check_password(PASSWORD, stored_hash(db_path, "head"))
    assert audit_of(db_path) == [("cli", "setting.change", "school_name"), ("cli", "user.add", "head"),
                                 ("cli", "school.init", "school_name")]


def test_init_names_who_did_it_in_the_audit_log(pastoral, db_path):
    code, _, err = pastoral("init", "--school", "Hillside", "--admin", "head", "--user", "it.support",
                            stdin=PASSWORD + "\n")
    assert code == 0, err
    assert {who for who, *_ in audit_of(db_path)} == {"it.support"}


def test_init_asks_for_the_password_twice_without_echo_at_a_terminal(pastoral, db_path, monkeypatch):
    prompts = []
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or PASSWORD)
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert cli.main(["--db", str(db_path), "init", "--school", "Hillside", "--admin", "head"]) == 0
    assert prompts == ["New password for head: ", "Type it again: "]
    assert auth.check_password(PASSWORD, stored_hash(db_path, "head"))


def test_init_at_a_terminal_creates_nothing_when_the_two_passwords_differ(db_path, capsys, monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert cli.main(["--db", str(db_path), "init", "--school", "Hillside", "--admin", "head"]) == 2
    assert "differ" in capsys.readouterr().err
    assert not db_path.exists()


@pytest.mark.parametrize(("password", "says"), [
    ("", "No password was given"),
    ("short", "at least 8 characters"),
    ("admin-demo-1", "demo school's published passwords"),
])
def test_init_refuses_a_weak_missing_or_demo_password_and_creates_no_store(pastoral, db_path, password, says):
    code, out, err = pastoral("init", "--school", "Hillside", "--admin", "head", stdin=password + "\n")
    assert code == 2 and out == ""
    assert says in err and "Nothing was created" in err
    assert password == "" or password not in err
    assert not db_path.exists()


@pytest.mark.parametrize(("args", "says"), [
    (["--school", "   ", "--admin", "head"], "school's name"),
    (["--school", "Hillside", "--admin", "x"], "A username is 2–40 characters"),
])
def test_init_refuses_a_bad_request_with_exit_2_before_asking_for_a_password(pastoral, db_path, args, says):
    code, _, err = pastoral("init", *args, stdin=PASSWORD + "\n")
    assert code == 2 and says in err
    assert sys.stdin.read() == PASSWORD + "\n"  # the password was not read
    assert not db_path.exists()


def test_init_refuses_a_store_that_already_holds_a_school_and_changes_nothing(pastoral, school):
    before = digest(school)
    code, out, err = pastoral("init", "--school", "Another School", "--admin", "boss", stdin="other-pass-77\n")
    assert code == 1 and out == ""
    assert "already holds a school (1 user, 1 setting)" in err and "changed nothing" in err
    assert "pastoral users" in err
    assert digest(school) == before
    with store.opened(school) as db:
        assert store.get_settings(db)["school_name"] == "Hillside Academy"
        assert [u.username for u in auth.list_users(db)] == ["head"]


def test_init_refuses_the_demo_school(pastoral, db_path):
    with store.opened(db_path) as db:
        auth.create_demo_users(db)
    code, _, err = pastoral("init", "--school", "Hillside", "--admin", "head", stdin=PASSWORD + "\n")
    assert code == 1 and "already holds a school (5 users" in err
    with store.opened(db_path) as db:
        assert "head" not in [u.username for u in auth.list_users(db)]


def test_init_refuses_a_file_that_is_not_a_pastoral_database(pastoral, db_path):
    db_path.write_text("name,year\nAmir,7\n", encoding="utf-8")
    before = digest(db_path)
    code, _, err = pastoral("init", "--school", "Hillside", "--admin", "head", stdin=PASSWORD + "\n")
    assert code == 1 and "is not a Pastoral database" in err
    assert digest(db_path) == before


def test_init_uses_a_store_the_app_created_before_anyone_was_set_up(pastoral, db_path):
    store.connect(db_path).conn.close()  # opening the app first makes the tables and nothing else
    code, _, err = pastoral("init", "--school", "Hillside", "--admin", "head", stdin=PASSWORD + "\n")
    assert code == 0, err


def test_the_pastoral_command_reads_the_password_from_a_pipe(tmp_path):
    """The console script as a school's IT would run it: the password piped in, JSON out."""
    env = {**os.environ, "PASTORAL_DB": str(tmp_path / "piped.db")}
    done = subprocess.run([sys.executable, "-m", "core.cli", "init", "--school", "Hillside", "--admin", "head"],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["admin"]["username"] == "head"
    assert PASSWORD not in done.stdout + done.stderr
    assert auth.check_password(PASSWORD, stored_hash(tmp_path / "piped.db", "head"))


# --- pastoral users -----------------------------------------------------------------


def test_users_add_reads_the_first_password_and_prints_the_user_as_json(pastoral, school):
    code, out, err = pastoral("users", "add", "Jo", "--name", "Jo Bloggs", "--role", "head_of_section",
                              "--section", "Primary", "--section", "Early Years", stdin="jo-first-pass\n")
    assert code == 0, err
    assert json.loads(out) == {"username": "jo", "name": "Jo Bloggs", "email": "", "role": "head_of_section",
                               "sections": ["Primary", "Early Years"], "active": True, "locked": False}
    assert "jo-first-pass" not in out + err
    assert auth.check_password("jo-first-pass", stored_hash(school, "jo"))
    assert audit_of(school)[-1] == ("cli", "user.add", "jo")


def test_users_list_prints_every_user_without_their_hash(pastoral, school):
    pastoral("users", "add", "kim", "--name", "Kim Lee", "--role", "viewer", stdin="kim-first-pass\n")
    code, out, _ = pastoral("users", "list")
    listed = json.loads(out)
    assert code == 0 and [u["username"] for u in listed] == ["head", "kim"]
    assert all(set(u) == USER_FIELDS for u in listed)
    assert "$2b$" not in out
    code, out, _ = pastoral("users", "list", "--format", "text")
    assert "kim" in out and "Viewer" in out and "Administrator" in out


def test_users_set_role_set_sections_disable_enable_reset_password_and_unlock(pastoral, school):
    pastoral("users", "add", "kim", "--name", "Kim Lee", "--role", "viewer", stdin="kim-first-pass\n")

    def run(*args, stdin=""):
        code, out, err = pastoral("users", *args, "--user", "head", stdin=stdin)
        assert code == 0, err
        return json.loads(out)

    assert run("set-role", "kim", "pastoral_lead")["role"] == "pastoral_lead"
    moved = run("set-role", "kim", "head_of_section", "--section", "Secondary")
    assert (moved["role"], moved["sections"]) == ("head_of_section", ["Secondary"])
    assert run("set-sections", "kim", "Primary", "Sixth Form")["sections"] == ["Primary", "Sixth Form"]
    assert run("disable", "kim")["active"] is False
    with store.opened(school) as db:
        assert "kim" not in auth.credentials(db)["usernames"]
    assert run("enable", "kim")["active"] is True
    with store.opened(school) as db:
        for _ in range(auth.MAX_FAILED_LOGINS):
            auth.record_failed_login(db, "kim")
        assert auth.get_user(db, "kim").locked()
    assert run("unlock", "kim")["locked"] is False
    assert run("reset-password", "kim", stdin="kim-new-pass-2\n")["username"] == "kim"
    assert auth.check_password("kim-new-pass-2", stored_hash(school, "kim"))
    by_head = [(action, entity) for who, action, entity in audit_of(school) if who == "head"]
    assert by_head == [("user.change", "kim")] * 5 + [("user.unlock", "kim"), ("user.password", "kim")]


@pytest.mark.parametrize(("args", "says"), [
    (["add", "kim", "--name", "Kim", "--role", "boss"], "'boss' is not a role"),
    (["add", "kim", "--name", "Kim", "--role", "head_of_section"], "needs at least one section"),
    (["add", "head", "--name", "Again", "--role", "viewer"], "already a user 'head'"),
    (["set-role", "ghost", "viewer"], "no user 'ghost'"),
    (["set-role", "head", "viewer"], "only active administrator"),
    (["disable", "head"], "only active administrator"),
    (["set-sections", "head", "Primary"], "Only a head of section has sections"),
    (["reset-password", "ghost"], "no user 'ghost'"),
])
def test_users_refuses_what_cannot_be_done_with_exit_2_and_changes_nothing(pastoral, school, args, says):
    before = audit_of(school)
    code, out, err = pastoral("users", *args, stdin="some-new-pass-1\n")
    assert code == 2 and out == "" and says in err
    assert audit_of(school) == before
    assert sys.stdin.read() == "some-new-pass-1\n"  # refused before a password was asked for


def test_users_reset_password_refuses_a_demo_password_and_keeps_the_old_one(pastoral, school):
    code, _, err = pastoral("users", "reset-password", "head", stdin="viewer-demo-1\n")
    assert code == 2 and "demo school's published passwords" in err
    assert auth.check_password(PASSWORD, stored_hash(school, "head"))


def test_users_sign_out_ends_every_session_of_the_user(pastoral, school):
    with store.opened(school) as db:
        tokens = [sessions.start(db, "head") for _ in range(2)]
    code, out, err = pastoral("users", "sign-out", "head", "--user", "head")
    assert code == 0, err
    assert json.loads(out)["username"] == "head"
    with store.opened(school) as db:
        assert [sessions.live_username(db, token) for token in tokens] == [None, None]
    assert ("head", "user.sign_out_everywhere", "head") in audit_of(school)
    assert pastoral("users", "sign-out", "ghost")[0] == 2


def test_a_password_is_not_an_argument(pastoral, school):
    with pytest.raises(SystemExit) as usage:
        pastoral("users", "add", "kim", "--name", "Kim", "--role", "viewer", "--password", "kim-first-pass")
    assert usage.value.code == 2
