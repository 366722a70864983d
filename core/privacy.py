"""What a shared screen may show: meeting mode's one rule, applied to every name, table and download.

In the weekly meeting the app is on a projector. Then a pupil is their initials and form,
never a full name; identifiers (UPN, admission number, date of birth), sensitive notes and
contact details are not shown at all. Everything a screen draws about pupils passes through
`pupil_name` / `names` (a name) or `for_screen` (a table, before it is drawn or downloaded),
so a column added later is hidden everywhere by adding it to a list here — parent contact
details (issue 9) go in CONTACT_COLUMNS. The Streamlit side (`app_pages/ui/formatting.py`)
reads the meeting-mode toggle and calls these; nothing here knows about Streamlit.
"""

from __future__ import annotations

import re

import pandas as pd

from core import characteristics

NAME_COLUMNS = ("surname", "forename")
# Identify a child beyond the room's need: hidden in meeting mode.
IDENTIFIER_COLUMNS = ("upn", "adno", "admission_no", "dob", "date_of_birth", "mis_id")
# Notes only the pastoral lead (DSL) and admins read, and never on a shared screen.
SENSITIVE_COLUMNS = ("sensitive_note",)
# An attendance support plan's barriers, review notes and outcome (core/support_plans.py):
# read by the roles doing case work, never shown on a shared screen, like sensitive notes.
PLAN_NOTE_COLUMNS = ("barriers", "review_note", "plan_outcome")
# Parents' and carers' contact details (names, phone numbers, emails, addresses).
CONTACT_COLUMNS = (
    *characteristics.CONTACT_FIELDS,  # as the roll stores them (contact1_phone, address, ...)
    "contact_name", "contact_phone", "contact_email", "contact_address",
    "parent_name", "parent_phone", "parent_email", "phone", "email", "parent", "parents", "contacts",
    "with_whom",  # who a contact was with: often a parent's name ("Mother (Jane Smith)")
)
HIDDEN_COLUMNS = IDENTIFIER_COLUMNS + SENSITIVE_COLUMNS + PLAN_NOTE_COLUMNS + CONTACT_COLUMNS
NO_NAME = "(no name — upload the roll)"


def _normal(column: object) -> str:
    """'Date of birth', 'date_of_birth' and 'DateOfBirth' are the same column."""
    return re.sub(r"[^a-z0-9]", "", str(column).lower())


_HIDDEN = {_normal(c) for c in HIDDEN_COLUMNS} | {"admissionnumber", "admno", "sensitivenotes"}
_NAMES = {_normal(c) for c in NAME_COLUMNS}


def initials(surname: str | None, forename: str | None) -> str:
    """'A. A.' for Amir Ahmed (forename first); '—' when there is no name at all."""
    surname, forename = (surname or "").strip(), (forename or "").strip()
    if not (surname or forename):
        return "—"
    return " ".join(f"{part[:1].upper()}." for part in (forename, surname) if part)


def pupil_name(surname: str | None, forename: str | None, masked: bool) -> str:
    """'Ahmed, Amir', or initials in meeting mode."""
    if masked:
        return initials(surname, forename)
    surname, forename = (surname or "").strip(), (forename or "").strip()
    if surname and forename:
        return f"{surname}, {forename}"
    return surname or forename or NO_NAME


def pupil_label(surname: str | None, forename: str | None, form: str | None, masked: bool) -> str:
    """The name with the form, 'Ahmed, Amir (7A)' or 'A. A. (7A)': how a pupil is headed."""
    form = (form or "").strip()
    name = pupil_name(surname, forename, masked)
    return f"{name} ({form})" if form else name


def names(frame: pd.DataFrame, masked: bool) -> pd.Series:
    """pupil_name for each row of a frame with surname and forename columns."""
    return pd.Series(
        [pupil_name(s, f, masked) for s, f in zip(frame["surname"].fillna(""), frame["forename"].fillna(""))],
        index=frame.index, dtype="string",
    )


