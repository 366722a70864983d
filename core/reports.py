"""Exports and reports: CSV and XLSX of any list, and the PDFs a school sends.

- Spreadsheets (`csv_bytes`, `xlsx_bytes`): every cell that a spreadsheet would read as a
  formula (starting `=`, `+`, `-`, `@`, tab or carriage return) is neutralised; numbers stay
  numbers. File names carry the school and the date (`file_name`).
- `Document`: a small A4 PDF helper (header with the school and title on every page, page
  numbers, headings, key-figure boxes, tables that repeat their headings, charts) that any
  report can build on; `LetterDocument` is the same for letters (letterhead, address block,
  a page per letter). It embeds DejaVu Sans (Debian's fonts-dejavu-core) so names with
  accents print; without that font it falls back to the PDF core font and transliterates
  (ł → l).
- The reports: half-termly statistics by group against the previous half term and the
  national figures; the head of section report; a pupil's referral/evidence pack; the
  minutes of a meeting. Each is built as data first (shown on screen by the page), then
  written as PDF or CSV. `masked` writes pupils the meeting-mode way (core/privacy.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import openpyxl
import pandas as pd
import sqlite_utils
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core import calendar, cases, codes, meetings, metrics, patterns, privacy, reads, store, triggers
from core.calendar import uk_date, uk_dates_in

LONDON = calendar.LONDON

# --- file names and spreadsheets ------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_name(school: str, what: str, on: date, extension: str) -> str:
    """'Test-Academy_below-90_19-09-2025.csv': the school, what it is, the date (UK order)."""
    return f"{_slug(school) or 'school'}_{_slug(what)}_{on.strftime('%d-%m-%Y')}.{extension.lstrip('.')}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


def neutralise_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; anything
    else (numbers, dates, a plain '-5' written as text) is left as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: lists joined, dates as dates, missing as blank."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return "; ".join(str(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                             or pd.api.types.is_bool_dtype(frame[c]))]


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell neutralised (numeric columns untouched)."""
    return frame.assign(**{str(c): frame[c].map(lambda v: neutralise_cell(_cell(v))) for c in _text_columns(frame)})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads accents), dates dd/mm/yyyy, formulas neutralised."""
    shown = neutralised(frame.rename(columns=str))
    shown = shown.assign(**{c: shown[c].map(lambda v: uk_date(v) if isinstance(v, date) else v) for c in shown.columns
                            if shown[c].map(lambda v: isinstance(v, date)).any()})
    # CRLF rows (as Excel writes them), so a carriage return inside a cell is quoted, never a row break.
    return shown.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """An Excel workbook of the frame: text cells stored as text (a cell that starts like a
    formula is never one), numbers as numbers, dates as dd/mm/yyyy dates, bold headings."""
    book = openpyxl.Workbook()
    table = book.active
    table.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "Sheet1"
    table.append([str(c) for c in frame.columns])
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        table.append([None] * len(frame.columns))
        for column, value in enumerate(row, start=1):
            cell = table.cell(row=table.max_row, column=column)
            value = _cell(value)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # never a formula, whatever it starts with
                if value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
            else:
                cell.value = value
                if isinstance(value, (date, datetime)):
                    cell.number_format = "DD/MM/YYYY"
    for index, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
        table.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF documents ---------------------------------------------------------------------------

FONT_DIR = Path(os.environ.get("PASTORAL_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
              "BI": "DejaVuSans-BoldOblique.ttf"}
PUNCTUATION = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "≥": ">=", "≤": "<=", "…": "...",
               "▲": "+", "▼": "-", "●": "*", "→": "->", "×": "x", "•": "*", "€": "EUR ",
               "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "Ħ": "H", "ħ": "h"}
INK, MUTED, RULE, SHADE, ACCENT = (33, 37, 41), (108, 117, 125), (206, 212, 218), (241, 243, 245), (31, 78, 121)


def font_available() -> bool:
    return all((FONT_DIR / name).exists() for name in FONT_FILES.values())


def transliterate(text: str) -> str:
    """Latin-1 text for the PDF core font: punctuation spelled out, accents dropped only
    where Latin-1 has no such letter (ł → l, š → s)."""
    out = []
    for character in text:
        character = PUNCTUATION.get(character, character)
        try:
            character.encode("latin-1")
            out.append(character)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode("ascii")
            out.append(plain or "?")
    return "".join(out)


class Document(FPDF):
    """An A4 report: the school and title on every page, 'page n of m' and the date at the foot.

    Build with heading / paragraph / key_figures / table / chart, then `pdf_bytes()`. The
    DejaVu fonts are embedded when installed (any script prints as written); without them
    text is transliterated to the core font's Latin-1 rather than failing.
    """

    MARGINS = (14, 14, 14)  # left, top, right (mm)
    PAGE_BREAK = 16  # mm kept clear at the foot

    def __init__(self, school: str, title: str, subtitle: str = "", landscape: bool = False,
                 made_on: datetime | None = None):
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.school, self.title_text, self.subtitle = school, title, subtitle
        self.made_on = (made_on or datetime.now(timezone.utc)).astimezone(LONDON)
        self.embedded = font_available()
        if self.embedded:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(FONT_DIR / name))
        self.family = "DejaVu" if self.embedded else "Helvetica"
        self.set_title(f"{school} — {title}" if self.embedded else transliterate(f"{school} - {title}"))
        self.set_author(school if self.embedded else transliterate(school))
        self.set_creator("Pastoral")
        self.set_margins(*self.MARGINS)
        self.set_auto_page_break(True, margin=self.PAGE_BREAK)
        self.alias_nb_pages()
        self.start()

    def start(self) -> None:
        """The first page (a report has one from the start; letters start one per letter)."""
        self.add_page()

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(text if self.embedded else transliterate(text))

    # page furniture
    def header(self) -> None:
        self.set_font(self.family, "B", 9)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.school, new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "B", 15 if self.page_no() == 1 else 11)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 8 if self.page_no() == 1 else 6, self.title_text, align="L", new_x="LMARGIN", new_y="NEXT")
        if self.subtitle and self.page_no() == 1:
            self.set_font(self.family, "", 10)
            self.set_text_color(*MUTED)
            self.multi_cell(0, 5, self.subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 1.5, self.w - self.r_margin, self.get_y() + 1.5)
        self.ln(4)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Made by Pastoral on {self.made_on.strftime('%d/%m/%Y at %H:%M')} · "
                        f"page {self.page_no()} of {{nb}}", align="C")

    # content
    def heading(self, text: str, size: float = 12.5) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(2)
        self.set_font(self.family, "B", size)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 6.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(1)

    def paragraph(self, text: str, size: float = 10, style: str = "", colour: tuple = INK) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(1)

    def key_figures(self, figures: list[tuple[str, str, str]]) -> None:
        """A row of boxes: label above, the figure large, a note (e.g. the national figure) below."""
        if not figures:
            return
        if self.get_y() > self.h - 45:
            self.add_page()
        gap = 3
        width = (self.w - self.l_margin - self.r_margin - gap * (len(figures) - 1)) / len(figures)
        top, height = self.get_y(), 24
        for i, (label, value, note) in enumerate(figures):
            x = self.l_margin + i * (width + gap)
            self.set_fill_color(*SHADE)
            self.set_draw_color(*RULE)
            self.rect(x, top, width, height, style="DF")
            self.set_xy(x + 2, top + 1.5)
            self.set_font(self.family, "", 8)
            self.set_text_color(*MUTED)
            self.cell(width - 4, 4, label)
            self.set_xy(x + 2, top + 6)
            self.set_font(self.family, "B", 15)
            self.set_text_color(*INK)
            self.cell(width - 4, 9, value)
            self.set_xy(x + 2, top + 16)
            self.set_font(self.family, "", 7.5)
            self.set_text_color(*MUTED)
            self.multi_cell(width - 4, 3.4, note, align="L")
        self.set_text_color(*INK)
        self.set_xy(self.l_margin, top + height + 4)

    def table(self, frame: pd.DataFrame, widths: list[float] | None = None, size: float = 8.5,
              numbers: str = "RIGHT", headings: bool = True, group_headings: list[tuple[str, int]] | None = None) -> None:
        """The frame as a table (headings repeat on each page); numbers right-aligned.

        `headings=False` for a two-column list of facts; `group_headings` [(text, columns)]
        adds a row above the headings spanning columns ("Attendance %" over this, previous...)."""
        if frame.empty:
            self.paragraph("None.", size=9, colour=MUTED)
            return
        self.set_font(self.family, "", size)
        numeric = [pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind) for kind in frame.dtypes]
        align = tuple(numbers if n else "LEFT" for n in numeric)
        heading_rows = (1 if headings else 0) + (1 if group_headings else 0)
        with self.table_context(widths, align, len(frame.columns), heading_rows) as table:
            if group_headings:
                row = table.row()
                for text, span in group_headings:
                    row.cell(text, colspan=span, align="CENTER")
            if headings:
                table.row([str(c) for c in frame.columns])
            for values in frame.itertuples(index=False):
                table.row([_pdf_text(v) for v in values])
        self.ln(2)

    def table_context(self, widths, align, columns: int, heading_rows: int = 1):
        return super().table(
            first_row_as_headings=heading_rows > 0, num_heading_rows=max(heading_rows, 1),
            col_widths=widths, text_align=align if len(align) == columns else "LEFT", width=self.epw,
            line_height=self.font_size * 1.45, padding=(0.8, 1.2), borders_layout="HORIZONTAL_LINES",
            headings_style=FontFace(emphasis="BOLD", color=ACCENT, fill_color=SHADE), repeat_headings=int(heading_rows > 0),
            cell_fill_color=(249, 250, 251), cell_fill_mode="ROWS")

    def chart(self, chart: alt.TopLevelMixin | None, height: float = 60,
              fallback: tuple[list[str], list[float], str] | None = None) -> None:
        """An Altair chart drawn to PNG (vl-convert), or, where that cannot run, `fallback`
        (labels, values, unit) drawn as plain bars."""
        png = chart_png(chart) if chart is not None else None
        if png is None:
            if fallback:
                self.bars(*fallback)
            return
        if self.get_y() + height > self.h - 18:
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, h=height, keep_aspect_ratio=True, w=self.epw)
        self.ln(2)

    def bars(self, labels: list[str], values: list[float], unit: str = "%", maximum: float | None = None) -> None:
        """Horizontal bars drawn with the PDF's own lines: no chart library needed."""
        values = [0.0 if v is None or pd.isna(v) else float(v) for v in values]
        if not values:
            return
        top = max(values + [maximum or 0]) or 1.0
        label_width, row = 55, 6
        if self.get_y() + row * len(values) > self.h - 18:
            self.add_page()
        for label, value in zip(labels, values):
            y = self.get_y()
            self.set_font(self.family, "", 8)
            self.set_xy(self.l_margin, y)
            self.cell(label_width, row, label[:40])
            length = (self.epw - label_width - 18) * value / top
            self.set_fill_color(*ACCENT)
            self.rect(self.l_margin + label_width, y + 1, max(length, 0.2), row - 2, style="F")
            self.set_xy(self.l_margin + label_width + length + 1.5, y)
            self.cell(16, row, f"{value:.1f}{unit}" if unit == "%" else f"{value:,.0f}")
            self.set_xy(self.l_margin, y + row)
        self.ln(2)

    def pdf_bytes(self) -> bytes:
        return bytes(self.output())


