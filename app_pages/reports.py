"""Reports — the paperwork: half-termly statistics by group for the head, the head of section
report, a pupil's referral/evidence pack for the local authority, the court file for a
prosecution, and the LA's termly targeting-support meeting pack. Each is built in core
(statistics.py, section_report.py, evidence_pack.py, court_file.py, la_pack.py), shown here,
and downloads as PDF (and CSV/Excel where it is a table); making a court file or an LA pack
is audited.
Heads of section see only their sections' pupils; in meeting mode pupils are initials.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, sidebar
from app_pages.ui.formatting import chart, dataframe, md, meeting_mode, pct, pupil_label, shown, uk, viewer
from core.meetings import plural
from core import benchmarks, cases, charts, court_file, evidence_pack, exports, la_pack, metrics, reads, section_report, \
    schools, statistics, store

KINDS = {"statistics": "Half-termly statistics", "section": "Head of section report", "pack": "Evidence pack",
         "court": "Court file", "la_pack": "LA support meeting pack"}
CASE_WORK_KINDS = ("pack", "court", "la_pack")  # they carry case work: the roles doing it
WHOLE_SCHOOL = "Whole school"
SIDEBAR_DATES = "dates"


def pdf_button(label: str, build, name: str, key: str) -> None:
    """A PDF download built only when clicked (building one takes a second or two)."""
    st.download_button(label, build, name, "application/pdf", key=key, icon=":material/picture_as_pdf:",
                       on_click="ignore", type="primary")


def issue_section_report(report: section_report.SectionReport, username: str, masked: bool) -> bytes:
    """The PDF, and a note in the store that it was issued (the next report compares with it)."""
    pdf = section_report.section_report_pdf(report, masked)
    with store.opened(reads.db_path()) as db:
        section_report.record_report(db, username, report)
    return pdf


def scope_choice(user, settings) -> tuple[str, tuple[int, ...] | None]:
    """Whole school or a section (a head of section: one of theirs) → (name, pupil ids or None)."""
    options = ([WHOLE_SCHOOL] if user.sees_all_sections else []) + (
        list(settings["sections"]) if user.sees_all_sections else list(user.sections))
    if not options:
        st.info("You have no sections yet, so there is nothing to report on. Ask your Pastoral administrator.")
        st.stop()
    chosen = st.selectbox("Pupils", options, key="report_scope")
    if chosen == WHOLE_SCHOOL:
        return chosen, reads.scoped_pupil_ids(user, path, version)
    pupils = lists.scoped_pupils(user, path, version)
    return chosen, tuple(int(i) for i in pupils.loc[pupils["section"] == chosen, "id"])


def pupil_choice(key: str, what: str) -> tuple[int, dict[int, str]]:
    """One of the user's pupils (the pupil open elsewhere first) → (pupil id, labels by id)."""
    everyone = lists.scoped_pupils(user, path, version).sort_values(["surname", "forename"])
    if everyone.empty:
        st.info("No pupils to choose from.")
        st.stop()
    labels = {int(r.id): pupil_label(r.surname, r.forename, r.form) for r in everyone.itertuples()}
    st.session_state.setdefault(key, st.session_state.get(lists.OPEN_PUPIL_KEY) or next(iter(labels)))
    if st.session_state[key] not in labels:
        st.session_state[key] = next(iter(labels))
    chosen = st.selectbox("Pupil", list(labels), key=key, format_func=labels.get,
                          help=f"Type to search. The {what} covers the dates chosen in the sidebar.")
    return chosen, labels


def half_term_choice(terms, key: str, allow_dates: bool):
    labels = {i: t.label + f" ({uk(t.first_day)} to {uk(t.last_day)})" for i, t in enumerate(terms)}
    options = list(labels)[::-1] + ([SIDEBAR_DATES] if allow_dates else [])
    return st.selectbox("Period", options, key=key,
                        format_func=lambda i: "The dates chosen in the sidebar" if i == SIDEBAR_DATES else labels[i])


user = access.require("reports")
path, version = reads.db_path(), reads.version()
period = sidebar.chosen_period()
masked = meeting_mode()
with store.opened(path) as db:  # a school's reports carry its own name, a trust's "Trust" (issue 18)
    report_school = schools.school_of_scope(db, user.school_ids)
    settings = reads.settings(path, version, report_school)
    school = schools.document_heading(db, user.school_ids)

