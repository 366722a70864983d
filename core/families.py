"""Families: siblings, their attendance side by side, the days they miss together, and
each child's parents (for penalty notices counted per parent per child).

Siblings are linked by the family (or contact) id the MIS exports in the roll. Without
one, pupils who share a parent's phone or email, or an address and a surname, are
*suggested* as siblings; a person confirms or rules out each suggestion, and that
decision is stored (and audited), so it is never asked again. A family is every pupil
reachable through such links.

Penalty notices are counted per parent per child, listed by parent and recorded by
core/penalty_notices.py; this module names each pupil's parents for it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, characteristics, codes, penalty_notices, schools, store
from core import marks as marks_table
from core.importers import values

# Keys shared by more pupils than this (a care home's address, a school's switchboard) suggest nobody.
MOST_SHARING_A_KEY = 6

LINK_COLUMNS = ["pupil_id", "sibling_id", "how"]
SUGGESTION_COLUMNS = ["pupil_id", "sibling_id", "reason"]


# --- parents' contact details (personal data) -------------------------------------------------


def contacts(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Each pupil's parent/carer contacts and address (`characteristics.CONTACT_FIELDS`),
    for the roles doing case work only: a viewer gets a CaseError, never the details."""
    if not auth.may(viewer.role, "see_contacts"):
        raise cases.CaseError("Your role cannot see parents' contact details.")
    people = store.pupils_frame(db, pupil_ids=pupil_ids, columns=("id", *characteristics.CONTACT_FIELDS))
    return people.rename(columns={"id": "pupil_id"}).reset_index(drop=True)


def contact_lines(row) -> list[str]:
    """'Mother — Jane Smith · 07700 900123', then the email, for each contact."""
    lines = []
    for n in (1, 2):
        who = " — ".join(p for p in (row.get(f"contact{n}_relationship", ""), row.get(f"contact{n}_name", "")) if p)
        phone = str(row.get(f"contact{n}_phone", "") or "").replace(" ", "\u00a0")  # a number never breaks
        if who or phone:
            lines.append(" · ".join(p for p in (who, phone) if p))
        if row.get(f"contact{n}_email"):
            lines.append(str(row[f"contact{n}_email"]))
    return lines


# --- links ------------------------------------------------------------------------------
#
# A family id links pupils of one school only: each school's MIS numbers its own families, so
# "1234" at one school and "1234" at another are unrelated (a trust on one MIS, whose ids do
# match, gets its cross-school siblings suggested by a shared parent's phone, email or address,
# and confirmed once). FAMILY_KEY is the id within its school.
# A family can still reach across the schools of a trust (a link confirmed across them, or a
# chain A–B–C whose A and C are siblings only through B). Given some pupils, the functions below follow the links out from them, over
# every school, until nothing new is reached (`_reach`): their families are then whole, and
# every answer is the whole store's answer for those pupils — without reading the pupils of
# families they do not belong to.


FAMILY_KEY = "CASE WHEN family_id != '' THEN school_id || ':' || family_id ELSE '' END"