class LetterDocument(Document):
    """Letters on the school's letterhead, one after another, each starting on a new page.

    `letter(...)` adds one: the letterhead (the school's name and address, on the right),
    the address block (the addressee on the left, the date on the right), the title and the
    body. A letter that runs on is headed on each further page with its title and its own
    page number; there is no report footer (a letter goes to a family, not to a file).
    """

    MARGINS = (22, 20, 22)
    PAGE_BREAK = 20

    def __init__(self, school: str, address: str = "", title: str = "Letters"):
        self.address = address.strip()
        self.letter_title, self.letter_first_page = "", 0
        super().__init__(school, title)

    def start(self) -> None:
        """No page until the first letter."""

    def header(self) -> None:
        if self.page_no() == self.letter_first_page:
            self.letterhead()
            return
        self.set_font(self.family, "", 8.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw * 0.75, 5, f"{self.letter_title} (continued)")
        self.cell(0, 5, f"page {self.page_no() - self.letter_first_page + 1}", align="R",
                  new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(*INK)

    def footer(self) -> None:
        pass

    def letterhead(self) -> None:
        self.set_font(self.family, "B", 14)
        self.set_text_color(*INK)
        self.cell(0, 8, self.school, new_x="LMARGIN", new_y="NEXT", align="R")
        if self.address:
            self.set_font(self.family, "", 9.5)
            self.multi_cell(0, 4.5, self.address, align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(8)

    def address_block(self, lines: list[str], dated: str, size: float = 11) -> None:
        """The addressee (lines left blank are left out), then the date on the right."""
        self.set_font(self.family, "", size)
        addressee = "\n".join(line.strip() for line in lines if line and line.strip())
        if addressee:
            self.multi_cell(self.epw * 0.57, size * 0.5, addressee, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.cell(0, 6, dated, new_x="LMARGIN", new_y="NEXT", align="R")
        self.ln(4)

    def letter(self, addressee: list[str], dated: str, title: str, body: str) -> None:
        """One letter, from a new page."""
        self.letter_title, self.letter_first_page = title, self.page_no() + 1
        self.add_page()
        self.address_block(addressee, dated)
        self.heading(title, size=12)
        self.ln(1.5)
        self.paragraph(body, size=11)


def _pdf_text(value: Any) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, (date, datetime)):
        return uk_date(value if isinstance(value, date) else value.date())
    return str(value)


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes | None:
    """The chart as a PNG through vl-convert (pinned in pyproject); None if it cannot run here."""
    try:
        import vl_convert
    except ImportError:
        return None
    try:
        return vl_convert.vegalite_to_png(chart.to_json(), scale=scale)
    except Exception:  # a renderer failure must not stop the report: it is drawn without the chart
        return None


# --- charts shared by the screens and the PDFs -------------------------------------------------


def trend_chart(trend: pd.DataFrame, width: int = 640, height: int = 220) -> alt.Chart:
    """Weekly attendance with the 90% line."""
    counted = trend[trend["possible_sessions"] > 0]
    weekly = pd.DataFrame({"week": counted["week_start"].map(lambda d: d.strftime("%d/%m")),
                           "week_beginning": counted["week_start"].map(uk_date),
                           "attendance_pct": counted["attendance_pct"].astype("float64")})
    low = max(0.0, min(80.0, float(weekly["attendance_pct"].min()) - 3)) if not weekly.empty else 0.0
    line = alt.Chart(weekly).mark_line(point=True, color="#1f4e79").encode(
        x=alt.X("week:O", title="Week beginning", sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("attendance_pct:Q", title="Attendance %", scale=alt.Scale(domain=[low, 100])),
        tooltip=[alt.Tooltip("week_beginning:N", title="Week beginning"),
                 alt.Tooltip("attendance_pct:Q", title="Attendance %", format=".1f")])
    rule = alt.Chart(pd.DataFrame({"y": [90.0]})).mark_rule(color="#c0392b", strokeDash=[6, 4]).encode(y="y:Q")
    return (line + rule).properties(width=width, height=height)


def reasons_chart(reasons: pd.DataFrame, width: int = 640) -> alt.Chart:
    """Absence sessions by reason, authorised amber and unauthorised red."""
    kinds = {codes.AUTHORISED: "Authorised", codes.UNAUTHORISED: "Unauthorised"}
    shown = reasons.assign(kind=reasons["category"].map(kinds))
    return alt.Chart(shown).mark_bar().encode(
        x=alt.X("sessions:Q", title="Absence sessions"),
        y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=list(kinds.values()),
                                                             range=["#f0ad4e", "#c0392b"])),
        tooltip=[alt.Tooltip("reason:N", title="Reason"), alt.Tooltip("sessions:Q", title="Sessions")],
    ).properties(width=width, height=alt.Step(20))


# --- half-termly statistics ----------------------------------------------------------------------

STAT_GROUPINGS = {
    "section": "Section", "year_group": "Year group", "pp": "Pupil premium", "fsm": "Free school meals",
    "sen": "SEN", "cla": "Looked after (CLA)", "eal": "EAL", "gender": "Gender",
}
GROUP_VALUE_LABELS = {
    "pp": {1: "PP", 0: "Not PP"}, "fsm": {1: "FSM", 0: "Not FSM"}, "cla": {1: "CLA", 0: "Not CLA"},
    "eal": {1: "EAL", 0: "Not EAL"}, "sen": {"N": "No SEN", "K": "SEN support", "E": "EHCP"},
    "gender": {"F": "Female", "M": "Male"},
}
MEASURES = {
    "attendance_pct": "Attendance %",
    "overall_absence_pct": "Absence %",
    "authorised_absence_pct": "Authorised %",
    "unauthorised_absence_pct": "Unauthorised %",
    "persistent_absence_pct": "PA %",
    "severe_absence_pct": "SA %",
}
NATIONAL_MEASURES = ("attendance_pct", "overall_absence_pct", "persistent_absence_pct", "severe_absence_pct")


def group_value_label(grouping: str, value: Any) -> str:
    if grouping == "year_group":
        return f"Year {value}" if str(value).isdigit() else {"R": "Reception"}.get(str(value), str(value) or "(none)")
    return GROUP_VALUE_LABELS.get(grouping, {}).get(value, str(value) if value not in ("", None) else "(none)")


def _with_attendance(group: dict) -> dict:
    absence = group.get("overall_absence_pct")
    return {**group, "attendance_pct": None if absence is None else 100 - absence}


def _figures_by_group(figures: pd.DataFrame) -> pd.DataFrame:
    """Pooled figures (DOMAIN.md §3) for everyone and for each value of each grouping."""
    counted = figures[figures["possible_sessions"] > 0]
    rows = [{"grouping": "all", "group": "", **_with_attendance(metrics.group_figures(counted))}]
    for grouping in STAT_GROUPINGS:
        if counted.empty:
            continue
        groups = counted.groupby(grouping, sort=True, dropna=False)
        values = sorted(groups.groups, key=_year_order) if grouping == "year_group" else list(groups.groups)
        for value in values:
            rows.append({"grouping": grouping, "group": value,
                         **_with_attendance(metrics.group_figures(groups.get_group(value)))})
    return pd.DataFrame(rows)


def half_term_statistics(db: sqlite_utils.Database, term: calendar.HalfTerm, previous: calendar.HalfTerm | None,
                         pupil_ids: list[int] | None = None, compulsory_only: bool = True) -> pd.DataFrame:
    """The figures of DOMAIN.md §3 for everyone and by group for a half term, each with the
    previous half term's, the change in points, and the national figure where published.

    Columns: grouping, grouping_label, group, group_label, pupils, pupils_previous, and per
    measure M: M, M_previous, M_change (points), M_national (for NATIONAL_MEASURES).
    """

    path = reads.path_of(db)
    version = reads.version(path)

    def figures_for(half: calendar.HalfTerm | None) -> pd.DataFrame:
        if half is None:
            return pd.DataFrame(columns=["grouping", "group", "pupils", *MEASURES])
        figures = reads.pupil_figures(path, version, half.first_day, half.last_day)
        if pupil_ids is not None:
            figures = figures[figures["pupil_id"].isin([int(p) for p in pupil_ids])]
        if compulsory_only:
            figures = figures[figures["compulsory_school_age"]]
        return _figures_by_group(figures)

    now = figures_for(term)
    before = figures_for(previous)[["grouping", "group", "pupils", *MEASURES]]
    key = ["grouping", "group"]
    now = now.assign(group=now["group"].astype(str))
    before = before.assign(group=before["group"].astype(str))
    table = now[[*key, "pupils", *MEASURES]].merge(before, on=key, how="left", suffixes=("", "_previous"))
    columns: dict[str, Any] = {
        "grouping": table["grouping"],
        "grouping_label": table["grouping"].map({"all": "All pupils", **STAT_GROUPINGS}),
        "group": table["group"],
        "group_label": [("All pupils" if g == "all" else group_value_label(g, _original(v)))
                        for g, v in zip(table["grouping"], table["group"])],
        "pupils": table["pupils"].astype("int64"),
        "pupils_previous": table["pupils_previous"].astype("Int64"),
    }
    for measure in MEASURES:
        this, then = table[measure].astype("float64"), table[f"{measure}_previous"].astype("float64")
        columns[measure] = this
        columns[f"{measure}_previous"] = then
        columns[f"{measure}_change"] = this - then
        if measure in NATIONAL_MEASURES:
            figure = metrics.national(measure, term.academic_year)
            columns[f"{measure}_national"] = np.nan if figure is None else figure[0]
    return pd.DataFrame(columns)


def _original(value: str) -> Any:
    """Group values came through str(); flags were 0/1 integers."""
    return int(value) if value in ("0", "1") else value


def statistics_table(statistics: pd.DataFrame, measures: tuple[str, ...] = ("attendance_pct", "persistent_absence_pct",
                                                                            "severe_absence_pct")) -> pd.DataFrame:
    """The statistics as people read them: a row per group, this half term, the previous one,
    the change and the national figure for each measure chosen."""
    table = {"Grouping": statistics["grouping_label"], "Group": statistics["group_label"],
             "Pupils": statistics["pupils"]}
    for measure in measures:
        label = MEASURES[measure]
        table[label] = statistics[measure].round(1)
        table[f"{label} previous"] = statistics[f"{measure}_previous"].round(1)
        table[f"{label} change"] = statistics[f"{measure}_change"].round(1)
        if f"{measure}_national" in statistics:
            table[f"{label} national"] = statistics[f"{measure}_national"].round(1)
    return pd.DataFrame(table)


def half_terms_so_far(db: sqlite_utils.Database) -> list[calendar.HalfTerm]:
    span = store.mark_date_range(db)
    if span is None:
        return []
    days = store.school_session_days(db, calendar.to_day(span[0]), calendar.to_day(span[1]))["day"].to_numpy()
    return calendar.half_terms(days)


def statistics_pdf(statistics: pd.DataFrame, school: str, term: calendar.HalfTerm,
                   previous: calendar.HalfTerm | None, scope: str, compulsory_only: bool) -> bytes:
    who = "pupils of compulsory school age" if compulsory_only else "all pupils"
    doc = Document(school, f"Half-termly attendance statistics — {term.label}",
                   f"{scope} · {uk_date(term.first_day)} to {uk_date(term.last_day)} · {who}"
                   + (f" · compared with {previous.label} ({uk_date(previous.first_day)} to "
                      f"{uk_date(previous.last_day)})" if previous else " · no previous half term stored"),
                   landscape=True)
    everyone = statistics[statistics["grouping"] == "all"].iloc[0]
    doc.key_figures([
        (MEASURES[m], _pct(everyone[m]), _compare(everyone[m], everyone[f"{m}_previous"], everyone.get(f"{m}_national")))
        for m in ("attendance_pct", "unauthorised_absence_pct", "persistent_absence_pct", "severe_absence_pct")])
    doc.paragraph("Rates are pooled (sessions over possible sessions); PA and SA are pupils at or below 90% and 50% "
                  "attendance in the half term. National figures are for the full academic year "
                  "(state-funded schools, England).", size=8.5, colour=MUTED)
    for grouping, label in [("all", "All pupils"), *STAT_GROUPINGS.items()]:
        part = statistics[statistics["grouping"] == grouping]
        if part.empty or grouping == "all":
            continue
        doc.heading(f"By {label.lower()}", size=11)
        table = statistics_table(part).drop(columns=["Grouping"])
        spans = [("", 2)] + [(MEASURES[m], 4) for m in ("attendance_pct", "persistent_absence_pct", "severe_absence_pct")]
        table.columns = ["Group", "Pupils"] + ["This half term", "Previous", "Change (pts)", "National"] * 3
        doc.table(table, size=7.5, group_headings=spans)
    return doc.pdf_bytes()


def _pct(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}%"


def _compare(now: Any, before: Any, national: Any = None) -> str:
    parts = []
    if before is not None and not pd.isna(before) and now is not None and not pd.isna(now):
        parts.append(f"{float(now) - float(before):+.1f} pts on {float(before):.1f}%")
    if national is not None and not pd.isna(national):
        parts.append(f"national {float(national):.1f}%")
    return " · ".join(parts) or "no comparison"


# --- head of section report -----------------------------------------------------------------------

SECTION_REPORT = "section"


@dataclass(frozen=True)
class SectionReport:
    school: str
    scope: str  # "Secondary", or "Whole school"
    period: metrics.Period
    who: str  # "pupils of compulsory school age" or "all pupils"
    headline: dict
    compared_with: date | None
    compared_reason: str
    before: dict | None
    by_year: pd.DataFrame
    pa_list: pd.DataFrame
    newly_pa: pd.DataFrame
    no_longer_pa: pd.DataFrame
    actions: pd.DataFrame
    impact_by_type: pd.DataFrame
    trend: pd.DataFrame
    reasons: pd.DataFrame

    def figures_snapshot(self) -> dict:
        return {k: self.headline.get(k) for k in ("pupils", "attendance_pct", "persistent_absence_pct",
                                                  "severe_absence_pct", "unauthorised_absence_pct")}


def last_report(db: sqlite_utils.Database, scope: str, before: date, kind: str = SECTION_REPORT) -> dict | None:
    """The latest report of this kind and scope issued for data before `before`."""
    row = db.execute("SELECT id, date_from, as_of, figures, created_at FROM report_runs WHERE kind = ? AND scope = ? "
                     "AND as_of < ? ORDER BY as_of DESC, id DESC LIMIT 1", (kind, scope, before.isoformat())).fetchone()
    if row is None:
        return None
    return {"id": row[0], "date_from": date.fromisoformat(row[1]), "as_of": date.fromisoformat(row[2]),
            "figures": json.loads(row[3]), "created_at": row[4]}


def record_report(db: sqlite_utils.Database, username: str, report: SectionReport, kind: str = SECTION_REPORT) -> int:
    """Keep that this report was issued (so the next one can say what changed since); audited."""
    with store.transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO report_runs (kind, scope, date_from, as_of, figures, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, report.scope, report.period.date_from.isoformat(), report.period.as_of.isoformat(),
             json.dumps(report.figures_snapshot(), default=str), username, store.now()))
        store.audit(conn, username, "report.issue", "report_runs", cursor.lastrowid,
                    {"kind": kind, "scope": report.scope, "as_of": report.period.as_of.isoformat()})
        return cursor.lastrowid


