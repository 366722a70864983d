"""Whatever a file or a user types is shown as text, stored as text and never run: pupil
names, forms and file names holding HTML, Markdown or script; SQL in any field; formulas
in downloads. Every registered screen (app.py's SCREENS) is drawn with such a school.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date

import openpyxl
import pytest

from app_pages.ui import lists
from app_pages.ui.formatting import md
from core import auth, cases, exports, meetings, menu, metrics, penalty_notices, schools, store
from core.importers import import_bytes
from tests.app_school import ROOT, copied_school, quick_hashes, signed_in, the_apps_store  # noqa: F401 (fixtures)
from tests.conftest import make_upn
from tests.test_access import SCREENS, download_text

SCRIPT = "<script>alert('x')</script>"
LINK = "[click me](https://evil.example/x)"
IMAGE = "![pic](https://evil.example/p.png)"
IMAGE_LOCAL = "![x](http://127.0.0.2:9/x.png)"
HTML = "<img src=x onerror=alert(1)>"
STYLED = "**bold** :red[red] $x^2$ `code`"
SQL = "Robert'); DROP TABLE pupils;--"
FORMULA = "=HYPERLINK(\"https://evil.example\",\"open\")"
# What each payload looks like if Markdown would act on it (none of these may reach a page unescaped).
RAW = [SCRIPT, "[click me](", "![pic](", "![x](", "<img", "**bold**", "**Dad**", ":red[red]", "$x^2$", "`code`"]

HOSTILE = [
    {"surname": SCRIPT, "forename": LINK, "form": STYLED},
    {"surname": IMAGE, "forename": HTML, "form": "7A"},
    {"surname": SQL, "forename": FORMULA, "form": "7B"},
]


# Parents' names, relationships and e-mail as hostile as the pupils' (two pupils share a
# parent's phone, so Families suggests them as siblings; pupils 1 and 3 share a family id).
PARENTS = [
    {"name": IMAGE_LOCAL, "relationship": STYLED, "email": "x@evil.example", "phone": "07700 900001", "family": "F1"},
    {"name": LINK, "relationship": "**Dad**", "email": "", "phone": "07700 900001", "family": ""},
    {"name": SCRIPT, "relationship": HTML, "email": "", "phone": "07700 900003", "family": "F1"},
]


def roll_and_marks() -> tuple[bytes, bytes]:
    roll, marks = io.StringIO(), io.StringIO()
    roll_writer, marks_writer = csv.writer(roll), csv.writer(marks)
    roll_writer.writerow(["upn", "adno", "surname", "forename", "dob", "gender", "year_group", "form",
                          "Primary Contact Name", "Primary Contact Relationship", "Primary Contact Telephone",
                          "Primary Contact Email", "Secondary Contact Name", "Family ID"])
    marks_writer.writerow(["upn", "date", "session", "mark"])
    for number, (pupil, parent) in enumerate(zip(HOSTILE, PARENTS), start=1):
        roll_writer.writerow([make_upn(number), f"{number:05d}", pupil["surname"], pupil["forename"], "2014-01-15",
                              "F", "7", pupil["form"], parent["name"], parent["relationship"], parent["phone"],
                              parent["email"], LINK, parent["family"]])
        for day in range(8, 13):
            for session in ("AM", "PM"):
                # N on the last day too, so Today lists every pupil to call
                marks_writer.writerow([make_upn(number), f"2025-09-{day:02d}", session,
                                       "N" if day < 10 or day == 12 else "/"])
    return roll.getvalue().encode(), marks.getvalue().encode()


def make_hostile_school(db_path, exports) -> None:
    """Demo logins, an administrator and a school named with markup, the hostile roll and its
    marks (in files named with markup), and a case note holding SQL, script and a link."""
    roll, marks = roll_and_marks()
    exports.mkdir(parents=True, exist_ok=True)
    with store.opened(db_path) as db:
        auth.create_demo_users(db)
        auth.update_user(db, "admin", "test", name=f"{SCRIPT} {LINK}")
        store.set_setting(db, "school_name", f"{STYLED} {IMAGE}", "test")
        assert import_bytes(db, roll, f"{LINK}.csv", "officer").status == "imported"
        assert import_bytes(db, marks, f"{SCRIPT}.csv", "officer").status == "imported"
        writer = auth.Viewer("pastoral", auth.PASTORAL_LEAD)
        ids = [pupil_id for pupil_id, in db.execute("SELECT id FROM pupils ORDER BY id").fetchall()]
        for pupil_id in ids:
            cases.open_intervention(db, writer, pupil_id, "First-day call", "pastoral", date(2025, 9, 9),
                                    summary=f"{SQL} {SCRIPT} {LINK}", check_in_on=date(2025, 9, 10))
            cases.log_contact(db, writer, pupil_id, "call", date(2025, 9, 10), IMAGE, summary=f"{LINK} {STYLED}")
        penalty_notices.record_penalty_notice(db, writer, ids[0], f"{LINK} {IMAGE}", date(2025, 9, 11), note=STYLED)
        meeting = meetings.start_meeting(db, writer, date(2025, 9, 12), [f"{LINK}", STYLED])
        meetings.save_minutes(db, writer, meeting, notes=f"{IMAGE} {SCRIPT}")


@pytest.fixture
def hostile_school(tmp_path, monkeypatch, quick_hashes):
    """The hostile school in a fresh store of the test's own (built once per test process, copied)."""
    return the_apps_store(copied_school("hostile", make_hostile_school, tmp_path), monkeypatch)


