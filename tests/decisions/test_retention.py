"""RetentionPlanner on synthetic data: value at risk, net gain, budget, reasons, errors, report, files."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmml.churn import ChurnModel, TimeToChurnModel
from crmml.clv import CLVModel
from crmml.decisions import HorizonMismatchError, RetentionPlanner, capture_table, lost_value
from crmml.exceptions import DroppedCustomersWarning
from crmml.persistence import ModelLoadError, load, save

sys.path.insert(0, str(Path(__file__).parents[1]))
import _hostile as hf  # noqa: E402

AS_OF = "2024-07-01"
FAST = dict(churn_model=ChurnModel(n_estimators=60, learning_rate=0.1, min_child_weight=1), windows=(30, 90, 365))


@pytest.fixture(scope="module")
def crm():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=1500, seed=4, with_events=False)


@pytest.fixture(scope="module")
def planner(crm):
    return RetentionPlanner(**FAST).fit(crm.transactions, AS_OF)


def test_scores_combine_the_two_models_at_the_same_cutoff(crm, planner):
    s = planner.scores_
    clv = CLVModel(horizon_days=365).fit(crm.transactions, AS_OF).predict().reindex(s.index)
    assert np.allclose(s["clv"], clv["clv"])
    expected = clv["clv"] / np.maximum(clv["p_alive"].fillna(1.0), 0.1)
    assert np.allclose(s["value_if_retained"], expected)
    assert np.allclose(s["value_at_risk"], s["churn_probability"] * s["value_if_retained"])
    assert s["churn_probability"].between(0, 1).all()
    assert (s["churn_reasons"].str.count("risk") >= 1).all() and s["value_reasons"].str.contains("purchases").all()
    assert planner.churn_model_.validation_.startswith("latest cutoff 2024-05-17")   # label windows end by as_of


def test_plan_ranks_by_net_gain_and_respects_the_budget(planner):
    p = planner.plan(cost=3.0, effect=0.25)
    assert p["expected_net_gain"].is_monotonic_decreasing
    assert np.allclose(p["expected_net_gain"], 0.25 * p["value_at_risk"] - 3.0)
    assert (p["selected"] == (p["expected_net_gain"] > 0)).all()
    assert list(p["rank"]) == list(range(1, len(p) + 1))
    b = planner.plan(cost=3.0, effect=0.25, budget=30)
    assert b["selected"].sum() == min(10, (b["expected_net_gain"] > 0).sum())
    assert b.index[b["selected"]].tolist() == b.index[:b["selected"].sum()].tolist()
    # per-customer costs: a customer made expensive drops out of the selection
    costs = pd.Series(1.0, index=planner.scores_.index)
    top = b.index[0]
    costs[top] = 1e9
    c = planner.plan(cost=costs, effect=0.25, budget=20)
    assert not c.loc[top, "selected"] and c["cost"][c["selected"]].sum() <= 20


@pytest.mark.parametrize("kw,match", [
    (dict(effect=1.5), r"effect .* must lie in \[0, 1\]"),
    (dict(cost=-1), "cost must be finite and >= 0"),
    (dict(cost="cheap"), "cost must be a number or a Series"),
    (dict(cost=pd.Series({"nobody": 1.0})), "cost has no value for"),
    (dict(budget=-5), "budget"),
    # hostile audit: a Series repeating an id raised pandas' 'cannot reindex on an axis with duplicate labels'
    (dict(cost=pd.Series([1.0, 2.0], index=[1, 1])), r"cost holds 1 customer id\(s\) more than once, e.g. \[1\]"),
])
def test_bad_plan_arguments_get_named_errors(planner, kw, match):
    with pytest.raises(ValueError, match=match):
        planner.plan(**kw)


def test_horizons_that_do_not_match_are_refused(crm):
    with pytest.raises(HorizonMismatchError, match=r"CLV model's horizon_days \(180\) differs"):
        RetentionPlanner(clv_model=CLVModel(horizon_days=180)).fit(crm.transactions, AS_OF)
    with pytest.raises(HorizonMismatchError, match="shorter than the churn horizon_days"):
        RetentionPlanner(horizon_days=90, value_horizon_days=60).fit(crm.transactions, AS_OF)
    with pytest.raises(HorizonMismatchError, match="TimeToChurnModel models 30 days"):
        RetentionPlanner(churn_model=TimeToChurnModel(max_days=30)).fit(crm.transactions, AS_OF)


@pytest.mark.parametrize("churn_model", [FAST["churn_model"], TimeToChurnModel(n_estimators=40, windows=(30, 90, 365))],
                         ids=["churn", "time_to_churn"])
def test_every_active_customer_is_valued_without_a_fill(crm, churn_model):
    """Audit: fit filled a missing p_alive with 1 and a non-finite value_if_retained with 0. Awkward customers
    show no fill is reached: those the CLV model cannot value (nothing but returns: p_alive NaN) are never active,
    and every active one gets finite values. The one way in was a CLV model without spend (every value 0, nobody
    selected, silently): now a ParameterError."""
    from crmml.exceptions import ParameterError

    d = pd.Timestamp
    odd = pd.DataFrame([
        (900001, d("2024-06-01"), -30.0), (900001, d("2024-06-10"), -5.0),    # only returns, in the window
        (900002, d("2022-03-01"), -8.0),                                      # only returns, long ago
        (900003, d("2022-03-01"), 40.0), (900003, d("2024-06-01"), -40.0),    # bought before the window, returned in it
        (900004, d("2024-06-01"), np.nan), (900004, d("2024-06-10"), np.nan),  # amounts missing
        (900005, d("2024-06-15"), 20.0),                                      # one purchase
        (900006, d("2024-05-01"), 0.0), (900006, d("2024-06-01"), 0.0),      # free items
        (900007, d("2024-03-01"), 10.0), (900007, d("2024-05-01"), -500.0),  # net spend negative
        (900008, d("2022-01-01"), -30.0), (900008, d("2024-06-20"), 5.0),    # old returns, then a purchase
        (900009, d("2024-06-30 23:59"), 10.0),                                # the last minute before as_of
    ], columns=["customer_id", "timestamp", "amount"])
    tx = pd.concat([crm.transactions[["customer_id", "timestamp", "amount"]], odd], ignore_index=True)
    rp = RetentionPlanner(**dict(FAST, churn_model=churn_model)).fit(tx, AS_OF)
    s, v = rp.scores_, rp.clv_model_.predict()
    unvalued = v.index[v["p_alive"].isna()]
    assert {900001, 900002} <= set(unvalued) and not set(unvalued) & set(s.index)     # never active
    assert {900004, 900005, 900006, 900007, 900008, 900009} <= set(s.index) and 900003 not in s.index
    cols = ["churn_probability", "value_if_retained", "value_at_risk", "clv", "p_alive", "expected_spend"]
    assert np.isfinite(s[cols].to_numpy()).all()
    v = v.reindex(s.index)
    np.testing.assert_array_equal(s["value_if_retained"], v["clv"] / np.maximum(v["p_alive"], rp.p_alive_floor))
    # per-customer cost or effect with a missing value: refused, never filled
    for kw in (dict(cost=pd.Series(1.0, index=s.index).where(s.index != 900005)),
               dict(effect=pd.Series(0.2, index=s.index).where(s.index != 900009))):
        with pytest.raises(ValueError, match=r"(cost|effect) has no value for 1 customer\(s\) of the plan"):
            rp.plan(**kw)
    with pytest.raises(ParameterError, match=r"'clv_model' parameter of RetentionPlanner must model spend"):
        RetentionPlanner(clv_model=CLVModel(horizon_days=365, spend_model=None)).fit(crm.transactions, AS_OF)

def test_time_to_churn_model_can_supply_the_risk(crm):
    rp = RetentionPlanner(churn_model=TimeToChurnModel(n_estimators=40, windows=(30, 90, 365)),
                          windows=(30, 90, 365)).fit(crm.transactions, AS_OF)
    p = rp.churn_model_.predict_churn_probability(45)
    assert np.allclose(rp.scores_["churn_probability"], p.reindex(rp.scores_.index))


def test_value_at_risk_captures_more_lost_value_than_either_signal_alone_synthetic(crm, planner):
    s = planner.scores_
    lost = lost_value(crm.transactions, AS_OF)["lost_value"]
    tab = capture_table(pd.DataFrame({"var": s["value_at_risk"], "churn": s["churn_probability"],
                                      "clv": s["clv"]}), lost)
    assert tab.loc["var", "top_20pct"] > 0.2                       # better than random
    assert tab.loc["var", "top_20pct"] >= tab.loc["clv", "top_20pct"]


def test_report_page_and_save_load(planner, tmp_path):
    out = planner.report(tmp_path / "plan.html", planner.plan(cost=1.0, effect=0.2, budget=100))
    text = out.read_text()
    assert "Retention plan" in text and "value_at_risk_total" in text and "data:image/png;base64" in text
    # hostile audit: a table not from plan() raised KeyError 'selected'
    with pytest.raises(ValueError, match=r"plan must be a table returned by plan\(\)"):
        planner.report(tmp_path / "x.html", pd.DataFrame({"a": [1]}))
    path = save(planner, tmp_path / "planner.zip")
    back = load(path)
    pd.testing.assert_frame_equal(back.plan(cost=1.0, effect=0.2), planner.plan(cost=1.0, effect=0.2))
    mem = hf.members(path)

    def bad_params(m):
        m["root"]["params"]["value_horizon_days"] = 10

    with pytest.raises(ModelLoadError, match="shorter than the churn horizon"):
        load(hf.write(tmp_path / "bad.zip", hf.edit_meta(mem, bad_params)))
    # churn probabilities outside [0, 1] and non-finite values at risk in the stored scores
    with pytest.raises(ModelLoadError, match=r"churn_probability must lie in \[0, 1\]"):
        load(hf.write(tmp_path / "p.zip", hf.edit_state_frame(mem, "scores_", lambda f: f.assign(c0=f["c0"] + 2))))
    with pytest.raises(ModelLoadError, match="value_at_risk must be finite"):
        load(hf.write(tmp_path / "v.zip", hf.edit_state_frame(mem, "scores_", lambda f: f.assign(c2=np.inf))))


def test_bad_windows_are_refused_by_name(crm):
    # hostile audit: windows=(0, -5) fitted on 0-day and negative-day features
    with pytest.raises(ValueError, match="The 'windows' parameter of RetentionPlanner must be a non-empty sequence"):
        RetentionPlanner(windows=(0, -5)).fit(crm.transactions, "2024-07-01")


def test_capture_table_counts_the_lost_value_it_leaves_out():
    # the lost value of customers absent from rankings silently left the total: every share was inflated
    ranks = pd.DataFrame({"score": [3.0, 2.0, np.nan]}, index=pd.Index([1, 2, 3], name="customer_id"))
    lost = pd.Series([10.0, 0.0, 5.0, 85.0], index=pd.Index([1, 2, 3, 4], name="customer_id"))
    with pytest.warns(DroppedCustomersWarning, match=r"1 of the 4 customers of lost are not in rankings "
                                                     r"\(lost value 85\.00\)"):
        tab = capture_table(ranks, lost, fractions=[1 / 3])
    assert tab.loc["score", "top_33pct"] == pytest.approx(10 / 15)       # the documented rule: of the ranked
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert capture_table(ranks, lost.loc[[1, 2, 3]], fractions=[1 / 3]).loc["score", "top_33pct"] == \
            pytest.approx(10 / 15)                                      # the same customers: no warning, NaN last
    for bad in ("rankings", "lost"):                                      # raw pandas reindex error before
        r, v = (pd.concat([ranks, ranks.iloc[:1]]), lost) if bad == "rankings" else (ranks, pd.concat([lost, lost[:1]]))
        with pytest.raises(ValueError, match=f"capture_table: {bad} holds 1 customer id\\(s\\) more than once, "
                                             r"e\.g\. \[1\]"):
            capture_table(r, v)


def test_training_snapshots_of_one_outcome_are_named_by_the_planner():
    """A base whose snapshots hold one outcome only (here one customer who always buys again) was refused by
    'ChurnModel.fit: y has a single class', naming a model the user never called; the planner now says which
    snapshots and what to change."""
    from crmml.exceptions import DataError

    tx = pd.DataFrame({"customer_id": [1] * 6, "timestamp": pd.date_range("2024-01-01", periods=6, freq="30D"),
                       "amount": [10.0] * 6})
    with pytest.raises(DataError, match=r"RetentionPlanner.fit: every one of the 3 customer rows of the training "
                                        r"snapshots \(2024-04-17, 2024-03-03, 2024-01-18\) bought again within 45 days"):
        RetentionPlanner(horizon_days=45, value_horizon_days=90).fit(tx, "2024-06-01")
