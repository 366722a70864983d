"""A tiny school for the app's tests (AppTest and browser), written as exports and imported.

Two school weeks (Mon 08/09/2025 – Fri 19/09/2025), uploaded one week at a time, so
"since the previous upload" means something:

| pupil            | year | section     | week 1        | week 2             | so                          |
|------------------|------|-------------|---------------|--------------------|-----------------------------|
| Ahmed, Amir      | 7    | Secondary   | all present   | 4 sessions N       | 80% — newly below 90%        |
| Brown, Bella     | 7    | Secondary   | all present   | all present        | 100%                        |
| Clarke, Cody     | 3    | Primary     | 6 O           | 6 O                | 40% — severe; penalty trigger |
| Dunn, Dara       | 12   | Sixth Form  | all present   | 1 I                | 95% (not compulsory age)     |
| Evans, Eli       | 9    | Secondary   | 1 I           | 1 I                | exactly 90% — persistent     |
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from core import auth, menu, store
from core.importers import import_file
from tests.conftest import RUN_FOLDER, copy_store, make_upn, marks_csv, roll_csv

ROOT = Path(__file__).resolve().parent.parent
WEEK_1 = date(2025, 9, 8)
WEEK_2 = date(2025, 9, 15)

PUPILS = [
    {"surname": "Ahmed", "forename": "Amir", "year_group": "7", "form": "7A", "pp": "Y", "adno": "00123"},
    {"surname": "Brown", "forename": "Bella", "year_group": "7", "form": "7A"},
    {"surname": "Clarke", "forename": "Cody", "year_group": "3", "form": "3B", "dob": "2018-03-01", "fsm": "Y"},
    {"surname": "Dunn", "forename": "Dara", "year_group": "12", "form": "12C", "dob": "2009-05-01"},
    {"surname": "Evans", "forename": "Eli", "year_group": "9", "form": "9E", "dob": "2012-02-02", "sen": "K"},
]
# Ten sessions a week per pupil (Mon AM, Mon PM, ... Fri PM); '.' is a present mark.
WEEKS = {
    1: ["..........", "..........", "OOOOOO....", "..........", "I........."],
    2: ["NNNN......", "..........", "OOOOOO....", "I.........", "I........."],
}


def upn(number: int) -> str:
    return make_upn(number)


def week_rows(week: int) -> list[tuple]:
    monday = WEEK_1 if week == 1 else WEEK_2
    rows = []
    for number, pattern in enumerate(WEEKS[week], start=1):
        for slot, mark in enumerate(pattern):
            day = monday + timedelta(days=slot // 2)
            session = "AM" if slot % 2 == 0 else "PM"
            rows.append((upn(number), day.isoformat(), session, ("/" if session == "AM" else "\\") if mark == "." else mark))
    return rows


def write_exports(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "roll": folder / "roll.csv",
        "week_1": folder / "marks_2025-09-08.csv",
        "week_2": folder / "marks_2025-09-15.csv",
    }
    files["roll"].write_text(roll_csv(*PUPILS) + "\n", encoding="utf-8")
    files["week_1"].write_text(marks_csv(week_rows(1)) + "\n", encoding="utf-8")
    files["week_2"].write_text(marks_csv(week_rows(2)) + "\n", encoding="utf-8")
    return files


def make_school(db_path: Path, exports: Path, weeks: int = 2) -> dict[str, Path]:
    """A store holding the school (roll, then each week), with one demo login per role."""
    files = write_exports(exports)
    with store.opened(db_path) as db:
        store.set_setting(db, "school_name", "Test Academy", "test")
        auth.create_demo_users(db)
        import_file(db, files["roll"], "officer")
        for week in range(1, weeks + 1):
            import_file(db, files[f"week_{week}"], "officer")
    return files


# --- a day to call about: Monday 22/09/2025, the morning register uploaded at 09:40 -------

TODAY = date(2025, 9, 22)
# Parents' contacts and families, in a second roll: Ahmed and Evans are siblings (family id
# F1); Clarke has a child protection plan and is on the vulnerable list.
CONTACTS_ROLL = "\n".join([
    "UPN,Surname,Forename,Primary Contact Name,Primary Contact Relationship,Contact 1 Telephone,Family ID,"
    "Social Worker,Vulnerable",
    f"{make_upn(1)},Ahmed,Amir,Fatima Ahmed,Mother,07700 900001,F1,,N",
    f"{make_upn(2)},Brown,Bella,Ben Brown,Father,07700 900002,,,N",
    f"{make_upn(3)},Clarke,Cody,Carla Clarke,Mother,07700 900003,,CP,Y",
    f"{make_upn(4)},Dunn,Dara,Dee Dunn,Mother,07700 900004,,,N",
    f"{make_upn(5)},Evans,Eli,Fatima Ahmed,Mother,07700 900001,F1,,N",
])
# This morning: Ahmed, Clarke and Evans N; Brown no mark yet (7A's register was taken);
# nobody has an afternoon mark yet.
TODAY_MARKS = {1: "N", 2: "", 3: "N", 4: "/", 5: "N"}


def today_export() -> str:
    rows = [(upn(n), TODAY.isoformat(), "AM", mark) for n, mark in TODAY_MARKS.items()]
    rows += [(upn(n), TODAY.isoformat(), "PM", "") for n in TODAY_MARKS]
    return f"Attendance marks\nReport run 22/09/2025 09:40\n{marks_csv(rows)}\n"


def make_calling_school(db_path: Path, exports: Path, with_today: bool = True) -> dict[str, Path]:
    """The test school with parents' contacts, and (unless not `with_today`) this morning's register."""
    files = make_school(db_path, exports)
    files["contacts"] = exports / "contacts.csv"
    files["contacts"].write_text(CONTACTS_ROLL + "\n", encoding="utf-8")
    files["today"] = exports / "marks_2025-09-22_am.csv"
    files["today"].write_text(today_export(), encoding="utf-8")
    with store.opened(db_path) as db:
        import_file(db, files["contacts"], "officer")
        if with_today:
            import_file(db, files["today"], "officer")
    return files


def password_of(username: str) -> str:
    return next(password for name, password, *_ in auth.DEMO_LOGINS if name == username)


# --- AppTest: the app run in-process, signed in as a demo login ------------------------

import pytest  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

SCREEN_FILES = {screen.id: screen.file for screen in menu.SCREENS}
PUPIL_NAMES = ("Ahmed", "Brown", "Clarke", "Dunn", "Evans")
FORENAMES = ("Amir", "Bella", "Cody", "Dara", "Eli")
SENSITIVE_NOTE = "Disclosed a worry at home"  # only the DSL and admins may read it, never on a shared screen


def add_cases(db_path: Path) -> None:
    """Case work on the test school: Amir Ahmed has a home visit (with a sensitive note and a
    check-in overdue by 19/09/2025) and a call with a sensitive note; Cody Clarke a letter."""
    from core import auth, cases

    lead = auth.Viewer("pastoral", auth.PASTORAL_LEAD)
    with store.opened(db_path) as db:
        ids = dict(db.execute("SELECT surname, id FROM pupils").fetchall())
        cases.open_intervention(db, lead, ids["Ahmed"], "Home visit", "officer", date(2025, 9, 10),
                                summary="Visited; talked about mornings", sensitive_note=SENSITIVE_NOTE,
                                check_in_on=date(2025, 9, 17))
        cases.log_contact(db, lead, ids["Ahmed"], "call", date(2025, 9, 16), "mother", summary="Agreed to meet",
                          sensitive_note=SENSITIVE_NOTE)
        cases.open_intervention(db, lead, ids["Clarke"], "Attendance letter (stage 1)", "officer", date(2025, 9, 12),
                                summary="Stage 1 letter sent")


@pytest.fixture
def quick_hashes(monkeypatch):
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)


def the_apps_store(db_path: Path, monkeypatch) -> Path:
    """Make `db_path` the store the app opens (PASTORAL_DB), with its secrets file beside it."""
    monkeypatch.setenv("PASTORAL_DB", str(db_path))
    monkeypatch.setenv("PASTORAL_SECRETS", str(db_path.parent / "secrets.toml"))
    return db_path


# Each kind of test school is built once per test process (imports and password hashing
# take a moment) and every test gets its own copy of the store and the exports.
_TEMPLATES: dict[str, Path] = {}


def copied_school(kind: str, build, tmp_path: Path) -> Path:
    """A fresh copy of the school `build(db_path, exports)` makes, in `tmp_path`: the database
    (copied by SQLite's backup, so nothing still in the write-ahead log is lost) and the exports."""
    import shutil
    import tempfile

    if kind not in _TEMPLATES or not (_TEMPLATES[kind] / "school.db").exists():
        folder = Path(tempfile.mkdtemp(prefix=f"pastoral_{kind}_", dir=next(iter(RUN_FOLDER), None)))
        previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
        try:
            build(folder / "school.db", folder / "exports")
        finally:
            auth.HASH_ROUNDS = previous
        _TEMPLATES[kind] = folder
    template = _TEMPLATES[kind]
    copy_store(template / "school.db", tmp_path / "school.db")
    shutil.copytree(template / "exports", tmp_path / "exports", dirs_exist_ok=True)
    return tmp_path / "school.db"


@pytest.fixture
def school(tmp_path, monkeypatch, quick_hashes) -> Path:
    """The test school in a fresh store named by PASTORAL_DB; returns the database path."""
    return the_apps_store(copied_school("school", make_school, tmp_path), monkeypatch)


@pytest.fixture
def school_with_cases(school) -> Path:
    """The test school with the case work of `add_cases`."""
    add_cases(school)
    return school


@pytest.fixture
def calling_school(tmp_path, monkeypatch, quick_hashes) -> Path:
    """The test school with parents' contacts and this morning's register (TODAY)."""
    return the_apps_store(copied_school("calling", make_calling_school, tmp_path), monkeypatch)


@pytest.fixture
def empty_school(tmp_path, monkeypatch, quick_hashes) -> Path:
    """A store with the demo logins and no registers."""
    with store.opened(tmp_path / "empty.db") as db:
        auth.create_demo_users(db)
    return the_apps_store(tmp_path / "empty.db", monkeypatch)


SCREEN_ADDRESSES = {screen.id: screen.url_path for screen in menu.SCREENS}


def hold_session(app: AppTest, username: str) -> str:
    """Sign `app`'s tab in as `username`: a live session in the app's store (PASTORAL_DB),
    held in the tab's session state as a password sign-in leaves it; returns its token."""
    from app_pages.ui import access
    from core import sessions

    with store.opened(store.default_path()) as db:
        token = sessions.start(db, username)
    app.session_state[access.SESSION_KEY] = token
    app.session_state[access.USER_KEY] = username
    app.session_state["authentication_status"] = True
    app.session_state["username"] = username
    return token


def signed_in(username: str | None, screen: str | None = None, **state) -> AppTest:
    """The app after its first run, signed in as `username` (None: nobody), on `screen`.

    With a screen, the first run opens that screen's address directly (as a bookmarked link
    does): app.py signs in, registers the role's screens, draws the sidebar and runs the
    screen, in one run instead of the overview first and the screen after it."""
    from streamlit.util import calc_hash

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if "meeting_mode" in state:
        # Meeting mode is the user's, held in the store (the sidebar reads it on every run).
        assert username, "meeting mode belongs to a signed-in user"
        set_meeting_mode(username, state.pop("meeting_mode"))
    if username:
        hold_session(app, username)
    for key, value in state.items():
        app.session_state[key] = value
    if screen:
        # st.Page names a page by the hash of its address; AppTest has no public way to open
        # an address before the first run, so the request is set as switch_page would set it.
        app._page_hash = calc_hash(SCREEN_ADDRESSES[screen])
    app.run()
    if screen:
        assert app._finished_page_script_hash == calc_hash(SCREEN_ADDRESSES[screen]), \
            f"{username} did not land on {screen}"
    return app


def set_meeting_mode(username: str, on: bool) -> None:
    """Turn `username`'s meeting mode on or off in the app's store (PASTORAL_DB), as the toggle does."""
    with store.opened(store.default_path()) as db:
        auth.set_meeting_mode(db, username, on)


# A screen's own file, run alone: no login form, no sidebar, the user and the period put in
# session state as app.py's login and sidebar would. The page runs under a navigation of the
# role's screens (hidden), as in app.py, so its links to other screens resolve; the runner
# lives in a folder of its own beside a link to app_pages/ (st.Page and st.page_link read
# addresses relative to the running script).
SCREEN_RUNNER = """
import streamlit as st
from core import menu
screen, role = st.session_state["_test_screen"], st.session_state["_test_role"]
pages = [st.Page(s.file, title=s.title, url_path=s.url_path, default=s.id == screen) for s in menu.screens_for(role)]
st.navigation(pages, position="hidden").run()
"""
_RUNNER: list[Path] = []


def _screen_runner() -> Path:
    import tempfile

    if not _RUNNER or not _RUNNER[0].exists():
        folder = Path(tempfile.mkdtemp(prefix="pastoral_screen_", dir=next(iter(RUN_FOLDER), None)))
        (folder / "app_pages").symlink_to(ROOT / "app_pages", target_is_directory=True)
        (folder / "screen.py").write_text(SCREEN_RUNNER, encoding="utf-8")
        _RUNNER[:] = [folder / "screen.py"]
    return _RUNNER[0]


def default_period(db_path: Path | None = None) -> tuple[date, date] | None:
    """The period the sidebar starts on: the academic year of the latest mark, from
    1 September to that mark (None when nothing is uploaded)."""
    from core import calendar
    from core import marks as marks_table

    with store.opened(db_path or store.default_path()) as db:
        span = marks_table.mark_date_range(db)
    if span is None:
        return None
    year = calendar.academic_year(span[1])
    return date(year, 9, 1), min(date(year + 1, 8, 31), span[1])


def screen(username: str, screen_id: str, **state) -> AppTest:
    """The screen `screen_id` after its first run, its page file run alone for `username` (a
    login in the app's store), with what the sidebar would have put in session state: the
    period it starts on (or `period=` in `state`), the user's meeting mode as stored and
    whether their role may see parents' contacts."""
    from app_pages.ui.formatting import CONTACTS_KEY, MEETING_KEY

    if "meeting_mode" in state:  # the user's, held in the store (as with signed_in)
        set_meeting_mode(username, state.pop("meeting_mode"))
    with store.opened(store.default_path()) as db:
        user = auth.get_user(db, username)
    app = AppTest.from_file(str(_screen_runner()), default_timeout=30)
    app.session_state["_test_screen"], app.session_state["_test_role"] = screen_id, user.role
    hold_session(app, username)
    app.session_state["period"] = state.pop("period", None) or default_period()
    app.session_state[MEETING_KEY] = user.meeting_mode
    app.session_state[CONTACTS_KEY] = user.may("see_contacts")
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    return app


def all_text(app: AppTest) -> str:
    """Every piece of text the app drew (for 'no pupil data' checks)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "metric"):
        for element in app.get(kind):
            parts.append(str(getattr(element, "value", "")) + " " + str(getattr(element, "label", "")))
    for frame in app.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def titles(app: AppTest) -> list[str]:
    return [t.value for t in app.title]
