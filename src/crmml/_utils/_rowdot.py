"""Row-wise dot products whose rounding depends on the row alone (partition-exact).

``X @ w`` goes through BLAS, which picks its blocking (and FMA use) from the array's size and alignment, so a
customer's value could change with the other rows computed beside it. :func:`row_dot` adds the columns one
after another in a fixed order: a row's result depends on that row only.
"""

from __future__ import annotations

import numpy as np


def row_dot(X, w, init: float = 0.0) -> np.ndarray:
    """``init + X @ w`` summed column by column, in column order.

    ``X`` is a 2-D array or a sequence of its columns (equal-length 1-D arrays; contiguous columns are read
    faster than the strided columns of a C-ordered array).

    >>> row_dot(np.array([[1.0, 2.0], [3.0, 4.0]]), [10.0, 1.0], init=0.5)
    array([12.5, 34.5])
    >>> row_dot([np.array([1.0, 3.0]), np.array([2.0, 4.0])], [10.0, 1.0], init=0.5)
    array([12.5, 34.5])
    """
    cols = [X[:, j] for j in range(X.shape[1])] if isinstance(X, np.ndarray) else X
    out = np.full(len(cols[0]) if len(cols) else len(X), float(init))
    for col, wj in zip(cols, w):
        out += col * wj
    return out