def section_report(db: sqlite_utils.Database, viewer: cases.Viewer, period: metrics.Period, scope: str,
                   pupil_ids: list[int] | None = None) -> SectionReport:
    """A head of section's report on their pupils (`pupil_ids`; None: the whole school) for a period."""
    settings = store.get_settings(db)
    path = reads.path_of(db)
    version = reads.version(path)
    scope_ids = None if pupil_ids is None else tuple(int(p) for p in pupil_ids)
    everyone = reads.pupil_figures(path, version, period.date_from, period.as_of)
    everyone = everyone[everyone["possible_sessions"] > 0]
    figures = everyone if pupil_ids is None else everyone[everyone["pupil_id"].isin([int(p) for p in pupil_ids])]
    ids = figures["pupil_id"].tolist()
    compulsory = figures[figures["compulsory_school_age"]]
    counted, who = (compulsory, "pupils of compulsory school age") if len(compulsory) else (figures, "all pupils")
    headline = _with_attendance(metrics.group_figures(counted))

    previous = last_report(db, scope, period.as_of)
    if previous:
        compared_with, reason = previous["as_of"], f"the last report (data as at {uk_date(previous['as_of'])})"
    else:
        upload = patterns.previous_data_as_at(db)
        compared_with = upload if upload and upload < period.as_of else None
        reason = f"the previous upload (data as at {uk_date(upload)})" if compared_with else "nothing earlier"
    before = newly = gone = None
    if compared_with is not None and compared_with >= period.date_from:
        earlier = reads.pupil_figures(path, version, period.date_from, compared_with)
        earlier = earlier[earlier["pupil_id"].isin(ids) & (earlier["possible_sessions"] > 0)]
        earlier_counted = earlier[earlier["compulsory_school_age"]] if who.startswith("pupils of") else earlier
        before = _with_attendance(metrics.group_figures(earlier_counted))
        was = set(earlier.loc[earlier["persistently_absent"], "pupil_id"])
        now = set(figures.loc[figures["persistently_absent"], "pupil_id"])
        newly = figures[figures["pupil_id"].isin(now - was)]
        gone = figures[figures["pupil_id"].isin(was - now)]
    empty_pupils = figures.iloc[0:0]

    by_year = metrics.by_group(figures, "year_group") if len(figures) else pd.DataFrame()
    if len(by_year):
        by_year = pd.DataFrame({
            "Year group": by_year["year_group"].map(lambda v: group_value_label("year_group", v)),
            "Pupils": by_year["pupils"], "Attendance %": (100 - by_year["overall_absence_pct"]).round(1),
            "Unauthorised %": by_year["unauthorised_absence_pct"].round(1),
            "PA pupils": by_year["persistent_absentees"], "PA %": by_year["persistent_absence_pct"].round(1),
            "SA pupils": by_year["severe_absentees"],
            "order": by_year["year_group"].map(_year_order)}).sort_values("order").drop(columns="order")

    pa = figures[figures["persistently_absent"]]
    pupil_patterns = reads.pupil_patterns(path, version, period.date_from, period.as_of, scope_ids) if ids else \
        pd.DataFrame(columns=patterns.PUPIL_PATTERN_COLUMNS)
    reached = reads.triggers_reached(path, version, period.as_of)
    badges = reached[reached["pupil_id"].isin(ids)].groupby("pupil_id")["trigger"].agg(
        lambda t: "; ".join(triggers.TRIGGER_BADGES[x] for x in t))
    latest = cases.latest_actions(db, ids, period.as_of) if ids else pd.DataFrame(
        columns=["pupil_id", "last_action", "last_action_on", "next_check_in", "check_in_overdue"])
    pa_list = (pa.merge(pupil_patterns[["pupil_id", "top_reason_label", "worst_weekday"]], on="pupil_id", how="left")
               .merge(latest[["pupil_id", "last_action", "last_action_on"]], on="pupil_id", how="left"))
    pa_list = pa_list.assign(triggers=pa_list["pupil_id"].map(badges.to_dict()).astype(object).fillna(""),
                             top_reason_label=pa_list["top_reason_label"].fillna(""),
                             worst_weekday=pa_list["worst_weekday"].fillna(""),
                             last_action=pa_list["last_action"].fillna("")
                             ).sort_values(["attendance_pct", "surname", "forename"], ignore_index=True)

    impact = cases.impact(db, viewer, int(settings["impact_school_days"]), ids) if ids else pd.DataFrame(
        columns=["id", "pupil_id", "type", "opened_on", "before_pct", "after_pct", "change_pts", "after_days"])
    in_period = impact[impact["opened_on"].map(lambda d: period.date_from <= d <= period.as_of).astype(bool)]
    actions = in_period.merge(figures[["pupil_id", "surname", "forename", "form"]], on="pupil_id", how="left")
    actions = actions.sort_values(["opened_on", "id"], ignore_index=True)
    trend = reads.weekly_trend(path, version, period.date_from, period.as_of, scope_ids)
    reasons = reads.reasons(path, version, period.date_from, period.as_of, scope_ids) if ids else \
        pd.DataFrame(columns=patterns.REASON_COLUMNS)
    return SectionReport(
        school=settings["school_name"], scope=scope, period=period, who=who, headline=headline,
        compared_with=compared_with, compared_reason=reason, before=before, by_year=by_year, pa_list=pa_list,
        newly_pa=newly if newly is not None else empty_pupils, no_longer_pa=gone if gone is not None else empty_pupils,
        actions=actions, impact_by_type=cases.impact_by_type(impact[impact["id"].isin(in_period["id"])]),
        trend=trend, reasons=reasons)


