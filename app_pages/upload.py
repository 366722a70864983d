"""Upload — get this week in. Drop one or more exports; for each: the shape and column
mapping detected (editable, and can be saved for next week), the first rows as read,
problems by row, and what importing would change (a dry run against the store).
"Import" commits file by file, each all-or-nothing, with a progress bar. The imports
history is below, with undo of the last import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui import access
from app_pages.ui.formatting import md, meeting_mode, uk, uk_time
from app_pages.ui.guard import friendly_errors
from core import importers, reads, store
from core import marks as marks_table
from core.calendar import to_day
from core.importers.dates import held_for_confirmation, held_problems
from core.importers.headers import LABELS, header_at
from core.importers.shapes import SHAPES

NOT_IN_FILE = "(not in this file)"
AS_DETECTED = "(as detected)"
CHECKS_KEY = "upload_checks"
MAPPINGS_KEY = "upload_mappings"  # file id → the ColumnMapping chosen for it
ROUND_KEY = "upload_round"  # a new round gives a fresh, empty drop zone after an import
RESULTS_KEY = "upload_results"
PREVIEW_ROWS = 8


def shape_name(shape: str | None) -> str:
    return SHAPES[shape].label if shape in SHAPES else "Not recognised"


def chosen_mapping(file) -> importers.ColumnMapping | None:
    return st.session_state.setdefault(MAPPINGS_KEY, {}).get(file.file_id)


def check(file, mapping, username: str, version: reads.Version, accept_dates: bool = False) -> Checked:
    """Detect, read and dry-run one file (its bytes read once); remembered per file, mapping,
    data version and whether its held dates are confirmed — only what the screen shows, not
    the file's marks."""
    checks = st.session_state.setdefault(CHECKS_KEY, {})
    key = (file.file_id, repr(mapping.as_json()) if mapping else None, version, accept_dates)
    if key not in checks:
        for older in [k for k in checks if k[0] == file.file_id]:  # not shown again: let its memory go
            del checks[older]
        with store.opened(reads.db_path()) as db:
            found = importers.check_bytes(db, file.getvalue(), file.name, username, mapping, accept_dates)
            new_days = new_school_days(db, found.read)
        checks[key] = Checked(found.detection, found.read.shape, found.read.rows, preview(found.read), found.outcome,
                              new_days, found.top)
        del found
        if file.size > importers.BIG_FILE_BYTES:
            importers.give_back_memory()
    return checks[key]


@dataclass(frozen=True)
class Checked:
    detection: importers.Detection
    shape: str | None
    rows: int
    preview: pd.DataFrame
    outcome: importers.FileOutcome
    new_days: list
    top: pd.DataFrame  # the file's first rows as cells, for choosing another header row


def new_school_days(db, read) -> list[date]:
    """Days the file has marks for on which the store holds no session yet."""
    if read.marks is None or read.marks.empty:
        return []
    days = read.marks["date"].dropna().dt.date.unique()
    if not len(days):
        return []
    stored = set(marks_table.school_session_days(db, to_day(min(days)), to_day(max(days)))["day"])
    return sorted(d for d in days if to_day(d) not in stored)


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


def what_would_change(outcome, new_days: list[date]) -> str:
    if outcome.status == importers.REJECTED:
        return "Nothing will be imported from this file until the problems above are fixed."
    if outcome.status == importers.UNCHANGED:
        return "Everything in this file is already stored — importing it changes nothing."
    parts = []
    if outcome.date_from:
        parts.append(f"covers {uk(outcome.date_from)} to {uk(outcome.date_to)}")
    if new_days:
        parts.append(f"{len(new_days)} new school day{'s' if len(new_days) != 1 else ''} "
                     f"({uk(new_days[0])}{' – ' + uk(new_days[-1]) if len(new_days) > 1 else ''})")
    if outcome.marks_added:
        parts.append(f"adds **{outcome.marks_added:,}** sessions new to the store")
    if outcome.marks_changed:
        parts.append(f"changes **{outcome.marks_changed:,}** stored marks (each change is kept in the pupil's history)")
    if outcome.counts_added or outcome.counts_changed:
        parts.append(f"stores **{outcome.counts_added + outcome.counts_changed:,}** pupils' summary counts")
    if outcome.pupils_added:
        parts.append(f"adds **{outcome.pupils_added:,}** pupils")
    if outcome.pupils_updated:
        parts.append(f"updates **{outcome.pupils_updated:,}** pupils' details")
    return "Importing " + "; ".join(parts) + "." if parts else "Importing changes nothing."


