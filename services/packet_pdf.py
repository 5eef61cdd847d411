"""The appeal packet as one PDF: the letter as sent, a contents page listing the enclosures and
the attestation status, then every enclosed file (a PDF's pages as they are, an image on a page
of its own). fpdf2 writes the pages, pypdf joins the files; both are pure Python."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from domain.appeals.attestation import Attestation
from domain.appeals.finishing import EnclosureItem

if TYPE_CHECKING:  # fpdf (with numpy and Pillow) and pypdf weigh ~90 MiB: loaded when used
    from fpdf import FPDF

# The PDF core fonts speak Latin-1; typographic punctuation pasted into a letter is folded to
# its ASCII look-alike rather than lost.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


def latin1(text: str) -> str:
    return text.translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


class EnclosedFile(BaseModel):
    """One attached file, with the enclosure it belongs to."""

    model_config = ConfigDict(frozen=True)

    enclosure: str
    filename: str
    media_type: str
    content: bytes

    def pages(self) -> int:
        if self.media_type != "application/pdf":
            return 1
        import pypdf

        return len(pypdf.PdfReader(io.BytesIO(self.content)).pages)


class PacketContents(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    claim_id: str
    appeal_level: int
    level_name: str
    letter_version: int
    letter_by: str
    letter_body: str
    enclosures: list[EnclosureItem]
    files: list[EnclosedFile] = []
    attestation_required: bool
    attestation: Attestation | None
    generated_at: datetime


def render_packet_pdf(packet: PacketContents) -> bytes:
    pages = _letter_and_contents(packet)
    if not packet.files:
        return pages
    import pypdf

    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(pages))
    for number, attached in enumerate(packet.files, start=1):
        if attached.media_type == "application/pdf":
            writer.append(io.BytesIO(attached.content))
        else:
            writer.append(io.BytesIO(_image_page(packet, number, attached)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _document(packet: PacketContents, title: str) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_title(latin1(title))
    pdf.set_creator("denials case manager")
    # A fixed creation date keeps the bytes, hence the SHA-256, a function of the content.
    pdf.set_creation_date(packet.generated_at)
    return pdf


def _image_page(packet: PacketContents, number: int, attached: EnclosedFile) -> bytes:
    """A scan on a page of its own, captioned, scaled to fit inside the margins."""
    pdf = _document(packet, f"Enclosure {number}")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    _line(pdf, 5, latin1(f"Enclosure {number}: {attached.enclosure} ({attached.filename})"))
    top = pdf.get_y() + 2
    pdf.image(
        io.BytesIO(attached.content),
        x=pdf.l_margin,
        y=top,
        keep_aspect_ratio=True,
        w=pdf.epw,
        h=pdf.h - top - pdf.b_margin,
    )
    return bytes(pdf.output())


def _letter_and_contents(packet: PacketContents) -> bytes:
    pdf = _document(packet, f"Appeal packet, level {packet.appeal_level} ({packet.level_name})")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    _line(pdf, 5, latin1(packet.letter_body))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=12)
    _line(pdf, 7, "Packet contents")
    pdf.set_font("Helvetica", size=10)
    # The payer reads this page: the claim and the level, never the case manager's internals
    # (case id, letter versions, who wrote them).
    _line(
        pdf,
        5,
        latin1(
            f"Claim {packet.claim_id}, appeal level {packet.appeal_level} "
            f"({packet.level_name}); prepared {packet.generated_at.date().isoformat()}."
        ),
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=11)
    _line(pdf, 6, "Enclosures")
    pdf.set_font("Helvetica", size=10)
    for line in enclosure_lines(packet):
        _line(pdf, 5, latin1(line))
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=11)
    _line(pdf, 6, "Physician attestation")
    pdf.set_font("Helvetica", size=10)
    _line(pdf, 5, latin1(attestation_status(packet)))
    return bytes(pdf.output())


def _line(pdf: FPDF, height: float, text: str) -> None:
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def attestation_status(packet: PacketContents) -> str:
    attestation = packet.attestation
    if attestation is not None:
        how = (
            "signed in the case manager"
            if attestation.document_sha256 == ""
            else (f"signed document uploaded, SHA-256 {attestation.document_sha256}")
        )
        return (
            f"Attested by {attestation.physician_name} on "
            f"{attestation.recorded_at.date().isoformat()} ({how}): {attestation.statement}"
        )
    if packet.attestation_required:
        return "MISSING: required for a medical-necessity appeal; not yet recorded."
    return "Not required for this denial category."


def enclosure_lines(packet: PacketContents) -> list[str]:
    """What the packet encloses, in the order its files follow the letter."""
    lines, number = [], 0
    for enclosure in packet.enclosures:
        if not enclosure.included:
            continue
        files = [f for f in packet.files if f.enclosure == enclosure.name]
        for attached in files:
            number += 1
            pages = attached.pages()
            lines.append(
                f"{number}. {enclosure.name}: {attached.filename} "
                f"({pages} page{'s' if pages != 1 else ''})"
            )
        if not files and enclosure.provided:
            lines.append(f"- {enclosure.name}: {enclosure.provided}")
    return lines or ["None."]