def _year_order(year_group: str) -> int:
    order = {"N1": -2, "N2": -1, "R": 0}
    return order.get(year_group, int(year_group) if str(year_group).isdigit() else 99)


def section_headline(report: SectionReport) -> list[tuple[str, str, str]]:
    """The key figures with the change since the comparison and the national figure."""
    before = report.before or {}
    year = report.period.academic_year
    rows = []
    for measure, label in (("attendance_pct", "Attendance"), ("persistent_absence_pct", "Persistent absence"),
                           ("severe_absence_pct", "Severe absence"), ("unauthorised_absence_pct", "Unauthorised")):
        figure = metrics.national(measure, year)
        rows.append((label, _pct(report.headline.get(measure)),
                     _compare(report.headline.get(measure), before.get(measure), figure[0] if figure else None)))
    return rows


def pa_table(report: SectionReport, masked: bool) -> pd.DataFrame:
    pa = report.pa_list
    return pd.DataFrame({
        "Pupil": privacy.names(pa, masked), "Form": pa["form"], "Att. %": pa["attendance_pct"].round(1),
        "Auth.": pa["authorised_sessions"], "Unauth.": pa["unauthorised_sessions"],
        "Top reason": pa["top_reason_label"], "Worst day": pa["worst_weekday"], "Triggers": pa["triggers"],
        "Last action": [f"{a} ({uk_date(d)})" if a else "none yet" for a, d in zip(pa["last_action"], pa["last_action_on"])],
    })


