"""The decision layer on real data: value-at-risk capture (Online Retail, CDNOW) and uplift on Hillstrom."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.churn import ChurnModel
from crmml.decisions import RetentionPlanner, UpliftModel, capture_table, lost_value, policy_value, qini_coefficient

FAST = dict(churn_model=ChurnModel(n_estimators=150, learning_rate=0.1), windows=(30, 90, 365))


def _capture(tx, cutoffs):
    tabs = []
    for c in cutoffs:
        s = RetentionPlanner(**FAST).fit(tx, c).scores_
        rank = pd.DataFrame({"value_at_risk": s["value_at_risk"], "churn_only": s["churn_probability"],
                             "clv_only": s["clv"]})
        tabs.append(capture_table(rank, lost_value(tx, c)["lost_value"]))
    return pd.concat(tabs).groupby(level=0).mean()            # mean over every cutoff, none left out


def _check_capture(mean):
    print(mean.round(4))
    for col in ("top_10pct", "top_20pct"):
        assert mean.loc["value_at_risk", col] > mean.loc["churn_only", col], col
        assert mean.loc["value_at_risk", col] > mean.loc["clv_only", col], col


@pytest.mark.slow
def test_value_at_risk_captures_more_lost_value_online_retail(online_retail):
    _check_capture(_capture(online_retail, ["2011-08-01", "2011-09-01", "2011-10-01"]))


@pytest.mark.slow
def test_value_at_risk_captures_more_lost_value_cdnow(cdnow):
    ids = np.random.default_rng(0).choice(np.sort(cdnow["customer_id"].unique()), 4000, replace=False)
    _check_capture(_capture(cdnow[cdnow["customer_id"].isin(ids)], ["1997-10-01", "1998-01-01", "1998-04-01"]))


# ------------------------------------------------------------------------------------------------ Hillstrom
CONTROL = "No E-Mail"


@pytest.fixture(scope="module")
def hillstrom():
    from crmml.datasets import DatasetNotFoundError, load_hillstrom

    try:
        df = load_hillstrom()
    except DatasetNotFoundError as exc:
        pytest.skip(str(exc))
    test = np.random.default_rng(0).random(len(df)) < 0.5        # the seeded held-out half
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def _qini(train, test, outcome, learner="shift"):
    """Qini per e-mail (that e-mail against none) and "pooled" (any e-mail against none, ranked by the arms'
    share-weighted mean uplift: a treated customer got one of the e-mails at random)."""
    from crmml.datasets import HILLSTROM_FEATURES as F

    m = UpliftModel(learner=learner).fit(train[F], train["segment"], train[outcome], control=CONTROL)
    u = m.predict_uplift(test[F])
    shares = np.array([m.shares_[a] for a in m.arms_])
    u["pooled"] = u[m.arms_].to_numpy() @ (shares / shares.sum())
    resp = m._model(True, 0).fit(m._encode(train.loc[train["segment"] != CONTROL, F], "response"),
                                 train.loc[train["segment"] != CONTROL, outcome])
    p = resp.predict_proba(m._encode(test[F], "response"))[:, 1]
    rng = np.random.default_rng(0)
    out = {}
    for arm in m.arms_ + ["pooled"]:
        sub = test["segment"].isin([arm, CONTROL]).to_numpy() if arm != "pooled" else np.ones(len(test), bool)
        w, y = (test["segment"][sub] != CONTROL).to_numpy(), test[outcome][sub].to_numpy()
        out[arm] = {"uplift": qini_coefficient(y, w, u[arm][sub]), "response": qini_coefficient(y, w, p[sub]),
                    "random": np.mean([qini_coefficient(y, w, rng.random(len(y))) for _ in range(10)])}
    return pd.DataFrame(out).T, m


@pytest.mark.slow
def test_hillstrom_uplift_qini_visit_and_policy_value(hillstrom):
    from crmml.datasets import HILLSTROM_FEATURES as F

    train, test = hillstrom
    q, m = _qini(train, test, "visit")                               # the default learner, "shift"
    q = q.drop("pooled")
    assert m.learner_ == "shift" == UpliftModel().learner
    assert (q["uplift"] > q["random"]).all()                        # both e-mails
    assert q.loc["Womens E-Mail", "uplift"] > q.loc["Womens E-Mail", "response"]
    rec = m.recommend(test[F])["arm"].to_numpy()
    n = len(test)
    pv = policy_value(test["visit"], test["segment"], {"policy": rec, "mens": np.full(n, "Mens E-Mail"),
                                                       "womens": np.full(n, "Womens E-Mail"),
                                                       "none": np.full(n, CONTROL)}, reference="womens",
                      n_bootstrap=300)
    assert pv.loc["policy", "diff_lower"] > 0                        # beats the women's e-mail for everyone
    assert pv.loc["policy", "value"] > pv.loc["none", "upper"]
    d = pv.loc["policy", "value"] - pv.loc["mens", "value"]
    assert d > pv.loc["mens", "lower"] - pv.loc["mens", "value"]    # not worse than all-men's beyond its noise


@pytest.mark.slow
def test_hillstrom_uplift_qini_conversion(hillstrom):
    # the T-learner; the default "shift" learner ties the response model here (README: Hillstrom, 5 seeds)
    train, test = hillstrom
    q = _qini(train, test, "conversion", "t")[0].drop("pooled")
    assert (q["uplift"] > q["random"]).all()
    assert (q["uplift"] > q["response"]).all()


@pytest.mark.slow
def test_hillstrom_shared_structure_lifts_the_mens_email_visit_ranking(hillstrom):
    # The men's e-mail adds about the same log-odds to every customer's visit probability, so its lift grows with the
    # baseline: the S-learner (one model, the arm a feature) ranks it far better than the T-learner's difference of
    # two models (Qini x1e-3 on this half: 1.9 vs 0.5), though still below a response model (2.3); averaging S and
    # T ("st") keeps most of the T-learner's women's e-mail ranking. README: Hillstrom, 5 seeds.
    train, test = hillstrom
    q_t, _ = _qini(train, test, "visit", "t")
    q_s, _ = _qini(train, test, "visit", "s")
    q_st, _ = _qini(train, test, "visit", "st")
    mens, womens = "Mens E-Mail", "Womens E-Mail"
    assert q_s.loc[mens, "uplift"] > 2 * q_t.loc[mens, "uplift"] and q_st.loc[mens, "uplift"] > q_t.loc[mens, "uplift"]
    assert (q_s["uplift"] > q_s["random"]).all() and (q_st["uplift"] > q_st["random"]).all()   # pooled too
    assert q_st.loc[womens, "uplift"] > q_st.loc[womens, "response"]


@pytest.mark.slow
def test_hillstrom_default_shift_learner_ranks_the_mens_email_like_the_response_model(hillstrom):
    # A constant log-odds effect (the men's e-mail) is what "shift" assumes until held-out rows show more: its men's
    # ranking rises from the T-learner's to the response model's level (Qini x1e-3 on this half: 2.00 vs T 0.5 and
    # response 2.30), and it keeps the women's e-mail well above the response model (3.53 vs 0.79); pooled (any
    # e-mail against none) it is ahead of the response model.
    train, test = hillstrom
    q, _ = _qini(train, test, "visit", "shift")
    q_t, _ = _qini(train, test, "visit", "t")
    mens, womens = "Mens E-Mail", "Womens E-Mail"
    assert q.loc[mens, "uplift"] > 2 * q_t.loc[mens, "uplift"] and q.loc[mens, "uplift"] > 0.8 * q.loc[mens, "response"]
    assert q.loc[womens, "uplift"] > 2 * q.loc[womens, "response"]
    assert q.loc["pooled", "uplift"] > 1.2 * q.loc["pooled", "response"]      # 2.96 vs 2.05 on this half
