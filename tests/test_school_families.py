"""A school's families and first-day calls on a trust's store (issue 18): given one school's
pupils, each core function gives the whole store's answer for those pupils — families that
reach into another school included — and reads no other school's pupils beyond those in
their families or sharing a key with them; the Families and Today screens of a school's user
ask only for their own pupils.

The store: two schools. School 1's pupils are a1…a22, school 2's b1…b11 (the numbers below).

| pupils                    | what links them                                                        |
|---------------------------|------------------------------------------------------------------------|
| a1 (1), b1 (2)            | family id F1 at both: each school's MIS numbers its own — not a family |
| a2 (1), b2 (2)            | a link confirmed across the schools                                    |
| a3 (1), b3 (2), a4 (1)    | a3–b3 and b3–a4 confirmed: a3 and a4 siblings only through b3          |
|                           | (and a3, a4 share a phone: never suggested, they are one family)       |
| a5, a6 (1)                | family id F5                                                           |
| b4, b5 (2)                | family id F9 — school 2's only                                         |
| a7 (1), b6 (2)            | one phone, written two ways ('+44 (0)7700 900-111' is not plain)       |
| a8, a9 (1), a22 (1, left) | one phone; a22 is off roll                                              |
| a10–a13 (1), b7–b9 (2)    | a care home: one address, surname and phone for 7 pupils — more than   |
|                           | MOST_SHARING_A_KEY over the store (4 in school 1 alone would be few)    |
| a14 (1), b10 (2)          | one email, in two cases and with a space                               |
| a15, a16 (1)              | one email with an accent, in two cases                                  |
| a17, a18 (1)              | O'Brien / OBrien at one address written two ways                       |
| a19 (1), b11 (2)          | Dupont-Éclair / éclair dupont at one accented address, two ways        |
| a20, a21 (1)              | one phone, ruled out as siblings                                        |
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core import auth, families, first_day, metrics, reads, schools, store
from core.importers import import_file
from tests.app_school import quick_hashes, signed_in  # noqa: F401 (fixtures)
from tests.conftest import filled_once, make_upn, marks_csv
from tests.trust_school import SECOND_UPNS, trust_store  # noqa: F401 (fixture)

OFFICER = auth.Viewer("officer", "attendance_officer")
MONDAY = date(2025, 9, 22)
FIRST, SECOND = 22, 11  # pupils in each school
CARE_HOME = {"surname": "Care", "phone": "01632 960999", "address": "Sunny Care Home", "postcode": "ZZ1 1ZZ"}

# Each pupil's roll fields; what the roll cannot carry (a value no import would store as it
# is, off roll) is written into the store after.
PUPILS = {
    "a1": {"family": "F1"}, "b1": {"family": "F1"},
    "a3": {"phone": "07700 900333"}, "a4": {"phone": "07700900333"},
    "a5": {"family": "F5"}, "a6": {"family": "F5"},
    "b4": {"family": "F9"}, "b5": {"family": "F9"},
    "a7": {"phone": "07700 900111"},
    "a8": {"phone": "07700 900222"}, "a9": {"phone": "07700900222"}, "a22": {"phone": "07700 900222"},
    **{f"a{n}": CARE_HOME for n in range(10, 14)}, **{f"b{n}": CARE_HOME for n in range(7, 10)},
    "a14": {"email": "Parent@Example.org"}, "b10": {"email": "parent@example.org"},
    "a15": {"email": "maman@example.org"}, "a16": {"email": "maman@example.org"},
    "a17": {"surname": "O'Brien", "address": "1 High St", "postcode": "AB1 2CD"},
    "a18": {"surname": "OBrien", "address": "1 high st", "postcode": "ab1 2cd"},
    "a19": {"surname": "Dupont", "address": "Flat 2", "postcode": "EG1 1EG"},
    "b11": {"surname": "Dupont", "address": "Flat 2", "postcode": "EG1 1EG"},
    "a20": {"phone": "07700 900444"}, "a21": {"phone": "07700 900444"},
}
# Written as stored values after the import: values that are not plain (read and keyed in Python).
RAW = {
    "b6": {"contact1_phone": "+44 (0)7700 900-111"},
    "a14": {"contact1_email": " PARENT@example.ORG "},
    "a15": {"contact1_email": "MAMAN.É@example.org"}, "a16": {"contact1_email": "maman.é@example.org"},
    "a18": {"address": "1, High St."},
    "a19": {"surname": "Dupont-Éclair", "address": "Flat 2, Rue de l'Église"},
    "b11": {"surname": "éclair dupont", "address": "FLAT 2 RUE DE L'ÉGLISE", "postcode": "eg1 1eg"},
}


def number(name: str) -> int:
    return (0 if name[0] == "a" else 100) + int(name[1:])


def roll(names: list[str]) -> str:
    lines = ["UPN,Surname,Forename,Year,Form,Family ID,Contact 1 Telephone,Contact 1 Email,Address,Postcode"]
    for name in names:
        row = {"surname": f"Surname{name}", "family": "", "phone": "", "email": "", "address": "", "postcode": "",
               **PUPILS.get(name, {})}
        lines.append(",".join([make_upn(number(name)), row["surname"], "Pat", "7", f"7{name[0].upper()}", row["family"],
                               row["phone"], row["email"], row["address"], row["postcode"]]))
    return "\n".join(lines) + "\n"


def register(names: list[str]) -> str:
    """Monday AM: every third pupil an N, every fifth no mark, the rest present."""
    rows = []
    for i, name in enumerate(names):
        mark = "N" if i % 3 == 0 else "" if i % 5 == 0 else "/"
        rows.append((make_upn(number(name)), MONDAY.isoformat(), "AM", mark))
    return marks_csv(rows) + "\n"


@pytest.fixture
@filled_once
def trust(db, tmp_path):
    second = schools.add_school(db, "Second School", "999/4002", by="test").id
    for school_id, names in ((schools.FIRST_SCHOOL, [f"a{n}" for n in range(1, FIRST + 1)]),
                             (second, [f"b{n}" for n in range(1, SECOND + 1)])):
        for kind, text in (("roll", roll(names)), ("marks", register(names))):
            path = tmp_path / f"school{school_id}_{kind}.csv"
            path.write_text(text, encoding="utf-8")
            with schools.routed_to(db, school_id):
                outcome = import_file(db, path, "test")
            assert outcome.status == "imported", outcome.problems[:3]
    ids = ids_of(db)
    with store.transaction(db) as conn:
        for name, fields in RAW.items():
            conn.execute(f"UPDATE pupils SET {', '.join(f'{c} = ?' for c in fields)} WHERE id = ?",
                         (*fields.values(), ids[name]))
        conn.execute("UPDATE pupils SET on_roll = 0 WHERE id = ?", (ids["a22"],))
    families.decide(db, OFFICER, ids["a2"], ids["b2"], confirmed=True)
    families.decide(db, OFFICER, ids["a3"], ids["b3"], confirmed=True)
    families.decide(db, OFFICER, ids["b3"], ids["a4"], confirmed=True)
    families.decide(db, OFFICER, ids["a20"], ids["a21"], confirmed=False)
    return db


def ids_of(db) -> dict[str, int]:
    by_upn = dict(db.execute("SELECT upn, id FROM pupils").fetchall())
    names = [f"a{n}" for n in range(1, FIRST + 1)] + [f"b{n}" for n in range(1, SECOND + 1)]
    return {name: by_upn[make_upn(number(name))] for name in names}


@pytest.fixture
def ids(trust) -> dict[str, int]:
    return ids_of(trust)


SCHOOLS = (1, 2)


def school(db, school_id: int) -> list[int]:
    return schools.pupil_ids_of(db, [school_id])


def pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["pupil_id"].astype(int), frame["sibling_id"].astype(int)))


def touching(frame: pd.DataFrame, pupil_ids) -> pd.DataFrame:
    """The rows of a whole store's pairs that include one of these pupils."""
    keep = frame["pupil_id"].isin(pupil_ids) | frame["sibling_id"].isin(pupil_ids)
    return frame[keep].reset_index(drop=True)