def _pairs(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Every pair (pupil_id < sibling_id) of pupils sharing a non-blank `key`."""
    keyed = frame.loc[frame[key] != "", ["id", key]]
    counts = keyed[key].map(keyed[key].value_counts())
    keyed = keyed[counts <= MOST_SHARING_A_KEY] if key != "family_id" else keyed
    pairs = keyed.merge(keyed, on=key, suffixes=("", "_other"))
    pairs = pairs[pairs["id"] < pairs["id_other"]]
    return pd.DataFrame({"pupil_id": pairs["id"].to_numpy(dtype=np.int64),
                         "sibling_id": pairs["id_other"].to_numpy(dtype=np.int64), "key": pairs[key].to_numpy()})


def decisions(db: sqlite_utils.Database) -> pd.DataFrame:
    rows = db.execute("SELECT pupil_id, sibling_id, decision, reason, decided_by, decided_at FROM sibling_links").fetchall()
    frame = pd.DataFrame(rows, columns=["pupil_id", "sibling_id", "decision", "reason", "decided_by", "decided_at"])
    return frame.astype({"pupil_id": "int64", "sibling_id": "int64"})


def _ids_json(pupil_ids) -> str:
    return json.dumps(sorted({int(p) for p in pupil_ids}))


def _reach(db: sqlite_utils.Database, pupil_ids, confirmed: pd.DataFrame) -> list[int]:
    """These pupils and everyone in their families, whatever their school: the pupils reachable
    from them through a shared family id or a `confirmed` link (in id order)."""
    joined: dict[int, set[int]] = {}
    for a, b in zip(confirmed["pupil_id"].tolist(), confirmed["sibling_id"].tolist()):
        joined.setdefault(a, set()).add(b)
        joined.setdefault(b, set()).add(a)
    seen = {int(p) for p in pupil_ids}
    frontier, family_ids = set(seen), set()
    while frontier:
        found = {r[0] for r in db.execute(
            f"SELECT DISTINCT {FAMILY_KEY} FROM pupils WHERE id IN (SELECT value FROM json_each(?)) "
            "AND family_id != ''", (_ids_json(frontier),))} - family_ids
        family_ids |= found
        reached = {r[0] for r in db.execute(  # by the family index, then each row's school
            f"SELECT id FROM pupils WHERE family_id IN (SELECT substr(value, instr(value, ':') + 1) FROM "
            f"json_each(:keys)) AND family_id != '' AND {FAMILY_KEY} IN (SELECT value FROM json_each(:keys))",
            {"keys": json.dumps(sorted(found))})} if found else set()
        for pupil in frontier:
            reached |= joined.get(pupil, set())
        frontier = reached - seen
        seen |= frontier
    return sorted(seen)


def links(db: sqlite_utils.Database, pupil_ids=None) -> pd.DataFrame:
    """Sibling pairs (pupil_id < sibling_id) and how each is known: 'family id' from the
    roll, or 'confirmed' by a person. Given `pupil_ids`, only the pairs within those pupils'
    families (which may hold pupils of other schools): every pair the whole store has there."""
    decided = decisions(db)
    confirmed = decided[decided["decision"] == "confirmed"].assign(how="confirmed")
    reached = None if pupil_ids is None else _reach(db, pupil_ids, confirmed)
    rows = db.execute(f"SELECT id, {FAMILY_KEY} FROM pupils WHERE family_id != '' ORDER BY id" if reached is None else
                      f"SELECT id, {FAMILY_KEY} FROM pupils WHERE id IN (SELECT value FROM json_each(?)) "
                      "AND family_id != '' ORDER BY id", () if reached is None else (_ids_json(reached),)).fetchall()
    by_family_id = _pairs(pd.DataFrame(rows, columns=["id", "family_id"]).astype({"id": "int64"}),
                          "family_id").assign(how="family id")
    if reached is not None:
        confirmed = confirmed[confirmed["pupil_id"].isin(reached)]  # then its sibling is in `reached` too
    both = pd.concat([by_family_id[LINK_COLUMNS], confirmed[LINK_COLUMNS]], ignore_index=True)
    return both.drop_duplicates(["pupil_id", "sibling_id"]).astype({"pupil_id": "int64", "sibling_id": "int64"})


def _numbered(pairs: pd.DataFrame) -> pd.Series:
    """Each linked pupil's family number (the smallest pupil id in the family) from the links."""
    if pairs.empty:
        return pd.Series(dtype="int64", index=pd.Index([], dtype="int64", name="pupil_id"))
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs["pupil_id"], pairs["sibling_id"]):
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members = sorted(parent)
    return pd.Series([root(m) for m in members], index=pd.Index(members, name="pupil_id"), dtype="int64")


def _families_of(db: sqlite_utils.Database, pupil_ids) -> pd.Series:
    """families() of every pupil in the families of these pupils (None: of every pupil) —
    the family numbers the whole store gives them."""
    return _numbered(links(db, pupil_ids))


def families(db: sqlite_utils.Database, pupil_ids=None) -> pd.Series:
    """Each linked pupil's family number (pupil_id → the smallest pupil id in the family);
    only these pupils' (the same numbers), when `pupil_ids` is given."""
    family = _families_of(db, pupil_ids)
    if pupil_ids is None:
        return family
    return family[family.index.isin([int(p) for p in pupil_ids])]


