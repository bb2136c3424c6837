"""Top-k selection (descending score, equal scores in column order) under an optional per-category cap: on a
dense score block (:func:`top_k`) or on sparse history cells over a shared fill row (:func:`sparse_top_k`), which
pick the same cells; and the long recommendation frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmml.recommend._matrices import entry_rows

RECOMMENDATION_COLUMNS = ["customer_id", "rank", "product_id", "score", "reason"]


def top_k(scores: np.ndarray, k: int, categories: np.ndarray | None = None,
          max_per_category: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top ``k`` columns of a dense score block among finite scores ``> 0``.

    Order: descending score, equal scores by column (product order), so ties never depend on the selection
    algorithm. With ``categories`` (an int code per column, -1 = unknown, never capped) and
    ``max_per_category``, at most that many columns of one category are kept per row (greedily, in that
    order). Returns ``(rows, cols)`` of the chosen cells, by row and then by rank.
    """
    n_rows, n_cols = scores.shape
    if n_rows == 0 or n_cols == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    capped = categories is not None and max_per_category is not None
    valid = np.isfinite(scores) & (scores > 0)
    n_valid = valid.sum(axis=1)
    depth = min(n_cols, 4 * k if capped else k)
    rows_all, cols_all = [], []
    todo = np.arange(n_rows)
    while len(todo):
        block, ok = (scores, valid) if len(todo) == n_rows else (scores[todo], valid[todo])
        if depth < n_cols:       # every valid cell at least the depth-th largest valid score (ties included)
            kth = np.partition(np.where(ok, block, -np.inf), n_cols - depth, axis=1)[:, n_cols - depth]
            ok = ok & (block >= kth[:, None])
        r, c = np.nonzero(ok)
        pr, pc, _ = _greedy([(r, c, block[r, c])], len(todo), k, categories if capped else None, max_per_category)
        # a row is short of k while it has valid cells deeper than the candidates: look deeper
        short = (np.bincount(pr, minlength=len(todo)) < k) & (n_valid[todo] > np.bincount(r, minlength=len(todo)))
        take = ~short[pr]
        rows_all.append(todo[pr[take]])
        cols_all.append(pc[take])
        todo = todo[short]
        depth = min(n_cols, depth * 4)
    rows, cols = np.concatenate(rows_all), np.concatenate(cols_all)
    rows, cols, _ = _by_rank(rows, cols, scores[rows, cols])
    return rows, cols


def sparse_top_k(cells: sp.csr_matrix, fill: np.ndarray, k: int, categories: np.ndarray | None = None,
                 max_per_category: int | None = None, fill_order: np.ndarray | None = None):
    """:func:`top_k` of the dense block that is ``fill`` in every row with ``cells`` written over it, without
    building it: a row's candidates are its valid cells and the first fill columns it has no cell in.

    ``fill_order`` (optional, to reuse across blocks): :func:`fill_ranking` of ``fill``. Returns ``(rows, cols,
    scores)`` by row and then by rank: the cells :func:`top_k` returns on the dense block, with their scores.
    """
    n_rows = cells.shape[0]
    order = fill_ranking(fill) if fill_order is None else fill_order
    cats = categories if categories is not None and max_per_category is not None else None
    r_all = entry_rows(cells)
    at = np.full(len(fill), len(order), dtype=np.int64)       # position of each column in the fill order
    at[order] = np.arange(len(order))
    pos = at[cells.indices]
    ok = np.isfinite(cells.data) & (cells.data > 0)
    r, c, v = r_all[ok], cells.indices[ok], cells.data[ok]
    out = []
    todo, n_fill = np.arange(n_rows), min(len(order), 4 * k if cats is not None else k)
    while len(todo):
        fr, fp = _first_free(r_all, pos, todo, n_rows, len(order), n_fill)
        fc, fv = order[fp], fill[order[fp]]
        rr, rc, rv = _greedy([(r, c, v), (fr, fc, fv)], n_rows, k, cats, max_per_category)
        # fill columns beyond the n_fill given could come before the row's last pick (or fill a short row)
        # unless its last pick comes before its last fill candidate: then look deeper
        short = np.zeros(n_rows, dtype=bool)
        if n_fill < len(order):
            full = np.bincount(fr, minlength=n_rows) == n_fill
            last_fill = np.searchsorted(fr, np.arange(n_rows), side="right") - 1
            last_pick = np.full(n_rows, -1, dtype=np.int64)
            last_pick[rr] = np.arange(len(rr))             # by row then rank: the row's last pick is written last
            has = (np.bincount(rr, minlength=n_rows) == k) & full
            late = np.ones(n_rows, dtype=bool)
            lp, lf = last_pick[has], last_fill[has]
            late[has] = (rv[lp] < fv[lf]) | ((rv[lp] == fv[lf]) & (rc[lp] > fc[lf]))
            short[todo] = (full & late)[todo]
        keep = ~short[rr]
        out.append((rr[keep], rc[keep], rv[keep]))
        todo, n_fill = todo[short[todo]], min(len(order), n_fill * 4)
        if len(todo):
            mine = short[r]
            r, c, v = r[mine], c[mine], v[mine]
    return _by_rank(*(np.concatenate(part) for part in zip(*out)))


