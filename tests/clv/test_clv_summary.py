"""Summaries: occasions, returns, time units, holdout counts, partitioning by customer."""

import numpy as np
import pandas as pd
import pytest

from crmml.clv import calibration_holdout, summarize


@pytest.fixture
def tiny():
    return pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2, 3, 3, 4, 4, 5],
        "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-11 00:00", "2024-01-12 00:00",
                                     "2024-01-05 00:00", "2024-01-02 00:00", "2024-01-08 00:00", "2024-01-03 00:00", "2024-01-09 00:00",
                                     "2024-01-04 00:00"]),
        "amount": [10.0, 5.0, 20.0, -4.0, 8.0, 0.0, 0.0, 30.0, -30.0, -12.0],
        "transaction_id": [1, 2, 3, -3, 4, 5, 6, 7, -7, -8],
    })


def test_summary_rules(tiny):
    s = summarize(tiny, "2024-01-21")
    # customer 1: same-day lines collapse; return netted pro rata on the repeat spend
    assert s.loc[1, "frequency"] == 1 and s.loc[1, "recency"] == 10 and s.loc[1, "T"] == 19
    assert s.loc[1, "monetary_value"] == pytest.approx(20.0 * (1 - 4.0 / 35.0))
    # customer 3: zero-amount lines are purchases with zero spend
    assert s.loc[3, "frequency"] == 1 and s.loc[3, "monetary_value"] == 0
    # customer 4: a single purchase fully returned; customer 5: only a return -> no row
    assert s.loc[4, "frequency"] == 0
    assert 5 not in s.index
    assert s["frequency"].dtype == np.int64


def test_summary_as_of_is_exclusive_and_last_day_counts(tiny):
    s = summarize(tiny, "2024-01-11")
    assert s.loc[1, "frequency"] == 0 and s.loc[1, "T"] == 9
    s = summarize(tiny, "2024-01-12")  # purchase on the last observed day: recency == T
    assert s.loc[1, "recency"] == s.loc[1, "T"] == 10


def test_summary_weeks_and_transactions(tiny):
    w = summarize(tiny, "2024-01-21", freq="W")
    # 2024-01-01 is a Monday: days 1 and 11 fall in weeks 0 and 1
    assert w.loc[1, "frequency"] == 1 and w.loc[1, "recency"] == 1 and w.loc[1, "T"] == 2
    t = summarize(tiny, "2024-01-21", occasion="transaction")
    # two transactions on day 1 are two occasions with continuous times
    assert t.loc[1, "frequency"] == 2
    assert t.loc[1, "recency"] == pytest.approx(10 - 9 / 24)


def test_summary_errors(tiny):
    with pytest.raises(ValueError, match="The 'freq' parameter of summarize must be one of"):
        summarize(tiny, "2024-01-21", freq="M")
    with pytest.raises(ValueError, match="has no 'transaction_id' column"):
        summarize(tiny.drop(columns="transaction_id"), "2024-01-21", occasion="transaction")
    with pytest.raises(ValueError, match="The 'observation_end' parameter of calibration_holdout must be after"):
        calibration_holdout(tiny, "2024-01-21", "2024-01-01")
    with pytest.raises(ValueError, match="The 'as_of' parameter of summarize must be a timestamp"):
        summarize(tiny, "not a date")


def test_calibration_holdout_cdnow(cdnow):
    s = calibration_holdout(cdnow, "1997-10-01", "1998-07-01")
    assert len(s) == 23_570
    assert s["frequency_holdout"].sum() == 19_684  # the figure quoted for lifetimes' split
    assert s["T"].max() == 272  # 1997-01-01 .. 1997-09-30, the papers' convention (38.86 weeks)
    assert (s["duration_holdout"] == 273).all()
    assert (s["recency"] <= s["T"]).all() and ((s["frequency"] > 0) | (s["recency"] == 0)).all()


def test_summary_partitionable(synthetic_crm):
    tx = synthetic_crm.transactions
    whole = calibration_holdout(tx, "2024-06-01", "2024-12-31")
    ids = tx["customer_id"].unique()
    half = set(ids[::2])
    parts = [calibration_holdout(tx[tx["customer_id"].isin(half)], "2024-06-01", "2024-12-31"),
             calibration_holdout(tx[~tx["customer_id"].isin(half)], "2024-06-01", "2024-12-31")]
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), whole)


def test_summary_independent_of_row_order(cdnow):
    ordered = calibration_holdout(cdnow, "1997-10-01", "1998-07-01", freq="W")
    shuffled = cdnow.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(calibration_holdout(shuffled, "1997-10-01", "1998-07-01", freq="W"), ordered,
                                  check_exact=False, rtol=1e-12)


def test_summary_as_of_before_all_data_warns(tiny):
    # hostile audit: an as_of before every row returned an empty summary without a word
    from crmml.schema import AsOfWarning
    with pytest.warns(AsOfWarning, match=r"as_of 2023-01-01 is on or before the first row of transactions "
                                         r"\(2024-01-01 09:00:00\): none of its 10 rows is read"):
        assert summarize(tiny, "2023-01-01").empty


def test_summary_start_after_as_of_is_refused(tiny):
    # hostile audit: start after as_of read nothing and returned an empty summary without a word
    with pytest.raises(ValueError, match=r"The 'start' parameter of summarize must be before as_of \(2024-01-21 "
                                         r"00:00:00\). Got 2024-02-01 00:00:00 instead"):
        summarize(tiny, "2024-01-21", start="2024-02-01")


def test_summary_as_of_long_after_the_data_warns_once_in_clv_model(tiny, synthetic_crm):
    # hostile audit: summarize with an as_of years after the last row was silent (CLVModel, which summarizes
    # and reads the history, says it once)
    import warnings

    from crmml.clv import CLVModel
    from crmml.schema import AsOfWarning
    with pytest.warns(AsOfWarning, match="as_of 2030-01-01 is"):
        summarize(tiny, "2030-01-01")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CLVModel().fit(synthetic_crm.transactions, "2030-01-01")
    assert [w.category for w in caught].count(AsOfWarning) == 1
