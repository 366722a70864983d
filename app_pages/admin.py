"""Admin — users, the section of each year group, thresholds, penalty-notice codes, local codes,
the list of intervention types (name, tier, in use), the school calendar (terms and non-school
days, proposed from the marks), benchmarks and targets (the school's targets
for the year, the national figures and their DfE statistics upload), and the audit log (who
changed what, when).

Every change goes through core (auth, store), which audits it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app_pages.ui import access, lists, people
from app_pages.ui.formatting import dataframe, hidden, md, names, today, uk, uk_time, year_order
from core import auth, benchmarks, calendar, cases, codes, intervention_types, reads, school_calendar, schools, store

user = access.require("admin")
path = reads.db_path()

st.title("Admin")
if reads.mark_span(path, reads.version()) is None:  # a new school: the first upload, and colleagues to add
    lists.no_registers_yet(user)
    st.caption("Before or after it: add your colleagues under Users, and check the sections and thresholds.")
# Users and schools are managed as the signed-in account, not as the school chosen on the Trust screen.
account = access.current_user()
if not user.may("change_settings"):  # a trust admin (issue 18): the trust's people and schools; settings are a school's
    users_tab, schools_tab = st.tabs(["Users", "Schools"])
    with users_tab:
        people.users_section(account, path)
    with schools_tab:
        people.schools_section(account, path)
    st.stop()
users_tab, schools_tab, sections_tab, thresholds_tab, codes_tab, types_tab, year_tab, benchmarks_tab, audit_tab = st.tabs(
    ["Users", "Schools", "Sections", "Thresholds and penalty codes", "Local codes", "Intervention types",
     "School calendar", "Benchmarks and targets", "Audit log"]
)


def done(message: str) -> None:
    """A confirmation; `message` may hold names typed by people, so it is shown as text."""
    st.toast(md(message), icon=":material/check:")


def shared_by_every_school() -> bool:
    """A school's own administrator on a trust's store may not change what every school shares
    (the DfE thresholds and penalty codes, sections, local codes, intervention types, national
    figures): says so and returns True. False for the store's or a trust's administrator, and
    on a one-school store."""
    if user.school_ids is None or access.school_count() <= 1:
        return False
    st.error("This is the same for every school in the trust, so only the trust's Pastoral administrator can "
             "change it. Nothing was saved.")
    return True


def save_settings(wanted: dict, settings: dict, school_id: int | None = None) -> None:
    """Store the settings that changed (each audited by store.set_setting), then redraw. With
    `school_id` (a trust's store), the settings a school may have of its own (store.SCHOOL_KEYS)
    are saved for that school; `settings` is then that school's."""
    changed = {k: v for k, v in wanted.items() if v != settings[k]}
    if any(k not in store.SCHOOL_KEYS for k in changed) and shared_by_every_school():
        return
    try:
        with store.opened(path) as db:
            for key, value in changed.items():
                store.set_setting(db, key, value, user.username, school_id if key in store.SCHOOL_KEYS else None)
    except ValueError as refused:
        st.error(md(refused))
        return
    done(f"Saved {len(changed)} setting(s)." if changed else "Nothing changed.")
    if changed:
        st.rerun()


def choose_school(key: str) -> int | None:
    """On a trust's store (more than one school), the school whose settings a section shows and
    saves: the admin's own school(s), every school for the store's administrator. None (the
    store's own settings, nothing shown) on a single school's store."""
    with store.opened(path) as db:
        if schools.count(db) <= 1:
            return None
        listed = schools.list_schools(db)
    names = {s.id: s.name for s in listed if user.school_ids is None or s.id in user.school_ids}
    if not names:
        st.info("You are not linked to any school yet.")
        st.stop()
    chosen = st.selectbox("School", list(names), format_func=names.get, key=key, width=420,
                          help="The school whose details, letters, calendar and targets are shown and saved here.")
    return int(chosen)


# --- users and schools (app_pages/ui/people.py) ------------------------------------

with users_tab:
    people.users_section(account, path)
with schools_tab:
    people.schools_section(account, path)

# --- sections ----------------------------------------------------------------------

with sections_tab:
    version = reads.version()
    settings = reads.settings(path, version)
    by_year = store.section_of_year_groups(settings)
    years_on_roll = set(reads.pupils(path, version)["year_group"].dropna()) - {""}
    all_years = sorted(set(by_year) | years_on_roll, key=year_order)
    st.markdown("Which section each year group belongs to. A head of section sees the pupils of their section(s) "
                "everywhere; the Overview and Patterns compare sections.")
    table = pd.DataFrame({"Year group": all_years, "Section": [by_year.get(y, "") for y in all_years]})
    edited = st.data_editor(
        table, hide_index=True, disabled=["Year group"], key="sections_editor", width=420,
        column_config={"Section": st.column_config.TextColumn(
            "Section", help="Type a section name; year groups with the same name form one section.")},
    )
    if st.button("Save sections", type="primary"):
        new_sections: dict[str, list[str]] = {}
        for year_group, section in zip(edited["Year group"], edited["Section"].fillna("")):
            if section.strip():
                new_sections.setdefault(section.strip(), []).append(year_group)
        if not new_sections:
            st.error("Give at least one year group a section.")
        elif not shared_by_every_school():
            with store.opened(path) as db:
                store.set_setting(db, "sections", new_sections, user.username)
            done("Sections saved.")
            st.rerun()

# --- thresholds and penalty codes --------------------------------------------------

with thresholds_tab:
    settings = reads.settings(path, reads.version())
    settings_school = choose_school("settings_school")  # a trust's store: whose name, letters, LA (issue 18)
    # The chosen school's own settings over the store's (the thresholds stay the same for every school).
    own = settings if settings_school is None else reads.settings(path, reads.version(), settings_school)
    if settings_school is not None:
        st.caption("The school's name, its letters' details and its local authority are saved for the school chosen; "
                   "the thresholds and the rest are the same for every school.")
    st.markdown("The statutory triggers' defaults follow DfE guidance; your local authority may set others.")
    with st.form("thresholds"):
        school_name = st.text_input("School name", value=own["school_name"])
        left, right = st.columns(2)
        runs = dict(settings["unauthorised_run_days"])
        run_10 = left.number_input("Unauthorised absence in a row: first trigger (school days)", 1, 60,
                                   int(runs.get("unauthorised_10_days", 10)), key="t_run_10")
        run_20 = right.number_input("Unauthorised absence in a row: second trigger (school days)", 1, 120,
                                    int(runs.get("unauthorised_20_days", 20)), key="t_run_20")
        illness = left.number_input("Illness sessions (consecutive or not)", 1, 400, int(settings["illness_sessions"]), key="t_illness")
        penalty = right.number_input("Penalty-notice threshold: unauthorised sessions", 1, 100,
                                     int(settings["penalty_sessions"]), key="t_penalty")
        weeks = left.number_input("…within this many school weeks", 1, 39, int(settings["penalty_school_weeks"]), key="t_weeks")
        server_limit = int(st.get_option("server.maxUploadSize"))  # .streamlit/config.toml: no upload goes past it
        upload_limit = right.number_input("Largest upload (MB)", 1, server_limit,
                                          min(int(settings["max_upload_mb"]), server_limit), key="t_upload_mb",
                                          help=f"At most {server_limit} MB, the server's own limit.")
        unauthorised_codes = [c.code for c in codes.CODE_TABLE if c.category == codes.UNAUTHORISED and c.valid_to is None]
        penalty_codes = st.multiselect(
            "Codes that count towards the penalty-notice threshold", unauthorised_codes,
            default=[c for c in settings["penalty_codes"] if c in unauthorised_codes],
            format_func=codes.meaning,
        )
        if st.form_submit_button("Save", type="primary"):
            wanted = {
                "school_name": school_name.strip() or own["school_name"],
                "unauthorised_run_days": {"unauthorised_10_days": int(run_10), "unauthorised_20_days": int(run_20)},
                "illness_sessions": int(illness),
                "penalty_sessions": int(penalty),
                "penalty_school_weeks": int(weeks),
                "max_upload_mb": int(upload_limit),
                "penalty_codes": penalty_codes,
            }
            if not penalty_codes:
                st.error("Choose at least one code for the penalty-notice threshold.")
            elif run_20 <= run_10:
                st.error("The second run trigger must be longer than the first.")
            else:
                save_settings(wanted, {**settings, **{k: own[k] for k in store.SCHOOL_KEYS}}, settings_school)

    st.subheader("Letters, calls and lateness")
    with st.form("officer_settings"):
        address = st.text_area("School address (on every letter)", value=own["school_address"], height=100)
        left, right = st.columns(2)
        phone = left.text_input("School telephone (on every letter)", value=own["school_phone"])
        right.empty()
        signatory = left.text_input("Letters signed by (blank: whoever makes them)", value=own["letter_signatory"])
        signatory_role = right.text_input("Their role", value=own["letter_signatory_role"])
        late = left.number_input("Persistently late: late arrivals in one half term", 1, 100,
                                 int(settings["persistent_late_arrivals"]), key="t_late")
        n_days = right.number_input("An N is resolved within this many school days", 1, 30,
                                    int(settings["unresolved_n_school_days"]), key="t_n_days")
        call_marks = st.multiselect("Marks a first-day call can say to enter once a parent gives the reason",
                                    codes.current_codes(), default=settings["first_day_call_marks"],
                                    format_func=codes.meaning)
        if st.form_submit_button("Save", type="primary"):
            wanted = {"school_address": address.strip(), "school_phone": phone.strip(),
                      "letter_signatory": signatory.strip(),
                      "letter_signatory_role": signatory_role.strip(), "persistent_late_arrivals": int(late),
                      "unresolved_n_school_days": int(n_days), "first_day_call_marks": call_marks}
            if not call_marks:
                st.error("Choose at least one mark for the calls.")
            else:
                save_settings(wanted, {**settings, **{k: own[k] for k in store.SCHOOL_KEYS}}, settings_school)

    st.subheader("Support plans and the local authority")
    with st.form("plan_settings"):
        left, right = st.columns(2)
        local_authority = left.text_input("Local authority (named on the LA support meeting pack)",
                                          value=own["local_authority"], max_chars=120)
        plan_weeks = right.number_input("Support plans: weeks between reviews", 1, 26,
                                        int(settings["plan_review_weeks"]), key="t_plan_weeks",
                                        help="A review falls due this long after the plan started or its last review "
                                             "(6 by default); a review can always be brought forward.")
        agencies = left.number_input("LA pack: persistently absent pupils with at least this many agencies", 1, 10,
                                     int(settings["la_pack_min_agencies"]), key="t_la_agencies")
        if st.form_submit_button("Save", type="primary"):
            save_settings({"local_authority": " ".join(local_authority.split()), "plan_review_weeks": int(plan_weeks),
                           "la_pack_min_agencies": int(agencies)},
                          {**settings, **{k: own[k] for k in store.SCHOOL_KEYS}}, settings_school)

# --- local codes -------------------------------------------------------------------

with codes_tab:
    st.markdown("Your MIS's own codes (e.g. `I01`, `7`) and what DfE code each means. An upload with a code that "
                "is neither a DfE code nor mapped here is refused, with the rows that carry it.")
    with store.opened(path) as db:
        rows = db.execute("SELECT local_code, dfe_code, note, updated_by, updated_at FROM code_map ORDER BY local_code").fetchall()
    if rows:
        dataframe(
            pd.DataFrame([{"Local code": r[0], "Means": codes.meaning(r[1]), "Note": r[2], "Set by": r[3],
                        "When": uk_time(r[4])} for r in rows]),
            hide_index=True, width="stretch",
        )
    else:
        st.info("No local codes mapped yet.")
    defaults = {k: v for k, v in codes.MIS_SUB_CODES.items() if k not in {r[0] for r in rows}}
    if defaults:
        st.caption("MIS sub-codes read by default (map one below to read it differently): "
                   + ", ".join(f"{k} → {v}" for k, v in defaults.items()) + ".")
    with st.form("local_code", clear_on_submit=True):
        left, middle, right = st.columns([1, 2, 2])
        local = left.text_input("Local code")
        dfe = middle.selectbox("DfE code it means", codes.current_codes(), format_func=codes.meaning)
        note = right.text_input("Note (optional)")
        if st.form_submit_button("Save mapping", type="primary") and not shared_by_every_school():
            try:
                with store.opened(path) as db:
                    store.set_local_code(db, local, dfe, user.username, note)
                done(f"'{local.strip().upper()}' now reads as {codes.meaning(dfe)}.")
                st.rerun()
            except ValueError as error:
                st.error(md(error))

# --- intervention types ---------------------------------------------------------------

TIER_LABELS = {tier: f"{tier} · {name}" for tier, name in intervention_types.TIERS.items()}

with types_tab:
    st.markdown("What the team can record as an action, by tier of the DfE's approach: support first "
                "(1 Expect, 2 Monitor, 3 Listen and understand, 4 Facilitate support), then formal support (5) "
                "and enforcement (6). Types are never deleted — actions refer to them; untick “In use” to stop "
                "offering one. Add a type on the empty row at the bottom.")
    with store.opened(path) as db:
        types = intervention_types.intervention_types(db, include_inactive=True)
    listed = pd.DataFrame({
        "Name": types["name"], "Tier": types["tier"].map(TIER_LABELS), "In use": types["active"],
        "Records": types["details"].map(lambda fields: ", ".join(intervention_types.DETAIL_FIELDS[f].label for f in fields)),
    })
    edited_types = st.data_editor(
        listed, hide_index=True, num_rows="add", key="types_editor", width="stretch",
        disabled=["Records"],
        column_config={
            "Name": st.column_config.TextColumn("Name", required=True, max_chars=80),
            "Tier": st.column_config.SelectboxColumn("Tier", options=list(TIER_LABELS.values()), required=True),
            "In use": st.column_config.CheckboxColumn("In use", default=True),
            "Records": st.column_config.TextColumn("Also records", help="Fields the type asks for; fixed for the "
                                                   "types Pastoral knows (penalty notices, reduced timetables...)"),
        },
    )
    if st.button("Save intervention types", type="primary", key="save_types") and not shared_by_every_school():
        tier_of = {label: tier for tier, label in TIER_LABELS.items()}
        wanted = [(str(r["Name"]), tier_of.get(r["Tier"], 0), True if pd.isna(r["In use"]) else bool(r["In use"]))
                  for r in edited_types.to_dict("records") if pd.notna(r["Name"]) and str(r["Name"]).strip()]
        try:
            with store.opened(path) as db:
                changed = intervention_types.save_types(db, auth.Viewer.of(user), wanted)
            done(f"Saved {changed} intervention type(s)." if changed else "Nothing changed.")
            if changed:
                st.rerun()
        except cases.CaseError as error:
            st.error(md(error))

# --- school calendar: terms and non-school days, proposed from the marks ------------------------


def draw_school_calendar() -> None:
    """Terms and non-school days of one academic year: the saved calendar, else one proposed
    from the marks; edited in two tables and saved whole (core/school_calendar.py checks it)."""
    st.markdown(
        "Academic years run from 1 September to 31 August. A **school day** is a weekday inside a term that is not "
        "an INSET day, bank holiday or closure. Until a year's calendar is saved, its school days are the days the "
        "marks show a session held — so a week nobody uploaded goes unnoticed. Once saved, a school day with no mark "
        "for a pupil on roll is a missing mark, marks on other days are held at upload for you to confirm, and the "
        "early warning can count the sessions left in the year.")
    calendar_school = choose_school("calendar_school")  # a trust's store: each school its own calendar (issue 18)
    version = reads.version()
    span = reads.mark_span(path, version)
    with store.opened(path) as db:
        saved = school_calendar.load(db, calendar_school or store.FIRST_SCHOOL)
    years = set(saved.years if saved else ())
    if span:
        years |= set(range(calendar.academic_year(span[0]), calendar.academic_year(span[1]) + 1))
    this_year = calendar.academic_year(today())
    years |= {this_year}
    default = calendar.academic_year(span[1]) if span else this_year
    ordered = sorted(years, reverse=True)
    year = st.selectbox("Academic year", ordered, index=ordered.index(default), format_func=calendar.academic_year_label,
                        key="calendar_year")
    year_saved = saved.for_year(year) if saved and year in saved.years else None
    source = None  # a trust's school without this year's calendar may start from another school's
    if year_saved is None and calendar_school is not None:
        with store.opened(path) as db:
            others = {s: one.for_year(year) for s, one in school_calendar.load_each(db).items()
                      if s != calendar_school and year in one.years}
            names = {s.id: s.name for s in schools.list_schools(db)}
        if others:
            source = st.selectbox("Start from", [None, *sorted(others)], key=f"calendar_source_{calendar_school}",
                                  format_func=lambda s: "The days this school's marks show" if s is None
                                  else f"{names.get(s, s)}'s saved calendar", width=420,
                                  help="Schools of a trust often share term dates: start from another school's "
                                       "saved calendar, change what differs here (INSET days), and save it for "
                                       "this school. Nothing is shared after that.")
    if year_saved is not None:
        shown = year_saved
        st.caption(f"The saved calendar for {calendar.academic_year_label(year)}.")
    elif source is not None:
        shown = others[source]
        st.info(f"**Copied from {names.get(source, source)}'s saved calendar** — not saved for this school yet. "
                "Change what differs here (its INSET days, closures) and save.", icon=":material/edit_calendar:")
    else:
        with store.opened(path) as db:
            shown = school_calendar.propose(db, year, calendar_school)
        if shown.terms:
            st.info("**Proposed from the marks** — not saved yet. Terms are the runs of school weeks in the marks "
                    "(a week with no session is a holiday); weekdays in a term with no session for anyone are "
                    "listed as closures. Check them (INSET day? bank holiday?), add the terms still to come, and "
                    "save.", icon=":material/edit_calendar:")
        else:
            st.info(f"No calendar saved for {calendar.academic_year_label(year)} and no marks to propose one from: "
                    "add its terms below and save.", icon=":material/edit_calendar:")
    terms, days = school_calendar.as_tables(shown)
    key = f"calendar_{year}_{'saved' if year_saved is not None else 'proposed'}" + (
        f"_{calendar_school}" if calendar_school is not None else "") + (f"_from_{source}" if source else "")
    uk_date_column = {"format": "DD/MM/YYYY", "required": True}
    st.subheader("Terms")
    edited_terms = st.data_editor(
        terms, num_rows="dynamic", hide_index=True, key=f"{key}_terms", width=560,
        column_config={"Term": st.column_config.TextColumn(required=True, max_chars=40),
                       "First day": st.column_config.DateColumn(**uk_date_column),
                       "Last day": st.column_config.DateColumn(**uk_date_column)})
    st.subheader("Non-school days in term")
    st.caption("INSET days, bank holidays and closures that fall inside a term. Holidays between terms need no entry.")
    edited_days = st.data_editor(
        days, num_rows="dynamic", hide_index=True, key=f"{key}_days", width=720,
        column_config={"Date": st.column_config.DateColumn(**uk_date_column),
                       "Kind": st.column_config.SelectboxColumn(options=list(school_calendar.KINDS.values()),
                                                                required=True),
                       "Label": st.column_config.TextColumn(max_chars=80)})
    if st.button(f"Save the calendar for {calendar.academic_year_label(year)}", type="primary",
                 icon=":material/save:", key=f"{key}_save"):
        try:
            wanted = school_calendar.from_tables(edited_terms, edited_days)
            with store.opened(path) as db:
                school_calendar.save(db, year, wanted, user.username, calendar_school or store.FIRST_SCHOOL)
        except school_calendar.CalendarError as refused:
            st.error("Not saved:\n\n" + "\n".join(f"- {md(problem)}" for problem in refused.problems))
        else:
            done(f"Saved the calendar for {calendar.academic_year_label(year)}.")
            st.rerun()
    if year_saved is not None:
        left = year_saved.school_days_left(today()) if calendar.academic_year(today()) == year else None
        days_in_year = len(year_saved.school_days(date(year, 9, 1), date(year + 1, 8, 31)))
        st.caption(f"{days_in_year} school days ({days_in_year * 2} sessions) in this calendar"
                   + ("; it reaches the end of the year" if year_saved.reaches_year_end(year)
                      else "; it stops before the summer, so the sessions left in the year are not known yet")
                   + (f"; {left} school days left after today." if left is not None else "."))
    if span:
        st.caption(f"Marks held: {uk(span[0])} to {uk(span[1])}.")


with year_tab:
    draw_school_calendar()


# --- benchmarks and targets: the school's targets, the national figures and their upload ---------

def figure_change(before: float | None, after: float | None) -> str:
    """'6.90 → 6.62', '— → 6.62', or the value when it stays."""
    shown = [("—" if v is None or pd.isna(v) else f"{float(v):.2f}") for v in (before, after)]
    return shown[1] if shown[0] == shown[1] else f"{shown[0]} → {shown[1]}"


def draw_trust_targets(year: int) -> None:
    """The trust's own targets for a year (issue 18): shown on the Trust screen and in the
    trust report beside each school's figures and its own targets."""
    st.subheader("The trust's targets")
    st.caption("Shown on the Trust screen and in the trust report beside every school's figures, with the gap.")
    chosen = benchmarks.targets_for(reads.settings(path, reads.version()), year, benchmarks.TRUST_TARGETS)
    with st.form("trust_targets"):
        left, middle, right = st.columns(3)
        values = {}
        for column, (measure, label) in zip((left, middle, right), (
                ("attendance_pct", "Attendance (%) — at or above"),
                ("persistent_absence_pct", "Persistent absence (% of pupils) — at or below"),
                ("severe_absence_pct", "Severe absence (% of pupils) — at or below"))):
            low, high = benchmarks.TARGET_LIMITS[measure]
            values[measure] = column.number_input(label, low, high, chosen.get(measure), step=0.1, format="%.1f",
                                                  key=f"trust_target_{measure}_{year}", placeholder="No target",
                                                  help="Leave blank for no target.")
        if st.form_submit_button("Save the trust's targets", type="primary"):
            try:
                with store.opened(path) as db:
                    changed = benchmarks.set_trust_targets(db, year, values["attendance_pct"],
                                                           values["persistent_absence_pct"],
                                                           values["severe_absence_pct"], user.username)
                done(f"The trust's targets for {calendar.academic_year_label(year)} saved." if changed
                     else "Nothing changed.")
                if changed:
                    st.rerun()
            except benchmarks.BenchmarkError as error:
                st.error(md(error))


def draw_benchmarks_and_targets() -> None:
    """The school's targets for a year; the national figures stored; a DfE statistics CSV
    uploaded, previewed and saved (core/benchmarks.py; every save audited)."""
    targets_school = choose_school("targets_school")  # a trust's store: each school its own targets (issue 18)
    settings = reads.settings(path, reads.version(), targets_school)
    span = reads.mark_span(path, reads.version())
    this_year = calendar.academic_year(span[1] if span else today())

    st.subheader("The school's targets")
    st.caption(benchmarks.ON_TRACK_RULE + " Overview and the head of section report show each target as on or "
                                          "off track.")
    years = [this_year - 1, this_year, this_year + 1]
    year = st.selectbox("Academic year", years, index=1, format_func=calendar.academic_year_label,
                        key="targets_year")
    chosen = benchmarks.targets_for(settings, year)
    target_key = f"{year}" if targets_school is None else f"{year}_{targets_school}"
    with st.form("targets"):
        left, right = st.columns(2)
        attendance = left.number_input("Attendance target (%) — at or above", 50.0, 100.0,
                                       chosen.get("attendance_pct"), step=0.1, format="%.1f",
                                       key=f"target_attendance_{target_key}", placeholder="No target",
                                       help="Leave blank for no target.")
        persistent = right.number_input("Persistent absence target (% of pupils) — at or below", 0.0, 100.0,
                                        chosen.get("persistent_absence_pct"), step=0.1, format="%.1f",
                                        key=f"target_persistent_{target_key}", placeholder="No target",
                                        help="Pupils missing 10% or more of their sessions. Leave blank for no target.")
        if st.form_submit_button("Save targets", type="primary"):
            try:
                with store.opened(path) as db:
                    changed = benchmarks.set_targets(db, year, attendance, persistent, user.username, targets_school)
                done(f"Targets for {calendar.academic_year_label(year)} saved." if changed else "Nothing changed.")
                if changed:
                    st.rerun()
            except benchmarks.BenchmarkError as error:
                st.error(md(error))
    if targets_school is not None and user.school_ids is None:  # the store's administrator: the trust's own
        draw_trust_targets(year)

    st.subheader("National figures")
    st.caption("Shown beside the school's figures on Overview, Reports and the head of section report: state-funded "
               "schools in England. For each academic year the figure covering most of the year is used, and a "
               "part-year figure is always named as such (e.g. “autumn 2025/26”).")
    figures = reads.national_figures(path, reads.version())
    dataframe(pd.DataFrame({
        "Academic year": figures["academic_year"].map(calendar.academic_year_label),
        "Period": figures["period"],
        "Attendance %": (100 - figures["overall_absence_pct"].astype("float64")).round(2),
        "Absence %": figures["overall_absence_pct"].astype("float64"),
        "Persistent absence %": figures["persistent_absence_pct"].astype("float64"),
        "Severe absence %": figures["severe_absence_pct"].astype("float64"),
        "Source": figures["source"],
        "Published": figures["published_on"].map(lambda d: uk(d) if d else "not recorded"),
        "Updated": [f"{uk_time(at)} by {who}" for at, who in zip(figures["updated_at"], figures["updated_by"])],
    }), hide_index=True, width="stretch")

    st.markdown("**Update from the DfE's statistics**")
    st.caption(benchmarks.DOWNLOAD_HINT + " Only the national rows for state-funded schools in total are read.")
    round_key = "national_csv_round"
    limit_mb = int(settings["max_upload_mb"])
    upload = st.file_uploader("DfE statistics CSV", type=["csv"], key=f"national_csv_{st.session_state.get(round_key, 0)}",
                              max_upload_size=limit_mb)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        if len(data) > limit_mb * 1024 * 1024:
            raise benchmarks.BenchmarkError(f"The file is larger than {limit_mb} MB, the largest upload allowed.")
        parsed = benchmarks.read_dfe_csv(data)
    except benchmarks.BenchmarkError as error:
        st.error(md(error), icon=":material/error:")
        return
    preview = benchmarks.changes(figures, parsed.rows)
    to_save = preview[preview["status"] != "unchanged"]
    st.markdown(f"**{md(upload.name)}** · {md(parsed.source)} · {parsed.rows_read:,} rows read, "
                f"{len(preview)} national total(s) for a term or year: {int((preview['status'] == 'new').sum())} new, "
                f"{int((preview['status'] == 'changed').sum())} changed, "
                f"{int((preview['status'] == 'unchanged').sum())} as stored.")
    dataframe(pd.DataFrame({
        "Academic year": preview["academic_year"].map(calendar.academic_year_label),
        "Period": preview["period"], "What happens": preview["status"].map(
            {"new": "added", "changed": "changed", "unchanged": "no change"}),
        **{label: [figure_change(b, a) for b, a in zip(preview[f"{m}_before"], preview[f"{m}_after"])]
           for m, label in benchmarks.MEASURE_LABELS.items()},
    }), hide_index=True, width="stretch")
    if to_save.empty:
        st.info("Nothing to change: every figure in this file is already stored.")
        return
    with st.form("national_save"):
        left, right = st.columns([3, 1])
        source = left.text_input("Source (publication and release)", value=parsed.source, key="national_source",
                                 help="Add the release, e.g. “DfE, Pupil attendance in schools, 2026 week 2”.")
        published = right.date_input("Published on", value=today(), max_value=today(), format="DD/MM/YYYY",
                                     key="national_published")
        if st.form_submit_button(f"Save {len(to_save)} national figure(s)", type="primary") \
                and not shared_by_every_school():
            try:
                with store.opened(path) as db:
                    saved = benchmarks.save(db, parsed.rows, source, published, user.username, upload.name)
            except benchmarks.BenchmarkError as error:
                st.error(md(error))
            else:
                st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
                done(f"Saved {saved} national figure(s).")
                st.rerun()


with benchmarks_tab:
    draw_benchmarks_and_targets()


# What the audit log's actions mean, in the school's words (an action not listed shows its id).
AUDIT_ACTIONS = {
    "login": "Signed in", "logout": "Signed out", "login.failed": "Sign-in refused", "user.locked": "Account locked",
    "user.add": "User added", "user.change": "User changed", "user.password": "Password changed",
    "user.unlock": "Account unlocked", "user.sign_out_everywhere": "Signed out everywhere", "school.init": "School set up",
    "school.add": "School added", "school.edit": "School changed", "pupil.move": "Pupil moved school",
    "import": "Upload imported", "import.rejected": "Upload rejected", "import.unchanged": "Upload changed nothing",
    "import.undo": "Upload undone", "setting.change": "Setting changed",
    "code_map.set": "Local code mapped", "mapping.save": "Column mapping saved",
    "mapping.replace": "Column mapping replaced", "mapping.delete": "Column mapping deleted",
    "intervention.open": "Action logged", "intervention.edit": "Action edited", "intervention.close": "Action closed",
    "intervention_type.save": "Intervention type saved", "penalty_notice.parent": "Penalty notice parent recorded",
    "checkin.schedule": "Check-in booked", "checkin.complete": "Check-in completed", "contact.log": "Contact logged",
    "key_adult.assign": "Key adult assigned", "meeting.start": "Meeting started", "meeting.minutes": "Minutes edited",
    "meeting.decision": "Meeting decision", "meeting.finish": "Meeting finished", "report.issue": "Report issued",
    "first_day_call.log": "First-day call logged", "letter_template.save": "Letter template saved",
    "letter_template.reset": "Letter template reset", "siblings.confirm": "Siblings confirmed",
    "siblings.reject": "Siblings ruled out", "triggers.shown": "Triggers recorded", "backup": "Backup taken",
    "restore": "Backup restored", "purge.leavers": "Leavers purged",
    "national_figures.upload": "National figures updated",
}


def audit_detail(detail: dict) -> str:
    """An entry's detail as 'key: value; …' (no notes are ever audited, only what changed)."""
    if not isinstance(detail, dict):
        return ""
    return "; ".join(f"{key.replace('_', ' ')}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in detail.items() if key != "pupil_id" and not hidden(key))


def audit_choice(action: str, actions: list[str]) -> str:
    """How the "What" filter names an action, or a family of them ("All intervention …")."""
    if not action:
        return "Everything"
    label = AUDIT_ACTIONS.get(action, action.replace("_", " "))
    family = any(other.startswith(action + ".") for other in actions)
    return f"{label} (and {action.replace('_', ' ')}.…)" if family and action in AUDIT_ACTIONS else (
        f"All {label} entries" if family else label)


with audit_tab:
    st.caption("Every sign-in, upload, case entry, setting and user change, with who and when (London time). "
               "Entries are never changed or removed.")
    with store.opened(path) as db:
        actions = store.audit_actions(db)
        people = [u for u, in db.execute("SELECT DISTINCT username FROM audit ORDER BY username").fetchall()]
        # A school's own administrator on a trust's store reads their school's part of the log:
        # entries about their pupils, and their own staff's entries about no pupil.
        school_scoped = user.school_ids is not None and schools.count(db) > 1
        own_pupils = set(schools.pupil_ids_of(db, list(user.school_ids))) if school_scoped else None
        own_staff = {u.username for u in auth.list_users(db) if set(u.schools) & set(user.school_ids)} \
            if school_scoped else None
    if own_staff is not None:
        people = [u for u in people if u in own_staff]
    on = today()
    dates_column, who_column, what_column = st.columns([1.2, 1, 1.4])
    chosen = dates_column.date_input("Dates", value=(on - timedelta(days=30), on), max_value=on,
                                     format="DD/MM/YYYY", key="audit_dates")
    who = who_column.selectbox("Who", ["", *people], format_func=lambda u: u or "Everyone", key="audit_who")
    what = what_column.selectbox("What", ["", *actions], key="audit_what",
                                 format_func=lambda a: audit_choice(a, actions))
    since, until = (chosen[0], chosen[-1]) if isinstance(chosen, (tuple, list)) and chosen else (None, None)
    with store.opened(path) as db:
        entries, more = store.audit_log(db, since, until, who, what)
    if own_pupils is not None:
        about = entries["pupil_id"]
        entries = entries[(about.isna() & entries["username"].isin(own_staff)).to_numpy()
                          | about.isin(list(own_pupils)).fillna(False).to_numpy()].reset_index(drop=True)
    if entries.empty:
        st.info("No audit entries for these dates and choices.")
    else:
        pupils = reads.pupils(path, reads.version())
        pupil_names = pd.Series(names(pupils).to_numpy(), index=pupils["id"].to_numpy())
        table = pd.DataFrame({
            "When": entries["at"].map(uk_time),
            "Who": entries["username"],
            "What": entries["action"].map(lambda a: AUDIT_ACTIONS.get(a, a)),
            # none, or a pupil since purged; as text (with no pupils yet the ids stay Int64, which cannot hold "")
            "Pupil": entries["pupil_id"].map(pupil_names).astype(object).fillna(""),
            "Record": entries["entity"].str.replace("_", " ") + " " + entries["entity_id"],
            "Detail": entries["detail"].map(audit_detail),
        })
        st.caption(f"{len(table):,} entries, newest first" + (f" (the newest {store.AUDIT_LIMIT:,}: narrow the "
                                                               "dates to see older ones)" if more else "") + ".")
        dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 560),
                  column_config={"Detail": st.column_config.TextColumn("Detail", width="large")})
        lists.download_buttons(table, "audit log", until or on, "audit_log")
