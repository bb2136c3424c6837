"""TimeToChurnModel on the real logs: concordance beats Cox at each cutoff; 45-day AUC matches ChurnModel's."""

from __future__ import annotations

import numpy as np
import pytest

from crmml.churn import ChurnModel, TimeToChurnModel, survival_backtest

# moderate sizes to keep the suite fast; benchmarks/bench_decisions_survival.py runs the defaults
FAST = dict(model=TimeToChurnModel(n_estimators=150, learning_rate=0.1, windows=(30, 90, 365)),
            churn_model=ChurnModel(n_estimators=150, learning_rate=0.1))


def cdnow_subsample(cdnow, n=6000, seed=0):
    """A seeded subsample of whole customers (every transaction of the chosen ones)."""
    ids = np.sort(cdnow["customer_id"].unique())
    keep = np.random.default_rng(seed).choice(ids, n, replace=False)
    return cdnow[cdnow["customer_id"].isin(keep)]


@pytest.fixture(scope="module")
def retail(online_retail):
    return survival_backtest(online_retail, ["2011-08-01", "2011-09-01", "2011-10-01"], **FAST)


@pytest.fixture(scope="module")
def cdnow_res(cdnow):
    return survival_backtest(cdnow_subsample(cdnow), ["1997-10-01", "1998-01-01", "1998-04-01"], **FAST)


def _check(res):
    by = res.set_index(["cutoff", "model"])
    for c in res["cutoff"].unique():
        ttc, cox, km = by.loc[(c, "time_to_churn")], by.loc[(c, "cox")], by.loc[(c, "kaplan_meier")]
        assert ttc["concordance"] > cox["concordance"], c                 # at every cutoff, not on average
        assert ttc["ibs"] < km["ibs"], c
        assert ttc["roc_auc_45d"] >= by.loc[(c, "churn_model")]["roc_auc_45d"] - 0.01, c


@pytest.mark.slow
def test_online_retail_survival_beats_cox_and_matches_the_churn_model(retail):
    _check(retail)


@pytest.mark.slow
def test_cdnow_survival_beats_cox_and_matches_the_churn_model(cdnow_res):
    _check(cdnow_res)
