"""Who is signed in: the login form, the login cookie, signing out, and each screen's role check.

streamlit-authenticator draws the form and checks the password; the users, their roles,
their sections and the throttling live in the store (core/auth.py). A sign-in starts a
session held in the store (core/sessions.py): the browser's cookie carries only the
session's random token, and every run asks the store whether that session is still live
and its user active, so signing out, a password change, deactivation, a role change or
"sign out everywhere" ends it at the next click, and a copied cookie dies with it.

The library's own remember-me cookie (a signed username and expiry, which cannot be
revoked) is never written nor read, and the library is created only to draw the login
form. It still takes a key, read from `.streamlit/secrets.toml` (generated on first run if
absent, never committed); a secrets file others may read, or a weak key, is reported in
the server log at start.
"""

from __future__ import annotations

import fcntl
import json
import re
import logging
import os
import secrets
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import cookie_model

from app_pages.ui.formatting import md
from core import auth, menu, reads, sessions, store

APP_DIR = Path(__file__).resolve().parents[2]  # the folder of app.py (this file is app_pages/ui/access.py)
COOKIE_NAME = sessions.COOKIE  # the session token
LIBRARY_COOKIE = "pastoral_login"  # the library's remember-me cookie: never written, never read
COOKIE_SCRIPT_CONTAINER = "session_cookie_script"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")  # a session token as secrets.token_urlsafe makes it
SESSION_FAILURES_BEFORE_PAUSE = 5  # wrong passwords in one browser session before the form pauses
MIN_KEY_LENGTH = 32

# Session-state keys owned by this module.
USER_KEY = "pastoral_username"
SESSION_KEY = "pastoral_session_token"
SIGN_OUT_KEY = "pastoral_sign_out"
FAILURES_KEY = "pastoral_failed_attempts"
LAST_FAILED_KEY = "pastoral_last_login_failed"
ENDED_KEY = "pastoral_session_ended"  # the token of a session that ended in this tab (its cookie is removed)
ENDED_NOTICE_KEY = "pastoral_session_ended_notice"
COOKIE_SCRIPT_KEY = "pastoral_session_cookie_script"

_log = logging.getLogger("pastoral.access")


class _NoBrowserCookies:
    """Stands in for the library's browser-cookie component (extra-streamlit-components'
    CookieManager), which it would draw on every login page only to manage its own cookie,
    unused here. Drawn, it sent its value back and reran the login page a moment after it
    opened, and a "Sign in" pressed during that rerun could be lost (seen with ten people
    signing in at once, issue 14)."""

    def __init__(self, *args, **kwargs):
        self.cookies: dict = {}

    def get(self, cookie: str):
        return None

    def set(self, *args, **kwargs) -> None:
        pass

    def delete(self, *args, **kwargs) -> None:
        pass


cookie_model.stx = type("NoBrowserCookies", (), {"CookieManager": _NoBrowserCookies})


def database_path() -> Path:
    return store.default_path()


def secrets_path() -> Path:
    """`.streamlit/secrets.toml` beside app.py; PASTORAL_SECRETS names another file (tests)."""
    return Path(os.environ.get("PASTORAL_SECRETS") or APP_DIR / ".streamlit" / "secrets.toml")


# --- the secrets file ------------------------------------------------------------------


def cookie_key(path: Path | None = None) -> str:
    """The key the login library needs: read from secrets.toml, generated there if absent."""
    path = path or secrets_path()
    key = _read_cookie_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two first visitors at once write one key
        try:
            key = _read_cookie_key(path)
            if key is None:
                key = secrets.token_urlsafe(48)
                handle.write(f'\n[auth]\n# Signs login cookies. Generated on first run; keep it out of git.\ncookie_key = "{key}"\n')
                handle.flush()
                os.chmod(path, 0o600)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return key


def _read_cookie_key(path: Path) -> str | None:
    """The key written in the file, weak or not (None if there is none)."""
    try:
        with open(path, "rb") as handle:
            key = tomllib.load(handle).get("auth", {}).get("cookie_key")
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return None
    return key if isinstance(key, str) and key else None


