"""How the screens write things: UK dates, percentages, names (masked in meeting mode), flags.

Meeting mode is one rule (core/privacy.py) applied here: `pupil_name`, `pupil_label` and
`names` give initials, `shown` strips a table of identifiers, sensitive notes and contact
details, and `viewer` tells core/cases.py to leave sensitive notes out — whenever the
sidebar's meeting-mode toggle is on, unless a caller says otherwise. Every screen draws
pupils through these, and `lists.download_buttons` passes every download through `shown`.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import auth, privacy
from core.calendar import LONDON, uk_date

MEETING_KEY = "meeting_mode"  # the sidebar's toggle (mirrors the user's setting in the store)
CONTACTS_KEY = "reader_sees_contacts"  # whether the signed-in user's role may see parents and carers

# Characteristics shown as flags, in the school's words.
FLAG_LABELS = {"pp": "PP", "fsm": "FSM", "eal": "EAL", "cla": "CLA", "young_carer": "Young carer",
               "vulnerable": "Vulnerable"}
SEN_LABELS = {"N": "", "K": "SEN support", "E": "EHCP"}
SOCIAL_WORKER_FLAGS = {"CIN": "CIN plan", "CP": "CP plan", "SW": "Social worker"}


# What makes Markdown (and Streamlit's additions to it: colours and icons with ':', maths
# with '$') do something: characters that act wherever they are (emphasis, code, links and
# images — whose '(' and '!' do nothing without the escaped brackets —, HTML, maths, table
# cells, headings); a ':' before a word (":red[", ":material/"); '&' starting an entity;
# and, at the start, a heading, a quote, a list item or a numbered list.
_ANYWHERE = re.compile(r"([\\`*_\[\]<>~$#|]|:(?=[A-Za-z])|&(?=[#A-Za-z]))")
_AT_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")
_BREAKS = re.compile(r"[ \t\r\n\f\v]+")
_ADDRESS = re.compile(r"(:(?=//)|(?<![\w.])www(?=\.)|@)", re.IGNORECASE)


def md(value) -> str:
    """Text from users or files (a pupil's name, a form, a file name, a search) to put inside
    Markdown — st.markdown, headers, captions, alerts, labels — shown exactly as written:
    every character Markdown would act on is escaped, and line breaks become spaces.
    Tables (st.dataframe) show text as text and need none of this."""
    text = _BREAKS.sub(" ", "" if value is None else str(value)).strip()  # a no-break space stays
    # Web and email addresses are made into links from the text itself, escaped or not: a
    # zero-width space inside "://" and after "www" and "@" keeps them plain text.
    text = _ADDRESS.sub("\\1\u200b", text)
    text = _ANYWHERE.sub(r"\\\1", text)
    return _AT_START.sub(lambda m: m[1] + m[2][:-1] + "\\" + m[2][-1], text)


def markdown_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for st.table, whose cells (index and headings too) Streamlit renders as
    Markdown: every text cell passed through `md`. (st.dataframe shows text as text.)"""
    def escaped(value):
        return md(value) if isinstance(value, str) else value

    frame = frame.rename(columns=escaped).rename(index=escaped)
    return frame.assign(**{str(c): frame[c].map(escaped) for c in frame.columns
                           if not pd.api.types.is_numeric_dtype(frame[c])})


def dataframe(data, **options):
    """`st.dataframe` with missing values left blank, not Streamlit's grey "None" (an action
    with no review date, the national row's pupil count, a mark with no minutes late). Every
    screen's tables are drawn through it."""
    options.setdefault("placeholder", "")
    return st.dataframe(data, **options)


def chart(build, *args, width="stretch", key: str | None = None, **kwargs) -> None:
    """Draw the Altair chart `build(*args, **kwargs)` makes, as `st.altair_chart` draws it.

    Turning a chart into its spec (Altair checks it against the Vega-Lite schema) costs more
    than drawing it: ~30 ms for a trend, ~40 ms of a Patterns rerun with its four charts. The
    same builder given the same frames and values makes the same spec, so the spec is cached
    (`_chart_spec`) and a rerun that shows the same figures draws it without building the
    chart. The spec is Streamlit's own conversion of the chart, drawn with
    `st.vega_lite_chart`: the element is the one `st.altair_chart` would send. A chart drawn
    from something Streamlit cannot hash is drawn by `st.altair_chart`, not cached."""
    code = build.__code__
    try:
        spec = _chart_spec(build, (build.__module__, code.co_filename, build.__qualname__, code.co_code),
                           args, kwargs)
    except StreamlitAPIException:  # an argument Streamlit cannot hash (UnhashableParamError)
        st.altair_chart(build(*args, **kwargs), width=width, key=key)
        return
    st.vega_lite_chart(spec=spec, width=width, key=key)


@st.cache_data(max_entries=256, show_spinner=False)
def _chart_spec(_build, builder: tuple, args: tuple, kwargs: dict) -> dict:
    """The spec of `_build(*args, **kwargs)`, cached by the builder (its module, file, name
    and code) and the arguments by value (frames by every value: charts are drawn from far
    fewer rows than the 50,000 above which Streamlit hashes a sample). Each call gets its own copy."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    return _convert_altair_to_vega_lite_spec(_build(*args, **kwargs))


def pct(value: float | None, places: int = 1) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:.{places}f}%"


def counts_periods(periods) -> str:
    """The dates a pupil's figures take from summary counts ("05/01/2026–27/03/2026; …"), '' for none."""
    return "; ".join(f"{uk(start)}–{uk(end)}" for start, end in (periods or ()))


def uk(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy from a date, a datetime or an ISO string; '' for nothing."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return uk_date(value)


def today() -> date:
    """Today in England: what check-ins and reviews are due or overdue against."""
    return datetime.now(LONDON).date()


def uk_time(stamp: str | None) -> str:
    """A stored UTC timestamp as London time: dd/mm/yyyy HH:MM."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp).astimezone(LONDON)
    return moment.strftime("%d/%m/%Y %H:%M")


def meeting_mode() -> bool:
    """Whether the app is on a shared screen (the sidebar's "Meeting mode" toggle)."""
    return bool(st.session_state.get(MEETING_KEY, False))


def _masked(masked: bool | None) -> bool:
    return meeting_mode() if masked is None else masked


def remember_reader(user: auth.User) -> None:
    """Note, for `shown` and `hidden`, whether this user's role may see parents' and carers'
    identities (set on every run before the screen draws; unknown counts as no)."""
    st.session_state[CONTACTS_KEY] = user.may("see_contacts")


def sees_contacts() -> bool:
    """Whether parents' and carers' names and details may be shown now: a role doing case work,
    outside meeting mode."""
    return bool(st.session_state.get(CONTACTS_KEY, False)) and not meeting_mode()


def pupil_name(surname: str, forename: str, masked: bool | None = None) -> str:
    """'Surname, Forename' (initials in meeting mode)."""
    return privacy.pupil_name(surname, forename, _masked(masked))


def pupil_label(surname: str, forename: str, form: str, masked: bool | None = None) -> str:
    """'Surname, Forename (7A)' (initials and form in meeting mode)."""
    return privacy.pupil_label(surname, forename, form, _masked(masked))


def names(frame: pd.DataFrame, masked: bool | None = None) -> pd.Series:
    """'Surname, Forename' for each row (initials in meeting mode)."""
    return privacy.names(frame, _masked(masked))


def shown(frame: pd.DataFrame, masked: bool | None = None) -> pd.DataFrame:
    """A table as this screen may show or download it (core/privacy.for_screen): masked in
    meeting mode, and without parents' and carers' columns for a role that may not see them."""
    return privacy.for_screen(frame, _masked(masked), bool(st.session_state.get(CONTACTS_KEY, False)))


def hidden(column: str, masked: bool | None = None) -> bool:
    """Whether one field (e.g. a parent's phone number) is kept off the screen now."""
    return privacy.is_hidden(column, _masked(masked), bool(st.session_state.get(CONTACTS_KEY, False)))


def viewer(user, masked: bool | None = None) -> auth.Viewer:
    """The case-work reader for this user: in meeting mode nobody reads sensitive notes."""
    return auth.Viewer.of(user, shared_screen=_masked(masked))


def flags(frame: pd.DataFrame) -> pd.Series:
    """'PP · FSM · EHCP' style flags for each row."""
    parts = [frame[column].astype(bool).map({True: label, False: ""}).tolist() for column, label in FLAG_LABELS.items()
             if column in frame.columns]
    parts.append(frame["sen"].map(SEN_LABELS).fillna("").tolist())
    if "social_worker" in frame.columns:
        parts.append(frame["social_worker"].map(SOCIAL_WORKER_FLAGS).fillna("").tolist())
    return pd.Series([" · ".join(v for v in row if v) for row in zip(*parts)], index=frame.index, dtype="string")


def year_label(year_group: str) -> str:
    if year_group in ("N1", "N2"):
        return f"Nursery ({year_group})"
    if year_group == "R":
        return "Reception"
    return f"Year {year_group}" if year_group else "No year group"


def year_order(year_group: str) -> tuple[int, str]:
    order = {"N1": -2, "N2": -1, "R": 0}
    if year_group in order:
        return (order[year_group], year_group)
    return (int(year_group), year_group) if str(year_group).isdigit() else (99, str(year_group))
