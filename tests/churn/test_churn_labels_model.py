"""Churn labels, ChurnModel on prepared frames, baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmml.churn import ChurnModel, RecencyFrequencyBaseline, make_churn_labels, make_churn_snapshot
from crmml.evaluation import roc_auc

TX = pd.DataFrame({
    "customer_id": [1, 1, 2, 2, 3, 3, 4, 5],
    "timestamp": pd.to_datetime(["2024-01-10", "2024-03-20", "2024-02-01", "2024-03-10", "2022-12-01",
                                 "2024-03-05", "2024-02-20", "2024-06-01"]),
    "amount": [10.0, 20.0, 15.0, -15.0, 5.0, 9.0, 30.0, 8.0],
})


def test_labels_population_and_horizon():
    lab = make_churn_labels(TX, "2024-03-01", horizon_days=45)
    # 3 bought only > 365 days before as_of; 5 only after it: neither is at risk
    assert list(lab.index) == [1, 2, 4]
    # 1 buys again on 03-20; 2 only returns (a return is not a purchase); 4 never comes back
    assert lab["churned"].to_dict() == {1: 0, 2: 1, 4: 1}
    assert lab.loc[1, "purchases_in_horizon"] == 1
    assert lab.loc[2, "last_purchase"] == pd.Timestamp("2024-02-01")
    # a longer lookback brings 3 in; a shorter horizon turns 1 into a churner
    assert 3 in make_churn_labels(TX, "2024-03-01", lookback_days=500).index
    assert make_churn_labels(TX, "2024-03-01", horizon_days=10).loc[1, "churned"] == 1


def test_label_window_is_half_open():
    # a purchase exactly at as_of + horizon is outside [as_of, as_of + horizon)
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2],
                       "timestamp": pd.to_datetime(["2023-12-01 00:00", "2024-02-15 00:00", "2023-12-01 00:00",
                                                    "2024-02-14 23:59"]),
                       "amount": [1.0, 1.0, 1.0, 1.0]})
    assert make_churn_labels(tx, "2024-01-01", horizon_days=45)["churned"].tolist() == [1, 0]
    assert make_churn_labels(tx, "2024-01-01", horizon_days=46)["churned"].tolist() == [0, 0]


def test_labels_warn_when_not_observed():
    with pytest.warns(UserWarning, match=r"The transactions end on 2024-06-01, before as_of \+ horizon"):
        make_churn_labels(TX, "2024-05-01", horizon_days=45)


@pytest.mark.parametrize("kw, match", [
    ({"horizon_days": -3}, r"The 'horizon_days' parameter of make_churn_labels must be an int in \[1, 3650\]. Got -3"),
    ({"lookback_days": 0}, r"The 'lookback_days' parameter of make_churn_labels must be an int in \[1, 36500\]"),
])
def test_label_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        make_churn_labels(TX, "2024-03-01", **kw)


def test_model_on_subscription_frame(subscription):
    X, y = subscription
    Xtr, ytr, Xte, yte = X.iloc[:2000], y[:2000], X.iloc[2000:], y[2000:]
    m = ChurnModel(n_estimators=150, learning_rate=0.1).fit(Xtr, ytr)
    assert m.categorical_features_ == ["contract"] and "stratified holdout" in m.validation_
    p = m.predict_proba(Xte)[:, 1]
    assert 0 <= p.min() and p.max() <= 1
    assert roc_auc(yte, p) > 0.72
    # calibrated: mean predicted close to observed rate
    assert abs(p.mean() - yte.mean()) < 0.05
    imp = m.global_importance(Xte)
    assert imp.index[0] in {"contract", "tenure_months"} and set(imp.columns) == {"gain", "mean_abs_shap"}
    # unseen category and missing column values at scoring time
    X_new = Xte.head(5).copy()
    X_new["contract"] = ["three_year", None, "one_year", "month-to-month", "weekly"]
    X_new["monthly_charges"] = np.nan
    ex = m.explain(X_new, top_n=2)
    assert list(ex.columns) == ["churn_probability", "driver_1", "feature_1", "contribution_1",
                                "driver_2", "feature_2", "contribution_2"]
    assert ex.index.equals(X_new.index) and ex["driver_1"].str.contains(r" = .*risk").all()
    assert (ex["contribution_1"] >= ex["contribution_2"]).all()
    np.testing.assert_allclose(ex["churn_probability"], m.predict_risk(X_new))


def test_shap_contributions_add_up(subscription):
    X, y = subscription
    m = ChurnModel(n_estimators=60, learning_rate=0.1).fit(X, y)
    c = m._contribs(m._encode(X.head(50)))
    raw = m.model_.predict_proba(m._encode(X.head(50)))[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-c.sum(axis=1))), raw, rtol=1e-4, atol=1e-5)


def test_persistable_state_and_clone(subscription):
    X, y = subscription
    m = ChurnModel(n_estimators=20).fit(X, y)
    import xgboost as xgb

    from crmml._utils import ProbabilityCalibrator

    ok = (type(None), bool, int, float, str, np.ndarray, list, dict, xgb.XGBClassifier, ProbabilityCalibrator,
          pd.DataFrame)
    state = {k: v for k, v in vars(m).items() if k.endswith("_")}
    assert all(isinstance(v, ok) for v in state.values()), {k: type(v) for k, v in state.items()}
    assert clone(m).get_params() == m.get_params()


def test_time_split_uses_latest_cutoff(synthetic_crm):
    tx = synthetic_crm.transactions
    parts = [make_churn_snapshot(tx, c, windows=(30, 90, 365)) for c in ("2024-01-01", "2024-03-01")]
    X = pd.concat([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    t = np.repeat(pd.to_datetime(["2024-01-01", "2024-03-01"]).to_numpy(), [len(p[1]) for p in parts])
    m = ChurnModel(n_estimators=30).fit(X, y, time=t)
    assert m.validation_ == f"latest cutoff 2024-03-01 ({len(parts[1][1])} rows)"


def test_model_errors(subscription):
    X, y = subscription
    with pytest.raises(TypeError, match="ChurnModel.fit expects X as a pandas DataFrame"):
        ChurnModel().fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="y has a single class"):
        ChurnModel().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        ChurnModel().fit(X, np.full(len(X), 2))
    with pytest.raises(ValueError, match="The 'calibration' parameter of ChurnModel must be one of"):
        ChurnModel(calibration="platt").fit(X, y)
    with pytest.raises(ValueError, match="The 'validation_fraction' parameter of ChurnModel must be a float"):
        ChurnModel(validation_fraction=1.5).fit(X, y)
    m = ChurnModel(n_estimators=10).fit(X, y)
    with pytest.raises(ValueError, match="ChurnModel: X lacks 1 column"):
        m.predict_proba(X.drop(columns="tenure_months"))
    with pytest.raises(ValueError, match="The 'top_n' parameter of ChurnModel.explain must be an int >= 1"):
        m.explain(X, top_n=0)


def test_baseline():
    X = pd.DataFrame({"purchase_recency_all": [5.0, 200, 10, 300, np.nan, 40],
                      "purchase_count_all": [9.0, 1, 5, 2, 0, 3]})
    b = RecencyFrequencyBaseline().fit(X, [0, 1, 0, 1, 1, 0])
    p = b.predict_risk(X)
    assert p.iloc[1] > p.iloc[0] and p.iloc[4] > p.iloc[5]
    with pytest.raises(ValueError, match="lacks the column 'purchase_count_all'"):
        b.predict_proba(X.drop(columns="purchase_count_all"))


@pytest.mark.parametrize("as_of, lookback", [("2262-04-11", 365), ("1677-10-01", 365), ("1700-10-01", 36_500)])
def test_labels_at_the_edges_of_the_timestamp_range(as_of, lookback):
    # hostile audit: as_of + horizon past 2262-04-11 (or as_of - lookback before 1677-09-22) raised pandas'
    # OutOfBoundsDatetime; the window is now held at the representable end (it holds the same rows)
    tx = TX.assign(timestamp=pd.Timestamp(as_of) - pd.Timedelta(days=1))
    labels = make_churn_labels(tx, as_of, horizon_days=45, lookback_days=lookback)
    assert labels["churned"].eq(1).all() and len(labels) == tx.loc[tx.amount >= 0, "customer_id"].nunique()


def test_labels_as_of_before_all_data_warn_instead_of_an_empty_silence():
    from crmml.schema import AsOfWarning
    with pytest.warns(AsOfWarning, match=r"as_of 2020-01-01 is on or before the first row of transactions "
                                         r"\(2022-12-01\): none of its 8 rows is read"):
        assert make_churn_labels(TX, "2020-01-01").empty


def test_snapshot_windows_are_checked():
    # hostile audit: windows=(0, -5) built 'purchase_count_0d' features without a word
    with pytest.raises(ValueError, match=r"The 'windows' parameter of make_churn_snapshot must be a non-empty "
                                         r"sequence of distinct ints >= 1"):
        make_churn_snapshot(TX, "2024-03-01", windows=(0, -5))


def test_labels_from_returns_only_warn():
    # hostile audit: a log whose sales are recorded as negative amounts gave empty labels without a word
    from crmml.exceptions import DroppedCustomersWarning
    with pytest.warns(DroppedCustomersWarning, match=r"None of the 6 rows in the look-back window before as_of is a "
                                                     r"purchase .* are sales recorded as negative amounts\?"):
        assert make_churn_labels(TX.assign(amount=-TX["amount"].abs()), "2024-04-01").empty


@pytest.mark.parametrize("as_of", ["2030-01-01", "2025-06-02"])
def test_labels_with_no_row_in_the_look_back_window_warn(as_of):
    # degenerate-inputs sweep: a cut-off years after the data (or a log whose last purchase is older than the
    # look-back) gave empty labels without a word; make_churn_snapshot and lost_value share them
    from crmml.decisions import lost_value
    from crmml.exceptions import DroppedCustomersWarning

    for call in (lambda: make_churn_labels(TX, as_of), lambda: make_churn_snapshot(TX, as_of)[1],
                 lambda: lost_value(TX, as_of)):
        with pytest.warns(DroppedCustomersWarning, match=rf"None of the transactions before as_of \({as_of}\) lies "
                                                         r"in the look-back window \(the 365 days before it\), so no "
                                                         r"customer is at risk and the labels are empty"):
            assert len(call()) == 0


@pytest.mark.parametrize("as_of, match", [("2030-01-01", "None of the transactions before as_of"),
                                          ("2024-04-01", "None of the 6 rows in the look-back window")])
def test_time_to_event_warns_as_the_labels_when_nobody_is_at_risk(as_of, match):
    # degenerate-inputs sweep: make_time_to_event (the labels' population) was empty without a word
    from crmml.churn import make_time_to_event
    from crmml.exceptions import DroppedCustomersWarning

    tx = TX.assign(amount=-TX["amount"].abs()) if as_of == "2024-04-01" else TX
    with pytest.warns(DroppedCustomersWarning, match=match) as caught:
        assert make_time_to_event(tx, as_of, end="2031-01-01").empty
    assert {w.filename for w in caught if w.category is DroppedCustomersWarning} == {__file__}
