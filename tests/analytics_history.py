"""Read-model rows written directly (adjudicated claims also as the ingest records an 835's): a
small denial history whose KPIs are known by hand.

Each history is dated in a year of its own with payers of its own, so the shared PostgreSQL test
database's other rows never fall in its measured period.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.dashboard_summary import refresh_dashboard
from db.models import CaseEventRow, CaseRow, IngestFileRow, RemittanceClaimRow
from db.remittance_claims import record_adjudicated
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import Claim835, Envelope, Line835, Remittance835, build_file


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

    def remittance(self, raw: bytes, rulebook: Rulebook) -> None:
        """Record an 835's adjudicated claims as the ingest does."""
        parsed = parse_bytes("seed.835", raw, rulebook)
        assert parsed.ok, parsed.errors
        with Session(self.engine) as session:
            session.add(
                IngestFileRow(
                    sha256=parsed.sha256, filename="seed.835", size=len(raw), kind="835",
                    status="ingested", received_by="test",
                    received_at=datetime.now(UTC),
                )
            )  # fmt: skip
            session.commit()
            record_adjudicated(session, parsed.sha256, parsed.adjudicated)

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
        claim_id: str | None = None,
        deadlines: Sequence[date] = (),
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
                    claim_id=claim_id or f"CLM{n}",
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
                    state={"deadlines": [{"due": due.isoformat()} for due in deadlines]},
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
            session.flush()
            refresh_dashboard(session, [case_id])  # as the projection does
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
    # The cases are those of the denied claims: A's C1-C4, B's C21.
    history.case(1, a, march, "1000", outcome="recovered", recovered="1000", claim_id="C1",
                 first_action_days=2, closed_days=30, appealed=True)  # fmt: skip
    history.case(2, a, march, "1000", outcome="written_off", claim_id="C2",
                 first_action_days=4, closed_days=40, appealed=True)  # fmt: skip
    history.case(3, a, march, "800", category="coding", carc="CO-4", npi="2222222222",
                 outcome="partially_recovered", recovered="300", claim_id="C3",
                 first_action_days=6, closed_days=50, appealed=True)  # fmt: skip
    history.case(4, a, march, "600", category="eligibility", carc="CO-27", npi="2222222222",
                 outcome="lost_to_deadline", first_action_days=10, closed_days=60,
                 claim_id="C4")  # fmt: skip
    history.case(5, b, april, "400", npi="3333333333", next_deadline=today + timedelta(days=5),
                 claim_id="C21")  # fmt: skip
    # Not counted: cancelled as not a denial, and a denial reported before the period.
    history.case(6, a, march, "9999", outcome="cancelled", closed_days=0)
    before = period(year)[0] - timedelta(days=1)
    history.case(7, a, before, "9999", outcome="written_off", closed_days=1)
    return history


def _denied(claim_id: str, carc: str, billed: int, icn: str | None = None) -> Claim835:
    line = Line835(billed=billed, paid=0, cas=[("CO", carc, billed)])
    return Claim835(claim_id, status="4", icn=icn, lines=[line])


def _paid(claim_id: str, billed: int, icn: str | None = None) -> Claim835:
    return Claim835(claim_id, icn=icn, lines=[Line835(billed=billed, paid=billed)])


def seed_remittance_history(engine: Engine, today: date, year: int) -> History:
    """835s as payers send them, and cases closed every way that counts differently (hand-computed
    KPIs in tests/db/test_analytics.py).

    Remittance T1 (10 March): A1 $1000, A2 $800, A3 $600 denied; A4 $400, A5 $200 paid; A6
    twice under two payer claim numbers, $300 paid and $300 denied. It comes again in another
    interchange. Remittance T2 (15 April): A4's payment reversed and A4 denied $400; B1 $1000
    paid; B2 $500 denied. Open cases (reported in July, outside the period) put dollars at risk.
    """
    history = History(engine)
    payer = history.payer("REMIT")
    rulebook = Rulebook.load()
    first, second = date(year, 3, 10), date(year, 4, 15)
    t1 = Remittance835(
        claims=[
            _denied("A1", "197", 1000), _denied("A2", "50", 800), _denied("A3", "27", 600),
            _paid("A4", 400), _paid("A5", 200),
            _paid("A6", 300, icn="ICNA6X"), _denied("A6", "4", 300, icn="ICNA6Y"),
        ],
        payer_id=payer, payment_date=first, production_date=first, trace_number=f"T1{history.tag}",
    )  # fmt: skip
    reversal = Line835(billed=-400, paid=-400)
    t2 = Remittance835(
        claims=[
            Claim835("A4", status="22", lines=[reversal]), _denied("A4", "29", 400, icn="ICNA4R"),
            _paid("B1", 1000), _denied("B2", "96", 500),
        ],
        payer_id=payer, payment_date=second, production_date=second,
        trace_number=f"T2{history.tag}",
    )  # fmt: skip
    history.remittance(build_file(t1, envelope=Envelope(first_control_number=1)), rulebook)
    history.remittance(build_file(t1, envelope=Envelope(first_control_number=2)), rulebook)
    history.remittance(build_file(t2, envelope=Envelope(first_control_number=3)), rulebook)

    # Appealed and paid in full: overturned.
    history.case(1, payer, first, "1000", outcome="recovered", recovered="1000", claim_id="A1",
                 first_action_days=1, closed_days=20, appealed=True)  # fmt: skip
    # Written off, then paid $300 late: $500 given up.
    history.case(2, payer, first, "800", outcome="partially_recovered", recovered="300",
                 claim_id="A2", first_action_days=3, closed_days=30)  # fmt: skip
    # Appealed, then moved to the patient: neither overturned nor written off.
    history.case(3, payer, first, "600", outcome="transferred_to_patient", claim_id="A3",
                 first_action_days=5, closed_days=40, appealed=True)  # fmt: skip
    # Appealed and closed "recovered" with nothing paid: not overturned.
    history.case(4, payer, first, "300", outcome="recovered", claim_id="A6",
                 first_action_days=7, closed_days=50, appealed=True)  # fmt: skip
    # The re-adjudicated A4, written off, then paid in full late: nothing given up.
    history.case(5, payer, second, "400", outcome="recovered", recovered="400", claim_id="A4",
                 first_action_days=9, closed_days=60)  # fmt: skip
    history.case(6, payer, second, "500", outcome="lost_to_deadline", claim_id="B2",
                 closed_days=70)  # fmt: skip
    # A demo case no 835 adjudicated: its write-off is not against these charges.
    history.case(7, payer, date(year, 3, 20), "900", outcome="written_off", claim_id="DEMO1",
                 first_action_days=11, closed_days=80)  # fmt: skip

    def day(n: int) -> date:
        return today + timedelta(days=n)

    july = date(year, 7, 1)
    history.case(8, payer, july, "250", deadlines=[day(-30), day(-10)])  # all passed: overdue
    history.case(9, payer, july, "70", next_deadline=day(-2))  # the one it races passed
    history.case(10, payer, july, "150")  # no deadline at all
    history.case(11, payer, july, "100", recovered="40", deadlines=[day(-5), day(10)])
    history.case(12, payer, july, "200", next_deadline=day(3))
    return history