# --- families ------------------------------------------------------------------------------


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_a_schools_family_numbers_are_the_stores_for_its_pupils(trust, school_id):
    everyone = families.families(trust)
    ours = school(trust, school_id)
    expected = everyone[everyone.index.isin(ours)]
    pd.testing.assert_series_equal(families.families(trust, ours), expected)


def test_families_reach_across_the_schools(trust, ids):
    family = families.families(trust, school(trust, 1))
    everyone = families.families(trust)
    assert ids["a1"] not in everyone.index and ids["b1"] not in everyone.index  # one id at two schools: no family
    assert families.family_of(trust, ids["a1"]) == [ids["a1"]]
    assert family[ids["a5"]] == family[ids["a6"]]  # a family id within one school
    assert everyone[ids["b4"]] == everyone[ids["b5"]]
    assert family[ids["a2"]] == families.families(trust)[ids["b2"]]  # a link confirmed across the schools
    assert family[ids["a3"]] == family[ids["a4"]]  # siblings only through b3, at the other school
    assert families.family_of(trust, ids["a4"]) == sorted([ids["a3"], ids["b3"], ids["a4"]])
    assert set(families.siblings(trust, [ids["a3"]])["sibling_id"]) == {ids["b3"], ids["a4"]}


def test_each_pupils_family_is_the_one_the_whole_store_gives(trust, ids):
    everyone = families.families(trust)
    for pupil_id in ids.values():
        expected = sorted(int(m) for m in everyone.index[everyone == everyone[pupil_id]]) \
            if pupil_id in everyone.index else [pupil_id]
        assert families.family_of(trust, pupil_id) == expected


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_a_schools_siblings_and_links_are_the_stores_for_its_pupils(trust, school_id):
    ours = school(trust, school_id)
    everyone = families.siblings(trust)
    pd.testing.assert_frame_equal(families.siblings(trust, ours),
                                  everyone[everyone["pupil_id"].isin(ours)].reset_index(drop=True))
    links = families.links(trust, ours)
    assert pairs(touching(families.links(trust), ours)) <= pairs(links) <= pairs(families.links(trust))


