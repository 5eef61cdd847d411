import csv
import io
from decimal import Decimal

from domain.kpis import RateRow
from services.analytics import to_csv


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    row = RateRow(
        key="=HYPERLINK(\"http://x\")", label="-2+3", claims=3, denials=1, denial_rate=-0.5,
        dollars=Decimal("-1.50"),
    )  # fmt: skip
    text = to_csv([row], ["key", "label", "denial_rate", "dollars"])
    assert text.splitlines() == [
        "key,label,denial_rate,dollars",
        '"\'=HYPERLINK(""http://x"")",\'-2+3,-0.5,-1.50',
    ]


def test_cells_starting_with_a_tab_or_carriage_return_are_quoted_too() -> None:
    row = RateRow(
        key="\t=1+1", label="\r=2", claims=1, denials=0, denial_rate=0.0, dollars=Decimal(0)
    )
    [header, cells] = list(csv.reader(io.StringIO(to_csv([row], ["key", "label"]))))
    assert (header, cells) == (["key", "label"], ["'\t=1+1", "'\r=2"])
