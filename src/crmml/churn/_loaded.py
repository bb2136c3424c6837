"""``_check_loaded_state`` of the churn models: a loaded model file is untrusted (see ``crmml.persistence.load``).

Each check raises ``ValueError`` naming the attribute; the loader turns it into ``ModelLoadError``. Attributes
added after crmml 0.1.0 (``chosen_``, ``baseline_``, ``learning_rate_``, ...) may be absent from older files.
"""

from __future__ import annotations

import numpy as np

from crmml._utils._state import check_finite, check_linear, check_str_list, check_type, fitted_attrs

_CHURN = ("model_", "feature_names_in_", "numeric_features_", "categorical_features_", "categories_",
          "best_iteration_", "calibrator_")


def check_churn_model(model) -> None:
    """ChurnModel: features, categories, booster and calibrator agree; ``chosen_`` names a known model."""
    from xgboost import XGBClassifier

    from crmml._utils._calibration import check_calibrator
    from crmml.churn._model import RecencyFrequencyBaseline
    from crmml.churn._selection import BASELINE, MODEL

    if not fitted_attrs(model, _CHURN):
        return
    names = check_str_list(model.feature_names_in_, "feature_names_in_")
    num = check_str_list(model.numeric_features_, "numeric_features_")
    cat = check_str_list(model.categorical_features_, "categorical_features_")
    if sorted(num + cat) != sorted(names):
        raise ValueError("numeric_features_ and categorical_features_ must split feature_names_in_.")
    if getattr(model, "n_features_in_", len(names)) != len(names):
        raise ValueError(f"n_features_in_ must be {len(names)} (the length of feature_names_in_).")
    check_categories(model.categories_, cat, exact=True)
    check_type(model.model_, "model_", XGBClassifier, "an XGBClassifier")
    booster = model.model_.get_booster()
    if booster.num_features() != len(names):
        raise ValueError(f"model_ reads {booster.num_features()} features but feature_names_in_ has {len(names)}.")
    it = model.best_iteration_
    if isinstance(it, bool) or not isinstance(it, (int, np.integer)) or not 0 <= it < booster.num_boosted_rounds():
        raise ValueError(f"best_iteration_ must be an integer in [0, {booster.num_boosted_rounds()}); it is "
                         f"{it!r:.40}.")
    check_calibrator(model.calibrator_)
    chosen = getattr(model, "chosen_", MODEL)
    if chosen not in (MODEL, BASELINE):
        raise ValueError(f"chosen_ must be {MODEL!r} or {BASELINE!r}; it is {chosen!r:.40}.")
    baseline = getattr(model, "baseline_", None)
    if chosen == BASELINE or baseline is not None:
        check_type(baseline, "baseline_", RecencyFrequencyBaseline, "a RecencyFrequencyBaseline")
        if not hasattr(baseline, "model_"):
            raise ValueError("baseline_ must be a fitted RecencyFrequencyBaseline.")


def check_categories(cats, features, *, exact: bool) -> None:
    """``categories_``: a dict from text features to their distinct categories as text; keyed by exactly
    ``features`` when ``exact``, else by some of them.

    >>> check_categories({"region": ["n", "n"]}, ["region"], exact=True)
    Traceback (most recent call last):
    ...
    ValueError: categories_['region'] must be distinct strings; it is ['n', 'n'].
    """
    check_type(cats, "categories_", dict, "a dict")
    keys_ok = sorted(cats) == sorted(features) if exact else set(cats) <= set(features)
    if not keys_ok:
        raise ValueError(f"categories_ must have one entry per {'categorical feature' if exact else 'text feature of'} "
                         f"{list(features)[:8]}; it has {list(cats)[:8]}.")
    for c, levels in cats.items():
        check_str_list(levels, f"categories_[{c!r:.40}]")


def check_recency_frequency(model) -> None:
    """RecencyFrequencyBaseline: a finite recency fill and a finite two-feature scaler and logistic regression."""
    if not fitted_attrs(model, ("recency_fill_", "scaler_", "model_")):
        return
    check_finite(model.recency_fill_, "recency_fill_")
    check_linear(model.scaler_, model.model_, "model_", 2)


def check_cox(model) -> None:
    """CoxBaseline: two finite coefficients, means and positive scales; an ascending baseline hazard."""
    if not fitted_attrs(model, ("recency_fill_", "mean_", "scale_", "coef_", "baseline_times_", "baseline_cumhaz_")):
        return
    check_finite(model.recency_fill_, "recency_fill_")
    check_finite(model.mean_, "mean_", shape=(2,))
    if np.any(check_finite(model.scale_, "scale_", shape=(2,)) <= 0):
        raise ValueError("scale_ must hold numbers > 0.")
    check_finite(model.coef_, "coef_", shape=(2,))
    times = check_finite(model.baseline_times_, "baseline_times_", shape=(-1,))
    cumhaz = check_finite(model.baseline_cumhaz_, "baseline_cumhaz_", shape=times.shape, low=0)
    if np.any(np.diff(times) <= 0) or np.any(np.diff(cumhaz) < 0):
        raise ValueError("baseline_times_ must increase and baseline_cumhaz_ must not decrease.")