def actions_table(report: SectionReport, masked: bool) -> pd.DataFrame:
    a = report.actions
    return pd.DataFrame({
        "Opened": a["opened_on"].map(uk_date), "Pupil": privacy.names(a, masked), "Form": a["form"],
        "Action": a["type"], "Before %": a["before_pct"].astype("float64").round(1),
        "After %": a["after_pct"].astype("float64").round(1), "Change (pts)": a["change_pts"].astype("float64").round(1),
        "School days since": a["after_days"],
    })


def impact_table(report: SectionReport) -> pd.DataFrame:
    i = report.impact_by_type
    return pd.DataFrame({
        "Action": i["type"], "Pupils": i["pupils"], "Actions": i["actions"],
        "Mean change (pts)": i["mean_change_pts"].astype("float64").round(1), "Improved": i["improved"],
        "Note": i["indicative_only"].map({True: "fewer than 10 pupils: indicative only", False: ""}),
    })


def section_report_pdf(report: SectionReport, masked: bool) -> bytes:
    period = report.period
    doc = Document(report.school, f"Attendance report — {report.scope}",
                   f"{uk_date(period.date_from)} to {uk_date(period.as_of)} · {report.headline['pupils']} {report.who}"
                   + f" · changes since {report.compared_reason}")
    doc.key_figures(section_headline(report))
    doc.heading("Weekly attendance")
    doc.chart(trend_chart(report.trend), height=58, fallback=(
        [uk_date(d) for d in report.trend["week_start"]], list(report.trend["attendance_pct"]), "%"))
    if len(report.by_year):
        doc.heading("By year group")
        doc.table(report.by_year)
    doc.heading(f"Persistently absent pupils ({len(report.pa_list)})")
    doc.table(pa_table(report, masked), widths=[30, 11, 12, 10, 12, 36, 17, 30, 24], size=7.5)
    doc.heading("Changes since " + report.compared_reason)
    if report.before is None:
        doc.paragraph("Nothing earlier to compare with yet.", colour=MUTED)
    else:
        doc.paragraph(f"Newly persistently absent: {len(report.newly_pa)} — "
                      + (", ".join(privacy.pupil_label(s, f, fm, masked) for s, f, fm in
                                   zip(report.newly_pa["surname"], report.newly_pa["forename"], report.newly_pa["form"]))
                         or "none"))
        doc.paragraph(f"No longer persistently absent: {len(report.no_longer_pa)} — "
                      + (", ".join(privacy.pupil_label(s, f, fm, masked) for s, f, fm in
                                   zip(report.no_longer_pa["surname"], report.no_longer_pa["forename"],
                                       report.no_longer_pa["form"])) or "none"))
    doc.heading("Reasons for absence")
    if report.reasons.empty:
        doc.paragraph("No absence in this period.", colour=MUTED)
    else:
        top = report.reasons.head(10)
        doc.chart(reasons_chart(top), height=8 + 5.5 * len(top),
                  fallback=(list(top["reason"]), list(top["sessions"].astype(float)), "sessions"))
    doc.heading(f"Actions opened in the period and their impact ({len(report.actions)})")
    doc.paragraph("Attendance in the school days before each action and since (up to the impact window).",
                  size=8.5, colour=MUTED)
    doc.table(actions_table(report, masked), size=7.5)
    if not report.impact_by_type.empty:
        doc.table(impact_table(report), size=7.5)
    return doc.pdf_bytes()


