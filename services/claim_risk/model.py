"""Training and scoring the learned risk: scikit-learn's histogram gradient boosting over the
line features, its probabilities calibrated (isotonic) on the most recent slice of the history
it did not learn from, and the history's counts kept to explain each line's risk."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.preprocessing import OrdinalEncoder, TargetEncoder
from threadpoolctl import threadpool_limits

from services.claim_risk.explain import Evidence
from services.claim_risk.features import (
    CATEGORICAL,
    ENCODED,
    numeric_columns,
    text_columns,
)
from services.claim_risk.history import MIN_LINES, HistoryLine, NotEnoughHistory

CALIBRATION_SHARE = 0.15  # the most recent lines, held out of the boosting to calibrate on
# The boosting's OpenMP threads, one: on this 2-core machine beside the API, the worker and
# others, more threads spent 5-7x the CPU waiting on each other (bench/claim_risk.py).
THREADS = 1


def _pair_rows(lines: Sequence[HistoryLine]) -> tuple[list[int], list[str]]:
    """One row per (line, other code on its claim): the line's index and payer|code|other."""
    index, keys = [], []
    for number, line in enumerate(lines):
        for other in line.claim_codes:
            if other != line.procedure_code:
                index.append(number)
                keys.append(f"{line.payer_id}|{line.procedure_code}|{other}")
    return index, keys


def _max_per_line(count: int, index: list[int], values: np.ndarray) -> np.ndarray:
    """The highest rate among a line's pairs; NaN for a line alone on its claim."""
    out = np.full(count, np.nan)
    if index:
        np.fmax.at(out, np.asarray(index), values)
    return out


@dataclass
class RiskModel:
    ordinal: OrdinalEncoder
    encoder: TargetEncoder
    pair_encoder: TargetEncoder | None  # None: the history had no claim of several codes
    classifier: CalibratedClassifierCV
    evidence: Evidence
    metrics: dict[str, Any] = field(default_factory=dict)

    def _matrix(self, lines: Sequence[HistoryLine]) -> np.ndarray:
        columns = text_columns(lines)
        cats = self.ordinal.transform(_stack(columns, CATEGORICAL))
        encoded = self.encoder.transform(_stack(columns, ENCODED))
        return _assemble(cats, encoded, numeric_columns(lines), self._pair_column(lines))

    def _pair_column(self, lines: Sequence[HistoryLine]) -> np.ndarray:
        if self.pair_encoder is None:  # a constant: the boosting cannot bin a column of NaN
            return np.zeros(len(lines))
        index, keys = _pair_rows(lines)
        pairs = (
            self.pair_encoder.transform(np.array(keys, dtype=object).reshape(-1, 1))[:, 0]
            if keys
            else np.empty(0)
        )
        return _max_per_line(len(lines), index, pairs)

    def line_probabilities(self, lines: Sequence[HistoryLine]) -> np.ndarray:
        if not lines:
            return np.empty(0)
        with threadpool_limits(THREADS, user_api="openmp"):
            return self.classifier.predict_proba(self._matrix(lines))[:, 1]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> RiskModel:
        model = joblib.load(io.BytesIO(blob))
        if not isinstance(model, RiskModel):
            raise TypeError("the stored blob is not a risk model")
        return model


def _stack(columns: dict[str, list[str]], names: Sequence[str]) -> np.ndarray:
    return np.array([columns[name] for name in names], dtype=object).T


def _assemble(*parts: np.ndarray) -> np.ndarray:
    return np.column_stack([part.reshape(part.shape[0], -1) for part in parts])


def train(lines: Sequence[HistoryLine], *, seed: int = 0) -> RiskModel:
    """Learn from `lines` (any order): boosting on all but the most recent CALIBRATION_SHARE,
    isotonic calibration on those. `metrics` holds the held-out slice's AUC and Brier score."""
    labels = np.array([line.denied for line in lines], dtype=np.int8)
    if len(lines) < MIN_LINES or labels.min(initial=1) == labels.max(initial=0):
        raise NotEnoughHistory(
            f"the history has {len(lines)} adjudicated lines, {int(labels.sum())} denied: at "
            f"least {MIN_LINES} lines, some denied and some paid, are needed to learn from"
        )
    order = sorted(range(len(lines)), key=lambda number: lines[number].service_date)
    ordered = [lines[number] for number in order]
    labels = labels[order]
    cut = int(len(ordered) * (1 - CALIBRATION_SHARE))
    fit_lines, fit_labels = ordered[:cut], labels[:cut]
    columns = text_columns(fit_lines)
    ordinal = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=250,  # the boosting's categorical limit: the rarest fold into one
    )
    cats = ordinal.fit_transform(_stack(columns, CATEGORICAL))
    # Cross-fitted: a line's own outcome never feeds its encoded rate while the boosting learns.
    encoder = TargetEncoder(target_type="binary")
    encoded = encoder.fit_transform(_stack(columns, ENCODED), fit_labels)
    index, keys = _pair_rows(fit_lines)
    pair_encoder, pair_column = None, np.zeros(len(fit_lines))
    if len(keys) >= MIN_LINES:  # else too few to cross-fit on (5 folds)
        pair_encoder = TargetEncoder(target_type="binary")
        pairs = pair_encoder.fit_transform(
            np.array(keys, dtype=object).reshape(-1, 1), fit_labels[np.asarray(index)]
        )[:, 0]
        pair_column = _max_per_line(len(fit_lines), index, pairs)
    matrix = _assemble(cats, encoded, numeric_columns(fit_lines), pair_column)
    boosting = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.1,
        max_leaf_nodes=31,
        categorical_features=list(range(len(CATEGORICAL))),
        early_stopping=False,
        random_state=seed,
    )
    with threadpool_limits(THREADS, user_api="openmp"):
        boosting.fit(matrix, fit_labels)
    model = RiskModel(
        ordinal=ordinal,
        encoder=encoder,
        pair_encoder=pair_encoder,
        classifier=CalibratedClassifierCV(FrozenEstimator(boosting), method="isotonic"),
        evidence=Evidence(ordered),
    )
    held_out, held_labels = ordered[cut:], labels[cut:]
    held_matrix = model._matrix(held_out)
    with threadpool_limits(THREADS, user_api="openmp"):
        raw = boosting.predict_proba(held_matrix)[:, 1]
        model.classifier.fit(held_matrix, held_labels)
    model.metrics = {
        "lines": len(ordered),
        "denial_rate": round(float(labels.mean()), 4),
        "held_out_lines": len(held_out),
        "held_out_auc": _auc(held_labels, raw),
        "held_out_brier": round(float(brier_score_loss(held_labels, raw)), 4),
        "as_of": model.evidence.as_of.isoformat(),
        # A model is read back by the library that wrote it: retrain after upgrading it.
        "scikit_learn": sklearn.__version__,
    }
    return model


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if labels.min(initial=1) == labels.max(initial=0):
        return None
    value = float(roc_auc_score(labels, scores))
    return None if math.isnan(value) else round(value, 4)
