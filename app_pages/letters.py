"""Letters — who gets which letter? Stage 1/2/3 attendance letters, an invitation to an
attendance meeting, a leave-of-absence decision and a penalty-notice warning, from the
school's templates, for one pupil or a batch (e.g. everyone who crossed into persistent
absence since the last upload) as one PDF; each letter sent goes on the pupil's record,
so the escalation stage is always known."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui import access, formatting, lists, sidebar
from app_pages.ui.formatting import dataframe, md, pupil_name, uk, uk_time
from core import calendar, cases, exports, letters, meetings, pupil_list, reads, schools, selections, store

WHO_HELP = selections.help_text(("agreed", "new", "penalty", "next_stage"))
PDF_KEY = "letters_pdf"
FIELD_HELP = "Fields you can use: " + ", ".join(f"{{{name}}} ({what})" for name, what in letters.FIELDS.items())


def candidates(who: str, kind: str, figures: pd.DataFrame, change: pd.DataFrame, reached: pd.DataFrame,
               stages: pd.DataFrame, agreed: pd.DataFrame) -> pd.DataFrame:
    """The pupils a batch is for."""
    counted = pupil_list.with_letters_agreed(pupil_list.with_next_letter_due(
        pupil_list.joined(figures[figures["possible_sessions"] > 0], change, reached), stages, kind), agreed)
    return selections.selected(counted, who)


user = access.require("letters")
viewer = formatting.viewer(user)
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
with store.opened(path) as db:  # one school's letters: its own settings (issue 18)
    settings = reads.settings(path, version, schools.school_of_scope(db, user.school_ids))

st.title("Letters")
lists.require_registers(user, period)

make_tab, templates_tab, sent_tab = st.tabs(["Make letters", "Templates", "Letters sent"])
with store.opened(path) as db:
    templates = letters.templates(db)
    # A trust's store (issue 18): each letter is its pupil's school's — heading, signatory, wording.
    my_schools = schools.schools_frame(db)
if user.school_ids is not None:
    my_schools = my_schools[my_schools["id"].isin(list(user.school_ids))]
several_schools = access.school_count() > 1  # templates: a School choice
batch_of_schools = several_schools and len(my_schools) > 1  # a batch may span schools: each its own signatory

ids = reads.scoped_pupil_ids(user, path, version)
figures = lists.scoped_figures(user, path, version, period.date_from, period.as_of)
with store.opened(path) as db:
    stages = letters.stages(db, viewer, None if ids is None else list(ids),
                            since=calendar.academic_year_start(period.as_of))
    agreed = meetings.letters_agreed(db, viewer, None if ids is None else list(ids))

with make_tab:
    # The letter on its own line and who it is for under it: the choices fit at 1366 px.
    if not agreed.empty:
        by_stage = agreed["stage"].astype(int).value_counts().sort_index()
        st.info(f"{len(agreed)} letter{'s' if len(agreed) != 1 else ''} agreed at pastoral meetings "
                f"{'are' if len(agreed) != 1 else 'is'} waiting to be made ("
                + ", ".join(f"stage {stage}: {count}" for stage, count in by_stage.items())
                + "). Choose the stage below, for “Agreed at a meeting”: a letter counts as sent once made here.",
                icon=":material/mail:")
    kinds = list(letters.KIND_LABELS)
    first_agreed = f"stage_{int(agreed['stage'].min())}" if not agreed.empty else kinds[0]
    kind = st.selectbox("Letter", kinds, format_func=letters.KIND_LABELS.get, key="l_kind", width=420,
                        index=kinds.index(first_agreed))
    who = st.segmented_control("For", list(selections.LETTERS), format_func=lambda s: selections.BY_ID[s].label,
                                       key="l_who", default="agreed" if not agreed.empty else "new",
                                       required=True, help=WHO_HELP)
    previous = reads.previous_as_at(path, version)
    compare_with = previous if previous and previous < period.as_of else None
    change = reads.change_since(path, version, period.date_from, period.as_of, compare_with, ids)
    reached = lists.triggers_shown(path, version, period.as_of, user)
    chosen = candidates(who, kind, figures, change, reached, stages, agreed)
    if who == "chosen":
        named = figures[figures["possible_sessions"] > 0].sort_values(["surname", "forename"])
        labels = {int(r.pupil_id): f"{pupil_name(r.surname, r.forename)} — {r.form or '—'} — {r.attendance_pct:.1f}%"
                  for r in named.itertuples()}
        picked = st.multiselect("Pupils", list(labels), format_func=labels.get, key="l_pupils",
                                placeholder="Type a name")
        chosen = pupil_list.with_letters_agreed(named[named["pupil_id"].isin(picked)], agreed)

    stage_of = stages.set_index("pupil_id")["stage"] if not stages.empty else pd.Series(dtype="int64")
    # Ticked: the pupils this letter is the next stage for (every pupil, for a letter that is
    # not a stage). A pupil already sent this stage or a later one is listed, unticked.
    due = (pupil_list.with_next_letter_due(chosen, stages, kind)["next_letter_due"].to_numpy()
           if kind in letters.STAGES else True)
    table = pd.DataFrame({
        "Send": due,
        "pupil_id": chosen["pupil_id"].to_numpy(),
        "Pupil": [pupil_name(s, f, sidebar.meeting_mode()) for s, f in zip(chosen["surname"], chosen["forename"])],
        "Form": chosen["form"].to_numpy(),
        "Attendance %": chosen["attendance_pct"].round(1).to_numpy(),
        "Unauthorised": chosen["unauthorised_sessions"].to_numpy(),
        "Letters so far": [letters.stage_label(stage_of.get(p)) for p in chosen["pupil_id"]],
        "Agreed at a meeting": chosen["agreed_letter"].to_numpy(),
    }).sort_values("Attendance %", ignore_index=True)
    if table.empty:
        st.info("No pupils for this letter here" + (" — choose some above." if who == "chosen" else
                " in the dates chosen. Try another group, or choose pupils."))
    else:
        edited = st.data_editor(table, hide_index=True, width="stretch", key=f"l_table_{kind}_{who}",
                                disabled=[c for c in table.columns if c != "Send"],
                                column_order=[c for c in table.columns if c != "pupil_id"],
                                column_config={"Send": st.column_config.CheckboxColumn("Send", width=60),
                                               "Attendance %": st.column_config.NumberColumn(format="%.1f%%")},
                                height=min(38 + 35 * len(table), 250))
        selected = edited.loc[edited["Send"], "pupil_id"].astype(int).tolist()

    if not table.empty and sidebar.meeting_mode():
        st.info("Meeting mode is on: letters carry pupils' and parents' names and addresses, so they are "
                "previewed and made only with meeting mode off.", icon=":material/visibility_off:")
    elif not table.empty:
        asked: dict[str, str] = {}
        needed = [name for name in templates[kind].fields if name in letters.ASKED_FIELDS]
        if needed:
            columns = st.columns(len(needed))
            for column, name in zip(columns, needed):
                asked[name] = column.text_input(name.replace("_", " ").capitalize(), key=f"l_{name}",
                                                help=letters.FIELDS[name])
        sign_column, date_column = st.columns([3, 1.2])
        if batch_of_schools:  # blank: each school's own signatory
            signatory = sign_column.text_input("Signed by (blank: each school's signatory, Admin → Letters)",
                                               value="", key="l_signatory")
        else:
            signatory = sign_column.text_input("Signed by", value=settings["letter_signatory"] or user.name,
                                               key="l_signatory")
        letter_date = date_column.date_input("Letter date", value=date.today(), format="DD/MM/YYYY", key="l_date")

        with store.opened(path) as db:
            values = letters.field_values(db, period, selected, letter_date, signatory, asked)
            by_school = {int(s): letters.templates(db, int(s))[kind] for s in values["school_id"].unique()}
        try:
            batch = letters.compose(templates[kind], values, by_school)
        except letters.LetterError as error:
            st.error(md(error))
            batch = letters.Batch()
        if batch.refused:
            st.warning(f"{len(batch.refused)} letter{'s' if len(batch.refused) != 1 else ''} cannot be made yet:\n"
                       + "\n".join(f"- **{md(name)}**: {md(why)}" for _, name, why in batch.refused[:10]))
        st.caption(f"{len(batch.letters)} letter{'s' if len(batch.letters) != 1 else ''} ready · attendance and "
                   f"sessions from {uk(period.date_from)} to {uk(period.as_of)} (the sidebar's dates)")
        if batch.letters:
            with st.expander(f"Preview: {md(batch.letters[0].pupil_name)}"):
                st.markdown(f"**{md(batch.letters[0].title)}**")
                st.text(batch.letters[0].body)
            preview, send = st.columns(2)

            def make_pdf(made=batch.letters, on=letter_date) -> bytes:
                return letters.pdf_bytes(made, settings["school_name"], settings["school_address"], on,
                                         settings["school_phone"])

            pdf_name = exports.file_name(settings["school_name"], f"letters-{kind.replace('_', '-')}", letter_date, "pdf")
            preview.download_button("Download the PDF without recording", make_pdf, pdf_name,
                                    "application/pdf", icon=":material/draft:", width="stretch", key="l_preview")
            if send.button(f"Record {len(batch.letters)} as sent and get the PDF", type="primary", width="stretch",
                           icon=":material/send:", key="l_send"):
                try:
                    with store.opened(path) as db:
                        count = letters.record_sent(db, viewer, templates[kind], batch.letters, letter_date)
                    st.session_state[PDF_KEY] = (make_pdf(), pdf_name, count)
                    st.rerun()
                except cases.CaseError as error:
                    st.error(md(error))
    if PDF_KEY in st.session_state and not sidebar.meeting_mode():  # just made, listed or not
        pdf_sent, name, count = st.session_state[PDF_KEY]
        st.success(f"{count} letter{'s' if count != 1 else ''} recorded on the pupils' records.")
        st.download_button("Download the letters (PDF)", pdf_sent, name, "application/pdf", type="primary",
                           icon=":material/download:", key="l_download",
                           on_click=lambda: st.session_state.pop(PDF_KEY, None))

with templates_tab:
    editable = user.may("edit_letter_templates")
    template_school = None
    if several_schools and not my_schools.empty:  # each school keeps its own wording
        school_names = dict(zip(my_schools["id"].astype(int), my_schools["name"]))
        template_school = st.selectbox("School", list(school_names), format_func=school_names.get,
                                       key="l_template_school", width=420)
        with store.opened(path) as db:
            templates = letters.templates(db, template_school)
    kind_to_edit = st.selectbox("Template", list(letters.KIND_LABELS), format_func=letters.KIND_LABELS.get,
                                key="l_edit_kind")
    template = templates[kind_to_edit]
    form_key = kind_to_edit if template_school is None else f"{kind_to_edit}_{template_school}"
    if template.updated_by:
        st.caption(f"The school's wording, last changed by {md(template.updated_by)} on {uk_time(template.updated_at)}.")
    else:
        st.caption("The standard wording (not changed by the school).")
    with st.form(f"template_{form_key}", border=False):
        title = st.text_input("Title", template.title, disabled=not editable,
                              key=f"l_template_title_{form_key}")
        body = st.text_area("Letter", template.body, height=320, disabled=not editable, help=FIELD_HELP,
                            key=f"l_template_body_{form_key}")
        save, reset, _ = st.columns([1, 1.6, 2.4])
        saved = save.form_submit_button("Save", type="primary", disabled=not editable, key="l_template_save")
        reset_clicked = reset.form_submit_button("Back to the standard wording", disabled=not editable,
                                                 key="l_template_reset")
    st.caption(FIELD_HELP)
    if not editable:
        st.caption("Only an administrator or the attendance officer can change the templates.")
    if saved or reset_clicked:
        try:
            with store.opened(path) as db:
                if saved:
                    letters.save_template(db, viewer, kind_to_edit, title, body, template_school)
                else:
                    letters.reset_template(db, viewer, kind_to_edit, template_school)
                    for key in (f"l_template_title_{form_key}", f"l_template_body_{form_key}"):
                        st.session_state.pop(key, None)  # show the standard wording again
            st.toast("Template saved." if saved else "Back to the standard wording.", icon=":material/check:")
            st.rerun()
        except letters.LetterError as error:
            st.error(md(error))

with sent_tab:
    with store.opened(path) as db:
        sent = cases.contacts(db, viewer, None if ids is None else list(ids))
    sent = sent[sent["kind"] == "letter"]
    if sent.empty:
        st.caption("No letters recorded yet.")
    else:
        names = reads.pupils(path, version, reads.school_scope(user)).set_index("id")
        dataframe(pd.DataFrame({
            "Date": sent["contact_on"].map(uk),
            "Pupil": [pupil_name(names.at[p, "surname"], names.at[p, "forename"], sidebar.meeting_mode())
                   for p in sent["pupil_id"]],
            "To": sent.get("with_whom", ""),
            "Letter": sent.get("summary", ""),
            "By": sent["created_by"],
        }).drop(columns=["To"] if sidebar.meeting_mode() else []), hide_index=True, width="stretch")
