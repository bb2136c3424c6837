"""``_check_loaded_state`` of the CLV models built from the component fitters (a loaded model file is untrusted).

Each check raises ``ValueError`` naming the attribute; :func:`crmml.persistence.load` turns it into
``ModelLoadError``. The component fitters (BG/NBD, Gamma-Gamma, ...) check their own parameters when loaded
(``crmml.clv._base``); here the owners check that they hold fitted components of the right kind.
"""

from __future__ import annotations

import pandas as pd

from crmml._utils._state import check_finite, check_str_list, check_type, fitted_attrs


def check_fitter(v, name: str, types, optional: bool = False) -> None:
    """``v`` is a fitted component of one of ``types`` (or None when ``optional``)."""
    if v is None and optional:
        return
    if not isinstance(v, types) or not hasattr(v, "params_"):
        kinds = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise ValueError(f"{name} must be a fitted {kinds}{' or None' if optional else ''}; it is {type(v).__name__}.")


def check_timestamp(v, name: str) -> None:
    """An ISO timestamp string (how the cut-offs are stored)."""
    try:
        ok = isinstance(v, str) and pd.notna(pd.Timestamp(v))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an ISO timestamp; it is {v!r:.40}.")


def check_clv_model(model, purchase_types: tuple) -> None:
    """CLVModel: a fitted purchase model of a known kind, a fitted Gamma-Gamma model unless ``spend_model=None``,
    the cut-off and the training summary."""
    from crmml.clv._gammagamma import GammaGammaModel

    if not fitted_attrs(model, ("purchase_model_", "spend_model_", "as_of_")):
        return
    check_fitter(model.purchase_model_, "purchase_model_", purchase_types)
    check_fitter(model.spend_model_, "spend_model_", GammaGammaModel, optional=model.spend_model is None)
    check_timestamp(model.as_of_, "as_of_")
    summary = getattr(model, "summary_", None)
    if summary is not None and not (isinstance(summary, pd.DataFrame)
                                    and {"frequency", "recency", "T", "monetary_value"} <= set(summary.columns)):
        raise ValueError("summary_ must be None or a DataFrame with frequency, recency, T and monetary_value.")


def check_feature_clv_model(model) -> None:
    """FeatureCLVModel: boosted models over ``feature_names_``, shrinkage in [0, 1], a positive training window,
    fitted BG/NBD and Gamma-Gamma offsets and the cut-off."""
    from xgboost import XGBRegressor

    from crmml.clv._bgnbd import BetaGeoModel
    from crmml.clv._gammagamma import GammaGammaModel

    if not fitted_attrs(model, ("feature_names_", "purchases_model_", "purchases_shrinkage_", "revenue_model_",
                                "revenue_shrinkage_", "interval_model_", "purchase_model_", "spend_model_",
                                "window_days_", "as_of_", "selection_")):
        return
    names = check_str_list(model.feature_names_, "feature_names_")
    for target in ("purchases", "revenue", "interval"):
        m = getattr(model, f"{target}_model_")
        if m is None and target != "interval":
            continue
        check_type(m, f"{target}_model_", XGBRegressor, "an XGBRegressor" + (" or None" if target != "interval" else ""))
        if m.get_booster().num_features() != len(names):
            raise ValueError(f"{target}_model_ reads {m.get_booster().num_features()} features but feature_names_ "
                             f"has {len(names)}.")
    for target in ("purchases", "revenue"):
        check_finite(getattr(model, f"{target}_shrinkage_"), f"{target}_shrinkage_", low=0.0, high=1.0)
    if check_finite(model.window_days_, "window_days_", low=1) != int(model.window_days_):
        raise ValueError(f"window_days_ must be a whole number of days; it is {model.window_days_!r:.40}.")
    check_fitter(model.purchase_model_, "purchase_model_", BetaGeoModel)
    check_fitter(model.spend_model_, "spend_model_", GammaGammaModel, optional=True)
    check_timestamp(model.as_of_, "as_of_")
