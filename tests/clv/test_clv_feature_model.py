"""FeatureCLVModel: point in time, out-of-time training, offset, short history, fallback, errors, round trip."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from crmml.clv import BetaGeoModel, CLVModel, FeatureCLVModel, GammaGammaModel, summarize
from crmml.clv._feature_training import OFFSET_FLOOR, select_correction
from crmml.datasets import make_synthetic_crm
from crmml.exceptions import NoHistoryError
from crmml.persistence import load, save

AS_OF = pd.Timestamp("2024-07-01")
# on this synthetic log (simulated from a BG/NBD-like process) the boosted purchases model rarely beats BG/NBD
pytestmark = pytest.mark.filterwarnings("ignore:FeatureCLVModel. on the held-out snapshot:UserWarning")


@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=300, seed=3, with_events=False)


def _model(**kw):
    return FeatureCLVModel(horizon_days=90, n_estimators=25, **kw)


def test_reads_nothing_at_or_after_as_of(crm):
    tx = crm.transactions
    before = tx[tx["timestamp"] < AS_OF]
    after = tx[tx["timestamp"] >= AS_OF].assign(amount=lambda f: f["amount"] * 100)
    m = _model().fit(before, AS_OF)
    assert m.n_snapshots_ == 3      # stacked snapshots: every target window ends at as_of at the latest
    a = m.predict(before)
    b = _model().fit(pd.concat([before, after, after]), AS_OF).predict(pd.concat([before, after]))
    pd.testing.assert_frame_equal(a, b)
    # short history (window shorter than the horizon): still nothing at or after as_of
    as_of = before["timestamp"].min() + pd.Timedelta(days=100)
    early = tx[tx["timestamp"] < as_of]
    late = tx[tx["timestamp"] >= as_of].assign(amount=lambda f: f["amount"] * 100)
    pd.testing.assert_frame_equal(_model().fit(early, as_of).predict(early),
                                  _model().fit(pd.concat([early, late]), as_of).predict(pd.concat([early, late])))


def test_outputs_and_training_window(crm, tmp_path):
    m = _model(discount_rate=0.1).fit(crm.transactions, AS_OF)
    assert m.train_cutoff_ == (AS_OF - pd.Timedelta(days=90)).isoformat() and m.n_train_ > 100
    assert m.window_days_ == 90 and m.train_cutoffs_ == [(AS_OF - pd.Timedelta(days=90 * k)).isoformat()
                                                         for k in (1, 2, 3)]
    assert set(m.selection_["target"]) == {"purchases", "revenue"} and m.selection_["chosen"].sum() == 2
    assert {"pm_p_alive", "pm_expected_revenue"} <= set(m.feature_names_)
    pred = m.predict(crm.transactions)
    assert list(pred.columns) == ["expected_purchases", "expected_revenue", "revenue_lower", "revenue_upper", "clv"]
    assert (pred[["expected_purchases", "expected_revenue"]] >= 0).all().all()
    assert (pred["revenue_lower"] <= pred["revenue_upper"]).all()
    assert ((pred["clv"] < pred["expected_revenue"]) | (pred["expected_revenue"] == 0)).all()   # discounted
    # customers are those with history before as_of
    seen = crm.transactions.loc[crm.transactions["timestamp"] < AS_OF, "customer_id"].unique()
    assert set(pred.index) <= set(seen)
    back = load(save(m, tmp_path / "fclv.zip"))
    pd.testing.assert_frame_equal(back.predict(crm.transactions), pred)


def _baseline(tx, as_of, days):
    """BG/NBD expected purchases and x Gamma-Gamma spend over ``days``, fitted on the summary at ``as_of``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = summarize(tx, as_of)
        n = BetaGeoModel().fit(s).conditional_expected_purchases(s, float(days))
        rev = n * GammaGammaModel().fit(s).conditional_expected_spend(s)
        return n.clip(lower=OFFSET_FLOOR), rev.clip(lower=OFFSET_FLOOR)


def test_boosting_starts_from_the_bgnbd_forecast(crm, monkeypatch):
    """The BG/NBD (+ Gamma-Gamma) forecast is the offset: with a negligible learning rate the trees add nothing
    and the boosted models (kept here whatever the validation says) predict that forecast; without the offset
    they would predict one constant for everyone."""
    def keep_model(target, y, offset, margin, owner):
        return pd.DataFrame({"target": [target], "shrinkage": [1.0], "chosen": [True]}), 1.0

    monkeypatch.setattr("crmml.clv._feature_model.select_correction", keep_model)
    m = FeatureCLVModel(horizon_days=90, n_estimators=5, learning_rate=1e-9).fit(crm.transactions, AS_OF)
    assert m.purchases_model_ is not None and m.revenue_model_ is not None
    pred = m.predict(crm.transactions)
    n, rev = _baseline(crm.transactions, AS_OF, 90)
    np.testing.assert_allclose(pred["expected_purchases"], n.reindex(pred.index), rtol=1e-4)
    np.testing.assert_allclose(pred["expected_revenue"], rev.reindex(pred.index), rtol=1e-4)


