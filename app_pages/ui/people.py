"""Admin → Users and Admin → Schools (issue 18): who may sign in, with their role, sections,
schools and hub; a trust's schools (list, add, edit) and moving a pupil between them.

Who manages whom: the store's administrator (an admin named to no school) and a trust admin
manage every user and every school; a school's administrator on a trust's store manages the
people of their own school(s) and sees the schools listed. On a one-school store the Users
section is as it always was (no school or hub choices, no trust roles). Every change goes
through core (auth, schools), which audits it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.ui.formatting import dataframe, md, names, today, uk
from core import auth, schools, sessions, store

TRUST_ROLE_CHOICES = (auth.TRUST_ADMIN, auth.TRUST_LEAD, auth.HUB_LEAD)


def done(message: str) -> None:
    """A confirmation; `message` may hold names typed by people, so it is shown as text."""
    st.toast(md(message), icon=":material/check:")


def write(path, change, said) -> None:
    """Make `change(db)` in the store, then confirm with `said(what it returned)` and redraw;
    when the store refuses it, say why on the form (nothing is saved)."""
    try:
        with store.opened(path) as db:
            result = change(db)
    except (auth.UserError, schools.SchoolError) as error:
        st.error(md(error))
        return
    done(said(result))
    st.rerun()


def runs_the_trust(user: auth.User) -> bool:
    """The store's administrator or a trust admin: every school and every user."""
    return user.school_ids is None and user.role in (auth.ADMIN, auth.TRUST_ADMIN)


def role_choices(user: auth.User, several: bool) -> tuple[str, ...]:
    """The roles this user may give: the trust roles only on a trust's store, and only by
    those who run the trust."""
    return tuple(auth.ROLES) + (TRUST_ROLE_CHOICES if several and runs_the_trust(user) else ())


def managed_users(user: auth.User, everyone: list[auth.User], several: bool) -> list[auth.User]:
    """The users this user manages: everyone, or (a school's administrator on a trust's store)
    the people named to their school(s), themselves included."""
    if not several or runs_the_trust(user):
        return everyone
    mine = set(user.school_ids or ())
    return [u for u in everyone if u.username == user.username
            or (u.role not in TRUST_ROLE_CHOICES and set(u.schools) & mine)]


