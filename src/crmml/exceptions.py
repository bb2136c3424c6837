"""Named errors and warnings shared by the crmml estimators.

Each one tells the user what happened and what to do; they subclass the standard
``ValueError`` / ``UserWarning`` so existing ``except ValueError`` code keeps working.

>>> import warnings
>>> from crmml.exceptions import InsufficientDataWarning
>>> issubclass(InsufficientDataWarning, UserWarning)
True
"""

from __future__ import annotations

__all__ = [
    "ColdStartWarning",
    "DroppedCustomersWarning",
    "IdTypeError",
    "InsufficientDataWarning",
    "NoHistoryError",
    "NonFiniteResultError",
    "ParameterError",
]


class ParameterError(ValueError, TypeError):
    """A constructor or function parameter has the wrong type or lies outside its bounds.

    The message names the parameter, its owner, the allowed range and the value given, in
    scikit-learn's wording (``The 'horizon_days' parameter of CLVModel must be an int in
    [1, 3650]. Got 100000000 instead.``). Subclasses ``ValueError`` and ``TypeError`` like
    scikit-learn's ``InvalidParameterError``.
    """


class InsufficientDataWarning(UserWarning):
    """Too few rows or positives to fit a model that can learn; a fallback or a constant model is used."""


class DroppedCustomersWarning(UserWarning):
    """Some customers were left out of a result by a documented rule; the message gives the count."""


class ColdStartWarning(UserWarning):
    """Some requested ids were not seen in fit and get the cold-start (non-personalised) answer."""


class IdTypeError(ValueError):
    """Ids cannot be converted to the id type a model was fitted on (integer ids vs text ids)."""


class NoHistoryError(ValueError):
    """A time window holds no history (for example nothing precedes a calibration end)."""


class NonFiniteResultError(ArithmeticError):
    """A prediction could not be computed as a finite number; crmml refuses to return NaN or inf."""
