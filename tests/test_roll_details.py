"""The roll's family, contact and group columns: SIMS, Arbor and Bromcom spellings, DfE
ethnicity codes, yes/no flags, social-worker status, the school's own flags — blank when
a column is missing, a warning (never a rejection) when a value cannot be read, and
contact details only for the roles doing case work."""

from __future__ import annotations

import pytest

from core import auth, cases, characteristics, families, store
from core.importers import undo_last_import
from core.importers.headers import meaning_of
from tests.conftest import make_upn

A, B = make_upn(1), make_upn(2)


def roll(header: str, *rows: str) -> str:
    return "\n".join([f"UPN,Surname,Forename,Year,{header}", *rows])


def stored(db, upn: str = A) -> dict:
    frame = store.pupils_frame(db, contacts=True).set_index("upn")
    return frame.loc[upn].to_dict()


@pytest.mark.parametrize(("header", "meaning"), [
    ("Primary Contact Name", "contact1_name"), ("contact name primary", "contact1_name"),
    ("Contact 1 Telephone", "contact1_phone"), ("TELEPHONE (CONTACT 1)", "contact1_phone"),
    ("Primary Contact Relationship", "contact1_relationship"), ("Contact 2 Email", "contact2_email"),
    ("Priority 2 Contact", "contact2_name"), ("Post Code", "postcode"), ("Home Address", "address"),
    ("Ethnicity", "ethnicity"), ("Ethnic Group", "ethnicity"), ("Young Carer", "young_carer"),
    ("Family ID", "family_id"), ("Contact ID", "family_id"), ("Social Worker", "social_worker"),
    ("Child Protection Plan", "cp"), ("Child in Need", "cin"), ("Vulnerable Pupil", "vulnerable"),
    ("Custom Flags", "flags"),
])
def test_headers_are_matched_by_meaning_whatever_their_case_spacing_and_word_order(header, meaning):
    assert meaning_of(header) == meaning


def test_a_roll_with_contacts_address_and_family_id_stores_them(db, load):
    load("roll.csv", roll("Primary Contact Name,Primary Contact Relationship,Contact 1 Telephone,Contact 1 Email,"
                          "Secondary Contact Name,Address,Postcode,Family ID",
                          f'{A},Smith,Ann,7,Jane  Smith,Mother,07700 900123,jane@example.org,Bob Smith,'
                          f'"1 High St, Town",ab1 2cd,F001'))
    pupil = stored(db)
    assert (pupil["contact1_name"], pupil["contact1_relationship"], pupil["contact1_phone"]) == (
        "Jane Smith", "Mother", "07700 900123")
    assert (pupil["contact1_email"], pupil["contact2_name"]) == ("jane@example.org", "Bob Smith")
    assert (pupil["address"], pupil["postcode"], pupil["family_id"]) == ("1 High St, Town", "AB1 2CD", "F001")


def test_a_phone_number_that_lost_its_leading_zero_in_excel_gets_it_back(db, load):
    load("roll.csv", roll("Contact 1 Telephone", f"{A},Smith,Ann,7,7700900123"))
    assert stored(db)["contact1_phone"] == "07700900123"


@pytest.mark.parametrize(("written", "code"), [
    ("WROM", "WROM"), ("wirt", "WIRT"), ("Gypsy/Roma", "WROM"), ("Traveller of Irish heritage", "WIRT"),
    ("White - British", "WBRI"), ("WENG", "WBRI"), ("Black - African", "BAFR"), ("Refused", "REFU"), ("", ""),
])
def test_ethnicity_is_stored_as_the_dfe_main_code(written, code):
    assert characteristics.ethnicity_code(written) == code


def test_gypsy_roma_and_irish_traveller_pupils_are_one_group():
    assert characteristics.GYPSY_ROMA_TRAVELLER == {"WROM", "WIRT"}


def test_an_ethnicity_we_do_not_know_is_a_warning_and_stored_blank(db, load):
    outcome = load("roll.csv", roll("Ethnicity", f"{A},Smith,Ann,7,Martian"))
    assert outcome.status == "imported"
    assert [p.severity for p in outcome.problems] == ["warning"] and "Martian" in outcome.problems[0].message
    assert stored(db)["ethnicity"] == ""


