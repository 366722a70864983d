"""Every screen, for every role, shows only what the role may see — on the page and in every
download (DESIGN.md "Roles"; UK GDPR: children's data on a need-to-know basis).

The screens and their roles are read from core/menu.py, so a screen added later is
checked the moment it is registered. For each demo login and each
screen it may open, the screen is drawn with a pupil outside the head of section's
sections open, and everything the app sent — every element (text, tables, charts, widget
options), and the bytes of every download (made by calling it) — is searched:
  - a head of section sees no pupil outside their sections, and no sensitive note;
  - a viewer sees no case note of any kind (summaries, outcomes, check-in notes);
  - the attendance officer sees no sensitive note;
and a screen a role may not open is not in its navigation at all, and refuses when run
directly.
"""

from __future__ import annotations

import io
import re
import zlib
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from core import auth, cases, menu, store
from tests.app_school import (PUPILS, ROOT, copied_school, hold_session, make_school, quick_hashes, school,  # noqa: F401
                              signed_in, the_apps_store, upn)

# Marker text written into the case records of every pupil, so a leak can be searched for.
NOTE, SENSITIVE = "CASE-NOTE", "SENSITIVE-NOTE"


SCREENS = {screen.id: screen.file for screen in menu.SCREENS}
LOGINS = {username: (role, sections) for username, _, _, role, sections in auth.DEMO_LOGINS}
SECTION_OF = store.section_of_year_groups(store.DEFAULT_SETTINGS)


def pupils_outside(sections: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(surname, forename, UPN) of the test school's pupils in none of `sections`."""
    return [(p["surname"], p["forename"], upn(i)) for i, p in enumerate(PUPILS, start=1)
            if SECTION_OF[p["year_group"]] not in sections]


@pytest.fixture(scope="module")
def _case_school_once(tmp_path_factory) -> Path:
    """The test school with case work for every pupil: an action, a contact and a check-in,
    each with a note and a sensitive note that name the pupil. Written once for the module:
    its tests only read it (a sign-in's session row and a download's audit entry are all they
    add, and no screen a test checks shows either), so the figures one test's screen reads
    are still cached for the next test's."""
    school = copied_school("school", make_school, tmp_path_factory.mktemp("case_school"))
    with store.opened(school) as db:
        writer = auth.Viewer("pastoral", auth.PASTORAL_LEAD)
        for pupil_id, surname in db.execute("SELECT id, surname FROM pupils").fetchall():
            action = cases.open_intervention(
                db, writer, pupil_id, "First-day call", "pastoral", date(2025, 9, 16),
                summary=f"{NOTE} action {surname}", sensitive_note=f"{SENSITIVE} action {surname}",
                check_in_on=date(2025, 9, 18))
            cases.log_contact(db, writer, pupil_id, "call", date(2025, 9, 16), "mother",
                              summary=f"{NOTE} contact {surname}", sensitive_note=f"{SENSITIVE} contact {surname}",
                              intervention_id=action)
            checkin = db.execute("SELECT id FROM checkins WHERE intervention_id = ?", (action,)).fetchone()[0]
            cases.complete_checkin(db, writer, checkin, date(2025, 9, 18), f"{NOTE} outcome {surname}",
                                   note=f"{NOTE} check-in {surname}")
    return school


@pytest.fixture
def case_school(_case_school_once, monkeypatch, quick_hashes) -> Path:
    """The module's school with its case work, as the store the app opens."""
    return the_apps_store(_case_school_once, monkeypatch)


def download_text(content: bytes) -> str:
    """The text a download holds: a workbook's cells, a PDF's (deflated) content, or the file as text."""
    if content.startswith(b"PK"):
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
                         if cell is not None)
    if content.startswith(b"%PDF"):
        streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S)
        parts = [content.decode("latin-1")]
        for stream in streams:
            try:
                parts.append(zlib.decompress(stream).decode("latin-1"))
            except zlib.error:
                pass
        return "\n".join(parts)
    return content.decode("utf-8-sig", errors="replace")


