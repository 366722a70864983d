"""Managing a trust's schools and people, and pupils moving between the schools (issue 18):
`pastoral schools edit|move-pupil|moves`, `users list|set-role|set-schools` with schools and
hubs, --school on purge (and refused, with why, on backup, restore and demo), and one record
and one chronology for a pupil who moves — by an import routed to the new school or by hand.

The store is tests/trust_school.py's: school 1 "Test Academy" (Ahmed, Brown, Clarke, Dunn,
Evans; weeks 1 and 2), school 2 "Second Primary" (999/4002, hub North)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest

from core import auth, cases, chronology, cli, schools, store
from core.importers import undo_last_import
from tests.app_school import WEEK_1, WEEK_2, quick_hashes  # noqa: F401 (fixture)
from tests.conftest import make_upn, marks_csv, roll_csv, week_rows
from tests.trust_school import SECOND, SECOND_DFE, trust_store  # noqa: F401 (fixture)

AHMED = make_upn(1)
WEEK_3 = WEEK_2 + timedelta(days=7)
USER_FIELDS = {"username", "name", "email", "role", "sections", "active", "locked"}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def second_school_file(tmp_path, name: str, monday: date, pattern: str, dfe: str = SECOND_DFE):
    """A marks file naming school `dfe` by its DfE number, with Ahmed's marks for one week."""
    lines = marks_csv(week_rows(monday, [pattern])).splitlines()
    path = tmp_path / name
    path.write_text("\n".join([lines[0] + ",DfE number", *(line + f",{dfe}" for line in lines[1:])]) + "\n",
                    encoding="utf-8")
    return path


