"""Classification rules: CARC (+ group, RARC, CLP02) -> denial or not, category, class, path."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.categories import CategoryProfile, load_category_profiles
from domain.classification import (
    Classification,
    ClassificationFileError,
    ClassificationTable,
    DenialLevel,
    apply_payer_appeal_rights,
    classify,
)
from domain.data_files import read_data_text
from domain.models import (
    Adjustment,
    Category,
    Claim,
    DenialClass,
    DenialKind,
    Payer,
    PayerType,
    ServiceLine,
    WorkPath,
)
from domain.payer_rules import PayerRule, load_registry
from testkit.records import adj

TEST_DATA = Path(__file__).resolve().parents[1] / "data"
SHARED_CARC = TEST_DATA / "codes" / "carc.csv"
REFERENCE = TEST_DATA / "reference" / "denials-domain.md"

PAYER = Payer(payer_id="COM-TEST", name="Commercial Test", type=PayerType.COMMERCIAL)
HEADER = "carc,category,denial_class,not_denial_groups,description\n"

# The reference table "CARC to denial category", one entry per row: category, the class the
# "usual class" column names first (authorization: soft if the auth exists; duplicate: investigate,
# a correctable problem; bundling: soft or appeal), the path the category profile suggests, CARCs.
REFERENCE_ROWS: list[tuple[Category, DenialClass, WorkPath, tuple[str, ...]]] = [
    (
        Category.ELIGIBILITY,
        DenialClass.SOFT,
        WorkPath.CORRECTED_CLAIM,
        ("27", "26", "31", "32", "33", "177", "200"),
    ),
    (Category.COORDINATION_OF_BENEFITS, DenialClass.SOFT, WorkPath.CORRECTED_CLAIM, ("22", "109")),
    (Category.AUTHORIZATION, DenialClass.SOFT, WorkPath.APPEAL, ("197", "198", "15", "62", "39")),
    (
        Category.MEDICAL_NECESSITY,
        DenialClass.HARD,
        WorkPath.APPEAL,
        ("50", "167", "55", "56", "150", "151", "152"),
    ),
    (
        Category.CODING,
        DenialClass.SOFT,
        WorkPath.CORRECTED_CLAIM,
        ("4", "5", "6", "7", "8", "9", "10", "11", "181", "182", "189", "146"),
    ),
    (
        Category.MISSING_INFORMATION,
        DenialClass.SOFT,
        WorkPath.CORRECTED_CLAIM,
        ("16", "252", "226"),
    ),
    (Category.DUPLICATE, DenialClass.SOFT, WorkPath.DUPLICATE_CHECK, ("18",)),
    (Category.TIMELY_FILING, DenialClass.HARD, WorkPath.APPEAL, ("29",)),
    (Category.NON_COVERED, DenialClass.HARD, WorkPath.APPEAL, ("96", "204", "49", "35", "119")),
    (Category.BUNDLING, DenialClass.SOFT, WorkPath.APPEAL, ("97", "234", "59")),
    (Category.CAPITATION, DenialClass.HARD, WorkPath.WRITE_OFF_REVIEW, ("24",)),
]

REFERENCE_CASES = [
    pytest.param(carc, category, denial_class, path, id=f"CO-{carc}-{category.value}")
    for category, denial_class, path, carcs in REFERENCE_ROWS
    for carc in carcs
]

NOT_DENIALS = ["CO-45", "PR-1", "PR-2", "PR-3", "OA-23", "CO-42", "CO-94", "CO-A2", "CO-253"]


@pytest.fixture(scope="module")
def table() -> ClassificationTable:
    return ClassificationTable.load()


@pytest.fixture(scope="module")
def profiles() -> dict[Category, CategoryProfile]:
    return load_category_profiles()


def make_claim(
    *,
    adjustments: list[Adjustment] | None = None,
    lines: list[ServiceLine] | None = None,
    rarcs: list[str] | None = None,
    status: str = "4",
    billed: str = "100",
    paid: str = "0",
) -> Claim:
    return Claim(
        claim_id="PCN-CLASSIFY",
        claim_status=status,
        payer=PAYER,
        service_date_from=date(2025, 3, 3),
        billed_amount=Decimal(billed),
        paid_amount=Decimal(paid),
        adjustments=adjustments or [],
        service_lines=lines or [],
        rarcs=rarcs or [],
    )


def line(
    number: int, *adjustments: Adjustment, billed: str, paid: str, rarcs: list[str] | None = None
) -> ServiceLine:
    return ServiceLine(
        line_number=number,
        procedure_code="99213",
        billed_amount=Decimal(billed),
        paid_amount=Decimal(paid),
        adjustments=list(adjustments),
        rarcs=rarcs or [],
    )


def run(
    claim: Claim,
    table: ClassificationTable,
    profiles: dict[Category, CategoryProfile],
    kind: DenialKind = DenialKind.DENIAL,
) -> Classification:
    return classify(claim, kind, table, profiles)


# --- the reference category table -------------------------------------------------------------


@pytest.mark.parametrize(("carc", "category", "denial_class", "path"), REFERENCE_CASES)
def test_reference_carc_maps_to_category_and_class(
    carc: str,
    category: Category,
    denial_class: DenialClass,
    path: WorkPath,
    table: ClassificationTable,
    profiles: dict[Category, CategoryProfile],
) -> None:
    """Each CARC of the reference table is a CO denial of its category, usual class and path."""
    result = run(make_claim(adjustments=[adj(f"CO-{carc}", 100)]), table, profiles)
    assert result.is_denial is True
    assert result.category is category
    assert result.denial_class is denial_class
    assert result.suggested_path is path
    assert result.level is DenialLevel.CLAIM
    assert result.appeal_rights is True
    assert result.denied_amount == Decimal(100)
    assert result.primary_adjustment == adj(f"CO-{carc}", 100)


def test_reference_rows_listed_here_match_the_reference_document() -> None:
    """The parametrised rows above are exactly the CARCs of the reference document's table."""
    text = REFERENCE.read_text(encoding="utf-8")
    section = text.split("## CARC to denial category", 1)[1].split("\n## ", 1)[0]
    found: set[str] = set()
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("category", "---"):
            continue
        codes = re.sub(r"\([^)]*\)", "", cells[1])
        for token in re.findall(r"\d+(?:-\d+)?", codes):
            low, _, high = token.partition("-")
            found.update(str(n) for n in range(int(low), int(high or low) + 1))
    listed = {carc for *_, carcs in REFERENCE_ROWS for carc in carcs}
    assert found == listed


