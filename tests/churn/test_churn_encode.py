"""ChurnModel's scoring path (one float32 block + inplace_predict, in row batches) against the DataFrame path."""

import numpy as np
import pandas as pd
import pytest

from crmml.churn import ChurnModel
from crmml.churn._encode import churn_scores
from crmml.schema import SchemaError


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(7)
    n = 3000
    X = pd.DataFrame({
        "recency": rng.exponential(90, n),
        "orders": rng.poisson(4, n).astype(np.int64),
        "big": rng.integers(2**53, 2**62, n),                  # integers whose float32 rounding matters
        "vip": rng.random(n) < 0.2,
        "opt_in": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5), dtype="boolean"),
        "seats": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(1, 50, n)), dtype="Int64"),
        "spend": pd.array(np.where(rng.random(n) < 0.1, None, rng.gamma(2, 50, n)), dtype="Float64"),
        "plan": rng.choice(["basic", "plus", "pro", "team", "edu", "trial", "free", "legacy", "gold"], n),
        "region": pd.Categorical(rng.choice(["n", "s", "e", "w"], n)),
    })
    X.loc[X.index[::11], "recency"] = np.nan
    X.loc[X.index[::13], "plan"] = None
    logit = X["recency"].fillna(200) / 60 - X["orders"] / 2 + X["plan"].isin(["trial", "free"]) - 1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return ChurnModel(n_estimators=60, random_state=0).fit(X, y), X


@pytest.mark.parametrize("block_rows", [97, 1000, 100_000])
def test_block_path_equals_dataframe_path_bit_for_bit(fitted, block_rows):
    model, X = fitted
    Xs = X.sample(frac=1.0, random_state=1)
    Xs.loc[Xs.index[:50], "plan"] = "unseen-plan"          # unseen categories count as missing in both paths
    Xs.loc[Xs.index[50:60], "region"] = None
    Xs = Xs[list(reversed(Xs.columns))].assign(extra="ignored")  # column order and extra columns do not matter
    frame_path = model.model_.predict_proba(model._encode(Xs))[:, 1]
    block_path = churn_scores(model, Xs, block_rows=block_rows)
    assert block_path.dtype == frame_path.dtype
    np.testing.assert_array_equal(block_path, frame_path)
    p = model.predict_proba(Xs)[:, 1]
    np.testing.assert_array_equal(p, model.calibrator_.transform(frame_path))


def test_block_path_refuses_infinity_and_missing_columns(fitted):
    model, X = fitted
    bad = X.head(20).copy()
    bad.loc[bad.index[3], "recency"] = np.inf
    with pytest.raises(SchemaError, match="X.recency: infinite values"):
        model.predict_proba(bad)
    with pytest.raises(ValueError, match=r"X lacks 1 column\(s\) seen in fit"):
        model.predict_proba(X.drop(columns="orders"))
    text = X.head(20).astype({"orders": object})
    text.loc[text.index[2], "orders"] = "n/a"
    with pytest.raises(SchemaError, match="X.orders: text values in a numeric column"):
        model.predict_proba(text)


def test_scores_do_not_depend_on_the_number_of_threads(fitted):
    model, X = fitted
    one = model.predict_proba(X)
    try:
        model.set_params(n_jobs=2)
        np.testing.assert_array_equal(model.predict_proba(X), one)
        model.set_params(n_jobs=-1)
        np.testing.assert_array_equal(model.predict_proba(X), one)
    finally:
        model.set_params(n_jobs=1)
