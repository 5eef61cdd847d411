"""The synthetic X12 generator itself: envelope counts and control numbers, ISA layout, CAS
and PLB packing, amounts. Checked on the text, without the project's parser."""

from __future__ import annotations

import time
from datetime import date

from testkit.x12 import (
    V4010_835,
    Claim835,
    Envelope,
    Layout,
    Line835,
    Plb,
    Remittance835,
    build_file,
    build_segments,
    random_remittance,
)


def segments_of(raw: bytes, terminator: str = "~") -> list[list[str]]:
    text = raw.decode("utf-8").lstrip("\ufeff")
    return [s.strip().split("*") for s in text.split(terminator) if s.strip()]


def claims(count: int) -> Remittance835:
    return Remittance835(claims=[Claim835(f"C{n}", lines=[Line835()]) for n in range(count)])


def test_envelope_counts_and_control_numbers() -> None:
    raw = build_file(
        [claims(1), claims(2), claims(3)],
        interchanges=2,
        envelope=Envelope(first_control_number=7),
    )
    segs = segments_of(raw)
    ids = [s[0] for s in segs]
    assert ids.count("ISA") == ids.count("IEA") == 2
    assert ids.count("GS") == ids.count("GE") == 2
    assert ids.count("ST") == ids.count("SE") == 3
    isa_controls = [s[13] for s in segs if s[0] == "ISA"]
    assert isa_controls == ["000000007", "000000008"]
    assert [s[2] for s in segs if s[0] == "IEA"] == isa_controls
    assert [s[1] for s in segs if s[0] == "IEA"] == ["1", "1"]
    assert [s[6] for s in segs if s[0] == "GS"] == [s[2] for s in segs if s[0] == "GE"]
    assert [s[1] for s in segs if s[0] == "GE"] == ["2", "1"]  # two sets, then one
    start = None
    for index, seg in enumerate(segs):
        if seg[0] == "ST":
            start = index
        elif seg[0] == "SE":
            assert start is not None
            assert seg[1] == str(index - start + 1)
            assert seg[2] == segs[start][2]
    assert [s[2] for s in segs if s[0] == "ST"] == ["0001", "0002", "0001"]
    assert [s[3] for s in segs if s[0] == "ST"] == ["005010X221A1"] * 3


def test_isa_fixed_width_and_collapsed() -> None:
    padded = build_file(claims(1)).decode()
    isa = padded[: padded.index("~") + 1]
    assert len(isa) == 106
    assert isa[-2:] == ":~" and isa[82] == "^"  # ISA16 component, ISA11 repetition
    collapsed = build_file(claims(1), layout=Layout(pad_isa=False)).decode()
    assert collapsed.index("~") + 1 < 106
    assert collapsed.startswith("ISA*00* *00* *ZZ*SENDER*ZZ*RECEIVER*")


def test_version_4010_envelope() -> None:
    raw = build_file(Remittance835(claims=[Claim835("C1")], version=V4010_835)).decode()
    isa = raw[: raw.index("~")].split("*")
    assert (isa[11], isa[12]) == ("U", "00401")
    assert "GS*HP*SENDER*RECEIVER*20240301*1200*1*X*004010X091A1~" in raw
    assert "ST*835*0001~" in raw  # no ST03 in 4010


def test_layout_bytes() -> None:
    layout = Layout(element="|", component=">", segment="'", newline="\r\n", indent="  ", bom=True)
    raw = build_file(claims(1), layout=layout)
    assert raw.startswith(b"\xef\xbb\xbfISA|00|")
    assert b"|P|>'\r\n  GS|HP|" in raw
    assert b"SVC|HC>99213|100|100||1'\r\n" in raw
    assert raw.endswith(b"IEA|1|000000001'\r\n")
    one_line = build_file(claims(1), layout=Layout(newline=""))
    assert b"\n" not in one_line
    headerless = build_file(claims(1), envelope=None, st03=False)
    assert headerless.startswith(b"ST*835*0001~\nBPR*")
    assert b"ISA" not in headerless and b"GS*" not in headerless


def test_claim_defaults_and_cas_packing() -> None:
    claim = Claim835(
        "C1",
        cas=[("CO", "45", "5")],
        lines=[
            Line835(billed="100", paid="70", cas=[("CO", "45", "20"), ("PR", "2", "10")]),
            Line835(
                billed="50",
                paid="0",
                modifiers=["25", "59"],
                service_date=date(2024, 2, 29),
                cas=[("CO", str(c), "1") for c in range(1, 8)],
                remarks=["N14", "M75"],
            ),
        ],
        original_reference="OLD",
        moa_remarks=["MA01", "MA02"],
    )
    segs = build_segments([Remittance835(claims=[claim])])
    assert "CLP*C1*1*150*70*10*12*ICNC1*11*1" in segs
    assert "CAS*CO*45*5" in segs
    assert "MOA***MA01*MA02" in segs
    assert "REF*F8*OLD" in segs
    assert "SVC*HC:99213:25:59*50*0**1" in segs
    assert "DTM*472*20240229" in segs
    # seven CO adjustments: six triplets in one CAS, the seventh in a second one
    assert "CAS*CO*1*1**2*1**3*1**4*1**5*1**6*1" in segs
    assert "CAS*CO*7*1" in segs
    assert segs.index("LQ*HE*N14") + 1 == segs.index("LQ*HE*M75")
    assert "BPR*I*70*C*CHK************20240301" in segs


def test_plb_splits_after_six_pairs_and_sets_bpr() -> None:
    remittance = Remittance835(
        claims=[Claim835("C1", lines=[Line835(billed="100", paid="100")])],
        plb=[Plb([("WO", f"R{n}", "1") for n in range(7)])],
    )
    segs = build_segments([remittance])
    plbs = [s for s in segs if s.startswith("PLB*")]
    assert plbs[0] == "PLB*1234567893*20241231*" + "*".join(f"WO:R{n}*1" for n in range(6))
    assert plbs[1] == "PLB*1234567893*20241231*WO:R6*1"
    assert "BPR*I*93*C*CHK************20240301" in segs  # 100 paid less 7 recouped


def test_invalid_values_are_written_as_given() -> None:
    segs = build_segments(
        [
            Remittance835(
                claims=[Claim835("C1", billed="abc", paid="0")],
                payment_date="20002316",
                total_paid="0",
            )
        ]
    )
    assert "CLP*C1*1*abc*0**12*ICNC1*11*1" in segs
    assert "BPR*H*0*C*NON************20002316" in segs


def test_random_remittance_is_deterministic_and_fast() -> None:
    assert build_file(random_remittance(50, seed=1)) == build_file(random_remittance(50, seed=1))
    assert build_file(random_remittance(50, seed=1)) != build_file(random_remittance(50, seed=2))
    start = time.perf_counter()
    raw = build_file(random_remittance(5_000))
    # About 0.25 s: the limit only catches a generator gone quadratic, not a slow machine.
    assert time.perf_counter() - start < 10
    assert raw.count(b"\nCLP*") == 5_000