def what_changed(outcome) -> str:
    if outcome.status == importers.UNCHANGED:
        return "already stored; nothing changed."
    if outcome.status == importers.REJECTED:
        problem = next((p.message for p in outcome.problems if p.severity == "error"), "")
        return f"not imported. {problem}"
    parts = [f"{outcome.marks_added:,} sessions added" if outcome.marks_added else "",
             f"{outcome.marks_changed:,} marks changed" if outcome.marks_changed else "",
             f"{outcome.pupils_added:,} pupils added" if outcome.pupils_added else "",
             f"{outcome.pupils_updated:,} pupils updated" if outcome.pupils_updated else ""]
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


def show_file(file, profiles: list[dict], user, version, limit_mb: int):
    """One dropped file: detection, mapping, preview, problems and the dry run. Returns it if importable."""
    with st.container(border=True):
        st.markdown(f"**{md(file.name)}** · {file.size / 1024:,.0f} KB")
        if file.size > limit_mb * 1024 * 1024:
            st.error(f"This file is {file.size / 1024 / 1024:,.0f} MB; the limit is {limit_mb} MB. Export a shorter "
                     "date range (a term or a week) and upload that.")
            return None
        mapping = chosen_mapping(file)
        accept_key = f"accept_dates_{file.file_id}"
        accept_dates = bool(st.session_state.get(accept_key, False))
        checked = check(file, mapping, user.username, version, accept_dates)
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
            st.dataframe(table, hide_index=True, width="stretch")
        if outcome.problems:
            errors = sum(p.severity == "error" for p in outcome.problems)
            warnings = len(outcome.problems) - errors
            summary = ", ".join(x for x in (f"{errors} problem(s) to fix" if errors else "",
                                            f"{warnings} warning(s)" if warnings else "") if x)
            (st.error if errors else st.warning)(summary)
            st.dataframe(problems_table(outcome.problems), hide_index=True, width="stretch",
                         height=min(38 + 35 * len(outcome.problems), 300))
        for held in held_problems(outcome.problems):
            st.error(md(held.message), icon=":material/event_busy:")
        if accept_dates or held_for_confirmation(outcome.problems):
            st.checkbox("Import marks on these dates anyway — I have checked they are right", key=accept_key,
                        help="Marks after today, on a weekend or on a day the school calendar says is not a school "
                             "day are held until you confirm them here.")
        (st.success if outcome.status == importers.IMPORTED else st.info)(what_would_change(outcome, new_days))
        return (file, mapping, checked.shape, accept_dates) if outcome.status == importers.IMPORTED else None


def import_files(ready: list, user) -> None:
    """Import each file (the roll first, so names are known for the marks), with a progress bar."""
    ready = sorted(ready, key=lambda item: SHAPES[item[2]].stores != "pupils")
    progress = st.progress(0.0, text="Starting…")
    results = []
    with friendly_errors("importing"):
        for number, (file, mapping, _, accept_dates) in enumerate(ready, start=1):
            progress.progress((number - 1) / len(ready), text=f"Importing {md(file.name)} ({number} of {len(ready)})…")
            with store.opened(reads.db_path()) as db:
                outcome = importers.import_bytes(db, file.getvalue(), file.name, user.username, mapping=mapping,
                                                 accept_dates=accept_dates)
            results.append((file.name, outcome.status, what_changed(outcome)))
        progress.progress(1.0, text="Done.")
    st.session_state[RESULTS_KEY] = results
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    st.session_state.pop(CHECKS_KEY, None)
    st.session_state.pop(MAPPINGS_KEY, None)
    st.rerun()


def undo_last(last: pd.Series, user) -> None:
    try:
        with store.opened(reads.db_path()) as db:
            undone = importers.undo_last_import(db, user.username, import_id=int(last["id"]))
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
    ready = []
    for file in files:
        with friendly_errors(f"reading {file.name}"):
            item = show_file(file, profiles, user, version, limit_mb)
            if item:
                ready.append(item)
    label = f"Import {len(ready)} file{'s' if len(ready) != 1 else ''}"
    if st.button(label, type="primary", disabled=not ready, icon=":material/database_upload:", key="import_files"):
        import_files(ready, user)

# --- history -----------------------------------------------------------------------

st.subheader("Imports")
if history.empty:
    st.caption("Nothing imported yet.")
else:
    st.dataframe(pd.DataFrame({
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