def secrets_problems(path: Path | None = None) -> list[str]:
    """What is wrong with secrets.toml, worded for whoever runs Pastoral (empty if nothing)."""
    path = path or secrets_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return []
    problems = []
    if mode & 0o077:
        problems.append(f"{path} can be read by other accounts on this computer (mode {mode & 0o777:o}); "
                        f"run: chmod 600 {path}")
    key = _read_cookie_key(path)
    if key is not None and (len(key) < MIN_KEY_LENGTH or len(set(key)) < 12):
        problems.append(f"The cookie_key in {path} is weak (under {MIN_KEY_LENGTH} characters, or too few "
                        "different ones); delete its line and restart Pastoral, which writes a strong random key.")
    return problems


_secrets_checked = False


def warn_about_secrets() -> None:
    """Report secrets.toml's problems in the server log, once per server start."""
    global _secrets_checked
    if _secrets_checked:
        return
    _secrets_checked = True
    cookie_key()  # the first start writes a strong key
    for problem in secrets_problems():
        _log.warning("Pastoral: %s", problem)


# --- signing in and out -----------------------------------------------------------------


def _request_sign_out() -> None:
    st.session_state[SIGN_OUT_KEY] = True


def sign_out_button() -> None:
    st.button("Log out", key="log_out_button", on_click=_request_sign_out, icon=":material/logout:")


def sign_in() -> auth.User | None:
    """The signed-in user, or None (the caller then shows the login form).

    In order: a requested sign-out ends this tab's session in the store; a session the tab
    holds counts while the store says it is live (else it was ended: signed out elsewhere,
    password changed, deactivated…); else the browser's cookie signs the tab in to its
    session, if that is live.
    """
    warn_about_secrets()
    token = st.session_state.get(SESSION_KEY)
    if st.session_state.pop(SIGN_OUT_KEY, False) and token:
        _write(auth.record_logout, st.session_state.get(USER_KEY) or "", token)
        _forget(token)
        return None
    if token:
        user = _session_user(token)
        if user is not None:
            _keep_cookie(token)
            return user
        _forget(token)
        st.session_state[ENDED_NOTICE_KEY] = True
        return None
    if st.session_state.get("authentication_status"):
        _clear_authentication()  # signed in by some other way than a session of ours: not accepted
    cookie = _cookie()
    if cookie and cookie != st.session_state.get(ENDED_KEY):
        user = _session_user(cookie)
        if user is not None:
            # The same session come back (a reload, a new tab): its sign-in is in the audit log
            # already, once, when the password was given; a reload is not a new login.
            _hold(user, cookie)
            return user
        st.session_state[ENDED_KEY] = cookie  # a dead cookie: the login page removes it
    return None


def _cookie() -> str | None:
    """The session token the browser sent with this tab's connection, if any."""
    cookie = st.context.cookies.get(COOKIE_NAME)
    return cookie if isinstance(cookie, str) and cookie else None


def _session_user(token: str) -> auth.User | None:
    try:
        with store.opened(database_path()) as db:
            return auth.session_user(db, token)
    except store.StoreError as error:
        st.error(f"The database cannot be opened: {md(str(error))} Ask whoever runs Pastoral to check PASTORAL_DB.")
        st.stop()


def _hold(user: auth.User, token: str) -> None:
    """This tab is signed in to the session `token`."""
    st.session_state[SESSION_KEY] = token
    st.session_state[USER_KEY] = user.username
    st.session_state["authentication_status"] = True
    st.session_state["username"] = user.username
    st.session_state["name"] = user.name
    st.session_state.pop(ENDED_NOTICE_KEY, None)


def _forget(token: str) -> None:
    """This tab's session is over; the login page removes its cookie from the browser."""
    _clear_authentication()
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[ENDED_KEY] = token


def _keep_cookie(token: str) -> None:
    """Give the browser the session's cookie, unless it came with it (as after a reload)."""
    if _cookie() == token:
        return
    script = st.session_state.get(COOKIE_SCRIPT_KEY)
    if not script or token not in script:
        with store.opened(database_path()) as db:
            expires = sessions.expires_at(db, token)
        seconds = max(0, int((expires - datetime.now(timezone.utc)).total_seconds())) if expires else 0
        # The token is ours (URL-safe base64), never user data; json.dumps quotes it for JavaScript.
        script = (f"document.cookie = {json.dumps(f'{COOKIE_NAME}={token}')} + '; Path=/; Max-Age={seconds}; "
                  "SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '');")
        st.session_state[COOKIE_SCRIPT_KEY] = script  # the same element every run: the browser runs it once
    _script(script)