def test_shipped_table_covers_every_carc_exactly(table: ClassificationTable) -> None:
    """carc_categories.csv has one row per code of shared/codes/carc.csv, none missing or extra."""
    with SHARED_CARC.open(encoding="utf-8") as handle:
        official = [row["code"].strip().upper() for row in csv.DictReader(handle)]
    shipped_rows = list(csv.DictReader(io.StringIO(read_data_text("carc_categories.csv"))))
    shipped = [row["carc"].strip().upper() for row in shipped_rows]
    assert len(shipped) == len(set(shipped)), "duplicate CARC rows in carc_categories.csv"
    assert sorted(shipped) == sorted(official)
    assert set(table.carc_rules) == set(official)


# --- not-a-denial adjustments -----------------------------------------------------------------


@pytest.mark.parametrize("code", NOT_DENIALS)
def test_routine_adjustment_alone_is_not_a_denial(
    code: str, table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Fee schedule, patient share, prior payer and contractual adjustments are not denials."""
    claim = make_claim(adjustments=[adj(code, 20)], status="1", billed="100", paid="80")
    result = run(claim, table, profiles)
    assert result.is_denial is False
    assert result.denied_amount == Decimal(0)
    assert result.primary_adjustment is None
    assert result.denial_adjustments == []
    assert result.category is Category.OTHER
    assert any(r.startswith(f"{code} (") and r.endswith("is not a denial") for r in result.reasons)


def test_routine_adjustments_never_count_toward_denied_amount(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Mixed with a real denial, routine adjustments add nothing and never become primary."""
    routine = [adj(code, 60) for code in NOT_DENIALS]  # each larger than the denial
    claim = make_claim(
        adjustments=[*routine, adj("CO-50", 45)], status="1", billed="1000", paid="415"
    )
    result = run(claim, table, profiles)
    assert result.is_denial is True
    assert result.denied_amount == Decimal(45)
    assert result.denial_adjustments == [adj("CO-50", 45)]
    assert result.primary_adjustment == adj("CO-50", 45)
    assert result.category is Category.MEDICAL_NECESSITY
    assert sum(r.endswith("is not a denial") for r in result.reasons) == len(NOT_DENIALS)


def test_zero_amount_denial_carc_is_not_a_denial(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A denial CARC with no money on it denies nothing."""
    claim = make_claim(adjustments=[adj("CO-50", 0)], status="1", billed="100", paid="100")
    result = run(claim, table, profiles)
    assert result.is_denial is False
    assert result.denied_amount == Decimal(0)


# --- CLP02, levels, amounts, primary ------------------------------------------------------------


def test_clp02_denied_without_denial_carc_is_still_a_denial(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """CLP02 = 4 makes a denial of category other; denied = billed - paid."""
    claim = make_claim(adjustments=[adj("CO-45", 30)], status="4", billed="500", paid="120")
    result = run(claim, table, profiles)
    assert result.is_denial is True
    assert result.category is Category.OTHER
    assert result.denial_class is DenialClass.SOFT
    assert result.level is DenialLevel.CLAIM
    assert result.denied_amount == Decimal(380)
    assert result.primary_adjustment is None
    assert result.suggested_path is profiles[Category.OTHER].suggested_path
    assert "CLP02 = 4 (denied) without a denial reason code" in result.reasons


def test_line_level_denial_inside_a_paid_claim(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """One line paid 0 with a denial CARC in an otherwise paid claim is a line-level denial."""
    claim = make_claim(
        status="1",
        billed="300",
        paid="200",
        lines=[
            line(1, adj("CO-45", 20), billed="220", paid="200"),
            line(2, adj("CO-97", 80), billed="80", paid="0"),
        ],
    )
    result = run(claim, table, profiles)
    assert result.is_denial is True
    assert result.level is DenialLevel.LINE
    assert result.category is Category.BUNDLING
    assert result.denied_amount == Decimal(80)
    assert result.denial_adjustments == [adj("CO-97", 80)]


def test_claim_level_denial(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A denial CARC on the claim itself is claim level, even if lines carry other adjustments."""
    claim = make_claim(
        status="4",
        billed="300",
        paid="0",
        adjustments=[adj("CO-16", 300)],
        lines=[line(1, adj("CO-45", 10), billed="300", paid="0")],
    )
    result = run(claim, table, profiles)
    assert result.level is DenialLevel.CLAIM
    assert result.category is Category.MISSING_INFORMATION
    assert result.denied_amount == Decimal(300)


def test_claim_level_denial_on_a_partly_paid_claim(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Paid > 0 does not make it line level when the denial CARC sits at claim level."""
    claim = make_claim(status="1", billed="300", paid="100", adjustments=[adj("CO-197", 200)])
    result = run(claim, table, profiles)
    assert result.level is DenialLevel.CLAIM
    assert result.denied_amount == Decimal(200)


def test_partial_denial_sums_only_denial_amounts(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A partial denial counts the denied parts only (several lines summed), not billed - paid."""
    claim = make_claim(
        status="1",
        billed="1000",
        paid="500",
        lines=[
            line(1, adj("CO-45", 50), adj("CO-16", 150), billed="500", paid="300"),
            line(2, adj("PR-2", 50), adj("CO-197", 250), billed="500", paid="200"),
        ],
    )
    result = run(claim, table, profiles)
    assert result.is_denial is True
    assert result.level is DenialLevel.LINE
    assert result.denied_amount == Decimal(400)
    assert result.denial_adjustments == [adj("CO-16", 150), adj("CO-197", 250)]
    assert result.primary_adjustment == adj("CO-197", 250)
    assert result.category is Category.AUTHORIZATION


def test_primary_adjustment_is_the_largest(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """The largest denial adjustment decides the category, wherever it sits."""
    claim = make_claim(
        status="1",
        billed="400",
        adjustments=[adj("CO-16", 100)],
        lines=[line(1, adj("CO-50", 250), billed="250", paid="0")],
    )
    result = run(claim, table, profiles)
    assert result.primary_adjustment == adj("CO-50", 250)
    assert result.category is Category.MEDICAL_NECESSITY
    assert result.denial_class is DenialClass.HARD
    assert result.denied_amount == Decimal(350)


def test_claim_denied_outright_denies_all_but_the_patient_share(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """CLP02 = 4: the whole unpaid amount is denied, even where the payer coded part of it
    with a non-denial CARC (OA-A7 on a denied claim), except what the patient owes."""
    claim = make_claim(
        status="4",
        billed="1000",
        adjustments=[adj("CO-16", 500), adj("OA-A7", 300), adj("PR-1", 200)],
    )
    result = run(claim, table, profiles)
    assert result.category is Category.MISSING_INFORMATION
    assert result.denied_amount == Decimal(800)


def test_primary_adjustment_tie_prefers_claim_level(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """On equal amounts the claim-level adjustment is primary over the line-level one."""
    claim = make_claim(
        status="4",
        billed="400",
        adjustments=[adj("CO-16", 200)],
        lines=[line(1, adj("CO-50", 200), billed="200", paid="0")],
    )
    result = run(claim, table, profiles)
    assert result.primary_adjustment == adj("CO-16", 200)
    assert result.category is Category.MISSING_INFORMATION


# --- RARCs, patient responsibility, rejections, unknown codes ------------------------------------


@pytest.mark.parametrize(("rarc", "on_line"), [("MA130", False), ("N211", True), (" ma130 ", True)])
def test_no_appeal_rights_rarc(
    rarc: str,
    on_line: bool,
    table: ClassificationTable,
    profiles: dict[Category, CategoryProfile],
) -> None:
    """MA130 / N211 (claim or line, any case) remove appeal rights: soft, corrected claim."""
    claim_rarcs = [] if on_line else [rarc]
    line_rarcs = [rarc] if on_line else []
    claim = make_claim(
        status="4",
        billed="200",
        rarcs=claim_rarcs,
        lines=[line(1, adj("CO-50", 200), billed="200", paid="0", rarcs=line_rarcs)],
    )
    result = run(claim, table, profiles)
    assert result.is_denial is True
    assert result.category is Category.MEDICAL_NECESSITY
    assert result.appeal_rights is False
    assert result.denial_class is DenialClass.SOFT
    assert result.suggested_path is WorkPath.CORRECTED_CLAIM
    code = rarc.strip().upper()
    assert f"RARC {code}: no appeal rights, correct and resubmit" in result.reasons


def test_other_rarc_keeps_appeal_rights(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A remark code without a rule (N14) changes nothing."""
    claim = make_claim(adjustments=[adj("CO-50", 100)], rarcs=["N14"])
    result = run(claim, table, profiles)
    assert result.appeal_rights is True
    assert result.denial_class is DenialClass.HARD
    assert result.suggested_path is WorkPath.APPEAL


def payer_rule(payer_type: PayerType) -> PayerRule:
    return load_registry().rule_for("ANY", payer_type, date(2025, 6, 1))


def test_medicare_timely_filing_denial_has_no_appeal_rights(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Medicare FFS CO-29 (42 CFR 424.44: late claims cannot be appealed): no appeal rights,
    write-off review, and the reason cites the rule."""
    claim = make_claim(adjustments=[adj("CO-29", 100)])
    result = apply_payer_appeal_rights(run(claim, table, profiles), payer_rule(PayerType.MEDICARE))
    assert result.category is Category.TIMELY_FILING
    assert result.denial_class is DenialClass.HARD
    assert result.appeal_rights is False
    assert result.suggested_path is WorkPath.WRITE_OFF_REVIEW
    assert result.no_appeal_reason == result.reasons[-1]
    assert result.no_appeal_reason.startswith(
        "CO-29: no appeal rights under payer rule medicare-ffs"
    )
    assert "42 CFR 424.44" in result.no_appeal_reason


@pytest.mark.parametrize(
    "payer_type", [PayerType.COMMERCIAL, PayerType.MEDICARE_ADVANTAGE, PayerType.MEDICAID]
)
def test_timely_filing_denial_keeps_appeal_rights_for_other_payer_types(
    payer_type: PayerType, table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Commercial CO-29 is hard but overturnable with proof of timely submission: appeal."""
    claim = make_claim(adjustments=[adj("CO-29", 100)])
    classified = run(claim, table, profiles)
    assert apply_payer_appeal_rights(classified, payer_rule(payer_type)) == classified
    assert (classified.appeal_rights, classified.suggested_path) == (True, WorkPath.APPEAL)
    assert classified.no_appeal_reason == ""


def test_medicare_withholds_appeal_rights_only_for_the_deciding_carc(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A larger CO-50 decides the case: a smaller CO-29 line beside it leaves it appealable."""
    claim = make_claim(
        lines=[
            line(1, adj("CO-50", 400), billed="400", paid="0"),
            line(2, adj("CO-29", 100), billed="100", paid="0"),
        ],
        billed="500",
    )
    classified = run(claim, table, profiles)
    assert apply_payer_appeal_rights(classified, payer_rule(PayerType.MEDICARE)) == classified
    assert classified.appeal_rights is True


def test_a_no_appeal_rarc_keeps_its_own_reason_and_path(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """MA130 already took the appeal rights away: correct and resubmit, in its words."""
    claim = make_claim(adjustments=[adj("CO-29", 100)], rarcs=["MA130"])
    classified = run(claim, table, profiles)
    result = apply_payer_appeal_rights(classified, payer_rule(PayerType.MEDICARE))
    assert result == classified
    assert result.suggested_path is WorkPath.CORRECTED_CLAIM
    assert result.no_appeal_reason == "RARC MA130: no appeal rights, correct and resubmit"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("PR-27", Category.ELIGIBILITY),
        ("PR-31", Category.ELIGIBILITY),
        ("PR-96", Category.NON_COVERED),
        ("PR-204", Category.NON_COVERED),
    ],
)
def test_patient_responsibility_eligibility_or_non_covered_transfers_to_patient(
    code: str,
    category: Category,
    table: ClassificationTable,
    profiles: dict[Category, CategoryProfile],
) -> None:
    """A PR-group eligibility / non-covered denial is billed to the patient."""
    result = run(make_claim(adjustments=[adj(code, 100)]), table, profiles)
    assert result.is_denial is True
    assert result.category is category
    assert result.suggested_path is WorkPath.TRANSFER_TO_PATIENT
    assert result.denied_amount == Decimal(100)


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("CO-27", WorkPath.CORRECTED_CLAIM),
        ("CO-96", WorkPath.APPEAL),
        ("PR-50", WorkPath.APPEAL),
        ("PR-16", WorkPath.CORRECTED_CLAIM),
    ],
)
def test_transfer_to_patient_needs_pr_group_and_patient_category(
    code: str, path: WorkPath, table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """CO-group eligibility / non-covered, or PR in other categories, keep the profile's path."""
    result = run(make_claim(adjustments=[adj(code, 100)]), table, profiles)
    assert result.suggested_path is path


def test_rejection_is_category_rejection_without_appeal_rights(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A rejection: category rejection, corrected claim, no appeal rights, billed amount denied."""
    claim = make_claim(adjustments=[adj("CO-50", 300)], status="", billed="750")
    result = run(claim, table, profiles, kind=DenialKind.REJECTION)
    assert result.is_denial is True
    assert result.category is Category.REJECTION
    assert result.denial_class is DenialClass.SOFT
    assert result.suggested_path is WorkPath.CORRECTED_CLAIM
    assert result.appeal_rights is False
    assert result.level is DenialLevel.CLAIM
    assert result.denied_amount == Decimal(750)
    assert result.primary_adjustment is None
    assert result.no_appeal_reason == (
        "rejected before adjudication: correct and resubmit (no appeal rights)"
    )


@pytest.mark.parametrize("code", ["CO-ZZ9", "PR-ZZ9", "OA-Q1"])
def test_unknown_carc_is_a_denial_of_category_other(
    code: str, table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """A CARC missing from the table is still a denial (a human looks at it), category other."""
    result = run(make_claim(adjustments=[adj(code, 90)], status="1", paid="10"), table, profiles)
    assert result.is_denial is True
    assert result.category is Category.OTHER
    assert result.denial_class is DenialClass.SOFT
    assert result.denied_amount == Decimal(90)
    assert result.primary_adjustment == adj(code, 90)
    assert f"{code} is not in the CARC table: classified as other" in result.reasons


# --- customer override files ---------------------------------------------------------------------


def test_override_csv_changes_rows(
    tmp_path: Path, profiles: dict[Category, CategoryProfile]
) -> None:
    """A customer CSV replaces rows by CARC; rows it does not name keep the shipped values."""
    override = tmp_path / "carc_override.csv"
    override.write_text(
        "\ufeff"
        + HEADER
        + "50,coding,soft,,Reclassified by the customer\n"
        + "45,pricing,hard,,Fee schedule reductions worked as denials\n"
        + "16,missing_information,soft,CO|PR,Only OA-16 is a denial here\n",
        encoding="utf-8",
    )
    table = ClassificationTable.load(override)
    co50 = run(make_claim(adjustments=[adj("CO-50", 100)]), table, profiles)
    assert (co50.category, co50.denial_class, co50.suggested_path) == (
        Category.CODING,
        DenialClass.SOFT,
        WorkPath.CORRECTED_CLAIM,
    )
    assert "CO-50 (Reclassified by the customer) -> coding, soft" in co50.reasons
    co45 = run(make_claim(adjustments=[adj("CO-45", 40)]), table, profiles)
    assert co45.is_denial is True
    assert co45.category is Category.PRICING
    assert table.is_denial(adj("CO-16", 10)) is False
    assert table.is_denial(adj("PR-16", 10)) is False
    assert table.is_denial(adj("OA-16", 10)) is True
    untouched = run(make_claim(adjustments=[adj("CO-29", 100)]), table, profiles)
    assert untouched.category is Category.TIMELY_FILING
    assert len(table.carc_rules) == len(ClassificationTable.load().carc_rules)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (HEADER + "50,nonsense,hard,,x\n", "line 2 (CARC 50): 'nonsense' is not a valid Category"),
        (
            HEADER + "18,duplicate,soft,,ok\n50,coding,firm,,x\n",
            "line 3 (CARC 50): 'firm' is not a valid DenialClass",
        ),
        (HEADER + "50,coding,soft,CO|XX,x\n", "line 2 (CARC 50): unknown group code(s) XX"),
        (HEADER + " ,coding,soft,,x\n", "line 2: empty carc"),
        (
            "carc,category,denial_class,description\n50,coding,soft,x\n",
            "missing column(s) not_denial_groups",
        ),
    ],
    ids=["bad-category", "bad-class", "unknown-group", "empty-carc", "missing-column"],
)
def test_malformed_override_raises_naming_file_line_and_problem(
    content: str, problem: str, tmp_path: Path
) -> None:
    """A broken customer file fails loudly, naming the file, the line and what is wrong."""
    override = tmp_path / "bad_override.csv"
    override.write_text(content, encoding="utf-8")
    with pytest.raises(ClassificationFileError) as caught:
        ClassificationTable.load(override)
    message = str(caught.value)
    assert message.startswith(str(override))
    assert problem in message


@pytest.mark.parametrize(
    "row", ["50,coding,soft", "50,coding", "50"], ids=["no-groups", "no-class", "carc-only"]
)
def test_short_override_row_raises_naming_file_and_line(row: str, tmp_path: Path) -> None:
    """A row with fewer fields than the header is a ClassificationFileError, not a crash."""
    override = tmp_path / "short_override.csv"
    override.write_text(HEADER + "18,duplicate,soft,,ok\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ClassificationFileError) as caught:
        ClassificationTable.load(override)
    message = str(caught.value)
    assert message.startswith(f"{override}, line 3")
    assert "50" in message


def test_override_fields_tolerate_surrounding_whitespace(
    tmp_path: Path, profiles: dict[Category, CategoryProfile]
) -> None:
    """Cells are trimmed: ' CO | PR ' lists two groups and a blank-looking cell lists none."""
    override = tmp_path / "spaced_override.csv"
    override.write_text(
        HEADER + " 16 , coding , soft , CO | PR , spaced \n 50 , coding , soft , , blank \n",
        encoding="utf-8",
    )
    table = ClassificationTable.load(override)
    assert table.is_denial(adj("CO-16", 10)) is False
    assert table.is_denial(adj("PR-16", 10)) is False
    assert table.is_denial(adj("OA-16", 10)) is True
    assert table.is_denial(adj("CO-50", 10)) is True
    co50 = run(make_claim(adjustments=[adj("CO-50", 100)]), table, profiles)
    assert co50.category is Category.CODING


def test_missing_override_file_raises_naming_the_file(tmp_path: Path) -> None:
    """An override path that cannot be read is a ClassificationFileError naming it."""
    missing = tmp_path / "nope.csv"
    with pytest.raises(ClassificationFileError, match=re.escape(str(missing))):
        ClassificationTable.load(missing)


def test_a_denial_never_counts_more_than_was_billed_and_left_unpaid(
    table: ClassificationTable, profiles: dict[Category, CategoryProfile]
) -> None:
    """Adjustments above the unpaid charge (bad data) count the unpaid charge, and say so."""
    claim = make_claim(
        adjustments=[adj("CO-16", "700"), adj("CO-50", "400")], billed="999.99", paid="0"
    )
    result = classify(claim, DenialKind.DENIAL, table, profiles)
    assert result.denied_amount == claim.billed_amount == Decimal("999.99")
    assert any("more than the $999.99 billed and not paid" in r for r in result.reasons)
    paid_in_part = make_claim(adjustments=[adj("CO-16", "500")], billed="500", paid="100")
    assert classify(paid_in_part, DenialKind.DENIAL, table, profiles).denied_amount == 400
