"""Rule-based segments: ordered user rules, first match wins."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from crmml._expression import Condition, RuleError, check_callable_index, parse_condition
from crmml._utils._sklearn import FrameOutputMixin
from crmml._utils._state import fitted_attrs
from crmml.exceptions import ParameterError

__all__ = ["RuleSegmenter"]

_OWNER = "RuleSegmenter"


class RuleSegmenter(FrameOutputMixin, TransformerMixin, BaseEstimator):
    """Assign customers to user-defined segments with ordered rules; the first rule that matches wins.

    Parameters
    ----------
    rules : dict or list of (name, rule) pairs
        Ordered rules. A rule is a condition in crmml's rule language, the pandas query syntax without
        anything that could run code (for example ``"monetary > 5000 and frequency >= 10"``; see
        :class:`crmml.RuleError` for the grammar), or a callable taking the frame and returning a boolean
        mask (an array, or a Series indexed like the frame). Several rules may give the same segment name.
    default : str, default="Other"
        Segment of customers no rule matches.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns of the frame seen in ``fit``.
    n_features_in_ : int
        Their number.
    segment_names_ : list of str
        Segment names in rule order, then ``default``.

    Notes
    -----
    String rules are parsed at ``fit`` (and again before every ``transform``) before any is evaluated: syntax
    outside the rule language raises :class:`crmml.RuleError`; a rule naming a missing column raises
    :class:`crmml.SchemaError` listing the available columns; both name the rule. A comparison with a missing
    value is False (``!=`` True), as in pandas. A segmenter whose rules are all strings can be saved with
    :mod:`crmml.persistence`, and loading re-checks every rule; one with callables cannot be saved (functions
    are not saved, only data).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"monetary": [9000.0, 300, 50, 800], "frequency": [20, 2, 1, 9],
    ...                   "recency": [3.0, 20, 300, 15]}, index=pd.Index([1, 2, 3, 4], name="customer_id"))
    >>> rs = RuleSegmenter({"high net worth": "monetary > 5000",
    ...                     "growth potential": "frequency >= 5 and recency < 30",
    ...                     "low-frequency active": "frequency <= 2 and recency < 90"}, default="other")
    >>> rs.fit_transform(X)
                              segment  rule
    customer_id
    1                  high net worth     0
    2            low-frequency active     2
    3                           other    -1
    4                growth potential     1
    """

    _output_names = ("segment", "rule")

    def __init__(self, rules=None, default: str = "Other"):
        self.rules = rules
        self.default = default

    def _rule_list(self) -> list[tuple[str, object]]:
        rules = self.rules
        if isinstance(rules, dict):
            rules = list(rules.items())
        ok = isinstance(rules, (list, tuple)) and len(rules) > 0 and all(
            isinstance(r, (list, tuple)) and len(r) == 2 and isinstance(r[0], str)
            and (isinstance(r[1], str) or callable(r[1])) for r in rules)
        if not ok:
            raise ParameterError(f"The 'rules' parameter of {_OWNER} must be a non-empty dict or list of "
                                 "(name, rule) pairs, each rule a query string or a callable. "
                                 f"Got {self.rules!r} instead.")
        if not isinstance(self.default, str):
            raise ParameterError(f"The 'default' parameter of {_OWNER} must be a str. Got {self.default!r} instead.")
        return [(str(n), r) for n, r in rules]

    def _conditions(self, where: str) -> list[tuple[str, object]]:
        """The rules with every string parsed (:class:`crmml.RuleError` on a bad one) before any is evaluated."""
        return [(name, parse_condition(rule, f"{_OWNER}.{where}: rule {i} {name!r}") if isinstance(rule, str)
                 else rule) for i, (name, rule) in enumerate(self._rule_list())]

    def _masks(self, X: pd.DataFrame, where: str) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"{_OWNER}.{where} expects a DataFrame indexed by customer_id. "
                                 f"Got {type(X).__name__} instead.")
        rules = self._conditions(where)
        out = np.zeros((len(rules), len(X)), dtype=bool)
        for i, (name, rule) in enumerate(rules):
            if isinstance(rule, Condition):
                out[i] = rule.evaluate(X, "X")
                continue
            try:
                m = rule(X)
            except Exception as exc:  # noqa: BLE001 - the user's callable; re-raised with the rule named
                raise RuleError(f"{_OWNER}.{where}: rule {i} {name!r} (a callable) failed on the frame: "
                                f"{type(exc).__name__}: {exc}") from exc
            check_callable_index(m, X, f"{_OWNER}.{where}: rule {i} {name!r}")
            m = np.asarray(m)
            if m.shape != (len(X),) or m.dtype != bool:
                raise RuleError(f"{_OWNER}.{where}: rule {i} {name!r} must give one boolean per customer; "
                                f"got dtype {m.dtype} and shape {m.shape}.")
            out[i] = m
        return out

    def _check_loaded_state(self) -> None:
        """Check a segmenter read from a model file (called by :func:`crmml.persistence.load`).

        Every rule must be a string in the rule language (so a rule rewritten in the file cannot run
        code) and the fitted segment names must follow from the rules; raises :class:`crmml.RuleError`.
        """
        rules = self._conditions("load")
        if not all(isinstance(c, Condition) for _, c in rules):
            raise RuleError(f"A loaded {_OWNER} may hold only rule strings, not callables.")
        if fitted_attrs(self, ("segment_names_", "feature_names_in_")):
            expected = list(dict.fromkeys([*(n for n, _ in rules), self.default]))
            if list(self.segment_names_) != expected:
                raise RuleError(f"The loaded {_OWNER}'s segment_names_ {list(self.segment_names_)!r} do not "
                                f"follow from its rules (expected {expected!r}): the file was altered.")

    def fit(self, X: pd.DataFrame, y=None) -> "RuleSegmenter":
        """Check every rule on ``X`` (columns exist, boolean result) and record the segment names."""
        masks = self._masks(X, "fit")
        del masks
        self._record_input(X.columns)
        names = [n for n, _ in self._rule_list()]
        self.segment_names_ = list(dict.fromkeys([*names, self.default]))
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Segment of each customer.

        Returns
        -------
        DataFrame indexed like ``X`` with ``segment`` (categorical, rule order then default) and ``rule``
        (position of the first matching rule, -1 for the default).
        """
        check_is_fitted(self, "segment_names_")
        masks = self._masks(X, "transform")
        any_hit = masks.any(axis=0)
        first = np.where(any_hit, masks.argmax(axis=0), -1)
        names = np.array([n for n, _ in self._rule_list()] + [self.default], dtype=object)
        seg = names[first]  # -1 picks the default (last)
        cat = pd.Categorical(seg, categories=self.segment_names_)
        return pd.DataFrame({"segment": cat, "rule": first.astype(np.int64)}, index=X.index)