def school_of(db_path, upn: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT school_id FROM pupils WHERE upn = ?", (upn,)).fetchone()[0]


def surnames(capsys, db_path, school: str) -> list[str]:
    _, out, _ = run(capsys, "--db", str(db_path), "pupils", "--school", school)
    return sorted(p["surname"] for p in json.loads(out))


# --- schools edit ---------------------------------------------------------------------------


def test_schools_edit_changes_only_what_is_given_and_is_audited(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "schools", "edit", "2", "--hub", "South", "--urn", "140099",
                       "--user", "trustee")
    assert code == 0 and json.loads(out) == {"id": 2, "name": SECOND, "urn": "140099", "dfe_number": SECOND_DFE,
                                             "hub": "South"}
    with store.opened(trust_store) as db:
        who, action, detail = db.execute("SELECT username, action, detail FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert (who, action) == ("trustee", "school.edit")
    assert json.loads(detail) == {"urn": {"old": "140002", "new": "140099"}, "hub": {"old": "North", "new": "South"}}


def test_renaming_the_stores_own_school_renames_the_school_everywhere(trust_store, capsys):
    assert run(capsys, "--db", str(trust_store), "schools", "edit", "1", "--name", "Test Academy North")[0] == 0
    with store.opened(trust_store) as db:
        assert store.get_settings(db)["school_name"] == "Test Academy North"


def test_schools_edit_refuses_another_schools_dfe_number_and_changes_nothing(trust_store, capsys):
    code, _, err = run(capsys, "--db", str(trust_store), "schools", "edit", "1", "--dfe", SECOND_DFE)
    assert code == 2 and "already another school's" in err
    with store.opened(trust_store) as db:
        assert schools.require(db, 1).dfe_number == ""


# --- users: schools and hubs -------------------------------------------------------------------


def test_users_list_on_a_trust_store_adds_each_users_schools_and_hub(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "users", "list")
    listed = {u["username"]: u for u in json.loads(out)}
    assert code == 0 and all(set(u) == USER_FIELDS | {"schools", "hub"} for u in listed.values())
    assert listed["officer2"]["schools"] == [{"id": 2, "name": SECOND}] and listed["officer2"]["hub"] == ""
    assert listed["north"]["schools"] == [] and listed["north"]["hub"] == "North"
    assert listed["officer"]["schools"] == [{"id": 1, "name": "Test Academy"}]


def test_users_list_of_one_school_names_its_staff_and_its_hubs_lead(trust_store, capsys):
    _, out, _ = run(capsys, "--db", str(trust_store), "users", "list", "--school", SECOND)
    assert sorted(u["username"] for u in json.loads(out)) == ["north", "officer2", "secondary2"]
    _, out, _ = run(capsys, "--db", str(trust_store), "users", "list", "--format", "text")
    assert "Nia North" in out and "hub North" in out and "Second Primary" in out


def test_set_role_hub_lead_sets_the_hub_and_the_user_sees_its_schools(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "users", "set-role", "officer2", "hub_lead", "--hub", "North")
    assert code == 0 and json.loads(out)["role"] == "hub_lead" and json.loads(out)["hub"] == "North"
    with store.opened(trust_store) as db:
        assert auth.get_user(db, "officer2").school_ids == (2,)
        detail = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'user.change' ORDER BY id DESC").fetchone()[0])
    assert detail["hub"] == {"old": "", "new": "North"} and detail["schools"] == {"old": [2], "new": []}
    code, _, err = run(capsys, "--db", str(trust_store), "users", "set-role", "officer", "hub_lead", "--hub", "East")
    assert code == 2 and "needs a hub" in err


def test_a_trust_lead_made_a_school_role_must_be_given_a_school(trust_store, capsys):
    code, _, err = run(capsys, "--db", str(trust_store), "users", "set-role", "lead", "viewer")
    assert code == 2 and "say which school" in err
    code, out, _ = run(capsys, "--db", str(trust_store), "users", "set-role", "lead", "viewer", "--school", "2")
    assert code == 0 and json.loads(out)["schools"] == [{"id": 2, "name": SECOND}]


def test_set_schools_names_several_schools_and_is_audited(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "users", "set-schools", "officer2", "--school", "1",
                       "--school", SECOND_DFE, "--user", "trustee")
    assert code == 0 and [s["id"] for s in json.loads(out)["schools"]] == [1, 2]
    with store.opened(trust_store) as db:
        assert auth.get_user(db, "officer2").school_ids == (1, 2)
        assert db.execute("SELECT username, action, entity_id FROM audit ORDER BY id DESC LIMIT 1").fetchone() == (
            "trustee", "user.change", "officer2")
    code, _, err = run(capsys, "--db", str(trust_store), "users", "set-schools", "officer2", "--school", "Nowhere")
    assert code == 2 and "There is no school 'Nowhere'" in err


def test_users_add_keeps_its_seven_fields_on_a_trust_store(trust_store, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("second-viewer-1\n"))
    _, out, _ = run(capsys, "--db", str(trust_store), "users", "add", "v2", "--name", "V", "--role", "viewer",
                    "--school", "2")
    assert set(json.loads(out)) == USER_FIELDS


# --- whole-store commands and --school ---------------------------------------------------------


@pytest.mark.parametrize("command", [["backup", "copy.db"], ["restore", "copy.db"], ["demo"]])
def test_whole_store_commands_refuse_a_school_and_say_why(trust_store, capsys, tmp_path, command):
    argv = [str(tmp_path / a) if a.endswith(".db") else a for a in command]
    code, _, err = run(capsys, "--db", str(trust_store), *argv, "--school", "2")
    assert code == 2 and ("whole store" in err or "new, empty store" in err)
    assert not (tmp_path / "copy.db").exists()


def test_purge_with_school_removes_only_that_schools_leavers(trust_store, capsys):
    with store.opened(trust_store) as db:
        db.execute("UPDATE pupils SET leave_date = '2015-07-20' WHERE upn IN (?, ?)", (make_upn(2), make_upn(102)))
        db.conn.commit()
    code, out, _ = run(capsys, "--db", str(trust_store), "purge", "--school", "2")
    assert code == 0 and "Removed 1 leaver(s) of Second Primary" in out
    with store.opened(trust_store) as db:
        assert {r[0] for r in db.execute("SELECT upn FROM pupils WHERE leave_date IS NOT NULL")} == {make_upn(2)}


# --- a pupil moving school: by an import routed to the new school ------------------------------------


def test_an_import_to_school_b_naming_a_pupil_at_school_a_moves_them_with_one_record(trust_store, capsys, tmp_path):
    assert surnames(capsys, trust_store, "1").count("Ahmed") == 1
    arrived = second_school_file(tmp_path, "b_week3.csv", WEEK_3, "..........")
    code, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", "--user", "officer2",
                       str(arrived))
    result = json.loads(out)["files"][0]
    assert code == 0 and result["status"] == "imported"
    assert any("moves them to Second Primary from 22/09/2025" in p["message"] for p in result["problems"])
    assert school_of(trust_store, AHMED) == 2
    with store.opened(trust_store) as db:
        assert db.execute("SELECT COUNT(*) FROM pupils WHERE upn = ?", (AHMED,)).fetchone()[0] == 1  # one record
        who, detail = db.execute("SELECT username, detail FROM audit WHERE action = 'pupil.move'").fetchone()
        assert who == "officer2" and json.loads(detail)["from_school"] == 1 and json.loads(detail)["to_school"] == 2
    # Scoping after: B's lists hold them with their whole history, A's no longer.
    assert "Ahmed" in surnames(capsys, trust_store, "2") and "Ahmed" not in surnames(capsys, trust_store, "1")
    _, out, _ = run(capsys, "--db", str(trust_store), "pupils", "--school", "2")
    ahmed = next(p for p in json.loads(out) if p["surname"] == "Ahmed")
    assert ahmed["possible_sessions"] == 30  # weeks 1 and 2 at Test Academy, week 3 at Second Primary


def test_the_moved_pupils_chronology_says_where_from_and_keeps_their_earlier_case_work(trust_store, tmp_path):
    with store.opened(trust_store) as db:
        pupil_id = db.execute("SELECT id FROM pupils WHERE upn = ?", (AHMED,)).fetchone()[0]
        cases.log_contact(db, auth.Viewer("officer", auth.ATTENDANCE_OFFICER, school_ids=(1,)), pupil_id,
                          next(iter(cases.CONTACT_KINDS)), date(2025, 9, 16), "Mother", "Spoke about mornings")
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, ".........."))]) == 0
    with store.opened(trust_store) as db:
        events = chronology.chronology(db, auth.Viewer("officer2", auth.ATTENDANCE_OFFICER, school_ids=(2,)),
                                       pupil_id, date(2025, 9, 26))
        with pytest.raises(Exception, match="not in your"):  # A's staff no longer see the pupil
            chronology.chronology(db, auth.Viewer("officer", auth.ATTENDANCE_OFFICER, school_ids=(1,)), pupil_id,
                                  date(2025, 9, 26))
    assert "Moved from Test Academy to Second Primary on 22/09/2025" in events["what"].tolist()
    assert "contact" in events["kind"].tolist()  # the contact logged at A stays in the one chronology


