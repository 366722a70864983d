"""Case work: interventions, check-ins, contacts, key adults — and whether it worked.

Rules (issue 6, DOMAIN.md §5): support first, enforcement last — every intervention type
has a tier; nothing is deleted (closing and editing keep history); every create, edit,
close, check-in and contact is audited; viewers see no notes, and sensitive notes are for
the pastoral lead (DSL) and admins only (and never on a shared screen). A safeguarding
referral is recorded as *where* it is recorded, never what the concern was. A head of
section reads and writes cases for their sections' pupils only: the `Viewer` carries
their sections and every function here enforces them; callers may narrow the pupils
further by passing `pupil_ids`. Functions that judge "due" or "overdue" take `today`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from core import calendar, codes, patterns, store, triggers
from core.importers.values import name_key

TIERS = {
    1: "Expect",
    2: "Monitor",
    3: "Listen and understand",
    4: "Facilitate support",
    5: "Formalise support",
    6: "Enforce",
}

CONTACT_KINDS = {
    "call": "Phone call",
    "letter": "Letter",
    "email": "Email",
    "meeting": "Meeting",
    "home_visit": "Home visit",
    "text_message": "Text message",
}

# Who may read which parts of a case record, and who may write them.
NOTE_READERS = {"admin", "attendance_officer", "pastoral_lead", "head_of_section"}
SENSITIVE_READERS = {"admin", "pastoral_lead"}
CASE_WRITERS = {"admin", "attendance_officer", "pastoral_lead", "head_of_section"}
TYPE_EDITORS = {"admin", "pastoral_lead"}
SECTION_SCOPED = {"head_of_section"}  # these roles see only the pupils of their sections

# Columns that hold notes, by who may read them.
NOTE_COLUMNS = ("summary", "outcome", "note")
SENSITIVE_COLUMNS = ("sensitive_note",)


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


# The extra fields a type may record, as data: the form draws them, `open_intervention` checks them.
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


# Seeded into the editable list on first use (DOMAIN.md §5 and issue 6).
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

DEFAULT_CHECK_IN_DAYS = 14
REDUCED_TIMETABLE_REVIEW_WEEKS = 6
REVIEW_SOON_DAYS = 7  # a review date this close counts as due


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else f"{n}th"


@dataclass(frozen=True)
class PenaltyFramework:
    """The national penalty-notice framework (from August 2024), as data.

    The amounts, the repeat window and how many notices a parent may have for the same child
    within it are the school's settings (`penalty_amounts`, `penalty_repeat_years`,
    `penalty_notices_per_parent_child`; DOMAIN.md §4 gives the defaults), so build one with
    `from_settings`. The days to pay are the framework's own (the amounts' settings are
    named by them).
    """

    first_reduced_amount: int  # £, a first notice paid within `first_reduced_days`
    first_amount: int  # £, a first notice paid within `pay_within_days`
    second_amount: int  # £, a later notice within the window: no reduction
    window_years: int
    most_in_window: int  # per parent per child; then the next step is other action, e.g. prosecution
    first_reduced_days: int = 21
    pay_within_days: int = 28

    @classmethod
    def from_settings(cls, settings: dict) -> "PenaltyFramework":
        amounts = settings["penalty_amounts"]
        return cls(first_reduced_amount=int(amounts["first_paid_within_21_days"]),
                   first_amount=int(amounts["first_paid_within_28_days"]), second_amount=int(amounts["second"]),
                   window_years=int(settings["penalty_repeat_years"]),
                   most_in_window=int(settings["penalty_notices_per_parent_child"]))

    @classmethod
    def of(cls, db) -> "PenaltyFramework":
        """The framework as the school's settings have it."""
        return cls.from_settings(store.get_settings(db))

    def amount(self, number: int) -> float:
        """The full amount of the `number`th notice within the window (NaN beyond the limit)."""
        if number < 1 or number > self.most_in_window:
            return np.nan
        return float(self.first_amount if number == 1 else self.second_amount)

    def amount_text(self, number: int) -> str:
        """'£80 if paid within 21 days, £160 within 28' for a first notice, '£160 with no reduction' after."""
        if number == 1:
            return (f"£{self.first_reduced_amount} if paid within {self.first_reduced_days} days, "
                    f"£{self.first_amount} within {self.pay_within_days}")
        return f"£{self.second_amount} with no reduction"

    def describe(self) -> str:
        """The framework in one sentence, for the screens' captions."""
        same = f"to the same parent for the same child within {self.window_years} years"
        later = [ordinal(n) for n in range(2, self.most_in_window + 1)]
        parts = [f"a first notice is {self.amount_text(1)}"]
        if later:
            parts.append(f"a {' or '.join(later)} {same} is {self.amount_text(2)}")
        parts.append(f"there is no {ordinal(self.most_in_window + 1)}" + ("" if later else f" {same}")
                     + " — the next step is other action, e.g. prosecution")
        return "National framework: " + "; ".join(parts) + "."


class CaseError(ValueError):
    """A case entry that cannot be saved, with a message for the user."""


@dataclass(frozen=True)
class Viewer:
    """Who is reading or writing: their username, role and (a head of section's) sections.

    `shared_screen` is set in meeting mode: sensitive notes are never shown on a projector.
    """

    username: str
    role: str
    sections: tuple[str, ...] = ()
    shared_screen: bool = False

    @classmethod
    def of(cls, user: Any, shared_screen: bool = False) -> "Viewer":
        """The viewer for a signed-in user (anything with username, role and sections)."""
        return cls(user.username, user.role, tuple(getattr(user, "sections", ()) or ()), shared_screen)

    @property
    def sees_notes(self) -> bool:
        return self.role in NOTE_READERS

    @property
    def sees_sensitive(self) -> bool:
        return self.role in SENSITIVE_READERS and not self.shared_screen

    @property
    def may_write(self) -> bool:
        return self.role in CASE_WRITERS

    @property
    def may_write_sensitive(self) -> bool:
        return self.role in SENSITIVE_READERS

    @property
    def sees_all_pupils(self) -> bool:
        return self.role not in SECTION_SCOPED


# --- intervention types ------------------------------------------------------------


def ensure_types(db: sqlite_utils.Database) -> None:
    """Seed the editable list of intervention types once."""
    if db.execute("SELECT COUNT(*) FROM intervention_types").fetchone()[0]:
        return
    with store.transaction(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO intervention_types (name, tier, details, needs_review_date, help, sort) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(t.name, t.tier, json.dumps(list(t.details)), int(t.needs_review_date), t.help, i)
             for i, t in enumerate(SEED_TYPES)],
        )


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


def save_type(db, viewer: Viewer, name: str, tier: int, details: list[str] | None = None,
              needs_review_date: bool | None = None, help: str | None = None, active: bool = True) -> None:
    """Add an intervention type, or change an existing one's tier and whether it is in use.

    Details, review date and help left as None keep what an existing type has. Types are
    never deleted (actions refer to them); one no longer used is made inactive.
    """
    if viewer.role not in TYPE_EDITORS:
        raise CaseError("Only an admin or the pastoral lead can change the list of intervention types.")
    name = " ".join((name or "").split())
    if not name:
        raise CaseError("Give the intervention type a name.")
    if len(name) > 80:
        raise CaseError("Keep the name of an intervention type under 80 characters.")
    if tier not in TIERS:
        raise CaseError(f"The tier must be 1 to 6 ({', '.join(f'{k} {v}' for k, v in TIERS.items())}).")
    unknown = set(details or []) - set(DETAIL_FIELDS)
    if unknown:
        raise CaseError(f"Unknown detail fields: {', '.join(sorted(unknown))}.")
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


