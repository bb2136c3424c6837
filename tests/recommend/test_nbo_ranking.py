"""top_k under a category cap against a plain greedy reference."""

import numpy as np
import pytest

from crmml.recommend._ranking import top_k


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
