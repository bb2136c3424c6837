"""UpliftModel on synthetic data with known effects: recovery, policy, intervals, metrics, errors, files."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmml.decisions import (NotRandomisedWarning, TreatmentError, UpliftModel, auuc, policy_value, qini_coefficient,
                             qini_curve, uplift_by_decile)
from crmml.persistence import ModelLoadError, load, save
from crmml.schema import SchemaError

sys.path.insert(0, str(Path(__file__).parents[1]))
import _hostile as hf  # noqa: E402


def synthetic(n=8000, seed=0):
    """Two arms with known, opposite heterogeneous effects on a continuous outcome, randomised 1/3 each."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "region": rng.choice(["north", "south"], n)})
    arm = rng.choice(["control", "a", "b"], n)
    tau = {"a": 1.0 + X["x1"].to_numpy(), "b": 0.5 - X["x1"].to_numpy() + (X["region"] == "north") * 0.5}
    y = X["x2"].to_numpy() + rng.normal(0, 1, n)
    for k, t in tau.items():
        y = y + (arm == k) * t
    return X, arm, y, tau


@pytest.fixture(scope="module")
def data():
    return synthetic()


@pytest.mark.parametrize("learner", ["t", "x", "dr"])
def test_known_effects_are_recovered(data, learner):
    X, arm, y, tau = data
    m = UpliftModel(learner=learner, n_estimators=80, learning_rate=0.2, min_child_weight=5.0).fit(
        X, arm, y, control="control")
    Xt, _, _, tau_t = synthetic(seed=1)                            # held-out customers
    u = m.predict_uplift(Xt)
    assert list(u.columns) == ["a", "b"] and u.index.equals(Xt.index)
    for k in ("a", "b"):
        r = np.corrcoef(u[k], tau_t[k])[0, 1]
        assert r > 0.9, (learner, k, r)                            # correlation with the true effect
        assert abs(u[k].mean() - tau_t[k].mean()) < 0.1


def test_policy_picks_the_best_arm_net_of_cost(data):
    X, arm, y, tau = data
    m = UpliftModel(learner="t", n_estimators=80, learning_rate=0.2, min_child_weight=5.0).fit(X, arm, y,
                                                                                               control="control")
    rec = m.recommend(X, value=1.0, cost={"a": 0.2, "b": 0.2})
    best_gain = np.maximum(tau["a"], tau["b"]) - 0.2
    truth = np.where(best_gain <= 0, "control", np.where(tau["a"] >= tau["b"], "a", "b"))
    assert np.mean(rec["arm"].to_numpy() == truth) > 0.85
    assert (rec.loc[rec["arm"] == "control", "expected_gain"] == 0).all()
    # on held-out randomised data the policy's IPW value beats every single-arm policy
    Xt, armt, yt, _ = synthetic(seed=1)
    pol = m.recommend(Xt)["arm"].to_numpy()
    pv = policy_value(yt, armt, {"policy": pol, "all_a": np.full(len(yt), "a"), "all_b": np.full(len(yt), "b")},
                      reference="all_a", n_bootstrap=200)
    assert pv.loc["policy", "diff_lower"] > 0 and pv.loc["policy", "value"] > pv.loc["all_b", "value"]
    with pytest.raises(ValueError, match=r"one entry per treatment arm \['a', 'b'\].*it lacks 'b'"):
        m.recommend(X, cost={"a": 1.0})
    # hostile audit: a cost for the control or an unknown arm was ignored, a negative cost accepted, silently
    with pytest.raises(ValueError, match=r"cost must have one entry per .*\['control'\] are not arms"):
        m.recommend(X, cost={"a": 1.0, "b": 1.0, "control": 5.0})
    with pytest.raises(ValueError, match=r"cost must be >= 0"):
        m.recommend(X, cost=-1.0)