def save_types(db, viewer: Viewer, wanted: list[tuple[str, int, bool]]) -> int:
    """Save an edited list of types — (name, tier, in use) for every type — and return how
    many changed. Every type stored must still be in the list: a type is never renamed or
    removed (actions refer to it), only made inactive; new names are added."""
    current = intervention_types(db, include_inactive=True)
    names = {" ".join(str(name).split()) for name, _, _ in wanted}
    missing = sorted(set(current["name"]) - names)
    if missing:
        raise CaseError(f"A type cannot be renamed or removed, as actions refer to it: {', '.join(missing)}. "
                        "Untick “In use” instead, and add a new name as a new type.")
    stored = dict(zip(current["name"], zip(current["tier"], current["active"])))
    changed = [(name, tier, active) for name, tier, active in wanted
               if stored.get(" ".join(str(name).split())) != (tier, bool(active))]
    for name, tier, active in changed:
        save_type(db, viewer, name, tier, active=bool(active))
    return len(changed)


# --- scope: which pupils a viewer may read and write ----------------------------------


def _section_pupil_ids(db, viewer: Viewer) -> list[int]:
    """The pupils of a head of section's sections (year groups mapped by the `sections` setting)."""
    settings = store.get_settings(db)
    years = [year for section in viewer.sections for year in settings["sections"].get(section, [])]
    rows = db.execute("SELECT id FROM pupils WHERE year_group IN (SELECT value FROM json_each(?))",
                      (json.dumps(years),)).fetchall()
    return [row[0] for row in rows]


def visible_pupil_ids(db, viewer: Viewer, pupil_ids: list[int] | tuple[int, ...] | None = None) -> list[int] | None:
    """The pupils a read covers: those asked for (None = all), narrowed to the viewer's sections."""
    asked = None if pupil_ids is None else [int(p) for p in pupil_ids]
    if viewer.sees_all_pupils:
        return asked
    allowed = _section_pupil_ids(db, viewer)
    return allowed if asked is None else sorted(set(asked) & set(allowed))


def _check_pupil(conn, viewer: Viewer, pupil_id: int) -> None:
    """The pupil exists and is the writer's to record for."""
    row = conn.execute("SELECT year_group, surname, forename FROM pupils WHERE id = ?", (int(pupil_id),)).fetchone()
    if row is None:
        raise CaseError("That pupil is not in the store.")
    if viewer.sees_all_pupils:
        return
    section = store.section_of_year_groups(store.get_settings(conn)).get(row[0])
    if section not in viewer.sections:
        raise CaseError(f"{row[2]} {row[1]} is not in your sections ({', '.join(viewer.sections) or 'none'}), "
                        "so you cannot record case work for them; ask the attendance officer or pastoral lead.")


# --- writing -----------------------------------------------------------------------


def _require_writer(viewer: Viewer) -> None:
    if not viewer.may_write:
        raise CaseError("Your role can view cases but not record them.")


def _clean_text(text: str | None, limit: int = 5000) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise CaseError(f"Keep it under {limit} characters.")
    return text


def _check_sensitive(viewer: Viewer, sensitive_note: str | None) -> None:
    if (sensitive_note or "").strip() and not viewer.may_write_sensitive:
        raise CaseError("Only the pastoral lead or an admin can record a sensitive note.")


