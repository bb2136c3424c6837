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
    "LeakageWarning",
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

    >>> import pandas as pd
    >>> from crmml.churn import make_churn_labels
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": [5.0]})
    >>> make_churn_labels(tx, "2024-03-01", horizon_days=-3)
    Traceback (most recent call last):
    crmml.exceptions.ParameterError: The 'horizon_days' parameter of make_churn_labels must be an int in [1, 3650]. Got -3 instead.
    """


class InsufficientDataWarning(UserWarning):
    """Too few rows or positives to fit a model that can learn; a fallback or a constant model is used.

    >>> import warnings, pandas as pd
    >>> from crmml.scoring import LeadScorer
    >>> leads = pd.DataFrame({"lead_id": range(8), "size": range(8), "converted": [0, 1] * 4})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = LeadScorer().fit(leads)
    >>> InsufficientDataWarning in [w.category for w in caught]
    True
    """


class LeakageWarning(UserWarning):
    """A feature looks recorded after the outcome it should predict (it would leak the label).

    Issued by ``LeadScorer.fit`` per column: when one column alone separates converted from other leads
    almost perfectly, or when a date column of the leads frame lies after ``created_at``. Exclude the
    column (``exclude=[...]``, ``crmml train leads --exclude``) when it is not known at scoring time.

    >>> issubclass(LeakageWarning, UserWarning)
    True
    """


class DroppedCustomersWarning(UserWarning):
    """Some customers were left out of a result by a documented rule; the message gives the count.

    Also issued when rows of another frame are left out by such a rule (products that can never be offered,
    events without an ``event_type``), and when ``LeadScorer.fit`` leaves out lead columns that are no feature
    (dates, durations: the message names them).

    >>> import warnings, pandas as pd
    >>> from crmml.segmentation import rfm_table
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": ["2024-01-02", "2024-01-03"], "amount": [5.0, -2.0]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rfm = rfm_table(tx, as_of="2024-01-04")
    >>> list(rfm.index), caught[0].category.__name__
    ([1], 'DroppedCustomersWarning')
    """


class ColdStartWarning(UserWarning):
    """Some requested ids were not seen in fit and get the cold-start (non-personalised) answer.

    >>> import warnings, pandas as pd
    >>> from crmml.recommend import NextBestOffer
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": ["2024-01-02", "2024-01-05", "2024-01-03"],
    ...                    "amount": [5.0, 3.0, 4.0], "product_id": ["a", "b", "a"]})
    >>> nbo = NextBestOffer().fit(tx)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = nbo.recommend([99], k=1)
    >>> caught[0].category.__name__
    'ColdStartWarning'
    """


class IdTypeError(ValueError):
    """Ids cannot be converted to the id type a model was fitted on (integer ids vs text ids).

    >>> import pandas as pd
    >>> from crmml.recommend import NextBestOffer
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": ["2024-01-02", "2024-01-03"],
    ...                    "amount": [5.0, 4.0], "product_id": ["a", "b"]})
    >>> NextBestOffer().fit(tx).recommend(["not a number"], k=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.exceptions.IdTypeError: ...
    """


class NoHistoryError(ValueError):
    """A time window holds no history (for example nothing precedes a calibration end).

    >>> import pandas as pd
    >>> from crmml.clv import calibration_holdout
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-03-02"], "amount": [5.0]})
    >>> calibration_holdout(tx, "2024-01-01", "2024-06-01")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.exceptions.NoHistoryError: ...
    """


class NonFiniteResultError(ArithmeticError):
    """A prediction could not be computed as a finite number; crmml refuses to return NaN or inf.

    Raised by ``predict`` of :class:`crmml.clv.CLVModel`, for example; like ``ArithmeticError`` it is not a
    ``ValueError``: the input was valid, the arithmetic failed.

    >>> issubclass(NonFiniteResultError, ArithmeticError)
    True
    """
