"""Who is signed in: the login form, the remember-me cookie, logout, and each screen's role check.

streamlit-authenticator draws the form and signs the cookie; the users, their roles,
their sections and the throttling live in the store (core/auth.py), read on every run, so
a deactivated user or a changed role takes effect at once. The cookie key comes from
`.streamlit/secrets.toml`, generated on first run if absent (never committed).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth

from app_pages.ui.formatting import md
from core import auth, menu, store

APP_DIR = Path(__file__).resolve().parents[2]  # the folder of app.py (this file is app_pages/ui/access.py)
COOKIE_NAME = "pastoral_login"
COOKIE_EXPIRY_DAYS = 0.5  # a school day; a shared laptop does not stay signed in overnight
SESSION_FAILURES_BEFORE_PAUSE = 5  # wrong passwords in one browser session before the form pauses

# Session-state keys owned by this module.
USER_KEY = "pastoral_username"
SIGN_OUT_KEY = "pastoral_sign_out"
FAILURES_KEY = "pastoral_failed_attempts"
LAST_FAILED_KEY = "pastoral_last_login_failed"


def database_path() -> Path:
    return store.default_path()


def secrets_path() -> Path:
    """`.streamlit/secrets.toml` beside app.py; PASTORAL_SECRETS names another file (tests)."""
    return Path(os.environ.get("PASTORAL_SECRETS") or APP_DIR / ".streamlit" / "secrets.toml")


def cookie_key(path: Path | None = None) -> str:
    """The key that signs the login cookie: read from secrets.toml, generated there if absent."""
    path = path or secrets_path()
    key = _read_cookie_key(path)
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two first visitors at once write one key
        try:
            key = _read_cookie_key(path)
            if not key:
                key = secrets.token_urlsafe(48)
                handle.write(f'\n[auth]\n# Signs login cookies. Generated on first run; keep it out of git.\ncookie_key = "{key}"\n')
                handle.flush()
                os.chmod(path, 0o600)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return key


def _read_cookie_key(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            key = tomllib.load(handle).get("auth", {}).get("cookie_key")
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return None
    return key if isinstance(key, str) and len(key) >= 32 else None


def _authenticator(credentials: dict) -> stauth.Authenticate:
    return stauth.Authenticate(
        credentials, COOKIE_NAME, cookie_key(), COOKIE_EXPIRY_DAYS, auto_hash=False, login_sleep_time=0,
    )


def _request_sign_out() -> None:
    st.session_state[SIGN_OUT_KEY] = True


def sign_out_button() -> None:
    st.button("Log out", key="log_out_button", on_click=_request_sign_out, icon=":material/logout:")


def sign_in() -> tuple[auth.User | None, stauth.Authenticate | None]:
    """The signed-in user, or None (and the authenticator, so the login form can be drawn).

    Handles, in order: a requested logout, the remember-me cookie, and a user who was
    signed in but has since been deactivated or locked.
    """
    try:
        with store.opened(database_path()) as db:
            credentials = auth.credentials(db)
    except store.StoreError as error:
        st.error(f"The database cannot be opened: {md(error)} Ask whoever runs Pastoral to check PASTORAL_DB.")
        st.stop()
    authenticator = _authenticator(credentials)

    if st.session_state.pop(SIGN_OUT_KEY, False) and st.session_state.get("authentication_status"):
        username = st.session_state.get("username")
        authenticator.logout(location="unrendered")
        st.session_state.pop(USER_KEY, None)
        _write(auth.record_logout, username)
        return None, authenticator

    if not st.session_state.get("authentication_status"):
        if _cookie_counts(authenticator):
            try:
                authenticator.login(location="unrendered")  # the remember-me cookie
            except stauth.LoginError:
                _clear_authentication()  # the cookie names a user who may no longer sign in
            if st.session_state.get("authentication_status"):
                _write(auth.record_login, st.session_state["username"], "cookie")
                st.session_state[USER_KEY] = st.session_state["username"]
        elif authenticator.cookie_controller.get_cookie():
            # A cookie the library would accept but the store has revoked (issued before a logout
            # or a password change): the library's own login form must not sign in with it either.
            st.session_state["logout"] = True
    elif not st.session_state.get(USER_KEY):
        _clear_authentication()  # signed in by some other way than ours: not accepted

    username = st.session_state.get(USER_KEY) if st.session_state.get("authentication_status") else None
    if not username:
        return None, authenticator
    with store.opened(database_path()) as db:
        user = auth.get_user(db, username)
    if user is None or not user.active or user.locked():
        authenticator.logout(location="unrendered")
        st.session_state.pop(USER_KEY, None)
        return None, authenticator
    authenticator.cookie_controller.set_cookie()  # keeps the cookie for a reload (sliding school day)
    return user, authenticator


def _cookie_counts(authenticator: stauth.Authenticate) -> bool:
    """A valid remember-me cookie issued after the user last logged out or changed password.

    The browser deletes the cookie at logout, but a tab closed at once may keep it; the
    store's record of the logout makes such a cookie worthless anyway.
    """
    token = authenticator.cookie_controller.get_cookie()
    if not token or "username" not in token or "exp_date" not in token:
        return False
    issued = datetime.fromtimestamp(token["exp_date"], timezone.utc) - timedelta(days=COOKIE_EXPIRY_DAYS)
    with store.opened(database_path()) as db:
        return auth.cookie_still_valid(db, token["username"], issued)


def login_form(authenticator: stauth.Authenticate) -> None:
    """The login screen: the only thing a visitor who is not signed in ever sees."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Pastoral")
        st.caption("School attendance — sign in with the login your school gave you.")
        with store.opened(database_path()) as db:
            nobody = not auth.list_users(db)
        if nobody:
            st.info("Nobody can sign in yet: this school has no users. Whoever runs Pastoral sets it up with "
                    "`pastoral init --school NAME --admin USERNAME` (the README says how), or starts the demo "
                    "school with `make run`.", icon=":material/person_add:")
        failures = st.session_state.get(FAILURES_KEY, 0)
        if failures >= SESSION_FAILURES_BEFORE_PAUSE:
            st.error("Too many wrong passwords from this browser. Close the tab and try again later, "
                     "or ask your Pastoral administrator to reset your password.")
            return
        # The library sets the status to False only when a submitted password fails, so
        # clearing it first tells a failed submission apart from any later rerun.
        if st.session_state.get("authentication_status") is False:
            st.session_state["authentication_status"] = None
        _ignore_stale_cookie(authenticator)
        try:
            authenticator.login(
                location="main", key="login_form",
                fields={"Form name": "Sign in", "Username": "Username", "Password": "Password", "Login": "Sign in"},
                callback=_on_login,
            )
        except stauth.LoginError:
            _clear_authentication()
            st.session_state["authentication_status"] = False
        if st.session_state.get("authentication_status"):
            st.session_state.pop(LAST_FAILED_KEY, None)
            st.rerun()
        if st.session_state.get("authentication_status") is False:
            _record_failures(authenticator)
            st.session_state[LAST_FAILED_KEY] = True
            if st.session_state[FAILURES_KEY] >= SESSION_FAILURES_BEFORE_PAUSE:
                st.rerun()
        if st.session_state.get(LAST_FAILED_KEY):
            st.error("Username or password is incorrect. "
                     f"After {auth.MAX_FAILED_LOGINS} wrong passwords an account is locked for "
                     f"{auth.LOCK_MINUTES} minutes.")


