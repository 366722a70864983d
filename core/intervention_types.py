"""Intervention types: the school's editable list of what can be done for a pupil, each
with its tier (support first, enforcement last — DOMAIN.md §5) and the extra fields it
records (DETAIL_FIELDS), seeded from SEED_TYPES.

A type is never deleted or renamed (actions refer to it), only made inactive; only the roles
ACTION_ROLES["edit_types"] names change the list, and every change is audited.

How a new seed reaches a school that already has the list (`ensure_types`, on every read):
- a seeded type the store lacks is added;
- a detail field the seed has gained since the store last took the seed is added to the
  stored type (after its own fields); a field is never removed, and one the school removed
  after taking it is not put back;
- the tier, whether it needs a review date and the help follow the seed while the school has
  not changed them: the stored value is replaced only while it still equals the value the
  store last took from the seed (kept in `intervention_type_seeds`, store migration 8). For a
  store from before that record, the value taken is the seed's as of now, or an earlier seed
  value in EARLIER_SEED_VALUES when the store still holds that. A value the school chose stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, store, triggers

TIERS = {
    1: "Expect",
    2: "Monitor",
    3: "Listen and understand",
    4: "Facilitate support",
    5: "Formalise support",
    6: "Enforce",
}


@dataclass(frozen=True)
class DetailField:
    """An extra field an intervention type records (a penalty notice's date issued...)."""

    label: str
    kind: str  # "date", "choice" or "text"
    options: tuple[str, ...] = ()
    option_labels: tuple[str, ...] = ()
    required: bool = False
    default: str | None = None  # "opened_on" for a date defaulting to the action's start
    help: str = ""

    def label_of(self, value: str) -> str:
        return dict(zip(self.options, self.option_labels)).get(value, value)


# The extra fields a type may record, as data: the form draws them, `cases.open_intervention` checks them.
DETAIL_FIELDS: dict[str, DetailField] = {
    "date_issued": DetailField("Date issued", "date", required=True, default="opened_on"),
    "paid": DetailField("Paid", "choice", ("unpaid", "paid"), ("Not paid yet", "Paid"), required=True,
                        default="unpaid"),
    "from_date": DetailField("Leave from", "date", required=True, default="opened_on"),
    "to_date": DetailField("Leave to", "date", required=True, default="opened_on"),
    "decision": DetailField("Decision", "choice", ("pending", "agreed", "refused"),
                            ("Awaiting decision", "Agreed", "Refused"), required=True, default="pending"),
    "end_date": DetailField("Planned end", "date", help="When the reduced timetable is planned to end, if agreed."),
    "agency": DetailField("Referred to", "text", help="The service, e.g. Early Help hub."),
    "recorded_in": DetailField("Where it is recorded", "text", required=True,
                               help="The school's safeguarding system, e.g. CPOMS or MyConcern — never the concern."),
    "trigger": DetailField("Trigger", "choice", tuple(t.id for t in triggers.TRIGGERS),
                           tuple(t.label for t in triggers.TRIGGERS)),
}
# A type recording this field is a safeguarding referral: where it is recorded, and no notes at all.
WHERE_ONLY_FIELD = "recorded_in"
# A type recording this field is a penalty notice.
PENALTY_FIELD = "date_issued"
PENALTY_TYPE = "Penalty notice"  # the seeded penalty-notice type


@dataclass(frozen=True)
class InterventionType:
    name: str
    tier: int
    details: tuple[str, ...] = ()  # extra fields the type records, keys of DETAIL_FIELDS
    needs_review_date: bool = False
    help: str = ""


# Seeded into the editable list on first use (DOMAIN.md §5 and issue 6), and brought to
# existing stores by `ensure_types` when it changes.
SEED_TYPES: tuple[InterventionType, ...] = (
    InterventionType("First-day call", 1, help="Call home on the first day of an unexplained absence."),
    InterventionType("Leave-of-absence request", 1, ("from_date", "to_date", "decision"),
                     help="A parent's request for leave in term time and the head's decision."),
    InterventionType("Attendance letter (stage 1)", 2, help="Letter sharing attendance concerns."),
    InterventionType("Attendance letter (stage 2)", 3, help="Letter inviting parents to meet."),
    InterventionType("Attendance meeting / clinic", 3, help="Meeting with pupil and family to understand barriers."),
    InterventionType("Home visit", 3),
    InterventionType("ELSA or mentoring sessions", 4),
    InterventionType("EBSA support plan", 4, help="Plan for emotionally based school avoidance."),
    InterventionType("Reduced (part-time) timetable", 4, ("end_date",), needs_review_date=True,
                     help="Agreed with parents, with a review date normally within 6 weeks (code C2)."),
    InterventionType("Early Help referral", 4, ("agency",)),
    InterventionType("Safeguarding referral recorded", 4, ("recorded_in",),
                     help="Record only where the referral is recorded — never the concern itself."),
    InterventionType("Referral to the local authority (statutory trigger)", 4, ("trigger",)),
    InterventionType("Children-missing-education referral", 4),
    InterventionType("Elective home education notification", 4),
    InterventionType("Attendance contract", 5),
    InterventionType("Parenting contract", 5),
    InterventionType("Education supervision order", 5),
    InterventionType("Attendance letter (stage 3 — formal warning)", 6, help="Warning before a penalty notice."),
    InterventionType(PENALTY_TYPE, 6, (PENALTY_FIELD, "paid"),
                     help="Issued to a parent for a child; the national framework limits how many "
                          "each parent may have for the same child."),
    InterventionType("Prosecution referral", 6),
)

# Values earlier versions of Pastoral seeded, by (type, field): a store from before
# `intervention_type_seeds` that still holds one of these takes the seed's value now.
EARLIER_SEED_VALUES: dict[tuple[str, str], tuple] = {
    (PENALTY_TYPE, "help"): ("£80 if paid within 21 days, £160 within 28; a second within 3 years is £160; no third.",),
}

# The fields of a type the seed sets, as stored (details as JSON, needs_review_date as 0/1).
SEED_COLUMNS = ("name", "tier", "details", "needs_review_date", "help")
FOLLOW_THE_SEED = ("tier", "needs_review_date", "help")  # while the school has not changed them


def _seed_row(kind: InterventionType) -> tuple:
    return (kind.name, kind.tier, json.dumps(list(kind.details)), int(kind.needs_review_date), kind.help)


def _rows_by_name(conn, table: str) -> dict[str, tuple]:
    return {row[0]: tuple(row) for row in conn.execute(f"SELECT {', '.join(SEED_COLUMNS)} FROM {table}")}


def _brought_up_to_seed(seed: tuple, stored: tuple, taken: tuple | None) -> tuple:
    """A stored type with what the seed changed since the store took it (`taken`; None
    for a store from before the record) — the rule of the module docstring."""
    name, updated = seed[0], list(stored)
    for field in FOLLOW_THE_SEED:
        at = SEED_COLUMNS.index(field)
        unchanged = {taken[at]} if taken else {seed[at], *EARLIER_SEED_VALUES.get((name, field), ())}
        if stored[at] in unchanged:
            updated[at] = seed[at]
    had = json.loads(taken[2]) if taken else []
    have = json.loads(stored[2])
    updated[2] = json.dumps(have + [f for f in json.loads(seed[2]) if f not in had and f not in have])
    return tuple(updated)


def ensure_types(db: sqlite_utils.Database) -> None:
    """Seed the editable list of intervention types, and bring what the seed changed since
    the store last took it (the rule of the module docstring). Writes only when the seed
    differs from what the store took."""
    wanted = {row[0]: row for row in map(_seed_row, SEED_TYPES)}
    if _rows_by_name(db, "intervention_type_seeds") == wanted:
        return
    with store.transaction(db) as conn:
        taken = _rows_by_name(conn, "intervention_type_seeds")  # again inside the lock
        if taken == wanted:
            return
        stored = _rows_by_name(conn, "intervention_types")
        conn.executemany(
            "INSERT OR IGNORE INTO intervention_types (name, tier, details, needs_review_date, help, sort) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(*row, i) for i, row in enumerate(wanted.values()) if row[0] not in stored],
        )
        for name, seed in wanted.items():
            if name not in stored:
                continue
            updated = _brought_up_to_seed(seed, stored[name], taken.get(name))
            changed = [column for column, old, new in zip(SEED_COLUMNS, stored[name], updated) if old != new]
            if changed:
                conn.execute("UPDATE intervention_types SET tier = ?, details = ?, needs_review_date = ?, help = ? "
                             "WHERE name = ?", (*updated[1:], name))
                store.audit(conn, "pastoral", "intervention_type.seed", "intervention_types", name, {"fields": changed})
        conn.execute("DELETE FROM intervention_type_seeds")
        conn.executemany(f"INSERT INTO intervention_type_seeds ({', '.join(SEED_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                         list(wanted.values()))


def intervention_types(db: sqlite_utils.Database, include_inactive: bool = False) -> pd.DataFrame:
    """The list of types in tier order: id, name, tier, tier_name, details, needs_review_date, help, active."""
    ensure_types(db)
    rows = db.execute(
        "SELECT id, name, tier, details, needs_review_date, help, active FROM intervention_types "
        + ("" if include_inactive else "WHERE active = 1 ") + "ORDER BY tier, sort, name"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["id", "name", "tier", "details", "needs_review_date", "help", "active"])
    return frame.assign(details=frame["details"].map(lambda d: tuple(json.loads(d))),
                        tier_name=frame["tier"].map(TIERS),
                        needs_review_date=frame["needs_review_date"].astype(bool),
                        active=frame["active"].astype(bool))


def save_type(db, viewer: auth.Viewer, name: str, tier: int, details: list[str] | None = None,
              needs_review_date: bool | None = None, help: str | None = None, active: bool = True) -> None:
    """Add an intervention type, or change an existing one's tier and whether it is in use.

    Details, review date and help left as None keep what an existing type has. Types are
    never deleted (actions refer to them); one no longer used is made inactive.
    """
    if not viewer.may_edit_types:
        raise cases.CaseError("Only an admin or the pastoral lead can change the list of intervention types.")
    name = " ".join((name or "").split())
    if not name:
        raise cases.CaseError("Give the intervention type a name.")
    if len(name) > 80:
        raise cases.CaseError("Keep the name of an intervention type under 80 characters.")
    if tier not in TIERS:
        raise cases.CaseError(f"The tier must be 1 to 6 ({', '.join(f'{k} {v}' for k, v in TIERS.items())}).")
    unknown = set(details or []) - set(DETAIL_FIELDS)
    if unknown:
        raise cases.CaseError(f"Unknown detail fields: {', '.join(sorted(unknown))}.")
    ensure_types(db)
    with store.transaction(db) as conn:
        existing = conn.execute("SELECT details, needs_review_date, help FROM intervention_types WHERE name = ?",
                                (name,)).fetchone()
        kept_details, kept_review, kept_help = existing or ("[]", 0, "")
        values = (json.dumps(list(details)) if details is not None else kept_details,
                  int(needs_review_date) if needs_review_date is not None else kept_review,
                  help if help is not None else kept_help)
        conn.execute(
            "INSERT INTO intervention_types (name, tier, details, needs_review_date, help, active, sort) "
            "VALUES (?, ?, ?, ?, ?, ?, 1000) ON CONFLICT(name) DO UPDATE SET tier = excluded.tier, "
            "details = excluded.details, needs_review_date = excluded.needs_review_date, "
            "help = excluded.help, active = excluded.active",
            (name, tier, *values, int(active)),
        )
        store.audit(conn, viewer.username, "intervention_type.save", "intervention_types", name,
                    {"tier": tier, "active": active, "new": existing is None})


def save_types(db, viewer: auth.Viewer, wanted: list[tuple[str, int, bool]]) -> int:
    """Save an edited list of types — (name, tier, in use) for every type — and return how
    many changed. Every type stored must still be in the list: a type is never renamed or
    removed (actions refer to it), only made inactive; new names are added."""
    current = intervention_types(db, include_inactive=True)
    names = {" ".join(str(name).split()) for name, _, _ in wanted}
    missing = sorted(set(current["name"]) - names)
    if missing:
        raise cases.CaseError(f"A type cannot be renamed or removed, as actions refer to it: {', '.join(missing)}. "
                              "Untick “In use” instead, and add a new name as a new type.")
    stored = dict(zip(current["name"], zip(current["tier"], current["active"])))
    changed = [(name, tier, active) for name, tier, active in wanted
               if stored.get(" ".join(str(name).split())) != (tier, bool(active))]
    for name, tier, active in changed:
        save_type(db, viewer, name, tier, active=bool(active))
    return len(changed)


def details_text(details: dict) -> str:
    """A type's extra fields in words: 'Date issued 03/10/2025; Paid: Not paid yet'."""
    parts = []
    for name, value in (details or {}).items():
        spec = DETAIL_FIELDS.get(name, DetailField(name, "text"))
        shown = calendar.uk_date(date.fromisoformat(value)) if spec.kind == "date" else spec.label_of(value)
        parts.append(f"{spec.label}: {shown}")
    return "; ".join(parts)
