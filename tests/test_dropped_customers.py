"""Nothing is dropped silently: return-only customers are counted in a warning or kept by a rule (issue 12)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmml.clv import CLVModel, calibration_holdout, summarize
from crmml.datasets import make_synthetic_crm
from crmml.exceptions import DroppedCustomersWarning, NoHistoryError
from crmml.segmentation import rfm_table


@pytest.fixture(scope="module")
def tx():
    base = make_synthetic_crm(n_customers=200, seed=5, with_events=False).transactions
    base = base[["customer_id", "timestamp", "amount"]]
    only_returns = pd.DataFrame({"customer_id": [900001, 900002, 900002, 900003],
                                 "timestamp": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-03-05", "2024-04-01"]),
                                 "amount": [-10.0, -5.0, -7.0, -1.0]})
    return pd.concat([base, only_returns], ignore_index=True)


def test_rfm_table_counts_the_return_only_customers_it_leaves_out(tx):
    with pytest.warns(DroppedCustomersWarning, match=r"rfm_table: 3 customers with only returns .* returns_only='keep'"):
        dropped = rfm_table(tx, "2024-07-01")
    assert not dropped.index.isin([900001, 900002, 900003]).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedCustomersWarning)
        kept = rfm_table(tx, "2024-07-01", returns_only="keep")
    assert (kept.loc[[900001, 900002, 900003], "frequency"] == 0).all()
    assert len(kept) == len(dropped) + 3


def test_summaries_count_them_and_clv_keeps_them_without_warning(tx):
    with pytest.warns(DroppedCustomersWarning, match=r"summarize: 3 customers with only returns"):
        s = summarize(tx, "2024-07-01")
    assert not s.index.isin([900001, 900002, 900003]).any()
    with pytest.warns(DroppedCustomersWarning, match=r"calibration_holdout: 3 customers with only returns"):
        calibration_holdout(tx, "2024-07-01", "2024-10-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedCustomersWarning)
        pred = CLVModel(horizon_days=90).fit(tx, "2024-07-01").predict()
    assert (pred.loc[[900001, 900002, 900003], "rule"] == "no_purchase").all()


def test_calibration_holdout_without_history_names_the_dates(tx):
    first = tx.loc[tx["amount"] >= 0, "timestamp"].min()
    with pytest.raises(NoHistoryError, match=rf"no purchase before calibration_end=2000-01-01T00:00:00; the purchases "
                                             rf"run from {first.isoformat()} to .* Choose a calibration_end after"):
        calibration_holdout(tx, "2000-01-01", "2024-01-01")
    with pytest.raises(NoHistoryError, match="no purchase after start"):
        calibration_holdout(tx, "2024-01-01", "2024-02-01", start="2030-01-01")


def test_rfm_segmenter_refuses_text_in_a_score_column(tx):
    from crmml import SchemaError
    from crmml.segmentation import RFMSegmenter

    rfm = rfm_table(tx, "2024-07-01", returns_only="keep")
    seg = RFMSegmenter().fit(rfm)
    bad = rfm.astype({"monetary": object})
    bad.iloc[:2, bad.columns.get_loc("monetary")] = "n/a"
    with pytest.raises(SchemaError, match=r"rfm.monetary: text values in a numeric column .*\(2 rows; e.g. 'n/a'\)"):
        seg.transform(bad)
