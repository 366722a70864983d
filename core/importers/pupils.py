"""Matching the pupils an export names to the pupils in the store.

In order (FORMATS.md): by UPN; then by admission number, leading zeros ignored (Excel
turns `00123` into `123`); then by name and date of birth, with case, accents,
apostrophes, hyphens and word order ignored. A pupil the store does not hold is added
(flagged as not on the roll) when the file gives a UPN; without one there is nothing
to store them under, so the file is refused with the rows that name them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import characteristics, text
from core.importers import headers, values
from core.importers.results import Problem, ReadResult

# Warnings listed one by one before the rest are counted in one line.
MAX_LISTED = 20


@dataclass
class PupilMatch:
    ids: np.ndarray  # stored pupil id of each file pupil; 0 where the pupil is to be added
    new: pd.DataFrame  # the file's pupils to add (not stored, named by a UPN)
    problems: list[Problem] = field(default_factory=list)


def _stored(conn: sqlite3.Connection) -> pd.DataFrame:
    rows = conn.execute("SELECT id, upn, adno, mis_id, surname, forename, dob, on_roll FROM pupils").fetchall()
    return pd.DataFrame(rows, columns=["id", "upn", "adno", "mis_id", "surname", "forename", "dob", "on_roll"]).astype(
        {"id": "int64", "upn": "string", "adno": "string", "mis_id": "string", "surname": "string",
         "forename": "string", "dob": "string"})


def _unique_lookup(keys: pd.Series, ids: pd.Series) -> tuple[pd.Series, set]:
    """key → id for keys held by exactly one pupil, and the set of keys held by several."""
    frame = pd.DataFrame({"key": keys.to_numpy(), "id": ids.to_numpy()})
    frame = frame[frame["key"] != ""]
    counts = frame.groupby("key")["id"].nunique()
    shared = set(counts[counts > 1].index)
    unique = frame[~frame["key"].isin(shared)].drop_duplicates("key")
    return pd.Series(unique["id"].to_numpy(), index=unique["key"].to_numpy()), shared


def _name_dob_keys(frame: pd.DataFrame) -> pd.Series:
    whole = (frame["surname"].fillna("") + " " + frame["forename"].fillna("")).astype("string")
    names = whole.map(values.name_key, na_action="ignore").astype("string").fillna("")
    dob = frame["dob"].astype("string").fillna("")
    return (names + "|" + dob).where((names != "") & (dob != ""), "")


def match_pupils(conn: sqlite3.Connection, read: ReadResult) -> PupilMatch:
    """Stored pupil id of each pupil `read.pupils` names, with problems for those not found."""
    pupils = read.pupils.reset_index(drop=True)
    stored = _stored(conn)
    columns = read.identity_columns
    ids = pd.Series(0, index=pupils.index, dtype="int64")
    how = pd.Series("", index=pupils.index, dtype="string")

    def fill(keys: pd.Series, lookup: pd.Series, label: str) -> None:
        found = keys.map(lookup).where((ids == 0) & (keys != ""))
        hit = found.notna()
        ids[hit] = found[hit].astype("int64")
        how[hit] = label

    upn = pupils["upn"].astype("string").fillna("")
    if "upn" in read.identity:
        fill(upn, pd.Series(stored["id"].to_numpy(), index=stored["upn"].to_numpy()), "upn")
    shared_adno: set = set()
    if "adno" in read.identity:
        lookup, shared_adno = _unique_lookup(values.admission_number_key(stored["adno"]), stored["id"])
        fill(values.admission_number_key(pupils["adno"]), lookup, "adno")
    shared_mis: set = set()
    if "mis_id" in read.identity:
        lookup, shared_mis = _unique_lookup(values.mis_id_key(stored["mis_id"]), stored["id"])
        fill(values.mis_id_key(pupils["mis_id"]), lookup, "mis_id")
    shared_names: set = set()
    if "name" in read.identity and "dob" in read.identity:
        lookup, shared_names = _unique_lookup(_name_dob_keys(stored), stored["id"])
        fill(_name_dob_keys(pupils), lookup, "name")

    result = PupilMatch(ids.to_numpy(), pupils[(ids == 0) & (upn != "")])
    _refuse_unknown_ids(result, pupils, upn, columns, "mis_id" in read.identity)
    _report(result, pupils, stored, how, upn, columns, shared_adno, shared_names)
    return result


EXAMPLES = 3



def _refuse_unmatched(result: ReadResult, pupils: pd.DataFrame, rows, keys, column: str, what, then: str) -> None:
    """One problem for every row (`rows`, a mask) whose id (`keys`) matches no pupil: how many
    ids, a few of them, and what to do; nothing is imported and no pupil is created."""
    ids = list(dict.fromkeys(keys[rows].tolist()))
    first = int(pupils["row"].iloc[int(np.flatnonzero(rows)[0])])
    result.problems.append(Problem(first, column, f"{what(len(ids))} (e.g. {', '.join(ids[:EXAMPLES])}). "
                                   f"Nothing was imported and no pupils were created: {then}"))

def _refuse_unknown_ids(result: PupilMatch, pupils: pd.DataFrame, upn: pd.Series, columns: dict[str, str],
                        by_mis_id: bool) -> None:
    """Pupils are never made from an id that is not a UPN: an MIS id no pupil on the roll carries,
    or a 'UPN' without a UPN's form (a Student ID mapped as the UPN) refuses the file, with how
    many and a few examples, rather than adding nameless pupils."""
    unmatched = result.ids == 0
    if by_mis_id:
        mis = values.mis_id_key(pupils["mis_id"].astype("string")).to_numpy(dtype=object)
        unknown = unmatched & (upn == "").to_numpy() & (mis != "")
        if unknown.any():
            column = columns.get("mis_id") or "MIS ID"
            _refuse_unmatched(result, pupils, unknown, mis, column, lambda n: (
                f"{n} pupil id{'s' if n != 1 else ''} in the {column} column match{'' if n != 1 else 'es'} no pupil "
                "on the roll"), f"upload the pupil roll with its {column} column first, or export the register "
                "with the UPN.")
            result.ids = np.where(unknown, -1, result.ids)  # reported here, not again as unmatched rows
    not_upns = (unmatched & (upn != "").to_numpy()) & ~values.looks_like_upns(upn).to_numpy()
    if not_upns.any():
        column = columns.get("upn") or "UPN"
        _refuse_unmatched(result, pupils, not_upns, upn.to_numpy(dtype=object), column, lambda n: (
            f"{n} value{'s' if n != 1 else ''} in the {column} column {'are' if n != 1 else 'is'} not a UPN and "
            f"match{'' if n != 1 else 'es'} no pupil on the roll"), "if this column is the MIS's own pupil id, "
            "map it as MIS ID and upload a roll that carries it.")
        result.new = result.new[values.looks_like_upns(result.new["upn"].astype("string")).to_numpy()]
        result.ids = np.where(not_upns, -1, result.ids)


def _label(pupil) -> str:
    name = " ".join(str(p) for p in (pupil["forename"], pupil["surname"]) if isinstance(p, str) and p)
    return f" ({name})" if name else ""


def _report(result: PupilMatch, pupils: pd.DataFrame, stored: pd.DataFrame, how: pd.Series, upn: pd.Series,
            columns: dict[str, str], shared_adno: set, shared_names: set) -> None:
    problems = result.problems
    stored_by_id = stored.set_index("id")

    # Named by a UPN the store does not hold, but matched another way: the UPN may have changed.
    other_way = (how.isin(["adno", "name"]) & (upn != "")).to_numpy()
    for index in np.flatnonzero(other_way):
        pupil, stored_pupil = pupils.iloc[index], stored_by_id.loc[result.ids[index]]
        if stored_pupil["upn"] != pupil["upn"]:
            by = "admission number" if how.iloc[index] == "adno" else "name and date of birth"
            problems.append(Problem(int(pupil["row"]), columns.get("upn"),
                f"UPN {pupil['upn']}{_label(pupil)} is not on the roll, but the pupil with the same {by} is, "
                f"under UPN {stored_pupil['upn']}; the marks are stored for that pupil. If the UPN has changed, "
                "upload the updated roll.", "warning"))

    # Not stored, no UPN: nothing to store them under.
    lost = np.flatnonzero((result.ids == 0) & (upn == "").to_numpy())
    for index in lost[:MAX_LISTED]:
        pupil = pupils.iloc[index]
        adno_key = values.admission_number_key(pd.Series([pupil["adno"]], dtype="string"))[0]
        if adno_key and adno_key in shared_adno:
            reason = f"admission number {pupil['adno']} belongs to more than one pupil on the roll"
            column = columns.get("adno")
        elif adno_key:
            reason = f"no pupil on the roll has admission number {pupil['adno']}"
            column = columns.get("adno")
        else:
            dob = f" born {pd.Timestamp(pupil['dob']):%d/%m/%Y}" if isinstance(pupil["dob"], str) and pupil["dob"] else ""
            reason = f"no single pupil on the roll is called{_label(pupil) or ' that'}{dob}"
            column = columns.get("name")
        problems.append(Problem(int(pupil["row"]), column,
            f"This pupil could not be matched: {reason}. Upload the pupil roll first, or export the report "
            "with the UPN column."))
    if len(lost) > MAX_LISTED:
        problems.append(Problem(None, None, f"… and {len(lost) - MAX_LISTED} more pupils that could not be matched."))

    # Pupils not on the roll: new ones, and those added earlier from marks alone.
    on_roll = stored_by_id["on_roll"].reindex(result.ids).fillna(0).to_numpy()
    not_on_roll = np.flatnonzero(((result.ids == 0) & (upn != "").to_numpy()) | ((result.ids > 0) & (on_roll == 0)))
    for index in not_on_roll[:MAX_LISTED]:
        pupil = pupils.iloc[index]
        problems.append(Problem(int(pupil["row"]), columns.get("upn"),
            f"Pupil {pupil['upn']}{_label(pupil)} is not on the roll; their marks are imported with what the "
            "file says about them. Upload the pupil roll to add their details.", "warning"))
    if len(not_on_roll) > MAX_LISTED:
        problems.append(Problem(None, columns.get("upn"), f"… and {len(not_on_roll) - MAX_LISTED} more pupils "
                                "not on the roll.", "warning"))


# --- what a file says about pupils, as text we can keep ------------------------------------


def check_text(read: ReadResult) -> None:
    """Every text field the file gives about its pupils, made fit to store and show: the
    characters never kept (control characters such as BEL or NUL, bidi overrides) are
    removed with a warning; a value longer than its field's limit (core/text.LIMITS: names
    100 characters, an address 500…) refuses the file, naming the row and the column.
    Each distinct value is looked at once."""
    pupils = read.pupils
    if pupils is None or pupils.empty:
        return
    rows = pupils["row"]
    for name in [c for c in pupils.columns if c != "row"]:
        column = pupils[name]
        if not (pd.api.types.is_string_dtype(column) or column.dtype == object):
            continue
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        if not len(uniques) or not any(isinstance(u, str) for u in uniques):
            continue
        multiline = name in text.MULTILINE
        kept = np.array([text.clean(u, multiline) if isinstance(u, str) else u for u in uniques], dtype=object)
        header = _header(read, name)
        dropped = np.array([isinstance(u, str) and text.unprintable(u) > 0 for u in uniques])
        if dropped.any():
            read.add_rows(rows[dropped[codes] & (codes >= 0)], header,
                          "Removed characters that cannot be shown or saved (control characters such as BEL or NUL); "
                          "the rest is imported — correct it in the MIS.", "warning")
        most = text.limit(name)
        too_long = np.array([isinstance(k, str) and len(k) > most for k in kept])
        if too_long.any():
            for index in np.flatnonzero(too_long):
                read.add_rows(rows[codes == index], header,
                              f"This is {len(kept[index]):,} characters long; a {_what(name)} can be at most "
                              f"{most:,}. Correct it in the MIS and export again.")
        if dropped.any() or (kept != uniques.to_numpy(dtype=object)).any():
            cleaned = pd.Series(kept[codes], index=column.index, dtype=object).where(codes >= 0, column)
            pupils[name] = cleaned.astype(column.dtype)


def _header(read: ReadResult, field: str) -> str:
    """The file's header for a pupil field where the reader kept it, else its usual name."""
    known = {"surname": read.identity_columns.get("name"), "upn": read.identity_columns.get("upn"),
             "adno": read.identity_columns.get("adno")}.get(field)
    return known or headers.LABELS.get(field, field.replace("_", " ").capitalize())


