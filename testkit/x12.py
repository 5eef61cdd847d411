"""Synthetic X12 files (835, 277CA, 999) as bytes, for parser tests and benchmarks.

Content is described by small dataclasses (`Remittance835` with `Claim835` / `Line835` / `Plb`,
`ClaimAck277` with `Claim277`, `FunctionalAck999` with `SetResponse999` / `SegmentError999`);
`build_file` wraps them in an envelope and writes them with the chosen delimiters and layout::

    from testkit.x12 import Claim835, Layout, Line835, Remittance835, build_file

    raw = build_file(
        [Remittance835(claims=[Claim835("PCN1", lines=[Line835(billed="100", paid="80")])])],
        layout=Layout(element="|", component=">", newline="\\r\\n"),
    )

What `build_file` can vary:

- delimiters and layout (`Layout`): element, component, repetition separators, segment
  terminator, what follows each terminator (nothing, LF, CR LF), indentation before each
  segment, fixed-width or collapsed ISA padding, a UTF-8 byte order mark;
- the envelope: full ISA / GS / ST..SE / GE / IEA with correct counts and control numbers, or
  none (the file starts at ST); several transaction sets per group, several interchanges
  (`interchanges=`), one GS per functional id and version inside each interchange;
- the version: each content object carries its own (835: 005010X221A1 or 004010X091A1).

Amounts are `Decimal`, `int` or `str` (a string is written as given, so `"abc"` makes an invalid
amount); dates are `date` or `str` (written as given, for invalid dates). Counts in the trailers
are always right: tests that need a broken file edit the bytes afterwards.

Built for volume: segments are rendered once into strings, so a 50,000-claim 835
(`random_remittance(50_000)`) takes a second or two.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

Amount = Decimal | int | str
When = date | str
Cas = tuple[str, str, Amount]  # (group code, CARC, amount): one adjustment

V5010_835 = "005010X221A1"
V4010_835 = "004010X091A1"
V5010_277CA = "005010X214"
V5010_999 = "005010X231A1"

DEFAULT_DATE = date(2024, 3, 1)
DEFAULT_SERVICE_DATE = date(2024, 1, 15)


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Delimiters and how segments are laid out in the file."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"  # ISA11 in 5010; 4010 files write "U" there instead
    segment: str = "~"
    newline: str = "\n"  # written after each segment terminator: "", "\n" or "\r\n"
    indent: str = ""  # written before every segment but the first
    pad_isa: bool = True  # fixed-width ISA (106 characters) or padding collapsed
    bom: bool = False  # start with a UTF-8 byte order mark


STANDARD = Layout()
ONE_LINE = Layout(newline="")


@dataclass(frozen=True)
class Envelope:
    """What the ISA / GS carry. Control numbers count up from `first_control_number`: one per
    interchange (ISA13 / IEA02), one per group (GS06 / GE02); ST02 counts from 1 in a group."""

    sender_id: str = "SENDER"
    receiver_id: str = "RECEIVER"
    created: date = DEFAULT_DATE
    time: str = "1200"
    first_control_number: int = 1
    usage: str = "P"  # ISA15: P production, T test


DEFAULT_ENVELOPE = Envelope()


class _Writer:
    """Renders segments with the layout's separators; trailing empty elements are dropped."""

    __slots__ = ("component", "element", "out")

    def __init__(self, layout: Layout) -> None:
        self.element = layout.element
        self.component = layout.component
        self.out: list[str] = []

    def seg(self, *elements: str) -> None:
        count = len(elements)
        while count > 1 and not elements[count - 1]:
            count -= 1
        self.out.append(self.element.join(elements[:count]))

    def comp(self, *parts: str) -> str:
        count = len(parts)
        while count > 1 and not parts[count - 1]:
            count -= 1
        return self.component.join(parts[:count])


class Content(Protocol):
    """A transaction set's content: what `build_file` needs to envelope and write it."""

    @property
    def transaction_id(self) -> str: ...  # ST01

    @property
    def functional_id(self) -> str: ...  # GS01

    @property
    def version(self) -> str: ...  # GS08 / ST03

    def write(self, w: _Writer) -> None: ...  # the segments between ST and SE


# --- values -----------------------------------------------------------------------------------


