"""Case ids: deterministic per denial, distinct per payer/claim/sequence/kind, free of PHI."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.identity import case_id_for, denial_sequence
from domain.models import DenialKind, DenialRecord, Patient, Payer, PayerType
from testkit.records import make_record

TODAY = date(2025, 6, 2)
CASE_ID = re.compile(r"^case-[0-9a-f]{24}$")


def record(
    *,
    number: str = "0001234",
    kind: DenialKind = DenialKind.DENIAL,
    payer_id: str = "87726",
    sequence: int = 1,
    patient: Patient | None = None,
) -> DenialRecord:
    base = make_record(
        TODAY,
        kind=kind,
        number=number,
        payer=Payer(payer_id=payer_id, name="Payer", type=PayerType.COMMERCIAL),
    )
    claim = base.claim
    if patient is not None:
        claim = claim.model_copy(update={"patient": patient})
    return base.model_copy(update={"claim": claim, "sequence": sequence})


def test_case_id_is_deterministic_and_well_formed() -> None:
    """The same denial always maps to the same id of the form case-<24 hex>."""
    first, second = case_id_for(record()), case_id_for(record())
    assert first == second
    assert CASE_ID.fullmatch(first)
    assert CASE_ID.fullmatch(case_id_for(record(kind=DenialKind.REJECTION)))


@pytest.mark.parametrize(
    "changed",
    [
        {"payer_id": "60054"},
        {"number": "0001235"},
        {"sequence": 2},
        {"kind": DenialKind.REJECTION},
    ],
    ids=["payer", "claim-number", "sequence", "kind"],
)
def test_case_id_differs_by_payer_claim_sequence_and_kind(changed: dict[str, object]) -> None:
    """Changing the payer, the claim number, the sequence or the kind gives another case."""
    assert case_id_for(record(**changed)) != case_id_for(record())  # type: ignore[arg-type]


def test_rejection_case_id_differs_by_provider_claim_number() -> None:
    """Rejections have no payer claim number: the provider's claim id identifies them."""
    one = record(kind=DenialKind.REJECTION, number="0000001")
    two = record(kind=DenialKind.REJECTION, number="0000002")
    assert one.claim.payer_claim_control_number == two.claim.payer_claim_control_number == ""
    assert case_id_for(one) != case_id_for(two)


def test_denial_without_payer_claim_number_uses_provider_claim_number() -> None:
    """A denial whose 835 lacks CLP07 is still identified by its claim id (CLP01)."""
    base = record()
    no_icn = base.model_copy(
        update={"claim": base.claim.model_copy(update={"payer_claim_control_number": ""})}
    )
    other = no_icn.model_copy(
        update={"claim": no_icn.claim.model_copy(update={"claim_id": "PCN9999999"})}
    )
    assert CASE_ID.fullmatch(case_id_for(no_icn))
    assert case_id_for(no_icn) != case_id_for(base)
    assert case_id_for(no_icn) != case_id_for(other)


def test_reversals_of_one_claim_under_two_payer_claim_numbers_are_two_cases() -> None:
    """A reversal is identified by the payer claim number it reverses (as a denial is), so two
    reversals of the same provider claim are not one case."""
    one = record(kind=DenialKind.REVERSAL)
    two = one.model_copy(
        update={"claim": one.claim.model_copy(update={"payer_claim_control_number": "ICN4B"})}
    )
    assert one.claim.claim_id == two.claim.claim_id
    assert case_id_for(one) != case_id_for(two)


@pytest.mark.parametrize("kind", [DenialKind.RECOUPMENT, DenialKind.REVERSAL])
def test_money_taken_back_on_another_remittance_is_another_case(kind: DenialKind) -> None:
    """An installment of a recoupment (same reference, later remittance) has an id of its own
    even at the same sequence (the read model may not show the earlier one yet); the same
    remittance re-sent keeps its id."""
    first = record(kind=kind)
    later = first.model_copy(
        update={"claim": first.claim.model_copy(update={"remittance_date": date(2025, 6, 9)})}
    )
    assert case_id_for(first) == case_id_for(first.model_copy())
    assert case_id_for(first) != case_id_for(later)


EARLIER = date(2025, 5, 26)


@pytest.mark.parametrize(
    ("kind", "existing", "remittance_date", "sequence"),
    [
        (DenialKind.DENIAL, [], TODAY, 1),
        # An open case covers the claim; a closed one remitted the same day is the same denial.
        (DenialKind.DENIAL, [(1, True, EARLIER)], TODAY, None),
        (DenialKind.DENIAL, [(1, False, TODAY)], TODAY, None),
        (DenialKind.DENIAL, [(1, False, EARLIER)], TODAY, 2),
        (DenialKind.REJECTION, [(1, True, EARLIER)], TODAY, None),
        # Money taken back on another remittance is an event of its own, open case or not.
        (DenialKind.RECOUPMENT, [(1, True, EARLIER)], TODAY, 2),
        (DenialKind.REVERSAL, [(1, True, EARLIER), (2, False, date(2025, 5, 30))], TODAY, 3),
        (DenialKind.RECOUPMENT, [(1, True, TODAY)], TODAY, None),
    ],
)
def test_denial_sequence(
    kind: DenialKind,
    existing: list[tuple[int, bool, date | None]],
    remittance_date: date,
    sequence: int | None,
) -> None:
    assert denial_sequence(existing, remittance_date, kind) == sequence


def test_case_id_does_not_depend_on_patient_details() -> None:
    """Patient name, member id and birth date do not enter the id."""
    someone_else = Patient(name="OTHER PERSON", member_id="XYZ999", birth_date=date(1990, 5, 6))
    assert case_id_for(record(patient=someone_else)) == case_id_for(record())


@pytest.mark.parametrize("kind", list(DenialKind))
def test_case_id_contains_no_phi(kind: DenialKind) -> None:
    """Neither claim number nor patient name / member id / birth date appears in the id."""
    patient = Patient(name="Abc Def", member_id="123abc", birth_date=date(1950, 1, 2))
    rec = record(kind=kind, number="1234567", patient=patient)
    case_id = case_id_for(rec).lower()
    claim = rec.claim
    sensitive = [
        claim.claim_id,
        claim.payer_claim_control_number,
        patient.name,
        patient.member_id,
        "1950-01-02",
    ]
    for value in filter(None, sensitive):
        assert value.lower() not in case_id.removeprefix("case-"), value
