"""Families: siblings from the roll's family id, or suggested and confirmed by a person;
the days a family's children miss together; penalty notices per parent per child."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import auth, cases, families, metrics, penalty_notices, store
from tests.conftest import make_upn, marks_csv

OFFICER = auth.Viewer("officer", "attendance_officer")
VIEWER = auth.Viewer("governor", "viewer")
MONDAY = date(2025, 9, 8)


def roll(*pupils: dict) -> str:
    columns = ["surname", "forename", "family", "phone", "email", "address", "postcode"]
    lines = ["UPN,Surname,Forename,Year,Family ID,Contact 1 Telephone,Contact 1 Email,Address,Postcode"]
    for i, pupil in enumerate(pupils, start=1):
        row = {"surname": f"Surname{i}", "forename": f"Forename{i}", **{c: "" for c in columns[2:]}, **pupil}
        lines.append(",".join([make_upn(i), row["surname"], row["forename"], "7"] + [row[c] for c in columns[2:]]))
    return "\n".join(lines)


@pytest.fixture
def pupils(db, load):
    def _pupils(*rows: dict) -> list[int]:
        load("roll.csv", roll(*rows))
        ids = dict(db.execute("SELECT upn, id FROM pupils").fetchall())
        return [ids[make_upn(i)] for i in range(1, len(rows) + 1)]
    return _pupils


def pairs(frame) -> list[tuple[int, int]]:
    return sorted(zip(frame["pupil_id"], frame["sibling_id"]))


def test_pupils_with_the_same_family_id_are_siblings(db, pupils):
    a, b, c = pupils({"family": "F1"}, {"family": "F1"}, {"family": "F2"})
    assert families.family_of(db, a) == [a, b]
    assert families.family_of(db, c) == [c]
    assert pairs(families.links(db)) == [(a, b)]


def test_a_shared_parent_phone_suggests_siblings_whatever_the_surname(db, pupils):
    a, b, _ = pupils({"surname": "Smith", "phone": "07700 900123"}, {"surname": "Jones", "phone": "07700900123"}, {})
    found = families.suggestions(db)
    assert pairs(found) == [(a, b)] and found["reason"].tolist() == ["same parent's phone"]


def test_a_shared_address_suggests_siblings_only_with_the_same_surname(db, pupils):
    a, b, _ = pupils({"surname": "Smith", "address": "1 High St", "postcode": "AB1 2CD"},
                     {"surname": "Smith", "address": "1 high st.", "postcode": "ab1 2cd"},
                     {"surname": "Jones", "address": "1 High St", "postcode": "AB1 2CD"})
    assert pairs(families.suggestions(db)) == [(a, b)]


def test_pupils_already_linked_by_family_id_are_not_suggested(db, pupils):
    pupils({"family": "F1", "phone": "07700900123"}, {"family": "F1", "phone": "07700900123"})
    assert families.suggestions(db).empty


def test_confirming_a_suggestion_links_the_siblings_and_is_audited(db, pupils):
    a, b = pupils({"phone": "07700900123"}, {"phone": "07700900123"})
    families.decide(db, OFFICER, b, a, confirmed=True)
    assert families.family_of(db, a) == [a, b] and families.suggestions(db).empty
    action, entity_id = db.execute("SELECT action, entity_id FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert (action, entity_id) == ("siblings.confirm", str(a))


def test_ruling_out_a_suggestion_keeps_them_apart_and_it_is_not_suggested_again(db, pupils):
    a, b = pupils({"phone": "07700900123"}, {"phone": "07700900123"})
    families.decide(db, OFFICER, a, b, confirmed=False, reason="neighbours sharing a landline")
    assert families.family_of(db, a) == [a] and families.suggestions(db).empty


def test_a_family_is_everyone_reachable_through_links(db, pupils):
    a, b, c = pupils({"family": "F1"}, {"family": "F1"}, {})
    families.decide(db, OFFICER, b, c, confirmed=True)
    assert families.family_of(db, c) == [a, b, c]
    assert sorted(families.siblings(db, [c])["sibling_id"]) == [a, b]


def test_a_viewer_cannot_link_siblings(db, pupils):
    a, b = pupils({}, {})
    with pytest.raises(cases.CaseError):
        families.decide(db, VIEWER, a, b, confirmed=True)


# --- days off together ------------------------------------------------------------------


def week(upn: str, marks: str) -> list[tuple]:
    """Ten marks Monday AM to Friday PM ('.' present)."""
    return [(upn, (MONDAY + timedelta(days=i // 2)).isoformat(), ("AM", "PM")[i % 2],
             ("/" if i % 2 == 0 else "\\") if m == "." else m) for i, m in enumerate(marks)]


def test_days_two_siblings_both_miss_are_shared_and_a_run_of_them_is_a_likely_holiday(db, pupils, load):
    a, b = pupils({"family": "F1"}, {"family": "F1"})
    load("week.csv", marks_csv(week(make_upn(1), "IIOO....GG") + week(make_upn(2), "..OO....GG")))
    shared = families.shared_days_off(db, metrics.Period(MONDAY, MONDAY + timedelta(days=4)), [a, b])
    assert [d.isoformat() for d in shared["date"]] == ["2025-09-09", "2025-09-12"]
    assert shared["likely_holiday"].tolist() == [False, True]  # one day of O; a day of G (holiday not agreed)
    assert shared["codes"].tolist() == ["O, O", "G, G"]


def test_consecutive_days_off_together_look_like_a_family_holiday(db, pupils, load):
    a, b = pupils({"family": "F1"}, {"family": "F1"})
    load("week.csv", marks_csv(week(make_upn(1), "......IIII") + week(make_upn(2), "......OOOO")))
    shared = families.shared_days_off(db, metrics.Period(MONDAY, MONDAY + timedelta(days=4)), [a, b])
    assert shared["run_days"].tolist() == [2, 2] and shared["likely_holiday"].all()


# --- penalty notices per parent per child (the rule is penalty_notices'; tests/test_penalty_notices.py has it) ---


@pytest.fixture
def child(pupils):
    return pupils({})[0]


def by_parent(db, members, parents, on):
    return penalty_notices.notices_by_parent(penalty_notices.penalty_notice_history(db, OFFICER, members), members, parents, on,
                                      penalty_notices.PenaltyFramework.of(db))


def test_a_penalty_notice_is_recorded_with_the_parent_and_which_notice_it_is(db, child):
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2025, 10, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, child, "jane  SMITH", date(2026, 3, 1))
    assert penalty_notices.penalty_notice_history(db, OFFICER)["parent"].tolist() == ["Jane Smith", "jane SMITH"]
    summary = cases.interventions(db, OFFICER, [child])["summary"].tolist()
    assert summary == ["Issued to jane SMITH: a second notice within 3 years: £160 with no reduction.",
                       "Issued to Jane Smith: a first notice: £80 if paid within 21 days, £160 within 28."]


def test_a_penalty_notice_needs_the_parent_it_was_issued_to(db, child):
    with pytest.raises(cases.CaseError, match="which parent or carer"):
        penalty_notices.record_penalty_notice(db, OFFICER, child, "  ", date(2025, 10, 1))


def test_there_is_no_third_penalty_notice_to_the_same_parent_within_3_years(db, child):
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2025, 10, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2026, 3, 1))
    with pytest.raises(cases.CaseError, match="prosecution"):
        penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2026, 6, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Bob Smith", date(2026, 6, 1))  # the other parent: a first


def test_the_family_table_lists_each_parent_of_each_child_with_the_next_step(db, pupils):
    a, b = pupils({"family": "F1"}, {"family": "F1"})
    penalty_notices.record_penalty_notice(db, OFFICER, a, "Jane Smith", date(2025, 10, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, a, "Jane Smith", date(2026, 3, 1))
    table = by_parent(db, [a, b], {a: ["JANE SMITH", "Bob Smith"], b: ["Jane Smith"]}, date(2026, 6, 1))
    assert table[["pupil_id", "parent", "notices", "allowed"]].values.tolist() == [
        [a, "JANE SMITH", 2, False], [a, "Bob Smith", 0, True], [b, "Jane Smith", 0, True]]
    assert table["next_step"].tolist()[1:] == ["A first notice would be £80 if paid within 21 days, £160 within 28."] * 2


def test_a_notice_with_no_parent_recorded_has_its_own_row(db, child):
    cases.open_intervention(db, OFFICER, child, "Penalty notice", "officer", date(2025, 10, 1))
    table = by_parent(db, [child], {child: ["Jane Smith"]}, date(2025, 11, 1))
    assert table[["parent", "within_repeat_period"]].values.tolist() == [["Jane Smith", 0],
                                                                         [penalty_notices.PARENT_NOT_RECORDED, 1]]


def test_a_childs_parents_are_the_rolls_contacts_then_anyone_else_a_notice_went_to(db, child):
    db.execute("UPDATE pupils SET contact1_name = 'Jane Smith', contact2_name = 'Bob Smith' WHERE id = ?", (child,))
    penalty_notices.record_penalty_notice(db, OFFICER, child, "jane smith", date(2025, 10, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Ann Jones", date(2025, 10, 2))
    assert families.parents(db, OFFICER, [child]) == {child: ["Jane Smith", "Bob Smith", "Ann Jones"]}


def test_casework_and_families_give_the_same_next_step_for_the_same_parent(db, pupils):
    a, b = pupils({"family": "F1"}, {"family": "F1"})
    penalty_notices.record_penalty_notice(db, OFFICER, a, "Jane Smith", date(2025, 9, 10))
    penalty_notices.record_penalty_notice(db, OFFICER, a, "Bob Smith", date(2025, 10, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, a, "Bob Smith", date(2025, 11, 1))
    penalty_notices.record_penalty_notice(db, OFFICER, b, "Jane Smith", date(2025, 10, 5))
    on = date(2025, 12, 1)
    casework = penalty_notices.penalty_notices(db, OFFICER, today=on).set_index("pupil_id")
    family = by_parent(db, [a, b], {}, on).set_index(["pupil_id", "parent"])
    for pupil_id in (a, b):
        row = casework.loc[pupil_id]
        assert family.loc[(pupil_id, row["parent"]), "next_step"] == row["next_step"]
        assert family.loc[(pupil_id, row["parent"]), "within_repeat_period"] == row["notices_in_window"]
    assert casework.loc[a, "parent"] == "Bob Smith" and "prosecution" in casework.loc[a, "next_step"]
    assert casework.loc[b, "next_step"].startswith("A second notice")


def test_the_amounts_and_limits_are_settings(db, child):
    store.set_setting(db, "penalty_notices_per_parent_child", 1, "admin")
    penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2025, 10, 1))
    with pytest.raises(cases.CaseError):
        penalty_notices.record_penalty_notice(db, OFFICER, child, "Jane Smith", date(2026, 3, 1))


def test_a_school_with_no_siblings_linked_has_no_families(db, pupils):
    a, _ = pupils({}, {})
    assert families.siblings(db, [a]).empty and families.family_of(db, a) == [a]