st.title("Reports")
lists.require_registers(user, period)
with store.opened(path) as db:
    terms = statistics.half_terms_so_far(db)

kinds = [k for k in KINDS if k not in CASE_WORK_KINDS or user.may("case_work")]
st.session_state.setdefault("report_kind", "statistics")
kind = st.segmented_control("Report", kinds, format_func=KINDS.get, key="report_kind", required=True,
                            label_visibility="collapsed")
if masked:
    st.caption("Meeting mode is on: pupils are initials here and in every download. Turn it off for the copy to send.")

# --- half-termly statistics ------------------------------------------------------------------

if kind == "statistics":
    if not terms:
        st.info("No half terms yet: they are found from the weeks with sessions once registers are uploaded.")
        st.stop()
    scope_column, term_column, age_column = st.columns([2, 3, 2], vertical_alignment="bottom")
    with scope_column:
        scope_name, ids = scope_choice(user, settings)
    with term_column:
        chosen = half_term_choice(terms, "statistics_term", allow_dates=False)
    term = terms[chosen]
    previous = terms[chosen - 1] if chosen > 0 else None
    compulsory = age_column.toggle("Compulsory school age only", value=True, key="statistics_compulsory",
                                   help="National figures count pupils aged 5 to 15; turn off to include nursery, "
                                        "reception and sixth form.")
    with store.opened(path) as db:
        stats = statistics.half_term_statistics(db, term, previous, list(ids) if ids is not None else None, compulsory)
    st.markdown(f"**{term.label}** · {uk(term.first_day)} to {uk(term.last_day)} · {md(scope_name)} · "
                + (f"compared with {previous.label}" if previous else "no earlier half term stored to compare with"))
    everyone = stats[stats["grouping"] == "all"]
    if everyone.empty or not int(everyone["pupils"].iloc[0]):
        st.info("No pupils with possible sessions in this half term.")
        st.stop()
    everyone = everyone.iloc[0]
    for column, measure in zip(st.columns(4), ("attendance_pct", "unauthorised_absence_pct", "persistent_absence_pct",
                                               "severe_absence_pct")):
        change = everyone[f"{measure}_change"]
        national = everyone.get(f"{measure}_national")
        with column.container(border=True):
            st.metric(statistics.MEASURES[measure], pct(everyone[measure]),
                      None if pd.isna(change) else f"{change:+.1f} pts",
                      delta_color="normal" if measure == "attendance_pct" else "inverse")
            st.caption(f"National {national:.1f}% ({everyone.get(f'{measure}_national_label')})"
                       if national is not None and not pd.isna(national) else "No national figure published")
    measures = st.multiselect("Measures", list(statistics.MEASURES), default=["attendance_pct", "persistent_absence_pct",
                                                                           "severe_absence_pct"],
                              format_func=statistics.MEASURES.get, key="statistics_measures")
    table = statistics.statistics_table(stats, tuple(measures) or ("attendance_pct",))
    dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 640),
              column_config={c: st.column_config.NumberColumn(format="%.1f") for c in table.columns
                             if c not in ("Grouping", "Group", "Pupils")})
    st.caption("Pooled rates; PA and SA count pupils at or below 90% and 50% attendance within the half term. "
               + md(statistics.national_note(everyone)))
    pdf_column, spreadsheet_column = st.columns([1, 2])
    with pdf_column:
        pdf_button("PDF", lambda: statistics.statistics_pdf(stats, school, term, previous, scope_name, compulsory),
                   exports.file_name(school, f"statistics-{term.label}", term.last_day, "pdf"), "statistics_pdf")
    with spreadsheet_column:
        lists.download_buttons(table, f"statistics-{term.label}", term.last_day, "statistics")

# --- head of section report -----------------------------------------------------------------

