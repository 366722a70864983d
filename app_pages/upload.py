"""Upload — get this week in. Drop one or more exports. Several files are worked out as one
batch (core/importers/batch.py): the order they will go in (rolls first, then marks oldest
first — the user can move a file), files that disagree about the same sessions with the
marks in question (the user says which is newer before anything is written), then for
each file: the shape and column mapping detected (editable, and can be saved for next
week), the first rows as read, problems by row, and what importing it after the files
above would change (a dry run of the whole batch). Marks a later upload corrected are kept
unless the user ticks to apply the file over them. "Import" writes the batch in one
transaction, each file all-or-nothing, with a progress bar. The imports history is below,
with undo of the last import."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.ui import access
from app_pages.ui.formatting import dataframe, md, meeting_mode, uk, uk_time
from app_pages.ui.guard import friendly_errors
from core import importers, reads, schools, store
from core.importers import batch as batches
from core.importers.dates import held_for_confirmation, held_problems
from core.importers.headers import LABELS, header_at
from core.importers.shapes import SHAPES

NOT_IN_FILE = "(not in this file)"
AS_DETECTED = "(as detected)"
CHECKS_KEY = "upload_checks"
MAPPINGS_KEY = "upload_mappings"  # file id → the ColumnMapping chosen for it
ORDER_KEY = "upload_order"  # file ids in the order the user put them (None: the default order)
NEWER_PREFIX = "upload_newer|"  # + "a|b" (two file ids, sorted): the radio saying which of them is newer
OVERWRITE_PREFIX = "upload_overwrite_"  # + file id: apply this file over marks a later upload corrected
ACCEPT_PREFIX = "accept_dates_"  # + file id: import its marks on days without registers (dates.py)
ROUND_KEY = "upload_round"  # a new round gives a fresh, empty drop zone after an import
RESULTS_KEY = "upload_results"
PREVIEW_ROWS = 8


SCHOOL_KEY = "upload_school"  # on a trust's store: the school files naming none are from


def shape_name(shape: str | None) -> str:
    return SHAPES[shape].label if shape in SHAPES else "Not recognised"


def chosen_mapping(file) -> importers.ColumnMapping | None:
    return st.session_state.setdefault(MAPPINGS_KEY, {}).get(file.file_id)


def batch_files(files) -> list[batches.BatchFile]:
    return [batches.BatchFile(f.name, f.getvalue(), chosen_mapping(f), key=f.file_id) for f in files]


def decisions() -> dict[frozenset, str]:
    """Which file of each disagreeing pair the user said is newer: {pair of file ids: newer id}."""
    return {frozenset(key[len(NEWER_PREFIX):].split("|")): value for key, value in st.session_state.items()
            if isinstance(key, str) and key.startswith(NEWER_PREFIX) and value}


def overwrite(files) -> frozenset[str]:
    return frozenset(f.file_id for f in files if st.session_state.get(OVERWRITE_PREFIX + f.file_id))


def accepted_dates(files) -> frozenset[str]:
    """The files whose held dates (after today, weekends, non-school days) the user confirmed."""
    return frozenset(f.file_id for f in files if st.session_state.get(ACCEPT_PREFIX + f.file_id))


def with_decisions(order: list[str], newer: dict[frozenset, str]) -> list[str]:
    """The order with each file the user said is newer moved to just after the other of its pair."""
    order = list(order)
    for pair, later in newer.items():
        others = [k for k in pair if k != later]
        if not others or later not in order or others[0] not in order:
            continue
        if order.index(later) < order.index(others[0]):
            order.remove(later)
            order.insert(order.index(others[0]) + 1, later)
    return order


def plan(files, username: str, version: reads.Version, school: int | None = None) -> BatchView:
    """The batch worked out in the order the user chose (by default rolls first, then marks
    oldest first) with the user's decisions applied; remembered per files, mappings, order,
    decisions and data version — only what the screen shows, not the files' marks. The
    order decided is kept as the user's, so the next rerun finds it worked out already."""
    applied, accepted = overwrite(files), accepted_dates(files)
    chosen = st.session_state.get(ORDER_KEY)
    if chosen is not None and set(chosen) != {f.file_id for f in files}:
        chosen = None  # a file added or removed: the default order again (the decisions still apply)
    planned = _planned(files, chosen, applied, accepted, username, version, school)
    decided = with_decisions(planned.order, decisions())
    if decided != planned.order:
        st.session_state[ORDER_KEY] = decided
        planned = _planned(files, decided, applied, accepted, username, version, school)
    return planned


