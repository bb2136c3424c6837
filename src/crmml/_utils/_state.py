"""Consistency checks of fitted state, for ``_check_loaded_state`` hooks (a loaded model file is untrusted).

Each raises ``ValueError`` naming the attribute; :func:`crmml.persistence.load` turns it into ``ModelLoadError``.
"""

from __future__ import annotations

import numpy as np


def check_codes(a, name: str, low: int, high: int | None, length: int | None = None) -> np.ndarray:
    """An integer array whose values lie in ``[low, high)`` (``>= low`` when ``high`` is None; of ``length`` when
    given).

    >>> check_codes(np.array([0, 2]), "label_map_", 0, 3)
    array([0, 2])
    >>> check_codes(np.array([0, 3]), "label_map_", 0, 3)
    Traceback (most recent call last):
    ...
    ValueError: label_map_ must hold integers in [0, 3); it holds values up to 3.
    """
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array; it is {a.dtype}.")
    if length is not None and a.shape[:1] != (length,):
        raise ValueError(f"{name} must have length {length}; it has shape {a.shape}.")
    if a.size and (a.min() < low or (high is not None and a.max() >= high)):
        rule = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{name} must hold integers {rule}; it holds values "
                         f"{'down to ' + str(a.min()) if a.min() < low else 'up to ' + str(a.max())}.")
    return a


def check_length(a, name: str, length: int) -> None:
    """``a`` is one-dimensional with ``length`` entries.

    >>> check_length([1, 2], "popularity_", 3)
    Traceback (most recent call last):
    ...
    ValueError: popularity_ must have 3 entries (one per item); it has shape (2,).
    """
    shape = np.shape(a)
    if shape != (length,):
        raise ValueError(f"{name} must have {length} entries (one per item); it has shape {shape}.")


def check_csr(m, name: str, shape: tuple[int, int]) -> None:
    """A scipy sparse matrix of ``shape`` whose index arrays are valid (full scipy check: bounds, monotone indptr).

    >>> import scipy.sparse as sp
    >>> check_csr(sp.csr_matrix((2, 3)), "similarity_", (3, 3))
    Traceback (most recent call last):
    ...
    ValueError: similarity_ must be a sparse matrix of shape (3, 3); it is csr_matrix of shape (2, 3).
    """
    import scipy.sparse as sp

    if not sp.issparse(m) or m.shape != shape:
        raise ValueError(f"{name} must be a sparse matrix of shape {shape}; it is {type(m).__name__} of shape "
                         f"{getattr(m, 'shape', None)}.")
    if m.format in ("csr", "csc"):
        m.check_format(full_check=True)


def check_positive_params(params, name: str, columns) -> None:
    """A float Series (or DataFrame) of finite, strictly positive model parameters named ``columns``.

    >>> import pandas as pd
    >>> check_positive_params(pd.Series([1.0, -2.0], index=["r", "alpha"]), "params_", ["r", "alpha"])
    Traceback (most recent call last):
    ...
    ValueError: params_ must hold finite parameters > 0; it holds [1.0, -2.0].
    """
    import pandas as pd

    labels = params.index if isinstance(params, pd.Series) else getattr(params, "columns", None)
    if not isinstance(params, (pd.Series, pd.DataFrame)) or labels is None or list(labels) != list(columns):
        raise ValueError(f"{name} must be labelled {list(columns)}; it is {type(params).__name__} labelled "
                         f"{None if labels is None else list(labels)[:8]}.")
    values = params.to_numpy()
    if values.dtype.kind != "f" or not np.all(np.isfinite(values)) or not np.all(values > 0):
        raise ValueError(f"{name} must hold finite parameters > 0; it holds {values.ravel()[:8].tolist()}.")


def check_covariance(cov, name: str, k: int) -> None:
    """A ``k x k`` float covariance: symmetric positive semi-definite, or all NaN (no standard errors).

    >>> check_covariance(np.array([[1.0, 2.0], [2.0, 1.0]]), "cov_log_", 2)
    Traceback (most recent call last):
    ...
    ValueError: cov_log_ must be a symmetric positive semi-definite 2 x 2 matrix (or all NaN).
    """
    c = np.asarray(cov)
    if c.shape != (k, k) or c.dtype.kind != "f":
        raise ValueError(f"{name} must be a {k} x {k} float matrix; it is {c.dtype} of shape {c.shape}.")
    if np.all(np.isnan(c)):
        return
    ok = np.all(np.isfinite(c)) and np.allclose(c, c.T, rtol=1e-9, atol=1e-12)
    if ok:
        eig = np.linalg.eigvalsh(c)
        ok = bool(eig.min() >= -1e-9 * max(1.0, float(np.abs(eig).max())))
    if not ok:
        raise ValueError(f"{name} must be a symmetric positive semi-definite {k} x {k} matrix (or all NaN).")


