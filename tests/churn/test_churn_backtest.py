"""Walk-forward backtests on real data (online retail, CDNOW) and on synthetic data with known dropouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.churn import ChurnModel, backtest
from crmml.evaluation import roc_auc

# moderate sizes to keep the suite fast; the notebook and README use the defaults
FAST = dict(model=ChurnModel(n_estimators=150, learning_rate=0.1))


@pytest.fixture(scope="module")
def retail_bt(online_retail):
    return backtest(online_retail, ["2011-09-01", "2011-09-25", "2011-10-20"], n_train_snapshots=2, **FAST)


@pytest.fixture(scope="module")
def cdnow_bt(cdnow):
    return backtest(cdnow, ["1997-10-01", "1998-01-01", "1998-04-01"], n_train_snapshots=1,
                    windows=(30, 90, 180, 365), **FAST)


@pytest.fixture(scope="module")
def synthetic_bt(synthetic_crm):
    crm = synthetic_crm
    return backtest(crm.transactions, ["2024-05-01", "2024-07-01", "2024-09-01"], events=crm.events,
                    customers=crm.customers, n_train_snapshots=1, windows=(7, 30, 90, 365), **FAST)


def _check_structure(res, n_cutoffs):
    m = res.metrics
    assert len(m) == 2 * n_cutoffs and set(m["model"]) == {"churn_model", "baseline"}
    for col in ("roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile"):
        assert m[col].notna().all()
    assert list(res.summary.index) == ["churn_model", "baseline"]
    # point in time: every training label window ends at or before its test cutoff
    for _, row in m.iterrows():
        for t in row["train_cutoffs"].split(", "):
            assert pd.Timestamp(t) + pd.Timedelta(days=45) <= row["cutoff"]
    p = res.predictions
    assert p["p_model"].between(0, 1).all() and set(p["churned"].unique()) <= {0, 1}


@pytest.mark.slow
def test_online_retail_model_beats_baseline(retail_bt):
    _check_structure(retail_bt, 3)
    s = retail_bt.summary
    assert s.loc["churn_model", ("roc_auc", "mean")] > s.loc["baseline", ("roc_auc", "mean")]
    assert s.loc["churn_model", ("roc_auc", "mean")] > 0.7
    assert s.loc["churn_model", ("lift_top_decile", "mean")] > 1.2


@pytest.mark.slow
def test_cdnow_model_beats_baseline(cdnow_bt):
    _check_structure(cdnow_bt, 3)
    s = cdnow_bt.summary
    assert s.loc["churn_model", ("roc_auc", "mean")] > s.loc["baseline", ("roc_auc", "mean")]
    assert s.loc["churn_model", ("roc_auc", "mean")] > 0.7


@pytest.mark.slow
def test_synthetic_auc_against_true_dropouts(synthetic_bt, synthetic_crm):
    _check_structure(synthetic_bt, 3)
    truth = synthetic_crm.truth
    aucs_model, aucs_base = [], []
    for c, g in synthetic_bt.predictions.groupby("cutoff"):
        dropped = (truth.loc[g["customer_id"], "dropout"] <= c).to_numpy().astype(int)
        aucs_model.append(roc_auc(dropped, g["p_model"]))
        aucs_base.append(roc_auc(dropped, g["p_baseline"]))
    # the true state (already dropped out) is what churn risk should rank
    assert np.mean(aucs_model) > 0.8
    assert np.mean(aucs_model) > np.mean(aucs_base) - 0.01
    # and the observed-label AUC is lower than the truth AUC: labels are noisy views of dropout
    s = synthetic_bt.summary
    assert s.loc["churn_model", ("roc_auc", "mean")] < np.mean(aucs_model)


def test_backtest_errors(synthetic_crm):
    tx = synthetic_crm.transactions
    with pytest.raises(ValueError, match="The 'cutoffs' parameter of backtest must be a non-empty sequence"):
        backtest(tx, "2024-05-01")
    with pytest.raises(ValueError, match=r"The 'n_train_snapshots' parameter of backtest must be an int in \[1, 100\]"):
        backtest(tx, ["2024-05-01"], n_train_snapshots=0)
    with pytest.raises(ValueError, match="no training cutoff before 2023-01-20"):
        backtest(tx, ["2023-01-20"])


def test_backtest_refuses_bad_windows_and_models_by_name(synthetic_crm):
    # hostile audit: windows=(0, -5) ran; model="xgb" failed inside sklearn.clone with a TypeError
    tx = synthetic_crm.transactions
    with pytest.raises(ValueError, match="The 'windows' parameter of backtest must be a non-empty sequence"):
        backtest(tx, ["2024-05-01"], windows=(0, -5))
    with pytest.raises(ValueError, match="The 'model' parameter of backtest must be an estimator with fit and "
                                         "predict_proba.*Got 'xgb' instead"):
        backtest(tx, ["2024-05-01"], model="xgb")