def _as_date(value: Any, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise CaseError(f"{label}: give a date.") from None


def clean_details(type_name: str, fields: tuple[str, ...], details: dict[str, Any] | None, opened_on: date,
                  fill_defaults: bool = True) -> dict[str, str]:
    """A type's extra fields checked and stored as text (dates ISO); defaults filled in."""
    details = {k: v for k, v in (details or {}).items() if v is not None and v != ""}
    unknown = set(details) - set(fields)
    if unknown:
        raise CaseError(f"{type_name} does not record {', '.join(sorted(unknown))}.")
    cleaned: dict[str, str] = {}
    for name in fields:
        spec = DETAIL_FIELDS.get(name, DetailField(name, "text"))
        value = details.get(name)
        if value is None and fill_defaults and spec.default is not None:
            value = opened_on if spec.default == "opened_on" else spec.default
        if value is None:
            if spec.required and fill_defaults:
                raise CaseError(f"{type_name}: fill in “{spec.label}”.")
            continue
        if spec.kind == "date":
            cleaned[name] = _as_date(value, spec.label).isoformat()
        elif spec.kind == "choice":
            if value not in spec.options:
                raise CaseError(f"{spec.label}: choose one of {', '.join(spec.option_labels or spec.options)}.")
            cleaned[name] = str(value)
        else:
            cleaned[name] = _clean_text(str(value), 200)
    if cleaned.get("from_date") and cleaned.get("to_date") and cleaned["to_date"] < cleaned["from_date"]:
        raise CaseError("The leave ends before it starts.")
    return cleaned


def _type_row(db, type_name: str) -> pd.Series:
    types = intervention_types(db).set_index("name")
    if type_name not in types.index:
        raise CaseError(f"'{type_name}' is not an intervention type in use; choose one from the list.")
    return types.loc[type_name]


def _check_where_only(kind: pd.Series, summary: str | None, sensitive_note: str | None) -> None:
    if WHERE_ONLY_FIELD in kind["details"] and ((summary or "").strip() or (sensitive_note or "").strip()):
        raise CaseError("For a safeguarding referral record only where it is recorded — never the concern; "
                        "leave the summary and notes empty.")


def open_intervention(
    db: sqlite_utils.Database,
    viewer: Viewer,
    pupil_id: int,
    type_name: str,
    owner: str,
    opened_on: date,
    summary: str = "",
    sensitive_note: str = "",
    review_on: date | None = None,
    check_in_on: date | None = None,
    details: dict[str, Any] | None = None,
    parent: str | None = None,
) -> int:
    """Record an action for a pupil; with `check_in_on`, also its first check-in.

    A penalty notice may name the `parent` it was issued to, and is refused when the
    framework allows that parent no further notice for this child (`check_penalty_allowed`).
    """
    _require_writer(viewer)
    _check_sensitive(viewer, sensitive_note)
    kind = _type_row(db, type_name)
    _check_where_only(kind, summary, sensitive_note)
    if kind["needs_review_date"] and review_on is None:
        raise CaseError(f"A {type_name.lower()} needs a review date (normally within "
                        f"{REDUCED_TIMETABLE_REVIEW_WEEKS} weeks).")
    if review_on is not None and review_on < opened_on:
        raise CaseError("The review date is before the date the action started.")
    if check_in_on is not None and check_in_on < opened_on:
        raise CaseError("The check-in date is before the date the action started.")
    if not (owner or "").strip():
        raise CaseError("Every action needs an owner.")
    cleaned = clean_details(type_name, kind["details"], details, opened_on)
    penalty = PENALTY_FIELD in kind["details"]
    parent = " ".join((parent or "").split())
    if parent and not penalty:
        raise CaseError(f"A {type_name.lower()} is not issued to a parent; only a penalty notice records who it went to.")
    if len(parent) > 200:
        raise CaseError("Keep the parent's name under 200 characters.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if penalty:
            check_penalty_allowed(db, viewer, pupil_id, parent, date.fromisoformat(cleaned[PENALTY_FIELD]))
        cursor = conn.execute(
            "INSERT INTO interventions (pupil_id, type_id, tier, owner, opened_on, review_on, status, summary, "
            "sensitive_note, details, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            (int(pupil_id), int(kind["id"]), int(kind["tier"]), owner.strip(), opened_on.isoformat(),
             review_on.isoformat() if review_on else None, _clean_text(summary), _clean_text(sensitive_note),
             json.dumps(cleaned), viewer.username, store.now()),
        )
        intervention_id = cursor.lastrowid
        store.audit(conn, viewer.username, "intervention.open", "interventions", intervention_id,
                    {"pupil_id": int(pupil_id), "type": type_name, "owner": owner.strip()})
        if parent:
            conn.execute("INSERT INTO penalty_notice_parents (intervention_id, parent) VALUES (?, ?)",
                         (intervention_id, parent))
            store.audit(conn, viewer.username, "penalty_notice.parent", "interventions", intervention_id,
                        {"pupil_id": int(pupil_id), "parent": parent})
        if check_in_on is not None:
            _insert_checkin(conn, viewer, pupil_id, intervention_id, check_in_on, owner.strip())
    return intervention_id


def _insert_checkin(conn, viewer: Viewer, pupil_id: int, intervention_id: int | None, due_on: date, owner: str) -> int:
    cursor = conn.execute(
        "INSERT INTO checkins (pupil_id, intervention_id, due_on, owner, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (int(pupil_id), intervention_id, due_on.isoformat(), owner, viewer.username, store.now()),
    )
    store.audit(conn, viewer.username, "checkin.schedule", "checkins", cursor.lastrowid,
                {"pupil_id": int(pupil_id), "due_on": due_on.isoformat(), "owner": owner})
    return cursor.lastrowid


INTERVENTION_KEYS = ["id", "pupil_id", "type_id", "owner", "opened_on", "review_on", "status", "summary", "outcome",
                     "sensitive_note", "details", "closed_on"]


def _intervention(conn, intervention_id: int) -> dict:
    row = conn.execute(f"SELECT {', '.join(INTERVENTION_KEYS)} FROM interventions WHERE id = ?",
                       (int(intervention_id),)).fetchone()
    if row is None:
        raise CaseError("That action no longer exists.")
    return dict(zip(INTERVENTION_KEYS, row))


EDITABLE = {"owner", "review_on", "summary", "sensitive_note", "details"}


def edit_intervention(db, viewer: Viewer, intervention_id: int, **changes: Any) -> None:
    """Change an open action; the record before the change is kept in its history."""
    _require_writer(viewer)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise CaseError(f"These cannot be edited: {', '.join(sorted(unknown))}.")
    if "sensitive_note" in changes and not viewer.may_write_sensitive:
        raise CaseError("Only the pastoral lead or an admin can change a sensitive note.")
    if "owner" in changes and not (changes["owner"] or "").strip():
        raise CaseError("Every action needs an owner.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        _check_pupil(conn, viewer, before["pupil_id"])
        if before["status"] != "open":
            raise CaseError("This action is closed; open a new one instead.")
        kind_name, fields, needs_review = conn.execute(
            "SELECT name, details, needs_review_date FROM intervention_types WHERE id = ?",
            (before["type_id"],)).fetchone()
        opened_on = date.fromisoformat(before["opened_on"])
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "details":
                merged = {**json.loads(before["details"]), **(value or {})}
                cleaned = clean_details(kind_name, tuple(json.loads(fields)), merged, opened_on)
                issued = cleaned.get(PENALTY_FIELD)
                if issued and issued != json.loads(before["details"]).get(PENALTY_FIELD):
                    parent = conn.execute("SELECT parent FROM penalty_notice_parents WHERE intervention_id = ?",
                                          (int(intervention_id),)).fetchone()
                    check_penalty_allowed(db, viewer, before["pupil_id"], parent[0] if parent else None,
                                          date.fromisoformat(issued), leaving_out=intervention_id)
                values[key] = json.dumps(cleaned)
            elif key == "review_on":
                if value is None and needs_review:
                    raise CaseError(f"A {kind_name.lower()} needs a review date.")
                if value is not None and value < opened_on:
                    raise CaseError("The review date is before the date the action started.")
                values[key] = value.isoformat() if value else None
            else:
                values[key] = _clean_text(value)
        if WHERE_ONLY_FIELD in json.loads(fields) and (values.get("summary") or values.get("sensitive_note")):
            raise CaseError("For a safeguarding referral record only where it is recorded — never the concern.")
        values = {k: v for k, v in values.items() if v != before[k]}
        if not values:
            return
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            f"UPDATE interventions SET {', '.join(f'{k} = ?' for k in values)}, updated_by = ?, updated_at = ? WHERE id = ?",
            (*values.values(), viewer.username, store.now(), int(intervention_id)),
        )
        store.audit(conn, viewer.username, "intervention.edit", "interventions", intervention_id,
                    {"fields": sorted(values)})


CLOSED_WITH_ACTION = "Not needed: the action was closed."


def close_intervention(db, viewer: Viewer, intervention_id: int, outcome: str, closed_on: date) -> None:
    """Close an action with its outcome; the record stays, with its history.

    Its check-ins still outstanding are recorded as done on the closing date ("not
    needed"), so they leave the overdue lists but stay in the pupil's chronology.
    """
    _require_writer(viewer)
    if not (outcome or "").strip():
        raise CaseError("Say what the outcome was before closing the action.")
    with store.transaction(db) as conn:
        before = _intervention(conn, intervention_id)
        _check_pupil(conn, viewer, before["pupil_id"])
        if before["status"] == "closed":
            raise CaseError("This action is already closed.")
        if closed_on < date.fromisoformat(before["opened_on"]):
            raise CaseError("The closing date is before the action started.")
        _keep_history(conn, viewer, intervention_id, before)
        conn.execute(
            "UPDATE interventions SET status = 'closed', outcome = ?, closed_on = ?, updated_by = ?, updated_at = ? "
            "WHERE id = ?",
            (_clean_text(outcome), closed_on.isoformat(), viewer.username, store.now(), int(intervention_id)),
        )
        store.audit(conn, viewer.username, "intervention.close", "interventions", intervention_id, {})
        outstanding = [row[0] for row in conn.execute(
            "SELECT id FROM checkins WHERE intervention_id = ? AND done_on IS NULL", (int(intervention_id),))]
        for checkin_id in outstanding:
            conn.execute("UPDATE checkins SET done_on = ?, done_by = ?, outcome = ? WHERE id = ?",
                         (closed_on.isoformat(), viewer.username, CLOSED_WITH_ACTION, checkin_id))
            store.audit(conn, viewer.username, "checkin.complete", "checkins", checkin_id,
                        {"pupil_id": before["pupil_id"], "with_action": int(intervention_id)})


def _keep_history(conn, viewer: Viewer, intervention_id: int, before: dict) -> None:
    conn.execute(
        "INSERT INTO intervention_history (intervention_id, changed_by, changed_at, before) VALUES (?, ?, ?, ?)",
        (int(intervention_id), viewer.username, store.now(), json.dumps(before)),
    )


def schedule_checkin(db, viewer: Viewer, pupil_id: int, due_on: date, owner: str, intervention_id: int | None = None) -> int:
    _require_writer(viewer)
    if not (owner or "").strip():
        raise CaseError("Every check-in needs an owner.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if intervention_id is not None:
            action = _intervention(conn, intervention_id)
            if action["pupil_id"] != int(pupil_id):
                raise CaseError("That action is for another pupil.")
        return _insert_checkin(conn, viewer, pupil_id, intervention_id, due_on, owner.strip())


def complete_checkin(db, viewer: Viewer, checkin_id: int, done_on: date, outcome: str, note: str = "",
                     next_due_on: date | None = None) -> int | None:
    """Record a check-in as done; with `next_due_on`, schedule the next one for the same owner."""
    _require_writer(viewer)
    if not (outcome or "").strip():
        raise CaseError("Say how the check-in went.")
    if next_due_on is not None and next_due_on < done_on:
        raise CaseError("The next check-in is before this one was done.")
    with store.transaction(db) as conn:
        row = conn.execute("SELECT pupil_id, intervention_id, owner, done_on FROM checkins WHERE id = ?",
                           (int(checkin_id),)).fetchone()
        if row is None:
            raise CaseError("That check-in no longer exists.")
        _check_pupil(conn, viewer, row[0])
        if row[3] is not None:
            raise CaseError("This check-in has already been done.")
        conn.execute("UPDATE checkins SET done_on = ?, done_by = ?, outcome = ?, note = ? WHERE id = ?",
                     (done_on.isoformat(), viewer.username, _clean_text(outcome), _clean_text(note), int(checkin_id)))
        store.audit(conn, viewer.username, "checkin.complete", "checkins", checkin_id, {"pupil_id": row[0]})
        if next_due_on is not None:
            return _insert_checkin(conn, viewer, row[0], row[1], next_due_on, row[2])
    return None


def log_contact(db, viewer: Viewer, pupil_id: int, kind: str, contact_on: date, with_whom: str,
                summary: str = "", sensitive_note: str = "", intervention_id: int | None = None) -> int:
    """A call, letter, email, meeting or home visit with parents or agencies."""
    _require_writer(viewer)
    _check_sensitive(viewer, sensitive_note)
    if kind not in CONTACT_KINDS:
        raise CaseError(f"Choose the kind of contact: {', '.join(CONTACT_KINDS.values())}.")
    if not (with_whom or "").strip():
        raise CaseError("Say who the contact was with (e.g. mother, social worker).")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        if intervention_id is not None and _intervention(conn, intervention_id)["pupil_id"] != int(pupil_id):
            raise CaseError("That action is for another pupil.")
        cursor = conn.execute(
            "INSERT INTO contacts (pupil_id, intervention_id, kind, with_whom, contact_on, summary, sensitive_note, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(pupil_id), intervention_id, kind, _clean_text(with_whom, 200), contact_on.isoformat(),
             _clean_text(summary), _clean_text(sensitive_note), viewer.username, store.now()),
        )
        store.audit(conn, viewer.username, "contact.log", "contacts", cursor.lastrowid,
                    {"pupil_id": int(pupil_id), "kind": kind})
        return cursor.lastrowid


def assign_key_adult(db, viewer: Viewer, pupil_id: int, staff_username: str) -> None:
    """Allocate a vulnerable pupil to a key member of staff (replacing any earlier one)."""
    _require_writer(viewer)
    staff = db.execute("SELECT active FROM users WHERE username = ?", (staff_username,)).fetchone()
    if staff is None or not staff[0]:
        raise CaseError(f"'{staff_username}' is not a member of staff who can sign in.")
    with store.transaction(db) as conn:
        _check_pupil(conn, viewer, pupil_id)
        conn.execute(
            "INSERT INTO key_adults (pupil_id, username, assigned_on, assigned_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(pupil_id) DO UPDATE SET username = excluded.username, "
            "assigned_on = excluded.assigned_on, assigned_by = excluded.assigned_by",
            (int(pupil_id), staff_username, store.now(), viewer.username),
        )
        store.audit(conn, viewer.username, "key_adult.assign", "key_adults", pupil_id, {"key_adult": staff_username})


# --- reading -----------------------------------------------------------------------

# Audit entities of case work: their newest entry stamps cached case data.
CASE_ENTITIES = ("interventions", "checkins", "contacts", "key_adults", "intervention_types")


def stamp(db) -> int:
    """Changes whenever case work is written (every write is audited): a key for caches."""
    row = db.execute("SELECT id FROM audit WHERE entity IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT 1",
                     (json.dumps(CASE_ENTITIES),)).fetchone()
    return row[0] if row else 0


def _in_scope(sql: str, pupil_ids: list[int] | None, params: list, column: str = "i.pupil_id") -> str:
    """Restrict a query to the given pupils (None = every pupil)."""
    if pupil_ids is None:
        return sql
    params.append(json.dumps([int(p) for p in pupil_ids]))
    return sql + f" AND {column} IN (SELECT value FROM json_each(?))"


def redact(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """Hide what the viewer may not read: every note for viewers, sensitive notes for most."""
    hidden = [] if viewer.sees_notes else list(NOTE_COLUMNS)
    if not viewer.sees_sensitive:
        hidden += list(SENSITIVE_COLUMNS)
    return frame.drop(columns=[c for c in hidden if c in frame.columns])


def interventions(db, viewer: Viewer, pupil_ids: list[int] | None = None, status: str | None = None,
                  owner: str | None = None) -> pd.DataFrame:
    """Actions with their type and pupil, newest first, redacted for the viewer."""
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, t.name AS type, i.tier, "
        "i.owner, i.opened_on, i.review_on, i.status, i.summary, i.outcome, i.sensitive_note, i.details, i.closed_on, "
        "i.created_by, i.updated_by "
        "FROM interventions i JOIN pupils p ON p.id = i.pupil_id JOIN intervention_types t ON t.id = i.type_id "
        "WHERE 1 = 1", visible_pupil_ids(db, viewer, pupil_ids), params)
    if status:
        sql += " AND i.status = ?"
        params.append(status)
    if owner:
        sql += " AND i.owner = ?"
        params.append(owner)
    frame = _frame(db, sql + " ORDER BY i.opened_on DESC, i.id DESC", params)
    frame = frame.assign(
        opened_on=_dates(frame["opened_on"]), review_on=_dates(frame["review_on"]), closed_on=_dates(frame["closed_on"]),
        details=frame["details"].map(json.loads), tier_name=frame["tier"].map(TIERS))
    return redact(frame, viewer)


def checkins(db, viewer: Viewer, today: date, pupil_ids: list[int] | None = None, owner: str | None = None,
             outstanding_only: bool = True) -> pd.DataFrame:
    """Check-ins with `overdue` (due before today, not done) and `days_overdue`; the caseload and overdue lists."""
    params: list = []
    sql = _in_scope(
        "SELECT c.id, c.pupil_id, p.upn, p.surname, p.forename, p.form, p.year_group, c.intervention_id, "
        "t.name AS type, c.due_on, c.owner, c.done_on, c.done_by, c.outcome, c.note, c.created_by "
        "FROM checkins c JOIN pupils p ON p.id = c.pupil_id "
        "LEFT JOIN interventions i ON i.id = c.intervention_id "
        "LEFT JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1",
        visible_pupil_ids(db, viewer, pupil_ids), params, column="c.pupil_id")
    if owner:
        sql += " AND c.owner = ?"
        params.append(owner)
    if outstanding_only:
        sql += " AND c.done_on IS NULL"
    frame = _frame(db, sql + " ORDER BY c.due_on, c.id", params)
    due = pd.to_datetime(frame["due_on"])
    late = (pd.Timestamp(today) - due).dt.days
    overdue = frame["done_on"].isna() & (late > 0)
    frame = frame.assign(due_on=_dates(frame["due_on"]), done_on=_dates(frame["done_on"]),
                         overdue=overdue.astype(bool), days_overdue=late.where(overdue, 0).fillna(0).astype("int64"))
    return redact(frame, viewer)


def contacts(db, viewer: Viewer, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Contacts with parents and agencies, newest first, redacted for the viewer."""
    params: list = []
    sql = _in_scope(
        "SELECT i.id, i.pupil_id, i.intervention_id, i.kind, i.with_whom, i.contact_on, i.summary, "
        "i.sensitive_note, i.created_by FROM contacts i WHERE 1 = 1", visible_pupil_ids(db, viewer, pupil_ids), params)
    frame = _frame(db, sql + " ORDER BY i.contact_on DESC, i.id DESC", params)
    frame = frame.assign(contact_on=_dates(frame["contact_on"]), kind_label=frame["kind"].map(CONTACT_KINDS))
    return redact(frame, viewer)


def staff_names(db) -> dict[str, str]:
    """username → the name colleagues know them by (for owners and authors)."""
    return dict(db.execute("SELECT username, name FROM users").fetchall())


def key_adults(db, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """pupil_id → key_adult (username) and key_adult_name."""
    params: list = []
    sql = _in_scope("SELECT k.pupil_id, k.username AS key_adult, COALESCE(u.name, k.username) AS key_adult_name "
                    "FROM key_adults k LEFT JOIN users u ON u.username = k.username WHERE 1 = 1",
                    pupil_ids, params, column="k.pupil_id")
    return _frame(db, sql, params)


LATEST_COLUMNS = ["pupil_id", "last_action", "last_action_on", "next_check_in", "check_in_overdue"]


def latest_actions(db, pupil_ids: list[int] | None = None, today: date | None = None) -> pd.DataFrame:
    """Per pupil: the latest action (an intervention opened or a contact made) and its date,
    and the next outstanding check-in with whether it is overdue (for the PA list).

    Holds no notes, so one frame serves every role; callers keep the rows of their pupils.
    """
    params = []
    actions_sql = _in_scope(
        "SELECT i.pupil_id, t.name, i.opened_on, i.created_at FROM interventions i "
        "JOIN intervention_types t ON t.id = i.type_id WHERE 1 = 1", pupil_ids, params)
    contacts_sql = _in_scope(
        f"SELECT i.pupil_id, {_contact_label_sql()}, i.contact_on, i.created_at FROM contacts i WHERE 1 = 1",
        pupil_ids, params)
    done = _frame(db,
                  "SELECT pupil_id, last_action, last_action_on FROM (SELECT pupil_id, name AS last_action, "
                  "opened_on AS last_action_on, ROW_NUMBER() OVER (PARTITION BY pupil_id ORDER BY opened_on DESC, "
                  f"created_at DESC) AS n FROM ({actions_sql} UNION ALL {contacts_sql})) WHERE n = 1", params)
    params = []
    due = _frame(db, _in_scope(
        "SELECT i.pupil_id, MIN(i.due_on) AS next_check_in FROM checkins i WHERE i.done_on IS NULL",
        pupil_ids, params) + " GROUP BY i.pupil_id", params)
    merged = done.merge(due, on="pupil_id", how="outer")
    today = today or date.today()
    overdue = pd.to_datetime(merged["next_check_in"]) < pd.Timestamp(today)
    return merged.assign(last_action_on=_dates(merged["last_action_on"]), next_check_in=_dates(merged["next_check_in"]),
                         check_in_overdue=overdue.to_numpy(dtype=bool))[LATEST_COLUMNS]


def _contact_label_sql() -> str:
    """SQL naming a contact's kind in words, from CONTACT_KINDS."""
    whens = " ".join(f"WHEN '{kind}' THEN '{label}'" for kind, label in CONTACT_KINDS.items())
    return f"CASE i.kind {whens} ELSE i.kind END"


def _frame(db, sql: str, params: list) -> pd.DataFrame:
    cursor = db.execute(sql, params)
    return pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])