elif kind == "section":
    scope_column, term_column = st.columns([2, 3], vertical_alignment="bottom")
    with scope_column:
        scope_name, ids = scope_choice(user, settings)
    with term_column:
        chosen = half_term_choice(terms, "section_term", allow_dates=True)
    chosen_period = period if chosen == SIDEBAR_DATES else metrics.Period(terms[chosen].first_day,
                                                                          min(terms[chosen].last_day, period.as_of))
    with store.opened(path) as db:
        report = section_report.section_report(db, viewer(user), chosen_period, scope_name,
                                        list(ids) if ids is not None else None)
    if not report.headline["pupils"]:
        st.info("No pupils with possible sessions in this period.")
        st.stop()
    st.markdown(f"**{md(scope_name)}** · {uk(chosen_period.date_from)} to {uk(chosen_period.as_of)} · "
                f"{report.headline['pupils']:,} {report.who} · changes since {report.compared_reason}")
    for column, (label, value, note) in zip(st.columns(4), section_report.section_headline(report)):
        with column.container(border=True):
            st.metric(label, value)
            st.caption(md(note))
    st.markdown(md(section_report.targets_text(report)), help=benchmarks.ON_TRACK_RULE)
    pdf_button("PDF to email", lambda r=report, u=user.username, m=masked: issue_section_report(r, u, m),
               exports.file_name(school, f"report-{scope_name}", chosen_period.as_of, "pdf"), "section_pdf")
    st.caption("Downloading the PDF records the report as issued; the next report says what changed since.")
    trend_column, year_column = st.columns([3, 2], gap="large")
    with trend_column:
        st.subheader("Weekly attendance")
        chart(charts.attendance_trend, report.trend, height=220)
    with year_column:
        st.subheader("By year group")
        dataframe(report.by_year, hide_index=True, width="stretch")
    st.subheader(f"Persistently absent pupils ({len(report.pa_list)})")
    pa = section_report.pa_table(report, masked)
    dataframe(shown(pa), hide_index=True, width="stretch", height=min(38 + 35 * len(pa), 420),
              column_config={"Att. %": st.column_config.NumberColumn("Attendance", format="%.1f%%")})
    lists.download_buttons(pa, f"pa-list-{scope_name}", chosen_period.as_of, "section_pa")
    change_column, reasons_column = st.columns(2, gap="large")
    with change_column:
        st.subheader("Changes since " + report.compared_reason)
        if report.before is None:
            st.caption("Nothing earlier to compare with yet.")
        else:
            for title, frame in (("Newly persistently absent", report.newly_pa),
                                 ("No longer persistently absent", report.no_longer_pa)):
                labels = [pupil_label(s, f, fm) for s, f, fm in zip(frame["surname"], frame["forename"], frame["form"])]
                st.markdown(f"**{title}: {len(frame)}**" + (" — " + md(", ".join(labels[:30])) if labels else ""))
    with reasons_column:
        st.subheader("Reasons for absence")
        if report.reasons.empty:
            st.caption("No absence in this period.")
        else:
            chart(charts.absence_reasons, report.reasons.head(10))
    st.subheader(f"Actions opened in the period and their impact ({len(report.actions)})")
    if report.actions.empty:
        st.caption("No actions opened in this period yet.")
    else:
        dataframe(shown(section_report.actions_table(report, masked)), hide_index=True, width="stretch")
        if not report.impact_by_type.empty:
            dataframe(section_report.impact_table(report), hide_index=True, width="stretch")

# --- court file -----------------------------------------------------------------------------------

elif kind == "court":
    pupil_id, labels = pupil_choice("court_pupil", "file")
    reader = viewer(user)
    try:
        with store.opened(path) as db:
            court = court_file.court_file(db, reader, int(pupil_id), period)
    except cases.CaseError as error:
        st.warning(md(error))
        st.stop()
    st.markdown(f"**{md(labels[pupil_id])}** · {uk(period.date_from)} to {uk(period.as_of)} · attendance "
                f"{pct(court.pack.figures.get('attendance_pct'))} · {plural(len(court.registers), 'week')} of registers · "
                f"{plural(len(court.letters), 'letter')} · {plural(len(court.support), 'support item')} · "
                f"{'a support plan' if court.plan is not None else 'no support plan'} · "
                f"{plural(len(court.notices), 'penalty notice')}")
    pdf_column, csv_column, _ = st.columns([1, 1, 3])
    with pdf_column:
        pdf_button("Court file (PDF)", lambda r=reader, i=int(pupil_id), p=period, m=masked:
                   court_file.made(path, r, i, p, m, "pdf"), court_file.court_file_name(court, masked, "pdf"),
                   "court_pdf")
    csv_column.download_button("Court file (CSV)", lambda r=reader, i=int(pupil_id), p=period, m=masked:
                               court_file.made(path, r, i, p, m, "csv"),
                               court_file.court_file_name(court, masked, "csv"), "text/csv", key="court_csv",
                               icon=":material/download:", on_click="ignore")
    st.caption("For a prosecution under section 444 of the Education Act 1996: registers week by week, the chronology, "
               "letters sent, support offered and refused, the support plan and its reviews, penalty notices, and a "
               "certificate of attendance for the head teacher to sign (section 564). Sensitive notes are never "
               "included; each file made is recorded in the audit log.")
    st.subheader("Support offered, taken up and refused")
    dataframe(court.support, hide_index=True, width="stretch",
              column_config={"Date": st.column_config.DateColumn("Date", format="DD/MM/YYYY")})
    st.subheader("Registers, week by week")
    dataframe(court.registers, hide_index=True, width="stretch",
              column_config={"Week beginning": st.column_config.DateColumn("Week beginning", format="DD/MM/YYYY")})

