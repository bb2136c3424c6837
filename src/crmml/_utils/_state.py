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
