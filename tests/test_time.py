"""One rule for cut-off dates: every public entry point that takes ``as_of`` refuses numbers and out-of-range
dates with a named error, and warns when the cut-off lies well after the data."""

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest

from crmml._time import AsOfError, AsOfWarning, as_timestamp


@pytest.mark.parametrize("value", ["2024-07-01", datetime.datetime(2024, 7, 1), datetime.date(2024, 7, 1),
                                   np.datetime64("2024-07-01"), pd.Timestamp("2024-07-01"),
                                   pd.Timestamp("2024-07-01 02:00", tz="Europe/Paris"),
                                   "2024-07-01T00:00:00+00:00",
                                   datetime.datetime(2024, 7, 1, tzinfo=datetime.timezone.utc)])
def test_accepted_forms_give_the_same_naive_nanosecond_timestamp(value):
    ts = as_timestamp(value)
    assert ts == pd.Timestamp("2024-07-01") and ts.tzinfo is None and ts.unit == "ns"


@pytest.mark.parametrize("value", [20240701, 20240701.0, np.int64(20240701), np.float32(1.5), True, np.bool_(False),
                                   1719792000])
def test_numbers_and_bools_are_refused_with_the_fix(value):
    with pytest.raises(AsOfError, match=r"The 'as_of' parameter of f must be a date, not a number: got .*; "
                                        r"pass '2024-07-01'"):
        as_timestamp(value, owner="f")


@pytest.mark.parametrize("value", ["9999-12-31", "2262-04-12", "1677-09-21", "1500-01-01",
                                   datetime.date(9999, 12, 31), np.datetime64("2300-01-01"),
                                   pd.Timestamp("3000-01-01").as_unit("s")])
def test_dates_pandas_cannot_represent_are_refused(value):
    with pytest.raises(AsOfError, match="outside the dates pandas can represent .*no sentinel dates"):
        as_timestamp(value)


@pytest.mark.parametrize("value, match", [("not a date", "which is not a date"), (None, "got None"),
                                          (pd.NaT, "missing value"), ([2024, 7, 1], "got \\[2024, 7, 1\\]")])
def test_non_dates_are_refused(value, match):
    with pytest.raises(AsOfError, match=match):
        as_timestamp(value)


def test_the_range_edges_are_accepted():
    assert as_timestamp("2262-04-11") == pd.Timestamp("2262-04-11")
    assert as_timestamp("1677-09-22") == pd.Timestamp("1677-09-22")


@pytest.fixture
def crm():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=150, seed=4, with_events=True)


def _entry_points():
    """Every public function or method taking a cut-off, as ``call(crm, as_of)``."""
    from crmml.churn import make_churn_labels, make_churn_snapshot
    from crmml.clv import CLVModel, calibration_holdout, summarize
    from crmml.evaluation import summarize_data
    from crmml.features import build_features
    from crmml.recommend import NextBestOffer, PopularityBaseline, evaluate_recommendations, time_split
    from crmml.scoring import lead_event_features
    from crmml.segmentation import rfm_table

    return {
        "rfm_table": lambda c, a: rfm_table(c.transactions, a),
        "build_features": lambda c, a: build_features(c.transactions, a),
        "summarize": lambda c, a: summarize(c.transactions, a),
        "calibration_holdout": lambda c, a: calibration_holdout(c.transactions, a, "2024-06-01"),
        "make_churn_labels": lambda c, a: make_churn_labels(c.transactions, a),
        "make_churn_snapshot": lambda c, a: make_churn_snapshot(c.transactions, a),
        "CLVModel.fit": lambda c, a: CLVModel().fit(c.transactions, a),
        "NextBestOffer.fit": lambda c, a: NextBestOffer().fit(c.transactions, as_of=a),
        "PopularityBaseline.fit": lambda c, a: PopularityBaseline().fit(c.transactions, as_of=a),
        "time_split": lambda c, a: time_split(c.transactions, a),
        "evaluate_recommendations": lambda c, a: evaluate_recommendations(NextBestOffer(), c.transactions, a),
        "lead_event_features": lambda c, a: lead_event_features(c.leads, c.events, as_of=a),
        "summarize_data": lambda c, a: summarize_data(c.transactions, as_of=a),
    }


@pytest.mark.parametrize("name", sorted(_entry_points()))
@pytest.mark.parametrize("bad", [20240701, "9999-12-31"])
def test_every_entry_point_refuses_a_bad_cutoff(crm, name, bad):
    with pytest.raises(AsOfError):
        _entry_points()[name](crm, bad)


def test_clv_predict_refuses_a_bad_cutoff(crm):
    from crmml.clv import CLVModel

    model = CLVModel().fit(crm.transactions, "2024-03-01")
    for bad in (20240701, "9999-12-31"):
        with pytest.raises(AsOfError):
            model.predict(crm.transactions, as_of=bad)


def test_a_cutoff_well_after_the_data_warns(crm):
    from crmml.segmentation import rfm_table

    last = crm.transactions["timestamp"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AsOfWarning)
        rfm_table(crm.transactions, last.normalize() + pd.Timedelta(days=1))    # the CLI default: silent
    with pytest.warns(AsOfWarning, match=r"as_of 2030-01-01 is \d+ days after the last row of transactions"):
        rfm_table(crm.transactions, "2030-01-01")
