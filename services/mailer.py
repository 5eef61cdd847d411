"""E-mail for notifications: urgent alerts at once, a daily digest per user, each sent once.

`NotificationSender.sweep` derives the notifications (services.notifications), then sends what
is due. Several processes may sweep at the same time: an e-mail is claimed by a conditional
UPDATE (only one sweep wins it) with a lease, so a process that dies mid-send leaves it to be
claimed again once the lease ends; a failure is retried with a growing delay, up to
`notify_max_attempts`, then marked failed. A message carries no PHI: the claim number, the
deadline's kind and date, and a link to the case (case ids carry no PHI).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import UserRow
from db.notifications import NotificationDigestRow, NotificationPreferenceRow, NotificationRow
from services.notifications import KIND_WORDS, deadline_words, derive

log = logging.getLogger(__name__)

Table = type[NotificationRow] | type[NotificationDigestRow]
LEASE = timedelta(minutes=5)  # longer than any SMTP conversation (timeout 15 s by default)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: Literal["starttls", "implicit", "none"]
    sender: str
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpConfig | None:
        if not settings.smtp_host:
            return None
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout_seconds,
        )


def send_email(config: SmtpConfig, message: EmailMessage) -> None:
    """One SMTP conversation; certificates are verified (against `ca_file` if set)."""
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    smtp: smtplib.SMTP
    if config.tls == "implicit":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with smtp:
        if config.tls == "starttls":
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)


def _message(config: SmtpConfig, to: str, subject: str, body: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config.sender, to, subject
    message["Date"] = formatdate(localtime=False)
    # The same id on a resend after a lost answer lets mail systems drop the duplicate.
    domain = config.sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<denials-{key}@{domain}>"
    message.set_content(body)
    return message


def _line(row: NotificationRow, link_base: str) -> str:
    return (
        f"{KIND_WORDS.get(row.kind, row.kind)}: claim {row.claim_id}, "
        f"{deadline_words(row.deadline_key)} deadline {row.deadline.isoformat()}\n"
        f"  {link_base}/cases/{row.case_id}"
    )


def alert_message(
    config: SmtpConfig, to: str, row: NotificationRow, link_base: str
) -> EmailMessage:
    subject = (
        f"Urgent: claim {row.claim_id}, {deadline_words(row.deadline_key)} deadline "
        f"{row.deadline.isoformat()}"
    )
    body = (
        f"{_line(row, link_base)}\n\n"
        "The work racing this deadline is in the supervisor queue.\n"
        f"Your notifications: {link_base}/notifications\n"
    )
    return _message(config, to, subject, body, f"notification-{row.id}")


def digest_message(
    config: SmtpConfig,
    to: str,
    day: date,
    rows: list[NotificationRow],
    link_base: str,
    digest_id: int | None = None,
) -> EmailMessage:
    subject = f"Denials digest {day.isoformat()}: {len(rows)} notification(s)"
    lines = "\n".join(_line(row, link_base) for row in rows)
    body = (
        f"{lines}\n\nYour notifications: {link_base}/notifications\n"
        "(Turn the daily digest off on that page.)\n"
    )
    return _message(config, to, subject, body, f"digest-{digest_id}")


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** (attempts - 1)))


@dataclass
class SweepReport:
    derived: int = 0
    alerts_sent: int = 0
    digests_sent: int = 0
    failures: int = 0


class NotificationSender:
    def __init__(
        self,
        engine: Engine,
        smtp: SmtpConfig | None,
        *,
        link_base: str,
        tz: tzinfo,
        digest_hour: int = 7,
        max_attempts: int = 5,
    ) -> None:
        self._engine = engine
        self._smtp = smtp
        self._link_base = link_base.rstrip("/")
        self._tz = tz
        self._digest_hour = digest_hour
        self._max_attempts = max_attempts

    def sweep(self, now: datetime | None = None) -> SweepReport:
        now = now or datetime.now(UTC)
        report = SweepReport()
        with Session(self._engine, expire_on_commit=False) as session:
            report.derived = derive(session, now)
        if self._smtp is None:
            return report  # in the app only: the rows wait, unsent, for SMTP to be set up
        self._open_digests(now)
        for table in (NotificationRow, NotificationDigestRow):
            for row_id in self._due(table, now):
                if not self._claim(table, row_id, now):
                    continue  # another process took it
                sent = self._send(table, row_id, now)
                if sent is None:
                    continue
                if sent:
                    if table is NotificationRow:
                        report.alerts_sent += 1
                    else:
                        report.digests_sent += 1
                else:
                    report.failures += 1
        return report

    def _due(self, table: Table, now: datetime) -> list[int]:
        with Session(self._engine) as session:
            ids = session.exec(
                select(table.id).where(
                    or_(
                        (col(table.email_status) == "pending")
                        & (col(table.next_attempt_at) <= now),
                        (col(table.email_status) == "sending") & (col(table.claimed_until) < now),
                    )
                )
            ).all()
        return [i for i in ids if i is not None]

    def _claim(self, table: Table, row_id: int, now: datetime) -> bool:
        with Session(self._engine) as session:
            result = session.execute(
                update(table)
                .where(
                    col(table.id) == row_id,
                    or_(
                        (col(table.email_status) == "pending")
                        & (col(table.next_attempt_at) <= now),
                        (col(table.email_status) == "sending") & (col(table.claimed_until) < now),
                    ),
                )
                .values(email_status="sending", claimed_until=now + LEASE)
            )
            session.commit()
            return bool(result.rowcount)

    def _send(self, table: Table, row_id: int, now: datetime) -> bool | None:
        """Send one claimed e-mail; True sent, False failed this time, None nothing to send."""
        assert self._smtp is not None
        with Session(self._engine, expire_on_commit=False) as session:
            row = session.get(table, row_id)
            assert row is not None
            user = session.get(UserRow, row.user_id)
            # Nobody to write to, or an alert whose deadline has passed (SMTP was set up late).
            stale = isinstance(row, NotificationRow) and row.deadline < now.date()
            if user is None or not user.active or not user.email or stale:
                row.email_status, row.claimed_until = "skipped", None
                session.add(row)
                session.commit()
                return None
            if isinstance(row, NotificationRow):
                message = alert_message(self._smtp, user.email, row, self._link_base)
            else:
                items = list(
                    session.exec(
                        select(NotificationRow)
                        .where(col(NotificationRow.digest_id) == row.id)
                        .order_by(col(NotificationRow.deadline), col(NotificationRow.id))
                    )
                )
                message = digest_message(
                    self._smtp, user.email, row.day, items, self._link_base, row.id
                )
            row.attempts += 1
            try:
                send_email(self._smtp, message)
            except (OSError, smtplib.SMTPException) as error:
                # The server's words name no patient; the address and claim stay out of logs.
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                row.claimed_until = None
                if row.attempts >= self._max_attempts:
                    row.email_status = "failed"
                else:
                    row.email_status = "pending"
                    row.next_attempt_at = now + _retry_delay(row.attempts)
                log.warning(
                    "notification e-mail %s %s failed (attempt %d): %s",
                    table.__tablename__,
                    row_id,
                    row.attempts,
                    type(error).__name__,
                )
                session.add(row)
                session.commit()
                return False
            row.email_status, row.sent_at, row.claimed_until = "sent", now, None
            session.add(row)
            session.commit()
            return True

    def _open_digests(self, now: datetime) -> None:
        """From the digest hour of each office day: one digest per user with something
        waiting; the unique (user, day) key lets one process make it."""
        local = now.astimezone(self._tz)
        if local.time() < time(self._digest_hour):
            return
        day = local.date()
        with Session(self._engine) as session:
            waiting = set(
                session.exec(
                    select(NotificationRow.user_id).where(
                        col(NotificationRow.email_status) == "digest",
                        col(NotificationRow.digest_id).is_(None),
                    )
                ).all()
            )
            declined = set(
                session.exec(
                    select(NotificationPreferenceRow.user_id).where(
                        col(NotificationPreferenceRow.email_digest).is_(False)
                    )
                ).all()
            )
        for user_id in sorted(waiting):
            with Session(self._engine) as session:
                if user_id in declined:
                    session.execute(
                        update(NotificationRow)
                        .where(
                            col(NotificationRow.user_id) == user_id,
                            col(NotificationRow.email_status) == "digest",
                        )
                        .values(email_status="off")
                    )
                    session.commit()
                    continue
                digest = NotificationDigestRow(
                    user_id=user_id,
                    day=day,
                    created_at=now,
                    email_status="pending",
                    next_attempt_at=now,
                )
                session.add(digest)
                try:
                    session.flush()
                except IntegrityError:
                    session.rollback()  # today's digest exists: what came since waits for tomorrow
                    continue
                session.execute(
                    update(NotificationRow)
                    .where(
                        col(NotificationRow.user_id) == user_id,
                        col(NotificationRow.email_status) == "digest",
                        col(NotificationRow.digest_id).is_(None),
                    )
                    .values(digest_id=digest.id, email_status="in_digest")
                )
                session.commit()


def sender_from_settings(engine: Engine, settings: Any) -> NotificationSender:
    return NotificationSender(
        engine,
        SmtpConfig.from_settings(settings),
        link_base=settings.link_base,
        tz=settings.tz,
        digest_hour=settings.notify_digest_hour,
        max_attempts=settings.notify_max_attempts,
    )


async def run_sender(sender: NotificationSender, every_seconds: float) -> None:
    """Sweep every `every_seconds` until cancelled (the worker process runs it)."""
    while True:
        try:
            report = await asyncio.to_thread(sender.sweep)
            if report.alerts_sent or report.digests_sent or report.failures:
                log.info(
                    "notifications: %d alert(s), %d digest(s) sent, %d failed",
                    report.alerts_sent,
                    report.digests_sent,
                    report.failures,
                )
        except Exception as error:  # the database down: the next sweep tries again
            log.warning("notification sweep failed: %s", type(error).__name__)
        await asyncio.sleep(every_seconds)