def test_bootstrap_intervals_cover_the_truth_mostly(data):
    X, arm, y, tau = data
    m = UpliftModel(learner="t", n_bootstrap=8, n_estimators=25, learning_rate=0.3, min_child_weight=5.0).fit(
        X.iloc[:3000], arm[:3000], y[:3000], control="control")
    iv = m.predict_interval(X.iloc[:2000])
    assert (iv["a_lower"] <= iv["a_upper"]).all()
    cover = np.mean((iv["a_lower"] <= tau["a"][:2000]) & (tau["a"][:2000] <= iv["a_upper"]))
    assert cover > 0.5
    with pytest.raises(ValueError, match="needs bootstrap refits"):
        UpliftModel(n_estimators=5).fit(X.iloc[:500], arm[:500], y[:500], control="control").predict_interval(X)


def test_metrics_tell_a_good_ranking_from_a_random_one(data):
    X, arm, y, tau = data
    w = (arm == "a").astype(int)
    keep = arm != "b"
    good, rnd = tau["a"][keep], np.random.default_rng(0).random(keep.sum())
    assert qini_coefficient(y[keep], w[keep], good) > 0.05 > abs(qini_coefficient(y[keep], w[keep], rnd))
    assert auuc(y[keep], w[keep], good) > auuc(y[keep], w[keep], rnd)
    dec = uplift_by_decile(y[keep], w[keep], good)
    assert dec["uplift"].iloc[0] > dec["uplift"].iloc[-1] and dec[["n_treated", "n_control"]].sum().sum() == keep.sum()
    curve = qini_curve(y[keep], w[keep], good)
    assert curve["fraction"].iloc[0] == 0 and curve["fraction"].iloc[-1] == 1


def test_bad_inputs_get_named_errors(data):
    X, arm, y, _ = data
    with pytest.raises(TreatmentError, match="single arm"):
        UpliftModel().fit(X, np.full(len(X), "a"), y, control="a")
    with pytest.raises(TreatmentError, match="control arm 'none' does not occur"):
        UpliftModel().fit(X, arm, y, control="none")
    with pytest.raises(TreatmentError, match="pass control="):
        UpliftModel().fit(X, arm, y)
    with pytest.raises(SchemaError, match="outcome.y: the outcome must be numeric"):
        UpliftModel().fit(X, arm, np.where(arm == "a", "yes", "no"), control="control")
    with pytest.raises(SchemaError, match="outcome must be numeric"):
        UpliftModel().fit(X, arm, np.r_[np.nan, y[1:]], control="control")
    with pytest.raises(ValueError, match="learner"):
        UpliftModel(learner="q").fit(X, arm, y, control="control")


def test_non_randomised_assignment_warns(data):
    X, arm, y, _ = data
    confounded = np.where(X["x1"] > 0.5, "a", np.where(X["x1"] < -0.5, "control", arm))
    with pytest.warns(NotRandomisedWarning, match="vary with 'x1'"):
        UpliftModel(learner="t", n_estimators=5).fit(X, confounded, y, control="control")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotRandomisedWarning)
        UpliftModel(learner="t", n_estimators=5).fit(X, arm, y, control="control")     # randomised: no warning


def test_binary_labels_default_control_and_save_load(data, tmp_path):
    X, arm, y, _ = data
    w = (arm == "a").astype(int)
    yb = (y > 0.5).astype(int)
    m = UpliftModel(n_estimators=20, n_bootstrap=2).fit(X.iloc[:3000], w[:3000], yb[:3000])
    assert m.control_ == "0" and m.arms_ == ["1"] and m.binary_
    path = save(m, tmp_path / "uplift.zip")
    back = load(path)
    pd.testing.assert_frame_equal(back.predict_uplift(X), m.predict_uplift(X), check_exact=True)
    pd.testing.assert_frame_equal(back.predict_interval(X.head(5)), m.predict_interval(X.head(5)))
    mem = hf.members(path)
    cases = {
        "arms": (lambda meta: meta["root"]["state"].__setitem__("arms_", ["0"]), "control_ must be a str that is not"),
        "shares": (lambda meta: meta["root"]["state"]["shares_"]["items"][0].__setitem__(1, 1.5), "shares_ must give"),
        "encoding": (lambda meta: meta["root"]["state"]["encoded_names_"].pop(), "the encoding gives"),
    }
    for name, (edit, match) in cases.items():
        with pytest.raises(ModelLoadError, match=match):
            load(hf.write(tmp_path / f"{name}.zip", hf.edit_meta(mem, edit)))