def amount(value: Amount) -> str:
    """An X12 amount: Decimal / int as plain digits, a string as given."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def ccyymmdd(value: When | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _decimal(value: Amount) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _sum(values: Iterable[Amount]) -> Decimal:
    return sum((_decimal(v) for v in values), Decimal(0))


def _write_cas(w: _Writer, adjustments: Sequence[Cas], merge: bool) -> None:
    """One CAS per adjustment, or (merge) consecutive adjustments of one group in one CAS of up
    to six reason / amount / quantity triplets, as payers write them."""
    if not merge:
        for group, carc, value in adjustments:
            w.seg("CAS", group, carc, amount(value))
        return
    index = 0
    while index < len(adjustments):
        group = adjustments[index][0]
        elements = ["CAS", group]
        reasons = 0
        while index < len(adjustments) and adjustments[index][0] == group and reasons < 6:
            _, carc, value = adjustments[index]
            if reasons:
                elements.append("")  # the previous triplet's quantity
            elements += [carc, amount(value)]
            index += 1
            reasons += 1
        w.seg(*elements)


# --- 835 --------------------------------------------------------------------------------------


@dataclass
class Line835:
    """One SVC loop (2110)."""

    procedure: str = "99213"
    billed: Amount = "100"
    paid: Amount = "100"
    cas: Sequence[Cas] = ()
    remarks: Sequence[str] = ()  # LQ*HE remark codes (RARCs)
    service_date: When | None = DEFAULT_SERVICE_DATE  # DTM*472
    modifiers: Sequence[str] = ()
    units: str = "1"
    qualifier: str = "HC"  # SVC01-1: HC procedure, NU revenue code
    control_number: str = ""  # REF*6R


@dataclass
class Claim835:
    """One CLP loop (2100). `billed` / `paid` default to the sum of the lines (0 without lines);
    the patient responsibility (CLP05) to the sum of the PR adjustments."""

    claim_id: str  # CLP01
    status: str = "1"  # CLP02
    billed: Amount | None = None  # CLP03
    paid: Amount | None = None  # CLP04
    patient_responsibility: Amount | None = None  # CLP05
    filing_indicator: str = "12"  # CLP06
    icn: str | None = None  # CLP07; default "ICN" + claim id
    facility_code: str = "11"  # CLP08
    frequency: str = "1"  # CLP09
    cas: Sequence[Cas] = ()  # claim-level adjustments
    lines: Sequence[Line835] = ()
    original_reference: str | None = None  # REF*F8
    moa_remarks: Sequence[str] = ()  # MOA03..MOA07
    service_from: When | None = None  # DTM*232
    service_to: When | None = None  # DTM*233
    patient_last: str = "DOE"
    patient_first: str = "JANE"
    member_id: str = "MEMBER01"

    def billed_amount(self) -> Amount:
        return self.billed if self.billed is not None else _sum(x.billed for x in self.lines)

    def paid_amount(self) -> Amount:
        return self.paid if self.paid is not None else _sum(x.paid for x in self.lines)

    def patient_amount(self) -> Amount | None:
        if self.patient_responsibility is not None:
            return self.patient_responsibility
        shares = [v for line in self.lines for g, _, v in line.cas if g == "PR"]
        shares += [v for g, _, v in self.cas if g == "PR"]
        return _sum(shares) if shares else None


@dataclass
class Plb:
    """One provider-level adjustment segment's worth: (reason, reference, amount) pairs; a
    positive amount takes money back. More than six pairs are split over several PLB."""

    adjustments: Sequence[tuple[str, str, Amount]]
    provider_id: str = "1234567893"
    fiscal_date: When = date(2024, 12, 31)


@dataclass
class Remittance835:
    """One 835 transaction set."""

    claims: Sequence[Claim835] = ()
    plb: Sequence[Plb] = ()
    payer_name: str = "SYNTHETIC HEALTH PLAN"
    payer_id: str | None = "SHP01"  # REF*2U
    payee_name: str = "SYNTHETIC CLINIC"
    payee_npi: str = "1234567893"
    payment_date: When | None = DEFAULT_DATE  # BPR16
    production_date: When | None = DEFAULT_DATE  # DTM*405
    trace_number: str = "TRACE0001"  # TRN02
    total_paid: Amount | None = None  # BPR02; default: claims paid less PLB
    merge_cas: bool = True
    version: str = V5010_835
    transaction_id: str = "835"
    functional_id: str = "HP"

    def write(self, w: _Writer) -> None:
        seg = w.seg
        total = self.total_paid
        if total is None:
            plb = _sum(value for p in self.plb for _, _, value in p.adjustments)
            total = _sum(c.paid_amount() for c in self.claims) - plb
        try:
            paying = _decimal(total) != 0
        except ArithmeticError:  # an invalid amount on purpose
            paying = True
        # BPR: handling, amount, credit, method; BPR16 the payment date.
        seg(
            "BPR",
            "I" if paying else "H",
            amount(total),
            "C",
            "CHK" if paying else "NON",
            *[""] * 11,
            ccyymmdd(self.payment_date),
        )
        seg("TRN", "1", self.trace_number, "1512345678")
        if self.production_date is not None:
            seg("DTM", "405", ccyymmdd(self.production_date))
        seg("N1", "PR", self.payer_name)
        seg("N3", "100 MAIN STREET")
        seg("N4", "ANYTOWN", "NY", "12345")
        if self.payer_id:
            seg("REF", "2U", self.payer_id)
        seg("PER", "BL", "EDI SUPPORT", "TE", "8005551212")
        seg("N1", "PE", self.payee_name, "XX", self.payee_npi)
        seg("LX", "1")
        for claim in self.claims:
            self._claim(w, claim)
        for plb in self.plb:
            pairs = list(plb.adjustments)
            for start in range(0, len(pairs), 6):
                elements = ["PLB", plb.provider_id, ccyymmdd(plb.fiscal_date)]
                for reason, reference, value in pairs[start : start + 6]:
                    elements += [w.comp(reason, reference), amount(value)]
                seg(*elements)

    def _claim(self, w: _Writer, claim: Claim835) -> None:
        seg = w.seg
        patient = claim.patient_amount()
        seg(
            "CLP",
            claim.claim_id,
            claim.status,
            amount(claim.billed_amount()),
            amount(claim.paid_amount()),
            "" if patient is None else amount(patient),
            claim.filing_indicator,
            "ICN" + claim.claim_id if claim.icn is None else claim.icn,
            claim.facility_code,
            claim.frequency,
        )
        if claim.cas:
            _write_cas(w, claim.cas, self.merge_cas)
        seg(
            "NM1",
            "QC",
            "1",
            claim.patient_last,
            claim.patient_first,
            "",
            "",
            "",
            "MI",
            claim.member_id,
        )
        if claim.moa_remarks:
            seg("MOA", "", "", *claim.moa_remarks)
        if claim.original_reference:
            seg("REF", "F8", claim.original_reference)
        if claim.service_from is not None:
            seg("DTM", "232", ccyymmdd(claim.service_from))
        if claim.service_to is not None:
            seg("DTM", "233", ccyymmdd(claim.service_to))
        for line in claim.lines:
            seg(
                "SVC",
                w.comp(line.qualifier, line.procedure, *line.modifiers),
                amount(line.billed),
                amount(line.paid),
                "",
                line.units,
            )
            if line.service_date is not None:
                seg("DTM", "472", ccyymmdd(line.service_date))
            if line.cas:
                _write_cas(w, line.cas, self.merge_cas)
            if line.control_number:
                seg("REF", "6R", line.control_number)
            for code in line.remarks:
                seg("LQ", "HE", code)


# --- 277CA ------------------------------------------------------------------------------------


@dataclass
class Claim277:
    """One claim of a 277CA: a patient HL with TRN*2 (claim id), STC, REF*1K, DTP*472."""

    claim_id: str  # TRN02
    category: str = "A2"  # STC01-1
    status: str = "20"  # STC01-2
    entity: str = ""  # STC01-3
    amount: Amount = "100"  # STC04
    payer_claim_number: str | None = None  # REF*1K
    service_from: When = DEFAULT_SERVICE_DATE  # DTP*472 D8, or RD8 with service_to
    service_to: When | None = None
    action: str | None = None  # STC03; default WQ when accepted, U when rejected
    more_statuses: Sequence[tuple[str, str, str]] = ()  # STC10, STC11
    patient_last: str = "DOE"
    patient_first: str = "JANE"
    member_id: str = "MEMBER01"


@dataclass
class ClaimAck277:
    """One 277CA transaction set: payer (HL 20) > receiver (21) > billing provider (19) >
    one patient HL (PT) per claim."""

    claims: Sequence[Claim277] = ()
    payer_name: str = "SYNTHETIC HEALTH PLAN"
    payer_id: str = "SHP01"
    receiver_name: str = "SYNTHETIC CLEARINGHOUSE"
    provider_name: str = "SYNTHETIC CLINIC"
    provider_npi: str = "1234567893"
    created: When = DEFAULT_DATE
    reference: str = "BATCH0001"
    version: str = V5010_277CA
    transaction_id: str = "277"
    functional_id: str = "HN"

    def _summary(self, w: _Writer, created: str, provider: bool = False) -> None:
        """STC, QTY and AMT of the receiver (2200B) and billing provider (2200C) levels:
        received, with the count and amount of claims accepted and rejected."""
        accepted = [c for c in self.claims if c.category in ("A1", "A2")]
        rejected = [c for c in self.claims if c.category not in ("A1", "A2")]
        effective = "" if provider else created  # STC02 is not used at the provider level
        w.seg("STC", w.comp("A1", "19", "PR"), effective, "WQ", amount(_total(self.claims)))
        if accepted:
            w.seg("QTY", "QA" if provider else "90", str(len(accepted)))
        if rejected:
            w.seg("QTY", "QC" if provider else "AA", str(len(rejected)))
        if accepted:
            w.seg("AMT", "YU", amount(_total(accepted)))
        if rejected:
            w.seg("AMT", "YY", amount(_total(rejected)))

    def write(self, w: _Writer) -> None:
        seg = w.seg
        created = ccyymmdd(self.created)
        seg("BHT", "0085", "08", self.reference, created, "1200", "TH")
        seg("HL", "1", "", "20", "1")
        seg("NM1", "PR", "2", self.payer_name, "", "", "", "", "PI", self.payer_id)
        seg("TRN", "1", self.reference)
        seg("DTP", "050", "D8", created)
        seg("DTP", "009", "D8", created)
        seg("HL", "2", "1", "21", "1")
        seg("NM1", "41", "2", self.receiver_name, "", "", "", "", "46", "SUBMITTER1")
        seg("TRN", "2", self.reference)
        self._summary(w, created)
        seg("HL", "3", "2", "19", "1" if self.claims else "0")
        seg("NM1", "85", "2", self.provider_name, "", "", "", "", "XX", self.provider_npi)
        seg("TRN", "1", self.reference + "P")
        self._summary(w, created, provider=True)
        for number, claim in enumerate(self.claims, start=4):
            seg("HL", str(number), "3", "PT")
            seg(
                "NM1",
                "QC",
                "1",
                claim.patient_last,
                claim.patient_first,
                "",
                "",
                "",
                "MI",
                claim.member_id,
            )
            seg("TRN", "2", claim.claim_id)
            action = claim.action or ("WQ" if claim.category in ("A1", "A2") else "U")
            more = [w.comp(*status) for status in claim.more_statuses]
            more += [""] * (2 - len(more))
            seg(
                "STC",
                w.comp(claim.category, claim.status, claim.entity),
                created,
                action,
                amount(claim.amount),
                "",
                "",
                "",
                "",
                "",
                *more,
            )
            if claim.payer_claim_number:
                seg("REF", "1K", claim.payer_claim_number)
            if claim.service_to is None:
                seg("DTP", "472", "D8", ccyymmdd(claim.service_from))
            else:
                span = f"{ccyymmdd(claim.service_from)}-{ccyymmdd(claim.service_to)}"
                seg("DTP", "472", "RD8", span)


def _total(claims: Iterable[Claim277]) -> Decimal:
    """The claims' amounts that are numbers."""
    total = Decimal(0)
    for claim in claims:
        try:
            total += _decimal(claim.amount)
        except ArithmeticError:
            continue
    return total


