"""Learned risk: a denial probability per claim and line from this organisation's own history,
with the factors behind it (README, "Learned risk").

`active_scorer(session)` answers the scorer of the model in use (None before one is trained);
`retrain(session, trigger)` learns a new version from the stored history and keeps it.

The model's libraries (scikit-learn, numpy, scipy: about 100 MiB and seconds to import) load
only when a model is scored or trained, not in every process that may check a claim."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from db.risk_models import StoredModel, active_version, model_bytes, save_model
from services.claim_risk.extract import stored_history
from services.claim_risk.history import NotEnoughHistory

if TYPE_CHECKING:
    from services.claim_risk.scoring import RiskScorer

__all__ = ["NotEnoughHistory", "active_scorer", "retrain"]

HISTORY_DAYS = 365
MIN_AUC = 0.6  # a new version below this on its held-out slice is kept but not used
log = logging.getLogger(__name__)
_loaded: dict[str, RiskScorer] = {}  # by checksum: a model is loaded once per process
_lock = threading.Lock()


def active_scorer(session: Session) -> RiskScorer | None:
    """The scorer of the active model, loaded once per process (its bytes are checked against
    their SHA-256 on load)."""
    found = active_version(session)
    if found is None:
        return None
    version, checksum = found
    from services.claim_risk.model import RiskModel
    from services.claim_risk.scoring import RiskScorer

    with _lock:
        scorer = _loaded.get(checksum)
        if scorer is None:
            scorer = RiskScorer(RiskModel.from_bytes(model_bytes(session, version)), version)
            _loaded.clear()  # only the active one is worth its memory
            _loaded[checksum] = scorer
    return scorer


def retrain(session: Session, trigger: str, *, today: datetime | None = None) -> StoredModel:
    """Learn from the last HISTORY_DAYS of stored history and store the new version, active
    when its held-out AUC reaches MIN_AUC. Raises NotEnoughHistory when there is too little."""
    from services.claim_risk.model import train

    now = today or datetime.now(UTC)
    lines = list(stored_history(session, (now - timedelta(days=HISTORY_DAYS)).date()))
    model = train(lines)
    auc = model.metrics.get("held_out_auc")
    good = auc is not None and auc >= MIN_AUC
    stored = save_model(
        session,
        model.to_bytes(),
        lines=len(lines),
        metrics=model.metrics,
        trigger=trigger,
        activate=good,
        note="" if good else f"not used: held-out AUC {auc} is below {MIN_AUC}",
    )
    session.commit()
    log.info("risk model %s trained on %d lines, active: %s", stored.version, len(lines), good)
    return stored
