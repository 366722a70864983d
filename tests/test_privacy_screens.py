"""What a shared screen and a viewer may see (issue 14), checked on every screen and view.

In meeting mode (the app on a projector) no screen, view or download shows a pupil's name,
UPN or date of birth, nor a parent's or carer's name. A viewer never gets a parent's or
carer's identity: not on a screen, in a download, in the chronology or in a penalty notice.

The school: the test school of tests/app_school.py with parents' contacts (two for Cody
Clarke, neither with a relationship), this morning's register, case work, contacts "with"
a parent by name, and a penalty notice issued to a parent. Everything each screen sent is
searched — every element (text, tables, widget options) and every download's bytes.
"""

from __future__ import annotations

from datetime import date

import pytest

from core import auth, cases, chronology, data_quality, evidence_pack, meetings, metrics, penalty_notices, privacy, store
from core.importers import import_file
from tests.app_school import (  # noqa: F401 (fixtures)
    FORENAMES, PUPIL_NAMES, add_cases, copied_school, make_calling_school, quick_hashes, set_meeting_mode, signed_in,
    the_apps_store, upn,
)
from tests.test_access import download_text, everything_shown

# Cody Clarke's two contacts, neither with a relationship: Today offers a choice of whom to call.
SECOND_ROLL = "\n".join([
    "UPN,Surname,Forename,Primary Contact Name,Primary Contact Relationship,Secondary Contact Name,"
    "Secondary Contact Relationship",
    f"{upn(3)},Clarke,Cody,Carla Quince,,Colin Quince,",
])
PARENTS = ("Fatima", "Carla", "Colin", "Quince", "Dee Dunn", "Ben Brown")  # parents' and carers' names
DATES_OF_BIRTH = ("2014-01-15", "15/01/2014", "2018-03-01", "01/03/2018", "2009-05-01", "01/05/2009",
                  "2012-02-02", "02/02/2012")
UPNS = tuple(upn(n) for n in range(1, 6))
FRIDAY = date(2025, 9, 19)


def privacy_school_build(db_path, exports) -> None:
    make_calling_school(db_path, exports)
    second = exports / "contacts_2.csv"
    second.write_text(SECOND_ROLL + "\n", encoding="utf-8")
    add_cases(db_path)
    officer = auth.Viewer("officer", auth.ATTENDANCE_OFFICER)
    with store.opened(db_path) as db:
        import_file(db, second, "officer")
        ids = dict(db.execute("SELECT surname, id FROM pupils").fetchall())
        cases.log_contact(db, officer, ids["Clarke"], "call", date(2025, 9, 17), "Carla Quince (mother)",
                          summary="Carla says Cody Clarke is unwell")  # names typed into a note
        cases.log_contact(db, officer, ids["Ahmed"], "meeting", date(2025, 9, 18), "Fatima Ahmed",
                          summary="Met at school")
        penalty_notices.record_penalty_notice(db, officer, ids["Clarke"], "Carla Quince", date(2025, 9, 17))
        lead = auth.Viewer("pastoral", auth.PASTORAL_LEAD)  # a meeting with minutes (and their downloads)
        meeting = meetings.start_meeting(db, lead, FRIDAY, ["Priya Pastoral"])
        meetings.record_decision(db, lead, meeting, ids["Clarke"], "family_meeting", "officer", date(2025, 10, 3),
                                 note="Invite Carla Quince")


@pytest.fixture
def privacy_school(tmp_path, monkeypatch, quick_hashes):
    return the_apps_store(copied_school("privacy", privacy_school_build, tmp_path), monkeypatch)


@pytest.fixture(scope="module")
def _views_school_once(tmp_path_factory):
    return copied_school("privacy", privacy_school_build, tmp_path_factory.mktemp("privacy_views"))


@pytest.fixture
def views_school(_views_school_once, monkeypatch, quick_hashes):
    """The school, one store for the module's two matrices of views: they only read it (the
    first draws every view as the administrator in meeting mode, the second as the viewer,
    whose meeting mode stays off), so one view's figures are cached for the next."""
    return the_apps_store(_views_school_once, monkeypatch)