def markdown_texts(app) -> list[str]:
    """Everything Streamlit renders as Markdown: bodies of text elements, alerts and toasts;
    the labels and help of widgets, metrics and containers (expanders, popovers, tabs); the
    options of radios, pills and segmented controls; and the cells of st.table."""
    texts = []
    for node in app._tree:
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "type", "") in ("text", "code"):  # st.text and st.code show text as text
            continue
        for holder in (proto, *(getattr(proto, name) for name in ("expandable", "popover", "tab")
                                if hasattr(proto, "HasField") and _has(proto, name))):
            for field in ("body", "label", "help", "text"):
                value = getattr(holder, field, None)
                if isinstance(value, str) and value:
                    texts.append(value)
        if getattr(node, "type", "") in ("radio", "button_group"):
            texts += [option if isinstance(option, str) else option.content for option in proto.options]
    for table in app.get("table"):
        frame = table.value
        texts += [str(v) for v in [*frame.columns, *frame.index, *frame.to_numpy().ravel()] if isinstance(v, str)]
    return texts


def _has(proto, name: str) -> bool:
    try:
        return proto.HasField(name)
    except ValueError:
        return False


def html_allowed(app) -> list[str]:
    return [node.proto.body for node in app._tree
            if getattr(node, "type", "") == "markdown" and getattr(node.proto, "allow_html", False)]


def pupil_id_of(db_path, surname: str) -> int:
    with store.opened(db_path) as db:
        return db.execute("SELECT id FROM pupils WHERE surname = ?", (surname,)).fetchone()[0]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_names_forms_and_file_names_holding_markup_are_shown_as_text_on_every_screen(hostile_school, screen):
    if menu.BY_ID[screen].several_schools:  # the Trust screen: a trust's store, its second school named hostilely
        with store.opened(hostile_school) as db:
            schools.add_school(db, LINK + " " + STYLED, by="test")
    app = signed_in("admin", screen, pupil_id=pupil_id_of(hostile_school, SCRIPT))
    assert not app.exception, [e.value for e in app.exception]
    for text in markdown_texts(app):
        unescaped = re.sub(r"\\.", "", text)  # what is left once every escaped character is taken out
        assert not [raw for raw in RAW if raw in unescaped], f"unescaped on {screen}: {text!r}"
    for text in html_allowed(app):  # HTML is let through only for the app's own styling
        assert "evil.example" not in text and "alert" not in text and "DROP" not in text, text


def _all_ids(db_path) -> list[int]:
    with store.opened(db_path) as db:
        return [i for i, in db.execute("SELECT id FROM pupils ORDER BY id").fetchall()]


