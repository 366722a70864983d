"""Schools as a dimension (issue 18): adding and listing schools, who sees which, routing
imports by DfE number, and the `pastoral` command's --school — with a one-school store
exactly as before."""

from __future__ import annotations

import json

import pytest

from core import auth, cli, schools, store
from tests.app_school import quick_hashes  # noqa: F401 (fixture)
from tests.conftest import make_upn, marks_csv, roll_csv
from tests.trust_school import FIRST_SURNAMES, SECOND_DFE, SECOND_UPNS, trust_store  # noqa: F401 (fixture)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the store's schools --------------------------------------------------------------


def test_a_new_store_holds_one_school_named_as_the_school(db):
    store.set_setting(db, "school_name", "Oak Hill Academy", "test")
    assert [s.as_json() for s in schools.list_schools(db)] == [
        {"id": 1, "name": "Oak Hill Academy", "urn": "", "dfe_number": "", "hub": ""}]


def test_every_user_sees_every_pupil_in_a_one_school_store(db):
    auth.add_user(db, "officer", "O", "officer-pw-123", auth.ATTENDANCE_OFFICER)
    officer = auth.get_user(db, "officer")
    assert officer.schools == (1,) and officer.school_ids is None and officer.sees_all_pupils


@pytest.mark.parametrize(("given", "stored"), [("999/4001", "999/4001"), ("9994001", "999/4001"),
                                               ("999-4001", "999/4001"), ("", "")])
def test_a_dfe_number_is_stored_as_la_slash_establishment(given, stored):
    assert schools.dfe_number(given) == stored


def test_a_school_is_added_once_and_audited(db):
    added = schools.add_school(db, "Second Primary", "9994002", "140002", "North", by="trustee")
    assert added.as_json() == {"id": 2, "name": "Second Primary", "urn": "140002", "dfe_number": "999/4002",
                               "hub": "North"}
    assert db.execute("SELECT username, action FROM audit ORDER BY id DESC LIMIT 1").fetchone() == (
        "trustee", "school.add")
    with pytest.raises(schools.SchoolError, match="already a school called"):
        schools.add_school(db, "second primary")
    with pytest.raises(schools.SchoolError, match="already another school"):
        schools.add_school(db, "Third", "999/4002")
    with pytest.raises(schools.SchoolError, match="not a DfE number"):
        schools.add_school(db, "Third", "99/40")


def test_school_staff_on_a_trust_store_name_their_school(db):
    schools.add_school(db, "Second Primary", "999/4002")
    with pytest.raises(auth.UserError, match="say which school"):
        auth.add_user(db, "o2", "O", "officer-pw-123", auth.ATTENDANCE_OFFICER)
    auth.add_user(db, "o2", "O", "officer-pw-123", auth.ATTENDANCE_OFFICER, schools=["999/4002"])
    assert auth.get_user(db, "o2").school_ids == (2,)


def test_a_hub_lead_sees_their_hubs_schools_and_the_trust_lead_every_school(db):
    schools.add_school(db, "North A", hub="North")
    schools.add_school(db, "North B", hub="North")
    schools.add_school(db, "South A", hub="South")
    auth.add_user(db, "hub", "H", "hub-lead-pw-1", auth.HUB_LEAD, hub="North")
    auth.add_user(db, "lead", "L", "trust-lead-pw-1", auth.TRUST_LEAD)
    assert auth.get_user(db, "hub").school_ids == (2, 3)
    assert auth.get_user(db, "lead").school_ids is None
    with pytest.raises(auth.UserError, match="needs a hub"):
        auth.add_user(db, "hub2", "H", "hub-lead-pw-1", auth.HUB_LEAD, hub="East")


# --- routing imports --------------------------------------------------------------------


def test_a_ctf_names_its_school_in_the_source_school_header():
    ctf = b"<CTfile><Header><SourceSchool><LEA>999</LEA><Estab>4002</Estab></SourceSchool></Header></CTfile>"
    assert schools.dfe_number_in_file(ctf, "x.xml") == "999/4002"


def test_a_csv_names_its_school_in_a_dfe_number_column():
    content = b"upn,date,session,mark,LAESTAB\nA,2025-09-08,AM,/,9994002\n"
    assert schools.dfe_number_in_file(content, "x.csv") == "999/4002"
    assert schools.dfe_number_in_file(b"upn,date\nA,2025-09-08\n", "x.csv") is None


