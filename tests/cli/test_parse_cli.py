"""`denials parse`: one JSON object per file with --json, a readable table without, and an
exit status that says whether any file has an error."""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from denials import parse_tables
from denials.cli import app

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"

FILE_KEYS = {
    "file",
    "kind",
    "version",
    "claims_total",
    "denials",
    "rejections",
    "reversals",
    "errors",
    "warnings",
}
CASE_KEYS = {
    "claim_id",
    "payer_claim_control_number",
    "claim_status",
    "payer_id",
    "payer_name",
    "billed_amount",
    "paid_amount",
    "denied_amount",
    "level",
    "adjustments",
    "rarcs",
    "category",
    "denial_class",
    "service_lines",
}

NEVADA = X12 / "affect__nevada_medicaid.835"
EMEDNY = X12 / "edi835p__emedny_sample.835"
MULT_LOOPS = X12 / "pyx12__835_mult_loops.835"
MANAGED_CARE = X12 / "lfh__managed-care.835"
BLUE_CROSS = X12 / "edi835p__blue_cross_nc_sample.835"
REJECTED_277 = X12 / "imsweb__x12_277CA_rejected.277"
REJECTED_999 = X12 / "imsweb__x12_999_rejected.999"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Settings come from DENIALS_* variables and a .env in the working folder: use neither."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DENIALS_"):
            monkeypatch.delenv(name)
    return CliRunner()


