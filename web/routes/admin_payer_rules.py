"""The admin's payer rule pages: the versions per payer (in force, scheduled), and a new version
with its effective date, previewed before it is saved: which open cases' deadlines would move
once a supervisor recounts them (domain.rule_preview)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import AuditDep
from domain.permissions import Permission
from domain.rule_preview import RulePreview, rules_per_payer
from services.auth import SignedIn
from services.errors import Invalid
from services.payer_rules import PayerRuleStore
from web import rule_form
from web.session import PostedForm, page_permission
from web.templating import org_today, redirect_with_flash, render

router = APIRouter(include_in_schema=False)

RulesPage = Annotated[SignedIn, Depends(page_permission(Permission.MANAGE_RULES))]
PREVIEW_ROWS = 200  # the rest is counted, not listed
EDITED_SINCE_PREVIEW = "You changed the version after its preview: check this preview, then save."


def _store(request: Request) -> PayerRuleStore:
    return request.app.state.rule_store  # type: ignore[no-any-return]


def _fingerprint(raw: dict[str, Any]) -> str:
    """Which version a preview was shown for: saving needs the same one (edited since, it is
    previewed again)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


@router.get("/admin/payer-rules", response_class=HTMLResponse)
def rules_page(request: Request, user: RulesPage) -> HTMLResponse:
    today = org_today()
    groups = rules_per_payer(_store(request).rules(), today)
    return render(
        request, "admin_payer_rules.html", {"user": user, "groups": groups, "today": today}
    )


def _form_page(
    request: Request,
    user: SignedIn,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: RulePreview | None = None,
    fingerprint: str = "",
    note: str = "",
) -> HTMLResponse:
    context = {
        "user": user,
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "fingerprint": fingerprint,
        "note": note,
        "rule_options": [("", "nothing: every field given here")]
        + [(rule.id, rule.id) for rule in _store(request).rules()],
        "payer_types": rule_form.PAYER_TYPES,
        "levels": range(1, rule_form.APPEAL_ROWS + 1),
        "shown_rows": PREVIEW_ROWS,
    }
    return render(request, "admin_rule_new.html", context, 422 if errors else 200)


@router.get("/admin/payer-rules/new", response_class=HTMLResponse)
def new_rule_form(request: Request, user: RulesPage, based_on: str = "") -> HTMLResponse:
    """The form, for the payer of the rule it is based on when one is given."""
    base = next((rule for rule in _store(request).rules() if rule.id == based_on), None)
    given: dict[str, Any] = {"effective_from": org_today()}
    if base is not None:
        given |= {"based_on": base.id, "payer_id": base.payer_id, "payer_type": base.payer_type}
    return _form_page(request, user, rule_form.form_values(given))


@router.post("/admin/payer-rules/new", response_model=None)
def preview_or_save(
    request: Request, form: PostedForm, audit: AuditDep, user: RulesPage
) -> Response:
    """ "Preview" shows what the version would change; "Save" stores the version previewed,
    or previews again what was edited since."""
    values = rule_form.form_values(form)
    raw, errors = rule_form.rule_document(values)
    if errors:
        return _form_page(request, user, values, errors)
    store = _store(request)
    fingerprint = _fingerprint(raw)
    try:
        if form.get("step") != "save" or form.get("previewed") != fingerprint:
            note = EDITED_SINCE_PREVIEW if form.get("step") == "save" else ""
            preview = store.preview(raw, user.actor, org_today())
            return _form_page(request, user, values, None, preview, fingerprint, note)
        added = store.add(raw, user.actor)
    except Invalid as exc:
        return _form_page(request, user, values, rule_form.located_problems(exc.message))
    audit.record(
        user.actor,
        "payer_rule.add",
        rule_id=added.id,
        effective_from=added.effective_from.isoformat(),
    )
    return redirect_with_flash(
        "/admin/payer-rules",
        f"Rule version {added.id} saved, in effect from {added.effective_from}",
    )
