"""837P (005010X222A1) and 837I (005010X223A2) files of many claims, read into the claims a
pre-submission check looks at (`ClaimUnderCheck`), one claim at a time.

Claims are yielded as each CLM loop closes, from segments read one at a time, so a 10,000-claim
file never holds more than one claim's segments. Errors name the segment, its element and the
line of the file, and the claim by its position (never its patient control number, which is
PHI-adjacent and may end up in a log)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.claim_checks.findings import ClaimUnderCheck, LineUnderCheck
from edi.problems import X12Error
from edi.tokenizer import Segment, decode, stream

KINDS = {"005010X222A1": "professional", "005010X223A2": "institutional"}
# HI qualifiers that carry diagnoses (ICD-10, then ICD-9): principal, admitting, other, reason
# for visit, external cause. Other HI rows of an 837I (value, occurrence, condition codes,
# procedures) are not diagnoses.
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABJ", "ABF", "APR", "ABN", "BK", "BJ", "BF", "PR", "BN"})


def _ccyymmdd(value: str) -> date:
    """A CCYYMMDD date (ValueError if not one): a tenth of strptime's cost, on every line."""
    if len(value) != 8 or not value.isdigit():
        raise ValueError(value)
    return date(int(value[:4]), int(value[4:6]), int(value[6:]))


class Claims837Error(ValueError):
    """An 837 that cannot be read, naming the segment, element and line at fault."""


@dataclass
class _Line:
    number: int
    segment: Segment
    service_date: date | None = None
    rendering_npi: str = ""