def everything_shown(app: AppTest, made: list[bytes]) -> str:
    """Every element the app drew (all of its fields, table data included) and every download."""
    parts = [str(node.proto) for node in app._tree if getattr(node, "proto", None) is not None]
    parts += [frame.value.to_string() for frame in app.dataframe]
    parts += [download_text(content) for content in made]
    return "\n".join(parts)


def drawn(username: str, screen: str, school_path, **state) -> AppTest:
    app = signed_in(username, screen, **state)
    assert not app.exception, [e.value for e in app.exception]
    return app


def pupil_id_of(school_path, surname: str) -> int:
    with store.opened(school_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


ROLE_SCREENS = [(username, screen) for username, (role, _) in LOGINS.items() for screen in SCREENS
                if menu.may_open(role, screen)]


@pytest.mark.parametrize(("username", "screen"), ROLE_SCREENS)
def test_each_screen_and_download_shows_a_role_only_what_it_may_see(case_school, downloads, username, screen):
    role, sections = LOGINS[username]
    outside = pupils_outside(sections) if role == auth.HEAD_OF_SECTION else []
    # A pupil outside the head of section's sections is the one open (on screens showing one).
    app = drawn(username, screen, case_school, pupil_id=pupil_id_of(case_school, "Clarke"))
    shown = everything_shown(app, downloads)

    for surname, forename, pupil_upn in outside:
        assert surname not in shown and pupil_upn not in shown, f"{username} saw {forename} {surname} on {screen}"
    if not auth.Viewer(username, role).sees_notes:
        assert NOTE not in shown, f"{username} saw a case note on {screen}"
    if not auth.Viewer(username, role).sees_sensitive:
        assert SENSITIVE not in shown, f"{username} saw a sensitive note on {screen}"


def test_the_checks_above_would_see_a_leak(case_school, downloads):
    """The search covers tables and downloads: as the administrator, every pupil, note and
    sensitive note of the test school is found on the list and in its download."""
    app = drawn("admin", "below_90", case_school)
    shown = everything_shown(app, downloads)
    assert "Clarke" in shown and upn(3) in shown
    assert downloads and "Clarke" in download_text(downloads[-1])


@pytest.mark.parametrize(("username", "screen"), [(u, s) for u, (role, _) in LOGINS.items() for s in SCREENS
                                                  if not menu.may_open(role, s)])
def test_a_screen_a_role_may_not_open_is_not_in_its_navigation_and_refuses_when_run(case_school, username, screen):
    app = signed_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(SCREENS[screen])
    page = AppTest.from_file(str(ROOT / SCREENS[screen]), default_timeout=30)
    hold_session(page, username)
    page.run()
    assert "cannot open this page" in page.error[0].value
    assert not page.dataframe and "Clarke" not in str([str(n.proto) for n in page._tree if getattr(n, "proto", None)])


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_screen_shows_nothing_to_a_visitor_who_is_not_signed_in(case_school, screen):
    page = AppTest.from_file(str(ROOT / SCREENS[screen]), default_timeout=30).run()
    assert [w.value for w in page.warning] == ["Please sign in to see this page."]
    shown = "\n".join(str(n.proto) for n in page._tree if getattr(n, "proto", None) is not None)
    assert not any(p["surname"] in shown for p in PUPILS) and NOTE not in shown


@pytest.mark.parametrize(("username", "pupils"), [("secondary", 3), ("admin", 5)])
def test_the_figures_a_head_of_section_sees_count_only_their_sections_pupils(school, username, pupils):
    """Aggregates name nobody, so they are checked by their counts: the test school's Secondary
    section has three pupils (Ahmed, Brown, Evans) of its five."""
    overview = " ".join(c.value for c in drawn(username, "overview", school).caption)
    patterns = " ".join(c.value for c in drawn(username, "patterns", school).caption)
    assert re.search(rf"· {pupils} pupils", patterns), patterns
    if username == "admin":
        assert "· 4 pupils of compulsory school age" in overview  # Dunn, in the sixth form, is not
    else:
        assert f"· {pupils} pupils of compulsory school age — Secondary only" in overview
