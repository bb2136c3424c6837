"""Size-like parameters are bounded and checked before any work: nothing hangs or exhausts memory (issue 12)."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from crmml.churn import backtest, make_churn_labels
from crmml.evaluation import calibration_bins, clv_decile_table, decile_table, psi
from crmml.exceptions import ParameterError
from crmml.recommend import NextBestOffer, PastPurchasesBaseline, PopularityBaseline, ranking_metrics
from crmml.segmentation import CustomerClusterer

TX = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "transaction_id": [1, 2, 3, 4, 5],
                   "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05", "2024-03-01", "2024-03-02"]),
                   "amount": 10.0, "product_id": ["a", "b", "a", "c", "b"]})
Y, S = [0, 1, 1, 0], [0.1, 0.9, 0.7, 0.4]
RECS = pd.DataFrame({"customer_id": [1], "rank": [1], "product_id": ["a"]})
REL = pd.DataFrame({"customer_id": [1], "product_id": ["a"]})
BIG = 10**9

CASES = [
    ("make_churn_labels horizon", lambda: make_churn_labels(TX, "2024-02-15", horizon_days=10**8), "horizon_days",
     r"\[1, 3650\]"),
    ("make_churn_labels lookback", lambda: make_churn_labels(TX, "2024-02-15", lookback_days=10**8), "lookback_days",
     r"\[1, 36500\]"),
    ("backtest snapshots", lambda: backtest(TX, ["2024-02-15"], n_train_snapshots=10**6), "n_train_snapshots",
     r"\[1, 100\]"),
    ("NextBestOffer.recommend k", lambda: NextBestOffer().fit(TX).recommend([1], k=BIG), "k", r"\[1, 10000\]"),
    ("NextBestOffer window", lambda: NextBestOffer(popularity_window_days=10**8).fit(TX), "popularity_window_days",
     r"\[1, 36500\]"),
    ("NextBestOffer half-life", lambda: NextBestOffer(half_life_days=float("inf")).fit(TX), "half_life_days",
     r"\(0, 36500\]"),
    ("NextBestOffer batch", lambda: NextBestOffer(batch_size=BIG).fit(TX), "batch_size", r"\[1, 100000\]"),
    ("PopularityBaseline window", lambda: PopularityBaseline(window_days=10**8).fit(TX), "window_days",
     r"\[1, 36500\]"),
    ("PastPurchasesBaseline k", lambda: PastPurchasesBaseline().fit(TX).recommend([1], k=BIG), "k", r"\[1, 10000\]"),
    ("ranking_metrics k", lambda: ranking_metrics(RECS, REL, k=BIG), "k", r"\[1, 10000\]"),
    ("CustomerClusterer n_clusters", lambda: CustomerClusterer(n_clusters=10**6).fit(pd.DataFrame({"x": [1.0, 2.0]})),
     "n_clusters", r"\[1, 1000\]"),
    ("CustomerClusterer n_init", lambda: CustomerClusterer(n_init=BIG).fit(pd.DataFrame({"x": [1.0, 2.0]})),
     "n_init", r"\[1, 1000\]"),
    ("calibration_bins", lambda: calibration_bins(Y, S, n_bins=BIG), "n_bins", r"\[1, 10000\]"),
    ("decile_table", lambda: decile_table(Y, S, n_bins=0), "n_bins", r"\[1, 10000\]"),
    ("psi", lambda: psi(S, S, n_bins=BIG), "n_bins", r"\[1, 10000\]"),
    ("clv_decile_table", lambda: clv_decile_table(S, S, n_bins=-1), "n_bins", r"\[1, 10000\]"),
]


@pytest.mark.parametrize("call, name, bounds", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_huge_size_parameters_are_refused_at_once(call, name, bounds):
    t0 = time.perf_counter()
    with pytest.raises(ParameterError, match=rf"The '{name}' parameter of .* must be an? (int|float) (in )?{bounds}"
                                             rf"( or 'auto')?\. Got"):
        call()
    assert time.perf_counter() - t0 < 5


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError) and issubclass(ParameterError, TypeError)