# --- a pupil's referral / evidence pack -------------------------------------------------------------


@dataclass(frozen=True)
class EvidencePack:
    school: str
    pupil: dict
    period: metrics.Period
    figures: dict
    weekly: pd.DataFrame  # week_start, possible_sessions, attendance_sessions, absence_sessions, attendance_pct
    reasons: pd.DataFrame  # Reason, Counts as, Sessions
    triggers: pd.DataFrame  # reached_on, trigger, label, detail, next_step
    runs: pd.DataFrame
    chronology: pd.DataFrame  # on, kind, entry, detail, by (oldest first)


CHRONOLOGY_COLUMNS = ["on", "kind", "entry", "detail", "by"]


def evidence_pack(db: sqlite_utils.Database, viewer: cases.Viewer, pupil_id: int, period: metrics.Period,
                  today: date | None = None) -> EvidencePack:
    """What an LA attendance team asks for with a penalty-notice or section 19 referral: the
    pupil, their figures, attendance week by week, reasons, triggers reached with dates, runs
    of absence, and the chronology (marks corrected, actions, contacts, check-ins, meeting
    decisions, triggers). Sensitive notes are never in a pack: it leaves the school."""
    reader = replace(viewer, shared_screen=True)  # the pack never carries sensitive notes
    row = db.execute(f"SELECT {', '.join(store.PUPIL_COLUMNS)} FROM pupils WHERE id = ?", (int(pupil_id),)).fetchone()
    if row is None:
        raise ValueError("That pupil is not in the store.")
    pupil = dict(zip(store.PUPIL_COLUMNS, row))
    settings = store.get_settings(db)
    path = reads.path_of(db)
    version = reads.version(path)
    everyone = reads.pupil_figures(path, version, period.date_from, period.as_of)
    mine = everyone[everyone["pupil_id"] == pupil_id]
    figures = mine.iloc[0].to_dict() if len(mine) else {}
    weekly = reads.weekly_trend(path, version, period.date_from, period.as_of, (int(pupil_id),))
    weekly = weekly[weekly["possible_sessions"] > 0].reset_index(drop=True)
    behind = reads.sessions_behind(path, version, int(pupil_id), period.date_from, period.as_of)
    absence = behind[behind["category"].isin([codes.AUTHORISED, codes.UNAUTHORISED])]
    reasons = pd.DataFrame({"Reason": absence["meaning"], "Counts as": absence["counts_as"],
                            "Sessions": absence["sessions"]})
    reached = reads.triggers_reached(path, version, period.as_of)
    reached = reached[reached["pupil_id"] == pupil_id].sort_values("reached_on")
    history = chronology(db, reader, pupil_id, reached, today or date.today())
    reached = pd.DataFrame({"reached_on": reached["reached_on"].to_numpy(), "trigger": reached["trigger"].to_numpy(),
                            "label": reached["trigger"].map(triggers.TRIGGER_LABELS).to_numpy(),
                            "detail": reached["detail"].map(uk_dates_in).to_numpy(),
                            "next_step": reached["trigger"].map(triggers.TRIGGER_NEXT_STEPS).to_numpy()})
    runs = reads.absence_runs(path, version, int(pupil_id), period.date_from, period.as_of)
    return EvidencePack(school=settings["school_name"], pupil={**pupil, "section": figures.get("section", "")},
                        period=period, figures=figures, weekly=weekly, reasons=reasons, triggers=reached, runs=runs,
                        chronology=history)


