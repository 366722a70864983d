"""A trust's store (issue 18): every screen and download a school's staff may open shows only
their own school's pupils; the trust roles see every school (a hub lead: their hub's).

Two schools in one store (tests/trust_school.py), case work for every pupil; each login
draws each screen it may open with a pupil of the other school open, and everything drawn
and every download is searched for the other school's pupils (tests/test_access.py's search).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from streamlit.delta_generator import DeltaGenerator

from app_pages.ui import access
from core import auth, cases, menu, store
from tests.app_school import copied_school, quick_hashes, signed_in, the_apps_store  # noqa: F401 (fixtures)
from tests.test_access import NOTE, download_text, everything_shown
from tests.trust_school import (FIRST_SURNAMES, PASSWORD, SECOND_SURNAMES, SECOND_UPNS, make_trust,  # noqa: F401
                                trust_store)

# username → the surnames they must never see; a pupil of the other school is the one opened.
SCHOOL_STAFF = {
    "officer": SECOND_SURNAMES,
    "pastoral": SECOND_SURNAMES,
    "viewer": SECOND_SURNAMES,
    "officer2": FIRST_SURNAMES,
    "secondary2": FIRST_SURNAMES + ("Fenton", "Hughes"),  # Secondary at school 2: Gray only
    "north": FIRST_SURNAMES,  # hub North holds school 2 only
}
ROLES = {"officer": auth.ATTENDANCE_OFFICER, "pastoral": auth.PASTORAL_LEAD, "viewer": auth.VIEWER,
         "officer2": auth.ATTENDANCE_OFFICER, "secondary2": auth.HEAD_OF_SECTION, "north": auth.HUB_LEAD}
CASES = [(u, s) for u, role in ROLES.items() for s in (x.id for x in menu.screens_for(role, schools=2))]


@pytest.fixture(scope="module")
def _trust_with_cases_once(tmp_path_factory) -> Path:
    """The two schools with a check-in for every pupil and school 2's own administrator (head2),
    written once for the module: its tests only read it (as test_access's school), so one
    test's figures are cached for the next."""
    path = copied_school("trust", make_trust, tmp_path_factory.mktemp("trust_with_cases"))
    with store.opened(path) as db, pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "HASH_ROUNDS", 4)
        auth.add_user(db, "head2", "Hana Head", "trust-test-pw-1", auth.ADMIN, schools=[2], by="test")
        writer = auth.Viewer("admin", auth.ADMIN)
        for pupil_id, surname in db.execute("SELECT id, surname FROM pupils").fetchall():
            cases.open_intervention(db, writer, pupil_id, "First-day call", "admin", date(2025, 9, 16),
                                    summary=f"{NOTE} action {surname}", check_in_on=date(2025, 9, 17))
    return path


@pytest.fixture
def trust_with_cases(_trust_with_cases_once, monkeypatch, quick_hashes) -> Path:
    return the_apps_store(_trust_with_cases_once, monkeypatch)


