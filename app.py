"""Pastoral's Streamlit entry: login, role → the screens it may open (core/menu.py) → st.navigation.

A screen a role may not open is never registered for that role (so its URL leads
nowhere), and every screen checks the role again before drawing. Screens live in
app_pages/, never pages/: Streamlit would serve a pages/ folder by URL on its own,
before this script decides who may see what (DESIGN.md).
"""

from pathlib import Path

import streamlit as st

from app_pages.ui import access, guard, sidebar
from core import menu

# The tab's icon is a file served by the app itself: for a ":material/…" or emoji icon the
# browser would fetch the picture from a Google or CDN host, announcing every visit to it
# (and a school network may block it). Nothing on any page is fetched from another host.
ICON = Path(__file__).parent / "app_pages" / "ui" / "icon.png"

st.set_page_config(page_title="Pastoral", page_icon=str(ICON), layout="wide")


class Screen(st.Page):
    """A page that answers at its own address even when it is the home page.

    Streamlit serves the default page at the root and gives it no address of its own, so
    `/overview` (a bookmark, an address typed after signing in) said "Page not found". The
    home screen keeps the root and answers at `/overview` too; every other page is as st.Page.
    """

    def __init__(self, page, *, url_path: str, **options) -> None:
        super().__init__(page, url_path=url_path, **options)
        self._address = url_path

    @property
    def url_path(self) -> str:
        return self._address


user = access.sign_in()

if user is None:
    # Signed out: every address shows the login form and nothing else. The screens'
    # addresses lead to the same form, so a bookmarked link opens its screen after login; the
    # home address has a form of its own, so a login from it lands where the user's home is
    # (menu.home_for: a trust's schools side by side, or the Overview).
    login_pages = [Screen(access.login_form, title="Sign in", url_path="sign-in", default=True),
                   *(Screen(access.login_form, title="Sign in", url_path=screen.url_path) for screen in menu.SCREENS)]
    st.navigation(login_pages, position="hidden").run()
    st.stop()

sidebar.keep_filters()
pages: dict[str, list] = {}
school_count = access.school_count()
home = menu.home_for(user.role, school_count, user.school_ids is None or len(user.school_ids) > 1)
for screen in menu.screens_for(user.role, school_count):  # a screen the role may not open has no address at all
    pages.setdefault(screen.section, []).append(
        Screen(screen.file, title=screen.title, icon=screen.icon, url_path=screen.url_path,
                default=screen.id == home))
current = st.navigation(pages, expanded=True)
sidebar.draw(user)
guard.run_safely(current)
