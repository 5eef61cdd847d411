"""837 claim files: a replacement or void claim written as 005010X222A1 (professional) or
005010X223A2 (institutional), and read back (the tests and the outbox check what was sent).

One claim per file, one billing provider, the patient is the subscriber: the shape of a
corrected claim resubmitted from a denial case.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.models import Claim, ClaimType, PayerType
from edi.tokenizer import Segment, tokenize

VERSIONS = {
    ClaimType.PROFESSIONAL: "005010X222A1",
    ClaimType.INSTITUTIONAL: "005010X223A2",
}
# SBR09 claim filing indicator by payer type (Medicare Part B for professional claims, Part A
# for institutional ones).
_FILING_INDICATOR = {
    PayerType.MEDICARE: {ClaimType.PROFESSIONAL: "MB", ClaimType.INSTITUTIONAL: "MA"},
    PayerType.MEDICARE_ADVANTAGE: {ClaimType.PROFESSIONAL: "16", ClaimType.INSTITUTIONAL: "16"},
    PayerType.MEDICAID: {ClaimType.PROFESSIONAL: "MC", ClaimType.INSTITUTIONAL: "MC"},
    PayerType.COMMERCIAL: {ClaimType.PROFESSIONAL: "CI", ClaimType.INSTITUTIONAL: "CI"},
    PayerType.OTHER: {ClaimType.PROFESSIONAL: "ZZ", ClaimType.INSTITUTIONAL: "ZZ"},
}
_SEPARATORS = {"element": "*", "component": ":", "segment": "~", "repetition": "^"}


class Submitter(BaseModel):
    """Who sends the claim: the billing office's EDI identity and the billing provider."""

    model_config = ConfigDict(frozen=True)

    submitter_id: str = Field(default="DENIALSMGR", min_length=2, max_length=15)
    receiver_id: str = Field(default="CLEARINGHOUSE", min_length=2, max_length=15)
    name: str = Field(default="BILLING OFFICE", min_length=1, max_length=60)
    phone: str = Field(default="5555550100", pattern=r"^[0-9]{10}$")
    tax_id: str = Field(default="000000000", pattern=r"^[0-9]{9}$")
    address: str = Field(default="1 MAIN ST", min_length=1, max_length=55)
    city: str = Field(default="ANYTOWN", min_length=2, max_length=30)
    state: str = Field(default="PA", pattern=r"^[A-Z]{2}$")
    zip_code: str = Field(default="190010001", pattern=r"^[0-9]{9}$")
    place_of_service: str = Field(default="11", pattern=r"^[0-9]{2}$")
    facility_type: str = Field(default="13", pattern=r"^[0-9]{2}$")
    production: bool = Field(default=False, description="ISA15 P, else T (test)")


class ClaimFile(BaseModel):
    """What the 837 says about the claim: enough to check a file carries the intended claim."""

    model_config = ConfigDict(frozen=True)

    version: str
    claim_id: str
    billed_amount: Decimal
    frequency_code: str
    payer_claim_control_number: str
    payer_id: str
    provider_npi: str
    member_id: str
    diagnosis_codes: list[str]
    lines: list[ClaimFileLine]


class ClaimFileLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    procedure_code: str
    modifiers: list[str]
    billed_amount: Decimal
    units: Decimal
    service_date: date | None
    revenue_code: str = ""
    diagnosis_pointers: list[int] = Field(default_factory=list)


def _amount(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _name_parts(name: str) -> tuple[str, str]:
    """'Last, First' or 'First Last' -> (last, first); the 837 wants them apart."""
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return last, first
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name or "UNKNOWN", "")


def _clean(text: str) -> str:
    """Delimiters inside a value would split it; X12 basic characters are upper case."""
    for separator in _SEPARATORS.values():
        text = text.replace(separator, " ")
    return " ".join(text.upper().split())