def pupil_id_of(path, surname: str) -> int:
    with store.opened(path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


@pytest.mark.parametrize(("username", "screen"), CASES)
def test_each_screen_and_download_shows_a_schools_staff_only_their_school(trust_with_cases, downloads, username,
                                                                            screen):
    unseen = SCHOOL_STAFF[username]
    other = "Clarke" if "Clarke" in unseen else "Fenton"
    app = signed_in(username, screen, pupil_id=pupil_id_of(trust_with_cases, other))
    assert not app.exception, [e.value for e in app.exception]
    shown = everything_shown(app, downloads)
    for surname in unseen:
        assert surname not in shown, f"{username} saw {surname} on {screen}"
    if username in ("officer", "pastoral", "viewer"):
        assert not any(upn in shown for upn in SECOND_UPNS), f"{username} saw a UPN of school 2 on {screen}"


@pytest.mark.parametrize("screen", [s.id for s in menu.screens_for(auth.ADMIN, schools=2)])
def test_each_screen_and_download_shows_a_schools_own_administrator_only_their_school(trust_with_cases, downloads,
                                                                                       screen):
    app = signed_in("head2", screen, pupil_id=pupil_id_of(trust_with_cases, "Clarke"))
    assert not app.exception, [e.value for e in app.exception]
    shown = everything_shown(app, downloads)
    assert not [s for s in FIRST_SURNAMES if s in shown], f"head2 saw a school-1 pupil on {screen}"


def test_the_search_above_would_see_a_leak(trust_with_cases, downloads):
    """The trust lead, on Below 90%, sees pupils of both schools, on the page and in its download."""
    app = signed_in("lead", "below_90")
    shown = everything_shown(app, downloads)
    assert "Clarke" in shown and "Fenton" in shown
    assert downloads and "Fenton" in download_text(downloads[-1]) and "Clarke" in download_text(downloads[-1])


def test_the_trust_lead_sees_both_schools_side_by_side(trust_with_cases):
    app = signed_in("lead", "trust")
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value
    assert list(table["School"]) == ["Test Academy", "Second Primary", "All schools", "National (state-funded schools)"]
    assert list(table["Pupils"][:3]) == [4, 3, 7]  # compulsory school age: Dunn (sixth form) is not counted
    # Second Primary: 8 O + 4 N of 60 sessions absent, so 80.0% attendance; Fenton (60%) and Hughes (80%) PA.
    second = table[table["School"] == "Second Primary"].iloc[0]
    assert second["Attendance %"] == 80.0 and second["PA %"] == pytest.approx(66.7)
    assert second["Check-ins overdue"] == 3 and table[table["School"] == "All schools"].iloc[0]["Check-ins overdue"] == 8
    # The national row has no pupils, triggers or check-ins: those cells are blank, not a grey "None".
    assert pd.isna(table.iloc[-1]["Pupils"]) and app.dataframe[0].proto.HasField("placeholder")
    assert app.dataframe[0].proto.placeholder == ""


def test_a_hub_lead_sees_only_their_hubs_schools_on_the_trust_screen(trust_with_cases):
    table = signed_in("north", "trust").dataframe[0].value
    assert list(table["School"])[:2] == ["Second Primary", "All schools"]


def test_choosing_a_school_on_the_trust_screen_scopes_the_other_screens(trust_with_cases):
    app = signed_in("lead", "trust")
    app.selectbox(key="trust_school_choice").select(2).run()
    app.switch_page(menu.BY_ID["below_90"].file).run()
    shown = everything_shown(app, [])
    assert "Fenton" in shown and "Clarke" not in shown


def test_a_school_user_is_refused_case_work_for_another_schools_pupil(trust_store):
    officer2 = auth.Viewer("officer2", auth.ATTENDANCE_OFFICER, school_ids=(2,))
    with store.opened(trust_store) as db, pytest.raises(cases.CaseError, match="not at your school"):
        cases.log_contact(db, officer2, pupil_id_of(trust_store, "Clarke"), "call", date(2025, 9, 18), "mother")


@pytest.mark.parametrize(("username", "lands_on"), [("lead", "Trust"), ("admin", "Trust"), ("officer", "Overview"),
                                                   ("officer2", "Overview"),
                                                   ("north", "Overview")])  # hub North: one school
def test_a_login_seeing_several_schools_lands_on_the_trust_screen_a_schools_on_its_overview(trust_store, username,
                                                                                          lands_on):
    app = signed_in(username)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == lands_on
    assert menu.home_for(auth.ADMIN, schools=1, sees_several=True) == "overview"  # one school: no Trust screen


@pytest.mark.parametrize(("username", "lands_on"), [("lead", "Trust"), ("officer2", "Overview")])
def test_signing_in_at_the_home_address_lands_on_the_users_home(trust_store, username, lands_on):
    """Through the login form, as a browser does: the form at the home address is a page of
    its own, so the run after signing in opens the user's home, not the Overview's address."""
    from tests.test_app_login import sign_in_with

    app = sign_in_with(signed_in(None), username, PASSWORD)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == lands_on


def test_the_trust_screen_is_not_in_a_one_school_stores_menu():
    assert "trust" not in [s.id for s in menu.screens_for(auth.ADMIN)]
    assert "trust" in [s.id for s in menu.screens_for(auth.ADMIN, schools=2)]
    assert [s.id for s in menu.screens_for(auth.TRUST_LEAD, schools=2)] == [
        "overview", "below_90", "patterns", "pupil", "casework", "reports", "trust"]


def test_an_upload_by_a_schools_officer_goes_to_their_school_and_their_history_only(trust_store):
    from tests.conftest import roll_csv
    from tests.trust_school import make_upn

    app = signed_in("officer2", "upload")
    assert set(app.dataframe[0].value["File"]) == {"second_roll.csv", "second_marks.csv"}  # not school 1's imports
    roll = roll_csv({"upn": make_upn(201), "surname": "Ingram", "forename": "Ivy", "year_group": "3"})
    app.file_uploader[0].set_value([("new_roll.csv", (roll + "\n").encode(), "text/csv")]).run()
    app.button(key="import_files").click().run()
    assert not app.exception
    with store.opened(trust_store) as db:
        assert db.execute("SELECT school_id FROM pupils WHERE surname = 'Ingram'").fetchone() == (2,)


def test_an_upload_naming_another_school_is_refused_for_a_schools_officer(trust_store):
    from tests.trust_school import second_marks

    app = signed_in("officer", "upload")
    app.file_uploader[0].set_value([("theirs.csv", second_marks().replace("/,", "\\,").encode(), "text/csv")]).run()
    app.button(key="import_files").click().run()
    assert any("is from Second Primary (999/4002), which is not your school; nothing was imported" in w.value
               for w in app.warning), [w.value for w in app.warning]
    with store.opened(trust_store) as db:
        assert db.execute("SELECT COUNT(*) FROM imports WHERE file_name = 'theirs.csv'").fetchone() == (0,)


def test_one_schools_meeting_is_not_on_another_schools_record(trust_store):
    from core import meetings

    officer = auth.Viewer("officer", auth.ATTENDANCE_OFFICER, school_ids=(1,))
    with store.opened(trust_store) as db:
        meetings.start_meeting(db, officer, date(2025, 9, 22), scope="Test Academy")
    assert "Meetings on record (1)" in everything_shown(signed_in("officer", "meeting"), [])
    assert "Meetings on record" not in everything_shown(signed_in("officer2", "meeting"), [])


def test_each_schools_vulnerable_group_gap_is_the_groups_attendance_minus_the_others():
    import pandas as pd

    from core import trust

    listed = pd.DataFrame({"id": [1, 2], "name": ["A", "B"], "dfe_number": ["", ""], "hub": ["", ""]})
    figures = pd.DataFrame({
        "pupil_id": [1, 2, 3, 4], "possible_sessions": [10, 10, 10, 10], "attendance_sessions": [6, 10, 9, 9],
        "authorised_sessions": [0, 0, 1, 1], "unauthorised_sessions": [4, 0, 0, 0], "missing_marks": [0] * 4,
        "persistently_absent": [True, False, False, False], "severely_absent": [False] * 4,
        "pp": [1, 0, 0, 0], "fsm": [0] * 4, "sen": ["N"] * 4, "cla": [0] * 4, "eal": [0] * 4,
        "social_worker": [""] * 4, "flags": [""] * 4})
    gaps = trust.group_gaps(listed, figures, pd.Series([1, 1, 2, 2], index=[1, 2, 3, 4]))
    assert gaps[["school", "group", "pupils_in_group"]].values.tolist() == [["A", "PP", 1]]
    assert gaps["gap_points"].iloc[0] == pytest.approx(60.0 - 100.0)


@pytest.mark.parametrize(("username", "chosen", "named"), [
    ("officer2", None, "Second-Primary"),  # a school's staff: their school
    ("officer", None, "Test-Academy"),
    ("north", None, "Second-Primary"),  # hub North holds school 2 only
    ("lead", None, "Trust"),  # every school
    ("lead", (2, "Second Primary"), "Second-Primary"),  # one school chosen on the Trust screen
])
def test_a_download_is_named_for_the_school_it_shows(trust_with_cases, monkeypatch, username, chosen, named):
    names: list[str] = []
    original = DeltaGenerator.download_button

    def recording(self, label, data, file_name=None, *args, **kwargs):
        names.append(file_name)
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    app = signed_in(username, "below_90", **({access.TRUST_SCHOOL_KEY: chosen} if chosen else {}))
    assert not app.exception, [e.value for e in app.exception]
    listed = [n for n in names if n and n.endswith(".csv")]
    assert listed and all(n.startswith(f"{named}_below-90_") for n in listed), listed


def test_the_trust_report_pdf_names_each_school_and_the_trust(trust_with_cases, downloads):
    app = signed_in("lead", "trust")
    assert not app.exception, [e.value for e in app.exception]
    from tests.test_reports import pdf_text

    made = [d for d in downloads if d.startswith(b"%PDF")]
    assert made, "no PDF made"
    text = " ".join(pdf_text(made[-1]).split())
    assert all(name in text for name in ("Test Academy", "Second Primary", "All schools", "Trust attendance report"))
    assert "Clarke" not in text  # figures only: no pupil is named