def run(runner: CliRunner, *args: str | Path) -> Any:
    return runner.invoke(app, ["parse", *[str(a) for a in args]])


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = [line for line in output.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def check_problem(problem: dict[str, Any]) -> None:
    assert isinstance(problem["message"], str) and problem["message"]
    assert isinstance(problem["location"], dict)


def check_case(case: dict[str, Any]) -> None:
    assert case.keys() >= CASE_KEYS, CASE_KEYS - case.keys()
    for key in ("billed_amount", "paid_amount", "denied_amount"):
        Decimal(str(case[key]))
    for adjustment in case["adjustments"]:
        assert {"group", "carc", "amount"} <= adjustment.keys()
    assert isinstance(case["rarcs"], list)
    assert isinstance(case["service_lines"], list)


def test_json_one_object_per_file(runner: CliRunner) -> None:
    files = [NEVADA, EMEDNY, MULT_LOOPS, MANAGED_CARE, BLUE_CROSS, REJECTED_277, REJECTED_999]
    result = run(runner, "--json", *files)
    assert result.exit_code == 0, result.output
    objects = json_lines(result.stdout)
    assert len(objects) == len(files)
    assert [Path(o["file"]).name for o in objects] == [f.name for f in files]
    for obj in objects:
        assert obj.keys() >= FILE_KEYS, FILE_KEYS - obj.keys()
        assert obj["errors"] == []
        for problem in obj["warnings"]:
            check_problem(problem)
        for case in (*obj["denials"], *obj["rejections"], *obj["reversals"]):
            check_case(case)
    by_name = {Path(o["file"]).name: o for o in objects}

    nevada = by_name[NEVADA.name]
    assert (nevada["kind"], nevada["version"], nevada["claims_total"]) == (
        "835",
        "005010X221A1",
        3,
    )
    denials = {d["claim_id"]: d for d in nevada["denials"]}
    assert sorted(denials) == ["77777777", "77777778", "77777779"]
    first = denials["77777777"]
    assert first["payer_claim_control_number"] == "6666666666666"
    assert first["claim_status"] == "4"
    assert first["payer_name"] == "DIVISON OF HEALTH CARE FINANCING AND POLICY"
    assert first["payer_id"] == "1388600002"
    assert Decimal(first["billed_amount"]) == Decimal("72232")
    assert Decimal(first["paid_amount"]) == 0
    assert Decimal(first["denied_amount"]) == Decimal("72232")
    assert (first["level"], first["category"], first["denial_class"]) == (
        "claim",
        "pricing",
        "hard",
    )
    assert [(a["group"], a["carc"], Decimal(a["amount"])) for a in first["adjustments"]] == [
        ("OA", "147", Decimal("50016")),
        ("CO", "26", Decimal("22216")),
    ]
    assert nevada["reversals"] == [] and nevada["rejections"] == []
    assert any("IEA02" in w["message"] for w in nevada["warnings"])

    emedny = by_name[EMEDNY.name]
    partial = next(d for d in emedny["denials"] if d["level"] == "line")
    assert partial["payer_claim_control_number"] == "1000230000000020"
    assert partial["rarcs"] == ["N206"]
    assert Decimal(partial["denied_amount"]) == Decimal("22.75")
    assert len(partial["service_lines"]) == 4
    assert [line["procedure_code"] for line in partial["service_lines"]] == [
        "V2020",
        "V2103",
        "V2700",
        "S0580",
    ]

    mult = by_name[MULT_LOOPS.name]
    [denial] = mult["denials"]
    assert (denial["claim_id"], denial["rarcs"], denial["category"]) == (
        "2005555A",
        ["N14"],
        "missing_information",
    )

    assert by_name[MANAGED_CARE.name]["denials"] == []
    assert by_name[BLUE_CROSS.name]["denials"] == []
    assert any("envelope" in w["message"] for w in by_name[BLUE_CROSS.name]["warnings"])

    rejected = by_name[REJECTED_277.name]
    assert (rejected["kind"], rejected["claims_total"]) == ("277CA", 1)
    assert [r["claim_id"] for r in rejected["rejections"]] == ["3920394930203"]
    assert rejected["rejections"][0]["payer_claim_control_number"] == "1107000000001120"
    assert by_name[REJECTED_999.name]["kind"] == "999"
    assert len(by_name[REJECTED_999.name]["rejections"]) == 1


def test_json_reports_a_failing_file_and_exits_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.835"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    truncated = tmp_path / "truncated.835"
    raw = EMEDNY.read_bytes()
    truncated.write_bytes(raw[: raw.index(b"CLP*PATIENT ACCOUNT NUMBER*2*34*0") + 20])
    result = run(runner, "--json", MANAGED_CARE, garbage, truncated)
    assert result.exit_code != 0
    objects = json_lines(result.stdout)
    assert [Path(o["file"]).name for o in objects] == [
        MANAGED_CARE.name,
        "garbage.835",
        "truncated.835",
    ]
    assert objects[0]["errors"] == []
    bad = objects[1]
    assert bad.keys() >= FILE_KEYS
    assert bad["kind"] is None and bad["claims_total"] == 0
    assert bad["errors"], bad
    for problem in (*bad["errors"], *objects[2]["errors"]):
        check_problem(problem)
    assert "not an X12 file" in bad["errors"][0]["message"]
    assert any("truncated" in e["message"] for e in objects[2]["errors"])
    assert objects[2]["denials"] == []  # nothing from a broken file


def test_exit_zero_when_only_warnings(runner: CliRunner) -> None:
    result = run(runner, "--json", BLUE_CROSS, MANAGED_CARE)
    assert result.exit_code == 0, result.output
    assert all(o["warnings"] for o in json_lines(result.stdout))


PARSER_WARNINGS = [  # the parser's own findings in MANAGED_CARE: its date and payee NPI
    ("BPR", "BPR16 '20002316' is not a valid date"),
    ("N1", "payee NPI '5544667733' fails the NPI check digit: recorded as sent, check it"),
]


def test_the_default_parse_leaves_out_the_implementation_guide(runner: CliRunner) -> None:
    """pyx12 is off the default path: only the parser's findings, and the object says so."""
    for options in ((), ("--no-validate",)):
        result = run(runner, "--json", *options, MANAGED_CARE)
        assert result.exit_code == 0, result.output
        [unchecked] = json_lines(result.stdout)
        assert unchecked["implementation_guide_checked"] is False
        found = [(w["location"]["segment_id"], w["message"]) for w in unchecked["warnings"]]
        assert found == PARSER_WARNINGS


def test_validate_adds_pyx12s_findings_to_each_file(runner: CliRunner, tmp_path: Path) -> None:
    """With --validate each file's object holds its findings after the parser's own, in the
    order the files were named; a file without envelope (pyx12 cannot read it) and one that
    is not X12 have none, and the check never makes a file fail."""
    garbage = tmp_path / "garbage.835"
    garbage.write_bytes(b"hello, world")
    result = run(runner, "--json", "--validate", MANAGED_CARE, BLUE_CROSS, garbage, NEVADA)
    assert result.exit_code == 1, result.output  # the garbage, not the findings
    checked = json_lines(result.stdout)
    assert [Path(o["file"]).name for o in checked] == [
        MANAGED_CARE.name,
        BLUE_CROSS.name,
        "garbage.835",
        NEVADA.name,
    ]
    managed, blue_cross, bad, nevada = checked
    assert managed["implementation_guide_checked"] is True
    found = [(w["location"]["segment_id"], w["message"]) for w in managed["warnings"]]
    assert found[:2] == PARSER_WARNINGS
    guide = [(segment, message) for segment, message in found[2:]]
    assert guide and all(m.startswith("implementation guide: ") for _, m in guide), guide
    assert (
        "PER",
        'implementation guide: Mandatory segment "Payer Technical Contact Information"'
        " (PER) missing",
    ) in guide
    assert managed["errors"] == []
    assert blue_cross["implementation_guide_checked"] is False  # no envelope
    assert not any("implementation guide" in w["message"] for w in blue_cross["warnings"])
    assert bad["implementation_guide_checked"] is False and bad["errors"]
    # Nevada's ISA is not the fixed width pyx12 requires: one warning says so.
    assert nevada["implementation_guide_checked"] is True
    assert any("could not run: its ISA segment is" in w["message"] for w in nevada["warnings"]), (
        nevada["warnings"]
    )


def test_validate_prints_the_tables_then_the_findings(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_tables, "console", Console(width=200))
    plain = run(runner, MANAGED_CARE)
    assert plain.exit_code == 0, plain.output
    assert "implementation guide not checked: --validate" in plain.output
    assert "Payer Technical Contact Information" not in plain.output
    result = run(runner, "--validate", MANAGED_CARE, NEVADA)
    assert result.exit_code == 0, result.output
    output = result.output
    tables = [output.index(f"{path.name}: 835") for path in (MANAGED_CARE, NEVADA)]
    findings = output.index(f"{MANAGED_CARE.name}: implementation guide (pyx12), 2 findings")
    assert max(tables) < findings < output.index(f"{NEVADA.name}: implementation guide")
    assert 'Mandatory segment "Payer Technical Contact Information" (PER) missing' in output
    assert "not checked" not in output


def test_a_folder_stands_for_its_files(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for source in (NEVADA, MULT_LOOPS):
        shutil.copy(source, folder / source.name)
    result = run(runner, "--json", "--no-validate", folder)
    assert result.exit_code == 0, result.output
    names = [Path(o["file"]).name for o in json_lines(result.stdout)]
    assert names == sorted([NEVADA.name, MULT_LOOPS.name])


def test_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "--json", tmp_path / "nope.835")
    assert result.exit_code != 0
    assert "nope.835" in result.output


def test_table_names_the_claims(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a wide terminal every claim id and payer claim number is printed."""
    monkeypatch.setattr(parse_tables, "console", Console(width=200))
    result = run(runner, NEVADA, EMEDNY, REJECTED_277)
    assert result.exit_code == 0, result.output
    for text in (
        "77777777",
        "77777778",
        "77777779",
        "6666666666666",
        "PATIENT ACCOUNT NUMBER",
        "1000230000000020",
        "3920394930203",
        "timely_filing",
        "IEA02",
    ):
        assert text in result.output, text


def test_table_names_the_claims_at_80_columns(runner: CliRunner) -> None:
    """Piped output and the test runner give rich 80 columns: claim ids must still be whole."""
    result = run(runner, NEVADA, MULT_LOOPS)
    assert result.exit_code == 0, result.output
    for claim_id in ("77777777", "77777778", "77777779", "2005555A"):
        assert claim_id in result.output, f"{claim_id} truncated in the 80-column table"


def test_table_shows_errors(runner: CliRunner, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.835"
    garbage.write_bytes(b"hello, world")
    result = run(runner, garbage)
    assert result.exit_code != 0
    assert "not an X12 file" in " ".join(result.output.split())


def test_an_unusable_rules_file_is_named(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rules file the settings name but that cannot be read stops the command with its name,
    not a traceback."""
    missing = tmp_path / "payer_rules.toml"
    monkeypatch.setenv("DENIALS_PAYER_RULES_FILE", str(missing))
    result = run(runner, "--json", NEVADA)
    assert result.exit_code == 2, result.output
    assert f"nothing parsed: {missing}" in result.output
    broken = tmp_path / "carcs.csv"
    broken.write_text("not,a,classification\n")
    monkeypatch.delenv("DENIALS_PAYER_RULES_FILE")
    monkeypatch.setenv("DENIALS_CLASSIFICATION_OVERRIDE_FILE", str(broken))
    result = run(runner, "--json", NEVADA)
    assert result.exit_code == 2, result.output
    assert f"nothing parsed: {broken}" in result.output
