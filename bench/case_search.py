"""The case search's shapes for bench/worklist.py: patients and member ids for the generated
cases (their case_search rows, as the projection writes them), and the searches a billing
office types: part of a claim number, a patient's last name or full name, a member id, a payer
by name, an assignee by name, a week of denials, and a name within open cases due soon.

Every word of q is a LIKE '%word%' on case_search.text, which no B-tree serves: since migration
0029 a trigram index finds it (pg_trgm's GIN index on PostgreSQL, at its planner's choice; on
SQLite an FTS5 trigram table, for words with a digit), else it scans that narrow table (see
db/case_search.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from domain.case_search import search_text_of

if TYPE_CHECKING:
    from bench.worklist import Generated, Shape

LAST = tuple(
    (  # noqa: SIM905
        "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ  "
        "LOPEZ GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON  "
        "WHITE HARRIS SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT  "
        "SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL  "
        "MITCHELL CARTER ROBERTS OKAFOR MORENO"
    ).split()
)
FIRST = tuple(
    (  # noqa: SIM905
        "JAMES MARY ROBERT PATRICIA JOHN JENNIFER MICHAEL LINDA DAVID ELIZABETH WILLIAM  "
        "BARBARA RICHARD SUSAN JOSEPH JESSICA THOMAS SARAH CHARLES KAREN MARIA JOSE LUIS ANA  "
        "WEI MIN FATIMA AHMED PRIYA RAJ OLUWASEUN CHIDI SOFIA MATEO"
    ).split()
)


def add_search_rows(data: Generated, seed: int = 3) -> None:
    """A patient and member id per generated case, and its case_search row."""
    rng = random.Random(seed)
    for row in data.cases:
        patient = f"{rng.choice(LAST)}, {rng.choice(FIRST)}"
        member = f"M{rng.randrange(10**9):09d}"
        claim = {
            "claim_id": row["claim_id"],
            "payer_claim_control_number": row["payer_claim_control_number"],
            "patient": {"name": patient, "member_id": member},
            "payer": {"name": row["payer_name"], "payer_id": row["payer_id"]},
        }
        text = search_text_of(claim)
        data.search.append({"case_id": row["case_id"], "version": row["version"], "text": text})
        data.patients.append((patient, member))


def shapes(data: Generated) -> list[Shape]:
    from bench.worklist import Shape  # it imports this module

    def name(r: random.Random) -> str:
        last, first = r.choice(data.patients)[0].split(", ")
        return f"{first.lower()} {last.lower()}"

    def denied(r: random.Random) -> dict[str, str]:
        start = r.choice(data.cases)["denied_on"]
        return {"denied_from": str(start), "denied_to": str(start + timedelta(days=7))}

    def due_soon(r: random.Random) -> dict[str, str]:
        today = datetime.now(UTC).date()
        return {
            "q": r.choice(LAST).lower(),
            "open_only": "true",
            "deadline_after": str(today),
            "deadline_before": str(today + timedelta(days=30)),
        }

    return [
        Shape("q=4 digits of a claim number", lambda r: {"q": r.choice(data.claim_ids)[5:9]}),
        Shape("q=last name", lambda r: {"q": r.choice(LAST).lower()}),
        Shape("q=first and last name", lambda r: {"q": name(r)}),
        Shape("q=member id", lambda r: {"q": r.choice(data.patients)[1].lower()}),
        Shape("q=payer name", lambda r: {"q": f"payer {r.randrange(40):03d} health"}),
        Shape("q=assignee name (Moreno)", lambda r: {"q": "moreno"}),
        Shape("denied in a 7-day range", denied),
        Shape("open, last name, due in 30 days", due_soon),
    ]
