"""crmml._utils: parameter checks, the point-in-time cut, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml._utils import ProbabilityCalibrator, check_as_of, check_in, check_number, history_before
from crmml.evaluation import expected_calibration_error


def test_check_number_messages():
    assert check_number(0.5, "alpha", "f", kind="float", low=0, low_inclusive=False) == 0.5
    with pytest.raises(ValueError, match=r"The 'alpha' parameter of f must be a float > 0. Got 0 instead."):
        check_number(0, "alpha", "f", kind="float", low=0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"The 'k' parameter of g must be an int in \[2, 9\]. Got True instead."):
        check_number(True, "k", "g", low=2, high=9)
    with pytest.raises(ValueError, match=r"The 'k' parameter of g must be an int. Got '3' instead."):
        check_number("3", "k", "g")


def test_check_in_and_as_of():
    with pytest.raises(ValueError, match=r"The 'freq' parameter of s must be one of \['D', 'W'\]. Got 'M'"):
        check_in("M", "freq", "s", ("D", "W"))
    assert check_as_of(pd.Timestamp("2024-01-01 12:00", tz="Europe/Paris")) == pd.Timestamp("2024-01-01 11:00")
    with pytest.raises(ValueError, match=r"The 'as_of' parameter of h must be a timestamp or a date string"):
        check_as_of("yesterday-ish", "h")


def test_history_before_is_strict():
    df = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])})
    out = history_before(df, pd.Timestamp("2024-01-02"))
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-01-01")]


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_fixes_a_miscalibrated_score(method, seed):
    rng = np.random.default_rng(seed)
    p_true = rng.random(20000)
    y = (rng.random(20000) < p_true).astype(int)
    raw = p_true ** 3                                            # monotone but miscalibrated
    cal = ProbabilityCalibrator(method=method).fit(raw[:10000], y[:10000])
    out = cal.transform(raw[10000:])
    assert expected_calibration_error(y[10000:], raw[10000:]) > 0.15
    assert expected_calibration_error(y[10000:], out) < (0.03 if method == "isotonic" else 0.08)
    assert ((out >= 0) & (out <= 1)).all()


def test_calibrator_bad_method():
    with pytest.raises(ValueError, match=r"The 'method' parameter of ProbabilityCalibrator must be one of"):
        ProbabilityCalibrator(method="beta").fit([0.1, 0.9], [0, 1])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_check_number_refuses_non_finite(value):
    from crmml.exceptions import ParameterError

    with pytest.raises(ParameterError, match=r"The 'lr' parameter of m must be a float > 0. Got"):
        check_number(value, "lr", "m", kind="float", low=0, low_inclusive=False)
    with pytest.raises(ParameterError, match=r"must be a float. Got"):
        check_number(value, "lr", "m", kind="float")


def test_insufficient_data_warning_lives_in_one_place():
    import crmml.exceptions
    import crmml.scoring

    assert crmml.scoring.InsufficientDataWarning is crmml.exceptions.InsufficientDataWarning
