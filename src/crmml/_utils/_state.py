"""Consistency checks of fitted state, for ``_check_loaded_state`` hooks (a loaded model file is untrusted).

Each raises ``ValueError`` naming the attribute; :func:`crmml.persistence.load` turns it into ``ModelLoadError``.
"""

from __future__ import annotations

import numpy as np


def check_codes(a, name: str, low: int, high: int, length: int | None = None) -> np.ndarray:
    """An integer array whose values lie in ``[low, high)`` (and of ``length`` when given).

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
    if a.size and (a.min() < low or a.max() >= high):
        raise ValueError(f"{name} must hold integers in [{low}, {high}); it holds values "
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
