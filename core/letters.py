"""Letters from templates: attendance letters (stages 1–3), an invitation to an attendance
meeting, a leave-of-absence decision and a penalty-notice warning.

A template is a title and a body with fields in braces (`{pupil_name}`, `{attendance_pct}`);
the school edits them (admin and attendance officer) and they are kept in the store, the
defaults here standing in until then. Filling a template for a pupil reads the figures
for the period, the parent/carer from the roll, the unauthorised sessions in the rolling
penalty-notice window (`triggers.penalty_window`), the school and the signatory. A field
without a value (no parent's name in the roll, say) stops that letter with a message
saying what to add — never a crash, never a letter with a hole in it.

Letters come out as one PDF (one letter a page, a batch together); each letter sent is
recorded as a contact of kind "letter" on the pupil's record and, for the staged
attendance letters, as an action of the matching type, so the escalation stage a pupil
has reached is always known (`stages`).

On a trust's store (issue 18) each letter is its pupil's school's: headed with that school's
name, address and telephone, signed for it, and worded from its template (a school with no
wording of its own uses the store's own school's, else the default), so a batch spanning
two schools gives each letter its own school's heading.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import sqlite_utils

from core import auth, calendar, cases, marks, metrics, pdf, reads, schools, store, triggers
from core.calendar import uk_date

# Fields a template can use, and what each holds.
FIELDS: dict[str, str] = {
    "date": "the date of the letter (e.g. 19 December 2025)",
    "school_name": "the school's name",
    "school_address": "the school's address (Admin → letters)",
    "school_phone": "the school's telephone number (Admin → letters)",
    "signatory": "who signs the letter",
    "signatory_role": "their role",
    "parent_name": "the first parent/carer contact in the roll",
    "address": "the family's address and postcode from the roll",
    "pupil_name": "the pupil's forename and surname",
    "pupil_forename": "the pupil's forename",
    "form": "the pupil's form",
    "year_group": "the pupil's year group (e.g. Year 7)",
    "attendance_pct": "attendance over the dates chosen (e.g. 86.4%)",
    "sessions_missed": "absence sessions (authorised and unauthorised) over the dates chosen",
    "possible_sessions": "possible sessions over the dates chosen",
    "authorised_sessions": "authorised absence sessions over the dates chosen",
    "unauthorised_sessions": "unauthorised absence sessions over the dates chosen",
    "period_from": "the first date counted: the start of the dates chosen, or the pupil's first register in them",
    "period_to": "the last date counted: the end of the dates chosen, or the pupil's last register in them",
    "penalty_window_sessions": "unauthorised sessions in the rolling penalty-notice window",
    "penalty_window_weeks": "the school weeks that window covers (10 by default)",
    "penalty_window_from": "the first day of that window",
    "penalty_threshold": "the sessions that reach the penalty-notice threshold (10 by default)",
    "meeting_date": "the meeting's date (asked for when making the letters)",
    "meeting_time": "the meeting's time",
    "meeting_place": "where the meeting is",
    "leave_from": "the first day of leave asked for",
    "leave_to": "the last day of leave asked for",
    "leave_decision": "the decision on the request (e.g. 'has not been authorised')",
}
# Fields the person making the letters types in (they are not in the store).
ASKED_FIELDS = ("meeting_date", "meeting_time", "meeting_place", "leave_from", "leave_to", "leave_decision")


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    body: str
    action: str | None = None  # the intervention type recorded when sent (the staged letters)
    updated_by: str = ""
    updated_at: str = ""

    @property
    def fields(self) -> list[str]:
        return fields_used(self.title + "\n" + self.body)


_GREETING = "Dear {parent_name},\n\n"
_SIGN_OFF = "\n\nYours sincerely,\n\n\n{signatory}\n{signatory_role}, {school_name}"

DEFAULT_TEMPLATES: dict[str, Template] = {t.kind: t for t in (
    Template("stage_1", "{pupil_name}'s attendance", _GREETING +
             "I am writing about {pupil_forename}'s attendance at {school_name}. Between {period_from} and "
             "{period_to}, {pupil_forename} attended {attendance_pct} of sessions and missed {sessions_missed} "
             "sessions, {unauthorised_sessions} of them unauthorised.\n\n"
             "Every day in school matters, and attendance at or below 90% means {pupil_forename} is missing a "
             "session or more every week. We would like to work with you to help {pupil_forename} attend every "
             "day. If anything is making it hard for {pupil_forename} to come to school, please contact me so "
             "that we can talk about what would help." + _SIGN_OFF,
             action="Attendance letter (stage 1)"),
    Template("stage_2", "Concern about {pupil_name}'s attendance", _GREETING +
             "I wrote to you earlier about {pupil_forename}'s attendance, which has not improved enough. Between "
             "{period_from} and {period_to}, {pupil_forename} attended {attendance_pct} of sessions and missed "
             "{sessions_missed} sessions, {unauthorised_sessions} of them unauthorised.\n\n"
             "I would like to meet you to understand what is getting in the way and agree the support "
             "{pupil_forename} needs. Please contact the school office within the next week to arrange a time." +
             _SIGN_OFF, action="Attendance letter (stage 2)"),
    Template("stage_3", "Formal warning: {pupil_name}'s attendance", _GREETING +
             "Despite our earlier letters and the support offered, {pupil_forename}'s attendance remains a serious "
             "concern. Between {period_from} and {period_to}, {pupil_forename} attended {attendance_pct} of "
             "sessions and missed {sessions_missed} sessions, {unauthorised_sessions} of them unauthorised. In the "
             "last {penalty_window_weeks} school weeks (since {penalty_window_from}) {pupil_forename} has had "
             "{penalty_window_sessions} sessions of unauthorised absence.\n\n"
             "Parents have a legal duty to make sure their child attends school regularly. If the attendance "
             "does not improve, the school may ask the local authority to take formal action, which can include "
             "a penalty notice or prosecution. Please contact me straight away so that we can agree a plan." +
             _SIGN_OFF, action="Attendance letter (stage 3 — formal warning)"),
    Template("meeting_invitation", "Invitation to an attendance meeting about {pupil_name}", _GREETING +
             "I would like to invite you to a meeting about {pupil_forename}'s attendance on {meeting_date} at "
             "{meeting_time}, at {meeting_place}. {pupil_forename}'s attendance between {period_from} and "
             "{period_to} is {attendance_pct}.\n\n"
             "The meeting is a chance to talk about anything that makes attending difficult and to agree how we "
             "can help. If the time does not suit you, please contact the school office to arrange another." +
             _SIGN_OFF),
    Template("leave_decision", "Request for leave of absence for {pupil_name}", _GREETING +
             "Thank you for your request for {pupil_forename} to be absent from school from {leave_from} to "
             "{leave_to}. Having considered it, the headteacher's decision is that the leave {leave_decision}.\n\n"
             "Leave in term time can only be authorised in exceptional circumstances. Absence that has not been "
             "authorised is recorded as unauthorised and may lead to a penalty notice." + _SIGN_OFF),
    Template("penalty_warning", "Warning of a penalty notice: {pupil_name}", _GREETING +
             "In the last {penalty_window_weeks} school weeks (since {penalty_window_from}), {pupil_forename} has "
             "had {penalty_window_sessions} sessions of unauthorised absence. The national framework for penalty "
             "notices applies when a pupil has {penalty_threshold} or more sessions of unauthorised absence within "
             "{penalty_window_weeks} school weeks.\n\n"
             "If there is further unauthorised absence, the school may ask the local authority to issue a penalty "
             "notice. Please contact me if there is a reason for the absence that we do not know about, or if you "
             "would like help to improve {pupil_forename}'s attendance." + _SIGN_OFF),
)}
KIND_LABELS = {
    "stage_1": "Attendance letter — stage 1",
    "stage_2": "Attendance letter — stage 2",
    "stage_3": "Attendance letter — stage 3 (formal warning)",
    "meeting_invitation": "Invitation to an attendance meeting",
    "leave_decision": "Leave-of-absence decision",
    "penalty_warning": "Penalty-notice warning",
}
STAGES = {"stage_1": 1, "stage_2": 2, "stage_3": 3}
STAGE_ACTIONS = {DEFAULT_TEMPLATES[kind].action: stage for kind, stage in STAGES.items()}


class LetterError(ValueError):
    """A template or letter that cannot be made, with a message for the user."""


def fields_used(text: str) -> list[str]:
    """The fields a template names, in order; a LetterError for a broken one."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise LetterError(f"A brace in the template is not closed or opened ({error}); write fields as "
                          "{pupil_name}, and a brace on its own as {{ or }}.") from error
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or spec or conversion or not name.isidentifier():
            raise LetterError(f"'{{{name}}}' is not a field; fields are single words in braces, e.g. {{pupil_name}}.")
        names.append(name)
    return list(dict.fromkeys(names))