def users_section(user: auth.User, path) -> None:
    with store.opened(path) as db:
        everyone = auth.list_users(db)
        section_names = list(store.get_settings(db)["sections"])
        signed_in_now = sessions.open_counts(db)
        all_schools = schools.list_schools(db)
        hubs = schools.hubs(db)
    several = len(all_schools) > 1
    school_names = {s.id: s.name for s in all_schools}
    everyone = managed_users(user, everyone, several)
    roles = role_choices(user, several)
    my_schools = [s.id for s in all_schools if user.school_ids is None or s.id in user.school_ids]
    rows = []
    for u in everyone:
        row = {"Username": u.username, "Name": u.name, "Role": u.role_label, "Sections": ", ".join(u.sections)}
        if several:  # a trust's store: where each user works
            row["Schools or hub"] = auth.scope_text(u, school_names)
        rows.append({**row, "Email": u.email, "Can sign in": "yes" if u.active else "no (deactivated)",
                     "Locked": "locked after failed logins" if u.locked() else "",
                     "Open sessions": signed_in_now.get(u.username, 0)})
    dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    def school_and_hub(default_schools=None, default_hub: str = "", key: str = "") -> tuple[list[int] | None, str | None]:
        """The school (multi) and hub choices, on a trust's store only; a new user of a school's
        administrator with one school starts in that school."""
        if not several:
            return None, None
        if default_schools is None:
            default_schools = my_schools if len(my_schools) == 1 else []
        chosen = st.multiselect("Schools (school roles)", my_schools, format_func=school_names.get,
                                default=[s for s in default_schools if s in my_schools], key=f"{key}_schools",
                                help="Where they work: they see these schools' pupils. The trust roles see every "
                                     "school; a hub lead their hub's.")
        hub_options = ["", *hubs]
        hub = st.selectbox("Hub (hub leads)", hub_options, index=hub_options.index(default_hub)
                           if default_hub in hub_options else 0, format_func=lambda h: h or "—", key=f"{key}_hub",
                           help="A hub lead sees the schools of their hub (Admin → Schools gives each school its hub).")
        return chosen, hub

    add_column, edit_column = st.columns(2, gap="large")
    add_column.subheader("Add a user")
    with add_column, st.form("add_user", clear_on_submit=True, border=True):
        username = st.text_input("Username", help="Letters, digits, '.', '_' or '-'; they sign in with it.")
        name = st.text_input("Name", help="As colleagues know them.")
        email = st.text_input("Email (optional)")
        role = st.selectbox("Role", roles, format_func=auth.ROLE_LABELS.get)
        sections = st.multiselect("Sections (heads of section only)", section_names)
        their_schools, hub = school_and_hub(key="add_user")
        password = st.text_input("First password", type="password",
                                 help=f"At least {auth.MIN_PASSWORD_LENGTH} characters; tell them to change it.")
        if st.form_submit_button("Add user", type="primary"):
            write(path, lambda db: auth.add_user(db, username, name, password, role, sections, email, by=user.username,
                                                 schools=their_schools, hub=hub or ""),
                  lambda added: f"Added {added.username}.")

    with edit_column:
        st.subheader("Change a user")
        if not everyone:
            st.info("No users yet.")
            return
        chosen = st.selectbox("User", [u.username for u in everyone], key="admin_edit_user",
                              format_func=lambda u: next(f"{x.name} ({x.username})" for x in everyone if x.username == u))
        target = next(u for u in everyone if u.username == chosen)
        with st.form(f"edit_user_{target.username}", border=True):
            new_name = st.text_input("Name", value=target.name)
            new_email = st.text_input("Email", value=target.email)
            offered = roles if target.role in roles else (*roles, target.role)
            new_role = st.selectbox("Role", offered, index=offered.index(target.role), format_func=auth.ROLE_LABELS.get)
            new_sections = st.multiselect("Sections (heads of section only)", section_names,
                                          default=[s for s in target.sections if s in section_names])
            new_schools, new_hub = school_and_hub(target.schools, target.hub, key=f"edit_user_{target.username}")
            may_sign_in = st.checkbox("Can sign in", value=target.active)
            new_password = st.text_input("New password (leave blank to keep)", type="password")
            if st.form_submit_button("Save changes", type="primary"):
                def save(db) -> None:
                    if target.username == user.username and not may_sign_in:
                        raise auth.UserError("You cannot deactivate yourself; ask another administrator.")
                    # Their schools outside this administrator's stay as they were.
                    kept = [s for s in target.schools if s not in my_schools]
                    auth.update_user(db, target.username, user.username, name=new_name, email=new_email,
                                     role=new_role, sections=new_sections, active=may_sign_in,
                                     schools=None if new_schools is None else kept + list(new_schools), hub=new_hub)
                    if new_password:
                        auth.set_password(db, target.username, new_password, user.username)
                write(path, save, lambda _: f"Saved {target.username}.")
        open_sessions = signed_in_now.get(target.username, 0)
        if st.button(f"Sign {md(target.username)} out everywhere", key="sign_out_everywhere", icon=":material/logout:",
                     disabled=not open_sessions,
                     help=f"Ends their {open_sessions} open session(s), on every browser, at their next click "
                          "(a lost laptop, a shared password). A new password or deactivation does this too."):
            with store.opened(path) as db:
                ended = auth.sign_out_everywhere(db, target.username, user.username)
            done(f"{md(target.username)} is signed out everywhere ({ended} session(s) ended).")
            st.rerun()
        if target.locked():
            if st.button(f"Unlock {md(target.username)}", icon=":material/lock_open:"):
                with store.opened(path) as db:
                    auth.unlock(db, target.username, user.username)
                done(f"{target.username} can sign in again.")
                st.rerun()
    st.caption("Users are never deleted (the audit log names them); untick “Can sign in” instead. "
               "A new password, a change of role, sections or schools, or unticking “Can sign in” signs the user "
               "out everywhere at their next click. "
               "Five wrong passwords in a row lock an account for 15 minutes; a new password unlocks it.")


# --- schools -------------------------------------------------------------------------


def schools_table(db) -> pd.DataFrame:
    pupils = dict(db.execute("SELECT school_id, COUNT(*) FROM pupils GROUP BY school_id").fetchall())
    return pd.DataFrame([{"No.": s.id, "School": s.name, "URN": s.urn, "DfE number": s.dfe_number, "Hub": s.hub,
                          "Pupils": pupils.get(s.id, 0)} for s in schools.list_schools(db)],
                        columns=["No.", "School", "URN", "DfE number", "Hub", "Pupils"])