# Screens drawn in more than their first state: each casework list and report, the letter
# preview for chosen pupils, and every case form (a dialog headed by the pupil).
VARIANTS = [
    *[("casework", {"cw_show": view}) for view in ("mine", "overdue", "no_action", "reviews", "penalties", "impact")],
    *[("reports", {"report_kind": kind}) for kind in ("statistics", "section", "pack", "court", "la_pack")],
    ("letters", {"l_who": "chosen", "l_pupils": "all"}),
    *[("pupil", {"case_form": {"form": form}}) for form in ("action", "contact", "key_adult", "plan_start")],
]


@pytest.mark.parametrize(("screen", "state"), VARIANTS, ids=lambda v: v if isinstance(v, str) else "-".join(
    str(x) if not isinstance(x, dict) else x["form"] for x in v.values()))
def test_every_list_report_preview_and_case_form_shows_markup_as_text(hostile_school, screen, state):
    ids = _all_ids(hostile_school)
    state = {k: (ids if v == "all" else {**v, "pupil_id": ids[0]} if isinstance(v, dict) else v)
             for k, v in state.items()}
    app = signed_in("admin", screen, pupil_id=ids[0], **state)
    assert not app.exception, [e.value for e in app.exception]
    texts = markdown_texts(app)
    for text in texts:
        unescaped = re.sub(r"\\.", "", text)
        assert not [raw for raw in RAW if raw in unescaped], f"unescaped on {screen} {state}: {text!r}"
    if screen == "letters":  # the preview is there, headed by the pupil's name as text
        assert [t for t in texts if t.startswith("Preview: ")], texts


def test_the_markdown_escape_leaves_nothing_for_markdown_to_act_on():
    for raw in (LINK, IMAGE, IMAGE_LOCAL, HTML, SCRIPT, STYLED, "# heading", "1. list", "a | b", "~~x~~", "!x",
                "(a)", "x_y_", "&amp;", ":material/school:", "www.evil.example", "a@evil.example"):
        escaped = md(raw)
        left = re.sub(r"\\.", "", escaped)
        assert not re.search(r"[\[\]<>*_`~$|#]", left), (raw, escaped)  # so "(" and "!" start nothing
        assert "://" not in escaped and "www." not in escaped and "@e" not in escaped


def test_a_pupil_s_name_is_the_heading_written_out_literally(hostile_school):
    app = signed_in("admin", "pupil", pupil_id=pupil_id_of(hostile_school, SCRIPT))
    assert [h.value for h in app.header] == [md(f"{SCRIPT}, {LINK}")]


def test_tables_show_the_names_as_they_were_given(hostile_school):
    app = signed_in("admin", "below_90")
    listed = app.dataframe[0].value["Pupil"].tolist()
    assert sorted(listed) == sorted(f"{p['surname']}, {p['forename']}" for p in HOSTILE)


def test_a_search_for_markup_is_echoed_as_text(hostile_school):
    app = signed_in("admin", "pupil")
    app.text_input(key="pupil_query").input("[nobody](https://evil.example)").run()
    assert all("[nobody](" not in text for text in markdown_texts(app))


def test_sql_in_a_name_or_a_note_is_stored_as_text_and_runs_nothing(hostile_school):
    with store.opened(hostile_school) as db:
        assert db.execute("SELECT COUNT(*) FROM pupils").fetchone()[0] == 3
        assert db.execute("SELECT forename FROM pupils WHERE surname = ?", (SQL,)).fetchone()[0] == FORMULA
        assert db.execute("SELECT COUNT(*) FROM interventions WHERE summary LIKE ?", (f"{SQL}%",)).fetchone()[0] == 3
        figures = metrics.pupil_figures(db, metrics.default_period(db))
        assert SQL in set(figures["surname"])
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_formula_in_a_name_is_plain_text_in_the_downloads():
    frame = __import__("pandas").DataFrame(
        {"Pupil": [f"{SQL}, {FORMULA}", FORMULA, "+44 7000", "-2", "@SUM(A1)", "Ahmed, Amir"], "Attendance %": [1.0] * 6})
    shown = exports.neutralised(frame)
    # A plain number written as text ("-2") runs nothing and is left as it is.
    assert shown["Pupil"].tolist() == [f"{SQL}, {FORMULA}", f"'{FORMULA}", "'+44 7000", "-2", "'@SUM(A1)", "Ahmed, Amir"]
    sheet = openpyxl.load_workbook(io.BytesIO(lists.excel_bytes(frame, "list"))).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "'=HYPERLINK" in exports.csv_bytes(frame).decode("utf-8-sig")