def fitted_attrs(obj, names) -> bool:
    """True when ``obj`` holds every attribute of ``names``, False when it holds none (an unfitted model, which
    may be saved); a model holding only some of them is refused, naming the first missing one.

    >>> class M: pass
    >>> m = M(); m.coef_ = 1.0
    >>> fitted_attrs(m, ["coef_", "mean_"])
    Traceback (most recent call last):
    ...
    ValueError: mean_ is missing from a fitted M.
    """
    have = [hasattr(obj, n) for n in names]
    if any(have) and not all(have):
        raise ValueError(f"{names[have.index(False)]} is missing from a fitted {type(obj).__name__}.")
    return all(have)


def check_finite(v, name: str, *, shape=None, low=None, high=None) -> np.ndarray:
    """A finite real number (``shape=()``, the default for a scalar) or float array of ``shape`` (``-1`` for any
    length), every value in ``[low, high]``.

    >>> check_finite(float("nan"), "recency_fill_")
    Traceback (most recent call last):
    ...
    ValueError: recency_fill_ must hold finite numbers; it holds [nan].
    >>> check_finite(np.array([1.0, -1.0]), "scale_", shape=(-1,), low=0)
    Traceback (most recent call last):
    ...
    ValueError: scale_ must hold numbers >= 0; it holds [1.0, -1.0].
    """
    if isinstance(v, (bool, np.bool_, str, bytes)) or (shape is None and not isinstance(v, (int, float, np.number))):
        raise ValueError(f"{name} must be a number; it is {type(v).__name__}.")
    a = np.asarray(v)
    want = () if shape is None else tuple(shape)
    if a.dtype.kind not in "fiu" or a.ndim != len(want) or any(w not in (-1, s) for w, s in zip(want, a.shape)):
        raise ValueError(f"{name} must be a float {'number' if not want else 'array of shape ' + str(want)}; "
                         f"it is {a.dtype} of shape {a.shape}.")
    values = a.ravel()[:8].tolist()
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must hold finite numbers; it holds {values}.")
    if (low is not None and np.any(a < low)) or (high is not None and np.any(a > high)):
        bounds = " and ".join(f"{op} {b}" for op, b in ((">=", low), ("<=", high)) if b is not None)
        raise ValueError(f"{name} must hold numbers {bounds}; it holds {values}.")
    return a


def check_str_list(v, name: str, length: int | None = None) -> list[str]:
    """A list (or 1-D array) of distinct strings, of ``length`` when given.

    >>> check_str_list(["a", "a"], "feature_names_in_")
    Traceback (most recent call last):
    ...
    ValueError: feature_names_in_ must be distinct strings; it is ['a', 'a'].
    """
    items = list(v) if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim == 1) else None
    if items is None or not all(isinstance(s, str) for s in items) or len(set(items)) != len(items):
        raise ValueError(f"{name} must be distinct strings; it is {v!r:.80}.")
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have {length} entries; it has {len(items)}.")
    return items


def check_type(v, name: str, types, what: str | None = None) -> None:
    """``v`` is an instance of ``types``.

    >>> check_type("x", "scaler_", dict, "a dict")
    Traceback (most recent call last):
    ...
    ValueError: scaler_ must be a dict; it is str.
    """
    if not isinstance(v, types):
        raise ValueError(f"{name} must be {what or 'a ' + getattr(types, '__name__', str(types))}; "
                         f"it is {type(v).__name__}.")


def check_linear(scaler, model, name: str, n: int) -> None:
    """A fitted ``StandardScaler`` and binary ``LogisticRegression`` over ``n`` features, every number finite
    (``name`` is the owner's attribute prefix, e.g. ``model_``).

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> check_linear(StandardScaler(), LogisticRegression(), "model_", 2)
    Traceback (most recent call last):
    ...
    ValueError: scaler_.mean_ must be a float array of shape (2,); it is object of shape ().
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    check_type(scaler, "scaler_", StandardScaler, "a StandardScaler")
    check_type(model, name, LogisticRegression, "a LogisticRegression")
    for attr in ("mean_", "scale_"):
        check_finite(getattr(scaler, attr, None), f"scaler_.{attr}", shape=(n,), low=0 if attr == "scale_" else None)
    if getattr(scaler, "n_features_in_", None) != n or getattr(model, "n_features_in_", None) != n:
        raise ValueError(f"scaler_ and {name} must be fitted on {n} features; they were on "
                         f"{getattr(scaler, 'n_features_in_', None)!r:.20} and {getattr(model, 'n_features_in_', None)!r:.20}.")
    check_finite(getattr(model, "coef_", None), f"{name}.coef_", shape=(1, n))
    check_finite(getattr(model, "intercept_", None), f"{name}.intercept_", shape=(1,))
