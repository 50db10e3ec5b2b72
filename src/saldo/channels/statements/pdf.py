"""The statement as a PDF (fpdf2): an A4 page or more, the header, the movements as a table,
the totals, in the line's language. Fonts are embedded (subset): DejaVu Sans, or Noto Sans CJK
SC for Chinese, from Debian's fonts-dejavu-core and fonts-noto-cjk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from saldo.channels.statements.view import StatementText, statement_text
from saldo.domain.errors import SaldoError
from saldo.services.history import Statement

if TYPE_CHECKING:
    from fpdf import FPDF


class FontMissing(SaldoError):
    """A font the statement is written with is not installed."""

    code = "font_missing"


@dataclass(frozen=True, slots=True)
class Font:
    package: str  # the Debian package that installs it
    regular: Path
    bold: Path
    collection_number: int = 0  # the face inside a .ttc collection


_DEJAVU: Final = Font(
    "fonts-dejavu-core",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
# The collection's faces: JP, KR, SC, TC, HK; SC draws the simplified Chinese of zh_CN. Its
# regular face only: reading and subsetting one of these 65,000-glyph faces takes about a
# second, and a bold one would double it (headings are set larger instead).
_NOTO_CJK_SC: Final = Font(
    "fonts-noto-cjk",
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    collection_number=2,
)
_FAMILY = "statement"
# Widths of the table's columns in mm (date, description, channel, amount, balance): 180 mm.
_WIDTHS = (32, 74, 18, 28, 28)
_ALIGNS = ("L", "L", "L", "R", "R")
_LINE = 5  # mm a line of the table


def font_for(language: str) -> Font:
    """The font a statement in ``language`` is written with."""
    return _NOTO_CJK_SC if language == "zh" else _DEJAVU


def statement_pdf(statement: Statement) -> bytes:
    """The statement as a PDF document in the line's language. Raises FontMissing, naming the
    Debian package to install, when its font is not on this machine."""
    from fpdf import FPDF  # imported by the commands that write a PDF only

    font = font_for(statement.language)
    for path in (font.regular, font.bold):
        if not path.is_file():
            raise FontMissing(
                f"the statement's font {path} is missing: install the Debian package "
                f"{font.package} (scripts/install-system-deps.sh)"
            )
    text = statement_text(statement)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(statement.made_at)
    pdf.set_title(text.title)
    pdf.set_lang(text.lang)
    pdf.set_author(statement.operator_name)
    pdf.add_font(_FAMILY, "", font.regular, collection_font_number=font.collection_number)
    bold = "B" if font.bold != font.regular else ""  # else the regular face stands for it
    if bold:
        pdf.add_font(_FAMILY, bold, font.bold, collection_font_number=font.collection_number)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _write(pdf, text, bold=bold)
    return bytes(pdf.output())


def _headings(pdf: FPDF, text: StatementText, *, bold: str) -> None:
    """The table's headings, on every page the movements run over."""

    pdf.set_font(_FAMILY, bold, 8.5)
    for width, title, align in zip(_WIDTHS, text.columns, _ALIGNS, strict=True):
        pdf.cell(width, 7, title, border="B", align=align)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + 7)
    pdf.ln(1)


def _write(pdf: FPDF, text: StatementText, *, bold: str) -> None:
    from fpdf.enums import MethodReturnValue, XPos, YPos

    pdf.set_font(_FAMILY, bold, 15)
    pdf.multi_cell(0, 8, text.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for label, value in text.header:
        pdf.set_font(_FAMILY, "", 10)
        pdf.cell(40, 6, label)
        pdf.set_font(_FAMILY, bold, 10)
        pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    _headings(pdf, text, bold=bold)
    pdf.set_font(_FAMILY, "", 8.5)
    # Plain cells rather than fpdf2's table (several times slower): only the description may
    # need more than one line, and only it is measured.
    for row in text.rows:
        lines = pdf.multi_cell(
            _WIDTHS[1], _LINE, row.description, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(lines, list)
        height = _LINE * max(1, len(lines))
        if pdf.will_page_break(height):
            pdf.add_page()
            _headings(pdf, text, bold=bold)
            pdf.set_font(_FAMILY, "", 8.5)
        top, left = pdf.get_y(), pdf.l_margin
        pdf.cell(_WIDTHS[0], _LINE, row.moment)
        pdf.multi_cell(_WIDTHS[1], _LINE, row.description, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(_WIDTHS[2], _LINE, row.channel)
        pdf.cell(_WIDTHS[3], _LINE, row.amount, align="R")
        pdf.cell(_WIDTHS[4], _LINE, row.balance, align="R")
        pdf.set_xy(left, top + height)
    if not text.rows:
        pdf.cell(0, 7, text.nothing, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + sum(_WIDTHS), pdf.get_y())
    pdf.ln(3)
    for label, value in text.totals:
        pdf.set_font(_FAMILY, "", 10)
        pdf.cell(sum(_WIDTHS[:3]), 6, label, align="R")
        pdf.set_font(_FAMILY, bold, 10)
        pdf.cell(_WIDTHS[3], 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(_FAMILY, "", 8)
    pdf.multi_cell(0, 4.5, text.made, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 4.5, text.questions, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