def _planned(files, order, applied, accepted, username: str, version, school: int | None = None) -> BatchView:
    """The batch worked out (a dry run); on a trust's store as imported into `school`, so the
    preview shows the pupils it would move there from another of the trust's schools."""
    checks = st.session_state.setdefault(CHECKS_KEY, {})
    key = (tuple((f.file_id, repr(m.as_json()) if (m := chosen_mapping(f)) else None) for f in files),
           tuple(order) if order else None, applied, accepted, version, school)
    if key not in checks:
        checks.clear()  # only the latest is shown again: let the rest's memory go
        with store.opened(reads.db_path()) as db, (schools.routed_to(db, school) if school else nullcontext()):
            worked_out = batches.plan_batch(db, batch_files(files), username, order=order, overwrite=applied,
                                            accept_dates=accepted)
        checks[key] = BatchView(
            [Checked(p.file.key, p.detection, p.read.shape, p.read.rows, preview(p.read), p.outcome, p.new_days,
                     p.top, p.why) for p in worked_out.files],
            worked_out.conflicts)
        del worked_out
    return checks[key]


@dataclass(frozen=True)
class Checked:
    file_id: str
    detection: importers.Detection
    shape: str | None
    rows: int
    preview: pd.DataFrame
    outcome: importers.FileOutcome
    new_days: list
    top: pd.DataFrame  # the file's first rows as cells, for choosing another header row
    why: str = ""  # why it is where it is in the order


@dataclass(frozen=True)
class BatchView:
    files: list[Checked]
    conflicts: list

    @property
    def order(self) -> list[str]:
        return [c.file_id for c in self.files]


def preview(read) -> pd.DataFrame:
    """The first rows as read, with the pupil each mark belongs to."""
    if read.marks is not None and not read.marks.empty:
        rows = read.marks.head(PREVIEW_ROWS)
        pupils = read.pupils.iloc[rows["pupil"].to_numpy()]
        names = (pupils["surname"].fillna("") + ", " + pupils["forename"].fillna("")).str.strip(", ")
        table = pd.DataFrame({
            "Row": rows["row"].to_numpy(), "Column": rows["column"].astype(str).to_numpy(),
            "UPN": pupils["upn"].fillna("").to_numpy(), "Name": names.to_numpy(),
            "Date": rows["date"].map(lambda d: uk(d) if pd.notna(d) else "?").to_numpy(),
            "Session": rows["session"].map({0: "AM", 1: "PM"}).fillna("?").to_numpy(),
            "Mark": rows["mark"].to_numpy(), "Minutes late": rows["minutes_late"].to_numpy(),
        })
        return table.drop(columns=[c for c in ("UPN", "Name") if (table[c] == "").all()])
    if read.counts is not None and not read.counts.empty:
        return read.counts.head(PREVIEW_ROWS).rename(columns=lambda c: LABELS.get(c, c.replace("_", " ").capitalize()))
    if read.pupils is not None and not read.pupils.empty:
        shown = read.pupils.head(PREVIEW_ROWS)
        shown = shown[[c for c in ["row", "upn", "adno", "surname", "forename", "year_group", "form", "dob", "gender",
                                   "pp", "fsm", "sen", "eal", "cla"] if c in shown.columns]]
        return shown.assign(**{c: shown[c].map(uk) for c in ("dob",) if c in shown.columns}).rename(
            columns=lambda c: "Row" if c == "row" else LABELS.get(c, c))
    return pd.DataFrame()