def test_short_history_trains_on_a_shorter_window(crm):
    """Horizon longer than half the history: the target window is half the history, one snapshot, and the
    forecast still covers the full horizon (offset at the horizon, interval scaled)."""
    tx = crm.transactions
    as_of = tx["timestamp"].min() + pd.Timedelta(days=200)
    m = FeatureCLVModel(horizon_days=365, n_estimators=5, learning_rate=1e-9).fit(tx, as_of)
    assert m.window_days_ == 100 and m.n_snapshots_ == 1
    assert m.train_cutoff_ == (as_of - pd.Timedelta(days=100)).isoformat()
    pred = m.predict(tx)
    n, _ = _baseline(tx, as_of, 365)
    np.testing.assert_allclose(pred["expected_purchases"], n.reindex(pred.index), rtol=1e-4)
    assert np.isfinite(pred.to_numpy()).all() and (pred["revenue_lower"] <= pred["revenue_upper"]).all()


def test_falls_back_to_the_baseline_when_it_validates_better(crm):
    # a correction that only adds noise loses to the offset on MAE: a = 0 is chosen, with a warning
    rng = np.random.default_rng(0)
    off = np.log(rng.gamma(2.0, 1.0, 500))
    y = rng.poisson(np.exp(off)).astype(float)
    with pytest.warns(UserWarning, match="does not beat the BG/NBD"):
        table, a = select_correction("purchases", y, off, off + rng.normal(0, 2.0, 500), "FeatureCLVModel")
    assert a == 0.0 and table.loc[table["chosen"], "shrinkage"].tolist() == [0.0]
    assert list(table.columns) == ["target", "shrinkage", "validation_mae", "validation_spearman",
                                   "validation_total_ratio", "chosen"]
    # fitted end to end: on this synthetic log (simulated from a BG/NBD-like process) the boosted purchases model
    # does not beat BG/NBD on the held-out snapshot, so purchases are the BG/NBD forecast
    with pytest.warns(UserWarning, match="boosted purchases model does not beat"):
        m = _model().fit(crm.transactions, AS_OF)
    assert m.purchases_shrinkage_ == 0.0 and m.purchases_model_ is None
    pred = m.predict(crm.transactions)
    n, _ = _baseline(crm.transactions, AS_OF, 90)
    np.testing.assert_allclose(pred["expected_purchases"], n.reindex(pred.index), rtol=1e-6)


def test_errors_name_the_fix(crm):
    tx = crm.transactions
    with pytest.raises(NoHistoryError, match="Use a later as_of or a shorter horizon_days"):
        FeatureCLVModel(horizon_days=90).fit(tx, tx["timestamp"].min() + pd.Timedelta(hours=12))
    with pytest.raises(ValueError, match="The 'n_snapshots' parameter of FeatureCLVModel"):
        FeatureCLVModel(n_snapshots=0).fit(tx, AS_OF)
    with pytest.raises(ValueError, match="The 'horizon_days' parameter of FeatureCLVModel"):
        FeatureCLVModel(horizon_days=0).fit(crm.transactions, AS_OF)
    with pytest.raises(ValueError, match="The 'level' parameter of FeatureCLVModel"):
        FeatureCLVModel(level=1.5).fit(crm.transactions, AS_OF)
    assert np.isfinite(_model().fit(crm.transactions, AS_OF).predict(crm.transactions).to_numpy()).all()


def test_predict_without_the_frames_of_fit_is_refused(crm):
    """Audit: predict() without the customers frame fit had used scored the attribute features as missing values
    (other forecasts, silently); it is a SchemaError naming them now, and with the frames the forecast is finite."""
    from crmml.schema import SchemaError

    m = _model().fit(crm.transactions, AS_OF, customers=crm.customers)
    with pytest.raises(SchemaError, match=r"FeatureCLVModel reads \d+ feature\(s\) these frames do not give"):
        m.predict(crm.transactions)
    assert np.isfinite(m.predict(crm.transactions, customers=crm.customers).to_numpy()).all()


@pytest.mark.slow
def test_beats_bgnbd_gamma_gamma_on_cdnow(cdnow):
    """CDNOW 39 + 39 weeks (calibration to 1997-09-30, 273-day holdout): the feature model trains (on a 136-day
    window) and beats BG/NBD + Gamma-Gamma on holdout revenue per customer, MAE and Spearman (measured 30.07
    vs 32.68 and 0.427 vs 0.421; its total, 0.72 of actual, is further off than BG/NBD's 0.83)."""
    as_of, h = pd.Timestamp("1997-10-01"), 273
    fm = FeatureCLVModel(horizon_days=h).fit(cdnow, as_of)
    assert fm.window_days_ == 136
    fp = fm.predict(cdnow)
    bg = CLVModel(horizon_days=h, discount_rate=0.0).fit(cdnow, as_of).predict()
    bg = bg[bg["rule"] != "no_purchase"]
    ids = bg.index.intersection(fp.index)
    w = cdnow[(cdnow["timestamp"] >= as_of) & (cdnow["timestamp"] < as_of + pd.Timedelta(days=h))]
    actual = w.groupby("customer_id")["amount"].sum().clip(lower=0).reindex(ids, fill_value=0.0).to_numpy()
    f, b = fp.loc[ids, "expected_revenue"].to_numpy(), bg.loc[ids, "clv"].to_numpy()
    assert np.mean(np.abs(f - actual)) < np.mean(np.abs(b - actual)) - 2.0
    assert spearmanr(f, actual)[0] > spearmanr(b, actual)[0]