def test_an_import_naming_no_school_is_refused_on_a_trust_store(db_path, capsys, tmp_path):
    with store.opened(db_path) as db:
        schools.add_school(db, "Second Primary", SECOND_DFE)
    roll = tmp_path / "roll.csv"
    roll.write_text(roll_csv({"surname": "Zed"}) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(db_path), "import", "--format", "json", str(roll))
    assert code == 1
    result = json.loads(out)["files"][0]
    assert result["status"] == "rejected" and "choose one with --school" in result["problems"][0]["message"]
    with store.opened(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 0


def test_an_import_for_a_school_not_in_the_store_is_refused(db_path, capsys, tmp_path):
    with store.opened(db_path) as db:
        schools.add_school(db, "Second Primary", SECOND_DFE)
    marks = tmp_path / "marks.csv"
    marks.write_text("upn,date,session,mark,DfE number\n" f"{make_upn(1)},2025-09-08,AM,/,999/4999\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(db_path), "import", "--format", "json", str(marks))
    assert code == 1 and "999/4999, which is not one of this store's schools" in json.loads(out)["files"][0][
        "problems"][0]["message"]


def test_routed_imports_put_pupils_and_the_import_in_their_school(trust_store):
    with store.opened(trust_store) as db:
        assert dict(db.execute("SELECT upn, school_id FROM pupils WHERE upn IN (?, ?, ?)", SECOND_UPNS).fetchall()) == {
            upn: 2 for upn in SECOND_UPNS}
        assert db.execute("SELECT file_name, school_id FROM imports ORDER BY id DESC LIMIT 2").fetchall() == [
            ("second_marks.csv", 2), ("second_roll.csv", 2)]
        assert db.execute("SELECT COUNT(*) FROM pupils WHERE school_id = 1").fetchone()[0] == 5


# --- the command's --school -------------------------------------------------------------


def test_schools_list_and_add_print_json(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "schools", "add", "--name", "Third High", "--dfe", "9994003")
    assert code == 0 and json.loads(out) == {"id": 3, "name": "Third High", "urn": "", "dfe_number": "999/4003",
                                             "hub": ""}
    code, out, _ = run(capsys, "--db", str(trust_store), "schools", "list")
    assert [s["name"] for s in json.loads(out)] == ["Test Academy", "Second Primary", "Third High"]
    code, _, err = run(capsys, "--db", str(trust_store), "schools", "add", "--name", "Third High")
    assert code == 2 and "already a school called" in err


def test_pupils_summary_and_triggers_take_school(trust_store, capsys):
    _, out, _ = run(capsys, "--db", str(trust_store), "pupils", "--school", "2")
    assert sorted(p["surname"] for p in json.loads(out)) == ["Fenton", "Gray", "Hughes"]
    _, out, _ = run(capsys, "--db", str(trust_store), "pupils", "--school", "Test Academy")
    assert sorted(p["surname"] for p in json.loads(out)) == sorted(FIRST_SURNAMES)
    _, out, _ = run(capsys, "--db", str(trust_store), "pupils")
    assert len(json.loads(out)) == 8
    _, out, _ = run(capsys, "--db", str(trust_store), "summary", "--school", SECOND_DFE)
    assert json.loads(out)["all"]["pupils"] == 3 and json.loads(out)["all"]["persistent_absentees"] == 2
    _, out, _ = run(capsys, "--db", str(trust_store), "triggers", "--school", "2")
    assert json.loads(out) == []
    _, out, _ = run(capsys, "--db", str(trust_store), "triggers", "--school", "1")
    assert {t["upn"] for t in json.loads(out)} == {make_upn(3)}  # Clarke
    code, _, err = run(capsys, "--db", str(trust_store), "pupils", "--school", "Nowhere")
    assert code == 2 and "There is no school 'Nowhere'" in err


def test_pupils_json_keeps_its_fields_with_school(trust_store, capsys):
    _, everyone, _ = run(capsys, "--db", str(trust_store), "pupils")
    _, one, _ = run(capsys, "--db", str(trust_store), "pupils", "--school", "2")
    assert list(json.loads(one)[0]) == list(json.loads(everyone)[0])  # the same fields, in the same order


def test_users_add_takes_school(trust_store, capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("second-viewer-1\n"))
    code, out, _ = run(capsys, "--db", str(trust_store), "users", "add", "v2", "--name", "V", "--role", "viewer",
                       "--school", "Second Primary")
    assert code == 0 and set(json.loads(out)) == {"username", "name", "email", "role", "sections", "active", "locked"}
    with store.opened(trust_store) as db:
        assert auth.get_user(db, "v2").school_ids == (2,)


def test_one_command_routes_each_file_and_refuses_only_the_file_naming_no_school(db_path, capsys, tmp_path):
    with store.opened(db_path) as db:
        schools.add_school(db, "Second Primary", SECOND_DFE)
    named, unnamed = tmp_path / "named.csv", tmp_path / "unnamed.csv"
    named.write_text(f"UPN,Surname,Forename,DfE number\n{make_upn(7)},Kerr,Kit,{SECOND_DFE}\n", encoding="utf-8")
    unnamed.write_text(roll_csv({"upn": make_upn(8), "surname": "Lane"}) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(db_path), "import", "--format", "json", str(named), str(unnamed))
    assert code == 1 and [f["status"] for f in json.loads(out)["files"]] == ["imported", "rejected"]
    with store.opened(db_path) as db:
        assert db.execute("SELECT surname, school_id FROM pupils").fetchall() == [("Kerr", 2)]