def _what(field: str) -> str:
    return "name" if field.endswith("name") else headers.LABELS.get(field, field.replace("_", " ")).lower()


# --- what a roll says about a pupil's family, contacts and groups --------------------------

# Free text kept as written (spaces tidied).
_TEXT_DETAILS = ("contact1_name", "contact1_relationship", "contact1_email", "contact2_name", "contact2_relationship",
                 "contact2_email", "address")


def read_roll_details(body, result: ReadResult) -> tuple[dict[str, pd.Series], list[str]]:
    """The roll's contacts, address, family id, ethnicity, young carer, social-worker,
    vulnerable and flag columns: (each field parsed, one value per row; the fields the file
    holds). A field the file lacks is blank and not stored, so it never overwrites what an
    earlier roll said. An unreadable value is a warning, stored as blank, never a rejection."""
    rows = body.rows
    frame: dict[str, pd.Series] = {}
    fields: list[str] = []

    def tidy(meaning: str) -> pd.Series:
        return body.text(meaning).str.replace(r"\s+", " ", regex=True)

    for name in _TEXT_DETAILS:
        frame[name] = tidy(name)
    frame["contact1_phone"] = values.normalise_phones(body.text("contact1_phone"))
    frame["contact2_phone"] = values.normalise_phones(body.text("contact2_phone"))
    frame["postcode"] = tidy("postcode").str.upper()
    frame["family_id"] = values.admission_number_key(body.text("family_id"))
    fields += [n for n in (*_TEXT_DETAILS, "contact1_phone", "contact2_phone", "postcode", "family_id") if body.has(n)]

    raw = body.text("ethnicity")
    ethnicity = pd.Series(values.by_distinct(raw, lambda t: t.map(characteristics.ethnicity_code)), index=rows.index)
    unknown = ethnicity.isna()
    for given, group in rows[unknown].groupby(raw[unknown], sort=False):
        result.add_rows(group, body.name("ethnicity"), f"'{given}' is not a DfE ethnicity code or description (e.g. "
                        "WBRI, WROM, WIRT, 'Gypsy/Roma'); stored as blank — correct it in the MIS.", "warning")
    frame["ethnicity"] = ethnicity.fillna("").astype("string")
    fields += ["ethnicity"] if body.has("ethnicity") else []

    for name in ("young_carer", "vulnerable"):
        flags = values.parse_flags(body.text(name))
        result.add_rows(rows[flags.isna()], body.name(name),
                        "Use Y or N (or Yes/No, True/False, 1/0); stored as no — check the export.", "warning")
        frame[name] = flags.fillna(0)
        fields += [name] if body.has(name) else []

    frame["social_worker"] = _social_worker(body, result)
    fields += ["social_worker"] if any(body.has(m) for m in ("social_worker", "cin", "cp")) else []

    frame["flags"] = _school_flags(body, result)
    fields += ["flags"] if body.has("flags") or body.header.flags else []
    return frame, fields