def test_an_older_file_from_school_a_after_the_move_does_not_move_them_back(trust_store, tmp_path):
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, ".........."))]) == 0
    older = tmp_path / "a_week2_again.csv"
    older.write_text(marks_csv(week_rows(WEEK_2, ["NNNNNN....", "..........", "OOOOOO....", "I.........",
                                                  "I........."])) + "\n", encoding="utf-8")
    assert cli.main(["--db", str(trust_store), "import", "--school", "1", str(older)]) == 0
    assert school_of(trust_store, AHMED) == 2


@pytest.mark.parametrize("pattern", ["ZZZZZZZZZZ", "DDDDDDDDDD"])
def test_marks_saying_not_yet_on_roll_or_dual_registered_do_not_move_a_pupil(trust_store, tmp_path, pattern):
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, pattern))]) == 0
    assert school_of(trust_store, AHMED) == 1


def test_a_pupil_arrives_on_their_first_mark_after_not_yet_on_roll(trust_store, tmp_path):
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, "ZZZZ......"))]) == 0
    with store.opened(trust_store) as db:
        assert db.execute("SELECT moved_on FROM pupil_moves").fetchall() == [("2025-09-24",)]


def test_undoing_the_import_that_moved_a_pupil_moves_them_back(trust_store, tmp_path):
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, ".........."))]) == 0
    with store.opened(trust_store) as db:
        undo_last_import(db, "officer2")
        assert db.execute("SELECT COUNT(*) FROM pupil_moves").fetchone()[0] == 0
    assert school_of(trust_store, AHMED) == 1