_CONTACTS = {_normal(c) for c in CONTACT_COLUMNS}


def is_hidden(column: object, masked: bool, contacts: bool | None = None) -> bool:
    """Whether a column (in any spelling) is left out: in meeting mode every identifier,
    sensitive note and contact column; for a reader who may not see parents and carers
    (`contacts` False: a viewer) the contact columns, meeting mode or not."""
    name = _normal(column)
    return (masked and name in _HIDDEN) or (contacts is False and name in _CONTACTS)


def for_screen(frame: pd.DataFrame, masked: bool, contacts: bool | None = None) -> pd.DataFrame:
    """The frame as this screen may show or download it: in meeting mode without identifier,
    sensitive-note and contact columns, and with surname and forename cut to initials; for a
    reader who may not see parents and carers (`contacts` False) without the contact columns.
    Unchanged otherwise."""
    dropped = [c for c in frame.columns if is_hidden(c, masked, contacts)]
    kept = frame.drop(columns=dropped) if dropped else frame
    if not masked:
        return kept
    return kept.assign(**{c: kept[c].map(_initial) for c in kept.columns if _normal(c) in _NAMES})


PARENT_INSTEAD = "the parent/carer"


def name_replacements(surname: str | None, forename: str | None, parents: list[str] | tuple[str, ...] = ()
                      ) -> list[tuple[str, str]]:
    """What a note about one pupil may not say on a shared screen, and what it says instead:
    the pupil's names (in any order, or either alone) become their initials; each parent's or
    carer's name, whole or any word of it, becomes PARENT_INSTEAD. Longest first, the pupil's
    own before a parent's that is spelt the same (a shared surname)."""
    surname, forename = (surname or "").strip(), (forename or "").strip()
    pupil = initials(surname, forename)
    pairs = [(f"{forename} {surname}", pupil), (f"{surname}, {forename}", pupil), (f"{surname} {forename}", pupil),
             (surname, f"{surname[:1].upper()}."), (forename, f"{forename[:1].upper()}.")]
    for parent in parents:
        words = " ".join(str(parent or "").split())
        pairs += [(words, PARENT_INSTEAD)] + [(word, PARENT_INSTEAD) for word in words.split(" ")]
    chosen: dict[str, tuple[str, str]] = {}
    for name, instead in pairs:
        name = name.strip(" ,")
        if len(name) >= 2:
            chosen.setdefault(name.lower(), (name, instead))
    return sorted(chosen.values(), key=lambda pair: len(pair[0]), reverse=True)


def without_names(text: str | None, replacements: list[tuple[str, str]]) -> str | None:
    """`text` (a note) with every name of `replacements` (name_replacements) replaced, as whole
    words and in any case: what a shared screen shows of a note."""
    if not text or not replacements:
        return text
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(name)}(?!\w)" for name, _ in replacements), re.IGNORECASE)
    instead = {name.lower(): replacement for name, replacement in replacements}
    return pattern.sub(lambda found: instead.get(found[0].lower(), found[0]), text)


def _initial(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
    return f"{text[:1].upper()}." if text else ""


# --- workflows' own words (penalty-notice ledger, children missing education) ---------------
# Who a notice went to, why it was issued, waived or withdrawn, and what a step's note says are
# case notes about a family: a shared screen shows that they exist, never what they say.
WORKFLOW_PRIVATE_COLUMNS = ("parent", "decision_reason", "settled_reason", "note")
HIDDEN_ON_SHARED_SCREEN = "(hidden in meeting mode)"


def without_workflow_words(frame: pd.DataFrame, masked: bool) -> pd.DataFrame:
    """The frame with each WORKFLOW_PRIVATE_COLUMNS value that is not empty replaced by
    HIDDEN_ON_SHARED_SCREEN when `masked` (meeting mode); unchanged otherwise."""
    if not masked or frame.empty:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v: HIDDEN_ON_SHARED_SCREEN if str(v or "").strip() else "")
                           for c in WORKFLOW_PRIVATE_COLUMNS if c in frame.columns})
