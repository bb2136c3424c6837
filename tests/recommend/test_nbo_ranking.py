"""top_k (dense) and sparse_top_k (history cells over a fill row), with and without a category cap, against a
plain greedy reference: descending score, equal scores by column."""

import numpy as np
import pytest
import scipy.sparse as sp

from crmml.recommend._ranking import sparse_top_k, top_k
from crmml.recommend._scoring import dense_scores


def _reference(scores, k, cats, cap):
    rows, cols = [], []
    for r, row in enumerate(scores):
        taken, used = 0, {}
        for c in sorted(range(len(row)), key=lambda j: (-row[j], j)):
            if not (np.isfinite(row[c]) and row[c] > 0) or taken == k:
                break
            cat = cats[c] if cats is not None else -1
            if cap is not None and cat >= 0 and used.get(cat, 0) >= cap:
                continue
            used[cat] = used.get(cat, 0) + 1
            rows.append(r)
            cols.append(c)
            taken += 1
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cap", [None, 1, 2])
def test_top_k_matches_greedy_reference(seed, cap):
    rng = np.random.default_rng(seed)
    n_rows, n_cols, k = 30, 60, 7
    scores = rng.random((n_rows, n_cols)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.3] = 0.0          # not offered (zero score)
    scores[rng.random(scores.shape) < 0.2] = -np.inf      # forbidden by a rule
    cats = rng.integers(-1, 3, n_cols)                    # few categories: the cap forces deep searches
    r, c = top_k(scores, k, cats if cap else None, cap)
    er, ec = _reference(scores, k, cats if cap else None, cap)
    np.testing.assert_array_equal(r, er)
    np.testing.assert_array_equal(c, ec)


def test_top_k_empty_block():
    r, c = top_k(np.zeros((0, 5), np.float32), 3)
    assert len(r) == len(c) == 0


def _tied_block(seed):
    """A random block with many equal scores, zeros and -inf, as sparse cells over a fill row."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols, k = int(rng.integers(1, 30)), int(rng.integers(1, 80)), int(rng.integers(1, 12))
    levels = int(rng.integers(1, 6))
    fill = (rng.integers(0, levels, n_cols) / 4).astype(np.float32)       # quarters: exact ties, zeros
    fill[rng.random(n_cols) < 0.1] = -np.inf                              # ineligible products
    mask = rng.random((n_rows, n_cols)) < rng.random()
    vals = (rng.integers(-1, levels + 2, (n_rows, n_cols)) / 4).astype(np.float32)
    vals[rng.random(vals.shape) < 0.1] = -np.inf                          # banned cells
    cells = sp.csr_matrix((vals[mask], np.nonzero(mask)), shape=(n_rows, n_cols))
    cats = rng.integers(-1, int(rng.integers(1, 15)), n_cols)
    return cells, fill, k, cats


@pytest.mark.parametrize("seed", range(120))
def test_sparse_and_dense_top_k_match_the_reference_on_ties(seed):
    """Equal scores everywhere (fill and cells), caps of 1 and 2 over few categories (deep fill searches): both
    selections give exactly the reference's cells in its order, and sparse_top_k the dense block's scores."""
    cells, fill, k, cats = _tied_block(seed)
    dense = dense_scores(cells, fill)
    for cap in (None, 1, 2):
        c = cats if cap else None
        er, ec = _reference(dense, k, c, cap)
        r, col = top_k(dense, k, c, cap)
        np.testing.assert_array_equal(r, er)
        np.testing.assert_array_equal(col, ec)
        r, col, v = sparse_top_k(cells, fill, k, c, cap)
        np.testing.assert_array_equal(r, er)
        np.testing.assert_array_equal(col, ec)
        np.testing.assert_array_equal(v, dense[er, ec])


def test_sparse_top_k_with_no_cells_and_no_fill():
    empty = sp.csr_matrix((3, 4), dtype=np.float32)
    r, c, v = sparse_top_k(empty, np.full(4, -np.inf, np.float32), 2)
    assert len(r) == len(c) == len(v) == 0
    r, c, v = sparse_top_k(empty, np.array([0.5, 0.0, 0.5, 0.25], np.float32), 2)
    np.testing.assert_array_equal(r, [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(c, [0, 2, 0, 2, 0, 2])     # the tie 0.5 / 0.5: product order
