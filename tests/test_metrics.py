"""crmml.evaluation metrics against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from crmml.evaluation import (
    bootstrap_metrics,
    brier,
    calibration_bins,
    capture_rate_at,
    classification_metrics,
    decile_table,
    expected_calibration_error,
    gini,
    ks_statistic,
    lift_at,
    pr_auc,
    psi,
    roc_auc,
)
from crmml.evaluation import plot_calibration
from crmml.exceptions import ParameterError


@pytest.fixture
def scored(seed):
    rng = np.random.default_rng(seed)
    s = rng.random(5000)
    y = (rng.random(5000) < s ** 2).astype(int)
    return y, s


def test_auc_gini_ks_match_references(scored):
    y, s = scored
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert gini(y, s) == pytest.approx(2 * roc_auc_score(y, s) - 1)
    assert ks_statistic(y, s) == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic)


@pytest.mark.parametrize("y", [[1, 1, 1], [0, 0, 0]])
def test_one_class_gives_nan_and_bad_labels_raise(y):
    # the docstrings promise NaN (undefined), not an exception nor a made-up 0.5
    for metric in (roc_auc, pr_auc, gini, ks_statistic):
        assert np.isnan(metric(y, [0.2, 0.3, 0.4])), metric.__name__
    m = classification_metrics(y, [0.2, 0.3, 0.4])
    assert all(np.isnan(m[k]) for k in ("roc_auc", "pr_auc", "gini", "ks"))
    assert np.isnan(lift_at(y, [0.2, 0.3, 0.4])) == (sum(y) == 0)        # without events lift is undefined
    assert np.isnan(capture_rate_at(y, [0.2, 0.3, 0.4])) == (sum(y) == 0)
    with pytest.raises(ValueError, match="y_true must contain only 0 and 1"):
        roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length; got 2 and 3"):
        roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="y_score has 1 NaN values"):
        roc_auc([0, 1], [0.1, np.nan])


def test_calibration_metrics(scored):
    y, s = scored
    assert brier(y, s ** 2) < brier(y, s)                       # the true probability scores better
    assert expected_calibration_error(y, s ** 2) < 0.03
    assert expected_calibration_error(y, s) > 0.1
    with pytest.raises(ValueError, match="The 'strategy' parameter of expected_calibration_error"):
        expected_calibration_error(y, s, strategy="bogus")


@pytest.mark.parametrize("metric", [brier, expected_calibration_error, calibration_bins, classification_metrics,
                                    bootstrap_metrics, plot_calibration])
def test_probability_metrics_refuse_scores_outside_0_1(metric):
    # brier used to clip a 0-100 score to [0, 1] silently, and ECE/calibration bins compared such a score
    # with observed rates as if it were a probability
    y, p = np.array([0, 1] * 50), np.linspace(0, 1, 100)
    metric(y, p)                                                     # 0 and 1 themselves are probabilities
    with pytest.raises(ParameterError, match=r"y_prob is not a probability: 100 values outside \[0, 1\] \(e.g. 2\)"):
        metric(y, 100 * p + 2)                                       # a 0-100 score, shifted
    with pytest.raises(ParameterError, match=r"1 value outside \[0, 1\] \(e.g. 1.5\).*use a ranking metric"):
        metric(y, np.r_[p[:-1], 1.5])


def test_ranking_metrics_take_any_score(scored):
    y, s = scored
    for metric in (roc_auc, gini, ks_statistic, lift_at, capture_rate_at):
        assert metric(y, 100 * s - 7) == pytest.approx(metric(y, s)), metric.__name__
    pd_t = decile_table(y, 100 * s - 7)
    assert pd_t["events"].tolist() == decile_table(y, s)["events"].tolist()


def test_decile_table_adds_up(scored):
    y, s = scored
    t = decile_table(y, s)
    assert len(t) == 10 and t["count"].sum() == len(y) and t["events"].sum() == y.sum()
    assert t["cum_capture"].iloc[-1] == pytest.approx(1.0)
    assert t["event_rate"].is_monotonic_decreasing                 # a good score orders its bins
    assert t["lift"].iloc[0] == pytest.approx(lift_at(y, s, 0.1))
    assert t["cum_capture"].iloc[0] == pytest.approx(capture_rate_at(y, s, 0.1))
    assert t["ks"].abs().max() == pytest.approx(ks_statistic(y, s), abs=0.02)
    assert (t["score_min"].to_numpy()[:-1] >= t["score_max"].to_numpy()[1:]).all()


def test_lift_frac_is_checked(scored):
    y, s = scored
    with pytest.raises(ValueError, match=r"The 'frac' parameter must be in \(0, 1\]. Got 0 instead."):
        lift_at(y, s, 0)


def test_psi_detects_a_shift(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=20000)
    assert psi(base, rng.normal(size=20000)) < 0.02
    assert psi(base, rng.normal(0.5, 1, size=20000)) > 0.2
    with pytest.raises(ValueError, match="psi needs non-empty"):
        psi([], [1.0])


def test_classification_metrics_keys(scored):
    y, s = scored
    m = classification_metrics(y, s)
    assert set(m) == {"n", "event_rate", "roc_auc", "pr_auc", "gini", "ks", "brier", "ece", "lift_top10",
                      "capture_top10"}
    assert m["n"] == 5000 and 0 < m["pr_auc"] < 1


@pytest.mark.parametrize("metric", [roc_auc, gini, ks_statistic, brier, lift_at, classification_metrics, decile_table])
def test_hostile_scores_and_labels_get_named_errors(metric):
    # hostile audit: an infinite score reached sklearn ("Input contains infinity"); text labels gave numpy's
    # bare "could not convert string to float"; a (4, 2) table was flattened silently
    y, s = np.array([0, 1] * 4), np.linspace(0, 1, 8)
    with pytest.raises(ValueError, match="y_score has 1 infinite values; scores must be finite"):
        metric(y, np.where(np.arange(8) == 2, np.inf, s))
    with pytest.raises(ValueError, match="y_true must hold numbers"):
        metric(np.array(["yes", "no"] * 4), s)
    with pytest.raises(ValueError, match=r"y_true must be one-dimensional \(one value per row\); got shape \(4, 2\)"):
        metric(y.reshape(4, 2), s.reshape(4, 2))
    metric(y.reshape(8, 1), s)                     # a column vector is one value per row


def test_psi_counts_missing_values_and_refuses_text_and_infinities():
    # hostile audit: psi dropped NaN silently (half the current sample turning missing read as 'stable', 0.03),
    # an infinite value gave RuntimeWarnings and a NaN-laden binning, text gave numpy's bare conversion error
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=1000), rng.normal(size=1000)
    assert psi(x, np.r_[y[:500], np.full(500, np.nan)]) > 0.25
    assert psi(np.r_[x, np.nan], np.r_[y, np.nan]) == pytest.approx(psi(x, y), abs=1e-3)
    with pytest.raises(ValueError, match="psi: actual has 1 infinite values"):
        psi(x, np.r_[y, np.inf])
    with pytest.raises(ValueError, match="expected must hold numbers"):
        psi(np.array(["a", "b"]), y)


def test_psi_table_counts_missing_categories():
    # audit: with pandas 3, astype(str) keeps NaN and value_counts dropped it, so half the current sample of a
    # categorical column turning missing read as 'stable' (PSI 0.0); missing is now a category of its own
    import pandas as pd

    from crmml.evaluation import psi_table
    ref = pd.DataFrame({"c": ["a", "b"] * 50})
    cur = pd.DataFrame({"c": [None] * 50 + ["a", "b"] * 25})
    assert psi_table(ref, cur)["status"].tolist() == ["major shift"]
    assert psi_table(cur, cur)["psi"].tolist() == [0.0]
    assert psi_table(ref, ref.astype("category"))["psi"].tolist() == [0.0]