# --- 999 --------------------------------------------------------------------------------------


@dataclass
class ElementError999:
    """IK4: the element at fault (IK401 position, IK402 reference number, IK403 error code,
    IK404 the bad value)."""

    position: str = "2"
    reference: str = "782"
    code: str = "7"
    value: str = ""


@dataclass
class SegmentError999:
    """IK3 (segment id, position in the set, loop, error code), the claim it is in (CTX with
    CLM01), and its IK4 element errors."""

    segment_id: str = "CLM"
    position: int = 22
    loop: str = "2300"
    code: str = "8"
    claim_id: str | None = None  # CTX*CLM01:<claim id>
    elements: Sequence[ElementError999] = ()


@dataclass
class SetResponse999:
    """One AK2 loop: the response to one 837 transaction set (IK5 A, E, R...)."""

    control_number: str = "0001"
    ack: str = "A"  # IK501
    errors: Sequence[str] = ()  # IK502..IK506
    segment_errors: Sequence[SegmentError999] = ()
    transaction_id: str = "837"
    version: str = "005010X222A1"


@dataclass
class FunctionalAck999:
    """One 999 transaction set: AK1 (the 837 group answered), AK2 loops, AK9."""

    sets: Sequence[SetResponse999] = ()
    group_control_number: str = "17456"  # AK102
    group_functional_id: str = "HC"  # AK101
    group_version: str = "005010X222A1"  # AK103
    group_ack: str | None = None  # AK901; default from the sets: A, E, R or P
    group_errors: Sequence[str] = ()  # AK905..AK909
    version: str = V5010_999
    transaction_id: str = "999"
    functional_id: str = "FA"

    def write(self, w: _Writer) -> None:
        seg = w.seg
        seg("AK1", self.group_functional_id, self.group_control_number, self.group_version)
        for response in self.sets:
            seg("AK2", response.transaction_id, response.control_number, response.version)
            for error in response.segment_errors:
                seg("IK3", error.segment_id, str(error.position), error.loop, error.code)
                if error.claim_id:
                    seg("CTX", w.comp("CLM01", error.claim_id))
                for element in error.elements:
                    seg("IK4", element.position, element.reference, element.code, element.value)
            seg("IK5", response.ack, *response.errors)
        accepted = sum(1 for s in self.sets if s.ack in ("A", "E"))
        ack = self.group_ack
        if ack is None:
            if accepted == len(self.sets):
                ack = "E" if any(s.ack == "E" for s in self.sets) else "A"
            else:
                ack = "R" if accepted == 0 else "P"
        count = str(len(self.sets))
        seg("AK9", ack, count, count, str(accepted), *self.group_errors)