# cases.chronology's kinds of event, as the pack names them.
CHRONOLOGY_KINDS = {"mark_change": "Mark corrected", "trigger": "Trigger reached", "trigger_withdrawn": "Trigger withdrawn", "action_opened": "Action opened",
                    "action_closed": "Action closed", "contact": "Contact", "checkin_due": "Check-in due",
                    "checkin_done": "Check-in done"}


def chronology(db: sqlite_utils.Database, viewer: cases.Viewer, pupil_id: int, reached: pd.DataFrame,
               today: date) -> pd.DataFrame:
    """One pupil's history, oldest first (on, kind, entry, detail, by): the case-work
    chronology (cases.chronology, with the notes `viewer` may read) and the pastoral
    meeting's decisions about the pupil."""
    events = cases.chronology(db, viewer, pupil_id, today, reached)
    notes = events["note"].fillna("")
    detail = [" — ".join(part for part in (d, n) if part) for d, n in zip(events["detail"], notes)]
    frame = pd.DataFrame({"on": events["on"], "kind": events["kind"].map(CHRONOLOGY_KINDS), "entry": events["what"],
                          "detail": detail, "by": events["by"]}, columns=CHRONOLOGY_COLUMNS)
    decisions = db.execute(
        "SELECT m.held_on, i.decision, i.note, i.created_by FROM meeting_items i JOIN meetings m ON m.id = i.meeting_id "
        "WHERE i.pupil_id = ?", (int(pupil_id),)).fetchall()
    made = pd.DataFrame([{"on": date.fromisoformat(held_on), "kind": "Meeting decision", "entry": decision,
                          "detail": (note or "") if viewer.sees_notes else "", "by": by}
                         for held_on, decision, note, by in decisions], columns=CHRONOLOGY_COLUMNS)
    # cases.chronology is newest first; the pack reads oldest first.
    return (pd.concat([frame.iloc[::-1], made], ignore_index=True) if len(made) else frame.iloc[::-1]) \
        .sort_values("on", kind="stable").reset_index(drop=True)


def _pupil_facts(pack: EvidencePack, masked: bool) -> list[tuple[str, str]]:
    p = pack.pupil
    facts = [("Pupil", privacy.pupil_name(p["surname"], p["forename"], masked)), ("Form", p["form"] or "—"),
             ("Year group", group_value_label("year_group", p["year_group"]))]
    if not masked:
        facts += [("UPN", p["upn"]), ("Date of birth", uk_date(date.fromisoformat(p["dob"])) if p["dob"] else "—")]
    flags = [label for column, label in (("pp", "PP"), ("fsm", "FSM"), ("eal", "EAL"), ("cla", "CLA")) if p[column]]
    flags += [{"K": "SEN support", "E": "EHCP"}[p["sen"]]] if p["sen"] in ("K", "E") else []
    facts.append(("Groups", " · ".join(flags) or "none"))
    return facts


def _figure_facts(pack: EvidencePack) -> list[tuple[str, str]]:
    f = pack.figures
    if not f:
        return [("Possible sessions", "0")]
    absent = int(f["authorised_sessions"]) + int(f["unauthorised_sessions"])
    return [("Attendance", f"{_pct(f['attendance_pct'])} ({int(f['attendance_sessions'])} of "
                           f"{int(f['possible_sessions'])} possible sessions)"),
            ("Absence", f"{_pct(f['absence_pct'])} ({absent} sessions: {int(f['authorised_sessions'])} authorised, "
                        f"{int(f['unauthorised_sessions'])} unauthorised)"),
            ("Persistent absence (10% or more)", "yes" if f["persistently_absent"] else "no"),
            ("Severe absence (50% or more)", "yes" if f["severely_absent"] else "no"),
            ("Sessions with no mark yet", str(int(f["missing_marks"])))]


def weekly_table(pack: EvidencePack) -> pd.DataFrame:
    w = pack.weekly
    return pd.DataFrame({"Week beginning": w["week_start"].map(uk_date), "Possible sessions": w["possible_sessions"],
                         "Attended": w["attendance_sessions"], "Absent": w["absence_sessions"],
                         "Attendance %": w["attendance_pct"].round(1)})


def chronology_table(pack: EvidencePack) -> pd.DataFrame:
    c = pack.chronology
    return pd.DataFrame({"Date": c["on"].map(uk_date), "What": c["kind"], "Entry": c["entry"], "Detail": c["detail"],
                         "By": c["by"]})


def triggers_table(pack: EvidencePack) -> pd.DataFrame:
    t = pack.triggers
    return pd.DataFrame({"Reached on": t["reached_on"].map(uk_date), "Trigger": t["label"], "Detail": t["detail"],
                         "What follows": t["next_step"]})