def _ignore_stale_cookie(authenticator: stauth.Authenticate) -> None:
    """Keep the library from signing in with a cookie that no longer counts.

    A page reloaded straight after "Log out" may still send the cookie (the browser deletes
    it a moment later), and the library would sign in with it without drawing the form. Its
    `logout` flag makes it ignore the cookie for this browser session.
    """
    if authenticator.cookie_controller.get_cookie() and not _cookie_counts(authenticator):
        st.session_state["logout"] = True


def _on_login(details: dict) -> None:
    username = details["username"]
    st.session_state[USER_KEY] = username
    st.session_state[FAILURES_KEY] = 0
    _write(auth.record_login, username, "password")


def _record_failures(authenticator: stauth.Authenticate) -> None:
    """Count a wrong password against the account (the library marks it in the credentials it checked)."""
    st.session_state[FAILURES_KEY] = st.session_state.get(FAILURES_KEY, 0) + 1
    users = authenticator.authentication_controller.authentication_model.credentials["usernames"]
    failed = [username for username, details in users.items() if details.get("failed_login_attempts")]
    for username in failed or [""]:  # "" audits a failure for a name that is not a user
        _write(auth.record_failed_login, username)


def _clear_authentication() -> None:
    for key in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None
    st.session_state.pop(USER_KEY, None)


def _write(action, *args) -> None:
    with store.opened(database_path()) as db:
        action(db, *args)


def current_user() -> auth.User | None:
    """The signed-in user as the store has them now (None when signed out or deactivated)."""
    username = st.session_state.get(USER_KEY) if st.session_state.get("authentication_status") else None
    if not username:
        return None
    with store.opened(database_path()) as db:
        user = auth.get_user(db, username)
    return user if user and user.active and not user.locked() else None


def require(screen: str) -> auth.User:
    """Every screen calls this first: the signed-in user if their role may open `screen`, else stop."""
    user = current_user()
    if user is None:
        st.warning("Please sign in to see this page.")
        st.stop()
    if not menu.may_open(user.role, screen):
        st.error(f"Your role ({user.role_label}) cannot open this page. Ask your Pastoral administrator if you need it.")
        st.stop()
    return user
