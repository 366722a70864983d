"""Admin's Users and Schools on a trust's store, the Upload preview's school, and a pupil moved
on the Admin screen seen by the new school (issue 18), driven like a user (AppTest).

The store is tests/trust_school.py's: school 1 "Test Academy", school 2 "Second Primary"
(999/4002, hub North); `admin` is the store's administrator (named to no school)."""

from __future__ import annotations

import json
from datetime import timedelta

from core import auth, schools, store
from tests.app_school import WEEK_2, all_text, quick_hashes, school, signed_in  # noqa: F401 (fixtures)
from tests.conftest import make_upn, marks_csv, week_rows
from tests.trust_school import PASSWORD, SECOND, SECOND_DFE, SECOND_UPNS, trust_store  # noqa: F401 (fixture)


def table_with(app, column: str):
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def last_audit(db_path, action: str) -> tuple[str, dict]:
    with store.opened(db_path) as db:
        who, detail = db.execute("SELECT username, detail FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1",
                                 (action,)).fetchone()
    return who, json.loads(detail)


# --- Schools --------------------------------------------------------------------------------


def test_the_schools_tab_lists_each_school_with_its_pupils(trust_store):
    app = signed_in("admin", "admin")
    assert not app.exception
    assert [t.label for t in app.tabs][:2] == ["Users", "Schools"]
    table = table_with(app, "DfE number")
    assert table[["School", "DfE number", "Hub", "Pupils"]].values.tolist() == [
        ["Test Academy", "", "", 5], [SECOND, SECOND_DFE, "North", 3]]


def test_the_store_admin_adds_a_school_and_it_is_audited(trust_store):
    app = signed_in("admin", "admin")
    form = app.form(key="add_school")
    form.text_input[0].input("Third High")
    form.text_input[1].input("140003")
    form.text_input[2].input("9994003")
    form.text_input[3].input("South")
    form.button[0].click()
    app.run()
    assert not app.error
    with store.opened(trust_store) as db:
        assert schools.require(db, "Third High").as_json() == {"id": 3, "name": "Third High", "urn": "140003",
                                                                "dfe_number": "999/4003", "hub": "South"}
    assert last_audit(trust_store, "school.add")[0] == "admin"


def test_a_bad_dfe_number_is_refused_with_what_to_type(trust_store):
    app = signed_in("admin", "admin")
    form = app.form(key="add_school")
    form.text_input[0].input("Third High")
    form.text_input[2].input("99/40")
    form.button[0].click()
    app.run()
    assert "is not a DfE number" in app.error[0].value
    with store.opened(trust_store) as db:
        assert schools.count(db) == 2


def test_the_store_admin_edits_a_schools_hub(trust_store):
    app = signed_in("admin", "admin")
    app.selectbox(key="admin_edit_school").set_value(2).run()
    form = app.form(key="edit_school_2")
    form.text_input[3].input("South")
    form.button[0].click()
    app.run()
    with store.opened(trust_store) as db:
        assert schools.require(db, 2).hub == "South"
    assert last_audit(trust_store, "school.edit") == ("admin", {"hub": {"old": "North", "new": "South"}})