def test_a_roll_without_entry_dates_moves_a_pupil_who_never_moved(trust_store, capsys, tmp_path):
    roll = tmp_path / "b_roll.csv"
    roll.write_text(roll_csv({"upn": make_upn(2), "surname": "Brown", "forename": "Bella", "form": "4B",
                              "year_group": "4"}) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", "--school", "2", str(roll))
    assert code == 0 and json.loads(out)["files"][0]["status"] == "imported"
    assert school_of(trust_store, make_upn(2)) == 2
    with store.opened(trust_store) as db:
        assert db.execute("SELECT form FROM pupils WHERE upn = ?", (make_upn(2),)).fetchone()[0] == "4B"
    # School A's roll, still listing her without an entry date: she stays at B, her details as B gave them.
    again = tmp_path / "a_roll.csv"
    again.write_text(roll_csv({"upn": make_upn(2), "surname": "Brown", "forename": "Bella", "form": "7A"}) + "\n",
                     encoding="utf-8")
    _, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", "--school", "1", str(again))
    assert any("does not move them" in p["message"] for p in json.loads(out)["files"][0]["problems"])
    with store.opened(trust_store) as db:
        assert db.execute("SELECT school_id, form FROM pupils WHERE upn = ?", (make_upn(2),)).fetchone() == (2, "4B")


# --- a pupil moving school by hand -----------------------------------------------------------------


def test_move_pupil_moves_one_pupil_by_hand_and_prints_the_move(trust_store, capsys):
    code, out, _ = run(capsys, "--db", str(trust_store), "schools", "move-pupil", AHMED, "--to", SECOND,
                       "--on", "2025-10-01", "--user", "trustee")
    assert code == 0 and json.loads(out) == {
        "upn": AHMED, "from_school": {"id": 1, "name": "Test Academy", "urn": "", "dfe_number": "", "hub": ""},
        "to_school": {"id": 2, "name": SECOND, "urn": "140002", "dfe_number": SECOND_DFE, "hub": "North"},
        "moved_on": "2025-10-01"}
    assert school_of(trust_store, AHMED) == 2
    _, out, _ = run(capsys, "--db", str(trust_store), "schools", "moves", "--school", "1")
    assert json.loads(out) == [{"upn": AHMED, "from_school": 1, "to_school": 2, "moved_on": "2025-10-01",
                                "by_import": None, "moved_by": "trustee"}]
    code, _, err = run(capsys, "--db", str(trust_store), "schools", "move-pupil", AHMED, "--to", "1",
                       "--on", "2025-09-30")
    assert code == 2 and "cannot be dated before it" in err and school_of(trust_store, AHMED) == 2
    code, _, err = run(capsys, "--db", str(trust_store), "schools", "move-pupil", AHMED, "--to", "2")
    assert code == 2 and "already at Second Primary" in err
    code, _, err = run(capsys, "--db", str(trust_store), "schools", "move-pupil", "X000000000000", "--to", "2")
    assert code == 2 and "no pupil with UPN" in err


def test_a_pupil_with_a_recorded_move_is_purged_with_it(trust_store):
    from core import safekeeping

    with store.opened(trust_store) as db:
        schools.move_pupil(db, AHMED, 2, date(2025, 10, 1), by="test")
        db.execute("UPDATE pupils SET leave_date = '2015-07-20' WHERE upn = ?", (AHMED,))
        db.conn.commit()
        removed = safekeeping.purge_leavers(db, date(2026, 1, 1), "test")
        assert removed["pupil_moves"] == 1 and removed["pupils"] == 1


def test_school_bs_not_yet_on_roll_marks_before_the_move_leave_school_as_marks_as_they_were(trust_store, tmp_path):
    before = second_school_file(tmp_path, "b_weeks.csv", WEEK_2, "ZZZZZZZZZZ")  # week 2: not yet on roll at B
    arrival = second_school_file(tmp_path, "b_week3.csv", WEEK_3, "..........")
    assert cli.main(["--db", str(trust_store), "import", str(before), str(arrival)]) == 0
    assert school_of(trust_store, AHMED) == 2
    with store.opened(trust_store) as db:
        week_2 = [c for (c,) in db.execute(
            "SELECT m.code FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.upn = ? AND m.day BETWEEN ? AND ? "
            "ORDER BY m.day, m.session", (AHMED, *(int((WEEK_2 + timedelta(days=d) - date(1970, 1, 1)).days)
                                                   for d in (0, 4))))]
    assert week_2 == ["N", "N", "N", "N", "/", "\\", "/", "\\", "/", "\\"]  # Test Academy's register, as it was


def test_school_as_marks_dated_after_the_pupil_moved_away_are_not_imported(trust_store, capsys, tmp_path):
    assert cli.main(["--db", str(trust_store), "import",
                     str(second_school_file(tmp_path, "b.csv", WEEK_3, ".........."))]) == 0
    late = tmp_path / "a_week3.csv"  # Test Academy still had him on its register that week
    late.write_text(marks_csv(week_rows(WEEK_3, ["NNNNNNNNNN"])) + "\n", encoding="utf-8")
    capsys.readouterr()
    code, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", "--school", "1", str(late))
    result = json.loads(out)["files"][0]
    assert code == 0 and result["status"] == "unchanged"
    assert any("dated after they moved away" in p["message"] for p in result["problems"])
    _, out, _ = run(capsys, "--db", str(trust_store), "pupils", "--school", "2")
    assert next(p for p in json.loads(out) if p["surname"] == "Ahmed")["unauthorised_sessions"] == 4  # week 2's N only


def ahmeds_codes(db_path, monday: date) -> list[str]:
    with store.opened(db_path) as db:
        return [c for (c,) in db.execute(
            "SELECT m.code FROM marks m JOIN pupils p ON p.id = m.pupil_id WHERE p.upn = ? AND m.day BETWEEN ? AND ? "
            "ORDER BY m.day, m.session", (AHMED, *(int((monday + timedelta(days=d) - date(1970, 1, 1)).days)
                                                   for d in (0, 4))))]


def test_a_dual_registered_pupil_stays_at_their_school_and_its_register_is_kept(trust_store, capsys, tmp_path):
    """Test Academy's register marks Ahmed D (at Second Primary) on Monday and Tuesday of week 3;
    Second Primary's own file marks him present then. He stays Test Academy's pupil and its D
    sessions stay not possible for it (DOMAIN.md: D is not a possible session)."""
    ours = tmp_path / "a_week3.csv"
    ours.write_text(marks_csv(week_rows(WEEK_3, ["DDDD......"])) + "\n", encoding="utf-8")
    assert cli.main(["--db", str(trust_store), "import", "--school", "1", str(ours)]) == 0
    capsys.readouterr()
    theirs = second_school_file(tmp_path, "b_week3.csv", WEEK_3, "....DDDDDD")
    code, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", str(theirs))
    result = json.loads(out)["files"][0]
    assert code == 0 and result["status"] == "unchanged"
    [warning] = [p["message"] for p in result["problems"] if "dual registered" in p["message"]]
    assert f"{AHMED} (" in warning and "at Test Academy" in warning and "10 marks" in warning
    assert school_of(trust_store, AHMED) == 1
    assert ahmeds_codes(trust_store, WEEK_3) == ["D", "D", "D", "D", "/", "\\", "/", "\\", "/", "\\"]
    with store.opened(trust_store) as db:
        assert db.execute("SELECT COUNT(*) FROM pupil_moves").fetchone()[0] == 0
    # A later week from Second Primary, all present: still Test Academy's, as the year's D marks say.
    later = second_school_file(tmp_path, "b_week4.csv", WEEK_3 + timedelta(days=7), "..........")
    assert cli.main(["--db", str(trust_store), "import", str(later)]) == 0
    assert school_of(trust_store, AHMED) == 1
    assert ahmeds_codes(trust_store, WEEK_3 + timedelta(days=7)) == []


def test_the_other_schools_roll_listing_a_dual_registered_pupil_does_not_move_them(trust_store, capsys, tmp_path):
    ours = tmp_path / "a_week3.csv"
    ours.write_text(marks_csv(week_rows(WEEK_3, ["DD........"])) + "\n", encoding="utf-8")
    assert cli.main(["--db", str(trust_store), "import", "--school", "1", str(ours)]) == 0
    roll = tmp_path / "b_roll.csv"  # Second Primary lists him on its roll too, from the day he started there
    roll.write_text(roll_csv({"upn": AHMED, "surname": "Ahmed", "forename": "Adam", "form": "5S", "year_group": "5",
                              "entry_date": "2025-09-22"}) + "\n", encoding="utf-8")
    capsys.readouterr()
    code, out, _ = run(capsys, "--db", str(trust_store), "import", "--format", "json", "--school", "2", str(roll))
    assert code == 0
    [warning] = [p["message"] for p in json.loads(out)["files"][0]["problems"] if "dual registered" in p["message"]]
    assert "this roll does not move them or change their details" in warning
    assert school_of(trust_store, AHMED) == 1
    with store.opened(trust_store) as db:
        assert db.execute("SELECT form FROM pupils WHERE upn = ?", (AHMED,)).fetchone()[0] != "5S"
        assert db.execute("SELECT COUNT(*) FROM pupil_moves").fetchone()[0] == 0
