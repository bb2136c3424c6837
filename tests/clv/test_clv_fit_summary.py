"""CLVModel.fit_summary: the fit shared by CLVModel.fit and crmml.spark.fit_clv (weighted distinct rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from crmml.clv import CLVModel, summarize
from crmml.datasets import make_synthetic_crm


@pytest.fixture(scope="module")
def tx():
    return make_synthetic_crm(n_customers=3_000, seed=3, with_events=False).transactions


def test_weighted_distinct_rows_give_the_parameters_of_the_expanded_rows_exactly(tx):
    as_of = "2024-07-01"
    full = CLVModel().fit(tx, as_of)
    s = summarize(tx, as_of)
    rows = s.value_counts().rename("n").reset_index()
    assert len(rows) < len(s)                              # the compact form really is smaller
    rows = rows.sample(frac=1.0, random_state=1)           # in any order
    weighted = CLVModel().fit_summary(rows.drop(columns="n"), as_of, sample_weight=rows["n"].to_numpy())
    for part in ("purchase_model_", "spend_model_"):
        assert_series_equal(getattr(weighted, part).params_, getattr(full, part).params_, check_exact=True)
        assert_frame_equal(getattr(weighted, part).summary_, getattr(full, part).summary_, check_exact=True)
    assert weighted.purchase_model_.n_customers_ == len(s)
    assert_frame_equal(weighted.predict(tx, as_of=as_of), full.predict(tx, as_of=as_of), check_exact=True)


def test_row_order_does_not_change_the_fit(tx):
    s = summarize(tx, "2024-07-01")
    a = CLVModel().fit_summary(s, "2024-07-01").purchase_model_.params_
    b = CLVModel().fit_summary(s.sample(frac=1.0, random_state=0), "2024-07-01").purchase_model_.params_
    assert_series_equal(a, b, check_exact=True)


def test_weighted_model_needs_transactions_to_predict(tx):
    s = summarize(tx, "2024-07-01")
    m = CLVModel().fit_summary(s, "2024-07-01", sample_weight=np.ones(len(s)))
    with pytest.raises(ValueError, match="fitted on weighted summary rows.*pass transactions"):
        m.predict()


@pytest.mark.parametrize("w", [np.ones(3), np.full(10, -1.0), np.full(10, np.nan)])
def test_bad_weights_are_refused(w):
    s = pd.DataFrame({"frequency": [1] * 10, "recency": [5.0] * 10, "T": [9.0] * 10,
                      "monetary_value": [3.0] * 10})
    with pytest.raises(ValueError, match="'sample_weight' parameter of CLVModel.fit_summary"):
        CLVModel().fit_summary(s, "2024-07-01", sample_weight=w)
