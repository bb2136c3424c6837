"""Sparse building blocks: purchase rows, customer-item affinity, item-item similarity, cell lookups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

_DAY_NS = 86_400 * 10**9


def entry_rows(m: sp.csr_matrix) -> np.ndarray:
    """The row (int64) of each stored entry of a CSR matrix, in storage order.

    >>> entry_rows(sp.csr_matrix(np.array([[0, 5], [0, 0], [7, 8]]))).tolist()
    [0, 2, 2]
    """
    return np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))


def purchase_rows(tx: pd.DataFrame) -> pd.DataFrame:
    """Rows that are purchases: not returns (``amount < 0``) nor negative ``quantity``.

    Amounts that are missing (purchase logs without values) still count as purchases.
    """
    keep = ~(tx["amount"].to_numpy(dtype=float, na_value=np.nan) < 0)
    if "quantity" in tx.columns:
        keep &= ~(tx["quantity"].to_numpy(dtype=float, na_value=np.nan) < 0)
    return tx.loc[keep]


def coded_lines(tx: pd.DataFrame, item_index: pd.Index, customer_index: pd.Index):
    """Per purchase line of a known customer and item: customer code, item code, occasion code and time (int64 ns).

    An occasion is one customer's ``transaction_id`` (or timestamp, without that column).
    """
    c = customer_index.get_indexer(tx["customer_id"])
    i = item_index.get_indexer(tx["product_id"])
    ts = tx["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    key = tx["transaction_id"] if "transaction_id" in tx.columns else tx["timestamp"]
    kc = pd.factorize(tx["customer_id"].to_numpy())[0].astype(np.int64)
    kt = pd.factorize(key.to_numpy())[0].astype(np.int64)
    basket = pd.factorize(kc * (int(kt.max()) + 1) + kt)[0]  # occasion = (customer, transaction)
    keep = (c >= 0) & (i >= 0)
    return c[keep], i[keep], basket[keep], ts[keep]


def occasions(tx: pd.DataFrame, item_index: pd.Index, customer_index: pd.Index) -> pd.DataFrame:
    """One row per (customer, item, purchase occasion) with integer codes.

    A purchase occasion is a ``transaction_id`` when present, else a timestamp.
    Columns: ``c`` (customer code), ``i`` (item code), ``basket`` (occasion code),
    ``ts`` (int64 ns), one row per (customer, item, occasion), in order of first appearance.

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 1], "product_id": ["a", "b", "a", "a"],
    ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-01"]),
    ...                    "transaction_id": ["t1", "t1", "t2", "t1"]})
    >>> occasions(tx, pd.Index(["a", "b"]), pd.Index([1, 2]))[["c", "i", "basket"]].to_numpy().tolist()
    [[0, 0, 0], [0, 1, 0], [1, 0, 1]]
    """
    c, i, basket, ts = coded_lines(tx, item_index, customer_index)
    # one row per occasion and item, in order of first appearance (a basket holds one customer, so the pair
    # (basket, item) is the group); the occasion's time is its earliest line
    g, pairs = pd.factorize(basket.astype(np.int64) * max(len(item_index), 1) + i)
    first = np.full(len(pairs), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, g, ts)
    out = {}
    for name, v in (("c", c), ("i", i), ("basket", basket)):
        out[name] = np.empty(len(pairs), dtype=np.int64)
        out[name][g] = v                              # constant within a group
    return pd.DataFrame({**out, "ts": first})


def affinity_matrices(occ: pd.DataFrame, as_of_ns: int, half_life_days: float, shape: tuple[int, int]):
    """Recency-weighted affinity, purchase counts and days since last purchase (+1), all CSR.

    Each purchase occasion weighs ``0.5 ** (age_days / half_life_days)``.
    """
    age = (as_of_ns - occ["ts"].to_numpy()) / _DAY_NS
    w = np.power(0.5, age / half_life_days)
    g = pd.DataFrame({"c": occ["c"].to_numpy(), "i": occ["i"].to_numpy(), "w": w, "age": age})
    agg = g.groupby(["c", "i"], sort=False).agg(w=("w", "sum"), n=("w", "size"), age=("age", "min"))
    r = agg.index.get_level_values(0).to_numpy()
    col = agg.index.get_level_values(1).to_numpy()
    mk = lambda v: sp.csr_matrix((v, (r, col)), shape=shape)  # noqa: E731
    return (mk(agg["w"].to_numpy(dtype=np.float64)), mk(agg["n"].to_numpy(dtype=np.float64)),
            mk(agg["age"].to_numpy(dtype=np.float64) + 1.0))


def basket_matrix(occ: pd.DataFrame, basket: str, n_items: int) -> sp.csr_matrix:
    """Binary basket x item matrix; baskets are transactions or whole customers."""
    key = occ["basket"].to_numpy() if basket == "transaction" else occ["c"].to_numpy()
    rows = pd.factorize(key)[0]
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, occ["i"].to_numpy())),
                      shape=(rows.max() + 1 if len(rows) else 0, n_items))
    m.data[:] = 1.0  # duplicates summed: back to binary
    return m


def item_similarity(baskets: sp.csr_matrix, similarity: str, *, min_support: int, min_confidence: float,
                    n_neighbors: int) -> sp.csr_matrix:
    """Item x item similarity (row = bought item, column = candidate), zero diagonal, top ``n_neighbors`` per row.

    - ``cosine``: ``n_ij / sqrt(n_i n_j)``
    - ``lift``: ``n_ij N / (n_i n_j)``
    - ``confidence``: association rules ``i -> j`` with confidence ``n_ij / n_i``
      kept when ``>= min_confidence``

    Pairs seen together in fewer than ``min_support`` baskets are dropped.
    """
    n_baskets = baskets.shape[0]
    n = np.asarray(baskets.sum(axis=0)).ravel().astype(np.float64)
    co = (baskets.T @ baskets).tocoo()
    keep = (co.row != co.col) & (co.data >= min_support)
    r, c, v = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
    if similarity == "cosine":
        s = v / np.sqrt(n[r] * n[c])
    elif similarity == "lift":
        s = v * n_baskets / (n[r] * n[c])
    else:
        s = v / n[r]
        ok = s >= min_confidence
        r, c, s = r[ok], c[ok], s[ok]
    return top_per_row(r, c, s, (baskets.shape[1], baskets.shape[1]), n_neighbors)


def top_per_row(r: np.ndarray, c: np.ndarray, s: np.ndarray, shape, n_top: int) -> sp.csr_matrix:
    """Keep the ``n_top`` largest values of each row (ties broken by smaller column)."""
    m = sp.csr_matrix((s, (r, c)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    counts = np.diff(m.indptr)
    keep = np.ones(m.nnz, dtype=bool)
    for row in np.nonzero(counts > n_top)[0]:
        lo, hi = m.indptr[row], m.indptr[row + 1]
        vals = m.data[lo:hi]
        order = np.lexsort((m.indices[lo:hi], -vals))  # by value desc, then column
        drop = np.ones(hi - lo, dtype=bool)
        drop[order[:n_top]] = False
        keep[lo:hi] = ~drop
    rows = np.repeat(np.arange(shape[0]), counts)
    return sp.csr_matrix((m.data[keep].astype(np.float32), (rows[keep], m.indices[keep])), shape=shape)


def lookup(m: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Values ``m[r, c]`` (0 where absent) by binary search on sorted (row, col) keys."""
    m = m.tocsr()
    if not m.has_sorted_indices:
        m = m.sorted_indices()
    n = m.shape[1]
    keys = entry_rows(m) * n + m.indices
    q = np.asarray(r, dtype=np.int64) * n + np.asarray(c, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
    found = (keys[pos] == q) if len(keys) else np.zeros(len(q), bool)
    return np.where(found, m.data[pos] if len(keys) else 0.0, 0.0).astype(np.float64)


def place_rows(sub: sp.csr_matrix, known: np.ndarray) -> sp.csr_matrix:
    """Rows of ``sub`` at the positions where ``known`` is true, empty rows elsewhere."""
    coo = sub.tocoo()
    pos = np.nonzero(known)[0]
    return sp.csr_matrix((coo.data, (pos[coo.row], coo.col)), shape=(len(known), sub.shape[1]))