def test_series_indexed_for_other_rows_are_refused(data):
    # hostile audit: y or treatment as a Series indexed by customer_id in another order than X was paired with X
    # by position, so rows got other customers' outcomes without a word
    X, arm, y, _ = data
    Xc = X.set_axis(pd.Index(np.arange(len(X)) + 100, name="customer_id"))
    y_rev = pd.Series(y, index=Xc.index)[::-1]
    with pytest.raises(ValueError, match=r"The 'y' parameter of UpliftModel.fit is indexed by the labels of X's rows "
                                         r"in another order; .* Pass y.reindex\(X.index\)"):
        UpliftModel(n_estimators=5).fit(Xc, arm, y_rev, control="control")
    with pytest.raises(ValueError, match=r"The 'treatment' parameter of UpliftModel.fit is indexed by customer_id "
                                         r"like X, but 1 of X's 8000 labels are not in its index"):
        UpliftModel(n_estimators=5).fit(Xc, pd.Series(arm, index=Xc.index.where(Xc.index != 100, -1)), y,
                                        control="control")


def test_repeated_column_names_are_refused(data):
    # hostile audit: X with two columns named 'x1' raised pandas' AttributeError "'DataFrame' object has no
    # attribute 'dtype'"
    X, arm, y, _ = data
    with pytest.raises(ValueError, match=r"UpliftModel.fit: X has repeated column names \['x1'\]"):
        UpliftModel(n_estimators=5).fit(pd.concat([X, X[["x1"]]], axis=1), arm, y, control="control")
    # hostile audit: columns 0 and "0" (one name as text) in fit, a repeated name in predict_uplift: pandas errors
    with pytest.raises(ValueError, match=r"UpliftModel.fit: X has repeated column names \['0'\]"):
        UpliftModel(n_estimators=5).fit(X.assign(**{"0": 1.0}).rename(columns={"x2": 0}), arm, y, control="control")
    m = UpliftModel(n_estimators=5).fit(X.assign(empty=None), arm, y, control="control")   # all-None: numpy error
    with pytest.raises(ValueError, match=r"predict_uplift: X has repeated column names \['x1'\]"):
        m.predict_uplift(pd.concat([X, X[["x1"]]], axis=1).assign(empty=None))
    assert np.allclose(m.predict_uplift(X.assign(empty="new")), m.predict_uplift(X.assign(empty=None)))


def test_metric_inputs_get_named_errors():
    """Text in y/score was numpy's 'could not convert string to float'; a missing arm in treatment or a policy
    became an arm named 'nan'/'None' (its rows silently worth 0 to every policy), and a policy arm absent from the
    test was valued at 0: all named errors now."""
    y, arm = np.array([0, 1, 1, 0, 1, 0]), np.array(["a", "b", "a", "b", "a", "b"], dtype=object)
    with pytest.raises(ValueError, match="qini_curve: score must hold numbers"):
        qini_coefficient(y, arm == "b", np.array(["x"] * 6, dtype=object))
    with pytest.raises(ValueError, match="policy_value: y must hold numbers"):
        policy_value(np.array(["x"] * 6, dtype=object), arm, {"p": arm}, n_bootstrap=0)
    with pytest.raises(ValueError, match="policy_value: treatment is missing on 2 rows"):
        policy_value(y, np.r_[arm[:4], None, np.nan], {"p": arm}, n_bootstrap=0)
    with pytest.raises(ValueError, match="policy_value: policy 'p' is missing on 1 rows"):
        policy_value(y, arm, {"p": np.r_[arm[:5], None]}, n_bootstrap=0)
    with pytest.raises(ValueError, match=r"policy 'p' assigns 6 rows to arms that never occur in treatment \(\['z'\]"):
        policy_value(y, arm, {"p": np.full(6, "z")}, n_bootstrap=0)
    with pytest.raises(ValueError, match="policies must be a dict"):
        policy_value(y, arm, [arm], n_bootstrap=0)
    with pytest.raises(ValueError, match="propensity must give every arm"):
        policy_value(y, arm, {"p": arm}, propensity={"a": "x", "b": 0.5}, n_bootstrap=0)