def siblings(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """(pupil_id, sibling_id) for every pupil and each of their siblings (both ways round); for
    these pupils only when given (their siblings at any school)."""
    family = _families_of(db, pupil_ids)
    frame = family.rename("family").reset_index()
    both = frame.merge(frame, on="family", suffixes=("", "_sibling"))
    both = both[both["pupil_id"] != both["pupil_id_sibling"]].rename(columns={"pupil_id_sibling": "sibling_id"})
    if pupil_ids is not None:
        both = both[both["pupil_id"].isin(pupil_ids)]
    return both[["pupil_id", "sibling_id"]].reset_index(drop=True)


def family_of(db: sqlite_utils.Database, pupil_id: int) -> list[int]:
    """The pupil and all their siblings (at any school), in id order."""
    family = _families_of(db, [pupil_id])
    if pupil_id not in family.index:
        return [int(pupil_id)]
    return sorted(int(i) for i in family.index[family == family[pupil_id]])


def families_with_several(family_number: pd.Series, pupil_ids) -> int:
    """How many families (`families`) have two or more children among these pupils."""
    here = family_number[family_number.index.isin(list(pupil_ids))]
    return int((here.value_counts() > 1).sum())


def siblings_not_shown(db: sqlite_utils.Database, family: list[int], shown, school_ids) -> tuple[int, int]:
    """Of a `family` (family_of), the siblings a user does not see (not in `shown`): how many
    are at another of the trust's schools (not `school_ids`; None: the user sees every
    school), and how many in sections the user does not look after."""
    hidden = [m for m in family if m not in set(shown)]
    elsewhere = 0 if school_ids is None or not hidden else \
        int((~schools.school_of_pupils(db, hidden).isin(list(school_ids))).sum())
    return elsewhere, len(hidden) - elsewhere


def _phone_key(phones: pd.Series) -> pd.Series:
    digits = phones.fillna("").str.replace(r"\D", "", regex=True)
    return digits.str[-10:].where(digits.str.len() >= 10, "")


def _address_key(frame: pd.DataFrame) -> pd.Series:
    text = (frame["address"].fillna("") + " " + frame["postcode"].fillna("")).str.lower()
    key = text.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return key.where(frame["address"].fillna("").str.strip() != "", "")


# The roll's columns the suggestions compare; a pupil with none of them filled has no key.
_KEY_COLUMNS = ("id", "surname", "contact1_phone", "contact2_phone", "contact1_email", "contact2_email", "address",
                "postcode")
_HAS_A_KEY = ("(contact1_phone != '' OR contact2_phone != '' OR contact1_email != '' OR contact2_email != '' "
              "OR address != '')")

# Finding, in SQL, every pupil who may share a key with some given pupils, without reading and
# keying every pupil of the store in Python. A value of plain characters has its key worked
# out in SQL as Python would: a phone number of digits and spaces (its last ten digits), an
# email of printable ASCII (trimmed, lower case), a surname of letters, digits and apostrophes
# (lower case, less its apostrophes: its `values.name_key`), an address and postcode of letters,
# digits and a few marks (lower case, less the marks: its key less the spaces). Any other value
# is read and keyed in Python. Only pupils on roll whose phone, email, or surname and address
# may match one of the given pupils' are read; what is read is then keyed in Python exactly as
# for the whole store.
_ODD_PHONE = "*[^0-9 ]*"
_ODD_EMAIL = "*[^ -~]*"  # a character outside printable ASCII (an accent, a tab)
_ODD_SURNAME = "*[^A-Za-z0-9']*"
_ADDRESS_MARKS = " ,.'/-"
_ODD_ADDRESS = "*[^A-Za-z0-9 ,.'/-]*"


def _without_marks(text: str) -> str:
    """SQL: `text` in lower case less the address marks — for an address of letters, digits and
    those marks, its `_address_key` less the spaces."""
    for mark in _ADDRESS_MARKS:
        text = f"replace({text}, char({ord(mark)}), '')"
    return f"lower({text})"


def _keyed_pupils(db: sqlite_utils.Database, pupil_ids=None) -> pd.DataFrame:
    """The pupils on roll with a parent's phone or email or an address: the only ones with a key
    (of these pupils only, when given)."""
    in_scope = "" if pupil_ids is None else "id IN (SELECT value FROM json_each(?)) AND "
    rows = db.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM pupils WHERE {in_scope}on_roll = 1 AND {_HAS_A_KEY}",
                      () if pupil_ids is None else (_ids_json(pupil_ids),)).fetchall()
    return pd.DataFrame(rows, columns=list(_KEY_COLUMNS)).astype({"id": "int64"})


