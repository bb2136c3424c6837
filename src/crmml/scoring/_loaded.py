"""``_check_loaded_state`` of the lead scorer and its parts (a loaded model file is untrusted).

Each check raises ``ValueError`` naming the attribute; :func:`crmml.persistence.load` turns it into
``ModelLoadError``. Nested objects are checked by their own hooks first (the loader rebuilds them before their
owner): the encoder's columns and levels, the calibrated model's scaler, coefficients and calibrator; the owner
checks that the parts fit together (the model reads as many features as the encoder writes).
"""

from __future__ import annotations

import numpy as np

from crmml._utils._state import check_finite, check_linear, check_str_list, check_type, fitted_attrs

#: model_kind_ values: a fitted model of either kind, the base rate alone, or the fallback rule scorer
MODEL_KINDS = ("logistic", "xgboost", "prior", "rules")


def check_lead_encoder(enc) -> None:
    """LeadEncoder: columns, medians and levels agree and spell out ``feature_names_`` in order."""
    from crmml.scoring._features import OTHER

    if not fitted_attrs(enc, ("numeric_", "categorical_", "medians_", "levels_", "numeric_missing_",
                              "feature_names_", "feature_source_")):
        return
    numeric = check_str_list(enc.numeric_, "numeric_")
    categorical = check_str_list(enc.categorical_, "categorical_")
    missing = check_str_list(enc.numeric_missing_, "numeric_missing_")
    for name, d, keys in (("medians_", enc.medians_, numeric), ("levels_", enc.levels_, categorical)):
        check_type(d, name, dict, "a dict")
        if sorted(d) != sorted(keys):
            raise ValueError(f"{name} must have one entry per column of {keys[:8]}; it has {list(d)[:8]}.")
    for col, med in enc.medians_.items():
        check_finite(med, f"medians_[{col!r:.40}]")
    if not set(missing) <= set(numeric):
        raise ValueError("numeric_missing_ must be numeric columns.")
    names, source = [], []
    for col in numeric:
        extra = [f"{col}__missing"] if col in missing else []
        names += [col, *extra]
        source += [col] * (1 + len(extra))
    for col in categorical:
        levels = check_str_list(enc.levels_[col], f"levels_[{col!r:.40}]")
        if OTHER not in levels:
            raise ValueError(f"levels_[{col!r:.40}] must hold {OTHER!r}.")
        names += [f"{col}={lev}" for lev in levels]
        source += [col] * len(levels)
    if list(enc.feature_names_) != names or list(enc.feature_source_) != source:
        raise ValueError("feature_names_ and feature_source_ must be the encoding of numeric_, numeric_missing_, "
                         "categorical_ and levels_.")


def n_model_features(cm) -> int:
    """Features a fitted CalibratedModel reads."""
    return cm.model_.get_booster().num_features() if cm.kind == "xgboost" else len(cm.log_columns_)


def check_calibrated_model(cm) -> None:
    """CalibratedModel: a finite scaler and logistic regression over its columns (or an xgboost classifier),
    and a fitted calibrator."""
    from crmml._utils._calibration import check_calibrator

    if cm.kind not in ("logistic", "xgboost"):
        raise ValueError(f"kind must be 'logistic' or 'xgboost'; it is {cm.kind!r:.40}.")
    if not fitted_attrs(cm, ("model_", "calibrator_")):
        return
    check_calibrator(cm.calibrator_)
    if cm.kind == "xgboost":
        from xgboost import XGBClassifier       # only here: a logistic scorer loads without xgboost

        check_type(cm.model_, "model_", XGBClassifier, "an XGBClassifier")
        return
    log = np.asarray(getattr(cm, "log_columns_", None))
    if log.dtype != bool or log.ndim != 1:
        raise ValueError(f"log_columns_ must be a boolean array; it is {log.dtype} of shape {log.shape}.")
    check_linear(getattr(cm, "scaler_", None), cm.model_, "model_", len(log))


def check_lead_scorer(scorer) -> None:
    """LeadScorer: a known model kind whose parts are present, read the encoder's features and give grades."""
    from crmml.scoring._features import LeadEncoder
    from crmml.scoring._model import CalibratedModel
    from crmml.scoring._rules import RuleLeadScorer

    if not fitted_attrs(scorer, ("attributes_", "required_", "base_rate_", "uses_events_", "event_types_", "model_kind_",
                                 "model_", "fit_model_", "engagement_model_", "fallback_", "grade_cutoffs_")):
        return
    attributes = check_str_list(scorer.attributes_, "attributes_")
    if not set(check_str_list(scorer.required_, "required_")) <= set(attributes):
        raise ValueError("required_ must be a subset of attributes_.")
    check_finite(scorer.base_rate_, "base_rate_", low=0.0, high=1.0)
    check_finite(scorer.grade_cutoffs_, "grade_cutoffs_", shape=(3,), low=0.0, high=1.0)
    if not isinstance(scorer.uses_events_, bool):
        raise ValueError("uses_events_ must be True or False.")
    check_str_list(scorer.event_types_, "event_types_")
    kind = scorer.model_kind_
    if kind not in MODEL_KINDS:
        raise ValueError(f"model_kind_ must be one of {list(MODEL_KINDS)}; it is {kind!r:.40}.")
    if kind in ("prior", "rules"):
        if scorer.model_ is not None:
            raise ValueError(f"model_ must be None when model_kind_ is {kind!r}.")
        if kind == "rules":
            check_type(scorer.fallback_, "fallback_", RuleLeadScorer, "a RuleLeadScorer")
        return
    check_type(scorer.model_, "model_", CalibratedModel, "a CalibratedModel")
    if scorer.model_.kind != kind or not hasattr(scorer.model_, "model_"):
        raise ValueError(f"model_ must be a fitted {kind} CalibratedModel (model_kind_).")
    check_type(getattr(scorer, "encoder_", None), "encoder_", LeadEncoder, "a LeadEncoder")   # none without a model
    n = len(getattr(scorer.encoder_, "feature_names_", ()))
    if n_model_features(scorer.model_) != n:
        raise ValueError(f"model_ reads {n_model_features(scorer.model_)} features but encoder_ writes {n}.")
    subs = [scorer.fit_model_, scorer.engagement_model_]
    if any(s is not None for s in subs):
        mask = np.asarray(getattr(scorer, "attribute_mask_", None))
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(f"attribute_mask_ must be a boolean array of {n} entries (one per feature).")
        for name, sub, width in (("fit_model_", subs[0], mask.sum()), ("engagement_model_", subs[1], (~mask).sum())):
            if sub is None:
                continue
            check_type(sub, name, CalibratedModel, "a CalibratedModel or None")
            if not hasattr(sub, "model_") or n_model_features(sub) != width:
                raise ValueError(f"{name} must be a fitted model of the {width} features attribute_mask_ selects.")


class LeadScorerState:
    """Mixin of :class:`crmml.scoring.LeadScorer` (kept here: ``_scorer.py`` is at the module size limit)."""

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load``: see :func:`check_lead_scorer`."""
        check_lead_scorer(self)
