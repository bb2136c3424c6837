"""PSI of score and features between snapshots; CLV decile table."""

import numpy as np
import pandas as pd
import pytest

from crmml.evaluation import clv_decile_table, psi_table


def test_psi_table_flags_shifted_columns_only(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    ref = pd.DataFrame({"score": rng.random(n), "tenure": rng.normal(size=n),
                        "channel": rng.choice(["web", "store"], n, p=[0.5, 0.5])})
    cur = pd.DataFrame({"score": rng.random(n), "tenure": rng.normal(0.5, 1, size=n),
                        "channel": rng.choice(["web", "store"], n, p=[0.9, 0.1])})
    t = psi_table(ref, cur, ["score", "tenure", "channel"])
    assert t.loc["score", "status"] == "stable"
    assert t.loc["tenure", "psi"] > 0.1
    assert t.loc["channel", "status"] == "major shift"
    assert np.isnan(t.loc["channel", "reference_mean"])
    # PSI of a category mix: sum (a - e) ln(a / e)
    exact = (0.9 - 0.5) * np.log(0.9 / 0.5) + (0.1 - 0.5) * np.log(0.1 / 0.5)
    assert t.loc["channel", "psi"] == pytest.approx(exact, rel=0.1)


def test_psi_table_missing_column_errors():
    with pytest.raises(ValueError, match=r"psi_table: columns \['x'\] are not in both snapshots"):
        psi_table(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"y": [1.0]}), ["x"])


def test_clv_decile_table_sums_and_shares(seed):
    rng = np.random.default_rng(seed)
    pred = rng.gamma(2, 50, 1000)
    actual = pred * rng.lognormal(0, 0.2, 1000)
    t = clv_decile_table(pred, actual)
    assert t["count"].sum() == 1000
    assert t["actual_sum"].sum() == pytest.approx(actual.sum())
    assert t["cum_actual_share"].iloc[-1] == pytest.approx(1.0)
    assert t["predicted_mean"].is_monotonic_decreasing
    assert t["actual_mean"].iloc[0] > t["actual_mean"].iloc[-1]


def test_clv_decile_table_errors():
    with pytest.raises(ValueError, match="predicted and actual must have the same length; got 2 and 1"):
        clv_decile_table([1, 2], [1])
    with pytest.raises(ValueError, match="predicted is empty"):
        clv_decile_table([], [])
    with pytest.raises(ValueError, match="must not contain NaN"):
        clv_decile_table([1.0, np.nan], [1.0, 2.0])