def _distinct(*keys: pd.Series) -> str:
    """The non-blank keys, as a JSON list for SQL."""
    return json.dumps(sorted(set(pd.concat(keys).unique().tolist()) - {""}))


def _pupils_sharing_keys(db: sqlite_utils.Database, pupil_ids) -> pd.DataFrame:
    """These pupils (on roll, with a key) and every pupil on roll, at any school, who may share
    a parent's phone or email or an address with one of them: every holder of their keys."""
    mine = _keyed_pupils(db, pupil_ids)
    if mine.empty:
        return mine
    phones = _distinct(_phone_key(mine["contact1_phone"]), _phone_key(mine["contact2_phone"]))
    emails = _distinct(mine["contact1_email"].str.strip().str.lower(), mine["contact2_email"].str.strip().str.lower())
    address = _address_key(mine)
    homed = mine[address != ""]
    surnames = _distinct(homed["surname"].map(values.name_key))
    addresses = _distinct(address[address != ""].str.replace(" ", "", regex=False))

    def phone(column: str) -> str:
        return (f"({column} != '' AND ({column} GLOB :odd_phone OR substr(replace({column}, ' ', ''), -10) "
                "IN (SELECT value FROM json_each(:phones))))")

    def email(column: str) -> str:
        return (f"({column} != '' AND ({column} GLOB :odd_email OR lower(trim({column})) IN "
                "(SELECT value FROM json_each(:emails))))")

    home = "(address || ' ' || postcode)"
    same_home = (f"(address != '' AND (surname GLOB :odd_surname OR lower(replace(surname, char(39), '')) IN "
                 f"(SELECT value FROM json_each(:surnames))) AND ({home} GLOB :odd_address OR "
                 f"{_without_marks(home)} IN (SELECT value FROM json_each(:addresses))))")
    rows = db.execute(
        f"SELECT {', '.join(_KEY_COLUMNS)} FROM pupils WHERE on_roll = 1 AND ("
        "id IN (SELECT value FROM json_each(:mine)) "
        f"OR {phone('contact1_phone')} OR {phone('contact2_phone')} OR {email('contact1_email')} "
        f"OR {email('contact2_email')} OR {same_home})",
        {"mine": _ids_json(mine["id"]), "phones": phones, "emails": emails, "surnames": surnames,
         "addresses": addresses, "odd_phone": _ODD_PHONE, "odd_email": _ODD_EMAIL, "odd_surname": _ODD_SURNAME,
         "odd_address": _ODD_ADDRESS}).fetchall()
    return pd.DataFrame(rows, columns=list(_KEY_COLUMNS)).astype({"id": "int64"})


