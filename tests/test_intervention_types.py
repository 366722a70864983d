"""The list of intervention types: seeded in tier order, edited by the lead or an admin,
never renamed or removed, and a new seed reaching a school that already has the list."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core import cases, intervention_types, store
from tests.case_school import ADMIN, OFFICER

# --- intervention types ---------------------------------------------------------------------


def test_the_types_are_seeded_in_tier_order_from_support_to_enforcement(db):
    types = intervention_types.intervention_types(db)
    assert types["tier"].is_monotonic_increasing
    assert types["name"].iloc[0] == "First-day call" and types["name"].iloc[-1] == "Prosecution referral"


def test_changing_a_types_tier_keeps_the_fields_it_records(db):
    intervention_types.save_type(db, ADMIN, "Penalty notice", 5)
    penalty = intervention_types.intervention_types(db).set_index("name").loc["Penalty notice"]
    assert penalty["tier"] == 5 and penalty["details"] == ("date_issued", "paid")


def test_a_school_adds_its_own_type_and_it_is_audited(db):
    intervention_types.save_type(db, ADMIN, "  Breakfast club  place ", 4)
    assert "Breakfast club place" in set(intervention_types.intervention_types(db)["name"])
    assert db.execute("SELECT username, action FROM audit").fetchall() == [("admin", "intervention_type.save")]


def test_saving_the_edited_list_changes_only_the_types_that_changed(db):
    listed = [(t.name, t.tier, True) for t in intervention_types.SEED_TYPES]
    listed[5] = ("Home visit", 4, False)
    assert intervention_types.save_types(db, ADMIN, listed + [("Breakfast club", 4, True)]) == 2
    types = intervention_types.intervention_types(db, include_inactive=True).set_index("name")
    assert (types.loc["Home visit", "tier"], types.loc["Home visit", "active"]) == (4, False)
    assert "Breakfast club" in types.index


def test_a_type_cannot_be_renamed_or_removed_from_the_list(db):
    listed = [(t.name, t.tier, True) for t in intervention_types.SEED_TYPES if t.name != "Home visit"]
    with pytest.raises(cases.CaseError, match="cannot be renamed or removed.*Home visit"):
        intervention_types.save_types(db, ADMIN, listed + [("Home visits", 3, True)])
    assert "Home visits" not in set(intervention_types.intervention_types(db)["name"])


def test_only_an_admin_or_the_lead_changes_the_types(db):
    with pytest.raises(cases.CaseError, match="Only an admin"):
        intervention_types.save_type(db, OFFICER, "New", 2)


# --- a new seed reaches a school that already has the list -------------------------------------


def test_a_store_from_before_the_seed_record_gains_a_seed_field_it_lacks_and_keeps_the_schools_tier(tmp_path):
    path = tmp_path / "school.db"
    old = store.connect(path, migrate_to=7)
    seeded = [(t.name, t.tier, json.dumps(list(t.details)), int(t.needs_review_date), t.help, i)
              for i, t in enumerate(intervention_types.SEED_TYPES) if t.name != "Prosecution referral"]
    with store.transaction(old) as conn:
        conn.executemany("INSERT INTO intervention_types (name, tier, details, needs_review_date, help, sort) "
                         "VALUES (?, ?, ?, ?, ?, ?)", seeded)
        conn.execute("UPDATE intervention_types SET details = '[\"date_issued\"]', help = ? WHERE name = ?",
                     (intervention_types.EARLIER_SEED_VALUES[("Penalty notice", "help")][0], "Penalty notice"))
        conn.execute("UPDATE intervention_types SET tier = 2 WHERE name = 'Home visit'")  # the school's own tier
        conn.execute("INSERT INTO intervention_types (name, tier, sort) VALUES ('Breakfast club', 4, 1000)")
    old.conn.close()
    db = store.connect(path)
    types = intervention_types.intervention_types(db, include_inactive=True).set_index("name")
    penalty = next(t for t in intervention_types.SEED_TYPES if t.name == "Penalty notice")
    assert types.loc["Penalty notice", "details"] == ("date_issued", "paid")
    assert types.loc["Penalty notice", "help"] == penalty.help
    assert types.loc["Home visit", "tier"] == 2
    assert "Prosecution referral" in types.index
    assert (types.loc["Breakfast club", "tier"], types.loc["Breakfast club", "details"]) == (4, ())


def _seed_with(**changed: dict) -> tuple[intervention_types.InterventionType, ...]:
    """The seed with some types changed: name → fields to replace."""
    return tuple(replace(t, **changed.get(t.name, {})) for t in intervention_types.SEED_TYPES)


def test_a_later_seed_reaches_the_types_the_school_left_alone_and_not_those_it_changed(db, monkeypatch):
    intervention_types.intervention_types(db)
    intervention_types.save_type(db, ADMIN, "Home visit", 2)
    monkeypatch.setattr(intervention_types, "SEED_TYPES", _seed_with(**{
        "Home visit": {"tier": 4, "details": ("agency",)}, "Attendance contract": {"tier": 4}}))
    types = intervention_types.intervention_types(db).set_index("name")
    assert (types.loc["Home visit", "tier"], types.loc["Home visit", "details"]) == (2, ("agency",))
    assert types.loc["Attendance contract", "tier"] == 4
    assert db.execute("SELECT entity_id FROM audit WHERE action = 'intervention_type.seed' ORDER BY entity_id"
                      ).fetchall() == [("Attendance contract",), ("Home visit",)]


def test_a_detail_field_the_school_removed_is_not_put_back_by_a_later_seed(db, monkeypatch):
    intervention_types.save_type(db, ADMIN, "Early Help referral", 4, details=[])
    monkeypatch.setattr(intervention_types, "SEED_TYPES", _seed_with(**{
        "Early Help referral": {"help": "Referral to the local Early Help hub."}}))
    early_help = intervention_types.intervention_types(db).set_index("name").loc["Early Help referral"]
    assert (early_help["details"], early_help["help"]) == ((), "Referral to the local Early Help hub.")


def test_reading_the_types_again_with_the_same_seed_writes_nothing(db):
    intervention_types.intervention_types(db)
    before = db.conn.total_changes
    intervention_types.intervention_types(db)
    assert db.conn.total_changes == before
    assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0