def test_the_below_90_download_of_a_formula_name_cannot_run(hostile_school, downloads):
    signed_in("admin", "below_90")
    workbook, text = [d for d in downloads if d.startswith(b"PK")][0], [d for d in downloads if not d.startswith(b"PK")][0]
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    cells = [cell for row in csv.reader(io.StringIO(download_text(text))) for cell in row]
    assert f"{SQL}, {FORMULA}" in cells


# --- the code itself ---------------------------------------------------------------------


def _calls(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


PAGE_FILES = sorted([ROOT / "app.py", *(ROOT / "app_pages").rglob("*.py")])


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_html_is_let_into_a_page_only_as_fixed_text(path):
    """st.html and unsafe_allow_html=True take only a string written in the code (styling),
    never one built from data."""
    # The one exception: access._script, the login cookie's script, built from the cookie's
    # name and one of the app's own session tokens (checked against TOKEN_SHAPE before it goes
    # in: test_a_cookie_not_shaped_like_a_token_is_never_written_into_the_page).
    exempt = {(node.lineno, node.end_lineno) for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.FunctionDef) and path.name == "access.py" and node.name == "_script"}
    for call in _calls(path):
        if any(first <= call.lineno <= last for first, last in exempt):
            continue
        name = getattr(call.func, "attr", getattr(call.func, "id", ""))
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in call.keywords)
        if name == "html" or unsafe:
            assert call.args and _fixed_text(call.args[0], _module_constants(path)), \
                f"{path.name}:{call.lineno} lets built text in as HTML"


