"""Tracking a fitted purchase model over calendar time: the whole base's expected repeat purchases
period by period against the actual ones (the "tracking plot"), and one customer's P(alive) path.

The expected curve follows Fader, Hardie & Lee (2005): each calibration customer is born at their
first occasion ``b_i``; the base's expected cumulative repeat purchases at calendar time ``c`` are
``sum_i E[X(c - b_i)]`` with the model's unconditional expectation. It needs no holdout data, so a
divergence after the calibration end is a real out-of-sample miss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils import check_as_of, check_in
from crmml.clv._summary import (
    _NS_PER_DAY,
    _check_window,
    _end_position,
    _occasions,
    _prepare,
    summarize,
)
from crmml.exceptions import NoHistoryError, ParameterError

__all__ = ["tracking_table", "p_alive_path"]


def _period_start(pos: np.ndarray, freq: str) -> pd.DatetimeIndex:
    """Calendar start of integer period positions (days since the epoch, or Monday-based weeks)."""
    days = pos if freq == "D" else 7 * pos - 3
    return pd.DatetimeIndex(np.asarray(days, dtype="int64") * _NS_PER_DAY).as_unit("ns")


def _check_model(model, method: str, owner: str) -> None:
    """ParameterError unless ``model`` is a purchase model with ``method`` (not a spend model, CLVModel or name)."""
    if not callable(getattr(model, method, None)):
        from crmml.exceptions import ParameterError
        raise ParameterError(f"The 'purchase_model' parameter of {owner} must be a fitted purchase model with "
                             f"{method}() (BetaGeoModel, ParetoNBDModel, ...; for a CLVModel pass its "
                             f"purchase_model_). Got {type(model).__name__} instead.")


def tracking_table(purchase_model, transactions: pd.DataFrame, calibration_end, observation_end, *,
                   freq: str = "W", columns=None) -> pd.DataFrame:
    """Actual and expected repeat purchases of the calibration customers, period by period.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Fitted on ``summarize(transactions, calibration_end, freq=freq)`` (the time unit must be ``freq``).
    transactions : DataFrame
        Standard-schema transactions; rows from ``observation_end`` on are not read.
    calibration_end, observation_end : timestamp or str
        End of the calibration period and of the tracked period (exclusive).
    freq : {"D", "W"}, default="W"
        Period of the table and time unit of the model.

    Returns
    -------
    DataFrame
        Indexed by ``period`` (its first day): ``actual``, ``expected`` (repeat purchase occasions of the
        customers born before ``calibration_end``), ``actual_cumulative``, ``expected_cumulative`` and
        ``holdout`` (True for periods starting at or after ``calibration_end``).

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel, summarize
    >>> from crmml.datasets import load_cdnow
    >>> tx = load_cdnow()
    >>> m = BetaGeoModel().fit(summarize(tx, "1997-09-29", freq="W"))      # Mondays: whole weeks
    >>> tab = tracking_table(m, tx, "1997-09-29", "1998-06-29")
    >>> list(tab.columns)
    ['actual', 'expected', 'actual_cumulative', 'expected_cumulative', 'holdout']
    >>> tab.groupby("holdout")[["actual", "expected"]].sum().round(-2).astype(int).to_dict("list")
    {'actual': [22000, 18500], 'expected': [22100, 17800]}
    """
    owner = "tracking_table"
    _check_model(purchase_model, "expected_purchases", owner)
    check_in(freq, "freq", owner, ("D", "W"))
    cal, obs = _check_window(calibration_end, observation_end, owner)
    for name, ts in (("calibration_end", cal), ("observation_end", obs)):
        start = _period_start(np.array([_end_position(ts, freq, "period") + 1]), freq)[0]
        if ts != start:
            raise ParameterError(f"The '{name}' parameter of {owner} must start a period (midnight"
                                 f"{', a Monday' if freq == 'W' else ''}) so that no period straddles it. Got {ts} "
                                 f"instead; e.g. {start}.")
    tx = _prepare(transactions, columns, owner, "period")
    summary = summarize(tx, cal, freq=freq)
    cal_end_pos = _end_position(cal, freq, "period")
    births = cal_end_pos - summary["T"].to_numpy()
    last = _end_position(obs, freq, "period")
    grid = np.arange(births.min(), last + 1)
    # actual: every occasion of a calibration customer after their first one, by period
    occ_code, pos, _, uniques, _ = _occasions(tx, None, obs, freq, "period")
    first = np.r_[True, occ_code[1:] != occ_code[:-1]]
    cohort = pd.Index(uniques).isin(summary.index)[occ_code]
    repeat = pos[~first & cohort].astype(np.int64)
    actual = np.bincount(repeat - int(grid[0]), minlength=len(grid))[:len(grid)].astype("float64")
    # expected: sum over births of E[X(c - b)], on distinct ages
    ub, nb = np.unique(births, return_counts=True)
    ages = grid[None, :] - ub[:, None]
    uage, inv = np.unique(np.maximum(ages, 0.0), return_inverse=True)
    ex = np.asarray(purchase_model.expected_purchases(uage), dtype="float64")[inv.reshape(ages.shape)]
    cum = nb @ np.where(ages > 0, ex, 0.0)
    out = pd.DataFrame({"actual": actual, "expected": np.diff(cum, prepend=0.0)},
                       index=pd.Index(_period_start(grid, freq), name="period"))
    out["actual_cumulative"] = out["actual"].cumsum()
    out["expected_cumulative"] = cum
    out["holdout"] = grid > cal_end_pos
    return out


def p_alive_path(purchase_model, transactions: pd.DataFrame, customer_id, as_of, *, freq: str = "D",
                 columns=None) -> pd.Series:
    """One customer's P(alive) at the end of every period from their first occasion to ``as_of``.

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel, summarize
    >>> from crmml.datasets import load_cdnow
    >>> tx = load_cdnow()
    >>> m = BetaGeoModel().fit(summarize(tx, "1997-10-01", freq="W"))
    >>> path = p_alive_path(m, tx, tx["customer_id"].iloc[0], "1997-10-01", freq="W")
    >>> bool(path.between(0, 1).all()) and path.index.name == "period"
    True
    """
    owner = "p_alive_path"
    _check_model(purchase_model, "conditional_probability_alive", owner)
    if not pd.api.types.is_scalar(customer_id):
        from crmml.exceptions import ParameterError
        raise ParameterError(f"The 'customer_id' parameter of {owner} must be one id (a path is per customer). "
                             f"Got {type(customer_id).__name__} instead.")
    check_in(freq, "freq", owner, ("D", "W"))
    as_of = check_as_of(as_of, owner)
    tx = _prepare(transactions, columns, owner, "period")
    one = tx[tx["customer_id"] == customer_id]
    _, pos, _, _, _ = _occasions(one, None, as_of, freq, "period")
    if len(pos) == 0:
        raise NoHistoryError(f"{owner}: customer_id {customer_id!r} has no purchase before as_of={as_of.isoformat()}.")
    grid = np.arange(pos[0], _end_position(as_of, freq, "period") + 1)
    n_seen = np.searchsorted(pos, grid, side="right")
    frame = pd.DataFrame({"frequency": n_seen - 1, "recency": pos[n_seen - 1] - pos[0], "T": grid - pos[0],
                          "litt": 0.0, "n_periods": grid - pos[0]})
    p = purchase_model.conditional_probability_alive(frame).to_numpy()
    return pd.Series(p, index=pd.Index(_period_start(grid, freq), name="period"), name="p_alive")

