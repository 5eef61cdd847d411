"""Notifications end to end on the read model, e-mailed to a real SMTP server in this process
(aiosmtpd): who is told of what (the escalation levels the projection wrote), urgent alerts at
once and a daily digest per user, each sent once whichever sweep or process runs, bounded
retries, STARTTLS and implicit TLS with sign-in, and no PHI in a message."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import CaseRow, TaskRow, UserRow
from db.notifications import NotificationRow
from domain.case import EscalationLevel
from services.mailer import NotificationSender, SmtpConfig
from services.notifications import (
    NotificationPreferences,
    NotificationService,
    derive,
)
from tests.services.smtp_server import free_port, smtp_server

EARLY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # before the digest hour (07:00 UTC)
DIGEST_TIME = EARLY.replace(hour=7, minute=5)
LINK = "https://denials.test"
# What the read model holds of the patient: never in a message.
PATIENT = {"name": "JANE Q PUBLIC", "member_id": "MBR99887766", "birth_date": "1961-04-02"}


@dataclass
class Office:
    biller: str
    supervisor: str
    due_soon: tuple[str, str]  # (case id, claim number)
    escalated: tuple[str, str]
    urgent: tuple[str, str]


def _user(session: Session, role: str, email: str | None) -> str:
    user_id = f"{role}-{uuid.uuid4().hex[:8]}"
    session.add(
        UserRow(
            user_id=user_id,
            display_name=user_id,
            role=role,
            email=email,
            created_at=EARLY,
        )
    )
    return user_id


def _case(
    session: Session, level: EscalationLevel, due_in: int, assignee: str | None
) -> tuple[str, str]:
    case_id = f"case-{uuid.uuid4().hex[:24]}"
    claim = f"CLM{uuid.uuid4().hex[:6].upper()}"
    due = EARLY.date() + timedelta(days=due_in)
    session.add(
        CaseRow(
            case_id=case_id,
            version=1,
            kind="denial",
            status="open",
            payer_id="PAYER",
            payer_name="Payer",
            payer_type="commercial",
            claim_id=claim,
            service_date_from=date(2026, 10, 1),
            billed_amount=Decimal(900),
            paid_amount=Decimal(0),
            denied_amount=Decimal(900),
            recovered_amount=Decimal(0),
            created_at=EARLY,
            updated_at=EARLY,
            state={"claim": {"patient": PATIENT}},
        )
    )
    session.add(
        TaskRow(
            task_id=f"{case_id}-t1",
            case_id=case_id,
            case_version=1,
            type="prepare_appeal",
            status="open",
            queue="biller" if assignee else "supervisor",
            assignee=assignee,
            deadline_key="appeal:1",
            deadline_due=due,
            escalation=int(level),
            created_at=EARLY,
            due_at=EARLY,
            last_touched_at=EARLY,
        )
    )
    return case_id, claim


def _office(engine: Engine, *, biller_email: bool = True) -> Office:
    with Session(engine) as session:
        tag = uuid.uuid4().hex[:6]
        biller = _user(session, "biller", f"biller-{tag}@example.org" if biller_email else None)
        supervisor = _user(session, "supervisor", f"sup-{tag}@example.org")
        session.commit()
        office = Office(
            biller,
            supervisor,
            due_soon=_case(session, EscalationLevel.REMINDER, 12, biller),
            escalated=_case(session, EscalationLevel.ESCALATED, 6, biller),
            urgent=_case(session, EscalationLevel.URGENT, 2, None),
        )
        session.commit()
    return office


def _email(engine: Engine, user_id: str) -> str:
    with Session(engine) as session:
        user = session.get(UserRow, user_id)
        assert user is not None and user.email
        return user.email


def _mine(engine: Engine, user_id: str) -> list[NotificationRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(NotificationRow)
                .where(col(NotificationRow.user_id) == user_id)
                .order_by(col(NotificationRow.kind))
            )
        )


def _sender(engine: Engine, port: int, **kwargs: object) -> NotificationSender:
    smtp = SmtpConfig(host="127.0.0.1", port=port, tls="none", sender="denials@example.org")
    return NotificationSender(
        engine,
        kwargs.pop("smtp", smtp),  # type: ignore[arg-type]
        link_base=LINK,
        tz=UTC,
        **kwargs,  # type: ignore[arg-type]
    )


def _no_phi(text: str) -> None:
    for value in PATIENT.values():
        assert value not in text
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b.*birth", text, re.IGNORECASE)


def test_who_is_told_of_what_once_on_each_database(engine: Engine) -> None:
    """The biller of her tasks at the reminder (and on), every supervisor of escalated and
    urgent deadlines; deriving again, from a second session as another process would, adds
    nothing."""
    office = _office(engine)
    with Session(engine) as session:  # a task the supervisor works herself
        own_case, _ = _case(session, EscalationLevel.REMINDER, 13, office.supervisor)
        session.commit()
    with Session(engine) as first, Session(engine) as second:
        assert derive(first, EARLY) >= 5  # 5 here; PostgreSQL is shared with other tests
        assert derive(second, EARLY) == 0
        assert derive(first, EARLY + timedelta(minutes=1)) == 0
    biller = {(n.case_id, n.kind) for n in _mine(engine, office.biller)}
    assert biller == {(office.due_soon[0], "due_soon"), (office.escalated[0], "due_soon")}
    supervisor = {(n.case_id, n.kind, n.email_status) for n in _mine(engine, office.supervisor)}
    assert (office.escalated[0], "escalated", "digest") in supervisor
    assert (office.urgent[0], "urgent", "pending") in supervisor
    assert (own_case, "due_soon", "digest") in supervisor
    assert office.due_soon[0] not in {case for case, _, _ in supervisor}  # T-14: its worker only


def test_urgent_at_once_digest_daily_each_sent_once(sqlite_engine: Engine) -> None:
    office = _office(sqlite_engine)
    sup, biller = _email(sqlite_engine, office.supervisor), _email(sqlite_engine, office.biller)
    with smtp_server() as (inbox, port):
        one, other = _sender(sqlite_engine, port), _sender(sqlite_engine, port)
        report = one.sweep(EARLY)
        assert report.alerts_sent == 1 and report.digests_sent == 0
        assert other.sweep(EARLY).alerts_sent == 0  # a second process: nothing left to send
        [alert] = inbox.received
        case_id, claim = office.urgent
        assert alert.rcpt_tos == [sup] and alert.mail_from == "denials@example.org"
        assert re.fullmatch(r"<denials-notification-\d+@example\.org>", alert.message["Message-ID"])
        assert alert.message["Subject"] == (
            f"Urgent: claim {claim}, Appeal level 1 deadline {EARLY.date() + timedelta(days=2)}"
        )
        assert claim in alert.body and f"{LINK}/cases/{case_id}" in alert.body
        _no_phi(alert.body + alert.message["Subject"])

        # The digest hour: one digest per user, with what is not urgent.
        assert other.sweep(DIGEST_TIME).digests_sent + one.sweep(DIGEST_TIME).digests_sent == 2
        [sup_digest] = inbox.to(sup)[1:]
        [biller_digest] = inbox.to(biller)
        assert sup_digest.message["Subject"] == "Denials digest 2026-12-07: 1 notification(s)"
        assert office.escalated[1] in sup_digest.body
        assert f"{LINK}/cases/{office.escalated[0]}" in sup_digest.body
        assert office.urgent[1] not in sup_digest.body  # already told, at once
        assert biller_digest.message["Subject"] == "Denials digest 2026-12-07: 2 notification(s)"
        for case_id, claim in (office.due_soon, office.escalated):
            assert claim in biller_digest.body and f"{LINK}/cases/{case_id}" in biller_digest.body
        for message in (sup_digest, biller_digest):
            _no_phi(message.body + message.message["Subject"])

        # Later sweeps, the same day or by a restarted sender, send nothing again.
        for sweeper in (one, other, _sender(sqlite_engine, port)):
            sweeper.sweep(DIGEST_TIME + timedelta(hours=3))
        assert len(inbox.received) == 3
    with Session(sqlite_engine) as session:
        notes = NotificationService(session)
        assert notes.unread_count(office.supervisor) == 2
        assert notes.unread_count(office.biller) == 2


def test_digest_off_and_no_address(sqlite_engine: Engine) -> None:
    office = _office(sqlite_engine, biller_email=False)
    with Session(sqlite_engine) as session:
        NotificationService(session).set_preferences(
            office.supervisor, NotificationPreferences(email_digest=False)
        )
    with smtp_server() as (inbox, port):
        sender = _sender(sqlite_engine, port)
        sender.sweep(EARLY)
        sender.sweep(DIGEST_TIME)
        # The supervisor still gets the urgent alert; no digest for her, none for the biller.
        assert [m.message["Subject"].split(":")[0] for m in inbox.received] == ["Urgent"]
    statuses = {n.kind: n.email_status for n in _mine(sqlite_engine, office.supervisor)}
    assert statuses == {"escalated": "off", "urgent": "sent"}
    assert {n.email_status for n in _mine(sqlite_engine, office.biller)} == {"in_digest"}


def test_a_server_down_is_retried_a_bounded_number_of_times(sqlite_engine: Engine) -> None:
    office = _office(sqlite_engine)
    dead = SmtpConfig(host="127.0.0.1", port=free_port(), tls="none", sender="d@example.org")
    sender = _sender(sqlite_engine, 0, smtp=dead, max_attempts=2)
    assert sender.sweep(EARLY).failures == 1
    [urgent] = [n for n in _mine(sqlite_engine, office.supervisor) if n.kind == "urgent"]
    assert (urgent.email_status, urgent.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in urgent.last_error
    assert urgent.next_attempt_at is not None and urgent.next_attempt_at > EARLY
    assert sender.sweep(EARLY + timedelta(seconds=30)).failures == 0  # not yet due again
    assert sender.sweep(EARLY + timedelta(minutes=2)).failures == 1
    [urgent] = [n for n in _mine(sqlite_engine, office.supervisor) if n.kind == "urgent"]
    assert (urgent.email_status, urgent.attempts) == ("failed", 2)
    assert sender.sweep(EARLY + timedelta(minutes=50)).failures == 0  # given up


def test_a_send_cut_short_is_claimed_again_after_its_lease(sqlite_engine: Engine) -> None:
    """A process that died while sending leaves the alert 'sending': once its lease ends, a
    sweep sends it (once)."""
    office = _office(sqlite_engine)
    with Session(sqlite_engine) as session:
        derive(session, EARLY)
        urgent = session.exec(
            select(NotificationRow).where(
                NotificationRow.user_id == office.supervisor, NotificationRow.kind == "urgent"
            )
        ).one()
        urgent.email_status, urgent.claimed_until = "sending", EARLY + timedelta(minutes=5)
        session.add(urgent)
        session.commit()
    with smtp_server() as (inbox, port):
        sender = _sender(sqlite_engine, port)
        assert sender.sweep(EARLY + timedelta(minutes=1)).alerts_sent == 0  # still leased
        assert sender.sweep(EARLY + timedelta(minutes=6)).alerts_sent == 1
        assert sender.sweep(EARLY + timedelta(minutes=7)).alerts_sent == 0
        assert len(inbox.received) == 1


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_with_sign_in(sqlite_engine: Engine, tmp_path: Path, tls: str) -> None:
    office = _office(sqlite_engine)
    login = ("denials", "s3cret-smtp")
    with smtp_server(tls, tmp_path, login) as (inbox, port):
        smtp = SmtpConfig(
            host="127.0.0.1",
            port=port,
            tls=tls,  # type: ignore[arg-type]
            sender="denials@example.org",
            username=login[0],
            password=login[1],
            ca_file=tmp_path / "smtp-cert.pem",
        )
        assert _sender(sqlite_engine, port, smtp=smtp).sweep(EARLY).alerts_sent == 1
        wrong = SmtpConfig(**{**smtp.__dict__, "password": "nope"})
        with Session(sqlite_engine) as session:  # a fresh alert, to send with a wrong password
            _case(session, EscalationLevel.URGENT, 1, None)
            session.commit()
        report = _sender(sqlite_engine, port, smtp=wrong).sweep(EARLY)
        assert report.failures == 1 and report.alerts_sent == 0
        with Session(sqlite_engine) as session:
            errors = session.exec(
                select(NotificationRow.last_error).where(NotificationRow.last_error != "")
            ).all()
        assert [e.split(":")[0] for e in errors] == ["SMTPAuthenticationError"]
    assert [m.rcpt_tos for m in inbox.received] == [[_email(sqlite_engine, office.supervisor)]]


def test_senders_racing_send_each_once_on_each_database(engine: Engine) -> None:
    """Four senders sweeping at the same moments in threads, as several worker processes
    would: each alert and each digest reaches its user once."""
    office = _office(engine)
    sup, biller = _email(engine, office.supervisor), _email(engine, office.biller)
    with smtp_server() as (inbox, port):
        senders = [_sender(engine, port) for _ in range(4)]
        for moment in (EARLY, DIGEST_TIME, DIGEST_TIME + timedelta(minutes=1)):
            with ThreadPoolExecutor(len(senders)) as pool:
                list(pool.map(NotificationSender.sweep, senders, [moment] * len(senders)))
        # PostgreSQL is shared: the other tests' escalated cases reach this supervisor too.
        alerts = [m for m in inbox.to(sup) if m.message["Subject"].startswith("Urgent")]
        assert sum(office.urgent[1] in m.message["Subject"] for m in alerts) == 1
        assert len({m.message["Subject"] for m in alerts}) == len(alerts)  # none twice
        digests = [m for m in inbox.to(sup) if m.message["Subject"].startswith("Denials")]
        assert len(digests) == 1 and office.escalated[1] in digests[0].body
        [digest] = inbox.to(biller)
        for case_id, claim in (office.due_soon, office.escalated):
            assert claim in digest.body and f"{LINK}/cases/{case_id}" in digest.body