# --- the LA's targeting-support meeting pack ----------------------------------------------------------

elif kind == "la_pack":
    scope_column, _ = st.columns([2, 3], vertical_alignment="bottom")
    with scope_column:
        scope_name, ids = scope_choice(user, settings)
    with store.opened(path) as db:
        pack = la_pack.la_pack(db, viewer(user), period, list(ids) if ids is not None else None)
    severe = int((pack.pupils["why"] == la_pack.SEVERE).sum())
    st.markdown(f"**{md(la_pack.la_pack_title(pack))}** · {md(scope_name)} · {uk(period.date_from)} to "
                f"{uk(period.as_of)} · {severe} severely absent · {len(pack.pupils) - severe} persistently absent with "
                f"{pack.min_agencies} or more agencies involved")
    if not pack.local_authority:
        st.caption("Name the school's local authority in Admin → Settings (“local_authority”) to print it on the pack.")
    pdf_column, csv_column, _ = st.columns([1, 1, 3])
    chosen = list(ids) if ids is not None else None
    with pdf_column:
        pdf_button("LA pack (PDF)", lambda r=viewer(user), p=period, c=chosen, m=masked:
                   la_pack.made(path, r, p, c, m, "pdf"), la_pack.la_pack_name(pack, "pdf"), "la_pack_pdf")
    csv_column.download_button("LA pack (CSV)", lambda r=viewer(user), p=period, c=chosen, m=masked:
                               la_pack.made(path, r, p, c, m, "csv"), la_pack.la_pack_name(pack, "csv"),
                               "text/csv", key="la_pack_csv", icon=":material/download:", on_click="ignore")
    table = la_pack.la_pack_table(pack, masked)
    if table.empty:
        st.info("No pupil is severely absent, or persistently absent with several agencies involved, in this period.")
    else:
        dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 560),
                  column_config={"Attendance %": st.column_config.NumberColumn(format="%.1f")})
    st.caption("The termly targeting-support meeting with the local authority (DfE “Working together to improve school "
               "attendance”): severely absent pupils, and persistently absent pupils with several agencies involved "
               f"(at least {pack.min_agencies}, the setting “la_pack_min_agencies”), with barriers, Early Help, "
               "actions and their impact. Each pack made is recorded in the audit log.")

# --- evidence pack ------------------------------------------------------------------------------

else:
    pupil_id, labels = pupil_choice("pack_pupil", "pack")
    with store.opened(path) as db:
        pack = evidence_pack.evidence_pack(db, viewer(user), int(pupil_id), period)
    st.markdown(f"**{md(labels[pupil_id])}** · {uk(period.date_from)} to {uk(period.as_of)} · "
                f"attendance {pct(pack.figures.get('attendance_pct'))} · {len(pack.triggers)} triggers reached · "
                f"{len(pack.chronology)} entries in the chronology")
    pdf_column, csv_column, _ = st.columns([1, 1, 3])
    with pdf_column:
        pdf_button("Evidence pack (PDF)", lambda p=pack, m=masked: evidence_pack.evidence_pack_pdf(p, m),
                   evidence_pack.evidence_pack_name(pack, masked, "pdf"), "pack_pdf")
    csv_column.download_button("Evidence pack (CSV)", exports.csv_bytes(evidence_pack.evidence_pack_frame(pack, masked)),
                               evidence_pack.evidence_pack_name(pack, masked, "csv"), "text/csv", key="pack_csv",
                               icon=":material/download:", on_click="ignore")
    st.caption("What an LA attendance team asks for with a penalty-notice or section 19 referral. Sensitive notes "
               "are never included.")
    st.subheader("Statutory triggers reached")
    dataframe(evidence_pack.triggers_table(pack), hide_index=True, width="stretch")
    st.subheader("Chronology (oldest first)")
    dataframe(evidence_pack.chronology_table(pack), hide_index=True, width="stretch")
