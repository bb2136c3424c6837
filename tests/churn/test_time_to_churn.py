"""TimeToChurnModel on synthetic data: consistency with churn labels, point in time, subscriptions, errors, files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmml.churn import CoxBaseline, TimeToChurnModel, make_churn_labels, make_time_to_event
from crmml.evaluation import concordance_index, roc_auc
from crmml.persistence import ModelLoadError, load, save
from crmml.schema import SchemaError

sys.path.insert(0, str(Path(__file__).parents[1]))
import _hostile as hf  # noqa: E402

FAST = dict(n_estimators=60, learning_rate=0.1, windows=(30, 90, 365))
AS_OF = "2024-07-01"


@pytest.fixture(scope="module")
def crm():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=1500, seed=3, with_events=False)


@pytest.fixture(scope="module")
def fitted(crm):
    return TimeToChurnModel(**FAST).fit(crm.transactions, AS_OF)


def test_time_to_event_matches_churn_labels_at_every_horizon(crm):
    tte = make_time_to_event(crm.transactions, AS_OF, max_days=180)
    for h in (15, 45, 90):
        lab = make_churn_labels(crm.transactions, AS_OF, horizon_days=h)
        assert tte.index.equals(lab.index)
        assert ((tte["duration_days"] >= h).astype(int) == lab["churned"]).all()


def test_survival_curves_are_monotone_and_consistent(fitted):
    s = fitted.predict_survival(days=[15, 30, 45, 90, 180])
    assert list(s.columns) == ["survival_15d", "survival_30d", "survival_45d", "survival_90d", "survival_180d"]
    v = s.to_numpy()
    assert ((v >= 0) & (v <= 1)).all() and (np.diff(v, axis=1) <= 1e-12).all()
    p = fitted.predict_churn_probability(45)
    assert np.allclose(p.to_numpy(), s["survival_45d"].to_numpy())
    med = fitted.predict_median()
    # the median lies where S crosses 0.5: S(median) ~ 0.5 for every finite median
    fin = np.isfinite(med.to_numpy()) & (med.to_numpy() > 0)
    at = np.array([fitted.predict_survival(days=[m]).iloc[i, 0] for i, m in
                    zip(np.flatnonzero(fin)[:20], med.to_numpy()[fin][:20])])
    assert np.allclose(at, 0.5, atol=1e-6)
    assert (fitted.predict_expected_days() <= fitted.max_days + 1e-9).all()


def test_the_model_ranks_next_purchases_out_of_time(crm, fitted):
    """Customers active at as_of, followed after it: the model orders next purchases and predicts 45-day churn."""
    tte = make_time_to_event(crm.transactions, AS_OF, max_days=180).reindex(fitted.features_.index)
    c_model = concordance_index(tte["duration_days"], fitted.predict_expected_days(), tte["event"])
    assert c_model > 0.6
    lab = (tte["duration_days"] >= 45).astype(int)
    assert roc_auc(lab, fitted.predict_churn_probability(45)) > 0.65


def test_nothing_at_or_after_as_of_is_read(crm, fitted):
    tx = crm.transactions
    later = tx["timestamp"] >= pd.Timestamp(AS_OF)
    changed = tx.copy()
    changed.loc[later, "amount"] = changed.loc[later, "amount"] * 7 + 3
    changed = changed[~(later & (changed.index % 2 == 0))]
    again = TimeToChurnModel(**FAST).fit(changed, AS_OF)
    pd.testing.assert_frame_equal(again.predict_survival(), fitted.predict_survival(), check_exact=True)


def test_scoring_new_data_matches_the_default_customers(crm, fitted):
    a = fitted.predict_survival(days=[45])
    b = fitted.predict_survival(days=[45], transactions=crm.transactions, as_of=AS_OF)
    pd.testing.assert_frame_equal(a, b)


def _subscriptions(n, seed):
    rng = np.random.default_rng(seed)
    yearly = rng.random(n) < 0.5
    age = rng.uniform(18, 80, n)
    life = rng.exponential(np.where(yearly, 1200, 250))
    seen = rng.uniform(0, 900, n)
    return pd.DataFrame({"yearly": yearly, "age": age, "tenure_days": np.minimum(life, seen),
                         "churned": (life < seen).astype(int)}), life


def test_subscription_tables_recover_the_known_hazards():
    tab, life = _subscriptions(3000, 0)
    m = TimeToChurnModel(n_estimators=80, period_days=30, max_days=360).fit_subscriptions(tab)
    active = tab[tab["churned"] == 0]
    p = m.predict_churn_probability(90)
    assert p.index.equals(active.index)
    # exponential lifetimes are memoryless: P(leave within 90 d) = 1 - exp(-90 / mean), whatever the tenure
    for yearly, mean in ((True, 1200), (False, 250)):
        truth = 1 - np.exp(-90 / mean)
        got = p[active["yearly"] == yearly].mean()
        assert abs(got - truth) < 0.06, (yearly, got, truth)
    s = m.predict_survival(days=[30, 90], table=active.drop(columns="churned"))
    assert np.allclose(1 - s["survival_90d"], p)


@pytest.mark.parametrize("kwargs,match", [
    (dict(days=[0]), r"days must be numbers in \(0, max_days=180\]"),
    (dict(days=[200]), r"days must be numbers in \(0, max_days=180\]"),
    (dict(days=[np.nan]), r"days must be numbers"),
])
def test_bad_horizons_are_refused(fitted, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fitted.predict_survival(**kwargs)


def test_bad_inputs_get_named_errors(crm):
    tab, _ = _subscriptions(200, 1)
    with pytest.raises(SchemaError, match="subscriptions.tenure_days"):
        TimeToChurnModel(n_estimators=5).fit_subscriptions(tab.drop(columns="tenure_days"))
    bad = tab.assign(churned=tab["churned"].replace({1: 2}))
    with pytest.raises(SchemaError, match="must hold only 0 and 1"):
        TimeToChurnModel(n_estimators=5).fit_subscriptions(bad)
    with pytest.raises(SchemaError, match="must be a finite number of days"):
        TimeToChurnModel(n_estimators=5).fit_subscriptions(tab.assign(tenure_days=-tab["tenure_days"]))
    with pytest.raises(SchemaError, match=r"must be a finite number of days in \[0, 36500\] .*\(1 row"):
        # a tenure in seconds: was a MemoryError allocating person-period rows
        TimeToChurnModel(n_estimators=5).fit_subscriptions(tab.assign(tenure_days=np.r_[1e11, tab["tenure_days"][1:]]))
    with pytest.raises(ValueError, match="no event in the training data"):
        TimeToChurnModel(n_estimators=5).fit_subscriptions(tab.assign(churned=0))
    with pytest.raises(ValueError, match="every training snapshot falls before the first transaction"):
        TimeToChurnModel(n_estimators=5).fit(crm.transactions, "2023-01-05")
    with pytest.raises(ValueError, match="max_days"):
        TimeToChurnModel(period_days=30, max_days=10).fit(crm.transactions, AS_OF)


def test_cox_baseline_recovers_a_known_coefficient():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"purchase_recency_all": np.expm1(rng.normal(3, 1, 4000)),
                      "purchase_count_all": np.expm1(rng.normal(1, 0.5, 4000))})
    z = np.log1p(X["purchase_recency_all"])
    t = rng.exponential(1 / (0.02 * np.exp(-0.8 * (z - 3))))       # hazard falls with recency: beta = -0.8 / unit
    cox = CoxBaseline().fit(X, np.minimum(t, 200), (t < 200).astype(int))
    beta_per_unit = cox.coef_[0] / cox.scale_[0]
    assert abs(beta_per_unit - (-0.8)) < 0.08
    assert abs(cox.coef_[1] / cox.scale_[1]) < 0.08
    # text durations and NaN / text days were numpy's 'could not convert string to float' / 'cannot convert float NaN
    # to integer'; now named errors
    with pytest.raises(ValueError, match="CoxBaseline.fit: time must hold numbers of days"):
        CoxBaseline().fit(X.head(3), np.array(["a", "b", "c"], dtype=object), [1, 0, 1])
    for days in ([np.nan], ["a"], [-5]):
        with pytest.raises(ValueError, match="CoxBaseline.predict_survival: days must be finite numbers >= 0"):
            cox.predict_survival(X.head(3), days)


def test_save_load_round_trip_and_hostile_state(fitted, tmp_path):
    path = save(fitted, tmp_path / "ttc.zip")
    back = load(path)
    pd.testing.assert_frame_equal(back.predict_survival(), fitted.predict_survival(), check_exact=True)
    mem = hf.members(path)
    cases = {
        "start_days_": (hf.edit_state_array(mem, "start_days_", lambda a: a[:-1]), "start_days_ must hold one"),
        "start_nan": (hf.edit_state_array(mem, "start_days_", lambda a: a * np.nan), "start_days_ must hold one"),
        "kind_": (hf.edit_meta(mem, lambda m: m["root"]["state"].__setitem__("kind_", "pickle")), "kind_ must be"),
        "period": (hf.edit_meta(mem, lambda m: m["root"]["params"].__setitem__("period_days", -1)), "period_days"),
    }
    for name, (edited, match) in cases.items():
        with pytest.raises(ModelLoadError, match=match):
            load(hf.write(tmp_path / f"{name}.zip", edited))


def test_scoring_is_partition_exact(crm, fitted):
    """Any split of the customers gives each customer the row it gets on the whole base, bit for bit."""
    tx = crm.transactions
    ids = np.sort(tx["customer_id"].unique())
    part = np.random.default_rng(0).integers(0, 3, len(ids))
    pieces = [fitted.predict_survival(days=[30, 45, 100], transactions=tx[tx["customer_id"].isin(ids[part == k])],
                                      as_of=AS_OF, with_median=True) for k in range(3)]
    whole = fitted.predict_survival(days=[30, 45, 100], transactions=tx, as_of=AS_OF, with_median=True)
    pd.testing.assert_frame_equal(pd.concat(pieces).sort_index(), whole.sort_index(), check_exact=True)


def test_bad_windows_are_refused_by_name(crm):
    # hostile audit: windows=(0, -5) fitted on 0-day and negative-day features
    with pytest.raises(ValueError, match="The 'windows' parameter of TimeToChurnModel must be a non-empty sequence"):
        TimeToChurnModel(n_estimators=5, windows=(0, -5)).fit(crm.transactions, AS_OF)


def test_time_to_event_before_all_data_warns(crm):
    # hostile audit: an as_of before every row returned an empty table without a word
    from crmml.schema import AsOfWarning
    with pytest.warns(AsOfWarning, match="is on or before the first row of transactions"):
        assert make_time_to_event(crm.transactions, "2000-01-01").empty


def test_text_attributes_are_read_as_categories(crm, tmp_path):
    """Audit (round trips with a real customers frame): fit(customers=...) with a text attribute (region, channel)
    raised "X.attr_region: text values in a numeric column (it was numeric when the model was fitted)" during
    fit, and fit_subscriptions refused a text plan column. Text columns are now read as their code among the
    categories seen in fit (unseen or missing: missing), and the model saves and loads with them."""
    model = TimeToChurnModel(**FAST).fit(crm.transactions, AS_OF, customers=crm.customers)
    cu = crm.customers
    text = [c for c in cu.columns if c not in ("customer_id", "signup_date")
            and not pd.api.types.is_numeric_dtype(cu[c].dtype) and not pd.api.types.is_bool_dtype(cu[c].dtype)]
    assert text and {f"attr_{c}" for c in text} <= set(model.categories_)
    s = model.predict_survival(days=[45])
    assert s["survival_45d"].between(0, 1).all() and len(s) == len(model.features_)
    back = load(save(model, tmp_path / "ttc.zip"))
    pd.testing.assert_frame_equal(back.predict_survival(days=[45]), s, check_exact=True)
    other = crm.customers.assign(**{text[0]: "never seen"})          # unseen category: read as missing
    assert np.isfinite(model.predict_survival(days=[45], transactions=crm.transactions, customers=other)).all().all()

    table, _ = _subscriptions(3000, 5)
    table["plan"] = np.where(table["yearly"], "annual", "monthly")
    sub = TimeToChurnModel(n_estimators=40, max_days=360, period_days=30).fit_subscriptions(table.drop(columns="yearly"))
    assert sub.categories_ == {"plan": ["annual", "monthly"]}
    p = sub.predict_churn_probability(90)
    assert p[table.loc[p.index, "plan"] == "annual"].mean() < p[table.loc[p.index, "plan"] == "monthly"].mean()