def _social_worker(body, result: ReadResult) -> pd.Series:
    """'' / 'CIN' / 'CP' / 'SW' from a status column, or from separate CIN and CP Y/N columns
    (a child protection plan wins over a child in need plan)."""
    rows = body.rows
    raw = body.text("social_worker")
    status = pd.Series(values.by_distinct(raw, lambda t: t.map(characteristics.social_worker_status)),
                       index=rows.index, dtype=object)
    unreadable = status.isna()
    result.add_rows(rows[unreadable], body.name("social_worker"),
                    "Use CIN, CP, Y (a social worker) or N; stored as blank — check the export.", "warning")
    status = status.fillna("")
    for meaning, code in (("cin", characteristics.CHILD_IN_NEED), ("cp", characteristics.CHILD_PROTECTION)):
        if not body.has(meaning):
            continue
        flags = values.parse_flags(body.text(meaning))
        result.add_rows(rows[flags.isna()], body.name(meaning), "Use Y or N; stored as no — check the export.",
                        "warning")
        status = status.where(~(flags.fillna(0) == 1).to_numpy(), code)
    return status.astype("string")


def _school_flags(body, result: ReadResult) -> pd.Series:
    """The school's flags: names listed in a Flags column, and each 'Flag: <name>' column
    that says Y."""
    rows = body.rows
    named = [characteristics.split_flags(text) for text in body.text("flags")]
    for position, flag in body.header.flags.items():
        column = values.parse_flags(body.cells[position].astype("string"))
        result.add_rows(rows[column.isna()], body.header.names.get(position, flag),
                        "Use Y or N; read as no — check the export.", "warning")
        for found, yes in zip(named, (column.fillna(0) == 1).to_numpy()):
            if yes:
                found.append(flag)
    return pd.Series([characteristics.join_flags(n) for n in named], index=rows.index, dtype="string")
