"""The case list's search on SQLite and PostgreSQL: claim numbers by any part, patient names
in any order and case, member ids, payers by name, assignees by display name, the date ranges;
and saved filters, each user's own, audited with their terms withheld from admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.case_search import SEARCH_WORDS_TABLE, CaseSearchRow
from db.models import AuditEventRow, CaseRow, UserRow
from db.projection import write_case_projection
from domain.audit_detail import WITHHELD, visible_detail
from domain.case import Actor, CasePolicy, CaseState, CaseStatus, Role
from domain.case_search import normalise, search_terms
from domain.models import Patient, Payer, PayerType
from services.audit import AuditService
from services.case_list import page_statements
from services.cases import CaseService
from services.errors import Invalid, NotFound
from services.saved_filters import SavedFilterIn, SavedFilterService
from services.schemas import CaseFilters
from testkit.records import make_record

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Shelf:
    """Cases projected as the workflow projects them, each test's own: a fresh tag in every
    number and name keeps PostgreSQL's shared database from mixing tests."""

    session: Session
    cases: CaseService
    tag: str
    actor: Actor

    def add(
        self,
        number: str,
        *,
        patient: str = "Test Patient",
        member: str = "",
        payer: str = "Acme Health",
        assignee: str | None = None,
        remitted: date | None = date(2026, 2, 20),
        deadline_days: int = 30,
    ) -> str:
        record = make_record(date(2026, 3, 2), number=f"{self.tag}{number}")
        claim = record.claim.model_copy(
            update={
                "patient": Patient(name=patient, member_id=member),
                "payer": Payer(payer_id=f"P{self.tag}", name=payer, type=PayerType.COMMERCIAL),
                "remittance_date": remitted,
            }
        )
        case_id = f"case-{uuid.uuid4().hex[:24]}"
        state = CaseState(
            case_id=case_id,
            record=record.model_copy(update={"claim": claim}),
            policy=CasePolicy(),
            status=CaseStatus.TRIAGED,
            version=1,
            created_at=T0,
            updated_at=T0,
        )
        write_case_projection(self.session, state, [])
        self.session.commit()
        if assignee is not None:  # the read model's assignee (from the state's open tasks)
            self.set(case_id, assignee=assignee)
        return case_id

    def set(self, case_id: str, **values: object) -> None:
        row = self.session.get(CaseRow, case_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)
        self.session.commit()

    def found(self, **filters: object) -> set[str]:
        # Each test's cases carry its payer id: other tests' cases stay out of the counts.
        page = self.cases.list_cases(
            CaseFilters(payer_id=f"P{self.tag}", **filters),  # type: ignore[arg-type]
            self.actor,
        )
        assert page.total == len(page.items)
        return {case.case_id for case in page.items}


