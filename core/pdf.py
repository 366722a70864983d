"""PDF documents: the A4 page layout every report and letter is printed on.

`Document` is a small A4 report (header with the school and title on every page, page
numbers, headings, key-figure boxes, tables that repeat their headings, charts drawn to PNG
by `chart_png`) that any report builds on; `LetterDocument` is the same for letters
(letterhead, address block, a page per letter). It embeds DejaVu Sans (Debian's
fonts-dejavu-core) so names with accents print; without that font it falls back to the PDF
core font and transliterates (ł → l).
"""

from __future__ import annotations

import copy
import io
import os
import threading
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from core import calendar, text
from core.calendar import uk_date
from core.exports import cell_value

LONDON = calendar.LONDON
PRINT_WIDTH = 640  # pixels a chart is drawn across for the page's text width

FONT_DIR = Path(os.environ.get("PASTORAL_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
              "BI": "DejaVuSans-BoldOblique.ttf"}
PUNCTUATION = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "≥": ">=", "≤": "<=", "…": "...",
               "▲": "+", "▼": "-", "●": "*", "→": "->", "×": "x", "•": "*", "€": "EUR ",
               "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "Ħ": "H", "ħ": "h"}
# The most characters of one value printed where the page has room for only so much: the
# title and school repeated on every page, a heading, a table cell (a row must fit on a page),
# an addressee's line. Longer values (which the importer refuses, but a store may hold)
# print cut short with '…', so no value can stop or stall a document.
TITLE_LIMIT, HEADING_LIMIT, CELL_LIMIT, LINE_LIMIT = 200, 300, 5_000, 120
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


# The embedded fonts' metrics, read once per process: fpdf2's add_font reads ~6,000
# characters' widths from each font file, most of the time a short PDF took. A document
# gets a copy with its own record of the characters it prints and its own copy of the font
# file (cut down to those characters when the PDF is written); the widths and character
# map it only reads are shared.
_PARSED: dict[tuple[str, str], tuple[TTFFont | None, bytes]] = {}
_PARSING = threading.Lock()


def _add_parsed_font(document: FPDF, style: str, path: Path) -> None:
    """`document.add_font("DejaVu", style, path)`, from the font as read the first time."""
    key = (str(path), style)
    with _PARSING:
        if key not in _PARSED:
            scratch = FPDF()
            scratch.add_font("DejaVu", style, str(path))
            parsed = scratch.fonts[f"dejavu{style}"]
            adjusted = (parsed.is_cff or parsed.is_compressed or parsed.color_font is not None
                        or ".notdef" not in parsed.ttfont.getGlyphOrder())
            _PARSED[key] = (None, b"") if adjusted else (parsed, path.read_bytes())
    parsed, font_file = _PARSED[key]
    if parsed is None:  # a font fpdf2 changes as it reads it: read it afresh each time
        document.add_font("DejaVu", style, str(path))
        return
    font = copy.copy(parsed)
    font.i = len(document.fonts) + 1
    font.ttfont = ttLib.TTFont(io.BytesIO(font_file), recalcTimestamp=False, lazy=True)
    font.cw, font.desc = copy.copy(parsed.cw), copy.copy(parsed.desc)  # output names and numbers its descriptor
    font.missing_glyphs, font.biggest_size_pt, font._hbfont = [], 0, None
    font.subset = SubsetMap(font)
    document.fonts[parsed.fontkey] = font


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
        school, title = text.clip(school, TITLE_LIMIT), text.clip(title, TITLE_LIMIT)
        self.school, self.title_text, self.subtitle = school, title, text.clip(subtitle, TITLE_LIMIT * 2)
        self.made_on = (made_on or datetime.now(timezone.utc)).astimezone(LONDON)
        self.embedded = font_available()  # each DejaVu style is added when first used (set_font)
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

    def set_font(self, family: str | None = None, style: str | TextEmphasis = "", size: float = 0) -> None:
        """fpdf2's set_font, adding the DejaVu style the first time the document uses it: a
        style never used is not embedded (a report rarely prints italics)."""
        if self.embedded and (family or self.font_family or "").lower() == "dejavu":
            letters = style.style if isinstance(style, TextEmphasis) else str(style or "")
            wanted = "".join(sorted(letters.upper().replace("U", "").replace("S", "")))
            if wanted in FONT_FILES and f"dejavu{wanted}" not in self.fonts:
                _add_parsed_font(self, wanted, FONT_DIR / FONT_FILES[wanted])
        super().set_font(family, style, size)

    def normalize_text(self, value: str) -> str:
        value = text.clean(value, multiline=True)  # no control character reaches the page
        return super().normalize_text(value if self.embedded else transliterate(value))

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
    def heading(self, words: str, size: float = 12.5) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(2)
        self.set_font(self.family, "B", size)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 6.5, text.clip(words, HEADING_LIMIT), align="L", new_x="LMARGIN", new_y="NEXT")
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
            self.cell(width - 4, 4, text.clip(label, LINE_LIMIT))
            self.set_xy(x + 2, top + 6)
            self.set_font(self.family, "B", 15)
            self.set_text_color(*INK)
            self.cell(width - 4, 9, value)
            self.set_xy(x + 2, top + 16)
            self.set_font(self.family, "", 7.5)
            self.set_text_color(*MUTED)
            self.multi_cell(width - 4, 3.4, text.clip(note, LINE_LIMIT), align="L")
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
                for group, span in group_headings:
                    row.cell(group, colspan=span, align="CENTER")
            if headings:
                table.row([str(c) for c in frame.columns])
            most = self._cell_limits(widths, len(frame.columns))
            for values in frame.itertuples(index=False):
                table.row([text.clip(_pdf_text(v), limit) for v, limit in zip(values, most)])
        self.ln(2)

    def _cell_limits(self, widths: list[float] | None, columns: int) -> list[int]:
        """The most characters each column's cell can hold and still fit on half a page (a
        table row cannot run over a page): a long note prints cut short with '…'."""
        shares = [w / sum(widths) for w in widths] if widths and len(widths) == columns else [1 / columns] * columns
        char_width = self.font_size * 0.55  # mm, generous for DejaVu Sans
        lines = int((self.h - self.t_margin - self.b_margin) / 2 / (self.font_size * 1.45))
        return [min(CELL_LIMIT, max(20, int(self.epw * share / char_width) * lines)) for share in shares]

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
        self.address = self.contact_lines(address)
        self.letter_title, self.letter_first_page = "", 0
        super().__init__(school, title)

    @staticmethod
    def contact_lines(address: str) -> str:
        """The letterhead's address lines as printed (at most 8, each clipped)."""
        return "\n".join(text.clip(line, LINE_LIMIT) for line in address.strip().splitlines()[:8])

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
        addressee = "\n".join(text.clip(line.strip(), LINE_LIMIT) for line in lines if line and line.strip())
        if addressee:
            self.multi_cell(self.epw * 0.57, size * 0.5, addressee, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.cell(0, 6, dated, new_x="LMARGIN", new_y="NEXT", align="R")
        self.ln(4)

    def letter(self, addressee: list[str], dated: str, title: str, body: str) -> None:
        """One letter, from a new page."""
        title = text.clip(title, HEADING_LIMIT)
        self.letter_title, self.letter_first_page = title, self.page_no() + 1
        self.add_page()
        self.address_block(addressee, dated)
        self.heading(title, size=12)
        self.ln(1.5)
        self.paragraph(body, size=11)


def _pdf_text(value: Any) -> str:
    value = cell_value(value)
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
