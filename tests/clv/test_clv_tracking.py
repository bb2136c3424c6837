"""Purchase-count pmf, tracking table, P(alive) path and their plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmml.clv import (
    BetaGeoModel,
    ModifiedBetaGeoCNBDModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    calibration_holdout,
    p_alive_path,
    plot_frequency_recency_matrix,
    plot_p_alive_path,
    plot_period_transactions,
    plot_tracking,
    summarize,
    tracking_table,
)
from crmml.datasets import load_cdnow, load_cdnow_summary


@pytest.fixture(scope="module")
def cdnow_sample():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_tx():
    return load_cdnow()


def test_pmf_matches_lifetimes_and_its_expectations(cdnow_sample):
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

    s = cdnow_sample
    x, tx, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    n = np.arange(400)
    for ours, theirs in ((BetaGeoModel(), BetaGeoFitter()), (ModifiedBetaGeoModel(), ModifiedBetaGeoFitter())):
        ours.fit(s)
        theirs.fit(x, tx, T)
        p = ours.probability_of_purchases(39.0, n)
        ref = [theirs.probability_of_n_purchases_up_to_time(39.0, k) for k in range(8)]
        np.testing.assert_allclose(p[:8], ref, rtol=1e-3)
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
        assert p @ n == pytest.approx(float(ours.expected_purchases(39.0)), rel=1e-9)
        cond = ours.conditional_probability_of_purchases(s.iloc[:300], 39.0, n).to_numpy()
        np.testing.assert_allclose(cond.sum(axis=1), 1.0, atol=1e-9)
        np.testing.assert_allclose(cond @ n, ours.conditional_expected_purchases(s.iloc[:300], 39.0), rtol=1e-9)
    # the same identities for NBD and for an Erlang-3 clock
    nbd = NBDModel().fit(s)
    cond = nbd.conditional_probability_of_purchases(s.iloc[:300], 39.0, n).to_numpy()
    np.testing.assert_allclose(cond @ n, nbd.conditional_expected_purchases(s.iloc[:300], 39.0), rtol=1e-9)
    cn = ModifiedBetaGeoCNBDModel(k=3, forecast="exact")   # the pmf's mean is the exact expectation, not BTYDplus'
    cn.k_ = 3
    prm = (2.0, 10.0, 0.7, 3.0)
    s3 = s.iloc[:300].assign(litt=0.0)
    cond = cn.conditional_probability_of_purchases(s3, 39.0, n, params=prm).to_numpy()
    np.testing.assert_allclose(cond.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(cond @ n, cn.conditional_expected_purchases(s3, 39.0, params=prm), rtol=1e-8)


def test_tracking_table_counts_and_expectations(cdnow_tx):
    cal, obs = "1997-09-29", "1998-06-29"                        # Mondays: whole weeks
    s = calibration_holdout(cdnow_tx, cal, obs, freq="W")
    m = BetaGeoModel().fit(s)
    tab = tracking_table(m, cdnow_tx, cal, obs, freq="W")
    # actual side: the same occasions calibration_holdout counts
    assert tab.loc[~tab["holdout"], "actual"].sum() == s["frequency"].sum()
    assert tab.loc[tab["holdout"], "actual"].sum() == s["frequency_holdout"].sum()
    # expected side: at the calibration end every customer's age is T
    assert tab.loc[~tab["holdout"], "expected"].sum() == pytest.approx(m.expected_purchases(s["T"].to_numpy()).sum(),
                                                                       rel=1e-9)
    np.testing.assert_allclose(tab["expected_cumulative"], tab["expected"].cumsum(), rtol=1e-9)
    assert tab.index.to_series().diff().dropna().eq(pd.Timedelta(days=7)).all()
    with pytest.raises(ValueError, match="The 'calibration_end' parameter of tracking_table must start a period "
                                         r"\(midnight, a Monday\).*e.g. 1997-10-06"):
        tracking_table(m, cdnow_tx, "1997-10-01", obs, freq="W")
    with pytest.raises(ValueError, match=r"The 'observation_end' parameter of tracking_table must be after "
                                         r"calibration_end \(1997-10-06 00:00:00\)\. Got 1997-10-06 00:00:00 instead"):
        tracking_table(m, cdnow_tx, "1997-10-06", "1997-10-06", freq="W")
    fig, axes = plt.subplots(1, 2)
    assert plot_tracking(tab, ax=axes[0]) is axes[0]
    assert plot_tracking(tab, cumulative=False, ax=axes[1]) is axes[1]
    assert len(axes[0].lines) == 3
    plt.close(fig)


def test_p_alive_path_ends_at_the_summary_value(cdnow_tx):
    as_of = "1997-10-01"
    s = summarize(cdnow_tx, as_of, freq="D")
    m = ParetoNBDModel().fit(s)
    cid = s.index[(s["frequency"] >= 3)][0]
    path = p_alive_path(m, cdnow_tx, cid, as_of, freq="D")
    assert path.iloc[-1] == pytest.approx(float(m.conditional_probability_alive(s.loc[[cid]]).iloc[0]), rel=1e-12)
    first = cdnow_tx.loc[cdnow_tx["customer_id"] == cid, "timestamp"].min().normalize()
    assert path.index[0] == first and path.index[-1] == pd.Timestamp("1997-09-30")
    with pytest.raises(ValueError, match="has no purchase before as_of"):
        p_alive_path(m, cdnow_tx, -1, as_of)
    # a list of ids was compared element-wise by pandas ("Lengths must match to compare"), a spend model or a
    # CLVModel failed with an AttributeError: now named errors
    from crmml.clv import CLVModel, GammaGammaModel
    from crmml.exceptions import ParameterError
    with pytest.raises(ParameterError, match="The 'customer_id' parameter of p_alive_path must be one id"):
        p_alive_path(m, cdnow_tx, [cid, cid], as_of)
    with pytest.raises(ParameterError, match=r"'purchase_model' parameter of p_alive_path .*Got GammaGammaModel"):
        p_alive_path(GammaGammaModel(), cdnow_tx, cid, as_of)
    with pytest.raises(ParameterError, match=r"'purchase_model' parameter of tracking_table .*purchase_model_\)\. "
                                             r"Got CLVModel"):
        tracking_table(CLVModel(), cdnow_tx, "1997-09-29", "1998-06-29")
    fig, ax = plt.subplots()
    assert plot_p_alive_path(path, ax=ax) is ax
    plt.close(fig)


def test_period_transactions_and_frequency_recency_plots(cdnow_sample):
    s = cdnow_sample
    m = BetaGeoModel().fit(s)
    fig, axes = plt.subplots(1, 2)
    ax = plot_period_transactions(m, s, ax=axes[0])
    heights = np.array([p.get_height() for p in ax.patches])
    actual, expected = heights[:8], heights[8:]
    assert actual.sum() == len(s) and expected.sum() == pytest.approx(len(s), rel=1e-9)
    assert abs(expected[0] - actual[0]) / actual[0] < 0.05                # BG/NBD fits the zero class on CDNOW
    assert plot_frequency_recency_matrix(m, t=4, T=39, ax=axes[1]) is axes[1]
    with pytest.raises(TypeError, match="needs a model with probability_of_purchases"):
        plot_period_transactions(ParetoNBDModel().fit(s), s)
    plt.close(fig)