def pupil_id(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


def private_in(text: str, parents_only: bool = False) -> list[str]:
    """The names, UPNs and dates of birth found in `text` (only parents' names with `parents_only`)."""
    words = PARENTS if parents_only else (*PUPIL_NAMES, *FORENAMES, *UPNS, *DATES_OF_BIRTH, *PARENTS)
    return [word for word in words if word in text]


def drawn(username: str, screen: str, **state):
    app = signed_in(username, screen, **state)
    assert not app.exception, [e.value for e in app.exception]
    return app


# Every screen, and every view of a screen that has several (its session-state choice).
VIEWS = [
    ("overview", {}), ("below_90", {}), ("patterns", {}),
    ("pupil", {"pupil": "Clarke"}), ("pupil", {"pupil": "Ahmed"}),
    ("today", {"t_show": "all"}),
    *[("casework", {"cw_show": show}) for show in ("mine", "overdue", "no_action", "reviews", "penalties", "impact")],
    ("families", {"fam_pupil": "Clarke"}), ("families", {"fam_pupil": "Ahmed"}),
    ("letters", {}), ("meeting", {"meeting_date": FRIDAY}),
    *[("reports", {"report_kind": kind, "pack_pupil": "Clarke"}) for kind in ("statistics", "section", "pack")],
    *[("data_quality", {"dq_check": check}) for check in data_quality.CHECKS],
    ("upload", {}), ("admin", {}),
]


def state_for(school, state: dict) -> dict:
    """The view's session state, pupils named by surname turned into their ids."""
    named = {"pupil": "pupil_id", "fam_pupil": "fam_pupil", "pack_pupil": "pack_pupil"}
    return {named.get(k, k): pupil_id(school, v) if k in named else v for k, v in state.items()}


def view_id(view) -> str:
    screen, state = view
    return "-".join([screen, *map(str, state.values())])


@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_in_meeting_mode_no_screen_view_or_download_shows_a_name_upn_date_of_birth_or_parent(
        views_school, downloads, view):
    screen, state = view
    app = drawn("admin", screen, meeting_mode=True, **state_for(views_school, state))
    shown = everything_shown(app, downloads)
    assert private_in(shown) == [], f"{screen} {state} in meeting mode"
    assert "Meeting mode is on" in shown  # and it says so


def test_the_meeting_mode_check_would_see_a_leak(privacy_school, downloads):
    """Outside meeting mode the same views show what the check above looks for."""
    app = drawn("admin", "today", t_show="all")
    shown = everything_shown(app, downloads)
    assert {"Clarke", "Carla", "Colin"} <= set(private_in(shown))
    app = drawn("admin", "data_quality", dq_check=data_quality.MISSING_MARKS)
    assert upn(2) in everything_shown(app, downloads)
    app = drawn("admin", "pupil", pupil_id=pupil_id(privacy_school, "Clarke"))
    assert "Carla Quince" in everything_shown(app, [])
    downloads.clear()
    app = drawn("admin", "meeting", meeting_date=FRIDAY)
    assert [b.proto.label for b in app.get("download_button")][:2] == ["Minutes (PDF)", "Minutes (CSV)"]
    assert "Clarke" in download_text(downloads[1])
    assert "Meeting mode is on" not in everything_shown(app, [])


def test_today_in_meeting_mode_offers_the_contacts_without_their_names(privacy_school):
    app = drawn("officer", "today", meeting_mode=True, t_show="all")
    clarke = pupil_id(privacy_school, "Clarke")
    choice = app.segmented_control(key=f"whom_{clarke}")
    assert list(choice.options) == ["Calling contact 1", "Calling contact 2"]
    assert any("Contacts hidden in meeting mode" in m.value for m in app.markdown)


def test_data_quality_in_meeting_mode_lists_initials_and_form_without_the_upn(privacy_school, downloads):
    app = drawn("officer", "data_quality", meeting_mode=True, dq_check=data_quality.MISSING_MARKS)
    table = app.dataframe[0].value
    assert "UPN" not in table.columns and "B. B." in set(table["Pupil"])
    assert downloads and all(upn(2) not in download_text(made) for made in downloads)


# --- viewers: no parent or carer identity anywhere -----------------------------------------------

VIEWER_VIEWS = [view for view in VIEWS if view[0] in {"overview", "below_90", "patterns", "pupil", "casework",
                                                        "reports"}]


@pytest.mark.parametrize("view", VIEWER_VIEWS, ids=view_id)
def test_a_viewer_sees_no_parent_or_carer_on_any_screen_view_or_download(views_school, downloads, view):
    screen, state = view
    app = drawn("viewer", screen, **state_for(views_school, state))
    assert private_in(everything_shown(app, downloads), parents_only=True) == [], f"{screen} {state}"


def test_a_viewer_sees_the_penalty_notices_without_the_parent(privacy_school, downloads):
    app = drawn("viewer", "casework", cw_show="penalties")
    tables = [frame.value for frame in app.dataframe]
    assert tables and all("Parent" not in t.columns for t in tables)
    assert "C. C." not in str(tables) and any("Clarke, Cody" in t.to_string() for t in tables)  # names stay
    assert downloads and all("Quince" not in download_text(made) for made in downloads)


def test_the_officer_sees_the_penalty_notices_parent(privacy_school):
    """So the check above would see the parent if it were shown."""
    app = drawn("officer", "casework", cw_show="penalties")
    assert any("Carla Quince" in frame.value.to_string() for frame in app.dataframe)


def test_a_viewers_chronology_says_what_kind_of_contact_but_not_with_whom(privacy_school):
    pupil = pupil_id(privacy_school, "Clarke")
    with store.opened(privacy_school) as db:
        seen_by_viewer = chronology.chronology(db, auth.Viewer("viewer", auth.VIEWER), pupil, FRIDAY)
        seen_by_officer = chronology.chronology(db, auth.Viewer("officer", auth.ATTENDANCE_OFFICER), pupil, FRIDAY)
    assert "Phone call" in seen_by_viewer["what"].tolist()
    assert "Phone call with Carla Quince (mother)" in seen_by_officer["what"].tolist()
    assert private_in(seen_by_viewer.to_string(), parents_only=True) == []


def test_on_a_shared_screen_the_chronology_names_no_parent_even_in_notes(privacy_school):
    pupil = pupil_id(privacy_school, "Clarke")
    shared = auth.Viewer("officer", auth.ATTENDANCE_OFFICER, shared_screen=True)
    with store.opened(privacy_school) as db:
        events = chronology.chronology(db, shared, pupil, FRIDAY)
    assert any(note.startswith("Issued to the parent/carer:") for note in events["note"].fillna(""))
    assert "the parent/carer says C. C. is unwell" in events["note"].tolist()
    assert private_in(events.to_string()) == []


def test_a_viewers_evidence_pack_names_no_parent(privacy_school):
    """The pack is for case work; were it made for a viewer, it would still name no parent."""
    pupil = pupil_id(privacy_school, "Clarke")
    period = metrics.Period(date(2025, 9, 1), date(2025, 9, 22))
    reader = auth.Viewer("viewer", auth.VIEWER)
    with store.opened(privacy_school) as db:
        pack = evidence_pack.evidence_pack(db, reader, pupil, period)
    made = [evidence_pack.evidence_pack_pdf(pack, False), evidence_pack.evidence_pack_frame(pack, False).to_csv()]
    assert "Phone call" in pack.chronology["entry"].tolist()
    assert private_in(pack.chronology.to_string(), parents_only=True) == []
    assert private_in(download_text(made[0]) + made[1], parents_only=True) == []


def test_a_viewers_penalty_notices_keep_every_figure_but_not_the_parent(privacy_school):
    reader, officer = auth.Viewer("viewer", auth.VIEWER), auth.Viewer("officer", auth.ATTENDANCE_OFFICER)
    with store.opened(privacy_school) as db:
        history = penalty_notices.penalty_notice_history(db, reader)
        summary = penalty_notices.penalty_notices(db, reader, FRIDAY)
        officers = penalty_notices.penalty_notices(db, officer, FRIDAY)
    assert set(history["parent"]) == {penalty_notices.PARENT_NOT_SHOWN} and set(history["parent_key"]) == {"p1"}
    assert summary["parent"].tolist() == [penalty_notices.PARENT_NOT_SHOWN]
    assert officers["parent"].tolist() == ["Carla Quince"]
    assert summary.drop(columns="parent").equals(officers.drop(columns="parent"))


def test_meeting_mode_is_kept_per_user_and_audited(privacy_school):
    set_meeting_mode("pastoral", True)
    with store.opened(privacy_school) as db:
        assert auth.get_user(db, "pastoral").meeting_mode and not auth.get_user(db, "officer").meeting_mode
        entries, _ = store.audit_log(db, action="user.meeting_mode")
    assert entries[["username", "entity_id"]].values.tolist() == [["pastoral", "pastoral"]]
    assert entries["detail"].iloc[0] == {"old": False, "new": True}


def test_the_sidebar_toggle_turns_meeting_mode_on_for_the_user_in_the_store(privacy_school):
    app = drawn("pastoral", "below_90")
    app.toggle(key="meeting_mode").set_value(True).run()
    with store.opened(privacy_school) as db:
        assert auth.get_user(db, "pastoral").meeting_mode
    fresh = drawn("pastoral", "below_90")  # a new session of the same user: a reload, a new tab
    assert fresh.toggle(key="meeting_mode").value is True
    assert "A. A." in fresh.dataframe[0].value.to_string() and "Ahmed" not in fresh.dataframe[0].value.to_string()


def test_in_meeting_mode_the_penalty_notice_form_names_no_parent(privacy_school):
    app = drawn("officer", "pupil", meeting_mode=True, pupil_id=pupil_id(privacy_school, "Clarke"))
    app.button(key="pupil_log_action").click().run()
    app.selectbox(key="cf_type").set_value("Penalty notice").run()
    assert any("recorded outside meeting mode" in i.value for i in app.info)
    assert private_in(everything_shown(app, []), parents_only=True) == []
    set_meeting_mode("officer", False)
    app.run()  # the same dialog outside meeting mode offers the parents from the roll
    assert "Carla Quince" in app.selectbox(key="cf_parent").options


def test_the_officers_evidence_pack_names_who_each_contact_was_with(privacy_school):
    """The pack leaves the school without sensitive notes, but with the contacts the LA needs."""
    pupil = pupil_id(privacy_school, "Clarke")
    period = metrics.Period(date(2025, 9, 1), date(2025, 9, 22))
    with store.opened(privacy_school) as db:
        pack = evidence_pack.evidence_pack(db, auth.Viewer("pastoral", auth.PASTORAL_LEAD), pupil, period)
    assert "Phone call with Carla Quince (mother)" in pack.chronology["entry"].tolist()


def test_a_note_on_a_shared_screen_shows_initials_for_the_pupil_and_no_parent():
    known = privacy.name_replacements("Ahmed", "Amir", ["Fatima Ahmed", "Omar"])
    assert privacy.without_names("Amir Ahmed's mother Fatima Ahmed rang; OMAR will call. Amirah is fine.", known) \
        == "A. A.'s mother the parent/carer rang; the parent/carer will call. Amirah is fine."
    assert privacy.without_names("Spoke to Ahmed, Amir and to Fatima", known) == "Spoke to A. A. and to the parent/carer"


def test_when_the_store_refuses_the_toggle_says_so_and_meeting_mode_stays_as_stored(privacy_school, monkeypatch):
    def refuse(*args, **kwargs):
        raise store.StoreError("the database is busy")

    app = drawn("pastoral", "below_90")
    monkeypatch.setattr(auth, "set_meeting_mode", refuse)
    app.toggle(key="meeting_mode").set_value(True).run()
    assert not app.exception
    assert any("Meeting mode could not be changed" in e.value for e in app.error)
    assert app.toggle(key="meeting_mode").value is False  # as the store still holds it
