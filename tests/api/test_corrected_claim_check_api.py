"""Issue 18's "done when" over HTTP: a prevention edit written on the board blocks the next
corrected claim that matches it (refused with the edit's fix before anything reaches the
outbox, its hit counted); the claim corrected as the fix says goes out."""

from __future__ import annotations

from sqlmodel import Session

from db.prevention_edits import edit_versions
from tests.api.conftest import Api, as_user, problem
from tests.api.test_corrected_claim_api import _ingested_case, _outbox, _submit
from tests.prevention_items import add_prevention_item
from tests.recent_samples import LINE_DENIAL_ICN, recent_emedny_835

SAM = as_user("sam")


def _prevention_item(api: Api) -> str:
    with Session(api.harness.engine) as session:
        item_id = add_prevention_item(session, payer_id="any", action="Add LT/RT")
        session.commit()
    return item_id


async def test_an_edit_on_the_board_blocks_the_next_matching_corrected_claim(api: Api) -> None:
    today = await api.harness.today()
    case_id, detail = await _ingested_case(
        api, "emedny.835", recent_emedny_835(today), LINE_DENIAL_ICN
    )
    task_id = await api.to_corrected_claim_task(case_id, detail)
    item_id = _prevention_item(api)
    edit = await api.http.post(
        f"/api/v1/prevention/{item_id}/edits",
        json={
            "severity": "block",
            "fix": "Add modifier LT or RT to lens lines",
            "condition": {"procedure_codes": ["V2700"], "modifier_missing": "LT"},
        },
        headers=SAM,
    )
    assert edit.status_code == 201, edit.text
    code = f"{edit.json()['edit_id']}@v1"

    line_4 = {"line_number": 4, "units": "2", "diagnosis_pointers": [2]}
    unfixed = {
        "diagnosis_codes": ["H52.13", "H52.4"],
        "lines": [{"line_number": 3, "units": "1"}, line_4],
    }
    refused = await _submit(api, task_id, unfixed, today.isoformat())
    assert refused.status_code == 422, refused.text
    said = problem(refused)
    assert said.startswith("the check before sending blocks this corrected claim: line 3: ")
    assert code in said and "Fix: Add modifier LT or RT to lens lines" in said
    assert not (api.harness.data_dir / "outbox").exists()
    with Session(api.harness.engine) as session:
        assert [v.hits for v in edit_versions(session, item_id)] == [1]

    fixed = {
        "diagnosis_codes": ["H52.13", "H52.4"],
        "lines": [{"line_number": 3, "units": "1", "modifiers": ["RB", "LT"]}, line_4],
    }
    sent = await _submit(api, task_id, fixed, today.isoformat())
    assert sent.status_code == 200, sent.text
    assert "V2700:RB:LT" in _outbox(api, case_id)
    with Session(api.harness.engine) as session:
        assert [v.hits for v in edit_versions(session, item_id)] == [1]
    audit = await api.http.get(
        "/api/v1/audit", params={"action": "claim_check.corrected_claim"}, headers=SAM
    )
    [entry] = audit.json()["items"]
    assert (entry["outcome"], entry["case_id"], entry["user_id"]) == ("refused", case_id, "alice")
