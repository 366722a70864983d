"""Pastoral's Streamlit entry: login, role → the screens it may open → st.navigation.

A screen a role may not open is never registered for that role (so its URL leads
nowhere), and every screen checks the role again before drawing. Screens live in
app_pages/, never pages/: Streamlit would serve a pages/ folder by URL on its own,
before this script decides who may see what (DESIGN.md).
"""

import streamlit as st

from app_pages import access, guard, sidebar
from core import auth

st.set_page_config(page_title="Pastoral", page_icon=":material/school:", layout="wide")

# The menu: section → screen id → (file, title, icon, url path), in menu order.
MENU = {
    "Attendance": {
        "overview": ("app_pages/overview.py", "Overview", ":material/dashboard:", "overview"),
        "below_90": ("app_pages/below_90.py", "Below 90%", ":material/warning:", "below-90"),
        "patterns": ("app_pages/patterns.py", "Patterns", ":material/insights:", "patterns"),
        "pupil": ("app_pages/pupil.py", "Pupil", ":material/person_search:", "pupil"),
    },
    "Daily work": {
        "today": ("app_pages/today.py", "Today", ":material/call:", "today"),
        "casework": ("app_pages/casework.py", "Casework", ":material/assignment:", "casework"),
        "families": ("app_pages/families.py", "Families", ":material/family_restroom:", "families"),
        "letters": ("app_pages/letters.py", "Letters", ":material/mail:", "letters"),
    },
    "Meetings and reports": {
        "meeting": ("app_pages/meeting.py", "Meeting", ":material/groups:", "meeting"),
        "reports": ("app_pages/reports.py", "Reports", ":material/description:", "reports"),
    },
    "Data": {
        "data_quality": ("app_pages/data_quality.py", "Data quality", ":material/fact_check:", "data-quality"),
        "upload": ("app_pages/upload.py", "Upload", ":material/upload_file:", "upload"),
        "admin": ("app_pages/admin.py", "Admin", ":material/settings:", "admin"),
    },
}
SCREENS = {screen: entry for screens in MENU.values() for screen, entry in screens.items()}

user, authenticator = access.sign_in()

if user is None:
    # Signed out: every address shows the login form and nothing else. The screens'
    # addresses lead to the same form, so a bookmarked link opens its screen after login.
    def login() -> None:
        access.login_form(authenticator)

    login_pages = [
        st.Page(login, title="Sign in", url_path=url_path, default=screen == "overview")
        for screen, (_, _, _, url_path) in SCREENS.items()
    ]
    st.navigation(login_pages, position="hidden").run()
    st.stop()

sidebar.keep_filters()
pages = {
    section: [st.Page(path, title=title, icon=icon, url_path=url_path, default=screen == "overview")
              for screen, (path, title, icon, url_path) in screens.items() if auth.may_open(user.role, screen)]
    for section, screens in MENU.items()
}
current = st.navigation({section: listed for section, listed in pages.items() if listed}, expanded=True)
sidebar.draw(user)
guard.run_safely(current)