def _module_constants(path) -> set[str]:
    """Names of the file's upper-case module-level constants built only from literals (and
    other such constants): styling written in the code."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target.isupper() and _fixed_text(node.value, names, allow_numbers=True):
                names.add(target)
    return names


def _fixed_text(node, constants: set[str], allow_numbers: bool = False) -> bool:
    """A string literal, or an f-string or join of them, using only `constants`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) or (allow_numbers and isinstance(node.value, (int, float)))
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.JoinedStr):
        return all(_fixed_text(v, constants) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _fixed_text(node.value, constants, allow_numbers=True)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _fixed_text(node.left, constants) and _fixed_text(node.right, constants)
    return False


# Streamlit calls whose text arguments are rendered as Markdown (bodies, labels, help).
MARKDOWN_CALLS = {"markdown", "caption", "info", "success", "warning", "error", "subheader", "header", "title", "toast",
                  "expander", "popover", "metric", "button", "page_link", "progress", "tabs", "form_submit_button",
                  "download_button", "checkbox", "toggle", "radio", "segmented_control", "pills", "link_button",
                  "status", "write", "text_input", "text_area", "selectbox", "multiselect", "number_input",
                  "date_input", "file_uploader", "slider", "time_input", "dialog"}
MARKDOWN_KEYWORDS = {"label", "body", "text", "help", "placeholder"}
# Calls whose result is safe inside Markdown: the escape itself, dates, percentages, counts.
SAFE_CALLS = {"md", "markdown_cells", "uk", "uk_time", "pct", "year_label", "len", "int"}
# What names outside text in the screens' code: pupils, parents, staff, schools, files, notes, errors.
OUTSIDE = re.compile(r"surname|forename|pupil_name|pupil_label|parent|contact|relationship|email|phone|address"
                     r"|summary|note|outcome|with_whom|owner|username|user\.name|\.name\b|school_name|\bschool\b"
                     r"|error|message|scope_label|labels(\[|\.get)|\bform\b|\[.form.\]|\breason\b|\bwhy\b"
                     r"|\.type\b|\[.type.\]|action_type|\.title\b(?!\()")


def _vetted(node) -> bool:
    """Text that is safe inside Markdown: literals, the escape's result, formatted numbers."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name == "join" and node.args and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)):
            return _vetted(node.args[0].elt)  # "\n".join(md(x) for x in ...)
        return name in SAFE_CALLS
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is not None or _vetted(node.value)
    if isinstance(node, ast.JoinedStr):
        return all(_vetted(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _vetted(node.left) and _vetted(node.right)
    if isinstance(node, (ast.IfExp,)):
        return _vetted(node.body) and _vetted(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_vetted(v) for v in node.values)
    return False


def _unvetted(node) -> list:
    if _vetted(node):
        return []
    if isinstance(node, ast.FormattedValue):
        return _unvetted(node.value)
    if isinstance(node, ast.JoinedStr):
        return [leaf for v in node.values for leaf in _unvetted(v)]
    if isinstance(node, ast.BinOp):
        return _unvetted(node.left) + _unvetted(node.right)
    if isinstance(node, ast.IfExp):
        return _unvetted(node.body) + _unvetted(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [leaf for v in node.values for leaf in _unvetted(v)]
    return [node]


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_outside_text_reaches_markdown_only_through_the_escape(path):
    """A name, form, parent, note, file name or error put into a Markdown body or label
    (st.markdown, captions, alerts, toasts, widget labels and help) goes through md() first."""
    source = path.read_text()
    found = []
    for call in _calls(path):
        if getattr(call.func, "attr", getattr(call.func, "id", "")) not in MARKDOWN_CALLS:
            continue
        for argument in call.args[:1] + [k.value for k in call.keywords if k.arg in MARKDOWN_KEYWORDS]:
            found += [f"{path.name}:{call.lineno} {ast.get_source_segment(source, leaf)}" for leaf in _unvetted(argument)
                      if OUTSIDE.search(ast.get_source_segment(source, leaf) or "")]
    assert not found, "outside text put into Markdown without md(): " + "; ".join(found)


def test_the_tab_icon_is_served_by_the_app_not_fetched_from_a_font_or_emoji_host():
    [config] = [c for c in _calls(ROOT / "app.py") if getattr(c.func, "attr", "") == "set_page_config"]
    [icon] = [k.value for k in config.keywords if k.arg == "page_icon"]
    assert not (isinstance(icon, ast.Constant) and isinstance(icon.value, str) and
                (icon.value.startswith(":") or not icon.value.isascii())), "a Material or emoji icon is fetched from Google"
    assert (ROOT / "app_pages" / "ui" / "icon.png").read_bytes().startswith(b"\x89PNG")


# --- upload size ---------------------------------------------------------------------------


def test_the_uploader_refuses_files_over_the_schools_limit_before_they_are_sent(hostile_school):
    with store.opened(hostile_school) as db:
        store.set_setting(db, "max_upload_mb", 7, "test")
    app = signed_in("admin", "upload")
    [uploader] = [n for n in app._tree if getattr(n, "type", "") == "file_uploader"]
    assert uploader.proto.max_upload_size_mb == 7


def test_the_schools_limit_cannot_be_set_above_the_servers(hostile_school):
    import tomllib

    import streamlit as st

    server_limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert store.DEFAULT_SETTINGS["max_upload_mb"] <= server_limit
    app = signed_in("admin", "admin")
    assert app.number_input(key="t_upload_mb").max == st.get_option("server.maxUploadSize")


def test_a_cookie_not_shaped_like_a_token_is_never_written_into_the_page(monkeypatch):
    """The browser sends whatever cookie it holds; a value that is not one of our tokens (here,
    markup that would close the script) is removed without being written into the page."""
    from app_pages.ui import access

    written = []
    monkeypatch.setattr(access, "_script", written.append)
    access._drop_cookie("x</script><script>alert(1)</script>")
    assert written and "alert" not in written[0] and "script" not in written[0]
    access._drop_cookie("A" * 43)
    assert "A" * 43 in written[1]


def test_every_table_on_a_screen_leaves_a_missing_value_blank():
    """Streamlit writes a missing value as a grey "None", which reads as a pupil's name or a
    code to a school; every screen draws its tables through formatting.dataframe, which leaves
    the cell blank (the national row on Trust, an action without a review date, a mark
    without minutes late on Upload)."""
    direct = [f"{path.name}:{call.lineno}" for path in PAGE_FILES if path.name != "formatting.py"
              for call in _calls(path) if getattr(call.func, "attr", "") == "dataframe"
              and getattr(call.func.value, "id", "") == "st"]
    assert direct == [], f"st.dataframe called directly (use formatting.dataframe): {direct}"
