"""The notifications API: each user sees and marks only her own; preferences; admins set
users' e-mail addresses (the pages and the bell: tests/web/test_notifications_browser.py)."""

from __future__ import annotations

from sqlmodel import Session

from db.models import UserRow
from domain.case import EscalationLevel
from services.notifications import derive
from tests.api.conftest import Api, as_user, problem
from tests.services.test_notifications import EARLY, _case


async def test_own_notifications_marked_read(api: Api) -> None:
    engine = api.harness.engine
    with Session(engine) as session:
        case_id, claim = _case(session, EscalationLevel.URGENT, 2, None)
        session.commit()
        derive(session, EARLY)
    listed = await api.http.get("/api/v1/notifications", headers=as_user("sam"))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    [note] = [n for n in body["items"] if n["case_id"] == case_id]
    assert (note["claim_id"], note["kind"], note["read"]) == (claim, "urgent", False)
    assert note["deadline_kind"] == "Appeal level 1" and body["unread"] >= 1
    # alice holds no task of the case: nothing for her, and sam's is not hers to mark.
    alices = (await api.http.get("/api/v1/notifications", headers=as_user("alice"))).json()
    assert case_id not in {n["case_id"] for n in alices["items"]}
    refused = await api.http.post(
        f"/api/v1/notifications/{note['id']}/read", headers=as_user("alice")
    )
    assert refused.status_code == 404
    read = await api.http.post(f"/api/v1/notifications/{note['id']}/read", headers=as_user("sam"))
    assert read.json()["read"] is True
    after = (await api.http.get("/api/v1/notifications", headers=as_user("sam"))).json()
    assert after["unread"] == body["unread"] - 1
    marked = await api.http.post("/api/v1/notifications/read-all", headers=as_user("sam"))
    assert marked.json() == {"marked": after["unread"]}


async def test_preferences_and_email_addresses(api: Api) -> None:
    prefs = await api.http.get("/api/v1/notifications/preferences", headers=as_user("bob"))
    assert prefs.json() == {"email_digest": True}
    off = await api.http.put(
        "/api/v1/notifications/preferences", json={"email_digest": False}, headers=as_user("bob")
    )
    assert off.json() == {"email_digest": False}
    changed = await api.http.patch(
        "/api/v1/users/bob", json={"email": "bob.okafor@hospital.example"}, headers=as_user("ada")
    )
    assert changed.json()["email"] == "bob.okafor@hospital.example"
    bad = await api.http.patch(
        "/api/v1/users/bob", json={"email": "bob@x\nBcc: all@x.org"}, headers=as_user("ada")
    )
    assert problem(bad) == "email: Value error, an e-mail address such as name@example.org"
    removed = await api.http.patch("/api/v1/users/bob", json={"email": ""}, headers=as_user("ada"))
    assert removed.json()["email"] is None
    with Session(api.harness.engine) as session:
        user = session.get(UserRow, "bob")
        assert user is not None and user.email is None