# --- files ------------------------------------------------------------------------------------


def _isa(layout: Layout, envelope: Envelope, version: str, control: int) -> str:
    def pad(value: str, width: int) -> str:
        return value.ljust(width) if layout.pad_isa else (value or " ")

    isa5010 = not version.startswith("004")
    created = envelope.created
    elements = [
        "ISA",
        "00",
        pad("", 10),
        "00",
        pad("", 10),
        "ZZ",
        pad(envelope.sender_id, 15),
        "ZZ",
        pad(envelope.receiver_id, 15),
        f"{created.year % 100:02d}{created.month:02d}{created.day:02d}",
        envelope.time,
        layout.repetition if isa5010 else "U",
        "00501" if isa5010 else "00401",
        f"{control:09d}",
        "0",
        envelope.usage,
        layout.component,
    ]
    return layout.element.join(elements)


def _transaction(layout: Layout, content: Content, control: str, st03: bool) -> list[str]:
    w = _Writer(layout)
    with_version = st03 and not content.version.startswith("004")
    w.seg("ST", content.transaction_id, control, content.version if with_version else "")
    content.write(w)
    w.seg("SE", str(len(w.out) + 1), control)
    return w.out


def _split(items: Sequence[Content], parts: int) -> list[Sequence[Content]]:
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def build_segments(
    contents: Sequence[Content],
    *,
    layout: Layout = STANDARD,
    envelope: Envelope | None = DEFAULT_ENVELOPE,
    interchanges: int = 1,
    st03: bool = True,
) -> list[str]:
    """The file's segments, rendered but without terminators (`build_file` joins them).

    `envelope=None` writes a headerless file (ST..SE only). With an envelope, `contents` are
    split over `interchanges` ISA ... IEA (in order), each with one GS per (functional id,
    version) it holds. `st03=False` leaves out ST03 (the version), as some payers do.
    """
    if envelope is None:
        out: list[str] = []
        for number, content in enumerate(contents, start=1):
            out += _transaction(layout, content, f"{number:04d}", st03)
        return out
    e = layout.element
    out = []
    group_control = envelope.first_control_number
    for index, chunk in enumerate(_split(contents, max(interchanges, 1))):
        control = envelope.first_control_number + index
        version = chunk[0].version if chunk else V5010_835
        out.append(_isa(layout, envelope, version, control))
        groups: dict[tuple[str, str], list[Content]] = {}
        for content in chunk:
            groups.setdefault((content.functional_id, content.version), []).append(content)
        for (functional_id, version), members in groups.items():
            created = ccyymmdd(envelope.created)
            out.append(
                e.join(
                    (
                        "GS",
                        functional_id,
                        envelope.sender_id,
                        envelope.receiver_id,
                        created,
                        envelope.time,
                        str(group_control),
                        "X",
                        version,
                    )
                )
            )
            for number, content in enumerate(members, start=1):
                out += _transaction(layout, content, f"{number:04d}", st03)
            out.append(e.join(("GE", str(len(members)), str(group_control))))
            group_control += 1
        out.append(e.join(("IEA", str(len(groups)), f"{control:09d}")))
    return out