def problems_table(problems: list) -> pd.DataFrame:
    return pd.DataFrame({
        "Row": [str(p.row) if p.row is not None else "" for p in problems],
        "Column": [p.column or "" for p in problems],
        "Problem": [p.message for p in problems],
        "Stops the import": ["yes" if p.severity == "error" else "no (warning)" for p in problems],
    })


def what_would_change(outcome, new_days: list[date], after_others: bool = False) -> str:
    kept = (f" It keeps **{outcome.corrections_kept:,}** marks that a later upload corrected (see the warnings)."
            if outcome.corrections_kept else "")
    if outcome.status == importers.REJECTED:
        return "Nothing will be imported from this file until the problems above are fixed."
    if outcome.status == importers.UNCHANGED:
        stored = "already stored, or in the files above" if after_others else "already stored"
        if outcome.corrections_kept:
            return (f"Importing changes nothing: everything else in this file is {stored}, and the "
                    f"**{outcome.corrections_kept:,}** marks that a later upload corrected are kept (see the warnings).")
        return f"Everything in this file is {stored} — importing it changes nothing."
    parts = []
    if outcome.date_from:
        parts.append(f"covers {uk(outcome.date_from)} to {uk(outcome.date_to)}")
    if new_days:
        parts.append(f"{len(new_days)} new school day{'s' if len(new_days) != 1 else ''} "
                     f"({uk(new_days[0])}{' – ' + uk(new_days[-1]) if len(new_days) > 1 else ''})")
    if outcome.marks_added:
        parts.append(f"adds **{outcome.marks_added:,}** session{'s' if outcome.marks_added != 1 else ''} new to the store")
    if outcome.marks_changed:
        parts.append(f"changes **{outcome.marks_changed:,}** stored marks (each change is kept in the pupil's history)")
    if outcome.counts_added or outcome.counts_changed:
        parts.append(f"stores **{outcome.counts_added + outcome.counts_changed:,}** pupils' summary counts")
    if outcome.pupils_added:
        parts.append(f"adds **{outcome.pupils_added:,}** pupils")
    if outcome.pupils_updated:
        parts.append(f"updates **{outcome.pupils_updated:,}** pupils' details")
    if outcome.corrections_overwritten:
        parts.append(f"overwrites **{outcome.corrections_overwritten:,}** marks that a later upload corrected, "
                     "as you chose")
    opening = "Imported after the files above, it " if after_others else "Importing "
    return (opening + "; ".join(parts) + "." + kept) if parts else "Importing changes nothing." + kept


def what_changed(outcome) -> str:
    if outcome.status == importers.UNCHANGED:
        kept = f" {outcome.corrections_kept:,} corrected marks kept." if outcome.corrections_kept else ""
        return "already stored; nothing changed." + kept
    if outcome.status == importers.REJECTED:
        problem = next((p.message for p in outcome.problems if p.severity == "error"), "")
        return f"not imported. {problem}"
    parts = [f"{outcome.marks_added:,} sessions added" if outcome.marks_added else "",
             f"{outcome.marks_changed:,} marks changed" if outcome.marks_changed else "",
             f"{outcome.pupils_added:,} pupils added" if outcome.pupils_added else "",
             f"{outcome.pupils_updated:,} pupils updated" if outcome.pupils_updated else "",
             f"{outcome.corrections_kept:,} corrected marks kept" if outcome.corrections_kept else ""]
    return "Imported: " + ", ".join(p for p in parts if p) + "."


def headings_at(top: pd.DataFrame, row: int) -> list[str]:
    """The column headings on one row of the file (when the header row is not the one found)."""
    return header_at(top, (row,)).found() if row in top.index else []