@dataclass
class _Claim:
    ordinal: int
    clm: Segment
    kind: str
    billing_npi: str
    payer_id: str
    payer_name: str
    filing_indicator: str
    original_reference: str = ""
    prior_authorization: str = ""
    rendering_npi: str = ""
    diagnoses: list[str] = field(default_factory=list)
    statement: tuple[date, date] | None = None
    claim_dates: tuple[date, date] | None = None
    lines: list[_Line] = field(default_factory=list)
    in_other_payer: bool = False  # inside 2320/2330 (other subscriber, other payer)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.delimiters, _, self.segments = stream(text)
        self.component = self.delimiters.component
        self.kind: str | None = None
        self.billing_npi = ""
        self.payer_id = self.payer_name = self.filing_indicator = ""
        self.claim: _Claim | None = None
        self.count = 0

    def fail(self, segment: Segment, element: int | None, message: str) -> Claims837Error:
        line = self.text.count("\n", 0, segment.offset) + 1
        where = segment.id + (f"{element:02d}" if element is not None else "")
        return Claims837Error(f"segment {segment.number} ({where}), line {line}: {message}")

    def claims(self) -> Iterator[ClaimUnderCheck]:
        for segment in self.segments:
            done = self.segment(segment)
            if done is not None:
                yield done
        if self.claim is not None:
            raise self.fail(self.claim.clm, None, f"{self._name()} is not closed by an SE")
        if self.count == 0:
            raise Claims837Error("the file holds no claim (no CLM segment in an 837 ST loop)")

    def _name(self) -> str:
        assert self.claim is not None
        return f"claim {self.claim.ordinal} of the file"

    def segment(self, segment: Segment) -> ClaimUnderCheck | None:
        sid = segment.id
        if sid in ("ISA", "GS", "GE", "IEA"):
            return None
        if sid == "ST":
            if segment.get(1) != "837":
                raise self.fail(segment, 1, f"a {segment.get(1) or '?'} is not an 837 claim file")
            self.kind = KINDS.get(segment.get(3))
            if self.kind is None:
                raise self.fail(
                    segment,
                    3,
                    f"version {segment.get(3) or '(none)'} is neither 005010X222A1 (837P) "
                    "nor 005010X223A2 (837I)",
                )
            return None
        if self.kind is None:
            raise self.fail(segment, None, "the segment comes before the ST that opens an 837")
        if sid == "SE":
            done = self._close()
            self.kind = None
            return done
        if sid == "HL":
            done = self._close()
            level = segment.get(3)
            if level == "20":
                self.billing_npi = ""
            elif level == "22":
                self.payer_id = self.payer_name = self.filing_indicator = ""
            return done
        if sid == "CLM":
            done = self._close()
            self._open(segment)
            return done
        if self.claim is None:
            self._provider_or_subscriber(segment)
        else:
            self._in_claim(self.claim, segment)
        return None

    def _provider_or_subscriber(self, segment: Segment) -> None:
        sid, qualifier = segment.id, segment.get(1)
        if sid == "NM1" and qualifier == "85":
            self.billing_npi = segment.get(9)
        elif sid == "SBR":
            self.filing_indicator = segment.get(9)
        elif sid == "NM1" and qualifier == "PR":
            self.payer_name, self.payer_id = segment.get(3), segment.get(9)

    def _open(self, clm: Segment) -> None:
        assert self.kind is not None
        self.count += 1
        self.claim = _Claim(
            ordinal=self.count,
            clm=clm,
            kind=self.kind,
            billing_npi=self.billing_npi,
            payer_id=self.payer_id,
            payer_name=self.payer_name,
            filing_indicator=self.filing_indicator,
        )
        if not clm.get(1):
            raise self.fail(clm, 1, f"{self._name()} has no patient control number")
        if not self.payer_id:
            raise self.fail(clm, None, f"{self._name()} has no payer (NM1*PR in loop 2010BB)")

    def _in_claim(self, claim: _Claim, segment: Segment) -> None:
        sid, qualifier = segment.id, segment.get(1)
        line = claim.lines[-1] if claim.lines else None
        if sid == "LX":
            claim.in_other_payer = False
            claim.lines.append(_Line(number=len(claim.lines) + 1, segment=segment))
        elif sid in ("SV1", "SV2"):
            if line is None or line.segment.id != "LX":
                if line is None:
                    raise self.fail(
                        segment, None, f"a service line of {self._name()} has no LX before it"
                    )
                raise self.fail(
                    segment, None, f"service line {line.number} has two service segments"
                )
            line.segment = segment
        elif claim.in_other_payer:
            return  # 2320/2330: another payer's data, not this claim's
        elif sid == "SBR":
            claim.in_other_payer = True
        elif sid == "REF" and line is None and qualifier in ("G1", "F8"):
            if qualifier == "G1":
                claim.prior_authorization = segment.get(2)
            else:
                claim.original_reference = segment.get(2)
        elif sid == "HI":
            for index, element in enumerate(segment.elements[1:], start=1):
                parts = element.split(self.component)
                if parts[0] in _DIAGNOSIS_QUALIFIERS and len(parts) > 1 and parts[1]:
                    claim.diagnoses.append(parts[1])
                elif parts[0] in _DIAGNOSIS_QUALIFIERS:
                    raise self.fail(segment, index, f"a diagnosis of {self._name()} has no code")
        elif sid == "DTP" and qualifier in ("472", "434"):
            span = self._dates(segment)
            if line is not None:
                line.service_date = span[0]
            elif qualifier == "434":
                claim.statement = span
            else:
                claim.claim_dates = span
        elif sid == "NM1" and qualifier == "82":
            if line is not None:
                line.rendering_npi = segment.get(9)
            else:
                claim.rendering_npi = segment.get(9)

    def _dates(self, segment: Segment) -> tuple[date, date]:
        form, value = segment.get(2), segment.get(3)
        try:
            if form == "D8":
                day = _ccyymmdd(value)
                return day, day
            if form == "RD8":
                start, end = value.split("-")
                return _ccyymmdd(start), _ccyymmdd(end)
        except ValueError:
            pass
        raise self.fail(
            segment,
            3,
            f"date '{value}' is not a {form or 'D8'} date (CCYYMMDD or CCYYMMDD-CCYYMMDD)",
        )

    def _amount(self, segment: Segment, element: int, what: str) -> Decimal:
        value = segment.get(element)
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise self.fail(
                segment, element, f"{what} '{value}' of {self._name()} is not an amount"
            )
        return amount

    def _close(self) -> ClaimUnderCheck | None:
        claim, self.claim = self.claim, None
        if claim is None:
            return None
        self.claim = claim  # errors below name it
        clm = claim.clm
        composite = clm.get(5).split(self.component)
        if len(composite) < 3 or not composite[0] or not composite[2]:
            raise self.fail(
                clm,
                5,
                f"{self._name()}: CLM05 '{clm.get(5)}' must give the place of service (or "
                "facility type), its qualifier and the frequency code, e.g. 11:B:1",
            )
        total = self._amount(clm, 2, "the total charge")
        if not claim.lines:
            raise self.fail(clm, None, f"{self._name()} has no service line (LX with SV1/SV2)")
        lines = tuple(self._line(claim, line, composite[0]) for line in claim.lines)
        dates = [line.service_date for line in lines if line.service_date is not None]
        span = claim.statement or claim.claim_dates
        self.claim = None
        return ClaimUnderCheck(
            claim_id=clm.get(1),
            kind=claim.kind,
            payer_id=claim.payer_id,
            payer_name=claim.payer_name,
            filing_indicator=claim.filing_indicator,
            billing_npi=claim.billing_npi,
            rendering_npi=claim.rendering_npi,
            place_of_service=composite[0],
            frequency_code=composite[2],
            original_reference=claim.original_reference,
            prior_authorization=claim.prior_authorization,
            diagnosis_codes=tuple(claim.diagnoses),
            total_charge=total,
            service_date_from=span[0] if span else min(dates, default=None),
            service_date_to=span[1] if span else max(dates, default=None),
            lines=lines,
        )

    def _line(self, claim: _Claim, line: _Line, place: str) -> LineUnderCheck:
        segment = line.segment
        if segment.id == "LX":
            raise self.fail(
                segment, None, f"service line {line.number} of {self._name()} has no SV1/SV2"
            )
        institutional = segment.id == "SV2"
        at = 2 if institutional else 1
        procedure = segment.get(at).split(self.component)
        if institutional and not segment.get(1):
            raise self.fail(
                segment, 1, f"service line {line.number} of {self._name()} has no revenue code"
            )
        if not institutional and (len(procedure) < 2 or not procedure[1]):
            raise self.fail(
                segment, 1, f"service line {line.number} of {self._name()} has no procedure code"
            )
        charge = self._amount(
            segment, 3 if institutional else 2, f"service line {line.number}'s charge"
        )
        units_at = 5 if institutional else 4
        units = (
            self._amount(segment, units_at, f"service line {line.number}'s units")
            if segment.get(units_at)
            else Decimal(1)
        )
        if institutional:
            diagnoses = tuple(claim.diagnoses)  # an 837I line points at no diagnosis
        else:
            diagnoses = self._pointed(claim, line, segment)
            place = segment.get(5) or place
        return LineUnderCheck(
            line_number=line.number,
            procedure_code=procedure[1] if len(procedure) > 1 else "",
            modifiers=tuple(m for m in procedure[2:6] if m),
            units=units,
            charge=charge,
            service_date=line.service_date,
            revenue_code=segment.get(1) if institutional else "",
            place_of_service=place,
            diagnosis_codes=diagnoses,
            rendering_npi=line.rendering_npi or claim.rendering_npi,
        )

    def _pointed(self, claim: _Claim, line: _Line, segment: Segment) -> tuple[str, ...]:
        codes = []
        for pointer in segment.get(7).split(self.component):
            if not pointer:
                continue
            if not pointer.isdigit() or not 1 <= int(pointer) <= len(claim.diagnoses):
                raise self.fail(
                    segment,
                    7,
                    f"service line {line.number} of {self._name()} points at diagnosis {pointer}, "
                    f"but the claim lists {len(claim.diagnoses)} (HI)",
                )
            codes.append(claim.diagnoses[int(pointer) - 1])
        return tuple(codes)


def read_claims(text: str) -> Iterator[ClaimUnderCheck]:
    """Each claim of an 837P/837I text, in file order, as its CLM loop closes.

    Raises Claims837Error (segment, element, line) at the first thing that cannot be read;
    claims before it have been yielded already."""
    if not text.strip():
        raise Claims837Error("the file is empty")
    try:
        reader = _Reader(text)
    except X12Error as exc:
        raise Claims837Error(str(exc)) from exc
    return reader.claims()


def read_claims_file(raw: bytes) -> Iterator[ClaimUnderCheck]:
    """`read_claims` of a file's bytes (UTF-8 with or without BOM, else Latin-1)."""
    return read_claims(decode(raw))
