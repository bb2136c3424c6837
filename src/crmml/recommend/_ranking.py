"""Top-k selection under a per-category cap, shared by the model and the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

RECOMMENDATION_COLUMNS = ["customer_id", "rank", "product_id", "score", "reason"]


def top_k(scores: np.ndarray, k: int, categories: np.ndarray | None = None,
          max_per_category: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top ``k`` columns of a dense score block among finite scores ``> 0``.

    With ``categories`` (an int code per column, -1 = unknown, never capped) and
    ``max_per_category``, at most that many columns of one category are kept per
    row (greedily, by descending score). Returns ``(rows, cols)`` of the chosen
    cells, by row and then by rank.
    """
    n_rows, n_cols = scores.shape
    if n_rows == 0 or n_cols == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    capped = categories is not None and max_per_category is not None
    depth = min(n_cols, 4 * k if capped else k)
    rows_all, cols_all = [], []
    todo = np.arange(n_rows)
    while len(todo):
        block = scores if len(todo) == n_rows else scores[todo]
        if depth < n_cols:
            part = np.argpartition(block, n_cols - depth, axis=1)[:, n_cols - depth:]
        else:
            part = np.broadcast_to(np.arange(n_cols), block.shape)
        vals = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        cand = np.take_along_axis(part, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        ok = np.isfinite(vals) & (vals > 0)
        if capped:
            cat = categories[cand]
            ok &= (cat < 0) | (_rank_within(np.where(ok, cat, -1)) < max_per_category)
        pos = np.cumsum(ok, axis=1)
        chosen = ok & (pos <= k)
        # a row is short of k while its deepest candidate is still valid: look deeper
        last = vals[:, -1]
        short = (chosen.sum(axis=1) < k) & np.isfinite(last) & (last > 0) & (depth < n_cols)
        r, c = np.nonzero(chosen & ~short[:, None])
        rows_all.append(todo[r])
        cols_all.append(cand[r, c])
        todo = todo[short]
        depth = min(n_cols, depth * 4)
    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    sc = scores[rows, cols]
    order = np.lexsort((-sc, rows))
    return rows[order], cols[order]


def _rank_within(cat: np.ndarray) -> np.ndarray:
    """For each cell, how many cells to its left in the same row share its code (codes < 0: 0)."""
    n, m = cat.shape
    key = cat.astype(np.int64) * m + np.arange(m)
    order = np.argsort(key, axis=1)
    sc = np.take_along_axis(cat, order, axis=1)
    idx = np.broadcast_to(np.arange(m), (n, m))
    new_run = np.ones((n, m), dtype=bool)
    new_run[:, 1:] = sc[:, 1:] != sc[:, :-1]
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0), axis=1)
    rank_sorted = idx - run_start
    out = np.empty_like(rank_sorted)
    np.put_along_axis(out, order, rank_sorted, axis=1)
    return np.where(cat < 0, 0, out)


def recommendation_frame(customer_ids, rank, product_ids, score, reason) -> pd.DataFrame:
    """The long recommendation frame: customer_id, rank (1 = best), product_id, score, reason."""
    return pd.DataFrame({"customer_id": customer_ids, "rank": np.asarray(rank, dtype=np.int64),
                         "product_id": product_ids, "score": np.asarray(score, dtype=np.float64),
                         "reason": pd.array(reason, dtype="str")}, columns=RECOMMENDATION_COLUMNS)


def ranks(rows: np.ndarray) -> np.ndarray:
    """1-based position of each entry within its run of equal (sorted) ``rows``."""
    if len(rows) == 0:
        return np.empty(0, np.int64)
    start = np.searchsorted(rows, rows, side="left")
    return np.arange(len(rows)) - start + 1