def mapping_editor(file, detection, top: pd.DataFrame, profiles: list[dict], user) -> None:
    """Choose a saved mapping, or map the file's columns by hand (and save that for next week)."""
    current = chosen_mapping(file) or detection.mapping
    key = f"map_{file.file_id}"
    names = [AS_DETECTED] + [p["name"] for p in profiles]
    saved = st.selectbox("Read with a saved mapping", names, key=f"{key}_profile",
                         help="Mappings saved from earlier uploads, by name.")
    if saved != AS_DETECTED and st.button("Use this saved mapping", key=f"{key}_use"):
        with store.opened(reads.db_path()) as db:
            st.session_state[MAPPINGS_KEY][file.file_id] = importers.load_mapping_profile(db, saved)
        st.rerun()

    shapes = list(SHAPES)
    left, right = st.columns(2)
    shape = left.selectbox("What the file holds", shapes, format_func=shape_name, key=f"{key}_shape",
                           index=shapes.index(current.shape) if current and current.shape in shapes else 0)
    first_row = (current.header_rows or (detection.header_row or 1,))[0] if current else (detection.header_row or 1)
    header_row = right.number_input("Header row", 1, 200, int(first_row), key=f"{key}_header",
                                    help="The row of the file holding the column headings, as a spreadsheet numbers it.")
    headings = detection.columns if header_row == detection.header_row else headings_at(top, int(header_row))
    found = [NOT_IN_FILE] + list(headings)
    given = dict(current.columns) if current else {}
    meanings = list(dict.fromkeys([*SHAPES[shape].columns, *(m for m in given if m in LABELS)]))
    table = pd.DataFrame({
        "Meaning": [LABELS[m] for m in meanings],
        "Column in the file": [given.get(m) if given.get(m) in found else NOT_IN_FILE for m in meanings],
    })
    edited = st.data_editor(
        table, hide_index=True, key=f"{key}_columns", width="stretch", disabled=["Meaning"],
        column_config={"Column in the file": st.column_config.SelectboxColumn(options=found, required=True)},
    )
    week_start = None
    if "week_start" in SHAPES[shape].given_dates:
        week_start = right.date_input("Week beginning", value=current.week_start if current else None,
                                      format="DD/MM/YYYY", key=f"{key}_week")
    date_from = date_to = None
    if "date_from" in SHAPES[shape].given_dates:
        date_from = left.date_input("Counts from", value=current.date_from if current else None,
                                    format="DD/MM/YYYY", key=f"{key}_from")
        date_to = right.date_input("Counts to", value=current.date_to if current else None,
                                   format="DD/MM/YYYY", key=f"{key}_to")
    columns = {meaning: column for meaning, column in zip(meanings, edited["Column in the file"])
               if column and column != NOT_IN_FILE}
    mapping = importers.ColumnMapping(shape=shape, columns=columns, header_rows=(int(header_row),),
                                      week_start=week_start, date_from=date_from, date_to=date_to)
    use, name, save = st.columns([2, 2, 1.2], vertical_alignment="bottom")
    if use.button("Read the file this way", key=f"{key}_apply", type="primary"):
        st.session_state[MAPPINGS_KEY][file.file_id] = mapping
        st.rerun()
    profile_name = name.text_input("Save as", key=f"{key}_name", placeholder="e.g. SIMS weekly marks")
    if save.button("Save mapping", key=f"{key}_save", disabled=not profile_name.strip()):
        try:
            with store.opened(reads.db_path()) as db:
                importers.save_mapping_profile(db, profile_name, mapping, user.username)
            st.session_state[MAPPINGS_KEY][file.file_id] = mapping
            st.toast(f"Saved “{md(profile_name)}” for next time.", icon=":material/check:")
            st.rerun()
        except ValueError as error:
            st.error(md(error))


def too_big(file, limit_mb: int) -> bool:
    return file.size > limit_mb * 1024 * 1024


def show_too_big(file, limit_mb: int) -> None:
    with st.container(border=True):
        st.markdown(f"**{md(file.name)}** · {file.size / 1024:,.0f} KB")
        st.error(f"This file is {file.size / 1024 / 1024:,.0f} MB; the limit is {limit_mb} MB. Export a shorter "
                 "date range (a term or a week) and upload that.")


