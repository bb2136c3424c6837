"""xgboost hyper-parameters checked once for every crmml model that boosts (nothing invalid reaches xgboost)."""

from __future__ import annotations

import contextlib

from crmml._utils._validation import check_number
from crmml.exceptions import ParameterError

#: (kind, low, high, low_inclusive) of the size-like and numeric xgboost parameters crmml passes or accepts.
XGB_BOUNDS = {
    "n_estimators": ("int", 1, 100_000, True),
    "learning_rate": ("float", 0, 1, False),
    "max_depth": ("int", 1, 20, True),
    "min_child_weight": ("float", 0, None, True),
    "subsample": ("float", 0, 1, False),
    "colsample_bytree": ("float", 0, 1, False),
    "colsample_bylevel": ("float", 0, 1, False),
    "colsample_bynode": ("float", 0, 1, False),
    "reg_lambda": ("float", 0, None, True),
    "reg_alpha": ("float", 0, None, True),
    "gamma": ("float", 0, None, True),
    "max_bin": ("int", 2, 65_536, True),
    "early_stopping_rounds": ("int", 1, 100_000, True),
    "n_jobs": ("int", 1, 1024, True),
    "scale_pos_weight": ("float", 0, None, False),
}


def check_xgb_params(params: dict, owner: str, prefix: str = "") -> dict:
    """Check the xgboost parameters in ``params`` against :data:`XGB_BOUNDS` (others pass through).

    ``prefix`` names the dict the values came from (``"xgb_params"``) in the message.

    >>> check_xgb_params({"max_depth": 3, "tree_method": "hist"}, "LeadScorer", "xgb_params")
    {'max_depth': 3, 'tree_method': 'hist'}
    >>> check_xgb_params({"learning_rate": float("inf")}, "LeadScorer", "xgb_params")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The "xgb_params['learning_rate']" parameter of LeadScorer must be a float in (0, 1]. Got inf instead.
    """
    if not isinstance(params, dict):
        raise ParameterError(f"The {prefix!r} parameter of {owner} must be a dict or None. Got {params!r} instead.")
    for key, value in params.items():
        if key in XGB_BOUNDS:
            kind, low, high, low_inc = XGB_BOUNDS[key]
            name = f"{prefix}[{key!r}]" if prefix else key
            check_number(value, name, owner, kind=kind, low=low, high=high, low_inclusive=low_inc)
    return params


@contextlib.contextmanager
def xgb_errors(owner: str):
    """Re-raise any ``XGBoostError`` as a :class:`ParameterError` naming ``owner`` (a backstop)."""
    import xgboost as xgb

    try:
        yield
    except xgb.core.XGBoostError as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise ParameterError(f"{owner}: xgboost refused the parameters or data: {first}") from exc