def _drop_cookie(token: str) -> None:
    """Remove an ended session's cookie, if the browser still holds that one (another tab
    may have signed in since, with a cookie of its own). A cookie not shaped like one of our
    tokens (the browser sends whatever it holds) is removed without being written into the page."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        _script(f"document.cookie = '{COOKIE_NAME}=; Path=/; Max-Age=0; SameSite=Strict';")
        return
    held = json.dumps(f"{COOKIE_NAME}={token}")
    _script(f"if (document.cookie.split('; ').includes({held})) "
            f"document.cookie = '{COOKIE_NAME}=; Path=/; Max-Age=0; SameSite=Strict';")


def _script(code: str) -> None:
    """The login cookie's script: built only from COOKIE_NAME and one of our own session tokens
    (secrets.token_urlsafe: letters, digits, - and _; TOKEN_SHAPE is checked before a token
    goes in), never from text a file or a person gave."""
    with st.container(key=COOKIE_SCRIPT_CONTAINER):  # named, so a check for stray scripts can tell it apart
        st.html(f"<script>{code}</script>", unsafe_allow_javascript=True, width="content")


def _authenticator() -> stauth.Authenticate:
    """The library, for the login form only; its own cookie is off (expiry 0: never written)."""
    try:
        with store.opened(database_path()) as db:
            credentials = auth.credentials(db)
    except store.StoreError as error:
        st.error(f"The database cannot be opened: {md(error)} Ask whoever runs Pastoral to check PASTORAL_DB.")
        st.stop()
    authenticator = stauth.Authenticate(credentials, LIBRARY_COOKIE, cookie_key(), 0, auto_hash=False,
                                        login_sleep_time=0)
    st.session_state["logout"] = True  # the library never signs in with a cookie of its own
    return authenticator


def login_form() -> None:
    """The login screen: the only thing a visitor who is not signed in ever sees."""
    if st.session_state.get(ENDED_KEY):
        _drop_cookie(st.session_state[ENDED_KEY])
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
        if st.session_state.get(ENDED_NOTICE_KEY):
            st.info("Your session has ended (signed out, or your password or access changed). Please sign in again.")
        failures = st.session_state.get(FAILURES_KEY, 0)
        if failures >= SESSION_FAILURES_BEFORE_PAUSE:
            st.error("Too many wrong passwords from this browser. Close the tab and try again later, "
                     "or ask your Pastoral administrator to reset your password.")
            return
        # The library sets the status to False only when a submitted password fails, so
        # clearing it first tells a failed submission apart from any later rerun.
        if st.session_state.get("authentication_status") is False:
            st.session_state["authentication_status"] = None
        authenticator = _authenticator()
        try:
            authenticator.login(
                location="main", key="login_form",
                fields={"Form name": "Sign in", "Username": "Username", "Password": "Password", "Login": "Sign in"},
                callback=_on_login,
            )
        except stauth.LoginError:
            _clear_authentication()
            st.session_state["authentication_status"] = False
        if st.session_state.get("authentication_status") and st.session_state.get(SESSION_KEY):
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


def _on_login(details: dict) -> None:
    """The password was right: a new session in the store, held by this tab."""
    with store.opened(database_path()) as db:
        token = auth.sign_in(db, details["username"])
        user = auth.get_user(db, details["username"])
    st.session_state[FAILURES_KEY] = 0
    _hold(user, token)


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
    """The signed-in user as the store has them now: None unless this tab's session is live
    and its user active and not locked."""
    token = st.session_state.get(SESSION_KEY)
    return _session_user(token) if token else None


def require(screen: str) -> auth.User:
    """Every screen calls this first: the signed-in user if their role may open `screen`, else stop."""
    user = current_user()
    if user is None:
        st.warning("Please sign in to see this page.")
        st.stop()
    if not menu.may_open(user.role, screen, school_count()):
        st.error(f"Your role ({user.role_label}) cannot open this page. Ask your Pastoral administrator if you need it.")
        st.stop()
    return auth.scoped_to_school(user, *st.session_state.get(TRUST_SCHOOL_KEY, (None, "")))


# A trust user's choice on the Trust screen: (school id, name) the other screens show, or absent.
TRUST_SCHOOL_KEY = "trust_school"


def school_count() -> int:
    """How many schools the store holds (a trust's store: more than one)."""
    return reads.school_count(str(database_path()))