def test_metric_and_model_inputs_share_one_rule():
    """Review: the uplift metrics had their own copies of the per-row number check (a (n, 2) table was flattened
    silently, ValueError) and of the arm-label check (ValueError where UpliftModel.fit raised TreatmentError).
    Both are now the shared checks: ParameterError naming the 2-D shape, TreatmentError for a missing arm."""
    from crmml.decisions import TreatmentError
    from crmml.exceptions import ParameterError

    y, arm = np.array([0, 1, 1, 0, 1, 0]), np.array(["a", "b", "a", "b", "a", "b"], dtype=object)
    with pytest.raises(ParameterError, match=r"qini_curve: y must be one-dimensional .*got shape \(3, 2\)"):
        qini_coefficient(y.reshape(3, 2), arm == "b", np.arange(6.0))
    with pytest.raises(ParameterError, match=r"policy_value: y must be one-dimensional"):
        policy_value(np.c_[y, y], arm, {"p": arm}, n_bootstrap=0)
    qini_coefficient(y.reshape(6, 1), arm == "b", np.arange(6.0))     # a column vector is one value per row
    for call in (lambda: policy_value(y, np.r_[arm[:5], None], {"p": arm}, n_bootstrap=0),
                 lambda: policy_value(y, arm, {"p": np.r_[arm[:5], None]}, n_bootstrap=0),
                 lambda: UpliftModel(n_estimators=5).fit(pd.DataFrame({"x": np.arange(6.0)}),
                                                         np.r_[arm[:5], None], y, control="a")):
        with pytest.raises(TreatmentError, match=r"is missing on 1 rows; every row needs its arm"):
            call()


def test_an_assignment_that_follows_missing_values_warns():
    # the check cut a many-valued column into quintiles and crosstab left out its missing values: treating
    # exactly the customers without a value went unnoticed
    rng = np.random.default_rng(3)
    n = 3000
    x = pd.Series(rng.normal(size=n))
    x[:1200] = np.nan
    arm = np.where(x.isna(), "a", rng.choice(["control", "a"], n))
    X, y = pd.DataFrame({"spend": x}), rng.normal(size=n)
    with pytest.warns(NotRandomisedWarning, match="vary with 'spend'"):
        UpliftModel(learner="t", n_estimators=5).fit(X, arm, y, control="control")


def test_metrics_refuse_series_paired_in_another_order():
    """The metrics pair y, treated and score by position; Series holding the same labels in another order (a
    sorted copy of one of them) paired the wrong customers and gave a wrong Qini without a word."""
    from crmml.decisions import policy_value, qini_curve, qini_coefficient, uplift_by_decile
    from crmml.exceptions import ParameterError

    rng = np.random.default_rng(0)
    idx = pd.Index(np.arange(400) + 1000, name="customer_id")
    y = pd.Series(rng.integers(0, 2, 400), index=idx)
    treated = pd.Series(rng.integers(0, 2, 400), index=idx)
    score = pd.Series(rng.random(400), index=idx)
    qini_curve(y, treated, score)                                  # same index: fine
    qini_coefficient(y.to_numpy(), treated.to_numpy(), score.sort_values())   # arrays are positional: fine
    for f in (qini_curve, qini_coefficient, uplift_by_decile):
        with pytest.raises(ParameterError, match=r"y and score are Series indexed by the same labels in another "
                                                 r"order.*score.reindex\(y.index\)"):
            f(y, treated, score.sort_values())
    arm = pd.Series(np.where(treated == 1, "mail", "none"), index=idx)
    with pytest.raises(ParameterError, match=r"policies\['all mail'\].reindex\(y.index\)"):
        policy_value(y, arm, {"all mail": pd.Series("mail", index=idx[::-1])}, n_bootstrap=10)