# --- suggestions ---------------------------------------------------------------------------


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_a_schools_suggestions_are_the_stores_that_include_its_pupils(trust, school_id):
    ours = school(trust, school_id)
    pd.testing.assert_frame_equal(families.suggestions(trust, ours), touching(families.suggestions(trust), ours))


def test_what_a_school_is_suggested_and_what_not(trust, ids):
    found = families.suggestions(trust, school(trust, 1))
    reasons = {(a, b): r for a, b, r in zip(found["pupil_id"], found["sibling_id"], found["reason"])}
    pair = lambda x, y: tuple(sorted((ids[x], ids[y])))  # noqa: E731
    assert reasons[pair("a7", "b6")] == "same parent's phone"  # not plain: keyed in Python
    assert reasons[pair("a8", "a9")] == "same parent's phone"
    assert reasons[pair("a14", "b10")] == "same parent's email"
    assert reasons[pair("a15", "a16")] == "same parent's email"
    assert reasons[pair("a17", "a18")] == "same address and surname"
    assert reasons[pair("a19", "b11")] == "same address and surname"
    care_home = {ids[f"a{n}"] for n in range(10, 14)}
    assert not care_home & (set(found["pupil_id"]) | set(found["sibling_id"]))  # 7 over the store share it
    assert pair("a3", "a4") not in reasons  # one family, through b3 at the other school
    assert pair("a20", "a21") not in reasons  # ruled out
    assert ids["a22"] not in set(found["pupil_id"]) | set(found["sibling_id"])  # off roll


# --- contacts and the call list ---------------------------------------------------------------


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_a_schools_contacts_and_call_list_are_the_stores_for_its_pupils(trust, school_id):
    ours = school(trust, school_id)
    everyone = families.contacts(trust, OFFICER)
    pd.testing.assert_frame_equal(families.contacts(trust, OFFICER, ours),
                                  everyone[everyone["pupil_id"].isin(ours)].reset_index(drop=True))
    whole = first_day.call_list(trust, MONDAY, 0).pupils
    expected = whole[whole["pupil_id"].isin(ours)].reset_index(drop=True)
    scoped = first_day.call_list(trust, MONDAY, 0, ours).pupils
    assert len(scoped) > 3
    pd.testing.assert_frame_equal(scoped, expected)


# --- what is read ---------------------------------------------------------------------------


class Recording:
    """The store, recording the pupil ids of every row read from the pupils table."""

    def __init__(self, db):
        self.db, self.read = db, set()

    def execute(self, sql, params=()):
        cursor = self.db.execute(sql, params)
        if "FROM pupils" not in sql or cursor.description is None or cursor.description[0][0] != "id":
            return cursor
        rows = cursor.fetchall()
        self.read |= {int(r[0]) for r in rows}
        return _Rows(rows)

    def __getattr__(self, name):
        return getattr(self.db, name)


class _Rows(list):
    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0] if self else None