def suggestions(db: sqlite_utils.Database, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Pupils who may be siblings, not yet linked and not yet decided on: a shared parent
    phone or email, or a shared address and surname. With `pupil_ids`, only pairs
    including one of them.

    A key shared by more than MOST_SHARING_A_KEY pupils on roll anywhere in the store (a
    care home's address) suggests nobody; with `pupil_ids`, only their keys are compared,
    each still counted over the whole store, and only their families are worked out."""
    people = _keyed_pupils(db) if pupil_ids is None else _pupils_sharing_keys(db, pupil_ids)
    wanted = None if pupil_ids is None else people["id"].isin([int(p) for p in pupil_ids])
    keys = pd.DataFrame({
        "id": people["id"],
        "phone1": _phone_key(people["contact1_phone"]), "phone2": _phone_key(people["contact2_phone"]),
        "email1": people["contact1_email"].fillna("").str.strip().str.lower(),
        "email2": people["contact2_email"].fillna("").str.strip().str.lower(),
    })
    # Address and surname: the surname's key only where the address is shared by another pupil
    # on roll (and, given pupils, is one of theirs) — no other home key can pair.
    address = _address_key(people)
    could_pair = (address != "") & (address.map(address.value_counts()) > 1)
    if wanted is not None:
        could_pair &= address.isin(set(address[wanted]))
    surname = people.loc[could_pair, "surname"].fillna("").map(values.name_key)
    home = (address[could_pair] + "|" + surname).where(surname != "", "")
    keys = keys.assign(home=home.reindex(keys.index, fill_value=""))
    phones = pd.concat([keys[["id", "phone1"]].rename(columns={"phone1": "phone"}),
                        keys[["id", "phone2"]].rename(columns={"phone2": "phone"})]).drop_duplicates()
    emails = pd.concat([keys[["id", "email1"]].rename(columns={"email1": "email"}),
                        keys[["id", "email2"]].rename(columns={"email2": "email"})]).drop_duplicates()
    keyed = [(phones, "phone", "same parent's phone"), (emails, "email", "same parent's email"),
             (keys, "home", "same address and surname")]
    if wanted is not None:  # every pupil holding one of their keys (so each key's count is the store's)
        mine = keys["id"][wanted]
        keyed = [(frame[frame[key].isin(set(frame.loc[frame["id"].isin(mine), key]) - {""})], key, reason)
                 for frame, key, reason in keyed]
    found = pd.concat([_pairs(frame, key).assign(reason=reason) for frame, key, reason in keyed], ignore_index=True)
    if found.empty:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    reasons: dict[tuple[int, int], set[str]] = {}
    for pair in zip(found["pupil_id"].tolist(), found["sibling_id"].tolist(), found["reason"].tolist()):
        reasons.setdefault(pair[:2], set()).add(pair[2])
    found = pd.DataFrame([(a, b, " · ".join(sorted(r))) for (a, b), r in sorted(reasons.items())],
                         columns=SUGGESTION_COLUMNS).astype({"pupil_id": "int64", "sibling_id": "int64"})
    if pupil_ids is not None:
        found = found[found["pupil_id"].isin(pupil_ids) | found["sibling_id"].isin(pupil_ids)]
    # Pupils of one family are not suggested: given pupils, their families are every family a
    # pair could share (a pupil's sibling is in the pupil's family).
    paired = None if pupil_ids is None else sorted(set(found["pupil_id"]) | set(found["sibling_id"]))
    family = _families_of(db, paired)
    same_family = (found["pupil_id"].map(family).notna()
                   & (found["pupil_id"].map(family) == found["sibling_id"].map(family)))
    decided = decisions(db)
    already = found.merge(decided[["pupil_id", "sibling_id"]], how="left", indicator=True)["_merge"] == "both"
    found = found[~same_family.to_numpy() & ~already.to_numpy()]
    return found[SUGGESTION_COLUMNS].reset_index(drop=True)


def decide(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, sibling_id: int, confirmed: bool,
           reason: str = "") -> None:
    """Record that two pupils are (or are not) siblings; a later decision replaces an earlier one."""
    if not viewer.may_write:
        raise cases.CaseError("Your role can view families but not link siblings.")
    first, second = sorted((int(pupil_id), int(sibling_id)))
    if first == second:
        raise cases.CaseError("A pupil cannot be their own sibling.")
    decision = "confirmed" if confirmed else "rejected"
    with store.transaction(db) as conn:
        found = conn.execute("SELECT COUNT(*) FROM pupils WHERE id IN (?, ?)", (first, second)).fetchone()[0]
        if found != 2:
            raise cases.CaseError("One of these pupils is not in the store.")
        conn.execute(
            "INSERT INTO sibling_links (pupil_id, sibling_id, decision, reason, decided_by, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(pupil_id, sibling_id) DO UPDATE SET decision = excluded.decision, "
            "reason = excluded.reason, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            (first, second, decision, reason.strip()[:200], viewer.username, store.now()))
        store.audit(conn, viewer.username, f"siblings.{'confirm' if confirmed else 'reject'}", "pupils", first,
                    {"sibling_id": second, "reason": reason.strip()[:200]})


# --- the family view ------------------------------------------------------------------------

SHARED_DAY_COLUMNS = ["date", "children", "codes", "run_days", "likely_holiday"]
# Codes that say a family took a holiday; a run of days off together also suggests one.
HOLIDAY_CODES = ("G", "H", "F")
HOLIDAY_RUN_DAYS = 2


def shared_days_off(db: sqlite_utils.Database, period, members: list[int]) -> pd.DataFrame:
    """School days on which two or more of the children were absent all day (every possible
    session absence): the date, how many, their codes, the length of the run of such days
    it belongs to, and whether it looks like a family holiday (a holiday code, or a run of
    at least two school days)."""
    if len(members) < 2:
        return pd.DataFrame(columns=SHARED_DAY_COLUMNS)
    first_day, last_day = calendar.to_day(period.date_from), calendar.to_day(period.as_of)
    marks = marks_table.load_marks(db, first_day, last_day, pupil_ids=members)
    category = codes.classify_by_era(marks["code"], codes.era_of(calendar.days_to_dates(marks["day"])))
    marks = marks.assign(possible=category.isin(codes.POSSIBLE_CATEGORIES).to_numpy(),
                         absent=category.isin([codes.AUTHORISED, codes.UNAUTHORISED]).to_numpy())
    possible = marks[marks["possible"]]
    days = possible.groupby(["pupil_id", "day"]).agg(all_absent=("absent", "all"),
                                                     codes=("code", lambda c: "/".join(sorted(set(c)))))
    off = days[days["all_absent"]].reset_index()
    together = off.groupby("day").agg(children=("pupil_id", "nunique"), codes=("codes", lambda c: ", ".join(c)))
    together = together[together["children"] >= 2]
    if together.empty:
        return pd.DataFrame(columns=SHARED_DAY_COLUMNS)
    school_days = marks_table.school_session_days(db, first_day, last_day)["day"].to_numpy()
    position = np.searchsorted(school_days, together.index.to_numpy())
    run = np.cumsum(np.diff(position, prepend=position[0] - 2) != 1)
    run_days = pd.Series(run).map(pd.Series(run).value_counts()).to_numpy()
    holiday_code = together["codes"].str.contains("|".join(HOLIDAY_CODES), regex=True).to_numpy()
    holiday_run = pd.Series(holiday_code).groupby(run).transform("any").to_numpy()
    return pd.DataFrame({
        "date": [calendar.from_day(d) for d in together.index],
        "children": together["children"].to_numpy(),
        "codes": together["codes"].to_numpy(),
        "run_days": run_days,
        "likely_holiday": holiday_run | (run_days >= HOLIDAY_RUN_DAYS),
    }, columns=SHARED_DAY_COLUMNS)


# --- each child's parents, for penalty notices per parent per child ---------------------------


def parents(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_ids: list[int]) -> dict[int, list[str]]:
    """Each pupil's parents and carers by name: the roll's contacts, then anyone else a penalty
    notice for them went to — one spelling per person (names compared as `penalty_notices.parent_key`)."""
    people = contacts(db, viewer, pupil_ids).set_index("pupil_id")
    notices = penalty_notices.penalty_notice_history(db, viewer, pupil_ids)
    named = notices[notices["parent_key"] != ""]
    found: dict[int, list[str]] = {}
    for pupil_id in pupil_ids:
        roll = [people.at[pupil_id, f"contact{n}_name"] for n in (1, 2)] if pupil_id in people.index else []
        names = [*roll, *named.loc[named["pupil_id"] == pupil_id, "parent"]]
        by_key: dict[str, str] = {}
        for name in names:
            if penalty_notices.parent_key(name):
                by_key.setdefault(penalty_notices.parent_key(name), name)
        found[int(pupil_id)] = list(by_key.values())
    return found
