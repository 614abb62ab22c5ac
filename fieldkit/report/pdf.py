"""The report as a PDF of one or two pages, A4 or Letter, with the fonts embedded.

fpdf2 (pure Python) with the bundled DejaVu Sans: umlauts, "–" and "€" render on any viewer,
and with the creation date fixed the output is byte-identical across runs (tests compare
bytes; a signed report's sha256 can be re-checked). reportlab imports faster, but its TTF
subsetting is not reproducible without patching, and it is a larger dependency. This module
is the only one that imports fpdf, so the PDF library loads only for ``ticket report``.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.report.layout import Document, Section

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
MARGIN = 15  # mm


def render(doc: Document, created, paper: str = "a4", lang: str = "en") -> bytes:
    """The PDF bytes of ``doc``; ``created`` (a datetime) is the only date written into it."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter" if paper == "letter" else "A4")
    pdf.set_creation_date(created)
    pdf.set_lang(lang)
    pdf.set_title(doc.title)
    pdf.set_creator("fieldkit")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.alias_nb_pages()
    footer = doc.footer

    def page_footer() -> None:
        pdf.set_y(-MARGIN)
        pdf.set_font(FONT, "", 7)
        pdf.cell(0, 4, f"{footer} – {pdf.page_no()}/{{nb}}", align="C")

    pdf.footer = page_footer  # type: ignore[method-assign]
    pdf.add_page()
    _head(pdf, doc)
    for section in doc.sections:
        _section(pdf, section)
    _signature(pdf, doc)
    return bytes(pdf.output())


def _head(pdf, doc: Document) -> None:
    top = pdf.get_y()
    if doc.logo and Path(doc.logo).is_file():
        pdf.image(doc.logo, x=MARGIN, y=top, h=16)
    pdf.set_xy(pdf.w / 2, top)
    for i, line in enumerate(doc.company):
        pdf.set_font(FONT, "B" if i == 0 else "", 10 if i == 0 else 8)
        pdf.cell(pdf.w / 2 - MARGIN, 5 if i == 0 else 4, line, align="R",
                 new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 18) + 2)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 9, doc.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for label, value in doc.facts:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(38, 5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, value, align="L", new_x="LMARGIN", new_y="NEXT")


def _section(pdf, section: Section) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, section.title, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, "", 9)
    for line in section.lines:
        pdf.multi_cell(0, 4.6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    if section.table:
        t = section.table
        width = pdf.w - 2 * MARGIN
        pdf.set_font(FONT, "", 8.5)
        with pdf.table(col_widths=tuple(w * width for w in t.widths), text_align="LEFT",
                       line_height=4.4, padding=1, first_row_as_headings=True,
                       headings_style=_headings()) as table:
            for cells in (t.headers, *t.rows):
                row = table.row()
                for cell in cells:
                    row.cell(cell)
    if section.notes:
        pdf.ln(1)
        pdf.set_font(FONT, "B", 9)
        for note in section.notes:
            pdf.multi_cell(0, 4.6, note, align="L", new_x="LMARGIN", new_y="NEXT")


def _headings():
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=(230, 230, 230))


def _signature(pdf, doc: Document) -> None:
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FONT, "B", 9)
    for line in doc.signed:
        pdf.multi_cell(0, 4.6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    width = (pdf.w - 2 * MARGIN - 10) / 3
    y = pdf.get_y()
    pdf.set_font(FONT, "", 8)
    for i, label in enumerate(doc.signature):
        x = MARGIN + i * (width + 5)
        pdf.line(x, y, x + width, y)
        pdf.set_xy(x, y + 1)
        pdf.multi_cell(width, 4, label, align="L")
