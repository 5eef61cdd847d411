"""Read-model rows written directly: a small denial history whose KPIs are known by hand.

Each history is dated in a year of its own with payers of its own, so the shared PostgreSQL test
database's other rows never fall in its measured period.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models import CaseEventRow, CaseRow, IngestFileRow, RemittanceClaimRow


def _at(day: date, days_later: float = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days_later)


class History:
    """Writes rows with ids unique to this history (tests share the PostgreSQL database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tag = uuid.uuid4().hex[:8]
        self._file = hashlib.sha256(self.tag.encode()).hexdigest()
        self._claims = 0
        with Session(engine) as session:
            session.add(
                IngestFileRow(
                    sha256=self._file,
                    filename="seed.835",
                    size=0,
                    kind="835",
                    status="ingested",
                    content=b"",
                    received_by="test",
                    received_at=datetime.now(UTC),
                )
            )
            session.commit()

    def payer(self, name: str) -> str:
        return f"{name}-{self.tag}"

    def claims(
        self, payer_id: str, day: date, count: int, denied: int, billed: str, npi: str = ""
    ) -> None:
        """`count` adjudicated claims of which the first `denied` are denials."""
        with Session(self.engine) as session:
            for n in range(count):
                self._claims += 1
                session.add(
                    RemittanceClaimRow(
                        row_id=f"{self._file}:{self._claims}",
                        file_sha256=self._file,
                        payer_id=payer_id,
                        payer_name=payer_id.split("-")[0],
                        claim_id=f"C{self._claims}",
                        claim_status="4" if n < denied else "1",
                        provider_npi=npi,
                        billed_amount=Decimal(billed),
                        paid_amount=Decimal(0) if n < denied else Decimal(billed),
                        denied_amount=Decimal(billed) if n < denied else Decimal(0),
                        is_denial=n < denied,
                        service_date=day - timedelta(days=20),
                        remittance_date=day,
                    )
                )
            session.commit()

    def case(
        self,
        n: int,
        payer_id: str,
        denied_on: date,
        denied: str,
        *,
        category: str | None = "authorization",
        carc: str = "CO-197",
        npi: str = "1111111111",
        procedure: str = "70553",
        outcome: str | None = None,
        recovered: str = "0",
        first_action_days: float | None = None,
        closed_days: float | None = None,
        appealed: bool = False,
        next_deadline: date | None = None,
    ) -> str:
        case_id = f"case-{self.tag}-{n}"
        created = _at(denied_on)
        with Session(self.engine) as session:
            session.add(
                CaseRow(
                    case_id=case_id,
                    version=1,
                    kind="denial",
                    status="closed" if outcome else "awaiting_payer",
                    outcome=outcome,
                    category=category,
                    payer_id=payer_id,
                    payer_name=payer_id.split("-")[0],
                    payer_type="commercial",
                    claim_id=f"CLM{n}",
                    provider_npi=npi,
                    service_date_from=denied_on - timedelta(days=20),
                    remittance_date=denied_on,
                    carc=carc,
                    procedure_code=procedure,
                    denied_on=denied_on,
                    billed_amount=Decimal(denied),
                    paid_amount=Decimal(0),
                    denied_amount=Decimal(denied),
                    recovered_amount=Decimal(recovered),
                    next_deadline=next_deadline,
                    created_at=created,
                    updated_at=created,
                    closed_at=_at(denied_on, closed_days) if closed_days is not None else None,
                    state={},
                )
            )
            session.flush()
            events = [("received", "system", 0.0)]
            if first_action_days is not None:
                events.append(("task_claimed", "alice", first_action_days))
            if appealed:
                events.append(("appeal_submitted", "alice", (first_action_days or 0) + 1))
            for seq, (kind, actor, days) in enumerate(events, start=1):
                session.add(
                    CaseEventRow(
                        event_id=f"{case_id}:{seq}",
                        case_id=case_id,
                        seq=seq,
                        at=_at(denied_on, days),
                        type=kind,
                        actor=actor,
                        message=kind,
                    )
                )
            session.commit()
        return case_id


def period(year: int) -> tuple[date, date]:
    """The 90 days a known history is measured over."""
    return date(year, 3, 1), date(year, 5, 29)


def seed_known_history(engine: Engine, today: date, year: int) -> History:
    """Payer A: 20 claims in March, 4 denied; payer B: 10 in April, 1 denied. The five denial
    cases below have hand-computed KPIs (see tests/db/test_analytics.py)."""
    history = History(engine)
    a, b = history.payer("ACME"), history.payer("BETA")
    march, april = date(year, 3, 5), date(year, 4, 10)
    history.claims(a, march, 20, 4, "1000")
    history.claims(b, april, 10, 1, "500")
    history.case(1, a, march, "1000", outcome="recovered", recovered="1000",
                 first_action_days=2, closed_days=30, appealed=True)  # fmt: skip
    history.case(2, a, march, "1000", outcome="written_off",
                 first_action_days=4, closed_days=40, appealed=True)  # fmt: skip
    history.case(3, a, march, "800", category="coding", carc="CO-4", npi="2222222222",
                 outcome="partially_recovered", recovered="300",
                 first_action_days=6, closed_days=50, appealed=True)  # fmt: skip
    history.case(4, a, march, "600", category="eligibility", carc="CO-27", npi="2222222222",
                 outcome="lost_to_deadline", first_action_days=10, closed_days=60)  # fmt: skip
    history.case(5, b, april, "400", npi="3333333333", next_deadline=today + timedelta(days=5))
    # Not counted: cancelled as not a denial, and a denial reported before the period.
    history.case(6, a, march, "9999", outcome="cancelled", closed_days=0)
    before = period(year)[0] - timedelta(days=1)
    history.case(7, a, before, "9999", outcome="written_off", closed_days=1)
    return history
