"""Named errors and warnings shared by the crmml estimators.

Each one tells the user what happened and what to do. Every error crmml raises for a user's mistake is a
:class:`CrmmlError` and keeps its standard base (``ValueError``, ``TypeError``, ...), so existing
``except ValueError`` code keeps working; every crmml warning is a :class:`CrmmlWarning` (a ``UserWarning``).
An exception that is not a ``CrmmlError`` is a bug in crmml or in a library below it.

>>> import warnings
>>> from crmml.exceptions import CrmmlError, CrmmlWarning, InsufficientDataWarning, ParameterError
>>> issubclass(InsufficientDataWarning, CrmmlWarning), issubclass(CrmmlWarning, UserWarning)
(True, True)
>>> issubclass(ParameterError, CrmmlError), issubclass(ParameterError, ValueError)
(True, True)
"""

from __future__ import annotations

__all__ = [
    "ColdStartWarning",
    "CrmmlError",
    "CrmmlWarning",
    "DataError",
    "DroppedCustomersWarning",
    "IdTypeError",
    "InsufficientDataWarning",
    "LeakageWarning",
    "NoHistoryError",
    "NonFiniteResultError",
    "ParameterError",
]


class CrmmlError(Exception):
    """The base of every error crmml raises for a user's mistake; ``except CrmmlError`` catches them all.

    Its subclasses also keep a standard base: :class:`ParameterError` (a bad parameter or argument;
    ``ValueError`` and ``TypeError``), :class:`crmml.schema.SchemaError` (a frame that does not fit the
    standard schema), :class:`DataError` (data that cannot support the request), :class:`NoHistoryError`
    (nothing before the cut-off), ``AsOfError`` (a bad cut-off date), :class:`crmml.RuleError` (a bad rule),
    ``ModelLoadError`` (a model file that cannot be loaded), and the errors of ``crmml.decisions``,
    ``crmml.clv``, ``crmml.datasets``, ``crmml.spark`` and the ``crmml`` command.

    >>> import pandas as pd
    >>> from crmml.segmentation import rfm_table
    >>> try:
    ...     rfm_table(pd.DataFrame({"customer_id": [1], "amount": [5.0]}), as_of="2024-01-04")
    ... except CrmmlError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    SchemaError True
    """


class CrmmlWarning(UserWarning):
    """The base of every warning crmml issues; filter them all with ``warnings.simplefilter(..., CrmmlWarning)``.

    >>> import warnings, pandas as pd
    >>> from crmml.segmentation import rfm_table
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": [5.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CrmmlWarning)
    ...     rfm = rfm_table(tx, as_of="2025-01-01")
    Traceback (most recent call last):
    crmml._time.AsOfWarning: ...
    """


class DataError(ValueError, CrmmlError):
    """The data given cannot support the request, though each parameter is valid.

    For example too few customers or rows (fewer customers than clusters), a single class or no event
    where a model needs both outcomes, inputs of different lengths, or a frame that is not one crmml returned
    (an RFM table without its columns, a plan without ``selected``). The message says what the data lack.
    Frames that do not fit the standard schema raise :class:`crmml.schema.SchemaError` instead.

    >>> import pandas as pd
    >>> from crmml.segmentation import CustomerClusterer
    >>> X = pd.DataFrame({"recency": [1.0, 5.0, 9.0]}, index=[1, 2, 3])
    >>> CustomerClusterer(n_clusters=4).fit(X)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.exceptions.DataError: CustomerClusterer.fit needs more customers than clusters; ...
    """


class ParameterError(ValueError, TypeError, CrmmlError):
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


class InsufficientDataWarning(CrmmlWarning):
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


class LeakageWarning(CrmmlWarning):
    """A feature looks recorded after the outcome it should predict (it would leak the label).

    Issued by ``LeadScorer.fit`` per column: when one column alone separates converted from other leads
    almost perfectly, or when a date column of the leads frame lies after ``created_at``. Exclude the
    column (``exclude=[...]``, ``crmml train leads --exclude``) when it is not known at scoring time.

    >>> issubclass(LeakageWarning, UserWarning)
    True
    """


class DroppedCustomersWarning(CrmmlWarning):
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


class ColdStartWarning(CrmmlWarning):
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


class IdTypeError(ValueError, CrmmlError):
    """Ids cannot be converted to the id type a model was fitted on (integer ids vs text ids).

    >>> import pandas as pd
    >>> from crmml.recommend import NextBestOffer
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": ["2024-01-02", "2024-01-03"],
    ...                    "amount": [5.0, 4.0], "product_id": ["a", "b"]})
    >>> NextBestOffer().fit(tx).recommend(["not a number"], k=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.exceptions.IdTypeError: ...
    """


class NoHistoryError(ValueError, CrmmlError):
    """A time window holds no history (for example nothing precedes a calibration end).

    >>> import pandas as pd
    >>> from crmml.clv import calibration_holdout
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-03-02"], "amount": [5.0]})
    >>> calibration_holdout(tx, "2024-01-01", "2024-06-01")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.exceptions.NoHistoryError: ...
    """


class NonFiniteResultError(ArithmeticError, CrmmlError):
    """A prediction could not be computed as a finite number; crmml refuses to return NaN or inf.

    Raised by ``predict`` of :class:`crmml.clv.CLVModel`, for example; like ``ArithmeticError`` it is not a
    ``ValueError``: the input was valid, the arithmetic failed.

    >>> issubclass(NonFiniteResultError, ArithmeticError)
    True
    """