def join_segments(segments: Sequence[str], layout: Layout = STANDARD) -> bytes:
    """Segments (rendered, no terminator) written with the layout's terminator and spacing."""
    end = layout.segment + layout.newline
    text = (end + layout.indent).join(segments) + end
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if layout.bom else data


def build_file(
    contents: Sequence[Content] | Content,
    *,
    layout: Layout = STANDARD,
    envelope: Envelope | None = DEFAULT_ENVELOPE,
    interchanges: int = 1,
    st03: bool = True,
) -> bytes:
    """A whole X12 file as bytes. See `build_segments` for the envelope options."""
    if not isinstance(contents, Sequence):
        contents = [contents]
    segments = build_segments(
        contents, layout=layout, envelope=envelope, interchanges=interchanges, st03=st03
    )
    return join_segments(segments, layout)


# --- volume -----------------------------------------------------------------------------------

_DENIAL_CARCS = ("16", "27", "50", "197", "29", "96", "18", "97", "4", "22")
_PROCEDURES = ("99213", "99214", "80053", "93000", "71046", "36415", "97110", "G0439")


def _paid_line(rng: random.Random, procedure: str, billed: int) -> Line835:
    allowed = billed * rng.choice((60, 70, 80)) // 100
    copay = rng.choice((0, 0, 10, 20))
    return Line835(
        procedure=procedure,
        billed=billed,
        paid=allowed - copay,
        cas=[("CO", "45", billed - allowed), *([("PR", "3", copay)] if copay else [])],
    )


