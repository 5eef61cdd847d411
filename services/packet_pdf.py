"""The appeal packet as a PDF: the letter as the biller left it, then a contents page with the
enclosure checklist and the attestation status. fpdf2 is pure Python (no system libraries)."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF
from pydantic import BaseModel, ConfigDict

from domain.appeals.attestation import Attestation
from domain.appeals.enclosures import Enclosure

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


class PacketContents(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    appeal_level: int
    level_name: str
    letter_version: int
    letter_by: str
    letter_body: str
    enclosures: list[Enclosure]
    attestation_required: bool
    attestation: Attestation | None
    generated_at: datetime


def render_packet_pdf(packet: PacketContents) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(latin1(f"Appeal packet, level {packet.appeal_level} ({packet.level_name})"))
    pdf.set_creator("denials case manager")
    # A fixed creation date keeps the bytes, hence the SHA-256, a function of the content.
    pdf.set_creation_date(packet.generated_at)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    _line(pdf, 5, latin1(packet.letter_body))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=12)
    _line(pdf, 7, "Packet contents")
    pdf.set_font("Helvetica", size=10)
    _line(
        pdf,
        5,
        latin1(
            f"Case {packet.case_id}, appeal level {packet.appeal_level} ({packet.level_name}); "
            f"letter version {packet.letter_version} by {packet.letter_by}; "
            f"generated {packet.generated_at.isoformat(timespec='seconds')}."
        ),
    )
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=11)
    _line(pdf, 6, "Enclosures")
    pdf.set_font("Helvetica", size=10)
    for enclosure in packet.enclosures:
        detail = f" ({enclosure.detail})" if enclosure.detail else ""
        _line(pdf, 5, latin1(f"[ ] {enclosure.name}{detail}"))
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
