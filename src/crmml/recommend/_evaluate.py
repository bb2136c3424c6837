"""Offline evaluation of recommendations on a time split, with two baselines."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmml._time import shift_days
from crmml._utils import (MAX_HORIZON_DAYS, MAX_K, check_as_of, check_estimator, check_in, check_number,
                          history_before)
from crmml.exceptions import ColdStartWarning, DataError
from crmml.recommend._baselines import PastPurchasesBaseline, PopularityBaseline
from crmml.recommend._matrices import purchase_rows
from crmml.schema import map_frames, validate_transactions

METRIC_COLUMNS = ["precision", "recall", "map", "ndcg", "coverage", "n_customers"]


def ranking_metrics(recommendations: pd.DataFrame, relevant: pd.DataFrame, k: int = 10,
                    n_catalogue: int | None = None) -> dict:
    """precision@k, recall@k, MAP@k, NDCG@k (binary relevance) and catalogue coverage.

    Averaged over the customers in ``relevant`` (``customer_id, product_id`` pairs,
    the items each bought in the test window); a customer without
    recommendations scores 0. Precision divides by ``k``; MAP@k divides by
    ``min(k, n_relevant)``. Coverage is the share of the ``n_catalogue`` products
    that were recommended to anybody.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1], "rank": [1, 2], "product_id": ["a", "b"]})
    >>> rel = pd.DataFrame({"customer_id": [1], "product_id": ["b"]})
    >>> m = ranking_metrics(recs, rel, k=2, n_catalogue=4)
    >>> m["precision"], m["recall"], m["map"], m["coverage"]
    (0.5, 1.0, 0.5, 0.5)
    """
    check_number(k, "k", "ranking_metrics", low=1, high=MAX_K)
    rel = relevant[["customer_id", "product_id"]].drop_duplicates()
    n_rel = rel.groupby("customer_id").size()
    recs = recommendations[recommendations["rank"] <= k]
    who = n_rel.index.get_indexer(recs["customer_id"])
    recs, who = recs[who >= 0], who[who >= 0]
    # (customer, product) pairs as one integer key; hits by lookup, sums per customer in rank order
    products = pd.Index(pd.unique(pd.concat([rel["product_id"], recs["product_id"]], ignore_index=True)))
    rel_key = np.sort(n_rel.index.get_indexer(rel["customer_id"]).astype(np.int64) * len(products)
                      + products.get_indexer(rel["product_id"]))
    rank = recs["rank"].to_numpy()
    order = np.lexsort((rank, who))
    who, rank = who[order], rank[order].astype(float)
    key = who.astype(np.int64) * len(products) + products.get_indexer(recs["product_id"])[order]
    pos = np.minimum(np.searchsorted(rel_key, key), max(len(rel_key) - 1, 0))
    hit = (rel_key[pos] == key).astype(float) if len(rel_key) else np.zeros(len(key))
    cum = np.cumsum(hit)
    start = np.searchsorted(who, who)                       # first row of each row's customer
    cum_hits = cum - np.where(start > 0, cum[start - 1], 0.0) if len(cum) else cum
    n = len(n_rel)
    hits = np.bincount(who, weights=hit, minlength=n)
    ap = np.bincount(who, weights=cum_hits / rank * hit, minlength=n)
    dcg = np.bincount(who, weights=hit / np.log2(rank + 1.0), minlength=n)
    nr = n_rel.to_numpy(dtype=float)
    ideal_n = np.minimum(nr, k).astype(int)
    idcg = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[ideal_n - 1]
    out = {
        "precision": float(np.mean(hits / k)),
        "recall": float(np.mean(hits / nr)),
        "map": float(np.mean(ap / np.minimum(nr, k))),
        "ndcg": float(np.mean(dcg / idcg)),
        "coverage": (float(recs["product_id"].nunique() / n_catalogue) if n_catalogue else float("nan")),
        "n_customers": int(len(n_rel)),
    }
    return out


def time_split(transactions, split_date, horizon_days=30, *, target="all", columns=None):
    """Training rows (``timestamp < split``) and the test pairs bought in ``[split, split + horizon)``.

    Test customers are those with a purchase in both periods; returns never count.
    ``target="new"`` keeps only test pairs the customer had not bought before the split.
    Returns ``(train, relevant)``: the validated training rows (all of them,
    returns included, as the model sees history) and ``customer_id, product_id``
    pairs. ``columns`` maps your column names to canonical ones (:func:`crmml.schema.map_columns`).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "product_id": ["a", "b", "a", "c"], "amount": 1.0,
    ...                    "timestamp": ["2024-01-02", "2024-02-03", "2024-01-05", "2024-03-20"]})
    >>> train, relevant = time_split(tx, "2024-02-01", horizon_days=30)
    >>> len(train), relevant.to_dict("records")
    (2, [{'customer_id': 1, 'product_id': 'b'}])
    """
    check_number(horizon_days, "horizon_days", "evaluate_recommendations", low=1, high=MAX_HORIZON_DAYS)
    check_in(target, "target", "evaluate_recommendations", ("all", "new"))
    split = check_as_of(split_date, "time_split", "split_date")
    tx = validate_transactions(transactions, columns, allow_missing_amount=True)
    if "product_id" not in tx.columns:
        raise DataError("evaluate_recommendations needs a 'product_id' column in transactions.")
    train = history_before(tx, split)
    ts = tx["timestamp"].to_numpy()
    end = shift_days(split, horizon_days).to_datetime64()
    test = purchase_rows(tx.loc[(ts >= split.to_datetime64()) & (ts < end)])
    bought = purchase_rows(train)[["customer_id", "product_id"]].drop_duplicates()
    test = test[test["customer_id"].isin(pd.unique(bought["customer_id"]))]
    if target == "new":
        seen = test.merge(bought.assign(_seen=True), on=["customer_id", "product_id"], how="left")["_seen"]
        test = test[seen.isna().to_numpy()]
    if len(test) == 0:
        raise DataError(f"evaluate_recommendations found no customer with purchases both before "
                        f"{split.date()} and in the {horizon_days} days after it.")
    return train, test[["customer_id", "product_id"]].drop_duplicates().reset_index(drop=True)


def evaluate_recommendations(model, transactions, split_date, horizon_days=30, k=10, *, products=None,
                             baselines=True, target="all", columns=None):
    """Fit ``model`` on rows before ``split_date`` and score its top-``k`` against the next ``horizon_days``.

    The model is cloned and fitted with ``as_of=split_date`` on rows strictly
    before the split (never after). Test customers bought both before the split
    and in ``[split, split + horizon_days)``; the relevant items are the distinct
    products each bought in that window (returns excluded). Baselines, fitted
    on the same rows: ``popularity`` (most distinct buyers in the last 30 days)
    and ``past_purchases`` (the customer's own products, most frequent then most
    recent, filled with popular ones).

    ``target="new"`` scores discovery instead: only products new to the
    customer count as relevant (customers without any are dropped), the
    popularity baseline skips what each customer bought and the past-purchases
    baseline is left out. Use it with ``NextBestOffer(repurchase="never")``.

    Parameters
    ----------
    model : estimator with ``fit(transactions, products, as_of=)`` and ``recommend(customers, k)``
    transactions : DataFrame
    split_date : timestamp
    horizon_days : int, default=30
    k : int, default=10
    products : DataFrame, optional
        Passed to every ``fit``; the baselines ignore it (no eligibility rules),
        so evaluate rules-constrained models on a comparable footing.
    baselines : bool, default=True
    target : {"all", "new"}, default="all"
    columns : dict, optional
        Your column names -> canonical names, applied to every frame given (or one dict per frame name,
        e.g. ``{"products": {...}}``); see :func:`crmml.schema.map_frames`.

    Returns
    -------
    DataFrame
        Indexed by ``model`` (the model's class name, then ``popularity`` and
        ``past_purchases``), columns ``precision, recall, map, ndcg, coverage,
        n_customers`` (metrics at ``k``; coverage over the products seen before
        the split).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.recommend import NextBestOffer
    >>> crm = make_synthetic_crm(n_customers=300, seed=0, with_events=False)
    >>> res = evaluate_recommendations(NextBestOffer(), crm.transactions, "2024-06-01")
    >>> list(res.index)
    ['NextBestOffer', 'popularity', 'past_purchases']
    """
    check_number(k, "k", "evaluate_recommendations", low=1, high=MAX_K)
    check_estimator(model, "model", "evaluate_recommendations", ("fit", "recommend"))
    split = check_as_of(split_date, "evaluate_recommendations", "split_date")
    f = map_frames(columns, transactions=transactions, products=products)
    products = f["products"]
    train, relevant = time_split(f["transactions"], split, horizon_days, target=target)
    n_catalogue = int(purchase_rows(train)["product_id"].nunique())
    customers = pd.unique(relevant["customer_id"])
    models = {type(model).__name__: clone(model)}
    if baselines:
        models["popularity"] = PopularityBaseline(exclude_bought=target == "new")
        if target == "all":
            models["past_purchases"] = PastPurchasesBaseline()
    rows = {}
    for name, m in models.items():
        m.fit(train, products, as_of=split)
        with warnings.catch_warnings():   # customers new at the split are part of the evaluation
            warnings.simplefilter("ignore", ColdStartWarning)
            recs = m.recommend(customers, k=k)
        rows[name] = ranking_metrics(recs, relevant, k=k, n_catalogue=n_catalogue)
    res = pd.DataFrame.from_dict(rows, orient="index")[METRIC_COLUMNS]
    res.index.name = "model"
    res.attrs.update({"k": k, "split_date": split.isoformat(), "horizon_days": horizon_days})
    return res