def move(file_id: str, order: list[str], step: int) -> None:
    """Move a file one place earlier (-1) or later (+1) in the batch's order. Moving it past a
    file it disagrees with says the file now later is the newer of the two."""
    order = list(order)
    at = order.index(file_id)
    order.insert(max(0, min(len(order) - 1, at + step)), order.pop(at))
    st.session_state[ORDER_KEY] = order
    for key, newer in list(st.session_state.items()):
        if isinstance(key, str) and key.startswith(NEWER_PREFIX) and newer:
            pair = key[len(NEWER_PREFIX):].split("|")
            other = next((k for k in pair if k != newer), None)
            if other in order and newer in order and order.index(newer) < order.index(other):
                st.session_state[key] = other


def show_order(planned: BatchView, names: dict[str, str]) -> None:
    """The order the batch will be imported in, why, and buttons to move a file."""
    st.subheader("Order of import")
    st.caption("Several files are worked out as one batch, in this order: each file's preview below counts what the "
               "files above it will have stored. Pupil rolls go first, then register marks oldest first (by the "
               "last date each holds marks for, then the report's run date when its title gives one) — never by the "
               "files' names. Where two files have marks for the same sessions, the later one's marks are kept.")
    order = planned.order
    for number, checked in enumerate(planned.files, start=1):
        place, name, reason, earlier, later = st.columns([0.5, 3.2, 4, 0.7, 0.7], vertical_alignment="center")
        place.markdown(f"**{number}**")
        name.text(names[checked.file_id])
        reason.caption(md(checked.why))
        earlier.button("", key=f"earlier_{checked.file_id}", icon=":material/arrow_upward:", help="Import it earlier",
                       disabled=number == 1, on_click=move, args=(checked.file_id, order, -1))
        later.button("", key=f"later_{checked.file_id}", icon=":material/arrow_downward:", help="Import it later",
                     disabled=number == len(order), on_click=move, args=(checked.file_id, order, 1))


def show_conflicts(planned: BatchView, names: dict[str, str]) -> bool:
    """Each pair of files with different marks for the same sessions, the marks in question,
    and the user's answer to which is newer. True when every pair has an answer."""
    answered = True
    for conflict in planned.conflicts:
        pair = sorted((conflict.earlier, conflict.later), key=lambda i: (names[i], i))  # stable when the order flips
        earlier, later = names[conflict.earlier], names[conflict.later]
        with st.container(border=True):
            st.warning(f"**{md(earlier)}** and **{md(later)}** have different marks for **{conflict.sessions:,}** "
                       f"session{'s' if conflict.sessions != 1 else ''}. The file imported later keeps its marks — "
                       "say which one is newer before importing.", icon=":material/compare_arrows:")
            shown = conflict.marks[["Pupil", "UPN", "Date", "Session", "earlier_mark", "later_mark", "earlier_row",
                                    "later_row"]].rename(columns={
                "earlier_mark": f"Mark in {earlier}", "earlier_row": f"Row in {earlier}",
                "later_mark": f"Mark in {later}", "later_row": f"Row in {later}"})
            if conflict.sessions > len(shown):
                st.caption(f"The first {len(shown):,} of {conflict.sessions:,} sessions:")
            dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 300))
            choice = st.radio("Which file is newer (its marks are the ones to keep)?", pair, index=None,
                              format_func=lambda i: md(names[i]), key=NEWER_PREFIX + "|".join(pair), horizontal=True)
            answered &= choice is not None
    return answered


