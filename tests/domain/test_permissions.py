"""The role matrix is the one place permissions live (issue 17, item 2): the rules built on it
follow an edit of the matrix, and no product module checks a role by hand instead."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain import permissions
from domain.appeals.access import letter_edit_problem, letter_view_problem
from domain.case import Actor, CasePolicy, Role
from domain.models import Category
from domain.permissions import (
    Permission,
    roles_allowed,
    work_permission_problem,
    write_off_approval_problem,
)
from domain.rulebook import Rulebook
from tests.domain.appeals.case_builder import letter_case
from tests.domain.test_case_rules import make_task

ROOT = Path(__file__).resolve().parents[2]
ALICE = Actor(user_id="alice", role=Role.BILLER)
SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
DREW = Actor(user_id="drew", role=Role.PHYSICIAN)


def grant(monkeypatch: pytest.MonkeyPatch, role: Role, *granted: Permission) -> None:
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS, role, permissions.ROLE_PERMISSIONS[role] | set(granted)
    )


def revoke(monkeypatch: pytest.MonkeyPatch, role: Role, *revoked: Permission) -> None:
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS, role, permissions.ROLE_PERMISSIONS[role] - set(revoked)
    )


def test_working_another_persons_task_follows_the_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    bobs = make_task(queue=Role.BILLER, assignee="bob")
    assert work_permission_problem(SAM, bobs) is None
    assert work_permission_problem(ALICE, bobs) == (
        f"task {bobs.task_id} is assigned to bob, not to alice"
    )
    grant(monkeypatch, Role.BILLER, Permission.WORK_ANY_TASK)
    revoke(monkeypatch, Role.SUPERVISOR, Permission.WORK_ANY_TASK)
    assert work_permission_problem(ALICE, bobs) is None
    assert work_permission_problem(SAM, bobs) == (
        f"task {bobs.task_id} is assigned to bob, not to sam"
    )


def test_a_queue_is_worked_by_its_role_or_by_whoever_works_any_task() -> None:
    waiting = make_task(queue=Role.SUPERVISOR, assignee=None)
    assert work_permission_problem(ALICE, waiting) == (
        f"task {waiting.task_id} is in the supervisor queue"
    )
    assert work_permission_problem(SAM, waiting) is None
    assert work_permission_problem(DREW, waiting) == "role 'physician' cannot work case tasks"


def test_write_off_approval_follows_the_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = CasePolicy()
    large = policy.write_off_approval_threshold + Decimal(1)
    assert write_off_approval_problem(SAM, large, policy) is None
    assert write_off_approval_problem(ALICE, large, policy) is not None
    assert write_off_approval_problem(ALICE, policy.write_off_approval_threshold, policy) is None
    grant(monkeypatch, Role.BILLER, Permission.APPROVE_WRITE_OFFS)
    assert write_off_approval_problem(ALICE, large, policy) is None


def test_letters_follow_the_matrix(monkeypatch: pytest.MonkeyPatch, rulebook: Rulebook) -> None:
    case = letter_case(rulebook, Category.CODING)  # no attestation needed
    owned = case.model_copy(update={"owner": "bob"})
    assert letter_edit_problem(SAM, owned) is None
    assert letter_edit_problem(ALICE, owned) == (
        "only the case's owner (bob) or a supervisor works its appeal letter"
    )
    assert letter_view_problem(DREW, case) is not None
    grant(monkeypatch, Role.PHYSICIAN, Permission.VIEW_CASES)  # reads cases: sees them all
    assert letter_view_problem(DREW, case) is None
    grant(monkeypatch, Role.BILLER, Permission.WORK_ANY_TASK)
    assert letter_edit_problem(ALICE, owned) is None


def test_roles_allowed_reads_the_matrix() -> None:
    assert roles_allowed(Permission.WORK_TASKS) == [Role.BILLER, Role.SUPERVISOR]
    assert roles_allowed(Permission.COVERED_WHEN_AWAY) == [Role.BILLER]
    assert roles_allowed(Permission.RECOUNT_DEADLINES) == [Role.SUPERVISOR, Role.ADMIN]


# A role compared by hand where a permission belongs: `role is not Role.X`, `role in (...)`,
# `role == Role.X`. A task's queue and a case's owner are routing, not permission: a biller who
# takes up a case owns it (`role is Role.BILLER and ... owner`), a queue is named by its role.
HAND_WRITTEN = re.compile(
    r"role\)?\s+(is not|not in|in|==|!=)\s+(\(|\[|Role\.)"
    r"|role\s+is\s+Role\.(SUPERVISOR|ADMIN|PHYSICIAN)"
)
LAYERS = ("domain", "workflows", "activities", "services", "api", "web")


def test_no_product_module_checks_a_role_by_hand() -> None:
    found = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if path == ROOT / "domain" / "permissions.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HAND_WRITTEN.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "ask domain.permissions.allows instead:\n" + "\n".join(found)
