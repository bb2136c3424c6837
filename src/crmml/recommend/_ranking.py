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
    cells in row order and then rank order.
    """
    n_rows, n_cols = scores.shape
    if n_rows == 0 or n_cols == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    capped = categories is not None and max_per_category is not None
    depth = min(n_cols, 4 * k if capped else k)
    rows_all, cols_all = [], []
    todo = np.arange(n_rows)
    while len(todo):
        block = scores[todo]
        if depth < n_cols:
            part = np.argpartition(-block, depth - 1, axis=1)[:, :depth]
        else:
            part = np.broadcast_to(np.arange(n_cols), (len(todo), n_cols)).copy()
        vals = np.take_along_axis(block, part, axis=1)
        order = _sort_desc(vals, part)
        cand = np.take_along_axis(part, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        ok = np.isfinite(vals) & (vals > 0)
        if capped:
            cat = categories[cand]
            rr = np.broadcast_to(np.arange(len(todo))[:, None], cand.shape)
            key = rr.astype(np.int64) * (int(categories.max()) + 2) + cat + 1
            within = pd.Series(np.where(ok, key, -1).ravel()).groupby(np.where(ok, key, -1).ravel()).cumcount()
            within = within.to_numpy().reshape(cand.shape)
            ok &= (cat < 0) | (within < max_per_category)
        pos = np.cumsum(ok, axis=1)
        chosen = ok & (pos <= k)
        # rows that are short of k although deeper candidates exist: search the full row
        n_valid = (np.isfinite(block) & (block > 0)).sum(axis=1)
        short = (chosen.sum(axis=1) < k) & (depth < n_cols) & (n_valid > chosen.sum(axis=1))
        done = ~short
        r, c = np.nonzero(chosen & done[:, None])
        rows_all.append(todo[r])
        cols_all.append(cand[r, c])
        todo = todo[short]
        depth = n_cols
    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    sc = scores[rows, cols]
    order = np.lexsort((-sc, rows))
    return rows[order], cols[order]


def _sort_desc(vals: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Row-wise order by descending value, ties by ascending column (deterministic)."""
    v = np.where(np.isnan(vals), -np.inf, vals)
    order = np.argsort(cols, axis=1, kind="stable")
    v2 = np.take_along_axis(v, order, axis=1)
    o2 = np.argsort(-v2, axis=1, kind="stable")
    return np.take_along_axis(order, o2, axis=1)


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