def show_file(file, checked: Checked, number: int, user, profiles: list[dict], goes_to: str = ""):
    """One dropped file: (on a trust's store) the school it goes to, detection, mapping,
    preview, problems and the dry run (after the files before it). Returns True if it will be
    imported."""
    with st.container(border=True):
        st.markdown(f"**{md(file.name)}** · {file.size / 1024:,.0f} KB")
        if goes_to:
            st.markdown(goes_to)
            if checked.outcome.pupils_moved:
                moved = checked.outcome.pupils_moved
                st.info(f"Importing it moves **{moved}** pupil{'s' if moved != 1 else ''} here from another of the "
                        "trust's schools (named under the warnings below): one record each, their history going "
                        "with them.", icon=":material/move_down:")
        mapping = chosen_mapping(file)
        accept_key = ACCEPT_PREFIX + file.file_id
        accept_dates = bool(st.session_state.get(accept_key, False))
        detection, outcome, new_days = checked.detection, checked.outcome, checked.new_days
        how = "as you mapped it" if mapping else (f"header on row {detection.header_row}" if detection.header_row else "")
        st.markdown(f"Detected: **{shape_name(checked.shape or detection.shape)}**"
                    + (f" · {how}" if how else "") + f" · {checked.rows:,} rows"
                    + (f" · {outcome.pupils:,} pupils" if outcome.pupils else ""))
        if detection.shape is None and not mapping:
            st.warning(md(detection.message) + " Map the columns below, then read the file again.")
        with st.expander("Column mapping" + (" — please check" if detection.shape is None else ""),
                         expanded=detection.shape is None and not mapping):
            if detection.columns:
                mapping_editor(file, detection, checked.top, profiles, user)
            else:
                st.caption("No column headings were found in this file.")
        table = checked.preview
        if not table.empty:
            st.caption(f"The first {min(PREVIEW_ROWS, len(table))} rows as read (row numbers as in the file):")
            dataframe(table, hide_index=True, width="stretch")
        if outcome.problems:
            errors = sum(p.severity == "error" for p in outcome.problems)
            warnings = len(outcome.problems) - errors
            summary = ", ".join(x for x in (f"{errors} problem(s) to fix" if errors else "",
                                            f"{warnings} warning(s)" if warnings else "") if x)
            (st.error if errors else st.warning)(summary)
            dataframe(problems_table(outcome.problems), hide_index=True, width="stretch",
                      height=min(38 + 35 * len(outcome.problems), 300))
        for held in held_problems(outcome.problems):
            st.error(md(held.message), icon=":material/event_busy:")
        if accept_dates or held_for_confirmation(outcome.problems):
            st.checkbox("Import marks on these dates anyway — I have checked they are right", key=accept_key,
                        help="Marks after today, on a weekend or on a day the school calendar says is not a school "
                             "day are held until you confirm them here.")
        if outcome.corrections_kept or outcome.corrections_overwritten:
            count = outcome.corrections_kept or outcome.corrections_overwritten
            st.checkbox(f"Apply this file over the {count:,} mark{'s' if count != 1 else ''} a later upload corrected "
                        "(only if this file is the newer)", key=OVERWRITE_PREFIX + file.file_id)
        (st.success if outcome.status == importers.IMPORTED else st.info)(
            what_would_change(outcome, new_days, after_others=number > 1))
        return outcome.status == importers.IMPORTED


def file_school(db, file, user) -> str:
    """Which school one file goes to, said before anything is written (a trust's store): the
    school its DfE number names, or the school chosen above — or why it cannot go anywhere."""
    content, chosen = file.getvalue(), st.session_state.get(SCHOOL_KEY)
    try:
        school = schools.route_upload(db, content, file.name, chosen, user.school_ids)
    except schools.SchoolError as refusal:
        return f":red[**Goes to no school:** {md(refusal)}]"
    named = schools.dfe_number_in_file(content[:64 * 1024], file.name)
    why = f"the file names its DfE number, {named}" if named else "the school chosen above"
    return f":material/school: Goes to **{md(school.name)}** ({md(why)})"


def batch_school(db, files, user) -> tuple[int, str | None]:
    """The school a batch goes to (issue 18): on a one-school store, its school; on a trust's,
    the school each file names by DfE number, else the school chosen above — one school for
    the whole batch, and one of the uploader's. Else (school 1, why the batch is refused)."""
    if schools.count(db) == 1:
        return schools.FIRST_SCHOOL, None
    try:
        found = {schools.route_upload(db, f.getvalue(), f.name, st.session_state.get(SCHOOL_KEY), user.school_ids).id
                 for f in files}
    except schools.SchoolError as refusal:
        return schools.FIRST_SCHOOL, str(refusal)
    if len(found) > 1:
        return schools.FIRST_SCHOOL, ("These files are from different schools; upload each school's files on their "
                                      "own. Nothing was imported.")
    return found.pop(), None


