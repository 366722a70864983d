"""The app's screens, one row each: where it sits in the menu, its address, who may open it,
and the filters it keeps while the user is on another screen.

A new screen is one row here plus its file, app_pages/<id>.py. app.py builds the navigation
from these rows, `may_open` is the access rule every screen checks (and app.py uses to leave
a screen out of a role's menu, so its address leads nowhere), the sidebar keeps `KEPT_KEYS`,
and the tests read the same rows. Pure data: importing it starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth import ACTION_ROLES, ADMIN, ATTENDANCE_OFFICER, CASE_ROLES, EVERYONE, TRUST_ADMIN


@dataclass(frozen=True)
class Screen:
    id: str
    section: str  # the menu heading it is listed under
    title: str
    icon: str
    url_path: str  # its address: http://host/<url_path>
    roles: frozenset[str]  # who may open it
    # Widget state that must survive moving to a screen that does not draw the widget
    # (filters, a meeting in progress), by session-state key.
    kept_keys: tuple[str, ...] = ()
    # Only on a store holding several schools (a trust's): a one-school store's menu is as before.
    several_schools: bool = False

    @property
    def file(self) -> str:
        return f"app_pages/{self.id}.py"


SCREENS: tuple[Screen, ...] = (
    Screen("overview", "Attendance", "Overview", ":material/dashboard:", "overview", EVERYONE),
    Screen("below_90", "Attendance", "Below 90%", ":material/warning:", "below-90", EVERYONE,
           ("f_section", "f_year", "f_form", "f_groups", "f_gender", "f_only", "f_search", "f_ethnicity")),
    Screen("patterns", "Attendance", "Patterns", ":material/insights:", "patterns", EVERYONE,
           ("p_scope_kind", "p_scope_value", "p_grouping")),
    Screen("pupil", "Attendance", "Pupil", ":material/person_search:", "pupil", EVERYONE, ("pupil_query",)),
    Screen("today", "Daily work", "Today", ":material/call:", "today", CASE_ROLES),  # first-day calling
    # Viewers see the case lists without notes and record nothing.
    Screen("casework", "Daily work", "Casework", ":material/assignment:", "casework", EVERYONE, ("cw_show",)),
    Screen("families", "Daily work", "Families", ":material/family_restroom:", "families", CASE_ROLES),
    Screen("letters", "Daily work", "Letters", ":material/mail:", "letters", CASE_ROLES),
    # A meeting goes on while someone looks up a pupil: its choices are kept (the place in the
    # agenda is a plain session key, and once the meeting starts the agenda is in the store).
    Screen("meeting", "Meetings and reports", "Meeting", ":material/groups:", "meeting", CASE_ROLES,
           ("meeting_date", "meeting_scope", "meeting_kinds", "meeting_length")),
    # Everyone; the evidence pack on it needs case work.
    Screen("reports", "Meetings and reports", "Reports", ":material/description:", "reports", EVERYONE,
           ("report_kind", "report_scope", "statistics_term", "section_term", "pack_pupil")),
    Screen("data_quality", "Data", "Data quality", ":material/fact_check:", "data-quality", CASE_ROLES),
    Screen("upload", "Data", "Upload", ":material/upload_file:", "upload", frozenset({ADMIN, ATTENDANCE_OFFICER})),
    # A trust admin (issue 18) opens it for the trust's users and schools only.
    Screen("admin", "Data", "Admin", ":material/settings:", "admin", frozenset({ADMIN, TRUST_ADMIN})),
    # A trust's schools side by side (issue 18); choosing a school there scopes the other screens.
    Screen("trust", "Trust", "Trust", ":material/domain:", "trust", ACTION_ROLES["trust_overview"],
           several_schools=True),
)
BY_ID = {screen.id: screen for screen in SCREENS}
HOME = "overview"  # where a login lands (a user seeing several of a trust's schools: TRUST_HOME)
TRUST_HOME = "trust"
SECTIONS = tuple(dict.fromkeys(screen.section for screen in SCREENS))
KEPT_KEYS = tuple(key for screen in SCREENS for key in screen.kept_keys)


def _shown(screen: Screen, role: str, schools: int) -> bool:
    return role in screen.roles and (schools > 1 or not screen.several_schools)


def may_open(role: str, screen: str, schools: int = 1) -> bool:
    """Whether `role` may open the screen with id `screen` (an unknown screen: nobody) in a
    store holding `schools` schools."""
    known = BY_ID.get(screen)
    return known is not None and _shown(known, role, schools)


def screens_for(role: str, schools: int = 1) -> list[Screen]:
    """The screens `role` may open in a store holding `schools` schools, in menu order."""
    return [screen for screen in SCREENS if _shown(screen, role, schools)]


def home_for(role: str, schools: int = 1, sees_several: bool = False) -> str:
    """Where a login lands: the Trust screen for a user who sees several of a trust's schools
    and may open it (their schools side by side, each a click from its own screens; the
    trust's Overview of every pupil is theirs to choose), else the Overview."""
    return TRUST_HOME if sees_several and may_open(role, TRUST_HOME, schools) else HOME