def evidence_pack_pdf(pack: EvidencePack, masked: bool) -> bytes:
    p = pack.pupil
    doc = Document(pack.school, "Attendance evidence pack — "
                   + privacy.pupil_label(p["surname"], p["forename"], p["form"], masked),
                   f"{uk_date(pack.period.date_from)} to {uk_date(pack.period.as_of)} · for a referral to the local "
                   "authority (penalty notice, section 19, children missing education)")
    doc.heading("The pupil", size=11)
    doc.table(pd.DataFrame(_pupil_facts(pack, masked), columns=["", " "]), widths=[40, doc.epw - 40], size=9,
              headings=False)
    doc.heading("Attendance in the period", size=11)
    doc.table(pd.DataFrame(_figure_facts(pack), columns=["", " "]), widths=[60, doc.epw - 60], size=9,
              headings=False)
    doc.paragraph("Possible sessions = attendance + authorised + unauthorised absence (DfE rules); sessions not "
                  "possible and missing marks count in no total.", size=8, colour=MUTED)
    doc.heading("Attendance by week", size=11)
    if pack.weekly.empty:
        doc.paragraph("No school weeks with possible sessions.", colour=MUTED)
    else:
        doc.chart(trend_chart(pack.weekly), height=55, fallback=(
            [uk_date(d) for d in pack.weekly["week_start"]], list(pack.weekly["attendance_pct"]), "%"))
        doc.table(weekly_table(pack), size=8)
    doc.heading("Reasons for absence", size=11)
    doc.table(pack.reasons, size=8.5)
    doc.heading("Statutory triggers reached", size=11)
    doc.table(triggers_table(pack), widths=[22, 45, 70, doc.epw - 137], size=8)
    if not pack.runs.empty:
        doc.heading("Runs of absence (two or more whole school days)", size=11)
        doc.table(pd.DataFrame({"From": pack.runs["start"].map(uk_date), "To": pack.runs["end"].map(uk_date),
                                "School days": pack.runs["school_days"], "Sessions": pack.runs["sessions"],
                                "Marks": pack.runs["codes"]}), size=8)
    doc.heading("Chronology (oldest first)", size=11)
    doc.paragraph("Marks corrected, actions, contacts, check-ins, meeting decisions and triggers. Sensitive notes "
                  "are not included in this pack.", size=8, colour=MUTED)
    doc.table(chronology_table(pack), widths=[20, 26, 52, doc.epw - 120, 22], size=7.5)
    return doc.pdf_bytes()


def evidence_pack_frame(pack: EvidencePack, masked: bool) -> pd.DataFrame:
    """The pack as one table (Section, Date, Entry, Detail, Value) for the CSV."""
    rows: list[tuple] = []
    rows += [("Pupil", "", label, value, "") for label, value in _pupil_facts(pack, masked)]
    rows += [("Figures", "", label, value, "") for label, value in _figure_facts(pack)]
    rows += [("Attendance by week", w["Week beginning"], f"{w['Attended']} of {w['Possible sessions']} sessions",
              "", w["Attendance %"]) for w in weekly_table(pack).to_dict("records")]
    rows += [("Reasons", "", r["Reason"], r["Counts as"], r["Sessions"]) for r in pack.reasons.to_dict("records")]
    rows += [("Trigger reached", t["Reached on"], t["Trigger"], t["Detail"], "") for t in
             triggers_table(pack).to_dict("records")]
    rows += [("Chronology", c["Date"], f"{c['What']}: {c['Entry']}", c["Detail"], c["By"])
             for c in chronology_table(pack).to_dict("records")]
    return pd.DataFrame(rows, columns=["Section", "Date", "Entry", "Detail", "Value"]).astype({"Value": object})


def evidence_pack_name(pack: EvidencePack, masked: bool, extension: str) -> str:
    p = pack.pupil
    return pack_file_name(pack.school, p["surname"], p["forename"], pack.period.as_of, masked, extension)


def pack_file_name(school: str, surname: str, forename: str, as_of: date, masked: bool, extension: str) -> str:
    """'School_evidence-pack_Ahmed-Amir_19-09-2025.pdf' (initials in meeting mode)."""
    who = privacy.initials(surname, forename).replace(".", "").replace(" ", "") if masked else f"{surname}-{forename}"
    return file_name(school, f"evidence-pack_{who}", as_of, extension)


def evidence_pack_pdf_for(db_path: str, viewer: cases.Viewer, pupil_id: int, period: metrics.Period,
                          masked: bool) -> bytes:
    """Build a pupil's pack and write its PDF, opening the store itself (for a deferred download)."""
    with store.opened(db_path) as db:
        pack = evidence_pack(db, viewer, pupil_id, period)
    return evidence_pack_pdf(pack, masked)


# --- minutes of a meeting ---------------------------------------------------------------------------


def minutes_table(minutes: meetings.Minutes, masked: bool) -> pd.DataFrame:
    items = minutes.items
    return pd.DataFrame({
        "Pupil": privacy.names(items, masked), "Form": items["form"],
        "On the agenda for": items["agenda"].map(lambda kinds: "; ".join(meetings.AGENDA_KINDS.get(k, k) for k in kinds)),
        "Decision": items["decision"], "Action opened": items["action"].fillna(""), "Owner": items["owner_name"],
        "Check-in": items["check_in_on"].map(lambda d: uk_date(d) if d else ""), "Note": items["note"],
    })


def minutes_csv(minutes: meetings.Minutes, masked: bool) -> bytes:
    header = pd.DataFrame({
        "Pupil": ["(meeting)"], "Form": [""], "On the agenda for": [f"Held {uk_date(minutes.held_on)}"],
        "Decision": ["Attendees: " + ", ".join(minutes.attendees)], "Action opened": [""], "Owner": [""],
        "Check-in": [""], "Note": [minutes.notes]})
    return csv_bytes(pd.concat([header, minutes_table(minutes, masked)], ignore_index=True))


def minutes_pdf(minutes: meetings.Minutes, school: str, masked: bool) -> bytes:
    doc = Document(school, f"Pastoral meeting — minutes of {uk_date(minutes.held_on)}",
                   (minutes.scope or "Whole school") + (f" · new since {uk_date(minutes.since)}" if minutes.since else "")
                   + (" · draft (meeting not finished)" if minutes.status == "open" else ""), landscape=True)
    doc.key_figures([("Date", uk_date(minutes.held_on), minutes.scope or "Whole school"),
                     ("Attendees", str(len(minutes.attendees)), ", ".join(minutes.attendees)[:120]),
                     ("Decisions", str(len(minutes.items)), "pupils discussed with a decision"),
                     ("Actions opened", str(minutes.actions_created), "each with an owner and check-in")])
    doc.heading("Attendees", size=11)
    doc.paragraph(", ".join(minutes.attendees) or "Not recorded.")
    doc.heading("Decisions and actions", size=11)
    doc.table(minutes_table(minutes, masked), widths=[30, 13, 50, 34, 52, 25, 20, doc.epw - 224], size=8)
    doc.heading("Notes", size=11)
    doc.paragraph(minutes.notes or "No notes.")
    return doc.pdf_bytes()
