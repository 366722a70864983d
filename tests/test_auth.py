"""Users, roles and scopes (core/auth.py); the `pastoral users` command is in test_cli_init.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from core import auth, menu, store


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(auth, "HASH_ROUNDS", 4)


def audit_actions(db) -> list[tuple[str, str, str]]:
    return db.execute("SELECT username, action, entity_id FROM audit ORDER BY id").fetchall()


@pytest.fixture
def admin(db):
    return auth.add_user(db, "Head.Admin", "Hana Admin", "long-enough-1", auth.ADMIN, by="setup")


# --- users -------------------------------------------------------------------------


def test_a_new_user_is_stored_with_a_bcrypt_hash_not_the_password(db, admin):
    stored = db.execute("SELECT password_hash FROM users WHERE username = 'head.admin'").fetchone()[0]
    assert stored.startswith("$2b$") and "long-enough-1" not in stored
    assert auth.check_password("long-enough-1", stored)
    assert not auth.check_password("long-enough-2", stored)


def test_usernames_are_stored_in_lower_case_as_the_login_form_sends_them(db, admin):
    assert admin.username == "head.admin"
    assert auth.get_user(db, "HEAD.ADMIN ") == admin


@pytest.mark.parametrize("username", ["a", "has space", "-starts-with-dash", "x" * 41])
def test_a_username_must_be_plain(db, username):
    with pytest.raises(auth.UserError):
        auth.add_user(db, username, "Name", "long-enough-1", auth.VIEWER)


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaa", " leading-space"])
def test_a_weak_password_is_refused(db, password):
    with pytest.raises(auth.UserError):
        auth.add_user(db, "someone", "Some One", password, auth.VIEWER)


@pytest.mark.parametrize("password", [password for _username, password, *_ in auth.DEMO_LOGINS])
def test_the_demo_schools_published_passwords_are_refused_for_a_real_user(db, admin, password):
    with pytest.raises(auth.UserError, match="demo school's published passwords"):
        auth.add_user(db, "someone", "Some One", password, auth.VIEWER)
    with pytest.raises(auth.UserError, match="demo school's published passwords"):
        auth.set_password(db, "head.admin", password, "setup")
    assert auth.get_user(db, "someone") is None and auth.check_password(
        "long-enough-1", db.execute("SELECT password_hash FROM users WHERE username = 'head.admin'").fetchone()[0])


def test_a_username_can_be_added_only_once(db, admin):
    with pytest.raises(auth.UserError, match="already"):
        auth.add_user(db, "head.admin", "Another", "long-enough-1", auth.VIEWER)


def test_a_head_of_section_needs_a_known_section(db):
    with pytest.raises(auth.UserError, match="at least one section"):
        auth.add_user(db, "hos", "Hos", "long-enough-1", auth.HEAD_OF_SECTION)
    with pytest.raises(auth.UserError, match="Unknown section"):
        auth.add_user(db, "hos", "Hos", "long-enough-1", auth.HEAD_OF_SECTION, ["Upper School"])
    user = auth.add_user(db, "hos", "Hos", "long-enough-1", auth.HEAD_OF_SECTION, ["Secondary"])
    assert user.sections == ("Secondary",) and not user.sees_all_pupils


def test_sections_are_dropped_for_roles_that_see_everyone(db):
    user = auth.add_user(db, "lead", "Lead", "long-enough-1", auth.PASTORAL_LEAD, ["Secondary"])
    assert user.sections == () and user.sees_all_pupils


def test_the_only_active_admin_cannot_be_demoted_or_deactivated(db, admin):
    with pytest.raises(auth.UserError, match="only active administrator"):
        auth.update_user(db, "head.admin", "setup", role=auth.VIEWER)
    with pytest.raises(auth.UserError, match="only active administrator"):
        auth.update_user(db, "head.admin", "setup", active=False)
    auth.add_user(db, "second", "Second Admin", "long-enough-1", auth.ADMIN)
    assert auth.update_user(db, "head.admin", "second", active=False).active is False


def test_every_change_to_a_user_is_audited_with_who_made_it(db, admin):
    auth.update_user(db, "head.admin", "setup", name="Hana A. Admin")
    auth.set_password(db, "head.admin", "another-one-2", "setup")
    actions = audit_actions(db)
    assert ("setup", "user.add", "head.admin") in actions
    assert ("setup", "user.change", "head.admin") in actions
    assert ("setup", "user.password", "head.admin") in actions
    detail = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'user.change'").fetchone()[0])
    assert detail == {"name": {"old": "Hana Admin", "new": "Hana A. Admin"}}


def test_a_deactivated_user_is_not_offered_to_the_login_form(db, admin):
    auth.add_user(db, "leaver", "Leaver", "long-enough-1", auth.VIEWER)
    auth.update_user(db, "leaver", "head.admin", active=False)
    assert set(auth.credentials(db)["usernames"]) == {"head.admin"}


def test_the_login_form_gets_hashes_names_and_roles(db, admin):
    entry = auth.credentials(db)["usernames"]["head.admin"]
    assert entry["name"] == "Hana Admin" and entry["roles"] == [auth.ADMIN]
    assert entry["password"].startswith("$2b$")


# --- logins and throttling ---------------------------------------------------------


def test_a_login_is_audited(db, admin):
    auth.record_login(db, "head.admin", "password")
    assert ("head.admin", "login", "head.admin") in audit_actions(db)


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(db, admin):
    at = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)
    for _ in range(auth.MAX_FAILED_LOGINS - 1):
        assert not auth.record_failed_login(db, "head.admin", at).locked(at)
    locked = auth.record_failed_login(db, "head.admin", at)
    assert locked.locked(at + timedelta(minutes=14))
    assert not locked.locked(at + timedelta(minutes=16))
    assert ("head.admin", "user.locked", "head.admin") in audit_actions(db)


def test_a_locked_user_is_not_offered_to_the_login_form_until_unlocked(db, admin):
    for _ in range(auth.MAX_FAILED_LOGINS):
        auth.record_failed_login(db, "head.admin")
    assert "head.admin" not in auth.credentials(db)["usernames"]
    auth.unlock(db, "head.admin", "cli")
    assert "head.admin" in auth.credentials(db)["usernames"]


def test_a_successful_login_clears_earlier_failures(db, admin):
    auth.record_failed_login(db, "head.admin")
    auth.record_login(db, "head.admin")
    assert auth.get_user(db, "head.admin").failed_logins == 0


def test_a_failed_login_for_an_unknown_name_is_audited_without_a_user(db):
    assert auth.record_failed_login(db, "nobody") is None
    assert audit_actions(db)[-1][1] == "login.failed"


# --- roles and scopes --------------------------------------------------------------


def test_each_role_opens_only_its_screens():
    case_work = ["overview", "below_90", "patterns", "pupil", "today", "casework", "families", "letters", "meeting",
                 "reports", "data_quality"]
    def screens_for(role):
        return [screen.id for screen in menu.screens_for(role)]

    assert screens_for(auth.ADMIN) == case_work + ["upload", "admin"]
    assert screens_for(auth.ATTENDANCE_OFFICER) == case_work + ["upload"]
    for role in (auth.PASTORAL_LEAD, auth.HEAD_OF_SECTION):
        assert screens_for(role) == case_work
    assert screens_for(auth.VIEWER) == ["overview", "below_90", "patterns", "pupil", "casework", "reports"]
    assert not menu.may_open(auth.ADMIN, "no_such_screen")


def test_only_the_roles_doing_case_work_see_parents_contact_details():
    assert [r for r in auth.ROLES if auth.may(r, "see_contacts")] == [
        auth.ADMIN, auth.ATTENDANCE_OFFICER, auth.PASTORAL_LEAD, auth.HEAD_OF_SECTION]
    assert [r for r in auth.ROLES if auth.may(r, "edit_letter_templates")] == [auth.ADMIN, auth.ATTENDANCE_OFFICER]


def test_only_admins_manage_users_and_only_officers_and_admins_import():
    assert [r for r in auth.ROLES if auth.may(r, "manage_users")] == [auth.ADMIN]
    assert [r for r in auth.ROLES if auth.may(r, "import")] == [auth.ADMIN, auth.ATTENDANCE_OFFICER]
    assert not auth.may(auth.VIEWER, "case_work")


def test_a_case_viewer_answers_from_the_role_tables():
    case_roles = [auth.ADMIN, auth.ATTENDANCE_OFFICER, auth.PASTORAL_LEAD, auth.HEAD_OF_SECTION]
    viewers = {role: auth.Viewer(role, role) for role in auth.ROLES}
    assert [r for r, v in viewers.items() if v.sees_notes] == case_roles
    assert [r for r, v in viewers.items() if v.may_write] == case_roles
    assert [r for r, v in viewers.items() if v.sees_sensitive] == [auth.ADMIN, auth.PASTORAL_LEAD]
    assert [r for r, v in viewers.items() if v.may_write_sensitive] == [auth.ADMIN, auth.PASTORAL_LEAD]
    assert [r for r, v in viewers.items() if v.may_edit_types] == [auth.ADMIN, auth.PASTORAL_LEAD]
    assert [r for r, v in viewers.items() if not v.sees_all_pupils] == [auth.HEAD_OF_SECTION]
    assert not auth.Viewer("dsl", auth.PASTORAL_LEAD, shared_screen=True).sees_sensitive


def test_a_head_of_section_sees_only_their_sections_pupils():
    pupils = pd.DataFrame({"upn": ["A", "B", "C"], "section": ["Secondary", "Primary", "Sixth Form"]})
    head = auth.User("hos", "Hos", "", auth.HEAD_OF_SECTION, ("Secondary", "Sixth Form"), True, 0, None)
    viewer = auth.User("v", "V", "", auth.VIEWER, (), True, 0, None)
    assert list(auth.scope_pupils(pupils, head)["upn"]) == ["A", "C"]
    assert list(auth.scope_pupils(pupils, viewer)["upn"]) == ["A", "B", "C"]


def test_a_head_of_section_is_scoped_by_year_group_when_a_frame_has_no_section():
    pupils = pd.DataFrame({"upn": ["A", "B"], "year_group": ["8", "4"]})
    head = auth.User("hos", "Hos", "", auth.HEAD_OF_SECTION, ("Primary",), True, 0, None)
    assert list(auth.scope_pupils(pupils, head, store.DEFAULT_SETTINGS)["upn"]) == ["B"]


# --- demo logins -------------------------------------------------------------------


def test_demo_logins_are_one_per_role_and_can_be_created_twice(db):
    first = auth.create_demo_users(db)
    assert auth.create_demo_users(db) == first
    assert sorted(role for _, _, role, _ in first) == sorted(auth.ROLES)
    assert ("secondary", "secondary-demo-1", auth.HEAD_OF_SECTION, ["Secondary"]) in first
    for username, password, _, _ in first:
        stored = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()[0]
        assert auth.check_password(password, stored)


def test_a_demo_login_whose_password_was_changed_is_no_longer_printed(db):
    auth.create_demo_users(db)
    auth.set_password(db, "viewer", "changed-password-9", "admin")
    assert "viewer" not in [username for username, *_ in auth.demo_logins_in(db)]
    assert "admin" in [username for username, *_ in auth.demo_logins_in(db)]