def test_a_pupil_moved_on_the_admin_screen_is_seen_by_the_new_school_with_the_move_in_their_chronology(trust_store):
    app = signed_in("admin", "admin")
    form = app.form(key="move_pupil")
    form.text_input[0].input(make_upn(1))  # Amir Ahmed, Test Academy
    form.selectbox[0].set_value(2)
    form.button[0].click()
    app.run()
    assert not app.error
    with store.opened(trust_store) as db:
        pupil_id, school_id = db.execute("SELECT id, school_id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()
    assert school_id == 2 and last_audit(trust_store, "pupil.move")[0] == "admin"
    moved = table_with(app, "How")
    assert moved[["Pupil", "From", "To", "How"]].values.tolist() == [["Ahmed, Amir", "Test Academy", SECOND, "by hand"]]
    page = signed_in("officer2", "pupil", pupil_id=pupil_id)
    assert not page.exception
    chronology = table_with(page, "What")
    assert any(w.startswith("Moved from Test Academy to Second Primary on ") for w in chronology["What"])
    assert "School **Second Primary**" in all_text(page)
    before = signed_in("officer", "pupil", pupil_id=pupil_id)  # A's staff no longer see the pupil
    assert "Ahmed" not in all_text(before)


# --- Users ------------------------------------------------------------------------------------


def test_the_users_table_says_where_each_user_works(trust_store):
    app = signed_in("admin", "admin")
    table = table_with(app, "Schools or hub")
    where = dict(zip(table["Username"], table["Schools or hub"]))
    assert where["officer2"] == SECOND and where["north"] == "hub North" and where["lead"] == "every school"
    assert where["officer"] == "Test Academy" and where["admin"] == "every school"


def test_the_store_admin_adds_a_hub_lead_with_their_hub(trust_store):
    app = signed_in("admin", "admin")
    form = app.form(key="add_user")
    assert auth.HUB_LEAD in form.selectbox[0].options or "Hub lead" in form.selectbox[0].options
    form.text_input[0].input("hubby")
    form.text_input[1].input("Hal Hub")
    form.selectbox[0].set_value(auth.HUB_LEAD)
    form.selectbox[1].set_value("North")
    form.text_input[3].input(PASSWORD)
    form.button[0].click()
    app.run()
    assert not app.error, [e.value for e in app.error]
    with store.opened(trust_store) as db:
        added = auth.get_user(db, "hubby")
    assert added.role == auth.HUB_LEAD and added.hub == "North" and added.school_ids == (2,)


def test_the_store_admin_names_a_user_to_a_second_school(trust_store):
    app = signed_in("admin", "admin")
    app.selectbox(key="admin_edit_user").set_value("officer2").run()
    form = app.form(key="edit_user_officer2")
    form.multiselect[1].set_value([1, 2])
    form.button[0].click()
    app.run()
    assert not app.error
    with store.opened(trust_store) as db:
        assert auth.get_user(db, "officer2").school_ids == (1, 2)
    assert last_audit(trust_store, "user.change")[1]["schools"] == {"old": [2], "new": [1, 2]}


def test_a_school_role_on_a_trust_store_must_be_given_a_school(trust_store):
    app = signed_in("admin", "admin")
    form = app.form(key="add_user")
    form.text_input[0].input("nobody")
    form.text_input[1].input("No School")
    form.selectbox[0].set_value(auth.VIEWER)
    form.text_input[3].input(PASSWORD)
    form.button[0].click()
    app.run()
    assert "say which school" in app.error[0].value


def test_a_trust_admin_manages_users_and_schools_but_not_a_schools_settings(trust_store):
    with store.opened(trust_store) as db:
        auth.add_user(db, "trustee", "Tess Trustee", PASSWORD, auth.TRUST_ADMIN, by="test")
    app = signed_in("trustee", "admin")
    assert not app.exception
    assert [t.label for t in app.tabs] == ["Users", "Schools"]
    assert app.form(key="add_school") is not None and app.form(key="move_pupil") is not None


def test_a_schools_own_admin_manages_only_their_schools_people(trust_store):
    with store.opened(trust_store) as db:
        auth.add_user(db, "head2", "Hana Head", PASSWORD, auth.ADMIN, schools=[2], by="test")
    app = signed_in("head2", "admin")
    assert not app.exception
    users = table_with(app, "Schools or hub")
    assert set(users["Username"]) == {"head2", "officer2", "secondary2"}
    form = app.form(key="add_user")
    assert auth.TRUST_ADMIN not in form.selectbox[0].options and "Trust administrator" not in form.selectbox[0].options
    assert "The trust's administrator adds and changes schools." in all_text(app)


def test_a_schools_own_admin_reads_only_their_schools_part_of_the_audit_log(trust_store):
    from datetime import date

    from core import cases
    from tests.test_access import everything_shown
    from tests.trust_school import FIRST_SURNAMES

    with store.opened(trust_store) as db:
        auth.add_user(db, "head2", "Hana Head", PASSWORD, auth.ADMIN, schools=[2], by="test")
        writer = auth.Viewer("officer", auth.ATTENDANCE_OFFICER)
        for surname in (FIRST_SURNAMES[0], "Fenton"):  # one pupil of each school
            pupil = db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]
            cases.open_intervention(db, auth.Viewer("admin", auth.ADMIN), pupil, "First-day call", "admin",
                                    date(2025, 9, 16), summary="Rang home")
        store.set_setting(db, "no_action_days", 12, writer.username)  # school 1's officer, about no pupil
    app = signed_in("head2", "admin")
    assert not app.exception, [e.value for e in app.exception]
    log = table_with(app, "Record")
    assert "Fenton" in " ".join(log["Pupil"])  # their pupil's entry is there ...
    shown = everything_shown(app, [])
    assert not [s for s in FIRST_SURNAMES if s in shown]  # ... the other school's pupils' are not
    assert "officer" not in set(log["Who"])  # nor school 1's staff's entries
    everyone = table_with(signed_in("admin", "admin"), "Record")
    assert FIRST_SURNAMES[0] in " ".join(everyone["Pupil"]) and "officer" in set(everyone["Who"])


