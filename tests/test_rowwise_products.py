"""Per-customer values computed with matrix products are the same whatever other rows share the call.

``X @ w`` goes through BLAS, whose blocking (and FMA use) depends on the array's size, so a customer's value could
change in its last bits with the other customers scored beside it (a Spark bucket, a ``crmml score --batch`` part).
These three used it: BG/NBD's quadrature fallback for degenerate fits, ``CoxBaseline`` risks, ``RuleLeadScorer``
points. Found by a Spark test on CLV scores (two customers differed by one ulp in ``expected_purchases``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _parts(n, seed, k=7):
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return np.split(order, cuts)


def _assert_partition_exact(fn, frame, seeds=(0, 1, 2)):
    whole = np.asarray(fn(frame))
    for seed in seeds:
        got = np.empty_like(whole)
        for idx in _parts(len(frame), seed):
            got[np.sort(idx)] = np.asarray(fn(frame.iloc[np.sort(idx)]))
        assert np.array_equal(got, whole, equal_nan=True), np.flatnonzero(got != whole)[:5]


def test_bgnbd_quadrature_fallback_is_partition_exact():
    from crmml.clv import BetaGeoModel

    rng = np.random.default_rng(3)
    n = 600
    x = rng.integers(0, 30, n)
    T = rng.uniform(20, 400, n)
    rec = np.where(x > 0, T * rng.uniform(0, 1, n), 0.0)
    s = pd.DataFrame({"frequency": x, "recency": rec, "T": T})
    prm = pd.Series([45052524.7, 2877079669.6, 9.9e-06, 193557.3], index=["r", "alpha", "a", "b"])
    m = BetaGeoModel()
    _assert_partition_exact(lambda d: m.conditional_expected_purchases(d, 365.0, params=prm), s)


def test_cox_baseline_risk_is_partition_exact():
    from crmml.churn import CoxBaseline

    rng = np.random.default_rng(4)
    n = 800
    X = pd.DataFrame({"purchase_recency_all": rng.uniform(0, 400, n), "purchase_count_all": rng.integers(1, 60, n)})
    days = rng.uniform(1, 300, n)
    event = rng.uniform(size=n) < 0.6
    cox = CoxBaseline().fit(X, days, event)
    _assert_partition_exact(lambda d: cox.predict_risk(d), X)
    _assert_partition_exact(lambda d: cox.predict_survival(d, [30, 90]).to_numpy(), X)


def test_rule_lead_scores_with_fractional_points_are_partition_exact():
    from crmml.scoring import RuleLeadScorer

    rng = np.random.default_rng(5)
    n = 900
    leads = pd.DataFrame({"lead_id": np.arange(n), **{f"c{i}": rng.integers(0, 2, n) for i in range(9)}})
    rules = [{"name": f"r{i}", "condition": f"c{i} == 1", "points": float(p)}
             for i, p in enumerate(rng.uniform(-3, 7, 9).round(3))]
    scorer = RuleLeadScorer(rules=rules).fit()
    _assert_partition_exact(lambda d: scorer.score_leads(d)["fit_score"].to_numpy(), leads)
