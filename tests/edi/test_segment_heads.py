"""segment_heads finds the id and offset of chosen segments exactly as tokenize numbers and
places them, without building every segment (validation names a few segments of a large
file): every segment of every sample file, and of layouts the tokenizer tolerates."""

from __future__ import annotations

from pathlib import Path

import pytest

from edi.tokenizer import decode, segment_heads, tokenize

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"
SAMPLES = sorted(p for p in X12.iterdir() if p.suffix in (".835", ".277", ".999"))
ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261201*1200*^*00501"
    "*000000001*0*P*:"
)
LAYOUTS = {
    "crlf and indentation": f"{ISA}~\r\n  GS*HP*S*R*20261201*1200*1*X*005010X221A1~\r\n"
    "\tST*835*0001~\r\nBPR*I*0*C~ \r\nSE*3*0001~\r\n",
    "bom and blank lines": f"\n\n{ISA}~GS*HP*S*R*20261201*1200*1*X*005010X221A1~~ST*835*1~",
    "no envelope": "ST*835*0001~BPR*I*0*C~SE*3*0001~",
    "line feed terminator": f"{ISA}\nGS*HP*S\nST*835*1\n",
}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_segment_of_the_samples(path: Path) -> None:
    text = decode(path.read_bytes())
    segments = tokenize(text).segments
    heads = segment_heads(text, {s.number for s in segments})
    assert heads == {s.number: (s.id, s.offset) for s in segments}


@pytest.mark.parametrize("text", LAYOUTS.values(), ids=list(LAYOUTS))
def test_layouts_the_tokenizer_tolerates(text: str) -> None:
    segments = tokenize(text).segments
    assert segment_heads(text, {s.number for s in segments}) == {
        s.number: (s.id, s.offset) for s in segments
    }
    # Only what is asked for, and nothing past the file.
    last = segments[-1]
    assert segment_heads(text, {last.number, last.number + 5}) == {
        last.number: (last.id, last.offset)
    }
