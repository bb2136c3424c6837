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


def test_unseen_categories_score_as_missing(fitted):
    """README: unseen categories at scoring time count as missing -- the same probability as None/NaN there."""
    model, X = fitted
    rows = X.head(300)
    unseen = rows.assign(plan="unseen-plan",
                         region=pd.Categorical(np.where(np.arange(300) % 2, "north-pole", rows["region"]),
                                               categories=["n", "s", "e", "w", "north-pole"]))
    missing = rows.assign(plan=None, region=rows["region"].where(np.arange(300) % 2 == 0))
    p_unseen, p_missing = model.predict_proba(unseen)[:, 1], model.predict_proba(missing)[:, 1]
    np.testing.assert_array_equal(p_unseen, p_missing)
    np.testing.assert_array_equal(model.predict_proba(rows.assign(plan=np.nan))[:, 1], model.predict_proba(
        rows.assign(plan="never-seen"))[:, 1])
    # not vacuous: the plan changes the score, so mapping an unseen plan to a seen one would be caught
    assert not np.array_equal(p_missing, model.predict_proba(missing.assign(plan="trial"))[:, 1])
    assert not np.array_equal(p_missing, model.predict_proba(missing.assign(plan="basic"))[:, 1])


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


@pytest.fixture(scope="module")
def fitted_float():
    """A model of float64 features only, as build_features returns them (one float64 block)."""
    rng = np.random.default_rng(3)
    n = 2500
    X = pd.DataFrame(rng.gamma(2.0, 40.0, (n, 6)) * rng.choice([1e-3, 1.0, 1e6], 6), columns=[f"f{i}" for i in range(6)])
    X.iloc[::7, 2] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["f0"] / X["f0"].mean() - 1)))).astype(int).to_numpy()
    return ChurnModel(n_estimators=40, random_state=0).fit(X, y), X


@pytest.mark.parametrize("block_rows", [101, 100_000])
def test_float_frames_go_to_xgboost_without_a_copy_and_score_the_same(fitted_float, block_rows, monkeypatch):
    from crmml.churn import _encode

    model, X = fitted_float
    frame_path = model.model_.predict_proba(model._encode(X))[:, 1]
    assert _encode._float_view(X, model) is not None
    monkeypatch.setattr(_encode, "_fill", lambda *a: pytest.fail("the float64 frame was copied into a block"))
    np.testing.assert_array_equal(churn_scores(model, X, block_rows=block_rows), frame_path)
    monkeypatch.undo()
    assert _encode._float_view(X[list(reversed(X.columns))], model) is None     # other order: the block path
    np.testing.assert_array_equal(churn_scores(model, X[list(reversed(X.columns))], block_rows=block_rows),
                                  frame_path)
    bad = X.copy()
    bad.iloc[1500, 4] = -np.inf
    with pytest.raises(SchemaError, match="X.f4: infinite values"):
        churn_scores(model, bad, block_rows=block_rows)


def test_features_stored_as_float32_score_exactly_as_float64(fitted_float, monkeypatch):
    """xgboost rounds float64 to float32 as numpy does: ``crmml score`` builds float32 features (half the memory)."""
    from crmml.churn import _encode

    model, X = fitted_float
    X32 = X.astype(np.float32)
    assert _encode._float_view(X32, model) is not None
    monkeypatch.setattr(_encode, "_fill", lambda *a: pytest.fail("the float32 frame was copied into a block"))
    np.testing.assert_array_equal(model.predict_proba(X32), model.predict_proba(X))
    mixed = X.astype({"f1": np.float32})                           # mixed float widths: the block path, same scores
    assert _encode._float_view(mixed, model) is None
    monkeypatch.undo()
    np.testing.assert_array_equal(model.predict_proba(mixed), model.predict_proba(X))