def import_files(files, order: list[str], user) -> None:
    """Import the batch in the order shown, in one transaction (each file all-or-nothing
    inside it), with a progress bar."""
    progress = st.progress(0.0, text="Starting…")
    results = []
    with friendly_errors("importing"):
        def step(number: int, total: int, name: str) -> None:
            progress.progress((number - 1) / total, text=f"Importing {md(name)} ({number} of {total})…")

        with store.opened(reads.db_path()) as db:
            school, refusal = batch_school(db, files, user)
            if refusal:
                results = [(f.name, importers.REJECTED, refusal) for f in files]
            else:
                with schools.routed_to(db, school):
                    done = batches.import_batch(db, batch_files(files), user.username, order=order,
                                                overwrite=overwrite(files), progress=step,
                                                accept_dates=accepted_dates(files))
                results = [(Path(p.file.name).name, p.outcome.status, what_changed(p.outcome)) for p in done.files]
        if any(status == importers.IMPORTED for _, status, _ in results):
            progress.progress(0.99, text="Working out the statutory triggers for the screens…")
            reads.keep_triggers(reads.db_path())  # a trust's store only: the Trust screen's first draw reads them
        progress.progress(1.0, text="Done.")
    st.session_state[RESULTS_KEY] = results
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    for key in (CHECKS_KEY, MAPPINGS_KEY, ORDER_KEY):
        st.session_state.pop(key, None)
    st.rerun()


def undo_last(last: pd.Series, user) -> None:
    try:
        with store.opened(reads.db_path()) as db:
            undone = importers.undo_last_import(db, user.username, import_id=int(last["id"]))
        reads.keep_triggers(reads.db_path())
        st.session_state[RESULTS_KEY] = [(last["file_name"], "undone",
            f"undone: {undone.marks_removed:,} sessions removed, {undone.marks_restored:,} marks put back, "
            f"{undone.pupils_removed:,} pupils removed, {undone.pupils_restored:,} pupils' details put back.")]
    except importers.NothingToUndo as reason:
        st.session_state[RESULTS_KEY] = [(last["file_name"], "rejected", str(reason))]
    st.rerun()


user = access.require("upload")
if not user.may("import"):
    st.error("Your role cannot upload registers.")
    st.stop()
path, version = reads.db_path(), reads.version()
limit_mb = int(reads.settings(path, version)["max_upload_mb"])

st.title("Upload")
history = reads.imports(path, version)
with store.opened(path) as db:
    several = schools.count(db) > 1
    own_imports = schools.import_ids_of(db, user.school_ids)
    choices = [s for s in schools.list_schools(db) if user.school_ids is None or s.id in user.school_ids]
if own_imports is not None:  # a school's staff on a trust's store: their school's imports only
    history = history[history["id"].isin(list(own_imports))]
if several:
    st.selectbox("School", [s.id for s in choices], key=SCHOOL_KEY,
                 format_func={s.id: s.name for s in choices}.get,
                 help="The school these files are from, when a file does not name its own DfE number.")
if meeting_mode():
    # File previews and problems name pupils as the export spells them: not for a shared screen.
    st.info("**Meeting mode is on**, so uploads are paused here: previews and problems would show pupils' names. "
            "Turn meeting mode off in the sidebar to upload.", icon=":material/groups:")
