"""Which files a folder stands for: X12 by content, as the tokenizer reads them (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from denials.x12_files import looks_like_x12, select_files

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


@pytest.mark.parametrize(
    ("head", "x12"),
    [
        (b"ISA*00*          *00*", True),
        (b"\xef\xbb\xbf\r\n  ISA|00|", True),  # byte-order mark, blank lines
        (b"ST*835*0001~BPR*I", True),  # no envelope
        (b"ST|277|0001~", True),
        (b"STATEMENT OF ACCOUNT\n", False),  # 'ST' then a letter: a word, not a segment
        (b"# Inbox\nDrop the 835 files here.\n", False),
        (b"%PDF-1.7\n", False),
        (b"", False),
        (b"  \n", False),
    ],
)
def test_x12_is_told_by_its_first_segment(head: bytes, x12: bool) -> None:
    assert looks_like_x12(head) is x12


def test_every_sample_file_is_x12_by_content() -> None:
    samples = sorted(p for p in X12.iterdir() if p.suffix in {".835", ".277", ".999"})
    chosen = select_files([X12])
    assert len(samples) == 16 and chosen.files == samples
    assert chosen.skipped == [X12 / "SOURCES.md"]


def test_a_folder_keeps_its_x12_files_and_lists_the_others(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.835").write_bytes(b"ISA*00*")
    (tmp_path / "sub" / "a.edi").write_bytes(b"ST*999*0001~")
    (tmp_path / "README.md").write_text("# notes\n")
    (tmp_path / "sub" / "scan.pdf").write_bytes(b"%PDF-1.7")
    named = tmp_path / "README.md"  # named on its own: read, and refused by the parser
    chosen = select_files([tmp_path, named])
    assert chosen.files == [tmp_path / "b.835", tmp_path / "sub" / "a.edi", named]
    assert chosen.skipped == [tmp_path / "README.md", tmp_path / "sub" / "scan.pdf"]
    with pytest.raises(ValueError, match="no-such: no such file or directory"):
        select_files([tmp_path / "no-such"])
