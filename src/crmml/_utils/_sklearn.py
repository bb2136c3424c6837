"""scikit-learn conventions shared by crmml's frame-in, frame-out transformers.

crmml's segmenters read canonical DataFrames and return DataFrames whose columns are fixed by the estimator
(``segment``, ``cluster``, ...). :class:`FrameOutputMixin` gives them ``get_feature_names_out`` from one
declaration (``_output_names``), which is also what makes ``TransformerMixin``'s ``set_output`` work, and
records ``n_features_in_`` / ``feature_names_in_`` once in ``fit`` (:meth:`_record_input`).

>>> import pandas as pd
>>> from sklearn.base import BaseEstimator, TransformerMixin
>>> class Echo(FrameOutputMixin, TransformerMixin, BaseEstimator):
...     _output_names = ("segment",)
...     def fit(self, X, y=None):
...         return self._record_input(X.columns)
...     def transform(self, X):
...         return pd.DataFrame({"segment": X.iloc[:, 0]})
>>> Echo().fit(pd.DataFrame({"a": [1]})).get_feature_names_out().tolist()
['segment']
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["FrameOutputMixin"]


class FrameOutputMixin:
    """``get_feature_names_out`` from the class's ``_output_names``; ``n_features_in_`` from :meth:`_record_input`."""

    _output_names: tuple = ()

    def _record_input(self, columns):
        self.feature_names_in_ = np.asarray([str(c) for c in columns], dtype=str)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the columns ``transform`` returns (they do not depend on ``input_features``)."""
        check_is_fitted(self)
        return np.asarray(self._output_names, dtype=object)
