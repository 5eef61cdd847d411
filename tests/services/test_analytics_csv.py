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