def _dates(values: pd.Series) -> pd.Series:
    return values.map(lambda v: date.fromisoformat(v[:10]) if isinstance(v, str) and v else None).astype(object)


# --- lists the team works from ----------------------------------------------------------


def without_recent_action(db, figures: pd.DataFrame, today: date, days: int) -> pd.DataFrame:
    """Persistently absent pupils (of `figures`, already the caller's scope) with no action
    — no intervention opened and no contact made — in the `days` days up to `today`."""
    pa = figures[figures["persistently_absent"]]
    latest = latest_actions(db, pa["pupil_id"].tolist(), today)
    merged = pa.merge(latest, on="pupil_id", how="left")
    last = pd.to_datetime(merged["last_action_on"])
    stale = last.isna() | (last < pd.Timestamp(today - timedelta(days=days)))
    return merged[stale.to_numpy()].reset_index(drop=True)


def reduced_timetables_due(db, viewer: Viewer, today: date, within_days: int = REVIEW_SOON_DAYS,
                           pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Open actions of a type that needs a review date (a reduced timetable) whose review
    date has passed or falls within `within_days`, soonest first, with `review_overdue`."""
    types = intervention_types(db, include_inactive=True)
    reviewed = set(types.loc[types["needs_review_date"], "name"])
    open_actions = interventions(db, viewer, pupil_ids, status="open")
    due = open_actions[open_actions["type"].isin(reviewed) & open_actions["review_on"].notna()]
    review = pd.to_datetime(due["review_on"])
    due = due[(review <= pd.Timestamp(today + timedelta(days=within_days))).to_numpy()]
    return (due.assign(review_overdue=(pd.to_datetime(due["review_on"]) < pd.Timestamp(today)).to_numpy())
            .sort_values(["review_on", "id"]).reset_index(drop=True))


# --- penalty notices under the national framework -----------------------------------------
#
# One rule for every screen: notices are counted per parent per child (DOMAIN.md §4). The
# parent a notice went to is in `penalty_notice_parents`; names are compared by their words
# (`values.name_key`: case, accents and order ignored). A notice with no parent recorded is
# counted with the child's other notices that have none — one group, labelled
# PARENT_NOT_RECORDED, never merged with a named parent's. That is the cautious reading: a
# school that never records the parent is held to one count per child, so no third notice
# slips through because nobody said who the first two went to.

PARENT_NOT_RECORDED = "(parent not recorded)"


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def parent_key(name: str | None) -> str:
    """The parent a notice went to, as compared: '' when none is recorded."""
    return name_key(" ".join((name or "").split()))


def parent_label(name: str | None) -> str:
    return " ".join((name or "").split()) or PARENT_NOT_RECORDED


def _in_window(issued: date, on: date, framework: PenaltyFramework) -> bool:
    """Whether a notice issued on `issued` counts on `on`: within the `window_years` up to it.
    A notice exactly `window_years` old no longer counts."""
    return _years_before(on, framework.window_years) < issued <= on


@dataclass(frozen=True)
class NoticeTerms:
    """What the framework allows for the next notice to a parent for a child on a date."""

    parent: str  # as shown: the name, or PARENT_NOT_RECORDED
    earlier: int  # notices to this parent for this child within the window up to the date
    number: int  # the next notice's number within the window; 0 when no further notice may be issued
    amount: float  # £ in full (NaN when none may be issued)
    until: date | None  # when none may be issued: the first day one may again
    next_step: str  # in words
    window_years: int

    @property
    def allowed(self) -> bool:
        return self.number > 0

    @property
    def counted(self) -> str:
        """'2 notices to Jane Smith for this child in the last 3 years.'"""
        to = "with no parent recorded" if self.parent == PARENT_NOT_RECORDED else f"to {self.parent}"
        return (f"{self.earlier} notice{'s' if self.earlier != 1 else ''} {to} for this child in the last "
                f"{self.window_years} years.")

    def issued_text(self, framework: PenaltyFramework) -> str:
        """'a first notice: £80 if paid within 21 days, £160 within 28' (for the record of one issued)."""
        within = "" if self.number == 1 else f" within {framework.window_years} years"
        return f"a {ordinal(self.number)} notice{within}: {framework.amount_text(self.number)}"


def penalty_terms(history: pd.DataFrame, pupil_id: int, parent: str | None, on: date,
                  framework: PenaltyFramework) -> NoticeTerms:
    """The next notice to `parent` (None or '' = not recorded) for the pupil on `on`, from
    `penalty_notice_history` (notices issued after `on` are not counted)."""
    mine = history[(history["pupil_id"] == int(pupil_id)) & (history["parent_key"] == parent_key(parent))]
    counted = sorted(d for d in mine["date_issued"] if _in_window(d, on, framework))
    earlier, label, years = len(counted), parent_label(parent), framework.window_years
    if earlier >= framework.most_in_window:
        until = _years_before(counted[-framework.most_in_window], -years)
        return NoticeTerms(label, earlier, 0, np.nan, until,
                           f"No further notice to this parent for this child within {years} years (until "
                           f"{calendar.uk_date(until)}): the next step is other action, e.g. prosecution.", years)
    number = earlier + 1
    within = "" if number == 1 else f" within {years} years"
    return NoticeTerms(label, earlier, number, framework.amount(number), None,
                       f"A {ordinal(number)} notice{within} would be {framework.amount_text(number)}.", years)


def _penalty_refusal(history: pd.DataFrame, pupil_id: int, parent: str | None, issued: date,
                     framework: PenaltyFramework) -> str | None:
    """Why a notice to `parent` for the pupil issued on `issued` may not be recorded, or None.

    Refused when the parent already has the most the window allows for this child up to
    that date — and, for a notice entered late, when it would make a notice already recorded
    after it one too many within its window."""
    terms = penalty_terms(history, pupil_id, parent, issued, framework)
    if not terms.allowed:
        return f"{terms.counted} {terms.next_step}"
    mine = history[(history["pupil_id"] == int(pupil_id)) & (history["parent_key"] == parent_key(parent))]
    for later in sorted(d for d in mine["date_issued"] if d > issued):
        counted = sum(_in_window(d, later, framework) for d in [*mine["date_issued"], issued])
        if counted > framework.most_in_window:
            return (f"A notice issued on {calendar.uk_date(issued)} would make the notice of "
                    f"{calendar.uk_date(later)} the {ordinal(counted)} to {terms.parent} for this child within "
                    f"{framework.window_years} years; the framework allows {framework.most_in_window}.")
    return None


def check_penalty_allowed(db, viewer: Viewer, pupil_id: int, parent: str | None, issued: date,
                          framework: PenaltyFramework | None = None, leaving_out: int | None = None) -> None:
    """Refuse (CaseError) a notice the framework does not allow; `leaving_out` is a notice
    being changed (not counted against itself). The writer may record for the pupil, so
    their view of the pupil's notices is the whole history."""
    framework = framework or PenaltyFramework.of(db)
    history = penalty_notice_history(db, viewer, [pupil_id], framework)
    if leaving_out is not None:
        history = history[history["id"] != int(leaving_out)]
    refusal = _penalty_refusal(history, pupil_id, parent, issued, framework)
    if refusal:
        raise CaseError(refusal)


def _penalty_type_names(db) -> set[str]:
    types = intervention_types(db, include_inactive=True)
    return set(types.loc[types["details"].map(lambda d: PENALTY_FIELD in d), "name"])


NOTICE_COLUMNS = ["id", "pupil_id", "upn", "surname", "forename", "form", "year_group", "date_issued", "paid",
                  "parent", "parent_key", "number_in_window", "reduced_amount", "reduced_by", "amount", "pay_by",
                  "beyond_framework"]


def penalty_notice_history(db, viewer: Viewer, pupil_ids: list[int] | None = None,
                           framework: PenaltyFramework | None = None) -> pd.DataFrame:
    """Every penalty notice recorded, oldest first, with what the framework (default: the
    settings') makes of it: the parent it went to (`parent` PARENT_NOT_RECORDED when none is
    recorded, `parent_key` as compared), its number among the notices to the same parent for
    the same child in the `window_years` up to its date, the amount and dates to pay (£80
    within 21 days or £160 within 28 for a first; £160 within 28 for a second), and
    `beyond_framework` for one past the limit (recorded before the rule refused it, or the
    settings changed since)."""
    framework = framework or PenaltyFramework.of(db)
    actions = interventions(db, viewer, pupil_ids)
    notices = actions[actions["type"].isin(_penalty_type_names(db))]
    parents = dict(db.execute(
        "SELECT intervention_id, parent FROM penalty_notice_parents WHERE intervention_id IN "
        "(SELECT value FROM json_each(?))", (json.dumps([int(i) for i in notices["id"]]),)).fetchall())
    named = notices["id"].map(lambda i: parents.get(int(i), ""))
    issued = pd.Series([_as_date(d.get(PENALTY_FIELD) or o, "Date issued") for d, o in
                        zip(notices["details"], notices["opened_on"])], index=notices.index, dtype=object)
    notices = notices.assign(date_issued=issued, paid=notices["details"].map(lambda d: d.get("paid", "unpaid")),
                             parent=named.map(parent_label), parent_key=named.map(parent_key))
    notices = notices.sort_values(["pupil_id", "date_issued", "id"]).reset_index(drop=True)
    issued_at = pd.to_datetime(notices["date_issued"])
    window_start = pd.to_datetime(notices["date_issued"].map(lambda d: _years_before(d, framework.window_years)))
    group = ["pupil_id", "parent_key"]
    pairs = (notices[["id", *group]].assign(at=issued_at, start=window_start)
             .merge(notices[group].assign(other_at=issued_at, other_id=notices["id"]), on=group))
    before_it = (pairs["other_at"] < pairs["at"]) | ((pairs["other_at"] == pairs["at"]) & (pairs["other_id"] < pairs["id"]))
    earlier = pairs[(pairs["other_at"] > pairs["start"]) & before_it]
    number = notices["id"].map(earlier.groupby("id").size()).fillna(0).astype("int64") + 1
    first = number == 1
    return notices.assign(
        number_in_window=number,
        reduced_amount=np.where(first, framework.first_reduced_amount, np.nan),
        reduced_by=np.where(first, (issued_at + pd.Timedelta(days=framework.first_reduced_days)).dt.date, None),
        amount=np.where(first, framework.first_amount, framework.second_amount),
        pay_by=(issued_at + pd.Timedelta(days=framework.pay_within_days)).dt.date.astype(object),
        beyond_framework=(number > framework.most_in_window).to_numpy(),
    )[NOTICE_COLUMNS]


PENALTY_SUMMARY_COLUMNS = ["pupil_id", "upn", "surname", "forename", "form", "year_group", "notices_this_year",
                           "last_issued", "last_paid", "unpaid_past_due", "parent", "notices_in_window", "next_step",
                           "next_notice_amount", "no_further_notice_until"]


def penalty_notices(db, viewer: Viewer, today: date, pupil_ids: list[int] | None = None,
                    year_of: date | None = None, framework: PenaltyFramework | None = None) -> pd.DataFrame:
    """Per pupil with a penalty notice issued in the academic year of `year_of` (default
    `today`): how many, the last one and whether it is paid, unpaid notices past their
    days to pay, and — for the parent the latest notice went to (`parent`) — their notices
    for this child within the window and the framework's next step as of `today`. A
    family view shows the same terms for each parent (`penalty_terms`)."""
    framework = framework or PenaltyFramework.of(db)
    history = penalty_notice_history(db, viewer, pupil_ids, framework)
    year_start = calendar.academic_year_start(year_of or today)
    year_end = calendar.academic_year_end(year_of or today)
    issued = pd.to_datetime(history["date_issued"])
    this_year = history[((issued >= pd.Timestamp(year_start)) & (issued <= pd.Timestamp(year_end))).to_numpy()]
    if this_year.empty:
        return pd.DataFrame(columns=PENALTY_SUMMARY_COLUMNS)
    history = history[history["pupil_id"].isin(this_year["pupil_id"])]
    unpaid_due = history[(history["paid"] != "paid").to_numpy()
                         & (pd.to_datetime(history["pay_by"]) < pd.Timestamp(today)).to_numpy()]
    identity = ["pupil_id", "upn", "surname", "forename", "form", "year_group"]
    summary = (this_year.groupby(identity, as_index=False)
               .agg(notices_this_year=("id", "size"), last_issued=("date_issued", "max")))
    last_paid = this_year.sort_values(["date_issued", "id"]).groupby("pupil_id")["paid"].last()
    latest = history.sort_values(["date_issued", "id"]).groupby("pupil_id")[["parent", "parent_key"]].last()
    parents, keys = summary["pupil_id"].map(latest["parent"]), summary["pupil_id"].map(latest["parent_key"])
    terms = [penalty_terms(history, pupil_id, parent if key else None, today, framework)
             for pupil_id, parent, key in zip(summary["pupil_id"], parents, keys)]
    return summary.assign(
        last_paid=summary["pupil_id"].map(last_paid),
        unpaid_past_due=summary["pupil_id"].map(unpaid_due.groupby("pupil_id").size()).fillna(0).astype("int64"),
        parent=parents,
        notices_in_window=pd.Series([t.earlier for t in terms], index=summary.index, dtype="int64"),
        next_step=[t.next_step for t in terms],
        next_notice_amount=[t.amount for t in terms],
        no_further_notice_until=pd.Series([t.until for t in terms], index=summary.index, dtype=object),
    )[PENALTY_SUMMARY_COLUMNS].sort_values(["last_issued", "surname"], ascending=[False, True], ignore_index=True)


def penalty_next_step(db, viewer: Viewer, pupil_id: int, on: date, parent: str | None = None,
                      framework: PenaltyFramework | None = None) -> str:
    """What the framework says about another notice to `parent` (None: not recorded) for
    this child on `on` (for the form): the notices counted, then the next step."""
    framework = framework or PenaltyFramework.of(db)
    terms = penalty_terms(penalty_notice_history(db, viewer, [pupil_id], framework), pupil_id, parent, on, framework)
    return f"{terms.counted} {terms.next_step}"


# --- the pupil's chronology ------------------------------------------------------------

CHRONOLOGY_COLUMNS = ["on", "kind", "what", "detail", "note", "sensitive_note", "by", "overdue",
                      "intervention_id", "checkin_id"]
# The kinds of event, and within a day the order they read in (newest first, so the first
# thing to happen reads last).
CHRONOLOGY_KIND_ORDER = {"mark_change": 0, "trigger_withdrawn": 0, "trigger": 1, "action_opened": 2, "contact": 3, "checkin_done": 4,
               "action_closed": 5, "checkin_due": 6}


def chronology(db, viewer: Viewer, pupil_id: int, today: date, reached: pd.DataFrame | None = None) -> pd.DataFrame:
    """Everything about one pupil in one timeline, newest first: marks changed by later
    uploads (dated by the upload's "data as at"), triggers reached, actions opened and
    closed, contacts, check-ins due and done — with the notes this viewer may read (`note`
    is None for a viewer; `sensitive_note` only for the pastoral lead and admins). `reached`
    is the school's triggers frame when the caller has it (else it is computed)."""
    if visible_pupil_ids(db, viewer, [pupil_id]) == []:
        raise CaseError("That pupil is not in your sections.")
    sees_notes, sees_sensitive = viewer.sees_notes, viewer.sees_sensitive
    staff = staff_names(db)
    events: list[dict] = []

    def add(on, kind, what, detail="", note="", sensitive="", by="", overdue=False, action=None, checkin=None):
        events.append({"on": on, "kind": kind, "what": what, "detail": detail,
                       "note": (note or "") if sees_notes else None,
                       "sensitive_note": (sensitive or "") if sees_sensitive else None,
                       "by": staff.get(by, by or ""), "overdue": bool(overdue), "intervention_id": action,
                       "checkin_id": checkin})

    history = patterns.mark_history(db, pupil_id)
    if not history.empty:  # one event per upload, on the date its data was as at
        for (day, by, file_name), changes in history.groupby(["data_as_at", "changed_by", "file_name"], sort=False):
            listed = "; ".join(f"{calendar.uk_date(d)} {s} {o or '·'} → {n or '·'}" for d, s, o, n in
                               changes[["date", "session", "old_code", "new_code"]].head(6).itertuples(index=False))
            more = f" and {len(changes) - 6} more" if len(changes) > 6 else ""
            add(day, "mark_change", f"{len(changes)} mark{'s' if len(changes) != 1 else ''} changed by an upload",
                f"{listed}{more} ({file_name})", by=by)

    if reached is None:
        reached = triggers.reached(db)
    for row in reached[reached["pupil_id"] == pupil_id].itertuples():
        add(_as_date(row.reached_on, "reached on"), "trigger",
            f"Trigger reached: {triggers.BY_ID[row.trigger].label if row.trigger in triggers.BY_ID else row.trigger}",
            triggers.BY_ID[row.trigger].next_step if row.trigger in triggers.BY_ID else "")
    shown = triggers.history(db, [pupil_id])
    for row in shown[shown["withdrawn_at"].notna()].itertuples():
        add(calendar.local_date(row.withdrawn_at), "trigger_withdrawn",
            f"Trigger withdrawn: {triggers.BY_ID[row.trigger].label if row.trigger in triggers.BY_ID else row.trigger}",
            f"shown from {calendar.uk_date(calendar.local_date(row.first_shown_at))} "
            f"as reached on {calendar.uk_date(row.reached_on)}; no longer reached once marks were corrected")

    for row in interventions(db, viewer, [pupil_id]).to_dict("records"):
        facts = (f"Tier {row['tier']} {row['tier_name']}", f"owner {staff.get(row['owner'], row['owner'])}",
                 details_text(row["details"]), f"review {calendar.uk_date(row['review_on'])}" if row["review_on"] else "")
        add(row["opened_on"], "action_opened", f"Action opened: {row['type']}", "; ".join(p for p in facts if p),
            row.get("summary"), row.get("sensitive_note"), row["created_by"], action=row["id"])
        if row["status"] == "closed":
            add(row["closed_on"], "action_closed", f"Action closed: {row['type']}", "", row.get("outcome"),
                by=row["updated_by"], action=row["id"])

    for row in contacts(db, viewer, [pupil_id]).to_dict("records"):
        add(row["contact_on"], "contact", f"{row['kind_label']} with {row['with_whom']}", "",
            row.get("summary"), row.get("sensitive_note"), row["created_by"], action=row["intervention_id"])

    for row in checkins(db, viewer, today, [pupil_id], outstanding_only=False).to_dict("records"):
        about = f" ({row['type']})" if row["type"] else ""
        owner = f"owner {staff.get(row['owner'], row['owner'])}"
        if row["done_on"] is None:
            days = row["days_overdue"]
            late = f"; {days} day{'s' if days != 1 else ''} overdue" if row["overdue"] else ""
            add(row["due_on"], "checkin_due", f"Check-in {'overdue' if row['overdue'] else 'due'}{about}",
                owner + late, by=row["created_by"], overdue=row["overdue"], action=row["intervention_id"],
                checkin=row["id"])
        else:
            note = " — ".join(p for p in (row.get("outcome"), row.get("note")) if p)
            add(row["done_on"], "checkin_done", f"Check-in done{about}", f"due {calendar.uk_date(row['due_on'])}",
                note, by=row["done_by"], action=row["intervention_id"], checkin=row["id"])

    frame = pd.DataFrame(events, columns=CHRONOLOGY_COLUMNS)
    if frame.empty:
        return frame
    order = frame["kind"].map(CHRONOLOGY_KIND_ORDER)
    return (frame.assign(_order=order).sort_values(["on", "_order"], ascending=[False, False], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def details_text(details: dict) -> str:
    """A type's extra fields in words: 'Date issued 03/10/2025; Paid: Not paid yet'."""
    parts = []
    for name, value in (details or {}).items():
        spec = DETAIL_FIELDS.get(name, DetailField(name, "text"))
        shown = calendar.uk_date(date.fromisoformat(value)) if spec.kind == "date" else spec.label_of(value)
        parts.append(f"{spec.label}: {shown}")
    return "; ".join(parts)


# --- impact --------------------------------------------------------------------------

IMPACT_COLUMNS = ["id", "pupil_id", "type", "tier", "opened_on", "before_pct", "after_pct", "change_pts",
                  "before_possible", "after_possible", "after_days", "window_complete"]


def impact(db, viewer: Viewer, school_days: int, pupil_ids: list[int] | None = None) -> pd.DataFrame:
    """Attendance in the `school_days` school days before each action opened and from it on.

    School days are the school's (days with a session), so holidays don't dilute either
    window. `after_days` says how many school days have passed since; fewer than
    `school_days` means the after figure is still forming (`window_complete` False).
    """
    actions = interventions(db, viewer, pupil_ids)
    if actions.empty:
        return pd.DataFrame(columns=IMPACT_COLUMNS)
    span = store.mark_date_range(db)
    days = (store.school_session_days(db, calendar.to_day(span[0]), calendar.to_day(span[1]))["day"].to_numpy()
            if span else np.array([], dtype=np.int64))
    if len(days) == 0:
        return actions.assign(before_pct=np.nan, after_pct=np.nan, change_pts=np.nan, before_possible=0,
                              after_possible=0, after_days=0, window_complete=False)[IMPACT_COLUMNS]
    opened = np.array([calendar.to_day(d) for d in actions["opened_on"]])
    at = np.searchsorted(days, opened, side="left")  # first school day on or after opening
    before_first = days[np.maximum(at - school_days, 0)]
    after_last = days[np.minimum(at + school_days, len(days)) - 1]
    windows = actions[["id", "pupil_id"]].assign(
        before_first=before_first, opened=opened, after_last=after_last,
        after_days=np.minimum(len(days) - at, school_days))
    marks = store.load_marks(db, int(before_first.min()), int(after_last.max()),
                             pupil_ids=actions["pupil_id"].unique().tolist())
    category = codes.classify_by_era(marks["code"], codes.era_of(calendar.days_to_dates(marks["day"])))
    marks = marks.assign(possible=category.isin(codes.POSSIBLE_CATEGORIES).to_numpy(),
                         attended=category.isin(codes.ATTENDANCE_CATEGORIES).to_numpy())
    joined = windows.merge(marks, on="pupil_id")
    before = joined[(joined["day"] >= joined["before_first"]) & (joined["day"] < joined["opened"])]
    after = joined[(joined["day"] >= joined["opened"]) & (joined["day"] <= joined["after_last"])
                   & (joined["after_days"] > 0)]

    def rates(part: pd.DataFrame, name: str) -> pd.DataFrame:
        sums = part.groupby("id")[["possible", "attended"]].sum()
        return pd.DataFrame({f"{name}_possible": sums["possible"],
                             f"{name}_pct": sums["attended"] / sums["possible"].where(sums["possible"] > 0) * 100})

    result = (actions[["id", "pupil_id", "type", "tier", "opened_on"]]
              .merge(windows[["id", "after_days"]], on="id")
              .merge(rates(before, "before"), left_on="id", right_index=True, how="left")
              .merge(rates(after, "after"), left_on="id", right_index=True, how="left"))
    result = result.assign(change_pts=result["after_pct"] - result["before_pct"],
                           before_possible=result["before_possible"].fillna(0).astype(int),
                           after_possible=result["after_possible"].fillna(0).astype(int),
                           window_complete=result["after_days"] >= school_days)
    return result[IMPACT_COLUMNS]


SMALL_GROUP = 10
IMPACT_BY_TYPE_COLUMNS = ["type", "tier", "pupils", "actions", "mean_change_pts", "improved", "indicative_only"]


def impact_by_type(per_action: pd.DataFrame) -> pd.DataFrame:
    """Per intervention type, over actions whose after window is complete and which have
    figures both sides: pupils, actions, mean change in points, how many improved; groups
    of fewer than SMALL_GROUP pupils are flagged as indicative only."""
    measured = per_action.dropna(subset=["change_pts"])
    measured = measured[measured["window_complete"].astype(bool)]
    if measured.empty:
        return pd.DataFrame(columns=IMPACT_BY_TYPE_COLUMNS)
    grouped = measured.groupby("type").agg(
        tier=("tier", "min"), pupils=("pupil_id", "nunique"), actions=("id", "size"),
        mean_change_pts=("change_pts", "mean"), improved=("change_pts", lambda c: int((c > 0).sum())))
    return (grouped.reset_index().assign(indicative_only=lambda f: f["pupils"] < SMALL_GROUP)
            .sort_values(["tier", "type"], ignore_index=True)[IMPACT_BY_TYPE_COLUMNS])