def test_a_schools_own_admin_cannot_change_what_every_school_shares(trust_store):
    with store.opened(trust_store) as db:
        auth.add_user(db, "head2", "Hana Head", PASSWORD, auth.ADMIN, schools=[2], by="test")
        before = store.get_settings(db)["sections"]
    app = signed_in("head2", "admin")
    next(b for b in app.button if b.label == "Save sections").click()
    app.run()
    assert any("only the trust's Pastoral administrator" in e.value for e in app.error)
    with store.opened(trust_store) as db:
        assert store.get_settings(db)["sections"] == before
        assert not db.execute("SELECT 1 FROM audit WHERE action = 'setting.change' AND username = 'head2'").fetchone()


def test_a_one_school_store_keeps_its_users_form_and_offers_no_trust_roles(school):
    app = signed_in("admin", "admin")
    assert "Schools or hub" not in table_with(app, "Username").columns
    form = app.form(key="add_user")
    assert len(form.multiselect) == 1 and len(form.selectbox) == 1
    assert not {"Trust administrator", "Hub lead", auth.TRUST_ADMIN} & set(form.selectbox[0].options)


# --- Upload: which school a file goes to ---------------------------------------------------------


def with_dfe(rows, dfe: str | None) -> bytes:
    lines = marks_csv(rows).splitlines()
    if dfe:
        lines = [lines[0] + ",DfE number", *(line + f",{dfe}" for line in lines[1:])]
    return ("\n".join(lines) + "\n").encode()


def marks_for(dfe: str | None) -> bytes:
    """Week 2 for school 2's three pupils, naming school `dfe` (or no school)."""
    ours = {make_upn(n): upn for n, upn in enumerate(SECOND_UPNS, start=1)}
    return with_dfe([(ours[u], *rest) for u, *rest in week_rows(WEEK_2, [".........."] * 3)], dfe)


def test_the_upload_preview_says_the_file_goes_to_the_school_its_dfe_number_names(trust_store):
    app = signed_in("admin", "upload")
    app.file_uploader[0].set_value([("second.csv", marks_for(SECOND_DFE), "text/csv")]).run()
    assert not app.exception
    assert "Goes to **Second Primary** (the file names its DfE number, 999/4002)" in all_text(app)


def test_the_upload_preview_says_a_file_naming_no_school_goes_to_the_school_chosen(trust_store):
    app = signed_in("admin", "upload")
    app.selectbox(key="upload_school").set_value(2).run()
    app.file_uploader[0].set_value([("plain.csv", marks_for(None), "text/csv")]).run()
    assert "Goes to **Second Primary** (the school chosen above)" in all_text(app)


def test_the_upload_preview_refuses_another_schools_file_before_anything_is_written(trust_store):
    app = signed_in("officer", "upload")  # Test Academy's attendance officer
    app.file_uploader[0].set_value([("second.csv", marks_for(SECOND_DFE), "text/csv")]).run()
    assert "Goes to no school:" in all_text(app) and "which is not your school" in app.error[0].value


def test_the_upload_preview_names_the_pupil_the_file_would_move_here(trust_store):
    content = with_dfe(week_rows(WEEK_2 + timedelta(days=7), [".........."]), SECOND_DFE)  # Ahmed, week 3
    app = signed_in("admin", "upload")
    app.file_uploader[0].set_value([("arrival.csv", content, "text/csv")]).run()
    text = all_text(app)
    assert "is on roll at Test Academy: this file moves them to Second Primary from 22/09/2025" in text
    assert "Importing it moves **1** pupil here from another of the trust's schools" in text
    with store.opened(trust_store) as db:  # a preview writes nothing
        assert db.execute("SELECT school_id FROM pupils WHERE upn = ?", (make_upn(1),)).fetchone()[0] == 1
