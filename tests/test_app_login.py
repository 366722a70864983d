"""Signing in, signing out, throttling, and which screens each role reaches (AppTest)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui import access
from core import auth, store
from tests.app_school import (  # noqa: F401 (fixtures)
    PUPIL_NAMES, ROOT, SCREEN_FILES, all_text, empty_school, hold_session, password_of, quick_hashes, school, signed_in,
    titles,
)


def sign_in_with(app: AppTest, username: str, password: str) -> AppTest:
    username_box, password_box = app.text_input
    username_box.input(username)
    password_box.input(password)
    return app.button[0].click().run()


def audit(db_path: Path) -> list[tuple[str, str]]:
    with store.opened(db_path) as db:
        return db.execute("SELECT username, action FROM audit ORDER BY id").fetchall()


# --- signed out --------------------------------------------------------------------


def test_a_visitor_who_is_not_signed_in_sees_the_login_form_and_no_pupil_data(school):
    app = signed_in(None)
    assert [box.label for box in app.text_input] == ["Username", "Password"]
    text = all_text(app)
    assert not any(name in text for name in PUPIL_NAMES)
    assert "Test Academy" not in text and not app.dataframe and not app.metric


# (That every screen's address shows the login form to a visitor is checked in the browser:
# tests/browser/test_browser.py, where addresses are real.)


@pytest.mark.parametrize("screen", list(SCREEN_FILES))
def test_each_screen_checks_for_a_signed_in_user_itself(school, screen):
    page = AppTest.from_file(str(ROOT / SCREEN_FILES[screen]), default_timeout=30).run()
    assert [w.value for w in page.warning] == ["Please sign in to see this page."]
    assert not page.dataframe and not any(name in all_text(page) for name in PUPIL_NAMES)


# --- signing in and out ------------------------------------------------------------


def test_the_right_password_opens_the_overview_and_is_audited(school):
    app = sign_in_with(signed_in(None), "Admin", password_of("admin"))
    assert titles(app) == ["Overview"]
    assert ("admin", "login") in audit(school)


def test_a_wrong_password_is_refused_counted_and_audited(school):
    app = sign_in_with(signed_in(None), "admin", "not-the-password")
    assert "Username or password is incorrect" in app.error[0].value
    assert titles(app) == ["Pastoral"]
    with store.opened(school) as db:
        assert auth.get_user(db, "admin").failed_logins == 1
    assert ("admin", "login.failed") in audit(school)


def test_five_wrong_passwords_lock_the_account_even_with_the_right_one_next(school):
    with store.opened(school) as db:
        for _ in range(auth.MAX_FAILED_LOGINS):
            auth.record_failed_login(db, "officer")
    app = sign_in_with(signed_in(None), "officer", password_of("officer"))
    assert titles(app) == ["Pastoral"] and "incorrect" in app.error[0].value


def test_one_browser_session_is_paused_after_five_wrong_passwords(school):
    app = signed_in(None)
    for attempt in range(access.SESSION_FAILURES_BEFORE_PAUSE):
        app = sign_in_with(app, f"nobody{attempt}", "wrong-password")
    assert "Too many wrong passwords" in app.error[0].value
    assert not app.text_input


def test_logging_out_returns_to_the_login_form_and_is_audited(school):
    app = signed_in("viewer")
    app.button(key="log_out_button").click().run()
    assert [box.label for box in app.text_input] == ["Username", "Password"]
    assert not app.dataframe
    assert ("viewer", "logout") in audit(school)


def test_a_deactivated_user_is_signed_out_at_their_next_click(school):
    app = signed_in("pastoral")
    assert titles(app) == ["Overview"]
    with store.opened(school) as db:
        auth.update_user(db, "pastoral", "admin", active=False)
    app.run()
    assert [box.label for box in app.text_input] == ["Username", "Password"]


# --- roles -------------------------------------------------------------------------


EVERYONE = {"overview", "below_90", "patterns", "pupil", "casework", "reports"}
CASE_WORK = EVERYONE | {"today", "families", "letters", "meeting", "data_quality"}


@pytest.mark.parametrize(("username", "reachable"), [
    ("admin", {*CASE_WORK, "upload", "admin"}),
    ("officer", {*CASE_WORK, "upload"}),
    ("pastoral", CASE_WORK),
    ("secondary", CASE_WORK),
    ("viewer", EVERYONE),
])
def test_each_role_reaches_only_its_screens(school, username, reachable):
    expected_titles = {"overview": "Overview", "below_90": "Below 90%", "patterns": "Patterns", "pupil": "Pupil",
                       "casework": "Casework", "meeting": "Meeting", "reports": "Reports", "upload": "Upload",
                       "admin": "Admin", "today": "Today", "families": "Families", "letters": "Letters",
                       "data_quality": "Data quality"}
    app = signed_in(username)
    for screen, path in SCREEN_FILES.items():
        if screen in reachable:
            assert titles(app.switch_page(path).run())[0] == expected_titles[screen], screen
        else:  # never registered for this role, so there is nothing to switch to
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(path)


@pytest.mark.parametrize(("screen", "username"), [("admin", "officer"), ("admin", "viewer"), ("upload", "pastoral"),
                                                  ("upload", "secondary"), ("upload", "viewer"), ("meeting", "viewer"),
                                                  ("today", "viewer"), ("families", "viewer"), ("letters", "viewer"),
                                                  ("data_quality", "viewer")])
def test_each_screen_checks_the_role_again_before_drawing(school, screen, username):
    page = AppTest.from_file(str(ROOT / SCREEN_FILES[screen]), default_timeout=30)
    hold_session(page, username)
    page.run()
    assert "cannot open this page" in page.error[0].value
    assert not page.dataframe and not page.file_uploader and not page.form


# --- the cookie key and the app's configuration -----------------------------------------


def test_the_cookie_key_is_generated_into_secrets_once_and_kept(tmp_path):
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    key = access.cookie_key(secrets)
    assert len(key) >= 32
    assert access.cookie_key(secrets) == key
    assert tomllib.loads(secrets.read_text())["auth"]["cookie_key"] == key
    assert secrets.stat().st_mode & 0o077 == 0


def test_an_existing_secrets_file_keeps_its_other_settings(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[other]\ntoken = "abc"\n')
    key = access.cookie_key(secrets)
    saved = tomllib.loads(secrets.read_text())
    assert saved["other"] == {"token": "abc"} and saved["auth"]["cookie_key"] == key


def test_the_agent_api_stays_off_and_no_pages_folder_bypasses_the_login():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableAgentApi"] is False
    assert not (ROOT / "pages").exists()


def test_secrets_are_never_committed():
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_login_cookie_key_is_kept_beside_app_py(monkeypatch):
    """secrets.toml lives in the app's own .streamlit folder (ignored by git), wherever the
    module that reads it sits."""
    monkeypatch.delenv("PASTORAL_SECRETS", raising=False)
    assert access.secrets_path() == ROOT / ".streamlit" / "secrets.toml"
