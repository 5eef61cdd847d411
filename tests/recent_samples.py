"""Real X12 samples (tests/data/x12/) moved to recent dates: their claims, lines, codes and
numbers as the payer sent them, but served and reported lately, so that the cases they open
still have their deadlines ahead (a 2010 denial is long past every filing limit)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

X12 = Path(__file__).resolve().parent / "data" / "x12"

LINE_DENIAL_ICN = "1000230000000020"  # emedny's third claim: lines 3 and 4 denied CO-251
REJECTED_CLAIM_ID = "3920394930203"  # the 277CA's claim, rejected A7:562:85 (billing NPI)


def _moved(raw: bytes, dates: dict[str, date], isa_date: tuple[str, date]) -> bytes:
    text = raw.decode("ascii")
    for old, new in dates.items():
        assert old in text, old
        text = text.replace(old, new.strftime("%Y%m%d"))
    old_isa, new_isa = isa_date
    assert f"*{old_isa}*" in text
    return text.replace(f"*{old_isa}*", f"*{new_isa.strftime('%y%m%d')}*", 1).encode("ascii")


def recent_emedny_835(today: date) -> bytes:
    """NY Medicaid's 835: served 20 days ago, paid 5 days ago (its one line dated 2013 too)."""
    served, paid = today - timedelta(days=20), today - timedelta(days=5)
    raw = (X12 / "edi835p__emedny_sample.835").read_bytes()
    # Every date in the file is 2010-01-01 (service, remittance, production), but one line's.
    text = raw.decode("ascii").replace("DTM*472*20100101", f"DTM*472*{served:%Y%m%d}")
    text = text.replace("DTM*232*20100101", f"DTM*232*{served:%Y%m%d}")
    text = text.replace("DTM*233*20100101", f"DTM*233*{served:%Y%m%d}")
    return _moved(text.encode("ascii"), {"20100101": paid, "20130917": served}, ("100101", paid))


def recent_rejected_277ca(today: date) -> bytes:
    """The 277CA rejecting claim 3920394930203 for its billing provider's NPI: served 30 days
    ago, acknowledged yesterday."""
    served, acknowledged = today - timedelta(days=30), today - timedelta(days=1)
    raw = (X12 / "imsweb__x12_277CA_rejected.277").read_bytes()
    return _moved(raw, {"20090311": served, "20110311": acknowledged}, ("110311", acknowledged))