@pytest.fixture
def shelf(engine: Engine) -> Iterator[Shelf]:
    with Session(engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        # Letters only: a digit next to the numbers the tests type would make matches of its own.
        tag = "".join(chr(65 + int(c, 16)) for c in uuid.uuid4().hex[:6])
        actor = Actor(user_id=f"sam-{tag.lower()}", role=Role.SUPERVISOR)
        session.add(
            UserRow(user_id=actor.user_id, display_name="Sam", role="supervisor", created_at=T0)
        )
        session.commit()
        cases = CaseService(session, None, None, CasePolicy(), "q", audit)  # type: ignore[arg-type]
        yield Shelf(session, cases, tag, actor)


def test_search_words_are_normalised() -> None:
    assert normalise("  Dóe,\tJANE ") == "doe, jane"
    assert search_terms("DOE, Jane  jane") == ["doe", "jane"]
    assert search_terms("   ") == []


def test_a_partial_claim_number_finds_the_case(shelf: Shelf) -> None:
    wanted = shelf.add("0000007")
    seventy = shelf.add("0000070")
    other = shelf.add("0001234")
    assert shelf.found(q="0007") == {wanted, seventy}  # "0007" is in 0000070 too
    assert shelf.found(q="0000007") == {wanted}
    assert shelf.found(q=f"pcn{shelf.tag.lower()}0000007") == {wanted}  # any case
    assert shelf.found(q="1234") == {other}
    assert shelf.found(q="ICN") == shelf.found()  # the payer's number (CLP07) too
    assert shelf.found(q="9999") == set()


def test_patient_name_any_part_any_case_and_member_id(shelf: Shelf) -> None:
    jane = shelf.add("1", patient="DOE, JANE", member="XQ77001")
    john = shelf.add("2", patient="DOE, JOHN", member="XQ77002")
    shelf.add("3", patient="ROE, MARY")
    assert shelf.found(q="doe") == {jane, john}
    assert shelf.found(q="jane doe") == {jane}  # every word, in any order
    assert shelf.found(q="Jan") == {jane}
    assert shelf.found(q="xq77002") == {john}
    assert shelf.found(q="jane 77002") == set()
    assert shelf.found(q="100%") == set()  # LIKE's wildcards are taken as typed


def test_payer_by_name(shelf: Shelf) -> None:
    acme = shelf.add("1", payer="Acme Health Plan")
    blue = shelf.add("2", payer="Bluebird Mutual")
    assert shelf.found(q="bluebird") == {blue}
    assert shelf.found(q="health") == {acme}


def test_assignee_by_display_name(shelf: Shelf) -> None:
    user_id = f"u{shelf.tag.lower()}"
    shelf.session.add(
        UserRow(user_id=user_id, display_name="Quentin Zephyr", role="biller", created_at=T0)
    )
    shelf.session.commit()
    theirs = shelf.add("1", assignee=user_id)
    shelf.add("2", assignee=None)
    assert shelf.found(q="zephyr") == {theirs}
    assert shelf.found(q="QUENTIN") == {theirs}
    assert shelf.found(q=user_id) == {theirs}


def test_date_ranges(shelf: Shelf) -> None:
    early = shelf.add("1", remitted=date(2026, 1, 10), deadline_days=10)
    late = shelf.add("2", remitted=date(2026, 2, 25), deadline_days=60)
    unremitted = shelf.add("3", remitted=None)
    assert shelf.found(remitted_from=date(2026, 2, 1)) == {late}
    assert shelf.found(remitted_to=date(2026, 1, 31)) == {early}
    assert shelf.found(remitted_from=date(2026, 1, 10), remitted_to=date(2026, 2, 25)) == {
        early,
        late,
    }
    # Denied on: the remittance date, else the day the case was received.
    assert shelf.found(denied_from=date(2026, 3, 1)) == {unremitted}
    assert shelf.found(denied_to=date(2026, 1, 10)) == {early}
    # No deadline is projected for an untriaged state: a deadline range finds none of them.
    assert shelf.found(deadline_after=date(2026, 1, 1)) == set()


def test_saved_filters_are_each_users_own_and_audited(shelf: Shelf) -> None:
    saved = SavedFilterService(shelf.session, AuditService(shelf.session))
    wanted = shelf.add("0000007", patient="DOE, JANE")
    filters = CaseFilters(q="doe", payer_id=f"P{shelf.tag}", open_only=True, limit=10)
    kept = saved.save(SavedFilterIn(name="  Jane's   claims ", filters=filters), shelf.actor)
    assert kept.name == "Jane's claims"
    assert kept.filters.limit == 50  # the page is not kept
    [listed] = saved.list(shelf.actor)
    assert listed.filter_id == kept.filter_id
    assert shelf.cases.list_cases(listed.filters, shelf.actor).items[0].case_id == wanted
    assert "q=doe" in listed.query and "open_only=true" in listed.query
    # The same name again replaces it.
    again = saved.save(
        SavedFilterIn(name="Jane's claims", filters=CaseFilters(q="jane")), shelf.actor
    )
    assert again.filter_id == kept.filter_id
    assert [f.filters.q for f in saved.list(shelf.actor)] == ["jane"]
    # Another user neither sees nor deletes it.
    bob = Actor(user_id="bob", role=Role.BILLER)
    assert kept.filter_id not in {f.filter_id for f in saved.list(bob)}
    with pytest.raises(NotFound):
        saved.delete(kept.filter_id, bob)
    with pytest.raises(Invalid):
        saved.save(SavedFilterIn(name="empty", filters=CaseFilters()), shelf.actor)
    saved.delete(kept.filter_id, shelf.actor)
    assert saved.list(shelf.actor) == []
    entries = shelf.session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.user_id == shelf.actor.user_id)
        .where(col(AuditEventRow.action).startswith("case_filter."))
        .order_by(col(AuditEventRow.id))
    ).all()
    assert [(e.action, e.outcome) for e in entries] == [
        ("case_filter.save", "ok"),
        ("case_filter.save", "ok"),
        ("case_filter.save", "refused"),
        ("case_filter.delete", "ok"),
    ]
    first = entries[0].detail
    assert first["filters"]["q"] == "doe"  # supervisors read the search
    admin_view = visible_detail(first, full=False)
    assert admin_view == {"filter_id": kept.filter_id, "filters": WITHHELD}
    assert "Jane" not in str(first)  # the name is not recorded


def test_deadline_range(shelf: Shelf) -> None:
    soon, later = shelf.add("1"), shelf.add("2")
    shelf.set(soon, next_deadline=date(2026, 3, 20))
    shelf.set(later, next_deadline=date(2026, 5, 1))
    assert shelf.found(deadline_after=date(2026, 4, 1)) == {later}
    assert shelf.found(deadline_before=date(2026, 3, 31)) == {soon}
    one_day = {"deadline_after": date(2026, 3, 20), "deadline_before": date(2026, 3, 20)}
    assert shelf.found(**one_day) == {soon}


def test_a_changed_claim_number_is_found_by_its_new_digits_only(shelf: Shelf) -> None:
    """On SQLite the trigram table keeps the old text's row: it may propose the case, and the
    LIKE on case_search rejects it."""
    case_id = shelf.add("0000505")
    row = shelf.session.get(CaseSearchRow, case_id)
    assert row is not None
    row.text = row.text.replace("0000505", "0000606")
    shelf.session.add(row)
    shelf.session.commit()
    assert shelf.found(q="0000505") == set()
    assert shelf.found(q="0000606") == {case_id}


def test_a_number_is_looked_up_in_the_trigram_index(engine: Engine) -> None:
    """A word with a digit goes through the trigram table on SQLite; PostgreSQL has pg_trgm's
    index on the search text, for its planner to use."""
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            count, _ = page_statements(CaseFilters(q="pcn0000505"))
            compiled = count.compile(engine)
            plan = session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())
            )
            steps = [row[3] for row in plan]
            assert any(f"{SEARCH_WORDS_TABLE} VIRTUAL TABLE" in step for step in steps)
            assert "SCAN case_search" not in steps  # looked up by the index's matches
            count, _ = page_statements(CaseFilters(q="doe"))  # a name's word: the scan
            assert SEARCH_WORDS_TABLE not in str(count.compile(engine))
        else:
            found = session.exec(
                select(text("indexdef"))
                .select_from(text("pg_indexes"))
                .where(text("indexname = 'ix_case_search_text_trgm'"))
            ).one()
            assert "gin_trgm_ops" in found
