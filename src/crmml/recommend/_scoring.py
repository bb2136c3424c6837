"""Scores of a block of customers, kept sparse: the cells where the history speaks, and one fill row.

A customer's score for product ``j`` (:class:`~crmml.recommend.NextBestOffer`) is a similarity part, a
repurchase part and a frequency part, all zero for the products the customer's history does not reach, plus
popularity, times the product's value. So every cell outside the history's reach scores ``fill[j] = pop[j] *
value[j]``, the same for every customer. :func:`history_cells` computes only the reached cells (float32, in the
same order of operations a dense block would use, so each cell is the same number), with ``-inf`` where a
rule bans the offer; :func:`fill_scores` is the shared row. :func:`crmml.recommend._ranking.sparse_top_k` then
picks the top ``k`` without ever materialising the dense block, and :func:`dense_scores` materialises it when a
per-category cap needs it.

>>> import numpy as np, scipy.sparse as sp
>>> a = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 0, 0]], dtype=np.float32))
>>> sim = sp.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]], dtype=np.float32))
>>> cells = history_cells(a, sim, (1.0, 1.0, 0.5, 0.0), np.full(3, 0.1, np.float32))
>>> cells.toarray()
array([[1.1, 1.1, 0. ],
       [0. , 0. , 0. ]], dtype=float32)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crmml.recommend._matrices import entry_rows

__all__ = ["dense_scores", "fill_scores", "history_cells"]


def fill_scores(pop: np.ndarray, value: np.ndarray | None, eligible: np.ndarray) -> np.ndarray:
    """The score of a product for a customer whose history does not reach it (float32; -inf when ineligible)."""
    fill = pop.astype(np.float32, copy=True)
    if value is not None:
        fill *= value
    if not eligible.all():
        fill[~eligible] = -np.inf
    return fill


def history_cells(a: sp.csr_matrix, sim: sp.csr_matrix, weights, pop: np.ndarray, value=None, counts=None,
                  banned=None, eligible=None) -> sp.csr_matrix:
    """Float32 CSR of the block's scores at every cell the history reaches (or a rule bans).

    ``a``: the block's normalised affinity rows (float32); ``sim``: item similarity (float32, CSR);
    ``weights``: (cooccurrence, repurchase, popularity, frequency); ``counts``: purchase-occasion counts of
    the block's rows (used when the frequency weight is positive); ``banned``: a boolean CSR of cells a rule
    forbids. Each cell is ``((w_cooc * c_j / sum(c) + w_rep * a_j) + w_freq * n_j + pop_j) * value_j``,
    computed in that order in float32; ``sum(c)`` is the row sum of ``c = a @ sim`` in float64. A cell whose
    sum is exactly 0 before popularity may be left out (it scores the fill, like every cell left out). The
    column indices within a row are in no particular order.
    """
    w_cooc, w_rep, _, w_freq = weights
    c = (a @ sim).tocsr()
    n_rows = c.shape[0]
    row_of = entry_rows(c)
    tot = np.bincount(row_of, weights=c.data, minlength=n_rows)
    scale = np.float32(w_cooc) / np.where(tot > 0, tot, 1.0).astype(np.float32)
    c.data *= scale[row_of]
    cells = c + _float32(np.float32(w_rep) * a)
    if w_freq > 0 and counts is not None:
        cells = cells + _float32(np.float32(w_freq) * counts.astype(np.float32))
    if banned is not None and banned.nnz:          # x + -inf = -inf: banned cells join the cells, banned
        cells = cells + sp.csr_matrix((np.full(banned.nnz, -np.inf, np.float32), banned.indices, banned.indptr),
                                      shape=banned.shape)
    cells = cells.tocsr()
    cells.data += pop[cells.indices]
    if value is not None:
        with np.errstate(invalid="ignore"):             # -inf * 0: a banned cell of a product worth nothing
            cells.data *= value[cells.indices]
        cells.data[np.isnan(cells.data)] = -np.inf
    if eligible is not None and not eligible.all():
        cells.data[~eligible[cells.indices]] = -np.inf
    return cells


def _float32(m: sp.csr_matrix) -> sp.csr_matrix:
    return m if m.dtype == np.float32 else m.astype(np.float32)


def dense_scores(cells: sp.csr_matrix, fill: np.ndarray) -> np.ndarray:
    """The dense float32 score block: ``fill`` in every row, the history's cells written over it."""
    out = np.broadcast_to(fill, cells.shape).copy()
    out[entry_rows(cells), cells.indices] = cells.data
    return out