files = None if meeting_mode() else st.file_uploader(
    "Drag this week's export here — one or more CSV, Excel, XML or JSON files from SIMS, Arbor, Bromcom, iSAMS, "
    "ScholarPack, a Common Transfer File or Wonde",
    type=["csv", "xlsx", "txt", "xml", "json"], accept_multiple_files=True, key=f"upload_files_{st.session_state.get(ROUND_KEY, 0)}",
    max_upload_size=limit_mb,
    help=f"Register marks, pupil rolls and summary counts; up to {limit_mb} MB each. Nothing is stored until you "
         "press Import.",
)
for name, status, text in st.session_state.pop(RESULTS_KEY, []):
    {importers.IMPORTED: st.success, "undone": st.info}.get(status, st.warning)(f"**{md(name)}**: {md(text)}")
if history.empty and not files and not meeting_mode():
    st.info("**No uploads yet** — drag this week's export here. Upload the pupil roll first so names and year "
            "groups are known; sample exports are in the `data/samples` folder.", icon=":material/upload_file:")

if files:
    with store.opened(path) as db:
        profiles = importers.mapping_profiles(db)
    for file in files:
        if too_big(file, limit_mb):
            show_too_big(file, limit_mb)
    batch = [f for f in files if not too_big(f, limit_mb)]
    ready, answered, planned = 0, True, None
    goes_to, school, refusal = {}, None, None
    if batch and several:  # a trust's store: the school each file goes to, before anything is written
        with store.opened(path) as db:
            goes_to = {f.file_id: file_school(db, f, user) for f in batch}
            school, refusal = batch_school(db, batch, user)
        if refusal:
            st.error(md(refusal.replace(" Nothing was imported.", "").replace("; nothing was imported.", ".")),
                     icon=":material/school:")
    if batch:
        with friendly_errors("reading the files"):
            planned = plan(batch, user.username, version, None if refusal else school)
    if planned is not None:
        by_id, names = {f.file_id: f for f in batch}, {f.file_id: f.name for f in batch}
        if len(batch) > 1:
            show_order(planned, names)
            answered = show_conflicts(planned, names)
        for number, checked in enumerate(planned.files, start=1):
            with friendly_errors(f"showing {by_id[checked.file_id].name}"):
                ready += bool(show_file(by_id[checked.file_id], checked, number, user, profiles,
                                        goes_to.get(checked.file_id, "")))
    if not answered:
        st.info("Say which file is newer for each pair above that disagrees, then import.", icon=":material/help:")
    label = f"Import {ready} file{'s' if ready != 1 else ''}"
    if st.button(label, type="primary", disabled=not ready or not answered, icon=":material/database_upload:",
                 key="import_files"):
        importing = [c.file_id for c in planned.files if c.outcome.status == importers.IMPORTED]
        import_files([f for f in batch if f.file_id in importing], importing, user)

# --- history -----------------------------------------------------------------------

st.subheader("Imports")
if history.empty:
    st.caption("Nothing imported yet.")
else:
    dataframe(pd.DataFrame({
        "When": history["imported_at"].map(uk_time),
        "Who": history["imported_by"],
        "File": history["file_name"],
        "What": history["shape"].map(shape_name),
        "Dates": [f"{uk(a)} – {uk(b)}" if a else "" for a, b in zip(history["date_from"], history["date_to"])],
        "Sessions added": history["marks_added"],
        "Marks changed": history["marks_changed"],
        "Pupils added": history["pupils_added"],
        "Pupils updated": history["pupils_updated"],
        "Status": history["status"].map({"imported": "in force", "undone": "undone"}),
    }), hide_index=True, width="stretch", height=min(38 + 35 * len(history), 420))
    live = history[history["status"] == "imported"]
    if not live.empty:
        last = live.iloc[0]
        with st.popover(f"Undo the last import ({md(last['file_name'])})", icon=":material/undo:"):
            st.markdown(f"This takes **{md(last['file_name'])}** (imported {uk_time(last['imported_at'])} by "
                        f"{md(last['imported_by'])}) back out: sessions it added are removed and marks it changed "
                        "get their old codes back. The import stays in the history, marked undone.")
            if st.button("Yes, undo it", type="primary", key="confirm_undo"):
                with friendly_errors("undoing the last import"):
                    undo_last(last, user)