def _greedy(groups, n_rows: int, k: int, categories, cap):
    """The picks of each row among valid candidates given as groups ``(rows, cols, scores)``, each sorted by
    row: by descending score (ties: column), at most ``cap`` per category when ``categories`` is given, ``k``
    per row. Returns ``(rows, cols, scores)`` by row and rank."""
    bound = np.full(n_rows, -np.inf)                   # nothing under it can be picked (see _pick_bound)
    for r, c, v in groups:
        bound = np.maximum(bound, _pick_bound(r, c, v, n_rows, k, categories))
    kept = [(r[m], c[m], v[m]) for r, c, v in groups for m in [v >= bound[r]]]
    r, c, v = _by_rank(*(np.concatenate(part) for part in zip(*kept)))
    if categories is not None:
        cat = categories[c]
        allowed = (cat < 0) | (_rank_within(r, cat) < cap)
        r, c, v = r[allowed], c[allowed], v[allowed]
    keep = ranks(r) <= k
    return r[keep], c[keep], v[keep]


def _first_free(r: np.ndarray, pos: np.ndarray, todo: np.ndarray, n_rows: int, n_order: int, n_free: int):
    """(row, position) of the first ``n_free`` positions of the fill order (``0 .. n_order-1``) that the cells
    of each row of ``todo`` (rows ``r``, positions ``pos``; ``n_order`` = not in the order) leave free, by row."""
    out_r, out_p = [], []
    depth = min(n_order, 2 * n_free)          # room for the row's own cells among the first positions
    slot = np.full(n_rows, -1, dtype=np.int64)
    while len(todo):
        slot[todo] = np.arange(len(todo))
        m = pos < depth
        if len(todo) < n_rows:
            m &= slot[r] >= 0
        occupied = np.zeros((len(todo), depth), dtype=bool)
        occupied[slot[r[m]], pos[m]] = True
        free = ~occupied
        seen = np.cumsum(free, axis=1, dtype=np.int32)
        done = (seen[:, -1] >= n_free if depth else np.zeros(len(todo), bool)) | (depth == n_order)
        rr, pp = np.nonzero(free & (seen <= n_free) & done[:, None])
        out_r.append(todo[rr])
        out_p.append(pp)
        slot[todo] = -1
        todo, depth = todo[~done], min(n_order, depth * 4)
    rows, positions = np.concatenate(out_r), np.concatenate(out_p).astype(np.int64)
    by_row = np.argsort(rows, kind="stable")
    return rows[by_row], positions[by_row]


def _pick_bound(r, c, v, n_rows: int, k: int, categories) -> np.ndarray:
    """Per row, a value its k-th pick cannot be below: the k-th largest of a set of its candidates that the
    per-category cap allows together (greedy by descending score picks, for a cap, a set whose i-th best is at
    least the i-th best of any allowed set: the cap makes the allowed sets a matroid).

    Uncapped: the k-th best of its first 64 candidates. Capped: the k-th best of one candidate of each
    category, each raised towards its category's best by a few passes (-inf where fewer than k categories,
    or too many to tabulate). Rows ``r`` are sorted.
    """
    if categories is None:
        return _kth_of_first(r, v, n_rows, k, 64)
    n_cat = int(categories.max(initial=-1)) + 1
    if n_cat < k or n_rows * n_cat > 2**24:
        return np.full(n_rows, -np.inf)
    cat = categories[c]
    m = cat >= 0
    key, vals = r[m] * n_cat + cat[m], v[m]
    best = np.full(n_rows * n_cat, -np.inf, dtype=vals.dtype)
    for _ in range(3):          # each pass writes one of the group's larger values (any one keeps the bound valid)
        best[key] = vals
        up = vals > best[key]
        key, vals = key[up], vals[up]
        if not len(key):
            break
    return np.partition(best.reshape(n_rows, n_cat), n_cat - k, axis=1)[:, n_cat - k]


def _kth_of_first(r: np.ndarray, v: np.ndarray, n_rows: int, k: int, width: int) -> np.ndarray:
    """Per row, the ``k``-th largest of its first ``width`` values (rows ``r`` sorted; -inf when fewer): a lower
    bound of the row's ``k``-th largest value."""
    if width < k:
        return np.full(n_rows, -np.inf)
    start = np.searchsorted(r, np.arange(n_rows))
    at = np.arange(len(r)) - start[r]
    m = at < width
    first = np.full((n_rows, width), -np.inf, dtype=np.float64)
    first[r[m], at[m]] = v[m]
    return np.partition(first, width - k, axis=1)[:, width - k]


def fill_ranking(fill: np.ndarray) -> np.ndarray:
    """Columns with a finite fill score ``> 0``, best first (equal scores: column order)."""
    cols = np.nonzero(np.isfinite(fill) & (fill > 0))[0]
    return cols[np.lexsort((cols, -fill[cols]))]


def _by_rank(r: np.ndarray, c: np.ndarray, v: np.ndarray):
    """Cells sorted by row, then descending score, then column."""
    if v.dtype == np.float32 and len(v) and (v > 0).all() and np.isfinite(v).all():
        # one integer key: row, then the bits of the positive float32 score (ordered like the scores) inverted;
        # a stable sort of cells already in column order breaks ties by column
        by_col = np.argsort(c, kind="stable")
        key = (r[by_col].astype(np.uint64) << np.uint64(32)) | (
            np.uint64(0xFFFFFFFF) - v[by_col].view(np.uint32).astype(np.uint64))
        order = by_col[np.argsort(key, kind="stable")]
    else:
        order = np.lexsort((c, -v, r))
    return r[order], c[order], v[order]


def _rank_within(r: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """For cells sorted by (row, rank): how many earlier cells of the same row share the cell's category."""
    key = r.astype(np.int64) * (int(cat.max(initial=0)) + 2) + (cat + 1)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    start = np.searchsorted(sk, sk, side="left")
    out = np.empty(len(key), dtype=np.int64)
    out[order] = np.arange(len(key)) - start
    return out


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