def write_837(
    claim: Claim,
    diagnosis_codes: list[str],
    submitter: Submitter,
    control_number: int,
    created_at: datetime,
    revenue_codes: dict[int, str] | None = None,
) -> str:
    """The claim as an 837 interchange, one segment per line."""
    version = VERSIONS[claim.claim_type]
    institutional = claim.claim_type is ClaimType.INSTITUTIONAL
    revenue_codes = revenue_codes or {}
    control = f"{control_number:09d}"
    ymd, hm = created_at.strftime("%Y%m%d"), created_at.strftime("%H%M")
    payer_name = _clean(claim.payer.name or claim.payer.payer_id)
    last, first = _name_parts(_clean(claim.patient.name))
    body: list[list[str]] = [
        ["ST", "837", "0001", version],
        ["BHT", "0019", "00", control, ymd, hm, "CH"],
        ["NM1", "41", "2", _clean(submitter.name), "", "", "", "", "46", submitter.submitter_id],
        ["PER", "IC", _clean(submitter.name), "TE", submitter.phone],
        [
            "NM1",
            "40",
            "2",
            _clean(submitter.receiver_id),
            "",
            "",
            "",
            "",
            "46",
            submitter.receiver_id,
        ],
        ["HL", "1", "", "20", "1"],
        ["NM1", "85", "2", _clean(submitter.name), "", "", "", "", "XX", claim.provider_npi],
        ["N3", _clean(submitter.address)],
        ["N4", _clean(submitter.city), submitter.state, submitter.zip_code],
        ["REF", "EI", submitter.tax_id],
        ["HL", "2", "1", "22", "0"],
        [
            "SBR",
            "P",
            "18",
            "",
            "",
            "",
            "",
            "",
            "",
            _FILING_INDICATOR[claim.payer.type][claim.claim_type],
        ],
        ["NM1", "IL", "1", last, first, "", "", "", "MI", _clean(claim.patient.member_id)],
    ]
    if claim.patient.birth_date is not None:
        body.append(["DMG", "D8", claim.patient.birth_date.strftime("%Y%m%d"), "U"])
    body.append(["NM1", "PR", "2", payer_name, "", "", "", "", "PI", _clean(claim.payer.payer_id)])
    frequency = claim.frequency_code
    if institutional:
        clm05 = f"{submitter.facility_type}:A:{frequency}"
        body.append(
            [
                "CLM",
                _clean(claim.claim_id),
                _amount(claim.billed_amount),
                "",
                "",
                clm05,
                "",
                "A",
                "Y",
                "Y",
            ]
        )
        start = claim.service_date_from.strftime("%Y%m%d")
        end = claim.service_through.strftime("%Y%m%d")
        body.append(["DTP", "434", "RD8", f"{start}-{end}"])
        body.append(["CL1", "1", "1", "01"])
    else:
        clm05 = f"{submitter.place_of_service}:B:{frequency}"
        body.append(
            [
                "CLM",
                _clean(claim.claim_id),
                _amount(claim.billed_amount),
                "",
                "",
                clm05,
                "Y",
                "A",
                "Y",
                "Y",
            ]
        )
    if frequency in ("7", "8"):  # the payer's number of the claim replaced or voided
        body.append(["REF", "F8", _clean(claim.payer_claim_control_number)])
    principal, other = ("ABK", "ABF")
    if institutional:
        body.append(["HI", f"{principal}:{diagnosis_codes[0]}"])
        if diagnosis_codes[1:]:
            body.append(["HI", *(f"{other}:{code}" for code in diagnosis_codes[1:])])
    else:
        body.append(
            [
                "HI",
                f"{principal}:{diagnosis_codes[0]}",
                *(f"{other}:{c}" for c in diagnosis_codes[1:]),
            ]
        )
    # Unset pointers: the line is for the first four diagnoses (the most SV107 holds).
    all_four = [str(n) for n in range(1, min(len(diagnosis_codes), 4) + 1)]
    for number, line in enumerate(claim.service_lines, start=1):
        pointers = ":".join(str(p) for p in line.diagnosis_pointers) or ":".join(all_four)
        body.append(["LX", str(number)])
        procedure = ":".join(["HC", line.procedure_code, *line.modifiers])
        units = _amount(line.units)
        if institutional:
            body.append(
                [
                    "SV2",
                    revenue_codes.get(line.line_number) or line.revenue_code,
                    procedure,
                    _amount(line.billed_amount),
                    "UN",
                    units,
                ]
            )
        else:
            body.append(
                ["SV1", procedure, _amount(line.billed_amount), "UN", units, "", "", pointers]
            )
        served = line.service_date or claim.service_date_from
        body.append(["DTP", "472", "D8", served.strftime("%Y%m%d")])
    body.append(["SE", str(len(body) + 1), "0001"])
    usage = "P" if submitter.production else "T"
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        submitter.submitter_id.ljust(15),
        "ZZ",
        submitter.receiver_id.ljust(15),
        created_at.strftime("%y%m%d"),
        hm,
        "^",
        "00501",
        control,
        "0",
        usage,
        ":",
    ]
    segments = [
        isa,
        [
            "GS",
            "HC",
            submitter.submitter_id,
            submitter.receiver_id,
            ymd,
            hm,
            str(control_number),
            "X",
            version,
        ],
        *body,
        ["GE", "1", str(control_number)],
        ["IEA", "1", control],
    ]
    return "".join("*".join(segment) + "~\n" for segment in segments)


def read_837(text: str) -> ClaimFile:
    """The claim in an 837 written by `write_837` (or any one-claim 837 of the same shape)."""
    segments = tokenize(text).segments
    component = ":"

    def first(segment_id: str, qualifier: str | None = None) -> Segment:
        for segment in segments:
            if segment.id == segment_id and (qualifier is None or segment.get(1) == qualifier):
                return segment
        raise ValueError(f"the 837 has no {segment_id}{'*' + qualifier if qualifier else ''}")

    clm = first("CLM")
    diagnoses = [
        element.split(component)[1]
        for segment in segments
        if segment.id == "HI"
        for element in segment.elements[1:]
        if element
    ]
    lines: list[ClaimFileLine] = []
    for index, segment in enumerate(segments):
        if segment.id not in ("SV1", "SV2"):
            continue
        institutional = segment.id == "SV2"
        procedure = segment.get(2 if institutional else 1).split(component)
        amount, units = (
            (segment.get(3), segment.get(5)) if institutional else (segment.get(2), segment.get(4))
        )
        following = segments[index + 1] if index + 1 < len(segments) else None
        served = (
            datetime.strptime(following.get(3), "%Y%m%d").date()
            if following is not None and following.id == "DTP" and following.get(1) == "472"
            else None
        )
        lines.append(
            ClaimFileLine(
                procedure_code=procedure[1],
                modifiers=procedure[2:],
                billed_amount=Decimal(amount),
                units=Decimal(units),
                service_date=served,
                revenue_code=segment.get(1) if institutional else "",
                diagnosis_pointers=[]
                if institutional
                else [int(p) for p in segment.get(7).split(component) if p.isdigit()],
            )
        )
    return ClaimFile(
        version=first("ST").get(3),
        claim_id=clm.get(1),
        billed_amount=Decimal(clm.get(2)),
        frequency_code=clm.get(5).split(component)[2],
        payer_claim_control_number=next(
            (s.get(2) for s in segments if s.id == "REF" and s.get(1) == "F8"), ""
        ),
        payer_id=first("NM1", "PR").get(9),
        provider_npi=first("NM1", "85").get(9),
        member_id=first("NM1", "IL").get(9),
        diagnosis_codes=diagnoses,
        lines=lines,
    )
