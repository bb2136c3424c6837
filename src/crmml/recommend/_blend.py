"""NextBestOffer learns its blend on a time split of its own training history.

The three score components (item similarity, the customer's own repeat purchases, recent popularity) matter very
differently from one shop to the next: a grocery log is mostly repeat purchases, a gift shop mostly discovery. So
``NextBestOffer(blend="auto")`` holds out the last ``blend_validation_days`` of the history it is given, fits on
the rest, and scores a small fixed set of weightings by precision@10 on what those customers bought in the
held-out days; the best one (ties: the configured weights first) is what ``recommend`` uses. Each component alone
is a candidate, so when no blend beats the better single component, that component is used.

The candidates are a documented grid of ratios, not weights tuned to any dataset: the configured weights; each
component alone (the other two at 0, popularity at 0.001 to fill short lists); the past-purchases baseline's own
order (most bought, then most recent, filled with popular products), so the baseline is always a candidate; and
repurchase-to-similarity ratios 0.5, 1, 2, 4 with popularity at 0.1 or 0.5 of similarity.

The **recency half-life** of a customer's purchases (how fast an old purchase stops counting in the affinity that
feeds repurchase and item similarity) is then chosen the same way, for the chosen weights, among the configured
one and :data:`HALF_LIVES`: a month, a quarter, a year and a decade (practically no decay: every purchase counts
the same); ties keep the configured half-life. Only the validation customers' affinity is recomputed per
half-life, from their occasions computed once (their rows equal those of a whole fit at that half-life), so the
step costs 3 or 4 more rankings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmml.recommend._matrices import affinity_matrices, occasions


__all__ = ["HALF_LIVES", "candidate_weights", "empty_selection", "learn_blend", "MAX_VALIDATION_CUSTOMERS"]

#: half-lives (days) tried beside the configured one: a month, a quarter, a year, a decade (~no decay)
HALF_LIVES = (30.0, 90.0, 365.0, 3650.0)

#: validation customers scored per candidate (a random sample above this; bounds the cost of fit)
MAX_VALIDATION_CUSTOMERS = 2000
_FILL = 0.001


def candidate_weights(given) -> dict:
    """Name -> (cooccurrence, repurchase, popularity, frequency) weights, the configured ones first.

    ``past purchases`` is the baseline's order: the count of past purchase occasions (``frequency``), ties
    broken by the recency-weighted repurchase affinity, unowned products filled by popularity.
    """
    out = {"configured": (*(float(w) for w in given), 0.0),
           "item similarity only": (1.0, 0.0, _FILL, 0.0), "repurchase only": (0.0, 1.0, _FILL, 0.0),
           "popularity only": (0.0, 0.0, 1.0, 0.0), "past purchases": (0.0, _FILL, _FILL, 1.0)}
    for r in (0.5, 1.0, 2.0, 4.0):
        for p in (0.1, 0.5):
            out.setdefault(f"blend r={r:g} p={p:g}", (1.0, r, p, 0.0))
    return out


def _validation_occasions(inner, train: pd.DataFrame, customers) -> pd.DataFrame:
    """The purchase occasions of the validation ``customers``, coded like the inner fit's.

    A customer's affinity row depends only on that customer's occasions, so the affinity of these (at any
    half-life, :func:`crmml.recommend._matrices.affinity_matrices`) has the rows of a whole fit's.
    """
    return occasions(train[train["customer_id"].isin(customers)], inner.items_, inner.customers_)


def learn_blend(model, tx: pd.DataFrame, products, as_of: pd.Timestamp, validation_days: int, k: int = 10):
    """Choose the weights and the half-life on ``tx`` (purchase rows before ``as_of``): fit before
    ``as_of - validation_days``, score each candidate on the purchases of the held-out days.

    Returns ``(weights, half_life, table, note)``: the chosen ``(cooccurrence, repurchase, popularity,
    frequency)`` and recency half-life in days, a frame indexed by candidate with the weights,
    ``half_life_days``, ``precision``, ``map`` and ``chosen`` (empty when the split is impossible), and a note
    on the validation used.
    """
    from crmml.recommend._evaluate import ranking_metrics

    given = (model.cooccurrence_weight, model.repurchase_weight, model.popularity_weight)
    configured = float(model.half_life_days)
    split = as_of - pd.Timedelta(days=int(validation_days))
    ts = tx["timestamp"].to_numpy()
    train = tx[ts < split.to_datetime64()]
    test = tx[ts >= split.to_datetime64()]
    relevant = test[test["customer_id"].isin(pd.unique(train["customer_id"]))][["customer_id", "product_id"]]
    relevant = relevant.drop_duplicates()
    customers = pd.unique(relevant["customer_id"])
    if len(train) == 0 or len(customers) < 20:
        note = (f"configured weights: the last {validation_days} days hold {len(customers)} customers who also "
                "bought before them (20 needed to learn the blend)")
        return (*(float(w) for w in given), 0.0), configured, empty_selection(), note
    if len(customers) > MAX_VALIDATION_CUSTOMERS:
        customers = np.sort(np.random.default_rng(0).choice(customers, MAX_VALIDATION_CUSTOMERS, replace=False))
        relevant = relevant[relevant["customer_id"].isin(customers)]
    # the rows are fit's own validated purchases: the inner fit starts after fit's checks (so a gap in the data
    # before crmml's split warns nobody) and builds customer rows for the validation customers only
    inner = clone(model).set_params(blend="fixed", verbose=False)._fit_purchases(
        train, products, split, affinity_customers=customers)
    rows = {}

    def score(name, w, half_life):
        inner.weights_ = w
        recs = inner.recommend(customers, k=k, reasons=False)     # all seen in the inner fit: no cold start
        m = ranking_metrics(recs, relevant, k=k)
        rows[name] = {"cooccurrence": w[0], "repurchase": w[1], "popularity": w[2], "frequency": w[3],
                      "half_life_days": half_life, "precision": m["precision"], "map": m["map"]}

    for name, w in candidate_weights(given).items():
        score(name, w, configured)
    table = pd.DataFrame.from_dict(rows, orient="index")
    best = str(table["precision"].idxmax())          # first maximum: the configured weights win ties
    w = tuple(float(v) for v in table.loc[best, ["cooccurrence", "repurchase", "popularity", "frequency"]])
    if w[0] > 0 or w[1] > 0:                         # the half-life matters only through the affinity
        occ = _validation_occasions(inner, train, customers)
        for h in HALF_LIVES:
            if h != configured:
                inner.affinity_ = affinity_matrices(occ, int(split.value), h, inner.affinity_.shape)[0]
                score(f"{best}, half-life {h:g} days", w, h)
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidate")
    best = str(table["precision"].idxmax())          # first maximum: the configured half-life wins ties
    table["chosen"] = table.index == best
    note = (f"time split: fitted before {split.date()}, precision@{k} on the purchases of the last "
            f"{validation_days} days by {len(customers)} customers")
    weights = tuple(float(v) for v in table.loc[best, ["cooccurrence", "repurchase", "popularity", "frequency"]])
    return weights, float(table.loc[best, "half_life_days"]), table, note


def empty_selection() -> pd.DataFrame:
    cols = {c: pd.Series(dtype=float)
            for c in ("cooccurrence", "repurchase", "popularity", "frequency", "half_life_days", "precision", "map")}
    return pd.DataFrame({**cols, "chosen": pd.Series(dtype=bool)}).rename_axis("candidate")