def test_young_carer_and_vulnerable_read_every_way_of_writing_yes_and_no(db, load):
    load("roll.csv", roll("Young Carer,Vulnerable", f"{A},Smith,Ann,7,Yes,T", f"{B},Jones,Ed,7,,0"))
    assert (stored(db, A)["young_carer"], stored(db, A)["vulnerable"]) == (1, 1)
    assert (stored(db, B)["young_carer"], stored(db, B)["vulnerable"]) == (0, 0)


def test_an_unreadable_yes_or_no_is_a_warning_not_a_rejection(db, load):
    outcome = load("roll.csv", roll("Young Carer", f"{A},Smith,Ann,7,perhaps"))
    assert outcome.status == "imported" and [p.severity for p in outcome.problems] == ["warning"]
    assert stored(db)["young_carer"] == 0


def test_social_worker_status_comes_from_a_status_column(db, load):
    load("roll.csv", roll("Social Worker", f"{A},Smith,Ann,7,Child Protection Plan", f"{B},Jones,Ed,7,CIN"))
    assert (stored(db, A)["social_worker"], stored(db, B)["social_worker"]) == ("CP", "CIN")


def test_social_worker_status_comes_from_separate_cin_and_cp_columns_and_cp_wins(db, load):
    load("roll.csv", roll("CIN,CP", f"{A},Smith,Ann,7,Y,Y", f"{B},Jones,Ed,7,Y,N"))
    assert (stored(db, A)["social_worker"], stored(db, B)["social_worker"]) == ("CP", "CIN")


def test_the_schools_own_flags_come_from_a_flags_column_and_flag_columns(db, load):
    outcome = load("roll.csv", roll("Flags,Flag: Breakfast club", f"{A},Smith,Ann,7,Mentoring; reading,Y",
                                    f"{B},Jones,Ed,7,,N"))
    assert outcome.shape == "pupil_roll"  # a Y/N flag column is not taken for marks
    assert stored(db, A)["flags"] == "Breakfast club; Mentoring; reading"
    assert stored(db, B)["flags"] == ""


def test_a_roll_without_the_new_columns_imports_them_as_blank(db, load):
    outcome = load("roll.csv", roll("Form", f"{A},Smith,Ann,7,7A"))
    assert outcome.status == "imported" and not outcome.problems
    pupil = stored(db)
    assert (pupil["contact1_name"], pupil["ethnicity"], pupil["young_carer"], pupil["flags"]) == ("", "", 0, "")


def test_a_later_roll_without_a_column_leaves_what_an_earlier_roll_said(db, load):
    load("roll1.csv", roll("Ethnicity,Primary Contact Name", f"{A},Smith,Ann,7,WROM,Jane Smith"))
    load("roll2.csv", roll("Form", f"{A},Smith,Ann,7,7B"))
    assert (stored(db)["ethnicity"], stored(db)["contact1_name"], stored(db)["form"]) == ("WROM", "Jane Smith", "7B")


def test_undoing_a_roll_puts_back_the_contacts_it_changed(db, load):
    load("roll1.csv", roll("Primary Contact Name", f"{A},Smith,Ann,7,Jane Smith"))
    load("roll2.csv", roll("Primary Contact Name", f"{A},Smith,Ann,7,John Smith"))
    undo_last_import(db, "officer")
    assert stored(db)["contact1_name"] == "Jane Smith"


def test_the_pupils_frame_leaves_contact_details_out_unless_asked(db, load):
    load("roll.csv", roll("Primary Contact Name,Address", f"{A},Smith,Ann,7,Jane Smith,1 High St"))
    assert not set(characteristics.CONTACT_FIELDS) & set(store.pupils_frame(db).columns)
    assert set(characteristics.CONTACT_FIELDS) <= set(store.pupils_frame(db, contacts=True).columns)


def test_a_viewer_never_gets_contact_details_and_case_roles_do(db, load):
    load("roll.csv", roll("Primary Contact Name", f"{A},Smith,Ann,7,Jane Smith"))
    with pytest.raises(cases.CaseError):
        families.contacts(db, auth.Viewer("governor", "viewer"))
    for role in ("admin", "attendance_officer", "pastoral_lead", "head_of_section"):
        assert families.contacts(db, auth.Viewer("x", role))["contact1_name"].tolist() == ["Jane Smith"]
