"""Sign-in sessions held in the store (core/sessions.py, core/auth.py): what ends them, in
core and in the app (AppTest); the browser's side is tests/browser/test_browser_sessions.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from core import auth, sessions, store
from tests.app_school import (  # noqa: F401 (fixtures)
    ROOT, SCREEN_FILES, hold_session, quick_hashes, school, signed_in, titles,
)


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)


@pytest.fixture
def users(db):
    auth.add_user(db, "jo", "Jo Bloggs", "long-enough-1", auth.ATTENDANCE_OFFICER, by="setup")
    auth.add_user(db, "sam", "Sam Smith", "long-enough-2", auth.HEAD_OF_SECTION, ("Secondary",), by="setup")
    auth.add_user(db, "boss", "Bo Boss", "long-enough-3", auth.ADMIN, by="setup")
    return db


def signed_in_to(db, username: str) -> str:
    return auth.sign_in(db, username)


def live(db, token: str) -> str | None:
    user = auth.session_user(db, token)
    return user.username if user else None


def test_a_sign_in_starts_a_session_whose_token_the_store_never_holds(users):
    token = signed_in_to(users, "jo")
    assert live(users, token) == "jo"
    assert len(token) >= 40
    stored = json.dumps(users.execute("SELECT * FROM sessions").fetchall()) + json.dumps(
        users.execute("SELECT * FROM audit").fetchall())
    assert token not in stored
    assert users.execute("SELECT detail FROM audit WHERE action = 'login'").fetchone()[0] == json.dumps(
        {"via": "password", "session": sessions.short_id(token)})


def test_an_unknown_or_forged_token_signs_nobody_in(users):
    signed_in_to(users, "jo")
    assert live(users, "jo") is None
    assert live(users, "x" * 43) is None
    assert live(users, "") is None


def test_signing_out_ends_that_session_for_good_and_only_that_one(users):
    laptop, phone = signed_in_to(users, "jo"), signed_in_to(users, "jo")
    auth.record_logout(users, "jo", laptop)
    assert live(users, laptop) is None  # a copy of the laptop's cookie is dead too
    assert live(users, phone) == "jo"
    assert users.execute("SELECT ended_why FROM sessions WHERE id = ?", (sessions._id(laptop),)).fetchone()[0] \
        == sessions.SIGNED_OUT


def test_a_session_lasts_a_school_day(users):
    started = datetime(2025, 9, 8, 8, 0, tzinfo=timezone.utc)
    token = sessions.start(users, "jo", at=started)
    assert sessions.live_username(users, token, at=started + timedelta(hours=sessions.SESSION_HOURS - 1)) == "jo"
    assert sessions.live_username(users, token, at=started + timedelta(hours=sessions.SESSION_HOURS)) is None


def test_a_password_change_ends_every_session_of_that_user_only(users):
    jo_1, jo_2, sam = signed_in_to(users, "jo"), signed_in_to(users, "jo"), signed_in_to(users, "sam")
    auth.set_password(users, "jo", "brand-new-pass-3", "boss")
    assert live(users, jo_1) is None and live(users, jo_2) is None
    assert live(users, sam) == "sam"
    detail = users.execute("SELECT detail FROM audit WHERE action = 'user.password'").fetchone()[0]
    assert json.loads(detail) == {"sessions_ended": 2}


def test_deactivating_a_user_ends_their_sessions(users):
    token = signed_in_to(users, "jo")
    auth.update_user(users, "jo", "boss", active=False)
    auth.update_user(users, "jo", "boss", active=True)  # let back in: the old session stays ended
    assert live(users, token) is None


@pytest.mark.parametrize("change", [{"role": auth.VIEWER}, {"sections": ["Primary"]}])
def test_a_change_of_role_or_sections_ends_the_users_sessions(users, change):
    token = signed_in_to(users, "sam")
    auth.update_user(users, "sam", "boss", **change)
    assert live(users, token) is None
    assert json.loads(users.execute("SELECT detail FROM audit WHERE action = 'user.change'").fetchone()[0])[
        "sessions_ended"] == 1


def test_a_change_of_name_or_email_keeps_the_session(users):
    token = signed_in_to(users, "jo")
    auth.update_user(users, "jo", "boss", name="Jo Bloggs-Smith", email="jo@example.org")
    assert live(users, token) == "jo"


def test_sign_out_everywhere_ends_every_session_of_the_user_and_is_audited(users):
    tokens = [signed_in_to(users, "jo") for _ in range(3)]
    boss = signed_in_to(users, "boss")
    assert sessions.open_counts(users) == {"jo": 3, "boss": 1}
    assert auth.sign_out_everywhere(users, "jo", "boss") == 3
    assert [live(users, t) for t in tokens] == [None, None, None]
    assert live(users, boss) == "boss"
    assert users.execute("SELECT username, action, entity_id, detail FROM audit ORDER BY id DESC").fetchone() == (
        "boss", "user.sign_out_everywhere", "jo", json.dumps({"sessions_ended": 3}))


def test_a_locked_user_is_not_signed_in_by_their_session(users):
    token = signed_in_to(users, "jo")
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.record_failed_login(users, "jo")
    assert live(users, token) is None


# --- in the app (AppTest): the open tab ends at its next click -----------------------------


def login_form_shown(app: AppTest) -> bool:
    return [box.label for box in app.text_input] == ["Username", "Password"]


def test_logging_out_ends_the_tabs_session_in_the_store(school):
    app = signed_in("viewer")
    token = app.session_state["pastoral_session_token"]
    app.button(key="log_out_button").click().run()
    assert login_form_shown(app)
    with store.opened(school) as db:
        assert auth.session_user(db, token) is None


@pytest.mark.parametrize("end", [
    lambda db: auth.set_password(db, "pastoral", "brand-new-pass-3", "admin"),
    lambda db: auth.update_user(db, "pastoral", "admin", role=auth.VIEWER),
    lambda db: auth.sign_out_everywhere(db, "pastoral", "admin"),
], ids=["password", "role", "everywhere"])
def test_an_open_tab_is_signed_out_at_its_next_click(school, end):
    app = signed_in("pastoral")
    assert titles(app) == ["Overview"]
    with store.opened(school) as db:
        end(db)
    app.run()
    assert login_form_shown(app)
    assert "Your session has ended" in app.info[0].value
    assert not app.dataframe


def test_a_tab_claiming_a_user_without_a_session_is_not_signed_in(school):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.session_state["authentication_status"] = True
    app.session_state["username"] = "admin"
    app.session_state["pastoral_username"] = "admin"
    app.run()
    assert login_form_shown(app)


def test_admin_signs_a_user_out_everywhere(school):
    other = signed_in("officer")
    app = signed_in("admin", "admin")
    app.selectbox(key="admin_edit_user").select("officer").run()
    app.button(key="sign_out_everywhere").click().run()
    with store.opened(school) as db:
        assert db.execute("SELECT username, action, entity_id FROM audit ORDER BY id DESC").fetchone() == (
            "admin", "user.sign_out_everywhere", "officer")
    other.run()
    assert login_form_shown(other)
    assert titles(app)[0] == "Admin"  # the admin's own session goes on


def test_restoring_a_backup_ends_every_session_even_those_live_when_it_was_taken(users, db_path, tmp_path):
    from core import safekeeping

    token = signed_in_to(users, "jo")
    backup = safekeeping.backup(db_path, tmp_path / "backup.db", "boss")
    auth.record_logout(users, "jo", token)  # signed out after the backup: the backup still has it live
    safekeeping.restore(db_path, backup, "boss")
    with store.opened(db_path) as restored:
        assert live(restored, token) is None
        assert json.loads(restored.execute("SELECT detail FROM audit WHERE action = 'restore'").fetchone()[0])[
            "sessions_ended"] == 1
