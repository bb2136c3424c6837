"""ChurnModel's scoring path: features straight into the float32 block xgboost predicts from.

xgboost stores every feature as float32 and a categorical as its code among the categories learned in
``fit``. Scoring therefore writes each column once into one C-contiguous float32 block (a batch of rows at a
time, so memory stays bounded) and hands it to ``Booster.inplace_predict``: no intermediate DataFrame, no
float64 copy of the whole frame, no DMatrix. When the frame already is what the trees read -- exactly the
fitted columns, in order, all float64 (or all float32) in one block, no categoricals (what
:func:`crmml.features.build_features` returns) -- its own memory goes to xgboost as a strided view, a batch of
rows at a time, and even that copy is skipped (xgboost rounds each float64 to float32 as it reads it, as numpy
does when features are stored as float32). The values the trees see are exactly those of
the DataFrame path (a float64 column rounded to float32, a category's code), so the probabilities are
identical bit for bit.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from crmml._utils import numeric_values
from crmml.exceptions import DataError

#: rows encoded and predicted per block (32k rows x 200 features = 26 MB of float32)
BLOCK_ROWS = 32_768
#: rows per ``inplace_predict`` call when the frame's own memory is passed (no copy to bound; fewer calls)
VIEW_BLOCK_ROWS = 1 << 20


def check_columns(X: pd.DataFrame, feature_names) -> None:
    """ValueError naming the columns seen in fit that ``X`` lacks."""
    missing = [c for c in feature_names if c not in X.columns]
    if missing:
        raise DataError(f"ChurnModel: X lacks {len(missing)} column(s) seen in fit, e.g. {missing[:3]}.")


def text_categories(X: pd.DataFrame) -> dict:
    """Each text column of ``X`` (any dtype that is not numeric or boolean) -> its values seen, as sorted text.

    >>> text_categories(pd.DataFrame({"region": ["s", "n", None], "x": [1.0, 2.0, 3.0], "flag": [True, False, True]}))
    {'region': ['n', 's']}
    """
    return {str(c): sorted({str(v) for v in X[c].dropna().unique()}) for c in X.columns
            if not (pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype))}


def category_floats(values: pd.Series, categories) -> np.ndarray:
    """:func:`category_codes` as float64, missing or unseen values NaN (how the trees read a category)."""
    codes = category_codes(values, categories).astype(np.float64)
    codes[codes < 0] = np.nan
    return codes


def category_codes(values: pd.Series, categories) -> np.ndarray:
    """Code of each value among the learned ``categories`` (compared as text); -1 for missing or unseen.

    >>> category_codes(pd.Series(["b", None, "z", 1]), ["1", "a", "b"])
    array([ 2, -1, -1,  0])
    """
    text = values.astype("object").where(values.notna(), None).map(lambda x: None if x is None else str(x))
    return pd.Index(categories, dtype=object).get_indexer(text.to_numpy(dtype=object))


def _numeric_column(s: pd.Series, name: str) -> np.ndarray:
    """float64 (or integer/bool) values of a numeric column, without a copy when the dtype allows it."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":
        values = s.to_numpy()
        if values.dtype.kind == "f" and np.isinf(values).any():
            numeric_values(s, "X", name)              # raises the named SchemaError
        return values
    return numeric_values(s, "X", name)


def _columns(X: pd.DataFrame, model) -> list[np.ndarray]:
    """One array per feature in ``feature_names_in_`` order: numbers, or float codes (NaN = missing)."""
    cat = set(model.categorical_features_)
    out = []
    for name in model.feature_names_in_:
        if name in cat:
            out.append(category_floats(X[name], model.categories_[name]))
        else:
            out.append(_numeric_column(X[name], name))
    return out


def _fill(block: np.ndarray, columns: list[np.ndarray], start: int, stop: int) -> np.ndarray:
    """Write rows ``[start, stop)`` of every column into ``block`` (float32), through float64 like xgboost."""
    rows = block[: stop - start]
    for j, col in enumerate(columns):
        part = col[start:stop]
        rows[:, j] = part if part.dtype.kind == "f" else part.astype(np.float64)
    return rows


def _float_view(X: pd.DataFrame, model):
    """``X``'s values as one float64 (or float32) 2-D view when they are exactly what the trees read; else None."""
    if model.categorical_features_ or list(X.columns) != list(model.feature_names_in_):
        return None
    kind = X.dtypes.iloc[0] if X.shape[1] else None
    if kind not in (np.float64, np.float32) or not all(isinstance(t, np.dtype) and t == kind for t in X.dtypes):
        return None
    values = X.to_numpy()
    return values if values.dtype == kind and np.shares_memory(values, X.iloc[:, 0].to_numpy()) else None


def _check_finite(block: np.ndarray, X: pd.DataFrame) -> None:
    """The named SchemaError of :func:`numeric_values` for the first column of ``block`` holding an infinity."""
    inf = np.isinf(block)
    if inf.any():
        j = int(np.flatnonzero(inf.any(axis=0))[0])
        numeric_values(X.iloc[:, j], "X", str(X.columns[j]))     # raises


def churn_scores(model, X: pd.DataFrame, block_rows: int | None = None) -> np.ndarray:
    """Raw (uncalibrated) churn probabilities of the boosted model for ``X``, float32, one per row.

    ``X`` must hold the columns seen in fit (checked); extra columns are ignored.

    >>> import numpy as np, pandas as pd
    >>> from crmml.churn import ChurnModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency": rng.integers(0, 365, 400), "orders": rng.poisson(3, 400)})
    >>> y = (X["recency"] + rng.normal(0, 60, 400) > 180).astype(int).to_numpy()
    >>> m = ChurnModel(n_estimators=20, random_state=0).fit(X, y)
    >>> bool((churn_scores(m, X, block_rows=64) == m.model_.predict_proba(X)[:, 1]).all())
    True
    """
    check_columns(X, model.feature_names_in_)
    view = _float_view(X, model)
    columns = None if view is not None else _columns(X, model)
    if block_rows is None:
        block_rows = BLOCK_ROWS if view is None else VIEW_BLOCK_ROWS
    booster = model.model_.get_booster()
    # threads of this call: the model's current n_jobs (a row's score does not depend on the thread count)
    booster.set_param({"nthread": (os.cpu_count() or 1) if model.n_jobs == -1 else int(model.n_jobs)})
    n = len(X)
    out = np.empty(n, dtype=np.float32)
    block = None if view is not None else np.empty((min(n, block_rows), len(columns)), dtype=np.float32)
    rng = (0, model.best_iteration_ + 1)
    for start in range(0, n, block_rows):
        stop = min(n, start + block_rows)
        if view is not None:
            rows = view[start:stop]
            _check_finite(rows, X)
        else:
            rows = _fill(block, columns, start, stop)
        out[start:stop] = booster.inplace_predict(rows, iteration_range=rng, predict_type="value")
    return out