def schools_section(user: auth.User, path) -> None:
    """The store's schools; adding and editing one, and moving a pupil between them, for those
    who run the trust."""
    with store.opened(path) as db:
        table = schools_table(db)
        listed = schools.list_schools(db)
        hubs = schools.hubs(db)
    dataframe(table, hide_index=True, width="stretch")
    if not runs_the_trust(user):
        st.caption("The trust's administrator adds and changes schools.")
        return
    st.caption("Imports go to the school whose DfE number the file names (a CTF's source school, or a DfE number "
               "column), else to the school chosen on the Upload screen. Hub leads see the schools of their hub"
               + (f" (hubs now: {md(', '.join(hubs))})." if hubs else "."))
    add_column, edit_column = st.columns(2, gap="large")
    add_column.subheader("Add a school")
    with add_column, st.form("add_school", clear_on_submit=True, border=True):
        name = st.text_input("Name", help="As screens, letters and reports show it.")
        urn = st.text_input("URN (optional)", help="The school's unique reference number: 6 or 7 digits.")
        dfe = st.text_input("DfE number (optional)", placeholder="LLL/EEEE",
                            help="Local authority code and establishment number, e.g. 999/4001: files naming it are "
                                 "imported into this school.")
        hub = st.text_input("Hub (optional)", help="The trust's group of schools it belongs to.")
        if st.form_submit_button("Add school", type="primary"):
            write(path, lambda db: schools.add_school(db, name, dfe, urn, hub, by=user.username),
                  lambda added: f"Added {added.name}.")

    with edit_column:
        st.subheader("Change a school")
        chosen = st.selectbox("School", [s.id for s in listed], key="admin_edit_school",
                              format_func={s.id: s.name for s in listed}.get)
        school = next(s for s in listed if s.id == chosen)
        with st.form(f"edit_school_{school.id}", border=True):
            new_name = st.text_input("Name", value=school.name)
            new_urn = st.text_input("URN", value=school.urn)
            new_dfe = st.text_input("DfE number", value=school.dfe_number, placeholder="LLL/EEEE")
            new_hub = st.text_input("Hub", value=school.hub)
            if st.form_submit_button("Save school", type="primary"):
                write(path, lambda db: schools.edit_school(db, school.id, user.username, name=new_name, urn=new_urn,
                                                           dfe=new_dfe, hub=new_hub),
                      lambda _: f"Saved {new_name}.")
    if len(listed) > 1:
        move_section(user, path, listed)


def move_section(user: auth.User, path, listed: list[schools.School]) -> None:
    """Move one pupil to another school by hand, and the moves so far."""
    st.subheader("Move a pupil to another school")
    st.caption("A pupil keeps one record across the trust's schools: their marks, actions, contacts and plans go "
               "with them; the new school's staff see them, the old school's no longer do. An upload to the new "
               "school that names the pupil moves them by itself.")
    with st.form("move_pupil", clear_on_submit=True, border=True):
        upn_column, school_column, date_column = st.columns([1.4, 1.4, 1])
        upn = upn_column.text_input("UPN")
        to = school_column.selectbox("To school", [s.id for s in listed],
                                     format_func={s.id: s.name for s in listed}.get)
        on = date_column.date_input("On", value=today(), format="DD/MM/YYYY")
        if st.form_submit_button("Move pupil", type="primary"):
            write(path, lambda db: schools.move_pupil(db, upn, to, on if isinstance(on, date) else None,
                                                      by=user.username),
                  lambda moved: f"{moved['upn']}: " + schools.move_text(
                      moved["from_school"]["name"], moved["to_school"]["name"], date.fromisoformat(moved["moved_on"])))
    with store.opened(path) as db:
        found = schools.moves(db)
        pupils = store.pupils_frame(db)
    if found.empty:
        st.caption("No pupil has moved between the schools yet.")
        return
    who = pd.Series(names(pupils).to_numpy(), index=pupils["id"].to_numpy())
    latest = found.iloc[::-1].head(50)
    dataframe(pd.DataFrame({"On": latest["moved_on"].map(uk), "Pupil": latest["pupil_id"].map(who).fillna(""),
                            "From": latest["from_school"], "To": latest["to_school"],
                            "How": latest["import_id"].map(lambda i: "upload" if pd.notna(i) else "by hand"),
                            "By": latest["moved_by"]}), hide_index=True, width="stretch")