def random_claim(rng: random.Random, number: int) -> Claim835:
    """One plausible claim: mostly paid, some denied at claim or line level, some partial,
    a few reversals; the share of each is fixed by the draw below."""
    claim_id = f"PCN{number:08d}"
    lines = []
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        lines.append(_paid_line(rng, rng.choice(_PROCEDURES), rng.randrange(50, 900, 5)))
    draw = rng.random()
    carc = rng.choice(_DENIAL_CARCS)
    if draw < 0.08:  # claim denied outright
        lines = [
            Line835(procedure=x.procedure, billed=x.billed, paid=0, cas=[("CO", carc, x.billed)])
            for x in lines
        ]
        return Claim835(claim_id, status="4", lines=lines)
    if draw < 0.14:  # one line denied inside a paid claim
        first = lines[0]
        lines[0] = Line835(
            procedure=first.procedure,
            billed=first.billed,
            paid=0,
            cas=[("CO", carc, first.billed)],
            remarks=("N14",) if carc == "16" else (),
        )
        if len(lines) == 1:
            lines.append(_paid_line(rng, "36415", 40))
        return Claim835(claim_id, lines=lines)
    if draw < 0.16:  # reversal of an earlier payment
        reversed_lines = [
            Line835(
                procedure=x.procedure,
                billed=-_decimal(x.billed),
                paid=-_decimal(x.paid),
                cas=[(g, c, -_decimal(v)) for g, c, v in x.cas],
            )
            for x in lines
        ]
        return Claim835(claim_id, status="22", lines=reversed_lines, original_reference=claim_id)
    if draw < 0.26:  # secondary payer after the primary's adjudication
        return Claim835(claim_id, status="2", lines=lines, filing_indicator="CI")
    return Claim835(claim_id, lines=lines)


def random_claims(count: int, seed: int = 0) -> list[Claim835]:
    rng = random.Random(seed)
    return [random_claim(rng, number) for number in range(1, count + 1)]


def random_remittance(count: int, seed: int = 0, **options: object) -> Remittance835:
    """An 835 of `count` random claims (deterministic for a seed)."""
    return Remittance835(claims=random_claims(count, seed), **options)  # type: ignore[arg-type]


__all__ = [
    "ONE_LINE",
    "STANDARD",
    "V4010_835",
    "V5010_277CA",
    "V5010_835",
    "V5010_999",
    "Claim277",
    "Claim835",
    "ClaimAck277",
    "ElementError999",
    "Envelope",
    "FunctionalAck999",
    "Layout",
    "Line835",
    "Plb",
    "Remittance835",
    "SegmentError999",
    "SetResponse999",
    "build_file",
    "build_segments",
    "join_segments",
    "random_claims",
    "random_remittance",
]