# --- templates in the store ---------------------------------------------------------------


def templates(db: sqlite_utils.Database, school_id: int | None = None) -> dict[str, Template]:
    """Every template: the school's saved wording, else the default. A school other than the
    store's own (school 1, also meant by None) falls back to school 1's wording, then the default."""
    school_id = store.FIRST_SCHOOL if school_id is None else int(school_id)
    saved = {}
    for school in dict.fromkeys((store.FIRST_SCHOOL, school_id)):  # the school's own wording wins
        saved.update({row[0]: row[1:] for row in db.execute(
            "SELECT kind, title, body, updated_by, updated_at FROM letter_templates WHERE school_id = ?",
            (school,)).fetchall()})
    found = {}
    for kind, default in DEFAULT_TEMPLATES.items():
        if kind in saved:
            title, body, by, at = saved[kind]
            found[kind] = Template(kind, title, body, default.action, by, at)
        else:
            found[kind] = default
    return found


def _require_editor(viewer: auth.Viewer) -> None:
    if not auth.may(viewer.role, "edit_letter_templates"):
        raise LetterError("Only an administrator or the attendance officer can change letter templates.")


def save_template(db: sqlite_utils.Database, viewer: auth.Viewer, kind: str, title: str, body: str,
                  school_id: int | None = None) -> None:
    """Keep the school's wording of a template (checked: every field must be one we fill);
    `school_id`: whose (the store's own school unless named)."""
    _require_editor(viewer)
    school_id = _school_to_edit(db, viewer, school_id)
    if kind not in DEFAULT_TEMPLATES:
        raise LetterError(f"'{kind}' is not a kind of letter.")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise LetterError("A template needs a title and a body.")
    unknown = [name for name in fields_used(title + "\n" + body) if name not in FIELDS]
    if unknown:
        raise LetterError(f"The template uses {', '.join('{' + n + '}' for n in unknown)}, which "
                          f"{'is not a field' if len(unknown) == 1 else 'are not fields'}. "
                          f"Fields: {', '.join('{' + n + '}' for n in FIELDS)}.")
    with store.transaction(db) as conn:
        conn.execute(
            "INSERT INTO letter_templates (school_id, kind, title, body, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(school_id, kind) DO UPDATE SET title = excluded.title, body = excluded.body, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (school_id, kind, title, body, store.now(), viewer.username))
        store.audit(conn, viewer.username, "letter_template.save", "letter_templates", kind,
                    {"title": title, "school_id": school_id})


def reset_template(db: sqlite_utils.Database, viewer: auth.Viewer, kind: str, school_id: int | None = None) -> None:
    """Go back to the default wording (a school other than the store's own: to school 1's)."""
    _require_editor(viewer)
    school_id = _school_to_edit(db, viewer, school_id)
    with store.transaction(db) as conn:
        conn.execute("DELETE FROM letter_templates WHERE school_id = ? AND kind = ?", (school_id, kind))
        store.audit(conn, viewer.username, "letter_template.reset", "letter_templates", kind, {"school_id": school_id})


def _school_to_edit(db: sqlite_utils.Database, viewer: auth.Viewer, school_id: int | None) -> int:
    """The school whose template is changed: one the viewer may see, and one the store holds."""
    school_id = store.FIRST_SCHOOL if school_id is None else int(school_id)
    if viewer.school_ids is not None and school_id not in viewer.school_ids:
        raise LetterError("You can change the letter templates of your own school only.")
    if db.execute("SELECT 1 FROM schools WHERE id = ?", (school_id,)).fetchone() is None:
        raise LetterError(f"There is no school {school_id}.")
    return school_id


# --- filling them in --------------------------------------------------------------------


def long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _pct(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1f}%"


def field_values(db: sqlite_utils.Database, period: metrics.Period, pupil_ids: list[int], letter_date: date,
                 signatory: str, asked: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per pupil: every field's value as text ('' where the store has none), and the
    pupil's `school_id`. The school's name, address, telephone and signatory's role are the
    pupil's school's; `signatory` blank: each school's signatory (`letter_signatory`)."""
    settings = store.get_settings(db)
    wanted = [int(p) for p in pupil_ids]
    pupils = store.pupils_frame(db, contacts=True, pupil_ids=wanted).set_index("id").reindex(wanted)
    school_of = schools.school_of_pupils(db, wanted).reindex(pupils.index).fillna(store.FIRST_SCHOOL).astype("int64")
    of_school = {int(s): store.get_settings(db, int(s)) for s in school_of.unique()}
    school_value = lambda key: school_of.map(lambda s: of_school[int(s)][key] or "")  # noqa: E731
    path = reads.path_of(db)
    figures = reads.figures_of_pupils(path, reads.version(path), period.date_from, period.as_of, wanted)
    figures = figures.set_index("pupil_id").reindex(pupils.index)
    window = triggers.penalty_window(db, period.as_of, list(pupils.index)).set_index("pupil_id").reindex(pupils.index)
    address = (pupils["address"].fillna("").str.strip() + "\n" + pupils["postcode"].fillna("").str.strip()).str.strip()
    possible = figures["possible_sessions"].fillna(0).astype(int)
    counted = lambda column: figures[column].fillna(0).astype(int).astype(str).where(possible > 0, "")  # noqa: E731
    window_from = window["window_from"].map(lambda d: uk_date(d) if isinstance(d, date) else "")
    # The period each pupil was on roll within the dates chosen: a pupil who joined last week
    # is told about their weeks with us, not the whole term.
    on_roll = marks.first_and_last_days(db, calendar.to_day(period.date_from), calendar.to_day(period.as_of),
                                        list(pupils.index)).set_index("pupil_id").reindex(pupils.index)
    on_roll_from = on_roll["first"].map(lambda d: uk_date(calendar.from_day(int(d))) if pd.notna(d)
                                        else uk_date(period.date_from))
    on_roll_to = on_roll["last"].map(lambda d: uk_date(calendar.from_day(int(d))) if pd.notna(d)
                                     else uk_date(period.as_of))
    values = pd.DataFrame({
        "date": long_date(letter_date),
        "school_name": school_value("school_name"),
        "school_address": school_value("school_address"),
        "school_phone": school_value("school_phone"),
        "signatory": signatory if str(signatory or "").strip() else school_value("letter_signatory"),
        "signatory_role": school_value("letter_signatory_role"),
        "parent_name": pupils["contact1_name"].fillna(""),
        "address": address,
        "pupil_name": (pupils["forename"].fillna("") + " " + pupils["surname"].fillna("")).str.strip(),
        "pupil_forename": pupils["forename"].fillna(""),
        "form": pupils["form"].fillna(""),
        "year_group": pupils["year_group"].fillna("").map(_year_label),
        "attendance_pct": figures["attendance_pct"].map(_pct),
        "sessions_missed": (figures["authorised_sessions"].fillna(0) + figures["unauthorised_sessions"].fillna(0))
        .astype(int).astype(str).where(possible > 0, ""),
        "possible_sessions": counted("possible_sessions"),
        "authorised_sessions": counted("authorised_sessions"),
        "unauthorised_sessions": counted("unauthorised_sessions"),
        "period_from": on_roll_from,
        "period_to": on_roll_to,
        "penalty_window_sessions": window["unauthorised_sessions"].fillna(0).astype(int).astype(str)
        .where(window_from != "", ""),
        "penalty_window_weeks": str(settings["penalty_school_weeks"]),
        "penalty_window_from": window_from,
        "penalty_threshold": str(settings["penalty_sessions"]),
        **{name: (asked or {}).get(name, "") for name in ASKED_FIELDS},
    }, index=pupils.index)
    values = values.fillna("").astype(str).assign(school_id=school_of.to_numpy(dtype="int64"))
    return values.rename_axis("pupil_id")


def _year_label(year_group: str) -> str:
    if not year_group:
        return ""
    return {"R": "Reception", "N1": "Nursery", "N2": "Nursery"}.get(year_group, f"Year {year_group}")


@dataclass
class Letter:
    pupil_id: int
    kind: str
    title: str
    body: str
    parent: str
    address: str
    pupil_name: str
    # The letterhead: the pupil's school's (blank: the one given to `pdf_bytes`).
    school_name: str = ""
    school_address: str = ""
    school_phone: str = ""


@dataclass
class Batch:
    letters: list[Letter] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # pupil_id, pupil name, why


MISSING_ADVICE = {
    "parent_name": "add parent/carer contacts to the roll (a 'Primary Contact Name' column) and upload it",
    "address": "add addresses to the roll (an 'Address' column) and upload it",
    "school_address": "an administrator can set the school's address under Admin",
    "signatory": "say who signs the letters",
    "attendance_pct": "the pupil has no possible sessions in the dates chosen",
    "penalty_window_from": "no school weeks are stored before this date",
    "penalty_window_sessions": "no school weeks are stored before this date",
}


def compose(template: Template, values: pd.DataFrame, by_school: dict[int, Template] | None = None) -> Batch:
    """Fill the template for each pupil; a pupil missing a field the template uses is
    refused with a message that says which and what to do. `by_school`: school id → that
    school's template of the same kind, used for its pupils (`values`' school_id)."""
    chosen = {None: template, **(by_school or {})}
    for one in chosen.values():
        unknown = [n for n in one.fields if n not in FIELDS]
        if unknown:
            raise LetterError(f"The template uses {', '.join('{' + n + '}' for n in unknown)}, which is not a field; "
                              "edit the template.")
    schools_of = values["school_id"] if "school_id" in values else pd.Series(None, index=values.index, dtype=object)
    batch = Batch()
    for pupil_id, row in values.iterrows():  # one row per letter, never per mark
        school = schools_of.get(pupil_id)
        template = chosen.get(None if school is None or pd.isna(school) else int(school), chosen[None])
        names = template.fields
        empty = [n for n in names if not str(row[n]).strip()]
        name = row["pupil_name"] or f"pupil {pupil_id}"
        if empty:
            why = "; ".join(f"no {FIELDS[n]} ({{{n}}})" + (f" — {MISSING_ADVICE[n]}" if n in MISSING_ADVICE else
                            " — type it in above" if n in ASKED_FIELDS else "") for n in empty)
            batch.refused.append((int(pupil_id), name, why))
            continue
        filled = {n: row[n] for n in names}
        batch.letters.append(Letter(int(pupil_id), template.kind, template.title.format(**filled),
                                    template.body.format(**filled), row["parent_name"], row["address"], name,
                                    row["school_name"], row["school_address"], row["school_phone"]))
    return batch


# --- the PDF -----------------------------------------------------------------------------------


def pdf_bytes(letters: list[Letter], school_name: str, school_address: str, letter_date: date,
              school_phone: str = "") -> bytes:
    """One PDF, each letter from a new page (a letter may run on): letterhead (the school's
    name, address and telephone — each letter's own school's where it has one, else those
    given), addressee, date, title, body — the shared A4 document of core/pdf.py, with its fonts."""
    document = pdf.LetterDocument(school_name, _contact(school_address, school_phone))
    for letter in letters:
        if letter.school_name:
            document.school = letter.school_name
            document.address = pdf.LetterDocument.contact_lines(_contact(letter.school_address, letter.school_phone))
        document.letter([letter.parent, letter.address], long_date(letter_date), letter.title, letter.body)
    return document.pdf_bytes()


def _contact(address: str, phone: str) -> str:
    return "\n".join(part for part in (address.strip(), f"Tel. {phone.strip()}" if phone.strip() else "") if part)


# --- recording letters sent -----------------------------------------------------------------


def record_sent(db: sqlite_utils.Database, viewer: auth.Viewer, template: Template, letters: list[Letter],
                sent_on: date) -> int:
    """Each letter on the pupil's record: a contact of kind 'letter' (and, for a staged
    attendance letter, an action of the matching type that the contact belongs to)."""
    for letter in letters:
        action = None
        if template.action:
            action = cases.open_intervention(db, viewer, letter.pupil_id, template.action, viewer.username, sent_on,
                                             summary=f"{letter.title} — letter sent to {letter.parent}.")
        cases.log_contact(db, viewer, letter.pupil_id, "letter", sent_on, letter.parent or "parent/carer",
                          summary=f"Letter sent: {letter.title} ({KIND_LABELS[template.kind]}).", intervention_id=action)
    return len(letters)


def stages(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_ids: list[int] | None = None,
           since: date | None = None) -> pd.DataFrame:
    """Per pupil: the highest attendance-letter stage sent (since `since`, e.g. the start of
    the academic year), and when."""
    actions = cases.interventions(db, viewer, pupil_ids)
    staged = actions[actions["type"].isin(list(STAGE_ACTIONS))]
    if since is not None:
        staged = staged[staged["opened_on"].map(lambda d: d >= since).astype(bool).to_numpy()]
    staged = staged.assign(stage=staged["type"].map(STAGE_ACTIONS))
    top = staged.sort_values(["pupil_id", "stage", "opened_on"], ascending=[True, False, False])
    top = top.drop_duplicates("pupil_id")
    return pd.DataFrame({"pupil_id": top["pupil_id"].astype("int64").to_numpy(),
                         "stage": top["stage"].astype("int64").to_numpy(),
                         "stage_on": top["opened_on"].to_numpy()}, columns=["pupil_id", "stage", "stage_on"])


def stage_label(stage) -> str:
    return f"Stage {int(stage)} letter" if stage and not pd.isna(stage) else "No letter yet"


def next_stage(stage) -> str | None:
    """The staged letter that would come next ('stage_1' after none; None after stage 3)."""
    current = 0 if stage is None or pd.isna(stage) else int(stage)
    return {0: "stage_1", 1: "stage_2", 2: "stage_3"}.get(current)


def stage_due(db: sqlite_utils.Database, viewer: auth.Viewer, pupil_id: int, on: date) -> str | None:
    """The staged letter a pupil is due on `on`: the one after the highest stage made this
    academic year ('stage_1' when none; None once stage 3 is made). Only letters made count:
    a letter agreed at a meeting is not a stage until it is made here (`record_sent`)."""
    made = stages(db, viewer, [int(pupil_id)], since=calendar.academic_year_start(on))
    return next_stage(None if made.empty else made["stage"].iloc[0])
