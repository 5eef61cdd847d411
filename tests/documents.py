"""Small real files for upload tests: a PDF whose text can be read back, and a PNG scan."""

from __future__ import annotations

import io

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str, pages: int = 1) -> bytes:
    """A PDF of `pages` pages, each saying `text` (and its page number)."""
    pdf = FPDF(format="Letter")
    pdf.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 10, f"{text} (page {number})")
    return bytes(pdf.output())


def png_bytes(width: int = 120, height: int = 80) -> bytes:
    """A small grey 'scan'."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()