def test_a_school_reads_only_its_pupils_and_those_in_their_families_or_sharing_their_keys(trust, ids, monkeypatch):
    asked: list = []
    frame = store.pupils_frame
    monkeypatch.setattr(store, "pupils_frame",
                        lambda db, *a, **k: asked.append(k.get("pupil_ids")) or frame(db, *a, **k))
    ours = school(trust, 1)
    recording = Recording(trust)
    families.families(recording, ours)
    families.suggestions(recording, ours)
    families.siblings(recording, ours)
    families.family_of(recording, ids["a4"])
    families.contacts(recording, OFFICER, ours)
    first_day.call_list(recording, MONDAY, 0, ours)
    # School 2's pupils read: those in school 1's families, or who may share a key with one of its pupils.
    reached = {ids[n] for n in ("b2", "b3", "b6", "b7", "b8", "b9", "b10", "b11")}
    assert recording.read - set(ours) <= reached  # not b1: F1 at school 2 is another family
    assert not {ids["b4"], ids["b5"]} & recording.read  # school 2's own family: never read
    assert asked and all(a is not None and set(a) <= set(ours) for a in asked)


# --- the screens ---------------------------------------------------------------------------


@pytest.fixture
def trust_with_families(trust_store):
    """The app's two-school store with a family across the schools (Ahmed at school 1, Fenton
    at school 2, confirmed) and one of school 2 alone (Gray and Hughes, by family id)."""
    with store.opened(trust_store) as db:
        upns = dict(db.execute("SELECT surname, upn FROM pupils").fetchall())
        ids = dict(db.execute("SELECT surname, id FROM pupils").fetchall())
        for surname, family in (("Gray", "FY"), ("Hughes", "FY")):
            db.execute("UPDATE pupils SET family_id = ? WHERE upn = ?", (family, upns[surname]))
        db.conn.commit()
        families.decide(db, OFFICER, ids["Ahmed"], ids["Fenton"], confirmed=True)
    return trust_store


@pytest.mark.parametrize("screen", ["families", "today"])
def test_a_schools_screen_asks_only_for_its_own_pupils(trust_with_families, monkeypatch, screen):
    asked_pupils, asked_figures = [], []
    frame, figures = store.pupils_frame, metrics.pupil_figures
    monkeypatch.setattr(store, "pupils_frame",
                        lambda db, *a, **k: asked_pupils.append(k.get("pupil_ids")) or frame(db, *a, **k))
    monkeypatch.setattr(metrics, "pupil_figures",
                        lambda db, period, pupil_ids=None, *a, **k: asked_figures.append(pupil_ids)
                        or figures(db, period, pupil_ids, *a, **k))
    reads.clear()
    with store.opened(trust_with_families) as db:
        ours = set(school(db, 1))
    app = signed_in("officer", screen)
    assert not app.exception
    assert asked_pupils and all(a is not None and set(a) <= ours for a in asked_pupils)
    assert all(a is not None and set(a) <= ours for a in asked_figures)
    if screen == "families":  # Ahmed's family, followed to Fenton at school 2, who is not shown
        assert asked_figures
        captions = [str(c.value) for c in app.caption]
        assert "1 sibling at another of the trust's schools not shown." in captions
        assert not [c for c in captions if c.startswith("No siblings linked")]  # Ahmed is linked, elsewhere
        assert any(c.startswith("0 families with more than one child here") for c in captions)  # Ahmed alone here
        assert "Fenton" not in everything(app)


def everything(app) -> str:
    """Every text the screen drew (markdown, captions, tables, pickers' options)."""
    parts = [str(e.value) for kind in ("markdown", "caption", "title", "subheader", "info", "warning", "success")
             for e in getattr(app, kind)]
    parts += [e.value.to_string() for e in app.dataframe]
    parts += [" ".join(map(str, e.options)) for e in app.selectbox]
    return " ".join(parts)


def test_the_families_counted_and_the_siblings_not_shown_to_a_school(trust, ids):
    ours = school(trust, 1)
    numbers = families.families(trust, ours)
    # School 1's families with two or more of its children: a5–a6 (F5) and a3–a4 (through b3).
    assert families.families_with_several(numbers, ours) == 2
    assert families.families_with_several(families.families(trust), school(trust, 2)) == 1  # b4–b5 (F9)
    family = families.family_of(trust, ids["a4"])  # a3, b3 (school 2), a4
    assert families.siblings_not_shown(trust, family, ours, (1,)) == (1, 0)  # b3, at the other school
    assert families.siblings_not_shown(trust, family, [ids["a4"]], (1,)) == (1, 1)  # a3 in another section too
    assert families.siblings_not_shown(trust, family, [ids["a4"]], None) == (0, 2)  # sees every school: sections
