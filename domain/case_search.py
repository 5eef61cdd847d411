"""What the case list's free-text search matches: one normalised text per case (claim numbers,
patient name and member id, payer name and id), and the words a search is split into.

The text is PHI (a patient's name, a member id): it lives in the read model only, and a search
is never logged (the access log logs route templates, the audit withholds 'filters' from admins).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from domain.models import Claim

MAX_TERMS = 6  # each word is a scan of the search table: a pasted paragraph is cut short
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case- and accent-insensitive, one space between words: 'Dóe,  JANE' -> 'doe, jane'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain.casefold()).strip()


def search_text(claim: Claim) -> str:
    """Everything a biller may type to find the case, in one column the search scans."""
    return search_text_of(claim.model_dump(mode="json"))


def search_text_of(claim: dict[str, Any]) -> str:
    """search_text of a claim as JSON (the state documents migrations read)."""
    patient, payer = claim.get("patient") or {}, claim.get("payer") or {}
    parts = [
        claim.get("claim_id"),
        claim.get("payer_claim_control_number"),
        patient.get("name"),
        patient.get("member_id"),
        payer.get("name"),
        payer.get("payer_id"),
    ]
    return " | ".join(normalise(part) for part in parts if part)[:1000]


def search_terms(query: str | None) -> list[str]:
    """The words of a search, each to be found somewhere in the case (in any order): 'jane
    doe' finds 'DOE, JANE'. Commas and the column separator are not part of a word."""
    words = normalise((query or "").replace(",", " ").replace("|", " ")).split()
    return list(dict.fromkeys(words))[:MAX_TERMS]
