"""A real school's first sign-in: the store `pastoral init` made (its name, one administrator, no
registers), opened in the app as that administrator. Every screen shows the empty state and
the way to the first upload, nothing fails, and Admin lets them add their colleagues.
"""

from __future__ import annotations

import io
import sys

import pytest

from core import auth, cli, menu, store
from tests.app_school import all_text, signed_in, the_apps_store, titles

ADMIN = "head"
PASSWORD = "correct-horse-9"
NO_REGISTERS = "No registers uploaded yet"


@pytest.fixture
def new_school(tmp_path, monkeypatch):
    """The store `pastoral init --school "Hillside Academy" --admin head` makes, served by the app."""
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)
    db_path = tmp_path / "new.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["--db", str(db_path), "init", "--school", "Hillside Academy", "--admin", ADMIN,
                     "--name", "Hana Head"]) == 0
    return the_apps_store(db_path, monkeypatch)


@pytest.mark.parametrize("screen", [s.id for s in menu.screens_for(auth.ADMIN) if s.id != "upload"])
def test_every_screen_of_a_new_school_shows_the_way_to_the_first_upload(new_school, screen):
    app = signed_in(ADMIN, screen)
    assert not app.exception and not app.error
    assert titles(app) == [menu.BY_ID[screen].title]
    assert any(NO_REGISTERS in info.value for info in app.info)
    assert "Go to Upload" in [link.label for link in app.get("page_link")]


def test_the_upload_screen_of_a_new_school_says_to_drop_the_first_export(new_school):
    app = signed_in(ADMIN, "upload")
    assert not app.exception and not app.error
    assert any("No uploads yet" in info.value for info in app.info)


def test_a_new_schools_administrator_sees_its_name_and_the_setup_in_the_audit_log(new_school):
    app = signed_in(ADMIN, "admin")
    text = all_text(app)
    assert "Hillside Academy" in text
    assert "School set up" in text and "User added" in text


def test_a_new_schools_administrator_adds_their_first_colleague(new_school):
    app = signed_in(ADMIN, "admin")
    form = app.form(key="add_user")
    form.text_input[0].input("officer.one")
    form.text_input[1].input("Olu Officer")
    form.selectbox[0].set_value(auth.ATTENDANCE_OFFICER)
    form.text_input[3].input("officer-first-1")
    form.button[0].click()
    app.run()
    assert not app.exception and not app.error
    with store.opened(new_school) as db:
        added = auth.get_user(db, "officer.one")
        assert added.role == auth.ATTENDANCE_OFFICER and added.active
        assert (ADMIN, "user.add", "officer.one") in db.execute(
            "SELECT username, action, entity_id FROM audit").fetchall()
    colleague = signed_in("officer.one", "overview")
    assert any(NO_REGISTERS in info.value for info in colleague.info)


def test_the_sign_in_page_of_a_store_with_nobody_in_it_says_how_to_set_the_school_up(tmp_path, monkeypatch):
    the_apps_store(tmp_path / "nobody.db", monkeypatch)
    app = signed_in(None)
    assert not app.exception
    assert any("pastoral init --school NAME --admin USERNAME" in info.value for info in app.info)
