"""FeatureCLVModel: point in time, out-of-time training, outputs, errors, round trip."""

import numpy as np
import pandas as pd
import pytest

from crmml.clv import FeatureCLVModel
from crmml.datasets import make_synthetic_crm
from crmml.exceptions import NoHistoryError
from crmml.persistence import load, save

AS_OF = pd.Timestamp("2024-07-01")


@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=300, seed=3, with_events=False)


def _model(**kw):
    return FeatureCLVModel(horizon_days=90, n_estimators=25, **kw)


def test_reads_nothing_at_or_after_as_of(crm):
    tx = crm.transactions
    before = tx[tx["timestamp"] < AS_OF]
    after = tx[tx["timestamp"] >= AS_OF].assign(amount=lambda f: f["amount"] * 100)
    a = _model().fit(before, AS_OF).predict(before)
    b = _model().fit(pd.concat([before, after, after]), AS_OF).predict(pd.concat([before, after]))
    pd.testing.assert_frame_equal(a, b)


def test_outputs_and_training_window(crm, tmp_path):
    m = _model(discount_rate=0.1).fit(crm.transactions, AS_OF)
    assert m.train_cutoff_ == (AS_OF - pd.Timedelta(days=90)).isoformat() and m.n_train_ > 100
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


def test_errors_name_the_fix(crm):
    with pytest.raises(NoHistoryError, match="Use a later as_of or a shorter horizon_days"):
        FeatureCLVModel(horizon_days=3000).fit(crm.transactions, AS_OF)
    with pytest.raises(ValueError, match="The 'horizon_days' parameter of FeatureCLVModel"):
        FeatureCLVModel(horizon_days=0).fit(crm.transactions, AS_OF)
    with pytest.raises(ValueError, match="The 'level' parameter of FeatureCLVModel"):
        FeatureCLVModel(level=1.5).fit(crm.transactions, AS_OF)
    assert np.isfinite(_model().fit(crm.transactions, AS_OF).predict(crm.transactions).to_numpy()).all()
