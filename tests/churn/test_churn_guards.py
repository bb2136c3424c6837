"""ChurnModel refuses bad parameters and bad values by name, and says when it cannot learn (issue 12)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmml import SchemaError
from crmml.churn import ChurnModel, RecencyFrequencyBaseline
from crmml.exceptions import InsufficientDataWarning, ParameterError


def _data(n, rate=None, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    p = 1 / (1 + np.exp(-2 * X["a"])) if rate is None else np.full(n, rate)
    y = (rng.random(n) < p).astype(int)
    return X, y


def test_constant_model_on_few_customers_warns_with_counts():
    X, y = _data(200)
    with pytest.warns(InsufficientDataWarning, match=rf"200 rows with {y.sum()} churners .* same churn probability"):
        m = ChurnModel().fit(X, y)
    assert np.ptp(m.predict_proba(X)[:, 1]) == 0     # the case the warning is about


def test_too_few_churners_warns():
    X, y = _data(3000, rate=0.004, seed=3)
    assert 2 <= y.sum() < 20
    # xgboost >= 3 splits on the 14 churners (then: "fewer than 20"); xgboost 2.1, the lowest supported, finds no
    # split (then: "no tree found a split"); either way the warning gives the counts
    with pytest.warns(InsufficientDataWarning, match=rf"3000 rows with {y.sum()} churners.*"
                                                     r"(fewer than 20|no tree found a split)") as caught:
        m = ChurnModel(n_estimators=20, min_child_weight=0.01).fit(X, y)
    split = np.ptp(m.predict_proba(X)[:, 1]) > 0
    assert ("fewer than 20" in str(caught[-1].message)) == split


def test_no_warning_when_the_model_learns():
    X, y = _data(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsufficientDataWarning)
        m = ChurnModel(n_estimators=100).fit(X, y)
    assert np.ptp(m.predict_proba(X)[:, 1]) > 0.1


@pytest.mark.parametrize("name, value", [
    ("learning_rate", float("inf")), ("learning_rate", -1.0), ("learning_rate", float("nan")),
    ("max_depth", -2), ("max_depth", 10**6), ("subsample", 2.0), ("colsample_bytree", 0.0),
    ("reg_lambda", float("nan")), ("reg_lambda", -1.0), ("min_child_weight", "x"), ("min_child_weight", float("inf")),
    ("n_estimators", 10**9), ("early_stopping_rounds", 0), ("n_jobs", 0), ("random_state", -5),
    ("validation_fraction", 1.0),
])
def test_bad_hyper_parameters_never_reach_xgboost(name, value):
    X, y = _data(300)
    with pytest.raises(ParameterError, match=rf"The '{name}' parameter of ChurnModel must be .* Got {value!r}"):
        ChurnModel(**{name: value}).fit(X, y)


def test_xgboost_errors_are_named(monkeypatch):
    import xgboost as xgb

    def boom(self, *a, **k):
        raise xgb.core.XGBoostError("value 3 for Parameter foo exceed bound")

    monkeypatch.setattr(xgb.XGBClassifier, "fit", boom)
    X, y = _data(300)
    with pytest.raises(ParameterError, match="ChurnModel.fit: xgboost refused the parameters or data: value 3"):
        ChurnModel().fit(X, y)


def test_infinite_values_refused_by_column():
    X, y = _data(600)
    X.loc[[3, 7], "a"] = np.inf
    with pytest.raises(SchemaError, match=r"X.a: infinite values .* \(2 rows; e.g. inf, inf\)"):
        ChurnModel(n_estimators=10).fit(X, y)


def test_text_in_numeric_column_at_scoring_is_refused():
    X, y = _data(600)
    m = ChurnModel(n_estimators=10).fit(X, y)
    bad = X.astype({"b": object})
    bad.loc[[0, 1, 2], "b"] = ["n/a", "n/a", "unknown"]
    with pytest.raises(SchemaError, match=r"X.b: text values in a numeric column .* \(3 rows; e.g. 'n/a', 'unknown'\)"):
        m.predict_proba(bad)
    ok = X.astype({"b": object})
    ok.loc[0, "b"] = str(X.loc[0, "b"])     # numbers stored as text are still numbers
    np.testing.assert_allclose(m.predict_proba(ok), m.predict_proba(X))


def test_baseline_refuses_text_too():
    X = pd.DataFrame({"purchase_recency_all": [5.0, 200, 10, 300], "purchase_count_all": [9.0, 1, 5, 2]})
    b = RecencyFrequencyBaseline().fit(X, [0, 1, 0, 1])
    bad = X.astype(object)
    bad.loc[1, "purchase_count_all"] = "many"
    with pytest.raises(SchemaError, match=r"X.purchase_count_all: text values"):
        b.predict_proba(bad)


def test_a_scalar_time_is_refused_by_name():
    # hostile audit: fit(X, y, time="2024-01-01") raised TypeError "object of type 'Timestamp' has no len()"
    X, y = _data(200)
    with pytest.raises(ValueError, match="ChurnModel.fit: time has 1 values but X has 200 rows"):
        ChurnModel(n_estimators=5).fit(X, y, time="2024-01-01")


def test_labels_indexed_for_other_rows_are_refused():
    # hostile audit: y indexed by customer_id in another order than X was paired by position (wrong labels)
    X, y = _data(200)
    X = X.set_axis(pd.Index(np.arange(200) + 1000, name="customer_id"))
    y = pd.Series(np.asarray(y), index=X.index)
    with pytest.raises(ParameterError, match=r"The 'y' parameter of ChurnModel.fit is indexed by the labels of X's "
                                             r"rows in another order"):
        ChurnModel(n_estimators=5).fit(X, y.sort_index(ascending=False))
    with pytest.raises(ParameterError, match=r"indexed by customer_id like X, but 200 of X's 200 labels are not in"):
        ChurnModel(n_estimators=5).fit(X, y.set_axis(pd.Index(np.arange(200), name="customer_id")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ChurnModel(n_estimators=5).fit(X, y.reset_index(drop=True))     # a positional (RangeIndex) y still works
        ChurnModel(n_estimators=5).fit(X, y.to_numpy())


def test_repeated_column_names_are_refused():
    # hostile audit: X with two columns named 'a' raised pandas' AttributeError "'DataFrame' object has no
    # attribute 'dtype'"
    X, y = _data(200)
    with pytest.raises(ParameterError, match=r"ChurnModel.fit: X has repeated column names \['a'\]"):
        ChurnModel(n_estimators=5).fit(pd.concat([X, X[["a"]]], axis=1), y)
